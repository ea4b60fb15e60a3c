# Boot-time memory initialization (mm/mm_init.c, mm/memblock.c, Linux 6.18).


cdef void memmap_init(mc_machine *m, int last_zone) noexcept nogil:
    """__init_single_page() for every struct page, and MOVABLE pageblocks.

    Pages past the end of RAM (the rest of the last section) belong to the
    last zone and node, like init_unavailable_range(), and are reserved.
    """
    cdef uint64_t pfn
    cdef page *p
    cdef int nid = 0, zi
    cdef zone *z
    for pfn in range(m.memmap_pfns):
        while nid < m.nr_nodes - 1 and pfn >= m.node_end_pfn[nid]:
            nid += 1
        zi = mc_boot_zone_of(pfn, m.lowmem_pfns) if pfn < m.nr_pfns else last_zone
        p = mc_pfn_to_page(m, pfn)
        mc_init_single_page(m, p, zi, nid, pfn)   # links, refcount 1, mapcount -1, cpupid
        if pfn >= m.nr_pfns:
            __set_bit(PG_reserved, page_flags_word(p))
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[zi]
            if z.spanned_pages == 0:
                continue
            pfn = z.zone_start_pfn
            while pfn < z.zone_start_pfn + z.spanned_pages:
                pageblock_byte(m, z, pfn)[0] = MIGRATE_MOVABLE
                pfn += pageblock_nr_pages


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
        __clear_bit(PG_reserved, page_flags_word(nth_page(p, i)))
        set_page_count(nth_page(p, i), 0)
    z.managed_pages += nr
    __free_pages_prepare(m, p, order)
    free_one_page(m, z, p, pfn, order, FPI_TO_TAIL)
    m.pgfree -= nr                              # boot memory is not a PGFREE event


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
    """memblock_free_all(): every RAM PFN that is not PG_reserved."""
    cdef uint64_t pfn = 0, start
    while pfn < m.nr_pfns:
        if PageReserved(mc_pfn_to_page(m, pfn)):
            pfn += 1
            continue
        start = pfn
        while pfn < m.nr_pfns and not PageReserved(mc_pfn_to_page(m, pfn)):
            pfn += 1
        __free_pages_memory(m, start, pfn)


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
            __set_bit(PG_reserved, page_flags_word(mc_pfn_to_page(m, pfn)))
            if pfn < m.nr_pfns:
                mc_pfn_mark_set(m, pfn, MC_PFN_RESERVED)


cdef uint64_t reserved_pages(const mc_machine *m) noexcept nogil:
    cdef int i
    cdef uint64_t n = 0
    for i in range(m.nr_reservations):
        n += m.reservations[i].end - m.reservations[i].start
    return n
