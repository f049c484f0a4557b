"""Enterprise hubs at full cost, and their pre-start support (issue 23, item 3).

- Costs: a hub's advisers per supported firm, the centre's fixed running cost and its building
  (an equivalent annual cost), and pre-start mentoring per founder; each once in the ledger, split
  between council and Exchequer (the ledger's checks are in test_invariants and test_regimes).
- Pre-start births: real firms in the arrays, drawn from streams of their own, so every other
  firm keeps its luck; more founders, more births; deadweight fewer.
- Displacement: supported firms' extra survival and hub-born firms' demand come partly out of
  other local firms, by the same share as supported firms' extra growth.

Fitted values are read from the calibration, never written here.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from simulation.firms import Firms, age_profile, hub_born_stream
from simulation.mechanisms import business
from simulation.registry import FLOWS
from simulation.rng import Streams

SCALE = 2.0  # potential scale of the test districts


def make_firms(n: int, district: np.ndarray, age: np.ndarray, potential: np.ndarray | float) -> Firms:
    """n living small firms, each at its desired size."""
    potential = np.broadcast_to(np.asarray(potential, dtype=np.float64), (n,)).copy()
    return Firms(
        district=np.asarray(district, dtype=np.int16),
        market=np.zeros(n, dtype=np.int16),
        size=np.zeros(n, dtype=np.int32),
        target=potential.copy(),
        potential=potential,
        shock=np.zeros(n),
        age=np.asarray(age, dtype=np.int32),
        alive=np.ones(n, dtype=bool),
        large=np.zeros(n, dtype=bool),
        hub_months=np.zeros(n, dtype=np.int16),
        ever_supported=np.zeros(n, dtype=bool),
        draw_row=np.arange(n, dtype=np.int32),
        n_used=n,
    )


def copy_of(firms: Firms) -> Firms:
    """A deep copy (the counts come along)."""
    return dataclasses.replace(firms, **{k: v.copy() for k, v in firms.arrays().items()})


def new_flows(n_districts: int) -> dict[str, np.ndarray]:
    return {k: np.zeros(n_districts, dtype=np.int64) for k in FLOWS}


# ------------------------------------------------------------------------------------ costs
def test_a_hub_costs_its_advisers_its_centre_its_building_and_its_mentoring(params):
    none = business.hub_month_cost(0, 0.0, 0.0, params)
    assert set(none) == {"running", "capital", "prestart"} and all(v == 0 for v in none.values())
    cost = business.hub_month_cost(40, 30.0, 60.0, params)
    # Running: advisers for each firm supported now, and the centre's fixed cost.
    assert cost["running"] == pytest.approx((40 * params.hub_cost_per_firm_year + params.hub_fixed_cost_per_year) / 12)
    # Capital: places for the programme's firms supported at once, as an equivalent annual cost.
    places = 30.0 * params.hub_support_months / 12
    factor = business.annuity_factor(params.capital_discount_rate, params.hub_building_life_years)
    assert cost["capital"] == pytest.approx(places * params.hub_capital_cost_per_place * factor / 12)
    assert cost["prestart"] == pytest.approx(60.0 * params.prestart_cost_per_participant / 12)
    assert all(v > 0 for v in cost.values())
    # Pre-start mentoring alone needs no centre and no building.
    alone = business.hub_month_cost(0, 0.0, 60.0, params)
    assert alone["running"] == alone["capital"] == 0 and alone["prestart"] == cost["prestart"]


@pytest.mark.parametrize("kind", ["firms", "supported", "founders"])
def test_a_larger_hub_programme_costs_more(params, kind):
    small, large = (
        {"supported": 20, "firms": 30.0, "founders": 30.0},
        {"supported": 20, "firms": 30.0, "founders": 30.0},
    )
    large[kind] *= 2
    a = business.hub_month_cost(small["supported"], small["firms"], small["founders"], params)
    b = business.hub_month_cost(large["supported"], large["firms"], large["founders"], params)
    assert sum(b.values()) > sum(a.values())
    assert all(b[k] >= a[k] for k in a)
    # The fixed running cost does not double with the programme: running cost less than doubles.
    if kind == "supported":
        assert a["running"] < b["running"] < 2 * a["running"]


def test_the_equivalent_annual_cost_repays_the_capital_over_the_buildings_life(params):
    r, years = params.capital_discount_rate, params.hub_building_life_years
    factor = business.annuity_factor(r, years)
    present_value = sum(factor / (1 + r) ** t for t in range(1, int(years) + 1))
    assert present_value == pytest.approx(1.0, rel=1e-9)
    assert 1 / years < factor < r + 1 / years  # more than straight-line, less than interest on it all
    assert business.annuity_factor(0.0, 40.0) == pytest.approx(1 / 40)
    # A longer life or a lower rate charges less a year.
    assert business.annuity_factor(r, years + 10) < factor
    assert business.annuity_factor(r / 2, years) < factor


# ------------------------------------------------------------------------- pre-start births
def _firms(n: int = 50, n_districts: int = 2) -> Firms:
    return make_firms(n, district=np.arange(n) % n_districts, age=np.arange(n) % 40, potential=3.0)


def _prestart(firms: Firms, founders: np.ndarray, params, seed: int = 5, month: int = 3) -> np.ndarray:
    markets = np.zeros(founders.shape[0], dtype=np.int16)
    scale = np.full(founders.shape[0], SCALE)
    return business.prestart_births(firms, founders, params, Streams(seed), month, scale, markets, 1.0)


def test_prestart_adds_hub_born_firms_at_the_evidence_rate(params):
    founders = np.array([60.0, 240.0])
    firms = _firms()
    born = _prestart(firms, founders, params)
    added = founders / 12 * params.prestart_starts_per_participant * (1 - params.prestart_deadweight)
    u = Streams(5).uniform("hub_prestart_birth", 3, 2)
    np.testing.assert_array_equal(born, np.floor(added + u))
    new = np.arange(50, 50 + born.sum())
    assert firms.n_used == 50 + born.sum() and firms.n_hub_born == born.sum()
    np.testing.assert_array_equal(firms.draw_row[new], -1 - np.arange(born.sum()))
    np.testing.assert_array_equal(firms.district[new], np.repeat([0, 1], born))
    assert firms.alive[new].all() and (firms.age[new] == 0).all() and not firms.large[new].any()
    # Their sizes come from the hub-born stream, at prestart_size_ratio of a new firm's.
    z = Streams(5).normal_rows(hub_born_stream("firm_birth_size"), 3, np.arange(born.sum()))
    want = np.exp(params.firm_size_sd * z) * SCALE * params.prestart_size_ratio
    np.testing.assert_allclose(firms.potential[new], want, rtol=1e-12)
    np.testing.assert_allclose(firms.target[new], want * age_profile(np.zeros(born.sum()), SCALE, params))


def test_more_founders_more_births_more_deadweight_fewer(params):
    counts = [_prestart(_firms(), np.full(2, f), params).sum() for f in (0.0, 30.0, 60.0, 120.0, 480.0)]
    assert counts[0] == 0 and counts == sorted(counts) and counts[-1] > counts[1]
    totals = []
    for dw in (0.0, params.prestart_deadweight, 0.9):
        p = params.with_overrides({"prestart_deadweight": dw})
        totals.append(sum(_prestart(_firms(), np.full(2, 480.0), p, seed=s).sum() for s in range(20)))
    assert totals[0] > totals[1] > totals[2]


def test_hub_born_firms_shift_no_other_firms_draws(params):
    """The regime's own births, and every firm's monthly draws, are the same whether or not a hub
    added firms before them: firm-level draws go by draw row, not slot."""
    plain, hubbed = _firms(), _firms()
    assert _prestart(hubbed, np.array([480.0, 480.0]), params).sum() > 0
    births = np.array([3, 4])
    scale, markets = np.full(2, SCALE), np.zeros(2, dtype=np.int16)
    s_plain = business.add_firms(plain, births, scale, markets, params, Streams(5), 4)
    s_hub = business.add_firms(hubbed, births, scale, markets, params, Streams(5), 4)
    assert s_hub[0] > s_plain[0]  # later slots ...
    np.testing.assert_array_equal(hubbed.draw_row[s_hub], plain.draw_row[s_plain])  # ... the same draw rows
    np.testing.assert_array_equal(hubbed.potential[s_hub], plain.potential[s_plain])
    regular = hubbed.draw_row[: hubbed.n_used] >= 0
    assert regular.sum() == plain.n_used
    for read in ("uniform", "normal"):
        a = getattr(plain, read)(Streams(9), "firm_death", 7)
        b = getattr(hubbed, read)(Streams(9), "firm_death", 7)
        np.testing.assert_array_equal(b[regular], a)
        # Hub-born firms read their own stream, in order of birth.
        own = getattr(Streams(9), read)(hub_born_stream("firm_death"), 7, hubbed.n_hub_born)
        np.testing.assert_array_equal(b[~regular], own)
    rows = np.flatnonzero(np.arange(hubbed.n_used) % 3 == 0)
    picked = regular[rows]
    same_rows = hubbed.draw_row[rows[picked]]
    np.testing.assert_array_equal(
        hubbed.uniform_rows(Streams(9), "vacancy_fill", 7, rows)[picked],
        plain.uniform_rows(Streams(9), "vacancy_fill", 7, same_rows),
    )
    np.testing.assert_array_equal(
        hubbed.uniform_at(Streams(9), "hub_select", 7, rows)[picked],
        plain.uniform_at(Streams(9), "hub_select", 7, same_rows),
    )


def test_hub_born_firms_survive_their_first_year_at_the_evidence_rate(params):
    firms = _firms()
    _prestart(firms, np.array([480.0, 480.0]), params)
    born = np.flatnonzero(firms.hub_born)
    firms.age[born] = np.arange(born.size) % 30
    h = business.hazard(firms, params)
    plain = business.hazard(firms, params.with_overrides({"prestart_survival_1yr": params.survival_1yr}))
    young, older = born[firms.age[born] < 12], born[firms.age[born] >= 12]
    assert young.size and older.size
    np.testing.assert_allclose((1 - h[young]) ** 12, params.prestart_survival_1yr)
    np.testing.assert_array_equal(h[older], plain[older])  # from the second year on, as any firm
    regular = np.flatnonzero(~firms.hub_born)
    np.testing.assert_array_equal(h[regular], plain[regular])
    assert business.prestart_hazard_factor(params) > 1  # NEA's starts close more often than ONS births
    # A hub that then supports one also lowers its hazard.
    firms.hub_months[young] = 5
    supported = business.hazard(firms, params)
    np.testing.assert_allclose(supported[young], h[young] * params.hub_survival_hazard_ratio)


# ----------------------------------------------------------------------------- displacement
def _step(people, firms: Firms, params, n_districts: int = 2) -> None:
    business.step(
        people,
        firms,
        params,
        Streams(3),
        0,
        np.full(n_districts, SCALE),
        np.zeros(n_districts),  # no births of the regime's own
        np.zeros(n_districts, dtype=np.int16),
        np.zeros(people.n, dtype=np.int16),
        new_flows(n_districts),
        n_districts,
    )


def _displaced(runs: dict[float, Firms], others: np.ndarray, params) -> float:
    """Demand taken from `others` with displacement against without."""
    plain, displaced = runs[0.0], runs[params.hub_displacement]
    profile = age_profile(plain.age, SCALE, params)
    return float(((plain.potential - displaced.potential) * profile)[others].sum())


def test_survival_gains_are_displaced_like_growth(params, people_factory):
    """A supported firm alive only thanks to its hub takes hub_displacement of its demand from the
    other local firms: exactly, with no growth uplift to mix in."""
    n = 4000
    district = np.arange(n) % 2
    supported = (district == 0) & (np.arange(n) % 4 == 0)
    firms0 = make_firms(n, district=district, age=np.arange(n) % 30, potential=1.0 + np.arange(n) % 5)
    firms0.hub_months[supported] = 12
    firms0.ever_supported[supported] = True
    base = params.with_overrides({"hub_growth_uplift_annual": 0.0, "hub_survival_hazard_ratio": 0.0})
    runs = {}
    for d in (0.0, params.hub_displacement):
        runs[d] = copy_of(firms0)
        _step(people_factory(0), runs[d], base.with_overrides({"hub_displacement": d}))
    unsupported = copy_of(firms0)
    unsupported.hub_months[:] = 0
    _step(people_factory(0), unsupported, base)
    saved = supported & ~unsupported.alive  # would have died without the hub (same draws)
    assert saved.sum() > 5 and runs[0.0].alive[supported].all()  # hazard ratio 0: no supported firm dies
    demand = (runs[0.0].potential * age_profile(runs[0.0].age, SCALE, params))[saved].sum()
    others = ~supported & runs[0.0].alive & (district == 0)
    assert _displaced(runs, others, params) == pytest.approx(params.hub_displacement * demand, rel=1e-9)
    # Only the hub's district loses; without displacement nobody does.
    np.testing.assert_array_equal(
        runs[params.hub_displacement].potential[district == 1], firms0.potential[district == 1]
    )
    np.testing.assert_array_equal(runs[0.0].potential[others], firms0.potential[others])


def test_hub_born_firms_demand_is_displaced(params, people_factory):
    """A firm pre-start support added takes hub_displacement of its demand from the firms that
    would be there anyway, in its first month after birth."""
    firms0 = _firms(400)
    born = _prestart(firms0, np.array([6000.0, 0.0]), params)
    assert born[0] > 5 and born[1] == 0
    runs = {}
    for d in (0.0, params.hub_displacement):
        runs[d] = copy_of(firms0)
        _step(people_factory(0), runs[d], params.with_overrides({"hub_displacement": d}))
    plain = runs[0.0]
    hub_born = np.zeros(plain.capacity, dtype=bool)
    hub_born[: plain.n_used] = plain.hub_born
    # The hub-born firms that lived through the month brought all their demand to the market.
    demand = (plain.potential * age_profile(plain.age, SCALE, params))[hub_born & plain.alive].sum()
    others = ~hub_born & plain.alive & (plain.district == 0)
    assert _displaced(runs, others, params) == pytest.approx(params.hub_displacement * demand, rel=1e-9)
    np.testing.assert_array_equal(
        runs[params.hub_displacement].potential[plain.district == 1], firms0.potential[plain.district == 1]
    )
    # Hub-born firms themselves are not displaced: the same in both runs.
    np.testing.assert_array_equal(runs[params.hub_displacement].potential[hub_born], plain.potential[hub_born])


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5])
def test_more_displacement_takes_more_from_other_firms(params, people_factory, share):
    firms0 = _firms(600)
    _prestart(firms0, np.array([3000.0, 3000.0]), params)
    firms0.hub_months[(np.arange(firms0.capacity) % 5 == 0) & (firms0.age < 36)] = 12
    totals = []
    for d in (0.0, share, min(1.0, 2 * share)):
        f = copy_of(firms0)
        _step(people_factory(0), f, params.with_overrides({"hub_displacement": d}))
        totals.append(float((f.potential * age_profile(f.age, SCALE, params))[f.alive & ~f.large].sum()))
    assert totals[0] > totals[1] > totals[2]  # the net effect falls as displacement rises


# ------------------------------------------------------------------------------- the model
def test_prestart_raises_births_and_every_other_firm_keeps_its_luck(build_model):
    """Against no hub on the same seed: pre-start support adds exactly its hub-born firms to the
    births, and (without displacement) every firm the regime would have anyway lives the same life."""
    kw = {"months": 24, "burn_in": 6, "overrides": {"hub_displacement": 0.0}}
    base = build_model("no_programme", 4, **kw)
    hub = build_model("no_programme", 4, lever_overrides={"hub_prestart_per_year": 120.0}, **kw)
    births, hub_births = 0, 0
    while base.running:
        base.step()
        hub.step()
        a, b = base.last_row, hub.last_row
        assert a is not None and b is not None
        np.testing.assert_array_equal(b["firm_births"] - a["firm_births"], b["hub_prestart_births"])
        births, hub_births = births + a["firm_births"].sum(), hub_births + b["hub_prestart_births"].sum()
        regular = np.flatnonzero(hub.firms.draw_row[: hub.firms.n_used] >= 0)
        assert regular.size == base.firms.n_used
        for name in ("alive", "potential", "target", "age", "district", "hub_months"):
            np.testing.assert_array_equal(
                getattr(hub.firms, name)[regular], getattr(base.firms, name)[: base.firms.n_used], err_msg=name
            )
    assert hub_births > 0 and births > 0
    # At the evidence rate: founders x starts x (1 - deadweight) a year in each district, a rough check.
    p = hub.params
    years, districts = 24 / 12, hub.n_districts
    expected = 120.0 * p.prestart_starts_per_participant * (1 - p.prestart_deadweight) * years * districts / hub.ppa
    assert hub_births == pytest.approx(expected, rel=0.35)
    frame = hub.results_frame()
    assert frame["hub_prestart_other"].sum() > 0 and frame["hub_capital_other"].sum() == 0  # no centre, no building
    assert math.isclose(
        frame["business_support_cost"].sum(),
        frame["hub_prestart_council"].sum() + frame["hub_prestart_other"].sum(),
        rel_tol=1e-12,
    )
