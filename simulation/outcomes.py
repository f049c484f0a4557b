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

from simulation import outcomes_kernels, parallel
from simulation.people import GROUP_NAMES, OFFICIAL_OUTCOME_MONTHS, People

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

    def update(self, people: People, month: int, offsets: np.ndarray) -> None:
        """Call after providers have acted in policy month `month` (0-based): who enters a cohort
        (and is referred: on a programme now), and who in a cohort reaches an official outcome.
        `offsets` are the first rows of each district (people's rows being in district order)."""

        counts = outcomes_kernels.CohortCounts(self.eligible, self.referred, self.outcome)

        # One pass in row order (`outcomes_kernels.cohort_update`): the counts add ppa row by row,
        # in the order np.add.at would, so they are the same floats. A district's counts come from
        # its own rows only, so spans of districts run on threads and each count keeps its order.
        def span(a: int, b: int) -> None:
            lo, hi = int(offsets[a]), int(offsets[b])
            rows = outcomes_kernels.CohortPeople.of(people.rows(lo, hi))
            outcomes_kernels.cohort_update(month, FOLLOW_UP_MONTHS, OFFICIAL_OUTCOME_MONTHS, self.ppa, rows, counts)

        parallel.map_districts(span, offsets)

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
