/* SPDX-License-Identifier: MIT */
/*
 * tools/drgn_types.c - the variant's structs with the kernel's own C types
 * (MC_NATIVE_TYPES: unsigned long, real pointers) at the variant's word
 * size, compiled with -g into memcore/_types_<design><bits>.debug at build
 * time (setup.py, tools/variant_build.py compile_drgn_types()), so that a
 * debugger (drgn, memcore.drgn) sees struct page & co. exactly as the
 * variant lays them out.  One object of each type makes the compiler emit it.
 */
#include "memcore/layout_structs.h"
#include "memcore/mmzone.h"
#include "memcore/slub.h"

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
