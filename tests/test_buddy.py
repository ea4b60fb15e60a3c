"""The buddy allocator and the per-CPU page lists, against Linux 6.18's rules:
split and merge, PGTY_buddy/private, migratetype fallback with pageblock
claiming, pcp refill/flush arithmetic, zone selection, failures."""
from __future__ import annotations

import random

import pytest

import memcore

import kfacts as K
import slabkit as S
from conftest import only_bits


@pytest.fixture
def machine(machine):
    """Machines right after boot, with the per-CPU lists drained (whatever boot
    itself allocated, e.g. for the kernel's own caches, stays allocated).  The
    descriptor caches of the memdesc designs are warmed first, so that the
    first folio's descriptor slab pages do not show in before/after
    comparisons of the free lists (a no-op on classic)."""
    def boot(**kw):
        m = machine(**kw)
        K.warm_descriptor_caches(m)
        m.drain_pcp()
        return m
    return boot


def claim_fresh_block(m, zone):
    """Use up UNMOVABLE free blocks that could serve an order-4 request, then make
    an order-4 unmovable allocation that has to claim a MOVABLE block."""
    held = []
    while any(free_area(m, zone)["Unmovable"][4:]):
        held.append(m.alloc_folio(order=4, movable=False))
    before = free_area(m, zone)
    types = {p: m.page(p).migratetype for p in range(0, m.nr_pfns, 512)}
    f = m.alloc_folio(order=4, movable=False)
    return f, before, types, held


def top_zone(bits):
    """The zone movable=False allocations of a <= 896 MiB machine come from."""
    return "DMA32" if bits == 64 else "Normal"


def nr_free(m):
    return {(z["node"], z["zone"]): tuple(z["nr_free"]) for z in m.stats()["zones"]}


def free_area(m, zone):
    return {t: list(v) for t, v in m.free_area(0, zone).items()}


# ---- every order -----------------------------------------------------------------------

@pytest.mark.parametrize("order", range(0, K.MAX_PAGE_ORDER + 1))
def test_alloc_and_free_every_order(machine, order):
    m = machine()
    before = nr_free(m)
    f = m.alloc_folio(order=order)
    nr = 1 << order
    assert (f.order, f.nr_pages, f.size) == (order, nr, nr * K.PAGE_SIZE)
    assert f.pfn % nr == 0
    assert f.refcount == 1
    assert m.walk()["folio"] == nr
    assert m.page(f.pfn).buddy_order is None                          # no longer a buddy
    assert m.page(f.pfn).type_name is None
    m.check()
    assert f.put() is True
    m.check()
    m.drain_pcp()
    m.check()
    assert nr_free(m) == before
    assert m.walk()["folio"] == 0


def test_many_orders_at_once_then_free_restores_blocks(machine):
    m = machine()
    S.shrink_all(m)             # descriptor caches: only the slabs boot left
    before = nr_free(m)
    before_fa = {z["zone"]: z["free_area"] for z in m.stats()["zones"]}
    rng = random.Random(1)
    folios = [m.alloc_folio(order=rng.choice(range(11)) if i % 3 else rng.choice(range(4)))
              for i in range(100)]
    pfns = {f.pfn for f in folios}
    assert len(pfns) == len(folios)
    m.check()
    assert m.walk()["folio"] == sum(f.nr_pages for f in folios)
    rng.shuffle(folios)
    for f in folios:
        assert f.put()
    S.shrink_all(m)             # the descriptor slabs the folios grew go back too
    m.check()
    # merging put every original block back, on the same lists
    assert nr_free(m) == before
    assert {z["zone"]: z["free_area"] for z in m.stats()["zones"]} == before_fa


def test_unmovable_churn_restores_block_counts(machine):
    """Claimed pageblocks keep their new type, but merging ignores mergeable
    type differences, so per-order totals come back."""
    m = machine()
    S.shrink_all(m)
    before = nr_free(m)
    rng = random.Random(2)
    folios = [m.alloc_folio(order=rng.choice((0, 0, 1, 2, 3, 4, 7, 9, 10)),
                            movable=bool(i % 2)) for i in range(80)]
    m.check()
    rng.shuffle(folios)
    for f in folios:
        f.put()
    S.shrink_all(m)
    m.check()
    assert nr_free(m) == before


