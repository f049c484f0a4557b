"""Small businesses: ageing, deaths, growth, births, and enterprise-hub support.

- Deaths follow ONS survival curves by firm age (`firms.death_hazard`); a dying firm's workers
  become unemployed. Large-employer rows do not die.
- Each small firm's desired headcount follows a random walk in logs. Its common drift is set
  each month so that small-business demand is stationary in expectation: survivors' growth makes
  up what deaths would remove net of births (`stationary_drift`). The drift uses the hazards of
  unsupported firms, so hubs' extra survival and growth are not offset: they add to demand, and
  the difference is measured against the arm without hubs on the same seeds.
- Births arrive at `firm_birth_rate` on each district's starting stock of small firms (a fixed
  rate, so births do not depend on policy) and start at about `birth_size_mean` posts.
- Vacancies are desired minus actual headcount (`Firms.vacancies`); a firm whose desired
  headcount falls below its actual one lays off the excess, so demand adjusts both ways.
"""

from __future__ import annotations

import numpy as np

from simulation.config import Params
from simulation.firms import Firms, death_hazard
from simulation.mechanisms._util import count_by, rank_within_sorted_groups, stochastic_round
from simulation.mechanisms.separations import release
from simulation.people import EMPLOYED, UNEMPLOYED, People
from simulation.rng import Streams


def hazard(firms: Firms, params: Params, with_hubs: bool = True) -> np.ndarray:
    h = death_hazard(firms.age, params)
    if with_hubs:
        h = np.where(firms.hub_months > 0, h * params.hub_survival_hazard_ratio, h)
    return np.where(firms.alive & ~firms.large, np.clip(h, 0.0, 1.0), 0.0)


def stationary_drift(firms: Firms, births_per_month: np.ndarray, params: Params) -> float:
    """Monthly log-drift of small firms' desired size that offsets expected deaths net of births."""
    small = firms.alive & ~firms.large
    total = float(firms.target[small].sum())
    if total <= 0:
        return 0.0
    loss = float((hazard(firms, params, with_hubs=False) * firms.target)[small].sum())
    gain = float(births_per_month.sum()) * params.birth_size_mean
    g = (loss - gain) / total
    return float(np.log1p(max(g, -0.5)) - 0.5 * params.firm_growth_sd**2)


def expected_contraction(firms: Firms, drift: float, params: Params) -> float:
    """Expected layoffs next month from small firms' desired size falling below their headcount.

    A firm at its desired size T with a log-normal shock loses about T * E[max(0, -(drift + sd*z))];
    firms with open posts absorb small falls first, so this slightly overstates layoffs.
    """
    small = firms.alive & ~firms.large
    sd = params.firm_growth_sd
    if sd <= 0:
        return float(firms.size[small].sum()) * max(0.0, -drift)
    # E[max(0, -(mu + sd z))] for z ~ N(0, 1), with mu = drift: sd * phi(mu/sd) - mu * (1 - Phi(mu/sd))
    from math import erf, exp, pi, sqrt

    a = drift / sd
    phi = exp(-0.5 * a * a) / sqrt(2 * pi)
    big_phi = 0.5 * (1 + erf(a / sqrt(2)))
    share = sd * phi - drift * (1 - big_phi)
    full = firms.size[small] >= np.floor(firms.target[small] + 0.5)
    return float((firms.size[small] * full).sum() * share)


