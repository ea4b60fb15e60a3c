# Compaction (mm/compaction.c, mm/migrate.c of Linux 6.18), in outline, on
# every design: per zone a migrate scanner walks pageblocks up from the
# bottom and a free scanner takes free blocks down from the top; each
# movable folio the migrate scanner finds is moved into a free block the
# free scanner found above it, until the scanners meet.
#
# The migrate scanner trusts no page type without a reference (claim S5):
# it takes the folio with the lock-free walker's protocol
# (walker_folio_get(): try_get, re-check), and only then asks whether the
# folio can move.  A folio can move when something can re-point every user
# of it: here a page-cache folio (its XArray slot); anything else (anon
# folios without the model's page tables, kernel pages, slabs) is skipped,
# and never locked.  Migration follows migrate_folio() ->
# folio_migrate_mapping(): lock, freeze the refcount at the expected count
# (the cache's references and the scanner's), copy the contents and flags,
# store the new folio in the XArray slot, give it the cache's references,
# unlock, free the old one.
#
# Provides: compact_zone(), migrate_cache_folio(), machine_compact().
# Uses: bulk.pxi (walker_folio_get), buddy.pxi (take_block_off_buddy),
#   boot.pxi (snapshot_folio: a descriptor for a block), filemap.pxi,
#   xarray.pxi, folio.pxi.

from libc.stdint cimport uintptr_t


cdef struct compact_stats:
    uint64_t scanned                 # PFNs the migrate scanner looked at
    uint64_t isolated                # folios it isolated (reference and lock taken)
    uint64_t migrated                # folios moved
    uint64_t skipped_by_type         # pages of folios or kernel pages that cannot move
    uint64_t failed                  # isolated but not moved (busy, no target)


cdef inline bint folio_movable(const mc_machine *m, folio *f) noexcept nogil:
    """Something can re-point every user: a page-cache folio (mapping is an
    address_space: set, not anon), not under writeback, no private data."""
    cdef mc_ulong mapping = mc_folio_mapping_word(f)
    return (mapping != 0 and (mapping & 3) == 0
            and not test_bit(PG_writeback, folio_flags(f, 0))
            and not test_bit(PG_private, folio_flags(f, 0)))


cdef int64_t free_scanner_take(mc_machine *m, zone *z, int order, uint64_t *cursor,
                               uint64_t *pos, uint64_t floor) noexcept nogil:
    """isolate_freepages(), in outline: from *pos in the pageblock at *cursor,
    then pageblock by pageblock down to the one above floor, the first free
    block of at least `order`; its first 2^order pages leave the allocator
    (take_block_off_buddy()).  The scanner resumes where it stopped.  The
    PFN, or -1."""
    cdef uint64_t pb = pageblock_nr_pages, pfn, end
    cdef uint64_t zend = z.zone_start_pfn + z.spanned_pages
    cdef page *p
    cdef int o
    while cursor[0] >= floor and cursor[0] >= z.zone_start_pfn:
        pfn = max(pos[0], cursor[0])
        end = min(cursor[0] + pb, zend)
        while pfn < end:
            if m.pfn_marks[pfn] & MC_PFN_HOLE:
                pfn += 1
                continue
            p = mc_pfn_to_page(m, pfn)
            if PageBuddy(m, p):
                o = buddy_order(m, p)
                if o >= order and pfn >= floor and take_block_off_buddy(m, pfn, order) == 0:
                    pos[0] = pfn + (<uint64_t>1 << order)
                    return <int64_t>pfn
                pfn += <uint64_t>1 << o
                continue
            pfn += 1
        if cursor[0] < pb:
            break
        cursor[0] -= pb
        pos[0] = cursor[0]
    return -1


cdef bint migrate_cache_folio(mc_machine *m, folio *src, uint64_t dst_pfn, int cpu) noexcept nogil:
    """migrate_folio() of a locked page-cache folio the caller holds one
    reference to, into the free block at dst_pfn (already off the free
    lists).  False, changing nothing but giving the block back, if the
    refcount is not exactly the cache's plus the caller's (someone else
    holds the folio) or no descriptor could be had."""
    cdef int order = folio_order(src)
    cdef int nr = <int>folio_nr_pages(src)
    cdef uint64_t src_pfn = folio_pfn(m, src)
    cdef mc_ulong mapping = mc_folio_mapping_word(src), index = folio_index(src)
    cdef mc_ulong keep = ((<mc_ulong>1 << PG_uptodate) | (<mc_ulong>1 << PG_dirty) |
                          (<mc_ulong>1 << PG_referenced) | (<mc_ulong>1 << PG_workingset))
    cdef page *p = mc_pfn_to_page(m, dst_pfn)
    cdef folio *dst
    cdef xa_state xas
    if truncate_free_check(m, src):            # the old folio must be freeable afterwards
        __free_frozen_pages(m, p, order, cpu)
        return False
    if not folio_ref_freeze_marked(m, src, nr + 1):
        __free_frozen_pages(m, p, order, cpu)
        return False
    prep_new_page(m, p, order, __GFP_COMP)
    dst = snapshot_folio(m, p, order, False)
    if dst == NULL:
        folio_ref_unfreeze(m, src, nr + 1)
        __free_frozen_pages(m, p, order, cpu)
        return False
    if order:
        folio_set_large_rmappable_flag(dst)
    # folio_migrate_mapping(): the new folio takes the cache's references and slot
    folio_set_count(dst, 1 + nr)
    mc_folio_set_mapping(dst, mapping)
    mc_folio_set_index(dst, index)
    if (dst_pfn + nr) << PAGE_SHIFT <= m.phys_bytes and \
            (src_pfn + nr) << PAGE_SHIFT <= m.phys_bytes:
        memcpy(m.phys + (dst_pfn << PAGE_SHIFT), m.phys + (src_pfn << PAGE_SHIFT),
               <size_t>nr << PAGE_SHIFT)                               # folio_copy()
    folio_flags(dst, 0)[0] |= folio_flags(src, 0)[0] & keep              # folio_migrate_flags()
    xas_init(&xas, mapping_i_pages(mapping), index, cpu)
    xas_set_order(&xas, index, order)
    xas_store(m, &xas, mc_folio_va(m, dst))   # the same slots: no node is needed
    # the old folio: no mapping, unlocked, off the LRU, freed
    mc_folio_set_mapping(src, 0)
    folio_flags(src, 0)[0] &= ~(keep | (<mc_ulong>1 << PG_dirty))
    bit_unlock(m, mc_folio_flags_va(m, src), folio_flags(src, 0))
    mc_folio_clear_lru_flags(src)
    free_frozen_folio(m, src, cpu)
    folio_put(m, dst, cpu)                    # the migration's reference
    return True


