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

#include <stddef.h>
#include <string.h>

#include "memcore/slab.h"
#include "memcore/mmzone.h"
#include "memcore/bitops.h"
#include "memcore/machine.h"

#define MC_DESIGN_NAME		"classic"

/* The caches this design allocates descriptors from, X(ENUM, "name"): none,
 * every descriptor overlays its pages in the memmap. */
#define MC_DESC_CACHES(X)
#include "memcore/desc_caches.h"

/* ---- folio <-> page <-> pfn (include/linux/mm.h, page-flags.h) ---------
 *
 * A folio is its head page viewed as struct folio: the descriptor lives in
 * the memmap, so its modeled address is the head page's.
 */
static inline struct page *folio_page(const struct mc_machine *m, struct folio *f, unsigned long n)
{
	return &f->page + n;
}

static inline uint64_t folio_pfn(const struct mc_machine *m, const struct folio *f)
{
	return mc_page_to_pfn(m, &f->page);
}

/* Modeled address of the folio descriptor (what a Folio view holds). */
static inline mc_ulong mc_folio_va(const struct mc_machine *m, const struct folio *f)
{
	return mc_page_va(m, &f->page);
}

static inline struct folio *mc_va_to_folio(const struct mc_machine *m, mc_ulong va)
{
	return (struct folio *)mc_va_to_page(m, va);
}

/* folio_flags(folio, n): the flags word of the folio's n-th page (n = 0, 1). */
static inline mc_ulong *folio_flags(struct folio *f, unsigned int n)
{
	return &(&f->page + n)->flags.f;
}

/* The flags of one struct page (page->flags.f), for dump_page(). */
static inline mc_ulong mc_page_flags(const struct mc_machine *m, const struct page *p)
{
	return p->flags.f;
}

/* Modeled address of a page's flags word (a PgFlags view of it). */
static inline mc_ulong mc_page_flags_va(const struct mc_machine *m, const struct page *p)
{
	return mc_page_va(m, p) + offsetof(struct page, flags);
}

static inline mc_ulong mc_folio_flags_va(const struct mc_machine *m, const struct folio *f)
{
	return mc_folio_va(m, f) + offsetof(struct folio, flags);
}

/* ---- flag words of a folio, for the generated helpers (folio_flags.h) ---- */
#define MCF_WORD_FOLIO_HEAD_PAGE(f)	folio_flags((f), 0)
#define MCF_WORD_FOLIO_SECOND_PAGE(f)	folio_flags((f), 1)
#define MCF_WORD(f, page)		MCF_WORD_##page(f)
/* folio->mapping as an integer (low bits: FOLIO_MAPPING_*) */
#define MCF_MAPPING(f)			((f)->mapping)
/* the zone a folio is in, from its head page's flags */
#define MCF_ZONENUM(f)			((int)(((f)->flags.f >> ZONES_PGSHIFT) & ZONES_MASK))

#include "memcore/page_flag_masks.h"	/* PAGE_FLAGS_CHECK_AT_FREE & co. */

/* ---- fields of the flags word -------------------------------------------- */

static inline int page_zonenum(const struct mc_machine *m, const struct page *p)
{
	return (int)((p->flags.f >> ZONES_PGSHIFT) & ZONES_MASK);
}

static inline int page_to_nid(const struct mc_machine *m, const struct page *p)
{
	return (int)((p->flags.f >> NODES_PGSHIFT) & NODES_MASK);
}

static inline unsigned long page_to_section(const struct mc_machine *m, const struct page *p)
{
	return (unsigned long)((p->flags.f >> SECTIONS_PGSHIFT) & SECTIONS_MASK);
}

/* zone and node together: buddies must agree on both (page_zone_id(m, )). */
static inline mc_ulong page_zone_id(const struct mc_machine *m, const struct page *p)
{
	const mc_ulong mask = ((ZONES_MASK << ZONES_PGSHIFT) | (NODES_MASK << NODES_PGSHIFT));
	return p->flags.f & mask;
}

