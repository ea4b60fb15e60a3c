/* SPDX-License-Identifier: MIT */
/*
 * memcore/memdesc_page.h - the page-level accessors shared by the designs
 * whose struct page has no refcount and no room for free-list links:
 * flags_memdesc ({ flags; memdesc }) and memdesc ({ memdesc }).
 *
 * Free memory.  Every free page has an inline Buddy memdesc: its node, zone
 * and section (copied back from the descriptor when the block is freed, as
 * the plan says) and a state (MC_MEMDESC_BUDDY_STATES): "head" on the first
 * page of a block on a zone free list - 6.18's PageBuddy() - and "free" on
 * every other free page (inside a free block, or on a per-CPU list).  A
 * free block's order is in its head: in the Buddy memdesc (memdesc) or in
 * the page's order field (flags_memdesc, S3).  Its list links are a struct
 * buddy in the block's first bytes, naming neighbours by PFN; a HIGHMEM
 * block is reached with kmap_local_page(), which the model counts
 * (mc_machine.kmap_local).  Merging finds the buddy by PFN arithmetic and
 * reads its struct page alone, as in 6.18; unlinking it touches its own
 * links and its two neighbours' - no list scan.
 *
 * Reference counts.  The plan gives Misc memory none, and a folio's count is
 * its descriptor's (S7).  page_ref_count() answers with the folio's (or the
 * page table's ptdesc's) count for a page of one and, for any other page,
 * with the count 6.18 would hold
 * in that state (1 for reserved memory and the first page of a Misc block,
 * 0 for free, slab and large kmalloc pages - 6.18 allocates those frozen);
 * set_page_count() stores nothing.
 *
 * The design header defines, before including this (after memdesc_desc.h):
 *   MC_BUDDY_ORDER_INLINE     1: a free block's order is in its Buddy memdesc
 *   mc_page_block_order(m, p) the order field of p (if not inline)
 *   mc_page_own_flags_bad(m, p, mask)  why p's own flags fail `mask` at
 *                             free, or NULL (memdesc: no flags, NULL)
 *   mc_free_page_reset(m, p)  __free_pages_prepare()'s reset of p's own words
 */
#ifndef MEMCORE_MEMDESC_PAGE_H
#define MEMCORE_MEMDESC_PAGE_H

#include <stddef.h>

#include "memcore/memdesc_desc.h"

#if !defined(MC_MEMDESC_BUDDY_INLINE)
# error "memcore/memdesc_page.h: the design's Buddy memdesc must be inline (MC_MEMDESC_BUDDY_INLINE)"
#endif

_Static_assert(sizeof(struct buddy) == sizeof(struct list_head) &&
	       offsetof(struct buddy, next) == offsetof(struct list_head, next) &&
	       offsetof(struct buddy, prev) == offsetof(struct list_head, prev),
	       "struct buddy is linked by the list_head code (memcore/free_list.h)");

/* ---- free memory: the Buddy memdesc -------------------------------------- */

/* p becomes free memory in `state`; its node/zone/section come along. */
static inline void mc_set_buddy_memdesc(const struct mc_machine *m, struct page *p,
					unsigned int state, unsigned int order)
{
	mc_set_memdesc(p, MEMDESC_TYPE_BUDDY,
		       MC_MDF_PUT(SUBTYPE, state) | MC_MDF_PUT(ORDER, order) |
		       (mc_pfn_flags(m, p) & MC_PFN_FLAGS_MASK));
}

static inline int mc_buddy_is_head(const struct page *p)
{
	return mc_memdesc_type(p) == MEMDESC_TYPE_BUDDY &&
	       MC_MDF_GET(mc_memdesc_word(p), SUBTYPE) == MEMDESC_BUDDY_HEAD;
}

/* ---- page types: what 6.18's page_type says, from the memdesc ------------ */

static inline int mc_page_type(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	if (mc_buddy_is_head(p))
		return PGTY_buddy;
	return mc_memdesc_page_type(p);
}

/* The buddy allocator sets and clears "heads a free block" itself
 * (set_buddy_order(), mc_clear_page_type()). */
static inline void mc_set_page_type(const struct mc_machine *m, struct page *p, enum pagetype t)
{
	(void)m; (void)p; (void)t;
}

#define PageBuddy(m, p)		mc_buddy_is_head(p)
#define PageSlab(m, p)		(mc_memdesc_type(p) == MEMDESC_TYPE_SLAB)
#define PageTable(m, p)		(mc_memdesc_type(p) == MEMDESC_TYPE_PAGETABLE)
#define PageLargeKmalloc(m, p)	page_type_is(m, (p), PGTY_large_kmalloc)

