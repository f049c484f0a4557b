"""Compiled passes of `separations`: people in work losing their jobs, into unemployment (with a
JSA claim if they take it up) or out of the labour force, and the jobs taken from unemployment
that are still fragile settling after their first months.

See `shared_kernels` for what every pass keeps to (draws made as the loop goes, bit-identical to
the numpy rule it replaces).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Self

import numpy as np

from simulation import pcg64
from simulation.mechanisms.shared_kernels import (
    EMPLOYED,
    INACTIVE,
    JSA,
    NO_BENEFIT,
    UNEMPLOYED,
    claim_group,
    draw_claim,
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

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


class SeparationRates(NamedTuple):
    """Monthly hazards of job loss, and the JSA take-up of those who become unemployed."""

    take_up: float
    rate_eu: float  # settled jobs, into unemployment
    early_rate: float  # fragile jobs, into unemployment
    rate_ei: float  # any job, into inactivity
    fragile_months: int  # a job taken from unemployment is fragile for this many months


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
    take_up, rate_eu, early_rate, rate_ei = rates.take_up, rates.rate_eu, rates.early_rate, rates.rate_ei
    fragile_months = rates.fragile_months
    sh, sl, sp = pcg64.start(tab_separation)
    sh, sl, sp = pcg64.seek(tab_separation, sh, sl, sp, start)
    ch, cl, cp = pcg64.start(tab_claim)
    # Above `top` no row separates whatever its hazard (float addition is monotonic).
    top = max(early_rate, rate_eu) + rate_ei
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
        hazard = early_rate if is_fragile else rate_eu
        if u >= hazard + rate_ei:  # u < hazard implies u < hazard + rate_ei (rates are not negative)
            continue
        if u < hazard:
            to = UNEMPLOYED
            e_to_u[district[i]] += 1
        else:
            to = INACTIVE
            e_to_i[district[i]] += 1
        firm_size[employer[i]] -= 1
        employer[i] = -1
        wage[i] = 0
        status[i] = to
        months[i] = 0
        work_months[i] = 0
        claims = False
        if to == UNEMPLOYED:
            claims, ch, cl, cp = draw_claim(tab_claim, ch, cl, cp, start + i, take_up)
        b = JSA if claims else NO_BENEFIT
        benefit[i] = b
        group[i] = claim_group(b, age[i])


@jit
def release(rows: np.ndarray, to_status: int, people: SeparationPeople, tab_claim: np.ndarray, take_up: float) -> None:
    """`separations.release` for these rows (increasing, all employed), but for their firms'
    headcounts (a firm's workers may be in two threads' rows)."""
    # The arrays are taken out of the tuple once: read from it in the loop, each would be counted
    # as a new reference on every row (an atomic increment and decrement around the call).
    status, months, benefit, group = people.status, people.months_in_status, people.benefit, people.group
    age, employer, wage, work_months = people.age, people.employer, people.wage, people.work_months
    ch, cl, cp = pcg64.start(tab_claim)
    for i in rows:
        employer[i] = -1
        wage[i] = 0
        status[i] = to_status
        months[i] = 0
        work_months[i] = 0
        claims = False
        if to_status == UNEMPLOYED:
            claims, ch, cl, cp = draw_claim(tab_claim, ch, cl, cp, i, take_up)
        b = JSA if claims else NO_BENEFIT
        benefit[i] = b
        group[i] = claim_group(b, age[i])
