/* SPDX-License-Identifier: MIT */
/*
 * memcore/machine.h - the host side of a modeled machine, and how a
 * modeled kernel address becomes a host pointer.
 *
 * Modeled memory:
 *   - physical RAM [0, nr_pfns << PAGE_SHIFT) is one lazily backed host
 *     mapping (`phys`): host memory grows only with pages whose contents are
 *     touched (descriptors, slab objects);
 *   - the memmap is a host array of the variant's struct page, one per PFN
 *     of every present section (`memmap`); its modeled address is the
 *     vmemmap region on 64-bit and a lowmem direct-map range on 32-bit;
 *   - kernel objects the model allocates at boot (pglist_data, pcp lists,
 *     pageblock bitmaps) sit in reserved physical pages like memblock
 *     allocations, reached through the direct map.
 * A modeled address is translated to a host pointer by one range check and
 * one add (mc_host()).
 */
#ifndef MEMCORE_MACHINE_H
#define MEMCORE_MACHINE_H

#include "memcore/design_types.h"	/* struct page, ... of the design */
#include "memcore/mmzone.h"
#include "memcore/xnames.h"
#include "memcore/slub_sizing.h"	/* kmalloc_caches[][] dimensions */

/* ---- the modeled kernel address space (x86) ------------------------------ */
#if MC_BITS == 64
#define MC_PAGE_OFFSET		0xffff888000000000UL	/* direct map, 4-level paging */
#define MC_VMEMMAP_START	0xffffea0000000000UL	/* vmemmap, 4-level paging */
#define MC_LOWMEM_LIMIT		(~0UL)			/* all RAM is direct mapped */
#define POISON_POINTER_DELTA	0xdead000000000000UL	/* CONFIG_ILLEGAL_POINTER_VALUE */
#else
#define MC_PAGE_OFFSET		0xC0000000UL		/* 3G/1G split */
#define MC_LOWMEM_LIMIT		(896UL << 20)		/* 1 GiB - 128 MiB vmalloc reserve */
#define MC_VMEMMAP_START	0UL			/* no vmemmap: mem_map is in lowmem */
#define POISON_POINTER_DELTA	0UL
#endif
#define TAIL_MAPPING		((mc_ulong)(0x400 + POISON_POINTER_DELTA))
#define LIST_POISON1		((mc_ulong)(0x100 + POISON_POINTER_DELTA))
#define LIST_POISON2		((mc_ulong)(0x122 + POISON_POINTER_DELTA))

/* x86 zone boundaries, in PFNs */
#define MAX_DMA_PFN		((16UL << 20) >> PAGE_SHIFT)
#define MAX_DMA32_PFN		((4UL << 30) >> PAGE_SHIFT)

#define PAGES_PER_SECTION	(1UL << (MC_SECTION_SIZE_BITS - PAGE_SHIFT))

/* What the configuration lets a model have, for the code that boots it. */
#if defined(CONFIG_SPARSEMEM_VMEMMAP)
#define MC_HAVE_VMEMMAP		1	/* struct pages in the vmemmap region */
#else
#define MC_HAVE_VMEMMAP		0	/* a mem_map per section, in lowmem */
#endif
#if defined(CONFIG_64BIT)
#define MC_MAX_RAM_BYTES	(1ULL << 40)	/* the model's limit, not the kernel's */
#else
#define MC_MAX_RAM_BYTES	(4ULL << 30)	/* i386 PAE: what the model boots */
#endif

/*
 * A Machine given its RAM as a size: x86_64 firmware leaves the PCI hole
 * (MMIO) below 4 GiB and remaps the RAM that would sit there above 4 GiB, so
 * a size over MC_PCI_HOLE_START is RAM [0, START) plus the rest from
 * MC_PCI_HOLE_END (QEMU's pc machine puts the hole at 3 GiB).  i386 has none:
 * 6.18 uses no RAM above 4 GiB (max_pfn is capped at MAX_NONPAE_PFN since
 * HIGHMEM64G was removed), so a size is one range from 0, at most 4 GiB.
 */
