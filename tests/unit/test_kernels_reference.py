"""Every compiled pass against a plain-numpy reference, on small random inputs (hypothesis).

Each `*_reference` function below is the rule a kernel implements, written as the plainest numpy:
whole-array masks and `np.add.at`/`np.bincount`, no loops over rows where numpy does without.
Each test runs the kernel and its reference on copies of the same random state and asserts that
every array either writes, and everything either returns, is the same to the bit (floats compared
as their bytes: the kernels promise bit-identical results, not close ones).

Kernels that draw random numbers (`participation`, `separations`, `release`, `search_candidates`)
read their streams inside the loop through `pcg64`'s jump tables (`Streams.table`); their
references read the very same streams as whole arrays (`Streams.uniform`), row i's draw at index
i, which is what makes the kernels' draws row-addressed. Rates are sometimes set exactly at some
row's draw, so the strict comparisons are tested on their boundary.

People's and firms' arrays are made with the dtypes of `People` and `Firms`, so the kernels run
their model signatures (compiled once, cached).
"""

from __future__ import annotations

import dataclasses
import itertools
from types import SimpleNamespace
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import outcomes_kernels
from simulation.firms import Firms
from simulation.mechanisms import (
    accounts_kernels,
    business_kernels,
    matching_kernels,
    participation_kernels,
    providers_kernels,
    separations_kernels,
    shared_kernels,
    skills_kernels,
)
from simulation.people import (
    EMPLOYED,
    ESA,
    ESA_NEW,
    ESA_VOLUNTEER,
    GROUP_NAMES,
    INACTIVE,
    JSA,
    JSA_18_24,
    JSA_25_PLUS,
    JSA_EARLY_ACCESS,
    NO_BENEFIT,
    NO_EMPLOYER,
    NO_GROUP,
    NO_PROGRAMME,
    NOT_ELIGIBLE,
    OFFICIAL_OUTCOME_MONTHS,
    SUSTAINED_MONTHS,
    UNEMPLOYED,
    People,
)
from simulation.rng import Streams

SEEDS = st.integers(0, 2**32 - 1)
N_DISTRICTS, N_FIRMS = 4, 25
QUICK = settings(max_examples=40, deadline=None)


def same(a: Any, b: Any) -> bool:
    """Equal to the bit: same dtype, shape and bytes (so -0.0 is not 0.0 and NaNs compare)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        assert same(got[key], want[key]), key


def person_arrays(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Every per-person field the kernels touch, with `People`'s dtypes, in every combination
    (rows in district order, as the model keeps them; the employed have an employer)."""
    status = rng.choice([EMPLOYED, UNEMPLOYED, INACTIVE], n).astype(np.int8)
    return {
        "status": status,
        "months_in_status": rng.integers(0, 40, n).astype(np.int16),
        "months_out": rng.integers(0, 40, n).astype(np.int16),
        "employability": rng.lognormal(-0.18, 0.6, n).astype(np.float32),
        "claim_propensity": rng.choice([0.0, 0.3, 0.45, 0.8, 1.0], n).astype(np.float32),
        "health_condition": rng.random(n) < 0.3,
        "fragile": rng.random(n) < 0.5,
        "benefit": rng.choice([NO_BENEFIT, JSA, ESA], n).astype(np.int8),
        "group": rng.integers(0, 6, n).astype(np.int8),
        "age": rng.integers(16, 65, n).astype(np.int8),
        "district": np.sort(rng.integers(0, N_DISTRICTS, n)).astype(np.int16),
        "employer": np.where(status == EMPLOYED, rng.integers(0, N_FIRMS, n), NO_EMPLOYER).astype(np.int32),
        "wage": (rng.random(n) * 3000).astype(np.float32),
        "work_months": rng.integers(0, 30, n).astype(np.int16),
        "skill": rng.normal(0.0, 1.0, n).astype(np.float32),
        "barrier": rng.uniform(0.0, 0.99, n).astype(np.float32),
        "support_hours": np.where(rng.random(n) < 0.4, rng.uniform(0.0, 12.0, n), 0.0).astype(np.float32),
        "placement_months": (rng.random(n) < 0.2).astype(np.int8) * 3,
        "mentor_months": (rng.random(n) < 0.3).astype(np.int8) * 2,
        "employer_contacts": rng.random(n) < 0.4,
        "programme": np.where(rng.random(n) < 0.4, rng.integers(0, N_DISTRICTS, n), NO_PROGRAMME).astype(np.int16),
        "months_in_programme": rng.integers(0, 30, n).astype(np.int16),
        "outcome_paid": rng.random(n) < 0.4,
        "sustain_paid": rng.integers(0, 25, n).astype(np.int16),
        "ever_referred": rng.random(n) < 0.3,
        "eligible_month": np.where(rng.random(n) < 0.5, NOT_ELIGIBLE, rng.integers(0, 8, n)).astype(np.int16),
        "eligible_group": rng.integers(0, len(GROUP_NAMES), n).astype(np.int8),
        "cohort_work": rng.integers(0, 8, n).astype(np.int16),
        "outcome_month": np.where(rng.random(n) < 0.7, NOT_ELIGIBLE, rng.integers(0, 8, n)).astype(np.int16),
        "sanction_months": np.where(rng.random(n) < 0.3, rng.integers(1, 4, n), 0).astype(np.int8),
    }


def copy(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in arrays.items()}


def rates_near(rng: np.random.Generator, draws: np.ndarray, k: int) -> list[float]:
    """k rates, each a fixed one or exactly some row's draw (the boundary a row may sit on)."""
    fixed = [0.0, 1e-3, 0.05, 0.3, 0.9]
    if draws.size == 0:
        return [float(rng.choice(fixed)) for _ in range(k)]
    return [
        float(rng.choice(fixed)) if rng.random() < 0.5 else float(draws[rng.integers(draws.size)]) for _ in range(k)
    ]


def claim_group_reference(benefit: np.ndarray, age: np.ndarray) -> np.ndarray:
    return np.select(
        [benefit == JSA, benefit == ESA], [np.where(age < 25, JSA_18_24, JSA_25_PLUS), ESA_NEW], NO_GROUP
    ).astype(np.int8)


# ---- shared_kernels


def test_claim_group_is_the_peoples_rule() -> None:
    for benefit in (NO_BENEFIT, JSA, ESA):
        for age in range(16, 65):
            want = claim_group_reference(np.array([benefit]), np.array([age]))[0]
            assert shared_kernels.claim_group(benefit, age) == want, (benefit, age)


