# The page allocator's entry points (mm/page_alloc.c, Linux 6.18):
# watermarks, the zonelist walk, preparing new pages and compound pages,
# and the checks and preparation of the free path.
#
# Not modeled: reclaim, compaction, kswapd (so no watermark boost), the
# high-order atomic reserve, CMA, page reporting and shuffling.  An
# allocation that finds no zone above its watermark fails (OutOfMemory).
#
# Provides: the watermark checks, get_page_from_freelist,
#   __alloc_frozen_pages, prep_new_page, free_pages_check,
#   __free_pages_prepare, __free_frozen_pages, the boot-time tuning,
#   pagetable_alloc, pagetable_free.
# Uses: buddy.pxi, pcp.pxi, kasan.pxi, errors.pxi, the design's free-path
#   checks and resets (page_bad_reason() ...).

from libc.math cimport sqrt


# ---- watermarks -------------------------------------------------------------------

cdef inline long wmark_pages(const zone *z, int i) noexcept nogil:
    return <long>(z._watermark[i] + z.watermark_boost)


cdef bint __zone_watermark_ok(const mc_machine *m, zone *z, int order, long mark,
                              int highest_zoneidx, int alloc_flags,
                              long free_pages) noexcept nogil:
    cdef long min_ = mark
    cdef int o, mt
    cdef list_head *h
    free_pages -= (1 << order) - 1
    if not (alloc_flags & ALLOC_RESERVES):
        free_pages -= <long>z.nr_free_highatomic
    if alloc_flags & ALLOC_RESERVES:
        if alloc_flags & ALLOC_MIN_RESERVE:
            min_ -= min_ // 2
            if alloc_flags & ALLOC_NON_BLOCK:
                min_ -= min_ // 4
        if alloc_flags & ALLOC_OOM:
            min_ -= min_ // 2
    if free_pages <= min_ + z.lowmem_reserve[highest_zoneidx]:
        return False
    if order == 0:
        return True
    for o in range(order, NR_PAGE_ORDERS):
        if z.free_area[o].nr_free == 0:
            continue
        for mt in range(MIGRATE_PCPTYPES):
            h = free_list_head(z, o, mt)
            if not list_empty(h, mc_virt(m, h)):
                return True
        if alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM):
            h = free_list_head(z, o, MIGRATE_HIGHATOMIC)
            if not list_empty(h, mc_virt(m, h)):
                return True
    return False


cdef inline bint zone_watermark_ok(zone *z, int order, mc_ulong mark, int highest_zoneidx,
                                   int alloc_flags) noexcept nogil:
    # order-0 form used by the pcp free path (no free-list walk needed)
    return <long>z.vm_stat[NR_FREE_PAGES] - <long>z.nr_free_highatomic > \
        <long>mark + z.lowmem_reserve[highest_zoneidx]


cdef inline bint zone_watermark_fast(const mc_machine *m, zone *z, int order, long mark,
                                     int highest_zoneidx, int alloc_flags) noexcept nogil:
    cdef long free_pages = z.vm_stat[NR_FREE_PAGES]
    cdef long usable, reserved
    if order == 0:
        reserved = 0 if (alloc_flags & ALLOC_RESERVES) else <long>z.nr_free_highatomic
        usable = free_pages - (reserved if reserved < free_pages else free_pages)
        if usable > mark + z.lowmem_reserve[highest_zoneidx]:
            return True
    return __zone_watermark_ok(m, z, order, mark, highest_zoneidx, alloc_flags, free_pages)


# ---- pages in and out -----------------------------------------------------------

cdef inline void prep_new_page(const mc_machine *m, page *p, int order,
                               unsigned int gfp) noexcept nogil:
    """post_alloc_hook + compound setup; the caller sets the refcount to 1."""
    cdef uint64_t pfn = mc_page_to_pfn(m, p)
    set_page_private(m, p, 0)
    if m.kasan and pfn < m.lowmem_pfns:            # kasan_unpoison_pages()
        kasan_unpoison(m, mc_phys_to_virt(m, pfn << PAGE_SHIFT), MC_PAGE_SIZE << order)
    if gfp & __GFP_ZERO:
        clear_pages(m, pfn, <uint64_t>1 << order)
    if order and (gfp & __GFP_COMP):
        prep_compound_page(m, p, order)


