"""Machine.from_snapshot(): a machine booted with a real machine's memory map
and page state (memcore/snapshot_boot.py).

The expected figures come from the snapshot itself, read independently of
the boot: memcore.estimate's classification (folios, derived free blocks) and
the snapshot's own /proc texts (zoneinfo, buddyinfo before and after the
read).  The committed snapshot is the reference machine (24 GiB, 6.18.44):
booting it costs the model its memmap (384 MiB of host memory).
"""
from __future__ import annotations

import numpy as np
import pytest

import memcore

import kfacts as K
from memcore import estimate as E
from memcore import snapshot as S
from memcore import snapshot_boot as SB

from conftest import DATA, VARIANTS, VARIANT_IDS

FIXTURE = DATA / "linux-6.18-x86_64-snapshot.npz"
B = {k: 1 << v for k, v in E.KPF.items()}
HAVE64 = ("classic", 64) in VARIANTS
need64 = pytest.mark.skipif(not HAVE64, reason="the classic64 variant is not built")


@pytest.fixture(scope="module")
def snap():
    return S.load(FIXTURE)


@pytest.fixture(scope="module")
def booted(snap):
    if not HAVE64:
        pytest.skip("the classic64 variant is not built")
    return memcore.Machine.from_snapshot(FIXTURE)


@pytest.fixture(scope="module")
def cls_(snap):
    return E.classify(snap, keep_classes=True)


# ---- the committed snapshot ---------------------------------------------------------------

@need64
def test_boots_and_every_invariant_holds(booted, snap):
    m = booted
    assert (m.design, m.bits) == ("classic", 64)
    assert m.cpus == snap.ncpus and m.nodes == 1
    assert m.ram == int(snap.ram_mask().sum()) * 4096       # iomem rounded inward to pages
    assert m.ram_ranges == tuple((int(s) + 4095 & ~4095, int(e) & ~4095)
                                 for s, e in snap.ram_ranges)
    assert m.check()
    r = m.snapshot_boot
    assert r["free_pfns_as_expected"] and not r["window"]
    assert r["displaced_pages"] == {}
    assert r["boot_allocations_held_off"]


@need64
def test_zones_are_the_snapshots(booted, snap):
    """start_pfn, spanned and present pages of every zone as /proc/zoneinfo has
    them; managed too where no struct pages were left uninitialised."""
    zi = {(z.node, z.name): z for z in snap.zones if z.spanned}
    got = {(z["node"], z["zone"]): z for z in booted.zones()}
    assert set(got) == set(zi)
    for key, z in zi.items():
        assert (got[key]["start_pfn"], got[key]["spanned"], got[key]["present"]) == \
            (z.start_pfn, z.spanned, z.present), key
    for key in ((0, "DMA"), (0, "DMA32")):
        assert got[key]["managed"] == zi[key].managed, key


@need64
def test_free_blocks_match_the_derived_blocks_and_quiet_buddyinfo(booted, snap, cls_):
    """Per zone and order: the model's free blocks that lie in the snapshot's free
    pages are exactly estimate's derived blocks; in zones that stayed quiet while
    the snapshot was read (buddyinfo before == after) all the model's free blocks
    are /proc/buddyinfo's."""
    before = {(n, z): c for n, z, c in snap.buddyinfo}
    after = {(n, z): c for n, z, c in snap.buddyinfo_after}
    quiet = [k for k in before if before[k] == after.get(k)]
    assert quiet == [(0, "DMA"), (0, "DMA32")]
    report = {(f["node"], f["zone"]): f for f in booted.snapshot_boot["free_blocks"]}
    for (nid, zone), f in report.items():
        derived = cls_.free_blocks.get(f"{nid}/{zone}", {})
        assert f["model_in_snapshot_free"] == [derived.get(o, 0) for o in range(11)], zone
        fa = booted.free_area(nid, zone)
        model = [sum(fa[mt][o] for mt in fa) for o in range(11)]
        assert model == f["model"] == f["expected"], zone
        if (nid, zone) in quiet:
            assert model == before[(nid, zone)], zone
    # Normal also has the lazily initialised memory, freed here: more order-10 blocks
    normal = report[(0, "Normal")]
    assert normal["model"][10] > normal["derived"][10]


