# C declarations shared by all subsystems of a variant module.
#
# Structs are declared from include/memcore/*.h with `cdef extern`; their
# bitfields and exact layout exist only in C.  Types named after the kernel
# (page, folio, slab, ...) are the modeled kernel's structs; mc_* types are
# the model's own.
#
# Provides: every C name the other .pxi files use, the design accessors (the
#   seam: struct page and struct folio are opaque here), the extension types.
# Uses: include/memcore/*.h (struct page & co. through design_types.h, the
#   variant's design), core/layout_decl.pxi (layout_table.h) and the generated
#   mc_layout_table.h / mc_enum_table.h.

cimport cython
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport calloc, malloc, realloc, free
from libc.string cimport memset, memcpy, memmove
from libc.stdio cimport snprintf

from memcore.addresses import Address    # what every address the API hands out is

# memcore/layout_table.h (the shape of layout tables), shared with memcore._layouts:
include "core/layout_decl.pxi"

cdef extern from "mc_layout_table.h":
    const mc_struct_desc mc_layout_structs[]
    int MC_NR_LAYOUT_STRUCTS

cdef extern from "mc_enum_table.h":
    const mc_enum_entry mc_enum_pageflags[]
    const mc_enum_entry mc_enum_pagetype[]
    int MC_NR_ENUM_pageflags
    int MC_NR_ENUM_pagetype

cdef extern from "memcore/page_flags_layout.h":
    const char *MC_CONFIG_NAME
    int MC_BITS
    int NR_PAGEFLAGS
    int MAX_NR_ZONES
    int ZONES_SHIFT, ZONES_WIDTH, ZONES_PGSHIFT
    int SECTIONS_SHIFT, SECTIONS_WIDTH, SECTIONS_PGSHIFT
    int NODES_SHIFT, NODES_WIDTH, NODES_PGSHIFT
    int LAST_CPUPID_SHIFT, LAST_CPUPID_WIDTH, LAST_CPUPID_PGSHIFT
    int KASAN_TAG_WIDTH, KASAN_TAG_PGSHIFT
    int LRU_GEN_WIDTH, LRU_GEN_PGSHIFT
    int LRU_REFS_WIDTH, LRU_REFS_PGSHIFT
    int NR_CPUS_BITS
    int MC_FLAGS_FREE_BITS
    int NR_UNUSED_PAGEFLAG_BITS
    int MC_LAST_CPUPID_IN_FLAGS "(LAST_CPUPID_WIDTH == LAST_CPUPID_SHIFT)"



# ---------------------------------------------------------------------------
# The modeled kernel's structs (include/memcore/*.h).  Only the members the
# Cython code touches are declared; C has the real layout.
# ---------------------------------------------------------------------------
cdef extern from "memcore/types.h" nogil:
    # uint32_t in the 32-bit variants, uint64_t in the 64-bit ones (C decides)
    ctypedef unsigned long long mc_ulong
    ctypedef long long mc_long
    ctypedef struct atomic_t:
        int counter
    ctypedef struct memdesc_flags_t:
        mc_ulong f
    cdef struct list_head:
        mc_ulong next
        mc_ulong prev

cdef extern from "memcore/design_types.h" nogil:    # the design's struct page, folio, ...
    # Opaque to generic code: what a page and a folio hold is the design's
    # business, reached only through the accessors declared below.
    cdef struct page
    cdef struct folio
    size_t MC_SIZEOF_PAGE "sizeof(struct page)"
    size_t MC_SIZEOF_FOLIO "sizeof(struct folio)"

cdef extern from "memcore/design_types.h" nogil:   # the design's struct slab
    cdef struct callback_head:
        mc_ulong next
        mc_ulong func
    ctypedef struct slab "struct slab":
        memdesc_flags_t flags
        mc_ulong slab_cache
        list_head slab_list
        mc_ulong next
        int slabs
        mc_ulong freelist
        mc_ulong counters
        unsigned int inuse
        unsigned int objects
        unsigned int frozen
        callback_head callback_head

