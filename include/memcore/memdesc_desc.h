/* SPDX-License-Identifier: MIT */
/*
 * memcore/memdesc_desc.h - the accessors of the separately allocated
 * descriptors (struct folio, struct slab of memcore/memdesc_types.h) and
 * of the memdesc word, shared by the three memdesc designs.
 *
 * A design header (design_interim.h, ...) defines its page-level helpers
 * first, then includes this:
 *   mc_pfn_flags(m, p)    the node, zone and section bits of p's PFN in
 *                         memdesc_flags_t positions (the plan's pfn_flags())
 *   MC_PAGE_MEMDESC(p)    the lvalue of p's memdesc word
 *   MC_MEMDESC_FREE_TYPE(t)  whether type t is (an alias of) Buddy
 *   mc_page_set_block_order(m, p, order)  record in p the order of the
 *                         allocation it joins (flags_memdesc keeps it in
 *                         every page, S3; the others in the descriptor)
 * Every descriptor is an object of one of the design's caches
 * (MC_DESC_CACHES: folio_small, folio_large, slab_desc), 16-byte aligned
 * and SLAB_TYPESAFE_BY_RCU; a page points at it with its memdesc word.
 */
#ifndef MEMCORE_MEMDESC_DESC_H
#define MEMCORE_MEMDESC_DESC_H

#include <stddef.h>
#include <string.h>

#include "memcore/memdesc.h"
#include "memcore/memdesc_types.h"
#include "memcore/mmzone.h"
#include "memcore/bitops.h"
#include "memcore/machine.h"
#include "memcore/page_flag_masks.h"

/* ---- the memdesc word ---------------------------------------------------- */

static inline mc_ulong mc_memdesc_word(const struct page *p)
{
	return MC_PAGE_MEMDESC(p).v;
}

static inline unsigned int mc_memdesc_type(const struct page *p)
{
	return (unsigned int)(mc_memdesc_word(p) & MEMDESC_TYPE_MASK);
}

/* The descriptor address of a pointer type (the bits above the type). */
static inline mc_ulong mc_memdesc_desc_va(const struct page *p)
{
	return mc_memdesc_word(p) & ~(mc_ulong)MEMDESC_TYPE_MASK;
}

static inline void mc_set_memdesc(struct page *p, unsigned int type, mc_ulong bits)
{
	MC_PAGE_MEMDESC(p).v = (bits & ~(mc_ulong)MEMDESC_TYPE_MASK) | type;
}

static inline int mc_memdesc_is_folio(const struct page *p)
{
	unsigned int t = mc_memdesc_type(p);
	return t == MEMDESC_TYPE_FILE || t == MEMDESC_TYPE_ANON;
}

/* One inline field of the memdesc word (MC_MEMDESC_INLINE_FIELDS). */
#define MC_MDF_SHIFT_OF(id)	MC_MDF_SHIFT_##id
#define MC_MDF_WIDTH_OF(id)	MC_MDF_WIDTH_##id
enum {
#define MC_MDF_POS(id, nm, sh, w)	MC_MDF_SHIFT_##id = (w) ? (sh) : 0, MC_MDF_WIDTH_##id = (w),
	MC_MEMDESC_INLINE_FIELDS(MC_MDF_POS)
#undef MC_MDF_POS
};
#define MC_MDF_GET(word, id) \
	((unsigned int)(((word) >> MC_MDF_SHIFT_OF(id)) & ((1UL << MC_MDF_WIDTH_OF(id)) - 1)))
#define MC_MDF_PUT(id, v) \
	(((mc_ulong)(v) & ((1UL << MC_MDF_WIDTH_OF(id)) - 1)) << MC_MDF_SHIFT_OF(id))

/* The section, node and zone bits (where memdesc_flags_t keeps them). */
#define MC_PFN_FLAGS_MASK \
	((SECTIONS_MASK << SECTIONS_PGSHIFT) | (NODES_MASK << NODES_PGSHIFT) | \
	 (ZONES_MASK << ZONES_PGSHIFT))

/* A Misc memdesc: subtype, order and the PFN's section/node/zone inline. */
static inline void mc_set_misc_memdesc(const struct mc_machine *m, struct page *p,
				       unsigned int subtype, unsigned int order)
{
	mc_set_memdesc(p, MEMDESC_TYPE_MISC,
		       MC_MDF_PUT(SUBTYPE, subtype) | MC_MDF_PUT(ORDER, order) |
		       (mc_pfn_flags(m, p) & MC_PFN_FLAGS_MASK));
}

static inline unsigned int mc_misc_subtype(const struct page *p)
{
	return MC_MDF_GET(mc_memdesc_word(p), SUBTYPE);
}

static inline unsigned int mc_misc_order(const struct page *p)
{
	return MC_MDF_GET(mc_memdesc_word(p), ORDER);
}

/* No type number (MEMDESC_TYPE_MASK + 1). */
#define MC_MEMDESC_NO_TYPE	(MEMDESC_TYPE_MASK + 1)

/* ---- the descriptor caches ----------------------------------------------- */

