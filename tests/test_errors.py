"""The misuse table: every error is a specific memcore exception (also the
matching built-in), carries dump_page() text when it concerns a page, and
leaves the machine exactly as it was."""
from __future__ import annotations

import functools

import pytest

import memcore

import kfacts as K


@pytest.fixture
def machine(machine):
    """Machines of 64 MiB unless a test says otherwise."""
    return functools.partial(machine, ram="64MiB")


def folio_bytes(m, pfn, nr):
    return b"".join(m.page(pfn + i).raw() for i in range(nr))


class Unchanged:
    """Snapshot the machine and a folio's struct pages; compare after the error."""

    def __init__(self, m, f=None, pfn=None, nr=None):
        self.m = m
        self.pfn = f.pfn if f is not None else pfn
        self.nr = (f.nr_pages if f is not None else nr) if self.pfn is not None else 0
        self.before = self._take()

    def _take(self):
        snap = K.machine_snapshot(self.m)
        if self.pfn is not None:
            snap += (folio_bytes(self.m, self.pfn, self.nr),
                     self.m.page(self.pfn).refcount,
                     K.flags_word(self.m, self.pfn))
        return snap

    def check(self):
        assert self._take() == self.before
        self.m.check()


def has_dump(exc, pfn=None):
    text = str(exc)
    assert "page: refcount:" in text
    assert "page: refcount:" in exc.dump
    assert exc.dump in text
    if pfn is not None:
        assert f"pfn:{pfn:#x}" in exc.dump
    return True


# ---- the hierarchy ---------------------------------------------------------------------

@pytest.mark.parametrize("cls, builtin", [
    (memcore.VMBug, RuntimeError), (memcore.BadPageState, RuntimeError),
    (memcore.RefcountError, RuntimeError), (memcore.FolioNotLocked, RuntimeError),
    (memcore.TailPageError, RuntimeError), (memcore.Deadlock, RuntimeError),
    (memcore.PFNOutOfRange, IndexError), (memcore.OrderOutOfRange, ValueError),
    (memcore.OutOfMemory, MemoryError), (memcore.UnknownChoice, ValueError),
    (memcore.InvalidAddress, ValueError),
])
def test_exception_classes(cls, builtin):
    assert issubclass(cls, memcore.MemcoreError)
    assert issubclass(cls, builtin)
    if cls not in (memcore.VMBug, memcore.PFNOutOfRange, memcore.OrderOutOfRange,
                   memcore.OutOfMemory, memcore.UnknownChoice, memcore.InvalidAddress):
        assert issubclass(cls, memcore.VMBug)


# ---- reference counts ------------------------------------------------------------------

def test_put_on_refcount_zero(machine):
    m = machine()
    f = m.alloc_folio(order=1)
    assert f.ref_freeze(1)
    u = Unchanged(m, f)
    with pytest.raises(memcore.RefcountError) as ei:
        f.put()
    assert has_dump(ei.value, f.pfn)
    assert "refcount:0" in ei.value.dump
    u.check()


def test_get_on_refcount_zero(machine):
    m = machine()
    f = m.alloc_folio(order=2)
    assert f.ref_freeze(1)
    u = Unchanged(m, f)
    with pytest.raises(memcore.RefcountError) as ei:
        f.get()
    assert has_dump(ei.value, f.pfn)
    u.check()
    f.ref_unfreeze(1)
    f.get()
    assert f.refcount == 2


def test_unfreeze_of_an_unfrozen_folio(machine):
    m = machine()
    f = m.alloc_folio()
    u = Unchanged(m, f)
    with pytest.raises(memcore.RefcountError) as ei:
        f.ref_unfreeze(3)
    assert has_dump(ei.value, f.pfn)
    with pytest.raises(memcore.VMBug) as ei:
        f.free_frozen()
    assert has_dump(ei.value, f.pfn)
    u.check()


# ---- locking -------------------------------------------------------------------------

