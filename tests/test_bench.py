"""memcore bench: the shape of its output, its selections and its errors.

Never its timings: every run here is the hidden tiny configuration (one
round, a few hundred operations, 64 MiB machines, a small window of the
live machine for the estimate), which checks that everything runs and
reports, not how fast."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

import memcore
from memcore import bench, snapshot
from memcore.cli import main

IDS = [f"{d}{b}" for d, b in memcore.variants()]
RESULT_KEYS = {"ns_per_op", "baseline_ns", "ratio", "spread", "ok"}
SPREAD_KEYS = {"repeats", "ns_median", "ns_max", "baseline_ns_median", "ratio_median",
               "relative"}
BENCH_KEYS = {"name", "label", "unit", "target", "baseline", "per_variant", "skipped",
              "results"}


def cli(capsys, *args):
    try:
        code = main(["bench", "--tiny", *args])
    except SystemExit as e:
        code = e.code
    return (code, *capsys.readouterr())


@pytest.fixture(scope="module")
def everything():
    """One tiny run of every benchmark on every variant."""
    return bench.run(config=bench.TINY)


def test_json_schema_and_every_variant(everything):
    data = everything
    assert set(data) == {"variants", "config", "benchmarks"}
    assert data["variants"] == IDS
    assert [b["name"] for b in data["benchmarks"]] == list(bench.NAMES)
    for b in data["benchmarks"]:
        assert set(b) == BENCH_KEYS
        assert isinstance(b["target"], float) and b["baseline"]
        if b["skipped"] is not None:
            assert isinstance(b["skipped"], str) and b["results"] == {}
            continue
        assert list(b["results"]) == (IDS if b["per_variant"] else ["all"])
        for r in b["results"].values():
            assert set(r) == RESULT_KEYS and set(r["spread"]) == SPREAD_KEYS
            # timings of a tiny run are noise (the Python ops, less the empty
            # loop, can even come out negative): only their consistency is checked
            if r["baseline_ns"] > 0:
                # three figures each rounded to 4 digits: up to 1.5e-3 apart
                assert r["ratio"] == pytest.approx(r["ns_per_op"] / r["baseline_ns"], rel=2e-3)
                assert r["ok"] == (r["ratio"] <= b["target"])
            else:
                assert r["ratio"] is None and r["ok"] is False
            assert r["spread"]["repeats"] == bench.TINY.repeats
            assert r["spread"]["ns_median"] >= r["ns_per_op"]
    json.dumps(data)                                      # plain JSON types only


def test_table_has_every_variant_and_operation(everything):
    text = bench.render(everything)
    header = text.splitlines()[0].split()
    assert header[:2] == ["operation", "target"] and header[2:] == IDS
    for b in everything["benchmarks"]:
        assert b["label"] in text


def test_estimate_runs_only_where_it_can():
    est = dict((b["name"], b) for b in bench.run(["estimate"], config=bench.TINY)["benchmarks"])
    if snapshot.can_read_live():
        assert est["estimate"]["skipped"] is None and list(est["estimate"]["results"]) == ["all"]
    else:
        assert "root" in est["estimate"]["skipped"]


def test_estimate_skipped_with_reason(monkeypatch, capsys):
    monkeypatch.setattr(snapshot, "can_read_live", lambda *a: False)
    code, out, err = cli(capsys, "--json", "--only", "estimate")
    assert code == 0
    (b,) = json.loads(out)["benchmarks"]
    assert b["skipped"] == "needs root and a readable /proc/kpageflags" and b["results"] == {}
    code, out, _ = cli(capsys, "--only", "estimate")
    assert "skipped: needs root" in out


def test_only_and_variants_filter(capsys):
    code, out, err = cli(capsys, "--json", "--only", "walk,page_folio", "--variants", IDS[-1])
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["variants"] == [IDS[-1]]
    # canonical order, whatever the order asked
    assert [b["name"] for b in data["benchmarks"]] == ["page_folio", "walk"]
    for b in data["benchmarks"]:
        assert list(b["results"]) == [IDS[-1]]


@pytest.mark.parametrize("args, what", [
    (("--only", "walk,nope"), "benchmark 'nope'"),
    (("--variants", "classic16"), "variant 'classic16'"),
])
def test_unknown_choice_is_one_line(capsys, args, what):
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(f"memcore: error: unknown {what}; valid: ")
    assert len(err.splitlines()) == 1


def test_unknown_choice_from_the_api():
    with pytest.raises(memcore.UnknownChoice) as e:
        bench.run(["walks"], config=bench.TINY)
    assert e.value.what == "benchmark" and "walk" in e.value.valid
    with pytest.raises(memcore.UnknownChoice) as e:
        bench.run(variants=["memdesc128"], config=bench.TINY)
    assert e.value.what == "variant" and tuple(e.value.valid) == tuple(IDS)


def test_python_m_entry_point_no_progress_off_a_terminal():
    proc = subprocess.run([sys.executable, "-m", "memcore.bench", "--tiny", "--only",
                           "kmem_cache"], capture_output=True, text=True, cwd=ROOT / "tests",
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""                      # progress only on a terminal
    assert proc.stdout.split("\n")[0].split()[2:] == IDS
    assert "kmem_cache alloc+free" in proc.stdout


def test_bench_machine_script_keeps_its_cli():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_machine.py"), "--tiny",
                           "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr  # 1: a target missed
    data = json.loads(proc.stdout)
    assert [b["name"] for b in data["benchmarks"]] == [n for n in bench.NAMES
                                                       if n != "estimate"]


def test_bench_estimate_script_not_root(monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_estimate
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(snapshot, "can_read_live", lambda *a: False)
    assert bench_estimate.main(["--repeats", "1"]) == 2
    assert "needs root" in capsys.readouterr().err


def test_progress_goes_to_stderr_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = cli(capsys, "--json", "--only", "alloc_free")
    assert code == 0
    json.loads(out)                               # stdout stays pure JSON
    assert f"{IDS[0]}: alloc_free" in err


def test_schema_documented_as_built(everything):
    """docs/ARCHITECTURE.md shows memcore.bench.SCHEMA, and SCHEMA names every key."""
    assert bench.SCHEMA in (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    keys = set(everything) | set(everything["config"]) | BENCH_KEYS | RESULT_KEYS | SPREAD_KEYS
    for key in keys:
        assert f'"{key}"' in bench.SCHEMA, key
