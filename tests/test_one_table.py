"""Facts the C headers define once, as Python and codegen see them.

Member kinds (layout_table.h MC_MEMBER_KINDS), boot reservation kinds
(machine.h MC_RESERVE_KINDS) and the folio flag ops and special meanings
(folio_flags_table.h MCF_OPS, MCF_SPECIALS) are X-macro tables; the
module's name tuples and codegen's parse come from them.
"""
import importlib
import sys

import pytest

import memcore
from conftest import ROOT

layout_mod = importlib.import_module("memcore.layout")

sys.path.insert(0, str(ROOT / "tools"))
import codegen  # noqa: E402


def test_layout_rows_use_the_c_member_kind_names(variant):
    mod = memcore._variants.module(*variant)
    names = mod.MEMBER_KIND_NAMES
    assert names[:2] == ("plain", "bitfield")          # MC_MEMBER_PLAIN, _BITFIELD
    assert set(layout_mod.AGGREGATE_KINDS) <= set(names)
    kinds = {row[3] for _size, _align, rows in mod._layout_tables().values() for row in rows}
    assert kinds == set(names)                          # every kind occurs in page & co.


def test_stats_reports_each_reservation_kind_of_the_c_table(variant):
    mod = memcore._variants.module(*variant)
    m = memcore.Machine(ram="64MiB", bits=variant[1])
    meta = m.stats()["metadata_bytes"]
    names = mod.RESERVE_KIND_NAMES
    assert tuple(meta)[:len(names)] == names              # then memmap_host: host memory
    assert mod.RESERVE_KIND_NAMES[0] == "firmware" and meta["memmap"] > 0


def test_flag_rows_read_ops_and_meanings_by_name():
    rows = {r.name: r for r in codegen.parse_flag_table("classic", 64)}
    assert rows["dirty"].ops == ("test", "set", "clear", "__clear", "test_set", "test_clear")
    assert rows["uptodate"].ops == ("test", "clear", "mark", "__mark")
    assert (rows["swapcache"].special, rows["swapcache"].meaning) == \
        ("SWAPCACHE", "PG_swapcache and PG_swapbacked")
    assert (rows["locked"].special, rows["locked"].meaning) == ("NONE", None)


@pytest.mark.parametrize("expr", ["MCF_OP_TEST | MCF_OP_BOGUS", "(1 << 0) | MCF_OP_SET"])
def test_an_ops_column_that_is_not_known_ops_is_refused(expr):
    with pytest.raises(ValueError):
        codegen._ops_of(expr, ("test", "set"))
