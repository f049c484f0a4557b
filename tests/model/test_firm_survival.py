"""Firm survival and starting firm sizes, checked on the business mechanism's own functions.

- A cohort of new firms with no births, hubs or workers, run through `business.step`, survives to
  1 and 3 years with the input survival and to 2 years with the model's log-linear interpolation
  sqrt(S1 S3), within binomial sampling error; its life table counts each month in its year of life.
- `firms.potential_scale` and `create_firms` stay finite at coarse scales, where a district can
  have a single small-firm row, possibly brand new (its desired size does not depend on potential).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from simulation.config import Params, make_scenario
from simulation.firms import AGE_YEAR_BINS, Firms, age_profile, create_firms, potential_scale
from simulation.mechanisms import business
from simulation.people import People
from simulation.registry import FLOWS
from simulation.rng import Streams

N_COHORT = 100_000  # binomial sd at 1 year ~0.0009: the month-12 error (~0.009) is ~10 sd


def _new_firms(n: int) -> Firms:
    return Firms(
        district=np.zeros(n, dtype=np.int16),
        market=np.zeros(n, dtype=np.int16),
        size=np.zeros(n, dtype=np.int32),
        target=np.full(n, 2.0),
        potential=np.full(n, 2.0),
        shock=np.zeros(n),
        age=np.zeros(n, dtype=np.int32),  # born this month: the next step is month 1 of life
        alive=np.ones(n, dtype=bool),
        large=np.zeros(n, dtype=bool),
        hub_months=np.zeros(n, dtype=np.int16),
        ever_supported=np.zeros(n, dtype=bool),
        draw_row=np.arange(n, dtype=np.int32),
        n_used=n,
    )


def _cohort_run(
    params: Params, people_factory: Callable[..., People], months: int
) -> tuple[list[int], dict[str, np.ndarray], Firms]:
    """Alive counts after each month of a new cohort's life, the summed life table, the firms."""
    firms = _new_firms(N_COHORT)
    people = people_factory(0)
    streams = Streams(11)
    alive = [N_COHORT]
    flows = {k: np.zeros(1, dtype=np.int64) for k in FLOWS}
    for m in range(months):
        business.step(
            people,
            firms,
            params,
            streams,
            m,
            np.array([2.0]),  # potential scale
            np.zeros(1),  # no births: a closed cohort
            np.zeros(1, dtype=np.int16),
            np.zeros(0, dtype=np.int16),
            flows,
            1,
        )
        alive.append(int(firms.alive.sum()))
    return alive, flows, firms


