"""Common random numbers: draws belong to (decision, month, slot), so arms differ only where levers act.

Part (a) checks the streams themselves. Part (b) runs two arms on one seed that differ in one
lever and checks that everything the lever cannot reach keeps an identical history, step by step:

- `brokerage` only changes developers' obligations (money and counts), so every person and every
  firm must be identical;
- a provider lever set for Southby alone (market "south") cannot reach the market "north":
  matching is per market and draws are per slot, so north's people must be identical;
- an enterprise-hub lever set for Southby alone must likewise leave market "north" identical, and
  firms no hub ever supports must keep the same luck (DESIGN.md: "on common random numbers, the
  arm without hubs has the same firms and the same luck, so the difference is the additional
  effect").

Each test also checks that the arms do differ where the lever acts, so none is vacuous.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.model import LabourMarketModel
from simulation.rng import Streams, stable_hash

FAST = settings(max_examples=60, deadline=None)
# What brokerage may change when plans have no posts: plans and money only.
BROKERAGE_MONEY = {
    "esp_plans",
    "esp_plan_value",
    "esp_contributions_secured",
    "developer_skills_contribution",
    "developer_contribution_net",
    "brokerage",
    "training_skills_fund",
    "training_exchequer",
    "employment_support_cost",
    "public_cost",
}


# ------------------------------------------------------------------------------------ streams
@given(
    seed=st.integers(0, 2**63),
    decision=st.text(min_size=1, max_size=20),
    month=st.integers(-600, 1200),
    n=st.integers(0, 300),
    data=st.data(),
)
@FAST
def test_draws_are_prefix_stable_in_n(seed, decision, month, n, data):
    k = data.draw(st.integers(0, n))
    s = Streams(seed)
    np.testing.assert_array_equal(s.uniform(decision, month, n)[:k], s.uniform(decision, month, k))
    np.testing.assert_array_equal(s.normal(decision, month, n)[:k], s.normal(decision, month, k))
    u = s.uniform(decision, month, n)
    assert ((u >= 0) & (u < 1)).all()


@given(
    seed=st.integers(0, 2**32),
    month=st.integers(-100, 100),
    before=st.lists(st.tuples(st.sampled_from(["separation", "search", "claim", "layoff"]), st.integers(-5, 5))),
)
@FAST
def test_draws_do_not_depend_on_what_was_drawn_before(seed, month, before):
    fresh = Streams(seed).uniform("referral", month, 50)
    used = Streams(seed)
    for decision, m in before:
        used.uniform(decision, m, 17)
        used.normal(decision, m, 3)
    np.testing.assert_array_equal(used.uniform("referral", month, 50), fresh)
    np.testing.assert_array_equal(used.uniform("referral", month, 50), fresh)  # and drawing again repeats


def test_draws_differ_by_decision_month_and_seed():
    s = Streams(1)
    base = s.uniform("separation", 3, 100)
    assert not np.array_equal(base, s.uniform("search", 3, 100))
    assert not np.array_equal(base, s.uniform("separation", 4, 100))
    assert not np.array_equal(base, s.uniform("separation", -3, 100))  # burn-in months are their own
    assert not np.array_equal(base, Streams(2).uniform("separation", 3, 100))
    np.testing.assert_array_equal(base, Streams(1).uniform("separation", 3, 100))


def test_negative_seed_rejected():
    with pytest.raises(ValueError, match="seed"):
        Streams(-1)


def test_stream_keys_are_the_same_in_every_python_process():
    """stable_hash and the draws must not depend on Python's per-process string hashing."""
    code = (
        "from simulation.rng import Streams, stable_hash;"
        "print(stable_hash('separation'), Streams(3).uniform('search', 5, 4).tolist())"
    )
    outs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        outs.add(out.stdout.strip())
    assert outs == {f"{stable_hash('separation')} {Streams(3).uniform('search', 5, 4).tolist()}"}


# ------------------------------------------------------------------------------------- arms
def _step_together(a: LabourMarketModel, b: LabourMarketModel, check) -> None:
    assert a.months == b.months
    while a.running:
        a.step()
        b.step()
        check(a, b)
    assert not b.running


def _people_fields(model: LabourMarketModel) -> list[str]:
    return [f.name for f in dataclasses.fields(model.people)]


def _assert_same_people_and_firms(x: LabourMarketModel, y: LabourMarketModel) -> None:
    for name in _people_fields(x):
        np.testing.assert_array_equal(getattr(x.people, name), getattr(y.people, name), err_msg=name)
    for f in dataclasses.fields(x.firms):
        np.testing.assert_array_equal(getattr(x.firms, f.name), getattr(y.firms, f.name), err_msg=f.name)


