"""``Machine.from_snapshot()``: boot a model with a real machine's memory.

The machine gets the snapshot's memory map and page state:

* RAM ranges and holes from iomem's System RAM ranges (``Machine(ram=[...])``),
  the number of nodes from zoneinfo, the CPUs from zoneinfo's pagesets;
* every PFN as ``memcore.estimate.classify()`` labels it: anon, shmem and
  file folios of their orders at their PFNs; slab, page-table, zero-page,
  hugetlb, offline, hwpoisoned, "no state" and "other" pages as *held*
  kernel pages (a compound page of the run's order with refcount 1 and no
  flags: the model's SLUB cannot hold the real objects, so they belong to a
  designated owner, the snapshot); reserved pages (and NOPAGE ones inside
  RAM) as PG_reserved, not managed; free pages (``buddy``) and memory whose
  struct pages were never initialised (``uninitialised``, which the kernel
  frees later, by deferred init) stay free, as buddy blocks of the orders the
  buddy allocator merges them into.

* pageblock migratetypes as ``/proc/pagetypeinfo`` counts them per zone
  (``assign_migratetypes()``: the file says how many, this picks which).

It boots the machine as usual (its own memblock metadata, memmap and boot
slab caches come first), drains the per-CPU lists, then takes each block of
the snapshot out of the free lists at its PFN with ``take_block_off_buddy()``
(the kernel's ``take_page_off_buddy()`` for any order), then retypes the
pageblocks.  A block that is not
wholly free there (the model's own boot memory sits on it) is *displaced*:
counted per class in the report, not placed.  Afterwards the watermarks and
per-CPU list limits are recomputed from the zones' managed pages.

``m.snapshot_boot`` reports what was placed and displaced, the zones next to
zoneinfo's, and per zone the free blocks per order: the model's, the ones
expected from the free PFNs, the snapshot's derived blocks
(``estimate.free_blocks``) and ``/proc/buddyinfo`` read before and after the
PFN arrays (a zone is *quiet* when those two agree); ``migratetypes`` has,
per zone, the pageblocks per type and the free blocks per (type, order):
the model's next to pagetypeinfo's.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, Tuple, Union

import numpy as np

from . import _variants
from . import estimate as E
from .errors import PFNOutOfRange, SnapshotError, UnknownChoice
from .snapshot import Snapshot, load

if TYPE_CHECKING:
    from ._variant import Machine

#: block kinds of Machine._snapshot_place() (boot.pxi SNAP_*)
SNAP_ANON, SNAP_SHMEM, SNAP_FILE, SNAP_HELD, SNAP_RESERVED = 1, 2, 3, 4, 5
KIND_NAMES = {SNAP_ANON: "anon", SNAP_SHMEM: "shmem", SNAP_FILE: "file", SNAP_HELD: "held",
              SNAP_RESERVED: "reserved"}
#: estimate class -> block kind (0: left free)
CLASS_KIND = {
    "hole": SNAP_RESERVED,          # only inside RAM ranges: KPF_NOPAGE
    "hwpoison": SNAP_HELD, "offline": SNAP_HELD, "buddy": 0, "slab": SNAP_HELD,
    "pgtable": SNAP_HELD, "zero_page": SNAP_HELD, "hugetlb": SNAP_HELD,
    "reserved": SNAP_RESERVED, "anon": SNAP_ANON, "shmem": SNAP_SHMEM, "file": SNAP_FILE,
    "uninitialised": 0, "no_state": SNAP_HELD, "other": SNAP_HELD,
}
MAX_ORDER = E.MAX_PAGE_ORDER


def _snapshot(snapshot: Union[str, "os.PathLike[str]", Snapshot]) -> Tuple[Snapshot, str]:
    if isinstance(snapshot, Snapshot):
        return snapshot, "snapshot"
    if isinstance(snapshot, (str, os.PathLike)):
        return load(snapshot), str(snapshot)
    raise TypeError(f"a snapshot is a path or a memcore.snapshot.Snapshot, "
                    f"not {type(snapshot).__name__}")


def plan(snap: Snapshot, cls: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray, int]:
    """The blocks to place: (pfns, orders, kinds, classes, torn).

    A folio (or held compound page) is its head and the tails attached to it
    (as classify() attaches them); every other PFN is a block of one page.  A
    run that is no naturally aligned power of two (a compound page split or
    freed during the read) is placed as the fewest aligned blocks that tile
    it, each its own folio; ``torn`` counts those runs."""
    flags = snap.kpageflags
    n = flags.shape[0]
    tail = (flags & E._bit("COMPOUND_TAIL")) != 0
    idx = np.arange(n)
    head_of = np.maximum.accumulate(np.where(~tail, idx, 0))
    attached = tail & ((flags[head_of] & E._bit("COMPOUND_HEAD")) != 0)
    starts = np.flatnonzero(~attached)
    lengths = np.diff(np.append(starts, n))
    kind_of_class = np.array([CLASS_KIND[c] for c in E.CLASS_NAMES], dtype=np.uint8)
    kinds = kind_of_class[cls[starts]]
    # PG_reserved pages the classifier names by something else first (the zero
    # page is in the kernel image): reserved, as the kernel never managed them
    reserved = (flags[starts] & E._bit("RESERVED")) != 0
    kinds[reserved & (kinds != 0)] = SNAP_RESERVED
    keep = kinds != 0
    # 'hole' is a block only inside RAM (NOPAGE there); outside it is the model's hole
    ram = snap.ram_mask()
    keep &= ~((cls[starts] == E.CLASS_NAMES.index("hole")) & ~ram[starts])
    starts, lengths, kinds = starts[keep], lengths[keep], kinds[keep]
    pfns = starts.astype(np.int64) + snap.first_pfn
    pow2 = (lengths & (lengths - 1)) == 0
    orders = np.zeros(lengths.shape, dtype=np.int64)
    orders[lengths > 1] = np.log2(lengths[lengths > 1]).astype(np.int64)
    good = pow2 & (lengths <= (1 << MAX_ORDER)) & ((pfns & (lengths - 1)) == 0)
    out_p, out_o, out_k, out_c = [pfns[good]], [orders[good]], [kinds[good]], \
        [cls[starts[good]]]
    torn = 0
    for s, ln, k, c in zip(pfns[~good], lengths[~good], kinds[~good], cls[starts[~good]]):
        torn += 1
        pieces = E.decompose(int(s), int(ln))
        pos = int(s)
        for o in pieces:
            out_p.append(np.array([pos]))
            out_o.append(np.array([o]))
            out_k.append(np.array([k], dtype=np.uint8))
            out_c.append(np.array([c], dtype=cls.dtype))
            pos += 1 << o
    return (np.concatenate(out_p).astype(np.uint64), np.concatenate(out_o).astype(np.uint8),
            np.concatenate(out_k).astype(np.uint8), np.concatenate(out_c), torn)


def _covered(pfns: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Every PFN of the blocks [pfns[i], pfns[i] + sizes[i])."""
    sizes = sizes.astype(np.int64)
    first = np.repeat(pfns.astype(np.int64), sizes)
    offset = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes,
                                                                     sizes)
    out: np.ndarray = first + offset
    return out


