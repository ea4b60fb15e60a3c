"""RCU inside the model: read-side critical sections per task, call_rcu and
grace periods, synchronize_rcu, kfree_rcu, rcu_barrier, and SLAB_TYPESAFE_BY_RCU
slabs whose pages return to the page allocator only after a grace period.

A grace period (GP) ends only when every task that was inside a read section
when it started has left it; callbacks wait for a whole GP that starts after
they were queued (kernel/rcu/tree.c semantics, notes section 7)."""
from __future__ import annotations

import pytest

from memcore import Deadlock, MemcoreError, VMBug

import kfacts as K
import slabkit as S
from slabkit import mem


def tasks(m):
    return m.task("A", cpu=0), m.task("B", cpu=1)


# ---- read-side critical sections -------------------------------------------------------------

def test_read_lock_nests_per_task(machine):
    m = machine()
    A, B = tasks(m)
    for depth in (1, 2, 3):
        m.rcu_read_lock(A)
        assert A.rcu_nesting == depth and A.in_rcu_read_section
    assert B.rcu_nesting == 0 and not B.in_rcu_read_section
    with B:                                         # the current task by default
        m.rcu_read_lock()
    assert B.rcu_nesting == 1 and m.current.name == "init"
    for depth in (2, 1, 0):
        m.rcu_read_unlock(A)
        assert A.rcu_nesting == depth
    assert not A.in_rcu_read_section and B.rcu_nesting == 1
    m.rcu_read_unlock(B)
    m.check()


def test_unlock_without_lock_raises(machine):
    m = machine()
    A, B = tasks(m)
    m.rcu_read_lock(B)
    log = []
    m.call_rcu(lambda: log.append(1))
    state = (m.rcu.gp_seq, m.rcu.gp_in_progress, m.rcu.pending, m.rcu.holdouts)
    with pytest.raises(VMBug, match="outside"):
        m.rcu_read_unlock(A)
    assert A.rcu_nesting == 0 and B.rcu_nesting == 1
    assert (m.rcu.gp_seq, m.rcu.gp_in_progress, m.rcu.pending, m.rcu.holdouts) == state
    assert log == []
    m.rcu_read_unlock(B)
    assert log == [1]
    m.check()


def test_rcu_read_context_manager(machine):
    m = machine()
    A, _ = tasks(m)
    with m.rcu_read(A):
        assert A.rcu_nesting == 1
        with m.rcu_read(A):
            assert A.rcu_nesting == 2
        assert A.rcu_nesting == 1
    assert A.rcu_nesting == 0
    with pytest.raises(KeyError):
        with m.rcu_read(A):
            raise KeyError("inside")
    assert A.rcu_nesting == 0                        # left on the exception too
    m.check()


# ---- call_rcu and the grace-period engine -------------------------------------------------------

def test_call_rcu_runs_after_a_grace_period(machine):
    m = machine()
    log = []
    seq = m.rcu.gp_seq
    m.call_rcu(lambda: log.append("cb"))
    assert log == [] and m.rcu.pending == 1          # never synchronously
    assert m.rcu.advance() == 1
    assert log == ["cb"] and m.rcu.gp_seq == seq + 1 and m.rcu.pending == 0
    assert m.rcu.advance() == 0 and not m.rcu.gp_in_progress
    with pytest.raises(TypeError):
        m.call_rcu(42)
    assert m.rcu.pending == 0
    m.check()


def test_callbacks_run_in_queue_order(machine):
    m = machine()
    log = []
    for i in range(5):
        m.call_rcu(lambda i=i: log.append(i))
    m.rcu.barrier()
    assert log == list(range(5))


def test_reader_from_before_the_gp_holds_it_back(machine):
    m = machine()
    A, B = tasks(m)
    log = []
    m.rcu_read_lock(A)
    m.rcu_read_lock(A)                               # nested
    m.call_rcu(lambda: log.append(1))
    assert m.rcu.gp_in_progress and m.rcu.holdouts == [A]
    assert m.rcu.advance() == 0 and log == []
    # a reader that starts after the GP began does not hold it back
    m.rcu_read_lock(B)
    assert m.rcu.holdouts == [A]
    m.call_rcu(lambda: log.append(2))                # needs the next GP
    m.rcu_read_unlock(A)
    assert log == [] and m.rcu.holdouts == [A]       # still inside (depth 1)
    seq = m.rcu.gp_seq
    m.rcu_read_unlock(A)                             # quiescent state: the GP ends by itself
    assert log == [1] and m.rcu.gp_seq == seq + 1
    # callback 2 was queued during GP 1: its own GP started now, and B holds it back
    assert m.rcu.gp_in_progress and m.rcu.holdouts == [B]
    assert m.rcu.advance() == 0 and log == [1]
    m.rcu_read_unlock(B)
    assert log == [1, 2] and m.rcu.gp_seq == seq + 2 and not m.rcu.gp_in_progress
    m.check()


