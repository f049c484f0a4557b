"""Small helpers shared by the mechanisms."""

from __future__ import annotations

import numpy as np

from simulation import parallel
from simulation.mechanisms import shared_kernels
from simulation.people import People


def running_average(avg: np.ndarray, x: np.ndarray, seen: bool, months: float) -> np.ndarray:
    """Fold this month's x into an exponential average over about `months` months (x itself the
    first time): how people and employers judge a market from its recent months."""
    return avg + (x - avg) / months if seen else x.copy()


def count_by(groups: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """How many rows in each group have mask set."""
    return shared_kernels.count_by(groups, mask, n_groups)


def sum_by(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of values by group (np.bincount's sums, bit for bit: the same additions in row order)."""
    return shared_kernels.sum_by(groups, values, n_groups)


def int_sum_by(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of integer values (open posts) by group, as int64."""
    return shared_kernels.int_sum_by(groups, values, n_groups)


def sum_by_sorted(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """`sum_by` for groups in non-decreasing order (searchers by market: a market's people are
    contiguous rows), spans of whole groups on threads. Each group's sum is still its own rows'
    in order, so the floats are the same."""
    if groups.shape[0] < parallel.MIN_BLOCK:  # one thread's work: no spans to find
        return shared_kernels.sum_by_sorted(groups, values, n_groups)
    offsets = np.searchsorted(groups, np.arange(n_groups + 1))

    def span(a: int, b: int) -> np.ndarray:
        lo, hi = offsets[a], offsets[b]
        return shared_kernels.sum_by_sorted(groups[lo:hi], values[lo:hi], n_groups)[a:b]

    return np.concatenate(parallel.map_districts(span, offsets))


def sum_contiguous(values: np.ndarray, offsets: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Sum of values by group when each group is a contiguous, non-empty block of rows.

    People's rows are ordered by district, so this is the fast way to total them by district.
    Float32 values (wages) are summed exactly in integers when they allow it, which gives numpy's
    float64 sum bit for bit without converting the whole array; otherwise numpy sums them.
    """
    if values.dtype == np.float32 and dtype is np.float64 and values.size:
        parts = parallel.map_districts(
            lambda a, b: shared_kernels.exact_block_sums(
                values[offsets[a] : offsets[b]], offsets[a : b + 1] - offsets[a], 2.0**16
            ),
            offsets,
        )
        if all(ok for ok, _ in parts):
            return np.concatenate([sums for _, sums in parts])
    return np.add.reduceat(values, offsets[:-1], dtype=dtype)


def claimant_rows(people: People) -> np.ndarray:
    """Rows claiming a benefit (with a claimant group), in row order, a block of rows per thread."""
    return parallel.rows_where(shared_kernels.claiming, people.n, (people.group,))


def long_claimants(people: People, min_months: int, claimants: np.ndarray | None = None) -> np.ndarray:
    """Rows claiming, out of work for min_months or more and not on a placement, in row order:
    those whom employment-and-skills plans and placements take. `claimants` (rows claiming earlier
    this month, in row order) spares a scan of every row: since no one starts a claim between the
    month's providers and these mechanisms, they hold everyone still claiming, and those who have
    since stopped (hired) are filtered out here."""
    rows = claimant_rows(people) if claimants is None else claimants

    def block(a: int, b: int) -> np.ndarray:
        return shared_kernels.long_claimants(
            rows[a:b], people.status, people.benefit, people.months_out, people.placement_months, min_months
        )

    parts = parallel.map_blocks(block, rows.size)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def stochastic_round(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Integers with expectation x, using one uniform per element (so common random numbers hold)."""
    return np.floor(x + u).astype(np.int64)


def pick_per_group(rows: np.ndarray, groups: np.ndarray, key: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """Up to quota[g] of `rows` from each group g (groups[i] is row i's group), lowest key first.

    With a per-row random key this is a fair draw whose picks are nested: a larger quota picks a
    superset, so common random numbers hold. Keys are uniforms in [0, 1). Returns the picked rows
    ordered by group, then key.
    """
    keep = likely_lowest(groups, key, quota)
    if keep is not None:
        rows, groups, key = rows[keep], groups[keep], key[keep]
    order = sort_by_group_then_key(groups, key)
    rows, groups = rows[order], groups[order]
    return rows[rank_within_sorted_groups(groups) < quota[groups]]


def sort_by_group_then_key(groups: np.ndarray, key: np.ndarray) -> np.ndarray:
    """The permutation np.lexsort((key, groups)) gives (by group, then key, then position), faster:
    when there are few groups of many elements, a stable sort by group (numpy's radix sort, for
    16-bit ids such as markets), then each group's keys sorted on its own, the groups shared out
    over threads (numpy's sorts release the GIL, and small sorts
    are cheaper than one large one)."""
    if groups.size < LEXSORT_BELOW:  # numpy's lexsort in one call: twice as fast at these sizes
        return np.lexsort((key, groups))
    if groups.size < SORT_BLOCK or int(groups.max()) + 1 > groups.size // MIN_GROUP_SIZE:
        # Small, or many small groups (a Python step per group would cost more than it saves).
        order = _sort_keys(key)
        return order[np.argsort(groups[order], kind="stable")]
    order = np.argsort(groups, kind="stable")
    edges = np.flatnonzero(np.diff(groups[order])) + 1
    starts = np.concatenate([[0], edges]).astype(np.int64)
    ends = np.concatenate([edges, [groups.size]]).astype(np.int64)

    def span(a: int, b: int) -> None:
        for s, e in zip(starts[a:b].tolist(), ends[a:b].tolist(), strict=True):
            rows = order[s:e]
            order[s:e] = rows[_sort_keys(key[rows])]

    parallel.map_districts(span, np.concatenate([starts, [groups.size]]), min_rows=SORT_BLOCK)
    return order


LEXSORT_BELOW = 1 << 12  # elements below which np.lexsort is faster (it is slower from about 8,000)
SORT_BLOCK = 1 << 15  # elements below which the groups are sorted in one go on the calling thread
MIN_GROUP_SIZE = 256  # elements per possible group (0..max) below which, too, they are sorted in one go


def _sort_keys(key: np.ndarray) -> np.ndarray:
    """np.argsort(key, kind="stable"), faster: numpy's vectorised sort, which is not stable, redone
    stably only if two keys are equal (ties then stay in position order)."""
    order = np.argsort(key)
    sorted_key = key[order]
    if (sorted_key[1:] == sorted_key[:-1]).any():
        order = np.argsort(key, kind="stable")
    return order


def likely_lowest(groups: np.ndarray, key: np.ndarray, quota: np.ndarray) -> np.ndarray | None:
    """A mask of elements that surely includes each group's quota[g] lowest keys, and few others,
    so that only those need sorting (None: keep everything).

    Keys in [0, 1) below a group's threshold (a few standard deviations above quota / size) are
    kept; a group with fewer than quota kept keeps all its elements. The mask keeps every element
    below the threshold, so the lowest quota[g] are among them, in their original order: sorting
    what is kept gives exactly what sorting everything would.
    """
    if groups.size < 4096:
        return None
    n_groups = quota.shape[0]
    size = np.bincount(groups, minlength=n_groups)
    want = np.minimum(np.maximum(quota, 0), size).astype(np.float64)
    threshold = np.where(want > 0, (want + 4.0 * np.sqrt(want) + 8.0) / np.maximum(size, 1), 0.0)
    if (threshold[size > 0] >= 1.0).all():
        return None
    keep = key < threshold[groups]
    short = np.bincount(groups[keep], minlength=n_groups) < want
    if short.any():
        keep |= short[groups]
    return keep


def rank_within_sorted_groups(sorted_groups: np.ndarray) -> np.ndarray:
    """For an array of group ids already sorted, each element's position within its group."""
    return shared_kernels.rank_in_runs(sorted_groups)


def employed_at(
    status: np.ndarray, employer: np.ndarray, flag_a: np.ndarray, count_a: int, flag_b: np.ndarray, count_b: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the employed whose employer has flag_a set, and of those whose employer has
    flag_b set (a firm has at most one), each in row order; count_a and count_b are the flagged
    firms' headcounts, which must equal how many rows are found."""

    def block(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = shared_kernels.employed_at(status[lo:hi], employer[lo:hi], flag_a, count_a, flag_b, count_b)
        return lo + a, lo + b

    a, b = parallel.join(parallel.map_blocks(block, status.shape[0]))
    if a.shape[0] != count_a or b.shape[0] != count_b:
        raise ValueError("firm headcounts differ from the people employed there")
    return a, b
