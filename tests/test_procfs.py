"""/proc views of a modeled machine (memcore/procfs.py, `memcore boot`).

Format tests compare each view with the reference machine's real file
(tests/data/linux-6.18-x86_64-*.txt, always) and with this machine's
/proc file (when it can be read): the same kinds of lines in the same
order, the same field names, the same column structure.  Formats are
also checked against regular expressions written from the kernel's
seq_printf() formats, which the real files must match too.  Value tests
tie each number to the modeled state."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import memcore
import kfacts as K
from memcore import procfs
from memcore.errors import UnknownChoice

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

COMMITTED = {name: DATA / f"linux-6.18-x86_64-proc-{name}.txt" for name in procfs.VIEWS}
COMMITTED["zoneinfo"] = DATA / "linux-6.18-x86_64-zoneinfo.txt"     # with a comment header

VARIANTS = memcore.variants()
RAM = {64: "256MiB", 32: "1GiB"}        # i386 needs > 896 MiB for a HighMem zone


def _strip_comment_header(text: str) -> str:
    """The committed zoneinfo starts with '# ' lines saying where it came from."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("# "):
        lines.pop(0)
    return "".join(lines)


def _live(name: str) -> str | None:
    try:
        return Path(f"/proc/{name}").read_text()
    except OSError:
        return None


@pytest.fixture(params=["committed", "live"])
def real(request):
    """real(name): the reference text, from the committed copy or this machine."""
    def get(name: str) -> str:
        if request.param == "committed":
            return _strip_comment_header(COMMITTED[name].read_text())
        text = _live(name)
        if text is None:
            pytest.skip(f"/proc/{name} cannot be read here")
        if not os.uname().machine == "x86_64":
            pytest.skip("the live comparison is for an x86_64 kernel")
        return text
    return get


_machines: dict[tuple[str, int], object] = {}


def booted(variant):
    """One machine per variant for the format tests (nothing changes it)."""
    if variant not in _machines:
        design, bits = variant
        _machines[variant] = memcore.Machine(RAM[bits], design=design, bits=bits)
    return _machines[variant]


@pytest.fixture(params=VARIANTS, ids=[f"{d}{b}" for d, b in VARIANTS])
def any_variant(request):
    return request.param


# ---- kernel formats as regular expressions ---------------------------------------------

def buddy_columns(line: str) -> list[str]:
    """frag_show_print(): "Node %d, zone %8s " then "%6lu " per order; the columns."""
    m = re.match(r"^Node \d+, zone [ A-Za-z0-9]{8} ", line)
    assert m, line
    rest = line[m.end():]
    cols = re.findall(r" *\d+ ", rest)
    assert "".join(cols) == rest and all(len(c) >= 7 for c in cols), line
    return cols


