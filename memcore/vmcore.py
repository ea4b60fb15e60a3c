"""A modeled machine saved as a kernel crash dump: an ELF core file in the
layout kdump's /proc/vmcore has (PT_LOAD segments at the kernel's virtual
and physical addresses, a VMCOREINFO note), which drgn opens with the
variant's types file as its vmlinux:

    $ memcore dump --vmcore /tmp/m.core           # also writes /tmp/m.core.types
    $ drgn -c /tmp/m.core -s /tmp/m.core.types

``Machine.save_vmcore(path)`` is the same from Python.  Neither needs drgn.
What a dump holds and what it leaves out: docs/DRGN.md.
"""
from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["vmcoreinfo", "save_vmcore", "types_path", "build_id"]

#: a kernel text address for VMCOREINFO's SYMBOL(swapper_pg_dir) (drgn needs one;
#: the model has no page tables, and every address drgn reads is a segment's)
_SWAPPER_PG_DIR = {64: 0xFFFFFFFF82A0A000, 32: 0xC1E0A000}

_PT_LOAD, _PT_NOTE = 1, 4
_CHUNK = 1 << 20


def types_path(design: str = "classic", bits: int = 64) -> Path:
    """The variant's types file (ELF with DWARF: its structs, the kernel
    image's variables).  FileNotFoundError if the build could not make it
    (a 32-bit variant built by a compiler without -m32: install
    gcc-multilib and rebuild)."""
    from . import _variants
    mod = _variants.module(design, bits)
    path = Path(mod.__file__).parent / f"_types_{design}{bits}.debug"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no debugger types for {design}{bits}; the build "
                                "makes them with the C compiler (32-bit: gcc -m32, from "
                                "gcc-multilib); rebuild with it installed")
    return path


