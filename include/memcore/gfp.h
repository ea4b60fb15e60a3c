/* SPDX-License-Identifier: MIT */
/*
 * memcore/gfp.h - the GFP bits the model interprets (include/linux/gfp_types.h,
 * Linux 6.x bit numbering) and the allocator's ALLOC_* flags (mm/internal.h).
 */
#ifndef MEMCORE_GFP_H
#define MEMCORE_GFP_H

#define __GFP_DMA		0x01u		/* ZONE_DMA */
#define __GFP_HIGHMEM		0x02u		/* may use ZONE_HIGHMEM */
#define __GFP_DMA32		0x04u		/* ZONE_DMA32 */
#define __GFP_MOVABLE		0x08u		/* MIGRATE_MOVABLE; with HIGHMEM: ZONE_MOVABLE */
#define __GFP_RECLAIMABLE	0x10u		/* MIGRATE_RECLAIMABLE */
#define __GFP_HIGH		0x20u		/* may dip into the min watermark reserve */
#define __GFP_IO		0x40u
#define __GFP_FS		0x80u
#define __GFP_ZERO		0x100u		/* zero the pages */
#define __GFP_DIRECT_RECLAIM	0x400u
#define __GFP_KSWAPD_RECLAIM	0x800u
#define __GFP_NOWARN		0x2000u
#define __GFP_COMP		0x40000u	/* compound page: head/tail metadata */
#define __GFP_HARDWALL		0x100000u
#define __GFP_THISNODE		0x200000u	/* no fallback to other nodes */
#define __GFP_ACCOUNT		0x400000u

#define __GFP_RECLAIM		(__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)
#define GFP_MOVABLE_MASK	(__GFP_RECLAIMABLE | __GFP_MOVABLE)
#define GFP_MOVABLE_SHIFT	3
#define GFP_ATOMIC		(__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_NOWAIT		(__GFP_KSWAPD_RECLAIM | __GFP_NOWARN)
#define GFP_KERNEL		(__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_USER		(__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)
#define GFP_HIGHUSER		(GFP_USER | __GFP_HIGHMEM)
#define GFP_HIGHUSER_MOVABLE	(GFP_HIGHUSER | __GFP_MOVABLE)

/* what the slab allocator passes on to the page allocator (mm/internal.h, gfp.h;
 * only the bits the model knows) */
#define GFP_RECLAIM_MASK	(__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN)
#define GFP_CONSTRAINT_MASK	(__GFP_HARDWALL | __GFP_THISNODE)
#define GFP_SLAB_BUG_MASK	(__GFP_DMA32 | __GFP_HIGHMEM)	/* kmalloc_fix_flags() strips */

/* mm/internal.h: how hard get_page_from_freelist may dig */
#define ALLOC_WMARK_MIN		WMARK_MIN
#define ALLOC_WMARK_LOW		WMARK_LOW
#define ALLOC_WMARK_HIGH	WMARK_HIGH
#define ALLOC_NO_WATERMARKS	0x04
#define ALLOC_WMARK_MASK	(ALLOC_NO_WATERMARKS - 1)
#define ALLOC_OOM		0x08
#define ALLOC_NON_BLOCK		0x10
#define ALLOC_MIN_RESERVE	0x20
#define ALLOC_CPUSET		0x40
#define ALLOC_CMA		0x80
#define ALLOC_NOFRAGMENT	0x100
#define ALLOC_HIGHATOMIC	0x200
#define ALLOC_KSWAPD		0x800
#define ALLOC_RESERVES		(ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM)

/* fpi_t: how a free reaches the buddy lists */
#define FPI_NONE		0
#define FPI_SKIP_REPORT_NOTIFY	(1 << 0)
#define FPI_TO_TAIL		(1 << 1)

#endif /* MEMCORE_GFP_H */
