"""Benchmarks of the running machine, as ratios to baselines measured in the same run.

    python bench/bench_machine.py [--quick] [--json] [--variants classic64,...]

A thin script over ``memcore bench`` (memcore/bench.py, where the benchmarks,
their baselines and targets are described): it runs the machine's
benchmarks (Python-view ops, bulk order-0 alloc+free, kmem_cache
alloc+free, walk all PFNs, compaction, the explorer) on every built
variant and prints the one table.
Exit status 1 when a ratio misses its target, as this script always had.
"""
from __future__ import annotations

import sys

from memcore import bench

MACHINE = ("test_dirty", "get_put", "page_folio", "alloc_free", "kmem_cache", "walk", "compact",
           "explore")


def main(argv=None) -> int:
    p = bench.Parser(prog="bench_machine.py", description=__doc__.splitlines()[0])
    bench.add_arguments(p)
    args = p.parse_args(argv)
    args.only = args.only or ",".join(MACHINE)
    try:
        data = bench.run(bench.split(args.only), bench.split(args.variants),
                         bench.TINY if args.tiny else bench.QUICK if args.quick else bench.FULL,
                         bench.stderr_progress())
    except bench.MemcoreError as e:
        sys.stderr.write(f"bench_machine.py: error: {str(e).splitlines()[0]}\n")
        return 2
    bench.print_result(data, args.json)
    ok = all(r["ok"] for b in data["benchmarks"] for r in b["results"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