/* set_page_links(m, ): zone, node and section fields of a fresh page. */
static inline void set_page_links(const struct mc_machine *m, struct page *p, int zone, int nid, unsigned long pfn)
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

/* page_cpupid_reset_last(m, ): all ones means "no CPU/PID recorded". */
static inline void page_cpupid_reset_last(const struct mc_machine *m, struct page *p)
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

static inline int PageTail(const struct mc_machine *m, const struct page *p)
{
	return (int)(p->compound_head & 1);
}

static inline int PageHead(const struct mc_machine *m, const struct page *p)
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

/* page_has_type(m, ): page_mapcount_is_type(page_type), i.e. the test on
 * page_type - 1, exactly as the kernel writes it. */
static inline int page_has_type(const struct mc_machine *m, const struct page *p)
{
	return page_type_has_type(p->page_type - 1);
}

static inline int page_type_is(const struct mc_machine *m, const struct page *p, enum pagetype t)
{
	return (p->page_type >> PAGE_TYPE_SHIFT) == (unsigned int)t;
}

/* __SetPageX / __folio_set_X: the word must say "no type" first. */
static inline void mc_set_page_type(const struct mc_machine *m, struct page *p, enum pagetype t)
{
	p->page_type = (unsigned int)t << PAGE_TYPE_SHIFT;
}

static inline void mc_clear_page_type(const struct mc_machine *m, struct page *p)
{
	p->page_type = PAGE_TYPE_NONE;
}

#define PageBuddy(m, p)		page_type_is(m, (p), PGTY_buddy)
#define PageSlab(m, p)		page_type_is(m, (p), PGTY_slab)
#define PageTable(m, p)		page_type_is(m, (p), PGTY_table)
#define PageLargeKmalloc(m, p)	page_type_is(m, (p), PGTY_large_kmalloc)
#define PageReserved(m, p)		test_bit(PG_reserved, &(p)->flags.f)
#define __SetPageReserved(m, p)		__set_bit(PG_reserved, &(p)->flags.f)
#define __ClearPageReserved(m, p)	__clear_bit(PG_reserved, &(p)->flags.f)
/* PF_HEAD: a tail page answers with its head's flag */
#define PageLRU(m, p)			test_bit(PG_lru, &mc_compound_head(m, (struct page *)(p))->flags.f)

/* ---- the buddy allocator's per-page state -------------------------------- */

static inline void set_buddy_order(const struct mc_machine *m, struct page *p, unsigned int order)
{
	p->private = order;
	mc_set_page_type(m, p, PGTY_buddy);
}

static inline unsigned int buddy_order(const struct mc_machine *m, const struct page *p)
{
	return (unsigned int)p->private;
}

#include "memcore/page_buddy_list.h"	/* mc_buddy_link() & co.: buddy_list in struct page */

/* ---- reference and map counts (include/linux/page_ref.h) ------------------ */

static inline int page_ref_count(const struct mc_machine *m, const struct page *p)
{
	return p->_refcount.counter;
}

static inline void set_page_count(const struct mc_machine *m, struct page *p, int v)
{
	p->_refcount.counter = v;
}

static inline void page_mapcount_reset(const struct mc_machine *m, struct page *p)
{
	p->_mapcount.counter = -1;
}

/* The mapcount a dump shows: _mapcount + 1, or 0 for a typed page. */
static inline int mc_page_dump_mapcount(const struct mc_machine *m, const struct page *p)
{
	if (page_has_type(m, p))
		return 0;
	return p->_mapcount.counter + 1;
}

/* ---- folio references (include/linux/page_ref.h) -------------------------- */

#include "memcore/folio_refs.h"	/* folio_ref_count(), folio_index() & co. */

/* ---- folio fields ------------------------------------------------------- */

static inline int folio_test_large(const struct folio *f)
{
	return test_bit(PG_head, &f->flags.f);
}

