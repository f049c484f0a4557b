"""The common cohort (`outcomes.CohortTracker`): claimants out of work whose linked spell reaches
`COMMON_ENTRY_MONTHS`, the same definition in every arm, followed for the official job outcome;
and the cumulative outcomes within 6, 12, 18 and 24 months of entry of both cohorts.

Each arm is run on testville with a stage on either side of the cohort stage: one before it
replays the official cohort's rule as it was before the common cohort and the horizons were added
(on copies of the people's arrays), one after it records who entered the common cohort.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from simulation.model import MONTH, LabourMarketModel, Stage
from simulation.outcomes import COMMON_ENTRY_MONTHS, FOLLOW_UP_MONTHS, HORIZONS
from simulation.people import (
    EMPLOYED,
    GROUP_NAMES,
    NO_BENEFIT,
    NO_GROUP,
    NO_PROGRAMME,
    NOT_ELIGIBLE,
    OFFICIAL_OUTCOME_MONTHS,
)

ARMS = ("no_programme", "centralised", "cooperative")
MONTHS, BURN_IN, SEED = 30, 12, 2


@dataclass
class Record:
    """What the stages around the cohort stage saw."""

    old: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # the official cohort by the old rule
    after_old: dict[str, np.ndarray] = field(default_factory=dict)  # the old rule's people, this month
    entries: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))  # row -> (month, age)
    at_entry: list[dict[str, np.ndarray]] = field(default_factory=list)
    mismatched: list[int] = field(default_factory=list)  # months where the people's arrays differ from the old rule


def old_official_rule(month: int, ppa: float, p: dict[str, np.ndarray], counts: tuple[np.ndarray, ...]) -> None:
    """The official cohort's counts as `CohortTracker.update` made them before the common cohort and
    the horizons: by (cohort month, district, group), outcomes within FOLLOW_UP_MONTHS only."""
    eligible, referred, outcome = counts
    em, g, d = p["eligible_month"], p["eligible_group"], p["district"]
    first = (em >= 0) & (em == month)
    np.add.at(eligible, (month, d[first], g[first]), ppa)
    on_programme = first & (p["programme"] != NO_PROGRAMME)
    np.add.at(referred, (month, d[on_programme], g[on_programme]), ppa)
    followed = (em >= 0) & (p["outcome_month"] == NOT_ELIGIBLE) & (month - em <= FOLLOW_UP_MONTHS)
    cw = p["cohort_work"]
    cw[followed] = np.where(p["status"][followed] == EMPLOYED, cw[followed] + 1, 0)
    reached = followed & (cw >= OFFICIAL_OUTCOME_MONTHS[g])
    p["outcome_month"][reached] = month
    np.add.at(outcome, (em[reached], d[reached], g[reached]), ppa)


OLD_FIELDS = ("eligible_month", "eligible_group", "outcome_month", "cohort_work", "status", "district", "programme")


def run_arm(regime: str, scenario: Any, lead_in: int = 0) -> tuple[LabourMarketModel, Record]:
    rec = Record()

    def before(w: Any) -> None:
        if w.month < 0:
            return
        if rec.old is None:
            shape = (w.months, w.n_districts, len(GROUP_NAMES))
            rec.old = (np.zeros(shape), np.zeros(shape), np.zeros(shape))
        p = {f: getattr(w.people, f).copy() for f in OLD_FIELDS}
        old_official_rule(w.month, w.ppa, p, rec.old)
        rec.after_old = p

    def after(w: Any) -> None:
        if w.month < 0:
            return
        p = w.people
        if not all(np.array_equal(getattr(p, f), rec.after_old[f]) for f in ("outcome_month", "cohort_work")):
            rec.mismatched.append(w.month)
        rows = np.flatnonzero(p.common_month == w.month)
        for r in rows:
            rec.entries[int(r)].append((w.month, int(p.age[r])))
        rec.at_entry.append(
            {
                name: getattr(p, name)[rows].copy()
                for name in ("benefit", "status", "months_out", "group", "common_group", "common_work", "district")
            }
        )

    stages: list[Stage] = []
    for st in MONTH:
        if st.name == "cohorts":
            stages += [Stage("old rule", before, None, policy_only=True), st, Stage("entries", after, None, True)]
        else:
            stages.append(st)
    model = LabourMarketModel(
        config=scenario(regime, months=MONTHS, burn_in=BURN_IN, lead_in=lead_in),
        seed=SEED,
        agent_views=False,
        stages=tuple(stages),
    )
    while model.running:
        model.step()
    return model, rec


@pytest.fixture(scope="module")
def arms(scenario: Any) -> dict[str, tuple[LabourMarketModel, Record]]:
    return {regime: run_arm(regime, scenario) for regime in ARMS}


@pytest.mark.parametrize("regime", ARMS)
def test_official_cohort_is_unchanged(arms, regime):
    """The official cohort's entrants, referrals and two-year outcomes are those of the rule before
    the common cohort and the horizons, to the bit, and so is the people's state it keeps."""
    model, rec = arms[regime]
    assert rec.old is not None and rec.mismatched == []
    eligible, referred, outcome = rec.old
    t = model.cohorts
    assert np.array_equal(t.eligible, eligible) and np.array_equal(t.referred, referred)
    assert np.array_equal(t.outcome[..., -1], outcome) and HORIZONS[-1] == FOLLOW_UP_MONTHS
    assert outcome.sum() > 0
    frame = model.cohorts.frame(model.district_names)
    official = frame[frame["eligible"] > 0]
    m, g = official["eligible_month"].to_numpy() - 1, official["group"].map(GROUP_NAMES.index).to_numpy()
    d = official["district"].to_numpy()
    assert np.array_equal(official["outcome_24m"].to_numpy(), outcome[m, d, g])
    assert np.array_equal(official["followed_up"].to_numpy(), m + FOLLOW_UP_MONTHS < MONTHS)
    # Rows with no one in the official cohort are there for the common cohort alone.
    assert ((frame["eligible"] > 0) | (frame["common_eligible"] > 0)).all()
    assert len(frame) == len(official) + int(((frame["eligible"] == 0) & (frame["common_eligible"] > 0)).sum())


