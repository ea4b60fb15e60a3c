/* SPDX-License-Identifier: MIT */
/*
 * memcore/slub.h - the SLUB allocator's own objects in the modeled kernel
 * (mm/slub.c, mm/slab.h of Linux 6.18): struct kmem_cache, the per-CPU
 * struct kmem_cache_cpu and the per-node struct kmem_cache_node.
 *
 * Like the kernel, every kmem_cache is an object of the "kmem_cache" cache
 * and every kmem_cache_node an object of "kmem_cache_node" (the two boot
 * caches themselves are set up in boot memory); kmem_cache_cpu lives in the
 * per-CPU area.  The member set is what the model runs; the 6.18 per-CPU
 * sheaves (opt-in per cache) are not modeled.
 */
#ifndef MEMCORE_SLUB_H
#define MEMCORE_SLUB_H

#include "memcore/design_types.h"	/* struct slab of the design */
#include "memcore/slub_sizing.h"

typedef u32 slab_flags_t;

struct kmem_cache_order_objects {
	unsigned int x;			/* order << 16 | objects */
};
#define OO_SHIFT	16
#define OO_MASK		((1U << OO_SHIFT) - 1)

/* local_trylock_t without lock debugging: one "acquired" byte. */
typedef struct {
	u8 acquired;			/* held by this CPU */
} local_trylock_t;

struct kmem_cache_cpu {
	union {
		struct {
			MC_PTR(void) freelist;	/* next free object of the active slab */
			mc_ulong tid;		/* transaction id, bumped on every operation */
		};
		freelist_aba_t freelist_tid;	/* both, for this_cpu_cmpxchg_double */
	};
	MC_PTR(struct slab) slab;	/* the slab this CPU allocates from (frozen) */
	MC_PTR(struct slab) partial;	/* per-CPU partial slabs, linked by slab->next */
	local_trylock_t lock;		/* protects the above against interrupts */
};

struct kmem_cache_node {
	spinlock_t list_lock;		/* protects the lists */
	mc_ulong nr_partial;		/* slabs on the partial list */
	struct list_head partial;	/* partially free slabs (SL_partial marks them) */
	atomic_long_t nr_slabs;		/* slabs of this node (SLUB_DEBUG) */
	atomic_long_t total_objects;	/* objects those slabs hold (SLUB_DEBUG) */
	struct list_head full;		/* full slabs of debug caches (SLAB_STORE_USER) */
	MC_PTR(struct node_barn) barn;	/* sheaves of this node (NULL: not modeled) */
};

struct reciprocal_value {
	u32 m;				/* multiplier for size division */
	u8 sh1, sh2;			/* shifts */
};

struct kobject {			/* the cache's sysfs directory (not modeled) */
	MC_PTR(const char) name;
	struct list_head entry;
	MC_PTR(struct kobject) parent;
	MC_PTR(struct kset) kset;
	MC_PTR(const struct kobj_type) ktype;
	MC_PTR(struct kernfs_node) sd;
	atomic_t kref;
	unsigned int state_flags;	/* state_initialized:1 ... uevent_suppress:1 */
};

/* struct kmem_cache of 6.18 (mm/slab.h), member for member; the model uses
 * the ones commented without "(not modeled)". */
struct kmem_cache {
	MC_PTR(struct kmem_cache_cpu) cpu_slab;	/* per-CPU offset of the kmem_cache_cpu */
	MC_PTR(struct slub_percpu_sheaves) cpu_sheaves;	/* 6.18 sheaves (not modeled: NULL) */
	slab_flags_t flags;			/* SLAB_* */
	mc_ulong min_partial;			/* partial slabs kept per node even if empty */
	unsigned int size;			/* object stride, metadata included */
	unsigned int object_size;		/* what the caller asked for */
	struct reciprocal_value reciprocal_size;	/* for obj_to_index() (not modeled) */
	unsigned int offset;			/* free pointer offset in the object */
	unsigned int cpu_partial;		/* objects worth of per-CPU partial slabs */
	unsigned int cpu_partial_slabs;		/* the same limit in slabs */
	unsigned int sheaf_capacity;		/* objects per sheaf (not modeled: 0) */
	struct kmem_cache_order_objects oo;	/* preferred order and objects per slab */
	struct kmem_cache_order_objects min;	/* fallback: the smallest order */
	u32 allocflags;				/* gfp flags for slab pages (__GFP_COMP, DMA) */
	int refcount;				/* users of the cache; -1 for boot caches */
	MC_PTR(void) ctor;			/* constructor (model: index + 1 of a Python callable) */
	unsigned int inuse;			/* object plus right redzone word */
	unsigned int align;			/* object alignment */
	unsigned int red_left_pad;		/* left redzone of each object */
	MC_PTR(const char) name;		/* name (model: kept by the Python registry) */
	struct list_head list;			/* slab_caches (model: the Python registry) */
	struct kobject kobj;			/* sysfs (not modeled) */
	mc_ulong random;			/* SLAB_FREELIST_HARDENED: free pointer key */
	unsigned int remote_node_defrag_ratio;	/* NUMA: get_any_partial() threshold, per mille */
	MC_PTR(unsigned int) random_seq;	/* SLAB_FREELIST_RANDOM: object order permutation */
	unsigned int useroffset;		/* hardened usercopy region */
	unsigned int usersize;
	MC_PTR(struct kmem_cache_node) node[];	/* per node, nr_node_ids entries */
};