# ---- split ---------------------------------------------------------------------------------

def test_order0_from_a_pristine_order10_block_leaves_one_block_of_each_order(machine):
    """__rmqueue_smallest + expand(): the lowest page is allocated, the upper halves
    go back, one block of every order 0..9.  The DMA zone's pcp batch is 1, so
    exactly one page leaves the free lists."""
    m = machine()
    dma = free_area(m, "DMA")["Movable"]
    assert dma == [0] * 8 + [1, 1, 3]                  # 256 + 512 + 3 * 1024 pages
    z = {z["zone"]: z for z in m.zones()}["DMA"]
    assert z["pagesets"][0]["batch"] == 1
    small = [m.alloc_folio(order=8, zone="DMA"), m.alloc_folio(order=9, zone="DMA")]
    assert free_area(m, "DMA")["Movable"] == [0] * 10 + [3]
    f = m.alloc_folio(order=0, zone="DMA")
    assert f.zone == "DMA"
    fa = free_area(m, "DMA")
    assert fa["Movable"] == [1] * 10 + [2]
    assert sum(fa["Unmovable"]) == sum(fa["Reclaimable"]) == 0
    base = f.pfn
    assert base % 1024 == 0
    for order in range(10):
        buddy = base + (1 << order)
        assert m.page(buddy).buddy_order == order
        assert m.page(buddy).type_name == "buddy"
    dma_pcp = {z["zone"]: z for z in m.zones()}["DMA"]["pagesets"][0]["count"]
    assert dma_pcp == 0
    m.check()
    f.put()
    for g in small:
        g.put()
    m.drain_pcp()
    assert free_area(m, "DMA")["Movable"] == [0] * 8 + [1, 1, 3]
    m.check()


@pytest.mark.parametrize("order", [4, 5, 6, 7, 8, 10])
def test_split_puts_upper_halves_back(machine, order):
    """Orders the pcp does not cache go straight to the buddy lists: the free_area
    after the allocation follows from the one before."""
    m = machine()
    zone = top_zone(m.bits)
    before = free_area(m, zone)["Movable"]
    f = m.alloc_folio(order=order, zone="DMA32" if m.bits == 64 else "Normal")
    assert f.zone == zone
    j = next(o for o in range(order, 11) if before[o])     # smallest block that fits
    want = list(before)
    want[j] -= 1
    for o in range(order, j):
        want[o] += 1
    assert free_area(m, zone)["Movable"] == want
    for o in range(order, j):
        assert m.page(f.pfn + (1 << o)).buddy_order == o
    m.check()


# ---- merge, PGTY_buddy ----------------------------------------------------------------

@pytest.mark.classic_overlay
def test_allocation_clears_pgty_buddy_in_the_struct_page(machine):
    """prep_new_page() on a block __rmqueue() took: page_type back to UINT_MAX (no
    type), private 0, refcount 1, in the head's own struct page."""
    m = machine()
    for order in range(K.MAX_PAGE_ORDER + 1):
        f = m.alloc_folio(order=order)
        assert K.page_field(m, f.pfn, "page_type") == K.PAGE_TYPE_NONE
        assert K.page_field(m, f.pfn, "private") == 0
        assert K.page_field(m, f.pfn, "_refcount") == 1
        assert f.put()
    m.check()


