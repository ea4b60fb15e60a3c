"""m.compact(): 6.18's compaction in outline (memcore/core/compaction.pxi) on
every variant: migrate scanner up from the bottom, free scanner down from
the top, page-cache folios moved (contents, flags, XArray slot, the cache's
references), everything else skipped without being locked."""
from __future__ import annotations

import pytest

import memcore


def _fragment(m, keep_every=4, cache=True, order=0):
    """Fill the machine with folios of `order`, free all but every
    keep_every-th; the kept ones go into the page cache (cache=True) or stay
    plain allocations.  Returns (address_space, kept folios)."""
    a = m.address_space("f")
    fs = []
    while True:
        try:
            fs.append(m.alloc_folio(order=order))
        except memcore.OutOfMemory:
            break
    kept = []
    for n, f in enumerate(fs):
        if n % keep_every:
            f.put()
        else:
            kept.append(f)
    if cache:
        for i, f in enumerate(kept):
            a.add_folio(i << order, f)
            f.unlock()
            f.put()
    m.drain_pcp()
    return a, kept


def test_a_fragmented_zone_gains_a_larger_free_block(machine):
    m = machine("64MiB")
    a, kept = _fragment(m)
    before = [(i, f.pfn) for i, f in a.entries()]
    r = m.compact()
    assert r["largest_free_order_after"] > r["largest_free_order_before"]
    assert r["migrated"] > 0 and r["isolated"] == r["migrated"] + r["failed"]
    assert r["scanned"] > 0
    after = a.entries()
    assert [i for i, _ in after] == [i for i, _ in before]      # every index still there
    assert any(f.pfn != p for (_, p), (_, f) in zip(before, after))
    assert all(f.refcount == f.nr_pages and f.page(0).mapping == a.pointer for _, f in after)
    assert m.check()


def test_contents_and_flags_move_with_the_folio(machine):
    m = machine("64MiB")
    a, _ = _fragment(m)
    marks = {}
    for i, f in a.entries():
        va = m.pfn_to_virt(f.pfn)
        if va is not None and i % 7 == 0:
            m.write(va, bytes([i % 251]) * 32)
            marks[i] = f.pfn
        if i % 5 == 0:
            f.set_dirty()
    r = m.compact()
    assert r["migrated"]
    moved = 0
    for i, f in a.entries():
        if i in marks:
            assert m.read(m.pfn_to_virt(f.pfn), 32) == bytes([i % 251]) * 32, i
            moved += f.pfn != marks[i]
        assert f.flags.test("dirty") == (i % 5 == 0)
        assert f.flags.test("uptodate") is False and not f.flags.test("locked")
    assert moved
    assert m.check()


def test_what_cannot_move_is_skipped_and_never_locked(machine):
    """Plain allocations (nobody can re-point their users) stay where they are,
    unlocked, with their references; a page-cache folio held by someone else
    is isolated but not moved; one locked by another task is skipped."""
    m = machine("64MiB")
    a, plain = _fragment(m, cache=False)
    spots = [(f.pfn, f.refcount) for f in plain]
    r = m.compact()
    assert r["migrated"] == r["isolated"] == 0
    assert r["skipped_by_type"] >= len(plain)
    assert [(f.pfn, f.refcount) for f in plain] == spots
    assert not any(f.flags.test("locked") for f in plain)
    for f in plain:
        f.put()
    assert m.check()


def test_a_referenced_or_locked_cache_folio_stays(machine):
    m = machine("64MiB")
    a, _ = _fragment(m)
    entries = a.entries()
    held = a.get_folio(entries[-1][0])                  # a reader's reference
    other = m.task("other", cpu=1)
    locked = entries[-2][1]
    assert locked.trylock(task=other)
    spots = (held.pfn, locked.pfn)
    r = m.compact()
    assert (held.pfn, locked.pfn) == spots
    assert held.refcount == 2 and locked.lock_owner is other
    locked.unlock(task=other)
    held.put()
    assert m.check()


def test_large_folios_migrate(machine):
    m = machine("64MiB")
    a, _ = _fragment(m, keep_every=3, order=2)
    r = m.compact()
    assert r["migrated"] > 0
    assert all(f.order == 2 and f.refcount == 4 for _, f in a.entries())
    for i, f in a.entries():
        for j in range(4):
            g = a.get_folio(i + j)
            assert g == f
            g.put()
    assert m.check()


def test_compact_one_zone_and_a_bad_name(machine):
    m = machine("64MiB")
    zone = m.zones()[-1]["zone"]
    r = m.compact(zone)
    assert set(r) == {"scanned", "isolated", "migrated", "skipped_by_type", "failed",
                      "largest_free_order_before", "largest_free_order_after"}
    with pytest.raises(memcore.UnknownChoice):
        m.compact("Nowhere")
    assert m.check()
