/* SPDX-License-Identifier: MIT */
/*
 * memcore/memdesc_types.h - the separately allocated descriptors of the
 * memdesc designs (interim, flags_memdesc, memdesc): struct folio, struct
 * slab and struct ptdesc, each allocated from a 16-byte aligned
 * SLAB_TYPESAFE_BY_RCU cache and pointed at by the memdesc_t of every page
 * it describes; and struct buddy, the header of a free block for the
 * designs whose struct page has no room for free-list links.
 *
 * The plan fixes the folio's members (kernelnewbies Memdescs/Path and
 * FolioAlloc; memdesc-plan.md section 5); slab and ptdesc are the 6.18
 * structs less the words that only existed to overlay struct page, plus
 * where their pages are (a descriptor no longer sits on its first page).
 * Every descriptor starts with a memdesc_flags_t: its lock and flags, and
 * the node, zone and section of its memory (claim S4).
 */
#ifndef MEMCORE_MEMDESC_TYPES_H
#define MEMCORE_MEMDESC_TYPES_H

#include "memcore/types.h"
#include "memcore/page_flags_layout.h"
#include "memcore/slab_freelist.h"

/* Descriptor caches align objects to MEMDESC_ALIGN (memcore/memdesc.h). */
#define _memdesc_alignment	MC_ALIGNED(16)

/*
 * Where a descriptor's memory is: the first PFN and the order, packed in
 * one word.  PFN bits: physical address bits less the page shift (52-bit
 * x86_64 physical addresses need 40, i386 PAE 24); the order takes the rest
 * (at least 6 bits: 2^63 pages is more than any block).
 */
#define MC_DESC_ORDER_BITS	6
#define MC_DESC_PFN_BITS	(BITS_PER_LONG - MC_DESC_ORDER_BITS)
#if MC_MAX_PHYSMEM_BITS - PAGE_SHIFT > MC_DESC_PFN_BITS
# error "memcore: a descriptor's pfn field cannot hold every PFN"
#endif

/*
 * struct folio: the plan's separately allocated folio.  A small folio (one
 * page) is the members up to _large_mapcount and comes from the small folio
 * cache; a large folio also has the large-folio members and comes from the
 * large cache (folio_small_cache / folio_large_cache of the FolioAlloc
 * page).  The refcount lives here, not in the pages (claim S7).
 */
struct folio {
	memdesc_flags_t flags;		/* FL_* bits and lock; node/zone/section */
	union {
		struct list_head lru;	/* LRU list (lru_lock) */
		struct {
			MC_PTR(void) __filler;		/* overlays lru.next */
			unsigned int mlock_count;	/* mlocked folio: number of mlocks */
		};
	};
	MC_PTR(struct address_space) mapping;	/* file mapping or anon_vma|1 */
	union {
		mc_ulong index;			/* offset in mapping, in pages */
		mc_ulong share;			/* fsdax sharing count */
	};
	union {
		MC_PTR(void) private;		/* filesystem private data */
		swp_entry_t swap;		/* swap cache: the swap entry */
	};
	atomic_t _refcount;			/* folio references (S7) */
	atomic_t _mapcount;			/* small folio: mappings - 1 */
	atomic_t _pincount;			/* FOLL_PIN pins */
	u8 _order;				/* log2 of the number of pages */
	mc_ulong pfn;				/* first page frame */
	mc_ulong memcg_data;			/* memory cgroup */
	/* ---- large folios only (folio_large_cache objects) ---- */
	mc_ulong _flags_1;			/* what 6.18 keeps in page 1's flags: PF_SECOND flags */
	atomic_t _large_mapcount;		/* total mappings - 1 */
	atomic_t _entire_mapcount;		/* PMD mappings - 1 */
	atomic_t _nr_pages_mapped;		/* pages mapped by PTEs */
	mm_id_mapcount_t _mm_id_mapcount[2];	/* mappings per tracked mm - 1 */
	union {
		mm_id_t _mm_id[2];		/* the two tracked mms */
		mc_ulong _mm_ids;		/* both ids plus exclusive bit */
	};
	struct list_head _deferred_list;	/* THP deferred split queue */
} _memdesc_alignment;

