"""Issue 8, item 10: stale views.

A view kept after what it named was freed must not act on the memory's next
owner: a second a.free() must not free b."""
from __future__ import annotations

import pytest

import memcore
from memcore import VMBug


# ---- item 10: stale views --------------------------------------------------------------

def test_a_stale_slab_object_does_not_free_its_successor(machine):
    m = machine(ram="64MiB")
    c = m.kmem_cache_create("gen", 64)
    a = c.alloc()
    a.free()
    b = c.alloc()
    assert b.address == a.address               # SLUB hands the last freed object back
    with pytest.raises(VMBug, match="stale"):
        a.free()
    with pytest.raises(VMBug, match="stale"):
        a.write(0, b"x")
    with pytest.raises(VMBug, match="stale"):
        a.read()
    with pytest.raises(VMBug, match="stale"):
        m.kfree(a)
    b.write(0, b"b")
    assert b.read(0, 1) == b"b"
    b.free()
    m.check()


def test_a_stale_kmalloc_view_does_not_free_its_successor(machine):
    m = machine(ram="64MiB")
    for size in (64, 3 * 4096):
        a = m.kmalloc(size)
        a.free()
        b = m.kmalloc(size)
        if b.address == a.address:
            with pytest.raises(VMBug, match="stale"):
                a.free()
        b.free()
    m.check()


def test_a_freed_object_is_still_a_double_free_not_stale(machine):
    m = machine(ram="64MiB")
    a = m.kmalloc(64)
    a.free()
    with pytest.raises(VMBug) as ei:
        a.free()
    assert "stale" not in str(ei.value)
    m.check()


def test_a_stale_folio_view_does_not_act_on_the_next_folio(machine):
    m = machine(ram="64MiB")
    a = m.alloc_folio()
    pfn = a.pfn
    a.put()
    b = m.alloc_folio()
    assert b.pfn == pfn                          # the pcp list hands it back
    # reads answer for the folio that was (freed, refcount 0), not for b
    assert a.freed and a.refcount == 0 and not b.freed and b.refcount == 1
    for op in (a.get, a.put, a.set_dirty, a.test_dirty, a.lock, lambda: a.flags):
        with pytest.raises(VMBug, match="stale|freed"):
            op()
    assert b.refcount == 1 and not b.test_dirty()
    m.folio(pfn).set_dirty()                     # a new view is fine
    assert b.test_dirty()
    b.put()
    m.check()


def test_a_stale_kmem_cache_view_does_not_act_on_the_next_cache(machine):
    m = machine(ram="64MiB")
    a = m.kmem_cache_create("one", 64)
    addr = a.pointer
    m.kmem_cache_destroy(a)
    b = m.kmem_cache_create("two", 128)
    assert b.pointer == addr
    with pytest.raises(ValueError, match="destroyed"):
        a.alloc()
    with pytest.raises(ValueError, match="destroyed"):
        m.kmem_cache_destroy(a)
    assert a.name == "<destroyed>"
    b.alloc().free()
    m.kmem_cache_destroy(b)
    m.check()


def test_a_stale_slab_view_raises(machine):
    m = machine(ram="64MiB")
    c = m.kmem_cache_create("slabgen", 64)
    o = c.alloc()
    s = o.slab
    assert s.inuse >= 1
    o.free()
    m.kmem_cache_shrink(c)
    m.kmem_cache_destroy(c)
    d = m.kmem_cache_create("slabgen2", 64)
    keep = [d.alloc() for _ in range(200)]
    with pytest.raises(VMBug):
        s.inuse
    for k in keep:
        k.free()
    m.check()
