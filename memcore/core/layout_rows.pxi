# Layout tables as Python rows: shared by every variant module (core/layout.pxi,
# for the table of its own design and word size) and by memcore._layouts
# (memcore/_layouts.pxi, for the tables of every setup.py LAYOUTS entry).
#
# Provides: MEMBER_KIND_NAMES, _layout_rows() (a C table -> {struct name:
#   (size, align, rows)}).
# Uses: core/layout_decl.pxi (memcore/layout_table.h only: no design, no word
#   size, so a module that includes these needs no MC_BITS or MC_DESIGN_*).
#
# Offsets, sizes and alignments are compile-time constants of the table;
# bitfield positions are found here by probing: each bitfield is set to all
# ones in a zeroed buffer and the resulting bits are read back.

from libc.string cimport memset

# Names of C enums, by value, from the X-macro tables that define the enums:
#: enum mc_member_kind (layout_table.h MC_MEMBER_KINDS): the kinds of layout rows
MEMBER_KIND_NAMES = tuple(mc_member_kind_name(i).decode() for i in range(MC_NR_MEMBER_KINDS))


cdef tuple _probe_bits(const mc_struct_desc *s, const mc_member_desc *md):
    """(first bit, number of bits) a bitfield occupies, from the struct start."""
    cdef unsigned char buf[512]
    cdef size_t i
    cdef int b, first = -1, count = 0
    if s.size > sizeof(buf):
        raise RuntimeError(f"struct {s.name.decode()} too large to probe")
    memset(buf, 0, sizeof(buf))
    md.bitprobe(buf)
    for i in range(s.size):
        for b in range(8):
            if buf[i] >> b & 1:
                if first < 0:
                    first = <int>(i * 8 + b)
                count += 1
    return first, count


cdef dict _layout_rows(const mc_struct_desc *structs, size_t nr_structs):
    """{struct name: (size, align, [member rows])} of one generated table.

    A member row is (name, type, array, kind, parent, depth, offset, size,
    align, bit_offset, bit_size), kind a name of MEMBER_KIND_NAMES; anonymous
    aggregates have name None and zero numbers (memcore.layout derives their
    extent from their members).
    """
    cdef size_t i, j
    cdef const mc_struct_desc *s
    cdef const mc_member_desc *md
    out = {}
    for i in range(nr_structs):
        s = &structs[i]
        rows = []
        for j in range(s.nr_members):
            md = &s.members[j]
            name = md.name.decode() if md.name != NULL else None
            if md.kind == MC_MEMBER_BITFIELD:
                bit_offset, bit_size = _probe_bits(s, md)
                if bit_size != md.bit_width:
                    raise RuntimeError(f"bitfield {name}: probe found {bit_size} bits, "
                                       f"declared {md.bit_width}")
                unit = md.size * 8
                offset = (bit_offset // unit) * md.size
            elif md.kind == MC_MEMBER_PLAIN:
                offset = md.offset
                bit_offset, bit_size = md.offset * 8, md.size * 8
            else:
                offset = bit_offset = bit_size = 0
            rows.append((name, md.type.decode(), md.array.decode(), MEMBER_KIND_NAMES[md.kind],
                         md.parent, md.depth, offset, md.size, md.align, bit_offset, bit_size))
        out[s.name.decode()] = (s.size, s.align, rows)
    return out
