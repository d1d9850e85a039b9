"""Keeping a long-running server's memory flat where the C library is glibc.

glibc serves a large allocation (a generation's preloaded sentence vectors, a batch's matrices) with
its own ``mmap``, returned to the system when freed, but each such free also raises the size from which
it does so, up to 32 MB: after a few index reloads, allocations of that size come from the heap
instead, where freed blocks fragment and the server's resident memory climbs with every reload
(377 → 718 MB over 100 add/remove cycles on the seed index, docs/benchmark-history.md). Fixing the threshold
turns that adjustment off (the same run: 366 → 538 MB, flat after the first reloads).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3
THRESHOLD = 1 << 20  # allocations from 1 MiB on get their own mapping, and give it back when freed


def steady() -> bool:
    """Fix glibc's mmap threshold for this process; False where there is no glibc (nothing to do)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    except (OSError, AttributeError):
        return False  # musl or another C library: no mallopt
