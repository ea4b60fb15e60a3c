# SLUB (mm/slub.c, Linux 6.18) running on the model.
#
# Slab pages come from the model's page allocator (frozen, compound,
# PGTY_slab); struct slab describes them (the design says where it lives:
# over the first struct page in the classic design); objects are real
# bytes of modeled RAM linked through (hardened) free pointers.  Per CPU:
# kmem_cache_cpu with the active slab (the only frozen slab) and a list of
# partial slabs; per node: kmem_cache_node with the partial list (slabs on
# it carry SL_partial = PG_workingset).  Paths follow the kernel:
# slab_alloc_node/___slab_alloc, do_slab_free/__slab_free, put_cpu_partial,
# deactivate_slab, discard_slab -> free_slab (RCU for SLAB_TYPESAFE_BY_RCU).
#
# Debug caches run the kernel's SLUB_DEBUG code (init_object, check_object,
# padding checks, orig_size, struct track; checks only with
# SLAB_CONSISTENCY_CHECKS) through the same per-CPU paths, without per-CPU
# partial slabs (the kernel serializes them on the node list instead).
#
# Not modeled: the 6.18 per-CPU sheaves (opt-in, used by vm_area_struct and
# maple_node only), kmalloc_nolock, memcg accounting, the KASAN quarantine.
#
# Provides: allocate_slab, slab_alloc_node, slab_free(_checked), __kmalloc,
#   kfree(_check), flush_cpu_slab, discard_slab, the cache walks.
# Uses: page_alloc.pxi (slab pages), kasan.pxi, errors.pxi, the design's
#   page <-> slab accessors, mc_machine.ctor_hook (constructors).

# slab->flags bits (enum slab_flags, 6.18): they alias page flags
cdef enum:
    SL_locked = PG_locked
    SL_partial = PG_workingset       # on a node partial list
    SL_pfmemalloc = PG_active

cdef enum:
    DEACTIVATE_TO_HEAD, DEACTIVATE_TO_TAIL

cdef extern from "memcore/gfp.h" nogil:
    unsigned int GFP_NOWAIT, __GFP_NOWARN

from libc.string cimport strlen


# ---- the model's get_random_*() ---------------------------------------------------

cdef inline uint64_t get_random_u64(mc_machine *m) noexcept nogil:
    """splitmix64: deterministic for a given Machine seed."""
    cdef uint64_t z
    m.rng += <uint64_t>0x9E3779B97F4A7C15
    z = m.rng
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline unsigned int get_random_u32_below(mc_machine *m, unsigned int ceil) noexcept nogil:
    return <unsigned int>((get_random_u64(m) >> 32) * ceil >> 32)


# ---- accessors ------------------------------------------------------------------------

cdef inline kmem_cache *KC(const mc_machine *m, mc_ulong s_va) noexcept nogil:
    return <kmem_cache *>mc_host(m, s_va)


cdef inline kmem_cache_cpu *cpu_slab(const mc_machine *m, const kmem_cache *s,
                                     int cpu) noexcept nogil:
    return <kmem_cache_cpu *>mc_host(m, m.percpu_base + <mc_ulong>cpu * m.percpu_unit + s.cpu_slab)


cdef inline kmem_cache_node *get_node(const mc_machine *m, const kmem_cache *s,
                                      int nid) noexcept nogil:
    return <kmem_cache_node *>mc_host(m, s.node[nid])








cdef inline mc_ulong slab_address(const mc_machine *m, const slab *sl) noexcept nogil:
    """folio_address(): the direct-map address of the slab's memory."""
    return mc_phys_to_virt(m, slab_pfn(m, sl) << PAGE_SHIFT)


cdef inline bint slab_holds_own_descriptor(const mc_machine *m, const slab *sl) noexcept nogil:
    """Is the slab's descriptor in the slab's first object slot (on-slab, see
    allocate_slab())?  Never on classic, where it is the head struct page."""
    return mc_slab_va(m, sl) - slab_address(m, sl) < (<mc_ulong>MC_PAGE_SIZE << slab_order(sl))


cdef inline mc_ulong slab_obj_base(const mc_machine *m, const kmem_cache *s,
                                   const slab *sl) noexcept nogil:
    """The first object of the slab: past its left red zone, and past its own
    descriptor when it holds it."""
    cdef mc_ulong base = slab_address(m, sl) + s.red_left_pad
    if slab_holds_own_descriptor(m, sl):
        base += s.size
    return base


cdef inline slab *slab_of_list(const mc_machine *m, mc_ulong link_va) noexcept nogil:
    return mc_va_to_slab(m, link_va - SLAB_LIST_OFFSET)






cdef inline bint kmem_cache_debug(const kmem_cache *s) noexcept nogil:
    return (s.flags & MC_SLAB_DEBUG_FLAGS) != 0


cdef inline bint kmem_cache_has_cpu_partial(const kmem_cache *s) noexcept nogil:
    return not kmem_cache_debug(s)


cdef inline mc_ulong *freepointer_slot(const mc_machine *m, mc_ulong ptr_addr) noexcept nogil:
    """Host address of a free pointer: objects are in the direct map, never in the
    memmap, so this is mc_host() without its memmap test (the fast paths' chain
    from one free object to the next goes through it)."""
    return <mc_ulong *>(m.phys + mc_virt_to_phys(m, ptr_addr))


cdef inline mc_ulong get_freepointer(const mc_machine *m, const kmem_cache *s,
                                     mc_ulong obj) noexcept nogil:
    cdef mc_ulong ptr_addr = obj + s.offset
    cdef mc_ulong v = freepointer_slot(m, ptr_addr)[0]
    if m.freelist_hardened:
        return freelist_ptr_decode(s, v, ptr_addr)
    return v


cdef inline void set_freepointer(const mc_machine *m, const kmem_cache *s, mc_ulong obj,
                                 mc_ulong fp) noexcept nogil:
    cdef mc_ulong ptr_addr = obj + s.offset
    if m.freelist_hardened:
        fp = freelist_ptr_encode(s, fp, ptr_addr)
    freepointer_slot(m, ptr_addr)[0] = fp


cdef inline bint in_slab(const mc_machine *m, const kmem_cache *s, const slab *sl,
                         mc_ulong obj) noexcept nogil:
    """The fast paths' guard: NULL, or inside the slab's objects (so that following
    a corrupted free pointer can never leave modeled memory).  Alignment to an
    object start is checked by valid_object(), on frees and in Machine.check()."""
    cdef mc_ulong base
    if obj == 0:
        return True
    base = slab_obj_base(m, s, sl)
    return base <= obj < base + <mc_ulong>sl.objects * s.size


cdef inline bint valid_object(const mc_machine *m, const kmem_cache *s, const slab *sl,
                              mc_ulong obj) noexcept nogil:
    """check_valid_pointer(): an object start of this slab (or NULL)."""
    cdef mc_ulong base
    if obj == 0:
        return True
    base = slab_obj_base(m, s, sl)
    if obj < base or obj >= base + <mc_ulong>sl.objects * s.size:
        return False
    return (obj - base) % s.size == 0


cdef inline int freelist_corrupt(mc_machine *m, const kmem_cache *s, const slab *sl,
                                 mc_ulong bad) noexcept nogil:
    m.err = MC_ECORRUPT
    m.err_pfn = <int64_t>slab_pfn(m, sl)
    snprintf(m.err_msg, sizeof(m.err_msg),
             b"Freepointer corrupt: next %#lx is not an object of this slab "
             b"(double free, or a write after free)", <unsigned long>bad)
    return MC_ECORRUPT


# ---- which objects are allocated -------------------------------------------------
# The model keeps one bit per 8 bytes of lowmem (lazily mapped, like RAM) so
# that every double or invalid free is refused before it can corrupt a
# freelist.  The kernel without KASAN catches only the immediate one
# (BUG_ON(object == fp)); the model's extra knowledge never changes what a
# valid program sees.

cdef inline uint64_t obj_bit(const mc_machine *m, mc_ulong obj) noexcept nogil:
    return (obj - m.page_offset) >> 3


