# The interleaving explorer: a deterministic scheduler over modeled tasks
# whose programs are sequences of atomic steps on the machine's own memory
# (claims S5 and S6 of the 2021 thread; mm/filemap.c filemap_get_entry(),
# folio_lock()/folio_unlock()/folio_wake_bit(); mm/compaction.c
# isolate_migratepages_block(); include/linux/page_ref.h).
#
# Provides: Explorer (the variant's engine; memcore/explore.py builds the
#   scenarios and prints what it finds).
# Uses: decl.pxi (the design accessors: mc_walker_folio(), folio_try_get(),
#   mc_folio_attach(), mc_slab_attach(), mc_free_pages_prepare_desc(),
#   set_buddy_order(), folio_flags()), folio.pxi, slub.pxi (desc_alloc()).
#
# The state a scenario explores is its footprint: the bytes of the struct
# pages, folio descriptors and XArray slots it registered, in the Machine's
# own memory, plus the explorer's facts about them (which generation of an
# object is live, who holds a reference, who sleeps on a lock bit) and each
# task's program counter and registers.  A step is one C function on that
# state.  Exploration is depth first; before it branches it copies the
# footprint aside (a few hundred bytes) and copies it back after, so the
# Machine is exactly as it was when exploration ends.  States are hashed
# incrementally: every object and task has its own hash, a step re-hashes
# only what it marked dirty, and the state's hash is their xor, mixed.

import time
from libc.string cimport memcmp
from libc.stdint cimport uintptr_t


DEF EX_TASKS = 3          # tasks a scenario may run
DEF EX_REGS = 4           # registers per task
DEF EX_OBJS = 12          # objects a scenario may register
DEF EX_PROG = 96          # instructions per task
DEF EX_COMPS = 27         # hash components: 2 per object, 1 per task
DEF EX_RCU_BIT = 30       # the RCU read-side state, as an access-set bit
DEF EX_ALL = 0x7fffffff   # every object: a step whose effects reach further

# object kinds
cdef enum:
    EXO_FOLIO = 1         # a folio descriptor (classic: the head struct page)
    EXO_PAGE = 2          # a struct page
    EXO_SLOT = 3          # an XArray slot word (a mapping's xa_head)
    EXO_SPACE = 4         # an address_space (its address only; not footprint)
    EXO_SLABDESC = 5      # memory for a slab descriptor (the designs with one)

# what an object's memory is now (the explorer's shadow type)
cdef enum:
    EXT_NONE = 0
    EXT_FOLIO = 1
    EXT_FREE = 2
    EXT_SLAB = 3

# task status
cdef enum:
    EXS_RUN = 0
    EXS_SLEEP = 1         # queued on a lock bit's wait queue
    EXS_DONE = 2

# opcodes: the step primitives (memcore/explore.py names them for users)
cdef enum:
    EX_END = 0            # local: the task is done
    EX_JMP = 1            # local: pc = target
    EX_BR_FAIL = 2        # local: if the last conditional step failed, jump
    EX_BR_OK = 3          # local: if it succeeded, jump
    EX_BR_ZERO = 4        # local: if register r is 0, jump
    EX_CLEAR = 5          # local: register r = NULL (a function returning NULL)
    EX_RCU_LOCK = 10      # rcu_read_lock()
    EX_RCU_UNLOCK = 11    # rcu_read_unlock()
    EX_SYNC_RCU = 12      # synchronize_rcu(): waits until no other task is in a read-side section
    EX_LOAD_SLOT = 13     # r = xas_load() of a one-entry mapping: its xa_head
    EX_STORE_SLOT = 14    # xa_head = r (or NULL)
    EX_RECHECK_SLOT = 15  # flag = (xas_reload() == r)
    EX_LOAD_FOLIO = 16    # r = the page's folio for a lock-free reader (mc_walker_folio())
    EX_RECHECK_FOLIO = 17 # flag = (the page's folio == r)
    EX_TRY_GET = 18       # flag = folio_try_get(r)
    EX_PUT = 19           # folio_put(r); the last reference frees the folio
    EX_PUT_EXTERN = 20    # drop a reference no task holds (the page cache's)
    EX_FREEZE = 21        # flag = folio_ref_freeze(r, imm)
    EX_FREE = 22          # free_frozen_pages() of a folio this task froze
    EX_TEST_MAPPING = 23  # flag = (folio_mapping(r) != NULL)
    EX_CLEAR_MAPPING = 24 # folio->mapping = NULL (page_cache_delete(), under the folio lock)
    EX_TRYLOCK = 25       # flag = folio_trylock(r)
    EX_LOCK_WAIT = 26     # __folio_lock() slow path under the wait queue's lock
    EX_LOCK_WAIT_NORECHECK = 27   # the same without its folio_trylock_flag(): broken
    EX_UNLOCK = 28        # folio_unlock()'s xor: clear PG_locked; flag = PG_waiters was set
    EX_WAKE = 29          # folio_wake_bit(r, PG_locked): hand the lock to the first waiter
    EX_REUSE_FOLIO = 30   # allocate: pages from object o2 become a folio with descriptor o
    EX_REUSE_SLAB = 31    # allocate: page o becomes a slab, its descriptor o2 (or none)
    EX_USE_LOOKUP = 32    # check: r is the folio at index imm of mapping o, held by a reference
    EX_USE_PAGE = 33      # check: r is page o's folio, held by a reference
    EX_USE_LOCKED = 34    # check: this task holds r's lock (and a reference)
    EX_USE_CACHE = 35     # check: r is a locked page-cache folio this task holds a reference on
    EX_ADD_TO_CACHE = 36  # filemap_add_folio(): the cache's reference, mapping o, index imm, slot o2 = r
    EX_GIVE = 37          # this task's reference on r passes to an owner outside the scenario
    EX_GET = 38           # folio_get(): a reference, trusting the count is not zero


cdef struct ex_insn:
    int op
    int r                 # register operand (-1: none / NULL)
    int o                 # object operand
    int o2                # second object operand (-1: none)
    int imm
    int target            # jump target (pc)

cdef struct ex_obj:
    int kind
    int typesafe          # freed memory stays this type (struct pages, TYPESAFE_BY_RCU)
    char *host
    int size
    mc_ulong va
    uint64_t pfn          # EXO_PAGE: its PFN
    char label[40]

cdef struct ex_sh:        # the explorer's facts about one object (hashed)
    signed char type      # EXT_*
    signed char extern_refs   # references no task holds (the page cache, a new owner)
    signed char frozen_by # task that froze the refcount, or -1
    signed char lock_owner    # task holding PG_locked, or -1
    signed char nwait
    signed char waitq[EX_TASKS]   # sleepers on its lock bit, in queue order
    unsigned short gen    # bumped when the object is freed and when it is reused

cdef struct ex_task:
    unsigned char pc
    signed char status
    signed char rcu
    signed char flag
    signed char reg_obj[EX_REGS]
    unsigned short reg_gen[EX_REGS]   # the object's generation when loaded, then when referenced
    unsigned short load_gen[EX_REGS]  # ... when loaded
    signed char held[EX_OBJS]     # references held, per object
    mc_ulong reg[EX_REGS]
    mc_ulong ref_mapping[EX_REGS] # folio->mapping and ->index when the reference was taken
    mc_ulong ref_index[EX_REGS]

cdef struct ex_state:
    ex_sh sh[EX_OBJS]
    ex_task t[EX_TASKS]

cdef struct ex_world:
    mc_machine *m
    int nobj
    int ntask
    int footprint         # bytes of all objects' memory
    int separate_desc     # the design allocates folio descriptors apart from the pages
    ex_obj obj[EX_OBJS]
    uint32_t alias[EX_OBJS]       # objects whose memory overlaps this one's
    ex_insn prog[EX_TASKS][EX_PROG + 1]   # zeroed past plen: EX_END
    int plen[EX_TASKS]
    ex_state st
    uint64_t comp[EX_COMPS]
    uint64_t H
    uint32_t dirty        # objects (bits 0..11), tasks (bits 16..18)
    int verify_hash
    int violation         # 0, or EXV_*
    char msg[600]
    # exploration
    int por
    int max_depth
    uint64_t max_states
    char *frames          # max_depth + 1 saved states
    int frame_size
    int path[4096]
    int path_len
    uint64_t *vis_key
    unsigned char *vis_sleep
    uint64_t vis_cap
    uint64_t vis_n
    uint64_t states, transitions, revisits, terminals, depth_cuts
    int limit_hit

cdef enum:
    EXV_NONE = 0
    EXV_VIOLATION = 1     # an invariant failed: a counterexample
    EXV_ERROR = 2         # the scenario is malformed (a step the model cannot run)


# ---- hashing ---------------------------------------------------------------------

cdef inline uint64_t ex_mix(uint64_t h) noexcept nogil:
    h ^= h >> 33
    h *= <uint64_t>0xff51afd7ed558ccd
    h ^= h >> 33
    h *= <uint64_t>0xc4ceb9fe1a85ec53
    h ^= h >> 33
    return h


cdef uint64_t ex_hash_bytes(const char *p, int n, uint64_t seed) noexcept nogil:
    cdef uint64_t h = seed * <uint64_t>0x9e3779b97f4a7c15 + <uint64_t>n
    cdef uint64_t w
    cdef int i = 0
    while i + 8 <= n:
        memcpy(&w, p + i, 8)
        h = (h ^ w) * <uint64_t>0x100000001b3
        h ^= h >> 29
        i += 8
    if i < n:
        w = 0
        memcpy(&w, p + i, n - i)
        h = (h ^ w) * <uint64_t>0x100000001b3
        h ^= h >> 29
    return ex_mix(h)


