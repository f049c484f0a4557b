"""Compiled passes of `participation`: people out of work leaving and starting the search for work
(and the JSA claims that go with it), falling ill onto ESA, ageing a year on their birthday, a
school leaver taking a retiree's slot, and everyone's months in their status going up by one.

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
    NO_GROUP,
    NO_PROGRAMME,
    NOT_ELIGIBLE,
    UNEMPLOYED,
    claim_group,
    draw_claim,
    fields_of,
    jit,
)

PARTICIPATION_CHUNK = 4096  # rows whose people out of work `participation` lists at a time (kept in cache)


class ParticipationPeople(NamedTuple):
    """The people's arrays `participation` reads and writes (`People`'s fields of these names)."""

    status: np.ndarray
    months_in_status: np.ndarray
    benefit: np.ndarray
    group: np.ndarray
    age: np.ndarray
    district: np.ndarray
    claim_propensity: np.ndarray
    health_condition: np.ndarray

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


class ParticipationRates(NamedTuple):
    """Monthly chances by district: leaving the search, starting it and falling ill onto ESA (a
    JSA claim on starting to search is each person's own `claim_propensity`)."""

    exit_rate_ui: np.ndarray  # float64 by district
    entry_rate: np.ndarray  # float64 by district
    esa_onflow: np.ndarray  # float64 by district


class ParticipationFlows(NamedTuple):
    """Counts by district that `participation` adds to (int64)."""

    u_to_i: np.ndarray
    i_to_u: np.ndarray
    esa_onflows: np.ndarray


class SchoolLeaverPeople(NamedTuple):
    """The people's arrays a school leaver's slot is reset in (`People`'s fields of these names)."""

    district: np.ndarray
    status: np.ndarray
    employer: np.ndarray
    age: np.ndarray
    months_in_status: np.ndarray
    months_out: np.ndarray
    health_condition: np.ndarray
    wage: np.ndarray
    benefit: np.ndarray
    group: np.ndarray
    placement_months: np.ndarray
    mentor_months: np.ndarray
    programme: np.ndarray
    months_in_programme: np.ndarray
    work_months: np.ndarray
    outcome_paid: np.ndarray
    sustain_paid: np.ndarray
    ever_referred: np.ndarray
    eligible_month: np.ndarray
    eligible_group: np.ndarray
    cohort_work: np.ndarray
    outcome_month: np.ndarray
    sanction_months: np.ndarray

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


@jit
def participation(
    start: int,
    n: int,
    tab_participation: np.ndarray,
    tab_ill: np.ndarray,
    tab_claim: np.ndarray,
    people: ParticipationPeople,
    rates: ParticipationRates,
    flows: ParticipationFlows,
) -> np.ndarray:
    """`participation.step` for rows start .. start + n: leaving and starting search, claims, ill
    health. Adds to the flow counts by district; returns the rows falling ill. Each row out of
    work reads its own draws of the participation and ill-health streams, and of the claim stream
    only if it starts to search without a benefit; employed rows draw nothing."""
    # Views from row `start`, indexed by the loop counter: an index known not to be negative
    # spares numba's negative-index fix-up on every access.
    status, months = people.status[start : start + n], people.months_in_status[start : start + n]
    benefit, group = people.benefit[start : start + n], people.group[start : start + n]
    age, district = people.age[start : start + n], people.district[start : start + n]
    propensity, health = people.claim_propensity[start : start + n], people.health_condition[start : start + n]
    exit_rate_ui = rates.exit_rate_ui
    entry_rate, esa_onflow = rates.entry_rate, rates.esa_onflow
    u_to_i, i_to_u, esa_onflows = flows.u_to_i, flows.i_to_u, flows.esa_onflows
    ph, pl, pp = pcg64.start(tab_participation)
    ih, il, ip = pcg64.start(tab_ill)
    ch, cl, cp = pcg64.start(tab_claim)
    ill = np.empty(n, dtype=np.int64)  # only the first slots are touched
    k = 0
    # Only people out of work (about a quarter) can move here, so only their draws are made: each
    # chunk of rows first lists them (every row written, kept if out of work: no branch on status,
    # which is mixed row to row and would mispredict), then each listed row jumps the streams to
    # its own draws (`pcg64.seek`) rather than stepping both streams through every row.
    out_of_work = np.empty(PARTICIPATION_CHUNK, dtype=np.int64)
    for c0 in range(0, n, PARTICIPATION_CHUNK):
        m = 0
        for i in range(c0, min(c0 + PARTICIPATION_CHUNK, n)):
            out_of_work[m] = i
            m += status[i] != EMPLOYED
        for j in range(m):
            i = out_of_work[j]
            ph, pl, pp = pcg64.seek(tab_participation, ph, pl, pp, start + i)
            ih, il, ip = pcg64.seek(tab_ill, ih, il, ip, start + i)
            u, u_ill = pcg64.uniform(ph, pl), pcg64.uniform(ih, il)
            d = np.uint64(district[i])
            s = status[i]
            # Tests combined with &, not `and`: status is mixed row to row, so branching on it would
            # mispredict; the combined tests are rarely true, so their branches predict well.
            to_i = (s == UNEMPLOYED) & (u < exit_rate_ui[d])
            to_u = (s == INACTIVE) & (u < entry_rate[d])
            if to_i:
                status[i] = INACTIVE
                months[i] = 0
                u_to_i[d] += 1
                if benefit[i] == JSA:
                    benefit[i] = NO_BENEFIT
                    group[i] = claim_group(NO_BENEFIT, age[i])
            elif to_u:
                status[i] = UNEMPLOYED
                months[i] = 0
                i_to_u[d] += 1
                if benefit[i] == NO_BENEFIT:
                    claims, ch, cl, cp = draw_claim(tab_claim, ch, cl, cp, start + i, propensity[i])
                    if claims:
                        benefit[i] = JSA
                        group[i] = claim_group(JSA, age[i])
            # Ill health: people out of work start an ESA claim and leave the search.
            if (benefit[i] != ESA) & (u_ill < esa_onflow[d]):
                if status[i] == UNEMPLOYED:
                    status[i] = INACTIVE
                    u_to_i[d] += 1
                months[i] = 0
                benefit[i] = ESA
                group[i] = claim_group(ESA, age[i])
                health[i] = True
                esa_onflows[d] += 1
                ill[k] = start + i
                k += 1
    return ill[:k].copy()


@jit
def birthdays(age: np.ndarray, rows: np.ndarray, retire_at: int) -> np.ndarray:
    """Age these rows a year; return the positions in `rows` of those reaching retire_at. (One
    pass: numpy's `age[rows] += 1` then `age[rows] >= retire_at` gathers twice and scatters once.)"""
    k = 0
    for j in range(rows.shape[0]):
        a = age[rows[j]] + 1
        age[rows[j]] = a
        k += a >= retire_at
    out = np.empty(k, dtype=np.int64)
    k = 0
    for j in range(rows.shape[0]):
        if age[rows[j]] >= retire_at:
            out[k] = j
            k += 1
    return out


@jit
def school_leavers(
    rows: np.ndarray, people: SchoolLeaverPeople, retirements: np.ndarray, firm_size: np.ndarray
) -> None:
    """`participation.age`'s retirements, but for the drawn traits: each row in `rows` (distinct)
    is counted by district in `retirements`, leaves its job (its firm's headcount falls) and
    becomes a 16-year-old school leaver: inactive, claiming nothing, with no placement, mentor,
    programme or sanction record. A row's fields are written together: the rows are scattered, so numpy's
    field-by-field writes cost a cache miss per field per row."""
    p = people
    for j in range(rows.shape[0]):
        r = rows[j]
        retirements[p.district[r]] += 1
        if p.status[r] == EMPLOYED:
            firm_size[p.employer[r]] -= 1
        p.age[r] = 16
        p.status[r] = INACTIVE
        p.months_in_status[r] = 0
        p.months_out[r] = 0
        p.health_condition[r] = False
        p.employer[r] = -1
        p.wage[r] = 0.0
        p.benefit[r] = NO_BENEFIT
        p.group[r] = NO_GROUP
        p.placement_months[r] = 0
        p.mentor_months[r] = 0
        p.programme[r] = NO_PROGRAMME
        p.months_in_programme[r] = 0
        p.work_months[r] = 0
        p.outcome_paid[r] = False
        p.sustain_paid[r] = 0
        p.ever_referred[r] = False
        p.eligible_month[r] = NOT_ELIGIBLE
        p.eligible_group[r] = NO_GROUP
        p.cohort_work[r] = 0
        p.outcome_month[r] = NOT_ELIGIBLE
        p.sanction_months[r] = 0


@jit
def count_months(
    status: np.ndarray, benefit: np.ndarray, months: np.ndarray, months_out: np.ndarray, cap: int, link: int
) -> None:
    """One more month in the current status (up to cap), and in the spell out of work, linked as
    DWP links claims: a month unemployed or claiming adds to the spell; inactivity off benefit
    holds it for `link` months and then ends it; a job ends it once it has lasted more than `link`
    months (a job that ends sooner leaves the spell to go on). Every row's values are worked out
    and selected without a branch (status is mixed row to row, and branches on it mispredict:
    seven times slower over England's rows) and both months are stored on every row."""
    for i in range(months.shape[0]):
        m = months[i]
        m += m < cap
        months[i] = m
        s = status[i]
        held = (s == EMPLOYED) | ((s == INACTIVE) & (benefit[i] == NO_BENEFIT))
        mo = months_out[i]
        grown = mo + (mo < cap)
        kept = 0 if m > link else mo
        months_out[i] = kept if held else grown
