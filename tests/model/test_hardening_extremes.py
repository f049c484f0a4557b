"""Extreme but valid settings: the model runs, its invariants hold every month, and no output holds
NaN, infinity or a negative stock.

Settings: no vacancies (no firm wants staff, and no matching at all), (nearly) everyone
unemployed, a zero budget, a caseload of 1, a place of one district with 10 people (and with one),
more rows than people would give (a scale above the population), and 600 policy months. Each runs
under the centralised and the cooperative regime with the model's own invariant checks on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.config import make_scenario
from simulation.model import LabourMarketModel
from simulation.people import EMPLOYED, INACTIVE, NO_EMPLOYER, UNEMPLOYED

REGIMES = ("centralised", "cooperative")
STOCKS = ("population", "employed", "unemployed", "inactive", "long_term_unemployed", "claimants_jsa", "claimants_esa")
MAY_BE_NEGATIVE = {"public_cost", "developer_contribution_net"}  # a net figure: tax receipts can exceed spending

TINY = """\
name = "tiny"
description = "one district with {pop} people of working age"
people_per_agent = 1
sources = ["synthetic, for tests"]

[[districts]]
name = "Tiny"
code = "X00000001"
market = "tiny"
working_age_pop = {pop}
employment_rate = {e}
unemployment_rate = {u}
inactivity_rate = {i}
claimant_rate = {c}
esa_ib_rate = 0.05
businesses = {b}
construction_value_m = 0.0
"""


def tiny_place(
    tmp_path: Path, pop: int = 10, e: float = 0.73, u: float = 0.06, i: float = 0.2234, c: float = 0.02, b: int = 1
) -> str:
    path = tmp_path / f"tiny-{pop}-{u}-{b}.toml"
    path.write_text(TINY.format(pop=pop, e=e, u=u, i=i, c=c, b=b), encoding="utf-8")
    return str(path)


def check_state(model: LabourMarketModel) -> None:
    """People, firms and money identities after a step (beside the model's own assert_invariants)."""
    people, firms = model.people, model.firms
    assert np.isin(people.status, (EMPLOYED, UNEMPLOYED, INACTIVE)).all()
    employed = people.status == EMPLOYED
    assert ((people.employer != NO_EMPLOYER) == employed).all()
    np.testing.assert_array_equal(np.bincount(people.employer[employed], minlength=firms.capacity), firms.size)
    assert (firms.size >= 0).all() and firms.alive[people.employer[employed]].all()
    assert np.isfinite(firms.target).all() and (firms.target >= 0).all()
    assert np.isfinite(people.support_hours).all() and (people.support_hours >= 0).all()
    assert np.isfinite(people.skill).all() and np.isfinite(people.wage).all()
    assert model.ledger.is_balanced()
    row = model.rows[-1]
    np.testing.assert_array_equal(row["employed"] + row["unemployed"] + row["inactive"], row["population"])


def check_outputs(model: LabourMarketModel, months: int) -> pd.DataFrame:
    """The month x district table and the cohort table: every month there, finite, no negative stock."""
    df = model.results_frame()
    assert sorted(df["month"].unique()) == list(range(1, months + 1))
    numeric = df.select_dtypes("number")
    assert np.isfinite(numeric.to_numpy(dtype=float)).all(), [c for c in numeric if not np.isfinite(numeric[c]).all()]
    negative = [c for c in numeric if c not in MAY_BE_NEGATIVE and (numeric[c] < 0).any()]
    assert negative == []
    for col in STOCKS:
        assert (df[col] >= 0).all()
    assert (df.groupby("district")["population"].nunique() == 1).all()  # nobody appears or vanishes
    cohorts = model.cohorts.frame(model.district_names)
    cnum = cohorts.select_dtypes("number")
    assert np.isfinite(cnum.to_numpy(dtype=float)).all()
    assert not (cnum < 0).any().any()
    return df


def run_extreme(
    place: str,
    regime: str,
    months: int = 24,
    burn_in: int = 6,
    setup: Callable[[LabourMarketModel], None] | None = None,
    before_step: Callable[[LabourMarketModel], None] | None = None,
    **kw,
) -> tuple[LabourMarketModel, pd.DataFrame]:
    sc = make_scenario(place, regime, months=months, burn_in=burn_in, **kw)
    model = LabourMarketModel(config=sc, seed=3, agent_views=False, check_invariants=True)
    if setup is not None:
        setup(model)
    while model.running:
        if before_step is not None:
            before_step(model)
        model.step()
        check_state(model)
    return model, check_outputs(model, months)


@pytest.fixture(params=REGIMES)
def regime(request: pytest.FixtureRequest) -> str:
    return request.param


# ------------------------------------------------------------------------------ vacancies
def test_no_vacancies_at_all(regime):
    """Before every month no firm wants more staff than it has (only firms born during a month
    post a few vacancies)."""

    def freeze(model: LabourMarketModel) -> None:
        model.firms.target[:] = model.firms.size
        model.firms.potential[:] = np.minimum(model.firms.potential, model.firms.size)

    _, df = run_extreme("testville", regime, before_step=freeze)
    _, usual = run_extreme("testville", regime)
    assert df["vacancies"].sum() < 0.1 * usual["vacancies"].sum()


def test_no_matching_at_all(regime):
    """Matching efficiency 0: vacancies are never filled from the market, stocks stay sound."""
    _, df = run_extreme("testville", regime, overrides={"matching_efficiency": 0.0})
    assert (df["vacancies"] >= 0).all()


def test_vacancies_scarce(regime):
    """A matching function so efficient that the steady state needs few vacancies
    (`matching.steady_state_vacancies`: about 1 / A^2)."""
    _, df = run_extreme("testville", regime, overrides={"matching_efficiency": 5.0})
    assert df["vacancies"].sum() < df["unemployed"].sum()


# ---------------------------------------------------------------------------- unemployment
def test_nearly_everyone_unemployed_by_place_file(regime, tmp_path):
    place = tiny_place(tmp_path, pop=400, e=0.001, u=0.999, i=0.0, c=0.9, b=5)
    model, df = run_extreme(place, regime)
    assert df["unemployed"].iloc[0] > 0.5 * df["population"].iloc[0]
    assert model.people.n == 400


def test_everyone_unemployed_after_burn_in(regime):
    """Every job gone at once after the burn-in (every firm left empty)."""

    def sack_everyone(model: LabourMarketModel) -> None:
        p = model.people
        p.status[p.status == EMPLOYED] = UNEMPLOYED
        p.employer[:] = NO_EMPLOYER
        p.wage[:] = 0
        model.firms.size[:] = 0

    _, df = run_extreme("testville", regime, setup=sack_everyone)
    first = df[df["month"] == 1]
    assert first["unemployed"].sum() > first["employed"].sum()


def test_nobody_unemployed(regime, tmp_path):
    place = tiny_place(tmp_path, pop=400, e=0.8, u=0.0, i=0.2, c=0.0, b=30)
    run_extreme(place, regime)


# -------------------------------------------------------------------------------- money
ZERO_BUDGET_LEVERS = {"services_budget_per_participant_month": 0.0, "fee_attachment": 0.0, "fee_job_outcome": 0.0}
ZERO_BUDGET_LEVERS |= {"fee_sustainment": 0.0, "hub_firms_per_year": 0.0, "placements_per_10k": 0.0}
ZERO_BUDGET_LEVERS |= {"hub_prestart_per_year": 0.0}
ZERO_COSTS = {
    "adviser_cost_per_month": 0.0,
    "training_cost": 0.0,
    "partnership_cost_per_placement": 0.0,
    "hub_cost_per_firm_year": 0.0,
    "brokerage_cost_per_hour": 0.0,
}
ZERO_COSTS |= {"hub_fixed_cost_per_year": 0.0, "hub_capital_cost_per_place": 0.0, "prestart_cost_per_participant": 0.0}


def test_zero_budget(regime):
    _, df = run_extreme("testville", regime, lever_overrides=ZERO_BUDGET_LEVERS, overrides=ZERO_COSTS)
    assert df["employment_support_cost"].sum() == 0
    assert df["business_support_cost"].sum() == 0
    assert df["programme_fees"].sum() == 0 and df["programme_grant"].sum() == 0
    assert df["service_hours"].sum() == 0


@pytest.mark.parametrize("caseload", [1, 2000])
def test_caseload_of_one_and_of_the_most_allowed(regime, caseload):
    _, df = run_extreme("testville", regime, lever_overrides={"caseload": caseload})
    assert (df["programme_advisers"] >= 0).all()


# ---------------------------------------------------------------------------------- size
@pytest.mark.parametrize("pop", [10, 1])
def test_one_district_of_ten_people_and_of_one(regime, tmp_path, pop):
    model, df = run_extreme(tiny_place(tmp_path, pop=pop), regime, months=36, burn_in=12)
    assert model.people.n == pop and model.n_districts == 1
    assert (df["population"] == pop).all()


def test_tiny_place_with_no_businesses(regime, tmp_path):
    run_extreme(tiny_place(tmp_path, pop=10, b=0), regime)


def test_scale_above_the_population(regime):
    """5,000 people per row on a place of 6,500: each district keeps at least one row."""
    model, _ = run_extreme("testville", regime, months=12, people_per_agent=5000)
    assert model.people.n >= model.n_districts


# ---------------------------------------------------------------------------------- time
def test_six_hundred_months(regime):
    """Fifty years of policy months (at 10 people a row, so the test is quick)."""
    model, df = run_extreme("testville", regime, months=600, burn_in=24, people_per_agent=10)
    assert df["month"].max() == 600
    assert model.firms.alive.any()
