"""``memcore estimate``: a real machine's page state, priced under every design.

Three steps, each a function:

``classify(snapshot)``
    one class per PFN from /proc/kpageflags and /proc/kpagecount (bits as in
    Documentation/admin-guide/mm/pagemap.rst), folio counts per (kind, order)
    from the COMPOUND_HEAD/COMPOUND_TAIL runs, slabs and page-table pages by
    order, and the free blocks derived from the BUDDY runs.
``price(classification)``
    for every variant whose layouts memcore has: memmap bytes (sizeof(struct
    page) x PFNs with a struct page) and descriptor bytes (descriptor counts x
    object sizes, packed into whole slabs as the model's SLUB packs them).
``selfcheck(snapshot, classification, costs)``
    the model's figures against the kernel's own counters of the same moment.

What is approximate, and why, is listed in docs/ARCHITECTURE.md ("Decisions
and deviations") and printed as notes with the output.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
import sys
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .snapshot import PAGE_SIZE, Snapshot
from .errors import MemcoreError

# ---- /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) ---------------------

KPF = {
    "LOCKED": 0, "ERROR": 1, "REFERENCED": 2, "UPTODATE": 3, "DIRTY": 4, "LRU": 5,
    "ACTIVE": 6, "SLAB": 7, "WRITEBACK": 8, "RECLAIM": 9, "BUDDY": 10, "MMAP": 11,
    "ANON": 12, "SWAPCACHE": 13, "SWAPBACKED": 14, "COMPOUND_HEAD": 15, "COMPOUND_TAIL": 16,
    "HUGE": 17, "UNEVICTABLE": 18, "HWPOISON": 19, "NOPAGE": 20, "KSM": 21, "THP": 22,
    "OFFLINE": 23, "ZERO_PAGE": 24, "IDLE": 25, "PGTABLE": 26,
    # kernel-hacking bits (include/linux/kernel-page-flags.h)
    "RESERVED": 32, "MLOCKED": 33, "OWNER_2": 34, "PRIVATE": 35, "PRIVATE_2": 36,
    "OWNER_PRIVATE": 37, "ARCH": 38, "UNCACHED": 39, "SOFTDIRTY": 40, "ARCH_2": 41,
}

#: flags that show a page belongs to a folio (page cache, anon, LRU state).
#: Not the compound flags alone: a compound page with no other flag is a
#: kernel allocation (kmalloc_large(), other __GFP_COMP pages), class "other";
#: a folio's tail pages carry its flags (stable_page_flags() reads the folio's)
FOLIO_EVIDENCE = ("LRU", "UPTODATE", "DIRTY", "WRITEBACK", "MMAP", "SWAPCACHE", "UNEVICTABLE",
                  "MLOCKED", "REFERENCED", "ACTIVE", "RECLAIM", "THP", "SWAPBACKED", "ANON")

#: the page classes, in precedence order (a PFN takes the first that fits)
CLASSES = (
    ("hole", "not System RAM in iomem, or KPF_NOPAGE"),
    ("hwpoison", "KPF_HWPOISON"),
    ("offline", "KPF_OFFLINE (ballooned, offlined)"),
    ("buddy", "free in the buddy allocator (KPF_BUDDY: every page of a free block)"),
    ("slab", "slab pages (KPF_SLAB, head and tails)"),
    ("pgtable", "page-table pages (KPF_PGTABLE)"),
    ("zero_page", "the shared zero page(s) (KPF_ZERO_PAGE)"),
    ("hugetlb", "hugetlbfs folios (KPF_HUGE)"),
    ("reserved", "PG_reserved (kernel image, memblock, firmware)"),
    ("anon", "anonymous folios (KPF_ANON; includes KSM)"),
    ("shmem", "shmem/tmpfs folios (KPF_SWAPBACKED without KPF_ANON)"),
    ("file", "page-cache folios (LRU or page-cache flags, not anon, not swapbacked)"),
    ("uninitialised", "no flags, map count 0, in a run of a memory section or more: "
                      "struct pages never initialised (deferred struct page init)"),
    ("no_state", "no flags, map count 0 (kernel allocations without flags: vmalloc, "
                 "stacks, page-table-less kernel pages; pages on per-CPU free lists)"),
    ("other", "anything else (mapped with no flags: special mappings; compound pages "
              "with no other flag: kmalloc_large() and other compound kernel allocations)"),
)
CLASS_NAMES = tuple(c for c, _ in CLASSES)
FOLIO_KINDS = ("anon", "shmem", "file", "hugetlb")

#: x86_64: SECTION_SIZE_BITS 27, MAX_PAGE_ORDER 10
SECTION_PFNS = 1 << (27 - 12)
MAX_PAGE_ORDER = 10


def _bit(name: str) -> np.uint64:
    return np.uint64(1) << np.uint64(KPF[name])


def _mask(names) -> np.uint64:
    m = np.uint64(0)
    for n in names:
        m |= _bit(n)
    return m


@dataclass
class Classification:
    """What ``classify()`` found: pages per class and descriptor counts."""

    nr_pfns: int
    first_pfn: int
    window: bool
    ram_bytes: int
    memmap_pfns: int                                    # PFNs with a struct page
    classes: Dict[str, int]                             # pages per class (sums to nr_pfns)
    folios: Dict[Tuple[str, int], int]                  # (kind, order) -> folios
    slabs: Dict[int, int]                               # order -> slabs
    pgtables: Dict[int, int]                            # order -> page-table descriptors
    thp_pages: int                                      # pages in large rmappable folios
    free_blocks: Dict[str, Dict[int, int]]              # zone -> order -> blocks (derived)
    torn_compound: int                                  # head runs that are no power of two
    class_of: Optional[np.ndarray] = field(default=None, repr=False)   # int8 per PFN
    kernel_compound_pages: int = 0                      # "other" pages of compound pages

    @property
    def nr_folios(self) -> int:
        return sum(self.folios.values())

    def folio_count(self, large: bool) -> int:
        return sum(n for (_, o), n in self.folios.items() if (o > 0) == large)

    @property
    def nr_slabs(self) -> int:
        return sum(self.slabs.values())

    @property
    def nr_pgtables(self) -> int:
        return sum(self.pgtables.values())

    def to_dict(self) -> Dict[str, Any]:
        return {
            "pfns": self.nr_pfns, "first_pfn": self.first_pfn, "window": self.window,
            "ram_bytes": self.ram_bytes, "memmap_pfns": self.memmap_pfns,
            "pages": dict(self.classes),
            "folios": [{"kind": k, "order": o, "count": n}
                       for (k, o), n in sorted(self.folios.items())],
            "slabs": [{"order": o, "count": n} for o, n in sorted(self.slabs.items())],
            "pgtables": [{"order": o, "count": n} for o, n in sorted(self.pgtables.items())],
            "thp_pages": self.thp_pages,
            "free_blocks": {z: {str(o): n for o, n in sorted(d.items())}
                            for z, d in self.free_blocks.items()},
            "torn_compound": self.torn_compound,
        }


# ---- classification --------------------------------------------------------------------

def _runs(mask: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of the True runs of a bool array."""
    d = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return starts, ends - starts


