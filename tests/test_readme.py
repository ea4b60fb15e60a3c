"""The examples in README.md run and print what the README says."""
import doctest
import re

from conftest import ROOT

import memcore


def test_readme_python_examples():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs = {"memcore": memcore}
    try:
        import drgn  # noqa: F401  (the drgn block needs the optional extra)
        have_drgn = True
    except ImportError:
        have_drgn = False
    for i, block in enumerate(blocks):
        if "memcore.drgn" in block and not have_drgn:
            continue
        test = parser.get_doctest(block, globs, f"README block {i}", "README.md", 0)
        runner.run(test)
    assert runner.failures == 0
