"""memcore.pytest_plugin: the memcore_variant and memcore_machine fixtures that
users get in their own tests (pytest11 entry point).

Each test writes a small test file with pytester and runs pytest on it, in
process or in a subprocess, in a temporary directory: so the plugin is the
installed one, loaded through its entry point, as in a user's project.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, VARIANT_IDS, VARIANTS

import memcore

pytest_plugins = ["pytester"]

LAST = VARIANT_IDS[-1]

# Zeroing the counters word of a slab (inuse, objects, frozen), which the API
# may write on every design: check() raises VMBug "... holds 0 objects".
CORRUPT = """
import memcore

def corrupt(m):
    # the slab's counters word (inuse, objects, frozen) zeroed: SLUB loses track
    obj = m.kmalloc(64)
    counters = memcore.layout("slab", m.design, m.bits)["counters"].offset
    m.pgflags(obj.slab.pointer + counters).word = 0
"""


def ids_run(result, name):
    """The variant ids with which test `name` passed, in run order (needs -v)."""
    return re.findall(rf"::{name}\[(\w+)\] PASSED", result.stdout.str())


def test_the_plugin_is_loaded_in_this_suite(pytestconfig):
    """The entry point is installed: the project's own runs load the plugin too
    (and the rest of the suite passing with it is the check that it changes
    nothing there)."""
    plugin = pytestconfig.pluginmanager.get_plugin("memcore")
    assert plugin is not None
    assert plugin.__name__ == "memcore.pytest_plugin"


def test_memcore_variant_runs_on_every_compiled_variant(pytester):
    pytester.makepyfile("""
        import memcore

        def test_v(memcore_variant, request):
            design, bits = memcore_variant
            assert memcore_variant in memcore.variants()
            assert request.node.callspec.id == f"{design}{bits}"
    """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=len(VARIANTS))
    assert ids_run(result, "test_v") == VARIANT_IDS


def test_memcore_machine_boots_the_variant_under_test(pytester):
    pytester.makepyfile("""
        def test_m(memcore_machine, memcore_variant):
            design, bits = memcore_variant
            m = memcore_machine(ram="32MiB", cpus=3)
            assert type(m).__module__ == f"memcore._{design}{bits}"
            assert (m.bits, m.cpus, m.nr_pfns) == (bits, 3, 32 * 2**20 // 4096)
            d = memcore_machine()                      # the default: 64MiB
            assert d.nr_pfns == 64 * 2**20 // 4096 and d is not m
            f = m.alloc_folio(order=2)
            f.put()
    """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=len(VARIANTS))
    assert ids_run(result, "test_m") == VARIANT_IDS


def test_memcore_machine_refuses_design_and_bits(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("kw", [{"design": "classic"}, {"bits": 64}])
        def test_m(memcore_machine, kw):
            with pytest.raises(TypeError, match="comes from memcore_variant"):
                memcore_machine(**kw)
    """)
    pytester.runpytest().assert_outcomes(passed=2 * len(VARIANTS))


def test_option_narrows_the_variants(pytester):
    pytester.makepyfile("""
        def test_v(memcore_variant):
            pass

        def test_m(memcore_machine):
            memcore_machine()
    """)
    result = pytester.runpytest("-v", f"--memcore-variants={LAST}")
    result.assert_outcomes(passed=2)
    assert ids_run(result, "test_v") == ids_run(result, "test_m") == [LAST]

    both = ",".join(reversed(VARIANT_IDS))           # any order; run in variants() order
    result = pytester.runpytest("-v", f"--memcore-variants= {both} ")
    assert ids_run(result, "test_v") == VARIANT_IDS


def test_ini_option_narrows_and_the_command_line_wins(pytester):
    pytester.makeini(f"[pytest]\nmemcore_variants = {LAST}\n")
    pytester.makepyfile("""
        def test_v(memcore_variant):
            pass
    """)
    assert ids_run(pytester.runpytest("-v"), "test_v") == [LAST]
    first = VARIANT_IDS[0]
    assert ids_run(pytester.runpytest("-v", f"--memcore-variants={first}"), "test_v") == [first]


@pytest.mark.parametrize("given", ["nosuch64", "classic", "classic16", f"{LAST},x", ","])
def test_unknown_variant_id_is_a_usage_error(pytester, given):
    pytester.makepyfile("def test_v(memcore_variant): pass\n")
    result = pytester.runpytest(f"--memcore-variants={given}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --memcore-variants*valid ids: {', '.join(VARIANT_IDS)}"])
    if given != ",":
        bad = given.split(",")[-1]
        assert f"unknown memcore variant id {bad!r}" in result.stderr.str()
    assert not re.search(r"\d+ (passed|failed)", result.stdout.str())   # nothing ran


def test_unknown_variant_id_in_the_ini_file_is_a_usage_error(pytester):
    pytester.makeini("[pytest]\nmemcore_variants = nosuch64\n")
    pytester.makepyfile("def test_v(memcore_variant): pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "memcore_variants: unknown memcore variant id 'nosuch64'" in result.stderr.str()


def test_a_variant_that_is_not_built_is_named_as_such(pytester):
    from memcore.pytest_plugin import KNOWN_DESIGNS

    missing = [f"{d}{b}" for d in KNOWN_DESIGNS for b in (64, 32)
               if f"{d}{b}" not in VARIANT_IDS]
    if not missing:
        pytest.skip("every known design is built in both word sizes")
    pytester.makepyfile("def test_v(memcore_variant): pass\n")
    result = pytester.runpytest(f"--memcore-variants={missing[0]}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{missing[0]!r} is not built in this installation*"
                                 f"built ids: {', '.join(VARIANT_IDS)}"])