@pytest.mark.classic_overlay
def test_buddy_pages_carry_pgty_buddy_and_order(machine):
    m = machine()
    folios = [m.alloc_folio(order=o) for o in (0, 3, 5, 9)]
    for f in folios[::2]:
        f.put()
    m.drain_pcp()
    lay = K.layout(m, "page")
    pt, pv, rc = lay["page_type"], lay["private"], lay["_refcount"]
    heads = 0
    inside = 0
    pfn = 0
    while pfn < m.nr_pfns:
        raw = m.page(pfn).raw()
        ptype = K.raw_int(raw, pt.offset, 4)
        if ptype >> 24 == K.PGTY_BUDDY:
            order = K.raw_int(raw, pv.offset, pv.size)
            assert ptype == K.PGTY_BUDDY << 24
            assert K.raw_int(raw, rc.offset, 4) == 0
            assert m.page(pfn).buddy_order == order
            assert m.page(pfn).type_name == "buddy"
            assert m.page(pfn).folio is None
            assert pfn % (1 << order) == 0
            for q in range(pfn + 1, pfn + (1 << order), 97):
                r = m.page(q).raw()
                assert K.raw_int(r, pt.offset, 4) == K.PAGE_TYPE_NONE
                assert K.raw_int(r, rc.offset, 4) == 0
                assert m.page(q).buddy_order is None
                inside += 1
            heads += 1
            pfn += 1 << order
        else:
            assert m.page(pfn).buddy_order is None
            pfn += 1
    assert heads == sum(sum(z["nr_free"]) for z in m.stats()["zones"])
    assert inside > 0


def test_free_merges_with_free_buddies(machine):
    m = machine()
    # find two order-4 folios that are each other's buddy (pfn ^ 16)
    by_pfn = {}
    for _ in range(64):
        f = m.alloc_folio(order=4)
        by_pfn[f.pfn] = f
        if f.pfn ^ 16 in by_pfn:
            break
    a, b = by_pfn[f.pfn ^ 16], f
    lo = min(a.pfn, b.pfn)
    a_pfn, b_pfn = a.pfn, b.pfn
    assert a.put()                                    # order 4: not cached per CPU
    assert m.page(a_pfn).buddy_order == 4             # its buddy is in use: no merge
    assert b.put()
    assert m.page(max(a_pfn, b_pfn)).buddy_order is None     # merged away ...
    order = m.page(lo).buddy_order
    assert order is None or order >= 5                # ... into a block of order >= 5
    head = next(p for p in (lo & ~((1 << o) - 1) for o in range(5, 11))
                if m.page(p).buddy_order is not None)
    assert head <= lo < head + (1 << m.page(head).buddy_order)
    m.check()


# ---- orders out of range, allocation failure ----------------------------------------------

@pytest.mark.parametrize("order", [-1, 11, 12, 64, -100])
def test_order_out_of_range(machine, order):
    m = machine(ram="64MiB")
    before = K.machine_snapshot(m)
    with pytest.raises(memcore.OrderOutOfRange) as ei:
        m.alloc_folio(order=order)
    assert isinstance(ei.value, ValueError)
    with pytest.raises(memcore.OrderOutOfRange):
        m.bulk_alloc(1, order=order)
    assert K.machine_snapshot(m) == before
    m.check()


def test_order_must_be_an_int(machine):
    m = machine(ram="64MiB")
    for bad in (1.0, "1", None, True):
        with pytest.raises(TypeError):
            m.alloc_folio(order=bad)


def test_out_of_memory_then_recover(machine):
    m = machine(ram="64MiB")
    S.shrink_all(m)
    before = nr_free(m)
    folios = []
    with pytest.raises(memcore.OutOfMemory) as ei:
        for _ in range(10000):
            folios.append(m.alloc_folio(order=10))
    assert isinstance(ei.value, MemoryError)
    assert "order:10" in str(ei.value)
    assert folios
    snap = K.machine_snapshot(m)
    m.check()
    with pytest.raises(memcore.OutOfMemory):
        m.alloc_folio(order=10)
    assert K.machine_snapshot(m) == snap
    # smaller orders still succeed until the watermarks stop them too
    small = []
    with pytest.raises(memcore.OutOfMemory):
        for _ in range(100000):
            small.append(m.alloc_folio(order=0))
    m.check()
    # every zone is at or near its min watermark (no reclaim is modeled)
    for z in m.zones():
        assert z["free"] <= z["low"] + z["protection"][K.ZONES[m.bits].index("Normal")] \
            + 1024
    for f in folios + small:
        f.put()
    S.shrink_all(m)
    m.check()
    assert nr_free(m) == before


# ---- migratetypes ------------------------------------------------------------------------

