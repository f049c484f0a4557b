"""Invariants that must hold in every month of every run: people, firms, money and probabilities.

The model's own `assert_invariants` runs too (check_invariants=True); these tests check the same
identities independently from the arrays and results, plus the stock-flow and money identities
that tie the results table to the state.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simulation.config import ConfigError, available, load_place
from simulation.firms import Firms, death_hazard
from simulation.ledger import ACCOUNT, PUBLIC_ACCOUNTS
from simulation.mechanisms import business, matching, participation
from simulation.mechanisms.services import SERVICES, use_and_prices
from simulation.model import LabourMarketModel
from simulation.people import (
    EMPLOYED,
    ESA,
    ESA_EX_IB,
    ESA_NEW,
    INACTIVE,
    JSA,
    JSA_18_24,
    JSA_25_PLUS,
    JSA_EX_IB,
    NO_BENEFIT,
    NO_EMPLOYER,
    NO_GROUP,
    NO_PROGRAMME,
    NOT_ELIGIBLE,
    UNEMPLOYED,
)
from simulation.registry import CATEGORIES

HUB_COSTS = ("running", "capital", "prestart")  # `business.hub_month_cost`'s kinds

REGIMES = tuple(available("regimes"))  # every shipped arm, including example regimes
SLOW_OK = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=60, deadline=None)

STOCKS = ("population", "employed", "unemployed", "inactive", "long_term_unemployed", "claimants_jsa")
MONEY = (*CATEGORIES, "employment_support_cost", "business_support_cost")


def check_state(model: LabourMarketModel) -> None:
    """People and firm identities, checked from the arrays (independently of assert_invariants)."""
    people, firms = model.people, model.firms
    # Exactly one status each, from the three.
    assert set(np.unique(people.status).tolist()) <= {EMPLOYED, UNEMPLOYED, INACTIVE}
    counts = [(people.status == s).sum() for s in (EMPLOYED, UNEMPLOYED, INACTIVE)]
    assert sum(counts) == people.n
    employed = people.status == EMPLOYED
    # An employer exactly for the employed; headcounts equal the people employed there.
    assert ((people.employer != NO_EMPLOYER) == employed).all()
    assert (people.employer < firms.capacity).all()
    heads = np.bincount(people.employer[employed], minlength=firms.capacity)
    np.testing.assert_array_equal(heads, firms.size)
    assert firms.alive[people.employer[employed]].all(), "someone works for a dead firm"
    assert (firms.size[~firms.alive] == 0).all()
    assert (firms.size >= 0).all()
    # Everyone employed works in their own market.
    assert (firms.market[people.employer[employed]] == model.person_market[employed]).all()
    # Wages exactly for the employed; benefits never for the employed.
    assert (people.wage[employed] > 0).all() and (people.wage[~employed] == 0).all()
    assert (people.benefit[employed] == 0).all()
    # Claimant groups follow the claim: none without one, a JSA group for JSA, an ESA group for ESA.
    assert ((people.group == NO_GROUP) == (people.benefit == NO_BENEFIT)).all()
    assert np.isin(people.group[people.benefit == JSA], (JSA_18_24, JSA_25_PLUS, JSA_EX_IB)).all()
    assert np.isin(people.group[people.benefit == ESA], (ESA_NEW, ESA_EX_IB)).all()
    # Participants were referred, in a payment group, when they became eligible.
    attached = people.programme != NO_PROGRAMME
    assert people.ever_referred[attached].all()
    assert (people.eligible_group[attached] != NO_GROUP).all()
    assert (people.eligible_month[attached] != NOT_ELIGIBLE).all()
    assert (people.eligible_month[people.eligible_month != NOT_ELIGIBLE] <= model.month).all()
    # Adviser time is never negative; placements and mentoring are months left, never negative.
    assert (people.support_hours >= 0).all() and np.isfinite(people.support_hours).all()
    assert (people.placement_months >= 0).all() and (people.mentor_months >= 0).all()
    # The ledger balances in every district.
    assert model.ledger.is_balanced()
    np.testing.assert_array_equal(model.ledger.balances.sum(axis=0), np.zeros(model.n_districts, dtype=np.int64))
    # Results of this month: the three stocks partition the population.
    row = model.rows[-1]
    np.testing.assert_array_equal(row["employed"] + row["unemployed"] + row["inactive"], row["population"])


@given(seed=st.integers(0, 2**31 - 1), regime=st.sampled_from(REGIMES))
@SLOW_OK
def test_people_firms_and_ledger_invariants_every_month(run_model, seed, regime):
    model = run_model(regime, seed, months=12, burn_in=6, on_step=check_state)
    df = model.results_frame()
    assert len(df) == 12 * model.n_districts
    # Population constant and equal to the place's working-age population (one person per row).
    pops = df.groupby("district")["population"].unique()
    assert all(len(v) == 1 for v in pops)
    assert df.groupby("month")["population"].sum().eq(6500).all()


def test_starting_claimant_groups_and_complex_needs(build_model, params):
    """Claimant groups at the start: ESA claimants are new or ex-IB, JSA claimants ex-IB or by age;
    complex needs at the calibrated shares, and they raise barriers."""
    people = build_model("no_programme", 3, burn_in=0).people
    jsa, esa = people.benefit == JSA, people.benefit == ESA
    assert jsa.sum() > 50 and esa.sum() > 50
    young = people.group == JSA_18_24
    assert (people.age[young] < 25).all() and (people.age[people.group == JSA_25_PLUS] >= 25).all()
    ex_ib = (people.group[esa] == ESA_EX_IB).mean()
    assert (
        abs(ex_ib - params.esa_ex_ib_share)
        < 4 * np.sqrt(params.esa_ex_ib_share * (1 - params.esa_ex_ib_share) / esa.sum()) + 0.02
    )
    share_esa = people.complex_needs[esa].mean()
    share_other = people.complex_needs[~esa].mean()
    for got, want, n in (
        (share_esa, params.complex_needs_share_esa, esa.sum()),
        (share_other, params.complex_needs_share_other, (~esa).sum()),
    ):
        assert abs(got - want) < 4 * np.sqrt(want * (1 - want) / n) + 0.01
    assert people.barrier[people.complex_needs].mean() > people.barrier[~people.complex_needs].mean()


def test_population_matches_place_file(build_model):
    model = build_model("centralised", 3)
    place = load_place("testville")
    expected = {d.name: d.working_age_pop for d in place.districts}
    got = {name: int((model.people.district == i).sum()) for i, name in enumerate(model.district_names)}
    assert got == expected
    # Districts are contiguous row blocks, ordered by market.
    assert (np.diff(model.people.district) >= 0).all()
    assert (np.diff(model.person_market) >= 0).all()


@pytest.mark.parametrize("regime", REGIMES)
def test_stock_flow_identities(run_model, regime):
    """Stocks change by exactly the recorded flows; the only moves the flows leave out are retirements.

    A retiree's slot is taken by an inactive school leaver, so retirements from work or search
    lower E or U and raise I without a recorded flow. Who retires in a month is known from the
    state before it (people turning 65 in their birthday month), so each identity is exact:
    dE = f_E - retired_E, dU = f_U - retired_U, dI = f_I + retired_E + retired_U.
    Every other move between work, search and inactivity (matching, separations, displacement,
    participation, ill health, placements that become jobs, developers' plan hires) must be a flow.
    """
    states = (EMPLOYED, UNEMPLOYED, INACTIVE)
    before: dict[str, np.ndarray] = {}
    problems: list[str] = []

    def snapshot(model: LabourMarketModel) -> None:
        before["status"] = model.people.status.copy()
        before["age"] = model.people.age.copy()

    def on_step(model: LabourMarketModel) -> None:
        people, nd, row = model.people, model.n_districts, model.rows[-1]

        def by_district(rows: np.ndarray) -> np.ndarray:
            return np.bincount(people.district[rows], minlength=nd)

        birthday = model.birthday_rows[(model.month - 1) % 12]
        retiring = birthday[before["age"][birthday] + 1 >= 16 + participation.WORKING_YEARS]
        retired = {s: by_district(retiring[before["status"][retiring] == s]) for s in states}
        np.testing.assert_array_equal(sum(retired.values()), row["retirements"])
        change = {s: by_district(people.status == s) - by_district(before["status"] == s) for s in states}
        f_e = row["u_to_e"] + row["i_to_e"] - row["e_to_u"] - row["e_to_i"]
        f_u = row["e_to_u"] + row["i_to_u"] - row["u_to_e"] - row["u_to_i"]
        f_i = row["e_to_i"] + row["u_to_i"] - row["i_to_u"] - row["i_to_e"]
        for name, s, by_flows in (
            ("employed", EMPLOYED, f_e - retired[EMPLOYED]),
            ("unemployed", UNEMPLOYED, f_u - retired[UNEMPLOYED]),
            ("inactive", INACTIVE, f_i + retired[EMPLOYED] + retired[UNEMPLOYED]),
        ):
            if not np.array_equal(change[s], by_flows):
                problems.append(
                    f"month {model.month}: {name} changed by {change[s].tolist()}, flows say {by_flows.tolist()}"
                )
        snapshot(model)

    model = run_model(regime, 11, months=24, burn_in=6, setup=snapshot, on_step=on_step)
    assert problems == [], f"{len(problems)} stock changes the flows do not explain, e.g. " + "; ".join(problems[:4])
    df = model.results_frame()
    assert df["retirements"].sum() > 0
    for _, g in df.groupby("district"):
        # Flows are real moves, not noise: most months have hires and separations.
        assert (g["u_to_e"] > 0).mean() > 0.5 and (g["e_to_u"] > 0).mean() > 0.5
    # Sub-flows never exceed the flows they are part of.
    assert (df["ltu_to_e"] <= df["u_to_e"]).all()
    # Displaced workers either become unemployed or move straight into another job.
    assert (df["firm_death_job_losses"] + df["layoffs"] <= df["e_to_u"] + df["job_to_job"]).all()
    assert (df["long_term_unemployed"] <= df["unemployed"]).all()


@pytest.mark.parametrize("regime", REGIMES)
def test_money_columns_equal_ledger_flows_every_month(run_model, params, regime):
    """Each month's money columns move the ledger's balances; public cost is what Exchequer and councils lose."""
    snapshots: list[np.ndarray] = []

    def setup(model: LabourMarketModel) -> None:
        snapshots.append(model.ledger.balances.copy())

    def on_step(model: LabourMarketModel) -> None:
        row = model.rows[-1]
        before, after = snapshots[-1], model.ledger.balances.copy()
        snapshots.append(after)
        delta = after - before
        expected = np.zeros_like(delta)
        for cat, (payer, payee) in CATEGORIES.items():
            pence = np.rint(row[cat] * 100).astype(np.int64)
            assert (pence >= 0).all(), cat
            expected[ACCOUNT[payer]] -= pence
            expected[ACCOUNT[payee]] += pence
        np.testing.assert_array_equal(delta, expected)
        public = sum(delta[ACCOUNT[a]] for a in PUBLIC_ACCOUNTS)
        np.testing.assert_array_equal(np.rint(row["public_cost"] * 100).astype(np.int64), -public)
        # Money columns agree with the people and institutions behind them (one person per row).
        people = model.people
        np.testing.assert_allclose(row["benefit_esa"], row["claimants_esa"] * params.esa_monthly, rtol=1e-12)
        np.testing.assert_allclose(
            row["housing_support"],
            (row["claimants_jsa"] + row["claimants_esa"]) * params.housing_support_monthly,
            rtol=1e-12,
        )
        lo, hi = sorted((params.jsa_monthly_under25, params.jsa_monthly_25plus))
        assert (row["benefit_jsa"] >= row["claimants_jsa"] * lo - 0.01).all()
        assert (row["benefit_jsa"] <= row["claimants_jsa"] * hi + 0.01).all()
        emp = people.status == EMPLOYED
        wages = np.bincount(people.district[emp], weights=people.wage[emp].astype(np.float64), minlength=3)
        np.testing.assert_allclose(row["tax_ni"], wages * params.tax_ni_rate, rtol=1e-9, atol=0.01)
        claimants = np.bincount(people.district[(people.benefit == JSA) & ~emp], minlength=3)
        np.testing.assert_array_equal(row["claimants_jsa"], claimants)
        # Public money by purpose: employment support and business support, each from the ledger.
        np.testing.assert_allclose(
            row["employment_support_cost"],
            row["programme_payments_exchequer"]
            + row["programme_payments_council"]
            + row["partnership_delivery_exchequer"]
            + row["partnership_delivery_council"]
            + row["training_exchequer"]
            + row["brokerage"]
            + sum(row[s.category] for s in SERVICES),
        )
        hub_categories = [f"hub_{kind}_{payer}" for kind in HUB_COSTS for payer in ("council", "other")]
        np.testing.assert_allclose(row["business_support_cost"], sum(row[c] for c in hub_categories))
        np.testing.assert_allclose(
            row["programme_payments_exchequer"] + row["programme_payments_council"],
            row["programme_fees"] + row["programme_grant"],
            atol=0.01,
        )
        np.testing.assert_allclose(row["provider_delivery"], row["programme_delivery_cost"], atol=0.01)
        # Running costs: advisers at their cost, overheads a share of it; a grant pays exactly both.
        staff = row["programme_advisers"] * params.adviser_cost_per_month
        np.testing.assert_allclose(row["programme_delivery_cost"], staff, atol=0.01)
        np.testing.assert_allclose(row["provider_overheads"], staff * params.management_overhead_share, atol=0.01)
        np.testing.assert_allclose(row["programme_overhead_cost"], row["provider_overheads"], atol=0.01)
        grant = (row["programme_delivery_cost"] + row["programme_overhead_cost"]) * (
            model.levers.provider_funding == "grant"
        )
        np.testing.assert_allclose(row["programme_grant"], grant, atol=0.01)
        # Integrated help: each service's money is its hours at its price, the same hours per recipient
        # for every service in a district (a budget cuts them all in one proportion), paid once.
        bought = [row[s.category] / (h * p) for s, (h, p) in zip(SERVICES, use_and_prices(params), strict=True)]
        for b in bought[1:]:  # to the pence the money is posted in
            np.testing.assert_allclose(b, bought[0], atol=1e-3)
        hours = sum(h for h, _ in use_and_prices(params))
        np.testing.assert_allclose(row["service_hours"], bought[0] * hours, atol=1e-2)
        assert (row["service_hours"] <= row["service_hours_wanted"] + 1e-9).all()
        budget = row["participants"] * model.levers.services_budget_per_participant_month
        assert (sum(row[s.category] for s in SERVICES) <= budget + 0.01 * len(SERVICES)).all()
        if not model.levers.integrated_help:
            assert (row["integrated_help_recipients"] == 0).all() and (row["service_hours"] == 0).all()
        levers = model.levers
        # Hubs: each kind of cost once, split between the council and the Exchequer by the lever.
        hub_cost = business.hub_month_cost(
            row["hub_supported_firms"], levers.hub_firms_per_year, levers.hub_prestart_per_year, params
        )
        assert set(hub_cost) == set(HUB_COSTS)
        for kind, pounds in hub_cost.items():
            np.testing.assert_allclose(row[f"hub_{kind}_council"], pounds * levers.hub_council_share, atol=0.01)
            np.testing.assert_allclose(row[f"hub_{kind}_other"], pounds * (1 - levers.hub_council_share), atol=0.01)
        if levers.hub_firms_per_year > 0:  # the centre's fixed running cost and its building, every month
            assert (row["hub_capital_council"] + row["hub_capital_other"] > 0).all()
            assert (
                row["hub_running_council"] + row["hub_running_other"] >= params.hub_fixed_cost_per_year / 12 - 0.02
            ).all()
        # Employer partnerships: coordinators paid through the payer lever, employers' time in kind.
        other = {"exchequer": "council", "council": "exchequer"}
        np.testing.assert_allclose(
            row[f"partnership_delivery_{levers.partnership_payer}"],
            row["placements"] * params.partnership_cost_per_placement,
            atol=0.01,
        )
        assert (row[f"partnership_delivery_{other[levers.partnership_payer]}"] == 0).all()
        np.testing.assert_allclose(
            row["employer_in_kind"],
            row["placements"] * params.employer_hours_per_placement * params.employer_hour_value,
            atol=0.01,
        )
        # Programme money goes through its payer lever only.
        assert (row[f"programme_payments_{other[levers.provider_payer]}"] == 0).all()
        # Training: the skills fund pays first, the Exchequer the rest; the fund never goes negative.
        np.testing.assert_allclose(
            row["training_skills_fund"] + row["training_exchequer"],
            row["training_starts"] * params.training_cost,
            atol=0.01,
        )
        fund = model.ledger.balance_pounds("skills_fund")
        assert (fund >= 0).all()
        assert (fund[row["training_exchequer"] > 0] == 0).all()
        # Brokerage: the council's staff time for each plan it secures, only where it brokers.
        staff = params.brokerage_hours_per_plan * params.brokerage_cost_per_hour
        np.testing.assert_allclose(row["brokerage"], row["esp_plans"] * staff * levers.brokerage, atol=0.01)
        # Developers pay what their plans secured: in full where the council monitors, else a share.
        paid = 1.0 if levers.brokerage else params.esp_paid_unmonitored
        np.testing.assert_allclose(
            row["developer_skills_contribution"], row["esp_contributions_secured"] * paid, atol=0.01
        )
        # Contributions net of the training money they replaced: one pound, one place.
        np.testing.assert_allclose(
            row["developer_contribution_net"] + row["training_skills_fund"],
            row["developer_skills_contribution"],
            atol=0.01,
        )

    model = run_model(regime, 4, months=12, burn_in=6, setup=setup, on_step=on_step)
    # Over the whole run: each account's balance is what it held at month 0 (brought forward from
    # before the measured months) plus the signed sum of its categories in the results.
    df = model.results_frame()
    by_d = df.groupby("district")[[*MONEY, "public_cost"]].sum()
    for account, i in ACCOUNT.items():
        expected = np.zeros(model.n_districts)
        for cat, (payer, payee) in CATEGORIES.items():
            expected += by_d[cat].to_numpy() * ((payee == account) - (payer == account))
        held = model.ledger.balances[i] - model.ledger.opening[i]
        np.testing.assert_array_equal(np.rint(expected * 100).astype(np.int64), held, err_msg=account)
    ledger = model.ledger

    def since_month_0(account: str) -> np.ndarray:
        return (ledger.balances[ACCOUNT[account]] - ledger.opening[ACCOUNT[account]]) / 100.0

    np.testing.assert_allclose(
        -by_d["public_cost"].to_numpy(), sum(since_month_0(a) for a in PUBLIC_ACCOUNTS), atol=0.05
    )
    # The ledger is opened afresh at month 0: the burn-in's money is brought forward as opening
    # balances, not counted in the measured months' flows.
    assert np.abs(ledger.balances - ledger.opening).sum() > 0 and ledger.is_balanced()


@pytest.mark.parametrize("regime", REGIMES)
def test_results_have_no_nan_and_no_negative_counts(run_model, regime):
    df = run_model(regime, 8, months=18, burn_in=6).results_frame()
    numeric = df.select_dtypes("number")
    assert np.isfinite(numeric.to_numpy(dtype=float)).all()
    may_be_negative = {"public_cost", "developer_contribution_net"}  # the fund may spend earlier savings
    negatives = [c for c in numeric.columns if c not in may_be_negative and (numeric[c] < 0).any()]
    assert negatives == []
    for col in STOCKS:
        assert (df[col] >= 0).all()
    assert set(df["month"]) == set(range(1, 19))
    assert df.groupby("month").size().eq(3).all()


# ------------------------------------------------------------------------------ probabilities
weights_st = st.lists(st.floats(0.0, 1e3, allow_subnormal=False), min_size=1, max_size=40)


@given(
    w=weights_st,
    vac=st.lists(st.floats(0.0, 1e4, allow_subnormal=False), min_size=1, max_size=3),
    alpha=st.floats(0.05, 0.95),
    eff=st.floats(0.0, 5.0),
    data=st.data(),
)
@FAST
def test_hire_probability_in_unit_interval(params, w, vac, alpha, eff, data):
    p = params.with_overrides({"matching_alpha": alpha, "matching_efficiency": eff})
    n_markets = len(vac)
    markets = np.array(data.draw(st.lists(st.integers(0, n_markets - 1), min_size=len(w), max_size=len(w))))
    weights = np.array(w)
    m, q = matching.market_rates(weights, np.array(vac), markets, p)
    assert np.isfinite(m).all() and np.isfinite(q).all()
    assert (m >= 0).all() and (m <= np.array(vac) + 1e-9).all()
    assert (q >= 0).all()
    prob = -np.expm1(-q[markets] * weights)
    assert np.isfinite(prob).all()
    assert ((prob >= 0) & (prob <= 1)).all()


@given(
    statuses=st.lists(st.sampled_from([EMPLOYED, UNEMPLOYED, INACTIVE]), min_size=1, max_size=60),
    finding=st.lists(st.floats(0.0, 1e4, allow_subnormal=False), min_size=3, max_size=3),
    exit_ui=st.floats(0.0, 1.0),
    sep_ei=st.floats(0.0, 1.0),
    data=st.data(),
)
@FAST
def test_entry_rates_in_unit_interval(params, people_factory, statuses, finding, exit_ui, sep_ei, data):
    n = len(statuses)
    districts = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    people = people_factory(n, status=statuses, district=districts)
    p = params.with_overrides({"exit_rate_ui": exit_ui, "sep_rate_ei": sep_ei})
    rate = participation.entry_rates(people, np.array(finding), p, 3)
    assert rate.shape == (3,)
    assert np.isfinite(rate).all() and ((rate >= 0) & (rate <= 1)).all()


def _random_firms(ages: list[int], hub: list[int], alive: list[bool], large: list[bool]) -> Firms:
    n = len(ages)
    return Firms(
        district=np.zeros(n, dtype=np.int16),
        market=np.zeros(n, dtype=np.int16),
        size=np.zeros(n, dtype=np.int32),
        target=np.ones(n),
        potential=np.ones(n),
        shock=np.zeros(n),
        age=np.array(ages, dtype=np.int32),
        alive=np.array(alive, dtype=bool),
        large=np.array(large, dtype=bool),
        hub_months=np.array(hub, dtype=np.int16),
        ever_supported=np.array(hub, dtype=np.int16) > 0,
        draw_row=np.arange(n, dtype=np.int32),
        n_used=n,
    )


@given(data=st.data(), ratio=st.floats(0.0, 2.0))
@FAST
def test_business_hazard_in_unit_interval(params, data, ratio):
    n = data.draw(st.integers(1, 50))
    ages = data.draw(st.lists(st.integers(0, 2000), min_size=n, max_size=n))
    hub = data.draw(st.lists(st.integers(0, 36), min_size=n, max_size=n))
    alive = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    large = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    firms = _random_firms(ages, hub, alive, large)
    h = business.hazard(firms, params.with_overrides({"hub_survival_hazard_ratio": ratio}))
    assert np.isfinite(h).all() and ((h >= 0) & (h <= 1)).all()
    assert (h[~firms.alive | firms.large] == 0).all()


@given(
    s1=st.floats(0.0, 1.0),
    s3=st.floats(0.0, 1.0),
    s5=st.floats(0.0, 1.0),
    mature=st.floats(0.0, 1.0),
)
@example(s1=0.913, s3=0.99, s5=0.5, mature=0.06)  # 3-year survival above 1-year survival
@example(s1=0.0, s3=0.0, s5=0.0, mature=0.06)  # nobody survives a year
@FAST
def test_death_hazard_in_unit_interval_for_any_accepted_survival_curve(params, s1, s3, s5, mature):
    """Any survival curve the configuration accepts must give monthly death hazards in [0, 1].

    Each survival parameter is accepted on its own domain [0, 1]; a curve that is not
    non-increasing (or has zero survival) must either be rejected as bad input (ConfigError) or
    still yield probabilities.
    """
    try:
        p = params.with_overrides(
            {"survival_1yr": s1, "survival_3yr": s3, "survival_5yr": s5, "mature_death_rate": mature}
        )
    except ConfigError:
        return
    h = death_hazard(np.array([0, 11, 12, 35, 36, 59, 60, 600]), p)
    assert np.isfinite(h).all(), h
    assert ((h >= 0) & (h <= 1)).all(), h


@given(
    s1=st.floats(0.91, 0.915),
    s3=st.floats(0.594, 0.60),
    s5=st.floats(0.41, 0.45),
    mature=st.floats(0.04, 0.08),
)
@FAST
def test_death_hazard_in_unit_interval_within_calibration_ranges(params, s1, s3, s5, mature):
    p = params.with_overrides({"survival_1yr": s1, "survival_3yr": s3, "survival_5yr": s5, "mature_death_rate": mature})
    h = death_hazard(np.arange(0, 200), p)
    assert np.isfinite(h).all() and ((h >= 0) & (h <= 1)).all()


@pytest.mark.parametrize("regime", REGIMES)
def test_live_model_probabilities_in_unit_interval(run_model, params, regime):
    def on_step(model: LabourMarketModel) -> None:
        people, p = model.people, model.params
        w = matching.search_weights(people, p)
        assert np.isfinite(w).all() and (w >= 0).all()
        assert (w[people.status == EMPLOYED] == 0).all()
        v_m = np.bincount(model.firms.market, weights=model.firms.vacancies(), minlength=len(model.market_names))
        _, q = matching.market_rates(w, v_m, model.person_market, p)
        prob = -np.expm1(-q[model.person_market] * w)
        assert ((prob >= 0) & (prob <= 1)).all()
        assert (matching.support_multiplier(people.support_hours, p) >= 1).all()
        h = business.hazard(model.firms, p)
        assert ((h >= 0) & (h <= 1)).all()
        assert ((model.q_prev >= 0) & np.isfinite(model.q_prev)).all()

    model = run_model(regime, 21, months=12, burn_in=6, on_step=on_step)
    assert ((model.entry_rate >= 0) & (model.entry_rate <= 1)).all()
    # Each district's own rate (`separations.district_rates_eu`): above the place's in districts
    # with more unemployment than the place's, never negative.
    assert (model.rate_eu >= 0).all()
    assert (model.rate_eu + params.sep_rate_ei <= 1).all()
