"""Kernel configurations, one way everywhere (memcore/kconfig.py): names,
KEY=VALUE overrides and .config files for flags_layout(), `memcore layout
flags --config` and Machine(config=...)."""
import gzip
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

import memcore
from memcore import ConfigError, FlagsConfig, UnknownChoice, flags_layout, kconfig
from conftest import run_cli
from memcore.flagslayout import CONFIGS

DATA = ROOT / "tests" / "data" / "linux-6.18-x86_64-config-mm.txt"
KERNEL = pathlib.Path("/work/kernel")
PROC_CONFIG = pathlib.Path("/proc/config.gz")

#: a small i386 PAE HIGHMEM .config: the canonical i386's symbols, written as
#: Kconfig writes them (bools y or "is not set", no NODES_SHIFT without NUMA)
I386_CONFIG = """\
#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 6.18.2 Kernel Configuration
#
CONFIG_X86_32=y
# CONFIG_64BIT is not set
CONFIG_X86_PAE=y
CONFIG_HIGHMEM=y
CONFIG_HIGHMEM64G=y
CONFIG_MMU=y
CONFIG_PGTABLE_LEVELS=3
CONFIG_SMP=y
CONFIG_NR_CPUS=8
# CONFIG_NUMA is not set
CONFIG_ZONE_DMA=y
CONFIG_SPARSEMEM=y
CONFIG_SPARSEMEM_MANUAL=y
CONFIG_ARCH_USES_PG_ARCH_2=y
# CONFIG_MEMORY_FAILURE is not set
CONFIG_PAGE_SHIFT=12
CONFIG_MEMCG=y
CONFIG_SLAB_OBJ_EXT=y
CONFIG_TRANSPARENT_HUGEPAGE=y
CONFIG_HAVE_ALIGNED_STRUCT_PAGE=y
CONFIG_SLUB=y
CONFIG_SLUB_CPU_PARTIAL=y
CONFIG_SWAP=y
CONFIG_MIGRATION=y
CONFIG_COMPACTION=y
CONFIG_MEMORY_ISOLATION=y
CONFIG_HUGETLB_PAGE=y
CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING=y
CONFIG_MM_ID=y
CONFIG_PCP_BATCH_SCALE_MAX=5
# CONFIG_KASAN is not set
# CONFIG_LRU_GEN is not set
CONFIG_LOCALVERSION=""
CONFIG_CMDLINE="console=ttyS0 \\"quoted\\""
CONFIG_PHYSICAL_START=0x1000000
"""


@pytest.fixture
def i386_config(tmp_path):
    p = tmp_path / "i386.config"
    p.write_text(I386_CONFIG)
    return p


def write(tmp_path, text, name="x.config"):
    p = tmp_path / name
    p.write_text(text)
    return p


def widths(fl):
    return dict(fl.fields)


# ---- the tables agree with the C headers they describe --------------------------

def _cc():
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to preprocess include/memcore/config.h")
    return cc


def _config_h_macros(bits):
    """The macros include/memcore/config.h defines for MC_BITS=bits (cc -E -dM)."""
    out = subprocess.run([_cc(), "-E", "-dM", "-xc", f"-DMC_BITS={bits}", "-I",
                          str(ROOT / "include"), "-"], input='#include "memcore/config.h"\n',
                         capture_output=True, text=True, check=True).stdout
    macros = {}
    for line in out.splitlines():
        m = re.match(r"#define (\w+) (.*)", line)
        if m:
            macros[m.group(1)] = m.group(2).strip()
    return macros


