"""Render a Layout as pahole prints a struct from BTF.

The rules follow pahole's own output (checked against
``pahole -C page /sys/kernel/btf/vmlinux``, tests/data/linux-6.18-x86_64-pahole.txt):

* one tab per nesting level; the type column is padded to
  ``w = 26 - 8 * (depth - 1)`` characters, and for ``struct X`` members only
  the tag is padded, to ``w - 7``; deep in nesting these go negative, and
  printf then pads to the absolute value (pahole passes them to ``%-*s``);
* the ``/* offset size */`` comment starts after column 56 (tabs count 8);
  bitfields print ``/* offset:bit size */``;
* cacheline boundaries, holes and tail padding are annotated, then a summary.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .layout import Layout

from .layout import AGGREGATE_KINDS, CACHELINE, _hole_before
_COMMENT_COL = 56


def _visual_len(s: str) -> int:
    return len(s.expandtabs(8))


def _with_comment(text: str, comment: str) -> str:
    pad = _COMMENT_COL - _visual_len(text)
    return text + " " * max(pad, 0) + " " + comment


def _decl(type_base: str, name: str, depth: int) -> str:
    width = 26 - 8 * (depth - 1)   # may go negative: printf then uses its absolute value
    if type_base.startswith(("struct ", "union ")) and not type_base.endswith("*"):
        kw, tag = type_base.split(" ", 1)
        return f"{kw} {tag:<{abs(width - 7)}} {name}"
    return f"{type_base:<{abs(width)}} {name}"


def render(layout: Layout) -> str:
    nodes = layout._nodes
    children: dict[int, list[int]] = {-1: []}
    for i, n in enumerate(nodes):
        children.setdefault(i, [])
        children[n.parent].append(i)

    out = [f"struct {layout.name} {{"]
    holes: list[int] = []

    def boundary(state: dict[str, int], offset: int, depth: int) -> None:
        # each nesting level keeps its own "last cacheline", as pahole does
        line = offset // CACHELINE
        if line > state["cacheline"]:
            state["cacheline"] = line
            ago = offset - line * CACHELINE
            tail = f" was {ago} bytes ago" if ago else ""
            out.append("\t" * depth +
                       f"/* --- cacheline {line} boundary ({line * CACHELINE} bytes){tail} --- */")

    hole_before = _hole_before(nodes)

    def emit(idx_list: list[int], depth: int, in_union: bool, start: int) -> None:
        state = {"cacheline": start // CACHELINE}
        for i in idx_list:
            n = nodes[i]
            if i in hole_before:
                gap = hole_before[i][0]
                holes.append(gap)
                # pahole sets a hole's comment off with an empty line each side
                out.append("")
                out.append("\t" * depth + f"/* XXX {gap} byte{'s' if gap != 1 else ''} hole, try to pack */")
                out.append("")
            boundary(state, n.offset, depth)
            ind = "\t" * depth
            if n.kind in AGGREGATE_KINDS:
                out.append(ind + n.type + " {")            # "struct" or "union"
                emit(children[i], depth + 1, n.kind == "anon_union", n.offset)
                out.append(_with_comment(ind + "};", f"/* {n.offset:5d} {n.size:5d} */"))
            elif n.kind == "bitfield":
                bit_in_unit = n.bit_offset - n.offset * 8
                text = ind + _decl(n.type, f"{n.name}:{n.bit_size};", depth)
                out.append(_with_comment(text, f"/* {n.offset:5d}:{bit_in_unit:2d} {n.size:2d} */"))
            else:
                text = ind + _decl(n.type, f"{n.name}{n.array};", depth)
                out.append(_with_comment(text, f"/* {n.offset:5d} {n.size:5d} */"))

    top = children[-1]
    emit(top, 1, False, 0)
    last = nodes[top[-1]]
    used_end = max(nodes[i].offset + nodes[i].size for i in top)
    padding = layout.size - used_end
    out.append("")
    cachelines = -(-layout.size // CACHELINE)
    out.append(f"\t/* size: {layout.size}, cachelines: {cachelines}, members: {len(top)} */")
    if holes:
        sum_members = layout.size - padding - sum(holes)
        out.append(f"\t/* sum members: {sum_members}, holes: {len(holes)}, sum holes: {sum(holes)} */")
    if padding:
        out.append(f"\t/* padding: {padding} */")
    if layout.size % CACHELINE:
        out.append(f"\t/* last cacheline: {layout.size % CACHELINE} bytes */")
    del last
    out.append("};")
    return "\n".join(out) + "\n"
