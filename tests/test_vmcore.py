"""memcore.vmcore without drgn: the ELF core a Machine saves (its segments,
its VMCOREINFO), the kernel image's variables it holds, and `memcore dump`."""
import struct
import subprocess
import sys

import pytest

import memcore
import memcore.vmcore as mvmcore
from conftest import ROOT, have_m32_gcc, variants


def _need_types(bits):
    if bits == 32 and not have_m32_gcc():
        pytest.skip("gcc -m32 unavailable at build time: no 32-bit debugger types")


def _phdrs(data):
    """(type, offset, vaddr, paddr, filesz) of each program header."""
    if data[4] == 2:
        phoff, = struct.unpack_from("<Q", data, 32)
        phnum, = struct.unpack_from("<H", data, 56)
        return [(lambda t: (t[0], t[2], t[3], t[4], t[5]))(
            struct.unpack_from("<IIQQQQQQ", data, phoff + 56 * i)) for i in range(phnum)]
    phoff, = struct.unpack_from("<I", data, 28)
    phnum, = struct.unpack_from("<H", data, 44)
    return [(lambda t: (t[0], t[1], t[2], t[3], t[4]))(
        struct.unpack_from("<IIIIIIII", data, phoff + 32 * i)) for i in range(phnum)]


@pytest.mark.parametrize("variant", variants())
def test_vmcore_segments_hold_the_machines_memory(variant, tmp_path):
    """Every PT_LOAD's bytes are the machine's at its virtual address; the
    note is a VMCOREINFO naming the variant's types file by build ID."""
    design, bits = variant
    _need_types(bits)
    m = memcore.Machine("64MiB", design=design, bits=bits)
    made = mvmcore.populate(m)
    core = tmp_path / "m.core"
    assert m.save_vmcore(core) == mvmcore.types_path(design, bits)
    data = core.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == (2 if bits == 64 else 1)
    ph = _phdrs(data)
    assert ph[0][0] == 4                             # PT_NOTE first
    note = data[ph[0][1]:ph[0][1] + ph[0][4]]
    namesz, descsz, _ = struct.unpack_from("<III", note)
    assert note[12:12 + namesz] == b"VMCOREINFO\0"
    desc = note[12 + (namesz + 3 & ~3):][:descsz]
    info = dict(line.split("=", 1) for line in desc.decode().splitlines())
    assert info["BUILD-ID"] == mvmcore.build_id(mvmcore.types_path(design, bits)).hex()
    assert info["OSRELEASE"] == f"6.18.2-memcore-{design}{bits}"
    symbols = m._debugger_regions()["symbols"]
    assert int(info["SYMBOL(mem_section)"], 16) == symbols["mem_section"]
    loads = [p for p in ph if p[0] == 1]
    ram = [p for p in loads if p[3] == 0]
    assert ram and ram[0][2] == m.page_offset and ram[0][4] == 64 << 20
    assert loads[-1][2] == symbols["slab_caches"]
    # spot checks: a file folio's struct page, a slab object, the cache list head
    f = made["file"][3]
    page_va = m.memmap_address + f.pfn * m.sizeof_page
    obj = made["objects"][0]
    for va, size in ((page_va, m.sizeof_page), (obj.address, 64), (symbols["slab_caches"], 16)):
        seg = next(p for p in loads if p[2] <= va < p[2] + p[4])
        assert data[seg[1] + va - seg[2]:seg[1] + va - seg[2] + size] == m._kernel_read(va, size)


def test_vmcore_is_sparse_and_leaves_the_machine_unchanged(tmp_path):
    m = memcore.Machine("256MiB")
    mvmcore.populate(m)
    digest = m._state_digest()
    m.save_vmcore(tmp_path / "m.core")
    assert m._state_digest() == digest
    st = (tmp_path / "m.core").stat()
    assert st.st_size > 256 << 20                  # every RAM byte has its place ...
    assert st.st_blocks * 512 < st.st_size // 4    # ... but zero runs are holes


def test_vmcore_refuses_a_bad_path(tmp_path):
    m = memcore.Machine("64MiB")
    with pytest.raises(OSError):
        m.save_vmcore(tmp_path / "no-such-dir" / "m.core")


def test_kernel_read_across_the_i386_memmap_edge():
    """i386's memmap is inside the direct map but kept in its own array: a
    read across its edge is the RAM before it and the struct pages after."""
    _need_types(32)
    m = memcore.Machine("64MiB", bits=32)
    lo = m.memmap_address
    assert m._kernel_read(lo - 8, 16) == m._kernel_read(lo - 8, 8) + m._kernel_read(lo, 8)
    assert m._kernel_read(lo, 8) == m._kernel_read(lo, m.sizeof_page)[:8]


def test_slab_caches_is_a_kernel_list(variant):
    """kmem_cache.list links every cache from slab_caches, newest first, and
    kmem_cache.name points at its name: read back from the memory itself."""
    design, bits = variant
    m = memcore.Machine("64MiB", design=design, bits=bits)
    c = m.kmem_cache_create("listed", 100)
    symbols = m._debugger_regions()["symbols"]
    word = bits // 8
    fmt = "<Q" if bits == 64 else "<I"
    head = symbols["slab_caches"]
    # the newest cache is first: head.next is &c->list, which fixes offsetof(list)
    list_off = struct.unpack(fmt, m._kernel_read(head, word))[0] - c.pointer
    assert 0 < list_off < 256
    addresses = {x.name: x.pointer for x in m.caches()}
    names, pos = [], struct.unpack(fmt, m._kernel_read(head, word))[0]
    while pos != head:
        s = pos - list_off                  # container_of(pos, struct kmem_cache, list)
        name_ptr = struct.unpack(fmt, m._kernel_read(s + list_off - word, word))[0]
        end = head + m._debugger_regions()["kimage_bytes"]          # the image's last byte + 1
        raw = m._kernel_read(name_ptr, min(64, end - name_ptr))
        names.append(raw[:raw.index(b"\0")].decode())
        assert addresses[names[-1]] == s
        pos = struct.unpack(fmt, m._kernel_read(pos, word))[0]
    assert names == [x.name for x in m.caches()] and names[0] == "listed"
    m.kmem_cache_destroy(c)
    assert struct.unpack(fmt, m._kernel_read(head, word))[0] != c.pointer + list_off


def test_memcore_dump_command(tmp_path):
    core = tmp_path / "m.core"
    out = subprocess.run([sys.executable, "-m", "memcore.cli", "dump", "--vmcore", str(core),
                          "--ram", "64MiB", "--types", str(tmp_path / "t.debug")],
                         capture_output=True, text=True, cwd=ROOT / "tests")
    assert out.returncode == 0, out.stderr
    assert core.stat().st_size > 64 << 20 and (tmp_path / "t.debug").is_file()
    assert f"drgn -c {core} -s {tmp_path / 't.debug'}" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "memcore.cli", "dump", "--vmcore",
                          str(tmp_path / "nope" / "m.core"), "--ram", "64MiB"],
                         capture_output=True, text=True, cwd=ROOT / "tests")
    assert bad.returncode == 2 and "No such file or directory" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_save_vmcore_rejects_what_is_no_path(tmp_path):
    m = memcore.Machine("64MiB")
    for bad in (None, 1.5, -1, 2 ** 64, []):
        with pytest.raises(TypeError):
            m.save_vmcore(bad)
        with pytest.raises(TypeError):
            m.save_vmcore(tmp_path / "m.core", bad if bad is not None else 1.5)