@pytest.mark.parametrize("bits", [64, 32])
def test_compiled_table_is_config_h(bits):
    """kconfig.COMPILED is config.h symbol for symbol, so the two cannot drift."""
    macros = _config_h_macros(bits)
    from_header = {}
    for name, value in macros.items():
        if name.startswith("CONFIG_"):
            kind = kconfig.SYMBOLS.get(name)
            assert kind is not None, f"{name} (config.h) is missing from kconfig.SYMBOLS"
            from_header[name] = "y" if kind == "bool" and value == "1" else int(value)
    assert from_header == kconfig.COMPILED[bits]
    assert macros["MC_CONFIG_NAME"] == f'"{kconfig.CANONICAL[bits]}"'
    # the symbols the model depends on beyond config.h are ones it leaves undefined
    assert not set(kconfig.IMPLIED[bits]) & set(from_header)
    cfg = CONFIGS[kconfig.CANONICAL[bits]]
    assert int(macros["MC_MAX_PHYSMEM_BITS"]) == cfg.MAX_PHYSMEM_BITS
    assert int(macros["MC_SECTION_SIZE_BITS"]) == cfg.SECTION_SIZE_BITS


def test_every_symbol_the_headers_test_is_in_the_table():
    tested = set()
    for h in (ROOT / "include" / "memcore").glob("*.h"):
        for line in h.read_text().splitlines():
            if re.match(r"\s*#\s*(if|ifdef|ifndef|elif)\b", line):
                tested |= set(re.findall(r"\bCONFIG_[A-Z0-9_]+", line))
    assert "CONFIG_MEMORY_FAILURE" in tested and "CONFIG_HIGHMEM" in tested
    for bits in (64, 32):
        assert tested <= set(kconfig.model_symbols(bits)), \
            tested - set(kconfig.model_symbols(bits))


def test_pcp_batch_scale_max_is_mmzone_h():
    text = (ROOT / "include" / "memcore" / "mmzone.h").read_text()
    value = int(re.search(r"#define CONFIG_PCP_BATCH_SCALE_MAX\s+(\d+)", text).group(1))
    assert kconfig.IMPLIED[64]["CONFIG_PCP_BATCH_SCALE_MAX"] == value == 5
    assert kconfig.IMPLIED[32]["CONFIG_PCP_BATCH_SCALE_MAX"] == value


@pytest.mark.parametrize("bits", [64, 32])
def test_canonical_symbols_derive_the_canonical_config(bits):
    name = kconfig.CANONICAL[bits]
    got = kconfig.derive(kconfig.model_symbols(bits), name=name)
    assert got == CONFIGS[name]
    assert got.NR_PAGEFLAGS == {64: 24, 32: 22}[bits]
    assert got.MAX_NR_ZONES == {64: 5, 32: 4}[bits]


def _enum_body(path, enum, end):
    text = path.read_text()
    start = text.index(f"enum {enum} {{")
    return text[start:text.index(end, start)]


@pytest.mark.skipif(not KERNEL.is_dir(), reason="no kernel source at /work/kernel")
def test_pageflags_conditions_are_page_flags_h():
    """enum pageflags's unconditional flags and #if groups, read from 6.18's header."""
    body = _enum_body(KERNEL / "include/linux/page-flags.h", "pageflags", "__NR_PAGEFLAGS")
    unconditional, groups, cond = 0, [], None
    for line in body.splitlines()[1:]:
        s = line.split("/*")[0].strip()
        if s.startswith("#if"):
            cond, n = tuple(re.findall(r"CONFIG_\w+", s)), 0
        elif s.startswith("#endif"):
            groups.append((cond, n))
            cond = None
        elif re.fullmatch(r"PG_\w+,", s):
            if cond is None:
                unconditional += 1
            else:
                n += 1
    assert unconditional == kconfig.PAGEFLAGS_UNCONDITIONAL == 20
    assert tuple(groups) == kconfig.PAGEFLAGS_CONDITIONAL


@pytest.mark.skipif(not KERNEL.is_dir(), reason="no kernel source at /work/kernel")
def test_zone_conditions_are_mmzone_h():
    body = _enum_body(KERNEL / "include/linux/mmzone.h", "zone_type", "__MAX_NR_ZONES")
    conds = re.findall(r"#ifdef (CONFIG_\w+)\s*\n\s*(?:/\*.*?\*/\s*)*ZONE_\w+,", body, re.S)
    assert tuple(conds) == kconfig.ZONES_CONDITIONAL
    bare = [z for z in re.findall(r"^\s*(ZONE_\w+),", body, re.M)]
    assert len(bare) == 2 + len(conds)       # NORMAL and MOVABLE unconditional


