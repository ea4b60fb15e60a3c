# The page cache (mm/filemap.c, mm/truncate.c, Linux 6.18): an
# address_space's index -> folio map in its XArray (xarray.pxi), on every
# design.  A folio in the cache holds folio_nr_pages() references for the
# cache (__filemap_add_folio()'s folio_ref_add()), its mapping and index;
# lookups follow filemap_get_entry(): under RCU, load, folio_try_get(),
# reload and compare, retry.
#
# Provides: AddressSpace, filemap_add_folio(), page_cache_delete(),
#   filemap_free_folio(), filemap_get_entry(), the page-cache check, the
#   Machine's address_space API (machine_address_space()).
# Uses: xarray.pxi, folio.pxi (references, freeing), tasks.pxi (the folio
#   lock), rcu.pxi (read sections), slub.pxi/slab_api.pxi (the
#   radix_tree_node cache, the address_space's memory).


cdef inline mc_ulong mapping_i_pages(mc_ulong mapping_va) noexcept nogil:
    return mapping_va + <mc_ulong>(&(<address_space *>0).i_pages)


cdef inline address_space *AS(const mc_machine *m, mc_ulong va) noexcept nogil:
    return <address_space *>mc_host(m, va)


cdef inline bint pc_folio_ok(const mc_machine *m, mc_ulong e) noexcept nogil:
    """A folio entry the model can follow: a live folio descriptor (an entry
    damaged through Machine.write is refused, not dereferenced)."""
    return (not xa_is_internal(e) and not xa_is_value(e) and e % 4 == 0
            and mc_addr_valid(m, e, MC_SIZEOF_FOLIO) and mc_folio_desc_live(m, e))


cdef int filemap_add_folio(mc_machine *m, mc_ulong mapping_va, folio *f, mc_ulong index,
                           int cpu) noexcept nogil:
    """__filemap_add_folio() of a locked folio (its caller's checks done: not
    in a mapping, not swapbacked, index aligned).  MC_EBUSY if an entry
    overlaps [index, index + nr) (the kernel's -EEXIST), MC_ENOMEM if no
    node could be had; either way nothing changed."""
    cdef xa_state xas
    cdef unsigned long nr = folio_nr_pages(f), i
    cdef mc_ulong xa = mapping_i_pages(mapping_va)
    for i in range(nr):                 # xas_for_each_conflict() without value entries
        if xa_load(m, xa, index + i):
            set_err(m, MC_EBUSY, folio_pfn(m, f),
                    b"__filemap_add_folio(): an entry is already in the range (-EEXIST)")
            return MC_EBUSY
    xas_init(&xas, xa, index, cpu)
    xas_set_order(&xas, index, folio_order(f))
    if xas_prealloc(m, &xas):
        set_err(m, MC_ENOMEM, folio_pfn(m, f),
                b"__filemap_add_folio(): no memory for the XArray's nodes (-ENOMEM)")
        return MC_ENOMEM
    folio_ref_add(f, <int>nr)
    mc_folio_set_mapping(f, mapping_va)
    mc_folio_set_index(f, index)
    xas_store(m, &xas, mc_folio_va(m, f))   # the range was empty: nothing is replaced
    xas_destroy(m, &xas)
    AS(m, mapping_va).nrpages += nr
    return 0


cdef void page_cache_delete(mc_machine *m, mc_ulong mapping_va, folio *f, int cpu) noexcept nogil:
    """page_cache_delete(): erase the folio's indices, folio->mapping = NULL
    (folio->index stays: truncation relies on it), nrpages -= nr."""
    cdef xa_state xas
    xas_init(&xas, mapping_i_pages(mapping_va), folio_index(f), cpu)
    xas_set_order(&xas, folio_index(f), folio_order(f))
    xas_store(m, &xas, 0)
    mc_folio_set_mapping(f, 0)
    AS(m, mapping_va).nrpages -= folio_nr_pages(f)


cdef int filemap_free_folio(mc_machine *m, folio *f, int cpu) noexcept nogil:
    """folio_put_refs(folio, folio_nr_pages(folio)): the cache's references.
    1 if they were the last (the folio was freed)."""
    cdef int nr = <int>folio_nr_pages(f)
    if folio_ref_count(f) > nr:
        folio_ref_add(f, -nr)
        return 0
    folio_ref_add(f, -(nr - 1))
    return folio_put(m, f, cpu)


