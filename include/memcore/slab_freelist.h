/* SPDX-License-Identifier: MIT */
/*
 * memcore/slab_freelist.h - freelist_aba_t (mm/slab.h, Linux 6.18): the
 * freelist pointer and the counters word of a slab, which SLUB swaps
 * together with one double-word cmpxchg.  Every design's struct slab holds
 * one, double-word aligned.
 */
#ifndef MEMCORE_SLAB_FREELIST_H
#define MEMCORE_SLAB_FREELIST_H

#include "memcore/types.h"

/* The double word SLUB swaps atomically: u128 on 64-bit, u64 on 32-bit. */
#if defined(CONFIG_64BIT)
typedef u128 freelist_full_t;
#else
typedef u64 freelist_full_t;
#endif

typedef union {
	struct {
		MC_PTR(void) freelist;	/* first free object */
		mc_ulong counter;	/* inuse/objects/frozen as one word */
	};
	freelist_full_t full;		/* both, for cmpxchg_double */
} freelist_aba_t;

#endif /* MEMCORE_SLAB_FREELIST_H */
