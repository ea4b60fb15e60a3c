"""Sizes as memcore reads them: binary units only.

``4G``, ``4GiB`` and ``4294967296`` are the same: 4 * 2**30 bytes, as the
kernel's memparse() reads ``mem=4G``.  ``4GB`` and ``4000MB`` are refused,
not guessed at: in other tools they mean powers of ten, so the error says
what to write instead.
"""
from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["parse_size"]

#: memparse()'s letters, each a power of 1024
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")


def parse_size(value: int | str, what: str = "size") -> int:
    """Bytes of an int or a size string: ``4GiB``, ``512MiB``, ``64M``,
    ``1.5G``, ``4096``, ``100B``.  TypeError for what is no size,
    ValueError (naming the fix) for a string that is not one, for decimal
    units (``GB``, ``MB``, ``kB``) and for a fraction of a byte."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a size, not a bool")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{what} must be an int or a size string, not {type(value).__name__}")
    mt = _SIZE_RE.fullmatch(value)
    if not mt:
        raise ValueError(f"cannot parse {what} {value!r} (examples: 4GiB, 512MiB, 64M, "
                         f"1073741824)")
    number, unit = mt.group(1), mt.group(2)
    letter = unit[:1].upper()
    if unit.upper() in ("B", ""):
        letter = ""
    elif letter not in _UNITS or unit[1:] not in ("", "i", "iB", "ib"):
        if letter in _UNITS and unit[1:].upper() == "B":
            raise ValueError(
                f"{what} {value!r}: {unit} is ambiguous (10**{3 * list(_UNITS).index(letter)} "
                f"bytes per unit elsewhere); memcore reads binary units, as the kernel's "
                f"memparse() does: write {number}{letter}iB or {number}{letter} for "
                f"{number} * 2**{10 * list(_UNITS).index(letter)} bytes, or a number of bytes")
        raise ValueError(f"{what} {value!r}: unknown unit {unit!r}; use K, M, G, T, P "
                         f"(or KiB, MiB, GiB, TiB, PiB: powers of 1024) or B")
    num = Fraction(number) * _UNITS[letter]          # exact: no float overflow
    if num.denominator != 1:
        raise ValueError(f"{what} {value!r} is not a whole number of bytes")
    return int(num)
