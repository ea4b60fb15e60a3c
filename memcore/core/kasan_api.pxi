# KASAN's reports and the KASAN-checked access to modeled memory
# (mm/kasan/report.c), Linux 6.18.
#
# Provides: kasan_report, machine_kasan_free_report, machine_mem_read,
#   machine_mem_write, machine_mem_check.
# Uses: kasan.pxi (the shadow), slub.pxi/slab_api.pxi (which object an address
#   is in), dump.pxi (dump_page).

# ---- KASAN reports ----------------------------------------------------------------

_SHADOW_BUG_TYPES = {KASAN_PAGE_REDZONE: "slab-out-of-bounds",
                     KASAN_SLAB_REDZONE: "slab-out-of-bounds",
                     KASAN_PAGE_FREE: "use-after-free",
                     KASAN_SLAB_FREE: "slab-use-after-free", 0xFA: "slab-use-after-free",
                     # a partial granule followed by an accessible one (kasan_first_bad())
                     **{v: "out-of-bounds" for v in range(1, 9)}}


cdef str kasan_report(Machine machine, mc_ulong addr, uint64_t size, bint write,
                      mc_ulong bad, unsigned char shadow, str where):
    """The report text generic KASAN prints for a bad access."""
    cdef mc_machine *m = machine.m
    cdef slab *sl
    cdef kmem_cache *s
    cdef mc_ulong obj, base, idx
    cdef uint64_t alloc_size
    cdef int i
    bug = _SHADOW_BUG_TYPES.get(shadow, "unknown-crash")
    w = MC_BITS // 4
    lines = ["=" * 66, f"BUG: KASAN: {bug} in {where}",
             f"{'Write' if write else 'Read'} of size {size} at addr {addr:0{w}x} by task "
             f"{machine.current.name}/{machine.current.id + 1}", ""]
    # complete_report_info(): the object is nearest_obj() of the access address; its
    # size is kasan_get_alloc_size(), read from the shadow (the kmalloc() size of a
    # live object), object_size when the shadow says nothing (freed, never used).
    sl = virt_to_slab(m, addr)
    if sl != NULL:
        s = KC(m, sl.slab_cache)
        base = slab_obj_base(m, s, sl) - s.red_left_pad
        idx = (addr - base) // s.size if addr >= base else 0
        if idx > sl.objects - 1:
            idx = sl.objects - 1
        obj = base + idx * s.size + s.red_left_pad          # fixup_red_left()
        alloc_size = kasan_get_alloc_size(m, s, obj) or s.object_size
        name = machine._cache_names.get(sl.slab_cache, "?")
        lines.append(f"The buggy address belongs to the object at {obj:0{w}x}")
        lines.append(f" which belongs to the cache {name} of size {s.object_size}")
        if addr < obj:
            rel = f"{obj - addr} bytes to the left of"
        elif addr >= obj + alloc_size:
            rel = f"{addr - obj - alloc_size} bytes to the right of"
        else:
            rel = f"{addr - obj} bytes inside of"
        state = "freed " if bug == "slab-use-after-free" else (
            "allocated " if bug == "slab-out-of-bounds" else "")
        lines.append(f"The buggy address is located {rel}")
        lines.append(f" {state}{alloc_size}-byte region [{obj:0{w}x}, "
                     f"{obj + alloc_size:0{w}x})")
        lines.append("")
    pfn = mc_virt_to_phys(m, bad) >> PAGE_SHIFT
    lines.append("The buggy address belongs to the physical page:")
    lines.append(dump_page(machine, pfn, "kasan: bad access detected").rstrip("\n"))
    lines.append("")
    lines.append("Memory state around the buggy address:")
    row = (bad & ~<mc_ulong>127)
    for i in range(-2, 3):
        start = row + i * 128
        if start < m.page_offset or mc_virt_to_phys(m, start) >> PAGE_SHIFT >= m.lowmem_pfns:
            continue
        sh = kasan_mem_to_shadow(m, start)
        marker = ">" if i == 0 else " "
        lines.append(f"{marker}{start:0{w}x}: " + " ".join(f"{sh[j]:02x}" for j in range(16)))
        if i == 0:
            col = (bad - start) >> 3
            lines.append(" " * (w + 3 + col * 3) + "^")
    lines.append("=" * 66)
    return "\n".join(lines) + "\n"


cdef str machine_kasan_free_report(Machine machine, mc_ulong addr, str kind):
    w = MC_BITS // 4
    lines = ["=" * 66, f"BUG: KASAN: {kind} in kmem_cache_free",
             f"Free of addr {addr:0{w}x} by task {machine.current.name}/{machine.current.id + 1}", ""]
    lines.append(dump_page(machine, mc_virt_to_phys(machine.m, addr) >> PAGE_SHIFT,
                           "kasan: bad access detected").rstrip("\n"))
    lines.append("=" * 66)
    return "\n".join(lines) + "\n"


cdef bytes machine_mem_read(Machine machine, mc_ulong addr, uint64_t size, str where):
    machine_mem_check(machine, addr, size, False, where)
    return direct_map_bytes(machine, addr, size)


