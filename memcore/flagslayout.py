"""The page-flags word layout calculator.

Computes what include/linux/page-flags-layout.h and include/linux/mmzone.h
compute with the preprocessor: for a configuration, the width and shift of
every field packed into the top of ``page->flags``, whether the NUMA
balancing ``last_cpupid`` fits (else ``LAST_CPUPID_NOT_IN_PAGE_FLAGS`` adds
``int _last_cpupid`` to struct page), the kernel's ``#error`` when nothing
fits, and how many bits stay free between the flags and the fields (room
for the compound order of the ``flags_memdesc`` design).

The same arithmetic is compiled into every variant module from
include/memcore/page_flags_layout.h; tests check that the two agree.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import MemcoreError, UnknownChoice

#: fields of the flags word, top bit down, with their kernel names
FIELD_ORDER = ("SECTIONS", "NODES", "ZONES", "LAST_CPUPID", "KASAN_TAG", "LRU_GEN", "LRU_REFS")

#: names %pGp prints for the fields, in its order (lib/vsprintf.c), and whether
#: it prints the value in hex
FIELD_PRINT_NAMES = {"SECTIONS": ("section", False), "NODES": ("node", False),
                     "ZONES": ("zone", False), "LAST_CPUPID": ("lastcpupid", True),
                     "KASAN_TAG": ("kasantag", True)}


#: KASAN_TAG_WIDTH by KASAN mode (include/linux/page-flags-layout.h): software
#: tags take a byte, hardware (MTE) tags 4 bits, generic KASAN none
KASAN_TAG_WIDTHS: dict[str | None, int] = {None: 0, "generic": 0, "sw_tags": 8, "hw_tags": 4}


class FlagsLayoutError(MemcoreError, ValueError):
    """The configuration does not fit, exactly where the kernel's #error fires."""


def _order_base_2(n: int) -> int:
    """ceil(log2(n)), 0 for n <= 1 (include/linux/log2.h)."""
    return 0 if n <= 1 else (n - 1).bit_length()


@dataclass(frozen=True)
class FlagsConfig:
    """The configuration symbols the flags-word layout depends on."""

    name: str = "custom"
    BITS_PER_LONG: int = 64
    NR_PAGEFLAGS: int = 24           #: length of enum pageflags (bounds.c)
    MAX_NR_ZONES: int = 5            #: length of enum zone_type
    NODES_SHIFT: int = 10            #: CONFIG_NODES_SHIFT; 0 without NUMA
    SPARSEMEM: bool = True
    SPARSEMEM_VMEMMAP: bool = True
    MAX_PHYSMEM_BITS: int = 52
    SECTION_SIZE_BITS: int = 27
    NUMA_BALANCING: bool = True
    NR_CPUS: int = 256
    SMP: bool = True
    #: the KASAN mode: None (no KASAN), "generic", "sw_tags" (CONFIG_KASAN_SW_TAGS:
    #: an 8-bit tag in the flags word) or "hw_tags" (CONFIG_KASAN_HW_TAGS: 4 bits)
    KASAN: str | None = None
    LRU_GEN: bool = False

    @classmethod
    def named(cls, name: str) -> "FlagsConfig":
        try:
            return CONFIGS[name]
        except KeyError:
            raise UnknownChoice("config", name, CONFIGS) from None

    def replace(self, **changes: Any) -> "FlagsConfig":
        valid = [f.name for f in fields(self)]
        for key in changes:
            if key not in valid:
                raise UnknownChoice("config symbol", key, valid[1:])
        if "name" not in changes:
            changes["name"] = self.name + "+" + ",".join(f"{k}={v}" for k, v in changes.items())
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The two canonical configurations (see include/memcore/config.h).
CONFIGS = {
    # this project's reference machine: Linux 6.18 x86_64
    # (tests/data/linux-6.18-x86_64-config-mm.txt, enum pageflags from its BTF)
    "x86_64": FlagsConfig(
        name="x86_64", BITS_PER_LONG=64, NR_PAGEFLAGS=24, MAX_NR_ZONES=5, NODES_SHIFT=10,
        SPARSEMEM=True, SPARSEMEM_VMEMMAP=True, MAX_PHYSMEM_BITS=52, SECTION_SIZE_BITS=27,
        NUMA_BALANCING=True, NR_CPUS=256, KASAN=None, LRU_GEN=False),
    # i386 PAE HIGHMEM: MEMCG, no NUMA, classic SPARSEMEM, zones DMA NORMAL HIGHMEM MOVABLE;
    # 20 base flags + mlocked + arch_2 (X86_PAT) = 22
    "i386": FlagsConfig(
        name="i386", BITS_PER_LONG=32, NR_PAGEFLAGS=22, MAX_NR_ZONES=4, NODES_SHIFT=0,
        SPARSEMEM=True, SPARSEMEM_VMEMMAP=False, MAX_PHYSMEM_BITS=36, SECTION_SIZE_BITS=29,
        NUMA_BALANCING=False, NR_CPUS=8, KASAN=None, LRU_GEN=False),
}


