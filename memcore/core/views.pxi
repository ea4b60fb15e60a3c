# Python views: Page, Folio, PgFlags.
#
# Provides: Page, Folio, PgFlags and their constructors _make_folio() and
#   _make_pgflags(); FOLIO_FLAG_HELPERS and FOLIO_KERNEL_NAMES (generated).
# Uses: Machine (machine.pxi), the design's accessors (core/decl.pxi),
#   _table_entry (layout.pxi), dump_page/format_pgp (dump.pxi) and the
#   generated folio_flags_decl.pxi.
#
# This file is a template: tools/codegen.py writes it to the variant's build
# directory as views_generated.pxi with the folio flag methods (generated
# from the flag table) in place of the @FOLIO_FLAG_METHODS@ line, because
# Cython cannot `include` inside a class body.
#
# A view is a modeled kernel address plus a reference to its Machine; it
# owns no state, is cheap to create, and every access goes to the struct in
# the machine's memory.  Flag helpers of Folio are generated from the one
# table in include/memcore/folio_flags_table.h (folio_flags.pxi).
#
# Provides: Page, Folio, PgFlags, _make_folio, _make_pgflags.
# Uses: folio.pxi, tasks.pxi (bit locks through the Machine), dump.pxi.

cimport cython

include "folio_flags_decl.pxi"


cdef inline Folio _make_folio(Machine machine, mc_ulong addr):
    cdef Folio f
    _allow_view()
    f = Folio.__new__(Folio)
    f.machine = machine
    f.addr = addr
    f.pfn0 = folio_pfn(machine.m, mc_va_to_folio(machine.m, addr))
    f.gen = machine.m.pfn_gen[f.pfn0]
    # folios are never split in the model, so the order a view is made with is
    # the folio's for as long as it lives, and what a freed folio's view reports
    f.order0 = folio_order(mc_va_to_folio(machine.m, addr))
    return f


cdef int _check_links(Machine machine, const page *p) except -1:
    """VMBug naming the bad value when p's flags word names no zone spanning it."""
    if page_links_bad(machine.m, p):
        return machine._raise(MC_EINVAL)
    return 0


cdef inline PgFlags _make_pgflags(Machine machine, mc_ulong addr):
    cdef PgFlags w
    _allow_view()
    w = PgFlags.__new__(PgFlags)
    w.machine = machine
    w.addr = addr
    return w


