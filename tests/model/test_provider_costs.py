"""A grant-funded service is costed from what it uses (`providers.running_costs`).

Its payer pays its advisers (participants / caseload, at `adviser_cost_per_month`) plus management
and overheads each month, so its cost follows the caseload and the price of advisers; a provider
paid by results is paid its fees whatever its costs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.config import Params, load_regime, make_scenario
from simulation.mechanisms.providers import running_costs
from simulation.model import LabourMarketModel

MONEY = [
    "programme_grant",
    "programme_delivery_cost",
    "programme_overhead_cost",
    "programme_payments_council",
    "programme_payments_exchequer",
    "provider_delivery",
    "provider_overheads",
    "employment_support_cost",
    "public_cost",
]


@settings(max_examples=100, deadline=None)
@given(
    advisers=st.integers(0, 10_000),
    cost=st.floats(0, 1e5),
    share=st.floats(0, 2),
    funding=st.sampled_from(["grant", "payment_by_results"]),
)
def test_running_costs_are_staff_plus_overheads_and_a_grant_pays_them(
    params, with_levers, advisers, cost, share, funding
):
    p = Params(params.records, overrides={"adviser_cost_per_month": cost, "management_overhead_share": share})
    levers = with_levers(load_regime("cooperative").levers, provider_funding=funding)
    staff, overheads, grant = running_costs(advisers, levers, p)
    assert staff == advisers * cost and overheads == staff * share
    assert grant == (staff + overheads if funding == "grant" else 0.0)


def _frame(run_model, regime: str, seed: int, **kw) -> pd.DataFrame:
    return run_model(regime, seed, months=12, burn_in=6, **kw).results_frame()


@pytest.mark.parametrize("seed", [1, 2])
def test_dearer_advisers_raise_a_grant_funded_services_cost_by_their_staff_cost(run_model, params, seed):
    """Adviser cost 2,000 against 3,300 a month: the cooperative regime's employment-support cost
    rises by exactly the advisers' extra cost with its overheads, month by month and district by
    district (to the pence the ledger keeps), and nothing else in the run moves."""
    cheap = _frame(run_model, "cooperative", seed, overrides={"adviser_cost_per_month": 2000.0})
    dear = _frame(run_model, "cooperative", seed, overrides={"adviser_cost_per_month": 3300.0})
    np.testing.assert_array_equal(cheap["programme_advisers"], dear["programme_advisers"])
    staff = (dear["programme_delivery_cost"] - cheap["programme_delivery_cost"]).to_numpy()
    np.testing.assert_allclose(staff, 1300.0 * cheap["programme_advisers"], atol=0.01)
    extra = (dear["employment_support_cost"] - cheap["employment_support_cost"]).to_numpy()
    np.testing.assert_allclose(extra, staff * (1 + params.management_overhead_share), atol=0.05)
    assert extra.sum() > 0
    pd.testing.assert_frame_equal(cheap.drop(columns=MONEY), dear.drop(columns=MONEY))


def test_a_payment_by_results_provider_is_paid_its_fees_whatever_advisers_cost(run_model):
    cheap = _frame(run_model, "centralised", 1, overrides={"adviser_cost_per_month": 2000.0})
    dear = _frame(run_model, "centralised", 1, overrides={"adviser_cost_per_month": 3300.0})
    for col in ("programme_payments_exchequer", "employment_support_cost", "public_cost", "programme_grant"):
        np.testing.assert_array_equal(cheap[col], dear[col], err_msg=col)
    assert dear["programme_delivery_cost"].sum() > cheap["programme_delivery_cost"].sum()


def _stevenage(caseload: int) -> pd.DataFrame:
    sc = make_scenario("stevenage", "cooperative", months=12, burn_in=6, lever_overrides={"caseload": caseload})
    model = LabourMarketModel(config=sc, seed=4, agent_views=False)
    while model.running:
        model.step()
    return model.results_frame()


def test_halving_the_caseload_roughly_doubles_the_staff_cost():
    """Caseload 25 against 50 on Stevenage (about 1,700 participants): twice the advisers, so about
    twice the staff cost and the grant (not exactly: advisers are whole people, and more help
    changes who is still a participant). On testville's few dozen participants a district, rounding
    advisers up moves the ratio by a tenth or more."""
    wide, narrow = _stevenage(50), _stevenage(25)
    for col in ("programme_delivery_cost", "programme_grant"):
        ratio = narrow[col].sum() / wide[col].sum()
        assert 1.9 < ratio < 2.1, (col, ratio)
    for df, caseload in ((wide, 50), (narrow, 25)):
        np.testing.assert_array_equal(df["programme_advisers"], np.ceil(df["participants"] / caseload))
