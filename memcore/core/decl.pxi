# C declarations shared by all subsystems of a variant module.
#
# Structs are declared from include/memcore/*.h with `cdef extern`; their
# bitfields and exact layout exist only in C.  Types named after the kernel
# (page, folio, slab, ...) are the modeled kernel's structs; mc_* types are
# the model's own.

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t

cdef extern from "memcore/layout_table.h":
    ctypedef void (*mc_bitprobe_fn)(unsigned char *buf)
    cdef struct mc_member_desc:
        const char *name
        const char *type
        const char *array
        int kind
        int parent
        int depth
        size_t offset
        size_t size
        size_t align
        int bit_width
        mc_bitprobe_fn bitprobe
    cdef struct mc_struct_desc:
        const char *name
        size_t size
        size_t align
        const mc_member_desc *members
        size_t nr_members
    cdef struct mc_enum_entry:
        const char *name
        long long value

cdef extern from "mc_layout_table.h":
    const mc_struct_desc mc_layout_structs[]
    int MC_NR_LAYOUT_STRUCTS

cdef extern from "mc_enum_table.h":
    const mc_enum_entry mc_enum_pageflags[]
    const mc_enum_entry mc_enum_pagetype[]
    int MC_NR_ENUM_pageflags
    int MC_NR_ENUM_pagetype

cdef extern from "memcore/page_flags_layout.h":
    const char *MC_CONFIG_NAME
    int MC_BITS
    int NR_PAGEFLAGS
    int MAX_NR_ZONES
    int ZONES_SHIFT, ZONES_WIDTH, ZONES_PGSHIFT
    int SECTIONS_SHIFT, SECTIONS_WIDTH, SECTIONS_PGSHIFT
    int NODES_SHIFT, NODES_WIDTH, NODES_PGSHIFT
    int LAST_CPUPID_SHIFT, LAST_CPUPID_WIDTH, LAST_CPUPID_PGSHIFT
    int KASAN_TAG_WIDTH, KASAN_TAG_PGSHIFT
    int LRU_GEN_WIDTH, LRU_GEN_PGSHIFT
    int LRU_REFS_WIDTH, LRU_REFS_PGSHIFT
    int NR_CPUS_BITS
    int MC_FLAGS_FREE_BITS
    int MC_LAST_CPUPID_IN_FLAGS "(LAST_CPUPID_WIDTH == LAST_CPUPID_SHIFT)"

cdef extern from "memcore/design.h":
    const char *MC_DESIGN_NAME

ctypedef uint64_t mc_ulong_host     # host-side 64-bit quantities

cdef extern from "memcore/slab.h":
    # Only the members the module reads; the layout is C's.
    ctypedef struct slab "struct slab":
        unsigned long counters
        unsigned int inuse
        unsigned int objects
        unsigned int frozen
