"""The interleaving explorer: check the 2021 thread's race arguments.

A scenario is two or three modeled tasks on one Machine, each a program of
atomic steps (a load of an XArray slot, a ``folio_try_get()``, a lock bit, an
``rcu_read_lock()``...) on real objects of that machine: its struct pages,
its folio descriptors, a mapping's slot.  ``Scenario.explore()`` runs every
interleaving of the steps (depth first, with state hashing and a
partial-order reduction), ``Scenario.random()`` runs seeded random
schedules, and after every step the invariants are checked:

* no task uses a descriptor it holds no reference to as if it were the one
  it looked up (and memory freed to a cache without SLAB_TYPESAFE_BY_RCU is
  not touched at all after the free);
* a lookup returns the folio at that index, or nothing;
* refcounts balance: a folio's count is its owners' references plus the
  ones tasks hold; PG_locked is set exactly when a task holds the lock;
* at the end every task has finished (nobody sleeps forever), holding no
  reference, lock or RCU read-side section, and ``m.check()`` holds.

A failure is a counterexample: the schedule, printed step by step (task,
step, what changed, by kernel member name), which ``replay()`` runs again.

Steps are sequentially consistent: every step sees every earlier one.  What
that cannot catch (a missing barrier, a reordered load) is the territory of
the kernel's LKMM litmus tests; docs/EXPLORE.md says more.

The shipped scenarios are in ``SCENARIOS``; ``memcore explore --list``.
Writing your own: docs/EXPLORE.md.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import _variants
from .errors import NotSupported

__all__ = ["Scenario", "Result", "ScenarioInfo", "NotApplicable", "SCENARIOS", "scenario",
           "run", "STEPS"]

# object kinds and shadow types (memcore/core/explore.pxi's EXO_* and EXT_*)
_FOLIO, _PAGE, _SLOT, _SPACE, _SLABDESC = 1, 2, 3, 4, 5
_STATES = {"none": 0, "folio": 1, "free": 2, "slab": 3}

#: step name -> (opcode, operand kinds, what it models).  Operand kinds: reg,
#: obj, obj?, int, label.  The opcodes are memcore/core/explore.pxi's.
STEPS: dict[str, tuple[int, tuple[str, ...], str]] = {
    "rcu_read_lock": (10, (), "rcu_read_lock()"),
    "rcu_read_unlock": (11, (), "rcu_read_unlock()"),
    "synchronize_rcu": (12, (), "synchronize_rcu(): runs once no other task is in a "
                                "read-side section"),
    "xas_load": (13, ("reg", "obj"), "reg = the slot's entry (xas_load() of a mapping "
                                     "whose only entry is at index 0: its xa_head)"),
    "xa_store": (14, ("obj", "reg?"), "slot = reg, or NULL (xas_store())"),
    "xas_reload_is": (15, ("reg", "obj"), "ok if the slot still holds reg (xas_reload())"),
    "page_folio": (16, ("reg", "obj"), "reg = the page's folio as a lock-free walker finds "
                                       "it (compound_head() / the page's memdesc), or NULL"),
    "page_folio_is": (17, ("reg", "obj"), "ok if the page's folio is still reg"),
    "folio_try_get": (18, ("reg",), "ok if a reference was taken (count was not zero)"),
    "folio_put": (19, ("reg",), "drop this task's reference; the last frees the folio"),
    "folio_put_owner": (20, ("obj",), "drop a reference no task holds (the page cache's)"),
    "folio_ref_freeze": (21, ("reg", "int"), "ok if the count was exactly int; now 0"),
    "free_frozen": (22, ("reg",), "free a folio this task froze"),
    "folio_mapping": (23, ("reg",), "ok if folio->mapping is set (reads only)"),
    "page_cache_delete": (24, ("reg",), "folio->mapping = NULL (needs the folio lock)"),
    "folio_trylock": (25, ("reg",), "ok if PG_locked was taken"),
    "folio_unlock_xor": (28, ("reg",), "clear PG_locked; ok if PG_waiters was set"),
    "folio_wake_bit": (29, ("reg",), "wake the first waiter, setting PG_locked for it "
                                     "(hand-off); clear PG_waiters when nobody waits"),
    "alloc_folio": (30, ("reg", "obj", "obj", "int"), "reg = a new folio of order int on "
                    "the (free) pages from the page obj, descriptor obj (the design's: "
                    "classic uses the head page); the task holds its reference"),
    "alloc_slab": (31, ("obj", "obj?"), "the (free) page becomes a slab; its descriptor "
                   "is obj? (the designs with separate descriptors)"),
    "expect_found": (32, ("reg", "obj", "int"), "check: reg is NULL or the folio at index "
                     "int of mapping obj, and the task holds a reference on it"),
    "expect_folio_of": (33, ("reg", "obj"), "check: reg is NULL or the page's folio, "
                        "referenced"),
    "expect_locked": (34, ("reg",), "check: the task holds reg's lock and a reference"),
    "expect_isolated": (35, ("reg",), "check: reg is a locked page-cache folio the task "
                        "holds a reference on"),
    "filemap_add_folio": (36, ("reg", "obj", "obj", "int"), "the cache takes a reference; "
                          "mapping obj, index int; slot obj = reg"),
    "give": (37, ("reg",), "this task's reference passes to an owner outside the scenario"),
    "folio_get": (38, ("reg",), "a reference, trusting that the count is not zero"),
}
_LOCK_WAIT, _LOCK_WAIT_NORECHECK = 26, 27
_JMP, _BR_FAIL, _BR_OK, _BR_ZERO, _CLEAR, _END = 1, 2, 3, 4, 5, 0
_OPNAME = {v[0]: k for k, v in STEPS.items()}
_OPNAME.update({_LOCK_WAIT: "folio_lock (slow path)",
                _LOCK_WAIT_NORECHECK: "folio_lock (slow path, no re-check)"})


class NotApplicable(NotSupported):
    """The scenario cannot be posed on this design (e.g. struct pages are never
    freed, so a descriptor cache that is not TYPESAFE_BY_RCU has no classic
    counterpart)."""


@dataclass(frozen=True)
class Obj:
    """A registered object of a scenario."""
    index: int
    kind: int
    label: str
    va: int
    pfn: int = -1


class TaskProgram:
    """A task's program, built step by step.  Registers are "r0".."r3";
    labels name places to jump to.  Step methods are the names in STEPS plus
    the control steps and the two-step helpers folio_lock()/folio_unlock()."""

    def __init__(self, scenario: Scenario, name: str) -> None:
        self.scenario = scenario
        self.name = name
        self._code: list[list[Any]] = []
        self._labels: dict[str, int] = {}
        self._lines: list[str] = []          # a readable name of each instruction

    # ---- control (local steps: they join the step before them) ----
    def label(self, name: str) -> TaskProgram:
        if name in self._labels:
            raise ValueError(f"{self.name}: label {name!r} is defined twice")
        self._labels[name] = len(self._code)
        return self

    def goto(self, label: str) -> TaskProgram:
        return self._emit(_JMP, -1, -1, -1, 0, label, f"goto {label}")

    def if_failed(self, label: str) -> TaskProgram:
        return self._emit(_BR_FAIL, -1, -1, -1, 0, label, f"if failed: goto {label}")

    def if_ok(self, label: str) -> TaskProgram:
        return self._emit(_BR_OK, -1, -1, -1, 0, label, f"if ok: goto {label}")

    def if_null(self, reg: str, label: str) -> TaskProgram:
        return self._emit(_BR_ZERO, self._reg(reg), -1, -1, 0, label,
                          f"if {reg} == NULL: goto {label}")

    def set_null(self, reg: str) -> TaskProgram:
        return self._emit(_CLEAR, self._reg(reg), -1, -1, 0, None, f"{reg} = NULL")

    def end(self) -> TaskProgram:
        return self._emit(_END, -1, -1, -1, 0, None, "return")

    # ---- two-step helpers: the kernel functions that are more than one step ----
    def folio_lock(self, reg: str, recheck: bool = True) -> TaskProgram:
        """folio_lock(): folio_trylock(), else the slow path under the wait
        queue's lock (set PG_waiters, try the bit again, else queue and
        sleep; woken with the lock handed over).  recheck=False drops the
        second try: the lost wake-up the kernel's order prevents."""
        here = f"__lock{len(self._code)}"
        self.step("folio_trylock", reg)
        self.if_ok(here)
        self._emit(_LOCK_WAIT if recheck else _LOCK_WAIT_NORECHECK, self._reg(reg), -1, -1, 0,
                   None, f"folio_lock({reg}) slow path" + ("" if recheck else ", no re-check"))
        return self.label(here)

    def folio_unlock(self, reg: str) -> TaskProgram:
        """folio_unlock(): clear PG_locked, and if PG_waiters was set,
        folio_wake_bit()."""
        here = f"__unlock{len(self._code)}"
        self.step("folio_unlock_xor", reg)
        self.if_failed(here)
        self.step("folio_wake_bit", reg)
        return self.label(here)

    def __getattr__(self, name: str) -> Callable[..., TaskProgram]:
        if name in STEPS:
            return lambda *args: self.step(name, *args)
        raise AttributeError(f"no step {name!r}; the steps: {', '.join(sorted(STEPS))}")

    def step(self, name: str, *args: Any) -> TaskProgram:
        """Append the step `name` (a key of STEPS) with its operands."""
        if name not in STEPS:
            raise ValueError(f"no step {name!r}; the steps: {', '.join(sorted(STEPS))}")
        op, kinds, _ = STEPS[name]
        need = [k for k in kinds if not k.endswith("?")]
        if not len(need) <= len(args) <= len(kinds):
            raise TypeError(f"{name}() takes {len(kinds)} operand(s) ({', '.join(kinds)}), "
                            f"got {len(args)}")
        r, objs, imm = -1, [], 0
        for kind, arg in zip(kinds, args):
            base = kind.rstrip("?")
            if base == "reg":
                if arg is None and kind.endswith("?"):
                    continue
                if r != -1:
                    raise TypeError(f"{name}(): one register operand")
                r = self._reg(arg)
            elif base == "obj":
                if arg is None and kind.endswith("?"):
                    objs.append(-1)
                    continue
                objs.append(self.scenario._obj(arg).index)
            elif base == "int":
                if isinstance(arg, bool) or not isinstance(arg, int):
                    raise TypeError(f"{name}(): {arg!r} is not an int")
                if not 0 <= arg < 1 << 31:
                    raise ValueError(f"{name}(): {arg} is out of range (0..2**31-1)")
                imm = arg
        o = objs[0] if objs else -1
        o2 = objs[1] if len(objs) > 1 else -1
        shown = ", ".join(a if isinstance(a, str) else
                          (a.label if isinstance(a, Obj) else "NULL" if a is None else str(a))
                          for a in args)
        return self._emit(op, r, o, o2, imm, None, f"{name}({shown})")

    def _reg(self, reg: Any) -> int:
        if isinstance(reg, str) and len(reg) == 2 and reg[0] == "r" and reg[1] in "0123":
            return int(reg[1])
        raise ValueError(f"{self.name}: {reg!r} is not a register (r0..r3)")

    def _emit(self, op: int, r: int, o: int, o2: int, imm: int, target: str | None,
              text: str) -> TaskProgram:
        self._code.append([op, r, o, o2, imm, target])
        self._lines.append(text)
        return self

    def _compile(self) -> list[tuple[int, int, int, int, int, int]]:
        code = [list(c) for c in self._code]
        lines = list(self._lines)
        if not code or code[-1][0] not in (_END, _JMP):
            code.append([_END, -1, -1, -1, 0, None])
            lines.append("return")
        self._lines_compiled = lines
        out = []
        for c in code:
            target = c[5]
            if target is None:
                t = 0
            elif target in self._labels:
                t = self._labels[target]
                if t >= len(code):
                    raise ValueError(f"{self.name}: label {target!r} is past the end")
            else:
                raise ValueError(f"{self.name}: no label {target!r}")
            out.append((c[0], c[1], c[2], c[3], c[4], t))
        return out