cdef void compact_zone(mc_machine *m, zone *z, int cpu, int task,
                       compact_stats *st) noexcept nogil:
    """compact_zone(), in outline (see the file comment)."""
    cdef uint64_t pb = pageblock_nr_pages
    cdef uint64_t zs = z.zone_start_pfn, ze = zs + z.spanned_pages
    cdef uint64_t mig = zs, pfn, end, first, nr, retries = 0
    cdef uint64_t cursor = (ze - 1) & ~(pb - 1), pos = cursor
    cdef int64_t dst
    cdef page *p
    cdef folio *f
    cdef int rc
    while mig < cursor:
        pfn = mig
        end = min((mig & ~(pb - 1)) + pb, cursor)
        while pfn < end:
            if m.pfn_marks[pfn] & MC_PFN_HOLE:
                pfn += 1
                continue
            st.scanned += 1
            p = mc_pfn_to_page(m, pfn)
            if PageBuddy(m, p):
                pfn += <uint64_t>1 << buddy_order(m, p)
                continue
            # S5: a reference first, then the type
            f = walker_folio_get(m, pfn, &retries, cpu)
            if f == NULL:
                if page_ref_count(m, p) or page_has_type(m, mc_compound_head(m, p)):
                    st.skipped_by_type += 1
                pfn += 1
                continue
            first = folio_pfn(m, f)
            nr = folio_nr_pages(f)
            if not folio_movable(m, f):
                folio_put(m, f, cpu)
                st.skipped_by_type += nr
                pfn = max(pfn + 1, first + nr)
                continue
            rc = bit_trylock(m, mc_folio_flags_va(m, f), folio_flags(f, 0), task)
            if rc != BITLOCK_TAKEN:
                folio_put(m, f, cpu)
                pfn = max(pfn + 1, first + nr)
                continue
            st.isolated += 1
            dst = free_scanner_take(m, z, folio_order(f), &cursor, &pos, first + nr)
            if dst >= 0 and migrate_cache_folio(m, f, <uint64_t>dst, cpu):
                st.migrated += 1
            else:
                st.failed += 1
                bit_unlock(m, mc_folio_flags_va(m, f), folio_flags(f, 0))
                folio_put(m, f, cpu)
                if dst < 0:
                    return                        # the scanners met
            pfn = max(pfn + 1, first + nr)
        mig = end


cdef int zone_largest_free_order(const zone *z) noexcept nogil:
    cdef int o
    for o in range(MAX_PAGE_ORDER, -1, -1):
        if z.free_area[o].nr_free:
            return o
    return -1


cdef object machine_compact(Machine machine, zone_name, task):
    cdef Task t = machine._running(task)
    cdef mc_machine *m = machine.m
    cdef compact_stats st
    cdef zone *z
    cdef int nid, zi = 0, i, before = -1, after = -1
    cdef list zones = []
    memset(&st, 0, sizeof(st))
    if zone_name is not None:
        zi = machine_zone_index(machine, zone_name)
    for nid in range(m.nr_nodes):
        for i in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[i]
            if z.spanned_pages and z.managed_pages and (zone_name is None or i == zi):
                zones.append(<uintptr_t>z)
    if zone_name is not None and not zones:
        raise UnknownChoice("zone", zone_name, [ZONE_NAMES[i] for i in range(MAX_NR_ZONES_C)
                                                if m.pgdat[0].node_zones[i].managed_pages])
    machine.drain_pcp()
    for zp in zones:
        z = <zone *><uintptr_t>zp
        before = max(before, zone_largest_free_order(z))
    m.slub_pid = t.id + 1
    machine_rcu_read_lock(machine, t)
    try:
        for zp in zones:
            compact_zone(m, <zone *><uintptr_t>zp, t._t().cpu, t.id, &st)
    finally:
        machine_rcu_read_unlock(machine, t)
    machine.drain_pcp()
    for zp in zones:
        after = max(after, zone_largest_free_order(<zone *><uintptr_t>zp))
    return {"scanned": st.scanned, "isolated": st.isolated, "migrated": st.migrated,
            "skipped_by_type": st.skipped_by_type, "failed": st.failed,
            "largest_free_order_before": before, "largest_free_order_after": after}