cdef bytes direct_map_bytes(Machine machine, mc_ulong addr, uint64_t size):
    """The bytes of checked direct-map memory as the kernel would read them:
    a free block's first bytes are its links (mc_free_memory_read())."""
    out = bytearray((<char *>mc_host(machine.m, addr))[:size])
    cdef unsigned char[::1] view
    if MC_BUDDY_LINKS_IN_BLOCK and size:
        view = out
        mc_free_memory_read(machine.m, mc_virt_to_phys(machine.m, addr), size, &view[0])
    return bytes(out)


cdef machine_mem_write(Machine machine, mc_ulong addr, bytes data, str where):
    machine_mem_check(machine, addr, len(data), True, where)
    memcpy(mc_host(machine.m, addr), <const char *>data, len(data))


cdef int machine_mem_check(Machine machine, mc_ulong addr, uint64_t size, bint write, str where) except -1:
    cdef mc_ulong bad = 0
    cdef unsigned char sh
    if size == 0:
        return 0
    if not mc_addr_in_direct_map(machine.m, addr, size):
        raise InvalidAddress(f"[{addr:#x}, {addr + size:#x}) is not direct-mapped modeled "
                             f"memory")
    machine_check_not_hole(machine, addr, size)
    if write:
        machine_check_writable(machine, addr, size, where, False)
    if machine.kasan:
        sh = kasan_first_bad(machine.m, addr, size, &bad)
        if sh:
            text = kasan_report(machine, addr, size, write, bad, sh, where)
            bug = _SHADOW_BUG_TYPES.get(sh, "unknown-crash")
            raise KASANReport(f"KASAN: {bug} in {where}", text, bug)
    if write:
        # after KASAN: a write to freed memory is first of all a use-after-free
        machine_check_not_free(machine, addr, size, where)
    return 0


cdef int machine_check_not_free(Machine machine, mc_ulong addr, uint64_t size,
                                str where) except -1:
    """Free memory holds what the allocator follows on the designs that keep the
    free lists' links in it (mc_free_memory_unwritable()): refused there."""
    cdef mc_machine *m = machine.m
    cdef uint64_t pfn = mc_virt_to_phys(m, addr) >> PAGE_SHIFT
    cdef uint64_t last = mc_virt_to_phys(m, addr + size - 1) >> PAGE_SHIFT
    cdef const char *why
    while pfn <= last:
        why = mc_free_memory_unwritable(m, pfn)
        if why != NULL:
            raise InvalidAddress(f"{where}: [{addr:#x}, {addr + size:#x}) reaches free pfn "
                                 f"{pfn:#x}: {why.decode()}")
        pfn += 1
    return 0


cdef int machine_check_not_hole(Machine machine, mc_ulong addr, uint64_t size) except -1:
    """[addr, addr + size) (direct-mapped) is RAM: a hole between RAM ranges has no
    memory behind its direct-map address (x86 maps only RAM there)."""
    cdef mc_machine *m = machine.m
    cdef uint64_t pfn = mc_virt_to_phys(m, addr) >> PAGE_SHIFT
    cdef uint64_t last = mc_virt_to_phys(m, addr + size - 1) >> PAGE_SHIFT
    while pfn <= last:
        if m.pfn_marks[pfn] & MC_PFN_HOLE:
            raise InvalidAddress(f"[{addr:#x}, {addr + size:#x}) reaches pfn {pfn:#x}, a hole "
                                 f"between RAM ranges: there is no memory there")
        pfn += 1
    return 0


cdef bint reserved_holds_metadata(const mc_machine *m, uint64_t pfn) noexcept nogil:
    """Does a boot reservation other than the firmware's (which holds nothing of the
    model) cover pfn?"""
    cdef int i
    for i in range(m.nr_reservations):
        if m.reservations[i].start <= pfn < m.reservations[i].end:
            return m.reservations[i].kind != MC_RES_FIRMWARE
    return False


