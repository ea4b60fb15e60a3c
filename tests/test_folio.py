"""Folio, Page and PgFlags views: geometry, references, the folio lock with
modeled tasks, compound-page setup as 6.18 does it (read from raw struct
bytes), dump_page() text, %pGp, and every generated folio flag helper."""
from __future__ import annotations

import functools

import pytest

import memcore
from memcore import _variants

import kfacts as K
from conftest import only_bits


def helpers(variant):
    """The variant's table of generated folio flag helpers."""
    return _variants.module(*variant).FOLIO_FLAG_HELPERS


@pytest.fixture
def machine(machine):
    """Machines of 64 MiB unless a test says otherwise."""
    return functools.partial(machine, ram="64MiB")


# ---- geometry and references -------------------------------------------------------------

@pytest.mark.parametrize("order", [0, 1, 2, 3, 9, 10])
def test_geometry(machine, order):
    m = machine()
    f = m.alloc_folio(order=order)
    nr = 1 << order
    assert f.order == order
    assert f.nr_pages == nr
    assert f.size == nr * K.PAGE_SIZE
    assert f.pfn % nr == 0
    assert f.page(0) == m.page(f.pfn)
    assert f.refcount == 1 == m.page(f.pfn).refcount
    assert f.mapcount == 0
    assert f.zone == K.expected_zone(m.bits, f.pfn)
    for n in (0, nr // 2, nr - 1):
        p = f.page(n)
        assert p.pfn == f.pfn + n
        assert p.pointer == K.page_address(m, f.pfn + n)
    for bad in (nr, -1, 1.0, None):
        with pytest.raises((ValueError, TypeError)):
            f.page(bad)
    assert m.folio(f.pfn) == f and hash(m.folio(f.pfn)) == hash(f)
    assert f.flags.pointer == f.pointer + K.layout(m, "folio")["flags"].offset
    assert f.flags.word == m.pgflags(f.flags.pointer).word


@pytest.mark.classic_overlay
@pytest.mark.parametrize("order", [0, 1, 2, 3, 9, 10])
def test_folio_flags_and_references_are_the_head_pages(machine, order):
    """The folio is its head struct page: folio->flags is the head's flags word,
    and references are counted in the head's _refcount only (the tails' stay 0)."""
    m = machine()
    f = m.alloc_folio(order=order)
    assert f.flags.word == K.flags_word(m, f.pfn)
    assert f.flags.pointer == K.page_address(m, f.pfn) + K.layout(m, "page")["flags"].offset
    f.get()
    assert all(m.page(f.pfn + i).refcount == 0 for i in range(1, 1 << order))
    assert K.page_field(m, f.pfn, "_refcount") == 2
    # the folio lock is PG_locked of the head page
    assert f.trylock()
    assert K.flags_word(m, f.pfn) & 1
    f.unlock()
    assert not K.flags_word(m, f.pfn) & 1
    assert f.put() is False and f.put() is True
    m.check()


def test_get_put_try_get(machine):
    m = machine()
    f = m.alloc_folio(order=2)
    f.get()
    f.get()
    assert f.refcount == 3 == m.page(f.pfn).refcount
    assert f.try_get() is True
    assert f.refcount == 4
    # (tail refcounts stay 0 on classic: test_folio_flags_and_references_are_the_head_pages)
    assert f.put() is False
    assert f.put() is False
    assert f.put() is False
    assert f.refcount == 1
    walk = m.walk()
    assert walk["folio"] == 4
    assert f.put() is True
    assert m.walk()["folio"] == 0
    m.check()


def test_ref_freeze_unfreeze_free_frozen(machine):
    m = machine()
    f = m.alloc_folio(order=3)
    f.get()
    assert f.ref_freeze(1) is False and f.refcount == 2    # cmpxchg(count -> 0) failed
    assert f.ref_freeze(3) is False and f.refcount == 2
    assert f.ref_freeze(2) is True
    assert f.refcount == 0 == m.page(f.pfn).refcount
    m.check()                                               # frozen, not leaked
    assert m.page(f.pfn).folio == f                         # still a folio
    assert m.page(f.pfn + 5).folio == f
    assert f.try_get() is False and f.refcount == 0          # add_unless(0)
    walk = m.walk()
    assert walk["refcount_zero"] >= 8 and walk["folio"] == 0
    f.ref_unfreeze(5)
    assert f.refcount == 5
    m.check()
    assert f.ref_freeze(5)
    with pytest.raises(ValueError):
        f.ref_freeze(0)
    pfn = f.pfn
    f.free_frozen()
    assert m.page(pfn).folio is None
    assert m.walk()["folio"] == 0
    m.check()
    m.drain_pcp()
    m.check()


def test_ref_unfreeze_of_a_live_folio_is_a_bug(machine):
    m = machine()
    f = m.alloc_folio()
    before = K.machine_snapshot(m)
    with pytest.raises(memcore.RefcountError):
        f.ref_unfreeze(1)
    with pytest.raises(memcore.VMBug):
        f.free_frozen()
    assert K.machine_snapshot(m) == before and f.refcount == 1
    f.ref_freeze(1)
    with pytest.raises(memcore.VMBug):
        f.ref_unfreeze(0)
    assert f.refcount == 0
    f.ref_unfreeze(1)
    m.check()


# ---- the folio lock ------------------------------------------------------------------

def _waiters_bit(m, f):
    """PG_waiters of the folio's flags word (read as a word: the head page's on
    classic, the descriptor's on the memdesc designs)."""
    return (f.flags.word >> K.pg_bits(m.bits)["waiters"]) & 1


def _locked_bit(m, f):
    return f.flags.word & 1


def test_trylock(machine):
    m = machine()
    a, b = m.task("A"), m.task("B", cpu=1)
    f = m.alloc_folio()
    assert f.trylock(a) is True
    assert _locked_bit(m, f) == 1 and f.test_locked()
    assert f.lock_owner is a
    assert f.trylock(b) is False
    assert f.trylock(a) is False                 # trylock never sleeps, even on itself
    assert _waiters_bit(m, f) == 0 and not b.waiting
    assert f.unlock(a) is False
    assert _locked_bit(m, f) == 0 and f.lock_owner is None
    m.check()


def test_lock_contention_and_handoff(machine):
    m = machine(cpus=3)
    a, b, c = m.task("A", cpu=0), m.task("B", cpu=1), m.task("C", cpu=2)
    f = m.alloc_folio()
    g = m.alloc_folio()
    assert f.lock(a) is True
    assert not a.waiting
    # B contends: PG_waiters is set, B sleeps on the folio's wait queue
    assert f.lock(b) is False
    assert b.waiting and b.waiting_on == f.pointer
    assert _waiters_bit(m, f) == 1 and f.test_waiters()
    assert m.waiters(f.pointer) == [b]
    assert f.lock_owner is a
    # a sleeping task cannot run anything
    for op in (lambda: f.trylock(b), lambda: g.lock(b), lambda: g.trylock(b),
               lambda: f.unlock(b), lambda: m.alloc_folio(task=b)):
        with pytest.raises(memcore.Deadlock):
            op()
    with b:
        with pytest.raises(memcore.Deadlock):
            m.alloc_folio()
    assert m.current.name == "init"
    assert f.lock(c) is False
    assert m.waiters(f.pointer) == [b, c]
    # A unlocks: waiters must be woken; the first one gets the lock handed over
    assert f.unlock(a) is True
    assert f.lock_owner is b and not b.waiting
    assert _locked_bit(m, f) == 1                  # handed over, never free
    assert c.waiting and m.waiters(f.pointer) == [c]
    assert _waiters_bit(m, f) == 1                 # C still waits
    # B runs again
    h = m.alloc_folio(task=b)
    assert f.unlock(b) is True
    assert f.lock_owner is c and not c.waiting
    assert _waiters_bit(m, f) == 0                 # nobody left: PG_waiters cleared
    assert m.waiters(f.pointer) == []
    assert f.unlock(c) is False
    assert _locked_bit(m, f) == 0 and f.lock_owner is None
    m.check()
    for x in (f, g, h):
        assert x.put()
    m.check()


def test_self_deadlock(machine):
    m = machine()
    a = m.task("A")
    f = m.alloc_folio(order=1)
    assert f.lock(a)
    word = K.flags_word(m, f.pfn)
    with pytest.raises(memcore.Deadlock) as ei:
        f.lock(a)
    assert "page: refcount:" in str(ei.value)
    assert K.flags_word(m, f.pfn) == word           # no PG_waiters, nothing queued
    assert not a.waiting and m.waiters(f.pointer) == []
    assert f.unlock(a) is False
    m.check()


def test_current_task_is_the_default_lock_owner(machine):
    m = machine()
    a = m.task("A", cpu=1)
    f = m.alloc_folio()
    with a:
        assert m.current is a
        assert f.lock()
    assert m.current.name == "init"
    assert f.lock_owner is a
    assert f.lock() is False                       # init waits for A
    assert m.current.waiting
    assert f.unlock(a) is True
    assert f.lock_owner is m.current
    assert f.unlock() is False
    m.check()


def test_tasks_are_per_machine(machine):
    m1, m2 = machine(), machine()
    t = m1.task("A", cpu=1)
    assert m1.task("A") is t and t.cpu == 1
    with pytest.raises(ValueError):
        m1.task("A", cpu=0)
    with pytest.raises(ValueError):
        m1.task("Z", cpu=2)                         # 2 CPUs: 0 and 1
    f = m2.alloc_folio()
    with pytest.raises(ValueError):
        f.lock(t)


@pytest.mark.parametrize("op", [
    "put",
    "free_frozen",
    "get",
])
def test_a_sleeping_current_task_cannot_run_folio_ops(machine, op):
    m = machine()
    a, b = m.task("A"), m.task("B", cpu=1)
    f = m.alloc_folio()
    g = m.alloc_folio(order=1)
    if op == "free_frozen":
        assert g.ref_freeze(1)
    f.lock(a)
    assert f.lock(b) is False and b.waiting
    before = K.machine_snapshot(m)
    refs = g.refcount
    with b:
        with pytest.raises(memcore.Deadlock):
            getattr(g, op)()
    assert g.refcount == refs
    assert K.machine_snapshot(m) == before
    m.check()


# ---- compound pages as 6.18 sets them up --------------------------------------------------

@pytest.mark.parametrize("order", range(1, 11))
@pytest.mark.parametrize("kind", ["file", "anon"])
def test_large_folio_through_the_views(machine, order, kind):
    """prep_compound_page() as the views show it: a head with PG_head (and
    PG_swapbacked if anon), tails that belong to the folio with no flags, no
    references and no mappings, and that are no folio of their own; freeing
    clears every page's flags."""
    m = machine()
    f = m.alloc_folio(order=order, kind=kind)
    head, nr = f.pfn, 1 << order
    pgmask = (1 << K.NR_PAGEFLAGS[m.bits]) - 1
    bit = K.pg_bits(m.bits)
    # the folio's flags: PG_swapbacked if anon, nothing else (PG_head aside, which
    # only the classic overlay has: test_large_folio_head_and_tail_struct_pages)
    swapbacked = (1 << bit["swapbacked"]) if kind == "anon" else 0
    assert f.flags.word & pgmask & ~(1 << bit["head"]) == swapbacked
    assert (f.order, f.nr_pages, f.refcount, f.mapcount) == (order, nr, 1, 0)
    assert m.page(head).is_head and not m.page(head).is_tail
    for i in range(2, nr if K.has_page_member(m, "flags") else 0):   # else: the folio's
        assert K.flags_word(m, head + i) & pgmask == 0
    for i in sorted(({1, 2, 3, nr - 1} | set(range(97, nr, 97))) & set(range(1, nr))):
        p = m.page(head + i)
        assert p.is_tail and not p.is_head
        assert p.folio == f and f.page(i) == p
        assert p.mapcount == 0
        with pytest.raises(memcore.TailPageError):
            m.folio(head + i)
    m.check()
    assert f.put()
    m.drain_pcp()
    for i in range(nr):
        assert not m.page(head + i).is_tail and m.page(head + i).folio is None
    m.check()


@pytest.mark.classic_overlay
@pytest.mark.parametrize("order", range(1, 11))
@pytest.mark.parametrize("kind", ["file", "anon"])
def test_large_folio_head_and_tail_struct_pages(machine, order, kind):
    """prep_compound_page() in the struct pages: the head's flags word is the
    folio's, with PG_head; tails have no references of their own; freeing clears
    every page's flags (on the memdesc designs a free block's head keeps its
    order in flag bits)."""
    m = machine()
    f = m.alloc_folio(order=order, kind=kind)
    head, nr = f.pfn, 1 << order
    pgmask = (1 << K.NR_PAGEFLAGS[m.bits]) - 1
    bit = K.pg_bits(m.bits)
    want = (1 << bit["head"]) | ((1 << bit["swapbacked"]) if kind == "anon" else 0)
    assert K.flags_word(m, head) & pgmask == want
    for i in sorted(({1, 2, 3, nr - 1} | set(range(97, nr, 97))) & set(range(1, nr))):
        assert m.page(head + i).refcount == 0
    assert f.put()
    m.drain_pcp()
    for i in range(nr):
        assert K.flags_word(m, head + i) & pgmask == 0
    m.check()


@pytest.mark.classic_overlay
@pytest.mark.parametrize("order", range(1, 11))
@pytest.mark.parametrize("kind", ["file", "anon"])
def test_compound_setup_from_raw_bytes(variant, machine, order, kind):
    """What prep_compound_page() writes into the struct pages (the flags and what
    the views show are test_large_folio_through_the_views, on every design)."""
    bits = variant[1]
    m = machine(ram="64MiB")
    f = m.alloc_folio(order=order, kind=kind)
    head = f.pfn
    nr = 1 << order
    haddr = K.page_address(m, head)
    pgmask = (1 << K.NR_PAGEFLAGS[bits]) - 1
    bit = K.pg_bits(bits)
    flay = K.layout(m, "folio")
    # head page
    hw = K.flags_word(m, head)
    assert K.page_field(m, head, "_refcount", signed=True) == 1
    assert K.page_field(m, head, "_mapcount", signed=True) == -1
    assert K.page_field(m, head, "mapping") == 0
    assert K.page_field(m, head, "private") == 0
    assert K.page_field(m, head, "compound_head") & 1 == 0
    # page 1: order byte, PG_large_rmappable, the large mapcounts, _nr_pages
    f1 = K.folio_field(m, head, "_flags_1")
    assert f1 & 0xFF == order
    assert m.page(head + 1).flags.word & 0xFF == order
    assert f1 & pgmask & ~0xFF == 1 << bit["large_rmappable"]
    assert (f1 >> 51 if bits == 64 else f1 >> 23) == (hw >> 51 if bits == 64 else hw >> 23)
    assert K.folio_field(m, head, "_head_1") == haddr + 1
    assert K.folio_field(m, head, "_large_mapcount", signed=True) == -1
    assert K.folio_field(m, head, "_nr_pages_mapped", signed=True) == 0
    assert K.folio_field(m, head, "_mm_id_mapcount", signed=True, index=0) == -1
    assert K.folio_field(m, head, "_mm_id_mapcount", signed=True, index=1) == -1
    assert K.folio_field(m, head, "_mm_ids") == 0
    assert K.folio_field(m, head, "_mapcount_1", signed=True) == -1
    assert K.folio_field(m, head, "_refcount_1", signed=True) == 0
    assert K.folio_field(m, head, "_nr_pages") == nr       # NR_PAGES_IN_LARGE_FOLIO (MEMCG)
    if bits == 64 or order > 1:
        # 64-bit keeps these in page 1, 32-bit in page 2 (only folios of order > 1)
        assert K.folio_field(m, head, "_entire_mapcount", signed=True) == -1
        assert K.folio_field(m, head, "_pincount", signed=True) == 0
    if order > 1:
        dl = haddr + flay["_deferred_list"].offset
        w = K.WORD[bits]
        raw2 = m.page(head + 2).raw()
        off = flay["_deferred_list"].offset - 2 * K.sizeof_page(m)
        assert K.raw_int(raw2, off, w) == dl                 # INIT_LIST_HEAD
        assert K.raw_int(raw2, off + w, w) == dl
    # every tail
    for i in range(1, nr):
        pfn = head + i
        assert K.page_field(m, pfn, "compound_head") == haddr + 1
        assert K.page_field(m, pfn, "_refcount", signed=True) == 0
        assert K.page_field(m, pfn, "_mapcount", signed=True) == -1
        if i >= 3:
            assert K.page_field(m, pfn, "mapping") == K.TAIL_MAPPING[bits]
            assert K.page_field(m, pfn, "private") == 0
        if i in (1, 2, 3, nr - 1) or i % 97 == 0:
            assert m.page(pfn).compound_head == haddr + 1
    assert m.page(head).compound_head == 0 or m.page(head).compound_head & 1 == 0
    m.check()
    # freeing undoes it all
    assert f.put()
    m.drain_pcp()
    for i in range(nr):
        pfn = head + i
        assert K.page_field(m, pfn, "compound_head") & 1 == 0
        assert K.page_field(m, pfn, "mapping") == 0
        assert K.page_field(m, pfn, "_refcount") == 0
    m.check()


def test_order0_folio_is_not_compound(machine):
    m = machine()
    f = m.alloc_folio()
    assert K.flags_word(m, f.pfn) & (1 << K.pg_bits(m.bits)["head"]) == 0
    assert f.order == 0 and f.nr_pages == 1 and f.mapcount == 0
    assert not m.page(f.pfn).is_head and not m.page(f.pfn).is_tail


# ---- Page views ------------------------------------------------------------------------

def test_page_view_basics(machine):
    m = machine()
    f = m.alloc_folio(order=2)
    p = m.page(f.pfn + 1)
    assert p.pfn == f.pfn + 1
    assert p.pointer == K.page_address(m, f.pfn + 1)
    assert p.folio == f
    # (a tail's own refcount of 0 is classic: test_page_view_reads_the_struct_page)
    assert p.flags.word == K.flags_word(m, f.pfn + 1)
    if K.has_page_member(m, "flags"):
        assert p.flags.pointer == p.pointer + K.layout(m, "page")["flags"].offset
    else:                                  # a page that is its memdesc: its folio's flags
        assert p.flags.pointer == f.flags.pointer
    assert p.type_name is None
    assert p == m.page(f.pfn + 1) and p != m.page(f.pfn)
    assert len(p.raw()) == K.sizeof_page(m)
    # reserved pages are no folios
    assert m.page(0).folio is None
    assert m.page(0).refcount == 1
    # a page on a pcp list is no folio either
    g = m.alloc_folio()
    gp = g.pfn
    g.put()
    assert m.page(gp).refcount == 0
    assert m.page(gp).folio is None
    m.drain_pcp()
    # free buddy heads
    heads = [q for q in range(K.FIRMWARE_PFNS, m.nr_pfns) if m.page(q).buddy_order is not None]
    assert heads
    for q in heads[:20]:
        assert m.page(q).folio is None
        assert m.page(q).type_name == "buddy"
        assert m.page(q).refcount == 0


@pytest.mark.classic_overlay
def test_page_view_reads_the_struct_page(machine):
    """The Page and Folio accessors return the struct page's own members: tail pages
    carry compound_head and no type, references live in the head's _refcount (0 on
    the tails, 0 while frozen), a pcp page has refcount 0, a buddy head PGTY_buddy in
    the top byte of page_type and its order in private."""
    m = machine()
    f = m.alloc_folio(order=2)
    assert f.pointer == K.page_address(m, f.pfn) == m.page(f.pfn).pointer
    p = m.page(f.pfn + 1)
    assert p.compound_head == K.page_field(m, f.pfn + 1, "compound_head")
    assert p.page_type == K.page_field(m, f.pfn + 1, "page_type") == K.PAGE_TYPE_NONE
    f.get()
    f.get()
    assert f.refcount == 3 == K.page_field(m, f.pfn, "_refcount")
    assert all(K.page_field(m, f.pfn + i, "_refcount") == 0 for i in range(1, 4))
    assert f.ref_freeze(3)
    assert f.refcount == 0 == K.page_field(m, f.pfn, "_refcount")
    f.ref_unfreeze(1)
    g = m.alloc_folio()
    gp = g.pfn
    g.put()
    assert K.page_field(m, gp, "_refcount") == 0
    m.drain_pcp()
    heads = [q for q in range(K.FIRMWARE_PFNS, m.nr_pfns) if m.page(q).buddy_order is not None]
    for q in heads[:20]:
        assert m.page(q).page_type == K.page_field(m, q, "page_type") == K.PGTY_BUDDY << 24
        assert m.page(q).private == K.page_field(m, q, "private") == m.page(q).buddy_order
    assert f.put()
    m.check()


# ---- dump_page() ------------------------------------------------------------------------

def pgp(m, word):
    """%pGp, written out from lib/vsprintf.c and mmflags.h."""
    bits = m.bits
    fields = K.FLAG_FIELDS[bits]
    names = []
    main = word & ((1 << K.NR_PAGEFLAGS[bits]) - 1)
    pgb = {n: b for n, b in K.pg_bits(bits).items() if n in K.PGP_ORDER}
    for n in K.PGP_ORDER:
        if n in pgb and main >> pgb[n] & 1:
            names.append(n)
            main &= ~(1 << pgb[n])
    if main:
        names.append(hex(main))
    for field, label, hexa in (("SECTIONS", "section", False), ("NODES", "node", False),
                               ("ZONES", "zone", False), ("LAST_CPUPID", "lastcpupid", True)):
        shift, width = fields[field]
        if width:
            v = (word >> shift) & ((1 << width) - 1)
            names.append(f"{label}={v:#x}" if hexa else f"{label}={v}")
    return f"{word:#x}(" + "|".join(names) + ")"


def hexdump(m, raw, prefix):
    w = K.WORD[m.bits]
    lines = []
    for off in range(0, len(raw), 32):
        words = [K.raw_int(raw, i, w) for i in range(off, min(off + 32, len(raw)), w)]
        lines.append(prefix + " ".join(f"{v:0{2 * w}x}" for v in words))
    return lines


def test_dump_of_a_free_buddy_head(machine):
    m = machine()
    m.drain_pcp()
    pfn = next(q for q in range(K.FIRMWARE_PFNS, m.nr_pfns) if m.page(q).buddy_order)
    text = m.page(pfn).dump()
    lines = text.splitlines()
    w = K.WORD[m.bits]
    assert lines[0] == f"page: refcount:0 mapcount:0 mapping:{0:0{2 * w}x} index:0x0 pfn:{pfn:#x}"
    assert lines[1] == "flags: " + pgp(m, K.flags_word(m, pfn))
    assert lines[2] == "page_type: f0(buddy)"
    assert lines[3:] == hexdump(m, m.page(pfn).raw(), "raw: ")
    assert len(lines[3:]) == -(-K.sizeof_page(m) // 32)
    assert text.endswith("\n")


def dump_of_a_large_folio(m):
    """An order-3 folio with referenced|uptodate|lru, the dump_page() lines of its
    head and of its tail page 5 (reason "testing"), and the number of raw: lines."""
    f = m.alloc_folio(order=3)
    f.set_referenced()
    f.mark_uptodate()
    f.set_lru()
    nraw = -(-K.sizeof_page(m) // 32)
    return f, f.dump().splitlines(), m.page(f.pfn + 5).dump(reason="testing").splitlines(), nraw


def test_dump_of_a_large_folio_head_and_tail(machine):
    m = machine()
    f, lines, tail_lines, nraw = dump_of_a_large_folio(m)
    w = K.WORD[m.bits]
    assert lines[0] == (f"page: refcount:1 mapcount:0 mapping:{0:0{2 * w}x} index:0x0 "
                        f"pfn:{f.pfn:#x}")
    assert lines[1] == "head: order:3 mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0"
    assert lines[2] == "flags: " + pgp(m, f.flags.word)
    assert "(referenced|uptodate|lru|" in lines[2]
    assert lines[3:3 + nraw] == hexdump(m, m.page(f.pfn).raw(), "raw: ")
    # __dump_folio()'s hex dump of the folio: "head: " lines (the classic overlay's
    # first two struct pages, test_dump_prints_the_folio_as_its_first_two_struct_pages);
    # a separately allocated descriptor follows as "folio: " lines
    assert lines[3 + nraw:] and lines[3 + nraw].startswith("head: ")
    assert all(line.startswith(("head: ", "folio: ")) for line in lines[3 + nraw:])
    # a tail page: the head's refcount and flags, the tail's own raw words and index
    t = f.pfn + 5
    lines = tail_lines
    assert lines[0] == (f"page: refcount:1 mapcount:0 mapping:{0:0{2 * w}x} index:0x5 "
                        f"pfn:{t:#x}")
    assert lines[1].startswith("head: order:3 ")
    assert lines[2] == "flags: " + pgp(m, f.flags.word)
    assert lines[3:3 + nraw] == hexdump(m, m.page(t).raw(), "raw: ")
    assert lines[3 + nraw:-1] and lines[3 + nraw].startswith("head: ")
    assert all(line.startswith(("head: ", "folio: ")) for line in lines[3 + nraw:-1])
    assert lines[-1] == "page dumped because: testing"
    f.clear_lru()


@pytest.mark.classic_overlay
def test_dump_prints_the_folio_as_its_first_two_struct_pages(machine):
    """__dump_folio(): print_hex_dump("head: ", folio, 2 * sizeof(struct page))."""
    m = machine()
    f, lines, tail_lines, nraw = dump_of_a_large_folio(m)
    hraw = m.page(f.pfn).raw() + m.page(f.pfn + 1).raw()
    assert lines[3 + nraw:] == hexdump(m, hraw, "head: ")
    assert tail_lines[3 + nraw:-1] == hexdump(m, hraw, "head: ")
    # the flags printed are the head page's, with PG_head
    assert lines[2] == tail_lines[2] == "flags: " + pgp(m, K.flags_word(m, f.pfn))
    assert "referenced|uptodate|lru|head" in lines[2]
    f.clear_lru()


def test_dump_shows_memcg_data(machine):
    m = machine()
    f = m.alloc_folio(order=1)
    addr = f.pointer + K.layout(m, "folio")["memcg_data"].offset
    K.poke_word(m, addr, 0x7340)
    lines = f.dump().splitlines()
    assert lines[1].startswith("head: order:1 ")
    assert lines[2] == "memcg:7340"                  # CONFIG_MEMCG: "memcg:%lx"
    assert lines[3].startswith("flags: ")
    K.poke_word(m, addr, 0)
    assert not any(line.startswith("memcg:") for line in f.dump().splitlines())
    assert f.put()


def test_dump_of_a_reserved_page(machine):
    m = machine()
    lines = m.page(7).dump().splitlines()
    assert lines[0].startswith("page: refcount:1 mapcount:0 ")
    assert lines[0].endswith(" pfn:0x7")
    assert lines[1] == "flags: " + pgp(m, K.flags_word(m, 7))
    assert "(reserved|" in lines[1]
    assert not any(line.startswith("page_type:") for line in lines)


@only_bits(32)
def test_dump_entire_mapcount_of_an_i386_order1_folio(machine):
    m = machine()
    folios = [m.alloc_folio(order=1) for _ in range(8)]
    for f in folios:
        assert "entire_mapcount:0 " in f.dump().splitlines()[1]


def test_dump_of_an_anon_folio_shows_no_mapping(machine):
    m = machine()
    w = K.WORD[m.bits]
    f = m.alloc_folio(kind="anon", order=2)
    mapping = f.pointer + K.layout(m, "folio")["mapping"].offset
    for low, prefix in ((1, "anon "), (3, "ksm ")):
        K.poke_word(m, mapping, (K.PAGE_OFFSET[m.bits] + 0x1230) | low)
        lines = f.dump().splitlines()
        assert lines[2].startswith(prefix + "flags: ")
        assert f" mapping:{0:0{2 * w}x} " in lines[0], lines[0]
    K.poke_word(m, mapping, 0)


# ---- PgFlags -----------------------------------------------------------------------

def test_pgflags_word_and_bits(machine):
    m = machine()
    f = m.alloc_folio()
    pf = f.flags
    bit = K.pg_bits(m.bits)

    def word():
        """The folio's flags word through a view of its own (the head page's on
        classic, test_folio_flags_and_references_are_the_head_pages)."""
        return m.pgflags(f.flags.pointer).word

    w0 = word()
    assert pf.word == w0
    assert pf.test("dirty") is False
    pf.set("dirty")
    assert word() == w0 | 1 << bit["dirty"]
    assert pf.test("PG_dirty") is True and f.test_dirty()
    assert pf.test_and_set("dirty") is True
    assert pf.test_and_set("PG_referenced") is False
    assert word() == w0 | 1 << bit["dirty"] | 1 << bit["referenced"]
    pf.clear("PG_dirty")
    assert pf.test_and_clear("referenced") is True
    assert word() == w0
    # aliases are the same bit
    pf.set("swapcache")
    assert pf.test("owner_priv_1") and pf.test("checked") and f.test_checked()
    assert word() == w0 | 1 << bit["owner_priv_1"]
    pf.clear("checked")
    # by bit number
    pf.set(bit["private"])
    assert pf.test("private")
    pf.clear(bit["private"])
    assert pf.word == w0
    # fields
    fields = K.FLAG_FIELDS[m.bits]
    shift, width = fields["ZONES"]
    assert pf.zone_idx == (w0 >> shift) & ((1 << width) - 1)
    assert pf.zone == f.zone
    assert pf.node == 0
    # the word setter writes the word
    pf.word = w0 | 1 << bit["uptodate"]
    assert word() == w0 | 1 << bit["uptodate"] and f.test_uptodate()
    pf.word = w0
    for bad in (-1, 1 << m.bits, "0"):
        with pytest.raises(TypeError if bad == "0" else ValueError):
            pf.word = bad
    assert pf.word == w0
    m.check()


def test_pgflags_str_is_pgp(machine):
    m = machine()
    f = m.alloc_folio()
    bits = m.bits
    f.set_referenced()
    f.mark_uptodate()
    f.set_lru()
    s = str(f.flags)
    assert s == pgp(m, f.flags.word)
    if bits == 64:
        zone = K.ZONES[64].index(f.zone)
        assert s.endswith(f"(referenced|uptodate|lru|node=0|zone={zone}|lastcpupid=0xffff)")
    else:
        assert s.endswith(f"(referenced|uptodate|lru|section=0|zone=1)")
    # waiters prints right after locked, although it is bit 7
    getattr(f, "__set_locked")()
    f.set_waiters()
    assert "(locked|waiters|referenced|uptodate|lru|" in str(f.flags)
    assert f.flags.names()[:5] == ["locked", "waiters", "referenced", "uptodate", "lru"]
    if bits == 64:
        f.flags.set("young")
        f.flags.set("idle")
        assert "|idle|young|" in str(f.flags)          # mmflags.h order, not bit order
        f.flags.clear("young")
        f.flags.clear("idle")
    # an empty flags word still prints its fields
    pure = m.page(K.FIRMWARE_PFNS + 1).flags
    word = K.flags_word(m, K.FIRMWARE_PFNS + 1)
    assert str(pure) == pgp(m, word)
    assert str(pure).startswith(f"{word:#x}(")
    f.clear_waiters()
    getattr(f, "__clear_locked")()
    f.clear_lru()


def test_pgflags_unknown_names(machine):
    m = machine()
    pf = m.page(100).flags
    for bad in ("bogus", "PG_bogus", "Dirty", ""):
        with pytest.raises(memcore.UnknownChoice) as ei:
            pf.test(bad)
        assert "dirty" in ei.value.valid and "locked" in ei.value.valid
        assert isinstance(ei.value, ValueError)
    with pytest.raises(memcore.UnknownChoice):
        pf.set(K.NR_PAGEFLAGS[m.bits])
    with pytest.raises(TypeError):
        pf.test(1.5)


def test_pgflags_bit_lock_on_any_flags_word(machine):
    m = machine()
    a, b = m.task("A"), m.task("B", cpu=1)
    # a reserved page, a tail page, and a word of the direct map: all bit-lockable
    f = m.alloc_folio(order=2)
    views = [m.page(3).flags, m.page(f.pfn + 2).flags,
             m.pgflags(m.page_offset + 64 * K.WORD[m.bits])]
    if not K.has_page_member(m, "flags"):
        views = views[1:]      # a reserved page that is its memdesc has no word to lock
    for pf in views:
        w0 = pf.word
        assert pf.pgflags_trylock(a) is True
        assert pf.word == w0 | 1
        assert pf.pgflags_trylock(b) is False
        assert pf.pgflags_lock(b) is False and b.waiting
        assert pf.word & (1 << 7)                       # PG_waiters
        assert pf.pgflags_unlock(a) is True and not b.waiting
        assert pf.word & 1
        assert pf.pgflags_unlock(b) is False
        assert pf.word == w0
        with pytest.raises(memcore.FolioNotLocked):
            pf.pgflags_unlock(a)
        assert pf.word == w0
    with pytest.raises(memcore.InvalidAddress):
        m.pgflags(m.page_offset + 3)
    m.check()


# ---- every generated flag helper ---------------------------------------------------------

OPS_METHOD = {"test": "test_{}", "set": "set_{}", "clear": "clear_{}", "__set": "__set_{}",
              "__clear": "__clear_{}", "test_set": "test_set_{}",
              "test_clear": "test_clear_{}", "mark": "mark_{}", "__mark": "__mark_{}"}

_F = {"test", "set", "clear"}
# include/linux/page-flags.h (6.16 text + the 6.17/6.18 movable_ops changes), canonical configs
KERNEL_OPS = {
    "locked": {"test", "__set", "__clear"},
    "waiters": _F,
    "referenced": _F | {"test_clear", "__set"},
    "uptodate": {"test", "clear", "mark", "__mark"},
    "dirty": _F | {"test_set", "test_clear", "__clear"},
    "lru": _F | {"__clear", "test_clear"},
    "head": {"test", "clear", "__set", "__clear"},
    "active": _F | {"__clear", "test_clear"},
    "workingset": _F | {"test_clear"},
    "checked": _F,
    "pinned": _F | {"test_set", "test_clear"},
    "savepinned": _F,
    "foreign": _F,
    "xen_remapped": _F | {"test_clear"},
    "reserved": _F | {"__set", "__clear"},
    "swapbacked": _F | {"__set", "__clear"},
    "private": _F,
    "private_2": _F,
    "owner_2": _F,
    "writeback": {"test", "test_set", "test_clear"},
    "mappedtodisk": _F,
    "reclaim": _F | {"test_clear"},
    "readahead": _F | {"test_clear"},
    "dropbehind": _F | {"test_clear", "__set"},
    "swapcache": _F,
    "unevictable": _F | {"__clear", "test_clear"},
    "mlocked": _F | {"__clear", "test_clear", "test_set"},
    "hwpoison": _F,                          # PAGEFLAG_FALSE: no MEMORY_FAILURE
    "reported": {"test", "__set", "__clear"},
    "vmemmap_self_hosted": _F,
    "movable_ops": {"test", "set"},
    "movable_ops_isolated": _F,
    "large_rmappable": _F,
    "partially_mapped": _F,
    "has_hwpoisoned": _F,                    # FOLIO_FLAG_FALSE
    "anon": {"test"},
    "ksm": {"test"},
}
KERNEL_OPS_64 = dict(KERNEL_OPS, highmem=_F, young={"test", "set", "test_clear"}, idle=_F)
# no PAGE_IDLE_FLAG on i386: FOLIO_FLAG_FALSE(young), FOLIO_TEST_CLEAR_FLAG_FALSE(young),
# FOLIO_FLAG_FALSE(idle)
KERNEL_OPS_32 = dict(KERNEL_OPS, highmem={"test"}, young=_F | {"test_clear"}, idle=_F)
# unconfigured flags: always false, set/clear do nothing
STUBS = {64: {"hwpoison", "has_hwpoisoned", "highmem"},
         32: {"hwpoison", "has_hwpoisoned", "vmemmap_self_hosted", "young", "idle"}}
SECOND = {"large_rmappable", "partially_mapped", "has_hwpoisoned"}


def test_helper_table_matches_the_kernel(variant):
    bits = variant[1]
    rows = {r[0]: r for r in helpers(variant)}
    want = KERNEL_OPS_64 if bits == 64 else KERNEL_OPS_32
    assert set(rows) == set(want)
    bit = K.pg_bits(bits)
    for name, (n, pgbit, page, ops, special) in rows.items():
        assert set(ops) == want[name], name
        assert page == ("second" if name in SECOND else "head"), name
        if name in STUBS[bits] or name in ("anon", "ksm") or (name == "highmem"):
            assert pgbit is None, name
        else:
            assert pgbit == "PG_" + name, name
            assert int(memcore.pageflags(*variant)[pgbit]) == bit[name], name
    assert (rows["swapcache"][4] or "") != ""          # a special test


def test_helper_methods_exist_exactly_as_the_kernel_names_them(variant, machine):
    bits = variant[1]
    m = machine()
    f = m.alloc_folio()
    cls = type(f)
    want = KERNEL_OPS_64 if bits == 64 else KERNEL_OPS_32
    for name, ops in want.items():
        for op, fmt in OPS_METHOD.items():
            meth = fmt.format(name)
            if op in ops:
                assert callable(getattr(f, meth)), meth
            else:
                assert not hasattr(cls, meth), meth
    # the double-underscore names are the kernel's, not Python-mangled
    assert hasattr(f, "__clear_dirty") and not hasattr(f, "__set_dirty")
    assert hasattr(f, "__set_locked") and not hasattr(f, "set_locked")
    assert not any(a.startswith("_Folio__") for a in dir(cls))
    assert not hasattr(f, "set_writeback") and hasattr(f, "test_set_writeback")
    assert not hasattr(f, "set_uptodate") and hasattr(f, "mark_uptodate")


@only_bits(32)
def test_i386_has_young_and_idle_stubs(machine):
    m = machine()
    f = m.alloc_folio()
    w = K.flags_word(m, f.pfn)
    for meth in ("test_young", "set_young", "clear_young", "test_clear_young",
                 "test_idle", "set_idle", "clear_idle"):
        r = getattr(f, meth)()
        assert not r
    assert K.flags_word(m, f.pfn) == w


def _word_addr(f, page):
    """The folio's flags word of its head page (folio->flags) or of its second
    page (folio->_flags_1)."""
    member = "_flags_1" if page == "second" else "flags"
    return f.pointer + K.layout(f.machine, "folio")[member].offset


def _rd(m, addr):
    return m.pgflags(addr).word


def test_every_generated_flag_helper_does_what_its_row_says(machine, variant):
    bits = variant[1]
    m = machine(ram="1GiB")
    pgbit = K.pg_bits(bits)
    small = m.alloc_folio(order=0, zone="Normal" if bits == 32 else None)
    large = m.alloc_folio(order=2, zone="Normal" if bits == 32 else None)
    keep = {f: (_rd(m, _word_addr(f, "head")), _rd(m, _word_addr(f, "second")))
            for f in (small, large)}
    allbits = (1 << K.NR_PAGEFLAGS[bits]) - 1
    for name, bitname, page, ops, special in helpers(variant):
        targets = [large] if page == "second" else [small, large]
        for f in targets:
            addr = _word_addr(f, page)
            w0 = _rd(m, addr)
            other = _word_addr(f, "second" if page == "head" else "head")
            o0 = _rd(m, other)
            call = {op: getattr(f, OPS_METHOD[op].format(name)) for op in ops}
            if bitname is None:
                if name in ("anon", "ksm", "highmem") and special and "always" not in special:
                    continue                              # tested below
                # stubs: false with every flag bit set, and no op changes anything
                for word in (w0 | allbits, w0 & ~allbits):
                    m.pgflags(addr).word = word
                    for op, fn in call.items():
                        r = fn()
                        assert not r, (name, op)
                        assert _rd(m, addr) == word, (name, op)
                m.pgflags(addr).word = w0
                continue
            b = 1 << pgbit[name]
            assert bitname == "PG_" + name
            assert int(memcore.pageflags(*variant)[bitname]) == pgbit[name]
            need = (1 << pgbit["swapbacked"]) if name == "swapcache" else 0
            for op, fn in call.items():
                start = w0 | need
                if op in ("clear", "__clear", "test_clear"):
                    start |= b
                else:
                    start &= ~b
                if op == "test":
                    for state in (start | b, start & ~b):
                        m.pgflags(addr).word = state
                        assert fn() is bool(state & b), (name, op)
                        assert _rd(m, addr) == state
                    if name == "swapcache":
                        m.pgflags(addr).word = (start | b) & ~need
                        assert fn() is False, "swapcache needs PG_swapbacked"
                    continue
                m.pgflags(addr).word = start
                r = fn()
                after = _rd(m, addr)
                if op in ("set", "__set", "mark", "__mark"):
                    assert r is None and after == start | b, (name, op)
                elif op in ("clear", "__clear"):
                    assert r is None and after == start & ~b, (name, op)
                elif op == "test_set":
                    assert r is False and after == start | b, (name, op)
                    assert fn() is True and _rd(m, addr) == start | b
                elif op == "test_clear":
                    assert r is True and after == start & ~b, (name, op)
                    assert fn() is False and _rd(m, addr) == start & ~b
                else:
                    raise AssertionError(f"unknown op {op}")
                # only this word changed
                assert _rd(m, other) == o0, (name, op)
            m.pgflags(addr).word = w0
        if page == "second" and bitname is not None:
            for op in ops:
                with pytest.raises(memcore.TailPageError):
                    getattr(small, OPS_METHOD[op].format(name))()
            assert _rd(m, small.pointer) == keep[small][0]
    for f, (h, s) in keep.items():
        assert _rd(m, _word_addr(f, "head")) == h
        if f.order:
            assert _rd(m, _word_addr(f, "second")) == s
    assert small.put() and large.put()
    m.check()


def test_stub_second_page_helpers_do_not_need_a_large_folio(machine):
    m = machine()
    f = m.alloc_folio()
    assert f.test_has_hwpoisoned() is False
    f.set_has_hwpoisoned()
    assert f.test_has_hwpoisoned() is False


def test_anon_and_ksm_read_the_mapping(machine):
    m = machine()
    f = m.alloc_folio(kind="anon")
    assert f.test_swapbacked()                       # anon folios are swap-backed
    assert f.test_anon() is False                    # not mapped yet: no anon_vma
    mapping = f.pointer + K.layout(m, "folio")["mapping"].offset
    for value, anon, ksm in ((0x1000 | 1, True, False), (0x1000 | 3, True, True),
                             (0x1000 | 2, False, False), (0x1000, False, False)):
        K.poke_word(m, mapping, value)
        assert K.struct_field(m, "folio", f.pointer, "mapping") == value
        assert f.test_anon() is anon and f.test_ksm() is ksm
    K.poke_word(m, mapping, 0)
    assert f.put()
    m.check()


def test_highmem_helper(machine, variant):
    if variant[1] == 32:
        m = machine(ram="1GiB")
        assert m.alloc_folio(zone="HighMem").test_highmem() is True
        assert m.alloc_folio(zone="Normal").test_highmem() is False
        assert m.alloc_folio(zone="DMA").test_highmem() is False
    else:
        g = machine().alloc_folio()          # no CONFIG_HIGHMEM: a stub
        assert g.test_highmem() is False
        w = g.flags.word
        g.set_highmem()
        assert g.flags.word == w


def test_aliases_share_bits(machine):
    m = machine()
    bits = m.bits
    f = m.alloc_folio(order=1)
    g = m.alloc_folio(order=1)
    f.set_checked()
    assert f.flags.test("owner_priv_1")
    assert f.test_pinned() and f.test_foreign() and f.test_xen_remapped()
    assert f.test_swapcache() is False               # needs PG_swapbacked as well
    f.set_swapbacked()
    assert f.test_swapcache() is True
    f.clear_swapcache()
    assert not f.test_checked() and f.test_swapbacked()
    f.clear_swapbacked()
    f.set_savepinned()
    assert f.test_dirty()
    f.clear_dirty()
    f.set_mappedtodisk()
    assert f.flags.test("owner_2") and f.flags.test("anon_exclusive")
    f.clear_owner_2()
    f.set_readahead()
    assert f.test_reclaim() and f.test_movable_ops_isolated()
    assert f.test_clear_reclaim() and not f.test_readahead()
    getattr(f, "__set_reported")()
    assert f.test_uptodate() and f.test_movable_ops()
    f.clear_uptodate()
    # second-page flags alias head-page names in folio->_flags_1 (page 1's flags word)
    g.clear_large_rmappable()
    assert not g.test_large_rmappable()
    g.set_large_rmappable()
    assert m.pgflags(_word_addr(g, "second")).test("workingset")
    assert not g.test_workingset()                  # the head's own bit is separate
    g.set_partially_mapped()
    assert m.pgflags(_word_addr(g, "second")).test("reclaim") and not g.test_reclaim()
    g.clear_partially_mapped()
    # every alias cleared again: no flag left (but PG_head, on classic)
    head = 1 << K.pg_bits(bits)["head"]
    assert f.flags.word & ((1 << K.NR_PAGEFLAGS[bits]) - 1) & ~head == 0
    assert f.put() and g.put()
    m.check()


def test_second_page_flags_need_a_large_folio(machine):
    m = machine()
    f = m.alloc_folio()
    w = K.flags_word(m, f.pfn)
    for meth in ("test_large_rmappable", "set_large_rmappable", "clear_partially_mapped",
                 "test_partially_mapped"):
        with pytest.raises(memcore.TailPageError) as ei:
            getattr(f, meth)()
        assert "page: refcount:" in str(ei.value)
    assert K.flags_word(m, f.pfn) == w
    g = m.alloc_folio(order=1)
    assert g.test_large_rmappable() is True          # page_rmappable_folio()
