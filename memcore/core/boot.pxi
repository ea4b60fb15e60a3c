# Boot (mm/mm_init.c, mm/memblock.c, arch/x86 zone_sizes_init(), Linux 6.18):
# memblock reserves the firmware area and carves the memmap, pglist_data,
# pageblock bitmaps and per-CPU page lists out of RAM (top-down, node-local);
# every struct page is initialized with its zone/node/section links; free
# memory is handed to the buddy allocator in the largest aligned blocks; then
# min_free_kbytes, the watermarks, the lowmem reserves and the pcp batch/high
# limits are computed and SLUB's boot caches made.
#
# Provides: ZONE_NAMES, MIGRATETYPE_NAMES, parse_size, lazy_map,
#   memmap_init, free_all_bootmem, the reservations, machine_boot() and its
#   steps, _zone_tuning; for from_snapshot(): snapshot_place(), hold_blocks(),
#   free_pfn_mask(), snapshot_migratetypes().
# Uses: decl.pxi, buddy.pxi/pcp.pxi/page_alloc.pxi (freeing, watermarks),
#   slab_boot (slab_api.pxi, at the end of machine_boot()).


cdef void memmap_init(mc_machine *m, int last_zone) noexcept nogil:
    """memmap_init(): __init_single_page() for every struct page, and MOVABLE pageblocks.

    RAM PFNs get their zone and node (memmap_init_range(), which also marks
    each pageblock-aligned RAM PFN's pageblock MOVABLE).  A hole PFN with a
    struct page (one in a memory section that has some RAM) is initialised by
    init_unavailable_range() with the zone and node of the RAM that follows it
    (memmap_init_zone_range() passes the zone it is about to initialise), the
    PFNs past the end of RAM (the rest of the last section) with the last zone
    and node; both are PG_reserved.  A PFN in a section without RAM has no
    struct page (MC_PFN_NOMAP): its host entry stays zero.
    """
    cdef uint64_t pfn, ref
    cdef page *p
    cdef int nid = 0, zi, r = 0
    cdef bint hole
    for pfn in range(m.memmap_pfns):
        while r < m.nr_ram_ranges and pfn >= m.ram_end_pfn[r]:
            r += 1
        if r < m.nr_ram_ranges:
            hole = pfn < m.ram_start_pfn[r]
            if hole and mc_pfn_mark_test(m, pfn, MC_PFN_NOMAP):
                continue
            ref = m.ram_start_pfn[r] if hole else pfn       # the RAM this PFN goes with
            while nid < m.nr_nodes - 1 and ref >= m.node_end_pfn[nid]:
                nid += 1
            zi = mc_boot_zone_of(ref, m.lowmem_pfns)
        else:
            hole = True
            nid = m.nr_nodes - 1
            zi = last_zone
        p = mc_pfn_to_page(m, pfn)
        mc_init_single_page(m, p, zi, nid, pfn)   # links, refcount 1, mapcount -1, cpupid
        if hole:
            __SetPageReserved(m, p)
        elif pfn & (pageblock_nr_pages - 1) == 0:
            pageblock_byte(m, &m.pgdat[nid].node_zones[zi], pfn)[0] = MIGRATE_MOVABLE


cdef uint64_t ram_pfns_in(const mc_machine *m, uint64_t lo, uint64_t hi) noexcept nogil:
    """RAM PFNs in [lo, hi)."""
    cdef uint64_t n = 0, a, b
    cdef int r
    for r in range(m.nr_ram_ranges):
        a = max(lo, m.ram_start_pfn[r])
        b = min(hi, m.ram_end_pfn[r])
        if b > a:
            n += b - a
    return n


cdef inline int mc_ffs64(uint64_t x) noexcept nogil:
    """__ffs(): index of the lowest set bit (x != 0)."""
    cdef int i = 0
    while not (x >> i) & 1:
        i += 1
    return i


cdef void __free_pages_core(mc_machine *m, page *p, uint64_t pfn, int order) noexcept nogil:
    """Hand a boot block to the buddy allocator (MEMINIT_EARLY, FPI_TO_TAIL)."""
    cdef uint64_t i, nr = <uint64_t>1 << order
    cdef zone *z = page_zone(m, p)
    for i in range(nr):
        __ClearPageReserved(m, nth_page(p, i))
        set_page_count(m, nth_page(p, i), 0)
    z.managed_pages += nr
    __free_pages_prepare(m, p, order)
    free_one_page(m, z, p, pfn, order, FPI_TO_TAIL)   # counts PGFREE, as the kernel's does


cdef void __free_pages_memory(mc_machine *m, uint64_t start, uint64_t end) noexcept nogil:
    """The largest aligned blocks that fit, as memblock frees them."""
    cdef int order
    while start < end:
        order = MAX_PAGE_ORDER if start == 0 else min(MAX_PAGE_ORDER, mc_ffs64(start))
        while start + (<uint64_t>1 << order) > end:
            order -= 1
        __free_pages_core(m, mc_pfn_to_page(m, start), start, order)
        start += <uint64_t>1 << order


cdef void free_all_bootmem(mc_machine *m) noexcept nogil:
    """memblock_free_all(): every RAM PFN that is not PG_reserved, range by range."""
    cdef uint64_t pfn, start, end
    cdef int r
    for r in range(m.nr_ram_ranges):
        pfn = m.ram_start_pfn[r]
        end = m.ram_end_pfn[r]
        while pfn < end:
            if PageReserved(m, mc_pfn_to_page(m, pfn)):
                pfn += 1
                continue
            start = pfn
            while pfn < end and not PageReserved(m, mc_pfn_to_page(m, pfn)):
                pfn += 1
            __free_pages_memory(m, start, pfn)