def test_unmovable_allocation_claims_a_whole_movable_block(machine):
    m = machine()
    zone = top_zone(m.bits)
    f, before, types, _ = claim_fresh_block(m, zone)
    assert f.zone == zone
    after = free_area(m, zone)
    # __rmqueue_claim() searches from MAX_PAGE_ORDER down and takes an order-10
    # MOVABLE block over whole: both its pageblocks become UNMOVABLE and the rest
    # of the split lands on the UNMOVABLE lists
    assert after["Movable"][10] == before["Movable"][10] - 1
    assert after["Movable"][:10] == before["Movable"][:10]
    assert after["Unmovable"] == [n + (1 if 4 <= o <= 9 else 0)
                                  for o, n in enumerate(before["Unmovable"])]
    block = f.pfn & ~1023
    assert types[block] == types[block + 512] == "Movable"
    assert m.page(f.pfn).migratetype == "Unmovable"
    assert m.page(block).migratetype == "Unmovable"
    assert m.page(block + 512).migratetype == "Unmovable"
    # no other pageblock changed its type
    changed = [p for p, t in types.items() if m.page(p).migratetype != t]
    assert changed == [block, block + 512]
    m.check()
    # the next unmovable allocations are served from UNMOVABLE lists, never from
    # a MOVABLE block while those have memory
    for order in (0, 2, 4, 4):
        g = m.alloc_folio(order=order, movable=False)
        assert m.page(g.pfn).migratetype == "Unmovable"
    if not any(before["Unmovable"]):
        assert g.pfn & ~1023 == block
    # movable allocations do not touch it
    for _ in range(20):
        assert m.alloc_folio(order=0).pfn & ~1023 != block
    m.check()


def test_claimed_pageblocks_stay_unmovable_after_free(machine):
    m = machine()
    zone = top_zone(m.bits)
    f, before, types, held = claim_fresh_block(m, zone)
    block = f.pfn & ~1023
    f.put()
    m.drain_pcp()
    m.check()
    fa = free_area(m, zone)
    assert fa["Unmovable"][10] == before["Unmovable"][10] + 1
    assert m.page(block).migratetype == "Unmovable"
    assert m.page(block).buddy_order == 10


# ---- per-CPU page lists --------------------------------------------------------------

def _pcp(m, zone, cpu):
    return {z["zone"]: z for z in m.zones()}[zone]["pagesets"][cpu]


def test_order0_refill_takes_batch_pages_on_the_tasks_cpu(machine):
    m = machine()
    zone = top_zone(m.bits)
    keep = K.reserve_descriptors(m, small=64)     # no descriptor slab pages on CPU 1
    a = m.task("A", cpu=1)
    batch = _pcp(m, zone, 1)["batch"]
    assert batch > 1
    free0 = {z["zone"]: z["free"] for z in m.zones()}[zone]
    f = m.alloc_folio(task=a)
    assert f.zone == zone
    assert _pcp(m, zone, 1)["count"] == batch - 1
    assert _pcp(m, zone, 0)["count"] == 0
    z = {z["zone"]: z for z in m.stats()["zones"]}[zone]
    assert z["free"] == free0 - batch           # pcp pages are not free pages
    assert z["pcp"] == batch - 1
    # the next batch-1 allocations on CPU 1 come from the list, without refilling
    with a:
        rest = [m.alloc_folio() for _ in range(batch - 1)]
    assert _pcp(m, zone, 1)["count"] == 0
    assert {z["zone"]: z["free"] for z in m.zones()}[zone] == free0 - batch
    pfns = [f.pfn] + [g.pfn for g in rest]
    assert len(set(pfns)) == batch
    # a task on CPU 0 uses CPU 0's list
    g = m.alloc_folio()
    assert m.current.cpu == 0
    assert _pcp(m, zone, 0)["count"] > 0
    assert _pcp(m, zone, 1)["count"] == 0
    m.check()


def test_orders_1_to_3_refill_batch_shifted_by_order(machine):
    m = machine()
    zone = top_zone(m.bits)
    batch = _pcp(m, zone, 0)["batch"]
    for order in (1, 2, 3):
        before = _pcp(m, zone, 0)["count"]
        m.alloc_folio(order=order)
        blocks = max(batch >> order, 2)
        assert _pcp(m, zone, 0)["count"] - before == (blocks - 1) << order
    m.check()


