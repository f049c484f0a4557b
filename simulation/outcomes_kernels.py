"""Compiled pass of `outcomes`: claimants entering their cohort in the month they first become
eligible for referral (and whether they were referred), and those in a cohort counting continuous
months in work until they reach an official job outcome.

See `mechanisms.shared_kernels` for what every pass keeps to (bit-identical to the plain rule it
replaces: the counts add the same amounts in the same row order).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Self

import numpy as np

from simulation.mechanisms.shared_kernels import EMPLOYED, NO_PROGRAMME, NOT_ELIGIBLE, fields_of, jit

COHORT_CHUNK = 4096  # rows whose eligible people `cohort_update` lists at a time


class CohortPeople(NamedTuple):
    """The people's arrays the cohort counts read and write (`People`'s fields of these names)."""

    eligible_month: np.ndarray
    eligible_group: np.ndarray
    outcome_month: np.ndarray
    cohort_work: np.ndarray
    status: np.ndarray
    district: np.ndarray
    programme: np.ndarray

    @classmethod
    def of(cls, people: Any) -> Self:
        return fields_of(cls, people)


class CohortCounts(NamedTuple):
    """People by (cohort month, district, payment group), float64: entering the cohort, referred
    in their first month, and reaching an official outcome within the follow-up."""

    eligible: np.ndarray
    referred: np.ndarray
    outcome: np.ndarray


@jit
def cohort_update(
    month: int,
    follow_up: int,
    outcome_months: np.ndarray,
    ppa: float,
    people: CohortPeople,
    counts: CohortCounts,
) -> None:
    """`CohortTracker.update` in one pass: rows first eligible this month join its cohort (and
    count as referred if on a programme); rows in a cohort for at most `follow_up` months without
    an outcome count continuous months in work, reaching an outcome at their group's threshold.
    Each row counts `ppa` people. Most rows were never eligible, mixed row to row with those who
    were: each chunk's eligible rows are listed first without a branch, then only they are
    visited (in row order)."""
    eligible_month, eligible_group = people.eligible_month, people.eligible_group
    outcome_month, cohort_work = people.outcome_month, people.cohort_work
    status, district, programme = people.status, people.district, people.programme
    eligible, referred, outcome = counts.eligible, counts.referred, counts.outcome
    n = eligible_month.shape[0]
    listed = np.empty(COHORT_CHUNK, dtype=np.int64)  # every row goes to the next slot, kept if eligible
    for c0 in range(0, n, COHORT_CHUNK):
        k = 0
        for i in range(c0, min(c0 + COHORT_CHUNK, n)):
            listed[k] = i
            k += eligible_month[i] >= 0
        for t in range(k):
            i = listed[t]
            em = eligible_month[i]
            d, g = district[i], eligible_group[i]
            if em == month:
                eligible[month, d, g] += ppa
                if programme[i] != NO_PROGRAMME:
                    referred[month, d, g] += ppa
            if outcome_month[i] != NOT_ELIGIBLE or month - em > follow_up:
                continue
            cohort_work[i] = cohort_work[i] + 1 if status[i] == EMPLOYED else 0
            if cohort_work[i] >= outcome_months[g]:
                outcome_month[i] = month
                outcome[em, d, g] += ppa
