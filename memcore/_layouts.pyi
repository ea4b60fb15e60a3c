# Type stub of memcore._layouts (memcore/_layouts.pxi; written by hand, the
# module's API does not depend on the LAYOUTS it was built with).
from typing import Any

LAYOUTS: tuple[tuple[str, int], ...]
MEMBER_KIND_NAMES: tuple[str, ...]

def available() -> tuple[tuple[str, int], ...]: ...
def tables(design: str, bits: int) -> dict[str, tuple[int, int, list[tuple[Any, ...]]]]: ...
