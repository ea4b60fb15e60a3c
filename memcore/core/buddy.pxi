# The buddy allocator (mm/page_alloc.c, Linux 6.18): free lists per order
# and migratetype, split on allocation, merge on free, fallback between
# migratetypes with pageblock claiming.
#
# Everything here runs without the GIL on the C structs.  Free blocks are
# linked through the design's buddy link (struct page's buddy_list in the
# classic design) with modeled addresses; PGTY_buddy marks the first page of
# a free block and `private` holds its order.  Merging looks only at the
# buddy's struct page: it never scans a free list.
#
# Provides: the free lists (__add_to_free_list, __del_page_from_free_list),
#   __free_one_page/free_one_page, expand, __rmqueue and its fallbacks,
#   pageblock migratetypes.
# Uses: decl.pxi (design accessors, zones), errors.pxi.

from libc.stdio cimport snprintf


# ---- small accessors ---------------------------------------------------------

cdef inline zone *page_zone(const mc_machine *m, const page *p) noexcept nogil:
    """The kernel's page_zone(): trusts the flags word.  Where that word may have
    been written through the API, page_links_bad() checks it first."""
    return &m.pgdat[page_to_nid(m, p)].node_zones[page_zonenum(m, p)]


cdef inline int page_links_bad(mc_machine *m, const page *p) noexcept nogil:
    """The node and zone of p's flags word name a zone of the machine that spans
    p's PFN (what page_zone() and pageblock_byte() index with); a hole's may name
    any zone (the model never frees a hole or looks up its pageblock).  0, or MC_EINVAL
    with m.err_* naming the bad value: a flags word written through the API can
    hold anything, and the module indexes host arrays without bounds checks.
    (Inline: every free runs it; the report is page_links_report().)"""
    cdef int nid = page_to_nid(m, p), zi = page_zonenum(m, p)
    cdef uint64_t pfn
    cdef const zone *z
    if nid < m.nr_nodes and zi < MAX_NR_ZONES_C:
        z = &m.pgdat[nid].node_zones[zi]
        pfn = mc_page_to_pfn(m, p)
        if pfn >= z.zone_start_pfn and pfn - z.zone_start_pfn < z.spanned_pages:
            return 0
    return page_links_report(m, p)


cdef int page_links_report(mc_machine *m, const page *p) noexcept nogil:
    """page_links_bad()'s slow path: 0 for a hole whose zone does not span it
    (init_unavailable_range() may give a hole such a zone), else m.err_* naming
    the bad value, and MC_EINVAL."""
    cdef int nid = page_to_nid(m, p), zi = page_zonenum(m, p)
    cdef uint64_t pfn = mc_page_to_pfn(m, p)
    if nid < m.nr_nodes and zi < MAX_NR_ZONES_C and pfn < m.nr_pfns and \
            mc_pfn_mark_test(m, pfn, MC_PFN_HOLE):
        return 0
    m.err_pfn = <int64_t>pfn
    if nid >= m.nr_nodes:
        snprintf(m.err_msg, sizeof(m.err_msg), b"node number in the flags word is %d, which "
                 b"names no node of the machine (valid: 0..%d)", nid, m.nr_nodes - 1)
    elif zi >= MAX_NR_ZONES_C:
        snprintf(m.err_msg, sizeof(m.err_msg), b"zone number in the flags word is %d, which "
                 b"names nothing (valid: 0..%d)", zi, MAX_NR_ZONES_C - 1)
    else:
        snprintf(m.err_msg, sizeof(m.err_msg), b"zone number in the flags word is %d, of node "
                 b"%d, which does not span pfn %#llx", zi, nid, <unsigned long long>pfn)
    m.err = MC_EINVAL
    return MC_EINVAL


cdef inline unsigned char *pageblock_byte(const mc_machine *m, const zone *z,
                                          uint64_t pfn) noexcept nogil:
    cdef unsigned char *bits = <unsigned char *>mc_host(m, z.pageblock_flags)
    return bits + ((pfn >> pageblock_order) - (z.zone_start_pfn >> pageblock_order))