def step(
    people: People,
    firms: Firms,
    params: Params,
    streams: Streams,
    month: int,
    births_per_month: np.ndarray,
    district_market: np.ndarray,
    flows: dict[str, np.ndarray],
    n_districts: int,
) -> None:
    firms.age[firms.alive] += 1
    drift = stationary_drift(firms, births_per_month, params)

    # Deaths release their workers into unemployment.
    die = streams.uniform("firm_death", month, firms.capacity) < hazard(firms, params)
    if die.any():
        employed = people.status == EMPLOYED
        leaving = employed & die[np.where(employed, people.employer, 0)]
        flows["e_to_u"] += count_by(people.district, leaving, n_districts)
        flows["firm_death_job_losses"] += count_by(people.district, leaving, n_districts)
        claim = streams.uniform("claim", month, people.n)
        release(people, firms, leaving, UNEMPLOYED, claim, params)
        flows["firm_deaths"] += count_by(firms.district, die, n_districts)
        firms.alive[die] = False
        firms.target[die] = 0.0
        firms.hub_months[die] = 0

    # Growth of survivors' desired headcount; hub-supported firms grow faster.
    small = firms.alive & ~firms.large
    z = streams.normal("firm_growth", month, firms.capacity)
    uplift = np.where(firms.hub_months > 0, np.log1p(params.hub_growth_uplift_annual) / 12, 0.0)
    firms.target = np.where(small, firms.target * np.exp(drift + params.firm_growth_sd * z + uplift), firms.target)
    firms.hub_months[firms.hub_months > 0] -= 1

    # Contractions: lay off the excess, choosing whom by a per-person random key.
    excess = np.where(firms.alive, firms.size - np.floor(firms.target + 0.5).astype(np.int64), 0)
    if (excess > 0).any():
        employed = people.status == EMPLOYED
        emp_firm = np.where(employed, people.employer, 0)
        at_risk = np.flatnonzero(employed & (excess[emp_firm] > 0))
        key = streams.uniform("layoff", month, people.n)[at_risk]
        at_risk = at_risk[np.lexsort((key, people.employer[at_risk]))]
        laid_off_rows = at_risk[rank_within_sorted_groups(people.employer[at_risk]) < excess[people.employer[at_risk]]]
        laid_off = np.zeros(people.n, dtype=bool)
        laid_off[laid_off_rows] = True
        flows["e_to_u"] += count_by(people.district, laid_off, n_districts)
        flows["layoffs"] += count_by(people.district, laid_off, n_districts)
        claim = streams.uniform("claim", month, people.n)
        release(people, firms, laid_off, UNEMPLOYED, claim, params)

    # Births into free slots (lowest first), growing the arrays if needed.
    n_births = stochastic_round(births_per_month, streams.uniform("firm_birth", month, n_districts))
    total = int(n_births.sum())
    if total:
        free = np.flatnonzero(~firms.alive)
        if free.size < total:
            firms.grow(max(total - free.size, firms.capacity // 2))
            free = np.flatnonzero(~firms.alive)
        slots = free[:total]
        born_district = np.repeat(np.arange(n_districts), n_births).astype(np.int16)
        size_z = streams.normal("firm_birth_size", month, firms.capacity)[slots]
        firms.district[slots] = born_district
        firms.market[slots] = district_market[born_district]
        firms.size[slots] = 0
        firms.target[slots] = params.birth_size_mean * np.exp(0.5 * size_z - 0.125)
        firms.age[slots] = 0
        firms.alive[slots] = True
        firms.large[slots] = False
        firms.hub_months[slots] = 0
        firms.ever_supported[slots] = False
        flows["firm_births"] += n_births


def support_firms(firms: Firms, quota: np.ndarray, params: Params, streams: Streams, month: int) -> np.ndarray:
    """Enterprise hubs take on up to quota[d] young, unsupported small firms in each district d.

    Firms are chosen by a per-firm random key, so which firms a hub picks does not depend on how
    many it picks. Returns the number taken on in each district.
    """
    n_districts = quota.shape[0]
    eligible = np.flatnonzero(firms.alive & ~firms.large & ~firms.ever_supported & (firms.age < 36))
    if eligible.size == 0 or quota.sum() == 0:
        return np.zeros(n_districts, dtype=np.int64)
    key = streams.uniform("hub_select", month, firms.capacity)[eligible]
    d = firms.district[eligible].astype(np.int64)
    order = np.lexsort((key, d))
    ranked = eligible[order]
    rank = rank_within_sorted_groups(d[order])
    chosen = ranked[rank < quota[d[order]]]
    firms.hub_months[chosen] = int(params.hub_support_months)
    firms.ever_supported[chosen] = True
    return np.bincount(firms.district[chosen], minlength=n_districts).astype(np.int64)
