/* SPDX-License-Identifier: MIT */
/*
 * memcore/page_flags_layout.h - where the fields of the page-flags word go,
 * computed by the preprocessor from the configuration exactly as
 * include/linux/page-flags-layout.h (widths) and include/linux/mmzone.h
 * (positions and masks) do in 6.18.
 *
 * The word, top bit down (absent fields have width 0):
 *
 *   | [SECTION] | [NODE] | ZONE | [LAST_CPUPID] | [KASAN_TAG] | [LRU_GEN] | [LRU_REFS] | ... | FLAGS |
 *
 * The flags occupy bits 0 .. NR_PAGEFLAGS-1; the fields are packed from
 * the top.  A field that does not fit is dropped where the kernel has a
 * fallback (section → node lookup table, last_cpupid → struct page) and is
 * a build error where it has none.  memcore/flagslayout.py computes the same
 * for any configuration and is tested against these macros.
 */
#ifndef MEMCORE_PAGE_FLAGS_LAYOUT_H
#define MEMCORE_PAGE_FLAGS_LAYOUT_H

#include "memcore/config.h"

/* ---- enum zone_type (include/linux/mmzone.h), as a count ---------------- */
#if defined(CONFIG_ZONE_DMA)
# define MC_Z_DMA 1
#else
# define MC_Z_DMA 0
#endif
#if defined(CONFIG_ZONE_DMA32)
# define MC_Z_DMA32 1
#else
# define MC_Z_DMA32 0
#endif
#if defined(CONFIG_HIGHMEM)
# define MC_Z_HIGHMEM 1
#else
# define MC_Z_HIGHMEM 0
#endif
#if defined(CONFIG_ZONE_DEVICE)
# define MC_Z_DEVICE 1
#else
# define MC_Z_DEVICE 0
#endif
/* DMA, DMA32, NORMAL, HIGHMEM, MOVABLE, DEVICE */
#define MAX_NR_ZONES	(MC_Z_DMA + MC_Z_DMA32 + 1 + MC_Z_HIGHMEM + 1 + MC_Z_DEVICE)

/* ---- NR_PAGEFLAGS: the length of enum pageflags (bounds.c in the kernel) - */
/* PG_locked .. PG_dropbehind are unconditional: 20 flags. */
#define MC_PG_BASE		20
#if defined(CONFIG_MMU)
# define MC_PG_MLOCKED		1
#else
# define MC_PG_MLOCKED		0
#endif
#if defined(CONFIG_MEMORY_FAILURE)
# define MC_PG_HWPOISON		1
#else
# define MC_PG_HWPOISON		0
#endif
#if defined(CONFIG_PAGE_IDLE_FLAG) && defined(CONFIG_64BIT)
# define MC_PG_IDLE		2	/* PG_young, PG_idle */
#else
# define MC_PG_IDLE		0
#endif
#if defined(CONFIG_ARCH_USES_PG_ARCH_2)
# define MC_PG_ARCH_2		1
#else
# define MC_PG_ARCH_2		0
#endif
#if defined(CONFIG_ARCH_USES_PG_ARCH_3)
# define MC_PG_ARCH_3		1
#else
# define MC_PG_ARCH_3		0
#endif
#define NR_PAGEFLAGS	(MC_PG_BASE + MC_PG_MLOCKED + MC_PG_HWPOISON + MC_PG_IDLE + \
			 MC_PG_ARCH_2 + MC_PG_ARCH_3)

/* ---- widths -------------------------------------------------------------- */
#if MAX_NR_ZONES < 2
# define ZONES_SHIFT 0
#elif MAX_NR_ZONES <= 2
# define ZONES_SHIFT 1
#elif MAX_NR_ZONES <= 4
# define ZONES_SHIFT 2
#elif MAX_NR_ZONES <= 8
# define ZONES_SHIFT 3
#else
# error "ZONES_SHIFT: Too many zones configured"
#endif

#if defined(CONFIG_SPARSEMEM)
# define SECTIONS_SHIFT	(MC_MAX_PHYSMEM_BITS - MC_SECTION_SIZE_BITS)
#else
# define SECTIONS_SHIFT	0
#endif

#define NODES_SHIFT	CONFIG_NODES_SHIFT

