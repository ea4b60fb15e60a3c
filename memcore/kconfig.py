"""Kernel configurations: one way to name them everywhere.

``memcore.flags_layout(config)``, ``memcore layout flags --config CONFIG``
and ``memcore.Machine(config=...)`` accept the same things:

* a canonical name: ``"x86_64"`` or ``"i386"`` (include/memcore/config.h);
* ``KEY=VALUE`` overrides of a canonical configuration, as one string
  (``"NUMA=n,NR_CPUS=64"``), a list or tuple of such strings, or a dict
  (``{"NR_CPUS": 64}``).  The configuration they change is the *base*: a
  leading item without ``=`` names it (``"i386,NR_CPUS=64"``, or a .config
  path: ``"/proc/config.gz,KASAN=sw_tags"``; a dict's ``"base"`` key); without
  one it is the canonical configuration of the context: ``x86_64`` for
  ``flags_layout()``, the one of ``--bits`` for the command line, the
  variant's own for a Machine;
* a kernel ``.config`` file, plain or gzip-compressed (``/proc/config.gz``),
  as a path (``str`` containing ``/`` or naming an existing file, or any
  ``os.PathLike``).

Keys
----
A key is a Kconfig symbol, with or without its ``CONFIG_`` prefix, or a
field of :class:`~memcore.flagslayout.FlagsConfig` that no symbol sets.
Names are case-insensitive (``nr_cpus=64`` is ``CONFIG_NR_CPUS=64``).

* Symbols (:data:`SYMBOLS`): the ones the flags-word derivation reads and the
  ones the compiled model depends on.  Booleans take ``y``/``n`` (or Python
  ``True``/``False``/``None``), numbers an int (decimal or ``0x`` hex).  An
  override is applied the way Kconfig's dependencies would have it:
  ``NUMA=n`` drops ``NODES_SHIFT`` and ``NUMA_BALANCING``; ``NODES_SHIFT=N``
  (N > 0) turns ``NUMA`` on and ``NODES_SHIFT=0`` off; ``SPARSEMEM=n`` drops
  ``SPARSEMEM_VMEMMAP``; ``SMP=n`` makes ``NR_CPUS`` 1; ``CONFIG_KASAN=y`` picks
  ``KASAN_GENERIC`` (the Kconfig choice's default) and a KASAN mode symbol
  turns ``KASAN`` on and the other modes off.  Asking for both sides of a
  dependency (``NUMA=n,NODES_SHIFT=3``) is a :class:`ConfigError`.
* ``KASAN`` without the prefix names the mode: ``none``, ``generic``,
  ``sw_tags`` or ``hw_tags`` (shorthand for ``CONFIG_KASAN`` plus the mode's
  symbol); ``CONFIG_KASAN`` is the Kconfig bool.
* Fields the kernel computes rather than configures (:data:`FIELD_KEYS`:
  ``BITS_PER_LONG``, ``NR_PAGEFLAGS``, ``MAX_NR_ZONES``, ``MAX_PHYSMEM_BITS``,
  ``SECTION_SIZE_BITS``) are set after the derivation, without a prefix.

Any other key is an :class:`~memcore.errors.UnknownChoice` listing the valid
ones (a typo must not pass silently).  A ``.config`` file is different: it
holds thousands of symbols the model does not depend on, and they are
ignored.

Reading a .config
-----------------
``CONFIG_X=y|m|n``, ``CONFIG_X=123``, ``CONFIG_X=0x1f``, ``CONFIG_X="text"``
and ``# CONFIG_X is not set`` (n); other ``#`` lines are comments.  A symbol
the file does not mention is n, as it is to the kernel (Kconfig writes no
line for a symbol whose dependencies are unmet).  A gzip file is recognised
by its magic bytes, not its name.  Unreadable files, lines that are not
.config syntax and files without a single ``CONFIG_`` line are
:class:`ConfigError` naming the file (and the line).

Deriving the flags-word configuration (Linux 6.18)
--------------------------------------------------
:func:`derive` computes a :class:`~memcore.flagslayout.FlagsConfig` from the
symbols as the kernel's headers do:

* ``BITS_PER_LONG``: 64 with ``CONFIG_64BIT``, else 32.
* ``NR_PAGEFLAGS``: the length of ``enum pageflags``
  (include/linux/page-flags.h): 20 unconditional flags (``PG_locked`` ..
  ``PG_dropbehind``), + ``PG_mlocked`` with ``MMU``, + ``PG_hwpoison`` with
  ``MEMORY_FAILURE``, + ``PG_young``/``PG_idle`` with ``PAGE_IDLE_FLAG`` and
  ``64BIT``, + ``PG_arch_2`` with ``ARCH_USES_PG_ARCH_2``, + ``PG_arch_3``
  with ``ARCH_USES_PG_ARCH_3`` (:data:`PAGEFLAGS_CONDITIONAL`).
* ``MAX_NR_ZONES``: the length of ``enum zone_type``
  (include/linux/mmzone.h): ``NORMAL`` and ``MOVABLE`` always, + ``DMA``,
  ``DMA32``, ``HIGHMEM``, ``DEVICE`` with ``ZONE_DMA``, ``ZONE_DMA32``,
  ``HIGHMEM``, ``ZONE_DEVICE``.
* ``NODES_SHIFT``: ``CONFIG_NODES_SHIFT`` with ``NUMA``, else 0
  (include/linux/nodemask_types.h; Kconfig's ``NODES_SHIFT`` depends on
  ``NUMA``, so ``NUMA`` without it is an error).
* ``SPARSEMEM``, ``SPARSEMEM_VMEMMAP``, ``NUMA_BALANCING``, ``SMP``,
  ``LRU_GEN``: the symbols.  ``NR_CPUS``: ``CONFIG_NR_CPUS`` (1 without
  ``SMP`` when absent, include/linux/threads.h).
* ``KASAN``: None without ``CONFIG_KASAN``, else the mode of its choice:
  ``generic`` (``KASAN_GENERIC``), ``sw_tags``, ``hw_tags``.
* ``MAX_PHYSMEM_BITS``, ``SECTION_SIZE_BITS`` (with ``SPARSEMEM``; 0 without
  it, where page-flags-layout.h does not use them): the architecture's
  asm/sparsemem.h, which the model knows for x86 only.  ``X86_32`` with
  ``X86_PAE``: 36 and 29; ``X86_32`` without: 32 and 26; ``X86_64``: 27, and
  ``MAX_PHYSMEM_BITS`` is ``pgtable_l5_enabled() ? 52 : 46``, a boot-time
  choice: the model takes the largest the kernel is built for, 52 with
  ``PGTABLE_LEVELS=5`` (every 6.18 x86_64 kernel; ``X86_5LEVEL=y`` kernels
  before 6.16) and 46 with ``PGTABLE_LEVELS=4``.  Any other architecture
  with ``SPARSEMEM`` is a :class:`ConfigError` that names the two values:
  give them as overrides (``MAX_PHYSMEM_BITS=48,SECTION_SIZE_BITS=27``).

Machines
--------
A compiled variant is one configuration: :func:`machine_config` accepts a
configuration for it only when every symbol the variant depends on
(:data:`COMPILED`, which is include/memcore/config.h symbol for symbol, and
:data:`IMPLIED`, the symbols the model's headers test that config.h leaves
undefined) has the value it was compiled with, and otherwise raises a
:class:`ConfigError` listing every one it cannot honour as
``CONFIG_X=wanted (model: compiled)``.  ``NR_CPUS`` and ``NODES_SHIFT`` are
among them: they size fields of the compiled flags word; the CPUs and nodes
a machine has are ``Machine(cpus=, nodes=)``.  Other symbols of a .config
are ignored, and so are the ones the model takes as Machine keywords
instead (``SLAB_FREELIST_RANDOM``, ``SLAB_FREELIST_HARDENED``).
"""
from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union

