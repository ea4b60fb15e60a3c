# m.check(): every invariant of the model, in one nogil pass per structure.
#
# Each PFN of RAM must be accounted for exactly once: in a free block on a
# buddy list, on one CPU's pcp list, reserved, or part of an allocated (or
# frozen) folio.  Free lists must agree with page types, orders, zones,
# pageblock migratetypes and the counters; no two free buddies may be left
# unmerged; every compound page must be well formed.
#
# Provides: machine_check (free lists, pcp lists, compound pages, every PFN).
# Uses: buddy.pxi, pcp.pxi, the design's mc_compound_bad_reason, pfn_marks.

cdef enum:
    CLAIM_NONE, CLAIM_FREE, CLAIM_PCP, CLAIM_RESERVED, CLAIM_FOLIO, CLAIM_HOLE


cdef int check_fail(mc_machine *m, uint64_t pfn, const char *fmt, long a, long b) noexcept nogil:
    m.err = MC_EINVAL
    m.err_pfn = <int64_t>pfn
    snprintf(m.err_msg, sizeof(m.err_msg), fmt, a, b)
    return MC_EINVAL


cdef int claim(mc_machine *m, unsigned char *claims, uint64_t pfn, uint64_t n,
               unsigned char what) noexcept nogil:
    cdef uint64_t i
    if pfn + n > m.nr_pfns:
        return check_fail(m, pfn, b"block of %ld pages at this pfn runs past the end of RAM (%ld)",
                          <long>n, <long>m.nr_pfns)
    for i in range(pfn, pfn + n):
        if what != CLAIM_HOLE and mc_pfn_mark_test(m, i, MC_PFN_HOLE):
            return check_fail(m, i, b"a hole between RAM ranges is in use (state %ld)",
                              <long>what, 0)
        if claims[i] != CLAIM_NONE:
            return check_fail(m, i, b"page accounted twice (states %ld and %ld)",
                              <long>claims[i], <long>what)
        claims[i] = what
    return 0


cdef int check_free_lists(mc_machine *m, zone *z, unsigned char *claims) noexcept nogil:
    cdef int o, mt, pmt, bmt
    cdef list_head *h
    cdef mc_ulong h_va, v, prev
    cdef page *p
    cdef page *buddy
    cdef uint64_t pfn, bpfn, i
    cdef long free_pages = 0, free_blocks_pages = 0, n_order
    for o in range(NR_PAGE_ORDERS):
        n_order = 0
        for mt in range(MIGRATE_TYPES):
            h = free_list_head(z, o, mt)
            h_va = mc_virt(m, h)
            prev = h_va
            v = h.next
            while v != h_va:
                if not mc_free_link_valid(m, v):
                    return check_fail(m, z.zone_start_pfn, b"free list order %ld type %ld "
                                      b"links to an address outside modeled memory", o, mt)
                if free_list_prev(m, v) != prev:
                    return check_fail(m, z.zone_start_pfn, b"free list order %ld type %ld: "
                                      b"prev pointer does not match", o, mt)
                p = mc_buddy_link_page(m, v)
                pfn = mc_page_to_pfn(m, p)
                if not PageBuddy(m, p):
                    return check_fail(m, pfn, b"page on the order-%ld free list (type %ld) "
                                      b"is not PageBuddy", o, mt)
                if buddy_order(m, p) != <unsigned int>o:
                    return check_fail(m, pfn, b"buddy order %ld on the order-%ld free list",
                                      buddy_order(m, p), o)
                if pfn & ((<uint64_t>1 << o) - 1):
                    return check_fail(m, pfn, b"free block of order %ld is not aligned (%ld)",
                                      o, <long>pfn)
                if pfn < z.zone_start_pfn or pfn + (<uint64_t>1 << o) > \
                        z.zone_start_pfn + z.spanned_pages or page_links_bad(m, p) or \
                        page_zone(m, p) != z:
                    return check_fail(m, pfn, b"free block of order %ld (type %ld) is on "
                                      b"another zone's list", o, mt)
                i = pfn
                while i < pfn + (<uint64_t>1 << o):
                    pmt = get_pfnblock_migratetype(m, mc_pfn_to_page(m, i), i)
                    if pmt != mt:
                        return check_fail(m, pfn, b"free block on the type-%ld list sits in "
                                          b"a pageblock of type %ld", mt, pmt)
                    i += pageblock_nr_pages
                for i in range(pfn + 1, pfn + (<uint64_t>1 << o)):
                    if page_has_type(m, mc_pfn_to_page(m, i)) or page_ref_count(m, mc_pfn_to_page(m, i)):
                        return check_fail(m, i, b"page inside a free block of order %ld has "
                                          b"a type or a refcount (%ld)", o,
                                          page_ref_count(m, mc_pfn_to_page(m, i)))
                if page_ref_count(m, p) != 0:
                    return check_fail(m, pfn, b"free block head has refcount %ld (order %ld)",
                                      page_ref_count(m, p), o)
                if claim(m, claims, pfn, <uint64_t>1 << o, CLAIM_FREE):
                    return MC_EINVAL
                # a free buddy of the same order must have been merged
                if o < MAX_PAGE_ORDER:
                    buddy = find_buddy_page_pfn(m, p, pfn, o, &bpfn)
                    if buddy != NULL:
                        bmt = get_pfnblock_migratetype(m, buddy, bpfn)
                        if not (o >= pageblock_order and bmt != mt and
                                (not migratetype_is_mergeable(mt) or
                                 not migratetype_is_mergeable(bmt))):
                            return check_fail(m, pfn, b"free buddies of order %ld left "
                                              b"unmerged (buddy pfn %#lx)", o, <long>bpfn)
                n_order += 1
                if mt != MIGRATE_ISOLATE:
                    free_pages += 1 << o
                    if o >= pageblock_order:
                        free_blocks_pages += 1 << o
                prev = v
                v = free_list_next(m, v)
        if n_order != <long>z.free_area[o].nr_free:
            return check_fail(m, z.zone_start_pfn, b"free_area[%ld].nr_free is %ld, "
                              b"the lists hold a different number", o, <long>z.free_area[o].nr_free)
    if free_pages != z.vm_stat[NR_FREE_PAGES]:
        return check_fail(m, z.zone_start_pfn, b"NR_FREE_PAGES is %ld, free lists hold %ld",
                          z.vm_stat[NR_FREE_PAGES], free_pages)
    if free_blocks_pages != z.vm_stat[NR_FREE_PAGES_BLOCKS]:
        return check_fail(m, z.zone_start_pfn, b"NR_FREE_PAGES_BLOCKS is %ld, lists hold %ld",
                          z.vm_stat[NR_FREE_PAGES_BLOCKS], free_blocks_pages)
    return 0


