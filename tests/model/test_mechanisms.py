"""Each mechanism alone, on small arrays, against what the mechanism implies."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulation.config import GROUPS, load_regime
from simulation.firms import Firms, age_profile, death_hazard
from simulation.ledger import ACCOUNT, Ledger
from simulation.mechanisms import (
    business,
    developers,
    matching,
    participation,
    partnerships,
    providers,
    providers_kernels,
    separations,
    skills,
)
from simulation.people import (
    EMPLOYED,
    ESA,
    ESA_EX_IB,
    ESA_NEW,
    FRAGILE_MONTHS,
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
)
from simulation.registry import CATEGORIES
from simulation.rng import Streams

FAST = settings(max_examples=60, deadline=None)


def make_firms(n: int, **fields) -> Firms:
    arrays = {
        "district": np.zeros(n, dtype=np.int16),
        "market": np.zeros(n, dtype=np.int16),
        "size": np.zeros(n, dtype=np.int32),
        "target": np.full(n, 5.0),
        "potential": np.full(n, 5.0),
        "shock": np.zeros(n),
        "age": np.full(n, 6, dtype=np.int32),
        "alive": np.ones(n, dtype=bool),
        "large": np.zeros(n, dtype=bool),
        "hub_months": np.zeros(n, dtype=np.int16),
        "ever_supported": np.zeros(n, dtype=bool),
        "draw_row": np.arange(n, dtype=np.int32),
    }
    for k, v in fields.items():
        arrays[k] = np.broadcast_to(np.asarray(v, dtype=arrays[k].dtype), (n,)).copy()
    return Firms(**arrays, n_used=n)


def copy_of(obj):
    return dataclasses.replace(
        obj,
        **{
            f.name: getattr(obj, f.name).copy()
            for f in dataclasses.fields(obj)
            if isinstance(getattr(obj, f.name), np.ndarray)
        },
    )


def new_flows(n_districts: int = 1) -> dict[str, np.ndarray]:
    from simulation.registry import FLOWS

    return {k: np.zeros(n_districts, dtype=np.int64) for k in FLOWS}


# ---------------------------------------------------------------------------------- matching
@given(
    s=st.floats(1.0, 1e5),
    v=st.floats(1.0, 1e5),
    factor=st.floats(1.01, 10.0),
    alpha=st.floats(0.05, 0.95),
)
@FAST
def test_matches_rise_with_vacancies_and_searchers(params, s, v, factor, alpha):
    p = params.with_overrides({"matching_alpha": alpha})
    one = np.zeros(1, dtype=np.int64)

    def matches(searchers: float, vacancies: float) -> tuple[float, float]:
        m, q = matching.market_rates(np.array([searchers]), np.array([vacancies]), one, p)
        return float(m[0]), float(q[0])

    m0, q0 = matches(s, v)
    m_v, q_v = matches(s, v * factor)
    m_s, q_s = matches(s * factor, v)
    assert m_v >= m0 and q_v >= q0  # more vacancies: more matches, better odds
    assert m_s >= m0  # more searchers: more matches ...
    assert q_s <= q0  # ... but each unit of search finds less (congestion)
    assert m0 <= v and m_v <= v * factor  # never more matches than vacancies
    uncapped = params.matching_efficiency * s**alpha * (v * factor) ** (1 - alpha) < v
    if uncapped:
        assert m_v > m0 and m_s > m0


@given(
    n=st.integers(5, 200),
    share=st.floats(0.05, 0.9),
    factor=st.floats(1.1, 5.0),
    alpha=st.floats(0.05, 0.95),
    v=st.floats(1.0, 500.0),
)
@FAST
def test_displacement_raising_some_weights_takes_matches_from_others(params, n, share, factor, alpha, v):
    """With alpha < 1, boosted searchers gain more than the market does: the rest comes from others."""
    p = params.with_overrides({"matching_alpha": alpha})
    markets = np.zeros(n, dtype=np.int64)
    w = np.ones(n)
    group = np.arange(n) < max(1, int(share * n))
    boosted = np.where(group, w * factor, w)
    _, q = matching.market_rates(w, np.array([v]), markets, p)
    _, q2 = matching.market_rates(boosted, np.array([v]), markets, p)
    prob, prob2 = -np.expm1(-q[0] * w), -np.expm1(-q2[0] * boosted)
    group_gain = prob2[group].sum() - prob[group].sum()
    others_loss = prob[~group].sum() - prob2[~group].sum()
    total_gain = prob2.sum() - prob.sum()
    assert q2[0] < q[0]
    assert group_gain > 0
    if (~group).any():
        assert others_loss > 0
        assert total_gain < group_gain


def _one_market_people(people_factory, n: int):
    return people_factory(n, status=UNEMPLOYED, benefit=JSA)


def _run_matching(params, people, firms, seed: int = 1, month: int = 0, person_market=None):
    n_districts = int(people.district.max()) + 1
    flows = new_flows(n_districts)
    pm = np.zeros(people.n, dtype=np.int64) if person_market is None else person_market
    matching.step(people, firms, params, Streams(seed), month, pm, flows, n_districts)
    return flows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_more_vacancies_more_hires_same_draws(params, people_factory, seed):
    """On the same draws, doubling every firm's vacancies hires everyone hired before, and more."""
    hired = []
    for target in (40.0, 80.0):
        people = _one_market_people(people_factory, 1000)
        firms = make_firms(10, target=target)
        flows = _run_matching(params, people, firms, seed)
        now_employed = people.status == EMPLOYED
        assert flows["u_to_e"].sum() == now_employed.sum()
        # Hires fill real posts: headcounts are the people hired there, never above the firm's posts.
        np.testing.assert_array_equal(np.bincount(people.employer[now_employed], minlength=10), firms.size)
        assert (firms.size <= np.floor(firms.target + 0.5)).all()
        assert (people.benefit[now_employed] == NO_BENEFIT).all()
        assert (people.wage[now_employed] > 0).all()
        hired.append(now_employed)
    assert hired[1].sum() > hired[0].sum() > 0
    assert not (hired[0] & ~hired[1]).any()


def test_hires_never_exceed_vacancies(params, people_factory):
    """Three searchers, one post: draws often pick two or three, but only one can be hired."""
    params = params.with_overrides({"matching_efficiency": 5.0})
    trimmed = 0
    for seed in range(40):
        people = _one_market_people(people_factory, 3)
        firms = make_firms(1, target=1.0)
        w = matching.search_weights(people, params)
        _, q = matching.market_rates(w, np.array([1]), np.zeros(3, dtype=np.int64), params)
        drawn = (Streams(seed).uniform("search", 0, 3) < -np.expm1(-q[0] * w)).sum()
        flows = _run_matching(params, people, firms, seed)
        hires = int(flows["u_to_e"].sum())
        assert hires == min(drawn, 1)
        assert firms.size[0] == hires == (people.status == EMPLOYED).sum()
        trimmed += drawn > 1
    assert trimmed > 0  # the capping branch ran


def test_markets_are_independent_in_matching(params, people_factory):
    """Vacancies in one market change nothing for searchers in another (same draws)."""
    results = []
    for north_target in (10.0, 60.0):
        people = people_factory(800, status=UNEMPLOYED, district=np.repeat([0, 1], 400))
        pm = people.district.astype(np.int64)
        firms = make_firms(
            8, market=np.repeat([0, 1], 4), district=np.repeat([0, 1], 4), target=[north_target] * 4 + [20.0] * 4
        )
        flows = _run_matching(params, people, firms, seed=4, person_market=pm)
        results.append((people.status.copy(), people.employer.copy(), firms.size.copy(), flows["u_to_e"].copy()))
    (s0, e0, f0, u0), (s1, e1, f1, u1) = results
    np.testing.assert_array_equal(s0[400:], s1[400:])
    np.testing.assert_array_equal(e0[400:], e1[400:])
    np.testing.assert_array_equal(f0[4:], f1[4:])
    assert u0[1] == u1[1]
    assert u1[0] > u0[0]
    # Nobody is hired outside their own market.
    assert (e1[:400][e1[:400] >= 0] < 4).all() and (e1[400:][e1[400:] >= 0] >= 4).all()


