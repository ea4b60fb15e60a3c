"""The interleaving explorer (memcore/explore.py, memcore/core/explore.pxi):
every shipped scenario on every variant, counterexamples and their replay,
random schedules, the partial-order reduction, user scenarios and misuse."""
import json
import subprocess
import sys

import pytest

import memcore
from memcore import explore as E

VARIANTS = list(memcore.variants())


def _cases():
    for design, bits in VARIANTS:
        for info in E.SCENARIOS.values():
            if info.applies(design) is None:
                yield pytest.param(design, bits, info.name, id=f"{design}{bits}-{info.name}")


@pytest.mark.parametrize("design,bits,name", list(_cases()))
def test_shipped_scenario_meets_its_expectation(design, bits, name):
    """Correct protocols pass exhaustively; broken ones are caught, with a
    counterexample that replays to the same violation.  verify_hash makes
    every step compare the incremental hash with a full re-hash."""
    s = E.scenario(name, design, bits)
    m = s.machine
    digest = m._state_digest()
    r = s.explore(verify_hash=True)
    assert m._state_digest() == digest           # the machine is as it was
    m.check()
    if E.SCENARIOS[name].expect == "pass":
        assert r.passed, r.counterexample
        assert r.exhaustive and r.states > 10
        assert r.stats["terminals"] >= 1
    else:
        assert not r.passed
        assert r.schedule and r.counterexample
        steps, end = s.replay(r.schedule)
        found = [st["violation"] for st in steps if st["violation"]] + ([end] if end else [])
        assert found == [r.violation]
        assert "VIOLATION" in r.counterexample
        assert m._state_digest() == digest
    s.close()


def test_counterexample_names_the_race():
    r = E.run("pagecache-lookup-norecheck", "memdesc", 64)
    assert "returned folio F" in r.violation and "no mapping" in r.violation
    text = r.counterexample
    assert "folio_try_get(r0)" in text and "alloc_folio" in text
    assert "_refcount 0 -> 1" in text or "_refcount 1 -> 2" in text
    r = E.run("walker-not-typesafe", "memdesc", 64)
    assert r.violation.startswith("use after free") and "TYPESAFE_BY_RCU" in r.violation
    r = E.run("folio-lock-handoff-norecheck", "classic", 64)
    assert "lost wake-up" in r.violation
    r = E.run("compaction-isolate-noref", "classic", 32)
    assert "folio F" in r.violation


def test_not_typesafe_is_not_posed_on_classic():
    with pytest.raises(E.NotApplicable, match="never freed"):
        E.scenario("walker-not-typesafe", "classic", 64)


def test_random_schedules_are_seeded_and_find_the_bugs():
    a = E.run("folio-lock-handoff-norecheck", "memdesc", 64, random_runs=500, seed=7)
    b = E.run("folio-lock-handoff-norecheck", "memdesc", 64, random_runs=500, seed=7)
    assert not a.passed and a.schedule == b.schedule and a.violation == b.violation
    ok = E.run("folio-lock-handoff", "memdesc", 64, random_runs=300, seed=1)
    assert ok.passed and ok.stats["runs"] == 300 and ok.mode == "random"
    for name in ("pagecache-lookup-norecheck", "walker-norecheck", "compaction-isolate-noref"):
        assert not E.run(name, "classic", 64, random_runs=5000, seed=3).passed, name


def test_partial_order_reduction_keeps_verdicts_and_saves_work():
    for name, info in E.SCENARIOS.items():
        s = E.scenario(name, "interim", 64)
        full = s.explore(por=False)
        red = s.explore(por=True)
        assert full.passed == red.passed == (info.expect == "pass"), name
        if full.passed:
            assert red.transitions <= full.transitions
        s.close()
    for design in ("classic", "memdesc"):      # a reader's RCU steps commute with a writer's
        s = E.scenario("pagecache-lookup", design, 64)
        assert s.explore(por=True).transitions < s.explore(por=False).transitions


def _rcu_free_scenario(m, wait_for_readers):
    """docs/explore_example.py's scenario (the worked example of EXPLORE.md):
    a lookup against a removal whose descriptor cache is not
    TYPESAFE_BY_RCU, safe only if the free waits for a grace period."""
    import runpy
    from conftest import ROOT
    example = runpy.run_path(str(ROOT / "docs" / "explore_example.py"))
    return example["build"](m, wait_for_readers)


@pytest.mark.parametrize("design,bits", VARIANTS)
def test_synchronize_rcu_makes_a_plain_cache_safe(design, bits):
    m = memcore.Machine("64MiB", design=design, bits=bits)
    if design == "classic":
        with pytest.raises(E.NotApplicable, match="never freed"):
            _rcu_free_scenario(m, True)
        return
    assert _rcu_free_scenario(m, True).explore(verify_hash=True).passed
    m = memcore.Machine("64MiB", design=design, bits=bits)
    r = _rcu_free_scenario(m, False).explore()
    assert not r.passed and "use after free" in r.violation