cdef inline uint64_t ex_comp_hash(ex_world *w, int c) noexcept nogil:
    if c < EX_OBJS:
        return ex_hash_bytes(w.obj[c].host, w.obj[c].size, c + 1)
    if c < 2 * EX_OBJS:
        return ex_hash_bytes(<char *>&w.st.sh[c - EX_OBJS], sizeof(ex_sh), c + 1)
    return ex_hash_bytes(<char *>&w.st.t[c - 2 * EX_OBJS], sizeof(ex_task), c + 1)


cdef void ex_rehash(ex_world *w, uint32_t dirty) noexcept nogil:
    """Re-hash the components of the dirty objects and tasks: the state's
    hash is the xor of every component's."""
    cdef int i, c
    cdef uint64_t h
    for i in range(w.nobj):
        if dirty & (1u << i):
            if w.obj[i].kind != EXO_SPACE:
                h = ex_comp_hash(w, i)
                w.H ^= w.comp[i] ^ h
                w.comp[i] = h
            c = EX_OBJS + i
            h = ex_comp_hash(w, c)
            w.H ^= w.comp[c] ^ h
            w.comp[c] = h
    for i in range(w.ntask):
        if dirty & (1u << (16 + i)):
            c = 2 * EX_OBJS + i
            h = ex_comp_hash(w, c)
            w.H ^= w.comp[c] ^ h
            w.comp[c] = h


cdef uint64_t ex_full_hash(ex_world *w) noexcept nogil:
    cdef uint64_t H = 0
    cdef int i
    for i in range(w.nobj):
        if w.obj[i].kind != EXO_SPACE:
            H ^= ex_comp_hash(w, i)
        H ^= ex_comp_hash(w, EX_OBJS + i)
    for i in range(w.ntask):
        H ^= ex_comp_hash(w, 2 * EX_OBJS + i)
    return H


cdef void ex_hash_init(ex_world *w) noexcept nogil:
    memset(w.comp, 0, sizeof(w.comp))
    w.H = 0
    ex_rehash(w, 0xffffffffu)


# ---- saving and restoring the state ----------------------------------------------------

cdef void ex_save(ex_world *w, char *buf) noexcept nogil:
    cdef int i, off = 0
    for i in range(w.nobj):
        if w.obj[i].kind != EXO_SPACE:
            memcpy(buf + off, w.obj[i].host, w.obj[i].size)
            off += w.obj[i].size
    memcpy(buf + off, &w.st, sizeof(ex_state))
    off += sizeof(ex_state)
    memcpy(buf + off, w.comp, sizeof(w.comp))
    off += sizeof(w.comp)
    memcpy(buf + off, &w.H, 8)


cdef void ex_restore(ex_world *w, const char *buf) noexcept nogil:
    cdef int i, off = 0
    for i in range(w.nobj):
        if w.obj[i].kind != EXO_SPACE:
            memcpy(w.obj[i].host, buf + off, w.obj[i].size)
            off += w.obj[i].size
    memcpy(&w.st, buf + off, sizeof(ex_state))
    off += sizeof(ex_state)
    memcpy(w.comp, buf + off, sizeof(w.comp))
    off += sizeof(w.comp)
    memcpy(&w.H, buf + off, 8)


# ---- objects, registers, violations -----------------------------------------------------

cdef int ex_resolve(ex_world *w, mc_ulong va) noexcept nogil:
    """The descriptor object at `va` (a folio or a slab descriptor), else
    the struct page there (classic: a walker that reads a free tail page
    finds the page itself, refcount 0), or -1."""
    cdef int i
    for i in range(w.nobj):
        if (w.obj[i].kind == EXO_FOLIO or w.obj[i].kind == EXO_SLABDESC) and w.obj[i].va == va:
            return i
    for i in range(w.nobj):
        if w.obj[i].kind == EXO_PAGE and w.obj[i].va == va:
            return i
    return -1


cdef int ex_fail(ex_world *w, int kind, const char *msg) noexcept nogil:
    if w.violation == EXV_NONE:
        w.violation = kind
        snprintf(w.msg, sizeof(w.msg), "%s", msg)
    return 1


cdef inline void ex_dirty(ex_world *w, int o) noexcept nogil:
    if o >= 0:
        w.dirty |= (1u << o) | w.alias[o]


cdef const char *ex_type_name(int t) noexcept nogil:
    if t == EXT_FOLIO:
        return b"a folio"
    if t == EXT_FREE:
        return b"free"
    if t == EXT_SLAB:
        return b"a slab"
    return b"nothing"


cdef int ex_reg_obj(ex_world *w, int ti, int r, const char *what) noexcept nogil:
    """The object register r of task ti points at; -1 (an error set) if none."""
    cdef ex_task *t = &w.st.t[ti]
    cdef char buf[300]
    cdef int o
    if r < 0 or r >= EX_REGS or t.reg[r] == 0 or t.reg_obj[r] < 0:
        snprintf(buf, sizeof(buf), "%s through register r%d, which holds no object of the scenario",
                 what, r)
        ex_fail(w, EXV_ERROR, buf)
        return -1
    o = t.reg_obj[r]
    # a folio: its descriptor, or (classic) a struct page, which is one
    if not (w.obj[o].kind == EXO_FOLIO or (w.obj[o].kind == EXO_PAGE and not w.separate_desc)):
        snprintf(buf, sizeof(buf), "%s through register r%d, which holds %s: not a folio",
                 what, r, w.obj[o].label)
        ex_fail(w, EXV_ERROR, buf)
        return -1
    return o


cdef int ex_access(ex_world *w, int ti, int r, int o, bint write, bint try_get,
                   const char *what) noexcept nogil:
    """Task ti touches object o through register r: is that allowed?

    Memory freed to a cache without SLAB_TYPESAFE_BY_RCU may not be touched
    at all once freed (KASAN would report it); TYPESAFE memory may be read,
    and folio_try_get() may write it, but any other write needs a reference
    on the object as it is now (the generation the register was loaded at)."""
    cdef ex_task *t = &w.st.t[ti]
    cdef ex_sh *sh = &w.st.sh[o]
    cdef char buf[600]
    if not w.obj[o].typesafe and t.reg_gen[r] != sh.gen:
        snprintf(buf, sizeof(buf),
                 "use after free: %s reads %s at 0x%llx through a pointer loaded before it "
                 "was freed (generation %u, now %u); its cache is not SLAB_TYPESAFE_BY_RCU, "
                 "and the memory is now %s",
                 what, w.obj[o].label, <unsigned long long>w.obj[o].va, t.reg_gen[r], sh.gen,
                 ex_type_name(sh.type))
        return ex_fail(w, EXV_VIOLATION, buf)
    if write and not try_get and t.held[o] == 0 and t.reg_gen[r] != sh.gen:
        snprintf(buf, sizeof(buf),
                 "%s writes %s at 0x%llx holding no reference: it was freed since the task "
                 "looked it up (generation %u, now %u) and is now %s",
                 what, w.obj[o].label, <unsigned long long>w.obj[o].va, t.reg_gen[r], sh.gen,
                 ex_type_name(sh.type))
        return ex_fail(w, EXV_VIOLATION, buf)
    return 0


cdef inline folio *ex_folio(ex_world *w, int o) noexcept nogil:
    return mc_va_to_folio(w.m, w.obj[o].va)


cdef void ex_load_reg(ex_world *w, int ti, int r, mc_ulong va) noexcept nogil:
    cdef ex_task *t = &w.st.t[ti]
    cdef int o = ex_resolve(w, va) if va else -1
    t.reg[r] = va
    t.reg_obj[r] = o
    t.reg_gen[r] = w.st.sh[o].gen if o >= 0 else 0
    t.load_gen[r] = t.reg_gen[r]
    t.ref_mapping[r] = 0
    t.ref_index[r] = 0


cdef int ex_page_of(ex_world *w, uint64_t pfn) noexcept nogil:
    cdef int i
    for i in range(w.nobj):
        if w.obj[i].kind == EXO_PAGE and w.obj[i].pfn == pfn:
            return i
    return -1


# ---- freeing and reusing (the allocator's effects on the footprint) -----------------

cdef void ex_free_folio(ex_world *w, int o) noexcept nogil:
    """The folio's pages go back (__free_pages_prepare(), set_buddy_order())
    and its descriptor returns to its cache: a new generation begins."""
    cdef folio *f = ex_folio(w, o)
    cdef unsigned int order = folio_order(f)
    cdef uint64_t pfn0 = folio_pfn(w.m, f), i
    cdef page *p = folio_page(w.m, f, 0)
    cdef int po
    cdef char buf[200]
    for i in range(<uint64_t>1 << order):
        if ex_page_of(w, pfn0 + i) < 0:
            snprintf(buf, sizeof(buf), "freeing %s would rewrite PFN %llu, which is not an object "
                     "of the scenario", w.obj[o].label, <unsigned long long>(pfn0 + i))
            ex_fail(w, EXV_ERROR, buf)
            return
    mc_folio_clear_lru_flags(f)
    mc_free_pages_prepare_desc(w.m, p, order)
    set_buddy_order(w.m, p, order)
    w.st.sh[o].type = EXT_FREE
    w.st.sh[o].gen += 1
    w.st.sh[o].extern_refs = 0
    w.st.sh[o].frozen_by = -1
    for i in range(<uint64_t>1 << order):
        po = ex_page_of(w, pfn0 + i)
        if po >= 0:
            w.st.sh[po].type = EXT_FREE
            w.st.sh[po].gen += 1
    w.dirty |= EX_ALL


