/* SPDX-License-Identifier: MIT */
/*
 * memcore/design.h - pick the per-design accessors for this variant.
 *
 * Generic code (buddy, folio, flag helpers, views) never asks which design
 * it runs on; it calls the accessors a design header defines.  A new
 * design is a new header here plus one line in setup.py's VARIANTS.
 */
#ifndef MEMCORE_DESIGN_H
#define MEMCORE_DESIGN_H

#if defined(MC_DESIGN_CLASSIC)
# include "memcore/design_classic.h"
#else
# error "memcore: no design selected (MC_DESIGN_CLASSIC, ...)"
#endif

#endif /* MEMCORE_DESIGN_H */
