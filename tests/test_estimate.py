"""memcore.estimate: classifying PFNs, pricing variants, the self-check, the CLI.

The classifier is tested on a hand-labelled synthetic machine and on the
committed snapshot of the reference machine (tests/data/README.md); the
pricing's expected numbers come from memcore.layout() and the model's SLUB
at test time, never from constants.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import DATA
import memcore
from memcore import estimate as E
from memcore import snapshot
from memcore.cli import main

FIXTURE = DATA / "linux-6.18-x86_64-snapshot.npz"
B = {k: 1 << v for k, v in E.KPF.items()}


@pytest.fixture(scope="module")
def fixture_snap():
    return snapshot.load(FIXTURE)


@pytest.fixture(scope="module")
def fixture_est(fixture_snap):
    return E.estimate(fixture_snap)


# ---- a hand-labelled synthetic machine -------------------------------------------------

def synthetic():
    """(snapshot, expected class per PFN, expected folios/slabs/pgtables)."""
    fx = snapshot.load(FIXTURE)
    n = 32900
    flags = np.zeros(n, np.uint64)
    count = np.zeros(n, np.uint64)
    expect = np.array(["no_state"] * n, dtype=object)

    def put(pfns, f, cls, c=0):
        for p in ([pfns] if isinstance(pfns, int) else pfns):
            flags[p] = f
            count[p] = c
            expect[p] = cls

    put(0, 0, "hole")                                       # below the RAM range
    put(1, B["NOPAGE"], "hole")
    put(range(8, 13), B["BUDDY"], "buddy")                  # 5 free pages: blocks 2 + 0
    put(16, B["COMPOUND_HEAD"] | B["ANON"] | B["THP"] | B["LRU"] | B["MMAP"], "anon", 1)
    put(range(17, 20), B["COMPOUND_TAIL"] | B["ANON"] | B["THP"], "anon", 1)
    put(20, B["LRU"] | B["UPTODATE"], "file")
    put(21, B["SWAPBACKED"] | B["LRU"] | B["UPTODATE"], "shmem")
    put(22, B["ANON"] | B["KSM"] | B["SWAPBACKED"], "anon", 2)
    put(24, B["SLAB"] | B["COMPOUND_HEAD"], "slab")
    put(25, B["SLAB"] | B["COMPOUND_TAIL"], "slab")
    put(26, B["SLAB"], "slab")
    put(27, B["PGTABLE"], "pgtable")
    put(28, B["ZERO_PAGE"] | B["RESERVED"], "zero_page", 5)
    put(29, B["RESERVED"], "reserved")
    put(30, B["OFFLINE"], "offline")
    put(31, B["HWPOISON"] | B["LRU"], "hwpoison")
    put(32, B["HUGE"] | B["COMPOUND_HEAD"], "hugetlb")
    put(range(33, 40), B["COMPOUND_TAIL"], "hugetlb")       # tails take the head's kind
    put(40, B["COMPOUND_HEAD"] | B["LRU"] | B["UPTODATE"], "file")
    put(range(41, 48), B["COMPOUND_TAIL"], "file")
    put(48, B["COMPOUND_HEAD"] | B["LRU"], "file")          # torn: 3 pages
    put(range(49, 51), B["COMPOUND_TAIL"], "file")
    put(52, 0, "other", 3)                                  # mapped, no flags
    put(56, B["COMPOUND_HEAD"], "other")                    # kmalloc_large(): no folio
    put(range(57, 60), B["COMPOUND_TAIL"], "other")
    put(60, 0, "other", 1)
    put(range(61, 61 + E.SECTION_PFNS), 0, "uninitialised")
    put(61 + E.SECTION_PFNS, B["LRU"], "file")
    put(range(61 + E.SECTION_PFNS + 1, n), B["BUDDY"], "buddy")   # 32830..32899
    data = {k: fx_arr for k, fx_arr in _texts(fx).items()}
    data.update(kpageflags=flags, kpagecount=count, kpagecgroup=np.zeros(n, np.uint64),
                ram_ranges=np.array([[4096, n * 4096]], np.uint64),
                first_pfn=np.array(0, np.uint64))
    s = snapshot.from_arrays(data, "synthetic")
    folios = {("anon", 2): 1, ("anon", 0): 1, ("file", 0): 2, ("shmem", 0): 1,
              ("hugetlb", 3): 1, ("file", 3): 1, ("file", 2): 1}
    return s, expect, folios


def _texts(s):
    return {k: np.array(v) for k, v in s.texts.items()}


def test_classifier_labels_every_pfn():
    s, expect, folios = synthetic()
    assert not s.window
    c = E.classify(s, keep_classes=True)
    got = np.array(E.CLASS_NAMES, dtype=object)[c.class_of]
    bad = np.flatnonzero(got != expect)
    assert bad.size == 0, [(int(p), got[p], expect[p]) for p in bad[:10]]
    assert sum(c.classes.values()) == s.nr_pfns
    assert c.folios == folios
    assert c.slabs == {1: 1, 0: 1} and c.pgtables == {0: 1}
    assert c.torn_compound == 1 and c.thp_pages == 4
    assert c.kernel_compound_pages == 4
    assert c.free_blocks == {"0/DMA": {2: 1, 0: 1}, "0/DMA32": {1: 1, 6: 1, 2: 1}}
    # RAM reaches into the second section: both have a memmap (within the arrays)
    assert c.memmap_pfns == s.nr_pfns


def test_short_zero_runs_are_no_state_not_uninitialised():
    s, expect, _ = synthetic()
    flags = s.kpageflags.copy()
    flags[61 + E.SECTION_PFNS // 2] = B["LRU"]          # split the long run in two halves
    data = {k: np.array(v) for k, v in s.texts.items()}
    data.update(kpageflags=flags, kpagecount=s.kpagecount, kpagecgroup=s.kpagecgroup,
                ram_ranges=s.ram_ranges, first_pfn=np.array(0, np.uint64))
    c = E.classify(snapshot.from_arrays(data, "synthetic"))
    assert c.classes["uninitialised"] == 0
    assert c.classes["no_state"] == (expect == "no_state").sum() + E.SECTION_PFNS - 1


@pytest.mark.parametrize("start, length, orders", [
    (8, 5, [2, 0]), (0, 1024, [10]), (1, 4095, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10]),
    (32830, 70, [1, 6, 2]), (3, 1, [0]), (0, 4096, [10, 10, 10, 10]),
])
def test_decompose_tiles_with_aligned_blocks(start, length, orders):
    got = E.decompose(start, length)
    assert got == orders
    pfn = start
    for o in got:
        assert pfn % (1 << o) == 0
        pfn += 1 << o
    assert pfn == start + length


def test_vectorised_decompose_equals_the_scalar_one(fixture_snap):
    free = (fixture_snap.kpageflags & np.uint64(B["BUDDY"])) != 0
    starts, lengths = E._runs(free)
    want = np.zeros(E.MAX_PAGE_ORDER + 1, np.int64)
    for s, n in zip(starts, lengths):
        for o in E.decompose(int(s), int(n)):
            want[o] += 1
    assert len(starts) > 1000
    assert E.decompose_runs(starts, lengths).tolist() == want.tolist()
    assert E.decompose_runs(np.array([0, 1]), np.array([1 << 13, 5])).tolist() == \
        [1, 2] + [0] * 8 + [8]          # 1 | 2-3 | 4-5; 8 x 1024


# ---- the committed snapshot ------------------------------------------------------------

def test_fixture_classes_account_for_every_pfn(fixture_snap, fixture_est):
    c = fixture_est.classification
    assert sum(c.classes.values()) == fixture_snap.nr_pfns
    assert set(c.classes) == set(E.CLASS_NAMES)
    # the 1 GiB PCI hole below 4 GiB and the lazily initialised top of ZONE_NORMAL
    assert c.classes["hole"] >= 1 << 18
    normal = next(z for z in fixture_snap.zones if z.name == "Normal")
    assert c.classes["uninitialised"] == normal.present - normal.managed
    # folio pages agree with the folio counts
    pages = sum(n << o for (k, o), n in c.folios.items())
    assert pages == sum(c.classes[k] for k in E.FOLIO_KINDS)


def test_fixture_free_blocks_match_buddyinfo_in_quiet_zones(fixture_snap, fixture_est):
    c = fixture_est.classification
    kernel = {f"{n}/{z}": v for n, z, v in fixture_snap.buddyinfo}
    after = {f"{n}/{z}": v for n, z, v in fixture_snap.buddyinfo_after}
    quiet = [z for z in kernel if kernel[z] == after[z]]
    assert "0/DMA32" in quiet
    for z in quiet:
        derived = c.free_blocks.get(z, {})
        assert [derived.get(o, 0) for o in range(len(kernel[z]))] == kernel[z], z


def test_fixture_selfcheck(fixture_est):
    checks = {k.name: k for k in fixture_est.checks}
    mm = checks["classic64 memmap vs nr_memmap_boot_pages"]
    assert mm.difference == 0 and mm.model == memcore.layout("page").size * \
        fixture_est.classification.memmap_pfns
    free = checks["free pages (buddy) vs vmstat nr_free_pages"]
    lo, hi = sorted((free.kernel, free.kernel_after))
    assert lo <= free.model <= hi          # read between the two readings
    slab = checks["slab pages vs Slab:"]
    assert abs(slab.difference) < 0.05 * slab.kernel
    # Slab: also counts kmalloc_large() pages: compound pages with no other flag
    cc = fixture_est.classification.kernel_compound_pages
    assert cc == 1940 and f"{cc:,} pages of compound kernel allocations" in slab.note
    for k in fixture_est.checks:
        assert k.model is not None and k.kernel is not None
        assert k.difference == k.model - k.kernel


# ---- pricing ---------------------------------------------------------------------------

def test_classic_prices_memmap_only(fixture_est):
    c = fixture_est.classification
    names = [v.name for v in fixture_est.costs]
    assert names == [f"{d}{b}" for d, b in E.variants()]
    for v in fixture_est.costs:
        if v.design != "classic":
            continue
        assert v.overlay and v.descriptors == [] and v.descriptor_bytes == 0
        assert v.memmap_bytes == memcore.layout("page", v.design, v.bits).size * c.memmap_pfns
        assert v.total_bytes == v.memmap_bytes


class _FakeLayout:
    def __init__(self, size, members):
        self.size, self._m = size, members

    def __contains__(self, path):
        return path in self._m

    def __getitem__(self, path):
        return SimpleNamespace(offset=self._m[path])


FAKE = {
    "page": _FakeLayout(8, {"memdesc": 0}),
    "folio": _FakeLayout(120, {"flags": 0, "_large_mapcount": 72}),
    "slab": _FakeLayout(64, {"flags": 0}),
    "ptdesc": _FakeLayout(40, {"pt_flags": 0}),
}


def test_memdesc_style_design_prices_slab_packed_descriptors(monkeypatch, fixture_est):
    """A design not known to the code (its layouts faked here) is priced from
    its layouts alone: descriptors in whole slabs of the model's SLUB."""
    real_layout, real_names = memcore.layout, memcore.struct_names

    def layout(name, design="classic", bits=64):
        return FAKE[name] if design == "fakedesc" else real_layout(name, design, bits)

    def struct_names(design="classic", bits=64):
        return ("page", "folio", "slab") if design == "fakedesc" else real_names(design, bits)

    monkeypatch.setattr(memcore, "layout", layout)
    monkeypatch.setattr(memcore, "struct_names", struct_names)
    c = fixture_est.classification
    (v,) = E.price(c, [("fakedesc", 64)])
    assert not v.overlay and v.memmap_bytes == 8 * c.memmap_pfns
    m = memcore.Machine("64MiB", bits=64, cpus=2)
    expect = {}
    for kind, size, count in (("folio_small", 72, c.folio_count(False)),
                              ("folio_large", 120, c.folio_count(True)),
                              ("slab", 64, c.nr_slabs)):
        k = m.kmem_cache_create(f"t{size}", size, align=16)
        expect[kind] = (size, count, -(-count // k.objs_per_slab) * (4096 << k.order))
    got = {d.kind: (d.object_size, d.count, d.bytes) for d in v.descriptors}
    assert got == expect                      # no ptdesc: the design has no such struct
    assert v.descriptor_bytes == sum(b for _, _, b in expect.values()) > 0
    assert v.total_bytes == v.memmap_bytes + v.descriptor_bytes


def test_variant_without_layouts_is_reported_not_priced(fixture_snap):
    e = E.estimate(fixture_snap, which=[("classic", 64), ("nosuchdesign", 64)])
    assert [v.name for v in e.costs] == ["classic64"]
    assert e.skipped and e.skipped[0][0] == "nosuchdesign64"
    assert "nosuchdesign64" in E.render(e) and "not priced" in E.render(e)
    assert e.to_dict()["skipped"][0]["variant"] == "nosuchdesign64"


def test_variants_prefers_layout_variants(monkeypatch):
    monkeypatch.setattr(memcore, "layout_variants", lambda: (("x", 64), ("y", 32)),
                        raising=False)
    assert E.variants() == (("x", 64), ("y", 32))
    monkeypatch.delattr(memcore, "layout_variants")
    assert E.variants() == tuple(memcore.variants())


# ---- output ----------------------------------------------------------------------------

def test_json_schema(capsys):
    assert main(["estimate", "--snapshot", str(FIXTURE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(v["design"], v["bits"]) for v in out["variants"]] == \
        [tuple(x) for x in E.variants()]
    for v in out["variants"]:
        for key in ("memmap_bytes", "descriptor_bytes", "total_bytes"):
            assert isinstance(v[key], int)
        assert v["total_bytes"] == v["memmap_bytes"] + v["descriptor_bytes"]
        assert v["memmap_bytes"] == memcore.layout("page", v["design"], v["bits"]).size * \
            out["memmap_pfns"]
    assert set(out["classes"]) == set(E.CLASS_NAMES)
    assert sum(out["classes"].values()) == out["classification"]["pfns"]
    assert out["selfcheck"]
    for k in out["selfcheck"]:
        assert {"name", "model", "kernel", "difference"} <= set(k)
    names = {k["name"] for k in out["selfcheck"]}
    assert {"free pages (buddy) vs MemFree", "slab pages vs Slab:",
            "page-table pages vs PageTables:",
            "classic64 memmap vs nr_memmap_boot_pages"} <= names


def test_text_table(capsys):
    assert main(["estimate", "--snapshot", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    for v in E.variants():
        assert f"\n{v[0]}{v[1]} " in out
    for name in E.CLASS_NAMES:
        assert f"\n{name} " in out
    assert "self-check" in out and "nr_memmap_boot_pages" in out


def test_window_snapshot_says_selfchecks_do_not_apply(fixture_snap):
    lo, hi = 0x100000, 0x110000
    data = {k: np.array(v) for k, v in fixture_snap.texts.items()}
    data.update(kpageflags=fixture_snap.kpageflags[lo:hi],
                kpagecount=fixture_snap.kpagecount[lo:hi],
                kpagecgroup=fixture_snap.kpagecgroup[lo:hi],
                ram_ranges=fixture_snap.ram_ranges, first_pfn=np.array(lo, np.uint64))
    s = snapshot.from_arrays(data, "window")
    assert s.window
    e = E.estimate(s)
    assert e.classification.memmap_pfns == hi - lo
    assert sum(e.classification.classes.values()) == hi - lo
    assert e.checks and all(k.model is None and "not applicable" in k.note for k in e.checks)
    assert "PFN window" in E.render(e)


# ---- the live machine ------------------------------------------------------------------

@pytest.mark.skipif(not snapshot.can_read_live(),
                    reason="/proc/kpageflags is not readable (needs root)")
def test_live_estimate(capsys):
    assert main(["estimate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sum(out["classes"].values()) == out["classification"]["pfns"]
    assert out["variants"][0]["design"] == "classic"