def test_employability_falls_with_barriers_and_spell_length_and_rises_with_skill(params, people_factory):
    people = people_factory(
        8,
        status=[UNEMPLOYED, UNEMPLOYED, UNEMPLOYED, UNEMPLOYED, INACTIVE, INACTIVE, INACTIVE, UNEMPLOYED],
        barrier=[0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        months_in_status=[0, 0, 24, 0, 0, 24, 2, 0],
        months_out=[0, 0, 24, 0, 0, 0, 24, 0],
        skill=[0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0],
        employability=[1, 1, 1, 1, 1, 1, 1, 0.5],
    )
    e = matching.employability(people, params)
    assert e[0] == pytest.approx(1.0)
    assert e[1] < e[0]
    assert e[2] < e[0]  # a long spell out of work scars
    assert e[3] > e[0]
    assert e[5] == pytest.approx(e[4])  # long inactivity off benefit is no spell out of work: no scar
    assert e[6] == pytest.approx(e[2])  # a short break in inactivity: the linked spell scars as unemployment does
    assert e[7] == pytest.approx(0.5 * e[0])  # persistent employability multiplies
    w = matching.search_weights(people, params)
    assert w[4] == pytest.approx(params.inactive_search_intensity * e[4])
    hours = np.array([0.0, 1.0, 5.0, 20.0])
    mult = matching.support_multiplier(hours, params)
    assert mult[0] == 1.0 and (np.diff(mult) > 0).all()


# ---------------------------------------------------------------------------------- providers
rules = st.sampled_from(["uniform", "expected_payment", "need"])
GROUP_CODES = dict(zip(GROUPS, range(1, len(GROUPS) + 1), strict=True))


@given(
    n=st.integers(1, 60),
    total=st.floats(0.1, 1e5),
    rule=rules,
    half_hours=st.floats(0.01, 100.0),
    data=st.data(),
)
@FAST
def test_allocated_hours_sum_to_the_budget(n, total, rule, half_hours, data):
    h = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    b = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    fee = np.array(data.draw(st.lists(st.sampled_from([0.0, 400.0, 3410.0, 13500.0]), min_size=n, max_size=n)))
    hours = providers.allocate_hours(total, rule, h, b, fee, half_hours)
    assert hours.shape == (n,)
    assert np.isfinite(hours).all() and (hours >= 0).all()
    assert hours.sum() == pytest.approx(total, rel=1e-9)


def test_allocate_hours_edge_cases():
    empty = np.zeros(0)
    assert providers.allocate_hours(100.0, "need", empty, empty, empty, 0.5).shape == (0,)
    three = np.ones(3)
    np.testing.assert_array_equal(providers.allocate_hours(0.0, "uniform", three, three, three, 0.5), np.zeros(3))
    np.testing.assert_allclose(
        providers.allocate_hours(90.0, "uniform", np.array([0.1, 0.5, 0.9]), three, three, 0.5), 30.0
    )
    # No fees at stake: expected payment cannot rank anyone, so time is shared equally.
    np.testing.assert_allclose(
        providers.allocate_hours(90.0, "expected_payment", np.array([0.1, 0.5, 0.9]), three, np.zeros(3), 0.5), 30.0
    )
    # Nobody with a fee at stake gets time only where a fee is at stake.
    hours = providers.allocate_hours(90.0, "expected_payment", np.full(3, 0.1), three, np.array([0, 1000.0, 0]), 0.5)
    np.testing.assert_allclose(hours, [0.0, 90.0, 0.0])


@given(
    nk=st.integers(1, 5),
    half_hours=st.sampled_from([0.5, 4.0, 12.0]),
    data=st.data(),
)
@FAST
def test_grouped_water_fill_is_allocate_hours_for_each_provider(nk, half_hours, data):
    """The providers' step shares every provider's hours in one compiled call: each provider's
    people get what `allocate_hours` gives them alone, to rounding (ties, fees of nothing, budgets
    of nothing and providers with nobody included)."""
    n = data.draw(st.integers(0, 60))
    group = np.array(data.draw(st.lists(st.integers(0, nk - 1), min_size=n, max_size=n)), dtype=np.int64)
    hazard = np.array(
        data.draw(st.lists(st.one_of(st.sampled_from([0.0, 0.01, 0.05]), st.floats(0.0, 1.0)), min_size=n, max_size=n))
    )
    fee = np.array(data.draw(st.lists(st.sampled_from([0.0, 400.0, 3410.0, 13500.0]), min_size=n, max_size=n)))
    totals = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0, 37.5, 150.0, 1e4]), min_size=nk, max_size=nk)))
    order = np.argsort(group, kind="stable")
    cuts = np.searchsorted(group[order], np.arange(nk + 1))
    value = fee * hazard
    levels = np.log2(np.maximum(value, 1e-300))
    neg = -levels[order]
    for k in range(nk):
        neg[cuts[k] : cuts[k + 1]].sort()
    out = np.full(n, np.nan)
    providers_kernels.water_fill_groups(value, levels, order, cuts, neg, totals, half_hours, out)
    for k in range(nk):
        mine = order[cuts[k] : cuts[k + 1]]
        want = providers.allocate_hours(
            totals[k], "expected_payment", hazard[mine], np.zeros(mine.size), fee[mine], half_hours
        )
        # The compiled pass and `allocate_hours` add the same terms in different orders: equal
        # to rounding (a hypothesis example found a 4e-15 relative difference in one person's hours).
        np.testing.assert_allclose(out[mine], want, rtol=1e-12, atol=1e-15)


def test_expected_payment_gives_more_time_to_higher_base_hazard():
    h = np.array([0.01, 0.02, 0.05, 0.10, 0.20])
    half_hours = 0.5
    hours = providers.allocate_hours(100.0, "expected_payment", h, np.zeros(5), np.full(5, 1000.0), half_hours)
    assert (np.diff(hours) > 0).all() and (hours > 0).all()
    # Maximising sum fee * h0 * (1 - 2^(-e/half)) under the budget: where everyone gets time,
    # e_i - e_j = half * log2(h_i / h_j) (water-filling on log2 of expected payment).
    assert hours[4] - hours[0] == pytest.approx(half_hours * np.log2(h[4] / h[0]))
    assert hours[3] - hours[1] == pytest.approx(half_hours * np.log2(h[3] / h[1]))
    # The marginal expected payment of an hour is equal for everyone who gets time.
    marginal = 1000.0 * h * np.exp2(-hours / half_hours)
    np.testing.assert_allclose(marginal, marginal[0], rtol=1e-9)


def test_need_gives_more_time_to_higher_barriers():
    barrier = np.array([0.0, 0.2, 0.5, 0.9])
    hours = providers.allocate_hours(100.0, "need", np.full(4, 0.1), barrier, np.full(4, 1000.0), 0.5)
    assert (np.diff(hours) > 0).all()
    assert hours[3] / hours[0] == pytest.approx((0.9 + 0.1) / (0.0 + 0.1))


@given(
    n=st.integers(1, 30),
    raise_by=st.floats(1.05, 20.0),
    total=st.floats(1.0, 2000.0),
    h0=st.floats(0.005, 0.5),
    half_hours=st.floats(0.1, 10.0),
)
@FAST
def test_a_higher_fee_for_one_group_moves_a_pbr_providers_time_to_it(n, raise_by, total, h0, half_hours):
    """Two groups with identical chances of work; raising one group's fee moves hours to it from the other."""
    h = np.full(2 * n, h0)
    group_a = np.arange(2 * n) < n
    fee = np.full(2 * n, 1000.0)
    before = providers.allocate_hours(total, "expected_payment", h, np.zeros(2 * n), fee, half_hours)
    np.testing.assert_allclose(before, total / (2 * n))  # equal prices, equal chances: equal time
    after = providers.allocate_hours(
        total, "expected_payment", h, np.zeros(2 * n), np.where(group_a, fee * raise_by, fee), half_hours
    )
    assert after.sum() == pytest.approx(total, rel=1e-9)  # the budget is fixed
    assert (after[group_a] > before[group_a]).all()
    assert (after[~group_a] < before[~group_a]).all()
    # Within a group, everyone is treated alike.
    assert np.ptp(after[group_a]) < 1e-9 * total and np.ptp(after[~group_a]) < 1e-9 * total


