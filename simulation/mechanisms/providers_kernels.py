"""Compiled passes of `providers`: finding the claimants and the people attached to their own
provider, a month of each participant's programme (attachment ending, months in work, job
outcomes and sustainment payments), eligibility and referral, the participants out of work with
the inputs of their adviser time, the water-filling of each provider's hours, and Jobcentre Plus
time for claimants.

See `shared_kernels` for what every pass keeps to (bit-identical to the numpy rule it replaces).
Claimants and participants are a few per cent of rows, scattered over the population's arrays:
these passes read and write each row's fields together, where numpy expressions would cost a
cache miss per field per row.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Self

import numpy as np

from simulation.mechanisms.shared_kernels import (
    EMPLOYED,
    ESA_NEW,
    ESA_VOLUNTEER,
    JSA_18_24,
    JSA_25_PLUS,
    JSA_EARLY_ACCESS,
    NO_BENEFIT,
    NO_PROGRAMME,
    NOT_ELIGIBLE,
    UNEMPLOYED,
    fields_of,
    jit,
)


class ProgrammePeople(NamedTuple):
    """The people's arrays a provider's month reads and writes (`People`'s fields of these names)."""

    status: np.ndarray
    months_out: np.ndarray
    barrier: np.ndarray
    group: np.ndarray
    programme: np.ndarray
    months_in_programme: np.ndarray
    work_months: np.ndarray
    outcome_paid: np.ndarray
    sustain_paid: np.ndarray
    ever_referred: np.ndarray
    eligible_month: np.ndarray
    eligible_group: np.ndarray

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


@jit
def jcp_hours(status: np.ndarray, benefit: np.ndarray, hours: float, out: np.ndarray) -> None:
    """out[i] = Jobcentre Plus hours for unemployed claimants, else 0 (as float32)."""
    h = np.float32(hours)
    for i in range(status.shape[0]):
        out[i] = h if (status[i] == UNEMPLOYED and benefit[i] != NO_BENEFIT) else np.float32(0.0)


@jit
def attached_and_claimants(
    programme: np.ndarray, owner: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows attached to their own provider (programme == owner), and rows with a claimant group.
    Counted first, so nothing the size of the population is allocated."""
    n = programme.shape[0]
    a = 0
    c = 0
    for i in range(n):
        a += programme[i] == owner[i]
        c += group[i] > 0
    # One spare slot each: every row is written and kept only if it qualifies (claimants are
    # mixed row to row, so a branch on them would mispredict).
    attached = np.empty(a + 1, dtype=np.int64)
    claimants = np.empty(c + 1, dtype=np.int64)
    a = 0
    c = 0
    for i in range(n):
        attached[a] = i
        a += programme[i] == owner[i]
        claimants[c] = i
        c += group[i] > 0
    return attached[:a], claimants[:c]


@jit
def attached(programme: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Rows attached to their own provider (programme == owner): `attached_and_claimants`'s first
    list, for a caller that has the claimants already."""
    a = 0
    for i in range(programme.shape[0]):
        a += programme[i] == owner[i]
    out = np.empty(a + 1, dtype=np.int64)  # one spare slot: every row is written, kept if attached
    a = 0
    for i in range(programme.shape[0]):
        out[a] = i
        a += programme[i] == owner[i]
    return out[:a]


@jit
def programme_month(
    attached: np.ndarray,
    people: ProgrammePeople,
    owner: np.ndarray,
    served: np.ndarray,
    programme_months: int,
    outcome_months: np.ndarray,
    sustainment_payments: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`providers.step_all`'s first stage for the rows in `attached` (in order; those no longer
    attached to their own, served provider are passed over): a month more in the programme,
    leaving it after programme_months; for those staying, a month more in work or the count reset,
    a job outcome once work has lasted the payment group's outcome_months, then sustainment
    payments up to the group's number. Returns the rows staying, those with an outcome this month
    and those with a sustainment payment, each in row order. Comparisons read back the stored
    (int16) counts, as numpy's `+= 1` then compare does."""
    programme, months_in_programme, status = people.programme, people.months_in_programme, people.status
    work_months, eligible_group = people.work_months, people.eligible_group
    outcome_paid, sustain_paid = people.outcome_paid, people.sustain_paid
    n = attached.shape[0]
    att = np.empty(n, dtype=np.int64)
    outcomes = np.empty(n, dtype=np.int64)
    sustained = np.empty(n, dtype=np.int64)
    na = no = ns = 0
    for j in range(n):
        r = attached[j]
        o = owner[r]
        if programme[r] != o or not served[o]:
            continue
        months_in_programme[r] += 1
        if months_in_programme[r] > programme_months:
            programme[r] = NO_PROGRAMME
            continue
        att[na] = r
        na += 1
        if status[r] != EMPLOYED:
            work_months[r] = 0
            continue
        work_months[r] += 1
        g = eligible_group[r]
        wm = work_months[r]
        if not outcome_paid[r] and wm >= outcome_months[g]:
            outcome_paid[r] = True
            outcomes[no] = r
            no += 1
        elif outcome_paid[r] and wm > outcome_months[g] and sustain_paid[r] < sustainment_payments[g]:
            sustain_paid[r] += 1
            sustained[ns] = r
            ns += 1
    return att[:na], outcomes[:no], sustained[:ns]


@jit
def referrals(
    claimants: np.ndarray,
    people: ProgrammePeople,
    owner: np.ndarray,
    served: np.ndarray,
    month: int,
    referral_month: np.ndarray,
    referral_share: np.ndarray,
    u_referral: np.ndarray,
    early_barrier: float,
) -> np.ndarray:
    """`providers.step_all`'s referrals among the rows in `claimants` (in order; those whose
    provider is not served are passed over): a claimant out of work for their group's
    referral_month becomes eligible once, with that group, and is referred to their own provider
    if never referred before and their fixed draw u_referral is below the group's share. Two
    payment groups come from referral alone: a JSA claimant with barriers of early_barrier or
    more, never referred, whose draw is below the early-access share, is referred (and eligible)
    as JSA early access from that group's referral month; a new ESA claimant not referred at
    their point whose draw is below the ESA-new share plus the volunteer share volunteers, in the
    ESA volunteer group. Returns the referred rows in order, their programme records started
    afresh."""
    p = people
    out = np.empty(claimants.shape[0], dtype=np.int64)
    k = 0
    for j in range(claimants.shape[0]):
        r = claimants[j]
        o = owner[r]
        if not served[o] or p.eligible_month[r] != NOT_ELIGIBLE or p.status[r] == EMPLOYED:
            continue
        g = p.group[r]
        u = u_referral[r]
        early = (
            ((g == JSA_18_24) | (g == JSA_25_PLUS))
            and p.barrier[r] >= early_barrier
            and p.months_out[r] >= referral_month[JSA_EARLY_ACCESS]
            and not p.ever_referred[r]
            and u < referral_share[JSA_EARLY_ACCESS]
        )
        if early:
            g = JSA_EARLY_ACCESS
        elif not p.months_out[r] >= referral_month[g]:
            continue
        referred = not p.ever_referred[r] and u < referral_share[g]
        volunteers = u < referral_share[ESA_NEW] + referral_share[ESA_VOLUNTEER]
        if g == ESA_NEW and not referred and not p.ever_referred[r] and volunteers:
            g = ESA_VOLUNTEER
            referred = True
        p.eligible_month[r] = month
        p.eligible_group[r] = g
        if not referred:
            continue
        p.programme[r] = o
        p.ever_referred[r] = True
        p.months_in_programme[r] = 0
        p.work_months[r] = 0
        p.outcome_paid[r] = False
        p.sustain_paid[r] = 0
        out[k] = r
        k += 1
    return out[:k]


@jit
def participants_seeking(
    att: np.ndarray,
    owner: np.ndarray,
    position: np.ndarray,
    eligible_group: np.ndarray,
    status: np.ndarray,
    skill: np.ndarray,
    barrier: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For participants `att` (rows): each one's provider (its position) and payment group; then
    those out of work, as rows, with their provider, payment group, status, skill and 1 - barrier
    (float32, as numpy works it out) and barrier. Each row's fields are read once, together: the
    rows are scattered, so each read costs a cache miss."""
    n = att.shape[0]
    block = np.empty(n, dtype=np.int64)
    group = np.empty(n, dtype=np.int8)
    rows = np.empty(n, dtype=np.int64)
    s_block = np.empty(n, dtype=np.int64)
    s_group = np.empty(n, dtype=np.int8)
    s_status = np.empty(n, dtype=np.int8)
    s_skill = np.empty(n, dtype=np.float32)
    s_omb = np.empty(n, dtype=np.float32)
    s_barrier = np.empty(n, dtype=np.float32)
    one = np.float32(1.0)
    k = 0
    for j in range(n):
        r = att[j]
        b = position[owner[r]]
        g = eligible_group[r]
        block[j] = b
        group[j] = g
        s = status[r]
        if s == EMPLOYED:
            continue
        rows[k] = r
        s_block[k] = b
        s_group[k] = g
        s_status[k] = s
        s_skill[k] = skill[r]
        s_omb[k] = one - barrier[r]
        s_barrier[k] = barrier[r]
        k += 1
    return block, group, rows[:k], s_block[:k], s_group[:k], s_status[:k], s_skill[:k], s_omb[:k], s_barrier[:k]


@jit
def water_fill_groups(
    value: np.ndarray,
    levels: np.ndarray,
    order: np.ndarray,
    cuts: np.ndarray,
    neg_sorted: np.ndarray,
    totals: np.ndarray,
    half_hours: float,
    out: np.ndarray,
) -> None:
    """`providers.allocate_hours` by "expected_payment" for each provider k at once: its people
    are order[cuts[k]:cuts[k + 1]], its budget totals[k] hours; value = fee * hazard and levels =
    numpy's log2 of it (floored), as that function takes them, and neg_sorted[cuts[k]:cuts[k + 1]]
    the provider's -levels sorted (by numpy, whose sort is the faster). Writes out[i], the hours
    of person i."""
    for k in range(cuts.shape[0] - 1):
        s, e = cuts[k], cuts[k + 1]
        m = e - s
        if m == 0:
            continue
        total = totals[k]
        if total <= 0:
            for t in range(s, e):
                out[order[t]] = 0.0
            continue
        positive = False
        for t in range(s, e):
            positive |= value[order[t]] > 0
        if not positive:  # equal shares, as allocate_hours: total * 1 / (a sum of m ones)
            for t in range(s, e):
                out[order[t]] = total * 1.0 / np.float64(m)
            continue
        # water_fill: the values in descending order, their running sums, and the last k whose
        # level (sum of the top k less the budget, over k) lies below its own k-th value.
        budget = total / half_hours
        cum, chosen = 0.0, 0.0
        for j in range(m):
            top = -neg_sorted[s + j]
            cum += top
            level = (cum - budget) / np.float64(j + 1)
            if j == 0 or level < top:
                chosen = level
        for t in range(s, e):
            x = levels[order[t]] - chosen
            out[order[t]] = (x if x >= 0.0 else 0.0) * half_hours


@jit
def scatter_float32(rows: np.ndarray, values: np.ndarray, out: np.ndarray) -> None:
    """out[rows] = values, as float32 (numpy's rounding of float64 to float32 is the same)."""
    for j in range(rows.shape[0]):
        out[rows[j]] = np.float32(values[j])
