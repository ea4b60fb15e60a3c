# Error plumbing: the nogil core reports a problem as an mc_err code with the
# PFN and a message in the machine (set_err()); the Python layer raises the
# matching memcore exception with a dump_page() of that PFN (machine_raise()).
#
# Provides: set_err, _ERRORS, machine_raise.
# Uses: decl.pxi (mc_err, mc_machine), memcore.errors; dump_page (dump.pxi)
#   when an error is raised.

from libc.limits cimport INT_MAX

from memcore.errors import (BadPageState, Deadlock, FolioNotLocked, InvalidAddress,
                            MemcoreError, OrderOutOfRange, OutOfMemory, PFNOutOfRange,
                            RefcountError, TailPageError, UnknownChoice, VMBug,
                            NotSupported)


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
        if hasattr(err, "add_note"):           # Python 3.11+
            err.add_note("raised by a slab constructor: allocate_slab() freed the new slab")
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


# ---- views come only from the machine ----------------------------------------------
#
# A view (Page, Folio, ..., Task, the RCU callbacks) made with Type.__new__(Type)
# would have no Machine, and its first use would dereference NULL.  The
# constructors of this module set the one-shot token just before __new__;
# every view's __cinit__ consumes it and refuses to run without it.

cdef bint _view_token = False


cdef inline void _allow_view() noexcept:
    global _view_token
    _view_token = True


cdef inline int _take_view_token(str cls) except -1:
    global _view_token
    if not _view_token:
        raise TypeError(f"cannot create {cls} objects directly; they come from a Machine")
    _view_token = False
    return 0


# ---- integer arguments ------------------------------------------------------------

cdef object _int_arg(object v, str what, object lo, object hi):
    """v as a Python int in lo..hi (hi None: no upper bound): TypeError for what is
    no integer (bool included), ValueError out of range, before any C conversion
    could raise OverflowError."""
    if isinstance(v, bool):
        raise TypeError(f"{what} must be an int, not bool")
    if type(v) is not int:
        try:
            v = v.__index__()                      # numpy integers are fine
        except AttributeError:
            raise TypeError(f"{what} must be an int, not {type(v).__name__}") from None
    if v < lo or (hi is not None and v > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{what} must be {rng}, not {v}")
    return v


cdef bytes _bytes_arg(object data):
    """The bytes of a bytes-like argument (an int would be a length to bytes())."""
    if isinstance(data, int) or isinstance(data, str):
        raise TypeError(f"data must be bytes-like, not {type(data).__name__}")
    return bytes(data)
