/* SPDX-License-Identifier: MIT */
/*
 * memcore/folio_flags_table.h - THE table of folio flag helpers.
 *
 * One row per flag helper family of Linux 6.18 include/linux/page-flags.h:
 *
 *   X(name, bit, page, ops, special)
 *
 *   name     helper suffix: folio_test_<name>, folio_set_<name>, ...
 *   bit      the PG_* bit tested
 *   page     FOLIO_HEAD_PAGE (folio->flags) or FOLIO_SECOND_PAGE
 *            (folio->_flags_1, large folios only)
 *   ops      which helpers the kernel defines for it (MCF_OPS below)
 *   special  what the test means (MCF_SPECIALS below)
 *
 * From this one table the preprocessor generates the C helpers
 * (memcore/folio_flags.h) and tools/codegen.py generates the Python
 * methods of memcore's Folio view, so the three can never disagree.
 * Rows exist only under the configuration the kernel defines them for.
 */
#ifndef MEMCORE_FOLIO_FLAGS_TABLE_H
#define MEMCORE_FOLIO_FLAGS_TABLE_H

#include "memcore/page_flags.h"

/*
 * The helpers a row may list, in the order memcore generates them:
 * X(OP) gives MCF_OP_<OP>, the kernel helper spelled <op>_<name> with the
 * folio_ moved in (folio_test_X, __folio_set_X, ...).
 */
#define MCF_OPS(X) \
	X(TEST)		/* folio_test_X */ \
	X(SET)		/* folio_set_X (atomic) */ \
	X(CLEAR)	/* folio_clear_X (atomic) */ \
	X(__SET)	/* __folio_set_X (non-atomic) */ \
	X(__CLEAR)	/* __folio_clear_X (non-atomic) */ \
	X(TEST_SET)	/* folio_test_set_X */ \
	X(TEST_CLEAR)	/* folio_test_clear_X */ \
	X(MARK)		/* folio_mark_X (set, with a barrier) */ \
	X(__MARK)	/* __folio_mark_X */

enum mcf_op_bit {
#define MCF_OP_BIT(op)	MCF_OPBIT_##op,
	MCF_OPS(MCF_OP_BIT)
#undef MCF_OP_BIT
	MCF_NR_OPS
};

enum mcf_op {
#define MCF_OP_MASK(op)	MCF_OP_##op = 1 << MCF_OPBIT_##op,
	MCF_OPS(MCF_OP_MASK)
#undef MCF_OP_MASK
};

/* The kernel's helper-generating macros, as op sets. */
#define MCF_FLAG		(MCF_OP_TEST | MCF_OP_SET | MCF_OP_CLEAR)	/* FOLIO_FLAG, PAGEFLAG */
#define MCF_TESTSC		(MCF_OP_TEST_SET | MCF_OP_TEST_CLEAR)		/* TESTSCFLAG */
#define MCF___FLAG		(MCF_OP_TEST | MCF_OP___SET | MCF_OP___CLEAR)	/* __PAGEFLAG */

/*
 * What a row's test means when it is more than one bit: X(SPECIAL, meaning)
 * gives MCF_SPECIAL_<SPECIAL>; the meaning ("" for one bit) is what the
 * Python table FOLIO_FLAG_HELPERS and the method docstrings say.
 */
#define MCF_SPECIALS(X) \
	X(NONE, "")					/* one bit of the flags word */ \
	X(SWAPCACHE, "PG_swapcache and PG_swapbacked")	/* the bit, and PG_swapbacked */ \
	X(FALSE, "not configured: always false")	/* test is false, set/clear do nothing */ \
	X(HIGHMEM, "the zone field is ZONE_HIGHMEM")	/* not a bit */ \
	X(ANON, "folio->mapping has FOLIO_MAPPING_ANON")	/* not a bit */ \
	X(KSM, "folio->mapping low bits are FOLIO_MAPPING_KSM")	/* not a bit */

enum mcf_special {
#define MCF_SPECIAL_ENUM(special, meaning)	MCF_SPECIAL_##special,
	MCF_SPECIALS(MCF_SPECIAL_ENUM)
#undef MCF_SPECIAL_ENUM
	MCF_NR_SPECIALS
};

/* Rows whose test is not a flag bit use this bit number. */
#define MCF_NO_BIT		(-1)

#if defined(CONFIG_MMU)
# define MCF_ROW_MLOCKED(X) \
	X(mlocked, PG_mlocked, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP___CLEAR | MCF_OP_TEST_CLEAR | MCF_OP_TEST_SET, MCF_SPECIAL_NONE)
#else
# define MCF_ROW_MLOCKED(X) \
	X(mlocked, MCF_NO_BIT, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP___CLEAR | MCF_OP_TEST_CLEAR | MCF_OP_TEST_SET, MCF_SPECIAL_FALSE)