cdef int check_pcp_lists(mc_machine *m, zone *z, unsigned char *claims) noexcept nogil:
    cdef int cpu, pi, order
    cdef long count, zone_total = 0
    cdef per_cpu_pages *pcp
    cdef list_head *h
    cdef mc_ulong h_va, v, prev
    cdef page *p
    cdef uint64_t pfn
    for cpu in range(m.nr_cpus):
        pcp = zone_pcp(m, z, cpu)
        count = 0
        for pi in range(NR_PCP_LISTS):
            order = pindex_to_order(pi)
            h = &pcp.lists[pi]
            h_va = mc_virt(m, h)
            prev = h_va
            v = h.next
            while v != h_va:
                if not mc_free_link_valid(m, v):
                    return check_fail(m, z.zone_start_pfn, b"pcp list %ld of CPU %ld links "
                                      b"to an address outside modeled memory", pi, cpu)
                if free_list_prev(m, v) != prev:
                    return check_fail(m, z.zone_start_pfn, b"pcp list %ld of CPU %ld: "
                                      b"prev pointer does not match", pi, cpu)
                p = mc_buddy_link_page(m, v)
                pfn = mc_page_to_pfn(m, p)
                if PageBuddy(m, p) or page_has_type(m, p):
                    return check_fail(m, pfn, b"page on pcp list %ld of CPU %ld has a page type",
                                      pi, cpu)
                if page_ref_count(m, p) != 0:
                    return check_fail(m, pfn, b"page on a pcp list has refcount %ld (CPU %ld)",
                                      page_ref_count(m, p), cpu)
                if pfn & ((<uint64_t>1 << order) - 1) or page_links_bad(m, p) or \
                        page_zone(m, p) != z:
                    return check_fail(m, pfn, b"pcp block of order %ld misaligned or in "
                                      b"another zone (CPU %ld)", order, cpu)
                if claim(m, claims, pfn, <uint64_t>1 << order, CLAIM_PCP):
                    return MC_EINVAL
                count += 1 << order
                prev = v
                v = free_list_next(m, v)
        if count != pcp.count:
            return check_fail(m, z.zone_start_pfn, b"pcp->count is %ld, lists hold %ld",
                              pcp.count, count)
        zone_total += count
    if zone_total != z.vm_stat[NR_ZONE_PCP_PAGES]:
        return check_fail(m, z.zone_start_pfn, b"zone pcp pages counter %ld, lists hold %ld",
                          z.vm_stat[NR_ZONE_PCP_PAGES], zone_total)
    return 0


cdef int check_compound(mc_machine *m, page *head, uint64_t pfn, int order) noexcept nogil:
    """An allocated block's shape: aligned, and what the design says its pages
    (and its descriptor, where it has one) hold.  `order` is mc_head_order()."""
    cdef uint64_t nr = <uint64_t>1 << order
    cdef unsigned long bad = 0
    cdef const char *why
    if (PageHead(m, head) and order == 0) or order > MAX_PAGE_ORDER:
        return check_fail(m, pfn, b"PG_head with folio order %ld", order, 0)
    if pfn & (nr - 1):
        return check_fail(m, pfn, b"compound page of order %ld is not aligned", order, 0)
    why = mc_compound_bad_reason(m, head, order, &bad)
    if why != NULL:
        m.err = MC_EINVAL
        m.err_pfn = <int64_t>(pfn + bad)
        snprintf(m.err_msg, sizeof(m.err_msg), b"%s (page %ld of an order-%ld folio)",
                 why, <long>bad, <long>order)
        return MC_EINVAL
    return 0