/* order_base_2(CONFIG_NR_CPUS), as bounds.c computes NR_CPUS_BITS (SMP only) */
#if !defined(CONFIG_SMP) || CONFIG_NR_CPUS <= 1
# define NR_CPUS_BITS 0
#elif CONFIG_NR_CPUS <= 2
# define NR_CPUS_BITS 1
#elif CONFIG_NR_CPUS <= 4
# define NR_CPUS_BITS 2
#elif CONFIG_NR_CPUS <= 8
# define NR_CPUS_BITS 3
#elif CONFIG_NR_CPUS <= 16
# define NR_CPUS_BITS 4
#elif CONFIG_NR_CPUS <= 32
# define NR_CPUS_BITS 5
#elif CONFIG_NR_CPUS <= 64
# define NR_CPUS_BITS 6
#elif CONFIG_NR_CPUS <= 128
# define NR_CPUS_BITS 7
#elif CONFIG_NR_CPUS <= 256
# define NR_CPUS_BITS 8
#elif CONFIG_NR_CPUS <= 512
# define NR_CPUS_BITS 9
#elif CONFIG_NR_CPUS <= 1024
# define NR_CPUS_BITS 10
#elif CONFIG_NR_CPUS <= 2048
# define NR_CPUS_BITS 11
#elif CONFIG_NR_CPUS <= 4096
# define NR_CPUS_BITS 12
#elif CONFIG_NR_CPUS <= 8192
# define NR_CPUS_BITS 13
#else
# error "NR_CPUS_BITS: CONFIG_NR_CPUS too large for memcore"
#endif

#if defined(CONFIG_LRU_GEN)
# if !defined(CONFIG_64BIT) && defined(CONFIG_SPARSEMEM) && !defined(CONFIG_SPARSEMEM_VMEMMAP)
#  error "LRU_GEN depends on 64BIT || !SPARSEMEM || SPARSEMEM_VMEMMAP"
# endif
/* MAX_NR_GENS = 4: order_base_2(MAX_NR_GENS + 1) = 3 bits */
# define LRU_GEN_WIDTH		3
/* MAX_NR_TIERS = 4: LRU_REFS_WIDTH = min(MAX_NR_TIERS - 2, what is left) */
# define MC_LRU_REFS_WANT	2
#else
# define LRU_GEN_WIDTH		0
# define MC_LRU_REFS_WANT	0
#endif

/* SECTIONS_WIDTH: the section is stored only without SPARSEMEM_VMEMMAP. */
#if defined(CONFIG_SPARSEMEM) && !defined(CONFIG_SPARSEMEM_VMEMMAP)
# define SECTIONS_WIDTH	SECTIONS_SHIFT
#else
# define SECTIONS_WIDTH	0
#endif

#if ZONES_SHIFT + LRU_GEN_WIDTH + SECTIONS_WIDTH + NODES_SHIFT <= BITS_PER_LONG - NR_PAGEFLAGS
# define NODES_WIDTH	NODES_SHIFT
#elif defined(CONFIG_SPARSEMEM_VMEMMAP)
# error "Vmemmap: No space for nodes field in page flags"
#else
# define NODES_WIDTH	0
#endif

#if defined(CONFIG_KASAN_SW_TAGS)
# define KASAN_TAG_WIDTH 8		/* a byte: the pointer's top-byte tag */
#elif defined(CONFIG_KASAN_HW_TAGS)
# define KASAN_TAG_WIDTH 4		/* MTE tags are 4 bits */
#else
# define KASAN_TAG_WIDTH 0
#endif

#if defined(CONFIG_NUMA_BALANCING)
# define LAST__PID_SHIFT	8
# define LAST__PID_MASK		((1 << LAST__PID_SHIFT) - 1)
# define LAST__CPU_SHIFT	NR_CPUS_BITS
# define LAST__CPU_MASK		((1 << LAST__CPU_SHIFT) - 1)
# define LAST_CPUPID_SHIFT	(LAST__PID_SHIFT + LAST__CPU_SHIFT)
#else
# define LAST_CPUPID_SHIFT	0
#endif

#if ZONES_SHIFT + SECTIONS_WIDTH + NODES_WIDTH + KASAN_TAG_WIDTH + LRU_GEN_WIDTH + \
	LAST_CPUPID_SHIFT <= BITS_PER_LONG - NR_PAGEFLAGS
# define LAST_CPUPID_WIDTH	LAST_CPUPID_SHIFT
#else
# define LAST_CPUPID_WIDTH	0
#endif

#if LAST_CPUPID_SHIFT != 0 && LAST_CPUPID_WIDTH == 0
# define LAST_CPUPID_NOT_IN_PAGE_FLAGS 1
#endif

#if ZONES_SHIFT + SECTIONS_WIDTH + NODES_WIDTH + KASAN_TAG_WIDTH + LRU_GEN_WIDTH + \
	LAST_CPUPID_WIDTH > BITS_PER_LONG - NR_PAGEFLAGS
# error "Not enough bits in page flags"
#endif