cdef extern from "memcore/page_flags.h" nogil:
    enum:
        PG_locked, PG_writeback, PG_referenced, PG_uptodate, PG_dirty, PG_lru, PG_head
        PG_waiters, PG_active, PG_workingset, PG_owner_priv_1, PG_owner_2, PG_arch_1
        PG_reserved, PG_private, PG_private_2, PG_reclaim, PG_swapbacked, PG_unevictable
        PG_dropbehind, PG_mlocked, PG_large_rmappable, PG_partially_mapped
    enum:
        PGTY_buddy, PGTY_offline, PGTY_table, PGTY_guard, PGTY_hugetlb, PGTY_slab
        PGTY_zsmalloc, PGTY_unaccepted, PGTY_large_kmalloc, PGTY_mapcount_underflow
    unsigned int PAGE_TYPE_NONE
    int PAGE_TYPE_SHIFT

cdef extern from "memcore/mmzone.h" nogil:
    int MAX_PAGE_ORDER, NR_PAGE_ORDERS, PAGE_ALLOC_COSTLY_ORDER, HPAGE_PMD_ORDER
    int pageblock_order
    unsigned long pageblock_nr_pages
    int MAX_NR_ZONES_C "MAX_NR_ZONES"
    enum:
        ZONE_NORMAL, ZONE_MOVABLE
    enum:
        MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_PCPTYPES
        MIGRATE_HIGHATOMIC, MIGRATE_ISOLATE, MIGRATE_TYPES
    int MIGRATETYPE_MASK, PB_migrate_isolate
    enum:
        WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK
    int NR_LOWORDER_PCP_LISTS, NR_PCP_LISTS, NR_PCP_THP
    int PCPF_PREV_FREE_HIGH_ORDER, PCPF_FREE_HIGH_BATCH
    int CONFIG_PCP_BATCH_SCALE_MAX, MIN_PERCPU_PAGELIST_HIGH_FRACTION
    enum:
        NR_FREE_PAGES, NR_FREE_PAGES_BLOCKS, NR_ZONE_PCP_PAGES, NR_VM_ZONE_STAT_ITEMS
    int ZONE_BOOSTED_WATERMARK, ZONE_RECLAIM_ACTIVE, ZONE_BELOW_HIGH

    cdef struct per_cpu_pages:
        int count
        int high
        int high_min
        int high_max
        int batch
        unsigned char flags
        unsigned char alloc_factor
        unsigned char expire
        short free_count
        int mc_free_diff
        list_head lists[1]          # NR_PCP_LISTS in C
    cdef struct free_area:
        list_head free_list[1]      # MIGRATE_TYPES in C
        mc_ulong nr_free
    cdef struct zone:
        mc_ulong _watermark[4]
        mc_ulong watermark_boost
        mc_ulong nr_reserved_highatomic
        mc_ulong nr_free_highatomic
        mc_long lowmem_reserve[8]
        int node
        mc_ulong zone_pgdat
        mc_ulong per_cpu_pageset
        int pageset_high_min
        int pageset_high_max
        int pageset_batch
        mc_ulong pageblock_flags
        mc_ulong zone_start_pfn
        mc_ulong managed_pages
        mc_ulong spanned_pages
        mc_ulong present_pages
        int zone_idx
        mc_ulong flags
        free_area free_area[1]      # NR_PAGE_ORDERS in C
        mc_long vm_stat[1]          # NR_VM_ZONE_STAT_ITEMS in C
    cdef struct pglist_data:
        zone node_zones[1]          # MAX_NR_ZONES in C
        int nr_zones
        mc_ulong node_start_pfn
        mc_ulong node_present_pages
        mc_ulong node_spanned_pages
        int node_id

cdef extern from "memcore/slub_sizing.h" nogil:
    enum:
        MC_NR_KMALLOC_TYPES     # rows of kmalloc_caches[][] (enum mc_kmalloc_type)
        MC_KMALLOC_NR_INDEX     # kmalloc size indexes, 0 unused (KMALLOC_SHIFT_HIGH + 1)
        MC_SLUB_COSTLY_ORDER    # slab_max_order's default (PAGE_ALLOC_COSTLY_ORDER)

