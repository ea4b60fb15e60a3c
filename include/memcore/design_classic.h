/* SPDX-License-Identifier: MIT */
/*
 * memcore/design_classic.h - accessors of the classic design (Linux 6.18):
 * every descriptor overlays struct page in the memmap.
 *
 * Generic code (buddy, pcp, folio, views, checks) calls only these names,
 * so a memdesc design provides the same names over a different layout.
 * The names and semantics are the kernel's (include/linux/mm.h,
 * page-flags.h, page_ref.h, mm/internal.h).
 */
#ifndef MEMCORE_DESIGN_CLASSIC_H
#define MEMCORE_DESIGN_CLASSIC_H

#include "memcore/slab.h"
#include "memcore/mmzone.h"
#include "memcore/bitops.h"
#include "memcore/machine.h"

#define MC_DESIGN_NAME		"classic"

/* ---- flag words of a folio ----------------------------------------------- */
#define MCF_WORD_FOLIO_HEAD_PAGE(f)	(&(f)->flags.f)
#define MCF_WORD_FOLIO_SECOND_PAGE(f)	(&(f)->_flags_1)
#define MCF_WORD(f, page)		MCF_WORD_##page(f)
/* folio->mapping as an integer (low bits: FOLIO_MAPPING_*) */
#define MCF_MAPPING(f)			((f)->mapping)
/* the zone a folio is in, from its head page's flags */
#define MCF_ZONENUM(f)			((int)(((f)->flags.f >> ZONES_PGSHIFT) & ZONES_MASK))

#define PAGEFLAGS_MASK		((MC_BIT(NR_PAGEFLAGS)) - 1)
#if defined(CONFIG_LRU_GEN)
#define LRU_GEN_MASK		(((MC_BIT(LRU_GEN_WIDTH)) - 1) << LRU_GEN_PGOFF)
#define LRU_REFS_MASK		(((MC_BIT(LRU_REFS_WIDTH)) - 1) << LRU_REFS_PGOFF)
#else
#define LRU_GEN_MASK		0
#define LRU_REFS_MASK		0
#endif
#if defined(CONFIG_MEMORY_FAILURE)
#define __PG_HWPOISON		MC_BIT(PG_hwpoison)
#else
#define __PG_HWPOISON		0
#endif
#if defined(CONFIG_MMU)
#define __PG_MLOCKED		MC_BIT(PG_mlocked)
#else
#define __PG_MLOCKED		0
#endif

/* Flags that must be clear when a page is freed (else: bad_page). */
#define PAGE_FLAGS_CHECK_AT_FREE \
	(MC_BIT(PG_lru) | MC_BIT(PG_locked) | MC_BIT(PG_private) | MC_BIT(PG_private_2) | \
	 MC_BIT(PG_writeback) | MC_BIT(PG_reserved) | MC_BIT(PG_active) | \
	 MC_BIT(PG_unevictable) | __PG_MLOCKED | LRU_GEN_MASK)
/* Flags that must be clear when a page is handed out, and cleared on free. */
#define PAGE_FLAGS_CHECK_AT_PREP \
	((PAGEFLAGS_MASK & ~__PG_HWPOISON) | LRU_GEN_MASK | LRU_REFS_MASK)
/* Flags of page 1 of a large folio: the order byte and the PF_SECOND flags. */
#if defined(CONFIG_MEMORY_FAILURE)
#define MC_PF_SECOND_HWP	MC_BIT(PG_has_hwpoisoned)
#else
#define MC_PF_SECOND_HWP	0
#endif
#define PAGE_FLAGS_SECOND \
	((mc_ulong)0xff | MC_PF_SECOND_HWP | MC_BIT(PG_large_rmappable) | \
	 MC_BIT(PG_partially_mapped))

/* ---- fields of the flags word -------------------------------------------- */

static inline int page_zonenum(const struct page *p)
{
	return (int)((p->flags.f >> ZONES_PGSHIFT) & ZONES_MASK);
}

static inline int page_to_nid(const struct page *p)
{
	return (int)((p->flags.f >> NODES_PGSHIFT) & NODES_MASK);
}

static inline unsigned long page_to_section(const struct page *p)
{
	return (unsigned long)((p->flags.f >> SECTIONS_PGSHIFT) & SECTIONS_MASK);
}

/* zone and node together: buddies must agree on both (page_zone_id()). */
static inline mc_ulong page_zone_id(const struct page *p)
{
	const mc_ulong mask = ((ZONES_MASK << ZONES_PGSHIFT) | (NODES_MASK << NODES_PGSHIFT));
	return p->flags.f & mask;
}

/* set_page_links(): zone, node and section fields of a fresh page. */
static inline void set_page_links(struct page *p, int zone, int nid, unsigned long pfn)
{
	mc_ulong f = p->flags.f;
	f &= ~((ZONES_MASK << ZONES_PGSHIFT) | (NODES_MASK << NODES_PGSHIFT) |
	       (SECTIONS_MASK << SECTIONS_PGSHIFT));
	f |= ((mc_ulong)zone & ZONES_MASK) << ZONES_PGSHIFT;
	f |= ((mc_ulong)nid & NODES_MASK) << NODES_PGSHIFT;
	f |= ((mc_ulong)(pfn >> (MC_SECTION_SIZE_BITS - PAGE_SHIFT)) & SECTIONS_MASK)
		<< SECTIONS_PGSHIFT;
	p->flags.f = f;
}

