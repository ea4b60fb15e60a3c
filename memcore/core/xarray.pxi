# The XArray (lib/xarray.c, Linux 6.18) over modeled memory: the page
# cache's index -> folio map, multi-index entries included (a folio of order
# o takes 2^o indices: one slot at the level of shift o - o % 6, with
# sibling entries in the next (1 << o % 6) - 1 slots).
#
# Nodes are objects of the radix_tree_node cache of the model's SLUB, so
# they are counted in slabinfo and their bytes are modeled memory; a freed
# node waits for an RCU grace period (xa_node_free(): call_rcu ->
# radix_tree_node_rcu_free()), as lock-free readers may still be in it.
# The functions follow the kernel's: xas_start/xas_descend/xas_load,
# xas_expand/xas_create/xas_store, update_node/xas_delete_node/xas_shrink,
# xas_free_nodes, with the xa_state as a C struct.  Marks (dirty,
# writeback, towrite) and value entries (shadows) are not used.
#
# One difference in mechanism: the kernel allocates nodes under the lock
# with GFP_NOWAIT and, failing that, outside it (xas_nomem()) and retries.
# The model counts the nodes a store needs first (xas_nodes_needed()) and
# allocates them before touching the tree, so a store that cannot get its
# nodes changes nothing; the ones it did not need go back to the cache.
#
# Provides: xa_state, xas_set_order(), xas_load(), xas_store(), xa_load(),
#   xas_prealloc(), xas_destroy(), xa_node_free(), rcu_free_xa_nodes().
# Uses: slub.pxi (slab_alloc_node, slab_free, virt_to_slab).

DEF XAS_BOUNDS = 1
DEF XAS_ERROR = 2
DEF XAS_RESTART = 3
DEF XAS_MAX_PREALLOC = 24     # at most 11 new tops and 11 levels below the top (64-bit)
DEF XA_MAX_DEPTH = 11         # levels of a tree over a 64-bit index


cdef struct xa_state:
    mc_ulong xa                  # the struct xarray's modeled address
    mc_ulong xa_index
    unsigned char xa_shift
    unsigned char xa_sibs
    unsigned char xa_offset
    mc_ulong xa_node             # a node's address, or XAS_BOUNDS/ERROR/RESTART, or 0
    int err                      # the xas_set_err() value (an MC_E* code)
    int cpu                      # the CPU whose SLUB slabs nodes come from
    int nr_alloc                 # preallocated nodes left (xas->xa_alloc)
    mc_ulong alloc[XAS_MAX_PREALLOC]


cdef xa_node xa_bad_node          # what a corrupted node pointer reads as (all NULL)


cdef inline xa_node *XN(const mc_machine *m, mc_ulong va) noexcept nogil:
    """The node at va.  A pointer that is not direct-mapped memory (a tree
    damaged through Machine.write) reads as an empty node instead of
    crashing; Machine.check() names the damage."""
    if mc_addr_in_direct_map(m, va, MC_SIZEOF_XA_NODE):
        return <xa_node *>mc_host(m, va)
    memset(&xa_bad_node, 0, sizeof(xa_node))
    return &xa_bad_node


cdef inline xarray *XA(const mc_machine *m, mc_ulong va) noexcept nogil:
    return <xarray *>mc_host(m, va)


cdef inline void xas_init(xa_state *xas, mc_ulong xa, mc_ulong index, int cpu) noexcept nogil:
    """XA_STATE()."""
    memset(xas, 0, sizeof(xa_state))
    xas.xa = xa
    xas.xa_index = index
    xas.xa_node = XAS_RESTART
    xas.cpu = cpu


cdef inline void xas_set_order(xa_state *xas, mc_ulong index, unsigned int order) noexcept nogil:
    xas.xa_index = (index >> order) << order if order < MC_BITS else 0
    xas.xa_shift = order - (order % XA_CHUNK_SHIFT)
    xas.xa_sibs = (1 << (order % XA_CHUNK_SHIFT)) - 1
    xas.xa_node = XAS_RESTART


cdef inline bint xas_top(mc_ulong node) noexcept nogil:
    return node <= XAS_RESTART


cdef inline bint xas_invalid(const xa_state *xas) noexcept nogil:
    return (xas.xa_node & 3) != 0


