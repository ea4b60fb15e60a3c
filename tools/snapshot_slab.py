#!/usr/bin/env python3
"""Snapshot the SLUB cache configuration of the running kernel.

Reads /sys/kernel/slab/*/ and writes one JSON document describing every
real (non-alias) slab cache, the alias symlinks that point at them, and the
machine facts needed to recompute each cache's layout (possible CPUs, page
size, cache line size, kernel release, slab-related boot options and
kernel config symbols).

Usage:
    python3 tools/snapshot_slab.py OUTPUT.json [--sysfs-root DIR]
                                   [--with-counters]

The output is deterministic apart from the provenance block: keys are
sorted and the JSON is indented by one space.  By default the volatile
per-cache usage counters (objects, slabs, partial, ...) are left out so that
two snapshots of the same kernel compare equal; --with-counters keeps them.

Only the Python standard library is used.
"""

import argparse
import datetime
import gzip
import json
import os
import platform
import re
import sys

SLAB_ROOT = "/sys/kernel/slab"

# Attributes that describe how a cache was created and laid out.  These are
# stable for the lifetime of a cache and are what the sizing model needs.
# Values are parsed as integers where the kernel prints an integer.
LAYOUT_ATTRS = (
    "object_size",       # s->object_size: bytes the user asked for
    "slab_size",         # s->size: per-object stride inside a slab
    "align",             # s->align: final alignment after calculate_alignment
    "order",             # page order of a slab (oo_order(s->oo))
    "objs_per_slab",     # objects per slab (oo_objects(s->oo))
    "cpu_partial",       # s->cpu_partial (objects kept on per-cpu partials)
    "min_partial",       # s->min_partial (partial slabs kept per node)
    "destroy_by_rcu",    # SLAB_TYPESAFE_BY_RCU
    "hwcache_align",     # SLAB_HWCACHE_ALIGN
    "reclaim_account",   # SLAB_RECLAIM_ACCOUNT
    "cache_dma",         # SLAB_CACHE_DMA
    "poison",            # SLAB_POISON
    "red_zone",          # SLAB_RED_ZONE
    "store_user",        # SLAB_STORE_USER
    "sanity_checks",     # SLAB_CONSISTENCY_CHECKS
    "trace",             # SLAB_TRACE
    "failslab",          # SLAB_FAILSLAB (only with CONFIG_FAILSLAB)
    "usersize",          # hardened-usercopy whitelist size
    "aliases",           # number of caches merged into this one
    "sheaf_capacity",    # per-cpu sheaf capacity (6.18 sheaves)
    "remote_node_defrag_ratio",  # NUMA defrag ratio (percent)
)

# Volatile usage counters; only written with --with-counters.
COUNTER_ATTRS = (
    "cpu_slabs",
    "objects",
    "objects_partial",
    "partial",
    "slabs",
    "slabs_cpu_partial",
    "total_objects",
)

# Attributes that are write-only triggers or must never be read.
SKIP_ATTRS = ("shrink", "validate")

# Config symbols that influence slab sizing, flag numbering or cache sets.
CONFIG_SYMBOLS = (
    "CONFIG_64BIT",
    "CONFIG_DEBUG_OBJECTS",
    "CONFIG_FAILSLAB",
    "CONFIG_HARDENED_USERCOPY",
    "CONFIG_KASAN",
    "CONFIG_KASAN_GENERIC",
    "CONFIG_KFENCE",
    "CONFIG_KMSAN",
    "CONFIG_MEMCG",
    "CONFIG_NODES_SHIFT",
    "CONFIG_NR_CPUS",
    "CONFIG_NUMA",
    "CONFIG_PAGE_SIZE_4KB",
    "CONFIG_PREEMPT_RT",
    "CONFIG_RANDOM_KMALLOC_CACHES",
    "CONFIG_SLAB_BUCKETS",
    "CONFIG_SLAB_FREELIST_HARDENED",
    "CONFIG_SLAB_FREELIST_RANDOM",
    "CONFIG_SLAB_MERGE_DEFAULT",
    "CONFIG_SLAB_OBJ_EXT",
    "CONFIG_SLUB",
    "CONFIG_SLUB_CPU_PARTIAL",
    "CONFIG_SLUB_DEBUG",
    "CONFIG_SLUB_DEBUG_ON",
    "CONFIG_SLUB_RCU_DEBUG",
    "CONFIG_SLUB_TINY",
    "CONFIG_STACKDEPOT",
    "CONFIG_X86_L1_CACHE_SHIFT",
    "CONFIG_ZONE_DMA",
    "CONFIG_ZONE_DMA32",
)

INT_RE = re.compile(r"^-?\d+$")


