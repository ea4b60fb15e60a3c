"""docs/DESIGNS.md shows the model's own struct listings: they must be what
memcore prints now (tools/designs_doc.py rewrites them)."""
import subprocess
import sys

from conftest import ROOT


def test_designs_doc_listings_are_current():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "designs_doc.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT / "tests")
    assert proc.returncode == 0, proc.stderr


def test_designs_doc_has_every_layout_variant_page():
    import memcore

    text = (ROOT / "docs" / "DESIGNS.md").read_text()
    for design, bits in memcore.layout_variants():
        assert f"<!-- layout page {design} {bits} -->" in text
        assert f"| {design} | {bits} |" in text
