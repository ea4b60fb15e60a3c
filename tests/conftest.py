"""Shared fixtures: every API test runs on every compiled variant."""
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


@pytest.fixture(params=VARIANTS, ids=VARIANT_IDS)
def variant(request):
    """(design, bits) of each compiled variant."""
    return request.param


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