@dataclass
class Result:
    """What a search found: counts, and the first violation with its
    schedule (task numbers, one per step) if there was one.  `states` is
    the number of distinct states of an exhaustive search; of a random one
    (mode "random") it is the number of steps taken."""
    scenario: str
    design: str
    bits: int
    mode: str
    violation: str | None
    schedule: list[int] | None
    states: int
    transitions: int
    seconds: float
    exhaustive: bool
    stats: dict[str, Any] = field(default_factory=dict)
    counterexample: str | None = None

    @property
    def passed(self) -> bool:
        return self.violation is None

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "design": self.design, "bits": self.bits,
                "mode": self.mode, "passed": self.passed, "violation": self.violation,
                "schedule": self.schedule, "states": self.states,
                "transitions": self.transitions, "seconds": round(self.seconds, 6),
                "exhaustive": self.exhaustive, **self.stats}


class Scenario:
    """Tasks and objects on one Machine, ready to explore.

    >>> m = memcore.Machine(ram="64MiB", design="memdesc")
    >>> s = Scenario(m, "mine")
    >>> F = s.folio(m.alloc_folio(), "folio F")
    >>> a = s.task("A"); ...
    >>> s.explore().passed
    """

    def __init__(self, machine: Any, name: str = "scenario") -> None:
        mod = sys.modules[type(machine).__module__]
        self.machine = machine
        self.name = name
        self._ex = mod.Explorer(machine)
        self._mod = mod
        self._objs: list[Obj] = []
        self._tasks: list[TaskProgram] = []
        self._holds: list[tuple[int, str, Obj, int]] = []
        self._pages: dict[int, Obj] = {}
        self._built = False

    @property
    def separate_descriptors(self) -> bool:
        """Whether the design allocates folio descriptors apart from the struct
        pages (interim, flags_memdesc, memdesc) or a folio is its head page
        (classic)."""
        return bool(self._ex.separate_descriptors)

    # ---- objects ----
    def folio(self, folio: Any, label: str, owners: int | None = None,
              typesafe: bool = True) -> Obj:
        """A folio's descriptor (classic: its head struct page).  owners: the
        references held outside the tasks (default: its whole refcount; hold()
        moves some to a task).  typesafe=False models a descriptor cache
        without SLAB_TYPESAFE_BY_RCU: once freed, its memory may be reused
        as anything of its size, and touching it is a use-after-free (the
        designs with descriptors only: classic raises NotApplicable)."""
        self._mine(folio, "folio")
        if not typesafe and not self.separate_descriptors:
            raise NotApplicable("classic: a folio is its head struct page, which is never "
                                "freed; only a descriptor cache can be without "
                                "SLAB_TYPESAFE_BY_RCU")
        refs = folio.refcount if owners is None else owners
        obj = self._add(_FOLIO, label, va=folio.pointer, state="folio", extern=refs,
                        typesafe=typesafe, pfn=folio.pfn)
        # its pages: freeing the folio rewrites them, so they are footprint
        for i in range(folio.nr_pages):
            if folio.pfn + i not in self._pages:
                self.page(folio.pfn + i, f"{label} page {i}")
        return obj

    def page(self, pfn: int, label: str, state: str = "folio") -> Obj:
        """A struct page; state: what it is now ("folio", "free", "slab")."""
        if state not in _STATES:
            raise ValueError(f"state {state!r}: one of {', '.join(_STATES)}")
        if isinstance(pfn, bool) or not isinstance(pfn, int) or pfn < 0:
            raise ValueError(f"{label}: {pfn!r} is not a PFN")
        if pfn in self._pages:               # registered with its folio: name it
            old = self._pages[pfn]
            self._ex.set_label(old.index, label)
            obj = Obj(old.index, old.kind, label, old.va, old.pfn)
            self._objs[old.index] = obj
            self._pages[pfn] = obj
            return obj
        obj = self._add(_PAGE, label, pfn=pfn, state=state)
        self._pages[pfn] = obj
        return obj

    def mapping(self, mapping: Any, label: str | None = None) -> Obj:
        """An address_space (its identity: lookups are checked against it)."""
        self._mine(mapping, "mapping")
        return self._add(_SPACE, label or mapping.name, va=mapping.pointer)

    def slot(self, mapping: Any, label: str | None = None) -> Obj:
        """The root entry (xa_head) of a mapping whose only entry, if any, is at
        index 0: where a lookup of index 0 loads from."""
        self._mine(mapping, "mapping")
        ents = mapping.entries()
        if any(e[0] != 0 for e in ents) or mapping.xa_nodes:
            raise ValueError(f"{mapping.name}: the explorer's slot is a mapping's xa_head, "
                             "which holds the entry at index 0 alone")
        va = self._ex_xa_head(mapping)
        return self._add(_SLOT, label or f"{mapping.name}[0]", va=va)

    def slab_descriptor(self, label: str) -> Obj:
        """A new slab descriptor object (the designs with separate
        descriptors), for alloc_slab()."""
        if not self.separate_descriptors:
            raise NotApplicable("classic has no slab descriptors: a slab is its struct page")
        return self._add(_SLABDESC, label)

    def _mine(self, thing: Any, what: str) -> None:
        if getattr(thing, "machine", None) is not self.machine:
            raise TypeError(f"{thing!r} is not a {what} of this scenario's machine")

    def _ex_xa_head(self, mapping: Any) -> int:
        return int(self._mod._xa_head_address(mapping.pointer))

    def _add(self, kind: int, label: str, va: int = 0, pfn: int = 0, state: str = "folio",
             extern: int = 0, typesafe: bool = True) -> Obj:
        if self._built:
            raise RuntimeError("the scenario has run: add objects before exploring")
        i = self._ex.add_object(kind, label, va, pfn if pfn >= 0 else 0, _STATES[state], extern,
                                typesafe)
        obj = Obj(i, kind, label, int(self._ex.object_va(i)), pfn)
        self._objs.append(obj)
        return obj

    def _obj(self, arg: Any) -> Obj:
        if isinstance(arg, Obj) and 0 <= arg.index < len(self._objs) and \
                self._objs[arg.index] is arg:
            return arg
        raise TypeError(f"{arg!r} is not an object of this scenario")

    # ---- tasks ----
    def task(self, name: str) -> TaskProgram:
        if self._built:
            raise RuntimeError("the scenario has run: add tasks before exploring")
        t = TaskProgram(self, name)
        self._tasks.append(t)
        return t

    def hold(self, task: TaskProgram, reg: str, obj: Obj, refs: int = 1) -> None:
        """The task starts with obj in reg, holding `refs` of its owners'
        references."""
        self._holds.append((self._tasks.index(task), reg, self._obj(obj), refs))

    def _build(self) -> None:
        if self._built:
            return
        for t in self._tasks:
            self._ex.add_task(t._compile())
        for ti, reg, obj, refs in self._holds:
            self._ex.hold(ti, self._tasks[ti]._reg(reg), obj.index, refs)
        self._built = True
        self._ex.start()

    # ---- running ----
    def explore(self, max_states: int = 50_000_000, max_depth: int = 500, por: bool = True,
                verify_hash: bool = False) -> Result:
        """Every interleaving (depth first, state hashing, sleep-set partial
        order reduction when por).  verify_hash re-hashes the whole footprint
        after every step and fails if the incremental hash drifted."""
        self._build()
        r = self._ex.explore(max_depth, max_states, por, verify_hash)
        return self._result(r)

    def random(self, runs: int, seed: int = 0, max_depth: int = 500,
               verify_hash: bool = False) -> Result:
        """`runs` random schedules from `seed` (the same seed, the same runs)."""
        if runs < 1:
            raise ValueError("runs must be at least 1")
        self._build()
        r = self._ex.random(runs, seed, max_depth, verify_hash)
        res = self._result(r)
        res.stats["runs"] = r["runs"]
        return res

    def _result(self, r: dict[str, Any]) -> Result:
        m = self.machine
        res = Result(self.name, m.design, m.bits, r["mode"], r["violation"], r["schedule"],
                     r["states"], r["transitions"], r["seconds"], r["exhaustive"],
                     {k: r[k] for k in ("revisits", "terminals", "depth_cuts",
                                        "state_limit_hit", "footprint_bytes")})
        m.check()                          # the machine is as the scenario found it
        if res.violation is not None:
            res.counterexample = self.format_schedule(res.schedule or [])
        return res

    def replay(self, schedule: list[int]) -> tuple[list[dict[str, Any]], str | None]:
        """Run a schedule step by step; the per-step records and the end
        check's violation (see format_schedule())."""
        self._build()
        return self._ex.replay(list(schedule))

    def close(self) -> None:
        """Give back what the scenario allocated; the machine is as before."""
        self._ex.close()

    # ---- printing ----
    def describe(self) -> str:
        """The tasks' programs, numbered."""
        self._build()
        out = []
        for ti, t in enumerate(self._tasks):
            out.append(f"task {ti} ({_task_letter(ti)}): {t.name}")
            for pc, line in enumerate(t._lines_compiled):
                out.append(f"  {pc:2d}  {line}")
        return "\n".join(out)

    def format_schedule(self, schedule: list[int]) -> str:
        """The schedule step by step: task, step, what changed."""
        self._build()
        init = self._ex.initial()
        steps, end = self._ex.replay(list(schedule))
        lines = [f"schedule: {','.join(str(t) for t in schedule)}"]
        for ti, t in enumerate(self._tasks):
            lines.append(f"  task {_task_letter(ti)} = {t.name}")
        prev_mem, prev_obj = init["memory"], init["objects"]
        for n, st in enumerate(steps, 1):
            t = self._tasks[st["task"]]
            what = t._lines_compiled[st["pc"]]
            changes = self._changes(prev_mem, st["memory"], prev_obj, st["objects"])
            task_after = st["tasks"][st["task"]]
            if task_after["status"] == "sleeping":
                changes.append("task sleeps")
            lines.append(f"{n:4d}. {_task_letter(st['task'])}  {what}")
            for c in changes:
                lines.append(f"          {c}")
            if st["violation"]:
                lines.append(f"      VIOLATION: {st['violation']}")
            prev_mem, prev_obj = st["memory"], st["objects"]
        if end:
            lines.append(f"      VIOLATION at the end: {end}")
        return "\n".join(lines)

    def _changes(self, before: list[bytes], after: list[bytes], ob: list[dict[str, Any]],
                 oa: list[dict[str, Any]]) -> list[str]:
        """What one step changed, by member name.  Where objects overlap (on
        classic a folio is its struct pages), a live folio is shown by its
        folio members and the pages inside it are not shown again; a freed
        one by its pages."""
        spans = [self._ex.object_span(i) for i in range(len(self._objs))]
        live = [oa[i]["type"] == "folio" for i in range(len(self._objs))]
        order = sorted(range(len(self._objs)),
                       key=lambda i: (self._objs[i].kind != _FOLIO if live[i]
                                      else self._objs[i].kind == _FOLIO, i))
        covered: set[int] = set()
        out = []
        for i in order:
            obj = self._objs[i]
            a, b = before[i], after[i]
            host = spans[i][0]
            if a != b:
                skip = {off for off in range(len(a)) if host + off in covered}
                # flag names for a folio's flags word, and for a classic page's
                # own, unless it is a tail page (its first word is _flags_1,
                # the order...); a page's word on the designs with descriptors
                # is not the folio's flags
                inside = any(self._objs[j].kind == _FOLIO and j != i and
                             spans[j][0] < host < spans[j][0] + spans[j][1]
                             for j in range(len(self._objs)))
                names = not inside and (obj.kind != _PAGE or not self.separate_descriptors)
                out.extend(f"{obj.label}: {c}" for c in
                           _field_changes(self.machine, self._mod, obj, oa[i]["type"], a, b,
                                          skip, names))
                covered.update(host + off for off in range(len(a)))
            if ob[i]["type"] != oa[i]["type"] or ob[i]["gen"] != oa[i]["gen"]:
                if obj.kind in (_FOLIO, _PAGE, _SLABDESC):
                    out.append(f"{obj.label} is now {oa[i]['type']} "
                               f"(generation {oa[i]['gen']})")
        return out


