"""memcore.drgn and memcore.vmcore: each variant's types in drgn are the
variant's layouts; a program over a live Machine, and a saved vmcore opened
as drgn opens a crash dump, let drgn's own Linux helpers (written against
real kernels) read the model, and they agree with memcore (skipped without
drgn; the test extra installs it)."""
import re
import subprocess
import sys

import pytest

import memcore
import memcore.vmcore as mvmcore
from conftest import ROOT, have_m32_gcc

drgn = pytest.importorskip("drgn")
import memcore.drgn as mdrgn  # noqa: E402
from drgn.helpers.linux.cpumask import for_each_online_cpu  # noqa: E402
from drgn.helpers.linux.mm import (PageCompound, PageHead, PageReserved,  # noqa: E402
                                   PageSlab, PageTail, compound_head, compound_nr,
                                   compound_order, decode_page_flags,
                                   for_each_valid_pfn_and_page, page_to_pfn, pfn_to_page)
from drgn.helpers.linux.mmzone import NODE_DATA  # noqa: E402
from drgn.helpers.linux.nodemask import for_each_online_node  # noqa: E402
from drgn.helpers.linux.percpu import per_cpu_ptr  # noqa: E402
from drgn.helpers.linux.slab import (find_containing_slab_cache, find_slab_cache,  # noqa: E402
                                     for_each_slab_cache, slab_cache_for_each_allocated_object,
                                     slab_cache_objects_per_slab, slab_cache_order,
                                     slab_cache_pages_per_slab, slab_cache_usage,
                                     slab_object_info)


def _need_types(bits):
    if bits == 32 and not have_m32_gcc():
        pytest.skip("gcc -m32 unavailable at build time: no 32-bit debugger types")


def _program(variant, ram="64MiB", **kw):
    design, bits = variant
    _need_types(bits)
    m = memcore.Machine(ram, design=design, bits=bits, **kw)
    return m, mdrgn.program(m)


def _open_vmcore(m, tmp_path):
    """m saved as a vmcore, opened as `drgn -c core -s types` opens it."""
    core, types = tmp_path / "m.core", tmp_path / "m.types"
    assert m.save_vmcore(core, types) == types
    prog = drgn.Program()
    prog.set_core_dump(str(core))
    prog.load_debug_info([str(types)])
    assert prog.flags & drgn.ProgramFlags.IS_LINUX_KERNEL
    assert prog.main_module().debug_file_path == str(types)
    return prog


# ---- types and memory ------------------------------------------------------------

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
    folio = drgn.Object(prog, "struct folio", address=f.pointer)
    assert folio._refcount.counter.value_() == f.refcount == 1 + f.nr_pages
    assert folio.mapping.value_() == a.pointer
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
    regions = m._debugger_regions()
    kimage_end = regions["symbols"]["slab_caches"] + regions["kimage_bytes"]
    with pytest.raises(drgn.FaultError):
        prog.read(kimage_end, 8)


def test_missing_drgn_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "drgn", None)
    with pytest.raises(mdrgn.DrgnUnavailable, match=r"pip install 'memcore\[drgn\]'"):
        mdrgn.program(memcore.Machine("64MiB"))


# ---- the kernel image's variables ---------------------------------------------------

def test_kernel_variables_describe_the_machine(variant):
    """nr_node_ids, nr_cpu_ids, max_pfn, node_data[], the online masks and
    __per_cpu_offset[] are the machine's, on every variant."""
    design, bits = variant
    nodes = 2 if bits == 64 else 1
    m, prog = _program(variant, ram="512MiB", nodes=nodes, cpus=3)
    assert prog["nr_node_ids"].value_() == m.nodes == nodes
    assert prog["nr_cpu_ids"].value_() == m.cpus == 3
    assert prog["max_pfn"].value_() == m.nr_pfns
    assert list(for_each_online_cpu(prog)) == [0, 1, 2]
    assert list(for_each_online_node(prog)) == list(range(nodes))
    for nid in range(nodes):
        pgdat = NODE_DATA(prog, nid)
        zones = [z for z in m.zones() if z["node"] == nid]
        assert pgdat.node_id.value_() == nid
        assert pgdat.node_start_pfn.value_() == min(z["start_pfn"] for z in zones)
        assert pgdat.node_present_pages.value_() == sum(z["present"] for z in zones)
    offsets = prog["__per_cpu_offset"]
    cache = m.kmem_cache("kmalloc-64")
    for cpu in range(m.cpus):               # per_cpu_ptr() lands on memcore's kmem_cache_cpu
        s = find_slab_cache(prog, "kmalloc-64")
        assert per_cpu_ptr(s.cpu_slab, cpu).value_() == s.cpu_slab.value_() + offsets[cpu].value_()
        active = cache.cpu_slab(cpu)
        assert per_cpu_ptr(s.cpu_slab, cpu).slab.value_() == (active.pointer if active else 0)
    # every cache's name and its place on slab_caches, newest first as the kernel keeps it
    assert [s.name.string_().decode() for s in for_each_slab_cache(prog)] == \
        [c.name for c in m.caches()]


