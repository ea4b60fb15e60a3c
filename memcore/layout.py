"""Struct layouts as the compiled layout tables report them.

``memcore.layout("page", bits=32)`` asks ``memcore._layouts`` for the
generated member table of (classic, 32) (names and kernel type names from the
parsed headers, numbers from the compiler) and presents it the way pahole
does: member paths name only named members, anonymous unions and structs add
nothing to a path.

``memcore._layouts`` holds the tables of every (design, bits) of setup.py's
LAYOUTS, which needs only a design's types header: it has the layouts of
designs whose machines (variant modules) are not built, and importing it
loads no machine.  A variant module holds the same table for its own
(design, bits) (``_layout_tables()``; the tests hold them equal).
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

from . import _variants
from .errors import UnknownChoice

#: Cache line size used for pahole's cacheline annotations (x86: 64 bytes).
CACHELINE = 64

#: Row kinds (MC_MEMBER_KINDS of include/memcore/layout_table.h) that group members.
AGGREGATE_KINDS = ("anon_struct", "anon_union")


@dataclass(frozen=True)
class Member:
    """One named member of a struct."""

    path: str        #: member name as pahole prints it (anonymous levels omitted)
    type: str        #: kernel type name, e.g. ``"struct list_head"``, ``"atomic_t"``
    offset: int      #: byte offset (of the storage unit, for bitfields)
    size: int        #: size in bytes (of the storage unit, for bitfields)
    bit_offset: int  #: first bit from the start of the struct
    bit_size: int    #: number of bits

    @property
    def is_bitfield(self) -> bool:
        return self.bit_size != self.size * 8

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "type": self.type, "offset": self.offset,
                "size": self.size, "bit_offset": self.bit_offset, "bit_size": self.bit_size}


@dataclass(frozen=True)
class Hole:
    """Bytes between two members of a struct that nothing uses (pahole's
    "XXX n bytes hole, try to pack")."""

    offset: int      #: first byte of the hole
    size: int        #: its bytes
    after: str       #: the member before it (an anonymous aggregate: "struct {...}"/"union {...}")


#: names the kernel's macros give members and types (``#define rcu_head
#: callback_head``): a lookup by the macro's name finds the member
MEMBER_ALIASES = {"rcu_head": "callback_head"}


@dataclass(frozen=True)
class _Node:
    """A row of the member tree, named or anonymous, with its derived extent."""

    name: str | None
    type: str
    array: str
    kind: str        #: a name of the variant's MEMBER_KIND_NAMES
    parent: int
    depth: int
    offset: int
    size: int
    align: int
    bit_offset: int
    bit_size: int


class Layout:
    """The layout of one struct in one variant (design, word size)."""

    def __init__(self, name: str, design: str, bits: int, size: int, align: int,
                 nodes: Sequence[_Node]):
        self.name = name
        self.design = design
        self.bits = bits
        self.size = size
        self.align = align
        self._nodes = nodes
        self.members = tuple(
            Member(n.name, n.type + n.array, n.offset, n.size, n.bit_offset, n.bit_size)
            for n in nodes if n.name is not None)
        self._by_path = {m.path: m for m in self.members}

    def __repr__(self) -> str:
        return (f"<Layout struct {self.name} ({self.design}, {self.bits}-bit): "
                f"{self.size} bytes, {len(self.members)} members>")

    def __getitem__(self, path: str) -> Member:
        try:
            return self._by_path[self._resolve(path)]
        except KeyError:
            import difflib
            close = difflib.get_close_matches(path, list(self._by_path), n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise KeyError(f"struct {self.name} ({self.design}, {self.bits}-bit) has no "
                           f"member {path!r}{hint}") from None

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self._resolve(path) in self._by_path

    def _resolve(self, path: str) -> str:
        """A kernel macro's name for a member (MEMBER_ALIASES) is the member."""
        head, dot, rest = path.partition(".")
        if head not in self._by_path and head in MEMBER_ALIASES:
            return MEMBER_ALIASES[head] + dot + rest
        return path

    def holes(self) -> list[Hole]:
        """Every hole between members, at any nesting level, in the order
        pahole prints them (tail padding is :attr:`padding`)."""
        names = {i: n.name or f"{n.type} {{...}}" for i, n in enumerate(self._nodes)}
        return [Hole(self._nodes[i].offset - gap, gap, names[prev])
                for i, (gap, prev) in _hole_before(self._nodes).items()]

    @property
    def padding(self) -> int:
        """Bytes at the end of the struct after its last member."""
        top = [n for n in self._nodes if n.parent < 0]
        return self.size - max(n.offset + n.size for n in top)

    def __iter__(self) -> Iterator[Member]:
        return iter(self.members)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "design": self.design, "bits": self.bits,
                "size": self.size, "align": self.align,
                "members": [m.to_dict() for m in self.members]}

    # ------------------------------------------------------------------
    # pahole rendering
    # ------------------------------------------------------------------
    def pahole(self) -> str:
        """pahole-style text: offsets and sizes, bitfields, holes, cachelines."""
        from ._pahole import render

        return render(self)


