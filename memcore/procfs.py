"""/proc texts of a modeled machine, in Linux 6.18's format.

``proc(machine, name)`` (and ``Machine.proc(name)``) renders one of
``zoneinfo``, ``buddyinfo``, ``pagetypeinfo``, ``vmstat``, ``meminfo``,
``slabinfo`` as the 6.18 kernel's seq_file code prints it (mm/vmstat.c,
fs/proc/meminfo.c, mm/slub.c), line for line and field for field, so
that the text of a model can be diffed against a real machine's.
``parse(name, text)`` reads such a text (the model's or a real
machine's) into plain data; ``memcore boot --json`` prints that.

The line set is the kernel's for the variant's configuration: the
x86_64 variants print what the reference machine's 6.18 kernel prints
(NUMA, NUMA balancing, zsmalloc, zswap, KSM, balloon, IOMMU items, zones
DMA DMA32 Normal Movable Device, DirectMap1G); the i386 variants have no
NUMA items (numa_* per zone and in vmstat, pgpromote_*, numa_pte_updates
and the other NUMA-balancing events, zone_reclaim_*), no thp_split_pud
(x86_64 only), zones DMA Normal HighMem Movable, and meminfo's
HighTotal/HighFree/LowTotal/LowFree lines; the optional items both
configurations share are taken to be the reference machine's.

What each value is made of
--------------------------

From the modeled state: every zone's free pages, nr_free_pages_blocks,
watermarks, spanned/present/managed pages, protection (lowmem_reserve)
and start_pfn (``m.zones()``); the pagesets (count, high, batch,
high_min, high_max); free blocks per order (``zone->free_area[].nr_free``)
and per order and migratetype (the free lists); pageblocks per
migratetype (the pageblock bits, as get_pageblock_migratetype() reads
them); MemTotal (managed pages), MemFree, HighTotal/HighFree;
Cached/nr_file_pages (pages in the machine's address_spaces);
AnonPages/nr_anon_pages (pages of anon, i.e. swap-backed, folios not
in a page cache: the model has no rmap, so each counts as mapped by the
fault that allocated it); AnonHugePages/nr_anon_transparent_hugepages
(of those, the PMD-order folios); FileHugePages/nr_file_hugepages (page
cache folios of PMD order or more); Dirty/nr_dirty, Writeback/nr_writeback
and nr_zone_write_pending (page-cache folios with PG_dirty /
PG_writeback); Slab, SReclaimable, SUnreclaim, KReclaimable,
nr_slab_reclaimable, nr_slab_unreclaimable (slab pages by their cache's
SLAB_RECLAIM_ACCOUNT; large kmalloc pages are unreclaimable, as
___kmalloc_large_node() accounts them); PageTables/nr_page_table_pages;
Percpu (the per-CPU units); pgalloc_<zone> (PGALLOC events by the
allocated page's zone, ``m.stats()["pgalloc_by_zone"]``); pgfree;
nr_memmap_boot_pages (memmap bytes from memblock); the watermarks and
protection of unpopulated zones (``m.zones(empty=True)``: what the
model's setup_per_zone_wmarks() and setup_per_zone_lowmem_reserve() left
there).  Computed from that state by the kernel's own formulas: boost
(struct zone.watermark_boost: the model never boosts), "vm stats
threshold" (calculate_normal_threshold()), MemAvailable
(si_mem_available(), with totalreserve_pages), CommitLimit
(vm_commit_limit(), overcommit_ratio 50, no swap), nr_dirty_threshold and
nr_dirty_background_threshold (global_dirty_limits(), dirty_ratio 20,
dirty_background_ratio 10).  Constants of the configuration:
Hugepagesize (2048 kB), the block order and size of pagetypeinfo, cma 0
and nr_free_cma 0 (no CONFIG_CMA), nr_unstable 0 (always 0 in 6.18),
NFS_Unstable 0 and Bounce 0 (6.18 prints 0).

Printed as 0 because the modeled machine has no such mechanism (each is
a deviation, also listed in docs/ARCHITECTURE.md "Decisions and
deviations"):

* LRU lists: Active, Inactive, Active(anon), Inactive(anon),
  Active(file), Inactive(file), Unevictable; nr_inactive_anon,
  nr_active_anon, nr_inactive_file, nr_active_file, nr_unevictable and
  their nr_zone_* per-zone forms; nr_isolated_anon, nr_isolated_file;
  pgactivate, pgdeactivate, pglazyfree, pglazyfreed, pgrefill, pgrotated.
* mlock: Mlocked, nr_mlock, unevictable_pgs_* (7).
* swap and zswap/zsmalloc: SwapCached, SwapTotal, SwapFree, Zswap,
  Zswapped, nr_swapcached, nr_zspages, pswpin, pswpout, swap_ra,
  swap_ra_hit, swpin_zero, swpout_zero, ksm_swpin_copy, zswpin, zswpout,
  zswpwb, thp_swpout, thp_swpout_fallback.
* block I/O and writeback: Buffers, WritebackTmp, pgpgin, pgpgout,
  nr_vmscan_write, nr_vmscan_immediate_reclaim, nr_dirtied, nr_written,
  nr_throttled_written.
* reclaim, kswapd, workingset, OOM: workingset_* (8),
  nr_kernel_misc_reclaimable, allocstall_*, pgskip_*, pgsteal_*,
  pgscan_*, zone_reclaim_success, zone_reclaim_failed, pginodesteal,
  slabs_scanned, kswapd_inodesteal, kswapd_low_wmark_hit_quickly,
  kswapd_high_wmark_hit_quickly, pageoutrun, drop_pagecache, drop_slab,
  oom_kill, node_unreclaimable.
* processes, faults, mappings: Committed_AS, KernelStack,
  nr_kernel_stack, Mapped, nr_mapped, pgfault, pgmajfault, pgreuse,
  nr_foll_pin_acquired, nr_foll_pin_released, cow_ksm, and the
  thp_fault_*, thp_collapse_*, thp_file_*, thp_split_*,
  thp_deferred_split_page, thp_underused_split_page, thp_scan_exceed_*,
  thp_zero_page_alloc* events.
* shmem: Shmem, ShmemHugePages, ShmemPmdMapped, FilePmdMapped, nr_shmem,
  nr_shmem_hugepages, nr_shmem_pmdmapped, nr_file_pmdmapped.
* NUMA statistics and balancing (x86_64): numa_hit, numa_miss,
  numa_foreign, numa_interleave, numa_local, numa_other (per zone and in
  vmstat), pgpromote_*, pgdemote_*, numa_pte_updates,
  numa_huge_pte_updates, numa_hint_faults, numa_hint_faults_local,
  numa_pages_migrated.
* hugetlb pools: HugePages_Total, HugePages_Free, HugePages_Rsvd,
  HugePages_Surp, Hugetlb, nr_hugetlb, htlb_buddy_alloc_success,
  htlb_buddy_alloc_fail.
* vmalloc and the kernel's page tables: VmallocTotal, VmallocUsed,
  VmallocChunk, DirectMap4k, DirectMap2M, DirectMap1G,
  direct_map_level{2,3}_{splits,collapses}.
* secondary page tables, IOMMU, balloon, kernel file pages:
  SecPageTables, nr_sec_page_table_pages, nr_iommu_pages, Balloon,
  nr_balloon_pages, balloon_inflate, balloon_deflate, balloon_migrate,
  nr_kernel_file_pages.
* hotplugged memmap: nr_memmap_pages (memory is never hot-added).
* event counters the model does not keep: compact_* and pgmigrate_success/fail,
  thp_migration_* (``m.compact()`` returns its counts but the machine
  keeps no totals).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from .errors import MemcoreError, UnknownChoice

__all__ = ["VIEWS", "proc", "parse"]

#: the /proc files this module renders, in `memcore boot --show` order
VIEWS = ("zoneinfo", "buddyinfo", "pagetypeinfo", "vmstat", "meminfo", "slabinfo")

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
NR_PAGE_ORDERS = 11
HPAGE_PMD_ORDER = 9
HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER
MIGRATETYPES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")
OVERCOMMIT_RATIO = 50           # sysctl vm.overcommit_ratio default
DIRTY_RATIO = 20                # vm.dirty_ratio default
DIRTY_BACKGROUND_RATIO = 10     # vm.dirty_background_ratio default
LOWMEM_RESERVE_RATIO = {"DMA": 256, "DMA32": 256, "Normal": 32}   # others 0

#: pgalloc_<zone> suffixes (TEXTS_FOR_ZONES)
_ZONE_SUFFIX = {"DMA": "dma", "DMA32": "dma32", "Normal": "normal", "HighMem": "high",
                "Movable": "movable", "Device": "device"}


# ---- the item tables of mm/vmstat.c (vmstat_text[]) ------------------------------------

def _zone_items(numa: bool) -> list[str]:
    """enum zone_stat_item names (+ numa_stat_item with NUMA), as zoneinfo lists them."""
    items = ["nr_free_pages", "nr_free_pages_blocks", "nr_zone_inactive_anon",
             "nr_zone_active_anon", "nr_zone_inactive_file", "nr_zone_active_file",
             "nr_zone_unevictable", "nr_zone_write_pending", "nr_mlock", "nr_zspages",
             "nr_free_cma"]
    if numa:
        items += ["numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local",
                  "numa_other"]
    return items


def _node_items(numa: bool) -> list[str]:
    """enum node_stat_item names (the per-node stats of zoneinfo)."""
    items = ["nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
             "nr_unevictable", "nr_slab_reclaimable", "nr_slab_unreclaimable",
             "nr_isolated_anon", "nr_isolated_file", "workingset_nodes",
             "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
             "workingset_activate_file", "workingset_restore_anon", "workingset_restore_file",
             "workingset_nodereclaim", "nr_anon_pages", "nr_mapped", "nr_file_pages",
             "nr_dirty", "nr_writeback", "nr_shmem", "nr_shmem_hugepages",
             "nr_shmem_pmdmapped", "nr_file_hugepages", "nr_file_pmdmapped",
             "nr_anon_transparent_hugepages", "nr_vmscan_write", "nr_vmscan_immediate_reclaim",
             "nr_dirtied", "nr_written", "nr_throttled_written", "nr_kernel_misc_reclaimable",
             "nr_foll_pin_acquired", "nr_foll_pin_released", "nr_kernel_stack",
             "nr_page_table_pages", "nr_sec_page_table_pages", "nr_iommu_pages",
             "nr_swapcached"]
    if numa:                    # CONFIG_NUMA_BALANCING
        items += ["pgpromote_success", "pgpromote_candidate", "pgpromote_candidate_nrl"]
    items += ["pgdemote_kswapd", "pgdemote_direct", "pgdemote_khugepaged",
              "pgdemote_proactive", "nr_hugetlb", "nr_balloon_pages", "nr_kernel_file_pages"]
    return items


def _event_items(zones: Iterable[str], numa: bool, bits: int) -> list[str]:
    """enum vm_event_item names, in vmstat_text[] order."""
    zs = [_ZONE_SUFFIX[z] for z in zones]
    items = ["pgpgin", "pgpgout", "pswpin", "pswpout"]
    for prefix in ("pgalloc", "allocstall", "pgskip"):
        items += [f"{prefix}_{s}" for s in zs]
    items += ["pgfree", "pgactivate", "pgdeactivate", "pglazyfree", "pgfault", "pgmajfault",
              "pglazyfreed", "pgrefill", "pgreuse", "pgsteal_kswapd", "pgsteal_direct",
              "pgsteal_khugepaged", "pgsteal_proactive", "pgscan_kswapd", "pgscan_direct",
              "pgscan_khugepaged", "pgscan_proactive", "pgscan_direct_throttle", "pgscan_anon",
              "pgscan_file", "pgsteal_anon", "pgsteal_file"]
    if numa:
        items += ["zone_reclaim_success", "zone_reclaim_failed"]
    items += ["pginodesteal", "slabs_scanned", "kswapd_inodesteal",
              "kswapd_low_wmark_hit_quickly", "kswapd_high_wmark_hit_quickly", "pageoutrun",
              "pgrotated", "drop_pagecache", "drop_slab", "oom_kill"]
    if numa:                    # CONFIG_NUMA_BALANCING
        items += ["numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults",
                  "numa_hint_faults_local", "numa_pages_migrated"]
    items += ["pgmigrate_success", "pgmigrate_fail", "thp_migration_success",
              "thp_migration_fail", "thp_migration_split",
              "compact_migrate_scanned", "compact_free_scanned", "compact_isolated",
              "compact_stall", "compact_fail", "compact_success", "compact_daemon_wake",
              "compact_daemon_migrate_scanned", "compact_daemon_free_scanned",
              "htlb_buddy_alloc_success", "htlb_buddy_alloc_fail",
              "unevictable_pgs_culled", "unevictable_pgs_scanned", "unevictable_pgs_rescued",
              "unevictable_pgs_mlocked", "unevictable_pgs_munlocked",
              "unevictable_pgs_cleared", "unevictable_pgs_stranded",
              "thp_fault_alloc", "thp_fault_fallback", "thp_fault_fallback_charge",
              "thp_collapse_alloc", "thp_collapse_alloc_failed", "thp_file_alloc",
              "thp_file_fallback", "thp_file_fallback_charge", "thp_file_mapped",
              "thp_split_page", "thp_split_page_failed", "thp_deferred_split_page",
              "thp_underused_split_page", "thp_split_pmd", "thp_scan_exceed_none_pte",
              "thp_scan_exceed_swap_pte", "thp_scan_exceed_share_pte"]
    if bits == 64:              # HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD: X86_64 only
        items += ["thp_split_pud"]
    items += ["thp_zero_page_alloc", "thp_zero_page_alloc_failed", "thp_swpout",
              "thp_swpout_fallback", "balloon_inflate", "balloon_deflate", "balloon_migrate",
              "swap_ra", "swap_ra_hit", "swpin_zero", "swpout_zero", "ksm_swpin_copy",
              "cow_ksm", "zswpin", "zswpout", "zswpwb", "direct_map_level2_splits",
              "direct_map_level3_splits", "direct_map_level2_collapses",
              "direct_map_level3_collapses"]
    return items


# ---- gathering the machine's state ----------------------------------------------------

def _fls(x: int) -> int:
    return x.bit_length()


class _State:
    """What the views print, read from one machine once."""

    def __init__(self, m: Any) -> None:
        self.m = m
        self.bits: int = m.bits
        # CONFIG_NUMA (the NUMA vmstat items), from the variant's configuration
        self.numa: bool = m.flags_layout.config.NODES_SHIFT > 0
        self.nodes: int = m.nodes
        self.cpus: int = m.cpus
        # every zone of every node, those with no pages too (zoneinfo lists them),
        # with what boot left in them (the model's setup_per_zone_wmarks() and
        # setup_per_zone_lowmem_reserve() run over every zone, as the kernel's do)
        self.all_zones: list[dict[str, Any]] = m.zones(empty=True)
        self.zones: list[dict[str, Any]] = [z for z in self.all_zones if z["spanned"]]
        # enum zone_type of the variant, in order: node 0's zones
        self.zone_names: tuple[str, ...] = tuple(z["zone"] for z in self.all_zones
                                                 if z["node"] == 0)
        self._stats: dict[str, Any] | None = None
        self._usage: list[dict[str, int]] | None = None
        for z in self.all_zones:
            if len(z["protection"]) != len(self.zone_names):
                raise MemcoreError(f"zone {z['zone']} has {len(z['protection'])} "
                                   f"lowmem_reserve entries, not {len(self.zone_names)}")

    @property
    def stats(self) -> dict[str, Any]:
        if self._stats is None:
            self._stats = self.m.stats()
        return self._stats

    def populated(self, z: dict[str, Any]) -> bool:
        return bool(z["present"])

    # -- folios and slabs, per node --------------------------------------------------

    def usage(self) -> list[dict[str, int]]:
        """Per node: pages of anon folios, of PMD-order anon folios, page cache,
        page cache of PMD order or more, dirty / writeback page cache, slab pages
        (reclaimable, unreclaimable), page tables; and per zone write-pending."""
        if self._usage is not None:
            return self._usage
        m = self.m
        keys = ("anon", "anon_thp", "file", "file_thp", "dirty", "writeback",
                "slab_reclaimable", "slab_unreclaimable", "pagetables")
        usage = [{k: 0 for k in keys} for _ in range(self.nodes)]
        self.write_pending: dict[tuple[int, str], int] = {}
        cached: set[int] = set()
        for space in m.address_spaces():
            for _index, f in space.entries():
                if f.pfn in cached:
                    continue
                cached.add(f.pfn)
                u = usage[f.node]
                n = f.nr_pages
                u["file"] += n
                if f.order >= HPAGE_PMD_ORDER:
                    u["file_thp"] += n
                dirty, wb = f.flags.test("dirty"), f.flags.test("writeback")
                u["dirty"] += n if dirty else 0
                u["writeback"] += n if wb else 0
                if dirty or wb:
                    key = (f.node, f.zone)
                    self.write_pending[key] = self.write_pending.get(key, 0) + n
        w = m.walk_folios()
        for pfn, order in zip(w["pfns"].tolist(), w["orders"].tolist()):
            if pfn in cached:
                continue
            f = m.folio(pfn)
            if f.flags.test("swapbacked"):
                u = usage[f.node]
                u["anon"] += 1 << order
                if order == HPAGE_PMD_ORDER:
                    u["anon_thp"] += 1 << order
        if self.nodes == 1:
            st = self.stats
            reclaimable = 0
            for c in m.caches():
                if c.reclaim_account:
                    reclaimable += st["slab_caches"].get(c.name, {}).get("pages", 0)
            total = st["slab_pages"] + st["large_kmalloc_pages"]
            usage[0]["slab_reclaimable"] = reclaimable
            usage[0]["slab_unreclaimable"] = total - reclaimable
            usage[0]["pagetables"] = st["pages"]["pgtable"]
        else:
            self._kernel_pages_by_node(usage, w)
        self._usage = usage
        return usage

    def _kernel_pages_by_node(self, usage: list[dict[str, int]], w: dict[str, Any]) -> None:
        """Slab, large kmalloc and page-table pages per node: a PFN walk that
        skips free blocks, folios and slabs whole."""
        m = self.m
        folios = dict(zip(w["pfns"].tolist(), w["orders"].tolist()))
        pfn, end = 0, m.nr_pfns
        while pfn < end:
            if pfn in folios:
                pfn += 1 << folios[pfn]
                continue
            try:
                p = m.page(pfn)
                order = p.buddy_order
                if order is not None:
                    pfn += 1 << order
                    continue
                kind = p.type_name
            except MemcoreError:        # a hole
                pfn += 1
                continue
            if kind == "slab":
                va = m.pfn_to_virt(pfn)
                s = m.virt_to_slab(va) if va is not None else None
                if s is not None:
                    n = 1 << s.order
                    key = "slab_reclaimable" if s.slab_cache.reclaim_account \
                        else "slab_unreclaimable"
                    usage[p.node][key] += n
                    pfn = s.pfn + n
                    continue
            elif kind == "large_kmalloc":
                usage[p.node]["slab_unreclaimable"] += 1
            elif kind == "table":
                usage[p.node]["pagetables"] += 1
            pfn += 1

    # -- derived numbers -------------------------------------------------------------

    def totalreserve_pages(self) -> int:
        """calculate_totalreserve_pages()."""
        total = 0
        for z in self.all_zones:
            i = self.zone_names.index(z["zone"])
            reserve = max([0] + list(z["protection"][i:])) + z["high"]
            total += min(reserve, z["managed"])
        return total

    def stat_threshold(self, z: dict[str, Any]) -> int:
        """calculate_normal_threshold()."""
        mem = z["managed"] >> (27 - PAGE_SHIFT)
        return min(125, 2 * _fls(self.cpus) * (1 + _fls(mem)))

    def node_values(self, nid: int) -> dict[str, int]:
        """enum node_stat_item values of a node, as zoneinfo prints them."""
        u = self.usage()[nid]
        values = {k: 0 for k in _node_items(self.numa)}
        values.update({
            "nr_slab_reclaimable": u["slab_reclaimable"],
            "nr_slab_unreclaimable": u["slab_unreclaimable"],
            "nr_anon_pages": u["anon"],
            "nr_file_pages": u["file"],
            "nr_dirty": u["dirty"],
            "nr_writeback": u["writeback"],
            "nr_file_hugepages": u["file_thp"] // HPAGE_PMD_NR,
            "nr_anon_transparent_hugepages": u["anon_thp"] // HPAGE_PMD_NR,
            "nr_page_table_pages": u["pagetables"],
        })
        return values

    def zone_values(self, z: dict[str, Any]) -> dict[str, int]:
        values = {k: 0 for k in _zone_items(self.numa)}
        self.usage()
        values["nr_free_pages"] = z["free"]
        values["nr_free_pages_blocks"] = z["nr_free_pages_blocks"]
        values["nr_zone_write_pending"] = self.write_pending.get((z["node"], z["zone"]), 0)
        return values

    def vmstat(self) -> list[tuple[str, int]]:
        items: list[tuple[str, int]] = []
        zone_sum = {k: 0 for k in _zone_items(self.numa)}
        for z in self.all_zones:
            if self.populated(z):
                for k, v in self.zone_values(z).items():
                    zone_sum[k] += v
        items += zone_sum.items()
        node_sum = {k: 0 for k in _node_items(self.numa)}
        for nid in range(self.nodes):
            for k, v in self.node_values(nid).items():
                node_sum[k] += v
        items += node_sum.items()
        bg, dirty = self.dirty_limits()
        meta = self.stats["metadata_bytes"]
        memmap = meta.get("memmap", 0) + meta.get("unavailable", 0)
        items += [("nr_dirty_threshold", dirty), ("nr_dirty_background_threshold", bg),
                  ("nr_memmap_pages", 0), ("nr_memmap_boot_pages", -(-memmap // PAGE_SIZE))]
        events = {k: 0 for k in _event_items(self.zone_names, self.numa, self.bits)}
        for zone, n in self.stats["pgalloc_by_zone"].items():
            if zone in self.zone_names:
                events["pgalloc_" + _ZONE_SUFFIX[zone]] = n
        events["pgfree"] = self.stats["pgfree"]
        items += events.items()
        return items

    def dirty_limits(self) -> tuple[int, int]:
        """global_dirty_limits(): (background, dirty) thresholds in pages."""
        free = sum(z["free"] for z in self.all_zones)
        x = free - min(free, self.totalreserve_pages())
        # + NR_INACTIVE_FILE + NR_ACTIVE_FILE: no LRU lists in the model
        high = 0
        for z in self.all_zones:
            if z["zone"] == "HighMem" and self.populated(z):
                high += z["free"] - min(z["free"], z["high"])
        x -= min(high, x)
        avail = x + 1
        ratio = DIRTY_RATIO * PAGE_SIZE // 100
        bg_ratio = DIRTY_BACKGROUND_RATIO * PAGE_SIZE // 100
        thresh = min(ratio * avail // PAGE_SIZE, (1 << 32) - 1)
        bg = bg_ratio * avail // PAGE_SIZE
        if bg >= thresh:
            bg = thresh // 2
        return bg, thresh


# ---- the views --------------------------------------------------------------------------

def _zoneinfo(s: _State) -> str:
    out: list[str] = []
    for nid in range(s.nodes):
        zones = [z for z in s.all_zones if z["node"] == nid]
        first = next((z for z in zones if s.populated(z)), None)
        for z in zones:
            text = f"Node {nid}, zone {z['zone']:>8}"
            if z is first:
                text += "\n  per-node stats"
                for k, v in s.node_values(nid).items():
                    text += f"\n      {k:<12} {v}"
            text += (f"\n  pages free     {z['free']}"
                     f"\n        boost    0"
                     f"\n        min      {z['min']}"
                     f"\n        low      {z['low']}"
                     f"\n        high     {z['high']}"
                     f"\n        promo    {z['promo']}"
                     f"\n        spanned  {z['spanned']}"
                     f"\n        present  {z['present']}"
                     f"\n        managed  {z['managed']}"
                     f"\n        cma      0"
                     f"\n        protection: ({', '.join(str(v) for v in z['protection'])})")
            if not s.populated(z):
                out.append(text + "\n")
                continue
            for k, v in s.zone_values(z).items():
                text += f"\n      {k:<12} {v}"
            text += "\n  pagesets"
            threshold = s.stat_threshold(z)
            for p in z["pagesets"]:
                text += (f"\n    cpu: {p['cpu']}"
                         f"\n              count:    {p['count']}"
                         f"\n              high:     {p['high']}"
                         f"\n              batch:    {p['batch']}"
                         f"\n              high_min: {p['high_min']}"
                         f"\n              high_max: {p['high_max']}"
                         f"\n  vm stats threshold: {threshold}")
            text += ("\n  node_unreclaimable:  0"
                     f"\n  start_pfn:           {z['start_pfn']}\n")
            out.append(text)
    return "".join(out)


def _stats_zone(s: _State, z: dict[str, Any]) -> dict[str, Any]:
    for sz in s.stats["zones"]:
        if sz["node"] == z["node"] and sz["zone"] == z["zone"]:
            return dict(sz)
    raise MemcoreError(f"m.stats() has no zone {z['zone']} of node {z['node']}")


def _buddyinfo(s: _State) -> str:
    out = []
    for z in s.all_zones:
        if s.populated(z):
            counts = _stats_zone(s, z)["nr_free"]
            out.append(f"Node {z['node']}, zone {z['zone']:>8} "
                       + "".join(f"{n:6d} " for n in counts) + "\n")
    return "".join(out)


def _pageblock_counts(s: _State, z: dict[str, Any]) -> list[int]:
    """pagetypeinfo_showblockcount_print(): the zone's pageblocks by
    get_pageblock_migratetype() (Page.migratetype)."""
    m = s.m
    counts = dict.fromkeys(MIGRATETYPES, 0)
    for pfn in range(z["start_pfn"], z["start_pfn"] + z["spanned"], 1 << m.pageblock_order):
        try:
            p = m.page(pfn)
            if p.zone != z["zone"] or p.node != z["node"]:
                continue
            mt = p.migratetype
        except MemcoreError:            # no struct page to read (pfn_to_online_page() NULL)
            continue
        if mt in counts:
            counts[mt] += 1
    return list(counts.values())


def _pagetypeinfo(s: _State) -> str:
    out = []
    order = s.m.pageblock_order
    for nid in range(s.nodes):
        zones = [z for z in s.all_zones if z["node"] == nid and s.populated(z)]
        if not zones:                   # a memoryless node prints nothing
            continue
        text = f"Page block order: {order}\nPages per block:  {1 << order}\n\n"
        text += (f"{'Free pages count per migrate type at order':<43} "
                 + "".join(f"{o:6d} " for o in range(NR_PAGE_ORDERS)) + "\n")
        for z in zones:
            area = _stats_zone(s, z)["free_area"]
            for mt in MIGRATETYPES:
                text += f"Node {nid:4d}, zone {z['zone']:>8}, type {mt:>12} "
                for n in area[mt]:
                    text += f">{100000:6d} " if n >= 100000 else f"{n:6d} "
                text += "\n"
        text += f"\n{'Number of blocks type ':<23}" + "".join(f"{mt:>12} " for mt in MIGRATETYPES)
        text += "\n"
        for z in zones:
            text += (f"Node {nid}, zone {z['zone']:>8} "
                     + "".join(f"{n:12d} " for n in _pageblock_counts(s, z)) + "\n")
        out.append(text)
    return "".join(out)


def _vmstat(s: _State) -> str:
    return "".join(f"{k} {v}\n" for k, v in s.vmstat()) + "nr_unstable 0\n"


def _kb(key: str, pages: int) -> str:
    """show_val_kb(): the key padded to 16 columns, the kB value to 8."""
    return f"{key + ':':<16}{pages << (PAGE_SHIFT - 10):>8} kB\n"


def _meminfo(s: _State) -> str:
    total = sum(z["managed"] for z in s.all_zones)
    free = sum(z["free"] for z in s.all_zones)
    high_total = sum(z["managed"] for z in s.all_zones if z["zone"] == "HighMem")
    high_free = sum(z["free"] for z in s.all_zones if z["zone"] == "HighMem")
    u = {k: sum(n[k] for n in s.usage()) for k in s.usage()[0]}
    wmark_low = sum(z["low"] for z in s.all_zones)
    # si_mem_available(): no LRU file pages; reclaimable slab capped at the low marks
    available = free - s.totalreserve_pages()
    reclaimable = u["slab_reclaimable"]
    reclaimable -= min(reclaimable // 2, wmark_low)
    available = max(0, available + reclaimable)
    meta = s.stats["metadata_bytes"]
    percpu = -(-meta.get("percpu_area", 0) // PAGE_SIZE)
    lines = [_kb("MemTotal", total), _kb("MemFree", free), _kb("MemAvailable", available),
             _kb("Buffers", 0), _kb("Cached", u["file"]), _kb("SwapCached", 0),
             _kb("Active", 0), _kb("Inactive", 0), _kb("Active(anon)", 0),
             _kb("Inactive(anon)", 0), _kb("Active(file)", 0), _kb("Inactive(file)", 0),
             _kb("Unevictable", 0), _kb("Mlocked", 0)]
    if s.bits == 32:            # CONFIG_HIGHMEM
        lines += [_kb("HighTotal", high_total), _kb("HighFree", high_free),
                  _kb("LowTotal", total - high_total), _kb("LowFree", free - high_free)]
    lines += [_kb("SwapTotal", 0), _kb("SwapFree", 0),
              f"Zswap:          {0:8d} kB\n", f"Zswapped:       {0:8d} kB\n",
              _kb("Dirty", u["dirty"]), _kb("Writeback", u["writeback"]),
              _kb("AnonPages", u["anon"]), _kb("Mapped", 0), _kb("Shmem", 0),
              _kb("KReclaimable", u["slab_reclaimable"]),
              _kb("Slab", u["slab_reclaimable"] + u["slab_unreclaimable"]),
              _kb("SReclaimable", u["slab_reclaimable"]),
              _kb("SUnreclaim", u["slab_unreclaimable"]),
              f"KernelStack:    {0:8d} kB\n",
              _kb("PageTables", u["pagetables"]), _kb("SecPageTables", 0),
              _kb("NFS_Unstable", 0), _kb("Bounce", 0), _kb("WritebackTmp", 0),
              _kb("CommitLimit", total * OVERCOMMIT_RATIO // 100), _kb("Committed_AS", 0),
              f"VmallocTotal:   {0:8d} kB\n", _kb("VmallocUsed", 0), _kb("VmallocChunk", 0),
              _kb("Percpu", percpu),
              _kb("AnonHugePages", u["anon_thp"]), _kb("ShmemHugePages", 0),
              _kb("ShmemPmdMapped", 0), _kb("FileHugePages", u["file_thp"]),
              _kb("FilePmdMapped", 0), _kb("Balloon", 0),
              f"HugePages_Total:   {0:5d}\n", f"HugePages_Free:    {0:5d}\n",
              f"HugePages_Rsvd:    {0:5d}\n", f"HugePages_Surp:    {0:5d}\n",
              f"Hugepagesize:   {HPAGE_PMD_NR * PAGE_SIZE // 1024:8d} kB\n",
              f"Hugetlb:        {0:8d} kB\n",
              f"DirectMap4k:    {0:8d} kB\n", f"DirectMap2M:    {0:8d} kB\n"]
    if s.bits == 64:            # direct_gbpages on the reference machine
        lines.append(f"DirectMap1G:    {0:8d} kB\n")
    return "".join(lines)


def _slabinfo(s: _State) -> str:
    text: str = s.m.slabinfo()
    return text


_RENDER: dict[str, Callable[[_State], str]] = {
    "zoneinfo": _zoneinfo, "buddyinfo": _buddyinfo, "pagetypeinfo": _pagetypeinfo,
    "vmstat": _vmstat, "meminfo": _meminfo, "slabinfo": _slabinfo,
}


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a /proc view is named by a str, not {type(name).__name__}")
    if name not in _RENDER:
        raise UnknownChoice("/proc view", name, VIEWS)
    return name


def proc(machine: Any, name: str) -> str:
    """The text of /proc/<name> for the machine's state (see the module docstring)."""
    return _RENDER[_check_name(name)](_State(machine))