def test_frees_go_to_the_current_tasks_cpu(machine):
    m = machine()
    zone = top_zone(m.bits)
    a, b = m.task("A", cpu=0), m.task("B", cpu=1)
    folios = [m.alloc_folio(task=a) for _ in range(3)]
    c0 = _pcp(m, zone, 0)["count"]
    with b:
        folios[0].put()
    assert _pcp(m, zone, 1)["count"] == 1
    assert _pcp(m, zone, 0)["count"] == c0
    with a:
        folios[1].put()
    assert _pcp(m, zone, 0)["count"] == c0 + 1
    # the freed page is cached, not free: it is no folio and not PageBuddy
    f2 = folios[2]
    pfn = f2.pfn
    with b:
        f2.put()
    assert m.page(pfn).folio is None
    assert m.page(pfn).buddy_order is None
    assert m.page(pfn).refcount == 0
    m.check()
    m.drain_pcp()
    assert _pcp(m, zone, 0)["count"] == _pcp(m, zone, 1)["count"] == 0
    assert {z["zone"]: z["pcp"] for z in m.stats()["zones"]}[zone] == 0
    m.check()


class PcpModel:
    """The 6.18 pcp arithmetic (mm/page_alloc.c: nr_pcp_alloc, rmqueue_pcplist,
    free_frozen_page_commit, nr_pcp_high, nr_pcp_free, free_pcppages_bulk) for
    MOVABLE allocations of orders 0..3 and 9, in a zone that stays above its
    high watermark (ZONE_BELOW_HIGH clear) and with PCPF_FREE_HIGH_BATCH clear."""

    NR_LISTS = 14

    def __init__(self, batch, high_min, high_max):
        self.batch, self.high_min, self.high_max = batch, high_min, high_max
        self.count = self.high = self.free_count = self.alloc_factor = 0
        self.prev_free_high_order = False
        self.lists = [0] * self.NR_LISTS          # blocks per pindex

    @staticmethod
    def pindex(order):
        return 13 if order > 3 else 3 * order + 1          # MIGRATE_MOVABLE

    @staticmethod
    def order_of(pindex):
        return 9 if pindex >= 12 else pindex // 3

    @staticmethod
    def clamp(v, lo, hi):
        return min(max(v, lo), hi)

    def nr_pcp_alloc(self, order):
        base = self.batch
        high = self.high = self.clamp(self.high, self.high_min, self.high_max)
        if high < base:
            return 1
        batch = base if order else base << self.alloc_factor
        if self.high_min != self.high_max:
            high = self.high = min(high + batch, self.high_max)
        if order == 0:
            max_nr = max(high - self.count - base, base)
            if batch <= max_nr and self.alloc_factor < K.PCP_BATCH_SCALE_MAX:
                self.alloc_factor += 1
            batch = min(batch, max_nr)
        if batch > 1:
            batch = max(batch >> order, 2)
        return batch

    def alloc(self, order):
        self.free_count >>= 1
        pi = self.pindex(order)
        if not self.lists[pi]:
            n = self.nr_pcp_alloc(order)
            self.lists[pi] += n
            self.count += n << order
        self.lists[pi] -= 1
        self.count -= 1 << order

    def free_bulk(self, count, pindex):
        count = min(count, self.count)
        pindex -= 1
        while count > 0:
            while True:
                pindex = pindex + 1 if pindex < self.NR_LISTS - 1 else 0
                if self.lists[pindex]:
                    break
            nr = 1 << self.order_of(pindex)
            while True:
                self.lists[pindex] -= 1
                count -= nr
                self.count -= nr
                if count <= 0 or not self.lists[pindex]:
                    break

    def free(self, order):
        self.alloc_factor >>= 1
        pi = self.pindex(order)
        self.lists[pi] += 1
        self.count += 1 << order
        batch = self.batch
        free_high = False
        if 1 <= order <= 3:
            free_high = (self.free_count >= batch + self.high_min // 2
                         and self.prev_free_high_order)
            self.prev_free_high_order = True
        else:
            self.prev_free_high_order = False
        if self.free_count < batch << K.PCP_BATCH_SCALE_MAX:
            self.free_count += 1 << order
        # nr_pcp_high()
        high = self.high = self.clamp(self.high, self.high_min, self.high_max)
        if high == 0:
            eff = 0
        elif free_high:
            self.high = max(high - (batch << K.PCP_BATCH_SCALE_MAX), self.high_min)
            eff = 0
        elif self.high_min == self.high_max:
            eff = high
        else:
            eff = high
            if self.count >= high:
                need = self.free_count + batch
                if self.high < need:
                    self.high = self.clamp(need, self.high_min, self.high_max)
        if self.count >= eff:
            if free_high:
                n = min(self.count, batch << K.PCP_BATCH_SCALE_MAX)
            elif eff < batch:
                n = 1
            else:
                n = self.clamp(self.free_count, batch, eff - batch)
            self.free_bulk(n, pi)


