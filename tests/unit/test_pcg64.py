"""The compiled PCG64 (`simulation.pcg64`) gives numpy's own draws, at any row and from any row.

Every kernel that reads a stream row by row relies on this: a draw that differed from numpy's in
one bit would change a result without any test of the model noticing at once.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import pcg64
from simulation.rng import Streams

seeds = st.integers(0, 2**63)
spawn_keys = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))


def _bit_generator(seed: int, key: tuple[int, int]) -> np.random.PCG64:
    return np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key))


@given(seed=seeds, key=spawn_keys, first=st.integers(0, 3000), n=st.integers(0, 700))
@settings(max_examples=60, deadline=None)
def test_fill_from_any_row_is_numpys_stream(seed: int, key: tuple[int, int], first: int, n: int) -> None:
    want = np.random.Generator(_bit_generator(seed, key)).random(first + n)[first:]
    out = np.full(n, np.nan)
    pcg64.fill(pcg64.table(_bit_generator(seed, key)), first, out)
    np.testing.assert_array_equal(out, want)


@given(
    seed=seeds,
    key=spawn_keys,
    gaps=st.lists(st.one_of(st.integers(0, 70), st.integers(0, 5000)), min_size=0, max_size=200),
)
@settings(max_examples=60, deadline=None)
def test_rows_read_at_any_gaps_are_numpys_draws(seed: int, key: tuple[int, int], gaps: list[int]) -> None:
    """Short jumps (one table row), long ones (powers of two, then a short one), re-reading a row
    (gap 0) and the jump at 64 rows exactly all land on numpy's draw of the row."""
    rows = np.cumsum(np.array(gaps, dtype=np.int64))
    n = int(rows[-1]) + 1 if rows.size else 0
    want = np.random.Generator(_bit_generator(seed, key)).random(n)[rows]
    np.testing.assert_array_equal(pcg64.rows(pcg64.table(_bit_generator(seed, key)), rows), want)


@given(seed=st.one_of(seeds, st.integers(0, 2**200)), key=spawn_keys)
@settings(max_examples=200, deadline=None)
def test_seeding_is_numpys_seed_sequence(seed: int, key: tuple[int, int]) -> None:
    """The compiled SeedSequence and PCG64 seeding give numpy's starting state and increment, so
    the whole table, for seeds of one to seven 32-bit words (longer than the pool, too)."""
    np.testing.assert_array_equal(
        pcg64.seeded_table(pcg64.entropy_words(seed), key), pcg64.table(_bit_generator(seed, key))
    )


@pytest.mark.parametrize("key", [(), (5,), (1, 2, 3)])
def test_seeding_with_other_key_lengths(key: tuple[int, ...]) -> None:
    for seed in (0, 1, 2**32, 2**130 + 3):
        np.testing.assert_array_equal(
            pcg64.seeded_table(pcg64.entropy_words(seed), key), pcg64.table(_bit_generator(seed, key))
        )


@pytest.mark.parametrize("far", [64, 65, 127, 128, 10**6 + 3, 2**40 + 17, 2**62 + 5])
def test_a_far_row_is_numpys_draw_after_advance(far: int) -> None:
    """Rows beyond any array numpy could fill here: numpy's `advance` is the reference."""
    bg = _bit_generator(7, (3, 4))
    tab = pcg64.table(bg)
    bg.advance(far)
    want = np.random.Generator(bg).random(2)
    np.testing.assert_array_equal(pcg64.rows(tab, np.array([far, far + 1])), want)


def test_reading_backwards_is_refused() -> None:
    tab = pcg64.table(_bit_generator(1, (1, 1)))
    with pytest.raises(ValueError, match="increasing"):
        pcg64.rows(tab, np.array([10, 9]))


@numba.njit
def _two_streams_by_step(tab_a: np.ndarray, tab_b: np.ndarray, n: int) -> np.ndarray:
    """How a kernel reads two streams on every row: step both after reading."""
    out = np.empty((2, n))
    ah, al, ap = pcg64.start(tab_a)
    ah, al, ap = pcg64.seek(tab_a, ah, al, ap, 0)
    bh, bl, bp = pcg64.start(tab_b)
    bh, bl, bp = pcg64.seek(tab_b, bh, bl, bp, 0)
    for i in range(n):
        out[0, i], out[1, i] = pcg64.uniform(ah, al), pcg64.uniform(bh, bl)
        ah, al = pcg64.step(tab_a, ah, al)
        bh, bl = pcg64.step(tab_b, bh, bl)
    return out


def test_streams_read_by_step_are_the_streams_own() -> None:
    s = Streams(11)
    out = _two_streams_by_step(s.table("participation", 5), s.table("ill_health", 5), 5000)
    np.testing.assert_array_equal(out[0], s.uniform("participation", 5, 5000))
    np.testing.assert_array_equal(out[1], s.uniform("ill_health", 5, 5000))
    # ... and each is the stream numpy's generator gives for the decision and month.
    np.testing.assert_array_equal(out[0], s.generator("participation", 5).random(5000))
