"""Free memory, refcounts and orders of the designs whose struct page has no
room for free-list links or a refcount: flags_memdesc ({ flags; memdesc }) and
memdesc ({ memdesc }) (include/memcore/memdesc_page.h).

Which variants a test runs on is read from each variant's struct page
(memcore.layout), not from a list of design names."""
from __future__ import annotations

import pytest

import memcore
from memcore import InvalidAddress, NotSupported

import kfacts as K
from conftest import VARIANTS

PAGE_SIZE = 4096


def _no_list_head(v):
    """Designs that link free blocks through their memory: no buddy_list in struct page."""
    members = [mb.path for mb in memcore.layout("page", design=v[0], bits=v[1]).members]
    return "memdesc" in members and not any(p.startswith("buddy_list") for p in members)


LINKED_IN_BLOCK = [pytest.param(v, id=f"{v[0]}{v[1]}") for v in VARIANTS if _no_list_head(v)]
on_linked = pytest.mark.parametrize("variant", LINKED_IN_BLOCK, indirect=True)
on_linked_32 = pytest.mark.parametrize(
    "variant", [p for p in LINKED_IN_BLOCK if p.values[0][1] == 32], indirect=True)


def _word(m, va):
    w = m.bits // 8
    return int.from_bytes(m.read(va, w), "little")