# ---- the check ---------------------------------------------------------------------------

cdef int check_mapping(mc_machine *m, mc_ulong mapping_va, uint64_t *pages) noexcept nogil:
    """Every entry of the mapping's XArray: nodes consistent (shift, offset,
    parent, array, count of non-NULL slots), each folio live, at its index,
    of its order (siblings for the rest of its slots), pointing back at the
    mapping, holding the cache's references; nrpages the sum.  0 or an error
    (m.err_msg says which)."""
    cdef mc_ulong xa = mapping_i_pages(mapping_va)
    cdef mc_ulong head = XA(m, xa).xa_head
    pages[0] = 0
    if not head:
        return check_nrpages(m, mapping_va, 0)
    if not xa_is_node(head):
        if check_entry(m, mapping_va, head, 0, 0):
            return MC_EINVAL
        pages[0] = folio_nr_pages(mc_va_to_folio(m, head))
        return check_nrpages(m, mapping_va, pages[0])
    if XN(m, xa_to_node(head)).parent != 0:
        return pc_fail(m, b"the XArray's top node has a parent")
    if check_node(m, mapping_va, xa_to_node(head), 0, pages, 0):
        return MC_EINVAL
    return check_nrpages(m, mapping_va, pages[0])


cdef int pc_fail(mc_machine *m, const char *what) noexcept nogil:
    snprintf(m.err_msg, sizeof(m.err_msg), b"page cache: %s", what)
    m.err_pfn = -1
    m.err = MC_EINVAL
    return MC_EINVAL


cdef int check_nrpages(mc_machine *m, mc_ulong mapping_va, uint64_t pages) noexcept nogil:
    if AS(m, mapping_va).nrpages != pages:
        snprintf(m.err_msg, sizeof(m.err_msg),
                 b"page cache: nrpages is %llu, its folios have %llu pages",
                 <unsigned long long>AS(m, mapping_va).nrpages, <unsigned long long>pages)
        m.err_pfn = -1
        m.err = MC_EINVAL
        return MC_EINVAL
    return 0


cdef int check_entry(mc_machine *m, mc_ulong mapping_va, mc_ulong entry, mc_ulong index,
                     int level_shift) noexcept nogil:
    cdef folio *f
    cdef unsigned int order
    if not pc_folio_ok(m, entry):
        return pc_fail(m, b"an entry that is no live folio")
    f = mc_va_to_folio(m, entry)
    order = folio_order(f)
    if mc_folio_mapping_word(f) != mapping_va:
        return pc_fail(m, b"a folio whose mapping is not the address_space it is in")
    if folio_index(f) != index:
        return pc_fail(m, b"a folio whose index is not where it is in the XArray")
    if <int>order < level_shift or <int>order >= level_shift + XA_CHUNK_SHIFT:
        return pc_fail(m, b"a folio stored at a level that does not fit its order")
    if folio_ref_count(f) < <int>folio_nr_pages(f) and not folio_is_frozen(m, f):
        # (frozen at 0 is a state the kernel passes through: reclaim, migration)
        return pc_fail(m, b"a folio with fewer references than the cache holds")
    return 0


cdef int check_node(mc_machine *m, mc_ulong mapping_va, mc_ulong top_va, mc_ulong base,
                    uint64_t *pages, int depth) noexcept nogil:
    """check_mapping()'s walk of one node and (recursively, at most 11 deep) its children."""
    cdef xa_node *node = XN(m, top_va)
    if depth > XA_MAX_DEPTH or not mc_addr_in_direct_map(m, top_va, MC_SIZEOF_XA_NODE):
        return pc_fail(m, b"a node pointer that is no node (or a tree deeper than any)")
    cdef unsigned int i, count = 0, sibs, j
    cdef mc_ulong e, child
    cdef folio *f
    if node.array != mapping_i_pages(mapping_va):
        return pc_fail(m, b"a node whose array is not the mapping's")
    for i in range(XA_CHUNK_SIZE):
        e = node.slots[i]
        if not e:
            continue
        count += 1
        if xa_is_sibling(e):
            continue
        if xa_is_node(e):
            if node.shift == 0:
                return pc_fail(m, b"a node below a level-0 node")
            child = xa_to_node(e)
            if XN(m, child).parent != top_va or XN(m, child).offset != i or \
                    XN(m, child).shift + XA_CHUNK_SHIFT != node.shift:
                return pc_fail(m, b"a node whose parent, offset or shift is wrong")
            if check_node(m, mapping_va, child, base + (<mc_ulong>i << node.shift), pages,
                          depth + 1):
                return MC_EINVAL
            continue
        if check_entry(m, mapping_va, e, base + (<mc_ulong>i << node.shift), node.shift):
            return MC_EINVAL
        f = mc_va_to_folio(m, e)
        sibs = (1 << (folio_order(f) - node.shift)) - 1
        for j in range(1, sibs + 1):
            if i + j >= XA_CHUNK_SIZE or node.slots[i + j] != xa_mk_sibling(i):
                return pc_fail(m, b"a multi-index folio without its sibling entries")
        pages[0] += folio_nr_pages(f)
    if count != node.count:
        return pc_fail(m, b"a node's count is not its non-NULL slots")
    if count == 0:
        return pc_fail(m, b"an empty node left in the tree")
    return 0


