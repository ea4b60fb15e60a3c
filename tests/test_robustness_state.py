"""Issue 8, item 11: wrong state.

m.folio() of what is no folio is refused, a bulk_put() that fails changes
nothing, and tasks stay usable however `with task:` nests."""
from __future__ import annotations

import pytest

import memcore
from memcore import VMBug


# ---- item 11: wrong state ----------------------------------------------------------------

def test_folio_of_a_reserved_page_is_refused(machine):
    m = machine(ram="64MiB")
    before = m.stats()
    reserved = [p for p in (0, 1, 255) if m.page(p).flags.test("reserved")]
    assert reserved
    for p in reserved:
        with pytest.raises(VMBug, match="reserved"):
            m.folio(p)
    assert m.stats() == before
    m.check()


def test_folio_of_a_slab_page_is_refused(machine):
    m = machine(ram="64MiB")
    o = m.kmalloc(64)
    with pytest.raises(VMBug, match="typed"):
        m.folio(o.slab.pfn)
    o.free()
    m.check()


def test_bulk_put_changes_nothing_when_it_fails(machine):
    m = machine(ram="64MiB")
    fs = [m.alloc_folio() for _ in range(4)]
    pfns = [f.pfn for f in fs]
    before = m.stats()
    free_pfn = next(p for p in range(m.nr_pfns - 1, 0, -1)
                    if m.page(p).buddy_order is not None)
    for bad in ([*pfns, free_pfn], [*pfns, pfns[0]], [*pfns, -1], [*pfns, m.nr_pfns],
                [*pfns, 0]):
        with pytest.raises((VMBug, memcore.PFNOutOfRange)):
            m.bulk_put(bad)
        assert m.stats() == before
        assert all(f.refcount == 1 for f in fs)
    fs[0].lock()
    with pytest.raises(VMBug):
        m.bulk_put(pfns)
    assert all(f.refcount == 1 for f in fs)
    fs[0].unlock()
    with pytest.raises(TypeError):
        m.bulk_put([1.5])
    with pytest.raises(ValueError):
        m.bulk_put([[1, 2]])
    fs[1].get()
    m.bulk_put([*pfns, pfns[1]])
    m.check()


def test_reentering_a_task_restores_the_outer_task(machine):
    m = machine(ram="64MiB")
    init = m.current
    a = m.task("A", cpu=1)
    with a:
        with a:
            assert m.current is a
        assert m.current is a
        b = m.task("B")
        with b:
            with a:
                assert m.current is a
            assert m.current is b
        assert m.current is a
    assert m.current is init
    m.alloc_folio().put()
    m.check()


def test_current_must_be_a_task_of_the_machine(machine):
    m = machine(ram="64MiB")
    other = machine(ram="64MiB")
    init = m.current
    for bad in (None, 1, "A", other.current):
        with pytest.raises(TypeError):
            m.current = bad
        assert m.current is init
    m.current = m.task("A")
    m.alloc_folio().put()
    m.current = init
    m.check()