def _task_letter(ti: int) -> str:
    return "ABC"[ti] if ti < 3 else str(ti)


def _field_changes(m: Any, mod: Any, obj: Obj, state: str, a: bytes, b: bytes,
                   skip: set[int], names: bool = True) -> list[str]:
    """The members of obj whose bytes differ (outside `skip`), by the
    variant's layout of what the memory is now."""
    from .layout import layout
    if obj.kind == _SLOT:
        return [f"entry {_word(a, 0, len(a)):#x} -> {_word(b, 0, len(b)):#x}"]
    if obj.kind == _PAGE:
        name = "page"
    elif state == "slab" or obj.kind == _SLABDESC:
        name = "slab"
    else:
        name = "folio"
    lay = sorted(layout(name, m.design, m.bits),
                 key=lambda mb: (mb.offset, -mb.size, _PREFER.get(mb.path, 9)))
    done: set[int] = set(skip)
    out = []
    for mb in lay:
        span = range(mb.offset, mb.offset + mb.size)
        if mb.offset + mb.size > len(a) or any(i in done for i in span):
            continue
        if a[mb.offset:mb.offset + mb.size] == b[mb.offset:mb.offset + mb.size]:
            continue
        if mb.is_bitfield or ("struct" in mb.type and mb.size > 8):
            continue
        done.update(span)
        out.append(_show(m, mod, mb, _word(a, mb.offset, mb.size), _word(b, mb.offset, mb.size),
                         names))
    return out


