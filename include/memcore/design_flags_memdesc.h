/* SPDX-License-Identifier: MIT */
/*
 * memcore/design_flags_memdesc.h - accessors of the flags_memdesc design:
 * the 2021 thread's struct page { flags; memdesc; } (plus an order word on
 * i386, memcore/design_flags_memdesc_types.h), with separately allocated
 * folio and slab descriptors (memcore/memdesc_desc.h).
 *
 * The flags word keeps node, zone and section, the page-level flags
 * (PG_reserved, PG_hwpoison) and - claim S3 - the order of the block the
 * page is in: in a field below the flags-word fields where the flags-word
 * calculator finds room (x86_64: COMPOUND_ORDER_PGSHIFT), else in the page's
 * order word (i386).  Every page of an allocated block carries the order, so
 * the block's first PFN is arithmetic on any page's PFN; a free block's
 * head carries it too.  The rest - free memory, refcounts, types - is
 * memcore/memdesc_page.h's.
 */
#ifndef MEMCORE_DESIGN_FLAGS_MEMDESC_H
#define MEMCORE_DESIGN_FLAGS_MEMDESC_H

#include <stddef.h>
#include <string.h>

#include "memcore/mmzone.h"
#include "memcore/bitops.h"
#include "memcore/machine.h"

#define MC_DESIGN_NAME		"flags_memdesc"

/* ---- what memdesc_desc.h needs of the page ------------------------------- */

#define MC_PAGE_MEMDESC(p)		((p)->memdesc)
#define MC_MEMDESC_FREE_TYPE(t)		((t) == MEMDESC_TYPE_BUDDY)

static inline mc_ulong mc_pfn_flags(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return p->flags.f;
}

/* ---- the order of the page's block (S3) ------------------------------------ */

#if defined(COMPOUND_ORDER_NOT_IN_PAGE_FLAGS)
#define MC_ORDER_IN_FLAGS_MASK	0
static inline unsigned int mc_page_block_order(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return p->order;
}

static inline void mc_page_set_block_order(const struct mc_machine *m, struct page *p,
					   unsigned int order)
{
	(void)m;
	p->order = order;
}
#else
#define MC_ORDER_IN_FLAGS_MASK	((MC_BIT(COMPOUND_ORDER_WIDTH) - 1) << COMPOUND_ORDER_PGSHIFT)
_Static_assert(COMPOUND_ORDER_PGSHIFT >= NR_PAGEFLAGS, "the order field overlaps the page flags");
_Static_assert(MAX_PAGE_ORDER < (1 << COMPOUND_ORDER_WIDTH), "the order field holds every order");
static inline unsigned int mc_page_block_order(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return (unsigned int)((p->flags.f & MC_ORDER_IN_FLAGS_MASK) >> COMPOUND_ORDER_PGSHIFT);
}

static inline void mc_page_set_block_order(const struct mc_machine *m, struct page *p,
					   unsigned int order)
{
	(void)m;
	p->flags.f = (p->flags.f & ~MC_ORDER_IN_FLAGS_MASK) |
		     ((mc_ulong)order << COMPOUND_ORDER_PGSHIFT);
}
#endif

#include "memcore/memdesc_desc.h"
#include "memcore/page_flags_word.h"	/* the flags word: links, PG_reserved, memmap_init */

/* ---- what memdesc_page.h needs of the page -------------------------------- */

#define MC_BUDDY_ORDER_INLINE	0	/* a free block's order: the order field */

/* Flags of `mask` set in the page's own word (not its links or order). */
static inline const char *mc_page_own_flags_bad(const struct mc_machine *m, const struct page *p,
						mc_ulong mask)
{
	(void)m;
	if (p->flags.f & mask & ~(MC_PFN_FLAGS_MASK | MC_ORDER_IN_FLAGS_MASK))
		return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
	return NULL;
}

static inline void mc_free_page_reset(const struct mc_machine *m, struct page *p)
{
	p->flags.f &= ~PAGE_FLAGS_CHECK_AT_PREP;
	mc_page_set_block_order(m, p, 0);
	page_cpupid_reset_last(m, p);
}

#include "memcore/memdesc_page.h"

#endif /* MEMCORE_DESIGN_FLAGS_MEMDESC_H */
