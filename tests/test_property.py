"""Property tests: long random sequences of allocator, reference, lock and
flag operations by three tasks on three CPUs, with m.check() after every
step and a Python model of every live folio compared with the machine."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import memcore

import kfacts as K
import slabkit as S
from conftest import VARIANT_IDS, VARIANTS, examples, state_machine_tests

# orders, weighted towards the pcp-cached small ones
ORDERS = st.sampled_from([0, 0, 0, 0, 1, 1, 2, 3, 3, 4, 5, 6, 8, 9, 9, 10])
# lock rules mostly pick among the first few folios, so that tasks contend
HOT = st.one_of(st.integers(0, 2), st.integers(0, 10 ** 6))
# flags the model tracks: helper to set, helper to clear
FLAGS = {
    "dirty": ("set_dirty", "clear_dirty"),
    "referenced": ("set_referenced", "clear_referenced"),
    "uptodate": ("mark_uptodate", "clear_uptodate"),
    "lru": ("set_lru", "clear_lru"),
    "active": ("set_active", "clear_active"),
    "unevictable": ("set_unevictable", "clear_unevictable"),
    "writeback": ("test_set_writeback", "test_clear_writeback"),
    "private": ("set_private", "clear_private"),
    "mlocked": ("set_mlocked", "clear_mlocked"),
}
# PAGE_FLAGS_CHECK_AT_FREE members among them
BAD_AT_FREE = {"lru", "active", "unevictable", "writeback", "private"}
# __folio_put() takes an LRU folio off the LRU first (and mlocked is cleared first)
CLEARED_BY_PUT = {"lru", "active", "unevictable"}


@dataclass
class Rec:
    folio: object
    pfn: int
    order: int
    kind: str
    refs: int = 1
    frozen: bool = False
    owner: int | None = None
    waiters: list = field(default_factory=list)
    flags: set = field(default_factory=set)


class MachineRules(RuleBasedStateMachine):
    DESIGN = "classic"
    BITS = 64
    RAM = "32MiB"

    def __init__(self):
        super().__init__()
        self.m = memcore.Machine(ram=self.RAM, design=self.DESIGN, bits=self.BITS, cpus=3)
        self.tasks = [self.m.task(f"T{i}", cpu=i) for i in range(3)]
        self.live: dict[int, Rec] = {}
        self.asleep: dict[int, int] = {}          # task -> pfn it sleeps on
        self.zones = K.ZONES[self.BITS]
        self.pgbit = K.pg_bits(self.BITS)
        self.pgmask = (1 << K.NR_PAGEFLAGS[self.BITS]) - 1
        self.ooms = 0

    # ---- helpers ----
    def pick(self, i):
        """The live folio for index i (None when there is none: the rule does nothing)."""
        if not self.live:
            return None
        pfns = sorted(self.live)
        return self.live[pfns[i % len(pfns)]]

    def bad_to_free(self, rec, from_put):
        flags = set(rec.flags)
        if from_put and "lru" in flags:
            flags -= CLEARED_BY_PUT
        return rec.owner is not None or bool(flags & BAD_AT_FREE)

    def forget(self, rec):
        del self.live[rec.pfn]

    def runnable(self, t):
        return t not in self.asleep

    def lock_target(self, i, t, op, owner_deadlocks=False):
        """The folio a lock rule acts on as task t, or None when the rule is done: no live
        folio, or t cannot run (or, with owner_deadlocks, already holds the lock) and
        folio.<op>(task) must raise Deadlock."""
        r = self.pick(i)
        if r is None:
            return None
        if not self.runnable(t) or (owner_deadlocks and r.owner == t):
            event(f"{op}: Deadlock")
            with pytest.raises(memcore.Deadlock):
                getattr(r.folio, op)(self.tasks[t])
            return None
        return r

    # ---- allocation ----
    @initialize(orders=st.lists(ORDERS, min_size=1, max_size=4))
    def start(self, orders):
        for order in orders:
            self.alloc(order, True, None, "file", 0)

    @rule(order=st.sampled_from([8, 9, 10]), movable=st.booleans(), t=st.integers(0, 2))
    def alloc_big(self, order, movable, t):
        """Large allocations, so that the small machine runs out of memory."""
        self.alloc(order, movable, None, "anon", t)

    @rule(order=ORDERS, movable=st.booleans(), zone=st.sampled_from([None, "DMA", "top"]),
          kind=st.sampled_from(["file", "anon"]), t=st.integers(0, 2))
    def alloc(self, order, movable, zone, kind, t):
        if zone == "top":
            zone = "DMA32" if self.BITS == 64 else "Normal"
        task = self.tasks[t]
        if not self.runnable(t):
            with pytest.raises(memcore.Deadlock):
                self.m.alloc_folio(order=order, movable=movable, zone=zone, task=task)
            return
        try:
            f = self.m.alloc_folio(order=order, movable=movable, zone=zone, kind=kind,
                                   task=task)
        except memcore.OutOfMemory:
            self.ooms += 1
            event("alloc: OutOfMemory")
            return
        nr = 1 << order
        assert f.pfn % nr == 0 and f.order == order and f.refcount == 1
        for pfn in self.live:
            other = self.live[pfn]
            assert f.pfn + nr <= pfn or pfn + (1 << other.order) <= f.pfn, "overlap"
        limit = {None: "Normal" if not movable else self.zones[-1], "DMA": "DMA"}.get(
            zone, zone)
        assert self.zones.index(f.zone) <= self.zones.index(limit)
        # a new folio has clean flags: PG_swapbacked if anon (and PG_head if large,
        # on classic, where the folio's flags are its head page's: the classic_overlay
        # test_large_folio_head_and_tail_struct_pages); its first page heads it if large
        want = 1 << self.pgbit["swapbacked"] if kind == "anon" else 0
        assert f.flags.word & self.pgmask & ~(1 << self.pgbit["head"]) == want
        assert self.m.page(f.pfn).is_head is bool(order)
        self.live[f.pfn] = Rec(f, f.pfn, order, kind)

    # ---- references ----
    @rule(i=st.integers(0, 10 ** 6))
    def get(self, i):
        r = self.pick(i)
        if r is None:
            return
        if r.frozen:
            with pytest.raises(memcore.RefcountError):
                r.folio.get()
        else:
            r.folio.get()
            r.refs += 1

    @rule(i=st.integers(0, 10 ** 6))
    def try_get(self, i):
        r = self.pick(i)
        if r is None:
            return
        got = r.folio.try_get()
        assert got is (not r.frozen)
        if got:
            r.refs += 1

    @rule(i=st.integers(0, 10 ** 6), t=st.integers(0, 2))
    def put(self, i, t):
        r = self.pick(i)
        if r is None:
            return
        task = self.tasks[t] if self.runnable(t) else self.m.task("init")
        with task:
            if r.frozen:
                with pytest.raises(memcore.RefcountError):
                    r.folio.put()
            elif r.refs > 1:
                assert r.folio.put() is False
                r.refs -= 1
            elif self.bad_to_free(r, from_put=True):
                event("put: BadPageState")
                with pytest.raises(memcore.BadPageState) as ei:
                    r.folio.put()
                assert "page: refcount:1" in str(ei.value)
            else:
                assert r.folio.put() is True
                self.forget(r)

    @rule(i=st.integers(0, 10 ** 6), t=st.integers(0, 2))
    def release(self, i, t):
        """Drop every reference: the folio is freed, or the last put finds it bad."""
        r = self.pick(i)
        if r is None or r.frozen:
            return
        for _ in range(r.refs):
            self.put(i, t)
            if r.pfn not in self.live or r.refs == 1:
                break
        if r.pfn in self.live and r.refs == 1:
            self.put(i, t)

    @rule(i=st.integers(0, 10 ** 6), exact=st.booleans())
    def ref_freeze(self, i, exact):
        r = self.pick(i)
        if r is None:
            return
        count = r.refs if exact else r.refs + 1
        ok = r.folio.ref_freeze(count)
        assert ok is (exact and not r.frozen)
        if ok:
            r.frozen = True

    @rule(i=st.integers(0, 10 ** 6), count=st.integers(1, 3))
    def ref_unfreeze(self, i, count):
        r = self.pick(i)
        if r is None:
            return
        if r.frozen:
            r.folio.ref_unfreeze(count)
            r.frozen = False
            r.refs = count
        else:
            with pytest.raises(memcore.RefcountError):
                r.folio.ref_unfreeze(count)

    @rule(i=st.integers(0, 10 ** 6))
    def free_frozen(self, i):
        r = self.pick(i)
        if r is None:
            return
        if not r.frozen:
            with pytest.raises(memcore.VMBug):
                r.folio.free_frozen()
        elif self.bad_to_free(r, from_put=False):
            with pytest.raises(memcore.BadPageState):
                r.folio.free_frozen()
        else:
            r.folio.free_frozen()
            self.forget(r)

    # ---- locking ----
    @rule(i=HOT, t=st.integers(0, 2))
    def lock(self, i, t):
        r = self.lock_target(i, t, "lock", owner_deadlocks=True)
        if r is None:
            return
        task = self.tasks[t]
        got = r.folio.lock(task)
        if r.owner is None:
            assert got is True
            r.owner = t
        else:
            assert got is False and task.waiting
            event("lock: contended")
            r.waiters.append(t)
            self.asleep[t] = r.pfn

    @rule(i=HOT, t=st.integers(0, 2))
    def trylock(self, i, t):
        r = self.lock_target(i, t, "trylock")
        if r is None:
            return
        task = self.tasks[t]
        got = r.folio.trylock(task)
        assert got is (r.owner is None)
        if got:
            r.owner = t

    @rule(i=HOT, t=st.integers(0, 2))
    def unlock(self, i, t):
        r = self.lock_target(i, t, "unlock")
        if r is None:
            return
        task = self.tasks[t]
        if r.owner is None:
            with pytest.raises(memcore.FolioNotLocked):
                r.folio.unlock(task)
            return
        had_waiters_bit = bool(r.folio.flags.word >> self.pgbit["waiters"] & 1)
        woke = r.folio.unlock(task)
        assert woke is had_waiters_bit
        if r.waiters:
            assert woke is True
            event("unlock: handoff")
            r.owner = r.waiters.pop(0)
            del self.asleep[r.owner]
        else:
            r.owner = None

    @rule(i=st.integers(0, 10 ** 6))
    def owner_unlocks(self, i):
        """Lock holders eventually unlock, so waiters get to run again."""
        held = [r for r in self.live.values() if r.owner is not None]
        if not held:
            return
        r = held[i % len(held)]
        self.unlock_as(r, r.owner)

    def unlock_as(self, r, t):
        if not self.runnable(t):
            return
        woke = r.folio.unlock(self.tasks[t])
        if r.waiters:
            assert woke is True
            r.owner = r.waiters.pop(0)
            del self.asleep[r.owner]
        else:
            r.owner = None

    # ---- flags ----
    @rule(i=st.integers(0, 10 ** 6), name=st.sampled_from(sorted(FLAGS)), on=st.booleans())
    def flag(self, i, name, on):
        r = self.pick(i)
        if r is None:
            return
        setter, clearer = FLAGS[name]
        ret = getattr(r.folio, setter if on else clearer)()
        if name == "writeback":
            assert ret is (name in r.flags)          # test_set / test_clear return the old bit
        if on:
            r.flags.add(name)
        else:
            r.flags.discard(name)

    @rule(i=st.integers(0, 10 ** 6), name=st.sampled_from(sorted(FLAGS)), t=st.integers(0, 2))
    def flag_then_release(self, i, name, t):
        """Set a flag and drop every reference: freed or BadPageState, per the flag."""
        self.flag(i, name, True)
        self.release(i, t)

    @rule()
    def drain(self):
        self.m.drain_pcp()

    # ---- the machine agrees with the model, and with itself ----
    @invariant()
    def consistent(self):
        m = self.m
        m.check()
        walk = m.walk()
        assert sum(walk.values()) == m.nr_pfns
        live_pages = sum(1 << r.order for r in self.live.values() if not r.frozen)
        frozen_pages = sum(1 << r.order for r in self.live.values() if r.frozen)
        pcp_pages = sum(z["pcp"] for z in m.stats()["zones"])
        assert walk["folio"] == live_pages
        assert walk["refcount_zero"] == frozen_pages + pcp_pages
        for pfn, r in self.live.items():
            f = r.folio
            assert f.refcount == (0 if r.frozen else r.refs)
            assert m.page(pfn).refcount == (0 if r.frozen else r.refs)
            word = f.flags.word                     # the folio's flags word
            assert bool(word & 1) is (r.owner is not None)
            for name in FLAGS:
                assert bool(word >> self.pgbit[name] & 1) is (name in r.flags), name
            owner = f.lock_owner
            assert (owner is None) if r.owner is None else (owner is self.tasks[r.owner])
            assert m.waiters(f.pointer) == [self.tasks[t] for t in r.waiters]
            if r.waiters:
                assert word >> self.pgbit["waiters"] & 1
            assert m.page(pfn).folio == f
        for t, task in enumerate(self.tasks):
            assert task.waiting is (t in self.asleep)
            if t in self.asleep:
                assert task.waiting_on == self.live[self.asleep[t]].folio.pointer

    def teardown(self):
        # wake everybody, unfreeze and free everything: the machine is whole again
        # (tasks may be deadlocked ABBA-style; the never-sleeping init task unlocks)
        for r in list(self.live.values()):
            while r.owner is not None:
                r.folio.unlock()
                r.owner = r.waiters.pop(0) if r.waiters else None
        for r in list(self.live.values()):
            for name in list(r.flags):
                getattr(r.folio, FLAGS[name][1])()
            if r.frozen:
                r.folio.free_frozen()
            else:
                for _ in range(r.refs):
                    r.folio.put()
        self.m.drain_pcp()
        self.m.check()
        walk = self.m.walk()
        assert walk["folio"] == walk["refcount_zero"] == 0


SETTINGS = settings(max_examples=examples(40), stateful_step_count=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])


state_machine_tests(globals(), "TestMachine", MachineRules, SETTINGS)
# RAM with holes (below 1 MiB, and 36-48 MiB): free blocks never cover one
HOLES_RAM = [(0x1000, 0x9fc00), (0x100000, 36 << 20), (48 << 20, 60 << 20)]
state_machine_tests(globals(), "TestMachineHoles", MachineRules,
                    settings(SETTINGS, max_examples=examples(15)), RAM=HOLES_RAM)


# ---- a second, simpler property: any sequence of allocations and frees, in any
# ---- order, restores the free lists exactly --------------------------------------

from hypothesis import given  # noqa: E402


@pytest.mark.parametrize("design, bits", VARIANTS, ids=VARIANT_IDS)
@settings(max_examples=examples(25), deadline=None)
@given(ops=st.lists(st.tuples(ORDERS, st.booleans(), st.integers(0, 1)),
                    min_size=1, max_size=60),
       seed=st.randoms(use_true_random=False))
def test_any_alloc_free_sequence_restores_the_free_lists(design, bits, ops, seed):
    m = memcore.Machine(ram="40MiB", design=design, bits=bits)
    S.shrink_all(m)             # and again at the end: descriptor slabs the folios grew
    before = {z["zone"]: z["nr_free"] for z in m.stats()["zones"]}
    folios = []
    for order, movable, cpu in ops:
        try:
            folios.append(m.alloc_folio(order=order, movable=movable,
                                        task=m.task(f"c{cpu}", cpu=cpu)))
        except memcore.OutOfMemory:
            m.check()
    seed.shuffle(folios)
    for f in folios:
        assert f.put()
        m.check()
    S.shrink_all(m)
    m.check()
    assert {z["zone"]: z["nr_free"] for z in m.stats()["zones"]} == before
