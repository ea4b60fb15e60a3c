"""The typed API: the stubs match every compiled variant, and a typed program
passes ``mypy --strict``.

The stubs are generated at build time by tools/stubgen.py (memcore/_variant.pyi,
the API all variants share, and memcore/_<design><bits>.pyi); these tests run
mypy and mypy.stubtest on the installed package, so they skip only when mypy
is not installed (it is in the ``test`` extra).
"""
from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import memcore

pytest.importorskip("mypy", reason="mypy is not installed (pip install .[test])")

ROOT = Path(__file__).resolve().parent.parent
PKG = Path(memcore.__file__).resolve().parent
EXAMPLE = ROOT / "examples" / "typed_usage.py"
ALLOWLIST = ROOT / "tools" / "stubtest-allowlist.txt"
MODULES = [f"memcore._{d}{b}" for d, b in memcore.variants()]

sys.path.insert(0, str(ROOT / "tools"))
from stubgen import CLASSES  # noqa: E402


def _env(stub_root: Path = PKG.parent) -> dict[str, str]:
    """Environment in which mypy finds memcore's stubs under stub_root: an
    editable install is found only through MYPYPATH (mypy ignores import
    hooks); mypy finds a site-packages install by itself."""
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    site = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    if stub_root.resolve() not in site:
        env["MYPYPATH"] = str(stub_root)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def _stubtest(cwd: Path, env: dict[str, str], *modules: str) -> subprocess.CompletedProcess[str]:
    return _run(["mypy.stubtest", "--concise", "--ignore-unused-allowlist", "--allowlist", str(ALLOWLIST), *modules], cwd, env)


def test_stubtest_every_variant(tmp_path):
    """Every public name of every variant has a stub with the runtime's signature."""
    proc = _stubtest(tmp_path, _env(), *MODULES)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stubtest_layouts_module(tmp_path):
    """memcore._layouts (its stub is written by hand) matches its runtime."""
    proc = _stubtest(tmp_path, _env(), "memcore._layouts")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stubtest_fails_for_a_method_without_stub(tmp_path):
    """The check above is not vacuous: drop one method from a copy of the
    stubs and stubtest names it."""
    copy = tmp_path / "stubs" / "memcore"    # not the cwd: stubtest imports the real one
    copy.mkdir(parents=True)
    for f in PKG.iterdir():
        if f.suffix in (".py", ".pyi") or f.name == "py.typed":
            shutil.copy(f, copy / f.name)
    shared = copy / "_variant.pyi"
    text = shared.read_text()
    line = "    def drain_pcp(self) -> None: ...\n"
    assert text.count(line) == 1
    shared.write_text(text.replace(line, ""))
    env = dict(os.environ, MYPYPATH=str(copy.parent))
    proc = _stubtest(tmp_path, env, MODULES[0])
    assert proc.returncode == 1
    assert f"{MODULES[0]}.Machine.drain_pcp is not present in stub" in proc.stdout, proc.stdout


def _stub_classes(path: Path) -> dict[str, ast.ClassDef]:
    return {n.name: n for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef)}


def _members(cls: ast.ClassDef) -> set[str]:
    return {n.name for n in cls.body if isinstance(n, ast.FunctionDef)} | \
        {n.target.id for n in cls.body
         if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}


@pytest.mark.parametrize("module", MODULES)
def test_stubs_declare_only_what_the_variant_has(module):
    """stubtest checks a variant's public names, and the stub's own; names the
    variant classes inherit from memcore/_variant.pyi, and the __set_X flag
    helpers, which it takes for private, are checked here."""
    mod = importlib.import_module(module)
    shared = _stub_classes(PKG / "_variant.pyi")
    own = _stub_classes(PKG / f"{module.split('.')[1]}.pyi")
    assert set(shared) == set(own) == set(CLASSES)
    for cls in CLASSES:
        declared = _members(shared[cls]) | _members(own[cls])
        missing = [n for n in sorted(declared)
                   if inspect.getattr_static(getattr(mod, cls), n, None) is None
                   and not (cls == "Folio" and n in mod.FOLIO_KERNEL_NAMES)]
        assert not missing, f"{module}.{cls}: stubbed but absent at run time: {missing}"
    # the kernel's __<op>_<flag> spellings, answered by Folio.__getattr__
    kernel_style = set(mod.FOLIO_KERNEL_NAMES)
    assert kernel_style and kernel_style <= _members(shared["Folio"]) | _members(own["Folio"])


def _params(fn: ast.FunctionDef) -> list[tuple[str, object]]:
    """(name, default) of each parameter after self."""
    a = fn.args
    pos = a.args[1:]
    defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
    out = [(p.arg, ast.literal_eval(d) if d else inspect.Parameter.empty)
           for p, d in zip(pos, defaults)]
    out += [(p.arg, ast.literal_eval(d) if d else inspect.Parameter.empty)
            for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    return out


def _init(path: Path) -> list[tuple[str, object]]:
    (fn,) = [n for n in _stub_classes(path)["Machine"].body
             if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    return _params(fn)


@pytest.mark.parametrize("module", MODULES)
def test_machine_constructors_match_the_stubs(module):
    """The constructors stubtest cannot see (a cdef class's __init__ takes
    *args, **kwargs to introspection): a variant's, from its embedded
    signature, and the facade's, which passes its keywords on to it."""
    mod = importlib.import_module(module)
    first = mod.Machine.__doc__.splitlines()[0]
    embedded = ast.parse(f"def {first.replace('Machine(', 'f(self, ', 1)}: pass").body[0]
    variant = sorted(_params(embedded))
    assert sorted(_init(PKG / f"{module.split('.')[1]}.pyi")) == variant

    facade = [(p.name, p.default) for p in
              inspect.signature(memcore.Machine.__new__).parameters.values()
              if p.kind is not p.VAR_KEYWORD][1:]
    names = [n for n, _ in facade]
    tunables = [(n, d) for n, d in variant if n not in names]
    assert sorted(_init(PKG / "_variant.pyi")) == sorted(facade + tunables)


MISUSE = """\
import memcore
m = memcore.Machine(ram=64.0)
f = m.alloc_folio(kind="slab")
f.test_dirty(m)
f.no_such_helper()
m.kmem_cache("kmalloc-64").objects = 3
obj = m.kmalloc(8)
obj.free()
"""
#: line of MISUSE -> the mypy error code it must get
MISUSE_ERRORS = {2: "arg-type", 3: "arg-type", 4: "call-arg", 5: "attr-defined", 6: "misc",
                 8: "union-attr"}


def test_mypy_strict(tmp_path):
    """examples/typed_usage.py passes mypy --strict (its assert_type calls pin
    the types), and misuse of the API is reported where it happens."""
    misuse = tmp_path / "misuse.py"
    misuse.write_text(MISUSE)
    proc = _run(["mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(EXAMPLE), str(misuse)], tmp_path, _env())
    out = proc.stdout + proc.stderr
    errors = re.findall(r"^(.+?):(\d+): error: .*\[([a-z-]+)\]$", out, re.M)
    assert {Path(f).name for f, _, _ in errors} <= {misuse.name}, out
    assert {int(line): code for _, line, code in errors} == MISUSE_ERRORS, out


@pytest.mark.parametrize("design,bits", memcore.variants())
def test_typed_example_runs(design, bits):
    spec = importlib.util.spec_from_file_location("typed_usage", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    m = example.main(design, bits)
    assert (m.design, m.bits) == (design, bits)
    assert isinstance(m, memcore.Machine)
