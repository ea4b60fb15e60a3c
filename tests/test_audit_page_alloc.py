"""Audit of the page allocator against Linux 6.18 (issue 8): the NUMA retry
without ALLOC_NOFRAGMENT, the free-path checks of tail pages, PGFREE at boot,
pageblock bits, free_area() of a missing zone, and the model's vmstat tick
(pcp->high decay and the remote pageset drain)."""
from __future__ import annotations

import pytest

import memcore

import kfacts as K
from conftest import only_bits
from test_errors import Unchanged, _bad_free, _poke_field

PCP_BATCH_SCALE_MAX = 5          # CONFIG_PCP_BATCH_SCALE_MAX (Kconfig default)


def zone_info(m, node, zone):
    return next(z for z in m.zones() if z["node"] == node and z["zone"] == zone)


def pcp_of(m, node, zone, cpu):
    return zone_info(m, node, zone)["pagesets"][cpu]


# ---- 13: free_area() of a zone the node does not have --------------------------------

def test_free_area_of_a_missing_zone_names_the_existing_ones(machine):
    m = machine("128MiB")
    have = [z["zone"] for z in m.zones() if z["node"] == 0]
    # ZONE_MOVABLE is configured on every variant and empty without kernelcore=
    assert "Movable" not in have
    with pytest.raises(memcore.UnknownChoice) as ei:
        m.free_area(0, "Movable")
    assert ei.value.valid == tuple(have)
    assert "node 0" in str(ei.value) and "Movable" in str(ei.value)
    for name in have:                                  # the existing ones still answer
        fa = m.free_area(0, name)
        assert sum(sum(v) for v in fa.values()) > 0 or name == "DMA"


@only_bits(64)
def test_free_area_default_zone_on_a_node_without_normal(machine):
    m = machine("128MiB")                              # all of it below 4 GiB: no Normal
    with pytest.raises(memcore.UnknownChoice) as ei:
        m.free_area(0)
    assert ei.value.valid == ("DMA", "DMA32")


# ---- 6: PGFREE counts what boot frees ----------------------------------------------

def test_pgfree_counts_boot_memory_like_proc_vmstat(machine):
    """__free_pages_core() -> __free_pages_ok() -> free_one_page() does
    __count_vm_events(PGFREE, 1 << order) (mm/page_alloc.c), so right after boot
    /proc/vmstat's pgfree counts every page memblock_free_all() released, and
    pgfree - pgalloc is the memory free now (buddy and pcp lists)."""
    m = machine("128MiB")
    K.warm_descriptor_caches(m)       # the folio below takes no descriptor slab pages
    st = m.stats()
    managed = sum(z["managed"] for z in st["zones"])
    free = sum(z["free"] + z["pcp"] for z in st["zones"])
    assert st["pgfree"] >= managed
    assert st["pgfree"] - st["pgalloc"] == free
    f = m.alloc_folio(order=2)
    assert f.put()
    st2 = m.stats()
    assert st2["pgalloc"] - st["pgalloc"] == 4 and st2["pgfree"] - st["pgfree"] == 4


# ---- 1: locality before fragmentation avoidance --------------------------------------

