"""SLUB misuse on the model: wrong-cache, inside-object, non-slab and double
frees are refused (VMBug) and change nothing, and m.check() catches freelist,
counter and SL_partial corruption written into memory.

Expectations come from 6.18 (tests/slabkit.py, /work/notes/slub-runtime-6.18.md)."""
from __future__ import annotations

import pytest

from memcore import MemcoreError, VMBug

import kfacts as K
import slabkit as S
from slabkit import P, mem


# ---- misuse is refused and changes nothing ------------------------------------------------------

def misuse_setup(machine, **kw):
    m = machine(**kw)
    c = m.kmem_cache_create("mis-c", 64)
    d = m.kmem_cache_create("mis-d", 64)
    objs = [c.alloc() for _ in range(10)]
    k = m.kmalloc(64)
    f = m.alloc_folio(order=1)
    return m, c, d, objs, k, f


def _free_twice(m, c, objs):
    objs[0].free()
    return lambda: objs[0].free()


def _free_twice_not_cpu_slab(m, c, objs):
    extra = []                    # objs fill part of slab 1; make the next slab current
    while P(c.cpu_slab(0)) == P(objs[0].slab):
        extra.append(c.alloc())
    objs[0].free()                # slab 1 goes to the CPU partial list, freelist head objs[0]
    return lambda: m.kmem_cache_free(c, objs[0])


MISUSE = {
    "wrong-cache": lambda m, c, d, objs, k, f: (lambda: m.kmem_cache_free(d, objs[0])),
    "wrong-cache-kmalloc": lambda m, c, d, objs, k, f: (lambda: m.kmem_cache_free(c, k)),
    "inside-object": lambda m, c, d, objs, k, f: (
        lambda: m.kmem_cache_free(c, objs[1].address + 8)),
    "kfree-inside-object": lambda m, c, d, objs, k, f: (lambda: m.kfree(k.address + 1)),
    "non-slab-address": lambda m, c, d, objs, k, f: (lambda: m.kmem_cache_free(c, mem(m, f))),
    "kfree-folio": lambda m, c, d, objs, k, f: (lambda: m.kfree(mem(m, f))),
    "kfree-folio-tail": lambda m, c, d, objs, k, f: (lambda: m.kfree(mem(m, f) + K.PAGE_SIZE)),
    "kfree-struct-page": lambda m, c, d, objs, k, f: (lambda: m.kfree(f.pointer)),
    "kfree-not-direct-map": lambda m, c, d, objs, k, f: (lambda: m.kfree(0x1000)),
    "double-free": lambda m, c, d, objs, k, f: _free_twice(m, c, objs),
    "double-free-kfree": lambda m, c, d, objs, k, f: (m.kfree(k), lambda: m.kfree(k))[1],
    "double-free-not-cpu-slab": lambda m, c, d, objs, k, f: _free_twice_not_cpu_slab(m, c, objs),
}


@pytest.mark.parametrize("case", sorted(MISUSE))
def test_misuse_is_refused_and_changes_nothing(machine, case):
    m, c, d, objs, k, f = misuse_setup(machine)
    bad = MISUSE[case](m, c, d, objs, k, f)
    kc = m.kmem_cache("kmalloc-64")
    before = S.snapshot(m, c, d, kc)
    with pytest.raises(MemcoreError):
        bad()
    assert S.snapshot(m, c, d, kc) == before
    assert f.refcount == 1 and m.page(f.pfn).type_name is None
    m.check()
    # the machine keeps working
    o = c.alloc()
    o.free()
    m.check()


@pytest.mark.parametrize("case", ["double-free", "double-free-not-cpu-slab", "inside-object",
                                  "wrong-cache", "non-slab-address", "kfree-folio"])
def test_refused_frees_are_vmbugs(machine, case):
    """A double or invalid free is a kernel BUG(), i.e. a VMBug."""
    m, c, d, objs, k, f = misuse_setup(machine)
    bad = MISUSE[case](m, c, d, objs, k, f)
    with pytest.raises(VMBug):
        bad()


@pytest.mark.parametrize("where", ["cpu-slab", "cpu-partial-slab"])
def test_double_free_after_other_frees_is_refused(machine, where):
    """free(a), free(b), free(a): the kernel without debugging would link a twice;
    the model promises to refuse every double free and change nothing."""
    m, c, d, objs, k, f = misuse_setup(machine)
    if where == "cpu-partial-slab":
        extra = []
        while P(c.cpu_slab(0)) == P(objs[0].slab):
            extra.append(c.alloc())
        assert P(c.cpu_slab(0)) != P(objs[0].slab)
    objs[0].free()
    objs[1].free()
    objs[2].free()
    before = S.snapshot(m, c)
    with pytest.raises(MemcoreError):
        objs[0].free()
    assert S.snapshot(m, c) == before
    m.check()


# ---- check() catches corruption injected through memory writes ----------------------------------

def test_check_catches_a_corrupt_cpu_freelist(machine):
    m = machine()
    c = m.kmem_cache_create("corrupt", 64)
    objs = [c.alloc() for _ in range(6)]
    objs[2].free()
    objs[4].free()                     # CPU freelist: objs[4] -> objs[2] -> rest of the slab
    slot = objs[2].address + c.offset
    good = m.read(slot, m.bits // 8)
    m.write(slot, b"\x41" * len(good))
    with pytest.raises(VMBug, match="freelist"):
        m.check()
    m.write(slot, good)
    m.check()


def test_check_catches_a_corrupt_slab_freelist(machine):
    m = machine()
    c = m.kmem_cache_create("corrupt", 64)
    objs = [c.alloc() for _ in range(6)]
    m.kmem_cache_shrink(c)
    (slab,) = c.node_partial_slabs()
    victim = slab.free_objects()[3]
    slot = victim + c.offset
    good = m.read(slot, m.bits // 8)
    # point the free pointer at the victim itself (a loop), encoded or not
    m.write(slot, bytes(len(good)))
    with pytest.raises(VMBug, match="freelist"):
        m.check()
    m.write(slot, good)
    m.check()
    del objs


def test_check_catches_wrong_inuse_and_lost_sl_partial(machine):
    m = machine()
    bits = m.bits
    c = m.kmem_cache_create("corrupt", 64)
    objs = [c.alloc() for _ in range(6)]
    m.kmem_cache_shrink(c)
    (slab,) = c.node_partial_slabs()
    lay = K.layout(m, "slab")
    base = slab.pointer
    counters = base + lay["counters"].offset
    good = S.slab_raw(m, slab)["counters"]
    K.poke_word(m, counters, good - 1)               # inuse 5 instead of 6
    with pytest.raises(VMBug, match="inuse"):
        m.check()
    K.poke_word(m, counters, good)
    m.check()
    flags = base + lay["flags"].offset
    fw = S.slab_raw(m, slab)["flags"]
    K.poke_word(m, flags, fw & ~(1 << K.pg_bits(bits)["workingset"]))
    with pytest.raises(VMBug, match="SL_partial"):
        m.check()
    K.poke_word(m, flags, fw)
    m.check()
    del objs
