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
        p = &m.memmap[pfn]
        memset(p, 0, sizeof(page))
        set_page_links(p, zi, nid, pfn)
        set_page_count(p, 1)                      # init_page_count()
        page_mapcount_reset(p)                    # _mapcount = -1, page_type = UINT_MAX
        page_cpupid_reset_last(p)
        INIT_LIST_HEAD(&p.lru, mc_page_va(m, p) + <mc_ulong>(<char *>&p.lru - <char *>p))
        if pfn >= m.nr_pfns:
            __set_bit(PG_reserved, &p.flags.f)
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
        __clear_bit(PG_reserved, &(p + i).flags.f)
        set_page_count(p + i, 0)
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
        if test_bit(PG_reserved, &m.memmap[pfn].flags.f):
            pfn += 1
            continue
        start = pfn
        while pfn < m.nr_pfns and not test_bit(PG_reserved, &m.memmap[pfn].flags.f):
            pfn += 1
        __free_pages_memory(m, start, pfn)