# ---- a snapshot's page state (Machine.from_snapshot, memcore/snapshot_boot.py) ------

cdef enum:
    SNAP_ANON = 1        # anonymous folio (PG_swapbacked)
    SNAP_SHMEM = 2       # shmem folio (PG_swapbacked; the model has no mapping to tell)
    SNAP_FILE = 3        # page-cache folio
    SNAP_HELD = 4        # kernel pages held by the snapshot's owner (slab, page tables, ...)
    SNAP_RESERVED = 5    # PG_reserved, not managed (memblock)


cdef uint64_t snapshot_place(mc_machine *m, const uint64_t *pfns, const unsigned char *orders,
                             const unsigned char *kinds, uint64_t n,
                             unsigned char *placed) noexcept nogil:
    """Take each block [pfns[i], + 2^orders[i]) out of the buddy allocator
    (take_block_off_buddy()) and make it what kinds[i] says: a folio
    (prep_new_page() with __GFP_COMP, refcount 1, large ones rmappable), held
    kernel pages (the same, without rmappable: a compound page from
    alloc_pages()), or reserved pages (PG_reserved, refcount 1 each, taken
    off the zone's managed pages).  placed[i] is 0 where the block was not
    wholly free (the model's own boot memory is there).  Returns how many
    were placed."""
    cdef uint64_t i, j, nr, done = 0
    cdef int order, kind
    cdef page *p
    cdef folio *f
    for i in range(n):
        order = orders[i]
        kind = kinds[i]
        placed[i] = 0
        if order > MAX_PAGE_ORDER or pfns[i] >= m.nr_pfns or \
                pfns[i] & ((<uint64_t>1 << order) - 1) or \
                pfns[i] + (<uint64_t>1 << order) > m.nr_pfns:
            continue
        if take_block_off_buddy(m, pfns[i], order):
            continue
        placed[i] = 1
        done += 1
        p = mc_pfn_to_page(m, pfns[i])
        nr = <uint64_t>1 << order
        if kind == SNAP_RESERVED:
            for j in range(nr):
                set_page_count(m, nth_page(p, j), 1)
                __SetPageReserved(m, nth_page(p, j))
                mc_pfn_mark_set(m, pfns[i] + j, MC_PFN_RESERVED)
            page_zone(m, p).managed_pages -= nr
            if m.kasan and pfns[i] < m.lowmem_pfns:     # memory, as boot reservations are
                kasan_unpoison(m, mc_phys_to_virt(m, pfns[i] << PAGE_SHIFT), MC_PAGE_SIZE << order)
            continue
        prep_new_page(m, p, order, __GFP_COMP)
        if kind == SNAP_HELD:
            mc_misc_attach(m, p, order)             # a compound page, no folio
            set_page_count(m, p, 1)
            continue
        f = snapshot_folio(m, p, order, kind == SNAP_ANON or kind == SNAP_SHMEM)
        if f == NULL:
            # no memory left for its descriptor: the block goes back
            __free_frozen_pages(m, p, order, 0)
            placed[i] = 0
            done -= 1
            continue
        if order:
            folio_set_large_rmappable_flag(f)
        if kind == SNAP_ANON or kind == SNAP_SHMEM:
            __set_bit(PG_swapbacked, folio_flags(f, 0))
        folio_set_count(f, 1)
    return done


cdef folio *snapshot_folio(mc_machine *m, page *p, int order, bint anon) noexcept nogil:
    """The folio descriptor of a block snapshot_place() took: from the design's
    folio cache (then attached), or the head page itself."""
    cdef int ci = mc_desc_cache_of(MC_DK_FOLIO, order)
    cdef mc_ulong desc = 0
    if ci >= 0:
        desc = desc_alloc(m, ci, page_to_nid(m, p), 0)
        if desc == 0:
            return NULL
    return mc_folio_attach(m, p, order, desc, anon)


cdef void hold_blocks(mc_machine *m, const uint64_t *pfns, const unsigned char *orders,
                      uint64_t n, unsigned char *held) noexcept nogil:
    """Take blocks out of the buddy allocator for a while (held[i]: taken)."""
    cdef uint64_t i
    for i in range(n):
        held[i] = 0
        if orders[i] > MAX_PAGE_ORDER or pfns[i] >= m.nr_pfns or \
                pfns[i] & ((<uint64_t>1 << orders[i]) - 1) or \
                pfns[i] + (<uint64_t>1 << orders[i]) > m.nr_pfns:
            continue
        held[i] = take_block_off_buddy(m, pfns[i], orders[i]) == 0


cdef void release_blocks(mc_machine *m, const uint64_t *pfns, const unsigned char *orders,
                         uint64_t n, const unsigned char *held) noexcept nogil:
    """Give held blocks back (free_one_page(): they merge as they did before)."""
    cdef uint64_t i
    cdef page *p
    for i in range(n):
        if held[i]:
            p = mc_pfn_to_page(m, pfns[i])
            free_one_page(m, page_zone(m, p), p, pfns[i], orders[i], FPI_TO_TAIL)
            m.pgfree -= <uint64_t>1 << orders[i]          # not a free the machine made


