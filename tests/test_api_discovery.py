"""What a new user finds on their own (issue 13): help() shows the real API,
sizes are read one documented way, the flags CLI says what it does."""
import pydoc
import subprocess
import sys

import pytest

import memcore
from conftest import ROOT
from memcore.sizes import parse_size


def _doc(obj):
    return pydoc.render_doc(obj, renderer=pydoc.plaintext)


@pytest.mark.parametrize("facade, method, text", [
    (memcore.Machine, "alloc_folio", "Allocate a folio as folio_alloc() does"),
    (memcore.Machine, "kmem_cache_create", "kmem_cache_create(): a new cache"),
    (memcore.Machine, "save_vmcore", "kernel crash dump"),
    (memcore.Folio, "put", ""),
    (memcore.Folio, "lock", ""),
])
def test_help_lists_the_real_methods(facade, method, text):
    doc = _doc(facade)
    assert f"\n |  {method}(self" in doc, method
    impl = getattr(memcore._variants.module("classic", 64), facade.__name__)
    assert (getattr(facade, method).__doc__ or "") == (getattr(impl, method).__doc__ or "")
    assert getattr(impl, method).__doc__, f"{facade.__name__}.{method} has no docstring"
    assert text in doc


def test_help_memcore_is_a_short_guide():
    """help(memcore): the guide (what to import, where to read next) and the
    module's functions; the classes and exceptions have their own pages."""
    doc = _doc(memcore)
    lines = doc.splitlines()
    assert len(lines) < 250, len(lines)
    assert doc.index("Start here") < doc.index("FUNCTIONS")
    for pointer in ("memcore.Machine", "memcore.Folio", "memcore.errors", "docs/API.md",
                    "memcore --help"):
        assert pointer in doc, pointer
    assert "Methods inherited from" not in doc          # no exception pages inline
    # every public class is still importable from memcore and typed as re-exported
    for name in ("Machine", "Folio", "Page", "PgFlags", "VMBug", "MemcoreError", "Address",
                 "Layout", "FlagsConfig", "ConfigError"):
        assert isinstance(getattr(memcore, name), type), name
    init = (ROOT / "memcore" / "__init__.py").read_text()
    for name in ("Machine", "VMBug", "Address", "Layout"):
        assert f"import {name} as {name}\n" in init, name
    # the guide's example runs
    import textwrap
    block = memcore.__doc__.split("Start here::", 1)[1].split("Where to read next", 1)[0]
    code = textwrap.dedent(block)
    exec(compile(code.replace("print(", "str("), "<help(memcore)>", "exec"), {"memcore": memcore})


@pytest.mark.parametrize("facade, prop", [
    (memcore.Folio, "order"), (memcore.Folio, "refcount"), (memcore.Folio, "node"),
    (memcore.Folio, "nr_pages"), (memcore.Page, "refcount"), (memcore.Page, "zone"),
    (memcore.Machine, "nodes"), (memcore.Machine, "bits"), (memcore.Machine, "rcu"),
])
def test_properties_have_docstrings(facade, prop):
    assert isinstance(vars(facade)[prop], property)
    assert (vars(facade)[prop].__doc__ or "").strip(), f"{facade.__name__}.{prop}"


def test_facade_methods_call_the_instance():
    m = memcore.Machine("64MiB")
    f = memcore.Machine.alloc_folio(m, 1)
    assert isinstance(f, memcore.Folio) and memcore.Folio.order.fget(f) == 1
    assert isinstance(m, memcore.Machine) and not isinstance(f, memcore.Machine)


@pytest.mark.parametrize("text, value", [
    ("4GiB", 4 << 30), ("4G", 4 << 30), ("4g", 4 << 30), ("512MiB", 512 << 20),
    ("1.5G", 3 << 29), ("64K", 64 << 10), ("100B", 100), ("4096", 4096), (" 2 TiB ", 2 << 40),
])
def test_sizes_are_binary(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text, fix", [
    ("4GB", "write 4GiB or 4G"), ("4000MB", "write 4000MiB or 4000M"), ("8kB", "8KiB"),
])
def test_decimal_units_are_refused_with_the_fix(text, fix):
    with pytest.raises(ValueError, match="memparse") as e:
        memcore.Machine(text)
    assert fix in str(e.value)


def test_bad_sizes_name_the_problem():
    with pytest.raises(ValueError, match="unknown unit"):
        parse_size("4X")
    with pytest.raises(ValueError, match="whole number of bytes"):
        parse_size("0.3")
    with pytest.raises(TypeError):
        parse_size(1.5)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "memcore.cli", *args], capture_output=True,
                          text=True, cwd=ROOT / "tests")