#endif

#if defined(CONFIG_MEMORY_FAILURE)
# define MCF_ROW_HWPOISON(X) \
	X(hwpoison, PG_hwpoison, FOLIO_HEAD_PAGE, MCF_FLAG | MCF_TESTSC, MCF_SPECIAL_NONE)
#else	/* PAGEFLAG_FALSE(HWPoison, hwpoison) */
# define MCF_ROW_HWPOISON(X) \
	X(hwpoison, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_FALSE)
#endif

#if defined(CONFIG_MEMORY_FAILURE) && defined(CONFIG_TRANSPARENT_HUGEPAGE)
# define MCF_ROW_HAS_HWPOISONED(X) \
	X(has_hwpoisoned, PG_has_hwpoisoned, FOLIO_SECOND_PAGE, MCF_FLAG, MCF_SPECIAL_NONE)
#else	/* FOLIO_FLAG_FALSE(has_hwpoisoned) */
# define MCF_ROW_HAS_HWPOISONED(X) \
	X(has_hwpoisoned, MCF_NO_BIT, FOLIO_SECOND_PAGE, MCF_FLAG, MCF_SPECIAL_FALSE)
#endif

#if defined(CONFIG_PAGE_IDLE_FLAG) && defined(CONFIG_64BIT)
# define MCF_ROW_IDLE(X) \
	X(young, PG_young, FOLIO_HEAD_PAGE, MCF_OP_TEST | MCF_OP_SET | MCF_OP_TEST_CLEAR, \
	  MCF_SPECIAL_NONE) \
	X(idle, PG_idle, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE)
#elif !defined(CONFIG_PAGE_IDLE_FLAG)	/* FOLIO_FLAG_FALSE + FOLIO_TEST_CLEAR_FLAG_FALSE */
# define MCF_ROW_IDLE(X) \
	X(young, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_FLAG | MCF_OP_TEST_CLEAR, MCF_SPECIAL_FALSE) \
	X(idle, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_FALSE)
#else
/* PAGE_IDLE_FLAG on 32-bit: page_ext flags, which memcore does not model */
# define MCF_ROW_IDLE(X)
#endif

#if defined(CONFIG_TRANSPARENT_HUGEPAGE)
# define MCF_ROW_THP(X) \
	X(large_rmappable, PG_large_rmappable, FOLIO_SECOND_PAGE, MCF_FLAG, MCF_SPECIAL_NONE) \
	X(partially_mapped, PG_partially_mapped, FOLIO_SECOND_PAGE, MCF_FLAG, MCF_SPECIAL_NONE)
#else
# define MCF_ROW_THP(X) \
	X(large_rmappable, MCF_NO_BIT, FOLIO_SECOND_PAGE, MCF_FLAG, MCF_SPECIAL_FALSE) \
	X(partially_mapped, MCF_NO_BIT, FOLIO_SECOND_PAGE, MCF_FLAG, MCF_SPECIAL_FALSE)
#endif

#if defined(CONFIG_MEMORY_HOTPLUG)
# define MCF_ROW_VMEMMAP_SELF_HOSTED(X) \
	X(vmemmap_self_hosted, PG_vmemmap_self_hosted, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE)
#else
# define MCF_ROW_VMEMMAP_SELF_HOSTED(X) \
	X(vmemmap_self_hosted, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_FALSE)
#endif

#if defined(CONFIG_SWAP)
# define MCF_ROW_SWAPCACHE(X) \
	X(swapcache, PG_swapcache, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_SWAPCACHE)
#else
# define MCF_ROW_SWAPCACHE(X) \
	X(swapcache, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_FALSE)
#endif

#if defined(CONFIG_HIGHMEM)
# define MCF_ROW_HIGHMEM(X) \
	X(highmem, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_OP_TEST, MCF_SPECIAL_HIGHMEM)
#else	/* PAGEFLAG_FALSE(HighMem, highmem) */
# define MCF_ROW_HIGHMEM(X) \
	X(highmem, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_FALSE)
#endif

#if defined(CONFIG_MIGRATION)
# define MCF_ROW_MOVABLE_OPS(X) \
	X(movable_ops, PG_movable_ops, FOLIO_HEAD_PAGE, MCF_OP_TEST | MCF_OP_SET, MCF_SPECIAL_NONE) \
	X(movable_ops_isolated, PG_movable_ops_isolated, FOLIO_HEAD_PAGE, MCF_FLAG, \
	  MCF_SPECIAL_NONE)
#else
# define MCF_ROW_MOVABLE_OPS(X) \
	X(movable_ops, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_OP_TEST | MCF_OP_SET, MCF_SPECIAL_FALSE) \
	X(movable_ops_isolated, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_FALSE)
#endif