def build_id(path: str | os.PathLike[str]) -> bytes:
    """The GNU build ID of an ELF file (its NT_GNU_BUILD_ID note)."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path}: not an ELF file")
    is64 = data[4] == 2
    if is64:
        phoff, = struct.unpack_from("<Q", data, 32)
        phentsize, phnum = struct.unpack_from("<HH", data, 54)
    else:
        phoff, = struct.unpack_from("<I", data, 28)
        phentsize, phnum = struct.unpack_from("<HH", data, 42)
    for i in range(phnum):
        off = phoff + i * phentsize
        if struct.unpack_from("<I", data, off)[0] != _PT_NOTE:
            continue
        if is64:
            p_offset, = struct.unpack_from("<Q", data, off + 8)
            p_filesz, = struct.unpack_from("<Q", data, off + 32)
        else:
            p_offset, = struct.unpack_from("<I", data, off + 4)
            p_filesz, = struct.unpack_from("<I", data, off + 16)
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            name = data[pos + 12:pos + 12 + namesz]
            desc_at = pos + 12 + ((namesz + 3) & ~3)
            if ntype == 3 and name == b"GNU\0":
                return data[desc_at:desc_at + descsz]
            pos = desc_at + ((descsz + 3) & ~3)
    raise ValueError(f"{path}: no build ID")


def vmcoreinfo(machine: Any) -> bytes:
    """The VMCOREINFO note of the machine, as the kernel's
    crash_save_vmcoreinfo() writes it: what drgn reads from a real dump
    (BUILD-ID names the variant's types file, so drgn takes it for vmlinux)."""
    from .enums import pageflags, pagetype
    from .layout import layout
    bits = machine.bits
    regions = machine._debugger_regions()
    symbols, sparse = regions["symbols"], regions["sparse"]
    lines = [f"OSRELEASE=6.18.2-memcore-{machine.design}{bits}",
             f"BUILD-ID={build_id(types_path(machine.design, bits)).hex()}",
             "PAGESIZE=4096",
             f"SYMBOL(swapper_pg_dir)={_SWAPPER_PG_DIR[bits]:x}",
             f"SYMBOL(node_data)={symbols['node_data']:x}",
             f"SYMBOL(mem_section)={symbols['mem_section']:x}",
             f"LENGTH(mem_section)={sparse['NR_SECTION_ROOTS']}",
             f"SIZE(mem_section)={sparse['SIZEOF_MEM_SECTION']}",
             "OFFSET(mem_section.section_mem_map)=0",
             f"NUMBER(SECTION_SIZE_BITS)={sparse['SECTION_SIZE_BITS']}",
             f"NUMBER(MAX_PHYSMEM_BITS)={sparse['MAX_PHYSMEM_BITS']}",
             "KERNELOFFSET=0"]
    if bits == 64:
        lines += ["NUMBER(phys_base)=0", "NUMBER(pgtable_l5_enabled)=0",
                  f"NUMBER(page_offset_base)={machine.page_offset:x}"]
    # kernel/vmcore_info.c's struct page facts, where the design has them
    page = layout("page", machine.design, bits)
    lines.append(f"SIZE(page)={page.size}")
    for member in ("flags", "_refcount", "mapping", "lru", "_mapcount", "private",
                   "compound_head"):
        if member in page:
            lines.append(f"OFFSET(page.{member})={page[member].offset}")
    pg = pageflags(machine.design, bits).__members__
    for flag in ("PG_lru", "PG_private", "PG_swapcache", "PG_swapbacked", "PG_hwpoison"):
        if flag in pg:
            lines.append(f"NUMBER({flag})={int(pg[flag])}")
    if "PG_head" in pg:
        lines.append(f"NUMBER(PG_head_mask)={1 << int(pg['PG_head'])}")
    ty = pagetype(machine.design, bits).__members__
    for kind in ("slab", "buddy", "hugetlb", "offline", "unaccepted"):
        if f"PGTY_{kind}" in ty:       # (PGTY_x << 24), printed as a C int
            v = (int(ty[f"PGTY_{kind}"]) << 24) & 0xFFFFFFFF
            v = v - (1 << 32) if v >> 31 else v
            lines.append(f"NUMBER(PAGE_{kind.upper()}_MAPCOUNT_VALUE)={v}")
    return ("\n".join(lines) + "\n").encode()


def note(name: str, ntype: int, desc: bytes) -> bytes:
    """One ELF note."""
    n = name.encode() + b"\0"
    return (struct.pack("<III", len(n), len(desc), ntype) + n + b"\0" * (-len(n) % 4)
            + desc + b"\0" * (-len(desc) % 4))


def elf_core(bits: int, notes: bytes, loads: list[tuple[int, int, int, int]],
             data_offset: int | None = None) -> bytes:
    """ELF header and program headers of a core file: one PT_NOTE (the
    notes follow the headers) and PT_LOADs of (vaddr, paddr, file offset,
    size).  Returns the headers and the notes."""
    n = 1 + len(loads)
    if bits == 64:
        ehsize, phentsize = 64, 56
        ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
        eh = ident + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, ehsize, 0, 0, ehsize,
                                 phentsize, n, 0, 0, 0)
        ph = struct.pack("<IIQQQQQQ", _PT_NOTE, 0, ehsize + n * phentsize, 0, 0,
                         len(notes), 0, 4)
        for vaddr, paddr, off, size in loads:
            ph += struct.pack("<IIQQQQQQ", _PT_LOAD, 7, off, vaddr, paddr, size, size, 0)
    else:
        ehsize, phentsize = 52, 32
        ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + b"\0" * 8
        eh = ident + struct.pack("<HHIIIIIHHHHHH", 4, 3, 1, 0, ehsize, 0, 0, ehsize,
                                 phentsize, n, 0, 0, 0)
        ph = struct.pack("<IIIIIIII", _PT_NOTE, ehsize + n * phentsize, 0, 0, len(notes),
                         0, 0, 4)
        for vaddr, paddr, off, size in loads:
            ph += struct.pack("<IIIIIIII", _PT_LOAD, off, vaddr, paddr & 0xFFFFFFFF, size,
                              size, 7, 0)
    return eh + ph + notes


def headers_size(bits: int, nloads: int, notes: bytes) -> int:
    return (64 + 56 * (1 + nloads) if bits == 64 else 52 + 32 * (1 + nloads)) + len(notes)


def segments(machine: Any) -> list[tuple[int, int, int]]:
    """What a dump holds: (virtual address, physical address or -1, size) of
    the direct-mapped RAM (lowmem on i386, whose memmap is in it), the
    vmemmap (x86-64) and the kernel image's variables."""
    regions = machine._debugger_regions()
    out = []
    for start, end in machine.ram_ranges:
        end = min(end, regions["lowmem_bytes"])        # i386: highmem has no direct map
        if start < end:
            out.append((machine.page_offset + start, start, end - start))
    lo, hi = machine.page_offset, machine.page_offset + regions["lowmem_bytes"]
    if not lo <= machine.memmap_address < hi:          # x86-64's vmemmap; i386's is in lowmem
        out.append((machine.memmap_address, -1, regions["memmap_bytes"]))
    out.append((regions["symbols"]["slab_caches"], -1, regions["kimage_bytes"]))  # first variable
    return out


