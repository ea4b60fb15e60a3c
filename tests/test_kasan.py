"""Machine(kasan=True): generic-KASAN-like checking of object accesses and
frees through the Python views, with KASAN's bug types, report layout and
shadow bytes (mm/kasan/report.c, report_generic.c, notes section 8).

Without KASAN the same accesses go through (kernel semantics), and only the
naive double free (BUG_ON(object == fp)) is caught."""
from __future__ import annotations

import re

import pytest

from memcore import MemcoreError
from memcore.errors import KASANReport

import kfacts as K
import slabkit as S


def hexw(m, v):
    """%px: the full-width hex of a pointer."""
    return f"{v:0{m.bits // 4}x}"


def round8(n):
    return (n + 7) & ~7


def shadow_rows(m, text):
    """The 'Memory state' rows of a report: [(is_guilty, row_addr, [16 bytes])], and the
    caret column (which granule of the guilty row)."""
    lines = text.splitlines()
    i = lines.index("Memory state around the buggy address:")
    w = m.bits // 4
    rows, caret = [], None
    for line in lines[i + 1:]:
        mt = re.fullmatch(r"([ >])([0-9a-f]{%d}): ((?:[0-9a-f]{2} ){15}[0-9a-f]{2})" % w, line)
        if mt:
            rows.append((mt.group(1) == ">", int(mt.group(2), 16),
                         [int(x, 16) for x in mt.group(3).split()]))
            continue
        if line.strip() == "^":
            # meta_pointer_offset(): 3 + 2 * sizeof(long) + 3 * granule, printed "%*c"
            col = (len(line) - 1 - (1 + w + 2))
            assert col % 3 == 0, line
            caret = col // 3
            continue
        break
    return rows, caret


def expected_shadow(c, slab, live, freed, g):
    """Shadow byte of granule g of a non-debug, non-ctor cache's slab, from what the
    test allocated (live: address -> requested size) and freed."""
    rel = g - slab.memory
    idx, off = divmod(rel, c.slab_size)
    obj = slab.memory + idx * c.slab_size
    if idx >= slab.objects:
        return S.KASAN_SLAB_REDZONE
    if obj in live:
        size = live[obj]
        if off + 8 <= size:
            return 0
        if off < size:
            return size - off
        return S.KASAN_SLAB_REDZONE
    if obj in freed and off < round8(c.object_size):
        return S.KASAN_SLAB_FREE
    return S.KASAN_SLAB_REDZONE


def check_rows(m, text, c, slab, live, freed, bad):
    rows, caret = shadow_rows(m, text)
    assert len(rows) == 5 and [r[0] for r in rows] == [False, False, True, False, False]
    starts = [r[1] for r in rows]
    assert starts[2] == bad & ~127 and starts == [starts[2] + 128 * i for i in range(-2, 3)]
    assert caret == (bad - starts[2]) // 8
    end = slab.memory + (K.PAGE_SIZE << slab.order)
    compared = 0
    for _, start, vals in rows:
        for j, v in enumerate(vals):
            g = start + 8 * j
            if slab.memory <= g < end:
                assert v == expected_shadow(c, slab, live, freed, g), hex(g)
                compared += 1
    assert compared >= 16


# ---- use-after-free -----------------------------------------------------------------------------

@pytest.mark.parametrize("write", [False, True])
def test_slab_use_after_free(machine, write):
    m = machine(kasan=True)
    A = m.task("A")
    c = m.kmem_cache_create("uaf", 100)
    objs = [c.alloc() for _ in range(4)]
    o = objs[1]
    o.write(0, b"x" * 100)
    o.free()
    before = S.snapshot(m, c)
    with A, pytest.raises(KASANReport) as ei:
        if write:
            m.write(o.address + 8, b"zz")
        else:
            o.read(40, 4)
    e = ei.value
    assert e.bug_type == "slab-use-after-free"
    addr = o.address + (8 if write else 40)
    lines = e.dump.splitlines()
    assert lines[0] == lines[-1] == "=" * 66
    assert re.fullmatch(r"BUG: KASAN: slab-use-after-free in \S+", lines[1])
    assert lines[2].startswith(f"{'Write' if write else 'Read'} of size {2 if write else 4} "
                               f"at addr {hexw(m, addr)} by task A/")
    text = e.dump
    assert (f"The buggy address belongs to the object at {hexw(m, o.address)}\n"
            f" which belongs to the cache uaf of size 100\n") in text
    assert (f"The buggy address is located {addr - o.address} bytes inside of\n"
            f" freed 100-byte region [{hexw(m, o.address)}, {hexw(m, o.address + 100)})\n") in text
    assert "The buggy address belongs to the physical page:" in text
    live = {x.address: 100 for x in objs if x is not o}
    check_rows(m, text, c, o.slab, live, {o.address}, addr)
    # nothing changed: not the machine, not the object's bytes
    assert S.snapshot(m, c) == before
    m.check()
    again = c.alloc()
    assert again.address == o.address and again.read(8, 2) == b"xx"