/* folio_mapcount(): total mappings of the folio. */
static inline int folio_mapcount(const struct folio *f)
{
	int mc;
	if (!folio_test_large(f)) {
		mc = f->_mapcount.counter + 1;
		return page_type_has_type((unsigned int)(mc - 1)) ? 0 : mc;
	}
	return f->_large_mapcount.counter + 1;
}

/* Large-folio counters as dump_page() prints them; 0 where the folio has no
 * room for one (on 32-bit the entire mapcount and pincount live in page 2,
 * which an order-1 folio does not have). */
static inline int mc_folio_has_page2_counters(const struct folio *f)
{
#if defined(CONFIG_64BIT)
	(void)f;
	return 1;
#else
	return folio_order(f) > 1;
#endif
}

static inline int folio_large_mapcount(const struct folio *f)
{
	return f->_large_mapcount.counter + 1;
}

static inline int folio_entire_mapcount(const struct folio *f)
{
	return mc_folio_has_page2_counters(f) ? f->_entire_mapcount.counter + 1 : 0;
}

static inline int folio_nr_pages_mapped(const struct folio *f)
{
	return f->_nr_pages_mapped.counter;
}

static inline int folio_pincount(const struct folio *f)
{
	return mc_folio_has_page2_counters(f) ? f->_pincount.counter : 0;
}

/* ---- per-page fields ------------------------------------------------------ */

static inline mc_ulong page_private(const struct mc_machine *m, const struct page *p)
{
	return p->private;
}

static inline void set_page_private(const struct mc_machine *m, struct page *p, mc_ulong v)
{
	p->private = v;
}

static inline mc_ulong mc_page_mapping_word(const struct mc_machine *m, const struct page *p)
{
	return p->mapping;
}

static inline mc_ulong mc_page_memcg_data(const struct mc_machine *m, const struct page *p)
{
	return p->memcg_data;
}

/* The raw page_type word (top byte PGTY_* when typed). */
static inline unsigned int mc_page_type_word(const struct mc_machine *m, const struct page *p)
{
	return p->page_type;
}

/* The raw compound_head word (head address + 1 on a tail page, else 0). */
static inline mc_ulong mc_page_compound_word(const struct mc_machine *m, const struct page *p)
{
	return p->compound_head;
}

/* The PGTY_* value of a typed page, as an int; meaningful if page_has_type(m, ). */
static inline int mc_page_type(const struct mc_machine *m, const struct page *p)
{
	return (int)(p->page_type >> PAGE_TYPE_SHIFT);
}

/* nth_page(): the struct page `n` pages after `p` (one memmap array). */
static inline struct page *nth_page(struct page *p, unsigned long n)
{
	return p + n;
}

/* Index of `p` within the compound page headed by `head`. */
static inline long mc_page_index_in(const struct page *head, const struct page *p)
{
	return (long)(p - head);
}

/* ---- page <-> folio ---------------------------------------------------------- */

/* page_folio(): the folio a page is part of (the compound head's). */
static inline struct folio *page_folio(const struct mc_machine *m, struct page *p)
{
	return (struct folio *)mc_compound_head(m, p);
}

/* page_rmappable_folio() of a fresh large block; __folio_set_large_rmappable */
static inline void folio_set_large_rmappable_flag(struct folio *f)
{
	__set_bit(PG_large_rmappable, folio_flags(f, 1));
}

/* ---- page <-> slab (mm/slab.h: slab_folio(m, ), folio_slab(), slab_page(m, )) ---- */

static inline struct page *slab_page(const struct mc_machine *m, struct slab *sl)
{
	return (struct page *)sl;
}

static inline const struct page *slab_page_const(const struct mc_machine *m, const struct slab *sl)
{
	return (const struct page *)sl;
}

/* The slab a slab head page describes (caller checked PageSlab). */
static inline struct slab *page_slab(const struct mc_machine *m, struct page *p)
{
	return (struct slab *)p;
}

static inline struct folio *slab_folio(const struct mc_machine *m, struct slab *sl)
{
	return (struct folio *)sl;
}

