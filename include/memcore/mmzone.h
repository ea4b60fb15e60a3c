/* SPDX-License-Identifier: MIT */
/*
 * memcore/mmzone.h - zones, free areas and per-CPU page lists of the
 * modeled kernel (include/linux/mmzone.h in Linux 6.18).
 *
 * These objects live in modeled physical memory (allocated at boot by the
 * model's memblock), so their list heads have modeled addresses and every
 * free page's buddy_list/pcp_list links are real modeled pointers.  Names
 * and semantics follow the kernel; the member set is what the model runs
 * (it is not claimed to be the 6.18 byte layout of struct zone).
 */
#ifndef MEMCORE_MMZONE_H
#define MEMCORE_MMZONE_H

#include "memcore/types.h"
#include "memcore/page_flags_layout.h"

/* ---- orders -------------------------------------------------------------- */
#define MAX_PAGE_ORDER		10		/* x86: no ARCH_FORCE_MAX_ORDER */
#define NR_PAGE_ORDERS		(MAX_PAGE_ORDER + 1)
#define MAX_ORDER_NR_PAGES	(1 << MAX_PAGE_ORDER)
#define PAGE_ALLOC_COSTLY_ORDER	3
/* x86_64 and i386 PAE: PMD-sized huge pages are 2 MiB. */
#define HPAGE_PMD_ORDER		9
#define pageblock_order		HPAGE_PMD_ORDER	/* min(HUGETLB_PAGE_ORDER, MAX_PAGE_ORDER) */
#define pageblock_nr_pages	(1UL << pageblock_order)

#if (MAX_PAGE_ORDER + PAGE_SHIFT) > MC_SECTION_SIZE_BITS
#error "Allocator MAX_PAGE_ORDER exceeds SECTION_SIZE"
#endif

/* ---- enum zone_type ------------------------------------------------------ */
enum zone_type {
#if defined(CONFIG_ZONE_DMA)
	ZONE_DMA,		/* ISA DMA: below 16 MiB */
#endif
#if defined(CONFIG_ZONE_DMA32)
	ZONE_DMA32,		/* 32-bit DMA: below 4 GiB */
#endif
	ZONE_NORMAL,		/* directly mapped memory */
#if defined(CONFIG_HIGHMEM)
	ZONE_HIGHMEM,		/* i386: above the direct map (896 MiB) */
#endif
	ZONE_MOVABLE,		/* only movable allocations (kernelcore=) */
#if defined(CONFIG_ZONE_DEVICE)
	ZONE_DEVICE,		/* device memory (pmem, HMM) */
#endif
	__MAX_NR_ZONES
};
_Static_assert(__MAX_NR_ZONES == MAX_NR_ZONES, "page_flags_layout.h counts the zones");

/* ---- enum migratetype ---------------------------------------------------- */
enum migratetype {
	MIGRATE_UNMOVABLE,	/* kernel allocations that never move */
	MIGRATE_MOVABLE,	/* user pages, page cache: can be migrated */
	MIGRATE_RECLAIMABLE,	/* reclaimable slab and the like */
	MIGRATE_PCPTYPES,	/* the number of types on the pcp lists */
	MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,	/* reserve for high-order atomic allocations */
	__MIGRATE_TYPE_END = MIGRATE_HIGHATOMIC,	/* no CONFIG_CMA */
#if defined(CONFIG_MEMORY_ISOLATION)
	MIGRATE_ISOLATE,	/* can't allocate from here */
#endif
	MIGRATE_TYPES
};
#define MIGRATETYPE_MASK	0x7

/* Pageblock bits (enum pageblock_bits, include/linux/pageblock-flags.h):
 * bits 0-2 migratetype, 3 compaction skip, 4 isolated (MEMORY_ISOLATION);
 * __NR_PAGEBLOCK_BITS = 5 rounds up to NR_PAGEBLOCK_BITS = 8, one byte per
 * pageblock, so bits 5-7 are unused. */
#define PB_migrate_skip		3
#define PB_migrate_isolate	4
#define NR_PAGEBLOCK_BITS	8

/* ---- watermarks ---------------------------------------------------------- */
enum zone_watermarks {
	WMARK_MIN,		/* below: only atomic/reserve allocations */
	WMARK_LOW,		/* below: kswapd wakes (not modeled) */
	WMARK_HIGH,		/* kswapd's target */
	WMARK_PROMO,		/* NUMA tiering promotion target */
	NR_WMARK
};