@need64
def test_pages_are_the_snapshots(booted, snap, cls_):
    m = booted
    r = m.snapshot_boot
    c = cls_.classes
    assert r["placed_pages"]["anon"] == c["anon"]
    assert r["placed_pages"]["shmem"] == c["shmem"]
    assert r["placed_pages"]["file"] == c["file"]
    assert r["placed_blocks"]["anon"] == sum(n for (k, _), n in cls_.folios.items() if k == "anon")
    assert r["placed_blocks"]["file"] == sum(n for (k, _), n in cls_.folios.items() if k == "file")
    # reserved: the classifier's, the zero page (PG_reserved), the first MiB's already the model's
    assert r["placed_pages"]["reserved"] + r["already_reserved_pages"] == \
        c["reserved"] + c["zero_page"]
    held = sum(c[k] for k in ("slab", "pgtable", "hugetlb", "offline", "hwpoison",
                              "no_state", "other"))
    assert r["placed_pages"]["held"] == held
    walk = m.walk()
    assert walk["hole"] == c["hole"]
    assert walk["free_buddy"] == c["buddy"] + c["uninitialised"] - r["own_pages"]
    assert r["own_pages"] < snap.ram_bytes // 4096 // 50       # the model's boot memory
    # folios at their PFNs with their orders and kinds
    cls = cls_.class_of
    flags = snap.kpageflags
    heads = np.flatnonzero((flags & B["COMPOUND_HEAD"]) != 0)
    for kind in ("anon", "file", "shmem"):
        sel = heads[cls[heads] == E.CLASS_NAMES.index(kind)]
        for pfn in sel[:50].tolist():
            f = m.folio(pfn)
            n = 1
            while pfn + n < flags.size and flags[pfn + n] & B["COMPOUND_TAIL"]:
                n += 1
            assert f.nr_pages == n, (kind, hex(pfn))
            assert f.flags.test("swapbacked") == (kind != "file")
    small = np.flatnonzero(cls == E.CLASS_NAMES.index("file"))[:20]
    for pfn in small.tolist():
        if not flags[pfn] & (B["COMPOUND_HEAD"] | B["COMPOUND_TAIL"]):
            assert m.folio(pfn).nr_pages == 1
    res = int(np.flatnonzero(cls == E.CLASS_NAMES.index("reserved"))[-1])
    assert m.page(res).flags.test("reserved")
    slab = int(np.flatnonzero(cls == E.CLASS_NAMES.index("slab"))[0])
    assert m.page(slab).refcount == 1 or m.page(slab).is_tail


@need64
def test_the_booted_machine_runs(booted):
    m = booted
    f = m.alloc_folio(order=9, kind="anon")
    g = m.alloc_folio(order=0)
    assert f.put() and g.put()
    obj = m.kmalloc(64)
    obj.free()
    assert m.check()


@need64
def test_pageblock_migratetypes_are_pagetypeinfos(booted, snap, cls_):
    """Per zone, the pageblocks /proc/pagetypeinfo counts (initialised ones: the
    kernel skips struct pages deferred init has not reached) have its number of
    each migratetype; in the zones that stayed quiet while the snapshot was
    read, each type's free lists hold its free blocks per order exactly."""
    pti = snap.pagetypeinfo
    rep = {(z["node"], z["zone"]): z for z in booted.snapshot_boot["migratetypes"]}
    assert set(rep) == set(pti.blocks) == {(0, "DMA"), (0, "DMA32"), (0, "Normal")}
    uninit = cls_.class_of == E.CLASS_NAMES.index("uninitialised")
    for key, z in rep.items():
        want = {t: pti.blocks[key][t] for t in SB.BLOCK_TYPES}
        assert z["blocks"]["snapshot"] == want
        assert z["blocks"]["model"] == want, key
        zs = next(x["start_pfn"] for x in booted.zones() if (x["node"], x["zone"]) == key)
        end = zs + next(x["spanned"] for x in booted.zones() if (x["node"], x["zone"]) == key)
        assert z["blocks"]["not_counted"] == int(uninit[zs:end:512].sum())
        # the pageblock bits say so too (Page.migratetype), sampled as pagetypeinfo does
        got = {t: 0 for t in SB.BLOCK_TYPES}
        for pfn in range(zs, end, 512):
            try:
                page = booted.page(pfn)
            except memcore.PFNOutOfRange:
                continue                # no struct page: pfn_to_online_page() skips it too
            if not uninit[pfn]:
                got[page.migratetype] += 1
        assert got == want, key
        # memory deferred init had not freed is free here, Movable: the other
        # types' free lists are exactly the report's
        fa = booted.free_area(*key)
        for t in ("Unmovable", "Reclaimable", "HighAtomic"):
            assert fa[t] == z["free"]["model"][t], (key, t)
    for key in [(0, "DMA"), (0, "DMA32")]:          # the quiet zones
        assert rep[key]["match"]
        fa = booted.free_area(*key)
        for t in SB.BLOCK_TYPES:
            assert fa[t] == pti.free[key][t], (key, t)
    assert any("pagetypeinfo" in n for n in booted.snapshot_boot["notes"])