#define MC_DESC_CACHES(X)			\
	X(FOLIO_SMALL, "folio_small")		\
	X(FOLIO_LARGE, "folio_large")		\
	X(SLAB, "slab_desc")			\
	X(PTDESC, "ptdesc")
#include "memcore/desc_caches.h"

/* Which cache holds the descriptor of a folio or slab of this order. */
static inline int mc_desc_cache_of(int kind, unsigned int order)
{
	if (kind == MC_DK_SLAB)
		return MC_DESC_SLAB;
	if (kind == MC_DK_PTDESC)
		return MC_DESC_PTDESC;
	return order ? MC_DESC_FOLIO_LARGE : MC_DESC_FOLIO_SMALL;
}

/*
 * kmem_cache_create() arguments of cache `ci`: the object, MEMDESC_ALIGN,
 * SLAB_TYPESAFE_BY_RCU (walkers read a memdesc under RCU alone, S6), and
 * the free pointer inside the object (use_freeptr_offset, 6.12+) on a word
 * no lock-free reader looks at (the LRU link, the slab list link), so a
 * free object costs no more than a live one.
 */
static inline void mc_desc_cache_args(int ci, struct mc_slub_cache_args *a)
{
	a->align = MEMDESC_ALIGN;
	a->flags = MC_SLAB_TYPESAFE_BY_RCU;
	a->use_freeptr_offset = 1;
	switch (ci) {
	case MC_DESC_FOLIO_SMALL:
		a->object_size = MC_SMALL_FOLIO_SIZE;
		a->freeptr_offset = offsetof(struct folio, lru);
		break;
	case MC_DESC_FOLIO_LARGE:
		a->object_size = sizeof(struct folio);
		a->freeptr_offset = offsetof(struct folio, lru);
		break;
	case MC_DESC_PTDESC:
		a->object_size = sizeof(struct ptdesc);
		a->freeptr_offset = offsetof(struct ptdesc, pt_list);
		break;
	default:
		a->object_size = sizeof(struct slab);
		a->freeptr_offset = offsetof(struct slab, slab_list);
		break;
	}
}

/* ---- folios (the descriptor the pages point at) -------------------------- */

static inline struct ptdesc *mc_va_to_ptdesc(const struct mc_machine *m, mc_ulong va)
{
	return (struct ptdesc *)mc_host(m, va);
}

static inline struct folio *mc_va_to_folio(const struct mc_machine *m, mc_ulong va)
{
	return (struct folio *)mc_host(m, va);
}

static inline mc_ulong mc_folio_va(const struct mc_machine *m, const struct folio *f)
{
	return mc_virt(m, f);
}

static inline uint64_t folio_pfn(const struct mc_machine *m, const struct folio *f)
{
	(void)m;
	return f->pfn;
}

static inline struct page *folio_page(const struct mc_machine *m, struct folio *f, unsigned long n)
{
	return mc_pfn_to_page(m, f->pfn + n);
}

/* page_folio(): the folio a page points at; NULL for a page in no folio. */
static inline struct folio *page_folio(const struct mc_machine *m, struct page *p)
{
	if (!mc_memdesc_is_folio(p))
		return NULL;
	return mc_va_to_folio(m, mc_memdesc_desc_va(p));
}

/* folio_flags(folio, n): the FL_* word (n = 0) and the PF_SECOND word (n = 1). */
static inline mc_ulong *folio_flags(struct folio *f, unsigned int n)
{
	return n ? &f->_flags_1 : &f->flags.f;
}

static inline mc_ulong mc_folio_flags_va(const struct mc_machine *m, const struct folio *f)
{
	return mc_folio_va(m, f) + offsetof(struct folio, flags);
}

#define MCF_WORD_FOLIO_HEAD_PAGE(f)	(&(f)->flags.f)
#define MCF_WORD_FOLIO_SECOND_PAGE(f)	(&(f)->_flags_1)
#define MCF_WORD(f, page)		MCF_WORD_##page(f)
#define MCF_MAPPING(f)			((f)->mapping)
#define MCF_ZONENUM(f)			((int)(((f)->flags.f >> ZONES_PGSHIFT) & ZONES_MASK))

static inline unsigned int folio_order(const struct folio *f)
{
	return f->_order;
}

static inline unsigned long folio_nr_pages(const struct folio *f)
{
	return 1UL << f->_order;
}

static inline int folio_test_large(const struct folio *f)
{
	return f->_order != 0;
}

#include "memcore/folio_refs.h"	/* folio_ref_count(), folio_index() & co. */

static inline int folio_mapcount(const struct folio *f)
{
	if (!folio_test_large(f))
		return f->_mapcount.counter + 1;
	return f->_large_mapcount.counter + 1;
}

static inline int folio_large_mapcount(const struct folio *f)
{
	return folio_test_large(f) ? f->_large_mapcount.counter + 1 : 0;
}

static inline int folio_entire_mapcount(const struct folio *f)
{
	return folio_test_large(f) ? f->_entire_mapcount.counter + 1 : 0;
}

