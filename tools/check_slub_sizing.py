#!/usr/bin/env python3
"""Check include/memcore/slub_sizing.h against a /sys/kernel/slab snapshot.

Compiles a small C harness against the header with the system C compiler
(in a temporary directory), feeds it the creation arguments of every real
cache in the snapshot and compares what the header predicts with what the
kernel reported:

    slab_size (s->size), order, objs_per_slab      -- the match criterion
    align, min_partial, cpu_partial, sheaf_capacity -- reported as extras

Creation arguments come from the sysfs attributes (object_size, align, the
flag attributes, ctor) except where the kernel used arguments sysfs does not
show; those are listed in the creation-args JSON next to the snapshot
(explicit free-pointer offsets, boot caches, kmalloc and kmem_buckets
families).

It also prints what the header gives for the same caches with a 32-bit word
size where that is well defined (caches whose object size is a size class,
not a C struct whose layout changes between 32- and 64-bit).

This is a developer tool, not a pytest file.  Exit status 0 when every cache
matches, 1 when something does not, 2 on usage/compile errors.

Usage:
    python3 tools/check_slub_sizing.py [--snapshot PATH] [--args PATH]
                                       [--cc gcc] [--report OUT.json]
                                       [--verbose]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_SNAPSHOT = os.path.join(
    ROOT, "tests", "data", "linux-6.18-x86_64-sys-kernel-slab.json")
DEFAULT_ARGS = os.path.join(
    ROOT, "tests", "data", "linux-6.18-x86_64-slab-creation-args.json")
INCLUDE_DIR = os.path.join(ROOT, "include")

# sysfs attribute -> header flag name (without the MC_SLAB_ prefix)
SYSFS_FLAG_ATTRS = (
    ("hwcache_align", "HWCACHE_ALIGN"),
    ("destroy_by_rcu", "TYPESAFE_BY_RCU"),
    ("reclaim_account", "RECLAIM_ACCOUNT"),
    ("cache_dma", "CACHE_DMA"),
    ("poison", "POISON"),
    ("red_zone", "RED_ZONE"),
    ("store_user", "STORE_USER"),
    ("sanity_checks", "CONSISTENCY_CHECKS"),
    ("trace", "TRACE"),
)

KMALLOC_PREFIX_TO_TYPE = {
    "kmalloc": "MC_KMALLOC_NORMAL",
    "kmalloc-rcl": "MC_KMALLOC_RECLAIM",
    "dma-kmalloc": "MC_KMALLOC_DMA",
    "kmalloc-cg": "MC_KMALLOC_CGROUP",
}

# The C side of the harness.  One request per input line:
#   C name word nr_cpus object_size align flags ctor use_fp fp_off sheaf boot
#   K name word nr_cpus type_enum_value size_suffix   (size_suffix: "96", "1k", ...)
#   B name word nr_cpus size_suffix flags ctor
#   I size                       (kmalloc index/roundup probe)
# Flags are '0' or NAME|NAME|... using the MC_SLAB_* suffixes.
HARNESS_C = r'''
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "memcore/slub_sizing.h"

static const struct { const char *name; uint32_t bit; } flag_names[] = {
    {"CONSISTENCY_CHECKS", MC_SLAB_CONSISTENCY_CHECKS},
    {"RED_ZONE", MC_SLAB_RED_ZONE}, {"POISON", MC_SLAB_POISON},
    {"KMALLOC", MC_SLAB_KMALLOC}, {"HWCACHE_ALIGN", MC_SLAB_HWCACHE_ALIGN},
    {"CACHE_DMA", MC_SLAB_CACHE_DMA}, {"CACHE_DMA32", MC_SLAB_CACHE_DMA32},
    {"STORE_USER", MC_SLAB_STORE_USER}, {"PANIC", MC_SLAB_PANIC},
    {"TYPESAFE_BY_RCU", MC_SLAB_TYPESAFE_BY_RCU}, {"TRACE", MC_SLAB_TRACE},
    {"NOLEAKTRACE", MC_SLAB_NOLEAKTRACE}, {"NO_MERGE", MC_SLAB_NO_MERGE},
    {"ACCOUNT", MC_SLAB_ACCOUNT}, {"NO_USER_FLAGS", MC_SLAB_NO_USER_FLAGS},
    {"RECLAIM_ACCOUNT", MC_SLAB_RECLAIM_ACCOUNT},
    {"NO_OBJ_EXT", MC_SLAB_NO_OBJ_EXT},
};

static int parse_flags(char *s, uint32_t *out)
{
    char *tok, *save = NULL;
    *out = 0;
    if (strcmp(s, "0") == 0)
        return 0;
    for (tok = strtok_r(s, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        size_t i;
        int found = 0;
        for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
            if (strcmp(tok, flag_names[i].name) == 0) {
                *out |= flag_names[i].bit;
                found = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "unknown flag %s\n", tok);
            return -1;
        }
    }
    return 0;
}

/* kmalloc index of a size suffix ("96", "1k"): the model's own table. */
static int kmalloc_index_of(const char *short_name)
{
    int i;
    for (i = 0; i < (int)MC_KMALLOC_NR_INDEX; i++)
        if (mc_kmalloc_short_name(i) && strcmp(mc_kmalloc_short_name(i), short_name) == 0)
            return i;
    return -1;
}

static void emit(const char *name, int rc, const struct mc_kmem_cache_layout *l)
{
    if (rc != MC_SLUB_OK) {
        printf("%s %d\n", name, rc);
        return;
    }
    printf("%s 0 %u %u %u %u %u %u %u %u %u %u %u %u %u\n", name,
           l->size, l->align, l->offset, l->inuse, l->red_left_pad,
           l->oo.order, l->oo.objects, l->min.order, l->min.objects,
           l->min_partial, l->cpu_partial, l->sheaf_capacity,
           l->object_size);
}

int main(void)
{
    char line[1024];
    while (fgets(line, sizeof line, stdin)) {
        char kind[4], name[256], flagbuf[512];
        unsigned int word, ncpu;
        struct mc_slub_config cfg;
        struct mc_kmem_cache_layout lay;
        memset(&lay, 0, sizeof lay);
        if (line[0] == 'I') {
            unsigned long long size;
            if (sscanf(line, "%3s %llu", kind, &size) != 2)
                return 3;
            printf("I %llu %d %llu\n", size, mc_kmalloc_index((size_t)size),
                   (unsigned long long)mc_kmalloc_size_roundup(size));
            continue;
        }
        if (sscanf(line, "%3s %255s %u %u", kind, name, &word, &ncpu) != 4)
            return 3;
        mc_slub_config_init(&cfg, word, ncpu);
        if (kind[0] == 'C') {
            struct mc_slub_cache_args a;
            unsigned int osz, al, ctor, usefp, fpoff, sheaf, boot;
            if (sscanf(line, "%3s %255s %u %u %u %u %511s %u %u %u %u %u",
                       kind, name, &word, &ncpu, &osz, &al, flagbuf, &ctor,
                       &usefp, &fpoff, &sheaf, &boot) != 12)
                return 3;
            memset(&a, 0, sizeof a);
            a.object_size = osz;
            a.align = al;
            if (parse_flags(flagbuf, &a.flags))
                return 4;
            a.has_ctor = (int)ctor;
            a.use_freeptr_offset = (int)usefp;
            a.freeptr_offset = fpoff;
            a.sheaf_capacity = sheaf;
            a.boot_cache = (int)boot;
            emit(name, mc_slub_create(&cfg, &a, &lay), &lay);
        } else if (kind[0] == 'K') {
            int type, idx;
            char short_name[16];
            if (sscanf(line, "%3s %255s %u %u %d %15s", kind, name, &word,
                       &ncpu, &type, short_name) != 6)
                return 3;
            if ((idx = kmalloc_index_of(short_name)) < 0)
                return 5;
            emit(name, mc_kmalloc_cache_layout(&cfg, type, idx, &lay), &lay);
        } else if (kind[0] == 'B') {
            struct mc_slub_cache_args a;
            int idx, rc;
            unsigned int ctor;
            uint32_t fl;
            char short_name[16];
            if (sscanf(line, "%3s %255s %u %u %15s %511s %u", kind, name, &word,
                       &ncpu, short_name, flagbuf, &ctor) != 7)
                return 3;
            if ((idx = kmalloc_index_of(short_name)) < 0)
                return 5;
            if (parse_flags(flagbuf, &fl))
                return 4;
            rc = mc_kmem_buckets_cache_args(idx, fl, (int)ctor, &a);
            if (rc == MC_SLUB_OK)
                rc = mc_slub_create(&cfg, &a, &lay);
            emit(name, rc, &lay);
        } else {
            return 3;
        }
    }
    return 0;
}
'''

# Names of kmalloc type enum values, resolved to integers by the harness
# build (see type_values()).
TYPE_ENUM_SOURCE = r'''
#include <stdio.h>
#include "memcore/slub_sizing.h"
int main(void) {
    printf("MC_KMALLOC_NORMAL %d\nMC_KMALLOC_RECLAIM %d\n"
           "MC_KMALLOC_DMA %d\nMC_KMALLOC_CGROUP %d\n",
           MC_KMALLOC_NORMAL, MC_KMALLOC_RECLAIM, MC_KMALLOC_DMA,
           MC_KMALLOC_CGROUP);
    return 0;
}
'''

RESULT_FIELDS = ("size", "align", "offset", "inuse", "red_left_pad",
                 "order", "objects", "min_order", "min_objects",
                 "min_partial", "cpu_partial", "sheaf_capacity",
                 "object_size")


def compile_c(cc, src, workdir, name):
    cpath = os.path.join(workdir, name + ".c")
    exe = os.path.join(workdir, name)
    with open(cpath, "w") as fh:
        fh.write(src)
    cmd = [cc, "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-O1", "-Wall",
           "-Wextra", "-Werror", "-I", INCLUDE_DIR, cpath, "-o", exe]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write("compile failed: %s\n%s%s" % (
            " ".join(cmd), proc.stdout, proc.stderr))
        sys.exit(2)
    return exe


def run_harness(exe, lines):
    proc = subprocess.run([exe], input="".join(l + "\n" for l in lines),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write("harness failed (rc %d): %s\n"
                         % (proc.returncode, proc.stderr))
        sys.exit(2)
    results = {}
    probes = []
    for out in proc.stdout.splitlines():
        parts = out.split()
        if parts[0] == "I":
            probes.append((int(parts[1]), int(parts[2]), int(parts[3])))
            continue
        name, rc = parts[0], int(parts[1])
        if rc != 0:
            results[name] = {"rc": rc}
        else:
            results[name] = dict(zip(RESULT_FIELDS, map(int, parts[2:])))
            results[name]["rc"] = 0
    return results, probes


def flags_str(names):
    names = sorted(set(names))
    return "|".join(names) if names else "0"


def sysfs_flags(attrs):
    return [flag for attr, flag in SYSFS_FLAG_ATTRS if attrs.get(attr)]


def build_requests(snap, special, word, nr_cpus, type_values):
    """Return (lines, meta) where meta[name] explains how args were chosen."""
    lines, meta = [], {}
    fam = special.get("families", {})
    km_re = re.compile(fam["kmalloc"]["name_regex"])
    bk_re = re.compile(fam["kmem_buckets"]["name_regex"])
    bk_members = fam["kmem_buckets"]["members"]
    for name, entry in sorted(snap["caches"].items()):
        attrs = entry["attrs"]
        sflags = sysfs_flags(attrs)
        m_km = km_re.match(name)
        m_bk = bk_re.match(name)
        if m_km:
            tval = type_values[KMALLOC_PREFIX_TO_TYPE[m_km.group(1)]]
            lines.append("K %s %d %d %d %s" % (name, word, nr_cpus, tval, m_km.group(2)))
            meta[name] = {"source": "kmalloc family (mc_kmalloc_cache_args)",
                          "well_defined_32bit": True}
            continue
        if m_bk:
            member = bk_members[m_bk.group(1)]
            lines.append("B %s %d %d %s %s %d" % (
                name, word, nr_cpus, m_bk.group(2), flags_str(member["flags"]),
                1 if entry["has_ctor"] else 0))
            meta[name] = {"source": "kmem_buckets (mc_kmem_buckets_cache_args)",
                          "well_defined_32bit": True}
            continue
        sp = special.get("caches", {}).get(name)
        object_size = attrs["object_size"]
        align = attrs["align"]
        boot = 0
        use_fp = 0
        fp_off = 0
        sheaf = attrs.get("sheaf_capacity", 0) or 0
        flags = list(sflags)
        well_defined = False
        source = "sysfs attributes (align = observed final alignment)"
        if sp:
            source = "creation-args table: " + sp.get("call_site", "")
            flags = sorted(set(sp.get("flags", [])) | set(sflags))
            if sp.get("boot_cache"):
                boot = 1
            if sp.get("align") == "derive":
                align = 0
            elif sp.get("align") is not None:
                align = sp["align"]
            if sp.get("use_freeptr_offset"):
                use_fp = 1
                fp_off = sp.get("freeptr_offset") or 0
            if "sheaf_capacity" in sp:
                sheaf = sp["sheaf_capacity"]
            by_word = sp.get("object_size_by_word")
            if by_word:
                object_size = by_word[str(word)]
                well_defined = True
        lines.append("C %s %d %d %d %d %s %d %d %d %d %d" % (
            name, word, nr_cpus, object_size, align, flags_str(flags),
            1 if entry["has_ctor"] else 0, use_fp, fp_off, sheaf, boot))
        meta[name] = {"source": source, "well_defined_32bit": well_defined}
    return lines, meta


def implicit_align_requests(snap, special, nr_cpus):
    """Requests with align=0 to see which caches' alignment the flags alone
    explain (the rest were created with an explicit align argument)."""
    lines = []
    for name, entry in sorted(snap["caches"].items()):
        attrs = entry["attrs"]
        lines.append("C %s 8 %d %d 0 %s 0 0 0 0 0" % (
            name, nr_cpus, attrs["object_size"],
            flags_str(sysfs_flags(attrs))))
    return lines


def kmalloc_index_probes():
    sizes = list(range(0, 8194)) + [8193, 12288, 16384, 16385, 65536,
                                    1 << 21, (1 << 22), (1 << 22) + 1]
    return ["I %d" % s for s in sizes]


def check_kmalloc_index(probes):
    """Property check: the class chosen is the smallest class >= size.

    The classes and limits are written out here from the kernel, not read
    from slub_sizing.h: they are the oracle the C is checked against."""
    classes = sorted([8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048,
                      4096, 8192])
    bad = []
    for size, idx, rounded in probes:
        if size == 0:
            ok = idx == 0 and rounded == 0
        elif size <= 8192:
            want = next(c for c in classes if c >= size)
            ok = rounded == want and idx >= 1
        elif size <= (1 << 22):
            pages = 4096
            while pages < size:
                pages *= 2
            ok = idx == -1 and rounded == pages
        else:
            ok = idx == -1 and rounded == size
        if not ok:
            bad.append((size, idx, rounded))
    return bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshot", default=DEFAULT_SNAPSHOT)
    ap.add_argument("--args", default=DEFAULT_ARGS,
                    help="creation-args JSON for caches sysfs cannot explain")
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    ap.add_argument("--report", help="write a JSON report to this path")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)

    if shutil.which(args.cc) is None:
        sys.stderr.write("C compiler %r not found\n" % args.cc)
        return 2
    with open(args.snapshot) as fh:
        snap = json.load(fh)
    with open(args.args) as fh:
        special = json.load(fh)

    mach = snap["machine"]
    # SLUB scales min_objects by the present CPUs unless only one is
    # reported present, in which case it uses nr_cpu_ids.
    present = mach.get("cpus_present") or 0
    nr_cpus = present if present > 1 else mach["nr_cpu_ids"]
    if mach.get("cmdline_has_slab_options"):
        print("WARNING: kernel booted with %s; the model assumes defaults"
              % " ".join(mach["cmdline_slab_options"]))

    tmp = tempfile.mkdtemp(prefix="slub_sizing_")
    try:
        exe = compile_c(args.cc, HARNESS_C, tmp, "harness")
        tv_exe = compile_c(args.cc, TYPE_ENUM_SOURCE, tmp, "types")
        tv_out = subprocess.run([tv_exe], capture_output=True, text=True,
                                check=True).stdout
        type_values = {k: int(v) for k, v in
                       (l.split() for l in tv_out.splitlines())}

        lines64, meta = build_requests(snap, special, 8, nr_cpus, type_values)
        res64, _ = run_harness(exe, lines64)
        lines32, _ = build_requests(snap, special, 4, nr_cpus, type_values)
        res32, _ = run_harness(exe, lines32)
        res_implicit, _ = run_harness(
            exe, implicit_align_requests(snap, special, nr_cpus))
        _, probes = run_harness(exe, kmalloc_index_probes())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    caches = snap["caches"]
    total = len(caches)
    matched, mismatched = [], []
    extra_mismatch = []
    report = {"snapshot": os.path.relpath(args.snapshot, ROOT),
              "kernel_release": snap["provenance"]["kernel_release"],
              "nr_cpus_used": nr_cpus, "caches": {}}
    for name in sorted(caches):
        attrs = caches[name]["attrs"]
        got = res64[name]
        want = {"size": attrs["slab_size"], "order": attrs["order"],
                "objects": attrs["objs_per_slab"]}
        row = {"observed": {"slab_size": attrs["slab_size"],
                            "order": attrs["order"],
                            "objs_per_slab": attrs["objs_per_slab"],
                            "align": attrs["align"],
                            "min_partial": attrs.get("min_partial"),
                            "cpu_partial": attrs.get("cpu_partial"),
                            "sheaf_capacity": attrs.get("sheaf_capacity")},
               "model_w8": got, "args_source": meta[name]["source"]}
        if got["rc"] != 0:
            mismatched.append((name, "model error %d" % got["rc"]))
            row["match"] = False
        else:
            diffs = ["%s %s!=%s" % (k, got[k], v) for k, v in want.items()
                     if got[k] != v]
            row["match"] = not diffs
            if diffs:
                mismatched.append((name, ", ".join(diffs)))
            else:
                matched.append(name)
            extras = []
            for key, okey in (("align", "align"),
                              ("min_partial", "min_partial"),
                              ("cpu_partial", "cpu_partial"),
                              ("sheaf_capacity", "sheaf_capacity")):
                if okey in attrs and got[key] != attrs[okey]:
                    extras.append("%s %s!=%s" % (key, got[key], attrs[okey]))
            if extras:
                extra_mismatch.append((name, ", ".join(extras)))
            row["extras_match"] = not extras
        if meta[name]["well_defined_32bit"]:
            row["model_w4"] = res32[name]
        report["caches"][name] = row

    # Alignment explained by flags alone?
    explicit_align = []
    for name in sorted(caches):
        r = res_implicit[name]
        if r["rc"] == 0 and r["align"] != caches[name]["attrs"]["align"]:
            explicit_align.append((name, r["align"],
                                   caches[name]["attrs"]["align"]))

    bad_probes = check_kmalloc_index(probes)

    print("snapshot: %s (kernel %s), nr_cpus used = %d, real caches = %d, "
          "aliases = %d" % (os.path.relpath(args.snapshot, ROOT),
                            snap["provenance"]["kernel_release"], nr_cpus,
                            total, len(snap.get("aliases", {}))))
    print()
    print("slab_size/order/objs_per_slab: %d of %d caches match"
          % (len(matched), total))
    for name, why in mismatched:
        print("  MISMATCH %-32s %s   [%s]" % (name, why, meta[name]["source"]))
    print("align/min_partial/cpu_partial/sheaf_capacity: %d of %d caches match"
          % (total - len(extra_mismatch) - sum(
              1 for n, _ in mismatched if res64[n]["rc"] != 0), total))
    for name, why in extra_mismatch:
        print("  EXTRA MISMATCH %-26s %s" % (name, why))
    print()
    special_used = sorted(n for n in caches
                          if meta[n]["source"].startswith("creation-args"))
    print("caches using the creation-args table: %s" % ", ".join(special_used))
    print("caches whose alignment needs an explicit align argument "
          "(flags alone give less): %d" % len(explicit_align))
    if args.verbose:
        for name, model, obs in explicit_align:
            print("  %-32s flags-only %5d  observed %5d" % (name, model, obs))
    print("kmalloc_index/size_roundup probes: %d checked, %d bad"
          % (len(probes), len(bad_probes)))
    for b in bad_probes[:10]:
        print("  BAD kmalloc probe size=%d idx=%d roundup=%d" % b)

    # 32-bit view for the caches where it is meaningful.
    print()
    print("32-bit (word size 4) layout for size-class caches, same CPU count:")
    print("  %-22s %7s %6s %6s %5s %5s   | 64-bit %6s %5s %5s" % (
        "cache", "objsize", "align", "size", "order", "objs",
        "size", "order", "objs"))
    for name in sorted(caches):
        if not meta[name]["well_defined_32bit"]:
            continue
        r4, r8 = res32[name], res64[name]
        if r4["rc"] != 0:
            print("  %-22s model error %d" % (name, r4["rc"]))
            continue
        if not args.verbose and not re.match(
                r"^(kmalloc-\d+k?|kmalloc_buckets)$", name):
            continue
        print("  %-22s %7d %6d %6d %5d %5d   |        %6d %5d %5d" % (
            name, r4["object_size"], r4["align"], r4["size"], r4["order"],
            r4["objects"], r8["size"], r8["order"], r8["objects"]))
    if not args.verbose:
        print("  (kmalloc-rcl/-cg/dma-kmalloc rows and kmem_buckets caches "
              "are identical per size; -v lists all)")
    print("  other caches wrap C structs whose 32-bit size is unknown here; "
          "no 32-bit figure is given for them.")

    report["summary"] = {
        "total": total, "matched": len(matched),
        "mismatched": [n for n, _ in mismatched],
        "extra_mismatched": [n for n, _ in extra_mismatch],
        "explicit_align": [n for n, _, _ in explicit_align],
        "kmalloc_probe_failures": len(bad_probes),
    }
    if args.report:
        with open(args.report, "w") as fh:
            json.dump(report, fh, sort_keys=True, indent=1)
            fh.write("\n")
        print("\nreport written to %s" % args.report)

    ok = not mismatched and not extra_mismatch and not bad_probes
    print("\nRESULT: %s" % ("all caches match" if ok else "MISMATCHES"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
