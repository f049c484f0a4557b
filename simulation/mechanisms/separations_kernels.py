"""Compiled passes of `separations`: people in work losing their jobs, into unemployment (with a
JSA claim if they take it up) or out of the labour force (back onto ESA, for some of those who
have claimed it before), and new jobs that are still fragile settling after their first months.

See `shared_kernels` for what every pass keeps to (draws made as the loop goes, bit-identical to
the numpy rule it replaces).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Self

import numpy as np

from simulation import pcg64
from simulation.mechanisms.shared_kernels import (
    EMPLOYED,
    ESA,
    INACTIVE,
    JSA,
    NO_BENEFIT,
    UNEMPLOYED,
    claim_group,
    fields_of,
    jit,
)


class SeparationPeople(NamedTuple):
    """The people's arrays a job loss reads and writes (`People`'s fields of these names)."""

    status: np.ndarray
    months_in_status: np.ndarray
    fragile: np.ndarray
    benefit: np.ndarray
    group: np.ndarray
    age: np.ndarray
    district: np.ndarray
    employer: np.ndarray
    wage: np.ndarray
    work_months: np.ndarray
    claim_propensity: np.ndarray
    health_condition: np.ndarray

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


class SeparationRates(NamedTuple):
    """Monthly hazards of job loss, and the share of those with a health condition who go back
    onto ESA when a job ends (the JSA take-up of the rest is each person's own)."""

    esa_return: float
    rate_eu: np.ndarray  # settled jobs, into unemployment, by district
    early_rate: float  # fragile jobs, into unemployment
    rate_ei: float  # any job, into inactivity
    fragile_months: int  # a new job is fragile for this many months


@jit
def claim_after_job(
    tab: np.ndarray,
    hi: np.uint64,
    lo: np.uint64,
    pos: np.uint64,
    row: int,
    to: int,
    health: bool,
    propensity: float,
    esa_return: float,
) -> tuple:
    """The status and claim of someone whose job has just ended towards `to`: with a health
    condition, back onto ESA (out of the labour force) if their claim draw is below esa_return;
    otherwise, if unemployed, JSA if the draw is below their take-up (for those with a health
    condition, on the part of the draw above esa_return: the draw is used once). Returns (status,
    benefit, hi, lo, pos); the claim stream is read only by those who may claim."""
    if not (health or to == UNEMPLOYED):
        return to, NO_BENEFIT, hi, lo, pos
    hi, lo, pos = pcg64.seek(tab, hi, lo, pos, row)
    u = pcg64.uniform(hi, lo)
    if health:
        if u < esa_return:
            return INACTIVE, ESA, hi, lo, pos
        claims = u < esa_return + (1.0 - esa_return) * propensity
    else:
        claims = u < propensity
    return to, (JSA if (claims and to == UNEMPLOYED) else NO_BENEFIT), hi, lo, pos


@jit
def separations(
    start: int,
    n: int,
    tab_separation: np.ndarray,
    tab_claim: np.ndarray,
    people: SeparationPeople,
    rates: SeparationRates,
    firm_size: np.ndarray,
    e_to_u: np.ndarray,
    e_to_i: np.ndarray,
) -> None:
    """`separations.step` for rows start .. start + n: job loss into unemployment or inactivity,
    as `release` does it; e_to_u and e_to_i are counts by district to add to. Each row reads its
    own draw of the separation stream (stepped row by row), and of the claim stream only if it
    loses its job into unemployment."""
    # Views from row `start` (see `participation_kernels.participation`).
    p = people
    status, months = p.status[start : start + n], p.months_in_status[start : start + n]
    fragile = p.fragile[start : start + n]
    benefit, group, age = p.benefit[start : start + n], p.group[start : start + n], p.age[start : start + n]
    district, employer, wage = p.district[start : start + n], p.employer[start : start + n], p.wage[start : start + n]
    work_months = p.work_months[start : start + n]
    propensity, health = p.claim_propensity[start : start + n], p.health_condition[start : start + n]
    esa_return, rate_eu, early_rate, rate_ei = rates.esa_return, rates.rate_eu, rates.early_rate, rates.rate_ei
    fragile_months = rates.fragile_months
    sh, sl, sp = pcg64.start(tab_separation)
    sh, sl, sp = pcg64.seek(tab_separation, sh, sl, sp, start)
    ch, cl, cp = pcg64.start(tab_claim)
    # Above `top` no row separates whatever its hazard (float addition is monotonic).
    top = max(early_rate, rate_eu.max()) + rate_ei
    for i in range(n):
        u = pcg64.uniform(sh, sl)
        sh, sl = pcg64.step(tab_separation, sh, sl)  # on to the next row's draw
        employed = status[i] == EMPLOYED
        # A job stops being fragile when it ends or settles. Written only then: a store on every
        # row would make the loop wait on memory. Each test is rarely true, so its branch predicts
        # well (a branch on status alone, mixed row to row, would mispredict).
        is_fragile = fragile[i]
        if is_fragile & ((not employed) | (months[i] >= fragile_months)):
            fragile[i] = is_fragile = False
        if not (employed & (u < top)):
            continue
        hazard = early_rate if is_fragile else rate_eu[district[i]]
        if u >= hazard + rate_ei:  # u < hazard implies u < hazard + rate_ei (rates are not negative)
            continue
        towards = UNEMPLOYED if u < hazard else INACTIVE
        to, b, ch, cl, cp = claim_after_job(
            tab_claim, ch, cl, cp, start + i, towards, health[i], propensity[i], esa_return
        )
        if to == UNEMPLOYED:
            e_to_u[district[i]] += 1
        else:
            e_to_i[district[i]] += 1
        firm_size[employer[i]] -= 1
        employer[i] = -1
        wage[i] = 0
        status[i] = to
        months[i] = 0
        work_months[i] = 0
        benefit[i] = b
        group[i] = claim_group(b, age[i])


@jit
def release(
    rows: np.ndarray, to_status: int, people: SeparationPeople, tab_claim: np.ndarray, esa_return: float
) -> None:
    """`separations.release` for these rows (increasing, all employed), but for their firms'
    headcounts (a firm's workers may be in two threads' rows)."""
    # The arrays are taken out of the tuple once: read from it in the loop, each would be counted
    # as a new reference on every row (an atomic increment and decrement around the call).
    status, months, benefit, group = people.status, people.months_in_status, people.benefit, people.group
    age, employer, wage, work_months = people.age, people.employer, people.wage, people.work_months
    propensity, health = people.claim_propensity, people.health_condition
    ch, cl, cp = pcg64.start(tab_claim)
    for i in rows:
        to, b, ch, cl, cp = claim_after_job(tab_claim, ch, cl, cp, i, to_status, health[i], propensity[i], esa_return)
        employer[i] = -1
        wage[i] = 0
        status[i] = to
        months[i] = 0
        work_months[i] = 0
        benefit[i] = b
        group[i] = claim_group(b, age[i])