cdef extern from "memcore/machine.h" nogil:
    mc_ulong MC_PAGE_OFFSET, MC_VMEMMAP_START, TAIL_MAPPING, LIST_POISON1, LIST_POISON2
    uint64_t MC_LOWMEM_LIMIT, MAX_DMA_PFN, MAX_DMA32_PFN, PAGES_PER_SECTION
    int MC_MAX_NODES, MC_MAX_CPUS, MC_SECTION_SIZE_BITS, PAGE_SHIFT
    int MC_MAX_DESC_CACHES
    enum: MC_DK_FOLIO, MC_DK_SLAB, MC_DK_PTDESC
    enum mc_err:
        MC_OK, MC_ENOMEM, MC_EREFZERO, MC_ENOTLOCKED, MC_EBADPAGE, MC_ETAIL, MC_ENOTLARGE
        MC_EPFN, MC_EORDER, MC_EFREE, MC_EINVAL, MC_EDEADLOCK, MC_EADDR, MC_EBUSY, MC_EBLOCKED
        MC_EDOUBLEFREE, MC_EINVALFREE, MC_ECORRUPT, MC_ECTOR
    enum:
        MC_RES_FIRMWARE, MC_RES_MEMMAP, MC_RES_PGDAT, MC_RES_PAGEBLOCK, MC_RES_PERCPU
        MC_RES_UNAVAILABLE, MC_RES_PERCPU_AREA, MC_RES_SLAB_BOOT, MC_NR_RESERVE_KINDS
    int MC_PFN_FROZEN, MC_PFN_RESERVED, MC_PFN_HOLE, MC_PFN_NOMAP, MC_PFN_SLAB_FOLIO, MC_MAX_RAM_RANGES
    bint MC_HAVE_VMEMMAP
    unsigned long long MC_MAX_RAM_BYTES
    unsigned long long MC_PCI_HOLE_START
    unsigned long long MC_PCI_HOLE_END
    enum:
        MC_WAIT_NONE, MC_WAIT_LOCK, MC_WAIT_RCU
    int PAGE_WAIT_TABLE_SIZE, MC_MAX_RESERVATIONS
    cdef struct mc_task:
        int cpu
        int rcu_nesting
        int wait_kind
        int wait_bit
        mc_ulong wait_key
        uint64_t wait_gp
    cdef struct mc_lock_owner:
        mc_ulong key
        int task
    cdef struct mc_waiter:
        mc_ulong key
        int task
        int bit
        int exclusive
    cdef struct mc_waitq:
        mc_waiter *w
        int nr
        int cap
    cdef struct mc_reservation:
        uint64_t start
        uint64_t end
        int kind
    const char *mc_reserve_kind_name(int kind)
    cdef struct mc_machine:
        page *memmap
        unsigned char *phys
        list_head *buddy_links
        uint64_t phys_bytes
        uint64_t nr_pfns
        uint64_t memmap_pfns
        mc_ulong page_offset
        mc_ulong memmap_va
        uint64_t memmap_bytes
        uint64_t lowmem_pfns
        int nr_nodes
        int nr_cpus
        uint64_t node_start_pfn[64]
        uint64_t node_end_pfn[64]
        int cpu_node[64]
        mc_ulong pgdat_va[64]
        pglist_data *pgdat[64]
        int nr_ram_ranges
        uint64_t ram_start_pfn[128]            # MC_MAX_RAM_RANGES in C
        uint64_t ram_end_pfn[128]
        uint64_t memblock_top[64]
        uint64_t memblock_floor[64]
        uint64_t reserved_bytes[MC_NR_RESERVE_KINDS]
        mc_ulong kmem_cache
        mc_ulong kmem_cache_node
        mc_ulong desc_caches[8]                 # MC_MAX_DESC_CACHES
        mc_ulong kmalloc_caches[MC_NR_KMALLOC_TYPES][MC_KMALLOC_NR_INDEX]
        mc_ulong percpu_base
        uint64_t percpu_unit
        int freelist_hardened
        int freelist_random
        uint64_t rng
        mc_ulong rcu_slabs
        uint64_t rcu_slabs_nr
        mc_ulong rcu_xa_nodes
        uint64_t rcu_xa_nodes_nr
        mc_ulong xa_node_cache
        uint32_t slub_debug
        int slub_pid
        uint64_t jiffies
        int (*ctor_hook)(mc_machine *m, mc_ulong slab_va) noexcept nogil
        void *ctor_ctx
        uint64_t kmap_local
        uint64_t slab_pages
        uint64_t large_kmalloc_pages
        unsigned char *obj_bitmap
        uint32_t *pfn_gen
        uint32_t *obj_gen
        int kasan
        unsigned char *kasan_shadow
        int min_free_kbytes
        int watermark_scale_factor
        int percpu_pagelist_high_fraction
        uint64_t pgalloc
        uint64_t pgalloc_zone[8]    # MAX_NR_ZONES in C (Cython only indexes it)
        uint64_t pgfree
        uint64_t vmstat_ticks
        unsigned char vmstat_work_queued[64]    # MC_MAX_CPUS
        int err
        int64_t err_pfn
        char err_msg[512]
        unsigned char *pfn_marks
        mc_reservation reservations[194]    # MC_MAX_RESERVATIONS in C
        int nr_reservations
        mc_task *tasks
        int nr_tasks
        int tasks_cap
        mc_lock_owner *owners
        int nr_owners
        int owners_cap
        mc_waitq wait_table[256]            # PAGE_WAIT_TABLE_SIZE in C

    void *mc_host(const mc_machine *m, mc_ulong addr)
    int mc_addr_valid(const mc_machine *m, mc_ulong addr, uint64_t length)
    int mc_addr_in_direct_map(const mc_machine *m, mc_ulong addr, uint64_t length)
    mc_ulong mc_phys_to_virt(const mc_machine *m, uint64_t paddr)
    uint64_t mc_virt_to_phys(const mc_machine *m, mc_ulong addr)
    page *mc_pfn_to_page(const mc_machine *m, uint64_t pfn)
    uint64_t mc_page_to_pfn(const mc_machine *m, const page *p)
    mc_ulong mc_page_va(const mc_machine *m, const page *p)
    mc_ulong mc_addr_of(const mc_machine *m, const void *host)
    void mc_pfn_mark_set(mc_machine *m, uint64_t pfn, unsigned char mark)
    void mc_pfn_mark_clear(mc_machine *m, uint64_t pfn, unsigned char mark)
    bint mc_pfn_mark_test(const mc_machine *m, uint64_t pfn, unsigned char mark)
    unsigned int mc_wait_hash(mc_ulong key)
    mc_ulong mc_pfn_to_va(const mc_machine *m, uint64_t pfn)
    page *mc_va_to_page(const mc_machine *m, mc_ulong va)
    int mc_va_is_page(const mc_machine *m, mc_ulong va)
    list_head *mc_list(const mc_machine *m, mc_ulong va)
    void INIT_LIST_HEAD(list_head *h, mc_ulong h_va)
    int list_empty(const list_head *h, mc_ulong h_va)
    void list_add(const mc_machine *m, list_head *n, mc_ulong n_va, list_head *h, mc_ulong h_va)
    void list_add_tail(const mc_machine *m, list_head *n, mc_ulong n_va, list_head *h, mc_ulong h_va)
    void list_del(const mc_machine *m, list_head *e)