static inline int folio_nr_pages_mapped(const struct folio *f)
{
	return folio_test_large(f) ? f->_nr_pages_mapped.counter : 0;
}

static inline int folio_pincount(const struct folio *f)
{
	return f->_pincount.counter;
}

static inline void folio_set_large_rmappable_flag(struct folio *f)
{
	__set_bit(PG_large_rmappable, &f->_flags_1);
}

/* PageLRU(): a folio flag (PF_HEAD in 6.18), read from the page's folio. */
static inline int PageLRU(const struct mc_machine *m, const struct page *p)
{
	const struct folio *f = page_folio(m, (struct page *)p);
	return f && test_bit(PG_lru, &f->flags.f);
}

static inline void mc_folio_clear_lru_flags(struct folio *f)
{
	f->flags.f &= ~(MC_BIT(PG_lru) | MC_BIT(PG_active) | MC_BIT(PG_unevictable));
}

/*
 * folio_alloc() after the pages: the descriptor from mc_desc_cache_of()'s
 * cache gets the FolioAlloc fields (pfn, order, flags = pfn_flags(pfn)) and
 * the counters a fresh folio has, and every page's memdesc points at it.
 * The caller publishes the refcount last.
 */
static inline struct folio *mc_folio_attach(const struct mc_machine *m, struct page *p,
					    unsigned int order, mc_ulong desc_va, int anon)
{
	struct folio *f = mc_va_to_folio(m, desc_va);
	unsigned long i, nr = 1UL << order;
	memset(f, 0, order ? sizeof(*f) : MC_SMALL_FOLIO_SIZE);
	f->flags.f = mc_pfn_flags(m, p) & MC_PFN_FLAGS_MASK;
#if LAST_CPUPID_WIDTH > 0
	f->flags.f |= LAST_CPUPID_MASK << LAST_CPUPID_PGSHIFT;	/* no CPU/PID yet */
#endif
	INIT_LIST_HEAD(&f->lru, desc_va + offsetof(struct folio, lru));
	f->_mapcount.counter = -1;
	f->_order = (u8)order;
	f->pfn = mc_page_to_pfn(m, p);
	if (order) {
		f->_large_mapcount.counter = -1;
		f->_entire_mapcount.counter = -1;
#if defined(CONFIG_MM_ID)
		f->_mm_id_mapcount[0] = -1;
		f->_mm_id_mapcount[1] = -1;
#endif
		INIT_LIST_HEAD(&f->_deferred_list, desc_va + offsetof(struct folio, _deferred_list));
	}
	for (i = 0; i < nr; i++) {
		mc_set_memdesc(p + i, anon ? MEMDESC_TYPE_ANON : MEMDESC_TYPE_FILE, desc_va);
		mc_page_set_block_order(m, p + i, order);
	}
	return f;
}

/* Is `va` still the descriptor of the folio its pfn field names?  (A
 * freed descriptor's memory may be free, reused, or no slab at all.) */
static inline int mc_folio_desc_live(const struct mc_machine *m, mc_ulong va)
{
	const struct folio *f;
	if (va % MEMDESC_ALIGN || !mc_addr_in_direct_map(m, va, MC_SMALL_FOLIO_SIZE))
		return 0;
	f = mc_va_to_folio(m, va);
	if (f->pfn >= m->nr_pfns || (m->pfn_marks[f->pfn] & MC_PFN_NOMAP))
		return 0;
	return mc_memdesc_is_folio(mc_pfn_to_page(m, f->pfn)) &&
	       mc_memdesc_desc_va(mc_pfn_to_page(m, f->pfn)) == va;
}

/* An allocated object of descriptor cache `ci` must be the descriptor of
 * the pages it names, all of them: why not, or NULL. */
static inline const char *mc_desc_bad_reason(const struct mc_machine *m, int ci, mc_ulong va)
{
	uint64_t pfn, i, nr;
	unsigned int type;
	if (ci == MC_DESC_SLAB) {
		const struct slab *sl = (const struct slab *)mc_host(m, va);
		pfn = sl->pfn;
		nr = 1ULL << sl->order;
		type = MEMDESC_TYPE_SLAB;
	} else if (ci == MC_DESC_PTDESC) {
		const struct ptdesc *pt = mc_va_to_ptdesc(m, va);
		pfn = pt->pfn;
		nr = 1ULL << pt->order;
		type = MEMDESC_TYPE_PAGETABLE;
	} else {
		const struct folio *f = (const struct folio *)mc_host(m, va);
		pfn = f->pfn;
		nr = 1ULL << f->_order;
		if ((ci == MC_DESC_FOLIO_LARGE) != (f->_order != 0))
			return "a folio of this order belongs in the other folio cache";
		type = MC_MEMDESC_NO_TYPE;
	}
	if (pfn >= m->nr_pfns || nr > m->nr_pfns - pfn)
		return "names pages outside the memory map";
	for (i = 0; i < nr; i++) {
		const struct page *p = mc_pfn_to_page(m, pfn + i);
		if (type == MEMDESC_TYPE_SLAB && (m->pfn_marks[pfn + i] & MC_PFN_SLAB_FOLIO) &&
		    mc_memdesc_is_folio(p) &&
		    (mc_ulong)mc_va_to_folio(m, mc_memdesc_desc_va(p))->private == va)
			continue;		/* lent to the page cache (S8) */
		if (mc_memdesc_desc_va(p) != va ||
		    (type != MC_MEMDESC_NO_TYPE ? mc_memdesc_type(p) != type : !mc_memdesc_is_folio(p)))
			return "a page it names does not point back at it (leaked descriptor)";
	}
	return NULL;
}