from .errors import ConfigError, UnknownChoice

if TYPE_CHECKING:
    from .flagslayout import FlagsConfig

#: a symbol's value: "y", "m", "n", an int, or a string
Value = Union[str, int]

#: what a configuration may be given as
ConfigSpec = Union[str, "os.PathLike[str]", Mapping[str, Any], "list[str]", "tuple[str, ...]",
                   "FlagsConfig", None]

#: the canonical configuration of each word size
CANONICAL = {64: "x86_64", 32: "i386"}

# ---- what each variant is compiled with ---------------------------------------------

# include/memcore/config.h, symbol for symbol (tests/test_kconfig.py preprocesses the
# header and checks these tables agree with it): "y" for `#define CONFIG_X 1`.
_COMPILED_COMMON: dict[str, Value] = {
    "CONFIG_MMU": "y", "CONFIG_MEMCG": "y", "CONFIG_SPARSEMEM": "y",
    "CONFIG_TRANSPARENT_HUGEPAGE": "y", "CONFIG_HAVE_ALIGNED_STRUCT_PAGE": "y",
    "CONFIG_ZONE_DMA": "y", "CONFIG_PAGE_SHIFT": 12, "CONFIG_SLUB": "y", "CONFIG_SMP": "y",
    "CONFIG_SWAP": "y", "CONFIG_MIGRATION": "y", "CONFIG_COMPACTION": "y",
    "CONFIG_MEMORY_ISOLATION": "y", "CONFIG_ARCH_USES_PG_ARCH_2": "y",
    "CONFIG_SLUB_CPU_PARTIAL": "y", "CONFIG_SLAB_OBJ_EXT": "y", "CONFIG_HUGETLB_PAGE": "y",
    "CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING": "y", "CONFIG_MM_ID": "y",
}