@only_bits(64)
def test_nofragment_is_dropped_before_going_remote(machine):
    """get_page_from_freelist(): on reaching a zone of another node while
    ALLOC_NOFRAGMENT is set, the kernel clears it and restarts from the local
    zones ("Locality is more important than fragmentation avoidance"), so an
    unmovable allocation steals from a local movable fragment instead of
    claiming a whole free pageblock on the remote node."""
    m = machine("5GiB", nodes=2, cpus=2)
    t = m.task("on-node-1", cpu=1)
    local = [z for z in m.zones() if z["node"] == 1]
    assert [z["zone"] for z in local] == ["DMA32", "Normal"]   # ALLOC_NOFRAGMENT applies
    start = min(z["start_pfn"] for z in local)
    # fill node 1 with movable pages, then free one in four: only order-0 movable
    # fragments (no free buddies, a quarter of each pageblock) stay on node 1
    pfns = m.bulk_alloc(sum(z["free"] + z["pagesets"][1]["count"] for z in local),
                        movable=True, task=t)
    m.bulk_put(pfns[(pfns >= start) & (pfns % 4 == 0)], task=t)
    keep = []
    for _ in range(20):        # use up node 1's free pageblocks and unmovable pages
        m.drain_pcp()
        fas = [m.free_area(1, z["zone"]) for z in local]
        big = sum(n for fa in fas for counts in fa.values() for n in counts[9:])
        unmovable = sum(n << o for fa in fas for o, n in enumerate(fa["Unmovable"]))
        if not big and not unmovable:
            break
        keep += [m.alloc_folio(order=9, node=1, task=t) for _ in range(big)]
        keep += [m.alloc_folio(movable=False, node=1, task=t) for _ in range(unmovable)]
    for z in local:
        fa = m.free_area(1, z["zone"])
        assert not any(fa["Unmovable"])
        assert not any(n for counts in fa.values() for n in counts[9:])
        assert sum(fa["Movable"]) > 0
        assert all(p["count"] == 0 for p in zone_info(m, 1, z["zone"])["pagesets"])
    remote_free_blocks = sum(m.free_area(0, "DMA32")["Movable"][9:])
    assert remote_free_blocks > 0         # what the old walk claimed instead
    f = m.alloc_folio(order=0, movable=False, node=1, task=t)
    assert m.page(f.pfn).node == 1
    assert f.put(task=t)
    m.check()


# ---- 3: free_page_is_bad() on every tail page ---------------------------------------

TAIL_CASES = [
    # (what, how to set it, how to undo it, the kernel's bad_page() reason)
    # a tail page's own flags and refcount: designs whose struct page has them
    pytest.param("PG_locked", lambda m, f, i: m.page(f.pfn + i).flags.set("locked"),
                 lambda m, f, i: m.page(f.pfn + i).flags.clear("locked"),
                 "PAGE_FLAGS_CHECK_AT_FREE flag(s) set", marks=pytest.mark.page_member("flags"),
                 id="PG_locked"),
    pytest.param("PG_lru", lambda m, f, i: m.page(f.pfn + i).flags.set("lru"),
                 lambda m, f, i: m.page(f.pfn + i).flags.clear("lru"),
                 "PAGE_FLAGS_CHECK_AT_FREE flag(s) set", marks=pytest.mark.page_member("flags"),
                 id="PG_lru"),
    pytest.param("a reference", lambda m, f, i: _poke_field(m, f, "_refcount", 1, page_index=i),
                 lambda m, f, i: _poke_field(m, f, "_refcount", 0, page_index=i),
                 "nonzero _refcount", marks=pytest.mark.page_member("_refcount"),
                 id="a reference"),
    # a tail page's own memcg_data and _mapcount are classic struct page words:
    # the interim page has no memcg_data, and its _mapcount shares the word
    # the free-list link overlays, which the API may not write
    pytest.param("memcg_data",
                 lambda m, f, i: _poke_field(m, f, "memcg_data", 0x7000, page_index=i),
                 lambda m, f, i: _poke_field(m, f, "memcg_data", 0, page_index=i),
                 "page still charged to cgroup", marks=pytest.mark.classic_overlay,
                 id="memcg_data"),
    pytest.param("a mapcount",
                 lambda m, f, i: _poke_field(m, f, "_mapcount", 0, page_index=i),
                 lambda m, f, i: _poke_field(m, f, "_mapcount", -1, page_index=i),
                 "nonzero mapcount", marks=pytest.mark.classic_overlay, id="a mapcount"),
]


@pytest.mark.parametrize("index", [2, 5])
@pytest.mark.parametrize("what, set_, undo, reason", TAIL_CASES,
                         ids=[c.id for c in TAIL_CASES])
