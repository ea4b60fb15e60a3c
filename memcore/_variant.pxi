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
#   folio_flags_decl.pxi, mc_*_table.h).  One .pxi per subsystem,
# each included after the files it uses (the nogil core first, then the
# Python-facing layers, then the Machine facade that calls them all):

include "core/decl.pxi"         # the C declarations (include/memcore/*.h), the extension types
include "core/errors.pxi"       # set_err(), mc_err codes -> memcore exceptions
include "core/layout.pxi"       # layout tables, enums, flags-word macros
include "core/kasan.pxi"        # KASAN shadow memory
include "core/buddy.pxi"        # free lists, split, merge, fallback
include "core/pcp.pxi"          # per-CPU page lists
include "core/page_alloc.pxi"   # watermarks, zonelist walk, free-path checks
include "core/folio.pxi"        # folio alloc, references, freeing
include "core/slub.pxi"         # SLUB: caches, slabs, kmalloc, shrink
include "core/check.pxi"        # the invariants of the page allocator's state
include "core/bulk.pxi"         # nogil loops and benchmark baselines
include "core/kimage.pxi"       # the kernel image's variables a debugger starts from
include "core/boot.pxi"         # memblock, memmap init, zones, the Machine's boot
include "core/tasks.pxi"        # tasks, bit locks, the folio wait table
include "core/dump.pxi"         # dump_page(), %pGp
include "views_generated.pxi"   # core/views.pxi + the generated folio flag methods
include "core/rcu.pxi"          # RCU read sections, callbacks, grace periods
include "core/slab_api.pxi"     # caches, kmalloc, KmemCache/Slab/SlabObject, the SLUB API
include "core/kasan_api.pxi"    # KASAN reports, checked access to modeled memory
include "core/xarray.pxi"       # the XArray (lib/xarray.c): the page cache's index
include "core/filemap.pxi"      # the page cache: AddressSpace, add/lookup/remove/truncate
include "core/compaction.pxi"   # compaction: migrate and free scanners, page-cache migration
include "core/page_api.pxi"     # folio allocation, zones, stats, check, bulk API
include "core/machine.pxi"      # Machine: validation and one-line calls into the above
include "core/explore.pxi"      # the interleaving explorer: step primitives, DFS, POR, replay
include "core/digest.pxi"       # _state_digest(): a hash of the machine state (tests)