#if defined(CONFIG_64BIT)
#define MC_PCI_HOLE_START	(3ULL << 30)
#define MC_PCI_HOLE_END		(4ULL << 30)
#else
#define MC_PCI_HOLE_START	0ULL	/* no hole */
#define MC_PCI_HOLE_END		0ULL
#endif

#define MC_MAX_NODES		64	/* nodes a model may have (NODES_SHIFT allows more) */
#define MC_MAX_RAM_RANGES	128	/* RAM ranges (E820_MAX_ENTRIES_ZEROPAGE is 128) */
#define MC_MAX_CPUS		64	/* modeled CPUs */
#define MC_MAX_DESC_CACHES	8	/* descriptor caches a design may have */

/* What a block of pages is allocated as, for the design's descriptor hooks. */
enum mc_desc_kind {
	MC_DK_FOLIO = 0,	/* a folio (file or anon) */
	MC_DK_SLAB = 1,		/* a slab */
	MC_DK_PTDESC = 2,	/* a page table (pagetable_alloc()) */
};

/* Errors of the nogil core; the Python layer raises the matching exception. */
enum mc_err {
	MC_OK = 0,
	MC_ENOMEM = -1,		/* page allocator could not satisfy the request */
	MC_EREFZERO = -2,	/* reference count operation on a zero count */
	MC_ENOTLOCKED = -3,	/* unlock of an unlocked folio / flags word */
	MC_EBADPAGE = -4,	/* bad page state when freeing */
	MC_ETAIL = -5,		/* a tail page where a head page is required */
	MC_ENOTLARGE = -6,	/* a second-page operation on a small folio */
	MC_EPFN = -7,		/* PFN outside the memmap */
	MC_EORDER = -8,		/* order outside 0..MAX_PAGE_ORDER */
	MC_EFREE = -9,		/* operation on a page that is free */
	MC_EINVAL = -10,	/* invalid argument */
	MC_EDEADLOCK = -11,	/* a task would wait on itself */
	MC_EADDR = -12,		/* modeled address not in modeled memory */
	MC_EBUSY = -13,		/* the object is in use */
	MC_EBLOCKED = -14,	/* the calling task is asleep */
	MC_EDOUBLEFREE = -15,	/* an object freed twice */
	MC_EINVALFREE = -16,	/* a free of something that is not an allocated object */
	MC_ECORRUPT = -17,	/* a corrupted free list or slab */
	MC_ECTOR = -18,		/* a slab constructor failed (the caller has its error) */
};

/*
 * The kinds of memblock reservation made at boot: metadata the model
 * accounts.  X(KIND, name) gives MC_RES_<KIND> and the name Machine.stats()
 * reports its bytes under (RESERVE_KIND_NAMES of the module).
 */
#define MC_RESERVE_KINDS(X) \
	X(FIRMWARE, "firmware")		/* x86 reserves the first 1 MiB */ \
	X(MEMMAP, "memmap")		/* struct page arrays */ \
	X(PGDAT, "pglist_data")		/* pglist_data (zones, free lists) */ \
	X(PAGEBLOCK, "pageblock_flags")	/* pageblock flag bytes */ \
	X(PERCPU, "per_cpu_pages")	/* per_cpu_pages of every zone and CPU */ \
	X(UNAVAILABLE, "unavailable")	/* memmap of the PFNs past the end of RAM */ \
	X(PERCPU_AREA, "percpu_area")	/* the per-CPU units (kmem_cache_cpu, ...) */ \
	X(SLAB_BOOT, "slab_boot_caches") /* the two boot kmem_caches (kmem_cache, kmem_cache_node) */

enum mc_reserve_kind {
#define MC_RES_ENUM(kind, name)	MC_RES_##kind,
	MC_RESERVE_KINDS(MC_RES_ENUM)
#undef MC_RES_ENUM
	MC_NR_RESERVE_KINDS
};

/* mc_reserve_kind_name(kind): "firmware", ...; NULL for a value that is none. */
MC_DEFINE_NAME_OF(mc_reserve_kind_name, MC_RESERVE_KINDS, MC_NR_RESERVE_KINDS)

/*
 * The model's own state beside the kernel structs: everything a step of the
 * model changes lives in C, so that a machine's whole state can be compared,
 * hashed and restored (the interleaving explorer relies on it).
 */