def test_unlock_of_an_unlocked_folio(machine):
    m = machine()
    f = m.alloc_folio(order=3)
    u = Unchanged(m, f)
    with pytest.raises(memcore.FolioNotLocked) as ei:
        f.unlock()
    assert has_dump(ei.value, f.pfn)
    u.check()
    # and after a correct lock/unlock pair, again
    assert f.lock()
    assert f.unlock() is False
    with pytest.raises(memcore.FolioNotLocked):
        f.unlock()
    u.check()


def test_self_deadlock_changes_nothing(machine):
    m = machine()
    f = m.alloc_folio()
    f.lock()
    u = Unchanged(m, f)
    with pytest.raises(memcore.Deadlock) as ei:
        f.lock()
    assert has_dump(ei.value, f.pfn)
    u.check()
    assert not m.current.waiting


# ---- bad page state on free -----------------------------------------------------------------

def _bad_free(m, f, reason, pfn=None, free=None, run_check=True):
    u = Unchanged(m, f)
    refs = f.refcount
    with pytest.raises(memcore.BadPageState) as ei:
        (free or f.put)()
    e = ei.value
    where = f.pfn if pfn is None else pfn
    assert str(e).startswith(f"BUG: Bad page state in process {m.current.name}  "
                             f"pfn:{where:05x}")
    assert reason in str(e)
    assert f"page dumped because: {reason}" in e.dump
    assert has_dump(e, where)
    assert f.refcount == refs
    if run_check:
        u.check()
    else:
        assert u._take() == u.before
    return e