cdef extern from "memcore/design.h" nogil:
    # The seam: every design header (memcore/design_<name>.h) defines these,
    # with the kernel's helper names where the kernel has one.
    const char *MC_DESIGN_NAME
    int MC_NR_DESC_CACHES
    const char *const mc_desc_cache_names[]
    mc_ulong PAGE_FLAGS_CHECK_AT_FREE, PAGE_FLAGS_CHECK_AT_PREP, PAGE_FLAGS_SECOND, PAGEFLAGS_MASK
    # page flags word: zone, node, section links
    mc_ulong mc_page_flags(const mc_machine *m, const page *p)
    mc_ulong mc_page_flags_va(const mc_machine *m, const page *p)
    int page_zonenum(const mc_machine *m, const page *p)
    int page_to_nid(const mc_machine *m, const page *p)
    unsigned long page_to_section(const mc_machine *m, const page *p)
    mc_ulong page_zone_id(const mc_machine *m, const page *p)
    void set_page_links(const mc_machine *m, page *p, int zone, int nid, unsigned long pfn)
    void page_cpupid_reset_last(const mc_machine *m, page *p)
    void mc_init_single_page(const mc_machine *m, page *p, int zone, int nid, unsigned long pfn)
    # per-page fields
    page *nth_page(page *p, unsigned long n)
    long mc_page_index_in(const page *head, const page *p)
    mc_ulong page_private(const mc_machine *m, const page *p)
    void set_page_private(const mc_machine *m, page *p, mc_ulong v)
    mc_ulong mc_page_mapping_word(const mc_machine *m, const page *p)
    mc_ulong mc_page_memcg_data(const mc_machine *m, const page *p)
    unsigned int mc_page_type_word(const mc_machine *m, const page *p)
    mc_ulong mc_page_compound_word(const mc_machine *m, const page *p)
    int mc_page_type(const mc_machine *m, const page *p)
    # compound pages
    int PageTail(const mc_machine *m, const page *p)
    int PageHead(const mc_machine *m, const page *p)
    page *mc_compound_head(const mc_machine *m, page *p)
    void prep_compound_page(const mc_machine *m, page *p, unsigned int order)
    const char *mc_compound_bad_reason(const mc_machine *m, page *head, unsigned int order,
                                       unsigned long *bad)
    # folios
    folio *page_folio(const mc_machine *m, page *p)
    folio *mc_walker_folio(const mc_machine *m, page *p)
    page *folio_page(const mc_machine *m, folio *f, unsigned long n)
    uint64_t folio_pfn(const mc_machine *m, const folio *f)
    mc_ulong mc_folio_va(const mc_machine *m, const folio *f)
    folio *mc_va_to_folio(const mc_machine *m, mc_ulong va)
    mc_ulong *folio_flags(folio *f, unsigned int n)
    mc_ulong mc_folio_flags_va(const mc_machine *m, const folio *f)
    unsigned int folio_order(const folio *f)
    unsigned long folio_nr_pages(const folio *f)
    int folio_test_large(const folio *f)
    int folio_ref_count(const folio *f)
    void folio_set_count(folio *f, int v)
    void folio_ref_add(folio *f, int nr)
    bint folio_ref_freeze(folio *f, int count)
    mc_ulong mc_folio_mapping_word(const folio *f)
    mc_ulong folio_index(const folio *f)
    void mc_folio_set_mapping(folio *f, mc_ulong mapping)
    void mc_folio_set_index(folio *f, mc_ulong index)
    mc_ulong folio_memcg_data(const folio *f)
    int folio_mapcount(const folio *f)
    int folio_large_mapcount(const folio *f)
    int folio_entire_mapcount(const folio *f)
    int folio_nr_pages_mapped(const folio *f)
    int folio_pincount(const folio *f)
    void folio_set_large_rmappable_flag(folio *f)
    void mc_folio_clear_lru_flags(folio *f)
    # page types
    int page_type_has_type(unsigned int page_type)
    int page_has_type(const mc_machine *m, const page *p)
    int page_type_is(const mc_machine *m, const page *p, int t)
    void mc_set_page_type(const mc_machine *m, page *p, int t)
    void mc_clear_page_type(const mc_machine *m, page *p)
    int PageBuddy(const mc_machine *m, const page *p)
    int PageSlab(const mc_machine *m, const page *p)
    int PageLargeKmalloc(const mc_machine *m, const page *p)
    int PageTable(const mc_machine *m, const page *p)
    int PageReserved(const mc_machine *m, const page *p)
    void __SetPageReserved(const mc_machine *m, page *p)
    void __ClearPageReserved(const mc_machine *m, page *p)
    int PageLRU(const mc_machine *m, const page *p)
    # the buddy allocator's per-page state
    void set_buddy_order(const mc_machine *m, page *p, unsigned int order)
    unsigned int buddy_order(const mc_machine *m, const page *p)
    page *mc_buddy_link_page(const mc_machine *m, mc_ulong va)
    int mc_free_link_valid(const mc_machine *m, mc_ulong link)
    int MC_BUDDY_LINKS_IN_BLOCK
    void mc_free_memory_read(const mc_machine *m, uint64_t pa, uint64_t len, unsigned char *out)
    const char *mc_free_memory_unwritable(const mc_machine *m, uint64_t pfn)
    # reference and map counts of one page
    int page_ref_count(const mc_machine *m, const page *p)
    void set_page_count(const mc_machine *m, page *p, int v)
    void page_mapcount_reset(const mc_machine *m, page *p)
    int mc_page_dump_mapcount(const mc_machine *m, const page *p)
    # the free path
    const char *page_bad_reason(const mc_machine *m, const page *p, mc_ulong flags, int expected_ref,
                                int head_reset)
    const char *free_tail_page_bad_reason(const mc_machine *m, page *head, page *p)
    const char *mc_free_tail_page_is_bad_reason(const mc_machine *m, page *head, page *p, int compound)
    void mc_free_pages_prepare_desc(const mc_machine *m, page *p, unsigned int order)
    # page <-> slab
    page *slab_page(const mc_machine *m, slab *sl)
    slab *page_slab(const mc_machine *m, page *p)
    folio *slab_folio(const mc_machine *m, slab *sl)
    mc_ulong mc_slab_va(const mc_machine *m, const slab *sl)
    slab *mc_va_to_slab(const mc_machine *m, mc_ulong va)
    uint64_t slab_pfn(const mc_machine *m, const slab *sl)
    unsigned int slab_order(const slab *sl)
    int slab_nid(const slab *sl)
    # what an allocation is, and its descriptor (lifecycle hooks)
    int mc_desc_cache_of(int kind, unsigned int order)
    folio *mc_folio_attach(const mc_machine *m, page *p, unsigned int order, mc_ulong desc_va,
                           int anon)
    slab *mc_slab_attach(const mc_machine *m, page *p, unsigned int order, mc_ulong desc_va,
                         slab *build)
    mc_ulong mc_slab_detach(const mc_machine *m, slab *sl)
    void mc_ptdesc_attach(const mc_machine *m, page *p, unsigned int order, mc_ulong desc_va)
    mc_ulong mc_ptdesc_detach(const mc_machine *m, page *p)
    void mc_kmalloc_large_attach(const mc_machine *m, page *p, unsigned int order)
    void mc_kmalloc_large_detach(const mc_machine *m, page *p)
    void mc_misc_attach(const mc_machine *m, page *p, unsigned int order)
    unsigned int mc_head_order(const mc_machine *m, page *p)
    int mc_folio_desc_live(const mc_machine *m, mc_ulong va)
    int mc_slab_desc_live(const mc_machine *m, mc_ulong va)
    int mc_page_memdesc(const mc_machine *m, const page *p, mc_ulong *word)
    # S8: a slab lends a page to the page cache (MC_FOLIO_SLABS: whether the design can)
    int MC_FOLIO_SLABS
    slab *mc_folio_backing_slab(const mc_machine *m, const folio *f)
    void mc_folio_lend_from_slab(mc_machine *m, folio *f, slab *sl)
    void mc_folio_return_to_slab(mc_machine *m, folio *f, slab *sl)
    const char *mc_desc_word_unwritable(const mc_machine *m, int ci, size_t off)
    int64_t mc_flags_word_pfn(const mc_machine *m, mc_ulong va)
    const char *mc_desc_bad_reason(const mc_machine *m, int ci, mc_ulong va)
    const char *mc_compound_head_bug(const mc_machine *m, const page *p)
    # what the API may write in the memmap
    const char *mc_memmap_word_unwritable(const mc_machine *m, mc_ulong va)

