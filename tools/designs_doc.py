"""Write the model's own struct listings into docs/DESIGNS.md.

docs/DESIGNS.md marks where a listing goes:

    <!-- layout STRUCT DESIGN BITS -->
    <!-- /layout -->

and where the memmap table goes (``<!-- memmap -->`` ... ``<!-- /memmap -->``).
This tool fills each block from memcore (``memcore.layout(...).pahole()``,
the same text ``memcore layout STRUCT --design D --bits B`` prints), so the
page shows the compiled headers, never a hand copy.

    python tools/designs_doc.py          rewrite the blocks
    python tools/designs_doc.py --check  exit 1 if a block is stale

tests/test_designs_doc.py runs the check.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "DESIGNS.md"

_LAYOUT = re.compile(r"(<!-- layout (\w+) (\w+) (\d+) -->\n)(.*?)(<!-- /layout -->)", re.S)
_MEMMAP = re.compile(r"(<!-- memmap -->\n)(.*?)(<!-- /memmap -->)", re.S)

GIB = 1 << 30


def _listing(name: str, design: str, bits: int) -> str:
    import memcore

    text = memcore.layout(name, design, bits).pahole().rstrip("\n")
    return f"`{design}`, {bits}-bit:\n\n```\n{text}\n```\n"


def _memmap() -> str:
    import memcore

    rows = ["| design | bits | sizeof(struct page) | memmap bytes per GiB | share of RAM "
            "| small folio | large folio | slab | ptdesc |",
            "|---|---|---|---|---|---|---|---|---|"]
    for design, bits in memcore.layout_variants():
        facts = memcore.layout_facts(design, bits)
        page = memcore.layout("page", design, bits).size
        per_gib = page * (GIB // facts["page_size"])
        if "small_folio_size" in facts:
            desc = [facts["small_folio_size"]] + [
                memcore.layout(n, design, bits).size for n in ("folio", "slab", "ptdesc")]
            cells = " | ".join(str(d) for d in desc)
        else:
            cells = " | ".join(["in the memmap"] * 4)
        rows.append(f"| {design} | {bits} | {page} | {per_gib:,} | "
                    f"{100 * per_gib / GIB:.4f}% | {cells} |")
    return "\n".join(rows) + (
        "\n\nDescriptor sizes are bytes per object (their caches align them to 16). "
        "They come on top of the memmap: one per folio, slab or page table, not per "
        "page; `memcore estimate` prices a real machine's with them.\n")


def render(text: str) -> str:
    text = _LAYOUT.sub(lambda m: m.group(1) + _listing(m.group(2), m.group(3), int(m.group(4)))
                       + m.group(6), text)
    return _MEMMAP.sub(lambda m: m.group(1) + _memmap() + m.group(3), text)


def main(argv: list[str]) -> int:
    old = DOC.read_text()
    new = render(old)
    if "--check" in argv:
        if new != old:
            print(f"{DOC} is stale: run python tools/designs_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