static inline mc_ulong mc_slab_va(const struct mc_machine *m, const struct slab *sl)
{
	return mc_page_va(m, slab_page_const(m, sl));
}

static inline struct slab *mc_va_to_slab(const struct mc_machine *m, mc_ulong va)
{
	return page_slab(m, mc_va_to_page(m, va));
}

static inline uint64_t slab_pfn(const struct mc_machine *m, const struct slab *sl)
{
	return mc_page_to_pfn(m, slab_page_const(m, sl));
}

static inline unsigned int slab_order(const struct slab *sl)
{
	const struct folio *f = (const struct folio *)sl;
	return folio_order(f);
}

/* slab_nid(): memdesc_nid(slab->flags), the node of the slab's memory. */
static inline int slab_nid(const struct slab *sl)
{
	return (int)((sl->flags.f >> NODES_PGSHIFT) & NODES_MASK);
}

/* ---- what an allocation is, and its descriptor -----------------------------
 *
 * Generic code calls these around the page allocator (folio.pxi, slub.pxi,
 * boot.pxi): allocate the descriptor (mc_desc_cache_of() names its cache),
 * allocate the pages, attach, and publish the refcount last; detach before
 * the pages go back.  Classic has no descriptor caches: prep_new_page() made
 * the block a compound page, and the descriptor is its head struct page.
 */
static inline int mc_desc_cache_of(int kind, unsigned int order)
{
	(void)kind;
	(void)order;
	return -1;
}

/* The geometry of descriptor cache `ci` (none on classic). */
static inline void mc_desc_cache_args(int ci, struct mc_slub_cache_args *a)
{
	(void)ci;
	(void)a;
}

/* folio_alloc() after prep_new_page(): the head page is the folio.
 * desc_va: the descriptor from mc_desc_cache_of()'s cache (0: none). */
static inline struct folio *mc_folio_attach(const struct mc_machine *m, struct page *p,
					    unsigned int order, mc_ulong desc_va, int anon)
{
	(void)m; (void)order; (void)desc_va; (void)anon;
	return (struct folio *)p;
}

/* allocate_slab(): __folio_set_slab(); the head page is the slab.  desc_va:
 * the slab descriptor (0: none); build: where to build it instead, when the
 * slab will hold its own descriptor (allocate_slab() moves it there). */
static inline struct slab *mc_slab_attach(const struct mc_machine *m, struct page *p,
					  unsigned int order, mc_ulong desc_va, struct slab *build)
{
	(void)order; (void)desc_va; (void)build;
	mc_set_page_type(m, p, PGTY_slab);
	return (struct slab *)p;
}

/* __free_slab(): what the slab wrote over its folio goes before the pages
 * return (folio->mapping = NULL, and slab_cache, which overlays
 * compound_head, so the head page reads as no tail), then
 * __folio_clear_slab().  The descriptor to free: none. */
static inline mc_ulong mc_slab_detach(const struct mc_machine *m, struct slab *sl)
{
	struct page *p = slab_page(m, sl);
	p->mapping = 0;
	sl->slab_cache = 0;
	p->memcg_data = 0;
	mc_clear_page_type(m, p);
	return 0;
}

/* __kmalloc_large_node(): PGTY_large_kmalloc on the compound head. */
static inline void mc_kmalloc_large_attach(const struct mc_machine *m, struct page *p,
					   unsigned int order)
{
	(void)order;
	mc_set_page_type(m, p, PGTY_large_kmalloc);
}

static inline void mc_kmalloc_large_detach(const struct mc_machine *m, struct page *p)
{
	mc_clear_page_type(m, p);
}

/* pagetable_alloc() + __pagetable_ctor(): alloc_pages() gave a compound
 * page with refcount 1; __SetPageTable() types its head, which is the
 * ptdesc (it overlays struct page).  desc_va: none on classic. */
static inline struct ptdesc *mc_ptdesc_attach(const struct mc_machine *m, struct page *p,
					      unsigned int order, mc_ulong desc_va)
{
	(void)order; (void)desc_va;
	mc_set_page_type(m, p, PGTY_table);
	p->_refcount.counter = 1;
	return (struct ptdesc *)p;
}