def _tile(starts: np.ndarray, lengths: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(pfns, orders) of the fewest aligned blocks (up to MAX_ORDER) tiling each run."""
    out_p, out_o = [], []
    pfn = np.asarray(starts, dtype=np.int64).copy()
    end = pfn + np.asarray(lengths, dtype=np.int64)
    keep = pfn < end
    pfn, end = pfn[keep], end[keep]
    while pfn.size:
        o = E.front_block_orders(pfn, end, MAX_ORDER)
        out_p.append(pfn.copy())
        out_o.append(o)
        pfn = pfn + (np.int64(1) << o)
        keep = pfn < end
        pfn, end = pfn[keep], end[keep]
    if not out_p:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_p), np.concatenate(out_o)


def _all_in(mask: np.ndarray, pfns: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """bool per block: every PFN of [pfns[i], + 2^orders[i]) is set in mask."""
    csum = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    ends = pfns + (np.int64(1) << orders)
    out: np.ndarray = (csum[ends] - csum[pfns]) == (ends - pfns)
    return out


def _blocks_per_order(free: np.ndarray, lo: int, hi: int) -> List[int]:
    """Blocks per order of the buddy-merged free PFNs in [lo, hi) (a zone span)."""
    starts, lengths = E._runs(free[lo:hi].astype(bool))
    return [int(x) for x in E.decompose_runs(starts + lo, lengths)]


#: the migratetypes a snapshot's pageblocks can take (MIGRATETYPE_NAMES 0..3)
BLOCK_TYPES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic")
#: which snapshot page classes make a pageblock look like each non-movable
#: type (weights): page tables and unflagged kernel memory are Unmovable
#: allocations, slab pages are either Unmovable or Reclaimable
TYPE_EVIDENCE = {
    "Unmovable": {"pgtable": 2, "other": 2, "slab": 1, "no_state": 1},
    "Reclaimable": {"slab": 1},
    "HighAtomic": {},
}


def _greedy_blocks(P: np.ndarray, target: np.ndarray, evidence: np.ndarray, need: int,
                   free_ok: np.ndarray) -> np.ndarray:
    """Indices of `need` pageblocks among those with free_ok whose free-block
    counts per order (rows of P) sum closest to `target`: greedily the block
    that brings the sum nearest (L1), ties to the most evidence; once no block
    brings it nearer, the rest by evidence."""
    picked: List[int] = []
    rest = target.astype(np.int64).copy()
    avail = free_ok.copy()
    has_free = P.any(axis=1)
    while len(picked) < need:
        cand = np.flatnonzero(avail & has_free)
        if cand.size == 0:
            break
        gain = (np.abs(rest)[None, :] - np.abs(rest[None, :] - P[cand])).sum(axis=1)
        best = gain.max()
        if best <= 0:
            break
        top = cand[gain == best]
        b = int(top[np.argmax(evidence[top])])
        picked.append(b)
        rest -= P[b]
        avail[b] = False
    if len(picked) < need:
        cand = np.flatnonzero(avail)
        gain = (np.abs(rest)[None, :] - np.abs(rest[None, :] - P[cand])).sum(axis=1)
        order = np.lexsort((-evidence[cand], -gain))
        picked.extend(int(b) for b in cand[order[:need - len(picked)]])
    return np.array(picked, dtype=np.int64)


def assign_migratetypes(m: "Machine", snap: Snapshot, cls: np.ndarray
                        ) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Give the machine's pageblocks the migratetypes of the snapshot's
    ``/proc/pagetypeinfo``: per zone, the number of pageblocks of each type,
    and free blocks per (type, order) as near its free-list counts as the
    placed free blocks allow.  pagetypeinfo says how many pageblocks have a
    type, not which: this picks them (see ``Decisions and deviations``).

    The pageblocks pagetypeinfo counts are the ones it samples (zone start,
    then every pageblock_nr_pages) whose struct page is online and initialised
    (``page_zone(page) == zone``: deferred struct page init leaves the rest
    with zone 0).  Of those:

    * a pageblock whose first PFN is outside RAM stays Unmovable (the kernel
      never set its type: memmap init skips holes);
    * free blocks of pageblock order and above (whole pageblocks) go to the
      types with free blocks of that order in pagetypeinfo, the rest Movable
      (since 6.10 a free block sits on its pageblock's type's list);
    * of the other pageblocks, each non-movable type takes its count, chosen
      greedily so that its free blocks per order come nearest the snapshot's,
      ties broken by the pages that mark such a block (TYPE_EVIDENCE);
    * every other pageblock, and memory not initialised in the snapshot
      (deferred init makes it Movable) or outside its window, is Movable.

    Returns (a report per zone, notes)."""
    pti = snap.pagetypeinfo
    notes: List[str] = []
    if pti is None:
        return [], ["pageblock migratetypes are the boot's (Movable): the snapshot has no "
                    "/proc/pagetypeinfo (it is readable by root only)"]
    pb_order = int(pti.pageblock_order)
    if pb_order != m.pageblock_order:
        return [], [f"pageblock migratetypes are the boot's: the snapshot's pageblock order is "
                    f"{pb_order}, the model's {m.pageblock_order}"]
    pb = 1 << pb_order
    lo, hi = snap.first_pfn, min(snap.end_pfn, m.nr_pfns)
    heads = m._free_mask(heads=True)
    ram_model = np.zeros(m.nr_pfns, dtype=bool)
    for r_start, r_end in m.ram_ranges:
        ram_model[r_start >> 12:r_end >> 12] = True
    # PFNs pagetypeinfo would count: inside the arrays and initialised
    known = np.zeros(m.nr_pfns, dtype=bool)
    known[lo:hi] = cls[:hi - lo] != E.CLASS_NAMES.index("uninitialised")
    # evidence per PFN for each type (snapshot classes; 0 outside the arrays)
    ev_pfn = {}
    for t, weights in TYPE_EVIDENCE.items():
        w = np.zeros(len(E.CLASS_NAMES), dtype=np.int64)
        for c, v in weights.items():
            w[E.CLASS_NAMES.index(c)] = v
        a = np.zeros(m.nr_pfns, dtype=np.int64)
        a[lo:hi] = w[cls[:hi - lo]]
        ev_pfn[t] = a
    zone_reports: List[Dict[str, Any]] = []
    all_pfns, all_mts = [], []
    movable = BLOCK_TYPES.index("Movable")
    for z in m.zones():
        key = (z["node"], z["zone"])
        want = pti.blocks.get(key)
        if want is None:
            continue
        zs, ze = z["start_pfn"], z["start_pfn"] + z["spanned"]
        samples = np.arange(zs, ze, pb, dtype=np.int64)     # as pagetypeinfo samples them
        nb = samples.size
        bidx0 = zs >> pb_order
        counted = known[samples]
        mt = np.full(nb, -1, dtype=np.int64)
        mt[~ram_model[samples]] = 0                           # holes: never typed
        # free blocks of the zone, per pageblock and order
        hp = np.flatnonzero(heads[zs:ze]) + zs
        ho = heads[hp].astype(np.int64) - 1
        P = np.zeros((nb, pb_order), dtype=np.int64)
        small = ho < pb_order
        np.add.at(P, ((hp[small] >> pb_order) - bidx0, ho[small]), 1)
        free_t = {t: np.array((pti.free.get(key, {}).get(t) or [])
                              + [0] * (MAX_ORDER + 1))[:MAX_ORDER + 1]
                  for t in BLOCK_TYPES}
        # whole free pageblocks: by order, the non-movable types' counts
        # first, from the blocks the snapshot counted
        for o in range(pb_order, MAX_ORDER + 1):
            units = hp[ho == o]
            units = units[np.argsort(~known[units], kind="stable")]
            k = 0
            for t in BLOCK_TYPES:
                if t == "Movable":
                    continue
                take = units[k:k + int(free_t[t][o])]
                take = take[known[take]]
                k += take.size
                for u in take:
                    first = (int(u) >> pb_order) - bidx0
                    mt[first:first + (1 << (o - pb_order))] = BLOCK_TYPES.index(t)
            for u in units[k:]:
                first = (int(u) >> pb_order) - bidx0
                mt[first:first + (1 << (o - pb_order))] = movable
        # the rest: each non-movable type's count, nearest its free lists
        for t in ("HighAtomic", "Reclaimable", "Unmovable"):
            ti = BLOCK_TYPES.index(t)
            need = int(want.get(t, 0)) - int(np.count_nonzero((mt == ti) & counted))
            if need <= 0:
                continue
            ev = np.add.reduceat(ev_pfn[t][zs:ze], samples - zs)
            chosen = _greedy_blocks(P, free_t[t][:pb_order], ev, need, (mt < 0) & counted)
            mt[chosen] = ti
        mt[mt < 0] = movable
        all_pfns.append(samples)
        all_mts.append(mt)
        zone_reports.append({"node": z["node"], "zone": z["zone"], "samples": samples,
                             "counted": counted, "hp": hp, "ho": ho})
    if all_pfns:
        done = m._snapshot_migratetypes(np.concatenate(all_pfns).astype(np.uint64),
                                        np.concatenate(all_mts).astype(np.uint8))
        refused = int(np.count_nonzero(done == 0))
        if refused:
            notes.append(f"{refused} pageblocks could not be retyped (inside a larger free "
                         f"block of another type)")
    # the result, next to the snapshot's: pageblocks the snapshot counted, and
    # the free blocks in them (memory not initialised in the snapshot is free
    # in the model but on no free list in the snapshot)
    for zr in zone_reports:
        key = (zr["node"], zr["zone"])
        samples, counted = zr.pop("samples"), zr.pop("counted")
        hp, ho = zr.pop("hp"), zr.pop("ho")
        got = np.full(samples.size, -1, dtype=np.int64)
        for i, s_pfn in enumerate(samples):
            try:
                got[i] = m._pageblock_bits(int(s_pfn)) & 0x7
            except PFNOutOfRange:
                pass        # no struct page: pfn_to_online_page() skips it too
        got_c = got[counted & (got >= 0)]
        zr["blocks"] = {"model": {t: int(np.count_nonzero(got_c == i))
                                  for i, t in enumerate(BLOCK_TYPES)},
                        "snapshot": {t: int(pti.blocks[key].get(t, 0)) for t in BLOCK_TYPES},
                        "not_counted": int(np.count_nonzero(~counted & (got >= 0)))}
        zs = int(samples[0]) if samples.size else 0
        head_type = got[(hp >> pb_order) - (zs >> pb_order)]
        sel = known[hp]
        zr["free"] = {"model": {t: [int(np.count_nonzero(sel & (head_type == i) & (ho == o)))
                                    for o in range(MAX_ORDER + 1)]
                                for i, t in enumerate(BLOCK_TYPES)},
                      "snapshot": {t: [int(x) for x in pti.free.get(key, {}).get(t, [])]
                                   for t in BLOCK_TYPES}}
        zr["match"] = zr["blocks"]["model"] == zr["blocks"]["snapshot"] and \
            zr["free"]["model"] == zr["free"]["snapshot"]
    notes.append("pageblock migratetypes follow /proc/pagetypeinfo's counts per zone; which "
                 "pageblocks have each type is chosen to fit its free lists (the file does not "
                 "say)")
    for t in pti.types:
        if t not in BLOCK_TYPES and t != "Isolate" and any(v.get(t, 0)
                                                           for v in pti.blocks.values()):
            notes.append(f"the snapshot's {t} pageblocks are Movable: the model has no {t}")
    if any(v.get("Isolate", 0) for v in pti.blocks.values()):
        notes.append("the snapshot's Isolate pageblocks (isolated while it was read) are typed "
                     "as the rest")
    return zone_reports, notes


def from_snapshot(snapshot: Union[str, "os.PathLike[str]", Snapshot], design: str = "classic",
                  bits: int = 64, **kwargs: Any) -> "Machine":
    """Boot a Machine with the snapshot's memory map and page state (see the
    module docstring); ``m.snapshot_boot`` says what was placed and how the
    free blocks compare with the snapshot's."""
    for k in ("ram", "nodes"):
        if k in kwargs:
            raise TypeError(f"from_snapshot() takes {k} from the snapshot (iomem, zoneinfo), "
                            f"not as an argument")
    snap, where = _snapshot(snapshot)
    zones = [z for z in snap.zones if z.spanned > 0]
    if not zones:
        raise SnapshotError(f"{where}: zoneinfo has no populated zone")
    node_ids = sorted({z.node for z in zones})
    if node_ids != list(range(len(node_ids))):
        raise SnapshotError(f"{where}: zoneinfo's nodes {node_ids} are not 0..{len(node_ids) - 1}")
    ranges = [(int(s), int(e)) for s, e in snap.ram_ranges]
    cpus_note = None
    if "cpus" not in kwargs:
        cpus = snap.ncpus or 2
        if cpus > 64:
            cpus_note = f"the snapshot has {cpus} CPUs; the model runs 64"
            cpus = 64
        kwargs["cpus"] = cpus
    c = E.classify(snap, keep_classes=True)
    cls = c.class_of
    assert cls is not None
    pfns, orders, kinds, bclass, torn = plan(snap, cls)
    lo, hi = snap.first_pfn, snap.end_pfn

    # The boot's own allocations (SLUB's caches) come from memory the snapshot
    # leaves uninitialised (or outside its window) when there is room: the
    # snapshot's used and free blocks are held out of their reach meanwhile.
    ram_pages = snap.ram_bytes >> 12
    spare = int(c.classes["uninitialised"]) + (ram_pages - int(snap.ram_mask().sum()))
    hold = spare >= ram_pages // 25 + 16384
    if hold:
        fs, fl = E._runs(cls == E.CLASS_NAMES.index("buddy"))
        free_p, free_o = _tile(fs + lo, fl)
        hold_p = np.concatenate([pfns, free_p.astype(np.uint64)])
        hold_o = np.concatenate([orders, free_o.astype(np.uint8)])
    try:
        mod = _variants.module(design, bits)
        if hold:
            m, _ = mod.Machine._boot_holding(hold_p, hold_o, ranges, nodes=len(node_ids),
                                             **kwargs)
        else:
            m = mod.Machine(ranges, nodes=len(node_ids), **kwargs)
    except UnknownChoice:
        raise
    except (ValueError, TypeError) as e:
        if "ram" in str(e) or "node" in str(e):
            raise SnapshotError(f"{where}: its memory map cannot be booted: {e}") from None
        raise
    hi = max(lo, min(hi, m.nr_pfns))

    m.drain_pcp()
    free_before = m._free_mask().astype(bool)
    desc_before = m._descriptor_slab_mask()
    placed = m._snapshot_place(pfns, orders, kinds, kwargs.get("min_free_kbytes")).astype(bool)
    m.drain_pcp()
    mt_report, mt_notes = assign_migratetypes(m, snap, cls)
    free_after = m._free_mask().astype(bool)
    # the memdesc designs allocate a descriptor per placed folio: the slabs of
    # their descriptor caches take free memory the snapshot's kernel (6.18,
    # descriptors in the memmap) did not need
    desc_pages = m._descriptor_slab_mask() & ~desc_before

    # what the model's own boot took of memory the snapshot had free or not yet
    # initialised (memblock metadata, boot slabs; the first MiB)
    sizes = (np.uint64(1) << orders.astype(np.uint64))
    own = np.zeros(m.nr_pfns, dtype=bool)
    ram_model = np.zeros(m.nr_pfns, dtype=bool)
    for r_start, r_end in m.ram_ranges:
        ram_model[r_start >> 12:r_end >> 12] = True
    own[:] = ram_model & ~free_before
    report = m.snapshot_boot
    assert report is not None
    placed_pages: Dict[str, int] = {}
    placed_blocks: Dict[str, int] = {}
    for code, name in KIND_NAMES.items():
        sel = placed & (kinds == code)
        placed_blocks[name] = int(sel.sum())
        placed_pages[name] = int(sizes[sel].sum())
    displaced: Dict[str, int] = {}
    already_reserved = 0
    for i in np.flatnonzero(~placed):
        p, nr = int(pfns[i]), int(sizes[i])
        name = E.CLASS_NAMES[int(bclass[i])]
        if kinds[i] == SNAP_RESERVED and own[p:p + nr].all():
            already_reserved += nr          # reserved in both: the model's boot memory
            continue
        displaced[name] = displaced.get(name, 0) + nr
    # the PFNs that should be free now: free after the model's boot, less the blocks placed
    expect_free = free_before.copy()
    expect_free[_covered(pfns[placed], sizes[placed])] = False
    expect_free[desc_pages] = False
    snap_free = np.zeros(m.nr_pfns, dtype=bool)
    w = (cls == E.CLASS_NAMES.index("buddy")) | (cls == E.CLASS_NAMES.index("uninitialised"))
    snap_free[lo:hi] = w[:hi - lo]
    snap_buddy = np.zeros(m.nr_pfns, dtype=bool)
    snap_buddy[lo:hi] = (cls == E.CLASS_NAMES.index("buddy"))[:hi - lo]

    bi = {(n, z): o for n, z, o in snap.buddyinfo}
    bi_after = {(n, z): o for n, z, o in snap.buddyinfo_after}
    snap_zone = {(z.node, z.name): z for z in snap.zones}
    zrep, frep = [], []
    for z in m.zones():
        key = (z["node"], z["zone"])
        sz = snap_zone.get(key)
        zrep.append({"node": z["node"], "zone": z["zone"],
                     "model": {k: z[k] for k in ("start_pfn", "spanned", "present", "managed")},
                     "snapshot": None if sz is None else
                     {"start_pfn": sz.start_pfn, "spanned": sz.spanned, "present": sz.present,
                      "managed": sz.managed}})
        fa = m.free_area(z["node"], z["zone"])
        model = [sum(fa[mt][o] for mt in fa) for o in range(MAX_ORDER + 1)]
        zs, ze = z["start_pfn"], z["start_pfn"] + z["spanned"]
        derived = c.free_blocks.get(f"{z['node']}/{z['zone']}", {})
        b0, b1 = bi.get(key), bi_after.get(key)
        fp, fo = _tile(*(lambda r: (r[0] + zs, r[1]))(E._runs(expect_free[zs:ze])))
        inside = _all_in(snap_buddy, fp, fo)
        frep.append({
            "node": z["node"], "zone": z["zone"], "model": model,
            "expected": _blocks_per_order(expect_free, zs, ze),
            "model_in_snapshot_free": [int(np.count_nonzero(inside & (fo == o)))
                                       for o in range(MAX_ORDER + 1)],
            "derived": [derived.get(o, 0) for o in range(MAX_ORDER + 1)],
            "buddyinfo": b0, "buddyinfo_after": b1,
            "quiet": b0 is not None and b0 == b1,
            "uninitialised": int(np.count_nonzero(
                cls[max(zs, lo) - lo:max(min(ze, hi), lo) - lo]
                == E.CLASS_NAMES.index("uninitialised"))) if hi > lo else 0,
            "own": int(np.count_nonzero(own[zs:ze] & snap_free[zs:ze])),
        })
    notes = [
        "uninitialised memory (struct pages the kernel had not initialised yet) is free",
        "slab, page-table, zero, hugetlb, offline, hwpoison, no_state and other pages are "
        "held kernel pages (compound pages of their run's order, refcount 1, no flags)",
        *mt_notes,
        "shmem folios look like anon ones (PG_swapbacked): the model has no mappings",
    ]
    if snap.window:
        notes.append(f"a window: PFNs outside [{lo:#x}, {snap.end_pfn:#x}) are left as the "
                     f"model's boot left them (free)")
    if cpus_note:
        notes.append(cpus_note)
    report.update({
        "snapshot": where, "uname_r": snap.uname_r, "window": snap.window,
        "first_pfn": lo, "end_pfn": snap.end_pfn,
        "placed_pages": placed_pages, "placed_blocks": placed_blocks,
        "displaced_pages": displaced, "already_reserved_pages": already_reserved,
        "uninitialised_pages": int(c.classes["uninitialised"]),
        "own_pages": int(np.count_nonzero(own & snap_free)),
        "torn": torn, "boot_allocations_held_off": hold,
        "free_pfns_as_expected": bool(np.array_equal(free_after, expect_free)),
        "descriptor_pages": int(np.count_nonzero(desc_pages)),
        "zones": zrep, "free_blocks": frep, "migratetypes": mt_report, "notes": notes,
    })
    machine: Machine = m
    return machine


__all__ = ["from_snapshot", "plan", "assign_migratetypes", "CLASS_KIND", "KIND_NAMES"]
