/* SPDX-License-Identifier: MIT */
/*
 * memcore/free_list.h - the buddy allocator's and the pcp lists' lists of
 * free blocks (include/linux/list.h on the design's links).
 *
 * The heads are 6.18's: a struct list_head in a zone's free_area[] or a
 * per_cpu_pages, in modeled memory.  Where a block's own link is, and what
 * a link word holds, is the design's (memcore/design_<name>.h):
 *   mc_buddy_link(m, p)       host pointer to the link of the block at p
 *   mc_buddy_link_va(m, p)    the word a neighbour stores to name that link
 *   mc_buddy_link_page(m, w)  the block a link word names
 *   mc_free_link(m, w)        host pointer to the list_head a word names
 *                             (a block's link or a list head)
 * classic and interim: struct page's buddy_list, named by its address
 * (memcore/page_buddy_list.h); flags_memdesc and memdesc: a struct buddy in
 * the block's first bytes, named by its PFN (memcore/memdesc_page.h).
 */
#ifndef MEMCORE_FREE_LIST_H
#define MEMCORE_FREE_LIST_H

/* Put the block at p between two links (__list_add()). */
static inline void __free_list_add(const struct mc_machine *m, struct page *p,
				   mc_ulong prev, mc_ulong next)
{
	struct list_head *n = mc_buddy_link(m, p);
	mc_ulong w = mc_buddy_link_va(m, p);
	mc_free_link(m, next)->prev = w;
	n->next = next;
	n->prev = prev;
	mc_free_link(m, prev)->next = w;
}

/* list_add(): after the head (LIFO). */
static inline void free_list_add(const struct mc_machine *m, struct page *p,
				 struct list_head *h, mc_ulong h_va)
{
	__free_list_add(m, p, h_va, h->next);
}

/* list_add_tail(): before the head (FIFO). */
static inline void free_list_add_tail(const struct mc_machine *m, struct page *p,
				      struct list_head *h, mc_ulong h_va)
{
	__free_list_add(m, p, h->prev, h_va);
}

/* list_del(): unlink and poison, as the kernel does. */
static inline void free_list_del(const struct mc_machine *m, struct page *p)
{
	struct list_head *e = mc_buddy_link(m, p);
	mc_free_link(m, e->next)->prev = e->prev;
	mc_free_link(m, e->prev)->next = e->next;
	e->next = LIST_POISON1;
	e->prev = LIST_POISON2;
}

/* The link word after (next) or before (prev) the link word `w`. */
static inline mc_ulong free_list_next(const struct mc_machine *m, mc_ulong w)
{
	return mc_free_link(m, w)->next;
}

static inline mc_ulong free_list_prev(const struct mc_machine *m, mc_ulong w)
{
	return mc_free_link(m, w)->prev;
}

#endif /* MEMCORE_FREE_LIST_H */
