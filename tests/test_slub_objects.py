"""SLUB objects on the model: objects are bytes of modeled RAM, the freelist order
and its hardened encoding, the debug caches' red zones and poison, and constructors.

Expectations come from 6.18 (tests/slabkit.py, /work/notes/slub-runtime-6.18.md)."""
from __future__ import annotations

import pytest

from memcore import MemcoreError

import kfacts as K
import slabkit as S
from slabkit import all_slots, fill_slab


# ---- objects are bytes of modeled RAM ------------------------------------------------------

def test_objects_are_bytes_of_the_slab(machine):
    m = machine()
    bits = m.bits
    c = m.kmem_cache_create("obj", 40)
    objs = fill_slab(c)
    slab = objs[0].slab
    assert slab.memory == K.PAGE_OFFSET[bits] + slab.pfn * K.PAGE_SIZE
    assert {o.address for o in objs} == all_slots(c, slab)
    for o in objs:
        assert (o.address - K.PAGE_OFFSET[bits]) >> K.PAGE_SHIFT in range(
            slab.pfn, slab.pfn + (1 << c.order))
        assert o.size == 40 and o.kmem_cache == c
    pattern = {o.address: bytes([(o.address >> 3) & 0xff ^ i for i in range(40)]) for o in objs}
    for o in objs:
        o.write(0, pattern[o.address])
    for o in objs:
        assert o.read() == pattern[o.address] == m.read(o.address, 40)
    # Machine.write is seen by SlabObject.read and vice versa, neighbours untouched
    o = sorted(objs, key=lambda x: x.address)[5]
    m.write(o.address + 3, b"XYZ")
    assert o.read(3, 3) == b"XYZ" and o.read(0, 3) == pattern[o.address][:3]
    for nb in (o.address - c.slab_size, o.address + c.slab_size):
        assert m.read(nb, 40) == pattern[nb]
    o.write(37, b"end")
    assert m.read(o.address + 37, 3) == b"end"
    m.check()


def test_freelist_in_address_order_without_randomization(machine):
    m = machine(freelist_random=False)
    c = m.kmem_cache_create("lin", 64)
    objs = fill_slab(c)
    base = objs[0].slab.memory
    assert [o.address for o in objs] == [base + i * 64 for i in range(c.objs_per_slab)]
    m.check()


def test_freelist_randomization_is_a_permutation(machine):
    m = machine()
    c = m.kmem_cache_create("rnd", 64)
    objs = fill_slab(c)
    addrs = [o.address for o in objs]
    assert set(addrs) == all_slots(c, objs[0].slab) and len(set(addrs)) == len(addrs)
    assert addrs != sorted(addrs)
    m.check()


@pytest.mark.parametrize("hardened", [True, False])
def test_free_pointer_encoding(machine, hardened):
    """A free object holds next ^ s->random ^ swab(&slot) (SLAB_FREELIST_HARDENED),
    or the plain next pointer; the chain ends with an encoded NULL."""
    m = machine(freelist_hardened=hardened)
    bits = m.bits
    keys = []
    for name in ("fp1", "fp2"):
        c = m.kmem_cache_create(name, 64)
        taken = [c.alloc() for _ in range(10)]
        m.kmem_cache_shrink(c)                 # the CPU slab goes to the node list
        (slab,) = c.node_partial_slabs()
        chain = slab.free_objects()
        assert set(chain) == all_slots(c, slab) - {o.address for o in taken}
        assert S.slab_raw(m, slab)["freelist"] == chain[0] == slab.freelist
        key = None
        for a, nxt in zip(chain, chain[1:] + [0]):
            slot = a + c.offset
            stored = S.word(m, slot)
            if hardened:
                k = stored ^ nxt ^ S.swab(slot, bits)
                assert key is None or k == key
                key = k
            else:
                assert stored == nxt
        keys.append(key)
    if hardened:
        assert keys[0] != keys[1] and 0 not in keys
    m.check()


# ---- debug caches (SLAB_POISON | SLAB_RED_ZONE) ----------------------------------------------

