"""memcore.layout(): the Python API over the compiled tables, in every variant."""
import json

import pytest

import memcore

STRUCTS = ("page", "folio", "slab", "ptdesc")


@pytest.mark.parametrize("name", STRUCTS)
def test_layout_fields(variant, name):
    lay = memcore.layout(name, *variant)
    assert (lay.name, lay.design, lay.bits) == (name, variant[0], variant[1])
    assert lay.size > 0 and lay.align in (4, 8, 16)
    assert lay.to_dict()["members"] == [m.to_dict() for m in lay.members]
    assert set(lay.to_dict()) == {"name", "design", "bits", "size", "align", "members"}
    for m in lay.members:
        assert set(m.to_dict()) == {"path", "type", "offset", "size", "bit_offset", "bit_size"}
        assert 0 <= m.bit_offset < lay.size * 8
        assert m.offset + m.size <= lay.size
    json.dumps(lay.to_dict())


@pytest.mark.parametrize("name", STRUCTS)
def test_paths_name_only_named_members(variant, name):
    lay = memcore.layout(name, *variant)
    assert all(m.path and "." not in m.path for m in lay.members)
    assert all(m.path in lay for m in lay.members)
    if name == "slab":
        assert "inuse" in lay


@pytest.mark.classic_overlay
def test_struct_page_members_of_the_overlay(variant):
    page = memcore.layout("page", *variant)
    for path in ("lru", "compound_head", "page_type", "_mapcount", "private"):
        assert path in page
    assert "_flags_1" in memcore.layout("folio", *variant)


@pytest.mark.classic_overlay
def test_32bit_specifics():
    page = memcore.layout("page", bits=32)
    assert page.size == 40 and page.align == 8       # 36 bytes padded to 2 * sizeof(long)
    assert page["memcg_data"].offset == 32
    folio = memcore.layout("folio", bits=32)
    assert folio.size == 4 * page.size
    # 32-bit: _entire_mapcount and _pincount live in the second tail page
    assert folio["_entire_mapcount"].offset >= 2 * page.size
    assert folio["_pincount"].offset >= 2 * page.size
    assert folio["_nr_pages"].offset == page.size + page["memcg_data"].offset
    slab = memcore.layout("slab", bits=32)
    assert slab.size == 36 and slab["freelist_counter"].size == 8
    assert slab["freelist"].offset % 8 == 0


@pytest.mark.classic_overlay
def test_folio_overlays_match_page(variant):
    page = memcore.layout("page", *variant)
    folio = memcore.layout("folio", *variant)
    for pg, fl in [("flags", "flags"), ("lru", "lru"), ("mapping", "mapping"),
                   ("__folio_index", "index"), ("private", "private"),
                   ("_mapcount", "_mapcount"), ("_refcount", "_refcount"),
                   ("memcg_data", "memcg_data")]:
        assert page[pg].offset == folio[fl].offset
    for n in (1, 2, 3):
        assert folio[f"_flags_{n}"].offset == n * page.size + page["flags"].offset
        assert folio[f"_head_{n}"].offset == n * page.size + page["compound_head"].offset
    slab = memcore.layout("slab", *variant)
    assert slab["slab_cache"].offset == page["compound_head"].offset
    assert slab["obj_exts"].offset == page["memcg_data"].offset
    assert slab.size <= page.size
    ptdesc = memcore.layout("ptdesc", *variant)
    assert ptdesc["__page_type"].offset == page["page_type"].offset
    assert ptdesc.size <= page.size


def test_getitem_unknown_member():
    with pytest.raises(KeyError, match="no member 'nope'"):
        memcore.layout("page")["nope"]


@pytest.mark.parametrize("kwargs, what", [
    (dict(name="pages"), "struct"),
    (dict(name="page", design="memdescx"), "design"),
    (dict(name="page", bits=16), "word size"),
    (dict(name="page", bits="64"), "word size"),
])
def test_unknown_choices_list_valid_ones(kwargs, what):
    with pytest.raises(memcore.UnknownChoice, match=f"unknown {what}.*valid: "):
        memcore.layout(**kwargs)


@pytest.mark.classic_overlay
def test_pahole_has_totals_and_cachelines():
    text = memcore.layout("folio").pahole()
    assert "/* --- cacheline 1 boundary (64 bytes) --- */" in text
    assert "/* size: 256, cachelines: 4, members: 4 */" in text
    assert "inuse:16;" in memcore.layout("slab").pahole()
    text32 = memcore.layout("page", bits=32).pahole()
    assert "/* padding: 4 */" in text32 and "/* last cacheline: 40 bytes */" in text32