@pytest.mark.parametrize("design, bits", VARIANTS, ids=VARIANT_IDS)
def test_synthetic_pageblock_types_are_the_snapshots(design, bits):
    """A snapshot whose pageblock types are known: every pageblock and every
    free list of each type comes out as its pagetypeinfo says (the 32-bit
    model calls the zone above 16 MiB Normal)."""
    s = synthetic()
    if bits == 32:
        s = _with(s, pagetypeinfo=pagetypeinfo_of(s, SYNTH_TYPES,
                                                  (("DMA", 1, 0x1000), ("Normal", 0x1000, 0x10000))))
    m = memcore.Machine.from_snapshot(s, design=design, bits=bits)
    rep = m.snapshot_boot["migratetypes"]
    assert [z["zone"] for z in rep] == ["DMA", "DMA32" if bits == 64 else "Normal"]
    for z in rep:
        assert z["match"], z
        fa = m.free_area(z["node"], z["zone"])
        for t in ("Unmovable", "Reclaimable", "HighAtomic"):
            assert fa[t] == z["free"]["model"][t]
        # Movable also holds what the model's boot left free of the memory the
        # snapshot had not initialised (not on the snapshot's free lists)
        assert all(a >= b for a, b in zip(fa["Movable"], z["free"]["model"]["Movable"]))
    # which pageblocks: the one with the kernel's pages (its free blocks fit), the
    # first MiB's; the wholly free Reclaimable one could be any free order-10 block
    assert m.page(0x1000).migratetype == m.page(0).migratetype == "Unmovable"
    assert m.check()


def test_pagetypeinfo_parsing():
    text = pagetypeinfo_of(synthetic(), SYNTH_TYPES)
    p = S.parse_pagetypeinfo(text.replace("  1528 ", "  1528 "))
    assert p.pageblock_order == 9 and p.types == list(PT_TYPES)
    assert p.blocks[(0, "DMA32")]["Reclaimable"] == 2
    assert p.blocks[(0, "DMA32")]["Unmovable"] == 9              # pageblock 8 and the hole's 8
    assert p.free[(0, "DMA32")]["Reclaimable"][10] == 1
    # a free list the kernel stopped counting (pagetypeinfo_showfree_print())
    line = next(ln for ln in text.splitlines() if "DMA32, type      Movable" in ln)
    capped = line[:line.index("Movable") + 7] + " >100000" + line[line.index("Movable") + 14:]
    p = S.parse_pagetypeinfo(text.replace(line, capped))
    assert p.capped == [(0, "DMA32", "Movable", 0)]
    assert p.free[(0, "DMA32")]["Movable"][0] == 100000
    assert S.parse_pagetypeinfo("") is None


@pytest.mark.parametrize("bad, match", [
    ("Node 0, zone    DMA32            1            2 \n", "2 block counts under 5 types"),
    ("Node    0, zone    DMA32, type      Movable      x \n", "free count 'x'"),
])
def test_a_malformed_pagetypeinfo_is_refused(bad, match):
    text = pagetypeinfo_of(synthetic(), SYNTH_TYPES) + bad
    with pytest.raises(memcore.SnapshotError, match=match):
        _with(synthetic(), pagetypeinfo=text)


def test_without_pagetypeinfo_the_boot_types_stay(variant):
    """pagetypeinfo is readable by root only: a snapshot without it boots with
    the boot's pageblock types, and says so."""
    s = _with(synthetic(), pagetypeinfo="")
    m = memcore.Machine.from_snapshot(s, design=variant[0], bits=variant[1])
    assert m.snapshot_boot["migratetypes"] == []
    assert any("no /proc/pagetypeinfo" in n for n in m.snapshot_boot["notes"])
    assert m.page(0x2000).migratetype == "Movable"
    assert m.check()


@need64
def test_a_window_of_the_snapshot(snap):
    """A PFN window (memcore snapshot save --first-pfn/--max-pfns): its pages are
    placed, the rest of RAM stays as the boot leaves it."""
    lo, n = 0x100000, 0x40000
    data = {k: np.array(v) for k, v in snap.texts.items()}
    data.update(kpageflags=snap.kpageflags[lo:lo + n], kpagecount=snap.kpagecount[lo:lo + n],
                kpagecgroup=snap.kpagecgroup[lo:lo + n], ram_ranges=snap.ram_ranges,
                first_pfn=np.array(lo, np.uint64))
    w = S.from_arrays(data, "window")
    assert w.window
    m = memcore.Machine.from_snapshot(w)
    r = m.snapshot_boot
    c = E.classify(w)
    assert r["window"] and r["first_pfn"] == lo
    assert r["placed_pages"]["file"] == c.classes["file"]
    assert r["displaced_pages"] == {}
    normal = next(f for f in r["free_blocks"] if f["zone"] == "Normal")
    assert normal["model_in_snapshot_free"] == \
        [c.free_blocks["0/Normal"].get(o, 0) for o in range(11)]
    assert m.check()


