"""Threads and fused passes change how the month's work is done, never what it gives.

The whole-run check is tests/model/test_golden.py (every golden run with 2 and 3 threads and block
edges that cut districts). These check the pieces: blocks cover every row once, a stream read from
any row onwards gives that row's draws, and each fused or blocked version equals what it replaces.
"""

from __future__ import annotations

import dataclasses
import sys
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import detmath as dm
from simulation import outcomes_kernels, parallel, pcg64
from simulation.config import ConfigError, make_scenario
from simulation.mechanisms import (
    _util,
    matching,
    matching_kernels,
    participation_kernels,
    separations_kernels,
    shared_kernels,
)
from simulation.model import LabourMarketModel
from simulation.people import (
    EMPLOYED,
    ESA,
    ESA_NEW,
    INACTIVE,
    JSA,
    JSA_18_24,
    JSA_25_PLUS,
    NO_BENEFIT,
    NO_EMPLOYER,
    NO_GROUP,
    NO_PROGRAMME,
    NOT_ELIGIBLE,
    UNEMPLOYED,
    People,
)
from simulation.rng import PREFETCH_MIN, Streams


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 5_000_000), k=st.integers(1, 9), align=st.integers(1, 70_000))
def test_blocks_cover_every_row_once_with_aligned_edges(n: int, k: int, align: int) -> None:
    bs = parallel.blocks(n, align, k)
    assert bs[0][0] == 0 and bs[-1][1] == n
    assert all(lo < hi for lo, hi in bs) or bs == [(0, 0)]
    assert all(a[1] == b[0] for a, b in pairwise(bs))
    assert all(lo % align == 0 for lo, _ in bs)
    assert len(bs) <= max(1, min(k, n // parallel.MIN_BLOCK))


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(0, 2_000), min_size=1, max_size=40), k=st.integers(1, 5))
def test_district_blocks_are_whole_districts_covering_all(sizes: list[int], k: int) -> None:
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABOURLAB_THREADS", str(k))
        mp.setattr(parallel, "MIN_BLOCK", 1)
        spans = parallel.map_districts(lambda a, b: (a, b), offsets)
    assert spans[0][0] == 0 and spans[-1][1] == len(sizes)
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in pairwise(spans))


@pytest.mark.parametrize("lo,hi", [(0, 10), (1, 7), (65_535, 65_537), (100_000, 200_001), (199_999, 250_000)])
def test_a_stream_read_from_any_row_gives_that_rows_draws(lo: int, hi: int) -> None:
    s = Streams(7)
    n = 250_000
    whole = s.uniform("search", 3, n, cache=False)
    part = np.full(hi - lo, np.nan)
    pcg64.fill(s.table("search", 3), lo, part)
    assert np.array_equal(part, whole[lo:hi])


def test_threads_setting_is_read_and_bad_values_are_named(monkeypatch) -> None:
    monkeypatch.setenv("LABOURLAB_THREADS", "3")
    assert parallel.threads() == 3
    monkeypatch.setenv("LABOURLAB_THREADS", "0")
    assert parallel.threads() == 1
    monkeypatch.setenv("LABOURLAB_THREADS", "two")
    with pytest.raises(ConfigError, match="LABOURLAB_THREADS: expected a whole number"):
        parallel.threads()


def test_blocks_asked_for_inside_a_block_run_on_that_thread(monkeypatch) -> None:
    monkeypatch.setenv("LABOURLAB_THREADS", "2")
    monkeypatch.setattr(parallel, "MIN_BLOCK", 1)
    inner = parallel.map_blocks(lambda lo, hi: sum(parallel.map_blocks(lambda a, b: b - a, hi - lo, 1)), 10, 1)
    assert sum(inner) == 10


def test_employed_at_by_blocks_equals_a_mask_and_checks_headcounts(monkeypatch) -> None:
    monkeypatch.setenv("LABOURLAB_THREADS", "3")
    monkeypatch.setattr(parallel, "MIN_BLOCK", 1)
    monkeypatch.setattr(parallel, "ALIGN", 17)
    rng = np.random.default_rng(1)
    n, n_firms = 5_000, 300
    status = rng.choice([EMPLOYED, UNEMPLOYED], n).astype(np.int8)
    employer = np.where(status == EMPLOYED, rng.integers(0, n_firms, n), -1)
    flag_a, flag_b = rng.random(n_firms) < 0.2, rng.random(n_firms) < 0.3
    flag_b &= ~flag_a
    working = status == EMPLOYED
    want_a = np.flatnonzero(working & flag_a[employer])
    want_b = np.flatnonzero(working & flag_b[employer])
    a, b = _util.employed_at(status, employer, flag_a, want_a.size, flag_b, want_b.size)
    assert np.array_equal(a, want_a) and np.array_equal(b, want_b)
    with pytest.raises(ValueError, match="headcounts"):
        _util.employed_at(status, employer, flag_a, want_a.size + 1, flag_b, want_b.size)


