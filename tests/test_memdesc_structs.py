"""The memdesc designs' structs and the memdesc_t tables, compiled.

Each (design, bits) is compiled from include/memcore with the model's types
(both word sizes in this 64-bit process) and, where gcc can, with the
kernel's own types by `gcc -m64`/`gcc -m32`; a probe program prints sizes,
offsets and the memdesc tables as JSON.  The expected figures are the
plan's (../shared/reference/memdesc-plan.md): the type table of 2025, the
Misc encoding, the interim page's aliasing of buddy, claim S3's order
placement; the placement itself is checked against memcore.flagslayout's
calculator, not against a constant.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from conftest import ROOT, have_m32_gcc
from memcore import flagslayout

import sys

sys.path.insert(0, str(ROOT / "tools"))
import codegen  # noqa: E402

DESIGNS = ("interim", "flags_memdesc", "memdesc")

PROBE = r"""
#include <stdio.h>
#include <stddef.h>
#include "memcore/layout_structs.h"

#define SIZE(n) printf("%s\"%s\": %zu", first++ ? ", " : "", #n, sizeof(struct n));
#define TYPE(id, nr, nm, knd, dsc) \
	printf("%s[%d, \"%s\", \"%s\", \"%s\"]", nr ? ", " : "", nr, nm, #knd, dsc);
#define FIELD(id, nm, sh, w) printf("%s\"%s\": [%d, %d]", fi++ ? ", " : "", nm, \
	mc_memdesc_inline_fields[MC_MDF_##id].shift, mc_memdesc_inline_fields[MC_MDF_##id].width);
#define SUB(id, nr, nm) printf("%s\"%s\": %d", si++ ? ", " : "", nm, nr);

int main(void)
{
	int first = 0, fi = 0, si = 0;
	printf("{\"sizes\": {");
	MC_LAYOUT_STRUCTS(SIZE)
	printf("}, \"page_align\": %zu", _Alignof(struct page));
	printf(", \"free_bits\": %d", MC_FLAGS_FREE_BITS);
	printf(", \"flags_shifts\": {\"section\": %d, \"node\": %d, \"zone\": %d}",
	       (int)SECTIONS_PGSHIFT, (int)NODES_PGSHIFT, (int)ZONES_PGSHIFT);
#ifdef COMPOUND_ORDER_WIDTH
	printf(", \"order_width\": %d", COMPOUND_ORDER_WIDTH);
#endif
#ifdef COMPOUND_ORDER_PGSHIFT
	printf(", \"order_shift\": %d, \"lowest_field\": %d", COMPOUND_ORDER_PGSHIFT, LRU_REFS_PGOFF);
#endif
#ifdef MC_DESIGN_INTERIM
	printf(", \"buddy_list\": %zu, \"memdesc_off\": %zu",
	       offsetof(struct page, buddy_list), offsetof(struct page, memdesc));
#endif
	printf(", \"small_folio\": %zu", (size_t)MC_SMALL_FOLIO_SIZE);
	printf(", \"types\": [");
	MC_MEMDESC_TYPES(TYPE)
	printf("], \"fields\": {");
	MC_MEMDESC_INLINE_FIELDS(FIELD)
	printf("}, \"subtypes\": {");
	MC_MEMDESC_MISC_SUBTYPES(SUB)
	printf("}}\n");
	return 0;
}
"""


def probe(tmp_path, design, bits, native=False):
    src = tmp_path / "probe.c"
    src.write_text(PROBE)
    exe = tmp_path / f"probe-{design}{bits}{'n' if native else ''}"
    cmd = codegen.c_compiler() + ["-std=gnu11", "-Wall", "-Werror", f"-I{ROOT / 'include'}",
                                  f"-DMC_BITS={bits}", f"-DMC_DESIGN_{design.upper()}=1"]
    if native:
        cmd += ["-DMC_NATIVE_TYPES=1", f"-m{bits}"]
    proc = subprocess.run(cmd + [str(src), "-o", str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(subprocess.run([str(exe)], capture_output=True, text=True,
                                     check=True).stdout)


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    out = {}
    for d in DESIGNS:
        for b in (64, 32):
            out[d, b] = probe(tmp_path_factory.mktemp(f"{d}{b}"), d, b)
    return out


def _ids(x):
    return f"{x[0]}{x[1]}"


@pytest.mark.parametrize("key,size", [(("memdesc", 64), 8), (("memdesc", 32), 4),
                                      (("interim", 64), 32), (("interim", 32), 16),
                                      (("flags_memdesc", 64), 16), (("flags_memdesc", 32), 12)],
                         ids=lambda v: _ids(v) if isinstance(v, tuple) else str(v))
def test_struct_page_size(probes, key, size):
    assert probes[key]["sizes"]["page"] == size


@pytest.mark.parametrize("bits", [64, 32])
def test_flags_memdesc_places_the_order_where_the_calculator_finds_room(probes, bits):
    """S3: in the flags word when its free bits hold the order field, else in a
    word of its own.  The free-bit count comes from the Python calculator too."""
    p = probes["flags_memdesc", bits]
    calc = flagslayout.flags_layout("x86_64" if bits == 64 else "i386")
    assert p["free_bits"] == calc.free_bits
    fits = calc.fits_compound_order(p["order_width"])
    assert ("order_shift" in p) == fits
    word = bits // 8
    assert p["sizes"]["page"] == 2 * word + (0 if fits else 4)
    if fits:   # packed just below the lowest field, above the flags
        assert p["order_shift"] == p["lowest_field"] - p["order_width"]
        assert p["order_shift"] >= calc.nr_pageflags
    assert fits == (bits == 64)     # x86_64: 11 free bits; i386: 1


PLAN_2025 = {0: "misc", 1: "buddy", 2: "file", 3: "anon", 4: "ksm", 5: "slab", 6: "bump",
             7: "movable", 8: "pagetable", 9: "hwpoison", 10: "percpu", 11: "acctmem",
             12: "zpdesc", 13: "managed"}


@pytest.mark.parametrize("design", ["flags_memdesc", "memdesc"])
def test_the_2025_type_table(probes, design):
    for bits in (64, 32):
        types = {nr: name for nr, name, _k, _d in probes[design, bits]["types"]}
        assert types == PLAN_2025


@pytest.mark.parametrize("bits", [64, 32])
def test_interim_types_aliasing_buddy_are_buddy(probes, bits):
    """A free interim page's memdesc word is buddy_list.next: the address of
    another page's buddy_list or of a free-area list head (word aligned).
    Every value its low four bits can take must decode as buddy."""
    p = probes["interim", bits]
    assert p["memdesc_off"] == p["buddy_list"]
    types = {nr: name for nr, name, _k, _d in p["types"]}
    word, size = bits // 8, p["sizes"]["page"]
    assert p["page_align"] == word
    lows = {(p["buddy_list"] + k * size) % 16 for k in range(16)}   # another page's link
    lows |= {k * word % 16 for k in range(16)}                      # a list head in struct zone
    assert all(types[low] == "buddy" for low in lows)
    assert {nr for nr, n in types.items() if n == "buddy"} == {0, 4, 8, 12}
    # the displaced 2025 types keep their names; KSM has no number
    assert {types[1], types[14], types[15]} == {"misc", "pagetable", "zpdesc"}
    assert "ksm" not in types.values()
    assert {n for n in types.values()} - {"buddy"} == set(PLAN_2025.values()) - {"buddy", "ksm"}


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("bits", [64, 32])
def test_misc_encoding(probes, design, bits):
    """Misc: subtype bits 4-10, "may be mapped" bit 11, order 12-17; section,
    node and zone at their memdesc_flags_t positions."""
    p = probes[design, bits]
    f = p["fields"]
    assert f["subtype"] == [4, 7] and f["mapped"] == [11, 1] and f["order"] == [12, 6]
    for name in ("section", "node", "zone"):
        shift, width = f[name]
        if width:
            assert shift == p["flags_shifts"][name]
            assert shift >= 18 and shift + width <= bits
    assert p["subtypes"] == {"none": 0, "zero_page": 1, "driver": 2, "vmalloc": 3, "guard": 4,
                             "offline": 5, "kmalloc_large": 6, "exact": 7, "brd": 8,
                             "reserved": 9}      # the model's: 6.18's PG_reserved


@pytest.mark.parametrize("design", DESIGNS)
def test_descriptors_are_16_byte_multiples_and_the_plan_folio_is_80_bytes(probes, design):
    p64, p32 = probes[design, 64], probes[design, 32]
    assert p64["small_folio"] == 80                 # "about 80 B on x86_64"
    for p in (p64, p32):
        for name in ("folio", "slab", "ptdesc"):
            assert p["sizes"][name] % 16 == 0
        assert p["small_folio"] < p["sizes"]["folio"]


@pytest.mark.skipif(not have_m32_gcc(), reason="needs gcc -m32 (gcc-multilib)")
@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("bits", [64, 32])
def test_native_types_give_the_same_numbers(probes, tmp_path, design, bits):
    """The same headers with unsigned long and real pointers under gcc -m32/-m64."""
    assert probe(tmp_path, design, bits, native=True) == probes[design, bits]