def test_layout_flags_compare_draws_every_canonical_configuration():
    out = _cli("layout", "flags", "--compare")
    assert out.returncode == 0
    assert "page->flags on x86_64 (64-bit)" in out.stdout
    assert "page->flags on i386 (32-bit)" in out.stdout
    js = _cli("layout", "flags", "--compare", "--json")
    assert js.returncode == 0 and js.stdout.lstrip().startswith("[")


@pytest.mark.parametrize("args, message", [
    (("--bits", "32", "--config", "x86_64"), "--config x86_64 is a 64-bit configuration, "
                                            "not --bits 32"),
    (("--compare", "--bits", "32"), "drop --config/--bits"),
])
def test_layout_flags_contradictions_are_errors(args, message):
    out = _cli("layout", "flags", *args)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_layout_flags_bits_picks_the_canonical_configuration():
    out = _cli("layout", "flags", "--bits", "32")
    assert out.returncode == 0 and out.stdout.startswith("page->flags on i386 (32-bit)")


# ---- layouts: holes, aliases, diff ------------------------------------------------------

def test_holes_are_the_ones_pahole_prints():
    """Layout.holes() are pahole's "XXX n bytes hole" comments, in order,
    on every variant, and padding its tail padding."""
    import re
    for design, bits in memcore.layout_variants():
        for name in memcore.struct_names(design, bits):
            lay = memcore.layout(name, design, bits)
            text = lay.pahole()
            printed = [int(n) for n in re.findall(r"XXX (\d+) bytes? hole", text)]
            assert [h.size for h in lay.holes()] == printed, (design, bits, name)
            pad = re.search(r"/\* padding: (\d+) \*/", text)
            assert lay.padding == (int(pad.group(1)) if pad else 0), (design, bits, name)
    folio = memcore.layout("folio", "memdesc", 64)
    first = folio.holes()[0]
    assert (first.offset, first.size, first.after) == \
        (folio["_order"].offset + 1, 3, "_order")


def test_kernel_macro_names_find_members_and_typos_get_suggestions():
    page = memcore.layout("page")
    assert page["rcu_head"] == page["callback_head"] and "rcu_head" in page
    with pytest.raises(KeyError, match=r"did you mean '_refcount'"):
        page["refcnt"]
    with pytest.raises(KeyError, match=r"has no member 'nothing_like_it'\"?$"):
        page["nothing_like_it"]


def test_diff_marks_members_that_move_grow_and_vanish():
    from memcore.layout import diff
    rows = {r["path"]: r for r in diff(memcore.layout("page", "classic", 32),
                                       memcore.layout("page", "classic", 64))}
    assert rows["flags"]["change"] == "grows"
    assert rows["mapping"]["change"] == "moves, grows"
    assert rows["_refcount"]["a"]["size"] == rows["_refcount"]["b"]["size"] == 4
    cross = {r["path"]: r["change"] for r in diff(memcore.layout("folio", "classic", 64),
                                                  memcore.layout("folio", "memdesc", 64))}
    assert cross["_order"] == "new" and cross["_flags_1"] != "new"
    assert "vanishes" in cross.values()


def test_layout_diff_command():
    out = _cli("layout", "page", "--diff", "--bits", "32", "--bits", "64")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("struct page: classic 32-bit (")
    assert any(line.split()[0] == "mapping" and line.endswith("moves, grows")
               for line in out.stdout.splitlines()[3:])
    js = _cli("layout", "folio", "--diff", "--design", "classic", "--design", "memdesc",
              "--json")
    assert js.returncode == 0 and '"change": "new"' in js.stdout
    for bad in (["page", "--diff"], ["page", "--bits", "32", "--bits", "64"],
                ["page", "folio", "--diff", "--bits", "32", "--bits", "64"]):
        res = _cli("layout", *bad)
        assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr, bad


def test_api_page_is_current():
    """docs/API.md is what tools/api_doc.py makes of the docstrings now."""
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "api_doc.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    text = (ROOT / "docs" / "API.md").read_text()
    for heading in ("## Machine", "## Views", "## SLUB and RCU", "## KASAN", "## Errors",
                    "## The command line", "### memcore dump"):
        assert f"\n{heading}\n" in text, heading
    assert "(docs/API.md)" in (ROOT / "README.md").read_text()


# ---- item 8: reads of a freed folio work and say it is free -----------------------------

