# Machine: a modeled computer running the variant's memory-management code.
#
# Boot follows the kernel's order: memblock reserves the firmware area and
# carves the memmap, pglist_data, pageblock bitmaps and per-CPU page lists
# out of RAM (top-down, node-local); every struct page is initialized with
# its zone/node/section links; free memory is handed to the buddy allocator
# in the largest aligned blocks; then min_free_kbytes, the watermarks, the
# lowmem reserves and the pcp batch/high limits are computed.

cimport cython

cdef extern from "<sys/mman.h>" nogil:
    void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)
    int munmap(void *addr, size_t length)
    int PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE
    void *MAP_FAILED

import re as _re
from cpython.long cimport PyLong_AsLongLongAndOverflow

from memcore.errors import (BadPageState, Deadlock, FolioNotLocked, InvalidAddress,
                            MemcoreError, OrderOutOfRange, OutOfMemory, PFNOutOfRange,
                            RefcountError, TailPageError, UnknownChoice, VMBug)

cdef extern from "memcore/mmzone.h":
    # the kernel object sizes, for metadata accounting
    size_t SIZEOF_PGLIST_DATA "sizeof(struct pglist_data)"
    size_t SIZEOF_PER_CPU_PAGES "sizeof(struct per_cpu_pages)"
cdef extern from "memcore/config.h":
    int CONFIG_NR_CPUS
    int CONFIG_NODES_SHIFT

PAGE_SIZE = 1 << PAGE_SHIFT
ZONE_NAMES = tuple(mc_zone_names[i].decode() for i in range(MAX_NR_ZONES_C))
MIGRATETYPE_NAMES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")
RESERVE_KINDS = ("firmware", "memmap", "pglist_data", "pageblock_flags", "per_cpu_pages",
                 "unavailable", "percpu_area", "slab_boot_caches")

# sysctl_lowmem_reserve_ratio[] defaults by zone name
for _i, _name in enumerate(ZONE_NAMES):
    LOWMEM_RESERVE_RATIO[_i] = {"DMA": 256, "DMA32": 256, "Normal": 32}.get(_name, 0)

_SIZE_RE = _re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", _re.I)
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(value):
    """Bytes from an int or a size string such as "4GiB", "512MiB", "64M"."""
    if isinstance(value, bool):
        raise TypeError("ram must be a size, not a bool")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise TypeError(f"ram must be an int or a size string, not {type(value).__name__}")
    mt = _SIZE_RE.match(value)
    if not mt:
        raise ValueError(f"cannot parse size {value!r} (examples: 4GiB, 512MiB, 1073741824)")
    unit = (mt.group(2) or "").upper().rstrip("B").rstrip("I")
    num = float(mt.group(1)) * _UNITS[unit]
    if num != int(num):
        raise ValueError(f"size {value!r} is not a whole number of bytes")
    return int(num)


# exception classes by mc_err code
_ERRORS = {
    MC_ENOMEM: OutOfMemory,
    MC_EREFZERO: RefcountError,
    MC_ENOTLOCKED: FolioNotLocked,
    MC_EBADPAGE: BadPageState,
    MC_ETAIL: TailPageError,
    MC_ENOTLARGE: TailPageError,
    MC_EPFN: PFNOutOfRange,
    MC_EORDER: OrderOutOfRange,
    MC_EFREE: VMBug,
    MC_EINVAL: VMBug,
    MC_EDEADLOCK: Deadlock,
    MC_EADDR: InvalidAddress,
    MC_EBUSY: VMBug,
    MC_EBLOCKED: Deadlock,
    MC_EDOUBLEFREE: VMBug,        # SLUB: BUG_ON(object == fp) / free of a free object
    MC_EINVALFREE: VMBug,         # kfree() of something that is no object start
    MC_ECORRUPT: VMBug,           # slab_err()/object_err(): freelist or redzone damage
}


cdef class Machine
cdef class Task
cdef class Page
cdef class Folio
cdef class PgFlags
cdef class KmemCache
cdef class Slab
cdef class SlabObject


cdef unsigned char *lazy_map(size_t size, str what) except NULL:
    """Anonymous memory the host backs only where it is touched (modeled RAM, the
    KASAN shadow, the object bitmap)."""
    cdef void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if p == MAP_FAILED:
        raise MemoryError(f"cannot reserve {size} bytes of address space for {what}")
    return <unsigned char *>p


cdef inline size_t shadow_bytes(const mc_machine *m) noexcept nogil:
    return (m.lowmem_pfns << PAGE_SHIFT) >> 3          # a byte per 8 bytes of lowmem


cdef inline size_t obj_bitmap_bytes(const mc_machine *m) noexcept nogil:
    return (m.lowmem_pfns << PAGE_SHIFT) >> 6          # a bit per 8 bytes of lowmem


