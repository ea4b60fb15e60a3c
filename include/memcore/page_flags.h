/* SPDX-License-Identifier: MIT */
/*
 * memcore/page_flags.h - enum pageflags and enum pagetype of Linux 6.18
 * (include/linux/page-flags.h), with the configuration conditions the
 * kernel puts on them.  The Python enums memcore.PG and memcore.PGTY are
 * read from these at import time.
 */
#ifndef MEMCORE_PAGE_FLAGS_H
#define MEMCORE_PAGE_FLAGS_H

#include "memcore/page_flags_layout.h"

enum pageflags {
	PG_locked,		/* folio lock: held during I/O and truncation */
	PG_writeback,		/* under writeback */
	PG_referenced,		/* recently accessed (LRU aging) */
	PG_uptodate,		/* contents are valid */
	PG_dirty,		/* must be written back */
	PG_lru,			/* on an LRU list */
	PG_head,		/* head of a compound page; must be bit 6 */
	PG_waiters,		/* tasks wait on this folio; bit 7, same byte as PG_locked */
	PG_active,		/* on the active LRU */
	PG_workingset,		/* part of a workingset (refault detection) */
	PG_owner_priv_1,	/* owner-defined; filesystems, swap cache */
	PG_owner_2,		/* owner-defined; anon exclusive, mappedtodisk */
	PG_arch_1,		/* architecture-defined (dcache clean on some) */
	PG_reserved,		/* reserved: never freed to the allocator */
	PG_private,		/* filesystem private data in ->private */
	PG_private_2,		/* filesystem auxiliary data (fscache) */
	PG_reclaim,		/* to be reclaimed as soon as writeback ends */
	PG_swapbacked,		/* backed by RAM or swap, not a file */
	PG_unevictable,		/* on the unevictable LRU */
	PG_dropbehind,		/* drop from the page cache after I/O */
#if defined(CONFIG_MMU)
	PG_mlocked,		/* mlocked into a VMA */
#endif
#if defined(CONFIG_MEMORY_FAILURE)
	PG_hwpoison,		/* hardware poisoned: do not touch */
#endif
#if defined(CONFIG_PAGE_IDLE_FLAG) && defined(CONFIG_64BIT)
	PG_young,		/* idle page tracking: accessed */
	PG_idle,		/* idle page tracking: idle */
#endif
#if defined(CONFIG_ARCH_USES_PG_ARCH_2)
	PG_arch_2,		/* architecture-defined */
#endif
#if defined(CONFIG_ARCH_USES_PG_ARCH_3)
	PG_arch_3,		/* architecture-defined */
#endif
	__NR_PAGEFLAGS,

	/* Aliases: the same bit, read by a different owner. */
	PG_readahead = PG_reclaim,		/* read-side use of PG_reclaim */
	PG_swapcache = PG_owner_priv_1,		/* anon folio in the swap cache */
	PG_checked = PG_owner_priv_1,		/* filesystem-defined check */
	PG_anon_exclusive = PG_owner_2,		/* anon page exclusive to one mm */
	PG_mappedtodisk = PG_owner_2,		/* has blocks allocated on disk */
	PG_fscache = PG_private_2,		/* cached by fscache */
	PG_pinned = PG_owner_priv_1,		/* Xen: pinned page table */
	PG_savepinned = PG_dirty,		/* Xen: saved pinned state */
	PG_foreign = PG_owner_priv_1,		/* Xen: foreign page */
	PG_xen_remapped = PG_owner_priv_1,	/* Xen: remapped page */
#if defined(CONFIG_MIGRATION)
	PG_movable_ops_isolated = PG_reclaim,	/* movable_ops page isolated */
	PG_movable_ops = PG_uptodate,		/* page has movable_ops */
#endif
	PG_reported = PG_uptodate,		/* free page reported to the host */
#if defined(CONFIG_MEMORY_HOTPLUG)
	PG_vmemmap_self_hosted = PG_owner_priv_1,	/* memmap lives in the hot-added range */
#endif
	/* Flags kept in the second page of a large folio (PF_SECOND). */
	PG_has_hwpoisoned = PG_active,		/* some page of the folio is poisoned */
	PG_large_rmappable = PG_workingset,	/* large folio tracked by rmap */
	PG_partially_mapped = PG_reclaim,	/* on the deferred split queue, partly mapped */
};

_Static_assert(__NR_PAGEFLAGS == NR_PAGEFLAGS,
	       "page_flags_layout.h counts the pageflags enum");

/*
 * page_type: when the top byte is one of these, the page is owned by that
 * user and ->page_type is not a mapcount.  UINT_MAX means "no type"
 * (the same word read as _mapcount is -1).
 */
enum pagetype {
	/* 0x00-0x7f: positive mapcounts; 0x80-0xef reserved for overflow */
	PGTY_buddy		= 0xf0,	/* free in the buddy allocator */
	PGTY_offline		= 0xf1,	/* logically offline (balloon, hotplug) */
	PGTY_table		= 0xf2,	/* page table (struct ptdesc) */
	PGTY_guard		= 0xf3,	/* debug_pagealloc guard page */
	PGTY_hugetlb		= 0xf4,	/* hugetlbfs folio */
	PGTY_slab		= 0xf5,	/* slab (struct slab) */
	PGTY_zsmalloc		= 0xf6,	/* zsmalloc page (struct zpdesc) */
	PGTY_unaccepted		= 0xf7,	/* memory not yet accepted (TDX/SNP) */
	PGTY_large_kmalloc	= 0xf8,	/* kmalloc() larger than the kmalloc caches */
	PGTY_mapcount_underflow	= 0xff,	/* top byte of a negative mapcount */
};

#define PAGE_TYPE_NONE		0xffffffffu	/* UINT_MAX: no type, mapcount -1 */
#define PAGE_TYPE_SHIFT		24

#endif /* MEMCORE_PAGE_FLAGS_H */
