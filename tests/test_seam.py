"""The design seam holds: generic code (memcore/core/*.pxi) sees struct page and
struct folio as opaque types and reaches them only through the accessors every
design header defines, so a new design is a header set and one line in setup.py.

These read the source tree (they run from a checkout, as CI does).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "memcore" / "core"
INCLUDE = ROOT / "include" / "memcore"

pytestmark = pytest.mark.skipif(not CORE.is_dir(), reason="needs the source tree")

# members of struct page / struct folio that only a design header may touch
MEMBER = re.compile(r"\.(_refcount|compound_head|_flags_1|_flags_2|mapping|private|page_type|lru|"
                    r"_mapcount|memcg_data|_large_mapcount|_nr_pages|_deferred_list|_pincount|"
                    r"_entire_mapcount|_nr_pages_mapped|buddy_list|pcp_list|flags\.f)\b")
CAST = re.compile(r"<\s*(const\s+)?(page|folio|slab)\s*\*+\s*>")


def _code_lines(path: Path):
    for n, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        if code.strip():
            yield n, code


def _generic_files():
    return sorted(p for p in CORE.glob("*.pxi") if p.name != "decl.pxi")


def test_generic_code_touches_no_page_or_folio_member():
    hits = [f"{p.name}:{n}: {code.strip()}" for p in _generic_files()
            for n, code in _code_lines(p) if MEMBER.search(code)
            and not re.search(r"(\bsl|_sl\(\))\.flags\.f\b", code)]   # struct slab's own flags
    assert not hits, "direct struct member access in generic code:\n" + "\n".join(hits)


def test_generic_code_casts_no_descriptor_pointer():
    hits = [f"{p.name}:{n}: {code.strip()}" for p in _generic_files()
            for n, code in _code_lines(p) if CAST.search(code)
            and not re.search(r">\s*[cm]alloc\(", code)]     # typing a fresh host array
    assert not hits, "page/folio/slab casts belong in the design header:\n" + "\n".join(hits)


def test_generic_code_asks_no_design_or_word_size_question():
    pat = re.compile(r"MC_DESIGN_(?!NAME\b)\w+|[\"']classic[\"']|MC_BITS\s*[=!<>]=?\s*\d|\d\s*[=!<>]=?\s*MC_BITS")
    hits = [f"{p.name}:{n}: {code.strip()}" for p in _generic_files()
            for n, code in _code_lines(p) if pat.search(code)]
    assert not hits, "design or word-size branches in generic code:\n" + "\n".join(hits)


def _decl_block(name: str) -> str:
    text = (CORE / "decl.pxi").read_text()
    blocks = re.split(r"\ncdef extern from ", text)
    return "\n".join(b for b in blocks if b.startswith(f'"{name}"'))


def test_page_and_folio_are_opaque_to_cython():
    block = _decl_block("memcore/design_types.h")
    for struct in ("page", "folio"):
        m = re.search(rf"^    cdef struct {struct}(\s*:)?\s*$", block, re.M)
        assert m, f"struct {struct} is not declared in the design block"
        assert not m.group(1), f"struct {struct} declares members: generic code could use them"


def _accessors() -> list[str]:
    names = []
    for line in _decl_block("memcore/design.h").splitlines():
        m = re.match(r"    [\w\s\*]*?\b(\w+)\(", line)
        if m:
            names.append(m.group(1))
    return names


def _design_headers():
    """design_<name>.h of every design (its structs are in design_<name>_types.h)."""
    return sorted(p for p in INCLUDE.glob("design_*.h") if not p.name.endswith("_types.h"))


def test_the_seam_is_a_list_of_accessors():
    names = _accessors()
    for expected in ("page_folio", "folio_page", "folio_flags", "folio_ref_count",
                     "folio_order", "page_bad_reason", "page_slab", "slab_page",
                     "prep_compound_page", "set_buddy_order", "buddy_order"):
        assert expected in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize("header", _design_headers(), ids=lambda p: p.name)
def test_every_design_header_defines_every_accessor(header):
    text = header.read_text()
    # and the accessor headers the design shares with others (memdesc_desc.h,
    # memdesc_page.h, folio_refs.h, page_buddy_list.h, page_flags_word.h),
    # followed as they include each other
    shared = re.compile(r'#\s*include\s+"memcore/((?:design_\w+|memdesc_desc|memdesc_page|'
                        r'folio_refs|page_buddy_list|page_flags_word)\.h)"')
    seen: set[str] = set()
    todo = shared.findall(text)
    while todo:
        inc = todo.pop()
        if inc not in seen:
            seen.add(inc)
            more = (INCLUDE / inc).read_text()
            text += more
            todo += shared.findall(more)
    missing = [n for n in _accessors()
               if not re.search(rf"(\b{n}\s*\(|#\s*define\s+{n}\b)", text)]
    assert not missing, f"{header.name} lacks: {', '.join(missing)}"
