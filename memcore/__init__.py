"""memcore: an executable, C-struct-faithful model of Linux memory descriptors.

Linux 6.18's struct page, folio, slab and ptdesc, and the memory-descriptor
designs argued for on linux-mm (interim, flags_memdesc, memdesc), each in a
64-bit (x86_64) and a 32-bit (i386 PAE) variant built from one implementation.

Start here::

    import memcore
    m = memcore.Machine("4GiB", design="memdesc", bits=64)  # boot a machine
    f = m.alloc_folio(order=2)          # folio_alloc(): a Folio view
    f.lock(); f.set_dirty(); f.unlock()
    print(f.dump())                     # dump_page()'s text
    print(m.proc("buddyinfo"))          # /proc files of the modeled state
    print(memcore.layout("page", design="classic", bits=32))   # pahole-style

Where to read next (each is a help() page):

    memcore.Machine     booting, folios, the page cache, SLUB, RCU, tasks, /proc
    memcore.Folio, memcore.Page, memcore.PgFlags     views of descriptors
    memcore.KmemCache, memcore.SlabObject, memcore.Slab     SLUB
    memcore.Task, memcore.AddressSpace     tasks and locks, file page caches
    memcore.Layout      struct layouts: members, holes(), diff()
    memcore.errors      every exception (all derive from MemcoreError)
    memcore.explore     the interleaving explorer for the thread's race claims
    memcore.drgn        drgn on a modeled machine or its crash dump

The same API, generated from these docstrings, is docs/API.md; the command
line is ``memcore --help`` (layout, profile, estimate, boot, explore, dump).
This page lists the module's functions; classes and exceptions are
importable from here too (``memcore.Machine``, ``memcore.VMBug``) and are
documented on their own pages.
"""
# Re-exported as "X as X": public for type checkers, and documented on their
# own help() pages rather than inline in help(memcore) (the guide above).
from . import errors as errors
from .addresses import Address as Address
from .errors import BadPageState as BadPageState
from .errors import ConfigError as ConfigError
from .errors import Deadlock as Deadlock
from .errors import FolioNotLocked as FolioNotLocked
from .errors import InvalidAddress as InvalidAddress
from .errors import KASANReport as KASANReport
from .errors import MemcoreError as MemcoreError
from .errors import NotSupported as NotSupported
from .errors import OrderOutOfRange as OrderOutOfRange
from .errors import OutOfMemory as OutOfMemory
from .errors import PFNOutOfRange as PFNOutOfRange
from .errors import RefcountError as RefcountError
from .errors import SnapshotError as SnapshotError
from .errors import TailPageError as TailPageError
from .errors import UnknownChoice as UnknownChoice
from .errors import VMBug as VMBug
from .layout import Layout as Layout
from .layout import Member as Member
from .layout import layout, layout_facts, layout_variants, struct_names
from .memdesc import Memdesc as Memdesc
from .memdesc import MemdescType as MemdescType
from .memdesc import NoMemdesc as NoMemdesc
from .memdesc import decode_memdesc, encode_memdesc, memdesc_types
from .flagslayout import FlagsConfig as FlagsConfig
from .flagslayout import FlagsLayout as FlagsLayout
from .flagslayout import FlagsLayoutError as FlagsLayoutError
from .flagslayout import flags_layout
from ._variants import available as variants
from .enums import pageflags, pagetype
from .machine import AddressSpace as AddressSpace
from .machine import Folio as Folio
from .machine import FolioSlab as FolioSlab
from .machine import KmemCache as KmemCache
from .machine import Machine as Machine
from .machine import Page as Page
from .machine import PgFlags as PgFlags
from .machine import Slab as Slab
from .machine import SlabObject as SlabObject
from .machine import Task as Task

__version__ = "0.1.0"

#: the module's functions (what help(memcore) documents after the guide);
#: every class above is public too (import memcore; memcore.Machine)
__all__ = [
    "layout", "layout_variants", "layout_facts", "struct_names",
    "decode_memdesc", "encode_memdesc", "memdesc_types",
    "flags_layout", "variants", "pageflags", "pagetype",
]
