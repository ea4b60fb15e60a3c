"""The page-flags word calculator agrees with the compiled C, and with the kernel's rules."""
import pytest

import memcore
from memcore import FlagsConfig, FlagsLayoutError, flags_layout
from memcore import _variants

CANONICAL = {64: "x86_64", 32: "i386"}


def test_calculator_equals_compiled_variant(variant):
    """page_flags_layout.h (preprocessor) and flagslayout.py compute the same layout."""
    c = _variants.module(*variant)._flags_layout()
    py = flags_layout(CANONICAL[variant[1]])
    assert py.config.BITS_PER_LONG == c["BITS_PER_LONG"]
    assert py.config.NR_PAGEFLAGS == c["NR_PAGEFLAGS"]
    assert py.config.MAX_NR_ZONES == c["MAX_NR_ZONES"]
    assert py.fields == c["fields"]
    assert py.free_bits == c["free_bits"]
    assert py.last_cpupid_in_flags == c["last_cpupid_in_flags"]
    assert py.last_cpupid_shift == c["LAST_CPUPID_SHIFT"]


def test_enum_lengths_are_the_configs_inputs():
    for bits, name in CANONICAL.items():
        pg = memcore.pageflags(bits=bits)
        assert pg.NR_PAGEFLAGS == FlagsConfig.named(name).NR_PAGEFLAGS


def test_x86_64_layout_of_the_reference_machine():
    fl = flags_layout("x86_64")
    # NUMA, NODES_SHIFT=10, 5 zones, NR_CPUS=256 with NUMA balancing, vmemmap
    assert fl.fields["NODES"] == (10, 54)
    assert fl.fields["ZONES"] == (3, 51)
    assert fl.fields["LAST_CPUPID"] == (16, 35)
    assert fl.fields["SECTIONS"] == (0, 0)
    assert fl.free_bits == 64 - 24 - 29 == 11
    assert fl.last_cpupid_in_flags and fl.node_in_flags and not fl.section_in_flags
    # a fresh Normal page on node 0 with last_cpupid reset: 0x17fff800000000
    assert (2 << 51) | (0xffff << 35) == 0x17fff800000000


def test_i386_layout():
    fl = flags_layout("i386")
    assert fl.fields["SECTIONS"] == (7, 25)      # 36 - 29 bits of section number
    assert fl.fields["ZONES"] == (2, 23)
    assert fl.fields["NODES"] == (0, 0)
    assert fl.free_bits == 1                     # no room for a compound order there
    assert fl.last_cpupid_shift == 0


def test_lru_gen_takes_its_bits_and_refs_take_the_rest():
    fl = flags_layout("x86_64", LRU_GEN=True)
    assert fl.fields["LRU_GEN"] == (3, 32)
    assert fl.fields["LRU_REFS"] == (2, 30)
    assert fl.free_bits == 6


def test_last_cpupid_moves_out_of_flags_when_it_does_not_fit():
    fl = flags_layout("x86_64", NR_CPUS=8192, NR_PAGEFLAGS=31)
    # zones 3 + nodes 10 + last_cpupid (8 + 13) = 34 > 64 - 31
    assert not fl.last_cpupid_in_flags
    assert fl.fields["LAST_CPUPID"] == (0, 0)
    assert fl.last_cpupid_shift == 21


@pytest.mark.parametrize("kasan", ["sw_tags", "hw_tags"])
def test_not_enough_bits_is_the_kernels_error(kasan):
    with pytest.raises(FlagsLayoutError, match="Not enough bits in page flags"):
        flags_layout("i386", KASAN=kasan)


def test_vmemmap_without_room_for_nodes():
    with pytest.raises(FlagsLayoutError, match="Vmemmap: No space for nodes field"):
        flags_layout("x86_64", NODES_SHIFT=40)


def test_nodes_fall_back_to_the_section_without_vmemmap():
    fl = flags_layout("i386", NODES_SHIFT=3)
    assert fl.node_in_flags is False and fl.fields["NODES"] == (0, 0)


def test_too_many_zones():
    with pytest.raises(FlagsLayoutError, match="Too many zones"):
        flags_layout("x86_64", MAX_NR_ZONES=9)


def test_lru_gen_needs_vmemmap_on_32bit_sparsemem():
    with pytest.raises(FlagsLayoutError, match="LRU_GEN depends on"):
        flags_layout("i386", LRU_GEN=True)


def test_unknown_config_and_symbol():
    with pytest.raises(memcore.UnknownChoice, match="x86_64, i386"):
        flags_layout("arm64")
    with pytest.raises(memcore.UnknownChoice, match="NODES_SHIFT"):
        flags_layout("x86_64", NODE_SHIFT=3)


def test_dict_config_and_to_dict():
    fl = flags_layout({"base": "i386", "NR_PAGEFLAGS": 21})
    assert fl.free_bits == 2
    d = fl.to_dict()
    assert set(d) >= {"fields", "free_bits", "last_cpupid_in_flags", "config"}
    assert d["fields"]["ZONES"] == {"width": 2, "shift": 23}


def test_diagram_lists_fields_top_down():
    text = flags_layout("x86_64").diagram()
    assert text.index("NODES") < text.index("ZONES") < text.index("LAST_CPUPID")
    assert "free bits (room for a compound order field): 11" in text