@cython.final
@cython.freelist(64)
@cython.no_gc            # holds its Machine and a Folio view: cannot be part of a cycle
@cython.auto_pickle(False)
cdef class Page:
    """A struct page of the machine (m.page(pfn))."""
    cdef readonly Machine machine
    cdef mc_ulong addr
    cdef Folio _folio        # the last view .folio made, handed out again while it is current

    def __cinit__(self):
        _take_view_token("Page")

    cdef inline page *_p(self) noexcept:
        return mc_va_to_page(self.machine.m, self.addr)

    @property
    def pointer(self):
        """The struct page pointer: this page's modeled address (pfn_to_page()).
        Not page_address(), the memory's address: that is m.pfn_to_virt(pfn)."""
        return Address(self.addr)

    @property
    def pfn(self):
        """page_to_pfn(): the page frame number."""
        return mc_page_to_pfn(self.machine.m, self._p())

    @property
    def folio(self):
        """page_folio(): the folio this page belongs to, or None when it is no
        folio (free in the buddy or on a pcp list, typed: slab/table/..., reserved)."""
        cdef mc_machine *m = self.machine.m
        cdef folio *f = page_folio(m, self._p())
        if f == NULL:
            return None
        cdef page *head = folio_page(m, f, 0)
        if folio_ref_count(f) == 0:
            if PageBuddy(m, head) or not folio_is_frozen(m, f):
                return None
        if page_has_type(m, head) or PageReserved(m, head):
            return None
        # A view is its machine, address and generation, none of which changes: the
        # last one made is the view a new one would be while both still agree
        # (this saves creating an object per call of a hot getter).
        cdef Folio v = self._folio
        cdef mc_ulong va = mc_folio_va(m, f)
        if v is not None and v.addr == va and v.pfn0 == folio_pfn(m, f) and \
                v.gen == m.pfn_gen[v.pfn0]:
            return v
        v = _make_folio(self.machine, va)
        self._folio = v
        return v

    @property
    def memdesc(self):
        """The page's memdesc word, decoded (memcore.Memdesc: type name, descriptor
        address or None, inline fields).  It reads the struct page only, no
        descriptor (claims S2, S5).  NoMemdesc on classic (Linux 6.18 has none)."""
        from memcore.memdesc import NoMemdesc, decode_memdesc
        cdef mc_ulong word
        if not mc_page_memdesc(self.machine.m, self._p(), &word):
            raise NoMemdesc(f"design {MC_DESIGN_NAME.decode()!r} has no memdesc word: its "
                            f"struct page is Linux 6.18's")
        return decode_memdesc(word, MC_DESIGN_NAME.decode(), MC_BITS)

    @property
    def compound_head(self):
        """The raw compound_head word: head address + 1 on a tail page, else 0.
        VMBug where the design has no compound pages and the page is typed
        (the memdesc plan: compound_head() of a typed page BUG()s)."""
        cdef const char *why = mc_compound_head_bug(self.machine.m, self._p())
        if why != NULL:
            set_err(self.machine.m, MC_EINVAL, self.pfn, why)
            self.machine._raise(MC_EINVAL)
        return mc_page_compound_word(self.machine.m, self._p())

    @property
    def is_tail(self):
        """PageTail(): a tail page of a large folio (or compound block)."""
        return PageTail(self.machine.m, self._p()) != 0

    @property
    def is_head(self):
        """PageHead(): the first page of a large folio (or compound block)."""
        return PageHead(self.machine.m, self._p()) != 0

    @property
    def flags(self):
        """The flags word of this struct page, as a PgFlags view.  On the memdesc
        design, whose struct page is its memdesc alone: a folio page's folio
        flags; for any other page a read-only view of the flags 6.18 would
        show (node, zone and section from the memdesc or the descriptor,
        PG_reserved for Misc "reserved"); changing it raises NotSupported."""
        cdef mc_machine *m = self.machine.m
        cdef page *p = self._p()
        cdef mc_ulong va = mc_page_flags_va(m, p)
        cdef PgFlags w
        cdef folio *f
        if va == 0:
            w = _make_pgflags(self.machine, self.addr)
            w.derived = True
            w.dpfn = mc_page_to_pfn(m, p)
            return w
        w = _make_pgflags(self.machine, va)
        if PageTail(m, p):
            # the second page's word is the large folio's _flags_1 where the
            # design overlays it (FOLIO_MATCH(flags, _flags_1)): its low byte is
            # the order and three PG bits mean FOLIO_SECOND_PAGE flags
            f = page_folio(m, p)
            if f != NULL and folio_test_large(f) and va == mc_addr_of(m, folio_flags(f, 1)):
                w.second = True
        return w

    @property
    def page_type(self):
        """The raw page_type word (top byte PGTY_* when typed, UINT_MAX when not)."""
        return mc_page_type_word(self.machine.m, self._p())

    @property
    def type_name(self):
        """The PGTY_ name of a typed page (without PGTY_), else None."""
        cdef page *p = self._p()
        if not page_has_type(self.machine.m, p):
            return None
        return _page_type_name(mc_page_type(self.machine.m, p))

    @property
    def refcount(self):
        """page_ref_count(): the page's _refcount (0 for a tail page and free memory)."""
        return page_ref_count(self.machine.m, self._p())

    @property
    def mapcount(self):
        """This page's _mapcount + 1 (0 for a typed page), as dump_page shows it."""
        return mc_page_dump_mapcount(self.machine.m, self._p())

    @property
    def private(self):
        """page_private(): the page's private word (the order of a free block's head)."""
        return page_private(self.machine.m, self._p())

    @property
    def mapping(self):
        """The page's mapping word as stored (an address_space address, or flag bits)."""
        return mc_page_mapping_word(self.machine.m, self._p())

    @property
    def zone(self):
        """page_zonenum() by name: "DMA", "DMA32", "Normal", "HighMem", ..."""
        cdef page *p = self._p()
        _check_links(self.machine, p)
        return _table_entry(ZONE_NAMES, page_zonenum(self.machine.m, p), "zone number in the flags word")

    @property
    def node(self):
        """page_to_nid(): the NUMA node of the page."""
        cdef page *p = self._p()
        _check_links(self.machine, p)
        return page_to_nid(self.machine.m, p)

    @property
    def buddy_order(self):
        """The order of the free block this page heads, or None if not PageBuddy."""
        cdef page *p = self._p()
        return buddy_order(self.machine.m, p) if PageBuddy(self.machine.m, p) else None

    @property
    def migratetype(self):
        """The migratetype of the page's pageblock."""
        cdef uint64_t pfn = mc_page_to_pfn(self.machine.m, self._p())
        _check_links(self.machine, self._p())
        return _table_entry(MIGRATETYPE_NAMES, get_pfnblock_migratetype(self.machine.m, self._p(), pfn),
                            "migratetype of the pageblock")

    def raw(self):
        """The bytes of the struct page."""
        return (<char *>self._p())[:MC_SIZEOF_PAGE]

    def dump(self, reason=None):
        """dump_page(): the kernel's text for this page."""
        return dump_page(self.machine, mc_page_to_pfn(self.machine.m, self._p()), reason)

    def __eq__(self, other):
        return isinstance(other, Page) and (<Page>other).machine is self.machine and \
            (<Page>other).addr == self.addr

    def __hash__(self):
        return hash((id(self.machine), self.addr))

    def __repr__(self):
        return f"<Page pfn {self.pfn:#x}>"


