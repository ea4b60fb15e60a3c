"""A modeled machine in drgn (https://github.com/osandov/drgn), the kernel
debugger: ``pip install 'memcore[drgn]'``.

Each variant's structs are compiled at build time with the kernel's own C
types and debug info at the variant's word size (tools/drgn_types.c), into
``memcore/_types_<design><bits>.debug``; ``program(m)`` loads them into a
``drgn.Program`` whose memory is the live Machine's (the memmap and the
direct map, read as a debugger reads a core dump), so drgn's objects read
struct page, struct folio, struct slab, struct kmem_cache, zone and
pglist_data exactly as the variant lays them out:

    >>> import memcore, memcore.drgn
    >>> m = memcore.Machine("64MiB", design="memdesc")
    >>> f = m.alloc_folio(2)
    >>> prog = memcore.drgn.program(m)
    >>> folio = drgn.Object(prog, "struct folio", address=f.addr)
    >>> folio._refcount.counter.value_() == f.refcount
    True

What this program does not have yet: the kernel's symbols (``vmemmap``,
``node_data``, ``slab_caches``...) and the Linux-kernel flag that
``drgn.helpers.linux`` needs, and a saved vmcore; docs/ARCHITECTURE.md
("drgn") says where this stands.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import _variants

__all__ = ["types_path", "program", "DrgnUnavailable"]


class DrgnUnavailable(ImportError):
    """drgn is not installed: ``pip install 'memcore[drgn]'``."""


def _drgn() -> Any:
    try:
        import drgn
    except ImportError:
        raise DrgnUnavailable("memcore.drgn needs drgn: pip install 'memcore[drgn]' "
                              "(or pip install drgn)") from None
    return drgn


def types_path(design: str = "classic", bits: int = 64) -> Path:
    """The variant's types file (ELF with DWARF).  FileNotFoundError if the
    build could not make it (a 32-bit variant built by a compiler without
    -m32: install gcc-multilib and rebuild)."""
    mod = _variants.module(design, bits)
    path = Path(mod.__file__).parent / f"_types_{design}{bits}.debug"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no debugger types for {design}{bits}; the build "
                                "makes them with the C compiler (32-bit: gcc -m32, from "
                                "gcc-multilib); rebuild with it installed")
    return path


def _platform(drgn: Any, bits: int) -> Any:
    flags = drgn.PlatformFlags.IS_LITTLE_ENDIAN
    if bits == 64:
        return drgn.Platform(drgn.Architecture.X86_64, flags | drgn.PlatformFlags.IS_64_BIT)
    return drgn.Platform(drgn.Architecture.I386, flags)


def program(machine: Any) -> Any:
    """A drgn.Program over the live Machine: the variant's types, and its
    kernel memory (reads go to the Machine as they happen; an address the
    model does not hold is a drgn.FaultError)."""
    drgn = _drgn()
    design, bits = machine.design, machine.bits
    prog = drgn.Program(_platform(drgn, bits))
    module = prog.extra_module(f"memcore-{design}{bits}-types", create=True)
    module.try_file(str(types_path(design, bits)), force=True)

    def read(address: int, count: int, offset: int, physical: bool) -> bytes:
        try:
            return machine._kernel_read(address, count)
        except (ValueError, IndexError) as e:
            raise drgn.FaultError(str(e), address) from None

    start = 0xFFFF800000000000 if bits == 64 else 0xC0000000
    prog.add_memory_segment(start, (1 << bits) - start, read)
    return prog
