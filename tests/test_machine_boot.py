"""memcore.Machine: construction, zones, the memmap's flags words, reserved
memory, metadata accounting, host memory, NUMA nodes, and the boot-time
tuning (watermarks, lowmem reserves, pcp limits) against the kernel's numbers."""
from __future__ import annotations


import pytest

import memcore
from memcore import _variants
from memcore.sizes import parse_size

import kfacts as K
from conftest import only_bits

MiB = 1 << 20
GiB = 1 << 30


# ---- construction -------------------------------------------------------------------

@pytest.mark.parametrize("ram, nbytes", [
    (256 * MiB, 256 * MiB), ("256MiB", 256 * MiB), ("512MiB", 512 * MiB),
    ("0.25GiB", 256 * MiB), ("64M", 64 * MiB), ("33554432", 32 * MiB),
    (40 * MiB + 4096, 40 * MiB + 4096),
])
def test_ram_as_int_and_string(variant, machine, ram, nbytes):
    m = machine(ram=ram)
    assert m.ram == nbytes
    assert m.nr_pfns == nbytes // K.PAGE_SIZE
    assert m.stats()["nr_pfns"] == nbytes // K.PAGE_SIZE
    assert (m.design, m.bits) == variant
    assert m.config == ("x86_64" if m.bits == 64 else "i386")
    assert isinstance(m, memcore.Machine)


def test_default_is_4gib_classic64():
    m = memcore.Machine()
    assert (m.ram, m.bits, m.design, m.config, m.nodes, m.cpus) == (4 * GiB, 64, "classic",
                                                                   "x86_64", 1, 2)


@pytest.mark.parametrize("kw, exc, words", [
    (dict(ram="lots"), ValueError, ["'lots'"]),
    (dict(ram="12 parsecs"), ValueError, ["parsecs"]),
    (dict(ram=16 * MiB), ValueError, ["too small", "32 MiB"]),
    (dict(ram=0), ValueError, ["too small"]),
    (dict(ram=-(64 * MiB)), ValueError, ["too small"]),
    (dict(ram=64 * MiB + 100), ValueError, ["page size"]),
    (dict(ram=None), TypeError, ["ram"]),
    (dict(ram=1.5e9), TypeError, ["ram"]),
    (dict(ram=True), TypeError, ["ram"]),
    (dict(nodes=0), ValueError, ["nodes"]),
    (dict(nodes="2"), ValueError, ["nodes"]),
    (dict(cpus=0), ValueError, ["cpus"]),
    (dict(cpus=100000), ValueError, ["cpus"]),
])
def test_bad_geometry_raises_clearly(machine, kw, exc, words):
    kw.setdefault("ram", "128MiB")
    with pytest.raises(exc) as ei:
        machine(**kw)
    for w in words:
        assert w in str(ei.value)


@only_bits(32)
def test_ram_too_large_for_32bit(machine):
    with pytest.raises(ValueError, match="too large"):
        machine(ram="5GiB")


def test_nodes_need_room(machine, variant):
    if variant[1] == 32:
        # NODES_SHIFT 0 on i386: one node only
        with pytest.raises(ValueError, match="nodes"):
            machine(ram="512MiB", nodes=2)
    else:
        # a node needs at least one 128 MiB section
        with pytest.raises(ValueError, match="section"):
            machine(ram="128MiB", nodes=2)


@pytest.mark.parametrize("kw, what, valid", [
    (dict(design="memdesc9"), "design", "classic"),
    (dict(bits=16), "word size", "64"),
    (dict(bits="64"), "word size", "32"),
])
def test_unknown_choice_lists_valid_choices(kw, what, valid):
    args = dict(ram="64MiB")
    args.update(kw)
    with pytest.raises(memcore.UnknownChoice) as ei:
        memcore.Machine(**args)
    e = ei.value
    assert isinstance(e, ValueError) and isinstance(e, memcore.MemcoreError)
    assert what in str(e) and valid in str(e)
    assert valid in [str(v) for v in e.valid]


def test_unknown_config(variant, machine):
    with pytest.raises(memcore.UnknownChoice) as ei:
        machine(config="arm64")
    canonical = "x86_64" if variant[1] == 64 else "i386"
    assert "arm64" in str(ei.value) and canonical in ei.value.valid
    # the canonical name is accepted explicitly
    assert machine(config=canonical).config == canonical