def test_of_picks_the_peoples_own_arrays() -> None:
    """The named tuples' fields are `People`'s and `Firms`' own, and `.of` hands over the arrays
    themselves (views), or a pass's writes would be lost."""
    people_fields = {f.name for f in dataclasses.fields(People)}
    assert set(business_kernels.GrowingFirms._fields) <= {f.name for f in dataclasses.fields(Firms)}
    p = SimpleNamespace(**person_arrays(np.random.default_rng(0), 10))
    for cls in (
        participation_kernels.ParticipationPeople,
        participation_kernels.SchoolLeaverPeople,
        separations_kernels.SeparationPeople,
        matching_kernels.SearcherPeople,
        matching_kernels.HiredPeople,
        providers_kernels.ProgrammePeople,
        outcomes_kernels.CohortPeople,
    ):
        assert set(cls._fields) <= people_fields, cls.__name__
        picked = cls.of(p)
        assert all(getattr(picked, f) is getattr(p, f) for f in cls._fields), cls.__name__


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200), n_groups=st.integers(1, 9))
def test_counts_and_sums_by_group(seed: int, n: int, n_groups: int) -> None:
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n).astype(np.int16)
    mask = rng.random(n) < 0.5
    ints = rng.integers(0, 50, n).astype(np.int64)
    floats = rng.choice([0.0, -0.0, 1e-300, 1.0, 3.7e10], n) * rng.lognormal(0.0, 3.0, n)
    assert same(shared_kernels.count_by(groups, mask, n_groups), np.bincount(groups[mask], minlength=n_groups))
    want = np.zeros(n_groups, dtype=np.int64)
    np.add.at(want, groups, ints)
    assert same(shared_kernels.int_sum_by(groups, ints, n_groups), want)
    # (np.bincount gives integers when there is nothing to count, weights or not.)
    want_sums = np.bincount(groups, floats, minlength=n_groups).astype(np.float64)
    assert same(shared_kernels.sum_by(groups, floats, n_groups), want_sums)
    ordered = np.sort(groups)
    want_sums = np.bincount(ordered, floats, minlength=n_groups).astype(np.float64)
    assert same(shared_kernels.sum_by_sorted(ordered, floats, n_groups), want_sums)


def exact_block_sums_reference(values: np.ndarray, offsets: np.ndarray, scale: float) -> tuple[bool, np.ndarray]:
    x = values.astype(np.float64) * scale
    exact = bool(np.all((x >= 0) & (np.trunc(x) == x)))
    sums = np.array([values[a:b].sum(dtype=np.float64) for a, b in itertools.pairwise(offsets)])
    return exact and bool(np.all(sums * scale < 2.0**53)), sums


@QUICK
@given(seed=SEEDS, sizes=st.lists(st.integers(0, 40), min_size=1, max_size=8), inexact=st.booleans())
def test_exact_block_sums(seed: int, sizes: list[int], inexact: bool) -> None:
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    values = (rng.integers(0, 2**22, offsets[-1]) / 2.0**16).astype(np.float32)
    if inexact and values.size:
        values[rng.integers(values.size)] = rng.choice([np.float32(1 / 3), np.float32(-1.0), np.float32(2.0**-20)])
    ok, got = shared_kernels.exact_block_sums(values, offsets, 2.0**16)
    want_ok, want = exact_block_sums_reference(values, offsets, 2.0**16)
    assert ok == want_ok
    if ok:
        assert same(got, want)


@QUICK
@given(seed=SEEDS, n=st.integers(0, 120), n_groups=st.integers(1, 12))
def test_rank_in_runs(seed: int, n: int, n_groups: int) -> None:
    groups = np.sort(np.random.default_rng(seed).integers(0, n_groups, n))
    idx = np.arange(n)
    new_run = np.concatenate([[True], groups[1:] != groups[:-1]])[:n]
    want = idx - np.maximum.accumulate(np.where(new_run, idx, 0)) if n else idx
    assert same(shared_kernels.rank_in_runs(groups), want.astype(np.int64))


def lowest_per_group_reference(groups: np.ndarray, key: np.ndarray, quota: np.ndarray) -> np.ndarray:
    keep = np.zeros(groups.size, dtype=bool)
    for g, q in enumerate(quota):
        members = np.flatnonzero(groups == g)
        keep[members[np.argsort(key[members], kind="stable")][: max(int(q), 0)]] = True
    return keep