def test_freeing_a_locked_folio(machine):
    m = machine()
    f = m.alloc_folio(order=2)
    assert f.lock()
    _bad_free(m, f, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set")
    assert f.flags.test("locked") and "locked" in f.flags.names()
    f.unlock()
    assert f.put()
    m.check()


@pytest.mark.classic_overlay
def test_a_locked_large_folio_prints_locked_and_head(machine):
    """The folio's flags are its head page's: %pGp shows PG_head after PG_locked
    (the memdesc designs have no PG_head; a descriptor's flags hold none)."""
    m = machine()
    f = m.alloc_folio(order=2)
    assert f.lock()
    assert "(locked|head|" in str(f.flags)
    f.unlock()
    assert f.put()
    m.check()


@pytest.mark.parametrize("setup", [
    "test_set_writeback", "set_reserved", "set_private", "set_private_2", "set_active",
    "set_unevictable", "__set_reserved",
])
def test_freeing_with_bad_flags(machine, setup):
    m = machine()
    f = m.alloc_folio(order=1)
    getattr(f, setup)()
    _bad_free(m, f, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set",
              run_check="reserved" not in setup)
    # fix it and the free goes through
    for fix in ("test_clear_writeback", "clear_reserved", "clear_private", "clear_private_2",
                "clear_active", "clear_unevictable"):
        getattr(f, fix)()
    assert f.put()
    m.check()


FREE_PATH_CLEARS = [("set_lru",), ("set_lru", "set_active"), ("set_lru", "set_unevictable"),
                    ("set_mlocked",), ("set_dirty", "mark_uptodate", "set_referenced")]


@pytest.mark.parametrize("flags", FREE_PATH_CLEARS)
def test_flags_the_free_path_clears_are_not_bad(machine, flags):
    """__folio_put() takes an LRU folio off the LRU (clearing lru/active/
    unevictable) and __free_pages_prepare() clears PG_mlocked before checking."""
    m = machine()
    f = m.alloc_folio(order=2)
    for fl in flags:
        getattr(f, fl)()
    assert f.put()
    m.drain_pcp()
    m.check()


@pytest.mark.classic_overlay
@pytest.mark.parametrize("flags", FREE_PATH_CLEARS)
def test_the_freed_head_page_has_no_page_flags_left(machine, flags):
    """The folio's flags are its head page's flags word: after the free it holds
    no page flag (a memdesc design's free block keeps its order in those bits)."""
    m = machine()
    f = m.alloc_folio(order=2)
    pfn = f.pfn
    for fl in flags:
        getattr(f, fl)()
    assert f.put()
    m.drain_pcp()
    assert K.flags_word(m, pfn) & ((1 << K.NR_PAGEFLAGS[m.bits]) - 1) == 0
    m.check()


def test_free_frozen_of_an_lru_folio_is_bad(machine):
    m = machine()
    f = m.alloc_folio(order=1)
    f.set_lru()
    assert f.ref_freeze(1)
    _bad_free(m, f, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set", free=f.free_frozen)
    f.clear_lru()
    f.free_frozen()
    m.check()


def _poke_field(m, f, member, value, page_index=0):
    """Write a struct folio member of `f` (page_index > 0: a struct page member of
    its page_index-th page, as the classic overlay places tail pages)."""
    if page_index:
        mem = K.layout(m, "page")[member]
        addr = m.page(f.pfn + page_index).pointer + mem.offset
    else:
        mem = K.layout(m, "folio")[member]
        addr = f.pointer + mem.offset
    if mem.size == 4:
        K.poke_s32(m, addr, value)
    else:
        K.poke_word(m, addr, value)


@pytest.mark.parametrize("member, value, page_index, reason", [
    ("_mapcount", 0, 0, "nonzero mapcount"),
    ("mapping", 0x5000, 0, "non-NULL mapping"),
    ("memcg_data", 0x7000, 0, "page still charged to cgroup"),
])
def test_freeing_with_a_bad_head(machine, member, value, page_index, reason):
    m = machine()
    f = m.alloc_folio(order=0)
    _poke_field(m, f, member, value)
    _bad_free(m, f, reason, run_check=False)
    _poke_field(m, f, member, -1 if member == "_mapcount" else 0)
    assert f.put()
    m.check()


def test_last_bad_reason_wins(machine):
    m = machine()
    f = m.alloc_folio()
    _poke_field(m, f, "_mapcount", 0)
    _poke_field(m, f, "mapping", 0x5000)
    _bad_free(m, f, "non-NULL mapping", run_check=False)
    f.test_set_writeback()
    _bad_free(m, f, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set", run_check=False)
    _poke_field(m, f, "memcg_data", 0x7000)
    _bad_free(m, f, "page still charged to cgroup", run_check=False)


@pytest.mark.parametrize("order", [0, 2])
def test_check_accepts_an_allocated_folio_with_pg_reserved(machine, order):
    m = machine()
    f = m.alloc_folio(order=order)
    f.set_reserved()
    try:
        m.check()
        # walk() classifies by what struct page shows, as a PFN scanner does
        assert m.walk()["reserved"] >= 1 << order
    finally:
        f.clear_reserved()
    assert f.put()
    m.check()


def test_anon_mapping_is_cleared_not_bad(machine):
    m = machine()
    f = m.alloc_folio(kind="anon", order=2)
    _poke_field(m, f, "mapping", 0x5001)             # anon_vma | FOLIO_MAPPING_ANON
    assert f.test_anon()
    pfn = f.pfn
    assert f.put()
    assert m.page(pfn).mapping == 0
    m.check()


@pytest.mark.classic_overlay
def test_freeing_with_bad_tail_state(variant, machine):
    bits = variant[1]
    m = machine()
    cases = [("_large_mapcount", 0, 1, "nonzero large_mapcount"),
             ("_nr_pages_mapped", 1, 1, "nonzero nr_pages_mapped"),
             ("_pincount", 1, 1 if bits == 64 else 2, "nonzero pincount"),
             ("_entire_mapcount", 0, 1 if bits == 64 else 2, "nonzero entire_mapcount")]
    for member, value, tail, reason in cases:
        f = m.alloc_folio(order=3)
        lay = K.layout(m, "folio")
        addr = f.pointer + lay[member].offset
        old = K.folio_field(m, f.pfn, member, signed=True)
        K.poke_s32(m, addr, value)
        _bad_free(m, f, reason, pfn=f.pfn + tail, run_check=False)
        K.poke_s32(m, addr, old)
        assert f.put()
        m.check()
    # a corrupted tail mapping (tails 4.. carry TAIL_MAPPING)
    f = m.alloc_folio(order=3)
    _poke_field(m, f, "mapping", 0, page_index=5)
    _bad_free(m, f, "corrupted mapping in tail page", pfn=f.pfn + 5, run_check=False)
    _poke_field(m, f, "mapping", K.TAIL_MAPPING[bits], page_index=5)
    assert f.put()
    # a folio still on a deferred-split list
    f = m.alloc_folio(order=4)
    lay = K.layout(m, "folio")
    dl = f.pointer + lay["_deferred_list"].offset
    K.poke_word(m, dl, dl + 0x40)
    _bad_free(m, f, "on deferred list", pfn=f.pfn + 2, run_check=False)
    K.poke_word(m, dl, dl)
    assert f.put()
    m.check()


# ---- heads, tails and freed folios ------------------------------------------------------

def test_tail_page_where_a_head_is_required(machine):
    m = machine()
    f = m.alloc_folio(order=4)
    for i in (1, 2, 7, 15):
        u = Unchanged(m, f)
        with pytest.raises(memcore.TailPageError) as ei:
            m.folio(f.pfn + i)
        assert has_dump(ei.value, f.pfn + i)
        u.check()
    u = Unchanged(m, f)
    with pytest.raises(memcore.TailPageError):
        m.bulk_put([f.pfn + 3])
    u.check()
    assert m.folio(f.pfn) == f


def _stale_view_inside_a_new_folio(m):
    """A view of an order-9 folio freed and merged, whose memory is now the upper
    half of a new order-10 folio: (stale view, its old pfn, the new folio)."""
    held = []
    while True:
        g = m.alloc_folio(order=9)
        held.append(g)
        if g.pfn & 512:
            break
    stale, pfn = g, g.pfn
    for h in held:
        h.put()
    m.drain_pcp()
    assert m.page(pfn).buddy_order is None            # merged into an order-10 block
    # the merged block is the first one on its list: order-10 allocations reuse it
    big = []
    for _ in range(10):
        big.append(m.alloc_folio(order=10))
        if big[-1].pfn <= pfn < big[-1].pfn + 1024:
            break
    new = big[-1]
    assert new.pfn == pfn - 512
    return stale, pfn, new


STALE_OPS = ("get", "put", "try_get", "lock", "trylock", "unlock", "set_dirty", "free_frozen")


def test_view_of_a_freed_folio_inside_a_new_folio(machine):
    """Every operation through the stale view is a VM bug (whatever the design
    names it), and none touches the new folio."""
    m = machine()
    stale, pfn, new = _stale_view_inside_a_new_folio(m)
    u = Unchanged(m, new)
    for op in STALE_OPS:
        with pytest.raises(memcore.VMBug) as ei:
            getattr(stale, op)()
        assert has_dump(ei.value)
    # reads answer for the folio that was, as dump_page() would: it is free
    assert stale.freed and stale.refcount == 0 and stale.order == 9
    assert repr(stale).endswith("order 9 (freed)>")
    with pytest.raises(memcore.VMBug, match="freed"):
        stale.flags
    u.check()
    assert new.refcount == 1 and new.put()
    m.check()


@pytest.mark.classic_overlay
def test_view_of_a_freed_folio_that_became_a_tail(machine):
    """The view is the old head struct page, now a tail of the new folio: the
    kernel's VM_BUG_ON_PAGE(PageTail) at that PFN.  (On the memdesc designs the
    view is the freed descriptor, reused or not: a stale view, not a tail.)"""
    m = machine()
    stale, pfn, new = _stale_view_inside_a_new_folio(m)
    u = Unchanged(m, new)
    for op in STALE_OPS:
        with pytest.raises(memcore.TailPageError) as ei:
            getattr(stale, op)()
        assert has_dump(ei.value, pfn)
    # reads answer for the folio that was: freed, refcount 0 (the tail's own is 0 too)
    assert stale.freed and stale.refcount == 0 and stale.pfn == pfn
    with pytest.raises(memcore.TailPageError):
        stale.mapcount
    u.check()


def test_view_of_a_freed_folio_at_a_buddy_head(machine):
    m = machine()
    f = m.alloc_folio(order=10)           # order 10 is not cached per CPU
    pfn = f.pfn
    assert f.put()
    assert m.page(pfn).buddy_order == 10
    u = Unchanged(m, pfn=pfn, nr=1024)
    for op in ("get", "put", "try_get", "lock", "trylock", "unlock", "set_dirty",
               "free_frozen", "test_dirty"):
        with pytest.raises(memcore.VMBug) as ei:
            getattr(f, op)()
        assert has_dump(ei.value, pfn)
        assert "page_type: f0(buddy)" in ei.value.dump
    with pytest.raises(memcore.VMBug):
        f.ref_unfreeze(1)
    u.check()


def _merged_stale_view(m):
    """A view of a freed order-3 folio whose page now lies inside a bigger free
    block (not at its head)."""
    by_pfn = {}
    for _ in range(200):
        f = m.alloc_folio(order=3)
        by_pfn[f.pfn] = f
        if f.pfn ^ 8 in by_pfn and f.pfn & 8:
            break
    else:
        raise AssertionError("no two order-3 buddies allocated")
    upper = f
    lower = by_pfn[f.pfn ^ 8]
    keep = [g for p, g in by_pfn.items() if p not in (upper.pfn, lower.pfn)]
    pfn = upper.pfn
    upper.put()
    lower.put()
    m.drain_pcp()
    assert m.page(pfn).buddy_order is None           # merged: not a block head
    assert m.page(pfn).refcount == 0
    assert m.page(pfn).folio is None
    return upper, pfn, keep


def _op_on_stale_view(m, stale, op, pfn, nr):
    u = Unchanged(m, pfn=pfn, nr=nr)
    args = (1,) if op == "ref_unfreeze" else ()
    with pytest.raises((memcore.TailPageError, memcore.VMBug)) as ei:
        getattr(stale, op)(*args)
    assert has_dump(ei.value, pfn)
    u.check()


@pytest.mark.parametrize("op", [
    "get", "put", "unlock",
    "lock",
    "trylock",
    "set_dirty",
    "ref_unfreeze",
    "free_frozen",
])
def test_view_of_a_freed_and_merged_folio(machine, op):
    m = machine()
    stale, pfn, keep = _merged_stale_view(m)
    _op_on_stale_view(m, stale, op, pfn, 8)


def test_try_get_on_a_freed_folio_takes_no_reference(machine):
    """The kernel's folio_try_get() on a free page fails quietly (it relies on the
    memmap being RCU-typesafe); the model's Folio.try_get() raises on a view of a
    freed folio (its docstring), like every other folio operation, with nothing taken."""
    m = machine()
    stale, pfn, keep = _merged_stale_view(m)
    u = Unchanged(m, pfn=pfn, nr=8)
    with pytest.raises(memcore.VMBug) as ei:
        stale.try_get()
    assert type(ei.value) is memcore.VMBug          # a freed folio, not a tail page
    assert "folio that was freed" in str(ei.value)
    assert has_dump(ei.value, pfn)
    assert m.page(pfn).refcount == 0
    u.check()


@pytest.mark.parametrize("op", [
    "get", "put", "unlock",
    "lock",
    "set_dirty",
    "ref_unfreeze",
    "free_frozen",
])
def test_view_of_a_freed_folio_on_a_pcp_list(machine, op):
    m = machine()
    f = m.alloc_folio(order=0)
    pfn = f.pfn
    assert f.put()
    assert m.page(pfn).folio is None and m.page(pfn).buddy_order is None
    _op_on_stale_view(m, f, op, pfn, 1)


# ---- PFNs, orders, allocation failure ------------------------------------------------------

@pytest.mark.parametrize("pfn_of", [lambda m: m.nr_pfns, lambda m: m.nr_pfns + 12345,
                                    lambda m: -1, lambda m: -m.nr_pfns, lambda m: 1 << 70])
def test_pfn_out_of_range(machine, pfn_of):
    m = machine()
    u = Unchanged(m)
    pfn = pfn_of(m)
    for call in (m.page, m.folio, m.pfn_to_page, m.pfn_to_virt):
        with pytest.raises(memcore.PFNOutOfRange) as ei:
            call(pfn)
        assert isinstance(ei.value, IndexError)
        assert "outside the memory map" in str(ei.value)
    u.check()


@pytest.mark.parametrize("bad", [1.0, "3", None, b"\x01"])
def test_pfn_must_be_an_int(machine, bad):
    m = machine()
    for call in (m.page, m.folio, m.pfn_to_page):
        with pytest.raises(TypeError):
            call(bad)


@pytest.mark.parametrize("order", [11, -1, 1000])
def test_order_out_of_range_changes_nothing(machine, order):
    m = machine()
    m.alloc_folio()
    u = Unchanged(m)
    with pytest.raises(memcore.OrderOutOfRange) as ei:
        m.alloc_folio(order=order)
    assert str(order) in str(ei.value) and "10" in str(ei.value)
    u.check()


def test_allocation_failure_changes_nothing(machine):
    m = machine(ram="48MiB")
    held = []
    with pytest.raises(memcore.OutOfMemory):
        for _ in range(1000):
            held.append(m.alloc_folio(order=9, movable=False))
    u = Unchanged(m)
    for kw in (dict(order=9), dict(order=10), dict(order=9, zone="DMA")):
        with pytest.raises(memcore.OutOfMemory) as ei:
            m.alloc_folio(**kw)
        assert isinstance(ei.value, MemoryError)
        assert f"order:{kw['order']}" in str(ei.value)
        u.check()


# ---- names -----------------------------------------------------------------------------

def test_bad_flag_names(machine):
    m = machine()
    f = m.alloc_folio()
    u = Unchanged(m, f)
    for call in (f.flags.test, f.flags.set, f.flags.clear, f.flags.test_and_set,
                 m.page(5).flags.set):
        with pytest.raises(memcore.UnknownChoice) as ei:
            call("dirtyy")
        e = ei.value
        assert isinstance(e, ValueError)
        assert "dirtyy" in str(e)
        assert "dirty" in e.valid and "writeback" in e.valid and "swapcache" in e.valid
        assert "dirty" in str(e)
    if m.bits == 32:
        with pytest.raises(memcore.UnknownChoice):
            f.flags.test("young")                   # no PG_young on i386
    u.check()


def test_bad_kind_and_zone_names(machine):
    m = machine()
    u = Unchanged(m)
    with pytest.raises(memcore.UnknownChoice) as ei:
        m.alloc_folio(kind="slab")
    assert set(ei.value.valid) == {"file", "anon"}
    bits = m.bits
    for zone in ("Highmem", "normal", "DMA64", "Device", ("HighMem" if bits == 64 else "DMA32")):
        with pytest.raises(memcore.UnknownChoice) as ei:
            m.alloc_folio(zone=zone)
        assert "DMA" in ei.value.valid and "Normal" in ei.value.valid
        assert zone in str(ei.value)
    with pytest.raises(memcore.UnknownChoice):
        m.free_area(0, "Nowhere")
    with pytest.raises(ValueError):
        m.free_area(5, "DMA")
    with pytest.raises(ValueError):
        m.alloc_folio(node=3)
    with pytest.raises(ValueError):
        m.alloc_folio(zone="Movable", movable=False)
    u.check()
