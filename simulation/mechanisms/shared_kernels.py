"""Compiled passes that several mechanisms share: counting and summing people or firms by group,
listing the rows that claim a benefit or have been out of work long enough for help, choosing the
lowest random keys in each group (who is laid off, which firms a hub takes on), changing firms'
headcounts, and the benefit claim a person starts or ends when their status changes.

The mechanisms' own passes live beside them (`participation_kernels`, `separations_kernels`,
`matching_kernels`, `business_kernels`, `providers_kernels`, `skills_kernels`,
`accounts_kernels`; `simulation.outcomes_kernels` for the cohort counts). What every one of them
keeps to:

- Each pass does a mechanism's per-row work in one loop with no temporaries, where numpy would
  make a pass over every row and a temporary array for each operation.
- Random numbers are made as the loop goes (`simulation.pcg64`: numpy's PCG64 recurrence, stepped
  row by row, or jumped to the rows that need a draw), so row i still reads the i-th number of its
  (decision, month) stream, and every draw, and so every result, is bit-identical to the plain
  numpy rule the pass replaces (tests/model/test_golden.py, tests/unit/test_kernels_reference.py).
- Only comparisons and +, -, *, / are used (exact IEEE operations); exp, power and the like stay
  in numpy, whose vectorised versions round differently from numba's.
- Passes with many arrays take them as named tuples (`typing.NamedTuple`, which numba compiles as
  a struct of arrays) whose fields are named as `People`'s or `Firms`' fields, so a call reads by
  name; `.of(people)` picks those fields (views: what the pass writes lands in the people's own
  arrays).

Status, benefit and group codes restate those of `simulation.people` (numba reads a module's
constants when it compiles; tests/model/test_golden.py checks that they agree). Compiled code is cached
on disk and checked against each kernel's own file only: a change here to a function that another
module's kernels call (`claim_group`, `draw_claim`) needs `make clean` (or removing
simulation's __pycache__ folders) so that they are compiled afresh.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from simulation import pcg64

EMPLOYED, UNEMPLOYED, INACTIVE = 0, 1, 2
NO_BENEFIT, JSA, ESA = 0, 1, 2
NO_GROUP, JSA_18_24, JSA_25_PLUS, ESA_NEW, JSA_EARLY_ACCESS, ESA_VOLUNTEER = 0, 1, 2, 4, 6, 7
NOT_ELIGIBLE, NO_PROGRAMME = -32768, -1

jit = numba.njit(cache=True, nogil=True)

SELECT_MAX = 8  # `lowest_per_group` picks up to this many by repeated minimum, more by a sort


_getters: dict[type, Callable[[Any], tuple]] = {}


def fields_of[T: tuple](cls: type[T], source: Any) -> T:
    """The named tuple `cls` of the attributes of `source` named as its fields (the arrays
    themselves, not copies). Made every month for each pass that takes one, so the fields are
    read by one `attrgetter` per class."""
    get = _getters.get(cls)
    if get is None:
        get = _getters[cls] = operator.attrgetter(*cls._fields)  # type: ignore[attr-defined]
    return cls._make(get(source))  # type: ignore[attr-defined]


@jit
def claim_group(benefit: int, age: int) -> int:
    """The claimant group of someone of this age claiming `benefit`. (Scalars in and out: a
    compiled function of another module is called, not inlined, and arrays passed to it would be
    reference-counted on every call.)"""
    if benefit == JSA:
        return JSA_18_24 if age < 25 else JSA_25_PLUS
    return ESA_NEW if benefit == ESA else NO_GROUP


@jit
def draw_claim(tab: np.ndarray, hi: np.uint64, lo: np.uint64, pos: np.uint64, row: int, take_up: float) -> tuple:
    """Whether row `row` takes up a claim (its draw in the claim stream below take_up), and the
    stream's new state: (claims, hi, lo, pos). Read only for the rows that might claim."""
    hi, lo, pos = pcg64.seek(tab, hi, lo, pos, row)
    return pcg64.uniform(hi, lo) < take_up, hi, lo, pos


