"""Kernel facts and raw-struct readers shared by the machine tests.

The numbers here are written down from Linux 6.18 (see
/work/notes/page-alloc-6.18.md and kernel-structs-6.18.md), not read from
memcore, so that tests compare memcore against the kernel instead of
against itself.  They are facts of the kernel and the x86 configurations
(flag bits, zones, address space), true whatever memory-descriptor design
the machine runs.

What depends on the design (struct sizes, member offsets) is never written
down here: raw struct fields are read at the offsets ``memcore.layout()``
reports for the design and word size of the machine under test (the
classic layouts are tested against BTF elsewhere), never through the view
accessors under test.  Readers that assume the classic overlay (a folio's
fields in the struct pages after its head) say so; only tests marked
``classic_overlay`` use them.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import memcore

DATA = Path(__file__).resolve().parent / "data"

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
MAX_PAGE_ORDER = 10
PAGEBLOCK_ORDER = 9
PCP_BATCH_SCALE_MAX = 5
FIRMWARE_PFNS = 256                   # x86 reserves the first 1 MiB

# enum pageflags (6.18 x86_64 BTF; i386 has no PG_young/PG_idle, so arch_2 moves down)
_PG_COMMON = {
    "locked": 0, "writeback": 1, "referenced": 2, "uptodate": 3, "dirty": 4, "lru": 5,
    "head": 6, "waiters": 7, "active": 8, "workingset": 9, "owner_priv_1": 10,
    "owner_2": 11, "arch_1": 12, "reserved": 13, "private": 14, "private_2": 15,
    "reclaim": 16, "swapbacked": 17, "unevictable": 18, "dropbehind": 19, "mlocked": 20,
}
PG_ALIASES = {
    "readahead": "reclaim", "swapcache": "owner_priv_1", "checked": "owner_priv_1",
    "pinned": "owner_priv_1", "foreign": "owner_priv_1", "xen_remapped": "owner_priv_1",
    "vmemmap_self_hosted": "owner_priv_1", "anon_exclusive": "owner_2",
    "mappedtodisk": "owner_2", "fscache": "private_2", "savepinned": "dirty",
    "movable_ops": "uptodate", "movable_ops_isolated": "reclaim", "reported": "uptodate",
    "has_hwpoisoned": "active", "large_rmappable": "workingset",
    "partially_mapped": "reclaim",
}

# include/trace/events/mmflags.h: %pGp prints flags in this order, not bit order
PGP_ORDER = ("locked", "waiters", "referenced", "uptodate", "dirty", "lru", "active",
             "workingset", "owner_priv_1", "owner_2", "arch_1", "reserved", "private",
             "private_2", "writeback", "head", "reclaim", "swapbacked", "unevictable",
             "dropbehind", "mlocked", "hwpoison", "idle", "young", "arch_2", "arch_3")


def pg_bits(bits: int) -> dict:
    """name -> bit number of every page flag (aliases included)."""
    d = dict(_PG_COMMON)
    if bits == 64:
        d.update(young=21, idle=22, arch_2=23)
    else:
        d.update(arch_2=21)
    for alias, base in PG_ALIASES.items():
        if alias == "vmemmap_self_hosted" and bits == 32:
            continue                  # CONFIG_MEMORY_HOTPLUG is 64-bit only
        d[alias] = d[base]
    return d


NR_PAGEFLAGS = {64: 24, 32: 22}

WORD = {64: 8, 32: 4}

# modeled address space (x86)
PAGE_OFFSET = {64: 0xFFFF888000000000, 32: 0xC0000000}
VMEMMAP_START = 0xFFFFEA0000000000
POISON_POINTER_DELTA = {64: 0xDEAD000000000000, 32: 0}
TAIL_MAPPING = {b: 0x400 + POISON_POINTER_DELTA[b] for b in (64, 32)}
LOWMEM_PFNS_I386 = (896 << 20) >> PAGE_SHIFT       # 1 GiB split minus 128 MiB vmalloc

# sparsemem sections
SECTION_SIZE_BITS = {64: 27, 32: 29}
PAGES_PER_SECTION = {b: 1 << (SECTION_SIZE_BITS[b] - PAGE_SHIFT) for b in (64, 32)}

# enum zone_type of the canonical configurations
ZONES = {64: ("DMA", "DMA32", "Normal", "Movable", "Device"),
         32: ("DMA", "Normal", "HighMem", "Movable")}
MAX_DMA_PFN = (16 << 20) >> PAGE_SHIFT
MAX_DMA32_PFN = (4 << 30) >> PAGE_SHIFT

# page-flags-layout.h applied to the canonical configs: field -> (shift, width)
FLAG_FIELDS = {
    64: {"NODES": (54, 10), "ZONES": (51, 3), "LAST_CPUPID": (35, 16), "SECTIONS": (0, 0)},
    32: {"SECTIONS": (25, 7), "ZONES": (23, 2), "NODES": (0, 0), "LAST_CPUPID": (0, 0)},
}

PGTY_BUDDY = 0xF0
PAGE_TYPE_NONE = 0xFFFFFFFF

MIGRATETYPES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")


def expected_zone(bits: int, pfn: int) -> str:
    """The zone x86 zone_sizes_init() puts a boot PFN in."""
    if pfn < MAX_DMA_PFN:
        return "DMA"
    if bits == 64:
        return "DMA32" if pfn < MAX_DMA32_PFN else "Normal"
    return "Normal" if pfn < LOWMEM_PFNS_I386 else "HighMem"


def zone_spans(bits: int, nr_pfns: int) -> dict:
    """zone name -> [start, end) PFNs over all of memory."""
    if bits == 64:
        cuts = [("DMA", 0, MAX_DMA_PFN), ("DMA32", MAX_DMA_PFN, MAX_DMA32_PFN),
                ("Normal", MAX_DMA32_PFN, None)]
    else:
        cuts = [("DMA", 0, MAX_DMA_PFN), ("Normal", MAX_DMA_PFN, LOWMEM_PFNS_I386),
                ("HighMem", LOWMEM_PFNS_I386, None)]
    out = {}
    for name, lo, hi in cuts:
        hi = nr_pfns if hi is None else min(hi, nr_pfns)
        if hi > lo:
            out[name] = (lo, hi)
    return out


# ---- raw struct access -----------------------------------------------------------

def layout(m, struct: str):
    """memcore.layout() of `struct` in the design and word size of machine `m`."""
    return memcore.layout(struct, m.design, m.bits)


def sizeof_page(m) -> int:
    """sizeof(struct page) in the design and word size of machine `m`."""
    return layout(m, "page").size


def raw_int(buf: bytes, off: int, size: int, signed: bool = False) -> int:
    return int.from_bytes(buf[off:off + size], "little", signed=signed)


def page_field(m, pfn: int, member: str, signed: bool = False) -> int:
    """A struct page member of PFN `pfn`, from its raw bytes."""
    mem = layout(m, "page")[member]
    return raw_int(m.page(pfn).raw(), mem.offset, mem.size, signed)


def folio_field(m, head_pfn: int, member: str, signed: bool = False, index: int = 0) -> int:
    """A struct folio member of the folio headed at `head_pfn` (array element `index`),
    read from the raw bytes of the struct page it lies in (the classic overlay)."""
    mem = layout(m, "folio")[member]
    psz = sizeof_page(m)
    size = mem.size
    off = mem.offset
    if member in ("_mm_id_mapcount", "_mm_id"):
        size = mem.size // 2
        off += index * size
    raw = m.page(head_pfn + off // psz).raw()
    return raw_int(raw, off % psz, size, signed)


def has_page_member(m, name: str) -> bool:
    """Does machine m's struct page have its own member `name` ("flags", "_refcount")?"""
    return any(mb.path == name or mb.path.startswith(name + ".")
               for mb in layout(m, "page").members)


