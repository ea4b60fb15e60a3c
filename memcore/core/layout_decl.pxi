# The declarations of memcore/layout_table.h: the shape of generated layout
# tables.  Included by core/decl.pxi (every variant) and memcore/_layouts.pyx;
# core/layout_rows.pxi turns such tables into rows.
#
# Provides: mc_member_desc, mc_struct_desc, mc_enum_entry, MC_MEMBER_*,
#   mc_member_kind_name().  Uses: memcore/layout_table.h only (no design,
#   no word size).

cdef extern from "memcore/layout_table.h":
    enum:
        MC_MEMBER_PLAIN, MC_MEMBER_BITFIELD, MC_NR_MEMBER_KINDS
    const char *mc_member_kind_name(int kind)
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