def _within_4sd(count: int, n: int, p: float) -> bool:
    return abs(count / n - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_cohort_survival_matches_the_input_at_1_2_and_3_years(params, people_factory):
    alive, flows, firms = _cohort_run(params, people_factory, 36)
    s1, s3 = params.survival_1yr, params.survival_3yr
    s2 = math.sqrt(s1 * s3)  # constant hazard in years 2-3: log-linear between S1 and S3
    assert _within_4sd(alive[12], N_COHORT, s1), alive[12] / N_COHORT
    assert _within_4sd(alive[24], N_COHORT, s2), alive[24] / N_COHORT
    assert _within_4sd(alive[36], N_COHORT, s3), alive[36] / N_COHORT
    # Ages are completed months: survivors of 36 draws are 36 months old.
    assert (firms.age[firms.alive] == 36).all()
    # The life table puts months 1-12 of life in age0, 13-24 in age1, 25-36 in age2, exactly.
    for year, label in enumerate(AGE_YEAR_BINS[:3]):
        assert flows[f"firms_at_risk_{label}"].sum() == sum(alive[12 * year : 12 * year + 12])
        assert flows[f"firm_deaths_{label}"].sum() == alive[12 * year] - alive[12 * year + 12]
    for label in AGE_YEAR_BINS[3:]:
        assert flows[f"firms_at_risk_{label}"].sum() == 0


def test_life_table_reads_back_the_input_survival(params, people_factory):
    """`analysis.targets.survival_curve`'s arithmetic on the cohort's life table: (1 - pooled
    monthly hazard)^12 per year gives S1, and S3 after three years."""
    _, flows, _ = _cohort_run(params, people_factory, 36)
    s1, s3 = params.survival_1yr, params.survival_3yr
    s = 1.0
    for year, label in enumerate(AGE_YEAR_BINS[:3], start=1):
        h = flows[f"firm_deaths_{label}"].sum() / flows[f"firms_at_risk_{label}"].sum()
        s *= (1 - h) ** 12
        expected = {1: s1, 2: math.sqrt(s1 * s3), 3: s3}[year]
        assert abs(s - expected) < 4 * math.sqrt(expected * (1 - expected) / N_COHORT), (year, s)


# ---------------------------------------------------------------------------- coarse scales
def test_potential_scale_is_finite_when_a_district_has_one_new_firm(params):
    """A firm of age 0 wants birth_size_mean posts whatever its potential, so a district whose only
    small firm is new cannot reach its small-business jobs by scaling potential: the scale must
    stay finite (it used to grow by a constant factor each iteration, then overflow)."""
    raw = np.array([1.1, 0.5, 2.0, 1.0])
    age = np.array([0, 10, 50, 0], dtype=np.int32)
    district = np.array([0, 1, 1, 2])
    small = np.ones(4, dtype=bool)
    small_jobs = np.array([7.2, 30.0, 1.0])
    with np.errstate(all="raise"):
        scale = potential_scale(raw, age, district, small, small_jobs, params)
    assert np.isfinite(scale).all() and (scale > 0).all()
    # Where the jobs are reachable the firms' desired headcount adds up to them exactly.
    wanted = raw * scale[district] * age_profile(age, scale[district], params)
    np.testing.assert_allclose(np.bincount(district, weights=wanted)[1:], small_jobs[1:], rtol=1e-9)


@pytest.mark.parametrize("ppa", [300.0, 2000.0, 5000.0, 20000.0])
def test_create_firms_is_finite_and_covers_demand_at_coarse_scales(params, ppa):
    """England's districts at coarse scales (a few have one small-firm row) for a few seeds: finite
    potentials and targets, and each district's desired headcount covers employed + vacancies."""
    place = make_scenario("england", "centralised", people_per_agent=ppa).place
    nd = len(place.districts)
    employed = np.array([max(1, round(d.working_age_pop * d.employment_rate / ppa)) for d in place.districts])
    vacancies = 0.02 * employed.astype(np.float64)
    market = np.zeros(nd, dtype=np.int16)
    for seed in (1, 2, 3):
        with np.errstate(all="raise"):
            firms, scale = create_firms(place, params, ppa, Streams(seed), employed, vacancies, market)
        assert np.isfinite(scale).all() and (scale > 0).all()
        assert np.isfinite(firms.potential).all() and np.isfinite(firms.target).all()
        demand = np.bincount(firms.district, weights=firms.target, minlength=nd)
        np.testing.assert_allclose(demand, employed + vacancies, rtol=1e-9)


def test_births_replace_the_demand_of_the_firms_they_replace() -> None:
    """Births draw potentials about their district's scale (mean scale x exp(sd^2 / 2)) and deaths
    do not depend on size, so small-firm demand is stationary only if each district's starting
    firms have that same mean potential. Solving the scale from the district's own draws without
    this made the replacements larger on average wherever the few draws came out small (Jensen's
    inequality): England's small-firm demand rose by about 3% over six years in every run."""
    sc = make_scenario("england", "no_programme", people_per_agent=300)
    place, params = sc.place, sc.params
    nd = len(place.districts)
    employed = np.array([max(1, round(d.working_age_pop * d.employment_rate / 300)) for d in place.districts])
    firms, scale = create_firms(place, params, 300, Streams(4), employed, 0.02 * employed, np.zeros(nd, np.int16))
    small = ~firms.large
    n = np.bincount(firms.district[small], minlength=nd)
    mean_potential = np.bincount(firms.district[small], weights=firms.potential[small], minlength=nd) / n
    births_mean = scale * math.exp(0.5 * params.firm_size_sd**2)
    np.testing.assert_allclose(mean_potential, births_mean, rtol=1e-12)
    # ... while the spread within a district is still lognormal with the configured sd.
    z = np.log(firms.potential[small] / scale[firms.district[small]])
    assert abs(float(z.std()) - params.firm_size_sd) < 0.05