/* The PFN whose state the flags word at `va` holds: a struct page's, or the
 * first page of the live folio whose descriptor starts there; else -1. */
static inline int64_t mc_flags_word_pfn(const struct mc_machine *m, mc_ulong va)
{
	if (mc_va_is_page(m, va))
		return (int64_t)mc_page_to_pfn(m, mc_va_to_page(m, va));
	if (mc_folio_desc_live(m, va - offsetof(struct folio, flags)))
		return (int64_t)mc_va_to_folio(m, va - offsetof(struct folio, flags))->pfn;
	return -1;
}

/*
 * Which word of a live descriptor the API may write (PgFlags, Machine.write):
 * a folio's flags, mapping, index, private, counters and memcg, as a
 * debugger could (tests inject bad state this way; the checks find it);
 * not the words the model follows: where the pages are (pfn, order) and
 * the list links; of a slab descriptor, only its flags and counters (as
 * classic lets a struct slab in the memmap be written).
 */
static inline const char *mc_desc_word_unwritable(const struct mc_machine *m, int ci, size_t off)
{
	(void)m;
	if (ci == MC_DESC_SLAB) {
		if (off == offsetof(struct slab, flags) || off == offsetof(struct slab, counters))
			return NULL;
		return "a slab descriptor word SLUB follows (lists, freelist, cache, pages)";
	}
	if (ci == MC_DESC_PTDESC) {
		if (off == offsetof(struct ptdesc, pt_flags))
			return NULL;
		return "a ptdesc word the model follows (its pages, its reference, its list)";
	}
	if (off / sizeof(mc_ulong) == offsetof(struct folio, _order) / sizeof(mc_ulong) ||
	    off == offsetof(struct folio, pfn))
		return "where the folio's pages are (pfn, order) is a word the model follows";
	if (off == offsetof(struct folio, private))
		return "folio->private holds a slab-backed folio's slab (S8), which the model follows";
	if ((off >= offsetof(struct folio, lru) &&
	     off < offsetof(struct folio, lru) + sizeof(struct list_head)) ||
	    (off >= offsetof(struct folio, _deferred_list) &&
	     off < offsetof(struct folio, _deferred_list) + sizeof(struct list_head)))
		return "a list link of the folio";
	return NULL;
}

/* The page's memdesc word, for Page.memdesc (1: the design has one). */
static inline int mc_page_memdesc(const struct mc_machine *m, const struct page *p, mc_ulong *word)
{
	(void)m;
	*word = mc_memdesc_word(p);
	return 1;
}

/* ---- slabs --------------------------------------------------------------- */

static inline struct slab *mc_va_to_slab(const struct mc_machine *m, mc_ulong va)
{
	return (struct slab *)mc_host(m, va);
}

static inline mc_ulong mc_slab_va(const struct mc_machine *m, const struct slab *sl)
{
	return mc_virt(m, sl);
}

static inline struct page *slab_page(const struct mc_machine *m, struct slab *sl)
{
	return mc_pfn_to_page(m, sl->pfn);
}

/* The slab a page points at (the caller checked PageSlab). */
static inline struct slab *page_slab(const struct mc_machine *m, struct page *p)
{
	return mc_va_to_slab(m, mc_memdesc_desc_va(p));
}

/* A slab is no folio once descriptors are separate. */
static inline struct folio *slab_folio(const struct mc_machine *m, struct slab *sl)
{
	(void)m;
	(void)sl;
	return NULL;
}

static inline uint64_t slab_pfn(const struct mc_machine *m, const struct slab *sl)
{
	(void)m;
	return sl->pfn;
}

static inline unsigned int slab_order(const struct slab *sl)
{
	return (unsigned int)sl->order;
}

static inline int slab_nid(const struct slab *sl)
{
	return (int)((sl->flags.f >> NODES_PGSHIFT) & NODES_MASK);
}

/* allocate_slab(): the descriptor's pfn, order and pfn_flags(); every page
 * points at it.  `build`: where to build it when the slab will hold it. */