def test_payment_group_fees_steer_a_providers_time(params, people_factory, with_levers):
    """Identical people but for their claimant group: at Work Programme prices (18-24: 1,200 + 13 x 170;
    25+: 1,200 + 13 x 215) the 25+ group gets more time; raise the 18-24 outcome fee and it gets more."""
    levers = load_regime("centralised").levers
    young = np.arange(40) < 20
    hours = {}
    for label, lv in (("wp", levers), ("young_fee_up", with_levers(levers, groups__jsa_18_24__fee_job_outcome=5000.0))):
        p = people_factory(40, benefit=JSA, age=np.where(young, 20, 30), months_in_status=12)
        np.testing.assert_array_equal(p.group, np.where(young, JSA_18_24, JSA_25_PLUS))
        out = providers.step(p, 0, lv, params, np.zeros(40), 0.05, 0)
        assert out.referrals == 40 and out.advisers == 1
        np.testing.assert_array_equal(out.participants_by_group[[JSA_18_24, JSA_25_PLUS]], [20, 20])
        hours[label] = p.support_hours.astype(float)
        assert hours[label].sum() == pytest.approx(params.adviser_hours_per_month, rel=1e-6)
    assert hours["wp"][young].mean() < hours["wp"][~young].mean()
    assert hours["young_fee_up"][young].mean() > hours["young_fee_up"][~young].mean()
    assert (hours["young_fee_up"][young] > hours["wp"][young]).all()
    assert (hours["young_fee_up"][~young] < hours["wp"][~young]).all()


@given(
    levels=st.lists(st.floats(-1000.0, 100.0), min_size=1, max_size=50),
    budget=st.floats(1e-6, 1e5),
)
@settings(max_examples=200, deadline=None)
@example(levels=[3.0, 3.0, 3.0], budget=1.5)  # ties share equally
@example(levels=[5.0, -1000.0, 4.0], budget=0.5)  # a no-fee participant far below the water line
def test_water_fill_uses_the_budget_is_monotone_and_leaves_the_low_dry(levels, budget):
    levels = np.array(levels)
    x = providers.water_fill(levels, budget)
    assert x.shape == levels.shape and np.isfinite(x).all() and (x >= 0).all()
    # The whole budget, exactly (up to rounding).
    assert x.sum() == pytest.approx(budget, rel=1e-9, abs=1e-9 * max(1.0, np.abs(levels).max()) * levels.size)
    # Monotone: a higher level never gets less.
    order = np.argsort(levels, kind="stable")
    assert (np.diff(x[order]) >= -1e-9).all()
    # One water line L: x = level - L where wet, and every dry level is at or below L.
    wet = x > 0
    assert wet.any()
    line = levels[wet] - x[wet]
    assert np.ptp(line) < 1e-9 * max(1.0, np.abs(levels).max())
    assert (levels[~wet] <= line.mean() + 1e-9 * max(1.0, np.abs(levels).max())).all()
    # More budget never takes water from anyone.
    more = providers.water_fill(levels, budget * 2)
    assert (more >= x - 1e-9 * max(1.0, np.abs(levels).max())).all()


def _referral_people(people_factory):
    return people_factory(
        4,
        status=UNEMPLOYED,
        benefit=[JSA, JSA, NO_BENEFIT, JSA],
        months_in_status=[12, 11, 20, 30],
        ever_referred=[False, False, False, True],
    )


def test_provider_refers_only_eligible_claimants_and_pays_attachment(params, people_factory, with_levers):
    levers = load_regime("centralised").levers  # 25+: referral at 12 months, attachment fee, caseload 120
    grp = levers.groups.jsa_25_plus
    p = _referral_people(people_factory)
    np.testing.assert_array_equal(p.group, [JSA_25_PLUS, JSA_25_PLUS, NO_GROUP, JSA_25_PLUS])
    out = providers.step(p, 0, levers, params, np.zeros(4), 0.05, 7)
    np.testing.assert_array_equal(p.programme, [0, NO_PROGRAMME, NO_PROGRAMME, NO_PROGRAMME])
    assert p.ever_referred[0]
    assert out.referrals == 1 and out.participants == 1 and out.advisers == 1
    assert out.referrals_by_group[JSA_25_PLUS] == 1 and out.referrals_by_group.sum() == 1
    assert out.fees == pytest.approx(grp.fee_attachment)
    assert out.delivery_cost == pytest.approx(params.adviser_cost_per_month)
    assert p.support_hours[0] == pytest.approx(params.adviser_hours_per_month)
    # Eligibility is recorded once, in the month it is reached, with the payment group of that month;
    # someone already referred in an earlier spell becomes eligible but is not referred again.
    np.testing.assert_array_equal(p.eligible_month, [7, NOT_ELIGIBLE, NOT_ELIGIBLE, 7])
    np.testing.assert_array_equal(p.eligible_group, [JSA_25_PLUS, NO_GROUP, NO_GROUP, JSA_25_PLUS])
    # Referral share is a per-person draw: a draw above the share is not referred.
    q = _referral_people(people_factory)
    out = providers.step(q, 0, with_levers(levers, referral_share=0.5), params, np.full(4, 0.7), 0.05, 0)
    assert out.referrals == 0 and (q.programme == NO_PROGRAMME).all()
    # ... and never later: referral happens in the month a claimant first becomes eligible.
    q.months_in_status += 1
    out = providers.step(q, 0, with_levers(levers, referral_share=0.5), params, np.full(4, 0.7), 0.05, 1)
    assert out.referrals == 0 and q.eligible_month[0] == 0
    # Each row stands for ppa people.
    r = _referral_people(people_factory)
    out = providers.step(r, 0, levers, params, np.zeros(4), 0.05, 0, ppa=10.0)
    assert out.referrals == 10 and out.fees == pytest.approx(10 * grp.fee_attachment)


def test_referral_month_and_share_are_per_group(params, people_factory, with_levers):
    """Each group is referred at its own point: 18-24 at 9 months, 25+ at 12, ESA claimants at 3."""
    levers = load_regime("centralised").levers
    p = people_factory(
        6,
        status=[UNEMPLOYED, UNEMPLOYED, UNEMPLOYED, UNEMPLOYED, INACTIVE, INACTIVE],
        benefit=[JSA, JSA, JSA, JSA, ESA, ESA],
        group=[JSA_18_24, JSA_18_24, JSA_25_PLUS, JSA_25_PLUS, ESA_NEW, ESA_NEW],
        months_in_status=[9, 8, 12, 9, 3, 2],
    )
    out = providers.step(p, 0, levers, params, np.zeros(6), 0.05, 0)
    np.testing.assert_array_equal(p.programme >= 0, [True, False, True, False, True, False])
    assert out.referrals_by_group[[JSA_18_24, JSA_25_PLUS, ESA_NEW]].tolist() == [1, 1, 1]
    # One group's referral month moves only that group.
    q = people_factory(2, benefit=JSA, group=[JSA_18_24, JSA_25_PLUS], months_in_status=5)
    providers.step(q, 0, with_levers(levers, groups__jsa_25_plus__referral_month=5), params, np.zeros(2), 0.05, 0)
    np.testing.assert_array_equal(q.programme >= 0, [False, True])


@pytest.mark.parametrize("group", GROUPS)
def test_job_outcome_after_months_in_work_then_sustainment_until_attachment_ends(params, people_factory, group):
    """Every payment group: an outcome fee after its outcome months in work, then its sustainment
    payments, each month in work, until they run out or the attachment ends."""
    levers = load_regime("centralised").levers
    g = getattr(levers.groups, group)
    code = GROUP_CODES[group]
    esa = group.startswith("esa")
    p = people_factory(
        1,
        status=INACTIVE if esa else UNEMPLOYED,
        benefit=ESA if esa else JSA,
        group=code,
        age=20 if group == "jsa_18_24" else 40,
        months_in_status=g.referral_month,
    )
    out = providers.step(p, 0, levers, params, np.zeros(1), 0.05, 0)
    assert p.programme[0] == 0 and p.eligible_group[0] == code
    assert out.fees == pytest.approx(g.fee_attachment)
    p.status[0], p.employer[0], p.benefit[0], p.group[0] = EMPLOYED, 0, NO_BENEFIT, NO_GROUP
    outcomes, sustain, fees = [], [], []
    for month in range(1, levers.programme_months + 4):
        p.support_hours[:] = 0  # as the model does each month before providers act
        out = providers.step(p, 0, levers, params, np.ones(1), 0.05, month)
        outcomes.append(out.job_outcomes)
        sustain.append(out.sustainment_payments)
        fees.append(out.fees)
        assert out.outcomes_by_group[code] == out.job_outcomes  # counted under the payment group
    k = g.outcome_months
    assert outcomes.index(1.0) == k - 1 and sum(outcomes) == 1
    assert sum(sustain) == min(g.sustainment_payments, levers.programme_months - k)
    assert sustain[:k] == [0.0] * k
    assert fees[k - 1] == pytest.approx(g.fee_job_outcome)
    assert sum(fees) == pytest.approx(g.fee_job_outcome + sum(sustain) * g.fee_sustainment)
    assert p.programme[0] == NO_PROGRAMME  # attachment ended after programme_months
    assert p.support_hours[0] == 0  # in work: no adviser time


