"""Cost per additional sustained job: the one definition `compare`, `claims` and `report` share.

A regime's cost per additional sustained job, against a baseline arm run on the same seeds, is

    (public spending of the arm - the baseline's) / (people sustained in work in the arm - the baseline's)

- **Public spending**: every ledger category of public money spent on the regime's policies
  (`spending_categories`): each posting whose purpose is public spending (`declare.Purpose.public`
  is +1) other than the outcome purposes (`OUTCOME_PURPOSES`: benefits, which the policies change
  by moving people into work, as they change tax). Employment support (programme fees and grants,
  integrated help's health, care, housing and debt services, partnerships, training, brokerage) and
  business support (enterprise hubs) are in it, whoever pays (Exchequer, council or NHS). Benefits
  and tax are outcomes; the net public cost per additional job (the change in `public_cost`:
  spending and benefits, less tax and sanctions) is given beside it.
- **People sustained in work**: on the common cohort where the runs have it (claimants whose
  spell out of work reaches 3 months, the same definition in every arm; those of them in work six
  continuous months within two years of entering it, `common_sustained_24m`, counted over the
  entry months of the run); otherwise everyone's person-level count (`people_sustained_in_work`:
  people completing six continuous months in work after entering it from out of work, once each
  in the measured months). Job-to-job moves and people already in work count in neither.

Over paired seeds it is a ratio of mean differences with its Fieller 90% interval (`stats.fieller`),
with the mean of the per-seed ratios beside it (defined only when every seed gains people).

The common cohort is the like-for-like denominator (the same people in every arm until the regimes
move them), but it is narrower than what the money buys: jobs that go to people out of work for
less than 3 months, to people not claiming, or (hubs) to anyone the cohort does not hold are in the
cost and not in the cohort. Where the runs also give the person-level count, the figure on
everyone is given beside it (`everyone_*`), which counts those jobs too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from simulation.analysis.stats import Interval, fieller, summarise
from simulation.declare import PURPOSE
from simulation.outcomes import FOLLOW_UP_MONTHS
from simulation.registry import PURPOSE_OF

# Public spending whose size is an outcome of the policies, not their price.
OUTCOME_PURPOSES = frozenset({"benefits"})
COHORT_SUSTAINED = f"common_sustained_{FOLLOW_UP_MONTHS}m"  # cohorts table: six months in work within two years
PEOPLE_SUSTAINED = "people_sustained_in_work"  # monthly table: everyone, once each
NET_PUBLIC_COST = "public_cost"
COMMON_COHORT, EVERYONE = "common cohort", "everyone"  # the bases of the denominator
NO_GAIN = "n/a: no additional people sustained in work on average"


def spending_categories(purpose_of: dict[str, str] | None = None) -> tuple[str, ...]:
    """The ledger categories of public spending on the policies, in declaration order: public
    money out (purpose `public` +1) for any purpose but the outcome purposes."""
    purpose_of = PURPOSE_OF if purpose_of is None else purpose_of
    return tuple(c for c, p in purpose_of.items() if PURPOSE[p].public > 0 and p not in OUTCOME_PURPOSES)


SPENDING_CATEGORIES = spending_categories()
# The same money by purpose (older results, from before some categories existed, have these).
SPENDING_TOTALS = tuple(
    dict.fromkeys(t for c in SPENDING_CATEGORIES if (t := PURPOSE[PURPOSE_OF[c]].total) is not None)
)
assert all(PURPOSE[PURPOSE_OF[c]].total for c in SPENDING_CATEGORIES), "every spending purpose has a total column"


class RunTables(Protocol):
    """A finished run's tables, as compare's `Run` and results_io's `RunData` hold them."""

    monthly: pd.DataFrame
    cohorts: pd.DataFrame | None


class Missing(ValueError):
    """The results lack what the figure needs (older results); the message says what."""


def public_spending(monthly: pd.DataFrame) -> float:
    """£ of public spending on the policies over the run, every district (`SPENDING_CATEGORIES`,
    or their purposes' total columns in results from before some categories existed)."""
    have = set(monthly.columns)
    if set(SPENDING_CATEGORIES) <= have:
        return float(sum(float(monthly[c].sum()) for c in SPENDING_CATEGORIES))
    if set(SPENDING_TOTALS) <= have:
        return float(sum(float(monthly[c].sum()) for c in SPENDING_TOTALS))
    lacking = sorted(set(SPENDING_TOTALS) - have)
    raise Missing(f"monthly tables lack {', '.join(lacking)}")


def net_public_cost(monthly: pd.DataFrame) -> float:
    """£ of net public cost over the run: spending and benefits, less tax and sanctions (`public_cost`)."""
    if NET_PUBLIC_COST not in monthly.columns:
        return math.nan
    return float(monthly[NET_PUBLIC_COST].sum())


def basis(runs: Sequence[RunTables]) -> str:
    """The denominator every run can give: the common cohort, else everyone's person-level count."""
    if all(r.cohorts is not None and COHORT_SUSTAINED in r.cohorts.columns for r in runs):
        return COMMON_COHORT
    if all(PEOPLE_SUSTAINED in r.monthly.columns for r in runs):
        return EVERYONE
    raise Missing(f"results lack {COHORT_SUSTAINED} (cohorts) and {PEOPLE_SUSTAINED} (monthly)")


