"""memcore.Machine: pick the compiled variant and boot a modeled machine.

``Machine``, ``Page``, ``Folio``, ``PgFlags`` and ``Task`` are abstract
names over the variant modules' classes: ``memcore.Machine(...)`` returns
an instance of ``memcore._<design><bits>.Machine`` and ``isinstance(x,
memcore.Folio)`` holds for a folio of any variant.

To a type checker these names are the classes of ``memcore/_variant.pyi``
(generated at build time by tools/stubgen.py), which every variant's
classes derive from: the API all variants share.
"""
from __future__ import annotations

import abc
import functools
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import _variants

__all__ = ["Machine", "Page", "Folio", "PgFlags", "Task", "KmemCache", "FolioSlab", "Slab",
           "SlabObject", "AddressSpace"]

if TYPE_CHECKING:
    from ._variant import (AddressSpace, Folio, FolioSlab, KmemCache, Machine, Page, PgFlags,
                           Slab, SlabObject, Task)
else:
    class Machine(abc.ABC):
        """A modeled machine running Linux 6.18's memory management.

        ``Machine(ram="4GiB", design="classic", bits=64, config=None, nodes=1,
        cpus=2, min_free_kbytes=None, watermark_scale_factor=10, ...)``

        ram is bytes or a size string (one RAM range from address 0), or a
        list of [start, end) physical byte ranges of RAM, e.g. ``[(0x1000,
        0x9f000), (0x100000, 0xbffe0000), (0x100000000, 0x440000000)]``: the
        PFNs between them are holes, as on a real machine (each range is rounded
        inward to whole pages; they must be sorted and disjoint).

        config is the kernel configuration, in any form ``flags_layout()``
        takes (memcore/kconfig.py): None (the default) or the canonical name
        of the word size (``x86_64`` or ``i386``); ``KEY=VALUE`` overrides of
        it (``"NR_CPUS=256"``, a list of such strings, or a dict, keys with
        or without ``CONFIG_``); or a kernel ``.config`` file, plain or gzip
        (``"/proc/config.gz"``, a ``pathlib.Path``).  A variant is compiled
        for one configuration (include/memcore/config.h), so every symbol it
        depends on must have its compiled value, or ``ConfigError`` lists
        each one it cannot honour as ``CONFIG_X=wanted (model: compiled)``
        (``NR_CPUS`` and ``NODES_SHIFT`` too: the CPUs and nodes a machine
        has are cpus and nodes); the symbols of a .config the model does not
        depend on are ignored.  ``m.config`` is the canonical name.  The
        keyword arguments after cpus are those of the variant's Machine.
        """

        def __new__(cls, ram: int | str | Sequence[tuple[int, int] | list[int]] = "4GiB",
                    design: str = "classic", bits: int = 64,
                    config: str | os.PathLike[str] | Mapping[str, object] | Sequence[str]
                    | None = None, nodes: int = 1, cpus: int = 2,
                    **tunables: object) -> Machine:
            mod = _variants.module(design, bits)
            return mod.Machine(ram, config=config, nodes=nodes, cpus=cpus, **tunables)

        @classmethod
        def from_snapshot(cls, snapshot: object, design: str = "classic", bits: int = 64,
                          **kwargs: object) -> Machine:
            """Boot a machine with a real machine's memory map and page state
            (``memcore snapshot save``): RAM ranges and holes from iomem,
            nodes from zoneinfo, its folios, kernel pages, reserved and free
            memory at their PFNs.  snapshot is a path or a loaded
            ``memcore.snapshot.Snapshot``; the other keywords are Machine's.
            ``m.snapshot_boot`` reports what was placed and how the free
            blocks compare with the snapshot's.  See memcore/snapshot_boot.py."""
            from . import snapshot_boot
            return snapshot_boot.from_snapshot(snapshot, design=design, bits=bits,  # type: ignore
                                               **kwargs)

    class Page(abc.ABC):
        """A struct page view (``m.page(pfn)``)."""

    class Folio(abc.ABC):
        """A folio view (``m.alloc_folio()``, ``page.folio``)."""

    class PgFlags(abc.ABC):
        """A flags-word view (``page.flags``, ``folio.flags``, ``m.pgflags(address)``)."""

    class Task(abc.ABC):
        """A modeled task (``m.task(name)``)."""

    class KmemCache(abc.ABC):
        """A slab cache (``m.kmem_cache_create(...)``, ``m.kmem_cache("kmalloc-64")``)."""

    class FolioSlab(abc.ABC):
        """A slab cache that lends its pages to the page cache as folios (claim S8:
        ``m.folio_slab_create(name, order=3)``; the memdesc designs only)."""

    class Slab(abc.ABC):
        """A struct slab (``m.virt_to_slab(address)``)."""

    class SlabObject(abc.ABC):
        """An object from kmem_cache_alloc() or kmalloc()."""

    class AddressSpace(abc.ABC):
        """A file's page cache (``m.address_space(name)``): its XArray of folios."""

    try:
        _built = _variants.available()
    except ImportError:
        # A source tree without a build: `import memcore` still works (the
        # pytest11 entry point memcore.pytest_plugin imports this package in
        # every pytest run of the environment), and the first call that needs
        # a variant raises available()'s ImportError, which says what to do.
        _built = ()
    _FACADES = (Machine, Page, Folio, PgFlags, Task, KmemCache, FolioSlab, Slab, SlabObject,
                AddressSpace)
    for _design, _bits in _built:
        _mod = _variants.module(_design, _bits)
        for _abc in _FACADES:
            _abc.register(getattr(_mod, _abc.__name__))

    #: the Cython classes' `cdef readonly` attributes, which carry no docstring
    _ATTRIBUTE_DOCS = {
        "ram": "Bytes of RAM (the sum of the RAM ranges).",
        "bits": "Word size of the variant: 64 or 32.",
        "design": "The design: classic, interim, flags_memdesc or memdesc.",
        "config": "The kernel configuration's name (x86_64, i386).",
        "flags_layout": "The page-flags word of the configuration (a FlagsLayout).",
        "rcu": "The RCU engine: grace periods, callbacks, slabs waiting (an RCU).",
        "kasan": "True when KASAN-style checks of accesses and frees are on.",
        "machine": "The Machine this view belongs to.",
        "addr": "The modeled address of what the view names (its struct, or the object).",
        "name": "The name it was created with.",
        "id": "The task's number (its index in m.tasks).",
    }

    def _delegate(name: str, impl: object) -> object:
        """A documented stand-in on a facade for the variant's `name`: the
        same docstring and signature, calling the instance's own method."""
        def method(self: object, *args: object, **kwargs: object) -> object:
            return getattr(self, name)(*args, **kwargs)
        functools.update_wrapper(method, impl)  # type: ignore[arg-type]
        return method

    def _getter(name: str) -> object:
        def get(self: object) -> object:
            return getattr(self, name)
        return get

    def _expose(facade: type, impl: type) -> None:
        """Give the facade the variant's public API, so help(), pydoc and
        IDEs show the real methods and properties with their docstrings;
        instances are the variant's classes, which these never shadow."""
        for name, attr in vars(impl).items():
            if name.startswith("_") or name in vars(facade):
                continue
            if callable(attr) and not isinstance(attr, (property, type)):
                setattr(facade, name, _delegate(name, attr))
            elif hasattr(attr, "__get__"):
                doc = (getattr(attr, "__doc__", None) or "").strip() or _ATTRIBUTE_DOCS.get(name, "")
                setattr(facade, name, property(_getter(name), doc=doc))

    if _built:
        _ref = ("classic", 64) if ("classic", 64) in _built else _built[0]
        for _abc in _FACADES:
            _expose(_abc, getattr(_variants.module(*_ref), _abc.__name__))
