"""Machines of the designs with separately allocated descriptors (interim,
and flags_memdesc / memdesc once they are built): what the memdesc plan's
claims (/work/shared/reference/memdesc-plan.md, S2-S9) mean for a running
Machine, and what classic refuses instead.

The descriptor designs are the compiled variants whose design is not
classic (every one of them allocates folio and slab descriptors from the
caches of include/memcore/memdesc_desc.h); classic appears only where a
call must be refused, or must fail the same way on every design.

Raw descriptor fields are read at the offsets memcore.layout() gives for
the machine's design (bitfields included), never through the views under
test.
"""
from __future__ import annotations

import pytest

import memcore
from memcore import InvalidAddress, NoMemdesc, NotSupported, VMBug

from conftest import VARIANTS
import kfacts as K

PAGE_SIZE = 4096
MEMDESC_ALIGN = 16
DESC_CACHES = {"folio_small", "folio_large", "slab_desc", "ptdesc"}

DESC_VARIANTS = [pytest.param(v, id=f"{v[0]}{v[1]}") for v in VARIANTS if v[0] != "classic"]
CLASSIC_VARIANTS = [pytest.param(v, id=f"{v[0]}{v[1]}") for v in VARIANTS if v[0] == "classic"]
ALL_VARIANTS = DESC_VARIANTS + CLASSIC_VARIANTS

on_descriptor_designs = pytest.mark.parametrize("variant", DESC_VARIANTS, indirect=True)
on_classic = pytest.mark.parametrize("variant", CLASSIC_VARIANTS, indirect=True)
on_all = pytest.mark.parametrize("variant", ALL_VARIANTS, indirect=True)


# ---- helpers ---------------------------------------------------------------------------

def member(m, struct, name):
    return memcore.layout(struct, m.design, m.bits)[name]


def field(m, struct, address, name):
    """A member (bitfields too) of the struct `struct` at modeled `address`, from raw bytes."""
    mem = member(m, struct, name)
    raw = int.from_bytes(m.read(address + mem.offset, mem.size), "little")
    return (raw >> (mem.bit_offset - 8 * mem.offset)) & ((1 << mem.bit_size) - 1)


def page_field(m, pfn, name):
    mem = member(m, "page", name)
    raw = m.page(pfn).raw()
    return int.from_bytes(raw[mem.offset:mem.offset + mem.size], "little")


def poke_s32(m, address, value):
    """Write a 32-bit field inside an aligned word (through a PgFlags view of the word)."""
    w = m.bits // 8
    base = address - address % w
    shift = (address - base) * 8
    old = m.pgflags(base).word
    m.pgflags(base).word = (old & ~(0xFFFFFFFF << shift)) | ((value & 0xFFFFFFFF) << shift)


def obj_addr(obj):
    return obj if isinstance(obj, int) else obj.address


def virt_pfn(m, address):
    return (address - m.page_offset) // PAGE_SIZE


def slab_range(m, slab_addr):
    """(first pfn, number of pages) of the slab whose descriptor is at slab_addr (raw)."""
    return field(m, "slab", slab_addr, "pfn"), 1 << field(m, "slab", slab_addr, "order")


def desc_pages(m):
    return sum(m.stats()["descriptor_bytes"].values()) // PAGE_SIZE


def in_memmap(m, address):
    return m.memmap_address <= address < m.memmap_address + m.nr_pfns * m.sizeof_page


def free_block_pfns(m):
    """Every PFN of a free block on a buddy list, from the blocks' heads."""
    out = set()
    pfn = 0
    while pfn < m.nr_pfns:
        order = m.page(pfn).buddy_order
        if order is None:
            pfn += 1
            continue
        out.update(range(pfn, pfn + (1 << order)))
        pfn += 1 << order
    return out


# ---- 1. S8: a slab lends its pages to the page cache ----------------------------------

