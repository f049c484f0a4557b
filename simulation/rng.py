"""Common random numbers: one reproducible stream per (decision, month).

Every random decision in the model has a name ("separation", "search", ...). Its draws for a
given month come from a generator seeded by (run seed, stable hash of the name, month), so:

- adding a new decision never shifts another decision's draws;
- what one arm of a comparison consumed earlier cannot shift the other arm's draws;
- draws are by slot: a stream draws one number per row and row *i* always reads the *i*-th,
  so a person whose probability is the same in two arms gets the same outcome in both.

This follows Starsim's design (Klein et al. 2024, arXiv 2409.02086).

Decisions that touch only a few rows (who among the displaced moves job to job, which claimants
a placement picks) use `uniform_at`: a counter-based draw that hashes (seed, decision, month,
row) with splitmix64, so it has the same by-slot property at the cost of only the rows drawn.

How the streams are read does not change what they are: compiled loops read a stream's draws
row by row from any row (`table`, then `pcg64.step` and `pcg64.seek`: threads each read their own
rows, and a loop needing some rows' draws pays for those rows only), `uniform_rows` gives some
rows' draws without building the whole array, and `prefetch_normal` draws a normal stream early
on a thread of its own. Each gives the same numbers as `uniform` or `normal`.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from concurrent.futures import Future

import numba
import numpy as np

from simulation import parallel, pcg64
from simulation.parallel import DRAW_THREAD

PREFETCH_MIN = 1 << 17  # normals below which `prefetch_normal` leaves the draw to when it is read

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (uint64 arithmetic wraps, as intended): of arrays with numpy, and
    of one number compiled as `_mix`."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


_mix = numba.njit(cache=True, nogil=True)(_splitmix64)


@numba.njit(cache=True, nogil=True)
def _uniform_at(rows: np.ndarray, pre_key: np.uint64) -> np.ndarray:
    """`_splitmix64(rows * golden + key)` with key = `_splitmix64(pre_key)`, as uniforms in
    [0, 1), in one pass."""
    out = np.empty(rows.shape[0], dtype=np.float64)
    golden = np.uint64(0x9E3779B97F4A7C15)
    key = _mix(pre_key)
    for i in range(rows.shape[0]):
        out[i] = np.float64(_mix(np.uint64(rows[i]) * golden + key) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return out


@functools.cache
def stable_hash(name: str) -> int:
    """A 32-bit hash of a decision's name that is the same on every machine and Python run."""
    return int.from_bytes(hashlib.blake2s(name.encode("utf-8"), digest_size=4).digest(), "little")


class Streams:
    """Hands out slot-indexed random draws for named decisions, keyed by month."""

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError("seed must be a non-negative integer")
        self.seed = int(seed)
        self._entropy = pcg64.entropy_words(self.seed)  # what numpy's SeedSequence makes of it
        # This month's draws, so a decision read by several mechanisms is drawn once.
        self._cache: dict[tuple[str, str, int, int], np.ndarray] = {}
        self._cache_month: int | None = None
        self._pending: dict[tuple[str, str, int, int], Future[np.ndarray]] = {}  # normals being drawn

    def _roll(self, month: int) -> None:
        if month != self._cache_month:
            self._cache.clear()
            self._pending.clear()
            self._cache_month = month

    def _cached(self, kind: str, decision: str, month: int, n: int, cache: bool = True) -> np.ndarray:
        self._roll(month)
        key = (kind, decision, month, n)
        out = self._cache.get(key)
        if out is None and key in self._pending:
            out = self._pending.pop(key).result()
            if cache:
                self._cache[key] = out
        if out is None:
            if kind == "u":
                out = np.empty(n)
                tab = self.table(decision, month)
                parallel.map_blocks(lambda lo, hi: pcg64.fill(tab, lo, out[lo:hi]), n)
            else:  # normals take a varying number of raw draws each, so they cannot start mid-stream
                out = self.generator(decision, month).standard_normal(n, dtype=np.float64)
            out.flags.writeable = False
            if cache:
                self._cache[key] = out
        return out

    @staticmethod
    def _key(decision: str, month: int) -> tuple[int, int]:
        # Months may be negative during burn-in; shift so the spawn key stays non-negative.
        return (stable_hash(decision), int(month) + 1_000_000)

    def table(self, decision: str, month: int) -> np.ndarray:
        """The stream's starting state and jump table, for reading its draws inside a compiled
        loop (`pcg64.seek`, `pcg64.step`): the same numbers as `uniform`. Kept for the month."""
        self._roll(month)
        key = ("t", decision, month, 0)
        tab = self._cache.get(key)
        if tab is None:
            tab = pcg64.seeded_table(self._entropy, self._key(decision, month))
            self._cache[key] = tab
        return tab

    def generator(self, decision: str, month: int) -> np.random.Generator:
        key = self._key(decision, month)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))

    def uniform(self, decision: str, month: int, n: int, cache: bool = True) -> np.ndarray:
        """n uniforms in [0, 1); row i's draw does not depend on n beyond i. Read-only.
        With cache=False the draws are not kept for other readers this month (saves memory
        for draws read once, such as the starting population's)."""
        return self._cached("u", decision, month, n, cache)

    def uniform_rows(self, decision: str, month: int, rows: np.ndarray) -> np.ndarray:
        """uniform(decision, month, n)[rows] for rows in increasing order (n past the last),
        without the whole array: the cost is that of these rows, not of every row before the last
        (`pcg64.seek`). For a stream of which a month reads some rows once (each firm's post
        offset in a fill)."""
        return pcg64.rows(self.table(decision, month), np.asarray(rows, dtype=np.int64))

    def uniform_at(self, decision: str, month: int, rows: np.ndarray) -> np.ndarray:
        """Uniforms in [0, 1) for the given rows only: row i always gets the same number for
        this (seed, decision, month), whichever other rows are asked for."""
        pre_key = ((stable_hash(decision) << 32) | ((int(month) + 1_000_000) & 0xFFFFFFFF)) ^ (
            self.seed * 0x2545F4914F6CDD1D % 2**64
        )
        return _uniform_at(np.asarray(rows, dtype=np.int64), np.uint64(pre_key))

    def normal(self, decision: str, month: int, n: int, cache: bool = True) -> np.ndarray:
        """n standard normal draws, slot-indexed like `uniform`. Read-only."""
        return self._cached("n", decision, month, n, cache)

    def prefetch_normal(self, decision: str, month: int, n: int) -> None:
        """Start drawing `normal(decision, month, n)` on a thread of its own, so that a later call
        finds it drawn (the same numbers: the draw is the same, only earlier). A normal stream
        cannot be split into blocks, but numpy draws it without the GIL, so it is drawn while the
        month's other work goes on. The thread ends with its draw (none is kept: a process with
        no other thread can fork its workers, `executors.LocalExecutor`)."""
        self._roll(month)
        key = ("n", decision, month, n)
        if n < PREFETCH_MIN or key in self._cache or key in self._pending:
            return  # (small draws cost less than starting a thread)
        future: Future[np.ndarray] = Future()

        def draw() -> None:
            try:
                out = self.generator(decision, month).standard_normal(n, dtype=np.float64)
                out.flags.writeable = False
                future.set_result(out)
            except BaseException as e:  # handed to whoever reads the draw
                future.set_exception(e)

        threading.Thread(target=draw, name=DRAW_THREAD, daemon=True).start()
        self._pending[key] = future