cdef void free_pfn_mask(const mc_machine *m, unsigned char *out, bint heads) noexcept nogil:
    """out[pfn] = 1 for every PFN in a free block on the buddy lists; with
    `heads`, out[pfn] = order + 1 at each free block's first PFN only."""
    cdef uint64_t pfn = 0, nr
    cdef page *p
    cdef int order
    memset(out, 0, m.nr_pfns)
    while pfn < m.nr_pfns:
        if m.pfn_marks[pfn] & MC_PFN_HOLE:
            pfn += 1
            continue
        p = mc_pfn_to_page(m, pfn)
        if PageBuddy(m, p):
            order = buddy_order(m, p)
            nr = <uint64_t>1 << order
            if pfn + nr > m.nr_pfns:
                nr = m.nr_pfns - pfn
            if heads:
                out[pfn] = order + 1
            else:
                memset(out + pfn, 1, nr)
            pfn += nr
            continue
        pfn += 1


cdef zone *zone_spanning(const mc_machine *m, uint64_t pfn) noexcept nogil:
    """The populated zone whose span holds pfn, or NULL."""
    cdef int nid, zi
    cdef zone *z
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[zi]
            if z.spanned_pages and z.zone_start_pfn <= pfn < z.zone_start_pfn + z.spanned_pages:
                return z
    return NULL


cdef int64_t larger_free_block_head(const mc_machine *m, uint64_t start) noexcept nogil:
    """The first PFN of a free block of an order above pageblock_order that
    covers the pageblock at start without starting there, or -1."""
    cdef int o
    cdef uint64_t head
    cdef page *p
    for o in range(pageblock_order + 1, MAX_PAGE_ORDER + 1):
        head = start & ~((<uint64_t>1 << o) - 1)
        if head == start or m.pfn_marks[head] & MC_PFN_HOLE:
            continue
        p = mc_pfn_to_page(m, head)
        if PageBuddy(m, p) and buddy_order(m, p) >= o:
            return <int64_t>head
    return -1


cdef void set_block_migratetypes(mc_machine *m, zone *z, uint64_t pfn, uint64_t nr_blocks,
                                 int mt) noexcept nogil:
    """set_pageblock_migratetype() of nr_blocks pageblocks from pfn's, keeping
    nr_reserved_highatomic in step."""
    cdef uint64_t k
    cdef unsigned char *b
    cdef int old
    for k in range(nr_blocks):
        b = pageblock_byte(m, z, pfn + k * pageblock_nr_pages)
        old = b[0] & MIGRATETYPE_MASK
        if old == MIGRATE_HIGHATOMIC:
            z.nr_reserved_highatomic -= pageblock_nr_pages
        if mt == MIGRATE_HIGHATOMIC:
            z.nr_reserved_highatomic += pageblock_nr_pages
        b[0] = (b[0] & ~(MIGRATETYPE_MASK | (1 << PB_migrate_isolate))) | mt


cdef void snapshot_migratetypes(mc_machine *m, const uint64_t *pfns, const unsigned char *mts,
                                uint64_t n, unsigned char *done) noexcept nogil:
    """Give the pageblock of each pfns[i] the migratetype mts[i] (a pcp type
    or HIGHATOMIC), with its free blocks moved to that type's free lists
    (move_to_free_list(), as __move_freepages_block() does, over the part of
    the pageblock inside the zone).  A free block of a higher order than
    pageblock_order is moved whole and all its pageblocks retyped
    (change_pageblock_range(), as __free_one_page() keeps such a block one
    type); a pageblock inside such a block that does not start it is refused
    (done[i] = 0) unless the block already has type mts[i], as is a PFN
    outside every zone.  HIGHATOMIC pageblocks
    count in nr_reserved_highatomic, as reserve_highatomic_pageblock() counts
    them."""
    cdef uint64_t i, pfn, start, end, nr
    cdef int64_t head
    cdef zone *z
    cdef page *q
    cdef int old, mt, o
    for i in range(n):
        done[i] = 0
        mt = mts[i]
        z = zone_spanning(m, pfns[i])
        if z == NULL or mt > MIGRATE_HIGHATOMIC:
            continue
        start = pfns[i] & ~(<uint64_t>pageblock_nr_pages - 1)
        old = zone_pfnblock_migratetype(m, z, pfns[i])
        head = larger_free_block_head(m, start)
        if head >= 0:
            done[i] = old == mt and zone_pfnblock_migratetype(m, z, <uint64_t>head) == mt
            continue
        done[i] = 1
        if old == mt:
            continue
        end = start + pageblock_nr_pages
        if start < z.zone_start_pfn:
            start = z.zone_start_pfn
        if end > z.zone_start_pfn + z.spanned_pages:
            end = z.zone_start_pfn + z.spanned_pages
        pfn = start
        while pfn < end:
            if m.pfn_marks[pfn] & MC_PFN_HOLE:
                pfn += 1
                continue
            q = mc_pfn_to_page(m, pfn)
            if not PageBuddy(m, q):
                pfn += 1
                continue
            o = buddy_order(m, q)
            move_to_free_list(m, q, z, o, old, mt)
            nr = <uint64_t>1 << o
            if o > pageblock_order:
                set_block_migratetypes(m, z, pfn, nr >> pageblock_order, mt)
            pfn += nr
        set_block_migratetypes(m, z, pfns[i], 1, mt)


# ---- memblock reservations (the model keeps them for Machine.check()) -------------