def _order_of(length: np.ndarray) -> np.ndarray:
    """ceil(log2(length)) for lengths >= 1."""
    out = np.zeros(length.shape, dtype=np.int64)
    big = length > 1
    out[big] = np.ceil(np.log2(length[big].astype(np.float64))).astype(np.int64)
    return out


def memmap_pfns(snap: Snapshot) -> int:
    """PFNs of the snapshot's range that have a struct page: those of every
    memory section (SECTION_PFNS) holding some System RAM, as SPARSEMEM
    allocates the memmap per present section."""
    lo, hi = snap.first_pfn, snap.end_pfn
    present = set()
    for s, e in snap.ram_ranges:
        s_pfn, e_pfn = int(s) >> 12, (int(e) + PAGE_SIZE - 1) >> 12
        for sec in range(s_pfn // SECTION_PFNS, (e_pfn - 1) // SECTION_PFNS + 1):
            present.add(sec)
    total = 0
    for sec in present:
        a, b = max(sec * SECTION_PFNS, lo), min((sec + 1) * SECTION_PFNS, hi)
        if b > a:
            total += b - a
    return total


def classify(snap: Snapshot, keep_classes: bool = False) -> Classification:
    flags, count = snap.kpageflags, snap.kpagecount
    n = flags.shape[0]
    tail = (flags & _bit("COMPOUND_TAIL")) != 0
    nt = np.flatnonzero(~tail)                  # every head or single page
    t_idx = np.flatnonzero(tail)
    # a tail takes its folio's flags: those of the last non-tail PFN before it,
    # if that is a compound head (a tail whose head is outside the window, or
    # torn, keeps its own); only the tails are looked at
    eff = flags
    if t_idx.size:
        pos = np.searchsorted(nt, t_idx) - 1
        h = nt[np.maximum(pos, 0)] if nt.size else np.zeros_like(t_idx)
        ok = (pos >= 0) & ((flags[h] & _bit("COMPOUND_HEAD")) != 0)
        eff = flags.copy()
        eff[t_idx[ok]] = flags[h[ok]]

    # two 32-bit halves: half the memory traffic of a 64-bit test per flag
    # (strided views of the words, little-endian as kpageflags is read)
    halves = np.ascontiguousarray(eff).view(np.uint32).reshape(-1, 2)
    lo32, hi32 = (halves[:, 0], halves[:, 1]) if sys.byteorder == "little" else \
        (halves[:, 1], halves[:, 0])

    def has(name: str) -> np.ndarray:
        b = KPF[name]
        return (lo32 & np.uint32(1 << b)) != 0 if b < 32 else (hi32 & np.uint32(1 << (b - 32))) != 0

    ram = snap.ram_mask()
    zero_state = (flags == 0) & (count == 0) & ram
    starts, lengths = _runs(zero_state)
    long_zero = np.zeros(n, dtype=bool)
    for s, ln in zip(starts[lengths >= SECTION_PFNS], lengths[lengths >= SECTION_PFNS]):
        long_zero[s:s + ln] = True
    ev = int(_mask(FOLIO_EVIDENCE))
    folio_ev = ((lo32 & np.uint32(ev & 0xFFFFFFFF)) != 0) | ((hi32 & np.uint32(ev >> 32)) != 0)
    anon = has("ANON")
    conditions = [
        ~ram | has("NOPAGE"),
        has("HWPOISON"),
        has("OFFLINE"),
        has("BUDDY"),
        has("SLAB"),
        has("PGTABLE"),
        has("ZERO_PAGE"),
        has("HUGE"),
        has("RESERVED"),
        anon,
        has("SWAPBACKED") & ~anon,
        folio_ev,
        long_zero,
        zero_state,
    ]
    cls = np.select(conditions, list(range(len(conditions))),
                    default=len(CLASS_NAMES) - 1).astype(np.int8)
    counts = np.bincount(cls, minlength=len(CLASS_NAMES))
    classes = {name: int(counts[i]) for i, name in enumerate(CLASS_NAMES)}

    # descriptors: one per head (a non-tail PFN) of a class, of order 0 unless
    # it is a compound head: then the order of its run (up to the next
    # non-tail PFN).  Only the heads are looked at one by one.
    heads = np.flatnonzero((flags & (_bit("COMPOUND_HEAD") | _bit("COMPOUND_TAIL")))
                           == _bit("COMPOUND_HEAD"))
    hpos = np.searchsorted(nt, heads)               # each head's place among the non-tails
    after = hpos + 1
    nxt = np.where(after < nt.size, nt[np.minimum(after, max(nt.size - 1, 0))], n)
    run_h = nxt - heads
    ord_h = _order_of(run_h)
    torn = int(np.count_nonzero(run_h & (run_h - 1)))
    start_cls = cls[nt]
    width = int(ord_h.max()) + 1 if ord_h.size else 1
    per = np.zeros((len(CLASS_NAMES), width), dtype=np.int64)
    per[:, 0] = np.bincount(start_cls, minlength=len(CLASS_NAMES))
    head_cls = cls[heads].astype(np.int64)
    per -= np.bincount(head_cls * width, minlength=len(CLASS_NAMES) * width).reshape(per.shape)
    per += np.bincount(head_cls * width + ord_h,
                       minlength=len(CLASS_NAMES) * width).reshape(per.shape)

    def tally(class_name: str) -> Dict[int, int]:
        row = per[CLASS_NAMES.index(class_name)]
        return {int(o): int(c) for o, c in enumerate(row) if c}

    folios = {}
    for kind in FOLIO_KINDS:
        for o, c in tally(kind).items():
            folios[(kind, o)] = c
    thp_pages = int(np.count_nonzero(has("THP") & np.isin(cls, [CLASS_NAMES.index(k) for k in
                                                                  ("anon", "shmem", "file")])))
    return Classification(
        nr_pfns=n, first_pfn=snap.first_pfn, window=snap.window, ram_bytes=snap.ram_bytes,
        memmap_pfns=memmap_pfns(snap), classes=classes, folios=folios,
        slabs=tally("slab"), pgtables=tally("pgtable"), thp_pages=thp_pages,
        free_blocks=free_blocks(snap, cls == CLASS_NAMES.index("buddy")),
        torn_compound=torn, class_of=cls if keep_classes else None,
        kernel_compound_pages=int(np.count_nonzero(
            (cls == CLASS_NAMES.index("other"))
            & (has("COMPOUND_HEAD") | has("COMPOUND_TAIL")))))


def decompose(start: int, length: int, max_order: int = MAX_PAGE_ORDER) -> List[int]:
    """Orders of the fewest naturally aligned blocks that tile [start, start+length):
    what a run of free pages is when the buddy allocator merged all it could."""
    out = []
    pfn, end = start, start + length
    while pfn < end:
        o = max_order
        while o > 0 and (pfn & ((1 << o) - 1) or pfn + (1 << o) > end):
            o -= 1
        out.append(o)
        pfn += 1 << o
    return out


def front_block_orders(pfn: np.ndarray, end: np.ndarray, max_order: int) -> np.ndarray:
    """The order of the largest naturally aligned block (up to `max_order`) that
    starts at each pfn and ends by the matching end: the lesser of the pfn's
    alignment (its trailing zero bits; max_order for pfn 0) and the room left."""
    low = pfn & -pfn
    align = np.where(pfn == 0, max_order,
                     np.minimum(np.log2(np.maximum(low, 1)).astype(np.int64), max_order))
    room = np.floor(np.log2((end - pfn).astype(np.float64))).astype(np.int64)
    return np.minimum(align, room)


def decompose_runs(starts: np.ndarray, lengths: np.ndarray,
                   max_order: int = MAX_PAGE_ORDER) -> np.ndarray:
    """Blocks per order of ``decompose()`` over many runs at once (vectorised:
    each step takes the largest aligned block at every run's front, and all
    the max-order blocks that fit in one go), as counts indexed by order."""
    counts = np.zeros(max_order + 1, dtype=np.int64)
    pfn = np.asarray(starts, dtype=np.int64).copy()
    end = pfn + np.asarray(lengths, dtype=np.int64)
    live = pfn < end
    pfn, end = pfn[live], end[live]
    while pfn.size:
        o = front_block_orders(pfn, end, max_order)
        many = np.where(o == max_order, (end - pfn) >> max_order, 1)
        counts += np.bincount(o, weights=many, minlength=max_order + 1).astype(np.int64)
        pfn = pfn + (many << o)
        keep = pfn < end
        pfn, end = pfn[keep], end[keep]
    return counts


def free_blocks(snap: Snapshot, free: np.ndarray) -> Dict[str, Dict[int, int]]:
    """Free blocks per zone and order, derived from the runs of free PFNs.

    KPF_BUDDY marks every page of a free block (stable_page_flags(): PageBuddy
    on the first page, is_free_buddy_page() on the others), so the blocks'
    extents are not in kpageflags: each run of free pages (split at zone
    boundaries) is tiled with the fewest aligned blocks, as if every possible
    merge had happened."""
    zones = [z for z in snap.zones if z.spanned > 0]
    bounds = sorted({snap.first_pfn, snap.end_pfn}
                    | {min(max(z.start_pfn, snap.first_pfn), snap.end_pfn) for z in zones}
                    | {min(max(z.end_pfn, snap.first_pfn), snap.end_pfn) for z in zones})
    out: Dict[str, Dict[int, int]] = {}
    for lo, hi in zip(bounds, bounds[1:]):
        if hi <= lo:
            continue
        zone = next((f"{z.node}/{z.name}" for z in zones if z.start_pfn <= lo < z.end_pfn),
                    "outside any zone")
        starts, lengths = _runs(free[lo - snap.first_pfn:hi - snap.first_pfn])
        d = out.setdefault(zone, {})
        for o, n in enumerate(decompose_runs(starts + lo, lengths)):
            if n:
                d[o] = d.get(o, 0) + int(n)
    return {z: d for z, d in out.items() if d}


# ---- pricing ---------------------------------------------------------------------------

def variants() -> Tuple[Tuple[str, int], ...]:
    """Every (design, bits) whose layouts memcore has: ``memcore.layout_variants()``
    where it exists, else the compiled variants."""
    import memcore
    lv = getattr(memcore, "layout_variants", None)
    return tuple(lv()) if lv is not None else tuple(memcore.variants())


@dataclass
class DescriptorCost:
    kind: str              # folio_small, folio_large, slab, ptdesc
    struct: str
    count: int
    object_size: int
    objs_per_slab: int
    slab_order: int
    slabs: int

    @property
    def bytes(self) -> int:
        return self.slabs * (PAGE_SIZE << self.slab_order)

    def to_dict(self) -> Dict[str, Any]:
        return {"kind": self.kind, "struct": self.struct, "count": self.count,
                "object_size": self.object_size, "objs_per_slab": self.objs_per_slab,
                "slab_order": self.slab_order, "slabs": self.slabs, "bytes": self.bytes}


@dataclass
class VariantCost:
    design: str
    bits: int
    page_size: int
    memmap_bytes: int
    descriptors: List[DescriptorCost]
    overlay: bool          # descriptors overlay struct page (classic)
    notes: List[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.design}{self.bits}"

    @property
    def descriptor_bytes(self) -> int:
        return sum(d.bytes for d in self.descriptors)

    @property
    def total_bytes(self) -> int:
        return self.memmap_bytes + self.descriptor_bytes

    def to_dict(self) -> Dict[str, Any]:
        return {"design": self.design, "bits": self.bits, "page_size": self.page_size,
                "memmap_bytes": self.memmap_bytes, "descriptor_bytes": self.descriptor_bytes,
                "total_bytes": self.total_bytes, "overlay": self.overlay,
                "descriptors": [d.to_dict() for d in self.descriptors], "notes": self.notes}


@lru_cache(maxsize=None)
def _slub_machine(bits: int, cpus: int):
    import memcore
    return memcore.Machine("64MiB", bits=bits, cpus=cpus)


@lru_cache(maxsize=None)
def slab_geometry(size: int, bits: int, cpus: int = 2) -> Tuple[int, int]:
    """(objects per slab, slab order) of a cache of ``size``-byte objects
    aligned to 16, as the model's SLUB (classic design, same word size, the
    snapshot's CPU count) lays it out."""
    m = _slub_machine(bits, cpus)
    c = m.kmem_cache_create(f"memdesc_{size}", size, align=16)
    return int(c.objs_per_slab), int(c.order)


def descriptors_overlay(design: str, bits: int) -> bool:
    """True when the design's descriptors overlay struct page (no allocation):
    its struct page has no ``memdesc`` member, as classic's has not."""
    import memcore
    return "memdesc" not in memcore.layout("page", design, bits)


def price(c: Classification, which=None, cpus: int = 2,
          skipped: Optional[List[Tuple[str, str]]] = None) -> List[VariantCost]:
    """Memmap and descriptor bytes of the classified state in every variant.
    A variant whose layouts cannot be read is left out, with the reason
    appended to ``skipped`` as (name, reason)."""
    import memcore
    out = []
    for design, bits in (which if which is not None else variants()):
        notes: List[str] = []
        try:
            names = memcore.struct_names(design, bits)
            page = memcore.layout("page", design, bits)
        except Exception as e:         # layouts not available for this variant
            if skipped is not None:
                skipped.append((f"{design}{bits}", f"no layouts: {str(e).splitlines()[0]}"))
            continue
        overlay = descriptors_overlay(design, bits)
        descs: List[DescriptorCost] = []
        if not overlay:
            wanted = []
            if "folio" in names:
                folio = memcore.layout("folio", design, bits)
                try:
                    small = memcore.layout_facts(design, bits).get("small_folio_size",
                                                                   folio.size)
                except MemcoreError:      # a layout known only as structs
                    small = (folio["_large_mapcount"].offset if "_large_mapcount" in folio
                             else folio.size)
                wanted.append(("folio_small", "folio", c.folio_count(False), small))
                wanted.append(("folio_large", "folio", c.folio_count(True), folio.size))
            if "slab" in names:
                wanted.append(("slab", "slab", c.nr_slabs, memcore.layout("slab", design,
                                                                          bits).size))
            if "ptdesc" in names:
                wanted.append(("ptdesc", "ptdesc", c.nr_pgtables,
                               memcore.layout("ptdesc", design, bits).size))
            for kind, struct, count, size in wanted:
                ops, order = slab_geometry(size, bits, cpus)
                slabs = -(-count // ops) if count else 0
                descs.append(DescriptorCost(kind, struct, count, size, ops, order, slabs))
        out.append(VariantCost(design, bits, page.size, page.size * c.memmap_pfns, descs,
                               overlay, notes))
    return out


# ---- the self-check --------------------------------------------------------------------

@dataclass
class Check:
    name: str
    unit: str
    model: Optional[int]
    kernel: Optional[int]
    kernel_after: Optional[int] = None
    note: str = ""

    @property
    def difference(self) -> Optional[int]:
        if self.model is None or self.kernel is None:
            return None
        return self.model - self.kernel

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "model": self.model,
                "kernel": self.kernel, "kernel_after": self.kernel_after,
                "difference": self.difference, "note": self.note}


def selfcheck(snap: Snapshot, c: Classification, costs: List[VariantCost]) -> List[Check]:
    checks: List[Check] = []
    mi, ma, vs, va = snap.meminfo, snap.meminfo_after, snap.vmstat, snap.vmstat_after

    def kb_pages(d: Dict[str, int], *keys: str) -> Optional[int]:
        if any(k not in d for k in keys):
            return None
        return sum(d[k] for k in keys) * 1024 // PAGE_SIZE

    if c.window:
        na = (f"not applicable: the snapshot covers PFNs {c.first_pfn:#x}-"
              f"{c.first_pfn + c.nr_pfns:#x} only, the kernel's counters the whole machine")
        for name in ("free pages (buddy) vs MemFree", "slab pages vs Slab:",
                     "page-table pages vs PageTables:",
                     "classic64 memmap vs nr_memmap_boot_pages"):
            checks.append(Check(name, "pages", None, None, None, na))
    else:
        free = c.classes["buddy"]
        uninit = c.classes["uninitialised"]
        memfree, nr_free = kb_pages(mi, "MemFree"), vs.get("nr_free_pages")
        if uninit and memfree is not None and nr_free is not None:
            why = (f"MemFree exceeds vmstat nr_free_pages by {memfree - nr_free:,} pages "
                   f"here: it also counts memory whose struct pages are not initialised "
                   f"yet ({uninit:,} uninitialised pages; see the rows below)")
        else:
            why = ("MemFree is NR_FREE_PAGES (the buddy free lists); pages on per-CPU "
                   "lists are free to the kernel but in neither figure (no_state here)")
        checks.append(Check("free pages (buddy) vs MemFree", "pages", free, memfree,
                            kb_pages(ma, "MemFree"), why))
        checks.append(Check(
            "free pages (buddy) vs vmstat nr_free_pages", "pages", free,
            vs.get("nr_free_pages"), va.get("nr_free_pages"),
            "the buddy free lists only; per-CPU list pages are in neither figure"))
        if uninit:
            checks.append(Check(
                "free + uninitialised vs MemFree", "pages", free + uninit,
                kb_pages(mi, "MemFree"), kb_pages(ma, "MemFree"),
                "uninitialised = runs of >= 1 section with no flags and map count 0; a "
                "kernel that initialises struct pages lazily counts them free; what is "
                "left over is not visible in kpageflags"))
        checks.append(Check(
            "slab pages vs Slab:", "pages", c.classes["slab"], kb_pages(mi, "Slab"),
            kb_pages(ma, "Slab"),
            f"Slab: = SReclaimable + SUnreclaim; KPF_SLAB is on every page of a slab; "
            f"Slab: also counts kmalloc_large() pages (NR_SLAB_UNRECLAIMABLE_B, not "
            f"PageSlab), which are among the {c.kernel_compound_pages:,} pages of compound "
            f"kernel allocations here (class other)"))
        checks.append(Check(
            "page-table pages vs PageTables:", "pages", c.classes["pgtable"],
            kb_pages(mi, "PageTables"), kb_pages(ma, "PageTables"), ""))
        if "Hugetlb" in mi:
            checks.append(Check("hugetlb pages vs Hugetlb:", "pages", c.classes["hugetlb"],
                                kb_pages(mi, "Hugetlb"), kb_pages(ma, "Hugetlb"), ""))
        classic = next((v for v in costs if (v.design, v.bits) == ("classic", 64)), None)
        boot = vs.get("nr_memmap_boot_pages")
        if classic is not None and boot is not None:
            rt = vs.get("nr_memmap_pages", 0)
            checks.append(Check(
                "classic64 memmap vs nr_memmap_boot_pages", "bytes", classic.memmap_bytes,
                (boot + rt) * PAGE_SIZE,
                None if "nr_memmap_boot_pages" not in va else
                (va["nr_memmap_boot_pages"] + va.get("nr_memmap_pages", 0)) * PAGE_SIZE,
                "model: 64 B x PFNs of present memory sections; kernel: "
                "(nr_memmap_boot_pages + nr_memmap_pages) x 4096"))
    # buddyinfo: derived block counts per order, the whole machine or the zones in the window
    kernel_blocks = {}
    kernel_blocks_after = {}
    for node, zone, counts in snap.buddyinfo:
        kernel_blocks[f"{node}/{zone}"] = counts
    for node, zone, counts in snap.buddyinfo_after:
        kernel_blocks_after[f"{node}/{zone}"] = counts
    zones_in = [z for z in c.free_blocks if z in kernel_blocks]
    if not c.window and zones_in:
        model_total = sum(sum(d.values()) for d in c.free_blocks.values())
        kern_total = sum(sum(v) for v in kernel_blocks.values())
        after_total = sum(sum(v) for v in kernel_blocks_after.values()) or None
        checks.append(Check(
            "free blocks (derived) vs buddyinfo", "blocks", model_total, kern_total,
            after_total,
            "blocks are derived by tiling each run of free pages with the fewest aligned "
            "blocks; the kernel keeps more, smaller blocks where it did not merge "
            "(per-CPU lists in between, isolated or differently typed pageblocks)"))
        model_pages = c.classes["buddy"]
        kern_pages = sum(n << o for v in kernel_blocks.values() for o, n in enumerate(v))
        checks.append(Check(
            "free pages vs buddyinfo pages", "pages", model_pages, kern_pages,
            sum(n << o for v in kernel_blocks_after.values() for o, n in enumerate(v)) or None,
            "sum over zones and orders of count x 2^order"))
    return checks


# ---- the whole estimate ----------------------------------------------------------------

@dataclass
class Estimate:
    snapshot: Snapshot
    classification: Classification
    costs: List[VariantCost]
    checks: List[Check]
    skipped: List[Tuple[str, str]] = field(default_factory=list)

    def baseline(self) -> Optional[VariantCost]:
        return next((v for v in self.costs if (v.design, v.bits) == ("classic", 64)), None)

    def to_dict(self) -> Dict[str, Any]:
        s, c = self.snapshot, self.classification
        base = self.baseline()
        variants_out = []
        for v in self.costs:
            d = v.to_dict()
            if base is not None:
                d["difference_from_classic64_bytes"] = v.total_bytes - base.total_bytes
                d["difference_from_classic64_share_of_ram"] = (
                    (v.total_bytes - base.total_bytes) / c.ram_bytes if c.ram_bytes else None)
            d["share_of_ram"] = v.total_bytes / c.ram_bytes if c.ram_bytes else None
            variants_out.append(d)
        return {
            "uname_r": s.uname_r, "saved_at": s.texts["saved_at"],
            "ram_bytes": c.ram_bytes, "memmap_pfns": c.memmap_pfns,
            "variants": variants_out,
            "classes": dict(c.classes),
            "classification": c.to_dict(),
            "selfcheck": [k.to_dict() for k in self.checks],
            "skipped": [{"variant": v, "reason": r} for v, r in self.skipped],
            "notes": notes(c),
        }


def estimate(snap: Snapshot, which=None) -> Estimate:
    c = classify(snap)
    skipped: List[Tuple[str, str]] = []
    costs = price(c, which, cpus=max(1, snap.ncpus or 2), skipped=skipped)
    return Estimate(snap, c, costs, selfcheck(snap, c, costs), skipped)


def notes(c: Classification) -> List[str]:
    out = [
        "kpagecount is the map count (page table mappings), not the reference count.",
        "KPF_BUDDY marks every page of a free block; block orders are derived (see the "
        "free-block check).",
        "memmap: sizeof(struct page) x PFNs of present memory sections (SPARSEMEM), the "
        "same PFNs for every variant.",
        "descriptors: folios (anon/shmem/file/hugetlb), slabs and page tables only, each "
        "packed into full slabs of a 16-byte-aligned cache; no partial slabs, no "
        "per-CPU slabs; free memory (struct buddy lives in the free block), reserved, "
        "no_state and zero pages need no descriptor.",
    ]
    if c.torn_compound:
        out.append(f"{c.torn_compound} compound run(s) are no power of two long (a folio "
                   "split or freed while the files were read); their order is rounded up.")
    if c.window:
        out.append("this snapshot is a PFN window: the self-checks against whole-machine "
                   "counters do not apply.")
    return out


# ---- text output -----------------------------------------------------------------------

def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.1f}"


