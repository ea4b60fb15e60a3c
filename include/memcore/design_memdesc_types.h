/* SPDX-License-Identifier: MIT */
/*
 * memcore/design_memdesc_types.h - the structs of the memdesc design,
 * selected by memcore/design_types.h for MC_DESIGN_MEMDESC.
 *
 * The plan's end goal: struct page is one memdesc_t, 8 bytes (4 on
 * 32-bit).  Node, zone and section are in the inline memdesc (Misc,
 * Buddy) or in the descriptor's flags word; the order of a free block in
 * its Buddy memdesc, its free-list links in a struct buddy in its own
 * memory (memcore/memdesc_types.h).
 */
#ifndef MEMCORE_DESIGN_MEMDESC_TYPES_H
#define MEMCORE_DESIGN_MEMDESC_TYPES_H

#define MC_MEMDESC_TYPES	MC_MEMDESC_TYPES_2025
#define MC_MEMDESC_BUDDY_INLINE	1	/* Buddy is inline data: a state and the node/zone/section */

#include "memcore/types.h"
#include "memcore/memdesc.h"
#include "memcore/memdesc_types.h"
#include "memcore/page_flags.h"

struct page {
	memdesc_t memdesc;		/* type and descriptor, or inline data */
} MC_ALIGNED(sizeof(mc_ulong));

/* The structs whose layouts this design exports, in display order. */
#define MC_LAYOUT_STRUCTS(X)	X(page) X(folio) X(slab) X(ptdesc) X(buddy)

#if !defined(MC_PARSE)
_Static_assert(sizeof(struct page) == sizeof(mc_ulong), "struct page is one word");
#endif

#endif /* MEMCORE_DESIGN_MEMDESC_TYPES_H */
