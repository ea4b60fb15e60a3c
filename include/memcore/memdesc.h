/* SPDX-License-Identifier: MIT */
/*
 * memcore/memdesc.h - memdesc_t: the one typed word per page of the memory
 * descriptor plan (kernelnewbies Memdescs; the 2021 linux-mm thread, claims
 * S1 and S2 in ../shared/reference/memdesc-plan.md).
 *
 *   bits 0-3   the type (MEMDESC_TYPE_MASK)
 *   bits 4-    a pointer to a 16-byte aligned descriptor (its low 4 bits are
 *              zero, so the type fits under it), or inline data for the
 *              inline types (Misc, Buddy)
 *
 * Everything numeric about the word lives in the tables below (the
 * model's readers are memcore/memdesc.py, through memcore/layout_exports.h;
 * the machines' C helpers come with the machines): the type
 * numbers (one X-macro table per version of the plan; a design names the
 * version it uses as MC_MEMDESC_TYPES), the inline fields and the Misc
 * subtypes.  A new version of the plan is a new table, not new code.
 *
 * Linux 6.18 has no memdesc_t (memcore/types.h has its memdesc_flags_t);
 * the classic design does not include this header.
 */
#ifndef MEMCORE_MEMDESC_H
#define MEMCORE_MEMDESC_H

#include "memcore/types.h"
#include "memcore/page_flags_layout.h"

typedef struct {
	mc_ulong v;			/* type in bits 0-3, descriptor address or inline data above */
} memdesc_t;

#define MEMDESC_TYPE_BITS	4
#define MEMDESC_TYPE_MASK	((1UL << MEMDESC_TYPE_BITS) - 1)
/* Descriptors come from slab caches aligned to this (frees the type bits). */
#define MEMDESC_ALIGN		(1UL << MEMDESC_TYPE_BITS)

/*
 * Kinds of type: what the bits above the type hold.
 *   INLINE  inline data (the fields of MC_MEMDESC_INLINE_FIELDS)
 *   DESC    the address of a descriptor the model allocates
 *   FOREIGN the address of a descriptor of a subsystem the model does not
 *           run (ksm, page_pool, zsmalloc, ...): the type is named, a page
 *           of it can be decoded, the machine never creates one
 */
#define MC_MEMDESC_KINDS(X)	\
	X(INLINE, "inline")	\
	X(DESC, "descriptor")	\
	X(FOREIGN, "foreign")

enum mc_memdesc_kind {
#define MC_MEMDESC_KIND_ENUM(id, name)	MC_MDK_##id,
	MC_MEMDESC_KINDS(MC_MEMDESC_KIND_ENUM)
#undef MC_MEMDESC_KIND_ENUM
	MC_NR_MEMDESC_KINDS
};

/*
 * The type tables: X(ID, number, "name", kind, "descriptor struct").
 * Rows may come in any order; numbers are 0..15 and unique within a table.
 */

/* The 2025 table (kernelnewbies Memdescs, restated on LKML 2026-05). */
#define MC_MEMDESC_TYPES_2025(X)					\
	X(MISC,      0, "misc",      INLINE,  "")			\
	X(BUDDY,     1, "buddy",     INLINE,  "")			\
	X(FILE,      2, "file",      DESC,    "folio")			\
	X(ANON,      3, "anon",      DESC,    "folio")			\
	X(KSM,       4, "ksm",       FOREIGN, "ksm_desc")		\
	X(SLAB,      5, "slab",      DESC,    "slab")			\
	X(BUMP,      6, "bump",      FOREIGN, "bump")			\
	X(MOVABLE,   7, "movable",   FOREIGN, "movable_desc")		\
	X(PAGETABLE, 8, "pagetable", DESC,    "ptdesc")			\
	X(HWPOISON,  9, "hwpoison",  FOREIGN, "hwpoison_desc")		\
	X(PERCPU,   10, "percpu",    FOREIGN, "pcpu_desc")		\
	X(ACCTMEM,  11, "acctmem",   FOREIGN, "acct_desc")		\
	X(ZPDESC,   12, "zpdesc",    FOREIGN, "zpdesc")			\
	X(MANAGED,  13, "managed",   FOREIGN, "managed_desc")