cdef inline int get_pfnblock_migratetype(const mc_machine *m, const page *p,
                                         uint64_t pfn) noexcept nogil:
    """The pageblock's migratetype; MIGRATE_ISOLATE if its isolate bit is set."""
    return zone_pfnblock_migratetype(m, page_zone(m, p), pfn)


cdef inline int zone_pfnblock_migratetype(const mc_machine *m, const zone *z,
                                          uint64_t pfn) noexcept nogil:
    """get_pfnblock_migratetype() of a PFN of zone z, for callers that have the zone."""
    cdef unsigned char b = pageblock_byte(m, z, pfn)[0]
    if b & (1 << PB_migrate_isolate):
        return MIGRATE_ISOLATE
    return b & MIGRATETYPE_MASK


cdef inline void set_pageblock_migratetype(const mc_machine *m, const page *p,
                                           uint64_t pfn, int mt) noexcept nogil:
    """Store a migratetype (never ISOLATE); this also clears the isolate bit."""
    cdef unsigned char *b = pageblock_byte(m, page_zone(m, p), pfn)
    b[0] = (b[0] & ~(MIGRATETYPE_MASK | (1 << PB_migrate_isolate))) | mt


cdef inline void change_pageblock_range(const mc_machine *m, page *p, uint64_t pfn,
                                        int start_order, int mt) noexcept nogil:
    cdef int nr = 1 << (start_order - pageblock_order)
    cdef int i
    for i in range(nr):
        set_pageblock_migratetype(m, nth_page(p, i * pageblock_nr_pages),
                                  pfn + i * pageblock_nr_pages, mt)


cdef inline bint migratetype_is_mergeable(int mt) noexcept nogil:
    return mt < MIGRATE_PCPTYPES


cdef inline void account_freepages(zone *z, long nr, int mt) noexcept nogil:
    if mt == MIGRATE_ISOLATE:
        return
    z.vm_stat[NR_FREE_PAGES] += nr
    if mt == MIGRATE_HIGHATOMIC:
        z.nr_free_highatomic += nr


cdef inline list_head *free_list_head(zone *z, int order, int mt) noexcept nogil:
    return &z.free_area[order].free_list[mt]


# ---- free lists ----------------------------------------------------------------

cdef inline void __add_to_free_list(const mc_machine *m, page *p, zone *z, int order, int mt,
                                    bint tail) noexcept nogil:
    cdef list_head *head = free_list_head(z, order, mt)
    cdef mc_ulong head_va = mc_virt(m, head)
    if tail:
        free_list_add_tail(m, p, head, head_va)
    else:
        free_list_add(m, p, head, head_va)
    z.free_area[order].nr_free += 1
    if order >= pageblock_order and mt != MIGRATE_ISOLATE:
        z.vm_stat[NR_FREE_PAGES_BLOCKS] += 1 << order


cdef inline void move_to_free_list(const mc_machine *m, page *p, zone *z, int order,
                                   int old_mt, int new_mt) noexcept nogil:
    cdef list_head *head = free_list_head(z, order, new_mt)
    free_list_del(m, p)
    free_list_add_tail(m, p, head, mc_virt(m, head))
    account_freepages(z, -(1 << order), old_mt)
    account_freepages(z, 1 << order, new_mt)
    if order >= pageblock_order and (old_mt == MIGRATE_ISOLATE) != (new_mt == MIGRATE_ISOLATE):
        z.vm_stat[NR_FREE_PAGES_BLOCKS] += (-(1 << order) if new_mt == MIGRATE_ISOLATE
                                            else (1 << order))


cdef inline void __del_page_from_free_list(const mc_machine *m, page *p, zone *z, int order,
                                           int mt) noexcept nogil:
    free_list_del(m, p)
    mc_clear_page_type(m, p)
    set_page_private(m, p, 0)
    z.free_area[order].nr_free -= 1
    if order >= pageblock_order and mt != MIGRATE_ISOLATE:
        z.vm_stat[NR_FREE_PAGES_BLOCKS] -= 1 << order