def test_bad_tail_page_is_refused(machine, what, set_, undo, reason, index):
    """__free_pages_prepare() runs free_page_is_bad() on every tail of an order > 0
    block after free_tail_page_prepare(): a tail with a PAGE_FLAGS_CHECK_AT_FREE flag,
    a reference, a mapcount or memcg_data is a bad page, reported at the tail's PFN,
    and the folio stays allocated."""
    m = machine("64MiB")
    f = m.alloc_folio(order=3)
    set_(m, f, index)
    _bad_free(m, f, reason, pfn=f.pfn + index, run_check=False)
    undo(m, f, index)
    m.check()
    assert f.refcount == 1 and m.page(f.pfn).folio == f
    assert f.put()
    m.check()


@pytest.mark.page_member("flags")
def test_bad_tail_changes_nothing(machine):
    m = machine("64MiB")
    f = m.alloc_folio(order=2)
    m.page(f.pfn + 3).flags.set("locked")
    u = Unchanged(m, f)
    with pytest.raises(memcore.BadPageState):
        f.put()
    assert u._take() == u.before
    m.check()                             # a flag on a tail is no compound-page violation
    m.page(f.pfn + 3).flags.clear("locked")
    assert f.put()


@pytest.mark.classic_overlay
@pytest.mark.parametrize("flag", ["active", "workingset", "reclaim"])
def test_page_flags_second_are_cleared_before_the_tail_check(machine, flag):
    """PAGE_FLAGS_SECOND (include/linux/page-flags.h) holds PG_has_hwpoisoned (=
    PG_active), PG_large_rmappable (= PG_workingset) and PG_partially_mapped (=
    PG_reclaim) of page 1, whatever CONFIG_MEMORY_FAILURE says; the free path
    clears them before free_page_is_bad() looks at page 1 (PG_active is in
    PAGE_FLAGS_CHECK_AT_FREE)."""
    m = machine("64MiB")
    f = m.alloc_folio(order=2)
    m.page(f.pfn + 1).flags.set(flag)
    assert f.put()
    m.check()


@pytest.mark.parametrize("flag", ["has_hwpoisoned", "large_rmappable", "partially_mapped"])
def test_page_flags_second_set_through_the_folio_do_not_make_a_bad_page(machine, flag):
    """The design-neutral half of the test above: the PAGE_FLAGS_SECOND flags a
    large folio keeps (page 1's flags on classic, the descriptor's second flags
    word on the memdesc designs), set through the folio, are no bad page at free."""
    m = machine("64MiB")
    f = m.alloc_folio(order=2)
    getattr(f, f"set_{flag}")()
    assert f.put()
    m.check()


# ---- 7: pageblock bits --------------------------------------------------------------

def test_pb_migrate_isolate_is_bit_4(machine):
    """enum pageblock_bits (include/linux/pageblock-flags.h): PB_migrate_0..2,
    PB_compact_skip, PB_migrate_isolate = 4; one byte per pageblock."""
    m = machine("128MiB")
    f = m.alloc_folio()
    pfn = f.pfn
    before = m._pageblock_bits(pfn)
    assert before == 1                                  # MIGRATE_MOVABLE, nothing else
    try:
        m._pageblock_bits(pfn, before | 0x80)           # bit 7 means nothing
        assert m.page(pfn).migratetype == "Movable"
        m._pageblock_bits(pfn, before | 0x10)           # bit 4: isolated
        assert m.page(pfn).migratetype == "Isolate"
    finally:
        m._pageblock_bits(pfn, before)
    assert f.put()
    m.check()


# ---- 2: the vmstat tick: decay_pcp_high() and the remote drain ----------------------

def kernel_decay(high, count, high_min, batch):
    """decay_pcp_high() (mm/page_alloc.c) on a pageset of order-0 pages."""
    if high > high_min:
        high = max(count - (batch << PCP_BATCH_SCALE_MAX), high - (high >> 3), high_min)
    to_drain = count - high
    if to_drain > 0:
        count -= to_drain                 # free_pcppages_bulk(zone, to_drain, pcp, 0)
    return high, count