/* pagetable_dtor() (__ClearPageTable()) and the put of pagetable_free():
 * no descriptor to give back. */
static inline mc_ulong mc_ptdesc_detach(const struct mc_machine *m, struct page *p)
{
	mc_clear_page_type(m, p);
	p->_refcount.counter = 0;
	return 0;
}

/* A compound page from alloc_pages(__GFP_COMP) that is no folio (the kernel
 * pages a snapshot holds): prep_new_page() made it; nothing to add. */
static inline void mc_misc_attach(const struct mc_machine *m, struct page *p, unsigned int order)
{
	(void)m; (void)p; (void)order;
}

/* The order of the allocation whose first page is `p` (0 if p heads none). */
static inline unsigned int mc_head_order(const struct mc_machine *m, struct page *p)
{
	if (!PageHead(m, p))
		return 0;
	return folio_order((const struct folio *)p);
}

/* Is the Folio view's descriptor address still a folio descriptor?  In the
 * memmap it always names a struct page; the view checks the rest. */
static inline int mc_folio_desc_live(const struct mc_machine *m, mc_ulong va)
{
	(void)m; (void)va;
	return 1;
}

/* An allocated object of descriptor cache `ci` that is no live descriptor:
 * why, or NULL (classic has no descriptor caches). */
static inline const char *mc_desc_bad_reason(const struct mc_machine *m, int ci, mc_ulong va)
{
	(void)m; (void)ci; (void)va;
	return NULL;
}

/* Is the struct slab at `va` (a head struct page) still a slab? */
static inline int mc_slab_desc_live(const struct mc_machine *m, mc_ulong va)
{
	return PageSlab(m, mc_va_to_page(m, va));
}

/* The PFN whose state the flags word at `va` holds (a struct page's), or -1. */
static inline int64_t mc_flags_word_pfn(const struct mc_machine *m, mc_ulong va)
{
	if (!mc_va_is_page(m, va))
		return -1;
	return (int64_t)mc_page_to_pfn(m, mc_va_to_page(m, va));
}

/* Which words of a descriptor-cache object the API may write (none: classic
 * has no descriptor caches). */
static inline const char *mc_desc_word_unwritable(const struct mc_machine *m, int ci, size_t off)
{
	(void)m; (void)ci; (void)off;
	return "classic has no descriptor caches";
}

/* The page's memdesc word: none in Linux 6.18 (0). */
static inline int mc_page_memdesc(const struct mc_machine *m, const struct page *p, mc_ulong *word)
{
	(void)m; (void)p; (void)word;
	return 0;
}

/* S8, slab-backed page-cache folios: a classic slab is one compound page
 * whose head struct page is the slab; no page of it can become a folio. */
#define MC_FOLIO_SLABS		0
static inline struct slab *mc_folio_backing_slab(const struct mc_machine *m, const struct folio *f)
{
	(void)m; (void)f;
	return NULL;
}

static inline void mc_folio_lend_from_slab(struct mc_machine *m, struct folio *f, struct slab *sl)
{
	(void)m; (void)f; (void)sl;
}

static inline void mc_folio_return_to_slab(struct mc_machine *m, struct folio *f, struct slab *sl)
{
	(void)m; (void)f; (void)sl;
}

/* compound_head() as the API offers it: NULL, or why it is a VM_BUG. */
static inline const char *mc_compound_head_bug(const struct mc_machine *m, const struct page *p)
{
	(void)m; (void)p;
	return NULL;
}

/* ---- compound pages: allocation (mm/page_alloc.c prep_compound_*) ---------- */

static inline void prep_compound_tail(const struct mc_machine *m, struct page *head,
				      unsigned long i)
{
	struct page *p = head + i;
	p->mapping = TAIL_MAPPING;
	set_compound_head(m, p, head);
	p->private = 0;
}

