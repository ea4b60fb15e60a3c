"""memcore.drgn: each variant's types in drgn are the variant's layouts, and a
program over a live Machine reads its memory (skipped without drgn; the
test extra installs it)."""
import sys

import pytest

import memcore
from conftest import have_m32_gcc

drgn = pytest.importorskip("drgn")
import memcore.drgn as mdrgn  # noqa: E402


def _program(variant):
    design, bits = variant
    if bits == 32 and not have_m32_gcc():
        pytest.skip("gcc -m32 unavailable at build time: no 32-bit debugger types")
    m = memcore.Machine("64MiB", design=design, bits=bits)
    return m, mdrgn.program(m)


def test_types_are_the_variants_layouts(variant):
    design, bits = variant
    m, prog = _program(variant)
    for name in memcore.struct_names(design, bits):
        lay = memcore.layout(name, design, bits)
        t = prog.type(f"struct {name}")
        assert t.size == lay.size, name
        paths = [mb.path for mb in lay]
        for mb in lay:
            if mb.is_bitfield or paths.count(mb.path) != 1 or "[" in mb.path:
                continue
            assert drgn.offsetof(t, mb.path) == mb.offset, (name, mb.path)
    for name in ("zone", "pglist_data", "kmem_cache"):
        assert prog.type(f"struct {name}").size > 0


def test_live_memory_reads_what_the_machine_holds(variant):
    m, prog = _program(variant)
    a = m.address_space("f")
    f = m.alloc_folio(2)
    a.add_folio(0, f)
    f.unlock()
    folio = drgn.Object(prog, "struct folio", address=f.addr)
    assert folio._refcount.counter.value_() == f.refcount == 1 + f.nr_pages
    assert folio.mapping.value_() == a.address
    assert folio.index.value_() == 0
    page = drgn.Object(prog, "struct page", address=m.memmap_address + f.pfn * m.sizeof_page)
    assert prog.read(page.address_of_().value_(), m.sizeof_page) == \
        m._kernel_read(m.memmap_address + f.pfn * m.sizeof_page, m.sizeof_page)
    f.put()                                 # reads are live: the count drops in drgn too
    assert folio._refcount.counter.value_() == f.refcount


def test_unmodeled_addresses_fault():
    m = memcore.Machine("64MiB")
    prog = mdrgn.program(m)
    with pytest.raises(drgn.FaultError):
        prog.read(0xFFFFFFFFFF000000, 8)


def test_missing_drgn_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "drgn", None)
    with pytest.raises(mdrgn.DrgnUnavailable, match=r"pip install 'memcore\[drgn\]'"):
        mdrgn.program(memcore.Machine("64MiB"))


@pytest.mark.parametrize("bits", [64, 32])
def test_drgn_mm_helpers_agree_with_the_model_on_classic(bits):
    """drgn's own helpers, written against real kernels, read the classic
    model as memcore does: pfn_to_page/page_to_pfn, decode_page_flags (the
    names dump_page() prints), PageSlab, PageCompound/PageHead/PageTail and
    compound_head, over every PFN of a machine with folios of several
    orders, page-cache folios, slabs and free memory."""
    from drgn.helpers.linux.mm import (PageCompound, PageHead, PageSlab, PageTail,
                                       compound_head, decode_page_flags, page_to_pfn,
                                       pfn_to_page)
    m, prog = _program(("classic", bits))
    mod = sys.modules[type(m).__module__]
    PG = memcore.pageflags("classic", bits).__members__
    a = m.address_space("f")
    for i, order in enumerate((0, 1, 2, 3, 0, 4)):
        f = m.alloc_folio(order)
        if i % 2:
            a.add_folio(i << 4, f)
            f.mark_uptodate()
            f.unlock()
    cache = m.kmem_cache_create("drgn-test", 192)
    objs = [m.kmem_cache_alloc(cache) for _ in range(100)]
    slab_pfns = {m.virt_to_slab(o.address).pfn for o in objs}
    checked = 0
    for pfn in range(m.nr_pfns):
        view = m.page(pfn)
        page = pfn_to_page(prog, pfn)
        assert page.value_() == m.memmap_address + pfn * m.sizeof_page
        assert page_to_pfn(page).value_() == pfn
        # drgn names every enumerator of a set bit, aliases included (PG_reported
        # and PG_movable_ops are PG_uptodate's bit, as on a real 6.18 kernel);
        # dump_page() prints pageflag_names[]'s one name: the bits must agree
        names = set(decode_page_flags(page).split("|")) - {"0"}
        assert {int(PG[n]) for n in names} == \
            {int(PG["PG_" + n]) for n in mod.format_flag_names(m, view.flags.word)}, pfn
        assert PageSlab(page) == (view.type_name == "slab"), pfn
        assert PageHead(page) == view.is_head and PageTail(page) == view.is_tail, pfn
        assert PageCompound(page) == (view.is_head or view.is_tail), pfn
        if view.is_tail:                    # the word is the head's address | 1
            assert compound_head(page).value_() == view.compound_head & ~1, pfn
        checked += 1
    assert checked == m.nr_pfns and slab_pfns
    assert any(PageSlab(pfn_to_page(prog, p)) for p in slab_pfns)