/* ---- the buddy allocator's per-page state -------------------------------- */

static inline void set_buddy_order(const struct mc_machine *m, struct page *p, unsigned int order)
{
	mc_set_buddy_memdesc(m, p, MEMDESC_BUDDY_HEAD, MC_BUDDY_ORDER_INLINE ? order : 0);
	if (!MC_BUDDY_ORDER_INLINE)
		mc_page_set_block_order(m, p, order);
}

static inline unsigned int buddy_order(const struct mc_machine *m, const struct page *p)
{
	if (MC_BUDDY_ORDER_INLINE)
		return MC_MDF_GET(mc_memdesc_word(p), ORDER);
	return mc_page_block_order(m, p);
}

/* Off a free list: free memory that heads nothing. */
static inline void mc_clear_page_type(const struct mc_machine *m, struct page *p)
{
	mc_set_buddy_memdesc(m, p, MEMDESC_BUDDY_FREE, 0);
	mc_page_set_block_order(m, p, 0);
}

/* ---- where a free block is linked: struct buddy in its first bytes -------- */

/* The first bytes of every free block hold its links; the model keeps them
 * per PFN beside the RAM mapping (mc_machine.buddy_links), which Machine.read
 * overlays on the block's bytes (mc_free_memory_read()). */
#define MC_BUDDY_LINKS_IN_BLOCK	1

/* kmap_local_page() of a free block: its first bytes, counted when it is
 * HIGHMEM (no direct-map address).  The count is the model's, not machine
 * state a const caller promised to keep. */
static inline struct list_head *mc_kmap_buddy(const struct mc_machine *m, uint64_t pfn)
{
	if (pfn >= m->lowmem_pfns)
		((struct mc_machine *)m)->kmap_local++;
	return &m->buddy_links[pfn];
}

static inline struct list_head *mc_buddy_link(const struct mc_machine *m, struct page *p)
{
	return mc_kmap_buddy(m, mc_page_to_pfn(m, p));
}

/* A block is named by its PFN; list heads (in the zone, the per_cpu_pages)
 * by their direct-map address, which is above every PFN. */
static inline mc_ulong mc_buddy_link_va(const struct mc_machine *m, const struct page *p)
{
	return (mc_ulong)mc_page_to_pfn(m, p);
}

static inline struct page *mc_buddy_link_page(const struct mc_machine *m, mc_ulong w)
{
	return mc_pfn_to_page(m, w);
}

static inline struct list_head *mc_free_link(const struct mc_machine *m, mc_ulong w)
{
	if (w < m->page_offset)
		return mc_kmap_buddy(m, w);
	return mc_list(m, w);
}

static inline int mc_free_link_valid(const struct mc_machine *m, mc_ulong w)
{
	if (w < m->page_offset)
		return w < m->nr_pfns && !(m->pfn_marks[w] & (MC_PFN_HOLE | MC_PFN_NOMAP));
	return mc_addr_valid(m, w, sizeof(struct list_head));
}

/* Machine.read of physical [pa, pa + len) into out: a free page shows the
 * links its first bytes hold. */
static inline void mc_free_memory_read(const struct mc_machine *m, uint64_t pa, uint64_t len,
				       unsigned char *out)
{
	uint64_t pfn, end = pa + len;
	for (pfn = pa >> PAGE_SHIFT; pfn << PAGE_SHIFT < end; pfn++) {
		uint64_t lo = pfn << PAGE_SHIFT, hi = lo + sizeof(struct buddy);
		if (pfn >= m->nr_pfns || mc_memdesc_type(mc_pfn_to_page(m, pfn)) != MEMDESC_TYPE_BUDDY)
			continue;
		if (lo < pa)
			lo = pa;
		if (hi > end)
			hi = end;
		if (lo < hi)
			memcpy(out + (lo - pa),
			       (const unsigned char *)&m->buddy_links[pfn] + (lo - (pfn << PAGE_SHIFT)),
			       hi - lo);
	}
}

/* Free memory holds the free lists' links here: the API may not write it. */
static inline const char *mc_free_memory_unwritable(const struct mc_machine *m, uint64_t pfn)
{
	if (pfn < m->nr_pfns && mc_memdesc_type(mc_pfn_to_page(m, pfn)) == MEMDESC_TYPE_BUDDY)
		return "free memory: this design keeps the free lists' links (struct buddy) in it";
	return NULL;
}

/* ---- per-page fields: none but the memdesc (and flags) -------------------- */