cdef void clear_pages(const mc_machine *m, uint64_t pfn, uint64_t nr) noexcept nogil:
    memset(m.phys + (pfn << PAGE_SHIFT), 0, nr << PAGE_SHIFT)


cdef inline int free_pages_check(mc_machine *m, page *p, int order, int expected_ref,
                                 bint from_put) noexcept nogil:
    """Everything freeing would call bad_page() for, checked without changing
    anything: the tail pages first, then the head.  `expected_ref` is the head's
    refcount now (1 before the last folio_put, 0 for a frozen folio); `from_put`
    means page_cache_release() runs first and takes a folio off the LRU.
    On a problem: m.err_pfn/err_msg say where and why, and MC_EBADPAGE."""
    cdef const char *bad
    cdef mc_ulong flags = PAGE_FLAGS_CHECK_AT_FREE
    cdef int rc
    if page_links_bad(m, p):                        # page_zone() must be a zone
        return MC_EINVAL
    if order:
        rc = free_tail_pages_check(m, p, order)
        if rc:
            return rc
    # __free_pages_prepare() clears PG_mlocked before it checks
    flags &= ~(<mc_ulong>1 << PG_mlocked)
    if from_put and test_bit(PG_lru, folio_flags(page_folio(m, p), 0)):
        flags &= ~((<mc_ulong>1 << PG_lru) | (<mc_ulong>1 << PG_active) |
                   (<mc_ulong>1 << PG_unevictable))
    bad = page_bad_reason(m, p, flags, expected_ref, True)
    if bad != NULL:
        return set_err(m, MC_EBADPAGE, mc_page_to_pfn(m, p), bad)
    return 0


cdef int free_tail_pages_check(mc_machine *m, page *p, int order) noexcept nogil:
    """free_pages_check() of the tail pages of an order > 0 block: 0, or MC_EBADPAGE."""
    cdef uint64_t i, nr = <uint64_t>1 << order
    cdef const char *bad
    cdef bint compound = PageHead(m, p) != 0
    # __free_pages_prepare(): every tail page of any order > 0 block, compound or
    # not, gets free_page_is_bad(); a compound one free_tail_page_prepare() first
    for i in range(1, nr):
        bad = NULL
        if compound:
            bad = free_tail_page_bad_reason(m, p, nth_page(p, i))
        if bad == NULL:
            bad = mc_free_tail_page_is_bad_reason(m, p, nth_page(p, i), compound)
        if bad != NULL:
            return set_err(m, MC_EBADPAGE, mc_page_to_pfn(m, p) + i, bad)
    return 0


cdef inline void __free_pages_prepare(mc_machine *m, page *p, int order) noexcept nogil:
    """The state changes of __free_pages_prepare(); free_pages_check() passed before."""
    cdef uint64_t pfn = mc_page_to_pfn(m, p)
    mc_free_pages_prepare_desc(m, p, order)
    if m.kasan and pfn < m.lowmem_pfns:             # kasan_poison_pages()
        kasan_poison(m, mc_phys_to_virt(m, pfn << PAGE_SHIFT), MC_PAGE_SIZE << order,
                     KASAN_PAGE_FREE)


cdef inline void account_cpu_free_diff(const mc_machine *m, zone *z, int cpu,
                                       long before) noexcept nogil:
    """__mod_zone_page_state(NR_FREE_PAGES) on `cpu`: its vm_stat_diff for the zone."""
    if z.per_cpu_pageset:
        zone_pcp(m, z, cpu).mc_free_diff += <int>(z.vm_stat[NR_FREE_PAGES] - before)


cdef void __free_frozen_pages(mc_machine *m, page *p, int order, int cpu) noexcept nogil:
    """Free a block whose refcount is 0: to the CPU's pcp list, or to the buddy.
    A block whose flags word names no zone spanning it (written through the
    API) is not freed: page_zone() would index outside pgdat[], and leaking it
    is what check() then reports (the entry points check before they get here)."""
    if page_links_bad(m, p):
        return
    free_frozen_pages_linked(m, p, order, cpu)