cdef inline void del_page_from_free_list(const mc_machine *m, page *p, zone *z, int order,
                                         int mt) noexcept nogil:
    __del_page_from_free_list(m, p, z, order, mt)
    account_freepages(z, -(1 << order), mt)


cdef inline page *get_page_from_free_area(const mc_machine *m, zone *z, int order,
                                          int mt) noexcept nogil:
    cdef list_head *head = free_list_head(z, order, mt)
    if list_empty(head, mc_virt(m, head)):
        return NULL
    return mc_buddy_link_page(m, head.next)


# ---- finding and merging buddies -------------------------------------------

cdef inline bint page_is_buddy(const mc_machine *m, const page *p, const page *buddy, int order) noexcept nogil:
    if not PageBuddy(m, buddy):
        return False
    if buddy_order(m, buddy) != <unsigned int>order:
        return False
    # same zone *and* node: never merge across them
    return page_zone_id(m, p) == page_zone_id(m, buddy)


cdef inline page *find_buddy_page_pfn(const mc_machine *m, page *p, uint64_t pfn, int order,
                                      uint64_t *buddy_pfn_out) noexcept nogil:
    cdef uint64_t buddy_pfn = pfn ^ (<uint64_t>1 << order)
    cdef page *buddy
    if buddy_pfn_out != NULL:
        buddy_pfn_out[0] = buddy_pfn
    if buddy_pfn >= m.memmap_pfns:
        return NULL
    buddy = mc_pfn_to_page(m, buddy_pfn)
    if page_is_buddy(m, p, buddy, order):
        return buddy
    return NULL


cdef inline bint buddy_merge_likely(const mc_machine *m, uint64_t pfn, uint64_t buddy_pfn,
                                    page *p, int order) noexcept nogil:
    """Put the block at the tail if its next-order buddy is free already."""
    cdef uint64_t higher_pfn
    cdef page *higher
    if order >= MAX_PAGE_ORDER - 1:
        return False
    higher_pfn = buddy_pfn & pfn
    higher = mc_pfn_to_page(m, higher_pfn)
    return find_buddy_page_pfn(m, higher, higher_pfn, order + 1, NULL) != NULL


cdef void __free_one_page(const mc_machine *m, page *p, uint64_t pfn, zone *z, int order,
                          int mt, int fpi) noexcept nogil:
    """Give a block back to the buddy lists, merging with free buddies."""
    cdef uint64_t buddy_pfn = 0, combined_pfn
    cdef page *buddy
    cdef int buddy_mt
    cdef bint to_tail
    account_freepages(z, 1 << order, mt)
    while order < MAX_PAGE_ORDER:
        buddy_mt = mt
        buddy = find_buddy_page_pfn(m, p, pfn, order, &buddy_pfn)
        if buddy == NULL:
            break
        if order >= pageblock_order:
            # merging whole pageblocks: never mix a non-mergeable type in
            buddy_mt = get_pfnblock_migratetype(m, buddy, buddy_pfn)
            if mt != buddy_mt and (not migratetype_is_mergeable(mt) or
                                   not migratetype_is_mergeable(buddy_mt)):
                break
        __del_page_from_free_list(m, buddy, z, order, buddy_mt)
        if buddy_mt != mt:
            # the buddy's pageblocks take our type, so expand() splits consistently
            change_pageblock_range(m, buddy, buddy_pfn, order, mt)
        combined_pfn = buddy_pfn & pfn
        p = mc_pfn_to_page(m, combined_pfn)
        pfn = combined_pfn
        order += 1
    set_buddy_order(m, p, order)
    if fpi & FPI_TO_TAIL:
        to_tail = True
    else:
        to_tail = buddy_merge_likely(m, pfn, buddy_pfn, p, order)
    __add_to_free_list(m, p, z, order, mt, to_tail)