def test_in_bounds_accesses_are_not_reported(machine):
    m = machine(kasan=True)
    c = m.kmem_cache_create("ok", 100)
    o = c.alloc()
    o.write(0, b"a" * 100)
    assert o.read() == b"a" * 100 and m.read(o.address + 99, 1) == b"a"
    k = m.kmalloc(13)
    k.write(0, b"b" * 13)
    assert k.read(0, 13) == b"b" * 13
    m.check()


# ---- out-of-bounds ------------------------------------------------------------------------------

def kmalloc_before_redzone(m, size):
    """kmalloc(size) whose neighbour object in the same slab is never-allocated memory
    (KASAN_SLAB_REDZONE).  For kmalloc(13) in kmalloc-16 the partial granule (05) makes
    get_shadow_bug_type() look at the next granule, the neighbour's: only a redzone
    there makes the report "slab-out-of-bounds" (an allocated or freed neighbour gives
    "out-of-bounds" / "slab-use-after-free", in the kernel as in the model)."""
    keep = []
    for _ in range(200):
        k = m.kmalloc(size)
        nxt = k.address + k.kmem_cache.slab_size
        if m.virt_to_slab(nxt) is not None and m.virt_to_slab(nxt).pfn == k.slab.pfn:
            try:
                m.read(nxt, 1)
            except KASANReport as e:
                if e.bug_type == "slab-out-of-bounds":
                    return k, keep
        keep.append(k)
    raise AssertionError("no kmalloc object before a redzone")


def test_kmalloc_out_of_bounds(machine):
    m = machine(kasan=True)
    k, _keep = kmalloc_before_redzone(m, 13)
    assert k.kmem_cache.name == "kmalloc-16"
    kc = k.kmem_cache
    before = S.snapshot(m, kc)
    with pytest.raises(KASANReport) as ei:
        k.read(0, 16)
    e = ei.value
    assert e.bug_type == "slab-out-of-bounds"
    assert f"Read of size 16 at addr {hexw(m, k.address)} by task init/" in e.dump
    assert (f"The buggy address belongs to the object at {hexw(m, k.address)}\n"
            f" which belongs to the cache kmalloc-16 of size 16\n") in e.dump
    rows, caret = shadow_rows(m, e.dump)
    (guilty,) = [r for r in rows if r[0]]
    bad = k.address + 13                              # the 14th byte
    assert guilty[1] == bad & ~127 and caret == (bad - guilty[1]) // 8
    g0 = (k.address - guilty[1]) // 8
    assert guilty[2][g0:g0 + 2] == [0x00, 13 - 8]     # kasan_poison_last_granule()
    assert S.snapshot(m, kc) == before
    for off, size in ((13, 1), (14, 2), (12, 2), (15, 1)):
        with pytest.raises(KASANReport) as ei:
            k.read(off, size)
        assert ei.value.bug_type == "slab-out-of-bounds"
    with pytest.raises(KASANReport):
        m.write(k.address + 13, b"!")
    assert len(k.read(0, 13)) == 13
    m.check()


def test_kmalloc_out_of_bounds_region_description(machine):
    """describe_object_addr(): distances from the access address, region size
    kasan_get_alloc_size() (13 for kmalloc(13), read from the shadow)."""
    m = machine(kasan=True)
    k, _keep = kmalloc_before_redzone(m, 13)
    a, w = k.address, m.bits // 4
    with pytest.raises(KASANReport) as ei:
        k.read(0, 16)
    assert (f"The buggy address is located 0 bytes inside of\n"
            f" allocated 13-byte region [{a:0{w}x}, {a + 13:0{w}x})\n") in ei.value.dump
    with pytest.raises(KASANReport) as ei:
        k.read(13, 1)
    assert (f"The buggy address is located 0 bytes to the right of\n"
            f" allocated 13-byte region [{a:0{w}x}, {a + 13:0{w}x})\n") in ei.value.dump