cdef int mapping_walk(const mc_machine *m, mc_ulong entry, mc_ulong base, int depth,
                      list out) except -1:
    """(index, folio address) of every folio under entry, in index order;
    VMBug if the tree is damaged (an entry that is no folio, a loop)."""
    cdef xa_node *node
    cdef unsigned int i
    cdef mc_ulong e
    if not entry:
        return 0
    if not xa_is_node(entry):
        if not pc_folio_ok(m, entry):
            raise VMBug(f"page cache: the entry for index {base} is no live folio "
                        f"({entry:#x}); Machine.check() says more")
        out.append((base, entry))
        return 0
    if depth > XA_MAX_DEPTH:
        raise VMBug("page cache: the XArray is deeper than any (a damaged node)")
    node = XN(m, xa_to_node(entry))
    for i in range(XA_CHUNK_SIZE):
        e = node.slots[i]
        if e and not xa_is_sibling(e):
            mapping_walk(m, e, base + (<mc_ulong>i << node.shift), depth + 1, out)
    return 0


cdef void mapping_nodes(const mc_machine *m, mc_ulong entry, uint64_t *n,
                        int depth) noexcept nogil:
    cdef xa_node *node
    cdef unsigned int i
    if not xa_is_node(entry) or depth > XA_MAX_DEPTH:
        return
    n[0] += 1
    node = XN(m, xa_to_node(entry))
    if node.shift:
        for i in range(XA_CHUNK_SIZE):
            if xa_is_node(node.slots[i]):
                mapping_nodes(m, node.slots[i], n, depth + 1)


# ---- the Python API ----------------------------------------------------------------------

@cython.final
@cython.auto_pickle(False)
cdef class AddressSpace:
    """A file's page cache (``m.address_space(name)``): struct address_space
    with its XArray of folios (mm/filemap.c).  Works the same on every design."""
    cdef readonly Machine machine
    cdef readonly str name
    cdef mc_ulong addr

    def __cinit__(self):
        _take_view_token("AddressSpace")

    @property
    def pointer(self):
        """The struct address_space pointer (its modeled address)."""
        return Address(self.addr)

    @property
    def nrpages(self):
        """mapping->nrpages: pages in the cache (a folio counts folio_nr_pages())."""
        return AS(self.machine.m, self.addr).nrpages

    @property
    def xa_nodes(self):
        """XArray nodes (radix_tree_node objects) in this mapping's tree."""
        cdef uint64_t n = 0
        mapping_nodes(self.machine.m, XA(self.machine.m, mapping_i_pages(self.addr)).xa_head,
                      &n, 0)
        return n

    def entries(self):
        """[(index, Folio)] of every folio in the cache, in index order."""
        cdef list out = []
        self.machine._ready()
        mapping_walk(self.machine.m, XA(self.machine.m, mapping_i_pages(self.addr)).xa_head,
                     0, 0, out)
        return [(i, _make_folio(self.machine, va)) for i, va in out]

    def add_folio(self, index, folio, task=None):
        """filemap_add_folio(): lock the folio (__folio_set_locked()) and add it
        at `index` with the cache's folio_nr_pages() references, its mapping
        and index.  As in the kernel the folio is locked on return, by the
        calling task: unlock it when its contents are ready.  Raises VMBug
        (nothing changed) if an entry is in the way (-EEXIST), the folio is
        locked, in a mapping, swapbacked, or index is not a multiple of its
        size."""
        return machine_add_folio(self, index, folio, task)

    def get_folio(self, index, task=None):
        """filemap_get_folio() without flags: the folio at `index` with a
        reference the caller must put, or None.  The lookup is
        filemap_get_entry(): under RCU, load, folio_try_get(), reload and
        compare, retry."""
        return machine_get_folio(self, index, task)

    def remove_folio(self, folio, task=None):
        """filemap_remove_folio(): erase a locked folio from the cache and drop
        the cache's references (the caller holds its own: the folio is not
        freed here)."""
        return machine_remove_folio(self, folio, task)

    def truncate(self, start, end, task=None):
        """Remove the folios at indices start..end-1: for each, take a reference,
        lock it, freeze the refcount to zero (the cache's references and
        ours, as __remove_mapping() does), erase it, unlock and free it.  A
        folio someone else holds a reference to cannot be frozen: it is
        erased and the cache's references dropped (truncate_inode_folio());
        its last holder frees it.  A folio is large: it goes if any of its
        indices is in the range (the kernel would split it first).
        Returns {"folios", "pages", "freed"}.  Raises Deadlock, changing
        nothing, if a folio in the range is locked by another task."""
        return machine_truncate(self, start, end, task)

    def __repr__(self):
        return (f"<AddressSpace {self.name!r} at {self.addr:#x}: {self.nrpages} pages, "
                f"{self.xa_nodes} XArray nodes>")


