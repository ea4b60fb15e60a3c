# Per-CPU page lists (mm/page_alloc.c, Linux 6.18).
#
# Orders 0..PAGE_ALLOC_COSTLY_ORDER and the PMD order are cached per CPU
# and zone, one list per (order, migratetype); pages are linked through
# pcp_list (the same words as buddy_list).  Refill takes `batch` blocks
# (scaled by alloc_factor) from the buddy lists; a free flushes when the
# count reaches the (self-tuning) high mark.  The formulas are the kernel's.
#
# Provides: zone_pcp, rmqueue_pcplist, free_frozen_page_commit,
#   free_pcppages_bulk, drain_all_pages, the pcp batch/high arithmetic.
# Uses: buddy.pxi, decl.pxi.

cdef inline per_cpu_pages *zone_pcp(const mc_machine *m, const zone *z, int cpu) noexcept nogil:
    return <per_cpu_pages *>mc_host(m, z.per_cpu_pageset + <mc_ulong>cpu * sizeof(per_cpu_pages))


cdef inline bint pcp_allowed_order(int order) noexcept nogil:
    if order <= PAGE_ALLOC_COSTLY_ORDER:
        return True
    return NR_PCP_THP > 0 and order == HPAGE_PMD_ORDER


cdef inline int order_to_pindex(int mt, int order) noexcept nogil:
    if order > PAGE_ALLOC_COSTLY_ORDER:
        return NR_LOWORDER_PCP_LISTS + (1 if mt == MIGRATE_MOVABLE else 0)
    return MIGRATE_PCPTYPES * order + mt


cdef inline int pindex_to_order(int pindex) noexcept nogil:
    if pindex >= NR_LOWORDER_PCP_LISTS:
        return HPAGE_PMD_ORDER
    return pindex // MIGRATE_PCPTYPES


cdef inline int clamp_int(long v, long lo, long hi) noexcept nogil:
    # the kernel's clamp_t(int, v, lo, hi) = min(max(v, lo), hi)
    if v < lo:
        v = lo
    if v > hi:
        v = hi
    return <int>v


cdef inline long rounddown_pow_of_two(long n) noexcept nogil:
    cdef long r = 1
    while r * 2 <= n:
        r *= 2
    return r