# ---- reading .config files -----------------------------------------------------

def test_reader_values_and_not_set(i386_config):
    syms = kconfig.read_config(i386_config)
    assert syms["CONFIG_X86_32"] == "y" and syms["CONFIG_64BIT"] == "n"
    assert syms["CONFIG_NR_CPUS"] == 8 and syms["CONFIG_PHYSICAL_START"] == 0x1000000
    assert syms["CONFIG_LOCALVERSION"] == ""
    assert syms["CONFIG_CMDLINE"] == 'console=ttyS0 "quoted"'
    assert "CONFIG_NUMA" in syms and syms["CONFIG_NUMA"] == "n"


def test_reader_gzip_by_magic_not_name(tmp_path):
    p = tmp_path / "config-no-suffix"
    p.write_bytes(gzip.compress(I386_CONFIG.encode()))
    assert kconfig.read_config(p) == kconfig.parse_config(I386_CONFIG)
    plain = tmp_path / "plain.gz"
    plain.write_text(I386_CONFIG)
    assert kconfig.read_config(plain) == kconfig.parse_config(I386_CONFIG)


@pytest.mark.parametrize("text, needle, line", [
    ("CONFIG_A=y\nthis is not config\n", "line 2: not a kernel .config line", 2),
    ("CONFIG_A=y\n\nCONFIG_B=maybe\n", "line 3: CONFIG_B has value 'maybe'", 3),
    ("# only comments\n\n", "no CONFIG_ symbols", None),
])
def test_reader_errors_name_file_and_line(tmp_path, text, needle, line):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        kconfig.read_config(p)
    assert needle in str(ei.value) and str(p) in str(ei.value)
    assert ei.value.line == line and ei.value.path == str(p)
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, memcore.MemcoreError)


def test_reader_errors_unreadable(tmp_path):
    with pytest.raises(ConfigError, match="cannot read kernel config .*nope.*No such file"):
        kconfig.read_config(tmp_path / "nope")
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(ConfigError, match="not a readable gzip file"):
        kconfig.read_config(bad)
    binary = tmp_path / "bin"
    binary.write_bytes(b"CONFIG_A=y\n\xff\xfe\n")
    with pytest.raises(ConfigError, match="not a text file"):
        kconfig.read_config(binary)


# ---- deriving the flags word from a .config -----------------------------------------

def test_i386_derivation(i386_config, tmp_path):
    fl = flags_layout(i386_config)
    assert fl.config.NR_PAGEFLAGS == 22 and fl.config.MAX_NR_ZONES == 4
    assert (fl.config.MAX_PHYSMEM_BITS, fl.config.SECTION_SIZE_BITS) == (36, 29)
    assert fl.bits == 32 and fl.config.NODES_SHIFT == 0 and fl.config.NR_CPUS == 8
    assert widths(fl) == widths(flags_layout("i386"))
    assert fl.fields["SECTIONS"] == (7, 25) and fl.free_bits == 1
    # without PAE: asm/sparsemem.h's 32 and 26 bits, a 6-bit section field
    no_pae = write(tmp_path, I386_CONFIG.replace("CONFIG_X86_PAE=y", "# CONFIG_X86_PAE is not set"))
    fl = flags_layout(no_pae)
    assert (fl.config.MAX_PHYSMEM_BITS, fl.config.SECTION_SIZE_BITS) == (32, 26)
    assert fl.fields["SECTIONS"] == (6, 26)