cdef extern from "memcore/free_list.h" nogil:
    # free lists over the design's links (generic, on top of the seam)
    void free_list_add(const mc_machine *m, page *p, list_head *h, mc_ulong h_va)
    void free_list_add_tail(const mc_machine *m, page *p, list_head *h, mc_ulong h_va)
    void free_list_del(const mc_machine *m, page *p)
    mc_ulong free_list_next(const mc_machine *m, mc_ulong w)
    mc_ulong free_list_prev(const mc_machine *m, mc_ulong w)

cdef extern from "memcore/bitops.h" nogil:
    int test_bit(int nr, const mc_ulong *word)
    void set_bit(int nr, mc_ulong *word)
    void clear_bit(int nr, mc_ulong *word)
    void __set_bit(int nr, mc_ulong *word)
    void __clear_bit(int nr, mc_ulong *word)
    int test_and_set_bit(int nr, mc_ulong *word)
    int test_and_clear_bit(int nr, mc_ulong *word)

cdef extern from "memcore/config.h" nogil:
    unsigned long MC_PAGE_SIZE "PAGE_SIZE"

cdef extern from "memcore/page_flags_layout.h" nogil:
    mc_ulong ZONES_MASK, NODES_MASK, SECTIONS_MASK, LAST_CPUPID_MASK

