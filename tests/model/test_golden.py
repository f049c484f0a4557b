"""Speed work must not change results: runs on fixed seeds reproduce recorded digests bit for bit.

`tests/data/golden.json` holds the sha256 of the monthly and cohorts tables of a handful of runs
(testville and Stevenage under every regime, two seeds, and a small England run at 1,000 people a
row), recorded from the model before any optimisation. Any change to a random draw, to the order of floating-point
sums or to a dtype shows up here. The speed work's shortcuts that only large runs reach (sorting a
subset in `pick_per_group` and `take_posts`) are checked against the full sorts they replace.
The monthly table's columns are hashed in the order they had when the digests were recorded
(`tests/data/golden_columns.json`): the refactor that builds the results from each mechanism's
declared outputs (issue 21) groups the columns by mechanism, which moves no value, dtype or name;
a column added or lost still fails. Regenerate only for a deliberate change of model behaviour:

    python tests/model/test_golden.py --write
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import parallel
from simulation import people as people_module
from simulation.config import make_scenario
from simulation.firms import Firms
from simulation.mechanisms import _util as util_module
from simulation.mechanisms import matching, participation_kernels, shared_kernels
from simulation.mechanisms._util import (
    int_sum_by,
    pick_per_group,
    rank_within_sorted_groups,
    sort_by_group_then_key,
    sum_by,
    sum_by_sorted,
    sum_contiguous,
)
from simulation.model import LabourMarketModel
from simulation.rng import _GOLDEN, Streams, _splitmix64, stable_hash

GOLDEN = Path(__file__).parents[1] / "data" / "golden.json"
GOLDEN_COLUMNS = Path(__file__).parents[1] / "data" / "golden_columns.json"


def in_recorded_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The monthly table with its columns in the order the digests were recorded in; the same
    set of columns, or a failure naming the difference."""
    recorded = json.loads(GOLDEN_COLUMNS.read_text())
    assert set(frame.columns) == set(recorded), (
        f"columns added {sorted(set(frame.columns) - set(recorded))}, lost {sorted(set(recorded) - set(frame.columns))}"
    )
    return frame[recorded]


# (place, regime, seed, months, burn_in, people_per_agent)
RUNS: list[tuple[str, str, int, int, int, float | None]] = [
    *(("testville", r, s, 14, 6, None) for r in ("no_programme", "centralised", "cooperative") for s in (1, 2)),
    *(("stevenage", r, s, 8, 4, None) for r in ("no_programme", "centralised", "cooperative") for s in (1, 2)),
    ("england", "centralised", 3, 6, 3, 1000.0),
    ("england", "cooperative", 3, 6, 3, 1000.0),
]


def run_id(run: tuple[str, str, int, int, int, float | None]) -> str:
    place, regime, seed, months, burn_in, ppa = run
    return f"{place}-{regime}-seed{seed}-m{months}-b{burn_in}" + (f"-ppa{ppa:g}" if ppa else "")


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a table's column names, dtypes and every value's bytes (row order included)."""
    h = hashlib.sha256()
    h.update(json.dumps([(c, str(frame[c].dtype)) for c in frame.columns]).encode())
    h.update(np.ascontiguousarray(pd.util.hash_pandas_object(frame, index=True).to_numpy()).tobytes())
    return h.hexdigest()


def digests(run: tuple[str, str, int, int, int, float | None]) -> dict[str, str]:
    place, regime, seed, months, burn_in, ppa = run
    sc = make_scenario(place, regime, months=months, burn_in=burn_in, people_per_agent=ppa)
    model = LabourMarketModel(config=sc, seed=seed, agent_views=False)
    while model.running:
        model.step()
    return {
        "monthly": frame_digest(in_recorded_order(model.results_frame())),
        "cohorts": frame_digest(model.cohorts.frame(model.district_names)),
    }


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, str]]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_golden_file_covers_every_run(golden: dict[str, dict[str, str]]) -> None:
    assert sorted(golden) == sorted(run_id(r) for r in RUNS)


@pytest.mark.parametrize("run", RUNS, ids=run_id)
def test_results_match_golden_digests(run: tuple[str, str, int, int, int, float | None], golden) -> None:
    assert digests(run) == golden[run_id(run)]


# Below LEXSORT_BELOW numpy's lexsort; below SORT_BLOCK one sort; above, a sort per group.
@pytest.mark.parametrize("n", [1_000, 20_000, 100_000])
@pytest.mark.parametrize("ties", [0, 3, 500])
def test_sort_by_group_then_key_is_lexsort(ties: int, n: int) -> None:
    rng = np.random.default_rng(ties)
    key = rng.random(n)
    key[rng.integers(0, key.size, ties)] = key[1]
    groups = rng.integers(0, 30, key.size).astype(np.int16)
    np.testing.assert_array_equal(sort_by_group_then_key(groups, key), np.lexsort((key, groups)))


@pytest.mark.parametrize("n", [0, 7, 100_000])
def test_sum_by_is_bincounts_sum(n: int) -> None:
    """Searchers' weights are summed by market in one compiled pass; the sums must be numpy's."""
    rng = np.random.default_rng(n)
    groups = rng.integers(0, 149, n).astype(np.int16)
    values = rng.lognormal(0.0, 3.0, n)
    np.testing.assert_array_equal(sum_by(groups, values, 149), np.bincount(groups, weights=values, minlength=149))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 148), st.integers(0, 10**6)), max_size=400),
    st.sampled_from([np.int16, np.int64]),
)
def test_int_sum_by_is_bincounts_sum(pairs: list[tuple[int, int]], dtype: type) -> None:
    """Open posts are counted by market in integers; the counts must be numpy's float sums."""
    groups = np.array([g for g, _ in pairs], dtype=dtype)
    values = np.array([v for _, v in pairs], dtype=np.int64)
    expected = np.bincount(groups, weights=values, minlength=149).astype(np.int64)
    np.testing.assert_array_equal(int_sum_by(groups, values, 149), expected)