def _hole_before(nodes: Sequence[_Node]) -> dict[int, tuple[int, int]]:
    """{node index: (bytes of the hole before it, index of the node before
    the hole)}: a member of a struct (not of a union) that starts after
    where the members before it at its level end."""
    out: dict[int, tuple[int, int]] = {}
    last: dict[int, tuple[int, int]] = {}          # parent -> (end so far, last child)
    for i, n in enumerate(nodes):
        in_union = n.parent >= 0 and nodes[n.parent].kind == "anon_union"
        if n.parent in last and not in_union:
            end, prev = last[n.parent]
            if n.offset > end:
                out[i] = (n.offset - end, prev)
        end = n.offset + n.size
        if n.parent in last:
            end = max(end, last[n.parent][0]) if in_union else end
        last[n.parent] = (end, i)
    return out


def diff(a: Layout, b: Layout) -> list[dict[str, Any]]:
    """Member by member, how struct a (one variant) becomes struct b
    (another): each member of either with its offset and size in each and
    what changed: "same", "moves", "grows", "shrinks", "moves, grows",
    "vanishes" (only in a), "new" (only in b)."""
    rows = []
    paths = list(dict.fromkeys([m.path for m in a] + [m.path for m in b]))
    for path in paths:
        x, y = a._by_path.get(path), b._by_path.get(path)
        if x is None or y is None:
            change = "new" if x is None else "vanishes"
        else:
            what = []
            if x.offset != y.offset or x.bit_offset - 8 * x.offset != y.bit_offset - 8 * y.offset:
                what.append("moves")
            if y.bit_size != x.bit_size:
                what.append("grows" if y.bit_size > x.bit_size else "shrinks")
            change = ", ".join(what) or "same"
        rows.append({"path": path, "change": change,
                     "a": None if x is None else {"offset": x.offset, "size": x.size,
                                                  "bit_size": x.bit_size},
                     "b": None if y is None else {"offset": y.offset, "size": y.size,
                                                  "bit_size": y.bit_size}})
    return rows


