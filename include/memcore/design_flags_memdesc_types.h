/* SPDX-License-Identifier: MIT */
/*
 * memcore/design_flags_memdesc_types.h - the structs of the flags_memdesc
 * design, selected by memcore/design_types.h for MC_DESIGN_FLAGS_MEMDESC.
 *
 * The 2021 thread's design (claims S1-S3): struct page is the flags word
 * and the memdesc word.  The compound order goes in the flags word's free
 * bits where the flags-word calculator finds room for it, and in a word of
 * its own where it does not (S3 puts it in _last_cpupid on 32-bit; the
 * i386 configuration has no NUMA balancing, so the word is the order's).
 * Descriptors: memcore/memdesc_types.h; free blocks keep their links in a
 * struct buddy in their own memory.
 */
#ifndef MEMCORE_DESIGN_FLAGS_MEMDESC_TYPES_H
#define MEMCORE_DESIGN_FLAGS_MEMDESC_TYPES_H

#define MC_MEMDESC_TYPES	MC_MEMDESC_TYPES_2025
#define MC_MEMDESC_BUDDY_INLINE	1	/* Buddy is inline data: a state and the node/zone/section */

#include "memcore/types.h"
#include "memcore/memdesc.h"
#include "memcore/memdesc_types.h"
#include "memcore/page_flags.h"

/*
 * S3: the order field needs ~5 bits on 64-bit (blocks up to 2^31 pages,
 * 8 TiB) and ~4 bits on 32-bit (2^15 pages, 128 MiB).  It is packed below
 * the lowest flags-word field, as the kernel packs its fields, if the
 * free bits (MC_FLAGS_FREE_BITS, memcore/page_flags_layout.h) hold it.
 */
#if BITS_PER_LONG == 64
# define COMPOUND_ORDER_WIDTH	5
#else
# define COMPOUND_ORDER_WIDTH	4
#endif
#if MC_FLAGS_FREE_BITS >= COMPOUND_ORDER_WIDTH
# define COMPOUND_ORDER_PGSHIFT	(LRU_REFS_PGOFF - COMPOUND_ORDER_WIDTH)
#else
# define COMPOUND_ORDER_NOT_IN_PAGE_FLAGS 1
#endif

struct page {
	memdesc_flags_t flags;		/* PG_* bits, node/zone/section; the order if it fits */
	memdesc_t memdesc;		/* what the page is allocated as */
#if defined(COMPOUND_ORDER_NOT_IN_PAGE_FLAGS)
	unsigned int order;		/* order of the block: no room in flags (S3) */
#endif
} MC_ALIGNED(sizeof(mc_ulong));

/* The structs whose layouts this design exports, in display order. */
#define MC_LAYOUT_STRUCTS(X)	X(page) X(folio) X(slab) X(ptdesc) X(buddy)

#if !defined(MC_PARSE)
_Static_assert(sizeof(struct page) == 2 * sizeof(mc_ulong) +
	       (COMPOUND_ORDER_WIDTH > MC_FLAGS_FREE_BITS) * sizeof(unsigned int),
	       "struct page is flags + memdesc, plus the order word only where flags has no room");
#endif

#endif /* MEMCORE_DESIGN_FLAGS_MEMDESC_TYPES_H */
