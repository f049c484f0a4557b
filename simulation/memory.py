"""Keep freed memory for reuse, so the monthly step's large temporary arrays do not page-fault.

glibc serves every allocation over 32 MiB (its largest mmap threshold) with a fresh mmap and
returns it to the system when freed, so the next month's array of the same size touches new
pages, each a page fault the kernel must zero. At one row per person for England (35 million
rows: a byte array per person is 35 MB) that was a third of the step's time (benchmarks/
england.py: matching fell from 0.96 to 0.46 s a month). `keep_freed_memory` tells glibc to serve
large blocks from its heap and not to trim it, so a freed block is reused by the next month's
array. The process's peak memory is unchanged (the model's temporaries are the same each month);
its resident memory no longer falls back between months. No effect off glibc (macOS, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # mallopt parameters (malloc.h)
TRIM_THRESHOLD = 2**31 - 1  # bytes of free heap top kept rather than returned (mallopt takes an int)


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc to keep freed large blocks for reuse (once per process); whether it agreed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
