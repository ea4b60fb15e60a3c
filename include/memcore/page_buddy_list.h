/* SPDX-License-Identifier: MIT */
/*
 * memcore/page_buddy_list.h - where a free block is linked, for the designs
 * whose struct page keeps 6.18's buddy_list (and pcp_list over it): classic
 * and interim.  The free lists hold modeled addresses of those list heads.
 * Included by a design header after its struct page is declared.
 */
#ifndef MEMCORE_PAGE_BUDDY_LIST_H
#define MEMCORE_PAGE_BUDDY_LIST_H

#include <stddef.h>

#include "memcore/machine.h"

static inline struct list_head *mc_buddy_link(const struct mc_machine *m, struct page *p)
{
	(void)m;
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

/* The list_head a free-list link names: a page's buddy_list or a list head,
 * both modeled addresses (memcore/free_list.h follows links with this). */
static inline struct list_head *mc_free_link(const struct mc_machine *m, mc_ulong link)
{
	return mc_list(m, link);
}

/* May a link read from a free list be followed (Machine.check())? */
static inline int mc_free_link_valid(const struct mc_machine *m, mc_ulong link)
{
	return mc_addr_valid(m, link, sizeof(struct list_head));
}

/* The links are in the memmap: free memory holds nothing of the allocator's. */
#define MC_BUDDY_LINKS_IN_BLOCK	0

static inline void mc_free_memory_read(const struct mc_machine *m, uint64_t pa, uint64_t len,
				       unsigned char *out)
{
	(void)m; (void)pa; (void)len; (void)out;
}

/* Free memory holds nothing the model follows here: the API may write it. */
static inline const char *mc_free_memory_unwritable(const struct mc_machine *m, uint64_t pfn)
{
	(void)m;
	(void)pfn;
	return NULL;
}

#endif /* MEMCORE_PAGE_BUDDY_LIST_H */