static inline struct slab *mc_slab_attach(const struct mc_machine *m, struct page *p,
					  unsigned int order, mc_ulong desc_va, struct slab *build)
{
	struct slab *sl = build ? build : mc_va_to_slab(m, desc_va);
	unsigned long i, nr = 1UL << order;
	memset(sl, 0, sizeof(*sl));
	sl->flags.f = mc_pfn_flags(m, p) & MC_PFN_FLAGS_MASK;
#if LAST_CPUPID_WIDTH > 0
	sl->flags.f |= LAST_CPUPID_MASK << LAST_CPUPID_PGSHIFT;	/* as a freed page's: reset */
#endif
	sl->pfn = mc_page_to_pfn(m, p);
	sl->order = order;
	for (i = 0; i < nr; i++) {
		mc_set_memdesc(p + i, MEMDESC_TYPE_SLAB, desc_va);
		mc_page_set_block_order(m, p + i, order);
	}
	return sl;
}

/* __free_slab(): the descriptor to give back to slab_desc, or 0 when the
 * slab holds its own (it goes with the pages).  The free path resets the
 * pages' memdesc words. */
static inline mc_ulong mc_slab_detach(const struct mc_machine *m, struct slab *sl)
{
	mc_ulong va = mc_slab_va(m, sl);
	uint64_t pa = mc_virt_to_phys(m, va);
	sl->slab_cache = 0;
	if (pa >> PAGE_SHIFT >= sl->pfn && pa >> PAGE_SHIFT < sl->pfn + (1UL << sl->order))
		return 0;
	return va;
}

/* ---- S8: a slab lends one of its pages to the page cache ------------------
 *
 * The page's memdesc is re-pointed at a new order-0 folio, and the slab is
 * stashed in the folio (folio->private: the API may not write it here) so
 * that the folio's last put returns the page to the slab; the model marks
 * the PFN (MC_PFN_SLAB_FOLIO) so that nothing else reads private as a slab.
 */
#define MC_FOLIO_SLABS		1

static inline struct slab *mc_folio_backing_slab(const struct mc_machine *m, const struct folio *f)
{
	if (!(m->pfn_marks[f->pfn] & MC_PFN_SLAB_FOLIO))
		return NULL;
	return mc_va_to_slab(m, (mc_ulong)f->private);
}

static inline void mc_folio_lend_from_slab(struct mc_machine *m, struct folio *f, struct slab *sl)
{
	f->private = mc_virt(m, sl);
	m->pfn_marks[f->pfn] |= MC_PFN_SLAB_FOLIO;
}

/* folio_put() of a lent folio: the page points at its slab again. */
static inline void mc_folio_return_to_slab(struct mc_machine *m, struct folio *f, struct slab *sl)
{
	m->pfn_marks[f->pfn] &= (unsigned char)~MC_PFN_SLAB_FOLIO;
	mc_set_memdesc(mc_pfn_to_page(m, f->pfn), MEMDESC_TYPE_SLAB, mc_virt(m, sl));
	mc_page_set_block_order(m, mc_pfn_to_page(m, f->pfn), (unsigned int)sl->order);
	f->private = 0;
}

/* Is `va` still the descriptor of a live slab: do its pages point at it
 * (or, lent to the page cache, keep it as their folio's slab)?  Checked
 * before anything follows it (a Slab view may outlive the slab). */
static inline int mc_slab_desc_live(const struct mc_machine *m, mc_ulong va)
{
	const struct slab *sl;
	uint64_t i, nr;
	if (va % MEMDESC_ALIGN || !mc_addr_in_direct_map(m, va, sizeof(struct slab)))
		return 0;
	sl = mc_va_to_slab(m, va);
	if (sl->order > MAX_PAGE_ORDER || sl->pfn >= m->nr_pfns ||
	    (nr = 1ULL << sl->order) > m->nr_pfns - sl->pfn)
		return 0;
	for (i = 0; i < nr; i++) {
		struct page *p = mc_pfn_to_page(m, sl->pfn + i);
		if ((m->pfn_marks[sl->pfn + i] & MC_PFN_SLAB_FOLIO) && mc_memdesc_is_folio(p) &&
		    (mc_ulong)page_folio(m, p)->private == va)
			continue;
		return mc_memdesc_type(p) == MEMDESC_TYPE_SLAB && mc_memdesc_desc_va(p) == va;
	}
	return 1;			/* every page is lent to the page cache */
}

/* ---- a page's words that are its folio's ---------------------------------- */

static inline mc_ulong mc_page_mapping_word(const struct mc_machine *m, const struct page *p)
{
	const struct folio *f = page_folio(m, (struct page *)p);
	return f ? f->mapping : 0;
}

static inline mc_ulong mc_page_memcg_data(const struct mc_machine *m, const struct page *p)
{
	const struct folio *f = page_folio(m, (struct page *)p);
	return f ? f->memcg_data : 0;
}

static inline int mc_page_dump_mapcount(const struct mc_machine *m, const struct page *p)
{
	const struct folio *f = page_folio(m, (struct page *)p);
	return f ? folio_mapcount(f) : 0;
}

/* ---- page types: what 6.18's page_type would say ---------------------------
 * The design derives the PGTY_* of a page from its memdesc (mc_page_type(),
 * defined after this header); these answer from it. */

static inline int mc_page_type(const struct mc_machine *m, const struct page *p);

/* The PGTY_* of an allocated page, from its memdesc alone; -1 for none (the
 * design answers for free memory). */
