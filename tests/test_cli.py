"""The memcore command line: layouts, comparisons, the flags word, and its errors."""
import json
import subprocess
import sys

import pytest

import memcore
from memcore.cli import main


def compare_ids(out: str) -> list[str]:
    """The variant ids of a --compare table: design over word size, in two lines."""
    first, second = out.splitlines()[:2]
    return [d + b.removesuffix("-bit") for d, b in zip(first.split()[2:], second.split())]


def run(capsys, *args):
    try:
        code = main(list(args))
    except SystemExit as e:       # argparse usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.classic_overlay
def test_layout_pahole_text(capsys):
    code, out, _ = run(capsys, "layout", "page", "folio", "slab", "ptdesc", "--bits", "32")
    assert code == 0
    for name in ("page", "folio", "slab", "ptdesc"):
        assert f"struct {name} {{" in out
    assert "/* size: 40, cachelines: 1, members: 5 */" in out


def test_layout_json_is_list_of_to_dict(capsys):
    code, out, _ = run(capsys, "layout", "slab", "page", "--json")
    assert code == 0
    data = json.loads(out)
    assert [d["name"] for d in data] == ["slab", "page"]
    assert set(data[0]) == {"name", "design", "bits", "size", "align", "members"}


def test_compare_reports_every_variant(capsys):
    code, out, _ = run(capsys, "layout", "--compare", "page", "folio", "slab")
    assert code == 0
    assert compare_ids(out) == [f"{d}{b}" for d, b in memcore.layout_variants()]
    code, out, _ = run(capsys, "layout", "--compare", "page", "--json")
    rows = json.loads(out)
    assert [(r["design"], r["bits"]) for r in rows] == list(memcore.layout_variants())
    for r in rows:
        # the memmap of 1 GiB: one struct page per 4 KiB page
        assert r["bytes_per_gib"] == memcore.layout("page", r["design"], r["bits"]).size << 18


@pytest.mark.classic_overlay
def test_compare_page_reports_bytes_per_gib(capsys):
    code, out, _ = run(capsys, "layout", "--compare", "page", "folio", "slab")
    assert code == 0
    assert {"classic64", "classic32"} <= set(compare_ids(out))
    assert "16 MiB" in out and "10 MiB" in out      # 64 B and 40 B per 4 KiB page
    code, out, _ = run(capsys, "layout", "--compare", "page", "--json")
    rows = json.loads(out)
    assert {(r["bits"], r["bytes_per_gib"]) for r in rows if r["design"] == "classic"} == \
        {(64, 16 << 20), (32, 10 << 20)}


def test_flags_diagram(capsys):
    code, out, _ = run(capsys, "layout", "flags", "--config", "i386")
    assert code == 0
    assert out.index("SECTIONS") < out.index("ZONES") < out.index("FLAGS")
    code, out, _ = run(capsys, "layout", "flags", "--json")
    assert json.loads(out)["fields"]["NODES"] == {"width": 10, "shift": 54}


@pytest.mark.parametrize("args, needle", [
    (["layout", "pag"], "unknown struct 'pag'; valid: page, folio, slab, ptdesc, flags"),
    (["layout", "page", "--bits", "16"], "unknown word size (bits) 16; valid: 64, 32"),
    (["layout", "page", "--bits", "x"], "invalid word size 'x'"),
    (["layout", "page", "--design", "nope"], "unknown design 'nope'; valid: classic"),
    (["layout", "flags", "--config", "arm"], "unknown config 'arm'; valid: x86_64, i386"),
    (["layout", "page", "--config", "i386"], "--config applies to"),
    (["bogus"], "invalid choice"),
])
def test_errors_are_one_line_and_exit_2(capsys, args, needle):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_console_script_exit_code(tmp_path):
    # run outside the checkout so the installed package (with its .so files) is imported
    proc = subprocess.run([sys.executable, "-m", "memcore.cli", "layout", "nope"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("memcore: error: unknown struct 'nope'; "
                                   "valid: page, folio, slab, ptdesc, flags")


def test_a_reader_that_stops_early_is_no_error(tmp_path):
    """`memcore layout --compare --json | head -1`: the closed pipe ends the
    command quietly (exit 0, no traceback).  The JSON of every layout of every
    variant is larger than a pipe's buffer, so the write does hit the closed pipe."""
    proc = subprocess.Popen([sys.executable, "-m", "memcore.cli", "layout", "--compare", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()                 # the reader goes away after one line
    err = proc.stderr.read().decode()
    assert proc.wait() == 0
    assert first.startswith(b"[")
    assert "Traceback" not in err and "BrokenPipe" not in err
