"""Benchmark of ``memcore estimate`` on the live machine, as a ratio to a
baseline measured in the same run.

    python bench/bench_estimate.py [--repeats 5] [--json]        (root)

A thin script over ``memcore bench --only estimate`` (memcore/bench.py).
The baseline is reading /proc/kpageflags and /proc/kpagecount to EOF with
ordinary 1 MiB reads, doing nothing with the data; the measured operation is
the whole live estimate (reading them again with the memory texts,
classifying every PFN, pricing every variant, the self-check), without
printing.  Target (issue 10): <= 2x.  Each figure is the best of the repeats,
taken in rounds that run the estimate next to its baseline.  Exit status 2
when /proc/kpageflags cannot be read (not root).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

from memcore import bench


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    data = bench.run(["estimate"], config=dataclasses.replace(bench.FULL, repeats=args.repeats),
                     progress=bench.stderr_progress())
    (est,) = data["benchmarks"]
    if est["skipped"]:
        print(f"bench_estimate: skipped: {est['skipped']}", file=sys.stderr)
        return 2
    bench.print_result(data, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
