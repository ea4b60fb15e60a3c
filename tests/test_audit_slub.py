"""Audit of SLUB paths against mm/slub.c of 6.18 (issue 8): the order in which
__put_partials() discards empty slabs, node-specific allocation falling back
to other nodes' partial slabs, kfree_rcu() callbacks running outside any user
task, and kmem_cache_create() failing cleanly when the per-CPU area is full."""
from __future__ import annotations

import pytest

import memcore
import kfacts as K
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
    K.warm_descriptor_caches(m)         # the folios below take no descriptor slab page
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


# ---- SLUB debug (mm/slub.c CONFIG_SLUB_DEBUG) ------------------------------------------------

def _report(ei):
    return str(ei.value)


def test_kmalloc_redzone_past_the_requested_size(machine):
    """slab_debug=FZPU: kmalloc caches keep the requested size (set_orig_size()) and
    init_object() red-zones the bytes past it with 0xcc; check_object() reports a
    write there as "kmalloc Redzone" (mm/slub.c check_object())."""
    m = machine(slab_debug="FZPU")
    o = m.kmalloc(20)
    c = o.kmem_cache
    assert c.name == "kmalloc-32" and c.object_size == 32
    a = o.address
    assert m.read(a + 20, 12) == b"\xcc" * 12
    assert m.read(a, 20) == b"\x6b" * 19 + b"\xa5"     # poisoned up to orig_size
    o.write(20, b"!")                                  # one byte past the request
    slab = o.slab.memory
    with pytest.raises(memcore.VMBug) as ei:
        o.free()
    text = _report(ei)
    assert (f"[kmalloc Redzone overwritten] {a + 20:#x}-{a + 20:#x} @offset={a + 20 - slab}. "
            f"First byte 0x21 instead of 0xcc") in text
    assert "Allocated in __kmalloc_noprof age=0 cpu=0 pid=1" in text
    assert f"FIX: Object at {a:#x} not freed" in text
    assert m.read(a + 20, 1) == b"\xcc"                # restore_bytes()
    m.check()
    o.free()                                           # intact now
    m.check()


def test_no_kmalloc_redzone_without_store_user(machine):
    """slub_debug_orig_size() needs SLAB_STORE_USER: with FZ only the red zone past
    object_size is checked, the kmalloc tail is the caller's."""
    m = machine(slab_debug="FZ")
    o = m.kmalloc(20)
    o.write(20, b"!" * 12)
    o.free()
    o = m.kmalloc(20)
    o.write(32, b"!")
    with pytest.raises(memcore.VMBug, match=r"\[Right Redzone overwritten\]"):
        o.free()


def test_checks_need_slab_consistency_checks(machine):
    """alloc/free_debug_processing() check objects only with SLAB_CONSISTENCY_CHECKS:
    without it a damaged red zone is restored by the next init_object(), unreported."""
    m = machine()
    c = m.kmem_cache_create("audit_nof", 40, flags="SLAB_RED_ZONE|SLAB_POISON")
    o = c.alloc()
    o.write(40, b"X")
    o.free()
    assert m.read(o.address + 40, 1) == b"\xbb"
    m.check()


def test_alignment_padding_and_object_padding(machine):
    """SLAB_POISON without red zones: the bytes between object_size and inuse are
    POISON_INUSE ("Alignment padding"); with red zones, the word after the metadata
    is checked by check_pad_bytes() ("Object padding")."""
    m = machine()
    w = m.bits // 8
    c = m.kmem_cache_create("audit_align", 34, flags="SLAB_POISON|SLAB_CONSISTENCY_CHECKS")
    o = c.alloc()
    a = o.address
    inuse = (34 + w - 1) // w * w
    assert m.read(a + 34, inuse - 34) == b"\x5a" * (inuse - 34)
    o.write(35, b"y")
    with pytest.raises(memcore.VMBug, match=rf"\[Alignment padding overwritten\] "
                                            rf"{a + 35:#x}-{a + 35:#x} .*instead of 0x5a"):
        o.free()
    o.free()
    c2 = m.kmem_cache_create("audit_objpad", 40,
                             flags="SLAB_POISON|SLAB_RED_ZONE|SLAB_CONSISTENCY_CHECKS")
    o = c2.alloc()
    pad = o.address + 40 + 2 * w                       # after red zone word + free pointer
    m.write(pad + 1, b"z")
    with pytest.raises(memcore.VMBug, match=rf"\[Object padding overwritten\] "
                                            rf"{pad + 1:#x}-{pad + 1:#x}"):
        o.free()
    assert m.read(pad, w) == b"\x5a" * w
    o.free()
    m.check()