def adjacent_kmalloc_pair(m, size=13):
    """Two kmalloc(size) objects next to each other in one kmalloc-16 slab."""
    prev = m.kmalloc(size)
    for _ in range(200):
        k = m.kmalloc(size)
        if k.address == prev.address + 16 and k.slab.pfn == prev.slab.pfn:
            return prev, k
        prev = k
    raise AssertionError("no two adjacent kmalloc-16 objects")


def test_partial_granule_before_a_freed_neighbour(machine):
    """get_shadow_bug_type(): for a shadow byte 1..7 the next shadow byte decides:
    a freed neighbour (fb) makes it "slab-use-after-free"."""
    m = machine(kasan=True, freelist_random=False)
    first, second = adjacent_kmalloc_pair(m)
    m.kfree(second)
    with pytest.raises(KASANReport) as ei:
        first.read(13, 1)
    assert ei.value.bug_type == "slab-use-after-free"
    m.check()


def test_partial_granule_before_an_allocated_neighbour(machine):
    m = machine(kasan=True, freelist_random=False)
    first, second = adjacent_kmalloc_pair(m)
    with pytest.raises(KASANReport) as ei:
        first.read(13, 1)
    assert ei.value.bug_type == "out-of-bounds"


def test_cache_object_padding_is_out_of_bounds(machine):
    """kasan_slab_alloc() unpoisons object_size bytes; the slab padding up to the
    next object stays KASAN_SLAB_REDZONE."""
    m = machine(kasan=True)
    c = m.kmem_cache_create("pad", 100)
    assert c.slab_size > 100
    o = c.alloc()
    with pytest.raises(KASANReport) as ei:
        m.read(o.address + 100, 1)
    assert ei.value.bug_type == "slab-out-of-bounds"
    assert "allocated " in ei.value.dump
    # never-allocated objects of the slab are redzone too
    others = sorted(S_ for S_ in range(o.slab.memory, o.slab.memory + o.slab.objects * c.slab_size,
                                       c.slab_size) if S_ != o.address)
    with pytest.raises(KASANReport) as ei:
        m.read(others[0], 8)
    assert ei.value.bug_type == "slab-out-of-bounds"
    m.check()


# ---- bad frees ----------------------------------------------------------------------------------

def test_double_free(machine):
    m = machine(kasan=True)
    c = m.kmem_cache_create("df", 64)
    objs = [c.alloc() for _ in range(5)]
    objs[0].free()
    objs[1].free()
    objs[2].free()
    before = S.snapshot(m, c)
    for victim in (objs[2], objs[0]):                  # immediately, and after other frees
        with pytest.raises(KASANReport) as ei:
            victim.free()
        assert ei.value.bug_type == "double-free"
        assert re.search(r"^BUG: KASAN: double-free in \S+$", ei.value.dump, re.M)
        assert f"Free of addr {hexw(m, victim.address)}" in ei.value.dump
        assert S.snapshot(m, c) == before
        m.check()
    # kfree of a freed kmalloc object
    k = m.kmalloc(100)
    m.kfree(k)
    with pytest.raises(KASANReport) as ei:
        m.kfree(k)
    assert ei.value.bug_type == "double-free"
    m.check()


def test_invalid_free(machine):
    m = machine(kasan=True)
    c = m.kmem_cache_create("if", 64)
    o = c.alloc()
    before = S.snapshot(m, c)
    for addr in (o.address + 8, o.address + 63):
        with pytest.raises(KASANReport) as ei:
            m.kmem_cache_free(c, addr)
        assert ei.value.bug_type == "invalid-free"
        assert f"Free of addr {hexw(m, addr)}" in ei.value.dump
    k = m.kmalloc(100)
    with pytest.raises(KASANReport) as ei:
        m.kfree(k.address + 4)
    assert ei.value.bug_type == "invalid-free"
    assert S.snapshot(m, c) == before
    o.free()
    m.check()


# ---- large kmalloc ------------------------------------------------------------------------------

def test_large_kmalloc_use_after_free_and_redzone(machine):
    m = machine(kasan=True)
    o = m.kmalloc(20000)                                # order 3, 32 KiB
    o.write(19996, b"last")
    with pytest.raises(KASANReport) as ei:
        o.read(19999, 2)                                # KASAN_PAGE_REDZONE past the end
    assert ei.value.bug_type == "slab-out-of-bounds"
    m.kfree(o)
    w = m.walk()
    for f in (lambda: m.read(o.address, 4), lambda: m.write(o.address + 100, b"x")):
        with pytest.raises(KASANReport) as ei:
            f()
        assert ei.value.bug_type == "use-after-free"
        assert "BUG: KASAN: use-after-free in " in ei.value.dump
        rows, _ = shadow_rows(m, ei.value.dump)
        assert [r for r in rows if r[0]][0][2] == [S.KASAN_PAGE_FREE] * 16
    assert m.walk() == w
    m.check()


