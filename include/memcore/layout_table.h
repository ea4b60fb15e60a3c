/* SPDX-License-Identifier: MIT */
/*
 * memcore/layout_table.h - the shape of the generated layout tables.
 *
 * The generated mc_layout_table.h fills these with what the compiler says
 * about the variant's structs; the module turns them into memcore.Layout.
 */
#ifndef MEMCORE_LAYOUT_TABLE_H
#define MEMCORE_LAYOUT_TABLE_H

#include <stddef.h>

#include "memcore/xnames.h"

/*
 * The kinds of rows in a member table: X(KIND, name) gives MC_MEMBER_<KIND>
 * and the name memcore.layout and tools/codegen.py know the kind by.
 */
#define MC_MEMBER_KINDS(X) \
	X(PLAIN, "plain")		/* named member with its own storage */ \
	X(BITFIELD, "bitfield")		/* named bitfield */ \
	X(ANON_STRUCT, "anon_struct")	/* anonymous struct: groups children */ \
	X(ANON_UNION, "anon_union")	/* anonymous union: overlays children */

enum mc_member_kind {
#define MC_MEMBER_KIND_ENUM(kind, name)	MC_MEMBER_##kind,
	MC_MEMBER_KINDS(MC_MEMBER_KIND_ENUM)
#undef MC_MEMBER_KIND_ENUM
	MC_NR_MEMBER_KINDS
};

/* mc_member_kind_name(kind): "plain", ...; NULL for a value that is none. */
MC_DEFINE_NAME_OF(mc_member_kind_name, MC_MEMBER_KINDS, MC_NR_MEMBER_KINDS)

/* Sets the bitfield to all ones in a zeroed buffer the size of the struct. */
typedef void (*mc_bitprobe_fn)(unsigned char *buf);

struct mc_member_desc {
	const char *name;		/* member name; NULL for anonymous aggregates */
	const char *type;		/* kernel type name without array suffix */
	const char *array;		/* "[n]" for arrays, else "" */
	int kind;			/* enum mc_member_kind */
	int parent;			/* index of the enclosing anonymous aggregate, -1 at top */
	int depth;			/* nesting depth, 1 at top level */
	size_t offset;			/* offsetof(); 0 for bitfields and aggregates */
	size_t size;			/* sizeof() of the member or the bitfield's unit */
	size_t align;			/* alignment of the member or the bitfield's unit */
	int bit_width;			/* declared bitfield width, else 0 */
	mc_bitprobe_fn bitprobe;	/* bitfields: probe that sets its bits */
};

struct mc_struct_desc {
	const char *name;		/* "page", "folio", ... */
	size_t size;			/* sizeof(struct name) */
	size_t align;			/* _Alignof(struct name) */
	const struct mc_member_desc *members;	/* pre-order member tree */
	size_t nr_members;		/* entries in members[] */
};

struct mc_enum_entry {
	const char *name;		/* enumerator name */
	long long value;		/* its value as compiled */
};

#endif /* MEMCORE_LAYOUT_TABLE_H */