def test_slab_caches_follow_create_and_destroy():
    m, prog = _program(("classic", 64))
    before = [c.name for c in m.caches()]
    c = m.kmem_cache_create("comes-and-goes", 40)
    assert find_slab_cache(prog, "comes-and-goes").value_() == c.pointer
    assert [s.name.string_().decode() for s in for_each_slab_cache(prog)][0] == "comes-and-goes"
    m.kmem_cache_destroy(c)
    assert find_slab_cache(prog, "comes-and-goes") is None
    assert [s.name.string_().decode() for s in for_each_slab_cache(prog)] == before


# ---- drgn's helpers agree with memcore (classic 64 and 32, live and saved) ------------

def _populate(m):
    made = mvmcore.populate(m)
    cache = made["cache"]
    live = {o.address for o in made["objects"]}
    return cache, live


def _agree(m, prog, cache, live):
    """Every check of issue 12's item 4 on one program over machine m."""
    mod = sys.modules[type(m).__module__]
    PG = memcore.pageflags("classic", m.bits).__members__
    walk = m.walk()
    slab_pages = reserved = in_range = 0
    beyond = 0
    for pfn, page in for_each_valid_pfn_and_page(prog):
        if pfn >= m.nr_pfns:                # the memmap's tail of the last section:
            assert PageReserved(page), pfn  # init_unavailable_range() reserves it
            beyond += 1
            continue
        in_range += 1
        view = m.page(pfn)
        assert page.value_() == pfn_to_page(prog, pfn).value_() == \
            m.memmap_address + pfn * m.sizeof_page
        assert page_to_pfn(page).value_() == pfn
        # drgn names every enumerator of a set bit, aliases included (PG_reported
        # and PG_movable_ops are PG_uptodate's bit, as on a real 6.18 kernel);
        # dump_page() prints pageflag_names[]'s one name: the bits must agree
        names = set(decode_page_flags(page).split("|")) - {"0"}
        assert {int(PG[n]) for n in names} == \
            {int(PG["PG_" + n]) for n in mod.format_flag_names(m, view.flags.word)}, pfn
        head = compound_head(page)
        assert PageHead(page) == view.is_head and PageTail(page) == view.is_tail, pfn
        assert PageCompound(page) == (view.is_head or view.is_tail), pfn
        if view.is_tail:                    # the word is the head's address | 1
            assert head.value_() == view.compound_head & ~1, pfn
        if PageSlab(head):                  # 6.18: the slab's type is on its first page
            slab_pages += 1
            assert view.type_name == "slab" or view.is_tail, pfn
        if PageReserved(page):
            reserved += 1
        folio = view.folio
        if folio is not None:
            assert mdrgn.page_folio(page).value_() == folio.pointer, pfn
            assert mdrgn.folio_order(mdrgn.page_folio(page)) == folio.order, pfn
            if view.is_head:
                assert compound_order(page).value_() == folio.order, pfn
                assert compound_nr(page).value_() == folio.nr_pages, pfn
    assert in_range == m.nr_pfns - walk["hole"]
    assert beyond == (-m.nr_pfns) % (1 << (prog["SECTION_SIZE_BITS"].value_() - 12))
    assert slab_pages == walk["slab"]
    assert reserved == walk["reserved"]

    # the caches: the list, each one's geometry, usage as /proc/slabinfo counts it
    views = {c.name: c for c in m.caches()}
    assert [s.name.string_().decode() for s in for_each_slab_cache(prog)] == list(views)
    slabinfo = {line.split()[0]: line.split() for line in m.slabinfo().splitlines()[2:]}
    for name, c in views.items():
        s = find_slab_cache(prog, name)
        assert s.value_() == c.pointer
        assert (s.size.value_(), s.object_size.value_(), s.offset.value_()) == \
            (c.size, c.object_size, c.offset)
        assert slab_cache_objects_per_slab(s) == c.objs_per_slab
        assert slab_cache_order(s) == c.order
        usage = slab_cache_usage(s)
        row = slabinfo[name]     # name active num objsize objperslab pagesperslab : ... slabdata act num
        assert usage.num_objs == int(row[2]) == c.total_objects, name
        assert s.size.value_() == int(row[3])
        assert slab_cache_objects_per_slab(s) == int(row[4])
        assert slab_cache_pages_per_slab(s) == int(row[5])
        assert usage.num_slabs == int(row[-2]) == c.slabs, name
        # drgn counts objects free on the CPU freelists as free; memcore too
        assert usage.num_objs - usage.free_objs == c.objects_inuse, name
        for cpu in range(m.cpus):
            active = c.cpu_slab(cpu)
            assert per_cpu_ptr(s.cpu_slab, cpu).slab.value_() == \
                (active.pointer if active is not None else 0), (name, cpu)

    # the objects: the same allocated set, and each one's cache.  These helpers
    # turn a struct page into its direct-map address, for which drgn walks
    # the page tables from swapper_pg_dir; drgn has no i386 page-table walker
    # (a real i386 kernel fails the same way), and the model has no page tables
    s = find_slab_cache(prog, cache.name)
    if m.bits == 32:
        with pytest.raises(Exception, match="could not find variable in direct mapping"):
            next(iter(slab_cache_for_each_allocated_object(s, "char")))
        return
    found = {o.value_() for o in slab_cache_for_each_allocated_object(s, "char")}
    assert found == live and len(live) == cache.objects_inuse
    for addr in sorted(live)[:10]:
        info = slab_object_info(prog, addr)
        assert info.slab_cache.value_() == cache.pointer and info.allocated
        assert find_containing_slab_cache(prog, addr).value_() == cache.pointer


