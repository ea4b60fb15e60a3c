/* SPDX-License-Identifier: MIT */
/*
 * memcore/design_interim.h - accessors of the interim design: the plan's
 * 32-byte struct page (16 on 32-bit, memcore/design_interim_types.h) with
 * separately allocated folio and slab descriptors (memcore/memdesc_desc.h).
 *
 * What stays in struct page: the flags word (node, zone, section, and the
 * page-level flags: PG_reserved, PG_hwpoison), the refcount of memory that
 * is no folio, and the free-list links.  A folio's flags, mapping, counts
 * and refcount are its descriptor's (S4, S7): page_ref_count() of a folio
 * page is the folio's, the page's own _refcount stays 0.
 *
 * Free memory.  A free block is on buddy_list (or pcp_list), which overlays
 * the memdesc word: its types read 0, 4, 8 or 12, all Buddy in the interim
 * table.  The plan says no more; the model puts what 6.18 kept in
 * page_type and private - "this page heads a free block on a buddy list"
 * and its order - in flag bits a free page has clear: the bits of folio
 * flags (PG_referenced .. PG_lru hold the order, PG_head marks the block),
 * which in this design only a folio descriptor uses.  Merging reads the
 * buddy's struct page alone, as in 6.18.
 */
#ifndef MEMCORE_DESIGN_INTERIM_H
#define MEMCORE_DESIGN_INTERIM_H

#include <stddef.h>
#include <string.h>

#include "memcore/mmzone.h"
#include "memcore/bitops.h"
#include "memcore/machine.h"

#define MC_DESIGN_NAME		"interim"

/* ---- what memdesc_desc.h needs of the page ------------------------------- */

#define MC_PAGE_MEMDESC(p)		((p)->memdesc)
/* buddy_list over the memdesc word: an aligned list pointer's type */
#define MC_MEMDESC_FREE_TYPE(t)		(((t) & 3) == 0)

static inline mc_ulong mc_pfn_flags(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return p->flags.f;
}

/* A block's order is its descriptor's (or the Misc memdesc's) alone. */
static inline void mc_page_set_block_order(const struct mc_machine *m, struct page *p,
					   unsigned int order)
{
	(void)m; (void)p; (void)order;
}

#include "memcore/memdesc_desc.h"

/* ---- a free block's head: PG_head marks it, its order in the four flag bits
 * from PG_referenced (all folio flags, clear on a free page) ------------- */
#define MC_PG_BUDDY		PG_head
#define MC_BUDDY_ORDER_SHIFT	PG_referenced
#define MC_BUDDY_ORDER_MASK	((mc_ulong)0xf << MC_BUDDY_ORDER_SHIFT)
_Static_assert(PG_referenced + 4 == PG_head, "the order bits sit just below PG_head");
_Static_assert(MAX_PAGE_ORDER < 16, "four bits hold a free block's order");

#define MC_PAGE_WRITABLE_WORD	_refcount	/* the API may write it (page_flags_word.h) */
#include "memcore/page_flags_word.h"	/* the flags word: links, PG_reserved, memmap_init */

/* ---- page types: what 6.18's page_type says, from the memdesc ------------ */

/* The PGTY_* a 6.18 page in this state would carry, or -1. */
static inline int mc_page_type(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	/* on a free list: the marker, and a list link in the memdesc word (a
	 * marker written on another free page through the API is no block) */
	if (test_bit(MC_PG_BUDDY, &p->flags.f) && MC_MEMDESC_FREE_TYPE(mc_memdesc_type(p)) &&
	    mc_memdesc_word(p) != 0)
		return PGTY_buddy;
	return mc_memdesc_page_type(p);
}

/* Only the buddy allocator sets a type on a struct page here. */
static inline void mc_set_page_type(const struct mc_machine *m, struct page *p, enum pagetype t)
{
	(void)m;
	if (t == PGTY_buddy)
		__set_bit(MC_PG_BUDDY, &p->flags.f);
}

static inline void mc_clear_page_type(const struct mc_machine *m, struct page *p)
{
	(void)m;
	p->flags.f &= ~(MC_BIT(MC_PG_BUDDY) | MC_BUDDY_ORDER_MASK);
}

#define PageBuddy(m, p)		page_type_is(m, (p), PGTY_buddy)
#define PageSlab(m, p)		(mc_memdesc_type(p) == MEMDESC_TYPE_SLAB)
#define PageTable(m, p)		(mc_memdesc_type(p) == MEMDESC_TYPE_PAGETABLE)
#define PageLargeKmalloc(m, p)	page_type_is(m, (p), PGTY_large_kmalloc)

