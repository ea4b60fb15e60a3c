/* SPDX-License-Identifier: MIT */
/*
 * memcore/kimage.h - the kernel image's variables that a debugger reads to
 * find its way around memory management: where each sits in the model's
 * stand-in for the kernel's .data/.bss (the "kimage"), at a fixed address
 * above the modeled memory.
 *
 * The model has no kernel image: memory is RAM, the memmap and the direct
 * map.  A debugger (drgn's Linux helpers, memcore.drgn) starts from named
 * globals (slab_caches, node_data, mem_section, __per_cpu_offset, ...), so
 * the Machine keeps them in a host buffer read at MC_KIMAGE_VA (core/kimage.pxi
 * fills and maintains it), and tools/drgn_types.c places a variable of the
 * same name and type at the same address in each variant's types file (one
 * section per variable, linked at MC_KIMAGE_VA + offset by
 * tools/variant_build.py), so a debugger finds them by name.
 *
 * MC_KIMAGE_VARS(X) lists them: X(name, C type, array suffix, offset).  The
 * arrays have the kernel's sizes for the configuration (MAX_NUMNODES from
 * CONFIG_NODES_SHIFT, NR_CPUS from CONFIG_NR_CPUS).  After the variables:
 * the mem_section roots and their pages (64-bit; memblock memory in the
 * kernel), then the slab cache names.
 */
#ifndef MEMCORE_KIMAGE_H
#define MEMCORE_KIMAGE_H

#include "memcore/config.h"

#define MC_MAX_NUMNODES		(1 << CONFIG_NODES_SHIFT)
#define MC_NR_CPUS		CONFIG_NR_CPUS
#define MC_BITS_TO_LONGS(n)	(((n) + MC_BITS - 1) / MC_BITS)
#define MC_SIZEOF_MEM_SECTION	(2 * MC_BITS / 8)	/* section_mem_map, usage */

/* include/linux/nodemask.h: what node_states[] holds, one nodemask each */
enum node_states {
	N_POSSIBLE,			/* the node could come online */
	N_ONLINE,			/* the node is online */
	N_NORMAL_MEMORY,		/* the node has regular memory */
#ifdef CONFIG_HIGHMEM
	N_HIGH_MEMORY,			/* the node has regular or high memory */
#else
	N_HIGH_MEMORY = N_NORMAL_MEMORY,
#endif
	N_MEMORY,			/* the node has memory (regular, high, movable) */
	N_CPU,				/* the node has CPUs */
	N_GENERIC_INITIATOR,		/* the node has generic initiators */
	NR_NODE_STATES
};

#if MC_BITS == 64
/* __START_KERNEL_map + 32 MiB: where an x86-64 kernel's data sits (no KASLR) */
# define MC_KIMAGE_VA		0xffffffff82000000UL
# define MC_KIMAGE_VARS(X) \
	X(slab_caches,			struct list_head,	,			0x0000) \
	X(nr_node_ids,			unsigned int,		,			0x0010) \
	X(nr_cpu_ids,			unsigned int,		,			0x0014) \
	X(max_pfn,			unsigned long,		,			0x0018) \
	X(vmemmap_base,			unsigned long,		,			0x0020) \
	X(page_offset_base,		unsigned long,		,			0x0028) \
	X(__highest_present_section_nr,	unsigned long,		,			0x0030) \
	X(mem_section,			struct mem_section **,	,			0x0038) \
	X(__cpu_possible_mask,		struct cpumask,		,			0x0040) \
	X(__cpu_online_mask,		struct cpumask,		,			0x0080) \
	X(__cpu_present_mask,		struct cpumask,		,			0x00c0) \
	X(min_low_pfn,			unsigned long,		,			0x00e0) \
	X(max_low_pfn,			unsigned long,		,			0x00e8) \
	X(__per_cpu_offset,		unsigned long,		[MC_NR_CPUS],		0x0100) \
	X(node_states,			nodemask_t,		[NR_NODE_STATES],	0x0900) \
	X(node_data,			struct pglist_data *,	[MC_MAX_NUMNODES],	0x0c00)
/* mem_section: NR_SECTION_ROOTS pointers (4-level paging: MAX_PHYSMEM_BITS 46),
 * then one page of SECTIONS_PER_ROOT struct mem_section per root in use */
# define MC_MAX_PHYSMEM_BITS_4L	46
# define MC_SECTIONS_PER_ROOT	(4096 / 16)
# define MC_NR_SECTION_ROOTS	((1UL << (MC_MAX_PHYSMEM_BITS_4L - MC_SECTION_SIZE_BITS)) / MC_SECTIONS_PER_ROOT)
# define MC_KIMAGE_SECTION_ROOTS	0x3000
# define MC_KIMAGE_ROOT_PAGES	(MC_KIMAGE_SECTION_ROOTS + MC_NR_SECTION_ROOTS * 8)
# define MC_KIMAGE_SECTIONS	MC_KIMAGE_ROOT_PAGES	/* the roots' pages are consecutive */
#else
/* the vmalloc area above lowmem: the i386 kernel's own image is in lowmem,
 * which the model gives to RAM */
# define MC_KIMAGE_VA		0xf8800000UL
# define MC_KIMAGE_VARS(X) \
	X(slab_caches,			struct list_head,	,			0x0000) \
	X(nr_node_ids,			unsigned int,		,			0x0010) \
	X(nr_cpu_ids,			unsigned int,		,			0x0014) \
	X(max_pfn,			unsigned long,		,			0x0018) \
	X(__highest_present_section_nr,	unsigned long,		,			0x001c) \
	X(__cpu_possible_mask,		struct cpumask,		,			0x0020) \
	X(__cpu_online_mask,		struct cpumask,		,			0x0024) \
	X(__cpu_present_mask,		struct cpumask,		,			0x0028) \
	X(min_low_pfn,			unsigned long,		,			0x002c) \
	X(max_low_pfn,			unsigned long,		,			0x0030) \
	X(__per_cpu_offset,		unsigned long,		[MC_NR_CPUS],		0x0040) \
	X(node_states,			nodemask_t,		[NR_NODE_STATES],	0x0060) \
	X(node_data,			struct pglist_data *,	[MC_MAX_NUMNODES],	0x0080) \
	X(mem_section,			struct mem_section,	[MC_NR_SECTION_ROOTS][MC_SECTIONS_PER_ROOT], 0x0400)
/* !SPARSEMEM_EXTREME: a static array of NR_SECTION_ROOTS x 1 sections (PAE:
 * MAX_PHYSMEM_BITS 36) */
# define MC_MAX_PHYSMEM_BITS_4L	MC_MAX_PHYSMEM_BITS
# define MC_SECTIONS_PER_ROOT	1
# define MC_NR_SECTION_ROOTS	(1UL << (MC_MAX_PHYSMEM_BITS - MC_SECTION_SIZE_BITS))
# define MC_KIMAGE_SECTION_ROOTS	0	/* none: mem_section is the sections */
# define MC_KIMAGE_SECTIONS	0x0400	/* struct mem_section of section 0 */
# define MC_KIMAGE_ROOT_PAGES	0x1000	/* where the names start */
#endif

/* The variables' offsets by name, for the code that fills them
 * (core/kimage.pxi). */
struct mc_kimage_var {
	const char *name;
	unsigned long offset;
};
#define MC_KIMAGE_ROW(name, type, dims, off)	{ #name, off },
static const struct mc_kimage_var mc_kimage_vars[] __attribute__((unused)) = {
	MC_KIMAGE_VARS(MC_KIMAGE_ROW)
	{ 0, 0 }
};

#endif /* MEMCORE_KIMAGE_H */