def test_fees_follow_the_group_at_referral(params, people_factory):
    """A 24-year-old referred in the 18-24 group is paid for at 18-24 prices after turning 25."""
    levers = load_regime("centralised").levers
    p = people_factory(1, benefit=JSA, age=24, months_in_status=9)
    providers.step(p, 0, levers, params, np.zeros(1), 0.05, 0)
    assert p.programme[0] == 0 and p.eligible_group[0] == JSA_18_24
    p.age[0], p.group[0] = 25, JSA_25_PLUS
    p.status[0], p.employer[0] = EMPLOYED, 0
    fees = [providers.step(p, 0, levers, params, np.ones(1), 0.05, m).fees for m in range(1, 9)]
    young, older = levers.groups.jsa_18_24, levers.groups.jsa_25_plus
    assert young.fee_sustainment != older.fee_sustainment  # else the test could not tell them apart
    assert fees[5] == pytest.approx(young.fee_job_outcome)
    assert fees[6] == pytest.approx(young.fee_sustainment)


def test_expected_payment_parks_high_barrier_participants(params, people_factory, with_levers):
    """Paid by results, a provider spends little on those least likely to pay; a key-worker rule does the opposite."""
    hours = {}
    for rule in ("expected_payment", "need"):
        levers = with_levers(load_regime("centralised").levers, effort_rule=rule)
        p = people_factory(2, status=UNEMPLOYED, benefit=JSA, months_in_status=12, barrier=[0.0, 0.8])
        out = providers.step(p, 0, levers, params, np.zeros(2), 0.05, 0)
        hours[rule] = p.support_hours.astype(float)
        assert hours[rule].sum() == pytest.approx(params.adviser_hours_per_month, rel=1e-6)
        assert out.high_barrier_seeking == 1
        assert out.parked == (hours[rule][1] < providers.PARKED_HOURS)
    assert hours["expected_payment"][1] < hours["expected_payment"][0]
    assert hours["need"][1] > hours["need"][0]
    assert hours["expected_payment"][1] < hours["need"][1]


def _mixed_caseload(people_factory, n: int = 600):
    """n claimants referred together: alternately low (0.1) and high (0.7) barriers, spread skills."""
    skill = np.linspace(-1.0, 1.0, n).astype(np.float32)[np.random.default_rng(0).permutation(n)]
    barrier = np.where(np.arange(n) % 2 == 0, 0.1, 0.7)
    return people_factory(n, status=UNEMPLOYED, benefit=JSA, months_in_status=12, barrier=barrier, skill=skill)


def test_tighter_caseloads_park_more_high_barrier_participants(params, people_factory, with_levers):
    """Fewer advisers for the same participants (a larger caseload): a PbR provider leaves more of
    the hardest to help with almost no time."""
    share, hours_total = {}, {}
    for caseload in (60, 120, 300):
        p = _mixed_caseload(people_factory)
        levers = with_levers(load_regime("centralised").levers, caseload=caseload, provider_staffing="caseload")
        out = providers.step(p, 0, levers, params, np.zeros(p.n), 0.3, 0)
        assert out.advisers == int(np.ceil(600 / caseload))
        high = p.barrier >= providers.HIGH_BARRIER
        assert out.high_barrier_seeking == high.sum() == 300
        parked = high & (p.support_hours < providers.PARKED_HOURS)
        assert out.parked == parked.sum()
        share[caseload] = out.parked / out.high_barrier_seeking
        hours_total[caseload] = float(p.support_hours.sum())
    assert hours_total[60] > hours_total[120] > hours_total[300]
    assert share[60] < share[120] < share[300]
    assert share[300] > 0.5  # most of them (how many depends on how much barriers weigh: barrier_exponent)
    # Allocating by need, nobody is parked at any of these caseloads.
    p = _mixed_caseload(people_factory)
    out = providers.step(
        p,
        0,
        with_levers(load_regime("centralised").levers, caseload=300, effort_rule="need", provider_staffing="caseload"),
        params,
        np.zeros(600),
        0.3,
        0,
    )
    assert out.parked == 0


@pytest.mark.parametrize("rule", ["need", "uniform", "expected_payment"])
def test_adviser_time_leaves_barriers_alone(params, people_factory, with_levers, rule):
    """Key-worker time raises job finding only: with integrated help on or off, a provider's month
    gives the same hours and leaves every barrier as it was (integrated help's services lower
    barriers, in `services`, tests/model/test_services.py)."""
    base = with_levers(load_regime("cooperative").levers, effort_rule=rule)
    out_people = {}
    for help_on in (True, False):
        p = people_factory(
            8,
            status=[UNEMPLOYED] * 6 + [UNEMPLOYED, EMPLOYED],
            benefit=[JSA] * 6 + [NO_BENEFIT, NO_BENEFIT],
            employer=[NO_EMPLOYER] * 7 + [0],
            months_in_status=[3, 3, 3, 3, 3, 3, 30, 3],
            barrier=[0.1, 0.3, 0.5, 0.7, 0.9, 0.6, 0.6, 0.6],
        )
        before = p.barrier.copy()
        providers.step(p, 0, with_levers(base, integrated_help=help_on), params, np.zeros(8), 0.1, 0)
        np.testing.assert_array_equal(p.barrier, before)
        out_people[help_on] = p
    np.testing.assert_array_equal(out_people[True].support_hours, out_people[False].support_hours)
    assert (out_people[True].support_hours[:6] > 0).all()


def test_support_saturates(params):
    """1 + s_max (1 - 2^(-h / h_half)): half the ceiling at h_half hours, never above 1 + s_max."""
    h = np.array([0.0, params.support_half_hours, 2 * params.support_half_hours, 1e6])
    m = matching.support_multiplier(h, params)
    np.testing.assert_allclose(m[:3], 1.0 + params.support_max_effect * np.array([0.0, 0.5, 0.75]))
    assert m[3] == pytest.approx(1.0 + params.support_max_effect)
    assert (np.diff(m) > 0).all()


# ------------------------------------------------------------------------------------- skills
def test_skills_grow_in_work_and_decay_after_the_threshold(params, people_factory):
    t = int(params.skill_decay_after_months)
    p = people_factory(
        5,
        status=[EMPLOYED, UNEMPLOYED, UNEMPLOYED, INACTIVE, EMPLOYED],
        employer=[0, NO_EMPLOYER, NO_EMPLOYER, NO_EMPLOYER, 0],
        months_in_status=[5, max(t - 1, 0), t, 100, 5],
        skill=[0.0, 0.0, 0.0, 0.0, 3.999],
    )
    skills.step(p, params)
    assert p.skill[0] == pytest.approx(params.skill_growth_in_work, abs=1e-6)
    if t > 0:
        assert p.skill[1] == 0.0  # not yet long enough to decay
    assert p.skill[2] == pytest.approx(-params.skill_decay_unemployed, abs=1e-6)
    assert p.skill[3] == 0.0
    assert p.skill[4] <= skills.SKILL_BOUND
    for _ in range(200):
        skills.step(p, params)
    assert np.isfinite(p.skill).all() and (np.abs(p.skill) <= skills.SKILL_BOUND).all()


def _training_people(people_factory, n: int = 3000):
    """A third participants out of work, a third participants in work, a third not in a programme."""
    kind = np.arange(n) % 3
    return people_factory(
        n,
        status=np.where(kind == 1, EMPLOYED, UNEMPLOYED),
        employer=np.where(kind == 1, 0, NO_EMPLOYER),
        benefit=np.where(kind == 1, NO_BENEFIT, JSA),
        programme=np.where(kind == 2, NO_PROGRAMME, 0),
        skill=np.where(np.arange(n) == 0, skills.SKILL_BOUND - 0.01, 0.0),
    )