cdef inline void xas_set_err(xa_state *xas, int err) noexcept nogil:
    xas.xa_node = XAS_ERROR
    xas.err = err


cdef inline unsigned int get_offset(mc_ulong index, const xa_node *node) noexcept nogil:
    return (index >> node.shift) & XA_CHUNK_MASK


cdef inline mc_ulong max_index(const mc_machine *m, mc_ulong entry) noexcept nogil:
    if not xa_is_node(entry):
        return 0
    return (<mc_ulong>XA_CHUNK_SIZE << XN(m, xa_to_node(entry)).shift) - 1


cdef inline mc_ulong xas_max(const xa_state *xas) noexcept nogil:
    cdef mc_ulong mx = xas.xa_index, mask
    if xas.xa_shift or xas.xa_sibs:
        mask = ((<mc_ulong>xas.xa_sibs + 1) << xas.xa_shift) - 1
        mx |= mask
        if mask == mx:
            mx += 1
    return mx


cdef inline mc_ulong xas_descend(const mc_machine *m, xa_state *xas, mc_ulong node_va) noexcept nogil:
    cdef xa_node *node = XN(m, node_va)
    cdef unsigned int offset = get_offset(xas.xa_index, node)
    cdef mc_ulong entry = node.slots[offset]
    cdef int hops = 0
    xas.xa_node = node_va
    while xa_is_sibling(entry) and hops < XA_CHUNK_SIZE:   # (a damaged node: no cycle)
        hops += 1
        offset = xa_to_sibling(entry)
        entry = node.slots[offset]
        if node.shift and xa_is_node(entry):
            entry = XA_RETRY_ENTRY
    xas.xa_offset = offset
    return entry


cdef inline mc_ulong set_bounds(xa_state *xas) noexcept nogil:
    xas.xa_node = XAS_BOUNDS
    return 0


cdef inline mc_ulong xas_start(const mc_machine *m, xa_state *xas) noexcept nogil:
    cdef mc_ulong entry
    if not xas_top(xas.xa_node) and not xas_invalid(xas):
        return xas_reload(m, xas)
    if xas.xa_node == XAS_ERROR:
        return 0
    entry = XA(m, xas.xa).xa_head
    if not xa_is_node(entry):
        if xas.xa_index:
            return set_bounds(xas)
    elif (xas.xa_index >> XN(m, xa_to_node(entry)).shift) > XA_CHUNK_MASK:
        return set_bounds(xas)
    xas.xa_node = 0
    return entry


cdef mc_ulong xas_load(const mc_machine *m, xa_state *xas) noexcept nogil:
    """The entry at xas.xa_index (a multi-index entry's canonical one).
    (A damaged tree deeper than any real one reads as empty.)"""
    cdef mc_ulong entry = xas_start(m, xas), node_va
    cdef int depth = 0
    while xa_is_node(entry):
        depth += 1
        if depth > XA_MAX_DEPTH:
            return 0
        node_va = xa_to_node(entry)
        if xas.xa_shift > XN(m, node_va).shift:
            break
        entry = xas_descend(m, xas, node_va)
        if XN(m, node_va).shift == 0:
            break
    return entry


cdef mc_ulong xas_reload(const mc_machine *m, xa_state *xas) noexcept nogil:
    """Re-read the slot the last load found (the lookup's re-check)."""
    cdef mc_ulong node_va = xas.xa_node, entry
    cdef unsigned int offset
    cdef xa_node *node
    if not node_va:
        return XA(m, xas.xa).xa_head
    node = XN(m, node_va)
    offset = (xas.xa_index >> node.shift) & XA_CHUNK_MASK
    entry = node.slots[offset]
    if not xa_is_sibling(entry):
        return entry
    offset = xa_to_sibling(entry)
    return node.slots[offset]


cdef mc_ulong xa_load(const mc_machine *m, mc_ulong xa, mc_ulong index) noexcept nogil:
    """xa_load() without the RCU retry loop (the caller holds the lock or is
    the only task running): the entry at index, retry entries skipped."""
    cdef xa_state xas
    cdef mc_ulong entry
    while True:
        xas_init(&xas, xa, index, 0)
        entry = xas_load(m, &xas)
        if xa_is_zero(entry):
            return 0
        if not xa_is_retry(entry):
            return entry


# ---- node allocation and freeing ----------------------------------------------------