@pytest.mark.parametrize("n", [0, 1, 1_000, 200_003])
def test_uniforms_filled_by_threads_are_the_streams_own(n: int, monkeypatch) -> None:
    monkeypatch.setenv("LABOURLAB_THREADS", "3")
    monkeypatch.setattr(parallel, "MIN_BLOCK", 1)
    monkeypatch.setattr(parallel, "ALIGN", 999)
    s = Streams(11)
    assert np.array_equal(s.uniform("firm_death", -4, n), s.generator("firm_death", -4).random(n))


@pytest.fixture(scope="module")
def stevenage() -> LabourMarketModel:
    model = LabourMarketModel(config=make_scenario("stevenage", "cooperative", months=6, burn_in=3), seed=5)
    for _ in range(4):
        model.step()
    return model


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_fused_search_weights_equal_the_numpy_expression(stevenage: LabourMarketModel, seed: int) -> None:
    """Search weights and employability, bit for bit, on the model's people with their states
    scrambled (every status, long durations past the scarring cap, zero, negative zero and
    negative hours, mentoring, school contacts at every age, sanctions)."""
    people = dataclasses.replace(
        stevenage.people, **{f.name: getattr(stevenage.people, f.name).copy() for f in dataclasses.fields(People)}
    )
    rng = np.random.default_rng(seed)
    n = people.n
    people.status[:] = rng.choice([EMPLOYED, UNEMPLOYED, INACTIVE], n)
    people.months_in_status[:] = rng.integers(0, 400, n)
    people.skill[:] = rng.normal(0, 1.5, n).astype(np.float32)
    people.barrier[:] = rng.uniform(0, 0.99, n).astype(np.float32)
    people.support_hours[:] = rng.choice([0.0, -0.0, 0.5, 2.0, 17.3, -1.0], n).astype(np.float32)
    people.mentor_months[:] = rng.integers(0, 3, n)
    people.employer_contacts[:] = rng.random(n) < 0.3
    people.age[:] = rng.integers(16, 65, n)
    people.sanction_months[:] = np.where(rng.random(n) < 0.2, rng.integers(1, 4, n), 0)
    rows = np.flatnonzero(rng.random(n) < 0.7)
    reference = matching.search_weights(people, stevenage.params, rows)
    fast = matching.search_weights_fast(people, stevenage.params, rows)
    assert fast.dtype == reference.dtype
    assert np.array_equal(fast.view(np.uint64), reference.view(np.uint64))
    reference = matching.employability(people, stevenage.params, rows)  # providers' part of it
    fast = matching.employability_fast(people, stevenage.params, rows)
    assert fast.dtype == reference.dtype
    assert np.array_equal(fast.view(np.uint64), reference.view(np.uint64))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 4),
    align=st.sampled_from([1, 7, 4096]),
    employed_share=st.sampled_from([0.0, 0.5, 0.9, 1.0]),
)
def test_searchers_listed_by_blocks_are_the_plain_list(
    stevenage: LabourMarketModel, seed: int, k: int, align: int, employed_share: float
) -> None:
    """Each block lists its rows out of work straight into its part of the outputs: the same
    rows, weights and markets as the plain list and expression, for blocks that end on employed
    rows or have nobody out of work (whole blocks of the employed at either end)."""
    people = dataclasses.replace(
        stevenage.people, **{f.name: getattr(stevenage.people, f.name).copy() for f in dataclasses.fields(People)}
    )
    rng = np.random.default_rng(seed)
    n = people.n
    people.status[:] = np.where(rng.random(n) < employed_share, EMPLOYED, rng.choice([UNEMPLOYED, INACTIVE], n))
    people.status[: n // 5] = EMPLOYED
    people.status[-(n // 7) :] = EMPLOYED
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABOURLAB_THREADS", str(k))
        mp.setattr(parallel, "MIN_BLOCK", 1)
        mp.setattr(parallel, "ALIGN", align)
        rows, weights, markets = matching.searchers_and_weights(people, stevenage.params, stevenage.person_market)
    want = np.flatnonzero(people.status != EMPLOYED)
    np.testing.assert_array_equal(rows, want)
    assert np.array_equal(
        weights.view(np.uint64), matching.search_weights(people, stevenage.params, want).view(np.uint64)
    )
    np.testing.assert_array_equal(markets, stevenage.person_market[want])
    assert markets.dtype == stevenage.person_market.dtype


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 4), share=st.sampled_from([0.0, 0.01, 0.3, 1.0]))
def test_release_by_blocks_is_the_plain_rule(stevenage: LabourMarketModel, seed: int, k: int, share: float) -> None:
    """Releasing workers runs by blocks of rows, headcounts apart: each row ends out of work with
    its own claim draw deciding its claim, and each firm loses exactly its leavers."""
    from simulation.mechanisms.separations import release

    people = dataclasses.replace(
        stevenage.people, **{f.name: getattr(stevenage.people, f.name).copy() for f in dataclasses.fields(People)}
    )
    firms = dataclasses.replace(stevenage.firms, size=stevenage.firms.size.copy())
    rng = np.random.default_rng(seed)
    employed = np.flatnonzero(people.status == EMPLOYED)
    rows = employed[rng.random(employed.size) < share]
    want_size = firms.size.copy()
    np.subtract.at(want_size, people.employer[rows], 1)
    age = people.age[rows]
    streams, month, params = stevenage.streams, stevenage.month, stevenage.params
    u = streams.uniform("claim", month, people.n)[rows]
    # Those who have claimed ESA go back onto it at esa_return_share; the rest claim JSA at their
    # own take-up (the draw above the ESA return's part of it, for those who have claimed ESA).
    health, prop = people.health_condition[rows], people.claim_propensity[rows].astype(np.float64)
    r = params.esa_return_share
    to_esa = health & (u < r)
    claims = ~to_esa & (u < np.where(health, r + (1.0 - r) * prop, prop))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABOURLAB_THREADS", str(k))
        mp.setattr(parallel, "MIN_BLOCK", 1)
        mp.setattr(parallel, "ALIGN", 1000)
        release(people, firms, rows, UNEMPLOYED, streams, month, params)
    np.testing.assert_array_equal(firms.size, want_size)
    np.testing.assert_array_equal(people.status[rows], np.where(to_esa, INACTIVE, UNEMPLOYED))
    assert (people.employer[rows] == -1).all()
    assert (people.wage[rows] == 0).all() and (people.months_in_status[rows] == 0).all()
    assert (people.work_months[rows] == 0).all()
    np.testing.assert_array_equal(people.benefit[rows], np.select([to_esa, claims], [ESA, JSA], NO_BENEFIT))
    want_group = np.select([to_esa, claims], [ESA_NEW, np.where(age < 25, JSA_18_24, JSA_25_PLUS)], NO_GROUP)
    np.testing.assert_array_equal(people.group[rows], want_group)
    others = np.setdiff1d(np.arange(people.n), rows)
    for name in ("status", "employer", "benefit", "group", "wage"):
        np.testing.assert_array_equal(getattr(people, name)[others], getattr(stevenage.people, name)[others])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 4), share=st.sampled_from([0.0, 0.01, 0.5, 1.0]))
