# The Python side of SLUB: creating and destroying caches (boot caches,
# kmalloc caches, kmem_cache_create), views (KmemCache, Slab, SlabObject),
# /proc/slabinfo, the Machine's SLUB API, and the slab part of Machine.check().
#
# Provides: the cache constructors, KmemCache/Slab/SlabObject, run_ctors and
#   ctor_hook, the Machine's SLUB API (machine_kmem_cache_*, machine_kmalloc,
#   machine_kfree*), check_slabs.
# Uses: slub.pxi, rcu.pxi, kasan_api.pxi (reports), errors.pxi, _table_entry
#   (layout.pxi).

from memcore.errors import KASANReport

# SLAB_* names accepted by kmem_cache_create(flags=...)
SLAB_FLAGS = {
    "SLAB_CONSISTENCY_CHECKS": MC_SLAB_CONSISTENCY_CHECKS,
    "SLAB_RED_ZONE": MC_SLAB_RED_ZONE,
    "SLAB_POISON": MC_SLAB_POISON,
    "SLAB_HWCACHE_ALIGN": MC_SLAB_HWCACHE_ALIGN,
    "SLAB_CACHE_DMA": MC_SLAB_CACHE_DMA,
    "SLAB_CACHE_DMA32": MC_SLAB_CACHE_DMA32,
    "SLAB_STORE_USER": MC_SLAB_STORE_USER,
    "SLAB_PANIC": MC_SLAB_PANIC,
    "SLAB_TYPESAFE_BY_RCU": MC_SLAB_TYPESAFE_BY_RCU,
    "SLAB_TRACE": MC_SLAB_TRACE,
    "SLAB_NOLEAKTRACE": MC_SLAB_NOLEAKTRACE,
    "SLAB_NO_MERGE": MC_SLAB_NO_MERGE,
    "SLAB_ACCOUNT": MC_SLAB_ACCOUNT,
    "SLAB_NO_USER_FLAGS": MC_SLAB_NO_USER_FLAGS,
    "SLAB_RECLAIM_ACCOUNT": MC_SLAB_RECLAIM_ACCOUNT,
}

# GFP names accepted where the API takes gfp=
GFP_FLAGS = {
    "GFP_KERNEL": GFP_KERNEL, "GFP_ATOMIC": GFP_ATOMIC, "GFP_USER": GFP_USER,
    "GFP_HIGHUSER": GFP_HIGHUSER, "GFP_HIGHUSER_MOVABLE": GFP_HIGHUSER_MOVABLE,
    "GFP_NOWAIT": __GFP_KSWAPD_RECLAIM, "__GFP_DMA": __GFP_DMA, "__GFP_DMA32": __GFP_DMA32,
    "__GFP_HIGHMEM": __GFP_HIGHMEM, "__GFP_MOVABLE": __GFP_MOVABLE,
    "__GFP_RECLAIMABLE": __GFP_RECLAIMABLE, "__GFP_HIGH": __GFP_HIGH, "__GFP_ZERO": __GFP_ZERO,
    "__GFP_ACCOUNT": __GFP_ACCOUNT, "__GFP_THISNODE": __GFP_THISNODE,
}

PERCPU_UNIT_SIZE = 32 * 1024


def parse_gfp(gfp):
    """GFP flags from an int or "GFP_KERNEL|__GFP_ZERO".  gfp_t is 32 bits, and
    __GFP_MOVABLE with __GFP_RECLAIMABLE names no migratetype (gfp_migratetype()
    VM_WARNs on it): both are refused here."""
    cdef object v
    if isinstance(gfp, int) and not isinstance(gfp, bool):
        if not 0 <= gfp < (<object>1 << 32):
            raise ValueError(f"gfp flags {gfp:#x} do not fit gfp_t (32-bit unsigned)")
        v = gfp
    elif not isinstance(gfp, str):
        raise TypeError(f"gfp must be an int or a string of GFP names, not {type(gfp).__name__}")
    else:
        v = 0
        for part in gfp.replace(" ", "").split("|"):
            if part not in GFP_FLAGS:
                raise UnknownChoice("gfp flag", part, GFP_FLAGS)
            v |= GFP_FLAGS[part]
    if v & GFP_MOVABLE_MASK == GFP_MOVABLE_MASK:
        raise ValueError(f"gfp {v:#x} has both __GFP_MOVABLE and __GFP_RECLAIMABLE: no "
                         f"migratetype (gfp_migratetype(): VM_WARN_ON)")
    return v


def parse_slab_flags(flags):
    """SLAB_* flags from an int, a name, or an iterable of names/ints."""
    if isinstance(flags, int) and not isinstance(flags, bool):
        return _slab_flags_checked(flags)
    if isinstance(flags, str):
        flags = flags.replace(" ", "").split("|") if flags else ()
    v = 0
    for f in flags:
        if isinstance(f, int) and not isinstance(f, bool):
            v |= f
        elif f in SLAB_FLAGS:
            v |= SLAB_FLAGS[f]
        else:
            raise UnknownChoice("slab flag", f, SLAB_FLAGS)
    return _slab_flags_checked(v)


def _slab_flags_checked(v):
    # slab_flags_t is a 32-bit unsigned int
    if not 0 <= v < (1 << 32):
        raise ValueError(f"slab flags {v:#x} do not fit slab_flags_t (32-bit unsigned)")
    return v


# ---- per-CPU area ---------------------------------------------------------------------

cdef class _PercpuArea:
    """First-fit allocator over the per-CPU units reserved at boot (a pcpu chunk)."""
    cdef list free                    # [offset, size] holes, sorted

    def __cinit__(self, uint64_t unit):
        self.free = [[0, unit]]

    cdef bint fits(self, uint64_t size, uint64_t align):
        """Would alloc(size, align) succeed?  (Changes nothing.)"""
        for off, sz in self.free:
            if (off + align - 1) // align * align + size <= off + sz:
                return True
        return False

    cdef uint64_t alloc(self, uint64_t size, uint64_t align) except? 0:
        for i, (off, sz) in enumerate(self.free):
            start = (off + align - 1) // align * align
            if start + size <= off + sz:
                rest = []
                if start > off:
                    rest.append([off, start - off])
                if start + size < off + sz:
                    rest.append([start + size, off + sz - start - size])
                self.free[i:i + 1] = rest
                return start
        raise OutOfMemory("pcpu_alloc: the per-CPU area is full (too many kmem_caches)")

    cdef dealloc(self, uint64_t off, uint64_t size):
        self.free.append([off, size])
        self.free.sort()
        merged = []
        for o, s in self.free:
            if merged and merged[len(merged) - 1][0] + merged[len(merged) - 1][1] == o:
                merged[len(merged) - 1][1] += s
            else:
                merged.append([o, s])
        self.free = merged


# ---- caches ---------------------------------------------------------------------------

cdef inline uint32_t kmem_cache_flags(const mc_machine *m, uint32_t flags) noexcept nogil:
    """kmem_cache_flags(): the slab_debug= flags join every cache's own, except
    SLAB_NO_USER_FLAGS caches' (and SLAB_NOLEAKTRACE ones get no SLAB_STORE_USER)."""
    cdef uint32_t debug = m.slub_debug
    if flags & MC_SLAB_NO_USER_FLAGS:
        return flags
    if flags & MC_SLAB_NOLEAKTRACE:
        debug &= ~MC_SLAB_STORE_USER
    return flags | debug


# slab_debug= option letters (parse_slub_debug_flags()) the model runs
SLAB_DEBUG_LETTERS = {"f": MC_SLAB_CONSISTENCY_CHECKS, "z": MC_SLAB_RED_ZONE,
                      "p": MC_SLAB_POISON, "u": MC_SLAB_STORE_USER}