cdef inline void obj_mark(const mc_machine *m, mc_ulong obj, bint allocated) noexcept nogil:
    cdef uint64_t b = obj_bit(m, obj)
    if allocated:
        m.obj_bitmap[b >> 3] |= <unsigned char>(1 << (b & 7))
    else:
        m.obj_bitmap[b >> 3] &= <unsigned char>~(1 << (b & 7))


cdef inline bint obj_allocated(const mc_machine *m, mc_ulong obj) noexcept nogil:
    cdef uint64_t b = obj_bit(m, obj)
    return (m.obj_bitmap[b >> 3] >> (b & 7)) & 1


cdef uint64_t kasan_get_alloc_size(const mc_machine *m, const kmem_cache *s,
                                   mc_ulong obj) noexcept nogil:
    """kasan_get_alloc_size() (generic mode): accessible bytes from the start of the
    object by its shadow, up to object_size; 0 when the first granule is poisoned."""
    cdef uint64_t size = 0
    cdef unsigned char sh
    if not m.kasan or mc_virt_to_phys(m, obj) >> PAGE_SHIFT >= m.lowmem_pfns:
        return 0
    while size < s.object_size:
        sh = kasan_mem_to_shadow(m, obj + size)[0]
        if sh == 0:
            size += 8
        elif sh < 8:
            return size + sh
        else:
            return size
    return s.object_size


# ---- node partial lists --------------------------------------------------------------

cdef inline void __add_partial(const mc_machine *m, kmem_cache_node *n, slab *sl,
                               int tail) noexcept nogil:
    n.nr_partial += 1
    if tail == DEACTIVATE_TO_TAIL:
        list_add_tail(m, &sl.slab_list, mc_slab_va(m, sl) + SLAB_LIST_OFFSET,
                      &n.partial, mc_virt(m, &n.partial))
    else:
        list_add(m, &sl.slab_list, mc_slab_va(m, sl) + SLAB_LIST_OFFSET,
                 &n.partial, mc_virt(m, &n.partial))
    __set_bit(SL_partial, &sl.flags.f)


cdef inline void add_partial(const mc_machine *m, kmem_cache_node *n, slab *sl,
                             int tail) noexcept nogil:
    __add_partial(m, n, sl, tail)


cdef inline void remove_partial(const mc_machine *m, kmem_cache_node *n, slab *sl) noexcept nogil:
    list_del(m, &sl.slab_list)
    __clear_bit(SL_partial, &sl.flags.f)
    n.nr_partial -= 1


cdef inline void inc_slabs_node(const mc_machine *m, const kmem_cache *s, int nid,
                                int objects) noexcept nogil:
    cdef kmem_cache_node *n = get_node(m, s, nid)
    n.nr_slabs += 1
    n.total_objects += objects


cdef inline void dec_slabs_node(const mc_machine *m, const kmem_cache *s, int nid,
                                int objects) noexcept nogil:
    cdef kmem_cache_node *n = get_node(m, s, nid)
    n.nr_slabs -= 1
    n.total_objects -= objects


# ---- debug (SLAB_CONSISTENCY_CHECKS, SLAB_RED_ZONE, SLAB_POISON, SLAB_STORE_USER) -----
# mm/slub.c's CONFIG_SLUB_DEBUG code: init_object(), check_bytes_and_report(),
# check_pad_bytes(), slab_pad_check(), check_object(), check_slab(), struct
# track and the kmalloc original size.  Reports go into m.err_msg in the
# kernel's words, one line each, the first object report followed by its
# print_tracking() lines.

cdef extern from "memcore/slub.h" nogil:
    ctypedef struct track "struct track":
        mc_ulong addr
        uint32_t handle
        int cpu
        int pid
        mc_ulong when
    enum: TRACK_ALLOC, TRACK_FREE
    ctypedef mc_ulong mc_orig_size_t
    mc_ulong MC_TEXT_KMEM_CACHE_ALLOC, MC_TEXT_KMALLOC, MC_TEXT_KMEM_CACHE_FREE, MC_TEXT_KFREE


cdef inline bint freeptr_outside_object(const kmem_cache *s) noexcept nogil:
    return s.offset >= s.inuse


cdef inline unsigned int get_info_end(const kmem_cache *s) noexcept nogil:
    """The end of the object's info: inuse, plus the free pointer kept behind it."""
    if freeptr_outside_object(s):
        return s.inuse + sizeof(mc_ulong)
    return s.inuse


cdef inline bint slub_debug_orig_size(const kmem_cache *s) noexcept nogil:
    return (s.flags & MC_SLAB_STORE_USER) != 0 and (s.flags & MC_SLAB_KMALLOC) != 0


cdef inline track *get_track(const mc_machine *m, const kmem_cache *s, mc_ulong obj,
                             int alloc) noexcept nogil:
    return (<track *>mc_host(m, obj + get_info_end(s))) + alloc


cdef inline void init_tracking(const mc_machine *m, const kmem_cache *s, mc_ulong obj) noexcept nogil:
    if s.flags & MC_SLAB_STORE_USER:
        memset(get_track(m, s, obj, TRACK_ALLOC), 0, 2 * sizeof(track))


cdef inline void set_track(mc_machine *m, const kmem_cache *s, mc_ulong obj, int alloc,
                           mc_ulong addr, int cpu) noexcept nogil:
    """set_track_update(): caller, CPU, pid and jiffies (no stack: handle 0)."""
    cdef track *t = get_track(m, s, obj, alloc)
    m.jiffies += 1
    t.handle = 0
    t.addr = addr
    t.cpu = cpu
    t.pid = m.slub_pid
    t.when = <mc_ulong>m.jiffies


cdef inline mc_orig_size_t *orig_size_slot(const mc_machine *m, const kmem_cache *s,
                                           mc_ulong obj) noexcept nogil:
    return <mc_orig_size_t *>mc_host(m, obj + get_info_end(s) + 2 * sizeof(track))


cdef inline void set_orig_size(const mc_machine *m, const kmem_cache *s, mc_ulong obj,
                               unsigned int orig_size) noexcept nogil:
    if slub_debug_orig_size(s):
        orig_size_slot(m, s, obj)[0] = orig_size


cdef inline unsigned int get_orig_size(const mc_machine *m, const kmem_cache *s,
                                       mc_ulong obj) noexcept nogil:
    if not slub_debug_orig_size(s):
        return s.object_size
    return <unsigned int>orig_size_slot(m, s, obj)[0]


cdef inline unsigned int size_from_object(const kmem_cache *s) noexcept nogil:
    if s.flags & MC_SLAB_RED_ZONE:
        return s.size - s.red_left_pad
    return s.size


cdef void init_object(const mc_machine *m, const kmem_cache *s, mc_ulong obj,
                      unsigned char val) noexcept nogil:
    """init_object(): red zones get val; a free object's body (with __OBJECT_POISON)
    is 0x6b..0xa5.  On an allocated object of a kmalloc cache that keeps the
    requested size, the bytes past it are red zone too (the "kmalloc Redzone")."""
    cdef unsigned char *p = <unsigned char *>mc_host(m, obj)
    cdef unsigned int poison_size = s.object_size
    if s.flags & MC_SLAB_RED_ZONE:
        memset(p - s.red_left_pad, val, s.red_left_pad)
        if slub_debug_orig_size(s) and val == SLUB_RED_ACTIVE:
            poison_size = get_orig_size(m, s, obj)
    if s.flags & MC_SLAB_OBJECT_POISON:
        memset(p, POISON_FREE, poison_size - 1)
        p[poison_size - 1] = POISON_END
    if s.flags & MC_SLAB_RED_ZONE:
        memset(p + poison_size, val, s.inuse - poison_size)


cdef void err_append(mc_machine *m, const char *line) noexcept nogil:
    """One more line of the report in m.err_msg (the first one starts it)."""
    cdef size_t used = strlen(m.err_msg) if m.err == MC_ECORRUPT else 0
    if used == 0:
        m.err = MC_ECORRUPT
        m.err_msg[0] = 0
    elif used + 1 < sizeof(m.err_msg):
        m.err_msg[used] = b'\n'
        used += 1
        m.err_msg[used] = 0
    if used + 1 < sizeof(m.err_msg):
        snprintf(m.err_msg + used, sizeof(m.err_msg) - used, b"%s", line)