def test_kernel_decay_arithmetic():
    # high 1000 > high_min 100: max(900 - (63 << 5) = -1116, 1000 - 1000/8 = 875, 100)
    # = 875, and the 25 pages above it are freed
    assert kernel_decay(1000, 900, 100, 63) == (875, 875)
    # a full pageset is never cut by more than batch << PCP_BATCH_SCALE_MAX at once:
    # max(5000 - 2016 = 2984, 5000 - 625 = 4375, 100) = 4375 ... but count 5000 - 2016
    # only matters when an eighth is more: high 20000, count 20000
    # -> max(20000 - 2016 = 17984, 20000 - 2500 = 17500, 100) = 17984
    assert kernel_decay(20000, 20000, 100, 63) == (17984, 17984)
    # at high_min nothing changes
    assert kernel_decay(100, 40, 100, 63) == (100, 40)


def test_tick_decays_pcp_high_to_high_min(machine):
    m = machine("1GiB")
    m.drain_pcp()                         # only this test's order-0 pages on the lists
    pfns = m.bulk_alloc(6000)
    node, zone = m.page(int(pfns[0])).node, m.page(int(pfns[0])).zone
    assert all(m.page(int(p)).zone == zone for p in pfns[::97])
    m.bulk_put(pfns)
    p = pcp_of(m, node, zone, 0)
    high, count, high_min, batch = p["high"], p["count"], p["high_min"], p["batch"]
    assert high > high_min and count > high_min         # something to decay
    seen = []
    for _ in range(64):
        m.tick()
        high, count = kernel_decay(high, count, high_min, batch)
        p = pcp_of(m, node, zone, 0)
        assert (p["high"], p["count"]) == (high, count)
        seen.append(high)
        if high == high_min and count <= high:
            break
    assert seen[-1] == high_min and len(seen) > 2
    # an eighth at a time: each step is high - high // 8 until the floor
    assert all(b == max(a - (a >> 3), high_min) or b == high_min
               for a, b in zip(seen, seen[1:]))
    m.tick(5)                             # settled: nothing changes any more
    p = pcp_of(m, node, zone, 0)
    assert (p["high"], p["count"]) == (high, count)
    assert m.stats()["vmstat_ticks"] == len(seen) + 5
    m.check()


@only_bits(64)
def test_tick_drains_remote_pagesets_after_three_idle_ticks(machine):
    """refresh_cpu_vm_stats() (mm/vmstat.c): a CPU whose counters changed in a
    zone arms pcp->expire = 3; each tick counts it down; at 0 a remote zone's
    pageset loses one batch (drain_zone_pages); that drain is itself a counter
    change, so the countdown restarts.  Local zones are never drained."""
    m = machine("2GiB", nodes=2, cpus=2)  # CPU 0 on node 0, CPU 1 on node 1
    m.drain_pcp()
    folios = [m.alloc_folio(node=1) for _ in range(100)]   # CPU 0, node 1's memory
    zone = m.page(folios[0].pfn).zone
    assert m.page(folios[0].pfn).node == 1
    for f in folios:
        f.put()
    p = pcp_of(m, 1, zone, 0)
    count, batch = p["count"], p["batch"]
    assert batch < count <= p["high_min"] and p["expire"] == 0   # decay will not drain
    # tick: 1  2  3          4  5  6
    # exp.: 2  1  0 drain->  2  1  0 drain ...
    expect = []
    c = count
    while c:
        expect += [c, c, c - min(c, batch)]
        c -= min(c, batch)
    got = []
    for _ in range(len(expect)):
        m.tick()
        got.append(pcp_of(m, 1, zone, 0)["count"])
    assert got == expect
    for z in m.zones():                   # a local pageset with pages is never counted down
        if z["node"] == 0:
            assert z["pagesets"][0]["count"] == 0 or z["pagesets"][0]["expire"] == 0
    m.check()


def test_tick_arguments(machine):
    m = machine("64MiB")
    m.tick(0)
    assert m.stats()["vmstat_ticks"] == 0
    with pytest.raises(ValueError):
        m.tick(-1)
    with pytest.raises(TypeError):
        m.tick(1.5)
    with pytest.raises(TypeError):
        m.tick(True)
    assert m.stats()["vmstat_ticks"] == 0
    m.tick(1 << 32)                       # an idle machine skips the idle ticks
    assert m.stats()["vmstat_ticks"] == 1 << 32
