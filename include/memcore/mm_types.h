/* SPDX-License-Identifier: MIT */
/*
 * memcore/mm_types.h - struct page, struct folio and struct ptdesc as
 * Linux 6.18 lays them out (include/linux/mm_types.h), at the word size of
 * the variant being compiled.
 *
 * Member names, order, unions and their nesting are the kernel's, so that
 * offsetof() in this file equals the kernel's and the layout probe reports
 * the same paths pahole prints.  Comments say which user owns each member.
 * Pointers are modeled addresses (memcore/types.h), so a 32-bit build is a
 * real ILP32 layout even inside a 64-bit process.
 */
#ifndef MEMCORE_MM_TYPES_H
#define MEMCORE_MM_TYPES_H

#include "memcore/types.h"
#include "memcore/page_flags_layout.h"

/* x86 selects HAVE_ALIGNED_STRUCT_PAGE: double-word alignment for SLUB's
 * cmpxchg on freelist+counters. */
#if defined(CONFIG_HAVE_ALIGNED_STRUCT_PAGE)
#define _struct_page_alignment	MC_ALIGNED(2 * sizeof(mc_ulong))
#else
#define _struct_page_alignment	MC_ALIGNED(sizeof(mc_ulong))
#endif

struct page {
	memdesc_flags_t flags;		/* PG_* bits, node/zone/section fields */
	union {
		struct {	/* page cache, anonymous and free pages */
			union {
				struct list_head lru;		/* LRU list, or generic list of the owner */
				struct list_head buddy_list;	/* free page: zone free_area list */
				struct list_head pcp_list;	/* free page: per-CPU page list */
				struct llist_node pcp_llist;	/* free page: lockless deferred free */
			};
			MC_PTR(struct address_space) mapping;	/* file mapping, anon_vma|1, or NULL */
			union {
				mc_ulong __folio_index;	/* offset within mapping (use folio->index) */
				mc_ulong share;		/* fsdax: number of sharing mappings */
				mc_ulong buddy_since;	/* free page: when it became free (in the running
							 * 6.18 kernel's BTF: a local free-page-reporting
							 * patch, not upstream) */
			};
			mc_ulong private;	/* owner data; buddy order when PGTY_buddy */
		};
		struct {	/* page_pool pages (networking) */
			mc_ulong pp_magic;		/* PP_SIGNATURE; bit 0 must stay clear */
			MC_PTR(struct page_pool) pp;	/* owning page pool */
			mc_ulong _pp_mapping_pad;	/* overlays mapping: must stay zero */
			mc_ulong dma_addr;		/* DMA address of the page */
			atomic_long_t pp_ref_count;	/* page_pool fragment references */
		};
		struct {	/* tail pages of a compound page */
			mc_ulong compound_head;	/* head page address | 1 */
		};
		struct {	/* ZONE_DEVICE pages */
			MC_PTR(void) _unused_pgmap_compound_head;	/* overlays compound_head */
			MC_PTR(void) zone_device_data;	/* owner of the device page */
		};
		struct rcu_head rcu_head;	/* RCU-deferred freeing of the page */
	};
	union {	/* one 32-bit word, shared */
		unsigned int page_type;	/* top byte PGTY_*: buddy, slab, table, ... */
		atomic_t _mapcount;	/* page table mappings - 1 (when no type) */
	};
	atomic_t _refcount;		/* references; 0 means free or frozen */
#if defined(CONFIG_MEMCG)
	mc_ulong memcg_data;		/* memcg pointer or obj_cgroup vector */
#elif defined(CONFIG_SLAB_OBJ_EXT)
	mc_ulong _unused_slab_obj_exts;	/* overlaid by slab->obj_exts */
#endif
#if defined(WANT_PAGE_VIRTUAL)
	MC_PTR(void) virtual;		/* kernel address, NULL if highmem unmapped */
#endif
#if defined(LAST_CPUPID_NOT_IN_PAGE_FLAGS)
	int _last_cpupid;		/* NUMA balancing: last cpu+pid to touch */
#endif
} _struct_page_alignment;

/* The first tail page has a spare word after _refcount (the memcg_data
 * slot) to hold the page count of a large folio. */
#if defined(CONFIG_MEMCG) || defined(CONFIG_SLAB_OBJ_EXT)
#define NR_PAGES_IN_LARGE_FOLIO	1
#endif

/*
 * struct folio overlays the first four struct pages of a compound page.
 * Members of the first page sit where struct page keeps them; each later
 * section starts at n * sizeof(struct page) (see the FOLIO_MATCH checks).
 */