def test_slab_pad_check(machine):
    """slab_pad_check(): the slab's tail after the last object stays POISON_INUSE;
    check_slab() (SLAB_CONSISTENCY_CHECKS) reports "Padding overwritten"."""
    m = machine()
    c = m.kmem_cache_create("audit_slabpad", 34, flags="SLAB_POISON|SLAB_CONSISTENCY_CHECKS")
    o = c.alloc()
    length = 4096 << c.order
    remainder = length % c.slab_size
    assert remainder
    start = o.slab.memory
    pad = start + length - remainder
    assert m.read(pad, remainder) == b"\x5a" * remainder
    m.write(pad + 2, b"qq")
    inuse = c.objects_inuse
    with pytest.raises(memcore.VMBug, match=rf"Padding overwritten\. {pad + 2:#x}-{pad + 3:#x} "
                                            rf"@offset={pad + 2 - start}(.|\n)*"
                                            rf"FIX: Marking all objects used"):
        c.alloc()
    assert m.read(pad, remainder) == b"\x5a" * remainder
    # alloc_debug_processing() failed: every object of the slab is marked used
    sl = o.slab
    assert sl.inuse == sl.objects and sl.free_objects() == []
    assert c.objects_inuse == inuse - 1 + sl.objects
    assert c.alloc().slab != sl
    o.free()
    m.check()


def test_store_user_tracks(machine):
    """SLAB_STORE_USER: struct track for the last alloc and free behind the object
    (caller stand-in, CPU, pid = Task id + 1, the model's jiffies); print_tracking()
    follows the first line of an object report."""
    m = machine(freelist_random=False)
    w = m.bits // 8
    c = m.kmem_cache_create("audit_track", 40,
                            flags="SLAB_STORE_USER|SLAB_RED_ZONE|SLAB_CONSISTENCY_CHECKS")
    a_task = m.task("A", cpu=1)
    o = c.alloc()                                      # init: pid 1, CPU 0
    info_end = 40 + w                                  # inuse: object + red zone word
    raw = m.read(o.address + info_end, 2 * (32 if w == 8 else 20))
    tsz = len(raw) // 2
    addr = int.from_bytes(raw[:w], "little")
    cpu = int.from_bytes(raw[w + 4:w + 8], "little")
    pid = int.from_bytes(raw[w + 8:w + 12], "little")
    assert addr != 0 and cpu == 0 and pid == 1
    assert raw[tsz:] == bytes(tsz)                     # never freed
    o.free(task=m.task("B", cpu=0))                    # pid B.id + 1
    b_pid = m.task("B").id + 1
    m.write(o.address - 1, b"L")                       # left red zone of the free object
    with pytest.raises(memcore.VMBug) as ei:
        c.alloc()                                      # LIFO: the same object again
    text = _report(ei)
    assert f"[Left Redzone overwritten] {o.address - 1:#x}-{o.address - 1:#x}" in text
    assert "Allocated in kmem_cache_alloc_noprof age=1 cpu=0 pid=1" in text
    assert f"Freed in kmem_cache_free age=0 cpu=0 pid={b_pid}" in text
    o2 = c.alloc(task=a_task)
    raw = m.read(o2.address + info_end, tsz)
    assert int.from_bytes(raw[w + 4:w + 8], "little") == 1
    assert int.from_bytes(raw[w + 8:w + 12], "little") == a_task.id + 1
    o2.free(task=a_task)
    m.check()


def test_slab_debug_option(machine):
    """slab_debug= applies to every cache but SLAB_NO_USER_FLAGS ones; bad letters
    are refused."""
    m = machine(slab_debug=True)
    kc = {c.name: c for c in m.caches()}
    assert kc["kmalloc-64"].red_zone and kc["kmalloc-64"].poison
    assert kc["kmalloc-64"].slab_size > 64
    c = m.kmem_cache_create("audit_dbg_all", 100)
    assert c.red_zone and c.poison
    o = m.kmalloc(64)
    o.free()
    m.check()
    with pytest.raises(memcore.UnknownChoice):
        machine(slab_debug="FX")