#: where members share bytes, the name to show (what the kernel calls the word
#: in the state the model uses it in)
_PREFER = {"compound_head": 0, "_refcount": 0, "page_type": 0, "mapping": 0, "index": 0,
           "private": 0, "memdesc": 0, "_mapcount": 1}


def _word(buf: bytes, off: int, size: int) -> int:
    return int.from_bytes(buf[off:off + size], "little")


def _show(m: Any, mod: Any, mb: Any, old: int, new: int, names: bool = True) -> str:
    if names and (mb.path == "flags" or mb.type == "memdesc_flags_t"):
        gone = [n for n in mod.format_flag_names(m, old & ~new)]
        came = [n for n in mod.format_flag_names(m, new & ~old)]
        parts = [f"+{n}" for n in came] + [f"-{n}" for n in gone]
        return f"flags {' '.join(parts) or f'{old:#x} -> {new:#x}'}"
    if mb.path == "memdesc":
        from .memdesc import decode_memdesc
        try:
            return (f"memdesc ({decode_memdesc(old, m.design, m.bits)}) -> "
                    f"({decode_memdesc(new, m.design, m.bits)})")
        except Exception:
            return f"memdesc {old:#x} -> {new:#x}"
    if mb.type.startswith("atomic_t") or mb.size <= 2:
        sign = 1 << (mb.size * 8 - 1)
        o, n = (old ^ sign) - sign, (new ^ sign) - sign
        return f"{mb.path} {o} -> {n}"
    return f"{mb.path} {old:#x} -> {new:#x}"


