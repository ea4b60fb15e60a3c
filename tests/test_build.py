"""The build: directives that hold for memcore/core/*.pxi, codegen as a build step.

A variant is translated with the build's own Cython directives
(tools/variant_build.py) and the C is read: with boundscheck, wraparound and
cdivision as set there, Cython adds no IndexError or ZeroDivisionError of its
own to any line of the .pxi sources, so every index the code uses must be in
range by construction or checked explicitly (tests below poke such indexes
through modeled state).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

import memcore
import memcore._classic64
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import variant_build  # noqa: E402

# ---- reading Cython's C ---------------------------------------------------------------

#: `/* "memcore/core/machine.pxi":39` opens the code Cython generated for that line.
_MARKER = re.compile(r'^\s*/\* "([^"]+)":(\d+)\s*$')
_INDEX_CALL = re.compile(r"\b(__Pyx_(?:Get|Set|Del)ItemInt(?:_List|_Tuple)?)\(")
_RAW_ITEM = re.compile(r"\b(?:__Pyx_)?Py(?:List|Tuple)_GET_ITEM(?:_REF)?\(")
_DEFINE = re.compile(r"^#define (__Pyx_(?:Get|Set|Del)ItemInt(?:_List|_Tuple)?)\(([^)]*)\)")
_NEGATIVE = re.compile(r"^\(?-\s*\d+[LU]*\)?$")


def _args(text: str, start: int) -> list[str]:
    """The top-level arguments of the call whose '(' is at text[start - 1]."""
    out, depth, cur = [], 0, []
    for ch in text[start:]:
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                out.append("".join(cur).strip())
                return out
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    raise ValueError(f"unbalanced call in {text!r}")


def implicit_checks(c_text: str) -> tuple[list[str], int]:
    """Index and division checks Cython generated for lines of .pxi sources.

    Returns (findings, number of integer-index calls inspected).  A finding is
    "file:line: what": an implicit ZeroDivisionError or buffer IndexError,
    an item access with wraparound or boundscheck on, or a negative constant
    index (undefined with wraparound off)."""
    params = {}
    for line in c_text.splitlines():
        m = _DEFINE.match(line)
        if m:
            params[m.group(1)] = [p.strip() for p in m.group(2).split(",")]
    findings, inspected = [], 0
    where, in_comment = None, False
    for line in c_text.splitlines():
        m = _MARKER.match(line)
        if m:
            where = f"{m.group(1)}:{m.group(2)}" if m.group(1).endswith(".pxi") else None
            in_comment = True
            continue
        if in_comment:
            in_comment = "*/" not in line
            continue
        if line.startswith("}"):
            where = None            # end of the function the marker was in
        if where is None:
            continue
        if "PyExc_ZeroDivisionError" in line:
            findings.append(f"{where}: ZeroDivisionError check")
        if "__Pyx_RaiseBufferIndexError" in line or "Out of bounds on buffer access" in line:
            findings.append(f"{where}: memoryview bounds check")
        for call in _INDEX_CALL.finditer(line):
            names = params.get(call.group(1))
            if names is None:
                continue
            args = _args(line, call.end())
            inspected += 1
            given = dict(zip(names, args))
            for flag in ("wraparound", "boundscheck"):
                if given.get(flag) != "0":
                    findings.append(f"{where}: {call.group(1)} with {flag}={given.get(flag)}")
            if _NEGATIVE.match(given.get("i", "")):
                findings.append(f"{where}: negative index {given['i']}")
        for call in _RAW_ITEM.finditer(line):
            args = _args(line, call.end())
            if len(args) >= 2 and _NEGATIVE.match(args[1]):
                findings.append(f"{where}: negative index {args[1]}")
    return findings, inspected


_SAMPLE = """\
#define __Pyx_GetItemInt(o, i, type, is_signed, to_py_func, wraparound, boundscheck, has_gil)\\
static int f(void) {
  /* "memcore/core/x.pxi":7
 * x = t[i]
 */
  __pyx_t_1 = __Pyx_GetItemInt(__pyx_v_t, __pyx_v_i, int, 1, __Pyx_PyLong_From_int, %s, %s, 1);
  __pyx_t_2 = __Pyx_PyList_GET_ITEM(__pyx_v_l, %s);
  %s
}
"""


@pytest.mark.parametrize("wrap, bounds, index, extra, found", [
    ("0", "0", "0", "", []),
    ("1", "0", "0", "", ["memcore/core/x.pxi:7: __Pyx_GetItemInt with wraparound=1"]),
    ("0", "1", "0", "", ["memcore/core/x.pxi:7: __Pyx_GetItemInt with boundscheck=1"]),
    ("0", "0", "-1L", "", ["memcore/core/x.pxi:7: negative index -1L"]),
    ("0", "0", "0", 'PyErr_SetString(PyExc_ZeroDivisionError, "integer division or modulo by zero");',
     ["memcore/core/x.pxi:7: ZeroDivisionError check"]),
    ("0", "0", "0", "__Pyx_RaiseBufferIndexError(__pyx_t_4);",
     ["memcore/core/x.pxi:7: memoryview bounds check"]),
])
def test_the_reader_finds_each_kind_of_implicit_check(wrap, bounds, index, extra, found):
    assert implicit_checks(_SAMPLE % (wrap, bounds, index, extra)) == (found, 1)


@pytest.fixture(scope="module")
def variant_c(tmp_path_factory):
    """C of the classic 64-bit variant, translated as the build does (no C compile)."""
    out = tmp_path_factory.mktemp("gen")
    return variant_build.cythonize_variant("classic", 64, out, force=True).read_text()


def test_no_implicit_index_or_division_checks_in_the_pxi_sources(variant_c):
    findings, inspected = implicit_checks(variant_c)
    assert inspected > 10, "the C has no integer-index calls: the reader no longer matches it"
    assert findings == []


# ---- indexes from modeled state are checked ----------------------------------------

def test_a_zone_field_that_names_no_zone_raises():
    m = memcore.Machine(ram="64MiB", bits=64)
    fl = m.flags_layout
    f = m.alloc_folio()
    w0, zone = f.flags.word, f.zone
    bad = fl.mask("ZONES") >> fl.shift("ZONES")     # the largest value the field holds
    assert bad >= len(memcore._classic64.ZONE_NAMES)  # x86_64: 5 zones in a 3-bit field
    f.flags.word = (w0 & ~fl.mask("ZONES")) | (bad << fl.shift("ZONES"))
    for view in (f, m.page(f.pfn), f.flags):
        with pytest.raises(memcore.VMBug, match=rf"zone number in the flags word is {bad},"):
            view.zone
    f.flags.word = w0
    assert f.zone == zone
    f.put()
    m.check()


def test_a_ctor_index_that_names_no_constructor_raises():
    m = memcore.Machine(ram="64MiB", bits=64)
    a = m.kmem_cache_create("a", 64, ctor=lambda o: None)
    b = m.kmem_cache_create("b", 64, ctor=lambda o: None)
    w = m.bits // 8
    ra, rb = m.read(a.pointer, 512), m.read(b.pointer, 512)
    # kmem_cache.ctor holds the constructor's index + 1: 1 in a, 2 in b
    [off] = [o for o in range(0, 512, w)
             if int.from_bytes(ra[o:o + w], "little") == 1
             and int.from_bytes(rb[o:o + w], "little") == 2]
    # a struct kmem_cache is an object of the kmem_cache cache: the API does not write it
    for value in (99, (1 << 64) - 1):
        with pytest.raises(memcore.InvalidAddress, match="kmem_cache"):
            m.write(a.pointer + off, value.to_bytes(w, "little"))
    assert callable(a.ctor)


# ---- codegen is a build step ---------------------------------------------------------

def test_setup_py_metadata_needs_no_code_generation(tmp_path):
    """`setup.py --version` works with no tools/, headers or Cython sources:
    nothing is generated or cythonized until build_ext."""
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    proc = subprocess.run([sys.executable, "setup.py", "--version"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == memcore.__version__
    assert not (tmp_path / "build").exists()