def test_brokerage_without_plan_posts_changes_money_but_no_person_or_firm(build_model, small_schemes):
    """With no on-site posts in developers' plans, brokerage can only move money: developers'
    contributions to the skills fund (and so who pays for training) and the council's brokering."""
    # Small schemes, so testville's construction output arrives as several schemes a month.
    no_posts = {"esp_posts_per_m": 0.0, "esp_posts_per_m_large": 0.0}
    kw = {"months": 18, "burn_in": 6, "overrides": small_schemes | no_posts}
    a = build_model("cooperative", 3, lever_overrides={"brokerage": False}, **kw)
    b = build_model("cooperative", 3, lever_overrides={"brokerage": True}, **kw)
    _step_together(a, b, _assert_same_people_and_firms)
    fa, fb = a.results_frame(), b.results_frame()
    differing = {c for c in fa.columns if not fa[c].equals(fb[c])}
    assert differing <= BROKERAGE_MONEY, differing
    assert fb["developer_skills_contribution"].sum() > fa["developer_skills_contribution"].sum() > 0
    assert fb["brokerage"].sum() > 0 and (fa["brokerage"] == 0).all()
    # Developments themselves (how many, how big, which are eligible) do not depend on brokerage;
    # plans do: a brokering council secures more.
    assert fa["projects"].sum() >= 5
    for col in ("projects", "construction_value_m", "esp_schemes_eligible"):
        pd.testing.assert_series_equal(fa[col], fb[col])
    assert fb["esp_plans"].sum() > fa["esp_plans"].sum() > 0
    # The council's brokerage staff are paid for each plan it secures, nothing else.
    np.testing.assert_allclose(
        fb["brokerage"], fb["esp_plans"] * b.params.brokerage_hours_per_plan * b.params.brokerage_cost_per_hour
    )


def test_brokerage_changes_who_fills_posts_but_never_the_firms_luck(build_model, small_schemes):
    """Brokered plans give open posts to local long-term claimants: people differ, but firms live,
    die and want the same posts in both arms, and nobody ages differently."""
    kw = {"months": 18, "burn_in": 6, "overrides": small_schemes}
    a = build_model("cooperative", 3, lever_overrides={"brokerage": False}, **kw)
    b = build_model("cooperative", 3, lever_overrides={"brokerage": True}, **kw)
    people_differ = 0

    def check(x: LabourMarketModel, y: LabourMarketModel) -> None:
        nonlocal people_differ
        for f in ("alive", "target", "potential", "shock", "age", "district", "market", "large", "hub_months"):
            np.testing.assert_array_equal(getattr(x.firms, f), getattr(y.firms, f), err_msg=f"firms' {f}")
        for f in ("age", "birth_month", "district"):
            np.testing.assert_array_equal(getattr(x.people, f), getattr(y.people, f), err_msg=f"people's {f}")
        people_differ += int((x.people.status != y.people.status).sum())

    _step_together(a, b, check)
    fa, fb = a.results_frame(), b.results_frame()
    pd.testing.assert_series_equal(fa["projects"], fb["projects"])
    pd.testing.assert_series_equal(fa["construction_value_m"], fb["construction_value_m"])
    assert fb["esp_posts"].sum() > fa["esp_posts"].sum()
    assert fb["esp_local_hires"].sum() > fa["esp_local_hires"].sum()
    assert (fb["esp_local_hires"] <= np.ceil(fb["esp_posts"]) + 1).all()
    assert (fb["esp_apprenticeships"] <= fb["esp_local_hires"]).all()
    assert fb["developer_skills_contribution"].sum() > fa["developer_skills_contribution"].sum()
    assert people_differ > 0, "brokered plans changed nobody: the test would be vacuous"


def _district(model: LabourMarketModel, name: str) -> int:
    return model.district_names.index(name)


def _market_isolation(a: LabourMarketModel, b: LabourMarketModel) -> tuple[int, int]:
    """Step both arms; market "north" must stay identical every month. Returns (south diffs, months)."""
    north_people = a.person_market == a.market_names.index("north")
    assert north_people.sum() == 5000 and (~north_people).sum() == 1500
    south_diffs = 0

    def check(x: LabourMarketModel, y: LabourMarketModel) -> None:
        nonlocal south_diffs
        for name in _people_fields(x):
            vx, vy = getattr(x.people, name), getattr(y.people, name)
            np.testing.assert_array_equal(
                vx[north_people], vy[north_people], err_msg=f"north people's {name} differ in month {x.month}"
            )
        nf = x.firms.market == x.market_names.index("north")
        np.testing.assert_array_equal(nf, y.firms.market == y.market_names.index("north"))
        for f in ("alive", "size", "target", "potential", "shock", "age", "district"):
            np.testing.assert_array_equal(
                getattr(x.firms, f)[nf], getattr(y.firms, f)[nf], err_msg=f"north firms' {f} differ in month {x.month}"
            )
        south_diffs += int((x.people.status[~north_people] != y.people.status[~north_people]).sum())

    _step_together(a, b, check)
    fa, fb = a.results_frame(), b.results_frame()
    north_rows = fa["market"] == "north"
    pd.testing.assert_frame_equal(fa[north_rows], fb[north_rows])
    return south_diffs, a.months


