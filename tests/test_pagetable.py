"""Page tables: pagetable_alloc() / pagetable_free() (include/linux/mm.h, 6.18)
on every variant.  Classic types the head page ("table") and keeps the count in
it; the memdesc designs allocate a struct ptdesc from their "ptdesc" cache, point
every page's memdesc at it, and keep the table's reference there (S7)."""
from __future__ import annotations

import pytest

import memcore
from memcore import VMBug


@pytest.mark.parametrize("order", [0, 1, 3])
def test_a_page_table_is_typed_counted_and_checked(machine, order):
    m = machine("64MiB")
    before = m.stats()
    p = m.pagetable_alloc(order=order)
    assert p.type_name == "table" and p.refcount == 1 and p.folio is None
    assert m.walk()["pgtable"] == before["pages"]["pgtable"] + (1 << order)
    if order:
        assert p.is_head and all(m.page(p.pfn + i).is_tail for i in range(1, 1 << order))
    assert m.check()
    m.pagetable_free(p)
    assert m.walk()["pgtable"] == before["pages"]["pgtable"]
    assert m.check()


def test_the_memdesc_designs_allocate_a_ptdesc(machine):
    m = machine("64MiB")
    p = m.pagetable_alloc(order=1)
    try:
        d = p.memdesc
    except memcore.NoMemdesc:
        assert m.stats()["descriptor_bytes"] == {}
        m.pagetable_free(p)
        return
    assert d.type == "pagetable" and d.address % 16 == 0
    assert m.page(p.pfn + 1).memdesc.address == d.address
    assert m.virt_to_cache(d.address).name == "ptdesc"
    assert m.stats()["descriptor_bytes"]["ptdesc"] > 0
    m.pagetable_free(p)
    assert m.check()


def test_misuse_changes_nothing(machine):
    m = machine("64MiB")
    p = m.pagetable_alloc(order=1)
    f = m.alloc_folio()
    before = m._state_digest()
    for bad in (m.page(p.pfn + 1), m.page(f.pfn), m.page(0)):
        with pytest.raises(VMBug, match="heads no page table"):
            m.pagetable_free(bad)
        assert m._state_digest() == before
    with pytest.raises(TypeError):
        m.pagetable_free(p.pfn)
    with pytest.raises(memcore.OrderOutOfRange):
        m.pagetable_alloc(order=11)
    m.pagetable_free(p)
    with pytest.raises(VMBug, match="heads no page table"):
        m.pagetable_free(p)                 # a double free
    f.put()
    assert m.check()