cdef inline void free_frozen_pages_linked(mc_machine *m, page *p, int order,
                                          int cpu) noexcept nogil:
    """__free_frozen_pages() of a block whose links free_pages_check() verified."""
    cdef uint64_t pfn = mc_page_to_pfn(m, p)
    cdef zone *z = page_zone(m, p)
    cdef int mt
    cdef long before = z.vm_stat[NR_FREE_PAGES]
    m.pfn_gen[pfn] += 1              # views of what was here are stale now
    __free_pages_prepare(m, p, order)
    mt = zone_pfnblock_migratetype(m, z, pfn)      # get_pfnblock_migratetype(), z known
    if not pcp_allowed_order(order) or mt == MIGRATE_ISOLATE:
        free_one_page(m, z, p, pfn, order, FPI_NONE)
    else:
        if mt >= MIGRATE_PCPTYPES:
            mt = MIGRATE_MOVABLE
        free_frozen_page_commit(m, z, zone_pcp(m, z, cpu), p, mt, order)
    if z.vm_stat[NR_FREE_PAGES] != before:          # a pcp free that did not flush: no change
        account_cpu_free_diff(m, z, cpu, before)


# ---- the zonelist walk ------------------------------------------------------------

cdef inline page *rmqueue(mc_machine *m, zone *z, int cpu, int order, int mt,
                          int alloc_flags) noexcept nogil:
    cdef page *p = NULL
    cdef int mode = RMQUEUE_NORMAL
    cdef long before = z.vm_stat[NR_FREE_PAGES]
    if pcp_allowed_order(order):
        p = rmqueue_pcplist(m, z, cpu, order, mt, alloc_flags)
    if p == NULL:
        p = __rmqueue(m, z, order, mt, alloc_flags, &mode)      # rmqueue_buddy()
    if z.vm_stat[NR_FREE_PAGES] != before:          # a pcp hit: no change
        account_cpu_free_diff(m, z, cpu, before)
    return p


cdef page *get_page_from_freelist(mc_machine *m, unsigned int gfp, int order, int nid, int cpu,
                                  int alloc_flags) noexcept nogil:
    """Walk the zonelist (preferred node first, highest allowed zone down)."""
    cdef int highest = gfp_zone(gfp), mt = gfp_migratetype(gfp)
    cdef int i, n, zi
    cdef zone *z
    cdef page *p
    cdef long mark
    cdef int flags = alloc_flags
    cdef int nr_nodes = 1 if (gfp & __GFP_THISNODE) else m.nr_nodes
    cdef bint retry
    # avoid fragmenting ZONE_NORMAL while DMA32 still has memory (alloc_flags_nofragment)
    while True:
        retry = False
        for i in range(nr_nodes):
            n = nid + i                            # (nid + i) % nr_nodes, without a divide
            if n >= m.nr_nodes:
                n -= m.nr_nodes
            if (flags & ALLOC_NOFRAGMENT) and m.nr_nodes > 1 and n != nid:
                # moving to a remote node: retry the local one allowing fragmenting
                # fallbacks first ("Locality is more important than fragmentation
                # avoidance", get_page_from_freelist() in mm/page_alloc.c)
                flags &= ~ALLOC_NOFRAGMENT
                retry = True
                break
            zi = highest
            while zi >= 0:
                z = &m.pgdat[n].node_zones[zi]
                zi -= 1
                if z.managed_pages == 0:
                    continue
                # above the high watermark: no need to look at the requested one
                if test_bit(ZONE_BELOW_HIGH, &z.flags) or not zone_watermark_fast(
                        m, z, order, wmark_pages(z, WMARK_HIGH), highest, flags):
                    set_bit(ZONE_BELOW_HIGH, &z.flags)
                    mark = wmark_pages(z, flags & ALLOC_WMARK_MASK)
                    if not zone_watermark_fast(m, z, order, mark, highest, flags):
                        continue
                p = rmqueue(m, z, cpu, order, mt, flags)
                if p != NULL:
                    return p
        if retry:
            continue
        if flags & ALLOC_NOFRAGMENT:
            flags &= ~ALLOC_NOFRAGMENT
            continue
        return NULL


