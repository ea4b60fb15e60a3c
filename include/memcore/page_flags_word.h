/* SPDX-License-Identifier: MIT */
/*
 * memcore/page_flags_word.h - the flags word of a struct page that keeps
 * one beside its memdesc (interim, flags_memdesc): node, zone and section
 * links (memdesc_flags_t, Linux 6.18 positions) and the page-level flags
 * (PG_reserved, PG_hwpoison); a folio's own flags are its descriptor's.
 * Included by a design header after its struct page is declared.
 */
#ifndef MEMCORE_PAGE_FLAGS_WORD_H
#define MEMCORE_PAGE_FLAGS_WORD_H

#include <stddef.h>
#include <string.h>

#include "memcore/bitops.h"
#include "memcore/machine.h"
#include "memcore/page_flags_layout.h"

static inline mc_ulong mc_page_flags(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return p->flags.f;
}

static inline mc_ulong mc_page_flags_va(const struct mc_machine *m, const struct page *p)
{
	return mc_page_va(m, p) + offsetof(struct page, flags);
}

static inline int page_zonenum(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return (int)((p->flags.f >> ZONES_PGSHIFT) & ZONES_MASK);
}

static inline int page_to_nid(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return (int)((p->flags.f >> NODES_PGSHIFT) & NODES_MASK);
}

static inline unsigned long page_to_section(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return (unsigned long)((p->flags.f >> SECTIONS_PGSHIFT) & SECTIONS_MASK);
}

static inline mc_ulong page_zone_id(const struct mc_machine *m, const struct page *p)
{
	(void)m;
	return p->flags.f & ((ZONES_MASK << ZONES_PGSHIFT) | (NODES_MASK << NODES_PGSHIFT));
}

static inline void set_page_links(const struct mc_machine *m, struct page *p, int zone, int nid,
				  unsigned long pfn)
{
	mc_ulong f = p->flags.f & ~MC_PFN_FLAGS_MASK;
	(void)m;
	f |= ((mc_ulong)zone & ZONES_MASK) << ZONES_PGSHIFT;
	f |= ((mc_ulong)nid & NODES_MASK) << NODES_PGSHIFT;
	f |= ((mc_ulong)(pfn >> (MC_SECTION_SIZE_BITS - PAGE_SHIFT)) & SECTIONS_MASK)
		<< SECTIONS_PGSHIFT;
	p->flags.f = f;
}

#if defined(LAST_CPUPID_NOT_IN_PAGE_FLAGS)
# error "memcore: this struct page has no _last_cpupid word"
#endif

static inline void page_cpupid_reset_last(const struct mc_machine *m, struct page *p)
{
	(void)m;
#if LAST_CPUPID_WIDTH > 0
	p->flags.f |= LAST_CPUPID_MASK << LAST_CPUPID_PGSHIFT;
#else
	(void)p;
#endif
}

#define PageReserved(m, p)	test_bit(PG_reserved, &(p)->flags.f)

/* Reserved memory is Misc memory, not free memory, whatever the page was
 * (Machine.from_snapshot reserves pages it takes from the buddy lists). */
static inline void __SetPageReserved(const struct mc_machine *m, struct page *p)
{
	__set_bit(PG_reserved, &p->flags.f);
	mc_set_misc_memdesc(m, p, MEMDESC_MISC_NONE, 0);
}

#define __ClearPageReserved(m, p) __clear_bit(PG_reserved, &(p)->flags.f)

/* ---- memmap_init() of one page -------------------------------------------- */

static inline void set_page_count(const struct mc_machine *m, struct page *p, int v);

static inline void mc_init_single_page(const struct mc_machine *m, struct page *p,
				       int zone, int nid, unsigned long pfn)
{
	memset(p, 0, sizeof(*p));
	set_page_links(m, p, zone, nid, pfn);
	set_page_count(m, p, 1);	/* where the page has a count (interim) */
	page_cpupid_reset_last(m, p);
	mc_set_misc_memdesc(m, p, MEMDESC_MISC_NONE, 0);
}

/* ---- which memmap words the API may write: the flags word, and the
 * design's MC_PAGE_WRITABLE_WORD (interim: _refcount); the memdesc word
 * and the order word are what the model follows ------------------------- */

static inline const char *mc_memmap_word_unwritable(const struct mc_machine *m, mc_ulong va)
{
	size_t in;
	const char *why = mc_memmap_pfn_unwritable(m, va, &in);
	if (why)
		return why;
	if (in == offsetof(struct page, flags))
		return NULL;
#if defined(MC_PAGE_WRITABLE_WORD)
	if (in == offsetof(struct page, MC_PAGE_WRITABLE_WORD))
		return NULL;
#endif
	return "the memdesc word (a free-list link on interim, and flags_memdesc's i386 order "
	       "word) is what the model follows";
}

#endif /* MEMCORE_PAGE_FLAGS_WORD_H */
