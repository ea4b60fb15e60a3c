"""SLUB slabs and their lists on the model: struct slab of a new CPU slab (and,
in the classic design, overlaying the struct page), counters and the per-CPU and
per-node partial lists as objects are freed, draining and shrinking them, and
per-CPU slabs of tasks on different CPUs.

Expectations come from 6.18 (tests/slabkit.py, /work/notes/slub-runtime-6.18.md)
and from struct slab's bytes at memcore.layout() offsets."""
from __future__ import annotations

import pytest

import kfacts as K
import slabkit as S
from slabkit import P, fill_slab


# ---- struct slab overlays the page -----------------------------------------------------------

def new_cpu_slab(m, size):
    """A cache of `size`-byte objects and its first slab (the CPU slab, after one
    allocation): (cache, slab, pfn, pages); the machine's walk() counted it."""
    c = m.kmem_cache_create("ovl", size)
    assert (c.order > 0) == (size == 3000)
    slab_before = m.walk()["slab"]
    s = c.alloc().slab
    pfn, nr = s.pfn, 1 << c.order
    assert m.walk()["slab"] == slab_before + nr
    assert pfn % nr == 0
    return c, s, pfn, nr


@pytest.mark.parametrize("size", [64, 3000])
def test_a_new_cpu_slab(machine, size):
    m = machine()
    c, s, pfn, nr = new_cpu_slab(m, size)
    R = S.slab_raw(m, s)
    p = m.page(pfn)
    assert p.type_name == "slab"
    assert R["slab_cache"] == c.pointer and s.slab_cache == c
    # frozen pages (6.15+): refcount 0
    assert p.refcount == 0
    # the CPU slab: frozen, inuse == objects, its chain moved to the CPU freelist
    assert P(c.cpu_slab(0)) == s.pfn
    assert (R["frozen"], R["inuse"], R["objects"]) == (1, c.objs_per_slab, c.objs_per_slab)
    assert (s.frozen, s.inuse, s.objects) == (1, c.objs_per_slab, c.objs_per_slab)
    assert R["freelist"] == s.freelist == 0
    assert R["counters"] == s.counters == s.inuse | s.objects << 16 | s.frozen << 31
    assert not S.slab_flags(m, s).test(S.SL_PARTIAL) and not s.on_node_partial
    if nr > 1:
        assert p.is_head and s.order == c.order
        for i in range(1, nr):
            t = m.page(pfn + i)
            assert t.is_tail
            assert P(m.virt_to_slab(s.memory + i * K.PAGE_SIZE + 5)) == s.pfn
    else:
        assert not p.is_head and s.order == 0
    m.check()


@pytest.mark.classic_overlay
@pytest.mark.parametrize("size", [64, 3000])
def test_struct_slab_overlays_the_page(machine, size):
    """struct slab is the struct page of the slab's first page: its flags are the
    page's flags, __page_type holds PGTY_slab, __page_refcount 0 (frozen), and a
    compound slab keeps its order in _flags_1 and compound_head in the tails."""
    m = machine()
    c, s, pfn, nr = new_cpu_slab(m, size)
    p = m.page(pfn)
    assert s.pointer == p.pointer == K.page_address(m, pfn)
    assert K.page_field(m, pfn, "page_type") >> 24 == S.PGTY_SLAB
    assert K.page_field(m, pfn, "page_type") == K.struct_field(m, "slab", s.pointer,
                                                               "__page_type")
    assert K.page_field(m, pfn, "_refcount") == 0
    assert S.slab_raw(m, s)["flags"] == K.flags_word(m, pfn) == p.flags.word
    assert not p.flags.test(S.SL_PARTIAL)
    if nr > 1:
        assert K.folio_field(m, pfn, "_flags_1") & 0xff == c.order
        head = K.page_address(m, pfn)
        for i in range(1, nr):
            assert K.page_field(m, pfn + i, "compound_head") == head + 1
            # only the head page carries PGTY_slab (on the memdesc designs every
            # page of the slab points at its descriptor, so every page is Slab)
            assert m.page(pfn + i).type_name is None
    m.check()


