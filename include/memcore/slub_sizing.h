/*
 * memcore/slub_sizing.h - geometry of Linux 6.18 SLUB caches.
 *
 * Given the arguments a kernel subsystem passes when it creates a slab cache
 * (object size, requested alignment, SLAB_* flags, constructor yes/no and
 * the optional explicit free-pointer offset) this header reproduces the
 * numbers SLUB derives from them in Linux 6.18:
 *
 *   - the final object alignment          (slab_common.c alignment rule)
 *   - where the free-list pointer lives    (inside or after the object)
 *   - debug metadata (red zones, owner tracking) and the per-object stride
 *   - the page order of a slab and the number of objects in it
 *   - the minimum fallback order, min_partial and cpu_partial
 *
 * plus the kmalloc size classes of 6.18 (index, size and creation flags).
 *
 * Everything here is an independent re-statement of the kernel's rules,
 * written for memcore; no kernel source text is reproduced.  Each rule is
 * described in the comment next to the code that implements it.
 *
 * The word size (4 or 8) is a run-time parameter so that one 64-bit process
 * can model both 32-bit and 64-bit kernels.  Page size is fixed at 4096.
 *
 * Only <stddef.h> and <stdint.h> are used; every function is static inline.
 * C99, no allocation, no global state.
 *
 * Verified against every cache in /sys/kernel/slab of a 6.18.44 x86-64
 * kernel by tools/check_slub_sizing.py (see the snapshot in
 * tests/data/linux-6.18-x86_64-sys-kernel-slab.json).
 *
 * Not modelled (documented, not silently wrong):
 *   - KASAN metadata (kasan_cache_create grows the object under
 *     CONFIG_KASAN_GENERIC); the reference kernel has KASAN off.
 *   - the slub_debug=O "drop metadata if it raises the order" fallback and
 *     per-cache slub_debug= selection; pass the effective flags instead.
 *   - cache merging (aliasing); a merged cache keeps the geometry of the
 *     cache it was merged into.
 */
#ifndef MEMCORE_SLUB_SIZING_H
#define MEMCORE_SLUB_SIZING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * SLAB_* flag values.
 *
 * Since 6.9 the kernel numbers its slab flags from an enum, so a flag's bit
 * depends on which optional flags the configuration compiles in.  The values
 * below are those of the reference configuration (x86-64 6.18 with
 * CONFIG_MEMCG=y, CONFIG_SLAB_OBJ_EXT=y, CONFIG_SLUB_TINY=n and
 * CONFIG_DEBUG_OBJECTS, CONFIG_FAILSLAB, CONFIG_KASAN_GENERIC, CONFIG_KFENCE
 * all off).  Enabling one of the optional ones shifts every later bit up by
 * one; the geometry code only ever tests flags through these macros, so a
 * different numbering is a matter of editing this table.
 * ------------------------------------------------------------------------ */
#define MC_SLAB_CONSISTENCY_CHECKS (1u << 0)  /* debug: check objects on alloc/free */
#define MC_SLAB_RED_ZONE           (1u << 1)  /* debug: guard bytes around objects */
#define MC_SLAB_POISON             (1u << 2)  /* debug: fill free objects with a pattern */
#define MC_SLAB_KMALLOC            (1u << 3)  /* cache belongs to the kmalloc family */
#define MC_SLAB_HWCACHE_ALIGN      (1u << 4)  /* align objects to cache lines */
#define MC_SLAB_CACHE_DMA          (1u << 5)  /* back slabs with ZONE_DMA pages */
#define MC_SLAB_CACHE_DMA32        (1u << 6)  /* back slabs with ZONE_DMA32 pages */
#define MC_SLAB_STORE_USER         (1u << 7)  /* debug: record alloc/free owners */
#define MC_SLAB_PANIC              (1u << 8)  /* panic if creation fails */
#define MC_SLAB_TYPESAFE_BY_RCU    (1u << 9)  /* slab pages freed after an RCU grace period */
#define MC_SLAB_TRACE              (1u << 10) /* debug: trace alloc/free */
#define MC_SLAB_NOLEAKTRACE        (1u << 11) /* exclude from kmemleak */
#define MC_SLAB_NO_MERGE           (1u << 12) /* never alias with another cache */
#define MC_SLAB_ACCOUNT            (1u << 13) /* charge objects to the memcg */
#define MC_SLAB_NO_USER_FLAGS      (1u << 14) /* ignore slub_debug= for this cache */
#define MC_SLAB_RECLAIM_ACCOUNT    (1u << 15) /* reclaimable pages (SReclaimable) */
#define MC_SLAB_OBJECT_POISON      (1u << 16) /* internal: object body is poisoned */
#define MC_SLAB_CMPXCHG_DOUBLE     (1u << 17) /* internal: double-word cmpxchg usable */
#define MC_SLAB_NO_OBJ_EXT         (1u << 18) /* internal: boot caches without obj_ext */
#define MC_SLAB_TEMPORARY          MC_SLAB_RECLAIM_ACCOUNT /* old alias of the above */

/* Debug flags; any of these turns off per-cpu partial slabs and sheaves. */
#define MC_SLAB_DEBUG_FLAGS (MC_SLAB_RED_ZONE | MC_SLAB_POISON | \
        MC_SLAB_STORE_USER | MC_SLAB_TRACE | MC_SLAB_CONSISTENCY_CHECKS)

/* Flags kmem_cache_create() accepts from callers; anything else is -EINVAL.
 * The internal bits (OBJECT_POISON, CMPXCHG_DOUBLE, NO_OBJ_EXT) are not in
 * this set; only the boot-time creation path may use NO_OBJ_EXT. */
