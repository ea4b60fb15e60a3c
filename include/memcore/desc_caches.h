/* SPDX-License-Identifier: MIT */
/*
 * memcore/desc_caches.h - a design's descriptor caches as an enum
 * (MC_DESC_<ID>) and a name table, from the MC_DESC_CACHES(X) list the
 * design header defines before it includes this.  The caches are created at
 * boot (memcore/core/slab_api.pxi, slab_boot()).
 */
#ifndef MEMCORE_DESC_CACHES_H
#define MEMCORE_DESC_CACHES_H

#if !defined(MC_DESC_CACHES)
# error "memcore/desc_caches.h: the design defines MC_DESC_CACHES(X) first"
#endif

enum mc_desc_cache {
#define MC_DESC_CACHE_ENUM(e, name)	MC_DESC_##e,
	MC_DESC_CACHES(MC_DESC_CACHE_ENUM)
#undef MC_DESC_CACHE_ENUM
	MC_NR_DESC_CACHES
};
static const char *const mc_desc_cache_names[MC_NR_DESC_CACHES + 1] = {
#define MC_DESC_CACHE_NAME(e, name)	name,
	MC_DESC_CACHES(MC_DESC_CACHE_NAME)
#undef MC_DESC_CACHE_NAME
	NULL
};

#endif /* MEMCORE_DESC_CACHES_H */
