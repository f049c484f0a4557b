"""Issue 22, item 4: conditionality (benefit sanctions) as a lever of every regime.

A sanction falls on JSA claimants looking for work at the regime's monthly rate, withholds their
JSA for its length, raises their job finding while it runs, and sends a share of them out of the
search and off benefit; the JSA withheld is public money saved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.mechanisms import conditionality, matching
from simulation.model import MONTH, LabourMarketModel
from simulation.people import EMPLOYED, INACTIVE, JSA, NO_BENEFIT, NO_GROUP, UNEMPLOYED, People
from simulation.rng import Streams

N = 40_000


def _flows(n_districts: int = 1) -> dict[str, np.ndarray]:
    return {k: np.zeros(n_districts, dtype=np.int64) for k in ("sanctions", "sanction_exits", "u_to_i")}


def _sanction(people: People, rate: float, length: int, exit_share: float, seed: int = 3, month: int = 5):
    streams, flows = Streams(seed), _flows()
    claimants = np.flatnonzero(people.benefit != NO_BENEFIT)
    new, leave = conditionality.step(
        people,
        claimants,
        rate,
        length,
        exit_share,
        lambda rows: streams.uniform_at("sanction", month, rows),
        lambda rows: streams.uniform_at("sanction_exit", month, rows),
        flows,
        1,
    )
    return new, leave, flows


def _within_binomial(k: int, n: int, p: float) -> bool:
    return abs(k - n * p) <= 5 * np.sqrt(n * p * (1 - p)) + 1


def test_jsa_claimants_looking_for_work_are_sanctioned_at_the_rate_and_no_one_else(people_factory):
    """Among JSA claimants out of work and looking, the share sanctioned is the lever; employed
    people, the inactive, non-claimants and those already sanctioned are never sanctioned."""
    kind = np.arange(N) % 5  # 0, 1: JSA looking; 2: looking, no claim; 3: employed; 4: JSA, already sanctioned
    people = people_factory(
        N,
        status=np.where(kind == 3, EMPLOYED, UNEMPLOYED),
        benefit=np.where(np.isin(kind, (0, 1, 4)), JSA, NO_BENEFIT),
        sanction_months=np.where(kind == 4, 2, 0),
    )
    new, leave, flows = _sanction(people, rate=0.06, length=2, exit_share=0.0)
    at_risk = int(np.isin(kind, (0, 1)).sum())
    assert set(kind[new]) <= {0, 1}
    assert _within_binomial(new.size, at_risk, 0.06)
    assert flows["sanctions"][0] == new.size and leave.size == 0
    assert (people.sanction_months[new] == 2).all()
    assert (people.sanction_months[kind == 4] == 2).all()  # already sanctioned: left alone
    # The draws are the rows' own: the same rows are sanctioned whichever others are asked about.
    again = people_factory(N, status=UNEMPLOYED, benefit=JSA)
    new_again, _, _ = _sanction(again, rate=0.06, length=2, exit_share=0.0)
    assert set(new) <= set(new_again)


def test_a_share_of_the_sanctioned_stop_claiming_and_looking(people_factory):
    people = people_factory(N, status=UNEMPLOYED, benefit=JSA, months_in_status=7)
    new, leave, flows = _sanction(people, rate=0.5, length=1, exit_share=0.2)
    assert _within_binomial(leave.size, new.size, 0.2)
    assert (people.status[leave] == INACTIVE).all() and (people.months_in_status[leave] == 0).all()
    assert (people.benefit[leave] == NO_BENEFIT).all() and (people.group[leave] == NO_GROUP).all()
    assert (people.sanction_months[leave] == 0).all()
    stay = np.setdiff1d(new, leave)
    assert (people.status[stay] == UNEMPLOYED).all() and (people.benefit[stay] == JSA).all()
    assert (people.sanction_months[stay] == 1).all()
    assert flows["sanction_exits"][0] == leave.size == flows["u_to_i"][0]


def test_sanctions_run_down_and_end_with_the_claim(people_factory):
    people = people_factory(4, status=UNEMPLOYED, benefit=[JSA, JSA, NO_BENEFIT, JSA], sanction_months=[1, 3, 2, 0])
    still = conditionality.count_down(people)
    np.testing.assert_array_equal(people.sanction_months, [0, 2, 0, 0])
    np.testing.assert_array_equal(still, [1])


def test_a_sanctioned_searcher_has_the_effect_times_the_search_weight(people_factory, params):
    """Only the sanction differs: its weight is exactly `sanction_job_effect` times the other's,
    in the numpy expression and the compiled pass alike; providers' view of the person is not
    changed."""
    people = people_factory(
        4,
        status=[UNEMPLOYED, UNEMPLOYED, INACTIVE, INACTIVE],
        benefit=JSA,
        months_in_status=9,
        skill=0.3,
        barrier=0.2,
        support_hours=4.0,
        sanction_months=[0, 1, 0, 2],
    )
    rows = np.arange(4)
    w = matching.search_weights(people, params, rows)
    fast = matching.search_weights_fast(people, params, rows)
    np.testing.assert_array_equal(fast.view(np.uint64), w.view(np.uint64))
    assert w[1] == w[0] * params.sanction_job_effect and w[3] == w[2] * params.sanction_job_effect
    e = matching.employability(people, params, rows)
    assert e[0] == e[1] and e[2] == e[3]


def _withheld_check(model: LabourMarketModel, params, problems: list[str]) -> None:
    row, people = model.rows[-1], model.people
    sanctioned = (people.sanction_months > 0) & (people.benefit == JSA) & (people.status != EMPLOYED)
    assert not ((people.sanction_months > 0) & (people.benefit != JSA)).any(), "a sanction outlived its claim"
    assert not ((people.sanction_months > 0) & (people.status == EMPLOYED)).any(), "a sanction outlived a hire"
    rate = np.where(people.age < 25, params.jsa_monthly_under25, params.jsa_monthly_25plus)
    want = np.bincount(people.district, weights=np.where(sanctioned, rate, 0.0), minlength=model.n_districts)
    if not np.allclose(row["sanctions_withheld"], want, atol=0.01):
        problems.append(f"month {model.month}: withheld {row['sanctions_withheld']}, want {want}")
    np.testing.assert_array_equal(
        row["sanctioned_claimants"], np.bincount(people.district[sanctioned], minlength=model.n_districts)
    )
    others = (
        row["benefit_jsa"]
        + row["benefit_esa"]
        + row["housing_support"]
        + row["employment_support_cost"]
        + row["business_support_cost"]
        - row["tax_ni"]
    )
    np.testing.assert_allclose(row["public_cost"], others - row["sanctions_withheld"], rtol=1e-9, atol=0.01)


def test_the_withheld_jsa_is_the_sanctioned_claimants_rate_and_lowers_public_cost(run_model, params):
    problems: list[str] = []
    model = run_model("centralised", 2, months=8, burn_in=6, on_step=lambda m: _withheld_check(m, params, problems))
    assert problems == []
    df = model.results_frame()
    assert df["sanctions"].sum() > 0 and df["sanctions_withheld"].sum() > 0
    assert (df["sanction_exits"] <= df["sanctions"]).all() and (df["sanction_exits"] <= df["u_to_i"]).all()


def test_with_no_sanctions_the_run_is_the_run_without_the_mechanism(scenario):
    sc = scenario("centralised", months=6, burn_in=4, lever_overrides={"sanction_rate": 0.0})
    with_it = LabourMarketModel(config=sc, seed=7, agent_views=False)
    stages = tuple(s for s in MONTH if s.run not in (conditionality.run, conditionality.run_withheld))
    without = LabourMarketModel(config=sc, seed=7, agent_views=False, stages=stages)
    for m in (with_it, without):
        while m.running:
            m.step()
    a, b = with_it.results_frame(), without.results_frame()
    assert a["sanctions"].sum() == 0 and a["sanctions_withheld"].sum() == 0
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_work_programme_sanctions_more_than_a_council_led_service(run_model, seed):
    runs = {r: run_model(r, seed, months=12, burn_in=6).results_frame() for r in ("centralised", "cooperative")}
    sanctions = {r: df["sanctions"].sum() for r, df in runs.items()}
    claimant_months = {r: df["claimants_jsa"].sum() for r, df in runs.items()}
    assert sanctions["centralised"] > sanctions["cooperative"]
    rate = {r: sanctions[r] / claimant_months[r] for r in runs}
    assert rate["centralised"] > 1.3 * rate["cooperative"]
