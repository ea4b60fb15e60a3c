"""Benchmark of ``memcore estimate`` on the live machine, as a ratio to a
baseline measured in the same run.

    python bench/bench_estimate.py [--repeats 5]        (root)

The baseline is reading /proc/kpageflags and /proc/kpagecount to EOF with
ordinary 1 MiB reads, doing nothing with the data; the measured operation is
the whole live estimate (reading them again with the memory texts,
classifying every PFN, pricing every variant, the self-check), without
printing.  Target (issue 10): <= 2x.  Each figure is the best of the repeats,
taken in rounds that run the estimate next to its baseline.
"""
from __future__ import annotations

import argparse
import sys
import time

from memcore import estimate, snapshot


def read_baseline() -> None:
    for name in ("kpageflags", "kpagecount"):
        with open(f"/proc/{name}", "rb", buffering=0) as f:
            while f.read(1 << 20):
                pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if not snapshot.can_read_live():
        print("bench_estimate: /proc/kpageflags is not readable (needs root)", file=sys.stderr)
        return 2
    estimate.run()                       # warm up: imports, the SLUB geometry machines
    base, est = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        read_baseline()
        t1 = time.perf_counter()
        estimate.run()
        t2 = time.perf_counter()
        base.append(t1 - t0)
        est.append(t2 - t1)
    b, e = min(base), min(est)
    print(f"read kpageflags+kpagecount {b:.2f} s, estimate {e:.2f} s, ratio {e / b:.2f} "
          f"(target <= 2.00; best of {args.repeats})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
