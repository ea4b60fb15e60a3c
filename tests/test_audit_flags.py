"""Audit of the flags-word calculator and the configuration against Linux 6.18
(issue 8): KASAN_TAG_WIDTH per KASAN mode, NR_UNUSED_PAGEFLAG_BITS beside the
model's free bits, and CONFIG_MM_ID on i386."""
from __future__ import annotations

import shutil
import subprocess

import pytest

import memcore
from memcore import flags_layout
from memcore import _variants
from memcore.cli import main

from conftest import ROOT


# ---- 4: KASAN_TAG_WIDTH: 8 for software tags, 4 for hardware tags --------------------

@pytest.mark.parametrize("kasan, width", [(None, 0), ("generic", 0), ("sw_tags", 8),
                                          ("hw_tags", 4)])
def test_kasan_tag_width_per_mode(kasan, width):
    """include/linux/page-flags-layout.h: CONFIG_KASAN_SW_TAGS -> 8,
    CONFIG_KASAN_HW_TAGS -> 4, else 0; the tag sits below LAST_CPUPID."""
    fl = flags_layout("x86_64", KASAN=kasan)
    lcp_w, lcp_s = fl.fields["LAST_CPUPID"]
    assert (lcp_w, lcp_s) == (16, 35)
    assert fl.fields["KASAN_TAG"] == ((width, lcp_s - width) if width else (0, 0))
    assert fl.free_bits == 11 - width
    assert fl.unused_pageflag_bits == 11 - width


def test_unknown_kasan_mode():
    with pytest.raises(memcore.UnknownChoice, match="sw_tags"):
        flags_layout("x86_64", KASAN="tags")
    with pytest.raises(memcore.UnknownChoice):
        flags_layout("x86_64", KASAN=True)


def _c_flags(tmp_path, defines):
    """Compile page_flags_layout.h with `defines` and print its widths and shifts."""
    src = tmp_path / "kasan.c"
    src.write_text('#include <stdio.h>\n#include "memcore/page_flags_layout.h"\n'
                   "int main(void) { printf(\"%d %d %d %d\\n\", KASAN_TAG_WIDTH, "
                   "KASAN_TAG_PGSHIFT, MC_FLAGS_FREE_BITS, NR_UNUSED_PAGEFLAG_BITS); "
                   "return 0; }\n")
    exe = tmp_path / "kasan"
    subprocess.run(["gcc", "-DMC_BITS=64", *[f"-D{d}" for d in defines],
                    "-I", str(ROOT / "include"), str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return tuple(int(v) for v in out.split())


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
@pytest.mark.parametrize("define, mode", [("CONFIG_KASAN_SW_TAGS", "sw_tags"),
                                          ("CONFIG_KASAN_HW_TAGS", "hw_tags")])
def test_header_kasan_widths_equal_the_calculator(tmp_path, define, mode):
    fl = flags_layout("x86_64", KASAN=mode)
    assert _c_flags(tmp_path, [define]) == (fl.width("KASAN_TAG"), fl.shift("KASAN_TAG"),
                                            fl.free_bits, fl.unused_pageflag_bits)


# ---- 7: NR_UNUSED_PAGEFLAG_BITS beside free_bits --------------------------------------

def test_unused_pageflag_bits_counts_last_cpupid_shift():
    """NR_NON_PAGEFLAG_BITS adds LAST_CPUPID_SHIFT, not LAST_CPUPID_WIDTH: with
    last_cpupid moved into struct page the kernel's figure is below the bits
    really free (here 64 - 31 flags - 3 zones - 10 nodes = 20 free, and
    20 - (8 + 13) = -1 in the kernel's count)."""
    fl = flags_layout("x86_64", NR_CPUS=8192, NR_PAGEFLAGS=31)
    assert not fl.last_cpupid_in_flags
    assert fl.free_bits == 20
    assert fl.unused_pageflag_bits == -1
    assert fl.to_dict()["unused_pageflag_bits"] == -1
    assert "NR_UNUSED_PAGEFLAG_BITS (the kernel's figure): -1" in fl.diagram()


def test_unused_pageflag_bits_equal_the_compiled_variant(variant):
    c = _variants.module(*variant)._flags_layout()
    py = flags_layout({64: "x86_64", 32: "i386"}[variant[1]])
    assert py.unused_pageflag_bits == c["unused_pageflag_bits"] == py.free_bits
    assert c["KASAN_TAG_WIDTH"] == 0


def test_cli_prints_both_figures(capsys):
    assert main(["layout", "flags", "--config", "x86_64"]) == 0
    out = capsys.readouterr().out
    assert "free bits (room for a compound order field): 11" in out
    assert "NR_UNUSED_PAGEFLAG_BITS (the kernel's figure): 11" in out


# ---- 7: CONFIG_MM_ID is selected by TRANSPARENT_HUGEPAGE on every word size -----------

@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
@pytest.mark.parametrize("bits", [64, 32])
def test_mm_id_follows_thp(bits):
    """mm/Kconfig: TRANSPARENT_HUGEPAGE selects MM_ID (no 64BIT condition);
    both canonical configurations have THP."""
    out = subprocess.run(["gcc", "-E", "-dM", f"-DMC_BITS={bits}", "-I", str(ROOT / "include"),
                          "-x", "c", str(ROOT / "include/memcore/config.h")],
                         check=True, capture_output=True, text=True).stdout
    defined = {line.split()[1] for line in out.splitlines() if line.startswith("#define ")}
    assert "CONFIG_TRANSPARENT_HUGEPAGE" in defined
    assert "CONFIG_MM_ID" in defined