cdef void split_large_buddy(mc_machine *m, zone *z, page *p, uint64_t pfn, int order,
                            int fpi) noexcept nogil:
    """Free a block larger than a pageblock one pageblock at a time (each its own type)."""
    cdef uint64_t end = pfn + (<uint64_t>1 << order)
    cdef int o = order if order < pageblock_order else pageblock_order
    cdef int mt
    while pfn < end:
        mt = get_pfnblock_migratetype(m, p, pfn)
        __free_one_page(m, p, pfn, z, o, mt, fpi)
        pfn += <uint64_t>1 << o
        p += <uint64_t>1 << o


cdef void free_one_page(mc_machine *m, zone *z, page *p, uint64_t pfn, int order,
                        int fpi) noexcept nogil:
    split_large_buddy(m, z, p, pfn, order, fpi)
    m.pgfree += <uint64_t>1 << order


# ---- allocation from the free lists ---------------------------------------------

cdef long expand(const mc_machine *m, zone *z, page *p, int low, int high, int mt) noexcept nogil:
    """Split a block: keep the lowest part, put the upper halves back (largest first)."""
    cdef long size = 1 << high
    cdef long nr_added = 0
    while high > low:
        high -= 1
        size >>= 1
        __add_to_free_list(m, nth_page(p, size), z, high, mt, False)
        set_buddy_order(m, nth_page(p, size), high)
        nr_added += size
    return nr_added


cdef inline void page_del_and_expand(const mc_machine *m, zone *z, page *p, int low, int high,
                                     int mt) noexcept nogil:
    cdef long nr_pages
    __del_page_from_free_list(m, p, z, high, mt)
    nr_pages = (1 << high) - expand(m, z, p, low, high, mt)
    account_freepages(z, -nr_pages, mt)


cdef void break_down_buddy_pages(const mc_machine *m, zone *z, page *p, uint64_t pfn,
                                 uint64_t target_pfn, int low, int high, int mt) noexcept nogil:
    """break_down_buddy_pages() (mm/page_alloc.c): split the free block of order
    high at pfn down to the order-low block at target_pfn, putting every other
    half back on the free lists (no guard pages: CONFIG_DEBUG_PAGEALLOC is off)."""
    cdef uint64_t size = (<uint64_t>1) << high
    cdef page *buddy
    while high > low:
        high -= 1
        size >>= 1
        if target_pfn >= pfn + size:
            buddy = p
            p = nth_page(p, size)
            pfn += size
        else:
            buddy = nth_page(p, size)
        __add_to_free_list(m, buddy, z, high, mt, False)
        set_buddy_order(m, buddy, high)


cdef int take_block_off_buddy(mc_machine *m, uint64_t pfn, int order) noexcept nogil:
    """take_page_off_buddy() (mm/page_alloc.c) for a naturally aligned block of
    any order: find the free block that holds [pfn, pfn + 2^order), take it off
    its free list and break it down so that exactly this block leaves the
    allocator (its pages then have no type and refcount 0, as a block
    __rmqueue_smallest() hands out before prep_new_page()).  MC_EFREE, changing
    nothing, when the block is not wholly inside one free block."""
    cdef int o, page_order, mt
    cdef uint64_t head_pfn
    cdef page *head
    cdef zone *z
    for o in range(order, NR_PAGE_ORDERS):
        head_pfn = pfn & ~((<uint64_t>1 << o) - 1)
        head = mc_pfn_to_page(m, head_pfn)
        if PageBuddy(m, head):
            page_order = buddy_order(m, head)
            if page_order < o:
                break                    # a smaller free block: the rest is not free
            z = page_zone(m, head)
            mt = get_pfnblock_migratetype(m, head, head_pfn)
            del_page_from_free_list(m, head, z, page_order, mt)
            break_down_buddy_pages(m, z, head, head_pfn, pfn, order, page_order, mt)
            account_freepages(z, (1 << page_order) - (1 << order), mt)
            return 0
        if page_ref_count(m, head) > 0:
            break
    m.err = MC_EFREE
    m.err_pfn = <int64_t>pfn
    snprintf(m.err_msg, sizeof(m.err_msg), b"the order-%d block at pfn %#llx is not free",
             order, <unsigned long long>pfn)
    return MC_EFREE


