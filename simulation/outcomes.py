"""Programme outcome measures on the official definitions, identical in every arm.

Two cohorts are followed, both for the official job outcome: 6 months continuously in work for
the JSA groups, 3 for ESA (`OFFICIAL_OUTCOME_MONTHS`), counted within two years of entering the
cohort (DWP Work Programme statistics), and cumulatively within 6, 12, 18 and 24 months
(`HORIZONS`), as DWP publishes job outcomes by months since referral.

- The **official cohort**: a claimant enters it in the month they first reach their payment
  group's referral point under the arm's own regime (`people.eligible_month`, set by the
  providers whether or not they refer; in an arm with no programme, the cohort is who would have
  been referred under the Work Programme). Its rates are comparable with the published figures,
  but not across arms whose referral points differ: each arm's cohort is different people.
- The **common cohort**: the same definition in every arm, set by no regime. A claimant (JSA or
  ESA, out of work) enters it in the first measured month in which their linked spell out of work
  reaches `COMMON_ENTRY_MONTHS` (`people.months_out`, linked across short gaps as DWP links
  claims), once per person per run; their group is their claim group then. The arms share the
  burn-in, so the common cohort is the same people until the regimes' own effects change who is
  out of work: the regimes' outcome rates on it, and their differences, are like for like.

Only measured months count (the cohort stage does not run in the lead-in): someone whose spell
reached `COMMON_ENTRY_MONTHS` before month 0 enters only if a later spell (or the same spell,
held at that length through a short job) reaches it again while they claim and are out of work.

The common cohort's members are also followed until they have been `SUSTAINED_MONTHS` continuous
months in work, every group alike (`common_sustained_<h>m`): the people in work six months that
cost per additional sustained job counts (`simulation.analysis.costing`).

Counts are kept by entry month, district and group (`CohortTracker.frame`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation import outcomes_kernels, parallel
from simulation.declare import Column, Mechanism
from simulation.outcomes_kernels import COMMON_OUTCOME_REACHED
from simulation.people import GROUP_NAMES, NOT_ELIGIBLE, OFFICIAL_OUTCOME_MONTHS, SUSTAINED_MONTHS, People

FOLLOW_UP_MONTHS = 24
# Cumulative outcomes within these months of entering a cohort; the last is the follow-up.
HORIZONS = np.array([6, 12, 18, FOLLOW_UP_MONTHS], dtype=np.int64)
# The horizon whose outcomes are also kept by band of the referral draw (`displacement`).
DRAW_HORIZON = 12
DRAW_HORIZON_INDEX = int(np.flatnonzero(HORIZONS == DRAW_HORIZON)[0])
# The common cohort's entry point: months out of work in the linked spell, the same in every arm.
COMMON_ENTRY_MONTHS = 3


class CohortTracker:
    """Counts of people entering the official and the common cohorts (and referred in their entry
    month), and reaching an official outcome within each horizon of `HORIZONS`."""

    def __init__(self, months: int, n_districts: int, ppa: float) -> None:
        shape = (months, n_districts, len(GROUP_NAMES))
        self.eligible = np.zeros(shape)
        self.referred = np.zeros(shape)
        self.outcome = np.zeros((*shape, HORIZONS.size))  # cumulative: within HORIZONS[k] months
        self.referred_outcome = np.zeros((*shape, HORIZONS.size))  # of them, those referred
        self.common_eligible = np.zeros(shape)
        self.common_referred = np.zeros(shape)
        self.common_outcome = np.zeros((*shape, HORIZONS.size))
        self.common_sustained = np.zeros((*shape, HORIZONS.size))  # six months in work, any group
        bands = outcomes_kernels.DRAW_BANDS
        self.band_eligible = np.zeros((*shape, bands))  # by band of the fixed referral draw
        self.band_outcome = np.zeros((*shape, HORIZONS.size, bands))
        self.months = months
        self.ppa = ppa

    def counts(self) -> outcomes_kernels.CohortCounts:
        return outcomes_kernels.CohortCounts(
            self.eligible,
            self.referred,
            self.outcome,
            self.referred_outcome,
            self.common_eligible,
            self.common_referred,
            self.common_outcome,
            self.common_sustained,
            self.band_eligible,
            self.band_outcome,
        )

    def update(self, people: People, month: int, offsets: np.ndarray, draw_band: np.ndarray) -> None:
        """Call after providers have acted in policy month `month` (0-based): who enters a cohort
        (and is referred: on a programme now), and who in a cohort reaches an official outcome.
        `offsets` are the first rows of each district (people's rows being in district order);
        `draw_band` each row's band of its fixed referral draw."""

        counts = self.counts()

        # One pass in row order (`outcomes_kernels.cohort_update`): the counts add ppa row by row,
        # in the order np.add.at would, so they are the same floats. A district's counts come from
        # its own rows only, so spans of districts run on threads and each count keeps its order.
        def span(a: int, b: int) -> None:
            lo, hi = int(offsets[a]), int(offsets[b])
            view = people.rows(lo, hi)
            rows, common = outcomes_kernels.CohortPeople.of(view), outcomes_kernels.CommonPeople.of(view)
            outcomes_kernels.cohort_update(
                month,
                HORIZONS,
                OFFICIAL_OUTCOME_MONTHS,
                COMMON_ENTRY_MONTHS,
                SUSTAINED_MONTHS,
                self.ppa,
                rows,
                common,
                counts,
                draw_band[lo:hi],
            )

        parallel.map_districts(span, offsets)

    def frame(self, names: list[str]) -> pd.DataFrame:
        """One row per (entry month, district, group) in which anyone entered either cohort.

        `eligible_month` is the entry month (from 1) of both cohorts; `eligible`, `referred` and
        `outcome_<h>m` are the official cohort's, `common_*` the common cohort's (referred: on a
        programme in the entry month). `outcome_<h>m` counts outcomes within h months of entry
        (cumulative); `followed_<h>m` says whether the run lasted h months after the entry month
        (only then is `outcome_<h>m` complete); `referred_outcome_<h>m` counts those of them who
        were referred (the treated, where a share of the eligible is referred at random).
        `outcome_24m` and `followed_up` (= `followed_24m`) are the two-year figures the published
        statistics give. `common_sustained_<h>m` counts the common cohort's members in work
        `SUSTAINED_MONTHS` continuous months within h months of entry, every group alike.
        `eligible_draw<b>` and `outcome_12m_draw<b>` split `eligible` and `outcome_12m` by band b
        of the people's fixed referral draw (`outcomes_kernels.DRAW_BANDS` bands), so that a
        displacement experiment compares the untreated with the same people in its baseline."""
        m, d, g = np.nonzero((self.eligible > 0) | (self.common_eligible > 0))
        out: dict[str, object] = {
            "district": d.astype(np.int16),
            "district_name": np.array(names, dtype=object)[d],
            "group": np.array(GROUP_NAMES, dtype=object)[g],
            "eligible_month": (m + 1).astype(np.int32),
            "eligible": self.eligible[m, d, g],
            "referred": self.referred[m, d, g],
        }
        for k, h in enumerate(HORIZONS):
            out[f"outcome_{h}m"] = self.outcome[m, d, g, k]
        for k, h in enumerate(HORIZONS):
            out[f"referred_outcome_{h}m"] = self.referred_outcome[m, d, g, k]
        out["followed_up"] = (m + FOLLOW_UP_MONTHS) < self.months
        for h in HORIZONS:
            out[f"followed_{h}m"] = (m + h) < self.months
        out["common_eligible"] = self.common_eligible[m, d, g]
        out["common_referred"] = self.common_referred[m, d, g]
        for k, h in enumerate(HORIZONS):
            out[f"common_outcome_{h}m"] = self.common_outcome[m, d, g, k]
        for k, h in enumerate(HORIZONS):
            out[f"common_sustained_{h}m"] = self.common_sustained[m, d, g, k]
        for b in range(outcomes_kernels.DRAW_BANDS):
            out[f"eligible_draw{b}"] = self.band_eligible[m, d, g, b]
        for b in range(outcomes_kernels.DRAW_BANDS):
            out[f"outcome_{DRAW_HORIZON}m_draw{b}"] = self.band_outcome[m, d, g, DRAW_HORIZON_INDEX, b]
        return pd.DataFrame(out)


# ---- what the cohorts own (`simulation.declare`): the common cohort's columns of people, which
# `People.add_columns` allocates and `People.reset_newcomers` resets for a school leaver

COHORTS = Mechanism(
    name="cohorts",
    doc="Official and common cohorts of claimants followed for official job outcomes (outcomes.py).",
    person_fields=(
        Column(
            "common_month",
            "int16",
            "measured month of entering the common cohort (NOT_ELIGIBLE if never)",
            fill=NOT_ELIGIBLE,
        ),
        Column("common_group", "int8", "claim group on entering the common cohort"),
        Column(
            "common_work",
            "int16",
            f"continuous months in work since entering the common cohort ({COMMON_OUTCOME_REACHED} once the "
            "official outcome is reached)",
        ),
        Column(
            "common_sustain",
            "int16",
            f"continuous months in work since entering the common cohort, up to {SUSTAINED_MONTHS} "
            f"({COMMON_OUTCOME_REACHED} once reached), every group alike",
        ),
    ),
)
