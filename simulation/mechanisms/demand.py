"""Labour demand that moves with the economy and with how easily firms can hire.

Each month every firm's desired headcount, and the rate at which firms are born, is its place's
level (the firm's own potential, age path and luck, `business`) times a factor for its
travel-to-work market:

    g_m(t) = d(t) x (fbar_m(t) / fbar_m*)^eta

- d(t) is the macroeconomic scenario's demand index (`simulation.economy`; 1.0 in a steady
  economy): employers' desired headcount per head relative to the economy the place was built in,
  from the ONS employment and vacancy series (docs/evidence/macro_scenarios.md);
- fbar_m is the market's vacancy fill rate (hires over open posts, `matching`) averaged over about
  half a year (an exponential average, weight 1 / DEMAND_SMOOTHING_MONTHS), and fbar_m* its value
  at the end of the burn-in (no programme, steady economy: the same in every arm);
- eta, `demand_elasticity`, is how far employers' demand for labour rises when hiring gets
  easier and cheaper. A vacancy costs c / q to fill (Pissarides 2000): a higher fill rate q
  lowers the cost of a hire, and free entry of vacancies adds posts until the cost is back up.
  eta = 0 is fixed demand (today's model: a searcher made more effective takes a post another
  would have filled, pure displacement, Crepon et al. 2013); eta large pins the fill rate at
  its reference, the free-entry limit, so that support which makes searchers more effective
  raises employment by as much as the matching function lets it.

The same month's separations are scaled by the scenario's separations index (`separations`).
Nothing here draws random numbers: the factors are the same functions of the market's state in
every arm, so common random numbers hold.
"""

from __future__ import annotations

import numpy as np

from simulation import detmath as dm
from simulation.declare import Mechanism, between
from simulation.mechanisms._util import running_average
from simulation.mechanisms.world import World

DEMAND_SMOOTHING_MONTHS = 6.0  # employers judge hiring conditions over about half a year (assumption)
FACTOR_RANGE = (0.5, 2.0)  # a market's demand never halves or doubles within a run from hiring conditions


def tightness_response(fill_avg: np.ndarray, fill_ref: np.ndarray, eta: float) -> np.ndarray:
    """(fbar / fbar*)^eta by market, within FACTOR_RANGE; 1 where a market had no vacancies."""
    ok = (fill_ref > 0) & (fill_avg > 0)
    ratio = np.where(ok, fill_avg / np.where(ok, fill_ref, 1.0), 1.0)
    return np.clip(dm.np_power(ratio, eta), *FACTOR_RANGE)


def run(w: World) -> None:
    """The economy this month: the scenario's demand and separations indices, and each market's
    demand factor (the demand index times the response to how easily firms hire)."""
    d, s = w.economy.at(w.month)
    w.separation_index = s
    eta = w.params.demand_elasticity
    if eta == 0.0 or w.fill_ref is None:
        w.demand_factor = np.full(w.fill_avg.shape[0], d)
    else:
        # Employers move part of the way each month (partial adjustment over the smoothing
        # months): a market's vacancies are a small residual of its desired headcount (about 1%
        # of it once the place is built in its steady state), so a full move at once swung the
        # fill rate and the factor back and forth with growing amplitude (session 16).
        step = (tightness_response(w.fill_avg, w.fill_ref, eta) - w.demand_response) / DEMAND_SMOOTHING_MONTHS
        w.demand_response = w.demand_response + step
        w.demand_factor = d * w.demand_response


def update_fill(w: World, fill: np.ndarray) -> None:
    """Fold this month's fill rates by market into their half-year average (after matching)."""
    w.fill_avg = running_average(w.fill_avg, fill, w.fill_seen, DEMAND_SMOOTHING_MONTHS)
    w.fill_seen = True


MECHANISM = Mechanism(
    name="demand",
    doc=__doc__ or "",
    parameters={"demand_elasticity": between(0.0, 20.0)},
)