/* pfn_marks[pfn]: what the model knows of a PFN that no kernel field says. */
#define MC_PFN_FROZEN		0x01	/* head of a folio frozen by folio_ref_freeze() */
#define MC_PFN_RESERVED		0x02	/* reserved by memblock at boot */
#define MC_PFN_HOLE		0x04	/* not RAM: below nr_pfns but in no RAM range; its struct
					 * page (if any) is init_unavailable_range()'s: PG_reserved */
#define MC_PFN_NOMAP		0x08	/* a hole in a memory section with no RAM: no struct page
					 * (pfn_valid() is false; the host memmap stays zero) */
#define MC_PFN_SLAB_FOLIO	0x10	/* a page of a slab lent to the page cache as a folio,
					 * the slab stashed in folio->private (claim S8) */

/* What a modeled task sleeps on (mc_task.wait_kind). */
enum mc_wait_kind {
	MC_WAIT_NONE = 0,
	MC_WAIT_LOCK,		/* a bit lock: wait_key, wait_bit */
	MC_WAIT_RCU,		/* synchronize_rcu(): wait_gp */
};

struct mc_task {
	int cpu;		/* the CPU it runs on */
	int rcu_nesting;	/* rcu_read_lock() depth */
	int wait_kind;		/* enum mc_wait_kind */
	int wait_bit;		/* MC_WAIT_LOCK: the bit (PG_locked) */
	mc_ulong wait_key;	/* MC_WAIT_LOCK: modeled address of the flags word */
	uint64_t wait_gp;	/* MC_WAIT_RCU: the grace period */
};

/* A held bit lock and the task holding it (none: not recorded). */
struct mc_lock_owner {
	mc_ulong key;		/* modeled address of the flags word */
	int task;		/* index into mc_machine.tasks */
};

/* One sleeper in a folio_wait_table bucket (struct wait_page_queue). */
struct mc_waiter {
	mc_ulong key;		/* the flags word waited on */
	int task;		/* index into mc_machine.tasks */
	int bit;		/* the bit waited for */
	int exclusive;		/* EXCLUSIVE: takes the lock when woken */
};

/* A bucket of the wait table: waiters in queue order. */
struct mc_waitq {
	struct mc_waiter *w;
	int nr, cap;
};

#define PAGE_WAIT_TABLE_BITS	8
#define PAGE_WAIT_TABLE_SIZE	(1 << PAGE_WAIT_TABLE_BITS)

/* A boot reservation: PFNs [start, end) kept by memblock. */
struct mc_reservation {
	uint64_t start, end;
	int kind;		/* enum mc_reserve_kind, or -1: the memblock tail */
};
#define MC_MAX_RESERVATIONS	(2 + MC_MAX_NODES + MC_MAX_RAM_RANGES)