def flags_word(m, pfn: int) -> int:
    """The struct page's own flags word; where it has none (the memdesc design),
    the flags Page.flags shows: its folio's, or those 6.18 would show."""
    if not has_page_member(m, "flags"):
        return m.page(pfn).flags.word
    return page_field(m, pfn, "flags")


def peek(m, address: int, size: int, signed: bool = False) -> int:
    """A field of `size` bytes at `address` of modeled memory, inside one aligned word
    (read through a PgFlags view of the word, little endian)."""
    w = WORD[m.bits]
    base = address - address % w
    assert address + size <= base + w, "the field crosses a word"
    word = m.pgflags(base).word.to_bytes(w, "little")
    return raw_int(word, address - base, size, signed)


def struct_field(m, struct: str, address: int, member: str) -> int:
    """A member of the struct `struct` at modeled `address`, at the offset the
    machine's design gives it."""
    mem = layout(m, struct)[member]
    return peek(m, address + mem.offset, mem.size)


def poke_word(m, address: int, value: int) -> None:
    """Write one aligned word of modeled memory (through a PgFlags view of it)."""
    m.pgflags(address).word = value


def poke_s32(m, address: int, value: int) -> None:
    """Write a 32-bit field at `address` (in an aligned word, little endian)."""
    w = WORD[m.bits]
    base = address - address % w
    shift = (address - base) * 8
    old = m.pgflags(base).word
    new = (old & ~(0xFFFFFFFF << shift)) | ((value & 0xFFFFFFFF) << shift)
    m.pgflags(base).word = new