static inline unsigned int oo_order(struct kmem_cache_order_objects x)
{
	return x.x >> OO_SHIFT;
}

static inline unsigned int oo_objects(struct kmem_cache_order_objects x)
{
	return x.x & OO_MASK;
}

/* list_entry(link, struct slab, slab_list): a node partial list links slabs here */
#define SLAB_LIST_OFFSET	offsetof(struct slab, slab_list)

/* Bytes of a struct kmem_cache for a machine with nr_nodes nodes. */
#define MC_KMEM_CACHE_SIZE(nr_nodes) \
	(offsetof(struct kmem_cache, node) + (nr_nodes) * sizeof(mc_ulong))

/* ZERO_SIZE_PTR: what kmalloc(0) returns. */
#define ZERO_SIZE_PTR		((mc_ulong)16)

/* The free pointer of a free object, stored obfuscated with
 * SLAB_FREELIST_HARDENED: ptr ^ s->random ^ swab(address of the slot). */
static inline mc_ulong mc_swab(mc_ulong v)
{
#if MC_BITS == 64
	return __builtin_bswap64(v);
#else
	return __builtin_bswap32(v);
#endif
}

static inline mc_ulong freelist_ptr_encode(const struct kmem_cache *s, mc_ulong ptr,
					   mc_ulong ptr_addr)
{
	return ptr ^ s->random ^ mc_swab(ptr_addr);
}

#define freelist_ptr_decode freelist_ptr_encode

/* Debug fill patterns (include/linux/poison.h) */
#define POISON_INUSE		0x5a	/* fresh slab memory (SLAB_POISON) */
#define POISON_FREE		0x6b	/* a free object's body */
#define POISON_END		0xa5	/* the last byte of a free object's body */
#define SLUB_RED_INACTIVE	0xbb	/* redzone of a free object */
#define SLUB_RED_ACTIVE		0xcc	/* redzone of an allocated object */

/* A stand-in kernel text address for rcu_free_slab(), stored in
 * slab->rcu_head.func while a slab waits for its grace period. */
#if MC_BITS == 64
#define MC_TEXT_RCU_FREE_SLAB	((mc_ulong)0xffffffff81300000UL)
#else
#define MC_TEXT_RCU_FREE_SLAB	((mc_ulong)0xc1300000UL)
#endif

/* struct track (mm/slub.c, CONFIG_STACKDEPOT=y): SLAB_STORE_USER keeps two
 * behind each object's info end, TRACK_ALLOC then TRACK_FREE.  The model
 * records no stack: handle stays 0.  Its size is slub_sizing.h's
 * mc_slub_track_size() (32 bytes on x86_64, 20 on i386). */
struct track {
	mc_ulong addr;			/* caller (model: a stand-in text address, below) */
	u32 handle;			/* depot_stack_handle_t (model: 0, no stack traces) */
	int cpu;			/* smp_processor_id() */
	int pid;			/* current->pid */
	mc_ulong when;			/* jiffies */
};
enum track_item { TRACK_ALLOC, TRACK_FREE };
#if MC_BITS == 64
_Static_assert(sizeof(struct track) == 32, "struct track is 32 bytes on x86_64");
#else
_Static_assert(sizeof(struct track) == 20, "struct track is 20 bytes on i386");
#endif

/* The kmalloc original-size slot (set_orig_size()): unsigned long, as
 * slub_sizing.h's orig_size_is_long = 1 (6.18.y stable) lays it out. */
typedef mc_ulong mc_orig_size_t;

/* Stand-in text addresses recorded as struct track's caller (the model has
 * no call sites): the API entry the allocation or free came through. */
#if MC_BITS == 64
#define MC_TEXT_BASE		((mc_ulong)0xffffffff81000000UL)
#else
#define MC_TEXT_BASE		((mc_ulong)0xc1000000UL)
#endif
#define MC_TEXT_KMEM_CACHE_ALLOC	(MC_TEXT_BASE + 0x310000)	/* kmem_cache_alloc_noprof */
#define MC_TEXT_KMALLOC			(MC_TEXT_BASE + 0x311000)	/* __kmalloc_noprof */
#define MC_TEXT_KMEM_CACHE_FREE		(MC_TEXT_BASE + 0x312000)	/* kmem_cache_free */
#define MC_TEXT_KFREE			(MC_TEXT_BASE + 0x313000)	/* kfree */

/* KASAN (generic) shadow values, mm/kasan/kasan.h */
#define KASAN_GRANULE_SIZE	8
#define KASAN_PAGE_FREE		0xFF	/* freed page */
#define KASAN_PAGE_REDZONE	0xFE	/* tail of a large kmalloc */
#define KASAN_SLAB_REDZONE	0xFC	/* slab redzone, never-allocated slab memory */
#define KASAN_SLAB_FREE		0xFB	/* freed slab object */

#endif /* MEMCORE_SLUB_H */