static inline void prep_compound_head(const struct mc_machine *m, struct page *p,
				      unsigned int order)
{
	struct folio *f = (struct folio *)p;
	folio_set_order(f, order);
	f->_large_mapcount.counter = -1;
	f->_nr_pages_mapped.counter = 0;		/* CONFIG_PAGE_MAPCOUNT */
#if defined(CONFIG_MM_ID)
	f->_mm_ids = 0;
	f->_mm_id_mapcount[0] = -1;
	f->_mm_id_mapcount[1] = -1;
#endif
	if (mc_folio_has_page2_counters(f)) {		/* 32-bit: page 2, order > 1 */
		f->_pincount.counter = 0;
		f->_entire_mapcount.counter = -1;
	}
	if (order > 1)
		INIT_LIST_HEAD(&f->_deferred_list,
			       mc_page_va(m, p) + offsetof(struct folio, _deferred_list));
}

static inline void prep_compound_page(const struct mc_machine *m, struct page *p,
				      unsigned int order)
{
	unsigned long i, nr = 1UL << order;
	__set_bit(PG_head, &p->flags.f);
	for (i = 1; i < nr; i++)
		prep_compound_tail(m, p, i);
	prep_compound_head(m, p, order);
}

/* ---- the free path's checks (mm/page_alloc.c) ---------------------------- */

/*
 * page_bad_reason(m, ): why a page may not be freed, or NULL.  As in the
 * kernel the last matching reason wins.  On the head page,
 * __free_pages_prepare() resets a page type and an anon mapping before the
 * kernel checks, so with `head_reset` they pass; tail pages get no reset.
 */
static inline const char *page_bad_reason(const struct mc_machine *m, const struct page *p, mc_ulong flags,
					  int expected_ref, int head_reset)
{
	const char *bad = NULL;
	if (p->_mapcount.counter != -1 && !(head_reset && page_has_type(m, p)))
		bad = "nonzero mapcount";
	if (p->mapping != 0 && !(head_reset && (p->mapping & 1)))
		bad = "non-NULL mapping";
	if (p->_refcount.counter != expected_ref)
		bad = "nonzero _refcount";
	if (p->flags.f & flags)
		bad = "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
#if defined(CONFIG_MEMCG)
	if (p->memcg_data != 0)
		bad = "page still charged to cgroup";
#endif
	return bad;
}

/* The entire mapcount and pincount, which live in page 1 on 64-bit and in
 * page 2 on 32-bit. */
static inline const char *entire_and_pincount_bad(const struct folio *f)
{
	if (f->_entire_mapcount.counter + 1 != 0)
		return "nonzero entire_mapcount";
	if (f->_pincount.counter != 0)
		return "nonzero pincount";
	return NULL;
}

/* Every tail page: PG_tail set and compound_head pointing at the head. */
static inline const char *tail_page_link_bad(const struct mc_machine *m, struct page *head,
					     struct page *p)
{
	if (!PageTail(m, p))
		return "PageTail not set";
	if (mc_compound_head(m, p) != head)
		return "compound_head not consistent";
	return NULL;
}

/*
 * free_tail_page_prepare()'s checks: what is wrong with tail `p` of the
 * compound page `head`, or NULL.  The first problem found is the reason
 * (the kernel reports it and goes on to bad_page()).
 */
static inline const char *free_tail_page_bad_reason(const struct mc_machine *m,
						    struct page *head, struct page *p)
{
	struct folio *f = (struct folio *)head;
	long idx = p - head;
	switch (idx) {
	case 1:
		if (f->_large_mapcount.counter + 1 != 0)
			return "nonzero large_mapcount";
		if (f->_nr_pages_mapped.counter != 0)
			return "nonzero nr_pages_mapped";
#if defined(CONFIG_MM_ID)
		if (f->_mm_id_mapcount[0] != -1)
			return "nonzero mm mapcount 0";
		if (f->_mm_id_mapcount[1] != -1)
			return "nonzero mm mapcount 1";
#endif
#if defined(CONFIG_64BIT)
		if (entire_and_pincount_bad(f))
			return entire_and_pincount_bad(f);
#endif
		break;
	case 2:
		if (f->_deferred_list.next !=
		    mc_page_va(m, head) + offsetof(struct folio, _deferred_list))
			return "on deferred list";
#if !defined(CONFIG_64BIT)
		if (entire_and_pincount_bad(f))
			return entire_and_pincount_bad(f);
#endif
		break;
	case 3:
		break;		/* CONFIG_HUGETLB_PAGE: hugetlb fields overlay mapping */
	default:
		if (p->mapping != TAIL_MAPPING)
			return "corrupted mapping in tail page";
	}
	return tail_page_link_bad(m, head, p);
}