@QUICK
@given(seed=SEEDS, n=st.integers(0, 300), n_groups=st.integers(1, 12))
def test_lowest_per_group(seed: int, n: int, n_groups: int) -> None:
    """Quotas past SELECT_MAX take the sorting path; ties go to the earlier element."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n).astype(np.int64)
    key = rng.integers(0, 6, n) / 6.0  # many ties
    quota = rng.integers(-2, 2 * shared_kernels.SELECT_MAX, n_groups).astype(np.int64)
    assert same(shared_kernels.lowest_per_group(groups, key, quota), lowest_per_group_reference(groups, key, quota))


@QUICK
@given(seed=SEEDS, n=st.integers(0, 60))
def test_merge_add_at_and_row_lists(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    a = np.unique(rng.integers(0, 3 * n + 1, n)).astype(np.int64)
    b = np.unique(rng.integers(0, 3 * n + 1, n // 2)).astype(np.int64)
    assert same(shared_kernels.merge_sorted(a, b), np.union1d(a, b))
    size = rng.integers(0, 100, N_FIRMS).astype(np.int32)
    index = rng.integers(0, N_FIRMS, n).astype(np.int32)
    want = size.copy()
    np.add.at(want, index, -1)
    shared_kernels.add_at(size, index, -1)
    assert same(size, want)
    p = person_arrays(rng, n)
    assert same(shared_kernels.claiming(p["group"]), np.flatnonzero(p["group"] != NO_GROUP))
    rows = np.flatnonzero(rng.random(n) < 0.5).astype(np.int64)
    min_months = int(rng.integers(0, 20))
    s, b_, m, pl = p["status"], p["benefit"], p["months_in_status"], p["placement_months"]
    want_rows = rows[(s[rows] != EMPLOYED) & (b_[rows] != NO_BENEFIT) & (m[rows] >= min_months) & (pl[rows] == 0)]
    assert same(shared_kernels.long_claimants(rows, s, b_, m, pl, min_months), want_rows)


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200))
def test_employed_at(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    p = person_arrays(rng, n)
    flag = rng.integers(0, 3, N_FIRMS)  # a firm is flagged a, b or neither
    flag_a, flag_b = flag == 1, flag == 2
    employed = p["status"] == EMPLOYED
    firm = np.maximum(p["employer"], 0)
    want_a = np.flatnonzero(employed & flag_a[firm])
    want_b = np.flatnonzero(employed & flag_b[firm])
    got_a, got_b = shared_kernels.employed_at(p["status"], p["employer"], flag_a, want_a.size, flag_b, want_b.size)
    assert same(got_a, want_a) and same(got_b, want_b)


# ---- participation_kernels


def participation_reference(
    p: dict[str, np.ndarray],
    u: np.ndarray,
    u_ill: np.ndarray,
    u_claim: np.ndarray,
    rates: participation_kernels.ParticipationRates,
) -> tuple[np.ndarray, np.ndarray]:
    """`participation.step`'s rule on every row at once: (rows falling ill, counts by district)."""
    d = p["district"]
    s0, benefit0 = p["status"].copy(), p["benefit"].copy()
    counts = np.zeros((3, N_DISTRICTS), dtype=np.int64)
    to_i = (s0 == UNEMPLOYED) & (u < rates.exit_rate_ui[d])
    to_u = (s0 == INACTIVE) & (u < rates.entry_rate[d])
    p["status"][to_i], p["status"][to_u] = INACTIVE, UNEMPLOYED
    p["months_in_status"][to_i | to_u] = 0
    counts[0] += np.bincount(d[to_i], minlength=N_DISTRICTS)
    counts[1] += np.bincount(d[to_u], minlength=N_DISTRICTS)
    stop = to_i & (benefit0 == JSA)
    start = to_u & (benefit0 == NO_BENEFIT) & (u_claim < p["claim_propensity"])
    p["benefit"][stop], p["benefit"][start] = NO_BENEFIT, JSA
    changed = stop | start
    p["group"][changed] = claim_group_reference(p["benefit"][changed], p["age"][changed])
    ill = (s0 != EMPLOYED) & (benefit0 != ESA) & (u_ill < rates.esa_onflow[d])
    leaving_search = ill & (p["status"] == UNEMPLOYED)
    p["status"][leaving_search] = INACTIVE
    counts[0] += np.bincount(d[leaving_search], minlength=N_DISTRICTS)
    p["months_in_status"][ill] = 0
    p["benefit"][ill], p["group"][ill] = ESA, ESA_NEW
    p["health_condition"][ill] = True
    counts[2] += np.bincount(d[ill], minlength=N_DISTRICTS)
    return np.flatnonzero(ill), counts


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, n=st.integers(0, 2 * participation_kernels.PARTICIPATION_CHUNK + 50), cut=st.floats(0.0, 1.0))
def test_participation(seed: int, n: int, cut: float) -> None:
    """In two blocks split anywhere (chunk edges crossed): the same moves, claims and draws."""
    rng = np.random.default_rng(seed)
    streams, month = Streams(seed), 4
    u, u_ill = streams.uniform("participation", month, n), streams.uniform("ill_health", month, n)
    u_claim = streams.uniform("claim", month, n)
    rates = participation_kernels.ParticipationRates(
        exit_rate_ui=np.array(rates_near(rng, u, N_DISTRICTS)),
        entry_rate=np.array(rates_near(rng, u, N_DISTRICTS)),
        esa_onflow=np.array(rates_near(rng, u_ill, N_DISTRICTS)),
    )
    got = person_arrays(rng, n)
    at_draw = rng.random(n) < 0.2  # chances of claiming exactly at the row's draw: the boundary
    got["claim_propensity"][at_draw] = u_claim[at_draw].astype(np.float32)
    want = copy(got)
    counts = np.zeros((3, N_DISTRICTS), dtype=np.int64)
    tabs = [streams.table(name, month) for name in ("participation", "ill_health", "claim")]
    people = participation_kernels.ParticipationPeople.of(SimpleNamespace(**got))
    flows = participation_kernels.ParticipationFlows(*counts)
    k = int(cut * n)
    ill = np.concatenate(
        [participation_kernels.participation(lo, hi - lo, *tabs, people, rates, flows) for lo, hi in ((0, k), (k, n))]
    )
    want_ill, want_counts = participation_reference(want, u, u_ill, u_claim, rates)
    assert_same(got, want)
    assert same(ill, want_ill) and same(counts, want_counts)


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200))
def test_birthdays(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    age = rng.integers(16, 66, n).astype(np.int8)
    rows = np.sort(rng.choice(n, rng.integers(0, n + 1), replace=False)).astype(np.int64) if n else np.zeros(0, int)
    want = age.copy()
    want[rows] += 1
    at = participation_kernels.birthdays(age, rows, 65)
    assert same(age, want) and same(at, np.flatnonzero(want[rows] >= 65))


def school_leavers_reference(
    p: dict[str, np.ndarray], rows: np.ndarray, retirements: np.ndarray, firm_size: np.ndarray
) -> None:
    np.add.at(retirements, p["district"][rows], 1)
    working = rows[p["status"][rows] == EMPLOYED]
    np.add.at(firm_size, p["employer"][working], -1)
    p["age"][rows] = 16
    p["status"][rows] = INACTIVE
    p["employer"][rows] = NO_EMPLOYER
    p["wage"][rows] = 0.0
    p["benefit"][rows] = NO_BENEFIT
    p["programme"][rows] = NO_PROGRAMME
    p["outcome_paid"][rows] = p["ever_referred"][rows] = p["health_condition"][rows] = False
    for field in ("group", "eligible_group"):
        p[field][rows] = NO_GROUP
    for field in ("eligible_month", "outcome_month"):
        p[field][rows] = NOT_ELIGIBLE
    for field in (
        "months_in_status",
        "months_out",
        "placement_months",
        "mentor_months",
        "months_in_programme",
        "work_months",
        "sanction_months",
    ):
        p[field][rows] = 0
    for field in ("sustain_paid", "cohort_work"):
        p[field][rows] = 0


@QUICK
@given(seed=SEEDS, n=st.integers(0, 150), share=st.floats(0.0, 1.0))
def test_school_leavers(seed: int, n: int, share: float) -> None:
    rng = np.random.default_rng(seed)
    got = person_arrays(rng, n)
    want = copy(got)
    rows = rng.permutation(np.flatnonzero(rng.random(n) < share)).astype(np.int64)  # distinct, any order
    size = np.full(N_FIRMS, 500, dtype=np.int32)
    want_size = size.copy()
    retired = np.zeros(N_DISTRICTS, dtype=np.int64)
    want_retired = retired.copy()
    leavers = participation_kernels.SchoolLeaverPeople.of(SimpleNamespace(**got))
    participation_kernels.school_leavers(rows, leavers, retired, size)
    school_leavers_reference(want, rows, want_retired, want_size)
    assert_same(got, want)
    assert same(size, want_size) and same(retired, want_retired)


def count_months_reference(p: dict[str, np.ndarray], cap: int, link: int) -> None:
    """Months in status up by one (to cap); the spell out of work goes on while unemployed or
    claiming, and ends after `link` months in work or in inactivity off benefit."""
    m = p["months_in_status"]
    m[:] = np.where(m < cap, m + 1, m)
    s, out = p["status"], p["months_out"]
    held = (s == EMPLOYED) | ((s == INACTIVE) & (p["benefit"] == NO_BENEFIT))
    out[:] = np.where(held, np.where(m > link, 0, out), np.where(out < cap, out + 1, out))


@QUICK
@given(seed=SEEDS, n=st.integers(0, 100), cap=st.integers(0, 40), link=st.integers(0, 6))
def test_count_months(seed: int, n: int, cap: int, link: int) -> None:
    got = person_arrays(np.random.default_rng(seed), n)
    want = copy(got)
    participation_kernels.count_months(
        got["status"], got["benefit"], got["months_in_status"], got["months_out"], cap, link
    )
    count_months_reference(want, cap, link)
    assert_same(got, want)


# ---- separations_kernels


def claims_after_job_reference(
    p: dict[str, np.ndarray], leave: np.ndarray, to_u: np.ndarray, u_claim: np.ndarray, esa_return: float
) -> np.ndarray:
    """Status and benefit of those whose jobs end (`leave`, towards unemployment where `to_u`):
    back onto ESA (inactive) for those with a health condition whose draw is below esa_return;
    JSA for the unemployed whose draw is below their take-up (for those with a health condition,
    below esa_return + (1 - esa_return) * take-up). Returns who went back onto ESA."""
    health, prop = p["health_condition"], p["claim_propensity"].astype(np.float64)
    to_esa = leave & health & (u_claim < esa_return)
    threshold = np.where(health, esa_return + (1.0 - esa_return) * prop, prop)
    jsa = leave & to_u & ~to_esa & (u_claim < threshold)
    p["status"][leave] = np.where(to_u & ~to_esa, UNEMPLOYED, INACTIVE)[leave]
    p["benefit"][leave] = np.select([to_esa, jsa], [ESA, JSA], NO_BENEFIT)[leave]
    p["group"][leave] = claim_group_reference(p["benefit"][leave], p["age"][leave])
    return to_esa


def separations_reference(
    p: dict[str, np.ndarray],
    u: np.ndarray,
    u_claim: np.ndarray,
    rates: separations_kernels.SeparationRates,
    firm_size: np.ndarray,
) -> np.ndarray:
    """`separations.step`'s rule on every row at once; returns (e_to_u, e_to_i) by district."""
    d = p["district"]
    employed = p["status"] == EMPLOYED
    p["fragile"] &= employed & (p["months_in_status"] < rates.fragile_months)
    hazard = np.where(p["fragile"], rates.early_rate, rates.rate_eu[d])
    leave = employed & (u < hazard + rates.rate_ei)
    to_u = leave & (u < hazard)
    np.add.at(firm_size, p["employer"][leave], -1)
    p["employer"][leave], p["wage"][leave] = NO_EMPLOYER, 0.0
    to_esa = claims_after_job_reference(p, leave, to_u, u_claim, rates.esa_return)
    for field in ("months_in_status", "work_months"):
        p[field][leave] = 0
    to_u &= ~to_esa
    return np.stack([np.bincount(d[to_u], minlength=N_DISTRICTS), np.bincount(d[leave & ~to_u], minlength=N_DISTRICTS)])


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS, n=st.integers(0, 600), cut=st.floats(0.0, 1.0))
def test_separations(seed: int, n: int, cut: float) -> None:
    rng = np.random.default_rng(seed)
    streams, month = Streams(seed), 5
    u, u_claim = streams.uniform("separation", month, n), streams.uniform("claim", month, n)
    rate_eu, early, ei = rates_near(rng, u, 3)
    rates = separations_kernels.SeparationRates(
        esa_return=rates_near(rng, u_claim, 1)[0],
        rate_eu=np.full(N_DISTRICTS, rate_eu),
        early_rate=early,
        rate_ei=ei,
        fragile_months=6,
    )
    got = person_arrays(rng, n)
    at_draw = rng.random(n) < 0.2  # chances of claiming exactly at the row's draw: the boundary
    got["claim_propensity"][at_draw] = u_claim[at_draw].astype(np.float32)
    want = copy(got)
    size = np.full(N_FIRMS, 10_000, dtype=np.int32)
    want_size = size.copy()
    counts = np.zeros((2, N_DISTRICTS), dtype=np.int64)
    workers = separations_kernels.SeparationPeople.of(SimpleNamespace(**got))
    tabs = streams.table("separation", month), streams.table("claim", month)
    k = int(cut * n)
    for lo, hi in ((0, k), (k, n)):
        separations_kernels.separations(lo, hi - lo, *tabs, workers, rates, size, *counts)
    want_counts = separations_reference(want, u, u_claim, rates, want_size)
    assert_same(got, want)
    assert same(size, want_size) and same(counts, want_counts)