@pytest.mark.parametrize("bits", [64, 32])
def test_drgn_helpers_agree_with_the_model_live(bits):
    m, prog = _program(("classic", bits))
    cache, live = _populate(m)
    _agree(m, prog, cache, live)


@pytest.mark.parametrize("bits", [64, 32])
def test_drgn_helpers_agree_with_the_model_from_a_saved_vmcore(bits, tmp_path):
    _need_types(bits)
    m = memcore.Machine("64MiB", bits=bits)
    cache, live = _populate(m)
    _agree(m, _open_vmcore(m, tmp_path), cache, live)


# ---- the drgn command line ---------------------------------------------------------

_CLI_SCRIPT = """
from drgn.helpers.linux.mm import decode_page_flags, pfn_to_page
import sys
for pfn in map(int, sys.argv[1:]):
    print(pfn, decode_page_flags(pfn_to_page(prog, pfn)))
"""


@pytest.mark.parametrize("bits", [64, 32])
def test_memcore_dump_opens_in_the_drgn_command_line(bits, tmp_path):
    """`memcore dump --vmcore` output opens with `drgn -c FILE -s TYPES` as a
    Linux kernel core, and decode_page_flags prints dump_page()'s names."""
    _need_types(bits)
    drgn_cli = [sys.executable, "-m", "drgn"]        # the drgn command, of this Python
    core = tmp_path / "m.core"
    out = subprocess.run([sys.executable, "-m", "memcore.cli", "dump", "--vmcore", str(core),
                          "--ram", "64MiB", "--bits", str(bits)],
                         capture_output=True, text=True, cwd=ROOT / "tests")
    assert out.returncode == 0, out.stderr
    assert f"drgn -c {core} -s {core}.types" in out.stdout
    # the same machine again (populate() is deterministic): its pages' dump_page() names
    m = memcore.Machine("64MiB", bits=bits)
    made = mvmcore.populate(m)
    pfns = [f.pfn for f in made["file"]] + [made["objects"][0].slab.pfn, 0, 300]
    script = tmp_path / "flags.py"
    script.write_text(_CLI_SCRIPT)
    run = subprocess.run([*drgn_cli, "-q", "-c", str(core), "-s", f"{core}.types", str(script),
                          *map(str, pfns)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    PG = memcore.pageflags("classic", bits).__members__
    lines = run.stdout.split("\n")
    for pfn, line in zip(pfns, lines):
        got = line.split()[1]
        dumped = re.search(r"flags: 0x[0-9a-f]+\(([^)]*)\)", m.page(pfn).dump())
        names = [n for n in dumped.group(1).split("|") if n and "=" not in n]   # not node=, zone=, ...
        drgn_names = set(got.split("|")) - {"0"}
        assert {f"PG_{n}" for n in names} <= drgn_names, (pfn, names, got)
        assert {int(PG[n]) for n in drgn_names} == {int(PG[f"PG_{n}"]) for n in names}, pfn


# ---- the memdesc designs --------------------------------------------------------------

def test_memdesc_helpers_follow_a_file_page_to_its_folio(variant, tmp_path):
    """On every design, live and from a saved vmcore: a page of a file folio
    -> its folio (descriptor on the memdesc designs, head page on classic),
    whose refcount and order are memcore's; on the memdesc designs the
    word's type is MEMDESC_TYPE_FILE."""
    design, bits = variant
    m, live = _program(variant)
    a = m.address_space("f")
    f = m.alloc_folio(3)
    a.add_folio(0, f)
    f.unlock()
    f.get()
    for prog, i in [(live, i) for i in (0, 1, 5, 7)] + [(_open_vmcore(m, tmp_path), 6)]:
        page = pfn_to_page(prog, f.pfn + i)    # mem_section and the memmap: every design
        folio = mdrgn.page_folio(page)
        assert folio.value_() == f.pointer
        assert folio._refcount.counter.value_() == f.refcount == 2 + f.nr_pages
        assert mdrgn.folio_order(folio) == f.order == 3
        if "memdesc" in [mb.path for mb in memcore.layout("page", design, bits)]:
            assert str(mdrgn.memdesc_type(page)).endswith("MEMDESC_TYPE_FILE")
            assert mdrgn.memdesc_descriptor(page).value_() == f.pointer
            assert mdrgn.page_memdesc(page).v.value_() == m.page(f.pfn + i).memdesc.word
        else:
            with pytest.raises(ValueError, match="no memdesc word"):
                mdrgn.page_memdesc(page)


def test_docs_session_is_current():
    """docs/DRGN.md's session is what tools/drgn_example.py gets now."""
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "drgn_example.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


_MEMDESC_SCRIPT = """
import sys
from drgn.helpers.linux.mm import pfn_to_page
from memcore.drgn import folio_order, memdesc_type, page_folio
for pfn in map(int, sys.argv[1:]):
    page = pfn_to_page(prog, pfn)
    folio = page_folio(page)
    print(pfn, memdesc_type(page).format_(type_name=False), hex(folio),
          folio._refcount.counter.value_(), folio_order(folio))
"""


@pytest.mark.parametrize("design", ["interim", "flags_memdesc", "memdesc"])
def test_a_drgn_script_follows_a_memdesc_dump_to_the_folio(design, tmp_path):
    """On each memdesc design, a script run by the drgn command line on a
    `memcore dump` follows the pages of a file folio to its descriptor and
    reads memcore's refcount and order there."""
    if design not in {d for d, _ in memcore.variants()}:
        pytest.skip(f"{design} not built")
    drgn_cli = [sys.executable, "-m", "drgn"]        # the drgn command, of this Python
    core = tmp_path / "m.core"
    out = subprocess.run([sys.executable, "-m", "memcore.cli", "dump", "--vmcore", str(core),
                          "--ram", "64MiB", "--design", design],
                         capture_output=True, text=True, cwd=ROOT / "tests")
    assert out.returncode == 0, out.stderr
    m = memcore.Machine("64MiB", design=design)
    f = mvmcore.populate(m)["file"][4]                  # the order-4 file folio
    pfns = [f.pfn, f.pfn + 1, f.pfn + f.nr_pages - 1]
    script = tmp_path / "follow.py"
    script.write_text(_MEMDESC_SCRIPT)
    run = subprocess.run([*drgn_cli, "-q", "-c", str(core), "-s", f"{core}.types", str(script),
                          *map(str, pfns)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for pfn, line in zip(pfns, run.stdout.splitlines()):
        assert line.split() == [str(pfn), "MEMDESC_TYPE_FILE", hex(f.pointer),
                                str(f.refcount), str(f.order)]
