/* SPDX-License-Identifier: MIT */
/*
 * memcore/xnames.h - the name lookup of an enum defined by an X-macro table.
 *
 * For a table TABLE(X) of X(ID, "name") rows whose enum numbers the rows
 * 0, 1, ... and ends with a count,
 *
 *	MC_DEFINE_NAME_OF(fn, TABLE, count)
 *
 * defines `const char *fn(int value)`: the row's name, NULL for a value
 * that is no row.  The module reads enum names through these functions, so
 * the names are written once, in the table.
 */
#ifndef MEMCORE_XNAMES_H
#define MEMCORE_XNAMES_H

#define MC_X_NAME(id, name)	name,

#define MC_DEFINE_NAME_OF(fn, TABLE, count)					\
static inline const char *fn(int value)						\
{										\
	static const char *const names[count] = { TABLE(MC_X_NAME) };		\
	return value >= 0 && value < (count) ? names[value] : NULL;		\
}

#endif /* MEMCORE_XNAMES_H */