def _signed_mib(n: int) -> str:
    return f"{n / (1 << 20):+,.1f}"


def render(e: Estimate) -> str:
    s, c = e.snapshot, e.classification
    ram = c.ram_bytes
    L = []
    L.append(f"memcore estimate: Linux {s.uname_r}, read {s.texts['saved_at']}")
    L.append(f"PFNs {c.first_pfn:#x}-{c.first_pfn + c.nr_pfns:#x} ({c.nr_pfns:,}), System RAM "
             f"{ram / (1 << 30):.2f} GiB, struct pages {c.memmap_pfns:,} "
             f"(PFNs of present sections)")
    L.append("")
    L.append(f"{'class':<15}{'pages':>12}{'MiB':>12}{'% of RAM':>10}")
    for name in CLASS_NAMES:
        n = c.classes[name]
        L.append(f"{name:<15}{n:>12,}{_mib(n * PAGE_SIZE):>12}"
                 f"{(100.0 * n * PAGE_SIZE / ram if ram else 0):>9.2f}%")
    L.append("")
    kinds = sorted({k for k, _ in c.folios})
    orders = sorted({o for _, o in c.folios})
    if kinds:
        L.append("folios by kind and order")
        L.append(f"{'order':<15}" + "".join(f"{k:>10}" for k in kinds))
        for o in orders:
            L.append(f"{o:<15}" + "".join(f"{c.folios.get((k, o), 0):>10,}" for k in kinds))
        L.append(f"{'total':<15}" + "".join(
            f"{sum(n for (k2, _), n in c.folios.items() if k2 == k):>10,}" for k in kinds))
        L.append(f"slabs {c.nr_slabs:,} (by order: "
                 + ", ".join(f"{o}: {n:,}" for o, n in sorted(c.slabs.items()))
                 + f"), page tables {c.nr_pgtables:,}, pages in THPs {c.thp_pages:,}")
        L.append("")
    kern = {f"{n}/{z}": v for n, z, v in s.buddyinfo}
    if c.free_blocks:
        L.append("free blocks per order: derived from the free runs / /proc/buddyinfo")
        width = MAX_PAGE_ORDER + 1
        L.append(f"{'zone':<15}" + "".join(f"{o:>13}" for o in range(width)))
        for z, d in c.free_blocks.items():
            k = kern.get(z, [])
            cells = [f"{d.get(o, 0)}/{k[o] if o < len(k) else '-'}" for o in range(width)]
            L.append(f"{z:<15}" + "".join(f"{x:>13}" for x in cells))
        L.append("")
    base = e.baseline()
    L.append(f"{'variant':<18}{'page':>5}{'memmap MiB':>12}{'descr. MiB':>12}{'total MiB':>12}"
             f"{'% of RAM':>9}{'vs classic64 MiB':>18}{'% of RAM':>10}")
    for v in e.costs:
        diff = v.total_bytes - base.total_bytes if base else 0
        L.append(f"{v.name:<18}{v.page_size:>5}{_mib(v.memmap_bytes):>12}"
                 f"{_mib(v.descriptor_bytes):>12}{_mib(v.total_bytes):>12}"
                 f"{100.0 * v.total_bytes / ram:>8.3f}%"
                 f"{_signed_mib(diff) if base else '-':>18}"
                 f"{(100.0 * diff / ram if base else 0):>+9.3f}%")
    for name, why in e.skipped:
        L.append(f"{name:<18}not priced: {why}")
    detail = [v for v in e.costs if v.descriptors]
    if detail:
        L.append("")
        L.append("descriptors (object size x count, packed into slabs)")
        for v in detail:
            parts = [f"{d.kind} {d.count:,} x {d.object_size} B ({d.objs_per_slab}/slab, "
                     f"order {d.slab_order}) = {_mib(d.bytes)} MiB" for d in v.descriptors]
            L.append(f"  {v.name}: " + "; ".join(parts))
    L.append("")
    L.append("self-check (model vs the kernel's counters, read before and after the PFNs)")
    L.append(f"{'figure':<46}{'model':>15}{'kernel':>15}{'after':>15}{'model-kernel':>15}")
    def f(x: Optional[int]) -> str:
        return "-" if x is None else f"{x:,}"

    for chk in e.checks:
        L.append(f"{chk.name:<46}{f(chk.model):>15}{f(chk.kernel):>15}"
                 f"{f(chk.kernel_after):>15}{f(chk.difference):>15}")
        if chk.note:
            L.append(f"    {chk.unit}; {chk.note}")
    L.append("")
    L.append("notes")
    for note in notes(c):
        L.append(f"  * {note}")
    return "\n".join(L) + "\n"


def run(snapshot_path: Optional[str] = None, progress=None) -> Estimate:
    from . import snapshot as snapmod
    snap = snapmod.load(snapshot_path) if snapshot_path else snapmod.live(progress=progress,
                                                                     with_cgroup=False)
    return estimate(snap)


__all__ = ["KPF", "CLASSES", "CLASS_NAMES", "Classification", "classify", "decompose",
           "free_blocks", "decompose_runs", "variants", "price", "slab_geometry", "descriptors_overlay",
           "VariantCost", "DescriptorCost", "Check", "selfcheck", "Estimate", "estimate",
           "render", "run", "memmap_pfns"]
