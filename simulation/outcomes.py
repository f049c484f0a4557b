"""Programme outcome measures on the official definitions, identical in every arm.

A claimant enters a cohort in the month they first reach their group's referral point (whether
or not they are referred: in an arm with no programme, the cohort is who would have been). A job
outcome is the official one: 6 months continuously in work for the JSA groups, 3 for ESA,
counted within two years of entering the cohort (DWP Work Programme statistics). Counts are kept
by cohort month, district and group, so two-year outcome rates by claimant group are comparable
across arms and with published figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.people import EMPLOYED, GROUP_NAMES, NOT_ELIGIBLE, OFFICIAL_OUTCOME_MONTHS, People

FOLLOW_UP_MONTHS = 24


class CohortTracker:
    """Counts of people entering cohorts, referred, and reaching an official outcome in two years."""

    def __init__(self, months: int, n_districts: int, ppa: float) -> None:
        shape = (months, n_districts, len(GROUP_NAMES))
        self.eligible = np.zeros(shape)
        self.referred = np.zeros(shape)
        self.outcome = np.zeros(shape)
        self.months = months
        self.ppa = ppa

    def update(self, people: People, month: int, referred_now: np.ndarray) -> None:
        """Call after providers have acted in policy month `month` (0-based)."""
        new = people.eligible_month == month
        if new.any():
            np.add.at(self.eligible[month], (people.district[new], people.eligible_group[new]), self.ppa)
            r = new & referred_now
            np.add.at(self.referred[month], (people.district[r], people.eligible_group[r]), self.ppa)
        in_cohort = (people.eligible_month != NOT_ELIGIBLE) & (people.outcome_month == NOT_ELIGIBLE)
        in_cohort &= (people.eligible_month >= 0) & (month - people.eligible_month <= FOLLOW_UP_MONTHS)
        rows = np.flatnonzero(in_cohort)
        working = people.status[rows] == EMPLOYED
        people.cohort_work[rows] = np.where(working, people.cohort_work[rows] + 1, 0)
        done = rows[people.cohort_work[rows] >= OFFICIAL_OUTCOME_MONTHS[people.eligible_group[rows]]]
        if done.size:
            people.outcome_month[done] = month
            np.add.at(
                self.outcome,
                (people.eligible_month[done], people.district[done], people.eligible_group[done]),
                self.ppa,
            )

    def frame(self, names: list[str]) -> pd.DataFrame:
        """One row per (cohort month, district, group) with any eligible people."""
        m, d, g = np.nonzero(self.eligible)
        return pd.DataFrame(
            {
                "district": d.astype(np.int16),
                "district_name": np.array(names, dtype=object)[d],
                "group": np.array(GROUP_NAMES, dtype=object)[g],
                "eligible_month": (m + 1).astype(np.int32),
                "eligible": self.eligible[m, d, g],
                "referred": self.referred[m, d, g],
                "outcome_24m": self.outcome[m, d, g],
                "followed_up": (m + FOLLOW_UP_MONTHS) < self.months,
            }
        )
