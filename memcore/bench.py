"""Every memcore benchmark in one run: ``memcore bench`` / ``python -m memcore.bench``.

Each benchmark times an operation next to a baseline measured in the same
run, in rounds (every round runs the operation and its baseline once, so a
noisy spell on the machine hits both alike), on every built variant
(``memcore.variants()``), and reports the ratio of the fastest operation to
the fastest baseline; only ratios are compared with targets.

    memcore bench [--quick] [--only NAME[,NAME]] [--variants classic64,...] [--json]

Benchmarks (name: operation / baseline, target):

* ``test_dirty``: ``folio.test_dirty()`` / a no-op method call on a final
  cdef class (the empty loop's cost subtracted from both), <= 1.5x.
* ``get_put``: ``folio.get()`` + ``folio.put()`` / two no-op calls, <= 1.5x.
* ``page_folio``: ``page.folio`` / a no-op call, <= 1.5x.
* ``alloc_free``: bulk order-0 folio alloc+free pairs (one nogil loop,
  through the pcp lists) / a minimal C free list (list_del + list_add on
  host memory), <= 5x.
* ``kmem_cache``: bulk kmem_cache_alloc()+kmem_cache_free() pairs of a
  64-byte cache (SLUB per-CPU fast path) / the same free list, <= 5x.
* ``walk``: classify every PFN of a busy machine (16 GiB on 64-bit, 4 GiB,
  the 32-bit maximum, on 32-bit; three quarters in order-0 folios) / a plain
  C loop reading the same memmap, per PFN, <= 1.5x.
* ``compact``: ``m.compact()`` of a fresh machine (256 MiB) whose page
  cache is fragmented (filled with order-0 folios, three in four freed, the
  rest in the cache), per PFN its migrate scanner scanned / a plain C loop
  over the same memmap, per PFN, <= 3000x.  One PFN in four is a folio to
  migrate: a new folio, a 4 KiB copy into host memory touched for the first
  time (a host page fault), the XArray slot, a free: about 1.0-1.1 us per
  scanned PFN on every design on the reference machine, which is 450x the
  baseline on classic64 (a 64-byte struct page per PFN) and 1600x on
  memdesc64 (8 bytes).  The target, about twice the largest, flags a change
  in kind (a scanner that rescans), not noise; compare the designs in ns.
* ``explore``: exhaustive exploration of every shipped scenario that
  passes (memcore/explore.py), ns per distinct state / one full re-hash of
  the explored state (footprint bytes, the explorer's facts, the tasks),
  <= 5x.  A state costs the step, the incremental re-hash of what it
  touched, the invariants, the visited-set probe and the save/restore of
  the footprint: about 2.5-3x a full re-hash (260-370 ns, 2.7-3.9 million
  states per second on the reference machine); the target flags a search
  that started rereading its state.
* ``estimate``: the live ``memcore estimate`` (read kpageflags and
  kpagecount, classify, price every variant, self-check) / reading the two
  files to EOF with 1 MiB reads, <= 2x.  It runs once for all variants
  (one run prices every variant), needs root and /proc/kpageflags, and is
  skipped with the reason otherwise.

``--json`` prints one object (the schema is ``SCHEMA`` below and in
docs/ARCHITECTURE.md, "Benchmarks").
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, Tuple

from . import _variants
from .errors import MemcoreError, UnknownChoice

#: The ``--json`` schema, documented where users read it.
SCHEMA = """\
{"variants": ["classic64", ...],          every variant measured, in column order
 "config": {"preset": "full"|"quick", "n": ops per round, "repeats": rounds,
            "walk_ram": {"64": "16GiB", "32": "4GiB"}},
 "benchmarks": [
   {"name": "walk",                       what --only takes
    "label": "walk all PFNs",             the table's row label
    "unit": "op"|"PFN"|"state"|"run",     what ns_per_op is per
    "target": 1.5,                        ratio at or below which it is ok
    "baseline": "plain C loop over the memmap",
    "per_variant": true,                  false: one run for every variant, keyed "all"
    "skipped": null | "reason",           skipped benchmarks have empty results
    "results": {"classic64": {
        "ns_per_op": 3.1,                 fastest round
        "baseline_ns": 2.4,               fastest baseline round
        "ratio": 1.29,                    ns_per_op / baseline_ns (null: no baseline time)
        "spread": {"repeats": 7,          rounds timed
                   "ns_median": 3.2, "ns_max": 3.5,
                   "baseline_ns_median": 2.5,
                   "ratio_median": 1.30,  median of the per-round ratios
                   "relative": 0.03},     (ns_median - ns_per_op) / ns_per_op (or null)
        "ok": true}, ...}}, ...]}