@dataclass(frozen=True)
class FlagsLayout:
    """The result: where each field of the flags word lives."""

    config: FlagsConfig
    fields: dict[str, tuple[int, int]]  #: name -> (width, shift); absent fields are (0, 0)
    free_bits: int          #: bits between the last flag and the lowest field
    #: the kernel's NR_UNUSED_PAGEFLAG_BITS (page-flags-layout.h): it subtracts
    #: LAST_CPUPID_SHIFT even when last_cpupid lives in struct page, so it is
    #: free_bits minus that shift then (and may be negative)
    unused_pageflag_bits: int
    last_cpupid_in_flags: bool  #: False means LAST_CPUPID_NOT_IN_PAGE_FLAGS
    last_cpupid_shift: int  #: LAST_CPUPID_SHIFT (bits wanted, in flags or not)
    node_in_flags: bool     #: False means NODE_NOT_IN_PAGE_FLAGS (node from section)
    section_in_flags: bool  #: SECTION_IN_PAGE_FLAGS

    @property
    def bits(self) -> int:
        return self.config.BITS_PER_LONG

    @property
    def nr_pageflags(self) -> int:
        return self.config.NR_PAGEFLAGS

    def width(self, name: str) -> int:
        return self._field(name)[0]

    def shift(self, name: str) -> int:
        return self._field(name)[1]

    def mask(self, name: str) -> int:
        """The in-place mask of a field (0 if absent)."""
        w, s = self._field(name)
        return ((1 << w) - 1) << s

    def _field(self, name: str) -> tuple[int, int]:
        try:
            return self.fields[name]
        except KeyError:
            raise UnknownChoice("flags field", name, self.fields) from None

    def fits_compound_order(self, order_bits: int) -> bool:
        """Would an order field of this many bits fit in the free bits?"""
        return self.free_bits >= order_bits

    def field_value(self, word: int, name: str) -> int:
        w, s = self._field(name)
        return (word >> s) & ((1 << w) - 1) if w else 0

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(),
                "fields": {k: {"width": w, "shift": s} for k, (w, s) in self.fields.items()},
                "free_bits": self.free_bits,
                "unused_pageflag_bits": self.unused_pageflag_bits,
                "last_cpupid_in_flags": self.last_cpupid_in_flags,
                "last_cpupid_shift": self.last_cpupid_shift,
                "node_in_flags": self.node_in_flags,
                "section_in_flags": self.section_in_flags}

    def regions(self) -> list[tuple[str, int, int]]:
        """(name, high bit, low bit) of every region of the word, top bit down."""
        out = []
        for name in FIELD_ORDER:
            w, s = self.fields[name]
            if w:
                out.append((name, s + w - 1, s))
        lowest = min((s for (w, s) in self.fields.values() if w), default=self.bits)
        if self.free_bits:
            out.append(("free", lowest - 1, self.nr_pageflags))
        out.append(("PAGEFLAGS", self.nr_pageflags - 1, 0))
        return out

    def diagram(self) -> str:
        """The flags word drawn top bit down, as page-flags-layout.h draws it."""
        cfg = self.config
        lines = [f"page->flags on {cfg.name} ({self.bits}-bit): "
                 f"{self.nr_pageflags} page flags, {self.free_bits} free bits"]
        cells = []
        for name, hi, lo in self.regions():
            w = hi - lo + 1
            label = {"PAGEFLAGS": "FLAGS", "free": "..."}.get(name, name)
            cells.append((label, hi, lo, w))
        top = "|" + "|".join(f" {c[0]}:{c[3]} " for c in cells) + "|"
        bit = " " + " ".join(f"{c[1]:>2}..{c[2]:<2}".center(len(c[0]) + len(str(c[3])) + 3)
                             for c in cells)
        lines += [top, bit, ""]
        lines.append(f"{'field':<12} {'width':>5} {'shift':>5}  {'mask':<20}")
        for name in FIELD_ORDER:
            w, s = self.fields[name]
            mask = f"{self.mask(name):#0{self.bits // 4 + 2}x}" if w else "-"
            lines.append(f"{name:<12} {w:>5} {s:>5}  {mask}")
        lines.append(f"{'PAGEFLAGS':<12} {self.nr_pageflags:>5} {0:>5}  "
                     f"{(1 << self.nr_pageflags) - 1:#0{self.bits // 4 + 2}x}")
        lines.append("")
        lines.append(f"free bits (room for a compound order field): {self.free_bits}")
        lines.append(f"NR_UNUSED_PAGEFLAG_BITS (the kernel's figure): "
                     f"{self.unused_pageflag_bits}")
        if self.last_cpupid_shift == 0:
            lines.append("last_cpupid: not configured (no NUMA_BALANCING)")
        elif self.last_cpupid_in_flags:
            lines.append(f"last_cpupid: {self.last_cpupid_shift} bits, in the flags word")
        else:
            lines.append(f"last_cpupid: {self.last_cpupid_shift} bits do not fit: "
                         "LAST_CPUPID_NOT_IN_PAGE_FLAGS adds int _last_cpupid to struct page")
        if not self.node_in_flags:
            lines.append("node: NODE_NOT_IN_PAGE_FLAGS (found through the section)")
        return "\n".join(lines) + "\n"