cdef class _RadixTreeNodeCtor:
    """radix_tree_node_ctor() (lib/radix-tree.c): the radix_tree_node cache's
    constructor, run on each object of a new slab."""
    cdef Machine machine

    def __call__(self, obj):
        cdef mc_ulong va = obj.address
        mc_xa_node_ctor(<xa_node *>mc_host(self.machine.m, va), va)

    def __repr__(self):
        return "radix_tree_node_ctor"


cdef int radix_tree_init(Machine machine) except -1:
    """radix_tree_init(): the radix_tree_node cache (object size
    sizeof(struct xa_node), SLAB_RECLAIM_ACCOUNT, its constructor).  The
    kernel makes it at boot; the model when the first address_space is made,
    so machines without a page cache keep their boot state."""
    cdef _RadixTreeNodeCtor ctor
    if machine.m.xa_node_cache:
        return 0
    _allow_view()
    ctor = _RadixTreeNodeCtor()
    ctor.machine = machine
    machine.m.xa_node_cache = kmem_cache_create(machine, "radix_tree_node", MC_SIZEOF_XA_NODE,
                                                0, ("SLAB_RECLAIM_ACCOUNT",), ctor, None)
    KC(machine.m, machine.m.xa_node_cache).refcount = -1      # SLAB_PANIC: never destroyed
    return 0


cdef object machine_address_space(Machine machine, name):
    cdef AddressSpace a
    cdef mc_ulong va
    cdef Task t = machine._running(None)
    if not isinstance(name, str):
        raise TypeError(f"an address_space name is a str, not {type(name).__name__}")
    a = machine._mappings.get(name)
    if a is not None:
        return a
    radix_tree_init(machine)
    machine.m.slub_pid = t.id + 1
    va = __kmalloc(machine.m, MC_SIZEOF_ADDRESS_SPACE, GFP_KERNEL, -1, t._t().cpu)
    if va == 0:
        raise OutOfMemory(f"no memory for the address_space {name!r}")
    memset(mc_host(machine.m, va), 0, MC_SIZEOF_ADDRESS_SPACE)      # kzalloc()
    _allow_view()
    a = AddressSpace()
    a.machine = machine
    a.name = name
    a.addr = va
    machine._mappings[name] = a
    return a


cdef inline mc_ulong _index_arg(object index, str what):
    return _int_arg(index, what, 0, (<object>1 << MC_BITS) - 1)