#: The CONFIG_* symbols include/memcore/config.h defines, per word size.
COMPILED: dict[int, dict[str, Value]] = {
    64: {**_COMPILED_COMMON,
         "CONFIG_64BIT": "y", "CONFIG_X86_64": "y", "CONFIG_NUMA": "y",
         "CONFIG_NODES_SHIFT": 10, "CONFIG_NR_CPUS": 256, "CONFIG_NUMA_BALANCING": "y",
         "CONFIG_SPARSEMEM_VMEMMAP": "y", "CONFIG_ZONE_DMA32": "y", "CONFIG_ZONE_DEVICE": "y",
         "CONFIG_PAGE_IDLE_FLAG": "y", "CONFIG_MEMORY_HOTPLUG": "y"},
    32: {**_COMPILED_COMMON,
         "CONFIG_X86_32": "y", "CONFIG_X86_PAE": "y", "CONFIG_HIGHMEM": "y",
         # config.h defines it 0 for !CONFIG_NUMA, where a .config has no line:
         # the kernel's NODES_SHIFT is 0 then (ABSENT below)
         "CONFIG_NODES_SHIFT": 0, "CONFIG_NR_CPUS": 8},
}

_IMPLIED_COMMON: dict[str, Value] = {
    "CONFIG_MEMORY_FAILURE": "n", "CONFIG_ARCH_USES_PG_ARCH_3": "n", "CONFIG_LRU_GEN": "n",
    # the slab geometry (include/memcore/slub_sizing.h) is KASAN-free
    "CONFIG_KASAN": "n", "CONFIG_KASAN_GENERIC": "n", "CONFIG_KASAN_SW_TAGS": "n",
    "CONFIG_KASAN_HW_TAGS": "n",
    # include/memcore/mmzone.h (the Kconfig default), used by the pcp code
    "CONFIG_PCP_BATCH_SCALE_MAX": 5,
}

#: Symbols the model depends on that config.h does not define: the ones the
#: headers under include/memcore test with #if (unset in that variant), and
#: the derivation's inputs (x86_64's page-table levels: MC_MAX_PHYSMEM_BITS 52).
IMPLIED: dict[int, dict[str, Value]] = {
    64: {**_IMPLIED_COMMON,
         "CONFIG_X86_32": "n", "CONFIG_X86_PAE": "n", "CONFIG_HIGHMEM": "n",
         "CONFIG_PGTABLE_LEVELS": 5},
    32: {**_IMPLIED_COMMON,
         "CONFIG_64BIT": "n", "CONFIG_X86_64": "n", "CONFIG_NUMA": "n",
         "CONFIG_NUMA_BALANCING": "n", "CONFIG_SPARSEMEM_VMEMMAP": "n",
         "CONFIG_ZONE_DMA32": "n", "CONFIG_ZONE_DEVICE": "n", "CONFIG_PAGE_IDLE_FLAG": "n",
         "CONFIG_MEMORY_HOTPLUG": "n"},
}

#: what a symbol is when a .config has no line for it (the kernel's fallback)
ABSENT: dict[str, Value] = {"CONFIG_NODES_SHIFT": 0}


def model_symbols(bits: int) -> dict[str, Value]:
    """Every symbol the variant of this word size depends on, with its value."""
    return {**COMPILED[bits], **IMPLIED[bits]}


# ---- keys --------------------------------------------------------------------------

#: enum pageflags (include/linux/page-flags.h, 6.18): the unconditional flags,
#: then each #if's symbols and how many flags it adds
PAGEFLAGS_UNCONDITIONAL = 20
PAGEFLAGS_CONDITIONAL: tuple[tuple[tuple[str, ...], int], ...] = (
    (("CONFIG_MMU",), 1),                                # PG_mlocked
    (("CONFIG_MEMORY_FAILURE",), 1),                     # PG_hwpoison
    (("CONFIG_PAGE_IDLE_FLAG", "CONFIG_64BIT"), 2),      # PG_young, PG_idle
    (("CONFIG_ARCH_USES_PG_ARCH_2",), 1),                # PG_arch_2
    (("CONFIG_ARCH_USES_PG_ARCH_3",), 1),                # PG_arch_3
)
#: enum zone_type (include/linux/mmzone.h): NORMAL and MOVABLE, and these
ZONES_CONDITIONAL = ("CONFIG_ZONE_DMA", "CONFIG_ZONE_DMA32", "CONFIG_HIGHMEM",
                     "CONFIG_ZONE_DEVICE")

