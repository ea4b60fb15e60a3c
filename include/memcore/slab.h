/* SPDX-License-Identifier: MIT */
/*
 * memcore/slab.h - struct slab as Linux 6.18 declares it in mm/slab.h.
 *
 * A slab overlays the struct page of its first page.  SLUB updates
 * freelist and counters together with one double-word cmpxchg, so the pair
 * is also visible as freelist_aba_t, and the inuse/objects/frozen bitfields
 * share the word with `counters`.
 */
#ifndef MEMCORE_SLAB_H
#define MEMCORE_SLAB_H

#include "memcore/mm_types.h"		/* struct page: a slab overlays it */
#include "memcore/slab_freelist.h"

struct slab {
	memdesc_flags_t flags;			/* page flags of the first page */
	MC_PTR(struct kmem_cache) slab_cache;	/* owning cache; bit 0 clear (not a tail) */
#include "memcore/slab_members.h"	/* slab_list .. freelist, counters .. rcu_head */
	unsigned int __page_type;		/* PGTY_slab in the top byte */
	atomic_t __page_refcount;		/* page refcount; slabs keep it at 1 */
#if defined(CONFIG_SLAB_OBJ_EXT)
	mc_ulong obj_exts;			/* per-object extension vector (memcg, profiling) */
#endif
};

#if !defined(MC_PARSE)
#define SLAB_MATCH(pg, sl) \
	_Static_assert(offsetof(struct page, pg) == offsetof(struct slab, sl), \
		       "slab." #sl " must overlay page." #pg)
SLAB_MATCH(flags, flags);
SLAB_MATCH(compound_head, slab_cache);	/* bit 0 of slab_cache stays clear */
SLAB_MATCH(_refcount, __page_refcount);
#if defined(CONFIG_MEMCG)
SLAB_MATCH(memcg_data, obj_exts);
#elif defined(CONFIG_SLAB_OBJ_EXT)
SLAB_MATCH(_unused_slab_obj_exts, obj_exts);
#endif
#undef SLAB_MATCH
_Static_assert(sizeof(struct slab) <= sizeof(struct page), "slab fits in a page");
_Static_assert(offsetof(struct slab, freelist) % sizeof(freelist_aba_t) == 0,
	       "freelist+counters must be double-word aligned for cmpxchg");
#endif /* !MC_PARSE */

#endif /* MEMCORE_SLAB_H */
