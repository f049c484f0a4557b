"""Job losses: employed people leave work each month, into unemployment or out of the labour force.

The calibrated flow into unemployment (ONS 2013, via calibration.md s6) is the total, including
jobs lost when firms die; those workers are released by the `business` mechanism, so the hazard
applied here is the calibrated one less the expected firm-death share (`base_rate_eu`).

Jobs taken from unemployment are fragile: in their first six months they end at
`early_separation_rate` a month (PAC HC 131, 2008: 40% of JSA leavers return within six months;
calibration.md s7). This is why many job starts never become an official (six-month) job outcome.
"""

from __future__ import annotations

import numpy as np

from simulation.config import Params
from simulation.firms import Firms
from simulation.mechanisms._util import count_by
from simulation.people import (
    EMPLOYED,
    FRAGILE_MONTHS,
    INACTIVE,
    JSA,
    NO_BENEFIT,
    NO_EMPLOYER,
    UNEMPLOYED,
    People,
    set_claim,
)
from simulation.rng import Streams


def release(
    people: People, firms: Firms, leave: np.ndarray, to_status: int, claim_u: np.ndarray, params: Params
) -> None:
    """Take the people in `leave` out of their jobs into `to_status`, keeping firm headcounts true."""
    firms.size -= np.bincount(people.employer[leave], minlength=firms.capacity).astype(np.int32)
    people.employer[leave] = NO_EMPLOYER
    people.wage[leave] = 0
    people.status[leave] = to_status
    people.months_in_status[leave] = 0
    people.work_months[leave] = 0
    claims = leave & (claim_u < params.claim_take_up) if to_status == UNEMPLOYED else np.zeros_like(leave)
    set_claim(people, claims, JSA)
    set_claim(people, leave & ~claims, NO_BENEFIT)


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
    rate_eu: float,
    flows: dict[str, np.ndarray],
    n_districts: int,
) -> None:
    u = streams.uniform("separation", month, people.n)
    claim = streams.uniform("claim", month, people.n)
    employed = people.status == EMPLOYED
    people.fragile &= employed & (people.months_in_status < FRAGILE_MONTHS)
    hazard = np.where(people.fragile, params.early_separation_rate, rate_eu)
    to_u = employed & (u < hazard)
    to_i = employed & ~to_u & (u < hazard + params.sep_rate_ei)
    flows["e_to_u"] += count_by(people.district, to_u, n_districts)
    flows["e_to_i"] += count_by(people.district, to_i, n_districts)
    release(people, firms, to_u, UNEMPLOYED, claim, params)
    release(people, firms, to_i, INACTIVE, claim, params)