cdef extern from "memcore/machine.h" nogil:
    mc_ulong mc_virt(const mc_machine *m, const void *host)

cdef extern from "memcore/gfp.h" nogil:
    unsigned int __GFP_DMA, __GFP_HIGHMEM, __GFP_DMA32, __GFP_MOVABLE, __GFP_RECLAIMABLE
    unsigned int __GFP_HIGH, __GFP_ZERO, __GFP_COMP, __GFP_THISNODE, __GFP_KSWAPD_RECLAIM
    unsigned int __GFP_DIRECT_RECLAIM, __GFP_ACCOUNT
    unsigned int GFP_MOVABLE_MASK, GFP_MOVABLE_SHIFT, GFP_KERNEL, GFP_ATOMIC, GFP_USER
    unsigned int GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE
    unsigned int GFP_RECLAIM_MASK, GFP_CONSTRAINT_MASK, GFP_SLAB_BUG_MASK
    int ALLOC_WMARK_MIN, ALLOC_WMARK_LOW, ALLOC_WMARK_HIGH, ALLOC_NO_WATERMARKS
    int ALLOC_WMARK_MASK, ALLOC_OOM, ALLOC_NON_BLOCK, ALLOC_MIN_RESERVE, ALLOC_CMA
    int ALLOC_NOFRAGMENT, ALLOC_HIGHATOMIC, ALLOC_KSWAPD, ALLOC_RESERVES
    int FPI_NONE, FPI_SKIP_REPORT_NOTIFY, FPI_TO_TAIL