@on_descriptor_designs
def test_s8_slab_lends_pages_as_file_folios_and_takes_them_back(machine):
    m = machine()
    s0 = m.stats()
    w0 = m.walk()
    desc0 = desc_pages(m)
    sc = m.folio_slab_create("pc", order=3)
    assert sc.order == 3 and sc.cache.objs_per_slab == 8 and sc.cache.slabs == 0
    m.check()

    history = {}                     # pfn -> memdesc types seen, in order
    lent = []                        # (folio, slab descriptor address)
    for step in range(11):           # all 8 pages of the first slab, and a second slab
        f = sc.alloc_folio()
        m.check()
        assert f.order == 0 and f.nr_pages == 1 and f.refcount == 1
        md = m.page(f.pfn).memdesc
        assert md.type == "file" and md.address == f.pointer
        assert m.page(f.pfn).folio == f
        sl = f.backing_slab
        sla = sl.pointer
        assert m.virt_to_cache(sla).name == "slab_desc"
        first, nr = slab_range(m, sla)
        assert nr == 8 and first <= f.pfn < first + nr
        assert field(m, "slab", sla, "slab_cache") == sc.cache.pointer
        assert sl.slab_cache == sc.cache and sl.pfn == first and sl.order == 3
        lent.append((f, sla))
        lent_pfns = {g.pfn for g, _ in lent}
        for pfn in range(first, first + nr):
            if pfn not in lent_pfns:
                other = m.page(pfn).memdesc
                assert (other.type, other.address) == ("slab", sla), pfn
        if not history.get(f.pfn):
            history[f.pfn] = ["slab"]                  # it was a slab page before
        history[f.pfn].append("file")
        assert sc.cache.slabs == (1 if step < 8 else 2)
    assert len({sla for _, sla in lent}) == 2
    assert len({f.pfn for f, _ in lent}) == 11

    for i, (f, sla) in enumerate(lent):
        pfn = f.pfn
        first, nr = slab_range(m, sla)
        assert f.put() is True
        m.check()
        still_lent = [g for g, a in lent[i + 1:] if a == sla]
        md = m.page(pfn).memdesc
        if still_lent:
            assert (md.type, md.address) == ("slab", sla)
            history[pfn].append("slab")
        else:                         # the slab emptied: its pages went back to the buddy
            assert all(m.page(p).memdesc.type == "buddy" for p in range(first, first + nr))
    assert all(h == ["slab", "file", "slab"] for p, h in history.items()
               if h[-1] == "slab") and sum(h[-1] == "slab" for h in history.values()) == 9

    assert sc.cache.slabs == 0 and m.stats()["slab_caches"]["pc"]["pages"] == 0
    s1 = m.stats()
    w1 = m.walk()
    grown = desc_pages(m) - desc0          # folio_small took a slab for the descriptors
    assert grown >= 0
    assert s1["slab_pages"] - grown == s0["slab_pages"]
    assert w1["slab"] - grown == w0["slab"]
    assert (w1["free_buddy"] + w1["refcount_zero"]) + grown == \
        w0["free_buddy"] + w0["refcount_zero"]
    assert w1["folio"] == w0["folio"] == 0
    assert m.check()


@on_descriptor_designs
def test_s8_backing_slab_view_works_while_the_slabs_first_page_is_lent(machine):
    m = machine()
    sc = m.folio_slab_create("pc", order=3)
    folios = [sc.alloc_folio() for _ in range(8)]       # the slab's first page among them
    first, nr = slab_range(m, folios[0].backing_slab.pointer)
    assert first in {f.pfn for f in folios} and sc.cache.slabs == 1
    for f in folios:
        sl = f.backing_slab
        assert sl.slab_cache == sc.cache
        assert sl.pfn <= f.pfn < sl.pfn + (1 << sl.order)
    for f in folios:
        f.put()
    m.check()


@on_descriptor_designs
def test_walk_classifies_each_lent_page_as_a_folio_page(machine):
    m = machine()
    sc = m.folio_slab_create("pc", order=3)
    folios = []
    for _ in range(12):
        folios.append(sc.alloc_folio())
        types = [m.page(p).memdesc.type for p in range(m.nr_pfns)]
        w = m.walk()
        assert w["slab"] == types.count("slab")
        assert w["folio"] == sum(t in ("file", "anon") for t in types) == len(folios)


