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

Normals are made from the uniform stream by the Box-Muller transform (Box and Muller 1958), with
this project's own log, sine and cosine (`detmath`): rows 2j and 2j + 1 are sqrt(-2 log(1 - u))
times the cosine and the sine of the turn fraction v, where u and v are the stream's uniforms of
rows 2j and 2j + 1. So a normal stream is read by slot like a uniform one (any rows, in blocks on
threads), and its numbers are the same on every machine (numpy's ziggurat calls the C library's
exp, whose last bit depends on the CPU).

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

from simulation import detmath, parallel, pcg64
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


@numba.njit(cache=True, nogil=True)
def _box_muller(tab: np.ndarray, hi: np.uint64, lo: np.uint64) -> tuple[float, float, np.uint64, np.uint64]:
    """The pair of normals whose first uniform is this state's: (cos normal, sin normal, state
    of the pair's second row)."""
    u = pcg64.uniform(hi, lo)
    hi, lo = pcg64.step(tab, hi, lo)
    radius = np.sqrt(-2.0 * detmath.log(1.0 - u))  # 1 - u is exact (u is a multiple of 2^-53), in (0, 1]
    s, c = detmath.sin_cos_turns(pcg64.uniform(hi, lo))
    return radius * c, radius * s, hi, lo


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _box_muller_pairs(u: np.ndarray, z: np.ndarray, pairs: int) -> None:
    """z[2j], z[2j + 1] = the pair of normals of the uniforms u[2j], u[2j + 1], for j < pairs: the
    arithmetic of `_box_muller`, in a loop that is vectorised (detmath's log and sines have no
    branches)."""
    for j in range(pairs):
        radius = np.sqrt(-2.0 * detmath.log(1.0 - u[2 * j]))
        s, c = detmath.sin_cos_turns(u[2 * j + 1])
        z[2 * j] = radius * c
        z[2 * j + 1] = radius * s


NORMAL_PAIRS_PER_PASS = 2048  # uniforms, then their normals, a pass at a time (in cache)


@numba.njit(cache=True, nogil=True)
def normal_fill(tab: np.ndarray, first: int, out: np.ndarray) -> None:
    """out[k] = the normal of row first + k: Box-Muller of the uniform rows 2j, 2j + 1 for the
    pair j = row // 2 (the cosine's for even rows, the sine's for odd ones). The stream's
    uniforms are read in order (a chain of steps), then turned into normals in a separate loop."""
    n = out.shape[0]
    if n == 0:
        return
    pair, last = first >> 1, (first + n - 1) >> 1
    u = np.empty(2 * NORMAL_PAIRS_PER_PASS)
    z = np.empty(2 * NORMAL_PAIRS_PER_PASS)
    hi, lo, pos = pcg64.start(tab)
    hi, lo, pos = pcg64.seek(tab, hi, lo, pos, 2 * pair)
    u[0] = pcg64.uniform(hi, lo)
    i = 1
    while pair <= last:
        m = min(NORMAL_PAIRS_PER_PASS, last - pair + 1)
        while i < 2 * m:
            hi, lo = pcg64.step(tab, hi, lo)
            u[i] = pcg64.uniform(hi, lo)
            i += 1
        _box_muller_pairs(u, z, m)
        a, b = max(2 * pair, first), min(2 * (pair + m), first + n)
        out[a - first : b - first] = z[a - 2 * pair : b - 2 * pair]
        pair += m
        i = 0


@numba.njit(cache=True, nogil=True)
def normal_rows(tab: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The normals of the rows `at` (in increasing order), paying only for those rows' pairs."""
    out = np.empty(at.shape[0])
    hi, lo, pos = pcg64.start(tab)
    last = -1
    even = odd = 0.0
    for k in range(at.shape[0]):
        pair = at[k] >> 1
        if pair != last:
            hi, lo, pos = pcg64.seek(tab, hi, lo, pos, 2 * pair)
            even, odd, hi, lo = _box_muller(tab, hi, lo)
            pos += np.uint64(1)
            last = pair
        out[k] = odd if at[k] & 1 else even
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
            else:
                out = self._draw_normal(decision, month, n)
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

    def _draw_normal(self, decision: str, month: int, n: int) -> np.ndarray:
        out = np.empty(n)
        tab = self.table(decision, month)
        parallel.map_blocks(lambda lo, hi: normal_fill(tab, lo, out[lo:hi]), n)
        return out

    def normal_block(self, decision: str, month: int, first: int, n: int) -> np.ndarray:
        """normal(decision, month, first + n)[first:], without the rows before `first`."""
        out = np.empty(n)
        normal_fill(self.table(decision, month), first, out)
        return out

    def normal_rows(self, decision: str, month: int, rows: np.ndarray) -> np.ndarray:
        """normal(decision, month, n)[rows] for rows in increasing order, paying for these rows only."""
        return normal_rows(self.table(decision, month), np.asarray(rows, dtype=np.int64))

    def normal(self, decision: str, month: int, n: int, cache: bool = True) -> np.ndarray:
        """n standard normal draws, slot-indexed like `uniform`. Read-only."""
        return self._cached("n", decision, month, n, cache)

    def prefetch_normal(self, decision: str, month: int, n: int) -> None:
        """Start drawing `normal(decision, month, n)` on a thread of its own, so that a later call
        finds it drawn (the same numbers: the draw is the same, only earlier). The compiled draw
        releases the GIL, so it is drawn in one block while the month's other work goes on. The
        thread ends with its draw (none is kept: a process with no other thread can fork its
        workers, `executors.LocalExecutor`)."""
        self._roll(month)
        key = ("n", decision, month, n)
        if n < PREFETCH_MIN or key in self._cache or key in self._pending:
            return  # (small draws cost less than starting a thread)
        tab = self.table(decision, month)  # made here: the cache is not shared with the thread
        future: Future[np.ndarray] = Future()

        def draw() -> None:
            try:
                out = np.empty(n)
                normal_fill(tab, 0, out)
                out.flags.writeable = False
                future.set_result(out)
            except BaseException as e:  # handed to whoever reads the draw
                future.set_exception(e)

        threading.Thread(target=draw, name=DRAW_THREAD, daemon=True).start()
        self._pending[key] = future