@pytest.mark.parametrize("min_block", [1, 10**9])
def test_sum_by_sorted_is_bincounts_sum(min_block: int, monkeypatch) -> None:
    """Searchers' weights are summed by market in spans of markets on threads; the sums must be
    numpy's, with empty markets at the edges and inside."""
    monkeypatch.setenv("LABOURLAB_THREADS", "3")
    monkeypatch.setattr(parallel, "MIN_BLOCK", min_block)
    rng = np.random.default_rng(9)
    groups = np.sort(rng.integers(2, 140, 100_000)).astype(np.int16)
    groups = groups[(groups != 50) & (groups != 51)]
    values = rng.lognormal(0.0, 3.0, groups.size)
    want = np.bincount(groups, weights=values, minlength=149)
    np.testing.assert_array_equal(sum_by_sorted(groups, values, 149), want)


def reference_pick(rows: np.ndarray, groups: np.ndarray, key: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """pick_per_group as first written: sort everything by (group, key), take each group's first quota."""
    order = np.lexsort((key, groups))
    rows, groups = rows[order], groups[order]
    return rows[rank_within_sorted_groups(groups) < quota[groups]]


@pytest.mark.parametrize("seed", range(4))
def test_pick_per_group_sorts_a_subset_but_picks_exactly_as_a_full_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, n_groups = 50_000, 40
    groups = rng.integers(0, n_groups, n)
    key = rng.random(n)
    key[rng.integers(0, n, 50)] = key[0]  # ties, broken by position in both
    quota = rng.integers(-2, 60, n_groups)
    quota[3] = 10**6  # a group that takes everyone
    rows = rng.permutation(10 * n)[:n]
    np.testing.assert_array_equal(pick_per_group(rows, groups, key, quota), reference_pick(rows, groups, key, quota))


@pytest.mark.parametrize("seed", range(3))
def test_lowest_per_group_picks_as_pick_per_group(seed: int) -> None:
    """Layoffs pick each shrinking firm's lowest keys within the firm; the set must be
    pick_per_group's (ties to the earlier row), for many small groups and a few large ones."""
    rng = np.random.default_rng(seed)
    n, n_groups = 60_000, 9_000
    groups = np.concatenate([rng.integers(0, n_groups, n - 5_000), rng.integers(0, 3, 5_000)])
    key = rng.random(n)
    key[rng.integers(0, n, 300)] = key[0]
    quota = rng.integers(-1, 6, n_groups)
    quota[:3] = [0, 40, 10**6]
    rows = np.sort(rng.permutation(10 * n)[:n])
    want = np.sort(reference_pick(rows, groups, key, quota))
    np.testing.assert_array_equal(rows[shared_kernels.lowest_per_group(groups, key, quota)], want)


def reference_take_posts(firms: Firms, candidates, priority, person_market, uf) -> tuple[np.ndarray, np.ndarray]:
    """take_posts as first written: make and sort every open post of every market."""
    n_markets = int(person_market.max()) + 1
    vac = firms.vacancies()
    v_m = np.bincount(firms.market, weights=vac, minlength=n_markets).astype(np.int64)
    cand_market = person_market[candidates]
    order = np.lexsort((priority, cand_market))
    candidates, cand_market = candidates[order], cand_market[order]
    keep = rank_within_sorted_groups(cand_market) < v_m[cand_market]
    candidates, cand_market = candidates[keep], cand_market[keep]
    h_m = np.bincount(cand_market, minlength=n_markets)
    firm_of_slot = np.repeat(np.arange(firms.capacity), vac)
    starts = np.cumsum(vac) - vac
    k = np.arange(firm_of_slot.size) - np.repeat(starts, vac)
    slot_key = (k + uf[firm_of_slot]) / vac[firm_of_slot]
    slot_market = firms.market[firm_of_slot]
    order = np.lexsort((slot_key, slot_market))
    firm_of_slot, slot_market = firm_of_slot[order], slot_market[order]
    return candidates, firm_of_slot[rank_within_sorted_groups(slot_market) < h_m[slot_market]]


def hiring_firms(size: np.ndarray, target: np.ndarray, alive: np.ndarray, market: np.ndarray, n_used: int) -> Firms:
    """Small firms in one district with these headcounts, desired headcounts and markets."""
    n = size.shape[0]
    return Firms(
        district=np.zeros(n, dtype=np.int16),
        market=market,
        size=size,
        target=target,
        potential=np.zeros(n),
        shock=np.zeros(n),
        age=np.zeros(n, dtype=np.int32),
        alive=alive,
        large=np.zeros(n, dtype=bool),
        hub_months=np.zeros(n, dtype=np.int16),
        ever_supported=np.zeros(n, dtype=bool),
        draw_row=np.arange(n, dtype=np.int32),
        n_used=n_used,
    )


@pytest.mark.parametrize("n_candidates", [0, 30, 3_000, 40_000])
def test_take_posts_makes_fewer_posts_but_fills_exactly_as_making_all(n_candidates: int) -> None:
    rng = np.random.default_rng(n_candidates)
    n_firms, n_markets, n_people = 20_000, 5, 200_000
    size = rng.integers(0, 30, n_firms).astype(np.int32)
    firms = hiring_firms(
        size,
        size + rng.integers(-3, 8, n_firms).astype(np.float64),
        rng.random(n_firms) < 0.9,
        rng.integers(0, n_markets, n_firms).astype(np.int16),
        n_firms,
    )
    person_market = np.sort(rng.integers(0, n_markets, n_people)).astype(np.int16)
    candidates = np.sort(rng.choice(n_people, n_candidates, replace=False))
    priority = rng.random(n_candidates)
    streams = Streams(11)
    uf = streams.uniform("vacancy_fill", 3, firms.capacity)
    got = matching.take_posts(firms, candidates, priority, person_market, streams, 3, "vacancy_fill")
    want = reference_take_posts(firms, candidates, priority, person_market, uf)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert n_candidates == 0 or got[1].size > 0


@pytest.mark.parametrize("min_block", [1, 10**9])  # many blocks (edges anywhere), one block
def test_hiring_is_where_vacancies_are_positive(min_block: int, monkeypatch) -> None:
    """Firms.hiring() finds the open posts a block of rows per thread, without a branch; they must
    be numpy's round-half-up target minus headcount, where positive, for living firms."""
    monkeypatch.setenv("LABOURLAB_THREADS", "3")
    monkeypatch.setattr(parallel, "MIN_BLOCK", min_block)
    monkeypatch.setattr(parallel, "ALIGN", 97)
    rng = np.random.default_rng(5)
    n = 10_000
    size = rng.integers(0, 20, n).astype(np.int32)
    firms = hiring_firms(  # slots past n_used are never open
        size, size + rng.normal(0.0, 2.0, n), rng.random(n) < 0.5, np.zeros(n, dtype=np.int16), n - 300
    )
    v = np.where(firms.alive, np.floor(firms.target + 0.5).astype(np.int64) - size, 0)[: n - 300]
    rows, vac = firms.hiring()
    np.testing.assert_array_equal(rows, np.flatnonzero(v > 0))
    np.testing.assert_array_equal(vac, v[v > 0])


def test_birthdays_ages_and_finds_the_retiring_as_numpy() -> None:
    rng = np.random.default_rng(6)
    age = rng.integers(16, 66, 50_000).astype(np.int8)
    rows = np.sort(rng.choice(age.size, 4_000, replace=False)).astype(np.int32)
    want = age.copy()
    want[rows] += 1
    at = participation_kernels.birthdays(age, rows, 65)
    np.testing.assert_array_equal(age, want)
    np.testing.assert_array_equal(at, np.flatnonzero(want[rows] >= 65))
    assert at.size > 0


@pytest.mark.parametrize("run", [RUNS[3], RUNS[11]], ids=run_id)
def test_results_do_not_depend_on_the_block_size_of_draws(run, golden, monkeypatch) -> None:
    """The starting population is drawn a block of rows at a time; tiny blocks (many, the last
    one short) must give the golden results too."""
    monkeypatch.setattr(people_module, "CHUNK", 777)
    assert digests(run) == golden[run_id(run)]


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("run", [RUNS[3], RUNS[11], RUNS[12], RUNS[13]], ids=run_id)
def test_results_do_not_depend_on_threads(run, threads: int, golden, monkeypatch) -> None:
    """The person passes shared out over threads by blocks of rows (`simulation.parallel`) give
    the golden results for any number of threads and any block edges; tiny blocks make even
    these small runs use several threads, with edges that cut districts."""
    monkeypatch.setenv("LABOURLAB_THREADS", str(threads))
    monkeypatch.setattr(parallel, "MIN_BLOCK", 1)
    monkeypatch.setattr(parallel, "ALIGN", 333)
    monkeypatch.setattr(util_module, "SORT_BLOCK", 1)
    assert parallel.blocks(10_000, parallel.ALIGN)[1][0] % 333 == 0
    assert digests(run) == golden[run_id(run)]


@pytest.mark.parametrize("smallest", [250.0, 1e-3])
def test_wage_bill_by_district_equals_numpys_float64_sum(smallest: float) -> None:
    """sum_contiguous adds float32 wages exactly in integers when it can (and falls back to numpy
    when it cannot, as with tiny values): either way the result is numpy's, bit for bit."""
    rng = np.random.default_rng(7)
    wage = (smallest + 6000.0 * rng.random(300_000)).astype(np.float32)
    wage[rng.random(wage.size) < 0.3] = 0.0
    offsets = np.array([0, 1, 50_000, 50_001, 210_000, 300_000])
    np.testing.assert_array_equal(sum_contiguous(wage, offsets), np.add.reduceat(wage, offsets[:-1], dtype=np.float64))


def test_counter_based_draws_equal_the_vectorised_splitmix() -> None:
    """Streams.uniform_at runs one compiled loop; its numbers are the vectorised splitmix64's."""
    streams = Streams(987)
    rows = np.random.default_rng(2).integers(0, 2**40, 100_000)
    key = np.uint64((stable_hash("layoff") << 32) | ((-7 + 1_000_000) & 0xFFFFFFFF))
    key = _splitmix64(np.array([key ^ np.uint64(987 * 0x2545F4914F6CDD1D % 2**64)], dtype=np.uint64))[0]
    x = _splitmix64(rows.astype(np.uint64) * _GOLDEN + key)
    want = (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    np.testing.assert_array_equal(streams.uniform_at("layoff", -7, rows), want)


def test_population_drawn_in_chunks_is_the_population_drawn_at_once(monkeypatch) -> None:
    sc = make_scenario("stevenage", "centralised", months=1, burn_in=0)
    whole = people_module.create_people(sc.place, sc.params, 1.0, Streams(5))
    monkeypatch.setattr(people_module, "CHUNK", 997)  # many chunks, the last one short
    chunked = people_module.create_people(sc.place, sc.params, 1.0, Streams(5))
    assert whole.n > 50 * 997
    for f in dataclasses.fields(whole):
        a, b = getattr(whole, f.name), getattr(chunked, f.name)
        assert a.dtype == b.dtype, f.name
        np.testing.assert_array_equal(a, b, err_msg=f.name)


def test_digest_sees_a_one_value_change() -> None:
    a = pd.DataFrame({"x": np.arange(5, dtype=np.float64), "y": np.ones(5, dtype=np.int64)})
    b = a.copy()
    b.loc[3, "x"] = np.nextafter(3.0, 4.0)
    assert frame_digest(a) == frame_digest(a.copy())
    assert frame_digest(a) != frame_digest(b)
    assert frame_digest(a) != frame_digest(a.astype({"y": np.int32}))


if __name__ == "__main__":
    if sys.argv[1:] == ["--print"]:  # for tests/model/test_portable.py: this process's digests and machine
        from simulation import machine

        print(json.dumps({"machine": machine.describe(), "digests": {run_id(r): digests(r) for r in RUNS}}))
        sys.exit(0)
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/model/test_golden.py --write   (records digests from the current model)")
    first = LabourMarketModel(config=make_scenario("testville", "centralised", months=1, burn_in=0), agent_views=False)
    first.step()
    GOLDEN_COLUMNS.write_text(json.dumps(list(first.results_frame().columns), indent=0) + "\n", encoding="utf-8")
    out = {run_id(r): digests(r) for r in RUNS}
    GOLDEN.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(out)} runs to {GOLDEN}")


def test_kernel_codes_are_the_peoples_codes() -> None:
    """The compiled kernels restate the status, benefit, group and sentinel codes of
    `simulation.people` (numba reads module constants at compile time); they must agree."""
    for name in (
        "EMPLOYED",
        "UNEMPLOYED",
        "INACTIVE",
        "NO_BENEFIT",
        "JSA",
        "ESA",
        "NO_GROUP",
        "JSA_18_24",
        "JSA_25_PLUS",
        "ESA_NEW",
        "JSA_EARLY_ACCESS",
        "ESA_VOLUNTEER",
        "NOT_ELIGIBLE",
        "NO_PROGRAMME",
    ):
        assert getattr(shared_kernels, name) == getattr(people_module, name), name
