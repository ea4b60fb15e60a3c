# Tasks, bit locks and the folio wait table (mm/filemap.c folio_lock(),
# folio_unlock(), folio_wake_bit(); include/linux/pagemap.h), Linux 6.18.
#
# Provides: Task (a view of mc_machine.tasks[id]); task_add(); the bit-lock
#   steps bit_trylock(), bit_lock(), bit_unlock() and their wake-up
#   wake_bit(); lock_owner(); check_waiters().
# Uses: decl.pxi (mc_task, mc_waitq, mc_lock_owner, bitops), errors.pxi.
#
# Every piece of this state lives in struct mc_machine (include/memcore/
# machine.h): the tasks, which task holds which bit lock, and the 256
# buckets of folio_wait_table with their sleepers in queue order.  A step is
# a plain C function on that struct; the Python classes validate, call and
# turn codes into exceptions.  Tasks are modeled: a "sleeping" task is one
# whose wait_kind is set, and it cannot run until another step wakes it.

# bit_lock() outcomes (>= 0); MC_ENOMEM when the state could not grow
cdef enum:
    BITLOCK_SLEPT = 0       # queued EXCLUSIVE; PG_waiters set
    BITLOCK_TAKEN = 1
    BITLOCK_SELF = 2        # the task holds this lock itself: it would never wake
    BITLOCK_IN_RCU = 3      # the task is inside an RCU read-side section: may not sleep


cdef int grow(void **arr, int *cap, int need, size_t elem) noexcept nogil:
    """Make room for `need` elements in a realloc'd array; MC_ENOMEM, unchanged, if not."""
    cdef int ncap
    cdef void *p
    if need <= cap[0]:
        return 0
    ncap = cap[0] * 2 if cap[0] else 8
    while ncap < need:
        ncap *= 2
    p = realloc(arr[0], ncap * elem)
    if p == NULL:
        return MC_ENOMEM
    arr[0] = p
    cap[0] = ncap
    return 0


cdef int task_add(mc_machine *m, int cpu) noexcept nogil:
    """A new task on `cpu`: its id, or MC_ENOMEM."""
    cdef mc_task *t
    if grow(<void **>&m.tasks, &m.tasks_cap, m.nr_tasks + 1, sizeof(mc_task)):
        return MC_ENOMEM
    t = &m.tasks[m.nr_tasks]
    memset(t, 0, sizeof(mc_task))
    t.cpu = cpu
    m.nr_tasks += 1
    return m.nr_tasks - 1


cdef int lock_owner(const mc_machine *m, mc_ulong key) noexcept nogil:
    """The task recorded as holding the bit lock of `key`, or -1."""
    cdef int i
    for i in range(m.nr_owners):
        if m.owners[i].key == key:
            return m.owners[i].task
    return -1


cdef void lock_owner_clear(mc_machine *m, mc_ulong key) noexcept nogil:
    cdef int i
    for i in range(m.nr_owners):
        if m.owners[i].key == key:
            m.nr_owners -= 1
            m.owners[i] = m.owners[m.nr_owners]
            return


cdef inline void lock_owner_set(mc_machine *m, mc_ulong key, int task) noexcept nogil:
    """Record the holder; the caller made room (owner_room())."""
    m.owners[m.nr_owners].key = key
    m.owners[m.nr_owners].task = task
    m.nr_owners += 1


cdef inline int owner_room(mc_machine *m) noexcept nogil:
    return grow(<void **>&m.owners, &m.owners_cap, m.nr_owners + 1, sizeof(mc_lock_owner))


cdef int bit_trylock(mc_machine *m, mc_ulong key, mc_ulong *word, int task) noexcept nogil:
    """test_and_set_bit_lock(PG_locked): BITLOCK_TAKEN or BITLOCK_SLEPT's 0 (busy)."""
    if owner_room(m):
        return MC_ENOMEM
    if test_and_set_bit(PG_locked, word):
        return 0
    lock_owner_set(m, key, task)
    return BITLOCK_TAKEN


cdef int bit_lock(mc_machine *m, mc_ulong key, mc_ulong *word, int task) noexcept nogil:
    """folio_lock(): take the lock, or (folio_wait_bit_common(EXCLUSIVE)) set
    PG_waiters, queue the task in its wait-table bucket and put it to sleep."""
    cdef mc_waitq *q = &m.wait_table[mc_wait_hash(key)]
    cdef mc_waiter *w
    if owner_room(m) or grow(<void **>&q.w, &q.cap, q.nr + 1, sizeof(mc_waiter)):
        return MC_ENOMEM
    if not test_and_set_bit(PG_locked, word):
        lock_owner_set(m, key, task)
        return BITLOCK_TAKEN
    if lock_owner(m, key) == task:
        return BITLOCK_SELF
    if m.tasks[task].rcu_nesting:
        return BITLOCK_IN_RCU
    set_bit(PG_waiters, word)
    w = &q.w[q.nr]
    w.key = key
    w.task = task
    w.bit = PG_locked
    w.exclusive = 1
    q.nr += 1
    m.tasks[task].wait_kind = MC_WAIT_LOCK
    m.tasks[task].wait_key = key
    m.tasks[task].wait_bit = PG_locked
    return BITLOCK_SLEPT


