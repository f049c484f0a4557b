"""Compiled passes of `matching`: listing the people out of work who search, working out their
search weights (intensity, employability, adviser support, mentoring and employer contacts),
finding which searchers' draws could make them hires, laying out firms' open posts by their keys,
and starting the hired in their new jobs.

See `shared_kernels` for what every pass keeps to (draws made as the loop goes, bit-identical to
the numpy rule it replaces; exp, power and expm1 stay in numpy).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Self

import numpy as np

from simulation import pcg64
from simulation.mechanisms.shared_kernels import (
    EMPLOYED,
    INACTIVE,
    NO_BENEFIT,
    NO_GROUP,
    UNEMPLOYED,
    fields_of,
    jit,
)


class SearcherPeople(NamedTuple):
    """The people's arrays a search weight reads besides skill and barriers (`People`'s fields of
    these names)."""

    status: np.ndarray
    months_out: np.ndarray
    employability: np.ndarray
    support_hours: np.ndarray
    mentor_months: np.ndarray
    employer_contacts: np.ndarray
    age: np.ndarray
    sanction_months: np.ndarray

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


class SearchEffects(NamedTuple):
    """How status, adviser time, mentoring, employer contacts and sanctions scale a search weight."""

    inactive_intensity: float  # search intensity of the inactive (the unemployed search fully)
    max_effect: float  # the ceiling of adviser support's effect
    mentored: float  # the multiplier while mentored after a placement
    contact_hr: float  # the hazard ratio of NEET status with school employer contacts
    sanctioned: float  # the multiplier while a benefit sanction runs (`conditionality`)


class HiredPeople(NamedTuple):
    """The people's arrays a new job writes (`People`'s fields of these names)."""

    status: np.ndarray
    months_in_status: np.ndarray
    fragile: np.ndarray
    employer: np.ndarray
    wage: np.ndarray
    benefit: np.ndarray
    group: np.ndarray
    sanction_months: np.ndarray

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


@jit
def out_of_work(status: np.ndarray) -> int:
    """How many of these rows are out of work."""
    n = 0
    for i in range(status.shape[0]):
        n += status[i] != EMPLOYED
    return n


@jit
def list_out_of_work(status: np.ndarray, first: int, rows: np.ndarray) -> None:
    """The rows out of work among these (numbered from `first`), in order, into `rows`, which
    holds exactly as many. Each row is written to the next free slot, kept only if the row is
    out of work (no branch: status is mixed row to row); rows after the last one out of work are
    not visited, so no write falls past the end (`rows` may be a slice of an array shared by
    several blocks)."""
    last = status.shape[0] - 1
    while last >= 0 and status[last] == EMPLOYED:
        last -= 1
    n = 0
    for i in range(last + 1):
        rows[n] = first + i
        n += status[i] != EMPLOYED


@jit
def search_inputs(
    rows: np.ndarray,
    skill: np.ndarray,
    barrier: np.ndarray,
    hours: np.ndarray,
    neg_log2: float,
    half_hours: float,
    sk: np.ndarray,
    omb: np.ndarray,
    y: np.ndarray,
) -> int:
    """For these rows, the arguments `matching.search_weights` takes exp, power and expm1 of:
    skill, 1 - barrier (float32, as numpy does them), and -log(2) * hours / half_hours for the
    rows with support hours, in order (returns how many). Rows without hours have a support
    multiplier of exactly 1 (expm1 of zero is zero), so they need no expm1. Outputs come from
    numpy, whose large allocations use huge pages (numba's do not, and page faults would cost
    more than the loop)."""
    one = np.float32(1.0)
    k = 0
    for j in range(rows.shape[0]):
        r = np.uint64(rows[j])  # unsigned: no wrap-around fix-up on each gather
        sk[j] = skill[r]
        omb[j] = one - barrier[r]
        h = hours[r]
        y[k] = (neg_log2 * np.float64(h)) / half_hours  # y has a spare slot: written, kept if h > 0
        k += h > 0
    return k


@jit
def search_weights(
    rows: np.ndarray,
    people: SearcherPeople,
    e_skill: np.ndarray,
    e_barrier: np.ndarray,
    e_scar: np.ndarray,
    e_support: np.ndarray,
    effects: SearchEffects,
    out: np.ndarray,
) -> None:
    """The weights `matching.search_weights` defines, from the transcendental parts numpy made
    (exp of skill, power of 1 - barrier, expm1 of support for the rows with hours, in order) and
    e_scar, numpy's exp of scarring by whole months out of work (months past the cap share its
    value; months are never negative), multiplied in the same order and precision as the numpy
    expression."""
    status, months, hours = people.status, people.months_out, people.support_hours
    persistent = people.employability
    mentor_months, contacts, age = people.mentor_months, people.employer_contacts, people.age
    inactive_intensity, max_effect = effects.inactive_intensity, effects.max_effect
    mentored, contact_hr = effects.mentored, effects.contact_hr
    sanction_months, sanctioned = people.sanction_months, effects.sanctioned
    last = e_scar.shape[0] - 1
    k = 0
    for j in range(rows.shape[0]):
        r = np.uint64(rows[j])  # unsigned: no wrap-around fix-up on each gather
        s = status[r]
        unemployed = s == UNEMPLOYED
        intensity = 1.0 if unemployed else (inactive_intensity if s == INACTIVE else 0.0)
        # Each choice reads or works out both values and selects one, without a branch: status and
        # support are mixed row to row, and branches on them mispredict. Both reads are in
        # bounds: the table is capped, and e_support has a spare slot.
        scar = e_scar[min(months[r], last)]
        employability = np.float64(e_skill[j] * e_barrier[j]) * scar * np.float64(persistent[r])
        supported = hours[r] > 0
        support_next = e_support[k]
        support = support_next if supported else 0.0
        k += supported
        mult = mentored if mentor_months[r] > 0 else 1.0
        with_contacts = mult / contact_hr
        mult = with_contacts if (contacts[r] & (age[r] < 25)) else mult
        sanction = sanctioned if sanction_months[r] > 0 else 1.0
        out[j] = intensity * employability * (1.0 + max_effect * -support) * mult * sanction


@jit
def employability(
    rows: np.ndarray,
    months_out: np.ndarray,
    persistent: np.ndarray,
    e_skill: np.ndarray,
    e_barrier: np.ndarray,
    e_scar: np.ndarray,
    out: np.ndarray,
) -> None:
    """`matching.employability` of these rows from numpy's exp of skill and power of 1 - barrier
    (float32), the scarring table (see `search_weights`) and each row's persistent employability,
    in the same order and precision."""
    last = e_scar.shape[0] - 1
    for j in range(rows.shape[0]):
        r = np.uint64(rows[j])  # unsigned: no wrap-around fix-up on each gather
        scar = e_scar[min(months_out[r], last)]
        out[j] = np.float64(e_skill[j] * e_barrier[j]) * scar * np.float64(persistent[r])


@jit
def search_candidates(
    tab: np.ndarray, rows: np.ndarray, q: np.ndarray, market: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of `rows` (increasing), those whose draw in the stream of `tab` is below
    x = q[market] * weight (a little above, for rounding), with x and the draw: a superset of
    those hired, whose chance 1 - exp(-x) is below x. Most searchers stop here, and numpy's
    expm1 (which numba's rounds differently from) is taken of the candidates' x only. Only the
    searchers' draws are made (`pcg64.seek`), not those of the employed rows between them."""
    n = rows.shape[0]
    # Every row is written and kept if a candidate: no branch. Only the first slots are touched.
    cand = np.empty(n + 1, dtype=np.int64)
    x = np.empty(n + 1, dtype=np.float64)
    draw = np.empty(n + 1, dtype=np.float64)
    hi, lo, pos = pcg64.start(tab)
    k = 0
    for j in range(n):
        hi, lo, pos = pcg64.seek(tab, hi, lo, pos, rows[j])
        uj = pcg64.uniform(hi, lo)
        xj = q[np.uint64(market[j])] * weight[j]  # unsigned: no wrap-around fix-up on the gather
        cand[k], x[k], draw[k] = rows[j], xj, uj
        k += uj < xj * 1.000001
    return cand[:k].copy(), x[:k].copy(), draw[:k].copy()


