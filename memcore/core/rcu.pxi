# RCU inside the model: read-side critical sections per task, callbacks,
# and an explicit grace-period engine.
#
# A grace period (GP) ends only when every task that was inside a read-side
# critical section when the GP started has left it.  Callbacks queued with
# call_rcu() wait for a whole GP that starts after they were queued (the
# kernel's "next" and "wait" callback segments).  The engine advances when
# asked (m.rcu.advance()) and by itself at quiescent points: when the last
# task holding back a GP leaves its read section, the GP ends and its
# callbacks run.  No threads are needed: tasks are modeled.
#
# Provides: RCU, _RCUReadSection, the Machine's RCU API (machine_rcu_*).
# Uses: tasks.pxi (Task state), slub.pxi (rcu_slabs).


@cython.final
@cython.auto_pickle(False)
cdef class RCU:
    """The machine's RCU state: m.rcu."""
    cdef readonly Machine machine
    cdef readonly uint64_t gp_seq          # grace periods completed
    cdef readonly bint gp_in_progress      # a GP has started and not ended
    cdef set _holdouts                      # tasks the current GP waits for
    cdef list _next                         # callbacks for the next GP
    cdef list _wait                         # callbacks of the GP in progress
    cdef readonly uint64_t callbacks_invoked

    def __cinit__(self, Machine machine not None):
        _take_view_token("RCU")
        self.machine = machine
        self._holdouts = set()
        self._next = []
        self._wait = []

    @property
    def holdouts(self):
        """Tasks still inside the read section they were in when the GP started."""
        return sorted(self._holdouts, key=lambda t: t.id)

    @property
    def pending(self):
        """Callbacks queued and not yet invoked (a batch of RCU-freed slabs counts once)."""
        return len(self._next) + len(self._wait) + (1 if self.machine.m.rcu_slabs else 0) + \
            (1 if self.machine.m.rcu_xa_nodes else 0)

    @property
    def slabs_waiting(self):
        """Slabs of SLAB_TYPESAFE_BY_RCU caches waiting for a grace period to be freed."""
        return self.machine.m.rcu_slabs_nr

    cdef _kick(self):
        """Slabs were queued by free_slab(): make sure a grace period will come."""
        if (self.machine.m.rcu_slabs or self.machine.m.rcu_xa_nodes) and \
                not self.gp_in_progress:
            self._start_gp()

    def __repr__(self):
        state = (f"GP {self.gp_seq + 1} in progress, holdouts "
                 f"{[t.name for t in self.holdouts]}" if self.gp_in_progress else "idle")
        return f"<RCU gp_seq {self.gp_seq}, {state}, {self.pending} callbacks pending>"

    cdef _queue(self, object fn):
        self._next.append(fn)
        if not self.gp_in_progress:
            self._start_gp()

    cdef _start_gp(self):
        self.machine._rcu_collect(self._next)     # deferred work queued in C (slabs)
        if not self._next:
            return
        self.gp_in_progress = True
        self._wait = self._next
        self._next = []
        self._holdouts = {t for t in self.machine._tasks if (<Task>t)._t().rcu_nesting > 0}

    cdef int _try_end_gp(self) except -1:
        cdef list done
        if not self.gp_in_progress or self._holdouts:
            return 0
        self.gp_in_progress = False
        self.gp_seq += 1
        done = self._wait
        self._wait = []
        # rcu_do_batch(): every callback of the batch runs; one that fails does not
        # strand the others (their slabs, their sleepers).  The first error is
        # raised once the batch is done.
        err = None
        for fn in done:
            self.callbacks_invoked += 1
            try:
                fn()
            except BaseException as e:
                if err is None:
                    err = e
        if err is not None:
            raise err
        return 1

    def advance(self):
        """Move the grace-period machinery as far as it can go now.

        Ends the GP in progress if no task holds it back (running its
        callbacks), then the one for callbacks queued before this call.
        Callbacks queued by the callbacks it runs wait for a later grace
        period (the kernel's next segment), so a callback that queues itself
        cannot keep it going.  Returns the number of grace periods completed."""
        cdef int n = 0
        cdef uint64_t target
        self.machine._rcu_collect(self._next)
        # what was queued before now: the GP in progress, then one for _next
        target = self.gp_seq + (1 if self.gp_in_progress else 0) + (1 if self._next else 0)
        while self.gp_seq < target:
            if not self.gp_in_progress:
                self._start_gp()
                if not self.gp_in_progress:
                    return n
            if not self._try_end_gp():
                return n
            n += 1
        return n

    def barrier(self):
        """rcu_barrier(): run every callback queued so far.  False if a reader
        holds a grace period back (the caller would have to wait), or if the
        callbacks keep queuing new ones.  A second round takes the slabs the
        callbacks' frees handed to RCU (kvfree_rcu_barrier() then rcu_barrier())."""
        if self.advance() and self.pending:
            self.advance()
        return self.pending == 0

    def _pending_slab_heads(self):
        """Slab chains collected for a grace period that has not ended yet."""
        return [(<_FreeRCUSlabs>f).head for f in self._next + self._wait
                if isinstance(f, _FreeRCUSlabs)]

    cdef _quiescent(self, Task t):
        """t left its outermost read section: a quiescent state for it."""
        if t in self._holdouts:
            self._holdouts.discard(t)
            if not self._holdouts:
                self.advance()