cdef int ex_check_free(ex_world *w, int o, const char *who) noexcept nogil:
    cdef folio *f = ex_folio(w, o)
    cdef char buf[300]
    if mc_folio_mapping_word(f) != 0:
        snprintf(buf, sizeof(buf), "%s frees %s while it is still in the page cache "
                 "(folio->mapping is set): bad_page()", who, w.obj[o].label)
        return ex_fail(w, EXV_VIOLATION, buf)
    if w.st.sh[o].lock_owner >= 0:
        snprintf(buf, sizeof(buf), "%s frees %s while task %c holds its lock%s: bad_page() "
                 "(PG_locked in PAGE_FLAGS_CHECK_AT_FREE)", who, w.obj[o].label,
                 <char>(65 + w.st.sh[o].lock_owner),
                 b", with no reference on it" if w.st.t[w.st.sh[o].lock_owner].held[o] == 0
                 else b"")
        return ex_fail(w, EXV_VIOLATION, buf)
    return 0


cdef int ex_folio_put(ex_world *w, int o) noexcept nogil:
    """folio_put() of object o, whoever's reference it was: drop it, and the
    last one frees the folio (its checks first).  0, or 1 with w.violation."""
    cdef folio *f = ex_folio(w, o)
    if folio_ref_count(f) > 1:
        folio_ref_add(f, -1)
        ex_dirty(w, o)
        return 0
    if ex_check_free(w, o, b"the last folio_put()"):
        return 1
    folio_set_count(f, 0)
    ex_free_folio(w, o)
    return 1 if w.violation else 0


cdef bint ex_reuse_enabled(ex_world *w, ex_insn *ins) noexcept nogil:
    """Only free things are allocated: REUSE_FOLIO needs its descriptor and
    every page free; REUSE_SLAB its page and descriptor memory."""
    cdef uint64_t i
    cdef int po
    if w.st.sh[ins.o].type != EXT_FREE:
        return False
    if ins.op == EX_REUSE_FOLIO:
        for i in range(<uint64_t>1 << ins.imm):
            po = ex_page_of(w, w.obj[ins.o2].pfn + i)
            if po < 0 or w.st.sh[po].type != EXT_FREE:
                return False
        return True
    return ins.o2 < 0 or w.st.sh[ins.o2].type == EXT_NONE or w.st.sh[ins.o2].type == EXT_FREE


cdef void ex_reuse_folio(ex_world *w, int ti, ex_insn *ins) noexcept nogil:
    """folio_alloc() handing out free memory again: the pages leave the free
    lists (prep_new_page()), the design attaches descriptor o (classic: the
    head page is the folio, whatever o was), and the allocating task holds
    its one reference, in register r."""
    cdef uint64_t i, pfn0 = w.obj[ins.o2].pfn
    cdef page *p = mc_pfn_to_page(w.m, pfn0)
    cdef folio *f
    cdef int po, fo
    for i in range(<uint64_t>1 << ins.imm):
        mc_clear_page_type(w.m, mc_pfn_to_page(w.m, pfn0 + i))
    prep_new_page(w.m, p, ins.imm, __GFP_COMP)
    f = mc_folio_attach(w.m, p, ins.imm, w.obj[ins.o].va, 0)
    if ins.imm:
        folio_set_large_rmappable_flag(f)
    folio_set_count(f, 1)
    fo = ex_resolve(w, mc_folio_va(w.m, f))
    if fo < 0:
        fo = ins.o
    for i in range(<uint64_t>1 << ins.imm):
        po = ex_page_of(w, pfn0 + i)
        if po >= 0:
            w.st.sh[po].type = EXT_FOLIO
            w.st.sh[po].gen += 1
    w.st.sh[fo].type = EXT_FOLIO
    w.st.sh[fo].gen += 1
    w.st.sh[fo].extern_refs = 0
    w.st.sh[fo].frozen_by = -1
    w.st.sh[fo].lock_owner = -1
    w.st.t[ti].held[fo] += 1
    ex_load_reg(w, ti, ins.r, mc_folio_va(w.m, f))
    w.dirty |= EX_ALL


cdef void ex_reuse_slab(ex_world *w, ex_insn *ins) noexcept nogil:
    """allocate_slab() on a free page: it leaves the free lists and the
    design makes it a slab (memdesc designs: with descriptor o2, which is a
    new slab_desc object, or, when the folio cache is not TYPESAFE_BY_RCU,
    the freed folio descriptor's memory); slab pages are frozen (refcount 0)."""
    cdef page *p = mc_pfn_to_page(w.m, w.obj[ins.o].pfn)
    cdef int i
    cdef mc_ulong dva = 0
    if ins.o2 >= 0:
        dva = w.obj[ins.o2].va
    mc_clear_page_type(w.m, p)
    prep_new_page(w.m, p, 0, 0)
    mc_slab_attach(w.m, p, 0, dva, NULL)
    w.st.sh[ins.o].type = EXT_SLAB
    w.st.sh[ins.o].gen += 1
    for i in range(w.nobj):
        # classic: the folio object that is this struct page is a slab now
        if w.obj[i].kind == EXO_FOLIO and w.obj[i].host == w.obj[ins.o].host:
            w.st.sh[i].type = EXT_SLAB
            w.st.sh[i].gen += 1
    if ins.o2 >= 0:
        w.st.sh[ins.o2].type = EXT_SLAB
        w.st.sh[ins.o2].gen += 1
        w.st.sh[ins.o2].extern_refs = 0
    w.dirty |= EX_ALL


# ---- what a step reads and writes (partial-order reduction) ----------------------------

cdef void ex_access_set(ex_world *w, int ti, uint32_t *rd, uint32_t *wr) noexcept nogil:
    """The objects task ti's next step reads and writes (a superset)."""
    cdef ex_task *t = &w.st.t[ti]
    cdef ex_insn *ins = &w.prog[ti][t.pc]
    cdef int o = -1
    rd[0] = 0
    wr[0] = 0
    if ins.r >= 0 and ins.r < EX_REGS:
        o = t.reg_obj[ins.r]
    if ins.op == EX_RCU_LOCK or ins.op == EX_RCU_UNLOCK:
        wr[0] = 1u << EX_RCU_BIT
    elif ins.op == EX_SYNC_RCU:
        rd[0] = 1u << EX_RCU_BIT
    elif ins.op == EX_LOAD_SLOT or ins.op == EX_RECHECK_SLOT or ins.op == EX_LOAD_FOLIO \
            or ins.op == EX_RECHECK_FOLIO:
        rd[0] = (1u << ins.o) | w.alias[ins.o]
    elif ins.op == EX_STORE_SLOT:
        wr[0] = (1u << ins.o) | w.alias[ins.o]
    elif ins.op == EX_TEST_MAPPING or ins.op == EX_USE_LOCKED or ins.op == EX_USE_CACHE:
        rd[0] = EX_ALL if o < 0 else (1u << o) | w.alias[o]
    elif ins.op == EX_USE_LOOKUP or ins.op == EX_USE_PAGE:
        rd[0] = EX_ALL
    elif ins.op == EX_TRY_GET or ins.op == EX_CLEAR_MAPPING or ins.op == EX_TRYLOCK \
            or ins.op == EX_LOCK_WAIT or ins.op == EX_LOCK_WAIT_NORECHECK \
            or ins.op == EX_UNLOCK or ins.op == EX_WAKE or ins.op == EX_FREEZE \
            or ins.op == EX_GIVE or ins.op == EX_GET:
        wr[0] = EX_ALL if o < 0 else (1u << o) | w.alias[o]
    elif (ins.op == EX_PUT and o >= 0) or ins.op == EX_PUT_EXTERN:
        if ins.op == EX_PUT_EXTERN:
            o = ins.o
        if folio_ref_count(ex_folio(w, o)) > 1:     # not the last: the count alone
            wr[0] = (1u << o) | w.alias[o]
        else:
            wr[0] = EX_ALL
    else:                       # frees, allocations: they reach every page
        wr[0] = EX_ALL | (1u << EX_RCU_BIT)
    rd[0] |= wr[0]


# ---- the steps -------------------------------------------------------------------------

cdef bint ex_enabled_task(ex_world *w, int ti) noexcept nogil:
    cdef ex_task *t = &w.st.t[ti]
    cdef ex_insn *ins
    cdef int u
    if t.status != EXS_RUN:
        return False
    ins = &w.prog[ti][t.pc]
    if ins.op == EX_SYNC_RCU:
        for u in range(w.ntask):
            if u != ti and w.st.t[u].rcu:
                return False
        return True
    if ins.op == EX_REUSE_FOLIO or ins.op == EX_REUSE_SLAB:
        return ex_reuse_enabled(w, ins)
    return True


cdef uint32_t ex_enabled(ex_world *w) noexcept nogil:
    cdef uint32_t e = 0
    cdef int ti
    for ti in range(w.ntask):
        if ex_enabled_task(w, ti):
            e |= 1u << ti
    return e


cdef void ex_run_local(ex_world *w, int ti) noexcept nogil:
    """Run task ti's local instructions (jumps, branches, the end): they touch
    no shared state, so they join the step before them."""
    cdef ex_task *t = &w.st.t[ti]
    cdef ex_insn *ins
    cdef int guard = 0
    while t.status == EXS_RUN and guard < 4 * EX_PROG:
        guard += 1
        ins = &w.prog[ti][t.pc]
        if ins.op == EX_END:
            t.status = EXS_DONE
        elif ins.op == EX_JMP:
            t.pc = ins.target
        elif ins.op == EX_BR_FAIL:
            t.pc = ins.target if not t.flag else t.pc + 1
        elif ins.op == EX_BR_OK:
            t.pc = ins.target if t.flag else t.pc + 1
        elif ins.op == EX_BR_ZERO:
            t.pc = ins.target if t.reg[ins.r] == 0 else t.pc + 1
        elif ins.op == EX_CLEAR:
            t.reg[ins.r] = 0
            t.reg_obj[ins.r] = -1
            t.reg_gen[ins.r] = 0
            t.pc += 1
        else:
            return
    if guard >= 4 * EX_PROG:
        ex_fail(w, EXV_ERROR, b"a task loops without a step (a jump cycle with no shared step in it)")


