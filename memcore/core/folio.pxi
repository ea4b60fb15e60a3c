# Folios: allocation, reference counts, freeing (include/linux/mm.h,
# page_ref.h, mm/swap.c, Linux 6.18), as nogil C on the folio descriptor.
#
# Provides: folio_alloc, folio_get, folio_try_get, folio_put,
#   free_frozen_folio, folio_ref_unfreeze.
# Uses: the design accessors (decl.pxi), __alloc_frozen_pages,
#   free_pages_check and free_frozen_pages_linked (page_alloc.pxi), set_err.
#
# Each mutating operation checks first and changes nothing when the kernel
# would VM_BUG_ON or report a bad page; the caller turns the error code
# into the memcore exception.


cdef folio *folio_alloc(mc_machine *m, unsigned int gfp, int order, int nid,
                        int cpu, bint anon=False) noexcept nogil:
    """folio_alloc(): a folio with refcount 1, large folios rmappable.

    In the order the memdesc plan gives (FolioAlloc): the descriptor from its
    cache if the design has one (mc_desc_cache_of()), then the pages, then
    the design attaches the descriptor to every page, and the refcount is
    published last."""
    cdef int ci = mc_desc_cache_of(MC_DK_FOLIO, order)
    cdef mc_ulong desc = 0
    cdef page *p
    cdef folio *f
    if ci >= 0:
        desc = desc_alloc(m, ci, nid, cpu)
        if desc == 0:
            return NULL
    p = __alloc_frozen_pages(m, gfp | __GFP_COMP, order, nid, cpu)
    if p == NULL:
        if desc:
            desc_free(m, ci, desc, cpu)
        return NULL
    f = mc_folio_attach(m, p, order, desc, anon)
    if order:
        folio_set_large_rmappable_flag(f)     # page_rmappable_folio()
    folio_set_count(f, 1)                     # set_page_refcounted(), last
    return f


cdef inline void folio_desc_release(mc_machine *m, folio *f, int order, int cpu) noexcept nogil:
    """The folio's pages are back: its descriptor goes back to its cache (a
    SLAB_TYPESAFE_BY_RCU cache: the object may be reused at once, its slab
    page outlives every RCU reader).  Nothing where the memmap holds it."""
    cdef int ci = mc_desc_cache_of(MC_DK_FOLIO, order)
    if ci >= 0:
        desc_free(m, ci, mc_folio_va(m, f), cpu)


cdef inline int folio_get(mc_machine *m, folio *f) noexcept nogil:
    """folio_get(): VM_BUG_ON if the count is zero (or about to overflow)."""
    if <unsigned int>(folio_ref_count(f) + 127) <= 127:
        return set_err(m, MC_EREFZERO, folio_pfn(m, f),
                       b"folio_get() on a folio with a zero (or overflowing) refcount")
    folio_ref_add(f, 1)
    return 0


cdef inline bint folio_try_get(folio *f) noexcept nogil:
    """folio_try_get(): add a reference unless the count is zero."""
    if folio_ref_count(f) == 0:
        return False
    folio_ref_add(f, 1)
    return True


cdef inline int folio_put(mc_machine *m, folio *f, int cpu) noexcept nogil:
    """folio_put(): drop a reference; at zero, free the folio (pcp or buddy).

    Returns 1 when the folio was freed, 0 when references remain, or an
    error (nothing changed): the count was already zero, or the folio is in
    a state the free path would call bad_page() for (locked, mapped, ...).
    Inline, as in include/linux/mm.h; the last reference goes to __folio_put().
    """
    cdef int count = folio_ref_count(f)
    if count <= 0:
        return set_err(m, MC_EREFZERO, folio_pfn(m, f),
                       b"folio_put() on a folio with refcount 0 (put_page_testzero underflow)")
    if count > 1:
        folio_ref_add(f, -1)
        return 0
    return __folio_put(m, f, cpu)


cdef int __folio_put(mc_machine *m, folio *f, int cpu) noexcept nogil:
    """The last reference of folio_put(): check, then free the folio; 1, or the
    error of a check (nothing changed, the reference is still held)."""
    cdef int rc, order
    order = folio_order(f)
    rc = free_pages_check(m, folio_page(m, f, 0), order, 1, True)
    if rc:
        return rc
    folio_set_count(f, 0)
    mc_folio_clear_lru_flags(f)                # __folio_put(): page_cache_release()
    if mc_folio_backing_slab(m, f) != NULL:
        return folio_return_to_slab(m, f, cpu)
    free_frozen_pages_linked(m, folio_page(m, f, 0), order, cpu)   # links checked above
    folio_desc_release(m, f, order, cpu)
    return 1