_INT_SYMBOLS = ("CONFIG_PAGE_SHIFT", "CONFIG_NODES_SHIFT", "CONFIG_NR_CPUS",
                "CONFIG_PGTABLE_LEVELS", "CONFIG_PCP_BATCH_SCALE_MAX")
_DERIVATION_INPUTS = (
    "CONFIG_64BIT", "CONFIG_X86_64", "CONFIG_X86_32", "CONFIG_X86_PAE", "CONFIG_PGTABLE_LEVELS",
    *(s for cond, _ in PAGEFLAGS_CONDITIONAL for s in cond), *ZONES_CONDITIONAL,
    "CONFIG_NUMA", "CONFIG_NODES_SHIFT", "CONFIG_SPARSEMEM", "CONFIG_SPARSEMEM_VMEMMAP",
    "CONFIG_NUMA_BALANCING", "CONFIG_NR_CPUS", "CONFIG_SMP", "CONFIG_KASAN",
    "CONFIG_KASAN_GENERIC", "CONFIG_KASAN_SW_TAGS", "CONFIG_KASAN_HW_TAGS", "CONFIG_LRU_GEN")

#: Every symbol an override may set (the derivation's inputs and the symbols
#: the variants depend on), and its type: "bool" or "int".
SYMBOLS: dict[str, str] = {
    s: ("int" if s in _INT_SYMBOLS else "bool")
    for s in dict.fromkeys((*_DERIVATION_INPUTS, *model_symbols(64), *model_symbols(32)))}

#: FlagsConfig fields no Kconfig symbol sets: overridden after the derivation
FIELD_KEYS = ("BITS_PER_LONG", "NR_PAGEFLAGS", "MAX_NR_ZONES", "MAX_PHYSMEM_BITS",
              "SECTION_SIZE_BITS")

#: the KASAN key's modes and the Kconfig choice symbol of each
KASAN_MODES: dict[str, str | None] = {"none": None, "generic": "CONFIG_KASAN_GENERIC",
                                      "sw_tags": "CONFIG_KASAN_SW_TAGS",
                                      "hw_tags": "CONFIG_KASAN_HW_TAGS"}
_KASAN_CHOICE = ("CONFIG_KASAN_GENERIC", "CONFIG_KASAN_SW_TAGS", "CONFIG_KASAN_HW_TAGS")


def valid_keys() -> tuple[str, ...]:
    """The keys an override may use (symbols without their CONFIG_ prefix)."""
    return (*FIELD_KEYS, "KASAN", *(s[7:] for s in SYMBOLS if s != "CONFIG_KASAN"))


# ---- reading a .config -------------------------------------------------------------

_ASSIGN = re.compile(r"(CONFIG_[A-Za-z0-9_]+)=(.*)")
_NOT_SET = re.compile(r"# (CONFIG_[A-Za-z0-9_]+) is not set\s*")


def _parse_value(text: str) -> Value | None:
    """A .config value: y/m/n, an int (decimal or hex), a quoted string; None if none."""
    if text in ("y", "m", "n"):
        return text
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        return int(text, 16)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return None


def parse_config(text: str, source: str = "<string>") -> dict[str, Value]:
    """The symbols of .config text: {"CONFIG_X": value}; ``is not set`` is "n"."""
    out: dict[str, Value] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        m = _NOT_SET.fullmatch(s)
        if m:
            out[m.group(1)] = "n"
            continue
        if s.startswith("#"):
            continue
        m = _ASSIGN.fullmatch(s)
        if not m:
            raise ConfigError(f"{source}, line {lineno}: not a kernel .config line: {s[:60]!r}",
                              path=source, line=lineno)
        value = _parse_value(m.group(2))
        if value is None:
            raise ConfigError(f"{source}, line {lineno}: {m.group(1)} has value "
                              f"{m.group(2)[:40]!r}, not y, m, n, a number or a quoted string",
                              path=source, line=lineno)
        out[m.group(1)] = value
    if not out:
        raise ConfigError(f"{source}: no CONFIG_ symbols: not a kernel .config", path=source)
    return out


def read_config(path: str | os.PathLike[str]) -> dict[str, Value]:
    """Read a kernel .config, plain or gzip-compressed (``/proc/config.gz``)."""
    name = os.fspath(path)
    try:
        # /proc/config.gz reports size 0: read to the end, whatever stat says
        with open(name, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConfigError(f"cannot read kernel config {name}: {e.strerror or e}",
                          path=name) from e
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise ConfigError(f"{name}: not a readable gzip file: {e}", path=name) from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{name}: not a text file (byte {e.start} is not UTF-8)",
                          path=name) from e
    return parse_config(text, name)


# ---- overrides ---------------------------------------------------------------------

def _is_path(text: str) -> bool:
    return os.sep in text or "/" in text or os.path.isfile(text)