#define MC_FOLIO_FLAGS(X) \
	X(locked, PG_locked, FOLIO_HEAD_PAGE, MCF___FLAG, MCF_SPECIAL_NONE) \
	X(waiters, PG_waiters, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE) \
	X(referenced, PG_referenced, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP_TEST_CLEAR | MCF_OP___SET, MCF_SPECIAL_NONE) \
	X(uptodate, PG_uptodate, FOLIO_HEAD_PAGE, \
	  MCF_OP_TEST | MCF_OP_CLEAR | MCF_OP_MARK | MCF_OP___MARK, MCF_SPECIAL_NONE) \
	X(dirty, PG_dirty, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_TESTSC | MCF_OP___CLEAR, MCF_SPECIAL_NONE) \
	X(lru, PG_lru, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP___CLEAR | MCF_OP_TEST_CLEAR, MCF_SPECIAL_NONE) \
	X(head, PG_head, FOLIO_HEAD_PAGE, \
	  MCF_OP_TEST | MCF_OP___SET | MCF_OP___CLEAR | MCF_OP_CLEAR, MCF_SPECIAL_NONE) \
	X(active, PG_active, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP___CLEAR | MCF_OP_TEST_CLEAR, MCF_SPECIAL_NONE) \
	X(workingset, PG_workingset, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP_TEST_CLEAR, MCF_SPECIAL_NONE) \
	X(checked, PG_checked, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE) \
	X(pinned, PG_pinned, FOLIO_HEAD_PAGE, MCF_FLAG | MCF_TESTSC, MCF_SPECIAL_NONE) \
	X(savepinned, PG_savepinned, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE) \
	X(foreign, PG_foreign, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE) \
	X(xen_remapped, PG_xen_remapped, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP_TEST_CLEAR, MCF_SPECIAL_NONE) \
	X(reserved, PG_reserved, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP___SET | MCF_OP___CLEAR, MCF_SPECIAL_NONE) \
	X(swapbacked, PG_swapbacked, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP___SET | MCF_OP___CLEAR, MCF_SPECIAL_NONE) \
	X(private, PG_private, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE) \
	X(private_2, PG_private_2, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE) \
	X(owner_2, PG_owner_2, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE) \
	X(writeback, PG_writeback, FOLIO_HEAD_PAGE, MCF_OP_TEST | MCF_TESTSC, MCF_SPECIAL_NONE) \
	X(mappedtodisk, PG_mappedtodisk, FOLIO_HEAD_PAGE, MCF_FLAG, MCF_SPECIAL_NONE) \
	X(reclaim, PG_reclaim, FOLIO_HEAD_PAGE, MCF_FLAG | MCF_OP_TEST_CLEAR, MCF_SPECIAL_NONE) \
	X(readahead, PG_readahead, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP_TEST_CLEAR, MCF_SPECIAL_NONE) \
	MCF_ROW_HIGHMEM(X) \
	MCF_ROW_SWAPCACHE(X) \
	X(unevictable, PG_unevictable, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP___CLEAR | MCF_OP_TEST_CLEAR, MCF_SPECIAL_NONE) \
	MCF_ROW_MLOCKED(X) \
	MCF_ROW_HWPOISON(X) \
	MCF_ROW_IDLE(X) \
	X(dropbehind, PG_dropbehind, FOLIO_HEAD_PAGE, \
	  MCF_FLAG | MCF_OP_TEST_CLEAR | MCF_OP___SET, MCF_SPECIAL_NONE) \
	X(reported, PG_reported, FOLIO_HEAD_PAGE, MCF___FLAG, MCF_SPECIAL_NONE) \
	MCF_ROW_VMEMMAP_SELF_HOSTED(X) \
	MCF_ROW_MOVABLE_OPS(X) \
	MCF_ROW_THP(X) \
	MCF_ROW_HAS_HWPOISONED(X) \
	X(anon, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_OP_TEST, MCF_SPECIAL_ANON) \
	X(ksm, MCF_NO_BIT, FOLIO_HEAD_PAGE, MCF_OP_TEST, MCF_SPECIAL_KSM)

/* tools/codegen.py preprocesses this file with MC_FLAG_TABLE_DUMP to read
 * the ops, the specials and the rows. */
#if defined(MC_FLAG_TABLE_DUMP)
#define MCF_DUMP_OP(op) @MCFOP #op @
MCF_OPS(MCF_DUMP_OP)
#define MCF_DUMP_SPECIAL(special, meaning) @MCFSPECIAL #special ; meaning @
MCF_SPECIALS(MCF_DUMP_SPECIAL)
#define MCF_DUMP_ROW(name, bit, page, ops, special) @MCFLAG name ; bit ; page ; ops ; special @
MC_FOLIO_FLAGS(MCF_DUMP_ROW)
#endif

#endif /* MEMCORE_FOLIO_FLAGS_TABLE_H */
