"""Snapshots of a real machine's page state, for ``memcore estimate``.

``save(path)`` (root) reads, as close to one moment as user space can:

* ``/proc/kpageflags``, ``/proc/kpagecount`` and ``/proc/kpagecgroup`` (one
  u64 per PFN; their size shows as 0, so they are read in chunks until EOF),
  chunk by chunk in step, so the flags and the map count of a PFN are read
  microseconds apart;
* the texts ``/proc/meminfo``, ``/proc/vmstat``, ``/proc/buddyinfo`` (read
  just before and again just after the PFN arrays, so the drift during the
  read is known), ``/proc/zoneinfo``, ``/proc/pagetypeinfo``, ``/proc/iomem``
  and ``uname -r``;

and writes them into one ``np.savez_compressed`` file: the arrays as
``uint64``, every text as a 0-d numpy unicode array, the System RAM ranges of
iomem as a ``(k, 2)`` ``uint64`` array of [start, end) byte addresses.  No
object arrays: ``load()`` opens with ``allow_pickle=False`` and checks every
key, dtype and shape, so a truncated, corrupt, pickled or foreign file raises
``SnapshotError`` naming the problem.

A snapshot may cover a window of PFNs (``first_pfn``, ``max_pfns``): the
committed test fixture is one.  ``Snapshot.window`` says so, and the
estimate's whole-machine self-checks say they do not apply to it.
"""
from __future__ import annotations

import datetime
import platform
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .errors import SnapshotError

FORMAT = "memcore-snapshot-1"
PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT

KPAGE_FILES = ("kpageflags", "kpagecount", "kpagecgroup")
#: texts read once, at the start
TEXT_FILES = ("meminfo", "vmstat", "buddyinfo", "zoneinfo", "pagetypeinfo", "iomem")
#: texts read a second time after the PFN arrays (``<name>_after``)
AFTER_FILES = ("meminfo", "vmstat", "buddyinfo")
TEXT_KEYS = ("format", "uname_r", "saved_at") + TEXT_FILES + tuple(f"{n}_after" for n in AFTER_FILES)
#: key -> (dtype, ndim) of every key a snapshot must have
ARRAY_KEYS = {
    "kpageflags": (np.dtype(np.uint64), 1),
    "kpagecount": (np.dtype(np.uint64), 1),
    "kpagecgroup": (np.dtype(np.uint64), 1),
    "ram_ranges": (np.dtype(np.uint64), 2),
    "first_pfn": (np.dtype(np.uint64), 0),
}
REQUIRED_KEYS = tuple(ARRAY_KEYS) + TEXT_KEYS

CHUNK_PFNS = 1 << 17          # 1 MiB of u64 per read


@dataclass
class Zone:
    node: int
    name: str
    start_pfn: int
    spanned: int
    present: int
    managed: int
    free: int

    @property
    def end_pfn(self) -> int:
        return self.start_pfn + self.spanned


@dataclass
class PageTypeInfo:
    """``/proc/pagetypeinfo``: free blocks per zone, migratetype and order, and
    pageblocks per zone and migratetype (``pagetypeinfo_showblockcount()``)."""

    pageblock_order: int
    types: List[str]                                     # the block-count columns
    free: Dict[Tuple[int, str], Dict[str, List[int]]]    # (node, zone) -> type -> per order
    blocks: Dict[Tuple[int, str], Dict[str, int]]        # (node, zone) -> type -> pageblocks
    capped: List[Tuple[int, str, str, int]] = field(default_factory=list)
    """(node, zone, type, order) printed as ">100000": the kernel stops
    counting a free list there (pagetypeinfo_showfree_print()); the count is
    a lower bound."""