cdef page *__rmqueue_smallest(const mc_machine *m, zone *z, int order, int mt) noexcept nogil:
    cdef int current_order
    cdef page *p
    for current_order in range(order, NR_PAGE_ORDERS):
        p = get_page_from_free_area(m, z, current_order, mt)
        if p == NULL:
            continue
        page_del_and_expand(m, z, p, order, current_order, mt)
        return p
    return NULL


# fallbacks[] for the three pcp types (HIGHATOMIC/ISOLATE have none)
cdef int FALLBACKS[3][2]
FALLBACKS[MIGRATE_UNMOVABLE][0] = MIGRATE_RECLAIMABLE
FALLBACKS[MIGRATE_UNMOVABLE][1] = MIGRATE_MOVABLE
FALLBACKS[MIGRATE_MOVABLE][0] = MIGRATE_RECLAIMABLE
FALLBACKS[MIGRATE_MOVABLE][1] = MIGRATE_UNMOVABLE
FALLBACKS[MIGRATE_RECLAIMABLE][0] = MIGRATE_UNMOVABLE
FALLBACKS[MIGRATE_RECLAIMABLE][1] = MIGRATE_MOVABLE


cdef inline bint should_try_claim_block(int order, int start_mt) noexcept nogil:
    if order >= pageblock_order:
        return True
    if order >= pageblock_order // 2:
        return True
    return start_mt == MIGRATE_RECLAIMABLE or start_mt == MIGRATE_UNMOVABLE


cdef int find_suitable_fallback(const mc_machine *m, zone *z, int order, int mt,
                                bint claimable) noexcept nogil:
    cdef int i, fmt
    cdef list_head *head
    if claimable and not should_try_claim_block(order, mt):
        return -2
    if z.free_area[order].nr_free == 0 or not 0 <= mt < MIGRATE_PCPTYPES:
        return -1                         # only the pcp types have fallbacks[] rows
    for i in range(2):
        fmt = FALLBACKS[mt][i]
        head = free_list_head(z, order, fmt)
        if not list_empty(head, mc_virt(m, head)):
            return fmt
    return -1


cdef bint prep_move_freepages_block(const mc_machine *m, zone *z, page *p,
                                    uint64_t *start_pfn, long *free_pages,
                                    long *movable_pages) noexcept nogil:
    """Count free and movable pages of p's pageblock (False if it leaves the zone)."""
    cdef uint64_t pfn = mc_page_to_pfn(m, p)
    cdef uint64_t start = pfn & ~(pageblock_nr_pages - 1)
    cdef uint64_t end = start + pageblock_nr_pages
    cdef page *q
    cdef int o
    start_pfn[0] = start
    free_pages[0] = 0
    movable_pages[0] = 0
    if start < z.zone_start_pfn or end > z.zone_start_pfn + z.spanned_pages:
        return False
    pfn = start
    while pfn < end:
        q = mc_pfn_to_page(m, pfn)
        if PageBuddy(m, q):
            o = buddy_order(m, q)
            free_pages[0] += 1 << o
            pfn += <uint64_t>1 << o
            continue
        if PageLRU(m, q):
            movable_pages[0] += 1
        pfn += 1
    return True


cdef long __move_freepages_block(const mc_machine *m, zone *z, uint64_t start_pfn,
                                 int old_mt, int new_mt) noexcept nogil:
    cdef uint64_t pfn = start_pfn, end = start_pfn + pageblock_nr_pages
    cdef page *q
    cdef int o
    cdef long moved = 0
    while pfn < end:
        q = mc_pfn_to_page(m, pfn)
        if not PageBuddy(m, q):
            pfn += 1
            continue
        o = buddy_order(m, q)
        move_to_free_list(m, q, z, o, old_mt, new_mt)
        pfn += <uint64_t>1 << o
        moved += 1 << o
    return moved