def page_address(m, pfn: int) -> int:
    """pfn_to_page() computed from the memmap base, not from m.pfn_to_page()."""
    return m.memmap_address + pfn * sizeof_page(m)


def free_blocks_from_memmap(m):
    """{(zone, order): count} of the PageBuddy heads the struct pages show."""
    out = {}
    pfn = 0
    while pfn < m.nr_pfns:
        order = m.page(pfn).buddy_order
        if order is not None:
            key = (expected_zone(m.bits, pfn), order)
            out[key] = out.get(key, 0) + 1
            pfn += 1 << order
        else:
            pfn += 1
    return out


def machine_snapshot(m):
    """Everything an error must leave unchanged that is cheap to compare."""
    st = m.stats()
    zones = [(z["node"], z["zone"], z["free"], z["pcp"], tuple(z["nr_free"]))
             for z in st["zones"]]
    pcps = [(z["zone"], tuple((p["count"], p["high"]) for p in z["pagesets"]))
            for z in m.zones()]
    return m.walk(), st["pages"], zones, pcps


# ---- /proc/zoneinfo of the reference machine ---------------------------------

def parse_zoneinfo(path=DATA / "linux-6.18-x86_64-zoneinfo.txt"):
    text = path.read_text()
    lines = text.splitlines()
    sysctl = dict(kv.split("=", 1) for kv in lines[1].lstrip("# ").split() if "=" in kv)
    cpus = int(re.search(r"\((\d+) CPUs", lines[0]).group(1))
    zones = []
    cur = None
    for line in lines:
        mt = re.match(r"Node (\d+), zone\s+(\S+)", line)
        if mt:
            cur = {"node": int(mt.group(1)), "zone": mt.group(2), "pagesets": []}
            zones.append(cur)
            continue
        if cur is None:
            continue
        s = line.strip()
        mt = re.match(r"^(min|low|high|promo|spanned|present|managed)\s+(\d+)$", s)
        if mt:
            cur[mt.group(1)] = int(mt.group(2))
            continue
        mt = re.match(r"^protection: \((.*)\)$", s)
        if mt:
            cur["protection"] = [int(x) for x in mt.group(1).split(",")]
            continue
        mt = re.match(r"^cpu: (\d+)$", s)
        if mt:
            cur["pagesets"].append({})
            continue
        mt = re.match(r"^(count|high|batch|high_min|high_max):\s+(\d+)$", s)
        if mt and cur["pagesets"]:
            cur["pagesets"][-1][mt.group(1)] = int(mt.group(2))
    return sysctl, cpus, zones


# ---- the boot-time tuning formulas, written out from the kernel (mm/page_alloc.c,
# ---- mm/khugepaged.c), for machines memcore boots --------------------------------

def isqrt(n: int) -> int:
    """int_sqrt()."""
    return math.isqrt(n)


def rounddown_pow_of_two(n: int) -> int:
    return 1 << (n.bit_length() - 1)


