"""Modeled kernel addresses.

Every address memcore hands out (a struct page, folio or slab pointer, an
object's address, the word a task sleeps on, a direct-map address) is an
:class:`Address`: an ``int`` in every respect (arithmetic, comparisons,
hashing, ``json.dumps`` writes it as a decimal number) except that it prints
in hex, as the kernel prints pointers with ``%px``.

One difference from a plain int to know: ``address in range(a, b)`` is a
linear scan for an int subclass (CPython's fast path is for exact ints);
write ``a <= address < b``, or ``int(address) in range(a, b)``.
"""
from __future__ import annotations


class Address(int):
    """An int that prints as ``0x...`` (repr, str and f-strings without a spec)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self):#x}"

    __str__ = __repr__