@pytest.mark.parametrize("design", ["classic", "interim", "flags_memdesc", "memdesc"])
@pytest.mark.parametrize("bits", [64, 32])
def test_freed_folio_reads_say_free(design, bits):
    m = memcore.Machine("64MiB", design=design, bits=bits)
    f = m.alloc_folio(order=2)
    pfn, zone, node = f.pfn, f.zone, f.node
    assert not f.freed and f.refcount == 1
    assert f.put() is True
    assert f.freed
    assert (f.pfn, f.order, f.nr_pages, f.size) == (pfn, 2, 4, 4 * 4096)
    assert f.refcount == 0
    assert (f.zone, f.node) == (zone, node)
    assert repr(f) == f"<Folio pfn {pfn:#x} order 2 (freed)>"
    text = f.dump()
    assert f"pfn:{pfn:#x}" in text and "refcount:0" in text
    # what needs a live folio still refuses, naming why
    for op in (lambda: f.flags, lambda: f.mapcount, lambda: f.get(), lambda: f.page(1),
               lambda: f.lock()):
        with pytest.raises(memcore.VMBug, match="freed"):
            op()


def test_freed_folio_view_of_reused_memory_keeps_its_own_story():
    m = memcore.Machine("64MiB")
    f = m.alloc_folio(order=0)
    pfn = f.pfn
    f.put()
    m.drain_pcp()
    g = m.alloc_folio(order=0)
    while g.pfn != pfn:                       # take pages until the old PFN comes back
        g = m.alloc_folio(order=0)
    assert f.freed and not g.freed
    assert f.refcount == 0 and g.refcount == 1
    assert repr(f).endswith("(freed)>") and not repr(g).endswith("(freed)>")


# ---- item 9: addresses print in hex; one name per meaning ---------------------------------

def test_addresses_print_in_hex_and_stay_ints():
    m = memcore.Machine("64MiB")
    f = m.alloc_folio()
    for a in (f.pointer, m.page(f.pfn).pointer, f.flags.pointer, m.pfn_to_page(f.pfn),
              m.folio_address(f), m.pfn_to_virt(0), m.page_offset, m.memmap_address):
        assert isinstance(a, memcore.Address) and isinstance(a, int)
        assert repr(a) == str(a) == f"{a}" == hex(a)
        assert json_roundtrip(a) == int(a)
    assert f.pointer == m.pfn_to_page(f.pfn) or m.design != "classic"
    assert m.folio_address(f) == m.page_offset + f.pfn * 4096
    obj = m.kmalloc(64)
    assert repr(obj.address) == hex(obj.address)
    assert f"{obj.address:#x}" in repr(obj)


def json_roundtrip(value):
    import json
    return json.loads(json.dumps(value))


def test_waiting_on_is_a_hex_address():
    m = memcore.Machine("64MiB")
    a, b = m.task("a"), m.task("b")
    f = m.alloc_folio()
    assert f.lock(task=a) is True
    assert f.lock(task=b) is False
    assert isinstance(b.waiting_on, memcore.Address)
    assert b.waiting_on == f.flags.pointer
    assert repr(b.waiting_on) == hex(f.flags.pointer)
    assert hex(f.flags.pointer) in repr(b)


def test_no_duplicate_or_misleading_address_names():
    for facade in (memcore.Page, memcore.Folio, memcore.PgFlags, memcore.Slab,
                   memcore.KmemCache, memcore.AddressSpace):
        names = dir(facade)
        assert "pointer" in names and "address" not in names and "addr" not in names, facade
    assert "address" in dir(memcore.SlabObject) and "addr" not in dir(memcore.SlabObject)
    assert "address_of_memory" not in dir(memcore.Folio)
    m = memcore.Machine("64MiB")
    f = m.alloc_folio()
    for view in (f, m.page(f.pfn), f.flags, m.kmalloc(8)):
        with pytest.raises(AttributeError):
            view.addr


# ---- item 11: a tail page's flags word decoded with the names valid for it ----------------

@pytest.mark.parametrize("design", ["classic", "interim", "flags_memdesc", "memdesc"])
def test_second_page_flags_decode_with_second_page_names(design):
    m = memcore.Machine("64MiB", design=design)
    f = m.alloc_folio(order=3)
    w1 = f.page(1).flags
    head = f.flags
    assert not head.second_page
    if not w1.second_page:
        # this design keeps _flags_1 in the folio descriptor, not in page 1's word
        assert design != "classic"
        assert not any(n.startswith("order=") for n in w1.names())
        return
    names = w1.names()
    assert names[0] == "order=3"
    assert "locked" not in names and "waiters" not in names
    # folio_alloc() makes large folios rmappable: PG_workingset's bit in this word
    assert f.test_large_rmappable()
    assert "large_rmappable" in names and "workingset" not in names
    assert str(w1).startswith(f"{w1.word:#x}(order=3|large_rmappable|")
    f.set_partially_mapped()
    assert "partially_mapped" in w1.names() and "reclaim" not in w1.names()
    # the third page's word is an ordinary tail word
    assert not f.page(2).flags.second_page