/*
 * free_page_is_bad() of tail `p` of the order > 0 block at `head`, compound
 * or not, as __free_pages_prepare() runs it (mm/page_alloc.c): on a compound
 * page after free_tail_page_prepare() cleared the tail's mapping and
 * compound_head, and after page 1 lost PAGE_FLAGS_SECOND and _nr_pages.  The
 * page is not changed: the checks run on a copy, by page_bad_reason(m, ) with
 * the tail's expected refcount 0 and no head reset.
 */
static inline const char *mc_free_tail_page_is_bad_reason(const struct mc_machine *m, struct page *head, struct page *p,
							  int compound)
{
	struct page q[2];
	const struct page *t = p;
	_Static_assert(offsetof(struct folio, _flags_1) == sizeof(struct page),
		       "page 1 of a folio is the second struct page");
	if (compound) {
		q[1] = *p;
		if (p - head == 1) {
			q[0] = *head;
			q[1].flags.f &= ~PAGE_FLAGS_SECOND;
#if defined(NR_PAGES_IN_LARGE_FOLIO)
			_Static_assert(offsetof(struct folio, _nr_pages) + sizeof(unsigned int) <=
				       2 * sizeof(struct page), "_nr_pages is in page 1");
			memset((char *)q + offsetof(struct folio, _nr_pages), 0,
			       sizeof(((struct folio *)0)->_nr_pages));
#endif
		}
		q[1].mapping = 0;
		clear_compound_head(&q[1]);
		t = &q[1];
	}
	return page_bad_reason(m, t, PAGE_FLAGS_CHECK_AT_FREE, 0, 0);
}

/*
 * What a compound page must look like while allocated (Machine.check()):
 * NULL, or the reason and (in *bad) the index of the page that breaks it.
 */
static inline const char *mc_compound_bad_reason(const struct mc_machine *m, struct page *head,
						 unsigned int order, unsigned long *bad)
{
	unsigned long i, nr = 1UL << order;
	struct page *t;
	*bad = 0;
	if (folio_nr_pages((const struct folio *)head) != nr)
		return "_nr_pages does not match the folio order";
	for (i = 1; i < nr; i++) {
		t = head + i;
		*bad = i;
		if (!PageTail(m, t) || mc_compound_head(m, t) != head)
			return "tail page does not point at its head";
		if (t->_refcount.counter != 0)
			return "tail page has a nonzero refcount";
		if (i >= 3 && t->mapping != TAIL_MAPPING)
			return "tail page's mapping is not TAIL_MAPPING";
		if (PageHead(m, t))
			return "tail page has PG_head";
	}
	return NULL;
}

/* ---- the free path's state changes (__free_pages_prepare) --------------- */

