"""Each mechanism alone, on small arrays, against what the mechanism implies."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.config import load_regime
from simulation.firms import Firms, death_hazard
from simulation.ledger import ACCOUNT, CATEGORIES, Ledger
from simulation.mechanisms import business, developers, matching, participation, providers, separations, skills
from simulation.people import EMPLOYED, INACTIVE, JSA, NO_BENEFIT, NO_EMPLOYER, NO_PROGRAMME, UNEMPLOYED
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
    }
    for k, v in fields.items():
        arrays[k] = np.broadcast_to(np.asarray(v, dtype=arrays[k].dtype), (n,)).copy()
    return Firms(**arrays, n_used=n)


def copy_of(obj):
    return dataclasses.replace(
        obj, **{f.name: getattr(obj, f.name).copy() for f in dataclasses.fields(obj) if f.name != "n_used"}
    )


def new_flows(n_districts: int = 1) -> dict[str, np.ndarray]:
    from simulation.model import FLOWS

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
        6,
        status=[UNEMPLOYED, UNEMPLOYED, UNEMPLOYED, UNEMPLOYED, INACTIVE, INACTIVE],
        barrier=[0.0, 0.5, 0.0, 0.0, 0.0, 0.0],
        months_in_status=[0, 0, 24, 0, 0, 24],
        skill=[0.0, 0.0, 0.0, 0.5, 0.0, 0.0],
    )
    e = matching.employability(people, params)
    assert e[0] == pytest.approx(1.0)
    assert e[1] < e[0]
    assert e[2] < e[0]  # long unemployment scars
    assert e[3] > e[0]
    assert e[5] == pytest.approx(e[4])  # the inactive are not scarred by duration
    w = matching.search_weights(people, params)
    assert w[4] == pytest.approx(params.inactive_search_intensity * e[4])
    hours = np.array([0.0, 1.0, 5.0, 20.0])
    mult = matching.support_multiplier(hours, params)
    assert mult[0] == 1.0 and (np.diff(mult) > 0).all()


# ---------------------------------------------------------------------------------- providers
rules = st.sampled_from(["uniform", "expected_payment", "need"])


@given(
    n=st.integers(1, 60),
    total=st.floats(0.1, 1e5),
    rule=rules,
    gamma=st.floats(0.01, 0.99),
    data=st.data(),
)
@FAST
def test_allocated_hours_sum_to_the_budget(n, total, rule, gamma, data):
    h = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    b = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    fee = np.full(n, data.draw(st.floats(0.0, 5000.0)))
    hours = providers.allocate_hours(total, rule, h, b, fee, gamma)
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


def test_expected_payment_gives_more_time_to_higher_base_hazard():
    h = np.array([0.01, 0.02, 0.05, 0.10, 0.20])
    gamma = 0.5
    hours = providers.allocate_hours(100.0, "expected_payment", h, np.zeros(5), np.full(5, 1000.0), gamma)
    assert (np.diff(hours) > 0).all()
    # The optimum under h0 * (1 + beta e^gamma): e_i proportional to h_i^(1/(1-gamma)).
    assert hours[4] / hours[0] == pytest.approx((h[4] / h[0]) ** (1 / (1 - gamma)))


def test_need_gives_more_time_to_higher_barriers():
    barrier = np.array([0.0, 0.2, 0.5, 0.9])
    hours = providers.allocate_hours(100.0, "need", np.full(4, 0.1), barrier, np.full(4, 1000.0), 0.5)
    assert (np.diff(hours) > 0).all()
    assert hours[3] / hours[0] == pytest.approx((0.9 + 0.1) / (0.0 + 0.1))


def _referral_people(people_factory):
    return people_factory(
        4,
        status=UNEMPLOYED,
        benefit=[JSA, JSA, NO_BENEFIT, JSA],
        months_in_status=[12, 11, 20, 30],
        ever_referred=[False, False, False, True],
    )


def test_provider_refers_only_eligible_claimants_and_pays_attachment(params, people_factory):
    levers = load_regime("centralised").levers  # referral at 12 months, attachment fee, caseload 120
    p = _referral_people(people_factory)
    out = providers.step(p, 0, levers, params, np.zeros(4), 0.05)
    np.testing.assert_array_equal(p.programme, [0, NO_PROGRAMME, NO_PROGRAMME, NO_PROGRAMME])
    assert p.ever_referred[0]
    assert out.referrals == 1 and out.participants == 1 and out.advisers == 1
    assert out.fees == pytest.approx(levers.fee_attachment)
    assert out.delivery_cost == pytest.approx(params.adviser_cost_per_month)
    assert p.support_hours[0] == pytest.approx(params.adviser_hours_per_month)
    # Referral share is a slot draw: a draw above the share is not referred.
    q = _referral_people(people_factory)
    out = providers.step(q, 0, levers.model_copy(update={"referral_share": 0.5}), params, np.full(4, 0.7), 0.05)
    assert out.referrals == 0 and (q.programme == NO_PROGRAMME).all()
    # Each row stands for ppa people.
    r = _referral_people(people_factory)
    out = providers.step(r, 0, levers, params, np.zeros(4), 0.05, ppa=10.0)
    assert out.referrals == 10 and out.fees == pytest.approx(10 * levers.fee_attachment)


def test_job_outcome_after_months_in_work_then_sustainment_until_attachment_ends(params, people_factory):
    levers = load_regime("centralised").levers
    p = people_factory(1, status=UNEMPLOYED, benefit=JSA, months_in_status=levers.referral_month)
    providers.step(p, 0, levers, params, np.zeros(1), 0.05)
    assert p.programme[0] == 0
    p.status[0], p.employer[0], p.benefit[0] = EMPLOYED, 0, NO_BENEFIT
    outcomes, sustain, fees = [], [], []
    for _ in range(levers.programme_months + 3):
        p.support_hours[:] = 0  # as the model does each month before providers act
        out = providers.step(p, 0, levers, params, np.ones(1), 0.05)
        outcomes.append(out.job_outcomes)
        sustain.append(out.sustainment_payments)
        fees.append(out.fees)
    k = levers.job_outcome_months
    assert outcomes.index(1.0) == k - 1 and sum(outcomes) == 1
    assert sum(sustain) == min(levers.sustainment_months, levers.programme_months - k)
    assert sustain[:k] == [0.0] * k
    assert fees[k - 1] == pytest.approx(levers.fee_job_outcome)
    assert sum(fees) == pytest.approx(levers.fee_job_outcome + sum(sustain) * levers.fee_sustainment_month)
    assert p.programme[0] == NO_PROGRAMME  # attachment ended after programme_months
    assert p.support_hours[0] == 0  # in work: no adviser time


def test_expected_payment_parks_high_barrier_participants(params, people_factory):
    """Paid by results, a provider spends little on those least likely to pay; a key-worker rule does the opposite."""
    hours = {}
    for rule in ("expected_payment", "need"):
        levers = load_regime("centralised").levers.model_copy(update={"effort_rule": rule})
        p = people_factory(
            2, status=UNEMPLOYED, benefit=JSA, months_in_status=levers.referral_month, barrier=[0.0, 0.8]
        )
        providers.step(p, 0, levers, params, np.zeros(2), 0.05)
        hours[rule] = p.support_hours.astype(float)
        assert hours[rule].sum() == pytest.approx(params.adviser_hours_per_month, rel=1e-6)
    assert hours["expected_payment"][1] < hours["expected_payment"][0]
    assert hours["need"][1] > hours["need"][0]
    assert hours["expected_payment"][1] < hours["need"][1]


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


def test_entry_rates_balance_flows_into_and_out_of_inactivity(params, people_factory):
    status = np.array([EMPLOYED] * 700 + [UNEMPLOYED] * 60 + [INACTIVE] * 240)
    p = people_factory(1000, status=status)
    finding = np.array([1.5])
    rate = participation.entry_rates(p, finding, params, 1)
    inflow = 60 * params.exit_rate_ui + 700 * params.sep_rate_ei + (700 + 60) / (participation.WORKING_YEARS * 12)
    assert 0 < rate[0] < 1
    assert rate[0] * 240 + finding[0] == pytest.approx(inflow)


# ------------------------------------------------------------------------------------ developers
@pytest.mark.parametrize("month", [0, 5, 11])
def test_brokerage_raises_contributions_and_local_hires(params, month):
    levers = load_regime("centralised").levers
    assert not levers.brokerage
    value = np.array([200.0, 100.0, 0.0])
    p = params.with_overrides({"development_value_mean_m": 2.0})
    off = developers.step(value, p, levers, Streams(2), month)
    on = developers.step(value, p, levers.model_copy(update={"brokerage": True}), Streams(2), month)
    np.testing.assert_array_equal(off["projects"], on["projects"])
    np.testing.assert_array_equal(off["construction_value_m"], on["construction_value_m"])
    has = on["projects"] > 0
    assert has[:2].all()
    assert (on["developer_contributions"][has] > off["developer_contributions"][has]).all()
    assert (on["esp_local_hires"][has] > off["esp_local_hires"][has]).all()
    assert (on["esp_apprenticeships"] <= on["esp_local_hires"]).all()
    # No construction, no projects and nothing from them.
    assert on["projects"][2] == 0 and on["developer_contributions"][2] == 0 and on["esp_local_hires"][2] == 0


# ---------------------------------------------------------------------------------------- ledger
def test_ledger_posts_move_money_from_payer_to_payee():
    ledger = Ledger(2)
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
    ledger = Ledger(3)
    with pytest.raises(ValueError, match="negative"):
        ledger.post("benefit_esa", np.array([1.0, -1.0, 0.0]))
    with pytest.raises(ValueError, match="one amount per district"):
        ledger.post("benefit_esa", np.array([1.0, 2.0]))
    assert (ledger.balances == 0).all() and (ledger.month_flows == 0).all()


@given(
    posts=st.lists(
        st.tuples(st.sampled_from(sorted(CATEGORIES)), st.lists(st.floats(0, 1e7), min_size=3, max_size=3)),
        max_size=40,
    )
)
@FAST
def test_ledger_always_balances(posts):
    ledger = Ledger(3)
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
