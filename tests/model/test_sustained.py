"""People sustained in work (`accounts.people_sustained`): a person counts once, in the month they
complete six continuous months in work after entering it from out of work; job-to-job moves and
people already in work do not count. And the common cohort's six months in work, every group alike.

The first tests replay people's histories month by month as the model leaves them at the counts
stage (status, months in status, whether the job is fragile: taken from out of work under six
months ago); the last run the model.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from simulation.mechanisms import accounts
from simulation.mechanisms.accounts_kernels import NOT_IN_RUN
from simulation.people import EMPLOYED, FRAGILE_MONTHS, GROUP_NAMES, INACTIVE, OFFICIAL_OUTCOME_MONTHS, UNEMPLOYED

OUT, HIRE, MOVE, WORK = "out", "hire", "move", "work"  # a month: out of work, hired from out of it, moved job, stayed


class Histories:
    """People living given histories, one event a month each, with the arrays the counts stage
    reads (as the model's stages leave them: a hire from out of work is fragile until separations
    clears it at FRAGILE_MONTHS; a job-to-job move is not)."""

    def __init__(self, n: int, in_work_since_long_ago: np.ndarray | None = None) -> None:
        settled = np.zeros(n, dtype=bool) if in_work_since_long_ago is None else in_work_since_long_ago
        self.people = SimpleNamespace(
            status=np.where(settled, EMPLOYED, UNEMPLOYED).astype(np.int8),
            months_in_status=np.where(settled, 30, 5).astype(np.int16),
            fragile=np.zeros(n, dtype=bool),
            more={
                "work_from_out": np.full(n, NOT_IN_RUN, dtype=np.int16),
                "sustained_in_window": np.zeros(n, dtype=bool),
            },
        )
        self.offsets = np.array([0, n], dtype=np.int64)

    def month(self, events: list[str]) -> np.ndarray:
        """Live one month (one event a person); return who counted as sustained in work this month."""
        p = self.people
        for i, e in enumerate(events):
            if e == OUT:
                p.months_in_status[i] = p.months_in_status[i] + 1 if p.status[i] != EMPLOYED else 0
                p.status[i], p.fragile[i] = UNEMPLOYED, False
            elif e in (HIRE, MOVE):
                p.status[i], p.months_in_status[i], p.fragile[i] = EMPLOYED, 0, e == HIRE
            else:
                assert p.status[i] == EMPLOYED, "a history stays in work only once in it"
                p.months_in_status[i] += 1
                p.fragile[i] &= p.months_in_status[i] < FRAGILE_MONTHS
        before = p.more["sustained_in_window"].copy()
        total = accounts.people_sustained(p, self.offsets)
        counted = p.more["sustained_in_window"] & ~before
        assert total.sum() == counted.sum()
        return counted


def live(histories: list[list[str]], **kw: np.ndarray) -> np.ndarray:
    """Months x people: who counted in which month."""
    h = Histories(len(histories), **kw)
    return np.array([h.month(list(month)) for month in zip(*histories, strict=True)])


def test_six_months_in_work_after_unemployment_counts_once_in_the_sixth_month():
    counted = live([[HIRE] + [WORK] * 9])
    assert counted[:, 0].sum() == 1 and counted[6, 0]  # months in work 0..6: the sixth completed month


def test_inactive_to_work_for_six_months_counts():
    # The counts stage sees a hire from inactivity as any hire from out of work: fragile, just started.
    h = Histories(1)
    h.people.status[0] = INACTIVE
    got = [h.month([e])[0] for e in [HIRE] + [WORK] * 6]
    assert got == [False] * 6 + [True]


def test_five_months_in_work_does_not_count():
    assert not live([[HIRE] + [WORK] * 4 + [OUT] * 4]).any()


def test_people_already_in_work_and_job_to_job_moves_do_not_count():
    # In work since before the run, moving job to job twice: never out of work, so never counts.
    history = [WORK, WORK, MOVE] + [WORK] * 7 + [MOVE] + [WORK] * 8
    counted = live([history], in_work_since_long_ago=np.array([True]))
    assert not counted.any()


def test_a_move_carries_the_months_since_entering_work_on():
    # Hired from out of work, moved job after three months: six continuous months in work at month 6
    # (not six months into the second job), counted once.
    counted = live([[HIRE, WORK, WORK, MOVE] + [WORK] * 8])
    assert counted[:, 0].sum() == 1 and counted[6, 0]


def test_two_qualifying_spells_count_once():
    history = [HIRE] + [WORK] * 7 + [OUT, OUT] + [HIRE] + [WORK] * 8
    counted = live([history])
    assert counted[:, 0].sum() == 1 and counted[6, 0]


def test_month_zero_lets_everyone_count_once_more():
    h = Histories(1)
    for e in [HIRE] + [WORK] * 7 + [OUT]:
        h.month([e])
    accounts.start_measured(h.people)  # the measured window starts
    got = [h.month([e])[0] for e in [HIRE] + [WORK] * 6]
    assert got == [False] * 6 + [True]


def test_losing_a_job_and_finding_one_in_the_same_month_restarts_the_count():
    # Separations then matching in one month: at the counts stage a fragile job zero months old.
    counted = live([[HIRE, WORK, WORK, HIRE] + [WORK] * 7])
    assert counted[:, 0].sum() == 1 and counted[9, 0]


def test_people_sustained_in_many_people_at_once():
    histories = [
        [HIRE] + [WORK] * 9,  # counts at 6
        [OUT] * 3 + [HIRE] + [WORK] * 6,  # counts at 9
        [HIRE] + [WORK] * 4 + [OUT] * 5,  # never
        [HIRE, WORK, MOVE] + [WORK] * 7,  # counts at 6
    ]
    counted = live(histories)
    assert counted.sum(axis=0).tolist() == [1, 1, 0, 1]
    assert np.flatnonzero(counted.any(axis=1)).tolist() == [6, 9]


# ---------------------------------------------------------------------------------- the model
@pytest.mark.parametrize("regime", ["no_programme", "cooperative"])
def test_model_counts_each_person_at_most_once_and_the_cohort_six_months_alike(run_model, regime):
    model = run_model(regime, 3, months=30, burn_in=12)
    df = model.results_frame()
    total = df["people_sustained_in_work"].sum() / model.ppa
    flagged = int(model.people.more["sustained_in_window"].sum())
    # Flags are cleared only for newcomers taking a retiree's row: never more flagged than counted.
    assert 0 < flagged <= total
    assert (df["people_sustained_in_work"] >= 0).all()
    c = model.cohorts.frame(model.district_names)
    six = {g: int(m) for g, m in zip(GROUP_NAMES, OFFICIAL_OUTCOME_MONTHS, strict=True)}
    for h in (6, 12, 18, 24):
        jsa = c["group"].map(six) == 6  # the official outcome is six months in work: the same people
        np.testing.assert_array_equal(c.loc[jsa, f"common_sustained_{h}m"], c.loc[jsa, f"common_outcome_{h}m"])
        assert (c.loc[~jsa, f"common_sustained_{h}m"] <= c.loc[~jsa, f"common_outcome_{h}m"]).all()
    assert c["common_sustained_24m"].sum() > 0