def kernel_tuning(bits, managed_by_node, cpus_by_node, min_free_kbytes=None,
                  watermark_scale_factor=10):
    """Watermarks, lowmem reserves, pcp batch/high of every zone, as the kernel boots.

    managed_by_node: [[managed pages per zone index] per node].
    Returns (min_free_kbytes, {(nid, zone name): {...}}).
    """
    names = ZONES[bits]
    normal = names.index("Normal")
    movable = names.index("Movable")
    highmem = names.index("HighMem") if "HighMem" in names else -1
    ratio = {"DMA": 256, "DMA32": 256, "Normal": 32}
    wm = {}

    def setup_wmarks(mfk):
        pages_min = mfk >> (PAGE_SHIFT - 10)
        lowmem = sum(mp for node in managed_by_node for zi, mp in enumerate(node)
                     if zi != highmem and zi != movable)
        for nid, node in enumerate(managed_by_node):
            for zi, managed in enumerate(node):
                tmp = pages_min * managed // lowmem if lowmem else 0
                if zi == highmem or zi == movable:
                    mn = min(max(managed // 1024, 32), 128)
                else:
                    mn = tmp
                tmp = max(tmp >> 2, managed * watermark_scale_factor // 10000)
                wm[(nid, zi)] = (mn, mn + tmp, mn + 2 * tmp, mn + 3 * tmp)

    def nr_free_buffer_pages():
        tot = 0
        for nid, node in enumerate(managed_by_node):
            for zi in range(normal + 1):
                high = wm.get((nid, zi), (0, 0, 0, 0))[2]
                if node[zi] > high:
                    tot += node[zi] - high
        return tot

    if min_free_kbytes is None:
        mfk = max(128, min(262144, isqrt(nr_free_buffer_pages() * 4 * 16)))
        setup_wmarks(mfk)
        nr_zones = sum(1 for node in managed_by_node for zi in range(normal + 1) if node[zi])
        rec = 512 * nr_zones * 2 + 512 * nr_zones * 3 * 3
        rec = min(rec, nr_free_buffer_pages() // 20) << (PAGE_SHIFT - 10)
        mfk = max(mfk, rec)
    else:
        mfk = min_free_kbytes
    setup_wmarks(mfk)

    out = {}
    for nid, node in enumerate(managed_by_node):
        for zi, managed in enumerate(node):
            # lowmem_reserve
            prot = [0] * len(names)
            r = ratio.get(names[zi], 0)
            acc = 0
            for j in range(zi + 1, len(names)):
                acc += node[j]
                prot[j] = 0 if (not r or not managed) else acc // r
            mn, lo, hi, pr = wm[(nid, zi)]
            d = {"min": mn, "low": lo, "high": hi, "promo": pr, "protection": prot}
            if managed:
                b = min(managed >> 12, (256 * 1024) >> PAGE_SHIFT)
                batch = 1 if b <= 1 else rounddown_pow_of_two(b + b // 2) - 1
                split = cpus_by_node[nid] or sum(cpus_by_node)
                d["batch"] = batch
                d["high_min"] = max(lo // split, batch << 2)
                d["high_max"] = max((managed // 8) // split, batch << 2)
            out[(nid, names[zi])] = d
    return mfk, out


def warm_descriptor_caches(m) -> None:
    """Give the design's descriptor caches slabs, as a running kernel's have.

    The memdesc designs allocate a folio descriptor with every folio and a slab
    descriptor with every slab, from SLUB caches (Machine.stats()
    "descriptor_bytes"); the first folio of a fresh machine therefore also
    allocates slab pages for them.  Tests that compare page-allocator state
    before and after an operation call this first, so that only the pages
    the operation itself takes move.  Classic has no descriptor caches:
    nothing happens."""
    if not m._descriptor_cache_names():
        return
    folios = [m.alloc_folio(order=0), m.alloc_folio(order=1)]
    for f in folios:
        assert f.put()
    m.drain_pcp()


def reserve_descriptors(m, small: int = 0, large: int = 0) -> list:
    """Give the descriptor caches at least `small` free small-folio and `large`
    free large-folio descriptors in slabs that stay allocated, so that as many
    folio allocations (on any CPU) take no slab pages from the page allocator.

    For tests that replay the per-CPU page lists step by step: on the memdesc
    designs every folio also takes a descriptor, and a descriptor cache that
    grows takes slab pages through the same pcp lists, which the kernel rule
    under test does not describe.  Folios are allocated on the current CPU,
    and all but one per descriptor slab are freed again (the kept one pins its
    slab: no slab empties, so none is discarded later); kmem_cache_shrink()
    moves the slabs to the node lists every CPU takes from.  Returns the kept
    folios (hold them for the test).  Classic has no descriptor caches:
    nothing happens."""
    names = m._descriptor_cache_names()
    if not names:
        return []
    keep = []
    for order, n, name in ((0, small, "folio_small"), (1, large, "folio_large")):
        if not n:
            continue
        per = m.kmem_cache(name).objs_per_slab
        folios = [m.alloc_folio(order=order) for _ in range(n + 2 * per)]
        by_slab = {}
        for f in folios:
            by_slab.setdefault(m.virt_to_slab(f.pointer).pfn, []).append(f)
        for fs in by_slab.values():
            keep.append(fs[0])
            for g in fs[1:]:
                assert g.put()
    for name in names:
        m.kmem_cache_shrink(name)
    m.drain_pcp()
    return keep
