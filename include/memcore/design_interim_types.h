/* SPDX-License-Identifier: MIT */
/*
 * memcore/design_interim_types.h - the structs of the interim design,
 * selected by memcore/design_types.h for MC_DESIGN_INTERIM.
 *
 * The plan's interim step (kernelnewbies Memdescs/Path, 2025): a 32-byte
 * struct page (16 bytes on 32-bit) that keeps the flags word and the
 * refcount, overlays the free-list links with the memdesc word, and points
 * at separately allocated folio, slab and ptdesc descriptors
 * (memcore/memdesc_types.h).  The page's _refcount is 0 for the pages of a
 * folio, whose count is the folio's.
 */
#ifndef MEMCORE_DESIGN_INTERIM_TYPES_H
#define MEMCORE_DESIGN_INTERIM_TYPES_H

/* buddy_list overlays the memdesc: the interim numbering (memcore/memdesc.h) */
#define MC_MEMDESC_TYPES	MC_MEMDESC_TYPES_INTERIM

#include "memcore/types.h"
#include "memcore/memdesc.h"
#include "memcore/memdesc_types.h"
#include "memcore/page_flags.h"

struct page {
	memdesc_flags_t flags;			/* PG_* bits, node/zone/section fields */
	union {
		struct list_head buddy_list;	/* free page: zone free_area list */
		struct list_head pcp_list;	/* free page: per-CPU page list */
		struct {	/* allocated page */
			memdesc_t memdesc;	/* type and descriptor; overlays buddy_list.next */
			union {
				mc_ulong private;	/* owner data; buddy order when free */
				atomic_t _mapcount;	/* page table mappings - 1 */
			};
		};
	};
	atomic_t _refcount;			/* 0 for a folio's pages: the folio counts */
} MC_ALIGNED(sizeof(mc_ulong));

/* The structs whose layouts this design exports, in display order. */
#define MC_LAYOUT_STRUCTS(X)	X(page) X(folio) X(slab) X(ptdesc)

#if !defined(MC_PARSE)
_Static_assert(sizeof(struct page) == 4 * sizeof(mc_ulong),
	       "the interim struct page is 32 bytes on 64-bit, 16 on 32-bit");
_Static_assert(offsetof(struct page, memdesc) == offsetof(struct page, buddy_list.next),
	       "the memdesc word is where a free page's list link is (types alias buddy)");
#endif

#endif /* MEMCORE_DESIGN_INTERIM_TYPES_H */