def test_jobs_started_by_blocks_are_the_plain_rule(
    stevenage: LabourMarketModel, seed: int, k: int, share: float
) -> None:
    """New jobs are written by blocks of the hires on threads, headcounts apart: the numpy
    assignments they replace, row for row, and each firm gains exactly its hires."""
    from simulation.people import wage_for

    people = dataclasses.replace(
        stevenage.people, **{f.name: getattr(stevenage.people, f.name).copy() for f in dataclasses.fields(People)}
    )
    firms = dataclasses.replace(stevenage.firms, size=stevenage.firms.size.copy())
    rng = np.random.default_rng(seed)
    out = np.flatnonzero(people.status != EMPLOYED)
    rows = rng.permutation(out[rng.random(out.size) < share])  # hires come in market order, not row order
    firm_rows = rng.integers(0, firms.n_used, rows.size)
    want_size = firms.size.copy()
    np.add.at(want_size, firm_rows, 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABOURLAB_THREADS", str(k))
        mp.setattr(parallel, "MIN_BLOCK", 1)
        mp.setattr(parallel, "ALIGN", 7)
        matching.start_jobs(people, firms, rows, firm_rows, stevenage.params)
    np.testing.assert_array_equal(firms.size, want_size)
    assert people.fragile[rows].all()  # every job taken from out of work is fragile
    assert (people.status[rows] == EMPLOYED).all() and (people.months_in_status[rows] == 0).all()
    np.testing.assert_array_equal(people.employer[rows], firm_rows)
    np.testing.assert_array_equal(people.wage[rows], wage_for(people.skill[rows], stevenage.params))
    assert (people.benefit[rows] == NO_BENEFIT).all() and (people.group[rows] == NO_GROUP).all()
    others = np.setdiff1d(np.arange(people.n), rows)
    for name in ("status", "employer", "benefit", "group", "wage", "fragile", "months_in_status"):
        np.testing.assert_array_equal(getattr(people, name)[others], getattr(stevenage.people, name)[others])


@pytest.mark.parametrize("regime", ["centralised", "cooperative"])
def test_providers_given_their_lists_do_what_they_do_finding_them(regime: str) -> None:
    """The model hands providers the month's claimant list (`step_all(claimants=...)`) and last
    month's participants (`attached=...`), which they would otherwise find in their own scan:
    the same people changed, the same months, the same participants left. `attached` may hold
    rows no longer (or never) attached: here every third row is added to it."""
    from simulation.mechanisms import providers
    from simulation.mechanisms._util import claimant_rows

    model = LabourMarketModel(config=make_scenario("stevenage", regime, months=6, burn_in=3), seed=2)
    for _ in range(3):
        model.step()
    assert model.participants is not None and model.participants.size > 0
    outcomes = []
    for given_claimants, given_attached in ((False, False), (True, False), (False, True), (True, True)):
        people = dataclasses.replace(
            model.people, **{f.name: getattr(model.people, f.name).copy() for f in dataclasses.fields(People)}
        )
        ids = np.array([prov.district for prov in model.providers])
        attached = np.union1d(model.participants, np.arange(0, people.n, 3)) if given_attached else None
        months, participants = providers.step_all(
            people,
            people.district,
            ids,
            model.providers[0].levers,
            model.params,
            model.referral_key,
            model.q_prev[model.district_market][ids],
            model.month,
            model.ppa,
            claimant_rows(people) if given_claimants else None,
            attached,
        )
        np.testing.assert_array_equal(participants, np.flatnonzero(people.programme != NO_PROGRAMME))
        outcomes.append((people, [dataclasses.asdict(m) for m in months]))
    a, months_a = outcomes[0]
    for b, months_b in outcomes[1:]:
        for f in dataclasses.fields(People):
            np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name))
        for x, y in zip(months_a, months_b, strict=True):
            assert x.keys() == y.keys()
            for key in x:
                np.testing.assert_array_equal(x[key], y[key])
    assert sum(m["participants"] for m in months_a) > 0