"""


@dataclass(frozen=True)
class Config:
    """How much to measure.  ``full`` is the default, ``quick`` a smoke run;
    ``tiny`` (not on the command line: ``run(config=TINY)``, or the hidden
    ``--tiny`` flag) is for tests that check the output's shape in seconds."""
    preset: str
    n: int                         # operations per timed call
    repeats: int                   # rounds
    walk_ram: Dict[int, str]       # machine size of the walk, per word size
    estimate_max_pfns: Optional[int] = None   # a window of the live machine (tests)
    ram: str = "1GiB"              # the machines of alloc_free and kmem_cache
    compact_ram: str = "256MiB"    # each round's fragmented machine of compact


FULL = Config("full", 1_000_000, 7, {64: "16GiB", 32: "4GiB"})
QUICK = Config("quick", 20_000, 3, {64: "16GiB", 32: "4GiB"})
TINY = Config("tiny", 200, 1, {64: "64MiB", 32: "64MiB"}, estimate_max_pfns=1 << 14,
              ram="64MiB", compact_ram="32MiB")


@dataclass
class Samples:
    """Per-round times in ns per unit, of the operation and of its baseline."""
    ours: List[float]
    base: List[float]

    def result(self, target: float) -> Dict[str, Any]:
        ours, base = min(self.ours), min(self.base)
        # a baseline that measured no time (possible only in runs far too short
        # to mean anything, after the empty loop's cost is subtracted) has no ratio
        ratio = ours / base if base > 0 else None
        ratios = [o / b for o, b in zip(self.ours, self.base) if b > 0]
        med = statistics.median(self.ours)
        return {
            "ns_per_op": _r(ours),
            "baseline_ns": _r(base),
            "ratio": None if ratio is None else _r(ratio),
            "spread": {
                "repeats": len(self.ours),
                "ns_median": _r(med),
                "ns_max": _r(max(self.ours)),
                "baseline_ns_median": _r(statistics.median(self.base)),
                "ratio_median": _r(statistics.median(ratios)) if ratios else None,
                "relative": _r((med - ours) / ours) if ours > 0 else None,
            },
            "ok": ratio is not None and ratio <= target,
        }


def _r(x: float) -> float:
    """Four significant digits: more than any timing here can claim."""
    return float(f"{x:.4g}")


@dataclass(frozen=True)
class Benchmark:
    name: str
    label: str
    unit: str
    target: float
    baseline: str
    per_variant: bool = True
    # why it cannot run here, or None
    unavailable: Callable[[], Optional[str]] = field(default=lambda: None)