# ---- the shipped scenarios --------------------------------------------------------------

@dataclass(frozen=True)
class ScenarioInfo:
    """A shipped scenario: its name, what a correct model expects of it, and
    how to build it on a machine."""
    name: str
    expect: str                   # "pass" or "counterexample"
    summary: str
    build: Callable[[Any], Scenario]
    classic: bool = True          # can be posed on classic

    def applies(self, design: str) -> str | None:
        """None, or why the scenario cannot be posed on `design`."""
        if not self.classic and design == "classic":
            return ("classic's struct pages are never freed: a folio is its head page, so "
                    "there is no descriptor cache to be TYPESAFE_BY_RCU or not")
        return None


def _pagecache(m: Any, recheck: bool) -> Scenario:
    s = Scenario(m, "pagecache-lookup" + ("" if recheck else "-norecheck"))
    fa, fb = m.address_space("file-a"), m.address_space("file-b")
    f = m.alloc_folio(0, kind="file")
    fa.add_folio(0, f)                      # locked, the cache's reference
    f.unlock()
    F = s.folio(f, "folio F")               # refcount 2: the cache's and truncate's
    P = s.page(f.pfn, "page P")
    A, B = s.mapping(fa, "file-a"), s.mapping(fb, "file-b")
    SA, SB = s.slot(fa, "file-a[0]"), s.slot(fb, "file-b[0]")
    a = s.task("filemap_get_entry(file-a, 0), then use and put the folio")
    a.rcu_read_lock()
    a.label("repeat")
    a.xas_load("r0", SA).if_null("r0", "out")
    a.folio_try_get("r0").if_failed("repeat")
    if recheck:
        a.xas_reload_is("r0", SA).if_failed("put")
    a.label("out").rcu_read_unlock()
    a.expect_found("r0", A, 0)
    a.if_null("r0", "done").folio_put("r0")
    a.label("done").end()
    if recheck:
        a.label("put").folio_put("r0").goto("repeat")
    b = s.task("truncate file-a (truncate_inode_folio), then the descriptor is reused for file-b")
    s.hold(b, "r0", F)                      # find_lock_entries()'s reference
    b.folio_lock("r0")
    b.xa_store(SA, None)                    # page_cache_delete(): xas_store(NULL)
    b.page_cache_delete("r0")               # folio->mapping = NULL
    b.folio_unlock("r0")
    b.folio_put_owner(F)                    # filemap_free_folio(): the cache's reference
    b.folio_put("r0")                       # folio_batch_release(): the last, or the reader's
    b.alloc_folio("r1", F, P, 0)            # the descriptor and page come straight back
    b.filemap_add_folio("r1", B, SB, 0)
    b.folio_put("r1")
    return s


