"""`labourlab compare`: paired differences between arms run on the same seeds.

Arms run on the same seed share common random numbers, so the difference between two arms on one
seed removes that seed's own luck (a strong local economy, an unlucky intake) and varies far less
than either arm does. Each measure is differenced seed by seed and the differences are summarised
as a mean with a 90% interval across seeds: mean +/- t(0.95, n-1) * sd / sqrt(n).

Everything here reads finished runs (run folders `<arm>-seed<S>/manifest.json` and `monthly.parquet`,
optionally `cohorts.parquet`, or an experiment's `runs/scenario=<name>/seed=<S>.json` with its
Parquet tables; see results_io); nothing re-runs the model. Columns added to the model's output later
(claimant groups, parking, sustained jobs, business-support cost, cohorts) are optional: a measure
whose columns are absent is skipped with a note, so older results can still be compared.

This module computes the `Report`; `compare_render` prints it and writes its files (its functions
are importable from here too). The measures are those of `simulation.measures` named in `SHOWN`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis import costing, results_io
from simulation.analysis import displacement as displaced
from simulation.analysis.compare_render import (  # rendering, importable from here as the CLI and tests expect
    COHORT_TOTALS,
    DAGGER,
    WHOLE_PROGRAMME,
    TableSpec,
    markdown,
    print_report,
    tables,
    unsigned_lines,
    write_report,
)
from simulation.analysis.stats import (  # the statistics compare's callers and tests read from here
    PRECISION,
    SEEDS_CAP,
    seeds_needed,
    summarise,
)
from simulation.analysis.targets import Target, load_targets, outcome_rates, referral_mix
from simulation.config import ConfigError
from simulation.measures import GROUP_LABELS, LAST_MONTHS, MEASURES, Measure, month_totals

NOT_RESULTS = results_io.NOT_RESULTS
GROUPS = GROUP_LABELS  # the Work Programme's payment groups, with labels

# The measures compare shows, in order (a breakdown by claimant group under its total).
SHOWN = (
    "employed_mean",
    "employed_last12",
    "referrals",
    "job_outcomes",
    *(f"job_outcomes_{g}" for g in GROUPS),
    "people_sustained_in_work",
    "parked_share",
    "adviser_caseload",
    "provider_cost_per_fee",
    "provider_months_at_minimum",
    "public_cost",
    "public_spending",
    "employment_support_cost",
    "business_support_cost",
    "small_firm_jobs",
    "developer_contributions",
    "esp_apprenticeships",
    "esp_local_hires",
)
# Beyond the model's data contract: skipped without a note where the results lack them.
QUIET: frozenset[str] = frozenset({"provider_months_at_minimum"})
SHOWN_MEASURES: list[Measure] = [MEASURES[k] for k in SHOWN]

__all__ = [
    "DAGGER",
    "GROUPS",
    "LAST_MONTHS",
    "NOT_RESULTS",
    "PRECISION",
    "SEEDS_CAP",
    "Report",
    "Run",
    "TableSpec",
    "analyse",
    "load_runs",
    "markdown",
    "print_report",
    "read_run",
    "tables",
    "unsigned_lines",
    "write_report",
]


# ---------------------------------------------------------------------------------- runs
@dataclass
class Run:
    arm: str
    seed: int
    folder: Path
    place: str
    months: int
    burn_in: int | None
    lead_in: int | None
    monthly: pd.DataFrame
    cohorts: pd.DataFrame | None


def _run(d: results_io.RunData) -> Run:
    return Run(d.scenario, d.seed, d.path, d.place, d.months, d.burn_in, d.lead_in, d.monthly, d.cohorts)


def read_run(folder: Path) -> Run:
    """One finished run folder: its manifest, monthly table and, if present, cohort table."""
    return _run(results_io.read_run_folder(Path(folder)))


def load_runs(folder: Path, only: Iterable[str] | None = None, notes: list[str] | None = None) -> list[Run]:
    """Every finished run in `folder`: run folders `folder/<arm>-seed<S>/` or an experiment's
    `runs/scenario=<name>/seed=<S>.json` (the scenario is the arm); `only` names runs (results_io)."""
    res = results_io.load_results(folder, only)
    if notes is not None:
        notes.extend(res.notes)
    return [_run(d) for d in res.runs]


# -------------------------------------------------------------------------------- report
@dataclass
class Report:
    folder: Path
    place: str
    months: int
    burn_in: int | None
    lead_in: int | None
    arms: list[str]
    baseline: str
    seeds: list[int]
    comparisons: list[tuple[str, str]]  # (minuend, subtrahend)
    measures: list[Measure]  # those every run can give, in SHOWN's order
    levels: pd.DataFrame
    differences: pd.DataFrame
    cost_per_job: pd.DataFrame
    cohorts: pd.DataFrame
    no_referral_arms: list[str]
    notes: list[str] = field(default_factory=list)
    cost_notes: list[str] = field(default_factory=list)
    cohort_notes: list[str] = field(default_factory=list)
    precision: float = PRECISION
    # Cumulative job-outcome rates by months since entry, official and common cohorts (CURVE_COLUMNS).
    curves: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CURVE_COLUMNS))
    # The common cohort's two-year rates and their paired differences from the baseline (COMMON_COLUMNS).
    common: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COMMON_COLUMNS))
    # Cost per gross programme job outcome (OUTCOME_COST_COLUMNS).
    cost_per_outcome: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OUTCOME_COST_COLUMNS))
    common_notes: list[str] = field(default_factory=list)
    # Each payment group's share of an arm's referrals beside DWP's published mix (REFERRAL_MIX_COLUMNS).
    referral_mix: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REFERRAL_MIX_COLUMNS))
    # Effects on the treated and the untreated eligible where an arm refers a share of a group at
    # random, against a baseline that refers no one (`displacement`, Crépon et al. 2013).
    displacement: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=displaced.COLUMNS))


def _month_totals(run: Run) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = month_totals(run.monthly)
    return g, g.iloc[-LAST_MONTHS:]


def _comparisons(arms: list[str], baseline: str) -> list[tuple[str, str]]:
    others = [a for a in arms if a != baseline]
    pairs = [(a, baseline) for a in others]
    pairs += [(others[j], others[i]) for i in range(len(others)) for j in range(i + 1, len(others))]
    return pairs


def _select(runs: list[Run], folder: Path, baseline: str, arms: list[str] | None, notes: list[str]) -> dict:
    by_arm: dict[str, dict[int, Run]] = {}
    for r in runs:
        prev = by_arm.setdefault(r.arm, {}).get(r.seed)
        if prev is not None:
            notes.append(
                f"two runs of {r.arm} seed {r.seed} ({prev.folder.name}, {r.folder.name}); using {prev.folder.name}"
            )
            continue
        by_arm[r.arm][r.seed] = r
    found = sorted(by_arm)
    if baseline not in by_arm:
        raise ConfigError(
            folder,
            "",
            f"no runs of the baseline arm {baseline!r} (arms found: {', '.join(found)}); choose one with --baseline",
        )
    if arms is None:
        arms = [baseline] + [a for a in found if a != baseline]
    else:
        for a in arms:
            if a not in by_arm:
                raise ConfigError(folder, "", f"no runs of arm {a!r} (arms found: {', '.join(found)})")
        arms = [baseline] + [a for a in dict.fromkeys(arms) if a != baseline]
        left = [a for a in found if a not in arms]
        if left:
            notes.append(f"arms in the folder not compared: {', '.join(left)}")
    if len(arms) < 2:
        raise ConfigError(
            folder,
            "",
            f"expected at least two arms to compare, found only {baseline!r}"
            + (" (choose more with --regimes)" if len(found) > 1 else ""),
        )
    chosen = {a: by_arm[a] for a in arms}
    for what, get in (
        ("place", lambda r: r.place),
        ("months", lambda r: r.months),
        ("burn-in", lambda r: r.burn_in),
        ("lead-in", lambda r: r.lead_in),
    ):
        seen = sorted({str(get(r)) for per in chosen.values() for r in per.values()})
        if len(seen) > 1:
            raise ConfigError(
                folder, "", f"the runs differ in {what} ({', '.join(seen)}); compare needs one place over one horizon"
            )
    seeds = sorted(set.intersection(*(set(per) for per in chosen.values())))
    if not seeds:
        raise ConfigError(folder, "", f"no seed was run under every arm ({', '.join(arms)})")
    for a, per in chosen.items():
        extra = sorted(set(per) - set(seeds))
        if extra:
            notes.append(f"{a} seeds {', '.join(map(str, extra))} are not run under every arm; left out of the pairing")
    return {"arms": arms, "by_arm": chosen, "seeds": seeds}


def analyse(
    folder: Path,
    baseline: str = "no_programme",
    arms: list[str] | None = None,
    only: Iterable[str] | None = None,
    precision: float = PRECISION,
) -> Report:
    """Read the runs in `folder` and compute every table; `arms` restricts and orders the arms.

    `precision` is the planner's target: a 90% half-width of this share of each mean difference;
    every difference gets the number of seeds that would reach it (from these pilot seeds)."""
    folder = Path(folder)
    notes: list[str] = []
    sel = _select(load_runs(folder, only, notes), folder, baseline, arms, notes)
    arms, by_arm, seeds = sel["arms"], sel["by_arm"], sel["seeds"]
    runs = [by_arm[a][s] for a in arms for s in seeds]
    first = runs[0]
    if first.months < LAST_MONTHS:
        notes.append(f"runs are {first.months} months long: 'last {LAST_MONTHS} months' means the whole run")

    # Which measures every run can give.
    measures, skipped = [], []
    for m in SHOWN_MEASURES:
        lacking = [r for r in runs if not set(m.columns) <= set(r.monthly.columns)]
        if not lacking:
            measures.append(m)
        elif m.name not in QUIET:
            skipped.append((m, lacking))
    group_skips = [m for m, _ in skipped if m.part_of == "job_outcomes"]
    if group_skips:
        notes.append(
            "job outcomes by claimant group skipped for "
            + ", ".join(GROUPS[m.name.removeprefix("job_outcomes_")] for m in group_skips)
            + ": monthly.parquet has no job_outcomes_<group> column (older results?)"
        )
    for m, lacking in skipped:
        if m.part_of == "job_outcomes":
            continue
        cols = sorted({c for r in lacking for c in m.columns if c not in r.monthly.columns})
        notes.append(
            f"{m.label} skipped: monthly.parquet has no {', '.join(cols)} "
            f"in {len(lacking)} of {len(runs)} runs (older results?)"
        )

    totals = {(r.arm, r.seed): _month_totals(r) for r in runs}
    values = {
        a: {m.name: np.array([m.value(*totals[(a, s)]) for s in seeds]) for m in measures} for a in arms
    }  # arm -> measure -> per-seed values
    comparisons = _comparisons(arms, baseline)

    level_rows, diff_rows = [], []
    for m in measures:
        for a in arms:
            iv = summarise(values[a][m.name])
            level_rows.append(
                {
                    "measure": m.name,
                    "label": m.label,
                    "arm": a,
                    "n_seeds": iv.n,
                    "mean": iv.mean,
                    "low": iv.low,
                    "high": iv.high,
                }
            )
        for a, b in comparisons:
            d = values[a][m.name] - values[b][m.name]
            iv = summarise(d)
            need = seeds_needed(iv.mean, iv.sd, precision) if not iv.all_zero else math.nan
            diff_rows.append(
                {
                    "measure": m.name,
                    "label": m.label,
                    "comparison": f"{a} - {b}",
                    "minuend": a,
                    "subtrahend": b,
                    "n_seeds": iv.n,
                    "mean": iv.mean,
                    "sd": iv.sd,
                    "t": iv.t,
                    "half_width": iv.half,
                    "low": iv.low,
                    "high": iv.high,
                    "interval_includes_zero": iv.includes_zero,
                    "same_in_every_seed": iv.all_zero,
                    "seeds_for_target_half_width": need,
                    "undefined_in": ", ".join(x for x in (a, b) if not np.isfinite(values[x][m.name]).any()),
                }
            )
    cost_notes: list[str] = []
    cost = _cost_per_job(by_arm, arms, baseline, seeds, cost_notes)
    cohort_notes: list[str] = []
    cohorts = _cohort_rates(by_arm, arms, seeds, cohort_notes)
    no_ref = _no_referral_arms(by_arm, arms, seeds)
    common_notes: list[str] = []
    curves = _cumulative_rates(by_arm, arms, seeds, common_notes)
    common = _common_rates(by_arm, arms, baseline, seeds, precision, common_notes)
    shifts = displaced.table({a: {s: by_arm[a][s].cohorts for s in seeds} for a in arms}, arms, baseline, seeds)
    cost_outcome = _cost_per_outcome(arms, seeds, totals, common_notes)
    mix = _referral_mix(by_arm, arms, seeds, notes)
    return Report(
        folder=folder,
        place=first.place,
        months=first.months,
        burn_in=first.burn_in,
        lead_in=first.lead_in,
        arms=arms,
        baseline=baseline,
        seeds=seeds,
        comparisons=comparisons,
        measures=measures,
        levels=pd.DataFrame(level_rows),
        differences=pd.DataFrame(diff_rows),
        cost_per_job=cost,
        cohorts=cohorts,
        displacement=shifts,
        no_referral_arms=no_ref,
        notes=notes,
        cost_notes=cost_notes,
        cohort_notes=cohort_notes,
        precision=precision,
        curves=curves,
        common=common,
        cost_per_outcome=cost_outcome,
        common_notes=list(dict.fromkeys(common_notes)),
        referral_mix=mix,
    )


COST_COLUMNS = [
    "comparison",
    "n_seeds",
    "basis",
    "d_public_spending",
    "d_net_public_cost",
    "d_people_sustained",
    "per_seed_mean",
    "per_seed_low",
    "per_seed_high",
    "per_seed_note",
    "ratio_of_means",
    "ratio_low",
    "ratio_high",
    "ratio_note",
    "net_ratio_of_means",
    "net_ratio_low",
    "net_ratio_high",
    "d_people_sustained_everyone",
    "everyone_ratio_of_means",
    "everyone_ratio_low",
    "everyone_ratio_high",
]


def cost_row(comparison: str, c: costing.CostPerJob) -> dict[str, Any]:
    """One row of `Report.cost_per_job` (COST_COLUMNS) from `costing.cost_per_additional_job`."""
    iv = c.per_seed
    return {
        "comparison": comparison,
        "n_seeds": c.n_seeds,
        "basis": c.basis,
        "d_public_spending": float(c.d_spending.mean()),
        "d_net_public_cost": float(c.d_net_cost.mean()),
        "d_people_sustained": float(c.d_people.mean()),
        "per_seed_mean": iv.mean if iv else math.nan,
        "per_seed_low": iv.low if iv else math.nan,
        "per_seed_high": iv.high if iv else math.nan,
        "per_seed_note": c.per_seed_note,
        "ratio_of_means": c.ratio,
        "ratio_low": c.low,
        "ratio_high": c.high,
        "ratio_note": c.note,
        "net_ratio_of_means": c.net_ratio,
        "net_ratio_low": c.net_low,
        "net_ratio_high": c.net_high,
        "d_people_sustained_everyone": float(c.d_people_everyone.mean())
        if c.d_people_everyone is not None
        else math.nan,
        "everyone_ratio_of_means": c.everyone_ratio,
        "everyone_ratio_low": c.everyone_low,
        "everyone_ratio_high": c.everyone_high,
    }


def _cost_per_job(
    by_arm: dict[str, dict[int, Run]], arms: list[str], baseline: str, seeds: list[int], notes: list[str]
) -> pd.DataFrame:
    """Cost per additional sustained job of each arm against the baseline, in £
    (`costing.cost_per_additional_job`: every public cost of the arm over additional people in work
    six months, on the common cohort where the runs have it)."""
    base = [by_arm[baseline][s] for s in seeds]
    rows = []
    for a in arms:
        if a == baseline:
            continue
        try:
            c = costing.cost_per_additional_job([by_arm[a][s] for s in seeds], base)
        except costing.Missing as e:
            notes.append(f"cost per additional sustained job skipped: {e} (older results?)")
            return pd.DataFrame(columns=COST_COLUMNS)
        rows.append(cost_row(f"{a} - {baseline}", c))
    return pd.DataFrame(rows, columns=COST_COLUMNS)


COHORT_COLUMNS = ["arm", "group", "label", "n_seeds", "eligible_per_seed", "outcomes_per_seed", "rate", "low", "high"]
COHORT_NEEDS = ("group", "eligible", "outcome_24m", "followed_up")


def _cohort_rates(
    by_arm: dict[str, dict[int, Run]], arms: list[str], seeds: list[int], notes: list[str]
) -> pd.DataFrame:
    """Two-year job-outcome rate by claimant group per arm, over cohorts followed for two years."""
    runs = [by_arm[a][s] for a in arms for s in seeds]
    absent = [r for r in runs if r.cohorts is None]
    if absent:
        notes.append(
            "two-year job-outcome rates skipped: "
            f"no cohorts.parquet in {len(absent)} of {len(runs)} runs (older results?)"
        )
        return pd.DataFrame(columns=COHORT_COLUMNS)
    lacking = sorted({c for r in runs for c in COHORT_NEEDS if c not in r.cohorts.columns})  # type: ignore[union-attr]
    if lacking:
        notes.append(f"two-year job-outcome rates skipped: cohorts.parquet has no {', '.join(lacking)}")
        return pd.DataFrame(columns=COHORT_COLUMNS)
    found = {str(g) for r in runs for g in r.cohorts["group"].unique()}  # type: ignore[index]
    groups = [g for g in GROUPS if g in found] + sorted(found - set(GROUPS))
    rows = []
    unfollowed = 0
    for a in arms:
        per_group: dict[str, list[tuple[float, float]]] = {g: [] for g in [*groups, "all"]}
        for s in seeds:
            c = by_arm[a][s].cohorts
            c = c[c["followed_up"].astype(bool)]  # type: ignore[index]
            if c.empty:
                unfollowed += 1
            sums = c.groupby(c["group"].astype(str))[["eligible", "outcome_24m"]].sum()
            for g in groups:
                e, o = (
                    (float(sums.at[g, "eligible"]), float(sums.at[g, "outcome_24m"])) if g in sums.index else (0.0, 0.0)
                )
                per_group[g].append((e, o))
            per_group["all"].append((float(c["eligible"].sum()), float(c["outcome_24m"].sum())))
        # The published whole-programme rate is over referrals: each group's rate weighted by its
        # referrals (`targets.outcome_rates`, as calibration fits it); "all groups" is over everyone
        # who reached a referral point, referred or not.
        per_group[WHOLE_PROGRAMME] = [_whole_programme(by_arm[a][s].cohorts) for s in seeds]  # type: ignore[arg-type]
        for g, pairs in per_group.items():
            e = np.array([p[0] for p in pairs])
            o = np.array([p[1] for p in pairs])
            rate = np.divide(o, e, out=np.full(e.shape, np.nan), where=e > 0)
            iv = summarise(rate)
            rows.append(
                {
                    "arm": a,
                    "group": g,
                    "label": GROUPS.get(g, COHORT_TOTALS.get(g, g)),
                    "n_seeds": iv.n,
                    "eligible_per_seed": float(e.mean()),
                    "outcomes_per_seed": float(o.mean()),
                    "rate": iv.mean,
                    "low": iv.low,
                    "high": iv.high,
                }
            )
    if unfollowed:
        months = by_arm[arms[0]][seeds[0]].months
        notes.append(
            f"{unfollowed} of {len(runs)} runs have no cohort followed for two years "
            f"(runs of {months} months; a cohort needs 24 months after eligibility)"
        )
    return pd.DataFrame(rows, columns=COHORT_COLUMNS)


def _whole_programme(cohorts: pd.DataFrame) -> tuple[float, float]:
    """(referrals, outcomes at the published whole-programme rate) of one run's cohorts followed for
    two years: the rate is `targets.outcome_rates`' referral-weighted one, the figure calibration fits."""
    if "referred" not in cohorts:
        return 0.0, 0.0
    referred = float(cohorts.loc[cohorts["followed_up"].astype(bool), "referred"].sum())
    rate = outcome_rates(cohorts)["all"]
    return (referred, rate * referred) if referred > 0 and math.isfinite(rate) else (0.0, 0.0)