def split_spec(spec: str) -> tuple[str | None, list[str]]:
    """``"[BASE,]KEY=VALUE,..."`` → (BASE or None, ["KEY=VALUE", ...])."""
    items = [p.strip() for p in spec.split(",")]
    if any(not p for p in items):
        raise ConfigError(f"empty item in config {spec!r} (KEY=VALUE items, separated by commas)")
    base = None
    if "=" not in items[0]:
        base, items = items[0], items[1:]
    for p in items:
        if "=" not in p:
            raise ConfigError(f"config item {p!r} is not KEY=VALUE (only the first item of "
                              f"{spec!r} may name a configuration)")
    return base, items


def _key_value_pairs(items: Iterable[str]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"config overrides must be 'KEY=VALUE' strings, not "
                            f"{type(item).__name__}")
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"config item {item!r} is not KEY=VALUE")
        out.append((key.strip(), value.strip()))
    return out


def _convert(key: str, raw: Any, kind: str) -> Value:
    """A Python or text value as the symbol's type ("bool" or "int")."""
    if kind == "bool":
        if raw is True or raw in ("y", "Y"):
            return "y"
        if raw is False or raw is None or raw in ("n", "N"):
            return "n"
        raise ConfigError(f"{key} is a bool symbol: give y or n, not {raw!r}")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        v = _parse_value(raw)
        if isinstance(v, int):
            return v
    raise ConfigError(f"{key} is a number: give an int, not {raw!r}")


def _resolve_key(key: str) -> tuple[str, str]:
    """("symbol", "CONFIG_X") | ("field", "NR_PAGEFLAGS") | ("kasan", "KASAN")."""
    if not isinstance(key, str):
        raise TypeError(f"config keys must be str, not {type(key).__name__}")
    k = key.strip().upper()
    if k.startswith("CONFIG_"):
        if k in SYMBOLS:
            return "symbol", k
    elif k == "KASAN":
        return "kasan", k
    elif k in FIELD_KEYS:
        return "field", k
    elif "CONFIG_" + k in SYMBOLS:
        return "symbol", "CONFIG_" + k
    raise UnknownChoice("config key", key, valid_keys())


def apply_overrides(table: Mapping[str, Value], pairs: Iterable[tuple[str, Any]]
                    ) -> tuple[dict[str, Value], dict[str, int]]:
    """The base's symbols with the overrides applied (and what Kconfig's
    dependencies make of them), and the field overrides."""
    given: dict[str, Value] = {}
    fields: dict[str, int] = {}
    for key, raw in pairs:
        what, name = _resolve_key(key)
        if what == "field":
            if isinstance(raw, bool):
                raise ConfigError(f"{name} is a number: give an int, not {raw!r}")
            fields[name] = int(_convert(name, raw, "int"))
        elif what == "kasan":
            mode = "none" if raw is None or raw in ("n", "none") else raw
            if not isinstance(mode, str) or mode not in KASAN_MODES:
                raise UnknownChoice("KASAN mode", raw, KASAN_MODES)
            sym = KASAN_MODES[mode]
            given["CONFIG_KASAN"] = "n" if sym is None else "y"
            for s in _KASAN_CHOICE:
                given[s] = "y" if s == sym else "n"
        else:
            given[name] = _convert(name, raw, SYMBOLS[name])
    t = dict(table)
    t.update(given)

    def on(s: str) -> bool:
        return t.get(s) == "y"

    def conflict(need: str, sym: str) -> ConfigError:
        return ConfigError(f"{sym}={given[sym]} depends on {need}=y (Kconfig), and "
                           f"{need} is n here")
    # KASAN: a choice of three modes under CONFIG_KASAN
    modes = [s for s in _KASAN_CHOICE if given.get(s) == "y"]
    if len(modes) > 1:
        raise ConfigError(f"{' and '.join(modes)} are one Kconfig choice: give one")
    if modes:
        if given.get("CONFIG_KASAN") == "n":
            raise conflict("CONFIG_KASAN", modes[0])
        t["CONFIG_KASAN"] = "y"
        for s in _KASAN_CHOICE:
            t[s] = "y" if s == modes[0] else "n"
    elif given.get("CONFIG_KASAN") == "y" and not any(on(s) for s in _KASAN_CHOICE):
        t["CONFIG_KASAN_GENERIC"] = "y"          # the choice's default
    elif given.get("CONFIG_KASAN") == "n":
        for s in _KASAN_CHOICE:
            t[s] = "n"
    # the rules below only follow what the overrides change: a base's own
    # symbols (a .config's) are taken as they are
    # NUMA: NODES_SHIFT (range 1..10) and NUMA_BALANCING depend on it
    shift = given.get("CONFIG_NODES_SHIFT")
    if "CONFIG_NUMA" not in given and shift is not None:
        t["CONFIG_NUMA"] = "y" if shift else "n"
    if {"CONFIG_NUMA", "CONFIG_NODES_SHIFT", "CONFIG_NUMA_BALANCING"} & given.keys():
        if not on("CONFIG_NUMA"):
            if shift:
                raise conflict("CONFIG_NUMA", "CONFIG_NODES_SHIFT")
            if given.get("CONFIG_NUMA_BALANCING") == "y":
                raise conflict("CONFIG_NUMA", "CONFIG_NUMA_BALANCING")
            t.pop("CONFIG_NODES_SHIFT", None)
            t["CONFIG_NUMA_BALANCING"] = "n"
        elif shift == 0:
            raise ConfigError("CONFIG_NODES_SHIFT=0 with CONFIG_NUMA=y: Kconfig's range is 1..10")
    # SPARSEMEM_VMEMMAP depends on SPARSEMEM
    if {"CONFIG_SPARSEMEM", "CONFIG_SPARSEMEM_VMEMMAP"} & given.keys() \
            and not on("CONFIG_SPARSEMEM"):
        if given.get("CONFIG_SPARSEMEM_VMEMMAP") == "y":
            raise conflict("CONFIG_SPARSEMEM", "CONFIG_SPARSEMEM_VMEMMAP")
        t["CONFIG_SPARSEMEM_VMEMMAP"] = "n"
    # NR_CPUS is 1 without SMP
    if {"CONFIG_SMP", "CONFIG_NR_CPUS"} & given.keys() and not on("CONFIG_SMP"):
        cpus = given.get("CONFIG_NR_CPUS")
        if cpus is not None and cpus != 1:
            raise conflict("CONFIG_SMP", "CONFIG_NR_CPUS")
        t["CONFIG_NR_CPUS"] = 1
    return t, fields


