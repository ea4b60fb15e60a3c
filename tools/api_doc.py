#!/usr/bin/env python3
"""Write docs/API.md from the docstrings: the Machine, its views, SLUB and
RCU, KASAN, layouts, errors, the debugger modules and the command line, in
the order a user reads them.

    python tools/api_doc.py           # rewrite docs/API.md
    python tools/api_doc.py --check   # exit 1 if docs/API.md is not current

The page is what the installed package's docstrings say (the classic 64-bit
variant's classes: every variant has the same API); tests/test_api_discovery.py
runs --check, so a docstring change without a regenerated page fails CI.
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "API.md"


def _first_para(doc: str | None) -> str:
    return inspect.cleandoc(doc or "").split("\n\n")[0].replace("\n", " ")


def _doc(obj: object) -> str:
    text = inspect.cleandoc(getattr(obj, "__doc__", None) or "")
    lines = text.splitlines()
    # Cython puts "Class.method(signature)" first in a docstring: the heading has it
    if lines and "(" in lines[0] and lines[0].split("(")[0].split(".")[-1] == \
            getattr(obj, "__name__", None):
        text = "\n".join(lines[1:]).strip()
    return text


def _signature(obj: object) -> str:
    try:
        sig = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"
    return sig.replace("(self, ", "(").replace("(self)", "()")


def _members(cls: type, facade: type | None = None) -> list[str]:
    out = []
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(attr, (classmethod, staticmethod)) or "classmethod" in type(attr).__name__:
            attr = getattr(cls, name)
        if callable(attr) and not isinstance(attr, (property, type)):
            out.append(f"- **`{name}{_signature(attr)}`**")
        else:
            doc = getattr(facade, name).__doc__ if facade is not None and \
                hasattr(facade, name) else getattr(attr, "__doc__", None)
            out.append(f"- **`{name}`** (property)")
            attr = type("doc", (), {"__doc__": doc})
        body = _doc(attr)
        if body:
            out.append("")
            out.extend("  " + line if line else "" for line in body.splitlines())
        out.append("")
    return out


def _class(title: str, cls: type, facade: type | None = None) -> list[str]:
    lines = [f"### {title}", ""]
    doc = _doc(facade if facade is not None else cls)
    if doc:
        lines += [doc, ""]
    return lines + _members(cls, facade)


def _function(name: str, fn: object) -> list[str]:
    lines = [f"- **`{name}{_signature(fn)}`**", ""]
    body = _doc(fn)
    if body:
        lines += ["  " + line if line else "" for line in body.splitlines()] + [""]
    return lines


def _cli_help(args: list[str]) -> str:
    import os
    os.environ["COLUMNS"] = "100"          # argparse wraps to the terminal: fix the width
    from memcore import cli
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        cli.main([*args, "--help"])
    return out.getvalue().rstrip()


def render() -> str:
    import memcore
    import memcore.drgn
    import memcore.vmcore
    from memcore import errors, sizes
    impl = memcore._variants.module("classic", 64)
    m = memcore.Machine("64MiB")
    parts = [
        "# The memcore API",
        "",
        "Generated from the docstrings by `python tools/api_doc.py` (checked by",
        "tests/test_api_discovery.py). Every variant has this API; `memcore.Machine(...)`",
        "returns the variant's class, and `help(memcore.Machine)` shows the same text.",
        "",
        "Contents: [Machine](#machine) · [Views](#views) · [SLUB and RCU](#slub-and-rcu) ·",
        "[KASAN](#kasan) · [Layouts and the memdesc word](#layouts-and-the-memdesc-word) ·",
        "[Errors](#errors) · [drgn and crash dumps](#drgn-and-crash-dumps) ·",
        "[The command line](#the-command-line)",
        "",
        "## Machine",
        "",
        "```python",
        "memcore.Machine" + str(inspect.signature(memcore.Machine.__new__)).replace("(cls, ", "("),
        "```",
        "",
        "Sizes (`ram`, `--ram`; `memcore.sizes.parse_size`): "
        + inspect.cleandoc(sizes.__doc__ or "").split("\n\n")[1].replace("\n", " "),
        "",
    ]
    parts += _class("memcore.Machine", impl.Machine, memcore.Machine)[2:]
    parts += ["## Views", ""]
    for name in ("Page", "Folio", "PgFlags", "Task", "AddressSpace"):
        parts += _class(f"memcore.{name}", getattr(impl, name), getattr(memcore, name))
    parts += ["## SLUB and RCU", ""]
    for name in ("KmemCache", "Slab", "SlabObject", "FolioSlab"):
        parts += _class(f"memcore.{name}", getattr(impl, name), getattr(memcore, name))
    parts += _class("RCU (`m.rcu`)", type(m.rcu))
    parts += ["## KASAN", "",
              "`memcore.Machine(..., kasan=True)` checks every access through the API",
              "against a shadow, as generic KASAN does, and raises `memcore.KASANReport`",
              "with the kernel's report text:", ""]
    parts += _class("memcore.KASANReport", errors.KASANReport)
    parts += ["## Layouts and the memdesc word", ""]
    for name in ("layout", "struct_names", "layout_variants", "layout_facts", "flags_layout",
                 "decode_memdesc", "encode_memdesc", "memdesc_types", "pageflags", "pagetype",
                 "variants"):
        parts += _function(f"memcore.{name}", getattr(memcore, name))
    import importlib
    layout_mod = importlib.import_module("memcore.layout")
    parts += _function("memcore.layout.diff", layout_mod.diff)
    for name in ("Layout", "Member", "Hole", "FlagsLayout", "Memdesc", "MemdescType"):
        cls = getattr(memcore, name, None) or getattr(layout_mod, name)
        parts += _class(f"memcore.{name}" if hasattr(memcore, name) else
                        f"memcore.layout.{name}", cls)
    parts += ["## Errors", "",
              "Every error is a `memcore.MemcoreError`; a refused call leaves the machine",
              "unchanged.", ""]
    for name in ("MemcoreError", "UnknownChoice", "VMBug", "BadPageState", "RefcountError",
                 "FolioNotLocked", "TailPageError", "Deadlock", "PFNOutOfRange",
                 "OrderOutOfRange", "OutOfMemory", "InvalidAddress", "KASANReport",
                 "SnapshotError", "NotSupported", "NoMemdesc", "FlagsLayoutError"):
        cls = getattr(memcore, name)
        bases = ", ".join(b.__name__ for b in cls.__bases__)
        parts += [f"- **`memcore.{name}`** ({bases}): {_first_para(cls.__doc__)}"]
    parts += ["", "## drgn and crash dumps", "", _first_para(memcore.drgn.__doc__), ""]
    for name in memcore.drgn.__all__:
        obj = getattr(memcore.drgn, name)
        if isinstance(obj, type):
            parts += [f"- **`memcore.drgn.{name}`**: {_first_para(obj.__doc__)}", ""]
        else:
            parts += _function(f"memcore.drgn.{name}", obj)
    for name in ("save_vmcore", "vmcoreinfo", "build_id"):
        parts += _function(f"memcore.vmcore.{name}", getattr(memcore.vmcore, name))
    parts += ["## The command line", ""]
    top = _cli_help([])
    parts += ["```console", "$ memcore --help", top, "```", ""]
    from memcore.cli import build_parser
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for cmd in sub.choices:
        parts += [f"### memcore {cmd}", "", "```console", f"$ memcore {cmd} --help",
                  _cli_help([cmd]), "```", ""]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/API.md is stale")
    args = ap.parse_args(argv)
    from generated_doc import write_or_check
    return write_or_check(DOC, render(), ["--check"] if args.check else [], "tools/api_doc.py")


if __name__ == "__main__":
    sys.exit(main())