def test_counters_and_lists_follow_frees(machine):
    """A full slab is on no list; the first free into it puts it on the freeing CPU's
    partial list (not frozen, no SL_partial); later frees only grow its freelist."""
    m = machine()
    c = m.kmem_cache_create("cnt", 200)
    B = m.task("B", cpu=1)
    full1 = fill_slab(c)
    full2 = fill_slab(c)
    cur = c.alloc()                        # a third slab is now the CPU slab
    s1, s2 = full1[0].slab, full2[0].slab
    assert P(c.cpu_slab(0)) == P(cur.slab)
    for s in (s1, s2):
        R = S.slab_raw(m, s)
        assert (R["frozen"], R["inuse"], R["freelist"]) == (0, s.objects, 0)
        assert not s.on_node_partial and not S.slab_flags(m, s).test(S.SL_PARTIAL)
    assert P(c.cpu_partial_slabs(0)) == [] and P(c.node_partial_slabs()) == []

    a, b = full1[3], full1[7]
    m.kmem_cache_free(c, a)
    R = S.slab_raw(m, s1)
    assert P(c.cpu_partial_slabs(0)) == [s1.pfn] and P(c.cpu_partial_slabs(1)) == []
    assert (R["frozen"], R["inuse"], R["objects"]) == (0, s1.objects - 1, s1.objects)
    assert R["freelist"] == a.address == s1.freelist
    assert R["counters"] == (s1.objects - 1) | s1.objects << 16
    assert R["slabs"] == 1 and R["next"] == 0          # head of a 1-slab CPU partial list
    assert not S.slab_flags(m, s1).test(S.SL_PARTIAL)
    m.kmem_cache_free(c, b)
    R = S.slab_raw(m, s1)
    assert R["inuse"] == s1.objects - 2 and s1.free_objects() == [b.address, a.address]
    assert P(c.cpu_partial_slabs(0)) == [s1.pfn]

    # task B on CPU 1 frees into the other full slab: CPU 1's partial list
    m.kmem_cache_free(c, full2[0], task=B)
    assert P(c.cpu_partial_slabs(1)) == [s2.pfn] and P(c.cpu_partial_slabs(0)) == [s1.pfn]
    assert S.slab_raw(m, s2)["frozen"] == 0
    m.check()


