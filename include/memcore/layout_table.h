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

/* A named compile-time number of a variant (memcore/layout_exports.h). */
struct mc_design_fact {
	const char *name;		/* "flags_free_bits", ... */
	long long value;		/* its value as compiled */
};

/* One row of a memdesc type table (memcore/memdesc.h), by type number. */
struct mc_memdesc_type_info {
	const char *name;		/* "file", "slab", ...; NULL: unassigned */
	int kind;			/* enum mc_memdesc_kind */
	const char *desc;		/* descriptor struct name, "" for inline types */
};

/* One inline field of the Misc and Buddy memdesc types. */
struct mc_memdesc_field_info {
	const char *name;		/* "subtype", "order", ... */
	int shift;			/* first bit */
	int width;			/* bits; 0: the field is absent in this configuration */
};

/* One Misc subtype. */
struct mc_memdesc_subtype_info {
	const char *name;		/* "zero_page", ... */
	int number;			/* its value in bits 4-10 */
};

/* What a variant exports besides its layouts (memcore/layout_exports.h). */
struct mc_design_exports {
	const struct mc_design_fact *facts;			/* named numbers */
	size_t nr_facts;
	const struct mc_memdesc_type_info *memdesc_types;	/* 16 rows; NULL: no memdesc word */
	const char *const *memdesc_kinds;			/* names of enum mc_memdesc_kind */
	size_t nr_memdesc_kinds;
	const struct mc_memdesc_field_info *memdesc_fields;	/* inline fields */
	size_t nr_memdesc_fields;
	const struct mc_memdesc_subtype_info *misc_subtypes;	/* Misc subtypes */
	size_t nr_misc_subtypes;
	const struct mc_memdesc_subtype_info *buddy_states;	/* inline Buddy states; NULL: none */
	size_t nr_buddy_states;
};

#endif /* MEMCORE_LAYOUT_TABLE_H */