@pytest.mark.parametrize("link", [0.3, 0.8, 1.0])
def test_training_raises_starters_skills_by_the_gain_times_the_vacancy_link(params, people_factory, with_levers, link):
    levers = with_levers(load_regime("cooperative").levers, training_take_up=1.0, training_vacancy_link=link)
    p = _training_people(people_factory)
    before = p.skill.copy()
    starts = skills.train(p, params, levers, Streams(3), 4, 1, 1.0)
    started = p.skill != before
    candidates = (p.programme != NO_PROGRAMME) & (p.status != EMPLOYED)
    assert not (started & ~candidates).any()  # only participants out of work train
    assert starts.tolist() == [started.sum()]
    rate = started.sum() / candidates.sum()
    assert abs(rate - 1.0 / 12) < 4 * np.sqrt(1 / 12 * 11 / 12 / candidates.sum())  # take-up is a yearly share
    gain = (p.skill - before)[started & (before == 0)]
    np.testing.assert_allclose(gain, params.training_skill_gain * link, rtol=1e-6)
    assert p.skill.max() <= skills.SKILL_BOUND
    # The same draws pick the same starters whatever the link; ppa scales the count.
    q = _training_people(people_factory)
    starts_q = skills.train(q, params, with_levers(levers, training_vacancy_link=0.1), Streams(3), 4, 1, 10.0)
    np.testing.assert_array_equal(q.skill != before, started)
    assert starts_q.tolist() == [10 * started.sum()]
    # Given rows that include every participant (the list providers leave), the same starters.
    g = _training_people(people_factory)
    superset = np.union1d(np.flatnonzero(g.programme != NO_PROGRAMME), np.arange(0, g.n, 7))
    starts_g = skills.train(g, params, levers, Streams(3), 4, 1, 1.0, superset)
    np.testing.assert_array_equal(g.skill, p.skill)
    assert starts_g.tolist() == starts.tolist()
    # No take-up, no training.
    r = _training_people(people_factory)
    assert skills.train(r, params, with_levers(levers, training_take_up=0.0), Streams(3), 4, 1, 1.0).tolist() == [0]
    np.testing.assert_array_equal(r.skill, before)


# ---------------------------------------------------------------------------------- partnerships
def _placement_people(people_factory):
    """20 claimants out of work 6+ months (15 JSA, 5 ESA); 5 claimants out of work for 3 months,
    5 non-claimants out of work for a year, 5 in work: only the first 20 can be placed."""
    n = 35
    kind = np.repeat(np.arange(5), [15, 5, 5, 5, 5])
    return people_factory(
        n,
        status=np.select([kind == 1, kind == 4], [INACTIVE, EMPLOYED], UNEMPLOYED),
        benefit=np.select([kind == 0, kind == 1, kind == 2], [JSA, ESA, JSA], NO_BENEFIT),
        group=np.select([kind == 0, kind == 1, kind == 2], [JSA_25_PLUS, ESA_NEW, JSA_25_PLUS], NO_GROUP),
        months_in_status=np.select([kind == 2], [3], 12),
        employer=np.where(kind == 4, 0, NO_EMPLOYER),
        wage=np.where(kind == 4, 2000.0, 0.0),
    ), kind <= 1


def _partnership_step(people, firms, params, levers, month, working_age=1200.0, ppa=1.0):
    return partnerships.step(
        people, firms, params, levers, Streams(5), month, np.array([working_age]), np.zeros(people.n, np.int64), ppa
    )


def test_no_placements_without_the_lever(params, people_factory, with_levers):
    levers = with_levers(load_regime("cooperative").levers, placements_per_10k=0.0)
    p, _ = _placement_people(people_factory)
    firms = make_firms(2, target=3.0, size=0)
    for month in range(24):
        out = _partnership_step(p, firms, params, levers, month)
        assert all((v == 0).all() for v in out.values()), out
    assert (p.placement_months == 0).all() and (p.mentor_months == 0).all() and (firms.size == 0).all()


def test_placements_go_to_long_term_claimants_then_to_jobs_or_mentoring(params, people_factory, with_levers):
    # 1,000 a year per 10,000 of working age, for 1,200 people: 10 placements a month.
    levers = with_levers(load_regime("cooperative").levers, placements_per_10k=1000.0)
    p, eligible = _placement_people(people_factory)
    firms = make_firms(2, target=1.0, size=0)  # two open posts
    sizes = firms.size.copy()
    skill0 = p.skill.copy()
    out = _partnership_step(p, firms, params, levers, 0)
    placed = p.placement_months == 1
    assert placed.sum() == 10 and out["placements"].tolist() == [10]
    assert not (placed & ~eligible).any()
    np.testing.assert_allclose(p.skill[placed], skill0[placed] + params.placement_skill_gain, rtol=1e-6)
    np.testing.assert_array_equal(p.skill[~placed], skill0[~placed])
    assert out["partnership_cost"].tolist() == [10 * params.partnership_cost_per_placement]
    assert out["employer_in_kind"][0] == pytest.approx(
        10 * params.employer_hours_per_placement * params.employer_hour_value
    )
    assert out["employer_in_kind"][0] > 0
    assert out["placement_jobs"].tolist() == [0] and (firms.size == sizes).all()
    # A month later the placements end: some hosts take people on (into open posts only), the rest get mentoring.
    out = _partnership_step(
        p, firms, params.with_overrides({"placement_to_job": 0.5}), with_levers(levers, placements_per_10k=0.0), 1
    )
    assert (p.placement_months == 0).all() and out["placements"].tolist() == [0]
    hired = placed & (p.status == EMPLOYED)
    assert 0 < hired.sum() <= 2 and out["placement_jobs"].tolist() == [hired.sum()]
    assert out["placement_jobs"][0] <= 10
    assert firms.size.sum() == hired.sum() and (p.benefit[hired] == NO_BENEFIT).all()
    assert (p.mentor_months[placed & ~hired] == int(params.mentoring_months)).all()
    assert (p.mentor_months[~placed | hired] == 0).all()
    # Mentoring raises search weight while it lasts.
    mult = matching.partnership_multiplier(p, params)
    np.testing.assert_allclose(mult[placed & ~hired], 1 + params.mentoring_effect)
    for month in range(2, 2 + int(params.mentoring_months)):
        _partnership_step(p, firms, params, with_levers(levers, placements_per_10k=0.0), month)
    assert (p.mentor_months == 0).all()


def test_school_employer_contacts_raise_young_peoples_search(params, people_factory):
    p = people_factory(4, employer_contacts=[True, True, False, False], age=[18, 30, 18, 30])
    mult = matching.partnership_multiplier(p, params)
    np.testing.assert_allclose(mult, [1 / params.employer_contact_neet_hr, 1, 1, 1])
    assert mult[0] > 1


# ------------------------------------------------------------------------------------ business
def test_death_hazard_matches_the_survival_curve(params):
    age = np.arange(0, 120)
    h = death_hazard(age, params)
    h1, h23, h45, hm = h[0], h[12], h[36], h[60]
    # Piecewise constant between the survival points.
    assert (h[:12] == h1).all() and (h[12:36] == h23).all() and (h[36:60] == h45).all() and (h[60:] == hm).all()
    assert (1 - h1) ** 12 == pytest.approx(params.survival_1yr)
    assert (1 - h1) ** 12 * (1 - h23) ** 24 == pytest.approx(params.survival_3yr)
    assert (1 - h1) ** 12 * (1 - h23) ** 24 * (1 - h45) ** 24 == pytest.approx(params.survival_5yr)
    assert (1 - hm) ** 12 == pytest.approx(1 - params.mature_death_rate)
    # After the second and third years the hazard falls with age.
    assert h23 > h45 > hm
    assert ((h > 0) & (h < 1)).all()


def test_hub_support_scales_the_hazard(params):
    firms = make_firms(6, age=[3, 20, 40, 80, 3, 3], hub_months=[6, 6, 6, 6, 0, 6], large=[0, 0, 0, 0, 0, 1])
    plain = business.hazard(firms, params, with_hubs=False)
    hub = business.hazard(firms, params)
    supported = (firms.hub_months > 0) & ~firms.large
    np.testing.assert_allclose(hub[supported], plain[supported] * params.hub_survival_hazard_ratio)
    assert hub[4] == plain[4] > 0
    assert hub[5] == plain[5] == 0  # large employers never die
    firms.alive[0] = False
    assert business.hazard(firms, params)[0] == 0