def _no_referral_arms(by_arm: dict[str, dict[int, Run]], arms: list[str], seeds: list[int]) -> list[str]:
    out = []
    for a in arms:
        runs = [by_arm[a][s] for s in seeds]
        if all(r.cohorts is not None and "referred" in r.cohorts.columns for r in runs):
            total = sum(float(r.cohorts["referred"].sum()) for r in runs)  # type: ignore[index]
        elif all("programme_referrals" in r.monthly.columns for r in runs):
            total = sum(float(r.monthly["programme_referrals"].sum()) for r in runs)
        else:
            continue
        if total == 0:
            out.append(a)
    return out


# ------------------------------------------------------------- cumulative and common cohorts
RATE_COLUMNS = ["n_seeds", "eligible_per_seed", "outcomes_per_seed", "rate", "low", "high"]  # `_rate_row`'s
CURVE_COLUMNS = ["cohort", "arm", "group", "label", "horizon", *RATE_COLUMNS]
COMMON_COLUMNS = [
    "arm",
    "group",
    "label",
    *RATE_COLUMNS,
    "comparison",
    "diff_n_seeds",
    "diff_mean",
    "diff_sd",
    "diff_low",
    "diff_high",
    "diff_includes_zero",
    "diff_same_in_every_seed",
    "diff_seeds_for_target_half_width",
    "diff_undefined_in",
]
OUTCOME_COST_COLUMNS = ["arm", "n_seeds", "gross_mean", "gross_low", "gross_high"]
COHORTS = {"official": ("eligible", "outcome"), "common": ("common_eligible", "common_outcome")}
COMMON_HORIZON = 24  # months: the common cohort's regime comparison is on two-year outcomes
HORIZON_COLUMN = re.compile(r"^outcome_(\d+)m$")


