/* SPDX-License-Identifier: MIT */
/*
 * memcore/config.h - the kernel configuration one variant is compiled for.
 *
 * Every variant module (memcore._<design><bits>) is the same C and Cython
 * compiled with -DMC_BITS=32|64 and -DMC_DESIGN_<NAME>=1 (no default: the
 * design is checked by memcore/design_types.h).  This header turns
 * MC_BITS into the CONFIG_* symbols of the canonical configuration for that
 * word size, exactly as a kernel .config would, and everything downstream
 * (struct declarations, the flags-word layout, the allocators) tests only
 * CONFIG_* symbols.  The Python flags calculator (memcore/flagslayout.py)
 * carries the same two configurations as data and is tested to agree.
 *
 *   x86_64: this project's reference machine (Linux 6.18, see
 *           tests/data/linux-6.18-x86_64-config-mm.txt).
 *   i386:   a PAE HIGHMEM desktop configuration: MEMCG, no NUMA, classic
 *           SPARSEMEM without VMEMMAP, four zones (DMA NORMAL HIGHMEM MOVABLE).
 */
#ifndef MEMCORE_CONFIG_H
#define MEMCORE_CONFIG_H

#if !defined(MC_BITS) || (MC_BITS != 32 && MC_BITS != 64)
#error "memcore: define MC_BITS as 32 or 64"
#endif

/* --- common to both canonical configurations ---------------------------- */
#define CONFIG_MMU			1
#define CONFIG_MEMCG			1
#define CONFIG_SPARSEMEM		1
#define CONFIG_TRANSPARENT_HUGEPAGE	1	/* x86_64, and i386 with PAE */
#define CONFIG_HAVE_ALIGNED_STRUCT_PAGE	1	/* x86 selects it for SLUB */
#define CONFIG_ZONE_DMA			1
#define CONFIG_PAGE_SHIFT		12
#define CONFIG_SLUB			1
#define CONFIG_SMP			1
#define CONFIG_SWAP			1
#define CONFIG_MIGRATION		1
#define CONFIG_COMPACTION		1
#define CONFIG_MEMORY_ISOLATION		1
#define CONFIG_ARCH_USES_PG_ARCH_2	1	/* selected by X86_PAT on both */
#define CONFIG_SLUB_CPU_PARTIAL		1
#define CONFIG_SLAB_OBJ_EXT		1	/* selected by MEMCG */
#define CONFIG_HUGETLB_PAGE		1
#define CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING 1
#define CONFIG_MM_ID			1	/* selected by TRANSPARENT_HUGEPAGE (mm/Kconfig) */

#if MC_BITS == 64
/* --- x86_64 (tests/data/linux-6.18-x86_64-config-mm.txt) ---------------- */
#define MC_CONFIG_NAME			"x86_64"
#define CONFIG_64BIT			1
#define CONFIG_X86_64			1
#define CONFIG_NUMA			1
#define CONFIG_NODES_SHIFT		10
#define CONFIG_NR_CPUS			256
#define CONFIG_NUMA_BALANCING		1
#define CONFIG_SPARSEMEM_VMEMMAP	1
#define CONFIG_ZONE_DMA32		1
#define CONFIG_ZONE_DEVICE		1
#define CONFIG_PAGE_IDLE_FLAG		1
#define CONFIG_MEMORY_HOTPLUG		1	/* 64BIT only */
#define MC_MAX_PHYSMEM_BITS		52	/* 5-level paging */
#define MC_SECTION_SIZE_BITS		27	/* 128 MiB sections */
#else
/* --- i386 with PAE and HIGHMEM ------------------------------------------ */
#define MC_CONFIG_NAME			"i386"
#define CONFIG_X86_32			1
#define CONFIG_X86_PAE			1
#define CONFIG_HIGHMEM			1
#define CONFIG_NODES_SHIFT		0	/* !CONFIG_NUMA */
#define CONFIG_NR_CPUS			8
#define MC_MAX_PHYSMEM_BITS		36	/* PAE */
#define MC_SECTION_SIZE_BITS		29	/* 512 MiB sections */
#endif

/* Word size of the modeled kernel, in bytes and bits. */
#define MC_SIZEOF_LONG			(MC_BITS / 8)
#define BITS_PER_LONG			MC_BITS

#define PAGE_SHIFT			CONFIG_PAGE_SHIFT
#define PAGE_SIZE			(1UL << PAGE_SHIFT)

#endif /* MEMCORE_CONFIG_H */