def proc_many(machine: Any, names: Iterable[str]) -> dict[str, str]:
    """Several views of one machine, reading its zones and statistics once."""
    names = [_check_name(n) for n in names]
    state = _State(machine)
    return {n: _RENDER[n](state) for n in names}


# ---- parsing (the model's texts and real machines') ------------------------------------

_NODE_ZONE = re.compile(r"^Node\s+(\d+), zone\s+(\w+)")


def parse_zoneinfo(text: str) -> list[dict[str, Any]]:
    """[{node, zone, per_node (first populated zone of a node only), pages_free, boost,
    min, low, high, promo, spanned, present, managed, cma, protection, stats,
    pagesets: [{cpu, count, high, batch, high_min, high_max, vm_stats_threshold}],
    node_unreclaimable, start_pfn}]"""
    zones: list[dict[str, Any]] = []
    cur: dict[str, Any] = {}
    section = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        mz = _NODE_ZONE.match(line)
        if mz:
            cur = {"node": int(mz.group(1)), "zone": mz.group(2)}
            zones.append(cur)
            section = "zone"
            continue
        key, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if line.strip() == "per-node stats":
            cur["per_node"] = {}
            section = "node"
        elif line.strip() == "pagesets":
            cur["pagesets"] = []
            section = "pcp"
        elif key == "pages" and rest.startswith("free"):
            cur["pages_free"] = int(rest.split()[1])
            section = "zone"
        elif key == "protection:":
            cur["protection"] = [int(v) for v in rest.strip("()").split(",")]
        elif key == "cpu:":
            cur["pagesets"].append({"cpu": int(rest)})
        elif key in ("node_unreclaimable:", "start_pfn:"):
            cur[key[:-1]] = int(rest)
        elif line.strip().startswith("vm stats threshold:"):
            cur["pagesets"][-1]["vm_stats_threshold"] = int(line.split(":")[1])
        elif section == "pcp" and key.endswith(":"):
            cur["pagesets"][-1][key[:-1]] = int(rest)
        elif section == "node":
            cur["per_node"][key] = int(rest)
        elif key in ("boost", "min", "low", "high", "promo", "spanned", "present", "managed",
                     "cma"):
            cur[key] = int(rest)
        else:
            cur.setdefault("stats", {})[key] = int(rest)
            section = "stats"
    return zones


