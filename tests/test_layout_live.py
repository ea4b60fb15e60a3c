"""The running kernel's BTF, when there is one, agrees with the model.

Skips cleanly without bpftool or /sys/kernel/btf/vmlinux; the committed
snapshot (test_layout_reference.py) carries the same check everywhere.
"""
import os
import shutil
import subprocess
import platform

import pytest

import memcore
from conftest import only_bits
from memcore import btf

pytestmark = [
    pytest.mark.skipif(not os.path.exists(btf.VMLINUX), reason="no /sys/kernel/btf/vmlinux"),
    pytest.mark.skipif(platform.machine() != "x86_64", reason="the model is x86"),
]


@pytest.fixture(scope="module")
def live():
    try:
        return btf.read_layouts()
    except btf.BTFUnavailable as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def live_is_618():
    release = platform.release()
    if not release.startswith("6.18"):
        pytest.skip(f"running kernel is {release}, the model is Linux 6.18")


@pytest.mark.classic_overlay
@pytest.mark.parametrize("name", ["page", "folio", "slab", "ptdesc"])
def test_live_btf_matches_model(live, live_is_618, name):
    ours = memcore.layout(name, bits=64)
    theirs = live["structs"][name]
    assert ours.size == theirs["size"]
    assert [(m.path, m.bit_offset, m.bit_size) for m in ours.members] == \
        [(m["path"], m["offset_bits"], m["size_bits"]) for m in theirs["members"]]


@only_bits(64)
def test_live_enums_match_model(live, live_is_618, variant):
    pg = memcore.pageflags(*variant)
    for name, value in live["enums"]["pageflags"].items():
        if name != "__NR_PAGEFLAGS":
            assert pg[name] == value
    assert pg.NR_PAGEFLAGS == live["enums"]["pageflags"]["__NR_PAGEFLAGS"]


@pytest.mark.classic_overlay
@pytest.mark.skipif(shutil.which("pahole") is None, reason="pahole unavailable (dwarves)")
@pytest.mark.parametrize("name", ["page", "folio", "slab", "ptdesc"])
def test_live_pahole_text_equals_ours(live_is_618, name):
    """`memcore layout NAME` prints what `pahole -C NAME /sys/kernel/btf/vmlinux` prints."""
    r = subprocess.run(["pahole", "-C", name, btf.VMLINUX], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout:
        pytest.skip(f"pahole could not read {btf.VMLINUX}: {r.stderr.strip()[:200]}")
    assert memcore.layout(name, bits=64).pahole() == r.stdout