@dataclass
class Snapshot:
    """One machine's page state at one moment (see the module docstring)."""

    kpageflags: np.ndarray
    kpagecount: np.ndarray
    kpagecgroup: Optional[np.ndarray]    # None: a live read that skipped it (estimate)
    first_pfn: int
    ram_ranges: np.ndarray               # (k, 2) uint64 [start, end) bytes
    texts: Dict[str, str]
    meminfo: Dict[str, int] = field(default_factory=dict)        # kB values (HugePages_*: counts)
    meminfo_after: Dict[str, int] = field(default_factory=dict)
    vmstat: Dict[str, int] = field(default_factory=dict)
    vmstat_after: Dict[str, int] = field(default_factory=dict)
    buddyinfo: List[Tuple[int, str, List[int]]] = field(default_factory=list)
    buddyinfo_after: List[Tuple[int, str, List[int]]] = field(default_factory=list)
    zones: List[Zone] = field(default_factory=list)
    ncpus: int = 0
    pagetypeinfo: Optional[PageTypeInfo] = None   # None: not readable (root only)

    @property
    def uname_r(self) -> str:
        return self.texts["uname_r"]

    @property
    def nr_pfns(self) -> int:
        return int(self.kpageflags.shape[0])

    @property
    def end_pfn(self) -> int:
        return self.first_pfn + self.nr_pfns

    @property
    def ram_bytes(self) -> int:
        """System RAM of the whole machine (iomem), bytes."""
        return int(sum(int(e) - int(s) for s, e in self.ram_ranges))

    @property
    def window(self) -> bool:
        """True when the PFN arrays do not cover all System RAM (a cut)."""
        if self.first_pfn != 0:
            return True
        last = max((int(e) for _, e in self.ram_ranges), default=0)
        return self.end_pfn < (last + PAGE_SIZE - 1) >> PAGE_SHIFT

    def ram_mask(self) -> np.ndarray:
        """bool per PFN of the arrays: inside a System RAM range."""
        mask = np.zeros(self.nr_pfns, dtype=bool)
        for s, e in self.ram_ranges:
            lo = max((int(s) + PAGE_SIZE - 1) >> PAGE_SHIFT, self.first_pfn) - self.first_pfn
            hi = min(int(e) >> PAGE_SHIFT, self.end_pfn) - self.first_pfn
            if hi > lo:
                mask[lo:hi] = True
        return mask


# ---- parsing the texts ------------------------------------------------------------------

def parse_meminfo(text: str) -> Dict[str, int]:
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([^:]+):\s+(\d+)", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def parse_vmstat(text: str) -> Dict[str, int]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"-?\d+", parts[1]):
            out[parts[0]] = int(parts[1])
    return out


def parse_buddyinfo(text: str) -> List[Tuple[int, str, List[int]]]:
    out = []
    for line in text.splitlines():
        m = re.match(r"^Node\s+(\d+),\s+zone\s+(\S+)\s+(.*)$", line)
        if m:
            out.append((int(m.group(1)), m.group(2), [int(x) for x in m.group(3).split()]))
    return out


def parse_pagetypeinfo(text: str) -> Optional[PageTypeInfo]:
    """The free-list and block-count tables of /proc/pagetypeinfo (None when
    the text has neither: the file is readable by root only)."""
    order = None
    types: List[str] = []
    free: Dict[Tuple[int, str], Dict[str, List[int]]] = {}
    blocks: Dict[Tuple[int, str], Dict[str, int]] = {}
    capped: List[Tuple[int, str, str, int]] = []
    for line in text.splitlines():
        m = re.match(r"^Page block order:\s+(\d+)", line)
        if m:
            order = int(m.group(1))
            continue
        m = re.match(r"^Node\s+(\d+),\s+zone\s+(\S+),\s+type\s+(\S+)\s+(.*)$", line)
        if m:
            key, mt = (int(m.group(1)), m.group(2)), m.group(3)
            counts = []
            for o, tok in enumerate(m.group(4).split()):
                if tok.startswith(">"):
                    capped.append((key[0], key[1], mt, o))
                    tok = tok[1:]
                if not tok.isdigit():
                    raise ValueError(f"pagetypeinfo: free count {tok!r} in {line.strip()!r}")
                counts.append(int(tok))
            free.setdefault(key, {})[mt] = counts
            continue
        m = re.match(r"^Number of blocks type\s+(.*)$", line)
        if m:
            types = m.group(1).split()
            continue
        m = re.match(r"^Node\s+(\d+),\s+zone\s+(\S+)\s+([\d\s]+)$", line)
        if m and types:
            vals = [int(x) for x in m.group(3).split()]
            if len(vals) != len(types):
                raise ValueError(f"pagetypeinfo: {len(vals)} block counts under "
                                 f"{len(types)} types in {line.strip()!r}")
            blocks[(int(m.group(1)), m.group(2))] = dict(zip(types, vals))
    if order is None and not free and not blocks:
        return None
    return PageTypeInfo(order if order is not None else 0, types, free, blocks, capped)