cdef int alloc_flags_nofragment(const mc_machine *m, int nid, unsigned int gfp) noexcept nogil:
    """ALLOC_NOFRAGMENT when the preferred zone is ZONE_NORMAL and DMA32 exists below
    it: fall back to other migratetypes only in whole pageblocks, first."""
    cdef int zi = gfp_zone(gfp)
    if not mc_has_dma32():
        return 0
    while zi >= 0 and m.pgdat[nid].node_zones[zi].managed_pages == 0:
        zi -= 1                         # the preferred zone: highest populated one
    if zi != ZONE_NORMAL:
        return 0
    if m.nr_nodes > 1 and m.pgdat[nid].node_zones[ZONE_NORMAL - 1].managed_pages == 0:
        return 0
    return ALLOC_NOFRAGMENT


cdef inline page *__alloc_frozen_pages(mc_machine *m, unsigned int gfp, int order, int nid,
                                       int cpu) noexcept nogil:
    """__alloc_frozen_pages_noprof(): a block with refcount 0, or NULL."""
    cdef int alloc_flags = ALLOC_WMARK_LOW | alloc_flags_nofragment(m, nid, gfp)
    cdef page *p
    cdef int slow_flags
    p = get_page_from_freelist(m, gfp, order, nid, cpu, alloc_flags)
    if p == NULL:
        # the slow path without reclaim or compaction: down to the min watermark
        slow_flags = ALLOC_WMARK_MIN
        if gfp & __GFP_HIGH:
            slow_flags |= ALLOC_MIN_RESERVE
        if not (gfp & __GFP_DIRECT_RECLAIM):
            slow_flags |= ALLOC_NON_BLOCK      # atomic: may dip further
        p = get_page_from_freelist(m, gfp, order, nid, cpu, slow_flags)
    if p == NULL:
        return NULL
    prep_new_page(m, p, order, gfp)
    m.pgalloc += <uint64_t>1 << order
    # __count_zid_vm_events(PGALLOC, page_zonenum(page), 1 << order) in rmqueue()
    m.pgalloc_zone[page_zonenum(m, p)] += <uint64_t>1 << order
    return p


# ---- boot-time tuning: watermarks, lowmem reserves, pcp limits ---------------------

cdef long nr_free_buffer_pages(const mc_machine *m) noexcept nogil:
    """Managed pages above the high watermark in zones usable by GFP_USER."""
    cdef long total = 0, size, high
    cdef int nid, zi
    cdef zone *z
    for nid in range(m.nr_nodes):
        for zi in range(ZONE_NORMAL + 1):
            z = &m.pgdat[nid].node_zones[zi]
            size = <long>z.managed_pages
            high = wmark_pages(z, WMARK_HIGH)
            if size > high:
                total += size - high
    return total


cdef int calculate_min_free_kbytes(const mc_machine *m) noexcept nogil:
    cdef long lowmem_kbytes = nr_free_buffer_pages(m) * ((1 << PAGE_SHIFT) >> 10)
    cdef long v = <long>sqrt(<double>(lowmem_kbytes * 16))
    if v < 128:
        v = 128
    if v > 262144:
        v = 262144
    return <int>v


cdef int recommended_min_free_kbytes(const mc_machine *m) noexcept nogil:
    """khugepaged's set_recommended_min_free_kbytes() (THP is configured)."""
    cdef int nid, zi, nr_zones = 0
    cdef long rec, cap
    for nid in range(m.nr_nodes):
        for zi in range(ZONE_NORMAL + 1):
            if m.pgdat[nid].node_zones[zi].managed_pages:
                nr_zones += 1
    rec = pageblock_nr_pages * nr_zones * 2
    rec += pageblock_nr_pages * nr_zones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES
    cap = nr_free_buffer_pages(m) // 20
    if rec > cap:
        rec = cap
    return <int>(rec << (PAGE_SHIFT - 10))