def test_user_scenario_api_rejects_bad_programs():
    m = memcore.Machine("64MiB")
    s = E.Scenario(m)
    F = s.folio(m.alloc_folio(), "F")
    t = s.task("t")
    with pytest.raises(ValueError, match="no step"):
        t.step("folio_frobnicate", "r0")
    with pytest.raises(AttributeError, match="no step"):
        t.folio_frobnicate
    with pytest.raises(ValueError, match="not a register"):
        t.folio_try_get("r9")
    with pytest.raises(TypeError, match="operand"):
        t.folio_try_get()
    other = E.Scenario(memcore.Machine("64MiB"))
    G = other.folio(other.machine.alloc_folio(), "G")
    with pytest.raises(TypeError, match="not an object of this scenario"):
        t.folio_put_owner(G)
    t.goto("nowhere")
    with pytest.raises(ValueError, match="no label 'nowhere'"):
        s.explore()
    s2 = E.Scenario(m)
    for i in range(3):
        s2.task(f"t{i}").end()
    s2.task("t3").end()
    with pytest.raises(ValueError, match="at most 3 tasks"):
        s2.explore()
    assert F.label == "F"


@pytest.mark.parametrize("design", ["interim", "memdesc"])
def test_a_step_on_an_unregistered_object_is_an_error_not_a_verdict(design):
    m = memcore.Machine("64MiB", design=design)
    s = E.Scenario(m)
    f = m.alloc_folio()
    P = s.page(f.pfn, "P")                 # the page, but not its folio
    t = s.task("t")
    t.page_folio("r0", P).folio_put("r0")
    with pytest.raises(ValueError, match="no folio of the scenario"):
        s.explore()
    m.check()


def test_the_machine_may_not_change_under_a_scenario():
    s = E.scenario("walker", "classic", 64)
    s.explore()
    s.machine.folio(s._objs[0].pfn).get()
    with pytest.raises(RuntimeError, match="changed"):
        s.explore()


def test_kasan_machines_are_refused():
    m = memcore.Machine("64MiB", kasan=True)
    with pytest.raises(ValueError, match="KASAN"):
        E.Scenario(m)


def test_every_page_a_step_writes_must_be_registered():
    m = memcore.Machine("64MiB", design="memdesc")
    s = E.Scenario(m)
    F = s.folio(m.alloc_folio(1), "F")
    assert [o.label for o in s._objs] == ["F", "F page 0", "F page 1"]
    P1 = s.page(s._objs[2].pfn, "P1")                  # names the registered page
    assert P1.index == 2 and s._objs[2].label == "P1"
    q = m.alloc_folio(1)
    Q = s.page(q.pfn, "Q0", state="free")               # Q0 alone: alloc_folio needs Q1 too
    t = s.task("t")
    s.hold(t, "r0", F)
    t.folio_put("r0").alloc_folio("r1", F, Q, 1).give("r1")
    with pytest.raises(ValueError, match="alloc_folio.*PFN"):
        s.explore()
    m.check()


def test_start_state_must_balance():
    m = memcore.Machine("64MiB")
    s = E.Scenario(m)
    f = m.alloc_folio()
    s.folio(f, "F", owners=5)              # the refcount is 1
    s.task("t").end()
    with pytest.raises(ValueError, match="refcount of F is 1"):
        s.explore()


def test_limits_are_reported_not_hidden():
    s = E.scenario("folio-lock-handoff", "classic", 64)
    r = s.explore(max_states=50)
    assert r.passed and not r.exhaustive and r.stats["state_limit_hit"]
    r = s.explore(max_depth=5)
    assert r.passed and not r.exhaustive and r.stats["depth_cuts"] > 0