@cython.final
@cython.freelist(64)
@cython.no_gc
@cython.auto_pickle(False)
cdef class Folio:
    """A folio of the machine: a view of its folio descriptor (where the design
    keeps it: the head struct page in the classic design)."""
    cdef readonly Machine machine
    cdef mc_ulong addr
    cdef uint32_t gen                    # pfn_gen[pfn] when the view was made
    cdef uint64_t pfn0                   # the folio's first PFN when the view was made
    cdef uint8_t order0                  # its order then (a freed folio's view reports it)

    def __cinit__(self):
        _take_view_token("Folio")

    cdef inline int _gone(self) noexcept:
        """0 while the view names a live folio (a frozen one is live), else why
        not: 1 its descriptor is no longer a folio's, 2 its head is a tail page
        now, 3 it was freed (in the buddy allocator, on a pcp list, or refcount 0
        and not frozen), 4 its pages were freed and belong to another folio."""
        cdef mc_machine *m = self.machine.m
        if not mc_folio_desc_live(m, self.addr):
            return 1
        cdef folio *f = mc_va_to_folio(m, self.addr)
        cdef page *p = folio_page(m, f, 0)
        if PageTail(m, p):
            return 2
        if PageBuddy(m, p) or (folio_ref_count(f) == 0 and not folio_is_frozen(m, f)):
            return 3
        # identity, as a lock-free walker re-checks it (claim S6): the descriptor
        # still names the same pages, which have not been freed since
        if folio_pfn(m, f) != self.pfn0 or m.pfn_gen[self.pfn0] != self.gen:
            return 4
        return 0

    cdef inline folio *_f(self) except NULL:
        """The folio, checked live (_gone()); raises VMBug saying why not."""
        cdef int why = self._gone()
        if why:
            self._raise_gone(why)
        return mc_va_to_folio(self.machine.m, self.addr)

    cdef folio *_raise_gone(self, int why) except NULL:
        cdef mc_machine *m = self.machine.m
        if why == 1:
            return self._freed_desc()
        cdef page *p = folio_page(m, mc_va_to_folio(m, self.addr), 0)
        if why == 4:
            self._stale(p)
        self._bad(p)
        return NULL

    cdef inline folio *_f2(self) except NULL:
        """The folio, for PF_SECOND flags: it must be large."""
        cdef folio *f = self._f()
        if not folio_test_large(f):
            set_err(self.machine.m, MC_ENOTLARGE, folio_pfn(self.machine.m, f),
                    b"second-page flag of a folio that is not large (VM_BUG_ON_PGFLAGS)")
            self.machine._raise(MC_ENOTLARGE)
        return f

    cdef folio *_freed_desc(self) except NULL:
        cdef mc_machine *m = self.machine.m
        set_err(m, MC_EFREE, self.pfn0,
                b"folio operation on a folio that was freed (its descriptor is no longer "
                b"the folio of the pages it named)")
        self.machine._raise(MC_EFREE)
        return NULL

    @property
    def backing_slab(self):
        """The slab that lent this folio its page (claim S8; a Slab view), or None."""
        cdef mc_machine *m = self.machine.m
        cdef slab *sl = mc_folio_backing_slab(m, self._f())
        if sl == NULL:
            return None
        return _make_slab(self.machine, mc_slab_va(m, sl))

    cdef int _stale(self, page *p) except -1:
        cdef mc_machine *m = self.machine.m
        set_err(m, MC_EFREE, mc_page_to_pfn(m, p),
                b"stale Folio view: the folio it named was freed and the memory now "
                b"belongs to another folio")
        return self.machine._raise(MC_EFREE)

    cdef int _bad(self, page *p) except -1:
        cdef mc_machine *m = self.machine.m
        if PageTail(m, p):
            set_err(m, MC_ETAIL, mc_page_to_pfn(m, p),
                    b"folio operation on a tail page (the folio was split or freed)")
            return self.machine._raise(MC_ETAIL)
        set_err(m, MC_EFREE, mc_page_to_pfn(m, p),
                b"folio operation on a folio that was freed (refcount 0, not frozen)")
        return self.machine._raise(MC_EFREE)

    cdef inline int _check(self, int rc) except -1:
        if rc < 0:
            return self.machine._raise(rc)
        return rc

    # ---- identity and geometry ----
    @property
    def pointer(self):
        """The struct folio pointer: the descriptor's modeled address (the head
        struct page in the classic design).  Not folio_address(), the memory's
        address: that is m.folio_address(folio)."""
        return Address(self.addr)

    @property
    def freed(self):
        """True once the folio this view names was freed (its pages are free, or
        belong to something else now).  A freed folio's pfn, order, nr_pages,
        size, refcount (0), zone, node and dump() still answer, as dump_page()
        does on a real kernel; everything that needs a live folio raises VMBug."""
        return self._gone() != 0

    @property
    def pfn(self):
        """folio_pfn(): the PFN of the folio's first page (of a freed folio: the
        PFN it had)."""
        return self.pfn0

    @property
    def order(self):
        """folio_order(): log2 of the folio's pages (0 for a small folio; of a
        freed folio: the order it had)."""
        return self.order0

    @property
    def nr_pages(self):
        """folio_nr_pages(): 1 << order."""
        return 1 << self.order0

    @property
    def size(self):
        """folio_size(): bytes."""
        return (1 << self.order0) << PAGE_SHIFT

    @property
    def refcount(self):
        """folio_ref_count(): references held (the page cache holds one per page);
        0 once the folio was freed."""
        if self._gone():
            return 0
        return folio_ref_count(mc_va_to_folio(self.machine.m, self.addr))

    @property
    def mapcount(self):
        """folio_mapcount()."""
        return folio_mapcount(self._f())

    @property
    def zone(self):
        """folio_zonenum() by name: "DMA", "DMA32", "Normal", "HighMem", ...
        (of a freed folio: its first page's zone)."""
        cdef page *p = mc_pfn_to_page(self.machine.m, self.pfn0)
        _check_links(self.machine, p)
        return _table_entry(ZONE_NAMES, page_zonenum(self.machine.m, p), "zone number in the flags word")

    @property
    def node(self):
        """folio_nid(): the NUMA node of the folio (of a freed folio: its first page's)."""
        cdef page *p = mc_pfn_to_page(self.machine.m, self.pfn0)
        _check_links(self.machine, p)
        return page_to_nid(self.machine.m, p)

    @property
    def flags(self):
        """The folio's flags word (folio->flags), as a PgFlags view."""
        return _make_pgflags(self.machine, mc_folio_flags_va(self.machine.m, self._f()))

    @property
    def lock_owner(self):
        """The task holding the folio lock (None if unlocked or locked without a task)."""
        return self.machine._lock_owner(mc_folio_flags_va(self.machine.m, self._f()))

    def page(self, n=0):
        """folio_page(folio, n): the n-th struct page of the folio."""
        cdef folio *f = self._f()
        cdef unsigned long nr = folio_nr_pages(f)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"a page index is an int, not {type(n).__name__}")
        if not 0 <= n < nr:
            raise ValueError(f"page {n!r} of a folio of {nr} pages")
        return self.machine.page(folio_pfn(self.machine.m, f) + n)

    def dump(self, reason=None):
        """dump_page() of the folio's first page: what the kernel prints for it now
        (for a freed folio, the free page: "page: ... refcount:0 ... buddy")."""
        return dump_page(self.machine, self.pfn0, reason)

    # ---- references ----
    def get(self, task=None):
        """folio_get()."""
        self.machine._running(task)
        self._check(folio_get(self.machine.m, self._f()))

    def try_get(self, task=None):
        """folio_try_get(): a reference unless the count is zero; True if taken.
        (On a freed folio the model raises: the kernel relies on RCU-typesafe
        memory there, which the memdesc designs model.)"""
        self.machine._running(task)
        return folio_try_get(self._f())

    def put(self, task=None):
        """folio_put(): drop a reference; the last one frees the folio (onto the
        task's CPU's pcp list).  Returns True if the folio was freed."""
        cdef Machine mach = self.machine
        cdef Task t = mach._running(task)
        cdef int rc = folio_put(mach.m, self._f(), t._t().cpu)
        if rc < 0:
            return mach._raise(rc)
        return rc == 1

    def ref_freeze(self, count, task=None):
        """folio_ref_freeze(): set the count to 0 if it is exactly `count`."""
        cdef int c = _int_arg(count, "folio_ref_freeze() count", 1, INT_MAX)
        self.machine._running(task)
        return folio_ref_freeze_marked(self.machine.m, self._f(), c)

    def ref_unfreeze(self, count, task=None):
        """folio_ref_unfreeze(): give a frozen folio the count `count`."""
        cdef int c = _int_arg(count, "folio_ref_unfreeze() count", 0, INT_MAX)
        self.machine._running(task)
        self._check(folio_ref_unfreeze(self.machine.m, self._f(), c))

    def free_frozen(self, task=None):
        """free_frozen_pages(): free a folio whose refcount was frozen to 0."""
        cdef Machine mach = self.machine
        cdef Task t = mach._running(task)
        self._check(free_frozen_folio(mach.m, self._f(), t._t().cpu))

    # ---- the folio lock (PG_locked in the head flags) ----
    def trylock(self, task=None):
        """folio_trylock(): test_and_set_bit_lock(PG_locked); True if taken."""
        cdef folio *f = self._f()
        return self.machine._bit_trylock(mc_folio_flags_va(self.machine.m, f), folio_flags(f, 0), task)

    def lock(self, task=None):
        """folio_lock(): take the lock, or sleep on the folio wait queue.

        Returns True when the lock was taken.  When another task holds it,
        the calling task records PG_waiters, queues itself and sleeps
        (False); the unlocking task hands the lock over and wakes it.
        """
        cdef folio *f = self._f()
        return self.machine._bit_lock(mc_folio_flags_va(self.machine.m, f), folio_flags(f, 0), task)

    def unlock(self, task=None):
        """folio_unlock(): clear PG_locked; returns True if waiters had to be woken."""
        cdef folio *f = self._f()
        return self.machine._bit_unlock(mc_folio_flags_va(self.machine.m, f), folio_flags(f, 0), task)

    def __eq__(self, other):
        return isinstance(other, Folio) and (<Folio>other).machine is self.machine and \
            (<Folio>other).addr == self.addr

    def __hash__(self):
        return hash((id(self.machine), self.addr))

    def __repr__(self):
        return (f"<Folio pfn {self.pfn0:#x} order {self.order0}"
                f"{' (freed)' if self._gone() else ''}>")

    # ---- the kernel's non-atomic helpers, by their kernel names ----
    def __getattr__(self, str name):
        """f.__set_X(), f.__clear_X(), f.__mark_X(): __folio_set_X() & co.

        A class body cannot define these names (they would be mangled to
        _Folio__set_X), so the generated methods are _nonatomic_set_X & co.
        and are found here under the kernel's spelling."""
        method = FOLIO_KERNEL_NAMES.get(name)
        if method is None:
            raise AttributeError(f"'Folio' object has no attribute {name!r}")
        return getattr(self, method)

    def __dir__(self):
        return object.__dir__(self) + list(FOLIO_KERNEL_NAMES)

    # ---- generated: every folio flag helper of the kernel ----
    # @FOLIO_FLAG_METHODS@  (tools/codegen.py puts the generated methods here)