#define MC_SLAB_FLAGS_PERMITTED (MC_SLAB_HWCACHE_ALIGN | MC_SLAB_CACHE_DMA | \
        MC_SLAB_CACHE_DMA32 | MC_SLAB_PANIC | MC_SLAB_TYPESAFE_BY_RCU | \
        MC_SLAB_NOLEAKTRACE | MC_SLAB_RECLAIM_ACCOUNT | MC_SLAB_ACCOUNT | \
        MC_SLAB_NO_USER_FLAGS | MC_SLAB_KMALLOC | MC_SLAB_NO_MERGE | \
        MC_SLAB_DEBUG_FLAGS)

/* ------------------------------------------------------------------------
 * Constants of the 6.18 allocator (x86, 4 KiB pages).
 * ------------------------------------------------------------------------ */
#define MC_SLUB_PAGE_SHIFT        12u     /* log2 of the only supported page size */
#define MC_SLUB_PAGE_SIZE         4096u   /* PAGE_SIZE */
#define MC_SLUB_MAX_PAGE_ORDER    10u     /* largest buddy order (4 MiB blocks) */
#define MC_SLUB_COSTLY_ORDER      3u      /* PAGE_ALLOC_COSTLY_ORDER = default max slab order */
#define MC_SLUB_MAX_OBJS_PER_PAGE 32767u  /* slab->objects is a 15-bit field */
#define MC_SLUB_OO_SHIFT          16u     /* order sits above the 16-bit object count */
#define MC_SLUB_MIN_PARTIAL       5u      /* floor of s->min_partial */
#define MC_SLUB_MAX_PARTIAL       10u     /* ceiling of s->min_partial */

/* kmalloc geometry: smallest class 8 bytes (2^3), largest slab-backed class
 * 2^(PAGE_SHIFT+1) = 8 KiB; larger requests go straight to the page
 * allocator, up to 2^(MAX_PAGE_ORDER+PAGE_SHIFT) = 4 MiB. */
#define MC_KMALLOC_SHIFT_LOW      3u
#define MC_KMALLOC_MIN_SIZE       (1u << MC_KMALLOC_SHIFT_LOW)
#define MC_KMALLOC_SHIFT_HIGH     (MC_SLUB_PAGE_SHIFT + 1u)
#define MC_KMALLOC_MAX_CACHE_SIZE (1u << MC_KMALLOC_SHIFT_HIGH)
#define MC_KMALLOC_SHIFT_MAX      (MC_SLUB_MAX_PAGE_ORDER + MC_SLUB_PAGE_SHIFT)
#define MC_KMALLOC_MAX_SIZE       (1ul << MC_KMALLOC_SHIFT_MAX)
/* Number of slots in one kmalloc_caches[type][] row (indices 0..13). */
#define MC_KMALLOC_NR_INDEX       (MC_KMALLOC_SHIFT_HIGH + 1u)

/* ------------------------------------------------------------------------
 * Error codes.  0 is success; every failure has its own negative value.
 * ------------------------------------------------------------------------ */
enum mc_slub_err {
    MC_SLUB_OK              = 0,   /* success */
    MC_SLUB_ERR_NULL        = -1,  /* a required pointer argument was NULL */
    MC_SLUB_ERR_WORD_SIZE   = -2,  /* word_size is neither 4 nor 8 */
    MC_SLUB_ERR_PAGE_SIZE   = -3,  /* page_size is not 4096 */
    MC_SLUB_ERR_NR_CPUS     = -4,  /* nr_cpus is 0 */
    MC_SLUB_ERR_CONFIG      = -5,  /* inconsistent config (orders, minimum alignments) */
    MC_SLUB_ERR_SIZE_ZERO   = -6,  /* object_size is 0 (the kernel would divide by zero) */
    MC_SLUB_ERR_TOO_BIG     = -7,  /* object_size above KMALLOC_MAX_SIZE (4 MiB) */
    MC_SLUB_ERR_ALIGN       = -8,  /* requested align is not 0 or a power of two */
    MC_SLUB_ERR_FLAGS       = -9,  /* flags outside SLAB_FLAGS_PERMITTED (kernel: -EINVAL) */
    MC_SLUB_ERR_FREEPTR     = -10, /* explicit free-pointer offset rejected (kernel: -EINVAL) */
    MC_SLUB_ERR_ORDER       = -11, /* no page order up to MAX_PAGE_ORDER holds one object */
    MC_SLUB_ERR_KMALLOC_IDX = -12  /* kmalloc index/type has no cache */
};

/* ------------------------------------------------------------------------
 * Model configuration: what the kernel build / boot would have fixed.
 * ------------------------------------------------------------------------ */
struct mc_slub_config {
    unsigned int word_size;            /* sizeof(void *) of the modelled kernel: 4 or 8 */
    unsigned int page_size;            /* PAGE_SIZE; must be 4096 */
    unsigned int nr_cpus;              /* CPU count SLUB scales min_objects by: num_present_cpus(), or nr_cpu_ids when that is <= 1 (see mc_slub_effective_nr_cpus) */
    unsigned int cache_line_size;      /* cache_line_size() used by SLAB_HWCACHE_ALIGN; 64 on x86 */
    unsigned int arch_slab_minalign;   /* ARCH_SLAB_MINALIGN = __alignof__(unsigned long long): 8 on x86-64 and i386 */
    unsigned int arch_kmalloc_minalign;/* ARCH_KMALLOC_MINALIGN (start alignment of boot/kmalloc caches): 8 on x86 */
    unsigned int slub_min_order;       /* slab_min_order= boot option; default 0 */
    unsigned int slub_max_order;       /* slab_max_order= boot option; default PAGE_ALLOC_COSTLY_ORDER (3) */
    unsigned int slub_min_objects;     /* slab_min_objects= boot option; 0 = derive from nr_cpus */
    unsigned int max_page_order;       /* MAX_PAGE_ORDER: 10 on x86 */
    int          stackdepot;           /* CONFIG_STACKDEPOT: owner-tracking records hold a stack handle */
    int          orig_size_is_long;    /* width of the kmalloc original-size slot with STORE_USER: 1 = unsigned long (6.18.y stable after the March 2026 backport), 0 = unsigned int (6.18.0) */
};