def test_x86_64_page_table_levels(tmp_path):
    text = "CONFIG_64BIT=y\nCONFIG_X86_64=y\nCONFIG_SPARSEMEM=y\nCONFIG_MMU=y\n"
    assert flags_layout(write(tmp_path, text + "CONFIG_PGTABLE_LEVELS=5\n")) \
        .config.MAX_PHYSMEM_BITS == 52
    four = flags_layout(write(tmp_path, text + "CONFIG_PGTABLE_LEVELS=4\n"))
    assert (four.config.MAX_PHYSMEM_BITS, four.config.SECTION_SIZE_BITS) == (46, 27)
    # no vmemmap: the section number goes into the flags word, 46 - 27 bits of it
    assert four.fields["SECTIONS"] == (19, 45)
    with pytest.raises(ConfigError, match="CONFIG_PGTABLE_LEVELS is missing"):
        flags_layout(write(tmp_path, text))


def test_flags_from_pageflags_conditions(tmp_path):
    base = kconfig.model_symbols(64)
    body = "".join(f"{k}={v}\n" for k, v in base.items() if v != "n")
    assert flags_layout(write(tmp_path, body)).nr_pageflags == 24
    more = body + "CONFIG_MEMORY_FAILURE=y\nCONFIG_ARCH_USES_PG_ARCH_3=y\n"
    assert flags_layout(write(tmp_path, more)).nr_pageflags == 26
    no_idle = body.replace("CONFIG_PAGE_IDLE_FLAG=y\n", "")
    assert flags_layout(write(tmp_path, no_idle)).nr_pageflags == 22


def test_unknown_architecture_names_what_is_missing(tmp_path):
    arm = write(tmp_path, "CONFIG_ARM64=y\nCONFIG_64BIT=y\nCONFIG_MMU=y\nCONFIG_SPARSEMEM=y\n"
                          "CONFIG_SPARSEMEM_VMEMMAP=y\nCONFIG_ZONE_DMA=y\n")
    with pytest.raises(ConfigError) as ei:
        flags_layout(arm)
    msg = str(ei.value)
    assert "MAX_PHYSMEM_BITS" in msg and "SECTION_SIZE_BITS" in msg and "CONFIG_ARM64" in msg
    fl = flags_layout(f"{arm},MAX_PHYSMEM_BITS=48,SECTION_SIZE_BITS=27")
    assert (fl.config.MAX_PHYSMEM_BITS, fl.config.SECTION_SIZE_BITS) == (48, 27)
    assert fl.config.NR_PAGEFLAGS == 21 and fl.config.MAX_NR_ZONES == 3


def test_committed_data_file():
    """The filtered copy of the reference machine's config: symbols it leaves
    out are n, as in any .config, so it derives SMP off and no PG_arch_2; with
    those two back it is the canonical x86_64 word."""
    fl = flags_layout(DATA)
    assert fl.config.NR_PAGEFLAGS == 23 and fl.config.SMP is False
    assert fl.fields["LAST_CPUPID"] == (8, 43) and fl.fields["NODES"] == (10, 54)
    full = flags_layout(f"{DATA},SMP=y,ARCH_USES_PG_ARCH_2=y")
    assert widths(full) == widths(flags_layout("x86_64"))
    assert full.config.NR_PAGEFLAGS == 24
    # every symbol the data file states agrees with the 64-bit model
    syms = kconfig.read_config(DATA)
    model = kconfig.model_symbols(64)
    assert {k: v for k, v in syms.items() if k in model} == \
        {k: model[k] for k in syms if k in model}


def _reference_host():
    if not PROC_CONFIG.exists():
        pytest.skip("no /proc/config.gz")
    syms = kconfig.read_config(PROC_CONFIG)
    if syms.get("CONFIG_X86_64") != "y" or not platform.release().startswith("6.18"):
        pytest.skip("not a Linux 6.18 x86_64 host")
    return syms