def _rounds(fns: Dict[str, Callable[[], Any]], repeats: int) -> Dict[str, List[int]]:
    """{name: [ns of each round]}; every round runs every function once, in order."""
    t: Dict[str, List[int]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter_ns()
            fn()
            t[name].append(time.perf_counter_ns() - t0)
    return t


# -- the running machine's benchmarks (one variant module each) ---------------

#: The view operations timed through Python, and the baseline each is compared
#: with: a no-op call per call the operation makes.
VIEW_OPS = {"page_folio": "bare", "get_put": "bare2", "test_dirty": "bare",
            "set_dirty": "bare", "lock_unlock": "bare2", "cache_lookup": "bare2"}


def view_op_rounds(mod: Any, folio: Any, page: Any, n: int, repeats: int,
                   names: Sequence[str], mapping: Any = None) -> Dict[str, Samples]:
    """Time the VIEW_OPS `names` on `folio` and `page` (n calls per round, in
    `repeats` rounds interleaved with their baselines), less the empty loop's
    floor: ns per operation.  ``cache_lookup`` looks `folio` up in `mapping`
    (an AddressSpace holding it at index 0) and puts the reference.  Shared
    by ``memcore bench`` and ``memcore profile``."""
    nop = mod._Nop()
    rng = range(n)

    def empty() -> None:
        for _ in rng:
            pass

    def bare() -> None:
        op = nop.nop
        for _ in rng:
            op()

    def bare2() -> None:
        op = nop.nop
        for _ in rng:
            op()
            op()

    def page_folio() -> None:
        pg = page
        for _ in rng:
            pg.folio

    def get_put() -> None:
        g, p = folio.get, folio.put
        for _ in rng:
            g()
            p()

    def test_dirty() -> None:
        op = folio.test_dirty
        for _ in rng:
            op()

    def set_dirty() -> None:
        op = folio.set_dirty
        for _ in rng:
            op()

    def lock_unlock() -> None:
        lk, ul = folio.lock, folio.unlock
        for _ in rng:
            lk()
            ul()

    def cache_lookup() -> None:
        get = mapping.get_folio
        for _ in rng:
            get(0).put()

    loops = {"page_folio": page_folio, "get_put": get_put, "test_dirty": test_dirty,
             "set_dirty": set_dirty, "lock_unlock": lock_unlock, "cache_lookup": cache_lookup}
    t = _rounds(dict({"empty": empty, "bare": bare, "bare2": bare2},
                     **{k: loops[k] for k in names}), repeats)
    floor = min(t["empty"])            # the loop's own cost, subtracted from every round

    def per(name: str) -> List[float]:
        return [(v - floor) / n for v in t[name]]
    return {k: Samples(per(k), per(VIEW_OPS[k])) for k in names}


def _python_ops(mod: Any, cfg: Config) -> Dict[str, Samples]:
    import memcore
    m = memcore.Machine("512MiB" if cfg.preset != "tiny" else cfg.ram,
                        design=mod.DESIGN, bits=mod.BITS)
    f = m.alloc_folio(0)
    out = view_op_rounds(mod, f, m.page(f.pfn), cfg.n, cfg.repeats,
                         ("test_dirty", "get_put", "page_folio"))
    f.put()
    m.check()
    return out


def _alloc_free(mod: Any, cfg: Config) -> Dict[str, Samples]:
    import memcore
    n = cfg.n
    m = memcore.Machine(cfg.ram, design=mod.DESIGN, bits=mod.BITS)
    m.bulk_alloc_free(1000)                        # warm the pcp lists
    t = _rounds({"ours": lambda: m.bulk_alloc_free(n),
                 "base": lambda: mod._freelist_baseline(n)}, cfg.repeats)
    m.check()
    return {"alloc_free": Samples([v / n for v in t["ours"]], [v / n for v in t["base"]])}


def _kmem_cache(mod: Any, cfg: Config) -> Dict[str, Samples]:
    import memcore
    n = cfg.n
    m = memcore.Machine(cfg.ram, design=mod.DESIGN, bits=mod.BITS)
    cache = m.kmem_cache_create("bench", 64)
    m.bulk_kmem_cache_alloc_free(cache, 1000)      # warm: a CPU slab in place
    t = _rounds({"ours": lambda: m.bulk_kmem_cache_alloc_free(cache, n),
                 "base": lambda: mod._freelist_baseline(n)}, cfg.repeats)
    m.check()
    return {"kmem_cache": Samples([v / n for v in t["ours"]], [v / n for v in t["base"]])}


def _walk(mod: Any, cfg: Config) -> Dict[str, Samples]:
    import memcore
    m = memcore.Machine(cfg.walk_ram[mod.BITS], design=mod.DESIGN, bits=mod.BITS)
    # a busy machine: most memory in small folios, so the walk visits most
    # struct pages one by one instead of stepping over large free blocks
    m.bulk_alloc(m.nr_pfns * 3 // 4, order=0)
    m.bulk_alloc(m.nr_pfns // 64, order=2)
    t = _rounds({"ours": m.walk, "base": m._walk_plain}, cfg.repeats)  # type: ignore[attr-defined]
    p = m.nr_pfns
    return {"walk": Samples([v / p for v in t["ours"]], [v / p for v in t["base"]])}


def fragmented_cache(m: Any) -> Any:
    """Fill machine m with order-0 folios, free three in four, put the rest in
    the page cache: the state compaction benchmarks start from."""
    import numpy as np
    a = m.address_space(f"bench{len(m.address_spaces())}")
    pfns = []
    while True:
        try:
            pfns.append(m.bulk_alloc(4096, order=0))
        except MemcoreError:
            break
    allp = np.concatenate(pfns) if pfns else np.zeros(0, np.uint64)
    keep = allp[::4]
    m.bulk_put(np.setdiff1d(allp, keep))
    for i, pfn in enumerate(keep.tolist()):
        f = m.folio(pfn)
        a.add_folio(i, f)
        f.unlock()
        f.put()
    m.drain_pcp()
    return a


def compact_rounds(design: str, bits: int, ram: str, repeats: int) -> Samples:
    """m.compact() of a fragmented page cache, ns per PFN its migrate scanner
    scanned, next to a plain C loop over the same machine's memmap per PFN;
    each round on a fresh machine (compaction changes what it runs on)."""
    import memcore
    ours: List[float] = []
    base: List[float] = []
    for _ in range(repeats):
        m = memcore.Machine(ram, design=design, bits=bits)
        fragmented_cache(m)
        t0 = time.perf_counter_ns()
        r = m.compact()
        t1 = time.perf_counter_ns()
        m._walk_plain()
        t2 = time.perf_counter_ns()
        ours.append((t1 - t0) / max(1, r["scanned"]))
        base.append((t2 - t1) / m.nr_pfns)
    return Samples(ours, base)


def _compact(mod: Any, cfg: Config) -> Dict[str, Samples]:
    return {"compact": compact_rounds(mod.DESIGN, mod.BITS, cfg.compact_ram, cfg.repeats)}


def explore_rounds(design: str, bits: int, repeats: int) -> Samples:
    """Exhaustive exploration of every shipped scenario that passes, ns per
    distinct state explored, next to one full re-hash of the same states
    (what an explorer that rereads its state would pay per state just to
    hash it), weighted by each scenario's states."""
    from . import explore
    scen = [explore.scenario(n, design, bits) for n, i in explore.SCENARIOS.items()
            if i.expect == "pass" and i.applies(design) is None]
    try:
        counts = [s.explore().states for s in scen]          # warm up; the state counts
        hash_ns = [s._ex._bench_full_hash(20_000) for s in scen]
        ours: List[float] = []
        base: List[float] = []
        for _ in range(repeats):
            secs = sum(s.explore().seconds for s in scen)
            ours.append(secs * 1e9 / sum(counts))
            base.append(sum(c * h for c, h in zip(counts, hash_ns)) / sum(counts))
            hash_ns = [s._ex._bench_full_hash(20_000) for s in scen]
        return Samples(ours, base)
    finally:
        for s in scen:
            s.close()


def _explore(mod: Any, cfg: Config) -> Dict[str, Samples]:
    return {"explore": explore_rounds(mod.DESIGN, mod.BITS, cfg.repeats)}


# -- the live estimate (every variant in one run) ----------------------------

def _estimate_unavailable() -> Optional[str]:
    from . import snapshot
    if not snapshot.can_read_live():
        return "needs root and a readable /proc/kpageflags"
    return None


def _read_baseline(max_pfns: Optional[int]) -> None:
    limit = None if max_pfns is None else max_pfns * 8
    for name in ("kpageflags", "kpagecount"):
        with open(f"/proc/{name}", "rb", buffering=0) as f:
            done = 0
            while limit is None or done < limit:
                b = f.read(1 << 20 if limit is None else min(1 << 20, limit - done))
                if not b:
                    break
                done += len(b)


def _estimate(cfg: Config) -> Dict[str, Samples]:
    from . import estimate, snapshot

    def ours() -> Any:
        if cfg.estimate_max_pfns is None:
            return estimate.run()
        return estimate.estimate(snapshot.live(max_pfns=cfg.estimate_max_pfns,
                                               with_cgroup=False))

    ours()                            # warm up: imports, the SLUB geometry machines
    t = _rounds({"base": lambda: _read_baseline(cfg.estimate_max_pfns), "ours": ours},
                cfg.repeats)
    # per run, in ns: the unit of this benchmark is one whole estimate
    return {"estimate": Samples([float(v) for v in t["ours"]], [float(v) for v in t["base"]])}


BENCHMARKS: Tuple[Benchmark, ...] = (
    Benchmark("test_dirty", "folio.test_dirty()", "op", 1.5, "no-op method call"),
    Benchmark("get_put", "folio.get()+put()", "op", 1.5, "two no-op method calls"),
    Benchmark("page_folio", "page.folio", "op", 1.5, "no-op method call"),
    Benchmark("alloc_free", "alloc+free order 0", "op", 5.0,
              "C free list: list_del + list_add"),
    Benchmark("kmem_cache", "kmem_cache alloc+free", "op", 5.0,
              "C free list: list_del + list_add"),
    Benchmark("walk", "walk all PFNs", "PFN", 1.5, "plain C loop over the memmap"),
    Benchmark("compact", "compaction, per PFN scanned", "PFN", 3000.0,
              "plain C loop over the memmap"),
    Benchmark("explore", "explorer, per state", "state", 5.0,
              "full re-hash of the state"),
    Benchmark("estimate", "estimate (live)", "run", 2.0,
              "read /proc/kpageflags + kpagecount to EOF",
              per_variant=False, unavailable=_estimate_unavailable),
)
NAMES = tuple(b.name for b in BENCHMARKS)

# per-variant measuring functions, each producing one or more benchmarks
_GROUPS: Tuple[Tuple[Tuple[str, ...], Callable[[Any, Config], Dict[str, Samples]]], ...] = (
    (("test_dirty", "get_put", "page_folio"), _python_ops),
    (("alloc_free",), _alloc_free),
    (("kmem_cache",), _kmem_cache),
    (("walk",), _walk),
    (("compact",), _compact),
    (("explore",), _explore),
)


def variant_ids() -> Tuple[str, ...]:
    return tuple(f"{d}{b}" for d, b in _variants.available())


def split(value: Optional[str]) -> List[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def select(only: Optional[Sequence[str]] = None,
           variants: Optional[Sequence[str]] = None) -> Tuple[List[Benchmark], List[str]]:
    """The benchmarks and variant ids asked for, in canonical order; an unknown
    name raises UnknownChoice listing the valid ones."""
    for name in only or ():
        if name not in NAMES:
            raise UnknownChoice("benchmark", name, NAMES)
    ids = variant_ids()
    for v in variants or ():
        if v not in ids:
            raise UnknownChoice("variant", v, ids)
    benches = [b for b in BENCHMARKS if not only or b.name in only]
    vids = [v for v in ids if not variants or v in variants]
    return benches, vids


def run(only: Optional[Sequence[str]] = None, variants: Optional[Sequence[str]] = None,
        config: Config = FULL, progress: Optional[Callable[[str], None]] = None
        ) -> Dict[str, Any]:
    """Run the benchmarks and return the ``--json`` object (see SCHEMA)."""
    benches, vids = select(only, variants)
    wanted = {b.name for b in benches}
    pairs = dict(zip(variant_ids(), _variants.available()))
    results: Dict[str, Dict[str, Any]] = {b.name: {} for b in benches}
    skipped: Dict[str, Optional[str]] = {b.name: b.unavailable() for b in benches}
    by_name = {b.name: b for b in BENCHMARKS}
    steps = [(v, names, fn) for v in vids for names, fn in _GROUPS
             if any(n in wanted and skipped[n] is None for n in names)]
    if "estimate" in wanted and skipped["estimate"] is None:
        steps.append(("all", ("estimate",), lambda _mod, cfg: _estimate(cfg)))
    for i, (v, names, fn) in enumerate(steps):
        if progress:
            progress(f"[{i + 1}/{len(steps)}] {v}: {', '.join(names)}")
        mod = _variants.module(*pairs[v]) if v != "all" else None
        for name, samples in fn(mod, config).items():
            if name in wanted:
                results[name][v] = samples.result(by_name[name].target)
    return {
        "variants": vids,
        "config": {"preset": config.preset, "n": config.n, "repeats": config.repeats,
                   "walk_ram": {str(b): r for b, r in config.walk_ram.items()}},
        "benchmarks": [{"name": b.name, "label": b.label, "unit": b.unit, "target": b.target,
                        "baseline": b.baseline, "per_variant": b.per_variant,
                        "skipped": skipped[b.name], "results": results[b.name]}
                       for b in benches],
    }


def _ns(v: float) -> str:
    if v >= 1e9:
        return f"{v / 1e9:.2f} s"
    if v >= 1e6:
        return f"{v / 1e6:.1f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.1f} us"
    return f"{v:.1f} ns"


def _cell(r: Dict[str, Any]) -> str:
    ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
    rel = r["spread"]["relative"]
    return (f"{ratio} {'ok' if r['ok'] else 'NO'} {_ns(r['ns_per_op'])} "
            f"{'' if rel is None else f'+{100 * rel:.0f}%'}").rstrip()


def render(data: Dict[str, Any]) -> str:
    """One table: a row per benchmark, a column per variant."""
    vids = data["variants"]
    label_w = max([24] + [len(b["label"]) + 2 for b in data["benchmarks"]])
    cells = {(b["name"], v): _cell(r) for b in data["benchmarks"] for v, r in b["results"].items()}
    col = max([12] + [len(v) for v in vids] + [len(c) for c in cells.values()]) + 2
    head = f"{'operation':<{label_w}}{'target':>7}  " + "".join(f"{v:<{col}}" for v in vids)
    lines = [head.rstrip(), "-" * len(head.rstrip())]
    for b in data["benchmarks"]:
        start = f"{b['label']:<{label_w}}{'<=' + format(b['target'], '.1f'):>7}  "
        if b["skipped"]:
            lines.append(start + f"skipped: {b['skipped']}")
        elif not b["per_variant"]:
            r = b["results"]["all"]
            lines.append(start + _cell(r) + "  (one run prices every variant)")
        else:
            lines.append((start + "".join(f"{cells.get((b['name'], v), '-'):<{col}}"
                                          for v in vids)).rstrip())
    cfg = data["config"]
    per = "; ".join(f"{b['name']}: per {b['unit']}" for b in data["benchmarks"]
                    if b["unit"] != "op")
    walk = ", ".join(f"{r} ({b}-bit)" for b, r in cfg["walk_ram"].items()
                     if any(v.endswith(b) for v in vids))
    names = {b["name"] for b in data["benchmarks"] if not b["skipped"]}
    run = [f"{cfg['repeats']} round{'s' if cfg['repeats'] != 1 else ''} ({cfg['preset']})"]
    if names - {"walk", "estimate"}:
        run.append(f"{cfg['n']:,} ops per round")
    if "walk" in names:
        run.append(f"walk machines: {walk}")
    lines += ["",
              "cell: ratio to the same-run baseline (each the fastest of its rounds), ok/NO",
              "      against the target, the operation's fastest time per op"
              + (f"\n      ({per})" if per else "") + ", and +N%: how much slower",
              "      its median round was than its fastest",
              "; ".join(run)]
    return "\n".join(lines) + "\n"


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help="fewer iterations and smaller machines (a smoke run, noisier)")
    p.add_argument("--only", metavar="NAME[,NAME]", default=None,
                   help="run only these benchmarks: " + ", ".join(NAMES))
    p.add_argument("--variants", metavar="ID[,ID]", default=None,
                   help="run only these variants (default: every built one, e.g. classic64)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # tests


def stderr_progress() -> Optional[Callable[[str], None]]:
    """Progress lines on stderr, only when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(msg: str) -> None:
        sys.stderr.write(f"\r\033[Kbench {msg}")
        sys.stderr.flush()
    return show


def command(args: argparse.Namespace) -> int:
    """Run what the parsed arguments ask for; UnknownChoice propagates."""
    cfg = TINY if args.tiny else QUICK if args.quick else FULL
    progress = stderr_progress()
    data = run(split(args.only), split(args.variants), cfg, progress)
    print_result(data, args.json)
    return 0


def print_result(data: Dict[str, Any], as_json: bool) -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")          # clear the progress line
        sys.stderr.flush()
    if as_json:
        print(json.dumps(data, indent=1))
    else:
        print(render(data), end="")


def run_main(prog: str, doc: Optional[str], add: Callable[[Any], None],
             cmd: Callable[[Any], int], argv: Optional[Sequence[str]]) -> int:
    """`python -m memcore.<tool>`: parse, run, and turn a MemcoreError into one
    line and exit status 2 (as the memcore CLI does).  bench's and profile's."""
    p = Parser(prog=prog, description=(doc or "").splitlines()[0])
    add(p)
    args = p.parse_args(argv)
    try:
        return cmd(args)
    except MemcoreError as e:
        sys.stderr.write(f"memcore: error: {str(e).splitlines()[0]}\n")
        return 2


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_main("memcore bench", __doc__, add_arguments, command, argv)


if __name__ == "__main__":
    sys.exit(main())