static inline int mc_memdesc_page_type(const struct page *p)
{
	switch (mc_memdesc_type(p)) {
	case MEMDESC_TYPE_SLAB:
		return PGTY_slab;
	case MEMDESC_TYPE_PAGETABLE:
		return PGTY_table;
	case MEMDESC_TYPE_MISC:
		switch (mc_misc_subtype(p)) {
		case MEMDESC_MISC_KMALLOC_LARGE:
			return PGTY_large_kmalloc;
		case MEMDESC_MISC_OFFLINE:
			return PGTY_offline;
		case MEMDESC_MISC_GUARD:
			return PGTY_guard;
		}
	}
	return -1;
}

static inline int page_type_has_type(unsigned int page_type)
{
	return (int)page_type < (int)((unsigned int)PGTY_mapcount_underflow << PAGE_TYPE_SHIFT);
}

static inline int page_has_type(const struct mc_machine *m, const struct page *p)
{
	return mc_page_type(m, p) >= 0;
}

static inline int page_type_is(const struct mc_machine *m, const struct page *p, enum pagetype t)
{
	return mc_page_type(m, p) == (int)t;
}

/* The page_type word 6.18 would hold (no such word here). */
static inline unsigned int mc_page_type_word(const struct mc_machine *m, const struct page *p)
{
	int t = mc_page_type(m, p);
	return t < 0 ? PAGE_TYPE_NONE : (unsigned int)t << PAGE_TYPE_SHIFT;
}

/* ---- what Machine.check() and the free path ask of a block ----------------- */

/*
 * The memdesc word every page of the allocated block at `head` (order
 * `order`) must hold, in *expect; why the block's descriptor does not name
 * this PFN and order, or NULL.  A page a slab lent to the page cache (S8)
 * that heads the slab's block expects the slab.
 */
static inline const char *mc_block_memdesc_bad_reason(const struct mc_machine *m,
						      struct page *head, unsigned int order,
						      mc_ulong *expect)
{
	uint64_t pfn = mc_page_to_pfn(m, head), first;
	unsigned int type, o;
	mc_ulong va;
	*expect = mc_memdesc_word(head);
	if (m->pfn_marks[pfn] & MC_PFN_SLAB_FOLIO)
		*expect = (mc_ulong)page_folio(m, head)->private | MEMDESC_TYPE_SLAB;
	type = (unsigned int)(*expect & MEMDESC_TYPE_MASK);
	va = *expect & ~(mc_ulong)MEMDESC_TYPE_MASK;
	if (type != MEMDESC_TYPE_FILE && type != MEMDESC_TYPE_ANON && type != MEMDESC_TYPE_SLAB &&
	    type != MEMDESC_TYPE_PAGETABLE)
		return NULL;
	if (va % MEMDESC_ALIGN || !mc_addr_in_direct_map(m, va, MC_SMALL_FOLIO_SIZE))
		return "memdesc points outside the direct map";
	if (type == MEMDESC_TYPE_SLAB) {
		first = mc_va_to_slab(m, va)->pfn;
		o = (unsigned int)mc_va_to_slab(m, va)->order;
	} else if (type == MEMDESC_TYPE_PAGETABLE) {
		first = mc_va_to_ptdesc(m, va)->pfn;
		o = (unsigned int)mc_va_to_ptdesc(m, va)->order;
	} else {
		first = mc_va_to_folio(m, va)->pfn;
		o = mc_va_to_folio(m, va)->_order;
	}
	if (first != pfn || o != order)
		return "descriptor does not name this page and order";
	return NULL;
}

/* Does page t of a block hold the block's memdesc `expect` (or, lent to the
 * page cache, a folio whose slab is the block's)? */
static inline const char *mc_block_page_memdesc_bad_reason(const struct mc_machine *m,
							   struct page *t, mc_ulong expect)
{
	int lent = (m->pfn_marks[mc_page_to_pfn(m, t)] & MC_PFN_SLAB_FOLIO) != 0;
	if (mc_memdesc_word(t) != expect &&
	    !(lent && ((mc_ulong)page_folio(m, t)->private | MEMDESC_TYPE_SLAB) == expect))
		return "page's memdesc differs from its block's";
	return NULL;
}

/* What the design asks of page t of an allocated block beyond its memdesc
 * (its own refcount, flags, order): defined by the design after this header. */
static inline const char *mc_block_page_bad_reason(const struct mc_machine *m, struct page *t,
						   unsigned int order, int first, int lent);

/* prep_compound_page(): nothing; the descriptor's attach did the pages. */
static inline void prep_compound_page(const struct mc_machine *m, struct page *p,
				      unsigned int order)
{
	(void)m; (void)p; (void)order;
}

/*
 * What an allocated block must look like (Machine.check()): every page
 * points at the descriptor (or carries the Misc memdesc), the descriptor
 * names this PFN and order, and each page passes the design's own test
 * (mc_block_page_bad_reason()).
 */
