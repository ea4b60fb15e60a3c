"""kmalloc() on the model: size classes, ZERO_SIZE_PTR, large kmalloc straight
from the page allocator, the four kmalloc families by GFP flags, slab pages'
zones and mobility, and __GFP_ZERO.

Expectations come from 6.18 (tests/slabkit.py, /work/notes/slub-runtime-6.18.md)."""
from __future__ import annotations

import pytest

from memcore import MemcoreError, OutOfMemory

import kfacts as K
import slabkit as S
from conftest import only_bits


# ---- kmalloc ------------------------------------------------------------------------------

def test_kmalloc_size_classes(machine):
    m = machine()
    for size in range(1, S.KMALLOC_MAX_CACHE_SIZE + 1):
        o = m.kmalloc(size)
        assert o.kmem_cache.name == S.kmalloc_name(size), size
        assert o.size == size
        if size % 97 == 1 or size in (8, 96, 97, 192, 193, 8192):
            assert m.virt_to_cache(o.address + size - 1).name == S.kmalloc_name(size)
            assert m.kmem_cache(S.kmalloc_name(size)).object_size == S.kmalloc_class(size)
        m.kfree(o)
    m.check()


def test_kmalloc_zero_and_null(machine):
    m = machine()
    assert m.kmalloc(0) == S.ZERO_SIZE_PTR
    before = S.snapshot(m)
    for p in (0, None, S.ZERO_SIZE_PTR, 1, 8):          # ZERO_OR_NULL_PTR(): <= 16
        m.kfree(p)
    assert S.snapshot(m) == before
    m.check()


LARGE_KMALLOC_SIZES = [8193, 16384, 16385, 100000, 4 << 20]


