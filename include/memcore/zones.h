/* SPDX-License-Identifier: MIT */
/*
 * memcore/zones.h - the configuration-dependent facts about zones: their
 * names, where each zone ends on x86, and gfp_zone().
 */
#ifndef MEMCORE_ZONES_H
#define MEMCORE_ZONES_H

#include "memcore/machine.h"
#include "memcore/gfp.h"

/* zone_names[] of mm/page_alloc.c, by enum zone_type */
static const char *const mc_zone_names[MAX_NR_ZONES] = {
#if defined(CONFIG_ZONE_DMA)
	"DMA",
#endif
#if defined(CONFIG_ZONE_DMA32)
	"DMA32",
#endif
	"Normal",
#if defined(CONFIG_HIGHMEM)
	"HighMem",
#endif
	"Movable",
#if defined(CONFIG_ZONE_DEVICE)
	"Device",
#endif
};

/* Is the zone's memory outside the direct map (is_highmem_idx())? */
static inline int mc_zone_is_highmem(int zone_idx)
{
#if defined(CONFIG_HIGHMEM)
	return zone_idx == ZONE_HIGHMEM;
#else
	(void)zone_idx;
	return 0;
#endif
}

/*
 * The zone a boot-time PFN belongs to (x86 zone_sizes_init(): DMA below
 * 16 MiB, DMA32 below 4 GiB, on i386 NORMAL up to the end of lowmem and
 * HIGHMEM above).  ZONE_MOVABLE and ZONE_DEVICE start empty.
 */
static inline int mc_boot_zone_of(uint64_t pfn, uint64_t lowmem_pfns)
{
#if defined(CONFIG_ZONE_DMA)
	if (pfn < MAX_DMA_PFN)
		return ZONE_DMA;
#endif
#if defined(CONFIG_ZONE_DMA32)
	if (pfn < MAX_DMA32_PFN)
		return ZONE_DMA32;
#endif
#if defined(CONFIG_HIGHMEM)
	if (pfn >= lowmem_pfns)
		return ZONE_HIGHMEM;
#endif
	(void)lowmem_pfns;
	return ZONE_NORMAL;
}

static inline int mc_has_numa(void)
{
#if defined(CONFIG_NUMA)
	return 1;
#else
	return 0;
#endif
}

static inline int mc_has_dma32(void)
{
#if defined(CONFIG_ZONE_DMA32)
	return 1;
#else
	return 0;
#endif
}

/* gfp_zone(): the highest zone an allocation may use (GFP_ZONE_TABLE). */
static inline int gfp_zone(unsigned int gfp)
{
	if (gfp & __GFP_DMA)
		return ZONE_DMA;
#if defined(CONFIG_ZONE_DMA32)
	if (gfp & __GFP_DMA32)
		return ZONE_DMA32;
#else
	if (gfp & __GFP_DMA32)
		return ZONE_NORMAL;
#endif
	if ((gfp & (__GFP_HIGHMEM | __GFP_MOVABLE)) == (__GFP_HIGHMEM | __GFP_MOVABLE))
		return ZONE_MOVABLE;
#if defined(CONFIG_HIGHMEM)
	if (gfp & __GFP_HIGHMEM)
		return ZONE_HIGHMEM;
#endif
	return ZONE_NORMAL;
}

/* gfp_migratetype(): which free lists an allocation draws from. */
static inline int gfp_migratetype(unsigned int gfp)
{
	/* The kernel VM_WARNs when both bits are set and returns 3, which is no pcp
	 * type (the pcp lists and fallbacks[] have 3 rows).  The model refuses such
	 * gfp at its entry points (parse_gfp); here it can never index past them. */
	if ((gfp & GFP_MOVABLE_MASK) == GFP_MOVABLE_MASK)
		return MIGRATE_UNMOVABLE;
	return (int)((gfp & GFP_MOVABLE_MASK) >> GFP_MOVABLE_SHIFT);
}

#endif /* MEMCORE_ZONES_H */
