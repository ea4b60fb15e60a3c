# A digest of a machine's state, for tests that must show a failed call
# changed nothing (tests/fuzz_api.py).
#
# Provides: machine_state_digest().
# Uses: decl.pxi (mc_machine, the memmap, PageBuddy), boot.pxi (PAGE_SHIFT).
#
# Hashes the C state a step of the model can change: the memmap, the per-PFN
# marks, the bytes, object bits and KASAN shadow of every RAM page the buddy
# allocator does not hold (free blocks' contents are not state), the counters
# and the tasks, owners and wait table; then, in Python, what still lives
# beside it (RCU queues' sizes, kfree_rcu() set, the cache registry).  Not
# the last error (m.err*): a refused call records it by design.

cdef inline uint64_t _dg_mix(uint64_t h, uint64_t w) noexcept nogil:
    h ^= w
    h *= <uint64_t>0x100000001B3
    h ^= h >> 29
    return h


cdef uint64_t _dg_bytes(uint64_t h, const unsigned char *p, size_t n) noexcept nogil:
    # four independent xor-multiply lanes (a multiply by an odd constant is a
    # bijection, so any one changed word changes its lane), folded into h
    cdef size_t i = 0
    cdef uint64_t w0, w1, w2, w3
    cdef uint64_t a = h, b = h ^ <uint64_t>0x9E3779B97F4A7C15, c = h ^ <uint64_t>0xC2B2AE3D27D4EB4F
    cdef uint64_t d = h ^ <uint64_t>0x165667B19E3779F9
    cdef uint64_t P = <uint64_t>0x100000001B3
    while i + 32 <= n:
        memcpy(&w0, p + i, 8)
        memcpy(&w1, p + i + 8, 8)
        memcpy(&w2, p + i + 16, 8)
        memcpy(&w3, p + i + 24, 8)
        a = (a ^ w0) * P
        b = (b ^ w1) * P
        c = (c ^ w2) * P
        d = (d ^ w3) * P
        i += 32
    h = _dg_mix(_dg_mix(_dg_mix(_dg_mix(h, a), b), c), d)
    while i < n:
        h = _dg_mix(h, p[i])
        i += 1
    return h


cdef uint64_t machine_c_digest(const mc_machine *m) noexcept nogil:
    cdef uint64_t h = <uint64_t>0xcbf29ce484222325
    cdef uint64_t pfn, phys_pfns
    cdef page *p
    cdef size_t psz = (<size_t>1) << PAGE_SHIFT
    cdef int i, j
    h = _dg_bytes(h, <const unsigned char *>m.memmap, m.memmap_pfns * MC_SIZEOF_PAGE)
    h = _dg_bytes(h, m.pfn_marks, m.nr_pfns)
    phys_pfns = m.phys_bytes >> PAGE_SHIFT
    pfn = 0
    while pfn < m.nr_pfns:
        p = mc_pfn_to_page(m, pfn)
        if PageBuddy(m, p):                        # a free block: skip all of it
            pfn += (<uint64_t>1) << buddy_order(m, p)
            continue
        if m.pfn_marks[pfn] & MC_PFN_HOLE:      # no memory (the API cannot write there)
            pfn += 1
            continue
        if pfn < phys_pfns:
            h = _dg_bytes(h, m.phys + pfn * psz, psz)
        if pfn < m.lowmem_pfns:
            if m.obj_bitmap != NULL:
                h = _dg_bytes(h, m.obj_bitmap + pfn * (psz >> 6), psz >> 6)
            if m.kasan_shadow != NULL:
                h = _dg_bytes(h, m.kasan_shadow + pfn * (psz >> 3), psz >> 3)
        pfn += 1
    for i in range(m.nr_nodes):
        h = _dg_mix(h, m.memblock_top[i])
    h = _dg_mix(h, m.pgalloc)
    h = _dg_bytes(h, <const unsigned char *>m.pgalloc_zone, sizeof(m.pgalloc_zone))
    h = _dg_mix(h, m.pgfree)
    h = _dg_mix(h, m.rng)
    h = _dg_mix(h, m.rcu_slabs)
    h = _dg_mix(h, m.rcu_slabs_nr)
    h = _dg_mix(h, m.rcu_xa_nodes)
    h = _dg_mix(h, m.rcu_xa_nodes_nr)
    h = _dg_mix(h, m.xa_node_cache)
    h = _dg_mix(h, m.slab_pages)
    h = _dg_mix(h, m.large_kmalloc_pages)
    h = _dg_mix(h, m.percpu_base)
    h = _dg_mix(h, <uint64_t>m.nr_reservations)
    h = _dg_mix(h, <uint64_t>m.nr_tasks)
    for i in range(m.nr_tasks):
        h = _dg_mix(h, <uint64_t>m.tasks[i].cpu)
        h = _dg_mix(h, <uint64_t>m.tasks[i].rcu_nesting)
        h = _dg_mix(h, <uint64_t>m.tasks[i].wait_kind)
        h = _dg_mix(h, <uint64_t>m.tasks[i].wait_bit)
        h = _dg_mix(h, m.tasks[i].wait_key)
        h = _dg_mix(h, m.tasks[i].wait_gp)
    h = _dg_mix(h, <uint64_t>m.nr_owners)
    for i in range(m.nr_owners):
        h = _dg_mix(h, m.owners[i].key)
        h = _dg_mix(h, <uint64_t>m.owners[i].task)
    for i in range(256):                         # wait_table[256] (decl.pxi)
        h = _dg_mix(h, <uint64_t>m.wait_table[i].nr)
        for j in range(m.wait_table[i].nr):
            h = _dg_mix(h, m.wait_table[i].w[j].key)
            h = _dg_mix(h, <uint64_t>m.wait_table[i].w[j].task)
            h = _dg_mix(h, <uint64_t>m.wait_table[i].w[j].bit)
            h = _dg_mix(h, <uint64_t>m.wait_table[i].w[j].exclusive)
    return h


cdef machine_state_digest(Machine machine):
    cdef uint64_t h = machine_c_digest(machine.m)
    rcu = machine.rcu
    return hash((h, rcu.gp_seq, rcu.gp_in_progress, rcu.pending, rcu.callbacks_invoked,
                 rcu.slabs_waiting, tuple(t.id for t in rcu.holdouts),
                 tuple(sorted(machine._kfree_rcu_queued)),
                 tuple(sorted(machine._caches.items())), len(machine._ctors),
                 machine.current.id if machine.current is not None else None))