def parse_zoneinfo(text: str) -> Tuple[List[Zone], int]:
    """Zones (node, name, start_pfn, spanned, present, managed, free) and the
    number of CPUs (pagesets of the first zone)."""
    zones: List[Zone] = []
    cur: Optional[Dict[str, Any]] = None
    cpus: set = set()
    for line in text.splitlines():
        m = re.match(r"^Node\s+(\d+),\s+zone\s+(\S+)", line)
        if m:
            if cur is not None:
                zones.append(_zone(cur))
            cur = {"node": int(m.group(1)), "name": m.group(2)}
            continue
        if cur is None:
            continue
        s = line.split()
        if len(s) >= 2 and s[0] in ("spanned", "present", "managed") and s[1].isdigit():
            cur[s[0]] = int(s[1])
        elif len(s) >= 3 and s[0] == "pages" and s[1] == "free":
            cur["free"] = int(s[2])
        elif len(s) == 2 and s[0] == "start_pfn:":
            cur["start_pfn"] = int(s[1])
        elif len(s) == 2 and s[0] == "cpu:":
            cpus.add(int(s[1]))
    if cur is not None:
        zones.append(_zone(cur))
    return zones, len(cpus)


def _zone(d: Dict[str, Any]) -> Zone:
    return Zone(d["node"], d["name"], d.get("start_pfn", 0), d.get("spanned", 0),
                d.get("present", 0), d.get("managed", 0), d.get("free", 0))


def parse_iomem_ram(text: str) -> np.ndarray:
    """Top-level ``System RAM`` ranges of /proc/iomem as [start, end) bytes.
    (Without root iomem shows zeros: then this is empty.)"""
    rows = []
    for line in text.splitlines():
        if line.startswith(" "):
            continue
        m = re.match(r"^([0-9a-fA-F]+)-([0-9a-fA-F]+)\s*:\s*System RAM\s*$", line)
        if m:
            s, e = int(m.group(1), 16), int(m.group(2), 16) + 1
            if e > s > 0 or (s == 0 and e > PAGE_SIZE):
                rows.append((s, e))
    return np.array(rows, dtype=np.uint64).reshape(-1, 2)


# ---- saving ----------------------------------------------------------------------------

def _read_text(proc: Path, name: str) -> str:
    path = proc / name
    try:
        return path.read_text()
    except OSError as e:
        raise SnapshotError(f"cannot read {path}: {e.strerror or e}") from None


def _open_kpage(proc: Path, name: str):
    path = proc / name
    try:
        return open(path, "rb", buffering=0)
    except PermissionError:
        raise SnapshotError(f"cannot read {path}: permission denied (the kpage* files need "
                            "root: CAP_SYS_ADMIN)") from None
    except OSError as e:
        raise SnapshotError(f"cannot read {path}: {e.strerror or e} (the kernel needs "
                            "CONFIG_PROC_PAGE_MONITOR)") from None


