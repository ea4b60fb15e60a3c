"""SLUB kmem_cache_create() on the model: flags by name, string or value, object
alignment, where the free pointer goes, and refused arguments that change nothing.

Expectations come from 6.18 (tests/slabkit.py, /work/notes/slub-runtime-6.18.md);
the cache geometry itself is covered by test_slub_sizing.py."""
from __future__ import annotations

import pytest

from memcore import UnknownChoice, _variants

import slabkit as S


# ---- kmem_cache_create ---------------------------------------------------------------------

def test_flags_by_name_by_string_and_by_value(machine):
    m = machine()
    F = _variants.module(m.design, m.bits).SLAB_FLAGS
    want = {"SLAB_HWCACHE_ALIGN", "SLAB_RECLAIM_ACCOUNT"}
    caches = [
        m.kmem_cache_create("by-names", 100, flags=("SLAB_HWCACHE_ALIGN", "SLAB_RECLAIM_ACCOUNT")),
        m.kmem_cache_create("by-string", 100, flags="SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT"),
        m.kmem_cache_create("by-value", 100,
                            flags=F["SLAB_HWCACHE_ALIGN"] | F["SLAB_RECLAIM_ACCOUNT"]),
        m.kmem_cache_create("mixed", 100, flags=[F["SLAB_HWCACHE_ALIGN"], "SLAB_RECLAIM_ACCOUNT"]),
    ]
    for c in caches:
        assert set(c.flags) == want
        assert c.hwcache_align and c.reclaim_account and not c.destroy_by_rcu
        assert c.object_size == 100
        # calculate_alignment(): a 64-byte line, halved while size <= line / 2: stays 64
        assert c.align == 64 and c.slab_size == 128
        assert m.kmem_cache(c.name) == c
    assert len(set(caches)) == 4 and len({c.pointer for c in caches}) == 4
    # SLAB_RECLAIM_ACCOUNT: allocflags get __GFP_RECLAIMABLE, so the slab comes
    # from a reclaimable pageblock
    o = caches[0].alloc()
    assert m.page(o.slab.pfn).migratetype == "Reclaimable"
    plain = m.kmem_cache_create("plain", 100).alloc()
    assert m.page(plain.slab.pfn).migratetype == "Unmovable"
    rcu = m.kmem_cache_create("rcu", 100, flags="SLAB_TYPESAFE_BY_RCU")
    assert rcu.destroy_by_rcu and rcu.flags == ("SLAB_TYPESAFE_BY_RCU",)
    m.check()


@pytest.mark.parametrize("size,align,flags,want_align", [
    (20, 0, "SLAB_HWCACHE_ALIGN", 32),        # 64 -> 32 (20 <= 32) -> stays (20 > 16)
    (8, 0, "SLAB_HWCACHE_ALIGN", 8),          # halved down to 8
    (33, 0, "SLAB_HWCACHE_ALIGN", 64),
    (24, 128, (), 128),                       # explicit align
    (24, 4096, (), 4096),
    (24, 0, (), 8),                           # ARCH_SLAB_MINALIGN (unsigned long long)
    (5, 2, (), 8),
])
def test_object_alignment(machine, size, align, flags, want_align):
    m = machine()
    c = m.kmem_cache_create("al", size, align=align, flags=flags)
    assert c.align == want_align
    assert c.slab_size % want_align == 0 and c.slab_size >= size
    objs = [c.alloc() for _ in range(min(c.objs_per_slab, 40))]
    assert all(o.address % want_align == 0 for o in objs)
    m.check()


