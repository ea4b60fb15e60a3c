"""64-bit layouts equal the running Linux 6.18 kernel, member for member.

tests/data/linux-6.18-x86_64-btf-layouts.json was flattened from the BTF of
the 6.18 x86_64 reference machine; every member's offset and size (bit
offset and width for bitfields) and every struct size must match the
classic design (the struct layouts are the 6.18 overlay; the enums are
the kernel's in every design).
"""
import pytest

import memcore
from conftest import DATA, load_json, only_bits

REF = load_json("linux-6.18-x86_64-btf-layouts.json")
STRUCTS = ("page", "folio", "slab", "ptdesc")


@pytest.mark.classic_overlay
@pytest.mark.parametrize("name", STRUCTS)
def test_struct_size(name):
    assert memcore.layout(name, bits=64).size == REF["structs"][name]["size"]


@pytest.mark.classic_overlay
@pytest.mark.parametrize("name", STRUCTS)
def test_every_member_matches_btf(name):
    ours = memcore.layout(name, bits=64)
    ref = REF["structs"][name]["members"]
    assert [m.path for m in ours.members] == [m["path"] for m in ref]
    for mine, theirs in zip(ours.members, ref):
        assert mine.bit_offset == theirs["offset_bits"], mine.path
        assert mine.bit_size == theirs["size_bits"], mine.path
        assert mine.is_bitfield == theirs["bitfield"], mine.path
        assert mine.type == theirs["type"], mine.path
        if not theirs["bitfield"]:
            assert mine.offset * 8 == theirs["offset_bits"], mine.path
            assert mine.size * 8 == theirs["size_bits"], mine.path


@pytest.mark.classic_overlay
def test_memdesc_flags_t():
    flags = memcore.layout("page", bits=64)["flags"]
    assert flags.type == "memdesc_flags_t"
    assert flags.size == REF["structs"]["memdesc_flags_t"]["size"]


@pytest.mark.classic_overlay
@pytest.mark.parametrize("name", STRUCTS)
def test_pahole_text_matches_pahole(name):
    """memcore layout NAME prints what `pahole -C NAME` printed on the 6.18 machine."""
    text = (DATA / "linux-6.18-x86_64-pahole.txt").read_text()
    start = text.index(f"struct {name} {{")
    expected = text[start:text.index("\n};\n", start) + 4]
    assert memcore.layout(name, bits=64).pahole() == expected


@only_bits(64)
def test_enums_match_btf(variant):
    pg = memcore.pageflags(*variant)
    ref = REF["enums"]["pageflags"]
    for name, value in ref.items():
        if name == "__NR_PAGEFLAGS":
            assert pg.NR_PAGEFLAGS == value
        else:
            assert pg[name] == value, name
    assert {m.name for m in pg} | set(pg.__members__) >= set(ref) - {"__NR_PAGEFLAGS"}
    pgty = memcore.pagetype(*variant)
    assert dict((k, int(v)) for k, v in pgty.__members__.items()) == REF["enums"]["pagetype"]


@pytest.mark.classic_overlay
def test_page_is_one_cacheline_and_folio_four_pages():
    page = memcore.layout("page", bits=64)
    folio = memcore.layout("folio", bits=64)
    assert page.size == 64 and folio.size == 4 * page.size
    for n in range(1, 4):
        assert folio[f"__page_{n}"].offset == n * page.size