def _replay(m, zone, cpu, ops):
    """Run ops on a CPU nobody has used yet, comparing every step with PcpModel."""
    task = m.task("replay", cpu=cpu)
    ps = _pcp(m, zone, cpu)
    assert ps["count"] == 0 and ps["high"] == 0, "this CPU's list was used at boot"
    model = PcpModel(ps["batch"], ps["high_min"], ps["high_max"])
    live = {}
    flushes = 0
    zarg = zone
    with task:
        for i, (op, key, order) in enumerate(ops):
            before = ps["count"]
            if op == "a":
                f = m.alloc_folio(order=order, zone=zarg)
                assert f.zone == zone, "the zone ran low: keep the test inside it"
                live[key] = (f, order)
                model.alloc(order)
            else:
                f, order = live.pop(key)
                assert f.put()
                model.free(order)
            ps = _pcp(m, zone, cpu)
            flushes += op == "f" and ps["count"] < before
            assert (ps["count"], ps["high"]) == (model.count, model.high), (i, op, order)
    return flushes


def test_pcp_refill_and_flush_follow_the_kernel(variant, machine):
    """Allocate past pcp->high, free everything: every count/high step matches."""
    bits = variant[1]
    m = machine(ram="128MiB")
    zone = top_zone(bits)
    n = 3000
    keep = K.reserve_descriptors(m, small=n)
    ops = [("a", i, 0) for i in range(n)] + [("f", i, 0) for i in range(n)]
    flushes = _replay(m, zone, 1, ops)
    assert flushes >= 3
    ps = _pcp(m, zone, 1)
    assert ps["count"] < ps["high"] <= ps["high_max"]
    m.check()


def test_pcp_mixed_orders_random(variant, machine):
    bits = variant[1]
    m = machine(ram="1GiB" if bits == 64 else "896MiB")
    zone = top_zone(bits)
    rng = random.Random(7)
    ops = []
    key = 0
    for phase in range(4):
        live = []
        for _ in range(rng.randrange(300, 1200)):
            order = rng.choice([0, 0, 1, 2, 3, 9] if phase % 2 else [1, 2, 3])
            ops.append(("a", key, order))
            live.append(key)
            key += 1
        rng.shuffle(live)
        ops += [("f", k, None) for k in live]
    live_now = nr_live = 0
    for op, _, _ in ops:
        live_now += 1 if op == "a" else -1
        nr_live = max(nr_live, live_now)
    keep = K.reserve_descriptors(m, small=nr_live, large=nr_live)
    flushes = _replay(m, zone, 1, ops)
    assert flushes > 0
    m.check()


# ---- zones ---------------------------------------------------------------------------