def _walker(m: Any, recheck: bool, typesafe: bool = True) -> Scenario:
    name = "walker" + ("" if recheck else "-norecheck") + ("" if typesafe else "-not-typesafe")
    s = Scenario(m, name)
    f = m.alloc_folio(1, kind="anon")       # two pages; the walker reads the second
    F = s.folio(f, "folio F", typesafe=typesafe)
    P0 = s.page(f.pfn, "page P0")
    P1 = s.page(f.pfn + 1, "page P1")
    if s.separate_descriptors:
        g = m.alloc_folio(1, kind="anon")   # two free pages for the descriptor's next folio
        q = g.pfn
        g.put()
        new_pages = s.page(q, "page Q0", state="free")
        s.page(q + 1, "page Q1", state="free")
        new_order = 1
        slab_desc = s.slab_descriptor("slab descriptor S") if typesafe else F
    else:
        new_pages, new_order, slab_desc = P0, 0, None
    a = s.task("a PFN walker on P1 (S6): page_folio, try_get, re-check, else put and retry")
    a.rcu_read_lock()
    a.label("repeat")
    a.page_folio("r0", P1).if_null("r0", "out")
    a.folio_try_get("r0").if_ok("got")
    a.set_null("r0").goto("out")
    a.label("got")
    if recheck:
        a.page_folio_is("r0", P1).if_failed("put")
    a.label("out").rcu_read_unlock()
    a.expect_folio_of("r0", P1)
    a.if_null("r0", "done").folio_put("r0")
    a.label("done").end()
    if recheck:
        a.label("put").folio_put("r0").goto("repeat")
    b = s.task("the owner frees F; P1 becomes a slab and F's descriptor is reused")
    s.hold(b, "r0", F)
    b.folio_put("r0")                       # the last reference: F is freed
    b.alloc_slab(P1, slab_desc)
    if typesafe:
        b.alloc_folio("r1", F, new_pages, new_order)
        b.give("r1")
    return s


def _compaction(m: Any, with_ref: bool) -> Scenario:
    s = Scenario(m, "compaction-isolate" + ("" if with_ref else "-noref"))
    fa = m.address_space("file-a")
    f = m.alloc_folio(0, kind="file")
    fa.add_folio(0, f)
    f.unlock()
    F = s.folio(f, "folio F")               # the cache's reference and truncate's
    P = s.page(f.pfn, "page P")
    SA = s.slot(fa, "file-a[0]")
    s.mapping(fa, "file-a")
    slab_desc = s.slab_descriptor("slab descriptor S") if s.separate_descriptors else None
    a = s.task("isolate_migratepages_block() at P" +
               ("" if with_ref else ", trusting the type without a reference"))
    a.page_folio("r0", P).if_null("r0", "done")
    if with_ref:
        a.folio_try_get("r0").if_failed("done")     # folio_get_nontail_page()
        a.page_folio_is("r0", P).if_failed("put")
        a.folio_mapping("r0").if_failed("put")
        a.folio_trylock("r0").if_failed("put")
    else:
        a.folio_mapping("r0").if_failed("done")
        a.folio_trylock("r0").if_failed("done")
        a.folio_get("r0")
    a.folio_mapping("r0").if_failed("unlock")       # again, under the lock: truncated?
    a.expect_isolated("r0")
    a.label("unlock").folio_unlock("r0")
    a.label("put").folio_put("r0")
    a.label("done").end()
    b = s.task("truncate file-a, then P is allocated as a slab")
    s.hold(b, "r0", F)
    b.folio_lock("r0")
    b.xa_store(SA, None)
    b.page_cache_delete("r0")
    b.folio_unlock("r0")
    b.folio_put_owner(F)
    b.folio_put("r0")
    b.alloc_slab(P, slab_desc)
    return s


