# memcore/core/kimage.pxi - the model's stand-in for the kernel image's
# variables that a debugger starts from (include/memcore/kimage.h): the
# slab_caches list, node_data[], node_states[], the CPU masks and per-CPU
# offsets, max_pfn, the memmap's variables and (64-bit) mem_section.  A host
# buffer on the Machine read at MC_KIMAGE_VA (Machine._kernel_read); filled
# at boot, slab_caches and the cache names kept as caches come and go.
# Nothing here is modeled RAM: the kernel's image and the memblock memory of
# mem_section are not (docs/ARCHITECTURE.md, "Decisions and deviations").

cdef extern from "memcore/kimage.h" nogil:
    mc_ulong MC_KIMAGE_VA
    uint64_t MC_KIMAGE_ROOT_PAGES, MC_KIMAGE_SECTION_ROOTS, MC_KIMAGE_SECTIONS
    uint64_t MC_SIZEOF_MEM_SECTION, MC_NR_SECTION_ROOTS, MC_SECTIONS_PER_ROOT
    int MC_MAX_PHYSMEM_BITS_4L
    int MC_MAX_NUMNODES, MC_NR_CPUS
    enum node_states:
        N_POSSIBLE, N_ONLINE, N_NORMAL_MEMORY, N_HIGH_MEMORY, N_MEMORY, N_CPU
    cdef struct mc_kimage_var:
        const char *name
        unsigned long offset
    const mc_kimage_var mc_kimage_vars[]

DEF KIMAGE_SECTION_BITS = 0xf   # SECTION_MARKED_PRESENT | HAS_MEM_MAP | IS_ONLINE | IS_EARLY

cdef dict _KIMAGE_OFFSETS = {}
cdef int _ki = 0
while mc_kimage_vars[_ki].name != NULL:
    _KIMAGE_OFFSETS[mc_kimage_vars[_ki].name.decode()] = mc_kimage_vars[_ki].offset
    _ki += 1


cdef inline mc_ulong kimage_va(str name) except? 0:
    """The address of the kernel-image variable `name`."""
    return MC_KIMAGE_VA + <mc_ulong>_KIMAGE_OFFSETS[name]


cdef inline char *kimage_host(Machine machine, mc_ulong va, size_t size) except NULL:
    """The host bytes of kimage address va (valid until the buffer grows);
    InvalidAddress when [va, va + size) is not all in the image."""
    cdef char *base = machine._kimage
    if va < MC_KIMAGE_VA or va - MC_KIMAGE_VA + size > <size_t>len(machine._kimage):
        raise InvalidAddress(f"[{va:#x}, {va + size:#x}) is not in the kernel image's variables")
    return base + (va - MC_KIMAGE_VA)


cdef inline void kimage_set_ulong(Machine machine, str name, size_t index, mc_ulong value) except *:
    (<mc_ulong *>kimage_host(machine, kimage_va(name) + index * sizeof(mc_ulong),
                             sizeof(mc_ulong)))[0] = value