cdef page *try_to_claim_block(const mc_machine *m, zone *z, page *p, int current_order,
                              int order, int start_type, int block_type,
                              int alloc_flags) noexcept nogil:
    cdef long nr_added, free_pages, movable_pages, alike
    cdef uint64_t start_pfn
    if current_order >= pageblock_order:
        # whole pageblocks are free: take them over
        del_page_from_free_list(m, p, z, current_order, block_type)
        change_pageblock_range(m, p, mc_page_to_pfn(m, p), current_order, start_type)
        nr_added = expand(m, z, p, order, current_order, start_type)
        account_freepages(z, nr_added, start_type)
        return p
    if not prep_move_freepages_block(m, z, p, &start_pfn, &free_pages, &movable_pages):
        return NULL
    if start_type == MIGRATE_MOVABLE:
        alike = movable_pages
    elif block_type == MIGRATE_MOVABLE:
        alike = pageblock_nr_pages - (free_pages + movable_pages)
    else:
        alike = 0
    if free_pages + alike >= (1 << (pageblock_order - 1)):
        __move_freepages_block(m, z, start_pfn, block_type, start_type)
        set_pageblock_migratetype(m, mc_pfn_to_page(m, start_pfn), start_pfn, start_type)
        return __rmqueue_smallest(m, z, order, start_type)
    return NULL


cdef page *__rmqueue_claim(const mc_machine *m, zone *z, int order, int start_mt,
                           int alloc_flags) noexcept nogil:
    """Fallback that may take over a whole pageblock: search from the largest order."""
    cdef int current_order, fmt, min_order = order
    cdef page *p
    if order < pageblock_order and (alloc_flags & ALLOC_NOFRAGMENT):
        min_order = pageblock_order
    current_order = MAX_PAGE_ORDER
    while current_order >= min_order:
        fmt = find_suitable_fallback(m, z, current_order, start_mt, True)
        if fmt == -2:
            break
        if fmt != -1:
            p = get_page_from_free_area(m, z, current_order, fmt)
            p = try_to_claim_block(m, z, p, current_order, order, start_mt, fmt, alloc_flags)
            if p != NULL:
                return p
        current_order -= 1
    return NULL


cdef page *__rmqueue_steal(const mc_machine *m, zone *z, int order, int start_mt) noexcept nogil:
    """Fallback that takes the smallest block of another type, leaving its pageblock's type."""
    cdef int current_order, fmt
    cdef page *p
    for current_order in range(order, NR_PAGE_ORDERS):
        fmt = find_suitable_fallback(m, z, current_order, start_mt, False)
        if fmt == -1:
            continue
        p = get_page_from_free_area(m, z, current_order, fmt)
        page_del_and_expand(m, z, p, order, current_order, fmt)
        return p
    return NULL


# rmqueue modes: how far down the fallback chain one rmqueue_bulk() already went
cdef enum:
    RMQUEUE_NORMAL, RMQUEUE_CLAIM, RMQUEUE_STEAL


cdef page *__rmqueue(const mc_machine *m, zone *z, int order, int mt, int alloc_flags,
                     int *mode) noexcept nogil:
    cdef page *p
    if mode[0] == RMQUEUE_NORMAL:
        p = __rmqueue_smallest(m, z, order, mt)
        if p != NULL:
            return p
        mode[0] = RMQUEUE_CLAIM
    if mode[0] == RMQUEUE_CLAIM:
        p = __rmqueue_claim(m, z, order, mt, alloc_flags)
        if p != NULL:
            mode[0] = RMQUEUE_NORMAL
            return p
        mode[0] = RMQUEUE_STEAL
    if mode[0] == RMQUEUE_STEAL and not (alloc_flags & ALLOC_NOFRAGMENT):
        p = __rmqueue_steal(m, z, order, mt)
        if p != NULL:
            return p
    return NULL


cdef int rmqueue_bulk(const mc_machine *m, zone *z, int order, int count, list_head *lst,
                      mc_ulong lst_va, int mt, int alloc_flags) noexcept nogil:
    """Move up to count blocks from the buddy lists to a pcp list (at its tail)."""
    cdef int i, mode = RMQUEUE_NORMAL
    cdef page *p
    for i in range(count):
        p = __rmqueue(m, z, order, mt, alloc_flags, &mode)
        if p == NULL:
            return i
        free_list_add_tail(m, p, lst, lst_va)
    return count
