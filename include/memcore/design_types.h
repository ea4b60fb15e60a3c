/* SPDX-License-Identifier: MIT */
/*
 * memcore/design_types.h - which design this variant is, and its structs.
 *
 * A variant is built for exactly one design, selected by one of
 *
 *   MC_DESIGN_CLASSIC		Linux 6.18: every descriptor overlays struct page
 *   MC_DESIGN_INTERIM		(types header being written; no machine yet)
 *   MC_DESIGN_FLAGS_MEMDESC	(types header being written; no machine yet)
 *   MC_DESIGN_MEMDESC		(types header being written; no machine yet)
 *
 * Code that needs struct page, folio, ptdesc, ... includes this header (not
 * a design's struct header), so each design swaps its own declarations in.
 * A design's types header declares its structs and defines
 * MC_LAYOUT_STRUCTS(X): X(name) for every struct its layout table covers, in
 * display order (memcore/layout_structs.h; tools/codegen.py generates the
 * tables for exactly these).  Its accessors are chosen by memcore/design.h.
 *
 * A design's types header is included as soon as it exists: that is all
 * its layout tables need (memcore._layouts, setup.py LAYOUTS), while its
 * machine also needs its accessor header (memcore/design.h).
 */
#ifndef MEMCORE_DESIGN_TYPES_H
#define MEMCORE_DESIGN_TYPES_H

#if (defined(MC_DESIGN_CLASSIC) + defined(MC_DESIGN_INTERIM) + \
     defined(MC_DESIGN_FLAGS_MEMDESC) + defined(MC_DESIGN_MEMDESC)) != 1
# error "memcore: define exactly one design: MC_DESIGN_CLASSIC, MC_DESIGN_INTERIM, MC_DESIGN_FLAGS_MEMDESC or MC_DESIGN_MEMDESC"
#elif defined(MC_DESIGN_CLASSIC)
# include "memcore/design_classic_types.h"
#elif defined(MC_DESIGN_INTERIM)
# if __has_include("memcore/design_interim_types.h")
#  include "memcore/design_interim_types.h"
# else
#  error "memcore: design interim is not built yet (no memcore/design_interim_types.h)"
# endif
#elif defined(MC_DESIGN_FLAGS_MEMDESC)
# if __has_include("memcore/design_flags_memdesc_types.h")
#  include "memcore/design_flags_memdesc_types.h"
# else
#  error "memcore: design flags_memdesc is not built yet (no memcore/design_flags_memdesc_types.h)"
# endif
#elif defined(MC_DESIGN_MEMDESC)
# if __has_include("memcore/design_memdesc_types.h")
#  include "memcore/design_memdesc_types.h"
# else
#  error "memcore: design memdesc is not built yet (no memcore/design_memdesc_types.h)"
# endif
#endif

#endif /* MEMCORE_DESIGN_TYPES_H */
