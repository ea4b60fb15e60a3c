"""Exactly one design per build: memcore/design.h refuses none or two.

Each case compiles (gcc -fsyntax-only) a one-line C file that includes
memcore/design.h with MC_BITS=64 and the given MC_DESIGN_* macros.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import codegen  # noqa: E402

EXACTLY_ONE = "define exactly one design: MC_DESIGN_CLASSIC, MC_DESIGN_INTERIM, " \
              "MC_DESIGN_FLAGS_MEMDESC or MC_DESIGN_MEMDESC"


def compile_design_h(tmp_path, designs):
    src = tmp_path / "t.c"
    src.write_text('#include "memcore/design.h"\n')
    cmd = codegen.c_compiler() + ["-fsyntax-only", "-std=gnu11", f"-I{ROOT / 'include'}",
                                  "-DMC_BITS=64"] + [f"-DMC_DESIGN_{d}=1" for d in designs]
    return subprocess.run(cmd + [str(src)], capture_output=True, text=True)


@pytest.mark.parametrize("designs", [(), ("CLASSIC", "MEMDESC"), ("CLASSIC", "INTERIM")],
                         ids=["none", "classic+memdesc", "classic+interim"])
def test_no_design_or_two_designs_stop_the_build(tmp_path, designs):
    proc = compile_design_h(tmp_path, designs)
    assert proc.returncode != 0
    assert f"#error \"memcore: {EXACTLY_ONE}\"" in proc.stderr


def test_classic_alone_compiles(tmp_path):
    proc = compile_design_h(tmp_path, ["CLASSIC"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


@pytest.mark.parametrize("design", ["INTERIM", "FLAGS_MEMDESC", "MEMDESC"])
def test_a_known_design_without_headers_says_so(tmp_path, design):
    proc = compile_design_h(tmp_path, [design])
    assert proc.returncode != 0
    assert f"design {design.lower()} is not built yet" in proc.stderr
    assert EXACTLY_ONE not in proc.stderr


def test_the_struct_list_comes_from_the_design(tmp_path):
    """codegen covers the structs of the design's MC_LAYOUT_STRUCTS(X), in its order."""
    defs = dict(codegen.variant_defines("classic", 64), MC_PARSE=1)
    text = codegen.preprocess(codegen.LAYOUT_HEADER, defs)
    assert list(codegen.parse_structs(text)) == ["page", "folio", "slab", "ptdesc"]
    # the same design with another list: a copy of its types header found first
    header = (ROOT / "include" / "memcore" / "design_classic_types.h").read_text()
    listed = "X(page) X(folio) X(slab) X(ptdesc)"
    assert header.count(listed) == 1
    (tmp_path / "memcore").mkdir()
    (tmp_path / "memcore" / "design_classic_types.h").write_text(
        header.replace(listed, "X(slab) X(page)"))
    text = codegen.preprocess(codegen.LAYOUT_HEADER, defs, ["-iquote", str(tmp_path)])
    structs = codegen.parse_structs(text)
    assert list(structs) == ["slab", "page"]
    assert "#define MC_NR_LAYOUT_STRUCTS 2" in codegen.emit_layout_table(structs)


def test_a_design_with_only_a_types_header_has_layouts_not_a_machine(tmp_path):
    """Once a design's types header exists, design_types.h includes it, so
    codegen can build its layout table (memcore._layouts); its machine still
    stops at design.h, which has no accessors for it."""
    inc = tmp_path / "inc" / "memcore"
    inc.mkdir(parents=True)
    (inc / "design_interim_types.h").write_text(
        '#include "memcore/mm_types.h"\n#include "memcore/page_flags.h"\n'
        "#define MC_LAYOUT_STRUCTS(X)\tX(page) X(slab)\n")
    defs = dict(codegen.variant_defines("interim", 64), MC_PARSE=1)
    text = codegen.preprocess(codegen.LAYOUT_HEADER, defs, [f"-I{tmp_path / 'inc'}"])
    assert list(codegen.parse_structs(text)) == ["page", "slab"]
    src = tmp_path / "t.c"
    src.write_text('#include "memcore/design.h"\n')
    cmd = codegen.c_compiler() + ["-fsyntax-only", "-std=gnu11", f"-I{ROOT / 'include'}",
                                  f"-I{tmp_path / 'inc'}", "-DMC_BITS=64", "-DMC_DESIGN_INTERIM=1"]
    proc = subprocess.run(cmd + [str(src)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "no accessor header" in proc.stderr and "not built yet" not in proc.stderr