def _lock_handoff(m: Any, recheck: bool) -> Scenario:
    s = Scenario(m, "folio-lock-handoff" + ("" if recheck else "-norecheck"))
    f = m.alloc_folio(0, kind="file")
    for _ in range(3):
        f.get()
    F = s.folio(f, "folio F")               # its owner's reference and one per task
    for _ in range(3):
        t = s.task("folio_lock(F); the critical section; folio_unlock(F); folio_put(F)")
        s.hold(t, "r0", F)
        t.folio_lock("r0", recheck=recheck)
        t.expect_locked("r0")
        t.folio_unlock("r0")
        t.folio_put("r0")
    return s


SCENARIOS: dict[str, ScenarioInfo] = {i.name: i for i in (
    ScenarioInfo("pagecache-lookup", "pass",
                 "filemap_get_entry() (load, folio_try_get, reload and compare) against "
                 "truncate and reuse of the same folio descriptor for another file",
                 lambda m: _pagecache(m, True)),
    ScenarioInfo("pagecache-lookup-norecheck", "counterexample",
                 "the same lookup without the reload: it returns another file's folio",
                 lambda m: _pagecache(m, False)),
    ScenarioInfo("walker", "pass",
                 "a PFN walker (S6: page -> folio under RCU, try_get, re-check) against "
                 "the folio's free, its page becoming a slab and its descriptor's reuse",
                 lambda m: _walker(m, True)),
    ScenarioInfo("walker-norecheck", "counterexample",
                 "the same walker without the re-check of the page's folio",
                 lambda m: _walker(m, False)),
    ScenarioInfo("walker-not-typesafe", "counterexample",
                 "the walker with a descriptor cache that is not SLAB_TYPESAFE_BY_RCU: "
                 "the freed descriptor's memory becomes a struct slab under the reader",
                 lambda m: _walker(m, True, typesafe=False), classic=False),
    ScenarioInfo("compaction-isolate", "pass",
                 "compaction's migrate scanner (S5: reference first, then the type) "
                 "against truncate, free and the page's reuse as a slab",
                 lambda m: _compaction(m, True)),
    ScenarioInfo("compaction-isolate-noref", "counterexample",
                 "the scanner trusting the page's type and locking it before it holds "
                 "a reference",
                 lambda m: _compaction(m, False)),
    ScenarioInfo("folio-lock-handoff", "pass",
                 "three tasks lock one folio: folio_lock()'s waiter queue, PG_waiters "
                 "and the lock hand-off of folio_wake_bit()",
                 lambda m: _lock_handoff(m, True)),
    ScenarioInfo("folio-lock-handoff-norecheck", "counterexample",
                 "the slow path queues and sleeps without trying the bit again after "
                 "setting PG_waiters: a lost wake-up",
                 lambda m: _lock_handoff(m, False)),
)}


def scenario(name: str, design: str = "classic", bits: int = 64, ram: str = "64MiB") -> Scenario:
    """Build shipped scenario `name` on a fresh machine of that variant.
    Raises KeyError for an unknown name, NotApplicable where it cannot be
    posed."""
    if name not in SCENARIOS:
        raise KeyError(f"no scenario {name!r}; the scenarios: {', '.join(SCENARIOS)}")
    info = SCENARIOS[name]
    why = info.applies(design)
    if why:
        raise NotApplicable(f"{name} on {design}: {why}")
    mod = _variants.module(design, bits)
    m = mod.Machine(ram)
    return info.build(m)


def run(name: str, design: str = "classic", bits: int = 64, random_runs: int | None = None,
        seed: int = 0, max_states: int = 50_000_000, max_depth: int = 500) -> Result:
    """Build and run a shipped scenario: exhaustively, or `random_runs`
    random schedules from `seed`."""
    s = scenario(name, design, bits)
    try:
        if random_runs is None:
            return s.explore(max_states=max_states, max_depth=max_depth)
        return s.random(random_runs, seed=seed, max_depth=max_depth)
    finally:
        s.close()


def list_text() -> str:
    """`memcore explore --list`: a line per scenario."""
    width = max(len(n) for n in SCENARIOS)
    return "\n".join(f"{i.name:<{width}}  expect {i.expect:<14}  {i.summary}"
                     + ("" if i.classic else "  (not on classic)")
                     for i in SCENARIOS.values())


def list_json() -> str:
    return json.dumps([{"name": i.name, "expect": i.expect, "summary": i.summary,
                        "designs": [d for d in dict.fromkeys(d for d, _ in _variants.available())
                                    if i.applies(d) is None]}
                       for i in SCENARIOS.values()], indent=2)


def iter_variants() -> Iterator[tuple[str, int]]:
    yield from _variants.available()


# ---- the command line: memcore explore ----------------------------------------------------

def add_arguments(p: Any) -> None:
    p.add_argument("name", nargs="?", metavar="SCENARIO", help="a scenario (see --list)")
    p.add_argument("--list", action="store_true", help="list the shipped scenarios")
    p.add_argument("--all", action="store_true",
                   help="run every scenario on every chosen variant; one line each")
    p.add_argument("--design", default=None,
                   help="design (default: classic; with --all: every design)")
    p.add_argument("--bits", type=int, default=None, choices=(32, 64),
                   help="word size (default 64; with --all: both)")
    p.add_argument("--random", type=int, default=None, metavar="N",
                   help="run N random schedules instead of every interleaving")
    p.add_argument("--seed", type=int, default=0, help="seed of --random (default 0)")
    p.add_argument("--max-states", type=int, default=50_000_000,
                   help="stop an exhaustive search after this many states")
    p.add_argument("--max-depth", type=int, default=500, help="steps per schedule at most")
    p.add_argument("--replay", default=None, metavar="T,T,...",
                   help="run this schedule (task numbers) step by step and print it")
    p.add_argument("--program", action="store_true", help="print the tasks' programs first")
    p.add_argument("--json", action="store_true", help="print JSON")