cdef object machine_add_folio(AddressSpace a, index, Folio fo, task):
    cdef Machine machine = a.machine
    cdef mc_machine *m = machine.m
    cdef Task t = machine._running(task)
    cdef mc_ulong idx = _index_arg(index, "index")
    if fo is None or fo.machine is not machine:
        raise ValueError("the folio belongs to another machine")
    cdef folio *f = fo._f()
    cdef unsigned long nr = folio_nr_pages(f)
    cdef int rc
    cdef const char *why = NULL
    if folio_ref_count(f) < 1:
        why = b"filemap_add_folio() of a frozen folio: the caller must hold a reference"
    elif test_bit(PG_locked, folio_flags(f, 0)):
        why = b"folio_set_locked() of a locked folio (filemap_add_folio() takes a new one)"
    elif mc_folio_mapping_word(f) != 0:
        why = b"the folio already has a mapping (page cache or anon)"
    elif test_bit(PG_swapbacked, folio_flags(f, 0)):
        why = b"VM_BUG_ON_FOLIO(folio_test_swapbacked(folio))"
    elif idx & (nr - 1):
        why = b"VM_BUG_ON_FOLIO(index & (folio_nr_pages(folio) - 1))"
    elif (<object>idx) + nr > (<object>1 << MC_BITS):
        why = b"the folio's last index is beyond ULONG_MAX"
    if why != NULL:
        set_err(m, MC_EINVAL, folio_pfn(m, f), why)
        machine._raise(MC_EINVAL)
    m.slub_pid = t.id + 1
    machine._bit_trylock(mc_folio_flags_va(m, f), folio_flags(f, 0), t)
    rc = filemap_add_folio(m, a.addr, f, idx, t._t().cpu)
    if rc:
        bit_unlock(m, mc_folio_flags_va(m, f), folio_flags(f, 0))
        machine._raise(rc)


cdef object machine_get_folio(AddressSpace a, index, task):
    cdef Machine machine = a.machine
    cdef mc_machine *m = machine.m
    cdef Task t = machine._running(task)
    cdef mc_ulong idx = _index_arg(index, "index")
    cdef xa_state xas
    cdef mc_ulong entry
    cdef folio *f
    machine_rcu_read_lock(machine, t)
    try:
        xas_init(&xas, mapping_i_pages(a.addr), idx, t._t().cpu)
        while True:
            xas.xa_node = XAS_RESTART                     # xas_reset()
            entry = xas_load(m, &xas)
            if xa_is_retry(entry):
                continue
            if not entry or xa_is_value(entry):
                return None
            if not pc_folio_ok(m, entry):
                raise VMBug(f"page cache: the entry for index {idx} of {a.name!r} is no live "
                            f"folio ({entry:#x}); Machine.check() says more")
            f = mc_va_to_folio(m, entry)
            if not folio_try_get(f):
                raise Deadlock(f"the folio at index {idx} of {a.name!r} is frozen (refcount "
                               f"0): filemap_get_entry() would retry until its freezer "
                               f"finishes, and no other task runs here")
            if entry != xas_reload(m, &xas):
                folio_put(m, f, t._t().cpu)
                continue
            return _make_folio(machine, entry)
    finally:
        machine_rcu_read_unlock(machine, t)


cdef object machine_remove_folio(AddressSpace a, Folio fo, task):
    cdef Machine machine = a.machine
    cdef mc_machine *m = machine.m
    cdef Task t = machine._running(task)
    if fo is None or fo.machine is not machine:
        raise ValueError("the folio belongs to another machine")
    cdef folio *f = fo._f()
    cdef const char *why = NULL
    if mc_folio_mapping_word(f) != a.addr:
        why = b"filemap_remove_folio() of a folio that is not in this address_space"
    elif not test_bit(PG_locked, folio_flags(f, 0)):
        why = b"VM_BUG_ON_FOLIO(!folio_test_locked(folio)) in page_cache_delete()"
    elif folio_ref_count(f) <= <int>folio_nr_pages(f):
        why = (b"filemap_remove_folio() with only the cache's references: the caller "
               b"must hold one (it would free a locked folio)")
    if why != NULL:
        set_err(m, MC_EINVAL, folio_pfn(m, f), why)
        machine._raise(MC_EINVAL)
    page_cache_delete(m, a.addr, f, t._t().cpu)
    filemap_free_folio(m, f, t._t().cpu)
    machine.rcu._kick()                      # the XArray's freed nodes wait for a GP