def compute(cfg: FlagsConfig) -> FlagsLayout:
    """The kernel's preprocessor arithmetic, step by step."""
    bpl, nrf = cfg.BITS_PER_LONG, cfg.NR_PAGEFLAGS
    if bpl not in (32, 64):
        raise FlagsLayoutError(f"BITS_PER_LONG must be 32 or 64, not {bpl}")
    if not 0 < nrf <= bpl:
        raise FlagsLayoutError(f"NR_PAGEFLAGS {nrf} does not fit a {bpl}-bit word")
    room = bpl - nrf

    z = cfg.MAX_NR_ZONES
    if z < 2:
        zones = 0
    elif z <= 2:
        zones = 1
    elif z <= 4:
        zones = 2
    elif z <= 8:
        zones = 3
    else:
        raise FlagsLayoutError('ZONES_SHIFT "Too many zones configured"')

    sections_shift = cfg.MAX_PHYSMEM_BITS - cfg.SECTION_SIZE_BITS if cfg.SPARSEMEM else 0
    sections = sections_shift if (cfg.SPARSEMEM and not cfg.SPARSEMEM_VMEMMAP) else 0

    if cfg.LRU_GEN and bpl == 32 and cfg.SPARSEMEM and not cfg.SPARSEMEM_VMEMMAP:
        raise FlagsLayoutError("LRU_GEN depends on 64BIT || !SPARSEMEM || SPARSEMEM_VMEMMAP")
    lru_gen = 3 if cfg.LRU_GEN else 0          # order_base_2(MAX_NR_GENS + 1)
    lru_refs_want = 2 if cfg.LRU_GEN else 0    # MAX_NR_TIERS - 2

    if zones + lru_gen + sections + cfg.NODES_SHIFT <= room:
        nodes = cfg.NODES_SHIFT
    elif cfg.SPARSEMEM_VMEMMAP:
        raise FlagsLayoutError("Vmemmap: No space for nodes field in page flags")
    else:
        nodes = 0

    try:
        kasan = KASAN_TAG_WIDTHS[cfg.KASAN]
    except (KeyError, TypeError):
        raise UnknownChoice("KASAN mode", cfg.KASAN, KASAN_TAG_WIDTHS) from None
    cpus_bits = _order_base_2(cfg.NR_CPUS) if cfg.SMP else 0
    lcp_shift = 8 + cpus_bits if cfg.NUMA_BALANCING else 0
    lcp = lcp_shift if zones + lru_gen + sections + nodes + kasan + lcp_shift <= room else 0

    if zones + lru_gen + sections + nodes + kasan + lcp > room:
        raise FlagsLayoutError(
            "Not enough bits in page flags: "
            f"zones {zones} + lru_gen {lru_gen} + sections {sections} + nodes {nodes} + "
            f"kasan_tag {kasan} + last_cpupid {lcp} > {bpl} - {nrf} page flags")

    lru_refs = min(lru_refs_want, room - zones - lru_gen - sections - nodes - kasan - lcp)

    widths = {"SECTIONS": sections, "NODES": nodes, "ZONES": zones, "LAST_CPUPID": lcp,
              "KASAN_TAG": kasan, "LRU_GEN": lru_gen, "LRU_REFS": lru_refs}
    out, off = {}, bpl
    for name in FIELD_ORDER:
        off -= widths[name]
        out[name] = (widths[name], off if widths[name] else 0)
    return FlagsLayout(
        config=cfg, fields=out, free_bits=off - nrf,
        # NR_NON_PAGEFLAG_BITS counts LAST_CPUPID_SHIFT, not LAST_CPUPID_WIDTH
        unused_pageflag_bits=off - nrf - (lcp_shift - lcp),
        last_cpupid_in_flags=not (lcp_shift != 0 and lcp == 0),
        last_cpupid_shift=lcp_shift,
        node_in_flags=not (cfg.NODES_SHIFT != 0 and nodes == 0),
        section_in_flags=sections != 0)