# ---- a synthetic snapshot: every kind of page at a known PFN ------------------------------

ZONEINFO = """Node 0, zone      DMA
  pages free     3840
        spanned  4095
        present  3998
        managed  3840
  start_pfn:           1
    cpu: 0
    cpu: 1
Node 0, zone    DMA32
  pages free     0
        spanned  61440
        present  57344
        managed  57000
  start_pfn:           4096
    cpu: 0
    cpu: 1
"""
RANGES = [(0x1000, 0x9fc00), (0x100000, 0x6000000), (0x7000000, 0x10000000)]


def synthetic():
    fx = S.load(FIXTURE)
    n = 0x10000
    flags = np.zeros(n, np.uint64)
    count = np.zeros(n, np.uint64)

    def put(pfns, f, c=0):
        for p in ([pfns] if isinstance(pfns, int) else pfns):
            flags[p], count[p] = f, c

    put(range(1, 0x9f), B["RESERVED"])                          # the first MiB, as x86 keeps it
    put(range(0x100, 0x6000), B["BUDDY"])                      # free, with holes cut out below
    put(range(0x7000, 0x8000), B["BUDDY"])
    put(0x1000, B["COMPOUND_HEAD"] | B["ANON"] | B["THP"] | B["LRU"], 1)   # anon, order 2
    put(range(0x1001, 0x1004), B["COMPOUND_TAIL"] | B["ANON"], 1)
    put(0x1004, B["LRU"] | B["UPTODATE"], 1)                   # file, order 0
    put(0x1005, B["SWAPBACKED"] | B["LRU"])                    # shmem, order 0
    put(0x1006, B["SLAB"] | B["COMPOUND_HEAD"])                # slab, order 1
    put(0x1007, B["SLAB"] | B["COMPOUND_TAIL"])
    put(0x1008, B["COMPOUND_HEAD"] | B["LRU"] | B["UPTODATE"])  # file, order 3
    put(range(0x1009, 0x1010), B["COMPOUND_TAIL"])
    put(0x1010, B["PGTABLE"])
    put(0x1011, B["RESERVED"])
    put(0x1012, B["ZERO_PAGE"] | B["RESERVED"], 9)
    put(0x1013, B["NOPAGE"])                                    # inside RAM: reserved
    put(0x1014, B["COMPOUND_HEAD"] | B["LRU"])                  # torn: 3 pages
    put(range(0x1015, 0x1017), B["COMPOUND_TAIL"])
    put(0x1017, 0)                                              # no_state
    put(range(0x1018, 0x1020), 0, 1)                            # other (mapped, no flags)
    put(0x1020, B["HUGE"] | B["COMPOUND_HEAD"])                 # hugetlb, order 3
    put(range(0x1021, 0x1028), B["COMPOUND_TAIL"])
    put(range(0x6000, 0x7000), 0)                               # the hole (not in iomem)
    put(range(0x8000, n), 0)                                    # uninitialised: a section
    data = {k: np.array(v) for k, v in fx.texts.items()}
    data["zoneinfo"] = np.array(ZONEINFO)
    data.update(kpageflags=flags, kpagecount=count, kpagecgroup=np.zeros(n, np.uint64),
                ram_ranges=np.array(RANGES, np.uint64), first_pfn=np.array(0, np.uint64))
    s = S.from_arrays(data, "synthetic")
    c = E.classify(s)
    text = "".join(f"Node 0, zone {z:>8} " + " ".join(
        f"{c.free_blocks.get('0/' + z, {}).get(o, 0):6d}" for o in range(11)) + " \n"
        for z in ("DMA", "DMA32"))
    data["buddyinfo"] = data["buddyinfo_after"] = np.array(text)
    data["pagetypeinfo"] = np.array(pagetypeinfo_of(s, SYNTH_TYPES))
    return S.from_arrays(data, "synthetic")


#: synthetic()'s pageblock migratetypes by pageblock (PFN >> 9), the rest Movable:
#: the kernel pages' pageblock Unmovable, a free order-10 block Reclaimable, the
#: hole's pageblocks Unmovable (memmap init never types a hole)
SYNTH_TYPES = {0: "Unmovable", 8: "Unmovable", 16: "Reclaimable", 17: "Reclaimable",
               **{b: "Unmovable" for b in range(0x6000 >> 9, 0x7000 >> 9)}}
