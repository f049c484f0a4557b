"""Integrated help buys health, mental-health, care, housing and debt services (`services`).

Who receives them, what they cost and who pays, what a budget does, and what the services do to
barriers: checked on the stage's arithmetic (`services.buy`, with hypothesis) and on whole runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.config import Params, load_calibration
from simulation.declare import PURPOSE
from simulation.ledger import ACCOUNT, PUBLIC_ACCOUNTS
from simulation.mechanisms import services
from simulation.mechanisms.services import SERVICES, buy, use_and_prices
from simulation.people import EMPLOYED, INACTIVE, UNEMPLOYED
from simulation.registry import CATEGORIES, PURPOSE_OF, REGISTRY, money_totals

FAST = settings(max_examples=80, deadline=None)
SERVICE_COLUMNS = [s.category for s in SERVICES]
HELP_COLUMNS = [*SERVICE_COLUMNS, "integrated_help_recipients", "service_hours", "service_hours_wanted"]


@st.composite
def participants(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """Participants of a few districts: status, barrier, district, and each district's levers."""
    n = draw(st.integers(0, 60))
    nd = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "status": rng.choice([EMPLOYED, UNEMPLOYED, INACTIVE], n).astype(np.int8),
        "barrier": rng.uniform(0.0, 1.0, n).astype(np.float32),
        "district": np.sort(rng.integers(0, nd, n)).astype(np.int16),
        "help_on": rng.random(nd) < 0.7,
        "budget": rng.choice([0.0, 1.0, 10.0, 50.0, 1e6], nd),
    }


def _buy(case: dict[str, np.ndarray], params, ppa: float = 1.0, **changes: float):
    return buy(
        case["status"],
        case["barrier"],
        case["district"],
        case["help_on"],
        case["budget"],
        Params(params.records, overrides=changes) if changes else params,
        ppa,
    )


@FAST
@given(case=participants(), ppa=st.sampled_from([1.0, 10.0]))
def test_services_go_to_participants_out_of_work_with_high_barriers_within_budget(params, case, ppa):
    month, got, after = _buy(case, params, ppa)
    status, barrier, district = case["status"], case["barrier"], case["district"]
    nd = case["help_on"].size
    need = case["help_on"][district] & (status != EMPLOYED) & (barrier >= params.integrated_help_barrier)
    funded = case["budget"][district] > 0
    np.testing.assert_array_equal(got, np.flatnonzero(need & funded))
    served = np.bincount(district[need & funded], minlength=nd) * ppa
    np.testing.assert_array_equal(month["integrated_help_recipients"], served)
    hours = sum(h for h, _ in use_and_prices(params))
    np.testing.assert_allclose(month["service_hours_wanted"], np.bincount(district[need], minlength=nd) * ppa * hours)
    # Never more than the budget: pounds a participant-month times the district's participants.
    cost = sum(month[c] for c in SERVICE_COLUMNS)
    cap = case["budget"] * np.bincount(district, minlength=nd) * ppa
    assert (cost <= cap * (1 + 1e-12) + 1e-9).all()
    # The budget cuts every service in one proportion, never buying more than is wanted.
    share = np.divide(month["service_hours"], month["service_hours_wanted"], out=np.zeros(nd), where=cost > 0)
    assert ((share >= 0) & (share <= 1 + 1e-12)).all()
    for s, (h, p) in zip(SERVICES, use_and_prices(params), strict=True):
        np.testing.assert_allclose(month[s.category], month["integrated_help_recipients"] * h * share * p, rtol=1e-9)
    # Barriers fall (or stay), never below zero, by the effect per hour bought.
    assert ((after >= 0) & (after <= barrier[got])).all()
    hours_each = np.divide(
        month["service_hours"], month["integrated_help_recipients"], out=np.zeros(nd), where=cost > 0
    )
    cut = np.clip(params.service_barrier_reduction_per_hour * hours_each[district[got]], 0, 1)
    np.testing.assert_allclose(after, barrier[got] * (1 - cut), rtol=1e-6)


@FAST
@given(case=participants(), more=st.floats(1.0, 100.0))
def test_a_bigger_budget_buys_at_least_as_much(params, case, more):
    small, _, after_small = _buy(case, params)
    large, _, after_large = _buy(dict(case, budget=case["budget"] * more), params)
    assert (large["service_hours"] >= small["service_hours"] - 1e-9).all()
    assert (after_large <= after_small + 1e-7).all()


@FAST
@given(case=participants())
def test_no_budget_buys_nothing_and_no_effect_changes_nothing(params, case):
    month, got, after = _buy(dict(case, budget=np.zeros_like(case["budget"])), params)
    assert all((month[c] == 0).all() for c in (*SERVICE_COLUMNS, "service_hours", "integrated_help_recipients"))
    assert got.size == 0 and after.size == 0
    # With no effect the services are still bought and paid for; barriers stay as they were.
    month, got, after = _buy(case, params, service_barrier_reduction_per_hour=0.0)
    np.testing.assert_array_equal(after, case["barrier"][got])
    bought = month["service_hours"] > 0
    assert all((month[c][bought] > 0).all() for c in SERVICE_COLUMNS)