struct mc_machine {
	/* host memory */
	struct page *memmap;		/* memmap[pfn], pfn < memmap_pfns */
	unsigned char *phys;		/* host backing of modeled physical RAM */
	struct list_head *buddy_links;	/* per PFN: the first bytes of a free block on the designs
					 * that link free blocks through them (MC_BUDDY_LINKS_IN_BLOCK),
					 * kept beside phys so a link costs the host 16 bytes, not a page */
	uint64_t phys_bytes;		/* size of the phys mapping */
	uint64_t nr_pfns;		/* PFNs up to the end of RAM (max_pfn): 0 .. nr_pfns - 1,
					 * RAM except the holes (MC_PFN_HOLE) between the ranges */
	uint64_t memmap_pfns;		/* PFNs with a struct page (whole sections) */
	/* modeled address space */
	mc_ulong page_offset;		/* modeled address of physical 0 */
	mc_ulong memmap_va;		/* modeled address of memmap[0] */
	uint64_t memmap_bytes;		/* bytes of memmap (host and modeled) */
	uint64_t lowmem_pfns;		/* PFNs below this have a direct-map address */
	/* topology */
	int nr_nodes;
	int nr_cpus;
	uint64_t node_start_pfn[MC_MAX_NODES];
	uint64_t node_end_pfn[MC_MAX_NODES];
	int cpu_node[MC_MAX_CPUS];	/* node of each CPU */
	mc_ulong pgdat_va[MC_MAX_NODES];	/* modeled address of NODE_DATA(nid) */
	struct pglist_data *pgdat[MC_MAX_NODES];	/* host pointer to it */
	/* RAM: [ram_start_pfn[i], ram_end_pfn[i]), sorted, disjoint, not touching */
	int nr_ram_ranges;
	uint64_t ram_start_pfn[MC_MAX_RAM_RANGES];
	uint64_t ram_end_pfn[MC_MAX_RAM_RANGES];
	/* boot allocator: lowest address handed out on each node (top-down), and
	 * the lowest it may hand out (both within the node's highest RAM range) */
	uint64_t memblock_top[MC_MAX_NODES];
	uint64_t memblock_floor[MC_MAX_NODES];
	uint64_t reserved_bytes[MC_NR_RESERVE_KINDS];	/* bytes asked for, per kind */
	/* tunables, as /proc/sys/vm */
	int min_free_kbytes;
	int watermark_scale_factor;
	int percpu_pagelist_high_fraction;
	/* statistics (vmstat events) */
	uint64_t pgalloc;		/* pages allocated */
	uint64_t pgalloc_zone[MAX_NR_ZONES];	/* ... by zone: PGALLOC's per-zone events */
	uint64_t pgfree;		/* pages freed */
	/* the model's time: vmstat ticks (sysctl_stat_interval, 1 s) run so far,
	 * and which CPUs' vmstat_update work is queued (it requeues itself while
	 * refresh_cpu_vm_stats() reports changes; the shepherd requeues it when
	 * the CPU has counter diffs) */
	uint64_t vmstat_ticks;
	unsigned char vmstat_work_queued[MC_MAX_CPUS];
	/* SLUB */
	mc_ulong kmem_cache;		/* the "kmem_cache" cache (boot cache) */
	mc_ulong kmem_cache_node;	/* the "kmem_cache_node" cache (boot cache) */
	mc_ulong desc_caches[MC_MAX_DESC_CACHES];	/* the design's descriptor caches (design.h) */
	mc_ulong kmalloc_caches[MC_NR_KMALLOC_TYPES][MC_KMALLOC_NR_INDEX];	/* [type][index] */
	mc_ulong percpu_base;		/* modeled address of CPU 0's per-CPU unit */
	uint64_t percpu_unit;		/* bytes of one CPU's unit */
	int freelist_hardened;		/* CONFIG_SLAB_FREELIST_HARDENED */
	int freelist_random;		/* CONFIG_SLAB_FREELIST_RANDOM */
	uint64_t rng;			/* state of the model's get_random_*() */
	mc_ulong rcu_slabs;		/* slabs waiting for a grace period (rcu_head.next chain) */
	uint64_t rcu_slabs_nr;		/* how many */
	mc_ulong rcu_xa_nodes;		/* xa_node_free()d nodes waiting for a GP (rcu_head.next chain) */
	uint64_t rcu_xa_nodes_nr;	/* how many */
	mc_ulong xa_node_cache;		/* radix_tree_node_cachep (0 until the first address_space) */
	uint32_t slub_debug;		/* the slab_debug= boot option: debug SLAB_* flags for every cache */
	int slub_pid;			/* current->pid for set_track(): the running Task's id + 1, 0 in RCU callbacks */
	uint64_t jiffies;		/* the model's clock for struct track: one tick per tracked alloc/free */
	/* setup_object()'s constructors: allocate_slab() calls this on a new slab
	 * of a cache with a ctor, before the slab is on any list; nonzero means a
	 * constructor failed (the slab is freed, the allocation fails MC_ECTOR). */
	int (*ctor_hook)(struct mc_machine *m, mc_ulong slab_va);
	void *ctor_ctx;			/* the hook's owner (the Python Machine) */
	uint64_t kmap_local;		/* kmap_local_page() calls: the free-list code reaching a
					 * HIGHMEM block's links (designs that keep them in the block) */
	uint64_t slab_pages;		/* pages held by slabs */
	uint64_t large_kmalloc_pages;	/* pages held by large kmalloc allocations */
	unsigned char *obj_bitmap;	/* one bit per 8 bytes of lowmem: slab object allocated */
	/* generations, so that a view kept past the end of what it named fails
	 * instead of acting on the memory's next owner (the model's own state) */
	uint32_t *pfn_gen;		/* per PFN: bumped when a block headed there is freed */
	uint32_t *obj_gen;		/* per 8 bytes of lowmem: bumped when the API hands out
					 * an object (or creates a kmem_cache) there */
	/* KASAN */
	int kasan;			/* generic-KASAN-style shadow checks */
	unsigned char *kasan_shadow;	/* one byte per 8 bytes of lowmem */
	/* the last error: the pfn it concerns and what went wrong */
	int err;
	int64_t err_pfn;
	char err_msg[512];
	/* the model's own state (see above) */
	unsigned char *pfn_marks;	/* MC_PFN_* per PFN of RAM */
	struct mc_reservation reservations[MC_MAX_RESERVATIONS];
	int nr_reservations;
	struct mc_task *tasks;		/* tasks[id] */
	int nr_tasks, tasks_cap;
	struct mc_lock_owner *owners;	/* held bit locks with a known owner */
	int nr_owners, owners_cap;
	struct mc_waitq wait_table[PAGE_WAIT_TABLE_SIZE];	/* folio_wait_table */
};