SYNTH_ZONES = (("DMA", 1, 0x1000), ("DMA32", 0x1000, 0x10000))
PT_TYPES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")


def pagetypeinfo_of(s, types, zones=SYNTH_ZONES):
    """/proc/pagetypeinfo as 6.18 prints it for snapshot s whose pageblocks have
    `types`: free blocks (the buddy-merged free PFNs of each zone) on their
    pageblock's type's list, a block above pageblock order making all its
    pageblocks its first one's type (__free_one_page()); pageblocks counted at
    the zone start and every 512 PFNs after, unless their struct page is
    uninitialised (page_zone() != zone)."""
    cls = E.classify(s, keep_classes=True).class_of
    buddy = cls == E.CLASS_NAMES.index("buddy")
    uninit = cls == E.CLASS_NAMES.index("uninitialised")
    types = dict(types)
    free_lines, block_lines = [], []
    for name, zs, ze in zones:
        free = {t: [0] * 11 for t in PT_TYPES}
        starts, lengths = E._runs(buddy[zs:ze])
        for pfn, order in zip(*SB._tile(starts + zs, lengths)):
            t = types.get(int(pfn) >> 9, "Movable")
            free[t][int(order)] += 1
            for pb in range((int(pfn) >> 9) + 1, (int(pfn) + (1 << int(order))) >> 9):
                types[pb] = t
        blocks = dict.fromkeys(PT_TYPES, 0)
        for pfn in range(zs, ze, 512):
            if not uninit[pfn]:
                blocks[types.get(pfn >> 9, "Movable")] += 1
        free_lines += [f"Node    0, zone {name:>8}, type {t:>12} "
                       + "".join(f"{n:6d} " for n in free[t]) for t in PT_TYPES]
        block_lines.append(f"Node 0, zone {name:>8} " + "".join(f"{blocks[t]:12d} "
                                                                for t in PT_TYPES))
    return ("Page block order: 9\nPages per block:  512\n\n"
            "Free pages count per migrate type at order "
            + "".join(f"{o:6d} " for o in range(11)) + "\n" + "\n".join(free_lines)
            + "\n\nNumber of blocks type     " + "".join(f"{t:>12} " for t in PT_TYPES)
            + "\n" + "\n".join(block_lines) + "\n")


@pytest.mark.parametrize("design, bits", VARIANTS, ids=VARIANT_IDS)
def test_synthetic_snapshot_places_every_kind(design, bits):
    s = synthetic()
    m = memcore.Machine.from_snapshot(s, design=design, bits=bits)
    assert (m.design, m.bits) == (design, bits)
    assert m.check()
    r = m.snapshot_boot
    assert r["displaced_pages"] == {} and r["free_pfns_as_expected"]
    assert r["torn"] == 1
    f = m.folio(0x1000)
    assert (f.nr_pages, f.flags.test("swapbacked")) == (4, True)
    assert m.folio(0x1004).nr_pages == 1 and not m.folio(0x1004).flags.test("swapbacked")
    assert m.folio(0x1005).flags.test("swapbacked")
    assert m.folio(0x1008).nr_pages == 8
    # the torn run of 3 pages: an order-1 folio and an order-0 one
    assert m.folio(0x1014).nr_pages == 2 and m.folio(0x1016).nr_pages == 1
    for pfn in (0x1011, 0x1012, 0x1013):
        assert m.page(pfn).flags.test("reserved"), hex(pfn)
    for pfn in (0x1006, 0x1010, 0x1017, 0x1018, 0x1020):     # held kernel pages
        assert m.page(pfn).refcount == 1, hex(pfn)
    assert m.page(0x1021).is_tail           # compound_head: the overlay test below
    assert m.walk()["hole"] == 0x100 - 0x9f + 1 + 0x1000       # PFN 0, 0x9f-0xff, 96-112 MiB
    c = E.classify(s)
    same = {(z["zone"]) for z in r["zones"] if z["snapshot"] is not None and
            z["snapshot"]["start_pfn"] == z["model"]["start_pfn"] and
            z["snapshot"]["spanned"] == z["model"]["spanned"]}
    assert "DMA" in same and (bits == 32 or "DMA32" in same)   # i386 has no DMA32
    for f_ in r["free_blocks"]:
        assert f_["model"] == f_["expected"]
        if f_["zone"] in same:
            derived = c.free_blocks.get(f"0/{f_['zone']}", {})
            assert f_["model_in_snapshot_free"] == [derived.get(o, 0) for o in range(11)]
    dma = next(f_ for f_ in r["free_blocks"] if f_["zone"] == "DMA")
    assert dma["quiet"] and dma["model"] == dma["buddyinfo"]


