"""The page cache (memcore/core/filemap.pxi, xarray.pxi): m.address_space(name),
its XArray of folios (multi-index entries for large folios, nodes from the
model's radix_tree_node cache), the lookup protocol, removal and truncation,
on every variant.

The expected figures come from the kernel: the radix_tree_node cache's
geometry from this machine's /sys/kernel/slab (committed JSON), tree shapes
from lib/xarray.c's rules (64 slots per node; an order-o folio sits at the
level of shift o - o % 6 with (1 << o % 6) - 1 sibling entries).
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memcore

from conftest import DATA, VARIANTS, VARIANT_IDS, examples


def _add(a, index, order, m):
    f = m.alloc_folio(order=order)
    a.add_folio(index, f)
    f.unlock()
    f.put()                      # the cache's references keep it
    return f


# ---- the radix_tree_node cache -----------------------------------------------------------

def test_radix_tree_node_cache_is_the_kernels(machine):
    """sizeof(struct xa_node) and SLUB's geometry for it: object 576 B, slab_size
    584 B (a constructor puts the free pointer after the object), 14 per
    order-1 slab on x86_64, as this machine's /sys/kernel/slab says; on i386
    a node is 300 B (4-byte slots and pointers)."""
    m = machine("128MiB")
    assert "radix_tree_node" not in m.slabinfo()       # made with the first address_space
    m.address_space("f")
    c = m.kmem_cache("radix_tree_node")
    if m.bits == 64:
        sysfs = json.loads((DATA / "linux-6.18-x86_64-sys-kernel-slab.json").read_text())
        want = sysfs["caches"]["radix_tree_node"]["attrs"]
        assert (c.object_size, c.size, c.objs_per_slab, c.order) == \
            (want["object_size"], want["slab_size"], want["objs_per_slab"], want["order"])
    else:
        assert (c.object_size, c.size) == (300, 304)
    assert c.reclaim_account and c.ctor is not None


# ---- storing and looking up --------------------------------------------------------------

#: (index, order) -> XArray nodes after adding these folios, by lib/xarray.c's rules
SHAPES = [
    ([(0, 0)], 0),                       # a lone entry at index 0 lives in xa_head
    ([(0, 0), (1, 0)], 1),               # one level-0 node
    ([(5, 0)], 1),
    ([(0, 6)], 1),                       # order 6: one slot of a shift-6 node
    ([(0, 9)], 1),                       # order 9: a slot and 7 siblings at shift 6
    ([(0, 0), (64, 6)], 2),              # a shift-6 top, a level-0 child for index 0
    ([(4095, 0)], 2),                    # a shift-6 top covers 0..4095: level-0 node below
    ([(4096, 0)], 3),                    # 4096 needs a shift-12 top
    ([(0, 10), (4096, 0)], 4),           # order 10: 16 slots of a shift-6 node under the top
]


def test_the_highest_indices_grow_the_tree_to_its_full_height(machine):
    """Index 0 in xa_head, then the last index a word holds: xas_expand() adds a
    top per level (11 on x86_64, 6 on i386) and xas_create() the path below."""
    m = machine("64MiB")
    a = m.address_space("f")
    top = (1 << m.bits) - 1
    _add(a, 0, 0, m)
    _add(a, top, 0, m)
    _add(a, 1 << (m.bits - 1), 0, m)
    levels = -(-m.bits // 6)
    assert a.xa_nodes == levels + 2 * (levels - 1)      # a new path below the top for each
    for index in (0, top, 1 << (m.bits - 1)):
        g = a.get_folio(index)
        assert g is not None
        g.put()
    assert a.get_folio(top - 1) is None
    assert a.truncate(0, 1 << m.bits)["freed"] == 3
    assert m.check()


@pytest.mark.parametrize("entries, nodes", SHAPES)
def test_tree_shapes_are_lib_xarrays(machine, entries, nodes):
    m = machine("64MiB")
    a = m.address_space("f")
    for index, order in entries:
        _add(a, index, order, m)
    assert a.xa_nodes == nodes
    assert [(i, f.order) for i, f in a.entries()] == sorted(entries)
    assert m.check()


def test_every_index_of_a_large_folio_finds_it(machine):
    m = machine("64MiB")
    a = m.address_space("f")
    placed = {}
    for index, order in [(0, 0), (2, 1), (4, 2), (16, 4), (64, 6), (512, 9), (1024, 10)]:
        placed[index] = _add(a, index, order, m)
    for index, f in placed.items():
        for i in range(index, index + f.nr_pages):
            g = a.get_folio(i)
            assert g == f and g.refcount == f.nr_pages + 1, i
            g.put()
    for hole in (1, 8, 15, 32, 128, 511, 2048, 1 << 30):
        assert a.get_folio(hole) is None
    assert a.nrpages == sum(f.nr_pages for f in placed.values())
    assert m.check()


def test_the_cache_holds_nr_pages_references_and_the_mapping(machine):
    m = machine("64MiB")
    a = m.address_space("f")
    f = m.alloc_folio(order=3)
    a.add_folio(8, f)
    assert f.refcount == 1 + 8 and f.flags.test("locked") and f.lock_owner is m.current
    f.unlock()
    assert f.page(0).mapping == a.pointer
    assert a.nrpages == 8
    f.lock()
    a.remove_folio(f)
    f.unlock()
    assert f.refcount == 1 and f.page(0).mapping == 0 and a.nrpages == 0
    assert f.put()                        # the caller's was the last
    assert m.check()


@pytest.mark.parametrize("setup, index, order, match", [
    ([(0, 2)], 2, 0, "already in the range"),        # inside a large folio
    ([(2, 0)], 0, 2, "already in the range"),        # a large folio over a small one
    ([], 3, 1, r"index & \(folio_nr_pages"),
    ([], 1 << 64, 0, "index"),
    ([], -1, 0, "index"),
])
def test_bad_adds_change_nothing(machine, setup, index, order, match):
    m = machine("64MiB")
    a = m.address_space("f")
    for i, o in setup:
        _add(a, i, o, m)
    f = m.alloc_folio(order=order)
    m.drain_pcp()
    d = m._state_digest()
    with pytest.raises((memcore.VMBug, ValueError), match=match):
        a.add_folio(index, f)
    assert m._state_digest() == d
    assert not f.flags.test("locked") and f.refcount == 1
    assert m.check()


def test_a_folio_in_a_mapping_or_locked_or_swapbacked_is_refused(machine):
    m = machine("64MiB")
    a, b = m.address_space("a"), m.address_space("b")
    f = _add(a, 0, 0, m)
    with pytest.raises(memcore.VMBug, match="already has a mapping"):
        b.add_folio(0, f)
    g = m.alloc_folio()
    g.lock()
    with pytest.raises(memcore.VMBug, match="locked"):
        a.add_folio(1, g)
    g.unlock()
    g.set_swapbacked()
    with pytest.raises(memcore.VMBug, match="swapbacked"):
        a.add_folio(1, g)
    assert b.nrpages == 0 and a.nrpages == 1
    assert m.check()


def test_remove_needs_the_lock_and_a_reference_of_the_callers(machine):
    m = machine("64MiB")
    a = m.address_space("f")
    f = _add(a, 0, 1, m)
    with pytest.raises(memcore.VMBug, match="folio_test_locked"):
        a.remove_folio(f)
    f.lock()
    with pytest.raises(memcore.VMBug, match="only the cache's references"):
        a.remove_folio(f)
    f.unlock()
    assert a.nrpages == 2 and m.check()


def test_get_folio_of_a_frozen_folio_would_spin(machine):
    m = machine("64MiB")
    a = m.address_space("f")
    f = _add(a, 0, 0, m)
    assert f.ref_freeze(1)
    with pytest.raises(memcore.Deadlock, match="frozen"):
        a.get_folio(0)
    assert m.current.rcu_nesting == 0
    f.ref_unfreeze(1)
    assert m.check()


# ---- truncation and RCU ------------------------------------------------------------------

def test_truncate_frees_what_only_the_cache_held(machine):
    m = machine("64MiB")
    a = m.address_space("f")
    for index, order in [(0, 0), (1, 0), (4, 2), (64, 6), (512, 9)]:
        _add(a, index, order, m)
    kept = a.get_folio(4)                     # a reader's reference: cannot be frozen
    r = a.truncate(1, 600)
    assert r == {"folios": 4, "pages": 1 + 4 + 64 + 512, "freed": 3}
    assert [i for i, _ in a.entries()] == [0] and a.nrpages == 1
    assert kept.refcount == 1 and kept.page(0).mapping == 0
    assert kept.put()
    assert m.check()


def test_truncate_refuses_a_folio_another_task_holds_locked(machine):
    m = machine("64MiB")
    a = m.address_space("f")
    f = _add(a, 0, 0, m)
    other = m.task("reader", cpu=1)
    assert f.trylock(task=other)
    m.drain_pcp()
    d = m._state_digest()
    with pytest.raises(memcore.Deadlock, match="locked by task 'reader'"):
        a.truncate(0, 1)
    assert m._state_digest() == d
    f.unlock(task=other)
    assert a.truncate(0, 1)["freed"] == 1
    assert m.check()


def test_freed_nodes_wait_for_a_grace_period(machine):
    """xa_node_free() is call_rcu(): a reader inside rcu_read_lock() when the
    node left the tree may still be looking at it."""
    m = machine("64MiB")
    a = m.address_space("f")
    for index in (0, 1, 4096):
        _add(a, index, 0, m)
    c = m.kmem_cache("radix_tree_node")
    used = c.objects_inuse
    reader = m.task("reader", cpu=1)
    m.rcu_read_lock(task=reader)
    a.truncate(0, 1 << 20)
    assert a.xa_nodes == 0 and m.rcu.pending and c.objects_inuse == used
    assert not m.rcu.barrier()                # the reader holds the grace period back
    m.rcu_read_unlock(task=reader)
    assert m.rcu.barrier() and m.rcu.pending == 0
    assert c.objects_inuse == used - 5        # shift-12 top, two shift-6, two level-0 nodes
    assert m.check()


def test_the_page_caches_metadata_is_not_the_apis_to_write_or_free(machine):
    """The XArray's nodes and the struct address_space are metadata the model
    follows (as kmem_cache objects are): Machine.write, kfree() and
    kmem_cache_free() refuse them and change nothing."""
    m = machine("64MiB")
    a = m.address_space("f")
    _add(a, 0, 0, m)
    _add(a, 1, 0, m)
    word = m.bits // 8
    head = int.from_bytes(m.read(a.pointer + word + 8, word), "little")
    node = head - 2                           # xa_to_node()
    assert head & 3 == 2 and a.xa_nodes == 1
    d = m._state_digest()
    with pytest.raises(memcore.InvalidAddress, match="radix_tree_node"):
        m.write(node + 2, b"\x05")
    with pytest.raises(memcore.InvalidAddress, match="radix_tree_node"):
        m.kmem_cache_free("radix_tree_node", node)
    with pytest.raises(memcore.InvalidAddress, match="address_space"):
        m.write(a.pointer + word + 8, b"\0" * word)
    with pytest.raises(memcore.InvalidAddress, match="address_space"):
        m.kfree(a.pointer)
    with pytest.raises(ValueError, match="boot cache"):
        m.kmem_cache_destroy("radix_tree_node")
    assert m._state_digest() == d
    assert m.check()


def test_truncate_refuses_what_it_could_not_free_and_changes_nothing(machine):
    """A folio the free path would call bad_page() for (here PG_private) or one
    under writeback: truncate refuses before erasing anything."""
    m = machine("64MiB")
    a = m.address_space("f")
    _add(a, 0, 0, m)
    f = _add(a, 1, 0, m)
    f.set_private()
    m.drain_pcp()
    d = m._state_digest()
    with pytest.raises(memcore.BadPageState):
        a.truncate(0, 2)
    assert m._state_digest() == d
    f.clear_private()
    f.test_set_writeback()
    with pytest.raises(memcore.Deadlock, match="writeback"):
        a.truncate(0, 2)
    f.test_clear_writeback()
    f.set_lru()                               # LRU folios are normal in the cache
    assert a.truncate(0, 2) == {"folios": 2, "pages": 2, "freed": 2}
    assert m.check()


# ---- any sequence of operations ----------------------------------------------------------

OPS = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(0, 3000), st.sampled_from([0, 0, 1, 2, 3, 6, 9])),
    st.tuples(st.just("remove"), st.integers(0, 3000), st.just(0)),
    st.tuples(st.just("truncate"), st.integers(0, 3000), st.integers(1, 700)),
), min_size=1, max_size=30)


@pytest.mark.parametrize("design, bits", VARIANTS, ids=VARIANT_IDS)
@settings(max_examples=examples(15), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_any_sequence_matches_a_dict_of_folios(design, bits, ops):
    m = memcore.Machine("64MiB", design=design, bits=bits)
    a = m.address_space("f")
    ref = {}                                  # index -> order
    for op, x, y in ops:
        if op == "add":
            index = x & ~((1 << y) - 1)
            clash = any(i < index + (1 << y) and index < i + (1 << o) for i, o in ref.items())
            f = m.alloc_folio(order=y)
            if clash:
                with pytest.raises(memcore.VMBug, match="already in the range"):
                    a.add_folio(index, f)
            else:
                a.add_folio(index, f)
                f.unlock()
                ref[index] = y
            f.put()
        elif op == "remove":
            g = a.get_folio(x)
            owner = next((i for i, o in ref.items() if i <= x < i + (1 << o)), None)
            assert (g is None) == (owner is None)
            if g is not None:
                g.lock()
                a.remove_folio(g)
                g.unlock()
                assert g.put()
                del ref[owner]
        else:
            r = a.truncate(x, x + y)
            gone = [i for i, o in ref.items() if i < x + y and x < i + (1 << o)]
            assert r == {"folios": len(gone), "pages": sum(1 << ref[i] for i in gone),
                         "freed": len(gone)}
            for i in gone:
                del ref[i]
        assert [(i, f.order) for i, f in a.entries()] == sorted(ref.items())
        assert a.nrpages == sum(1 << o for o in ref.values())
    assert m.check()
    a.truncate(0, 1 << 20)
    m.rcu.barrier()
    assert a.xa_nodes == 0 and m.check()
