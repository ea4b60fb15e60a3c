"""Helpers for the SLUB / RCU / KASAN tests: kernel facts of 6.18's runtime
(from /work/notes/slub-runtime-6.18.md, written down here rather than read
from memcore), raw struct slab readers, and snapshots of the machine that a
refused operation must leave unchanged."""
from __future__ import annotations

import kfacts as K

PAGE_SIZE = K.PAGE_SIZE
ZERO_SIZE_PTR = 16                      # include/linux/slab.h
KMALLOC_MAX_CACHE_SIZE = 8192           # 2 * PAGE_SIZE
PGTY_SLAB = 0xF5
PGTY_LARGE_KMALLOC = 0xF8
SL_PARTIAL = "workingset"               # enum slab_flags: SL_partial = PG_workingset
# KASAN generic shadow values (mm/kasan/kasan.h)
KASAN_PAGE_FREE = 0xFF
KASAN_PAGE_REDZONE = 0xFE
KASAN_SLAB_REDZONE = 0xFC
KASAN_SLAB_FREE = 0xFB

KMALLOC_SHORT = {1024: "1k", 2048: "2k", 4096: "4k", 8192: "8k"}
KMALLOC_PREFIX = {"normal": "kmalloc-", "reclaim": "kmalloc-rcl-", "dma": "dma-kmalloc-",
                  "cgroup": "kmalloc-cg-"}


def kmalloc_class(size: int) -> int:
    """The kmalloc size class of a request (kmalloc_size_index + fls): 96 and 192 exist
    because KMALLOC_MIN_SIZE is 8 on x86."""
    for c in (8, 16, 32, 64, 96, 128, 192):
        if size <= c:
            return c
    c = 256
    while c < size:
        c *= 2
    assert c <= KMALLOC_MAX_CACHE_SIZE
    return c


def kmalloc_name(size: int, kind: str = "normal") -> str:
    c = kmalloc_class(size)
    return KMALLOC_PREFIX[kind] + KMALLOC_SHORT.get(c, str(c))


def get_order(size: int) -> int:
    order = 0
    while PAGE_SIZE << order < size:
        order += 1
    return order


def cpu_partial_objects(slab_size: int) -> int:
    """set_cpu_partial(): the per-CPU partial budget in objects (by s->size)."""
    if slab_size >= PAGE_SIZE:
        return 6
    if slab_size >= 1024:
        return 24
    if slab_size >= 256:
        return 52
    return 120