def _cohort_update_plainly(
    month, follow_up, outcome_months, ppa, em_, eg, om, cw, status, district, programme, e, r, o
):
    """`outcomes_kernels.cohort_update`'s official-cohort rule, row by row in Python (outcomes
    counted under the one horizon `follow_up`; the common cohort is in test_kernels_reference)."""
    for i in range(em_.shape[0]):
        em, d, g = int(em_[i]), int(district[i]), int(eg[i])
        if em < 0:
            continue
        if em == month:
            e[month, d, g] += ppa
            if programme[i] != -1:
                r[month, d, g] += ppa
        if om[i] != -32768 or month - em > follow_up:
            continue
        cw[i] = cw[i] + 1 if status[i] == EMPLOYED else 0
        if cw[i] >= outcome_months[g]:
            om[i] = month
            o[em, d, g, 0] += ppa


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 3 * 4096 + 5),
    eligible_share=st.sampled_from([0.0, 0.1, 0.6, 1.0]),
    follow_up=st.sampled_from([3, 24]),
)
def test_cohort_pass_over_listed_rows_is_the_plain_rule(
    seed: int, n: int, eligible_share: float, follow_up: int
) -> None:
    """The cohort pass lists each chunk's eligible rows, then visits only those: the same counts,
    to the bit (the same additions in the same order), outcome months and months in work as the
    rule applied to every row, across chunk edges."""
    from simulation.people import OFFICIAL_OUTCOME_MONTHS

    rng = np.random.default_rng(seed)
    month, months, nd = 7, 10, 3
    em = np.where(rng.random(n) < eligible_share, rng.integers(0, month + 1, n), -32768).astype(np.int16)
    eg = rng.choice([1, 2, 3, 4, 5], n).astype(np.int8)
    om = np.where(rng.random(n) < 0.2, rng.integers(0, month, n), -32768).astype(np.int16)
    cw = rng.integers(0, 7, n).astype(np.int16)
    status = rng.choice([EMPLOYED, UNEMPLOYED, INACTIVE], n).astype(np.int8)
    district = rng.integers(0, nd, n).astype(np.int16)
    programme = rng.choice([-1, 0, 1, 2], n).astype(np.int16)
    ppa = 0.1 + rng.random()
    shape = (months, nd, len(OFFICIAL_OUTCOME_MONTHS))
    got = [np.zeros(shape), np.zeros(shape), np.zeros((*shape, 1))]
    want = [np.zeros_like(a) for a in got]
    om2, cw2 = om.copy(), cw.copy()
    # No one claims, so no one enters the common cohort.
    none = np.zeros(n, dtype=np.int8)
    # No one referred either: the referred's outcomes (checked against the plain rule in
    # tests/unit/test_kernels_reference.py) stay zero here.
    cohort_people = outcomes_kernels.CohortPeople(
        em, eg, om, cw, status, district, programme, none, none, np.zeros(n, dtype=np.int16), np.zeros(n, dtype=bool)
    )
    common = outcomes_kernels.CommonPeople(
        np.full(n, -32768, np.int16), none, np.zeros(n, np.int16), np.zeros(n, np.int16)
    )
    referred_outcome = np.zeros_like(got[2])
    bands = outcomes_kernels.DRAW_BANDS
    band_eligible, band_outcome = np.zeros((*shape, bands)), np.zeros((*shape, 1, bands))
    counts = outcomes_kernels.CohortCounts(
        *got, referred_outcome, *(np.zeros_like(a) for a in got), np.zeros_like(got[2]), band_eligible, band_outcome
    )
    horizons = np.array([follow_up], dtype=np.int64)
    draw_band = rng.integers(0, bands, n).astype(np.int8)
    outcomes_kernels.cohort_update(
        month, horizons, OFFICIAL_OUTCOME_MONTHS, 3, 6, ppa, cohort_people, common, counts, draw_band
    )
    _cohort_update_plainly(
        month, follow_up, OFFICIAL_OUTCOME_MONTHS, ppa, em, eg, om2, cw2, status, district, programme, *want
    )
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(om, om2)
    np.testing.assert_array_equal(cw, cw2)
    assert not referred_outcome.any()
    # The bands of the referral draw split the eligible and their outcomes, nothing lost or added.
    np.testing.assert_allclose(band_eligible.sum(axis=-1), got[0])
    np.testing.assert_allclose(band_outcome.sum(axis=-1), got[2])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_glibc_agrees_to_keep_freed_memory() -> None:
    """The model asks glibc (once) to reuse freed large blocks; on glibc Linux it must agree."""
    from simulation import memory

    assert memory.keep_freed_memory() is True
    assert memory.keep_freed_memory() is True  # asked once, remembered