def test_each_service_is_one_category_with_one_public_payer_and_counted_once():
    """A service's money is posted once, by its payer, to those who deliver it, for employment
    support: in employment-support cost and public cost once each, and in no other total."""
    assert [s.payer for s in SERVICES] == ["nhs", "nhs", "council", "council", "council"]
    for s in SERVICES:
        assert CATEGORIES[s.category] == (s.payer, "economy")
        assert s.payer in PUBLIC_ACCOUNTS and PURPOSE_OF[s.category] == "employment_support"
        row = {c: np.zeros(1) for c in CATEGORIES} | {s.category: np.array([100.0])}
        totals = money_totals(row)
        assert totals["employment_support_cost"][0] == 100.0
        assert totals["public_cost"][0] == 100.0 and totals["business_support_cost"][0] == 0.0
    # A grant-funded service's advisers are paid once: the grant is public money, the provider's
    # spending of it on staff and overheads is not public money again.
    row = {c: np.zeros(1) for c in CATEGORIES} | {
        "programme_payments_council": np.array([3100.0]),
        "provider_delivery": np.array([2500.0]),
        "provider_overheads": np.array([600.0]),
    }
    assert money_totals(row)["public_cost"][0] == 3100.0
    assert PURPOSE[PURPOSE_OF["provider_overheads"]].public == 0
    assert "services" in {m.name for m in REGISTRY.mechanisms}


def test_the_nhs_and_councils_pay_for_the_services_every_month(run_model, params):
    """In a run, the NHS account loses exactly the health and mental-health services bought, the
    ledger balances, and employment-support cost holds each service once."""
    seen = []

    def on_step(model) -> None:
        row = model.rows[-1]
        ledger = model.ledger
        assert ledger.is_balanced()
        nhs = ledger.flows_pounds("services_health") + ledger.flows_pounds("services_mental_health")
        np.testing.assert_allclose(nhs, row["services_health"] + row["services_mental_health"])
        others = [c for c, p in PURPOSE_OF.items() if p == "employment_support" and c not in SERVICE_COLUMNS]
        np.testing.assert_allclose(
            row["employment_support_cost"] - sum(row[c] for c in others), sum(row[c] for c in SERVICE_COLUMNS)
        )
        seen.append(nhs.sum())

    model = run_model("cooperative", 2, months=8, burn_in=6, on_step=on_step)
    assert sum(seen) > 0
    # Only health services come out of the NHS account, over the whole run.
    df = model.results_frame()
    held = (model.ledger.balances[ACCOUNT["nhs"]] - model.ledger.opening[ACCOUNT["nhs"]]) / 100.0
    spent = df.groupby("district")[["services_health", "services_mental_health"]].sum().sum(axis=1)
    np.testing.assert_allclose(held, -spent.to_numpy(), atol=0.01)


def _run(run_model, seed: int, **kw) -> tuple[pd.DataFrame, np.ndarray]:
    model = run_model("cooperative", seed, months=12, burn_in=6, **kw)
    return model.results_frame(), model.people.barrier.copy()


@pytest.mark.parametrize("seed", [1, 2])
def test_help_with_no_effect_costs_money_and_changes_nothing_else(run_model, seed):
    """With a zero effect per hour, integrated help leaves every barrier and every outcome as it is
    without it, and only the money for the services differs."""
    off, barrier_off = _run(run_model, seed, lever_overrides={"integrated_help": False})
    null, barrier_null = _run(run_model, seed, overrides={"service_barrier_reduction_per_hour": 0.0})
    np.testing.assert_array_equal(barrier_null, barrier_off)
    assert null["service_hours"].sum() > 0 and sum(null[c].sum() for c in SERVICE_COLUMNS) > 0
    assert off["service_hours"].sum() == 0
    money = {*HELP_COLUMNS, "employment_support_cost", "public_cost"}
    pd.testing.assert_frame_equal(null.drop(columns=list(money)), off.drop(columns=list(money)))
    np.testing.assert_allclose(
        null["employment_support_cost"] - off["employment_support_cost"],
        sum(null[c] for c in SERVICE_COLUMNS),
        atol=1e-6,
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_a_budget_of_zero_buys_nothing_and_costs_nothing(run_model, seed):
    """Integrated help with no budget is the same run as no integrated help, to the last column."""
    off, barrier_off = _run(run_model, seed, lever_overrides={"integrated_help": False})
    none, barrier_none = _run(run_model, seed, lever_overrides={"services_budget_per_participant_month": 0.0})
    np.testing.assert_array_equal(barrier_none, barrier_off)
    assert all((none[c] == 0).all() for c in (*SERVICE_COLUMNS, "service_hours"))
    assert none["service_hours_wanted"].sum() > 0  # there was need; the budget bought none of it
    pd.testing.assert_frame_equal(none.drop(columns="service_hours_wanted"), off.drop(columns="service_hours_wanted"))


def test_services_with_an_effect_lower_barriers(run_model):
    """The shipped effect lowers recipients' barriers: on the same seed, barriers end lower."""
    _, barrier_off = _run(run_model, 3, lever_overrides={"integrated_help": False})
    on, barrier_on = _run(run_model, 3)
    assert on["service_hours"].sum() > 0
    assert barrier_on.mean() < barrier_off.mean()
    assert (barrier_on < barrier_off).sum() > 10


def test_params_named_by_each_service_are_the_ones_read():
    """`use_and_prices` reads each service's two parameters by name, in the order of SERVICES."""
    params = load_calibration()
    assert use_and_prices(params) == [(getattr(params, s.hours_param), getattr(params, s.cost_param)) for s in SERVICES]
    assert set(services.MECHANISM.parameters) >= {p for s in SERVICES for p in (s.hours_param, s.cost_param)}
