#!/usr/bin/env python3
"""A seeded random fuzzer of memcore's whole Machine API.

    python tests/fuzz_api.py --calls 100000 --variant classic64 --seed N
    python tests/fuzz_api.py --calls 20000                   # every variant
    python tests/fuzz_api.py --replay classic64:SEED:CHUNK   # print a chunk's calls as a script

It makes mostly valid calls (folios: alloc, get/put, freeze, locks with
several modeled tasks, flags; pages and flags words; SLUB caches, kmalloc,
kfree_rcu; RCU; bulk ops; page tables; the page cache, the folio walker and
compaction; stats, walk, zones, dumps) and invalid ones: wrong
types, out-of-range integers, addresses that are no object, views of another
machine, views made with ``cls.__new__(cls)``, and STALE views (views of
folios, objects and caches the fuzzer freed, kept and used later).

The calls run in chunks (``--chunk`` calls on a fresh Machine), each in its
own subprocess, so a crash (negative exit code) or a hang (timeout) is seen
and counted.  A chunk's calls depend only on (variant, seed, chunk index),
so any finding can be replayed.  Outcomes of a call:

* ``ok``; ``expected``: a memcore.MemcoreError, TypeError or ValueError;
* findings: ``crash``, ``hang``, ``foreign`` (any other exception type),
  ``state-changed`` (a call raised but the machine's state digest,
  ``Machine._state_digest()``, differs), ``stale-accepted`` (a mutating call
  through a view of something the fuzzer had freed returned normally: it
  acted on freed or reused memory; reads and writes of a freed object's
  bytes are not counted: without KASAN the kernel does not see them either),
  ``check-failed`` (``m.check()``, run
  every ``--check-every`` calls and at a chunk's end, raised).

Each distinct finding (kind, exception, method) is reported with the seed,
chunk and call index, the last calls before it, and a minimized Python
reproducer (``--no-minimize`` to skip).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- call records ----------------------------------------------------------------------


class Ref:
    """A variable of the call sequence (an earlier call's result, or m, rcu, ...)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


class Expr:
    """A Python expression evaluated at call time (raw views, foreign objects)."""
    __slots__ = ("src",)

    def __init__(self, src):
        self.src = src

    def __repr__(self):
        return self.src


def _address_of(view):
    """The modeled address a view names: a struct's pointer, an object's address."""
    for attr in ("pointer", "address"):
        try:
            return getattr(view, attr)
        except AttributeError:
            continue
        except Exception:
            return None
    return None


def _fmt(v):
    if isinstance(v, (Ref, Expr)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + "".join(_fmt(x) + ", " for x in v) + ")"
    if isinstance(v, float) and v != v:
        return "float('nan')"
    if isinstance(v, type):
        return v.__name__
    return repr(v)


@dataclass
class Call:
    idx: int
    op: str                  # "call", "get" (attribute), "set" (attribute)
    recv: object             # Ref or Expr
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    out: str | None = None   # variable the result is stored in
    mutating: bool = False   # changes state when it succeeds (for stale-accepted)
    stale: bool = False      # the receiver or an argument is a stale view
    may_change: bool = False  # may raise and still change state by design (see below)

    def src(self):
        r = _fmt(self.recv)
        if self.op == "get":
            e = f"{r}.{self.name}"
        elif self.op == "set":
            e = f"setattr({r}, {self.name!r}, {_fmt(self.args[0])})"
        else:
            parts = [_fmt(a) for a in self.args]
            parts += [f"{k}={_fmt(v)}" for k, v in self.kwargs.items()]
            e = f"{r}.{self.name}({', '.join(parts)})"
        return f"{self.out} = {e}" if self.out else e

    def refs(self):
        out = set()

        def walk(v):
            if isinstance(v, Ref):
                out.add(v.name)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    walk(x)
        walk(self.recv)
        for a in self.args:
            walk(a)
        for a in self.kwargs.values():
            walk(a)
        return out


class FuzzCallbackError(Exception):
    """Raised on purpose by fuzzer RCU callbacks and slab constructors."""


# Exceptions that may leave state changed by design, so the digest comparison
# skips them: docs/ARCHITECTURE.md, "Decisions and deviations":
# * "An RCU callback that raises does not stop its batch: the rest run, then
#   the first error propagates from whatever ended the grace period." -- the
#   grace period ended and its callbacks ran.
# * "Constructors ... One that raises makes allocate_slab() free the new slab
#   and the allocation raise that exception" -- a slab was allocated and freed
#   (vmstat counters, the random state and pcp lists moved).
DESIGNED_STATE_CHANGERS = (FuzzCallbackError,)

# Page-allocation failures change state by design: 6.18 fails one only after
# get_page_from_freelist() has set ZONE_BELOW_HIGH on every zone whose
# high-watermark check failed (mm/page_alloc.c, get_page_from_freelist();
# the model's page_alloc.pxi keeps it); and on the descriptor designs
# folio_alloc(), allocate_slab() and pagetable_alloc() take the descriptor
# from its cache before the pages and free it when they get none (the
# plan's FolioAlloc order): the cache's kmem_cache_cpu.tid moves, and a
# cache that needed a new slab for that descriptor keeps it, empty.  Such a
# failure is "designed" only if nothing else moved: alloc_failure_ok().
ALLOC_FAILURES = ("page allocation failure", "SLUB: Unable to allocate memory",
                  "kmalloc_large: page allocation failure")


def is_alloc_failure(e):
    return (type(e).__name__ == "OutOfMemory" and bool(e.args) and isinstance(e.args[0], str)
            and e.args[0].startswith(ALLOC_FAILURES))


def alloc_failure_ok(m, s0, s1):
    """After a failed allocation (m.stats() before and after): only the
    descriptor caches changed, each holding the objects it held, except that
    slab_desc holds one more struct slab per slab they grew (and one less per
    slab they freed); no page changed hands but into or out of their slabs."""
    desc = set(m._descriptor_cache_names())
    c0, c1 = s0["slab_caches"], s1["slab_caches"]
    if set(c0) != set(c1):
        return False
    new_slabs = pages = 0
    for name in c0:
        a, b = c0[name], c1[name]
        if name not in desc:
            if a != b:
                return False
            continue
        pages += b["pages"] - a["pages"]
        if name == "slab_desc":             # its own slabs hold their descriptor
            continue
        if a["objects_inuse"] != b["objects_inuse"]:
            return False                    # a descriptor was not given back
        new_slabs += b["slabs"] - a["slabs"]
    if "slab_desc" in c0 and \
            c1["slab_desc"]["objects_inuse"] - c0["slab_desc"]["objects_inuse"] != new_slabs:
        return False
    p0, p1 = s0["pages"], s1["pages"]
    if any(p0[k] != p1[k] for k in p0 if k not in ("free_buddy", "refcount_zero", "slab")):
        return False
    return p1["slab"] - p0["slab"] == pages and \
        s0["large_kmalloc_pages"] == s1["large_kmalloc_pages"]


PRELUDE = '''\
import memcore, sys
from memcore import errors
class FuzzCallbackError(Exception):
    pass
_n = [0]
def cb_ok():
    _n[0] += 1
def cb_raise():
    raise FuzzCallbackError("rcu callback")
def ctor_ok(obj):
    _n[0] += 1
def ctor_raise(obj):
    raise FuzzCallbackError("ctor")
m = memcore.Machine({ram!r}, design={design!r}, bits={bits}, cpus={cpus}, nodes={nodes}, kasan={kasan})
m2 = memcore.Machine({ram!r}, design={design!r}, bits={bits})
rcu = m.rcu
_mod = sys.modules[type(m).__module__]
Page, Folio, PgFlags, Task = _mod.Page, _mod.Folio, _mod.PgFlags, _mod.Task
KmemCache, Slab, SlabObject = _mod.KmemCache, _mod.Slab, _mod.SlabObject
'''

EXPECTED = None  # set in setup_env: (MemcoreError, TypeError, ValueError)

# ---- the generator ---------------------------------------------------------------------

BAD_INTS = [-1, 2**31, 2**32, 2**63, 2**64, -2**63 - 1, 2**100]
BAD_VALUES = [None, "x", "", 1.5, float("nan"), True, [], [1], b"", object] + BAD_INTS
# flags the fuzzer sets and clears freely: none the allocator checks at free
SAFE_FLAGS = ["dirty", "referenced", "uptodate", "active", "workingset", "checked",
              "private_2", "owner_2", "savepinned", "foreign", "arch_1", "error",
              "mappedtodisk", "dropbehind", "reclaim"]
FOLIO_FLAG_OPS = ("test_", "set_", "clear_", "test_set_", "test_clear_")
VALID_GFPS = 5      # the first five are plain valid masks
GFPS = ["GFP_KERNEL", "GFP_ATOMIC", "GFP_NOWAIT", "GFP_KERNEL|__GFP_ZERO", "GFP_KERNEL_ACCOUNT",
        "GFP_DMA", "GFP_KERNEL|__GFP_RECLAIMABLE", "__GFP_MOVABLE|__GFP_RECLAIMABLE",
        "GFP_HIGHUSER_MOVABLE", "GFP_KERNEL|__GFP_DMA32", 0,
        "__GFP_BOGUS", "GFP_KERNEL|", "|", -1, 2**64]
SLAB_FLAG_SETS = [(), "SLAB_HWCACHE_ALIGN", ["SLAB_RED_ZONE", "SLAB_POISON"],
                  "SLAB_TYPESAFE_BY_RCU", "SLAB_RECLAIM_ACCOUNT", ["SLAB_POISON"],
                  ["SLAB_RED_ZONE"], "SLAB_ACCOUNT", "SLAB_BOGUS", 0]
ZONES = [None, None, "Normal", "DMA", "DMA32", "HighMem", "Movable", "bogus"]
TASK_NAMES = ["A", "B", "C", "D"]
KMALLOC_SIZES = [0, 1, 8, 16, 24, 64, 96, 100, 192, 256, 1000, 4096, 8192, 8193,
                 16384, 65536, 2**20, 4 * 2**20, 2**30]


# calls whose positional arguments are objects or caches (a stale one must be refused)
STALE_ARG_CALLS = {"kfree", "kfree_rcu", "kmem_cache_free", "kmem_cache_alloc",
                   "kmem_cache_destroy", "kmem_cache_shrink", "bulk_kmem_cache_alloc_free"}


class Gen:
    """Chooses the next call from a seeded RNG and what it knows of the pools."""

    def __init__(self, rng, variant, flag_methods, invalid=0.2, raw=0.01):
        self.r = rng
        self.raw = raw                          # share of bad values that are cls.__new__(cls) views
        self.kasan = False
        self.valid_only = False                 # no bad arguments, stale or raw views
        self.variant = variant
        self.invalid = invalid
        self.n = 0
        self.flag_methods = flag_methods       # Folio flag helper names, for fuzzing
        self.safe_flag_methods = [n for n in flag_methods
                                  if any(n == op + f for op in FOLIO_FLAG_OPS for f in SAFE_FLAGS)]
        # pools: variable name -> info; addresses let aliases go stale together
        self.folios = {}          # live owned folios: var -> addr
        self.frozen = {}          # frozen folios: var -> count they were frozen at
        self.objs = {}            # live slab objects: var -> (addr, cache var or None)
        self.caches = {}          # live caches: var -> name
        self.cache_objs = {}      # cache var -> set of object vars
        self.stale = []           # stale views (vars)
        self.stale_set = set()
        self.stale_by = {"folio": [], "obj": [], "cache": []}   # the same, by kind
        self.views = []           # lookup views (pages, folios, flags, slabs) not owned
        self.vtype = {}           # view var -> its class name
        self.own_flags = {}       # flags views of owned folios: var -> folio var
        self.pfn_arrays = []      # bulk_alloc results not yet put
        self.tables = []          # pagetable_alloc() Pages (freed ones stay: a double free)
        self.mappings = []        # AddressSpace vars
        self.cached = {}          # folio vars of page-cache folios -> references the var owns
        self.tasks = ["cur"]      # task vars
        self.ints = []            # addresses seen (ints)
        self.nr_cache = 0
        self.max_pfn = 1

    # helpers
    def pick(self, seq):
        return seq[self.r.randrange(len(seq))]

    def chance(self, p):
        return self.r.random() < p

    def task(self):
        if self.chance(0.5):
            return None
        return Ref(self.pick(self.tasks))

    def bad(self):
        r = self.r.random()
        if r < 0.12 and self.stale:
            return Ref(self.pick(self.stale))
        if r < 0.12 + self.raw:
            return Expr(self.pick(["Folio.__new__(Folio)", "Page.__new__(Page)",
                                   "SlabObject.__new__(SlabObject)", "KmemCache.__new__(KmemCache)",
                                   "PgFlags.__new__(PgFlags)", "Task.__new__(Task)",
                                   "Slab.__new__(Slab)"]))
        if r < 0.2 + self.raw:
            return Expr(self.pick(["m2.alloc_folio()", "m2.current", "m2.kmalloc(64)",
                                   "m2.kmem_cache('kmalloc-64')", "m2.page(100)"]))
        if r < 0.28 + self.raw and self.views:
            return Ref(self.pick(self.views))
        return self.pick(BAD_VALUES)

    def stale_ref(self, kind):
        if self.valid_only:
            return None
        pool = [v for v in self.stale_by[kind] if v in self.stale_set]
        self.stale_by[kind] = pool
        return Ref(self.pick(pool)) if pool else None

    def folio_ref(self, lookup=False):
        """A folio: live (mostly), stale, or (lookup: for reads) a lookup view."""
        r = self.r.random()
        if r < 0.08 and self.stale_by["folio"]:
            return self.stale_ref("folio")
        if r < 0.12 and lookup:
            fv = [v for v in self.views if self.vtype.get(v) == "Folio"]
            if fv:
                return Ref(self.pick(fv))
        if self.folios:
            return Ref(self.pick(list(self.folios)))
        return None

    def obj_ref(self):
        r = self.r.random()
        if r < 0.08 and self.stale_by["obj"]:
            return self.stale_ref("obj")
        if self.objs:
            return Ref(self.pick(list(self.objs)))
        return None

    def cache_ref(self):
        r = self.r.random()
        if r < 0.06 and self.stale_by["cache"]:
            return self.stale_ref("cache")
        if r < 0.35 or not self.caches:
            return self.pick(["kmalloc-64", "kmalloc-8", "kmalloc-rcl-128", "kmalloc-8k",
                              "kmem_cache", "kmem_cache_node", "dma-kmalloc-512", "nope"])
        return Ref(self.pick(list(self.caches)))

    def addr(self):
        if self.valid_only:
            return self.pick(self.ints) if self.ints else 0xffff888000100000
        if self.ints and self.chance(0.7):
            a = self.pick(self.ints)
            return a + self.pick([0, 0, 1, 8, 63, -8, 4096])
        return self.pick([0, 16, 0xffff888000000000, 0xffffea0000000000, 0xC0000000,
                          0xffffffffffffffff, 0x10])

    def pfn(self):
        if self.valid_only:
            return self.r.randrange(max(1, self.max_pfn))
        return self.pick([0, 1, 255, 256, 4095, 4096, self.max_pfn - 1, self.max_pfn,
                          self.r.randrange(max(1, self.max_pfn))])

    def new(self, op, recv, name, args=(), kwargs=None, out=False, mutating=False):
        c = Call(self.n, op, recv, name, tuple(args), dict(kwargs or {}),
                 out=(f"v{self.n}" if out else None), mutating=mutating)
        return c

    # the menu
    def next_call(self):
        self.n += 1
        c = None
        while c is None:
            c = self.pick(self.MENU)(self)
        self.n  # noqa
        c.idx = self.n
        if c.out:
            c.out = f"v{self.n}"
        if self.chance(self.invalid) and c.op == "call" and not self.valid_only:
            self.mutate(c)
        c.stale = (isinstance(c.recv, Ref) and c.recv.name in self.stale_set) or (
            c.name in STALE_ARG_CALLS and c.recv.name == "m"
            and any(isinstance(a, Ref) and a.name in self.stale_set for a in c.args))
        return c

    def mutate(self, c):
        """Make one argument invalid (or add a bogus keyword)."""
        slots = [("a", i) for i in range(len(c.args))] + [("k", k) for k in c.kwargs]
        if not slots or self.chance(0.1):
            if self.chance(0.5):
                c.kwargs["bogus_kw"] = 1
            else:
                c.args = c.args + (self.bad(),) * self.r.randint(1, 3)
            return
        kind, key = self.pick(slots)
        bad = self.bad()
        if c.name == "write" and not self.kasan and isinstance(bad, Ref) and \
                bad.name in self.stale_set:
            # a write through a freed object's view is a use-after-free the kernel
            # without KASAN cannot see either (as in g_obj_io): no stale target
            bad = self.pick(BAD_VALUES)
        if c.name.startswith("bulk_") and isinstance(bad, int) and abs(bad) > 2**16:
            bad = -1          # n = 2**31 is 2**31 iterations of work, asked for: not a hang
        if kind == "a":
            a = list(c.args)
            a[key] = bad
            c.args = tuple(a)
        else:
            c.kwargs[key] = bad

    # ---- folios and pages ----
    def g_alloc(self):
        kw = {}
        order = self.pick([0, 0, 0, 1, 2, 3, 4, 9, 10, 11])
        if self.chance(0.3):
            kw["kind"] = self.pick(["file", "anon", "slab"])
        if self.chance(0.2):
            kw["zone"] = self.pick(ZONES)
        if self.chance(0.2):
            kw["movable"] = self.chance(0.5)
        if self.chance(0.1):
            kw["node"] = self.pick([0, 1, 2])
        t = self.task()
        if t is not None:
            kw["task"] = t
        return self.new("call", Ref("m"), "alloc_folio", (order,), kw, out=True, mutating=True)

    def g_folio_ref(self):
        f = self.folio_ref()
        if f is None:
            return None
        name = self.pick(["get", "try_get", "put", "put", "put", "put", "ref_freeze",
                          "ref_unfreeze", "free_frozen", "trylock", "lock", "unlock", "unlock"])
        if f.name in self.cached and name in ("ref_freeze", "ref_unfreeze", "free_frozen"):
            name = "put"          # page-cache folios: only the references the var owns
        if f.name in self.cached and name == "put" and self.cached[f.name] <= 0:
            return None
        args = ()
        if name in ("ref_freeze", "ref_unfreeze"):
            if f.name in self.frozen and name == "ref_unfreeze":
                args = (self.frozen[f.name],)
            else:
                args = (self.pick([1, 1, 2, 3, 0]),)
        if name == "free_frozen" and self.frozen and self.chance(0.7):
            f = Ref(self.pick(list(self.frozen)))
        kw = {}
        t = self.task()
        if t is not None:
            kw["task"] = t
        return self.new("call", f, name, args, kw, mutating=name not in ("try_get",))

    def g_folio_flag(self):
        f = self.folio_ref()
        if f is None or not self.safe_flag_methods:
            return None
        if self.chance(0.1):
            name = self.pick(self.flag_methods)
            if not name.startswith("test_") or name.startswith("test_set") \
                    or name.startswith("test_clear"):
                name = "test_" + name.split("_", 1)[1] if "_" in name else name
        else:
            name = self.pick(self.safe_flag_methods)
        return self.new("call", f, name, (), {}, mutating=not name.startswith("test_")
                        or name.startswith("test_set") or name.startswith("test_clear"))

    def g_folio_read(self):
        f = self.folio_ref(lookup=True)
        if f is None:
            return None
        if self.chance(0.5):
            name = self.pick(["pfn", "order", "nr_pages", "size", "refcount",
                              "mapcount", "zone", "node", "flags", "lock_owner", "pointer", "freed"])
            return self.new("get", f, name, out=name == "flags")
        name = self.pick(["page", "page", "dump"])
        args = ((0 if self.valid_only else self.pick([0, 1, 3, 511, 512])),) \
            if name == "page" else ()
        return self.new("call", f, name, args, out=name == "page")

    def g_lookup(self):
        name = self.pick(["page", "folio", "pfn_to_page", "page_to_pfn", "pfn_to_virt",
                          "pgflags", "waiters", "folio_address", "virt_to_slab",
                          "virt_to_cache"])
        if name in ("page", "folio", "pfn_to_page", "pfn_to_virt"):
            args = (self.pfn(),)
        elif name == "folio_address":
            f = self.folio_ref()
            args = (f if f is not None else Expr("m.folio(0)"),)
        else:
            args = (self.addr(),)
        return self.new("call", Ref("m"), name, args, out=name in (
            "page", "folio", "pgflags", "virt_to_slab", "virt_to_cache", "pfn_to_page",
            "pfn_to_virt"))

    VIEW_MENU = {
        "Page": ["dump", "raw", "folio", "flags", "refcount", "mapcount", "zone", "node",
                 "buddy_order", "migratetype", "type_name", "is_tail", "is_head",
                 "compound_head", "private", "mapping", "page_type", "pfn"],
        "Folio": ["page", "dump", "flags", "refcount", "order", "lock_owner", "zone",
                  "pointer", "test_dirty", "test_large_rmappable"],
        "PgFlags": ["test", "field", "names", "word", "zone", "zone_idx", "node", "section",
                    "last_cpupid"],
        "Slab": ["free_objects", "dump", "slab_cache", "inuse", "objects", "frozen",
                 "freelist", "counters", "order", "on_node_partial", "memory", "pfn"],
        "KmemCache": ["name", "object_size", "size", "align", "offset", "order", "objs_per_slab",
                      "cpu_slab", "node_partial_slabs", "slabs", "objects_inuse", "flags"],
    }
    VIEW_CALLS = {"dump", "raw", "page", "test_dirty", "test_large_rmappable",
                  "test", "set", "clear", "test_and_set", "test_and_clear", "field", "names",
                  "pgflags_trylock", "pgflags_lock", "pgflags_unlock", "free_objects",
                  "cpu_slab", "node_partial_slabs"}

    def g_view(self):
        """Lookup views (m.page(), m.folio(), flags, slabs, caches): read-only, since the
        model cannot tell a caller's page from another's (neither can the kernel);
        except flags words of owned folios, which get set/clear and the bit lock."""
        if self.own_flags and self.chance(0.3):
            var = self.pick(list(self.own_flags))
            name = self.pick(["set", "clear", "test_and_set", "test_and_clear", "test",
                              "pgflags_trylock", "pgflags_lock", "pgflags_unlock",
                              "pgflags_unlock"])
        elif not self.views:
            return None
        else:
            var = self.pick(self.views)
            name = self.pick(self.VIEW_MENU[self.vtype[var]])
        v = Ref(var)
        if name not in self.VIEW_CALLS:
            return self.new("get", v, name, out=name in ("folio", "flags", "slab_cache"))
        args = ()
        kw = {}
        if name in ("test", "set", "clear", "test_and_set", "test_and_clear"):
            args = (self.pick(SAFE_FLAGS[:6] + ["PG_dirty", 3, "bogus", 999]),)
        elif name == "field":
            args = (self.pick(["zone", "node", "section", "last_cpupid", "flags", "nope"]),)
        elif name in ("pgflags_trylock", "pgflags_lock", "pgflags_unlock", "trylock", "put",
                      "get", "unlock"):
            t = self.task()
            if t is not None:
                kw["task"] = t
        elif name in ("page", "cpu_slab", "node_partial_slabs"):
            args = (0 if self.valid_only else self.pick([0, 1]),)
        return self.new("call", v, name, args, kw, out=name in ("page", "cpu_slab"),
                        mutating=name.startswith(("set", "clear", "test_and", "pgflags_")))

    def g_word_set(self):
        """Only values that must be refused: a valid word would corrupt the page (a
        caller's bug the model, like the kernel, cannot see)."""
        if self.valid_only:
            return None
        fl = [v for v in self.views if self.vtype.get(v) == "PgFlags"]
        if not fl:
            return None
        bad = self.bad()
        if isinstance(bad, int) and 0 <= bad < 2**64:
            bad = self.pick([-1, 2**64, 2**100, -2**63 - 1, 1.0, "0"])
        return self.new("set", Ref(self.pick(fl)), "word", (bad,), mutating=True)

    # ---- machine-wide ----
    def g_info(self):
        name = self.pick(["stats", "walk", "zones", "free_area", "check", "slabinfo",
                          "caches", "drain_pcp", "nr_pfns", "tasks", "current",
                          "page_offset", "memmap_address", "sizeof_page", "min_free_kbytes"])
        if name in ("nr_pfns", "tasks", "current", "page_offset", "memmap_address",
                    "sizeof_page", "min_free_kbytes"):
            return self.new("get", Ref("m"), name)
        args = ()
        if name == "free_area":
            args = (self.pick([0, 0, 1]), self.pick([None, "Normal", "DMA32", "DMA", "x"]))
        return self.new("call", Ref("m"), name, args, mutating=name == "drain_pcp")

    def g_task(self):
        if self.chance(0.7) and len(self.tasks) < 5:
            name = self.pick(TASK_NAMES)
            args = (name,) if self.chance(0.5) else (name, self.pick([0, 1, 3, 64]))
            return self.new("call", Ref("m"), "task", args, out=True)
        t = Ref(self.pick(self.tasks))
        if self.chance(0.4):
            return self.new("set", Ref("m"), "current", (t,))
        name = self.pick(["waiting", "waiting_on", "waiting_for", "rcu_nesting",
                          "in_rcu_read_section", "cpu", "name", "id"])
        return self.new("get", t, name)

    def g_bulk(self):
        name = self.pick(["bulk_alloc_free", "bulk_alloc", "bulk_put", "bulk_put",
                          "bulk_kmem_cache_alloc_free"])
        kw = {}
        t = self.task()
        if t is not None:
            kw["task"] = t
        if name == "bulk_put":
            if not self.pfn_arrays:
                return None
            return self.new("call", Ref("m"), name, (Ref(self.pick(self.pfn_arrays)),), kw,
                            mutating=True)
        if name == "bulk_kmem_cache_alloc_free":
            return self.new("call", Ref("m"), name, (self.cache_ref(), self.pick([0, 1, 10, 100])),
                            kw, mutating=True)
        args = (self.pick([0, 1, 4, 32, 100]),)
        if self.chance(0.5):
            kw["order"] = self.pick([0, 1, 3])
        if self.chance(0.3):
            kw["movable"] = self.chance(0.5)
        return self.new("call", Ref("m"), name, args, kw, out=name == "bulk_alloc",
                        mutating=True)

    # ---- RCU ----
    def g_rcu(self):
        name = self.pick(["rcu_read_lock", "rcu_read_unlock", "rcu_read_unlock",
                          "synchronize_rcu", "call_rcu", "call_rcu", "advance", "advance",
                          "barrier", "gp_seq", "pending", "holdouts", "slabs_waiting"])
        if name in ("advance", "barrier"):
            return self.new("call", Ref("rcu"), name, mutating=True)
        if name in ("gp_seq", "pending", "holdouts", "slabs_waiting"):
            return self.new("get", Ref("rcu"), name)
        if name == "call_rcu":
            cb = Ref("cb_raise") if self.chance(0.05) else Ref("cb_ok")
            return self.new("call", Ref("m"), name, (cb,), mutating=True)
        kw = {}
        t = self.task()
        if t is not None:
            kw["task"] = t
        return self.new("call", Ref("m"), name, (), kw, mutating=True)

    # ---- SLUB ----
    def g_cache_create(self):
        if len(self.caches) > 12:
            return None
        self.nr_cache += 1
        name = self.pick([f"fz{self.nr_cache}", f"fz{self.nr_cache}", "kmalloc-64", "",
                          f"fz{max(1, self.nr_cache - 1)}"])
        size = self.pick([1, 8, 24, 40, 64, 100, 256, 700, 4096, 5000, 65536, 0, 2**20])
        kw = {}
        if self.chance(0.3):
            kw["align"] = self.pick([0, 8, 64, 3, 4096])
        if self.chance(0.5):
            kw["flags"] = self.pick(SLAB_FLAG_SETS)
        if self.chance(0.15):
            kw["ctor"] = Ref(self.pick(["ctor_ok", "ctor_ok", "ctor_raise"]))
        if self.chance(0.1):
            kw["freeptr_offset"] = self.pick([0, 8, 16, 7, size])
        return self.new("call", Ref("m"), "kmem_cache_create", (name, size), kw, out=True,
                        mutating=True)

    def g_cache_alloc(self):
        c = self.cache_ref()
        kw = {}
        if self.chance(0.3):
            kw["gfp"] = self.pick(GFPS[:VALID_GFPS] if self.valid_only else GFPS)
        if self.chance(0.1):
            kw["node"] = self.pick([0, 1, -1])
        t = self.task()
        if t is not None:
            kw["task"] = t
        if isinstance(c, Ref) and self.chance(0.3):
            return self.new("call", c, "alloc", (), kw, out=True, mutating=True)
        return self.new("call", Ref("m"), "kmem_cache_alloc", (c,), kw, out=True, mutating=True)

    def g_kmalloc(self):
        kw = {}
        if self.chance(0.3):
            kw["gfp"] = self.pick(GFPS[:VALID_GFPS] if self.valid_only else GFPS)
        t = self.task()
        if t is not None:
            kw["task"] = t
        return self.new("call", Ref("m"), "kmalloc", (self.pick(KMALLOC_SIZES),), kw, out=True,
                        mutating=True)

    def g_free(self):
        o = self.obj_ref()
        if o is None:
            return None
        name = self.pick(["kfree", "kfree", "kmem_cache_free", "free", "kfree_rcu"])
        kw = {}
        t = self.task()
        if t is not None and name != "kfree_rcu":
            kw["task"] = t
        if name == "free":
            return self.new("call", o, "free", (), kw, mutating=True)
        if name == "kmem_cache_free":
            cv = self.objs.get(o.name, (0, None, 0))[1]
            cache = Ref(cv) if cv and self.chance(0.8) else self.cache_ref()
            return self.new("call", Ref("m"), name, (cache, o), kw, mutating=True)
        if self.chance(0.1):
            o = Expr(f"{o.name}.address")
        return self.new("call", Ref("m"), name, (o,), kw, mutating=True)

    def g_obj_io(self):
        o = self.obj_ref()
        if o is None:
            return None
        if o.name in self.stale_set and not self.kasan:
            return None       # a use-after-free write the kernel without KASAN cannot see
        name = self.pick(["read", "write", "m.read", "m.write", "size", "kmem_cache", "slab",
                          "address", "virt_to_slab"])
        if name in ("size", "kmem_cache", "slab", "address"):
            return self.new("get", o, name, out=name in ("slab", "kmem_cache"))
        if name == "virt_to_slab":
            return self.new("call", Ref("m"), name, (o,), out=True)
        if name == "read":
            return self.new("call", o, "read", (self.pick([0, 0, 4, 8, 63]),
                                                self.pick([None, 1, 8, 64, 100, 4096])))
        size = self.objs[o.name][2] if o.name in self.objs else 0
        if name in ("write", "m.write") and not self.kasan:
            # in bounds: an out-of-bounds write without KASAN corrupts the neighbour,
            # in the kernel as in the model (a caller's bug neither can see)
            if size <= 0:
                return None
            off = self.r.randrange(size)
            data = bytes([self.r.randrange(256)]) * self.r.randint(1, size - off)
            if name == "write":
                return self.new("call", o, "write", (off, data))
            return self.new("call", Ref("m"), "write", (o, data[:size]))
        if name == "write":
            return self.new("call", o, "write", (self.pick([0, 1, 8, 60]),
                                                 self.pick([b"\x01" * 4, b"abcdefgh",
                                                            b"\xff" * 64, [1, 2, 3]])))
        if name == "m.read":
            return self.new("call", Ref("m"), "read", (o, self.pick([1, 8, 64, 200])))
        return self.new("call", Ref("m"), "write", (o, self.pick([b"z", b"\x00" * 16])))

    def g_cache_misc(self):
        c = self.cache_ref()
        name = self.pick(["kmem_cache_destroy", "kmem_cache_shrink", "kmem_cache_shrink",
                          "kmem_cache", "cpu_slab", "cpu_partial_slabs", "node_partial_slabs",
                          "objects_inuse", "slabs", "partial", "name", "objects",
                          "total_objects", "order", "flags", "ctor"])
        if name in ("kmem_cache_destroy", "kmem_cache_shrink"):
            return self.new("call", Ref("m"), name, (c,), mutating=True)
        if name == "kmem_cache":
            return self.new("call", Ref("m"), name, (c if isinstance(c, str) else "kmalloc-96",),
                            out=True)
        if not isinstance(c, Ref):
            c = Expr(f"m.kmem_cache({c!r})")
        if name in ("cpu_slab", "cpu_partial_slabs", "node_partial_slabs"):
            return self.new("call", c, name, (self.pick([0, 1, 2, 63, 64]),),
                            out=name == "cpu_slab")
        return self.new("get", c, name)

    def g_pagetable(self):
        """pagetable_alloc() of a (sometimes bad) order, or pagetable_free() of a
        table, of one already freed, or of any other view."""
        if self.tables and self.chance(0.5):
            return self.new("call", Ref("m"), "pagetable_free", (Ref(self.pick(self.tables)),),
                            mutating=True)
        if self.views and self.chance(0.15):
            return self.new("call", Ref("m"), "pagetable_free", (Ref(self.pick(self.views)),),
                            mutating=True)
        kw = {}
        t = self.task()
        if t is not None:
            kw["task"] = t
        return self.new("call", Ref("m"), "pagetable_alloc",
                        (self.pick([0, 0, 0, 1, 2, 3, 11, -1]),), kw, out=True, mutating=True)

    def g_pagecache(self):
        """The page cache: address_space(), add_folio() of an owned folio (often
        at a clashing or misaligned index), get_folio(), remove_folio(),
        truncate(), entries()."""
        if not self.mappings or self.chance(0.1):
            return self.new("call", Ref("m"), "address_space", (self.pick(["a", "b", "a", 7]),),
                            out=True)
        if self.chance(0.05):
            return self.new("call", Ref("m"), "compact",
                            (self.pick([None, None, "DMA", "DMA32", "Normal", "HighMem", 3]),),
                            mutating=True)
        if self.chance(0.05):
            return self.new("call", Ref("m"), "walk_folios",
                            (self.pick([0, 0, 100, -1]), self.pick([None, 4096, 1 << 62])))
        a = Ref(self.pick(self.mappings))
        op = self.pick(["add_folio"] * 3 + ["get_folio"] * 3 + ["remove_folio", "truncate",
                                                                "entries", "nrpages"])
        kw = {}
        t = self.task()
        if t is not None and op != "entries":
            kw["task"] = t
        if op == "add_folio":
            f = self.folio_ref()
            if f is None:
                return None
            return self.new("call", a, "add_folio",
                            (self.pick([0, 1, 2, 4, 8, 64, 512, 513, 4096, 1 << 30, -1]), f), kw,
                            mutating=True)
        if op == "get_folio":
            return self.new("call", a, "get_folio", (self.pick([0, 1, 2, 3, 8, 64, 600, 4096,
                                                                1 << 30]),), kw, out=True)
        if op == "remove_folio":
            f = self.folio_ref(lookup=True)
            if f is None:
                return None
            return self.new("call", a, "remove_folio", (f,), kw, mutating=True)
        if op == "truncate":
            lo = self.pick([0, 0, 1, 8, 512, 4096])
            return self.new("call", a, "truncate", (lo, lo + self.pick([1, 8, 600, 1 << 20])), kw,
                            mutating=True)
        if op == "entries":
            return self.new("call", a, "entries")
        return self.new("get", a, "nrpages")

    def g_int_addr(self):
        """Free or look at an int that is not an object (or is one: an alias)."""
        name = self.pick(["kfree", "kfree_rcu", "read", "virt_to_cache"])
        args = (self.addr(),) if name != "read" else (self.addr(), 8)
        return self.new("call", Ref("m"), name, args, mutating=name in ("kfree", "kfree_rcu"))

    MENU = ([g_alloc] * 8 + [g_folio_ref] * 14 + [g_folio_flag] * 5 + [g_folio_read] * 4
            + [g_lookup] * 5 + [g_view] * 5 + [g_word_set] * 1 + [g_info] * 3 + [g_task] * 3
            + [g_bulk] * 3 + [g_rcu] * 6 + [g_cache_create] * 2 + [g_cache_alloc] * 7
            + [g_kmalloc] * 7 + [g_free] * 10 + [g_obj_io] * 5 + [g_cache_misc] * 4
            + [g_int_addr] * 2 + [g_pagetable] * 2 + [g_pagecache] * 6)

    # ---- learning from outcomes ----
    def make_stale(self, var):
        for fv, fo in list(self.own_flags.items()):
            if fo == var:
                del self.own_flags[fv]
        kind = ("folio" if var in self.folios else "obj" if var in self.objs
                else "cache" if var in self.caches else None)
        if kind and var not in self.stale_set:
            self.stale_by[kind].append(var)
        self.folios.pop(var, None)
        self.frozen.pop(var, None)
        o = self.objs.pop(var, None)
        if o and o[1] in self.cache_objs:
            self.cache_objs[o[1]].discard(var)
        if var not in self.stale_set:
            self.stale.append(var)
            self.stale_set.add(var)
            if len(self.stale) > 200:
                old = self.stale.pop(0)
                self.stale_set.discard(old)

    def forget_addr(self, addr):
        for pool in (self.folios, self.objs):
            for var, a in list(pool.items()):
                if (a if not isinstance(a, tuple) else a[0]) == addr:
                    pool.pop(var, None)
                    self.frozen.pop(var, None)

    def stale_addr(self, addr, pool):
        for var, a in list(pool.items()):
            if (a if not isinstance(a, tuple) else a[0]) == addr:
                self.make_stale(var)

    def observe(self, c, ok, result, env):
        """Update the pools after call c (ok: it returned normally)."""
        if not ok:
            return
        recv = c.recv.name if isinstance(c.recv, Ref) else None
        if c.out and result is not None:
            tn = type(result).__name__
            if tn == "AddressSpace":
                self.mappings.append(c.out)
            elif c.name == "get_folio" and tn == "Folio":
                self.folios[c.out] = result.pointer
                self.cached[c.out] = 1
            elif c.name == "alloc_folio" and tn == "Folio":
                self.folios[c.out] = result.pointer
                self.max_pfn = max(self.max_pfn, result.pfn + 1)
            elif c.name == "pagetable_alloc" and tn == "Page":
                self.tables.append(c.out)
                if len(self.tables) > 30:
                    self.tables.pop(0)
            elif tn == "SlabObject":
                cv = None
                if c.name == "alloc" and recv in self.caches:
                    cv = recv
                elif c.name == "kmem_cache_alloc" and c.args and isinstance(c.args[0], Ref) \
                        and c.args[0].name in self.caches:
                    cv = c.args[0].name
                self.objs[c.out] = (result.address, cv, result.size)
                if cv:
                    self.cache_objs.setdefault(cv, set()).add(c.out)
                self.ints.append(result.address)
            elif tn == "KmemCache" and c.name == "kmem_cache_create":
                self.caches[c.out] = c.args[0]
            elif tn == "Task":
                if c.out not in self.tasks:
                    self.tasks.append(c.out)
            elif tn == "ndarray":
                self.pfn_arrays.append(c.out)
            elif tn == "PgFlags" and recv in self.folios and c.op == "get":
                self.own_flags[c.out] = recv
            elif tn in ("Page", "Folio", "PgFlags", "Slab", "KmemCache"):
                self.views.append(c.out)
                self.vtype[c.out] = tn
                if len(self.views) > 60:
                    self.vtype.pop(self.views.pop(0), None)
            elif isinstance(result, int) and c.name in ("pfn_to_page", "pfn_to_virt"):
                self.ints.append(result)
            if len(self.ints) > 100:
                self.ints.pop(0)
        if c.name == "nr_pfns" and isinstance(result, int):
            self.max_pfn = result
        # page-cache folios: the references each var owns (the cache holds its own)
        if c.name == "add_folio" and c.args and isinstance(c.args[1], Ref):
            self.cached.setdefault(c.args[1].name, 1)
        elif c.name in ("get", "try_get") and recv in self.cached and result is not False:
            self.cached[recv] += 1
        elif c.name == "put" and recv in self.cached:
            self.cached[recv] -= 1
        # frees
        if c.name == "put" and result is True and recv:
            addr = _address_of(env.get(recv))
            self.make_stale(recv)
            if addr is not None:
                self.stale_addr(addr, self.folios)
        elif c.name == "ref_freeze" and result is True and recv in self.folios:
            self.frozen[recv] = c.args[0]
        elif c.name == "ref_unfreeze" and recv in self.frozen:
            self.frozen.pop(recv, None)
        elif c.name == "free_frozen" and recv:
            self.make_stale(recv)
            addr = _address_of(env.get(recv))
            if addr is not None:
                self.stale_addr(addr, self.folios)
        elif c.name == "bulk_put" and c.args and isinstance(c.args[0], Ref):
            if c.args[0].name in self.pfn_arrays:
                self.pfn_arrays.remove(c.args[0].name)
        elif c.name in ("kfree", "kfree_rcu", "kmem_cache_free", "free"):
            o = c.args[-1] if c.name != "free" else c.recv
            if c.name in ("kfree", "kfree_rcu"):
                o = c.args[0] if c.args else None
            addr = None
            if isinstance(o, Ref):
                addr = _address_of(env.get(o.name))
                self.make_stale(o.name)
            elif isinstance(o, Expr) and o.src.endswith(".address"):
                v = o.src[:-len(".address")]
                addr = _address_of(env.get(v))
            elif isinstance(o, int):
                addr = o
            if addr is not None:
                self.stale_addr(addr, self.objs)
                for var, (a, _, _) in list(self.objs.items()):
                    if getattr(env.get(var), "address", None) == addr:
                        self.make_stale(var)
        elif c.name == "kmem_cache_destroy" and c.args:
            cv = c.args[0].name if isinstance(c.args[0], Ref) else None
            if cv is None:
                for var, nm in list(self.caches.items()):
                    if nm == c.args[0]:
                        cv = var
            if cv:
                self.caches.pop(cv, None)
                for o in list(self.cache_objs.pop(cv, ())):
                    self.make_stale(o)
                self.make_stale(cv)


# ---- running a chunk ---------------------------------------------------------------------

def chunk_config(variant, seed, chunk):
    rng = random.Random(f"{variant}:{seed}:{chunk}:cfg")
    design = variant.rstrip("0123456789")
    bits = int(variant[len(design):])
    ram = rng.choice(["128MiB", "128MiB", "256MiB"])
    nodes = rng.choice([1, 1, 2]) if bits == 64 and ram == "256MiB" else 1
    cfg = dict(ram=ram, design=design, bits=bits, cpus=rng.choice([1, 2, 2, 4]), nodes=nodes,
               kasan=rng.random() < 0.3)
    if random.Random(f"{seed}:{chunk}:holes").random() < 0.25:
        # RAM with holes (the same draw for every variant of a seed and chunk):
        # below 1 MiB, and a whole memory section without a memmap (x86_64: 128-256 MiB)
        cfg["ram"] = HOLES_RAM[bits]
        cfg["nodes"] = 1
    return cfg


HOLES_RAM = {64: [(0x1000, 0x9fc00), (0x100000, 120 << 20), (256 << 20, 300 << 20)],
             32: [(0x1000, 0x9fc00), (0x100000, 120 << 20), (600 << 20, 700 << 20)]}


def setup_env(cfg):
    env = {}
    exec(PRELUDE.format(**cfg), env)
    env["cur"] = env["m"].current
    import memcore
    global EXPECTED
    EXPECTED = (memcore.MemcoreError, TypeError, ValueError)
    return env


def resolve(v, env):
    if isinstance(v, Ref):
        return env[v.name]
    if isinstance(v, Expr):
        return eval(v.src, env)
    if isinstance(v, list):
        return [resolve(x, env) for x in v]
    return v


def execute(c, env):
    recv = resolve(c.recv, env)
    if c.op == "get":
        return getattr(recv, c.name)
    args = [resolve(a, env) for a in c.args]
    if c.op == "set":
        setattr(recv, c.name, args[0])
        return None
    kwargs = {k: resolve(v, env) for k, v in c.kwargs.items()}
    return getattr(recv, c.name)(*args, **kwargs)


def flag_methods(env):
    F = env["Folio"]
    return sorted(n for n in dir(F) if n.startswith(FOLIO_FLAG_OPS) and callable(getattr(F, n)))


def classify_exc(e):
    if isinstance(e, DESIGNED_STATE_CHANGERS) or type(e).__name__ == "FuzzCallbackError":
        return "designed"
    # any exception a constructor raised (memcore adds this note): its slab's pages
    # went through the page allocator (docs/ARCHITECTURE.md, "Constructors ...")
    if any("raised by a slab constructor" in n for n in getattr(e, "__notes__", ())):
        return "designed"
    if isinstance(e, EXPECTED):
        return "expected"
    return "foreign"


def run_chunk(variant, seed, chunk, ncalls, check_every=200, trace=None, invalid=0.2,
              digest=True, max_findings=500, skip=(), raw=0.01, slow=2.0, valid_only=False):
    """Run one chunk in this process; returns (counts, findings)."""
    cfg = chunk_config(variant, seed, chunk)
    env = setup_env(cfg)
    m = env["m"]
    gen = Gen(random.Random(f"{variant}:{seed}:{chunk}"), variant, flag_methods(env),
              invalid=invalid, raw=raw)
    gen.max_pfn = m.nr_pfns
    gen.kasan = cfg["kasan"]
    gen.valid_only = valid_only
    counts = Counter()
    findings = []
    ring = []
    has_digest = digest and hasattr(m, "_state_digest")

    seen = {}

    def finding(kind, c, detail):
        counts["finding:" + kind] += 1
        fd = dict(kind=kind, variant=variant, seed=seed, chunk=chunk,
                  index=c.idx if c else ncalls, call=c.src() if c else "m.check()",
                  method=(c.name if c else "check"), detail=detail[:600], count=1,
                  skip=sorted(skip))
        sig = signature(fd)
        if sig in seen:
            seen[sig]["count"] += 1
            return
        fd.update(last=[x.src() for x in ring[-21:-1]], cfg=cfg)
        seen[sig] = fd
        findings.append(fd)

    for i in range(ncalls):
        c = gen.next_call()
        ring.append(c)
        if len(ring) > 40:
            del ring[:20]
        if c.idx in skip:               # crashed or hung in an earlier run: not executed
            counts["skipped"] += 1
            gen.observe(c, False, None, env)
            continue
        if trace:
            trace.write(f"{c.idx}\t{c.src()}\n")
            trace.flush()
        d0 = m._state_digest() if has_digest else None
        s0 = m.stats() if has_digest else None
        t0 = time.perf_counter()
        try:
            res = execute(c, env)
        except BaseException as e:  # noqa: BLE001 - classifying is the point
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            kind = classify_exc(e)
            counts[kind] += 1
            if kind == "foreign":
                finding("foreign", c, f"{type(e).__module__}.{type(e).__name__}: {e}")
            elif kind == "expected" and has_digest:
                d1 = m._state_digest()
                if d1 != d0 and is_alloc_failure(e) and alloc_failure_ok(m, s0, m.stats()):
                    counts["expected"] -= 1     # what the kernel changes before it fails
                    counts["designed"] += 1
                elif d1 != d0:
                    finding("state-changed", c, f"{type(e).__name__}: {e}")
            gen.observe(c, False, None, env)
            if c.out:
                env.pop(c.out, None)
        else:
            counts["ok"] += 1
            if c.out:
                env[c.out] = res
            if c.stale and c.mutating:
                finding("stale-accepted", c, f"returned {res!r:.80}")
                # whatever it hit is not what the pools think: forget the views of that
                # memory (not stale: no call of theirs freed them, so a reproducer
                # could not show it)
                for v in c.refs():
                    if v in gen.stale_set:
                        a = getattr(env.get(v), "addr", None)
                        if a is not None:
                            gen.forget_addr(a)
            gen.observe(c, True, res, env)
        if time.perf_counter() - t0 > slow:
            finding("slow", c, f"took {time.perf_counter() - t0:.1f} s")
        if len(findings) >= max_findings:
            break
        if check_every and (i + 1) % check_every == 0:
            try:
                m.check()
            except BaseException as e:  # noqa: BLE001
                finding("check-failed", c, f"{type(e).__name__}: {e}")
                break
    else:
        try:
            m.check()
        except BaseException as e:  # noqa: BLE001
            finding("check-failed", None, f"{type(e).__name__}: {e}")
    counts["calls"] = gen.n
    return counts, findings


# ---- reproducers -------------------------------------------------------------------------

REPRO_RUNNER = '''
_E = (memcore.MemcoreError, TypeError, ValueError, FuzzCallbackError)
def _t(f):
    try:
        return f()
    except Exception:        # the fuzzer went on after any exception, so does this
        return None
'''


def repro_script(cfg, lines, last, kind):
    """A standalone script: lines run with expected errors ignored; the last shows the finding."""
    out = [PRELUDE.format(**cfg), "cur = m.current", REPRO_RUNNER]
    for ln in lines:
        if " = " in ln.split("(")[0]:
            var, expr = ln.split(" = ", 1)
            out.append(f"{var} = _t(lambda: {expr})")
        else:
            out.append(f"_t(lambda: {ln})")
    expr = last.split(" = ", 1)[1] if " = " in last.split("(")[0] else last
    if expr.startswith("setattr("):
        pass
    out.append("# the finding:")
    if kind == "state-changed":
        out += ["_d0 = m._state_digest()", "try:", f"    {expr}", "except _E as e:",
                "    print('raised', type(e).__name__, e)",
                "    print('STATE CHANGED' if m._state_digest() != _d0 else 'state kept')"]
    elif kind == "stale-accepted":
        out += [f"print('returned', repr({expr}), '(a stale view was accepted)')"]
    elif kind == "check-failed":
        out += [f"_t(lambda: {expr})", "m.check()"]
    else:
        out += [expr]
    return "\n".join(out) + "\n"


def run_script(src, timeout=60):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(src)
        path = f.name
    try:
        p = subprocess.run([sys.executable, path], capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", ""
    finally:
        os.unlink(path)


def reproduces(kind, detail, rc, out):
    if kind == "crash":
        return isinstance(rc, int) and rc < 0
    if kind == "hang":
        return rc == "timeout"
    if kind == "foreign":
        exc = detail.split(":", 1)[0].rsplit(".", 1)[-1]
        return rc == 1 and f"{exc}:" in out.strip().splitlines()[-1] if out.strip() else False
    if kind == "state-changed":
        return rc == 0 and "STATE CHANGED" in out
    if kind == "stale-accepted":
        return rc == 0 and "stale view was accepted" in out
    if kind == "check-failed":
        return rc != 0 and isinstance(rc, int) and rc > 0
    return False


def minimize(fd, lines, budget=40):
    """Greedy: the last call plus as few earlier calls as still show the finding."""
    kind, last, cfg = fd["kind"], fd["call"], fd["cfg"]
    runs = 0

    def test(ls):
        nonlocal runs
        if not _closed(ls + [last]):
            return False          # a line would use a variable no kept line defines
        runs += 1
        rc, out = run_script(repro_script(cfg, ls, last, kind))
        return reproduces(kind, fd["detail"], rc, out)

    uses = _names(last)
    # a stale view must stay stale: keep every call that touches its variables
    keep = {ln for ln in lines if _names(ln) & uses or "kmem_cache_destroy" in ln} \
        if kind == "stale-accepted" else set()
    # 1. nothing before it; 2. the calls its variables depend on; 3. the whole prefix
    if not keep and test([]):
        return []
    dep = []
    need = set(uses)
    for ln in reversed(lines):
        var = ln.split(" = ", 1)[0] if " = " in ln.split("(")[0] else None
        if (var and var in need) or (_names(ln) & need):
            dep.append(ln)
            need |= _names(ln)
    dep.reverse()
    dep_k = [ln for ln in lines if ln in keep or ln in dep]
    cur = None
    if dep_k and test(dep_k):
        cur = dep_k
    elif test(lines):
        cur = list(lines)
    if cur is None:
        return None
    # ddmin: drop chunks, halving their size when none can go
    n = 2
    while len(cur) > 0 and runs < budget:
        size = -(-len(cur) // n)
        for start in range(0, len(cur), size):
            block = cur[start:start + size]
            if any(ln in keep for ln in block):
                continue
            cand = cur[:start] + cur[start + size:]
            if runs >= budget:
                break
            if test(cand):
                cur = cand
                n = max(n - 1, 2)
                break
        else:
            if size == 1:
                break
            n = min(len(cur), n * 2)
    return cur


def _closed(lines):
    defined = set()
    for ln in lines:
        var = ln.split(" = ", 1)[0] if " = " in ln.split("(")[0] else None
        if _names(ln.split(" = ", 1)[1] if var else ln) - defined:
            return False
        if var:
            defined.add(var)
    return True


def _names(src):
    import re
    return set(re.findall(r"\bv\d+\b", src))


# ---- the parent: chunks in subprocesses ----------------------------------------------------

def worker_cmd(variant, seed, chunk, ncalls, args, trace=None, skip=()):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--variant", variant,
           "--seed", str(seed), "--chunk-index", str(chunk), "--chunk", str(ncalls),
           "--check-every", str(args.check_every), "--invalid", str(args.invalid),
           "--raw", str(args.raw)]
    if getattr(args, "valid_only", False):
        cmd.append("--valid-only")
    if args.no_digest:
        cmd.append("--no-digest")
    if trace:
        cmd += ["--trace", trace]
    if skip:
        cmd += ["--skip", ",".join(map(str, skip))]
    return cmd


def run_worker_subprocess(variant, seed, chunk, ncalls, args):
    """Runs a chunk; returns (counts, findings).  A crash or a hang is a finding:
    the chunk runs again without that call (up to --max-crashes times)."""
    timeout = max(60.0, ncalls * 0.02) * args.timeout_scale
    skip = []
    crashes = []
    counts = Counter()
    while True:
        with tempfile.NamedTemporaryFile("r", suffix=".trace", delete=False) as tf:
            tpath = tf.name
        cmd = worker_cmd(variant, seed, chunk, ncalls, args, trace=tpath, skip=skip)
        try:
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
                rc, out, err = p.returncode, p.stdout, p.stderr
            except subprocess.TimeoutExpired:
                rc, out, err = "timeout", "", ""
            with open(tpath) as f:
                trace = [ln.rstrip("\n").split("\t", 1) for ln in f if "\t" in ln]
        finally:
            os.unlink(tpath)
        if rc == 0:
            for line in out.splitlines():
                if line.startswith("{"):
                    d = json.loads(line)
                    counts.update(d["counts"])
                    return counts, crashes + d["findings"]
        kind = "hang" if rc == "timeout" else "crash"
        counts[kind] += 1
        if not trace:
            crashes.append(dict(kind=kind, variant=variant, seed=seed, chunk=chunk, index=0,
                                call="(before the first call)", method="?", last=[],
                                detail=f"exit code {rc}: {err.strip()[-300:]}",
                                cfg=chunk_config(variant, seed, chunk), prefix=[]))
            return counts, crashes
        idx, call = int(trace[-1][0]), trace[-1][1]
        first = next((ln for ln in err.splitlines() if ln.strip()), "")
        crashes.append(dict(kind=kind, variant=variant, seed=seed, chunk=chunk, index=idx,
                            call=call, method=_method(call),
                            detail=f"exit code {rc}" + (f"; {first}" if first else ""),
                            last=[t[1] for t in trace[-21:-1]],
                            cfg=chunk_config(variant, seed, chunk),
                            prefix=[t[1] for t in trace[:-1]], skip=list(skip)))
        skip.append(idx)
        if len(skip) > args.max_crashes:
            counts["calls"] += idx
            return counts, crashes


def _method(call):
    head = call.split(" = ", 1)[-1].split("(")[0]
    return head.rsplit(".", 1)[-1]


def signature(fd):
    d = fd["detail"]
    exc = d.split(":", 1)[0] if fd["kind"] in ("foreign", "state-changed", "check-failed") else ""
    if fd["kind"] in ("crash", "hang"):
        exc = "cls.__new__(cls) view" if "__new__(" in fd["call"] else ""
    return (fd["variant"], fd["kind"], fd["method"], exc)


def total(fds):
    return sum(fd.get("count", 1) for fd in fds)


def full_prefix(fd, args):
    """Every call of the chunk before the finding (replayed with a trace)."""
    if "prefix" in fd:
        return fd["prefix"]
    with tempfile.NamedTemporaryFile("r", suffix=".trace", delete=False) as tf:
        tpath = tf.name
    try:
        try:
            subprocess.run(worker_cmd(fd["variant"], fd["seed"], fd["chunk"], fd["index"], args,
                                      trace=tpath, skip=fd.get("skip", ())),
                           capture_output=True, timeout=600)
        except subprocess.TimeoutExpired:
            pass
        with open(tpath) as f:
            trace = [ln.rstrip("\n").split("\t", 1) for ln in f if "\t" in ln]
    finally:
        os.unlink(tpath)
    return [t[1] for t in trace if int(t[0]) < fd["index"]]


def fuzz(variants, total, seed, args, out=sys.stdout):
    """Run `total` calls per variant in chunks; returns (counts, findings by signature)."""
    counts = {}
    groups = {}
    t0 = time.time()
    for v in variants:
        cv = Counter()
        ch = 0
        # a chunk ends early at a failed check(): run more until `total` calls ran
        while cv["calls"] < total and ch < 3 * max(1, -(-total // args.chunk)):
            jobs = []
            left = total - cv["calls"]
            for _ in range(max(1, min(args.jobs, -(-left // args.chunk)))):
                jobs.append((v, seed, ch, min(args.chunk, left)))
                left -= jobs[-1][3]
                ch += 1
            for (c, fds) in _map(jobs, args):
                cv.update(c)
                for fd in fds:
                    groups.setdefault(signature(fd), []).append(fd)
        counts[v] = cv
        print(f"[{v}] {cv['calls']} calls in {time.time() - t0:.1f}s: "
              + ", ".join(f"{k}={n}" for k, n in sorted(cv.items()) if k != "calls"),
              file=out, flush=True)
    return counts, groups


def _map(jobs, args):
    if args.jobs <= 1:
        return [run_worker_subprocess(*j, args) for j in jobs]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(args.jobs) as ex:
        return list(ex.map(lambda j: run_worker_subprocess(*j, args), jobs))


def report(counts, groups, args, out=sys.stdout):
    print("\n== summary ==", file=out)
    for v, c in counts.items():
        print(f"{v}: " + ", ".join(f"{k}={n}" for k, n in sorted(c.items())), file=out)
    nf = sum(total(x) for x in groups.values())
    print(f"findings: {nf} in {len(groups)} distinct groups", file=out)
    done = {}
    for sig, fds in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][3], kv[0][0])):
        fd = fds[0]
        print(f"\n--- [{fd['kind']}] {fd['variant']} {fd['method']}: {total(fds)}x", file=out)
        print(f"    {fd['detail'].splitlines()[0] if fd['detail'] else ''}", file=out)
        print(f"    first at seed={fd['seed']} chunk={fd['chunk']} call={fd['index']}: "
              f"{fd['call']}", file=out)
        print(f"    replay: python tests/fuzz_api.py --replay "
              f"{fd['variant']}:{fd['seed']}:{fd['chunk']}:{fd['index']}", file=out)
        if args.verbose:
            print("    last calls:", file=out)
            for ln in fd["last"]:
                print(f"      {ln}", file=out)
        key = (sig[1], sig[2], sig[3])
        if args.minimize and key in done:
            print(f"    (reproducer: as for {done[key]} above)", file=out)
        elif args.minimize:
            done[key] = fd["variant"]
            lines = full_prefix(fd, args)
            mini = minimize(fd, lines, budget=args.minimize_budget)
            if mini is None:
                print("    (not reproduced standalone; last calls:)", file=out)
                for ln in fd["last"]:
                    print(f"      {ln}", file=out)
            else:
                print("    minimal reproducer (script body after the prelude):", file=out)
                for ln in mini + [fd["call"]]:
                    print(f"      {ln}", file=out)
    return nf


def replay(spec, args):
    """Print a chunk's calls (up to an index) as a standalone Python script."""
    v, seed, chunk, *rest = spec.split(":")
    upto = int(rest[0]) if rest else args.chunk
    fd = dict(variant=v, seed=int(seed), chunk=int(chunk), index=upto + 1)
    lines = full_prefix(fd, args)
    cfg = chunk_config(v, int(seed), int(chunk))
    last = lines[-1] if lines else "m.check()"
    print(repro_script(cfg, lines[:-1], last, "foreign"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=20000, help="calls per variant")
    ap.add_argument("--variant", action="append", help="design+bits, e.g. classic64 (default all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=2000, help="calls per fresh machine / subprocess")
    ap.add_argument("--check-every", type=int, default=200)
    ap.add_argument("--invalid", type=float, default=0.2, help="share of calls with a bad argument")
    ap.add_argument("--raw", type=float, default=0.01,
                    help="share of bad values that are views made with cls.__new__(cls)")
    ap.add_argument("--valid-only", action="store_true",
                    help="only valid arguments, no stale or raw views")
    ap.add_argument("--jobs", type=int, default=1, help="subprocesses in parallel")
    ap.add_argument("--timeout-scale", type=float, default=1.0)
    ap.add_argument("--no-digest", action="store_true", help="skip the state digest")
    ap.add_argument("--no-minimize", dest="minimize", action="store_false")
    ap.add_argument("--minimize-budget", type=int, default=40)
    ap.add_argument("--json", help="write findings to this file")
    ap.add_argument("--from-json", help="report (and minimize) the findings saved by --json")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--replay", metavar="VARIANT:SEED:CHUNK[:INDEX]")
    # internal: one chunk in this process
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--chunk-index", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--trace", help=argparse.SUPPRESS)
    ap.add_argument("--skip", default="", help=argparse.SUPPRESS)
    ap.add_argument("--max-crashes", type=int, default=10,
                    help="crashes or hangs per chunk before giving up on it")
    args = ap.parse_args(argv)

    if args.worker:
        import faulthandler
        faulthandler.enable()
        trace = open(args.trace, "w") if args.trace else None
        counts, findings = run_chunk(args.variant[0], args.seed, args.chunk_index, args.chunk,
                                     check_every=args.check_every, trace=trace,
                                     invalid=args.invalid, digest=not args.no_digest,
                                     skip={int(x) for x in args.skip.split(",") if x},
                                     raw=args.raw, valid_only=args.valid_only)
        print(json.dumps(dict(counts=counts, findings=findings)))
        return 0
    if args.replay:
        replay(args.replay, args)
        return 0
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        groups = {}
        for fd in saved["findings"]:
            groups.setdefault(signature(fd), []).append(fd)
        return 1 if report({v: Counter(c) for v, c in saved["counts"].items()}, groups, args) \
            else 0
    import memcore
    variants = args.variant or [f"{d}{b}" for d, b in memcore.variants()]
    counts, groups = fuzz(variants, args.calls, args.seed, args)
    nf = report(counts, groups, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(counts=counts, findings=[fd for g in groups.values() for fd in g]),
                      f, indent=1, default=str)
    return 1 if nf else 0


if __name__ == "__main__":
    sys.exit(main())