struct folio {
	union {
		struct {	/* page 0: the head page */
			memdesc_flags_t flags;		/* head page flags */
			union {
				struct list_head lru;	/* LRU list (lru_lock) */
				struct {
					MC_PTR(void) __filler;		/* keeps bit 0 of compound_head clear */
					unsigned int mlock_count;	/* mlocked folio: number of mlocks */
				};
				MC_PTR(struct dev_pagemap) pgmap;	/* ZONE_DEVICE: owning pagemap */
			};
			MC_PTR(struct address_space) mapping;	/* file mapping or anon_vma|1 */
			union {
				mc_ulong index;		/* offset in mapping, in pages */
				mc_ulong share;		/* fsdax sharing count */
			};
			union {
				MC_PTR(void) private;	/* filesystem private data */
				swp_entry_t swap;	/* swap cache: the swap entry */
			};
			atomic_t _mapcount;		/* order-0: mappings - 1 */
			atomic_t _refcount;		/* folio references */
#if defined(CONFIG_MEMCG)
			mc_ulong memcg_data;		/* memory cgroup */
#elif defined(CONFIG_SLAB_OBJ_EXT)
			mc_ulong _unused_slab_obj_exts;	/* reserved for slab */
#endif
#if defined(WANT_PAGE_VIRTUAL)
			MC_PTR(void) virtual;		/* kernel address */
#endif
#if defined(LAST_CPUPID_NOT_IN_PAGE_FLAGS)
			int _last_cpupid;		/* NUMA balancing */
#endif
		};
		struct page page;	/* the head page itself */
	};
	union {
		struct {	/* page 1: first tail page */
			mc_ulong _flags_1;		/* low byte: folio order; PF_SECOND flags */
			mc_ulong _head_1;		/* compound_head of page 1 */
			union {
				struct {
					atomic_t _large_mapcount;	/* total mappings - 1 */
					atomic_t _nr_pages_mapped;	/* pages mapped by PTEs */
#if defined(CONFIG_64BIT)
					atomic_t _entire_mapcount;	/* PMD mappings - 1 */
					atomic_t _pincount;		/* FOLL_PIN pins */
#endif
					mm_id_mapcount_t _mm_id_mapcount[2];	/* mappings per tracked mm - 1 */
					union {
						mm_id_t _mm_id[2];	/* the two tracked mms */
						mc_ulong _mm_ids;	/* both ids plus exclusive bit */
					};
				};
				mc_ulong _usable_1[4];	/* the same four words, unnamed */
			};
			atomic_t _mapcount_1;		/* page 1's _mapcount: unused */
			atomic_t _refcount_1;		/* page 1's _refcount: must stay 0 */
#if defined(NR_PAGES_IN_LARGE_FOLIO)
			unsigned int _nr_pages;		/* 1 << order */
#endif
		};
		struct page __page_1;	/* page 1 as a struct page */
	};
	union {
		struct {	/* page 2: second tail page */
			mc_ulong _flags_2;		/* page 2 flags */
			mc_ulong _head_2;		/* compound_head of page 2 */
			struct list_head _deferred_list;	/* THP deferred split queue */
#if !defined(CONFIG_64BIT)
			atomic_t _entire_mapcount;	/* PMD mappings - 1 (32-bit home) */
			atomic_t _pincount;		/* FOLL_PIN pins (32-bit home) */
#endif
		};
		struct page __page_2;	/* page 2 as a struct page */
	};
	union {
		struct {	/* page 3: hugetlb folios only */
			mc_ulong _flags_3;		/* page 3 flags */
			mc_ulong _head_3;		/* compound_head of page 3 */
			MC_PTR(void) _hugetlb_subpool;		/* hugetlbfs subpool */
			MC_PTR(void) _hugetlb_cgroup;		/* hugetlb cgroup */
			MC_PTR(void) _hugetlb_cgroup_rsvd;	/* hugetlb cgroup reservation */
			MC_PTR(void) _hugetlb_hwpoison;		/* list of poisoned subpages */
		};
		struct page __page_3;	/* page 3 as a struct page */
	};
};