def test_hub_supported_firms_die_less_and_grow_more_on_the_same_draws(params, people_factory):
    plain = make_firms(400, age=np.arange(400) % 30, target=4.0)
    hubbed = copy_of(plain)
    hubbed.hub_months[:] = 24
    hubbed.ever_supported[:] = True
    people = people_factory(0)
    births = np.zeros(1)
    died = []
    for firms in (plain, hubbed):
        flows = new_flows()
        business.step(
            people,
            firms,
            params,
            Streams(3),
            0,
            np.array([2.0]),  # potential scale
            births,
            np.zeros(1, dtype=np.int16),  # district -> market
            np.zeros(people.n, dtype=np.int16),  # person -> market
            flows,
            1,
        )
        died.append(~firms.alive)
    assert died[0].sum() > 0
    assert not (died[1] & ~died[0]).any()  # everyone the hub loses, the plain arm loses too
    both = plain.alive & hubbed.alive
    ratio = hubbed.target[both] / plain.target[both]
    np.testing.assert_allclose(ratio, np.exp(np.log1p(params.hub_growth_uplift_annual) / 12))
    assert (hubbed.hub_months[hubbed.alive] == 23).all()


def test_hubs_take_only_young_unsupported_small_firms_and_picks_are_nested(params):
    firms = make_firms(
        60,
        district=np.repeat([0, 1], 30),
        age=np.tile(np.arange(0, 60, 2), 2),
        large=np.tile(np.arange(30) % 10 == 0, 2),
    )
    firms.ever_supported[5] = True
    firms.alive[7] = False
    chosen = []
    for k in range(0, 12):
        f = copy_of(firms)
        taken = business.support_firms(f, np.array([k, 2]), params, Streams(9), 4)
        picked = f.ever_supported & ~firms.ever_supported
        eligible = firms.alive & ~firms.large & ~firms.ever_supported & (firms.age < 36)
        assert not (picked & ~eligible).any()
        assert (f.hub_months[picked] == int(params.hub_support_months)).all()
        np.testing.assert_array_equal(taken, np.bincount(f.district[picked], minlength=2))
        assert taken[0] == min(k, (eligible & (firms.district == 0)).sum())
        assert taken[1] == 2
        chosen.append(picked)
    for a, b in itertools.pairwise(chosen):
        assert not (a & ~b & (firms.district == 0)).any()  # picking more never drops an earlier pick
        np.testing.assert_array_equal(a[firms.district == 1], b[firms.district == 1])


def _business_step(people, firms, params, seed: int = 3, month: int = 0, n_districts: int = 1):
    flows = new_flows(n_districts)
    business.step(
        people,
        firms,
        params,
        Streams(seed),
        month,
        np.full(n_districts, 2.0),  # potential scale
        np.zeros(n_districts),  # no births
        np.zeros(n_districts, dtype=np.int16),  # every district in market 0
        np.zeros(people.n, dtype=np.int16),  # person -> market
        flows,
        n_districts,
    )
    return flows


def test_hub_displacement_takes_extra_growth_from_other_local_firms_only(params, people_factory):
    """Supported firms' extra demand comes partly out of other firms in their district, in proportion
    to their size: hub_displacement of it. Firms in districts without a hub are untouched."""
    n = 90
    district = np.repeat([0, 1, 2], 30)
    supported = (district == 0) & (np.arange(n) % 3 == 0)
    firms0 = make_firms(
        n,
        district=district,
        age=np.arange(n) % 30,
        potential=1.0 + (np.arange(n) % 7),
        hub_months=np.where(supported, 12, 0),
    )
    firms0.ever_supported[:] = supported
    runs = {}
    for d in (0.0, 0.35):
        firms = copy_of(firms0)
        _business_step(people_factory(0), firms, params.with_overrides({"hub_displacement": d}), n_districts=3)
        runs[d] = firms
    plain, displaced = runs[0.0], runs[0.35]
    # The same firms die in both arms, and supported firms are treated alike.
    np.testing.assert_array_equal(plain.alive, displaced.alive)
    alive = plain.alive
    np.testing.assert_array_equal(plain.potential[supported], displaced.potential[supported])
    # Without displacement nobody unsupported changes; with it, only district 0's unsupported firms lose.
    others = ~supported & alive
    np.testing.assert_array_equal(plain.potential[others], firms0.potential[others])
    local = others & (district == 0)
    assert (displaced.potential[local] < plain.potential[local]).all()
    assert (displaced.potential[local] > 0.9 * plain.potential[local]).all()  # slightly: a small share
    np.testing.assert_array_equal(displaced.potential[district > 0], plain.potential[district > 0])
    np.testing.assert_array_equal(displaced.target[district > 0], plain.target[district > 0])
    # The demand taken from others is hub_displacement times the supported firms' extra demand.
    profile = age_profile(plain.age, 2.0, params)
    hubbed = supported & alive
    extra = ((plain.potential - firms0.potential) * profile)[hubbed].sum()
    taken = ((plain.potential - displaced.potential) * profile)[local].sum()
    assert extra > 0
    assert taken == pytest.approx(0.35 * extra, rel=1e-9)
    # Every displaced firm loses the same share.
    share = 1 - displaced.potential[local] / plain.potential[local]
    assert np.ptp(share) < 1e-12


# ---------------------------------------------------------------------------------- separations
def test_separations_release_workers_and_keep_headcounts(params, people_factory):
    n = 3000
    employed = np.arange(n) % 3 != 0
    employer = np.where(employed, np.arange(n) % 10, NO_EMPLOYER)
    p = people_factory(
        n, status=np.where(employed, EMPLOYED, UNEMPLOYED), employer=employer, wage=np.where(employed, 2000.0, 0.0)
    )
    firms = make_firms(10, target=400.0, size=np.bincount(employer[employed], minlength=10))
    before = p.status.copy()
    flows = new_flows()
    separations.step(p, firms, params, Streams(5), 0, 0.05, flows, 1)
    left = (before == EMPLOYED) & (p.status != EMPLOYED)
    assert left.sum() == flows["e_to_u"].sum() + flows["e_to_i"].sum() > 0
    np.testing.assert_array_equal(p.status[before != EMPLOYED], before[before != EMPLOYED])
    now = p.status == EMPLOYED
    np.testing.assert_array_equal(np.bincount(p.employer[now], minlength=10), firms.size)
    assert (p.employer[left] == NO_EMPLOYER).all() and (p.wage[left] == 0).all()
    assert (p.benefit[left & (p.status == INACTIVE)] == NO_BENEFIT).all()
    claim_rate = (p.benefit[left & (p.status == UNEMPLOYED)] == JSA).mean()
    assert abs(claim_rate - params.claim_take_up) < 0.15
    expected = n * 2 / 3 * (0.05 + params.sep_rate_ei)
    assert abs(left.sum() - expected) < 5 * np.sqrt(expected)


def test_jobs_taken_from_unemployment_are_fragile_for_six_months(params, people_factory):
    """A new job from unemployment ends at early_separation_rate for FRAGILE_MONTHS months, then at the settled rate."""
    n = 12000
    kind = np.arange(n) % 3  # 0: fragile and new; 1: marked fragile but past six months; 2: settled
    employer = np.arange(n) % 10
    p = people_factory(
        n,
        status=EMPLOYED,
        employer=employer,
        wage=2000.0,
        months_in_status=np.where(kind == 1, FRAGILE_MONTHS, 2),
        fragile=kind <= 1,
    )
    firms = make_firms(10, target=2000.0, size=np.bincount(employer, minlength=10))
    rate_eu = 0.002
    separations.step(p, firms, params, Streams(8), 0, rate_eu, new_flows(), 1)
    lost = p.status == UNEMPLOYED
    for k, rate in ((0, params.early_separation_rate), (1, rate_eu), (2, rate_eu)):
        m = (kind == k).sum()
        assert abs(lost[kind == k].mean() - rate) < 4 * np.sqrt(rate * (1 - rate) / m) + 1e-3, k
    assert not p.fragile[kind == 1].any()  # fragility ends after six months
    assert p.fragile[(kind == 0) & (p.status == EMPLOYED)].all()