cdef void setup_per_zone_wmarks(mc_machine *m) noexcept nogil:
    cdef long pages_min = m.min_free_kbytes >> (PAGE_SHIFT - 10)
    cdef long lowmem_pages = 0, tmp, managed
    cdef int nid, zi
    cdef zone *z
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[zi]
            if not mc_zone_is_highmem(zi) and zi != ZONE_MOVABLE:
                lowmem_pages += <long>z.managed_pages
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[zi]
            managed = <long>z.managed_pages
            tmp = pages_min * managed // lowmem_pages if lowmem_pages else 0
            if mc_zone_is_highmem(zi) or zi == ZONE_MOVABLE:
                z._watermark[WMARK_MIN] = min(max(managed // 1024, 32), 128)
            else:
                z._watermark[WMARK_MIN] = tmp
            tmp = max(tmp >> 2, managed * m.watermark_scale_factor // 10000)
            z.watermark_boost = 0
            z._watermark[WMARK_LOW] = z._watermark[WMARK_MIN] + tmp
            z._watermark[WMARK_HIGH] = z._watermark[WMARK_LOW] + tmp
            z._watermark[WMARK_PROMO] = z._watermark[WMARK_HIGH] + tmp
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[zi]
            if z.per_cpu_pageset:             # populated zones have pagesets
                zone_set_pageset_high_and_batch(m, z, 0)


# sysctl_lowmem_reserve_ratio defaults, by zone index (filled at boot by name)
cdef int LOWMEM_RESERVE_RATIO[8]


cdef void setup_per_zone_lowmem_reserve(mc_machine *m) noexcept nogil:
    cdef int nid, i, j
    cdef long managed_pages
    cdef zone *z
    cdef zone *upper
    cdef bint clear
    for nid in range(m.nr_nodes):
        for i in range(MAX_NR_ZONES_C - 1):
            z = &m.pgdat[nid].node_zones[i]
            managed_pages = 0
            clear = LOWMEM_RESERVE_RATIO[i] == 0 or z.managed_pages == 0
            z.lowmem_reserve[i] = 0
            for j in range(i + 1, MAX_NR_ZONES_C):
                upper = &m.pgdat[nid].node_zones[j]
                managed_pages += <long>upper.managed_pages
                z.lowmem_reserve[j] = 0 if clear else managed_pages // LOWMEM_RESERVE_RATIO[i]
        m.pgdat[nid].node_zones[MAX_NR_ZONES_C - 1].lowmem_reserve[MAX_NR_ZONES_C - 1] = 0


# ---- page tables (include/linux/mm.h: pagetable_alloc(), pagetable_free()) ----

cdef page *pagetable_alloc(mc_machine *m, unsigned int gfp, int order, int nid,
                           int cpu) noexcept nogil:
    """pagetable_alloc() + __pagetable_ctor(): a compound block with refcount 1
    typed as a page table.  Where the design has a ptdesc cache the descriptor
    comes first, then the pages, and the design attaches it to every page."""
    cdef int ci = mc_desc_cache_of(MC_DK_PTDESC, order)
    cdef mc_ulong desc = 0
    cdef page *p
    if ci >= 0:
        desc = desc_alloc(m, ci, nid, cpu)
        if desc == 0:
            return NULL
    p = __alloc_frozen_pages(m, gfp | __GFP_COMP, order, nid, cpu)
    if p == NULL:
        if desc:
            desc_free(m, ci, desc, cpu)
        return NULL
    mc_ptdesc_attach(m, p, order, desc)
    return p


cdef int pagetable_free(mc_machine *m, page *p, int cpu) noexcept nogil:
    """pagetable_dtor() + pagetable_free() of the table headed by p: the pages
    go back, then the descriptor (if the design has one).  Changes nothing
    and returns the error when p heads no table, or the free path would call
    bad_page()."""
    cdef uint64_t pfn = mc_page_to_pfn(m, p)
    cdef int order, rc
    cdef mc_ulong desc
    if not PageTable(m, p) or PageTail(m, p):
        return set_err(m, MC_EINVALFREE, pfn, b"pagetable_free() of a page that heads no page table")
    if page_ref_count(m, p) != 1:
        return set_err(m, MC_EBUSY, pfn, b"pagetable_free() of a page table with other references")
    order = mc_head_order(m, p)
    desc = mc_ptdesc_detach(m, p)
    rc = free_pages_check(m, p, order, 0, False)
    if rc:
        mc_ptdesc_attach(m, p, order, desc)      # as it was: the free is refused
        return rc
    __free_frozen_pages(m, p, order, cpu)
    if desc:
        desc_free(m, mc_desc_cache_of(MC_DK_PTDESC, order), desc, cpu)
    return 0