def test_reader_after_the_gp_started_does_not_hold_it_back(machine):
    m = machine()
    A, B = tasks(m)
    log = []
    m.call_rcu(lambda: log.append(1))
    m.rcu_read_lock(A)
    m.rcu_read_lock(B)
    assert m.rcu.holdouts == []
    assert m.rcu.advance() == 1 and log == [1]
    m.rcu_read_unlock(A)
    m.rcu_read_unlock(B)
    m.check()


# ---- synchronize_rcu ----------------------------------------------------------------------------

def test_synchronize_rcu_without_readers(machine):
    m = machine()
    A, _ = tasks(m)
    seq = m.rcu.gp_seq
    assert m.synchronize_rcu(A) is True
    assert not A.waiting and A.waiting_for is None and m.rcu.gp_seq == seq + 1
    assert m.synchronize_rcu() is True                 # as the current task
    m.check()


def test_synchronize_rcu_sleeps_until_the_reader_leaves(machine):
    m = machine()
    A, B = tasks(m)
    m.rcu_read_lock(B)
    assert m.synchronize_rcu(A) is False
    assert A.waiting and "RCU grace period" in A.waiting_for and A.waiting_on is None
    assert m.rcu.holdouts == [B]
    with pytest.raises(Deadlock, match="asleep"):    # a sleeping task cannot run
        m.kmalloc(32, task=A)
    m.check()
    m.rcu_read_unlock(B)
    assert not A.waiting and A.waiting_for is None
    m.kfree(m.kmalloc(32, task=A), task=A)
    m.check()


def test_synchronize_rcu_queued_behind_a_running_grace_period(machine):
    """Called while GP 1 runs, synchronize_rcu() needs GP 2: it also waits for a reader
    that is inside a section when GP 2 starts."""
    m = machine()
    A, B = tasks(m)
    C = m.task("C", cpu=1)
    log = []
    m.rcu_read_lock(B)
    m.call_rcu(lambda: log.append("gp1"))
    assert m.synchronize_rcu(A) is False
    m.rcu_read_lock(C)                                  # after the call, before GP 2
    m.rcu_read_unlock(B)
    assert log == ["gp1"] and A.waiting and m.rcu.holdouts == [C]
    m.rcu_read_unlock(C)
    assert not A.waiting
    # without a new reader, the second GP ends together with the first
    m.rcu_read_lock(B)
    m.call_rcu(lambda: log.append("gp3"))
    assert m.synchronize_rcu(A) is False
    m.rcu_read_unlock(B)
    assert log == ["gp1", "gp3"] and not A.waiting and not m.rcu.gp_in_progress
    m.check()


def test_synchronize_rcu_names_the_grace_period_it_waits_for(machine):
    """With no GP running, the caller's own callback starts the GP that wakes it."""
    m = machine()
    A, B = tasks(m)
    m.rcu_read_lock(B)
    assert m.synchronize_rcu(A) is False
    named = int(A.waiting_for.rstrip(")").split()[-1])
    m.rcu_read_unlock(B)
    assert not A.waiting
    assert named == m.rcu.gp_seq


def test_synchronize_rcu_inside_a_read_section_is_a_deadlock(machine):
    m = machine()
    A, _ = tasks(m)
    m.rcu_read_lock(A)
    pending = m.rcu.pending
    with pytest.raises(Deadlock, match=r"Illegal synchronize_rcu\(\) in RCU read-side "
                                       r"critical section"):
        m.synchronize_rcu(A)
    assert A.rcu_nesting == 1 and not A.waiting and m.rcu.pending == pending
    m.rcu_read_unlock(A)
    m.check()


