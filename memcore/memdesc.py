"""memdesc_t: the typed word per page of the memory descriptor designs.

The tables (type numbers, the inline fields of Misc and Buddy, the Misc
subtypes) are compiled from include/memcore/memdesc.h into
``memcore._layouts`` for every design that has a memdesc word, so this
module only reads them:

>>> memcore.decode_memdesc(0x2, "memdesc", 64).type
'file'
>>> memcore.memdesc_types("interim", 32)[4].name
'buddy'

``classic`` (Linux 6.18) has no memdesc word; asking for its table is an
error that says so.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from . import _variants
from .errors import MemcoreError, NotSupported, UnknownChoice
from .addresses import Address
from .layout import _layouts, layout_variants

#: the low bits that hold the type (MEMDESC_TYPE_BITS)
TYPE_BITS = 4
TYPE_MASK = (1 << TYPE_BITS) - 1


class NoMemdesc(NotSupported, ValueError):
    """The design has no memdesc word (classic: Linux 6.18)."""


@dataclass(frozen=True)
class MemdescType:
    """One row of a design's type table."""

    number: int                 #: the value of bits 0-3
    name: str | None            #: "file", "slab", ...; None: unassigned in this table
    kind: str | None            #: "inline", "descriptor" (the model allocates it), "foreign"
    descriptor: str | None      #: struct the address points at, for pointer types


@dataclass(frozen=True)
class Memdesc:
    """One decoded memdesc word."""

    word: int                   #: the raw word
    type: str | None            #: type name, None for an unassigned number
    number: int                 #: the type number (bits 0-3)
    kind: str | None            #: "inline", "descriptor", "foreign" (None: unassigned)
    descriptor: str | None      #: the pointed-to struct's name (pointer types)
    address: Address | None     #: the descriptor's address (the pointer in the word); None for inline types
    fields: Mapping[str, int] = field(default_factory=dict)  #: inline fields present here
    subtype: str | None = None  #: Misc: the subtype's name; inline Buddy: its state (None if unnamed)

    def __str__(self) -> str:
        if self.kind == "inline":
            inner = ", ".join(f"{k}={v}" for k, v in self.fields.items())
            if self.subtype is not None:
                inner = f"{self.subtype}, {inner}"
            return f"{self.type}({inner})"
        if self.type is None:
            return f"unassigned type {self.number} (word {self.word:#x})"
        return f"{self.type} -> struct {self.descriptor} at {self.address:#x}"


@lru_cache(maxsize=None)
def _tables(design: str, bits: int) -> dict[str, Any]:
    design, bits = _variants.check_choice(design, bits, layout_variants())
    tables: dict[str, Any] | None = _layouts().memdesc_tables(design, bits)
    if tables is None:
        raise NoMemdesc(f"design {design!r} has no memdesc word: its struct page is "
                        "Linux 6.18's (designs with one: "
                        f"{', '.join(sorted({d for d, _ in _memdesc_variants()}))})")
    return tables


def _memdesc_variants() -> list[tuple[str, int]]:
    mod = _layouts()
    return [v for v in layout_variants() if mod.memdesc_tables(*v) is not None]


@lru_cache(maxsize=None)
def memdesc_types(design: str = "memdesc", bits: int = 64) -> tuple[MemdescType, ...]:
    """The design's type table, indexed by type number (all 16 numbers)."""
    rows = {nr: (name, kind, desc) for nr, name, kind, desc in _tables(design, bits)["types"]}
    out = []
    for nr in range(1 << TYPE_BITS):
        name, kind, desc = rows.get(nr, (None, None, ""))
        out.append(MemdescType(nr, name, kind, desc or None))
    return tuple(out)


def memdesc_fields(design: str = "memdesc", bits: int = 64) -> Mapping[str, tuple[int, int]]:
    """{field: (shift, width)} of the inline types; width 0: absent in this configuration."""
    return MappingProxyType(dict(_tables(design, bits)["fields"]))


def misc_subtypes(design: str = "memdesc", bits: int = 64) -> Mapping[int, str]:
    """{number: name} of the Misc subtypes."""
    return MappingProxyType({nr: name for name, nr in _tables(design, bits)["subtypes"].items()})


def buddy_states(design: str = "memdesc", bits: int = 64) -> Mapping[int, str]:
    """{number: name} of the states an inline Buddy memdesc carries where Misc
    has its subtype (flags_memdesc, memdesc: "free", "head"); empty where the
    Buddy type is no inline word (interim: a free-list pointer)."""
    return MappingProxyType({nr: name for name, nr
                             in _tables(design, bits).get("buddy_states", {}).items()})


def decode_memdesc(word: int, design: str = "memdesc", bits: int = 64) -> Memdesc:
    """Decode one memdesc word of the given design and word size."""
    if not isinstance(word, int) or isinstance(word, bool):
        raise TypeError(f"a memdesc word is an int, not {type(word).__name__}")
    if not 0 <= word < 1 << bits:
        raise ValueError(f"memdesc word {word:#x} does not fit in {bits} bits")
    t = memdesc_types(design, bits)[word & TYPE_MASK]
    if t.kind != "inline":
        address = None if t.name is None else Address(word & ~TYPE_MASK)
        return Memdesc(word, t.name, t.number, t.kind, t.descriptor, address)
    values = {name: (word >> shift) & ((1 << width) - 1)
              for name, (shift, width) in memdesc_fields(design, bits).items() if width}
    subtype = None
    if t.name == "misc":
        subtype = misc_subtypes(design, bits).get(values.get("subtype", 0))
    elif t.name == "buddy":
        subtype = buddy_states(design, bits).get(values.get("subtype", 0))
    return Memdesc(word, t.name, t.number, t.kind, None, None,
                   MappingProxyType(values), subtype)


def encode_memdesc(type: str, design: str = "memdesc", bits: int = 64, *,
                   address: int | None = None, **fields: int) -> int:
    """The memdesc word of `type`: a pointer type takes the descriptor's
    16-byte aligned `address`, an inline type takes its fields by name
    (``subtype`` may be a subtype's name)."""
    table = memdesc_types(design, bits)
    numbers = [t.number for t in table if t.name == type]
    if not numbers:
        raise UnknownChoice("memdesc type", type,
                            sorted({t.name for t in table if t.name is not None}))
    t = table[numbers[0]]
    if t.kind != "inline":
        if fields:
            raise ValueError(f"type {type!r} points at a struct {t.descriptor}: "
                             f"it has no inline fields ({', '.join(fields)})")
        if address is None or address & TYPE_MASK or not 0 < address < 1 << bits:
            raise ValueError(f"type {type!r} needs a non-NULL, {1 << TYPE_BITS}-byte aligned "
                             f"{bits}-bit descriptor address, not {address!r}")
        return address | t.number
    if address is not None:
        raise ValueError(f"type {type!r} is inline: it holds no address")
    layout = memdesc_fields(design, bits)
    word = t.number
    for name, value in fields.items():
        if name == "subtype" and isinstance(value, str):
            names = {v: k for k, v in misc_subtypes(design, bits).items()}
            if value not in names:
                raise UnknownChoice("Misc subtype", value, sorted(names))
            value = names[value]
        if name not in layout:
            raise UnknownChoice("inline field", name, list(layout))
        shift, width = layout[name]
        if width == 0:
            raise ValueError(f"field {name!r} is not in the {design} {bits}-bit memdesc "
                             "(no bits in this configuration)")
        if not isinstance(value, int) or not 0 <= value < 1 << width:
            raise ValueError(f"field {name!r} holds {width} bits: {value!r} does not fit")
        word |= value << shift
    return word