cdef int xas_nodes_needed(const mc_machine *m, const xa_state *xas0) noexcept nogil:
    """How many nodes xas_store() of a (non-NULL, non-node) entry at xas0's
    index and order will allocate (xas_expand() + xas_create())."""
    cdef mc_ulong head = XA(m, xas0.xa).xa_head, mx = xas_max(xas0), entry, cur
    cdef int shift, n = 0, order = xas0.xa_shift
    cdef xa_state xas = xas0[0]
    if not head:
        if mx == 0:
            return 0
        shift = 0
        while (mx >> shift) >= XA_CHUNK_SIZE:
            shift += XA_CHUNK_SHIFT
        shift += XA_CHUNK_SHIFT
        while shift > order:                # xas_create() allocates every level
            shift -= XA_CHUNK_SHIFT
            n += 1
        return n
    shift = XN(m, xa_to_node(head)).shift + XA_CHUNK_SHIFT if xa_is_node(head) else 0
    cur = max_index(m, head)
    while mx > cur:                         # xas_expand(): a new top per level
        n += 1
        cur = (<mc_ulong>XA_CHUNK_SIZE << shift) - 1
        shift += XA_CHUNK_SHIFT
    if n:
        # the index is beyond the old tree: the path below the new top is empty
        shift -= XA_CHUNK_SHIFT             # the top node's shift
        while shift > order:
            shift -= XA_CHUNK_SHIFT
            n += 1
        return n
    if not xa_is_node(head):
        return 0                            # index 0 at the head: occupied
    # walk the existing path (xas_create() below the top)
    xas.xa_node = 0
    entry = head
    shift = XN(m, xa_to_node(head)).shift + XA_CHUNK_SHIFT
    while shift > order:
        shift -= XA_CHUNK_SHIFT
        if not entry:
            n += 1
            entry = 0
            continue
        if not xa_is_node(entry):
            break
        entry = xas_descend(m, &xas, xa_to_node(entry))
    return n


cdef int xas_prealloc(mc_machine *m, xa_state *xas) noexcept nogil:
    """Allocate the nodes the coming store needs (the kernel's xas_nomem()
    ahead of time): MC_ENOMEM, with nothing allocated, if SLUB cannot."""
    cdef int need = xas_nodes_needed(m, xas), i
    cdef mc_ulong va
    cdef kmem_cache *s = KC(m, m.xa_node_cache)
    if need > XAS_MAX_PREALLOC:
        return MC_ENOMEM
    for i in range(need):
        va = slab_alloc_node(m, s, GFP_KERNEL, -1, xas.cpu, s.object_size)
        if va == 0:
            xas_destroy(m, xas)
            return MC_ENOMEM
        xas.alloc[xas.nr_alloc] = va
        xas.nr_alloc += 1
    return 0


cdef void xas_destroy(mc_machine *m, xa_state *xas) noexcept nogil:
    """Free the preallocated nodes the store did not use (never published:
    kmem_cache_free() at once, as the kernel's xas_destroy())."""
    cdef kmem_cache *s = KC(m, m.xa_node_cache)
    cdef mc_ulong va
    while xas.nr_alloc:
        xas.nr_alloc -= 1
        va = xas.alloc[xas.nr_alloc]
        slab_free(m, s, virt_to_slab(m, va), va, xas.cpu)


cdef mc_ulong xas_alloc(mc_machine *m, xa_state *xas, unsigned int shift) noexcept nogil:
    cdef mc_ulong parent_va = xas.xa_node, va
    cdef xa_node *node
    if xas.nr_alloc == 0:
        xas_set_err(xas, MC_ENOMEM)
        return 0
    xas.nr_alloc -= 1
    va = xas.alloc[xas.nr_alloc]
    node = XN(m, va)
    if parent_va:
        node.offset = xas.xa_offset
        XN(m, parent_va).count += 1
    node.shift = shift
    node.count = 0
    node.nr_values = 0
    node.parent = parent_va
    node.array = xas.xa
    return va


cdef void xa_node_free(mc_machine *m, mc_ulong node_va) noexcept nogil:
    """call_rcu(&node->rcu_head, radix_tree_node_rcu_free): the model chains
    the waiting nodes through rcu_head.next; the RCU engine frees them."""
    cdef xa_node *node = XN(m, node_va)
    node.array = XA_RCU_FREE
    node.rcu_head.next = m.rcu_xa_nodes
    node.rcu_head.func = 0
    m.rcu_xa_nodes = node_va
    m.rcu_xa_nodes_nr += 1