@QUICK
@given(seed=SEEDS, n=st.integers(1, 300), to_status=st.sampled_from([UNEMPLOYED, INACTIVE]))
def test_release(seed: int, n: int, to_status: int) -> None:
    """Headcounts are the caller's (`separations.release`): the kernel leaves them alone."""
    rng = np.random.default_rng(seed)
    streams, month = Streams(seed), 2
    u_claim = streams.uniform("claim", month, n)
    esa_return = rates_near(rng, u_claim, 1)[0]
    got = person_arrays(rng, n)
    rows = np.flatnonzero((got["status"] == EMPLOYED) & (rng.random(n) < 0.5))
    want = copy(got)
    workers = separations_kernels.SeparationPeople.of(SimpleNamespace(**got))
    separations_kernels.release(rows, to_status, workers, streams.table("claim", month), esa_return)
    leave = np.zeros(n, dtype=bool)
    leave[rows] = True
    want["employer"][rows], want["wage"][rows] = NO_EMPLOYER, 0.0
    claims_after_job_reference(want, leave, leave & (to_status == UNEMPLOYED), u_claim, esa_return)
    want["months_in_status"][rows] = want["work_months"][rows] = 0
    assert_same(got, want)


# ---- skills_kernels


@QUICK
@given(
    seed=SEEDS,
    n=st.integers(0, 200),
    growth=st.sampled_from([0.0, 0.002, 0.05]),
    decay=st.sampled_from([0.0, 0.004, 0.3]),
    bound=st.sampled_from([0.5, 4.0]),
)
def test_skills(seed: int, n: int, growth: float, decay: float, bound: float) -> None:
    p = person_arrays(np.random.default_rng(seed), n)
    skill, status, months = p["skill"] * 3, p["status"], p["months_in_status"]
    up = np.where(status == EMPLOYED, growth, 0.0)
    down = np.where((status == UNEMPLOYED) & (months >= 6.0), decay, 0.0)
    want = np.clip(skill.astype(np.float64) + up - down, -bound, bound).astype(np.float32)
    skills_kernels.skills(skill, status, months, growth, decay, 6.0, bound)
    assert same(skill, want)


# ---- accounts_kernels


def district_counts_reference(p: dict[str, np.ndarray], offsets: np.ndarray, bands: tuple[int, ...]) -> np.ndarray:
    out = []
    for a, b in itertools.pairwise(offsets):
        s, m, ben = p["status"][a:b], p["months_in_status"][a:b], p["benefit"][a:b]
        emp, un = s == EMPLOYED, s == UNEMPLOYED
        jsa = ~emp & (ben == JSA)
        band = np.searchsorted(np.array(bands), m[un], side="right")
        out.append(
            [
                emp.sum(),
                un.sum(),
                (s == INACTIVE).sum(),
                (un & (m >= 12)).sum(),
                jsa.sum(),
                (~emp & (ben == ESA)).sum(),
                (p["programme"][a:b] != NO_PROGRAMME).sum(),
                (emp & (m == 6)).sum(),
                (jsa & (p["age"][a:b] < 25)).sum(),
                *np.bincount(band, minlength=5),
            ]
        )
    return np.array(out, dtype=np.int64).reshape(len(offsets) - 1, 14)