def test_common_cohort_entrants_are_the_same_people_before_the_regimes_act(arms):
    """The arms share the burn-in: with no lead-in, the first month's entrants are the same in
    every arm, district and group; the regimes change who is out of work only slowly, so the
    next months' entrants are close. The official cohorts are not (each regime's referral points)."""
    first = {a: arms[a][0].cohorts.common_eligible[0] for a in ARMS}
    assert first["no_programme"].sum() > 0
    for a in ARMS[1:]:
        assert np.array_equal(first[a], first["no_programme"]), a
    base = arms["no_programme"][0].cohorts.common_eligible[:3].sum()
    for a in ARMS[1:]:
        assert abs(arms[a][0].cohorts.common_eligible[:3].sum() - base) <= 0.05 * base, a
    official = {a: arms[a][0].cohorts.eligible[0].sum() for a in ARMS}
    assert official["cooperative"] != official["centralised"]


@pytest.mark.parametrize("regime", ARMS)
def test_each_entrant_meets_the_definition_once(arms, regime):
    """Entrants claim, are out of work, have been out of work COMMON_ENTRY_MONTHS (linked) and
    enter in their claim group; nobody enters twice (a row enters again only once a school leaver
    has taken it); the counts are the entrants, each counted once."""
    model, rec = arms[regime]
    n = 0
    for seen in rec.at_entry:
        n += seen["benefit"].size
        assert (seen["benefit"] != NO_BENEFIT).all() and (seen["status"] != EMPLOYED).all()
        assert (seen["months_out"] == COMMON_ENTRY_MONTHS).all()
        assert (seen["group"] != NO_GROUP).all() and np.array_equal(seen["group"], seen["common_group"])
        assert (seen["common_work"] == 0).all()  # out of work: no month in work yet
    assert n > 0
    assert model.cohorts.common_eligible.sum() == pytest.approx(n * model.ppa, rel=1e-12)
    for row, entries in rec.entries.items():
        for (m0, age0), (m1, age1) in itertools.pairwise(entries):
            assert m1 > m0 and age1 < age0, (row, entries)  # a newcomer in the retiree's row
    # Everyone in the cohort entered in a measured month, in a measured cohort.
    cm = model.people.common_month
    assert ((cm == NOT_ELIGIBLE) | ((cm >= 0) & (cm < MONTHS))).all()


@pytest.mark.parametrize("regime", ARMS)
def test_cumulative_outcomes_rise_with_the_horizon(arms, regime):
    """Outcomes within 6 <= 12 <= 18 <= 24 months <= entrants, for both cohorts; a horizon is
    followed for the entry months the run lasted that long after."""
    model, _ = arms[regime]
    frame = model.cohorts.frame(model.district_names)
    for prefix, entrants in (("outcome", "eligible"), ("common_outcome", "common_eligible")):
        cols = [f"{prefix}_{h}m" for h in HORIZONS]
        values = frame[cols].to_numpy()
        assert (np.diff(values, axis=1) >= 0).all(), prefix
        assert (values[:, -1] <= frame[entrants].to_numpy()).all(), prefix
        assert values[:, -1].sum() > 0, prefix
    assert (frame["common_referred"] <= frame["common_eligible"]).all()
    for h in HORIZONS:
        assert np.array_equal(frame[f"followed_{h}m"], frame["eligible_month"] - 1 + h < MONTHS)
    assert np.array_equal(frame["followed_up"], frame[f"followed_{FOLLOW_UP_MONTHS}m"])


def test_the_cooperative_regime_refers_the_common_cohort_on_entry(arms):
    """The common cohort's referred count is those on a programme in their entry month: most of the
    cooperative arm's JSA entrants (it refers at 3 months), none in the arm with no programme."""
    assert arms["no_programme"][0].cohorts.common_referred.sum() == 0
    coop = arms["cooperative"][0].cohorts
    assert coop.common_referred.sum() > 0.5 * coop.common_eligible[:, :, 1:3].sum()


def test_no_one_enters_in_the_lead_in(scenario):
    """The cohort stage does not run in the lead-in: nobody has entered before month 0, and the
    first measured month's entrants are those whose spell reaches the entry point then."""
    model, rec = run_arm("cooperative", scenario, lead_in=6)
    cm = model.people.common_month
    assert ((cm == NOT_ELIGIBLE) | (cm >= 0)).all()
    assert rec.at_entry[0]["benefit"].size > 0
    assert model.cohorts.common_eligible[0].sum() == pytest.approx(rec.at_entry[0]["benefit"].size * model.ppa)
