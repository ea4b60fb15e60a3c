# dump_page() and %pGp, as mm/debug.c and lib/vsprintf.c print them (6.18).
#
# One deliberate difference: the kernel prints pointers with %p, hashed per
# boot; memcore prints the modeled address itself (as no_hash_pointers does).
#
# Provides: dump_page, format_pgp, format_flag_names.
# Uses: the design accessors (page_folio, folio_* counters), layout.pxi.

# pageflag_names[] order of include/trace/events/mmflags.h: the printing order
_PAGEFLAG_PRINT_ORDER = ("locked", "waiters", "referenced", "uptodate", "dirty", "lru", "active",
                         "workingset", "owner_priv_1", "owner_2", "arch_1", "reserved", "private",
                         "private_2", "writeback", "head", "reclaim", "swapbacked", "unevictable",
                         "dropbehind", "mlocked", "hwpoison", "idle", "young", "arch_2", "arch_3")

from memcore.flagslayout import FIELD_PRINT_NAMES

# PGTY_* names without the prefix, from this variant's enum pagetype
_TYPE_NAMES = {v: n[len("PGTY_"):] for n, v in _enum_table("pagetype")
               if n != "PGTY_mapcount_underflow"}
# mm/debug.c page_type_names[]: 6.18 has no entry for zsmalloc and large_kmalloc,
# so the kernel prints "(null)" for them, and memcore does the same.
_DUMP_TYPE_NAMES = {v: n for v, n in _TYPE_NAMES.items() if n not in ("zsmalloc", "large_kmalloc")}


def _page_type_name(int top):
    return _TYPE_NAMES.get(top, f"unknown({top:#x})")


def format_flag_names(Machine machine, word):
    """Set page flags in pageflag_names[] order; unnamed bits as 0x... ."""
    pg = machine.PG
    main = word & ((1 << NR_PAGEFLAGS) - 1)
    names = []
    for n in _PAGEFLAG_PRINT_ORDER:
        bit = pg.__members__.get("PG_" + n)
        if bit is not None and main >> int(bit) & 1:
            names.append(n)
            main &= ~(1 << int(bit))
    if main:
        names.append(f"{main:#x}")
    return names


#: FOLIO_SECOND_PAGE flags (include/linux/page-flags.h), each an alias of the
#: PG bit it borrows in the second page's word (PG_has_hwpoisoned = PG_active,
#: PG_large_rmappable = PG_workingset, PG_partially_mapped = PG_reclaim)
_SECOND_PAGE_FLAGS = ("has_hwpoisoned", "large_rmappable", "partially_mapped")


def format_second_flag_names(Machine machine, word):
    """A large folio's _flags_1 by the names valid for it: "order=N" (the low
    byte, folio_order()) and the FOLIO_SECOND_PAGE flags; other set flag bits
    as 0x... (PAGE_FLAGS_SECOND is all the kernel keeps there)."""
    pg = machine.PG
    main = word & ((1 << NR_PAGEFLAGS) - 1)
    names = [f"order={main & 0xff}"]
    main &= ~0xff
    for name in _SECOND_PAGE_FLAGS:
        bit = int(pg["PG_" + name])
        if main >> bit & 1:
            names.append(name)
            main &= ~(1 << bit)
    if main:
        names.append(f"{main:#x}")
    return names


def format_pgp(Machine machine, word, bint second=False):
    """%pGp: "0x<word>(<flags>|section=|node=|zone=|lastcpupid=0x|kasantag=0x)";
    a second page's word with its own names (format_second_flag_names())."""
    fl = machine.flags_layout
    parts = (format_second_flag_names if second else format_flag_names)(machine, word)
    for field, (label, hexa) in FIELD_PRINT_NAMES.items():
        if fl.width(field):
            v = fl.field_value(word, field)
            parts.append(f"{label}={v:#x}" if hexa else f"{label}={v}")
    return f"{word:#x}(" + "|".join(parts) + ")"


