"""SLUB lookups and counters on the model: virt_to_slab()/virt_to_cache() from
inside objects, /proc/slabinfo, the sysfs object counts, and slab pages in
m.stats().

Expectations come from 6.18 (tests/slabkit.py, /work/notes/slub-runtime-6.18.md)."""
from __future__ import annotations

import re

import kfacts as K
import slabkit as S
from slabkit import P, fill_slab, mem


# ---- lookups, slabinfo, counters ----------------------------------------------------------------

def test_virt_to_slab_and_cache_from_inside_objects(machine):
    m = machine()
    c = m.kmem_cache_create("v2s", 100)
    o = c.alloc()
    for off in (0, 1, 50, 99, c.slab_size - 1):
        assert P(m.virt_to_slab(o.address + off)) == P(o.slab)
        assert m.virt_to_cache(o.address + off) == c
    assert m.virt_to_cache(o) == c
    k = m.kmalloc(700)
    assert m.virt_to_cache(k.address + 699).name == "kmalloc-1k"
    big = m.kmem_cache("kmalloc-8k").alloc()
    last = big.slab.memory + (K.PAGE_SIZE << big.slab.order) - 1
    assert P(m.virt_to_slab(last)) == P(big.slab)
    f = m.alloc_folio(order=1)
    assert m.virt_to_slab(mem(m, f) + 100) is None and m.virt_to_cache(mem(m, f)) is None
    large = m.kmalloc(20000)
    assert m.virt_to_slab(large.address + 5) is None
    m.check()


HEADER = ["slabinfo - version: 2.1",
          "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
          " : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs>"
          " <num_slabs> <sharedavail>"]


def slabinfo_rows(m):
    lines = m.slabinfo().splitlines()
    assert lines[:2] == HEADER
    rows = {}
    order = []
    for line in lines[2:]:
        name = line.split()[0]
        mt = re.fullmatch(r"(\S+)\s+(\d+) +(\d+) +(\d+) +(\d+) +(\d+) : tunables +0 +0 +0 : "
                          r"slabdata +(\d+) +(\d+) +0", line)
        assert mt, line
        rows[name] = tuple(int(x) for x in mt.groups()[1:])
        order.append(name)
        # seq_printf(m, "%-17s %6lu %6lu %6u %4u %4d", ...) and the two suffixes
        a, n, sz, per, pages, act, num = rows[name]
        assert line == ("%-17s %6d %6d %6d %4d %4d" % (name, a, n, sz, per, pages)
                        + " : tunables %4d %4d %4d" % (0, 0, 0)
                        + " : slabdata %6d %6d %6d" % (act, num, 0))
    return order, rows


def test_slabinfo(machine):
    m = machine()
    a = m.kmem_cache_create("info-a", 200)
    b = m.kmem_cache_create("info-b-with-a-long-name", 3000)
    objs = [a.alloc() for _ in range(3)]
    b.alloc()
    order, rows = slabinfo_rows(m)
    assert order == [c.name for c in m.caches()]
    assert order[:2] == ["info-b-with-a-long-name", "info-a"]     # newest first
    assert len(order) == len(set(order))
    for c in m.caches():
        assert rows[c.name] == (c.objects, c.total_objects, c.slab_size, c.objs_per_slab,
                                1 << c.order, c.slabs, c.slabs)
    # free objects of a CPU slab count as active; those of node partial slabs do not
    per = a.objs_per_slab
    assert rows["info-a"] == (per, per, 200, per, 1, 1, 1)
    m.kmem_cache_shrink(a)
    assert slabinfo_rows(m)[1]["info-a"] == (3, per, 200, per, 1, 1, 1)
    for o in objs:
        o.free()
    m.kmem_cache_shrink(a)
    assert slabinfo_rows(m)[1]["info-a"] == (0, 0, 200, per, 1, 0, 0)
    m.check()


def test_objects_counts_cpu_held_free_objects_as_in_use(machine):
    """sysfs 'objects' = total_objects - free objects on node partial slabs."""
    m = machine()
    c = m.kmem_cache_create("objs", 200)
    per = c.objs_per_slab
    full = fill_slab(c)
    cur = c.alloc()
    full[0].free()                            # a CPU partial slab with one free object
    assert c.slabs == 2 and c.total_objects == 2 * per
    assert c.objects == 2 * per and c.objects_inuse == per
    m.kmem_cache_shrink(c)                     # both go to the node list
    assert c.objects == per and c.objects_inuse == per
    assert c.partial == 2
    cur.free()
    m.check()


def test_stats_count_slab_pages(machine):
    m = machine()
    st = m.stats()
    assert st["slab_pages"] == m.walk()["slab"] == S.slab_page_count(m)
    small = m.kmem_cache_create("s-small", 64)
    big = m.kmem_cache_create("s-big", 3000)
    keep = [small.alloc() for _ in range(100)] + [big.alloc() for _ in range(30)]
    keep += [m.kmalloc(n) for n in (10, 100, 1000, 5000)]
    st = m.stats()
    assert st["slab_pages"] == m.walk()["slab"] == S.slab_page_count(m)
    assert small.slabs == -(-100 // small.objs_per_slab)
    assert big.slabs == -(-30 // big.objs_per_slab)
    m.check()


def test_stats_per_cache(machine):
    """m.stats()["slab_caches"]: slab pages and bytes per cache."""
    m = machine()
    c = m.kmem_cache_create("per-cache", 3000)
    objs = [c.alloc() for _ in range(c.objs_per_slab + 1)]
    k = m.kmalloc(100)
    per = m.stats()["slab_caches"]
    assert set(per) == {x.name for x in m.caches()}
    e = per["per-cache"]
    pages = 2 << c.order
    assert (e["slabs"], e["pages"], e["bytes"]) == (2, pages, pages * K.PAGE_SIZE)
    assert e["objects_inuse"] == len(objs) and e["object_bytes"] == 3000 * len(objs)
    assert e["total_objects"] == 2 * c.objs_per_slab == e["objects"]
    km = per["kmalloc-128"]
    assert km["objects_inuse"] >= 1
    assert km["pages"] == km["slabs"] << m.kmem_cache("kmalloc-128").order
    assert sum(x["pages"] for x in per.values()) == m.stats()["slab_pages"]
    del k
    m.check()