def cpu_partial_slabs(slab_size: int, objs_per_slab: int) -> int:
    """slub_set_cpu_partial(): DIV_ROUND_UP(nr_objects * 2, oo_objects(s->oo))."""
    return -(-cpu_partial_objects(slab_size) * 2 // objs_per_slab)


def min_partial(slab_size: int) -> int:
    """clamp(ilog2(size) / 2, MIN_PARTIAL 5, MAX_PARTIAL 10)."""
    return max(5, min(10, (slab_size.bit_length() - 1) // 2))


def swab(v: int, bits: int) -> int:
    return int.from_bytes(v.to_bytes(bits // 8, "little"), "big")


def word(m, address: int) -> int:
    """A native word of modeled memory (through Machine.read: KASAN-checked)."""
    w = m.bits // 8
    return int.from_bytes(m.read(address, w), "little")


# ---- raw struct slab -------------------------------------------------------------------

def slab_raw(m, slab) -> dict:
    """The struct slab a Slab view stands for, decoded from modeled memory at
    slab.pointer with the offsets memcore.layout("slab") gives the machine's design
    (not through the Slab accessors)."""
    lay = K.layout(m, "slab")

    def get(name):
        return K.struct_field(m, "slab", slab.pointer, name)

    counters = get("counters")

    def bitfield(name):
        mem = lay[name]
        shift = mem.bit_offset - lay["counters"].bit_offset
        return (counters >> shift) & ((1 << mem.bit_size) - 1)

    return {"flags": get("flags"), "slab_cache": get("slab_cache"), "freelist": get("freelist"),
            "counters": counters, "inuse": bitfield("inuse"), "objects": bitfield("objects"),
            "frozen": bitfield("frozen"), "next": get("next"), "slabs": get("slabs")}


def slab_flags(m, slab):
    """slab->flags (where SL_partial lives) as a PgFlags view."""
    return m.pgflags(slab.pointer + K.layout(m, "slab")["flags"].offset)


def slab_pfns(m, cache):
    """PFNs of every slab of the cache that a CPU or node list knows."""
    out = set()
    for cpu in range(m.cpus):
        s = cache.cpu_slab(cpu)
        if s is not None:
            out.add(s.pfn)
        out.update(x.pfn for x in cache.cpu_partial_slabs(cpu))
    for nid in range(m.nodes):
        out.update(x.pfn for x in cache.node_partial_slabs(nid))
    return out


def cache_state(m, cache, memory=True):
    """Everything about one cache that a refused operation must not change."""
    cpus = []
    for cpu in range(m.cpus):
        s = cache.cpu_slab(cpu)
        cpus.append((s.pfn if s else None, tuple(x.pfn for x in cache.cpu_partial_slabs(cpu))))
    nodes = tuple(tuple(x.pfn for x in cache.node_partial_slabs(nid)) for nid in range(m.nodes))
    slabs = []
    for pfn in sorted(slab_pfns(m, cache)):
        s = m.virt_to_slab(m.page_offset + pfn * PAGE_SIZE)
        entry = [pfn, m.page(pfn).raw(), tuple(sorted(slab_raw(m, s).items()))]
        if memory and not m.kasan:
            entry.append(m.read(s.memory, PAGE_SIZE << s.order))
        slabs.append(tuple(entry))
    return (cache.name, cache.objects_inuse, cache.objects, cache.total_objects, cache.slabs,
            cache.partial, tuple(cpus), nodes, tuple(slabs))


def snapshot(m, *caches):
    st = m.stats()
    return (m.walk(), st["slab_pages"], st["large_kmalloc_pages"], st["pgalloc"], st["pgfree"],
            m.slabinfo(), tuple(cache_state(m, c) for c in caches),
            m.rcu.gp_seq, m.rcu.pending, m.rcu.slabs_waiting)


def slab_page_count(m) -> int:
    """Pages of all slabs the caches account, plus the ones waiting for RCU."""
    return sum(c.slabs << c.order for c in m.caches())


# ---- slabs and objects in tests ---------------------------------------------------------

def all_slots(c, slab):
    """Every object address of a (non-debug) slab."""
    return {slab.memory + i * c.slab_size for i in range(slab.objects)}


def P(x):
    """Slab views as PFNs, for comparisons."""
    if x is None:
        return None
    if isinstance(x, list):
        return [s.pfn for s in x]
    return x.pfn


def fill_slab(c, task=None):
    """Allocate until the CPU slab changes: returns the objects of one full slab
    (the cache must have no partially used slab yet)."""
    first = c.alloc(task=task)
    objs = [first] + [c.alloc(task=task) for _ in range(c.objs_per_slab - 1)]
    assert {o.slab.pfn for o in objs} == {first.slab.pfn}
    return objs


def mem(m, folio):
    """The direct-map address of a folio's memory (Folio.pointer is its descriptor)."""
    return K.PAGE_OFFSET[m.bits] + folio.pfn * K.PAGE_SIZE


def shrink_all(m) -> None:
    """kmem_cache_shrink() every cache and let RCU free what that hands it, until
    nothing changes: empty slabs of SLAB_TYPESAFE_BY_RCU caches (the memdesc
    designs' descriptor caches) wait for a grace period, and freeing them frees
    their slab descriptors, which may empty a slab_desc slab in turn."""
    while True:
        before = m.walk()
        for c in m.caches():
            m.kmem_cache_shrink(c)
        assert m.rcu.barrier()
        m.drain_pcp()
        if m.walk() == before:
            return