@on_classic
def test_folio_slab_create_is_refused_on_classic_and_changes_nothing(machine):
    m = machine()
    before = m._state_digest()
    names = [c.name for c in m.caches()]
    with pytest.raises(NotSupported, match="not supported by this design"):
        m.folio_slab_create("pc", order=3)
    assert m._state_digest() == before
    assert [c.name for c in m.caches()] == names
    with pytest.raises(memcore.UnknownChoice):
        m.kmem_cache("pc")
    assert m.check()


# ---- 2. S2/S5: the memdesc word says what a page is, without a descriptor -----------

@on_descriptor_designs
def test_memdesc_decodes_every_kind_of_page(machine):
    m = machine()
    design, bits = m.design, m.bits
    types = memcore.memdesc_types(design, bits)
    buddy_numbers = {t.number for t in types if t.name == "buddy"}
    if design == "interim":       # buddy_list overlays the memdesc word: 0/4/8/12 alias Buddy
        assert buddy_numbers == {0, 4, 8, 12}

    file_f = m.alloc_folio(order=0, kind="file")
    anon_f = m.alloc_folio(order=2, kind="anon")
    obj = m.kmalloc(64)
    big = obj_addr(m.kmalloc(64 * 1024))
    m.check()

    for f, kind in ((file_f, "file"), (anon_f, "anon")):
        for i in range(f.nr_pages):
            md = m.page(f.pfn + i).memdesc
            assert md.type == kind and md.address == f.pointer and md.descriptor == "folio"
    spfn = virt_pfn(m, obj_addr(obj))
    md = m.page(spfn).memdesc
    assert md.type == "slab" and md.address == m.virt_to_slab(obj_addr(obj)).pointer
    bpfn = virt_pfn(m, big)
    for i in range(16):
        md = m.page(bpfn + i).memdesc
        assert (md.type, md.subtype, md.fields["order"]) == ("misc", "kmalloc_large", 4)
        assert md.fields["zone"] == m.page(bpfn + i).flags.zone_idx
        assert md.address is None

    # every page, classified from its memdesc word alone, against the walk
    free = free_block_pfns(m)
    counts = {}
    for pfn in range(m.nr_pfns):
        md = m.page(pfn).memdesc
        counts[md.type] = counts.get(md.type, 0) + 1
        if pfn in free:
            assert md.type == "buddy" and md.number in buddy_numbers, pfn
        if m.page(pfn).flags.test("reserved"):
            assert md.type == "misc" and md.subtype is not None, pfn
            assert md.subtype not in ("kmalloc_large", "driver") and md.fields["order"] == 0
    w = m.walk()
    assert counts["buddy"] == w["free_buddy"] + w["refcount_zero"] >= len(free)
    assert counts["slab"] == w["slab"]
    assert counts["file"] == 1 and counts["anon"] == 4 == w["folio"] - 1
    assert counts["misc"] == w["reserved"] + 16


@on_classic
def test_memdesc_is_no_attribute_of_a_classic_page(machine):
    m = machine()
    f = m.alloc_folio()
    for pfn in (0, f.pfn, m.nr_pfns - 1):
        with pytest.raises(NoMemdesc, match="no memdesc word"):
            m.page(pfn).memdesc
    assert issubclass(NoMemdesc, NotSupported)


# ---- 3. descriptors are objects of the descriptor caches -------------------------------

@on_descriptor_designs
def test_folio_descriptors_are_cache_objects_outside_the_memmap(machine):
    m = machine()
    small = m.alloc_folio(order=0)
    large = m.alloc_folio(order=3)
    lowmem_end = m.page_offset + min(m.nr_pfns, 0x38000) * PAGE_SIZE
    for f, cache in ((small, "folio_small"), (large, "folio_large")):
        assert f.pointer != m.page(f.pfn).pointer and not in_memmap(m, f.pointer)
        assert m.page_offset <= f.pointer < lowmem_end
        assert f.pointer % MEMDESC_ALIGN == 0
        assert m.virt_to_cache(f.pointer).name == cache
        assert field(m, "folio", f.pointer, "pfn") == f.pfn
        assert field(m, "folio", f.pointer, "_order") == f.order
        assert f.flags.pointer == f.pointer + member(m, "folio", "flags").offset
        for i in range(f.nr_pages):
            assert m.page(f.pfn + i).memdesc.address == f.pointer
            assert m.page(f.pfn + i).folio == f
    assert small.pointer != large.pointer

    # page_folio() is NULL for what is no folio
    obj = obj_addr(m.kmalloc(128))
    assert m.page(virt_pfn(m, obj)).folio is None
    free_pfn = min(free_block_pfns(m))
    assert m.page(free_pfn).folio is None
    sla = m.virt_to_slab(obj).pointer
    assert m.virt_to_cache(sla).name == "slab_desc" and not in_memmap(m, sla)
    assert sla % MEMDESC_ALIGN == 0
    m.check()


