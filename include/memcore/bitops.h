/* SPDX-License-Identifier: MIT */
/*
 * memcore/bitops.h - the kernel's bit operations on modeled words.
 *
 * The model runs one modeled CPU step at a time, so "atomic" and
 * non-atomic forms compute the same result; both exist so that code reads
 * like the kernel and so that a later interleaving explorer can tell a
 * single atomic step from a load/modify/store sequence.
 */
#ifndef MEMCORE_BITOPS_H
#define MEMCORE_BITOPS_H

#include "memcore/types.h"

#define MC_BIT(nr)		((mc_ulong)1 << (nr))

static inline int test_bit(int nr, const mc_ulong *word)
{
	return (int)((*word >> nr) & 1);
}

static inline void set_bit(int nr, mc_ulong *word)
{
	*word |= MC_BIT(nr);
}

static inline void clear_bit(int nr, mc_ulong *word)
{
	*word &= ~MC_BIT(nr);
}

static inline void __set_bit(int nr, mc_ulong *word)
{
	*word |= MC_BIT(nr);
}

static inline void __clear_bit(int nr, mc_ulong *word)
{
	*word &= ~MC_BIT(nr);
}

static inline int test_and_set_bit(int nr, mc_ulong *word)
{
	int old = test_bit(nr, word);
	*word |= MC_BIT(nr);
	return old;
}

static inline int test_and_clear_bit(int nr, mc_ulong *word)
{
	int old = test_bit(nr, word);
	*word &= ~MC_BIT(nr);
	return old;
}

/* test_and_set_bit_lock / clear_bit_unlock: acquire/release forms. */
#define test_and_set_bit_lock	test_and_set_bit
#define clear_bit_unlock	clear_bit

#endif /* MEMCORE_BITOPS_H */