cdef extern from "memcore/folio_flags.h" nogil:
    pass

cdef extern from "memcore/zones.h" nogil:
    const char *mc_zone_names[]
    int mc_zone_is_highmem(int zone_idx)
    int mc_boot_zone_of(uint64_t pfn, uint64_t lowmem_pfns)
    int gfp_zone(unsigned int gfp)
    int gfp_migratetype(unsigned int gfp)
    int mc_has_dma32()
    int mc_has_numa()

cdef extern from "memcore/slub.h" nogil:
    ctypedef unsigned int slab_flags_t
    cdef struct kmem_cache_order_objects:
        unsigned int x
    cdef struct kmem_cache_cpu:
        mc_ulong freelist
        mc_ulong tid
        mc_ulong slab
        mc_ulong partial
    cdef struct kmem_cache_node:
        mc_ulong nr_partial
        list_head partial
        mc_long nr_slabs "nr_slabs.counter"
        mc_long total_objects "total_objects.counter"
        list_head full
    cdef struct kmem_cache:
        mc_ulong cpu_slab
        slab_flags_t flags
        mc_ulong min_partial
        unsigned int size
        unsigned int object_size
        unsigned int offset
        unsigned int cpu_partial
        unsigned int cpu_partial_slabs
        kmem_cache_order_objects oo
        kmem_cache_order_objects min
        unsigned int allocflags
        int refcount
        mc_ulong ctor
        unsigned int inuse
        unsigned int align
        unsigned int red_left_pad
        mc_ulong name
        list_head list
        mc_ulong random
        mc_ulong random_seq
        unsigned int useroffset
        unsigned int usersize
        mc_ulong node[1]
    unsigned int oo_order(kmem_cache_order_objects x)
    unsigned int oo_objects(kmem_cache_order_objects x)
    size_t MC_KMEM_CACHE_SIZE(int nr_nodes)
    size_t SLAB_LIST_OFFSET
    mc_ulong ZERO_SIZE_PTR, MC_TEXT_RCU_FREE_SLAB
    mc_ulong freelist_ptr_encode(const kmem_cache *s, mc_ulong ptr, mc_ulong ptr_addr)
    mc_ulong freelist_ptr_decode(const kmem_cache *s, mc_ulong ptr, mc_ulong ptr_addr)
    int POISON_INUSE, POISON_FREE, POISON_END, SLUB_RED_INACTIVE, SLUB_RED_ACTIVE
    int KASAN_GRANULE_SIZE, KASAN_PAGE_FREE, KASAN_PAGE_REDZONE, KASAN_SLAB_REDZONE, KASAN_SLAB_FREE

