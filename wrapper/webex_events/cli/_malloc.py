"""Keep the export's resident memory near what is alive (glibc only; a no-op elsewhere).

Two glibc defaults made the export keep about twice its live memory resident:

* each thread gets its own malloc arena, and memory freed in one arena is not reused by the
  others: with 16 workers each decoding megabyte pages, 163 MB for a 100 000-event export, 76 MB
  with two arenas, same CPU time;
* the mmap threshold is dynamic: once a large block (a page's body or text, a few MB) has been
  freed, blocks up to that size come from the arena instead of their own mapping. Those blocks,
  interleaved with the events' texts that live longer, leave holes that later pages do not fit
  in, so the arena only grows (issue 13: arena 68 MB for at most 29 MB in use at 1M events; the
  peak RSS grew with the number of events). A fixed threshold keeps blocks of a megabyte and
  more in mappings of their own, returned to the system when freed.

What the arenas still hold free (holes between live blocks) is given back by
``release_free_memory``, which the export calls about once a second (with its checkpoint).
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["MMAP_THRESHOLD", "limit_malloc_arenas", "release_free_memory"]

_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
_M_ARENA_MAX = -8
#: Blocks of this size and more get a mapping of their own (a page of 1000 events: ~1 MB of
#: body, 1-4 MB of text). Below it, mappings would cost more page faults than they save.
MMAP_THRESHOLD = 1 << 20


def limit_malloc_arenas(arenas: int = 2, mmap_threshold: int | None = MMAP_THRESHOLD) -> bool:
    """Cap glibc's malloc arenas and fix its mmap threshold (call before starting threads).

    True if it took effect; ``mmap_threshold=None`` leaves the threshold dynamic. A setting the
    user made (``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``, ``GLIBC_TUNABLES``) is kept.

    >>> limit_malloc_arenas() in (True, False)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - no C library symbols to look up
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    ok = True
    if "MALLOC_ARENA_MAX" not in os.environ and "glibc.malloc.arena_max" not in tunables:
        ok = bool(mallopt(_M_ARENA_MAX, arenas))
    if (
        mmap_threshold is not None
        and "MALLOC_MMAP_THRESHOLD_" not in os.environ
        and "glibc.malloc.mmap_threshold" not in tunables
    ):
        ok = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and ok
    return ok


_libc: ctypes.CDLL | None = None


def release_free_memory() -> bool:
    """Give the free pages inside glibc's arenas back to the system (``malloc_trim(0)``).

    Cheap (well under a millisecond for the export's arenas); True if something was released.

    >>> release_free_memory() in (True, False)
    True
    """
    global _libc  # noqa: PLW0603 - looked up once
    if not sys.platform.startswith("linux"):
        return False
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None)
        return bool(_libc.malloc_trim(0))
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False
