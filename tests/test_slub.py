"""SLUB running on the model: kmem_cache_create, objects as bytes of modeled
RAM, struct slab overlaying the page, per-CPU and per-node slab lists,
kmalloc / large kmalloc, destroy / shrink, virt_to_slab, /proc/slabinfo,
constructors, refused misuse, and m.check() catching injected corruption.

Expectations come from 6.18 (tests/slabkit.py, /work/notes/slub-runtime-6.18.md)
and from raw struct page bytes at memcore.layout() offsets; the cache
geometry itself is covered by test_slub_sizing.py."""
from __future__ import annotations

import re

import pytest

from memcore import MemcoreError, OutOfMemory, UnknownChoice, VMBug, _variants

import kfacts as K
import slabkit as S
from conftest import only_bits


def all_slots(c, slab):
    """Every object address of a (non-debug) slab."""
    return {slab.memory + i * c.slab_size for i in range(slab.objects)}


def P(x):
    """Slab views as PFNs, for comparisons."""
    if x is None:
        return None
    if isinstance(x, list):
        return [s.pfn for s in x]
    return x.pfn


def fill_slab(c, task=None):
    """Allocate until the CPU slab changes: returns the objects of one full slab
    (the cache must have no partially used slab yet)."""
    first = c.alloc(task=task)
    objs = [first] + [c.alloc(task=task) for _ in range(c.objs_per_slab - 1)]
    assert {o.slab.pfn for o in objs} == {first.slab.pfn}
    return objs


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
    assert len(set(caches)) == 4 and len({c.address for c in caches}) == 4
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
    assert R["slab_cache"] == c.address and s.slab_cache == c
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
            assert t.is_tail and t.type_name is None
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
    assert s.address == p.address == K.page_address(m, pfn)
    assert K.page_field(m, pfn, "page_type") >> 24 == S.PGTY_SLAB
    assert K.page_field(m, pfn, "page_type") == K.struct_field(m, "slab", s.address,
                                                               "__page_type")
    assert K.page_field(m, pfn, "_refcount") == 0
    assert S.slab_raw(m, s)["flags"] == K.flags_word(m, pfn) == p.flags.word
    assert not p.flags.test(S.SL_PARTIAL)
    if nr > 1:
        assert K.folio_field(m, pfn, "_flags_1") & 0xff == c.order
        head = K.page_address(m, pfn)
        for i in range(1, nr):
            assert K.page_field(m, pfn + i, "compound_head") == head + 1
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
    m = machine()
    c = m.kmem_cache_create("dbg", 40, flags=("SLAB_POISON", "SLAB_RED_ZONE"))
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
    c = m.kmem_cache_create("dbg", 40, flags=("SLAB_POISON", "SLAB_RED_ZONE"))
    o = c.alloc()
    m.write(o.address + 40, b"X")
    with pytest.raises(MemcoreError) as ei:
        o.free()
    assert f"{o.address + 40:#x}-{o.address + 40:#x}" in str(ei.value)


# ---- kmalloc ------------------------------------------------------------------------------

def test_kmalloc_size_classes(machine):
    m = machine()
    for size in range(1, S.KMALLOC_MAX_CACHE_SIZE + 1):
        o = m.kmalloc(size)
        assert o.kmem_cache.name == S.kmalloc_name(size), size
        assert o.size == size
        if size % 97 == 1 or size in (8, 96, 97, 192, 193, 8192):
            assert m.virt_to_cache(o.address + size - 1).name == S.kmalloc_name(size)
            assert m.kmem_cache(S.kmalloc_name(size)).object_size == S.kmalloc_class(size)
        m.kfree(o)
    m.check()


def test_kmalloc_zero_and_null(machine):
    m = machine()
    assert m.kmalloc(0) == S.ZERO_SIZE_PTR
    before = S.snapshot(m)
    for p in (0, None, S.ZERO_SIZE_PTR, 1, 8):          # ZERO_OR_NULL_PTR(): <= 16
        m.kfree(p)
    assert S.snapshot(m) == before
    m.check()


LARGE_KMALLOC_SIZES = [8193, 16384, 16385, 100000, 4 << 20]


