# Bulk nogil entry points: the loops that benchmarks and profiles run, with
# no Python between iterations, and the baselines they are measured against.
#
# Provides: walk_pfns, walk_plain, bulk_alloc_free_pairs, bulk_alloc,
#   bulk_put, bulk_cache_alloc_free, the free-list baseline.
# Uses: folio.pxi, slub.pxi.

import numpy as _np
cimport numpy as cnp

cnp.import_array()

# walk_pfns() kinds: what a linear scan of the memmap can tell about a page
cdef enum:
    WALK_FREE_BUDDY      # in a free block on the buddy lists
    WALK_REFCOUNT_ZERO   # refcount 0 outside the buddy lists: pcp lists or frozen
    WALK_RESERVED        # PG_reserved (memblock: firmware, memmap, node data)
    WALK_FOLIO           # a page of an allocated folio (head and tails)
    WALK_SLAB            # PGTY_slab
    WALK_PGTABLE         # PGTY_table
    WALK_LARGE_KMALLOC   # PGTY_large_kmalloc
    WALK_OTHER_TYPE      # any other page type
    WALK_HOLE            # not RAM: a hole between RAM ranges
    NR_WALK_KINDS

WALK_KIND_NAMES = ("free_buddy", "refcount_zero", "reserved", "folio", "slab", "pgtable",
                   "large_kmalloc", "other_type", "hole")


cdef folio *walker_folio_get(mc_machine *m, uint64_t pfn, uint64_t *retries,
                             int cpu) noexcept nogil:
    """The folio of a PFN with a reference, or NULL (no folio, or one being
    freed or frozen): the lock-free walker's protocol (claim S6, and 6.18's
    PFN walkers, e.g. page_idle_get_folio()): find the folio the page points
    at (the design's mc_walker_folio(): compound head or memdesc), try_get its
    refcount, re-check that the page still points at it; if not, put and
    retry.  The caller is inside rcu_read_lock() (descriptors are
    TYPESAFE_BY_RCU)."""
    cdef page *p
    cdef folio *f
    while True:
        if m.pfn_marks[pfn] & MC_PFN_HOLE:
            return NULL
        p = mc_pfn_to_page(m, pfn)
        f = mc_walker_folio(m, p)
        if f == NULL or not folio_try_get(f):
            return NULL
        if mc_walker_folio(m, p) == f:
            return f
        folio_put(m, f, cpu)
        retries[0] += 1


cdef uint64_t walk_folios(mc_machine *m, uint64_t start, uint64_t end, uint64_t *pfns,
                          unsigned char *orders, uint64_t *retries, int cpu) noexcept nogil:
    """Every folio with its first PFN in [start, end), in PFN order, each
    taken with walker_folio_get() and put again; returns how many (their
    first PFNs and orders in pfns/orders)."""
    cdef uint64_t pfn = start, n = 0, first
    cdef folio *f
    while pfn < end:
        f = walker_folio_get(m, pfn, retries, cpu)
        if f == NULL:
            pfn += 1
            continue
        first = folio_pfn(m, f)
        if first >= pfn:                   # a folio begun before start is not this walk's
            pfns[n] = first
            orders[n] = folio_order(f)
            n += 1
        pfn = first + folio_nr_pages(f)
        folio_put(m, f, cpu)
    return n


cdef void walk_pfns(const mc_machine *m, uint64_t *counts) noexcept nogil:
    """Classify every PFN of RAM in one pass over the memmap."""
    cdef uint64_t pfn = 0, n, nr = m.nr_pfns
    cdef page *p
    cdef folio *f
    cdef uint64_t i, lent
    cdef int top
    cdef int kind
    memset(counts, 0, NR_WALK_KINDS * sizeof(uint64_t))
    while pfn < nr:
        p = mc_pfn_to_page(m, pfn)
        n = 1
        if m.pfn_marks[pfn] & MC_PFN_HOLE:
            counts[WALK_HOLE] += 1
            pfn += 1
            continue
        if not page_has_type(m, p):
            # no type: the word is a mapcount
            if PageReserved(m, p):
                kind = WALK_RESERVED
            elif page_ref_count(m, p) == 0:
                kind = WALK_REFCOUNT_ZERO
            else:
                kind = WALK_FOLIO
            if PageHead(m, p):
                # a folio's own pages (a page a slab lent, S8, heads its slab's block)
                f = page_folio(m, p)
                n = <uint64_t>1 << (folio_order(f) if f != NULL else mc_head_order(m, p))
        else:
            top = mc_page_type(m, p)
            if top == PGTY_buddy:
                kind = WALK_FREE_BUDDY
                n = <uint64_t>1 << buddy_order(m, p)
            elif top == PGTY_slab:
                kind = WALK_SLAB
                if PageHead(m, p):
                    # pages the slab lent to the page cache (S8) are folio pages
                    n = <uint64_t>1 << mc_head_order(m, p)
                    if pfn + n > nr:
                        n = nr - pfn
                    lent = 0
                    for i in range(n):
                        lent += (m.pfn_marks[pfn + i] & MC_PFN_SLAB_FOLIO) != 0
                    counts[WALK_SLAB] += n - lent
                    counts[WALK_FOLIO] += lent
                    pfn += n
                    continue
            elif top == PGTY_table:
                kind = WALK_PGTABLE
            elif top == PGTY_large_kmalloc:
                kind = WALK_LARGE_KMALLOC
            else:
                kind = WALK_OTHER_TYPE
            if PageHead(m, p):
                n = <uint64_t>1 << mc_head_order(m, p)
        if pfn + n > nr:
            n = nr - pfn
        counts[kind] += n
        pfn += n