cdef int ex_wake(ex_world *w, int ti, int o) noexcept nogil:
    """folio_wake_bit(folio, PG_locked) under the wait queue's lock: the first
    exclusive waiter gets the bit set on its behalf (the lock hand-off of
    wake_page_function()), unless someone already holds it; then PG_waiters
    is cleared if nobody waits any more (or nobody waited for this folio)."""
    cdef ex_sh *sh = &w.st.sh[o]
    cdef mc_ulong *fl = folio_flags(ex_folio(w, o), 0)
    cdef int wt, i
    cdef bint match = False
    if sh.nwait:
        match = True
        if not test_and_set_bit(PG_locked, fl):
            wt = sh.waitq[0]
            for i in range(sh.nwait - 1):
                sh.waitq[i] = sh.waitq[i + 1]
            sh.nwait -= 1
            sh.waitq[sh.nwait] = -1
            sh.lock_owner = wt
            w.st.t[wt].status = EXS_RUN
            w.st.t[wt].flag = 1
            w.dirty |= 1u << (16 + wt)
    if sh.nwait == 0 or not match:
        clear_bit(PG_waiters, fl)
    return 0


cdef int ex_exec(ex_world *w, int ti) noexcept nogil:
    """One atomic step of task ti (then its local instructions); 0, or 1 with
    w.violation set."""
    cdef ex_task *t = &w.st.t[ti]
    cdef ex_insn *ins = &w.prog[ti][t.pc]
    cdef int o = -1, u, r = ins.r
    cdef folio *f
    cdef mc_ulong *slotp
    cdef mc_ulong v
    cdef mc_ulong *fl
    cdef char buf[600]
    w.dirty |= 1u << (16 + ti)
    if ins.op == EX_RCU_LOCK:
        t.rcu += 1
    elif ins.op == EX_RCU_UNLOCK:
        if t.rcu == 0:
            return ex_fail(w, EXV_VIOLATION, b"rcu_read_unlock() outside a read-side section")
        t.rcu -= 1
    elif ins.op == EX_SYNC_RCU:
        if t.rcu:
            return ex_fail(w, EXV_VIOLATION,
                           b"synchronize_rcu() inside a read-side section: it would never return")
    elif ins.op == EX_LOAD_SLOT:
        slotp = <mc_ulong *>w.obj[ins.o].host
        ex_load_reg(w, ti, r, slotp[0])
        if t.reg[r] and t.reg_obj[r] < 0:
            snprintf(buf, sizeof(buf), "%s holds 0x%llx, which is no folio of the scenario",
                     w.obj[ins.o].label, <unsigned long long>t.reg[r])
            return ex_fail(w, EXV_ERROR, buf)
    elif ins.op == EX_STORE_SLOT:
        slotp = <mc_ulong *>w.obj[ins.o].host
        slotp[0] = t.reg[r] if r >= 0 else 0
        ex_dirty(w, ins.o)
    elif ins.op == EX_RECHECK_SLOT:
        slotp = <mc_ulong *>w.obj[ins.o].host
        t.flag = slotp[0] == t.reg[r]
    elif ins.op == EX_LOAD_FOLIO or ins.op == EX_RECHECK_FOLIO:
        f = mc_walker_folio(w.m, mc_pfn_to_page(w.m, w.obj[ins.o].pfn))
        v = mc_folio_va(w.m, f) if f != NULL else 0
        if ins.op == EX_RECHECK_FOLIO:
            t.flag = v == t.reg[r]
        else:
            ex_load_reg(w, ti, r, v)
            if v and t.reg_obj[r] < 0:
                snprintf(buf, sizeof(buf), "%s points at 0x%llx, which is no folio of the scenario",
                         w.obj[ins.o].label, <unsigned long long>v)
                return ex_fail(w, EXV_ERROR, buf)
    elif ins.op == EX_TRY_GET:
        o = ex_reg_obj(w, ti, r, b"folio_try_get()")
        if o < 0 or ex_access(w, ti, r, o, True, True, b"folio_try_get()"):
            return 1
        f = ex_folio(w, o)
        t.flag = folio_try_get(f)
        if t.flag:
            t.held[o] += 1
            t.reg_gen[r] = w.st.sh[o].gen
            t.ref_mapping[r] = mc_folio_mapping_word(f)
            t.ref_index[r] = folio_index(f)
            ex_dirty(w, o)
    elif ins.op == EX_PUT:
        o = ex_reg_obj(w, ti, r, b"folio_put()")
        if o < 0:
            return 1
        if t.held[o] == 0:
            snprintf(buf, sizeof(buf), "folio_put() of %s by a task that holds no reference on it",
                     w.obj[o].label)
            return ex_fail(w, EXV_VIOLATION, buf)
        t.held[o] -= 1
        if ex_folio_put(w, o):
            return 1
    elif ins.op == EX_PUT_EXTERN:
        o = ins.o
        if w.st.sh[o].extern_refs <= 0 or w.st.sh[o].type != EXT_FOLIO:
            snprintf(buf, sizeof(buf), "dropping the page cache's reference on %s, which it "
                     "does not hold", w.obj[o].label)
            return ex_fail(w, EXV_VIOLATION, buf)
        w.st.sh[o].extern_refs -= 1
        if ex_folio_put(w, o):
            return 1
    elif ins.op == EX_FREEZE:
        o = ex_reg_obj(w, ti, r, b"folio_ref_freeze()")
        if o < 0 or ex_access(w, ti, r, o, True, False, b"folio_ref_freeze()"):
            return 1
        t.flag = folio_ref_freeze(ex_folio(w, o), ins.imm)
        if t.flag:
            for u in range(w.ntask):
                if u != ti and w.st.t[u].held[o]:
                    snprintf(buf, sizeof(buf), "folio_ref_freeze(%s, %d) succeeded while task %c "
                             "holds a reference on it", w.obj[o].label, ins.imm, <char>(65 + u))
                    return ex_fail(w, EXV_VIOLATION, buf)
            w.st.sh[o].frozen_by = ti
            w.st.sh[o].extern_refs = 0
            t.held[o] = 0
            ex_dirty(w, o)
    elif ins.op == EX_FREE:
        o = ex_reg_obj(w, ti, r, b"free_frozen_pages()")
        if o < 0:
            return 1
        if w.st.sh[o].frozen_by != ti:
            snprintf(buf, sizeof(buf), "free_frozen_pages() of %s, which this task has not frozen",
                     w.obj[o].label)
            return ex_fail(w, EXV_VIOLATION, buf)
        if ex_check_free(w, o, b"free_frozen_pages()"):
            return 1
        ex_free_folio(w, o)
        if w.violation:
            return 1
    elif ins.op == EX_TEST_MAPPING:
        o = ex_reg_obj(w, ti, r, b"folio_mapping()")
        if o < 0 or ex_access(w, ti, r, o, False, False, b"folio_mapping()"):
            return 1
        t.flag = mc_folio_mapping_word(ex_folio(w, o)) != 0
    elif ins.op == EX_CLEAR_MAPPING:
        o = ex_reg_obj(w, ti, r, b"page_cache_delete()")
        if o < 0 or ex_access(w, ti, r, o, True, False, b"page_cache_delete()"):
            return 1
        if w.st.sh[o].lock_owner != ti:
            snprintf(buf, sizeof(buf), "page_cache_delete() of %s without its folio lock",
                     w.obj[o].label)
            return ex_fail(w, EXV_VIOLATION, buf)
        mc_folio_set_mapping(ex_folio(w, o), 0)
        ex_dirty(w, o)
    elif ins.op == EX_TRYLOCK or ins.op == EX_LOCK_WAIT or ins.op == EX_LOCK_WAIT_NORECHECK:
        o = ex_reg_obj(w, ti, r, b"folio_lock()")
        if o < 0 or ex_access(w, ti, r, o, True, False,
                              b"folio_trylock()" if ins.op == EX_TRYLOCK else b"folio_lock()"):
            return 1
        fl = folio_flags(ex_folio(w, o), 0)
        if w.st.sh[o].lock_owner == ti:
            snprintf(buf, sizeof(buf), "folio_lock() of %s by the task that holds it: it would "
                     "sleep forever", w.obj[o].label)
            return ex_fail(w, EXV_VIOLATION, buf)
        if ins.op != EX_TRYLOCK:
            if t.rcu:
                return ex_fail(w, EXV_VIOLATION, b"folio_lock() may sleep: not inside rcu_read_lock()")
            __set_bit(PG_waiters, fl)            # folio_set_waiters()
        if ins.op == EX_LOCK_WAIT_NORECHECK:
            t.flag = 0
        else:
            t.flag = not test_and_set_bit(PG_locked, fl)
        if t.flag:
            w.st.sh[o].lock_owner = ti
        elif ins.op != EX_TRYLOCK:
            w.st.sh[o].waitq[w.st.sh[o].nwait] = ti
            w.st.sh[o].nwait += 1
            t.status = EXS_SLEEP
        ex_dirty(w, o)
    elif ins.op == EX_UNLOCK:
        o = ex_reg_obj(w, ti, r, b"folio_unlock()")
        if o < 0:
            return 1
        if w.st.sh[o].lock_owner != ti:
            snprintf(buf, sizeof(buf), "folio_unlock() of %s by a task that does not hold its lock",
                     w.obj[o].label)
            return ex_fail(w, EXV_VIOLATION, buf)
        fl = folio_flags(ex_folio(w, o), 0)
        v = fl[0]
        fl[0] = v & ~((<mc_ulong>1) << PG_locked)   # folio_xor_flags_has_waiters()
        t.flag = (v >> PG_waiters) & 1
        w.st.sh[o].lock_owner = -1
        ex_dirty(w, o)
    elif ins.op == EX_WAKE:
        o = ex_reg_obj(w, ti, r, b"folio_wake_bit()")
        if o < 0:
            return 1
        ex_wake(w, ti, o)
        ex_dirty(w, o)
    elif ins.op == EX_REUSE_FOLIO:
        ex_reuse_folio(w, ti, ins)
    elif ins.op == EX_REUSE_SLAB:
        ex_reuse_slab(w, ins)
    elif ins.op == EX_USE_LOOKUP or ins.op == EX_USE_PAGE or ins.op == EX_USE_LOCKED \
            or ins.op == EX_USE_CACHE:
        if ex_use(w, ti, ins):
            return 1
    elif ins.op == EX_ADD_TO_CACHE:
        o = ex_reg_obj(w, ti, r, b"filemap_add_folio()")
        if o < 0 or ex_access(w, ti, r, o, True, False, b"filemap_add_folio()"):
            return 1
        if t.held[o] == 0:
            return ex_fail(w, EXV_VIOLATION, b"filemap_add_folio() of a folio the task holds "
                                             b"no reference on")
        f = ex_folio(w, o)
        folio_ref_add(f, 1)
        w.st.sh[o].extern_refs += 1
        mc_folio_set_mapping(f, w.obj[ins.o].va)
        mc_folio_set_index(f, <mc_ulong>ins.imm)
        (<mc_ulong *>w.obj[ins.o2].host)[0] = t.reg[r]
        ex_dirty(w, o)
        ex_dirty(w, ins.o2)
    elif ins.op == EX_GIVE:
        o = ex_reg_obj(w, ti, r, b"handing a reference over")
        if o < 0:
            return 1
        if t.held[o] == 0:
            return ex_fail(w, EXV_VIOLATION, b"hands over a reference the task does not hold")
        t.held[o] -= 1
        w.st.sh[o].extern_refs += 1
        ex_dirty(w, o)
    elif ins.op == EX_GET:
        o = ex_reg_obj(w, ti, r, b"folio_get()")
        if o < 0 or ex_access(w, ti, r, o, True, False, b"folio_get()"):
            return 1
        f = ex_folio(w, o)
        if folio_ref_count(f) <= 0:
            snprintf(buf, sizeof(buf), "folio_get() on %s, whose refcount is 0: "
                     "VM_BUG_ON_FOLIO(!folio_ref_count(folio))", w.obj[o].label)
            return ex_fail(w, EXV_VIOLATION, buf)
        folio_ref_add(f, 1)
        t.held[o] += 1
        t.reg_gen[r] = w.st.sh[o].gen
        t.ref_mapping[r] = mc_folio_mapping_word(f)
        t.ref_index[r] = folio_index(f)
        ex_dirty(w, o)
    else:
        return ex_fail(w, EXV_ERROR, b"unknown step")
    t.pc += 1
    ex_run_local(w, ti)
    return 1 if w.violation else 0