@pytest.mark.classic_overlay
def test_synthetic_snapshot_hugetlb_tail_has_a_compound_head(variant):
    """The held hugetlb run is a compound page: its tails' compound_head word names
    the head (the memdesc designs have no compound pages: compound_head() of a
    typed page is a VM_BUG there)."""
    s = synthetic()
    m = memcore.Machine.from_snapshot(s, design=variant[0], bits=variant[1])
    assert m.page(0x1021).is_tail and m.page(0x1021).compound_head & ~1 == m.pfn_to_page(0x1020)


def test_the_uninitialised_memory_is_free(variant):
    s = synthetic()
    m = memcore.Machine.from_snapshot(s, design=variant[0], bits=variant[1])
    free = m._free_mask()
    own = ~free[0x8000:].astype(bool)
    assert free[0x8000:].sum() == 0x8000 - own.sum()
    assert own.sum() < 0x8000 // 4                 # the model's own boot memory only


# ---- taking a given block out of the buddy allocator --------------------------------------

def test_place_takes_exactly_the_block_asked_for(machine):
    m = machine("64MiB")
    K.warm_descriptor_caches(m)        # the placed folio's descriptor takes no slab page
    m.drain_pcp()
    before = m._free_mask()
    pfn = int(np.flatnonzero(before[0x2000:])[0]) + 0x2000
    pfn = (pfn + 511) & ~511
    assert before[pfn:pfn + 512].all()
    placed = m._snapshot_place([pfn + 8, pfn + 64, pfn + 256], [3, 6, 0],
                               [SB.SNAP_FILE, SB.SNAP_HELD, SB.SNAP_RESERVED])
    assert placed.tolist() == [1, 1, 1]
    after = m._free_mask()
    taken = np.flatnonzero(before.astype(bool) & ~after.astype(bool)).tolist()
    assert taken == list(range(pfn + 8, pfn + 16)) + list(range(pfn + 64, pfn + 128)) + \
        [pfn + 256]
    assert m.folio(pfn + 8).nr_pages == 8
    assert m.page(pfn + 256).flags.test("reserved")
    assert m.check()


def test_place_refuses_a_block_that_is_not_free_and_changes_nothing(machine):
    m = machine("64MiB")
    f = m.alloc_folio(order=2)
    m.drain_pcp()
    d = m._state_digest()
    placed = m._snapshot_place([f.pfn, f.pfn + 3, 1 << 40], [0, 0, 0],
                               [SB.SNAP_FILE] * 3)
    assert placed.tolist() == [0, 0, 0]
    assert m._state_digest() == d
    assert f.nr_pages == 4 and f.refcount == 1
    assert m.check()


# ---- retyping pageblocks ------------------------------------------------------------------

def _free_by_type(m, zone):
    return {t: list(v) for t, v in m.free_area(0, zone).items()}


def test_retyping_a_pageblock_moves_its_free_blocks(machine):
    m = machine("64MiB")
    f = m.alloc_folio(order=0)
    m.drain_pcp()
    zone = m.page(f.pfn).zone
    start = f.pfn & ~511
    before = _free_by_type(m, zone)
    free = m._free_mask(heads=True)[start:start + 512]
    orders = [int(o) - 1 for o in free if o]
    assert orders and m.page(start).migratetype == "Movable"
    done = m._snapshot_migratetypes([f.pfn], [2])
    assert done.tolist() == [1]
    after = _free_by_type(m, zone)
    for o in range(11):
        moved = orders.count(o)
        assert after["Reclaimable"][o] == before["Reclaimable"][o] + moved
        assert after["Movable"][o] == before["Movable"][o] - moved
    assert m.page(start).migratetype == "Reclaimable"
    assert m.check()
    # HIGHATOMIC blocks are a reserve, as reserve_highatomic_pageblock() counts it
    z0 = next(z for z in m.zones() if z["zone"] == zone)
    m._snapshot_migratetypes([start], [3])
    z1 = next(z for z in m.zones() if z["zone"] == zone)
    assert z1["nr_reserved_highatomic"] == z0["nr_reserved_highatomic"] + 512
    assert z1["nr_free_highatomic"] == sum(n << o for o, n in enumerate(
        _free_by_type(m, zone)["HighAtomic"]))
    m._snapshot_migratetypes([start], [1])
    assert next(z for z in m.zones() if z["zone"] == zone)["nr_reserved_highatomic"] == \
        z0["nr_reserved_highatomic"]
    assert m.check()