/* ---- per-CPU page lists -------------------------------------------------- */
#define NR_LOWORDER_PCP_LISTS	(MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1))
#if defined(CONFIG_TRANSPARENT_HUGEPAGE)
#define NR_PCP_THP		2	/* PMD order: movable, and the rest */
#else
#define NR_PCP_THP		0
#endif
#define NR_PCP_LISTS		(NR_LOWORDER_PCP_LISTS + NR_PCP_THP)

#define PCPF_PREV_FREE_HIGH_ORDER	(1 << 0)	/* last free was order 1..3 */
#define PCPF_FREE_HIGH_BATCH		(1 << 1)	/* cache is large: free high-order in batches */

#define CONFIG_PCP_BATCH_SCALE_MAX	5	/* Kconfig default */
#define MIN_PERCPU_PAGELIST_HIGH_FRACTION 8

struct per_cpu_pages {
	spinlock_t lock;		/* protects lists */
	int count;			/* pages (not blocks) on all lists */
	int high;			/* current flush threshold, tuned in [high_min, high_max] */
	int high_min;			/* lowest high (from the low watermark) */
	int high_max;			/* highest high (managed / 8 / cpus) */
	int batch;			/* pages moved to/from the buddy at a time */
	u8 flags;			/* PCPF_* */
	u8 alloc_factor;		/* allocation batch scale, 0..PCP_BATCH_SCALE_MAX */
	u8 expire;			/* NUMA: remote drain countdown */
	short free_count;		/* pages freed in a row (decays on allocation) */
	/* model: this CPU's net change of the zone's NR_FREE_PAGES since its last
	 * vmstat tick, the kernel's per_cpu_zonestats vm_stat_diff (which the
	 * kernel keeps per zone and CPU beside the pageset, with thresholds) */
	int mc_free_diff;
	struct list_head lists[NR_PCP_LISTS];	/* one per (order, migratetype) */
};

/* ---- the buddy free lists ------------------------------------------------ */
struct free_area {
	struct list_head free_list[MIGRATE_TYPES];	/* free blocks of one order, by type */
	mc_ulong nr_free;				/* blocks of this order, all types */
};

enum zone_stat_item {
	NR_FREE_PAGES,		/* pages in the buddy free lists */
	NR_FREE_PAGES_BLOCKS,	/* free pages in blocks of >= pageblock_order */
	NR_ZONE_PCP_PAGES,	/* model: pages on this zone's pcp lists (all CPUs) */
	NR_VM_ZONE_STAT_ITEMS
};

/* zone->flags bits */
#define ZONE_BOOSTED_WATERMARK	0
#define ZONE_RECLAIM_ACTIVE	1
#define ZONE_BELOW_HIGH		2

struct zone {
	mc_ulong _watermark[NR_WMARK];		/* min, low, high, promo (pages) */
	mc_ulong watermark_boost;		/* temporary boost after fragmentation */
	mc_ulong nr_reserved_highatomic;	/* pages reserved for high-order atomic */
	mc_ulong nr_free_highatomic;		/* free pages on HIGHATOMIC lists */
	mc_long lowmem_reserve[MAX_NR_ZONES];	/* pages kept back from higher-zone allocations */
	int node;				/* NUMA node of the zone */
	MC_PTR(struct pglist_data) zone_pgdat;	/* the node's pglist_data */
	MC_PTR(struct per_cpu_pages) per_cpu_pageset;	/* array of nr_cpus pcp structs */
	int pageset_high_min;			/* pcp high_min for every CPU */
	int pageset_high_max;			/* pcp high_max for every CPU */
	int pageset_batch;			/* pcp batch for every CPU */
	MC_PTR(u8) pageblock_flags;		/* one byte per pageblock: migratetype etc. */
	mc_ulong zone_start_pfn;		/* first PFN spanned */
	mc_ulong managed_pages;			/* present pages the buddy allocator manages */
	mc_ulong spanned_pages;			/* PFNs spanned, holes included */
	mc_ulong present_pages;			/* PFNs with memory */
	int zone_idx;				/* enum zone_type of this zone */
	mc_ulong flags;				/* ZONE_* bits */
	struct free_area free_area[NR_PAGE_ORDERS];	/* the buddy free lists */
	mc_long vm_stat[NR_VM_ZONE_STAT_ITEMS];	/* zone counters */
};

struct pglist_data {
	struct zone node_zones[MAX_NR_ZONES];	/* this node's zones, by zone_type */
	int nr_zones;				/* highest populated zone index + 1 */
	mc_ulong node_start_pfn;		/* first PFN of the node */
	mc_ulong node_present_pages;		/* pages with memory */
	mc_ulong node_spanned_pages;		/* PFNs spanned */
	int node_id;				/* NUMA node id */
};

#endif /* MEMCORE_MMZONE_H */