cdef int ex_use(ex_world *w, int ti, ex_insn *ins) noexcept nogil:
    """The invariant a protocol exists for: the task uses the folio it found
    as the one it looked up, holding a reference on it."""
    cdef ex_task *t = &w.st.t[ti]
    cdef int r = ins.r, o
    cdef folio *f
    cdef folio *now
    cdef char buf[600]
    cdef mc_ulong mapping
    if t.reg[r] == 0:
        if ins.op == EX_USE_LOOKUP or ins.op == EX_USE_PAGE:
            return 0                # "nothing" is an answer a lookup may give
        return ex_fail(w, EXV_ERROR, b"a use of a NULL folio")
    o = ex_reg_obj(w, ti, r, b"using a folio")
    if o < 0:
        return 1
    f = ex_folio(w, o)
    if t.held[o] == 0 or t.reg_gen[r] != w.st.sh[o].gen:
        snprintf(buf, sizeof(buf), "uses %s (0x%llx) holding no reference on it as it is now "
                 "(looked up at generation %u, now %u: %s)", w.obj[o].label,
                 <unsigned long long>w.obj[o].va, t.reg_gen[r], w.st.sh[o].gen,
                 ex_type_name(w.st.sh[o].type))
        return ex_fail(w, EXV_VIOLATION, buf)
    if ins.op == EX_USE_LOOKUP:
        # what the folio was when the reference was taken: a truncate may
        # remove it after that, but it must have been this index's folio
        # (or the very folio the lookup loaded from the slot, not freed since:
        # the lookup then takes effect at its load)
        mapping = t.ref_mapping[r]
        if t.load_gen[r] != t.reg_gen[r] and \
                (mapping != w.obj[ins.o].va or t.ref_index[r] != <mc_ulong>ins.imm):
            snprintf(buf, sizeof(buf), "the lookup of index %d in %s returned %s, which was "
                     "at index %llu of %s when the reference was taken", ins.imm,
                     w.obj[ins.o].label, w.obj[o].label,
                     <unsigned long long>t.ref_index[r], ex_space_label(w, mapping))
            return ex_fail(w, EXV_VIOLATION, buf)
    elif ins.op == EX_USE_PAGE:
        now = mc_walker_folio(w.m, mc_pfn_to_page(w.m, w.obj[ins.o].pfn))
        if now != f:
            if now == NULL:
                snprintf(buf, sizeof(buf), "the walker uses %s as the folio of %s, but %s is "
                         "in no folio: it is %s now", w.obj[o].label, w.obj[ins.o].label,
                         w.obj[ins.o].label, ex_type_name(w.st.sh[ins.o].type))
            else:
                snprintf(buf, sizeof(buf), "the walker uses %s as the folio of %s, but %s now "
                         "belongs to %s", w.obj[o].label, w.obj[ins.o].label, w.obj[ins.o].label,
                         ex_label_of(w, now))
            return ex_fail(w, EXV_VIOLATION, buf)
    elif ins.op == EX_USE_LOCKED or ins.op == EX_USE_CACHE:
        if w.st.sh[o].lock_owner != ti or not (folio_flags(f, 0)[0] >> PG_locked) & 1:
            snprintf(buf, sizeof(buf), "uses %s as locked by this task, but it does not hold "
                     "PG_locked", w.obj[o].label)
            return ex_fail(w, EXV_VIOLATION, buf)
        if ins.op == EX_USE_CACHE and mc_folio_mapping_word(f) == 0:
            snprintf(buf, sizeof(buf), "isolates %s for migration as a page-cache folio, but "
                     "it is in no mapping", w.obj[o].label)
            return ex_fail(w, EXV_VIOLATION, buf)
    return 0


cdef const char *ex_space_label(ex_world *w, mc_ulong va) noexcept nogil:
    cdef int i
    if va == 0:
        return b"no mapping"
    for i in range(w.nobj):
        if w.obj[i].kind == EXO_SPACE and w.obj[i].va == va:
            return w.obj[i].label
    return b"another mapping"


cdef const char *ex_label_of(ex_world *w, folio *f) noexcept nogil:
    cdef int o
    if f == NULL:
        return b"no folio"
    o = ex_resolve(w, mc_folio_va(w.m, f))
    if o >= 0:
        return w.obj[o].label
    return b"another folio"


# ---- invariants after every step, and at the end ---------------------------------------

cdef int ex_invariants(ex_world *w) noexcept nogil:
    """Refcounts balance (a live, unfrozen folio's count is its owners'
    references plus the ones tasks hold), and PG_locked is set exactly when
    a task holds the lock."""
    cdef int o, ti, held
    cdef folio *f
    cdef bint locked
    cdef char buf[400]
    for o in range(w.nobj):
        if w.obj[o].kind != EXO_FOLIO or w.st.sh[o].type != EXT_FOLIO:
            continue
        f = ex_folio(w, o)
        held = 0
        for ti in range(w.ntask):
            held += w.st.t[ti].held[o]
        if w.st.sh[o].frozen_by >= 0:
            if folio_ref_count(f) != 0:
                snprintf(buf, sizeof(buf), "%s is frozen but its refcount is %d", w.obj[o].label,
                         folio_ref_count(f))
                return ex_fail(w, EXV_VIOLATION, buf)
        elif folio_ref_count(f) != w.st.sh[o].extern_refs + held:
            snprintf(buf, sizeof(buf), "refcount of %s is %d, but its owners hold %d and the "
                     "tasks %d", w.obj[o].label, folio_ref_count(f), w.st.sh[o].extern_refs, held)
            return ex_fail(w, EXV_VIOLATION, buf)
        locked = (folio_flags(f, 0)[0] >> PG_locked) & 1
        if locked != (w.st.sh[o].lock_owner >= 0):
            snprintf(buf, sizeof(buf), "PG_locked of %s is %s, but %s", w.obj[o].label,
                     b"set" if locked else b"clear",
                     b"no task holds the lock" if locked else b"a task holds the lock")
            return ex_fail(w, EXV_VIOLATION, buf)
    return 0