def test_retyping_keeps_a_free_max_order_block_one_type(machine):
    """An order-10 free block spans two pageblocks: retyping the first retypes
    both; the second alone is refused (it would split the block's type)."""
    m = machine("64MiB")
    m.drain_pcp()
    heads = m._free_mask(heads=True)
    pfn = int(np.flatnonzero(heads == 11)[-1])
    d = m._state_digest()
    assert m._snapshot_migratetypes([pfn + 512], [0]).tolist() == [0]
    assert m._state_digest() == d
    assert m._snapshot_migratetypes([pfn], [0]).tolist() == [1]
    assert m.page(pfn).migratetype == m.page(pfn + 512).migratetype == "Unmovable"
    assert m._snapshot_migratetypes([pfn + 512], [0]).tolist() == [1]   # already its type
    assert m.check()


@pytest.mark.parametrize("pfns, mts, match", [
    ([0x1000], [4], "migratetypes must be 0..3"),
    ([1 << 40], [0], "beyond the machine"),
    ([0x1000, 0x1200], [0], "one length"),
])
def test_retyping_refuses_bad_input_and_changes_nothing(machine, pfns, mts, match):
    m = machine("64MiB")
    m.drain_pcp()
    d = m._state_digest()
    with pytest.raises(ValueError, match=match):
        m._snapshot_migratetypes(pfns, mts)
    assert m._state_digest() == d


# ---- bad snapshots ---------------------------------------------------------------------

def _with(s, **texts_or_arrays):
    data = {k: np.array(v) for k, v in s.texts.items()}
    data.update(kpageflags=s.kpageflags, kpagecount=s.kpagecount, kpagecgroup=s.kpagecgroup,
                ram_ranges=s.ram_ranges, first_pfn=np.array(s.first_pfn, np.uint64))
    data.update({k: np.array(v) for k, v in texts_or_arrays.items()})
    return S.from_arrays(data, "bad")


@pytest.mark.parametrize("change, match", [
    (dict(zoneinfo="nothing here\n"), "no populated zone"),
    (dict(zoneinfo=ZONEINFO.replace("Node 0", "Node 1")), "nodes"),
    (dict(ram_ranges=np.array([[0x1000, 0x1000000]], np.uint64)), "cannot be booted.*too small"),
    (dict(ram_ranges=np.array([[0x100000, 0x6000000], [0x1000, 0x8000000]], np.uint64)),
     "cannot be booted.*not sorted"),
])
def test_bad_snapshots_raise_snapshot_error(change, match):
    s = _with(synthetic(), **change)
    with pytest.raises(memcore.SnapshotError, match=match):
        memcore.Machine.from_snapshot(s, design=VARIANTS[0][0], bits=VARIANTS[0][1])


