"""The monthly passes over people, shared out over threads by contiguous blocks of rows.

The person kernels (`mechanisms.*_kernels`, compiled with `nogil`) and numpy's random fills and
element-wise ufuncs release the GIL, so plain threads run them side by side. Results are the
same for any number of threads, bit for bit: each row's work reads only that row's state and its
own slot of a random stream (a block's loop jumps the stream to its first row, `pcg64.seek`),
outputs per row are written by one thread only, counts are kept per block and added up in
integers, and lists of rows are joined in block order. Sums of floats, whose rounding depends on
order, are never split.

Threads: `LABOURLAB_THREADS` if set, else the CPUs this process may use. Ensemble workers set it
to 1, since their runs already fill the CPUs. Populations under `MIN_BLOCK` rows a thread run in
one block on the calling thread (threads would cost more than they save).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np

from simulation.configfiles import ConfigError

ALIGN = 1 << 16  # block edges are multiples of this, so no two threads write to one cache line
MIN_BLOCK = 1 << 17  # rows per thread below which threads are not worth starting

_PREFIX = "labourlab-block"
DRAW_THREAD = "labourlab-draws"  # the name of threads drawing normals ahead (`Streams.prefetch_normal`)
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()


def _forget_pool() -> None:
    """In a forked child: the parent's pool threads do not exist here, so start a pool afresh."""
    global _pool, _pool_size, _lock
    _pool, _pool_size, _lock = None, 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def threads() -> int:
    """Threads for the person passes: LABOURLAB_THREADS, else the usable CPUs (at least 1)."""
    raw = os.environ.get("LABOURLAB_THREADS", "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            raise ConfigError(
                "environment", "LABOURLAB_THREADS", f"expected a whole number of threads, got {raw!r}"
            ) from None
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def blocks(
    n: int, align: int | None = None, k: int | None = None, min_rows: int | None = None
) -> list[tuple[int, int]]:
    """Contiguous blocks [lo, hi) covering rows 0..n, one per thread (at most one per `min_rows`
    rows), edges multiples of `align`."""
    most = n // (MIN_BLOCK if min_rows is None else min_rows)
    if most <= 1:  # (before `threads()`, whose system call costs more than a small pass)
        return [(0, n)]
    align = ALIGN if align is None else align
    k = max(1, min(threads() if k is None else k, most))
    if k == 1:
        return [(0, n)]
    edges = [0] + [min(n, -(-(n * i // k) // align) * align) for i in range(1, k)] + [n]
    return [(lo, hi) for lo, hi in pairwise(edges) if hi > lo]


def _run[T](fn: Callable[[int, int], T], spans: list[tuple[int, int]]) -> list[T]:
    """fn on each span, on the pool's threads when there are several spans; results in order.
    A block that itself asks for blocks never waits on the pool it is running in: work asked
    for from a pool thread runs on that thread."""
    global _pool, _pool_size
    if len(spans) == 1 or threading.current_thread().name.startswith(_PREFIX):
        return [fn(*span) for span in spans]
    with _lock:
        if _pool is None or _pool_size < len(spans):
            _pool = ThreadPoolExecutor(len(spans), thread_name_prefix=_PREFIX)  # the old one ends when idle
            _pool_size = len(spans)
        pool = _pool
    futures = [pool.submit(fn, *span) for span in spans]
    return [f.result() for f in futures]


def map_blocks[T](fn: Callable[[int, int], T], n: int, align: int | None = None) -> list[T]:
    """fn(lo, hi) for each block of `blocks(n)`, on threads when there are several; the results
    in block order."""
    return _run(fn, blocks(n, align))


def join(parts: list[tuple[np.ndarray, ...]] | list[list[np.ndarray]]) -> tuple[np.ndarray, ...]:
    """Per-block results that are several arrays each (in block order), each array joined across
    the blocks; no copy when there is one block."""
    if len(parts) == 1:
        return tuple(parts[0])
    return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))


def rows_where(kernel: Callable[..., np.ndarray], n: int, arrays: tuple[np.ndarray, ...], *args: object) -> np.ndarray:
    """The rows (in order) that `kernel(*block_of_each_array, *args)` returns for each block of
    rows, shifted to whole-array row numbers and joined in block order."""
    parts = map_blocks(lambda lo, hi: lo + kernel(*(a[lo:hi] for a in arrays), *args), n)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def flatnonzero(mask: Callable[[int, int], np.ndarray], n: int) -> np.ndarray:
    """The rows (in order) where `mask(lo, hi)`, the mask of rows lo..hi, is true: np.flatnonzero
    of the whole mask, a block per thread."""
    parts = map_blocks(lambda lo, hi: lo + np.flatnonzero(mask(lo, hi)), n)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def map_districts[T](fn: Callable[[int, int], T], offsets: np.ndarray, min_rows: int | None = None) -> list[T]:
    """fn(a, b) for blocks of whole districts a..b (rows offsets[a]..offsets[b], people's rows
    being in district order), about equal in rows, one per thread (at most one per `min_rows`
    rows); the results in block order. Works for any groups of contiguous rows."""
    n_districts = offsets.shape[0] - 1
    edges = [0] + [int(np.searchsorted(offsets, hi)) for _, hi in blocks(int(offsets[-1]), 1, min_rows=min_rows)]
    edges[-1] = n_districts
    spans = [(a, b) for a, b in pairwise(edges) if b > a] or [(0, n_districts)]
    return _run(fn, spans)