def test_prefetched_normals_are_the_streams_own() -> None:
    """Normals drawn ahead on the background thread are the ones `normal` draws, and a new month
    drops what the last one prefetched and never used."""
    s, n = Streams(5), PREFETCH_MIN
    s.prefetch_normal("firm_growth", 3, n)
    s.prefetch_normal("unused", 3, n)
    assert len(s._pending) == 2
    got = s.normal("firm_growth", 3, n)
    np.testing.assert_array_equal(got, Streams(5).normal("firm_growth", 3, n))
    assert not got.flags.writeable
    s.normal("firm_growth", 4, 10)
    assert not s._pending


def test_a_forked_child_starts_without_its_parents_thread_pools() -> None:
    """A child forked from a process whose pool has threads forgets that pool (its threads do not
    exist in the child, so using it would hang) and starts its own. Run in a fresh interpreter,
    so the fork happens with a pool known to be alive and nothing else of this session's."""
    import os
    import subprocess

    code = """
import os, warnings
warnings.simplefilter("ignore")  # forking with live threads is the case being tested
from simulation import parallel
parallel.MIN_BLOCK, parallel.ALIGN = 1, 1
parallel.map_blocks(lambda lo, hi: None, 8)
assert parallel._pool is not None
pid = os.fork()
if pid == 0:
    forgot = parallel._pool is None
    ran = parallel.map_blocks(lambda lo, hi: hi - lo, 8) == [4, 4]  # a fresh pool of its own
    os._exit(0 if forgot and ran else 1)
_, status = os.waitpid(pid, 0)
raise SystemExit(os.waitstatus_to_exitcode(status))
"""
    env = dict(os.environ, LABOURLAB_THREADS="2")
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=60)
    assert done.returncode == 0


@pytest.mark.parametrize("n", [1, 70_000, 300_000])
def test_uniform_rows_are_the_streams_own_at_those_rows(n: int, monkeypatch) -> None:
    """`uniform_rows` jumps from row to row asked for: the numbers must be those of the whole
    array at those rows."""
    monkeypatch.setenv("LABOURLAB_THREADS", "3")
    monkeypatch.setattr(parallel, "MIN_BLOCK", 1000)
    rows = np.flatnonzero(np.random.default_rng(n).random(n) < 0.05)
    rows = np.append(rows, n - 1)  # the last row, so the stream has n draws
    want = Streams(9).uniform("vacancy_fill", 2, n)[rows]
    np.testing.assert_array_equal(Streams(9).uniform_rows("vacancy_fill", 2, rows), want)
    assert Streams(9).uniform_rows("vacancy_fill", 2, np.zeros(0, dtype=np.int64)).size == 0


def _claim_group(benefit: int, age: int) -> int:
    if benefit == JSA:
        return JSA_18_24 if age < 25 else JSA_25_PLUS
    return ESA_NEW if benefit == ESA else NO_GROUP


def _scrambled_rows(seed: int, n: int) -> dict[str, np.ndarray]:
    """Per-row state in every combination."""
    rng = np.random.default_rng(seed)
    return {
        "status": rng.choice([EMPLOYED, UNEMPLOYED, INACTIVE], n).astype(np.int8),
        "months": rng.integers(0, 12, n).astype(np.int16),
        "fragile": rng.random(n) < 0.5,
        "benefit": rng.choice([NO_BENEFIT, JSA, ESA], n).astype(np.int8),
        "group": rng.integers(0, 6, n).astype(np.int8),
        "age": rng.integers(16, 65, n).astype(np.int8),
        "district": np.sort(rng.integers(0, 5, n)).astype(np.int16),
        "employer": rng.integers(0, 40, n).astype(np.int32),
        "wage": rng.random(n).astype(np.float32),
        "work_months": rng.integers(0, 30, n).astype(np.int16),
        "claim_propensity": rng.choice([0.0, 0.3, 0.6, 1.0], n).astype(np.float32),
        "health_condition": rng.random(n) < 0.3,
    }