def test_bad_snapshot_files_and_types(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(memcore.SnapshotError, match="x.npz"):
        memcore.Machine.from_snapshot(bad)
    with pytest.raises(memcore.SnapshotError, match="no such file"):
        memcore.Machine.from_snapshot(tmp_path / "missing.npz")
    with pytest.raises(TypeError, match="path or a memcore.snapshot.Snapshot"):
        memcore.Machine.from_snapshot(42)


@need64
def test_readme_from_snapshot_figures_are_this_boots(booted):
    """README's from_snapshot example (not run by the doctest: it needs the repo's
    tests/data) shows what booting the committed snapshot prints."""
    from conftest import ROOT
    text = (ROOT / "README.md").read_text()
    block = text[text.index('>>> m = memcore.Machine.from_snapshot('):]
    block = block[:block.index("```")]
    r = booted.snapshot_boot
    want = [repr((r["placed_pages"], r["displaced_pages"]))]
    want += [f'{f["zone"]} {f["model"]} {f["buddyinfo"]} {f["quiet"]}' for f in r["free_blocks"]]
    want += [f'{z["zone"]} {z["blocks"]["model"]} {z["match"]}' for z in r["migratetypes"]]
    lines = [ln for ln in block.splitlines() if not ln.startswith((">>>", "..."))]
    assert lines[:len(want)] == want


def test_ram_and_nodes_come_from_the_snapshot():
    for k in ("ram", "nodes"):
        with pytest.raises(TypeError, match=f"takes {k} from the snapshot"):
            memcore.Machine.from_snapshot(FIXTURE, **{k: 1})


@pytest.mark.skipif(("classic", 32) not in VARIANTS, reason="classic32 is not built")
def test_a_32bit_model_of_a_64bit_machines_ram_is_refused(snap):
    """The reference machine has RAM up to 25 GiB: more than i386 PAE's model boots."""
    with pytest.raises(memcore.SnapshotError, match="cannot be booted.*ends above"):
        memcore.Machine.from_snapshot(snap, bits=32)


@pytest.mark.parametrize("design, bits", VARIANTS, ids=VARIANT_IDS)
def test_kasan_sees_placed_pages_as_memory_and_free_ones_as_free(design, bits):
    m = memcore.Machine.from_snapshot(synthetic(), design=design, bits=bits, kasan=True)
    for pfn in (0x1004, 0x1006, 0x1011):          # a folio, held kernel pages, reserved
        assert m.read(m.page_offset + pfn * 4096, 8) == bytes(8)
    with pytest.raises(memcore.KASANReport, match="use-after-free"):
        m.read(m.page_offset + 0x2000 * 4096, 8)   # free in the snapshot: free here
    assert m.check()


# ---- any layout of pages: random synthetic snapshots ---------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conftest import examples  # noqa: E402

FOLIO_FLAGS = {"anon": B["ANON"] | B["LRU"], "file": B["LRU"] | B["UPTODATE"],
               "shmem": B["SWAPBACKED"] | B["LRU"], "slab": B["SLAB"]}
PIECES = st.lists(st.tuples(st.sampled_from(["free", "anon", "file", "shmem", "slab",
                                             "reserved", "no_state", "torn"]),
                            st.integers(0, 6)), min_size=1, max_size=40)


def random_snapshot(pieces):
    """The synthetic machine's memory map, its PFNs 0x1000.. laid out by pieces
    (kind, order), the rest of RAM below 96 MiB free, a section uninitialised."""
    s = synthetic()
    flags = np.zeros(s.nr_pfns, np.uint64)
    flags[1:0x9f] = B["RESERVED"]
    flags[0x100:0x6000] = B["BUDDY"]
    flags[0x7000:0x8000] = B["BUDDY"]
    pfn, heads = 0x1000, {}
    for kind, order in pieces:
        n = 1 << order
        pfn = (pfn + n - 1) & ~(n - 1)
        if pfn + n > 0x6000:
            break
        if kind in FOLIO_FLAGS:
            flags[pfn] = FOLIO_FLAGS[kind] | (B["COMPOUND_HEAD"] if order else 0)
            flags[pfn + 1:pfn + n] = B["COMPOUND_TAIL"] | (B["SLAB"] if kind == "slab" else 0)
            heads[pfn] = (kind, n)
        elif kind == "torn" and n >= 4:              # a compound run one page short
            flags[pfn] = B["COMPOUND_HEAD"] | B["LRU"]
            flags[pfn + 1:pfn + n - 1] = B["COMPOUND_TAIL"]
            flags[pfn + n - 1] = B["BUDDY"]
        elif kind == "reserved":
            flags[pfn:pfn + n] = B["RESERVED"]
        elif kind == "no_state":
            flags[pfn:pfn + n] = 0
        pfn += n
    data = {k: np.array(v) for k, v in s.texts.items()}
    data.update(kpageflags=flags, kpagecount=s.kpagecount, kpagecgroup=s.kpagecgroup,
                ram_ranges=s.ram_ranges, first_pfn=np.array(0, np.uint64))
    r = S.from_arrays(data, "random")
    data["pagetypeinfo"] = np.array(pagetypeinfo_of(r, SYNTH_TYPES))
    return S.from_arrays(data, "random"), heads


@pytest.mark.parametrize("design, bits", VARIANTS, ids=VARIANT_IDS)
@settings(max_examples=examples(12), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(pieces=PIECES)
def test_any_page_layout_boots_as_the_snapshot_says(design, bits, pieces):
    s, heads = random_snapshot(pieces)
    m = memcore.Machine.from_snapshot(s, design=design, bits=bits)
    assert m.check()
    r = m.snapshot_boot
    assert r["displaced_pages"] == {} and r["free_pfns_as_expected"]
    c = E.classify(s)
    for kind in ("anon", "file", "shmem"):
        assert r["placed_pages"][kind] == c.classes[kind]
    for pfn, (kind, n) in heads.items():
        if kind == "slab":
            assert m.page(pfn).refcount == 1
            continue
        f = m.folio(pfn)
        assert f.nr_pages == n and f.flags.test("swapbacked") == (kind != "file")
    for z in r["migratetypes"]:         # pagetypeinfo's pageblock counts and free lists
        assert z["blocks"]["model"] == z["blocks"]["snapshot"], z
        assert z["free"]["model"] == z["free"]["snapshot"], z
    dma = next(f for f in r["free_blocks"] if f["zone"] == "DMA")
    assert dma["model_in_snapshot_free"] == \
        [c.free_blocks.get("0/DMA", {}).get(o, 0) for o in range(11)]
    if bits == 64:
        dma32 = next(f for f in r["free_blocks"] if f["zone"] == "DMA32")
        assert dma32["model_in_snapshot_free"] == \
            [c.free_blocks.get("0/DMA32", {}).get(o, 0) for o in range(11)]