@on_descriptor_designs
def test_descriptor_bytes_are_the_descriptor_caches_slab_pages(machine):
    m = machine()
    st = m.stats()
    assert set(st["descriptor_bytes"]) == DESC_CACHES == set(m._descriptor_cache_names())
    small0 = st["descriptor_bytes"]["folio_small"]
    folios = [m.alloc_folio(order=0) for _ in range(300)]
    large = [m.alloc_folio(order=1) for _ in range(40)]
    st = m.stats()
    for name, nbytes in st["descriptor_bytes"].items():
        assert nbytes == st["slab_caches"][name]["bytes"] == \
            st["slab_caches"][name]["pages"] * PAGE_SIZE
    assert st["descriptor_bytes"]["folio_small"] > small0
    assert st["slab_caches"]["folio_small"]["objects_inuse"] >= 300
    assert st["slab_caches"]["folio_large"]["objects_inuse"] >= 40
    assert st["descriptor_bytes"]["folio_small"] >= 300 * member(m, "folio", "_flags_1").offset
    assert st["metadata_total_bytes"] == st["memmap_bytes"] + sum(st["descriptor_bytes"].values())
    for f in folios + large:
        f.put()
    m.check()


@on_all
def test_memmap_bytes_are_sizeof_struct_page_per_page(machine):
    m = machine()
    st = m.stats()
    size = memcore.layout("page", m.design, m.bits).size
    assert st["sizeof_page"] == m.sizeof_page == size
    host = st["metadata_bytes"]["memmap_host"]
    assert host % size == 0 and host // size >= m.nr_pfns
    assert host // size - m.nr_pfns < (1 << (29 - 12))        # at most a section's rounding
    assert st["memmap_bytes"] >= host
    if m.design == "classic":
        assert st["descriptor_bytes"] == {}
    else:
        assert size < memcore.layout("page", "classic", m.bits).size


# ---- 4. S7: walkers take the descriptor's refcount -------------------------------------

@on_descriptor_designs
def test_every_page_reports_the_folios_refcount(machine):
    m = machine()
    f = m.alloc_folio(order=2)
    f.get()
    assert f.refcount == 2
    assert field(m, "folio", f.pointer, "_refcount") == 2
    for i in range(4):
        assert m.page(f.pfn + i).refcount == f.refcount == 2
        if "_refcount" in memcore.layout("page", m.design, m.bits):
            assert page_field(m, f.pfn + i, "_refcount") == 0    # the page's own stays 0
    assert f.put() is False
    assert all(m.page(f.pfn + i).refcount == 1 for i in range(4))
    sc = m.folio_slab_create("pc", order=3)
    g = sc.alloc_folio()
    g.get()
    assert m.page(g.pfn).refcount == 2 == field(m, "folio", g.pointer, "_refcount")
    g.put()
    g.put()
    f.put()
    m.check()


# ---- 5. S9: pgflags_lock on any descriptor's flags word --------------------------------

