"""Build-time code generation for memcore's variant modules.

setup.py calls :func:`generate_variant` once per (design, bits) variant.  It
reads the variant's struct headers *after* the C preprocessor has applied
that variant's configuration, so the generated code always describes exactly
what the compiler sees:

* ``mc_layout_table.h``: for every member of the exported structs, a C
  initializer that makes the compiler report offset, size and alignment
  (``offsetof``/``sizeof``/``_Alignof``) and, for bitfields, a probe function
  that sets the field to all ones so the module can find its bits.  Member
  names, nesting and kernel type names come from the parse; every number
  comes from the compiled C.
* ``mc_enum_table.h``: name/value tables of ``enum pageflags`` and
  ``enum pagetype`` (values again from the compiler).
* ``folio_flags.pxi``: the Folio methods generated from the one flag-helper
  table in ``include/memcore/folio_flags.h``.

The structs covered are the design's list (``MC_LAYOUT_STRUCTS(X)`` in its
types header, read back from the same preprocessed text).

:func:`generate_layouts` writes the sources of ``memcore._layouts`` (setup.py's
LAYOUTS table): for every (design, bits) the same layout table as a variant's,
under its own name, in a C file that selects its design and word size itself,
so one extension compiles the tables of designs whose machines are not built.
tests/test_layout_native.py reuses :func:`parse_structs` to build an
independent ``gcc -m32`` probe of the same declarations.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "include"

#: Header that declares everything the layout tables need, including the
#: design's list of exported structs (enum mc_layout_struct, from the design's
#: MC_LAYOUT_STRUCTS(X)).
LAYOUT_HEADER = "memcore/layout_structs.h"

#: enum mc_layout_struct spells the list as MC_LAYOUT_STRUCT_<name>, then a count.
_STRUCT_LIST_ENUM, _STRUCT_LIST_PREFIX, _STRUCT_LIST_END = (
    "mc_layout_struct", "MC_LAYOUT_STRUCT_", "MC_NR_LAYOUT_STRUCT_LIST")


# --------------------------------------------------------------------------
# preprocessing
# --------------------------------------------------------------------------

def c_compiler() -> list[str]:
    """The C compiler command the extension build uses (CC, else Python's)."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shlex.split(cc)


def preprocess(header: str, defines: dict[str, object], extra: list[str] = ()) -> str:
    """Run the C preprocessor over ``#include <header>`` with *defines*."""
    cmd = c_compiler() + ["-E", "-P", "-x", "c", "-I", str(INCLUDE)]
    for key, value in defines.items():
        cmd.append(f"-D{key}={value}" if value is not None else f"-D{key}")
    cmd += list(extra)
    cmd.append("-")
    src = f'#include "{header}"\n'
    proc = subprocess.run(cmd, input=src, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"preprocessing {header} failed:\n{proc.stderr}")
    return proc.stdout


def variant_defines(design: str, bits: int) -> dict[str, object]:
    return {"MC_BITS": bits, f"MC_DESIGN_{design.upper()}": 1}


# --------------------------------------------------------------------------
# struct parsing
# --------------------------------------------------------------------------

_BASE_TYPE_NAMES = {
    ("long", "unsigned"): "long unsigned int",
    ("int", "long", "unsigned"): "long unsigned int",
    ("long",): "long int",
    ("int", "long"): "long int",
    ("unsigned",): "unsigned int",
    ("int", "unsigned"): "unsigned int",
    ("int",): "int",
    ("short", "unsigned"): "short unsigned int",
    ("short",): "short int",
    ("char", "unsigned"): "unsigned char",
    ("char",): "char",
    ("long", "long", "unsigned"): "long long unsigned int",
    ("long", "long"): "long long int",
    ("void",): "void",
}


def _base_name(names: list[str]) -> str:
    key = tuple(sorted(names))
    if key in _BASE_TYPE_NAMES:
        return _BASE_TYPE_NAMES[key]
    if len(names) == 1:
        return names[0]  # a typedef name: kept, as BTF keeps it
    raise ValueError(f"unknown base type {' '.join(names)}")


@dataclass
class Node:
    """One member of a struct as declared: named, or an anonymous aggregate."""

    name: str | None          # member name; None for anonymous struct/union
    kind: str                 # MC_MEMBER_KINDS name: "plain", "bitfield", "anon_struct", "anon_union"
    type: str                 # kernel type name ("struct list_head", ...)
    type_base: str = ""       # type without array suffix (for rendering)
    array: str = ""           # "[2]" for arrays
    bit_width: int = 0        # declared width of a bitfield
    children: list["Node"] = field(default_factory=list)


def _type_of(decl_type) -> tuple[str, str]:
    """(type name, array suffix) of a pycparser declarator."""
    from pycparser import c_ast

    if isinstance(decl_type, c_ast.ArrayDecl):
        base, arr = _type_of(decl_type.type)
        return base, f"[{decl_type.dim.value}]" + arr
    if isinstance(decl_type, c_ast.PtrDecl):
        base, arr = _type_of(decl_type.type)
        return base + " *", arr
    if isinstance(decl_type, c_ast.TypeDecl):
        inner = decl_type.type
        if isinstance(inner, c_ast.IdentifierType):
            return _base_name(inner.names), ""
        if isinstance(inner, c_ast.Struct):
            return f"struct {inner.name}", ""
        if isinstance(inner, c_ast.Union):
            return f"union {inner.name}", ""
    raise ValueError(f"unsupported declarator {decl_type!r}")


_BINOPS = {"+": int.__add__, "-": int.__sub__, "*": int.__mul__, "/": int.__floordiv__,
           "<<": int.__lshift__, ">>": int.__rshift__}


def _const(expr) -> int:
    """Value of an integer constant expression as the preprocessor leaves it
    (a bitfield width such as ``(64 - 6)`` from a macro)."""
    from pycparser import c_ast

    if isinstance(expr, c_ast.Constant):
        return int(expr.value.rstrip("uUlL"), 0)
    if isinstance(expr, c_ast.BinaryOp) and expr.op in _BINOPS:
        return _BINOPS[expr.op](_const(expr.left), _const(expr.right))
    if isinstance(expr, c_ast.UnaryOp) and expr.op == "-":
        return -_const(expr.expr)
    raise ValueError(f"not an integer constant expression: {expr!r}")


def _members(decls) -> list[Node]:
    from pycparser import c_ast

    out = []
    for d in decls or ():
        t = d.type
        if d.name is None and isinstance(t, c_ast.TypeDecl) and \
                isinstance(t.type, (c_ast.Struct, c_ast.Union)) and t.type.decls:
            t = t.type
        if d.name is None and isinstance(t, (c_ast.Struct, c_ast.Union)):
            word = "struct" if isinstance(t, c_ast.Struct) else "union"
            out.append(Node(None, "anon_" + word, word, word, children=_members(t.decls)))
            continue
        base, arr = _type_of(t)
        if d.bitsize is not None:
            out.append(Node(d.name, "bitfield", base, base, "", _const(d.bitsize)))
        else:
            out.append(Node(d.name, "plain", base + arr, base, arr))
    return out


def _enumerators(ast, names) -> dict[str, list[str]]:
    """Enumerator names of the named enums of a parse, in declaration order."""
    from pycparser import c_ast

    out: dict[str, list[str]] = {}

    class V(c_ast.NodeVisitor):
        def visit_Enum(self, node):
            if node.name in names and node.values is not None:
                out[node.name] = [e.name for e in node.values.enumerators]

    V().visit(ast)
    return out


def layout_struct_names(ast) -> tuple[str, ...]:
    """The design's MC_LAYOUT_STRUCTS(X) list, as layout_structs.h spells it."""
    found = _enumerators(ast, (_STRUCT_LIST_ENUM,)).get(_STRUCT_LIST_ENUM)
    if not found or found[-1] != _STRUCT_LIST_END:
        raise ValueError(f"enum {_STRUCT_LIST_ENUM} not found in the preprocessed {LAYOUT_HEADER}")
    return tuple(e[len(_STRUCT_LIST_PREFIX):] for e in found[:-1])


def parse_structs(text: str, names=None) -> dict[str, list[Node]]:
    """Parse preprocessed C and return the member trees of *names* (by
    default: of the design's struct list, read from the same text)."""
    from pycparser import CParser, c_ast

    ast = CParser().parse(text, "<memcore headers>")
    if names is None:
        names = layout_struct_names(ast)
    found: dict[str, list[Node]] = {}

    class V(c_ast.NodeVisitor):
        def visit_Struct(self, node):
            if node.name in names and node.decls is not None and node.name not in found:
                found[node.name] = _members(node.decls)
            self.generic_visit(node)

    V().visit(ast)
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(f"structs not found in headers: {missing}")
    return {n: found[n] for n in names}


def parse_enums(text: str, names=("pageflags", "pagetype")) -> dict[str, list[str]]:
    """Enumerator names of the given enums, in declaration order."""
    from pycparser import CParser

    return _enumerators(CParser().parse(text, "<memcore headers>"), names)


def flatten(nodes: list[Node], parent: int = -1, depth: int = 1, out=None):
    """Pre-order (node, parent index, depth) list of a member tree."""
    if out is None:
        out = []
    for n in nodes:
        idx = len(out)
        out.append((n, parent, depth))
        if n.children:
            flatten(n.children, idx, depth + 1, out)
    return out


# --------------------------------------------------------------------------
# C table emission
# --------------------------------------------------------------------------

def _cstr(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _model_type(ctype: str) -> str:
    """The model's spelling of a base type the parse gives in the kernel's: the
    parse reads mc_ulong and mc_long as `unsigned long` and `long`, whose host
    size is not the modeled word's (a 32-bit variant is built on a 64-bit host)."""
    words = sorted(ctype.split())
    if words in (["long", "unsigned"], ["int", "long", "unsigned"]):
        return "mc_ulong"
    if words in (["long"], ["int", "long"], ["long", "signed"], ["int", "long", "signed"]):
        return "mc_long"
    return ctype


def emit_layout_table(structs: dict[str, list[Node]], table: str = "mc_layout_structs") -> str:
    """C source defining the static array *table* (``mc_layout_structs[]`` in
    a variant) and ``MC_NR_LAYOUT_STRUCTS``, its length."""
    lines = [
        "/* Generated by tools/codegen.py from the preprocessed struct headers. */",
        "/* Do not edit: rebuild instead. */",
        f'#include "{LAYOUT_HEADER}"',
        '#include "memcore/layout_table.h"',
        "",
    ]
    for sname, nodes in structs.items():
        flat = flatten(nodes)
        for i, (n, _p, _d) in enumerate(flat):
            if n.kind == "bitfield":
                lines.append(
                    f"static void mc_bf_{sname}_{i}(unsigned char *buf)\n"
                    f"{{ struct {sname} *s = (struct {sname} *)buf; s->{n.name} = ~s->{n.name}; }}")
        lines.append(f"static const struct mc_member_desc mc_members_{sname}[] = {{")
        for i, (n, parent, depth) in enumerate(flat):
            code = f"MC_MEMBER_{n.kind.upper()}"     # enum mc_member_kind (layout_table.h)
            if n.kind == "plain":
                acc = f"((struct {sname} *)0)->{n.name}"
                nums = (f"offsetof(struct {sname}, {n.name}), sizeof({acc}), "
                        f"__alignof__({acc}), 0, 0")
            elif n.kind == "bitfield":
                t = _model_type(n.type)
                nums = (f"0, sizeof({t}), __alignof__({t}), {n.bit_width}, "
                        f"mc_bf_{sname}_{i}")
            else:
                nums = "0, 0, 0, 0, 0"
            name = _cstr(n.name) if n.name else "0"
            lines.append(
                f"\t{{ {name}, {_cstr(n.type_base)}, {_cstr(n.array)}, {code}, "
                f"{parent}, {depth}, {nums} }},")
        lines.append("};")
        lines.append("")
    lines.append(f"static const struct mc_struct_desc {table}[] = {{")
    for sname, nodes in structs.items():
        lines.append(
            f"\t{{ {_cstr(sname)}, sizeof(struct {sname}), __alignof__(struct {sname}), "
            f"mc_members_{sname}, sizeof(mc_members_{sname}) / sizeof(mc_members_{sname}[0]) }},")
    lines.append("};")
    lines.append(f"#define MC_NR_LAYOUT_STRUCTS {len(structs)}")
    lines.append("_Static_assert(MC_NR_LAYOUT_STRUCTS == MC_NR_LAYOUT_STRUCT_LIST,")
    lines.append('\t       "the table covers the design\'s MC_LAYOUT_STRUCTS list");')
    return "\n".join(lines) + "\n"


def emit_enum_table(enums: dict[str, list[str]]) -> str:
    lines = [
        "/* Generated by tools/codegen.py: enum names from the parse, values from the compiler. */",
        '#include "memcore/layout_table.h"',
        "",
    ]
    for ename, members in enums.items():
        lines.append(f"static const struct mc_enum_entry mc_enum_{ename}[] = {{")
        for m in members:
            lines.append(f"\t{{ {_cstr(m)}, (long long){m} }},")
        lines.append("};")
        lines.append(f"#define MC_NR_ENUM_{ename} {len(members)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# folio flag helpers
# --------------------------------------------------------------------------

_OP = re.compile(r'@MCFOP\s+"(\w+)"\s*@')
_SPECIAL = re.compile(r'@MCFSPECIAL\s+"(\w+)"\s*;\s*"((?:[^"\\]|\\.)*)"\s*@')
_ROW = re.compile(r"@MCFLAG\s+(\w+)\s*;([^;@]*);\s*(\w+)\s*;([^;@]*);([^;@]*)@")
_OPS_EXPR = re.compile(r"^[\sA-Z_|()]+$")


@dataclass
class FlagRow:
    name: str              # helper suffix: folio_test_<name>
    bit: str | None        # PG_* enumerator, None when the test is not one bit
    page: str              # FOLIO_HEAD_PAGE or FOLIO_SECOND_PAGE
    ops: tuple[str, ...]   # the helpers the kernel defines: "test", "__set", ... (MCF_OPS order)
    special: str           # MCF_SPECIALS name: "NONE", "SWAPCACHE", "FALSE", ...
    meaning: str | None    # what the test means when it is not one bit (MCF_SPECIALS)


def _ops_of(expr: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """The ops of a preprocessed ops column, (MCF_OP_TEST | MCF_OP___SET) | ..."""
    if not _OPS_EXPR.match(expr):
        raise ValueError(f"ops column is not an | of MCF_OP_* names: {expr!r}")
    names = set(re.findall(r"\w+", expr))
    unknown = names - {f"MCF_OP_{op.upper()}" for op in known}
    if unknown:
        raise ValueError(f"unknown ops {sorted(unknown)} in {expr!r}")
    return tuple(op for op in known if f"MCF_OP_{op.upper()}" in names)


def parse_flag_table(design: str, bits: int) -> list[FlagRow]:
    """Rows of MC_FOLIO_FLAGS(X) as the variant's configuration selects them,
    with their ops (MCF_OPS) and special meanings (MCF_SPECIALS) by name."""
    text = preprocess("memcore/folio_flags_table.h", variant_defines(design, bits),
                      ["-DMC_FLAG_TABLE_DUMP"])
    ops = tuple(op.lower() for op in _OP.findall(text))
    meanings = {name: meaning or None for name, meaning in _SPECIAL.findall(text)}
    rows = []
    for m in _ROW.findall(text):
        bit = m[1].strip()
        special = re.fullmatch(r"\s*MCF_SPECIAL_(\w+)\s*", m[4])
        if special is None or special.group(1) not in meanings:
            raise ValueError(f"row {m[0]}: special column {m[4]!r} is not an MCF_SPECIAL_* name")
        rows.append(FlagRow(m[0], bit if re.fullmatch(r"PG_\w+", bit) else None, m[2],
                            _ops_of(m[3], ops), special.group(1), meanings[special.group(1)]))
    if not ops or not meanings or not rows:
        raise RuntimeError("folio flag table: no ops, specials or rows found")
    return rows


def _op_doc(r: FlagRow, op: str) -> str:
    pre = "__" if op.startswith("__") else ""
    base = op.lstrip("_")
    kname = f"{pre}folio_{base}_{r.name}" if base != "test" or pre else f"folio_test_{r.name}"
    what = r.meaning or r.bit
    where = "" if r.special != "NONE" else (" in page 1's flags (_flags_1)" if r.page == "FOLIO_SECOND_PAGE"
                                   else " in the head page's flags")
    if base == "test":
        return f"{kname}(): {what}{where}."
    if base in ("test_set", "test_clear"):
        verb = "set" if base == "test_set" else "clear"
        return f"{kname}(): {verb} {what}{where}, returning its old value."
    verb = {"set": "set", "clear": "clear", "mark": "set"}[base]
    kind = "non-atomic " if pre else ""
    return f"{kname}(): {kind}{verb} {what}{where}."


def method_name(op: str, name: str) -> str:
    """The Folio method of one (op, flag): ``test_dirty``, ``_nonatomic_set_locked``.

    The kernel's non-atomic helpers (``__folio_set_X``) would be methods
    ``__set_X``, which a class body cannot define: Python and Cython mangle a
    leading double underscore to ``_Folio__set_X``.  They are generated as
    ``_nonatomic_set_X``; Folio.__getattr__ answers to the kernel spelling
    through :data:`FOLIO_KERNEL_NAMES` (folio_flags_decl.pxi)."""
    if op.startswith("__"):
        return f"_nonatomic_{op[2:]}_{name}"
    return f"{op}_{name}"


def emit_folio_flags_pxi(rows: list[FlagRow]) -> str:
    """Cython methods of Folio, one per (flag, op) the kernel defines."""
    out = [
        "# Generated by tools/codegen.py from include/memcore/folio_flags_table.h.",
        "# Included inside `cdef class Folio`; do not edit.",
        "",
    ]
    for r in rows:
        # stubs of unconfigured flags touch nothing, so any folio will do
        second = r.page == "FOLIO_SECOND_PAGE" and r.special != "FALSE"
        getter = "self._f2()" if second else "self._f()"
        for op in r.ops:
            cfun = f"mcf_{op}_{r.name}"
            out.append(f"    def {method_name(op, r.name)}(self):")
            out.append(f'        """{_op_doc(r, op)}"""')
            if op.lstrip("_") in ("test", "test_set", "test_clear"):
                out.append(f"        return {cfun}({getter}) != 0")
            else:
                out.append(f"        {cfun}({getter})")
            out.append("")
    return "\n".join(out) + "\n"


def emit_folio_flags_decl(rows: list[FlagRow]) -> str:
    """extern declarations of the C helpers, and the table as Python data."""
    out = ["# Generated by tools/codegen.py from include/memcore/folio_flags_table.h; do not edit.",
           "# Provides: the mcf_* helpers of memcore/folio_flags.h, FOLIO_FLAG_HELPERS (the",
           "#   table as data) and FOLIO_KERNEL_NAMES; included by core/views.pxi.",
           'cdef extern from "memcore/folio_flags.h" nogil:']
    for r in rows:
        for op in r.ops:
            ret = "int" if op.lstrip("_").startswith("test") else "void"
            out.append(f"    {ret} mcf_{op}_{r.name}(folio *f)")
    out.append("")
    out.append("# (name, PG_ bit or None, page, ops, special meaning or None)")
    out.append("FOLIO_FLAG_HELPERS = (")
    for r in rows:
        page = "second" if r.page == "FOLIO_SECOND_PAGE" else "head"
        out.append(f"    ({r.name!r}, {r.bit!r}, {page!r}, {r.ops!r}, {r.meaning!r}),")
    out.append(")")
    out.append("")
    out.append("# Folio methods under the kernel's __<op>_<flag> spelling (see codegen.method_name)")
    out.append("FOLIO_KERNEL_NAMES = {")
    for r in rows:
        for op in r.ops:
            if method_name(op, r.name) != f"{op}_{r.name}":
                out.append(f"    {op + '_' + r.name!r}: {method_name(op, r.name)!r},")
    out.append("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# one variant
# --------------------------------------------------------------------------

def parse_variant_headers(design: str, bits: int) -> str:
    """The preprocessed LAYOUT_HEADER of one (design, bits), for the parser."""
    return preprocess(LAYOUT_HEADER, dict(variant_defines(design, bits), MC_PARSE=1))


def _write_if_changed(outdir: Path, files: dict[str, str]) -> list[Path]:
    """Write *files* ({name: text}) into *outdir*, leaving unchanged files
    alone (so their timestamps do not trigger recompilation)."""
    written = []
    for fname, content in files.items():
        p = outdir / fname
        if not p.exists() or p.read_text() != content:
            p.write_text(content)
        written.append(p)
    return written


def generate_variant(design: str, bits: int, outdir: Path) -> list[Path]:
    """Write the generated sources of one variant into *outdir*."""
    outdir.mkdir(parents=True, exist_ok=True)
    text = parse_variant_headers(design, bits)
    structs = parse_structs(text)
    enums = parse_enums(text)
    rows = parse_flag_table(design, bits)
    template = (ROOT / "memcore" / "core" / "views.pxi").read_text()
    marker = "    # @FOLIO_FLAG_METHODS@"
    if template.count(marker) != 1:
        raise RuntimeError("memcore/core/views.pxi must hold the @FOLIO_FLAG_METHODS@ line once")
    start = template.index(marker)
    end = template.index("\n", start) + 1
    views = (template[:start] + emit_folio_flags_pxi(rows) + template[end:])
    files = {
        "views_generated.pxi": views,
        "mc_layout_table.h": emit_layout_table(structs),
        "mc_enum_table.h": emit_enum_table(enums),
        "folio_flags_decl.pxi": emit_folio_flags_decl(rows),
    }
    return _write_if_changed(outdir, files)


# --------------------------------------------------------------------------
# memcore._layouts: the layout tables of every LAYOUTS entry in one module
# --------------------------------------------------------------------------

#: Generated header of memcore._layouts: the accessors of all its tables.
LAYOUTS_HEADER = "mc_layouts.h"


class LayoutsError(ValueError):
    """A LAYOUTS entry that cannot be built (said in one sentence)."""


def design_types_header(design: str) -> Path:
    """include/memcore/design_<design>_types.h: a design's structs and struct list."""
    return INCLUDE / "memcore" / f"design_{design}_types.h"


def layouts_name(design: str, bits: int) -> str:
    """The C name of one entry's accessor: ``mc_layouts_classic64``."""
    return f"mc_layouts_{design}{bits}"


def exports_name(design: str, bits: int) -> str:
    """The C name of one entry's exports (memcore/layout_exports.h): ``mc_exports_classic64``."""
    return f"mc_exports_{design}{bits}"


def check_layouts(layouts) -> list[tuple[str, int]]:
    """Validate setup.py's LAYOUTS: known word sizes, C-identifier designs
    whose types header exists, no duplicates."""
    seen: list[tuple[str, int]] = []
    for entry in layouts:
        design, bits = entry
        if not re.fullmatch(r"[a-z][a-z0-9_]*", design) or bits not in (32, 64):
            raise LayoutsError(f"LAYOUTS entry {entry!r}: want (design, 32 or 64) with a "
                               "lower-case C-identifier design")
        header = design_types_header(design)
        if not header.is_file():
            raise LayoutsError(
                f"LAYOUTS entry {entry!r}: the design's types header "
                f"{header.relative_to(ROOT)} does not exist (it declares the design's "
                "structs and MC_LAYOUT_STRUCTS(X))")
        if (design, bits) in seen:
            raise LayoutsError(f"LAYOUTS lists {entry!r} twice")
        seen.append((design, bits))
    if not seen:
        raise LayoutsError("LAYOUTS is empty")
    return seen


def emit_layouts_unit(design: str, bits: int) -> str:
    """The C file of one LAYOUTS entry: it selects its own design and word
    size, then includes the generated table and defines the accessor."""
    name = layouts_name(design, bits)
    defines = "".join(f"#define {k} {v}\n" for k, v in variant_defines(design, bits).items())
    return (
        f"/* Generated by tools/codegen.py for the LAYOUTS entry ({design}, {bits}); do not edit.\n"
        " * memcore._layouts compiles one such file per entry, each for its own design and\n"
        " * word size, so the macros are defined here and not on the command line. */\n"
        f"{defines}"
        f'#include "{design}{bits}_table.h"\n'
        '#include "memcore/layout_exports.h"\n'
        f'#include "{LAYOUTS_HEADER}"\n'
        "\n"
        f"const struct mc_struct_desc *{name}(size_t *n)\n"
        "{\n"
        "\t*n = MC_NR_LAYOUT_STRUCTS;\n"
        f"\treturn {name}_structs;\n"
        "}\n"
        "\n"
        f"const struct mc_design_exports *{exports_name(design, bits)}(void)\n"
        "{\n"
        "\treturn &mc_design_exports_data;\n"
        "}\n")


def emit_layouts_header(layouts) -> str:
    """mc_layouts.h: the accessor of every entry (memcore/_layouts.pyx uses it)."""
    lines = ["/* Generated by tools/codegen.py from setup.py's LAYOUTS; do not edit. */",
             "#ifndef MC_LAYOUTS_H", "#define MC_LAYOUTS_H", "",
             '#include "memcore/layout_table.h"', ""]
    for design, bits in layouts:
        lines.append(f"const struct mc_struct_desc *{layouts_name(design, bits)}(size_t *n);")
        lines.append(f"const struct mc_design_exports *{exports_name(design, bits)}(void);")
    lines += ["", "#endif /* MC_LAYOUTS_H */"]
    return "\n".join(lines) + "\n"


def generate_layout_unit(design: str, bits: int, outdir: Path) -> Path:
    """Write ``<design><bits>_table.h`` and ``<design><bits>.c`` of one entry;
    return the C file."""
    check_layouts([(design, bits)])
    outdir.mkdir(parents=True, exist_ok=True)
    structs = parse_structs(parse_variant_headers(design, bits))
    table = emit_layout_table(structs, table=f"{layouts_name(design, bits)}_structs")
    _write_if_changed(outdir, {f"{design}{bits}_table.h": table,
                               f"{design}{bits}.c": emit_layouts_unit(design, bits)})
    return outdir / f"{design}{bits}.c"


def generate_layouts(layouts, outdir: Path) -> list[Path]:
    """All of memcore._layouts' C sources (serially; tools/variant_build.py
    runs :func:`generate_layout_unit` in parallel instead)."""
    layouts = check_layouts(layouts)
    outdir.mkdir(parents=True, exist_ok=True)
    _write_if_changed(outdir, {LAYOUTS_HEADER: emit_layouts_header(layouts)})
    return [generate_layout_unit(d, b, outdir) for d, b in layouts]
