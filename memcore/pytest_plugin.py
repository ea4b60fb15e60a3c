"""pytest plugin: run your own tests on every compiled memcore variant.

Installed with memcore and loaded by pytest through the ``pytest11`` entry
point, it provides

``memcore_variant``
    (design, bits) of each compiled variant (``memcore.variants()``); a test
    that uses it runs once per variant, with ids such as ``classic64``.
    ``--memcore-variants=classic64,classic32`` (or the ini option
    ``memcore_variants``) runs only those variants.

``memcore_machine``
    A factory: ``memcore_machine(ram="64MiB", **kwargs)`` boots
    ``memcore.Machine(ram, design=..., bits=..., **kwargs)`` on the variant
    under test.  When the test body returns, ``check()`` runs on every
    machine the factory made and the test fails if one raises; mark a test
    ``@pytest.mark.memcore_no_check`` to skip that.

The plugin is loaded in every pytest run of an environment where memcore is
installed, so beyond the package import its module path implies (which
succeeds even without compiled variants) it uses nothing of memcore until a
test asks for one of its fixtures or an option names variants.  Its names do not collide with
memcore's own test suite (``variant`` and ``machine`` in tests/conftest.py).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from memcore._variant import Machine

OPTION = "--memcore-variants"
INI = "memcore_variants"
NO_CHECK = "memcore_no_check"
NO_CHECK_MARKER = (f"{NO_CHECK}: memcore_machine does not run check() on the machines this "
                   "test boots (for tests that corrupt the model on purpose)")
DEFAULT_RAM = "64MiB"

#: Every design include/memcore/config.h knows, built or not: an id of one of
#: these that is not compiled is reported as "not built", not as unknown.
KNOWN_DESIGNS = ("classic", "interim", "flags_memdesc", "memdesc")
_ID = re.compile(r"^([a-z][a-z_]*?)(32|64)$")


def variant_id(variant: tuple[str, int]) -> str:
    """The test id of a (design, bits) variant: ("classic", 64) -> "classic64"."""
    design, bits = variant
    return f"{design}{bits}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("memcore", "memcore variants (memcore.pytest_plugin)")
    group.addoption(
        OPTION, dest="memcore_variants", default=None, metavar="IDS",
        help="run memcore_variant / memcore_machine tests only on these compiled variants, "
             "comma-separated (e.g. classic64,classic32); default: every variant. "
             f"Overrides the '{INI}' ini option.")
    parser.addini(INI, default="",
                  help="memcore variants (comma-separated ids) that memcore_variant / "
                       f"memcore_machine tests run on, unless {OPTION} is given; "
                       "empty: every compiled variant")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", NO_CHECK_MARKER)
    # An explicit selection is checked now, so a typo is a usage error before
    # anything runs; without one, memcore is not imported here.
    if _requested(config):
        _selected(config)


def _requested(config: pytest.Config) -> str:
    """The variant selection text: the command line's, else the ini file's, else ""."""
    text = config.getoption("memcore_variants", default=None)
    if text is None:
        text = config.getini(INI)
    return str(text or "").strip()


Variant = tuple[str, int]
_SELECTED = pytest.StashKey[tuple[Variant, ...]]()


def _selected(config: pytest.Config) -> tuple[tuple[str, int], ...]:
    """The variants memcore_variant is parametrized over, in memcore.variants() order."""
    if _SELECTED in config.stash:
        return config.stash[_SELECTED]
    import memcore

    where = OPTION if config.getoption("memcore_variants", default=None) is not None else INI
    try:
        built = tuple(memcore.variants())
    except ImportError as e:
        if _requested(config):
            raise pytest.UsageError(f"{where}: {e}") from None
        raise
    text = _requested(config)
    if not text:
        chosen = built
    else:
        by_id = {variant_id(v): v for v in built}
        valid = ", ".join(by_id)
        wanted = [w.strip() for w in text.split(",") if w.strip()]
        if not wanted:
            raise pytest.UsageError(f"{where}={text!r} names no variant; valid ids: {valid}")
        for w in wanted:
            if w in by_id:
                continue
            m = _ID.match(w)
            if m and m.group(1) in KNOWN_DESIGNS:
                raise pytest.UsageError(
                    f"{where}: memcore variant {w!r} is not built in this installation "
                    f"of memcore; built ids: {valid}")
            raise pytest.UsageError(
                f"{where}: unknown memcore variant id {w!r}; valid ids: {valid}")
        chosen = tuple(v for v in built if variant_id(v) in wanted)
    config.stash[_SELECTED] = chosen
    return chosen


def _parametrized_by_user(metafunc: pytest.Metafunc) -> bool:
    """Does a @pytest.mark.parametrize of the test already give memcore_variant?"""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if "memcore_variant" in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """memcore_variant is parametrized here, not in its decorator, so memcore is
    imported only when a collected test uses it."""
    if "memcore_variant" not in metafunc.fixturenames or _parametrized_by_user(metafunc):
        return
    chosen = _selected(metafunc.config)
    metafunc.parametrize("memcore_variant", list(chosen), indirect=True,
                         ids=[variant_id(v) for v in chosen])


@pytest.fixture
def memcore_variant(request: pytest.FixtureRequest) -> tuple[str, int]:
    """(design, bits) of the compiled memcore variant under test."""
    try:
        variant: tuple[str, int] = request.param
        return variant
    except AttributeError:  # not parametrized: only if a hook dropped our parametrization
        raise pytest.UsageError("memcore_variant was not parametrized by memcore.pytest_plugin")


class MachineFactory:
    """What memcore_machine gives a test: call it to boot a Machine on the variant."""

    def __init__(self, variant: tuple[str, int]):
        self.variant = variant
        self.design, self.bits = variant
        self.machines: list[tuple[Machine, str]] = []

    def __call__(self, ram: int | str = DEFAULT_RAM, **kwargs: Any) -> Machine:
        import memcore

        for k in ("design", "bits"):
            if k in kwargs:
                raise TypeError(f"memcore_machine() boots the variant under test "
                                f"({variant_id(self.variant)}); {k}= comes from memcore_variant")
        m = memcore.Machine(ram, design=self.design, bits=self.bits, **kwargs)
        args = ", ".join([repr(ram)] + [f"{k}={v!r}" for k, v in kwargs.items()])
        self.machines.append((m, f"memcore_machine({args})"))
        return m

    def check_all(self) -> None:
        """check() every machine made; pytest.fail naming the variant and each error."""
        failures = []
        for i, (m, call) in enumerate(self.machines, 1):
            try:
                m.check()
            except Exception as e:
                failures.append(f"machine {i} of {len(self.machines)}, {call}:\n"
                                f"    {type(e).__name__}: {e}")
        if failures:
            pytest.fail(f"memcore: check() failed after the test on variant "
                        f"{variant_id(self.variant)}: " + "\n".join(failures)
                        + f"\n(mark the test @pytest.mark.{NO_CHECK} if it corrupts "
                          "the model on purpose)", pytrace=False)


_FACTORY = pytest.StashKey[MachineFactory]()


@pytest.fixture
def memcore_machine(request: pytest.FixtureRequest,
                    memcore_variant: tuple[str, int]) -> Iterator[MachineFactory]:
    """A factory booting memcore.Machine on the variant under test:
    memcore_machine(ram="64MiB", nodes=..., cpus=..., ...).  Every machine it
    made is check()ed when the test body returns (unless memcore_no_check)."""
    factory = MachineFactory(memcore_variant)
    request.node.stash[_FACTORY] = factory
    yield factory
    factory.machines.clear()        # the machines' memory goes with the test
    del request.node.stash[_FACTORY]


@pytest.hookimpl(trylast=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """After the test body returned (pytest's own runtest_call did not raise),
    check() the machines memcore_machine made: a failure fails the test itself,
    in its call phase, rather than being an error at teardown."""
    factory = item.stash.get(_FACTORY, None)
    if factory is None or item.get_closest_marker(NO_CHECK) is not None:
        return
    factory.check_all()
