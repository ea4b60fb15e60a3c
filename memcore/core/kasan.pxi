# KASAN's shadow memory (mm/kasan/generic.c, shadow.c): one byte per 8 bytes
# of lowmem, poisoned and unpoisoned by the page and slab allocators.
#
# Provides: kasan_mem_to_shadow, kasan_poison, kasan_unpoison, kasan_first_bad.
# Uses: decl.pxi (mc_machine: kasan, kasan_shadow, lowmem_pfns).
# The reports built from it are in kasan_api.pxi.

cdef inline unsigned char *kasan_mem_to_shadow(const mc_machine *m, mc_ulong addr) noexcept nogil:
    return m.kasan_shadow + ((addr - m.page_offset) >> 3)


cdef void kasan_poison(const mc_machine *m, mc_ulong addr, uint64_t size,
                       unsigned char value) noexcept nogil:
    """kasan_poison(): mark [addr, addr + size) (granule aligned) with value."""
    if not m.kasan or mc_virt_to_phys(m, addr) >> PAGE_SHIFT >= m.lowmem_pfns:
        return
    memset(kasan_mem_to_shadow(m, addr), value, (size + 7) >> 3)


cdef void kasan_unpoison(const mc_machine *m, mc_ulong addr, uint64_t size) noexcept nogil:
    """kasan_unpoison(): size accessible bytes; a partial last granule records its length."""
    cdef uint64_t full = size & ~<uint64_t>7
    if not m.kasan or mc_virt_to_phys(m, addr) >> PAGE_SHIFT >= m.lowmem_pfns:
        return
    memset(kasan_mem_to_shadow(m, addr), 0, full >> 3)
    if size & 7:
        kasan_mem_to_shadow(m, addr + full)[0] = size & 7


cdef inline unsigned char kasan_first_bad(const mc_machine *m, mc_ulong addr, uint64_t size,
                                          mc_ulong *bad_addr) noexcept nogil:
    """The shadow byte that names the bug at the first inaccessible byte of
    [addr, addr + size), or 0 if all are accessible.  get_shadow_bug_type(): a
    partial granule (1..7) defers to the next shadow byte; when that one is 0..7
    (an accessible neighbour) the result is 1..8 (KASAN_GRANULE_SIZE standing for
    0), all "out-of-bounds"."""
    cdef mc_ulong a = addr
    cdef unsigned char sh
    cdef signed char v
    while a < addr + size:
        sh = kasan_mem_to_shadow(m, a)[0]
        v = <signed char>sh
        if v < 0 or (v > 0 and (a & 7) >= <unsigned int>v):
            bad_addr[0] = a
            if 0 < v < 8:
                sh = kasan_mem_to_shadow(m, a + 8)[0]
                return sh if sh else 8
            return sh
        a += 1
    return 0
