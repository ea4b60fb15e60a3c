/* SPDX-License-Identifier: MIT */
/*
 * memcore/layout_structs.h - every declaration whose layout memcore exports.
 * tools/codegen.py parses this header (preprocessed for one variant) to
 * generate that variant's layout and enum tables.
 */
#ifndef MEMCORE_LAYOUT_STRUCTS_H
#define MEMCORE_LAYOUT_STRUCTS_H

#include "memcore/mm_types.h"
#include "memcore/slab.h"
#include "memcore/page_flags.h"

#endif /* MEMCORE_LAYOUT_STRUCTS_H */