/*
 * The interim step's table.  Its struct page keeps buddy_list over the
 * memdesc word, so a free page's word is a list pointer: 4-byte aligned on
 * i386 and 8-byte aligned on x86_64, its low bits read 0, 4, 8 or 12.  The
 * plan says those four numbers "alias buddy"; they are Buddy here, and the
 * 2025 types that had them move: Misc to 1 (Buddy's old number), PageTable
 * to 14 and ZPDesc to 15 (unassigned in 2025).  KSM, the fourth, gets no
 * number: in 6.18 a KSM page is an anon folio, and it stays one here.
 */
#define MC_MEMDESC_TYPES_INTERIM(X)					\
	X(BUDDY,     0, "buddy",     INLINE,  "")			\
	X(MISC,      1, "misc",      INLINE,  "")			\
	X(FILE,      2, "file",      DESC,    "folio")			\
	X(ANON,      3, "anon",      DESC,    "folio")			\
	X(BUDDY_4,   4, "buddy",     INLINE,  "")			\
	X(SLAB,      5, "slab",      DESC,    "slab")			\
	X(BUMP,      6, "bump",      FOREIGN, "bump")			\
	X(MOVABLE,   7, "movable",   FOREIGN, "movable_desc")		\
	X(BUDDY_8,   8, "buddy",     INLINE,  "")			\
	X(HWPOISON,  9, "hwpoison",  FOREIGN, "hwpoison_desc")		\
	X(PERCPU,   10, "percpu",    FOREIGN, "pcpu_desc")		\
	X(ACCTMEM,  11, "acctmem",   FOREIGN, "acct_desc")		\
	X(BUDDY_12, 12, "buddy",     INLINE,  "")			\
	X(MANAGED,  13, "managed",   FOREIGN, "managed_desc")		\
	X(PAGETABLE,14, "pagetable", DESC,    "ptdesc")			\
	X(ZPDESC,   15, "zpdesc",    FOREIGN, "zpdesc")

/*
 * Inline data of the Misc and Buddy types: X(ID, "name", shift, width).
 * Misc: subtype in bits 4-10, "may be mapped to userspace" in bit 11, the
 * order in bits 12-17.  Section, node and zone sit in the high bits at the
 * positions they have in memdesc_flags_t (memcore/page_flags_layout.h), so
 * memdesc_nid() and friends read either word the same way.
 */
#define MC_MEMDESC_INLINE_FIELDS(X)					\
	X(SUBTYPE, "subtype", 4, 7)					\
	X(MAPPED,  "mapped", 11, 1)					\
	X(ORDER,   "order",  12, 6)					\
	X(SECTION, "section", SECTIONS_PGSHIFT, SECTIONS_WIDTH)		\
	X(NODE,    "node",    NODES_PGSHIFT, NODES_WIDTH)		\
	X(ZONE,    "zone",    ZONES_PGSHIFT, ZONES_WIDTH)

/* Misc subtypes (bits 4-10): X(ID, number, "name"). */
#define MC_MEMDESC_MISC_SUBTYPES(X)	\
	X(NONE,         0, "none")	\
	X(ZERO_PAGE,    1, "zero_page")	\
	X(DRIVER,       2, "driver")	\
	X(VMALLOC,      3, "vmalloc")	\
	X(GUARD,        4, "guard")	\
	X(OFFLINE,      5, "offline")	\
	X(KMALLOC_LARGE,6, "kmalloc_large") \
	X(EXACT,        7, "exact")	\
	X(BRD,          8, "brd")		\
	X(RESERVED,     9, "reserved")