cdef int ex_terminal(ex_world *w) noexcept nogil:
    """No task can run: every one must have finished, holding nothing."""
    cdef int ti, o, n = 0
    cdef char buf[400]
    cdef char names[64]
    names[0] = 0
    for ti in range(w.ntask):
        if w.st.t[ti].status != EXS_DONE:
            n += 1
    if n:
        for ti in range(w.ntask):
            if w.st.t[ti].status == EXS_SLEEP:
                snprintf(buf, sizeof(buf), "deadlock: task %c sleeps forever on PG_locked of a "
                         "folio nobody will unlock or wake (a lost wake-up)", <char>(65 + ti))
                return ex_fail(w, EXV_VIOLATION, buf)
        for ti in range(w.ntask):
            if w.st.t[ti].status == EXS_RUN:
                snprintf(buf, sizeof(buf), "deadlock: task %c waits at step %d for something that "
                         "never happens", <char>(65 + ti), w.st.t[ti].pc)
                return ex_fail(w, EXV_VIOLATION, buf)
    for ti in range(w.ntask):
        if w.st.t[ti].rcu:
            snprintf(buf, sizeof(buf), "task %c ended inside rcu_read_lock()", <char>(65 + ti))
            return ex_fail(w, EXV_VIOLATION, buf)
        for o in range(w.nobj):
            if w.st.t[ti].held[o]:
                snprintf(buf, sizeof(buf), "task %c ended holding %d reference(s) on %s: a leak",
                         <char>(65 + ti), w.st.t[ti].held[o], w.obj[o].label)
                return ex_fail(w, EXV_VIOLATION, buf)
            if w.st.sh[o].lock_owner == ti:
                snprintf(buf, sizeof(buf), "task %c ended holding the lock of %s", <char>(65 + ti),
                         w.obj[o].label)
                return ex_fail(w, EXV_VIOLATION, buf)
    return 0


cdef int ex_step(ex_world *w, int ti) noexcept nogil:
    """ex_exec(), then the hash update and the invariants."""
    cdef uint64_t full
    w.dirty = 0
    if ex_exec(w, ti):
        ex_rehash(w, w.dirty)
        return 1
    ex_rehash(w, w.dirty)
    if w.verify_hash:
        full = ex_full_hash(w)
        if full != w.H:
            return ex_fail(w, EXV_ERROR, b"the incremental state hash drifted from a full re-hash "
                                         b"(a step did not mark what it wrote)")
    return ex_invariants(w)


# ---- the visited set: 64-bit state fingerprints -----------------------------------------

cdef int ex_vis_grow(ex_world *w) noexcept nogil:
    cdef uint64_t ncap = w.vis_cap * 2 if w.vis_cap else 1 << 12
    cdef uint64_t *nk = <uint64_t *>calloc(ncap, 8)
    cdef unsigned char *ns = <unsigned char *>calloc(ncap, 1)
    cdef uint64_t i, j
    if nk == NULL or ns == NULL:
        free(nk)
        free(ns)
        return -1
    for i in range(w.vis_cap):
        if w.vis_key[i]:
            j = w.vis_key[i] & (ncap - 1)
            while nk[j]:
                j = (j + 1) & (ncap - 1)
            nk[j] = w.vis_key[i]
            ns[j] = w.vis_sleep[i]
    free(w.vis_key)
    free(w.vis_sleep)
    w.vis_key = nk
    w.vis_sleep = ns
    w.vis_cap = ncap
    return 0


cdef int64_t ex_vis_find(ex_world *w, uint64_t h, bint *found) noexcept nogil:
    """The slot of fingerprint h (found), or where it would go; -1: no memory."""
    cdef uint64_t j
    if h == 0:
        h = 1
    if (w.vis_n + 1) * 2 > w.vis_cap:
        if ex_vis_grow(w):
            return -1
    j = h & (w.vis_cap - 1)
    while w.vis_key[j]:
        if w.vis_key[j] == h:
            found[0] = True
            return j
        j = (j + 1) & (w.vis_cap - 1)
    found[0] = False
    return j


# ---- depth-first exploration with state caching and sleep sets ----------------------------

cdef int ex_dfs(ex_world *w, int depth, uint32_t sleep) noexcept nogil:
    """Explore every interleaving from the current state; 1 stops the search
    (a violation, an error, the state limit)."""
    cdef uint32_t enabled, todo, explored = 0, child_sleep, stored
    cdef uint32_t rd[EX_TASKS]
    cdef uint32_t wr[EX_TASKS]
    cdef uint64_t h = w.H if w.H else 1
    cdef int64_t slot
    cdef bint found
    cdef int ti, u
    cdef char *frame
    enabled = ex_enabled(w)
    if enabled == 0:
        w.terminals += 1
        w.path_len = depth
        return ex_terminal(w)
    slot = ex_vis_find(w, h, &found)
    if slot < 0:
        return ex_fail(w, EXV_ERROR, b"out of memory for the visited states")
    if found:
        stored = w.vis_sleep[slot]
        if not w.por or (stored & ~sleep & enabled) == 0:
            w.revisits += 1
            return 0
        todo = stored & ~sleep & enabled
        explored = enabled & ~stored
        w.vis_sleep[slot] = <unsigned char>(stored & sleep)
    else:
        w.vis_key[slot] = h
        w.vis_sleep[slot] = <unsigned char>(sleep if w.por else 0)
        w.vis_n += 1
        w.states += 1
        todo = enabled & ~sleep if w.por else enabled
        if w.states >= w.max_states:
            w.limit_hit = 1
            return 1
    if depth >= w.max_depth:
        w.depth_cuts += 1
        return 0
    frame = w.frames + <size_t>depth * w.frame_size
    ex_save(w, frame)
    for ti in range(w.ntask):
        if (enabled >> ti) & 1:
            ex_access_set(w, ti, &rd[ti], &wr[ti])
    for ti in range(w.ntask):
        if not (todo >> ti) & 1:
            continue
        w.path[depth] = ti
        w.transitions += 1
        if ex_step(w, ti):
            w.path_len = depth + 1
            return 1
        child_sleep = 0
        if w.por:
            for u in range(w.ntask):
                if ((sleep | explored) >> u) & 1 and (wr[ti] & rd[u]) == 0 and (wr[u] & rd[ti]) == 0:
                    child_sleep |= 1u << u
        if ex_dfs(w, depth + 1, child_sleep):
            return 1
        ex_restore(w, frame)
        explored |= 1u << ti
    return 0