def _derive_extents(rows: Iterable[Sequence[Any]]) -> list[_Node]:
    """Fill in offset/size/align of anonymous aggregates from their members."""
    nodes = [list(r) for r in rows]
    children: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
    for i, r in enumerate(nodes):
        if r[4] >= 0:
            children[r[4]].append(i)
    # children come after their parent in pre-order: walk backwards
    for i in range(len(nodes) - 1, -1, -1):
        r = nodes[i]
        kind = r[3]
        if kind not in AGGREGATE_KINDS:
            continue
        kids = [nodes[j] for j in children[i]]
        if not kids:
            raise RuntimeError("empty anonymous aggregate in layout table")
        align = max(k[8] for k in kids)
        start = min(k[6] for k in kids)
        end = max(k[6] + k[7] for k in kids)
        size = -(-(end - start) // align) * align
        r[6], r[7], r[8] = start, size, align
        r[9], r[10] = start * 8, size * 8
    return [_Node(*r) for r in nodes]


@lru_cache(maxsize=None)
def _layouts() -> ModuleType:
    try:
        return importlib.import_module("memcore._layouts")
    except ImportError:
        raise ImportError(
            "memcore: the layout tables (memcore._layouts) are not built; this is the source "
            "tree without a build. Install with `pip install .` and run from another "
            "directory, or build in place with `pip install -e .`") from None


def layout_variants() -> tuple[tuple[str, int], ...]:
    """(design, bits) of every variant whose struct layouts memcore has, in
    setup.py's LAYOUTS order.  This includes designs whose machines are not
    built (``memcore.variants()`` lists those that are)."""
    pairs: tuple[tuple[str, int], ...] = tuple(_layouts().available())
    return pairs


@lru_cache(maxsize=None)
def _tables(design: str, bits: int) -> dict[str, tuple[int, int, list[tuple[Any, ...]]]]:
    design, bits = _variants.check_choice(design, bits, layout_variants())
    tables: dict[str, tuple[int, int, list[tuple[Any, ...]]]] = _layouts().tables(design, bits)
    return tables


@lru_cache(maxsize=None)
def _facts(design: str, bits: int) -> dict[str, int]:
    design, bits = _variants.check_choice(design, bits, layout_variants())
    facts: dict[str, int] = _layouts().facts(design, bits)
    return facts


def layout_facts(design: str = "classic", bits: int = 64) -> dict[str, int]:
    """Named compile-time numbers of a layout variant, as compiled
    (include/memcore/layout_exports.h): ``page_size``, ``sizeof_page``,
    ``nr_pageflags``, ``flags_free_bits``, and where a design has them
    ``compound_order_width``/``compound_order_shift`` (flags_memdesc: the
    order's width and, when it is in the flags word, its shift),
    ``small_folio_size`` and ``memdesc_align``.

    >>> memcore.layout_facts("flags_memdesc", 32)["flags_free_bits"]
    1
    """
    return dict(_facts(design, bits))


def layout_notes(name: str, design: str = "classic", bits: int = 64) -> list[str]:
    """Why a struct of a design looks as it does, where a number decided it
    (derived from :func:`layout_facts`, never a stored sentence)."""
    f = _facts(design, bits)
    notes = []
    if name == "page" and "compound_order_width" in f:
        width, free = f["compound_order_width"], f["flags_free_bits"]
        config = "x86_64" if bits == 64 else "i386"
        if "compound_order_shift" in f:
            shift = f["compound_order_shift"]
            notes.append(
                f"the compound order (claim S3: {width} bits at {bits} bits) is in flags, "
                f"bits {shift}..{shift + width - 1}: the {config} flags word has {free} "
                "free bits (memcore layout flags)")
        else:
            notes.append(
                f"`order` is a word of its own: the compound order needs {width} bits "
                f"(claim S3) and the {config} flags word has {free} free bit"
                f"{'' if free == 1 else 's'} (memcore layout flags --config {config})")
    if name == "folio" and "small_folio_size" in f:
        size = f["small_folio_size"]
        notes.append(
            f"an order-0 folio is the first {size} bytes (up to _flags_1, where the large-folio members start), the "
            f"object size of the small folio cache; large folios use all "
            f"{layout(name, design, bits).size}")
    return notes


def struct_names(design: str = "classic", bits: int = 64) -> tuple[str, ...]:
    """Struct names whose layouts the variant exports, in display order (the
    design's MC_LAYOUT_STRUCTS list); any of :func:`layout_variants`."""
    return tuple(_tables(design, bits))


@lru_cache(maxsize=None)
def layout(name: str, design: str = "classic", bits: int = 64) -> Layout:
    """Layout of ``struct name`` in the given design and word size (any of
    :func:`layout_variants`; an unknown one raises UnknownChoice naming the
    valid ones).

    >>> memcore.layout("slab")["inuse"].bit_offset
    320
    """
    tables = _tables(design, bits)
    if name not in tables:
        raise UnknownChoice("struct", name, tables)
    size, align, rows = tables[name]
    return Layout(name, design, bits, size, align, _derive_extents(rows))
