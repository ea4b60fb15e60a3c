# The Machine's page-level API behind its one-line methods: allocating folios,
# zone and free-area reports, statistics, the invariant check, bulk loops.
#
# Provides: machine_alloc_folio, machine_zones, machine_free_area,
#   machine_stats, machine_flag_bit, machine_check_invariants, the bulk
#   entry points.
# Uses: folio.pxi, page_alloc.pxi, check.pxi, bulk.pxi, views.pxi
#   (_make_folio), slab_api.pxi (check_slabs, the caches).

cdef object machine_alloc_folio(Machine machine, order, kind, zone, movable, node, task):
    cdef unsigned int gfp
    cdef int o, nid, cpu
    cdef folio *f
    cdef Task t = machine._running(task)
    if not isinstance(order, int) or isinstance(order, bool):
        raise TypeError(f"order must be an int, not {type(order).__name__}")
    if not 0 <= order <= MAX_PAGE_ORDER:
        raise OrderOutOfRange(f"order {order} is outside 0..{MAX_PAGE_ORDER} (MAX_PAGE_ORDER)")
    if kind not in ("file", "anon"):
        raise UnknownChoice("folio kind", kind, ("file", "anon"))
    gfp = GFP_HIGHUSER_MOVABLE if movable else GFP_KERNEL
    if zone is not None:
        gfp = machine_gfp_for_zone(machine, zone, movable)
    nid = machine.m.cpu_node[t._t().cpu] if node is None else \
        _int_arg(node, "node", 0, machine.m.nr_nodes - 1)
    gfp |= __GFP_COMP
    o = order
    cpu = t._t().cpu
    f = folio_alloc(machine.m, gfp, o, nid, cpu, kind == "anon")
    if f == NULL:
        raise OutOfMemory(f"page allocation failure: order:{order}, "
                          f"mode:{gfp:#x}, nodemask=(null): no zone above its watermark")
    if kind == "anon":
        __set_bit(PG_swapbacked, folio_flags(f, 0))
    return _make_folio(machine, mc_folio_va(machine.m, f))


cdef object machine_pagetable_alloc(Machine machine, order, node, task):
    cdef Task t = machine._running(task)
    cdef int nid, cpu
    cdef page *p
    if not isinstance(order, int) or isinstance(order, bool):
        raise TypeError(f"order must be an int, not {type(order).__name__}")
    if not 0 <= order <= MAX_PAGE_ORDER:
        raise OrderOutOfRange(f"order {order} is outside 0..{MAX_PAGE_ORDER} (MAX_PAGE_ORDER)")
    cpu = t._t().cpu
    nid = machine.m.cpu_node[cpu] if node is None else \
        _int_arg(node, "node", 0, machine.m.nr_nodes - 1)
    p = pagetable_alloc(machine.m, GFP_KERNEL | __GFP_ZERO, order, nid, cpu)
    if p == NULL:
        raise OutOfMemory(f"page allocation failure: order:{order}, mode:GFP_PGTABLE_KERNEL: "
                          f"no zone above its watermark")
    return machine.page(mc_page_to_pfn(machine.m, p))


cdef object machine_pagetable_free(Machine machine, page_view, task):
    cdef Task t = machine._running(task)
    cdef int rc
    if not isinstance(page_view, Page) or (<Page>page_view).machine is not machine:
        raise TypeError(f"pagetable_free() takes a Page of this machine (from "
                        f"pagetable_alloc()), not {type(page_view).__name__}")
    rc = pagetable_free(machine.m, (<Page>page_view)._p(), t._t().cpu)
    if rc:
        machine._raise(rc)


cdef unsigned int machine_gfp_for_zone(Machine machine, zone, bint movable) except? 0:
    """GFP flags whose gfp_zone() is the named zone (the highest one allowed)."""
    valid = tuple(n for n in ZONE_NAMES if n != "Device")
    if zone not in valid:
        raise UnknownChoice("zone", zone, valid)
    mt = __GFP_MOVABLE if movable else 0
    base = GFP_USER if movable else GFP_KERNEL
    if zone == "DMA":
        return base | mt | __GFP_DMA
    if zone == "DMA32":
        return base | mt | __GFP_DMA32
    if zone == "Normal":
        return base | mt
    if not movable:
        if zone == "Movable":
            raise ValueError("ZONE_MOVABLE only holds movable allocations (movable=True)")
        return GFP_KERNEL | __GFP_HIGHMEM
    # HIGHMEM|MOVABLE means ZONE_MOVABLE, which falls back to HighMem when empty
    return GFP_HIGHUSER_MOVABLE


