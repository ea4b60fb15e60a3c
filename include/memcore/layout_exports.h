/* SPDX-License-Identifier: MIT */
/*
 * memcore/layout_exports.h - what a variant tells Python besides its struct
 * layouts: named compile-time numbers (the flags word's free bits, where
 * flags_memdesc put the compound order, the small folio's size, ...) and,
 * for a design with a memdesc word, its memdesc tables (memcore/memdesc.h).
 *
 * Included once by each generated memcore._layouts unit, after the design's
 * headers; memcore.layout_facts() and memcore.memdesc read it.
 */
#ifndef MEMCORE_LAYOUT_EXPORTS_H
#define MEMCORE_LAYOUT_EXPORTS_H

#include "memcore/layout_structs.h"
#include "memcore/layout_table.h"

static const struct mc_design_fact mc_design_facts[] = {
	{ "page_size", PAGE_SIZE },
	{ "sizeof_page", sizeof(struct page) },
	{ "nr_pageflags", NR_PAGEFLAGS },
	{ "flags_free_bits", MC_FLAGS_FREE_BITS },	/* room between the flags and the fields */
#if defined(COMPOUND_ORDER_WIDTH)
	{ "compound_order_width", COMPOUND_ORDER_WIDTH },	/* S3: bits the order needs */
#endif
#if defined(COMPOUND_ORDER_PGSHIFT)
	{ "compound_order_shift", COMPOUND_ORDER_PGSHIFT },	/* the order is in the flags word */
#endif
#if defined(MC_SMALL_FOLIO_SIZE)
	{ "small_folio_size", MC_SMALL_FOLIO_SIZE },	/* object size of the small folio cache */
#endif
#if defined(MC_MEMDESC_TYPES)
	{ "memdesc_align", MEMDESC_ALIGN },		/* descriptor alignment */
#endif
};

#if defined(MC_MEMDESC_TYPES)
static const char *const mc_memdesc_kind_names[] = {
#define MC_MDK_NAME(id, name)	name,
	MC_MEMDESC_KINDS(MC_MDK_NAME)
#undef MC_MDK_NAME
};

static const struct mc_memdesc_subtype_info mc_misc_subtypes[] = {
#define MC_MISC_INFO(id, nr, nm)	{ nm, nr },
	MC_MEMDESC_MISC_SUBTYPES(MC_MISC_INFO)
#if !defined(MC_MEMDESC_BUDDY_INLINE)
#undef MC_MISC_INFO
};
#else
};

static const struct mc_memdesc_subtype_info mc_buddy_states[] = {
	MC_MEMDESC_BUDDY_STATES(MC_MISC_INFO)
#undef MC_MISC_INFO
};
#endif
#endif

#define MC_NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

static const struct mc_design_exports mc_design_exports_data = {
	mc_design_facts, MC_NELEMS(mc_design_facts),
#if defined(MC_MEMDESC_TYPES)
	mc_memdesc_types, mc_memdesc_kind_names, MC_NR_MEMDESC_KINDS,
	mc_memdesc_inline_fields, MC_NR_MEMDESC_INLINE_FIELDS,
	mc_misc_subtypes, MC_NELEMS(mc_misc_subtypes),
#if defined(MC_MEMDESC_BUDDY_INLINE)
	mc_buddy_states, MC_NELEMS(mc_buddy_states),
#else
	0, 0,
#endif
#else
	0, 0, 0, 0, 0, 0, 0, 0, 0,
#endif
};

#undef MC_NELEMS

#endif /* MEMCORE_LAYOUT_EXPORTS_H */