cdef int zone_batchsize(const zone *z) noexcept nogil:
    """~0.1% of the zone or 256 KiB, whichever is smaller, as 2^n - 1."""
    cdef long batch = <long>(z.managed_pages >> 12)
    cdef long cap = (256 * 1024) >> PAGE_SHIFT
    if batch > cap:
        batch = cap
    if batch <= 1:
        return 1
    return <int>(rounddown_pow_of_two(batch + batch // 2) - 1)


cdef int zone_highsize(const mc_machine *m, const zone *z, int batch, int cpu_online,
                       int high_fraction) noexcept nogil:
    cdef long total, high
    cdef int nr_split_cpus = 0, cpu
    if high_fraction == 0:
        total = <long>(z._watermark[WMARK_LOW] + z.watermark_boost)
    else:
        total = <long>(z.managed_pages // high_fraction)
    for cpu in range(m.nr_cpus):
        if m.cpu_node[cpu] == z.node:
            nr_split_cpus += 1
    nr_split_cpus += cpu_online
    if nr_split_cpus == 0:
        nr_split_cpus = m.nr_cpus
    high = total // nr_split_cpus
    if high < (batch << 2):
        high = batch << 2
    return <int>high


cdef void zone_set_pageset_high_and_batch(mc_machine *m, zone *z, int cpu_online) noexcept nogil:
    cdef int new_high_min, new_high_max, new_batch, cpu
    cdef per_cpu_pages *pcp
    new_batch = zone_batchsize(z)
    if m.percpu_pagelist_high_fraction:
        new_high_min = zone_highsize(m, z, new_batch, cpu_online, m.percpu_pagelist_high_fraction)
        new_high_max = new_high_min
    else:
        new_high_min = zone_highsize(m, z, new_batch, cpu_online, 0)
        new_high_max = zone_highsize(m, z, new_batch, cpu_online,
                                     MIN_PERCPU_PAGELIST_HIGH_FRACTION)
    z.pageset_high_min = new_high_min
    z.pageset_high_max = new_high_max
    z.pageset_batch = new_batch
    for cpu in range(m.nr_cpus):
        pcp = zone_pcp(m, z, cpu)
        pcp.batch = new_batch
        pcp.high_min = new_high_min
        pcp.high_max = new_high_max


cdef void per_cpu_pages_init(const mc_machine *m, per_cpu_pages *pcp) noexcept nogil:
    """The boot pageset: high 0, batch 1 (pcp effectively off until tuned)."""
    cdef int i
    cdef list_head *h
    memset(pcp, 0, sizeof(per_cpu_pages))
    for i in range(NR_PCP_LISTS):
        h = &pcp.lists[i]
        INIT_LIST_HEAD(h, mc_virt(m, h))
    pcp.batch = 1


cdef int nr_pcp_alloc(per_cpu_pages *pcp, zone *z, int order) noexcept nogil:
    """How many blocks one refill asks the buddy allocator for."""
    cdef int base_batch = pcp.batch, batch, high, max_nr_alloc
    high = clamp_int(pcp.high, pcp.high_min, pcp.high_max)
    pcp.high = high
    if high < base_batch:
        return 1
    batch = base_batch if order else (base_batch << pcp.alloc_factor)
    if pcp.high_min != pcp.high_max and not test_bit(ZONE_BELOW_HIGH, &z.flags):
        high = high + batch
        if high > pcp.high_max:
            high = pcp.high_max
        pcp.high = high
    if order == 0:
        max_nr_alloc = high - pcp.count - base_batch
        if max_nr_alloc < base_batch:
            max_nr_alloc = base_batch
        if batch <= max_nr_alloc and pcp.alloc_factor < CONFIG_PCP_BATCH_SCALE_MAX:
            pcp.alloc_factor += 1
        if batch > max_nr_alloc:
            batch = max_nr_alloc
    if batch > 1:
        batch = batch >> order
        if batch < 2:
            batch = 2
    return batch


cdef page *rmqueue_pcplist(const mc_machine *m, zone *z, int cpu, int order, int mt,
                           int alloc_flags) noexcept nogil:
    cdef per_cpu_pages *pcp = zone_pcp(m, z, cpu)
    cdef list_head *lst
    cdef mc_ulong lst_va
    cdef int batch, alloced
    cdef page *p
    pcp.free_count >>= 1
    lst = &pcp.lists[order_to_pindex(mt, order)]
    lst_va = mc_virt(m, lst)
    if list_empty(lst, lst_va):
        batch = nr_pcp_alloc(pcp, z, order)
        alloced = rmqueue_bulk(m, z, order, batch, lst, lst_va, mt, alloc_flags)
        pcp.count += alloced << order
        z.vm_stat[NR_ZONE_PCP_PAGES] += alloced << order
        if list_empty(lst, lst_va):
            return NULL
    p = mc_buddy_link_page(m, lst.next)
    free_list_del(m, p)
    pcp.count -= 1 << order
    z.vm_stat[NR_ZONE_PCP_PAGES] -= 1 << order
    return p


cdef int nr_pcp_high(per_cpu_pages *pcp, zone *z, int batch, bint free_high) noexcept nogil:
    """The effective high mark for this free, tuning pcp->high on the way."""
    cdef int high, high_min = pcp.high_min, high_max = pcp.high_max, need_high, fc
    high = clamp_int(pcp.high, high_min, high_max)
    pcp.high = high
    if high == 0:
        return 0
    if free_high:
        pcp.high = high - (batch << CONFIG_PCP_BATCH_SCALE_MAX)
        if pcp.high < high_min:
            pcp.high = high_min
        return 0
    if test_bit(ZONE_RECLAIM_ACTIVE, &z.flags):
        fc = pcp.free_count if pcp.free_count > batch else batch
        pcp.high = high - fc if high - fc > high_min else high_min
        return (batch << 2) if (batch << 2) < pcp.high else pcp.high
    if high_min == high_max:
        return high
    if test_bit(ZONE_BELOW_HIGH, &z.flags):
        fc = pcp.free_count if pcp.free_count > batch else batch
        pcp.high = high - fc if high - fc > high_min else high_min
        high = pcp.count if pcp.count > high_min else high_min
    elif pcp.count >= high:
        need_high = pcp.free_count + batch
        if pcp.high < need_high:
            pcp.high = clamp_int(need_high, high_min, high_max)
    return high


cdef int nr_pcp_free(per_cpu_pages *pcp, int batch, int high, bint free_high) noexcept nogil:
    """How many pages one flush returns to the buddy allocator."""
    cdef int n
    if free_high:
        n = batch << CONFIG_PCP_BATCH_SCALE_MAX
        return pcp.count if pcp.count < n else n
    if high < batch:
        return 1
    return clamp_int(pcp.free_count, batch, high - batch)


cdef void free_pcppages_bulk(mc_machine *m, zone *z, int count, per_cpu_pages *pcp,
                             int pindex) noexcept nogil:
    """Return pages to the buddy lists, round robin over the lists, coldest first."""
    cdef list_head *lst
    cdef mc_ulong lst_va
    cdef page *p
    cdef int order, nr, mt
    cdef uint64_t pfn
    if count > pcp.count:
        count = pcp.count
    pindex -= 1
    while count > 0:
        while True:
            pindex += 1
            if pindex > NR_PCP_LISTS - 1:
                pindex = 0
            lst = &pcp.lists[pindex]
            lst_va = mc_virt(m, lst)
            if not list_empty(lst, lst_va):
                break
        order = pindex_to_order(pindex)
        nr = 1 << order
        while True:
            p = mc_buddy_link_page(m, lst.prev)
            pfn = mc_page_to_pfn(m, p)
            mt = get_pfnblock_migratetype(m, p, pfn)
            free_list_del(m, p)
            count -= nr
            pcp.count -= nr
            z.vm_stat[NR_ZONE_PCP_PAGES] -= nr
            __free_one_page(m, p, pfn, z, order, mt, FPI_NONE)
            if count <= 0 or list_empty(lst, lst_va):
                break


cdef void free_frozen_page_commit(mc_machine *m, zone *z, per_cpu_pages *pcp, page *p, int mt,
                                  int order) noexcept nogil:
    cdef int pindex, batch, high
    cdef bint free_high = False
    pcp.alloc_factor >>= 1
    m.pgfree += <uint64_t>1 << order                     # __count_vm_events(PGFREE)
    pindex = order_to_pindex(mt, order)
    free_list_add(m, p, &pcp.lists[pindex], mc_virt(m, &pcp.lists[pindex]))
    pcp.count += 1 << order
    z.vm_stat[NR_ZONE_PCP_PAGES] += 1 << order
    batch = pcp.batch
    if order and order <= PAGE_ALLOC_COSTLY_ORDER:
        free_high = (pcp.free_count >= batch + pcp.high_min // 2 and
                     (pcp.flags & PCPF_PREV_FREE_HIGH_ORDER) != 0 and
                     (not (pcp.flags & PCPF_FREE_HIGH_BATCH) or pcp.count >= batch))
        pcp.flags |= PCPF_PREV_FREE_HIGH_ORDER
    elif pcp.flags & PCPF_PREV_FREE_HIGH_ORDER:
        pcp.flags &= ~PCPF_PREV_FREE_HIGH_ORDER
    if pcp.free_count < (batch << CONFIG_PCP_BATCH_SCALE_MAX):
        pcp.free_count += 1 << order
    high = nr_pcp_high(pcp, z, batch, free_high)
    if pcp.count >= high:
        free_pcppages_bulk(m, z, nr_pcp_free(pcp, batch, high, free_high), pcp, pindex)
        if test_bit(ZONE_BELOW_HIGH, &z.flags) and zone_watermark_ok(
                z, 0, z._watermark[WMARK_HIGH] + z.watermark_boost, ZONE_MOVABLE, 0):
            clear_bit(ZONE_BELOW_HIGH, &z.flags)


cdef void drain_pages_zone(mc_machine *m, zone *z, int cpu) noexcept nogil:
    cdef per_cpu_pages *pcp = zone_pcp(m, z, cpu)
    cdef int n
    while pcp.count:
        n = pcp.batch << CONFIG_PCP_BATCH_SCALE_MAX
        free_pcppages_bulk(m, z, pcp.count if pcp.count < n else n, pcp, 0)


cdef void drain_all_pages(mc_machine *m) noexcept nogil:
    """drain_all_pages(NULL): every CPU's lists in every populated zone."""
    cdef int nid, zi, cpu
    cdef zone *z
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[zi]
            if z.managed_pages == 0:
                continue
            for cpu in range(m.nr_cpus):
                drain_pages_zone(m, z, cpu)


# ---- the vmstat tick: pcp->high decay and remote drain (mm/vmstat.c) ----------------

cdef inline int max3_int(long a, long b, long c) noexcept nogil:
    if b > a:
        a = b
    if c > a:
        a = c
    return <int>a


cdef int decay_pcp_high(mc_machine *m, zone *z, per_cpu_pages *pcp) noexcept nogil:
    """decay_pcp_high(): lower pcp->high by an eighth toward high_min (but never
    below count - batch << PCP_BATCH_SCALE_MAX) and free what is above it.
    Returns how much work there is still to do (the kernel's todo)."""
    cdef int high_min = pcp.high_min, batch = pcp.batch, to_drain, todo = 0
    if pcp.high > high_min:
        pcp.high = max3_int(pcp.count - (batch << CONFIG_PCP_BATCH_SCALE_MAX),
                            pcp.high - (pcp.high >> 3), high_min)
        if pcp.high > high_min:
            todo += 1
    to_drain = pcp.count - pcp.high
    if to_drain > 0:
        free_pcppages_bulk(m, z, to_drain, pcp, 0)
        todo += 1
    return todo


cdef void drain_zone_pages(mc_machine *m, zone *z, per_cpu_pages *pcp) noexcept nogil:
    """drain_zone_pages(): one batch of an expired remote pageset."""
    cdef int to_drain = pcp.count if pcp.count < pcp.batch else pcp.batch
    if to_drain > 0:
        free_pcppages_bulk(m, z, to_drain, pcp, 0)


cdef int refresh_cpu_vm_stats(mc_machine *m, int cpu) noexcept nogil:
    """refresh_cpu_vm_stats(true) on `cpu`: fold its counter diffs (arming the
    remote-drain countdown of each zone it changed), decay every pageset's high
    and drain the expired remote ones.  Returns the kernel's `changes`."""
    cdef int nid, zi, changes = 0
    cdef long before
    cdef bint folded
    cdef zone *z
    cdef per_cpu_pages *pcp
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):              # for_each_populated_zone()
            z = &m.pgdat[nid].node_zones[zi]
            if z.present_pages == 0 or z.per_cpu_pageset == 0:
                continue
            pcp = zone_pcp(m, z, cpu)
            folded = pcp.mc_free_diff != 0
            pcp.mc_free_diff = 0                        # this_cpu_xchg(vm_stat_diff, 0)
            if folded:
                changes += 1                            # fold_diff(): a global counter moved
                if mc_has_numa():
                    pcp.expire = 3                      # 3 seconds idle till flush
            before = z.vm_stat[NR_FREE_PAGES]
            changes += decay_pcp_high(m, z, pcp)
            if mc_has_numa():
                if pcp.expire == 0 or pcp.count == 0:
                    pass
                elif z.node == m.cpu_node[cpu]:
                    pcp.expire = 0                      # never drain local zones
                else:
                    pcp.expire -= 1
                    if pcp.expire:
                        changes += 1
                    elif pcp.count:
                        drain_zone_pages(m, z, pcp)
                        changes += 1
            # the frees above are this CPU's counter changes, seen at its next tick
            pcp.mc_free_diff += <int>(z.vm_stat[NR_FREE_PAGES] - before)
    return changes


cdef bint vmstat_need_update(const mc_machine *m, int cpu) noexcept nogil:
    """need_update(): does the CPU have counter diffs to fold?"""
    cdef int nid, zi
    cdef const zone *z
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[zi]
            if z.present_pages == 0 or z.per_cpu_pageset == 0:
                continue
            if zone_pcp(m, z, cpu).mc_free_diff != 0:
                return True
    return False


cdef void vmstat_tick(mc_machine *m, uint64_t n) noexcept nogil:
    """n ticks of sysctl_stat_interval (1 s): on each CPU in turn, the shepherd
    queues vmstat_update when the CPU has diffs, and a queued vmstat_update runs
    refresh_cpu_vm_stats(true), requeueing itself while that reports changes."""
    cdef uint64_t t
    cdef int cpu
    cdef bint busy
    for t in range(n):
        busy = False
        for cpu in range(m.nr_cpus):
            if not m.vmstat_work_queued[cpu] and vmstat_need_update(m, cpu):
                m.vmstat_work_queued[cpu] = 1           # vmstat_shepherd()
            if m.vmstat_work_queued[cpu]:
                m.vmstat_work_queued[cpu] = refresh_cpu_vm_stats(m, cpu) != 0
            busy = busy or m.vmstat_work_queued[cpu] or vmstat_need_update(m, cpu)
        m.vmstat_ticks += 1
        if not busy:
            # no work queued and no diffs: the remaining ticks change nothing
            m.vmstat_ticks += n - t - 1
            return
