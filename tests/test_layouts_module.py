"""memcore._layouts: the layout tables of every setup.py LAYOUTS entry.

The module holds, per (design, bits), the table codegen emits for that
variant, compiled from a C file that selects its own design and word size.
memcore.layout() reads it, so layouts exist for designs whose machines are
not built; a built variant keeps its own table, which must be the same.
"""
from __future__ import annotations

import ast
import importlib
import json
import re
import sys

import pytest

import memcore
from test_cli import compare_ids
from conftest import ROOT
from conftest import run_cli

layouts = importlib.import_module("memcore._layouts")
layout_mod = importlib.import_module("memcore.layout")
cli_mod = importlib.import_module("memcore.cli")

sys.path.insert(0, str(ROOT / "tools"))
import codegen  # noqa: E402
import variant_build  # noqa: E402


def setup_table(name: str) -> list[tuple[str, int]]:
    """A table of setup.py (VARIANTS, LAYOUTS), read without running setup.py."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return [tuple(e) for e in ast.literal_eval(node.value)]
    raise AssertionError(f"setup.py has no {name}")


LAYOUT_VARIANTS = memcore.layout_variants()
LAYOUT_IDS = [f"{d}{b}" for d, b in LAYOUT_VARIANTS]


run = run_cli


# --------------------------------------------------------------------------
# what the module holds
# --------------------------------------------------------------------------

def test_every_layouts_entry_is_available_in_order():
    assert layouts.available() == tuple(setup_table("LAYOUTS"))
    assert memcore.layout_variants() == layouts.available()


def test_every_built_variant_has_layouts():
    assert set(memcore.variants()) <= set(memcore.layout_variants())


def test_variant_tables_equal_the_layouts_tables(variant):
    """Same headers, same compiler, same (design, bits): the same rows, in order."""
    own = memcore._variants.module(*variant)._layout_tables()
    theirs = layouts.tables(*variant)
    assert list(own) == list(theirs)
    for name in own:
        size, align, rows = own[name]
        assert (size, align) == theirs[name][:2], name
        assert rows == theirs[name][2], name
    assert layouts.MEMBER_KIND_NAMES == memcore._variants.module(*variant).MEMBER_KIND_NAMES


def test_tables_of_different_entries_differ():
    """Each entry's file selects its own word size: the tables are not one table twice."""
    by_bits = {b: layouts.tables(d, b) for d, b in LAYOUT_VARIANTS if d == "classic"}
    assert set(by_bits) == {32, 64}
    assert by_bits[32]["page"][0] != by_bits[64]["page"][0]


@pytest.mark.parametrize("design, bits", LAYOUT_VARIANTS, ids=LAYOUT_IDS)
def test_every_layout_variant_renders(design, bits):
    names = memcore.struct_names(design, bits)
    assert names and list(names) == list(layouts.tables(design, bits))
    for name in names:
        lay = memcore.layout(name, design, bits)
        assert (lay.design, lay.bits, lay.size) == (design, bits, layouts.tables(design, bits)[name][0])
        assert f"struct {name} {{" in lay.pahole()
        json.dumps(lay.to_dict())


def test_layout_needs_no_variant_module(monkeypatch):
    """layout() reads memcore._layouts, not the machine: it works with no
    variant module importable (as for a design whose machine is not built)."""
    def no_machine(*args):
        raise AssertionError("layout() imported a variant module")

    monkeypatch.setattr(memcore._variants, "module", no_machine)
    layout_mod._tables.cache_clear()
    layout_mod.layout.cache_clear()
    try:
        for design, bits in LAYOUT_VARIANTS:
            assert memcore.layout("page", design, bits).size > 0
    finally:
        layout_mod._tables.cache_clear()
        layout_mod.layout.cache_clear()


@pytest.mark.parametrize("design, bits, what", [
    ("nope", 64, "design 'nope'; valid: classic"),
    ("classic", 16, "word size (bits) 16; valid: 64, 32"),
    ("classic", "64", "word size (bits) '64'"),
])
def test_unknown_design_or_bits(design, bits, what):
    for call in (lambda: memcore.layout("page", design, bits),
                 lambda: memcore.struct_names(design, bits)):
        with pytest.raises(memcore.UnknownChoice, match=re.escape(f"unknown {what}")) as e:
            call()
        assert e.value.valid   # lists the valid choices


def test_module_rejects_an_unknown_entry():
    with pytest.raises(memcore.UnknownChoice, match="valid: \\('classic', 64\\)"):
        layouts.tables("classic", 16)


# --------------------------------------------------------------------------
# the build
# --------------------------------------------------------------------------

