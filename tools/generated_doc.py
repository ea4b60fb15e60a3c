"""The one `--check` / write step of the tools that generate a page of docs/
(tools/api_doc.py, drgn_example.py, explore_doc.py): tests run `--check`, so
a page that no longer matches what its tool produces fails CI."""
from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(doc: Path, new: str, argv: list[str], tool: str) -> int:
    """With --check in argv: 0 if doc already holds `new`, else 1 and a note
    naming the tool that regenerates it; without: write `new` to doc."""
    old = doc.read_text() if doc.exists() else None
    if "--check" in argv:
        if new != old:
            sys.stderr.write(f"{doc.parent.name}/{doc.name} is stale: run python {tool}\n")
            return 1
        return 0
    if new != old:
        doc.write_text(new)
    return 0
