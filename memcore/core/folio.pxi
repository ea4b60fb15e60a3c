# Folios: allocation, reference counts, freeing (include/linux/mm.h,
# page_ref.h, mm/swap.c, Linux 6.18), as nogil C on the struct pages.
#
# Each mutating operation checks first and changes nothing when the kernel
# would VM_BUG_ON or report a bad page; the caller turns the error code
# into the memcore exception.


cdef page *folio_alloc(mc_machine *m, unsigned int gfp, int order, int nid,
                       int cpu) noexcept nogil:
    """folio_alloc(): a compound block with refcount 1, large folios rmappable."""
    cdef page *p = __alloc_frozen_pages(m, gfp | __GFP_COMP, order, nid, cpu)
    if p == NULL:
        return NULL
    set_page_count(p, 1)                      # set_page_refcounted()
    if order:
        __set_bit(PG_large_rmappable, &(<folio *>p)._flags_1)   # page_rmappable_folio()
    return p


cdef inline int folio_get(mc_machine *m, page *p) noexcept nogil:
    """folio_get(): VM_BUG_ON if the count is zero (or about to overflow)."""
    if <unsigned int>(p._refcount.counter + 127) <= 127:
        return set_err(m, MC_EREFZERO, mc_page_to_pfn(m, p),
                       b"folio_get() on a folio with a zero (or overflowing) refcount")
    p._refcount.counter += 1
    return 0


cdef inline bint folio_try_get(page *p) noexcept nogil:
    """folio_try_get(): add a reference unless the count is zero."""
    if p._refcount.counter == 0:
        return False
    p._refcount.counter += 1
    return True


cdef int folio_put(mc_machine *m, page *p, int cpu) noexcept nogil:
    """folio_put(): drop a reference; at zero, free the folio (pcp or buddy).

    Returns 1 when the folio was freed, 0 when references remain, or an
    error (nothing changed): the count was already zero, or the folio is in
    a state the free path would call bad_page() for (locked, mapped, ...).
    """
    cdef int rc, order
    if p._refcount.counter <= 0:
        return set_err(m, MC_EREFZERO, mc_page_to_pfn(m, p),
                       b"folio_put() on a folio with refcount 0 (put_page_testzero underflow)")
    if p._refcount.counter > 1:
        p._refcount.counter -= 1
        return 0
    order = folio_order(<folio *>p)
    rc = free_pages_check(m, p, order, 1, True)
    if rc:
        return rc
    p._refcount.counter = 0
    page_cache_release(p)                      # __folio_put(): off the LRU
    __free_frozen_pages(m, p, order, cpu)
    return 1


cdef int free_frozen_folio(mc_machine *m, page *p, int cpu) noexcept nogil:
    """free_frozen_pages(&folio->page, folio_order(folio)) of a frozen folio."""
    cdef int rc, order = folio_order(<folio *>p)
    if p._refcount.counter != 0:
        return set_err(m, MC_EBUSY, mc_page_to_pfn(m, p),
                       b"free_frozen_pages() of a folio whose refcount is not frozen")
    rc = free_pages_check(m, p, order, 0, False)
    if rc:
        return rc
    __free_frozen_pages(m, p, order, cpu)
    return 0


cdef inline bint folio_ref_freeze(page *p, int count) noexcept nogil:
    """folio_ref_freeze(): cmpxchg(count -> 0)."""
    if p._refcount.counter != count:
        return False
    p._refcount.counter = 0
    return True


cdef int folio_ref_unfreeze(mc_machine *m, page *p, int count) noexcept nogil:
    if p._refcount.counter != 0:
        return set_err(m, MC_EREFZERO, mc_page_to_pfn(m, p),
                       b"folio_ref_unfreeze() of a folio that is not frozen")
    if count <= 0:
        return set_err(m, MC_EINVAL, mc_page_to_pfn(m, p),
                       b"folio_ref_unfreeze() to a count of zero or less")
    p._refcount.counter = count
    return 0


cdef inline int folio_mapcount(const page *p) noexcept nogil:
    """folio_mapcount(): total mappings of the folio."""
    cdef const folio *f = <const folio *>p
    cdef int mc
    if not PageHead(p):
        mc = p._mapcount.counter + 1
        return 0 if page_type_has_type(<unsigned int>(mc - 1)) else mc
    return f._large_mapcount.counter + 1