def test_no_sleeping_on_a_folio_lock_inside_a_read_section(machine):
    m = machine()
    A, B = tasks(m)
    f = m.alloc_folio(order=0)
    assert f.lock(task=B) is True
    m.rcu_read_lock(A)
    word = K.flags_word(m, f.pfn)
    with pytest.raises(Deadlock, match="RCU read-side"):
        f.lock(task=A)
    assert not A.waiting and m.waiters(f.pointer) == [] and K.flags_word(m, f.pfn) == word
    assert f.trylock(task=A) is False                 # trylock does not sleep
    f.unlock(task=B)
    assert f.lock(task=A) is True                     # an uncontended lock does not sleep
    f.unlock(task=A)
    m.rcu_read_unlock(A)
    m.check()


# ---- kfree_rcu and rcu_barrier ------------------------------------------------------------------

def test_kfree_rcu_frees_after_a_grace_period(machine):
    m = machine()
    A, _ = tasks(m)
    kc = m.kmem_cache("kmalloc-128")
    o = m.kmalloc(100)
    o.write(0, b"still here")
    inuse = kc.objects_inuse
    m.rcu_read_lock(A)
    m.kfree_rcu(o)
    assert kc.objects_inuse == inuse and o.read(0, 10) == b"still here"
    other = m.kmalloc(100)
    assert other.address != o.address                 # not on any freelist yet
    assert m.rcu.advance() == 0 and kc.objects_inuse == inuse + 1
    m.check()
    m.rcu_read_unlock(A)
    assert kc.objects_inuse == inuse
    assert m.kmalloc(100).address == o.address         # LIFO reuse of the freed object
    m.check()


def test_kfree_rcu_of_a_large_kmalloc(machine):
    m = machine()
    o = m.kmalloc(5 * K.PAGE_SIZE)                    # order 3
    pfn = (o.address - K.PAGE_OFFSET[m.bits]) >> K.PAGE_SHIFT
    w = m.walk()
    m.kfree_rcu(o)
    assert m.walk() == w and m.page(pfn).type_name == "large_kmalloc"
    assert m.rcu.advance() == 1
    assert m.page(pfn).type_name != "large_kmalloc"
    assert m.walk()["large_kmalloc"] == w["large_kmalloc"] - 8
    m.check()


def test_rcu_barrier(machine):
    m = machine()
    A, _ = tasks(m)
    log = []
    for i in range(3):
        m.call_rcu(lambda i=i: log.append(i))
    assert m.rcu.barrier() is True and log == [0, 1, 2] and m.rcu.pending == 0
    m.rcu_read_lock(A)
    m.call_rcu(lambda: log.append(3))
    assert m.rcu.barrier() is False and log == [0, 1, 2] and m.rcu.pending == 1
    m.rcu_read_unlock(A)
    assert log == [0, 1, 2, 3] and m.rcu.pending == 0
    assert m.rcu.barrier() is True
    m.check()


def test_a_failing_callback_does_not_lose_the_rest_of_its_batch(machine):
    """rcu_do_batch() runs every callback of the batch: one that raises must not strand
    the others (an RCU-freed slab, a synchronize_rcu() sleeper, later callbacks)."""
    m = machine()
    A, B = tasks(m)
    c = m.kmem_cache_create("ts", 128, flags="SLAB_TYPESAFE_BY_RCU")
    o = c.alloc()
    pfn = o.slab.pfn
    log = []

    def boom():
        log.append("boom")
        raise RuntimeError("callback failed")

    m.rcu_read_lock(A)
    m.call_rcu(lambda: log.append("first"))            # GP 1, held by A
    m.call_rcu(boom)                                    # GP 2 ...
    o.free()
    m.kmem_cache_shrink(c)                              # ... with an RCU-freed slab
    assert m.synchronize_rcu(B) is False                # ... and a sleeper
    m.call_rcu(lambda: log.append("last"))
    with pytest.raises(RuntimeError, match="callback failed"):
        m.rcu_read_unlock(A)                            # ends GP 1 and GP 2
    m.rcu.advance()
    assert log == ["first", "boom", "last"]
    assert not B.waiting
    assert m.rcu.slabs_waiting == 0 and m.page(pfn).type_name is None
    assert m.rcu.pending == 0
    m.check()


