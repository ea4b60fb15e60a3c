"""m.walk_folios(): the lock-free PFN walker (claim S6) on every variant.

Each design finds a page's folio its own way (classic: the compound head,
ruling out typed and reserved pages; the memdesc designs: the page's
memdesc), then takes a reference, re-checks, and puts it again.  The
expected folios are the ones the test allocated (and nothing the kernel
keeps for itself: free blocks, per-CPU pages, slabs, page tables, reserved
memory).
"""
from __future__ import annotations

import numpy as np
import pytest

import memcore


def test_the_walker_finds_exactly_the_folios(machine):
    m = machine("128MiB")
    m.drain_pcp()
    base = m.walk_folios()
    folios = [m.alloc_folio(order=o) for o in (0, 0, 1, 2, 3, 9, 10)]
    m.kmalloc(64), m.kmalloc(3 << 12)                         # slab and large kmalloc pages
    pt = m.pagetable_alloc(order=1)
    freed = m.alloc_folio(order=2)
    freed.put()                                               # back on a pcp list or free
    frozen = m.alloc_folio(order=1)
    assert frozen.ref_freeze(1)                               # being freed: no reference
    refs = [f.refcount for f in folios]
    w = m.walk_folios()
    want = sorted((f.pfn, f.order) for f in folios) + \
        list(zip(base["pfns"].tolist(), base["orders"].tolist()))
    assert sorted(zip(w["pfns"].tolist(), w["orders"].tolist())) == sorted(want)
    assert w["folios"] == len(want) and w["retries"] == 0
    assert w["pages"] == sum(1 << o for _, o in want)
    assert [f.refcount for f in folios] == refs              # every reference put back
    assert m.current.rcu_nesting == 0
    frozen.ref_unfreeze(1)
    m.pagetable_free(pt)
    assert m.check()


def test_a_range_walks_folios_that_begin_in_it(machine):
    m = machine("64MiB")
    big = m.alloc_folio(order=4)
    small = m.alloc_folio(order=0)
    w = m.walk_folios(big.pfn + 1, big.pfn + 16)              # inside the order-4 folio
    assert big.pfn not in w["pfns"].tolist()
    w = m.walk_folios(big.pfn, big.pfn + 16)
    assert w["pfns"].tolist()[:1] == [big.pfn] and w["orders"].tolist()[:1] == [4]
    w = m.walk_folios(small.pfn, small.pfn + 1)
    assert w["pfns"].tolist() == [small.pfn]
    assert m.walk_folios(5, 5)["folios"] == 0


@pytest.mark.parametrize("args, exc", [
    ((-1, None), ValueError), ((0, 1 << 60), ValueError), ((10, 5), ValueError),
    (("0", None), TypeError),
])
def test_bad_ranges_are_refused(machine, args, exc):
    m = machine("64MiB")
    with pytest.raises(exc):
        m.walk_folios(*args)
    assert m.current.rcu_nesting == 0


def test_page_cache_folios_are_walked_with_their_references(machine):
    m = machine("64MiB")
    a = m.address_space("f")
    f = m.alloc_folio(order=2)
    a.add_folio(0, f)
    f.unlock()
    f.put()
    w = m.walk_folios()
    assert f.pfn in w["pfns"].tolist() and f.refcount == 4
    assert isinstance(w["pfns"], np.ndarray)