cdef str _hexdump(const unsigned char *buf, size_t length, str prefix):
    """print_hex_dump(KERN_WARNING, prefix, DUMP_PREFIX_NONE, 32, sizeof(long), ...)."""
    cdef size_t word = sizeof(mc_ulong), off, i
    lines = []
    for off in range(0, length, 32):
        groups = []
        for i in range(off, min(off + 32, length), word):
            v = int.from_bytes(buf[i:i + word], "little")
            groups.append(f"{v:0{2 * word}x}")
        lines.append(prefix + " ".join(groups))
    return "\n".join(lines)


def dump_page(Machine machine, uint64_t pfn, reason=None):
    """The text of dump_page(page, reason) for a PFN of this machine."""
    cdef mc_machine *m = machine.m
    cdef page *p = mc_pfn_to_page(m, pfn)
    cdef folio *f = page_folio(m, p)
    cdef int ptr_digits = 2 * sizeof(mc_ulong)
    if f == NULL:
        return _dump_nonfolio_page(machine, p, pfn, reason)
    cdef page *head = folio_page(m, f, 0)
    cdef long idx = mc_page_index_in(head, p)
    cdef bint large = folio_test_large(f)
    cdef mc_ulong raw_mapping = mc_folio_mapping_word(f)
    lines = []
    mapping = raw_mapping
    if mapping & 3:
        mapping = 0                       # folio_mapping(): NULL for anon and KSM folios
    index = folio_index(f) + idx
    lines.append(f"page: refcount:{folio_ref_count(f)} mapcount:{mc_page_dump_mapcount(m, p)} "
                 f"mapping:{mapping:0{ptr_digits}x} index:{index:#x} pfn:{pfn:#x}")
    if large:
        lines.append(f"head: order:{folio_order(f)} mapcount:{folio_large_mapcount(f)} "
                     f"entire_mapcount:{folio_entire_mapcount(f)} "
                     f"nr_pages_mapped:{folio_nr_pages_mapped(f)} pincount:{folio_pincount(f)}")
    if folio_memcg_data(f):
        lines.append(f"memcg:{folio_memcg_data(f):x}")
    prefix = ""
    if (raw_mapping & 3) == 3:
        prefix = "ksm "
    elif raw_mapping & 1:
        prefix = "anon "
    lines.append(f"{prefix}flags: {format_pgp(machine, folio_flags(f, 0)[0])}")
    if page_has_type(m, head):
        top = mc_page_type(m, head)
        lines.append(f"page_type: {top:x}({_DUMP_TYPE_NAMES.get(top, '(null)')})")
    lines.append(_hexdump(<unsigned char *>p, MC_SIZEOF_PAGE, "raw: "))
    if large:
        lines.append(_hexdump(<unsigned char *>head, 2 * MC_SIZEOF_PAGE, "head: "))
    if mc_folio_va(m, f) != mc_page_va(m, head):
        # a separately allocated folio descriptor (the memdesc designs)
        lines.append(_hexdump(<unsigned char *>f, MC_SIZEOF_FOLIO, "folio: "))
    if reason:
        lines.append(f"page dumped because: {reason}")
    return "\n".join(lines) + "\n"


cdef str _dump_nonfolio_page(Machine machine, page *p, uint64_t pfn, reason):
    """dump_page() of a page that belongs to no folio (the memdesc designs'
    page_folio() is NULL for it): the page's own refcount and flags word."""
    cdef mc_machine *m = machine.m
    cdef int ptr_digits = 2 * sizeof(mc_ulong)
    lines = [f"page: refcount:{page_ref_count(m, p)} mapcount:{mc_page_dump_mapcount(m, p)} "
             f"mapping:{0:0{ptr_digits}x} index:0x0 pfn:{pfn:#x}",
             f"flags: {format_pgp(machine, mc_page_flags(m, p))}"]
    if page_has_type(m, p):
        top = mc_page_type(m, p)
        lines.append(f"page_type: {top:x}({_DUMP_TYPE_NAMES.get(top, '(null)')})")
    lines.append(_hexdump(<unsigned char *>p, MC_SIZEOF_PAGE, "raw: "))
    if reason:
        lines.append(f"page dumped because: {reason}")
    return "\n".join(lines) + "\n"
