"""Exactly one design per build: memcore/design.h refuses none or two.

Each case compiles (gcc -fsyntax-only -Wall) a one-line C file that includes
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
    cmd = codegen.c_compiler() + ["-fsyntax-only", "-std=gnu11", "-Wall", f"-I{ROOT / 'include'}",
                                  "-DMC_BITS=64"] + [f"-DMC_DESIGN_{d}=1" for d in designs]
    return subprocess.run(cmd + [str(src)], capture_output=True, text=True)


@pytest.mark.parametrize("designs", [(), ("CLASSIC", "MEMDESC"), ("CLASSIC", "INTERIM")],
                         ids=["none", "classic+memdesc", "classic+interim"])
def test_no_design_or_two_designs_stop_the_build(tmp_path, designs):
    proc = compile_design_h(tmp_path, designs)
    assert proc.returncode != 0
    assert f"#error \"memcore: {EXACTLY_ONE}\"" in proc.stderr


@pytest.mark.parametrize("design", ["CLASSIC", "INTERIM", "FLAGS_MEMDESC", "MEMDESC"])
def test_each_design_compiles_alone(tmp_path, design):
    """Every design's accessor header compiles on its own, warning-free."""
    proc = compile_design_h(tmp_path, [design])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


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