def _horizons(runs: list[Run]) -> list[int]:
    """The horizons h (months since entry) with `outcome_<h>m` and `followed_<h>m` in every run's
    cohort table (`followed_up` stands for `followed_24m` in older tables)."""
    found = [{int(m[1]) for c in r.cohorts.columns if (m := HORIZON_COLUMN.match(str(c)))} for r in runs]  # type: ignore[union-attr]
    out = []
    for h in sorted(set.intersection(*found)) if found else []:
        followed = f"followed_{h}m" if h != 24 else "followed_up"
        if all(followed in r.cohorts.columns for r in runs):  # type: ignore[union-attr]
            out.append(h)
    return out


def _followed(c: pd.DataFrame, h: int) -> pd.Series:
    col = f"followed_{h}m" if f"followed_{h}m" in c.columns else "followed_up"
    return c[col].astype(bool)


def _group_list(runs: list[Run], eligible: str) -> list[str]:
    """The groups anyone entered (`eligible` > 0 in some run), payment groups first."""
    found: set[str] = set()
    for r in runs:
        c = r.cohorts
        assert c is not None
        found |= {str(g) for g in c.loc[c[eligible] > 0, "group"].unique()}
    return [g for g in GROUPS if g in found] + sorted(found - set(GROUPS))


def _sums_by_group(c: pd.DataFrame, groups: list[str], eligible: str, outcome: str) -> dict[str, tuple[float, float]]:
    """(entrants, outcomes) of each group and of all groups in a cohort table's rows."""
    sums = c.groupby(c["group"].astype(str))[[eligible, outcome]].sum()
    out = {
        g: (float(sums.at[g, eligible]), float(sums.at[g, outcome])) if g in sums.index else (0.0, 0.0) for g in groups
    }
    out["all"] = (float(c[eligible].sum()), float(c[outcome].sum()))
    return out


