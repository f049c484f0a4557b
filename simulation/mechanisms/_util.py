"""Small helpers shared by the mechanisms."""

from __future__ import annotations

import numpy as np

from simulation.mechanisms import _kernels


def count_by(groups: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """How many rows in each group have mask set."""
    return _kernels.count_by(groups, mask, n_groups)


def sum_by(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of values by group."""
    return np.bincount(groups, weights=values, minlength=n_groups)


def sum_contiguous(values: np.ndarray, offsets: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Sum of values by group when each group is a contiguous, non-empty block of rows.

    People's rows are ordered by district, so this is the fast way to total them by district.
    """
    return np.add.reduceat(values, offsets[:-1], dtype=dtype)


def stochastic_round(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Integers with expectation x, using one uniform per element (so common random numbers hold)."""
    return np.floor(x + u).astype(np.int64)


def pick_per_group(rows: np.ndarray, groups: np.ndarray, key: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """Up to quota[g] of `rows` from each group g (groups[i] is row i's group), lowest key first.

    With a per-row random key this is a fair draw whose picks are nested: a larger quota picks a
    superset, so common random numbers hold.
    """
    order = np.lexsort((key, groups))
    rows, groups = rows[order], groups[order]
    return rows[rank_within_sorted_groups(groups) < quota[groups]]


def rank_within_sorted_groups(sorted_groups: np.ndarray) -> np.ndarray:
    """For an array of group ids already sorted, each element's position within its group."""
    n = sorted_groups.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    return np.arange(n, dtype=np.int64) - first