def test_live_proc_config():
    syms = _reference_host()
    fl = flags_layout(str(PROC_CONFIG))
    # whatever this host's config says, the error for a machine names exactly the
    # symbols that differ from the 64-bit model
    model = kconfig.model_symbols(64)
    differ = {k for k, v in model.items()
              if syms.get(k, kconfig.ABSENT.get(k, "n" if kconfig.SYMBOLS[k] == "bool"
                                                 else "unset")) != v}
    if differ:
        with pytest.raises(ConfigError) as ei:
            kconfig.machine_config(str(PROC_CONFIG), "x86_64", 64, "classic")
        assert set(ei.value.unhonoured) == differ
    else:
        assert kconfig.machine_config(PROC_CONFIG, "x86_64", 64, "classic") == "x86_64"
        assert fl.config.NR_PAGEFLAGS == 24
        assert widths(fl) == widths(flags_layout("x86_64"))
        assert fl.free_bits == flags_layout("x86_64").free_bits == 11


# ---- every form, on flags_layout ---------------------------------------------------

X86 = widths(flags_layout("x86_64"))


@pytest.mark.parametrize("config", [
    "NUMA=n", "CONFIG_NUMA=n", "numa=n", ["NUMA=n"], ("CONFIG_NUMA=n",), {"NUMA": False},
    {"CONFIG_NUMA": "n"}, {"base": "x86_64", "NUMA": None}, "x86_64,NUMA=n",
])
def test_override_forms_agree(config):
    fl = flags_layout(config)
    assert fl.config.NODES_SHIFT == 0 and fl.config.NUMA_BALANCING is False
    assert fl.fields["NODES"] == (0, 0) and fl.fields["LAST_CPUPID"] == (0, 0)
    assert fl.fields["ZONES"] == (3, 61) and X86["ZONES"] == (3, 51)
    assert fl.free_bits == 64 - 24 - 3


def test_name_pathlike_flagsconfig_and_kwargs(i386_config):
    assert flags_layout("i386").config is CONFIGS["i386"]
    assert widths(flags_layout(pathlib.Path(i386_config))) == widths(flags_layout("i386"))
    assert widths(flags_layout(str(i386_config))) == widths(flags_layout("i386"))
    cfg = FlagsConfig.named("i386").replace(NR_PAGEFLAGS=21)
    assert flags_layout(cfg).config is cfg
    assert flags_layout("i386", NR_CPUS=64).config.NR_CPUS == 64
    assert flags_layout(i386_config, NR_CPUS=64).config.NR_CPUS == 64


def test_leading_name_picks_the_base():
    fl = flags_layout("i386,NR_CPUS=64")
    assert fl.bits == 32 and fl.config.NR_CPUS == 64 and fl.config.name == "i386+NR_CPUS=64"
    assert widths(fl) == widths(flags_layout("i386"))     # no NUMA_BALANCING on i386
    fl = flags_layout("NR_CPUS=8192,NR_PAGEFLAGS=31")
    assert fl.bits == 64 and not fl.last_cpupid_in_flags and fl.last_cpupid_shift == 21


def test_symbol_overrides_change_derived_fields():
    sw = flags_layout("CONFIG_KASAN_SW_TAGS=y")
    assert sw.config.KASAN == "sw_tags" and sw.fields["KASAN_TAG"] == (8, 27)
    assert flags_layout("KASAN=hw_tags").fields["KASAN_TAG"] == (4, 31)
    assert flags_layout("CONFIG_KASAN=y").config.KASAN == "generic"
    assert flags_layout("KASAN=sw_tags,KASAN=none").config.KASAN is None
    assert flags_layout("HIGHMEM=y").config.MAX_NR_ZONES == 6
    assert flags_layout("ZONE_DEVICE=n,ZONE_DMA=n").fields["ZONES"] == (2, 52)
    assert flags_layout("MEMORY_FAILURE=y").nr_pageflags == 25
    assert flags_layout("SMP=n").config.NR_CPUS == 1
    assert flags_layout("SMP=n").fields["LAST_CPUPID"] == (8, 43)   # 8 + 0 CPU bits
    assert flags_layout("i386,NODES_SHIFT=3").config.NODES_SHIFT == 3   # turns NUMA on
    assert flags_layout("SPARSEMEM=n").config.SPARSEMEM_VMEMMAP is False
    lru = flags_layout("LRU_GEN=y").fields
    assert lru["LRU_GEN"] == (3, 32) and lru["LRU_REFS"] == (2, 30)
    assert flags_layout("NR_CPUS=0x40").config.NR_CPUS == 64


