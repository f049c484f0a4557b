"""Job losses: employed people leave work each month, into unemployment or out of the labour force.

The calibrated flow into unemployment (ONS 2013, via calibration.md s6) is the total, including
jobs lost when firms die; those workers are released by the `business` mechanism, so the hazard
applied here is the calibrated one less the expected firm-death share (`base_rate_eu`).

Jobs taken from out of work are fragile: in their first six months they end at
`early_separation_rate` a month (PAC HC 131, 2008: 40% of JSA leavers return within six months).
The rule is the same whatever state the spell out of work was in, so a job taken from inactivity
or from ESA is as fragile as one taken from JSA; only displaced workers who move straight to
another job (`business`) start settled. This is why many job starts never become an official
(six-month) job outcome.

People who have claimed ESA (`health_condition`) and lose a job go back onto ESA at
`esa_return_share`, out of the labour force; the rest of them, like everyone else, claim JSA if
they become unemployed and take it up (`claim_propensity`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation import parallel
from simulation.declare import Column, Mechanism, Output, probability
from simulation.firms import Firms
from simulation.mechanisms import separations_kernels, shared_kernels
from simulation.mechanisms.world import World
from simulation.people import FRAGILE_MONTHS, People
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Params


def release(
    people: People, firms: Firms, leave: np.ndarray, to_status: int, streams: Streams, month: int, params: Params
) -> None:
    """Take the people in `leave` (a mask or increasing rows, all employed) out of their jobs into
    `to_status`, keeping firm headcounts true. Those who become unemployed claim JSA if their draw
    in this month's claim stream is below the take-up rate; everyone else claims nothing."""
    rows = np.flatnonzero(leave) if leave.dtype == bool else np.asarray(leave, dtype=np.int64)
    shared_kernels.add_at(firms.size, people.employer[rows], -1)
    tab = streams.table("claim", month)
    leavers = separations_kernels.SeparationPeople.of(people)

    # A row's work reads and writes only that row (its claim draw is its own slot of the stream),
    # so blocks of rows run on threads. The rows are scattered: each costs cache misses, not
    # arithmetic, and two threads wait on twice as many at once.
    def block(lo: int, hi: int) -> None:
        a, b = np.searchsorted(rows, (lo, hi))
        separations_kernels.release(rows[a:b], to_status, leavers, tab, float(params.esa_return_share))

    parallel.map_blocks(block, people.n)


def base_rate_eu(other_flows_rate: float, params: Params) -> float:
    """The separation hazard into unemployment of settled jobs: the calibrated total less the
    expected flows from displacement and from fragile new jobs (as shares of employment)."""
    return max(0.0, params.sep_rate_eu - other_flows_rate)


def step(
    people: People,
    firms: Firms,
    params: Params,
    streams: Streams,
    month: int,
    rate_eu: np.ndarray | float,
    flows: dict[str, np.ndarray],
    n_districts: int,
    separation_index: float = 1.0,
) -> None:
    # One fused pass (`separations_kernels.separations`): a new job stays
    # fragile for its first FRAGILE_MONTHS months and ends at early_separation_rate; settled jobs at
    # rate_eu (to unemployment) or sep_rate_ei (to inactivity), on one uniform per row.
    tab_separation, tab_claim = streams.table("separation", month), streams.table("claim", month)
    # One rate for every district (a number) or each district's own (`district_rates_eu`).
    by_district = np.broadcast_to(np.asarray(rate_eu, dtype=np.float64), (n_districts,)).copy()
    workers = separations_kernels.SeparationPeople.of(people)
    rates = separations_kernels.SeparationRates(
        esa_return=float(params.esa_return_share),
        # The scenario's separations index (`demand`) scales every job's hazard into unemployment,
        # settled and fragile (x 1.0 is exact: a steady economy moves nothing).
        rate_eu=by_district * separation_index if separation_index != 1.0 else by_district,
        early_rate=float(params.early_separation_rate) * separation_index,
        rate_ei=float(params.sep_rate_ei),
        fragile_months=FRAGILE_MONTHS,
    )

    def block(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray | None]:
        # Blocks may share firms (people work across district lines), so only the first block
        # changes firm sizes in place; the others count their leavers per firm, added after.
        counts = np.zeros((2, n_districts), dtype=np.int64)  # this block's e_to_u, e_to_i
        size = firms.size if lo == 0 else np.zeros_like(firms.size)
        separations_kernels.separations(lo, hi - lo, tab_separation, tab_claim, workers, rates, size, *counts)
        return counts, None if lo == 0 else size

    for counts, size_change in parallel.map_blocks(block, people.n):
        flows["e_to_u"] += counts[0]
        flows["e_to_i"] += counts[1]
        if size_change is not None:
            firms.size += size_change


def run(w: World) -> None:
    """Jobs end: quits and dismissals into unemployment or inactivity."""
    step(w.people, w.firms, w.params, w.streams, w.month, w.rate_eu, w.flows, w.n_districts, w.separation_index)


# ---- what this mechanism owns (`simulation.declare`)

MECHANISM = Mechanism(
    name="separations",
    doc=__doc__ or "",
    parameters={
        "sep_rate_eu": probability(),
        "sep_rate_ei": probability(),
        "displaced_to_unemployment": probability(),
        "early_separation_rate": probability(),
        "esa_return_share": probability(),
    },
    person_fields=(Column("fragile", "bool", "in a job started less than FRAGILE_MONTHS ago"),),
    flows=(
        Output("e_to_u", "people leaving work for unemployment (including those displaced by firms)"),
        Output("e_to_i", "people leaving work for inactivity"),
    ),
)