def test_cpu_partial_list_drains_to_the_node_list(machine):
    """put_cpu_partial(drain): once the list holds cpu_partial_slabs slabs, the next
    one moves the whole list to the node partial list (SL_partial set); the
    allocator later takes a node slab plus cpu_partial_slabs / 2 + 1 more."""
    m = machine(ram="256MiB")
    c = m.kmem_cache_create("drain", 200)
    assert c.cpu_partial == S.cpu_partial_objects(c.slab_size)
    assert c.min_partial == S.min_partial(c.slab_size)
    n = S.cpu_partial_slabs(c.slab_size, c.objs_per_slab)
    fulls = [fill_slab(c) for _ in range(n + 1)]
    c.alloc()                                         # the CPU slab is another one
    slabs = [f[0].slab for f in fulls]
    pf = [s.pfn for s in slabs]
    for i in range(n):
        fulls[i][0].free()
        assert P(c.cpu_partial_slabs(0)) == pf[i::-1]
        assert S.slab_raw(m, slabs[i])["slabs"] == i + 1
    fulls[n][0].free()
    assert P(c.cpu_partial_slabs(0)) == [pf[n]]
    assert P(c.node_partial_slabs()) == pf[n - 1::-1]     # __put_partials() from the head
    assert c.partial == n
    for s in slabs[:n]:
        R = S.slab_raw(m, s)
        assert S.slab_flags(m, s).test(S.SL_PARTIAL) and s.on_node_partial
        assert R["flags"] >> K.pg_bits(m.bits)["workingset"] & 1
        assert (R["frozen"], R["inuse"]) == (0, s.objects - 1)
    # use up the CPU slab and the CPU partial slab (one free object each)
    while P(c.cpu_slab(0)) != pf[n]:
        c.alloc()
    assert P(c.cpu_partial_slabs(0)) == []
    # get_partial_node(): the first node slab becomes the CPU slab, and
    # cpu_partial_slabs / 2 + 1 more go to the CPU partial list
    got = c.alloc()
    assert P(got.slab) == pf[n - 1] == P(c.cpu_slab(0))
    moved = slabs[n - 2:n - 2 - (n // 2 + 1):-1]
    assert len(moved) == n // 2 + 1
    assert P(c.cpu_partial_slabs(0)) == P(moved[::-1])
    assert P(c.node_partial_slabs()) == pf[n - 2 - (n // 2 + 1)::-1]
    for s in moved + [slabs[n - 1]]:
        assert not S.slab_flags(m, s).test(S.SL_PARTIAL)
    assert S.slab_raw(m, slabs[n - 1])["frozen"] == 1
    m.check()


def test_shrink_puts_the_cpu_slab_on_the_node_list(machine):
    m = machine()
    c = m.kmem_cache_create("sh", 200)
    objs = [c.alloc() for _ in range(5)]
    s = objs[0].slab
    m.kmem_cache_shrink(c)
    assert c.cpu_slab(0) is None and P(c.node_partial_slabs()) == [s.pfn]
    R = S.slab_raw(m, s)
    assert (R["frozen"], R["inuse"]) == (0, 5)
    assert S.slab_flags(m, s).test(S.SL_PARTIAL)
    assert len(s.free_objects()) == s.objects - 5
    # the next allocation takes it back: frozen, off the node list, flag clear
    o = c.alloc()
    assert P(o.slab) == s.pfn == P(c.cpu_slab(0)) and c.node_partial_slabs() == []
    assert not S.slab_flags(m, s).test(S.SL_PARTIAL) and S.slab_raw(m, s)["frozen"] == 1
    m.check()


def test_tasks_on_different_cpus_use_different_cpu_slabs(machine):
    m = machine()
    c = m.kmem_cache_create("percpu", 128)
    A, B = m.task("A", cpu=0), m.task("B", cpu=1)
    a, b = c.alloc(task=A), c.alloc(task=B)
    assert P(a.slab) != P(b.slab)
    assert P(c.cpu_slab(0)) == P(a.slab) and P(c.cpu_slab(1)) == P(b.slab)
    assert a.slab.frozen and b.slab.frozen
    with A:                                       # the current task allocates on its CPU
        assert P(m.kmem_cache_alloc(c).slab) == P(a.slab)
    # a remote free into CPU 0's slab goes on the slab's own freelist (__slab_free:
    # inuse drops, the slab stays frozen); CPU 0 picks it up when its CPU freelist
    # runs dry (get_freelist: inuse = objects again)
    m.kmem_cache_free(c, a, task=B)
    R = S.slab_raw(m, a.slab)
    assert (R["freelist"], R["frozen"], R["inuse"]) == (a.address, 1, a.slab.objects - 1)
    m.check()
    assert P(c.cpu_slab(0)) == P(a.slab)
    got = [c.alloc(task=A) for _ in range(c.objs_per_slab - 2)]
    assert all(P(o.slab) == P(a.slab) for o in got) and a.address not in {o.address for o in got}
    assert c.alloc(task=A).address == a.address
    R = S.slab_raw(m, a.slab)
    assert (R["freelist"], R["frozen"], R["inuse"]) == (0, 1, a.slab.objects)
    m.check()


def test_slab_views_compare_by_address(machine):
    """Two views of the same struct slab are equal, like Page, Folio and KmemCache views."""
    m = machine()
    c = m.kmem_cache_create("eq", 64)
    o = c.alloc()
    assert o.slab == c.cpu_slab(0) == m.virt_to_slab(o.address + 3)
    assert hash(o.slab) == hash(c.cpu_slab(0)) and len({o.slab, c.cpu_slab(0)}) == 1