cdef int bit_unlock(mc_machine *m, mc_ulong key, mc_ulong *word) noexcept nogil:
    """folio_unlock(): clear PG_locked with the xor that reports PG_waiters
    (folio_xor_flags_has_waiters()); wake if it was set.  1 if waiters had to
    be woken, 0 if not, MC_ENOTLOCKED (nothing changed) if it was not locked."""
    cdef mc_ulong old = word[0]
    if not (old >> PG_locked) & 1:
        return MC_ENOTLOCKED
    word[0] = old ^ (<mc_ulong>1 << PG_locked)
    lock_owner_clear(m, key)
    if (old >> PG_waiters) & 1:
        wake_bit(m, key, word, PG_locked)
        return 1
    return 0


cdef void wake_bit(mc_machine *m, mc_ulong key, mc_ulong *word, int bit) noexcept nogil:
    """folio_wake_bit(): wake the waiters of (key, bit) in queue order; the first
    exclusive waiter takes the lock over and ends the walk.  PG_waiters is
    cleared when no waiter for this word was seen, or the bucket emptied.
    The caller has just cleared an owner entry, so recording the new owner
    needs no allocation."""
    cdef mc_waitq *q = &m.wait_table[mc_wait_hash(key)]
    cdef bint page_match = False
    cdef int i = 0, tid, excl
    while i < q.nr:
        if q.w[i].key != key:
            i += 1
            continue
        page_match = True
        if q.w[i].bit != bit:
            i += 1
            continue
        tid = q.w[i].task
        excl = q.w[i].exclusive
        if excl:
            if test_and_set_bit(bit, word):
                break                      # somebody re-took it: stop the walk
            lock_owner_set(m, key, tid)
        memmove(&q.w[i], &q.w[i + 1], (q.nr - i - 1) * sizeof(mc_waiter))
        q.nr -= 1
        m.tasks[tid].wait_kind = MC_WAIT_NONE
        if excl:
            break
    if q.nr == 0 or not page_match:
        clear_bit(PG_waiters, word)


cdef int check_waiters(mc_machine *m) noexcept nogil:
    """Every sleeper's flags word says PG_waiters, and its task sleeps on it."""
    cdef int b, i
    cdef mc_waiter *w
    for b in range(PAGE_WAIT_TABLE_SIZE):
        for i in range(m.wait_table[b].nr):
            w = &m.wait_table[b].w[i]
            if not test_bit(PG_waiters, <mc_ulong *>mc_host(m, w.key)):
                m.err = MC_EINVAL
                m.err_pfn = -1
                snprintf(m.err_msg, sizeof(m.err_msg),
                         b"task %d waits on %#llx but PG_waiters is clear",
                         w.task, <unsigned long long>w.key)
                return MC_EINVAL
            if m.tasks[w.task].wait_kind != MC_WAIT_LOCK or m.tasks[w.task].wait_key != w.key:
                m.err = MC_EINVAL
                m.err_pfn = -1
                snprintf(m.err_msg, sizeof(m.err_msg),
                         b"task %d is queued on %#llx but does not sleep on it",
                         w.task, <unsigned long long>w.key)
                return MC_EINVAL
    return 0


cdef void tasks_release(mc_machine *m) noexcept nogil:
    """Free the C arrays of the task, lock and wait state."""
    cdef int b
    for b in range(PAGE_WAIT_TABLE_SIZE):
        free(m.wait_table[b].w)
        m.wait_table[b].w = NULL
        m.wait_table[b].nr = m.wait_table[b].cap = 0
    free(m.tasks)
    free(m.owners)
    m.tasks = NULL
    m.owners = NULL
    m.nr_tasks = m.tasks_cap = m.nr_owners = m.owners_cap = 0