def test_jobs_taken_from_any_state_out_of_work_are_fragile_alike(params, people_factory):
    """Issue 22: the same rule for jobs taken from unemployment, from inactivity and from ESA."""
    p = people_factory(4, status=[UNEMPLOYED, INACTIVE, INACTIVE, UNEMPLOYED], benefit=[JSA, NO_BENEFIT, ESA, JSA])
    firms = make_firms(1, target=5.0)
    matching.start_jobs(p, firms, np.array([0, 1, 2]), np.array([0, 0, 0]), params)
    np.testing.assert_array_equal(p.fragile, [True, True, True, False])
    assert (p.status[:3] == EMPLOYED).all() and firms.size[0] == 3 and (p.benefit[:3] == NO_BENEFIT).all()


def test_displaced_workers_who_move_job_to_job_are_not_fragile(params, people_factory):
    """Workers laid off by a shrinking firm who move straight into another job (job_to_job, never
    unemployed) did not take their job from out of work, so it is not fragile (separations'
    docstring; the model's settled separation rate counts only hires from out of work as fragile)."""
    n = 400
    employer = np.where(np.arange(n) < 200, 0, 1)
    p = people_factory(n, status=EMPLOYED, employer=employer, wage=2000.0, months_in_status=60)
    # Firm 0 is small and wants about one post: it lays off the rest. Firm 2 has 400 open posts.
    firms = make_firms(3, target=[200.0, 200.0, 400.0], potential=1.0, size=[200, 200, 0], age=600)
    firms.large[:] = [False, True, True]
    params = params.with_overrides({"displaced_to_unemployment": 0.3, "firm_growth_sd": 0.0})
    flows = _business_step(p, firms, params)
    moved = (employer == 0) & (p.status == EMPLOYED) & (p.employer == 2)
    assert flows["layoffs"].sum() > 150 and moved.sum() > 100
    assert flows["job_to_job"].sum() == moved.sum()
    assert flows["e_to_u"].sum() == ((employer == 0) & (p.status == UNEMPLOYED)).sum()
    assert not p.fragile[moved].any(), f"{p.fragile[moved].sum()} of {moved.sum()} job-to-job movers marked fragile"


def test_entry_rates_balance_flows_into_and_out_of_inactivity(params, people_factory):
    status = np.array([EMPLOYED] * 700 + [UNEMPLOYED] * 60 + [INACTIVE] * 240)
    p = people_factory(1000, status=status)
    finding = np.array([1.5])
    rate = participation.entry_rates(p, finding, params, 1)
    inflow = 60 * params.exit_rate_ui + 700 * params.sep_rate_ei + (700 + 60) / (participation.WORKING_YEARS * 12)
    assert 0 < rate[0] < 1
    assert rate[0] * 240 + finding[0] == pytest.approx(inflow)


def test_ill_health_moves_people_onto_esa_and_every_status_change_is_a_flow(params, people_factory):
    """People out of work fall ill onto ESA (new-claimant group) with high barriers; the unemployed
    among them stop searching. Every status change this step makes is in a flow."""
    n = 3000
    kind = np.arange(n) % 4  # unemployed JSA, inactive non-claimant, in work, inactive on ESA already
    p = people_factory(
        n,
        status=np.select([kind == 0, kind == 2], [UNEMPLOYED, EMPLOYED], INACTIVE),
        benefit=np.select([kind == 0, kind == 3], [JSA, ESA], NO_BENEFIT),
        group=np.select([kind == 0, kind == 3], [JSA_25_PLUS, ESA_EX_IB], NO_GROUP),
        employer=np.where(kind == 2, 0, NO_EMPLOYER),
        wage=np.where(kind == 2, 2000.0, 0.0),
        months_in_status=7,
        barrier=0.1,
    )
    before = p.status.copy()
    flows = new_flows()
    onflow = np.array([0.3])
    participation.step(p, params, Streams(6), 2, np.zeros(1), np.array([params.exit_rate_ui]), onflow, flows, 1)
    ill = (p.benefit == ESA) & (kind <= 1)
    rate = ill[kind <= 1].mean()
    assert abs(rate - 0.3) < 4 * np.sqrt(0.3 * 0.7 / (kind <= 1).sum())
    assert flows["esa_onflows"].sum() == ill.sum()
    assert (p.group[ill] == ESA_NEW).all()
    assert (p.status[ill] == INACTIVE).all() and (p.months_in_status[ill] == 0).all()
    assert (p.barrier[ill] >= 0.45).all() and (p.barrier[ill] <= 0.95).all()
    # In work or already on ESA: untouched by ill health.
    assert (p.status[kind == 2] == EMPLOYED).all() and (p.benefit[kind == 2] == NO_BENEFIT).all()
    assert (p.group[kind == 3] == ESA_EX_IB).all()
    # Every change of status is counted in the flow for it.
    for a, b, name in ((UNEMPLOYED, INACTIVE, "u_to_i"), (INACTIVE, UNEMPLOYED, "i_to_u")):
        moved = int(((before == a) & (p.status == b)).sum())
        assert flows[name].sum() == moved, f"{name}: flow {flows[name].sum()}, people who moved {moved}"


# ------------------------------------------------------------------------------------ developers
@pytest.mark.parametrize("month", [0, 5, 11])
def test_brokerage_secures_more_plans_on_the_same_schemes(params, month, with_levers, small_schemes):
    """The pipeline's stages: the same schemes arrive and are eligible with or without brokerage
    (common random numbers); a brokering council secures a plan on every scheme an unbrokered one
    would and more; contributions are linear in the plans' value and paid in full when monitored."""
    levers = load_regime("centralised").levers
    assert not levers.brokerage
    value = np.array([60.0, 30.0, 0.0])
    p = params.with_overrides(small_schemes)
    off = developers.step(value, p, levers, Streams(2), month)
    on = developers.step(value, p, with_levers(levers, brokerage=True), Streams(2), month)
    for key in ("projects", "construction_value_m", "esp_schemes_eligible"):
        np.testing.assert_array_equal(off[key], on[key], err_msg=key)
    assert (on["projects"][:2] > 0).all()
    assert (on["esp_plans"] >= off["esp_plans"]).all() and on["esp_plans"].sum() > off["esp_plans"].sum()
    assert (on["esp_plan_value"] >= off["esp_plan_value"]).all()
    assert (on["esp_schemes_eligible"] >= on["esp_plans"]).all() and (
        on["construction_value_m"] >= on["esp_plan_value"] / 1e6
    ).all()
    for got in (on, off):  # per GBP 1m, linear: no concave yield
        np.testing.assert_allclose(
            got["esp_contributions_secured"], got["esp_plan_value"] / 1e6 * p.esp_contribution_per_m
        )
    np.testing.assert_allclose(on["developer_contributions"], on["esp_contributions_secured"])
    np.testing.assert_allclose(
        off["developer_contributions"], off["esp_contributions_secured"] * p.esp_paid_unmonitored
    )
    np.testing.assert_allclose(on["esp_posts"], on["esp_post_targets"] * p.esp_delivery_monitored)
    np.testing.assert_allclose(off["esp_posts"], off["esp_post_targets"] * p.esp_delivery_unmonitored)
    # No construction, no schemes and nothing from them.
    assert all(got[key][2] == 0 for got in (on, off) for key in developers.PIPELINE)


def test_plan_targets_are_per_gbp_1m_of_value_by_size_class(params):
    """A plan's posts are its value times the evidence's rate per GBP 1m: Southampton's small and
    medium schemes' rate under `esp_large_scheme_m`, its pipeline's above; one rate for both is
    exactly linear."""
    value = np.full(20, 400.0)
    same = params.with_overrides({"esp_posts_per_m_large": params.esp_posts_per_m})
    got = developers.pipeline(value, same, True, Streams(5), 3)
    np.testing.assert_allclose(got["esp_post_targets"], got["esp_plan_value"] / 1e6 * params.esp_posts_per_m)
    tot = developers.replay(value, params, True, [5], 24, ("esp_plan_value", "esp_post_targets"))
    per_m = tot["esp_post_targets"][0] / (tot["esp_plan_value"][0] / 1e6)
    assert params.esp_posts_per_m_large < per_m < params.esp_posts_per_m