def _free_heads(m, limit=None):
    """(pfn, order) of PageBuddy heads in lowmem, lowest PFN first."""
    out, pfn = [], 0
    lowmem = min(m.nr_pfns, (896 << 20) // PAGE_SIZE) if m.bits == 32 else m.nr_pfns
    while pfn < lowmem:
        o = m.page(pfn).buddy_order
        if o is None:
            pfn += 1
            continue
        out.append((pfn, o))
        if limit and len(out) == limit:
            break
        pfn += 1 << o
    return out


@on_linked
def test_free_block_links_are_pfns_in_the_blocks_first_bytes(machine):
    """struct buddy { next; prev; } at the start of every free block: a neighbour
    is named by its PFN (a PageBuddy head of the same order), a list end by the
    list head's address (above every PFN); prev of next is the block itself."""
    m = machine("64MiB")
    fs = [m.alloc_folio(order=o) for o in (0, 1, 0, 2, 0, 3)]
    for f in fs[::2]:
        f.put()
    m.drain_pcp()
    heads = _free_heads(m)
    assert len(heads) > 4
    w = m.bits // 8
    seen_pfn_link = 0
    for pfn, order in heads:
        va = m.pfn_to_virt(pfn)
        nxt, prv = _word(m, va), _word(m, va + w)
        for link in (nxt, prv):
            if link < m.page_offset:
                seen_pfn_link += 1
                assert m.page(link).buddy_order == order, (hex(pfn), hex(link))
            else:
                assert link >= m.page_offset
        if nxt < m.page_offset:
            assert _word(m, m.pfn_to_virt(nxt) + w) == pfn
    assert seen_pfn_link
    assert m.check()


@on_linked
def test_free_pages_have_an_inline_buddy_memdesc(machine):
    """The head of a block on a free list: Buddy "head" (PageBuddy, its order where
    the design keeps it); every other free page: Buddy "free"; both with the
    node, zone and section of their PFN.  A freed folio's pages are free memory."""
    m = machine("64MiB")
    f = m.alloc_folio(order=2)
    pfn = f.pfn
    zone = m.page(pfn).zone
    f.put()
    m.drain_pcp()
    for i in range(4):
        d = m.page(pfn + i).memdesc
        assert d.type == "buddy" and d.address is None and d.fields.get("node", 0) == 0
        assert m.page(pfn + i).zone == zone        # read back from the Buddy memdesc
    head, order = _free_heads(m, limit=1)[0]
    d = m.page(head).memdesc
    assert d.subtype == "head" and m.page(head).buddy_order == order
    if m.design == "memdesc":                 # the order is in the memdesc itself
        assert d.fields["order"] == order
    tail = m.page(head + (1 << order) - 1).memdesc if order else None
    if tail is not None:
        assert tail.type == "buddy" and tail.subtype == "free"
        assert m.page(head + 1).buddy_order is None
    assert m.page(head).refcount == 0 and m.page(head).folio is None


@on_linked
def test_writes_to_free_memory_are_refused_and_change_nothing(machine):
    """The allocator follows the links in free memory: Machine.write there is an
    InvalidAddress (with KASAN off; with it on, a use-after-free report comes
    first), and the machine is unchanged."""
    m = machine("64MiB")
    head, _ = _free_heads(m, limit=1)[0]
    va = m.pfn_to_virt(head)
    before = m._state_digest()
    with pytest.raises(InvalidAddress, match="free lists' links"):
        m.write(va, b"\xff" * 16)
    with pytest.raises(InvalidAddress, match="free lists' links"):
        m.pgflags(va).word = 0
    assert m._state_digest() == before
    assert m.read(va, 16) != b"\xff" * 16
    assert m.check()


@on_linked
def test_no_page_refcount_the_count_6_18_would_show(machine):
    """No struct page holds a refcount: a folio page shows its folio's, a reserved
    page 1, free, slab and large-kmalloc pages 0 (6.18 allocates those frozen)."""
    m = machine("64MiB")
    f = m.alloc_folio(order=2)
    f.get()
    assert [m.page(f.pfn + i).refcount for i in range(4)] == [2] * 4
    f.put()
    assert m.page(0).refcount == 1 and m.page(0).flags.test("reserved")
    o = m.kmalloc(64)
    slab_pfn = (o.address - m.page_offset) // PAGE_SIZE
    assert m.page(slab_pfn).refcount == 0 and m.page(slab_pfn).type_name == "slab"
    big = m.kmalloc(5 * PAGE_SIZE)
    big_pfn = (big.address - m.page_offset) // PAGE_SIZE
    assert m.page(big_pfn).refcount == 0 and m.page(big_pfn).type_name == "large_kmalloc"
    head, _ = _free_heads(m, limit=1)[0]
    assert m.page(head).refcount == 0
    assert "_refcount" not in [mb.path for mb in K.layout(m, "page").members]
    assert m.check()


@on_linked_32
def test_highmem_free_lists_go_through_kmap_local_page(machine):
    """A HIGHMEM block has no direct-map address: the free-list code reaches its
    struct buddy with kmap_local_page(), which the model counts; lowmem needs none."""
    m = machine("2GiB")
    assert m.stats()["kmap_local"] > 0          # boot freed HighMem into the buddy lists
    lo = m.alloc_folio(zone="Normal")
    lo.put()
    m.drain_pcp()
    k1 = m.stats()["kmap_local"]
    fs = [m.alloc_folio(zone="HighMem") for _ in range(8)]
    assert all(f.zone == "HighMem" and f.machine.folio_address(f) is None for f in fs)
    for f in fs:
        f.put()
    m.drain_pcp()
    assert m.stats()["kmap_local"] > k1
    assert m.check()


def test_lowmem_only_machines_need_no_kmap(variant, machine):
    m = machine("64MiB")
    for f in [m.alloc_folio(order=o) for o in (0, 3, 0)]:
        f.put()
    m.drain_pcp()
    assert m.stats()["kmap_local"] == 0
    assert m.check()


@pytest.mark.parametrize("variant", [pytest.param(v, id=f"{v[0]}{v[1]}") for v in VARIANTS
                                     if v[0] == "flags_memdesc"], indirect=True)
def test_flags_memdesc_keeps_the_block_order_in_every_page(machine):
    """S3: the order of the block a page is in sits in its flags word where the
    flags-word calculator found room (x86_64), else in the page's order word
    (i386); every page of an allocated block carries it, a free block's head too."""
    m = machine("64MiB")
    facts = memcore.layout_facts("flags_memdesc", m.bits)

    def order_of(pfn):
        if "compound_order_shift" in facts:
            word = K.page_field(m, pfn, "flags")
            return (word >> facts["compound_order_shift"]) & \
                ((1 << facts["compound_order_width"]) - 1)
        return K.page_field(m, pfn, "order")

    f = m.alloc_folio(order=3)
    assert [order_of(f.pfn + i) for i in range(8)] == [3] * 8
    big = m.kmalloc(5 * PAGE_SIZE)                 # a Misc block of order 3
    bpfn = (big.address - m.page_offset) // PAGE_SIZE
    assert [order_of(bpfn + i) for i in range(8)] == [3] * 8
    pfn = f.pfn
    f.put()
    m.drain_pcp()
    head, order = next((p, o) for p, o in _free_heads(m) if p <= pfn < p + (1 << o))
    assert order_of(head) == order
    assert all(order_of(p) == 0 for p in range(head + 1, head + (1 << order)))
    assert m.check()


@pytest.mark.parametrize("variant", [pytest.param(v, id=f"{v[0]}{v[1]}") for v in VARIANTS
                                     if v[0] == "memdesc"], indirect=True)
def test_memdesc_pages_show_the_flags_6_18_would(machine):
    """The memdesc design's struct page is its memdesc: Page.flags of a folio page
    is its folio's word; of any other page a read-only view of the flags 6.18
    would show (node, zone, section, PG_reserved), which refuses a change."""
    m = machine("64MiB")
    f = m.alloc_folio(order=1)
    assert m.page(f.pfn + 1).flags.pointer == f.flags.pointer
    r = m.page(0).flags
    assert r.test("reserved") and r.zone == m.page(0).zone
    before = m._state_digest()
    with pytest.raises(NotSupported, match="no flags word"):
        r.set("dirty")
    with pytest.raises(NotSupported, match="no flags word"):
        r.pgflags_trylock()
    assert m._state_digest() == before
    assert "reserved" in m.page(0).dump()
    f.put()
    assert m.check()