@pytest.mark.parametrize("config, exc, needle", [
    ("NODE_SHIFT=3", UnknownChoice, "NODES_SHIFT"),
    ("CONFIG_NR_PAGEFLAGS=3", UnknownChoice, "NR_PAGEFLAGS"),
    ("KASAN=y", UnknownChoice, "sw_tags"),
    ("NUMA=maybe", ConfigError, "NUMA is a bool symbol"),
    ("NR_CPUS=lots", ConfigError, "NR_CPUS is a number"),
    ("NUMA=n,NODES_SHIFT=3", ConfigError, "CONFIG_NODES_SHIFT=3 depends on CONFIG_NUMA=y"),
    ("NUMA=n,NUMA_BALANCING=y", ConfigError, "depends on CONFIG_NUMA=y"),
    ("SMP=n,NR_CPUS=4", ConfigError, "depends on CONFIG_SMP=y"),
    ("KASAN_SW_TAGS=y,KASAN_HW_TAGS=y", ConfigError, "one Kconfig choice"),
    ("NR_CPUS=4,i386", ConfigError, "is not KEY=VALUE"),
    ("NR_CPUS=4,,SMP=y", ConfigError, "empty item"),
    ("arm64,NR_CPUS=4", UnknownChoice, "x86_64, i386"),
    ("arm64", UnknownChoice, "x86_64, i386"),
    ("i386,64BIT=y", ConfigError, "CONFIG_X86_32=y with CONFIG_64BIT=y"),
    ({"base": 3}, TypeError, "base"),
    (42, TypeError, "not int"),
    ([1], TypeError, "KEY=VALUE"),
])
def test_override_errors(config, exc, needle):
    with pytest.raises(exc, match=re.escape(needle)):
        flags_layout(config)


def test_unknown_key_lists_valid_keys():
    with pytest.raises(UnknownChoice) as ei:
        flags_layout("NODE_SHIFT=3")
    assert "NODES_SHIFT" in ei.value.valid and "NR_PAGEFLAGS" in ei.value.valid
    assert "KASAN" in ei.value.valid and "NUMA" in ei.value.valid


# ---- the command line --------------------------------------------------------------

run = run_cli


def test_cli_forms(capsys, i386_config):
    code, out, _ = run(capsys, "layout", "flags", "--config", "NUMA=n,NR_CPUS=64", "--json")
    d = __import__("json").loads(out)
    assert code == 0 and d["fields"]["NODES"] == {"width": 0, "shift": 0}
    assert d["config"]["name"] == "x86_64+NUMA=n,NR_CPUS=64"
    # KEY=VALUE alone changes the canonical config of --bits
    code, out, _ = run(capsys, "layout", "flags", "--bits", "32", "--config", "NR_CPUS=64",
                       "--json")
    d = __import__("json").loads(out)
    assert code == 0 and d["config"]["BITS_PER_LONG"] == 32 and d["config"]["NR_CPUS"] == 64
    code, out, _ = run(capsys, "layout", "flags", "--config", str(i386_config), "--bits", "32")
    assert code == 0 and "22 page flags, 1 free bits" in out


