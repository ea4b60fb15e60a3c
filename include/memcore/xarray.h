/* SPDX-License-Identifier: MIT */
/*
 * memcore/xarray.h - the page cache's index: struct xarray, struct xa_node
 * and struct address_space as Linux 6.18 lays out the parts the model uses
 * (include/linux/xarray.h, lib/radix-tree.h, include/linux/fs.h).
 *
 * Entries are modeled addresses (mc_ulong), tagged as the kernel tags its
 * pointers: a folio descriptor is 4-byte aligned (low bits 00); an internal
 * entry has low bits 10: a node (xa_mk_node(), an address above 4096), a
 * sibling (xa_mk_sibling(offset): the slot holds a part of the multi-index
 * entry at `offset`), or the retry entry a freed node's slot 0 holds.  The
 * algorithms (xas_load(), xas_store(), ...) are core/xarray.pxi.
 */
#ifndef MEMCORE_XARRAY_H
#define MEMCORE_XARRAY_H

#include <stddef.h>
#include <string.h>
#include "memcore/types.h"

#define XA_CHUNK_SHIFT		6		/* !CONFIG_BASE_SMALL */
#define XA_CHUNK_SIZE		(1UL << XA_CHUNK_SHIFT)
#define XA_CHUNK_MASK		(XA_CHUNK_SIZE - 1)
#define XA_MAX_MARKS		3
#define XA_MARK_LONGS		((XA_CHUNK_SIZE + MC_BITS - 1) / MC_BITS)

/* the radix_tree_node cache's objects (lib/radix-tree.c radix_tree_node_cachep) */
struct xa_node {
	unsigned char shift;			/* bits remaining in each slot */
	unsigned char offset;			/* slot offset in parent */
	unsigned char count;			/* total entry count */
	unsigned char nr_values;		/* value entry count */
	mc_ulong parent;			/* struct xa_node *: NULL at top of tree */
	mc_ulong array;				/* struct xarray *: the array it belongs to */
	union {
		struct list_head private_list;	/* for the tree's user (workingset) */
		struct callback_head rcu_head;	/* xa_node_free(): freeing after a GP */
	};
	mc_ulong slots[XA_CHUNK_SIZE];		/* entries (__rcu) */
	mc_ulong marks[XA_MAX_MARKS][XA_MARK_LONGS];	/* dirty/writeback/towrite: unused */
};

struct xarray {
	unsigned int xa_lock;			/* spinlock_t (the model runs one step at a time) */
	unsigned int xa_flags;			/* gfp_t: XA_FLAGS_* (none used) */
	mc_ulong xa_head;			/* the root entry (__rcu) */
};

/*
 * struct address_space: the members the page cache uses, in 6.18's order
 * (the kernel embeds it in struct inode; the model kmallocs it).
 */
struct address_space {
	mc_ulong host;				/* struct inode *: none in the model */
	struct xarray i_pages;			/* index -> folio */
	unsigned int gfp_mask;			/* for the folios it allocates */
	int i_mmap_writable;			/* atomic_t: unused */
	mc_ulong nrpages;			/* pages in the cache (a folio counts nr_pages) */
	mc_ulong writeback_index;		/* unused */
	mc_ulong flags;				/* AS_*: unused */
};

/* ---- entries (include/linux/xarray.h) ---- */
#define XA_INTERNAL(v)		(((mc_ulong)(v) << 2) | 2)
#define XA_RETRY_ENTRY		XA_INTERNAL(256)
#define XA_ZERO_ENTRY		XA_INTERNAL(257)
#define XA_RCU_FREE		((mc_ulong)1)	/* xa_node.array of a node waiting for RCU */

static inline int xa_is_internal(mc_ulong e)	{ return (e & 3) == 2; }
static inline int xa_is_value(mc_ulong e)	{ return e & 1; }
static inline int xa_is_node(mc_ulong e)	{ return xa_is_internal(e) && e > 4096; }
static inline mc_ulong xa_mk_node(mc_ulong va)	{ return va | 2; }
static inline mc_ulong xa_to_node(mc_ulong e)	{ return e - 2; }
static inline mc_ulong xa_mk_sibling(unsigned int offset) { return XA_INTERNAL(offset); }
static inline unsigned int xa_to_sibling(mc_ulong e) { return (unsigned int)(e >> 2); }
static inline int xa_is_sibling(mc_ulong e)
{
	return xa_is_internal(e) && e < XA_INTERNAL(XA_CHUNK_SIZE - 1);
}
static inline int xa_is_retry(mc_ulong e)	{ return e == XA_RETRY_ENTRY; }
static inline int xa_is_zero(mc_ulong e)	{ return e == XA_ZERO_ENTRY; }

/* radix_tree_node_ctor(): a new slab's nodes are zero, private_list empty */
static inline void mc_xa_node_ctor(struct xa_node *node, mc_ulong va)
{
	memset(node, 0, sizeof(*node));
	node->private_list.next = node->private_list.prev =
		va + offsetof(struct xa_node, private_list);
}

/* radix_tree_node_rcu_free() before kmem_cache_free(): back to the ctor's state */
static inline void mc_xa_node_rcu_clear(struct xa_node *node, mc_ulong va)
{
	memset(node->slots, 0, sizeof(node->slots));
	memset(node->marks, 0, sizeof(node->marks));
	node->private_list.next = node->private_list.prev =
		va + offsetof(struct xa_node, private_list);
}

#endif /* MEMCORE_XARRAY_H */
