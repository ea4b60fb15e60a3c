"""The kernel's non-atomic folio helpers keep their names without patching the type.

A class body cannot define __set_X (it is mangled to _Folio__set_X), so
codegen generates _nonatomic_set_X & co. and Folio.__getattr__ answers to
the kernel spelling; the type's dict is what Cython built.
"""
import pytest

import memcore


def test_kernel_spelling_reaches_the_generated_method(variant):
    m = memcore.Machine(ram="64MiB", bits=variant[1])
    f = m.alloc_folio()
    cls = type(f)
    mod = memcore._variants.module(*variant)
    assert mod.FOLIO_KERNEL_NAMES["__set_locked"] == "_nonatomic_set_locked"
    for kernel, method in mod.FOLIO_KERNEL_NAMES.items():
        assert kernel.startswith("__") and kernel not in cls.__dict__
        assert method in cls.__dict__
        assert getattr(f, kernel) == getattr(f, method)
        assert kernel in dir(f)
    # one each of __set, __clear, __mark, by the kernel's names
    f.__set_locked()
    assert f.test_locked()
    f.__clear_locked()
    assert not f.test_locked()
    f.__mark_uptodate()
    assert f.test_uptodate()


def test_other_names_are_still_missing(variant):
    m = memcore.Machine(ram="64MiB", bits=variant[1])
    f = m.alloc_folio()
    with pytest.raises(AttributeError, match="'Folio' object has no attribute '__set_dirty'"):
        f.__set_dirty
    with pytest.raises(AttributeError):
        f.no_such_method
