"""Every design side by side: ``memcore profile`` / ``python -m memcore.profile``.

One process, every variant, one table per section:

* **sizes**: struct page, folio (small and large), slab, ptdesc (and
  struct buddy where a design has it) as each design lays them out, from
  the compiled layouts (``memcore.layout``), for every variant of
  ``memcore.layout_variants()``.  Classic descriptors overlay struct page:
  a small classic folio *is* its struct page, so its cell says "in memmap".
* **memory**: memmap bytes per GiB of RAM (``(1 << 30) // page_size x
  sizeof(struct page)``, from the layouts, every variant), and for each
  workload, on every built variant (``memcore.variants()``): the metadata
  the model itself counts after running it (``Machine.stats()``:
  ``memmap_bytes``, ``descriptor_bytes`` per descriptor cache,
  ``metadata_total_bytes``), as a share of RAM and against classic64.
* **speed**: core operations timed on every built variant, each next to a
  baseline measured in the same rounds (memcore/bench.py's approach and
  its ``_rounds``/``Samples``): ns per op, ratio to the baseline, and the
  spread over the rounds.

Workloads (``WORKLOADS``; each fills 50% of RAM, seeded, nothing freed):
``pagecache-small`` (file folios, mostly order 0), ``pagecache-large``
(file folios of orders 2-9), ``anon-thp`` (order-9 anon folios),
``slab-heavy`` (kmalloc 32 B-2 KiB and three kmem_cache_create() caches)
and ``mixed`` (all of these).

A variant whose machine is not built yet still has its sizes and memmap
bytes per GiB; its machine-measured figures are "not built" (JSON null).

    memcore profile [--ram 1GiB] [--workload NAME ...] [--variants ID ...]
                    [--json] [--plot FILE.png] [--quiet] [--quick]

Defaults (``FULL``): workload machines of 1 GiB, each workload filling 50%
of RAM; speed: 5 rounds of 200,000 operations (order-9 alloc+free: 2,000)
on a 256 MiB machine, the walk on a 1 GiB machine three quarters full of
order-0 folios.  ``--quick`` (``QUICK``): 256 MiB workload machines, 2
rounds of 5,000 operations, a 64 MiB walk machine: a smoke run whose
timings are noise.  The speed machines do not depend on ``--ram``.

``--json`` prints one object (``SCHEMA`` below); ``--plot FILE.png``
draws metadata bytes per GiB and operation cost ratios per variant (needs
matplotlib: ``pip install 'memcore[plot]'``).
"""
from __future__ import annotations

import argparse
import functools
import gc
import json
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import _variants
from .bench import Samples, _rounds, compact_rounds, run_main, view_op_rounds
from .errors import MemcoreError, OutOfMemory, UnknownChoice

#: The ``--json`` schema, documented where users read it.
SCHEMA = """\
{"config": {"preset": "full"|"quick", "ram": "1GiB", "ram_bytes": 1073741824,
            "n": ops per round, "repeats": rounds,
            "speed_ram": "256MiB", "walk_ram": "1GiB"},
 "workloads": [{"name": "mixed", "description": "...", "seed": 5,
                "fill": 0.5}, ...],             share of RAM it allocates
 "operations": [{"name": "alloc_free_0", "label": "alloc+free order 0",
                 "unit": "op"|"PFN", "baseline": "C free list: ..."}, ...],
 "variants": [
   {"id": "classic64", "design": "classic", "bits": 64,
    "built": true,                              false: no machine (layouts only)
    "sizes": {"page": 64,                       bytes, memcore.layout(...).size
              "folio_small": null | 80,         null: the folio is its struct page
              "folio_large": 256, "slab": 64, "ptdesc": 64,
              "buddy": null | 16,               null: the design has no struct buddy
              "descriptors_in_memmap": true},   classic: descriptors overlay struct page
    "memory": {"page_size": 4096,
               "memmap_bytes_per_gib": 16777216,
               "workloads": {"mixed": {
                  "ran": true,                  false: not built, or the machine cannot boot
                  "reason": null | "not built" | "...",
                  "filled_share": 0.5,          pages the workload holds / pages of RAM
                  "stopped_early": null | "out of memory ...",
                  "memmap_bytes": 16777216,     Machine.stats() after the workload
                  "descriptor_bytes": 0,        sum of stats()["descriptor_bytes"]
                  "descriptor_bytes_by_cache": {},
                  "metadata_total_bytes": 16777216,
                  "metadata_share": 0.015625,   metadata_total_bytes / RAM
                  "vs_classic64_bytes": 0,      null when classic64 did not run
                  "vs_classic64_percent": 0.0}, relative to classic64's metadata
                  ...}},                        (every figure null when "ran" is false)
    "speed": null | {"alloc_free_0": {
        "ns_per_op": 50.1, "baseline_ns": 2.9,   fastest round of each
        "ratio": 17.3,                           null: the baseline measured no time
        "spread": {"repeats": 5, "ns_median": 51.0, "ns_max": 53.2,
                   "baseline_ns_median": 3.0, "ratio_median": 17.1,
                   "relative": 0.02}}, ...}},    (median - fastest) / fastest
   ...]}
"""