RATES = [0.0, 1e-3, 0.05, 0.3, 0.9]


def _rates(rng: np.random.Generator, draws: np.ndarray, k: int) -> list[float]:
    """k rates, each a fixed one or exactly some row's draw (the boundaries a row may sit on)."""
    return [
        float(rng.choice(RATES)) if rng.random() < 0.5 else float(draws[rng.integers(draws.size)]) for _ in range(k)
    ]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(0, 3_000))
def test_separations_kernel_equals_the_plain_rule(seed: int, cut: int) -> None:
    """`separations_kernels.separations` skips rows, writes `fragile` only when it changes and reads its draws
    in the loop; run in two blocks split at `cut`, it must do what the plain per-row rule does
    with the streams' arrays, with rates exactly at some rows' draws too."""
    n, fm = 3_000, 6
    streams = Streams(seed)
    u, u_claim = streams.uniform("separation", 4, n), streams.uniform("claim", 4, n)
    rate_eu, early, ei = _rates(np.random.default_rng(seed), u, 3)
    (esa_return,) = _rates(np.random.default_rng(seed + 1), u_claim, 1)
    fast = _scrambled_rows(seed, n)
    ref = {k: v.copy() for k, v in fast.items()}
    size_f, size_r = np.full(40, 500, np.int32), np.full(40, 500, np.int32)
    counts_f, counts_r = np.zeros((2, 5), np.int64), np.zeros((2, 5), np.int64)
    f = fast
    workers = separations_kernels.SeparationPeople(
        status=f["status"], months_in_status=f["months"], fragile=f["fragile"], benefit=f["benefit"],
        group=f["group"], age=f["age"], district=f["district"], employer=f["employer"], wage=f["wage"],
        work_months=f["work_months"], claim_propensity=f["claim_propensity"], health_condition=f["health_condition"],
    )  # fmt: skip
    rates = separations_kernels.SeparationRates(
        esa_return=esa_return, rate_eu=np.full(5, rate_eu), early_rate=early, rate_ei=ei, fragile_months=fm
    )
    for lo, hi in ((0, cut), (cut, n)):
        separations_kernels.separations(
            lo, hi - lo, streams.table("separation", 4), streams.table("claim", 4), workers, rates, size_f, *counts_f
        )
    r = ref
    for i in range(n):
        employed = r["status"][i] == EMPLOYED
        r["fragile"][i] = r["fragile"][i] and employed and r["months"][i] < fm
        hazard = early if r["fragile"][i] else rate_eu
        if employed and u[i] < hazard + ei:
            to = UNEMPLOYED if u[i] < hazard else INACTIVE
            prop = float(r["claim_propensity"][i])
            benefit = NO_BENEFIT
            if r["health_condition"][i] and u_claim[i] < esa_return:  # back onto ESA
                to, benefit = INACTIVE, ESA
            elif to == UNEMPLOYED:
                threshold = esa_return + (1.0 - esa_return) * prop if r["health_condition"][i] else prop
                benefit = JSA if u_claim[i] < threshold else NO_BENEFIT
            counts_r[0 if to == UNEMPLOYED else 1, r["district"][i]] += 1
            size_r[r["employer"][i]] -= 1
            r["employer"][i], r["wage"][i], r["status"][i], r["months"][i], r["work_months"][i] = -1, 0, to, 0, 0
            r["benefit"][i], r["group"][i] = benefit, _claim_group(benefit, r["age"][i])
    for k in ref:
        np.testing.assert_array_equal(fast[k], ref[k], err_msg=k)
    np.testing.assert_array_equal(size_f, size_r)
    np.testing.assert_array_equal(counts_f, counts_r)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(0, 10_000))