@QUICK
@given(seed=SEEDS, n=st.integers(0, 300))
def test_district_counts(seed: int, n: int) -> None:
    p = person_arrays(np.random.default_rng(seed), n)
    offsets = np.searchsorted(p["district"], np.arange(N_DISTRICTS + 1)).astype(np.int64)
    bands = (3, 6, 12, 24)
    got = accounts_kernels.district_counts(
        p["status"], p["months_in_status"], p["benefit"], p["programme"], p["age"], offsets, 12, 6, bands
    )
    assert same(got, district_counts_reference(p, offsets, bands))


# ---- matching_kernels


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200), first=st.integers(0, 1000))
def test_out_of_work_lists(seed: int, n: int, first: int) -> None:
    """The list is written into a slice of a larger array: nothing past its end is touched."""
    status = person_arrays(np.random.default_rng(seed), n)["status"]
    want = first + np.flatnonzero(status != EMPLOYED)
    assert matching_kernels.out_of_work(status) == want.size
    shared = np.full(want.size + 3, -7, dtype=np.int64)
    matching_kernels.list_out_of_work(status, first, shared[: want.size])
    assert same(shared[: want.size], want) and (shared[want.size :] == -7).all()


def search_inputs(rng: np.random.Generator, n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    p = person_arrays(rng, n)
    rows = np.flatnonzero(rng.random(n) < 0.6).astype(np.int64)
    return p, rows


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200), half_hours=st.sampled_from([0.5, 4.0, 12.0]))
def test_search_inputs(seed: int, n: int, half_hours: float) -> None:
    p, rows = search_inputs(np.random.default_rng(seed), n)
    m = rows.size
    sk, omb, y = np.empty(m, np.float32), np.empty(m, np.float32), np.empty(m + 1)
    neg_log2 = -0.6931471805599453
    k = matching_kernels.search_inputs(
        rows, p["skill"], p["barrier"], p["support_hours"], neg_log2, half_hours, sk, omb, y
    )
    hours = p["support_hours"][rows]
    assert same(sk, p["skill"][rows]) and same(omb, np.float32(1.0) - p["barrier"][rows])
    assert same(y[:k], (neg_log2 * hours[hours > 0].astype(np.float64)) / half_hours)


def scarring(months: np.ndarray, e_scar: np.ndarray) -> np.ndarray:
    return e_scar[np.minimum(months, e_scar.size - 1)]


def search_weights_reference(
    p: dict[str, np.ndarray],
    rows: np.ndarray,
    e_skill: np.ndarray,
    e_barrier: np.ndarray,
    e_scar: np.ndarray,
    e_support: np.ndarray,
    effects: matching_kernels.SearchEffects,
) -> np.ndarray:
    s = p["status"][rows]
    unemployed = s == UNEMPLOYED
    intensity = np.where(unemployed, 1.0, np.where(s == INACTIVE, effects.inactive_intensity, 0.0))
    scar = scarring(p["months_out"][rows], e_scar)
    employability = (e_skill * e_barrier).astype(np.float64) * scar * p["employability"][rows].astype(np.float64)
    supported = p["support_hours"][rows] > 0
    support = np.zeros(rows.size)
    support[supported] = e_support[: supported.sum()]
    mult = np.where(p["mentor_months"][rows] > 0, effects.mentored, 1.0)
    young_with_contacts = p["employer_contacts"][rows] & (p["age"][rows] < 25)
    mult = np.where(young_with_contacts, mult / effects.contact_hr, mult)
    sanction = np.where(p["sanction_months"][rows] > 0, effects.sanctioned, 1.0)
    return intensity * employability * (1.0 + effects.max_effect * -support) * mult * sanction


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200), cap=st.integers(0, 30))
def test_search_weights_and_employability(seed: int, n: int, cap: int) -> None:
    rng = np.random.default_rng(seed)
    p, rows = search_inputs(rng, n)
    m = rows.size
    e_skill, e_barrier = rng.lognormal(0, 1, m).astype(np.float32), rng.random(m).astype(np.float32)
    e_scar = np.exp(-0.03 * np.arange(cap + 1))
    e_support = np.append(-rng.random(m), 0.5)  # expm1 of negatives, and the spare slot
    effects = matching_kernels.SearchEffects(
        inactive_intensity=0.3, max_effect=0.6, mentored=1.2, contact_hr=0.8, sanctioned=1.4
    )
    out = np.full(m, np.nan)
    searchers = matching_kernels.SearcherPeople.of(SimpleNamespace(**p))
    matching_kernels.search_weights(rows, searchers, e_skill, e_barrier, e_scar, e_support, effects, out)
    assert same(out, search_weights_reference(p, rows, e_skill, e_barrier, e_scar, e_support, effects))
    matching_kernels.employability(rows, p["months_out"], p["employability"], e_skill, e_barrier, e_scar, out)
    scar = scarring(p["months_out"][rows], e_scar)
    assert same(out, (e_skill * e_barrier).astype(np.float64) * scar * p["employability"][rows].astype(np.float64))


