"""memcore profile: its figures against the model and the layouts, its
workloads, its JSON schema, its errors and its plot.

Never its timings: the runs here are --quick (two rounds of a few thousand
operations, 256 MiB workload machines), which checks that every operation
runs and reports, not how fast."""
import json
import re
import sys

import pytest

import memcore
from memcore import profile
from memcore.cli import main

RAM = "256MiB"
BUILT = [f"{d}{b}" for d, b in memcore.variants()]
ALL = [f"{d}{b}" for d, b in memcore.layout_variants()]


@pytest.fixture(scope="module")
def data():
    """One quick run of every workload on every variant."""
    return profile.run(ram=RAM, config=profile.QUICK)


def by_id(data):
    return {v["id"]: v for v in data["variants"]}


def cli(capsys, *args):
    try:
        code = main(["profile", *args])
    except SystemExit as e:
        code = e.code
    return (code, *capsys.readouterr())


# -- the JSON object and its schema -----------------------------------------------

# keys in SCHEMA that stand for a name (a workload, an operation), not a fixed key
SCHEMA_EXAMPLE_KEYS = {"mixed", "alloc_free_0"}
# dicts whose keys are names: checked against the names, their values recursed into
NAMED = {"workloads", "speed", "descriptor_bytes_by_cache"}


def _keys(obj, under=None, out=None):
    out = set() if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            if under not in NAMED:
                out.add(k)
            _keys(v, k if isinstance(v, dict) else None, out)
    elif isinstance(obj, list):
        for v in obj:
            _keys(v, None, out)
    return out


def test_output_has_exactly_the_keys_of_the_schema(data):
    schema_keys = set(re.findall(r'"(\w+)":', profile.SCHEMA)) - SCHEMA_EXAMPLE_KEYS
    assert _keys(data) == schema_keys
    json.dumps(data)                               # plain JSON types only


def test_schema_shape_and_types(data):
    assert set(data) == {"config", "workloads", "operations", "variants"}
    assert data["config"]["ram_bytes"] == 256 << 20 and data["config"]["preset"] == "quick"
    assert [w["name"] for w in data["workloads"]] == list(profile.WORKLOAD_NAMES)
    assert [o["name"] for o in data["operations"]] == list(profile.OPERATION_NAMES)
    assert [v["id"] for v in data["variants"]] == ALL
    for v in data["variants"]:
        assert v["id"] == f"{v['design']}{v['bits']}"
        assert v["built"] == (v["id"] in BUILT)
        assert list(v["memory"]["workloads"]) == list(profile.WORKLOAD_NAMES)
        for r in v["memory"]["workloads"].values():
            assert r["ran"] == v["built"]
            if not r["ran"]:
                assert r["reason"] == "not built"
                assert {k for k, x in r.items() if x is not None} == {"ran", "reason"}
            else:
                assert r["reason"] is None
                assert isinstance(r["descriptor_bytes"], int)
                assert isinstance(r["metadata_share"], float)
        if not v["built"]:
            assert v["speed"] is None
            continue
        assert list(v["speed"]) == list(profile.OPERATION_NAMES)
        for r in v["speed"].values():
            assert r["spread"]["repeats"] == profile.QUICK.repeats
            if r["baseline_ns"] > 0:
                assert r["ratio"] == pytest.approx(r["ns_per_op"] / r["baseline_ns"], rel=1e-3)


# -- sizes and memmap per GiB: the layouts' own numbers ----------------------------

def test_sizes_are_the_layouts(data):
    for v in data["variants"]:
        d, b, s = v["design"], v["bits"], v["sizes"]
        names = memcore.struct_names(d, b)
        assert s["page"] == memcore.layout("page", d, b).size
        for name in ("slab", "ptdesc", "buddy"):
            assert s[name] == (memcore.layout(name, d, b).size if name in names else None)
        assert s["folio_large"] == memcore.layout("folio", d, b).size
        facts = memcore.layout_facts(d, b)
        assert s["descriptors_in_memmap"] == ("memdesc" not in memcore.layout("page", d, b))
        if s["descriptors_in_memmap"]:
            assert s["folio_small"] is None              # the folio is its struct page
        else:
            assert s["folio_small"] == facts["small_folio_size"]


def test_memmap_bytes_per_gib(data):
    for v in data["variants"]:
        d, b = v["design"], v["bits"]
        page_size = memcore.layout_facts(d, b)["page_size"]
        assert v["memory"]["page_size"] == page_size
        assert v["memory"]["memmap_bytes_per_gib"] == \
            (1 << 30) // page_size * memcore.layout("page", d, b).size
    assert by_id(data)["classic64"]["memory"]["memmap_bytes_per_gib"] == 16 << 20


# -- the machine-measured figures: what the model itself counts --------------------

@pytest.mark.parametrize("vid", BUILT)
@pytest.mark.parametrize("name", ["slab-heavy", "mixed"])
def test_descriptor_bytes_are_the_machines_after_the_workload(data, vid, name):
    """Profile's figures equal a machine of the same variant, booted and run
    through the same workload here, reading stats() itself."""
    d, b = next((d, b) for d, b in memcore.variants() if f"{d}{b}" == vid)
    m = memcore.Machine(RAM, design=d, bits=b)
    profile.run_workload(m, profile.workload(name))
    s = m.stats()
    r = by_id(data)[vid]["memory"]["workloads"][name]
    assert r["descriptor_bytes"] == sum(s["descriptor_bytes"].values())
    assert r["descriptor_bytes_by_cache"] == s["descriptor_bytes"]
    assert r["memmap_bytes"] == s["memmap_bytes"]
    assert r["metadata_total_bytes"] == s["metadata_total_bytes"]
    assert r["metadata_share"] == pytest.approx(s["metadata_total_bytes"] / m.ram)
    assert m.check()