/* ------------------------------------------------------------------------
 * Cache creation arguments (what kmem_cache_create() receives).
 * ------------------------------------------------------------------------ */
struct mc_slub_cache_args {
    unsigned int object_size;          /* size argument: bytes per object the caller needs */
    unsigned int align;                /* kmem_cache_args.align: requested alignment, 0 = none */
    uint32_t     flags;                /* MC_SLAB_* bitmask passed by the caller */
    int          has_ctor;             /* non-zero when a constructor is given */
    int          use_freeptr_offset;   /* kmem_cache_args.use_freeptr_offset (6.12+, RCU caches only in 6.18) */
    unsigned int freeptr_offset;       /* kmem_cache_args.freeptr_offset: where the free pointer goes inside the object */
    unsigned int sheaf_capacity;       /* kmem_cache_args.sheaf_capacity (6.18 per-cpu sheaves), 0 = none */
    int          boot_cache;           /* created by create_boot_cache() (kmalloc caches, kmem_cache, kmem_cache_node): align is derived, not taken from .align */
};

/* A slab geometry: page order plus the number of objects such a slab holds. */
struct mc_kmem_cache_order_objects {
    unsigned int order;                /* oo_order(): slab is PAGE_SIZE << order bytes */
    unsigned int objects;              /* oo_objects(): objects fitting in that slab */
    uint32_t     x;                    /* kernel packing: order << 16 | objects */
};

/* The result: fields named after struct kmem_cache. */
struct mc_kmem_cache_layout {
    unsigned int word_size;            /* word size the layout was computed for */
    unsigned int object_size;          /* s->object_size: caller's object size */
    unsigned int size;                 /* s->size: stride between objects (sysfs slab_size) */
    unsigned int align;                /* s->align: final alignment (sysfs align) */
    unsigned int offset;               /* s->offset: free pointer position, from the object start */
    unsigned int inuse;                /* s->inuse: object bytes plus right red-zone word, before metadata */
    unsigned int red_left_pad;         /* s->red_left_pad: guard bytes placed before each object */
    uint32_t     flags;                /* s->flags: caller flags plus internal OBJECT_POISON */
    int          freeptr_outside;      /* 1 when the free pointer sits after the object (offset >= inuse) */
    unsigned int track_size;           /* sizeof(struct track) used for STORE_USER (0 if not stored) */
    unsigned int orig_size_bytes;      /* bytes reserved for the kmalloc request size (0 if none) */
    struct mc_kmem_cache_order_objects oo;  /* s->oo: preferred order and objects per slab */
    struct mc_kmem_cache_order_objects min; /* s->min: smallest order that still holds one object */
    unsigned int slab_bytes;           /* PAGE_SIZE << oo.order */
    unsigned int leftover;             /* slab_bytes - oo.objects * size: unused tail of each slab */
    unsigned int min_partial;          /* s->min_partial: empty-ish slabs kept per node */
    unsigned int cpu_partial;          /* s->cpu_partial: objects kept on per-cpu partial slabs */
    unsigned int cpu_partial_slabs;    /* s->cpu_partial_slabs: the same limit expressed in slabs */
    unsigned int sheaf_capacity;       /* s->sheaf_capacity: per-cpu sheaf size (0 = no sheaves) */
};

/* ------------------------------------------------------------------------
 * Small helpers.
 * ------------------------------------------------------------------------ */

/* Position of the most significant set bit, counting from 1; 0 for 0
 * (the kernel's fls()). */
static inline unsigned int mc_slub_fls(uint64_t x)
{
    unsigned int n = 0;
    while (x) {
        n++;
        x >>= 1;
    }
    return n;
}