def test_provider_lever_in_one_market_leaves_the_other_market_identical(build_model, with_levers):
    a = build_model("centralised", 5, months=24, burn_in=12)
    b = build_model("centralised", 5, months=24, burn_in=12)
    s = _district(b, "Southby")
    # Southby's provider alone refers early, caseloads are smaller, time goes by need, with integrated help.
    b.providers[s].levers = with_levers(
        b.levers, referral_month=3, caseload=40, effort_rule="need", integrated_help=True
    )
    south_diffs, _ = _market_isolation(a, b)
    fa, fb = a.results_frame(), b.results_frame()
    south = fa["district_name"] == "Southby"
    assert fb.loc[south, "programme_referrals"].sum() > fa.loc[south, "programme_referrals"].sum()
    assert fb.loc[south, "participants"].sum() > fa.loc[south, "participants"].sum()
    assert south_diffs > 0, "the lever changed nobody in Southby: the test would be vacuous"


def test_hub_lever_in_one_market_leaves_the_other_market_identical(build_model):
    a = build_model("centralised", 5, months=36, burn_in=12)
    b = build_model("centralised", 5, months=36, burn_in=12)
    assert a.hubs[0].firms_per_year == 0
    # Southby alone gets an enterprise hub.
    b.hubs[_district(b, "Southby")].firms_per_year = 30.0
    south_diffs, _ = _market_isolation(a, b)
    fb = b.results_frame()
    assert fb.loc[fb["district_name"] == "Southby", "hub_supported_firms"].max() > 0
    assert south_diffs > 0


def test_firms_no_hub_supports_keep_the_same_luck(build_model):
    """Hubs change the firms they support; without displacement every other firm must live the
    same life in both arms."""
    kw = {"months": 36, "burn_in": 12, "overrides": {"hub_displacement": 0.0}}
    without = build_model("cooperative", 2, lever_overrides={"hub_firms_per_year": 0.0}, **kw)
    with_hubs = build_model("cooperative", 2, **kw)
    supported_ever = 0

    def check(x: LabourMarketModel, y: LabourMarketModel) -> None:
        nonlocal supported_ever
        n = min(x.firms.capacity, y.firms.capacity)
        assert not x.firms.ever_supported.any()
        untouched = ~y.firms.ever_supported[:n]
        supported_ever = int(y.firms.ever_supported.sum())
        for f in ("alive", "target", "potential", "age", "district"):
            np.testing.assert_array_equal(
                getattr(x.firms, f)[:n][untouched],
                getattr(y.firms, f)[:n][untouched],
                err_msg=f"firms never supported by a hub: {f} differs in month {x.month}",
            )

    _step_together(without, with_hubs, check)
    assert supported_ever > 0
    # Hubs raise survival (hazard ratio below one) on the same draws: every supported firm that
    # died with a hub died without one too, and some survive only thanks to their hub.
    n = min(without.firms.capacity, with_hubs.firms.capacity)
    supported = with_hubs.firms.ever_supported[:n]
    died_with, died_without = ~with_hubs.firms.alive[:n] & supported, ~without.firms.alive[:n] & supported
    assert not (died_with & ~died_without).any()
    assert died_without.sum() > died_with.sum()


