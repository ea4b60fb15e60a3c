/* SPDX-License-Identifier: MIT */
/*
 * tools/drgn_types.c - the variant's structs with the kernel's own C types
 * (MC_NATIVE_TYPES: unsigned long, real pointers) at the variant's word
 * size, compiled with -g into memcore/_types_<design><bits>.debug at build
 * time (setup.py, tools/variant_build.py compile_drgn_types()), so that a
 * debugger (drgn, memcore.drgn) sees struct page & co. exactly as the
 * variant lays them out.  One object of each type makes the compiler emit it.
 *
 * It also defines the kernel image's variables a debugger starts from
 * (memcore/kimage.h), each in its own section that the link places at the
 * address where the Machine keeps it, and the constants drgn's helpers
 * take from a real vmlinux's debug info.
 */
#include "memcore/layout_structs.h"
#include "memcore/mmzone.h"
#include "memcore/slub.h"
#include "memcore/kimage.h"

struct page mc_type_page;
struct folio mc_type_folio;
struct slab mc_type_slab;
struct ptdesc mc_type_ptdesc;
struct zone mc_type_zone;
struct pglist_data mc_type_pglist_data;
struct kmem_cache mc_type_kmem_cache;
enum pageflags mc_type_pageflags;
#if defined(MC_MEMDESC_BUDDY_INLINE)
struct buddy mc_type_buddy;		/* free memory's links (flags_memdesc, memdesc) */
#endif
#if defined(MC_MEMDESC_TYPES)
/* the memdesc word: its type numbers, and the type mask as a constant (a
 * macro has no debug info; memcore.drgn's helpers read it by name) */
enum mc_memdesc_type mc_type_memdesc_type;
enum mc_memdesc_misc_subtype mc_type_memdesc_misc_subtype;
enum { MC_DRGN_MEMDESC_TYPE_MASK = MEMDESC_TYPE_MASK };
#undef MEMDESC_TYPE_MASK
enum { MEMDESC_TYPE_MASK = MC_DRGN_MEMDESC_TYPE_MASK };
#endif

/* include/linux/types.h: x86-64, and i386 with PAE (CONFIG_PHYS_ADDR_T_64BIT) */
typedef unsigned long long phys_addr_t;
phys_addr_t mc_type_phys_addr;

/* include/linux/cpumask_types.h, nodemask_types.h (enum node_states: kimage.h) */
struct cpumask { unsigned long bits[MC_BITS_TO_LONGS(MC_NR_CPUS)]; };
typedef struct { unsigned long bits[MC_BITS_TO_LONGS(MC_MAX_NUMNODES)]; } nodemask_t;
enum node_states mc_type_node_states;

/* include/linux/mmzone.h: the sections (x86-64 6.18: SPARSEMEM_EXTREME, no
 * CONFIG_PAGE_EXTENSION, ZONE_DEVICE and VMEMMAP_PREINIT bits; i386: a
 * static array, neither bit) */
struct mem_section_usage;
struct mem_section {
	unsigned long section_mem_map;		/* the memmap - the section's first PFN | SECTION_* */
	struct mem_section_usage *usage;	/* subsection map (model: NULL, early sections) */
};
enum {
	SECTION_MARKED_PRESENT_BIT,
	SECTION_HAS_MEM_MAP_BIT,
	SECTION_IS_ONLINE_BIT,
	SECTION_IS_EARLY_BIT,
#if MC_BITS == 64
	SECTION_TAINT_ZONE_DEVICE_BIT,
	SECTION_IS_VMEMMAP_PREINIT_BIT,
#endif
	SECTION_MAP_LAST_BIT,
};
_Static_assert(sizeof(struct mem_section) == MC_SIZEOF_MEM_SECTION, "kimage.h's mem_section size");
/* the macros drgn's mm helpers read from vmlinux's debug info */
enum {
	SECTION_SIZE_BITS = MC_SECTION_SIZE_BITS,
	SECTIONS_PER_ROOT = MC_SECTIONS_PER_ROOT,
	MAX_PHYSMEM_BITS = MC_MAX_PHYSMEM_BITS_4L,
};
/* drgn takes a kernel with this function for SPARSEMEM_VMEMMAP and finds the
 * memmap from mem_section, taking it to be virtually contiguous: on x86-64
 * it is the vmemmap; on i386 the model allocates every section's mem_map in
 * one block, so it is contiguous there too (a real i386 SPARSEMEM kernel's
 * need not be).  Never called: the model has no code. */
__attribute__((used, section(".kimage.text"))) void vmemmap_populate(void) { }

#define MC_KIMAGE_DEFINE(name, type, dims, off) \
	__attribute__((used, section(".kimage." #name))) type name dims;
MC_KIMAGE_VARS(MC_KIMAGE_DEFINE)