def test_the_contribution_ratio_is_not_fixed_by_the_plan_shares(params):
    """Brokered over unbrokered contributions is not a ratio of two parameters: with the plan shares
    fixed it moves with the schemes' sizes (unbrokered plans come only on large schemes) and with
    what unmonitored plans pay; with the shares doubled together it stays (as it should)."""
    value = np.full(30, 300.0)
    seeds, months = [1, 2], 36
    base = developers.contribution_ratio(value, params, seeds, months)
    assert base > 1
    assert not np.isclose(base, params.esp_plan_share_brokered / params.esp_plan_share_unbrokered, rtol=0.05)
    wider = developers.contribution_ratio(value, params.with_overrides({"dev_dwellings_sigma": 2.5}), seeds, months)
    larger = developers.contribution_ratio(value, params.with_overrides({"esp_large_scheme_m": 60.0}), seeds, months)
    assert wider < base < larger  # more value on large schemes: unbrokered plans worth more
    paid = params.with_overrides({"esp_paid_unmonitored": params.esp_paid_unmonitored / 2})
    np.testing.assert_allclose(developers.contribution_ratio(value, paid, seeds, months), 2 * base)
    shares = {"esp_plan_share_brokered": 0.4, "esp_plan_share_unbrokered": 0.2}
    half = developers.contribution_ratio(value, params.with_overrides(shares), seeds, months)
    shares2 = {"esp_plan_share_brokered": 0.8, "esp_plan_share_unbrokered": 0.4}
    double = developers.contribution_ratio(value, params.with_overrides(shares2), seeds, months)
    assert abs(np.log(double / half)) < 0.25  # the same schemes, nested plans: about the same ratio


def test_the_sweep_ranks_parameters_by_how_far_they_move_the_ratio(params):
    value = np.full(10, 300.0)
    ranges = {"esp_paid_unmonitored": (0.5, 1.0), "esp_contribution_per_m": (1000.0, 7000.0)}
    base, rows = developers.sweep(value, params, ranges, [3], 24)
    assert [r.parameter for r in rows] == ["esp_paid_unmonitored", "esp_contribution_per_m"]
    paid, rate = rows
    np.testing.assert_allclose(paid.ratio_low / paid.ratio_high, 2.0)  # 1 / 0.5 against 1 / 1.0
    np.testing.assert_allclose([rate.ratio_low, rate.ratio_high], base)  # the same rate either way: no swing
    assert rate.swing < 1e-9 < paid.swing


def test_too_many_schemes_for_the_slots_is_an_error_not_a_cap(params):
    with pytest.raises(ValueError, match="schemes of a type a month"):
        developers.pipeline(np.array([1e7]), params, True, Streams(1), 0)


def _plan_people(people_factory):
    """40 rows: 20 claimants out of work 6+ months (eligible), then 5 out of work 3 months, 5
    non-claimants, 5 on a placement and 5 in work."""
    kind = np.repeat(np.arange(5), [20, 5, 5, 5, 5])
    return people_factory(
        40,
        status=np.where(kind == 4, EMPLOYED, UNEMPLOYED),
        benefit=np.where((kind == 2) | (kind == 4), NO_BENEFIT, JSA),
        months_in_status=np.where(kind == 1, 3, 8),
        placement_months=np.where(kind == 3, 1, 0),
        employer=np.where(kind == 4, 0, NO_EMPLOYER),
        wage=np.where(kind == 4, 2000.0, 0.0),
    ), kind == 0


@pytest.mark.parametrize(
    ("posts", "ppa", "vacancies", "hired"), [(5.0, 1.0, 8, 5), (20.0, 1.0, 8, 8), (50.0, 10.0, 8, 5)]
)
def test_plan_posts_go_to_local_long_term_claimants(params, people_factory, posts, ppa, vacancies, hired):
    p, eligible = _plan_people(people_factory)
    firms = make_firms(4, target=[5.0, 1.0, 1.0, 1.0 + vacancies - 3], size=[5, 0, 0, 0])
    before = p.status.copy()
    skill0 = p.skill.copy()
    params = params.with_overrides({"apprenticeship_share": 0.5})
    hires, apprentices = developers.hire_locally(
        p, firms, params, Streams(4), 3, np.array([posts]), np.zeros(p.n, np.int64), ppa
    )
    new = (before != EMPLOYED) & (p.status == EMPLOYED)
    assert new.sum() == hired and hires.tolist() == [hired * ppa]
    assert not (new & ~eligible).any()  # only local claimants out of work six months or more
    assert firms.size.sum() == 5 + hired and (firms.size <= np.floor(firms.target + 0.5)).all()
    assert (p.benefit[new] == NO_BENEFIT).all() and (p.wage[new] > 0).all() and p.fragile[new].all()
    trained = p.skill != skill0
    assert not (trained & ~new).any()
    np.testing.assert_allclose(p.skill[trained], skill0[trained] + params.training_skill_gain, rtol=1e-6)
    assert apprentices.tolist() == [trained.sum() * ppa] and apprentices[0] <= hires[0]


# ---------------------------------------------------------------------------------------- ledger
def test_ledger_posts_move_money_from_payer_to_payee():
    ledger = Ledger(2, CATEGORIES)
    ledger.post("benefit_jsa", np.array([100.0, 0.015]))
    assert ledger.balance_pounds("exchequer").tolist() == [-100.0, -0.02]  # whole pence, rounded
    assert ledger.balance_pounds("households").tolist() == [100.0, 0.02]
    ledger.post("tax_ni", np.array([30.0, 0.0]))
    assert ledger.balance_pounds("exchequer").tolist() == [-70.0, -0.02]
    np.testing.assert_array_equal(ledger.flows_pounds("benefit_jsa"), [100.0, 0.02])
    assert ledger.is_balanced()
    ledger.start_month()
    assert (ledger.month_flows == 0).all()
    assert ledger.balance_pounds("households").tolist() == [70.0, 0.02]  # balances carry over


def test_ledger_rejects_negative_amounts_and_wrong_shapes():
    ledger = Ledger(3, CATEGORIES)
    with pytest.raises(ValueError, match="negative"):
        ledger.post("benefit_esa", np.array([1.0, -1.0, 0.0]))
    with pytest.raises(ValueError, match="one amount per district"):
        ledger.post("benefit_esa", np.array([1.0, 2.0]))
    assert (ledger.balances == 0).all() and (ledger.month_flows == 0).all()


@given(
    pounds=st.one_of(
        st.floats(0, 1e12),
        st.integers(0, 10**9).map(lambda c: c / 1000),
        st.integers(0, 10**7).map(lambda c: c + 0.005),
    ),
    district=st.integers(0, 2),
)
@settings(max_examples=300, deadline=None)
def test_one_districts_post_is_the_ledgers_post_of_it(build_model, pounds, district):
    """Councils and developers post one district's amount at a time (`post_district`): the same
    pence, rounded half to even, as `Ledger.post` of an array with zeros elsewhere."""
    model = build_model()
    nd = model.n_districts
    want = Ledger(nd, CATEGORIES)
    amounts = np.zeros(nd)
    amounts[district] = pounds
    want.post("brokerage", amounts)
    model.ledger = Ledger(nd, CATEGORIES)
    model.post_district("brokerage", district, pounds)
    np.testing.assert_array_equal(model.ledger.balances, want.balances)
    np.testing.assert_array_equal(model.ledger.month_flows, want.month_flows)


@given(
    posts=st.lists(
        st.tuples(st.sampled_from(sorted(CATEGORIES)), st.lists(st.floats(0, 1e7), min_size=3, max_size=3)),
        max_size=40,
    )
)
@FAST
def test_ledger_always_balances(posts):
    ledger = Ledger(3, CATEGORIES)
    expected = np.zeros_like(ledger.balances)
    for cat, amounts in posts:
        ledger.post(cat, np.array(amounts))
        payer, payee = CATEGORIES[cat]
        pence = np.rint(np.array(amounts) * 100).astype(np.int64)
        expected[ACCOUNT[payer]] -= pence
        expected[ACCOUNT[payee]] += pence
    assert ledger.is_balanced()
    np.testing.assert_array_equal(ledger.balances, expected)
    assert (ledger.balances.sum(axis=0) == 0).all()