def test_kfree_rcu_refuses_what_kfree_refuses(machine):
    """The model checks kfree_rcu() like kfree(): a bad address is refused at the call,
    not a grace period later in whichever task ends it."""
    m = machine()
    f = m.alloc_folio(order=0)
    k = m.kmalloc(64)
    freed = m.kmalloc(64)
    m.kfree(freed)
    bad = [mem(m, f),                                          # folio memory
           k.address + 8,                                      # inside an object
           freed.address,                                      # already free
           0x1000]                                             # not direct-mapped
    before = S.snapshot(m)
    for addr in bad:
        with pytest.raises(MemcoreError):
            m.kfree_rcu(addr)
        assert S.snapshot(m) == before
    m.kfree_rcu(None)                                   # NULL and ZERO_SIZE_PTR: nothing
    m.kfree_rcu(S.ZERO_SIZE_PTR)
    assert S.snapshot(m) == before
    m.kfree_rcu(k)
    pending = m.rcu.pending
    with pytest.raises(VMBug):                           # queued twice
        m.kfree_rcu(k)
    assert m.rcu.pending == pending
    m.rcu.advance()
    m.check()


@pytest.mark.parametrize("how", ["kfree", "kmem_cache_free"])
def test_free_of_an_object_queued_by_kfree_rcu_is_refused(machine, how):
    m = machine()
    c = m.kmem_cache_create("q", 64)
    o = c.alloc()
    m.kfree_rcu(o)
    before = S.snapshot(m, c)
    with pytest.raises(VMBug):
        if how == "kfree":
            m.kfree(o)
        else:
            m.kmem_cache_free(c, o)
    assert S.snapshot(m, c) == before
    assert m.rcu.advance() == 1 and c.objects_inuse == 0
    m.check()


# ---- SLAB_TYPESAFE_BY_RCU -----------------------------------------------------------------------

def typesafe_cache_with_an_empty_slab(m):
    """A SLAB_TYPESAFE_BY_RCU cache whose only object was allocated and freed: its
    slab is an empty CPU slab.  Returns the cache and the slab's PFN."""
    c = m.kmem_cache_create("ts", 256, flags="SLAB_TYPESAFE_BY_RCU")
    o = c.alloc()
    pfn = o.slab.pfn
    o.free()
    return c, pfn


def test_typesafe_object_is_reused_at_once(machine):
    m = machine()
    c = m.kmem_cache_create("ts", 256, flags="SLAB_TYPESAFE_BY_RCU")
    assert c.destroy_by_rcu and c.offset >= c.object_size
    o = c.alloc()
    o.write(0, b"type-safe")
    o.free()
    assert m.rcu.pending == 0                           # no grace period for objects
    again = c.alloc()
    assert again.address == o.address
    assert again.read(0, 9) == b"type-safe"             # the free pointer is outside the object
    m.check()


def test_typesafe_slab_pages_wait_for_a_grace_period(machine):
    m = machine()
    c = m.kmem_cache_create("ts", 256, flags="SLAB_TYPESAFE_BY_RCU")
    o = c.alloc()
    slab = o.slab
    pfn, nr = slab.pfn, 1 << c.order
    o.free()
    w0, pages0 = m.walk(), m.stats()["slab_pages"]
    seq = m.rcu.gp_seq
    m.kmem_cache_shrink(c)
    # discarded: the cache's counters drop at once, the page stays a slab page
    assert c.slabs == 0
    assert m.rcu.slabs_waiting == 1 and m.page(pfn).type_name == "slab"
    assert S.slab_raw(m, slab)["slab_cache"] == c.pointer
    assert m.walk() == w0 and m.stats()["slab_pages"] == pages0
    m.check()
    assert m.rcu.advance() == 1 and m.rcu.gp_seq == seq + 1
    assert m.rcu.slabs_waiting == 0 and m.page(pfn).type_name is None
    assert m.walk()["slab"] == w0["slab"] - nr
    assert m.stats()["slab_pages"] == pages0 - nr
    m.check()


def test_typesafe_slabs_discarded_by_frees_wait_too(machine):
    """Empty slabs beyond min_partial are discarded by the frees themselves
    (__put_partials when the CPU partial list drains)."""
    m = machine(ram="256MiB")
    c = m.kmem_cache_create("ts", 256, flags="SLAB_TYPESAFE_BY_RCU")
    objs = [c.alloc() for _ in range(12 * c.objs_per_slab)]
    pfns = {o.slab.pfn for o in objs}
    w0 = m.walk()
    for o in objs:
        o.free()
    waiting = m.rcu.slabs_waiting
    assert waiting > 0
    assert all(m.page(p).type_name == "slab" for p in pfns)
    assert m.walk() == w0
    m.check()
    m.rcu.advance()
    assert m.rcu.slabs_waiting == 0
    freed = [p for p in pfns if m.page(p).type_name != "slab"]
    assert len(freed) == waiting == len(pfns) - c.slabs
    m.check()


