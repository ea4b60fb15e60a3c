"""memcore: an executable, C-struct-faithful model of Linux memory descriptors.

Layouts of Linux 6.18's struct page, folio, slab and ptdesc in 64- and
32-bit variants, and of every other design with layout tables
(``layout``, ``layout_variants``, ``layout_facts``), the memdesc_t word of
the memory descriptor designs (``decode_memdesc``, ``memdesc_types``), the
page-flags word calculator
(``flags_layout``), and a running machine model (``Machine``).
"""
from .errors import (BadPageState, Deadlock, FolioNotLocked, InvalidAddress, KASANReport,
                     MemcoreError, NotSupported,
                     OrderOutOfRange, OutOfMemory, PFNOutOfRange, RefcountError, SnapshotError,
                     TailPageError, UnknownChoice, VMBug)
from .layout import Layout, Member, layout, layout_facts, layout_variants, struct_names
from .memdesc import (Memdesc, MemdescType, NoMemdesc, decode_memdesc, encode_memdesc,
                      memdesc_types)
from .flagslayout import FlagsConfig, FlagsLayout, FlagsLayoutError, flags_layout
from ._variants import available as variants
from .enums import pageflags, pagetype
from .machine import (AddressSpace, Folio, FolioSlab, KmemCache, Machine, Page, PgFlags, Slab,
                      SlabObject, Task)

__version__ = "0.1.0"

__all__ = [
    "layout", "layout_variants", "layout_facts", "struct_names", "Layout", "Member",
    "decode_memdesc", "encode_memdesc", "memdesc_types", "Memdesc", "MemdescType", "NoMemdesc",
    "flags_layout", "FlagsConfig", "FlagsLayout", "FlagsLayoutError",
    "variants", "pageflags", "pagetype",
    "Machine", "Page", "Folio", "PgFlags", "Task", "KmemCache", "FolioSlab", "Slab", "SlabObject",
    "AddressSpace",
    "MemcoreError", "UnknownChoice", "VMBug", "BadPageState", "RefcountError",
    "FolioNotLocked", "TailPageError", "Deadlock", "PFNOutOfRange", "OrderOutOfRange",
    "OutOfMemory", "InvalidAddress", "KASANReport", "SnapshotError", "NotSupported",
]