cdef int free_frozen_folio(mc_machine *m, folio *f, int cpu) noexcept nogil:
    """free_frozen_pages(&folio->page, folio_order(folio)) of a frozen folio."""
    cdef int rc, order = folio_order(f)
    if folio_ref_count(f) != 0:
        return set_err(m, MC_EBUSY, folio_pfn(m, f),
                       b"free_frozen_pages() of a folio whose refcount is not frozen")
    rc = free_pages_check(m, folio_page(m, f, 0), order, 0, False)
    if rc:
        return rc
    mc_pfn_mark_clear(m, folio_pfn(m, f), MC_PFN_FROZEN)
    if mc_folio_backing_slab(m, f) != NULL:
        folio_return_to_slab(m, f, cpu)
        return 0
    free_frozen_pages_linked(m, folio_page(m, f, 0), order, cpu)   # links checked above
    folio_desc_release(m, f, order, cpu)
    return 0


cdef inline bint folio_ref_freeze_marked(mc_machine *m, folio *f, int count) noexcept nogil:
    """folio_ref_freeze(), and the model's note that the zero count is a freeze
    (not a free): Machine.check() and the views tell the two apart by it."""
    if not folio_ref_freeze(f, count):
        return False
    mc_pfn_mark_set(m, folio_pfn(m, f), MC_PFN_FROZEN)
    return True


cdef int folio_ref_unfreeze(mc_machine *m, folio *f, int count) noexcept nogil:
    if folio_ref_count(f) != 0:
        return set_err(m, MC_EREFZERO, folio_pfn(m, f),
                       b"folio_ref_unfreeze() of a folio that is not frozen")
    if count <= 0:
        return set_err(m, MC_EINVAL, folio_pfn(m, f),
                       b"folio_ref_unfreeze() to a count of zero or less")
    folio_set_count(f, count)
    mc_pfn_mark_clear(m, folio_pfn(m, f), MC_PFN_FROZEN)
    return 0


cdef inline bint folio_is_frozen(const mc_machine *m, const folio *f) noexcept nogil:
    return mc_pfn_mark_test(m, folio_pfn(m, f), MC_PFN_FROZEN)


# ---- S8: page-cache folios lent by a slab (the memdesc designs) -----------------------
#
# Claim S8 of the 2021 thread: an order-3 slab of page-sized objects has one
# struct slab that all 8 pages point at; allocating one page from it makes a
# folio and re-points that page at it, stashing the slab in the folio, so the
# page can go back to the slab.  The design says whether it can
# (MC_FOLIO_SLABS) and where the slab is stashed (mc_folio_lend_from_slab()).

cdef folio *folio_slab_alloc(mc_machine *m, kmem_cache *s, int cpu) noexcept nogil:
    """One page of the folio slab `s` as an order-0 file folio with refcount 1."""
    cdef int ci = mc_desc_cache_of(MC_DK_FOLIO, 0)
    cdef mc_ulong desc, obj
    cdef slab *sl
    cdef folio *f
    if ci < 0:
        set_err(m, MC_EINVAL, -1, b"this design's slabs cannot lend pages (S8)")
        return NULL
    desc = desc_alloc(m, ci, -1, cpu)
    if desc == 0:
        return NULL
    obj = slab_alloc_node(m, s, GFP_KERNEL, -1, cpu, s.object_size)
    if obj == 0:
        desc_free(m, ci, desc, cpu)
        return NULL
    sl = virt_to_slab(m, obj)
    f = mc_folio_attach(m, mc_pfn_to_page(m, mc_virt_to_phys(m, obj) >> PAGE_SHIFT), 0, desc, False)
    mc_folio_lend_from_slab(m, f, sl)
    folio_set_count(f, 1)                     # published last
    return f


cdef int folio_return_to_slab(mc_machine *m, folio *f, int cpu) noexcept nogil:
    """The last put of a lent folio (its refcount is 0 now): the page points at
    its slab again and goes back to it as a free object, the folio descriptor
    goes back to its cache, and a slab left with no object in use returns its
    pages to the page allocator (flush and shrink the cache).  1."""
    cdef slab *sl = mc_folio_backing_slab(m, f)
    cdef kmem_cache *s = KC(m, sl.slab_cache)
    cdef uint64_t pfn = folio_pfn(m, f)
    cdef mc_ulong obj = mc_phys_to_virt(m, pfn << PAGE_SHIFT)
    m.pfn_gen[pfn] += 1                      # views of the folio are stale now
    mc_folio_return_to_slab(m, f, sl)
    slab_free(m, s, sl, obj, cpu)
    folio_desc_release(m, f, 0, cpu)
    if objects_marked(m, s, sl) == 0:
        kmem_cache_flush_and_shrink(m, s)
    return 1