def test_access_to_a_freed_slab_page(machine):
    """A normal cache's empty slab goes back to the page allocator at once:
    kasan_poison_pages() marks it KASAN_PAGE_FREE."""
    m = machine(kasan=True)
    c = m.kmem_cache_create("gone", 128)
    o = c.alloc()
    pfn = o.slab.pfn
    o.free()
    m.kmem_cache_shrink(c)
    assert m.page(pfn).type_name is None
    with pytest.raises(KASANReport) as ei:
        m.read(o.address, 8)
    assert ei.value.bug_type == "use-after-free"
    m.check()


# ---- SLAB_TYPESAFE_BY_RCU -----------------------------------------------------------------------

def test_typesafe_access_after_free_is_legitimate(machine):
    m = machine(kasan=True)
    c = m.kmem_cache_create("ts", 64, flags="SLAB_TYPESAFE_BY_RCU")
    o = c.alloc()
    o.write(0, b"type-safe")
    o.free()
    assert o.read(0, 9) == b"type-safe"                 # not poisoned at free
    m.write(o.address, b"T")
    again = c.alloc()                                   # reused at once
    assert again.address == o.address
    assert o.read(0, 9) == b"Type-safe" and again.read(0, 9) == b"Type-safe"
    again.free()
    pfn = o.slab.pfn
    m.kmem_cache_shrink(c)
    assert o.read(0, 4) == b"Type"                      # the page waits for a GP
    m.check()
    assert m.rcu.advance() == 1 and m.page(pfn).type_name is None
    with pytest.raises(KASANReport) as ei:
        o.read(0, 4)
    assert ei.value.bug_type == "use-after-free"
    m.check()


# ---- without KASAN ------------------------------------------------------------------------------

def test_without_kasan_bad_accesses_go_through(machine):
    m = machine()
    assert not m.kasan
    c = m.kmem_cache_create("nok", 100)
    o = c.alloc()
    o.write(0, b"y" * 100)
    o.free()
    assert o.read(0, 4) == b"yyyy"                      # use-after-free: not detected
    m.write(o.address + 8, b"zz")
    k = m.kmalloc(13)
    assert len(k.read(0, 16)) == 16                     # out-of-bounds: not detected
    big = m.kmalloc(20000)
    m.kfree(big)
    assert len(m.read(big.address, 8)) == 8
    m.check()


def test_without_kasan_only_the_naive_double_free_is_caught(machine):
    m = machine()
    c = m.kmem_cache_create("nok", 64)
    o = c.alloc()
    c.alloc()
    o.free()
    before = S.snapshot(m, c)
    with pytest.raises(MemcoreError) as ei:
        o.free()
    assert not isinstance(ei.value, KASANReport)
    assert "double free" in str(ei.value)
    assert S.snapshot(m, c) == before
    m.check()


# ---- constructors under KASAN -------------------------------------------------------------------

def test_ctor_cache_unallocated_objects_are_redzone(machine):
    """setup_object(): the ctor runs between kasan_unpoison_new_object() and
    kasan_poison_new_object(); objects not yet allocated stay KASAN_SLAB_REDZONE."""
    m = machine(kasan=True)
    c = m.kmem_cache_create("kct", 64, ctor=lambda ob: ob.write(0, b"q" * 64))
    first = c.alloc()
    second = c.alloc()
    assert second.read(0, 64) == b"q" * 64
    slots = set(range(first.slab.memory, first.slab.memory + first.slab.objects * c.slab_size,
                      c.slab_size)) - {first.address, second.address}
    with pytest.raises(KASANReport) as ei:
        m.read(min(slots), 4)
    assert ei.value.bug_type == "slab-out-of-bounds"
    m.check()


def test_ctor_cache_first_object_of_a_slab_is_accessible(machine):
    """The ctors run in allocate_slab() (setup_object), before kasan_slab_alloc()
    unpoisons the object handed out: the first object of a new slab is accessible."""
    m = machine(kasan=True)
    c = m.kmem_cache_create("kct", 64, ctor=lambda ob: ob.write(0, b"q" * 64))
    first = c.alloc()
    assert first.read(0, 64) == b"q" * 64