@jit
def post_keys(vac: np.ndarray, uf: np.ndarray, threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each firm j in order, those of its posts k = 0 .. vac[j] - 1 whose key
    (k + uf[j]) / vac[j] is below threshold[j]: the firm and the key of each. Keys rise with k,
    so a firm's posts stop at the first key at or above its threshold; the same expression
    decides and makes each key, so exactly the posts below the threshold are made."""
    total = 0
    for j in range(vac.shape[0]):
        v = np.float64(vac[j])
        for k in range(vac[j]):
            if (np.float64(k) + uf[j]) / v >= threshold[j]:
                break
            total += 1
    firm = np.empty(total, dtype=np.int64)
    key = np.empty(total, dtype=np.float64)
    s = 0
    for j in range(vac.shape[0]):
        v = np.float64(vac[j])
        for k in range(vac[j]):
            x = (np.float64(k) + uf[j]) / v
            if x >= threshold[j]:
                break
            firm[s] = j
            key[s] = x
            s += 1
    return firm, key


@jit
def start_jobs(rows: np.ndarray, firm_rows: np.ndarray, wages: np.ndarray, people: HiredPeople) -> None:
    """`matching.start_jobs` for these rows (distinct), but for firms' headcounts: a job at
    firm_rows[k] paying wages[k], fragile (as every job taken from out of work is), with no claim
    (and so no sanction)."""
    p = people
    for k in range(rows.shape[0]):
        i = rows[k]
        p.fragile[i] = True
        p.status[i] = EMPLOYED
        p.months_in_status[i] = 0
        p.employer[i] = firm_rows[k]
        p.wage[i] = wages[k]
        p.benefit[i] = NO_BENEFIT
        p.group[i] = NO_GROUP
        p.sanction_months[i] = 0