/* 1 if x is a power of two (0 is not). */
static inline int mc_slub_is_pow2(uint64_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* Round x up to a multiple of a (a is a power of two). */
static inline uint64_t mc_slub_align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* Round x down to a multiple of a (a is a power of two). */
static inline uint64_t mc_slub_align_down(uint64_t x, uint64_t a)
{
    return x & ~(a - 1);
}

/* Smallest page order whose block holds `size` bytes (get_order()).
 * Requests of up to one page are order 0.  size must be non-zero. */
static inline unsigned int mc_slub_get_order(uint64_t size)
{
    if (size <= MC_SLUB_PAGE_SIZE)
        return 0;
    return mc_slub_fls((size - 1) >> MC_SLUB_PAGE_SHIFT);
}

/* How many size-byte objects fit into a slab of the given order. */
static inline unsigned int mc_slub_order_objects(unsigned int order,
                                                 unsigned int size)
{
    return (unsigned int)(((uint64_t)MC_SLUB_PAGE_SIZE << order) / size);
}

/* Pack an (order, objects) pair the way the kernel stores s->oo. */
static inline struct mc_kmem_cache_order_objects
mc_slub_oo_make(unsigned int order, unsigned int size)
{
    struct mc_kmem_cache_order_objects oo;
    oo.order = order;
    oo.objects = mc_slub_order_objects(order, size);
    oo.x = ((uint32_t)order << MC_SLUB_OO_SHIFT) + oo.objects;
    return oo;
}

/* The CPU count SLUB uses: the present CPUs, unless the platform reports
 * only one present CPU (some architectures fill the present mask late), in
 * which case the number of possible CPU ids is used instead. */
static inline unsigned int mc_slub_effective_nr_cpus(unsigned int present,
                                                     unsigned int nr_cpu_ids)
{
    return present <= 1 ? nr_cpu_ids : present;
}

/* Fill a configuration with the 6.18 x86 defaults for the given word size
 * and CPU count (no slab_* boot options, CONFIG_STACKDEPOT=y, orig_size as
 * unsigned long as in current 6.18.y). */
static inline void mc_slub_config_init(struct mc_slub_config *c,
                                       unsigned int word_size,
                                       unsigned int nr_cpus)
{
    c->word_size = word_size;
    c->page_size = MC_SLUB_PAGE_SIZE;
    c->nr_cpus = nr_cpus;
    c->cache_line_size = 64;
    c->arch_slab_minalign = 8;
    c->arch_kmalloc_minalign = 8;
    c->slub_min_order = 0;
    c->slub_max_order = MC_SLUB_COSTLY_ORDER;
    c->slub_min_objects = 0;
    c->max_page_order = MC_SLUB_MAX_PAGE_ORDER;
    c->stackdepot = 1;
    c->orig_size_is_long = 1;
}

/* Check a configuration; returns MC_SLUB_OK or the first problem found. */
static inline int mc_slub_config_check(const struct mc_slub_config *c)
{
    if (!c)
        return MC_SLUB_ERR_NULL;
    if (c->word_size != 4 && c->word_size != 8)
        return MC_SLUB_ERR_WORD_SIZE;
    if (c->page_size != MC_SLUB_PAGE_SIZE)
        return MC_SLUB_ERR_PAGE_SIZE;
    if (c->nr_cpus == 0)
        return MC_SLUB_ERR_NR_CPUS;
    /* The boot-option parsers keep min <= max and cap max at
     * MAX_PAGE_ORDER; a config violating that cannot come from a kernel. */
    if (c->slub_min_order > c->slub_max_order ||
        c->slub_max_order > c->max_page_order ||
        c->max_page_order > MC_SLUB_MAX_PAGE_ORDER)
        return MC_SLUB_ERR_CONFIG;
    if (!mc_slub_is_pow2(c->cache_line_size) ||
        !mc_slub_is_pow2(c->arch_slab_minalign) ||
        !mc_slub_is_pow2(c->arch_kmalloc_minalign))
        return MC_SLUB_ERR_CONFIG;
    return MC_SLUB_OK;
}

/* sizeof(struct track), the per-event owner record SLAB_STORE_USER keeps
 * twice (allocation and free) behind each object.  The record holds the
 * caller address (unsigned long), the stack-depot handle when
 * CONFIG_STACKDEPOT is on (32-bit), the cpu and pid (ints) and a jiffies
 * timestamp (unsigned long); on 64-bit the timestamp is 8-byte aligned. */
static inline unsigned int mc_slub_track_size(const struct mc_slub_config *c)
{
    unsigned int w = c->word_size;
    unsigned int sz = w;              /* caller address */
    if (c->stackdepot)
        sz += 4;                      /* stack handle */
    sz += 4 + 4;                      /* cpu, pid */
    sz = (unsigned int)mc_slub_align_up(sz, w);  /* timestamp alignment */
    sz += w;                          /* timestamp */
    return (unsigned int)mc_slub_align_up(sz, w); /* struct tail padding */
}

/* ------------------------------------------------------------------------
 * Alignment (slab_common.c).
 * ------------------------------------------------------------------------ */

/* Final object alignment for a cache.
 *
 * With SLAB_HWCACHE_ALIGN the cache line size is the starting point, but it
 * is halved as long as the object would still fit in half of it, so small
 * objects are packed two, four, ... to a line instead of each taking a whole
 * line.  That value only ever raises the caller's request.  The result is
 * then raised to the architecture's minimum slab alignment and finally
 * rounded up to a whole number of words. */
static inline unsigned int
mc_slub_calculate_alignment(const struct mc_slub_config *c, uint32_t flags,
                            unsigned int align, unsigned int size)
{
    if (flags & MC_SLAB_HWCACHE_ALIGN) {
        unsigned int ralign = c->cache_line_size;
        while (size <= ralign / 2)
            ralign /= 2;
        if (ralign > align)
            align = ralign;
    }
    if (c->arch_slab_minalign > align)
        align = c->arch_slab_minalign;
    return (unsigned int)mc_slub_align_up(align, c->word_size);
}

/* ------------------------------------------------------------------------
 * Slab order (slub.c).
 * ------------------------------------------------------------------------ */

/* Target number of objects per slab.  An explicit slab_min_objects= wins;
 * otherwise it grows logarithmically with the CPU count:
 * 4 * (fls(nr_cpus) + 1), i.e. 8 for one CPU, 12 for 2-3, 16 for 4-7, ... */
static inline unsigned int mc_slub_min_objects(const struct mc_slub_config *c)
{
    if (c->slub_min_objects)
        return c->slub_min_objects;
    return 4u * (mc_slub_fls(c->nr_cpus) + 1u);
}

/* Walk orders from min_order up to max_order and stop at the first one
 * whose unused tail (slab bytes modulo object stride) is at most
 * 1/fract_leftover of the slab.  If none qualifies the loop runs off the
 * end and the value returned is max_order + 1, which callers treat as
 * "no acceptable order at this waste level". */
static inline unsigned int mc_slub_calc_slab_order(unsigned int size,
                                                   unsigned int min_order,
                                                   unsigned int max_order,
                                                   unsigned int fract_leftover)
{
    unsigned int order;
    for (order = min_order; order <= max_order; order++) {
        uint64_t slab_bytes = (uint64_t)MC_SLUB_PAGE_SIZE << order;
        uint64_t rem = slab_bytes % size;
        if (rem <= slab_bytes / fract_leftover)
            break;
    }
    return order;
}

/* Page order of a slab for objects of stride `size`.
 *
 * 1. Aim for min_objects objects per slab, but never more than a slab of
 *    slub_max_order can hold (and at least one), and start the search at
 *    the order that many objects need (or slab_min_order if larger).
 * 2. If even that starting order would hold more objects than the 15-bit
 *    slab->objects counter allows, use the order just below the one that
 *    32767 objects would need.
 * 3. Otherwise accept at most 1/16 of the slab as waste and look for the
 *    smallest order up to slub_max_order meeting that; if none does, relax
 *    to 1/8, then 1/4, then 1/2 (the last round accepts anything that fits
 *    a single object within slub_max_order).
 * 4. Objects too big for any slub_max_order slab get the smallest order
 *    that holds one of them, provided it does not exceed MAX_PAGE_ORDER;
 *    beyond that cache creation fails.
 * Returns MC_SLUB_OK and stores the order, or MC_SLUB_ERR_ORDER. */
static inline int mc_slub_calculate_order(const struct mc_slub_config *c,
                                          unsigned int size,
                                          unsigned int *order_out)
{
    unsigned int min_objects, max_objects, min_order, order, fraction;

    if (!c || !order_out)
        return MC_SLUB_ERR_NULL;
    if (size == 0)
        return MC_SLUB_ERR_SIZE_ZERO;

    min_objects = mc_slub_min_objects(c);
    max_objects = mc_slub_order_objects(c->slub_max_order, size);
    if (max_objects < 1)
        max_objects = 1;
    if (min_objects > max_objects)
        min_objects = max_objects;

    min_order = mc_slub_get_order((uint64_t)min_objects * size);
    if (c->slub_min_order > min_order)
        min_order = c->slub_min_order;

    if (mc_slub_order_objects(min_order, size) > MC_SLUB_MAX_OBJS_PER_PAGE) {
        *order_out = mc_slub_get_order((uint64_t)size *
                                       MC_SLUB_MAX_OBJS_PER_PAGE) - 1;
        return MC_SLUB_OK;
    }

    for (fraction = 16; fraction > 1; fraction /= 2) {
        order = mc_slub_calc_slab_order(size, min_order, c->slub_max_order,
                                        fraction);
        if (order <= c->slub_max_order) {
            *order_out = order;
            return MC_SLUB_OK;
        }
    }

    order = mc_slub_get_order(size);
    if (order <= c->max_page_order) {
        *order_out = order;
        return MC_SLUB_OK;
    }
    return MC_SLUB_ERR_ORDER;
}

/* ------------------------------------------------------------------------
 * Per-cache tunables derived from the stride (slub.c).
 * ------------------------------------------------------------------------ */

/* s->min_partial: half of log2(stride), clamped to [5, 10]. */
static inline unsigned int mc_slub_min_partial(unsigned int size)
{
    unsigned int v = (mc_slub_fls(size) - 1u) / 2u;   /* ilog2(size) / 2 */
    if (v > MC_SLUB_MAX_PARTIAL)
        v = MC_SLUB_MAX_PARTIAL;
    if (v < MC_SLUB_MIN_PARTIAL)
        v = MC_SLUB_MIN_PARTIAL;
    return v;
}

/* s->cpu_partial (objects): none for debug caches (they bypass per-cpu
 * partial slabs), otherwise a step function of the stride: 6 objects at a
 * page or more, 24 from 1 KiB, 52 from 256 bytes, 120 below that.
 * (CONFIG_SLUB_CPU_PARTIAL=y assumed, as on every distribution kernel.) */
static inline unsigned int mc_slub_cpu_partial(uint32_t flags,
                                               unsigned int size)
{
    if (flags & MC_SLAB_DEBUG_FLAGS)
        return 0;
    if (size >= MC_SLUB_PAGE_SIZE)
        return 6;
    if (size >= 1024)
        return 24;
    if (size >= 256)
        return 52;
    return 120;
}

/* ------------------------------------------------------------------------
 * Object layout (slub.c calculate_sizes) for an already-validated cache.
 *
 * `flags` are the cache's effective flags and `align` its final alignment
 * (as produced by mc_slub_calculate_alignment); no other validation is
 * done here (use mc_slub_create for the full path).  Layout of one slot:
 *
 *   [left red zone][object][right red zone pad][free ptr?][2 x track][orig size][final red word][align pad]
 *
 * The left red zone is part of the stride but the offsets reported below
 * (offset, inuse) are measured from the start of the object proper, as the
 * kernel does.
 * ------------------------------------------------------------------------ */
static inline int mc_slub_calculate_sizes(const struct mc_slub_config *c,
                                          const struct mc_slub_cache_args *a,
                                          uint32_t flags, unsigned int align,
                                          struct mc_kmem_cache_layout *out)
{
    unsigned int w, size, order;
    int rc;

    if (!c || !a || !out)
        return MC_SLUB_ERR_NULL;
    rc = mc_slub_config_check(c);
    if (rc != MC_SLUB_OK)
        return rc;
    if (a->object_size == 0)
        return MC_SLUB_ERR_SIZE_ZERO;
    /* Called directly, align must already be a final alignment. */
    if (!mc_slub_is_pow2(align))
        return MC_SLUB_ERR_ALIGN;
    w = c->word_size;

    out->word_size = w;
    out->object_size = a->object_size;
    out->align = align;
    out->flags = flags;
    out->red_left_pad = 0;
    out->track_size = 0;
    out->orig_size_bytes = 0;

    /* The free pointer can only sit on a word boundary, so the usable
     * object area is first rounded up to whole words. */
    size = (unsigned int)mc_slub_align_up(a->object_size, w);

    /* Poisoning the object body is only allowed when nobody may legally
     * look at a free object: not for RCU-typesafe caches (readers may still
     * see it) and not for constructed objects (their state must survive
     * between free and the next allocation). */
    if ((flags & MC_SLAB_POISON) && !(flags & MC_SLAB_TYPESAFE_BY_RCU) &&
        !a->has_ctor)
        out->flags |= MC_SLAB_OBJECT_POISON;
    else
        out->flags &= ~MC_SLAB_OBJECT_POISON;

    /* A right red zone needs at least one byte after the object; if the
     * object already ends on a word boundary, add a whole word for it. */
    if ((flags & MC_SLAB_RED_ZONE) && size == a->object_size)
        size += w;

    /* Everything up to here is the object plus its right red zone. */
    out->inuse = size;

    /* Free-pointer placement.
     * It must go behind the object when overwriting any object byte on
     * free is not allowed: RCU-typesafe caches without a caller-chosen
     * slot, constructed objects, poisoned caches, and red-zoned caches
     * whose object is smaller than a word or which keep the kmalloc
     * request size (the right red zone may then extend into the object).
     * An RCU cache that named a safe slot keeps the pointer there.
     * Everything else stores it in the middle of the object (rounded down
     * to a word) so that small overruns from the neighbouring objects do
     * not hit it. */
    if (((flags & MC_SLAB_TYPESAFE_BY_RCU) && !a->use_freeptr_offset) ||
        (flags & MC_SLAB_POISON) || a->has_ctor ||
        ((flags & MC_SLAB_RED_ZONE) &&
         (a->object_size < w ||
          ((flags & MC_SLAB_STORE_USER) && (flags & MC_SLAB_KMALLOC))))) {
        out->offset = size;
        size += w;
    } else if ((flags & MC_SLAB_TYPESAFE_BY_RCU) && a->use_freeptr_offset) {
        out->offset = a->freeptr_offset;
    } else {
        out->offset = (unsigned int)mc_slub_align_down(a->object_size / 2u, w);
    }
    out->freeptr_outside = out->offset >= out->inuse;

    /* Owner tracking: one record for the last allocation and one for the
     * last free; kmalloc caches additionally remember the requested size. */
    if (flags & MC_SLAB_STORE_USER) {
        out->track_size = mc_slub_track_size(c);
        size += 2u * out->track_size;
        if (flags & MC_SLAB_KMALLOC) {
            out->orig_size_bytes = c->orig_size_is_long ? w : 4u;
            size += out->orig_size_bytes;
        }
    }

    /* Red zoning also guards the front of each object: one word, padded to
     * the cache alignment so the object itself stays aligned, and one more
     * word at the very end of the slot. */
    if (flags & MC_SLAB_RED_ZONE) {
        size += w;
        out->red_left_pad = (unsigned int)mc_slub_align_up(w, align);
        size += out->red_left_pad;
    }

    /* Objects are packed back to back from the slab start, so the stride is
     * rounded up to the alignment. */
    size = (unsigned int)mc_slub_align_up(size, align);
    out->size = size;

    rc = mc_slub_calculate_order(c, size, &order);
    if (rc != MC_SLUB_OK)
        return rc;

    out->oo = mc_slub_oo_make(order, size);
    out->min = mc_slub_oo_make(mc_slub_get_order(size), size);
    if (out->oo.objects == 0)
        return MC_SLUB_ERR_ORDER;
    out->slab_bytes = MC_SLUB_PAGE_SIZE << order;
    out->leftover = out->slab_bytes - out->oo.objects * size;

    out->min_partial = mc_slub_min_partial(size);
    out->cpu_partial = mc_slub_cpu_partial(flags, size);
    /* The object limit is converted to slabs assuming they are half full. */
    out->cpu_partial_slabs =
        (out->cpu_partial * 2u + out->oo.objects - 1u) / out->oo.objects;
    /* Sheaves are only set up on request and never for debug caches. */
    out->sheaf_capacity = (flags & MC_SLAB_DEBUG_FLAGS) ? 0u : a->sheaf_capacity;
    return MC_SLUB_OK;
}

/* ------------------------------------------------------------------------
 * Whole creation path: validation, alignment, layout.
 * ------------------------------------------------------------------------ */

/* Model kmem_cache_create() (or create_boot_cache() when a->boot_cache) for
 * a brand-new, unmerged cache.
 *
 * Validation follows the kernel where it validates, and rejects obviously
 * meaningless input where the kernel would misbehave instead:
 *   - object_size 0 (the kernel would divide by zero)       -> SIZE_ZERO
 *   - object_size above KMALLOC_MAX_SIZE (CONFIG_DEBUG_VM
 *     rejects this; otherwise the order search fails)       -> TOO_BIG
 *   - align neither 0 nor a power of two (the kernel does
 *     not check and would compute a garbage alignment)      -> ALIGN
 *   - flags outside SLAB_FLAGS_PERMITTED (normal path only) -> FLAGS
 *   - use_freeptr_offset without SLAB_TYPESAFE_BY_RCU, with
 *     an offset at/after the object end or not word-aligned -> FREEPTR
 *   - no order up to MAX_PAGE_ORDER holds one object        -> ORDER
 *
 * Boot caches start from ARCH_KMALLOC_MINALIGN instead of a requested
 * alignment, and kmalloc boot caches (MC_SLAB_KMALLOC) are additionally
 * aligned to the largest power of two dividing their size, which makes
 * power-of-two kmalloc objects naturally aligned (kmalloc-96 gets 32,
 * kmalloc-192 gets 64, kmalloc-4k gets 4096). */
static inline int mc_slub_create(const struct mc_slub_config *c,
                                 const struct mc_slub_cache_args *a,
                                 struct mc_kmem_cache_layout *out)
{
    unsigned int align;
    uint32_t flags;
    int rc;

    if (!c || !a || !out)
        return MC_SLUB_ERR_NULL;
    rc = mc_slub_config_check(c);
    if (rc != MC_SLUB_OK)
        return rc;
    if (a->object_size == 0)
        return MC_SLUB_ERR_SIZE_ZERO;
    if ((uint64_t)a->object_size > MC_KMALLOC_MAX_SIZE)
        return MC_SLUB_ERR_TOO_BIG;
    if (a->align != 0 && !mc_slub_is_pow2(a->align))
        return MC_SLUB_ERR_ALIGN;

    flags = a->flags;
    if (a->boot_cache) {
        /* create_boot_cache() takes no alignment argument. */
        align = c->arch_kmalloc_minalign;
        if (flags & MC_SLAB_KMALLOC) {
            unsigned int low_bit = a->object_size & (0u - a->object_size);
            if (low_bit > align)
                align = low_bit;
        }
    } else {
        if (flags & ~MC_SLAB_FLAGS_PERMITTED)
            return MC_SLUB_ERR_FLAGS;
        align = a->align;
    }

    /* An explicit free-pointer slot must be a word-aligned position inside
     * the object of an RCU-typesafe cache (6.18 allows it nowhere else). */
    if (a->use_freeptr_offset &&
        (a->freeptr_offset >= a->object_size ||
         !(flags & MC_SLAB_TYPESAFE_BY_RCU) ||
         (a->freeptr_offset % c->word_size) != 0))
        return MC_SLUB_ERR_FREEPTR;

    align = mc_slub_calculate_alignment(c, flags, align, a->object_size);
    return mc_slub_calculate_sizes(c, a, flags, align, out);
}

/* ------------------------------------------------------------------------
 * kmalloc size classes (6.18, KMALLOC_MIN_SIZE 8, no random caches).
 *
 * kmalloc_caches[type][index]: index 0 is unused (zero-size requests get
 * ZERO_SIZE_PTR), index 1 is kmalloc-96, index 2 is kmalloc-192, and index n
 * for 3..13 is the 2^n byte class (8 bytes .. 8 KiB).
 * ------------------------------------------------------------------------ */

/* Rows of kmalloc_caches[] in the reference configuration (ZONE_DMA=y,
 * MEMCG=y, SLUB_TINY=n, RANDOM_KMALLOC_CACHES=n). */
enum mc_kmalloc_type {
    MC_KMALLOC_NORMAL  = 0,  /* "kmalloc-N": plain GFP_KERNEL allocations */
    MC_KMALLOC_RECLAIM = 1,  /* "kmalloc-rcl-N": __GFP_RECLAIMABLE */
    MC_KMALLOC_DMA     = 2,  /* "dma-kmalloc-N": __GFP_DMA */
    MC_KMALLOC_CGROUP  = 3,  /* "kmalloc-cg-N": __GFP_ACCOUNT */
    MC_NR_KMALLOC_TYPES = 4  /* number of rows */
};

/* Which row a kmalloc() call lands in: DMA beats reclaimable beats
 * accounted; with none of the three it is the normal row. */
static inline int mc_kmalloc_type_of(int gfp_dma, int gfp_reclaimable,
                                     int gfp_account)
{
    if (gfp_dma)
        return MC_KMALLOC_DMA;
    if (gfp_reclaimable)
        return MC_KMALLOC_RECLAIM;
    if (gfp_account)
        return MC_KMALLOC_CGROUP;
    return MC_KMALLOC_NORMAL;
}

/* Index of the kmalloc cache serving a request of `size` bytes.
 * 0 for size 0; -1 when the request is larger than 8 KiB (such requests
 * bypass the slab allocator and take whole pages).  Sizes 65..96 use the
 * 96-byte class and 129..192 the 192-byte class; everything else rounds up
 * to the next power of two, with 8 bytes as the smallest class. */
static inline int mc_kmalloc_index(size_t size)
{
    if (size == 0)
        return 0;
    if (size > MC_KMALLOC_MAX_CACHE_SIZE)
        return -1;
    if (size <= MC_KMALLOC_MIN_SIZE)
        return (int)MC_KMALLOC_SHIFT_LOW;
    if (size > 64 && size <= 96)
        return 1;
    if (size > 128 && size <= 192)
        return 2;
    return (int)mc_slub_fls((uint64_t)size - 1);   /* ceil(log2(size)) */
}

/* Object size of the cache at a kmalloc index (0 for invalid indices). */
static inline unsigned int mc_kmalloc_index_size(int idx)
{
    if (idx == 1)
        return 96;
    if (idx == 2)
        return 192;
    if (idx >= (int)MC_KMALLOC_SHIFT_LOW && idx <= (int)MC_KMALLOC_SHIFT_HIGH)
        return 1u << idx;
    return 0;
}

/* Size name suffix of a kmalloc index ("96", "8", "1k", "8k"); NULL for
 * invalid indices. */
static inline const char *mc_kmalloc_short_name(int idx)
{
    static const char *const names[MC_KMALLOC_NR_INDEX] = {
        NULL, "96", "192", "8", "16", "32", "64", "128", "256", "512",
        "1k", "2k", "4k", "8k"
    };
    if (idx < 0 || idx >= (int)MC_KMALLOC_NR_INDEX)
        return NULL;
    return names[idx];
}

/* Cache-name prefix of a kmalloc row ("kmalloc-", "kmalloc-rcl-",
 * "dma-kmalloc-", "kmalloc-cg-"); NULL for an invalid row. */
static inline const char *mc_kmalloc_type_prefix(int type)
{
    switch (type) {
    case MC_KMALLOC_NORMAL:  return "kmalloc-";
    case MC_KMALLOC_RECLAIM: return "kmalloc-rcl-";
    case MC_KMALLOC_DMA:     return "dma-kmalloc-";
    case MC_KMALLOC_CGROUP:  return "kmalloc-cg-";
    default:                 return NULL;
    }
}

/* Bytes actually reserved for a kmalloc(size): the class size up to 8 KiB,
 * whole pages (power-of-two count) up to 4 MiB, and `size` itself for 0 or
 * oversize requests (those return ZERO_SIZE_PTR or fail). */
static inline uint64_t mc_kmalloc_size_roundup(uint64_t size)
{
    if (size && size <= MC_KMALLOC_MAX_CACHE_SIZE)
        return mc_kmalloc_index_size(mc_kmalloc_index((size_t)size));
    if (size && size <= MC_KMALLOC_MAX_SIZE)
        return (uint64_t)MC_SLUB_PAGE_SIZE << mc_slub_get_order(size);
    return size;
}

/* Flags a kmalloc row is created with: every row is SLAB_KMALLOC; the
 * reclaimable row adds RECLAIM_ACCOUNT, the cgroup row ACCOUNT, the DMA row
 * CACHE_DMA, and with CONFIG_MEMCG the normal row is NO_MERGE so that
 * accounted allocations can never share it.  Returns 0 for a bad row. */
static inline uint32_t mc_kmalloc_type_flags(int type)
{
    switch (type) {
    case MC_KMALLOC_NORMAL:  return MC_SLAB_KMALLOC | MC_SLAB_NO_MERGE;
    case MC_KMALLOC_RECLAIM: return MC_SLAB_KMALLOC | MC_SLAB_RECLAIM_ACCOUNT;
    case MC_KMALLOC_DMA:     return MC_SLAB_KMALLOC | MC_SLAB_CACHE_DMA;
    case MC_KMALLOC_CGROUP:  return MC_SLAB_KMALLOC | MC_SLAB_ACCOUNT;
    default:                 return 0;
    }
}

/* Creation arguments of kmalloc_caches[type][idx] (a boot cache whose
 * object size is the class size).  The caller may OR debug flags into
 * out->flags afterwards to model slub_debug=.  Returns MC_SLUB_OK or
 * MC_SLUB_ERR_KMALLOC_IDX / MC_SLUB_ERR_NULL. */
static inline int mc_kmalloc_cache_args(int type, int idx,
                                        struct mc_slub_cache_args *out)
{
    unsigned int size = mc_kmalloc_index_size(idx);
    uint32_t flags = mc_kmalloc_type_flags(type);
    if (!out)
        return MC_SLUB_ERR_NULL;
    if (size == 0 || flags == 0)
        return MC_SLUB_ERR_KMALLOC_IDX;
    out->object_size = size;
    out->align = 0;
    out->flags = flags;
    out->has_ctor = 0;
    out->use_freeptr_offset = 0;
    out->freeptr_offset = 0;
    out->sheaf_capacity = 0;
    out->boot_cache = 1;
    return MC_SLUB_OK;
}

/* Creation arguments of one cache of a kmem_buckets_create() set (e.g.
 * "memdup_user-N", "msg_msg-N").  Each bucket copies the size of the normal
 * kmalloc class at idx, asks for no particular alignment, and is never
 * merged; `flags` are the set's creation flags. */
static inline int mc_kmem_buckets_cache_args(int idx, uint32_t flags,
                                             int has_ctor,
                                             struct mc_slub_cache_args *out)
{
    unsigned int size = mc_kmalloc_index_size(idx);
    if (!out)
        return MC_SLUB_ERR_NULL;
    if (size == 0)
        return MC_SLUB_ERR_KMALLOC_IDX;
    out->object_size = size;
    out->align = 0;
    out->flags = flags | MC_SLAB_NO_MERGE;
    out->has_ctor = has_ctor;
    out->use_freeptr_offset = 0;
    out->freeptr_offset = 0;
    out->sheaf_capacity = 0;
    out->boot_cache = 0;
    return MC_SLUB_OK;
}

/* Convenience: full layout of kmalloc_caches[type][idx]. */
static inline int mc_kmalloc_cache_layout(const struct mc_slub_config *c,
                                          int type, int idx,
                                          struct mc_kmem_cache_layout *out)
{
    struct mc_slub_cache_args a;
    int rc = mc_kmalloc_cache_args(type, idx, &a);
    if (rc != MC_SLUB_OK)
        return rc;
    return mc_slub_create(c, &a, out);
}

#ifdef __cplusplus
}
#endif

#endif /* MEMCORE_SLUB_SIZING_H */
