"""Machine(ram=[ranges]): RAM with holes, as a real machine has (mm/mm_init.c).

The layout of the reference machine's first 4 GiB (tests/data/zoneinfo and the
committed snapshot's iomem) gives the kernel's own figures to compare with:
DMA starts at PFN 1 and spans 4095 pages of which 3998 are present.
"""
from __future__ import annotations

import pytest

import memcore

from conftest import only_bits

MiB, GiB = 1 << 20, 1 << 30
PAGE = 4096
PPS = 1 << 15                       # PAGES_PER_SECTION (x86: 128 MiB sections)
PPS32 = 1 << 17                     # i386 PAE: 512 MiB sections

# a small machine shaped like a PC: a hole at PFN 0, the legacy VGA/BIOS hole
# below 1 MiB, a hole at 48-64 MiB inside the first memory section
SMALL = [(0x1000, 0x9fc00), (0x100000, 48 * MiB), (64 * MiB, 96 * MiB)]


def ram_pfns(ranges):
    out = set()
    for s, e in ranges:
        out.update(range((s + PAGE - 1) // PAGE, e // PAGE))
    return out


def test_a_size_is_one_range_from_zero(machine):
    m = machine("64MiB")
    assert m.ram_ranges == ((0, 64 * MiB),)
    assert m.walk()["hole"] == 0
    for z in m.zones():
        assert z["present"] == z["spanned"]


def test_holes_are_accounted_and_never_free(machine):
    m = machine(SMALL, cpus=2)
    assert m.ram_ranges == ((0x1000, 0x9f000), (0x100000, 48 * MiB), (64 * MiB, 96 * MiB))
    assert m.ram == (0x9f000 - 0x1000) + (48 * MiB - 0x100000) + 32 * MiB
    assert m.nr_pfns == 96 * MiB // PAGE
    ram = ram_pfns(SMALL)
    walk = m.walk()
    assert walk["hole"] == m.nr_pfns - len(ram)
    assert sum(walk.values()) == m.nr_pfns
    assert m.check()
    # take every page there is: none of them is in a hole
    pfns = []
    for order in (10, 0):
        while True:
            try:
                pfns.extend(m.bulk_alloc(256, order=order).tolist())
            except memcore.OutOfMemory:
                break
        while True:
            try:
                pfns.append(m.alloc_folio(order=order).pfn)
            except memcore.OutOfMemory:
                break
    assert len(pfns) > 1000
    assert not set(pfns) - ram
    m.check()


def test_hole_struct_pages_are_reserved_with_the_next_ranges_zone(machine, variant):
    """init_unavailable_range(): PG_reserved, zone and node of the RAM that
    follows the hole (or of the last RAM, past its end)."""
    m = machine(SMALL)
    for pfn in (0, 0x9f, 0xff, 48 * MiB // PAGE, 64 * MiB // PAGE - 1):
        page = m.page(pfn)
        assert page.flags.test("reserved"), hex(pfn)
        assert page.refcount == 1
    assert m.page(0).zone == "DMA"                # the hole before DMA's first PFN
    assert m.page(48 * MiB // PAGE).zone == m.page(64 * MiB // PAGE).zone


@only_bits(64)
def test_a_hole_across_a_zone_boundary_takes_the_zone_after_it(machine):
    """The PCI hole: RAM ends at 0xbffe0000 in DMA32 and starts again at 4 GiB in
    Normal.  memmap_init() initialises the hole's struct pages (up to the end of
    the last present section) with the zone it is about to fill: Normal."""
    m = machine([(0x100000, 0xbffe0000), (4 * GiB, 5 * GiB)])
    assert m.page(0xbffdf).zone == "DMA32"
    assert m.page(0xbffe0).zone == "Normal"
    assert m.page(0xbffe0).flags.test("reserved")
    # the sections of 3-4 GiB have no RAM: no struct page at all
    with pytest.raises(memcore.PFNOutOfRange, match="no struct page"):
        m.page(0xc0000)
    with pytest.raises(memcore.InvalidAddress):
        m.page_to_pfn(m.memmap_address + 0xc0000 * m.sizeof_page)
    with pytest.raises(memcore.InvalidAddress, match="hole"):
        m.read(m.page_offset + 0xbffe0000, 8)
    with pytest.raises(memcore.InvalidAddress, match="hole"):
        m.write(m.page_offset + 0xc0000000, b"x")
    assert m.walk()["hole"] == 0x100 + (0x100000 - 0xbffe0)     # below 1 MiB, and the PCI hole
    assert m.check()


@only_bits(64)
def test_zones_span_holes_as_proc_zoneinfo_shows(machine):
    """The reference machine's RAM below 4 GiB (iomem of the committed snapshot)
    gives its /proc/zoneinfo spans: DMA start_pfn 1, spanned 4095, present 3998,
    managed 3840 (the first MiB is reserved); DMA32 spanned 1044480, present
    782336."""
    m = machine([(0x1000, 0x9fc00), (0x100000, 0xc0000000), (0x100000000, 0x140000000)])
    z = {d["zone"]: d for d in m.zones()}
    assert (z["DMA"]["start_pfn"], z["DMA"]["spanned"], z["DMA"]["present"],
            z["DMA"]["managed"]) == (1, 4095, 3998, 3840)
    assert (z["DMA32"]["start_pfn"], z["DMA32"]["spanned"], z["DMA32"]["present"]) == \
        (4096, 1044480, 782336)
    assert (z["Normal"]["start_pfn"], z["Normal"]["spanned"]) == (0x100000, 0x40000)
    # free blocks of DMA: 0x100-0x1ff (order 8), 0x200-0x3ff (9), 0x400-0xfff (3 x 10).
    # PFN 0 is a hole, so memmap_init_range() never marks pageblock 0 MOVABLE: its
    # block sits on the Unmovable list.  The snapshot's /proc/pagetypeinfo for DMA:
    fa = m.free_area(0, "DMA")
    assert fa["Unmovable"] == [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    assert fa["Movable"] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3]
    assert m.check()


@only_bits(64)
def test_a_zone_can_span_only_holes(machine):
    m = machine([(0, 16 * MiB), (4 * GiB, 4 * GiB + 64 * MiB)])
    z = {d["zone"]: d for d in m.zones()}
    assert z["DMA32"]["spanned"] == (4 * GiB - 16 * MiB) // PAGE
    assert z["DMA32"]["present"] == z["DMA32"]["managed"] == z["DMA32"]["free"] == 0
    f = m.alloc_folio(zone="DMA32")             # falls back to DMA
    assert f.pfn < 16 * MiB // PAGE
    assert m.check()


@only_bits(64)
def test_nodes_share_the_ram_of_the_ranges(machine):
    m = machine(SMALL + [(0x140000000, 0x150000000)], nodes=2)
    nodes = {d["node"] for d in m.zones()}
    assert nodes == {0, 1}
    for d in m.zones():
        assert d["present"] <= d["spanned"]
    assert m.check()


@pytest.mark.page_member("flags")
def test_check_finds_a_hole_whose_struct_page_was_changed(machine):
    m = machine(SMALL)
    m.page(0x9f).flags.clear("reserved")
    with pytest.raises(memcore.VMBug, match="hole"):
        m.check()


@pytest.mark.parametrize("ram, exc, match", [
    ([], ValueError, "empty list"),
    ("", ValueError, "cannot parse"),
    ({(0, 1 << 30)}, TypeError, "set"),
    ([(0, 1 << 30, 5)], TypeError, "range 0 must be a .start, end. pair"),
    ([0, 1 << 30], TypeError, "range 0 must be"),
    ([(0, "1GiB")], TypeError, "not an int address"),
    ([(0, True)], TypeError, "bool"),
    ([(0, 1.5e9)], TypeError, "not an int address"),
    ([(-4096, 1 << 30)], ValueError, "starts below 0"),
    ([(1 << 30, 1 << 30)], ValueError, "range 0 .* is empty"),
    ([(1 << 30, 0)], ValueError, "is empty"),
    ([(0, 1 << 30), (1 << 29, 2 << 30)], ValueError, "range 1 .* overlaps range 0"),
    ([(1 << 30, 2 << 30), (0, 1 << 29)], ValueError, "range 1 .* is not sorted"),
    ([(0, 1 << 30), (0x40000800, 0x40000c00)], ValueError, "range 1 .* holds no whole page"),
    ([(0, 1 << 41)], ValueError, "ends above"),
    ([(0, 16 << 20)], ValueError, "too small"),
    ([(i << 21, (i << 21) + 4096) for i in range(129)], ValueError, "at most 128"),
])
def test_bad_ranges_are_refused_naming_the_problem(machine, ram, exc, match):
    with pytest.raises(exc, match=match):
        machine(ram)


def test_ranges_are_rounded_inward_and_touching_ranges_merged(machine):
    m = machine([(0x800, 0x1000800), (0x1000800, 0x2000000), (0x2000000, 0x3000001)])
    assert m.ram_ranges == ((0x1000, 0x3000000),)
    assert m.walk()["hole"] == 1                 # PFN 0 (rounded up past it)
    assert m.check()


@only_bits(32)
def test_i386_refuses_ranges_above_4gib(machine):
    with pytest.raises(ValueError, match="ends above"):
        machine([(0, 1 << 30), (4 * GiB, 5 * GiB)])


@only_bits(32)
def test_i386_highmem_behind_a_hole(machine):
    m = machine([(0x1000, 0x9fc00), (0x100000, 512 * MiB), (1536 * MiB, 2 * GiB)])
    z = {d["zone"]: d for d in m.zones()}
    assert z["HighMem"]["present"] == 512 * MiB // PAGE
    assert z["Normal"]["spanned"] > z["Normal"]["present"]
    # 512 MiB - 1.5 GiB: one whole section without RAM (i386 sections are 512 MiB)
    with pytest.raises(memcore.PFNOutOfRange):
        m.page(PPS32)
    f = m.alloc_folio(order=3, zone="HighMem")
    assert f.pfn >= 1536 * MiB // PAGE
    assert m.check()
