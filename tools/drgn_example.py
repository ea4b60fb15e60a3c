#!/usr/bin/env python3
"""Write docs/DRGN.md's worked example from a real run: `memcore dump`, the
drgn command line on its vmcore, and memcore.drgn on a live memdesc
machine.  Every output block in the page is what this script got.

    python tools/drgn_example.py           # rewrite docs/DRGN.md's session
    python tools/drgn_example.py --check   # exit 1 if the page is not current

The model is deterministic, so the output (addresses included) is the same
on every run; tests/test_drgn.py runs --check.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "DRGN.md"
BEGIN = "<!-- BEGIN GENERATED SESSION (tools/drgn_example.py) -->"
END = "<!-- END GENERATED SESSION -->"
SHOWN = "/tmp/m.core"           # the path the page shows

CLI_SCRIPT = '''\
from drgn.helpers.linux.mm import decode_page_flags, pfn_to_page, compound_order
from drgn.helpers.linux.slab import (find_slab_cache, for_each_slab_cache,
                                     slab_cache_usage, slab_cache_for_each_allocated_object)
from drgn.helpers.linux.mmzone import NODE_DATA
from drgn.helpers.linux.cpumask import for_each_online_cpu

print(prog["UTS_RELEASE"].string_().decode())
print("caches:", [s.name.string_().decode() for s in for_each_slab_cache(prog)][:4], "...")
s = find_slab_cache(prog, "demo_objects")
print("demo_objects: size", s.size.value_(), "objects/slab", s.oo.x.value_() & 0xffff,
      slab_cache_usage(s))
objs = [o.value_() for o in slab_cache_for_each_allocated_object(s, "char")]
print(len(objs), "allocated, first", hex(objs[0]))
pgdat = NODE_DATA(prog, 0)
print("node 0: start_pfn", pgdat.node_start_pfn.value_(), "present",
      pgdat.node_present_pages.value_(), "CPUs", list(for_each_online_cpu(prog)))
page = pfn_to_page(prog, PFN)
print(hex(page), "mapping", hex(page.mapping), "index", page.__folio_index.value_(),
      "refcount", page._refcount.counter.value_())
print(decode_page_flags(page), "order", compound_order(page).value_())
'''

LIVE = '''\
import drgn, memcore, memcore.drgn
from drgn.helpers.linux.mm import pfn_to_page
from memcore.drgn import page_folio, folio_order, memdesc_type, memdesc_descriptor

m = memcore.Machine("64MiB", design="memdesc")
f = m.alloc_folio(2)
m.address_space("a").add_folio(0, f)
f.unlock()
prog = memcore.drgn.program(m)
page = pfn_to_page(prog, f.pfn + 3)        # the folio's last page
print(prog.type("struct page"))
print("memdesc", hex(page.memdesc.v))
desc = memdesc_descriptor(page)
print(memdesc_type(page), desc.type_, hex(desc))
folio = page_folio(page)
print("refcount", folio._refcount.counter.value_(), "order", folio_order(folio),
      "memcore:", f.refcount, f.order)
'''


def _run(cmd: list[str], cwd: Path, tmp: Path) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stdout}{out.stderr}")
    return out.stdout.replace(str(tmp / "m.core"), SHOWN)


def session() -> str:
    import memcore
    import memcore.vmcore
    try:
        import drgn  # noqa: F401
    except ImportError:
        raise SystemExit("drgn is not installed: pip install 'memcore[drgn]'") from None
    drgn_cli = [sys.executable, "-m", "drgn"]      # the `drgn` command, of this Python
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        core = tmp / "m.core"
        dump_out = _run([sys.executable, "-m", "memcore.cli", "dump", "--vmcore", str(core),
                         "--ram", "256MiB"], ROOT / "tests", tmp)
        # the same machine (populate() is deterministic) for a file folio's PFN
        m = memcore.Machine("256MiB", cpus=2)
        made = memcore.vmcore.populate(m)
        pfn = made["file"][2].pfn
        script = CLI_SCRIPT.replace("PFN", str(pfn))
        (tmp / "look.py").write_text(script)
        cli_out = _run([*drgn_cli, "-q", "-c", str(core), "-s", f"{core}.types",
                        str(tmp / "look.py")], tmp, tmp)
        dump_page = m.page(pfn).dump()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(LIVE, "<live>", "exec"), {})
    parts = [
        "```console",
        f"$ memcore dump --vmcore {SHOWN} --ram 256MiB",
        dump_out.rstrip(),
        "```",
        "",
        "A drgn script (`look.py`), run on the dump with drgn's own Linux helpers:",
        "",
        "```python",
        script.rstrip(),
        "```",
        "",
        "```console",
        f"$ drgn -q -c {SHOWN} -s {SHOWN}.types look.py",
        cli_out.rstrip(),
        "```",
        "",
        f"memcore's `dump_page()` of the same page (`m.page({pfn}).dump()`):",
        "",
        "```",
        dump_page.rstrip(),
        "```",
        "",
        "A live memdesc machine (8-byte struct page) from Python, with memcore.drgn's",
        "helpers following a page of a file folio to its folio descriptor:",
        "",
        "```python",
        LIVE.rstrip(),
        "```",
        "",
        "```",
        buf.getvalue().rstrip(),
        "```",
    ]
    return "\n".join(parts)


def render(text: str, body: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{body}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/DRGN.md is stale")
    args = ap.parse_args(argv)
    from generated_doc import write_or_check
    return write_or_check(DOC, render(DOC.read_text(), session()),
                          ["--check"] if args.check else [], "tools/drgn_example.py")


if __name__ == "__main__":
    sys.exit(main())
