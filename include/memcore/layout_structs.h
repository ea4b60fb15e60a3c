/* SPDX-License-Identifier: MIT */
/*
 * memcore/layout_structs.h - every declaration whose layout memcore exports.
 * tools/codegen.py parses this header (preprocessed for one variant) to
 * generate that variant's layout and enum tables: the layout tables cover
 * the structs of the design's MC_LAYOUT_STRUCTS(X) list, which this header
 * also spells as the enumerators of enum mc_layout_struct for the parser.
 */
#ifndef MEMCORE_LAYOUT_STRUCTS_H
#define MEMCORE_LAYOUT_STRUCTS_H

#include "memcore/design_types.h"	/* the design's structs and MC_LAYOUT_STRUCTS */
#include "memcore/page_flags.h"

#define MC_LAYOUT_STRUCT_ENUM(name)	MC_LAYOUT_STRUCT_##name,
enum mc_layout_struct {
	MC_LAYOUT_STRUCTS(MC_LAYOUT_STRUCT_ENUM)
	MC_NR_LAYOUT_STRUCT_LIST
};
#undef MC_LAYOUT_STRUCT_ENUM

#endif /* MEMCORE_LAYOUT_STRUCTS_H */