def test_participation_kernel_equals_the_plain_rule(seed: int, cut: int) -> None:
    """`participation_kernels.participation` lists the rows out of work a chunk at a time and jumps its streams
    to their draws; run in two blocks split at `cut` (several chunks each), it must do what the
    plain per-row rule does with the streams' arrays, with rates exactly at some rows' draws too."""
    assert participation_kernels.PARTICIPATION_CHUNK < 5_000
    n = 10_000
    streams = Streams(seed)
    u, u_ill = streams.uniform("participation", 4, n), streams.uniform("ill_health", 4, n)
    u_claim = streams.uniform("claim", 4, n)
    rng = np.random.default_rng(seed)
    (exit_ui,) = _rates(rng, u, 1)
    entry, esa = np.array(_rates(rng, u, 5)), np.array(_rates(rng, u_ill, 5))
    fast = _scrambled_rows(seed, n)
    ref = {k: v.copy() for k, v in fast.items()}
    ill_r = np.zeros(n, bool)
    counts_f, counts_r = np.zeros((3, 5), np.int64), np.zeros((3, 5), np.int64)
    f = fast
    tabs = (streams.table("participation", 4), streams.table("ill_health", 4), streams.table("claim", 4))
    movers = participation_kernels.ParticipationPeople(
        status=f["status"], months_in_status=f["months"], benefit=f["benefit"], group=f["group"], age=f["age"],
        district=f["district"], claim_propensity=f["claim_propensity"], health_condition=f["health_condition"],
    )  # fmt: skip
    rates = participation_kernels.ParticipationRates(exit_rate_ui=np.full(5, exit_ui), entry_rate=entry, esa_onflow=esa)
    flows_f = participation_kernels.ParticipationFlows(*counts_f)
    ill_f = np.concatenate(
        [
            participation_kernels.participation(lo, hi - lo, *tabs, movers, rates, flows_f)
            for lo, hi in ((0, cut), (cut, n))
        ]
    )
    r = ref

    def claim(i: int, benefit: int) -> None:
        r["benefit"][i], r["group"][i] = benefit, _claim_group(benefit, r["age"][i])

    for i in range(n):
        d, s = r["district"][i], r["status"][i]
        if s == UNEMPLOYED and u[i] < exit_ui:
            r["status"][i], r["months"][i] = INACTIVE, 0
            counts_r[0, d] += 1
            if r["benefit"][i] == JSA:
                claim(i, NO_BENEFIT)
        elif s == INACTIVE and u[i] < entry[d]:
            r["status"][i], r["months"][i] = UNEMPLOYED, 0
            counts_r[1, d] += 1
            if r["benefit"][i] == NO_BENEFIT and u_claim[i] < r["claim_propensity"][i]:
                claim(i, JSA)
        if r["status"][i] != EMPLOYED and r["benefit"][i] != ESA and u_ill[i] < esa[d]:
            if r["status"][i] == UNEMPLOYED:
                r["status"][i] = INACTIVE
                counts_r[0, d] += 1
            r["months"][i] = 0
            claim(i, ESA)
            r["health_condition"][i] = True
            counts_r[2, d] += 1
            ill_r[i] = True
    for k in ref:
        np.testing.assert_array_equal(fast[k], ref[k], err_msg=k)
    np.testing.assert_array_equal(ill_f, np.flatnonzero(ill_r))
    np.testing.assert_array_equal(counts_f, counts_r)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([1e-300, 1e-12, 0.01, 1.0, 50.0]))
def test_search_candidates_hold_every_hire(seed: int, scale: float) -> None:
    """Matching works out a searcher's chance 1 - exp(-q w) only when the draw is below q w; the
    candidates must include everyone the plain rule hires, with their draws, so the hires and
    their ranks are the plain rule's."""
    rng = np.random.default_rng(seed)
    n = 5_000
    rows = np.sort(rng.choice(3 * n, n, replace=False))
    market = np.sort(rng.integers(0, 4, n)).astype(np.int16)
    q = rng.random(4) * scale + 1e-300
    w = rng.choice([0.0, 1e-9, 0.3, 1.0, 7.0], n) * rng.random(n)
    s = Streams(seed)
    u = s.uniform("search", 2, 3 * n)
    # Some searchers' chances put within a rounding of their draws, where the margin matters.
    exact = rng.random(n) < 0.2
    w[exact] = -dm.np_log1p(-u[rows[exact]]) / q[market[exact]]
    p_all = -dm.np_expm1(-q[market] * w)
    cand, x, draw = matching_kernels.search_candidates(s.table("search", 2), rows, q, market, w)
    p = -dm.np_expm1(-x)
    hit = draw < p
    want = u[rows] < p_all
    assert want.any() and (~want).any()
    np.testing.assert_array_equal(cand[hit], rows[want])
    np.testing.assert_array_equal(draw[hit] / p[hit], u[rows][want] / p_all[want])