# ---- the derivation ----------------------------------------------------------------

#: x86 asm/sparsemem.h: (MAX_PHYSMEM_BITS, SECTION_SIZE_BITS)
X86_SPARSEMEM = {"x86_64 5-level": (52, 27), "x86_64 4-level": (46, 27),
                 "i386 PAE": (36, 29), "i386": (32, 26)}

#: architecture symbols, to name a .config's architecture in an error
_ARCHES = ("ARM64", "ARM", "RISCV", "PPC64", "PPC", "S390", "LOONGARCH", "MIPS", "SPARC",
           "PARISC", "ALPHA", "M68K", "SUPERH", "XTENSA", "OPENRISC", "CSKY", "HEXAGON",
           "MICROBLAZE", "NIOS2", "ARC", "UML")


def _sparsemem(t: Mapping[str, Value], source: str) -> tuple[int, int]:
    def on(s: str) -> bool:
        return t.get(s) == "y"
    if on("CONFIG_X86_64"):
        if not on("CONFIG_64BIT"):
            raise ConfigError(f"{source}: CONFIG_X86_64=y needs CONFIG_64BIT=y")
        levels = t.get("CONFIG_PGTABLE_LEVELS")
        if levels == 5 or (levels is None and on("CONFIG_X86_5LEVEL")):
            return X86_SPARSEMEM["x86_64 5-level"]
        if levels == 4:
            return X86_SPARSEMEM["x86_64 4-level"]
        raise ConfigError(f"{source}: x86_64's MAX_PHYSMEM_BITS depends on the page-table "
                          f"levels, and CONFIG_PGTABLE_LEVELS is {levels or 'missing'} "
                          "(4 or 5 expected)")
    if on("CONFIG_X86_32"):
        if on("CONFIG_64BIT"):
            raise ConfigError(f"{source}: CONFIG_X86_32=y with CONFIG_64BIT=y")
        return X86_SPARSEMEM["i386 PAE" if on("CONFIG_X86_PAE") else "i386"]
    arch = next((a for a in _ARCHES if on("CONFIG_" + a)), None)
    raise ConfigError(
        f"{source}: cannot derive MAX_PHYSMEM_BITS and SECTION_SIZE_BITS "
        f"(the architecture's asm/sparsemem.h): the model knows x86 only "
        f"(CONFIG_X86_64 or CONFIG_X86_32) and this is "
        f"{'CONFIG_' + arch if arch else 'neither'}; give them as overrides "
        "(MAX_PHYSMEM_BITS=N,SECTION_SIZE_BITS=N)")