/* Bytes of a small folio: the object size of the small folio cache. */
#define MC_SMALL_FOLIO_SIZE	offsetof(struct folio, _flags_1)

/*
 * struct slab: 6.18's struct slab without the words that kept it in step
 * with struct page (__page_type, __page_refcount), plus where its pages are.
 */
struct slab {
	memdesc_flags_t flags;			/* lock and flags; node/zone/section (S4) */
	MC_PTR(struct kmem_cache) slab_cache;	/* owning cache */
#include "memcore/slab_members.h"	/* slab_list .. freelist, counters .. rcu_head */
#if defined(CONFIG_SLAB_OBJ_EXT)
	mc_ulong obj_exts;			/* per-object extension vector */
#endif
	mc_ulong pfn:MC_DESC_PFN_BITS;		/* first page frame */
	mc_ulong order:MC_DESC_ORDER_BITS;	/* slab order */
} _memdesc_alignment;

/*
 * struct ptdesc: a page-table page's descriptor.  6.18's members less the
 * struct page overlay padding; the table page's refcount stays (S7: the
 * generic walkers take it).
 */
struct ptdesc {
	memdesc_flags_t pt_flags;		/* lock and flags; node/zone/section */
	union {
		struct rcu_head pt_rcu_head;	/* RCU freeing of the table */
		struct list_head pt_list;	/* pgd_list / deposited tables */
		struct {
			mc_ulong _pt_pad_1;	/* overlays pt_list.next */
			pgtable_t pmd_huge_pte;	/* THP: deposited PTE table */
		};
	};
	union {
		mc_ulong pt_index;		/* pgd: user address it covers */
		MC_PTR(struct mm_struct) pt_mm;	/* x86 pgd: owning mm */
		atomic_t pt_frag_refcount;	/* powerpc/s390 fragments */
#if defined(CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING)
		atomic_t pt_share_count;	/* shared hugetlb PMD table users */
#endif
	};
	spinlock_t ptl;				/* split page-table lock */
	atomic_t _refcount;			/* references to the table page */
#if defined(CONFIG_MEMCG)
	mc_ulong pt_memcg_data;			/* memcg of the table */
#endif
	mc_ulong pfn:MC_DESC_PFN_BITS;		/* the table's page frame */
	mc_ulong order:MC_DESC_ORDER_BITS;	/* table order (x86 PTI pgd: 1) */
} _memdesc_alignment;

/*
 * struct buddy: the first bytes of a free block, where the designs with no
 * room in struct page keep its free-list links (LWN 974937 sketches
 * { prev; next; }).  The links name blocks by PFN, not address: a HIGHMEM
 * block has no kernel address, and is reached with kmap_local_page() (the
 * model counts those).  The list's ends link to the list head, a struct
 * list_head in the zone or the per_cpu_pages, by its address.  The links
 * are in list_head order (next first), so that list_del() and friends walk
 * both kinds of link (memcore/free_list.h).
 */
struct buddy {
	mc_ulong next;				/* PFN of the next free block, or the head's address */
	mc_ulong prev;				/* PFN of the previous free block, or the head's address */
};

#if !defined(MC_PARSE)
_Static_assert(offsetof(struct slab, freelist) % sizeof(freelist_aba_t) == 0,
	       "freelist+counters must be double-word aligned for cmpxchg");
_Static_assert(offsetof(struct folio, flags) == 0 && offsetof(struct slab, flags) == 0 &&
	       offsetof(struct ptdesc, pt_flags) == 0,
	       "every descriptor starts with its flags word (S4)");
#endif

#endif /* MEMCORE_MEMDESC_TYPES_H */