static inline const char *mc_compound_bad_reason(const struct mc_machine *m, struct page *head,
						 unsigned int order, unsigned long *bad)
{
	unsigned long i, nr = 1UL << order;
	uint64_t pfn = mc_page_to_pfn(m, head);
	mc_ulong expect;
	const char *why = mc_block_memdesc_bad_reason(m, head, order, &expect);
	*bad = 0;
	if (why)
		return why;
	for (i = 0; i < nr; i++) {
		struct page *t = head + i;
		int lent = (m->pfn_marks[pfn + i] & MC_PFN_SLAB_FOLIO) != 0;
		*bad = i;
		if ((why = mc_block_page_memdesc_bad_reason(m, t, expect)) ||
		    (why = mc_block_page_bad_reason(m, t, order, i == 0, lent)))
			return why;
	}
	return NULL;
}

/* Why the API may not write the memmap word at `va` whatever the design:
 * past RAM, or in a section with no memmap; else NULL and *in, the
 * word's offset in its struct page. */
static inline const char *mc_memmap_pfn_unwritable(const struct mc_machine *m, mc_ulong va,
						   size_t *in)
{
	mc_ulong off = va - m->memmap_va;
	uint64_t pfn = off / sizeof(struct page);
	*in = off % sizeof(struct page);
	if (pfn >= m->nr_pfns)
		return "it is the memmap past the end of RAM";
	if (mc_pfn_mark_test(m, pfn, MC_PFN_NOMAP))
		return "it is in a memory section with no RAM, which has no memmap";
	return NULL;
}

/* free_tail_page_prepare(): every page of a block carries the head's memdesc. */
static inline const char *free_tail_page_bad_reason(const struct mc_machine *m,
						    struct page *head, struct page *p)
{
	(void)m;
	if (mc_memdesc_word(p) != mc_memdesc_word(head))
		return "memdesc not consistent";
	return NULL;
}

/* free_page_is_bad() of a folio page, judged by its folio: its counts,
 * mapping, flags and memcg (the page's own words are the design's). */
static inline const char *mc_folio_bad_reason(const struct folio *f, mc_ulong flags,
					      int expected_ref, int head_reset)
{
	const char *bad = NULL;
	if (f->_mapcount.counter != -1)
		bad = "nonzero mapcount";
	if (f->mapping != 0 && !(head_reset && (f->mapping & 1)))
		bad = "non-NULL mapping";
	if (f->_refcount.counter != expected_ref)
		bad = "nonzero _refcount";
	if (f->flags.f & flags & PAGEFLAGS_MASK)
		bad = "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
#if defined(CONFIG_MEMCG)
	if (f->memcg_data != 0)
		bad = "page still charged to cgroup";
#endif
	return bad;
}

/* ---- page tables: struct ptdesc ---------------------------------------------
 * pagetable_alloc() + __pagetable_ctor(): the descriptor from the ptdesc
 * cache names the table's pages, every page points at it, and it holds the
 * table's reference (S7: the count a walker takes is the descriptor's). */

static inline struct ptdesc *mc_ptdesc_attach(const struct mc_machine *m, struct page *p,
					      unsigned int order, mc_ulong desc_va)
{
	struct ptdesc *pt = mc_va_to_ptdesc(m, desc_va);
	unsigned long i, nr = 1UL << order;
	mc_ulong links = mc_pfn_flags(m, p) & MC_PFN_FLAGS_MASK;	/* before the memset: p may
									 * point at pt (a re-attach) */
	memset(pt, 0, sizeof(*pt));
	pt->pt_flags.f = links;
	INIT_LIST_HEAD(&pt->pt_list, desc_va + offsetof(struct ptdesc, pt_list));
	pt->pfn = mc_page_to_pfn(m, p);
	pt->order = order;
	pt->_refcount.counter = 1;		/* alloc_pages(): set_page_refcounted() */
	for (i = 0; i < nr; i++) {
		mc_set_memdesc(p + i, MEMDESC_TYPE_PAGETABLE, desc_va);
		mc_page_set_block_order(m, p + i, order);
	}
	return pt;
}

/* pagetable_dtor() + the put of pagetable_free(): the descriptor to give back
 * to the ptdesc cache after the pages (the free path resets their memdescs). */
static inline mc_ulong mc_ptdesc_detach(const struct mc_machine *m, struct page *p)
{
	mc_ulong va = mc_memdesc_desc_va(p);
	mc_va_to_ptdesc(m, va)->_refcount.counter = 0;
	return va;
}

/* ---- large kmalloc and other Misc memory ---------------------------------- */

static inline void mc_kmalloc_large_attach(const struct mc_machine *m, struct page *p,
					   unsigned int order)
{
	unsigned long i, nr = 1UL << order;
	for (i = 0; i < nr; i++) {
		mc_set_misc_memdesc(m, p + i, MEMDESC_MISC_KMALLOC_LARGE, order);
		mc_page_set_block_order(m, p + i, order);
	}
}

static inline void mc_kmalloc_large_detach(const struct mc_machine *m, struct page *p)
{
	(void)m;
	(void)p;		/* the free path resets the memdesc words */
}