# ---- zones ----------------------------------------------------------------------------

@pytest.mark.parametrize("ram_by_bits", [
    {64: 64 * MiB, 32: 64 * MiB},
    {64: 5 * GiB, 32: 1 * GiB},
])
def test_zones_as_the_canonical_config_defines_them(variant, machine, ram_by_bits):
    bits = variant[1]
    m = machine(ram=ram_by_bits[bits])
    spans = K.zone_spans(bits, m.nr_pfns)
    got = {z["zone"]: (z["start_pfn"], z["start_pfn"] + z["spanned"]) for z in m.zones()}
    assert got == spans
    ram = [(s // K.PAGE_SIZE, e // K.PAGE_SIZE) for s, e in m.ram_ranges]
    for z in m.zones():
        lo, hi = z["start_pfn"], z["start_pfn"] + z["spanned"]
        # present: the zone's span less the holes (a size over 3 GiB on x86_64
        # leaves the PCI hole [3 GiB, 4 GiB) in DMA32)
        assert z["present"] == sum(max(0, min(e, hi) - max(s, lo)) for s, e in ram)
        assert z["managed"] <= z["present"]
    # every page's zone field agrees, at the zone boundaries too
    for name, (lo, hi) in spans.items():
        for pfn in {lo, hi - 1, (lo + hi) // 2}:
            if not any(s <= pfn < e for s, e in ram):
                continue                            # the PCI hole: no struct page
            assert m.page(pfn).zone == name
            assert m.page(pfn).flags.zone == name
            shift, width = K.FLAG_FIELDS[bits]["ZONES"]
            assert (K.flags_word(m, pfn) >> shift) & ((1 << width) - 1) == \
                K.ZONES[bits].index(name)


def test_flags_layout_is_the_kernels(variant, machine):
    bits = variant[1]
    fl = memcore.flags_layout("x86_64" if bits == 64 else "i386")
    for field, (shift, width) in K.FLAG_FIELDS[bits].items():
        assert fl.width(field) == width, field
        if width:
            assert fl.shift(field) == shift, field
    m = machine(ram="64MiB")
    assert m.flags_layout.fields == fl.fields


def test_every_page_flags_word_has_zone_node_section(variant, machine):
    bits = variant[1]
    m = machine(ram="48MiB")
    fl = memcore.flags_layout(m.config)
    zs, zw = fl.shift("ZONES"), fl.width("ZONES")
    section_shift = K.SECTION_SIZE_BITS[bits] - K.PAGE_SHIFT
    for pfn in range(m.nr_pfns):
        word = K.flags_word(m, pfn)
        zone = K.ZONES[bits].index(K.expected_zone(bits, pfn))
        assert (word >> zs) & ((1 << zw) - 1) == zone, pfn
        if fl.width("NODES"):
            assert (word >> fl.shift("NODES")) & ((1 << fl.width("NODES")) - 1) == 0
        if fl.width("SECTIONS"):
            assert (word >> fl.shift("SECTIONS")) & ((1 << fl.width("SECTIONS")) - 1) == \
                pfn >> section_shift
        if fl.width("LAST_CPUPID"):
            # page_cpupid_reset_last(): all ones
            assert (word >> fl.shift("LAST_CPUPID")) & 0xFFFF == 0xFFFF
    # the PgFlags accessors agree with the raw word, on a sample
    for pfn in range(0, m.nr_pfns, 997):
        f = m.page(pfn).flags
        word = K.flags_word(m, pfn)
        assert f.word == word
        assert f.zone == K.expected_zone(bits, pfn)
        assert f.field("ZONES") == (word >> zs) & ((1 << zw) - 1)
        assert f.node == 0
        if bits == 32:
            assert f.section == pfn >> section_shift
            assert f.last_cpupid is None
        else:
            assert f.section is None
            assert f.last_cpupid == 0xFFFF


@only_bits(32)
def test_section_field_on_a_2gib_i386(machine):
    m = machine(ram="2GiB")
    pps = K.PAGES_PER_SECTION[32]
    for sec in range(4):
        for pfn in (sec * pps, sec * pps + pps - 1):
            assert m.page(pfn).flags.section == sec
            assert (K.flags_word(m, pfn) >> 25) & 0x7F == sec


@only_bits(64)
def test_two_nodes_node_field(machine):
    m = machine(ram="512MiB", nodes=2, cpus=2)
    assert m.nodes == 2
    half = m.nr_pfns // 2
    nodes_of = {(z["node"], z["zone"]): (z["start_pfn"], z["spanned"]) for z in m.zones()}
    assert nodes_of[(1, "DMA32")] == (half, half)
    assert nodes_of[(0, "DMA32")] == (K.MAX_DMA_PFN, half - K.MAX_DMA_PFN)
    for pfn in list(range(0, m.nr_pfns, 509)) + [half - 1, half, m.nr_pfns - 1]:
        want = 0 if pfn < half else 1
        assert (K.flags_word(m, pfn) >> 54) & 0x3FF == want, pfn
        assert m.page(pfn).flags.node == want
        assert m.page(pfn).node == want
    # each node holds its own boot metadata: node 1's top pages are reserved on node 1
    assert m.page(m.nr_pfns - 1).flags.test("reserved")
    assert m.page(half - 1).flags.test("reserved")
    m.check()
    # allocations on a CPU go to its node first
    t0, t1 = m.task("n0", cpu=0), m.task("n1", cpu=1)
    assert m.alloc_folio(task=t0).node == 0
    assert m.alloc_folio(task=t1).node == 1
    assert m.alloc_folio(node=1).node == 1
    m.check()


# ---- reserved memory, accounting -------------------------------------------------------

def _reserved_runs(m):
    bit = 1 << K.pg_bits(m.bits)["reserved"]
    runs, start = [], None
    for pfn in range(m.nr_pfns + 1):
        r = pfn < m.nr_pfns and K.flags_word(m, pfn) & bit
        if r and start is None:
            start = pfn
        elif not r and start is not None:
            runs.append((start, pfn))
            start = None
    return runs


@pytest.mark.parametrize("ram", ["64MiB", "200MiB"])
def test_reserved_pages(variant, machine, ram):
    bits = variant[1]
    m = machine(ram=ram)
    st = m.stats()
    meta = st["metadata_bytes"]
    # everything memblock hands out at boot: memmap, node data, pageblock bitmaps,
    # per-CPU lists (and whatever later issues add); not the firmware MiB itself,
    # nor the memmap of PFNs past the end of RAM, nor the host-side figure
    kinds = [k for k in meta if k not in ("firmware", "unavailable", "memmap_host")]
    assert {"memmap", "pglist_data", "pageblock_flags", "per_cpu_pages"} <= set(kinds)
    boot_meta = sum(meta[k] for k in kinds)
    runs = _reserved_runs(m)
    # the first MiB, and the boot allocations top-down from the end of (low) memory
    top_end = m.nr_pfns if bits == 64 else min(m.nr_pfns, K.LOWMEM_PFNS_I386)
    assert runs[0] == (0, K.FIRMWARE_PFNS)
    assert len(runs) == 2 and runs[1][1] == top_end
    top_pages = runs[1][1] - runs[1][0]
    assert boot_meta <= top_pages * K.PAGE_SIZE < boot_meta + K.PAGE_SIZE * len(kinds)
    # the memmap itself is inside the reserved top run
    if bits == 32:
        lo = (m.memmap_address - K.PAGE_OFFSET[32]) >> K.PAGE_SHIFT
        assert runs[1][0] <= lo and lo + meta["memmap"] // K.PAGE_SIZE <= runs[1][1]
    # reserved pages: PG_reserved, refcount 1, no type, no folio
    nres = sum(b - a for a, b in runs)
    for a, b in runs:
        for pfn in (a, b - 1, (a + b) // 2):
            p = m.page(pfn)
            assert p.refcount == 1 and p.type_name is None and p.folio is None
    assert st["reserved_pages"] == nres
    assert m.walk()["reserved"] == nres
    assert sum(z["managed"] for z in m.zones()) + nres == m.nr_pfns


@pytest.mark.classic_overlay
@pytest.mark.parametrize("ram", ["64MiB", "200MiB"])
def test_reserved_struct_pages(machine, ram):
    """reserve_bootmem_region() -> init_reserved_page(): the struct page itself holds
    refcount 1 and page_type UINT_MAX (no type)."""
    m = machine(ram=ram)
    for a, b in _reserved_runs(m):
        for pfn in (a, b - 1, (a + b) // 2):
            assert K.page_field(m, pfn, "_refcount", signed=True) == 1 == m.page(pfn).refcount
            assert K.page_field(m, pfn, "page_type") == K.PAGE_TYPE_NONE == m.page(pfn).page_type


@pytest.mark.parametrize("ram", ["64MiB", "200MiB", "512MiB", "1GiB"])
def test_metadata_bytes(variant, machine, ram):
    bits = variant[1]
    m = machine(ram=ram)
    pps = K.PAGES_PER_SECTION[bits]
    sections = -(-m.nr_pfns // pps)
    memmap = sections * pps * K.sizeof_page(m)
    meta = m.stats()["metadata_bytes"]
    # x86_64 maps the vmemmap with 2 MiB PMDs: memblock gives whole ones (a
    # struct page under 64 bytes leaves a section's memmap short of one)
    pmd = 2 << 20
    assert meta["memmap"] == (-(-memmap // pmd) * pmd if bits == 64 else memmap)
    assert meta["memmap_host"] == memmap
    assert meta["firmware"] == K.FIRMWARE_PFNS * K.PAGE_SIZE
    assert meta["unavailable"] == (sections * pps - m.nr_pfns) * K.sizeof_page(m)
    # one pageblock flag byte per pageblock of each zone
    blocks = sum(-(-z["spanned"] // 512) for z in m.zones())
    assert meta["pageblock_flags"] >= blocks
    assert m.stats()["sizeof_page"] == K.sizeof_page(m) == m.sizeof_page
    assert m.stats()["sizeof_folio"] == K.layout(m, "folio").size


@pytest.mark.parametrize("ram", ["64MiB", "1GiB"])
def test_check_passes_and_counts_add_up_after_boot(machine, ram):
    m = machine(ram=ram)
    assert m.check() is True
    walk = m.walk()
    st = m.stats()
    assert sum(walk.values()) == m.nr_pfns
    assert st["pages"] == walk
    assert walk["folio"] == 0                                  # nobody allocated folios
    pcp = sum(z["pcp"] for z in st["zones"])
    assert walk["refcount_zero"] == pcp                        # nothing frozen
    free = sum(z["free"] for z in st["zones"])
    assert walk["free_buddy"] == free
    in_use = sum(walk[k] for k in ("folio", "slab", "pgtable", "large_kmalloc", "other_type"))
    assert sum(z["managed"] for z in st["zones"]) == free + pcp + in_use
    pristine = in_use == 0 and pcp == 0
    blocks = {(z["node"], z["zone"]): z["nr_free_pages_blocks"] for z in m.zones()}
    for z in st["zones"]:
        assert z["free"] == sum(n << o for o, n in enumerate(z["nr_free"]))
        # NR_FREE_PAGES_BLOCKS: free pages in blocks of pageblock order or more
        assert blocks[(z["node"], z["zone"])] == \
            sum(n << o for o, n in enumerate(z["nr_free"]) if o >= K.PAGEBLOCK_ORDER)
        fa = z["free_area"]
        assert [sum(fa[t][o] for t in fa) for o in range(11)] == z["nr_free"]
        if pristine:
            # boot frees everything as MOVABLE pageblocks
            assert z["managed"] == z["free"]
            assert all(n == 0 for t in fa if t != "Movable" for n in fa[t])
    # the free blocks the memmap shows are the ones the free lists count
    heads = K.free_blocks_from_memmap(m)
    for z in st["zones"]:
        for o, n in enumerate(z["nr_free"]):
            assert heads.get((z["zone"], o), 0) == n, (z["zone"], o)
    assert st["pgalloc"] >= in_use                   # PGALLOC: pages handed out
    if pristine:
        # __free_pages_core() -> __free_pages_ok() -> free_one_page() counts PGFREE
        # (mm/page_alloc.c), so boot's memblock_free_all() shows in pgfree
        assert st["pgalloc"] == 0
        assert st["pgfree"] == sum(z["managed"] for z in st["zones"])


def test_modeled_addresses(variant, machine):
    bits = variant[1]
    m = machine(ram="64MiB")
    if bits == 64:
        assert m.memmap_address == K.VMEMMAP_START
    else:
        assert K.PAGE_OFFSET[32] <= m.memmap_address < K.PAGE_OFFSET[32] + (896 << 20)
        assert m.memmap_address % K.PAGE_SIZE == 0
    assert m.page_offset == K.PAGE_OFFSET[bits]
    for pfn in (0, 1, 4095, m.nr_pfns - 1):
        addr = K.page_address(m, pfn)
        assert addr < 1 << bits
        assert m.pfn_to_page(pfn) == addr == m.page(pfn).pointer
        assert m.page_to_pfn(addr) == pfn
        assert m.pfn_to_virt(pfn) == K.PAGE_OFFSET[bits] + pfn * K.PAGE_SIZE
    with pytest.raises(memcore.InvalidAddress):
        m.page_to_pfn(K.page_address(m, 3) + 1)
    with pytest.raises(memcore.InvalidAddress):
        m.page_to_pfn(1 << bits)


# ---- big machines -----------------------------------------------------------------------

def _vmrss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


@pytest.mark.skipif(_mem_available_kib() < 4 << 20, reason="needs 4 GiB of free host memory")
@only_bits(64)
def test_64gib_machine_costs_memmap_not_ram(machine):
    before = _vmrss_kib()
    m = machine(ram=[(0, 64 * GiB)])          # one range: no PCI hole to account for
    grown = (_vmrss_kib() - before) << 10
    memmap = 64 * GiB // K.PAGE_SIZE * K.sizeof_page(m)        # 1 GiB of classic struct page
    assert m.stats()["metadata_bytes"]["memmap_host"] == memmap
    assert grown < memmap + 256 * MiB, f"host RSS grew by {grown >> 20} MiB"
    assert sum(m.walk().values()) == m.nr_pfns == 64 * GiB // K.PAGE_SIZE
    z = {z["zone"]: z for z in m.zones()}
    assert z["Normal"]["start_pfn"] == K.MAX_DMA32_PFN
    f = m.alloc_folio(order=10)
    assert f.zone == "Normal" and f.put()
    del m


@only_bits(32)
def test_i386_supports_2gib(machine):
    m = machine(ram="2GiB")
    assert m.nr_pfns == 2 * GiB // K.PAGE_SIZE
    spans = {z["zone"]: (z["start_pfn"], z["start_pfn"] + z["spanned"]) for z in m.zones()}
    assert spans == {"DMA": (0, 4096), "Normal": (4096, K.LOWMEM_PFNS_I386),
                     "HighMem": (K.LOWMEM_PFNS_I386, m.nr_pfns)}
    m.check()
    hi = m.alloc_folio(zone="HighMem")
    assert hi.zone == "HighMem" and hi.pfn >= K.LOWMEM_PFNS_I386
    assert hi.machine.folio_address(hi) is None                 # no direct map for highmem
    assert m.pfn_to_virt(m.nr_pfns - 1) is None
    lo = m.alloc_folio(movable=False)
    assert lo.zone == "Normal"
    assert lo.machine.folio_address(lo) == K.PAGE_OFFSET[32] + lo.pfn * K.PAGE_SIZE
    assert lo.machine.folio_address(lo) < 1 << 32
    assert hi.put() and lo.put()
    m.check()


# ---- boot-time tuning ----------------------------------------------------------------

@only_bits(64)
def test_zone_tuning_reproduces_reference_zoneinfo(variant):
    sysctl, cpus, zones = K.parse_zoneinfo()
    assert [z["zone"] for z in zones] == list(K.ZONES[64])
    managed = [z["managed"] for z in zones]
    got = _variants.module(*variant)._zone_tuning(managed, int(sysctl["vm.min_free_kbytes"]),
                                                  int(sysctl["vm.watermark_scale_factor"]),
                                                  cpus)
    assert [g["zone"] for g in got] == list(K.ZONES[64])
    for want, have in zip(zones, got):
        for key in ("managed", "min", "low", "high", "promo", "protection"):
            assert have[key] == want[key], (want["zone"], key)
        if want["pagesets"]:
            for ps in want["pagesets"]:
                for key in ("batch", "high_min", "high_max"):
                    assert have[key] == ps[key], (want["zone"], key)
        else:
            assert have["batch"] is None


@only_bits(32)
def test_zone_tuning_i386_zones(variant):
    # the same formulas with HIGHMEM: its min watermark is clamp(managed/1024, 32, 128)
    managed = [3840, 220158, 294912, 0]
    got = {g["zone"]: g for g in _variants.module(*variant)._zone_tuning(managed, 45000, 10, 2)}
    _, want = K.kernel_tuning(32, [managed], [2], min_free_kbytes=45000)
    for name in ("DMA", "Normal", "HighMem"):
        for key in ("min", "low", "high", "promo", "protection", "batch", "high_min",
                    "high_max"):
            assert got[name][key] == want[(0, name)][key], (name, key)
    assert got["HighMem"]["min"] == 128


@pytest.mark.parametrize("ram, kw", [
    ("64MiB", {}), ("512MiB", {}), ("1GiB", dict(cpus=4)),
    ("256MiB", dict(min_free_kbytes=8192)), ("256MiB", dict(watermark_scale_factor=200)),
])
def test_booted_tuning_follows_the_kernel_formulas(variant, machine, ram, kw):
    bits = variant[1]
    m = machine(ram=ram, **kw)
    names = K.ZONES[bits]
    managed = [0] * len(names)
    for z in m.zones():
        managed[names.index(z["zone"])] = z["managed"]
    mfk, want = K.kernel_tuning(bits, [managed], [m.cpus],
                                min_free_kbytes=kw.get("min_free_kbytes"),
                                watermark_scale_factor=kw.get("watermark_scale_factor", 10))
    assert m.min_free_kbytes == mfk == m.stats()["min_free_kbytes"]
    for z in m.zones():
        w = want[(0, z["zone"])]
        for key in ("min", "low", "high", "promo", "protection"):
            assert z[key] == w[key], (z["zone"], key)
        assert len(z["pagesets"]) == m.cpus
        for ps in z["pagesets"]:
            assert (ps["batch"], ps["high_min"], ps["high_max"]) == \
                (w["batch"], w["high_min"], w["high_max"]), z["zone"]
            # pcp->high starts at 0 and is only clamped into [high_min, high_max] on use
            assert ps["high"] == 0 or w["high_min"] <= ps["high"] <= w["high_max"]


@only_bits(64)
def test_two_node_tuning_splits_pcp_per_node(machine):
    m = machine(ram="512MiB", nodes=2, cpus=2)
    managed = [[0] * 5, [0] * 5]
    for z in m.zones():
        managed[z["node"]][K.ZONES[64].index(z["zone"])] = z["managed"]
    mfk, want = K.kernel_tuning(64, managed, [1, 1])
    assert m.min_free_kbytes == mfk
    for z in m.zones():
        w = want[(z["node"], z["zone"])]
        assert (z["min"], z["low"], z["high"]) == (w["min"], w["low"], w["high"])
        assert z["protection"] == w["protection"]
        assert z["pagesets"][0]["high_min"] == w["high_min"]


# ---- the PCI hole of a machine given as a size (issue 13, item 6) -----------------------

@pytest.mark.parametrize("ram, ranges", [
    ("3GiB", ((0, 3 * GiB),)),
    ("4GiB", ((0, 3 * GiB), (4 * GiB, 5 * GiB))),
    ("16GiB", ((0, 3 * GiB), (4 * GiB, 17 * GiB))),
])
@only_bits(64)
def test_x86_64_sizes_over_3gib_leave_the_pci_hole(machine, ram, ranges):
    m = machine(ram=ram)
    assert m.ram_ranges == ranges
    assert m.ram == parse_size(ram)
    zones = {z["zone"]: z for z in m.zones()}
    if len(ranges) > 1:
        # as on real 4 GiB x86_64 machines: a Normal zone from 4 GiB, and the
        # hole's PFNs spanned by DMA32 but not present
        assert zones["Normal"]["start_pfn"] == 4 * GiB // K.PAGE_SIZE
        dma32 = zones["DMA32"]
        assert dma32["spanned"] - dma32["present"] == GiB // K.PAGE_SIZE
        with pytest.raises(memcore.PFNOutOfRange):
            m.page(3 * GiB // K.PAGE_SIZE)           # a section with no RAM has no struct page
    else:
        assert "Normal" not in zones
    m.check()


@only_bits(64)
def test_ram_ranges_are_taken_as_given(machine):
    m = machine(ram=[(0, 4 * GiB)])
    assert m.ram_ranges == ((0, 4 * GiB),)
    assert "Normal" not in {z["zone"] for z in m.zones()}


@only_bits(32)
def test_i386_sizes_have_no_hole_and_stop_at_4gib(machine):
    m = machine(ram="4GiB")
    assert m.ram_ranges == ((0, 4 * GiB),)
    with pytest.raises(ValueError, match="4 GiB"):
        machine(ram="5GiB")