def test_a_corrupted_machine_fails_the_test(pytester):
    pytester.makepyfile(CORRUPT + """
def test_corrupts(memcore_machine):
    memcore_machine(ram="32MiB")                  # a sound machine: not reported
    corrupt(memcore_machine(cpus=3))

def test_sound(memcore_machine):
    m = memcore_machine()
    m.alloc_folio(order=2).put()
""")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=len(VARIANTS), failed=len(VARIANTS))   # failed, not errors
    out = result.stdout.str()
    for vid in VARIANT_IDS:
        assert f"::test_corrupts[{vid}] FAILED" in out
        assert f"check() failed after the test on variant {vid}" in out
    assert "machine 2 of 2, memcore_machine('64MiB', cpus=3):" in out
    assert "machine 1 of 2" not in out
    assert "VMBug: kmalloc-64: slab" in out and "holds 0 objects" in out
    assert "@pytest.mark.memcore_no_check" in out


def test_the_check_does_not_hide_the_tests_own_failure(pytester):
    pytester.makepyfile(CORRUPT + """
def test_corrupts_and_fails(memcore_machine):
    corrupt(memcore_machine())
    assert False, "the test's own failure"
""")
    result = pytester.runpytest()
    result.assert_outcomes(failed=len(VARIANTS))
    assert "the test's own failure" in result.stdout.str()
    assert "check() failed" not in result.stdout.str()


def test_no_check_marker_skips_the_check(pytester):
    pytester.makepyfile(CORRUPT + """
import pytest

@pytest.mark.memcore_no_check
def test_marked(memcore_machine):
    corrupt(memcore_machine())

class TestMarkedClass:
    pytestmark = pytest.mark.memcore_no_check

    def test_in_class(self, memcore_machine):
        corrupt(memcore_machine())

def test_unmarked(memcore_machine):
    corrupt(memcore_machine())
""")
    result = pytester.runpytest("-v", "--strict-markers")   # the marker is registered
    result.assert_outcomes(passed=2 * len(VARIANTS), failed=len(VARIANTS))
    failed = re.findall(r"::(\w+)\[\w+\] FAILED", result.stdout.str())
    assert failed == ["test_unmarked"] * len(VARIANTS)


def test_own_parametrization_of_memcore_variant_is_kept(pytester):
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.parametrize("memcore_variant", [{VARIANTS[-1]!r}], indirect=True)
        def test_v(memcore_variant, memcore_machine):
            assert memcore_variant == {VARIANTS[-1]!r}
            assert memcore_machine().bits == {VARIANTS[-1][1]}
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_subprocess_run_loads_the_plugin_by_its_entry_point(pytester):
    """A fresh interpreter in a temporary directory: the plugin comes from the
    installed distribution's pytest11 entry point, and -p no:memcore turns it off."""
    pytester.makepyfile("def test_v(memcore_variant): pass\n")
    result = pytester.runpytest_subprocess("-v", f"--memcore-variants={LAST}")
    result.assert_outcomes(passed=1)
    assert ids_run(result, "test_v") == [LAST]
    result = pytester.runpytest_subprocess("-p", "no:memcore")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'memcore_variant' not found*"])


def test_an_unbuilt_memcore_does_not_break_unrelated_runs(pytester, monkeypatch):
    """memcore without its compiled modules (an unbuilt source tree first on the
    path): pytest still runs tests that do not use the plugin, and a test that
    does gets memcore's how-to-build message."""
    pkg = pytester.path / "unbuilt" / "memcore"
    pkg.mkdir(parents=True)
    for f in Path(memcore.__file__).parent.glob("*.py"):
        shutil.copy(f, pkg)
    monkeypatch.setenv("PYTHONPATH", str(pkg.parent))
    pytester.makepyfile(test_plain="def test_plain(): assert 1 + 1 == 2\n",
                        test_uses="def test_v(memcore_variant): pass\n")
    result = pytester.runpytest_subprocess("test_plain.py")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("test_uses.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no compiled variant modules in*unbuilt/memcore*"])
    result = pytester.runpytest_subprocess("test_plain.py", f"--memcore-variants={LAST}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --memcore-variants: *no compiled variant modules*"])


def test_readme_example_runs(pytester):
    """The worked example of README.md's "Using memcore in your own tests" runs
    and passes on every variant."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Using memcore in your own tests", 1)[1].split("\n## ", 1)[0]
    [example] = re.findall(r"```python\n(.*?)```", section, re.S)
    pytester.makepyfile(test_readme_example=example)
    result = pytester.runpytest("-v", "--strict-markers")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= len(VARIANTS)
    assert set(outcomes) == {"passed"}
    for vid in VARIANT_IDS:
        assert f"[{vid}] PASSED" in result.stdout.str()