def _copy(machine: Any, f: BinaryIO, vaddr: int, size: int) -> None:
    """Write [vaddr, vaddr + size) of the machine at the file's position,
    leaving holes (a sparse file) where the memory is all zero."""
    pos = 0
    while pos < size:
        n = min(_CHUNK, size - pos)
        data = machine._kernel_read(vaddr + pos, n)
        if data.count(0) == n:
            f.seek(n, os.SEEK_CUR)
        else:
            f.write(data)
        pos += n


def save_vmcore(machine: Any, path: str | os.PathLike[str],
                types: str | os.PathLike[str] | None = None) -> Path:
    """Write the machine as an ELF kernel core at `path` (what
    Machine.save_vmcore() does); with `types`, copy the variant's types
    file there too.  Returns the types file's path (the copy, or the
    package's own)."""
    path = Path(os.fspath(path))             # TypeError for what is no path (an int too)
    types = None if types is None else Path(os.fspath(types))
    src = types_path(machine.design, machine.bits)
    notes = note("VMCOREINFO", 0, vmcoreinfo(machine))
    segs = segments(machine)
    off = headers_size(machine.bits, len(segs), notes)
    off = (off + 4095) & ~4095
    loads = []
    for vaddr, paddr, size in segs:
        loads.append((vaddr, paddr & ((1 << 64) - 1) if machine.bits == 64 else paddr,
                      off, size))
        off += (size + 4095) & ~4095
    with open(path, "wb") as f:
        f.write(elf_core(machine.bits, notes, loads))
        for (vaddr, _, size), (_, _, at, _) in zip(segs, loads):
            f.seek(at)
            _copy(machine, f, vaddr, size)
        f.truncate(off)
    if types is None:
        return src
    shutil.copyfile(src, types)
    return types


# ---- memcore dump --------------------------------------------------------------

def populate(machine: Any) -> dict[str, Any]:
    """Something to look at in a dump: page-cache folios of orders 0-4 in the
    address space "demo" (uptodate, unlocked), anonymous folios, a slab
    cache "demo_objects" of 192-byte objects with a third of them freed,
    and kmalloc(100) objects.  Deterministic; returns what it made."""
    a = machine.address_space("demo")
    file_folios, anon = [], []
    for i, order in enumerate((0, 1, 2, 3, 4)):
        f = machine.alloc_folio(order)
        a.add_folio(i << 4, f)
        f.mark_uptodate()
        f.unlock()
        file_folios.append(f)
    for order in (0, 2):
        anon.append(machine.alloc_folio(order, kind="anon"))
    cache = machine.kmem_cache_create("demo_objects", 192)
    objs = [cache.alloc() for _ in range(60)]
    for o in objs[::3]:
        o.free()
    kmalloc = [machine.kmalloc(100) for _ in range(8)]
    return {"file": file_folios, "anon": anon, "cache": cache,
            "objects": [o for i, o in enumerate(objs) if i % 3], "kmalloc": kmalloc}


def add_arguments(p: Any) -> None:
    p.add_argument("--vmcore", required=True, metavar="FILE",
                   help="write the ELF core here (and its types file to FILE.types)")
    p.add_argument("--types", metavar="PATH", default=None,
                   help="where to write the types file, drgn's vmlinux (default: FILE.types)")
    p.add_argument("--ram", default="256MiB", help="RAM of the machine (default 256MiB)")
    p.add_argument("--design", default="classic", help="design (default classic)")
    p.add_argument("--bits", type=int, default=64, choices=(32, 64),
                   help="word size (default 64)")
    p.add_argument("--nodes", type=int, default=1, help="NUMA nodes (default 1)")
    p.add_argument("--cpus", type=int, default=2, help="CPUs (default 2)")
    p.add_argument("--empty", action="store_true",
                   help="dump the machine as booted (default: with page-cache folios, anon "
                        "folios, a slab cache and kmalloc objects made first)")


def command(args: Any) -> int:
    """memcore dump: boot a machine, give it some state, save it as a vmcore."""
    import memcore
    m = memcore.Machine(args.ram, design=args.design, bits=args.bits, nodes=args.nodes,
                        cpus=args.cpus)
    if not args.empty:
        populate(m)
    types = args.types if args.types is not None else str(args.vmcore) + ".types"
    save_vmcore(m, args.vmcore, types)
    size = Path(args.vmcore).stat().st_size
    print(f"{args.vmcore}: {m!r}, ELF core of {size} bytes")
    print(f"{types}: the {args.design}{args.bits} types (the dump's vmlinux)")
    print(f"open it with: drgn -c {args.vmcore} -s {types}")
    return 0