def zoneinfo_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Per zone block: its kind ("first": with the per-node stats, "populated",
    "empty") and its field names in order (pagesets: one CPU's)."""
    blocks: list[tuple[str, list[str]]] = []
    keys: list[str] = []
    for line in text.splitlines():
        m = re.match(r"^Node (\d+), zone (.+)$", line)
        if m:
            assert len(m.group(2)) >= 8 and m.group(2).strip() == m.group(2).lstrip(), line
            keys = []
            blocks.append(("", keys))
            continue
        assert re.match(r"^ {2,}\S", line), line
        stripped = line.strip()
        if stripped.startswith("cpu:") and "cpu:" in keys:
            keys.append("<more cpus>")
        key = re.sub(r"\d+", "N", stripped.split(":")[0] if ":" in stripped
                     else stripped.rsplit(" ", 1)[0] if stripped[-1].isdigit() else stripped)
        if "<more cpus>" in keys and (key in ("count", "high", "batch", "high_min",
                                              "high_max", "vm stats threshold", "cpu")):
            continue
        keys.append(key)
        if stripped.split()[0] in ("protection:",):
            assert re.fullmatch(r"protection: \((-?\d+)(, -?\d+)*\)", stripped), line
        elif re.match(r"^      \S", line):                  # "\n      %-12s %lu"
            assert re.fullmatch(r"      \S+ +\d+", line) and len(line.split()[0]) <= 12 \
                or re.fullmatch(r"      \S{12,} \d+", line), line
    out = []
    for _, ks in blocks:
        kind = "first" if "per-node stats" in ks else "populated" if "pagesets" in ks \
            else "empty"
        out.append((kind, [k for k in ks if k != "<more cpus>"]))
    return out


def zoneinfo_kinds(text: str) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {}
    for kind, keys in zoneinfo_blocks(text):
        assert kinds.setdefault(kind, keys) == keys, f"{kind} zones differ in their fields"
    return kinds


NUMA_ONLY = re.compile(r"^(numa_|pgpromote_|zone_reclaim_)")


def i386_expected_keys(x86_64_keys: list[str]) -> list[str]:
    """What an i386 kernel (no NUMA, zones DMA Normal HighMem Movable, no PUD THP)
    lists where the x86_64 one lists x86_64_keys."""
    out = []
    for k in x86_64_keys:
        if NUMA_ONLY.match(k) or k == "thp_split_pud":
            continue
        m = re.fullmatch(r"(pgalloc|allocstall|pgskip)_(\w+)", k)
        if m:
            if m.group(2) in ("dma32", "device"):
                continue
            if m.group(2) == "movable":
                out.append(f"{m.group(1)}_high")
        out.append(k)
    return out


def meminfo_line_ok(line: str) -> bool:
    """show_val_kb(): key padded to 16 columns, "%8lu kB"; HugePages_*: "%5lu"."""
    if line.startswith("HugePages_"):
        return bool(re.fullmatch(r"HugePages_\w+: +\d+", line)) and \
            (len(line) == 24 or line[19] != " ")
    m = re.fullmatch(r"(\S+:) +(\d+) kB", line)
    if not m:
        return False
    digits = len(m.group(2))
    if m.group(1) == "HardwareCorrupted:":
        return True
    return len(line) == 16 + max(8, digits) + 3 or (len(m.group(1)) >= 16 and
                                                    line[len(m.group(1))] == " ")


SLAB_ROW = re.compile(r"(\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) : tunables +(\d+) +(\d+) "
                      r"+(\d+) : slabdata +(\d+) +(\d+) +(\d+)")


# ---- format tests against the real files -------------------------------------------------

@pytest.mark.parametrize("name", procfs.VIEWS)
def test_committed_copy_is_the_whole_file(name):
    text = _strip_comment_header(COMMITTED[name].read_text())
    assert text.endswith("\n") and len(text.splitlines()) >= 3


def test_zoneinfo_format(real, any_variant):
    ref = zoneinfo_kinds(real("zoneinfo"))
    assert set(ref) == {"first", "populated", "empty"}
    m = booted(any_variant)
    model = zoneinfo_kinds(m.proc("zoneinfo") if hasattr(m, "proc")
                           else procfs.proc(m, "zoneinfo"))
    if any_variant[1] == 32:
        ref = {k: [f for f in v if not NUMA_ONLY.match(f)] for k, v in ref.items()}
    for kind in model:
        assert model[kind] == ref[kind], kind
    assert "first" in model and "populated" in model or "first" in model


def test_zoneinfo_zone_lines(any_variant):
    """Every zone of every node, in zone_type order, "%8s" names; per-node stats once
    per node, before its first populated zone."""
    m = booted(any_variant)
    text = procfs.proc(m, "zoneinfo")
    heads = [line for line in text.splitlines() if line.startswith("Node")]
    names = K.ZONES[m.bits]
    assert heads == [f"Node {n}, zone {z:>8}" for n in range(m.nodes) for z in names]
    first = min(names.index(z["zone"]) for z in m.zones())
    blocks = zoneinfo_blocks(text)
    assert [k for k, _ in blocks].count("first") == m.nodes
    assert blocks[first][0] == "first"


def test_buddyinfo_format(real, any_variant):
    for line in real("buddyinfo").splitlines():
        assert len(buddy_columns(line)) == procfs.NR_PAGE_ORDERS
    m = booted(any_variant)
    lines = procfs.proc(m, "buddyinfo").splitlines()
    assert len(lines) == len(m.zones())
    for line in lines:
        assert len(buddy_columns(line)) == procfs.NR_PAGE_ORDERS


def pagetypeinfo_kinds(text: str) -> list[str]:
    """Line kinds in order: fixed lines as they are, rows as their kind."""
    kinds = []
    for line in text.splitlines():
        if ", type " in line:
            m = re.fullmatch(r"Node {1,4}\d+, zone [ A-Za-z0-9]{8}, type [ A-Za-z]{12} "
                             r"((?: *>?\d+ )+)", line)
            assert m, line
            cols = re.findall(r" *>?\d+ ", m.group(1))
            assert all(len(c) >= 7 for c in cols) and len(cols) == procfs.NR_PAGE_ORDERS
            kinds.append("free:" + line.split(", type ")[1].split()[0])
        elif re.match(r"^Node \d+, zone ", line):
            cols = re.findall(r" *\d+ ", line[len("Node 0, zone ") + 8 + 1:])
            assert len(cols) == len(procfs.MIGRATETYPES) and all(len(c) >= 13 for c in cols)
            kinds.append("blocks")
        else:
            kinds.append(re.sub(r"\d+$", "N", line) if line.startswith("Page") else line)
    # one zone's rows stand for all (the zones differ between machines)
    out: list[str] = []
    for k in kinds:
        if k.startswith("free:") and k in out[-len(procfs.MIGRATETYPES):]:
            continue
        if k == "blocks" and out and out[-1] == "blocks":
            continue
        out.append(k)
    while len(out) > len(set(out)) and out.count(out[-1]) > 1:
        break
    return out


def test_pagetypeinfo_format(real, any_variant):
    ref = pagetypeinfo_kinds(real("pagetypeinfo"))
    m = booted(any_variant)
    model = pagetypeinfo_kinds(procfs.proc(m, "pagetypeinfo"))
    assert model == ref
    assert "Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      " \
           "Isolate " in model


def test_vmstat_keys(real, any_variant):
    ref = list(procfs.parse_vmstat(real("vmstat")))
    m = booted(any_variant)
    text = procfs.proc(m, "vmstat")
    assert all(re.fullmatch(r"[a-z0-9_]+ \d+", line) for line in text.splitlines())
    model = list(procfs.parse_vmstat(text))
    expected = ref if m.bits == 64 else i386_expected_keys(ref)
    missing = [k for k in expected if k not in model]
    extra = [k for k in model if k not in expected]
    assert (missing, extra) == ([], []), "keys differ from the kernel's"
    assert model == expected


def test_meminfo_keys_and_units(real, any_variant):
    ref_text = real("meminfo")
    assert all(meminfo_line_ok(line) for line in ref_text.splitlines())
    ref = [line.split(":")[0] for line in ref_text.splitlines()]
    m = booted(any_variant)
    text = procfs.proc(m, "meminfo")
    bad = [line for line in text.splitlines() if not meminfo_line_ok(line)]
    assert bad == []
    model = [line.split(":")[0] for line in text.splitlines()]
    if m.bits == 32:
        i = ref.index("Mlocked") + 1
        ref = ref[:i] + ["HighTotal", "HighFree", "LowTotal", "LowFree"] + ref[i:]
        ref.remove("DirectMap1G")
    assert model == ref
    kb_ref = {line.split(":")[0] for line in ref_text.splitlines() if line.endswith(" kB")}
    kb_model = {line.split(":")[0] for line in text.splitlines() if line.endswith(" kB")}
    assert kb_model - {"HighTotal", "HighFree", "LowTotal", "LowFree"} == kb_ref - {"DirectMap1G"} \
        | ({"DirectMap1G"} if m.bits == 64 else set())


def test_slabinfo_format(real, any_variant):
    ref = real("slabinfo").splitlines()
    m = booted(any_variant)
    model = procfs.proc(m, "slabinfo").splitlines()
    assert model[:2] == ref[:2]
    for line in ref[2:] + model[2:]:
        assert SLAB_ROW.fullmatch(line) and line[17] == " " or len(line.split()[0]) >= 17, line


# ---- values from the modeled state -----------------------------------------------------

def test_views_match_state(any_variant):
    m = booted(any_variant)
    st = m.stats()
    zones = m.zones()
    texts = procfs.proc_many(m, procfs.VIEWS)
    # buddyinfo: zone->free_area[order].nr_free
    bi = procfs.parse("buddyinfo", texts["buddyinfo"])
    assert [(r["node"], r["zone"], r["free"]) for r in bi] == \
        [(z["node"], z["zone"], z["nr_free"]) for z in st["zones"]]
    # pagetypeinfo: the free lists, and every pageblock of each zone counted once
    pt = procfs.parse("pagetypeinfo", texts["pagetypeinfo"])
    assert pt["page_block_order"] == m.pageblock_order
    assert pt["pages_per_block"] == 1 << m.pageblock_order
    free = {(r["node"], r["zone"], r["type"]): r["counts"] for r in pt["free"]}
    for z in st["zones"]:
        for mt, counts in z["free_area"].items():
            assert free[(z["node"], z["zone"], mt)] == counts
    blocks = {(r["node"], r["zone"]): r["counts"] for r in pt["blocks"]}
    step = 1 << m.pageblock_order
    for z in zones:
        assert sum(blocks[(z["node"], z["zone"])].values()) == \
            len(range(z["start_pfn"], z["start_pfn"] + z["spanned"], step))
    # zoneinfo: the zone's counters, watermarks, pcp
    zi = [z for z in procfs.parse("zoneinfo", texts["zoneinfo"]) if "pagesets" in z]
    assert len(zi) == len(zones)
    for parsed, z in zip(zi, zones):
        assert (parsed["node"], parsed["zone"]) == (z["node"], z["zone"])
        assert parsed["pages_free"] == z["free"] == parsed["stats"]["nr_free_pages"]
        for k in ("min", "low", "high", "promo", "spanned", "present", "managed"):
            assert parsed[k] == z[k], k
        assert parsed["protection"] == z["protection"]
        assert parsed["start_pfn"] == z["start_pfn"]
        assert [{k: p[k] for k in ("cpu", "count", "high", "batch", "high_min", "high_max")}
                for p in parsed["pagesets"]] == \
            [{k: p[k] for k in ("cpu", "count", "high", "batch", "high_min", "high_max")}
             for p in z["pagesets"]]
    # meminfo and vmstat
    mi = procfs.parse("meminfo", texts["meminfo"])
    assert mi["MemFree"] == 4 * sum(z["free"] for z in zones)
    assert mi["MemTotal"] == 4 * sum(z["managed"] for z in zones)
    assert mi["Slab"] == 4 * (st["slab_pages"] + st["large_kmalloc_pages"])
    assert mi["Slab"] == mi["SReclaimable"] + mi["SUnreclaim"]
    assert mi["PageTables"] == 4 * st["pages"]["pgtable"]
    assert 0 < mi["MemAvailable"] <= mi["MemFree"]
    vm = procfs.parse("vmstat", texts["vmstat"])
    assert vm["nr_free_pages"] == sum(z["free"] for z in zones)
    assert vm["nr_free_pages_blocks"] == sum(z["nr_free_pages_blocks"] for z in zones)
    assert vm["pgfree"] == st["pgfree"]
    assert vm["nr_slab_reclaimable"] + vm["nr_slab_unreclaimable"] == \
        st["slab_pages"] + st["large_kmalloc_pages"]
    assert vm["nr_memmap_boot_pages"] * 4096 >= st["memmap_bytes"] > 0
    assert 0 < vm["nr_dirty_background_threshold"] < vm["nr_dirty_threshold"]
    # slabinfo is the machine's own
    assert texts["slabinfo"] == m.slabinfo()
    if m.bits == 32:
        high = [z for z in zones if z["zone"] == "HighMem"]
        assert high and mi["HighTotal"] == 4 * high[0]["managed"]
        assert mi["LowFree"] == mi["MemFree"] - mi["HighFree"]


@pytest.mark.parametrize("bits", [64, 32])
def test_usage_follows_the_state(bits):
    m = memcore.Machine(RAM[bits], bits=bits)
    before = procfs.parse("meminfo", procfs.proc(m, "meminfo"))
    thp = m.alloc_folio(order=9, kind="anon")
    small = m.alloc_folio(order=0, kind="anon")
    space = m.address_space("file")
    f = m.alloc_folio(order=2)
    space.add_folio(0, f)
    f.unlock()
    f.flags.set("dirty")
    table = m.pagetable_alloc()
    c = m.kmem_cache_create("procfs-rcl", 256, flags=("SLAB_RECLAIM_ACCOUNT",))
    objs = [c.alloc() for _ in range(40)]
    after = procfs.parse("meminfo", procfs.proc(m, "meminfo"))
    assert after["AnonPages"] - before["AnonPages"] == 4 * (512 + 1)
    assert after["AnonHugePages"] - before["AnonHugePages"] == 2048
    assert after["Cached"] - before["Cached"] == 16
    assert after["Dirty"] - before["Dirty"] == 16
    assert after["PageTables"] - before["PageTables"] == 4
    caches = m.stats()["slab_caches"]
    assert caches["procfs-rcl"]["pages"] > 0
    # the new cache and radix_tree_node (the page cache's XArray) reclaim their slabs
    assert after["SReclaimable"] == 4 * sum(caches[c.name]["pages"] for c in m.caches()
                                            if c.reclaim_account)
    assert after["SReclaimable"] - before["SReclaimable"] >= 4 * caches["procfs-rcl"]["pages"]
    vm = procfs.parse("vmstat", procfs.proc(m, "vmstat"))
    assert vm["nr_anon_transparent_hugepages"] == 1
    assert vm["nr_file_pages"] == 4 and vm["nr_dirty"] == 4
    assert vm["nr_zone_write_pending"] == 4
    del objs, table, thp, small


@pytest.mark.parametrize("bits", [64, 32])
def test_pgalloc_counts_by_the_allocated_pages_zone(bits):
    m = memcore.Machine(RAM[bits], bits=bits)
    suffix = {"DMA": "dma", "DMA32": "dma32", "Normal": "normal", "HighMem": "high"}
    before = procfs.parse("vmstat", procfs.proc(m, "vmstat"))
    want = {}
    for zone, order in (("DMA", 1), ("Normal", 3), ("Normal", 0)):
        f = m.alloc_folio(order=order, zone=zone, movable=False)
        want[f.zone] = want.get(f.zone, 0) + (1 << order)
    after = procfs.parse("vmstat", procfs.proc(m, "vmstat"))
    for zone, n in want.items():
        key = "pgalloc_" + suffix[zone]
        assert after[key] - before[key] == n, key
    total = sum(v for k, v in after.items() if k.startswith("pgalloc_"))
    assert total == m.stats()["pgalloc"] == sum(m.stats()["pgalloc_by_zone"].values())


def test_multi_node_per_node_stats_add_up():
    m = memcore.Machine("512MiB", nodes=2, cpus=4)
    m.alloc_folio(order=0, kind="anon", node=1)
    m.pagetable_alloc(node=1)
    zi = procfs.parse("zoneinfo", procfs.proc(m, "zoneinfo"))
    per_node = [z["per_node"] for z in zi if "per_node" in z]
    assert len(per_node) == 2
    st = m.stats()
    assert sum(n["nr_slab_reclaimable"] + n["nr_slab_unreclaimable"] for n in per_node) == \
        st["slab_pages"] + st["large_kmalloc_pages"]
    assert [n["nr_page_table_pages"] for n in per_node] == [0, 1]
    assert [n["nr_anon_pages"] for n in per_node] == [0, 1]
    text = procfs.proc(m, "pagetypeinfo")
    assert text.count("Page block order: 9") == 2
    assert [line.split(",")[0] for line in procfs.proc(m, "buddyinfo").splitlines()] == \
        [f"Node {z['node']}" for z in m.zones()]


def test_unknown_view_and_type():
    m = booted(VARIANTS[0])
    with pytest.raises(UnknownChoice, match="zoneinfo, buddyinfo, pagetypeinfo"):
        procfs.proc(m, "iomem")
    with pytest.raises(TypeError):
        procfs.proc(m, 3)               # type: ignore[arg-type]
    if hasattr(m, "proc"):
        assert m.proc("buddyinfo") == procfs.proc(m, "buddyinfo")
        with pytest.raises(UnknownChoice):
            m.proc("nope")


def test_parsers_read_the_real_files():
    zi = procfs.parse("zoneinfo", _strip_comment_header(COMMITTED["zoneinfo"].read_text()))
    assert [z["zone"] for z in zi] == ["DMA", "DMA32", "Normal", "Movable", "Device"]
    assert zi[0]["pagesets"][0]["vm_stats_threshold"] == 4
    pt = procfs.parse("pagetypeinfo", COMMITTED["pagetypeinfo"].read_text())
    assert len(pt["free"]) == 3 * 5 and len(pt["blocks"]) == 3
    sl = procfs.parse("slabinfo", COMMITTED["slabinfo"].read_text())
    assert sl["version"] == "2.1" and len(sl["caches"]) > 100


# ---- memcore boot ------------------------------------------------------------------------

def boot(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "memcore.cli", "boot", *args],
                          capture_output=True, text=True, cwd=ROOT / "tests")
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_boot_prints_views_with_headers():
    out = boot("--ram", "256MiB", "--show", "buddyinfo,meminfo").stdout
    assert out.startswith("==> /proc/buddyinfo <==\nNode 0, zone      DMA")
    assert "\n\n==> /proc/meminfo <==\nMemTotal:" in out
    one = boot("--ram", "256MiB", "--show", "vmstat").stdout
    assert one.startswith("nr_free_pages ") and "==>" not in one


