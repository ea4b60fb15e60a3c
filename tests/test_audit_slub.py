"""Audit of SLUB paths against mm/slub.c of 6.18 (issue 8): the order in which
__put_partials() discards empty slabs, node-specific allocation falling back
to other nodes' partial slabs, kfree_rcu() callbacks running outside any user
task, and kmem_cache_create() failing cleanly when the per-CPU area is full."""
from __future__ import annotations

import pytest

import memcore
from conftest import only_bits


def _fill_slabs(m, c, nslabs, task):
    """Allocate until nslabs slabs are completely full, plus one object of the next
    slab (so the full ones are unfrozen and on no list); objects by slab PFN."""
    per = c.objs_per_slab
    by_slab: dict[int, list] = {}
    order = []
    for _ in range(nslabs * per + 1):
        o = m.kmem_cache_alloc(c, task=task)
        pfn = o.slab.pfn
        if pfn not in by_slab:
            by_slab[pfn] = []
            order.append(pfn)
        by_slab[pfn].append(o)
    assert all(len(by_slab[p]) == per for p in order[:nslabs])
    return by_slab, order


def test_put_partials_discards_the_collected_empty_slabs_in_reverse(machine):
    """mm/slub.c __put_partials(): empty slabs beyond min_partial are collected on
    slab_to_discard (pushed, so newest first) and discarded after the walk.  The
    CPU partial list is S8 -> S7 -> S6 (put_cpu_partial() pushes at its head), so
    they are freed S6, S7, S8 and S8's page is the first the pcp list hands out."""
    m = machine(cpus=2)
    a, b = m.task("A", cpu=0), m.task("B", cpu=1)
    c = m.kmem_cache_create("audit_pp", 256)
    assert c.min_partial == 5 and c.objs_per_slab == 16
    by_slab, order = _fill_slabs(m, c, 8, a)
    s1_5, s6_8 = order[:5], order[5:8]
    for p in s1_5:                          # five slabs with one free object ...
        by_slab[p].pop().free(task=b)
    m.kmem_cache_shrink(c)                  # ... on the node partial list
    assert len(c.node_partial_slabs(0)) >= c.min_partial
    for p in s6_8:                          # three empty slabs on B's partial list
        for o in by_slab.pop(p):
            o.free(task=b)
    assert [s.pfn for s in c.cpu_partial_slabs(1)] == s6_8[::-1]
    m.kmem_cache_shrink(c)                  # flush: __put_partials() of B's list
    got = [m.alloc_folio(order=0, movable=False, task=a).pfn for _ in range(3)]
    assert got == s6_8[::-1]
    m.check()


@only_bits(64)                                  # i386 has no NUMA
def test_node_allocation_falls_back_to_other_nodes_partial_slabs(machine):
    """___slab_alloc() with a node and no __GFP_THISNODE: that node's partial list,
    then a new slab with GFP_NOWAIT | __GFP_THISNODE; only when both fail the retry
    takes get_any_partial() (a node with more than min_partial partial slabs)
    before a new slab from anywhere.  With __GFP_THISNODE it fails instead."""
    m = machine(ram="512MiB", nodes=2, cpus=2)
    a = m.task("A", cpu=0)
    c = m.kmem_cache_create("audit_node", 256)
    by_slab, order = _fill_slabs(m, c, c.min_partial + 2, a)
    for p in order[:c.min_partial + 2]:
        by_slab[p].pop().free(task=m.task("B", cpu=1))
    m.kmem_cache_shrink(c)
    partial0 = {s.pfn for s in c.node_partial_slabs(0)}
    assert len(partial0) > c.min_partial
    assert not c.node_partial_slabs(1)
    # exhaust node 1: folios go there until the page allocator falls back to node 0
    held = []
    for order_ in (9, 0):
        while True:
            f = m.alloc_folio(order=order_, movable=False, node=1, task=a)
            if f.node != 1:
                f.put()
                break
            held.append(f)
    # and what the watermarks still allow a GFP_NOWAIT | __GFP_THISNODE slab page
    # (___slab_alloc()'s first try) there
    c2 = m.kmem_cache_create("audit_node_filler", 256)
    with pytest.raises(memcore.OutOfMemory):
        while True:
            held.append(m.kmem_cache_alloc(c2, gfp="GFP_NOWAIT|__GFP_THISNODE", node=1,
                                           task=a))
    slabs = c.slabs
    with pytest.raises(memcore.OutOfMemory):
        m.kmem_cache_alloc(c, gfp="GFP_KERNEL|__GFP_THISNODE", node=1, task=a)
    o = m.kmem_cache_alloc(c, node=1, task=a)
    assert o.slab.pfn in partial0           # a node 0 partial slab, not a new slab
    assert c.slabs == slabs
    m.check()


def test_kfree_rcu_callback_does_not_run_as_the_current_task(machine):
    """kfree_rcu()'s kfree() runs from RCU callback context, not as a user task:
    the grace period ending while the current task sleeps still frees the object."""
    m = machine()
    reader, holder = m.task("reader", cpu=1), m.task("holder", cpu=0)
    o = m.kmalloc(64)
    m.rcu_read_lock(reader)
    m.kfree_rcu(o)
    f = m.alloc_folio()
    assert f.lock(task=holder)
    assert not f.lock()                     # the current task sleeps on the lock
    inuse = o.kmem_cache.objects_inuse
    m.rcu_read_unlock(reader)               # ends the grace period: the kfree runs
    assert o.kmem_cache.objects_inuse == inuse - 1
    assert m.rcu.pending == 0
    f.unlock(task=holder)
    f.unlock()
    m.check()


def test_kmem_cache_create_fails_cleanly_when_the_percpu_area_is_full(machine):
    """The per-CPU area runs out: kmem_cache_create() raises memcore.OutOfMemory,
    takes nothing (no leaked struct kmem_cache or node structs) and the machine
    stays consistent; destroying a cache makes room again."""
    m = machine()
    made = []
    with pytest.raises(memcore.OutOfMemory, match="per-CPU area"):
        for i in range(100000):
            made.append(m.kmem_cache_create(f"audit_pcpu{i}", 32))
    assert len(made) > 100
    m.check()
    before = m.stats()
    kc = m.caches()
    kc_objects = {c.name: c.objects_inuse for c in kc}
    with pytest.raises(memcore.OutOfMemory, match="per-CPU area"):
        m.kmem_cache_create("audit_pcpu_last", 32)
    assert m.stats() == before
    assert {c.name: c.objects_inuse for c in m.caches()} == kc_objects
    m.check()
    m.kmem_cache_destroy(made.pop())
    m.kmem_cache_create("audit_pcpu_last", 32)
    m.check()
