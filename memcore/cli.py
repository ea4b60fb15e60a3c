"""The ``memcore`` command line.

    memcore layout page folio slab ptdesc [--bits 32] [--design classic] [--json]
    memcore layout --compare page folio slab     (every design and word size with layouts)
    memcore layout flags [--config i386 | KEY=VALUE,... | FILE.config] [--bits 32]
    memcore snapshot save FILE.npz [--first-pfn N] [--max-pfns N]
    memcore estimate [--snapshot FILE.npz] [--json]
    memcore bench [--quick] [--only NAME[,NAME]] [--variants ID[,ID]] [--json]
    memcore profile [--ram 1GiB] [--workload NAME ...] [--variants ID ...] [--json]
                    [--plot FILE.png] [--quiet] [--quick]
    memcore explore --list [--json]
    memcore explore SCENARIO [--design D] [--bits B] [--random N --seed S] [--replay T,T,..]
    memcore explore --all [--design D] [--bits B]
    memcore boot --ram 4GiB [--bits 32] [--design D] [--nodes N] [--cpus N]
                 [--show zoneinfo,buddyinfo,...] [--json]

Errors in what the user asked for (unknown struct, design, word size,
config) print one line naming the valid choices and exit with status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from . import _variants
from .errors import MemcoreError, UnknownChoice
from .flagslayout import compute, flags_layout
from .layout import Layout, layout, layout_notes, layout_variants, struct_names

GIB = 1 << 30
PAGE_SIZE = 4096


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _fail(msg: str) -> int:
    sys.stderr.write(f"memcore: error: {msg}\n")
    return 2


def _bits(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid word size {value!r}; valid: 32, 64") from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="memcore", description="An executable model of Linux memory descriptors.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    lay = sub.add_parser("layout", help="struct layouts (pahole style) and the page-flags word",
                         description="Print struct layouts as pahole does, compare them across "
                                     "variants, or draw the page-flags word ('flags').")
    lay.add_argument("names", nargs="*", metavar="STRUCT",
                     help="page, folio, slab, ptdesc, buddy (the designs that have it), or 'flags' "
                          "(default: all structs of the design)")
    lay.add_argument("--bits", type=_bits, action="append",
                     help="word size: 64 (default) or 32 (twice with --diff)")
    lay.add_argument("--design", action="append",
                     help="design: " + ", ".join(dict.fromkeys(d for d, _ in _layout_variants_or_none()))
                     + " (default: classic; twice with --diff)")
    lay.add_argument("--diff", action="store_true",
                     help="member by member, how a struct changes from one variant to another "
                          "(--bits 32 --bits 64, or --design classic --design memdesc): moves, "
                          "grows, shrinks, vanishes, new")
    lay.add_argument("--json", action="store_true", help="print a JSON list of Layout.to_dict()")
    lay.add_argument("--compare", action="store_true",
                     help="all variants side by side (with memmap bytes per GiB for page)")
    lay.add_argument("--config", default=None,
                     help="flags word: a canonical config name (x86_64, i386), KEY=VALUE "
                          "overrides of the one of --bits ('NUMA=n,NR_CPUS=64', "
                          "'i386,KASAN=sw_tags'), or a kernel .config file "
                          "(/proc/config.gz); default: the one of --bits")
    _add_real_machine_commands(sub)
    from . import bench
    b = sub.add_parser("bench", help="every benchmark, all variants side by side",
                       description="Time each operation against a baseline measured in the "
                                   "same run, on every built variant, and print one table "
                                   "of ratios (memcore/bench.py lists the benchmarks).")
    bench.add_arguments(b)
    from . import profile
    prof = sub.add_parser("profile", help="every design side by side: sizes, metadata under "
                                          "workloads, operation costs",
                          description="Struct sizes and memmap per GiB of every variant with "
                                      "layouts; metadata after seeded workloads and timed core "
                                      "operations on every built variant "
                                      "(memcore/profile.py lists the workloads).")
    profile.add_arguments(prof)
    from . import explore
    exp = sub.add_parser("explore", help="check the thread's race arguments: every interleaving "
                                         "of a scenario's tasks",
                         description="Run a scenario's tasks in every interleaving (or random "
                                     "schedules) on a modeled machine, checking invariants after "
                                     "every step; exit 0 if none is violated, 1 with a "
                                     "step-by-step counterexample (docs/EXPLORE.md).")
    explore.add_arguments(exp)
    from . import vmcore
    dump = sub.add_parser("dump", help="save a modeled machine as a kernel crash dump for drgn",
                          description="Boot a machine, give it some state (page-cache and anon "
                                      "folios, a slab cache; --empty: none) and write it as an "
                                      "ELF vmcore with its types file, which "
                                      "'drgn -c FILE -s FILE.types' opens (docs/DRGN.md).")
    vmcore.add_arguments(dump)
    _add_boot_command(sub)
    return p


def _add_boot_command(sub: Any) -> None:
    """memcore boot: boot a machine, print /proc views of it (memcore/procfs.py)."""
    from .procfs import VIEWS
    boot = sub.add_parser("boot", help="boot a modeled machine and print its /proc views",
                          description="Boot a modeled machine and print /proc files of it "
                                      "(" + ", ".join(VIEWS) + ") as Linux 6.18 prints "
                                      "them, to diff against a real machine's.")
    boot.add_argument("--ram", required=True, help="RAM of the machine, e.g. 4GiB, 512M")
    boot.add_argument("--bits", type=_bits, default=64, help="word size: 64 (default) or 32")
    boot.add_argument("--design", default="classic", help="design (default classic)")
    boot.add_argument("--nodes", type=int, default=1, help="NUMA nodes (default 1)")
    boot.add_argument("--cpus", type=int, default=2, help="CPUs (default 2)")
    boot.add_argument("--show", metavar="VIEW[,VIEW...]", default="buddyinfo,meminfo",
                      help="the /proc views to print: " + ", ".join(VIEWS) + ", or 'all' "
                           "(default: buddyinfo,meminfo)")
    boot.add_argument("--json", action="store_true",
                      help="print one JSON object: the machine and each view parsed")


def _layout_variants_or_none() -> tuple[tuple[str, int], ...]:
    """layout_variants() for help texts; nothing in a tree without a build."""
    try:
        return layout_variants()
    except ImportError:
        return ()


def _add_real_machine_commands(sub) -> None:
    """memcore snapshot save / memcore estimate (memcore/snapshot.py, estimate.py)."""
    snap = sub.add_parser("snapshot", help="save a real machine's page state (root)",
                          description="Read /proc/kpageflags, kpagecount, kpagecgroup and the "
                                      "memory texts of /proc at one moment into one .npz file.")
    ssub = snap.add_subparsers(dest="snapshot_command", parser_class=_Parser)
    save = ssub.add_parser("save", help="write a snapshot of this machine")
    save.add_argument("file", metavar="FILE.npz")
    save.add_argument("--first-pfn", type=int, default=0, help="first PFN to read (default 0)")
    save.add_argument("--max-pfns", type=int, default=None,
                      help="read at most this many PFNs (a window; default: all)")
    est = sub.add_parser("estimate", help="price a real machine's memory under every design",
                         description="Classify every PFN of a snapshot (default: this machine, "
                                     "now) and print memmap + descriptor bytes per variant, "
                                     "with a self-check against /proc/meminfo and vmstat.")
    est.add_argument("--snapshot", metavar="FILE.npz", default=None,
                     help="a file from 'memcore snapshot save' (default: read this machine)")
    est.add_argument("--json", action="store_true", help="print one JSON object")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "layout":
            return _cmd_layout(args)
        if args.command in ("snapshot", "estimate"):
            return _cmd_real_machine(args)
        if args.command == "bench":
            from . import bench
            return bench.command(args)
        if args.command == "profile":
            from . import profile
            return profile.command(args)
        if args.command == "explore":
            from . import explore
            return explore.command(args)
        if args.command == "dump":
            from . import vmcore
            return vmcore.command(args)
        if args.command == "boot":
            return _cmd_boot(args)
    except UnknownChoice as e:
        return _fail(str(e))
    except MemcoreError as e:
        return _fail(str(e).splitlines()[0])
    except BrokenPipeError:
        # the reader went away (`memcore layout --compare | head`): not an error of
        # ours; point stdout at /dev/null so the interpreter's final flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:                       # a file we were asked to write or read
        return _fail(str(e))
    return 2


def _cmd_boot(args: Any) -> int:
    """memcore boot: the chosen /proc views of a freshly booted machine."""
    import memcore
    from . import procfs
    names = [n.strip() for n in args.show.split(",") if n.strip()]
    if names == ["all"]:
        names = list(procfs.VIEWS)
    for n in names:
        if n not in procfs.VIEWS:
            raise UnknownChoice("/proc view", n, procfs.VIEWS + ("all",))
    if not names:
        return _fail("--show names no view; valid: " + ", ".join(procfs.VIEWS) + ", all")
    try:
        m = memcore.Machine(args.ram, design=args.design, bits=args.bits, nodes=args.nodes,
                            cpus=args.cpus)
    except (TypeError, ValueError) as e:      # bad --ram, --nodes, --cpus (UnknownChoice too)
        return _fail(str(e).splitlines()[0])
    texts = procfs.proc_many(m, names)
    if args.json:
        out = {"design": m.design, "bits": m.bits, "ram": m.ram,
               "ram_ranges": [[hex(a), hex(b)] for a, b in m.ram_ranges],
               "nodes": m.nodes, "cpus": m.cpus,
               "views": {n: procfs.parse(n, t) for n, t in texts.items()}}
        print(json.dumps(out, indent=1))
        return 0
    for i, (n, t) in enumerate(texts.items()):
        if len(texts) > 1:
            print(("\n" if i else "") + f"==> /proc/{n} <==")
        sys.stdout.write(t)
    sys.stdout.flush()
    return 0


def _one_variant(args) -> str | None:
    """--bits/--design given at most once (twice is for --diff): their values
    in args; or what is wrong."""
    for opt in ("bits", "design"):
        values = getattr(args, opt)
        if values is not None and len(values) > 1:
            return (f"--{opt} given {len(values)} times ({', '.join(map(str, values))}); "
                    "twice is for --diff")
    args.bits = args.bits[0] if args.bits else None
    args.design = args.design[0] if args.design else "classic"
    return None


def _cmd_layout(args) -> int:
    names = args.names
    if args.diff:
        return _cmd_diff(args)
    why = _one_variant(args)
    if why:
        return _fail(why)
    if "flags" in names:
        if names != ["flags"]:
            return _fail("'flags' cannot be combined with struct names")
        return _cmd_flags(args)
    if args.config is not None:
        return _fail("--config applies to 'memcore layout flags' only")
    args.bits = 64 if args.bits is None else args.bits
    _variants.check_choice(args.design, args.bits, layout_variants())
    if args.compare:
        # any struct of any variant: the variants without it show "-"
        known = tuple(dict.fromkeys(n for d, b in layout_variants() for n in struct_names(d, b)))
    else:
        known = struct_names(args.design, args.bits)
    names = names or list(known)
    for n in names:
        if n not in known:
            raise UnknownChoice("struct", n, known + ("flags",))
    if args.compare:
        return _cmd_compare(names, args.json)
    layouts = [layout(n, args.design, args.bits) for n in names]
    if args.json:
        print(json.dumps([lay.to_dict() for lay in layouts], indent=1))
    else:
        for lay in layouts:
            print(lay.pahole(), end="")
            for note in layout_notes(lay.name, lay.design, lay.bits):
                print(f"/* note: {note} */")
    return 0


def _cmd_real_machine(args) -> int:
    from . import estimate, snapshot
    if args.command == "snapshot":
        if args.snapshot_command != "save":
            return _fail("usage: memcore snapshot save FILE.npz")
        s = snapshot.save(args.file, first_pfn=args.first_pfn, max_pfns=args.max_pfns,
                          progress=_progress())
        print(f"{args.file}: {s.nr_pfns} PFNs from {s.first_pfn:#x}, Linux {s.uname_r}")
        return 0
    e = estimate.run(args.snapshot, progress=_progress())
    if args.json:
        print(json.dumps(e.to_dict(), indent=1))
    else:
        print(estimate.render(e), end="")
    return 0


def _progress():
    """A progress line on stderr while the PFNs are read, when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        pct = min(100, 100 * done // max(total, 1))
        bar = "#" * (pct // 4)
        sys.stderr.write(f"\rreading /proc/kpage* [{bar:<25}] {pct:3d}%")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


#: the canonical configuration of each word size
_CANONICAL = {64: "x86_64", 32: "i386"}


def _cmd_flags(args) -> int:
    if args.compare:
        # every canonical configuration, one after the other (--config, --bits: one)
        if args.config is not None or args.bits is not None:
            return _fail("layout flags --compare draws every canonical configuration "
                         f"({', '.join(_CANONICAL.values())}); drop --config/--bits, or "
                         "drop --compare for one")
        layouts = [flags_layout(c) for c in _CANONICAL.values()]
    else:
        # --config: a name, KEY=VALUE overrides (of the canonical config of
        # --bits, x86_64 without it) or a .config file (memcore/kconfig.py)
        from .kconfig import flags_config
        bits = args.bits
        if bits is not None and bits not in _CANONICAL:
            raise UnknownChoice("word size (bits)", bits, tuple(_CANONICAL))
        base = _CANONICAL[64 if bits is None else bits]
        config = base if args.config is None else args.config
        cfg = flags_config(config, default_base=base)
        if bits is not None and cfg.BITS_PER_LONG != bits:
            return _fail(f"--config {config} is a {cfg.BITS_PER_LONG}-bit configuration, "
                         f"not --bits {bits}")
        layouts = [compute(cfg)]
    if args.json:
        out = [fl.to_dict() for fl in layouts]
        print(json.dumps(out if args.compare else out[0], indent=1))
    else:
        print("\n".join(fl.diagram() for fl in layouts), end="")
    return 0


def _cmd_diff(args) -> int:
    """memcore layout STRUCT --diff: one struct in two variants."""
    from .layout import diff
    bits, designs = args.bits or [64], args.design or ["classic"]
    if len(bits) > 2 or len(designs) > 2 or (len(bits) == 1 and len(designs) == 1):
        return _fail("--diff compares two variants: give --bits twice (--bits 32 --bits 64), "
                     "--design twice, or one of each twice")
    a, b = (designs[0], bits[0]), (designs[-1], bits[-1])
    if len(args.names) != 1 or args.names[0] == "flags" or args.compare or args.config:
        return _fail("--diff takes one struct name (page, folio, slab, ...), without "
                     "--compare or --config")
    for variant in (a, b):
        _variants.check_choice(*variant, layout_variants())
    name = args.names[0]
    for variant in (a, b):
        if name not in struct_names(*variant):
            raise UnknownChoice(f"struct of {variant[0]} {variant[1]}-bit", name,
                                struct_names(*variant))
    la, lb = layout(name, *a), layout(name, *b)
    rows = diff(la, lb)
    if args.json:
        print(json.dumps({"struct": name, "a": {"design": a[0], "bits": a[1], "size": la.size},
                          "b": {"design": b[0], "bits": b[1], "size": lb.size},
                          "members": rows}, indent=1))
        return 0
    ta, tb = f"{a[0]} {a[1]}-bit", f"{b[0]} {b[1]}-bit"
    print(f"struct {name}: {ta} ({la.size} bytes) -> {tb} ({lb.size} bytes)")
    width = max(len(r["path"]) for r in rows) + 2

    def cell(m):
        return "-" if m is None else (f"{m['offset']:>5} {m['size']:>4}" if m["bit_size"] == 8 *
                                      m["size"] else f"{m['offset']:>5} :{m['bit_size']:<3}")
    print(f"{'member':<{width}}{ta:>14}   {tb:>14}   change")
    print(f"{'':<{width}}{'offset size':>14}   {'offset size':>14}")
    for r in rows:
        print(f"{r['path']:<{width}}{cell(r['a']):>14}   {cell(r['b']):>14}   {r['change']}")
    return 0


def memmap_bytes_per_gib(page: Layout) -> int:
    """Bytes of memmap (one struct page per 4 KiB page) per GiB of RAM."""
    return page.size * (GIB // PAGE_SIZE)


def _cmd_compare(names, as_json: bool) -> int:
    variants = layout_variants()
    # {struct: {"<design><bits>": Layout, or None where the design has no such struct}}
    table = {}
    for n in names:
        table[n] = {f"{d}{b}": (layout(n, d, b) if n in struct_names(d, b) else None)
                    for d, b in variants}
    if as_json:
        out = []
        for n, lays in table.items():
            for lay in lays.values():
                if lay is None:
                    continue
                d = lay.to_dict()
                if n == "page":
                    d["bytes_per_gib"] = memmap_bytes_per_gib(lay)
                    d["percent_of_ram"] = 100.0 * lay.size / PAGE_SIZE
                out.append(d)
        print(json.dumps(out, indent=1))
        return 0
    blocks = [_compare_block(n, lays) for n, lays in table.items()]
    print("\n\n".join(blocks))
    return 0


def _compare_block(name: str, lays: dict) -> str:
    keys = list(lays)
    # two header lines, design over word size, so eight columns stay narrow
    designs = [k.rstrip("0123456789") for k in keys]
    col = max(13, *(len(d) for d in designs)) + 1
    head = f"struct {name}"

    def header(first):
        return [f"{first:<28}" + "".join(f"{d:>{col}}" for d in designs),
                f"{'':<28}" + "".join(f"{k[len(d):] + '-bit':>{col}}" for k, d in zip(keys, designs))]

    lines = header(head)
    lines.append("-" * (28 + col * len(keys)))

    def row(label, fn):
        """One line: fn(layout) per variant, "-" where the struct is absent."""
        cells = ["-" if lays[k] is None else fn(lays[k]) for k in keys]
        lines.append(f"{label:<28}" + "".join(f"{v:>{col}}" for v in cells))

    row("size (bytes)", lambda lay: lay.size)
    row("alignment", lambda lay: lay.align)
    row("named members", lambda lay: len(lay.members))
    if name == "page":
        row("memmap per GiB of RAM", lambda lay: _human(memmap_bytes_per_gib(lay)))
        row("memmap bytes per GiB", lambda lay: f"{memmap_bytes_per_gib(lay):,}")
        row("% of RAM (4 KiB pages)", lambda lay: f"{100.0 * lay.size / PAGE_SIZE:.4f}%")
    lines.append("")
    lines += header("member (offset:size)")
    order = []
    for k in keys:
        for m in (lays[k].members if lays[k] is not None else ()):
            if m.path not in order:
                order.append(m.path)
    for path in order:
        cells = []
        for k in keys:
            lay = lays[k]
            if lay is not None and path in lay:
                m = lay[path]
                if m.is_bitfield:
                    cells.append(f"{m.offset}:{m.bit_offset - m.offset * 8}+{m.bit_size}b")
                else:
                    cells.append(f"{m.offset}:{m.size}")
            else:
                cells.append("-")
        lines.append(f"{path:<28}" + "".join(f"{c:>{col}}" for c in cells))
    return "\n".join(lines)


def _human(n: int) -> str:
    for unit, div in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
