"""Two malloc arenas for the command, as ``MALLOC_ARENA_MAX=2`` would (glibc; a no-op elsewhere).

glibc gives each thread its own arena and memory freed in one is not reused by the others: with
a window's worker threads decoding pages of a megabyte, a 1M-event export peaked at 169 MB with
the default arenas and at 118-125 MB with two, for the same CPU time (bench/README.md).
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["limit_malloc_arenas"]

_M_ARENA_MAX = -8  # from glibc's malloc.h


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (call before starting threads); True if it took effect.

    A setting the user made (``MALLOC_ARENA_MAX``, ``GLIBC_TUNABLES``) is kept.

    >>> limit_malloc_arenas() in (True, False)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    if "MALLOC_ARENA_MAX" in os.environ or "glibc.malloc.arena_max" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - no C library symbols to look up
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))
