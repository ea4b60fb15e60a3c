# Error plumbing: the nogil core reports a problem as an mc_err code with the
# PFN and a message in the machine (set_err()); the Python layer raises the
# matching memcore exception with a dump_page() of that PFN (machine_raise()).
#
# Provides: set_err, _ERRORS, machine_raise.
# Uses: decl.pxi (mc_err, mc_machine), memcore.errors; dump_page (dump.pxi)
#   when an error is raised.

from memcore.errors import (BadPageState, Deadlock, FolioNotLocked, InvalidAddress,
                            MemcoreError, OrderOutOfRange, OutOfMemory, PFNOutOfRange,
                            RefcountError, TailPageError, UnknownChoice, VMBug)


cdef inline int set_err(mc_machine *m, int code, int64_t pfn, const char *msg) noexcept nogil:
    m.err = code
    m.err_pfn = pfn
    if msg != NULL:
        snprintf(m.err_msg, sizeof(m.err_msg), "%s", msg)
    else:
        m.err_msg[0] = 0
    return code


# exception classes by mc_err code
_ERRORS = {
    MC_ENOMEM: OutOfMemory,
    MC_EREFZERO: RefcountError,
    MC_ENOTLOCKED: FolioNotLocked,
    MC_EBADPAGE: BadPageState,
    MC_ETAIL: TailPageError,
    MC_ENOTLARGE: TailPageError,
    MC_EPFN: PFNOutOfRange,
    MC_EORDER: OrderOutOfRange,
    MC_EFREE: VMBug,
    MC_EINVAL: VMBug,
    MC_EDEADLOCK: Deadlock,
    MC_EADDR: InvalidAddress,
    MC_EBUSY: VMBug,
    MC_EBLOCKED: Deadlock,
    MC_EDOUBLEFREE: VMBug,        # SLUB: BUG_ON(object == fp) / free of a free object
    MC_EINVALFREE: VMBug,         # kfree() of something that is no object start
    MC_ECORRUPT: VMBug,           # slab_err()/object_err(): freelist or redzone damage
}


cdef int machine_raise(Machine machine, int rc) except -1:
    """Turn a nogil error code into the memcore exception, with a dump_page()."""
    cdef mc_machine *m = machine.m
    if rc == MC_ECTOR and machine._ctor_error is not None:   # the constructor's own exception
        err, machine._ctor_error = machine._ctor_error, None
        m.err = 0
        m.err_msg[0] = 0
        m.err_pfn = -1
        raise err
    cls = _ERRORS.get(rc, MemcoreError)
    msg = m.err_msg.decode() if m.err_msg[0] else f"error {rc}"
    dump = ""
    if m.err_pfn >= 0 and <uint64_t>m.err_pfn < m.nr_pfns:
        dump = dump_page(machine, m.err_pfn, msg)
    if rc == MC_EBADPAGE and m.err_pfn >= 0:
        msg = f"BUG: Bad page state in process {machine.current.name}  pfn:{m.err_pfn:05x}: {msg}"
    m.err = 0
    m.err_msg[0] = 0
    m.err_pfn = -1
    raise cls(msg, dump)