cdef object machine_zones(Machine machine, bint empty):
    cdef int nid, zi, cpu
    cdef zone *z
    cdef per_cpu_pages *pcp
    out = []
    for nid in range(machine.m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &machine.m.pgdat[nid].node_zones[zi]
            if z.spanned_pages == 0 and not empty:
                continue
            pcps = []
            for cpu in range(machine.m.nr_cpus if z.spanned_pages else 0):
                pcp = zone_pcp(machine.m, z, cpu)
                pcps.append({"cpu": cpu, "count": pcp.count, "high": pcp.high,
                             "high_min": pcp.high_min, "high_max": pcp.high_max,
                             "batch": pcp.batch, "expire": pcp.expire})
            out.append({
                "node": nid, "zone": ZONE_NAMES[zi], "start_pfn": z.zone_start_pfn,
                "spanned": z.spanned_pages, "present": z.present_pages,
                "managed": z.managed_pages, "free": z.vm_stat[NR_FREE_PAGES],
                "nr_free_pages_blocks": z.vm_stat[NR_FREE_PAGES_BLOCKS],
                "nr_reserved_highatomic": z.nr_reserved_highatomic,
                "nr_free_highatomic": z.nr_free_highatomic,
                "min": z._watermark[WMARK_MIN], "low": z._watermark[WMARK_LOW],
                "high": z._watermark[WMARK_HIGH], "promo": z._watermark[WMARK_PROMO],
                "protection": [z.lowmem_reserve[i] for i in range(MAX_NR_ZONES_C)],
                # modeled address of the pageblock bitmap: one byte per pageblock
                "pageblock_flags": Address(z.pageblock_flags),
                "pagesets": pcps,
            })
    return out


cdef object machine_tick(Machine machine, n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, not {type(n).__name__}")
    if not 0 <= n <= 1 << 32:
        raise ValueError(f"n must be 0..{1 << 32} ticks, not {n}")
    vmstat_tick(machine.m, <uint64_t>n)


cdef object machine_free_area(Machine machine, int nid, zone_name):
    """The caller checked nid (0..nr_nodes - 1)."""
    cdef int zi, o, mt
    cdef zone *z
    cdef list_head *h
    cdef mc_ulong v
    zi = machine_zone_index(machine, zone_name)
    z = &machine.m.pgdat[nid].node_zones[zi]
    if z.spanned_pages == 0:
        # the zones /proc/pagetypeinfo lists for this node: a missing one has no free area
        raise UnknownChoice(f"zone of node {nid}", ZONE_NAMES[zi],
                            [ZONE_NAMES[i] for i in range(MAX_NR_ZONES_C)
                             if machine.m.pgdat[nid].node_zones[i].spanned_pages])
    out = {}
    for mt in range(MIGRATE_TYPES):
        counts = []
        for o in range(NR_PAGE_ORDERS):
            n = 0
            h = free_list_head(z, o, mt)
            v = h.next
            while v != mc_virt(machine.m, h):
                n += 1
                v = free_list_next(machine.m, v)
            counts.append(n)
        out[MIGRATETYPE_NAMES[mt]] = counts
    return out


cdef int machine_zone_index(Machine machine, zone_name) except -1:
    if zone_name is None:
        return ZONE_NORMAL
    if zone_name not in ZONE_NAMES:
        raise UnknownChoice("zone", zone_name, ZONE_NAMES)
    return ZONE_NAMES.index(zone_name)


cdef object machine_stats(Machine machine):
    import numpy as np
    cdef int nid, zi
    cdef zone *z
    cdef slab *sl
    cdef uint64_t pfn
    cdef mc_machine *m = machine.m
    counts = np.zeros(NR_WALK_KINDS, dtype=np.uint64)
    cdef uint64_t[::1] cv = counts
    walk_pfns(m, &cv[0])
    states = {WALK_KIND_NAMES[i]: int(counts[i]) for i in range(NR_WALK_KINDS)}
    zones = []
    for nid in range(m.nr_nodes):
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[nid].node_zones[zi]
            if z.spanned_pages == 0:
                continue
            zones.append({
                "node": nid, "zone": ZONE_NAMES[zi],
                "managed": z.managed_pages, "free": z.vm_stat[NR_FREE_PAGES],
                "pcp": z.vm_stat[NR_ZONE_PCP_PAGES],
                "nr_free": [z.free_area[o].nr_free for o in range(NR_PAGE_ORDERS)],
                "free_area": machine.free_area(nid, ZONE_NAMES[zi]),
            })
    meta = {RESERVE_KIND_NAMES[i]: m.reserved_bytes[i] for i in range(MC_NR_RESERVE_KINDS)}
    slab_pages = {}
    for sva in _slab_vas(machine):
        sl = mc_va_to_slab(m, sva)
        slab_pages[sl.slab_cache] = slab_pages.get(sl.slab_cache, 0) + (1 << slab_order(sl))
    caches = {}
    for c in machine.caches():
        pages = slab_pages.get((<KmemCache>c).addr, 0)
        caches[c.name] = {"slabs": c.slabs, "pages": pages, "bytes": pages * PAGE_SIZE,
                          "total_objects": c.total_objects, "objects": c.objects,
                          "objects_inuse": c.objects_inuse,
                          "object_bytes": c.objects_inuse * c.object_size}
    meta["memmap_host"] = m.memmap_bytes
    desc = _descriptor_bytes(machine, caches)
    return {
        "ram": machine.ram, "nr_pfns": m.nr_pfns, "page_size": PAGE_SIZE,
        "sizeof_page": MC_SIZEOF_PAGE, "sizeof_folio": MC_SIZEOF_FOLIO,
        "pages": states, "zones": zones,
        "metadata_bytes": meta,
        "reserved_pages": reserved_pages(m),
        "slab_pages": m.slab_pages, "large_kmalloc_pages": m.large_kmalloc_pages,
        "slab_caches": caches,
        "memmap_bytes": m.reserved_bytes[MC_RES_MEMMAP],
        "descriptor_bytes": desc,
        "metadata_total_bytes": m.reserved_bytes[MC_RES_MEMMAP] + sum(desc.values()),
        "pgalloc": m.pgalloc, "pgfree": m.pgfree, "vmstat_ticks": m.vmstat_ticks,
        # PGALLOC events by zone index, all nodes together (vmstat's pgalloc_<zone>)
        "pgalloc_by_zone": {ZONE_NAMES[i]: m.pgalloc_zone[i] for i in range(MAX_NR_ZONES_C)},
        "kmap_local": m.kmap_local,
        "min_free_kbytes": m.min_free_kbytes,
    }


cdef dict _descriptor_bytes(Machine machine, dict caches):
    """Bytes of slab pages held by each descriptor cache (the memdesc designs'
    folio, slab and ptdesc caches); empty where descriptors overlay the memmap."""
    return {name: caches[name]["bytes"] for name in machine._descriptor_cache_names()
            if name in caches}


cdef int machine_flag_bit(Machine machine, name) except -1:
    """A page flag by name: "dirty", "PG_dirty", or a PG enum member."""
    if isinstance(name, int) and not isinstance(name, bool):
        if 0 <= name < NR_PAGEFLAGS:
            return name
        raise UnknownChoice("page flag bit", name, range(NR_PAGEFLAGS))
    if not isinstance(name, str):
        raise TypeError(f"a page flag is a name or a bit number, not {type(name).__name__}")
    key = name if name.startswith("PG_") else "PG_" + name
    try:
        return machine.PG[key]
    except KeyError:
        raise UnknownChoice("page flag", name,
                            [n[3:] for n in machine.PG.__members__]) from None


cdef object machine_check_invariants(Machine machine):
    import numpy as np
    cdef mc_machine *m = machine.m
    cdef int rc
    claims = np.zeros(m.nr_pfns, dtype=np.uint8)
    cdef unsigned char[::1] cv = claims
    rc = machine_check(m, &cv[0])
    if rc:
        machine._raise(rc)
    check_slabs(machine)
    check_page_cache(machine)
    rc = check_waiters(m)
    if rc:
        machine._raise(rc)
    return True


cdef object machine_walk_folios(Machine machine, start, end, task):
    import numpy as np
    cdef Task t = machine._running(task)
    cdef mc_machine *m = machine.m
    cdef uint64_t lo = _int_arg(start, "start", 0, m.nr_pfns)
    cdef uint64_t hi = m.nr_pfns if end is None else _int_arg(end, "end", 0, m.nr_pfns)
    cdef uint64_t n = 0, retries = 0
    if hi < lo:
        raise ValueError(f"walk_folios({start}, {end}): end is below start")
    pfns = np.zeros(max(hi - lo, 1), dtype=np.uint64)
    orders = np.zeros(max(hi - lo, 1), dtype=np.uint8)
    cdef uint64_t[::1] pv = pfns
    cdef unsigned char[::1] ov = orders
    machine_rcu_read_lock(machine, t)
    try:
        if hi > lo:
            n = walk_folios(m, lo, hi, &pv[0], &ov[0], &retries, t._t().cpu)
    finally:
        machine_rcu_read_unlock(machine, t)
    pfns, orders = pfns[:n].copy(), orders[:n].copy()
    return {"folios": int(n), "pages": int((np.uint64(1) << orders.astype(np.uint64)).sum()),
            "retries": int(retries), "pfns": pfns, "orders": orders}


cdef object machine_walk(Machine machine):
    import numpy as np
    counts = np.zeros(NR_WALK_KINDS, dtype=np.uint64)
    cdef uint64_t[::1] cv = counts
    walk_pfns(machine.m, &cv[0])
    return {WALK_KIND_NAMES[i]: int(counts[i]) for i in range(NR_WALK_KINDS)}


_BULK_MAX = (1 << 63) - 1      # loop counts are uint64_t


cdef tuple machine_bulk_args(Machine machine, order, movable, task):
    cdef Task t = machine._running(task)
    if isinstance(order, bool) or not isinstance(order, int):
        raise TypeError(f"order must be an int, not {type(order).__name__}")
    if not 0 <= order <= MAX_PAGE_ORDER:
        raise OrderOutOfRange(f"order {order!r} is outside 0..{MAX_PAGE_ORDER}")
    gfp = (GFP_HIGHUSER_MOVABLE if movable else GFP_KERNEL) | __GFP_COMP
    return t, gfp, machine.m.cpu_node[t._t().cpu]


cdef object machine_bulk_alloc_free(Machine machine, n, order, movable, task):
    n = _int_arg(n, "n", 0, _BULK_MAX)
    t, gfp, nid = machine_bulk_args(machine, order, movable, task)
    cdef uint64_t cn = n
    cdef int co = order, cpu = (<Task>t)._t().cpu, cnid = nid, rc
    cdef unsigned int cgfp = gfp
    rc = bulk_alloc_free_pairs(machine.m, cn, co, cgfp, cnid, cpu)
    if rc == MC_ENOMEM:
        raise OutOfMemory(f"page allocation failure: order:{order}")
    if rc < 0:
        machine._raise(rc)


cdef object machine_bulk_kmem_cache_alloc_free(Machine machine, cache, n, task):
    cdef kmem_cache *s = machine._cache(cache)
    cdef Task t = machine._running(task)
    cdef uint64_t cn = _int_arg(n, "n", 0, _BULK_MAX)
    cdef int rc, cpu = t._t().cpu
    if s.ctor:
        raise ValueError("bulk operations cannot run a Python constructor (the cache has one)")
    rc = bulk_cache_alloc_free(machine.m, s, cn, cpu)
    if rc:
        machine._raise(rc)


cdef object machine_bulk_alloc(Machine machine, n, order, movable, task):
    import numpy as np
    n = _int_arg(n, "n", 0, machine.m.nr_pfns)      # no more folios than pages
    t, gfp, nid = machine_bulk_args(machine, order, movable, task)
    pfns = np.zeros(n, dtype=np.uint64)
    cdef uint64_t[::1] pv = pfns
    cdef uint64_t done = 0, cn = n
    cdef int co = order, cpu = (<Task>t)._t().cpu, cnid = nid, rc
    cdef unsigned int cgfp = gfp
    rc = bulk_alloc(machine.m, cn, co, cgfp, cnid, cpu, &pv[0] if cn else NULL, &done)
    if rc:
        machine.bulk_put(pfns[:done], task=t)
        raise OutOfMemory(f"page allocation failure: order:{order} after {done} of {n}")
    return pfns


cdef int bulk_put_check(mc_machine *m, const uint64_t *pfns, const int64_t *counts,
                        uint64_t n) noexcept nogil:
    """Would folio_put() of each of pfns[i], counts[i] times (distinct PFNs inside
    the memory map), all succeed?  0, or the error the batch would stop at, with
    nothing changed: bulk_put() changes nothing when it fails."""
    cdef uint64_t i
    cdef page *p
    cdef folio *f
    cdef int ref, rc
    for i in range(n):
        p = mc_pfn_to_page(m, pfns[i])
        if PageTail(m, p) or PageBuddy(m, p):
            return set_err(m, MC_ETAIL, pfns[i], b"folio_put() of a page that is no folio head")
        if mc_pfn_mark_test(m, pfns[i], MC_PFN_RESERVED | MC_PFN_HOLE) or PageReserved(m, p) or \
                page_has_type(m, p):
            return set_err(m, MC_EINVAL, pfns[i],
                           b"folio_put() of a page that is no folio (reserved, a hole or typed)")
        f = page_folio(m, p)
        if f == NULL:
            return set_err(m, MC_EINVAL, pfns[i],
                           b"folio_put() of a page that is no folio (page_folio() is NULL)")
        ref = folio_ref_count(f)
        if ref <= 0 or ref < counts[i]:
            return set_err(m, MC_EREFZERO, pfns[i],
                           b"folio_put() more often than the folio has references "
                           b"(put_page_testzero underflow)")
        if ref == counts[i]:                    # the last put frees it
            rc = free_pages_check(m, p, folio_order(f), ref, True)
            if rc:
                return rc
    return 0


cdef object machine_bulk_put(Machine machine, pfns, task):
    import numpy as np
    cdef Task t = machine._running(task)
    arr = np.asarray(pfns)
    if arr.ndim != 1:
        raise ValueError(f"pfns must be a one-dimensional sequence of PFNs, not {arr.ndim}-D")
    if arr.size == 0:
        return
    if arr.dtype.kind not in "iu":
        raise TypeError(f"pfns must be integers, not {arr.dtype}")
    if arr.dtype.kind == "i" and (arr < 0).any():
        raise PFNOutOfRange(f"pfn {int(arr[arr < 0][0])} is outside the memory map "
                            f"(0..{machine.m.nr_pfns - 1:#x})")
    arr = np.ascontiguousarray(arr, dtype=np.uint64)
    if (arr >= machine.m.nr_pfns).any():
        raise PFNOutOfRange(f"pfn {int(arr[arr >= machine.m.nr_pfns][0]):#x} is outside the "
                            f"memory map (0..{machine.m.nr_pfns - 1:#x})")
    uniq, counts = np.unique(arr, return_counts=True)
    uniq = np.ascontiguousarray(uniq, dtype=np.uint64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    cdef uint64_t[::1] uv = uniq
    cdef int64_t[::1] cv = counts
    cdef uint64_t[::1] pv = arr
    cdef uint64_t done = 0, n = arr.shape[0]
    cdef int rc, cpu = t._t().cpu
    rc = bulk_put_check(machine.m, &uv[0], &cv[0], uv.shape[0])
    if rc < 0:
        machine._raise(rc)
    rc = bulk_put(machine.m, &pv[0], n, cpu, &done)
    if rc < 0:
        machine._raise(rc)


cdef object machine_pageblock_bits(Machine machine, uint64_t pfn, value):
    cdef mc_machine *m = machine.m
    cdef page *p = mc_pfn_to_page(m, pfn)
    cdef unsigned char *b
    if page_links_bad(m, p):
        machine._raise(MC_EINVAL)
    b = pageblock_byte(m, page_zone(m, p), pfn)
    if value is not None:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xff:
            raise ValueError(f"pageblock bits are one byte, not {value!r}")
        b[0] = value
    return b[0]