/*
 * Buddy (bits 4-10, where Misc has its subtype), in the designs whose Buddy
 * memdesc is inline data (flags_memdesc, memdesc; they define
 * MC_MEMDESC_BUDDY_INLINE): which free page this is.  X(ID, number, "name").
 * The plan names the type only; the states are the model's (6.18's
 * PageBuddy() is "heads a block on a free list"; the other pages of free
 * memory carry no type there).
 */
#define MC_MEMDESC_BUDDY_STATES(X)	\
	X(FREE,  0, "free")	/* free: inside a free block, or on a per-CPU list */ \
	X(HEAD,  1, "head")	/* heads a block on a zone free list: PageBuddy() */

enum mc_memdesc_buddy_state {
#define MC_BUDDY_STATE_ENUM(id, nr, name)	MEMDESC_BUDDY_##id = nr,
	MC_MEMDESC_BUDDY_STATES(MC_BUDDY_STATE_ENUM)
#undef MC_BUDDY_STATE_ENUM
};

enum mc_memdesc_misc_subtype {
#define MC_MISC_ENUM(id, nr, name)	MEMDESC_MISC_##id = nr,
	MC_MEMDESC_MISC_SUBTYPES(MC_MISC_ENUM)
#undef MC_MISC_ENUM
};

enum mc_memdesc_inline_field {
#define MC_MDF_ENUM(id, name, shift, width)	MC_MDF_##id,
	MC_MEMDESC_INLINE_FIELDS(MC_MDF_ENUM)
#undef MC_MDF_ENUM
	MC_NR_MEMDESC_INLINE_FIELDS
};

#if !defined(MC_PARSE)

#include "memcore/layout_table.h"	/* the table row types */

#if !defined(MC_MEMDESC_TYPES)
# error "memcore/memdesc.h: the design must define MC_MEMDESC_TYPES (its type table) first"
#endif

/* MEMDESC_TYPE_<ID>: the number of each type of the design's table. */
enum mc_memdesc_type {
#define MC_MDT_ENUM(id, nr, name, kind, desc)	MEMDESC_TYPE_##id = nr,
	MC_MEMDESC_TYPES(MC_MDT_ENUM)
#undef MC_MDT_ENUM
};

/* The table, indexed by type number; .name NULL for an unassigned number
 * (struct mc_memdesc_type_info: memcore/layout_table.h). */
static const struct mc_memdesc_type_info mc_memdesc_types[1 << MEMDESC_TYPE_BITS] = {
#define MC_MDT_INFO(id, nr, nm, knd, dsc)	[nr] = { nm, MC_MDK_##knd, dsc },
	MC_MEMDESC_TYPES(MC_MDT_INFO)
#undef MC_MDT_INFO
};

static const struct mc_memdesc_field_info mc_memdesc_inline_fields[MC_NR_MEMDESC_INLINE_FIELDS] = {
#define MC_MDF_INFO(id, nm, sh, w)	[MC_MDF_##id] = { nm, (w) ? (sh) : 0, w },
	MC_MEMDESC_INLINE_FIELDS(MC_MDF_INFO)
#undef MC_MDF_INFO
};

/* The inline fields must not overlap each other or the type. */
#define MC_MDF_BITS(id, nm, sh, w)	| ((w) ? (((1ULL << (w)) - 1) << (sh)) : 0)
#define MC_MDF_SUM(id, nm, sh, w)	+ (w)
_Static_assert(__builtin_popcountll(MEMDESC_TYPE_MASK MC_MEMDESC_INLINE_FIELDS(MC_MDF_BITS)) ==
	       MEMDESC_TYPE_BITS MC_MEMDESC_INLINE_FIELDS(MC_MDF_SUM),
	       "memdesc inline fields overlap each other or the type bits");
_Static_assert((0ULL MC_MEMDESC_INLINE_FIELDS(MC_MDF_BITS)) >> (BITS_PER_LONG - 1) >> 1 == 0,
	       "memdesc inline fields must fit in a word");
#undef MC_MDF_BITS
#undef MC_MDF_SUM

#endif /* !MC_PARSE */

#endif /* MEMCORE_MEMDESC_H */