cdef class _WakeAfterGP:
    """synchronize_rcu()'s callback: wakes the waiting task."""
    cdef Task task
    cdef public bint done

    def __cinit__(self):
        _take_view_token("_WakeAfterGP")

    def __call__(self):
        self.done = True
        if self.task._t().wait_kind == MC_WAIT_RCU:
            self.task._t().wait_kind = MC_WAIT_NONE


@cython.final
cdef class _RCUReadSection:
    cdef Machine machine
    cdef object task

    def __cinit__(self, Machine machine not None, task):
        _take_view_token("_RCUReadSection")
        self.machine = machine
        self.task = task

    def __enter__(self):
        self.machine.rcu_read_lock(self.task)
        return self

    def __exit__(self, *exc):
        self.machine.rcu_read_unlock(self.task)
        return False


cdef class _FreeRCUSlabs:
    """rcu_free_slab() for a chain of slabs, after their grace period."""
    cdef Machine machine
    cdef mc_ulong head

    def __cinit__(self):
        _take_view_token("_FreeRCUSlabs")

    def __call__(self):
        rcu_free_slabs(self.machine.m, self.head)
        self.head = 0


cdef class _DeferredKfree:
    """kfree_rcu()'s callback.  The kernel frees the batch from RCU callback /
    kfree_rcu work context on the CPU whose krcp queued it, never as a user
    task: so the free runs on the queuing CPU and as no task (whatever task is
    current, asleep or in a read section, is not involved)."""
    cdef Machine machine
    cdef mc_ulong addr
    cdef int cpu

    def __cinit__(self, Machine machine not None, mc_ulong addr, int cpu):
        _take_view_token("_DeferredKfree")
        self.machine = machine
        self.addr = addr
        self.cpu = cpu

    def __call__(self):
        cdef int rc
        self.machine._kfree_rcu_queued.discard(self.addr)
        self.machine.m.slub_pid = 0                 # RCU callback context: no task
        rc = kfree(self.machine.m, self.addr, self.cpu)
        if rc:
            self.machine._raise(rc)
        self.machine.rcu._kick()


# ---- the Machine's RCU API ------------------------------------------------------

cdef object machine_rcu_read_lock(Machine machine, task):
    cdef Task t = machine._running(task)
    t._t().rcu_nesting += 1


cdef object machine_rcu_read_unlock(Machine machine, task):
    cdef Task t = machine._running(task)
    if t._t().rcu_nesting == 0:
        raise VMBug(f"rcu_read_unlock() by task {t.name!r} outside any RCU read-side "
                    f"critical section")
    t._t().rcu_nesting -= 1
    if t._t().rcu_nesting == 0:
        machine.rcu._quiescent(t)


cdef object machine_synchronize_rcu(Machine machine, task):
    cdef Task t = machine._running(task)
    cdef _WakeAfterGP w
    if t._t().rcu_nesting:
        raise Deadlock(f"Illegal synchronize_rcu() in RCU read-side critical section "
                       f"(task {t.name!r})")
    _allow_view()
    w = _WakeAfterGP()
    w.task = t
    machine.rcu._queue(w)
    machine.rcu.advance()
    if w.done:
        return True
    # the GP in progress holds w, or w waits for the one after it
    t._t().wait_kind = MC_WAIT_RCU
    t._t().wait_gp = machine.rcu.gp_seq + (1 if any(f is w for f in machine.rcu._wait) else 2)
    return False


cdef class _FreeRCUXaNodes:
    """radix_tree_node_rcu_free() for a chain of XArray nodes, after their grace period."""
    cdef Machine machine
    cdef mc_ulong head

    def __cinit__(self):
        _take_view_token("_FreeRCUXaNodes")

    def __call__(self):
        self.machine.m.slub_pid = 0                 # RCU callback context: no task
        rcu_free_xa_nodes(self.machine.m, self.head)
        self.head = 0


cdef machine_rcu_collect(Machine machine, list into):
    """Hand the slabs free_slab() and the XArray nodes xa_node_free() queued
    for RCU to the next grace period."""
    cdef _FreeRCUSlabs f
    cdef _FreeRCUXaNodes x
    if machine.m.rcu_xa_nodes:
        _allow_view()
        x = _FreeRCUXaNodes()
        x.machine = machine
        x.head = machine.m.rcu_xa_nodes
        machine.m.rcu_xa_nodes = 0
        into.append(x)
    if machine.m.rcu_slabs:
        _allow_view()
        f = _FreeRCUSlabs()
        f.machine = machine
        f.head = machine.m.rcu_slabs
        machine.m.rcu_slabs = 0
        into.append(f)
