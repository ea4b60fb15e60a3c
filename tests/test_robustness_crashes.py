"""Issue 8, item 9: inputs that used to crash the interpreter now raise.

Each reproducer runs in a subprocess, so that a segfault (or an endless loop,
through the timeout) is a test failure and not a dead pytest."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import memcore

# subprocesses run here, not in the checkout, so `-c` imports the installed memcore
HERE = os.path.dirname(os.path.abspath(__file__))

PRELUDE = """
import memcore
from memcore import (InvalidAddress, MemcoreError, VMBug)
m = memcore.Machine("64MiB", design={design!r}, bits={bits})
def raises(exc, fn, *a, match=None, **kw):
    try:
        fn(*a, **kw)
    except exc as e:
        assert match is None or match in str(e), (match, str(e))
        return e
    raise AssertionError(f"{{fn}} did not raise {{exc}}")
"""


def run(variant, code, timeout=60):
    design, bits = variant
    src = PRELUDE.format(design=design, bits=bits) + textwrap.dedent(code) + "\nprint('OK')\n"
    r = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True,
                       cwd=HERE,  # not the checkout: `-c` imports the installed memcore
                       timeout=timeout)
    assert r.returncode == 0 and r.stdout.strip().endswith("OK"), \
        f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"


# ---- gfp with both migratetype bits --------------------------------------------------

def test_gfp_with_movable_and_reclaimable_is_refused(variant):
    run(variant, """
        for gfp in ("__GFP_MOVABLE|__GFP_RECLAIMABLE", "GFP_KERNEL|__GFP_MOVABLE|__GFP_RECLAIMABLE",
                    0x18, 0xcc0 | 0x18):
            for size in (8193, 64, 1 << 20):
                raises(ValueError, m.kmalloc, size, gfp=gfp, match="__GFP_RECLAIMABLE")
        c = m.kmem_cache_create("c", 64)
        raises(ValueError, c.alloc, gfp=0x18)
        raises(ValueError, m.kmalloc, 8, gfp=1 << 32, match="gfp_t")
        raises(ValueError, m.kmalloc, 8, gfp=-1)
        raises(TypeError, m.kmalloc, 8, gfp=1.5)
        m.check()
        o = m.kmalloc(8193, gfp="GFP_KERNEL|__GFP_RECLAIMABLE")
        o.free()
        m.check()
    """)


# ---- views made without a machine ----------------------------------------------------

VIEW_CLASSES = ["Page", "Folio", "PgFlags", "KmemCache", "Slab", "SlabObject", "Task",
                "RCU", "_WakeAfterGP", "_RCUReadSection", "_DeferredKfree", "_FreeRCUSlabs"]


@pytest.mark.parametrize("cls", VIEW_CLASSES)
def test_views_cannot_be_made_without_a_machine(variant, cls):
    run(variant, f"""
        import sys
        mod = sys.modules[type(m).__module__]
        T = getattr(mod, {cls!r})
        for args in ((), (m,), (m, 0), (None,), (None, 0)):
            try:
                v = T.__new__(T, *args)
            except TypeError:
                continue
            raise AssertionError(f"{{T.__name__}}.__new__{{args}} made {{v!r}}")
        # the views the machine makes still work
        f = m.alloc_folio()
        f.set_dirty(); assert f.test_dirty(); f.put()
        import copy
        raises(TypeError, copy.copy, m.page(0))
    """)


def test_an_unbooted_machine_raises(variant):
    run(variant, """
        T = type(m)
        u = T.__new__(T)
        for call in (lambda: u.alloc_folio(), lambda: u.kmalloc(8), lambda: u.call_rcu(print),
                     lambda: u.rcu_read_lock(), lambda: u.synchronize_rcu(),
                     lambda: u.kmem_cache_create("x", 8), lambda: u.bulk_put([0]),
                     lambda: u.page(0), lambda: u.free_area(), lambda: u.read(0, 1),
                     lambda: u.kfree(0), lambda: u.task("t")):
            try:
                call()
            except (MemcoreError, ValueError, TypeError):
                pass
        for call in (u.zones, u.walk, u.stats, u.check, u.caches, u.slabinfo, u.drain_pcp):
            raises(MemcoreError, call, match="not booted")
        assert "not booted" in repr(u)
    """)


# ---- Machine.__init__ runs once ------------------------------------------------------

def test_init_runs_once(variant):
    run(variant, """
        f = m.alloc_folio()
        before = m.stats()
        raises(MemcoreError, m.__init__, "64MiB", match="already")
        raises(MemcoreError, m.__init__, "128MiB", cpus=4, match="already")
        assert m.stats() == before and m.nr_pfns == 64 << 8 and m.cpus == 2
        f.put(); m.check()
    """)


def test_init_checks_every_argument_before_booting(machine):
    for kw, exc in [(dict(min_free_kbytes=1 << 40), ValueError),
                    (dict(min_free_kbytes=-1), ValueError),
                    (dict(min_free_kbytes=1.5), TypeError),
                    (dict(watermark_scale_factor=0), ValueError),
                    (dict(watermark_scale_factor=3001), ValueError),
                    (dict(watermark_scale_factor=1 << 40), ValueError),
                    (dict(watermark_scale_factor="10"), TypeError),
                    (dict(seed=1.0), TypeError),
                    (dict(nodes=1 << 40), ValueError), (dict(cpus=1 << 64), ValueError)]:
        with pytest.raises(exc):
            machine(ram="64MiB", **kw)
    with pytest.raises(ValueError):
        machine(ram="1" * 400 + "GiB")
    m = machine(ram="64MiB", watermark_scale_factor=3000, min_free_kbytes=1 << 11)
    assert m.min_free_kbytes == 1 << 11
    m.check()


# ---- the slab allocator's own objects -------------------------------------------------

def test_internal_cache_objects_are_not_the_apis(variant):
    run(variant, """
        c = m.kmem_cache_create("victim", 64)
        o = c.alloc()
        node_obj = m.read(c.pointer, 8)          # reading is fine
        raises(InvalidAddress, m.kfree, c.pointer, match="kmem_cache")
        raises(InvalidAddress, m.kmem_cache_free, "kmem_cache", c.pointer)
        raises(InvalidAddress, m.kmem_cache_free, "kmem_cache_node", c.pointer)
        raises(InvalidAddress, m.kmem_cache_alloc, "kmem_cache")
        raises(InvalidAddress, m.kfree_rcu, c.pointer)
        raises(InvalidAddress, m.write, c.pointer, b"\\xff" * 8)
        raises(InvalidAddress, m.write, c.pointer + 16, b"\\xff")
        raises(InvalidAddress, m.pgflags(c.pointer).set, "dirty")
        # boot metadata (node data, free-list heads, pcp lists) is reserved memory
        first_free = next(p for p in range(m.nr_pfns) if m.page(p).folio is None
                          and m.page(p).buddy_order is not None)
        memmap = range(m.memmap_address,
                       m.memmap_address + m.stats()["metadata_bytes"]["memmap"])
        reserved = next(p for p in range(m.nr_pfns - 1, 0, -1)
                        if m.page(p).flags.test("reserved") and m.pfn_to_virt(p) is not None
                        and int(m.pfn_to_virt(p)) not in memmap)
        raises(InvalidAddress, m.write, m.pfn_to_virt(reserved), b"\\xff" * 64)
        raises(InvalidAddress, setattr, m.pgflags(m.pfn_to_virt(reserved)), "word", 7)
        o.write(0, b"fine"); assert o.read(0, 4) == b"fine"
        o.free(); c.alloc().free()
        m.kmem_cache_destroy(c)
        m.check()
    """)


# ---- node and zone ids from a written flags word ----------------------------------------

def test_bad_node_or_zone_in_a_flags_word_raises(variant):
    run(variant, """
        full = (1 << m.bits) - 1
        for value_of in (lambda w: full, lambda w: w | (full ^ ((1 << 32) - 1)),
                         lambda w: w ^ (1 << (m.bits - 1))):
            f = m.alloc_folio()
            good = f.flags.word
            f.flags.word = value_of(good)
            p = m.page(f.pfn)
            for attr in ("migratetype", "zone", "node"):
                try:
                    getattr(p, attr)
                except VMBug as e:
                    assert "flags word" in str(e) or "names nothing" in str(e), e
            for call in (lambda: f.zone, lambda: f.node):
                try:
                    call()
                except VMBug:
                    pass
            freed = False
            if f.flags.word != good:
                before = f.refcount
                try:
                    freed = f.put()
                except VMBug as e:
                    assert f.refcount == before
            if not freed:
                f.flags.word = good
                f.put()
        m.check()
    """)


def test_page_flags_word_with_a_bad_zone_names_the_value(variant):
    run(variant, """
        f = m.alloc_folio()
        p = m.page(f.pfn)
        good = p.flags.word
        p.flags.word = (1 << m.bits) - 1
        e = raises(VMBug, lambda: p.migratetype)
        assert "node" in str(e) or "zone" in str(e)
        raises(VMBug, f.put, match="flags word")
        assert f.refcount == 1
        p.flags.word = good
        f.put(); m.check()
    """)


@pytest.mark.classic_overlay
def test_flags_word_with_a_bad_zone_names_the_value(variant):
    # the folio's flags word is its head page's: a bad zone written through the
    # folio is the page's (on the memdesc designs it is the descriptor's word)
    run(variant, """
        f = m.alloc_folio()
        good = f.flags.word
        f.flags.word = (1 << m.bits) - 1
        e = raises(VMBug, lambda: m.page(f.pfn).migratetype)
        assert "node" in str(e) or "zone" in str(e)
        raises(VMBug, f.put, match="flags word")
        assert f.refcount == 1
        f.flags.word = good
        f.put(); m.check()
    """)


# ---- RCU callbacks that queue themselves --------------------------------------------------

def test_a_self_requeuing_rcu_callback_does_not_hang_advance(variant):
    run(variant, """
        n = [0]
        def again():
            n[0] += 1
            m.call_rcu(again)
        m.call_rcu(again)
        m.rcu.advance()
        assert n[0] == 1
        m.rcu.advance(); m.rcu.barrier()
        assert 2 <= n[0] <= 5
        with m.rcu_read():
            pass
        m.check()
    """, timeout=30)


def test_a_caches_random_seq_is_not_the_apis(machine):
    m = machine(ram="64MiB")
    c = m.kmem_cache_create("seq", 64)
    w, n = m.bits // 8, c.objs_per_slab
    raw = m.read(c.pointer, 512)
    # kmem_cache.random_seq: the one word of the struct pointing at a kmalloc'd
    # object, a shuffled sequence of the n object offsets
    seqs = []
    for o in range(0, len(raw), w):
        v = int.from_bytes(raw[o:o + w], "little")
        cache = m.virt_to_cache(v) if m.page_offset <= v < m.page_offset + (64 << 20) else None
        if cache is not None and cache.name.startswith("kmalloc") and cache.object_size >= 4 * n:
            seqs.append(v)
    assert len(seqs) == 1
    seq = seqs[0]
    with pytest.raises(memcore.InvalidAddress, match="random_seq"):
        m.kfree(seq)
    with pytest.raises(memcore.InvalidAddress, match="random_seq"):
        m.write(seq, b"\xff" * 16)
    m.kmem_cache_destroy(c)               # frees it itself
    m.check()


@pytest.mark.page_member("flags")
def test_bad_links_in_slab_and_large_kmalloc_flags_do_not_crash(variant):
    run(variant, """
        full = (1 << m.bits) - 1
        c = m.kmem_cache_create("links", 64)
        o = c.alloc()
        w = m.pgflags(o.slab.pointer)
        good = w.word
        # a slab's node and zone are SLUB's (slab_nid() indexes s->node[])
        e = raises(VMBug, setattr, w, "word", full, match="SLUB's")
        raises(VMBug, setattr, w, "word", good ^ (1 << (m.bits - 2)), match="SLUB's")
        assert w.word == good
        w.word = good | 1 << 5               # flag bits are fine
        w.word = good
        o.free()
        m.kmem_cache_shrink(c)
        m.check()
        k = m.kmalloc(3 * 4096)
        pfn = (k.address - m.page_offset) >> 12
        good = m.page(pfn).flags.word
        m.page(pfn).flags.word = full
        raises(VMBug, k.free, match="flags word")
        m.page(pfn).flags.word = good
        k.free()
    """)


@pytest.mark.page_member("flags")
def test_bad_links_in_a_free_page_do_not_crash_the_buddy_allocator(variant):
    run(variant, """
        full = (1 << m.bits) - 1
        f = m.alloc_folio()
        m.drain_pcp()
        g = m.alloc_folio()
        buddy = f.pfn ^ 1
        good = m.page(buddy).flags.word
        m.page(buddy).flags.word = full
        for x in (f, g):
            try:
                x.put()
            except VMBug:
                pass
        m.drain_pcp()
        try:
            m.check()
        except VMBug:
            pass
        m.page(buddy).flags.word = good
    """)


# ---- links in the memmap --------------------------------------------------------------

@pytest.mark.classic_overlay
def test_memmap_links_are_not_the_apis_to_write(variant):
    """compound_head, the free lists' links and a slab's own words are followed
    by the model as pointers: a PgFlags write there used to plant garbage the
    model then dereferenced (`m.pgflags(f.pointer + 8).word = 0xdead0001;
    m.page(f.pfn).folio` segfaulted).  They are refused; the flags word, counts,
    mapping, private and memcg_data stay writable."""
    run(variant, """
        w = m.bits // 8
        f = m.alloc_folio(2)
        snap = (m.stats()["pgalloc"], m.stats()["pgfree"])
        for off in (w, ):                                   # compound_head / lru.next
            for addr in (f.pointer + off, m.page(f.pfn + 1).pointer + off):
                v = m.pgflags(addr)
                raises(InvalidAddress, setattr, v, "word", 0xdead0001, match="not the API's")
                raises(InvalidAddress, v.set, 0, match="not the API's")
                raises(InvalidAddress, v.pgflags_lock, match="not the API's")
        m.page(f.pfn).folio                                 # still sane
        free = next(p for p in range(m.nr_pfns) if m.page(p).buddy_order is not None)
        raises(InvalidAddress, setattr, m.pgflags(m.page(free).pointer + 2 * w), "word", 1)
        o = m.kmalloc(64)
        sl = o.slab.pointer
        raises(InvalidAddress, setattr, m.pgflags(sl + 2 * w), "word", 0xdead0000)
        # still writable: a folio's mapping (bad page state for the checks to find)
        mapping = f.pointer + 3 * w
        m.pgflags(mapping).word = 0
        assert (m.stats()["pgalloc"], m.stats()["pgfree"]) == snap
        assert f.put()
        assert m.check()
    """)