cdef void rcu_free_xa_nodes(mc_machine *m, mc_ulong head) noexcept nogil:
    """radix_tree_node_rcu_free() for a chain of nodes, after their grace
    period: slots and marks cleared and private_list empty again (the state
    radix_tree_node_ctor() promises), then kmem_cache_free()."""
    cdef kmem_cache *s = KC(m, m.xa_node_cache)
    cdef xa_node *node
    cdef mc_ulong nxt
    while head:
        node = XN(m, head)
        nxt = node.rcu_head.next
        mc_xa_node_rcu_clear(node, head)
        slab_free(m, s, virt_to_slab(m, head), head, 0)
        m.rcu_xa_nodes_nr -= 1
        head = nxt


cdef void xas_free_nodes(mc_machine *m, xa_state *xas, mc_ulong top_va) noexcept nogil:
    """Free a subtree that was replaced (its nodes wait for RCU)."""
    cdef unsigned int offset = 0
    cdef mc_ulong node_va = top_va, entry, parent
    cdef xa_node *node
    cdef uint64_t steps = 0
    while steps < (<uint64_t>1 << 20):          # (a damaged tree: no endless walk)
        steps += 1
        node = XN(m, node_va)
        entry = node.slots[offset]
        if node.shift and xa_is_node(entry):
            node_va = xa_to_node(entry)
            offset = 0
            continue
        if entry:
            node.slots[offset] = XA_RETRY_ENTRY
        offset += 1
        while offset == XA_CHUNK_SIZE:
            parent = node.parent
            offset = node.offset + 1
            node.count = 0
            node.nr_values = 0
            xa_node_free(m, node_va)
            if node_va == top_va:
                return
            node_va = parent
            node = XN(m, node_va)


# ---- storing --------------------------------------------------------------------------

cdef int xas_expand(mc_machine *m, xa_state *xas, mc_ulong head) noexcept nogil:
    cdef xarray *xa = XA(m, xas.xa)
    cdef mc_ulong node_va = 0, mx = xas_max(xas)
    cdef unsigned int shift = 0
    cdef xa_node *node
    if not head:
        if mx == 0:
            return 0
        while (mx >> shift) >= XA_CHUNK_SIZE:
            shift += XA_CHUNK_SHIFT
        return shift + XA_CHUNK_SHIFT
    elif xa_is_node(head):
        node_va = xa_to_node(head)
        shift = XN(m, node_va).shift + XA_CHUNK_SHIFT
    xas.xa_node = 0
    while mx > max_index(m, head):
        node_va = xas_alloc(m, xas, shift)
        if not node_va:
            return -1
        node = XN(m, node_va)
        node.count = 1
        if xa_is_value(head):
            node.nr_values = 1
        node.slots[0] = head
        if xa_is_node(head):
            XN(m, xa_to_node(head)).offset = 0
            XN(m, xa_to_node(head)).parent = node_va
        head = xa_mk_node(node_va)
        xa.xa_head = head
        shift += XA_CHUNK_SHIFT
    xas.xa_node = node_va
    return shift


cdef mc_ulong xas_create(mc_machine *m, xa_state *xas, bint allow_root) noexcept nogil:
    """The slot for xas's index and order, creating the nodes on the way.
    Returns its entry; xas.xa_node/xa_offset name the slot (node 0: xa_head)."""
    cdef xarray *xa = XA(m, xas.xa)
    cdef mc_ulong entry, node_va = xas.xa_node
    cdef mc_ulong *slot
    cdef int shift
    cdef unsigned int order = xas.xa_shift
    if xas_top(node_va):
        entry = xa.xa_head
        xas.xa_node = 0
        shift = xas_expand(m, xas, entry)
        if shift < 0:
            return 0
        if not shift and not allow_root:
            shift = XA_CHUNK_SHIFT
        entry = xa.xa_head
        slot = &xa.xa_head
    elif xas.xa_node == XAS_ERROR:
        return 0
    elif node_va:
        shift = XN(m, node_va).shift
        entry = XN(m, node_va).slots[xas.xa_offset]
        slot = &XN(m, node_va).slots[xas.xa_offset]
    else:
        shift = 0
        entry = xa.xa_head
        slot = &xa.xa_head
    while shift > <int>order:
        shift -= XA_CHUNK_SHIFT
        if not entry:
            node_va = xas_alloc(m, xas, shift)
            if not node_va:
                break
            slot[0] = xa_mk_node(node_va)
        elif xa_is_node(entry):
            node_va = xa_to_node(entry)
        else:
            break
        entry = xas_descend(m, xas, node_va)
        slot = &XN(m, node_va).slots[xas.xa_offset]
    return entry


