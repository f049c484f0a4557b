"""Small businesses: ageing, deaths, growth, births, and enterprise-hub support.

- Deaths follow ONS survival curves by firm age (`firms.death_hazard`); a dying firm's workers
  become unemployed. Large-employer rows do not die.
- Each small firm has a potential size (lognormal across firms); its desired headcount follows
  an age path from about `birth_size_mean` up to that potential (`firms.age_profile`), times a
  mean-one random-walk shock. Firms start in the steady-state mix of ages and births replace
  expected deaths, so with no policy small-business demand is stationary by construction.
- Workers of dying or shrinking firms are displaced: a share `displaced_to_unemployment` become
  unemployed; the rest move straight into open posts in their market, if there are any. When a
  market's job finding falls below what it was at the end of the burn-in, fewer of them manage
  that: the share who try is (1 - displaced_to_unemployment) x r^`displaced_move_response`, r the
  market's job finding per unit of search over its reference (`participation.market_attachment`).
  UK job-to-job moves fell steeply in 2008-10, more than any other flow into work (Gomes 2012;
  Sutton 2014), and redundancies then went into unemployment (issue 24).
- Births replace the expected deaths of each district's starting firms, so with no policy the
  number of small firms is steady (a stationary baseline: no business cycle). The rate is fixed
  when the place is built. (ONS's 2014 birth rate, 13.7%, exceeded its death rate, 9.6%: the
  stock was growing; the model's baseline does not trend.)
- Vacancies are desired minus actual headcount (`Firms.vacancies`); a firm whose desired
  headcount falls below its actual one lays off the excess, so demand adjusts both ways.
- Every firm's desired headcount (large employers' from what they wanted as built) and the birth
  rate are multiplied by their market's demand factor (`demand`): the macroeconomic scenario's
  demand index times the response to how easily firms hire (`demand_elasticity`). In a steady
  economy with fixed demand (the defaults) the factor is 1 and nothing here moves.

Enterprise hubs (like Stevenage's Business Technology Centre) do three things, and nothing else
adjusts to policy:

- they adopt young firms (under 36 months) for `hub_support_months`: a supported firm dies less
  (`hub_survival_hazard_ratio`) and its potential grows faster (`hub_growth_uplift_annual`);
- their pre-start support mentors would-be founders (the lever `hub_prestart_per_year`), of
  whom `prestart_starts_per_participant` start trading, as in the New Enterprise Allowance; a
  share `prestart_deadweight` would have started anyway (they are among the regime's own
  births), the rest are firms added to the arrays (`prestart_births`): hub-born, smaller
  (`prestart_size_ratio`) and likelier to close in their first year (`prestart_survival_1yr`);
- the demand they add (supported firms' extra growth, supported firms alive only thanks to
  their hub, hub-born firms) is measured against the arm without hubs on the same seeds, less
  `hub_displacement` of it, which comes out of the other local small firms in proportion to
  their size. Deadweight of support to existing firms needs no parameter: on common random
  numbers the arm without hubs has the same firms and the same luck, and hub-born firms draw
  from streams of their own (`firms` module docstring), so they shift no other firm's luck.

A hub's public cost (`hub_month_cost`) is its advisers' time per supported firm, the centre's
fixed running cost and its building (an equivalent annual cost), and its pre-start mentoring per
founder; the council pays `hub_council_share` of each, the Exchequer the rest (`agents.Council`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simulation import detmath as dm
from simulation import parallel
from simulation.declare import Column, Mechanism, Output, Posting, at_least_zero, between, lever, probability
from simulation.firms import AGE_YEAR_BINS, Firms, age_profile, death_hazard, starting_share
from simulation.mechanisms import business_kernels, matching, participation, shared_kernels
from simulation.mechanisms._util import count_by, employed_at, int_sum_by, pick_per_group, stochastic_round
from simulation.mechanisms.separations import release
from simulation.mechanisms.world import World
from simulation.people import EMPLOYED, UNEMPLOYED, People
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Params


def hazard(firms: Firms, params: Params, with_hubs: bool = True, rows: np.ndarray | None = None) -> np.ndarray:
    """Each firm row's chance of dying this month (or these rows'): by age, lower while a hub
    supports it (unless `with_hubs` is False: the hazard the firm would face without its hub's
    support); in their first year, higher for firms a hub's pre-start support added
    (`prestart_hazard_factor`); zero for large employers and dead rows."""
    by_age = death_hazard(np.array([0, 12, 36, 60]), params)  # the four age bands' rates
    ratio = params.hub_survival_hazard_ratio if with_hubs else 1.0
    at = slice(None) if rows is None else rows
    f = firms
    h = business_kernels.firm_hazard(
        f.age[at], f.hub_months[at], f.alive[at], f.large[at], by_age, float(ratio), with_hubs
    )
    if f.n_hub_born:
        young = (f.draw_row[at] < 0) & (f.age[at] < 12)
        h = np.where(young, np.minimum(h * prestart_hazard_factor(params), 1.0), h)
    return h


def prestart_hazard_factor(params: Params) -> float:
    """How much likelier a firm a hub's pre-start support added is to die in a month of its first
    year than any new firm: (1 - prestart_survival_1yr^(1/12)) / (1 - survival_1yr^(1/12)), so that
    a cohort of them survives its first year with probability prestart_survival_1yr (unless a hub
    then supports it); from the second year on they face every firm's hazard."""
    h1 = 1.0 - dm.pow(params.survival_1yr, 1 / 12)
    return (1.0 - dm.pow(params.prestart_survival_1yr, 1 / 12)) / h1


