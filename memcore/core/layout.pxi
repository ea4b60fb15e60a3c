# Layout export: what the compiler says about this variant's structs, and
# checked lookups in name tables.
#
# Provides: BITS, DESIGN, CONFIG_NAME, RESERVE_KIND_NAMES; _layout_tables(),
#   _enum_table(), _flags_layout() (read by enums.py, flagslayout.py and the
#   tests; memcore/layout.py reads memcore._layouts, which holds the same
#   table); slab_counters()/slab_fields(); _table_entry() for every .pxi.
#   MEMBER_KIND_NAMES and _layout_rows() come from core/layout_rows.pxi.
# Uses: decl.pxi, core/layout_rows.pxi (row building and bitfield probing,
#   shared with memcore._layouts), the generated mc_layout_table.h /
#   mc_enum_table.h; memcore.errors.
#
# The member tables are generated at build time from the parsed headers
# (tools/codegen.py); offsets, sizes and alignments are compile-time
# constants of this module.

from libc.string cimport memset

from memcore.errors import VMBug

BITS = MC_BITS
DESIGN = MC_DESIGN_NAME.decode()
CONFIG_NAME = MC_CONFIG_NAME.decode()

# Row building and bitfield probing, and MEMBER_KIND_NAMES (enum
# mc_member_kind by value), shared with memcore._layouts:
include "core/layout_rows.pxi"

# Names of C enums, by value, from the X-macro tables that define the enums:
#: enum mc_reserve_kind (machine.h MC_RESERVE_KINDS): boot reservations, as stats() names them
RESERVE_KIND_NAMES = tuple(mc_reserve_kind_name(i).decode() for i in range(MC_NR_RESERVE_KINDS))


cdef object _table_entry(object table, Py_ssize_t i, str what):
    """table[i] for an index that comes from modeled state (a flags word, a
    pageblock, a kmem_cache field), which the user can set to anything.

    The module is compiled without bounds checks (tools/variant_build.py),
    so an index that is not known to be in range is checked here."""
    cdef Py_ssize_t n = len(table)
    if not 0 <= i < n:
        raise VMBug(f"{what} is {i}, which names nothing (valid: 0..{n - 1})")
    return table[i]


def _layout_tables():
    """{struct name: (size, align, [member rows])} as compiled into this module
    (rows as core/layout_rows.pxi builds them; memcore._layouts.tables() gives
    the same for this design and word size)."""
    return _layout_rows(mc_layout_structs, MC_NR_LAYOUT_STRUCTS)


def _enum_table(str which):
    """[(name, value)] of enum pageflags or enum pagetype, in declaration order."""
    cdef const mc_enum_entry *e
    cdef int n
    if which == "pageflags":
        e, n = mc_enum_pageflags, MC_NR_ENUM_pageflags
    elif which == "pagetype":
        e, n = mc_enum_pagetype, MC_NR_ENUM_pagetype
    else:
        raise ValueError(f"unknown enum {which!r}: valid are pageflags, pagetype")
    return [(e[i].name.decode(), e[i].value) for i in range(n)]


def _flags_layout():
    """The flags-word layout this variant was compiled with (page_flags_layout.h)."""
    return {
        "BITS_PER_LONG": MC_BITS,
        "NR_PAGEFLAGS": NR_PAGEFLAGS,
        "MAX_NR_ZONES": MAX_NR_ZONES,
        "NR_CPUS_BITS": NR_CPUS_BITS,
        "fields": {
            "SECTIONS": (SECTIONS_WIDTH, SECTIONS_PGSHIFT),
            "NODES": (NODES_WIDTH, NODES_PGSHIFT),
            "ZONES": (ZONES_WIDTH, ZONES_PGSHIFT),
            "LAST_CPUPID": (LAST_CPUPID_WIDTH, LAST_CPUPID_PGSHIFT),
            "KASAN_TAG": (KASAN_TAG_WIDTH, KASAN_TAG_PGSHIFT),
            "LRU_GEN": (LRU_GEN_WIDTH, LRU_GEN_PGSHIFT),
            "LRU_REFS": (LRU_REFS_WIDTH, LRU_REFS_PGSHIFT),
        },
        "LAST_CPUPID_SHIFT": LAST_CPUPID_SHIFT,
        "last_cpupid_in_flags": bool(MC_LAST_CPUPID_IN_FLAGS),
        "free_bits": MC_FLAGS_FREE_BITS,
        "unused_pageflag_bits": NR_UNUSED_PAGEFLAG_BITS,
        "KASAN_TAG_WIDTH": KASAN_TAG_WIDTH,
    }


def slab_counters(unsigned int inuse, unsigned int objects, unsigned int frozen):
    """Write inuse/objects/frozen through struct slab's C bitfields; return counters.

    The bitfields are assigned in C, so the result shows where the compiler
    put them inside the `counters` word.
    """
    cdef slab s
    memset(&s, 0, sizeof(s))
    if inuse >= (1 << 16) or objects >= (1 << 15) or frozen > 1:
        raise ValueError(f"out of range for inuse:16/objects:15/frozen:1: "
                         f"{inuse}, {objects}, {frozen}")
    s.inuse = inuse
    s.objects = objects
    s.frozen = frozen
    return s.counters


def slab_fields(counters):
    """Store `counters` and read inuse/objects/frozen back through the bitfields."""
    cdef slab s
    memset(&s, 0, sizeof(s))
    if counters < 0 or counters >= (<object>1) << MC_BITS:
        raise ValueError(f"counters {counters:#x} does not fit a {MC_BITS}-bit word")
    s.counters = counters
    return s.inuse, s.objects, s.frozen
