"""SLUB sizing: every cache of the 6.18 reference machine, reproduced by the model.

For each real cache of tests/data/linux-6.18-x86_64-sys-kernel-slab.json
the model creates the cache (or looks up its own boot and kmalloc caches)
and must report the kernel's slab_size, order and objs_per_slab.  On
32-bit, caches whose object is a size class are checked too (a C struct's
32-bit size is not known from a 64-bit snapshot).
"""
import os
import platform
import sys

import pytest

import memcore
from conftest import ROOT, load_json, only_bits, variants
from slabref import create_args, kind, model_cache

SNAP = load_json("linux-6.18-x86_64-sys-kernel-slab.json")
SPECIAL = load_json("linux-6.18-x86_64-slab-creation-args.json")
NR_CPUS = SNAP["machine"]["nr_cpu_ids"]


def reference_machine(variant):
    """A machine of the variant with the reference machine's CPU count."""
    design, bits = variant
    return memcore.Machine("512MiB", design=design, bits=bits, cpus=NR_CPUS)


@pytest.fixture(scope="module", params=variants(64))
def m64(request):
    return reference_machine(request.param)


@pytest.fixture(scope="module", params=variants(32))
def m32(request):
    return reference_machine(request.param)


def geometry(c):
    return (c.slab_size, c.order, c.objs_per_slab)


def expected(entry):
    a = entry["attrs"]
    return (a["slab_size"], a["order"], a["objs_per_slab"])


def test_snapshot_is_the_reference_machine():
    assert SNAP["provenance"]["kernel_release"].startswith("6.18")
    assert len(SNAP["caches"]) == 235


@pytest.mark.parametrize("name", sorted(SNAP["caches"]))
def test_every_cache_of_the_reference_machine_64bit(m64, name):
    entry = SNAP["caches"][name]
    c = model_cache(m64, name, entry, SPECIAL, 64)
    assert geometry(c) == expected(entry)
    assert c.align == entry["attrs"]["align"]
    assert c.destroy_by_rcu == bool(entry["attrs"]["destroy_by_rcu"])
    assert c.hwcache_align == bool(entry["attrs"]["hwcache_align"])


SIZE_CLASS = sorted(n for n, e in SNAP["caches"].items()
                    if kind(n) == "kmalloc" or (kind(n) == "create" and
                                                create_args(n, e, SPECIAL, 32) is not None))


@pytest.mark.parametrize("name", SIZE_CLASS)
def test_size_class_caches_32bit(m32, name):
    """Size classes (min alignment 8 on both ABIs) have the 64-bit geometry on
    32-bit too, except objects holding pointers (kmalloc_buckets)."""
    entry = SNAP["caches"][name]
    c = model_cache(m32, name, entry, SPECIAL, 32)
    if name == "kmalloc_buckets":
        assert geometry(c) == (56, 0, 73)        # 14 pointers of 4 bytes
    else:
        assert geometry(c) == expected(entry)


def test_kmalloc_caches_exist_in_all_four_families(m64):
    names = {c.name for c in m64.caches()}
    for prefix in ("kmalloc-", "kmalloc-rcl-", "dma-kmalloc-", "kmalloc-cg-"):
        for size in ("8", "96", "192", "1k", "8k"):
            assert prefix + size in names


@only_bits(64)
def test_geometry_changes_with_cpus(machine):
    """min_objects = 4 * (fls(nr_cpus) + 1) decides the order of large objects."""
    small = machine("256MiB", cpus=1).kmem_cache("kmalloc-1k")
    large = machine("256MiB", cpus=16).kmem_cache("kmalloc-1k")
    assert small.order < large.order


def _live_snapshot():
    sys.path.insert(0, str(ROOT / "tools"))
    import snapshot_slab

    caches, _aliases = snapshot_slab.snapshot("/sys/kernel/slab", False)
    return caches, snapshot_slab.machine_facts()


@pytest.mark.skipif(not os.path.isdir("/sys/kernel/slab/kmalloc-64"),
                    reason="no /sys/kernel/slab here")
@pytest.mark.skipif(not platform.release().startswith("6.18"),
                    reason="the model is Linux 6.18")
@only_bits(64)
def test_live_sys_kernel_slab(machine):
    """Every cache of the running kernel, when it is a 6.18 like the reference."""
    caches, facts = _live_snapshot()
    cpus = facts["nr_cpu_ids"]
    if cpus > 64:
        pytest.skip("more CPUs than the model supports")
    m = machine("512MiB", cpus=cpus)
    bad = []
    for name, entry in sorted(caches.items()):
        c = model_cache(m, name, entry, SPECIAL, 64)
        if geometry(c) != expected(entry):
            bad.append((name, geometry(c), expected(entry)))
    assert not bad