cdef inline uint64_t ex_splitmix(uint64_t *s) noexcept nogil:
    cdef uint64_t z
    s[0] += <uint64_t>0x9e3779b97f4a7c15
    z = s[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xbf58476d1ce4e5b9
    z = (z ^ (z >> 27)) * <uint64_t>0x94d049bb133111eb
    return z ^ (z >> 31)


cdef int ex_random(ex_world *w, const char *root, uint64_t runs, uint64_t seed,
                   uint64_t *done) noexcept nogil:
    """`runs` schedules, each task chosen uniformly among the enabled ones at
    every step (seeded); 1 at the first violation (w.path holds it)."""
    cdef uint64_t run, s = seed
    cdef uint32_t enabled
    cdef int depth, n, k, ti
    for run in range(runs):
        ex_restore(w, root)
        done[0] = run + 1
        depth = 0
        while True:
            enabled = ex_enabled(w)
            if enabled == 0:
                w.terminals += 1
                w.path_len = depth
                if ex_terminal(w):
                    return 1
                break
            if depth >= w.max_depth:
                w.depth_cuts += 1
                break
            n = 0
            for ti in range(w.ntask):
                n += (enabled >> ti) & 1
            k = <int>(ex_splitmix(&s) % <uint64_t>n)
            for ti in range(w.ntask):
                if (enabled >> ti) & 1:
                    if k == 0:
                        break
                    k -= 1
            w.path[depth] = ti
            depth += 1
            w.transitions += 1
            w.states += 1
            if ex_step(w, ti):
                w.path_len = depth
                return 1
    return 0


# ---- the Python class: memcore/explore.py builds a scenario on it ------------------------

cdef class Explorer:
    """The variant's interleaving explorer over a live Machine.  Use
    memcore.explore.Scenario, which registers objects, compiles task programs
    from named steps and formats what the search finds; every call here
    leaves the Machine as it found it."""
    cdef ex_world *w
    cdef readonly Machine machine
    cdef char *root
    cdef bint started
    cdef public object _sink

    def __cinit__(self, Machine machine):
        machine._ready()
        if machine.kasan:
            raise ValueError("the explorer runs on a machine without KASAN (its shadow memory "
                             "is not in a scenario's footprint)")
        self.machine = machine
        self.w = <ex_world *>calloc(1, sizeof(ex_world))
        if self.w == NULL:
            raise MemoryError("the explorer's state")
        self.w.m = machine.m
        self.w.separate_desc = mc_desc_cache_of(MC_DK_FOLIO, 0) >= 0

    def __dealloc__(self):
        # every search restores the machine before it returns: nothing to undo
        if self.w != NULL:
            free(self.w.frames)
            free(self.w.vis_key)
            free(self.w.vis_sleep)
            free(self.w)
            self.w = NULL
        free(self.root)
        self.root = NULL

    @property
    def separate_descriptors(self):
        """True when the design allocates folio descriptors apart from the
        struct pages (interim, flags_memdesc, memdesc); False on classic,
        where a folio is its head struct page."""
        return bool(self.w.separate_desc)

    @property
    def limits(self):
        return {"tasks": EX_TASKS, "registers": EX_REGS, "objects": EX_OBJS, "steps": EX_PROG}

    def _not_started(self):
        if self.started:
            raise RuntimeError("the scenario has started: objects and tasks are fixed")

    def add_object(self, int kind, str label, mc_ulong va=0, uint64_t pfn=0, int state=EXT_FOLIO,
                   int extern_refs=0, bint typesafe=True):
        """Register an object; its index."""
        cdef ex_world *w = self.w
        cdef ex_obj *ob
        cdef mc_machine *m = self.machine.m
        cdef int size
        self._not_started()
        if w.nobj >= EX_OBJS:
            raise ValueError(f"a scenario has at most {EX_OBJS} objects")
        ob = &w.obj[w.nobj]
        memset(ob, 0, sizeof(ex_obj))
        ob.kind = kind
        ob.typesafe = typesafe
        if kind == EXO_FOLIO:
            if not mc_folio_desc_live(m, va):
                raise ValueError(f"{label}: 0x{va:x} is not a live folio")
            ob.va = va
            ob.host = <char *>mc_va_to_folio(m, va)
            size = MC_SIZEOF_FOLIO
            if not typesafe and <int>sizeof(slab) > size:
                size = sizeof(slab)
            ob.size = size
            ob.pfn = folio_pfn(m, mc_va_to_folio(m, va))
        elif kind == EXO_PAGE:
            if pfn >= m.nr_pfns:
                raise ValueError(f"{label}: PFN {pfn} is outside the machine")
            ob.pfn = pfn
            ob.host = <char *>mc_pfn_to_page(m, pfn)
            ob.size = MC_SIZEOF_PAGE
            ob.va = self.machine.memmap_address + pfn * MC_SIZEOF_PAGE
        elif kind == EXO_SLOT:
            ob.va = va
            ob.host = <char *>mc_host(m, va)
            if ob.host == NULL:
                raise ValueError(f"{label}: 0x{va:x} is not modeled memory")
            ob.size = sizeof(mc_ulong)
        elif kind == EXO_SPACE:
            ob.va = va
        elif kind == EXO_SLABDESC:
            ci = mc_desc_cache_of(MC_DK_SLAB, 0)
            if ci < 0:
                raise ValueError("this design has no slab descriptors: a slab is its struct page")
            # a free object of the slab_desc cache: the one its next
            # kmem_cache_alloc() returns (allocated and freed again here)
            ob.va = desc_alloc(m, ci, -1, 0)
            if ob.va == 0:
                raise MemoryError("no memory for a slab descriptor")
            desc_free(m, ci, ob.va, 0)
            ob.host = <char *>mc_host(m, ob.va)
            ob.size = sizeof(slab)
            state = EXT_NONE
        else:
            raise ValueError(f"unknown object kind {kind}")
        lb = label.encode()[:39]
        memcpy(ob.label, <char *>lb, len(lb))
        ob.label[len(lb)] = 0
        w.st.sh[w.nobj].type = state
        w.st.sh[w.nobj].extern_refs = extern_refs
        w.st.sh[w.nobj].frozen_by = -1
        w.st.sh[w.nobj].lock_owner = -1
        for i in range(EX_TASKS):
            w.st.sh[w.nobj].waitq[i] = -1
        w.nobj += 1
        return w.nobj - 1

    def object_va(self, int o):
        return self.w.obj[o].va

    def object_span(self, int o):
        """(host address, bytes) of object o's footprint: which objects overlap."""
        if not 0 <= o < self.w.nobj:
            raise IndexError(o)
        return (<uintptr_t>self.w.obj[o].host, self.w.obj[o].size)

    def add_task(self, list program):
        """Add a task running `program`: (op, r, o, o2, imm, target) tuples."""
        cdef ex_world *w = self.w
        cdef int ti, pc
        self._not_started()
        if w.ntask >= EX_TASKS:
            raise ValueError(f"a scenario runs at most {EX_TASKS} tasks")
        if not 0 < len(program) <= EX_PROG:
            raise ValueError(f"a task's program has 1 to {EX_PROG} steps")
        ti = w.ntask
        memset(&w.st.t[ti], 0, sizeof(ex_task))
        for r in range(EX_REGS):
            w.st.t[ti].reg_obj[r] = -1
        for pc, insn in enumerate(program):
            op, r, o, o2, imm, target = insn
            if not (-1 <= r < EX_REGS and -1 <= o < w.nobj and -1 <= o2 < w.nobj
                    and 0 <= target < len(program)):
                raise ValueError(f"task {ti} step {pc}: an operand is out of range")
            w.prog[ti][pc].op = op
            w.prog[ti][pc].r = r
            w.prog[ti][pc].o = o
            w.prog[ti][pc].o2 = o2
            w.prog[ti][pc].imm = imm
            w.prog[ti][pc].target = target
        w.plen[ti] = len(program)
        w.ntask += 1
        return ti

    def hold(self, int ti, int r, int o, int refs=1):
        """Task ti starts with object o in register r and `refs` references on it
        (taken from the object's owners' count)."""
        cdef ex_world *w = self.w
        self._not_started()
        if not (0 <= ti < w.ntask and 0 <= r < EX_REGS and 0 <= o < w.nobj):
            raise ValueError("hold(): task, register or object out of range")
        if w.obj[o].kind != EXO_FOLIO:
            raise ValueError(f"hold(): {w.obj[o].label.decode()} is not a folio")
        if not 0 <= refs <= 100:
            raise ValueError("hold(): refs is 0..100")
        w.st.t[ti].reg[r] = w.obj[o].va
        w.st.t[ti].reg_obj[r] = o
        w.st.t[ti].reg_gen[r] = w.st.sh[o].gen
        w.st.t[ti].load_gen[r] = w.st.sh[o].gen
        w.st.t[ti].held[o] += refs
        w.st.sh[o].extern_refs -= refs

    def start(self):
        """Fix the scenario: overlaps, the footprint, the first hash; run each
        task's leading local steps.  Raises ValueError if the start state
        already breaks an invariant."""
        cdef ex_world *w = self.w
        cdef int i, j, ti
        cdef size_t fs
        if self.started:
            return
        if w.ntask == 0:
            raise ValueError("a scenario needs at least one task")
        w.footprint = 0
        for i in range(w.nobj):
            w.alias[i] = 0
            if w.obj[i].kind == EXO_SPACE:
                continue
            w.footprint += w.obj[i].size
            for j in range(w.nobj):
                if j != i and w.obj[j].kind != EXO_SPACE and \
                        w.obj[i].host < w.obj[j].host + w.obj[j].size and \
                        w.obj[j].host < w.obj[i].host + w.obj[i].size:
                    w.alias[i] |= 1u << j
        self._validate()
        w.frame_size = w.footprint + sizeof(ex_state) + sizeof(w.comp) + 8
        self.root = <char *>malloc(w.frame_size)
        if self.root == NULL:
            raise MemoryError("the explorer's root state")
        for ti in range(w.ntask):
            ex_run_local(w, ti)
        ex_hash_init(w)
        ex_save(w, self.root)
        self.started = True
        if w.violation or ex_invariants(w):
            msg = w.msg.decode()
            w.violation = 0
            raise ValueError(f"the scenario's start state is inconsistent: {msg}")

    def _validate(self):
        """Operands of the right kinds, and every page a step may write in the
        footprint: a folio's pages (its free rewrites them) and the pages an
        allocation takes."""
        cdef ex_world *w = self.w
        cdef int i, ti, pc, op, r, o, o2
        cdef uint64_t k, nr
        need_reg = {EX_LOAD_SLOT, EX_RECHECK_SLOT, EX_LOAD_FOLIO, EX_RECHECK_FOLIO, EX_TRY_GET,
                    EX_PUT, EX_FREEZE, EX_FREE, EX_TEST_MAPPING, EX_CLEAR_MAPPING, EX_TRYLOCK,
                    EX_LOCK_WAIT, EX_LOCK_WAIT_NORECHECK, EX_UNLOCK, EX_WAKE, EX_REUSE_FOLIO,
                    EX_USE_LOOKUP, EX_USE_PAGE, EX_USE_LOCKED, EX_USE_CACHE, EX_ADD_TO_CACHE,
                    EX_GIVE, EX_GET, EX_BR_ZERO, EX_CLEAR}
        kinds = {EX_LOAD_SLOT: (EXO_SLOT, None), EX_STORE_SLOT: (EXO_SLOT, None),
                 EX_RECHECK_SLOT: (EXO_SLOT, None), EX_LOAD_FOLIO: (EXO_PAGE, None),
                 EX_RECHECK_FOLIO: (EXO_PAGE, None), EX_PUT_EXTERN: (EXO_FOLIO, None),
                 EX_REUSE_FOLIO: (EXO_FOLIO, EXO_PAGE), EX_REUSE_SLAB: (EXO_PAGE, "desc"),
                 EX_USE_LOOKUP: (EXO_SPACE, None), EX_USE_PAGE: (EXO_PAGE, None),
                 EX_ADD_TO_CACHE: (EXO_SPACE, EXO_SLOT)}
        names = {EXO_FOLIO: "a folio", EXO_PAGE: "a page", EXO_SLOT: "a slot",
                 EXO_SPACE: "a mapping"}
        for ti in range(w.ntask):
            for pc in range(w.plen[ti]):
                op, r = w.prog[ti][pc].op, w.prog[ti][pc].r
                o, o2 = w.prog[ti][pc].o, w.prog[ti][pc].o2
                where = f"task {ti} step {pc}"
                if op in need_reg and not 0 <= r < EX_REGS:
                    raise ValueError(f"{where}: this step needs a register (r0..r{EX_REGS - 1})")
                if op == EX_STORE_SLOT and not -1 <= r < EX_REGS:
                    raise ValueError(f"{where}: the value is a register or NULL")
                if op in kinds:
                    k1, k2 = kinds[op]
                    if o < 0 or w.obj[o].kind != k1:
                        raise ValueError(f"{where}: the object operand must be {names[k1]}")
                    if k2 == "desc":
                        if o2 >= 0 and (not w.separate_desc or
                                        w.obj[o2].kind not in (EXO_SLABDESC, EXO_FOLIO) or
                                        (w.obj[o2].kind == EXO_FOLIO and w.obj[o2].typesafe) or
                                        w.obj[o2].size < <int>sizeof(slab)):
                            raise ValueError(
                                f"{where}: a slab's descriptor is a slab descriptor object (or "
                                "the memory of a folio whose cache is not TYPESAFE_BY_RCU); "
                                "classic has none: pass None")
                    elif k2 is not None and (o2 < 0 or w.obj[o2].kind != k2):
                        raise ValueError(f"{where}: the second object must be {names[k2]}")
                if op == EX_REUSE_FOLIO and not 0 <= w.prog[ti][pc].imm <= 10:
                    raise ValueError(f"{where}: an order is 0..10")
        for i in range(w.nobj):
            if w.obj[i].kind == EXO_FOLIO:
                nr = folio_nr_pages(mc_va_to_folio(w.m, w.obj[i].va))
                for k in range(nr):
                    if ex_page_of(w, w.obj[i].pfn + k) < 0:
                        raise ValueError(f"{w.obj[i].label.decode()}: its page PFN "
                                         f"{w.obj[i].pfn + k} is not an object of the scenario "
                                         "(freeing the folio rewrites it)")
        for ti in range(w.ntask):
            for pc in range(w.plen[ti]):
                if w.prog[ti][pc].op == EX_REUSE_FOLIO:
                    if w.prog[ti][pc].o < 0 or w.prog[ti][pc].o2 < 0 or \
                            w.obj[w.prog[ti][pc].o2].kind != EXO_PAGE:
                        raise ValueError(f"task {ti} step {pc}: alloc_folio() takes a folio "
                                         "descriptor and a page")
                    for k in range(<uint64_t>1 << w.prog[ti][pc].imm):
                        if ex_page_of(w, w.obj[w.prog[ti][pc].o2].pfn + k) < 0:
                            raise ValueError(f"task {ti} step {pc}: alloc_folio()'s page PFN "
                                             f"{w.obj[w.prog[ti][pc].o2].pfn + k} is not an "
                                             "object of the scenario")
                elif w.prog[ti][pc].op == EX_REUSE_SLAB:
                    if w.prog[ti][pc].o < 0 or w.obj[w.prog[ti][pc].o].kind != EXO_PAGE:
                        raise ValueError(f"task {ti} step {pc}: alloc_slab() takes a page")

    cdef void _reset(self):
        ex_restore(self.w, self.root)
        self.w.violation = EXV_NONE
        self.w.msg[0] = 0
        self.w.path_len = 0
        self.w.states = self.w.transitions = self.w.revisits = 0
        self.w.terminals = self.w.depth_cuts = 0
        self.w.limit_hit = 0

    cdef _result(self, str mode, double seconds):
        cdef ex_world *w = self.w
        if w.violation == EXV_ERROR:
            msg = w.msg.decode()
            raise ValueError(f"the scenario cannot run: {msg}")
        return {
            "mode": mode,
            "violation": w.msg.decode() if w.violation == EXV_VIOLATION else None,
            "schedule": [w.path[i] for i in range(w.path_len)] if w.violation else None,
            "states": w.states,
            "transitions": w.transitions,
            "revisits": w.revisits,
            "terminals": w.terminals,
            "depth_cuts": w.depth_cuts,
            "state_limit_hit": bool(w.limit_hit),
            "exhaustive": mode == "exhaustive" and not w.violation and not w.limit_hit
                          and not w.depth_cuts,
            "seconds": seconds,
            "footprint_bytes": w.footprint,
        }

    cdef void _prepare(self, int max_depth, uint64_t max_states, bint por, bint verify) except *:
        cdef ex_world *w = self.w
        if not self.started:
            self.start()
        if not 0 < max_depth < 4096:
            raise ValueError("max_depth must be 1..4095")
        if max_states < 1:
            raise ValueError("max_states must be at least 1")
        free(w.frames)
        w.frames = <char *>malloc(<size_t>(max_depth + 1) * w.frame_size)
        if w.frames == NULL:
            raise MemoryError("the explorer's stack")
        free(w.vis_key)
        free(w.vis_sleep)
        w.vis_key = NULL
        w.vis_sleep = NULL
        w.vis_cap = w.vis_n = 0
        w.max_depth = max_depth
        w.max_states = max_states
        w.por = por
        w.verify_hash = verify
        self._check_unchanged()
        self._reset()

    cdef void _check_unchanged(self) except *:
        """The machine's footprint must be what it was at start()."""
        cdef ex_world *w = self.w
        cdef int i, off = 0
        for i in range(w.nobj):
            if w.obj[i].kind == EXO_SPACE:
                continue
            if memcmp(w.obj[i].host, self.root + off, w.obj[i].size) != 0:
                raise RuntimeError(f"the Machine changed {w.obj[i].label.decode()} since the "
                                   "scenario was built: build the scenario again")
            off += w.obj[i].size

    def explore(self, int max_depth=500, uint64_t max_states=50_000_000, bint por=True,
                bint verify_hash=False):
        """Every interleaving, depth first with state caching (and sleep sets
        when por): a dict with the counts and the first violation, if any."""
        cdef ex_world *w = self.w
        cdef double t0
        self._prepare(max_depth, max_states, por, verify_hash)
        t0 = time.perf_counter()
        try:
            ex_dfs(w, 0, 0)
        finally:
            seconds = time.perf_counter() - t0
            ex_restore(w, self.root)
        return self._result("exhaustive", seconds)

    def random(self, uint64_t runs, uint64_t seed=0, int max_depth=500, bint verify_hash=False):
        """`runs` random schedules from `seed`; a dict like explore()'s."""
        cdef ex_world *w = self.w
        cdef uint64_t done = 0
        cdef double t0
        self._prepare(max_depth, 1, False, verify_hash)
        t0 = time.perf_counter()
        try:
            ex_random(w, self.root, runs, seed, &done)
        finally:
            seconds = time.perf_counter() - t0
            ex_restore(w, self.root)
        r = self._result("random", seconds)
        r["runs"] = done
        return r

    def replay(self, schedule):
        """Run a schedule (task numbers) step by step from the start state.
        Returns a list with one record per step: task, pc before, op, the
        bytes of every object after it, the tasks' state, and the violation
        the step raised (or None); then the end check's violation, if the
        schedule ran to the end."""
        cdef ex_world *w = self.w
        cdef int ti, pc
        self._prepare(1, 1, False, True)
        out = []
        try:
            for n, ti in enumerate(schedule):
                if not 0 <= ti < w.ntask:
                    raise ValueError(f"step {n}: there is no task {ti}")
                if not ex_enabled_task(w, ti):
                    raise ValueError(f"step {n}: task {ti} cannot run here "
                                     f"({self._task(ti)['status']})")
                pc = w.st.t[ti].pc
                op = w.prog[ti][pc].op
                ex_step(w, ti)
                if w.violation == EXV_ERROR:
                    raise ValueError(f"the scenario cannot run: {w.msg.decode()}")
                out.append({"task": ti, "pc": pc, "op": op, "memory": self._memory(),
                            "tasks": [self._task(i) for i in range(w.ntask)],
                            "objects": [self._shadow(i) for i in range(w.nobj)],
                            "violation": w.msg.decode() if w.violation else None})
                if w.violation:
                    break
            end = None
            if not w.violation and ex_enabled(w) == 0:
                if ex_terminal(w):
                    end = w.msg.decode()
        finally:
            ex_restore(w, self.root)
            w.violation = EXV_NONE
        return out, end

    def _bench_full_hash(self, uint64_t n):
        """Benchmark baseline: ns per full re-hash of the start state (every
        object's bytes, the explorer's facts and the tasks), n times in C."""
        cdef uint64_t i, acc = 0
        cdef double t0
        if not self.started:
            self.start()
        t0 = time.perf_counter_ns()
        for i in range(n):                  # with the GIL: it reads machine memory
            acc ^= ex_full_hash(self.w) + i
        t1 = time.perf_counter_ns()
        self._sink = acc                # the hashes are used: the loop stays
        return (t1 - t0) / n

    def initial(self):
        """The start state: every object's bytes, the tasks and objects."""
        cdef ex_world *w = self.w
        if not self.started:
            self.start()
        return {"memory": self._memory(), "tasks": [self._task(i) for i in range(w.ntask)],
                "objects": [self._shadow(i) for i in range(w.nobj)]}

    cdef list _memory(self):
        cdef ex_world *w = self.w
        return [w.obj[i].host[:w.obj[i].size] if w.obj[i].kind != EXO_SPACE else b""
                for i in range(w.nobj)]

    cdef dict _task(self, int ti):
        cdef ex_task *t = &self.w.st.t[ti]
        return {"pc": t.pc, "status": ("running", "sleeping", "done")[t.status], "rcu": t.rcu,
                "flag": t.flag, "regs": [t.reg[i] for i in range(EX_REGS)],
                "held": [t.held[i] for i in range(self.w.nobj)]}

    cdef dict _shadow(self, int o):
        cdef ex_sh *sh = &self.w.st.sh[o]
        return {"type": ("none", "folio", "free", "slab")[sh.type], "gen": sh.gen,
                "extern_refs": sh.extern_refs, "frozen_by": sh.frozen_by,
                "lock_owner": sh.lock_owner, "waiters": [sh.waitq[i] for i in range(sh.nwait)]}

    def close(self):
        """Free the search's buffers (the visited set, the stack).  The machine
        needs nothing: every search restores it before it returns."""
        free(self.w.frames)
        free(self.w.vis_key)
        free(self.w.vis_sleep)
        self.w.frames = NULL
        self.w.vis_key = NULL
        self.w.vis_sleep = NULL
        self.w.vis_cap = self.w.vis_n = 0

    def set_label(self, int o, str label):
        """Rename object o (the name counterexamples print)."""
        if not 0 <= o < self.w.nobj:
            raise IndexError(o)
        lb = label.encode()[:39]
        memcpy(self.w.obj[o].label, <char *>lb, len(lb))
        self.w.obj[o].label[len(lb)] = 0


def _xa_head_address(mc_ulong mapping_va):
    """The address of a mapping's i_pages.xa_head (where a one-entry XArray
    keeps its entry for index 0)."""
    return mapping_i_pages(mapping_va) + <mc_ulong>(&(<xarray *>0).xa_head)