def derive(symbols: Mapping[str, Value], name: str = "custom", source: str | None = None,
           fields: Mapping[str, int] | None = None) -> FlagsConfig:
    """The FlagsConfig of a configuration's symbols, as the kernel derives it
    (see the module docstring); *fields* override derived fields."""
    from .flagslayout import FlagsConfig
    src = source or name
    fields = dict(fields or {})

    def on(s: str) -> bool:
        return symbols.get(s) == "y"

    def number(s: str) -> int:
        v = symbols.get(s)
        if not isinstance(v, int):
            raise ConfigError(f"{src}: {s} is {v if v is not None else 'missing'}, "
                              "a number expected")
        return v

    bits = 64 if on("CONFIG_64BIT") else 32
    nr_flags = PAGEFLAGS_UNCONDITIONAL + sum(
        n for cond, n in PAGEFLAGS_CONDITIONAL if all(on(s) for s in cond))
    zones = 2 + sum(on(s) for s in ZONES_CONDITIONAL)
    if on("CONFIG_NUMA"):
        if "CONFIG_NODES_SHIFT" not in symbols:
            raise ConfigError(f"{src}: CONFIG_NUMA=y without CONFIG_NODES_SHIFT "
                              "(give NODES_SHIFT=N)")
        nodes = number("CONFIG_NODES_SHIFT")
    else:
        nodes = 0
        if symbols.get("CONFIG_NODES_SHIFT", 0) != 0:
            raise ConfigError(f"{src}: CONFIG_NODES_SHIFT={symbols['CONFIG_NODES_SHIFT']} "
                              "without CONFIG_NUMA (Kconfig: it depends on NUMA)")
    smp = on("CONFIG_SMP")
    if smp:
        cpus = number("CONFIG_NR_CPUS")
    else:
        cpus = number("CONFIG_NR_CPUS") if "CONFIG_NR_CPUS" in symbols else 1
    kasan: str | None = None
    if on("CONFIG_KASAN"):
        modes = [m for m, s in KASAN_MODES.items() if s is not None and on(s)]
        if len(modes) != 1:
            raise ConfigError(f"{src}: CONFIG_KASAN=y needs exactly one of "
                              f"{', '.join(_KASAN_CHOICE)}")
        kasan = modes[0]
    sparsemem = on("CONFIG_SPARSEMEM")
    if not sparsemem:
        physmem, section = 0, 0
    elif "MAX_PHYSMEM_BITS" in fields and "SECTION_SIZE_BITS" in fields:
        physmem, section = fields["MAX_PHYSMEM_BITS"], fields["SECTION_SIZE_BITS"]
    else:
        physmem, section = _sparsemem(symbols, src)
    cfg = FlagsConfig(
        name=name, BITS_PER_LONG=bits, NR_PAGEFLAGS=nr_flags, MAX_NR_ZONES=zones,
        NODES_SHIFT=nodes, SPARSEMEM=sparsemem,
        SPARSEMEM_VMEMMAP=sparsemem and on("CONFIG_SPARSEMEM_VMEMMAP"),
        MAX_PHYSMEM_BITS=physmem, SECTION_SIZE_BITS=section,
        NUMA_BALANCING=on("CONFIG_NUMA_BALANCING"), NR_CPUS=cpus, SMP=smp, KASAN=kasan,
        LRU_GEN=on("CONFIG_LRU_GEN"))
    if fields:
        from dataclasses import replace
        changes: dict[str, Any] = dict(fields)
        cfg = replace(cfg, **changes)
    return cfg


# ---- one entry point for every form -----------------------------------------------

class _Resolved:
    """A configuration in any form, as symbols: where it came from and what it says."""

    def __init__(self, base: str, symbols: dict[str, Value], fields: dict[str, int],
                 overrides: list[str], from_file: bool):
        self.base = base            # canonical name or file path
        self.symbols = symbols
        self.fields = fields
        self.overrides = overrides  # the KEY=VALUE items, as given
        self.from_file = from_file

    @property
    def name(self) -> str:
        return self.base + ("+" + ",".join(self.overrides) if self.overrides else "")


def _canonical_symbols(name: str) -> dict[str, Value]:
    bits = {v: k for k, v in CANONICAL.items()}[name]
    return model_symbols(bits)


def _base(base: str | os.PathLike[str]) -> tuple[str, dict[str, Value], bool]:
    if not isinstance(base, str):
        path = os.fspath(base)
        return path, read_config(path), True
    if base in CANONICAL.values():
        return base, _canonical_symbols(base), False
    if _is_path(base):
        return base, read_config(base), True
    raise UnknownChoice("config", base, CANONICAL.values())


