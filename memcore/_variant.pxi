# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True
#
# The body of every variant module memcore._<design><bits>.
#
# setup.py compiles this one implementation once per variant with C macros
# (MC_BITS, MC_DESIGN_*) choosing word size and design, like one kernel tree
# built for several configurations.  Subsystems live in core/*.pxi.

include "core/decl.pxi"
include "core/layout.pxi"