def test_join_concatenates_each_array_of_the_blocks_in_order() -> None:
    parts = [(np.array([0, 1]), np.array([0.5])), (np.array([7]), np.array([], dtype=np.float64))]
    rows, values = parallel.join(parts)
    np.testing.assert_array_equal(rows, [0, 1, 7])
    np.testing.assert_array_equal(values, [0.5])
    one = (np.arange(3), np.ones(3))
    assert all(a is b for a, b in zip(parallel.join([one]), one, strict=True))  # one block: no copy


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_long_claimants_from_the_claimant_list_equal_the_plain_mask(stevenage: LabourMarketModel, seed: int) -> None:
    """Developers and partnerships find long-term claimants among the month's claimant list; with
    the list or by a scan of every row, on any number of threads, they are the rows of the plain
    mask, and people hired since the list was made drop out."""
    people = dataclasses.replace(
        stevenage.people, **{f.name: getattr(stevenage.people, f.name).copy() for f in dataclasses.fields(People)}
    )
    rng = np.random.default_rng(seed)
    n = people.n
    people.status[:] = rng.choice([EMPLOYED, UNEMPLOYED, INACTIVE], n)
    people.benefit[:] = rng.choice([NO_BENEFIT, JSA, ESA], n)
    people.group[:] = np.where(people.benefit == NO_BENEFIT, NO_GROUP, JSA_25_PLUS)
    people.months_out[:] = rng.integers(0, 12, n)
    people.placement_months[:] = rng.random(n) < 0.1
    claimants = _util.claimant_rows(people)
    hired = rng.choice(claimants, claimants.size // 10, replace=False)
    people.status[hired], people.benefit[hired], people.group[hired] = EMPLOYED, NO_BENEFIT, NO_GROUP
    want = np.flatnonzero(
        (people.status != EMPLOYED)
        & (people.benefit != NO_BENEFIT)
        & (people.months_out >= 6)
        & (people.placement_months == 0)
    )
    np.testing.assert_array_equal(_util.long_claimants(people, 6), want)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABOURLAB_THREADS", "3")
        mp.setattr(parallel, "MIN_BLOCK", 1)
        np.testing.assert_array_equal(_util.long_claimants(people, 6, claimants), want)


@settings(max_examples=80, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 300), min_size=1, max_size=12),
    seed=st.integers(0, 2**32 - 1),
)
def test_sums_of_sorted_groups_are_bincounts_bit_for_bit(sizes: list[int], seed: int) -> None:
    """`shared_kernels.sum_by_sorted` adds each run of a group in a register: the sums must be
    np.bincount's to the bit, with empty groups, negative zeros and values of any scale."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(len(sizes), dtype=np.int16), sizes)
    values = rng.choice([0.0, -0.0, 1e-300, 1.0, 3.7e10], groups.size) * rng.lognormal(0.0, 3.0, groups.size)
    want = np.bincount(groups, weights=values, minlength=len(sizes) + 2)
    got = shared_kernels.sum_by_sorted(groups, values, len(sizes) + 2)
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))


def _school_leavers_plainly(people: People, firm_size: np.ndarray, rows: np.ndarray, retirements: np.ndarray) -> None:
    """`participation_kernels.school_leavers`' rule, field by field in numpy."""
    employed = rows[people.status[rows] == EMPLOYED]
    np.subtract.at(firm_size, people.employer[employed], 1)
    retirements += np.bincount(people.district[rows], minlength=retirements.shape[0])
    people.age[rows] = 16
    people.status[rows] = INACTIVE
    people.months_in_status[rows] = 0
    people.months_out[rows] = 0
    people.health_condition[rows] = False
    people.employer[rows] = NO_EMPLOYER
    people.wage[rows] = 0
    people.benefit[rows] = NO_BENEFIT
    people.group[rows] = NO_GROUP
    people.placement_months[rows] = 0
    people.mentor_months[rows] = 0
    people.programme[rows] = NO_PROGRAMME
    people.months_in_programme[rows] = 0
    people.work_months[rows] = 0
    people.outcome_paid[rows] = False
    people.sustain_paid[rows] = 0
    people.ever_referred[rows] = False
    people.eligible_month[rows] = NOT_ELIGIBLE
    people.eligible_group[rows] = NO_GROUP
    people.cohort_work[rows] = 0
    people.outcome_month[rows] = NOT_ELIGIBLE
    people.sanction_months[rows] = 0


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), share=st.floats(0.0, 1.0))
def test_school_leavers_take_their_slots_as_the_plain_rule_says(
    stevenage: LabourMarketModel, seed: int, share: float
) -> None:
    """Every field of every row, and firms' headcounts, bit for bit; the other rows untouched."""
    rng = np.random.default_rng(seed)
    people = dataclasses.replace(
        stevenage.people, **{f.name: getattr(stevenage.people, f.name).copy() for f in dataclasses.fields(People)}
    )
    rows = np.flatnonzero(rng.random(people.n) < share)
    rng.shuffle(rows)  # any order: the rows need only be distinct
    plain = dataclasses.replace(people, **{f.name: getattr(people, f.name).copy() for f in dataclasses.fields(People)})
    size, plain_size = stevenage.firms.size.copy(), stevenage.firms.size.copy()
    n_districts = int(people.district.max()) + 1
    retired, plain_retired = np.zeros(n_districts, np.int64), np.zeros(n_districts, np.int64)
    _school_leavers_plainly(plain, plain_size, rows, plain_retired)
    participation_kernels.school_leavers(rows, participation_kernels.SchoolLeaverPeople.of(people), retired, size)
    for f in dataclasses.fields(People):
        a, b = getattr(people, f.name), getattr(plain, f.name)
        assert a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8)), f.name
    assert np.array_equal(size, plain_size) and np.array_equal(retired, plain_retired)