/* struct ptdesc: a page-table page.  Shares struct page's memory. */
struct ptdesc {
	memdesc_flags_t pt_flags;		/* page flags of the table page */
	union {
		struct rcu_head pt_rcu_head;	/* RCU freeing of the table */
		struct list_head pt_list;	/* pgd_list / deposited tables */
		struct {
			mc_ulong _pt_pad_1;	/* overlays compound_head: bit 0 clear */
			pgtable_t pmd_huge_pte;	/* THP: deposited PTE table */
		};
	};
	mc_ulong __page_mapping;		/* overlays page->mapping: unused */
	union {
		mc_ulong pt_index;		/* pgd: user address it covers */
		MC_PTR(struct mm_struct) pt_mm;	/* x86 pgd: owning mm */
		atomic_t pt_frag_refcount;	/* powerpc/s390 fragments */
#if defined(CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING)
		atomic_t pt_share_count;	/* shared hugetlb PMD table users */
#endif
	};
	union {
		mc_ulong _pt_pad_2;		/* overlays page->private */
		spinlock_t ptl;			/* split page-table lock */
	};
	unsigned int __page_type;		/* PGTY_table */
	atomic_t __page_refcount;		/* page reference count */
#if defined(CONFIG_MEMCG)
	mc_ulong pt_memcg_data;			/* memcg of the table */
#endif
};

#if !defined(MC_PARSE)
/*
 * FOLIO_MATCH / TABLE_MATCH: the kernel's own compile-time proof that the
 * overlays line up.  They hold for both word sizes.
 */
#define FOLIO_MATCH(pg, fl) \
	_Static_assert(offsetof(struct page, pg) == offsetof(struct folio, fl), \
		       "folio." #fl " must overlay page." #pg)
FOLIO_MATCH(flags, flags);
FOLIO_MATCH(lru, lru);
FOLIO_MATCH(mapping, mapping);
FOLIO_MATCH(compound_head, lru);
FOLIO_MATCH(__folio_index, index);
FOLIO_MATCH(private, private);
FOLIO_MATCH(_mapcount, _mapcount);
FOLIO_MATCH(_refcount, _refcount);
#if defined(CONFIG_MEMCG)
FOLIO_MATCH(memcg_data, memcg_data);
#endif
#if defined(LAST_CPUPID_NOT_IN_PAGE_FLAGS)
FOLIO_MATCH(_last_cpupid, _last_cpupid);
#endif
#undef FOLIO_MATCH

#define FOLIO_MATCH_N(n, pg, fl) \
	_Static_assert(offsetof(struct folio, fl) == \
		       offsetof(struct page, pg) + (n) * sizeof(struct page), \
		       "folio." #fl " must sit on page " #n "'s " #pg)
FOLIO_MATCH_N(1, flags, _flags_1);
FOLIO_MATCH_N(1, compound_head, _head_1);
FOLIO_MATCH_N(1, _mapcount, _mapcount_1);
FOLIO_MATCH_N(1, _refcount, _refcount_1);
FOLIO_MATCH_N(2, flags, _flags_2);
FOLIO_MATCH_N(2, compound_head, _head_2);
FOLIO_MATCH_N(3, flags, _flags_3);
FOLIO_MATCH_N(3, compound_head, _head_3);
#undef FOLIO_MATCH_N
_Static_assert(offsetof(struct folio, __page_1) == 1 * sizeof(struct page), "folio page 1");
_Static_assert(offsetof(struct folio, __page_2) == 2 * sizeof(struct page), "folio page 2");
_Static_assert(offsetof(struct folio, __page_3) == 3 * sizeof(struct page), "folio page 3");
_Static_assert(sizeof(struct folio) == 4 * sizeof(struct page), "folio spans four pages");

#define TABLE_MATCH(pg, pt) \
	_Static_assert(offsetof(struct page, pg) == offsetof(struct ptdesc, pt), \
		       "ptdesc." #pt " must overlay page." #pg)
TABLE_MATCH(flags, pt_flags);
TABLE_MATCH(compound_head, pt_list);
TABLE_MATCH(compound_head, _pt_pad_1);
TABLE_MATCH(mapping, __page_mapping);
TABLE_MATCH(__folio_index, pt_index);
TABLE_MATCH(rcu_head, pt_rcu_head);
TABLE_MATCH(page_type, __page_type);
TABLE_MATCH(_refcount, __page_refcount);
#if defined(CONFIG_MEMCG)
TABLE_MATCH(memcg_data, pt_memcg_data);
#endif
#undef TABLE_MATCH
_Static_assert(sizeof(struct ptdesc) <= sizeof(struct page), "ptdesc fits in a page");
#endif /* !MC_PARSE */

#endif /* MEMCORE_MM_TYPES_H */