def test_hub_displacement_takes_from_local_firms_and_leaves_other_markets_identical(build_model, params):
    """With displacement, Southby's hub takes part of its firms' extra growth from Southby's other
    firms: their potential falls a little. Market "north" is untouched."""
    assert params.hub_displacement > 0
    a = build_model("centralised", 5, months=24, burn_in=12)
    b = build_model("centralised", 5, months=24, burn_in=12)
    south = _district(b, "Southby")
    b.hubs[south].firms_per_year = 30.0
    _market_isolation(a, b)
    n = min(a.firms.capacity, b.firms.capacity)
    in_south = (b.firms.district[:n] == south) & a.firms.alive[:n] & b.firms.alive[:n] & ~b.firms.large[:n]
    never = in_south & ~b.firms.ever_supported[:n]
    ratio = b.firms.potential[:n][never] / a.firms.potential[:n][never]
    assert never.sum() > 20 and b.firms.ever_supported.sum() > 0
    assert (ratio < 1.0).all()  # every unsupported local firm loses a little
    assert ratio.min() > 0.8
    # One district-wide share each month: every unsupported firm alive throughout loses alike.
    old = never & (a.firms.age[:n] >= 24)
    assert np.ptp(ratio[old[never]]) < 1e-9
    # Supported firms grow more than they would have (once they have had a month of support).
    hubbed = in_south & b.firms.ever_supported[:n] & (b.firms.hub_months[:n] < int(params.hub_support_months))
    assert hubbed.sum() > 5
    assert (b.firms.potential[:n][hubbed] > a.firms.potential[:n][hubbed]).all()


def test_first_month_referrals_are_nested_in_the_referral_share(build_model):
    """Referral draws are per slot: at share 0.5 the referred are a subset of those referred at share 1."""
    half = build_model("cooperative", 8, months=3, burn_in=12, lever_overrides={"referral_share": 0.5})
    full = build_model("cooperative", 8, months=3, burn_in=12, lever_overrides={"referral_share": 1.0})
    half.step()
    full.step()
    in_half, in_full = half.people.programme >= 0, full.people.programme >= 0
    assert in_half.sum() > 0
    assert in_full.sum() > in_half.sum()
    assert not (in_half & ~in_full).any()
    # Everything decided before the providers act this month is identical.
    np.testing.assert_array_equal(half.people.age, full.people.age)
    np.testing.assert_array_equal(half.firms.target, full.firms.target)


def test_a_developer_pound_that_replaces_exchequer_training_is_counted_once(build_model, small_schemes):
    """Developers' contributions fill the skills fund, which pays for courses the Exchequer would
    otherwise pay. With the same people in both arms (no plan posts), brokerage's extra money is
    (a) a public saving, exactly the Exchequer's training it replaced, inside employment-support
    cost, and (b) the rest, counted as developers' gain (`developer_contribution_net`): the two add
    up to the contributions once, never to the contributions plus the saving."""
    from simulation.measures import evaluate

    no_posts = {"esp_posts_per_m": 0.0, "esp_posts_per_m_large": 0.0}
    kw = {"months": 18, "burn_in": 6, "lead_in": 0, "overrides": small_schemes | no_posts}
    off = build_model("cooperative", 5, lever_overrides={"brokerage": False}, **kw)
    on = build_model("cooperative", 5, lever_overrides={"brokerage": True}, **kw)
    _step_together(off, on, _assert_same_people_and_firms)
    f_off, f_on = off.results_frame(), on.results_frame()
    cost = on.params.training_cost
    for f in (f_off, f_on):  # every course paid once, by one payer
        np.testing.assert_allclose(
            f["training_exchequer"] + f["training_skills_fund"], f["training_starts"] * cost, atol=0.01
        )
        # What developers paid = what replaced Exchequer training + what is counted as their gain.
        np.testing.assert_allclose(
            f["developer_contribution_net"].sum() + f["training_skills_fund"].sum(),
            f["developer_skills_contribution"].sum(),
            atol=0.01,
        )
        for_claims = evaluate("developer_contribution_net_per_year", f) + evaluate(
            "developer_money_replacing_public_per_year", f
        )
        assert for_claims == pytest.approx(evaluate("developer_contribution_per_year", f))
    np.testing.assert_allclose(f_on["training_starts"], f_off["training_starts"])  # the same courses
    replaced = f_on["training_skills_fund"].sum() - f_off["training_skills_fund"].sum()
    saving = f_off["training_exchequer"].sum() - f_on["training_exchequer"].sum()
    assert replaced > 0 and saving == pytest.approx(replaced, abs=0.05)
    # Public money moves by the brokerage staff less the saving, and by nothing else.
    d_support = f_on["employment_support_cost"].sum() - f_off["employment_support_cost"].sum()
    assert d_support == pytest.approx(f_on["brokerage"].sum() - saving, abs=0.05)
    # The gain counted for developers excludes the saved pound: gain + saving = extra contributions.
    d_paid = f_on["developer_skills_contribution"].sum() - f_off["developer_skills_contribution"].sum()
    d_gain = f_on["developer_contribution_net"].sum() - f_off["developer_contribution_net"].sum()
    assert d_gain + saving == pytest.approx(d_paid, abs=0.05)
    assert d_gain < d_paid  # counting both would have claimed d_paid + saving