@on_descriptor_designs
def test_pgflags_lock_on_folio_and_slab_descriptors(machine):
    m = machine()
    t1, t2 = m.task("t1", cpu=0), m.task("t2", cpu=1)
    f = m.alloc_folio(order=1)
    w = m.pgflags(f.flags.pointer)
    assert w.pointer == f.pointer            # the flags word heads the descriptor
    assert w.pgflags_trylock(t1) is True
    assert w.test("locked") and f.flags.test("locked") and f.lock_owner == t1
    assert f.trylock(t2) is False and w.pgflags_trylock(t2) is False
    if K.has_page_member(m, "flags"):
        assert not m.page(f.pfn).flags.test("locked")  # not the struct page's word
    w.pgflags_unlock(t1)
    assert not f.flags.test("locked")
    assert f.lock(t2) is True
    assert w.pgflags_trylock(t1) is False
    f.unlock(t2)

    obj = obj_addr(m.kmalloc(64))
    sla = m.virt_to_slab(obj).pointer
    sw = m.pgflags(sla)
    assert not in_memmap(m, sla)
    assert sw.pgflags_trylock(t1) is True and sw.test("locked")
    assert sw.pgflags_trylock(t2) is False
    assert m.check()                       # a held descriptor lock is sound state
    sw.pgflags_unlock(t1)
    assert not sw.test("locked")
    assert m.virt_to_slab(obj).pointer == sla
    m.kfree(obj)
    f.put()
    m.check()


# ---- 6. misuse: the same exception as on classic, nothing changed ---------------------

def refused(m, exc, call, match=None):
    """call() raises exactly `exc` (not a subclass) and leaves the machine's state alone."""
    before = m._state_digest()
    with pytest.raises(exc, match=match) as info:
        call()
    assert info.type is exc, info.type
    assert m._state_digest() == before
    return info


@on_all
@pytest.mark.parametrize("op", ["put", "get", "lock", "trylock", "unlock"])
def test_use_of_a_freed_folio_is_a_vmbug_on_every_design(machine, op):
    m = machine()
    f = m.alloc_folio(order=0)
    g = m.alloc_folio(order=2)
    assert f.put() is True
    refused(m, VMBug, getattr(f, op), match="freed")
    assert g.put() is True
    refused(m, VMBug, lambda: g.lock(), match="freed")
    assert m.check()


@on_descriptor_designs
def test_compound_head_of_a_typed_page_is_a_vmbug(machine):
    m = machine()
    obj = obj_addr(m.kmalloc(64))
    refused(m, VMBug, lambda: m.page(virt_pfn(m, obj)).compound_head, match="typed page")
    big = obj_addr(m.kmalloc(64 * 1024))
    refused(m, VMBug, lambda: m.page(virt_pfn(m, big) + 1).compound_head)
    f = m.alloc_folio(order=2)
    assert m.page(f.pfn).compound_head == 0
    assert m.page(f.pfn + 3).compound_head == m.page(f.pfn).pointer + 1
    assert m.page(min(free_block_pfns(m))).compound_head == 0


@on_classic
def test_compound_head_of_a_slab_page_works_on_classic(machine):
    m = machine()
    """The raw word: a slab's first page is no tail (bit 0 clear: the word is the
    struct slab's slab_list overlay), the other pages point at it, + 1."""
    obj = obj_addr(m.kmalloc(4096))
    sl = m.virt_to_slab(obj)
    assert sl.order >= 1
    assert m.page(sl.pfn).compound_head & 1 == 0
    for i in range(1, 1 << sl.order):
        assert m.page(sl.pfn + i).compound_head == m.page(sl.pfn).pointer + 1


@on_all
def test_double_free_is_a_vmbug_on_every_design(machine):
    m = machine()
    obj = m.kmalloc(64)
    a = obj_addr(obj)
    m.kfree(obj)
    refused(m, VMBug, lambda: m.kfree(a), match="double free")
    c = m.kmem_cache_create("mine", 100)
    o = m.kmem_cache_alloc(c)
    a = obj_addr(o)
    m.kmem_cache_free(c, o)
    refused(m, VMBug, lambda: m.kmem_cache_free(c, a), match="double free")
    assert m.check()


@on_descriptor_designs
def test_descriptor_objects_are_not_the_apis_to_free(machine):
    m = machine()
    f = m.alloc_folio(order=0)
    big = m.alloc_folio(order=2)
    sla = m.virt_to_slab(obj_addr(m.kmalloc(64))).pointer
    kc = m.kmem_cache("kmalloc-64").pointer
    # what kmem_cache objects get is what descriptor objects get
    refused(m, InvalidAddress, lambda: m.kfree(kc))
    for addr in (f.pointer, big.pointer, sla):
        refused(m, InvalidAddress, lambda: m.kfree(addr), match="descriptor cache")
        cache = m.virt_to_cache(addr)
        assert cache.name in DESC_CACHES
        refused(m, InvalidAddress, lambda: m.kmem_cache_free(cache, addr))
        refused(m, InvalidAddress, lambda: m.kfree_rcu(addr))
    assert f.refcount == 1 and big.refcount == 1
    assert m.check()