cdef void add_reservation(mc_machine *m, uint64_t start, uint64_t end, int kind) noexcept nogil:
    """memblock_reserve() of PFNs [start, end); kind -1 is the node's boot-allocation tail."""
    cdef mc_reservation *r = &m.reservations[m.nr_reservations]
    r.start = start
    r.end = end
    r.kind = kind
    m.nr_reservations += 1


cdef void mark_reservations(mc_machine *m) noexcept nogil:
    """reserve_bootmem_region(): PG_reserved on every reserved PFN, and the model's mark."""
    cdef int i
    cdef uint64_t pfn
    for i in range(m.nr_reservations):
        for pfn in range(m.reservations[i].start, m.reservations[i].end):
            __SetPageReserved(m, mc_pfn_to_page(m, pfn))
            if pfn < m.nr_pfns:
                mc_pfn_mark_set(m, pfn, MC_PFN_RESERVED)


cdef uint64_t reserved_pages(const mc_machine *m) noexcept nogil:
    cdef int i
    cdef uint64_t n = 0
    for i in range(m.nr_reservations):
        n += m.reservations[i].end - m.reservations[i].start
    return n


# ---- the host side: constants, sizes, lazily backed memory -----------------------

cdef extern from "<sys/mman.h>" nogil:
    void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)
    int munmap(void *addr, size_t length)
    int PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE
    void *MAP_FAILED

cdef extern from "memcore/config.h":
    int CONFIG_NR_CPUS
    int CONFIG_NODES_SHIFT

PAGE_SIZE = 1 << PAGE_SHIFT
ZONE_NAMES = tuple(mc_zone_names[i].decode() for i in range(MAX_NR_ZONES_C))
MIGRATETYPE_NAMES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")

# sysctl_lowmem_reserve_ratio[] defaults by zone name
for _i, _name in enumerate(ZONE_NAMES):
    LOWMEM_RESERVE_RATIO[_i] = {"DMA": 256, "DMA32": 256, "Normal": 32}.get(_name, 0)

def parse_size(value):
    """Bytes from an int or a size string such as "4GiB", "512MiB", "64M"
    (binary units only: memcore.sizes)."""
    from memcore.sizes import parse_size as parse
    return parse(value, "ram")


cdef unsigned char *lazy_map(size_t size, str what) except NULL:
    """Anonymous memory the host backs only where it is touched (modeled RAM, the
    KASAN shadow, the object bitmap)."""
    cdef void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if p == MAP_FAILED:
        raise MemoryError(f"cannot reserve {size} bytes of address space for {what}")
    return <unsigned char *>p


cdef inline size_t buddy_links_bytes(const mc_machine *m) noexcept nogil:
    return (m.phys_bytes >> PAGE_SHIFT) * sizeof(list_head)   # a struct buddy per PFN


cdef inline size_t shadow_bytes(const mc_machine *m) noexcept nogil:
    return (m.lowmem_pfns << PAGE_SHIFT) >> 3          # a byte per 8 bytes of lowmem


cdef inline size_t obj_bitmap_bytes(const mc_machine *m) noexcept nogil:
    return (m.lowmem_pfns << PAGE_SHIFT) >> 6          # a bit per 8 bytes of lowmem


cdef inline size_t obj_gen_bytes(const mc_machine *m) noexcept nogil:
    return ((m.lowmem_pfns << PAGE_SHIFT) >> 3) * sizeof(uint32_t)   # per 8 bytes of lowmem


# ---- Machine boot ------------------------------------------------------------------

cdef list parse_ram_ranges(value):
    """Sorted, disjoint [start, end) PFN ranges from a list of [start, end) byte
    ranges, each rounded inward to whole pages (memblock_trim_memory()), ranges
    that touch merged (as memblock merges them).  TypeError or ValueError naming
    the range and the problem; nothing is built."""
    import operator
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"ram must be a size or a list of (start, end) byte ranges, "
                        f"not {type(value).__name__}")
    if not value:
        raise ValueError("ram is an empty list: a machine needs at least one RAM range")
    if len(value) > MC_MAX_RAM_RANGES:
        raise ValueError(f"ram has {len(value)} ranges; the model takes at most "
                         f"{MC_MAX_RAM_RANGES}")
    pairs = []
    for i, item in enumerate(value):
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise TypeError(f"ram range {i} must be a (start, end) pair of ints, not {item!r}")
        ends = []
        for x in item:
            if isinstance(x, bool):
                raise TypeError(f"ram range {i}: {x!r} is a bool, not an address")
            try:
                ends.append(operator.index(x))
            except TypeError:
                raise TypeError(f"ram range {i}: {x!r} is not an int address "
                                f"({type(x).__name__})") from None
        start, end = ends
        if start < 0:
            raise ValueError(f"ram range {i} [{start:#x}, {end:#x}) starts below 0")
        if end <= start:
            raise ValueError(f"ram range {i} [{start:#x}, {end:#x}) is empty "
                             f"(end must be above start)")
        if pairs and start < pairs[len(pairs) - 1][1]:
            what = "is not sorted after" if start < pairs[len(pairs) - 1][0] else "overlaps"
            raise ValueError(f"ram range {i} [{start:#x}, {end:#x}) {what} range {i - 1} "
                             f"[{pairs[len(pairs) - 1][0]:#x}, {pairs[len(pairs) - 1][1]:#x}): ranges must be sorted "
                             f"and disjoint")
        if end > MC_MAX_RAM_BYTES:
            raise ValueError(f"ram range {i} [{start:#x}, {end:#x}) ends above "
                             f"{MC_MAX_RAM_BYTES:#x}, the most a {MC_BITS}-bit machine "
                             f"addresses (at most {MC_MAX_RAM_BYTES >> 30} GiB)")
        if pairs and start == pairs[len(pairs) - 1][1]:
            # memblock_add() merges touching regions before they are trimmed
            pairs[len(pairs) - 1] = (pairs[len(pairs) - 1][0], end, pairs[len(pairs) - 1][2])
        else:
            pairs.append((start, end, i))
    out = []
    for start, end, i in pairs:
        s_pfn = (start + PAGE_SIZE - 1) >> PAGE_SHIFT
        e_pfn = end >> PAGE_SHIFT
        if e_pfn <= s_pfn:
            raise ValueError(f"ram range {i} [{start:#x}, {end:#x}) holds no whole page "
                             f"(ranges are rounded inward to {PAGE_SIZE}-byte pages)")
        out.append((s_pfn, e_pfn))
    return out


