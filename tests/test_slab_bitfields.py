"""struct slab's inuse:16 / objects:15 / frozen:1 share the counters word.

The values are written through the C bitfields in the variant module and
the counters word is read back, which proves where the compiler put them.
"""
import pytest

from memcore import _variants

from conftest import only_bits


def test_bit_positions_in_counters(variant):
    mod = _variants.module(*variant)
    assert mod.slab_counters(1, 0, 0) == 1                 # inuse: bits 0..15
    assert mod.slab_counters(0, 1, 0) == 1 << 16           # objects: bits 16..30
    assert mod.slab_counters(0, 0, 1) == 1 << 31           # frozen: bit 31
    assert mod.slab_counters(0xffff, 0x7fff, 1) == 0xffffffff


def test_counters_read_back_through_bitfields(variant):
    mod = _variants.module(*variant)
    assert mod.slab_fields(0x80030001) == (1, 3, 1)
    for inuse, objects, frozen in [(5, 32, 0), (0, 0x7fff, 1), (0xffff, 1, 0)]:
        word = mod.slab_counters(inuse, objects, frozen)
        assert mod.slab_fields(word) == (inuse, objects, frozen)


@only_bits(64)
def test_upper_half_of_64bit_counters_is_outside_the_bitfields(variant):
    mod = _variants.module(*variant)
    assert mod.slab_fields(0xffffffff00000000) == (0, 0, 0)


def test_out_of_range_values_are_refused(variant):
    mod = _variants.module(*variant)
    with pytest.raises(ValueError, match="inuse:16"):
        mod.slab_counters(1 << 16, 0, 0)
    with pytest.raises(ValueError, match="does not fit"):
        mod.slab_fields(1 << variant[1])


def test_layout_reports_the_same_bits(variant):
    import memcore

    lay = memcore.layout("slab", *variant)
    counters = lay["counters"]
    assert (lay["inuse"].bit_offset - counters.bit_offset, lay["inuse"].bit_size) == (0, 16)
    assert (lay["objects"].bit_offset - counters.bit_offset, lay["objects"].bit_size) == (16, 15)
    assert (lay["frozen"].bit_offset - counters.bit_offset, lay["frozen"].bit_size) == (31, 1)
    assert lay["inuse"].offset == counters.offset and lay["inuse"].size == 4