def read_text(path):
    """Return the stripped content of a sysfs/procfs file, or None."""
    try:
        with open(path, "r", encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return None


def parse_value(text):
    """Integers become int; everything else stays a string."""
    if text is not None and INT_RE.match(text):
        return int(text)
    return text


def parse_cpu_list(text):
    """Parse a kernel CPU list such as '0-3,8-11' into a sorted list."""
    cpus = []
    if not text:
        return cpus
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            cpus.extend(range(int(lo), int(hi) + 1))
        else:
            cpus.append(int(part))
    return sorted(set(cpus))


def parse_ctor(text):
    """'init_once+0x0/0x10' -> 'init_once'; empty -> None."""
    if not text:
        return None
    return text.split("+", 1)[0]


def read_cache(dirpath, with_counters):
    """Collect the attributes of one real cache directory."""
    attrs = {}
    counters = {}
    other = {}
    for name in sorted(os.listdir(dirpath)):
        if name in SKIP_ATTRS:
            continue
        full = os.path.join(dirpath, name)
        if not os.path.isfile(full):
            continue
        text = read_text(full)
        if text is None:
            continue  # unreadable (e.g. permission) - record nothing
        if name == "ctor":
            continue  # handled below
        if name in LAYOUT_ATTRS:
            attrs[name] = parse_value(text)
        elif name in COUNTER_ATTRS:
            if with_counters:
                counters[name] = parse_value(text)
        else:
            other[name] = parse_value(text)
    ctor_raw = read_text(os.path.join(dirpath, "ctor"))
    entry = {
        "attrs": attrs,
        "ctor": parse_ctor(ctor_raw),
        "ctor_raw": ctor_raw or None,
        "has_ctor": bool(ctor_raw),
    }
    if other:
        entry["other_attrs"] = other
    if with_counters:
        entry["counters"] = counters
    return entry


def read_config():
    """Return selected config symbols from /proc/config.gz (if present)."""
    path = "/proc/config.gz"
    try:
        with gzip.open(path, "rt", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    wanted = set(CONFIG_SYMBOLS)
    found = {sym: None for sym in CONFIG_SYMBOLS}  # None = not set
    for line in lines:
        line = line.strip()
        if line.startswith("# ") and line.endswith(" is not set"):
            sym = line[2:-len(" is not set")]
            if sym in wanted:
                found[sym] = "n"
        elif "=" in line and not line.startswith("#"):
            sym, val = line.split("=", 1)
            if sym in wanted:
                found[sym] = parse_value(val.strip('"'))
    return found


def machine_facts():
    possible = parse_cpu_list(read_text("/sys/devices/system/cpu/possible"))
    present = parse_cpu_list(read_text("/sys/devices/system/cpu/present"))
    online = parse_cpu_list(read_text("/sys/devices/system/cpu/online"))
    nodes = parse_cpu_list(read_text("/sys/devices/system/node/possible"))
    cmdline = read_text("/proc/cmdline") or ""
    # Boot options that change SLUB sizing or flags (slub_* and the newer
    # slab_* spellings, e.g. slab_min_objects=, slub_debug=, slab_nomerge).
    slab_opts = [tok for tok in cmdline.split()
                 if tok.startswith(("slub_", "slab_"))]
    line_size = parse_value(read_text(
        "/sys/devices/system/cpu/cpu0/cache/index0/coherency_line_size"))
    uname = platform.uname()
    return {
        # nr_cpu_ids is one more than the highest possible CPU number.
        "nr_cpu_ids": (max(possible) + 1) if possible else None,
        "cpus_possible": len(possible),
        "cpus_present": len(present),
        "cpus_online": len(online),
        "nr_node_ids": (max(nodes) + 1) if nodes else None,
        "page_size": os.sysconf("SC_PAGE_SIZE"),
        "cache_line_size": line_size,
        "kernel_release": uname.release,
        "machine": uname.machine,
        "word_size": 8 if sys.maxsize > 2 ** 32 else 4,
        "cmdline_slab_options": slab_opts,
        "cmdline_has_slab_options": bool(slab_opts),
        "kernel_config": read_config(),
        "kernel_config_note": ("values from /proc/config.gz: 'y'/'m'/number"
                               " as set, 'n' = '# ... is not set', null ="
                               " symbol absent from this kernel's config"),
    }


def snapshot(root, with_counters):
    caches = {}
    aliases = {}
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if os.path.islink(path):
            # Merged caches appear as symlinks to the real cache directory.
            aliases[name] = os.path.basename(os.readlink(path).rstrip("/"))
        elif os.path.isdir(path):
            caches[name] = read_cache(path, with_counters)
    # Reverse map: which alias names resolve to each real cache.
    for alias, target in aliases.items():
        if target in caches:
            caches[target].setdefault("alias_names", []).append(alias)
    for entry in caches.values():
        if "alias_names" in entry:
            entry["alias_names"].sort()
    return caches, aliases


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output", help="path of the JSON file to write")
    ap.add_argument("--sysfs-root", default=SLAB_ROOT,
                    help="slab sysfs directory (default %(default)s)")
    ap.add_argument("--with-counters", action="store_true",
                    help="also record volatile usage counters")
    args = ap.parse_args(argv)

    if not os.path.isdir(args.sysfs_root):
        ap.error("%s does not exist (not SLUB, or sysfs not mounted)"
                 % args.sysfs_root)

    caches, aliases = snapshot(args.sysfs_root, args.with_counters)
    machine = machine_facts()
    doc = {
        "provenance": {
            "kernel_release": machine["kernel_release"],
            "date_utc": datetime.datetime.now(datetime.timezone.utc)
                        .strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": " ".join(["python3", "tools/snapshot_slab.py"]
                                + (argv if argv is not None else sys.argv[1:])),
            "source": args.sysfs_root,
            "tool": "memcore tools/snapshot_slab.py",
            "counters_included": bool(args.with_counters),
        },
        "machine": machine,
        "caches": caches,
        "aliases": aliases,
        "summary": {
            "real_caches": len(caches),
            "alias_links": len(aliases),
        },
    }
    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, sort_keys=True, indent=1)
        fh.write("\n")
    os.replace(tmp, args.output)
    print("wrote %s: %d caches, %d aliases"
          % (args.output, len(caches), len(aliases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