def test_normal_cache_slab_pages_are_freed_at_once(machine):
    m = machine()
    c = m.kmem_cache_create("plain", 256)
    objs = [c.alloc() for _ in range(12 * c.objs_per_slab)]
    pfns = {o.slab.pfn for o in objs}
    for o in objs:
        o.free()
    m.kmem_cache_shrink(c)
    assert c.slabs == 0 and m.rcu.slabs_waiting == 0 and m.rcu.pending == 0
    assert all(m.page(p).type_name is None for p in pfns)
    m.check()


def test_reader_across_the_free_holds_the_slab_page(machine):
    m = machine()
    A, B = tasks(m)
    c = m.kmem_cache_create("ts", 256, flags="SLAB_TYPESAFE_BY_RCU")
    o = c.alloc()
    pfn = o.slab.pfn
    m.rcu_read_lock(A)
    o.free()
    m.kmem_cache_shrink(c)
    m.rcu_read_lock(B)                                  # started after: no effect
    assert m.rcu.holdouts == [A]
    assert m.rcu.advance() == 0
    assert m.page(pfn).type_name == "slab" and m.rcu.slabs_waiting == 1
    assert o.read(0, 4) is not None                     # still readable memory
    m.check()
    m.rcu_read_unlock(A)
    assert m.page(pfn).type_name is None and m.rcu.slabs_waiting == 0
    m.rcu_read_unlock(B)
    m.check()


def test_reader_started_after_the_discard_does_not_hold_the_page(machine):
    m = machine()
    A, _ = tasks(m)
    c, pfn = typesafe_cache_with_an_empty_slab(m)
    m.kmem_cache_shrink(c)
    m.rcu_read_lock(A)
    assert m.rcu.advance() == 1 and m.page(pfn).type_name is None
    m.rcu_read_unlock(A)
    m.check()


def test_destroy_typesafe_cache_with_a_reader_and_waiting_slabs(machine):
    m = machine()
    A, _ = tasks(m)
    c, pfn = typesafe_cache_with_an_empty_slab(m)
    m.rcu_read_lock(A)
    m.kmem_cache_shrink(c)
    names = [x.name for x in m.caches()]
    before = S.snapshot(m, c)
    with pytest.raises(Deadlock):
        m.kmem_cache_destroy(c)
    assert S.snapshot(m, c) == before and [x.name for x in m.caches()] == names
    assert m.page(pfn).type_name == "slab"
    m.check()
    m.rcu_read_unlock(A)
    m.kmem_cache_destroy(c)
    assert "ts" not in [x.name for x in m.caches()] and m.page(pfn).type_name is None
    m.check()


def test_destroy_typesafe_cache_with_a_reader_and_empty_slabs(machine):
    """__kmem_cache_shutdown() hands the empty slabs to RCU; rcu_barrier() then waits
    for the reader, so the destroy cannot complete (Deadlock) and changes nothing."""
    m = machine()
    A, _ = tasks(m)
    c, pfn = typesafe_cache_with_an_empty_slab(m)       # an empty CPU slab, no RCU work yet
    m.rcu_read_lock(A)
    before = S.snapshot(m, c)
    with pytest.raises(Deadlock):
        m.kmem_cache_destroy(c)
    assert S.snapshot(m, c) == before
    assert m.page(pfn).type_name == "slab"
    m.check()


def test_destroy_waits_for_pending_kfree_rcu(machine):
    m = machine()
    A, _ = tasks(m)
    c = m.kmem_cache_create("plain", 64)
    k = m.kmalloc(64)
    m.rcu_read_lock(A)
    m.kfree_rcu(k)
    before = S.snapshot(m, c)
    with pytest.raises(Deadlock):
        m.kmem_cache_destroy(c)
    assert S.snapshot(m, c) == before
    m.rcu_read_unlock(A)
    m.kmem_cache_destroy(c)
    m.check()


def test_destroy_of_a_plain_cache_does_not_wait_for_call_rcu(machine):
    """kvfree_rcu_barrier() waits for kfree_rcu() only; a plain cache has no rcu_barrier()."""
    m = machine()
    A, _ = tasks(m)
    c = m.kmem_cache_create("plain", 64)
    c.alloc().free()
    log = []
    m.rcu_read_lock(A)
    m.call_rcu(lambda: log.append(1))
    m.kmem_cache_destroy(c)
    assert log == [] and m.rcu.holdouts == [A]
    m.rcu_read_unlock(A)
    assert log == [1]
    m.check()
