"""Build memcore's variant modules.

Every variant is the same Cython implementation (memcore/_variant.pxi and
the subsystem .pxi files it includes) compiled with different C macros, the
way one kernel source tree is built for different configurations.  To add a
design, add its header set under include/memcore/ and one line to VARIANTS.

memcore._layouts holds the layout tables of every LAYOUTS entry, which needs
only a design's types header: layouts of designs whose machines are not
built yet, and a module that is cheap to import.

Code generation and Cython run in build_ext (tools/variant_build.py), not
when this file is imported: `setup.py --version` and sdist need neither.
"""
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent

#: (design, word size in bits): one extension module memcore._<design><bits> each.
VARIANTS = [
    ("classic", 64),
    ("classic", 32),
    ("interim", 64),
    ("interim", 32),
    ("flags_memdesc", 64),
    ("flags_memdesc", 32),
    ("memdesc", 64),
    ("memdesc", 32),
]

# A developer's build of some variants only: MEMCORE_VARIANTS=classic64,interim32
# (an unknown name stops the build).  Releases and CI build all of them.
if os.environ.get("MEMCORE_VARIANTS"):
    _wanted = [v.strip() for v in os.environ["MEMCORE_VARIANTS"].split(",") if v.strip()]
    _known = {f"{d}{b}": (d, b) for d, b in VARIANTS}
    _unknown = [v for v in _wanted if v not in _known]
    if _unknown:
        raise SystemExit(f"MEMCORE_VARIANTS: unknown variant(s) {', '.join(_unknown)}; "
                         f"known: {', '.join(_known)}")
    VARIANTS = [_known[v] for v in _wanted]

#: (design, word size in bits): the layout tables memcore._layouts holds, for
#: memcore.layout() & co.  A design needs only its types header
#: (include/memcore/design_<design>_types.h: its structs and
#: MC_LAYOUT_STRUCTS(X)), not a buildable machine, so designs whose variant
#: modules are not built yet are listed here; the build stops, naming the
#: header, when it does not exist.
LAYOUTS = [
    ("classic", 64),
    ("classic", 32),
    ("interim", 64),
    ("interim", 32),
    ("flags_memdesc", 64),
    ("flags_memdesc", 32),
    ("memdesc", 64),
    ("memdesc", 32),
]

LAYOUTS_MODULE = "memcore._layouts"

GEN = ROOT / "build" / "memcore-gen"


def _module(design, bits):
    return f"memcore._{design}{bits}"


def _write_stubs():
    """memcore/_variant.pyi and memcore/_<design><bits>.pyi, from VARIANTS."""
    sys.path.insert(0, str(ROOT / "tools"))
    import stubgen  # build-time tool, not installed
    stubgen.write_stubs(VARIANTS, ROOT / "memcore")


class BuildPy(build_py):
    """Write the generated type stubs before the package files are copied:
    `build` runs build_py before build_ext, so stubs written only there
    would miss the wheel."""

    def run(self):
        _write_stubs()
        super().run()


class BuildExt(build_ext):
    """Generate and cythonize every variant, then compile them; both steps
    run the variants in parallel (they are independent)."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        sys.path.insert(0, str(ROOT / "tools"))
        import variant_build  # build-time tool, not installed

        _write_stubs()  # also here for `setup.py build_ext --inplace`

        variant = {_module(d, b): (d, b) for d, b in VARIANTS}
        layouts = [ext for ext in self.extensions if ext.name == LAYOUTS_MODULE]
        try:
            variant_build.prepare_extensions(
                [(ext, *variant[ext.name]) for ext in self.extensions if ext.name in variant],
                GEN, jobs=self.parallel, force=self.force,
                layouts=(layouts[0], LAYOUTS) if layouts else None)
        except variant_build.codegen.LayoutsError as e:
            raise SetupError(f"setup.py LAYOUTS: {e}") from None
        super().build_extensions()
        self._drgn_types(variant_build)

    def _drgn_types(self, variant_build):
        """Each variant's structs with native types and debug info, beside its
        module (memcore.drgn loads them into drgn); a variant whose word size
        the compiler cannot target (no -m32) is left without, with a note."""
        # an editable install links only the modules into the source tree: the
        # types files go there directly
        out_dir = ROOT / "memcore" if getattr(self, "editable_mode", False) or self.inplace \
            else Path(self.get_ext_fullpath(_module(*VARIANTS[0]))).parent
        cc = list(self.compiler.compiler_so[:1]) if hasattr(self.compiler, "compiler_so") \
            else ["cc"]
        for design, bits in VARIANTS:
            why = variant_build.compile_drgn_types(
                cc, design, bits, out_dir / variant_build.drgn_types_name(design, bits))
            if why:
                print(f"memcore: no drgn types for {design}{bits}: {why}", file=sys.stderr)

    def build_extension(self, ext):
        # the C compile of one module (they run in parallel): its wall time,
        # so the cost of each variant shows in a build log (`pip install -v .`)
        import time
        t0 = time.monotonic()
        super().build_extension(ext)
        print(f"memcore: {ext.name}: C compile {time.monotonic() - t0:.1f} s",
              file=sys.stderr, flush=True)


setup(
    # sources are the stubs that build_ext writes; it replaces them with the C
    # memcore._layouts first: it is small, and the variants compile alongside it
    ext_modules=[Extension(LAYOUTS_MODULE, sources=["memcore/_layouts.pyx"])]
    + [Extension(_module(d, b), sources=[f"memcore/_{d}{b}.pyx"]) for d, b in VARIANTS],
    cmdclass={"build_py": BuildPy, "build_ext": BuildExt},
)