GIB = 1 << 30


# -- configuration -----------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    """How much to run.  ``FULL`` is the default, ``QUICK`` a smoke run (tests)."""
    preset: str
    ram: str                 # workload machines, unless --ram says otherwise
    n: int                   # operations per timed call
    repeats: int             # rounds
    speed_ram: str           # the machine of the timed operations
    walk_ram: str            # the machine of the walk


FULL = Config("full", "1GiB", 200_000, 5, "256MiB", "1GiB")
QUICK = Config("quick", "256MiB", 5_000, 2, "64MiB", "64MiB")

def parse_ram(value: str) -> int:
    """Bytes of a size such as ``1GiB``, ``512MiB``, ``2G`` or ``1073741824``
    (binary units, as Machine takes them: memcore.sizes)."""
    from .sizes import parse_size
    try:
        n = parse_size(str(value), "RAM size")
    except ValueError as e:
        raise MemcoreError(f"invalid RAM size: {e}") from None
    if n <= 0:
        raise MemcoreError(f"invalid RAM size {value!r}: it must be more than 0 bytes")
    return n


def _human(n: int) -> str:
    for unit, div in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


# -- workloads ------------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """One kind of allocation of a workload and its share of the workload's bytes.

    ``what`` is ``"file"`` or ``"anon"`` (folios of one of ``orders``, picked
    uniformly), ``"kmalloc"`` (one of ``sizes``, uniformly) or ``"cache"``
    (an object of one of the caches named in ``caches``, uniformly)."""
    share: float
    what: str
    orders: Tuple[int, ...] = ()
    sizes: Tuple[int, ...] = ()
    caches: Tuple[Tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    seed: int
    fill: float                      # share of RAM the workload allocates
    parts: Tuple[Part, ...]


# kmem_cache_create() caches of the slab workloads: (name, object size), sizes
# of the kernel caches they are named after on the reference machine
_CACHES = (("dentry_like", 192), ("inode_like", 600), ("buffer_head_like", 104))
_KMALLOC = (32, 64, 96, 128, 192, 256, 512, 1024, 2048)

#: Every workload, in the order they run and print.  Each allocates until its
#: parts hold ``fill`` of the machine's RAM (bytes of folios, or object sizes
#: of slab objects), picking the next part at random weighted by the bytes it
#: still has to allocate, from ``random.Random(seed)``: the same sequence of
#: allocations on every variant, so differences between variants come from
#: the designs alone.  Nothing is freed.
WORKLOADS: Tuple[Workload, ...] = (
    Workload("pagecache-small", "page cache of small files: file folios, 90% of the bytes "
             "order 0, 10% orders 1-3", 1, 0.5,
             (Part(0.9, "file", orders=(0,)), Part(0.1, "file", orders=(1, 2, 3)))),
    Workload("pagecache-large", "page cache of large files: file folios of orders 2-9",
             2, 0.5, (Part(1.0, "file", orders=(2, 3, 4, 5, 6, 7, 8, 9)),)),
    Workload("anon-thp", "anonymous memory in transparent huge pages: order-9 anon folios",
             3, 0.5, (Part(1.0, "anon", orders=(9,)),)),
    Workload("slab-heavy", "kernel objects: kmalloc of 32 B-2 KiB (half the bytes) and "
             "three kmem_cache_create() caches of 104, 192 and 600 B", 4, 0.5,
             (Part(0.5, "kmalloc", sizes=_KMALLOC), Part(0.5, "cache", caches=_CACHES))),
    Workload("mixed", "a desktop-like mix: order-0 file 35%, file orders 2-4 20%, "
             "order-0 anon 15%, order-9 anon 15%, kmalloc 10%, caches 5%", 5, 0.5,
             (Part(0.35, "file", orders=(0,)), Part(0.20, "file", orders=(2, 3, 4)),
              Part(0.15, "anon", orders=(0,)), Part(0.15, "anon", orders=(9,)),
              Part(0.10, "kmalloc", sizes=_KMALLOC), Part(0.05, "cache", caches=_CACHES))),
)
WORKLOAD_NAMES = tuple(w.name for w in WORKLOADS)


def workload(name: str) -> Workload:
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise UnknownChoice("workload", name, WORKLOAD_NAMES)


def _held_pages(m: Any) -> int:
    """Pages held by allocations (folios, slabs, large kmalloc), descriptor
    slabs of the memdesc designs left out (they are metadata, not the workload)."""
    s = m.stats()
    p = s["pages"]
    desc = sum(s["descriptor_bytes"].values()) // s["page_size"]
    return int(p["folio"] + p["slab"] + p["large_kmalloc"] - desc)


def run_workload(m: Any, w: Workload) -> Dict[str, Any]:
    """Run workload ``w`` on machine ``m``; returns ``filled_share`` (pages
    it holds over pages of RAM, measured by ``stats()``) and ``stopped_early``
    (None, or why it could not allocate all of it)."""
    rnd = random.Random(w.seed).random
    page_size = m.stats()["page_size"]
    held0 = _held_pages(m)
    target = int(w.fill * m.nr_pfns) * page_size
    left = [p.share * target for p in w.parts]
    caches = {name: m.kmem_cache_create(name, size)
              for p in w.parts for name, size in p.caches}
    # one allocation function per choice of each part: (function, bytes)
    choices: List[List[Tuple[Callable[[], Any], int]]] = []
    for p in w.parts:
        if p.what in ("file", "anon"):
            choices.append([(functools.partial(m.alloc_folio, order=o, kind=p.what),
                             page_size << o) for o in p.orders])
        elif p.what == "kmalloc":
            choices.append([(functools.partial(m.kmalloc, s), s) for s in p.sizes])
        else:
            choices.append([(caches[name].alloc, size) for name, size in p.caches])
    stopped = None
    try:
        total = sum(left)
        while total > 0:
            # the part: weighted by the bytes each still has to allocate
            x = rnd() * total
            i = 0
            while i < len(left) - 1 and (left[i] <= 0 or x >= left[i]):
                x -= max(left[i], 0.0)
                i += 1
            ch = choices[i]
            alloc, size = ch[int(rnd() * len(ch))]
            alloc()
            left[i] -= size
            total = sum(v for v in left if v > 0)
    except OutOfMemory as e:
        stopped = f"out of memory: {str(e).splitlines()[0]}"
    return {"filled_share": (_held_pages(m) - held0) / m.nr_pfns, "stopped_early": stopped}


# -- the variants ---------------------------------------------------------------------

def _vid(design: str, bits: int) -> str:
    return f"{design}{bits}"


def variant_ids() -> Tuple[str, ...]:
    """Every variant with layouts (built or not), in memcore.layout_variants() order."""
    import memcore
    return tuple(_vid(d, b) for d, b in memcore.layout_variants())


def select(workloads: Optional[Sequence[str]] = None,
           variants: Optional[Sequence[str]] = None
           ) -> Tuple[List[Workload], List[Tuple[str, int]]]:
    """The workloads and (design, bits) asked for, in canonical order; an
    unknown name raises UnknownChoice listing the valid ones."""
    import memcore
    for name in workloads or ():
        workload(name)
    pairs = {_vid(d, b): (d, b) for d, b in memcore.layout_variants()}
    for v in variants or ():
        if v not in pairs:
            raise UnknownChoice("variant", v, tuple(pairs))
    ws = [w for w in WORKLOADS if not workloads or w.name in workloads]
    vs = [p for v, p in pairs.items() if not variants or v in variants]
    return ws, vs


def sizes(design: str, bits: int) -> Dict[str, Any]:
    """Struct sizes of a design from its compiled layouts."""
    import memcore
    names = memcore.struct_names(design, bits)
    facts = memcore.layout_facts(design, bits)
    page = memcore.layout("page", design, bits)
    in_memmap = "memdesc" not in page          # as estimate.descriptors_overlay()

    def size(name: str) -> Optional[int]:
        return memcore.layout(name, design, bits).size if name in names else None
    return {
        "page": page.size,
        "folio_small": None if in_memmap else facts.get("small_folio_size", size("folio")),
        "folio_large": size("folio"),
        "slab": size("slab"),
        "ptdesc": size("ptdesc"),
        "buddy": size("buddy"),
        "descriptors_in_memmap": in_memmap,
    }


def memmap_bytes_per_gib(design: str, bits: int) -> int:
    import memcore
    page_size = memcore.layout_facts(design, bits)["page_size"]
    return GIB // page_size * memcore.layout("page", design, bits).size


def _measure_memory(design: str, bits: int, ram: int, w: Workload) -> Dict[str, Any]:
    """Boot a machine of the variant, run the workload, read its stats()."""
    import memcore
    try:
        m = memcore.Machine(ram, design=design, bits=bits)
    except (MemcoreError, ValueError) as e:
        return _not_run(f"cannot boot: {str(e).splitlines()[0]}")
    done = run_workload(m, w)
    s = m.stats()
    desc = {k: int(v) for k, v in s["descriptor_bytes"].items()}
    return {"ran": True, "reason": None, **done,
            "memmap_bytes": int(s["memmap_bytes"]),
            "descriptor_bytes": sum(desc.values()),
            "descriptor_bytes_by_cache": desc,
            "metadata_total_bytes": int(s["metadata_total_bytes"]),
            "metadata_share": s["metadata_total_bytes"] / m.ram,
            "vs_classic64_bytes": None, "vs_classic64_percent": None}


def _not_run(reason: str) -> Dict[str, Any]:
    return {"ran": False, "reason": reason, "filled_share": None, "stopped_early": None,
            "memmap_bytes": None, "descriptor_bytes": None, "descriptor_bytes_by_cache": None,
            "metadata_total_bytes": None, "metadata_share": None,
            "vs_classic64_bytes": None, "vs_classic64_percent": None}


# -- speed ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    unit: str
    baseline: str


OPERATIONS: Tuple[Operation, ...] = (
    Operation("alloc_free_0", "alloc+free order 0", "op", "C free list: list_del + list_add"),
    Operation("alloc_free_2", "alloc+free order 2", "op", "C free list: list_del + list_add"),
    Operation("alloc_free_9", "alloc+free order 9", "op", "C free list: list_del + list_add"),
    Operation("page_folio", "page.folio", "op", "no-op method call"),
    Operation("get_put", "folio.get()+put()", "op", "two no-op method calls"),
    Operation("test_dirty", "folio.test_dirty()", "op", "no-op method call"),
    Operation("set_dirty", "folio.set_dirty()", "op", "no-op method call"),
    Operation("lock_unlock", "folio.lock()+unlock()", "op", "two no-op method calls"),
    Operation("cache_lookup", "page-cache get_folio()+put()", "op", "two no-op method calls"),
    Operation("walk", "walk all PFNs", "PFN", "plain C loop over the memmap"),
    Operation("compact", "compaction, per PFN scanned", "PFN", "plain C loop over the memmap"),
)
OPERATION_NAMES = tuple(o.name for o in OPERATIONS)

# order-9 pairs cost ~60x an order-0 pair: fewer of them per round
_ALLOC_ORDERS = ((0, 1), (2, 1), (9, 100))


def _speed(design: str, bits: int, cfg: Config) -> Dict[str, Any]:
    """Every operation of OPERATIONS on one built variant, with its baseline
    (the variant module's ``_Nop``, ``_freelist_baseline`` and the machine's
    ``_walk_plain``, as memcore bench uses them), in the same rounds."""
    import memcore
    mod = _variants.module(design, bits)
    n = cfg.n
    m = memcore.Machine(cfg.speed_ram, design=design, bits=bits)
    out: Dict[str, Samples] = {}

    for order, div in _ALLOC_ORDERS:
        k = max(1, n // div)
        m.bulk_alloc_free(min(k, 1000), order=order)          # warm the pcp lists
        t = _rounds({"ours": lambda: m.bulk_alloc_free(k, order=order),
                     "base": lambda: mod._freelist_baseline(k)}, cfg.repeats)
        out[f"alloc_free_{order}"] = Samples([v / k for v in t["ours"]],
                                             [v / k for v in t["base"]])

    f = m.alloc_folio(0, kind="file")
    a = m.address_space("profile")
    g = m.alloc_folio(0, kind="file")
    a.add_folio(0, g)                                   # filemap_get_entry() finds it
    g.unlock()
    g.put()
    out.update(view_op_rounds(mod, f, m.page(f.pfn), n, cfg.repeats,
                              ("page_folio", "get_put", "test_dirty", "set_dirty",
                               "lock_unlock", "cache_lookup"), mapping=a))
    f.put()
    m.check()
    del m

    w = memcore.Machine(cfg.walk_ram, design=design, bits=bits)
    # a busy machine, as memcore bench's walk: most PFNs in order-0 folios
    w.bulk_alloc(w.nr_pfns * 3 // 4, order=0)
    t = _rounds({"ours": w.walk, "base": w._walk_plain}, cfg.repeats)  # type: ignore[attr-defined]
    p = w.nr_pfns
    out["walk"] = Samples([v / p for v in t["ours"]], [v / p for v in t["base"]])
    del w
    # a fragmented page cache (three in four pages freed), compacted per round
    out["compact"] = compact_rounds(design, bits, cfg.speed_ram, cfg.repeats)

    def result(s: Samples) -> Dict[str, Any]:
        r = s.result(math.inf)
        del r["ok"]                     # profile compares variants, it has no targets
        return r
    return {name: result(out[name]) for name in OPERATION_NAMES}


# -- the whole run --------------------------------------------------------------------

def run(ram: Optional[str] = None, workloads: Optional[Sequence[str]] = None,
        variants: Optional[Sequence[str]] = None, config: Config = FULL,
        progress: Optional[Callable[[int, int, str], None]] = None,
        speed: bool = True) -> Dict[str, Any]:
    """Profile the variants and return the ``--json`` object (see SCHEMA).

    ``ram`` is the workload machines' size (default: the config's);
    ``progress(done, total, what)`` is called before each step;
    ``speed=False`` leaves the speed section out (every ``speed`` null)."""
    import memcore
    ws, pairs = select(workloads, variants)
    ram_s = ram or config.ram
    ram_bytes = parse_ram(ram_s)
    built = set(memcore.variants())
    steps: List[Tuple[Tuple[str, int], Optional[Workload]]] = []
    for d, b in pairs:
        if (d, b) in built:
            steps += [((d, b), w) for w in ws]
            if speed:
                steps.append(((d, b), None))
    if ("classic", 64) in built and ("classic", 64) not in pairs and ws:
        # the "vs classic64" columns need it even when it is not shown
        steps = [(("classic", 64), w) for w in ws] + steps
    measured: Dict[Tuple[str, int, str], Dict[str, Any]] = {}
    speeds: Dict[Tuple[str, int], Dict[str, Any]] = {}
    for i, ((d, b), w) in enumerate(steps):
        if progress:
            progress(i, len(steps), f"{_vid(d, b)}: {w.name if w else 'speed'}")
        if w is None:
            speeds[(d, b)] = _speed(d, b, config)
        else:
            measured[(d, b, w.name)] = _measure_memory(d, b, ram_bytes, w)
        # a machine and its views refer to each other: free its host memory
        # (hundreds of MiB after slab-heavy) before the next one boots
        gc.collect()
    if progress:
        progress(len(steps), len(steps), "done")

    out = []
    for d, b in pairs:
        is_built = (d, b) in built
        per_w = {}
        for w in ws:
            r = measured.get((d, b, w.name)) or _not_run("not built")
            base = measured.get(("classic", 64, w.name))
            if r["ran"] and base is not None and base["ran"]:
                diff = r["metadata_total_bytes"] - base["metadata_total_bytes"]
                r = dict(r, vs_classic64_bytes=diff,
                         vs_classic64_percent=100.0 * diff / base["metadata_total_bytes"])
            per_w[w.name] = r
        out.append({
            "id": _vid(d, b), "design": d, "bits": b, "built": is_built,
            "sizes": sizes(d, b),
            "memory": {"page_size": memcore.layout_facts(d, b)["page_size"],
                       "memmap_bytes_per_gib": memmap_bytes_per_gib(d, b),
                       "workloads": per_w},
            "speed": speeds.get((d, b)),
        })
    return {
        "config": {"preset": config.preset, "ram": ram_s, "ram_bytes": ram_bytes,
                   "n": config.n, "repeats": config.repeats,
                   "speed_ram": config.speed_ram, "walk_ram": config.walk_ram},
        "workloads": [{"name": w.name, "description": w.description, "seed": w.seed,
                       "fill": w.fill} for w in ws],
        "operations": [{"name": o.name, "label": o.label, "unit": o.unit,
                        "baseline": o.baseline} for o in OPERATIONS],
        "variants": out,
    }


# -- text output ---------------------------------------------------------------------

def _ns(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.1f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.1f} us"
    return f"{v:.1f} ns"


def _table(head: List[str], rows: List[List[str]], left: int = 1) -> List[str]:
    """Columns sized to fit; the first ``left`` columns left-aligned.  A row
    shorter than the head is the first cell and a note over the others."""
    full = [head] + [r for r in rows if len(r) == len(head)]
    widths = [max(len(r[i]) for r in full) for i in range(len(head))]

    def line(r: List[str]) -> str:
        if len(r) < len(head):
            return (r[0].ljust(widths[0]) + "  " + "  ".join(r[1:])).rstrip()
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return [line(head), "-" * len(line(head))] + [line(r) for r in rows]


def render(data: Dict[str, Any]) -> str:
    cfg, vs = data["config"], data["variants"]
    L: List[str] = []
    nbuilt = sum(v["built"] for v in vs)
    L.append(f"memcore profile: {len(vs)} variants ({nbuilt} built), "
             f"workload machines of {cfg['ram']}")
    L.append("")
    L.append("sizes (bytes, from the compiled layouts)")

    def sz(v: Optional[int], in_memmap: bool = False) -> str:
        return "in memmap" if in_memmap else "-" if v is None else str(v)
    L += _table(["variant", "page", "small folio", "large folio", "slab", "ptdesc", "buddy"],
                [[v["id"], sz(s["page"]), sz(s["folio_small"], s["descriptors_in_memmap"]),
                  sz(s["folio_large"]), sz(s["slab"]), sz(s["ptdesc"]), sz(s["buddy"])]
                 for v in vs for s in [v["sizes"]]])
    L.append("in memmap: the design's descriptors overlay struct page (a small folio is "
             "its struct page; large folio, slab and ptdesc sizes are the overlaid structs)")
    L.append("")
    L.append("memory: memmap per GiB of RAM (layouts: (1 GiB / page size) x sizeof(struct page))")
    L += _table(["variant", "memmap bytes/GiB", "MiB/GiB", "% of RAM"],
                [[v["id"], f"{v['memory']['memmap_bytes_per_gib']:,}",
                  f"{v['memory']['memmap_bytes_per_gib'] / (1 << 20):.2f}",
                  f"{100.0 * v['memory']['memmap_bytes_per_gib'] / GIB:.4f}%"] for v in vs])
    notes: List[str] = []
    for w in data["workloads"]:
        L.append("")
        L.append(f"workload {w['name']} (seed {w['seed']}, fills {100 * w['fill']:.0f}% of "
                 f"{cfg['ram']}): {w['description']}")
        rows = []
        for v in vs:
            r = v["memory"]["workloads"][w["name"]]
            if not r["ran"]:
                rows.append([v["id"], r["reason"]])
                continue
            if r["stopped_early"]:
                notes.append(f"{v['id']} {w['name']}: stopped early, {r['stopped_early']}")
            diff, pct = r["vs_classic64_bytes"], r["vs_classic64_percent"]
            rows.append([v["id"], f"{100 * r['filled_share']:.1f}%", f"{r['memmap_bytes']:,}",
                         f"{r['descriptor_bytes']:,}", f"{r['metadata_total_bytes']:,}",
                         f"{100 * r['metadata_share']:.4f}%",
                         "-" if diff is None else f"{diff:+,}",
                         "-" if pct is None else f"{pct:+.1f}%"])
        L += _table(["variant", "filled", "memmap B", "descriptor B", "metadata B",
                     "% of RAM", "vs classic64 B", "vs classic64"], rows)
    if data["workloads"]:
        L.append("filled: pages the workload holds / pages of RAM; metadata = memmap + "
                 "descriptor slabs (Machine.stats()); vs classic64 relative to its metadata")
    timed = [v for v in vs if v["speed"] is not None]
    if timed:
        L.append("")
        L.append(f"speed ({cfg['repeats']} rounds of {cfg['n']:,} ops, {cfg['speed_ram']} "
                 f"machine; walk: per PFN of a {cfg['walk_ram']} machine 3/4 in order-0 folios; "
                 f"compaction: a fresh {cfg['speed_ram']} machine per round, its page cache "
                 f"fragmented 1 in 4)")
        rows = []
        for o in data["operations"]:
            row = [o["label"]]
            for v in timed:
                r = v["speed"][o["name"]]
                ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
                rel = r["spread"]["relative"]
                row.append(f"{_ns(r['ns_per_op'])} {ratio}"
                           + ("" if rel is None else f" +{100 * rel:.0f}%"))
            row.append(o["baseline"])
            rows.append(row)
        L += _table(["operation"] + [v["id"] for v in timed] + ["baseline"], rows, left=1)
        L.append("cell: fastest round per op, ratio to the same-run baseline (fastest over "
                 "fastest), +N%: median round over fastest")
    untimed = [v["id"] for v in vs if v["speed"] is None and not v["built"]]
    if untimed:
        L.append(f"not built (layouts only, no machine to run): {', '.join(untimed)}")
    for n in notes:
        L.append(f"note: {n}")
    return "\n".join(L) + "\n"


# -- plot -----------------------------------------------------------------------------

def _pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, or a one-line MemcoreError."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MemcoreError("--plot needs matplotlib: pip install 'memcore[plot]' "
                           "(or pip install matplotlib)") from None
    return plt


def plot(data: Dict[str, Any], path: str) -> None:
    """Two charts in one PNG: metadata bytes per GiB of RAM by variant (memmap,
    plus descriptors measured after each workload), and each operation's cost
    as a ratio to its baseline, by variant."""
    plt = _pyplot()
    vs = data["variants"]
    ids = [v["id"] for v in vs]
    timed = [v for v in vs if v["speed"] is not None]
    fig, axes = plt.subplots(2 if timed else 1, 1, figsize=(max(8, 1.1 * len(ids) + 4), 10
                                                            if timed else 5), squeeze=False)
    ax = axes[0][0]
    ws = data["workloads"]
    width = 0.8 / (1 + len(ws))
    xs = range(len(ids))
    mib = 1 << 20
    memmap = [v["memory"]["memmap_bytes_per_gib"] / mib for v in vs]
    ax.bar([x - 0.4 + width / 2 for x in xs], memmap, width, label="memmap only (layouts)")
    for j, w in enumerate(ws):
        vals = []
        for v in vs:
            r = v["memory"]["workloads"][w["name"]]
            vals.append(r["metadata_total_bytes"] / (data["config"]["ram_bytes"] / GIB) / mib
                        if r["ran"] else 0.0)
        ax.bar([x - 0.4 + width * (j + 1.5) for x in xs], vals, width,
               label=f"memmap + descriptors after {w['name']}")
    for x, v in zip(xs, vs):
        if not v["built"]:
            ax.text(x + width / 2, 0.2, "not built", rotation=90, ha="center", va="bottom",
                    fontsize=8)
    ax.set_xticks(list(xs))
    ax.set_xticklabels(ids, rotation=20)
    ax.set_ylabel("metadata (MiB per GiB of RAM)")
    ax.set_xlabel("variant (design, word size)")
    fills = ", ".join(sorted({f"{100 * w['fill']:.0f}%" for w in ws}))
    ax.set_title(f"Memory metadata per GiB of RAM, by variant (workloads fill {fills} "
                 f"of {data['config']['ram']})" if ws else
                 "Memory metadata (memmap) per GiB of RAM, by variant")
    ax.legend(fontsize=8)
    if timed:
        ax = axes[1][0]
        ops = data["operations"]
        width = 0.8 / len(timed)
        for j, v in enumerate(timed):
            vals = [v["speed"][o["name"]]["ratio"] or 0.0 for o in ops]
            ax.bar([i - 0.4 + width * (j + 0.5) for i in range(len(ops))], vals, width,
                   label=v["id"])
        ax.set_xticks(list(range(len(ops))))
        ax.set_xticklabels([o["label"] for o in ops], rotation=20, ha="right")
        ax.set_yscale("log")
        ax.set_ylabel("cost / same-run baseline (x, log scale)")
        ax.set_xlabel("operation (baseline: no-op call, C free list, or plain memmap loop)")
        ax.set_title("Operation cost relative to its baseline, by built variant "
                     "(lower is faster)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# -- command line ---------------------------------------------------------------------

def _names(values: Optional[Sequence[str]]) -> List[str]:
    """Names given as separate words, comma-separated, or both."""
    return [n.strip() for v in values or () for n in v.split(",") if n.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ram", default=None,
                   help=f"RAM of each workload machine (default {FULL.ram}; "
                        f"{QUICK.ram} with --quick)")
    p.add_argument("--workload", nargs="+", metavar="NAME", default=None,
                   help="run only these workloads: " + ", ".join(WORKLOAD_NAMES))
    p.add_argument("--variants", nargs="+", metavar="ID", default=None,
                   help="only these variants (default: every one with layouts, "
                        "e.g. classic64 memdesc32)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE.png", default=None,
                   help="also draw metadata per GiB and cost ratios (needs matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.add_argument("--quick", action="store_true",
                   help=f"a smoke run: {QUICK.ram} machines, {QUICK.repeats} rounds of "
                        f"{QUICK.n:,} ops (timings are noise)")


class Progress:
    """A progress bar on stderr, drawn once the run has taken a second, only
    when stderr is a terminal and not --quiet."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.start = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.enabled or (time.monotonic() - self.start < 1.0 and done < total):
            return
        if done >= total:
            self.clear()
            return
        filled = 30 * done // max(total, 1)
        sys.stderr.write(f"\r\033[Kprofile [{'#' * filled:<30}] {done}/{total} {what}")
        sys.stderr.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.drawn = False


def command(args: argparse.Namespace) -> int:
    """Run what the parsed arguments ask for; MemcoreError (UnknownChoice,
    a missing matplotlib) propagates to the caller, which prints one line."""
    cfg = QUICK if args.quick else FULL
    workloads, variants = _names(args.workload), _names(args.variants)
    select(workloads, variants)                 # bad names fail before any work
    if args.ram is not None:
        parse_ram(args.ram)
    if args.plot:
        _pyplot()                               # a missing matplotlib fails first too
    progress = Progress(sys.stderr.isatty() and not args.quiet)
    try:
        data = run(args.ram, workloads, variants, cfg, progress)
    finally:
        progress.clear()
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        print(render(data), end="")
    if args.plot:
        plot(data, args.plot)
        if not args.json:
            print(f"plot: {args.plot}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_main("memcore profile", __doc__, add_arguments, command, argv)


if __name__ == "__main__":
    sys.exit(main())