@pytest.mark.parametrize("size", LARGE_KMALLOC_SIZES)
def test_large_kmalloc(machine, size):
    m = machine()
    bits = m.bits
    m.drain_pcp()
    w0, st0 = m.walk(), m.stats()
    order = S.get_order(size)
    nr = 1 << order
    o = m.kmalloc(size)
    pfn = (o.address - K.PAGE_OFFSET[bits]) >> K.PAGE_SHIFT
    assert o.kmem_cache is None and o.size == size
    assert m.virt_to_slab(o.address) is None and m.virt_to_cache(o.address) is None
    assert o.address == K.PAGE_OFFSET[bits] + pfn * K.PAGE_SIZE and pfn % nr == 0
    p = m.page(pfn)
    assert p.type_name == "large_kmalloc"
    assert p.refcount == 0                                # frozen pages
    if nr > 1:
        assert p.is_head
        for i in (1, nr // 2, nr - 1):
            assert m.page(pfn + i).is_tail
    w1, st1 = m.walk(), m.stats()
    assert w1["large_kmalloc"] == w0["large_kmalloc"] + nr
    assert st1["large_kmalloc_pages"] == st0["large_kmalloc_pages"] + nr
    # pcp refills may move more blocks off the buddy lists, but only these pages left
    assert (w1["free_buddy"] + w1["refcount_zero"]
            == w0["free_buddy"] + w0["refcount_zero"] - nr)
    o.write(size - 4, b"tail")
    assert m.read(o.address + size - 4, 4) == b"tail" and o.read(size - 4) == b"tail"
    # a kfree inside the allocation is refused
    before = S.snapshot(m)
    with pytest.raises(MemcoreError):
        m.kfree(o.address + K.PAGE_SIZE if nr > 1 else o.address + 8)
    assert S.snapshot(m) == before
    m.kfree(o)
    assert m.page(pfn).type_name != "large_kmalloc"
    m.drain_pcp()
    assert m.walk() == w0
    assert m.stats()["large_kmalloc_pages"] == st0["large_kmalloc_pages"]
    m.check()


@pytest.mark.classic_overlay
@pytest.mark.parametrize("size", LARGE_KMALLOC_SIZES)
def test_large_kmalloc_struct_pages(machine, size):
    """A large kmalloc is a frozen compound page typed in its head's struct page:
    PGTY_large_kmalloc in page_type's top byte, _refcount 0, the order in _flags_1,
    compound_head in the tails."""
    m = machine()
    order = S.get_order(size)
    nr = 1 << order
    o = m.kmalloc(size)
    pfn = (o.address - K.PAGE_OFFSET[m.bits]) >> K.PAGE_SHIFT
    assert K.page_field(m, pfn, "page_type") >> 24 == S.PGTY_LARGE_KMALLOC
    assert K.page_field(m, pfn, "_refcount") == 0
    if nr > 1:
        assert K.folio_field(m, pfn, "_flags_1") & 0xff == order
        head = K.page_address(m, pfn)
        for i in (1, nr // 2, nr - 1):
            assert K.page_field(m, pfn + i, "compound_head") == head + 1
    m.kfree(o)
    m.check()


def test_kmalloc_above_kmalloc_max_size(machine):
    m = machine()
    before = S.snapshot(m)
    with pytest.raises(OutOfMemory):
        m.kmalloc((4 << 20) + 1)
    assert S.snapshot(m) == before
    m.check()


@pytest.mark.parametrize("gfp,kind", [
    ("__GFP_DMA", "dma"),
    ("__GFP_RECLAIMABLE", "reclaim"),
    ("__GFP_ACCOUNT", "cgroup"),
    ("GFP_KERNEL|__GFP_ACCOUNT", "cgroup"),
    ("__GFP_RECLAIMABLE|__GFP_ACCOUNT", "reclaim"),     # kmalloc_type(): DMA, RECLAIM, CGROUP
    ("__GFP_DMA|__GFP_RECLAIMABLE|__GFP_ACCOUNT", "dma"),
    ("GFP_KERNEL", "normal"),
])
def test_kmalloc_gfp_picks_the_family(machine, gfp, kind):
    m = machine()
    for size in (1, 8, 96, 150, 192, 1000, 8192):
        o = m.kmalloc(size, gfp=gfp)
        assert o.kmem_cache.name == S.kmalloc_name(size, kind)
        zone = m.page(o.slab.pfn).zone
        if kind == "dma":
            assert zone == "DMA"
        else:
            assert zone != "DMA"
        if kind == "reclaim":
            assert m.page(o.slab.pfn).migratetype == "Reclaimable"
    m.check()


@pytest.mark.parametrize("gfp", ["__GFP_DMA", "__GFP_MOVABLE", "GFP_HIGHUSER_MOVABLE"])
def test_slab_pages_ignore_the_callers_zone_and_mobility(machine, gfp):
    m = machine()
    c = m.kmem_cache_create("plain", 64)
    o = m.kmem_cache_alloc(c, gfp=gfp)
    assert m.page(o.slab.pfn).zone != "DMA"
    assert m.page(o.slab.pfn).migratetype == "Unmovable"
    m.check()


HIGHMEM_SCRIPT = r"""
import sys
import memcore
m = memcore.Machine("1GiB", design=sys.argv[1], bits=32)
c = m.kmem_cache_create("plain", 64)
objs = [m.kmem_cache_alloc(c, gfp="GFP_HIGHUSER_MOVABLE") for _ in range(200)]
objs += [m.kmalloc(5000, gfp="__GFP_ACCOUNT|__GFP_HIGHMEM") for _ in range(20)]
for o in objs:
    pfn = (o.address - m.page_offset) >> 12
    assert pfn < m.nr_pfns and m.page(pfn).zone != "HighMem", hex(o.address)
    assert m.virt_to_slab(o.address) is not None
    o.write(0, b"ok")
    assert o.read(0, 2) == b"ok"
for o in objs:
    o.free()
m.check()
print("OK")
"""


@only_bits(32)
def test_no_highmem_slabs_i386(variant):
    """Many HighMem-flagged allocations on i386, in a subprocess so that a
    regression (slabs in HighMem overrun the lowmem-sized shadow and object
    bitmap) shows as a failed test, not a dead test run."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", HIGHMEM_SCRIPT, variant[0]], capture_output=True, text=True,
                       timeout=120, cwd=str(K.DATA.parent))
    assert r.returncode == 0 and r.stdout.strip() == "OK", (r.returncode, r.stderr[-2000:])


def test_gfp_zero(machine):
    m = machine()
    c = m.kmem_cache_create("z", 64)
    o = c.alloc()
    o.write(0, b"\xff" * 64)
    o.free()
    o2 = m.kmem_cache_alloc(c, gfp="GFP_KERNEL|__GFP_ZERO")
    assert o2.address == o.address and o2.read() == bytes(64)
    k = m.kmalloc(128)
    k.write(0, b"\xee" * 128)
    m.kfree(k)
    k2 = m.kmalloc(128, gfp="__GFP_ZERO")
    assert k2.address == k.address and m.read(k2.address, 128) == bytes(128)
    big = m.kmalloc(3 * K.PAGE_SIZE)                    # order 2
    big.write(0, b"\xdd" * (4 * K.PAGE_SIZE))
    m.kfree(big)
    big2 = m.kmalloc(9000, gfp="__GFP_ZERO")
    # the page allocator clears the whole block
    assert m.read(big2.address, 4 * K.PAGE_SIZE) == bytes(4 * K.PAGE_SIZE)
    m.check()


def test_gfp_zero_clears_the_whole_kmalloc_object(machine):
    """slab_post_alloc_hook() clears zero_size = s->object_size (orig_size only for
    STORE_USER/RED_ZONE kmalloc debug caches): kzalloc(13) zeroes all 16 bytes (ksize)."""
    m = machine()
    k = m.kmalloc(16)
    k.write(0, b"\xff" * 16)
    m.kfree(k)                            # the free pointer lands in bytes 8..15 (64-bit)
    k2 = m.kmalloc(13, gfp="__GFP_ZERO")
    assert k2.address == k.address
    assert m.read(k2.address, 16) == bytes(16)


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


# ---- lookups, slabinfo, counters ----------------------------------------------------------------

def test_virt_to_slab_and_cache_from_inside_objects(machine):
    m = machine()
    c = m.kmem_cache_create("v2s", 100)
    o = c.alloc()
    for off in (0, 1, 50, 99, c.slab_size - 1):
        assert P(m.virt_to_slab(o.address + off)) == P(o.slab)
        assert m.virt_to_cache(o.address + off) == c
    assert m.virt_to_cache(o) == c
    k = m.kmalloc(700)
    assert m.virt_to_cache(k.address + 699).name == "kmalloc-1k"
    big = m.kmem_cache("kmalloc-8k").alloc()
    last = big.slab.memory + (K.PAGE_SIZE << big.slab.order) - 1
    assert P(m.virt_to_slab(last)) == P(big.slab)
    f = m.alloc_folio(order=1)
    assert m.virt_to_slab(mem(m, f) + 100) is None and m.virt_to_cache(mem(m, f)) is None
    large = m.kmalloc(20000)
    assert m.virt_to_slab(large.address + 5) is None
    m.check()


HEADER = ["slabinfo - version: 2.1",
          "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
          " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs>"
          " <num_slabs> <sharedavail>"]


def slabinfo_rows(m):
    lines = m.slabinfo().splitlines()
    assert lines[:2] == HEADER
    rows = {}
    order = []
    for line in lines[2:]:
        name = line.split()[0]
        mt = re.fullmatch(r"(\S+)\s+(\d+) +(\d+) +(\d+) +(\d+) +(\d+) : tunables +0 +0 +0 : "
                          r"slabdata +(\d+) +(\d+) +0", line)
        assert mt, line
        rows[name] = tuple(int(x) for x in mt.groups()[1:])
        order.append(name)
        # seq_printf(m, "%-17s %6lu %6lu %6u %4u %4d", ...) and the two suffixes
        a, n, sz, per, pages, act, num = rows[name]
        assert line == ("%-17s %6d %6d %6d %4d %4d" % (name, a, n, sz, per, pages)
                        + " : tunables %4d %4d %4d" % (0, 0, 0)
                        + " : slabdata %6d %6d %6d" % (act, num, 0))
    return order, rows


def test_slabinfo(machine):
    m = machine()
    a = m.kmem_cache_create("info-a", 200)
    b = m.kmem_cache_create("info-b-with-a-long-name", 3000)
    objs = [a.alloc() for _ in range(3)]
    b.alloc()
    order, rows = slabinfo_rows(m)
    assert order == [c.name for c in m.caches()]
    assert order[:2] == ["info-b-with-a-long-name", "info-a"]     # newest first
    assert len(order) == len(set(order))
    for c in m.caches():
        assert rows[c.name] == (c.objects, c.total_objects, c.slab_size, c.objs_per_slab,
                                1 << c.order, c.slabs, c.slabs)
    # free objects of a CPU slab count as active; those of node partial slabs do not
    per = a.objs_per_slab
    assert rows["info-a"] == (per, per, 200, per, 1, 1, 1)
    m.kmem_cache_shrink(a)
    assert slabinfo_rows(m)[1]["info-a"] == (3, per, 200, per, 1, 1, 1)
    for o in objs:
        o.free()
    m.kmem_cache_shrink(a)
    assert slabinfo_rows(m)[1]["info-a"] == (0, 0, 200, per, 1, 0, 0)
    m.check()


def test_objects_counts_cpu_held_free_objects_as_in_use(machine):
    """sysfs 'objects' = total_objects - free objects on node partial slabs."""
    m = machine()
    c = m.kmem_cache_create("objs", 200)
    per = c.objs_per_slab
    full = fill_slab(c)
    cur = c.alloc()
    full[0].free()                            # a CPU partial slab with one free object
    assert c.slabs == 2 and c.total_objects == 2 * per
    assert c.objects == 2 * per and c.objects_inuse == per
    m.kmem_cache_shrink(c)                     # both go to the node list
    assert c.objects == per and c.objects_inuse == per
    assert c.partial == 2
    cur.free()
    m.check()


def test_stats_count_slab_pages(machine):
    m = machine()
    st = m.stats()
    assert st["slab_pages"] == m.walk()["slab"] == S.slab_page_count(m)
    small = m.kmem_cache_create("s-small", 64)
    big = m.kmem_cache_create("s-big", 3000)
    keep = [small.alloc() for _ in range(100)] + [big.alloc() for _ in range(30)]
    keep += [m.kmalloc(n) for n in (10, 100, 1000, 5000)]
    st = m.stats()
    assert st["slab_pages"] == m.walk()["slab"] == S.slab_page_count(m)
    assert small.slabs == -(-100 // small.objs_per_slab)
    assert big.slabs == -(-30 // big.objs_per_slab)
    m.check()


def test_stats_per_cache(machine):
    """m.stats()["slab_caches"]: slab pages and bytes per cache."""
    m = machine()
    c = m.kmem_cache_create("per-cache", 3000)
    objs = [c.alloc() for _ in range(c.objs_per_slab + 1)]
    k = m.kmalloc(100)
    per = m.stats()["slab_caches"]
    assert set(per) == {x.name for x in m.caches()}
    e = per["per-cache"]
    pages = 2 << c.order
    assert (e["slabs"], e["pages"], e["bytes"]) == (2, pages, pages * K.PAGE_SIZE)
    assert e["objects_inuse"] == len(objs) and e["object_bytes"] == 3000 * len(objs)
    assert e["total_objects"] == 2 * c.objs_per_slab == e["objects"]
    km = per["kmalloc-128"]
    assert km["objects_inuse"] >= 1
    assert km["pages"] == km["slabs"] << m.kmem_cache("kmalloc-128").order
    assert sum(x["pages"] for x in per.values()) == m.stats()["slab_pages"]
    del k
    m.check()


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


# ---- misuse is refused and changes nothing ------------------------------------------------------

def mem(m, folio):
    """The direct-map address of a folio's memory (Folio.address is its struct page)."""
    return K.PAGE_OFFSET[m.bits] + folio.pfn * K.PAGE_SIZE


def misuse_setup(machine, **kw):
    m = machine(**kw)
    c = m.kmem_cache_create("mis-c", 64)
    d = m.kmem_cache_create("mis-d", 64)
    objs = [c.alloc() for _ in range(10)]
    k = m.kmalloc(64)
    f = m.alloc_folio(order=1)
    return m, c, d, objs, k, f


def _free_twice(m, c, objs):
    objs[0].free()
    return lambda: objs[0].free()


def _free_twice_not_cpu_slab(m, c, objs):
    extra = []                    # objs fill part of slab 1; make the next slab current
    while P(c.cpu_slab(0)) == P(objs[0].slab):
        extra.append(c.alloc())
    objs[0].free()                # slab 1 goes to the CPU partial list, freelist head objs[0]
    return lambda: m.kmem_cache_free(c, objs[0])


MISUSE = {
    "wrong-cache": lambda m, c, d, objs, k, f: (lambda: m.kmem_cache_free(d, objs[0])),
    "wrong-cache-kmalloc": lambda m, c, d, objs, k, f: (lambda: m.kmem_cache_free(c, k)),
    "inside-object": lambda m, c, d, objs, k, f: (
        lambda: m.kmem_cache_free(c, objs[1].address + 8)),
    "kfree-inside-object": lambda m, c, d, objs, k, f: (lambda: m.kfree(k.address + 1)),
    "non-slab-address": lambda m, c, d, objs, k, f: (lambda: m.kmem_cache_free(c, mem(m, f))),
    "kfree-folio": lambda m, c, d, objs, k, f: (lambda: m.kfree(mem(m, f))),
    "kfree-folio-tail": lambda m, c, d, objs, k, f: (lambda: m.kfree(mem(m, f) + K.PAGE_SIZE)),
    "kfree-struct-page": lambda m, c, d, objs, k, f: (lambda: m.kfree(f.address)),
    "kfree-not-direct-map": lambda m, c, d, objs, k, f: (lambda: m.kfree(0x1000)),
    "double-free": lambda m, c, d, objs, k, f: _free_twice(m, c, objs),
    "double-free-kfree": lambda m, c, d, objs, k, f: (m.kfree(k), lambda: m.kfree(k))[1],
    "double-free-not-cpu-slab": lambda m, c, d, objs, k, f: _free_twice_not_cpu_slab(m, c, objs),
}


@pytest.mark.parametrize("case", sorted(MISUSE))
def test_misuse_is_refused_and_changes_nothing(machine, case):
    m, c, d, objs, k, f = misuse_setup(machine)
    bad = MISUSE[case](m, c, d, objs, k, f)
    kc = m.kmem_cache("kmalloc-64")
    before = S.snapshot(m, c, d, kc)
    with pytest.raises(MemcoreError):
        bad()
    assert S.snapshot(m, c, d, kc) == before
    assert f.refcount == 1 and m.page(f.pfn).type_name is None
    m.check()
    # the machine keeps working
    o = c.alloc()
    o.free()
    m.check()


@pytest.mark.parametrize("case", ["double-free", "double-free-not-cpu-slab", "inside-object",
                                  "wrong-cache", "non-slab-address", "kfree-folio"])
def test_refused_frees_are_vmbugs(machine, case):
    """A double or invalid free is a kernel BUG(), i.e. a VMBug."""
    m, c, d, objs, k, f = misuse_setup(machine)
    bad = MISUSE[case](m, c, d, objs, k, f)
    with pytest.raises(VMBug):
        bad()


@pytest.mark.parametrize("where", ["cpu-slab", "cpu-partial-slab"])
def test_double_free_after_other_frees_is_refused(machine, where):
    """free(a), free(b), free(a): the kernel without debugging would link a twice;
    the model promises to refuse every double free and change nothing."""
    m, c, d, objs, k, f = misuse_setup(machine)
    if where == "cpu-partial-slab":
        extra = []
        while P(c.cpu_slab(0)) == P(objs[0].slab):
            extra.append(c.alloc())
        assert P(c.cpu_slab(0)) != P(objs[0].slab)
    objs[0].free()
    objs[1].free()
    objs[2].free()
    before = S.snapshot(m, c)
    with pytest.raises(MemcoreError):
        objs[0].free()
    assert S.snapshot(m, c) == before
    m.check()


# ---- check() catches corruption injected through memory writes ----------------------------------

def test_check_catches_a_corrupt_cpu_freelist(machine):
    m = machine()
    c = m.kmem_cache_create("corrupt", 64)
    objs = [c.alloc() for _ in range(6)]
    objs[2].free()
    objs[4].free()                     # CPU freelist: objs[4] -> objs[2] -> rest of the slab
    slot = objs[2].address + c.offset
    good = m.read(slot, m.bits // 8)
    m.write(slot, b"\x41" * len(good))
    with pytest.raises(VMBug, match="freelist"):
        m.check()
    m.write(slot, good)
    m.check()


def test_check_catches_a_corrupt_slab_freelist(machine):
    m = machine()
    c = m.kmem_cache_create("corrupt", 64)
    objs = [c.alloc() for _ in range(6)]
    m.kmem_cache_shrink(c)
    (slab,) = c.node_partial_slabs()
    victim = slab.free_objects()[3]
    slot = victim + c.offset
    good = m.read(slot, m.bits // 8)
    # point the free pointer at the victim itself (a loop), encoded or not
    m.write(slot, bytes(len(good)))
    with pytest.raises(VMBug, match="freelist"):
        m.check()
    m.write(slot, good)
    m.check()
    del objs


def test_check_catches_wrong_inuse_and_lost_sl_partial(machine):
    m = machine()
    bits = m.bits
    c = m.kmem_cache_create("corrupt", 64)
    objs = [c.alloc() for _ in range(6)]
    m.kmem_cache_shrink(c)
    (slab,) = c.node_partial_slabs()
    lay = K.layout(m, "slab")
    base = slab.address
    counters = base + lay["counters"].offset
    good = S.slab_raw(m, slab)["counters"]
    K.poke_word(m, counters, good - 1)               # inuse 5 instead of 6
    with pytest.raises(VMBug, match="inuse"):
        m.check()
    K.poke_word(m, counters, good)
    m.check()
    flags = base + lay["flags"].offset
    fw = S.slab_raw(m, slab)["flags"]
    K.poke_word(m, flags, fw & ~(1 << K.pg_bits(bits)["workingset"]))
    with pytest.raises(VMBug, match="SL_partial"):
        m.check()
    K.poke_word(m, flags, fw)
    m.check()
    del objs