cdef void print_track(mc_machine *m, const char *what, const track *t) noexcept nogil:
    """print_track(): "<what> in <caller> age=<jiffies> cpu=<n> pid=<n>" (no stack)."""
    cdef char line[160]
    cdef const char *fn
    if t.addr == 0:
        return
    if t.addr == MC_TEXT_KMEM_CACHE_ALLOC:
        fn = b"kmem_cache_alloc_noprof"
    elif t.addr == MC_TEXT_KMALLOC:
        fn = b"__kmalloc_noprof"
    elif t.addr == MC_TEXT_KMEM_CACHE_FREE:
        fn = b"kmem_cache_free"
    elif t.addr == MC_TEXT_KFREE:
        fn = b"kfree"
    else:
        fn = b"?"
    snprintf(line, sizeof(line), b"%s in %s age=%lu cpu=%u pid=%d", what, fn,
             <unsigned long>(<mc_ulong>m.jiffies - t.when), <unsigned int>t.cpu, t.pid)
    err_append(m, line)


cdef void print_tracking(mc_machine *m, const kmem_cache *s, mc_ulong obj) noexcept nogil:
    if s.flags & MC_SLAB_STORE_USER:
        print_track(m, b"Allocated", get_track(m, s, obj, TRACK_ALLOC))
        print_track(m, b"Freed", get_track(m, s, obj, TRACK_FREE))


cdef int check_bytes_and_report(mc_machine *m, const kmem_cache *s, const slab *sl,
                                mc_ulong obj, const char *what, mc_ulong start,
                                unsigned char val, unsigned int n,
                                bint slab_obj_print) noexcept nogil:
    """1 if [start, start + n) all hold val; else report the damaged range (first bad
    byte to last bad byte), restore it (restore_bytes()) and return 0."""
    cdef unsigned char *p = <unsigned char *>mc_host(m, start)
    cdef unsigned int i, end
    cdef char line[200]
    for i in range(n):
        if p[i] != val:
            end = n
            while end > i and p[end - 1] == val:
                end -= 1
            snprintf(line, sizeof(line),
                     b"[%s overwritten] 0x%lx-0x%lx @offset=%u. First byte 0x%x instead of 0x%x",
                     what, <unsigned long>(start + i), <unsigned long>(start + end - 1),
                     <unsigned int>(start + i - slab_address(m, sl)), p[i], val)
            err_append(m, line)
            m.err_pfn = <int64_t>slab_pfn(m, sl)
            if slab_obj_print:                     # object_err(): the trailer
                print_tracking(m, s, obj)
            memset(p + i, val, end - i)          # restore_bytes()
            return 0
    return 1


cdef int check_pad_bytes(mc_machine *m, const kmem_cache *s, const slab *sl,
                         mc_ulong obj, bint report) noexcept nogil:
    """The object's padding after its metadata is POISON_INUSE ("Object padding")."""
    cdef unsigned int off = get_info_end(s)
    if s.flags & MC_SLAB_STORE_USER:
        off += 2 * sizeof(track)
        if s.flags & MC_SLAB_KMALLOC:
            off += sizeof(mc_orig_size_t)
    if size_from_object(s) == off:
        return 1
    return check_bytes_and_report(m, s, sl, obj, b"Object padding", obj + off, POISON_INUSE,
                                  size_from_object(s) - off, report)


cdef int slab_pad_check(mc_machine *m, const kmem_cache *s, const slab *sl) noexcept nogil:
    """The slab's tail after its last object is POISON_INUSE (SLAB_POISON).  The
    kernel reports and restores it and goes on; the model reports it (1: intact)."""
    cdef mc_ulong start, pad
    cdef unsigned int length, remainder, i, end
    cdef unsigned char *p
    cdef char line[160]
    if not (s.flags & MC_SLAB_POISON):
        return 1
    start = slab_address(m, sl)
    length = <unsigned int>(MC_PAGE_SIZE << slab_order(sl))
    remainder = length % s.size
    if remainder == 0:
        return 1
    pad = start + length - remainder
    p = <unsigned char *>mc_host(m, pad)
    for i in range(remainder):
        if p[i] != POISON_INUSE:
            end = remainder
            while end > i and p[end - 1] == POISON_INUSE:
                end -= 1
            snprintf(line, sizeof(line), b"Padding overwritten. 0x%lx-0x%lx @offset=%u",
                     <unsigned long>(pad + i), <unsigned long>(pad + end - 1),
                     <unsigned int>(pad + i - start))
            err_append(m, line)
            m.err_pfn = <int64_t>slab_pfn(m, sl)
            memset(p + i, POISON_INUSE, end - i)   # restore_bytes("slab padding")
            return 0
    return 1


cdef int check_object(mc_machine *m, const kmem_cache *s, const slab *sl, mc_ulong obj,
                      unsigned char val) noexcept nogil:
    """check_object(): 1 if the object's red zones, poison, padding and free pointer
    are intact.  Like the kernel it checks (and restores) everything and reports
    each damaged range, the trailer only after the first."""
    cdef mc_ulong p = obj, endobject = obj + s.object_size
    cdef unsigned int orig_size
    cdef int ret = 1
    if s.flags & MC_SLAB_RED_ZONE:
        if not check_bytes_and_report(m, s, sl, obj, b"Left Redzone", obj - s.red_left_pad,
                                      val, s.red_left_pad, ret):
            ret = 0
        if not check_bytes_and_report(m, s, sl, obj, b"Right Redzone", endobject,
                                      val, s.inuse - s.object_size, ret):
            ret = 0
        if slub_debug_orig_size(s) and val == SLUB_RED_ACTIVE:
            orig_size = get_orig_size(m, s, obj)
            if s.object_size > orig_size and \
                    not check_bytes_and_report(m, s, sl, obj, b"kmalloc Redzone", p + orig_size,
                                               val, s.object_size - orig_size, ret):
                ret = 0
    else:
        if (s.flags & MC_SLAB_POISON) and s.object_size < s.inuse:
            if not check_bytes_and_report(m, s, sl, p, b"Alignment padding", endobject,
                                          POISON_INUSE, s.inuse - s.object_size, ret):
                ret = 0
    if s.flags & MC_SLAB_POISON:
        if val != SLUB_RED_ACTIVE and (s.flags & MC_SLAB_OBJECT_POISON):
            # (no KASAN free metadata inside the object: kasan_metadata_size() is 0)
            if not check_bytes_and_report(m, s, sl, p, b"Poison", p, POISON_FREE,
                                          s.object_size - 1, ret):
                ret = 0
            if not check_bytes_and_report(m, s, sl, p, b"End Poison", p + s.object_size - 1,
                                          POISON_END, 1, ret):
                ret = 0
        if not check_pad_bytes(m, s, sl, p, ret):
            ret = 0
    if (freeptr_outside_object(s) or val != SLUB_RED_ACTIVE) and \
            not valid_object(m, s, sl, get_freepointer(m, s, p)):
        err_append(m, b"Freepointer corrupt")
        m.err_pfn = <int64_t>slab_pfn(m, sl)
        if ret:
            print_tracking(m, s, p)
        set_freepointer(m, s, p, 0)
        ret = 0
    return ret