def test_boot_json_agrees_with_text():
    args = ("--ram", "1GiB", "--bits", "32", "--design", "memdesc", "--show", "all")
    data = json.loads(boot(*args, "--json").stdout)
    assert (data["design"], data["bits"], data["nodes"], data["cpus"]) == ("memdesc", 32, 1, 2)
    assert data["ram_ranges"] == [["0x0", "0x40000000"]]
    m = memcore.Machine("1GiB", design="memdesc", bits=32)
    for name in procfs.VIEWS:
        assert data["views"][name] == procfs.parse(name, procfs.proc(m, name)), name
    text = boot(*args).stdout
    for name in procfs.VIEWS:
        part = text.split(f"==> /proc/{name} <==\n")[1].split("\n==> ")[0]
        assert procfs.parse(name, part) == data["views"][name], name


@pytest.mark.parametrize("args, message", [
    (("--ram", "4GB"), "GB is ambiguous"),
    (("--ram", "256MiB", "--design", "nope"), "unknown design 'nope'"),
    (("--ram", "256MiB", "--show", "buddyinfo,iomem"), "unknown /proc view 'iomem'"),
    (("--ram", "256MiB", "--bits", "16"), "unknown word size"),
    (("--ram", "256MiB", "--nodes", "0"), "nodes must be"),
])
def test_boot_errors_are_one_line(args, message):
    proc = boot(*args, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("memcore: error: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_boot_into_a_closed_pipe_is_quiet():
    proc = subprocess.Popen([sys.executable, "-m", "memcore.cli", "boot", "--ram", "256MiB",
                             "--show", "all"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT / "tests")
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait()
    assert proc.returncode == 0 and b"Traceback" not in err, err


@pytest.mark.parametrize("bits", [64, 32])
def test_unpopulated_zones_have_what_boot_left_them(bits):
    """zones(empty=True): every zone of every node; one with no pages has the
    watermarks setup_per_zone_wmarks() gives it (clamp(0 / 1024,
    SWAP_CLUSTER_MAX, 128) = 32 for HighMem and Movable, 0 for the others)
    and no lowmem reserve (setup_per_zone_lowmem_reserve(), no managed pages)."""
    m = memcore.Machine("64MiB", bits=bits, nodes=1)
    every = m.zones(empty=True)
    assert [z["zone"] for z in every] == list(K.ZONES[bits])
    assert [z for z in every if z["spanned"]] == m.zones()
    empty = [z for z in every if not z["spanned"]]
    assert empty, "a 64 MiB machine has empty zones"
    for z in empty:
        want = 32 if z["zone"] in ("HighMem", "Movable") else 0
        assert (z["min"], z["low"], z["high"]) == (want, want, want), z["zone"]
        assert z["protection"] == [0] * len(every) and z["pagesets"] == []
        assert z["present"] == z["managed"] == z["free"] == 0
    with pytest.raises(TypeError, match="bool"):
        m.zones(empty="yes")