/* Per-page descriptor state of a block being freed; checks passed before. */
static inline void mc_free_pages_prepare_desc(const struct mc_machine *m, struct page *p, unsigned int order)
{
	unsigned long i, nr = 1UL << order;
	int compound = PageHead(m, p);
	struct page *q;
	if (order) {
		if (compound) {
			(p + 1)->flags.f &= ~PAGE_FLAGS_SECOND;
#if defined(NR_PAGES_IN_LARGE_FOLIO)
			((struct folio *)p)->_nr_pages = 0;
#endif
		}
		for (i = 1; i < nr; i++) {
			q = p + i;
			if (compound) {
				q->mapping = 0;
				clear_compound_head(q);
			}
			q->flags.f &= ~PAGE_FLAGS_CHECK_AT_PREP;
		}
	}
	__clear_bit(PG_mlocked, &p->flags.f);
	if (p->mapping & 1)
		p->mapping = 0;			/* anon folio: drop the anon_vma pointer */
	if (page_has_type(m, p))
		mc_clear_page_type(m, p);
	page_cpupid_reset_last(m, p);
	p->flags.f &= ~PAGE_FLAGS_CHECK_AT_PREP;
	p->private = 0;
}

/* __folio_put()'s page_cache_release(): off the LRU before the free. */
static inline void mc_folio_clear_lru_flags(struct folio *f)
{
	f->flags.f &= ~(MC_BIT(PG_lru) | MC_BIT(PG_active) | MC_BIT(PG_unevictable));
}

/* ---- memmap_init() of one page (mm/mm_init.c __init_single_page) ------- */

static inline void mc_init_single_page(const struct mc_machine *m, struct page *p,
				       int zone, int nid, unsigned long pfn)
{
	memset(p, 0, sizeof(*p));
	set_page_links(m, p, zone, nid, pfn);
	set_page_count(m, p, 1);
	page_mapcount_reset(m, p);
	page_cpupid_reset_last(m, p);
	INIT_LIST_HEAD(&p->lru, mc_page_va(m, p) + offsetof(struct page, lru));
}

/* ---- which memmap words the API may write --------------------------------- */

/*
 * A PgFlags view may write any word of the memmap, as a debugger could, so
 * tests can inject bad page state; the checks then find it.  Not the words
 * the model follows as pointers, where garbage would send it outside
 * modeled memory: compound_head (lru.next: a tail's head, a free block's and
 * a pcp page's list link, a slab's cache), a free page's lru.prev, and a
 * slab's words other than its flags and counters (lists, freelist).  NULL,
 * or why the word is not the API's to write.
 */
static inline const char *mc_memmap_word_unwritable(const struct mc_machine *m, mc_ulong va)
{
	mc_ulong off = va - m->memmap_va;
	uint64_t pfn = off / sizeof(struct page);
	size_t in = off % sizeof(struct page);
	struct page *p;
	if (pfn >= m->nr_pfns)
		return "it is the memmap past the end of RAM";
	if (mc_pfn_mark_test(m, pfn, MC_PFN_NOMAP))
		return "it is in a memory section with no RAM, which has no memmap";
	p = mc_pfn_to_page(m, pfn);
	if (in == offsetof(struct page, flags))
		return NULL;
	if (in == offsetof(struct page, compound_head))
		return "compound_head / lru.next is a link the model follows";
	if (PageSlab(m, p) && !PageTail(m, p)) {
		if (in == offsetof(struct slab, counters))
			return NULL;
		return "a struct slab word that SLUB follows (lists, freelist, cache)";
	}
	if (in == offsetof(struct page, lru.prev) &&
	    (PageBuddy(m, p) || (!PageTail(m, p) && !page_has_type(m, p) && page_ref_count(m, p) == 0 &&
			      !mc_pfn_mark_test(m, pfn, MC_PFN_FROZEN))))
		return "a free page's list link";
	return NULL;
}

/*
 * The folio a PFN walker may try to take a reference on, or NULL: 6.18 has
 * no word saying "this page is in a folio", so a walker goes to the compound
 * head and rules out what is typed (buddy, slab, page table, ...) or
 * reserved; any other allocation (an untyped compound kernel page too) looks
 * like a folio, which is why the walker must take a reference and re-check.
 */
static inline struct folio *mc_walker_folio(const struct mc_machine *m, struct page *p)
{
	struct page *head = mc_compound_head(m, p);
	if (page_has_type(m, head) || PageReserved(m, head))
		return NULL;
	return (struct folio *)head;
}

#endif /* MEMCORE_DESIGN_CLASSIC_H */