def read_kpages(proc: Path = Path("/proc"), first_pfn: int = 0,
                max_pfns: Optional[int] = None,
                expect_pfns: Optional[int] = None,
                before=None, progress=None,
                names: Tuple[str, ...] = KPAGE_FILES) -> Dict[str, np.ndarray]:
    """The three kpage* files from ``first_pfn``, read in step chunk by chunk
    until EOF (or ``max_pfns``), as uint64 arrays of one length.

    ``expect_pfns`` (the end of System RAM) sizes the arrays up front and they
    are touched before ``before()`` runs (the reading of the "before" texts),
    so the kernel's counters read then already include this process's own
    buffers; more PFNs than expected are still read.  ``progress(done, total)``
    is called after every chunk."""
    files = {n: _open_kpage(proc, n) for n in names}
    try:
        size = expect_pfns or CHUNK_PFNS
        if max_pfns is not None:
            size = min(size, max_pfns)
        arrays = {n: np.empty(max(size, 1), dtype=np.uint64) for n in names}
        for a in arrays.values():
            a[::PAGE_SIZE // 8] = 0             # fault every page in now
        if before is not None:
            before()
        pfn = first_pfn
        got_total = 0
        while max_pfns is None or got_total < max_pfns:
            want = CHUNK_PFNS if max_pfns is None else min(CHUNK_PFNS, max_pfns - got_total)
            if got_total + want > arrays["kpageflags"].shape[0]:
                f = files["kpageflags"]
                f.seek(pfn * 8)
                if not f.read(8):               # at EOF: no need to grow
                    break
                grow = max(got_total + want, 2 * arrays["kpageflags"].shape[0])
                for n in names:
                    a = np.empty(grow, dtype=np.uint64)
                    a[:got_total] = arrays[n][:got_total]
                    arrays[n] = a
            got = []
            for n, f in files.items():
                view = memoryview(arrays[n][got_total:got_total + want]).cast("B")
                try:
                    f.seek(pfn * 8)
                    nbytes = 0
                    while nbytes < len(view):
                        r = f.readinto(view[nbytes:])
                        if not r:
                            break
                        nbytes += r
                except OSError as e:
                    raise SnapshotError(f"reading {proc / n} at PFN {pfn:#x}: "
                                        f"{e.strerror or e}") from None
                got.append(nbytes // 8)
            n_ok = min(got)                 # keep the three in step
            pfn += n_ok
            got_total += n_ok
            if progress is not None:
                progress(got_total, size)
            if n_ok < want:
                break
    finally:
        for f in files.values():
            f.close()
    if progress is not None and got_total != size:
        progress(got_total, got_total)          # fewer PFNs than expected: finish the line
    if got_total == 0:
        raise SnapshotError(f"{proc / 'kpageflags'} gave no PFNs from {first_pfn:#x}")
    return {n: a[:got_total].copy() if a.shape[0] != got_total else a
            for n, a in arrays.items()}


def take(proc: Path = Path("/proc"), first_pfn: int = 0,
         max_pfns: Optional[int] = None, progress=None,
         with_cgroup: bool = True) -> Dict[str, np.ndarray]:
    """Read everything a snapshot holds into the dict ``save()`` writes
    (without kpagecgroup if not ``with_cgroup``: what the estimate skips)."""
    proc = Path(proc)
    _open_kpage(proc, "kpageflags").close()      # not root: say so before anything else
    iomem = _read_text(proc, "iomem")
    ram = parse_iomem_ram(iomem)
    if ram.size == 0:
        raise SnapshotError(f"{proc / 'iomem'} shows no System RAM ranges (it shows "
                            "addresses to root only)")
    end_pfn = int(ram[:, 1].max()) >> PAGE_SHIFT
    texts: Dict[str, str] = {}

    def before() -> None:
        for n in TEXT_FILES:
            texts[n] = _read_text(proc, n)

    names = KPAGE_FILES if with_cgroup else tuple(n for n in KPAGE_FILES if n != "kpagecgroup")
    arrays = read_kpages(proc, first_pfn, max_pfns, max(end_pfn - first_pfn, 1), before,
                         progress, names)
    for n in AFTER_FILES:
        texts[f"{n}_after"] = _read_text(proc, n)
    texts["format"] = FORMAT
    texts["uname_r"] = platform.release()
    texts["saved_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    data: Dict[str, np.ndarray] = dict(arrays)
    data["ram_ranges"] = ram
    data["first_pfn"] = np.array(first_pfn, dtype=np.uint64)
    for k, v in texts.items():
        data[k] = np.array(v, dtype=np.str_)
    return data


def save(path, proc: Path = Path("/proc"), first_pfn: int = 0,
         max_pfns: Optional[int] = None, progress=None) -> Snapshot:
    """Snapshot this machine into ``path`` (.npz); returns what was saved."""
    data = take(proc, first_pfn, max_pfns, progress)
    write(path, data)
    return from_arrays(data, str(path))


def write(path, data: Dict[str, np.ndarray]) -> None:
    """Write a dict of snapshot arrays (as ``take()`` makes) to ``path``."""
    path = Path(path)
    if path.suffix != ".npz":
        raise SnapshotError(f"{path}: a snapshot file name ends in .npz")
    for k, v in data.items():
        if v.dtype.hasobject:
            raise SnapshotError(f"snapshot key {k!r} is an object array")
    try:
        with open(path, "wb") as f:
            np.savez_compressed(f, **data)
    except OSError as e:
        raise SnapshotError(f"cannot write {path}: {e.strerror or e}") from None


# ---- loading ---------------------------------------------------------------------------

def load(path) -> Snapshot:
    """Load and validate a snapshot; any problem raises SnapshotError."""
    path = str(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except FileNotFoundError:
        raise SnapshotError(f"{path}: no such file") from None
    except OSError as e:
        raise SnapshotError(f"{path}: cannot read: {e.strerror or e}") from None
    if magic != b"PK\x03\x04":
        kind = "a single .npy array" if magic == b"\x93NUM" else "not a zip archive"
        raise SnapshotError(f"{path}: not a memcore snapshot (.npz) file: {kind}")
    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise SnapshotError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise SnapshotError(f"{path}: not a readable .npz (truncated or corrupt zip "
                            f"archive): {_why(e)}") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise SnapshotError(f"{path}: a single .npy array, not a memcore snapshot (.npz)")
    data: Dict[str, np.ndarray] = {}
    with npz:
        missing = [k for k in REQUIRED_KEYS if k not in npz.files]
        if missing:
            raise SnapshotError(f"{path}: missing key(s) {', '.join(missing)}")
        for k in REQUIRED_KEYS:
            try:
                data[k] = npz[k]
            except ValueError as e:
                if "allow_pickle" in str(e) or "Object arrays" in str(e):
                    raise SnapshotError(f"{path}: key {k!r} holds pickled Python objects; "
                                        "snapshots never unpickle") from None
                raise SnapshotError(f"{path}: key {k!r} is corrupt: {_why(e)}") from None
            except Exception as e:  # zlib.error, BadZipFile, EOFError, OSError ...
                raise SnapshotError(f"{path}: key {k!r} is truncated or corrupt: "
                                    f"{_why(e)}") from None
    return from_arrays(data, path)


def _why(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[0]}" if msg else type(e).__name__


def from_arrays(data: Dict[str, np.ndarray], where: str = "snapshot",
                require_cgroup: bool = True) -> Snapshot:
    """Validate dtypes and shapes and build the Snapshot."""
    for k, (dtype, ndim) in ARRAY_KEYS.items():
        if k == "kpagecgroup" and not require_cgroup and k not in data:
            continue
        a = data[k]
        if a.dtype != dtype or a.ndim != ndim:
            raise SnapshotError(f"{where}: key {k!r} must be {dtype} with {ndim} dimension(s); "
                                f"it is {a.dtype} with shape {a.shape}")
    n = data["kpageflags"].shape[0]
    for k in ("kpagecount", "kpagecgroup"):
        if k in data and data[k].shape[0] != n:
            raise SnapshotError(f"{where}: key {k!r} has {data[k].shape[0]} PFNs, "
                                f"kpageflags has {n}")
    if n == 0:
        raise SnapshotError(f"{where}: the PFN arrays are empty")
    ram = data["ram_ranges"]
    if ram.shape[1:] != (2,) or ram.shape[0] == 0 or bool(np.any(ram[:, 1] <= ram[:, 0])):
        raise SnapshotError(f"{where}: key 'ram_ranges' must be a non-empty (k, 2) array of "
                            f"[start, end) ranges; it has shape {ram.shape}")
    texts = {}
    for k in TEXT_KEYS:
        a = data[k]
        if a.dtype.kind != "U" or a.ndim != 0:
            raise SnapshotError(f"{where}: key {k!r} must be a unicode string (0-d '<U' array); "
                                f"it is {a.dtype} with shape {a.shape}")
        texts[k] = str(a[()])
    if texts["format"] != FORMAT:
        raise SnapshotError(f"{where}: format {texts['format']!r}; this memcore reads {FORMAT!r}")
    zones, ncpus = parse_zoneinfo(texts["zoneinfo"])
    snap = Snapshot(
        kpageflags=data["kpageflags"], kpagecount=data["kpagecount"],
        kpagecgroup=data.get("kpagecgroup"), first_pfn=int(data["first_pfn"][()]),
        ram_ranges=ram, texts=texts,
        meminfo=parse_meminfo(texts["meminfo"]),
        meminfo_after=parse_meminfo(texts["meminfo_after"]),
        vmstat=parse_vmstat(texts["vmstat"]), vmstat_after=parse_vmstat(texts["vmstat_after"]),
        buddyinfo=parse_buddyinfo(texts["buddyinfo"]),
        buddyinfo_after=parse_buddyinfo(texts["buddyinfo_after"]),
        zones=zones, ncpus=ncpus)
    try:
        snap.pagetypeinfo = parse_pagetypeinfo(texts["pagetypeinfo"])
    except ValueError as e:
        raise SnapshotError(f"{where}: {e}") from None
    for key in ("MemTotal", "MemFree"):
        if key not in snap.meminfo:
            raise SnapshotError(f"{where}: meminfo has no {key}: line")
    return snap


def live(first_pfn: int = 0, max_pfns: Optional[int] = None,
         proc: Path = Path("/proc"), progress=None, with_cgroup: bool = True) -> Snapshot:
    """The running machine, now, without writing a file (``with_cgroup=False``
    skips /proc/kpagecgroup, which the estimate does not use: a third less
    to read)."""
    return from_arrays(take(proc, first_pfn, max_pfns, progress, with_cgroup),
                       f"{proc} (live)", require_cgroup=with_cgroup)


def can_read_live(proc: Path = Path("/proc")) -> bool:
    try:
        with open(Path(proc) / "kpageflags", "rb", buffering=0) as f:
            return len(f.read(8)) == 8
    except OSError:
        return False


__all__ = ["Snapshot", "Zone", "PageTypeInfo", "save", "load", "live", "take", "write", "from_arrays",
           "can_read_live", "SnapshotError", "FORMAT"]
