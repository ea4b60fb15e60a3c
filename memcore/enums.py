"""enum pageflags and enum pagetype, read from the compiled C headers.

The values come from the variant module, so they are exactly what the C
code of that variant uses (i386 has no PG_young/PG_idle, for example).
Aliases (PG_swapcache = PG_owner_priv_1, ...) are enum aliases.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from functools import lru_cache
from typing import cast

from . import _variants


@lru_cache(maxsize=None)
def pageflags(design: str = "classic", bits: int = 64) -> type[enum.IntEnum]:
    """``enum pageflags`` of a variant as an IntEnum (``__NR_PAGEFLAGS`` excluded)."""
    rows = _variants.module(design, bits)._enum_table("pageflags")
    members = [(n, v) for n, v in rows if not n.startswith("__")]
    cls = _int_enum(f"pageflags_{design}{bits}", members)
    setattr(cls, "NR_PAGEFLAGS", dict(rows)["__NR_PAGEFLAGS"])
    return cls


@lru_cache(maxsize=None)
def pagetype(design: str = "classic", bits: int = 64) -> type[enum.IntEnum]:
    """``enum pagetype`` (PGTY_*) of a variant as an IntEnum."""
    rows = _variants.module(design, bits)._enum_table("pagetype")
    return _int_enum(f"pagetype_{design}{bits}", rows)


def _int_enum(name: str, members: Iterable[tuple[str, int]]) -> type[enum.IntEnum]:
    # the functional API; mypy follows it only with a literal name
    return cast("type[enum.IntEnum]", enum.IntEnum(name, members))


def __getattr__(name: str) -> type[enum.IntEnum]:
    # memcore.enums.PG / PGTY: the x86_64 classic enums, built on first use
    if name == "PG":
        return pageflags()
    if name == "PGTY":
        return pagetype()
    raise AttributeError(name)
