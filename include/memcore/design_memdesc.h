/* SPDX-License-Identifier: MIT */
/*
 * memcore/design_memdesc.h - accessors of the memdesc design: the plan's
 * end goal, struct page { memdesc_t memdesc; } (8 bytes, 4 on 32-bit,
 * memcore/design_memdesc_types.h), with separately allocated folio and
 * slab descriptors (memcore/memdesc_desc.h).
 *
 * A page has nothing but its memdesc.  Its node, zone and section are read
 * from the memdesc when it is inline (Misc, Buddy: the fields sit where
 * memdesc_flags_t keeps them) and from the descriptor's flags word
 * otherwise (S4); a page's "flags" are its descriptor's, and an inline page
 * has none but those links (and Misc "reserved", 6.18's PG_reserved).  A
 * free block's order is in its Buddy memdesc.  The rest - free memory,
 * refcounts, types - is memcore/memdesc_page.h's.
 */
#ifndef MEMCORE_DESIGN_MEMDESC_H
#define MEMCORE_DESIGN_MEMDESC_H

#include <stddef.h>
#include <string.h>

#include "memcore/mmzone.h"
#include "memcore/bitops.h"
#include "memcore/machine.h"

#define MC_DESIGN_NAME		"memdesc"

/* ---- what memdesc_desc.h needs of the page ------------------------------- */

#define MC_PAGE_MEMDESC(p)		((p)->memdesc)
#define MC_MEMDESC_FREE_TYPE(t)		((t) == MEMDESC_TYPE_BUDDY)

/* The flags word that describes the page: its descriptor's first word (S4),
 * or the inline memdesc itself; NULL for a type the model never creates. */
static inline const mc_ulong *mc_page_flags_word(const struct mc_machine *m, const struct page *p)
{
	mc_ulong w = p->memdesc.v, va = w & ~(mc_ulong)MEMDESC_TYPE_MASK;
	switch ((unsigned int)(w & MEMDESC_TYPE_MASK)) {
	case MEMDESC_TYPE_MISC:
	case MEMDESC_TYPE_BUDDY:
		return &p->memdesc.v;
	case MEMDESC_TYPE_FILE:
	case MEMDESC_TYPE_ANON:
	case MEMDESC_TYPE_SLAB:
	case MEMDESC_TYPE_PAGETABLE:
		return (const mc_ulong *)mc_host(m, va);	/* flags is every descriptor's first word */
	}
	return NULL;
}

static inline mc_ulong mc_pfn_flags(const struct mc_machine *m, const struct page *p)
{
	const mc_ulong *w = mc_page_flags_word(m, p);
	return w ? *w : 0;	/* callers take the link fields */
}

/* A block's order is its descriptor's (or the inline memdesc's) alone. */
static inline void mc_page_set_block_order(const struct mc_machine *m, struct page *p,
					   unsigned int order)
{
	(void)m; (void)p; (void)order;
}

#include "memcore/memdesc_desc.h"

/* ---- node, zone, section -------------------------------------------------- */

static inline int page_zonenum(const struct mc_machine *m, const struct page *p)
{
	return (int)((mc_pfn_flags(m, p) >> ZONES_PGSHIFT) & ZONES_MASK);
}

static inline int page_to_nid(const struct mc_machine *m, const struct page *p)
{
	return (int)((mc_pfn_flags(m, p) >> NODES_PGSHIFT) & NODES_MASK);
}

static inline unsigned long page_to_section(const struct mc_machine *m, const struct page *p)
{
	return (unsigned long)((mc_pfn_flags(m, p) >> SECTIONS_PGSHIFT) & SECTIONS_MASK);
}

static inline mc_ulong page_zone_id(const struct mc_machine *m, const struct page *p)
{
	return mc_pfn_flags(m, p) & ((ZONES_MASK << ZONES_PGSHIFT) | (NODES_MASK << NODES_PGSHIFT));
}