def _cli(*args):
    # from the tests directory: the source tree's memcore/ (no build in a plain
    # `pip install .` checkout) must not shadow the installed package
    from conftest import ROOT
    return subprocess.run([sys.executable, "-m", "memcore.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT / "tests")


def test_cli_list_and_exit_codes():
    p = _cli("explore", "--list", "--json")
    assert p.returncode == 0
    rows = json.loads(p.stdout)
    assert {r["name"] for r in rows} == set(E.SCENARIOS)
    assert all(r["expect"] in ("pass", "counterexample") for r in rows)
    p = _cli("explore", "pagecache-lookup", "--design", "memdesc")
    assert p.returncode == 0, p.stderr
    assert "no interleaving violates an invariant" in p.stdout and "states" in p.stdout
    p = _cli("explore", "walker-norecheck", "--bits", "32")
    assert p.returncode == 1 and "COUNTEREXAMPLE" in p.stdout
    replay = p.stdout.strip().splitlines()[-1]
    assert replay.startswith("replay: memcore explore walker-norecheck")
    sched = replay.split("--replay ")[1]
    q = _cli("explore", "walker-norecheck", "--bits", "32", "--replay", sched)
    assert q.returncode == 1 and "VIOLATION" in q.stdout
    assert _cli("explore", "nope").returncode == 2
    assert _cli("explore", "walker-not-typesafe", "--design", "classic").returncode == 2
    assert _cli("explore", "walker", "--design", "nodesign").returncode == 2
    p = _cli("explore", "walker", "--random", "50", "--seed", "3", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["runs"] == 50


def test_cli_all_matches_expectations():
    p = _cli("explore", "--all", "--design", "flags_memdesc", "--bits", "32")
    assert p.returncode == 0, p.stdout
    assert p.stdout.count("ok ") == len(E.SCENARIOS)


# ---- random programs: the engine must answer, refuse, or find, never crash ----

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_STEP_NAMES = sorted(E.STEPS)


def _random_scenario(m, data):
    s = E.Scenario(m, "random")
    objs = []
    f = m.alloc_folio(data.draw(st.sampled_from([0, 0, 1])), kind="file")
    plain = s.separate_descriptors and data.draw(st.booleans())   # classic: always typesafe
    objs.append(s.folio(f, "F", typesafe=not plain))
    objs += [o for o in s._objs if o.kind == 2]
    fa = m.address_space("fa")
    objs.append(s.mapping(fa, "fa"))
    objs.append(s.slot(fa, "fa[0]"))
    g = m.alloc_folio(0)
    q = g.pfn
    g.put()
    objs.append(s.page(q, "Q", state="free"))
    if s.separate_descriptors and data.draw(st.booleans()):
        objs.append(s.slab_descriptor("S"))
    operand = {"reg": st.sampled_from(["r0", "r1", "r2", "r3"]),
               "reg?": st.sampled_from(["r0", "r1", None]),
               "obj": st.sampled_from(objs), "obj?": st.sampled_from(objs + [None]),
               "int": st.integers(0, 3)}
    tasks = []
    for ti in range(data.draw(st.integers(1, 3))):
        t = s.task(f"t{ti}")
        tasks.append(t)
        if data.draw(st.booleans()):
            s.hold(t, "r0", objs[0])
        n = data.draw(st.integers(1, 8))
        labels = [f"L{i}" for i in range(n)]
        for i in range(n):
            t.label(labels[i])
            kind = data.draw(st.sampled_from(["step"] * 6 + ["branch", "lock", "unlock"]))
            if kind == "branch":
                t.if_failed(data.draw(st.sampled_from(labels)))
            elif kind == "lock":
                t.folio_lock("r0", recheck=data.draw(st.booleans()))
            elif kind == "unlock":
                t.folio_unlock("r0")
            else:
                name = data.draw(st.sampled_from(_STEP_NAMES))
                _, kinds, _ = E.STEPS[name]
                t.step(name, *[data.draw(operand[k]) for k in kinds])
    return s


@pytest.mark.parametrize("design,bits", [("classic", 64), ("memdesc", 64), ("interim", 32)])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_programs_never_break_the_machine(design, bits, data):
    """Any program of any steps on any operands: a verdict or a clear
    ValueError/TypeError, and the machine exactly as it was."""
    m = memcore.Machine("64MiB", design=design, bits=bits)
    s = _random_scenario(m, data)
    digest = m._state_digest()
    for run in (lambda: s.explore(max_states=3000, max_depth=60, verify_hash=True),
                lambda: s.random(20, seed=data.draw(st.integers(0, 99)), max_depth=60,
                                 verify_hash=True)):
        try:
            r = run()
        except (ValueError, TypeError):
            pass
        else:
            if r.schedule is not None:              # a counterexample replays to itself
                steps, end = s.replay(r.schedule)
                assert r.violation in [st["violation"] for st in steps] + [end]
        assert m._state_digest() == digest
    m.check()


def test_explore_doc_is_what_the_explorer_prints():
    """docs/EXPLORE.md's list, programs, counterexamples and worked example are
    generated (tools/explore_doc.py); they must be current."""
    from conftest import ROOT
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "explore_doc.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT / "tests")
    assert proc.returncode == 0, proc.stderr
    text = (ROOT / "docs" / "EXPLORE.md").read_text()
    for name, info in E.SCENARIOS.items():
        assert name in text
        if info.expect == "counterexample":
            assert f"<!-- explore counterexample {name} " in text