@jit
def count_by(groups: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """How many rows in each group have mask set (one pass, no index array)."""
    out = np.zeros(n_groups, dtype=np.int64)
    for i in range(mask.shape[0]):
        if mask[i]:
            out[groups[i]] += 1
    return out


@jit
def int_sum_by(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Integer sums of integer values by group: what np.bincount(groups, weights=values) gives
    as int64 (its float sums are exact below 2**53), without converting both to temporaries."""
    out = np.zeros(n_groups, dtype=np.int64)
    for i in range(groups.shape[0]):
        out[groups[i]] += values[i]
    return out


@jit
def sum_by(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """np.bincount(groups, weights=values, minlength=n_groups): the same additions in the same
    (row) order, so the same sums, without converting the groups to a temporary index array."""
    out = np.zeros(n_groups, dtype=np.float64)
    for i in range(groups.shape[0]):
        out[groups[i]] += values[i]
    return out


@jit
def sum_by_sorted(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """`sum_by` for groups in non-decreasing order: each group's run is added up in a register
    and stored once (the same additions in the same order, from 0.0, so the same sums). Adding
    into memory row by row would make each addition wait on the last one's store."""
    out = np.zeros(n_groups, dtype=np.float64)
    if groups.shape[0] == 0:
        return out
    g = groups[0]
    acc = 0.0
    for i in range(groups.shape[0]):
        if groups[i] != g:  # the run of g ends (rarely: predicted)
            out[g] = acc
            g = groups[i]
            acc = 0.0
        acc += values[i]
    out[g] = acc
    return out


@jit
def exact_block_sums(values: np.ndarray, offsets: np.ndarray, scale: float) -> tuple[bool, np.ndarray]:
    """Sums of non-negative values over the blocks offsets[d]:offsets[d+1], done exactly in
    integers: possible when every value is a whole multiple of 1 / scale and every sum stays below
    2^53 / scale. Then every partial sum in any order is exact, so the result equals numpy's
    (pairwise) float64 sum bit for bit. Returns (False, ...) when that does not hold."""
    nd = offsets.shape[0] - 1
    out = np.zeros(nd, dtype=np.float64)
    limit = 2.0**53
    for d in range(nd):
        total = 0
        bad = False
        block = values[offsets[d] : offsets[d + 1]]
        # The test is folded in with | and checked once per block: a branch inside the loop
        # would keep it from vectorising.
        for i in range(block.shape[0]):
            x = np.float64(block[i]) * scale
            k = np.int64(x)
            bad |= (x < 0.0) | (np.float64(k) != x)
            total += k
        if bad or np.float64(total) >= limit:
            return False, out
        out[d] = np.float64(total) / scale
    return True, out


@jit
def rank_in_runs(sorted_groups: np.ndarray) -> np.ndarray:
    """Each element's position within its run of equal values (its group, once sorted)."""
    n = sorted_groups.shape[0]
    out = np.empty(n, dtype=np.int64)
    r = 0
    for i in range(n):
        r = r + 1 if i > 0 and sorted_groups[i] == sorted_groups[i - 1] else 0
        out[i] = r
    return out


@jit
def lowest_per_group(groups: np.ndarray, key: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """A mask of the elements that are among the quota[g] lowest keys of their group g (ties go to
    the earlier element): `pick_per_group`'s choice, as a mask in the elements' own order. For
    many small groups, where sorting every element by (group, key) would cost more."""
    n, n_groups = groups.shape[0], quota.shape[0]
    start = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        start[groups[i] + 1] += 1
    for g in range(n_groups):
        start[g + 1] += start[g]
    fill = start[:-1].copy()
    order = np.empty(n, dtype=np.int64)  # elements grouped, in their own order within a group
    okey = np.empty(n, dtype=key.dtype)  # their keys, in that order (read contiguously below)
    for i in range(n):
        order[fill[groups[i]]] = i
        okey[fill[groups[i]]] = key[i]
        fill[groups[i]] += 1
    keep = np.zeros(n, dtype=np.bool_)
    taken = np.zeros(n, dtype=np.bool_)  # in grouped order
    for g in range(n_groups):
        s, e, q = start[g], start[g + 1], quota[g]
        if q <= 0:
            continue
        if e - s <= q:
            for t in range(s, e):
                keep[order[t]] = True
            continue
        if q <= SELECT_MAX:
            # A few picks (firms shed one or two workers): pick the lowest key left, q times,
            # the earlier element on ties, which is the stable sort's first q without sorting.
            k, took = okey[s:e], taken[s:e]
            for _ in range(q):
                best = -1
                for t in range(k.shape[0]):
                    if not took[t] and (best < 0 or k[t] < k[best]):
                        best = t
                took[best] = True
                keep[order[s + best]] = True
            continue
        members = order[s:e]
        ranked = np.argsort(okey[s:e], kind="mergesort")  # stable: ties stay in element order
        for t in range(q):
            keep[members[ranked[t]]] = True
    return keep


@jit
def merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted union of two sorted arrays of distinct values (what np.union1d gives)."""
    out = np.empty(a.shape[0] + b.shape[0], dtype=np.int64)
    i = j = k = 0
    while i < a.shape[0] or j < b.shape[0]:
        if j == b.shape[0] or (i < a.shape[0] and a[i] < b[j]):
            out[k] = a[i]
            i += 1
        elif i == a.shape[0] or b[j] < a[i]:
            out[k] = b[j]
            j += 1
        else:  # in both
            out[k] = a[i]
            i += 1
            j += 1
        k += 1
    return out[:k].copy()


@jit
def add_at(a: np.ndarray, index: np.ndarray, delta: int) -> None:
    """a[index[k]] += delta for each k, repeats adding up (np.add.at): a firm's headcount change
    from a list of hires or leavers, without a count array over every firm row."""
    for j in index:
        a[j] += delta


@jit
def claiming(group: np.ndarray) -> np.ndarray:
    """Rows with a claimant group (claiming a benefit), in row order. Counted first, so nothing
    the size of the population is allocated."""
    k = 0
    for i in range(group.shape[0]):
        k += group[i] != NO_GROUP
    out = np.empty(k + 1, dtype=np.int64)  # one spare slot: every row is written, kept if it claims
    k = 0
    for i in range(group.shape[0]):
        out[k] = i
        k += group[i] != NO_GROUP
    return out[:k]


@jit
def long_claimants(
    rows: np.ndarray,
    status: np.ndarray,
    benefit: np.ndarray,
    months: np.ndarray,
    placement: np.ndarray,
    min_months: int,
) -> np.ndarray:
    """Of `rows`, those claiming, out of work for min_months or more and not on a placement, in
    the same order. (The tests are combined with & rather than `and`: no branches to mispredict.)"""
    out = np.empty(rows.shape[0] + 1, dtype=np.int64)  # one spare slot: each row written, kept if it qualifies
    k = 0
    for j in range(rows.shape[0]):
        i = np.uint64(rows[j])  # unsigned: no wrap-around fix-up on the gathers
        out[k] = rows[j]
        k += (status[i] != EMPLOYED) & (benefit[i] != NO_BENEFIT) & (months[i] >= min_months) & (placement[i] == 0)
    return out[:k]


@jit
def employed_at(
    status: np.ndarray, employer: np.ndarray, flag_a: np.ndarray, count_a: int, flag_b: np.ndarray, count_b: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the employed whose employer has flag_a set, and of those whose employer has flag_b
    set (a firm has at most one), each in row order, in one pass; count_a and count_b bound how
    many there are (the flagged firms' headcounts), so the arrays are allocated once."""
    a = np.empty(count_a, dtype=np.int64)
    b = np.empty(count_b, dtype=np.int64)
    ka = kb = 0
    for i in range(status.shape[0]):
        # No branch on status (mixed row to row: it mispredicts); flagged firms are few, so the
        # branches on the flags predict well. Rows out of work (employer -1) read firm 0's flags
        # and are then excluded.
        j = max(employer[i], 0)
        employed = status[i] == EMPLOYED
        in_a = employed & flag_a[j]
        if in_a:
            a[ka] = i
            ka += 1
        elif employed & flag_b[j]:
            b[kb] = i
            kb += 1
    return a[:ka], b[:kb]
