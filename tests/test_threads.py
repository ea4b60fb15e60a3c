"""Python threads sharing one Machine cannot corrupt it or crash the interpreter.

The threading rule (docs/ARCHITECTURE.md, "Threads"): the GIL is the machine
lock.  No machine operation releases it, so every C step runs whole; Python
code runs inside an operation only at constructor and RCU-callback points,
where the machine is consistent.  These tests drive one Machine from several
threads with a switch interval far below one operation, so thread switches
land between (and, where Python code runs, inside) operations, then require
Machine.check() to pass and every count to balance.
"""
from __future__ import annotations

import random
import sys
import threading

import pytest

import memcore

import slabkit as S

N_THREADS = 4
STEPS = 400


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _run(workers):
    errors = []

    def wrap(fn, i):
        try:
            fn(i)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(fn, i)) for i, fn in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threads_share_a_machine(variant, fast_switching):
    design, bits = variant
    m = memcore.Machine("256MiB", design=design, bits=bits, cpus=2)
    cache = m.kmem_cache_create("threaded", 96)
    S.shrink_all(m)                 # compared with the end, after shrink_all() again
    free_before = m.stats()["pgalloc"] - m.stats()["pgfree"]
    shared = m.alloc_folio(0)

    def worker(i):
        rng = random.Random(i)
        task = m.task(f"T{i}", cpu=i % 2)
        folios, objs = [], []
        for _ in range(STEPS):
            op = rng.randrange(6)
            if op == 0:
                folios.append(m.alloc_folio(rng.choice((0, 0, 1, 2, 9)), task=task))
            elif op == 1 and folios:
                folios.pop(rng.randrange(len(folios))).put(task=task)
            elif op == 2:
                objs.append(cache.alloc(task=task))
            elif op == 3 and objs:
                objs.pop(rng.randrange(len(objs))).free(task=task)
            elif op == 4:
                # the lock is contended: take it only when free, never sleep on it
                if shared.trylock(task=task):
                    assert shared.lock_owner is task
                    shared.unlock(task=task)
            else:
                for f in folios[-3:]:
                    f.set_dirty()
                    f.clear_dirty()
                    assert f.refcount == 1
        for f in folios:
            f.put(task=task)
        for o in objs:
            o.free(task=task)

    _run([worker] * N_THREADS)
    assert m.check()
    assert cache.objects_inuse == 0
    shared.put()
    # the empty slabs go back to the page allocator: this cache's, and on the
    # memdesc designs the descriptor caches' that the folios grew (after RCU)
    S.shrink_all(m)
    assert m.stats()["pgalloc"] - m.stats()["pgfree"] == free_before
    assert m.check()


def test_threads_and_constructors(variant, fast_switching):
    """Constructors are Python code run inside kmem_cache_alloc(): other threads
    may run while they do; the machine stays consistent and nothing crashes."""
    design, bits = variant
    m = memcore.Machine("128MiB", design=design, bits=bits, cpus=2)
    seen = []

    def ctor(obj):
        seen.append(obj.address)
        obj.write(0, b"\x5a" * 8)

    cache = m.kmem_cache_create("ctor_threaded", 64, ctor=ctor)

    def worker(i):
        task = m.task(f"C{i}", cpu=i % 2)
        objs = [cache.alloc(task=task) for _ in range(150)]
        for o in objs:
            assert o.read(0, 8) == b"\x5a" * 8
            o.free(task=task)

    _run([worker] * N_THREADS)
    assert m.check()
    assert cache.objects_inuse == 0
    assert len(seen) >= 150


def test_views_outlive_threads_and_machine_name(variant):
    """Views keep their Machine alive: dropping every other reference, even from
    another thread, leaves them usable."""
    design, bits = variant
    out = []

    def make():
        m = memcore.Machine("64MiB", design=design, bits=bits)
        f = m.alloc_folio(2)
        out.append((f, m.page(f.pfn + 1), f.flags))

    t = threading.Thread(target=make)
    t.start()
    t.join()
    f, tail, flags = out.pop()
    assert f.order == 2 and tail.is_tail and not flags.test("locked")
    assert f.put()
    assert f.machine.check()
