# The body of every variant module memcore._<design><bits>.
#
# setup.py compiles this one implementation once per variant with C macros
# (MC_BITS, MC_DESIGN_*) choosing word size and design, like one kernel tree
# built for several configurations.  Its Cython directives (boundscheck,
# wraparound and initializedcheck off, cdivision on) are set for the whole
# module by tools/variant_build.py: `# cython:` comments in an included file
# such as this one are ignored.
#
# Provides: the module's whole Python API (Machine, the views, layout and
#   enum tables).  Uses: include/memcore/*.h through core/decl.pxi and the
#   generated sources in build/memcore-gen/<variant>/ (views_generated.pxi,
#   folio_flags_decl.pxi, mc_*_table.h).  One .pxi per subsystem:

include "core/decl.pxi"         # the C declarations (include/memcore/*.h)
include "core/layout.pxi"       # layout tables, enums, flags-word macros
include "core/buddy.pxi"        # free lists, split, merge, fallback
include "core/pcp.pxi"          # per-CPU page lists
include "core/page_alloc.pxi"   # watermarks, zonelist walk, free-path checks
include "core/folio.pxi"        # folio alloc, references, freeing
include "core/slub.pxi"         # SLUB: caches, slabs, kmalloc, KASAN shadow
include "core/boot.pxi"         # memmap init, freeing boot memory
include "core/machine.pxi"      # Machine: boot, tasks, locks, API
include "core/rcu.pxi"          # RCU read sections, callbacks, grace periods
include "views_generated.pxi"    # core/views.pxi + the generated folio flag methods
include "core/slab_api.pxi"     # caches, kmalloc caches, KmemCache/Slab/SlabObject, KASAN reports
include "core/dump.pxi"         # dump_page(), %pGp
include "core/check.pxi"        # Machine.check() invariants
include "core/bulk.pxi"         # nogil loops and benchmark baselines