def sustained_people(run: RunTables, on: str) -> float:
    """People sustained in work in a run on basis `on` (see the module's docstring)."""
    if on == COMMON_COHORT:
        assert run.cohorts is not None
        return float(run.cohorts[COHORT_SUSTAINED].sum())
    return float(run.monthly[PEOPLE_SUSTAINED].sum())


@dataclass(frozen=True)
class CostPerJob:
    """Cost per additional sustained job of an arm against a baseline over paired seeds (£)."""

    n_seeds: int
    basis: str  # COMMON_COHORT or EVERYONE
    d_spending: np.ndarray  # per seed: public spending of the arm - the baseline's
    d_net_cost: np.ndarray  # per seed: net public cost of the arm - the baseline's
    d_people: np.ndarray  # per seed: people sustained in work, arm - baseline
    ratio: float  # mean(d_spending) / mean(d_people)
    low: float  # Fieller 90% interval (NaN when unbounded or undefined)
    high: float
    note: str  # why there is no ratio or no bounded interval ("" when there are both)
    net_ratio: float  # mean(d_net_cost) / mean(d_people), with its Fieller interval
    net_low: float
    net_high: float
    per_seed: Interval | None  # the per-seed ratios' mean and t interval, when every seed gains people
    per_seed_note: str
    # On everyone (the person-level count) beside a common-cohort figure: NaN where not given.
    d_people_everyone: np.ndarray | None = None
    everyone_ratio: float = math.nan
    everyone_low: float = math.nan
    everyone_high: float = math.nan


def ratio_of_differences(
    cost: np.ndarray, gain: np.ndarray, none_note: str, what: str
) -> tuple[float, float, float, str]:
    """mean(cost) / mean(gain) over paired seeds with its Fieller 90% interval, and a note
    (`none_note` when the gain is not positive on average; "unbounded" when `what` is not clearly
    above the baseline)."""
    if not len(gain) or not gain.mean() > 0:
        return math.nan, math.nan, math.nan, none_note
    ci = fieller(cost, gain)
    low, high = ci if ci is not None else (math.nan, math.nan)
    note = "" if ci is not None else f"unbounded: {what} not clearly above the baseline"
    return float(cost.mean() / gain.mean()), low, high, note


def from_differences(
    d_spending: np.ndarray,
    d_net_cost: np.ndarray,
    d_people: np.ndarray,
    on: str,
    d_people_everyone: np.ndarray | None = None,
) -> CostPerJob:
    """The figure from per-seed differences (arm - baseline) of spending, net cost and people
    (and, beside a common-cohort figure, of everyone's people sustained in work)."""
    d_spending, d_net_cost, d_people = (np.asarray(x, dtype=float) for x in (d_spending, d_net_cost, d_people))
    n = len(d_people)
    what = "people sustained in work"
    ratio, low, high, note = ratio_of_differences(d_spending, d_people, NO_GAIN, what)
    if np.isfinite(d_net_cost).all():
        net, net_low, net_high, _ = ratio_of_differences(d_net_cost, d_people, NO_GAIN, what)
    else:
        net = net_low = net_high = math.nan
    bad = int((d_people <= 0).sum())
    per_seed, per_seed_note = None, ""
    if bad or n == 0:
        per_seed_note = f"n/a: no additional people sustained in work in {bad} of {n} seeds"
    else:
        per_seed = summarise(d_spending / d_people)
    everyone = (math.nan,) * 3
    if d_people_everyone is not None:
        everyone = ratio_of_differences(d_spending, np.asarray(d_people_everyone, dtype=float), NO_GAIN, what)[:3]
    return CostPerJob(
        n,
        on,
        d_spending,
        d_net_cost,
        d_people,
        ratio,
        low,
        high,
        note,
        net,
        net_low,
        net_high,
        per_seed,
        per_seed_note,
        d_people_everyone,
        *everyone,
    )


def cost_per_additional_job(arm: Sequence[RunTables], baseline: Sequence[RunTables]) -> CostPerJob:
    """Cost per additional sustained job of `arm`'s runs against `baseline`'s, paired in order
    (the same seeds); raises `Missing` when the results lack what it needs."""
    if len(arm) != len(baseline):
        raise ValueError(f"expected runs paired on seeds, got {len(arm)} and {len(baseline)}")
    on = basis([*arm, *baseline])

    def per_seed(f: Callable[[RunTables], float]) -> np.ndarray:
        return np.array([f(a) - f(b) for a, b in zip(arm, baseline, strict=True)], dtype=float)

    everyone = None
    if on == COMMON_COHORT and all(PEOPLE_SUSTAINED in r.monthly.columns for r in [*arm, *baseline]):
        everyone = per_seed(lambda r: sustained_people(r, EVERYONE))
    return from_differences(
        per_seed(lambda r: public_spending(r.monthly)),
        per_seed(lambda r: net_public_cost(r.monthly)),
        per_seed(lambda r: sustained_people(r, on)),
        on,
        everyone,
    )