cdef int check_slab(mc_machine *m, const kmem_cache *s, const slab *sl) noexcept nogil:
    """check_slab() without the frozen test (the model's debug caches use CPU slabs,
    which are frozen; the kernel's never are): counts, then slab_pad_check()."""
    cdef char line[120]
    cdef unsigned int maxobj = <unsigned int>((MC_PAGE_SIZE << slab_order(sl)) // s.size)
    if sl.objects > maxobj:
        snprintf(line, sizeof(line), b"objects %u > max %u", <unsigned int>sl.objects, maxobj)
        err_append(m, line)
        m.err_pfn = <int64_t>slab_pfn(m, sl)
        return 0
    if sl.inuse > sl.objects:
        snprintf(line, sizeof(line), b"inuse %u > max %u", <unsigned int>sl.inuse,
                 <unsigned int>sl.objects)
        err_append(m, line)
        m.err_pfn = <int64_t>slab_pfn(m, sl)
        return 0
    return slab_pad_check(m, s, sl)


cdef int alloc_debug_processing(mc_machine *m, const kmem_cache *s, const slab *sl,
                                mc_ulong obj, unsigned int orig_size, int cpu) noexcept nogil:
    """alloc_debug_processing() (+ set_track(TRACK_ALLOC) of ___slab_alloc()): 0 or
    MC_ECORRUPT.  Only SLAB_CONSISTENCY_CHECKS checks anything."""
    if s.flags & MC_SLAB_CONSISTENCY_CHECKS:
        m.err = 0                                  # a fresh report
        m.err_msg[0] = 0
        # alloc_consistency_checks(); the object is a valid pointer by construction
        if not check_slab(m, s, sl) or not check_object(m, s, sl, obj, SLUB_RED_INACTIVE):
            return MC_ECORRUPT
    set_orig_size(m, s, obj, orig_size)
    init_object(m, s, obj, SLUB_RED_ACTIVE)
    if s.flags & MC_SLAB_STORE_USER:
        set_track(m, s, obj, TRACK_ALLOC,
                  MC_TEXT_KMALLOC if s.flags & MC_SLAB_KMALLOC else MC_TEXT_KMEM_CACHE_ALLOC, cpu)
    return 0


cdef void mark_slab_used(mc_machine *m, kmem_cache *s, slab *sl, int cpu) noexcept nogil:
    """alloc_debug_processing()'s failure: "Marking all objects used" (inuse =
    objects, no freelist), so the damaged slab hands out nothing more.  The slab
    is this CPU's (frozen, inuse already objects): its CPU freelist goes too, and
    the model's allocation bits mark every object used."""
    cdef kmem_cache_cpu *c = cpu_slab(m, s, cpu)
    cdef mc_ulong obj = slab_obj_base(m, s, sl)
    cdef unsigned int i
    if c.slab == mc_slab_va(m, sl):
        c.freelist = 0
        c.tid += 1
    sl.freelist = 0
    sl.inuse = sl.objects
    for i in range(sl.objects):
        obj_mark(m, obj, True)
        obj += s.size
    err_append(m, b"FIX: Marking all objects used")


cdef int free_debug_processing(mc_machine *m, const kmem_cache *s, const slab *sl,
                               mc_ulong obj, int cpu) noexcept nogil:
    """free_debug_processing() for one object: 0, or MC_ECORRUPT ("Object ... not
    freed").  The pointer and "already free" checks of free_consistency_checks()
    are slab_free_check()'s, made for every cache before this."""
    cdef char line[80]
    if s.flags & MC_SLAB_CONSISTENCY_CHECKS:
        m.err = 0                                  # a fresh report
        m.err_msg[0] = 0
        if not check_slab(m, s, sl) or not check_object(m, s, sl, obj, SLUB_RED_ACTIVE):
            snprintf(line, sizeof(line), b"FIX: Object at 0x%lx not freed", <unsigned long>obj)
            err_append(m, line)
            return MC_ECORRUPT
    if s.flags & MC_SLAB_STORE_USER:
        set_track(m, s, obj, TRACK_FREE,
                  MC_TEXT_KFREE if s.flags & MC_SLAB_KMALLOC else MC_TEXT_KMEM_CACHE_FREE, cpu)
    init_object(m, s, obj, SLUB_RED_INACTIVE)
    return 0


# ---- new slabs ------------------------------------------------------------------------

cdef mc_ulong next_freelist_entry(const mc_machine *m, const kmem_cache *s, unsigned int *pos,
                                  mc_ulong start, unsigned int page_limit,
                                  unsigned int count) noexcept nogil:
    cdef unsigned int *seq = <unsigned int *>mc_host(m, s.random_seq)
    cdef unsigned int idx
    while True:
        idx = seq[pos[0]]
        pos[0] += 1
        if pos[0] >= count:
            pos[0] = 0
        if idx < page_limit:
            return start + idx


cdef inline void setup_object_debug(const mc_machine *m, const kmem_cache *s,
                                    mc_ulong obj) noexcept nogil:
    if s.flags & (MC_SLAB_STORE_USER | MC_SLAB_RED_ZONE | MC_SLAB_OBJECT_POISON):
        init_object(m, s, obj, SLUB_RED_INACTIVE)
        init_tracking(m, s, obj)


cdef slab *allocate_slab(mc_machine *m, kmem_cache *s, unsigned int gfp, int node,
                         int cpu) noexcept nogil:
    """new_slab(): frozen pages, the slab descriptor attached, the object freelist.

    Where the design allocates slab descriptors from a cache (mc_desc_cache_of()),
    the descriptor comes first, then the pages.  The bootstrap: a slab of the
    descriptor cache itself, and a slab made before that cache exists (the two
    boot caches'), holds its own descriptor on-slab, in its first object slot,
    which then holds no object (slab_obj_base()): built in a stack copy and
    moved there once the freelist is made.  It goes with the slab's pages."""
    cdef page *p
    cdef slab *sl
    cdef slab self_desc
    cdef kmem_cache_order_objects oo = s.oo
    cdef unsigned int order, i, count, pos, page_limit
    cdef mc_ulong start, cur, nxt, desc = 0
    cdef int nid = node if node >= 0 else m.cpu_node[cpu]
    cdef int ci = mc_desc_cache_of(MC_DK_SLAB, 0)
    cdef bint self_hosted = False
    if ci >= 0:
        if m.desc_caches[ci] == 0 or m.desc_caches[ci] == mc_virt(m, s):
            if s.size < sizeof(slab) or s.size % 16 or oo_objects(s.min) < 2:   # MEMDESC_ALIGN
                set_err(m, MC_EINVAL, -1, b"a slab that must hold its own descriptor has "
                        b"object slots too small or too loosely aligned for it")
                return NULL
            self_hosted = True
        else:
            desc = desc_alloc(m, ci, nid, cpu)
            if desc == 0:
                return NULL
    # new_slab(): the caller's zone and mobility bits never reach the page
    # allocator (kmalloc_fix_flags() drops GFP_SLAB_BUG_MASK, then only the
    # reclaim and constraint bits pass); the cache's allocflags choose zone/type
    gfp &= GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK
    gfp |= s.allocflags
    order = oo_order(oo)
    p = __alloc_frozen_pages(m, gfp | __GFP_COMP, order, nid, cpu)
    if p == NULL and order > oo_order(s.min):
        oo = s.min
        order = oo_order(oo)
        p = __alloc_frozen_pages(m, gfp | __GFP_COMP, order, nid, cpu)
    if p == NULL:
        if desc:
            desc_free(m, ci, desc, cpu)
        return NULL
    if self_hosted:
        # on-slab: the descriptor takes the first object slot (SLAB's on-slab
        # management, which 6.18 SLUB no longer needs); built on the stack first
        desc = mc_phys_to_virt(m, mc_page_to_pfn(m, p) << PAGE_SHIFT)
        sl = mc_slab_attach(m, p, order, desc, &self_desc)   # __folio_set_slab()
    else:
        sl = mc_slab_attach(m, p, order, desc, NULL)
    sl.objects = oo_objects(oo) - (1 if self_hosted else 0)
    sl.inuse = 0
    sl.frozen = 0
    sl.slab_cache = mc_virt(m, s)
    m.slab_pages += <uint64_t>1 << order
    start = slab_address(m, sl)
    kasan_poison(m, start, MC_PAGE_SIZE << order, KASAN_SLAB_REDZONE)
    if s.flags & MC_SLAB_POISON:
        memset(mc_host(m, start), POISON_INUSE, MC_PAGE_SIZE << order)
    start += s.red_left_pad + (s.size if self_hosted else 0)
    count = oo_objects(s.oo)
    if s.random_seq and sl.objects >= 2:
        # shuffle_freelist(): a random start into the cache's permutation
        pos = get_random_u32_below(m, count)
        page_limit = sl.objects * s.size
        cur = next_freelist_entry(m, s, &pos, start, page_limit, count)
        if kmem_cache_debug(s):
            setup_object_debug(m, s, cur)
        sl.freelist = cur
        for i in range(1, sl.objects):
            nxt = next_freelist_entry(m, s, &pos, start, page_limit, count)
            if kmem_cache_debug(s):
                setup_object_debug(m, s, nxt)
            set_freepointer(m, s, cur, nxt)
            cur = nxt
        set_freepointer(m, s, cur, 0)
    else:
        cur = start
        sl.freelist = cur
        for i in range(sl.objects):
            if kmem_cache_debug(s):
                setup_object_debug(m, s, cur)
            nxt = cur + s.size if i + 1 < sl.objects else 0
            set_freepointer(m, s, cur, nxt)
            cur = nxt
    if self_hosted:
        memcpy(mc_host(m, desc), &self_desc, sizeof(slab))
        kasan_unpoison(m, desc, sizeof(slab))
        sl = mc_va_to_slab(m, desc)
    if s.ctor and m.ctor_hook(m, mc_slab_va(m, sl)):
        # setup_object(): a constructor failed; the slab was never on a list
        __free_slab(m, s, sl)
        set_err(m, MC_ECTOR, -1, b"a slab constructor failed")
        return NULL
    return sl


cdef void __free_slab(mc_machine *m, kmem_cache *s, slab *sl) noexcept nogil:
    """Return a slab's pages: detach the descriptor, free the frozen pages, then
    give the descriptor back to its cache (if the design has one, and the slab
    did not hold its own)."""
    cdef page *p = slab_page(m, sl)
    cdef int order = slab_order(sl)
    cdef mc_ulong desc
    __clear_bit(SL_pfmemalloc, &sl.flags.f)
    __clear_bit(SL_partial, &sl.flags.f)
    desc = mc_slab_detach(m, sl)                         # __folio_clear_slab() & co.
    m.slab_pages -= <uint64_t>1 << order
    __free_frozen_pages(m, p, order, 0)
    if desc:
        desc_free(m, mc_desc_cache_of(MC_DK_SLAB, 0), desc, 0)


cdef mc_ulong desc_alloc(mc_machine *m, int ci, int nid, int cpu) noexcept nogil:
    """kmem_cache_alloc() of a descriptor from the design's cache `ci`."""
    cdef kmem_cache *s = KC(m, m.desc_caches[ci])
    return slab_alloc_node(m, s, GFP_KERNEL, nid, cpu, s.object_size)


cdef void desc_free(mc_machine *m, int ci, mc_ulong va, int cpu) noexcept nogil:
    """kmem_cache_free() of a descriptor to the design's cache `ci`."""
    slab_free(m, KC(m, m.desc_caches[ci]), virt_to_slab(m, va), va, cpu)


cdef void free_slab(mc_machine *m, kmem_cache *s, slab *sl) noexcept nogil:
    if s.flags & MC_SLAB_TYPESAFE_BY_RCU:
        # call_rcu(&slab->rcu_head, rcu_free_slab): the model chains the waiting
        # slabs through rcu_head.next; the RCU engine frees them after a GP
        sl.callback_head.next = m.rcu_slabs
        sl.callback_head.func = MC_TEXT_RCU_FREE_SLAB
        m.rcu_slabs = mc_slab_va(m, sl)
        m.rcu_slabs_nr += 1
    else:
        __free_slab(m, s, sl)


cdef void discard_slab(mc_machine *m, kmem_cache *s, slab *sl) noexcept nogil:
    dec_slabs_node(m, s, slab_nid(sl), sl.objects)
    free_slab(m, s, sl)


cdef void rcu_free_slabs(mc_machine *m, mc_ulong head) noexcept nogil:
    """rcu_free_slab() for each slab of a chain whose grace period has ended."""
    cdef slab *sl
    cdef mc_ulong nxt
    while head:
        sl = mc_va_to_slab(m, head)
        nxt = sl.callback_head.next
        sl.callback_head.next = 0
        sl.callback_head.func = 0
        m.rcu_slabs_nr -= 1
        __free_slab(m, KC(m, sl.slab_cache), sl)
        head = nxt


# ---- per-CPU partial slabs -------------------------------------------------------------

cdef void __put_partials(mc_machine *m, kmem_cache *s, mc_ulong head) noexcept nogil:
    """Move a per-CPU partial list to the node lists.  As the kernel does, the
    surplus empty slabs are collected on slab_to_discard (linked through
    slab->next, so newest first) while the list is walked under the node lock,
    and discarded after it, in that reversed order."""
    cdef slab *sl
    cdef kmem_cache_node *n
    cdef mc_ulong nxt, slab_to_discard = 0
    while head:
        sl = mc_va_to_slab(m, head)
        nxt = sl.next
        n = get_node(m, s, slab_nid(sl))
        if sl.inuse == 0 and n.nr_partial >= s.min_partial:
            sl.next = slab_to_discard
            slab_to_discard = head
        else:
            add_partial(m, n, sl, DEACTIVATE_TO_TAIL)
        head = nxt
    while slab_to_discard:
        sl = mc_va_to_slab(m, slab_to_discard)
        slab_to_discard = sl.next
        discard_slab(m, s, sl)


cdef void put_cpu_partial(mc_machine *m, kmem_cache *s, slab *sl, int drain, int cpu) noexcept nogil:
    cdef kmem_cache_cpu *c = cpu_slab(m, s, cpu)
    cdef mc_ulong old = c.partial, slab_to_put = 0
    cdef int slabs = 0
    if old:
        if drain and mc_va_to_slab(m, old).slabs >= <int>s.cpu_partial_slabs:
            slab_to_put = old
            old = 0
        else:
            slabs = mc_va_to_slab(m, old).slabs
    sl.slabs = slabs + 1
    sl.next = old
    c.partial = mc_slab_va(m, sl)
    if slab_to_put:
        __put_partials(m, s, slab_to_put)


# ---- deactivation ---------------------------------------------------------------------

cdef int deactivate_slab(mc_machine *m, kmem_cache *s, slab *sl, mc_ulong freelist) noexcept nogil:
    """Give a CPU slab back: merge the CPU freelist, unfreeze, list or discard."""
    cdef kmem_cache_node *n = get_node(m, s, slab_nid(sl))
    cdef int tail = DEACTIVATE_TO_HEAD
    cdef mc_ulong freelist_tail = 0, p = freelist, nxt
    cdef unsigned int free_delta = 0
    if sl.freelist:
        tail = DEACTIVATE_TO_TAIL
    while p:
        if free_delta > sl.objects:
            return freelist_corrupt(m, s, sl, p)
        free_delta += 1
        freelist_tail = p
        nxt = get_freepointer(m, s, p)
        if not in_slab(m, s, sl, nxt):
            return freelist_corrupt(m, s, sl, nxt)
        p = nxt
    sl.frozen = 0
    if freelist_tail:
        sl.inuse = sl.inuse - free_delta
        set_freepointer(m, s, freelist_tail, sl.freelist)
        sl.freelist = freelist
    if sl.inuse == 0 and n.nr_partial >= s.min_partial:
        discard_slab(m, s, sl)
    elif sl.freelist:
        add_partial(m, n, sl, tail)
    return 0


cdef int flush_cpu_slab(mc_machine *m, kmem_cache *s, int cpu) noexcept nogil:
    """flush_this_cpu_slab(): deactivate the CPU slab and put the CPU partials."""
    cdef kmem_cache_cpu *c = cpu_slab(m, s, cpu)
    cdef mc_ulong sl_va = c.slab, fl = c.freelist, part
    cdef int rc = 0
    if sl_va:
        c.slab = 0
        c.freelist = 0
        c.tid += 1
        rc = deactivate_slab(m, s, mc_va_to_slab(m, sl_va), fl)
    part = c.partial
    c.partial = 0
    if part:
        __put_partials(m, s, part)
    return rc


# ---- allocation -------------------------------------------------------------------------

cdef inline mc_ulong get_freelist(const mc_machine *m, slab *sl) noexcept nogil:
    """Take the slab's own freelist for the CPU; frozen while it has objects."""
    cdef mc_ulong fl = sl.freelist
    sl.freelist = 0
    sl.inuse = sl.objects
    sl.frozen = 1 if fl else 0
    return fl


cdef inline mc_ulong freeze_slab(const mc_machine *m, slab *sl) noexcept nogil:
    cdef mc_ulong fl = sl.freelist
    sl.freelist = 0
    sl.inuse = sl.objects
    sl.frozen = 1
    return fl


cdef slab *get_partial_node(mc_machine *m, kmem_cache *s, kmem_cache_node *n, int cpu) noexcept nogil:
    """The first node partial slab for the CPU, plus some more for its partial list."""
    cdef slab *partial = NULL
    cdef slab *sl
    cdef mc_ulong v, nxt, head_va
    cdef int partial_slabs = 0
    if n == NULL or n.nr_partial == 0:
        return NULL
    head_va = mc_virt(m, &n.partial)
    v = n.partial.next
    while v != head_va:
        nxt = mc_list(m, v).next
        sl = slab_of_list(m, v)
        remove_partial(m, n, sl)
        if partial == NULL:
            partial = sl
            if not kmem_cache_has_cpu_partial(s) or s.cpu_partial_slabs == 0:
                break
        else:
            put_cpu_partial(m, s, sl, 0, cpu)
            partial_slabs += 1
            if partial_slabs > <int>(s.cpu_partial_slabs // 2):
                break
        v = nxt
    return partial


cdef slab *get_any_partial(mc_machine *m, kmem_cache *s, int cpu) noexcept nogil:
    """get_any_partial(): the zonelist of the CPU's node (that node first, then
    the others in the page allocator's order), taking from a node only when it
    holds more than min_partial partial slabs.  (remote_node_defrag_ratio's
    random skip, 1000/1024 by default, is not modeled: the model always looks.)"""
    cdef slab *sl
    cdef kmem_cache_node *n
    cdef int i, nid
    for i in range(m.nr_nodes):
        nid = m.cpu_node[cpu] + i
        if nid >= m.nr_nodes:
            nid -= m.nr_nodes
        n = get_node(m, s, nid)
        if n.nr_partial > s.min_partial:
            sl = get_partial_node(m, s, n, cpu)
            if sl != NULL:
                return sl
    return NULL


cdef slab *get_partial(mc_machine *m, kmem_cache *s, int node, unsigned int flags,
                       int cpu) noexcept nogil:
    """get_partial(): the preferred (or the CPU's) node, then any node unless a
    node was asked for with __GFP_THISNODE."""
    cdef int searchnode = node if node >= 0 else m.cpu_node[cpu]
    cdef slab *sl = get_partial_node(m, s, get_node(m, s, searchnode), cpu)
    if sl != NULL or (node >= 0 and (flags & __GFP_THISNODE)):
        return sl
    return get_any_partial(m, s, cpu)


cdef mc_ulong ___slab_alloc(mc_machine *m, kmem_cache *s, unsigned int gfp, int node,
                            int cpu) noexcept nogil:
    """The slow path: refill from the slab, the CPU partials, the node, or a new slab."""
    cdef kmem_cache_cpu *c = cpu_slab(m, s, cpu)
    cdef slab *sl
    cdef mc_ulong freelist, nxt
    cdef unsigned int pc_flags
    cdef bint try_thisnode
    if c.slab:
        sl = mc_va_to_slab(m, c.slab)
        if node >= 0 and slab_nid(sl) != node:
            freelist = c.freelist
            c.slab = 0
            c.freelist = 0
            c.tid += 1
            if deactivate_slab(m, s, sl, freelist):
                return 0
        else:
            freelist = c.freelist
            if not freelist:
                freelist = get_freelist(m, sl)
            if freelist:
                nxt = get_freepointer(m, s, freelist)
                if not in_slab(m, s, sl, nxt):
                    freelist_corrupt(m, s, sl, nxt)
                    return 0
                c.freelist = nxt
                c.tid += 1
                return freelist
            c.slab = 0
            c.tid += 1
    # new_slab: the CPU partial list first
    while c.partial:
        sl = mc_va_to_slab(m, c.partial)
        c.partial = sl.next
        if node < 0 or slab_nid(sl) == node:
            c.slab = mc_slab_va(m, sl)
            freelist = get_freelist(m, sl)
            return load_freelist(m, s, c, sl, freelist)
        sl.next = 0
        __put_partials(m, s, mc_slab_va(m, sl))
    # new_objects: a node partial slab, or a brand new one.  A preferred node
    # without __GFP_THISNODE is first tried alone (its partial list, then a new
    # slab with GFP_NOWAIT | __GFP_THISNODE); only if that fails does the retry
    # with the caller's flags look at other nodes' partial slabs and let the
    # page allocator fall back.
    try_thisnode = node >= 0 and not (gfp & __GFP_THISNODE)
    while True:
        pc_flags = (GFP_NOWAIT | __GFP_THISNODE) if try_thisnode else gfp
        sl = get_partial(m, s, node, pc_flags, cpu)
        if sl != NULL:
            freelist = freeze_slab(m, sl)
            break
        sl = allocate_slab(m, s, pc_flags, node, cpu)
        if sl != NULL:
            freelist = sl.freelist
            sl.freelist = 0
            sl.inuse = sl.objects
            sl.frozen = 1
            inc_slabs_node(m, s, slab_nid(sl), sl.objects)
            break
        if m.err == MC_ECTOR:
            return 0
        if try_thisnode:
            try_thisnode = False
            continue
        set_err(m, MC_ENOMEM, -1, b"SLUB: Unable to allocate memory")
        return 0
    # retry_load_slab
    if c.slab:
        if deactivate_slab(m, s, mc_va_to_slab(m, c.slab), c.freelist):
            return 0
        c.slab = 0
        c.freelist = 0
    c.slab = mc_slab_va(m, sl)
    return load_freelist(m, s, c, sl, freelist)


cdef inline mc_ulong load_freelist(mc_machine *m, kmem_cache *s, kmem_cache_cpu *c, slab *sl,
                                   mc_ulong freelist) noexcept nogil:
    cdef mc_ulong nxt = get_freepointer(m, s, freelist)
    if not in_slab(m, s, sl, nxt):
        freelist_corrupt(m, s, sl, nxt)
        return 0
    c.freelist = nxt
    c.tid += 1
    return freelist


cdef mc_ulong slab_alloc_node(mc_machine *m, kmem_cache *s, unsigned int gfp, int node,
                              int cpu, unsigned int orig_size) noexcept nogil:
    """kmem_cache_alloc(): the CPU freelist if it can, else ___slab_alloc()."""
    cdef kmem_cache_cpu *c = cpu_slab(m, s, cpu)
    cdef mc_ulong obj = c.freelist, nxt
    cdef slab *sl
    if obj and c.slab and (node < 0 or slab_nid(mc_va_to_slab(m, c.slab)) == node):
        sl = mc_va_to_slab(m, c.slab)
        nxt = get_freepointer(m, s, obj)
        if not in_slab(m, s, sl, nxt):
            freelist_corrupt(m, s, sl, nxt)
            return 0
        c.freelist = nxt
        c.tid += 1
    else:
        obj = ___slab_alloc(m, s, gfp, node, cpu)
        if obj == 0:
            return 0
    obj_mark(m, obj, True)        # off the freelist: in use (a damaged one stays so)
    if kmem_cache_debug(s):
        sl = page_slab(m, mc_compound_head(m, mc_pfn_to_page(m, mc_virt_to_phys(m, obj) >> PAGE_SHIFT)))
        if alloc_debug_processing(m, s, sl, obj, orig_size, cpu):
            mark_slab_used(m, s, sl, cpu)
            return 0
    if m.kasan:
        kasan_unpoison(m, obj, orig_size)
        if orig_size < s.object_size:               # poison_kmalloc_redzone()
            kasan_poison(m, (obj + orig_size + 7) & ~<mc_ulong>7,
                         ((obj + s.object_size + 7) & ~<mc_ulong>7) -
                         ((obj + orig_size + 7) & ~<mc_ulong>7), KASAN_SLAB_REDZONE)
    if gfp & __GFP_ZERO:
        # slab_post_alloc_hook(): the whole object is cleared (ksize() bytes are
        # usable), except on kmalloc debug caches that redzone the bytes past orig_size
        if (s.flags & (MC_SLAB_STORE_USER | MC_SLAB_RED_ZONE)) and (s.flags & MC_SLAB_KMALLOC):
            memset(mc_host(m, obj), 0, orig_size)
        else:
            memset(mc_host(m, obj), 0, s.object_size)
    return obj


# ---- freeing ------------------------------------------------------------------------------

cdef void __slab_free(mc_machine *m, kmem_cache *s, slab *sl, mc_ulong obj,
                      int cpu) noexcept nogil:
    """The free of an object of a slab that is not this CPU's: onto slab->freelist,
    then list the slab (CPU partial, node partial) or discard it when empty."""
    cdef mc_ulong prior = sl.freelist
    cdef bint was_frozen = sl.frozen, on_node_partial = False
    cdef unsigned int inuse = sl.inuse - 1
    cdef kmem_cache_node *n = NULL
    set_freepointer(m, s, obj, prior)
    if (inuse == 0 or prior == 0) and not was_frozen:
        if not kmem_cache_has_cpu_partial(s) or prior:
            n = get_node(m, s, slab_nid(sl))
            on_node_partial = test_bit(SL_partial, &sl.flags.f)
    sl.freelist = obj
    sl.inuse = inuse
    if n == NULL:
        if not was_frozen and kmem_cache_has_cpu_partial(s) and prior == 0:
            put_cpu_partial(m, s, sl, 1, cpu)
        return
    if prior and not on_node_partial:
        return                                     # on some CPU's partial list
    if inuse == 0 and n.nr_partial >= s.min_partial:
        if prior:
            remove_partial(m, n, sl)
        discard_slab(m, s, sl)
        return
    if not kmem_cache_has_cpu_partial(s) and prior == 0:
        add_partial(m, n, sl, DEACTIVATE_TO_TAIL)


cdef int slab_free(mc_machine *m, kmem_cache *s, slab *sl, mc_ulong obj, int cpu) noexcept nogil:
    """do_slab_free(): onto the CPU freelist if the object is from the CPU slab.
    The caller has made sure obj is an allocated object of sl (slab_free_check(),
    or it just allocated it), so the kernel's BUG_ON(object == fp) cannot fire;
    only a debug cache's damaged red zone or poison refuses the free."""
    cdef kmem_cache_cpu *c = cpu_slab(m, s, cpu)
    cdef int rc
    if kmem_cache_debug(s):
        rc = free_debug_processing(m, s, sl, obj, cpu)
        if rc:
            return rc
    if c.slab == mc_slab_va(m, sl):
        set_freepointer(m, s, obj, c.freelist)
        c.freelist = obj
        c.tid += 1
    else:
        __slab_free(m, s, sl, obj, cpu)
    obj_mark(m, obj, False)
    if m.kasan and not (s.flags & MC_SLAB_TYPESAFE_BY_RCU):
        kasan_poison(m, obj, (s.object_size + 7) & ~7, KASAN_SLAB_FREE)
    return 0


cdef slab *virt_to_slab(const mc_machine *m, mc_ulong addr) noexcept nogil:
    """The slab of a direct-map address, or NULL."""
    cdef uint64_t pfn
    cdef page *head
    if not mc_addr_in_direct_map(m, addr, 1):
        return NULL
    pfn = mc_virt_to_phys(m, addr) >> PAGE_SHIFT
    head = mc_compound_head(m, mc_pfn_to_page(m, pfn))
    if not PageSlab(m, head):
        return NULL
    return page_slab(m, head)


cdef int slab_free_checked(mc_machine *m, kmem_cache *s, mc_ulong obj, int cpu) noexcept nogil:
    """kmem_cache_free() with the checks that keep the model intact."""
    cdef slab *sl
    cdef int rc = slab_free_check(m, s, obj, &sl)
    if rc:
        return rc
    return slab_free(m, KC(m, sl.slab_cache), sl, obj, cpu)


cdef int slab_free_check(mc_machine *m, kmem_cache *s, mc_ulong obj, slab **slp) noexcept nogil:
    """The checks of slab_free_checked(), changing nothing: 0 if obj may be
    freed, with its slab in *slp."""
    cdef slab *sl = virt_to_slab(m, obj)
    if sl == NULL:
        return set_err(m, MC_EINVALFREE, -1, b"virt_to_cache: Object is not a Slab page!")
    if s != NULL and KC(m, sl.slab_cache) != s:
        return set_err(m, MC_EINVALFREE, slab_pfn(m, sl),
                       b"cache_from_obj: Wrong slab cache: the object is from another cache")
    s = KC(m, sl.slab_cache)
    if not valid_object(m, s, sl, obj):
        return set_err(m, MC_EINVALFREE, slab_pfn(m, sl),
                       b"invalid free: the address is not the start of an object of this slab")
    if not obj_allocated(m, obj):
        return set_err(m, MC_EDOUBLEFREE, slab_pfn(m, sl),
                       b"double free: the object is not allocated")
    slp[0] = sl
    return 0


# ---- kmalloc ----------------------------------------------------------------------------

cdef inline int kmalloc_type(unsigned int gfp) noexcept nogil:
    return mc_kmalloc_type_of((gfp & __GFP_DMA) != 0, (gfp & __GFP_RECLAIMABLE) != 0,
                              (gfp & __GFP_ACCOUNT) != 0)


cdef mc_ulong __kmalloc(mc_machine *m, uint64_t size, unsigned int gfp, int node,
                        int cpu) noexcept nogil:
    cdef int idx, order
    cdef page *p
    cdef mc_ulong addr
    if size == 0:
        return ZERO_SIZE_PTR
    if size > MC_KMALLOC_MAX_CACHE_SIZE:
        order = mc_slub_get_order(size)
        if order > MAX_PAGE_ORDER:
            set_err(m, MC_ENOMEM, -1, b"kmalloc: size above KMALLOC_MAX_SIZE")
            return 0
        p = __alloc_frozen_pages(m, (gfp & ~GFP_SLAB_BUG_MASK) | __GFP_COMP, order,
                                 node if node >= 0 else m.cpu_node[cpu], cpu)
        if p == NULL:
            set_err(m, MC_ENOMEM, -1, b"kmalloc_large: page allocation failure")
            return 0
        mc_kmalloc_large_attach(m, p, order)
        m.large_kmalloc_pages += <uint64_t>1 << order
        addr = mc_phys_to_virt(m, mc_page_to_pfn(m, p) << PAGE_SHIFT)
        if m.kasan:
            kasan_unpoison(m, addr, size)
            kasan_poison(m, (addr + size + 7) & ~<mc_ulong>7,
                         (MC_PAGE_SIZE << order) - ((size + 7) & ~<uint64_t>7), KASAN_PAGE_REDZONE)
        if gfp & __GFP_ZERO:
            memset(mc_host(m, addr), 0, size)
        return addr
    idx = mc_kmalloc_index(size)
    return slab_alloc_node(m, KC(m, m.kmalloc_caches[kmalloc_type(gfp)][idx]), gfp, node, cpu,
                           <unsigned int>size)


cdef int kfree_check(mc_machine *m, mc_ulong addr, page **headp, slab **slp) noexcept nogil:
    """The checks kfree() makes before it changes anything: 0 if addr may be
    freed, with its slab in *slp, or the large-kmalloc head page in *headp
    (both NULL for ZERO_OR_NULL_PTR, which kfree() ignores)."""
    cdef page *head
    headp[0] = NULL
    slp[0] = NULL
    if addr <= ZERO_SIZE_PTR:
        return 0                                   # ZERO_OR_NULL_PTR
    if not mc_addr_in_direct_map(m, addr, 1):
        return set_err(m, MC_EINVALFREE, -1, b"kfree: not an address of the direct map")
    head = mc_compound_head(m, mc_pfn_to_page(m, mc_virt_to_phys(m, addr) >> PAGE_SHIFT))
    if PageSlab(m, head):
        return slab_free_check(m, NULL, addr, slp)
    if not page_type_is(m, head, PGTY_large_kmalloc):
        return set_err(m, MC_EINVALFREE, mc_page_to_pfn(m, head),
                       b"kfree: Not a kmalloc allocation")
    if addr != mc_phys_to_virt(m, mc_page_to_pfn(m, head) << PAGE_SHIFT):
        return set_err(m, MC_EINVALFREE, mc_page_to_pfn(m, head),
                       b"kfree: invalid free inside a large kmalloc allocation")
    headp[0] = head
    return 0


cdef int kfree(mc_machine *m, mc_ulong addr, int cpu) noexcept nogil:
    cdef page *head
    cdef slab *sl
    cdef int order
    cdef int rc = kfree_check(m, addr, &head, &sl)
    if rc:
        return rc
    if sl != NULL:
        return slab_free(m, KC(m, sl.slab_cache), sl, addr, cpu)
    if head == NULL:
        return 0
    order = mc_head_order(m, head)
    mc_kmalloc_large_detach(m, head)                  # __folio_clear_large_kmalloc()
    m.large_kmalloc_pages -= <uint64_t>1 << order
    __free_frozen_pages(m, head, order, cpu)
    return 0


# ---- helpers for Machine.check() and the views -----------------------------------------

cdef long freelist_length(const mc_machine *m, const kmem_cache *s, const slab *sl,
                          mc_ulong head) noexcept nogil:
    """Objects on a free chain of this slab; -1 if it leaves the slab or loops."""
    cdef long n = 0
    while head:
        if not valid_object(m, s, sl, head) or n > <long>sl.objects:
            return -1
        n += 1
        head = get_freepointer(m, s, head)
    return n


cdef long objects_marked(const mc_machine *m, const kmem_cache *s, const slab *sl) noexcept nogil:
    """Objects of the slab whose allocation bit is set."""
    cdef mc_ulong obj = slab_obj_base(m, s, sl)
    cdef long n = 0
    cdef unsigned int i
    for i in range(sl.objects):
        n += obj_allocated(m, obj)
        obj += s.size
    return n


cdef int bulk_cache_alloc_free(mc_machine *m, kmem_cache *s, uint64_t n, int cpu) noexcept nogil:
    """n pairs of kmem_cache_alloc() + kmem_cache_free() on one CPU."""
    cdef uint64_t i
    cdef mc_ulong obj
    cdef int rc
    for i in range(n):
        obj = slab_alloc_node(m, s, GFP_KERNEL, -1, cpu, s.object_size)
        if obj == 0:
            return m.err if m.err else MC_ENOMEM
        rc = slab_free(m, s, page_slab(m, mc_compound_head(m, mc_pfn_to_page(
            m, mc_virt_to_phys(m, obj) >> PAGE_SHIFT))), obj, cpu)
        if rc:
            return rc
    return 0


cdef uint64_t collect_slabs(const mc_machine *m, uint64_t *out) noexcept nogil:
    """The modeled address of every slab (out may be NULL: just count), found
    from the first of its pages that says it is a slab's (all of them do where
    the design points every page at the descriptor; one of them may be lent
    to the page cache, S8), in PFN order."""
    cdef uint64_t pfn = 0, n = 0
    cdef page *p
    cdef slab *sl
    while pfn < m.nr_pfns:
        p = mc_pfn_to_page(m, pfn)
        sl = NULL
        if PageSlab(m, p):
            sl = page_slab(m, p)
        elif m.pfn_marks[pfn] & MC_PFN_SLAB_FOLIO:       # lent: the folio knows its slab
            sl = mc_folio_backing_slab(m, page_folio(m, p))
        if sl != NULL:
            if out != NULL:
                out[n] = mc_slab_va(m, sl)
            n += 1
            pfn = slab_pfn(m, sl) + (<uint64_t>1 << slab_order(sl))
            continue
        pfn += 1
    return n


def _slab_vas(Machine machine):
    """numpy array of the modeled addresses of all slabs, in PFN order."""
    import numpy as np
    cdef uint64_t n
    n = collect_slabs(machine.m, NULL)
    out = np.zeros(n, dtype=np.uint64)
    cdef uint64_t[::1] v = out
    if n:
        collect_slabs(machine.m, &v[0])
    return out


# ---- whole-cache walks: shrink, object counts -----------------------

cdef enum:
    SHRINK_PROMOTE_MAX = 32        # mm/slub.c: slabs this close to full are promoted


cdef int kmem_cache_flush_and_shrink(mc_machine *m, kmem_cache *s) noexcept nogil:
    """flush_all() then __kmem_cache_do_shrink(): every CPU slab and CPU partial
    slab goes back to the node lists; on each node the empty partial slabs are
    discarded (SLAB_TYPESAFE_BY_RCU: queued for a grace period) and the slabs
    with the fewest free objects (at most SHRINK_PROMOTE_MAX) move to the head,
    fullest first, each count in the reverse of list order as list_move() onto
    per-count lists leaves them.  0, or MC_ECORRUPT from a flush."""
    cdef kmem_cache_node *n
    cdef mc_ulong v, nxt, head
    cdef mc_ulong *order
    cdef slab *sl
    cdef long nr, i, j, j2, k, free_
    cdef mc_ulong tmp
    cdef int cpu, nid
    for cpu in range(m.nr_cpus):
        if flush_cpu_slab(m, s, cpu):
            return MC_ECORRUPT
    for nid in range(m.nr_nodes):
        n = get_node(m, s, nid)
        head = mc_virt(m, &n.partial)
        # discard the empty slabs
        v = n.partial.next
        while v != head:
            nxt = mc_list(m, v).next
            sl = slab_of_list(m, v)
            if sl.inuse == 0:
                remove_partial(m, n, sl)
                discard_slab(m, s, sl)
            v = nxt
        nr = <long>n.nr_partial
        if nr == 0:
            continue
        order = <mc_ulong *>malloc(nr * sizeof(mc_ulong))
        if order == NULL:
            continue                       # no promotion: a shrink may leave the order
        # the promoted slabs by free count, each count newest-moved first ...
        k = 0
        for free_ in range(1, SHRINK_PROMOTE_MAX + 1):
            j = k
            v = n.partial.next
            while v != head:
                sl = slab_of_list(m, v)
                if sl.objects - sl.inuse == free_:
                    order[k] = v
                    k += 1
                v = mc_list(m, v).next
            i = j                          # reverse this count's run
            j2 = k - 1
            while i < j2:
                tmp = order[i]
                order[i] = order[j2]
                order[j2] = tmp
                i += 1
                j2 -= 1
        # ... then the others, in list order
        v = n.partial.next
        while v != head:
            sl = slab_of_list(m, v)
            if sl.objects - sl.inuse > SHRINK_PROMOTE_MAX:
                order[k] = v
                k += 1
            v = mc_list(m, v).next
        for i in range(k):                 # list_splice(): relink in that order
            list_del(m, mc_list(m, order[i]))
            list_add_tail(m, mc_list(m, order[i]), order[i], &n.partial, head)
        free(order)
    return 0


cdef long count_partial_free(const mc_machine *m, const kmem_cache *s) noexcept nogil:
    """Free objects on the node partial lists (count_partial(.., count_free))."""
    cdef kmem_cache_node *n
    cdef int nid
    cdef long free_ = 0
    cdef mc_ulong v, head
    cdef slab *sl
    for nid in range(m.nr_nodes):
        n = get_node(m, s, nid)
        head = mc_virt(m, &n.partial)
        v = n.partial.next
        while v != head:
            sl = slab_of_list(m, v)
            free_ += sl.objects - sl.inuse
            v = mc_list(m, v).next
    return free_


cdef long cache_total_objects(const mc_machine *m, const kmem_cache *s) noexcept nogil:
    cdef int nid
    cdef long total = 0
    for nid in range(m.nr_nodes):
        total += get_node(m, s, nid).total_objects
    return total


cdef long cache_objects_inuse(const mc_machine *m, const kmem_cache *s) noexcept nogil:
    """Objects actually allocated: every slab's objects less the free ones on the
    node partial lists, the CPU freelists, the CPU slabs' own freelists and the
    CPU partial slabs."""
    cdef kmem_cache_cpu *c
    cdef slab *sl
    cdef mc_ulong v
    cdef int cpu
    cdef long free_ = count_partial_free(m, s)
    for cpu in range(m.nr_cpus):
        c = cpu_slab(m, s, cpu)
        if c.slab:
            sl = mc_va_to_slab(m, c.slab)
            free_ += freelist_length(m, s, sl, c.freelist)
            free_ += freelist_length(m, s, sl, sl.freelist)
        v = c.partial
        while v:
            sl = mc_va_to_slab(m, v)
            free_ += sl.objects - sl.inuse
            v = sl.next
    return cache_total_objects(m, s) - free_