/* ---- the buddy allocator's per-page state -------------------------------- */

static inline void set_buddy_order(const struct mc_machine *m, struct page *p, unsigned int order)
{
	(void)m;
	p->flags.f = (p->flags.f & ~MC_BUDDY_ORDER_MASK) |
		     ((mc_ulong)order << MC_BUDDY_ORDER_SHIFT) | MC_BIT(MC_PG_BUDDY);
}

static inline unsigned int buddy_order(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return (unsigned int)((p->flags.f & MC_BUDDY_ORDER_MASK) >> MC_BUDDY_ORDER_SHIFT);
}

#include "memcore/page_buddy_list.h"	/* mc_buddy_link() & co.: 6.18's buddy_list */

/* ---- per-page fields ------------------------------------------------------ */

static inline mc_ulong page_private(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return p->private;
}

static inline void set_page_private(const struct mc_machine *m, struct page *p, mc_ulong v)
{
	(void)m;
	p->private = v;
}

/* ---- reference and map counts -------------------------------------------- */

/* The count that governs the page: its folio's or its page table's
 * descriptor's (S7), else its own. */
static inline int page_ref_count(const struct mc_machine *m, const struct page *p)
{
	const struct folio *f = page_folio(m, (struct page *)p);
	if (mc_memdesc_type(p) == MEMDESC_TYPE_PAGETABLE)
		return mc_va_to_ptdesc(m, mc_memdesc_desc_va(p))->_refcount.counter;
	return f ? f->_refcount.counter : p->_refcount.counter;
}

static inline void set_page_count(const struct mc_machine *m, struct page *p, int v)
{
	(void)m;
	p->_refcount.counter = v;
}

static inline void page_mapcount_reset(const struct mc_machine *m, struct page *p)
{
	(void)m;
	p->_mapcount.counter = -1;
}

/* ---- an allocated block's pages (Machine.check(), memdesc_desc.h) --------
 * The pages' own refcounts are 0 but the first's (Misc memory keeps 6.18's
 * count there), never a folio page's, and no page has the free marker. */
static inline const char *mc_block_page_bad_reason(const struct mc_machine *m, struct page *t,
						   unsigned int order, int first, int lent)
{
	(void)m; (void)order;
	if (!first && !lent && t->_refcount.counter != 0)
		return "page other than the first has a nonzero refcount";
	if (mc_memdesc_is_folio(t) && t->_refcount.counter != 0)
		return "folio page has a refcount of its own (the folio holds it)";
	if (test_bit(MC_PG_BUDDY, &t->flags.f))
		return "allocated page has the free-block marker";
	return NULL;
}

/* ---- the free path (mm/page_alloc.c, on this layout) ---------------------- */

/* Why a page may not be freed, or NULL; a folio page is judged by its folio
 * (its flags, mapping, counts), any page by its own flags and refcount. */
static inline const char *page_bad_reason(const struct mc_machine *m, const struct page *p,
					  mc_ulong flags, int expected_ref, int head_reset)
{
	const char *bad = NULL;
	const struct folio *f = page_folio(m, (struct page *)p);
	if (f) {
		bad = mc_folio_bad_reason(f, flags, expected_ref, head_reset);
		if (p->_refcount.counter != 0)
			bad = "nonzero _refcount";
	} else if (p->_refcount.counter != expected_ref) {
		bad = "nonzero _refcount";
	}
	if (p->flags.f & flags & ~(MC_PFN_FLAGS_MASK | MC_BIT(MC_PG_BUDDY) | MC_BUDDY_ORDER_MASK))
		bad = "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
	return bad;
}

static inline const char *mc_free_tail_page_is_bad_reason(const struct mc_machine *m,
							  struct page *head, struct page *p,
							  int compound)
{
	(void)m; (void)head; (void)compound;
	if (p->_refcount.counter != 0)
		return "nonzero _refcount";
	if (p->flags.f & PAGE_FLAGS_CHECK_AT_FREE)
		return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
	return NULL;
}

/* __free_pages_prepare()'s resets of every page of the block: the memdesc
 * word goes (the descriptor is freed after the pages), flag bits clear. */
static inline void mc_free_pages_prepare_desc(const struct mc_machine *m, struct page *p,
					      unsigned int order)
{
	unsigned long i, nr = 1UL << order;
	for (i = 0; i < nr; i++) {
		struct page *q = p + i;
		q->memdesc.v = 0;
		q->private = 0;
		q->flags.f &= ~PAGE_FLAGS_CHECK_AT_PREP;
		page_cpupid_reset_last(m, q);
	}
}

#endif /* MEMCORE_DESIGN_INTERIM_H */
