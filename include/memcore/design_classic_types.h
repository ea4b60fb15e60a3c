/* SPDX-License-Identifier: MIT */
/*
 * memcore/design_classic_types.h - the structs of the classic design
 * (Linux 6.18), selected by memcore/design_types.h for MC_DESIGN_CLASSIC.
 *
 * struct page, folio and ptdesc are declared in memcore/mm_types.h;
 * struct slab, which overlays struct page here, in memcore/slab.h; the
 * PG_* and PGTY_* numbers of the flags and page_type words in
 * memcore/page_flags.h.
 */
#ifndef MEMCORE_DESIGN_CLASSIC_TYPES_H
#define MEMCORE_DESIGN_CLASSIC_TYPES_H

#include "memcore/mm_types.h"
#include "memcore/slab.h"
#include "memcore/page_flags.h"

/* The structs whose layouts this design exports, in display order. */
#define MC_LAYOUT_STRUCTS(X)	X(page) X(folio) X(slab) X(ptdesc)

#endif /* MEMCORE_DESIGN_CLASSIC_TYPES_H */