def test_differences_from_classic64(data):
    ids = by_id(data)
    for w in profile.WORKLOAD_NAMES:
        base = ids["classic64"]["memory"]["workloads"][w]["metadata_total_bytes"]
        for vid in BUILT:
            r = ids[vid]["memory"]["workloads"][w]
            assert r["vs_classic64_bytes"] == r["metadata_total_bytes"] - base
            assert r["vs_classic64_percent"] == pytest.approx(
                100.0 * (r["metadata_total_bytes"] - base) / base)
    assert ids["classic64"]["memory"]["workloads"]["mixed"]["vs_classic64_bytes"] == 0


@pytest.mark.parametrize("name", profile.WORKLOAD_NAMES)
def test_workloads_fill_their_share_of_ram(data, name):
    w = profile.workload(name)
    for vid in BUILT:
        r = by_id(data)[vid]["memory"]["workloads"][name]
        assert r["stopped_early"] is None
        # slab pages hold a little more than the objects' bytes (the tail of
        # each slab); a folio workload overshoots by at most its last folio
        assert w.fill - 0.005 <= r["filled_share"] <= w.fill * 1.05, vid


@pytest.mark.parametrize("name", profile.WORKLOAD_NAMES)
def test_workloads_are_deterministic(name):
    """Same seed, same allocations: two fresh machines end in the same state."""
    w = profile.workload(name)
    states = []
    for _ in range(2):
        m = memcore.Machine("128MiB")
        profile.run_workload(m, w)
        states.append((m.stats(), m.walk(), m.zones()))
    assert states[0] == states[1]


def test_a_different_seed_is_a_different_sequence():
    import dataclasses
    w = profile.workload("pagecache-small")
    runs = []
    for seed in (w.seed, w.seed + 1):
        m = memcore.Machine("128MiB")
        profile.run_workload(m, dataclasses.replace(w, seed=seed))
        runs.append(m.zones())
    assert runs[0] != runs[1]


def test_workload_table_is_documented():
    assert len(set(profile.WORKLOAD_NAMES)) == len(profile.WORKLOADS) == 5
    for w in profile.WORKLOADS:
        assert w.description and 0 < w.fill <= 1
        assert sum(p.share for p in w.parts) == pytest.approx(1.0)
        assert f"``{w.name}``" in profile.__doc__   # listed where users read it


# -- text, errors, plot, progress ---------------------------------------------------

def test_text_has_every_section_and_variant(data):
    text = profile.render(data)
    for head in ("sizes (bytes", "memory: memmap per GiB", "workload mixed", "speed ("):
        assert head in text
    for vid in ALL:
        assert vid in text
    for vid in set(ALL) - set(BUILT):
        assert re.search(rf"^{vid}\s+not built", text, re.M)
    assert "in memmap" in text


def test_bad_names_raise_unknown_choice():
    with pytest.raises(memcore.UnknownChoice, match="valid: pagecache-small"):
        profile.run(workloads=["nope"], config=profile.QUICK)
    with pytest.raises(memcore.UnknownChoice, match="classic64"):
        profile.run(variants=["classic65"], config=profile.QUICK)
    with pytest.raises(memcore.MemcoreError, match="invalid RAM size"):
        profile.run(ram="lots", config=profile.QUICK)


@pytest.mark.parametrize("args, needle", [
    (["--workload", "nope"], "unknown workload 'nope'; valid: pagecache-small"),
    (["--variants", "classic64,bogus"], "unknown variant 'bogus'; valid: classic64"),
    (["--ram", "12XB"], "invalid RAM size"),
    (["--frobnicate"], "unrecognized arguments"),
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, args, needle):
    code, out, err = cli(capsys, "--quick", *args)
    assert code == 2 and out == ""
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_json_one_variant_one_workload(capsys):
    code, out, err = cli(capsys, "--quick", "--json", "--ram", "128MiB",
                         "--workload", "anon-thp", "--variants", "classic64")
    assert code == 0 and err == ""                 # stderr is no terminal: no progress
    d = json.loads(out)
    assert [v["id"] for v in d["variants"]] == ["classic64"]
    r = d["variants"][0]["memory"]["workloads"]["anon-thp"]
    assert r["memmap_bytes"] == (128 << 20) // 4096 * 64 and r["descriptor_bytes"] == 0


def test_plot_without_matplotlib_is_one_line(capsys, monkeypatch, tmp_path):
    for mod in ("matplotlib", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, mod, None)     # import raises ImportError
    code, out, err = cli(capsys, "--quick", "--plot", str(tmp_path / "p.png"))
    assert code == 2 and out == ""                      # fails before running anything
    assert "--plot needs matplotlib" in err and "pip install" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "p.png").exists()


def test_plot_writes_a_png(data, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "profile.png"
    profile.plot(data, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_only_when_asked(capsys, monkeypatch):
    quiet = profile.Progress(False)
    quiet(0, 3, "x")
    assert capsys.readouterr().err == ""
    bar = profile.Progress(True)
    bar(0, 3, "classic64: mixed")                       # under a second: nothing yet
    assert capsys.readouterr().err == ""
    bar.start -= 2.0
    bar(1, 3, "classic64: mixed")
    assert "1/3 classic64: mixed" in capsys.readouterr().err
    bar(3, 3, "done")                                   # the line is cleared at the end
    assert capsys.readouterr().err == "\r\033[K"
