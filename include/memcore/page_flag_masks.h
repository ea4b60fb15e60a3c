/* SPDX-License-Identifier: MIT */
/*
 * memcore/page_flag_masks.h - the masks of page flags the free path checks
 * and resets (include/linux/page-flags.h, Linux 6.18).  Every design uses
 * them: classic on each struct page's flags, the memdesc designs on the
 * flags words of the page and of its folio descriptor.
 */
#ifndef MEMCORE_PAGE_FLAG_MASKS_H
#define MEMCORE_PAGE_FLAG_MASKS_H

#include "memcore/bitops.h"
#include "memcore/page_flags.h"
#include "memcore/page_flags_layout.h"

#define PAGEFLAGS_MASK		((MC_BIT(NR_PAGEFLAGS)) - 1)
#if defined(CONFIG_LRU_GEN)
#define LRU_GEN_MASK		(((MC_BIT(LRU_GEN_WIDTH)) - 1) << LRU_GEN_PGOFF)
#define LRU_REFS_MASK		(((MC_BIT(LRU_REFS_WIDTH)) - 1) << LRU_REFS_PGOFF)
#else
#define LRU_GEN_MASK		0
#define LRU_REFS_MASK		0
#endif
#if defined(CONFIG_MEMORY_FAILURE)
#define __PG_HWPOISON		MC_BIT(PG_hwpoison)
#else
#define __PG_HWPOISON		0
#endif
#if defined(CONFIG_MMU)
#define __PG_MLOCKED		MC_BIT(PG_mlocked)
#else
#define __PG_MLOCKED		0
#endif

/* Flags that must be clear when a page is freed (else: bad_page). */
#define PAGE_FLAGS_CHECK_AT_FREE \
	(MC_BIT(PG_lru) | MC_BIT(PG_locked) | MC_BIT(PG_private) | MC_BIT(PG_private_2) | \
	 MC_BIT(PG_writeback) | MC_BIT(PG_reserved) | MC_BIT(PG_active) | \
	 MC_BIT(PG_unevictable) | __PG_MLOCKED | LRU_GEN_MASK)
/* Flags that must be clear when a page is handed out, and cleared on free. */
#define PAGE_FLAGS_CHECK_AT_PREP \
	((PAGEFLAGS_MASK & ~__PG_HWPOISON) | LRU_GEN_MASK | LRU_REFS_MASK)
/* Flags of page 1 of a large folio: the order byte and the PF_SECOND flags.
 * include/linux/page-flags.h includes PG_has_hwpoisoned (= PG_active) whatever
 * CONFIG_MEMORY_FAILURE says: __free_pages_prepare() clears it before
 * free_page_is_bad() looks at page 1. */
#define PAGE_FLAGS_SECOND \
	((mc_ulong)0xff | MC_BIT(PG_has_hwpoisoned) | MC_BIT(PG_large_rmappable) | \
	 MC_BIT(PG_partially_mapped))

#endif /* MEMCORE_PAGE_FLAG_MASKS_H */