/* A block from alloc_pages() that is no folio: Misc "driver" memory. */
static inline void mc_misc_attach(const struct mc_machine *m, struct page *p, unsigned int order)
{
	unsigned long i, nr = 1UL << order;
	for (i = 0; i < nr; i++) {
		mc_set_misc_memdesc(m, p + i, MEMDESC_MISC_DRIVER, order);
		mc_page_set_block_order(m, p + i, order);
	}
}

/* ---- the allocation a page belongs to ------------------------------------- */

/* The first PFN and order of the folio, slab or Misc block p is in; 0 if p
 * is in none (free, or Misc of order 0). */
static inline int mc_alloc_block(const struct mc_machine *m, const struct page *p,
				 uint64_t *first, unsigned int *order)
{
	unsigned int t = mc_memdesc_type(p);
	uint64_t pfn = mc_page_to_pfn(m, p);
	if (t == MEMDESC_TYPE_FILE || t == MEMDESC_TYPE_ANON) {
		const struct folio *f = mc_va_to_folio(m, mc_memdesc_desc_va(p));
		*first = f->pfn;
		*order = f->_order;
		return 1;
	}
	if (t == MEMDESC_TYPE_SLAB) {
		const struct slab *sl = mc_va_to_slab(m, mc_memdesc_desc_va(p));
		*first = sl->pfn;
		*order = (unsigned int)sl->order;
		return 1;
	}
	if (t == MEMDESC_TYPE_PAGETABLE) {
		const struct ptdesc *pt = mc_va_to_ptdesc(m, mc_memdesc_desc_va(p));
		*first = pt->pfn;
		*order = (unsigned int)pt->order;
		return 1;
	}
	if (t == MEMDESC_TYPE_MISC && mc_misc_order(p)) {
		*order = mc_misc_order(p);
		*first = pfn & ~((1ULL << *order) - 1);
		return 1;
	}
	return 0;
}

/* The order of the allocation whose first page is p (0 if p heads none). */
static inline unsigned int mc_head_order(const struct mc_machine *m, struct page *p)
{
	uint64_t first, pfn = mc_page_to_pfn(m, p);
	unsigned int order;
	if (!mc_alloc_block(m, p, &first, &order) || first != pfn)
		return 0;
	if (m->pfn_marks[pfn] & MC_PFN_SLAB_FOLIO) {
		/* a lent page at the start of its slab heads the slab's block */
		const struct slab *sl = mc_va_to_slab(m, (mc_ulong)page_folio(m, p)->private);
		if (sl->pfn == pfn)
			return (unsigned int)sl->order;
	}
	return order;
}

/* "Head" and "tail": first and other pages of a block of order > 0. */
static inline int PageHead(const struct mc_machine *m, const struct page *p)
{
	return mc_head_order(m, (struct page *)p) != 0;
}

static inline int PageTail(const struct mc_machine *m, const struct page *p)
{
	uint64_t first;
	unsigned int order;
	return mc_alloc_block(m, p, &first, &order) && first != mc_page_to_pfn(m, p);
}

/* The page to ask for the allocation p is in: a folio's or a Misc block's
 * first page; for a slab page, p itself, since every page of a slab points
 * at the slab (and its first page may be lent to the page cache, S8). */
static inline struct page *mc_compound_head(const struct mc_machine *m, struct page *p)
{
	uint64_t first;
	unsigned int order;
	if (mc_memdesc_type(p) == MEMDESC_TYPE_SLAB)
		return p;
	if (mc_alloc_block(m, p, &first, &order))
		return mc_pfn_to_page(m, first);
	return p;
}

/* compound_head() of a typed page BUG()s (the plan, 2025): only folio pages
 * and free pages have an answer. */
static inline const char *mc_compound_head_bug(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	if (mc_memdesc_is_folio(p) || MC_MEMDESC_FREE_TYPE(mc_memdesc_type(p)))
		return NULL;
	return "compound_head() of a typed page: this design has no compound pages, only "
	       "descriptors (the memdesc plan: VM_BUG)";
}

/* The raw compound_head word a 6.18 page would hold: head + 1 on a tail. */
static inline mc_ulong mc_page_compound_word(const struct mc_machine *m, const struct page *p)
{
	struct page *head = mc_compound_head(m, (struct page *)p);
	return head == p ? 0 : mc_page_va(m, head) + 1;
}

/* nth_page(), and where a page is in its block (one memmap array). */
static inline struct page *nth_page(struct page *p, unsigned long n)
{
	return p + n;
}

static inline long mc_page_index_in(const struct page *head, const struct page *p)
{
	return (long)(p - head);
}

/*
 * The folio a PFN walker may try to take a reference on, or NULL: the
 * page's memdesc says whether it is a folio and which descriptor (S6); the
 * walker still takes a reference and re-checks that the page points at it.
 */
static inline struct folio *mc_walker_folio(const struct mc_machine *m, struct page *p)
{
	return page_folio(m, p);
}

#endif /* MEMCORE_MEMDESC_DESC_H */