/* page_cpupid_reset_last(): all ones means "no CPU/PID recorded". */
static inline void page_cpupid_reset_last(struct page *p)
{
#if LAST_CPUPID_WIDTH > 0
	p->flags.f |= LAST_CPUPID_MASK << LAST_CPUPID_PGSHIFT;
#elif defined(LAST_CPUPID_NOT_IN_PAGE_FLAGS)
	p->_last_cpupid = -1 & LAST_CPUPID_MASK;
#else
	(void)p;
#endif
}

/* ---- compound pages ------------------------------------------------------- */

static inline int PageTail(const struct page *p)
{
	return (int)(p->compound_head & 1);
}

static inline int PageHead(const struct page *p)
{
	return test_bit(PG_head, &p->flags.f);
}

/* compound_head(): the head page of a tail, else the page itself. */
static inline struct page *mc_compound_head(const struct mc_machine *m, struct page *p)
{
	mc_ulong head = p->compound_head;
	if (head & 1)
		return mc_va_to_page(m, head - 1);
	return p;
}

static inline void set_compound_head(const struct mc_machine *m, struct page *p,
				     const struct page *head)
{
	p->compound_head = mc_page_va(m, head) + 1;
}

static inline void clear_compound_head(struct page *p)
{
	p->compound_head = 0;
}

/* folio_order(): order byte of _flags_1, 0 for a small folio. */
static inline unsigned int folio_order(const struct folio *f)
{
	if (!test_bit(PG_head, &f->flags.f))
		return 0;
	return (unsigned int)(f->_flags_1 & 0xff);
}

static inline void folio_set_order(struct folio *f, unsigned int order)
{
	f->_flags_1 = (f->_flags_1 & ~(mc_ulong)0xff) | order;
#if defined(NR_PAGES_IN_LARGE_FOLIO)
	f->_nr_pages = 1U << order;
#endif
}

static inline unsigned long folio_nr_pages(const struct folio *f)
{
	if (!test_bit(PG_head, &f->flags.f))
		return 1;
#if defined(NR_PAGES_IN_LARGE_FOLIO)
	return f->_nr_pages;
#else
	return 1UL << (f->_flags_1 & 0xff);
#endif
}

/* ---- page types (top byte of page_type) ----------------------------------- */

static inline int page_type_has_type(unsigned int page_type)
{
	return (int)page_type < (int)((unsigned int)PGTY_mapcount_underflow << PAGE_TYPE_SHIFT);
}

/* page_has_type(): page_mapcount_is_type(page_type), i.e. the test on
 * page_type - 1, exactly as the kernel writes it. */
static inline int page_has_type(const struct page *p)
{
	return page_type_has_type(p->page_type - 1);
}

static inline int page_type_is(const struct page *p, enum pagetype t)
{
	return (p->page_type >> PAGE_TYPE_SHIFT) == (unsigned int)t;
}

/* __SetPageX / __folio_set_X: the word must say "no type" first. */
static inline void mc_set_page_type(struct page *p, enum pagetype t)
{
	p->page_type = (unsigned int)t << PAGE_TYPE_SHIFT;
}

static inline void mc_clear_page_type(struct page *p)
{
	p->page_type = PAGE_TYPE_NONE;
}

#define PageBuddy(p)		page_type_is((p), PGTY_buddy)
#define PageSlab(p)		page_type_is((p), PGTY_slab)
#define PageTable(p)		page_type_is((p), PGTY_table)
#define PageLargeKmalloc(p)	page_type_is((p), PGTY_large_kmalloc)
#define PageReserved(p)		test_bit(PG_reserved, &(p)->flags.f)

/* ---- the buddy allocator's per-page state -------------------------------- */

static inline void set_buddy_order(struct page *p, unsigned int order)
{
	p->private = order;
	mc_set_page_type(p, PGTY_buddy);
}

static inline unsigned int buddy_order(const struct page *p)
{
	return (unsigned int)p->private;
}

/* Where a free block is linked: struct page's buddy_list (and pcp_list). */
static inline struct list_head *mc_buddy_link(struct page *p)
{
	return &p->buddy_list;
}

static inline mc_ulong mc_buddy_link_va(const struct mc_machine *m, const struct page *p)
{
	return mc_page_va(m, p) + offsetof(struct page, buddy_list);
}

/* The page whose buddy_list/pcp_list is at modeled address `va`. */
static inline struct page *mc_buddy_link_page(const struct mc_machine *m, mc_ulong va)
{
	return mc_va_to_page(m, va - offsetof(struct page, buddy_list));
}

/* ---- reference and map counts (include/linux/page_ref.h) ------------------ */

static inline int page_ref_count(const struct page *p)
{
	return p->_refcount.counter;
}

static inline void set_page_count(struct page *p, int v)
{
	p->_refcount.counter = v;
}

static inline void page_mapcount_reset(struct page *p)
{
	p->_mapcount.counter = -1;
}

/* The mapcount a dump shows: _mapcount + 1, or 0 for a typed page. */
static inline int mc_page_dump_mapcount(const struct page *p)
{
	if (page_has_type(p))
		return 0;
	return p->_mapcount.counter + 1;
}

#endif /* MEMCORE_DESIGN_CLASSIC_H */