@pytest.mark.parametrize("args, needle", [
    (["--bits", "32", "--config", str(DATA)], "is a 64-bit configuration, not --bits 32"),
    (["--bits", "64", "--config", "i386,NR_CPUS=4"], "is a 32-bit configuration, not --bits 64"),
    (["--config", "NODE_SHIFT=3"], "unknown config key 'NODE_SHIFT'"),
    (["--config", "/nonexistent/config"], "cannot read kernel config /nonexistent/config"),
    (["--config", "NUMA=n,NODES_SHIFT=2"], "depends on CONFIG_NUMA=y"),
    (["--config", "arm"], "unknown config 'arm'; valid: x86_64, i386"),
    (["--compare", "--config", "NUMA=n"], "drop --config/--bits"),
])
def test_cli_errors_one_line_exit_2(capsys, args, needle):
    code, out, err = run(capsys, "layout", "flags", *args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err


def test_cli_malformed_file_names_the_line(capsys, tmp_path):
    p = write(tmp_path, "CONFIG_A=y\nnonsense\n")
    code, _, err = run(capsys, "layout", "flags", "--config", str(p))
    assert code == 2 and f"{p}, line 2" in err and len(err.strip().splitlines()) == 1


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "memcore.cli", "layout", "flags", *args],
                          capture_output=True, text=True, cwd=ROOT / "tests")


def test_cli_subprocess_file_and_overrides(i386_config):
    proc = _cli("--config", str(DATA) + ",SMP=y,ARCH_USES_PG_ARCH_2=y")
    assert proc.returncode == 0, proc.stderr
    assert "24 page flags, 11 free bits" in proc.stdout
    assert "| NODES:10 | ZONES:3 | LAST_CPUPID:16 | ...:11 | FLAGS:24 |" in proc.stdout
    proc = _cli("--config", "CONFIG_KASAN_SW_TAGS=y")
    assert proc.returncode == 0 and "KASAN_TAG:8" in proc.stdout
    proc = _cli("--config", str(i386_config), "--bits", "64")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (f"memcore: error: --config {i386_config} is a 32-bit "
                                   "configuration, not --bits 64")


# ---- machines ----------------------------------------------------------------------

def test_machine_config_checks_without_side_effects(i386_config):
    before = {b: dict(kconfig.model_symbols(b)) for b in (64, 32)}
    mc = kconfig.machine_config
    assert mc(None, "x86_64", 64, "classic") == "x86_64"
    assert mc("i386", "i386", 32, "memdesc") == "i386"
    assert mc(i386_config, "i386", 32, "memdesc") == "i386"
    assert mc(str(i386_config), "i386", 32, "memdesc") == "i386"
    assert mc("NR_CPUS=256,CONFIG_NUMA=y", "x86_64", 64, "classic") == "x86_64"
    assert mc({"NR_CPUS": 8}, "i386", 32, "classic") == "i386"
    assert mc(["PAGE_SHIFT=12"], "i386", 32, "classic") == "i386"
    assert mc(FlagsConfig.named("i386"), "i386", 32, "classic") == "i386"
    assert mc(f"{DATA},SMP=y,ARCH_USES_PG_ARCH_2=y,HAVE_ALIGNED_STRUCT_PAGE=y,SWAP=y,"
              "MEMORY_ISOLATION=y,SLUB_CPU_PARTIAL=y,HUGETLB_PMD_PAGE_TABLE_SHARING=y,"
              "MM_ID=y,PCP_BATCH_SCALE_MAX=5", "x86_64", 64, "classic") == "x86_64"
    assert {b: kconfig.model_symbols(b) for b in (64, 32)} == before


