"""Property test: random mixes of slab operations (caches of several sizes and
flags, TYPESAFE_BY_RCU and SLAB_POISON|SLAB_RED_ZONE debug caches, alloc/free
by two tasks on two CPUs, kmalloc/kfree with large sizes, kfree_rcu, RCU read
sections and grace periods, shrink, destroy) and page operations (folios of
orders 0..4, pcp drains), with m.check() after every step and a Python model
of every live object and its contents."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, invariant, precondition, rule)

import memcore
import memcore.errors

import slabkit as S
from conftest import examples, state_machine_tests

SIZES = st.sampled_from([8, 24, 64, 100, 200, 512, 1000, 3000])
FLAGS = st.sampled_from([(), ("SLAB_HWCACHE_ALIGN",), ("SLAB_TYPESAFE_BY_RCU",),
                         ("SLAB_TYPESAFE_BY_RCU", "SLAB_HWCACHE_ALIGN"),
                         ("SLAB_POISON", "SLAB_RED_ZONE"), ("SLAB_RECLAIM_ACCOUNT",)])
CTOR = st.booleans()
KSIZES = st.sampled_from([1, 13, 64, 96, 150, 192, 700, 4096, 8192, 8193, 20000, 70000])
GFPS = st.sampled_from([("GFP_KERNEL", "normal"), ("__GFP_DMA", "dma"),
                        ("__GFP_RECLAIMABLE", "reclaim"), ("__GFP_ACCOUNT", "cgroup"),
                        ("GFP_KERNEL|__GFP_ZERO", "normal")])
PICK = st.integers(0, 10 ** 6)
TASK = st.integers(0, 1)


@dataclass
class Obj:
    obj: object
    addr: int
    size: int
    cache: str | None          # None: large kmalloc
    pattern: bytes
    pages: int = 0             # large kmalloc: pages of the allocation


class SlabRules(RuleBasedStateMachine):
    DESIGN = "classic"
    BITS = 64
    RAM = "64MiB"
    KASAN = False
    NODES = 1

    def __init__(self):
        super().__init__()
        m = self.m = memcore.Machine(ram=self.RAM, design=self.DESIGN, bits=self.BITS, cpus=2,
                                     kasan=self.KASAN, nodes=self.NODES)
        self.tasks = [m.task("T0", cpu=0), m.task("T1", cpu=1)]
        self.caches = []                       # created KmemCaches
        self.live: dict[int, Obj] = {}         # address -> object (incl. kfree_rcu pending)
        self.rcu_pending: dict[int, int] = {}  # kfree_rcu'd: address -> gp_seq that frees it
        self.folios = []
        # S8 (designs with descriptor caches): pages a folio slab lends as folios
        self.s8 = bool(m._descriptor_cache_names())
        self.folio_slab = None
        self.lent = []
        self.serial = 0
        S.shrink_all(m)
        self.walk0 = m.walk()
        self.base = {}
        self.rebase()

    # ---- bookkeeping ----
    def mine(self, name):
        lent = len(self.lent) if name == "s8" else 0     # S8: the folio slab's objects
        return sum(1 for o in self.live.values() if o.cache == name) + lent

    def settle(self):
        """kfree_rcu'd objects whose grace period is over are freed."""
        m = self.m
        for a, target in list(self.rcu_pending.items()):
            if m.rcu.gp_seq >= target:
                del self.rcu_pending[a]
                o = self.live.pop(a)
                if o.cache is None:
                    assert m.page((a - m.page_offset) // S.PAGE_SIZE).type_name \
                        != "large_kmalloc"

    def rebase(self):
        """Objects of each cache that are not the test's (boot objects, random_seq
        arrays kmalloc'd by kmem_cache_create)."""
        self.settle()
        self.base = {c.name: c.objects_inuse - self.mine(c.name) for c in self.m.caches()}

    def pick(self, i, pred=lambda o: True):
        cands = [a for a, o in sorted(self.live.items()) if a not in self.rcu_pending and pred(o)]
        return self.live[cands[i % len(cands)]] if cands else None

    def new_object(self, obj, size, cache, pages=0):
        a = obj.address
        for o in self.live.values():
            assert a + size <= o.addr or o.addr + o.size <= a, "overlaps a live object"
        self.serial += 1
        pat = (self.serial.to_bytes(4, "little") * (size // 4 + 1))[:size]
        obj.write(0, pat)
        self.live[a] = Obj(obj, a, size, cache, pat, pages)

    def verify(self, o):
        assert o.obj.read(0, o.size) == o.pattern, f"object {o.addr:#x} changed"

    def freed(self, o):
        """Right after a free, KASAN reports an access unless the cache is
        SLAB_TYPESAFE_BY_RCU (whose memory stays valid until a grace period)."""
        if not self.KASAN:
            return
        typesafe = o.cache is not None and self.m.kmem_cache(o.cache).destroy_by_rcu
        if typesafe:
            self.m.read(o.addr, 1)
            return
        with pytest.raises(memcore.errors.KASANReport) as ei:
            self.m.read(o.addr, 1)
        assert ei.value.bug_type in ("slab-use-after-free", "use-after-free")

    # ---- caches ----
    @precondition(lambda self: len(self.caches) < 3)
    @rule(size=SIZES, flags=FLAGS, ctor=CTOR)
    def create(self, size, flags, ctor):
        fn = (lambda o: o.write(0, b"\xc7" * o.size)) if ctor else None
        c = self.m.kmem_cache_create(f"p{self.serial}-{len(self.caches)}", size, flags=flags,
                                     ctor=fn)
        self.serial += 1
        assert set(c.flags) == set(flags) and c.object_size == size and c.ctor is fn
        self.caches.append(c)
        self.rebase()

    @precondition(lambda self: self.caches)
    @rule(i=PICK, t=TASK, n=st.integers(1, 40), node=st.integers(-1, 1))
    def cache_alloc(self, i, t, n, node):
        c = self.caches[i % len(self.caches)]
        nid = node if 0 <= node < self.NODES else None
        for _ in range(n):
            o = self.m.kmem_cache_alloc(c, task=self.tasks[t], node=nid)
            assert o.kmem_cache == c and self.m.virt_to_cache(o.address) == c
            if nid is not None:
                assert self.m.page(o.slab.pfn).node == nid
            self.new_object(o, c.object_size, c.name)

    @precondition(lambda self: self.caches)
    @rule(i=PICK, t=TASK, n=st.integers(1, 40))
    def cache_free(self, i, t, n):
        names = {c.name for c in self.caches}
        for k in range(n):
            o = self.pick(i + k * 7919, lambda o: o.cache in names)
            if o is None:
                return
            self.verify(o)
            self.m.kmem_cache_free(self.m.kmem_cache(o.cache), o.obj, task=self.tasks[t])
            del self.live[o.addr]
            self.freed(o)

    @precondition(lambda self: self.caches)
    @rule(i=PICK)
    def shrink(self, i):
        self.m.kmem_cache_shrink(self.caches[i % len(self.caches)])

    @precondition(lambda self: self.caches and not any(t.rcu_nesting for t in self.tasks))
    @rule(i=PICK)
    def destroy(self, i):
        c = self.caches[i % len(self.caches)]
        # objects that stay in use after every pending kfree_rcu(): refused before
        # kvfree_rcu_barrier(), changing nothing (docs: "Decisions and deviations")
        queued_here = sum(1 for a in self.rcu_pending if self.live[a].cache == c.name)
        if self.mine(c.name) - queued_here:
            pending, gp = dict(self.rcu_pending), self.m.rcu.gp_seq
            with pytest.raises(memcore.VMBug):
                self.m.kmem_cache_destroy(c)
            assert self.m.rcu.gp_seq == gp
            self.settle()
            assert self.rcu_pending == pending
            return
        # otherwise kvfree_rcu_barrier() first: every pending kfree_rcu() completes
        # (no reader holds a grace period back here)
        waiting = self.m.rcu.slabs_waiting
        self.m.kmem_cache_destroy(c)
        self.settle()
        assert not self.rcu_pending
        assert self.m.rcu.slabs_waiting <= waiting
        self.caches.remove(c)
        self.rebase()

    # ---- kmalloc ----
    @rule(size=KSIZES, gfp=GFPS, t=TASK)
    def kmalloc(self, size, gfp, t):
        o = self.m.kmalloc(size, gfp=gfp[0], task=self.tasks[t])
        if "ZERO" in gfp[0]:
            assert o.read(0, size) == bytes(size)
        if size <= S.KMALLOC_MAX_CACHE_SIZE:
            assert o.kmem_cache.name == S.kmalloc_name(size, gfp[1])
            self.new_object(o, size, o.kmem_cache.name)
            room = o.kmem_cache.object_size
        else:
            assert o.kmem_cache is None and self.m.virt_to_slab(o.address) is None
            self.new_object(o, size, None, 1 << S.get_order(size))
            room = S.PAGE_SIZE << S.get_order(size)
        if self.KASAN and size < room:              # the byte after the request
            with pytest.raises(memcore.errors.KASANReport) as ei:
                o.read(size, 1)
            # get_shadow_bug_type(): a partial granule defers to the next shadow byte,
            # which is the redzone only if the object extends past it (else it is the
            # next object's or the next page's: any bug type)
            if (size + 7) // 8 * 8 < room:
                assert ei.value.bug_type == "slab-out-of-bounds"

    @rule(i=PICK, t=TASK)
    def kfree(self, i, t):
        o = self.pick(i)                  # kfree() takes kmem_cache objects too (6.18)
        if o is None:
            return
        self.verify(o)
        self.m.kfree(o.obj, task=self.tasks[t])
        del self.live[o.addr]
        self.freed(o)

    @rule(i=PICK)
    def kfree_rcu(self, i):
        o = self.pick(i)
        if o is None:
            return
        self.verify(o)
        rcu = self.m.rcu
        # queued during a GP: the next one frees it; else the GP it starts now
        target = rcu.gp_seq + (2 if rcu.gp_in_progress else 1)
        self.m.kfree_rcu(o.obj)
        self.rcu_pending[o.addr] = target

    # ---- RCU ----
    @precondition(lambda self: any(t.rcu_nesting < 3 for t in self.tasks))
    @rule(t=TASK)
    def rcu_lock(self, t):
        task = self.tasks[t]
        if task.rcu_nesting < 3:
            self.m.rcu_read_lock(task)

    @precondition(lambda self: any(t.rcu_nesting for t in self.tasks))
    @rule(t=TASK)
    def rcu_unlock(self, t):
        task = self.tasks[t] if self.tasks[t].rcu_nesting else self.tasks[1 - t]
        self.m.rcu_read_unlock(task)

    @rule()
    def advance(self):
        self.m.rcu.advance()

    # ---- pages ----
    @precondition(lambda self: len(self.folios) < 12)
    @rule(order=st.integers(0, 4), t=TASK)
    def alloc_folio(self, order, t):
        self.folios.append(self.m.alloc_folio(order=order, task=self.tasks[t]))

    @precondition(lambda self: self.folios)
    @rule(i=PICK)
    def put_folio(self, i):
        assert self.folios.pop(i % len(self.folios)).put()

    @rule()
    def drain(self):
        self.m.drain_pcp()

    # ---- S8: a slab lends pages to the page cache (the memdesc designs) ----
    @precondition(lambda self: self.s8 and len(self.lent) < 20)
    @rule(t=TASK)
    def lend(self, t):
        if self.folio_slab is None:
            self.folio_slab = self.m.folio_slab_create("s8", order=3)
            self.rebase()
        f = self.folio_slab.alloc_folio(task=self.tasks[t])
        assert f.order == 0 and f.refcount == 1
        assert self.m.page(f.pfn).memdesc.type == "file"
        assert f.backing_slab.slab_cache == self.folio_slab.cache
        self.lent.append(f)

    @precondition(lambda self: self.lent)
    @rule(i=PICK)
    def unlend(self, i):
        f = self.lent.pop(i % len(self.lent))
        pfn = f.pfn
        assert f.put()
        assert self.m.page(pfn).memdesc.type in ("slab", "buddy")   # buddy: the slab went back

    # ---- the machine agrees with the model ----
    @invariant()
    def consistent(self):
        m = self.m
        m.check()
        self.settle()
        for o in self.live.values():
            self.verify(o)
        descriptors = set(m._descriptor_cache_names())
        for c in m.caches():
            if c.name not in descriptors:
                assert c.objects_inuse == self.base.get(c.name, 0) + self.mine(c.name), c.name
        # the memdesc designs: one folio descriptor per folio, in the cache of its
        # size (slab descriptors come and go with slabs; check() ties them to pages)
        if descriptors:
            inuse = {c.name: c.objects_inuse for c in m.caches()}
            assert inuse["folio_small"] == sum(1 for f in self.folios if f.order == 0) + \
                len(self.lent)
            assert inuse["folio_large"] == sum(1 for f in self.folios if f.order > 0)
        st_ = m.stats()
        large = sum(o.pages for o in self.live.values() if o.cache is None)
        assert st_["large_kmalloc_pages"] == large == m.walk()["large_kmalloc"]
        walk = m.walk()
        # a page a slab lent is a folio page of a slab that still holds it
        assert walk["folio"] == sum(f.nr_pages for f in self.folios) + len(self.lent)
        slab_pages = walk["slab"] + len(self.lent)
        assert st_["slab_pages"] == slab_pages
        assert sum(e["pages"] for e in st_["slab_caches"].values()) == slab_pages
        counted = S.slab_page_count(m)
        assert counted <= slab_pages
        if m.rcu.slabs_waiting == 0:
            assert counted == slab_pages
        for t, task in enumerate(self.tasks):
            assert not task.waiting

    def teardown(self):
        m = self.m
        for t in self.tasks:
            while t.rcu_nesting:
                m.rcu_read_unlock(t)
        assert m.rcu.barrier()
        self.consistent()
        for o in list(self.live.values()):
            self.verify(o)
            m.kfree(o.obj)
            del self.live[o.addr]
        for c in self.caches:
            m.kmem_cache_destroy(c)
        for f in self.folios:
            assert f.put()
        for f in self.lent:
            assert f.put()
        self.lent = []
        if self.folio_slab is not None:
            m.kmem_cache_destroy(self.folio_slab.cache)
        assert m.rcu.barrier() and m.rcu.slabs_waiting == 0
        S.shrink_all(m)
        m.check()
        assert m.walk() == self.walk0


SETTINGS = settings(max_examples=examples(40), stateful_step_count=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


state_machine_tests(globals(), "TestSlab", SlabRules, SETTINGS)
# KASAN and two nodes on the 64-bit variants (i386 has no NUMA: NODES_SHIFT 0)
state_machine_tests(globals(), "TestSlabKasan", SlabRules,
                    settings(SETTINGS, max_examples=examples(20)), bits=64, KASAN=True)
state_machine_tests(globals(), "TestSlabTwoNodes", SlabRules,
                    settings(SETTINGS, max_examples=examples(20)), bits=64,
                    RAM="256MiB", NODES=2)       # a 128 MiB memory section per node
# RAM with holes, one of them a whole memory section without a memmap (128-256 MiB)
state_machine_tests(globals(), "TestSlabHoles", SlabRules,
                    settings(SETTINGS, max_examples=examples(10)), bits=64,
                    RAM=[(0x1000, 0x9fc00), (0x100000, 100 << 20), (256 << 20, 300 << 20)])