def replacement_births(firms: Firms, n_districts: int, params: Params) -> np.ndarray:
    """Births a month by district that replace the expected deaths of the starting small firms."""
    small = firms.alive & ~firms.large
    h = hazard(firms, params, with_hubs=False)
    return np.bincount(firms.district[small], weights=h[small], minlength=n_districts)


def expected_contraction(firms: Firms, params: Params) -> float:
    """Expected layoffs next month from shocks pushing firms' desired size below their headcount.

    A mature firm at its desired size T loses about T * E[max(0, -(mu + sd*z))], mu = -sd^2/2;
    growing young firms and firms with open posts absorb small falls, so this overstates a little.
    """
    small = firms.alive & ~firms.large
    sd = params.firm_growth_sd
    if sd <= 0:
        return 0.0
    mu = -0.5 * sd * sd
    a = mu / sd
    share = sd * dm.exp(-0.5 * a * a) / math.sqrt(2 * math.pi) - mu * (1 - 0.5 * (1 + dm.erf(a / math.sqrt(2))))
    full = firms.size[small] >= np.floor(firms.target[small] + 0.5)
    return float((firms.size[small] * full).sum() * share)


def life_table(firms: Firms, die: np.ndarray, flows: dict[str, np.ndarray], n_districts: int) -> None:
    """Small firms at risk and dying this month by year of life (AGE_YEAR_BINS): survival to 1, 3
    and 5 years as the model gives it, for calibration and validation (`analysis.targets`).

    Called at the death draw, before ageing, so `age` is completed months: year of life
    age // 12 is the band whose hazard the draw used (age0 = months 1..12 of life)."""
    nb = len(AGE_YEAR_BINS)

    def block(lo: int, hi: int) -> np.ndarray:
        f = firms
        return business_kernels.life_table(
            f.alive[lo:hi], f.large[lo:hi], die[lo:hi], f.age[lo:hi], f.district[lo:hi], n_districts, nb
        )

    counts = sum(parallel.map_blocks(block, firms.used))
    for k, name in enumerate(("firms_at_risk", "firm_deaths")):
        for i, label in enumerate(AGE_YEAR_BINS):
            flows[f"{name}_{label}"] += counts[k, :, i]


def prefetch_draws(firms: Firms, births_per_month: np.ndarray, streams: Streams, month: int) -> None:
    """Start drawing this month's normals for firms' growth shocks in the background
    (`Streams.prefetch_normal`): `step` then finds them drawn (the regular firms' rows; the few
    hub-born firms' are drawn when read, `Firms.normal`). (New firms' sizes are read by draw row,
    `Firms.normal_rows`, only for the new firms' rows.)"""
    streams.prefetch_normal("firm_growth", month, firms.n_regular)


