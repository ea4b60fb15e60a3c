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

drgn takes the program for a Linux kernel (a VMCOREINFO note, the memmap's
symbol), so on classic its mm helpers run on the model: ``pfn_to_page``,
``page_to_pfn``, ``decode_page_flags``, ``PageSlab``, ``compound_head``...
Not here yet: the slab and node symbols (``slab_caches``, ``node_data``),
a saved vmcore, and helpers for the memdesc designs; docs/ARCHITECTURE.md
("drgn") says where this stands.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

from . import _variants

__all__ = ["types_path", "program", "vmcoreinfo", "DrgnUnavailable"]


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


#: a kernel text address for VMCOREINFO's SYMBOL(swapper_pg_dir) (drgn needs one;
#: the model has no page tables, and every address drgn reads is a segment's)
_SWAPPER_PG_DIR = {64: 0xFFFFFFFF82A0A000, 32: 0xC1E0A000}


def vmcoreinfo(machine: Any) -> bytes:
    """The VMCOREINFO note of the machine, as the kernel's
    crash_save_vmcoreinfo() writes it: what drgn reads from a real dump."""
    lines = [f"OSRELEASE=6.18.2-memcore-{machine.design}{machine.bits}",
             "PAGESIZE=4096",
             f"SYMBOL(swapper_pg_dir)={_SWAPPER_PG_DIR[machine.bits]:x}",
             "KERNELOFFSET=0"]
    if machine.bits == 64:
        lines += ["NUMBER(phys_base)=0", "NUMBER(pgtable_l5_enabled)=0",
                  f"NUMBER(page_offset_base)={machine.page_offset:x}"]
    # kernel/vmcore_info.c's struct page facts, where the design has them
    from .enums import pageflags, pagetype
    from .layout import layout
    page = layout("page", machine.design, machine.bits)
    lines.append(f"SIZE(page)={page.size}")
    for member in ("flags", "_refcount", "mapping", "lru", "_mapcount", "private",
                   "compound_head"):
        if member in page:
            lines.append(f"OFFSET(page.{member})={page[member].offset}")
    pg = pageflags(machine.design, machine.bits).__members__
    for flag in ("PG_lru", "PG_private", "PG_swapcache", "PG_swapbacked", "PG_hwpoison"):
        if flag in pg:
            lines.append(f"NUMBER({flag})={int(pg[flag])}")
    if "PG_head" in pg:
        lines.append(f"NUMBER(PG_head_mask)={1 << int(pg['PG_head'])}")
    ty = pagetype(machine.design, machine.bits).__members__
    for kind in ("slab", "buddy", "hugetlb", "offline", "unaccepted"):
        if f"PGTY_{kind}" in ty:       # (PGTY_x << 24), printed as a C int
            v = (int(ty[f"PGTY_{kind}"]) << 24) & 0xFFFFFFFF
            v = v - (1 << 32) if v >> 31 else v
            lines.append(f"NUMBER(PAGE_{kind.upper()}_MAPCOUNT_VALUE)={v}")
    return ("\n".join(lines) + "\n").encode()


def _note(name: str, ntype: int, desc: bytes) -> bytes:
    n = name.encode() + b"\0"
    return (struct.pack("<III", len(n), len(desc), ntype) + n + b"\0" * (-len(n) % 4)
            + desc + b"\0" * (-len(desc) % 4))


def _elf_core(bits: int, notes: bytes) -> bytes:
    """An ELF core file holding only a PT_NOTE (the memory is added live)."""
    if bits == 64:
        ehsize, phentsize = 64, 56
        ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
        eh = ident + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, ehsize, 0, 0, ehsize,
                                 phentsize, 1, 0, 0, 0)
        ph = struct.pack("<IIQQQQQQ", 4, 0, ehsize + phentsize, 0, 0, len(notes), 0, 4)
    else:
        ehsize, phentsize = 52, 32
        ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + b"\0" * 8
        eh = ident + struct.pack("<HHIIIIIHHHHHH", 4, 3, 1, 0, ehsize, 0, 0, ehsize,
                                 phentsize, 1, 0, 0, 0)
        ph = struct.pack("<IIIIIIII", 4, ehsize + phentsize, 0, 0, len(notes), 0, 0, 4)
    return eh + ph + notes


def _symbols(drgn: Any, prog: Any, machine: Any) -> dict[str, Any]:
    """The kernel variables drgn's mm helpers look up, with the machine's
    values: the memmap (vmemmap on x86-64, mem_map from PFN 0 on i386)."""
    if machine.bits == 64:
        return {"vmemmap": drgn.Object(prog, "struct page *", value=machine.memmap_address)}
    return {"mem_map": drgn.Object(prog, "struct page *", value=machine.memmap_address),
            "ARCH_PFN_OFFSET": drgn.Object(prog, "unsigned long", value=0)}


def program(machine: Any) -> Any:
    """A drgn.Program over the live Machine, marked as a Linux kernel (so
    drgn.helpers.linux.mm works): the variant's types, its kernel memory
    (reads go to the Machine as they happen; an address the model does not
    hold is a drgn.FaultError) and the memmap's symbol."""
    drgn = _drgn()
    design, bits = machine.design, machine.bits
    prog = drgn.Program(_platform(drgn, bits))
    fd = os.memfd_create("memcore-vmcore")
    try:
        os.write(fd, _elf_core(bits, _note("VMCOREINFO", 0, vmcoreinfo(machine))))
        prog.set_core_dump(fd)
    finally:
        os.close(fd)
    module = prog.extra_module(f"memcore-{design}{bits}-types", create=True)
    module.try_file(str(types_path(design, bits)), force=True)

    def read(address: int, count: int, offset: int, physical: bool) -> bytes:
        try:
            return machine._kernel_read(address, count)
        except (ValueError, IndexError) as e:
            raise drgn.FaultError(str(e), address) from None

    start = 0xFFFF800000000000 if bits == 64 else 0xC0000000
    prog.add_memory_segment(start, (1 << bits) - start, read)
    symbols = _symbols(drgn, prog, machine)

    def find(prog_: Any, name: str, flags: Any, filename: Any) -> Any:
        return symbols.get(name)

    prog.register_object_finder("memcore", find, enable_index=0)
    return prog