/* ---- model marks per PFN ------------------------------------------------- */

static inline void mc_pfn_mark_set(struct mc_machine *m, uint64_t pfn, unsigned char mark)
{
	m->pfn_marks[pfn] |= mark;
}

static inline void mc_pfn_mark_clear(struct mc_machine *m, uint64_t pfn, unsigned char mark)
{
	m->pfn_marks[pfn] &= (unsigned char)~mark;
}

static inline int mc_pfn_mark_test(const struct mc_machine *m, uint64_t pfn, unsigned char mark)
{
	return (m->pfn_marks[pfn] & mark) != 0;
}

/* hash_ptr(key, PAGE_WAIT_TABLE_BITS): the folio_wait_table bucket of a word. */
static inline unsigned int mc_wait_hash(mc_ulong key)
{
#if BITS_PER_LONG == 64
	return (unsigned int)(((uint64_t)key * 0x61C8864680B583EBULL) >> (64 - PAGE_WAIT_TABLE_BITS));
#else
	return (unsigned int)(((uint32_t)key * 0x61C88647U) >> (32 - PAGE_WAIT_TABLE_BITS));
#endif
}

/* ---- address translation ------------------------------------------------- */

/* Host pointer of a modeled kernel address; the caller knows it is valid. */
static inline void *mc_host(const struct mc_machine *m, mc_ulong addr)
{
	mc_ulong off = addr - m->memmap_va;
	if (off < m->memmap_bytes)
		return (char *)m->memmap + off;
	return m->phys + (mc_ulong)(addr - m->page_offset);
}

/* Is [addr, addr + len) inside modeled memory (memmap or direct map)? */
static inline int mc_addr_valid(const struct mc_machine *m, mc_ulong addr, uint64_t len)
{
	mc_ulong off = addr - m->memmap_va;
	uint64_t lowmem_bytes;
	if (off < m->memmap_bytes)
		return len <= m->memmap_bytes - off;
	off = addr - m->page_offset;
	lowmem_bytes = m->lowmem_pfns << PAGE_SHIFT;
	return off < lowmem_bytes && len <= lowmem_bytes - off;
}

/*
 * Is [addr, addr + len) direct-mapped RAM whose bytes the model holds (slab
 * objects, kmalloc memory)?  Not the memmap: on i386 mem_map sits inside the
 * direct map, but the model keeps struct pages in their own host array.
 */
static inline int mc_addr_in_direct_map(const struct mc_machine *m, mc_ulong addr,
					uint64_t len)
{
	mc_ulong off = addr - m->page_offset;
	uint64_t lowmem_bytes = m->lowmem_pfns << PAGE_SHIFT;
	if (addr - m->memmap_va < m->memmap_bytes)
		return 0;
	return off < lowmem_bytes && len <= lowmem_bytes - off;
}

/* Modeled direct-map address of a host pointer into modeled RAM. */
static inline mc_ulong mc_virt(const struct mc_machine *m, const void *host)
{
	return (mc_ulong)(m->page_offset + (mc_ulong)((const unsigned char *)host - m->phys));
}