static inline mc_ulong page_private(const struct mc_machine *m, const struct page *p)
{
	(void)m; (void)p;
	return 0;
}

static inline void set_page_private(const struct mc_machine *m, struct page *p, mc_ulong v)
{
	(void)m; (void)p; (void)v;
}

/* ---- reserved memory: 6.18's PG_reserved where the page has a flags word
 * (page_flags_word.h defines it), else Misc "reserved" ------------------- */
#if !defined(PageReserved)

#define PageReserved(m, p)						\
	(mc_memdesc_type(p) == MEMDESC_TYPE_MISC && mc_misc_subtype(p) == MEMDESC_MISC_RESERVED)

static inline void __SetPageReserved(const struct mc_machine *m, struct page *p)
{
	mc_set_misc_memdesc(m, p, MEMDESC_MISC_RESERVED, 0);
}

static inline void __ClearPageReserved(const struct mc_machine *m, struct page *p)
{
	if (PageReserved(m, p))
		mc_set_misc_memdesc(m, p, MEMDESC_MISC_NONE, 0);
}
#endif

/* ---- reference and map counts (see the top of this file) ------------------ */

static inline int page_ref_count(const struct mc_machine *m, const struct page *p)
{
	if (mc_memdesc_is_folio(p))
		return page_folio(m, (struct page *)p)->_refcount.counter;
	if (mc_memdesc_type(p) == MEMDESC_TYPE_PAGETABLE)	/* the table's (S7) */
		return mc_va_to_ptdesc(m, mc_memdesc_desc_va(p))->_refcount.counter;
	if (PageReserved(m, p))
		return 1;
	if (mc_memdesc_type(p) != MEMDESC_TYPE_MISC)
		return 0;
	switch (mc_misc_subtype(p)) {
	case MEMDESC_MISC_NONE:
	case MEMDESC_MISC_KMALLOC_LARGE:
		return 0;
	}
	return (mc_page_to_pfn(m, p) & ((1ULL << mc_misc_order(p)) - 1)) == 0;
}

static inline void set_page_count(const struct mc_machine *m, struct page *p, int v)
{
	(void)m; (void)p; (void)v;	/* no per-page count */
}

static inline void page_mapcount_reset(const struct mc_machine *m, struct page *p)
{
	(void)m; (void)p;		/* no per-page mapcount */
}

/* ---- an allocated block's pages (Machine.check(), memdesc_desc.h) --------
 * Where pages keep an order (S3), each says the block's (a page lent to
 * the page cache, S8: its folio's, 0).  A flag in a page's own flags word is
 * no block violation (as on interim): the free path refuses it. */
static inline const char *mc_block_page_bad_reason(const struct mc_machine *m, struct page *t,
						   unsigned int order, int first, int lent)
{
	(void)first;
	if (!MC_BUDDY_ORDER_INLINE && mc_page_block_order(m, t) != (lent ? 0 : order))
		return "page's order field differs from its block's order (S3)";
	return NULL;
}

/* ---- the free path (mm/page_alloc.c, on this layout) ---------------------- */

/* Why a page may not be freed, or NULL: a folio page by its folio, any page
 * by its own flags where it has some. */
static inline const char *page_bad_reason(const struct mc_machine *m, const struct page *p,
					  mc_ulong flags, int expected_ref, int head_reset)
{
	const struct folio *f = page_folio(m, (struct page *)p);
	const char *bad = f ? mc_folio_bad_reason(f, flags, expected_ref, head_reset) : NULL;
	const char *own = mc_page_own_flags_bad(m, p, flags);
	return own ? own : bad;
}

static inline const char *mc_free_tail_page_is_bad_reason(const struct mc_machine *m,
							  struct page *head, struct page *p,
							  int compound)
{
	(void)head; (void)compound;
	return mc_page_own_flags_bad(m, p, PAGE_FLAGS_CHECK_AT_FREE);
}

/* __free_pages_prepare()'s resets of every page of the block: the page's
 * own words, then the memdesc becomes free memory (node, zone and section
 * copied back from the descriptor, which is freed after the pages). */
static inline void mc_free_pages_prepare_desc(const struct mc_machine *m, struct page *p,
					      unsigned int order)
{
	unsigned long i, nr = 1UL << order;
	for (i = 0; i < nr; i++) {
		mc_free_page_reset(m, p + i);
		mc_set_buddy_memdesc(m, p + i, MEMDESC_BUDDY_FREE, 0);
	}
}

#endif /* MEMCORE_MEMDESC_PAGE_H */