cdef int check_memmap(mc_machine *m, unsigned char *claims) noexcept nogil:
    cdef uint64_t pfn = 0, nr
    cdef page *p
    cdef int order, rc
    while pfn < m.nr_pfns:
        if claims[pfn] != CLAIM_NONE:
            pfn += 1
            continue
        p = mc_pfn_to_page(m, pfn)
        if mc_pfn_mark_test(m, pfn, MC_PFN_HOLE):
            # not RAM: no struct page, or init_unavailable_range()'s (PG_reserved, refcount 1)
            if not mc_pfn_mark_test(m, pfn, MC_PFN_NOMAP) and \
                    (not PageReserved(m, p) or page_ref_count(m, p) != 1 or page_has_type(m, p)):
                return check_fail(m, pfn, b"struct page of a hole lost PG_reserved or its "
                                  b"reference (refcount %ld)", page_ref_count(m, p), 0)
            if claim(m, claims, pfn, 1, CLAIM_HOLE):
                return MC_EINVAL
            pfn += 1
            continue
        if PageTail(m, p):
            return check_fail(m, pfn, b"tail page outside any allocated folio", 0, 0)
        if PageBuddy(m, p):
            return check_fail(m, pfn, b"PageBuddy page (order %ld) is on no free list",
                              buddy_order(m, p), 0)
        if mc_pfn_mark_test(m, pfn, MC_PFN_RESERVED):
            # reserved by memblock at boot: stays PG_reserved with refcount 1
            if not PageReserved(m, p) or page_ref_count(m, p) != 1:
                return check_fail(m, pfn, b"boot-reserved page lost PG_reserved or its "
                                  b"reference (refcount %ld)", page_ref_count(m, p), 0)
            if claim(m, claims, pfn, 1, CLAIM_RESERVED):
                return MC_EINVAL
            pfn += 1
            continue
        if PageSlab(m, p) or PageLargeKmalloc(m, p):
            # frozen typed allocations (refcount 0); Machine.check() verifies the slabs
            if page_ref_count(m, p) != 0:
                return check_fail(m, pfn, b"slab or large kmalloc page has refcount %ld",
                                  page_ref_count(m, p), 0)
            order = mc_head_order(m, p)
            rc = check_compound(m, p, pfn, order)
            if rc:
                return rc
            nr = <uint64_t>1 << order
            if claim(m, claims, pfn, nr, CLAIM_FOLIO):
                return MC_EINVAL
            pfn += nr
            continue
        if page_ref_count(m, p) < 0:
            return check_fail(m, pfn, b"negative refcount %ld", page_ref_count(m, p), 0)
        if page_ref_count(m, p) == 0 and not mc_pfn_mark_test(m, pfn, MC_PFN_FROZEN):
            return check_fail(m, pfn, b"page with refcount 0 is on no free list and not "
                              b"frozen: leaked", 0, 0)
        if page_ref_count(m, p) > 0 and mc_pfn_mark_test(m, pfn, MC_PFN_FROZEN):
            return check_fail(m, pfn, b"frozen folio has refcount %ld", page_ref_count(m, p), 0)
        order = mc_head_order(m, p)
        rc = check_compound(m, p, pfn, order)
        if rc:
            return rc
        nr = <uint64_t>1 << order
        if claim(m, claims, pfn, nr, CLAIM_FOLIO):
            return MC_EINVAL
        pfn += nr
    return 0


cdef int machine_check(mc_machine *m, unsigned char *claims) noexcept nogil:
    cdef int nid, zi, rc
    cdef zone *z
    cdef uint64_t managed = 0, reserved = 0, holes = 0, pfn
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[zi]
            if z.spanned_pages == 0:
                continue
            rc = check_free_lists(m, z, claims)
            if rc:
                return rc
            rc = check_pcp_lists(m, z, claims)
            if rc:
                return rc
            managed += z.managed_pages
    rc = check_memmap(m, claims)
    if rc:
        return rc
    for pfn in range(m.nr_pfns):
        if claims[pfn] == CLAIM_NONE:
            return check_fail(m, pfn, b"page not accounted for", 0, 0)
        if claims[pfn] == CLAIM_RESERVED:
            reserved += 1
        elif claims[pfn] == CLAIM_HOLE:
            holes += 1
    if managed + reserved + holes != m.nr_pfns:
        return check_fail(m, 0, b"zones manage %ld pages but %ld are neither reserved "
                          b"nor holes", <long>managed, <long>(m.nr_pfns - reserved - holes))
    return 0
