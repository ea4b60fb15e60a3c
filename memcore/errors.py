"""memcore exceptions.

Misuse that the kernel would catch with VM_BUG_ON / bad_page is checked
*before* the model changes, and raised as one of these with a dump_page()
style text in ``.dump`` (also appended to the message).  Each class also
derives from the closest Python built-in so generic handlers work.
"""
from __future__ import annotations

from collections.abc import Iterable


class MemcoreError(Exception):
    """Base class of every memcore error."""

    def __init__(self, message: str = "", dump: str = ""):
        self.dump = dump
        super().__init__(message + ("\n" + dump if dump else ""))


class UnknownChoice(MemcoreError, ValueError):
    """A name (struct, design, word size, config, flag, ...) that does not exist."""

    def __init__(self, what: str, value: object, valid: Iterable[object]):
        self.what, self.value = what, value
        self.valid = tuple(valid)
        super().__init__(f"unknown {what} {value!r}; valid: "
                         + ", ".join(str(v) for v in self.valid))


class VMBug(MemcoreError, RuntimeError):
    """What the kernel would report with VM_BUG_ON_PAGE / VM_BUG_ON_FOLIO."""


class BadPageState(VMBug):
    """What the kernel would report as "BUG: Bad page state" (bad_page())."""


class RefcountError(VMBug):
    """Reference count misuse: put on a zero refcount, unfreeze of an unfrozen folio, ..."""


class FolioNotLocked(VMBug):
    """folio_unlock() of a folio that is not locked."""


class TailPageError(VMBug):
    """A tail page where the kernel requires a head page (or a non-large folio)."""


class Deadlock(VMBug):
    """A modeled task would wait forever (e.g. locks a folio it already holds)."""


class PFNOutOfRange(MemcoreError, IndexError):
    """A page frame number outside the machine's memory map."""


class OrderOutOfRange(MemcoreError, ValueError):
    """An allocation order outside 0..MAX_PAGE_ORDER."""


class OutOfMemory(MemcoreError, MemoryError):
    """The page allocator could not satisfy the request (no reclaim is modeled)."""


class InvalidAddress(MemcoreError, ValueError):
    """A modeled address that does not map to modeled memory."""


class SnapshotError(MemcoreError, ValueError):
    """A machine snapshot that cannot be taken (not root, no /proc/kpageflags)
    or loaded (not an .npz, truncated, a missing key, a wrong dtype or shape,
    pickled content); the message names the file and the problem."""


class ConfigError(MemcoreError, ValueError):
    """A kernel configuration that cannot be read or used (memcore.kconfig):
    an unreadable or malformed .config (``.path``, ``.line``), overrides that
    contradict Kconfig's dependencies, a configuration the flags word cannot
    be derived from, or one a compiled variant cannot honour: ``.unhonoured``
    maps each such key to (wanted, compiled), and the message lists every one
    as ``CONFIG_X=wanted (model: compiled)``."""

    def __init__(self, message: str = "", *, path: str | None = None, line: int | None = None,
                 unhonoured: dict[str, tuple[object, object]] | None = None):
        self.path, self.line = path, line
        self.unhonoured = dict(unhonoured or {})
        super().__init__(message)


class NotSupported(MemcoreError, NotImplementedError):
    """The machine's design has no such mechanism: slab-backed page-cache
    folios (claim S8) or a memdesc word on classic (Linux 6.18).  The message
    names the design and the designs that have it."""


class KASANReport(VMBug):
    """What KASAN would report: use-after-free, out-of-bounds, double-free, invalid-free.

    ``.bug_type`` is KASAN's name for it ("slab-use-after-free", ...); ``.dump``
    holds the report text."""

    def __init__(self, message: str = "", dump: str = "", bug_type: str = ""):
        self.bug_type = bug_type
        super().__init__(message, dump)