def flags_layout(config: Any = "x86_64", **overrides: Any) -> FlagsLayout:
    """The flags-word layout of a configuration.

    *config* is any form memcore takes a kernel configuration in
    (memcore/kconfig.py):

    * a canonical name, ``"x86_64"`` or ``"i386"``;
    * ``KEY=VALUE`` overrides of a canonical configuration, as a string
      (``"NUMA=n,NR_CPUS=64"``), a list of such strings or a dict
      (``{"NR_CPUS": 64}``): keys are Kconfig symbols with or without the
      ``CONFIG_`` prefix (``CONFIG_KASAN_SW_TAGS=y``), ``KASAN`` with a mode
      (``none``, ``generic``, ``sw_tags``, ``hw_tags``) or a field no symbol
      sets (``NR_PAGEFLAGS``, ``MAX_NR_ZONES``, ``BITS_PER_LONG``,
      ``MAX_PHYSMEM_BITS``, ``SECTION_SIZE_BITS``).  They change ``x86_64``
      unless a leading item names the base (``"i386,NR_CPUS=64"``, a .config
      path, or a dict's ``"base"`` key);
    * a kernel ``.config`` path, plain or gzip (``"/proc/config.gz"``, or any
      ``os.PathLike``), from which every field is derived as the 6.18 headers
      derive it (``enum pageflags``, ``enum zone_type``, asm/sparsemem.h);
    * a :class:`FlagsConfig`, used as it is.

    Keyword arguments are more overrides (``flags_layout("i386", NR_CPUS=4)``;
    Python ``True``/``False``/``None`` stand for ``y``/``n``).  An unknown key
    is an ``UnknownChoice`` listing the valid ones; a configuration that cannot
    be read or derived, a ``ConfigError``; one that does not fit in the word,
    the kernel's ``#error`` as a :class:`FlagsLayoutError`.
    """
    from .kconfig import flags_config
    return compute(flags_config(config, **overrides))