def parse_slab_debug(value):
    """The slab_debug= boot option: None/False (off), True or "" (DEBUG_DEFAULT_FLAGS:
    FZPU), "-" (off) or option letters ("FZPU", any case).  Per-cache lists
    (",<cache>"), and the T, A and O options are not modeled."""
    if value is None or value is False:
        return 0
    if value is True:
        value = ""
    if not isinstance(value, str):
        raise TypeError(f"slab_debug must be None, a bool or a string of option letters, "
                        f"not {type(value).__name__}")
    if value == "":
        return MC_SLAB_CONSISTENCY_CHECKS | MC_SLAB_RED_ZONE | MC_SLAB_POISON | MC_SLAB_STORE_USER
    v = 0
    for ch in value.lower():
        if ch == "-":
            v = 0
        elif ch in SLAB_DEBUG_LETTERS:
            v |= SLAB_DEBUG_LETTERS[ch]
        else:
            raise UnknownChoice("slab_debug option", ch, "-" + "".join(SLAB_DEBUG_LETTERS).upper())
    return v


cdef int _fill_cache(Machine machine, kmem_cache *s, mc_slub_cache_args *args) except -1:
    """do_kmem_cache_create(): geometry from slub_sizing.h, random key, per-CPU part."""
    cdef mc_slub_config cfg
    cdef mc_kmem_cache_layout lay
    cdef int rc
    mc_slub_config_init(&cfg, MC_BITS // 8, machine.m.nr_cpus)
    args.flags = kmem_cache_flags(machine.m, args.flags)
    rc = mc_slub_create(&cfg, args, &lay)
    if rc:
        raise ValueError(_SLUB_ERRORS.get(rc, f"SLUB sizing error {rc}"))
    s.flags = lay.flags
    s.size = lay.size
    s.object_size = lay.object_size
    s.offset = lay.offset
    s.inuse = lay.inuse
    s.align = lay.align
    s.red_left_pad = lay.red_left_pad
    s.oo.x = lay.oo.x
    s.min.x = lay.min.x
    s.min_partial = lay.min_partial
    s.cpu_partial = lay.cpu_partial
    s.cpu_partial_slabs = lay.cpu_partial_slabs
    s.refcount = 1
    s.allocflags = __GFP_COMP
    if lay.flags & MC_SLAB_CACHE_DMA:
        s.allocflags |= __GFP_DMA
    if lay.flags & MC_SLAB_CACHE_DMA32:
        s.allocflags |= __GFP_DMA32
    if lay.flags & MC_SLAB_RECLAIM_ACCOUNT:
        s.allocflags |= __GFP_RECLAIMABLE
    if machine.m.freelist_hardened:
        s.random = <mc_ulong>get_random_u64(machine.m)
    return 0


_SLUB_ERRORS = {
    MC_SLUB_ERR_SIZE_ZERO: "kmem_cache_create: object size 0",
    MC_SLUB_ERR_TOO_BIG: f"kmem_cache_create: object size above KMALLOC_MAX_SIZE "
                         f"({MC_KMALLOC_MAX_SIZE >> 20} MiB)",
    MC_SLUB_ERR_ALIGN: "kmem_cache_create: align must be 0 or a power of two",
    MC_SLUB_ERR_FLAGS: "kmem_cache_create: flags outside SLAB_FLAGS_PERMITTED (-EINVAL)",
    MC_SLUB_ERR_FREEPTR: "kmem_cache_create: freeptr_offset must be a word-aligned offset "
                         "inside the object of a SLAB_TYPESAFE_BY_RCU cache",
    MC_SLUB_ERR_ORDER: "kmem_cache_create: no page order up to MAX_PAGE_ORDER holds one object",
}


cdef mc_ulong _alloc_from(Machine machine, mc_ulong cache_va, uint64_t size) except? 0:
    """A zeroed object from one of the model's own caches (kmem_cache, kmem_cache_node, kmalloc)."""
    cdef mc_ulong obj
    cdef kmem_cache *s
    if cache_va:
        s = KC(machine.m, cache_va)
        obj = slab_alloc_node(machine.m, s, GFP_KERNEL, -1, 0, s.object_size)
    else:
        obj = __kmalloc(machine.m, size, GFP_KERNEL, -1, 0)
    if obj == 0:
        machine._raise(machine.m.err or MC_ENOMEM)
    memset(mc_host(machine.m, obj), 0, size)
    return obj


cdef int _init_cache_percpu_nodes(Machine machine, kmem_cache *s, bint early) except -1:
    cdef mc_machine *m = machine.m
    cdef uint64_t off
    cdef int nid, cpu
    cdef kmem_cache_node *n
    cdef mc_ulong n_va
    cdef slab *sl
    cdef kmem_cache *kcn
    off = (<_PercpuArea>machine._percpu).alloc(sizeof(kmem_cache_cpu), 2 * sizeof(mc_ulong))
    s.cpu_slab = off
    for cpu in range(m.nr_cpus):
        memset(cpu_slab(m, s, cpu), 0, sizeof(kmem_cache_cpu))
        cpu_slab(m, s, cpu).tid = cpu
    for nid in range(m.nr_nodes):
        if early:
            # early_kmem_cache_node_alloc(): the node struct is the first object
            # of the cache's own first slab on that node
            kcn = s
            sl = allocate_slab(m, kcn, GFP_KERNEL, nid, 0)
            if sl == NULL:
                raise MemoryError("cannot allocate the first kmem_cache_node slab")
            n_va = sl.freelist
            sl.freelist = get_freepointer(m, kcn, n_va)
            sl.inuse = 1
            s.node[nid] = n_va
            if kmem_cache_debug(kcn):              # early_kmem_cache_node_alloc()
                init_object(m, kcn, n_va, SLUB_RED_ACTIVE)
                init_tracking(m, kcn, n_va)
            n = <kmem_cache_node *>mc_host(m, n_va)
            memset(n, 0, sizeof(kmem_cache_node))
            INIT_LIST_HEAD(&n.partial, mc_virt(m, &n.partial))
            INIT_LIST_HEAD(&n.full, mc_virt(m, &n.full))
            inc_slabs_node(m, kcn, nid, sl.objects)
            obj_mark(m, n_va, True)
            if m.kasan:
                kasan_unpoison(m, n_va, kcn.object_size)
            __add_partial(m, n, sl, DEACTIVATE_TO_HEAD)
        else:
            n_va = _alloc_from(machine, m.kmem_cache_node, sizeof(kmem_cache_node))
            n = <kmem_cache_node *>mc_host(m, n_va)
            INIT_LIST_HEAD(&n.partial, mc_virt(m, &n.partial))
            INIT_LIST_HEAD(&n.full, mc_virt(m, &n.full))
            s.node[nid] = n_va
    return 0


cdef int _init_random_seq(Machine machine, kmem_cache *s) except -1:
    """init_cache_random_seq(): a Fisher-Yates permutation of object offsets."""
    cdef unsigned int count = oo_objects(s.oo), i, j, tmp
    cdef unsigned int *seq
    if not machine.m.freelist_random or count < 2 or s.random_seq:
        return 0
    s.random_seq = _alloc_from(machine, 0, count * sizeof(unsigned int))
    seq = <unsigned int *>mc_host(machine.m, s.random_seq)
    for i in range(count):
        seq[i] = i
    i = count - 1
    while i > 0:
        j = get_random_u32_below(machine.m, i + 1)
        tmp = seq[i]
        seq[i] = seq[j]
        seq[j] = tmp
        i -= 1
    for i in range(count):
        seq[i] *= s.size
    return 0


cdef int slab_boot(Machine machine, uint64_t boot_pa) except -1:
    """kmem_cache_init(): the two boot caches, then the kmalloc caches."""
    cdef mc_machine *m = machine.m
    cdef mc_slub_cache_args args
    cdef kmem_cache *s
    cdef mc_ulong va
    cdef int t, idx, ci
    cdef size_t cs = MC_KMEM_CACHE_SIZE(m.nr_nodes)
    machine._percpu = _PercpuArea(m.percpu_unit)
    m.slub_pid = 0                                 # kmem_cache_init() runs in start_kernel(): pid 0
    # kmem_cache_node and kmem_cache live in boot memory (the kernel's __initdata
    # boot_kmem_cache*, which it later copies into slab objects)
    for which, name, objsize in ((0, "kmem_cache_node", sizeof(kmem_cache_node)),
                                 (1, "kmem_cache", cs)):
        va = mc_phys_to_virt(m, boot_pa + which * ((cs + 63) & ~63))
        s = KC(m, va)
        memset(s, 0, cs)
        memset(&args, 0, sizeof(args))
        args.object_size = objsize
        args.flags = MC_SLAB_HWCACHE_ALIGN | MC_SLAB_NO_OBJ_EXT
        args.boot_cache = 1
        _fill_cache(machine, s, &args)
        s.refcount = -1                            # create_boot_cache()
        if which == 0:
            m.kmem_cache_node = va
            _init_cache_percpu_nodes(machine, s, True)
        else:
            m.kmem_cache = va
            _init_cache_percpu_nodes(machine, s, False)
    # bootstrap(&boot_kmem_cache), then bootstrap(&boot_kmem_cache_node): each
    # list_add()s its cache to slab_caches in that order
    machine._register_cache("kmem_cache", m.kmem_cache)
    machine._register_cache("kmem_cache_node", m.kmem_cache_node)
    # the design's descriptor caches (none on classic): SLAB_TYPESAFE_BY_RCU,
    # 16-byte aligned (mc_desc_cache_args()); until the slab descriptor cache
    # exists, new slabs hold their own descriptors (allocate_slab())
    for ci in range(MC_NR_DESC_CACHES):
        memset(&args, 0, sizeof(args))
        mc_desc_cache_args(ci, &args)
        va = _alloc_from(machine, m.kmem_cache, cs)
        s = KC(m, va)
        _fill_cache(machine, s, &args)
        _init_cache_percpu_nodes(machine, s, False)
        s.refcount = -1                            # never destroyed
        m.desc_caches[ci] = va
        machine._register_cache(mc_desc_cache_names[ci].decode(), va)
    # create_kmalloc_caches()
    for t in range(MC_NR_KMALLOC_TYPES):
        for idx in range(1, MC_KMALLOC_NR_INDEX):
            if idx >= 3 or idx in (1, 2):
                if mc_kmalloc_cache_args(t, idx, &args):
                    continue
                name = mc_kmalloc_type_prefix(t).decode() + mc_kmalloc_short_name(idx).decode()
                va = _alloc_from(machine, m.kmem_cache, cs)
                s = KC(m, va)
                _fill_cache(machine, s, &args)
                _init_cache_percpu_nodes(machine, s, False)
                m.kmalloc_caches[t][idx] = va
                machine._register_cache(name, va)
    # init_freelist_randomization(): every cache created so far
    for name, va in list(machine._caches.items()):
        _init_random_seq(machine, KC(m, va))
    return 0


cdef mc_ulong kmem_cache_create(Machine machine, str name, size, align, flags, ctor,
                                freeptr_offset) except? 0:
    cdef mc_machine *m = machine.m
    cdef mc_slub_cache_args args
    cdef mc_ulong va
    cdef kmem_cache *s
    if not isinstance(name, str) or not name:
        raise ValueError("kmem_cache_create: a cache needs a name")
    if name in machine._caches:
        raise ValueError(f"kmem_cache_create: a cache named {name!r} exists already")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ValueError(f"kmem_cache_create: size must be a positive int, not {size!r}")
    if not isinstance(align, int) or isinstance(align, bool) or not 0 <= align < (1 << 32):
        raise ValueError(f"kmem_cache_create: align must be an unsigned int (0 .. 2**32 - 1), "
                         f"not {align!r}")
    if freeptr_offset is not None and (not isinstance(freeptr_offset, int) or
                                       isinstance(freeptr_offset, bool) or
                                       not 0 <= freeptr_offset < (1 << 32)):
        raise ValueError(f"kmem_cache_create: freeptr_offset must be an unsigned int "
                         f"(0 .. 2**32 - 1), not {freeptr_offset!r}")
    if ctor is not None and not callable(ctor):
        raise TypeError("kmem_cache_create: ctor must be callable")
    memset(&args, 0, sizeof(args))
    args.object_size = size if size < (1 << 32) else 0xffffffff
    args.align = align
    args.flags = parse_slab_flags(flags)
    args.has_ctor = ctor is not None
    if freeptr_offset is not None:
        args.use_freeptr_offset = 1
        args.freeptr_offset = freeptr_offset
    # check the geometry and the per-CPU space before touching the machine
    scratch = bytearray(MC_KMEM_CACHE_SIZE(m.nr_nodes))
    _fill_cache(machine, <kmem_cache *><char *>scratch, &args)
    if not (<_PercpuArea>machine._percpu).fits(sizeof(kmem_cache_cpu), 2 * sizeof(mc_ulong)):
        raise OutOfMemory(f"kmem_cache_create {name}: pcpu_alloc: the per-CPU area is full "
                          f"(too many kmem_caches)")
    m.slub_pid = (<Task>machine.current).id + 1
    va = _alloc_from(machine, m.kmem_cache, MC_KMEM_CACHE_SIZE(m.nr_nodes))
    s = KC(m, va)
    s.cpu_slab = <mc_ulong>-1                  # no per-CPU part yet (see _unwind_create)
    try:
        _fill_cache(machine, s, &args)
        s.cpu_slab = <mc_ulong>-1
        _init_cache_percpu_nodes(machine, s, False)
        _init_random_seq(machine, s)
    except BaseException:
        _unwind_create(machine, va)
        raise
    if ctor is not None:
        machine._ctors.append(ctor)
        s.ctor = len(machine._ctors)
    machine._register_cache(name, va)
    return va


cdef int _unwind_create(Machine machine, mc_ulong va) except -1:
    """kmem_cache_create() failed half way (an allocation after the checks): give
    back what it took, newest first (kmem_cache_release() of a partial cache)."""
    cdef mc_machine *m = machine.m
    cdef kmem_cache *s = KC(m, va)
    cdef int nid
    if s.random_seq:
        kfree(m, s.random_seq, 0)
    for nid in range(m.nr_nodes):
        if s.node[nid]:
            slab_free_checked(m, KC(m, m.kmem_cache_node), s.node[nid], 0)
    if s.cpu_slab != <mc_ulong>-1:
        (<_PercpuArea>machine._percpu).dealloc(s.cpu_slab, sizeof(kmem_cache_cpu))
    slab_free_checked(m, KC(m, m.kmem_cache), va, 0)
    machine.rcu._kick()
    return 0


cdef int run_ctors(Machine machine, mc_ulong slab_va_) except -1:
    """setup_object(): the constructor on every object of a new slab, before
    allocate_slab() puts the slab anywhere another allocation could find it."""
    cdef mc_machine *m = machine.m
    cdef int j
    cdef slab *sl = mc_va_to_slab(m, slab_va_)
    cdef kmem_cache *s = KC(m, sl.slab_cache)
    cdef mc_ulong base = slab_obj_base(m, s, sl), obj
    cdef bytes saved = b""
    ctor = _table_entry(machine._ctors, s.ctor - 1, "constructor index (kmem_cache.ctor - 1)")
    for j in range(sl.objects):
        # the objects are KASAN redzone until allocated: each object's shadow is
        # unpoisoned around the ctor call and put back as it was
        obj = base + j * s.size
        if m.kasan:
            saved = kasan_mem_to_shadow(m, obj)[:(s.object_size + 7) >> 3]
            kasan_unpoison(m, obj, s.object_size)
        try:
            ctor(_make_object(machine, obj, s.object_size, sl.slab_cache))
        finally:
            if m.kasan:
                memcpy(kasan_mem_to_shadow(m, obj), <const char *>saved, len(saved))
    return 0


cdef int ctor_hook(mc_machine *m, mc_ulong slab_va_) noexcept with gil:
    """mc_machine.ctor_hook: run_ctors() called from allocate_slab(); a raised
    exception is kept on the Machine for kmem_cache_alloc() to raise again."""
    cdef Machine machine = <Machine>m.ctor_ctx
    try:
        run_ctors(machine, slab_va_)
    except BaseException as e:
        machine._ctor_error = e
        return -1
    return 0


cdef inline uint32_t *obj_gen_slot(const mc_machine *m, mc_ulong addr) noexcept nogil:
    """The generation of the object (or kmem_cache) at a direct-map address; the
    generation of nothing for an address outside lowmem (no object is there)."""
    global _no_obj_gen
    if not mc_addr_in_direct_map(m, addr, 1):
        return &_no_obj_gen
    return &m.obj_gen[(addr - m.page_offset) >> 3]


cdef uint32_t _no_obj_gen = 0


cdef inline SlabObject _make_object(Machine machine, mc_ulong addr, uint64_t size, mc_ulong cache):
    cdef SlabObject o
    _allow_view()
    o = SlabObject.__new__(SlabObject)
    o.machine = machine
    o.addr = addr
    o.size = size
    o.cache = cache
    o.gen = obj_gen_slot(machine.m, addr)[0]
    return o


cdef inline SlabObject _new_object(Machine machine, mc_ulong addr, uint64_t size, mc_ulong cache):
    """The view of an object the API has just handed out: views of what was at
    its address before are stale from now on."""
    obj_gen_slot(machine.m, addr)[0] += 1
    return _make_object(machine, addr, size, cache)


cdef inline KmemCache _make_cache_view(Machine machine, mc_ulong va):
    cdef KmemCache c
    _allow_view()
    c = KmemCache.__new__(KmemCache)
    c.machine = machine
    c.addr = va
    c.gen = obj_gen_slot(machine.m, va)[0]
    return c


cdef inline Slab _make_slab(Machine machine, mc_ulong va):
    cdef Slab v
    _allow_view()
    v = Slab.__new__(Slab)
    v.machine = machine
    v.addr = va
    v.gen = machine.m.pfn_gen[slab_pfn(machine.m, mc_va_to_slab(machine.m, va))]
    return v


# ---- views ----------------------------------------------------------------------------

@cython.final
@cython.no_gc
@cython.auto_pickle(False)
cdef class KmemCache:
    """A struct kmem_cache, with the attribute names /sys/kernel/slab/<cache>/ uses."""
    cdef readonly Machine machine
    cdef mc_ulong addr
    cdef uint32_t gen                    # obj_gen of the struct when the view was made

    def __cinit__(self):
        _take_view_token("KmemCache")

    cdef inline kmem_cache *_s(self) except NULL:
        if obj_gen_slot(self.machine.m, self.addr)[0] != self.gen or \
                self.addr not in self.machine._cache_names:
            raise ValueError("this kmem_cache was destroyed (a stale KmemCache view)")
        return KC(self.machine.m, self.addr)

    @property
    def pointer(self):
        """The struct kmem_cache pointer (its modeled address)."""
        return Address(self.addr)

    @property
    def name(self):
        """kmem_cache.name: the name it was created with."""
        if obj_gen_slot(self.machine.m, self.addr)[0] != self.gen:
            return "<destroyed>"
        return self.machine._cache_names.get(self.addr, "<destroyed>")

    @property
    def object_size(self):
        """kmem_cache.object_size: the bytes the caller asked for."""
        return self._s().object_size

    @property
    def slab_size(self):
        """s->size: the stride of one object, metadata included."""
        return self._s().size

    @property
    def size(self):
        """kmem_cache.size: the object stride, metadata included (slabinfo's objsize)."""
        return self._s().size

    @property
    def align(self):
        """kmem_cache.align: the objects' alignment."""
        return self._s().align

    @property
    def offset(self):
        """Where the free pointer sits in a free object."""
        return self._s().offset

    @property
    def order(self):
        """oo_order(s->oo): the order of a slab of this cache."""
        return oo_order(self._s().oo)

    @property
    def objs_per_slab(self):
        """oo_objects(s->oo): objects per slab (slabinfo's objperslab)."""
        return oo_objects(self._s().oo)

    @property
    def min_partial(self):
        """kmem_cache.min_partial: empty slabs a node keeps on its partial list."""
        return self._s().min_partial

    @property
    def cpu_partial(self):
        """kmem_cache.cpu_partial: objects' worth of per-CPU partial slabs."""
        return self._s().cpu_partial

    @property
    def flags(self):
        """The SLAB_* names set on the cache."""
        cdef unsigned int f = self._s().flags
        return tuple(n for n, v in SLAB_FLAGS.items() if f & v)

    @property
    def destroy_by_rcu(self):
        """SLAB_TYPESAFE_BY_RCU: slabs go back to the buddy after a grace period."""
        return (self._s().flags & MC_SLAB_TYPESAFE_BY_RCU) != 0

    @property
    def hwcache_align(self):
        """SLAB_HWCACHE_ALIGN: objects aligned to a cache line."""
        return (self._s().flags & MC_SLAB_HWCACHE_ALIGN) != 0

    @property
    def reclaim_account(self):
        """SLAB_RECLAIM_ACCOUNT: slabs counted as reclaimable."""
        return (self._s().flags & MC_SLAB_RECLAIM_ACCOUNT) != 0

    @property
    def poison(self):
        """SLAB_POISON: free objects are poisoned (0x6b, 0xa5 at the end)."""
        return (self._s().flags & MC_SLAB_POISON) != 0

    @property
    def red_zone(self):
        """SLAB_RED_ZONE: red zones around each object."""
        return (self._s().flags & MC_SLAB_RED_ZONE) != 0

    @property
    def ctor(self):
        """The constructor passed to kmem_cache_create(), or None."""
        cdef kmem_cache *s = self._s()
        if not s.ctor:
            return None
        return _table_entry(self.machine._ctors, s.ctor - 1, "constructor index (kmem_cache.ctor - 1)")

    @property
    def slabs(self):
        """Slabs of the cache (sysfs "slabs")."""
        return sum(get_node(self.machine.m, self._s(), nid).nr_slabs
                   for nid in range(self.machine.m.nr_nodes))

    @property
    def total_objects(self):
        """Objects in all the cache's slabs (sysfs "total_objects")."""
        return cache_total_objects(self.machine.m, self._s())

    @property
    def partial(self):
        """Slabs on the nodes' partial lists (sysfs "partial")."""
        return sum(get_node(self.machine.m, self._s(), nid).nr_partial
                   for nid in range(self.machine.m.nr_nodes))

    @property
    def objects(self):
        """sysfs "objects": total objects minus the free ones on node partial slabs
        (objects free on CPU slabs count as in use, as in the kernel)."""
        cdef kmem_cache *s = self._s()
        return cache_total_objects(self.machine.m, s) - count_partial_free(self.machine.m, s)

    @property
    def objects_inuse(self):
        """Objects actually allocated (the model counts the CPU freelists too)."""
        return cache_objects_inuse(self.machine.m, self._s())

    def cpu_slab(self, cpu):
        """The CPU's active slab (a Slab view) or None."""
        cpu = _int_arg(cpu, "cpu", 0, self.machine.m.nr_cpus - 1)
        v = cpu_slab(self.machine.m, self._s(), cpu).slab
        return _make_slab(self.machine, v) if v else None

    def cpu_partial_slabs(self, cpu):
        """The slabs on the CPU's partial list, in list order."""
        cpu = _int_arg(cpu, "cpu", 0, self.machine.m.nr_cpus - 1)
        out = []
        v = cpu_slab(self.machine.m, self._s(), cpu).partial
        while v:
            out.append(_make_slab(self.machine, v))
            v = mc_va_to_slab(self.machine.m, v).next
        return out

    def node_partial_slabs(self, nid=0):
        """The slabs on the node's partial list, head first."""
        cdef mc_machine *m = self.machine.m
        cdef kmem_cache_node *n
        cdef int node = _int_arg(nid, "node", 0, m.nr_nodes - 1)
        n = get_node(m, self._s(), node)
        out = []
        head = mc_virt(m, &n.partial)
        v = n.partial.next
        while v != head:
            out.append(_make_slab(self.machine, v - SLAB_LIST_OFFSET))
            v = mc_list(m, v).next
        return out

    def alloc(self, gfp="GFP_KERNEL", node=None, task=None):
        """kmem_cache_alloc()."""
        return self.machine.kmem_cache_alloc(self, gfp=gfp, node=node, task=task)

    def __eq__(self, other):
        return isinstance(other, KmemCache) and (<KmemCache>other).addr == self.addr and \
            (<KmemCache>other).machine is self.machine

    def __hash__(self):
        return hash((id(self.machine), self.addr))

    def __repr__(self):
        return f"<KmemCache {self.name!r} object_size {self.object_size} slab_size {self.slab_size}>"


@cython.final
@cython.no_gc
@cython.auto_pickle(False)
cdef class Slab:
    """A struct slab (overlaying the struct page of the slab's first page)."""
    cdef readonly Machine machine
    cdef mc_ulong addr
    cdef uint32_t gen                    # pfn_gen of the slab's first PFN

    def __cinit__(self):
        _take_view_token("Slab")

    cdef inline slab *_sl(self) except NULL:
        if not mc_slab_desc_live(self.machine.m, self.addr):
            raise VMBug(f"{self.addr:#x} is no longer a slab (no page says it is theirs)")
        cdef slab *sl = mc_va_to_slab(self.machine.m, self.addr)
        if self.machine.m.pfn_gen[slab_pfn(self.machine.m, sl)] != self.gen:
            raise VMBug(f"stale Slab view: the slab at {self.addr:#x} was freed and its "
                        f"pages now hold another slab")
        return sl

    @property
    def pointer(self):
        """The struct slab pointer (its modeled address)."""
        return Address(self.addr)

    @property
    def pfn(self):
        """The PFN of the slab's first page."""
        return slab_pfn(self.machine.m, self._sl())

    @property
    def objects(self):
        """slab.objects: objects the slab holds."""
        return self._sl().objects

    @property
    def inuse(self):
        """slab.inuse: objects not on the slab's own freelist."""
        return self._sl().inuse

    @property
    def frozen(self):
        """slab.frozen: the slab is a CPU slab (its freelist belongs to a CPU)."""
        return self._sl().frozen

    @property
    def freelist(self):
        """The raw freelist pointer (first free object, or 0)."""
        return self._sl().freelist

    @property
    def counters(self):
        """slab.counters: the word holding inuse, objects and frozen."""
        return self._sl().counters

    @property
    def slab_cache(self):
        """slab.slab_cache: the cache the slab belongs to (a KmemCache)."""
        return _make_cache_view(self.machine, self._sl().slab_cache)

    @property
    def order(self):
        """slab_order(): the slab's order."""
        return slab_order(self._sl())

    @property
    def on_node_partial(self):
        """SL_partial (PG_workingset in the slab's flags)."""
        return test_bit(SL_partial, &self._sl().flags.f) != 0

    @property
    def memory(self):
        """slab_address(): the direct-map address of the first byte."""
        return slab_address(self.machine.m, self._sl())

    def free_objects(self):
        """Addresses on the slab's own freelist, in chain order."""
        cdef mc_machine *m = self.machine.m
        cdef slab *sl = self._sl()
        cdef kmem_cache *s = KC(m, sl.slab_cache)
        out = []
        v = sl.freelist
        while v and len(out) <= sl.objects:
            if not valid_object(m, s, sl, v):
                raise VMBug(f"freelist of slab {self.addr:#x} is corrupt at {v:#x}")
            out.append(v)
            v = get_freepointer(m, s, v)
        return out

    def dump(self):
        return dump_page(self.machine, slab_pfn(self.machine.m, self._sl()), None)

    def __eq__(self, other):
        return isinstance(other, Slab) and (<Slab>other).addr == self.addr and \
            (<Slab>other).machine is self.machine

    def __hash__(self):
        return hash((id(self.machine), self.addr))

    def __repr__(self):
        sl = self._sl()
        return (f"<Slab pfn {self.pfn:#x} of {self.slab_cache.name!r}: inuse {sl.inuse}/"
                f"{sl.objects}{' frozen' if sl.frozen else ''}>")


@cython.final
@cython.no_gc
@cython.auto_pickle(False)
cdef class SlabObject:
    """An object from kmem_cache_alloc() or kmalloc(): its address and its bytes.

    Accesses go to modeled memory; with Machine(kasan=True) they are checked
    like KASAN checks the kernel's (use-after-free, out-of-bounds)."""
    cdef readonly Machine machine
    cdef mc_ulong addr

    def __cinit__(self):
        _take_view_token("SlabObject")
    cdef readonly uint64_t size          # bytes asked for
    cdef mc_ulong cache                  # kmem_cache address, 0 for a large kmalloc
    cdef uint32_t gen                    # obj_gen of the address when handed out

    cdef int _live(self, bint access=False) except -1:
        """A view kept after its object was freed and the address handed out again
        names the new object: refuse it.  Reading or writing through it is
        legitimate in a SLAB_TYPESAFE_BY_RCU cache (the memory stays an object
        of the type); freeing through it never is."""
        if obj_gen_slot(self.machine.m, self.addr)[0] != self.gen:
            if access and self.cache and \
                    KC(self.machine.m, self.cache).flags & MC_SLAB_TYPESAFE_BY_RCU and \
                    self.cache in self.machine._cache_names:
                return 0
            raise VMBug(f"stale SlabObject view: the object at {self.addr:#x} was freed "
                        f"and the address handed out again")
        return 0

    @property
    def address(self):
        """The object's modeled (direct-map) address: what kmem_cache_alloc() returned."""
        return Address(self.addr)

    @property
    def kmem_cache(self):
        """The cache the object came from (a KmemCache; None for a large kmalloc)."""
        return _make_cache_view(self.machine, self.cache) if self.cache else None

    @property
    def slab(self):
        cdef slab *sl = virt_to_slab(self.machine.m, self.addr)
        return _make_slab(self.machine, mc_slab_va(self.machine.m, sl)) if sl else None

    cdef mc_ulong _at(self, offset) except? 0:
        """The address `offset` bytes into the object (checked: the caller's int)."""
        off = _int_arg(offset, "offset", 0, None)
        if self.addr + off >= (<object>1) << MC_BITS:
            raise InvalidAddress(f"offset {off:#x} from {self.addr:#x} leaves the "
                                 f"{MC_BITS}-bit address space")
        return self.addr + off

    def read(self, offset=0, size=None):
        """The bytes [offset, offset + size) of the object (default: to its end)."""
        self._live(True)
        cdef mc_ulong addr = self._at(offset)
        if size is None:
            size = self.size - offset if offset < self.size else 0
        return self.machine._mem_read(addr, _int_arg(size, "size", 0, (<object>1 << 64) - 1),
                                      "SlabObject.read")

    def write(self, offset, data):
        """Write bytes at offset into the object."""
        self._live(True)
        self.machine._mem_write(self._at(offset), _bytes_arg(data), "SlabObject.write")

    def free(self, task=None):
        """kmem_cache_free() / kfree() of this object."""
        self._live()
        if self.cache:
            self.machine.kmem_cache_free(_make_cache_view(self.machine, self.cache), self, task=task)
        else:
            self.machine.kfree(self, task=task)

    def __eq__(self, other):
        return isinstance(other, SlabObject) and (<SlabObject>other).addr == self.addr and \
            (<SlabObject>other).machine is self.machine

    def __hash__(self):
        return hash((id(self.machine), self.addr))

    def __repr__(self):
        where = self.kmem_cache.name if self.cache else "large kmalloc"
        return f"<SlabObject {self.addr:#x} ({self.size} bytes, {where})>"


# ---- the slab part of Machine.check() ------------------------------------------------

cdef int _check_descriptor_objects(Machine machine, kmem_cache *s, slabs) except -1:
    """Descriptors to pages: every allocated object of a descriptor cache is the
    descriptor its pages point at (pages to descriptors: check_memmap())."""
    cdef mc_machine *m = machine.m
    cdef int ci = -1, i
    cdef slab *sl
    cdef mc_ulong obj
    cdef unsigned int k
    cdef const char *why
    for i in range(MC_NR_DESC_CACHES):
        if m.desc_caches[i] == mc_virt(m, s):
            ci = i
    if ci < 0:
        return 0
    for sva in slabs:
        sl = mc_va_to_slab(m, sva)
        obj = slab_obj_base(m, s, sl)
        for k in range(sl.objects):
            if obj_allocated(m, obj):
                why = mc_desc_bad_reason(m, ci, obj)
                if why != NULL:
                    raise VMBug(f"{mc_desc_cache_names[ci].decode()}: descriptor {obj:#x}: "
                                f"{why.decode()}", _slab_dump(machine, sva))
            obj += s.size
    return 0


cdef int check_slabs(Machine machine) except -1:
    """Every slab of every cache: lists, freelists, counts, flags, counters."""
    cdef mc_machine *m = machine.m
    cdef kmem_cache *s
    cdef kmem_cache_cpu *c
    cdef kmem_cache_node *n
    cdef slab *sl
    cdef mc_ulong v, head, sva
    cdef long flen, clen, allocated, marked
    cdef int cpu, nid
    cdef uint64_t pfn
    pending = set()
    v = m.rcu_slabs
    while v:
        pending.add(v)
        v = mc_va_to_slab(m, v).callback_head.next
    for h in machine.rcu._pending_slab_heads():
        v = h
        while v:
            pending.add(v)
            v = mc_va_to_slab(m, v).callback_head.next
    by_cache = {}
    for sva in _slab_vas(machine):
        by_cache.setdefault(mc_va_to_slab(m, sva).slab_cache, []).append(sva)
    for cva in by_cache:
        if cva not in machine._cache_names:
            raise VMBug(f"slab {by_cache[cva][0]:#x} belongs to no known kmem_cache ({cva:#x})",
                        _slab_dump(machine, by_cache[cva][0]))
    for cva, name in machine._cache_names.items():
        s = KC(m, cva)
        slabs = set(by_cache.get(cva, ())) - pending
        cpu_slabs, cpu_partials, node_partials = {}, set(), set()
        for cpu in range(m.nr_cpus):
            c = cpu_slab(m, s, cpu)
            if c.slab:
                if c.slab not in slabs:
                    raise VMBug(f"{name}: CPU {cpu}'s slab {c.slab:#x} is not a live slab of it")
                cpu_slabs[c.slab] = cpu
            v = c.partial
            count = 0
            while v:
                if v not in slabs or v in cpu_partials:
                    raise VMBug(f"{name}: CPU {cpu}'s partial list holds {v:#x}, not a live "
                                f"slab of the cache (or twice)")
                cpu_partials.add(v)
                count += 1
                v = mc_va_to_slab(m, v).next
            if c.partial and mc_va_to_slab(m, c.partial).slabs != count:
                raise VMBug(f"{name}: CPU {cpu}'s partial list has {count} slabs, its head "
                            f"says {mc_va_to_slab(m, c.partial).slabs}")
        nr_slabs = 0
        total = 0
        for nid in range(m.nr_nodes):
            n = get_node(m, s, nid)
            head = mc_virt(m, &n.partial)
            v = n.partial.next
            prev = head
            count = 0
            while v != head:
                if mc_list(m, v).prev != prev:
                    raise VMBug(f"{name}: node {nid} partial list: prev pointer mismatch")
                sva = v - SLAB_LIST_OFFSET
                if sva not in slabs or sva in node_partials:
                    raise VMBug(f"{name}: node {nid} partial list holds {sva:#x}, not a live "
                                f"slab of the cache (or twice)")
                if slab_nid(mc_va_to_slab(m, sva)) != nid:
                    raise VMBug(f"{name}: slab {sva:#x} of node {slab_nid(mc_va_to_slab(m, sva))} "
                                f"is on node {nid}'s partial list")
                node_partials.add(sva)
                count += 1
                prev = v
                v = mc_list(m, v).next
            if count != n.nr_partial:
                raise VMBug(f"{name}: node {nid} nr_partial is {n.nr_partial}, the list holds "
                            f"{count}")
            nr_slabs += n.nr_slabs
            total += n.total_objects
        for sva in slabs:
            sl = mc_va_to_slab(m, sva)
            if sl.objects + slab_holds_own_descriptor(m, sl) not in (oo_objects(s.oo),
                                                                     oo_objects(s.min)):
                _slab_bug(machine, sva, f"{name}: slab {sva:#x} holds {sl.objects} objects")
            flen = freelist_length(m, s, sl, sl.freelist)
            if flen < 0:
                _slab_bug(machine, sva, f"{name}: slab {sva:#x}: freelist corrupt (leaves the "
                                        f"slab or loops)")
            partial_flag = test_bit(SL_partial, &sl.flags.f) != 0
            if partial_flag != (sva in node_partials):
                _slab_bug(machine, sva, f"{name}: slab {sva:#x}: SL_partial is {partial_flag} "
                                        f"but it is {'' if sva in node_partials else 'not '}on a "
                                        f"node partial list")
            if sva in cpu_slabs:
                c = cpu_slab(m, s, cpu_slabs[sva])
                clen = freelist_length(m, s, sl, c.freelist)
                if clen < 0:
                    _slab_bug(machine, sva, f"{name}: CPU {cpu_slabs[sva]} freelist corrupt")
                # Frozen at objects in use; remote frees (__slab_free on a slab another
                # CPU owns) push onto slab->freelist and drop inuse, so the two add up.
                if not sl.frozen or sl.inuse + flen != sl.objects:
                    _slab_bug(machine, sva, f"{name}: CPU slab {sva:#x} must be frozen with "
                                            f"inuse + slab->freelist == objects (frozen "
                                            f"{sl.frozen}, inuse {sl.inuse}, slab->freelist "
                                            f"{flen})")
                if clen + flen > sl.objects:
                    _slab_bug(machine, sva, f"{name}: CPU slab {sva:#x} has more free objects "
                                            f"than objects")
                allocated = sl.objects - flen - clen
            else:
                if sl.frozen:
                    _slab_bug(machine, sva, f"{name}: slab {sva:#x} is frozen but no CPU's slab")
                if sl.inuse + flen != sl.objects:
                    _slab_bug(machine, sva, f"{name}: slab {sva:#x}: inuse {sl.inuse} + free "
                                            f"{flen} != objects {sl.objects}")
                if sva not in node_partials and sva not in cpu_partials and flen:
                    _slab_bug(machine, sva, f"{name}: slab {sva:#x} has free objects but is on "
                                            f"no list (lost)")
                allocated = sl.inuse
            if sva in cpu_partials and (sl.frozen or partial_flag):
                _slab_bug(machine, sva, f"{name}: CPU partial slab {sva:#x} must be neither "
                                        f"frozen nor on a node list")
            # the allocation bits (double-free detection) agree with the freelists
            marked = objects_marked(m, s, sl)
            if marked != allocated:
                _slab_bug(machine, sva, f"{name}: slab {sva:#x}: {marked} objects marked "
                                        f"allocated, the freelists leave {allocated}")
        if nr_slabs != len(slabs):
            raise VMBug(f"{name}: node counters say {nr_slabs} slabs, memory holds {len(slabs)}")
        _check_descriptor_objects(machine, s, by_cache.get(cva, ()))
        if total != sum(mc_va_to_slab(m, x).objects for x in slabs):
            raise VMBug(f"{name}: node total_objects {total} does not match its slabs")
    return 0


cdef int _slab_bug(Machine machine, mc_ulong sva, str msg) except -1:
    """Raise VMBug about a slab with its dump_page() (made only when raising)."""
    raise VMBug(msg, _slab_dump(machine, sva))


cdef str _slab_dump(Machine machine, mc_ulong sva):
    return dump_page(machine, slab_pfn(machine.m, mc_va_to_slab(machine.m, sva)), None)


# ---- the Machine's SLUB API -----------------------------------------------------

cdef int machine_refuse_internal_cache(Machine machine, kmem_cache *s, str fn) except -1:
    cdef mc_ulong sva = mc_virt(machine.m, s)
    if sva == machine.m.kmem_cache or sva == machine.m.kmem_cache_node:
        raise InvalidAddress(f"{fn}({machine._cache_names.get(sva)}): the slab allocator's "
                             f"own caches are not the API's to allocate from or free to "
                             f"(kmem_cache_create() and kmem_cache_destroy() do it)")
    return 0


cdef object machine_kmem_cache_alloc(Machine machine, cache, gfp, node, task):
    cdef kmem_cache *s = machine._cache(cache)
    machine_refuse_internal_cache(machine, s, "kmem_cache_alloc")
    cdef Task t = machine._running(task)
    cdef unsigned int g = parse_gfp(gfp)
    cdef int nid = machine._node_arg(node)
    cdef mc_ulong obj
    machine.m.slub_pid = t.id + 1
    obj = slab_alloc_node(machine.m, s, g, nid, t._t().cpu, s.object_size)
    if obj == 0:
        machine._raise(machine.m.err or MC_ENOMEM)
    return _new_object(machine, obj, s.object_size, mc_virt(machine.m, s))


cdef object machine_kmem_cache_free(Machine machine, cache, obj, task):
    cdef kmem_cache *s = machine._cache(cache)
    cdef Task t = machine._running(task)
    cdef mc_ulong addr = machine._obj_addr(obj)
    machine_refuse_internal_cache(machine, s, "kmem_cache_free")
    machine_check_public_object(machine, addr, "kmem_cache_free")
    return machine_cache_free_checked(machine, s, addr, t)


cdef object machine_cache_free_checked(Machine machine, kmem_cache *s, mc_ulong addr, Task t):
    """kmem_cache_free() once the caller's checks passed (also for the internal caches)."""
    cdef int rc
    if machine._kfree_rcu_queued and addr in machine._kfree_rcu_queued:
        machine_refuse_rcu_queued(machine, "kmem_cache_free", addr)
    machine.m.slub_pid = t.id + 1
    rc = slab_free_checked(machine.m, s, addr, t._t().cpu)
    if rc:
        machine_raise_free(machine, rc, addr)
    machine.rcu._kick()


cdef object machine_kmalloc(Machine machine, size, gfp, node, task):
    cdef Task t = machine._running(task)
    cdef unsigned int g = parse_gfp(gfp)
    cdef int nid = machine._node_arg(node)
    cdef mc_ulong obj
    cdef slab *sl
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError(f"kmalloc size must be a non-negative int, not {size!r}")
    if size > MC_KMALLOC_MAX_SIZE:
        raise OutOfMemory(f"kmalloc({size}): above KMALLOC_MAX_SIZE ({MC_KMALLOC_MAX_SIZE})")
    machine.m.slub_pid = t.id + 1
    obj = __kmalloc(machine.m, size, g, nid, t._t().cpu)
    if obj == 0:
        machine._raise(machine.m.err or MC_ENOMEM)
    if obj == ZERO_SIZE_PTR:
        return ZERO_SIZE_PTR
    sl = virt_to_slab(machine.m, obj)
    return _new_object(machine, obj, size, sl.slab_cache if sl else 0)


cdef object machine_kfree(Machine machine, obj, task):
    cdef Task t = machine._running(task)
    cdef mc_ulong addr = machine._obj_addr(obj) if obj is not None else 0
    cdef int rc
    machine_check_public_object(machine, addr, "kfree")
    if machine._kfree_rcu_queued and addr in machine._kfree_rcu_queued:
        machine_refuse_rcu_queued(machine, "kfree", addr)
    machine.m.slub_pid = t.id + 1
    rc = kfree(machine.m, addr, t._t().cpu)
    if rc:
        machine_raise_free(machine, rc, addr)
    machine.rcu._kick()


cdef int machine_refuse_rcu_queued(Machine machine, str fn, mc_ulong addr) except -1:
    # DEBUG_OBJECTS_RCU_HEAD: the object's rcu_head is still queued
    raise VMBug(f"{fn}({addr:#x}): the object is queued by kfree_rcu() and will be "
                f"freed after a grace period (ODEBUG: free active (active state 1) "
                f"object type: rcu_head)")


cdef int machine_raise_free(Machine machine, int rc, mc_ulong addr) except -1:
    if machine.kasan and rc in (MC_EDOUBLEFREE, MC_EINVALFREE) and \
            mc_addr_in_direct_map(machine.m, addr, 1):
        kind = "double-free" if rc == MC_EDOUBLEFREE else "invalid-free"
        text = machine_kasan_free_report(machine, addr, kind)
        machine.m.err = 0
        raise KASANReport(f"KASAN: {kind} of {addr:#x}", text, kind)
    return machine._raise(rc)


cdef object machine_kfree_rcu(Machine machine, obj):
    cdef mc_ulong addr = machine._obj_addr(obj) if obj is not None else 0
    cdef int rc
    cdef page *head
    cdef slab *sl
    cdef Task t = machine._running(None)
    if addr <= ZERO_SIZE_PTR:
        return                                  # kvfree_call_rcu(NULL) does nothing
    machine_check_public_object(machine, addr, "kfree_rcu")
    if addr in machine._kfree_rcu_queued:
        raise VMBug(f"kfree_rcu: {addr:#x} is already queued for kfree() by kfree_rcu()")
    rc = kfree_check(machine.m, addr, &head, &sl)
    if rc:
        machine_raise_free(machine, rc, addr)
    machine._kfree_rcu_queued.add(addr)
    _allow_view()
    d = _DeferredKfree(machine, addr, t._t().cpu)
    machine.rcu._queue(d)


cdef long _kfree_rcu_queued_in(Machine machine, mc_ulong cache_va):
    """Objects of the cache at cache_va that kfree_rcu() has queued."""
    cdef slab *sl
    cdef long n = 0
    for addr in machine._kfree_rcu_queued:
        sl = virt_to_slab(machine.m, addr)
        if sl != NULL and sl.slab_cache == cache_va:
            n += 1
    return n


cdef object machine_kmem_cache_destroy(Machine machine, cache):
    cdef kmem_cache *s = machine._cache(cache)
    cdef mc_ulong va = mc_virt(machine.m, s)
    cdef int nid
    name = machine._cache_names[va]
    if s.refcount < 0 or va in [machine.m.kmalloc_caches[t][i] for t in range(MC_NR_KMALLOC_TYPES)
                                 for i in range(MC_KMALLOC_NR_INDEX)]:
        raise ValueError(f"kmem_cache_destroy: {name} is a boot cache")
    machine._running(None)
    # Objects of the cache that stay in use once every kfree_rcu() has run: the
    # kernel runs kvfree_rcu_barrier() first and then WARNs; the model refuses
    # before the barrier, so a refused destroy changes nothing.
    live = _make_cache_view(machine, va).objects_inuse - _kfree_rcu_queued_in(machine, va)
    if live:
        raise VMBug(f"kmem_cache_destroy {name}: Slab cache still has objects "
                    f"({live} objects in use)")
    # kvfree_rcu_barrier(): in-flight kfree_rcu()s may hold objects of this cache;
    # a reader that holds their grace period back means waiting forever
    if machine._kfree_rcu_queued:
        if any((<Task>t)._t().rcu_nesting for t in machine._tasks):
            raise Deadlock(f"kmem_cache_destroy {name}: kvfree_rcu_barrier() would wait "
                           f"for tasks inside RCU read-side critical sections "
                           f"({len(machine._kfree_rcu_queued)} kfree_rcu() pending)")
        machine.rcu.barrier()
    typesafe = s.flags & MC_SLAB_TYPESAFE_BY_RCU
    # every slab left is empty and __kmem_cache_shutdown() will free it through
    # RCU; rcu_barrier() then waits for a GP that any reader holds back
    if typesafe and any((<Task>t)._t().rcu_nesting for t in machine._tasks) and (
            machine.m.rcu_slabs or machine.rcu.pending or
            any(get_node(machine.m, s, nid).nr_slabs for nid in range(machine.m.nr_nodes))):
        raise Deadlock(f"kmem_cache_destroy {name}: rcu_barrier() would wait for tasks "
                       f"inside RCU read-side critical sections")
    # __kmem_cache_shutdown(): flush every CPU, free the (all empty) partial slabs
    machine_flush_and_shrink(machine, s)
    if typesafe:
        if not machine.rcu.barrier():             # rcu_free_slab() of those slabs
            raise VMBug(f"kmem_cache_destroy {name}: rcu_barrier() left work pending "
                        f"after the reader check (model bug)")
    # kmem_cache_release(): per-CPU part, nodes, random_seq, the struct itself
    (<_PercpuArea>machine._percpu).dealloc(s.cpu_slab, sizeof(kmem_cache_cpu))
    t = machine._running(None)
    for nid in range(machine.m.nr_nodes):
        machine_cache_free_checked(machine, KC(machine.m, machine.m.kmem_cache_node), s.node[nid], t)
    if s.random_seq:
        machine_random_seqs(machine).pop(s.random_seq, None)
        machine.kfree(s.random_seq)
    kimage_cache_removed(machine, va)            # list_del(&s->list)
    del machine._caches[name]
    del machine._cache_names[va]
    machine_cache_free_checked(machine, KC(machine.m, machine.m.kmem_cache), va, t)


cdef object machine_kmem_cache_shrink(Machine machine, cache):
    cdef kmem_cache *s = machine._cache(cache)
    machine._running(None)
    # every slab freed counts: the empty ones flush_cpu_slab()/__put_partials()
    # discard (node already holds min_partial) and the empty partial slabs
    before = sum(get_node(machine.m, s, nid).nr_slabs for nid in range(machine.m.nr_nodes))
    machine_flush_and_shrink(machine, s)
    machine.rcu._kick()
    return before - sum(get_node(machine.m, s, nid).nr_slabs for nid in range(machine.m.nr_nodes))


cdef int machine_flush_and_shrink(Machine machine, kmem_cache *s) except -1:
    if kmem_cache_flush_and_shrink(machine.m, s):
        machine._raise(MC_ECORRUPT)
    return 0


cdef object machine_slabinfo(Machine machine):
    lines = ["slabinfo - version: 2.1",
             "# name            <active_objs> <num_objs> <objsize> <objperslab> "
             "<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata "
             "<active_slabs> <num_slabs> <sharedavail>"]
    for c in machine.caches():
        num_objs = c.total_objects
        active = num_objs - count_partial_free(machine.m, (<KmemCache>c)._s())
        slabs = c.slabs
        lines.append(f"{c.name:<17} {active:6d} {num_objs:6d} {c.slab_size:6d} "
                     f"{c.objs_per_slab:4d} {1 << c.order:4d} : tunables {0:4d} {0:4d} "
                     f"{0:4d} : slabdata {slabs:6d} {slabs:6d} {0:6d}")
    return "\n".join(lines) + "\n"


# ---- S8: slab-backed page-cache folios ---------------------------------------------------

cdef class FolioSlab:
    """A slab cache of page-sized objects that lends its pages to the page cache
    as order-0 file folios (claim S8 of the 2021 thread):
    ``sc = m.folio_slab_create(name, order=3)``; ``f = sc.alloc_folio()`` re-points
    one page of an order-``order`` slab at a new folio descriptor and stashes the
    slab in the folio (``f.backing_slab``); ``f.put()`` gives the page back to the
    slab and restores its slab memdesc; the slab's pages go back to the page
    allocator when none of them is lent."""
    cdef readonly Machine machine
    cdef readonly object cache          # its KmemCache

    def __cinit__(self):
        _take_view_token("FolioSlab")

    def alloc_folio(self, task=None):
        """An order-0 file folio made of one page of this slab (refcount 1)."""
        cdef Machine machine = self.machine
        cdef Task t = machine._running(task)
        cdef folio *f
        machine._ready()
        if (<KmemCache>self.cache).addr not in machine._cache_names:
            raise VMBug(f"folio slab {self.cache.name!r}: its cache was destroyed")
        f = folio_slab_alloc(machine.m, machine._cache(self.cache), t._t().cpu)
        if f == NULL:
            machine._raise(machine.m.err or MC_ENOMEM)
        return _make_folio(machine, mc_folio_va(machine.m, f))

    @property
    def name(self):
        """The name of the cache that lends its pages."""
        return self.cache.name

    @property
    def order(self):
        """The order of its slabs (pages per slab: 1 << order)."""
        return self.cache.order

    def __repr__(self):
        return f"<FolioSlab {self.cache.name!r} order {self.cache.order}>"


cdef object machine_folio_slab_create(Machine machine, name, order):
    """m.folio_slab_create(): a cache of PAGE_SIZE objects, PAGE_SIZE aligned,
    whose slabs have the given order (what writing /sys/kernel/slab/<name>/order
    does: the slab geometry is recomputed for that order)."""
    cdef kmem_cache *s
    cdef mc_ulong va
    cdef FolioSlab fs
    if not MC_FOLIO_SLABS:
        raise NotSupported(f"folio_slab_create: slab-backed page-cache folios (claim S8) are "
                           f"not supported by this design ({MC_DESIGN_NAME.decode()}): its slab "
                           f"is one compound page whose head struct page is the slab, so no "
                           f"page of it can become a folio; the memdesc designs (interim, "
                           f"flags_memdesc, memdesc) support it")
    if isinstance(order, bool) or not isinstance(order, int):
        raise TypeError(f"order must be an int, not {type(order).__name__}")
    if not 0 <= order <= MC_SLUB_COSTLY_ORDER:
        raise OrderOutOfRange(f"folio slab order {order} is outside 0..{MC_SLUB_COSTLY_ORDER} "
                              f"(slab_max_order, PAGE_ALLOC_COSTLY_ORDER)")
    va = kmem_cache_create(machine, name, PAGE_SIZE, PAGE_SIZE, (), None, None)
    s = KC(machine.m, va)
    if oo_order(s.oo) != <unsigned int>order:
        # order_store(): the new order for oo and min alike; the random freelist
        # permutation is redone for the new object count
        s.oo.x = (<uint32_t>order << 16) | (<uint32_t>(PAGE_SIZE << order) // s.size)
        s.min.x = s.oo.x
        if s.random_seq:
            machine_random_seqs(machine).pop(s.random_seq, None)
            kfree(machine.m, s.random_seq, 0)
            s.random_seq = 0
            _init_random_seq(machine, s)
            machine._random_seqs = None
    _allow_view()
    fs = FolioSlab.__new__(FolioSlab)
    fs.machine = machine
    fs.cache = _make_cache_view(machine, va)
    return fs
