"""Compiled pass of `outcomes`: claimants entering the official cohort in the month they first
become eligible for referral, and the common cohort in the first month their spell out of work
reaches the common entry point (and whether they were referred), and those in a cohort counting
continuous months in work until they reach an official job outcome (and, in the common cohort,
until they have been six months in work, whatever their group).

See `mechanisms.shared_kernels` for what every pass keeps to (bit-identical to the plain rule it
replaces: the counts add the same amounts in the same row order).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Self

import numpy as np

from simulation.mechanisms.shared_kernels import (
    EMPLOYED,
    NO_BENEFIT,
    NO_GROUP,
    NO_PROGRAMME,
    NOT_ELIGIBLE,
    fields_of,
    jit,
)

COHORT_CHUNK = 4096  # rows whose cohort members `cohort_update` lists at a time
# Bands of each person's fixed referral draw (`model.referral_key`): a programme referring a share
# s of a group refers those whose draw is below s, so for s a multiple of 1 / DRAW_BANDS the
# eligible above it (the untreated) are whole bands, and any arm, the baseline included, can count
# the same people (`analysis.displacement`).
DRAW_BANDS = 4
COMMON_OUTCOME_REACHED = -1  # common_work of someone who has reached their official outcome


class CohortPeople(NamedTuple):
    """The people's core arrays the cohort counts read and write (`People`'s fields of these names)."""

    eligible_month: np.ndarray
    eligible_group: np.ndarray
    outcome_month: np.ndarray
    cohort_work: np.ndarray
    status: np.ndarray
    district: np.ndarray
    programme: np.ndarray
    benefit: np.ndarray
    group: np.ndarray
    months_out: np.ndarray
    ever_referred: np.ndarray

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


class CommonPeople(NamedTuple):
    """The people's arrays of the common cohort, columns declared by `outcomes.COHORTS` (read as
    attributes of `People`, like its core fields)."""

    common_month: np.ndarray
    common_group: np.ndarray
    common_work: np.ndarray
    common_sustain: np.ndarray

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


class CohortCounts(NamedTuple):
    """People by (entry month, district, group), float64: entering the official cohort, referred
    in their entry month, and reaching an official outcome within each horizon (a last axis, one
    entry a horizon: cumulative), of them and of those referred (`referred_outcome`: the treated,
    for a displacement experiment); the same for the common cohort, and its members reaching six
    continuous months in work within each horizon (`common_sustained`, every group alike)."""

    eligible: np.ndarray
    referred: np.ndarray
    outcome: np.ndarray
    referred_outcome: np.ndarray
    common_eligible: np.ndarray
    common_referred: np.ndarray
    common_outcome: np.ndarray
    common_sustained: np.ndarray
    band_eligible: np.ndarray  # (entry month, district, group, draw band): entering the official cohort
    band_outcome: np.ndarray  # (entry month, district, group, horizon, draw band): of them, outcomes


@jit
def cohort_update(
    month: int,
    horizons: np.ndarray,
    outcome_months: np.ndarray,
    entry_months: int,
    sustained_months: int,
    ppa: float,
    people: CohortPeople,
    common: CommonPeople,
    counts: CohortCounts,
    draw_band: np.ndarray,
) -> None:
    """`CohortTracker.update` in one pass, each row counting `ppa` people.

    Official cohort: rows first eligible this month join its cohort (and count as referred if on
    a programme); rows in it for at most `horizons[-1]` months without an outcome count
    continuous months in work (`cohort_work`), reaching an outcome at their group's threshold
    (`outcome_months`), counted under every horizon h with months since entry <= h.

    Common cohort: rows never in it that claim a benefit (with a claim group), are out of work
    and whose linked spell out of work is `entry_months` long join it this month with their
    claim group (referred if on a programme), then are followed as the official cohort is, their
    months in work in `common_work` (COMMON_OUTCOME_REACHED once they reach the outcome); and,
    for every group alike, until `sustained_months` continuous months in work (`common_sustain`,
    COMMON_OUTCOME_REACHED once reached), counted in `common_sustained` under every horizon h with
    months since entry <= h: the cohort's people sustained in work, which cost per additional job
    compares between arms (for the JSA groups the same as the official outcome).

    Most rows are in neither cohort nor entering, mixed row to row with those who are: each
    chunk's rows that may count are listed first without a branch, then only they are visited
    (in row order)."""
    eligible_month, eligible_group = people.eligible_month, people.eligible_group
    outcome_month, cohort_work = people.outcome_month, people.cohort_work
    status, district, programme = people.status, people.district, people.programme
    benefit, group, months_out = people.benefit, people.group, people.months_out
    common_month, common_group, common_work = common.common_month, common.common_group, common.common_work
    common_sustain, c_sustained = common.common_sustain, counts.common_sustained
    eligible, referred, outcome = counts.eligible, counts.referred, counts.outcome
    referred_outcome, ever_referred = counts.referred_outcome, people.ever_referred
    band_eligible, band_outcome = counts.band_eligible, counts.band_outcome
    c_eligible, c_referred, c_outcome = counts.common_eligible, counts.common_referred, counts.common_outcome
    follow_up = horizons[horizons.shape[0] - 1]
    n = eligible_month.shape[0]
    listed = np.empty(COHORT_CHUNK, dtype=np.int64)  # every row goes to the next slot, kept if it may count
    for c0 in range(0, n, COHORT_CHUNK):
        k = 0
        for i in range(c0, min(c0 + COHORT_CHUNK, n)):
            listed[k] = i
            k += (
                (eligible_month[i] >= 0)
                | (common_month[i] >= 0)
                | ((months_out[i] == entry_months) & (benefit[i] != NO_BENEFIT))
            )
        for t in range(k):
            i = listed[t]
            d = district[i]
            employed = status[i] == EMPLOYED
            # The official cohort.
            em = eligible_month[i]
            if em >= 0:
                g = eligible_group[i]
                if em == month:
                    eligible[month, d, g] += ppa
                    band_eligible[month, d, g, draw_band[i]] += ppa
                    if programme[i] != NO_PROGRAMME:
                        referred[month, d, g] += ppa
                since = month - em
                if outcome_month[i] == NOT_ELIGIBLE and since <= follow_up:
                    cohort_work[i] = cohort_work[i] + 1 if employed else 0
                    if cohort_work[i] >= outcome_months[g]:
                        outcome_month[i] = month
                        for h in range(horizons.shape[0]):
                            if since <= horizons[h]:
                                outcome[em, d, g, h] += ppa
                                band_outcome[em, d, g, h, draw_band[i]] += ppa
                                if ever_referred[i]:  # referred at eligibility, the only time anyone is
                                    referred_outcome[em, d, g, h] += ppa
            # The common cohort.
            cm = common_month[i]
            if (
                cm == NOT_ELIGIBLE
                and months_out[i] == entry_months
                and benefit[i] != NO_BENEFIT
                and group[i] != NO_GROUP
                and not employed
            ):
                cm = month
                common_month[i] = month
                common_group[i] = group[i]
                common_work[i] = 0
                common_sustain[i] = 0
                c_eligible[month, d, group[i]] += ppa
                if programme[i] != NO_PROGRAMME:
                    c_referred[month, d, group[i]] += ppa
            if cm >= 0:
                since = month - cm
                if common_work[i] != COMMON_OUTCOME_REACHED and since <= follow_up:
                    g = common_group[i]
                    cw = common_work[i] + 1 if employed else 0
                    if cw >= outcome_months[g]:
                        common_work[i] = COMMON_OUTCOME_REACHED
                        for h in range(horizons.shape[0]):
                            if since <= horizons[h]:
                                c_outcome[cm, d, g, h] += ppa
                    else:
                        common_work[i] = cw
                if common_sustain[i] != COMMON_OUTCOME_REACHED and since <= follow_up:
                    cs = common_sustain[i] + 1 if employed else 0
                    if cs >= sustained_months:
                        common_sustain[i] = COMMON_OUTCOME_REACHED
                        for h in range(horizons.shape[0]):
                            if since <= horizons[h]:
                                c_sustained[cm, d, common_group[i], h] += ppa
                    else:
                        common_sustain[i] = cs