FOLIO_WORDS_REFUSED = ["pfn", "_order", "lru", "private", "_deferred_list"]
FOLIO_WORDS_ALLOWED = ["flags", "mapping", "index", "memcg_data"]


@on_descriptor_designs
@pytest.mark.parametrize("name", FOLIO_WORDS_REFUSED)
def test_folio_descriptor_words_the_model_follows_are_not_writable(machine, name):
    m = machine()
    f = m.alloc_folio(order=1)
    addr = f.pointer + member(m, "folio", name).offset
    addr -= addr % (m.bits // 8)
    old = m.pgflags(addr).word
    refused(m, InvalidAddress, lambda: setattr(m.pgflags(addr), "word", old ^ 0x40))
    assert m.pgflags(addr).word == old and f.pfn == field(m, "folio", f.pointer, "pfn")
    assert m.check()


@on_descriptor_designs
@pytest.mark.parametrize("name", FOLIO_WORDS_ALLOWED)
def test_folio_descriptor_words_a_debugger_may_write(machine, name):
    m = machine()
    f = m.alloc_folio(order=1)
    addr = f.pointer + member(m, "folio", name).offset
    if name == "flags":
        f.flags.set("dirty")
        assert f.flags.test("dirty")
        assert m.pgflags(addr).test("dirty")
        # the struct page's own word, where it has one; else the page shows its folio's
        assert m.page(f.pfn).flags.test("dirty") != K.has_page_member(m, "flags")
    else:
        m.pgflags(addr).word = 0x1230
        assert field(m, "folio", f.pointer, name) == 0x1230
        m.pgflags(addr).word = 0
    assert m.check()
    f.put()
    assert m.check()


@on_descriptor_designs
def test_the_memdesc_word_of_a_page_is_not_writable(machine):
    m = machine()
    f = m.alloc_folio()
    obj = obj_addr(m.kmalloc(64))
    for pfn in (f.pfn, virt_pfn(m, obj), min(free_block_pfns(m))):
        addr = m.page(pfn).pointer + member(m, "page", "memdesc").offset
        old = m.pgflags(addr).word
        refused(m, InvalidAddress, lambda: setattr(m.pgflags(addr), "word", old ^ 0x10))
    assert m.check()


# ---- 7. check() finds what can be corrupted, and passes a sound machine --------------

def _corrupt(m, how):
    f = m.alloc_folio(order=1)
    obj = obj_addr(m.kmalloc(64))
    if how == "folio_refcount_zero":
        poke_s32(m, f.pointer + member(m, "folio", "_refcount").offset, 0)
    elif how == "page_refcount_of_folio_page":
        poke_s32(m, m.page(f.pfn + 1).pointer + member(m, "page", "_refcount").offset, 1)
    elif how == "pg_head_on_folio_tail_page":
        m.page(f.pfn + 1).flags.set("head")
    elif how == "slab_counters_zero":
        sla = m.virt_to_slab(obj).pointer
        m.pgflags(sla + member(m, "slab", "counters").offset).word = 0
    elif how == "slab_inuse_plus_one":
        a = m.virt_to_slab(obj).pointer + member(m, "slab", "counters").offset
        m.pgflags(a).word = m.pgflags(a).word + 1
    elif how == "buddy_order_bits_of_a_free_head":
        head = next(p for p in range(m.nr_pfns - 1, 0, -1)
                    if (m.page(p).buddy_order or 0) >= 1)
        m.page(head).flags.set("lru")
    else:
        raise AssertionError(how)


CORRUPTIONS = ["folio_refcount_zero", "page_refcount_of_folio_page", "pg_head_on_folio_tail_page",
               "slab_counters_zero", "slab_inuse_plus_one", "buddy_order_bits_of_a_free_head"]


@on_descriptor_designs
@pytest.mark.parametrize("how", CORRUPTIONS)
def test_check_finds_corruption_written_through_the_api(machine, how):
    m = machine()
    if how == "buddy_order_bits_of_a_free_head" and m.design != "interim":
        pytest.skip("only interim keeps a free block's order in the folio-flag bits of its "
                    "struct page")
    if how == "page_refcount_of_folio_page" and not K.has_page_member(m, "_refcount"):
        pytest.skip(f"the {m.design} design's struct page has no _refcount")
    if how == "pg_head_on_folio_tail_page" and m.design != "interim":
        pytest.skip("only interim gives PG_head of a struct page a meaning (its free-block "
                    "marker); the page's own flags are otherwise judged at free")
    assert m.check()
    _corrupt(m, how)
    with pytest.raises(VMBug):
        m.check()


@on_all
def test_check_passes_a_sound_machine_after_a_mixed_sequence(machine):
    m = machine()
    t0, t1 = m.task("t0", cpu=0), m.task("t1", cpu=1)
    live = []
    cache = m.kmem_cache_create("objs", 200, flags=("SLAB_TYPESAFE_BY_RCU",))
    objs, kobjs = [], []
    for i in range(60):
        task = (t0, t1)[i % 2]
        live.append(m.alloc_folio(order=i % 4, kind=("file", "anon")[i % 3 == 0], task=task))
        objs.append(m.kmem_cache_alloc(cache, task=task))
        if i % 5 == 0:
            kobjs.append(m.kmalloc(24 + 700 * (i % 3) + (60000 if i % 10 == 0 else 0)))
        if i % 7 == 3:
            f = live.pop(0)
            f.get(task)
            assert f.trylock(task)
            f.unlock(task)
            f.put(task)
            f.put(task)
        if i % 9 == 0:
            m.kmem_cache_free(cache, objs.pop(0), task=task)
        assert m.check()
    if m.design != "classic":
        sc = m.folio_slab_create("pc", order=2)
        lent = [sc.alloc_folio() for _ in range(6)]
        assert m.check()
        for g in lent[::2]:
            g.put()
        assert m.check()
        live += lent[1::2]
    for f in live:
        f.put()
    for o in objs:
        m.kmem_cache_free(cache, o)
    for o in kobjs:
        m.kfree(o)
    m.synchronize_rcu()
    m.drain_pcp()
    assert m.check()
    assert m.walk()["folio"] == 0
    if m.design != "classic":
        st = m.stats()
        assert st["slab_caches"]["folio_small"]["objects_inuse"] == 0
        assert st["slab_caches"]["folio_large"]["objects_inuse"] == 0


# ---- memcore estimate prices descriptors as the running machine allocates them -------------

@on_descriptor_designs
def test_estimate_packs_descriptors_as_the_machines_caches_do(machine, variant):
    """memcore estimate prices a design's descriptors from its layouts, packed
    into whole slabs of a cache of that object size (estimate.slab_geometry());
    the running machine's own descriptor caches must have that geometry, and N
    folios allocated on a fresh machine must take exactly the slab pages the
    estimate charges for N descriptors."""
    from memcore import estimate as E
    design, bits = variant
    m = machine("256MiB", cpus=1)
    facts = memcore.layout_facts(design, bits)
    sizes = {"folio_small": facts["small_folio_size"],
             "folio_large": memcore.layout("folio", design, bits).size,
             "slab_desc": memcore.layout("slab", design, bits).size}
    for name, size in sizes.items():
        c = m.kmem_cache(name)
        assert c.object_size == size
        assert (c.objs_per_slab, c.order) == E.slab_geometry(size, bits, cpus=1), name
    before = m.stats()["descriptor_bytes"]
    assert before["folio_small"] == before["folio_large"] == 0     # nothing allocated yet
    n_small, n_large = 300, 70
    folios = [m.alloc_folio(order=0) for _ in range(n_small)]
    folios += [m.alloc_folio(order=1) for _ in range(n_large)]
    got = m.stats()["descriptor_bytes"]
    for name, n in (("folio_small", n_small), ("folio_large", n_large)):
        per, order = E.slab_geometry(sizes[name], bits, cpus=1)
        assert got[name] == -(-n // per) * (PAGE_SIZE << order), name
    for f in folios:
        assert f.put()
    m.check()
