"""Keep the export's resident memory near what is alive (glibc only; a no-op elsewhere).

glibc gives each thread its own malloc arena, and memory freed in one arena is not reused by
the others: with 16 workers each decoding megabyte pages, the process kept about twice the live
memory resident (163 MB for a 100 000-event export, 76 MB with two arenas, same CPU time).
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["limit_malloc_arenas"]

_M_ARENA_MAX = -8  # from glibc's malloc.h


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (call before starting threads); True if it took effect.

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
    return bool(mallopt(_M_ARENA_MAX, arenas))
