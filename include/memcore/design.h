/* SPDX-License-Identifier: MIT */
/*
 * memcore/design.h - the structs and accessors of this variant's design.
 *
 * Generic code (buddy, folio, flag helpers, views) never asks which design
 * it runs on; it calls the accessors a design header defines.  Exactly one
 * MC_DESIGN_* must be defined: memcore/design_types.h checks that (the
 * known designs are listed there) and declares the design's structs.  A
 * new design is a types header and an accessor header here, a branch in
 * each of the two selections, and one line in setup.py's VARIANTS.
 */
#ifndef MEMCORE_DESIGN_H
#define MEMCORE_DESIGN_H

#include "memcore/design_types.h"

#if defined(MC_DESIGN_CLASSIC)
# include "memcore/design_classic.h"
#elif defined(MC_DESIGN_INTERIM)
# include "memcore/design_interim.h"
#elif defined(MC_DESIGN_FLAGS_MEMDESC)
# include "memcore/design_flags_memdesc.h"
#elif defined(MC_DESIGN_MEMDESC)
# include "memcore/design_memdesc.h"
#endif

#include "memcore/free_list.h"	/* free lists over the design's links */

#endif /* MEMCORE_DESIGN_H */
