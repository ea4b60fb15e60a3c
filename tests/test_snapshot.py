"""memcore.snapshot: saving a machine's page state and refusing malformed files.

The committed fixture (tests/data/linux-6.18-x86_64-snapshot.npz) is a whole
snapshot of the reference machine (24 GiB, Linux 6.18.44): see
tests/data/README.md.  Saving is tested on a fake /proc (regular files), so
it is deterministic; the live tests skip when /proc/kpageflags is unreadable.
"""
from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest

from conftest import DATA
import memcore
from memcore import snapshot
from memcore.cli import main
from memcore.errors import SnapshotError

FIXTURE = DATA / "linux-6.18-x86_64-snapshot.npz"


@pytest.fixture(scope="module")
def fixture_arrays():
    with np.load(FIXTURE, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def small_arrays(fixture_arrays):
    """The fixture cut to its first 64Ki PFNs (a valid window snapshot): quick to rewrite."""
    return {k: (v[:1 << 16] if k in snapshot.KPAGE_FILES else v)
            for k, v in fixture_arrays.items()}


def _write(path, data):
    with open(path, "wb") as f:
        np.savez_compressed(f, **data)
    return path


# ---- the fixture -----------------------------------------------------------------------

def test_fixture_loads_with_every_key(fixture_arrays):
    s = snapshot.load(FIXTURE)
    assert set(snapshot.REQUIRED_KEYS) <= set(fixture_arrays)
    n = s.nr_pfns
    assert n > 0 and s.first_pfn == 0 and not s.window
    for a in (s.kpageflags, s.kpagecount, s.kpagecgroup):
        assert a.dtype == np.uint64 and a.shape == (n,)
    # iomem's System RAM ranges, parsed again from the stored text
    assert np.array_equal(s.ram_ranges, snapshot.parse_iomem_ram(s.texts["iomem"]))
    assert s.ram_bytes == sum(int(e) - int(b) for b, e in s.ram_ranges)
    # the arrays end where RAM ends (max_pfn)
    assert s.end_pfn == int(s.ram_ranges[:, 1].max()) >> 12
    assert s.meminfo["MemTotal"] > 0 and "nr_memmap_boot_pages" in s.vmstat
    assert [z.name for z in s.zones if z.spanned] == [b[1] for b in s.buddyinfo]
    assert s.ncpus >= 1
    assert s.uname_r.startswith("6.18")


def test_write_then_load_round_trips(tmp_path, small_arrays):
    data = dict(small_arrays)
    p = tmp_path / "copy.npz"
    snapshot.write(p, data)
    s = snapshot.load(p)
    assert np.array_equal(s.kpageflags, data["kpageflags"])
    assert s.texts["meminfo"] == str(data["meminfo"][()])


# ---- malformed files: one clear error, no numpy traceback ------------------------------

def _refused(path, *needles):
    with pytest.raises(SnapshotError) as ei:
        snapshot.load(path)
    msg = str(ei.value)
    assert str(path) in msg
    for n in needles:
        assert n in msg, msg
    # raised "from None": no numpy/zipfile exception chained into the traceback
    e = ei.value
    assert e.__cause__ is None and (e.__suppress_context__ or e.__context__ is None)
    assert isinstance(ei.value, memcore.MemcoreError) and isinstance(ei.value, ValueError)
    return msg


def test_truncated_file_is_refused(tmp_path):
    raw = FIXTURE.read_bytes()
    for cut in (len(raw) // 2, len(raw) - 100):
        p = tmp_path / f"cut{cut}.npz"
        p.write_bytes(raw[:cut])
        _refused(p, "truncated")


def test_truncated_member_is_refused(tmp_path, small_arrays):
    # a readable zip directory whose kpageflags member is damaged
    p = _write(tmp_path / "bad.npz", small_arrays)
    buf = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("kpageflags.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 200, start + 400):
        buf[i] ^= 0xFF
    p.write_bytes(bytes(buf))
    _refused(p, "kpageflags", "corrupt")


@pytest.mark.parametrize("key, value, needle", [
    ("kpageflags", lambda a: a.astype(np.int64), "'kpageflags' must be uint64"),
    ("kpagecount", lambda a: a.astype(np.float64), "'kpagecount' must be uint64"),
    ("kpagecgroup", lambda a: a[:-1], "'kpagecgroup' has"),
    ("ram_ranges", lambda a: a.reshape(-1), "'ram_ranges' must be uint64 with 2"),
    ("meminfo", lambda a: np.array(str(a[()]).encode()), "'meminfo' must be a unicode string"),
    ("vmstat", lambda a: np.array([str(a[()])]), "'vmstat' must be a unicode string"),
    ("format", lambda a: np.array("other-format-9"), "format 'other-format-9'"),
])
def test_wrong_dtype_or_shape_is_refused(tmp_path, small_arrays, key, value, needle):
    data = dict(small_arrays)
    data[key] = value(data[key])
    _refused(_write(tmp_path / "x.npz", data), needle)


def test_pickled_object_array_is_refused(tmp_path, small_arrays):
    data = dict(small_arrays)
    data["meminfo"] = np.array({"MemFree": 1}, dtype=object)    # needs pickle to load
    p = tmp_path / "pickled.npz"
    with open(p, "wb") as f:
        np.savez(f, **data)           # savez pickles object arrays
    _refused(p, "'meminfo'", "pickled")


def test_pickle_file_is_refused(tmp_path):
    p = tmp_path / "p.npz"
    p.write_bytes(pickle.dumps({"kpageflags": [1, 2, 3]}))
    _refused(p, "not a zip archive")


def test_missing_key_is_refused(tmp_path, small_arrays):
    data = {k: v for k, v in small_arrays.items() if k not in ("kpagecount", "vmstat_after")}
    _refused(_write(tmp_path / "m.npz", data), "missing key(s)", "kpagecount", "vmstat_after")


def test_other_files_are_refused(tmp_path):
    npy = tmp_path / "one.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros(4, np.uint64))
    _refused(npy, "single .npy")
    garbage = tmp_path / "g.npz"
    garbage.write_bytes(b"hello world, not numpy")
    _refused(garbage, "not a zip archive")
    with pytest.raises(SnapshotError, match="no such file"):
        snapshot.load(tmp_path / "absent.npz")


def test_write_refuses_object_arrays_and_bad_names(tmp_path, small_arrays):
    data = dict(small_arrays)
    data["meminfo"] = np.array(["a", 1], dtype=object)
    with pytest.raises(SnapshotError, match="object array"):
        snapshot.write(tmp_path / "o.npz", data)
    with pytest.raises(SnapshotError, match="ends in .npz"):
        snapshot.write(tmp_path / "o.bin", dict(small_arrays))


def test_cli_refusal_is_one_line_exit_2(tmp_path, capsys):
    p = tmp_path / "g.npz"
    p.write_bytes(b"\x00" * 64)
    assert main(["estimate", "--snapshot", str(p)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "not a memcore snapshot" in err


# ---- saving, on a fake /proc ------------------------------------------------------------

def _fake_proc(tmp_path, arrays, n=None):
    proc = tmp_path / "proc"
    proc.mkdir()
    for name in snapshot.KPAGE_FILES:
        (proc / name).write_bytes(arrays[name][:n].astype("<u8").tobytes())
    for name in snapshot.TEXT_FILES:
        (proc / name).write_text(str(arrays[name][()]))
    return proc


def test_save_reads_in_step_until_eof(tmp_path, fixture_arrays, monkeypatch):
    monkeypatch.setattr(snapshot, "CHUNK_PFNS", 4096 + 7)      # odd chunks, many of them
    n = 300_000                                                  # less than iomem's end
    proc = _fake_proc(tmp_path, fixture_arrays, n)
    s = snapshot.save(tmp_path / "s.npz", proc=proc)
    t = snapshot.load(tmp_path / "s.npz")
    for name in snapshot.KPAGE_FILES:
        assert np.array_equal(getattr(t, name), fixture_arrays[name][:n])
    assert t.nr_pfns == n == s.nr_pfns and t.window
    assert t.texts["zoneinfo"] == str(fixture_arrays["zoneinfo"][()])
    assert t.texts["meminfo_after"] == t.texts["meminfo"]


def test_save_window_and_growth(tmp_path, fixture_arrays, monkeypatch):
    monkeypatch.setattr(snapshot, "CHUNK_PFNS", 1000)
    proc = _fake_proc(tmp_path, fixture_arrays, 20_000)
    arrays = snapshot.read_kpages(proc, first_pfn=100, max_pfns=5_555, expect_pfns=10)
    assert np.array_equal(arrays["kpagecount"], fixture_arrays["kpagecount"][100:5655])
    # more PFNs than expected: the arrays grow
    arrays = snapshot.read_kpages(proc, expect_pfns=10)
    assert np.array_equal(arrays["kpageflags"], fixture_arrays["kpageflags"][:20_000])


def test_progress_reaches_the_end(tmp_path, fixture_arrays, monkeypatch):
    monkeypatch.setattr(snapshot, "CHUNK_PFNS", 1000)
    proc = _fake_proc(tmp_path, fixture_arrays, 4_500)
    calls = []
    snapshot.read_kpages(proc, expect_pfns=10_000, progress=lambda d, t: calls.append((d, t)))
    assert [d for d, _ in calls] == [1000, 2000, 3000, 4000, 4500, 4500]
    assert calls[-1] == (4500, 4500)


def test_not_root_is_said_first(tmp_path, fixture_arrays):
    proc = _fake_proc(tmp_path, fixture_arrays, 10)
    (proc / "kpageflags").unlink()
    (proc / "iomem").write_text("00000000-00000000 : System RAM\n")     # what non-root sees
    with pytest.raises(SnapshotError, match=r"cannot read .*kpageflags"):
        snapshot.save(tmp_path / "s.npz", proc=proc)


def test_save_without_the_files_is_a_clear_error(tmp_path, fixture_arrays):
    proc = _fake_proc(tmp_path, fixture_arrays, 10)
    (proc / "kpagecgroup").unlink()
    with pytest.raises(SnapshotError, match=r"cannot read .*kpagecgroup"):
        snapshot.save(tmp_path / "s.npz", proc=proc)
    (proc / "kpagecgroup").write_bytes(b"")
    (proc / "iomem").write_text("00000000-00000000 : System RAM\n")     # what non-root sees
    with pytest.raises(SnapshotError, match="no System RAM ranges"):
        snapshot.save(tmp_path / "s.npz", proc=proc)


def test_permission_denied_says_root(tmp_path, fixture_arrays, monkeypatch):
    proc = _fake_proc(tmp_path, fixture_arrays, 10)

    def denied(path, *a, **k):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(snapshot, "open", denied, raising=False)
    with pytest.raises(SnapshotError, match="need root"):
        snapshot.read_kpages(proc)


# ---- the live machine ------------------------------------------------------------------

live = pytest.mark.skipif(not snapshot.can_read_live(),
                          reason="/proc/kpageflags is not readable (needs root)")


@live
def test_live_window_snapshot(tmp_path):
    p = tmp_path / "live.npz"
    assert main(["snapshot", "save", str(p), "--first-pfn", "4096", "--max-pfns", "8192"]) == 0
    s = snapshot.load(p)
    assert s.first_pfn == 4096 and s.nr_pfns == 8192 and s.window
    assert s.kpageflags.dtype == np.uint64


@live
def test_live_snapshot_covers_ram():
    s = snapshot.live()
    assert not s.window
    assert s.end_pfn >= int(s.ram_ranges[:, 1].max()) >> 12
    assert s.kpagecgroup is not None and s.kpagecgroup.shape == s.kpageflags.shape
    assert snapshot.live(max_pfns=4096, with_cgroup=False).kpagecgroup is None


def test_estimate_reads_without_kpagecgroup(tmp_path, fixture_arrays):
    proc = _fake_proc(tmp_path, fixture_arrays, 1000)
    (proc / "kpagecgroup").unlink()
    s = snapshot.live(proc=proc, with_cgroup=False)
    assert s.kpagecgroup is None and s.nr_pfns == 1000
    with pytest.raises(SnapshotError, match="kpagecgroup"):
        snapshot.live(proc=proc)