@cython.final
@cython.freelist(16)
@cython.no_gc
@cython.auto_pickle(False)
cdef class PgFlags:
    """A flags word (page->flags, folio->flags, or any descriptor's flags)."""
    cdef readonly Machine machine
    cdef mc_ulong addr
    cdef bint derived        # no such word: the flags 6.18 would show for page `dpfn`
    cdef bint second         # a large folio's _flags_1 (order byte, FOLIO_SECOND_PAGE flags)
    cdef uint64_t dpfn
    cdef mc_ulong scratch

    def __cinit__(self):
        _take_view_token("PgFlags")

    cdef inline mc_ulong *_w(self) noexcept:
        if self.derived:
            self.scratch = mc_page_flags(self.machine.m, mc_pfn_to_page(self.machine.m, self.dpfn))
            return &self.scratch
        return <mc_ulong *>mc_host(self.machine.m, self.addr)

    cdef mc_ulong *_ww(self) except NULL:
        """The word, for a change.  In the memmap any word but the links the model
        follows (mc_memmap_word_unwritable(); tests inject bad page state this
        way); in the direct map not the model's own metadata (boot
        reservations, the kmem_cache and kmem_cache_node objects), which the core
        trusts."""
        cdef mc_machine *m = self.machine.m
        cdef const char *why
        if self.derived:
            raise NotSupported(f"PgFlags: pfn {self.dpfn:#x} has no flags word to change in "
                               f"design {MC_DESIGN_NAME.decode()!r} (its struct page is its "
                               f"memdesc; these are the flags 6.18 would show, read-only)")
        if <mc_ulong>(self.addr - m.memmap_va) >= m.memmap_bytes:
            machine_check_writable(self.machine, self.addr, sizeof(mc_ulong), "PgFlags")
        else:
            why = mc_memmap_word_unwritable(m, self.addr)
            if why != NULL:
                raise InvalidAddress(f"PgFlags: the memmap word at {self.addr:#x} is not the "
                                     f"API's to write: {why.decode()}")
        return self._w()

    @property
    def pointer(self):
        """The modeled address of the flags word (&page->flags)."""
        return Address(self.addr)

    @property
    def word(self):
        """The flags word's value."""
        return self._w()[0]

    @word.setter
    def word(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"a flags word is an int, not {type(value).__name__}")
        if value < 0 or value >> MC_BITS:
            raise ValueError(f"flags word must fit {MC_BITS} bits, not {value!r}")
        cdef mc_ulong *w = self._ww()
        self._slab_links_unchanged(w[0], value)
        w[0] = value

    cdef int _slab_links_unchanged(self, mc_ulong old, mc_ulong new) except -1:
        """A slab page's node and zone are SLUB's: slab_nid() indexes s->node[] and
        the slab's free indexes pgdat[] deep inside walks that cannot stop
        (kmem_cache_shrink(), destroy), so a write that changes them is refused
        here.  (A folio's may be written; its uses check them.)"""
        cdef mc_machine *m = self.machine.m
        cdef uint64_t off = self.addr - m.memmap_va, pfn
        cdef page *p
        cdef slab *sl
        cdef int ci = mc_desc_cache_of(MC_DK_SLAB, 0)
        if off >= m.memmap_bytes:
            # a separately allocated slab descriptor's flags word (its first word)
            sl = virt_to_slab(m, self.addr)
            if ci < 0 or sl == NULL or sl.slab_cache != m.desc_caches[ci]:
                return 0
            if (self.addr - slab_obj_base(m, KC(m, sl.slab_cache), sl)) % \
                    KC(m, sl.slab_cache).size:
                return 0
            pfn = slab_pfn(m, mc_va_to_slab(m, self.addr))
        else:
            pfn = off // MC_SIZEOF_PAGE
            if pfn >= m.nr_pfns:
                return 0
            p = mc_pfn_to_page(m, pfn)
            if mc_page_flags_va(m, p) != self.addr or not PageSlab(m, mc_compound_head(m, p)):
                return 0
        fl = self.machine.flags_layout
        mask = fl.mask("NODES") | fl.mask("ZONES") | fl.mask("SECTIONS")
        if (old ^ new) & mask:
            raise VMBug(f"the node/zone/section fields of a slab's flags word "
                        f"(pfn {pfn:#x}) are SLUB's: {old:#x} -> {new:#x} is refused")
        return 0

    cdef int _bit(self, name) except -1:
        return self.machine._flag_bit(name)

    def test(self, name):
        return test_bit(self._bit(name), self._w()) != 0

    def set(self, name):
        set_bit(self._bit(name), self._ww())

    def clear(self, name):
        clear_bit(self._bit(name), self._ww())

    def test_and_set(self, name):
        return test_and_set_bit(self._bit(name), self._ww()) != 0

    def test_and_clear(self, name):
        return test_and_clear_bit(self._bit(name), self._ww()) != 0

    def field(self, name):
        """A field of the upper word by its kernel name (SECTIONS, NODES, ZONES, ...)."""
        return self.machine.flags_layout.field_value(self._w()[0], name)

    @property
    def zone(self):
        """The zone field by name ("DMA", "Normal", ...)."""
        return _table_entry(ZONE_NAMES, self.field("ZONES"), "zone number in the flags word")

    @property
    def zone_idx(self):
        """The zone field's number (ZONES bits)."""
        return self.field("ZONES")

    @property
    def node(self):
        """The node field (NODES bits)."""
        return self.field("NODES")

    @property
    def section(self):
        """The section number when the configuration keeps it in flags, else None."""
        if not self.machine.flags_layout.section_in_flags:
            return None
        return self.field("SECTIONS")

    @property
    def last_cpupid(self):
        """The NUMA-balancing cpupid field, None when it is not in the flags word."""
        if self.machine.flags_layout.width("LAST_CPUPID") == 0:
            return None
        return self.field("LAST_CPUPID")

    @property
    def second_page(self):
        """True for a large folio's second page word (folio->_flags_1): its low
        byte is the folio's order and PG_active, PG_workingset and PG_reclaim
        mean has_hwpoisoned, large_rmappable and partially_mapped there."""
        return bool(self.second)

    def names(self):
        """The names of the set page flags, in the kernel's printing order (for a
        second page word: "order=N" and the FOLIO_SECOND_PAGE flag names)."""
        if self.second:
            return format_second_flag_names(self.machine, self._w()[0])
        return format_flag_names(self.machine, self._w()[0])

    def __str__(self):
        """The kernel's %pGp format: 0x...(referenced|uptodate|lru|node=0|zone=2)."""
        return format_pgp(self.machine, self._w()[0], self.second)

    def __repr__(self):
        return f"<PgFlags {self}>"

    # pgflags_lock(): the bit lock on PG_locked of any descriptor's flags word
    def pgflags_trylock(self, task=None):
        return self.machine._bit_trylock(self.addr, self._ww(), task)

    def pgflags_lock(self, task=None):
        return self.machine._bit_lock(self.addr, self._ww(), task)

    def pgflags_unlock(self, task=None):
        return self.machine._bit_unlock(self.addr, self._ww(), task)