/* The links of a pfn in memdesc_flags_t positions. */
static inline mc_ulong mc_links_of(int zone, int nid, unsigned long pfn)
{
	return (((mc_ulong)zone & ZONES_MASK) << ZONES_PGSHIFT) |
	       (((mc_ulong)nid & NODES_MASK) << NODES_PGSHIFT) |
	       (((mc_ulong)(pfn >> (MC_SECTION_SIZE_BITS - PAGE_SHIFT)) & SECTIONS_MASK)
		<< SECTIONS_PGSHIFT);
}

/* set_page_links(): into the inline memdesc, or the descriptor's flags. */
static inline void set_page_links(const struct mc_machine *m, struct page *p, int zone, int nid,
				  unsigned long pfn)
{
	mc_ulong *w = (mc_ulong *)mc_page_flags_word(m, p);
	if (w)
		*w = (*w & ~MC_PFN_FLAGS_MASK) | mc_links_of(zone, nid, pfn);
}

static inline void page_cpupid_reset_last(const struct mc_machine *m, struct page *p)
{
	(void)m; (void)p;	/* a folio's last CPU/PID is in its descriptor's flags */
}

/* ---- what memdesc_page.h needs of the page -------------------------------- */

#define MC_BUDDY_ORDER_INLINE	1	/* a free block's order: the Buddy memdesc */

static inline unsigned int mc_page_block_order(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return MC_MDF_GET(p->memdesc.v, ORDER);
}

static inline const char *mc_page_own_flags_bad(const struct mc_machine *m, const struct page *p,
						mc_ulong mask)
{
	(void)m; (void)p; (void)mask;
	return NULL;		/* no flags of its own */
}

static inline void mc_free_page_reset(const struct mc_machine *m, struct page *p)
{
	(void)m; (void)p;	/* nothing but the memdesc, which becomes Buddy */
}

#include "memcore/memdesc_page.h"

/* ---- the page's flags: its descriptor's --------------------------------- */

static inline mc_ulong mc_page_flags(const struct mc_machine *m, const struct page *p)
{
	const mc_ulong *w = mc_page_flags_word(m, p);
	if (!w)
		return 0;
	if (w == &p->memdesc.v)		/* inline: the links, and PG_reserved's meaning */
		return (*w & MC_PFN_FLAGS_MASK) |
#if LAST_CPUPID_WIDTH > 0
		       (LAST_CPUPID_MASK << LAST_CPUPID_PGSHIFT) |	/* page_cpupid_reset_last() */
#endif
		       (PageReserved(m, p) ? MC_BIT(PG_reserved) : 0);
	return *w;
}

/* A PgFlags view of a page's flags: its folio's flags word; 0 when the page
 * has no flags word of its own to show (inline, slab: see Page.memdesc). */
static inline mc_ulong mc_page_flags_va(const struct mc_machine *m, const struct page *p)
{
	const struct folio *f = page_folio(m, (struct page *)p);
	return f ? mc_folio_flags_va(m, f) : 0;
}

/* ---- memmap_init() of one page -------------------------------------------- */

static inline void mc_init_single_page(const struct mc_machine *m, struct page *p,
				       int zone, int nid, unsigned long pfn)
{
	(void)m;
	mc_set_memdesc(p, MEMDESC_TYPE_MISC,
		       MC_MDF_PUT(SUBTYPE, MEMDESC_MISC_NONE) | mc_links_of(zone, nid, pfn));
}

/* ---- which memmap words the API may write --------------------------------- */

static inline const char *mc_memmap_word_unwritable(const struct mc_machine *m, mc_ulong va)
{
	size_t in;
	const char *why = mc_memmap_pfn_unwritable(m, va, &in);
	if (why)
		return why;
	return "the memdesc word is what the model follows (the page's flags are its descriptor's)";
}

#endif /* MEMCORE_DESIGN_MEMDESC_H */
