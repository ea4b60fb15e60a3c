"""memcore.decode_memdesc / encode_memdesc / memdesc_types, layout_facts and
layout_notes: the compiled memdesc tables and design facts, read from
memcore._layouts (tests/test_memdesc_structs.py checks the same headers with
gcc directly)."""
from __future__ import annotations

import pytest

import memcore
from memcore import NoMemdesc, UnknownChoice
from memcore.cli import main

MEMDESC_VARIANTS = [(d, b) for d, b in memcore.layout_variants() if d != "classic"]
IDS = [f"{d}{b}" for d, b in MEMDESC_VARIANTS]


def test_every_memdesc_design_has_tables_and_classic_has_none():
    assert {d for d, _ in MEMDESC_VARIANTS} == {"interim", "flags_memdesc", "memdesc"}
    for bits in (64, 32):
        with pytest.raises(NoMemdesc, match="design 'classic' has no memdesc word"):
            memcore.memdesc_types("classic", bits)
        with pytest.raises(NoMemdesc):
            memcore.decode_memdesc(0, "classic", bits)


@pytest.mark.parametrize("design,bits", MEMDESC_VARIANTS, ids=IDS)
def test_types_round_trip_through_encode_and_decode(design, bits):
    """Every assigned type: pointer types carry a 16-byte aligned address,
    inline types their fields; decode gives back what encode was given."""
    address = (1 << (bits - 1)) | 0x1230            # a kernel-half, 16-byte aligned address
    for t in memcore.memdesc_types(design, bits):
        if t.name is None:
            continue
        if t.kind == "inline":
            word = memcore.encode_memdesc(t.name, design, bits, order=5, zone=1)
            md = memcore.decode_memdesc(word, design, bits)
            assert md.address is None and md.descriptor is None
            assert md.fields["order"] == 5 and md.fields["zone"] == 1
        else:
            word = memcore.encode_memdesc(t.name, design, bits, address=address)
            md = memcore.decode_memdesc(word, design, bits)
            assert md.address == address and md.fields == {}
            assert md.descriptor == t.descriptor
        assert md.type == t.name and word & 0xf in {x.number for x in memcore.memdesc_types(
            design, bits) if x.name == t.name}


def test_misc_subtype_by_name_and_fields_at_the_flags_positions():
    for design, bits in MEMDESC_VARIANTS:
        facts = memcore.layout_facts(design, bits)
        word = memcore.encode_memdesc("misc", design, bits, subtype="vmalloc", mapped=1, order=2)
        md = memcore.decode_memdesc(word, design, bits)
        assert md.subtype == "vmalloc" and md.fields["mapped"] == 1
        assert str(md).startswith("misc(vmalloc,")
        assert facts["page_size"] == 4096


def test_decode_describes_an_unassigned_number_instead_of_raising():
    md = memcore.decode_memdesc(0xe, "memdesc", 64)      # 14: unassigned in 2025
    assert md.type is None and md.kind is None and md.address is None
    assert "unassigned type 14" in str(md)
    assert memcore.decode_memdesc(0xe, "interim", 64).type == "pagetable"


@pytest.mark.parametrize("call,error,match", [
    (lambda: memcore.decode_memdesc(1 << 32, "memdesc", 32), ValueError, "does not fit in 32"),
    (lambda: memcore.decode_memdesc(-1, "memdesc", 64), ValueError, "does not fit"),
    (lambda: memcore.decode_memdesc("2", "memdesc", 64), TypeError, "is an int"),
    (lambda: memcore.decode_memdesc(2, "memdesc", 48), UnknownChoice, "48"),
    (lambda: memcore.decode_memdesc(2, "memdisk", 64), UnknownChoice, "memdisk"),
    (lambda: memcore.encode_memdesc("file", "memdesc", 64, address=0x1238), ValueError,
     "16-byte aligned"),
    (lambda: memcore.encode_memdesc("file", "memdesc", 64), ValueError, "address"),
    (lambda: memcore.encode_memdesc("file", "memdesc", 64, address=0x1230, order=1), ValueError,
     "no inline fields"),
    (lambda: memcore.encode_memdesc("misc", "memdesc", 64, order=64), ValueError,
     "6 bits"),
    (lambda: memcore.encode_memdesc("misc", "memdesc", 64, subtype="nope"), UnknownChoice,
     "nope"),
    (lambda: memcore.encode_memdesc("misc", "memdesc", 64, colour=1), UnknownChoice,
     "colour"),
    (lambda: memcore.encode_memdesc("misc", "memdesc", 32, node=1), ValueError,
     "not in the memdesc 32-bit memdesc"),
    (lambda: memcore.encode_memdesc("ksm", "interim", 64, address=0x1230), UnknownChoice,
     "ksm"),
])
def test_bad_input_names_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_facts_follow_the_flags_word_calculator():
    """flags_memdesc's order placement is the calculator's free-bit count against
    claim S3's widths, for both configurations."""
    for bits, config in ((64, "x86_64"), (32, "i386")):
        f = memcore.layout_facts("flags_memdesc", bits)
        calc = memcore.flags_layout(config)
        assert f["flags_free_bits"] == calc.free_bits
        assert f["nr_pageflags"] == calc.nr_pageflags
        assert f["compound_order_width"] == (5 if bits == 64 else 4)
        fits = calc.fits_compound_order(f["compound_order_width"])
        assert ("compound_order_shift" in f) == fits
        assert ("order" in memcore.layout("page", "flags_memdesc", bits)) == (not fits)
        assert f["sizeof_page"] == memcore.layout("page", "flags_memdesc", bits).size


def test_small_folio_size_is_the_offset_of_the_large_members():
    for design, bits in MEMDESC_VARIANTS:
        lay = memcore.layout("folio", design, bits)
        assert memcore.layout_facts(design, bits)["small_folio_size"] == \
            lay["_flags_1"].offset


def test_layout_of_flags_memdesc32_page_says_why_it_has_an_order_word(capsys):
    assert main(["layout", "page", "--design", "flags_memdesc", "--bits", "32"]) == 0
    out = capsys.readouterr().out
    assert "unsigned int               order;" in out
    assert ("`order` is a word of its own: the compound order needs 4 bits (claim S3) "
            "and the i386 flags word has 1 free bit") in out
    assert main(["layout", "page", "--design", "flags_memdesc", "--bits", "64"]) == 0
    out = capsys.readouterr().out
    assert "order;" not in out and "is in flags, bits 30..34" in out
    assert main(["layout", "page", "--design", "classic", "--bits", "64"]) == 0
    assert "note:" not in capsys.readouterr().out