def _rate_row(e: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-seed rates outcomes / entrants (NaN without entrants), and their mean with its interval."""
    rate = np.divide(o, e, out=np.full(e.shape, np.nan), where=e > 0)
    iv = summarise(rate)
    return rate, {
        "n_seeds": iv.n,
        "eligible_per_seed": float(e.mean()),
        "outcomes_per_seed": float(o.mean()),
        "rate": iv.mean,
        "low": iv.low,
        "high": iv.high,
    }


def _label_of(g: str) -> str:
    return GROUPS.get(g, "all groups" if g == "all" else g)


def _cohort_runs(by_arm: dict[str, dict[int, Run]], arms: list[str], seeds: list[int]) -> list[Run] | None:
    runs = [by_arm[a][s] for a in arms for s in seeds]
    return None if any(r.cohorts is None for r in runs) else runs


def _cumulative_rates(
    by_arm: dict[str, dict[int, Run]], arms: list[str], seeds: list[int], notes: list[str]
) -> pd.DataFrame:
    """Job-outcome rate within h months of entering the cohort, for each horizon h the tables give
    (6, 12, 18, 24), by group per arm, for the official and the common cohort: outcomes within h
    months over the people who entered, over the cohorts followed for h months (so each horizon's
    rate is over the entry months the run followed that long)."""
    runs = _cohort_runs(by_arm, arms, seeds)
    if runs is None:
        return pd.DataFrame(columns=CURVE_COLUMNS)  # _cohort_rates has said why
    horizons = _horizons(runs)
    if len(horizons) < 2:
        notes.append(
            "cumulative job-outcome rates skipped: cohorts.parquet has no outcome_<h>m columns (older results?)"
        )
        return pd.DataFrame(columns=CURVE_COLUMNS)
    rows = []
    for cohort, (eligible, outcome) in COHORTS.items():
        hs = [h for h in horizons if all(f"{outcome}_{h}m" in r.cohorts.columns for r in runs)]  # type: ignore[union-attr]
        if eligible not in runs[0].cohorts.columns or not hs:  # type: ignore[union-attr]
            continue
        groups = _group_list(runs, eligible)
        for h in hs:
            for a in arms:
                per_seed = []
                for s in seeds:
                    c = by_arm[a][s].cohorts
                    assert c is not None
                    per_seed.append(_sums_by_group(c[_followed(c, h)], groups, eligible, f"{outcome}_{h}m"))
                for g in [*groups, "all"]:
                    e = np.array([p[g][0] for p in per_seed])
                    o = np.array([p[g][1] for p in per_seed])
                    _, summary = _rate_row(e, o)
                    rows.append(
                        {"cohort": cohort, "arm": a, "group": g, "label": _label_of(g), "horizon": h, **summary}
                    )
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def _common_ready(runs: list[Run] | None, notes: list[str]) -> bool:
    need = ("common_eligible", f"common_outcome_{COMMON_HORIZON}m")
    if runs is None:
        notes.append("the common cohort is skipped: some runs have no cohorts.parquet (older results?)")
        return False
    lacking = sorted({c for r in runs for c in need if c not in r.cohorts.columns})  # type: ignore[union-attr]
    if lacking:
        notes.append(f"the common cohort is skipped: cohorts.parquet has no {', '.join(lacking)} (older results?)")
        return False
    return True


def _common_rates(
    by_arm: dict[str, dict[int, Run]],
    arms: list[str],
    baseline: str,
    seeds: list[int],
    precision: float,
    notes: list[str],
) -> pd.DataFrame:
    """The common cohort's two-year job-outcome rate by group per arm (cohorts followed for two
    years), and each arm's difference from the baseline, seed by seed (the paired interval of
    `analyse`'s differences): the like-for-like regime comparison, the cohort being defined the
    same way in every arm."""
    runs = _cohort_runs(by_arm, arms, seeds)
    if not _common_ready(runs, notes):
        return pd.DataFrame(columns=COMMON_COLUMNS)
    assert runs is not None
    h = COMMON_HORIZON
    groups = _group_list(runs, "common_eligible")
    rates: dict[str, dict[str, np.ndarray]] = {}
    rows = []
    unfollowed = 0
    for a in arms:
        per_seed = []
        for s in seeds:
            c = by_arm[a][s].cohorts
            assert c is not None
            c = c[_followed(c, h)]
            unfollowed += c.empty
            per_seed.append(_sums_by_group(c, groups, "common_eligible", f"common_outcome_{h}m"))
        rates[a] = {}
        for g in [*groups, "all"]:
            e = np.array([p[g][0] for p in per_seed])
            o = np.array([p[g][1] for p in per_seed])
            rates[a][g], summary = _rate_row(e, o)
            rows.append({"arm": a, "group": g, "label": _label_of(g), **summary})
    for row in rows:
        a, g = row["arm"], row["group"]
        if a == baseline:
            row.update(comparison="", diff_n_seeds=0, diff_undefined_in="")
            continue
        d = rates[a][g] - rates[baseline][g]
        iv = summarise(d)
        row.update(
            comparison=f"{a} - {baseline}",
            diff_n_seeds=iv.n,
            diff_mean=iv.mean,
            diff_sd=iv.sd,
            diff_low=iv.low,
            diff_high=iv.high,
            diff_includes_zero=iv.includes_zero,
            diff_same_in_every_seed=iv.all_zero,
            diff_seeds_for_target_half_width=seeds_needed(iv.mean, iv.sd, precision) if not iv.all_zero else math.nan,
            diff_undefined_in=", ".join(x for x in (a, baseline) if not np.isfinite(rates[x][g]).any()),
        )
    if unfollowed:
        months = runs[0].months
        notes.append(
            f"{unfollowed} of {len(runs)} runs have no common cohort followed for two years "
            f"(runs of {months} months; a cohort needs 24 months after entry)"
        )
    return pd.DataFrame(rows, columns=COMMON_COLUMNS)


def _cost_per_outcome(
    arms: list[str],
    seeds: list[int],
    totals: dict[tuple[str, int], tuple[pd.DataFrame, pd.DataFrame]],
    notes: list[str],
) -> pd.DataFrame:
    """Per arm: employment-support cost per programme job outcome (gross: every outcome a provider
    was paid for, whoever would have found work anyway), the figure DWP's statistics allow. What
    an arm's jobs cost beyond the baseline's is cost per additional sustained job (`_cost_per_job`)."""
    gross = MEASURES["cost_per_job_outcome"]
    if not all(set(gross.columns) <= set(totals[(a, s)][0].columns) for a in arms for s in seeds):
        notes.append("cost per job outcome skipped: it needs employment_support_cost and programme_job_outcomes")
        return pd.DataFrame(columns=OUTCOME_COST_COLUMNS)
    rows = []
    for a in arms:
        iv = summarise([gross.value(*totals[(a, s)]) for s in seeds])
        rows.append(
            {"arm": a, "n_seeds": len(seeds), "gross_mean": iv.mean, "gross_low": iv.low, "gross_high": iv.high}
        )
    return pd.DataFrame(rows, columns=OUTCOME_COST_COLUMNS)


# ------------------------------------------------------------------------------ referral mix
REFERRAL_MIX_COLUMNS = [
    "arm",
    "group",
    "label",
    "n_seeds",
    "share",
    "low",
    "high",
    "published",
    "published_low",
    "published_high",
    "source",
]


def _published_mix(notes: list[str]) -> dict[str, Target]:
    """DWP's published share of referrals by payment group: the `referral_share_<group>` calibration
    targets (a group without a published figure is absent)."""
    try:
        targets = load_targets()
    except ConfigError as e:
        # A broken targets file should cost the comparison its published column, not the whole report.
        notes.append(f"the published referral mix is not shown: {e}")
        return {}
    return {g: t for g in GROUPS if (t := targets.get(f"referral_share_{g}")) is not None}


def _referral_mix(
    by_arm: dict[str, dict[int, Run]], arms: list[str], seeds: list[int], notes: list[str]
) -> pd.DataFrame:
    """Each payment group's share of an arm's referrals over the measured months (every entry
    cohort; `targets.referral_mix` of each run, as calibration reads it), mean with its 90% interval
    over the seeds that referred anyone, beside the published share and its band. An arm that
    refers no one has no rows."""
    runs = _cohort_runs(by_arm, arms, seeds)
    if runs is None:
        return pd.DataFrame(columns=REFERRAL_MIX_COLUMNS)  # _cohort_rates has said why
    if any("referred" not in r.cohorts.columns for r in runs):  # type: ignore[union-attr]
        notes.append("the referral mix is skipped: cohorts.parquet has no referred column (older results?)")
        return pd.DataFrame(columns=REFERRAL_MIX_COLUMNS)
    published = _published_mix(notes)
    rows = []
    for a in arms:
        mixes = [referral_mix(by_arm[a][s].cohorts) for s in seeds]
        if all(math.isnan(v) for m in mixes for v in m.values()):
            continue  # no referrals, so no mix (the arm is in no_referral_arms)
        for g in mixes[0]:
            iv = summarise([m[g] for m in mixes])
            t = published.get(g)
            rows.append(
                {
                    "arm": a,
                    "group": g,
                    "label": _label_of(g),
                    "n_seeds": iv.n,
                    "share": iv.mean,
                    "low": iv.low,
                    "high": iv.high,
                    "published": t.value if t else math.nan,
                    "published_low": t.low if t else math.nan,
                    "published_high": t.high if t else math.nan,
                    "source": t.source if t else "",
                }
            )
    return pd.DataFrame(rows, columns=REFERRAL_MIX_COLUMNS)