cdef int truncate_free_check(mc_machine *m, folio *f) noexcept nogil:
    """Would the folio pass the free path's checks once truncate() has erased
    it (mapping NULL), unlocked it and frozen it?  Checked on the folio as it
    will be, then put back: 0 or the error (m.err_msg says why)."""
    cdef mc_ulong *w = folio_flags(f, 0)
    cdef mc_ulong flags = w[0], mapping = mc_folio_mapping_word(f)
    cdef int count = folio_ref_count(f), rc
    mc_folio_set_mapping(f, 0)
    w[0] = flags & ~((<mc_ulong>1 << PG_locked) | (<mc_ulong>1 << PG_waiters))
    folio_set_count(f, 0)
    rc = free_pages_check(m, folio_page(m, f, 0), folio_order(f), 0, True)
    folio_set_count(f, count)
    w[0] = flags
    mc_folio_set_mapping(f, mapping)
    return rc


cdef object machine_truncate(AddressSpace a, start, end, task):
    cdef Machine machine = a.machine
    cdef mc_machine *m = machine.m
    cdef Task t = machine._running(task)
    cdef mc_ulong lo = _index_arg(start, "start")
    cdef object hi = _int_arg(end, "end", 0, <object>1 << MC_BITS)
    cdef list found = []
    cdef folio *f
    cdef int cpu = t._t().cpu, tid, rc
    cdef int nr
    if hi < lo:
        raise ValueError(f"truncate({start}, {end}): end is below start")
    # find the folios first (find_lock_entries()), and refuse before any change
    for idx, va in _entries_in(machine, a, lo, hi):
        f = mc_va_to_folio(m, va)
        if test_bit(PG_locked, folio_flags(f, 0)):
            tid = lock_owner(m, mc_folio_flags_va(m, f))
            who = ("itself" if tid == t.id else
                   f"task {machine._tasks[tid].name!r}" if tid >= 0 else "no task")
            raise Deadlock(f"the folio at index {idx} of {a.name!r} is locked by {who}: "
                           f"truncate would sleep on it")
        if folio_ref_count(f) == 0:
            raise Deadlock(f"the folio at index {idx} of {a.name!r} is frozen: truncate "
                           f"would wait for its freezer")
        if test_bit(PG_writeback, folio_flags(f, 0)):
            raise Deadlock(f"the folio at index {idx} of {a.name!r} is under writeback: "
                           f"truncate would wait for it (folio_wait_writeback())")
        if folio_ref_count(f) == <int>folio_nr_pages(f):       # it will be freed here
            rc = truncate_free_check(m, f)
            if rc:
                machine._raise(rc)
        found.append(va)
    pages = freed = 0
    for va in found:
        f = mc_va_to_folio(m, va)
        nr = <int>folio_nr_pages(f)
        folio_get(m, f)                                    # the lookup's reference
        machine._bit_trylock(mc_folio_flags_va(m, f), folio_flags(f, 0), t)
        pages += nr
        if folio_ref_freeze_marked(m, f, nr + 1):
            page_cache_delete(m, a.addr, f, cpu)
            bit_unlock(m, mc_folio_flags_va(m, f), folio_flags(f, 0))
            mc_folio_clear_lru_flags(f)                    # off the LRU, as reclaim isolates
            rc = free_frozen_folio(m, f, cpu)
            if rc < 0:
                machine._raise(rc)
            freed += 1
        else:
            page_cache_delete(m, a.addr, f, cpu)
            filemap_free_folio(m, f, cpu)
            bit_unlock(m, mc_folio_flags_va(m, f), folio_flags(f, 0))
            rc = folio_put(m, f, cpu)
            if rc < 0:
                machine._raise(rc)
    machine.rcu._kick()                      # the XArray's freed nodes wait for a GP
    return {"folios": len(found), "pages": pages, "freed": freed}


cdef list _entries_in(Machine machine, AddressSpace a, mc_ulong lo, object hi):
    """(index, folio address) of the folios with an index in [lo, hi)."""
    cdef list out = []
    cdef mc_ulong va
    cdef folio *f
    mapping_walk(machine.m, XA(machine.m, mapping_i_pages(a.addr)).xa_head, 0, 0, out)
    res = []
    for idx, va in out:
        f = mc_va_to_folio(machine.m, va)
        if idx + folio_nr_pages(f) > lo and idx < hi:
            res.append((idx, va))
    return res


cdef int check_page_cache(Machine machine) except -1:
    """Machine.check()'s page-cache part: every mapping's XArray."""
    cdef uint64_t pages
    cdef AddressSpace a
    for a in machine._mappings.values():
        if check_mapping(machine.m, a.addr, &pages):
            machine._raise(MC_EINVAL)
    return 0
