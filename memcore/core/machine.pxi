# Machine: a modeled computer running the variant's memory-management code.
#
# A facade: each method validates its arguments, makes one call into the
# subsystem that does the work, and returns a view or a value.  The work is
# in boot.pxi (booting), tasks.pxi (tasks, bit locks, the wait table),
# page_api.pxi (folios, zones, stats, check, bulk), rcu.pxi, slab_api.pxi
# and kasan_api.pxi; errors become exceptions in errors.pxi.
#
# Provides: Machine.
# Uses: every file included before it (memcore/_variant.pxi).

from cpython.long cimport PyLong_AsLongLongAndOverflow


@cython.final
@cython.auto_pickle(False)
cdef class Machine:
    """A modeled machine: memmap, physical memory, zones, buddy allocator, pcp lists.

    Use ``memcore.Machine(ram=..., design=..., bits=...)``, which picks the
    compiled variant; this class is that variant's implementation.
    """
    cdef mc_machine *m
    cdef readonly object ram
    cdef tuple _ram_ranges           # ((start, end) bytes of each RAM range)
    cdef object _snapshot_boot       # from_snapshot()'s report (None: booted empty)
    cdef object _boot_hold               # from_snapshot(): (pfns, orders, held) kept from the boot
    cdef readonly int bits
    cdef readonly str design
    cdef readonly str config
    cdef readonly object flags_layout
    cdef list _tasks                 # Task views by id (mc_machine.tasks[id])
    cdef Task _current               # the default task (m.current)
    cdef bint _booting               # __init__ has started: it never runs again
    cdef bint _booted                # __init__ has finished: the machine can run
    cdef dict _task_by_name
    cdef object PG                   # enum pageflags of this variant
    cdef readonly RCU rcu            # the RCU grace-period engine
    cdef dict _caches                # kmem_cache name -> address
    cdef dict _cache_names           # kmem_cache address -> name
    cdef list _ctors                 # constructors; kmem_cache.ctor is index + 1
    cdef object _ctor_error          # what the last failed constructor raised
    cdef set _kfree_rcu_queued       # addresses kfree_rcu() has queued, not yet freed
    cdef object _percpu              # the per-CPU area allocator
    cdef readonly bint kasan         # KASAN-style checking of accesses and frees
    cdef dict _random_seqs           # kmem_cache.random_seq -> bytes; None: to rebuild
    cdef dict _mappings              # address_space name -> AddressSpace
    cdef bytearray _kimage           # the kernel image's variables (core/kimage.pxi)
    cdef dict _kimage_names          # cache name -> its string in _kimage

    def __cinit__(self):
        self.m = <mc_machine *>calloc(1, sizeof(mc_machine))
        if self.m == NULL:
            raise MemoryError()

    def __dealloc__(self):
        if self.m != NULL:
            if self.m.phys != NULL:
                munmap(self.m.phys, self.m.phys_bytes)
            if self.m.buddy_links != NULL:
                munmap(self.m.buddy_links, buddy_links_bytes(self.m))
            if self.m.kasan_shadow != NULL:
                munmap(self.m.kasan_shadow, shadow_bytes(self.m))
            if self.m.obj_bitmap != NULL:
                munmap(self.m.obj_bitmap, obj_bitmap_bytes(self.m))
            if self.m.obj_gen != NULL:
                munmap(self.m.obj_gen, obj_gen_bytes(self.m))
            free(self.m.pfn_gen)
            free(self.m.memmap)
            free(self.m.pfn_marks)
            tasks_release(self.m)
            free(self.m)
            self.m = NULL

    def __init__(self, ram="4GiB", *, config=None, nodes=1, cpus=2, min_free_kbytes=None,
                 watermark_scale_factor=10, kasan=False, seed=0, freelist_hardened=True,
                 freelist_random=True, slab_debug=None):
        import memcore.flagslayout as _fl
        from memcore.enums import pageflags
        # boots exactly once: a second __init__ would rebuild a live machine under its views
        if self._booting:
            raise MemcoreError("this Machine has already been booted (__init__ runs once)")
        # every argument is checked before any state changes
        import memcore.kconfig as _kc
        # a name, KEY=VALUE overrides or a .config file, checked against the
        # configuration compiled into this variant (memcore.kconfig)
        config = _kc.machine_config(config, MC_CONFIG_NAME.decode(), MC_BITS,
                                    MC_DESIGN_NAME.decode())
        ranges = machine_ram_ranges(ram)
        self.config = config
        machine_check_geometry(self, ranges, nodes, cpus)
        if min_free_kbytes is not None:
            if isinstance(min_free_kbytes, bool) or not isinstance(min_free_kbytes, int):
                raise TypeError(f"min_free_kbytes must be an int or None, "
                                f"not {type(min_free_kbytes).__name__}")
            if not 0 <= min_free_kbytes <= INT_MAX:
                raise ValueError(f"min_free_kbytes must be 0..{INT_MAX} (an int sysctl), "
                                 f"not {min_free_kbytes}")
        if isinstance(watermark_scale_factor, bool) or not isinstance(watermark_scale_factor, int):
            raise TypeError(f"watermark_scale_factor must be an int, "
                            f"not {type(watermark_scale_factor).__name__}")
        if not 1 <= watermark_scale_factor <= 3000:
            raise ValueError(f"watermark_scale_factor must be 1..3000 (the sysctl's range), "
                             f"not {watermark_scale_factor}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, not {type(seed).__name__}")
        self._booting = True
        self.bits = MC_BITS
        self.design = MC_DESIGN_NAME.decode()
        self.flags_layout = _fl.flags_layout(config)
        self.PG = pageflags(self.design, self.bits)
        self.ram = sum(e - s for s, e in ranges) << PAGE_SHIFT
        self._ram_ranges = tuple((Address(s << PAGE_SHIFT), Address(e << PAGE_SHIFT))
                                 for s, e in ranges)
        self._tasks = []
        self._task_by_name = {}
        self._caches = {}
        self._cache_names = {}
        self._ctors = []
        self.m.ctor_hook = ctor_hook
        self.m.ctor_ctx = <void *>self             # borrowed: the Machine owns m
        self._kfree_rcu_queued = set()
        self._mappings = {}
        self.kasan = bool(kasan)
        self.m.rng = seed & 0xffffffffffffffff
        self.m.freelist_hardened = bool(freelist_hardened)
        self.m.freelist_random = bool(freelist_random)
        self.m.slub_debug = parse_slab_debug(slab_debug)
        self.m.watermark_scale_factor = watermark_scale_factor
        self.m.nr_cpus = cpus
        _allow_view()
        self.rcu = RCU(self)
        self._current = machine_task(self, "init", 0)
        machine_boot(self, ranges, nodes, cpus, min_free_kbytes)
        self._booted = True

    @property
    def current(self):
        """The task operations run as when no task= is given (``with task:`` sets it)."""
        return self._current

    @current.setter
    def current(self, task):
        if not isinstance(task, Task) or (<Task>task).machine is not self:
            raise TypeError(f"the current task must be a Task of this machine, not {task!r}")
        self._current = task

    # ---- boot ----------------------------------------------------------------------





    @property
    def ram_ranges(self):
        """The RAM as physical [start, end) byte ranges, sorted; between them are holes
        (a size is one range from 0, or on x86_64 above 3 GiB two: below the PCI
        hole and from 4 GiB)."""
        return self._ram_ranges

    @property
    def snapshot_boot(self):
        """What from_snapshot() placed, as a dict (None for a machine booted empty):
        placed_pages/placed_blocks per kind, displaced_pages per class, zones next
        to the snapshot's zoneinfo, free_blocks per zone and order (model,
        expected, model_in_snapshot_free, derived, buddyinfo, buddyinfo_after,
        quiet), notes.  See memcore/snapshot_boot.py."""
        return self._snapshot_boot

    @classmethod
    def from_snapshot(cls, snapshot, design=None, bits=None, **kwargs):
        """Boot a machine with a real machine's memory map and page state.

        ``snapshot`` is a path to a ``memcore snapshot save`` file or a loaded
        ``memcore.snapshot.Snapshot``; design and bits default to this
        variant's (``memcore.Machine.from_snapshot`` defaults to classic,
        64).  The other keywords are the Machine's (cpus defaults to the
        snapshot's).  See memcore/snapshot_boot.py and ``m.snapshot_boot``.
        """
        from memcore import snapshot_boot
        return snapshot_boot.from_snapshot(
            snapshot, design=MC_DESIGN_NAME.decode() if design is None else design,
            bits=MC_BITS if bits is None else bits, **kwargs)

    @classmethod
    def _boot_holding(cls, pfns, orders, ram, **kwargs):
        """Machine(ram, **kwargs) whose boot keeps the blocks (pfns, orders) out of
        its own allocations (from_snapshot()); returns (machine, held per block)."""
        import numpy as np
        cdef Machine m = Machine.__new__(Machine)
        held = np.zeros(len(pfns), dtype=np.uint8)
        m._boot_hold = (np.ascontiguousarray(pfns, dtype=np.uint64),
                        np.ascontiguousarray(orders, dtype=np.uint8), held)
        if m._boot_hold[0].shape[0] != m._boot_hold[1].shape[0]:
            raise ValueError("pfns and orders must have one length")
        m.__init__(ram, **kwargs)
        return m, held

    def _free_mask(self, heads=False):
        """uint8 per PFN: 1 in a free block on the buddy lists (from_snapshot's
        check); with heads=True, order + 1 at each free block's first PFN."""
        import numpy as np
        self._ready()
        out = np.zeros(self.m.nr_pfns, dtype=np.uint8)
        cdef unsigned char[::1] ov = out
        free_pfn_mask(self.m, &ov[0], bool(heads))
        return out

    def _snapshot_migratetypes(self, pfns, mts):
        """Retype the pageblock of each PFN (snapshot_migratetypes(): its free
        blocks move to the new type's lists).  Returns uint8 per entry: 0 where
        refused (no zone spans the PFN, or a larger free block covers it)."""
        import numpy as np
        self._ready()
        pv_ = np.ascontiguousarray(pfns, dtype=np.uint64)
        mv_ = np.ascontiguousarray(mts, dtype=np.uint8)
        if not pv_.ndim == mv_.ndim == 1 or pv_.shape[0] != mv_.shape[0]:
            raise ValueError("pfns and mts must be 1-D arrays of one length")
        if (pv_ >= self.m.nr_pfns).any():
            raise ValueError(f"a PFN is beyond the machine's {self.m.nr_pfns:#x} PFNs")
        if (mv_ > MIGRATE_HIGHATOMIC).any():
            raise ValueError(f"migratetypes must be 0..{int(MIGRATE_HIGHATOMIC)} "
                             f"({', '.join(MIGRATETYPE_NAMES[:MIGRATE_HIGHATOMIC + 1])})")
        done = np.zeros(pv_.shape[0], dtype=np.uint8)
        cdef uint64_t n = pv_.shape[0]
        cdef uint64_t[::1] pv = pv_
        cdef unsigned char[::1] mv = mv_
        cdef unsigned char[::1] dv = done
        self.drain_pcp()
        if n:
            snapshot_migratetypes(self.m, &pv[0], &mv[0], n, &dv[0])
        return done

    def _snapshot_place(self, pfns, orders, kinds, min_free_kbytes=None):
        """Place a snapshot's blocks (snapshot_place()); then the watermarks again
        from the zones' managed pages.  Returns placed (uint8 per block)."""
        import numpy as np
        self._ready()
        if self._snapshot_boot is not None:
            raise MemcoreError("this Machine already holds a snapshot's state")
        pv_ = np.ascontiguousarray(pfns, dtype=np.uint64)
        ov_ = np.ascontiguousarray(orders, dtype=np.uint8)
        kv_ = np.ascontiguousarray(kinds, dtype=np.uint8)
        if not pv_.ndim == ov_.ndim == kv_.ndim == 1 or not pv_.shape[0] == ov_.shape[0] == kv_.shape[0]:
            raise ValueError("pfns, orders and kinds must be 1-D arrays of one length")
        if ((kv_ < SNAP_ANON) | (kv_ > SNAP_RESERVED)).any():
            raise ValueError(f"kinds must be {int(SNAP_ANON)}..{int(SNAP_RESERVED)}")
        placed = np.zeros(pv_.shape[0], dtype=np.uint8)
        cdef uint64_t n = pv_.shape[0]
        cdef uint64_t[::1] pv = pv_
        cdef unsigned char[::1] ov = ov_
        cdef unsigned char[::1] kv = kv_
        cdef unsigned char[::1] rv = placed
        self.drain_pcp()
        if n:
            snapshot_place(self.m, &pv[0], &ov[0], &kv[0], n, &rv[0])
        machine_setup_watermarks(self, min_free_kbytes)
        self._snapshot_boot = {}
        return placed

    # ---- the page cache ---------------------------------------------------------------

    def address_space(self, name):
        """The address_space (a file's page cache) called `name`, made on first
        use: struct address_space (kmalloc'ed) and its XArray, whose nodes come
        from the radix_tree_node cache."""
        self._ready()
        return machine_address_space(self, name)

    def address_spaces(self):
        """Every address_space made so far, in the order they were made."""
        return tuple(self._mappings.values())

    # ---- tasks -----------------------------------------------------------------------

    def task(self, str name, cpu=None):
        """The task called `name`, created on first use (on CPU `cpu`, default 0)."""
        self._ready()
        return machine_task(self, name, cpu)

    cdef inline Task _running(self, object task):
        """The task an operation runs as; a sleeping task cannot run."""
        cdef Task t
        if task is None:
            t = self._current
            if not self._booted or t is None:
                raise MemcoreError("this Machine was not booted (its __init__ did not run "
                                   "or failed)")
        else:
            t = <Task?>task
        if t.machine is not self:
            raise ValueError(f"task {t.name!r} belongs to another machine")
        if t._t().wait_kind != MC_WAIT_NONE:
            raise Deadlock(f"task {t.name!r} is asleep waiting for {t.waiting_for}; "
                           f"it cannot run until woken")
        return t

    cdef inline int _ready(self) except -1:
        """The machine booted (Type.__new__ without __init__, or a failed boot, is not)."""
        if not self._booted:
            raise MemcoreError("this Machine was not booted (its __init__ did not run "
                               "or failed)")
        return 0

    # ---- errors -----------------------------------------------------------------------

    cdef int _raise(self, int rc) except -1:
        return machine_raise(self, rc)

    cdef inline uint64_t _pfn(self, object pfn) except? 0:
        cdef long long v
        cdef int overflow = 0
        if type(pfn) is int:
            v = PyLong_AsLongLongAndOverflow(pfn, &overflow)
            if not overflow and 0 <= v < <long long>self.m.nr_pfns:
                if self.m.pfn_marks[v] & MC_PFN_NOMAP:
                    return self._bad_pfn(pfn)
                return <uint64_t>v
        return self._bad_pfn(pfn)

    cdef uint64_t _bad_pfn(self, object pfn) except? 0:
        import operator
        if isinstance(pfn, bool) or not isinstance(pfn, int):
            try:
                pfn = operator.index(pfn)        # numpy integers are fine
            except TypeError:
                raise TypeError(f"pfn must be an int, not {type(pfn).__name__}") from None
            return self._pfn(int(pfn))
        if 0 <= pfn < self.m.nr_pfns:
            raise PFNOutOfRange(f"pfn {pfn:#x} is in a memory section with no RAM: it has "
                                f"no struct page (pfn_valid() is false)")
        raise PFNOutOfRange(f"pfn {pfn:#x} is outside the memory map "
                            f"(0..{self.m.nr_pfns - 1:#x})")

    # ---- the public API -------------------------------------------------------------

    @property
    def tasks(self):
        """Every task of the machine, in creation order (a tuple)."""
        return tuple(self._tasks)

    @property
    def nr_pfns(self):
        """Page frames of RAM (PFNs 0 .. nr_pfns - 1)."""
        return self.m.nr_pfns

    @property
    def nodes(self):
        """NUMA nodes (nr_node_ids)."""
        return self.m.nr_nodes

    @property
    def cpus(self):
        """Modeled CPUs (nr_cpu_ids)."""
        return self.m.nr_cpus

    @property
    def min_free_kbytes(self):
        """vm.min_free_kbytes: the reserve the watermarks are computed from."""
        return self.m.min_free_kbytes

    @property
    def page_offset(self):
        """Modeled address where the direct map of physical memory starts."""
        return Address(self.m.page_offset)

    @property
    def memmap_address(self):
        """Modeled address of the struct page of PFN 0 (vmemmap, or lowmem on 32-bit)."""
        return Address(self.m.memmap_va)

    @property
    def sizeof_page(self):
        """sizeof(struct page) of the variant, in bytes."""
        return MC_SIZEOF_PAGE

    @property
    def pageblock_order(self):
        """pageblock_order: a pageblock (one migratetype) is 2^this pages."""
        return pageblock_order

    def __repr__(self):
        if not self._booted:
            return "<memcore.Machine (not booted)>"
        return (f"<memcore.Machine {self.ram >> 20} MiB {self.design} {self.bits}-bit "
                f"({self.config}), {self.m.nr_nodes} node(s), {self.m.nr_cpus} CPU(s)>")

    def page(self, pfn):
        """The struct page of a PFN, as a Page view."""
        cdef mc_ulong va = mc_pfn_to_va(self.m, self._pfn(pfn))
        cdef Page pg
        _allow_view()
        pg = Page.__new__(Page)
        pg.machine = self
        pg.addr = va
        return pg

    def folio(self, pfn):
        """The folio whose head page is `pfn` (page_folio() of a head page)."""
        cdef uint64_t p = self._pfn(pfn)
        cdef page *pg = mc_pfn_to_page(self.m, p)
        if PageTail(self.m, pg):
            set_err(self.m, MC_ETAIL, p, b"tail page where a folio head is required")
            self._raise(MC_ETAIL)
        if mc_pfn_mark_test(self.m, p, MC_PFN_HOLE):
            set_err(self.m, MC_EINVAL, p, b"a hole between RAM ranges is no folio")
            self._raise(MC_EINVAL)
        if mc_pfn_mark_test(self.m, p, MC_PFN_RESERVED) or PageReserved(self.m, pg):
            set_err(self.m, MC_EINVAL, p, b"a boot-reserved page is no folio (memblock)")
            self._raise(MC_EINVAL)
        if page_has_type(self.m, pg):
            set_err(self.m, MC_EINVAL, p, b"a typed page (slab, large kmalloc, ...) is no folio")
            self._raise(MC_EINVAL)
        cdef folio *f = page_folio(self.m, pg)
        if f == NULL:
            set_err(self.m, MC_EINVAL, p, b"page_folio() is NULL: the page belongs to no folio")
            self._raise(MC_EINVAL)
        return _make_folio(self, mc_folio_va(self.m, f))

    def pfn_to_page(self, pfn):
        """pfn_to_page(): the modeled address of the PFN's struct page."""
        return Address(mc_pfn_to_va(self.m, self._pfn(pfn)))

    def page_to_pfn(self, address):
        """page_to_pfn(): the PFN of a modeled struct page address."""
        if isinstance(address, bool) or not isinstance(address, int):
            raise TypeError(f"an address is an int, not {type(address).__name__}")
        if address < 0 or address >> MC_BITS:
            raise InvalidAddress(f"not a {MC_BITS}-bit address: {address!r}")
        if not mc_va_is_page(self.m, address):
            raise InvalidAddress(f"{address:#x} is not the address of a struct page")
        return mc_page_to_pfn(self.m, mc_va_to_page(self.m, address))

    def folio_address(self, folio):
        """folio_address(): the direct-map address of a folio's memory (None for highmem)."""
        if not isinstance(folio, Folio) or (<Folio>folio).machine is not self:
            raise TypeError("expected a Folio of this machine")
        return self.pfn_to_virt(folio.pfn)

    def pfn_to_virt(self, pfn):
        """The direct-map address of a PFN's memory, or None (highmem has none)."""
        cdef uint64_t p = self._pfn(pfn)
        if p >= self.m.lowmem_pfns:
            return None
        return Address(mc_phys_to_virt(self.m, p << PAGE_SHIFT))

    def alloc_folio(self, order=0, kind="file", zone=None, movable=True, node=None,
                    task=None):
        """Allocate a folio as folio_alloc() does: compound, refcount 1.

        kind: "file" or "anon".  An anon folio is swap-backed (PG_swapbacked), as
        folio_alloc() for an anonymous fault leaves it; it has no anon_vma yet
        (no rmap: folio_add_new_anon_rmap() is not modeled), so
        folio_test_anon() is False until the model maps it, as in the kernel
        between allocation and mapping.  zone: the highest
        zone allowed ("DMA", "DMA32", "Normal", "HighMem", "Movable"), default
        the highest the gfp allows; movable: MIGRATE_MOVABLE (user memory)
        rather than MIGRATE_UNMOVABLE (kernel memory); node: preferred node.
        """
        return machine_alloc_folio(self, order, kind, zone, movable, node, task)


    def pagetable_alloc(self, order=0, node=None, task=None):
        """Allocate a page table as pagetable_alloc(GFP_PGTABLE_KERNEL, order) and
        __pagetable_ctor() do: a compound block with refcount 1, typed "table";
        on the memdesc designs its struct ptdesc comes from the "ptdesc" cache
        and every page's memdesc points at it.  Returns the table's first Page."""
        return machine_pagetable_alloc(self, order, node, task)

    def pagetable_free(self, page, task=None):
        """pagetable_dtor() + pagetable_free() of the table whose first Page is
        `page`: VMBug when it heads no page table (a double free too), changing nothing."""
        return machine_pagetable_free(self, page, task)

    def drain_pcp(self):
        """drain_all_pages(): return every CPU's cached pages to the buddy lists."""
        self._ready()
        drain_all_pages(self.m)

    def tick(self, n=1):
        """Let n vmstat intervals (1 s each) pass: on every CPU, vmstat_update's
        per-CPU page work (decay_pcp_high(), draining expired remote pagesets)."""
        machine_tick(self, n)

    # ---- zones and statistics ---------------------------------------------------------

    def zones(self, empty=False):
        """Every populated zone: span, counts, watermarks, pcp limits (as /proc/zoneinfo).
        empty=True lists every zone of every node, those with no pages too (their
        watermarks and lowmem reserves as setup_per_zone_wmarks() and
        setup_per_zone_lowmem_reserve() left them), in node and zone order."""
        if not isinstance(empty, bool):
            raise TypeError(f"empty must be a bool, not {type(empty).__name__}")
        self._ready()
        return machine_zones(self, empty)

    def free_area(self, nid=0, zone_name=None):
        """Free blocks per order and migratetype of a zone (as /proc/pagetypeinfo)."""
        self._ready()
        return machine_free_area(self, _int_arg(nid, "node", 0, self.m.nr_nodes - 1), zone_name)


    def proc(self, name):
        """The text the kernel prints in /proc/<name> for this machine's state.

        ``name`` is one of "zoneinfo", "buddyinfo", "pagetypeinfo", "vmstat",
        "meminfo", "slabinfo": the kernel's format, field for field, so a model
        can be diffed against a real machine (see memcore.procfs for what each
        value is made of and which counters the model does not track).
        """
        import memcore.procfs as _procfs
        self._ready()
        return _procfs.proc(self, name)

    def stats(self):
        """Counts per zone/order/migratetype, page states, and metadata bytes."""
        self._ready()
        return machine_stats(self)

    # ---- bit locks on flags words (folio_lock, pgflags_lock) ---------------------
    #
    # PG_locked is the lock, PG_waiters (bit 7, the same byte) says someone
    # sleeps in folio_wait_table[hash(word)].  The model records which task
    # holds each lock so that contention and self-deadlock are visible.

    cdef object _bit_trylock(self, mc_ulong key, mc_ulong *word, object task):
        return machine_bit_trylock(self, key, word, task)

    cdef object _bit_lock(self, mc_ulong key, mc_ulong *word, object task):
        return machine_bit_lock(self, key, word, task)

    cdef object _bit_unlock(self, mc_ulong key, mc_ulong *word, object task):
        return machine_bit_unlock(self, key, word, task)

    cdef object _lock_owner(self, mc_ulong key):
        return machine_lock_owner(self, key)


    def waiters(self, address):
        """The tasks sleeping on the lock of the flags word at `address`, in queue order."""
        if isinstance(address, PgFlags):
            address = (<PgFlags>address).addr
        return machine_waiters(self, _int_arg(address, "address", 0, (<object>1 << MC_BITS) - 1))

    cdef int _flag_bit(self, name) except -1:
        return machine_flag_bit(self, name)

    def pgflags(self, address):
        """A PgFlags view of the flags word at a modeled address."""
        if isinstance(address, bool) or not isinstance(address, int):
            raise TypeError(f"an address is an int, not {type(address).__name__}")
        if address < 0 or address >> MC_BITS:
            raise InvalidAddress(f"not a {MC_BITS}-bit address: {address!r}")
        if not mc_addr_valid(self.m, address, sizeof(mc_ulong)) or address % sizeof(mc_ulong):
            raise InvalidAddress(f"{address:#x} is not an aligned word of modeled memory")
        return _make_pgflags(self, address)

    # ---- invariants ----------------------------------------------------------------

    def check(self):
        """Verify every invariant; raise VMBug with a dump_page() at the first violation.

        Free lists (page types, orders, alignment, zones, pageblock types,
        list links, nr_free and the free-page counters), no unmerged free
        buddies, pcp lists and counts, compound pages (heads, tails,
        _nr_pages), and that every PFN of RAM is free, cached, reserved or
        part of a folio exactly once.
        """
        self._ready()
        return machine_check_invariants(self)

    # ---- bulk operations ------------------------------------------------------------

    def walk(self):
        """Classify every PFN in one C pass: {kind: pages}."""
        self._ready()
        return machine_walk(self)

    def walk_folios(self, start=0, end=None, task=None):
        """Every folio whose first PFN is in [start, end) (default: all PFNs),
        found as a lock-free PFN walker finds it, in one C loop under
        rcu_read_lock(): the page's folio (compound head on classic, the
        memdesc's descriptor on the memdesc designs), folio_try_get(), a
        re-check that the page still points at it (claim S6), then
        folio_put().  Returns {"folios", "pages", "retries", "pfns",
        "orders"} (numpy arrays of each folio's first PFN and order)."""
        self._ready()
        return machine_walk_folios(self, start, end, task)

    def compact(self, zone=None, task=None):
        """Compact every zone (or the one named), as 6.18's compact_zone() does
        in outline: a migrate scanner from the bottom takes each folio with a
        reference before looking at its type (S5), moves the movable ones
        (page-cache folios) into free blocks a free scanner takes from the
        top, and skips, without locking, what cannot move.  Returns
        {"scanned", "isolated", "migrated", "skipped_by_type", "failed",
        "largest_free_order_before", "largest_free_order_after"}."""
        self._ready()
        return machine_compact(self, zone, task)

    def _pageblock_bits(self, pfn, value=None):
        """Test hook: the byte of pageblock bits (enum pageblock_bits) of the
        PFN's pageblock; with `value`, set it first.  The public API does not
        write boot metadata; this is how tests reach one pageblock's bits."""
        return machine_pageblock_bits(self, self._pfn(pfn), value)

    def _walk_plain(self):
        """Benchmark baseline: a plain C loop over the same memmap."""
        cdef uint64_t r
        r = walk_plain(self.m)
        return r


    def bulk_alloc_free(self, n, order=0, movable=True, task=None):
        """n pairs of folio_alloc() + folio_put() in one C loop."""
        return machine_bulk_alloc_free(self, n, order, movable, task)

    def bulk_kmem_cache_alloc_free(self, cache, n, task=None):
        """n pairs of kmem_cache_alloc() + kmem_cache_free() in one C loop."""
        return machine_bulk_kmem_cache_alloc_free(self, cache, n, task)

    def bulk_alloc(self, n, order=0, movable=True, task=None):
        """Allocate n folios in one C loop; a numpy array of their head PFNs.
        On failure the folios allocated so far are freed again and OutOfMemory raised."""
        return machine_bulk_alloc(self, n, order, movable, task)

    def bulk_put(self, pfns, task=None):
        """folio_put() of each folio head PFN in `pfns`, in one C loop."""
        return machine_bulk_put(self, pfns, task)

    # ---- RCU ----------------------------------------------------------------------

    def rcu_read_lock(self, task=None):
        """rcu_read_lock(): enter (or nest) a read-side critical section."""
        return machine_rcu_read_lock(self, task)

    def rcu_read_unlock(self, task=None):
        """rcu_read_unlock(): leave one level; leaving the outermost one is a
        quiescent state, which may end a grace period and run callbacks."""
        return machine_rcu_read_unlock(self, task)

    def rcu_read(self, task=None):
        """Context manager: ``with m.rcu_read(task): ...`` is lock/unlock."""
        _allow_view()
        return _RCUReadSection(self, task)

    def call_rcu(self, fn):
        """call_rcu(): call fn() after a grace period that starts after now."""
        self._ready()
        if not callable(fn):
            raise TypeError(f"call_rcu() needs a callable, not {type(fn).__name__}")
        self.rcu._queue(fn)

    def synchronize_rcu(self, task=None):
        """synchronize_rcu(): wait for a full grace period.

        Returns True when the grace period completed at once.  When a reader
        holds it back, the calling task sleeps (False) until the last holdout
        leaves its read section.  Calling it inside a read section is a
        deadlock, as lockdep reports it."""
        return machine_synchronize_rcu(self, task)

    cdef _rcu_collect(self, list into):
        return machine_rcu_collect(self, into)

    # ---- SLUB ---------------------------------------------------------------------

    cdef _register_cache(self, str name, mc_ulong va):
        obj_gen_slot(self.m, va)[0] += 1       # KmemCache views of an earlier cache there are stale
        self._random_seqs = None
        self._caches[name] = va
        self._cache_names[va] = name
        kimage_cache_added(self, va, name)      # s->name, slab_caches

    def kmem_cache_create(self, name, size, align=0, flags=(), ctor=None, freeptr_offset=None):
        """kmem_cache_create(): a new cache.  flags: SLAB_* names (or their values);
        ctor: any callable, called with each new object (a SlabObject) when its slab
        is created; freeptr_offset: where a SLAB_TYPESAFE_BY_RCU cache may keep the
        free pointer inside the object."""
        self._running(None)
        return _make_cache_view(self, kmem_cache_create(self, name, size, align, flags, ctor,
                                                        freeptr_offset))

    def folio_slab_create(self, name, order=3):
        """A FolioSlab: a slab cache of page-sized objects whose pages become
        order-0 page-cache folios (claim S8).  NotSupported on classic, whose
        slab is one compound page."""
        self._ready()
        return machine_folio_slab_create(self, name, order)

    def kmem_cache(self, name):
        """The cache called `name` (kmalloc caches included)."""
        self._ready()
        try:
            return _make_cache_view(self, self._caches[name])
        except KeyError:
            raise UnknownChoice("kmem_cache", name, sorted(self._caches)) from None

    def caches(self):
        """Every cache, newest first (the order of /proc/slabinfo)."""
        self._ready()
        return [_make_cache_view(self, va) for va in reversed(list(self._cache_names))]

    def _descriptor_slab_mask(self):
        """numpy bool array over PFNs: the pages of the descriptor caches' slabs."""
        import numpy as np
        cdef slab *sl
        cdef int ci
        mask = np.zeros(self.m.nr_pfns, dtype=bool)
        caches = {self.m.desc_caches[ci] for ci in range(MC_NR_DESC_CACHES)}
        for sva in _slab_vas(self):
            sl = mc_va_to_slab(self.m, sva)
            if sl.slab_cache in caches:
                mask[slab_pfn(self.m, sl):slab_pfn(self.m, sl) + (1 << slab_order(sl))] = True
        return mask

    def _descriptor_cache_names(self):
        """Names of the caches this design allocates descriptors from (none on classic)."""
        return [mc_desc_cache_names[i].decode() for i in range(MC_NR_DESC_CACHES)]

    cdef kmem_cache *_cache(self, cache) except NULL:
        if isinstance(cache, str):
            cache = self.kmem_cache(cache)
        if not isinstance(cache, KmemCache) or (<KmemCache>cache).machine is not self:
            raise TypeError("expected a KmemCache of this machine (or a cache name)")
        return (<KmemCache>cache)._s()

    def kmem_cache_alloc(self, cache, gfp="GFP_KERNEL", node=None, task=None):
        """kmem_cache_alloc(): an object (SlabObject) from the cache, on the task's CPU."""
        return machine_kmem_cache_alloc(self, cache, gfp, node, task)

    cdef int _node_arg(self, node) except -2:
        if node is None:
            return -1
        return _int_arg(node, "node", 0, self.m.nr_nodes - 1)

    cdef mc_ulong _obj_addr(self, obj) except? 0:
        if isinstance(obj, SlabObject):
            if (<SlabObject>obj).machine is not self:
                raise ValueError("the object belongs to another machine")
            (<SlabObject>obj)._live()
            return (<SlabObject>obj).addr
        if isinstance(obj, int) and not isinstance(obj, bool):
            if 0 <= obj < (<object>1) << MC_BITS:
                return obj
            raise InvalidAddress(f"not a {MC_BITS}-bit address: {obj!r}")
        raise TypeError(f"expected a SlabObject or an address, not {obj!r}")

    def kmem_cache_free(self, cache, obj, task=None):
        """kmem_cache_free(): checked first (wrong cache, not an object start,
        double free); a failed check raises and changes nothing."""
        return machine_kmem_cache_free(self, cache, obj, task)

    def kmalloc(self, size, gfp="GFP_KERNEL", node=None, task=None):
        """kmalloc(): from kmalloc-8 ... kmalloc-8k, or whole pages above 8 KiB
        (PGTY_large_kmalloc).  kmalloc(0) returns ZERO_SIZE_PTR (an int, 16)."""
        return machine_kmalloc(self, size, gfp, node, task)

    def kfree(self, obj, task=None):
        """kfree(): of a kmalloc'd object (or NULL/ZERO_SIZE_PTR, which do nothing)."""
        return machine_kfree(self, obj, task)




    def kfree_rcu(self, obj):
        """kfree_rcu(): kfree() after a grace period that starts after now.  What
        kfree() would refuse now (not a kmalloc'd or slab object start, already
        free, already queued by kfree_rcu()) is refused here and queues nothing."""
        return machine_kfree_rcu(self, obj)

    def kmem_cache_destroy(self, cache):
        """kmem_cache_destroy().  Like 6.18 it first runs every pending kfree_rcu()
        (kvfree_rcu_barrier(); Deadlock, with nothing changed, if a reader holds
        their grace period back), then refuses, changing nothing more, while
        objects of the cache live."""
        return machine_kmem_cache_destroy(self, cache)

    def kmem_cache_shrink(self, cache):
        """kmem_cache_shrink(): flush every CPU's slabs, discard the empty partial
        slabs (SLAB_TYPESAFE_BY_RCU: after a grace period) and put the fullest
        partial slabs first.  Returns the number of slabs discarded."""
        return machine_kmem_cache_shrink(self, cache)


    def virt_to_slab(self, address):
        """virt_to_slab(): the Slab holding a direct-map address, or None."""
        cdef slab *sl = virt_to_slab(self.m, self._obj_addr(address))
        return _make_slab(self, mc_slab_va(self.m, sl)) if sl else None

    def virt_to_cache(self, address):
        """virt_to_cache(): the KmemCache an object address belongs to, or None."""
        cdef slab *sl = virt_to_slab(self.m, self._obj_addr(address))
        return _make_cache_view(self, sl.slab_cache) if sl else None

    def slabinfo(self):
        """/proc/slabinfo (version 2.1), newest cache first."""
        self._ready()
        return machine_slabinfo(self)

    # ---- raw modeled memory --------------------------------------------------------

    cdef bytes _mem_read(self, mc_ulong addr, uint64_t size, str where):
        return machine_mem_read(self, addr, size, where)

    cdef _mem_write(self, mc_ulong addr, bytes data, str where):
        return machine_mem_write(self, addr, data, where)


    def read(self, address, size):
        """Bytes of modeled memory at a direct-map address (KASAN-checked if on)."""
        cdef uint64_t n = _int_arg(size, "size", 0, (<object>1 << 64) - 1)
        return self._mem_read(self._obj_addr(address), n, "Machine.read")

    def write(self, address, data):
        """Write bytes to modeled memory at a direct-map address (KASAN-checked if on)."""
        self._mem_write(self._obj_addr(address), _bytes_arg(data), "Machine.write")

    def _kernel_read(self, address, size):
        """Bytes at any modeled kernel address (the memmap, the direct map or
        the kernel image's variables of core/kimage.pxi),
        as a debugger reading a core dump sees them: no KASAN check, free
        blocks show their links.  InvalidAddress outside modeled memory or in
        a hole.  memcore.drgn's memory reader."""
        cdef uint64_t n = _int_arg(size, "size", 0, 1 << 30)
        cdef mc_ulong addr = self._obj_addr(address)
        if n == 0:
            return b""
        if addr >= MC_KIMAGE_VA and self._kimage is not None:
            return kimage_read(self, addr, n)         # the kernel image's variables
        # i386's memmap sits inside the direct map, kept in its own host array:
        # a range across its edge is read as two
        lo = <object>self.m.memmap_va
        hi = lo + <object>self.m.memmap_bytes
        if addr < lo < addr + n or addr < hi < addr + n:
            cut = lo if addr < lo else hi
            return self._kernel_read(addr, cut - addr) + self._kernel_read(cut, addr + n - cut)
        if not mc_addr_valid(self.m, addr, n):
            raise InvalidAddress(f"[{addr:#x}, {addr + n:#x}) is not modeled kernel memory")
        if not mc_addr_in_direct_map(self.m, addr, n):
            return bytes((<char *>mc_host(self.m, addr))[:n])      # the memmap
        machine_check_not_hole(self, addr, n)
        return direct_map_bytes(self, addr, n)

    def save_vmcore(self, path, types=None):
        """Write the machine as a kernel crash dump: an ELF core in kdump's
        layout (PT_LOAD segments of the direct map, the memmap and the kernel
        image's variables; a VMCOREINFO note) that ``drgn -c path -s TYPES``
        opens with drgn's Linux helpers.  types: where to copy the variant's
        types file (the dump's vmlinux).  Returns the types file's path.
        Needs no drgn (memcore.vmcore; docs/DRGN.md)."""
        self._ready()
        from memcore.vmcore import save_vmcore
        return save_vmcore(self, path, types)

    def _debugger_regions(self):
        """For memcore.vmcore: "symbols", {name: address} of the kernel image's
        variables (core/kimage.pxi); the bytes of the memmap, of that image and
        of direct-mapped RAM ("memmap_bytes", "kimage_bytes", "lowmem_bytes":
        what a dump holds); "sparse", the sections' numbers for VMCOREINFO."""
        return {"symbols": {name: MC_KIMAGE_VA + <mc_ulong>off
                            for name, off in _KIMAGE_OFFSETS.items()},
                "memmap_bytes": self.m.memmap_bytes,
                "kimage_bytes": len(self._kimage),
                "lowmem_bytes": self.m.lowmem_pfns << PAGE_SHIFT,
                "sparse": {"SECTION_SIZE_BITS": MC_SECTION_SIZE_BITS,
                           "MAX_PHYSMEM_BITS": MC_MAX_PHYSMEM_BITS_4L,
                           "NR_SECTION_ROOTS": MC_NR_SECTION_ROOTS,
                           "SIZEOF_MEM_SECTION": MC_SIZEOF_MEM_SECTION}}

    def _state_digest(self):
        """A hash of the machine's state (core/digest.pxi), for tests: equal before and after a refused call."""
        return machine_state_digest(self)