def parse_buddyinfo(text: str) -> list[dict[str, Any]]:
    """[{node, zone, free: [blocks per order]}]"""
    out = []
    for line in text.splitlines():
        mz = _NODE_ZONE.match(line)
        if mz:
            out.append({"node": int(mz.group(1)), "zone": mz.group(2),
                        "free": [int(v) for v in line[mz.end():].split()]})
    return out


def _count(v: str) -> int:
    return int(v.lstrip(">"))


def parse_pagetypeinfo(text: str) -> dict[str, Any]:
    """{page_block_order, pages_per_block, free: [{node, zone, type, counts}],
    blocks: [{node, zone, counts: {migratetype: pageblocks}}]} (a count the kernel
    caps, ">100000", reads as 100000)."""
    out: dict[str, Any] = {"free": [], "blocks": []}
    types: list[str] = []
    for line in text.splitlines():
        if line.startswith("Page block order:"):
            out["page_block_order"] = int(line.split(":")[1])
        elif line.startswith("Pages per block:"):
            out["pages_per_block"] = int(line.split(":")[1])
        elif line.startswith("Number of blocks type"):
            types = line[len("Number of blocks type"):].split()
        elif ", type " in line:
            mz = _NODE_ZONE.match(line)
            assert mz is not None
            head, _, rest = line.partition(", type ")
            fields = rest.split()
            out["free"].append({"node": int(mz.group(1)), "zone": mz.group(2),
                                "type": fields[0], "counts": [_count(v) for v in fields[1:]]})
        else:
            mz = _NODE_ZONE.match(line)
            if mz and types:
                values = [int(v) for v in line[mz.end():].split()]
                out["blocks"].append({"node": int(mz.group(1)), "zone": mz.group(2),
                                      "counts": dict(zip(types, values))})
    return out


