"""Creation arguments of the caches of a /sys/kernel/slab snapshot.

sysfs shows each cache's flags and final alignment, not every argument it
was created with; tests/data/linux-6.18-x86_64-slab-creation-args.json adds
what sysfs cannot show (explicit free-pointer offsets, boot and kmalloc
families), with the kernel call sites.  These helpers turn both into calls
of memcore's own kmem_cache_create().
"""
import re

FLAG_ATTRS = (("hwcache_align", "SLAB_HWCACHE_ALIGN"), ("destroy_by_rcu", "SLAB_TYPESAFE_BY_RCU"),
              ("reclaim_account", "SLAB_RECLAIM_ACCOUNT"), ("cache_dma", "SLAB_CACHE_DMA"),
              ("poison", "SLAB_POISON"), ("red_zone", "SLAB_RED_ZONE"),
              ("store_user", "SLAB_STORE_USER"), ("sanity_checks", "SLAB_CONSISTENCY_CHECKS"),
              ("trace", "SLAB_TRACE"))

KMALLOC_RE = re.compile(r"^(kmalloc|kmalloc-rcl|dma-kmalloc|kmalloc-cg)-(96|192|8|16|32|64|128|"
                        r"256|512|1k|2k|4k|8k)$")
BUCKETS_RE = re.compile(r"^(memdup_user|msg_msg)-(96|192|8|16|32|64|128|256|512|1k|2k|4k|8k)$")
SIZES = {"96": 96, "192": 192, "8": 8, "16": 16, "32": 32, "64": 64, "128": 128, "256": 256,
         "512": 512, "1k": 1024, "2k": 2048, "4k": 4096, "8k": 8192}
BOOT = ("kmem_cache", "kmem_cache_node")


def kind(name):
    """'kmalloc' (built at boot by the model), 'boot', or 'create'."""
    if KMALLOC_RE.match(name):
        return "kmalloc"
    if name in BOOT:
        return "boot"
    return "create"


def create_args(name, entry, special, bits=64):
    """kwargs for Machine.kmem_cache_create() reproducing this cache, or None
    when its 32-bit size is unknown (a C struct) and bits == 32."""
    attrs = entry["attrs"]
    flags = {flag for attr, flag in FLAG_ATTRS if attrs.get(attr)}
    size, align, fp = attrs["object_size"], attrs["align"], None
    m = BUCKETS_RE.match(name)
    fam = special["families"]["kmem_buckets"]["members"]
    sized_class = False
    if m:
        size, align = SIZES[m.group(2)], 0
        flags |= {"SLAB_" + f for f in fam[m.group(1)]["flags"]} | {"SLAB_NO_MERGE"}
        sized_class = True
    sp = special["caches"].get(name)
    if sp:
        flags |= {"SLAB_" + f for f in sp.get("flags", [])}
        if sp.get("align") == "derive":
            align = 0
        elif sp.get("align") is not None:
            align = sp["align"]
        if sp.get("use_freeptr_offset"):
            fp = sp.get("freeptr_offset") or 0
        if sp.get("object_size_by_word"):
            size = sp["object_size_by_word"][str(bits // 8)]
            sized_class = True
    if bits == 32 and not sized_class:
        return None
    return {"size": size, "align": align, "flags": sorted(flags),
            "ctor": (lambda obj: None) if entry["has_ctor"] else None, "freeptr_offset": fp}


def model_cache(m, name, entry, special, bits=64):
    """The model's KmemCache for a snapshot cache (created if need be), or None."""
    k = kind(name)
    if k in ("kmalloc", "boot"):
        return m.kmem_cache(name)
    args = create_args(name, entry, special, bits)
    if args is None:
        return None
    return m.kmem_cache_create("snap:" + name, **args)