cdef int machine_check_writable(Machine machine, mc_ulong addr, uint64_t size,
                                str where, bint free_too=True) except -1:
    """Writes through the API may not reach the model's own kernel metadata: the
    boot reservations (node data, free-list heads, pageblock bitmaps, pcp lists,
    the per-CPU area, the boot caches) and the objects of the kmem_cache and
    kmem_cache_node caches, which the core trusts.  The caller checked that
    [addr, addr + size) is direct-mapped."""
    cdef mc_machine *m = machine.m
    cdef uint64_t pfn = mc_virt_to_phys(m, addr) >> PAGE_SHIFT
    cdef uint64_t last = mc_virt_to_phys(m, addr + size - 1) >> PAGE_SHIFT
    cdef page *head
    cdef mc_ulong cache
    if free_too:
        machine_check_not_free(machine, addr, size, where)
    while pfn <= last:
        if m.pfn_marks[pfn] & MC_PFN_RESERVED and reserved_holds_metadata(m, pfn):
            raise InvalidAddress(f"{where}: [{addr:#x}, {addr + size:#x}) reaches boot-"
                                 f"reserved memory (pfn {pfn:#x}: the model's kernel "
                                 f"metadata), which the API does not write")
        head = mc_compound_head(m, mc_pfn_to_page(m, pfn))
        if PageSlab(m, head):
            own = _model_owned_cache(m, page_slab(m, head).slab_cache)
            if own is not None and not _desc_word_writable(m, page_slab(m, head), addr, size):
                raise InvalidAddress(f"{where}: [{addr:#x}, {addr + size:#x}) is inside an "
                                     f"object of the {own} cache, which holds the model's own "
                                     f"metadata; the API does not write it")
        pfn += 1
    for a in machine._mappings.values():
        if (<AddressSpace>a).addr < addr + size and addr < (<AddressSpace>a).addr + \
                MC_SIZEOF_ADDRESS_SPACE:
            raise InvalidAddress(f"{where}: [{addr:#x}, {addr + size:#x}) is inside the "
                                 f"struct address_space of {(<AddressSpace>a).name!r}, which "
                                 f"the page cache follows; the API does not write it")
    for seq, n in machine_random_seqs(machine).items():
        if seq < addr + size and addr < seq + n:
            raise InvalidAddress(f"{where}: [{addr:#x}, {addr + size:#x}) is inside a cache's "
                                 f"random_seq ({seq:#x}), which the API does not write")
    return 0


cdef object _model_owned_cache(const mc_machine *m, mc_ulong cache):
    """The name of a cache whose objects are the model's own metadata (the slab
    allocator's kmem_cache and kmem_cache_node, the design's descriptor
    caches, the page cache's radix_tree_node), else None."""
    cdef int ci
    if cache == m.kmem_cache:
        return "kmem_cache"
    if cache == m.kmem_cache_node:
        return "kmem_cache_node"
    for ci in range(MC_NR_DESC_CACHES):
        if cache == m.desc_caches[ci]:
            return mc_desc_cache_names[ci].decode() + " descriptor"
    if cache and cache == m.xa_node_cache:
        return "radix_tree_node"                 # the page cache's XArray nodes
    return None


cdef bint _desc_word_writable(const mc_machine *m, const slab *sl, mc_ulong addr,
                              uint64_t size) noexcept:
    """Is [addr, addr + size) one word of a live descriptor that the design lets
    the API write (a folio's flags, mapping, counts: as a debugger could, so
    tests can inject bad state), not one the model follows (its pfn, order,
    a slab's lists)?  (mc_desc_word_unwritable())"""
    cdef int ci
    cdef kmem_cache *s
    cdef mc_ulong base, off
    for ci in range(MC_NR_DESC_CACHES):
        if m.desc_caches[ci] == sl.slab_cache:
            break
    else:
        return False
    s = KC(m, sl.slab_cache)
    base = slab_obj_base(m, s, sl)
    if size != sizeof(mc_ulong) or addr % sizeof(mc_ulong) or addr < base:
        return False
    off = (addr - base) % s.size
    if off + size > s.object_size or not obj_allocated(m, addr - off):
        return False
    return mc_desc_word_unwritable(m, ci, off) == NULL


cdef dict machine_random_seqs(Machine machine):
    """Every live cache's random_seq (a kmalloc object the slab allocator owns)."""
    cdef kmem_cache *s
    if machine._random_seqs is None:
        d = {}
        for va in machine._cache_names:
            s = KC(machine.m, va)
            if s.random_seq:
                d[s.random_seq] = oo_objects(s.oo) * sizeof(unsigned int)
        machine._random_seqs = d
    return machine._random_seqs


cdef int machine_check_public_object(Machine machine, mc_ulong addr, str fn) except -1:
    """kfree()/kmem_cache_free() through the API may not free the slab allocator's
    own objects (a live cache's struct kmem_cache or kmem_cache_node)."""
    cdef mc_machine *m = machine.m
    cdef slab *sl
    if not mc_addr_in_direct_map(m, addr, 1):
        return 0                                  # the free path reports it
    for a in machine._mappings.values():
        if (<AddressSpace>a).addr == addr:
            raise InvalidAddress(f"{fn}({addr:#x}): the struct address_space of "
                                 f"{(<AddressSpace>a).name!r} is not the API's to free")
    if addr in machine_random_seqs(machine):
        raise InvalidAddress(f"{fn}({addr:#x}): a cache's random_seq is not the API's to "
                             f"free (kmem_cache_destroy() frees it)")
    sl = virt_to_slab(m, addr)
    own = _model_owned_cache(m, sl.slab_cache) if sl != NULL else None
    if own is not None:
        raise InvalidAddress(f"{fn}({addr:#x}): an object of the {own} cache is not the API's "
                             f"to free (it holds the model's own metadata)")
    # the free may free the slab or the large kmalloc pages: page_zone() of their
    # head must be a zone (a flags word written through the API may say anything)
    _check_links(machine, mc_compound_head(m, mc_pfn_to_page(m, mc_virt_to_phys(m, addr) >> PAGE_SHIFT)))
    return 0