@cython.final
@cython.auto_pickle(False)
cdef class Task:
    """A modeled task: who holds a lock, who waits, which CPU allocates, who
    is inside an RCU read-side critical section.

    ``with m.task("A"):`` makes A the current task of the machine.  The
    task's state is machine state (struct mc_task); this is a view of it.
    """
    cdef readonly str name
    cdef readonly int id
    cdef readonly Machine machine
    cdef list _prev                  # machine.current before each `with task:`

    def __cinit__(self):
        _take_view_token("Task")
        self._prev = []

    cdef inline mc_task *_t(self) noexcept:
        return &self.machine.m.tasks[self.id]

    @property
    def cpu(self):
        """The CPU the task runs on."""
        return self._t().cpu

    @property
    def rcu_nesting(self):
        """rcu_read_lock() depth."""
        return self._t().rcu_nesting

    @property
    def waiting(self):
        """True while the task sleeps (on a lock, or in synchronize_rcu())."""
        return self._t().wait_kind != MC_WAIT_NONE

    @property
    def waiting_on(self):
        """The modeled address of the flags word the task sleeps on, or None."""
        if self._t().wait_kind != MC_WAIT_LOCK:
            return None
        return Address(self._t().wait_key)

    @property
    def waiting_for(self):
        """What the task sleeps for, in words (None when it runs)."""
        cdef mc_task *t = self._t()
        if t.wait_kind == MC_WAIT_LOCK:
            return f"the lock of the flags word at {t.wait_key:#x}"
        if t.wait_kind == MC_WAIT_RCU:
            return f"an RCU grace period (synchronize_rcu, gp {t.wait_gp})"
        return None

    @property
    def in_rcu_read_section(self):
        """True inside rcu_read_lock() ... rcu_read_unlock()."""
        return self._t().rcu_nesting > 0

    def __enter__(self):
        # a stack, so that `with a:` inside `with a:` restores what was current
        self._prev.append(self.machine.current)
        self.machine.current = self
        return self

    def __exit__(self, *exc):
        if self._prev:
            self.machine.current = self._prev.pop()
        return False

    def __repr__(self):
        cdef mc_task *t = self._t()
        state = f" waiting for {self.waiting_for}" if t.wait_kind else ""
        rcu = f" in RCU read section (depth {t.rcu_nesting})" if t.rcu_nesting else ""
        return f"<Task {self.name!r} cpu {t.cpu}{rcu}{state}>"


# ---- the Machine side: validation done, one step, codes into exceptions -----------

cdef object machine_task(Machine machine, str name, cpu):
    cdef Task t = machine._task_by_name.get(name)
    if t is not None:
        if cpu is not None and cpu != t._t().cpu:
            raise ValueError(f"task {name!r} runs on CPU {t._t().cpu}, not {cpu}")
        return t
    cpu = 0 if cpu is None else cpu
    if not isinstance(cpu, int) or not 0 <= cpu < machine.m.nr_cpus:
        raise ValueError(f"cpu must be 0..{machine.m.nr_cpus - 1}, not {cpu!r}")
    tid = task_add(machine.m, cpu)
    if tid < 0:
        raise MemoryError("cannot grow the task table")
    _allow_view()
    t = Task.__new__(Task)
    t.name = name
    t.id = tid
    t.machine = machine
    machine._tasks.append(t)
    machine._task_by_name[name] = t
    return t


cdef object machine_bit_trylock(Machine machine, mc_ulong key, mc_ulong *word, object task):
    cdef Task t = machine._running(task)
    cdef int rc = bit_trylock(machine.m, key, word, t.id)
    if rc < 0:
        raise MemoryError("cannot grow the lock-owner table")
    return rc == BITLOCK_TAKEN


cdef object machine_bit_lock(Machine machine, mc_ulong key, mc_ulong *word, object task):
    cdef Task t = machine._running(task)
    cdef int rc = bit_lock(machine.m, key, word, t.id)
    if rc == BITLOCK_SELF:
        raise Deadlock(f"task {t.name!r} would sleep on a lock it holds itself "
                       f"(flags word at {key:#x})", machine_dump_key(machine, key))
    if rc == BITLOCK_IN_RCU:
        raise Deadlock(f"task {t.name!r} would sleep on a lock inside an RCU read-side "
                       f"critical section (BUG: sleeping function called from invalid "
                       f"context)", machine_dump_key(machine, key))
    if rc < 0:
        raise MemoryError("cannot grow the lock or wait tables")
    return rc == BITLOCK_TAKEN


cdef object machine_bit_unlock(Machine machine, mc_ulong key, mc_ulong *word, object task):
    cdef int rc
    machine._running(task)
    rc = bit_unlock(machine.m, key, word)
    cdef int64_t pfn
    if rc == MC_ENOTLOCKED:
        pfn = mc_flags_word_pfn(machine.m, key)
        if pfn >= 0:
            set_err(machine.m, MC_ENOTLOCKED, pfn,
                    b"folio_unlock() of a folio that is not locked (VM_BUG_ON_FOLIO)")
            machine._raise(MC_ENOTLOCKED)
        raise FolioNotLocked(f"unlock of the flags word at {key:#x}, which is not locked")
    return rc == 1


cdef object machine_lock_owner(Machine machine, mc_ulong key):
    """The Task holding the bit lock of the flags word at `key`, or None."""
    cdef int tid = lock_owner(machine.m, key)
    return machine._tasks[tid] if tid >= 0 else None


cdef str machine_dump_key(Machine machine, mc_ulong key):
    cdef int64_t pfn = mc_flags_word_pfn(machine.m, key)
    if pfn >= 0:
        return dump_page(machine, <uint64_t>pfn, None)
    return ""


cdef object machine_waiters(Machine machine, address):
    cdef mc_ulong key = address
    cdef mc_waitq *q = &machine.m.wait_table[mc_wait_hash(key)]
    return [machine._tasks[q.w[i].task] for i in range(q.nr) if q.w[i].key == key]