cdef list machine_ram_ranges(ram):
    """The RAM of a Machine's ram argument, as [start, end) PFN ranges: a size is
    one range from 0, or, above MC_PCI_HOLE_START, that much RAM below the PCI
    hole and the rest from MC_PCI_HOLE_END (machine.h); ranges are taken as given."""
    if isinstance(ram, (list, tuple)):
        return parse_ram_ranges(ram)
    ram_bytes = parse_size(ram)
    if ram_bytes % PAGE_SIZE:
        raise ValueError(f"ram {ram_bytes} is not a multiple of the page size ({PAGE_SIZE})")
    if MC_PCI_HOLE_START and ram_bytes > MC_PCI_HOLE_START:
        low = MC_PCI_HOLE_START >> PAGE_SHIFT
        high = MC_PCI_HOLE_END >> PAGE_SHIFT
        return [(0, low), (high, high + (ram_bytes >> PAGE_SHIFT) - low)]
    return [(0, ram_bytes >> PAGE_SHIFT)]


cdef list machine_node_spans(list ranges, int nodes):
    """[(start_pfn, end_pfn)] of each node: equal shares of the RAM in whole
    sections (the last node takes the rest), each from its first RAM PFN to the
    end of its last RAM (get_pfn_range_for_nid())."""
    cdef uint64_t pps = PAGES_PER_SECTION
    total = sum(e - s for s, e in ranges)
    per_node = (total // nodes) // pps * pps
    cuts = [0]
    for k in range(1, nodes):
        want, seen = k * per_node, 0
        for s, e in ranges:
            if seen + (e - s) >= want:
                pfn = s + (want - seen)
                cuts.append((pfn + pps - 1) // pps * pps)
                break
            seen += e - s
    cuts.append(ranges[len(ranges) - 1][1])
    spans = []
    for k in range(nodes):
        lo, hi = cuts[k], cuts[k + 1]
        mine = [(max(s, lo), min(e, hi)) for s, e in ranges if min(e, hi) > max(s, lo)]
        if not mine:
            raise ValueError(f"NUMA node {k} would have no RAM: {nodes} nodes need RAM in "
                             f"each share of the ranges (use fewer nodes)")
        spans.append((mine[0][0], mine[len(mine) - 1][1], mine))
    return spans


cdef machine_check_geometry(Machine machine, list ranges, nodes, cpus):
    max_ram = MC_MAX_RAM_BYTES
    ram_bytes = sum(e - s for s, e in ranges) << PAGE_SHIFT
    end_bytes = ranges[len(ranges) - 1][1] << PAGE_SHIFT
    if ram_bytes < (32 << 20):
        raise ValueError(f"ram {ram_bytes} is too small: a machine needs at least 32 MiB")
    if end_bytes > max_ram:
        raise ValueError(f"ram ending at {end_bytes:#x} is too large for a {MC_BITS}-bit "
                         f"machine: the model addresses at most {max_ram >> 30} GiB of "
                         f"physical memory (a size's RAM above the PCI hole ends "
                         f"{(MC_PCI_HOLE_END - MC_PCI_HOLE_START) >> 30} GiB past the size)")
    max_nodes = min(MC_MAX_NODES, 1 << CONFIG_NODES_SHIFT)
    if not isinstance(nodes, int) or not 1 <= nodes <= max_nodes:
        raise ValueError(f"nodes must be 1..{max_nodes} for the {machine.config} "
                         f"configuration, not {nodes!r}")
    section = PAGES_PER_SECTION * PAGE_SIZE
    if nodes > 1 and ram_bytes // nodes < section:
        raise ValueError(f"each NUMA node needs at least one memory section "
                         f"({section >> 20} MiB): {nodes} nodes need "
                         f"{nodes * section >> 20} MiB of RAM")
    max_cpus = min(MC_MAX_CPUS, CONFIG_NR_CPUS)
    if not isinstance(cpus, int) or not 1 <= cpus <= max_cpus:
        raise ValueError(f"cpus must be 1..{max_cpus}, not {cpus!r}")
    machine_node_spans(ranges, nodes)


cdef uint64_t machine_memblock_alloc(Machine machine, uint64_t size, uint64_t align, int nid, int kind) except? 0:
    """Top-down, node-local boot allocation; returns the physical address."""
    cdef mc_machine *m = machine.m
    cdef uint64_t top = m.memblock_top[nid]
    cdef uint64_t addr = (top - size) & ~(align - 1)
    cdef uint64_t floor = m.memblock_floor[nid]
    if size > top or addr < floor:
        raise ValueError(f"ram too small: node {nid} cannot hold the boot metadata "
                         f"({size} more bytes of {RESERVE_KIND_NAMES[kind]})")
    m.memblock_top[nid] = addr
    m.reserved_bytes[kind] += size
    return addr


cdef machine_boot(Machine machine, list ranges, int nodes, int cpus, object min_free_kbytes):
    cdef mc_machine *m = machine.m
    cdef uint64_t nr_pfns = ranges[len(ranges) - 1][1]
    cdef uint64_t pps = PAGES_PER_SECTION
    cdef uint64_t memmap_pfns = (nr_pfns + pps - 1) // pps * pps
    cdef uint64_t start, end, pa, nsec, bytes_, pfn, fw_pages = 0
    cdef int nid, cpu, last_zone, r
    cdef uint64_t[::1] hold_p
    cdef unsigned char[::1] hold_o, hold_h
    cdef uint64_t nhold = 0

    m.nr_pfns = nr_pfns
    m.memmap_pfns = memmap_pfns
    m.nr_nodes = nodes
    m.nr_cpus = cpus
    m.lowmem_pfns = min(nr_pfns, MC_LOWMEM_LIMIT >> PAGE_SHIFT)
    m.page_offset = MC_PAGE_OFFSET
    m.nr_ram_ranges = len(ranges)
    for r, (start, end) in enumerate(ranges):
        m.ram_start_pfn[r] = start
        m.ram_end_pfn[r] = end
    # memory sections with RAM (SPARSEMEM's present sections)
    present = sorted({sec for s_, e_ in ranges for sec in range(s_ // pps, (e_ - 1) // pps + 1)})

    # NUMA nodes: equal shares of the RAM in whole sections, the last node takes the rest;
    # boot memory comes top-down from each node's highest RAM range (i386: in lowmem)
    memblock_end = []
    for nid, (start, end, mine) in enumerate(machine_node_spans(ranges, nodes)):
        m.node_start_pfn[nid] = start
        m.node_end_pfn[nid] = end
        pieces = mine
        if nid == 0:
            pieces = [(a, min(b, m.lowmem_pfns)) for a, b in mine if a < m.lowmem_pfns]
        if not pieces:
            raise ValueError(f"node {nid} has no RAM in lowmem for the boot metadata")
        memblock_end.append(pieces[len(pieces) - 1][1])      # the boot allocations' tail ends here
        m.memblock_top[nid] = pieces[len(pieces) - 1][1] << PAGE_SHIFT
        m.memblock_floor[nid] = max(pieces[len(pieces) - 1][0] << PAGE_SHIFT,
                                    (start << PAGE_SHIFT) + (16 << 20 if nid == 0 else 0))
    for cpu in range(cpus):
        m.cpu_node[cpu] = cpu * nodes // cpus

    # the host side: the memmap array and lazily backed physical memory
    m.memmap = <page *>calloc(memmap_pfns, MC_SIZEOF_PAGE)
    if m.memmap == NULL:
        raise MemoryError(f"cannot allocate the memmap ({memmap_pfns * MC_SIZEOF_PAGE} bytes)")
    m.memmap_bytes = memmap_pfns * MC_SIZEOF_PAGE
    m.pfn_marks = <unsigned char *>calloc(nr_pfns, 1)
    if m.pfn_marks == NULL:
        raise MemoryError(f"cannot allocate the model's per-PFN marks ({nr_pfns} bytes)")
    m.pfn_gen = <uint32_t *>calloc(nr_pfns, sizeof(uint32_t))
    if m.pfn_gen == NULL:
        raise MemoryError(f"cannot allocate the model's per-PFN generations")
    m.phys = lazy_map(nr_pfns << PAGE_SHIFT, "modeled physical memory")
    m.phys_bytes = nr_pfns << PAGE_SHIFT
    if MC_BUDDY_LINKS_IN_BLOCK:
        m.buddy_links = <list_head *>lazy_map(buddy_links_bytes(m), "the free blocks' links")
    # holes: PFNs below the end of RAM in no range; those of sections without RAM
    # have no struct page
    pfn = 0
    for start, end in ranges:
        if start > pfn:
            memset(m.pfn_marks + pfn, MC_PFN_HOLE, start - pfn)
        pfn = end
    present_set = set(present)
    for sec in range(nr_pfns // pps + 1):
        if sec not in present_set and sec * pps < nr_pfns:
            for pfn in range(sec * pps, min((sec + 1) * pps, nr_pfns)):
                m.pfn_marks[pfn] |= MC_PFN_NOMAP

    # memblock: firmware (x86 reserves the first 1 MiB of RAM), memmap, node data,
    # pageblock bitmaps, per-CPU lists
    for start, end in ranges:
        if start < 256:
            add_reservation(m, start, min(end, 256), MC_RES_FIRMWARE)
            fw_pages += min(end, 256) - start
    m.reserved_bytes[MC_RES_FIRMWARE] = fw_pages << PAGE_SHIFT
    if MC_HAVE_VMEMMAP:
        m.memmap_va = MC_VMEMMAP_START
        for nid in range(nodes):
            # vmemmap: every present section's struct pages, mapped with 2 MiB PMDs
            # (vmemmap_populate_hugepages()): a struct page smaller than 64 bytes
            # leaves a section's memmap short of a PMD, and the PMD's block is
            # still allocated whole, so the node's memmap rounds up to 2 MiB
            nsec = sum(1 for sec in present
                       if m.node_start_pfn[nid] // pps <= sec <= (m.node_end_pfn[nid] - 1) // pps)
            machine_memblock_alloc(machine, ((nsec * pps * MC_SIZEOF_PAGE + (2 << 20) - 1) >> 21) << 21,
                                   2 << 20, nid, MC_RES_MEMMAP)
    else:
        # classic SPARSEMEM: one page-aligned mem_map per present section, in lowmem
        bytes_ = ((pps * MC_SIZEOF_PAGE + PAGE_SIZE - 1) & ~(<uint64_t>PAGE_SIZE - 1))
        pa = machine_memblock_alloc(machine, bytes_ * len(present), PAGE_SIZE, 0, MC_RES_MEMMAP)
        m.memmap_va = mc_phys_to_virt(m, pa)
    # the struct pages of PFNs without RAM in present sections (holes, the end of
    # the last section): init_unavailable_range()'s
    nsec = len(present) * pps - ram_pfns_in(m, 0, memmap_pfns)
    if nsec:
        m.reserved_bytes[MC_RES_UNAVAILABLE] = nsec * MC_SIZEOF_PAGE
    for nid in range(nodes):
        pa = machine_memblock_alloc(machine, sizeof(pglist_data), 64, nid, MC_RES_PGDAT)
        m.pgdat_va[nid] = mc_phys_to_virt(m, pa)
        m.pgdat[nid] = <pglist_data *>mc_host(m, m.pgdat_va[nid])
        machine_init_node(machine, nid)

    # the per-CPU units (kmem_cache_cpu ...) and the two boot kmem_caches
    m.percpu_unit = PERCPU_UNIT_SIZE
    pa = machine_memblock_alloc(machine, cpus * PERCPU_UNIT_SIZE, PAGE_SIZE, 0, MC_RES_PERCPU_AREA)
    m.percpu_base = mc_phys_to_virt(m, pa)
    memset(mc_host(m, m.percpu_base), 0, cpus * PERCPU_UNIT_SIZE)
    cs = (MC_KMEM_CACHE_SIZE(nodes) + 63) & ~63
    boot_caches_pa = machine_memblock_alloc(machine, 2 * cs, 64, 0, MC_RES_SLAB_BOOT)
    m.obj_bitmap = lazy_map(obj_bitmap_bytes(m), "the slab object bitmap")
    m.obj_gen = <uint32_t *>lazy_map(obj_gen_bytes(m), "the object generations")
    if machine.kasan:
        m.kasan_shadow = lazy_map(shadow_bytes(m), "the KASAN shadow")
        m.kasan = 1

    # memmap_init(): links, refcount 1, mapcount -1, cpupid reset, MOVABLE pageblocks
    last_zone = mc_boot_zone_of(nr_pfns - 1, m.lowmem_pfns)
    memmap_init(m, last_zone)
    for nid in range(nodes):
        add_reservation(m, m.memblock_top[nid] >> PAGE_SHIFT, memblock_end[nid], -1)
    mark_reservations(m)

    # memblock_free_all(): everything not reserved goes to the buddy allocator
    free_all_bootmem(m)
    # from_snapshot(): memory the snapshot uses stays out of reach of the boot's own
    # allocations (the slab caches below), which then come from memory it has free
    hold = machine._boot_hold
    if hold is not None:
        hold_p, hold_o = hold[0], hold[1]
        hold_h = hold[2]
        nhold = hold_p.shape[0]
        if nhold:
            hold_blocks(m, &hold_p[0], &hold_o[0], nhold, &hold_h[0])

    # watermarks, lowmem reserves, pcp batch/high
    machine_setup_watermarks(machine, min_free_kbytes)

    # the kernel image's variables (slab_caches, node_data, mem_section, ...)
    kimage_boot(machine, present)
    # kmem_cache_init(): SLUB's boot caches and the kmalloc caches
    try:
        slab_boot(machine, boot_caches_pa)
    finally:
        if nhold:
            release_blocks(m, &hold_p[0], &hold_o[0], nhold, &hold_h[0])
        machine._boot_hold = None


cdef machine_setup_watermarks(Machine machine, object min_free_kbytes):
    """min_free_kbytes (the sqrt rule, then khugepaged's recommendation, unless
    given), the watermarks, lowmem reserves and pcp batch/high of every zone
    from its managed pages."""
    cdef mc_machine *m = machine.m
    cdef int nid, zi, w
    if min_free_kbytes is None:
        # as at boot (init_per_zone_wmark_min()): no watermarks yet, so
        # nr_free_buffer_pages() is every lowmem zone's managed pages
        for nid in range(m.nr_nodes):
            for zi in range(MAX_NR_ZONES_C):
                for w in range(NR_WMARK):
                    m.pgdat[nid].node_zones[zi]._watermark[w] = 0
        m.min_free_kbytes = calculate_min_free_kbytes(m)
        setup_per_zone_wmarks(m)
        rec = recommended_min_free_kbytes(m)
        if rec > m.min_free_kbytes:
            m.min_free_kbytes = rec
    else:
        if not isinstance(min_free_kbytes, int) or min_free_kbytes < 0:
            raise ValueError(f"min_free_kbytes must be a non-negative int, "
                             f"not {min_free_kbytes!r}")
        m.min_free_kbytes = min_free_kbytes
    setup_per_zone_wmarks(m)
    setup_per_zone_lowmem_reserve(m)


cdef machine_init_node(Machine machine, int nid):
    cdef mc_machine *m = machine.m
    cdef pglist_data *pg = m.pgdat[nid]
    cdef zone *z
    cdef uint64_t start, end, zs, ze, nblocks, pa
    cdef int zi, o, mt, cpu
    cdef list_head *h
    memset(pg, 0, sizeof(pglist_data))
    start, end = m.node_start_pfn[nid], m.node_end_pfn[nid]
    pg.node_id = nid
    pg.node_start_pfn = start
    pg.node_spanned_pages = end - start
    pg.node_present_pages = ram_pfns_in(m, start, end)
    for zi in range(MAX_NR_ZONES_C):
        z = &pg.node_zones[zi]
        z.node = nid
        z.zone_idx = zi
        z.zone_pgdat = m.pgdat_va[nid]
        for o in range(NR_PAGE_ORDERS):
            for mt in range(MIGRATE_TYPES):
                h = &z.free_area[o].free_list[mt]
                INIT_LIST_HEAD(h, mc_virt(m, h))
        # the zone's part of the node: zones are PFN ranges on x86
        zs, ze = machine_zone_span(machine, zi)
        zs = max(zs, start)
        ze = min(ze, end)
        if ze <= zs:
            continue
        z.zone_start_pfn = zs
        z.spanned_pages = ze - zs
        z.present_pages = ram_pfns_in(m, zs, ze)          # spanned less the holes
        pg.nr_zones = zi + 1
        nblocks = ((ze - 1) >> pageblock_order) - (zs >> pageblock_order) + 1
        pa = machine_memblock_alloc(machine, nblocks, 8, nid, MC_RES_PAGEBLOCK)
        z.pageblock_flags = mc_phys_to_virt(m, pa)
        memset(mc_host(m, z.pageblock_flags), 0, nblocks)
        pa = machine_memblock_alloc(machine, m.nr_cpus * sizeof(per_cpu_pages), 64, nid, MC_RES_PERCPU)
        z.per_cpu_pageset = mc_phys_to_virt(m, pa)
        for cpu in range(m.nr_cpus):
            per_cpu_pages_init(m, zone_pcp(m, z, cpu))


cdef tuple machine_zone_span(Machine machine, int zi):
    """[start, end) of a zone over all of memory (x86 zone_sizes_init())."""
    cdef uint64_t lo = 0, hi = 0
    cdef bint found = False
    cuts = sorted({0, MAX_DMA_PFN, MAX_DMA32_PFN, machine.m.lowmem_pfns, machine.m.memmap_pfns})
    for a, b in zip(cuts, cuts[1:]):
        if a < b and mc_boot_zone_of(a, machine.m.lowmem_pfns) == zi:
            if not found:
                lo = a
                found = True
            hi = b
    if not found:
        return (0, 0)
    return (lo, hi)


def _zone_tuning(managed, int min_free_kbytes, int watermark_scale_factor=10, int cpus=2):
    """Watermarks, lowmem reserves and pcp limits of one node whose zones (by
    zone index) manage these page counts, computed by the same C code a
    Machine boots with.  For checking the formulas against a real /proc/zoneinfo."""
    cdef mc_machine *m
    cdef unsigned char *buf
    cdef size_t pcp_bytes = cpus * sizeof(per_cpu_pages)
    cdef size_t size = sizeof(pglist_data) + MAX_NR_ZONES_C * pcp_bytes + 64
    cdef zone *z
    cdef int zi, cpu
    if len(managed) != MAX_NR_ZONES_C:
        raise ValueError(f"managed needs {MAX_NR_ZONES_C} zones ({', '.join(ZONE_NAMES)})")
    if not 1 <= cpus <= MC_MAX_CPUS:
        raise ValueError(f"cpus must be 1..{MC_MAX_CPUS}")
    m = <mc_machine *>calloc(1, sizeof(mc_machine))
    buf = <unsigned char *>calloc(1, size)
    if m == NULL or buf == NULL:
        free(m)
        free(buf)
        raise MemoryError()
    try:
        m.phys = buf
        m.page_offset = MC_PAGE_OFFSET
        m.nr_nodes = 1
        m.nr_cpus = cpus
        m.min_free_kbytes = min_free_kbytes
        m.watermark_scale_factor = watermark_scale_factor
        m.pgdat[0] = <pglist_data *>buf
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[0].node_zones[zi]
            z.managed_pages = managed[zi]
            z.spanned_pages = managed[zi]
            z.node = 0
            if managed[zi]:
                z.per_cpu_pageset = mc_virt(m, buf + sizeof(pglist_data) + zi * pcp_bytes)
                for cpu in range(cpus):
                    per_cpu_pages_init(m, zone_pcp(m, z, cpu))
        setup_per_zone_wmarks(m)
        setup_per_zone_lowmem_reserve(m)
        out = []
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[0].node_zones[zi]
            out.append({"zone": ZONE_NAMES[zi], "managed": z.managed_pages,
                        "min": z._watermark[WMARK_MIN], "low": z._watermark[WMARK_LOW],
                        "high": z._watermark[WMARK_HIGH], "promo": z._watermark[WMARK_PROMO],
                        "protection": [z.lowmem_reserve[i] for i in range(MAX_NR_ZONES_C)],
                        "batch": z.pageset_batch if z.per_cpu_pageset else None,
                        "high_min": z.pageset_high_min if z.per_cpu_pageset else None,
                        "high_max": z.pageset_high_max if z.per_cpu_pageset else None})
        return out
    finally:
        free(buf)
        free(m)
