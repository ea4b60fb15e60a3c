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
    cdef struct mc_design_fact:
        const char *name
        long long value
    cdef struct mc_memdesc_type_info:
        const char *name
        int kind
        const char *desc
    cdef struct mc_memdesc_field_info:
        const char *name
        int shift
        int width
    cdef struct mc_memdesc_subtype_info:
        const char *name
        int number
    cdef struct mc_design_exports:
        const mc_design_fact *facts
        size_t nr_facts
        const mc_memdesc_type_info *memdesc_types
        const char *const *memdesc_kinds
        size_t nr_memdesc_kinds
        const mc_memdesc_field_info *memdesc_fields
        size_t nr_memdesc_fields
        const mc_memdesc_subtype_info *misc_subtypes
        size_t nr_misc_subtypes
        const mc_memdesc_subtype_info *buddy_states
        size_t nr_buddy_states
