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