def step(
    people: People,
    firms: Firms,
    params: Params,
    streams: Streams,
    month: int,
    potential_scale: np.ndarray,
    births_per_month: np.ndarray,
    district_market: np.ndarray,
    person_market: np.ndarray,
    flows: dict[str, np.ndarray],
    n_districts: int,
    demand_factor: np.ndarray | None = None,
    large_rows: np.ndarray | None = None,
    large_base: np.ndarray | None = None,
    move_share: np.ndarray | None = None,
) -> None:
    """One month of the firms (module docstring). `move_share` is, by market, the share of
    displaced workers who try to move straight into another post (None: 1 -
    `displaced_to_unemployment` everywhere, as built)."""
    # Deaths (their workers are released below, with those laid off: the firms' side of both is
    # worked out first, so one pass over people finds the workers of both).
    # Draws are by slot, so slots never used yet (dead, hazard 0) need none.
    # The draw comes before ageing: a firm's age is its completed months, so in the k-th month of
    # its life (age k - 1) months 1..12 face the year-1 hazard, 13..24 the year-2 one, and so on,
    # and a cohort's survival to 12 months is survival_1yr exactly (`firms.death_hazard`).
    # (Ageing first gave month 12 the year-2 hazard: 1-year survival about 0.90, not 0.913.)
    die = np.zeros(firms.capacity, dtype=bool)
    u_death = firms.uniform(streams, "firm_death", month)
    die[: firms.n_used] = u_death < hazard(firms, params)[: firms.n_used]
    # Supported firms alive now only thanks to their hub: on the same draw they would have died
    # without its support (hazard with_hubs=False). Their demand is the hub's survival gain. (Not
    # hub-born firms': all of their demand is the hub's already, `_path_growth`.)
    held = np.flatnonzero((firms.hub_months[: firms.n_used] > 0) & (firms.draw_row[: firms.n_used] >= 0))
    saved = held[~die[held] & (u_death[held] < hazard(firms, params, with_hubs=False, rows=held))]
    life_table(firms, die, flows, n_districts)
    dying_jobs = int(firms.size[die].sum())
    if die.any():
        flows["firm_deaths"] += count_by(firms.district, die, n_districts)
        firms.alive[die] = False
        firms.target[die] = 0.0
        firms.hub_months[die] = 0
    # Desired headcount: potential x age path x a mean-one shock. Hubs raise supported firms'
    # potential while they support them. Every firm row's update is its own, so blocks of firm
    # rows run on threads.
    n = firms.n_used  # slots past it are dead: they neither grow nor shrink
    z = firms.normal(streams, "firm_growth", month)
    sd = params.firm_growth_sd
    supported = firms.hub_months > 0
    profile = np.zeros(firms.capacity)
    # The age path's parts (`firms.age_profile`): each district's 1 - starting share, and numpy's
    # exp(-age / maturity) for each whole month of age up to the oldest firm's.
    gap = 1.0 - starting_share(potential_scale, params)
    decay = dm.np_exp(-np.arange(int(firms.age[:n].max(initial=0)) + 2) / params.firm_maturity_months)

    def grow(lo: int, hi: int) -> np.ndarray:
        f = firms
        growing = business_kernels.GrowingFirms(
            alive=f.alive[lo:hi],
            large=f.large[lo:hi],
            age=f.age[lo:hi],
            shock=f.shock[lo:hi],
            district=f.district[lo:hi],
        )
        return lo + business_kernels.grow_firms(
            growing, supported[lo:hi], z[lo:hi], gap, decay, sd, 0.5 * sd * sd, profile[lo:hi]
        )

    small_rows = np.concatenate(parallel.map_blocks(grow, n))
    if supported.any() or firms.n_hub_born:
        hub_born = np.zeros(firms.capacity, dtype=bool)
        hub_born[:n] = firms.hub_born
        # The demand hubs add this month, by district: supported firms' extra growth, the demand
        # of supported firms alive only thanks to their hub, and the growth along their age path
        # of firms its pre-start support added (all of their demand the month after their birth).
        demand = firms.potential * profile  # desired headcount before the mean-one shock
        uplift = dm.pow(1.0 + params.hub_growth_uplift_annual, 1 / 12) - 1.0
        extra = np.zeros(n_districts)
        extra += np.bincount(firms.district[supported], weights=demand[supported] * uplift, minlength=n_districts)
        extra += np.bincount(firms.district[saved], weights=demand[saved], minlength=n_districts)
        extra += np.bincount(
            firms.district[hub_born],
            weights=firms.potential[hub_born] * _path_growth(firms, hub_born, gap, decay, profile),
            minlength=n_districts,
        )
        firms.potential[supported] *= 1.0 + uplift
        firms.hub_months[supported] -= 1
        # Displacement: part of that demand comes out of other local firms' sales (effects.md
        # s5: 0.25-0.5), shared in proportion to their size. The others are the small firms that
        # would be there without the hub's help: neither supported now nor hub-born.
        others = firms.alive & ~firms.large & ~supported & ~hub_born
        base = np.bincount(firms.district[others], weights=demand[others], minlength=n_districts)
        cut = np.clip(params.hub_displacement * extra / np.maximum(base, 1e-12), 0.0, 0.5)
        firms.potential[others] *= 1.0 - cut[firms.district[others]]
    excess = np.zeros(firms.capacity, dtype=np.int64)
    # The economy and hiring conditions (`demand`): each market's factor scales every firm's
    # desired headcount, the large employers' from what they wanted as built. (x 1.0 is exact:
    # in a steady economy with fixed demand nothing moves.)
    scaled = demand_factor is not None and bool((demand_factor != 1.0).any())
    if demand_factor is not None and large_rows is not None and large_base is not None:
        firms.target[large_rows] = large_base * demand_factor[firms.market[large_rows]]

    def settle(lo: int, hi: int) -> None:
        # Desired headcounts of the small firms; headcount above the desired size is laid off.
        rows = small_rows[np.searchsorted(small_rows, lo) : np.searchsorted(small_rows, hi)]
        f = firms
        growth = dm.np_exp(f.shock[rows])
        if scaled:
            assert demand_factor is not None
            growth = growth * demand_factor[f.market[rows]]
        business_kernels.settle_firms(
            rows - lo, growth, f.potential[lo:hi], profile[lo:hi], f.target[lo:hi], f.alive[lo:hi], f.size[lo:hi],
            excess[lo:hi],
        )  # fmt: skip

    parallel.map_blocks(settle, n)

    # Workers of dying firms become unemployed (or move job, below).
    shrinking = excess > 0
    leaving, at_risk = employed_at(
        people.status, people.employer, die, dying_jobs, shrinking, int(firms.size[shrinking].sum())
    )
    displaced = [leaving]  # rows of workers displaced this month
    if leaving.size:
        flows["firm_death_job_losses"] += np.bincount(people.district[leaving], minlength=n_districts)
        release(people, firms, leaving, UNEMPLOYED, streams, month, params)

    # Contractions: lay off the excess, choosing whom by a per-person random key.
    if shrinking.any():
        key = streams.uniform_at("layoff", month, at_risk)
        # Groups numbered among the shrinking firms only (in firm order), so the per-group work is
        # over thousands of firms, not every firm row. Each firm's lowest keys are picked within
        # the firm (`pick_per_group`'s choice; at_risk is in row order, and so are those laid off).
        shrinking_rows = np.flatnonzero(shrinking)
        number = np.zeros(firms.capacity, dtype=np.int64)
        number[shrinking_rows] = np.arange(shrinking_rows.size)
        laid_off = at_risk[
            shared_kernels.lowest_per_group(number[people.employer[at_risk]], key, excess[shrinking_rows])
        ]
        flows["layoffs"] += np.bincount(people.district[laid_off], minlength=n_districts)
        release(people, firms, laid_off, UNEMPLOYED, streams, month, params)
        displaced.append(laid_off)

    # Births take the next unused slots, growing the arrays if needed.
    # Births move with demand too (`demand`): firms enter where hiring is easy and the economy grows.
    birth_rate = births_per_month if not scaled else births_per_month * demand_factor[district_market]
    n_births = stochastic_round(birth_rate, streams.uniform("firm_birth", month, n_districts))
    add_firms(firms, n_births, potential_scale, district_market, params, streams, month)
    flows["firm_births"] += n_births

    # Some displaced workers move straight into another job in their market (notice-period
    # search); the rest become unemployed.
    displaced = np.sort(np.concatenate(displaced))  # no one is both in a dying and a shrinking firm
    u_move = streams.uniform_at("displaced_job_to_job", month, displaced)
    if move_share is None:
        moving = displaced[u_move >= params.displaced_to_unemployment]
    else:  # the same draw: whoever moves in a slack market would also move as built
        moving = displaced[u_move >= 1.0 - move_share[person_market[displaced]]]
    if moving.size:
        placed, posts = matching.take_posts(
            firms,
            moving,
            streams.uniform_at("displaced_priority", month, moving),
            person_market,
            streams,
            month,
            "vacancy_fill_displaced",
        )
        matching.start_jobs(people, firms, placed, posts, params)
        people.fragile[placed] = False  # they were never out of work: not a job taken from out of work
        flows["job_to_job"] += np.bincount(people.district[placed], minlength=n_districts)
        displaced = displaced[people.status[displaced] != EMPLOYED]  # (the placed now work)
    # Released as unemployed, but for those back on ESA (`separations.release`), now inactive.
    to_u = people.status[displaced] == UNEMPLOYED
    flows["e_to_u"] += np.bincount(people.district[displaced[to_u]], minlength=n_districts)
    flows["e_to_i"] += np.bincount(people.district[displaced[~to_u]], minlength=n_districts)


