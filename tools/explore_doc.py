"""Write the explorer's own output into docs/EXPLORE.md.

docs/EXPLORE.md marks where generated text goes:

    <!-- explore list -->                          memcore explore --list
    <!-- explore steps -->                         the step primitives (memcore.explore.STEPS)
    <!-- explore program NAME DESIGN BITS -->      the scenario's tasks, numbered
    <!-- explore counterexample NAME DESIGN BITS -->   its violation and schedule
    <!-- explore example -->                       python docs/explore_example.py
    <!-- /explore -->                              (closes each block)

The counterexamples are what ``memcore explore NAME --design D --bits B``
prints, without its timing line (the only part that changes run to run).

    python tools/explore_doc.py          rewrite the blocks
    python tools/explore_doc.py --check  exit 1 if a block is stale

tests/test_explore.py runs the check.
"""
from __future__ import annotations

import contextlib
import io
import re
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "EXPLORE.md"

_BLOCK = re.compile(r"(<!-- explore (list|steps|program|counterexample|example)([^>]*?) -->\n)(.*?)"
                    r"(<!-- /explore -->)", re.S)


def _list() -> str:
    from memcore import explore
    return explore.list_text()


def _steps() -> str:
    from memcore import explore
    rows = [f"{name}({', '.join(kinds)})".ljust(40) + what
            for name, (_, kinds, what) in explore.STEPS.items()]
    rows += ["folio_lock(reg, recheck=True)".ljust(40) + "folio_trylock(), else the slow path "
             "(recheck=False: without its second try)",
             "folio_unlock(reg)".ljust(40) + "folio_unlock_xor(), and folio_wake_bit() if "
             "PG_waiters was set",
             "label, goto, if_failed, if_ok, if_null,".ljust(40) + "control (a local step: it",
             "set_null, end".ljust(40) + "joins the step before it)"]
    return "\n".join(rows)


def _program(name: str, design: str, bits: int) -> str:
    from memcore import explore
    s = explore.scenario(name, design, int(bits))
    try:
        return s.describe()
    finally:
        s.close()


def _counterexample(name: str, design: str, bits: int) -> str:
    from memcore import explore
    s = explore.scenario(name, design, int(bits))
    try:
        r = s.explore()
        if r.passed:
            return f"{name} on {design}{bits}: no counterexample"
        sched = ",".join(str(t) for t in r.schedule or [])
        return (f"$ memcore explore {name} --design {design} --bits {bits}\n"
                f"{name} on {design}{bits}: COUNTEREXAMPLE\n  {r.violation}\n\n"
                f"{r.counterexample}\n\n"
                f"replay: memcore explore {name} --design {design} --bits {bits} "
                f"--replay {sched}")
    finally:
        s.close()


def _example() -> str:
    buf = io.StringIO()
    argv = sys.argv
    sys.argv = ["explore_example.py"]
    try:
        with contextlib.redirect_stdout(buf):
            runpy.run_path(str(ROOT / "docs" / "explore_example.py"), run_name="__main__")
    finally:
        sys.argv = argv
    return "$ python docs/explore_example.py\n" + buf.getvalue().rstrip("\n")


def render(text: str) -> str:
    def block(m: re.Match[str]) -> str:
        kind, args = m.group(2), m.group(3).split()
        body = {"list": lambda: _list(),
                "steps": lambda: _steps(),
                "program": lambda: _program(*args),
                "counterexample": lambda: _counterexample(*args),
                "example": lambda: _example()}[kind]()
        return f"{m.group(1)}```\n{body}\n```\n{m.group(5)}"
    return _BLOCK.sub(block, text)


def main(argv: list[str] | None = None) -> int:
    from generated_doc import write_or_check
    argv = sys.argv[1:] if argv is None else argv
    return write_or_check(DOC, render(DOC.read_text()), argv, "tools/explore_doc.py")


if __name__ == "__main__":
    sys.exit(main())