def test_a_design_without_types_header_stops_the_build(tmp_path):
    """The check runs before any work and names the missing header."""
    from setuptools import Extension

    ext = Extension(variant_build.LAYOUTS_MODULE, ["memcore/_layouts.pyx"])
    with pytest.raises(codegen.LayoutsError,
                       match=r"include/memcore/design_nodesign_types\.h does not exist"):
        variant_build.prepare_extensions([], tmp_path, layouts=(ext, [("classic", 64), ("nodesign", 64)]))
    assert not any(tmp_path.iterdir())
    with pytest.raises(codegen.LayoutsError, match="32 or 64"):
        codegen.check_layouts([("classic", 16)])
    with pytest.raises(codegen.LayoutsError, match="twice"):
        codegen.check_layouts([("classic", 64), ("classic", 64)])


def test_layout_units_select_their_own_variant(tmp_path):
    """The generated C files define MC_BITS and the design themselves, before
    the table, and export uniquely named accessors."""
    files = codegen.generate_layouts([("classic", 64), ("classic", 32)], tmp_path)
    assert [f.name for f in files] == ["classic64.c", "classic32.c"]
    for f, bits in zip(files, (64, 32)):
        text = f.read_text()
        assert text.index(f"#define MC_BITS {bits}") < text.index(f'#include "classic{bits}_table.h"')
        assert "#define MC_DESIGN_CLASSIC 1" in text
        assert f"mc_layouts_classic{bits}(size_t *n)" in text
        assert f"mc_layouts_classic{bits}_structs[]" in (tmp_path / f"classic{bits}_table.h").read_text()
    header = (tmp_path / codegen.LAYOUTS_HEADER).read_text()
    assert "mc_layouts_classic64(size_t *n);" in header and "mc_layouts_classic32(size_t *n);" in header


def test_manifest_ships_the_layouts_sources():
    manifest = (ROOT / "MANIFEST.in").read_text()
    assert "memcore/_layouts.pxi" in manifest
    assert "exclude" in manifest and "memcore/_layouts.pyx" in manifest   # generated


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------

def _row(out: str, label: str) -> list[str]:
    [line] = [ln for ln in out.splitlines() if ln.startswith(label)]
    return line[len(label):].split()


def test_compare_has_a_column_per_layout_variant(capsys):
    code, out, _ = run(capsys, "layout", "--compare", "page", "folio", "slab")
    assert code == 0
    assert compare_ids(out) == LAYOUT_IDS
    assert out.count("struct ") == 3


def test_compare_memmap_bytes_per_gib_is_exact(capsys):
    code, out, _ = run(capsys, "layout", "--compare", "page", "folio", "slab")
    assert code == 0
    want = [memcore.layout("page", d, b).size * (2**30 // 4096) for d, b in LAYOUT_VARIANTS]
    assert _row(out, "memmap bytes per GiB") == [f"{n:,}" for n in want]
    code, out, _ = run(capsys, "layout", "--compare", "page", "--json")
    rows = json.loads(out)
    assert [(r["design"], r["bits"]) for r in rows] == list(LAYOUT_VARIANTS)
    assert [r["bytes_per_gib"] for r in rows] == want


@pytest.mark.classic_overlay
def test_compare_memmap_numbers_of_classic(capsys):
    code, out, _ = run(capsys, "layout", "--compare", "page")
    cells = dict(zip(compare_ids(out), _row(out, "memmap bytes per GiB")))
    assert cells["classic64"] == "16,777,216"     # 64-byte struct page
    assert cells["classic32"] == "10,485,760"     # 40-byte struct page (i386, MEMCG)


def test_compare_shows_a_struct_absent_from_a_design_as_dash(capsys, monkeypatch):
    """A design need not have every struct (a design without ptdesc): its
    column reads '-' and the JSON leaves it out."""
    real = cli_mod.struct_names
    gone = LAYOUT_VARIANTS[-1]

    def without_ptdesc(design, bits):
        names = real(design, bits)
        return tuple(n for n in names if n != "ptdesc") if (design, bits) == gone else names

    monkeypatch.setattr(cli_mod, "struct_names", without_ptdesc)
    code, out, err = run(capsys, "layout", "--compare", "page", "ptdesc")
    assert code == 0, err
    block = out.split("struct ptdesc")[1]
    for label in ("size (bytes)", "alignment", "named members"):
        assert _row(block, label)[-1] == "-"
        assert _row(block, label)[0] != "-"
    assert "-" not in _row(out, "memmap bytes per GiB")
    code, out, _ = run(capsys, "layout", "--compare", "ptdesc", "--json")
    assert [(r["design"], r["bits"]) for r in json.loads(out)] == list(LAYOUT_VARIANTS[:-1])


@pytest.mark.parametrize("design, bits", LAYOUT_VARIANTS, ids=LAYOUT_IDS)
def test_layout_command_for_any_layout_variant(capsys, design, bits):
    code, out, _ = run(capsys, "layout", "page", "--design", design, "--bits", str(bits))
    assert code == 0
    assert f"/* size: {memcore.layout('page', design, bits).size}," in out