def _path_growth(firms: Firms, rows: np.ndarray, gap: np.ndarray, decay: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """The rise of these (aged) rows' age path this month, profile(age) - profile(age - 1), and
    the whole of it, profile(1), for a firm in its first month after birth (its demand enters the
    market then); zero for dead rows."""
    age = firms.age[rows]
    before = np.where(age >= 2, 1.0 - gap[firms.district[rows]] * decay[np.maximum(age - 1, 0)], 0.0)
    return np.where(firms.alive[rows], profile[rows] - before, 0.0)


def add_firms(
    firms: Firms,
    n_births: np.ndarray,
    potential_scale: np.ndarray,
    district_market: np.ndarray,
    params: Params,
    streams: Streams,
    month: int,
    hub_born: bool = False,
    size_ratio: float = 1.0,
) -> np.ndarray:
    """New small firms, n_births[d] in district d, in the next unused slots (growing the arrays if
    needed); returns their slots. Their potential sizes are lognormal about their district's scale
    (times `size_ratio`), drawn by draw row (`firms` module docstring): the regime's own births
    read "firm_birth_size" at the next regular rows, and hub-born firms (`hub_born`) read its
    hub-born stream at the next hub-born rows, so one kind's births never move the other's draws."""
    total = int(n_births.sum())
    slots = np.arange(firms.n_used, firms.n_used + total)
    if not total:
        return slots
    if firms.n_used + total > firms.capacity:
        firms.grow(max(total, firms.capacity // 2))
    if hub_born:
        firms.draw_row[slots] = -1 - np.arange(firms.n_hub_born, firms.n_hub_born + total)
        firms.n_hub_born += total
    else:
        firms.draw_row[slots] = np.arange(firms.n_regular, firms.n_regular + total)
    firms.n_used += total
    born_district = np.repeat(np.arange(n_births.shape[0]), n_births).astype(np.int16)
    size_z = firms.normal_rows(streams, "firm_birth_size", month, slots)
    potential = dm.np_exp(params.firm_size_sd * size_z) * potential_scale[born_district] * size_ratio
    firms.district[slots] = born_district
    firms.market[slots] = district_market[born_district]
    firms.size[slots] = 0
    firms.potential[slots] = potential
    firms.shock[slots] = 0.0
    firms.target[slots] = potential * age_profile(np.zeros(total), potential_scale[born_district], params)
    firms.age[slots] = 0
    firms.alive[slots] = True
    firms.large[slots] = False
    firms.hub_months[slots] = 0
    firms.ever_supported[slots] = False
    return slots


def prestart_births(
    firms: Firms,
    founders_per_year: np.ndarray,
    params: Params,
    streams: Streams,
    month: int,
    potential_scale: np.ndarray,
    district_market: np.ndarray,
    ppa: float,
) -> np.ndarray:
    """Firms that hubs' pre-start support adds this month, by district (rows of firms).

    A hub mentors founders_per_year[d] would-be founders a year; prestart_starts_per_participant
    of them start trading, of whom prestart_deadweight would have started anyway (those firms are
    among the regime's own births already), so each mentored founder adds
    starts x (1 - deadweight) firms. The added firms are `hub_born` (`add_firms`), at
    prestart_size_ratio of a new firm's potential size, and survive their first year at
    prestart_survival_1yr (`hazard`)."""
    added = founders_per_year / 12.0 * params.prestart_starts_per_participant * (1.0 - params.prestart_deadweight) / ppa
    n = stochastic_round(added, streams.uniform("hub_prestart_birth", month, founders_per_year.shape[0]))
    add_firms(
        firms, n, potential_scale, district_market, params, streams, month, hub_born=True,
        size_ratio=params.prestart_size_ratio,
    )  # fmt: skip
    return n


def annuity_factor(rate: float, years: float) -> float:
    """The equivalent annual cost of one pound of capital spent now, over `years` at `rate`
    (HM Treasury Green Book): rate / (1 - (1 + rate)^-years), 1 / years at rate 0."""
    if rate <= 0:
        return 1.0 / years
    return rate / (1.0 - dm.pow(1.0 + rate, -years))


def hub_month_cost(
    supported_now: float, firms_per_year: float, founders_per_year: float, params: Params
) -> dict[str, float]:
    """A district hub's public cost this month by kind, £ (the council pays hub_council_share of
    each, the Exchequer the rest: `agents.Council`):

    - running: hub_cost_per_firm_year for each firm it supports now (advisers' time), and
      hub_fixed_cost_per_year while it runs an incubation programme (the centre's management and
      premises, net of tenants' rents), whatever the number of firms;
    - capital: the centre's building, hub_capital_cost_per_place for each place its programme needs
      (firms_per_year x hub_support_months / 12 firms supported at once), as an equivalent annual
      cost over hub_building_life_years at capital_discount_rate (`annuity_factor`): a run is
      charged for the years of the building it uses, not for the whole building in its first
      month, and a building that already stands costs what it could earn in another use;
    - prestart: prestart_cost_per_participant for each would-be founder it mentors
      (founders_per_year / 12 a month)."""
    runs = firms_per_year > 0
    places = firms_per_year * params.hub_support_months / 12.0
    capital = (
        places
        * params.hub_capital_cost_per_place
        * annuity_factor(params.capital_discount_rate, params.hub_building_life_years)
    )
    return {
        "running": supported_now * params.hub_cost_per_firm_year / 12.0 + runs * params.hub_fixed_cost_per_year / 12.0,
        "capital": capital / 12.0,
        "prestart": founders_per_year * params.prestart_cost_per_participant / 12.0,
    }


def support_firms(firms: Firms, quota: np.ndarray, params: Params, streams: Streams, month: int) -> np.ndarray:
    """Enterprise hubs take on up to quota[d] young, unsupported small firms in each district d.

    Firms are chosen by a per-firm random key, so which firms a hub picks does not depend on how
    many it picks. Returns the number taken on in each district.
    """
    n_districts = quota.shape[0]
    eligible = np.flatnonzero(firms.alive & ~firms.large & ~firms.ever_supported & (firms.age < 36))
    if eligible.size == 0 or quota.sum() == 0:
        return np.zeros(n_districts, dtype=np.int64)
    key = firms.uniform_at(streams, "hub_select", month, eligible)
    chosen = pick_per_group(eligible, firms.district[eligible].astype(np.int64), key, quota)
    firms.hub_months[chosen] = int(params.hub_support_months)
    firms.ever_supported[chosen] = True
    return np.bincount(firms.district[chosen], minlength=n_districts).astype(np.int64)


# ---- the month's stages (`simulation.model.MONTH`)


def run_prefetch(w: World) -> None:
    """Start drawing the month's firm-growth normals on a thread (the same numbers, earlier)."""
    prefetch_draws(w.firms, w.births_per_month, w.streams, w.month)


def run(w: World) -> None:
    """Firms are born, grow, shrink and die, and post vacancies."""
    step(
        w.people,
        w.firms,
        w.params,
        w.streams,
        w.month,
        w.potential_scale,
        w.births_per_month,
        w.district_market,
        w.person_market,
        w.flows,
        w.n_districts,
        w.demand_factor,
        w.large_rows,
        w.large_base,
        displaced_move_share(w),
    )


def displaced_move_share(w: World) -> np.ndarray | None:
    """By market, the share of displaced workers who try to move straight into another post:
    (1 - displaced_to_unemployment) x r^displaced_move_response, within [0, 1]; None in the
    burn-in or with no response (the share as built)."""
    eps = w.params.displaced_move_response
    if eps == 0.0 or w.finding_ref is None:
        return None
    r = participation.market_attachment(w)
    return np.clip((1.0 - w.params.displaced_to_unemployment) * dm.np_power(r, eps), 0.0, 1.0)


def run_hubs(w: World) -> None:
    """Hubs' pre-start support adds firms; hubs take on young firms, each district's hub at its own quota.

    The firm rows each district's hub supports now are left in `w.hub_supported_rows`."""
    founders = np.array([h.prestart_per_year for h in w.hubs], dtype=np.float64)
    if founders.any():
        born = prestart_births(
            w.firms, founders, w.params, w.streams, w.month, w.potential_scale, w.district_market, w.ppa
        )
        w.flows["hub_prestart_births"] += born
        w.flows["firm_births"] += born
    u = w.streams.uniform("hub_quota", w.month, w.n_districts)
    quota = np.array([h.quota(u[h.district]) for h in w.hubs], dtype=np.int64)
    taken = support_firms(w.firms, quota, w.params, w.streams, w.month)
    w.flows["hub_new_firms"] += taken
    supported = np.bincount(w.firms.district[w.firms.hub_months > 0], minlength=w.n_districts)
    for h in w.hubs:
        h.supported_now = int(supported[h.district] * w.ppa)
    w.hub_supported_rows = supported


# ---- what this mechanism owns (`simulation.declare`)


def report(w: World) -> dict[str, np.ndarray]:
    """Vacancies and the small-firm stocks by district at the end of the month."""
    k, nd = w.ppa, w.n_districts
    hiring, vacancies = w.firms.hiring()
    small_firms, small_firm_jobs = w.firms.small_firm_stocks(nd)
    return {
        "vacancies": int_sum_by(w.firms.district[hiring], vacancies, nd).astype(np.float64) * k,
        "small_firms": small_firms * k,
        "small_firm_jobs": small_firm_jobs * k,
        "hub_supported_firms": w.hub_supported_rows * k,
    }


MECHANISM = Mechanism(
    name="business",
    doc=__doc__ or "",
    parameters={
        "survival_1yr": probability(),
        "survival_3yr": probability(),
        "survival_5yr": probability(),
        "mature_death_rate": probability(),
        "birth_size_mean": between(0.1, 100.0),
        "firm_maturity_months": between(1.0, 600.0),
        "firm_growth_sd": at_least_zero(1.0),
        "firm_size_sd": at_least_zero(3.0),
        "displaced_move_response": between(0.0, 5.0),
        "sme_employment_share": probability(),
        "large_employer_size": between(50.0, 1e6),
        "hub_displacement": probability(),
        "hub_survival_hazard_ratio": between(0.0, 2.0),
        "hub_growth_uplift_annual": between(-0.5, 2.0),
        "hub_support_months": between(1.0, 120.0),
        "hub_cost_per_firm_year": at_least_zero(1e6),
        "hub_fixed_cost_per_year": at_least_zero(1e8),
        "hub_capital_cost_per_place": at_least_zero(1e8),
        "hub_building_life_years": between(1.0, 200.0),
        "capital_discount_rate": between(0.0, 0.2),
        "prestart_starts_per_participant": probability(),
        "prestart_deadweight": probability(),
        "prestart_survival_1yr": probability(),
        "prestart_size_ratio": between(0.01, 2.0),
        "prestart_cost_per_participant": at_least_zero(1e6),
    },
    firm_fields=(
        Column("district", "int16", "district index"),
        Column("market", "int16", "travel-to-work market index"),
        Column("size", "int32", "people employed (rows of People)"),
        Column("target", "float64", "desired headcount"),
        Column("potential", "float64", "the headcount a small firm grows towards as it matures"),
        Column("shock", "float64", "log deviation of desired headcount from its age path (mean one)"),
        Column("age", "int32", "months"),
        Column("alive", "bool", "the slot holds a living firm"),
        Column("large", "bool", "a large-employer / public-sector row (never dies)"),
        Column("hub_months", "int16", "months of enterprise-hub support left"),
        Column("ever_supported", "bool", "an enterprise hub has supported it"),
        Column("draw_row", "int32", "the row of firm-level random streams it reads; negative: hub-born (firms.py)"),
    ),
    levers={
        "hub_firms_per_year": lever(float, "new firms supported per district", ge=0, le=10_000),
        "hub_council_share": lever(
            float, "share of hubs' running, capital and pre-start costs paid by the council", ge=0, le=1
        ),
        "hub_prestart_per_year": lever(
            float, "would-be founders a district's hub mentors a year (pre-start support)", ge=0, le=100_000
        ),
    },
    flows=(
        Output("firm_births", "firms born", "firms"),
        Output("firm_deaths", "firms dying", "firms"),
        Output("firm_death_job_losses", "people whose firm died"),
        Output("layoffs", "people laid off by shrinking firms"),
        Output("job_to_job", "displaced people who move straight to another job"),
        Output("hub_new_firms", "young firms an enterprise hub takes on", "firms"),
        Output("hub_prestart_births", "firms hubs' pre-start support adds (in firm_births too)", "firms"),
        *(Output(f"firms_at_risk_{b}", f"living firms aged {b} years", "firms") for b in AGE_YEAR_BINS),
        *(Output(f"firm_deaths_{b}", f"firms aged {b} years dying", "firms") for b in AGE_YEAR_BINS),
    ),
    outputs=(
        Output("vacancies", "open posts"),
        Output("small_firms", "living small firms", "firms"),
        Output("small_firm_jobs", "people working in small firms"),
        Output("hub_supported_firms", "firms an enterprise hub supports now", "firms"),
    ),
    report=report,
    postings={
        "hub_running_council": Posting(
            "council", "economy", "business_support", "councils' share of hubs' running costs (per firm and fixed)"
        ),
        "hub_running_other": Posting(
            "exchequer",
            "economy",
            "business_support",
            "the rest of hubs' running costs: LEP and national business support",
        ),
        "hub_capital_council": Posting(
            "council", "economy", "business_support", "councils' share of hubs' buildings (equivalent annual cost)"
        ),
        "hub_capital_other": Posting(
            "exchequer", "economy", "business_support", "the rest of hubs' buildings: national capital funds"
        ),
        "hub_prestart_council": Posting(
            "council", "economy", "business_support", "councils' share of hubs' pre-start mentoring"
        ),
        "hub_prestart_other": Posting(
            "exchequer", "economy", "business_support", "the rest of hubs' pre-start mentoring"
        ),
    },
)