def test_machine_config_lists_every_key_it_cannot_honour(i386_config):
    with pytest.raises(ConfigError) as ei:
        kconfig.machine_config("NR_CPUS=64,NUMA=n,LRU_GEN=y", "x86_64", 64, "interim")
    e = ei.value
    assert isinstance(e, ValueError) and isinstance(e, memcore.MemcoreError)
    msg = str(e)
    assert "64-bit interim variant" in msg and len(msg.splitlines()) == 1
    for part in ("CONFIG_NR_CPUS=64 (model: 256)", "CONFIG_NUMA=n (model: y)",
                 "CONFIG_NODES_SHIFT=0 (model: 10)", "CONFIG_NUMA_BALANCING=n (model: y)",
                 "CONFIG_LRU_GEN=y (model: n)"):
        assert part in msg
    assert set(e.unhonoured) == {"CONFIG_NR_CPUS", "CONFIG_NUMA", "CONFIG_NODES_SHIFT",
                                 "CONFIG_NUMA_BALANCING", "CONFIG_LRU_GEN"}
    # a 32-bit .config on a 64-bit variant: the word size, arch, zones, NUMA, ...
    with pytest.raises(ConfigError) as ei:
        kconfig.machine_config(i386_config, "x86_64", 64, "classic")
    u = ei.value.unhonoured
    assert u["CONFIG_64BIT"] == ("n", "y") and u["CONFIG_X86_64"] == ("n", "y")
    assert u["CONFIG_HIGHMEM"] == ("y", "n") and u["CONFIG_NR_CPUS"] == (8, 256)
    assert u["CONFIG_NODES_SHIFT"] == (0, 10)
    # fields no symbol sets
    with pytest.raises(ConfigError, match=re.escape("NR_PAGEFLAGS=25 (model: 24)")):
        kconfig.machine_config("NR_PAGEFLAGS=25", "x86_64", 64, "classic")
    with pytest.raises(ConfigError, match=re.escape("NR_CPUS=4 (model: 8)")):
        kconfig.machine_config(FlagsConfig.named("i386").replace(NR_CPUS=4), "i386", 32, "c")
    # the filtered data file leaves out symbols the model needs: each is named
    with pytest.raises(ConfigError) as ei:
        kconfig.machine_config(DATA, "x86_64", 64, "classic")
    assert {"CONFIG_SMP", "CONFIG_ARCH_USES_PG_ARCH_2"} <= set(ei.value.unhonoured)
    assert "CONFIG_SMP=n (model: y)" in str(ei.value)


@pytest.mark.parametrize("config, exc", [
    ("x86_64", UnknownChoice), ("x86_64,NR_CPUS=8", UnknownChoice), ({"base": "x86_64"},
                                                                  UnknownChoice),
    (3.5, TypeError), ("/nonexistent/config", ConfigError),
])
def test_machine_config_errors(config, exc):
    with pytest.raises(exc):
        kconfig.machine_config(config, "i386", 32, "classic")


def test_machine_accepts_every_form(variant, machine, i386_config):
    bits = variant[1]
    canonical = kconfig.CANONICAL[bits]
    cpus = 256 if bits == 64 else 8
    assert machine("64MiB", config=f"NR_CPUS={cpus}").config == canonical
    assert machine("64MiB", config={"CONFIG_NR_CPUS": cpus}).config == canonical
    if bits == 32:
        m = machine("64MiB", config=pathlib.Path(i386_config))
        assert m.config == "i386" and m.flags_layout.fields == flags_layout("i386").fields
    else:
        with pytest.raises(ConfigError, match=re.escape("CONFIG_64BIT=n (model: y)")):
            machine("64MiB", config=i386_config)
    with pytest.raises(ConfigError) as ei:
        machine("64MiB", config="NR_CPUS=2,NODES_SHIFT=6")
    assert f"CONFIG_NR_CPUS=2 (model: {cpus})" in str(ei.value)
    assert "CONFIG_NODES_SHIFT=6" in str(ei.value)


def test_machine_from_live_proc_config(variant, machine):
    if not PROC_CONFIG.exists():
        pytest.skip("no /proc/config.gz")
    syms = kconfig.read_config(PROC_CONFIG)
    if variant[1] == 32:
        with pytest.raises(ConfigError) as ei:
            machine("64MiB", config="/proc/config.gz")
        if syms.get("CONFIG_64BIT") == "y":
            assert ei.value.unhonoured["CONFIG_64BIT"] == ("y", "n")
        return
    _reference_host()
    try:
        m = machine("64MiB", config="/proc/config.gz")
    except ConfigError as e:        # this host's config differs: the error says where
        assert e.unhonoured and all(k in str(e) for k in e.unhonoured)
    else:
        assert m.config == "x86_64"
        assert m.flags_layout.fields == flags_layout("/proc/config.gz").fields