@only_bits(64)
def test_zone_selection_x86_64(machine):
    m = machine(ram="5GiB")
    cases = [(dict(zone="DMA"), "DMA"), (dict(zone="DMA32"), "DMA32"),
             (dict(zone="Normal"), "Normal"), (dict(), "Normal"),
             (dict(movable=False), "Normal"), (dict(zone="DMA", movable=False), "DMA"),
             (dict(zone="DMA32", movable=False), "DMA32"),
             (dict(zone="Movable"), "Normal")]             # empty ZONE_MOVABLE falls back
    for kw, want in cases:
        for order in (0, 4):
            f = m.alloc_folio(order=order, **kw)
            assert f.zone == want, kw
            lo, hi = K.zone_spans(64, m.nr_pfns)[want]
            assert lo <= f.pfn < hi
            assert m.page(f.pfn).flags.zone == want
    m.check()


@only_bits(32)
def test_zone_selection_i386(machine):
    m = machine(ram="1GiB")
    cases = [(dict(zone="DMA"), "DMA"), (dict(zone="Normal"), "Normal"),
             (dict(zone="HighMem"), "HighMem"), (dict(), "HighMem"),
             (dict(movable=False), "Normal"),
             (dict(zone="HighMem", movable=False), "HighMem"),
             (dict(zone="Movable"), "HighMem")]
    for kw, want in cases:
        for order in (0, 4):
            f = m.alloc_folio(order=order, **kw)
            assert f.zone == want, kw
            assert f.test_highmem() == (want == "HighMem")
    m.check()


def test_zone_limit_falls_back_only_downward(machine, variant):
    bits = variant[1]
    ram, limit = {64: ("128MiB", "DMA32"), 32: ("1GiB", "Normal")}[bits]
    m = machine(ram=ram)
    names = K.ZONES[bits]
    seen = []
    with pytest.raises(memcore.OutOfMemory):
        for _ in range(100000):
            f = m.alloc_folio(order=9, zone=limit)
            seen.append(f.zone)
    assert set(seen) == {limit, "DMA"}
    assert all(names.index(z) <= names.index(limit) for z in seen)
    # the preferred zone is used first
    assert seen[0] == limit and seen.index("DMA") > 10
    m.check()


def test_dma_keeps_its_lowmem_reserve(machine):
    """Allocations that may use higher zones must leave DMA's lowmem_reserve."""
    m = machine()
    folios = []
    with pytest.raises(memcore.OutOfMemory):
        for _ in range(100000):
            folios.append(m.alloc_folio(order=0, movable=False))
    dma = {z["zone"]: z for z in m.zones()}["DMA"]
    normal_idx = K.ZONES[m.bits].index("Normal")
    # GFP_KERNEL: highest_zoneidx is ZONE_NORMAL; without reclaim the slow path goes
    # down to the min watermark, plus DMA's lowmem_reserve[ZONE_NORMAL]
    # (a pcp refill is checked once and then takes batch << alloc_factor pages, up to
    # 1 << PCP_BATCH_SCALE_MAX for DMA's batch of 1, so it may end a little below)
    floor = dma["min"] + dma["protection"][normal_idx]
    assert dma["protection"][normal_idx] > 0
    assert dma["pagesets"][0]["batch"] == 1
    assert floor - (1 << K.PCP_BATCH_SCALE_MAX) < dma["free"] <= floor
    # but a DMA allocation may still use it
    f = m.alloc_folio(zone="DMA", movable=False)
    assert f.zone == "DMA"
    m.check()


# ---- vm events ------------------------------------------------------------------------

def test_pgalloc_counts_pages_handed_out(machine):
    m = machine()
    base = m.stats()["pgalloc"]
    m.alloc_folio(order=0)
    m.alloc_folio(order=3)
    m.alloc_folio(order=5)
    assert m.stats()["pgalloc"] - base == 1 + 8 + 32


def test_pgfree_counts_pages_freed(machine):
    m = machine()
    f = m.alloc_folio(order=0)
    g = m.alloc_folio(order=2)
    h = m.alloc_folio(order=5)
    base = m.stats()["pgfree"]
    f.put()                               # to the pcp list: PGFREE += 1
    assert m.stats()["pgfree"] - base == 1
    g.put()                               # pcp too: += 4
    h.put()                               # straight to the buddy: += 32
    assert m.stats()["pgfree"] - base == 1 + 4 + 32
    m.drain_pcp()                         # moving pages pcp -> buddy is no free
    assert m.stats()["pgfree"] - base == 1 + 4 + 32