cdef extern from "memcore/slub_sizing.h" nogil:
    unsigned int MC_SLAB_CONSISTENCY_CHECKS, MC_SLAB_RED_ZONE, MC_SLAB_POISON, MC_SLAB_KMALLOC
    unsigned int MC_SLAB_HWCACHE_ALIGN, MC_SLAB_CACHE_DMA, MC_SLAB_CACHE_DMA32, MC_SLAB_STORE_USER
    unsigned int MC_SLAB_PANIC, MC_SLAB_TYPESAFE_BY_RCU, MC_SLAB_TRACE, MC_SLAB_NOLEAKTRACE
    unsigned int MC_SLAB_NO_MERGE, MC_SLAB_ACCOUNT, MC_SLAB_NO_USER_FLAGS, MC_SLAB_RECLAIM_ACCOUNT
    unsigned int MC_SLAB_OBJECT_POISON, MC_SLAB_NO_OBJ_EXT, MC_SLAB_FLAGS_PERMITTED
    unsigned int MC_SLAB_DEBUG_FLAGS
    unsigned int MC_KMALLOC_MAX_CACHE_SIZE
    unsigned long MC_KMALLOC_MAX_SIZE
    int mc_kmalloc_type_of(int gfp_dma, int gfp_reclaimable, int gfp_account)
    enum:
        MC_SLUB_ERR_SIZE_ZERO, MC_SLUB_ERR_TOO_BIG, MC_SLUB_ERR_ALIGN, MC_SLUB_ERR_FLAGS
        MC_SLUB_ERR_FREEPTR, MC_SLUB_ERR_ORDER
    cdef struct mc_slub_config:
        unsigned int word_size
        unsigned int page_size
        unsigned int nr_cpus
        unsigned int cache_line_size
        unsigned int slub_min_order
        unsigned int slub_max_order
        unsigned int slub_min_objects
    cdef struct mc_slub_cache_args:
        unsigned int object_size
        unsigned int align
        unsigned int flags
        int has_ctor
        int use_freeptr_offset
        unsigned int freeptr_offset
        unsigned int sheaf_capacity
        int boot_cache
    cdef struct mc_kmem_cache_order_objects:
        unsigned int order
        unsigned int objects
        unsigned int x
    cdef struct mc_kmem_cache_layout:
        unsigned int object_size
        unsigned int size
        unsigned int align
        unsigned int offset
        unsigned int inuse
        unsigned int red_left_pad
        unsigned int flags
        int freeptr_outside
        mc_kmem_cache_order_objects oo
        mc_kmem_cache_order_objects min
        unsigned int min_partial
        unsigned int cpu_partial
        unsigned int cpu_partial_slabs
    void mc_slub_config_init(mc_slub_config *c, unsigned int word_size, unsigned int nr_cpus)
    int mc_slub_create(const mc_slub_config *c, const mc_slub_cache_args *a, mc_kmem_cache_layout *out)
    int mc_kmalloc_index(size_t size)
    unsigned int mc_kmalloc_index_size(int idx)
    const char *mc_kmalloc_short_name(int idx)
    const char *mc_kmalloc_type_prefix(int type)
    int mc_kmalloc_cache_args(int type, int idx, mc_slub_cache_args *out)
    unsigned int mc_slub_get_order(uint64_t size)


# The module's extension types, declared before the files that use them.
cdef class Machine
cdef class Task
cdef class Page
cdef class Folio
cdef class PgFlags
cdef class KmemCache
cdef class Slab
cdef class SlabObject
cdef class RCU
cdef class AddressSpace


cdef extern from "memcore/design.h" nogil:
    # the geometry of the design's descriptor cache `ci` (after mc_slub_cache_args)
    void mc_desc_cache_args(int ci, mc_slub_cache_args *a)


cdef extern from "memcore/xarray.h" nogil:     # the page cache's index
    enum:
        XA_CHUNK_SHIFT, XA_CHUNK_SIZE, XA_CHUNK_MASK, XA_MAX_MARKS, XA_MARK_LONGS
    mc_ulong XA_RETRY_ENTRY, XA_ZERO_ENTRY, XA_RCU_FREE
    cdef struct xa_node:
        unsigned char shift
        unsigned char offset
        unsigned char count
        unsigned char nr_values
        mc_ulong parent
        mc_ulong array
        list_head private_list
        callback_head rcu_head
        mc_ulong slots[64]
    cdef struct xarray:
        unsigned int xa_lock
        unsigned int xa_flags
        mc_ulong xa_head
    cdef struct address_space:
        mc_ulong host
        xarray i_pages
        unsigned int gfp_mask
        mc_ulong nrpages
        mc_ulong flags
    size_t MC_SIZEOF_XA_NODE "sizeof(struct xa_node)"
    size_t MC_SIZEOF_ADDRESS_SPACE "sizeof(struct address_space)"
    bint xa_is_internal(mc_ulong e)
    bint xa_is_value(mc_ulong e)
    bint xa_is_node(mc_ulong e)
    mc_ulong xa_mk_node(mc_ulong va)
    mc_ulong xa_to_node(mc_ulong e)
    mc_ulong xa_mk_sibling(unsigned int offset)
    unsigned int xa_to_sibling(mc_ulong e)
    bint xa_is_sibling(mc_ulong e)
    bint xa_is_retry(mc_ulong e)
    bint xa_is_zero(mc_ulong e)
    void mc_xa_node_ctor(xa_node *node, mc_ulong va)
    void mc_xa_node_rcu_clear(xa_node *node, mc_ulong va)