@cython.final
@cython.auto_pickle(False)
cdef class Machine:
    """A modeled machine: memmap, physical memory, zones, buddy allocator, pcp lists.

    Use ``memcore.Machine(ram=..., design=..., bits=...)``, which picks the
    compiled variant; this class is that variant's implementation.
    """
    cdef mc_machine *m
    cdef readonly object ram
    cdef readonly int bits
    cdef readonly str design
    cdef readonly str config
    cdef readonly object flags_layout
    cdef readonly list tasks
    cdef public Task current
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

    def __cinit__(self):
        self.m = <mc_machine *>calloc(1, sizeof(mc_machine))
        if self.m == NULL:
            raise MemoryError()

    def __dealloc__(self):
        if self.m != NULL:
            if self.m.phys != NULL:
                munmap(self.m.phys, self.m.phys_bytes)
            if self.m.kasan_shadow != NULL:
                munmap(self.m.kasan_shadow, shadow_bytes(self.m))
            if self.m.obj_bitmap != NULL:
                munmap(self.m.obj_bitmap, obj_bitmap_bytes(self.m))
            free(self.m.memmap)
            free(self.m.pfn_marks)
            tasks_release(self.m)
            free(self.m)
            self.m = NULL

    def __init__(self, ram="4GiB", *, config=None, nodes=1, cpus=2, min_free_kbytes=None,
                 watermark_scale_factor=10, kasan=False, seed=0, freelist_hardened=True,
                 freelist_random=True):
        import memcore.flagslayout as _fl
        from memcore.enums import pageflags
        canonical = MC_CONFIG_NAME.decode()
        if config is None:
            config = canonical
        if config != canonical:
            raise UnknownChoice(f"config for the {MC_BITS}-bit {MC_DESIGN_NAME.decode()} "
                                f"variant", config, (canonical,))
        self.bits = MC_BITS
        self.design = MC_DESIGN_NAME.decode()
        self.config = config
        self.flags_layout = _fl.flags_layout(config)
        self.PG = pageflags(self.design, self.bits)
        ram_bytes = parse_size(ram)
        self._check_geometry(ram_bytes, nodes, cpus)
        self.ram = ram_bytes
        self.tasks = []
        self._task_by_name = {}
        self._caches = {}
        self._cache_names = {}
        self._ctors = []
        self.m.ctor_hook = ctor_hook
        self.m.ctor_ctx = <void *>self             # borrowed: the Machine owns m
        self._kfree_rcu_queued = set()
        self.kasan = bool(kasan)
        if not isinstance(seed, int):
            raise TypeError(f"seed must be an int, not {type(seed).__name__}")
        self.m.rng = seed & 0xffffffffffffffff
        self.m.freelist_hardened = bool(freelist_hardened)
        self.m.freelist_random = bool(freelist_random)
        self.m.watermark_scale_factor = watermark_scale_factor
        self.m.nr_cpus = cpus
        self.rcu = RCU(self)
        self.current = self.task("init", cpu=0)
        self._boot(ram_bytes, nodes, cpus, min_free_kbytes)

    cdef _check_geometry(self, ram_bytes, nodes, cpus):
        max_ram = MC_MAX_RAM_BYTES
        if ram_bytes % PAGE_SIZE:
            raise ValueError(f"ram {ram_bytes} is not a multiple of the page size ({PAGE_SIZE})")
        if ram_bytes < (32 << 20):
            raise ValueError(f"ram {ram_bytes} is too small: a machine needs at least 32 MiB")
        if ram_bytes > max_ram:
            raise ValueError(f"ram {ram_bytes} is too large for a {MC_BITS}-bit machine "
                             f"(at most {max_ram >> 30} GiB)")
        max_nodes = min(MC_MAX_NODES, 1 << CONFIG_NODES_SHIFT)
        if not isinstance(nodes, int) or not 1 <= nodes <= max_nodes:
            raise ValueError(f"nodes must be 1..{max_nodes} for the {self.config} "
                             f"configuration, not {nodes!r}")
        section = PAGES_PER_SECTION * PAGE_SIZE
        if nodes > 1 and ram_bytes // nodes < section:
            raise ValueError(f"each NUMA node needs at least one memory section "
                             f"({section >> 20} MiB): {nodes} nodes need "
                             f"{nodes * section >> 20} MiB of RAM")
        max_cpus = min(MC_MAX_CPUS, CONFIG_NR_CPUS)
        if not isinstance(cpus, int) or not 1 <= cpus <= max_cpus:
            raise ValueError(f"cpus must be 1..{max_cpus}, not {cpus!r}")

    # ---- boot ----------------------------------------------------------------------

    cdef uint64_t _memblock_alloc(self, uint64_t size, uint64_t align, int nid, int kind) except? 0:
        """Top-down, node-local boot allocation; returns the physical address."""
        cdef mc_machine *m = self.m
        cdef uint64_t top = m.memblock_top[nid]
        cdef uint64_t addr = (top - size) & ~(align - 1)
        cdef uint64_t floor = (m.node_start_pfn[nid] << PAGE_SHIFT) + (16 << 20 if nid == 0 else 0)
        if size > top or addr < floor:
            raise ValueError(f"ram too small: node {nid} cannot hold the boot metadata "
                             f"({size} more bytes of {RESERVE_KINDS[kind]})")
        m.memblock_top[nid] = addr
        m.reserved_bytes[kind] += size
        return addr

    cdef _boot(self, uint64_t ram_bytes, int nodes, int cpus, object min_free_kbytes):
        cdef mc_machine *m = self.m
        cdef uint64_t nr_pfns = ram_bytes >> PAGE_SHIFT
        cdef uint64_t pps = PAGES_PER_SECTION
        cdef uint64_t memmap_pfns = (nr_pfns + pps - 1) // pps * pps
        cdef uint64_t per_node, start, end, pa, nsec, bytes_, pfn
        cdef int nid, cpu, last_zone

        m.nr_pfns = nr_pfns
        m.memmap_pfns = memmap_pfns
        m.nr_nodes = nodes
        m.nr_cpus = cpus
        m.lowmem_pfns = min(nr_pfns, MC_LOWMEM_LIMIT >> PAGE_SHIFT)
        m.page_offset = MC_PAGE_OFFSET

        # NUMA nodes: equal shares in whole sections, the last node takes the rest
        per_node = (nr_pfns // nodes) // pps * pps
        for nid in range(nodes):
            m.node_start_pfn[nid] = nid * per_node
            m.node_end_pfn[nid] = (nid + 1) * per_node if nid < nodes - 1 else nr_pfns
            top = m.node_end_pfn[nid]
            if nid == 0:
                top = min(top, m.lowmem_pfns)         # i386: boot memory is lowmem
            m.memblock_top[nid] = top << PAGE_SHIFT
        for cpu in range(cpus):
            m.cpu_node[cpu] = cpu * nodes // cpus

        # the host side: the memmap array and lazily backed physical memory
        m.memmap = <page *>calloc(memmap_pfns, MC_SIZEOF_PAGE)
        if m.memmap == NULL:
            raise MemoryError(f"cannot allocate the memmap ({memmap_pfns * MC_SIZEOF_PAGE} bytes)")
        m.memmap_bytes = memmap_pfns * MC_SIZEOF_PAGE
        m.pfn_marks = <unsigned char *>calloc(nr_pfns, 1)
        if m.pfn_marks == NULL:
            raise MemoryError(f"cannot allocate the model's per-PFN marks ({nr_pfns} bytes)")
        m.phys = lazy_map(ram_bytes, "modeled physical memory")
        m.phys_bytes = ram_bytes

        # memblock: firmware, memmap, node data, pageblock bitmaps, per-CPU lists
        add_reservation(m, 0, min(256, nr_pfns), MC_RES_FIRMWARE)
        m.reserved_bytes[MC_RES_FIRMWARE] = min(256, nr_pfns) << PAGE_SHIFT
        if MC_HAVE_VMEMMAP:
            m.memmap_va = MC_VMEMMAP_START
            for nid in range(nodes):
                # vmemmap: every present section's struct pages, in 2 MiB blocks
                nsec = (m.node_end_pfn[nid] - m.node_start_pfn[nid] + pps - 1) // pps
                self._memblock_alloc(nsec * pps * MC_SIZEOF_PAGE, 2 << 20, nid, MC_RES_MEMMAP)
        else:
            # classic SPARSEMEM: one page-aligned mem_map per section, in lowmem
            bytes_ = ((pps * MC_SIZEOF_PAGE + PAGE_SIZE - 1) & ~(<uint64_t>PAGE_SIZE - 1))
            pa = self._memblock_alloc(bytes_ * (memmap_pfns // pps), PAGE_SIZE, 0, MC_RES_MEMMAP)
            m.memmap_va = mc_phys_to_virt(m, pa)
        if memmap_pfns > nr_pfns:
            m.reserved_bytes[MC_RES_UNAVAILABLE] = (memmap_pfns - nr_pfns) * MC_SIZEOF_PAGE
        for nid in range(nodes):
            pa = self._memblock_alloc(sizeof(pglist_data), 64, nid, MC_RES_PGDAT)
            m.pgdat_va[nid] = mc_phys_to_virt(m, pa)
            m.pgdat[nid] = <pglist_data *>mc_host(m, m.pgdat_va[nid])
            self._init_node(nid)

        # the per-CPU units (kmem_cache_cpu ...) and the two boot kmem_caches
        m.percpu_unit = PERCPU_UNIT_SIZE
        pa = self._memblock_alloc(cpus * PERCPU_UNIT_SIZE, PAGE_SIZE, 0, MC_RES_PERCPU_AREA)
        m.percpu_base = mc_phys_to_virt(m, pa)
        memset(mc_host(m, m.percpu_base), 0, cpus * PERCPU_UNIT_SIZE)
        cs = (MC_KMEM_CACHE_SIZE(nodes) + 63) & ~63
        boot_caches_pa = self._memblock_alloc(2 * cs, 64, 0, MC_RES_SLAB_BOOT)
        m.obj_bitmap = lazy_map(obj_bitmap_bytes(m), "the slab object bitmap")
        if self.kasan:
            m.kasan_shadow = lazy_map(shadow_bytes(m), "the KASAN shadow")
            m.kasan = 1

        # memmap_init(): links, refcount 1, mapcount -1, cpupid reset, MOVABLE pageblocks
        last_zone = mc_boot_zone_of(nr_pfns - 1, m.lowmem_pfns)
        memmap_init(m, last_zone)
        for nid in range(nodes):
            top = m.memblock_top[nid] >> PAGE_SHIFT
            end = m.node_end_pfn[nid] if nid else min(m.node_end_pfn[nid], m.lowmem_pfns)
            add_reservation(m, top, end, -1)
        mark_reservations(m)

        # memblock_free_all(): everything not reserved goes to the buddy allocator
        free_all_bootmem(m)

        # watermarks, lowmem reserves, pcp batch/high
        if min_free_kbytes is None:
            m.min_free_kbytes = calculate_min_free_kbytes(m)
            setup_per_zone_wmarks(m)
            rec = recommended_min_free_kbytes(m)
            if rec > m.min_free_kbytes:
                m.min_free_kbytes = rec
        else:
            if not isinstance(min_free_kbytes, int) or min_free_kbytes < 0:
                raise ValueError(f"min_free_kbytes must be a non-negative int, "
                                 f"not {min_free_kbytes!r}")
            m.min_free_kbytes = min_free_kbytes
        setup_per_zone_wmarks(m)
        setup_per_zone_lowmem_reserve(m)

        # kmem_cache_init(): SLUB's boot caches and the kmalloc caches
        slab_boot(self, boot_caches_pa)

    cdef _init_node(self, int nid):
        cdef mc_machine *m = self.m
        cdef pglist_data *pg = m.pgdat[nid]
        cdef zone *z
        cdef uint64_t start, end, zs, ze, nblocks, pa
        cdef int zi, o, mt, cpu
        cdef list_head *h
        memset(pg, 0, sizeof(pglist_data))
        start, end = m.node_start_pfn[nid], m.node_end_pfn[nid]
        pg.node_id = nid
        pg.node_start_pfn = start
        pg.node_spanned_pages = end - start
        pg.node_present_pages = end - start
        for zi in range(MAX_NR_ZONES_C):
            z = &pg.node_zones[zi]
            z.node = nid
            z.zone_idx = zi
            z.zone_pgdat = m.pgdat_va[nid]
            for o in range(NR_PAGE_ORDERS):
                for mt in range(MIGRATE_TYPES):
                    h = &z.free_area[o].free_list[mt]
                    INIT_LIST_HEAD(h, mc_virt(m, h))
            # the zone's part of the node: zones are PFN ranges on x86
            zs, ze = self._zone_span(zi)
            zs = max(zs, start)
            ze = min(ze, end)
            if ze <= zs:
                continue
            z.zone_start_pfn = zs
            z.spanned_pages = ze - zs
            z.present_pages = ze - zs
            pg.nr_zones = zi + 1
            nblocks = ((ze - 1) >> pageblock_order) - (zs >> pageblock_order) + 1
            pa = self._memblock_alloc(nblocks, 8, nid, MC_RES_PAGEBLOCK)
            z.pageblock_flags = mc_phys_to_virt(m, pa)
            memset(mc_host(m, z.pageblock_flags), 0, nblocks)
            pa = self._memblock_alloc(m.nr_cpus * sizeof(per_cpu_pages), 64, nid, MC_RES_PERCPU)
            z.per_cpu_pageset = mc_phys_to_virt(m, pa)
            for cpu in range(m.nr_cpus):
                per_cpu_pages_init(m, zone_pcp(m, z, cpu))

    cdef tuple _zone_span(self, int zi):
        """[start, end) of a zone over all of memory (x86 zone_sizes_init())."""
        cdef uint64_t lo = 0, hi = 0
        cdef bint found = False
        cuts = sorted({0, MAX_DMA_PFN, MAX_DMA32_PFN, self.m.lowmem_pfns, self.m.memmap_pfns})
        for a, b in zip(cuts, cuts[1:]):
            if a < b and mc_boot_zone_of(a, self.m.lowmem_pfns) == zi:
                if not found:
                    lo = a
                    found = True
                hi = b
        if not found:
            return (0, 0)
        return (lo, hi)

    # ---- tasks -----------------------------------------------------------------------

    def task(self, str name, cpu=None):
        """The task called `name`, created on first use (on CPU `cpu`, default 0)."""
        cdef Task t = self._task_by_name.get(name)
        if t is not None:
            if cpu is not None and cpu != t._t().cpu:
                raise ValueError(f"task {name!r} runs on CPU {t._t().cpu}, not {cpu}")
            return t
        cpu = 0 if cpu is None else cpu
        if not isinstance(cpu, int) or not 0 <= cpu < self.m.nr_cpus:
            raise ValueError(f"cpu must be 0..{self.m.nr_cpus - 1}, not {cpu!r}")
        tid = task_add(self.m, cpu)
        if tid < 0:
            raise MemoryError("cannot grow the task table")
        t = Task.__new__(Task)
        t.name = name
        t.id = tid
        t.machine = self
        self.tasks.append(t)
        self._task_by_name[name] = t
        return t

    cdef inline Task _running(self, object task):
        """The task an operation runs as; a sleeping task cannot run."""
        cdef Task t = self.current if task is None else <Task?>task
        if t.machine is not self:
            raise ValueError(f"task {t.name!r} belongs to another machine")
        if t._t().wait_kind != MC_WAIT_NONE:
            raise Deadlock(f"task {t.name!r} is asleep waiting for {t.waiting_for}; "
                           f"it cannot run until woken")
        return t

    # ---- errors -----------------------------------------------------------------------

    cdef int _raise(self, int rc) except -1:
        """Turn a nogil error code into the memcore exception, with a dump_page()."""
        cdef mc_machine *m = self.m
        if rc == MC_ECTOR:                     # a constructor's own exception
            err, self._ctor_error = self._ctor_error, None
            m.err = 0
            m.err_msg[0] = 0
            m.err_pfn = -1
            raise err
        cls = _ERRORS.get(rc, MemcoreError)
        msg = m.err_msg.decode() if m.err_msg[0] else f"error {rc}"
        dump = ""
        if m.err_pfn >= 0 and <uint64_t>m.err_pfn < m.nr_pfns:
            dump = dump_page(self, m.err_pfn, msg)
        if rc == MC_EBADPAGE and m.err_pfn >= 0:
            msg = f"BUG: Bad page state in process {self.current.name}  pfn:{m.err_pfn:05x}: {msg}"
        m.err = 0
        m.err_msg[0] = 0
        m.err_pfn = -1
        raise cls(msg, dump)

    cdef inline uint64_t _pfn(self, object pfn) except? 0:
        cdef long long v
        cdef int overflow = 0
        if type(pfn) is int:
            v = PyLong_AsLongLongAndOverflow(pfn, &overflow)
            if not overflow and 0 <= v < <long long>self.m.nr_pfns:
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
        raise PFNOutOfRange(f"pfn {pfn:#x} is outside the memory map "
                            f"(0..{self.m.nr_pfns - 1:#x})")

    # ---- the public API -------------------------------------------------------------

    @property
    def nr_pfns(self):
        """Page frames of RAM (PFNs 0 .. nr_pfns - 1)."""
        return self.m.nr_pfns

    @property
    def nodes(self):
        return self.m.nr_nodes

    @property
    def cpus(self):
        return self.m.nr_cpus

    @property
    def min_free_kbytes(self):
        return self.m.min_free_kbytes

    @property
    def page_offset(self):
        """Modeled address where the direct map of physical memory starts."""
        return self.m.page_offset

    @property
    def memmap_address(self):
        """Modeled address of the struct page of PFN 0 (vmemmap, or lowmem on 32-bit)."""
        return self.m.memmap_va

    @property
    def sizeof_page(self):
        return MC_SIZEOF_PAGE

    def __repr__(self):
        return (f"<memcore.Machine {self.ram >> 20} MiB {self.design} {self.bits}-bit "
                f"({self.config}), {self.m.nr_nodes} node(s), {self.m.nr_cpus} CPU(s)>")

    def page(self, pfn):
        """The struct page of a PFN, as a Page view."""
        cdef Page pg = Page.__new__(Page)
        pg.machine = self
        pg.addr = mc_pfn_to_va(self.m, self._pfn(pfn))
        return pg

    def folio(self, pfn):
        """The folio whose head page is `pfn` (page_folio() of a head page)."""
        cdef uint64_t p = self._pfn(pfn)
        cdef page *pg = mc_pfn_to_page(self.m, p)
        if PageTail(pg):
            set_err(self.m, MC_ETAIL, p, b"tail page where a folio head is required")
            self._raise(MC_ETAIL)
        return _make_folio(self, mc_folio_va(self.m, page_folio(self.m, pg)))

    def pfn_to_page(self, pfn):
        """pfn_to_page(): the modeled address of the PFN's struct page."""
        return mc_pfn_to_va(self.m, self._pfn(pfn))

    def page_to_pfn(self, address):
        """page_to_pfn(): the PFN of a modeled struct page address."""
        if not isinstance(address, int) or address < 0 or address >> MC_BITS:
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
        return mc_phys_to_virt(self.m, p << PAGE_SHIFT)

    def alloc_folio(self, order=0, kind="file", zone=None, movable=True, node=None,
                    task=None):
        """Allocate a folio as folio_alloc() does: compound, refcount 1.

        kind: "file" or "anon" (anon folios are swap-backed); zone: the highest
        zone allowed ("DMA", "DMA32", "Normal", "HighMem", "Movable"), default
        the highest the gfp allows; movable: MIGRATE_MOVABLE (user memory)
        rather than MIGRATE_UNMOVABLE (kernel memory); node: preferred node.
        """
        cdef unsigned int gfp
        cdef int o, nid, cpu
        cdef folio *f
        cdef Task t = self._running(task)
        if not isinstance(order, int) or isinstance(order, bool):
            raise TypeError(f"order must be an int, not {type(order).__name__}")
        if not 0 <= order <= MAX_PAGE_ORDER:
            raise OrderOutOfRange(f"order {order} is outside 0..{MAX_PAGE_ORDER} (MAX_PAGE_ORDER)")
        if kind not in ("file", "anon"):
            raise UnknownChoice("folio kind", kind, ("file", "anon"))
        gfp = GFP_HIGHUSER_MOVABLE if movable else GFP_KERNEL
        if zone is not None:
            gfp = self._gfp_for_zone(zone, movable)
        nid = self.m.cpu_node[t._t().cpu] if node is None else node
        if not isinstance(nid, int) or not 0 <= nid < self.m.nr_nodes:
            raise ValueError(f"node must be 0..{self.m.nr_nodes - 1}, not {node!r}")
        gfp |= __GFP_COMP
        o = order
        cpu = t._t().cpu
        f = folio_alloc(self.m, gfp, o, nid, cpu)
        if f == NULL:
            raise OutOfMemory(f"page allocation failure: order:{order}, "
                              f"mode:{gfp:#x}, nodemask=(null): no zone above its watermark")
        if kind == "anon":
            __set_bit(PG_swapbacked, folio_flags(f, 0))
        return _make_folio(self, mc_folio_va(self.m, f))

    cdef unsigned int _gfp_for_zone(self, zone, bint movable) except? 0:
        """GFP flags whose gfp_zone() is the named zone (the highest one allowed)."""
        valid = tuple(n for n in ZONE_NAMES if n != "Device")
        if zone not in valid:
            raise UnknownChoice("zone", zone, valid)
        mt = __GFP_MOVABLE if movable else 0
        base = GFP_USER if movable else GFP_KERNEL
        if zone == "DMA":
            return base | mt | __GFP_DMA
        if zone == "DMA32":
            return base | mt | __GFP_DMA32
        if zone == "Normal":
            return base | mt
        if not movable:
            if zone == "Movable":
                raise ValueError("ZONE_MOVABLE only holds movable allocations (movable=True)")
            return GFP_KERNEL | __GFP_HIGHMEM
        # HIGHMEM|MOVABLE means ZONE_MOVABLE, which falls back to HighMem when empty
        return GFP_HIGHUSER_MOVABLE

    def drain_pcp(self):
        """drain_all_pages(): return every CPU's cached pages to the buddy lists."""
        drain_all_pages(self.m)

    # ---- zones and statistics ---------------------------------------------------------

    def zones(self):
        """Every populated zone: span, counts, watermarks, pcp limits (as /proc/zoneinfo)."""
        cdef int nid, zi, cpu
        cdef zone *z
        cdef per_cpu_pages *pcp
        out = []
        for nid in range(self.m.nr_nodes):
            for zi in range(MAX_NR_ZONES_C):
                z = &self.m.pgdat[nid].node_zones[zi]
                if z.spanned_pages == 0:
                    continue
                pcps = []
                for cpu in range(self.m.nr_cpus):
                    pcp = zone_pcp(self.m, z, cpu)
                    pcps.append({"cpu": cpu, "count": pcp.count, "high": pcp.high,
                                 "high_min": pcp.high_min, "high_max": pcp.high_max,
                                 "batch": pcp.batch})
                out.append({
                    "node": nid, "zone": ZONE_NAMES[zi], "start_pfn": z.zone_start_pfn,
                    "spanned": z.spanned_pages, "present": z.present_pages,
                    "managed": z.managed_pages, "free": z.vm_stat[NR_FREE_PAGES],
                    "nr_free_pages_blocks": z.vm_stat[NR_FREE_PAGES_BLOCKS],
                    "min": z._watermark[WMARK_MIN], "low": z._watermark[WMARK_LOW],
                    "high": z._watermark[WMARK_HIGH], "promo": z._watermark[WMARK_PROMO],
                    "protection": [z.lowmem_reserve[i] for i in range(MAX_NR_ZONES_C)],
                    "pagesets": pcps,
                })
        return out

    def free_area(self, int nid=0, zone_name=None):
        """Free blocks per order and migratetype of a zone (as /proc/pagetypeinfo)."""
        cdef int zi, o, mt
        cdef zone *z
        cdef list_head *h
        cdef mc_ulong v
        if not 0 <= nid < self.m.nr_nodes:
            raise ValueError(f"node must be 0..{self.m.nr_nodes - 1}")
        zi = self._zone_index(zone_name)
        z = &self.m.pgdat[nid].node_zones[zi]
        out = {}
        for mt in range(MIGRATE_TYPES):
            counts = []
            for o in range(NR_PAGE_ORDERS):
                n = 0
                h = free_list_head(z, o, mt)
                v = h.next
                while v != mc_virt(self.m, h):
                    n += 1
                    v = mc_list(self.m, v).next
                counts.append(n)
            out[MIGRATETYPE_NAMES[mt]] = counts
        return out

    cdef int _zone_index(self, zone_name) except -1:
        if zone_name is None:
            return ZONE_NORMAL
        if zone_name not in ZONE_NAMES:
            raise UnknownChoice("zone", zone_name, ZONE_NAMES)
        return ZONE_NAMES.index(zone_name)

    def stats(self):
        """Counts per zone/order/migratetype, page states, and metadata bytes."""
        import numpy as np
        cdef int nid, zi
        cdef zone *z
        cdef slab *sl
        cdef uint64_t pfn
        cdef mc_machine *m = self.m
        counts = np.zeros(NR_WALK_KINDS, dtype=np.uint64)
        cdef uint64_t[::1] cv = counts
        walk_pfns(m, &cv[0])
        states = {WALK_KIND_NAMES[i]: int(counts[i]) for i in range(NR_WALK_KINDS)}
        zones = []
        for nid in range(m.nr_nodes):
            for zi in range(MAX_NR_ZONES_C):
                z = &m.pgdat[nid].node_zones[zi]
                if z.spanned_pages == 0:
                    continue
                zones.append({
                    "node": nid, "zone": ZONE_NAMES[zi],
                    "managed": z.managed_pages, "free": z.vm_stat[NR_FREE_PAGES],
                    "pcp": z.vm_stat[NR_ZONE_PCP_PAGES],
                    "nr_free": [z.free_area[o].nr_free for o in range(NR_PAGE_ORDERS)],
                    "free_area": self.free_area(nid, ZONE_NAMES[zi]),
                })
        meta = {RESERVE_KINDS[i]: m.reserved_bytes[i] for i in range(MC_NR_RESERVE_KINDS)}
        slab_pages = {}
        for pfn in _slab_heads(self):
            sl = mc_va_to_slab(m, mc_pfn_to_va(m, pfn))
            slab_pages[sl.slab_cache] = slab_pages.get(sl.slab_cache, 0) + (1 << slab_order(sl))
        caches = {}
        for c in self.caches():
            pages = slab_pages.get((<KmemCache>c).addr, 0)
            caches[c.name] = {"slabs": c.slabs, "pages": pages, "bytes": pages * PAGE_SIZE,
                              "total_objects": c.total_objects, "objects": c.objects,
                              "objects_inuse": c.objects_inuse,
                              "object_bytes": c.objects_inuse * c.object_size}
        meta["memmap_host"] = m.memmap_bytes
        return {
            "ram": self.ram, "nr_pfns": m.nr_pfns, "page_size": PAGE_SIZE,
            "sizeof_page": MC_SIZEOF_PAGE, "sizeof_folio": MC_SIZEOF_FOLIO,
            "pages": states, "zones": zones,
            "metadata_bytes": meta,
            "reserved_pages": reserved_pages(m),
            "slab_pages": m.slab_pages, "large_kmalloc_pages": m.large_kmalloc_pages,
            "slab_caches": caches,
            "pgalloc": m.pgalloc, "pgfree": m.pgfree,
            "min_free_kbytes": m.min_free_kbytes,
        }

    # ---- bit locks on flags words (folio_lock, pgflags_lock) ---------------------
    #
    # PG_locked is the lock, PG_waiters (bit 7, the same byte) says someone
    # sleeps in folio_wait_table[hash(word)].  The model records which task
    # holds each lock so that contention and self-deadlock are visible.

    cdef object _bit_trylock(self, mc_ulong key, mc_ulong *word, object task):
        cdef Task t = self._running(task)
        cdef int rc = bit_trylock(self.m, key, word, t.id)
        if rc < 0:
            raise MemoryError("cannot grow the lock-owner table")
        return rc == BITLOCK_TAKEN

    cdef object _bit_lock(self, mc_ulong key, mc_ulong *word, object task):
        cdef Task t = self._running(task)
        cdef int rc = bit_lock(self.m, key, word, t.id)
        if rc == BITLOCK_SELF:
            raise Deadlock(f"task {t.name!r} would sleep on a lock it holds itself "
                           f"(flags word at {key:#x})", self._dump_key(key))
        if rc == BITLOCK_IN_RCU:
            raise Deadlock(f"task {t.name!r} would sleep on a lock inside an RCU read-side "
                           f"critical section (BUG: sleeping function called from invalid "
                           f"context)", self._dump_key(key))
        if rc < 0:
            raise MemoryError("cannot grow the lock or wait tables")
        return rc == BITLOCK_TAKEN

    cdef object _bit_unlock(self, mc_ulong key, mc_ulong *word, object task):
        cdef int rc
        self._running(task)
        rc = bit_unlock(self.m, key, word)
        if rc == MC_ENOTLOCKED:
            if mc_va_is_page(self.m, key):
                set_err(self.m, MC_ENOTLOCKED, mc_page_to_pfn(self.m, mc_va_to_page(self.m, key)),
                        b"folio_unlock() of a folio that is not locked (VM_BUG_ON_FOLIO)")
                self._raise(MC_ENOTLOCKED)
            raise FolioNotLocked(f"unlock of the flags word at {key:#x}, which is not locked")
        return rc == 1

    cdef object _lock_owner(self, mc_ulong key):
        """The Task holding the bit lock of the flags word at `key`, or None."""
        cdef int tid = lock_owner(self.m, key)
        return self.tasks[tid] if tid >= 0 else None

    cdef str _dump_key(self, mc_ulong key):
        if mc_va_is_page(self.m, key):
            return dump_page(self, mc_page_to_pfn(self.m, mc_va_to_page(self.m, key)), None)
        return ""

    def waiters(self, address):
        """The tasks sleeping on the lock of the flags word at `address`, in queue order."""
        cdef mc_ulong key = address
        cdef mc_waitq *q = &self.m.wait_table[mc_wait_hash(key)]
        return [self.tasks[q.w[i].task] for i in range(q.nr) if q.w[i].key == key]

    cdef int _flag_bit(self, name) except -1:
        """A page flag by name: "dirty", "PG_dirty", or a PG enum member."""
        if isinstance(name, int) and not isinstance(name, bool):
            if 0 <= name < NR_PAGEFLAGS:
                return name
            raise UnknownChoice("page flag bit", name, range(NR_PAGEFLAGS))
        if not isinstance(name, str):
            raise TypeError(f"a page flag is a name or a bit number, not {type(name).__name__}")
        key = name if name.startswith("PG_") else "PG_" + name
        try:
            return self.PG[key]
        except KeyError:
            raise UnknownChoice("page flag", name,
                                [n[3:] for n in self.PG.__members__]) from None

    def pgflags(self, address):
        """A PgFlags view of the flags word at a modeled address."""
        if not isinstance(address, int) or address < 0 or address >> MC_BITS:
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
        import numpy as np
        cdef mc_machine *m = self.m
        cdef int rc
        claims = np.zeros(m.nr_pfns, dtype=np.uint8)
        cdef unsigned char[::1] cv = claims
        rc = machine_check(m, &cv[0])
        if rc:
            self._raise(rc)
        check_slabs(self)
        rc = check_waiters(m)
        if rc:
            self._raise(rc)
        return True

    # ---- bulk operations ------------------------------------------------------------

    def walk(self):
        """Classify every PFN in one nogil pass: {kind: pages}."""
        import numpy as np
        counts = np.zeros(NR_WALK_KINDS, dtype=np.uint64)
        cdef uint64_t[::1] cv = counts
        walk_pfns(self.m, &cv[0])
        return {WALK_KIND_NAMES[i]: int(counts[i]) for i in range(NR_WALK_KINDS)}

    def _walk_plain(self):
        """Benchmark baseline: a plain C loop over the same memmap."""
        cdef uint64_t r
        r = walk_plain(self.m)
        return r

    cdef tuple _bulk_args(self, order, movable, task):
        cdef Task t = self._running(task)
        if not isinstance(order, int) or not 0 <= order <= MAX_PAGE_ORDER:
            raise OrderOutOfRange(f"order {order!r} is outside 0..{MAX_PAGE_ORDER}")
        gfp = (GFP_HIGHUSER_MOVABLE if movable else GFP_KERNEL) | __GFP_COMP
        return t, gfp, self.m.cpu_node[t._t().cpu]

    def bulk_alloc_free(self, n, order=0, movable=True, task=None):
        """n pairs of folio_alloc() + folio_put() in one nogil loop."""
        t, gfp, nid = self._bulk_args(order, movable, task)
        cdef uint64_t cn = n
        cdef int co = order, cpu = (<Task>t)._t().cpu, cnid = nid, rc
        cdef unsigned int cgfp = gfp
        rc = bulk_alloc_free_pairs(self.m, cn, co, cgfp, cnid, cpu)
        if rc == MC_ENOMEM:
            raise OutOfMemory(f"page allocation failure: order:{order}")
        if rc < 0:
            self._raise(rc)

    def bulk_kmem_cache_alloc_free(self, cache, n, task=None):
        """n pairs of kmem_cache_alloc() + kmem_cache_free() in one nogil loop."""
        cdef kmem_cache *s = self._cache(cache)
        cdef Task t = self._running(task)
        cdef uint64_t cn = n
        cdef int rc, cpu = t._t().cpu
        if s.ctor:
            raise ValueError("bulk operations cannot run a Python constructor (the cache has one)")
        rc = bulk_cache_alloc_free(self.m, s, cn, cpu)
        if rc:
            self._raise(rc)

    def bulk_alloc(self, n, order=0, movable=True, task=None):
        """Allocate n folios in one nogil loop; a numpy array of their head PFNs.
        On failure the folios allocated so far are freed again and OutOfMemory raised."""
        import numpy as np
        t, gfp, nid = self._bulk_args(order, movable, task)
        pfns = np.zeros(n, dtype=np.uint64)
        cdef uint64_t[::1] pv = pfns
        cdef uint64_t done = 0, cn = n
        cdef int co = order, cpu = (<Task>t)._t().cpu, cnid = nid, rc
        cdef unsigned int cgfp = gfp
        rc = bulk_alloc(self.m, cn, co, cgfp, cnid, cpu, &pv[0] if cn else NULL, &done)
        if rc:
            self.bulk_put(pfns[:done], task=t)
            raise OutOfMemory(f"page allocation failure: order:{order} after {done} of {n}")
        return pfns

    def bulk_put(self, pfns, task=None):
        """folio_put() of each folio head PFN in `pfns`, in one nogil loop."""
        import numpy as np
        cdef Task t = self._running(task)
        arr = np.ascontiguousarray(pfns, dtype=np.uint64)
        cdef uint64_t[::1] pv = arr
        cdef uint64_t done = 0, n = arr.shape[0]
        cdef int rc, cpu = t._t().cpu
        if n == 0:
            return
        rc = bulk_put(self.m, &pv[0], n, cpu, &done)
        if rc < 0:
            self._raise(rc)

    # ---- RCU ----------------------------------------------------------------------

    def rcu_read_lock(self, task=None):
        """rcu_read_lock(): enter (or nest) a read-side critical section."""
        cdef Task t = self._running(task)
        t._t().rcu_nesting += 1

    def rcu_read_unlock(self, task=None):
        """rcu_read_unlock(): leave one level; leaving the outermost one is a
        quiescent state, which may end a grace period and run callbacks."""
        cdef Task t = self._running(task)
        if t._t().rcu_nesting == 0:
            raise VMBug(f"rcu_read_unlock() by task {t.name!r} outside any RCU read-side "
                        f"critical section")
        t._t().rcu_nesting -= 1
        if t._t().rcu_nesting == 0:
            self.rcu._quiescent(t)

    def rcu_read(self, task=None):
        """Context manager: ``with m.rcu_read(task): ...`` is lock/unlock."""
        return _RCUReadSection(self, task)

    def call_rcu(self, fn):
        """call_rcu(): call fn() after a grace period that starts after now."""
        if not callable(fn):
            raise TypeError(f"call_rcu() needs a callable, not {type(fn).__name__}")
        self.rcu._queue(fn)

    def synchronize_rcu(self, task=None):
        """synchronize_rcu(): wait for a full grace period.

        Returns True when the grace period completed at once.  When a reader
        holds it back, the calling task sleeps (False) until the last holdout
        leaves its read section.  Calling it inside a read section is a
        deadlock, as lockdep reports it."""
        cdef Task t = self._running(task)
        cdef _WakeAfterGP w
        if t._t().rcu_nesting:
            raise Deadlock(f"Illegal synchronize_rcu() in RCU read-side critical section "
                           f"(task {t.name!r})")
        w = _WakeAfterGP()
        w.task = t
        self.rcu._queue(w)
        self.rcu.advance()
        if w.done:
            return True
        # the GP in progress holds w, or w waits for the one after it
        t._t().wait_kind = MC_WAIT_RCU
        t._t().wait_gp = self.rcu.gp_seq + (1 if any(f is w for f in self.rcu._wait) else 2)
        return False

    cdef _rcu_collect(self, list into):
        """Hand the slabs free_slab() queued for RCU to the next grace period."""
        cdef _FreeRCUSlabs f
        if self.m.rcu_slabs:
            f = _FreeRCUSlabs()
            f.machine = self
            f.head = self.m.rcu_slabs
            self.m.rcu_slabs = 0
            into.append(f)

    # ---- SLUB ---------------------------------------------------------------------

    cdef _register_cache(self, str name, mc_ulong va):
        self._caches[name] = va
        self._cache_names[va] = name

    def kmem_cache_create(self, name, size, align=0, flags=(), ctor=None, freeptr_offset=None):
        """kmem_cache_create(): a new cache.  flags: SLAB_* names (or their values);
        ctor: any callable, called with each new object (a SlabObject) when its slab
        is created; freeptr_offset: where a SLAB_TYPESAFE_BY_RCU cache may keep the
        free pointer inside the object."""
        self._running(None)
        return _make_cache_view(self, kmem_cache_create(self, name, size, align, flags, ctor,
                                                        freeptr_offset))

    def kmem_cache(self, name):
        """The cache called `name` (kmalloc caches included)."""
        try:
            return _make_cache_view(self, self._caches[name])
        except KeyError:
            raise UnknownChoice("kmem_cache", name, sorted(self._caches)) from None

    def caches(self):
        """Every cache, newest first (the order of /proc/slabinfo)."""
        return [_make_cache_view(self, va) for va in reversed(list(self._cache_names))]

    cdef kmem_cache *_cache(self, cache) except NULL:
        if isinstance(cache, str):
            cache = self.kmem_cache(cache)
        if not isinstance(cache, KmemCache) or (<KmemCache>cache).machine is not self:
            raise TypeError("expected a KmemCache of this machine (or a cache name)")
        return (<KmemCache>cache)._s()

    def kmem_cache_alloc(self, cache, gfp="GFP_KERNEL", node=None, task=None):
        """kmem_cache_alloc(): an object (SlabObject) from the cache, on the task's CPU."""
        cdef kmem_cache *s = self._cache(cache)
        cdef Task t = self._running(task)
        cdef unsigned int g = parse_gfp(gfp)
        cdef int nid = self._node_arg(node)
        cdef mc_ulong obj
        obj = slab_alloc_node(self.m, s, g, nid, t._t().cpu, s.object_size)
        if obj == 0:
            self._raise(self.m.err or MC_ENOMEM)
        return _make_object(self, obj, s.object_size, mc_virt(self.m, s))

    cdef int _node_arg(self, node) except -2:
        if node is None:
            return -1
        if not isinstance(node, int) or not 0 <= node < self.m.nr_nodes:
            raise ValueError(f"node must be 0..{self.m.nr_nodes - 1} or None, not {node!r}")
        return node

    cdef mc_ulong _obj_addr(self, obj) except? 0:
        if isinstance(obj, SlabObject):
            if (<SlabObject>obj).machine is not self:
                raise ValueError("the object belongs to another machine")
            return (<SlabObject>obj).addr
        if isinstance(obj, int) and not isinstance(obj, bool) and 0 <= obj < (<object>1) << MC_BITS:
            return obj
        raise TypeError(f"expected a SlabObject or an address, not {obj!r}")

    def kmem_cache_free(self, cache, obj, task=None):
        """kmem_cache_free(): checked first (wrong cache, not an object start,
        double free); a failed check raises and changes nothing."""
        cdef kmem_cache *s = self._cache(cache)
        cdef Task t = self._running(task)
        cdef mc_ulong addr = self._obj_addr(obj)
        cdef int rc
        if self._kfree_rcu_queued and addr in self._kfree_rcu_queued:
            self._refuse_rcu_queued("kmem_cache_free", addr)
        rc = slab_free_checked(self.m, s, addr, t._t().cpu)
        if rc:
            self._raise_free(rc, addr)
        self.rcu._kick()

    def kmalloc(self, size, gfp="GFP_KERNEL", node=None, task=None):
        """kmalloc(): from kmalloc-8 ... kmalloc-8k, or whole pages above 8 KiB
        (PGTY_large_kmalloc).  kmalloc(0) returns ZERO_SIZE_PTR (an int, 16)."""
        cdef Task t = self._running(task)
        cdef unsigned int g = parse_gfp(gfp)
        cdef int nid = self._node_arg(node)
        cdef mc_ulong obj
        cdef slab *sl
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"kmalloc size must be a non-negative int, not {size!r}")
        if size > (PAGE_SIZE << MAX_PAGE_ORDER):
            raise OutOfMemory(f"kmalloc({size}): above KMALLOC_MAX_SIZE "
                              f"({PAGE_SIZE << MAX_PAGE_ORDER})")
        obj = __kmalloc(self.m, size, g, nid, t._t().cpu)
        if obj == 0:
            self._raise(self.m.err or MC_ENOMEM)
        if obj == ZERO_SIZE_PTR:
            return ZERO_SIZE_PTR
        sl = virt_to_slab(self.m, obj)
        return _make_object(self, obj, size, sl.slab_cache if sl else 0)

    def kfree(self, obj, task=None):
        """kfree(): of a kmalloc'd object (or NULL/ZERO_SIZE_PTR, which do nothing)."""
        cdef Task t = self._running(task)
        cdef mc_ulong addr = self._obj_addr(obj) if obj is not None else 0
        cdef int rc
        if self._kfree_rcu_queued and addr in self._kfree_rcu_queued:
            self._refuse_rcu_queued("kfree", addr)
        rc = kfree(self.m, addr, t._t().cpu)
        if rc:
            self._raise_free(rc, addr)
        self.rcu._kick()

    cdef int _refuse_rcu_queued(self, str fn, mc_ulong addr) except -1:
        # DEBUG_OBJECTS_RCU_HEAD: the object's rcu_head is still queued
        raise VMBug(f"{fn}({addr:#x}): the object is queued by kfree_rcu() and will be "
                    f"freed after a grace period (ODEBUG: free active (active state 1) "
                    f"object type: rcu_head)")

    cdef int _raise_free(self, int rc, mc_ulong addr) except -1:
        if self.kasan and rc in (MC_EDOUBLEFREE, MC_EINVALFREE) and \
                mc_addr_in_direct_map(self.m, addr, 1):
            kind = "double-free" if rc == MC_EDOUBLEFREE else "invalid-free"
            text = self._kasan_free_report(addr, kind)
            self.m.err = 0
            raise KASANReport(f"KASAN: {kind} of {addr:#x}", text, kind)
        return self._raise(rc)

    cdef str _kasan_free_report(self, mc_ulong addr, str kind):
        w = MC_BITS // 4
        lines = ["=" * 66, f"BUG: KASAN: {kind} in kmem_cache_free",
                 f"Free of addr {addr:0{w}x} by task {self.current.name}/{self.current.id + 1}", ""]
        lines.append(dump_page(self, mc_virt_to_phys(self.m, addr) >> PAGE_SHIFT,
                               "kasan: bad access detected").rstrip("\n"))
        lines.append("=" * 66)
        return "\n".join(lines) + "\n"

    def kfree_rcu(self, obj):
        """kfree_rcu(): kfree() after a grace period that starts after now.  What
        kfree() would refuse now (not a kmalloc'd or slab object start, already
        free, already queued by kfree_rcu()) is refused here and queues nothing."""
        cdef mc_ulong addr = self._obj_addr(obj) if obj is not None else 0
        cdef int rc
        cdef page *head
        self._running(None)
        if addr <= ZERO_SIZE_PTR:
            return                                  # kvfree_call_rcu(NULL) does nothing
        if addr in self._kfree_rcu_queued:
            raise VMBug(f"kfree_rcu: {addr:#x} is already queued for kfree() by kfree_rcu()")
        rc = kfree_check(self.m, addr, &head)
        if rc:
            self._raise_free(rc, addr)
        self._kfree_rcu_queued.add(addr)
        self.rcu._queue(_DeferredKfree(self, addr))

    def kmem_cache_destroy(self, cache):
        """kmem_cache_destroy().  Like 6.18 it first runs every pending kfree_rcu()
        (kvfree_rcu_barrier(); Deadlock, with nothing changed, if a reader holds
        their grace period back), then refuses, changing nothing more, while
        objects of the cache live."""
        cdef kmem_cache *s = self._cache(cache)
        cdef mc_ulong va = mc_virt(self.m, s)
        cdef int nid
        name = self._cache_names[va]
        if s.refcount < 0 or va in [self.m.kmalloc_caches[t][i] for t in range(4) for i in range(14)]:
            raise ValueError(f"kmem_cache_destroy: {name} is a boot cache")
        self._running(None)
        # kvfree_rcu_barrier(): in-flight kfree_rcu()s may hold objects of this cache;
        # a reader that holds their grace period back means waiting forever
        if self._kfree_rcu_queued:
            if any((<Task>t)._t().rcu_nesting for t in self.tasks):
                raise Deadlock(f"kmem_cache_destroy {name}: kvfree_rcu_barrier() would wait "
                               f"for tasks inside RCU read-side critical sections "
                               f"({len(self._kfree_rcu_queued)} kfree_rcu() pending)")
            self.rcu.barrier()
        live = _make_cache_view(self, va).objects_inuse
        if live:
            raise VMBug(f"kmem_cache_destroy {name}: Slab cache still has objects "
                        f"({live} objects in use)")
        typesafe = s.flags & MC_SLAB_TYPESAFE_BY_RCU
        # every slab left is empty and __kmem_cache_shutdown() will free it through
        # RCU; rcu_barrier() then waits for a GP that any reader holds back
        if typesafe and any((<Task>t)._t().rcu_nesting for t in self.tasks) and (
                self.m.rcu_slabs or self.rcu.pending or
                any(get_node(self.m, s, nid).nr_slabs for nid in range(self.m.nr_nodes))):
            raise Deadlock(f"kmem_cache_destroy {name}: rcu_barrier() would wait for tasks "
                           f"inside RCU read-side critical sections")
        # __kmem_cache_shutdown(): flush every CPU, free the (all empty) partial slabs
        self._flush_and_shrink(s)
        if typesafe:
            if not self.rcu.barrier():             # rcu_free_slab() of those slabs
                raise VMBug(f"kmem_cache_destroy {name}: rcu_barrier() left work pending "
                            f"after the reader check (model bug)")
        # kmem_cache_release(): per-CPU part, nodes, random_seq, the struct itself
        (<_PercpuArea>self._percpu).dealloc(s.cpu_slab, sizeof(kmem_cache_cpu))
        for nid in range(self.m.nr_nodes):
            self.kmem_cache_free(_make_cache_view(self, self.m.kmem_cache_node), s.node[nid])
        if s.random_seq:
            self.kfree(s.random_seq)
        del self._caches[name]
        del self._cache_names[va]
        self.kmem_cache_free(_make_cache_view(self, self.m.kmem_cache), va)

    def kmem_cache_shrink(self, cache):
        """kmem_cache_shrink(): flush every CPU's slabs, discard the empty partial
        slabs (SLAB_TYPESAFE_BY_RCU: after a grace period) and put the fullest
        partial slabs first.  Returns the number of slabs discarded."""
        cdef kmem_cache *s = self._cache(cache)
        self._running(None)
        # every slab freed counts: the empty ones flush_cpu_slab()/__put_partials()
        # discard (node already holds min_partial) and the empty partial slabs
        before = sum(get_node(self.m, s, nid).nr_slabs for nid in range(self.m.nr_nodes))
        self._flush_and_shrink(s)
        self.rcu._kick()
        return before - sum(get_node(self.m, s, nid).nr_slabs for nid in range(self.m.nr_nodes))

    cdef int _flush_and_shrink(self, kmem_cache *s) except -1:
        if kmem_cache_flush_and_shrink(self.m, s):
            self._raise(MC_ECORRUPT)
        return 0

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
        lines = ["slabinfo - version: 2.1",
                 "# name            <active_objs> <num_objs> <objsize> <objperslab> "
                 "<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata "
                 "<active_slabs> <num_slabs> <sharedavail>"]
        for c in self.caches():
            num_objs = c.total_objects
            active = num_objs - count_partial_free(self.m, (<KmemCache>c)._s())
            slabs = c.slabs
            lines.append(f"{c.name:<17} {active:6d} {num_objs:6d} {c.slab_size:6d} "
                         f"{c.objs_per_slab:4d} {1 << c.order:4d} : tunables {0:4d} {0:4d} "
                         f"{0:4d} : slabdata {slabs:6d} {slabs:6d} {0:6d}")
        return "\n".join(lines) + "\n"

    # ---- raw modeled memory --------------------------------------------------------

    cdef bytes _mem_read(self, mc_ulong addr, uint64_t size, str where):
        self._mem_check(addr, size, False, where)
        return (<char *>mc_host(self.m, addr))[:size]

    cdef _mem_write(self, mc_ulong addr, bytes data, str where):
        self._mem_check(addr, len(data), True, where)
        memcpy(mc_host(self.m, addr), <const char *>data, len(data))

    cdef int _mem_check(self, mc_ulong addr, uint64_t size, bint write, str where) except -1:
        cdef mc_ulong bad = 0
        cdef unsigned char sh
        if size == 0:
            return 0
        if not mc_addr_in_direct_map(self.m, addr, size):
            raise InvalidAddress(f"[{addr:#x}, {addr + size:#x}) is not direct-mapped modeled "
                                 f"memory")
        if self.kasan:
            sh = kasan_first_bad(self.m, addr, size, &bad)
            if sh:
                text = kasan_report(self, addr, size, write, bad, sh, where)
                bug = _SHADOW_BUG_TYPES.get(sh, "unknown-crash")
                raise KASANReport(f"KASAN: {bug} in {where}", text, bug)
        return 0

    def read(self, address, size):
        """Bytes of modeled memory at a direct-map address (KASAN-checked if on)."""
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be a non-negative int, not {size!r}")
        return self._mem_read(self._obj_addr(address), size, "Machine.read")

    def write(self, address, data):
        """Write bytes to modeled memory at a direct-map address (KASAN-checked if on)."""
        self._mem_write(self._obj_addr(address), bytes(data), "Machine.write")


def _zone_tuning(managed, int min_free_kbytes, int watermark_scale_factor=10, int cpus=2):
    """Watermarks, lowmem reserves and pcp limits of one node whose zones (by
    zone index) manage these page counts, computed by the same C code a
    Machine boots with.  For checking the formulas against a real /proc/zoneinfo."""
    cdef mc_machine *m
    cdef unsigned char *buf
    cdef size_t pcp_bytes = cpus * sizeof(per_cpu_pages)
    cdef size_t size = sizeof(pglist_data) + MAX_NR_ZONES_C * pcp_bytes + 64
    cdef zone *z
    cdef int zi, cpu
    if len(managed) != MAX_NR_ZONES_C:
        raise ValueError(f"managed needs {MAX_NR_ZONES_C} zones ({', '.join(ZONE_NAMES)})")
    if not 1 <= cpus <= MC_MAX_CPUS:
        raise ValueError(f"cpus must be 1..{MC_MAX_CPUS}")
    m = <mc_machine *>calloc(1, sizeof(mc_machine))
    buf = <unsigned char *>calloc(1, size)
    if m == NULL or buf == NULL:
        free(m)
        free(buf)
        raise MemoryError()
    try:
        m.phys = buf
        m.page_offset = MC_PAGE_OFFSET
        m.nr_nodes = 1
        m.nr_cpus = cpus
        m.min_free_kbytes = min_free_kbytes
        m.watermark_scale_factor = watermark_scale_factor
        m.pgdat[0] = <pglist_data *>buf
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[0].node_zones[zi]
            z.managed_pages = managed[zi]
            z.spanned_pages = managed[zi]
            z.node = 0
            if managed[zi]:
                z.per_cpu_pageset = mc_virt(m, buf + sizeof(pglist_data) + zi * pcp_bytes)
                for cpu in range(cpus):
                    per_cpu_pages_init(m, zone_pcp(m, z, cpu))
        setup_per_zone_wmarks(m)
        setup_per_zone_lowmem_reserve(m)
        out = []
        for zi in range(MAX_NR_ZONES_C):
            z = &m.pgdat[0].node_zones[zi]
            out.append({"zone": ZONE_NAMES[zi], "managed": z.managed_pages,
                        "min": z._watermark[WMARK_MIN], "low": z._watermark[WMARK_LOW],
                        "high": z._watermark[WMARK_HIGH], "promo": z._watermark[WMARK_PROMO],
                        "protection": [z.lowmem_reserve[i] for i in range(MAX_NR_ZONES_C)],
                        "batch": z.pageset_batch if z.per_cpu_pageset else None,
                        "high_min": z.pageset_high_min if z.per_cpu_pageset else None,
                        "high_max": z.pageset_high_max if z.per_cpu_pageset else None})
        return out
    finally:
        free(buf)
        free(m)