def test_free_pointer_place(machine):
    """The free pointer sits in the middle of a plain object (ALIGN_DOWN(size / 2,
    sizeof(void *))) and after the object for TYPESAFE_BY_RCU and ctor caches."""
    m = machine()
    w = m.bits // 8
    plain = m.kmem_cache_create("plain", 200)
    assert plain.offset == (100 // w) * w
    rcu = m.kmem_cache_create("rcu", 256, flags="SLAB_TYPESAFE_BY_RCU")
    assert rcu.offset == 256 and rcu.slab_size == (256 + w + 7) // 8 * 8   # align 8 on i386 too
    inside = m.kmem_cache_create("rcu-fp", 64, flags="SLAB_TYPESAFE_BY_RCU", freeptr_offset=8)
    assert inside.offset == 8 and inside.slab_size == 64          # freeptr_offset: no extra word
    ctor = m.kmem_cache_create("ctor", 13, ctor=lambda o: None)
    assert ctor.offset == 16
    assert ctor.offset >= ctor.object_size and rcu.offset >= rcu.object_size
    m.check()


BAD_CREATE = [
    ("size-0", dict(size=0), ValueError),
    ("size-negative", dict(size=-64), ValueError),
    ("size-above-KMALLOC_MAX_SIZE", dict(size=(4 << 20) + 1), ValueError),
    ("size-huge", dict(size=1 << 40), ValueError),
    ("size-float", dict(size=64.0), (TypeError, ValueError)),
    ("align-3", dict(size=64, align=3), ValueError),
    ("align-48", dict(size=64, align=48), ValueError),
    ("align-negative", dict(size=64, align=-8), ValueError),
    ("flag-unknown", dict(size=64, flags=("SLAB_HWCACHE_ALIGN", "SLAB_BOGUS")), UnknownChoice),
    ("flag-unknown-in-string", dict(size=64, flags="SLAB_POISON|SLAB_NOPE"), UnknownChoice),
    ("flag-internal-bit", dict(size=64, flags=1 << 16), ValueError),   # SLAB_OBJECT_POISON
    ("ctor-int", dict(size=64, ctor=42), TypeError),
    ("ctor-str", dict(size=64, ctor="ctor"), TypeError),
    ("name-empty", dict(name="", size=64), (TypeError, ValueError)),
    ("name-None", dict(name=None, size=64), (TypeError, ValueError)),
    ("name-duplicate", dict(name="dup", size=32), ValueError),
    ("name-of-a-kmalloc-cache", dict(name="kmalloc-64", size=64), ValueError),
    ("freeptr-without-rcu", dict(size=64, freeptr_offset=8), ValueError),
    ("freeptr-unaligned", dict(size=64, flags="SLAB_TYPESAFE_BY_RCU", freeptr_offset=3),
     ValueError),
    ("freeptr-outside", dict(size=64, flags="SLAB_TYPESAFE_BY_RCU", freeptr_offset=64), ValueError),
]


@pytest.mark.parametrize("case,kw,exc", BAD_CREATE, ids=[c[0] for c in BAD_CREATE])
def test_create_errors_change_nothing(machine, case, kw, exc):
    m = machine()
    dup = m.kmem_cache_create("dup", 64)
    dup.alloc()
    before = S.snapshot(m, dup)
    names = [c.name for c in m.caches()]
    kw = dict(kw)
    name = kw.pop("name", "z")
    with pytest.raises(exc) as ei:
        m.kmem_cache_create(name, **kw)
    if exc is UnknownChoice:
        bad = "SLAB_BOGUS" if case == "flag-unknown" else "SLAB_NOPE"
        assert ei.value.value == bad and bad in str(ei.value)
        assert {"SLAB_HWCACHE_ALIGN", "SLAB_TYPESAFE_BY_RCU", "SLAB_RECLAIM_ACCOUNT",
                "SLAB_POISON", "SLAB_RED_ZONE"} <= set(ei.value.valid)
        assert all(v in str(ei.value) for v in ei.value.valid)
    assert S.snapshot(m, dup) == before
    assert [c.name for c in m.caches()] == names
    assert m.kmem_cache("dup") == dup
    m.check()


@pytest.mark.parametrize("kw", [dict(flags=1 << 40), dict(flags=-1), dict(flags=(1 << 40,)),
                                dict(align=1 << 40),
                                dict(flags="SLAB_TYPESAFE_BY_RCU", freeptr_offset=-8)],
                         ids=["flags-wide", "flags-negative", "flags-wide-in-tuple", "align-wide",
                              "freeptr-negative"])
def test_create_out_of_range_ints_are_value_errors(machine, kw):
    """Arguments outside slab_flags_t / unsigned int are -EINVAL like any other bad value."""
    m = machine()
    before = S.snapshot(m)
    with pytest.raises(ValueError):
        m.kmem_cache_create("z", 64, **kw)
    assert S.snapshot(m) == before