cdef uint64_t walk_plain(const mc_machine *m) noexcept nogil:
    """Baseline: a plain C loop over the same memmap, reading the first word of
    each struct page and the page type, with no decisions."""
    cdef uint64_t pfn, acc = 0
    cdef page *p
    for pfn in range(m.nr_pfns):
        p = mc_pfn_to_page(m, pfn)
        acc += (<const mc_ulong *>p)[0] & 1
        acc += mc_page_type_word(m, p) >> 31
    return acc


cdef int bulk_alloc_free_pairs(mc_machine *m, uint64_t n, int order, unsigned int gfp,
                               int nid, int cpu) noexcept nogil:
    """n times: allocate a folio, free it (the pcp fast path for small orders)."""
    cdef uint64_t i
    cdef folio *f
    cdef int rc
    for i in range(n):
        f = folio_alloc(m, gfp, order, nid, cpu)
        if f == NULL:
            return MC_ENOMEM
        rc = folio_put(m, f, cpu)
        if rc < 0:
            return rc
    return 0


cdef int bulk_alloc(mc_machine *m, uint64_t n, int order, unsigned int gfp, int nid, int cpu,
                    uint64_t *pfns, uint64_t *done) noexcept nogil:
    cdef uint64_t i
    cdef folio *f
    for i in range(n):
        f = folio_alloc(m, gfp, order, nid, cpu)
        if f == NULL:
            done[0] = i
            return MC_ENOMEM
        pfns[i] = folio_pfn(m, f)
    done[0] = n
    return 0


cdef int bulk_put(mc_machine *m, const uint64_t *pfns, uint64_t n, int cpu,
                  uint64_t *done) noexcept nogil:
    cdef uint64_t i
    cdef int rc
    cdef page *p
    for i in range(n):
        if pfns[i] >= m.nr_pfns:
            done[0] = i
            return set_err(m, MC_EPFN, -1, b"pfn outside the memory map")
        p = mc_pfn_to_page(m, pfns[i])
        if PageTail(m, p) or PageBuddy(m, p):
            done[0] = i
            return set_err(m, MC_ETAIL, pfns[i], b"folio_put() of a page that is no folio head")
        rc = folio_put(m, page_folio(m, p), cpu)
        if rc < 0:
            done[0] = i
            return rc
    done[0] = n
    return 0


# ---- the minimal free-list baseline: list_head pop + push on host memory --------

cdef struct host_list:
    host_list *next
    host_list *prev


cdef uint64_t freelist_baseline(uint64_t n, uint64_t nodes) noexcept nogil:
    """n times: pop the first node of a doubly linked free list, push it back."""
    cdef host_list head
    cdef host_list *arr = <host_list *>calloc(nodes, sizeof(host_list))
    cdef host_list *e
    cdef uint64_t i, acc = 0
    if arr == NULL:
        return 0
    head.next = &head
    head.prev = &head
    for i in range(nodes):                 # build: list_add_tail
        arr[i].prev = head.prev
        arr[i].next = &head
        head.prev.next = &arr[i]
        head.prev = &arr[i]
    for i in range(n):
        e = head.next                      # list_del(first)
        e.next.prev = e.prev
        e.prev.next = e.next
        acc += <uint64_t>(e - arr)
        e.next = head.next                 # list_add(e, head)
        e.prev = &head
        head.next.prev = e
        head.next = e
    free(arr)
    return acc


def _freelist_baseline(uint64_t n, uint64_t nodes=1024):
    """Benchmark baseline: n list_del(first) + list_add() pairs on host memory."""
    cdef uint64_t r
    with nogil:
        r = freelist_baseline(n, nodes)
    return r


@cython.final
cdef class _Nop:
    """Benchmark baseline: the cheapest Python-visible method call on a final
    cdef class, against which view operations are measured."""

    def nop(self):
        return None
