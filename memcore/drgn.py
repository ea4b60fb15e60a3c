"""A modeled machine in drgn (https://github.com/osandov/drgn), the kernel
debugger: ``pip install 'memcore[drgn]'``.

Each variant's structs are compiled at build time with the kernel's own C
types and debug info at the variant's word size (tools/drgn_types.c), into
``memcore/_types_<design><bits>.debug``, with the kernel image's variables
a debugger starts from (``slab_caches``, ``node_data``, ``mem_section``,
``__per_cpu_offset``, ...: include/memcore/kimage.h) at the addresses where
the Machine keeps them.  ``program(m)`` gives a ``drgn.Program`` that takes
that file for vmlinux and reads the live Machine's memory (the direct map,
the memmap, those variables) as a debugger reads a crash dump, so drgn's
own Linux helpers run on the model::

    >>> import drgn, memcore, memcore.drgn
    >>> from drgn.helpers.linux.slab import find_slab_cache
    >>> m = memcore.Machine("64MiB")
    >>> prog = memcore.drgn.program(m)
    >>> find_slab_cache(prog, "kmalloc-64").size.value_()
    64

``Machine.save_vmcore()`` (memcore.vmcore) writes the same as a core file
for the drgn command line.  On the memdesc designs, whose struct page drgn's
mm helpers do not know, the helpers below follow a page to its descriptor:
``page_memdesc()``, ``memdesc_type()``, ``memdesc_descriptor()``,
``page_folio()`` and ``folio_order()`` work on every design, choosing how
from the program's types (once per program).  docs/DRGN.md is a worked
session.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from .vmcore import build_id, note, types_path, vmcoreinfo
from .vmcore import elf_core as _elf_core

__all__ = ["program", "types_path", "vmcoreinfo", "DrgnUnavailable", "page_memdesc",
           "memdesc_type", "memdesc_descriptor", "page_folio", "folio_order"]


class DrgnUnavailable(ImportError):
    """drgn is not installed: ``pip install 'memcore[drgn]'``."""


def _drgn() -> Any:
    try:
        import drgn
    except ImportError:
        raise DrgnUnavailable("memcore.drgn needs drgn: pip install 'memcore[drgn]' "
                              "(or pip install drgn)") from None
    return drgn


def _platform(drgn: Any, bits: int) -> Any:
    flags = drgn.PlatformFlags.IS_LITTLE_ENDIAN
    if bits == 64:
        return drgn.Platform(drgn.Architecture.X86_64, flags | drgn.PlatformFlags.IS_64_BIT)
    return drgn.Platform(drgn.Architecture.I386, flags)


def program(machine: Any) -> Any:
    """A drgn.Program over the live Machine, a Linux kernel to drgn (so
    drgn.helpers.linux works): the variant's types file as vmlinux (its
    build ID is the VMCOREINFO's), and the Machine's kernel memory, read as
    it is when drgn reads it (an address the model does not hold is a
    drgn.FaultError)."""
    drgn = _drgn()
    design, bits = machine.design, machine.bits
    types = types_path(design, bits)
    prog = drgn.Program(_platform(drgn, bits))
    fd = os.memfd_create("memcore-vmcore")
    try:
        os.write(fd, _elf_core(bits, note("VMCOREINFO", 0, vmcoreinfo(machine)), []))
        prog.set_core_dump(fd)
    finally:
        os.close(fd)

    def read(address: int, count: int, offset: int, physical: bool) -> bytes:
        try:
            return machine._kernel_read(address, count)
        except (ValueError, IndexError) as e:
            raise drgn.FaultError(str(e), address) from None

    start = 0xFFFF800000000000 if bits == 64 else 0xC0000000
    prog.add_memory_segment(start, (1 << bits) - start, read)
    prog.load_debug_info([str(types)])
    main = prog.main_module()
    if main is None or main.debug_file_path is None:
        raise RuntimeError(f"drgn did not take {types} (build ID "
                           f"{build_id(types).hex()}) for the kernel's debug info")
    return prog


# ---- the memdesc designs ------------------------------------------------------
#
# Written as drgn's own helpers are: functions of drgn Objects, the
# implementation for the program's struct page chosen once and kept in
# prog.cache (a struct page with a memdesc member is a memdesc design; one
# without is Linux 6.18's), no design names.

#: the descriptor a pointer type of the memdesc word points at (the plan's
#: names, the same in every table); the other types are inline or foreign
_DESCRIPTORS = {"FILE": "struct folio", "ANON": "struct folio", "SLAB": "struct slab",
                "PAGETABLE": "struct ptdesc"}


def _impl(prog: Any, what: str, choose: Callable[[Any], Callable[..., Any]]) -> Callable[..., Any]:
    key = "memcore_" + what
    try:
        return prog.cache[key]
    except KeyError:
        fn = prog.cache[key] = choose(prog)
        return fn


def _memdesc_word(prog: Any) -> Callable[[Any], Any]:
    if not prog.type("struct page").has_member("memdesc"):
        def no_memdesc(page: Any) -> Any:
            raise ValueError("this struct page has no memdesc word (Linux 6.18's layout: "
                             "use compound_head() and drgn's helpers)")
        return no_memdesc
    return lambda page: page.memdesc


def page_memdesc(page: Any) -> Any:
    """The page's ``memdesc_t`` (the typed word); ValueError on a struct
    page without one."""
    return _impl(page.prog_, "memdesc", _memdesc_word)(page)


def memdesc_type(page: Any) -> Any:
    """The type of the page's memdesc word, an ``enum mc_memdesc_type``
    object (it prints as its name, e.g. ``MEMDESC_TYPE_FILE``)."""
    drgn = _drgn()
    prog = page.prog_
    word = page_memdesc(page).v.value_()
    return drgn.Object(prog, "enum mc_memdesc_type", value=word & prog["MEMDESC_TYPE_MASK"].value_())


def _type_name(type_obj: Any) -> str | None:
    value = type_obj.value_()
    for e in type_obj.type_.enumerators:
        if e.value == value:
            return e.name.removeprefix("MEMDESC_TYPE_")
    return None


def memdesc_descriptor(page: Any) -> Any:
    """The descriptor the page's memdesc word points at, as a pointer of its
    type (``struct folio *`` for file and anon, ``struct slab *``,
    ``struct ptdesc *``); a NULL ``void *`` for inline types (misc, buddy)
    and types whose descriptor the model does not have."""
    drgn = _drgn()
    prog = page.prog_
    struct = _DESCRIPTORS.get(_type_name(memdesc_type(page)) or "")
    if struct is None:
        return drgn.NULL(prog, "void *")
    word = page_memdesc(page).v.value_()
    return drgn.Object(prog, struct + " *", value=word & ~prog["MEMDESC_TYPE_MASK"].value_())


def _page_folio_impl(prog: Any) -> Callable[[Any], Any]:
    drgn = _drgn()
    if not prog.type("struct page").has_member("memdesc"):
        from drgn.helpers.linux.mm import compound_head

        def classic(page: Any) -> Any:    # the head page is the folio (6.18)
            return drgn.cast("struct folio *", compound_head(page))
        return classic

    def memdesc(page: Any) -> Any:
        desc = memdesc_descriptor(page)
        if desc.type_.type.type_name() != "struct folio":
            return drgn.NULL(prog, "struct folio *")
        return desc
    return memdesc


def page_folio(page: Any) -> Any:
    """The folio the page belongs to, as ``struct folio *``: on Linux 6.18's
    layout the head page (compound_head()); on a memdesc design the folio
    descriptor of a file or anon page, NULL for a page of any other type."""
    return _impl(page.prog_, "page_folio", _page_folio_impl)(page)


def _folio_order_impl(prog: Any) -> Callable[[Any], int]:
    if prog.type("struct folio").has_member("_order"):
        return lambda folio: folio._order.value_()     # the descriptor's own field
    pg_head = prog["PG_head"].value_()

    def classic(folio: Any) -> int:       # folio_order(): _flags_1's low byte if large
        if not folio.flags.f.value_() >> pg_head & 1:
            return 0
        return folio._flags_1.value_() & 0xFF
    return classic


def folio_order(folio: Any) -> int:
    """folio_order(): log2 of the folio's pages, on any design."""
    return _impl(folio.prog_, "folio_order", _folio_order_impl)(folio)