def parse_vmstat(text: str) -> dict[str, int]:
    """{item: value}, in file order."""
    return {k: int(v) for k, v in (line.split() for line in text.splitlines() if line.strip())}


def parse_meminfo(text: str) -> dict[str, int]:
    """{key: value}: kB for the lines that say kB, a count for HugePages_*."""
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if rest:
            out[key] = int(rest.split()[0])
    return out


_SLAB_FIELDS = ("active_objs", "num_objs", "objsize", "objperslab", "pagesperslab",
                "limit", "batchcount", "sharedfactor", "active_slabs", "num_slabs",
                "sharedavail")


def parse_slabinfo(text: str) -> dict[str, Any]:
    """{version, caches: [{name, active_objs, num_objs, objsize, objperslab,
    pagesperslab, limit, batchcount, sharedfactor, active_slabs, num_slabs,
    sharedavail}]}, caches in file order."""
    lines = text.splitlines()
    version = lines[0].split(":")[1].strip() if lines else ""
    caches = []
    for line in lines[1:]:
        if line.startswith("#") or not line.strip():
            continue
        head, _, tail = line.partition(" : tunables ")
        name, *rest = head.split()
        tunables, _, slabdata = tail.partition(" : slabdata ")
        nums = [int(v) for v in rest + tunables.split() + slabdata.split()]
        caches.append({"name": name, **dict(zip(_SLAB_FIELDS, nums))})
    return {"version": version, "caches": caches}


_PARSE: dict[str, Callable[[str], Any]] = {
    "zoneinfo": parse_zoneinfo, "buddyinfo": parse_buddyinfo,
    "pagetypeinfo": parse_pagetypeinfo, "vmstat": parse_vmstat, "meminfo": parse_meminfo,
    "slabinfo": parse_slabinfo,
}


def parse(name: str, text: str) -> Any:
    """The text of /proc/<name> (a model's or a real machine's) as plain data."""
    return _PARSE[_check_name(name)](text)