def _variant_ids(design: str | None, bits: int | None, every: bool) -> list[tuple[str, int]]:
    avail = list(_variants.available())
    designs = [d for d in dict.fromkeys(d for d, _ in avail)]
    if design is not None and design not in designs:
        from .errors import UnknownChoice
        raise UnknownChoice("design", design, designs)
    if not every:
        design = design or "classic"
        bits = bits or 64
    return [(d, b) for d, b in avail if (design is None or d == design)
            and (bits is None or b == bits)]


def _fmt_rate(r: Result) -> str:
    unit = "steps" if r.mode == "random" else "states"   # random runs count steps
    rate = f", {r.states_per_second:,.0f} {unit}/s" if r.seconds > 0 else ""
    return f"{r.seconds * 1e3:.1f} ms{rate}"


def command(args: Any) -> int:
    if args.list:
        if args.json:
            print(list_json())
            return 0
        print(list_text())
        return 0
    if args.all:
        return _command_all(args)
    if not args.name:
        sys.stderr.write("memcore explore: error: name a scenario, or --list / --all\n")
        return 2
    if args.name not in SCENARIOS:
        sys.stderr.write(f"memcore explore: error: no scenario {args.name!r}; the scenarios: "
                         f"{', '.join(SCENARIOS)}\n")
        return 2
    (design, bits), = _variant_ids(args.design, args.bits, False) or [(None, None)]
    if design is None:
        sys.stderr.write(f"memcore explore: error: variant {args.design}{args.bits} is not "
                         "built\n")
        return 2
    try:
        s = scenario(args.name, design, bits)
    except NotApplicable as e:
        sys.stderr.write(f"memcore explore: error: {e}\n")
        return 2
    vid = f"{design}{bits}"
    try:
        if args.program and not args.json:
            print(s.describe())
            print()
        if args.replay is not None:
            try:
                sched = [int(x) for x in args.replay.split(",") if x.strip()]
            except ValueError:
                sys.stderr.write("memcore explore: error: --replay takes task numbers, "
                                 "e.g. 0,1,1,0\n")
                return 2
            try:
                text = s.format_schedule(sched)
            except ValueError as e:
                sys.stderr.write(f"memcore explore: error: {e}\n")
                return 2
            steps, end = s.replay(sched)
            bad = any(st["violation"] for st in steps) or end
            if args.json:
                print(json.dumps({"scenario": args.name, "variant": vid, "schedule": sched,
                                  "violation": bool(bad), "text": text}, indent=2))
            else:
                print(text)
            return 1 if bad else 0
        if args.random is not None:
            if args.random < 1:
                sys.stderr.write("memcore explore: error: --random takes a count >= 1\n")
                return 2
            r = s.random(args.random, seed=args.seed, max_depth=args.max_depth)
        else:
            r = s.explore(max_states=args.max_states, max_depth=args.max_depth)
    finally:
        s.close()
    if args.json:
        d = r.to_dict()
        d["expect"] = SCENARIOS[args.name].expect
        d["counterexample"] = r.counterexample
        print(json.dumps(d, indent=2))
        return 0 if r.passed else 1
    how = (f"{r.stats.get('runs', 0)} random schedules (seed {args.seed}), {r.transitions} steps"
           if r.mode == "random" else
           f"{'exhaustive' if r.exhaustive else 'NOT exhaustive'}: {r.states} states, "
           f"{r.transitions} transitions, {r.stats['terminals']} end states")
    if r.passed:
        if r.mode == "random":
            print(f"{args.name} on {vid}: none of {r.stats.get('runs', 0)} random schedules "
                  "violates an invariant (not a proof: run it without --random for one)")
        else:
            print(f"{args.name} on {vid}: no interleaving violates an invariant")
        print(f"  {how}, in {_fmt_rate(r)}")
        if r.stats.get("state_limit_hit"):
            print(f"  stopped at --max-states {args.max_states}")
        if r.stats.get("depth_cuts"):
            print(f"  {r.stats['depth_cuts']} schedules cut at --max-depth {args.max_depth}")
        return 0
    print(f"{args.name} on {vid}: COUNTEREXAMPLE")
    print(f"  {r.violation}")
    found = (f"{r.stats.get('runs', 0)} random schedules (seed {args.seed})"
             if r.mode == "random" else f"{r.states} states, {r.transitions} transitions")
    print(f"  found after {found}, in {_fmt_rate(r)}")
    print()
    print(r.counterexample)
    sched = ",".join(str(t) for t in r.schedule or [])
    print()
    print(f"replay: memcore explore {args.name} --design {design} --bits {bits} --replay {sched}")
    return 1


def _command_all(args: Any) -> int:
    rows, ok = [], True
    for design, bits in _variant_ids(args.design, args.bits, True):
        for info in SCENARIOS.values():
            if info.applies(design):
                continue
            r = run(info.name, design, bits, args.random, args.seed, args.max_states,
                    args.max_depth)
            got = "pass" if r.passed else "counterexample"
            good = got == info.expect and (r.exhaustive or not r.passed or r.mode == "random")
            ok &= good
            rows.append({"variant": f"{design}{bits}", "scenario": info.name,
                         "expect": info.expect, "got": got, "as_expected": good,
                         "states": r.states, "seconds": round(r.seconds, 6),
                         "states_per_second": round(r.states_per_second)})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            mark = "ok " if row["as_expected"] else "BAD"
            print(f"{mark} {row['variant']:<16} {row['scenario']:<30} {row['got']:<15} "
                  f"{row['states']:>7} states {row['seconds'] * 1e3:8.2f} ms")
    return 0 if ok else 1
