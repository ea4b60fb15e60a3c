"""SLUB kmem_cache_destroy() and kmem_cache_shrink() on the model: a cache with
live objects is not destroyed, boot and kmalloc caches never are, and shrinking
discards empty slabs and sorts the partial list.

Expectations come from 6.18 (tests/slabkit.py, /work/notes/slub-runtime-6.18.md)."""
from __future__ import annotations

import pytest

from memcore import UnknownChoice, VMBug

import slabkit as S
from slabkit import fill_slab


# ---- destroy and shrink -----------------------------------------------------------------------

def test_destroy_refuses_while_objects_live(machine):
    m = machine()
    pages0 = m.stats()["slab_pages"]
    names0 = [c.name for c in m.caches()]
    c = m.kmem_cache_create("mortal", 300)
    objs = [c.alloc() for _ in range(30)]
    pfns = {o.slab.pfn for o in objs}
    before = S.snapshot(m, c)
    with pytest.raises(VMBug, match="still has objects"):
        m.kmem_cache_destroy(c)
    assert S.snapshot(m, c) == before and m.kmem_cache("mortal") == c
    m.check()
    extra = c.alloc()                          # still usable
    extra.free()
    for o in objs[:-1]:
        o.free()
    with pytest.raises(VMBug):
        m.kmem_cache_destroy("mortal")
    objs[-1].free()
    m.kmem_cache_destroy(c)
    assert m.stats()["slab_pages"] == pages0
    assert all(m.page(p).type_name != "slab" for p in pfns)
    assert [x.name for x in m.caches()] == names0
    assert "mortal" not in m.slabinfo()
    with pytest.raises(UnknownChoice):
        m.kmem_cache("mortal")
    with pytest.raises(ValueError):
        c.alloc()
    with pytest.raises(ValueError):
        c.objects
    m.check()
    again = m.kmem_cache_create("mortal", 300)       # the name is free again
    again.alloc()
    m.check()


def test_boot_and_kmalloc_caches_cannot_be_destroyed(machine):
    m = machine()
    before = S.snapshot(m)
    for name in ("kmalloc-64", "kmem_cache", "kmem_cache_node", "dma-kmalloc-8k"):
        with pytest.raises(ValueError):
            m.kmem_cache_destroy(name)
    assert S.snapshot(m) == before
    m.check()


def test_shrink_discards_empty_slabs(machine):
    m = machine()
    c = m.kmem_cache_create("shr", 200)
    pages0 = m.stats()["slab_pages"]
    objs = [c.alloc() for _ in range(3 * c.objs_per_slab)]
    pfns = sorted({o.slab.pfn for o in objs})
    assert len(pfns) == 3 and c.slabs == 3
    for o in objs:
        o.free()
    # empty slabs below min_partial are kept until a shrink
    assert c.slabs == 3 and c.objects_inuse == 0
    assert m.stats()["slab_pages"] == pages0 + (3 << c.order)
    m.kmem_cache_shrink(c)
    assert c.slabs == 0 and c.total_objects == 0 and c.objects == 0
    assert m.stats()["slab_pages"] == pages0
    assert all(m.page(p).type_name != "slab" for p in pfns)
    m.check()


def test_shrink_returns_the_number_of_slabs_discarded(machine):
    """Slabs discarded while flushing the CPUs count too."""
    m = machine()
    c = m.kmem_cache_create("shr", 200)
    objs = [c.alloc() for _ in range(8 * c.objs_per_slab)]
    for o in objs:
        o.free()
    slabs = c.slabs
    assert slabs == 8
    assert m.kmem_cache_shrink(c) == slabs - c.slabs == 8


def test_shrink_orders_partial_slabs_fullest_first(machine):
    """__kmem_cache_do_shrink(): slabs with <= 32 free objects are promoted to the
    head of the node list, fewest free objects first."""
    m = machine()
    c = m.kmem_cache_create("ord", 200)
    fulls = [fill_slab(c) for _ in range(3)]
    c.alloc()
    for objs, nfree in zip(fulls, (9, 2, 5)):
        for o in objs[:nfree]:
            o.free()
    m.kmem_cache_shrink(c)
    nodes = c.node_partial_slabs()
    assert [s.objects - s.inuse for s in nodes][:3] == [2, 5, 9]
    assert [s.pfn for s in nodes[:3]] == [fulls[1][0].slab.pfn, fulls[2][0].slab.pfn,
                                         fulls[0][0].slab.pfn]
    m.check()