def test_debug_cache_layout_and_patterns(machine):
    """calculate_sizes(): [left redzone][object][right redzone][free pointer][padding];
    init_object() fills 0x6b..0xa5 and the redzones with 0xbb (free) / 0xcc (in use);
    fresh slab memory is POISON_INUSE 0x5a."""
    m = machine(freelist_random=False)
    w = m.bits // 8
    c = m.kmem_cache_create("dbg", 40, flags=("SLAB_POISON", "SLAB_RED_ZONE"))
    assert c.poison and c.red_zone
    # 40 + right redzone word + free pointer + padding word + left redzone (ALIGN(w, 8))
    assert c.slab_size == (40 + 3 * w + 7) // 8 * 8 + 8 and c.offset == 40 + w
    objs = [c.alloc() for _ in range(3)]
    base = objs[0].slab.memory
    assert [o.address for o in objs] == [base + 8 + i * c.slab_size for i in range(3)]
    a = objs[1].address
    body_poison = b"\x6b" * 39 + b"\xa5"
    assert m.read(a - 8, 8) == b"\xcc" * 8 and m.read(a + 40, w) == b"\xcc" * w
    assert m.read(a, 40) == body_poison                # re-poisoned at allocation
    objs[1].write(0, b"u" * 40)
    objs[1].free()
    assert m.read(a - 8, 8) == b"\xbb" * 8 and m.read(a + 40, w) == b"\xbb" * w
    assert m.read(a, 40) == body_poison
    pad_at, next_stride = a + 40 + 2 * w, base + 2 * c.slab_size
    assert m.read(pad_at, next_stride - pad_at) == b"\x5a" * (next_stride - pad_at)
    m.check()


def test_debug_cache_catches_redzone_and_poison_damage(machine):
    """With SLAB_CONSISTENCY_CHECKS (only then: alloc/free_debug_processing())."""
    m = machine()
    c = m.kmem_cache_create("dbg", 40, flags=("SLAB_POISON", "SLAB_RED_ZONE",
                                              "SLAB_CONSISTENCY_CHECKS"))
    o = c.alloc()
    a = o.address
    m.write(a + 40, b"X")                               # one byte past the object
    inuse = c.objects_inuse
    with pytest.raises(MemcoreError, match="Right Redzone overwritten"):
        o.free()
    assert c.objects_inuse == inuse                    # not freed
    assert m.read(a + 40, 1) == b"\xcc"                 # restore_bytes()
    m.check()
    o.free()                                           # now it is intact
    m.write(a + 3, b"Z")                               # write after free
    with pytest.raises(MemcoreError, match="Poison overwritten"):
        c.alloc()
    other = c.alloc()
    assert other.address != a
    m.check()


def test_debug_cache_reports_the_damaged_range(machine):
    """check_bytes_and_report() trims intact trailing bytes and prints fault..end - 1."""
    m = machine()
    c = m.kmem_cache_create("dbg", 40, flags=("SLAB_POISON", "SLAB_RED_ZONE",
                                              "SLAB_CONSISTENCY_CHECKS"))
    o = c.alloc()
    m.write(o.address + 40, b"X")
    with pytest.raises(MemcoreError) as ei:
        o.free()
    assert f"{o.address + 40:#x}-{o.address + 40:#x}" in str(ei.value)


# ---- constructors -------------------------------------------------------------------------------

def pattern_for(addr, n):
    return bytes(((addr >> 4) + i) & 0xff for i in range(n))


def test_ctor_runs_once_per_object_when_the_slab_is_created(machine):
    m = machine()
    calls = []

    def ctor(obj):
        calls.append((obj.address, obj.size, obj.kmem_cache.name))
        obj.write(0, pattern_for(obj.address, obj.size))

    c = m.kmem_cache_create("ctor", 40, ctor=ctor)
    assert c.ctor is ctor and calls == []
    a = c.alloc()
    per = c.objs_per_slab
    assert len(calls) == per
    assert {x[0] for x in calls} == all_slots(c, a.slab)
    assert {(x[1], x[2]) for x in calls} == {(40, "ctor")}
    assert a.read() == pattern_for(a.address, 40)
    more = [c.alloc() for _ in range(per - 1)]
    assert len(calls) == per                         # not at each allocation
    for o in more:
        assert o.read() == pattern_for(o.address, 40)
    # the free pointer is outside the object: a freed and reused object keeps
    # its constructed state
    more[3].free()
    again = c.alloc()
    assert again.address == more[3].address and again.read() == pattern_for(again.address, 40)
    assert len(calls) == per
    c.alloc()                                        # a second slab: per more calls
    assert len(calls) == 2 * per
    m.check()


def test_ctor_that_raises_leaves_nothing_allocated(machine):
    """A failing constructor leaks no object and leaves no unconstructed one behind."""
    m = machine()
    fail = [True]

    def ctor(obj):
        if fail[0]:
            raise RuntimeError("ctor failed")
        obj.write(0, b"ok")

    c = m.kmem_cache_create("bad-ctor", 64, ctor=ctor)
    with pytest.raises(RuntimeError, match="ctor failed"):
        c.alloc()
    m.check()
    assert c.objects_inuse == 0
    fail[0] = False
    o = c.alloc()
    assert o.read(0, 2) == b"ok"
    o.free()
    m.kmem_cache_destroy(c)
    m.check()