/* Modeled direct-map address of a physical address (lowmem only). */
static inline mc_ulong mc_phys_to_virt(const struct mc_machine *m, uint64_t paddr)
{
	return (mc_ulong)(m->page_offset + paddr);
}

static inline uint64_t mc_virt_to_phys(const struct mc_machine *m, mc_ulong addr)
{
	return (uint64_t)(mc_ulong)(addr - m->page_offset);
}

/* ---- struct page <-> pfn <-> modeled address ----------------------------- */

static inline struct page *mc_pfn_to_page(const struct mc_machine *m, uint64_t pfn)
{
	return &m->memmap[pfn];
}

static inline uint64_t mc_page_to_pfn(const struct mc_machine *m, const struct page *p)
{
	return (uint64_t)(p - m->memmap);
}

static inline mc_ulong mc_page_va(const struct mc_machine *m, const struct page *p)
{
	return (mc_ulong)(m->memmap_va + (mc_ulong)((const char *)p - (const char *)m->memmap));
}

static inline mc_ulong mc_pfn_to_va(const struct mc_machine *m, uint64_t pfn)
{
	return (mc_ulong)(m->memmap_va + pfn * sizeof(struct page));
}

/* Modeled address of a host pointer into the memmap or modeled RAM. */
static inline mc_ulong mc_addr_of(const struct mc_machine *m, const void *host)
{
	const char *h = (const char *)host, *mm = (const char *)m->memmap;
	if (h >= mm && (uint64_t)(h - mm) < m->memmap_bytes)
		return (mc_ulong)(m->memmap_va + (mc_ulong)(h - mm));
	return mc_virt(m, host);
}

/* struct page of a modeled struct page address. */
static inline struct page *mc_va_to_page(const struct mc_machine *m, mc_ulong va)
{
	return (struct page *)((char *)m->memmap + (mc_ulong)(va - m->memmap_va));
}

/* Is this modeled address the start of a struct page of a RAM PFN? */
static inline int mc_va_is_page(const struct mc_machine *m, mc_ulong va)
{
	mc_ulong off = va - m->memmap_va;
	return off < m->nr_pfns * sizeof(struct page) && off % sizeof(struct page) == 0 &&
	       !mc_pfn_mark_test(m, off / sizeof(struct page), MC_PFN_NOMAP);
}

/* ---- lists of modeled addresses (include/linux/list.h) ------------------- */

static inline struct list_head *mc_list(const struct mc_machine *m, mc_ulong va)
{
	return (struct list_head *)mc_host(m, va);
}

static inline void INIT_LIST_HEAD(struct list_head *h, mc_ulong h_va)
{
	h->next = h_va;
	h->prev = h_va;
}

static inline int list_empty(const struct list_head *h, mc_ulong h_va)
{
	return h->next == h_va;
}

/* Insert `n` between two known neighbours. */
static inline void __list_add(const struct mc_machine *m, struct list_head *n, mc_ulong n_va,
			      mc_ulong prev_va, mc_ulong next_va)
{
	mc_list(m, next_va)->prev = n_va;
	n->next = next_va;
	n->prev = prev_va;
	mc_list(m, prev_va)->next = n_va;
}

/* list_add: after the head (LIFO). */
static inline void list_add(const struct mc_machine *m, struct list_head *n, mc_ulong n_va,
			    struct list_head *h, mc_ulong h_va)
{
	__list_add(m, n, n_va, h_va, h->next);
}

/* list_add_tail: before the head (FIFO). */
static inline void list_add_tail(const struct mc_machine *m, struct list_head *n, mc_ulong n_va,
				 struct list_head *h, mc_ulong h_va)
{
	__list_add(m, n, n_va, h->prev, h_va);
}

/* list_del: unlink and poison, as the kernel does. */
static inline void list_del(const struct mc_machine *m, struct list_head *e)
{
	mc_list(m, e->next)->prev = e->prev;
	mc_list(m, e->prev)->next = e->next;
	e->next = LIST_POISON1;
	e->prev = LIST_POISON2;
}

#endif /* MEMCORE_MACHINE_H */