cdef void xas_shrink(mc_machine *m, xa_state *xas) noexcept nogil:
    cdef xarray *xa = XA(m, xas.xa)
    cdef mc_ulong node_va = xas.xa_node, entry
    cdef xa_node *node
    cdef int depth
    for depth in range(XA_MAX_DEPTH + 1):
        node = XN(m, node_va)
        if node.count != 1:
            break
        entry = node.slots[0]
        if not entry:
            break
        if not xa_is_node(entry) and node.shift:
            break
        xas.xa_node = XAS_BOUNDS
        xa.xa_head = entry
        node.count = 0
        node.nr_values = 0
        if not xa_is_node(entry):
            node.slots[0] = XA_RETRY_ENTRY
        xa_node_free(m, node_va)
        if not xa_is_node(entry):
            break
        node_va = xa_to_node(entry)
        XN(m, node_va).parent = 0


cdef void xas_delete_node(mc_machine *m, xa_state *xas) noexcept nogil:
    cdef mc_ulong node_va = xas.xa_node, parent_va
    cdef xa_node *node
    cdef int depth
    for depth in range(XA_MAX_DEPTH + 1):
        node = XN(m, node_va)
        if node.count:
            break
        parent_va = node.parent
        xas.xa_node = parent_va
        xas.xa_offset = node.offset
        xa_node_free(m, node_va)
        if not parent_va:
            XA(m, xas.xa).xa_head = 0
            xas.xa_node = XAS_BOUNDS
            return
        XN(m, parent_va).slots[xas.xa_offset] = 0
        XN(m, parent_va).count -= 1
        node_va = parent_va
    if not XN(m, node_va).parent:
        xas_shrink(m, xas)


cdef inline void update_node(mc_machine *m, xa_state *xas, mc_ulong node_va, int count,
                             int values) noexcept nogil:
    if not node_va or (not count and not values):
        return
    XN(m, node_va).count += count
    XN(m, node_va).nr_values += values
    if count < 0:
        xas_delete_node(m, xas)


cdef mc_ulong xas_store(mc_machine *m, xa_state *xas, mc_ulong entry) noexcept nogil:
    """Store entry (a folio, or 0 to erase) at xas's index and order;
    returns the entry that was there."""
    cdef mc_ulong node_va, first, nxt
    cdef mc_ulong *slot = &XA(m, xas.xa).xa_head
    cdef unsigned int offset, mx
    cdef int count = 0, values = 0
    cdef bint value = xa_is_value(entry)
    if entry:
        first = xas_create(m, xas, not xa_is_node(entry) and not xa_is_zero(entry))
    else:
        first = xas_load(m, xas)
    if xas_invalid(xas):
        return first
    node_va = xas.xa_node
    if node_va and xas.xa_shift < XN(m, node_va).shift:
        xas.xa_sibs = 0
    if first == entry and not xas.xa_sibs:
        return first
    nxt = first
    offset = xas.xa_offset
    mx = xas.xa_offset + xas.xa_sibs
    if node_va:
        slot = &XN(m, node_va).slots[offset]
    while True:
        slot[0] = entry
        if xa_is_node(nxt) and (not node_va or XN(m, node_va).shift):
            xas_free_nodes(m, xas, xa_to_node(nxt))
        if not node_va:
            break
        count += (not nxt) - (not entry)
        values += (not xa_is_value(first)) - (not value)
        if entry:
            if offset == mx:
                break
            if not xa_is_sibling(entry):
                entry = xa_mk_sibling(xas.xa_offset)
        else:
            if offset == XA_CHUNK_MASK:
                break
        offset += 1
        nxt = XN(m, node_va).slots[offset]
        if not xa_is_sibling(nxt):
            if not entry and offset > mx:
                break
            first = nxt
        slot += 1
    update_node(m, xas, node_va, count, values)
    return first