@pytest.mark.parametrize("size", LARGE_KMALLOC_SIZES)
def test_large_kmalloc(machine, size):
    m = machine()
    bits = m.bits
    m.drain_pcp()
    w0, st0 = m.walk(), m.stats()
    order = S.get_order(size)
    nr = 1 << order
    o = m.kmalloc(size)
    pfn = (o.address - K.PAGE_OFFSET[bits]) >> K.PAGE_SHIFT
    assert o.kmem_cache is None and o.size == size
    assert m.virt_to_slab(o.address) is None and m.virt_to_cache(o.address) is None
    assert o.address == K.PAGE_OFFSET[bits] + pfn * K.PAGE_SIZE and pfn % nr == 0
    p = m.page(pfn)
    assert p.type_name == "large_kmalloc"
    assert p.refcount == 0                                # frozen pages
    if nr > 1:
        assert p.is_head
        for i in (1, nr // 2, nr - 1):
            assert m.page(pfn + i).is_tail
    w1, st1 = m.walk(), m.stats()
    assert w1["large_kmalloc"] == w0["large_kmalloc"] + nr
    assert st1["large_kmalloc_pages"] == st0["large_kmalloc_pages"] + nr
    # pcp refills may move more blocks off the buddy lists, but only these pages left
    assert (w1["free_buddy"] + w1["refcount_zero"]
            == w0["free_buddy"] + w0["refcount_zero"] - nr)
    o.write(size - 4, b"tail")
    assert m.read(o.address + size - 4, 4) == b"tail" and o.read(size - 4) == b"tail"
    # a kfree inside the allocation is refused
    before = S.snapshot(m)
    with pytest.raises(MemcoreError):
        m.kfree(o.address + K.PAGE_SIZE if nr > 1 else o.address + 8)
    assert S.snapshot(m) == before
    m.kfree(o)
    assert m.page(pfn).type_name != "large_kmalloc"
    m.drain_pcp()
    assert m.walk() == w0
    assert m.stats()["large_kmalloc_pages"] == st0["large_kmalloc_pages"]
    m.check()


@pytest.mark.classic_overlay
@pytest.mark.parametrize("size", LARGE_KMALLOC_SIZES)
def test_large_kmalloc_struct_pages(machine, size):
    """A large kmalloc is a frozen compound page typed in its head's struct page:
    PGTY_large_kmalloc in page_type's top byte, _refcount 0, the order in _flags_1,
    compound_head in the tails."""
    m = machine()
    order = S.get_order(size)
    nr = 1 << order
    o = m.kmalloc(size)
    pfn = (o.address - K.PAGE_OFFSET[m.bits]) >> K.PAGE_SHIFT
    assert K.page_field(m, pfn, "page_type") >> 24 == S.PGTY_LARGE_KMALLOC
    assert K.page_field(m, pfn, "_refcount") == 0
    if nr > 1:
        assert K.folio_field(m, pfn, "_flags_1") & 0xff == order
        head = K.page_address(m, pfn)
        for i in (1, nr // 2, nr - 1):
            assert K.page_field(m, pfn + i, "compound_head") == head + 1
    m.kfree(o)
    m.check()


def test_kmalloc_above_kmalloc_max_size(machine):
    m = machine()
    before = S.snapshot(m)
    with pytest.raises(OutOfMemory):
        m.kmalloc((4 << 20) + 1)
    assert S.snapshot(m) == before
    m.check()


@pytest.mark.parametrize("gfp,kind", [
    ("__GFP_DMA", "dma"),
    ("__GFP_RECLAIMABLE", "reclaim"),
    ("__GFP_ACCOUNT", "cgroup"),
    ("GFP_KERNEL|__GFP_ACCOUNT", "cgroup"),
    ("__GFP_RECLAIMABLE|__GFP_ACCOUNT", "reclaim"),     # kmalloc_type(): DMA, RECLAIM, CGROUP
    ("__GFP_DMA|__GFP_RECLAIMABLE|__GFP_ACCOUNT", "dma"),
    ("GFP_KERNEL", "normal"),
])
def test_kmalloc_gfp_picks_the_family(machine, gfp, kind):
    m = machine()
    for size in (1, 8, 96, 150, 192, 1000, 8192):
        o = m.kmalloc(size, gfp=gfp)
        assert o.kmem_cache.name == S.kmalloc_name(size, kind)
        zone = m.page(o.slab.pfn).zone
        if kind == "dma":
            assert zone == "DMA"
        else:
            assert zone != "DMA"
        if kind == "reclaim":
            assert m.page(o.slab.pfn).migratetype == "Reclaimable"
    m.check()


@pytest.mark.parametrize("gfp", ["__GFP_DMA", "__GFP_MOVABLE", "GFP_HIGHUSER_MOVABLE"])
def test_slab_pages_ignore_the_callers_zone_and_mobility(machine, gfp):
    m = machine()
    c = m.kmem_cache_create("plain", 64)
    o = m.kmem_cache_alloc(c, gfp=gfp)
    assert m.page(o.slab.pfn).zone != "DMA"
    assert m.page(o.slab.pfn).migratetype == "Unmovable"
    m.check()


HIGHMEM_SCRIPT = r"""
import sys
import memcore
m = memcore.Machine("1GiB", design=sys.argv[1], bits=32)
c = m.kmem_cache_create("plain", 64)
objs = [m.kmem_cache_alloc(c, gfp="GFP_HIGHUSER_MOVABLE") for _ in range(200)]
objs += [m.kmalloc(5000, gfp="__GFP_ACCOUNT|__GFP_HIGHMEM") for _ in range(20)]
for o in objs:
    pfn = (o.address - m.page_offset) >> 12
    assert pfn < m.nr_pfns and m.page(pfn).zone != "HighMem", hex(o.address)
    assert m.virt_to_slab(o.address) is not None
    o.write(0, b"ok")
    assert o.read(0, 2) == b"ok"
for o in objs:
    o.free()
m.check()
print("OK")
"""


@only_bits(32)
def test_no_highmem_slabs_i386(variant):
    """Many HighMem-flagged allocations on i386, in a subprocess so that a
    regression (slabs in HighMem overrun the lowmem-sized shadow and object
    bitmap) shows as a failed test, not a dead test run."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", HIGHMEM_SCRIPT, variant[0]], capture_output=True, text=True,
                       timeout=120, cwd=str(K.DATA.parent))
    assert r.returncode == 0 and r.stdout.strip() == "OK", (r.returncode, r.stderr[-2000:])


def test_gfp_zero(machine):
    m = machine()
    c = m.kmem_cache_create("z", 64)
    o = c.alloc()
    o.write(0, b"\xff" * 64)
    o.free()
    o2 = m.kmem_cache_alloc(c, gfp="GFP_KERNEL|__GFP_ZERO")
    assert o2.address == o.address and o2.read() == bytes(64)
    k = m.kmalloc(128)
    k.write(0, b"\xee" * 128)
    m.kfree(k)
    k2 = m.kmalloc(128, gfp="__GFP_ZERO")
    assert k2.address == k.address and m.read(k2.address, 128) == bytes(128)
    big = m.kmalloc(3 * K.PAGE_SIZE)                    # order 2
    big.write(0, b"\xdd" * (4 * K.PAGE_SIZE))
    m.kfree(big)
    big2 = m.kmalloc(9000, gfp="__GFP_ZERO")
    # the page allocator clears the whole block
    assert m.read(big2.address, 4 * K.PAGE_SIZE) == bytes(4 * K.PAGE_SIZE)
    m.check()


def test_gfp_zero_clears_the_whole_kmalloc_object(machine):
    """slab_post_alloc_hook() clears zero_size = s->object_size (orig_size only for
    STORE_USER/RED_ZONE kmalloc debug caches): kzalloc(13) zeroes all 16 bytes (ksize)."""
    m = machine()
    k = m.kmalloc(16)
    k.write(0, b"\xff" * 16)
    m.kfree(k)                            # the free pointer lands in bytes 8..15 (64-bit)
    k2 = m.kmalloc(13, gfp="__GFP_ZERO")
    assert k2.address == k.address
    assert m.read(k2.address, 16) == bytes(16)