def resolve(config: Any, default_base: str = "x86_64",
            overrides: Mapping[str, Any] | None = None) -> _Resolved:
    """Any accepted form (except a FlagsConfig) as symbols and field overrides."""
    base: str | os.PathLike[str] = default_base
    pairs: list[tuple[str, Any]] = []
    if isinstance(config, os.PathLike):
        base = config
    elif isinstance(config, str):
        if "=" in config:
            b, items = split_spec(config)
            base = default_base if b is None else b
            pairs = _key_value_pairs(items)
        else:
            base = config
    elif isinstance(config, Mapping):
        d = dict(config)
        b = d.pop("base", default_base)
        if not isinstance(b, (str, os.PathLike)):
            raise TypeError(f"config 'base' must be a name or a path, not {type(b).__name__}")
        base = b
        pairs = list(d.items())
    elif isinstance(config, (list, tuple)):
        pairs = _key_value_pairs(config)
    else:
        raise TypeError("config must be a name, 'KEY=VALUE,...', a .config path, a list of "
                        f"KEY=VALUE strings or a dict, not {type(config).__name__}")
    if overrides:
        pairs += list(overrides.items())
    name, table, from_file = _base(base)
    symbols, fields = apply_overrides(table, pairs)
    shown = [f"{k}={_show(v)}" for k, v in pairs]
    return _Resolved(name, symbols, fields, shown, from_file)


def _show(v: Any) -> str:
    if v is True:
        return "y"
    if v is False or v is None:
        return "n"
    return str(v)


def flags_config(config: Any = "x86_64", default_base: str = "x86_64",
                 **overrides: Any) -> FlagsConfig:
    """The FlagsConfig of any accepted form; *default_base* is the
    configuration ``KEY=VALUE`` overrides change when they name none."""
    from .flagslayout import CONFIGS, FlagsConfig
    if isinstance(config, FlagsConfig):
        return config.replace(**overrides) if overrides else config
    if isinstance(config, str) and config in CONFIGS and not overrides:
        return CONFIGS[config]
    r = resolve(config, default_base, overrides)
    if not r.from_file and not r.overrides:
        return CONFIGS[r.base]
    return derive(r.symbols, name=r.name, source=r.base, fields=r.fields)


# ---- machines ----------------------------------------------------------------------

def machine_config(config: Any, canonical: str, bits: int, design: str) -> str:
    """Check a Machine's *config* against the configuration its variant is
    compiled with; return that configuration's name.

    *config* is None (the variant's own), a name (which must be *canonical*),
    ``KEY=VALUE`` overrides of *canonical*, a .config path, a dict or a list
    of overrides, or a FlagsConfig.  Every symbol of :func:`model_symbols`
    must have the compiled value; symbols the model does not depend on are
    ignored.  Raises :class:`ConfigError` listing every symbol it cannot
    honour, ``UnknownChoice`` for another name, ``TypeError`` for another
    type.  Reads the file, if any; changes nothing.
    """
    from .flagslayout import CONFIGS, FlagsConfig
    what = f"{bits}-bit {design} variant"
    if config is None:
        return canonical
    if isinstance(config, str) and "=" not in config and not _is_path(config):
        if config != canonical:
            raise UnknownChoice(f"config for the {what}", config, (canonical,))
        return canonical
    compiled = model_symbols(bits)
    if isinstance(config, FlagsConfig):
        want, have = config.to_dict(), CONFIGS[canonical].to_dict()
        diffs = [f"{k}={want[k]} (model: {have[k]})" for k in have
                 if k != "name" and want[k] != have[k]]
        source = f"FlagsConfig {config.name!r}"
        unhonoured: dict[str, tuple[object, object]] = {
            k: (want[k], have[k]) for k in have if k != "name" and want[k] != have[k]}
    else:
        r = resolve(config, canonical)
        if not r.from_file and r.base != canonical:
            raise UnknownChoice(f"config for the {what}", r.base, (canonical,))
        source = r.name
        unhonoured = {}
        for sym, value in compiled.items():
            # a symbol the configuration has no line for is n (an int: unset)
            wanted = r.symbols.get(sym, ABSENT.get(sym, "n" if SYMBOLS[sym] == "bool"
                                                   else "unset"))
            if wanted != value:
                unhonoured[sym] = (wanted, value)
        if r.fields:
            derived = CONFIGS[canonical].to_dict()
            for k, v in r.fields.items():
                if derived[k] != v:
                    unhonoured[k] = (v, derived[k])
        diffs = [f"{k}={w} (model: {h})" for k, (w, h) in unhonoured.items()]
        if not diffs and r.from_file:
            # every input of the derivation is a model symbol, so this holds;
            # checked all the same, as the flags word is compiled in
            got = derive(r.symbols, name=canonical, source=r.base, fields=r.fields)
            if got != CONFIGS[canonical]:
                raise ConfigError(f"{source} derives a flags word the {what} does not have: "
                                  f"{got} (model: {CONFIGS[canonical]})")
    if diffs:
        raise ConfigError(
            f"the {what} is compiled for {canonical} (include/memcore/config.h) and cannot "
            f"honour {len(diffs)} setting(s) of {source}: " + "; ".join(diffs),
            unhonoured=unhonoured)
    return canonical
