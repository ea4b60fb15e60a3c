"""A typed memcore program.

tests/test_typing.py checks it with ``mypy --strict`` (assert_type pins the
types the API must give) and runs it on every compiled variant.
"""
from __future__ import annotations

import sys

import memcore

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # typing_extensions comes with mypy
    from typing_extensions import assert_type


def lock_handover(m: memcore.Machine, folio: memcore.Folio) -> list[str]:
    """Two tasks take the folio lock in turn; returns the flag names seen while locked."""
    a, b = m.task("A"), m.task("B", cpu=1)
    assert_type(a, memcore.Task)
    assert folio.trylock(a)
    assert not folio.lock(b)             # B sleeps on the folio wait queue
    assert b.waiting and folio.lock_owner == a
    flags: memcore.PgFlags = folio.flags
    names = flags.names()
    assert folio.unlock(a)               # wakes B, which takes the lock over
    assert folio.lock_owner == b and not b.waiting
    assert not folio.unlock(b)
    return names


def slab_roundtrip(m: memcore.Machine, payload: bytes) -> bytes:
    """kmem_cache_create(), an object written and read back, freed, destroyed."""
    cache: memcore.KmemCache = m.kmem_cache_create("typed_usage", 96,
                                                   flags=["SLAB_HWCACHE_ALIGN"])
    obj = cache.alloc()
    assert_type(obj, memcore.SlabObject)
    obj.write(0, payload)
    slab = m.virt_to_slab(obj.address)
    assert slab is not None and slab.slab_cache == cache and slab.inuse >= 1
    data = obj.read(0, len(payload))
    m.kmem_cache_free(cache, obj)
    m.kmem_cache_destroy(cache)
    return data


def main(design: str = "classic", bits: int = 64) -> memcore.Machine:
    m = memcore.Machine(ram="64MiB", design=design, bits=bits, cpus=2)
    assert_type(m, memcore.Machine)
    folio = m.alloc_folio(order=2, kind="anon")
    assert_type(folio, memcore.Folio)
    page: memcore.Page = folio.page(1)
    assert page.is_tail and page.folio == folio and page.flags.word != 0

    folio.set_dirty()
    assert_type(folio.test_dirty(), bool)
    assert folio.test_dirty() and folio.flags.test("dirty")
    names = lock_handover(m, folio)
    assert "locked" in names and "dirty" in names
    assert folio.test_clear_dirty() and not folio.test_dirty()

    assert slab_roundtrip(m, b"memcore") == b"memcore"
    assert folio.put()                   # the last reference frees it
    assert m.check()
    return m


if __name__ == "__main__":
    for d, b in memcore.variants():
        print(main(d, b))