cdef inline void kimage_set_bit(Machine machine, str name, size_t nbits, size_t index,
                                size_t bit) except *:
    """set_bit(bit, name[index].bits), name an array of nbits-bit masks."""
    cdef size_t longs = (nbits + MC_BITS - 1) // MC_BITS
    cdef mc_ulong *w = <mc_ulong *>kimage_host(
        machine, kimage_va(name) + (index * longs + bit // MC_BITS) * sizeof(mc_ulong),
        sizeof(mc_ulong))
    w[0] |= (<mc_ulong>1) << (bit % MC_BITS)


cdef list_head *kimage_list(Machine machine, mc_ulong va) except NULL:
    """The list_head at va: a kimage variable or an entry in modeled memory."""
    if va >= MC_KIMAGE_VA:
        return <list_head *>kimage_host(machine, va, sizeof(list_head))
    return mc_list(machine.m, va)


cdef int kimage_boot(Machine machine, list present) except -1:
    """The variables' boot values (setup_arch(), setup_per_cpu_areas(),
    sparse_init(), node_set_state(), kmem_cache_init()'s empty slab_caches);
    present: the sections with RAM."""
    cdef mc_machine *m = machine.m
    cdef uint64_t nr_roots = 0, r, sec, low, end_4g
    cdef uint64_t pfn_4g = (<uint64_t>1) << (32 - PAGE_SHIFT)
    cdef int nid, cpu, state, i
    cdef mc_ulong head
    size = MC_KIMAGE_ROOT_PAGES
    if MC_KIMAGE_SECTION_ROOTS and present:        # SPARSEMEM_EXTREME: pages of sections
        nr_roots = max(present) // MC_SECTIONS_PER_ROOT + 1
        size += nr_roots * PAGE_SIZE
    machine._kimage = bytearray(size)
    machine._kimage_names = {}
    head = kimage_va("slab_caches")
    INIT_LIST_HEAD(kimage_list(machine, head), head)
    (<unsigned int *>kimage_host(machine, kimage_va("nr_node_ids"), 4))[0] = m.nr_nodes
    (<unsigned int *>kimage_host(machine, kimage_va("nr_cpu_ids"), 4))[0] = m.nr_cpus
    kimage_set_ulong(machine, "max_pfn", 0, m.nr_pfns)
    # the end of the direct map: lowmem (i386's find_low_pfn_range()), and
    # with RAM above 4 GiB the end of RAM below it (x86-64's
    # e820__end_of_low_ram_pfn(); i386's lowmem ends lower anyway)
    low = min(m.lowmem_pfns, m.nr_pfns)
    if m.nr_pfns > pfn_4g:
        end_4g = 0
        for i in range(m.nr_ram_ranges):
            if m.ram_start_pfn[i] < pfn_4g:
                end_4g = max(end_4g, min(m.ram_end_pfn[i], pfn_4g))
        low = min(low, end_4g)
    kimage_set_ulong(machine, "max_low_pfn", 0, low)
    if "vmemmap_base" in _KIMAGE_OFFSETS:          # x86-64's KASLR bases
        kimage_set_ulong(machine, "vmemmap_base", 0, m.memmap_va)
        kimage_set_ulong(machine, "page_offset_base", 0, m.page_offset)
    if MC_KIMAGE_SECTION_ROOTS:
        # SPARSEMEM_EXTREME: mem_section -> roots -> a page of struct mem_section each
        kimage_set_ulong(machine, "mem_section", 0, MC_KIMAGE_VA + MC_KIMAGE_SECTION_ROOTS)
        for r in range(nr_roots):
            (<mc_ulong *>kimage_host(machine, MC_KIMAGE_VA + MC_KIMAGE_SECTION_ROOTS +
                                     r * sizeof(mc_ulong), sizeof(mc_ulong)))[0] = \
                MC_KIMAGE_VA + MC_KIMAGE_ROOT_PAGES + r * PAGE_SIZE
    # section_mem_map: the memmap - the section's first PFN (one contiguous
    # memmap: memmap_va for every section) | present, has mem_map, online, early
    for sec in present:
        (<mc_ulong *>kimage_host(machine, MC_KIMAGE_VA + MC_KIMAGE_SECTIONS +
                                 sec * MC_SIZEOF_MEM_SECTION, sizeof(mc_ulong)))[0] = \
            m.memmap_va | KIMAGE_SECTION_BITS
    kimage_set_ulong(machine, "__highest_present_section_nr", 0, max(present) if present else 0)
    for cpu in range(m.nr_cpus):
        for mask in ("__cpu_possible_mask", "__cpu_online_mask", "__cpu_present_mask"):
            kimage_set_bit(machine, mask, MC_NR_CPUS, 0, cpu)
        kimage_set_ulong(machine, "__per_cpu_offset", cpu,
                         m.percpu_base + <mc_ulong>cpu * m.percpu_unit)
    for nid in range(m.nr_nodes):
        kimage_set_ulong(machine, "node_data", nid, m.pgdat_va[nid])
        states = [N_POSSIBLE, N_ONLINE]
        if m.node_end_pfn[nid] > m.node_start_pfn[nid]:     # every node with RAM: all three
            states += [N_NORMAL_MEMORY, N_HIGH_MEMORY, N_MEMORY]
        if any(m.cpu_node[cpu] == nid for cpu in range(m.nr_cpus)):
            states.append(N_CPU)
        for state in states:                                # (N_HIGH_MEMORY is N_NORMAL_MEMORY
            kimage_set_bit(machine, "node_states", MC_MAX_NUMNODES, state, nid)   # without HIGHMEM)
    return 0


cdef mc_ulong kimage_string(Machine machine, str name) except 0:
    """The address of `name` as a C string in the image's strings (appended
    once; a name used again is the same string)."""
    cdef mc_ulong va
    try:
        return machine._kimage_names[name]
    except KeyError:
        pass
    data = name.encode() + b"\0"
    va = MC_KIMAGE_VA + len(machine._kimage)
    machine._kimage += data + b"\0" * (-len(data) % 8)
    machine._kimage_names[name] = va
    return va


cdef int kimage_cache_added(Machine machine, mc_ulong s_va, str name) except -1:
    """A new cache: its name, and list_add(&s->list, &slab_caches) as
    create_cache() and create_kmalloc_cache() do."""
    cdef kmem_cache *s = KC(machine.m, s_va)
    cdef mc_ulong head = kimage_va("slab_caches")
    cdef mc_ulong entry = s_va + <mc_ulong>(<char *>&s.list - <char *>s)
    cdef mc_ulong first
    s.name = kimage_string(machine, name)
    first = kimage_list(machine, head).next
    s.list.next = first
    s.list.prev = head
    kimage_list(machine, first).prev = entry
    kimage_list(machine, head).next = entry
    return 0


cdef int kimage_cache_removed(Machine machine, mc_ulong s_va) except -1:
    """kmem_cache_destroy()'s list_del(&s->list)."""
    cdef kmem_cache *s = KC(machine.m, s_va)
    cdef mc_ulong nxt = s.list.next, prv = s.list.prev
    kimage_list(machine, nxt).prev = prv
    kimage_list(machine, prv).next = nxt
    s.list.next = LIST_POISON1
    s.list.prev = LIST_POISON2
    return 0


cdef bytes kimage_read(Machine machine, mc_ulong va, uint64_t n):
    """Bytes of the image's variables (a debugger's read); InvalidAddress
    past their end."""
    return kimage_host(machine, va, n)[:n]