/* LRU_REFS takes what is left, up to its wish. */
#if MC_LRU_REFS_WANT == 0
# define LRU_REFS_WIDTH	0
#elif ZONES_SHIFT + SECTIONS_WIDTH + NODES_WIDTH + KASAN_TAG_WIDTH + LRU_GEN_WIDTH + \
	LAST_CPUPID_WIDTH + MC_LRU_REFS_WANT <= BITS_PER_LONG - NR_PAGEFLAGS
# define LRU_REFS_WIDTH	MC_LRU_REFS_WANT
#elif ZONES_SHIFT + SECTIONS_WIDTH + NODES_WIDTH + KASAN_TAG_WIDTH + LRU_GEN_WIDTH + \
	LAST_CPUPID_WIDTH + 1 <= BITS_PER_LONG - NR_PAGEFLAGS
# define LRU_REFS_WIDTH	1
#else
# define LRU_REFS_WIDTH	0
#endif

#define ZONES_WIDTH	ZONES_SHIFT

#if SECTIONS_WIDTH != 0
# define SECTION_IN_PAGE_FLAGS 1
#endif
#if NODES_WIDTH == 0 && NODES_SHIFT != 0
# define NODE_NOT_IN_PAGE_FLAGS 1
#endif

/* ---- positions: packed from the top of the word -------------------------
 * The kernel defines the *_PGOFF / *_PGSHIFT / *_MASK macros in
 * include/linux/mmzone.h (6.18 ~1148-1170), after page-flags-layout.h; the
 * model keeps them here with the widths, so one header holds the word. */
#define SECTIONS_PGOFF		(BITS_PER_LONG - SECTIONS_WIDTH)
#define NODES_PGOFF		(SECTIONS_PGOFF - NODES_WIDTH)
#define ZONES_PGOFF		(NODES_PGOFF - ZONES_WIDTH)
#define LAST_CPUPID_PGOFF	(ZONES_PGOFF - LAST_CPUPID_WIDTH)
#define KASAN_TAG_PGOFF		(LAST_CPUPID_PGOFF - KASAN_TAG_WIDTH)
#define LRU_GEN_PGOFF		(KASAN_TAG_PGOFF - LRU_GEN_WIDTH)
#define LRU_REFS_PGOFF		(LRU_GEN_PGOFF - LRU_REFS_WIDTH)

/* A zero-width field gets shift 0 so that masking yields 0. */
#define SECTIONS_PGSHIFT	(SECTIONS_PGOFF * (SECTIONS_WIDTH != 0))
#define NODES_PGSHIFT		(NODES_PGOFF * (NODES_WIDTH != 0))
#define ZONES_PGSHIFT		(ZONES_PGOFF * (ZONES_WIDTH != 0))
#define LAST_CPUPID_PGSHIFT	(LAST_CPUPID_PGOFF * (LAST_CPUPID_WIDTH != 0))
#define KASAN_TAG_PGSHIFT	(KASAN_TAG_PGOFF * (KASAN_TAG_WIDTH != 0))
#define LRU_GEN_PGSHIFT		(LRU_GEN_PGOFF * (LRU_GEN_WIDTH != 0))
#define LRU_REFS_PGSHIFT	(LRU_REFS_PGOFF * (LRU_REFS_WIDTH != 0))

#define SECTIONS_MASK		((1UL << SECTIONS_WIDTH) - 1)
#define NODES_MASK		((1UL << NODES_WIDTH) - 1)
#define ZONES_MASK		((1UL << ZONES_WIDTH) - 1)
#define LAST_CPUPID_MASK	((1UL << LAST_CPUPID_SHIFT) - 1)
#define KASAN_TAG_MASK		((1UL << KASAN_TAG_WIDTH) - 1)

/* Bits between the flags and the lowest field: room for new fields (the
 * flags_memdesc design keeps the compound order here when it fits). */
#define MC_FLAGS_FREE_BITS	(LRU_REFS_PGOFF - NR_PAGEFLAGS)

/* The kernel's own figure (page-flags-layout.h): it counts LAST_CPUPID_SHIFT,
 * so with LAST_CPUPID_NOT_IN_PAGE_FLAGS it is MC_FLAGS_FREE_BITS minus that
 * shift (and may be negative). */
#define NR_NON_PAGEFLAG_BITS	(SECTIONS_WIDTH + NODES_WIDTH + ZONES_WIDTH + \
				 LAST_CPUPID_SHIFT + KASAN_TAG_WIDTH + \
				 LRU_GEN_WIDTH + LRU_REFS_WIDTH)
#define NR_UNUSED_PAGEFLAG_BITS	(BITS_PER_LONG - (NR_NON_PAGEFLAG_BITS + NR_PAGEFLAGS))

#endif /* MEMCORE_PAGE_FLAGS_LAYOUT_H */
