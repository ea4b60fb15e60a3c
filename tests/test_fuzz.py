"""The API fuzzer (tests/fuzz_api.py) at CI size, and a check of its machinery.

The large run: ``python tests/fuzz_api.py --calls 100000 --seed N`` (per variant).
"""
import argparse
import os
import sys

import pytest

import memcore

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_api  # noqa: E402

VARIANTS = [f"{d}{b}" for d, b in memcore.variants()]


def _args(**kw):
    a = argparse.Namespace(check_every=200, invalid=0.2, raw=0.01, no_digest=False, chunk=1000,
                           jobs=2, timeout_scale=1.0, max_crashes=10, valid_only=False,
                           minimize=False, minimize_budget=20, verbose=True)
    for k, v in kw.items():
        setattr(a, k, v)
    return a


@pytest.mark.parametrize("calls,seed", [(2000, 0), (1000, 10)], ids=["seed0", "seed10-holes"])
def test_fuzz_ci_no_findings(capsys, calls, seed):
    """Valid and invalid calls per variant, in subprocesses: no crash, no hang, no
    foreign exception, no failed call that changed state, no stale view accepted, check()
    passes.  Findings are printed with their seed, call and last calls.  Seed 10's
    first chunk boots a machine whose RAM has holes (one a whole memory section
    without a memmap) on every variant."""
    args = _args()
    if seed == 10:
        for v in VARIANTS:
            assert isinstance(fuzz_api.chunk_config(v, seed, 0)["ram"], list), v
    counts, groups = fuzz_api.fuzz(VARIANTS, calls, seed, args)
    nf = fuzz_api.report(counts, groups, args)
    out = capsys.readouterr().out
    for v in VARIANTS:
        assert counts[v]["calls"] > 0
    assert nf == 0, out


def test_fuzz_harness_valid_only():
    """The machinery itself, always green: 200 valid calls per variant run in a subprocess
    and are all counted; the classification and the reproducer runner work."""
    args = _args(valid_only=True)
    for v in VARIANTS:
        counts, findings = fuzz_api.run_worker_subprocess(v, 7, 0, 200, args)
        assert counts["crash"] == 0 and counts["hang"] == 0
        # every call is counted (a failed check() ends a chunk early, by design)
        outcomes = counts["ok"] + counts["expected"] + counts["designed"] + counts["foreign"]
        assert outcomes == counts["calls"]
        assert counts["calls"] == 200 or any(f["kind"] == "check-failed" for f in findings)
        assert counts["ok"] >= 100
    # same seed, same calls
    c1, _ = fuzz_api.run_worker_subprocess(VARIANTS[0], 7, 0, 100, args)
    c2, _ = fuzz_api.run_worker_subprocess(VARIANTS[0], 7, 0, 100, args)
    assert c1 == c2


def test_fuzz_harness_detects():
    """A crash, a foreign exception and a state change are what the harness says."""
    import memcore.errors as E
    rc, _ = fuzz_api.run_script("import os\nos.abort()\n")
    assert fuzz_api.reproduces("crash", "", rc, "")
    fuzz_api.setup_env(fuzz_api.chunk_config(VARIANTS[0], 0, 0))
    assert fuzz_api.classify_exc(OverflowError()) == "foreign"
    assert fuzz_api.classify_exc(KeyError()) == "foreign"
    assert fuzz_api.classify_exc(E.RefcountError()) == "expected"
    assert fuzz_api.classify_exc(TypeError()) == "expected"
    m = memcore.Machine("128MiB")
    d = m._state_digest()
    assert d == m._state_digest()
    f = m.alloc_folio()
    assert m._state_digest() != d
    d = m._state_digest()
    with pytest.raises(memcore.OrderOutOfRange):
        m.alloc_folio(99)
    assert m._state_digest() == d
    f.put()
