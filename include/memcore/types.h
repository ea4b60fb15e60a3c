/* SPDX-License-Identifier: MIT */
/*
 * memcore/types.h - the kernel's basic types at the modeled word size.
 *
 * One source, three ways of compiling it:
 *
 *  - the model (default): both word sizes live in one 64-bit host process,
 *    so "unsigned long" and every pointer of the modeled kernel become
 *    fixed-width integers of MC_BITS bits holding *modeled* addresses, and a
 *    64-bit integer inside a 32-bit struct keeps the i386 ABI's 4-byte
 *    alignment.  Layouts are then byte-for-byte those of the modeled ABI.
 *  - MC_NATIVE_TYPES: the kernel's own C types (unsigned long, real
 *    pointers).  tests/test_layout_m32.py compiles the same struct headers
 *    this way with `gcc -m32` and checks every offset against the model.
 *  - MC_PARSE: like MC_NATIVE_TYPES but without GCC extensions, for the
 *    build-time layout table generator (pycparser reads the preprocessed
 *    headers to learn member names, nesting and kernel type names).
 *
 * Struct headers therefore spell kernel types through these names:
 *   mc_ulong / mc_long   unsigned long / long
 *   MC_PTR(T)            T * (a modeled address in the model)
 *   u8 u16 u32 u64 s64   as in the kernel; u64 is 4-byte aligned in 32-bit structs
 */
#ifndef MEMCORE_TYPES_H
#define MEMCORE_TYPES_H

#include "memcore/config.h"

#if defined(MC_PARSE)
# define MC_NATIVE_TYPES 1
#endif

#if !defined(MC_PARSE)
# include <stddef.h>
# include <stdint.h>
#endif

#if defined(MC_NATIVE_TYPES)
/* ---- the kernel's own spelling: for gcc -m32/-m64 probes and the parser -- */
# define mc_ulong		unsigned long
# define mc_long		long
# define MC_PTR(T)		T *
typedef unsigned char		u8;
typedef unsigned short		u16;
typedef unsigned int		u32;
typedef unsigned long long	u64;
typedef long long		s64;
# if defined(MC_PARSE)
typedef u64			u128;	/* name only: pycparser lacks __int128 */
# elif MC_BITS == 64
typedef unsigned __int128	u128;
# endif
#else
/* ---- the model: word-size integers holding modeled addresses ------------ */
typedef uint8_t			u8;
typedef uint16_t		u16;
typedef uint32_t		u32;
# if MC_BITS == 64
typedef uint64_t		u64;
typedef int64_t			s64;
typedef unsigned __int128	u128;
typedef uint64_t		mc_ulong;	/* unsigned long */
typedef int64_t			mc_long;	/* long */
# else
/* i386 aligns 8-byte integers to 4 inside structs. */
typedef uint64_t		u64 __attribute__((aligned(4)));
typedef int64_t			s64 __attribute__((aligned(4)));
typedef uint32_t		mc_ulong;	/* unsigned long */
typedef int32_t			mc_long;	/* long */
# endif
# define MC_PTR(T)		mc_ulong	/* modeled kernel address */
#endif

/* A modeled kernel virtual address; 0 is NULL. */
typedef mc_ulong		mc_addr_t;

#if defined(MC_PARSE)
# define MC_ALIGNED(n)
#else
# define MC_ALIGNED(n)		__attribute__((aligned(n)))
#endif

/* ---- include/linux/types.h ----------------------------------------------- */
typedef struct {
	int counter;			/* atomic_read()/atomic_set() target */
} atomic_t;

#if MC_BITS == 64
typedef struct {
	s64 counter;			/* atomic64_t on 64-bit */
} atomic_long_t;
#else
typedef atomic_t atomic_long_t;		/* atomic_long_t is atomic_t on 32-bit */
#endif

struct list_head {
	MC_PTR(struct list_head) next;	/* next entry, or the head itself */
	MC_PTR(struct list_head) prev;	/* previous entry, or the head itself */
};

struct llist_node {
	MC_PTR(struct llist_node) next;	/* lock-less singly linked list */
};

struct callback_head {
	MC_PTR(struct callback_head) next;	/* next queued callback */
	MC_PTR(void) func;			/* void (*)(struct callback_head *) */
} MC_ALIGNED(sizeof(mc_ulong));
#define rcu_head callback_head

/* ---- include/linux/spinlock_types.h, without lock debugging -------------- */
typedef struct {
	u32 val;			/* qspinlock word: locked, pending, tail */
} spinlock_t;

/* ---- include/linux/mm_types.h typedefs ------------------------------------ */
typedef struct {
	mc_ulong f;			/* the page-flags word (PG_* bits + fields) */
} memdesc_flags_t;

typedef struct {
	mc_ulong val;			/* swap type and offset */
} swp_entry_t;

#if MC_BITS == 64
typedef int mm_id_mapcount_t;		/* per-MM mapcount of a large folio */
typedef unsigned int mm_id_t;		/* small id of an mm_struct */
#else
typedef short mm_id_mapcount_t;
typedef unsigned short mm_id_t;
#endif

/* x86: a page table page is referenced by its struct page. */
typedef MC_PTR(struct page) pgtable_t;

#endif /* MEMCORE_TYPES_H */
