"""Find and import the compiled variant modules memcore._<design><bits>.

Variants are discovered from the installed extension modules, so adding a
design to setup.py's VARIANTS is all it takes to make it selectable here.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache
from types import ModuleType

from .errors import UnknownChoice

_NAME = re.compile(r"^_([a-z][a-z_]*?)(32|64)$")


@lru_cache(maxsize=None)
def available() -> tuple[tuple[str, int], ...]:
    """(design, bits) of every compiled variant, in the order of the layout
    tables (setup.py's LAYOUTS: classic, interim, flags_memdesc, memdesc, the
    transition's order), 64-bit first."""
    import memcore
    from memcore.layout import layout_variants

    found = []
    for info in pkgutil.iter_modules(memcore.__path__):
        m = _NAME.match(info.name)
        if m and not info.ispkg:
            found.append((m.group(1), int(m.group(2))))
    if not found:
        raise ImportError(
            f"memcore: no compiled variant modules in {list(memcore.__path__)}; this is the "
            "source tree without a build. Install with `pip install .` and run from another "
            "directory, or build in place with `pip install -e .`")
    order: dict[str, int] = {}
    for d, _ in layout_variants():
        order.setdefault(d, len(order))
    return tuple(sorted(found, key=lambda v: (order.get(v[0], 9), v[0], -v[1])))


def designs() -> tuple[str, ...]:
    seen = []
    for d, _ in available():
        if d not in seen:
            seen.append(d)
    return tuple(seen)


def check(design: str, bits: int) -> tuple[str, int]:
    """Validate a (design, bits) pair of a compiled variant, raising
    UnknownChoice listing valid values."""
    return check_choice(design, bits, available())


def check_choice(design: str, bits: int,
                 pairs: tuple[tuple[str, int], ...]) -> tuple[str, int]:
    """Validate (design, bits) against `pairs` (variants, or layout variants),
    raising UnknownChoice listing the valid designs, or the design's word sizes."""
    names = tuple(dict.fromkeys(d for d, _ in pairs))
    if design not in names:
        raise UnknownChoice("design", design, names)
    valid_bits = tuple(b for d, b in pairs if d == design)
    try:
        b = int(bits)
    except (TypeError, ValueError):
        raise UnknownChoice("word size (bits)", bits, valid_bits) from None
    if b not in valid_bits or b != bits:
        raise UnknownChoice("word size (bits)", bits, valid_bits)
    return design, b


@lru_cache(maxsize=None)
def module(design: str = "classic", bits: int = 64) -> ModuleType:
    """The compiled module of one variant."""
    design, bits = check(design, bits)
    return importlib.import_module(f"memcore._{design}{bits}")
