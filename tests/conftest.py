"""Shared fixtures: every API test runs on every compiled variant.

`variant` is each (design, bits) of memcore.variants(); `machine` boots
Machines on it. Tests that assert the classic struct page overlay carry the
`classic_overlay` marker and are skipped on the variants of other designs;
everything else must hold for every design."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import memcore

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# Property tests run this many times their default number of examples
# (MEMCORE_EXAMPLES_SCALE=10 pytest tests/test_property*.py for a long soak).
EXAMPLES_SCALE = float(os.environ.get("MEMCORE_EXAMPLES_SCALE", "1"))


def examples(n: int) -> int:
    """Hypothesis max_examples for a test whose CI default is n."""
    return max(1, round(n * EXAMPLES_SCALE))


VARIANTS = memcore.variants()
VARIANT_IDS = [f"{d}{b}" for d, b in VARIANTS]

OVERLAY_DESIGN = "classic"
OVERLAY_MARKER = ("classic_overlay: asserts the Linux 6.18 struct page overlay; "
                  "runs only on the classic design")


def variants(bits=None):
    """The compiled variants as pytest params, optionally only those of one word size."""
    return [pytest.param(v, id=i) for v, i in zip(VARIANTS, VARIANT_IDS)
            if bits is None or v[1] == bits]


def only_bits(bits):
    """Run a test that takes `variant` or `machine` on the variants of one word size only
    (a configuration only x86_64 or only i386 has), still on every design."""
    return pytest.mark.parametrize("variant", variants(bits), indirect=True)


@pytest.fixture(params=VARIANTS, ids=VARIANT_IDS)
def variant(request):
    """(design, bits) of each compiled variant."""
    return request.param


@pytest.fixture
def machine(variant):
    """A factory booting memcore.Machine on the variant under test:
    machine(ram="128MiB", nodes=..., cpus=..., kasan=..., ...)."""
    design, bits = variant

    def boot(ram="128MiB", **kw):
        return memcore.Machine(ram=ram, design=design, bits=bits, **kw)

    return boot


PAGE_MEMBER_MARKER = ("page_member(name, ...): uses struct page's own member(s) `name`; "
                      "skipped on the variants whose struct page has none (from "
                      "memcore.layout(), not a list of designs)")


def page_has_member(variant, name) -> bool:
    """Does the variant's struct page have a member `name` (e.g. "flags", "_refcount")?"""
    design, bits = variant
    return any(mb.path == name or mb.path.startswith(name + ".")
               for mb in memcore.layout("page", design=design, bits=bits).members)


def pytest_configure(config):
    config.addinivalue_line("markers", OVERLAY_MARKER)
    config.addinivalue_line("markers", PAGE_MEMBER_MARKER)


def pytest_collection_modifyitems(config, items):
    """classic_overlay tests are skipped on the variants of other designs, and
    page_member tests on the variants whose struct page lacks the member."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        variant = callspec.params.get("variant") if callspec else None
        if variant is None:
            continue
        if item.get_closest_marker("classic_overlay") is not None and \
                variant[0] != OVERLAY_DESIGN:
            item.add_marker(pytest.mark.skip(
                reason=f"classic_overlay: asserts the Linux 6.18 struct page overlay, "
                       f"which the {variant[0]} design does not have"))
        for mark in item.iter_markers("page_member"):
            missing = [n for n in mark.args if not page_has_member(variant, n)]
            if missing:
                item.add_marker(pytest.mark.skip(
                    reason=f"page_member: the {variant[0]} design's struct page has no "
                           f"{', '.join(missing)}"))


def state_machine_tests(namespace, prefix, rules, settings, bits=None, **attrs):
    """One hypothesis TestCase per compiled variant (of word size `bits`, if given):
    namespace[f"{prefix}_{design}{bits}"] runs `rules` with DESIGN and BITS set (and
    the class attributes `attrs`), under `settings`."""
    for (design, b), vid in zip(VARIANTS, VARIANT_IDS):
        if bits is not None and b != bits:
            continue
        cls = type(f"{rules.__name__}_{vid}", (rules,), dict(attrs, DESIGN=design, BITS=b))
        case = cls.TestCase
        case.settings = settings
        namespace[f"{prefix}_{vid}"] = case


def load_json(name):
    return json.loads((DATA / name).read_text())


def have_m32_gcc() -> bool:
    """Can gcc build and run a 32-bit x86 program here?"""
    cc = shutil.which("gcc")
    if cc is None:
        return False
    try:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "t.c")
            exe = os.path.join(d, "t")
            Path(src).write_text("int main(void){return sizeof(long) == 4 ? 0 : 1;}\n")
            if subprocess.run([cc, "-m32", src, "-o", exe], capture_output=True).returncode:
                return False
            return subprocess.run([exe]).returncode == 0
    except OSError:
        return False


def run_cli(capsys, *args):
    """memcore.cli.main(args) in this process: (exit status, stdout, stderr)."""
    from memcore.cli import main
    try:
        code = main(list(args))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err