@QUICK
@given(seed=SEEDS, n=st.integers(0, 300), scale=st.sampled_from([1e-300, 0.01, 1.0, 50.0]))
def test_search_candidates(seed: int, n: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    streams, month = Streams(seed), 3
    rows = np.sort(rng.choice(3 * n + 1, n, replace=False)).astype(np.int64)
    u = streams.uniform("search", month, 3 * n + 1)[rows]
    market = np.sort(rng.integers(0, 4, n)).astype(np.int16)
    q = rng.random(4) * scale
    weight = rng.choice([0.0, 1e-9, 0.3, 1.0, 7.0], n) * rng.random(n)
    at_draw = rng.random(n) < 0.2  # x exactly at the draw, or a rounding away
    weight[at_draw] = u[at_draw] / np.maximum(q[market[at_draw]], 1e-300)
    cand, x, draw = matching_kernels.search_candidates(streams.table("search", month), rows, q, market, weight)
    xs = q[market] * weight
    keep = u < xs * 1.000001
    assert same(cand, rows[keep]) and same(x, xs[keep]) and same(draw, u[keep])


def post_keys_reference(vac: np.ndarray, uf: np.ndarray, threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    firm = np.repeat(np.arange(vac.size), vac)
    k = np.arange(firm.size) - np.repeat(np.cumsum(vac) - vac, vac)
    key = (k.astype(np.float64) + uf[firm]) / vac[firm].astype(np.float64)
    below = key < threshold[firm]
    return firm[below].astype(np.int64), key[below]


@QUICK
@given(seed=SEEDS, n=st.integers(0, 40))
def test_post_keys(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    vac = rng.integers(0, 12, n).astype(np.int64)
    uf = rng.random(n)
    threshold = rng.choice([0.0, 0.1, 0.5, 0.95, np.inf], n)
    firm, key = matching_kernels.post_keys(vac, uf, threshold)
    want_firm, want_key = post_keys_reference(vac, uf, threshold)
    assert same(firm, want_firm) and same(key, want_key)


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200))
def test_start_jobs(seed: int, n: int) -> None:
    """Headcounts are the caller's (`matching.start_jobs`): the kernel leaves them alone."""
    rng = np.random.default_rng(seed)
    got = person_arrays(rng, n)
    want = copy(got)
    rows = rng.permutation(np.flatnonzero(got["status"] != EMPLOYED))
    firm_rows = rng.integers(0, N_FIRMS, rows.size).astype(np.int64)
    wages = (rng.random(rows.size) * 2000).astype(np.float32)
    matching_kernels.start_jobs(rows, firm_rows, wages, matching_kernels.HiredPeople.of(SimpleNamespace(**got)))
    want["fragile"][rows] = True
    want["status"][rows], want["months_in_status"][rows] = EMPLOYED, 0
    want["employer"][rows], want["wage"][rows] = firm_rows, wages
    want["benefit"][rows], want["group"][rows] = NO_BENEFIT, NO_GROUP
    want["sanction_months"][rows] = 0
    assert_same(got, want)


# ---- business_kernels


def firm_arrays(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Firm rows with `Firms`' dtypes."""
    return {
        "alive": rng.random(n) < 0.8,
        "large": rng.random(n) < 0.1,
        "age": rng.integers(0, 90, n).astype(np.int32),
        "shock": rng.normal(0, 0.2, n),
        "district": rng.integers(0, N_DISTRICTS, n).astype(np.int16),
        "hub_months": np.where(rng.random(n) < 0.3, rng.integers(1, 24, n), 0).astype(np.int16),
        "potential": rng.lognormal(1.0, 1.0, n),
        "target": rng.lognormal(1.0, 1.0, n),
        "size": rng.integers(0, 30, n).astype(np.int32),
    }


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200), with_hubs=st.booleans(), ratio=st.sampled_from([0.5, 1.0, 40.0]))
def test_firm_hazard(seed: int, n: int, with_hubs: bool, ratio: float) -> None:
    """Rates outside [0, 1] are clipped; the bands are those of months 1-12, 13-36, 37-60, 61+."""
    rng = np.random.default_rng(seed)
    f = firm_arrays(rng, n)
    by_age = rng.choice([-0.1, 0.0, 0.004, 0.02, 0.3, 1.5], 4)
    got = business_kernels.firm_hazard(f["age"], f["hub_months"], f["alive"], f["large"], by_age, ratio, with_hubs)
    h = by_age[np.searchsorted(np.array([12, 36, 60]), f["age"], side="right")]
    if with_hubs:
        h = np.where(f["hub_months"] > 0, h * ratio, h)
    assert same(got, np.where(f["alive"] & ~f["large"], np.clip(h, 0.0, 1.0), 0.0))


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200), n_years=st.integers(1, 8))
def test_life_table(seed: int, n: int, n_years: int) -> None:
    rng = np.random.default_rng(seed)
    f = firm_arrays(rng, n)
    die = rng.random(n) < 0.3
    got = business_kernels.life_table(f["alive"], f["large"], die, f["age"], f["district"], N_DISTRICTS, n_years)
    at_risk = f["alive"] & ~f["large"]
    cell = f["district"].astype(np.int64) * n_years + np.minimum(f["age"] // 12, n_years - 1)
    cells = N_DISTRICTS * n_years
    want = np.stack([np.bincount(cell[at_risk], minlength=cells), np.bincount(cell[at_risk & die], minlength=cells)])
    assert same(got, want.reshape(2, N_DISTRICTS, n_years))


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200))
def test_grow_firms(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    f = firm_arrays(rng, n)
    supported, z = f["hub_months"] > 0, rng.normal(0, 1, n)
    gap, decay = rng.random(N_DISTRICTS), np.exp(-np.arange(92) / 30.0)
    sd = 0.15
    profile = rng.random(n)
    want_age = f["age"] + f["alive"]
    small = f["alive"] & ~f["large"]
    want_shock = np.where(small, (f["shock"] + sd * z) - 0.5 * sd * sd, f["shock"])
    path = 1.0 - gap[f["district"]] * decay[want_age]
    want_profile = np.where(small | supported, path, profile)
    growing = business_kernels.GrowingFirms(
        alive=f["alive"], large=f["large"], age=f["age"], shock=f["shock"], district=f["district"]
    )
    rows = business_kernels.grow_firms(growing, supported, z, gap, decay, sd, 0.5 * sd * sd, profile)
    assert same(rows, np.flatnonzero(small)) and same(f["age"], want_age.astype(np.int32))
    assert same(f["shock"], want_shock) and same(profile, want_profile)


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200))
def test_settle_firms(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    f = firm_arrays(rng, n)
    rows = np.flatnonzero(rng.random(n) < 0.5).astype(np.int64)
    growth, profile = rng.lognormal(0, 0.2, rows.size), rng.random(n)
    target, excess = f["target"].copy(), np.full(n, -99, dtype=np.int64)
    want_target = target.copy()
    want_target[rows] = f["potential"][rows] * profile[rows] * growth
    want_excess = np.where(f["alive"], f["size"] - np.floor(want_target + 0.5).astype(np.int64), 0)
    business_kernels.settle_firms(rows, growth, f["potential"], profile, target, f["alive"], f["size"], excess)
    assert same(target, want_target) and same(excess, want_excess)


# ---- providers_kernels


@QUICK
@given(seed=SEEDS, n=st.integers(0, 200), hours=st.sampled_from([0.0, 0.75, 1.3]))
def test_jcp_hours_and_attachment_lists(seed: int, n: int, hours: float) -> None:
    p = person_arrays(np.random.default_rng(seed), n)
    out = np.full(n, np.nan, dtype=np.float32)
    providers_kernels.jcp_hours(p["status"], p["benefit"], hours, out)
    claiming_unemployed = (p["status"] == UNEMPLOYED) & (p["benefit"] != NO_BENEFIT)
    assert same(out, np.where(claiming_unemployed, np.float32(hours), np.float32(0.0)))
    owner = p["district"]
    attached, claimants = providers_kernels.attached_and_claimants(p["programme"], owner, p["group"])
    assert same(attached, np.flatnonzero(p["programme"] == owner))
    assert same(claimants, np.flatnonzero(p["group"] > 0))
    assert same(providers_kernels.attached(p["programme"], owner), attached)


def provider_state(seed: int, n: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """People, each row's provider (its district's), which providers are served, and group terms
    as `providers.group_table` makes them (floats, by claimant group)."""
    rng = np.random.default_rng(seed)
    p = person_arrays(rng, n)
    served = rng.random(N_DISTRICTS) < 0.8
    k = len(GROUP_NAMES) - 1
    terms = {
        "outcome_months": np.array([0.0, *rng.choice([3.0, 6.0], k)]),
        "sustainment_payments": np.array([0.0, *rng.integers(0, 21, k)], dtype=np.float64),
        "referral_month": np.array([np.inf, *rng.integers(0, 13, k)], dtype=np.float64),
        "referral_share": np.array([0.0, *rng.random(k)]),
    }
    return p, p["district"].copy(), served, terms


def programme_month_reference(
    p: dict[str, np.ndarray],
    rows: np.ndarray,
    owner: np.ndarray,
    served: np.ndarray,
    programme_months: int,
    terms: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = rows[(p["programme"][rows] == owner[rows]) & served[owner[rows]]]
    p["months_in_programme"][rows] += 1
    ending = p["months_in_programme"][rows] > programme_months
    p["programme"][rows[ending]] = NO_PROGRAMME
    att = rows[~ending]
    in_work = att[p["status"][att] == EMPLOYED]
    p["work_months"][att[p["status"][att] != EMPLOYED]] = 0
    p["work_months"][in_work] += 1
    g, wm, paid = p["eligible_group"][in_work], p["work_months"][in_work], p["outcome_paid"][in_work]
    om = terms["outcome_months"][g]
    outcome = ~paid & (wm >= om)
    sustain = paid & (wm > om) & (p["sustain_paid"][in_work] < terms["sustainment_payments"][g])
    p["outcome_paid"][in_work[outcome]] = True
    p["sustain_paid"][in_work[sustain]] += 1
    return att, in_work[outcome], in_work[sustain]


@QUICK
@given(seed=SEEDS, n=st.integers(0, 300), programme_months=st.integers(1, 30))
def test_programme_month(seed: int, n: int, programme_months: int) -> None:
    """Rows handed over that are no longer attached to their own, served provider are passed over."""
    got, owner, served, terms = provider_state(seed, n)
    want = copy(got)
    rows = np.flatnonzero((got["programme"] != NO_PROGRAMME) | (np.arange(n) % 5 == 0))
    records = providers_kernels.ProgrammePeople.of(SimpleNamespace(**got))
    result = providers_kernels.programme_month(
        rows, records, owner, served, programme_months, terms["outcome_months"], terms["sustainment_payments"]
    )
    want_result = programme_month_reference(want, rows, owner, served, programme_months, terms)
    assert_same(got, want)
    assert all(same(a, b) for a, b in zip(result, want_result, strict=True))


def referrals_reference(
    p: dict[str, np.ndarray],
    claimants: np.ndarray,
    owner: np.ndarray,
    served: np.ndarray,
    month: int,
    terms: dict[str, np.ndarray],
    u_referral: np.ndarray,
    early_barrier: float,
) -> np.ndarray:
    """Eligible at the claim group's point, or as JSA early access (JSA claimants with barriers of
    early_barrier or more, never referred, whose draw is below that group's share, from its point);
    new ESA claimants not referred at their point volunteer if their draw is below the ESA-new
    share plus the volunteer share."""
    c = claimants
    g = p["group"][c].astype(np.int64)
    u, month_of, share = u_referral[c], terms["referral_month"], terms["referral_share"]
    never = ~p["ever_referred"][c]
    base = served[owner[c]] & (p["eligible_month"][c] == NOT_ELIGIBLE) & (p["status"][c] != EMPLOYED)
    early = (
        base
        & np.isin(g, (JSA_18_24, JSA_25_PLUS))
        & (p["barrier"][c] >= early_barrier)
        & (p["months_out"][c] >= month_of[JSA_EARLY_ACCESS])
        & never
        & (u < share[JSA_EARLY_ACCESS])
    )
    pay = np.where(early, JSA_EARLY_ACCESS, g)
    newly = early | (base & (p["months_out"][c] >= month_of[g]))
    referred = never & (u < share[pay])
    volunteer = (pay == ESA_NEW) & ~referred & never & (u < share[ESA_NEW] + share[ESA_VOLUNTEER])
    pay = np.where(volunteer, ESA_VOLUNTEER, pay)
    referred = (referred | volunteer) & newly
    new = c[newly]
    p["eligible_month"][new], p["eligible_group"][new] = month, pay[newly].astype(np.int8)
    referred = c[referred]
    p["programme"][referred], p["ever_referred"][referred] = owner[referred], True
    p["outcome_paid"][referred] = False
    for field in ("months_in_programme", "work_months", "sustain_paid"):
        p[field][referred] = 0
    return referred


@QUICK
@given(seed=SEEDS, n=st.integers(0, 300), month=st.integers(0, 60))
def test_referrals(seed: int, n: int, month: int) -> None:
    got, owner, served, terms = provider_state(seed, n)
    want = copy(got)
    rng = np.random.default_rng(seed + 1)
    u_referral = rng.random(n)
    at_share = rng.random(n) < 0.3  # draws exactly at their group's share: the boundary
    u_referral[at_share] = terms["referral_share"][got["group"][at_share]]
    claimants = np.flatnonzero(got["group"] != NO_GROUP)
    early_barrier = float(rng.choice([0.0, 0.3, 0.6, 1.0, *got["barrier"][:1]]))  # or exactly a row's barrier
    records = providers_kernels.ProgrammePeople.of(SimpleNamespace(**got))
    referred = providers_kernels.referrals(
        claimants,
        records,
        owner,
        served,
        month,
        terms["referral_month"],
        terms["referral_share"],
        u_referral,
        early_barrier,
    )
    want_referred = referrals_reference(want, claimants, owner, served, month, terms, u_referral, early_barrier)
    assert_same(got, want)
    assert same(referred, want_referred)


@QUICK
@given(seed=SEEDS, n=st.integers(0, 300))
def test_participants_seeking(seed: int, n: int) -> None:
    p, owner, _, _ = provider_state(seed, n)
    att = np.flatnonzero(p["programme"] != NO_PROGRAMME)
    position = np.random.default_rng(seed).permutation(N_DISTRICTS).astype(np.int64)
    got = providers_kernels.participants_seeking(
        att, owner, position, p["eligible_group"], p["status"], p["skill"], p["barrier"]
    )
    block, group, status = position[owner[att]], p["eligible_group"][att], p["status"][att]
    seeking = status != EMPLOYED
    rows = att[seeking]
    want = (
        block,
        group,
        rows,
        block[seeking],
        group[seeking],
        status[seeking],
        p["skill"][rows],
        np.float32(1.0) - p["barrier"][rows],
        p["barrier"][rows],
    )
    assert all(same(a, b) for a, b in zip(got, want, strict=True))


# water_fill_groups against `providers.allocate_hours`, provider by provider:
# tests/model/test_mechanisms.py::test_grouped_water_fill_is_allocate_hours_for_each_provider.


@QUICK
@given(seed=SEEDS, n=st.integers(0, 100))
def test_scatter_float32(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    out = rng.random(n).astype(np.float32)
    rows = rng.permutation(np.flatnonzero(rng.random(n) < 0.5))
    values = rng.normal(0, 1e3, rows.size)
    want = out.copy()
    want[rows] = values.astype(np.float32)
    providers_kernels.scatter_float32(rows, values, out)
    assert same(out, want)


# ---- outcomes_kernels


def cohort_update_reference(
    month: int,
    horizons: np.ndarray,
    entry: int,
    ppa: float,
    p: dict[str, np.ndarray],
    counts: tuple[np.ndarray, ...],
    band: np.ndarray,
) -> None:
    """`CohortTracker.update`'s rule: np.add.at adds in row order, as the pass does (each count,
    one horizon at a time, gets the same additions in the same order)."""
    eligible, referred, outcome, referred_outcome, c_eligible, c_referred, c_outcome, c_sustained, b_el, b_out = counts
    follow_up = horizons[-1]
    employed = p["status"] == EMPLOYED
    d = p["district"]
    # The official cohort: entered at the referral point (eligible_month), followed for outcomes.
    em, g = p["eligible_month"], p["eligible_group"]
    first = (em >= 0) & (em == month)
    np.add.at(eligible, (month, d[first], g[first]), ppa)
    np.add.at(b_el, (month, d[first], g[first], band[first]), ppa)
    on_programme = first & (p["programme"] != NO_PROGRAMME)
    np.add.at(referred, (month, d[on_programme], g[on_programme]), ppa)
    followed = (em >= 0) & (p["outcome_month"] == NOT_ELIGIBLE) & (month - em <= follow_up)
    cw = p["cohort_work"]
    cw[followed] = np.where(employed[followed], cw[followed] + 1, 0)
    reached = followed & (cw >= OFFICIAL_OUTCOME_MONTHS[g])
    p["outcome_month"][reached] = month
    for k, h in enumerate(horizons):
        within = reached & (month - em <= h)
        np.add.at(outcome, (em[within], d[within], g[within], k), ppa)
        np.add.at(b_out, (em[within], d[within], g[within], k, band[within]), ppa)
        treated = within & p["ever_referred"]
        np.add.at(referred_outcome, (em[treated], d[treated], g[treated], k), ppa)
    # The common cohort: claimants out of work whose spell reaches `entry` months, once each.
    cm, cg, cw = p["common_month"], p["common_group"], p["common_work"]
    enter = (
        (cm == NOT_ELIGIBLE)
        & (p["months_out"] == entry)
        & (p["benefit"] != NO_BENEFIT)
        & (p["group"] != NO_GROUP)
        & ~employed
    )
    cm[enter] = month
    cg[enter] = p["group"][enter]
    cw[enter] = 0
    p["common_sustain"][enter] = 0
    np.add.at(c_eligible, (month, d[enter], cg[enter]), ppa)
    on_programme = enter & (p["programme"] != NO_PROGRAMME)
    np.add.at(c_referred, (month, d[on_programme], cg[on_programme]), ppa)
    followed = (cm >= 0) & (cw != outcomes_kernels.COMMON_OUTCOME_REACHED) & (month - cm <= follow_up)
    work = np.where(employed, cw + 1, 0).astype(np.int16)
    reached = followed & (work >= OFFICIAL_OUTCOME_MONTHS[cg])
    cw[followed & ~reached] = work[followed & ~reached]
    cw[reached] = outcomes_kernels.COMMON_OUTCOME_REACHED
    for k, h in enumerate(horizons):
        within = reached & (month - cm <= h)
        np.add.at(c_outcome, (cm[within], d[within], cg[within], k), ppa)
    # Six months in work, every group alike (the people cost per additional job counts).
    cs = p["common_sustain"]
    followed = (cm >= 0) & (cs != outcomes_kernels.COMMON_OUTCOME_REACHED) & (month - cm <= follow_up)
    work = np.where(employed, cs + 1, 0).astype(np.int16)
    reached = followed & (work >= SUSTAINED_MONTHS)
    cs[followed & ~reached] = work[followed & ~reached]
    cs[reached] = outcomes_kernels.COMMON_OUTCOME_REACHED
    for k, h in enumerate(horizons):
        within = reached & (month - cm <= h)
        np.add.at(c_sustained, (cm[within], d[within], cg[within], k), ppa)


@settings(max_examples=30, deadline=None)
@given(
    seed=SEEDS,
    n=st.integers(0, 2 * outcomes_kernels.COHORT_CHUNK + 50),
    month=st.integers(0, 9),
    horizons=st.sampled_from([(2,), (1, 2), (6, 12, 18, 24)]),
    entry=st.sampled_from([1, 3]),
)
def test_cohort_update(seed: int, n: int, month: int, horizons: tuple[int, ...], entry: int) -> None:
    rng = np.random.default_rng(seed)
    got = person_arrays(rng, n)
    got["eligible_month"] = np.minimum(got["eligible_month"], month).astype(np.int16)  # no one eligible in the future
    # Spells at, around and far from the entry point; some already in the common cohort (not in the
    # future), a few of them past their outcome, in any claim group.
    got["months_out"] = np.where(rng.random(n) < 0.5, rng.integers(entry - 1, entry + 2, n), got["months_out"])
    got["months_out"] = got["months_out"].astype(np.int16)
    got["common_month"] = np.where(rng.random(n) < 0.6, NOT_ELIGIBLE, rng.integers(0, month + 1, n)).astype(np.int16)
    got["common_group"] = rng.integers(0, len(GROUP_NAMES), n).astype(np.int8)
    got["common_work"] = np.where(
        rng.random(n) < 0.2, outcomes_kernels.COMMON_OUTCOME_REACHED, rng.integers(0, 8, n)
    ).astype(np.int16)
    got["common_sustain"] = np.where(
        rng.random(n) < 0.2, outcomes_kernels.COMMON_OUTCOME_REACHED, rng.integers(0, 8, n)
    ).astype(np.int16)
    want = copy(got)
    ppa = 0.1 + rng.random()
    hs = np.array(horizons, dtype=np.int64)
    shape = (10, N_DISTRICTS, len(GROUP_NAMES))
    by_horizon = (*shape, hs.size)
    bands = outcomes_kernels.DRAW_BANDS
    sizes = (
        *(shape, shape, by_horizon, by_horizon, shape, shape, by_horizon, by_horizon),
        (*shape, bands),
        (*by_horizon, bands),
    )
    counts = outcomes_kernels.CohortCounts(*(np.zeros(s) for s in sizes))
    want_counts = tuple(np.zeros(s) for s in sizes)
    cohort = outcomes_kernels.CohortPeople.of(SimpleNamespace(**got))
    common = outcomes_kernels.CommonPeople.of(SimpleNamespace(**got))
    band = rng.integers(0, bands, n).astype(np.int8)
    outcomes_kernels.cohort_update(
        month, hs, OFFICIAL_OUTCOME_MONTHS, entry, SUSTAINED_MONTHS, ppa, cohort, common, counts, band
    )
    cohort_update_reference(month, hs, entry, ppa, want, want_counts, band)
    assert_same(got, want)
    assert all(same(a, b) for a, b in zip(counts, want_counts, strict=True))
    # Cumulative: an outcome within h months is within every longer horizon.
    for c in (counts.outcome, counts.referred_outcome, counts.common_outcome, counts.common_sustained):
        assert (np.diff(c, axis=-1) >= 0).all()
