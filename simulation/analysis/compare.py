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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis import results_io
from simulation.analysis.stats import (  # the statistics compare's callers and tests read from here
    PRECISION,
    SEEDS_CAP,
    fieller,
    seeds_needed,
    summarise,
)
from simulation.config import ConfigError
from simulation.results import atomic_write

LAST_MONTHS = 12
NOT_RESULTS = results_io.NOT_RESULTS
DAGGER = "†"

# The Work Programme's payment groups, as the model names them, with labels.
GROUPS: dict[str, str] = {
    "jsa_18_24": "JSA 18-24",
    "jsa_25_plus": "JSA 25+",
    "jsa_ex_ib": "JSA ex-IB",
    "esa_new": "ESA new claimants",
    "esa_ex_ib": "ESA ex-IB",
}


# ------------------------------------------------------------------------------- measures
Frame = pd.DataFrame


@dataclass(frozen=True)
class Measure:
    """One figure per run, from the month totals (`g`, all districts) and their last months (`tail`)."""

    key: str
    label: str
    decimals: int
    columns: tuple[str, ...]
    value: Callable[[Frame, Frame], float]
    quiet: bool = False  # beyond the data contract: skip without a note when absent


def _sum(col: str, scale: float = 1.0) -> Callable[[Frame, Frame], float]:
    return lambda g, tail: float(g[col].sum()) / scale


def _mean(col: str) -> Callable[[Frame, Frame], float]:
    return lambda g, tail: float(g[col].mean())


def _tail_mean(col: str) -> Callable[[Frame, Frame], float]:
    return lambda g, tail: float(tail[col].mean())


def _share(num: str, den: str) -> Callable[[Frame, Frame], float]:
    def f(g: Frame, tail: Frame) -> float:
        d = float(g[den].sum())
        return float(g[num].sum()) / d if d > 0 else math.nan

    return f


def _measures() -> list[Measure]:
    m = [
        Measure("employed_mean", "employed, mean over the run (people)", 0, ("employed",), _mean("employed")),
        Measure(
            "employed_last12",
            f"employed, mean over the last {LAST_MONTHS} months (people)",
            0,
            ("employed",),
            _tail_mean("employed"),
        ),
        Measure("referrals", "programme referrals", 0, ("programme_referrals",), _sum("programme_referrals")),
        Measure(
            "job_outcomes", "programme job outcomes", 0, ("programme_job_outcomes",), _sum("programme_job_outcomes")
        ),
    ]
    m += [
        Measure(f"job_outcomes_{g}", f"  job outcomes: {lab}", 0, (f"job_outcomes_{g}",), _sum(f"job_outcomes_{g}"))
        for g, lab in GROUPS.items()
    ]
    m.append(
        Measure(
            "sustained_jobs",
            "sustained jobs (6 months in work, everyone)",
            0,
            ("sustained_jobs",),
            _sum("sustained_jobs"),
        )
    )
    m += [
        Measure(
            f"sustained_jobs_{g}",
            f"  sustained jobs: {lab}",
            0,
            (f"sustained_jobs_{g}",),
            _sum(f"sustained_jobs_{g}"),
            quiet=True,
        )
        for g, lab in GROUPS.items()
    ]
    m += [
        Measure(
            "parked_share",
            "parked: high-barrier participants seeking work with almost no adviser time (share)",
            3,
            ("parked", "high_barrier_seeking"),
            _share("parked", "high_barrier_seeking"),
        ),
        Measure(
            "public_cost", "public cost £m (benefits + support - tax)", 2, ("public_cost",), _sum("public_cost", 1e6)
        ),
        Measure(
            "employment_support_cost",
            "employment-support cost £m",
            2,
            ("employment_support_cost",),
            _sum("employment_support_cost", 1e6),
        ),
        Measure(
            "business_support_cost",
            "business-support cost £m",
            2,
            ("business_support_cost",),
            _sum("business_support_cost", 1e6),
        ),
        Measure(
            "small_firm_jobs",
            f"small-business jobs (mean, last {LAST_MONTHS} months)",
            0,
            ("small_firm_jobs",),
            _tail_mean("small_firm_jobs"),
        ),
        Measure(
            "developer_contributions",
            "developer skills contributions £m",
            3,
            ("developer_skills_contribution",),
            _sum("developer_skills_contribution", 1e6),
        ),
        Measure(
            "esp_apprenticeships",
            "apprenticeships (employment and skills plans)",
            1,
            ("esp_apprenticeships",),
            _sum("esp_apprenticeships"),
        ),
        Measure(
            "esp_local_hires",
            "local hires (employment and skills plans)",
            1,
            ("esp_local_hires",),
            _sum("esp_local_hires"),
        ),
    ]
    return m


MEASURES = _measures()


# ---------------------------------------------------------------------------------- runs
@dataclass
class Run:
    arm: str
    seed: int
    folder: Path
    place: str
    months: int
    burn_in: int | None
    monthly: pd.DataFrame
    cohorts: pd.DataFrame | None


def _run(d: results_io.RunData) -> Run:
    return Run(d.scenario, d.seed, d.path, d.place, d.months, d.burn_in, d.monthly, d.cohorts)


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
    arms: list[str]
    baseline: str
    seeds: list[int]
    comparisons: list[tuple[str, str]]  # (minuend, subtrahend)
    measures: list[Measure]
    levels: pd.DataFrame
    differences: pd.DataFrame
    cost_per_job: pd.DataFrame
    cohorts: pd.DataFrame
    no_referral_arms: list[str]
    notes: list[str] = field(default_factory=list)
    cost_notes: list[str] = field(default_factory=list)
    cohort_notes: list[str] = field(default_factory=list)
    precision: float = PRECISION


def _month_totals(run: Run) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = run.monthly.groupby("month").sum(numeric_only=True).sort_index()
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
    for m in MEASURES:
        lacking = [r for r in runs if not set(m.columns) <= set(r.monthly.columns)]
        if not lacking:
            measures.append(m)
        elif not m.quiet:
            skipped.append((m, lacking))
    group_skips = [m for m, _ in skipped if m.key.startswith("job_outcomes_")]
    if group_skips:
        notes.append(
            "job outcomes by claimant group skipped for "
            + ", ".join(GROUPS[m.key.removeprefix("job_outcomes_")] for m in group_skips)
            + ": monthly.parquet has no job_outcomes_<group> column (older results?)"
        )
    for m, lacking in skipped:
        if m.key.startswith("job_outcomes_"):
            continue
        cols = sorted({c for r in lacking for c in m.columns if c not in r.monthly.columns})
        notes.append(
            f"{m.label} skipped: monthly.parquet has no {', '.join(cols)} "
            f"in {len(lacking)} of {len(runs)} runs (older results?)"
        )

    totals = {(r.arm, r.seed): _month_totals(r) for r in runs}
    values = {
        a: {m.key: np.array([m.value(*totals[(a, s)]) for s in seeds]) for m in measures} for a in arms
    }  # arm -> measure -> per-seed values
    comparisons = _comparisons(arms, baseline)

    level_rows, diff_rows = [], []
    for m in measures:
        for a in arms:
            iv = summarise(values[a][m.key])
            level_rows.append(
                {
                    "measure": m.key,
                    "label": m.label.strip(),
                    "arm": a,
                    "n_seeds": iv.n,
                    "mean": iv.mean,
                    "low": iv.low,
                    "high": iv.high,
                }
            )
        for a, b in comparisons:
            d = values[a][m.key] - values[b][m.key]
            iv = summarise(d)
            need = seeds_needed(iv.mean, iv.sd, precision) if not iv.all_zero else math.nan
            diff_rows.append(
                {
                    "measure": m.key,
                    "label": m.label.strip(),
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
                    "undefined_in": ", ".join(x for x in (a, b) if not np.isfinite(values[x][m.key]).any()),
                }
            )
    cost_notes: list[str] = []
    cost = _cost_per_job(values, arms, baseline, {m.key for m in measures}, cost_notes)
    cohort_notes: list[str] = []
    cohorts = _cohort_rates(by_arm, arms, seeds, cohort_notes)
    no_ref = _no_referral_arms(by_arm, arms, seeds)
    return Report(
        folder=folder,
        place=first.place,
        months=first.months,
        burn_in=first.burn_in,
        arms=arms,
        baseline=baseline,
        seeds=seeds,
        comparisons=comparisons,
        measures=measures,
        levels=pd.DataFrame(level_rows),
        differences=pd.DataFrame(diff_rows),
        cost_per_job=cost,
        cohorts=cohorts,
        no_referral_arms=no_ref,
        notes=notes,
        cost_notes=cost_notes,
        cohort_notes=cohort_notes,
        precision=precision,
    )


COST_COLUMNS = [
    "comparison",
    "n_seeds",
    "d_support_cost",
    "d_sustained_jobs",
    "per_seed_mean",
    "per_seed_low",
    "per_seed_high",
    "per_seed_note",
    "ratio_of_means",
    "ratio_low",
    "ratio_high",
    "ratio_note",
]


def _cost_per_job(
    values: dict[str, dict[str, np.ndarray]], arms: list[str], baseline: str, have: set[str], notes: list[str]
) -> pd.DataFrame:
    """(delta employment-support + business-support cost) / delta sustained jobs against the baseline, in £."""
    if "sustained_jobs" not in have or "employment_support_cost" not in have:
        notes.append("cost per additional sustained job skipped: it needs sustained_jobs and employment_support_cost")
        return pd.DataFrame(columns=COST_COLUMNS)
    cost_keys = ["employment_support_cost"]
    if "business_support_cost" in have:
        cost_keys.append("business_support_cost")
    else:
        notes.append(
            "business_support_cost is absent: cost per additional sustained job counts employment support only"
        )
    rows = []
    for a in arms:
        if a == baseline:
            continue
        dc = sum(values[a][k] - values[baseline][k] for k in cost_keys) * 1e6  # £
        dj = values[a]["sustained_jobs"] - values[baseline]["sustained_jobs"]
        n = len(dj)
        row: dict[str, Any] = {
            "comparison": f"{a} - {baseline}",
            "n_seeds": n,
            "d_support_cost": float(dc.mean()),
            "d_sustained_jobs": float(dj.mean()),
        }
        bad = int((dj <= 0).sum())
        if bad:
            row.update(per_seed_mean=math.nan, per_seed_low=math.nan, per_seed_high=math.nan)
            row["per_seed_note"] = f"n/a: no additional sustained jobs in {bad} of {n} seeds"
        else:
            iv = summarise(dc / dj)
            row.update(per_seed_mean=iv.mean, per_seed_low=iv.low, per_seed_high=iv.high, per_seed_note="")
        if dj.mean() <= 0:
            row.update(ratio_of_means=math.nan, ratio_low=math.nan, ratio_high=math.nan)
            row["ratio_note"] = "n/a: no additional sustained jobs on average"
        else:
            row["ratio_of_means"] = float(dc.mean() / dj.mean())
            ci = fieller(dc, dj)
            row["ratio_low"], row["ratio_high"] = ci if ci is not None else (math.nan, math.nan)
            row["ratio_note"] = "" if ci is not None else "unbounded: sustained jobs not clearly above the baseline"
        rows.append(row)
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
        for g, pairs in per_group.items():
            e = np.array([p[0] for p in pairs])
            o = np.array([p[1] for p in pairs])
            rate = np.divide(o, e, out=np.full(e.shape, np.nan), where=e > 0)
            iv = summarise(rate)
            rows.append(
                {
                    "arm": a,
                    "group": g,
                    "label": GROUPS.get(g, "all groups" if g == "all" else g),
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


# ------------------------------------------------------------------------------ rendering
def _num(x: float, decimals: int, signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if round(x, decimals) == 0:
        return f"{0.0:,.{decimals}f}"  # no "-0", "+0" or "-0.00"
    return f"{x:+,.{decimals}f}" if signed else f"{x:,.{decimals}f}"


def _money(x: float) -> str:
    return "n/a" if not math.isfinite(x) else (f"-£{-x:,.0f}" if x < 0 else f"£{x:,.0f}")


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.1f}%"


@dataclass
class TableSpec:
    name: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def _levels_table(rep: Report) -> TableSpec:
    rows = []
    lv = rep.levels.set_index(["measure", "arm"])
    for m in rep.measures:
        cells = [m.label]
        for a in rep.arms:
            r = lv.loc[(m.key, a)]
            cell = _num(r["mean"], m.decimals)
            if r["n_seeds"] >= 2:
                cell += f" [{_num(r['low'], m.decimals)}, {_num(r['high'], m.decimals)}]"
            cells.append(cell)
        rows.append(cells)
    n = len(rep.seeds)
    return TableSpec(
        "levels",
        f"{rep.place}: each arm, mean [90% interval] over {n} seeds",
        ["measure", *rep.arms],
        rows,
    )


def _diff_cell(r: pd.Series, decimals: int) -> str:
    if r["n_seeds"] == 0:
        return f"n/a (undefined in {r['undefined_in']})" if r["undefined_in"] else "n/a"
    if r["same_in_every_seed"]:
        return "0 (same in every seed)"
    cell = _num(r["mean"], decimals, signed=True)
    if r["n_seeds"] >= 2:
        cell += f" [{_num(r['low'], decimals, True)}, {_num(r['high'], decimals, True)}]"
    if r["interval_includes_zero"]:
        cell += f" {DAGGER}"
    return cell


def _differences_table(rep: Report) -> TableSpec:
    d = rep.differences.set_index(["measure", "comparison"])
    n = len(rep.seeds)
    rows = []
    for m in rep.measures:
        cells = [m.label]
        for a, b in rep.comparisons:
            r = d.loc[(m.key, f"{a} - {b}")]
            cell = _diff_cell(r, m.decimals)
            if 0 < r["n_seeds"] < n:
                cell += f" (n={r['n_seeds']})"
            cells.append(cell)
        rows.append(cells)
    return TableSpec(
        "differences",
        f"{rep.place}: paired differences, same seeds: mean [90% interval] over {n} seeds",
        ["measure", *[f"{a} - {b}" for a, b in rep.comparisons]],
        rows,
        [
            f"{DAGGER} the 90% interval includes zero: these seeds are too few to sign the difference.",
            "Interval: mean ± t(0.95, n-1)·sd/√n of the seed-by-seed differences (common random numbers).",
        ],
    )


def _cost_table(rep: Report) -> TableSpec | None:
    if rep.cost_per_job.empty:
        return None
    rows = []
    for _, r in rep.cost_per_job.iterrows():
        if r["per_seed_note"]:
            per_seed = r["per_seed_note"]
        else:
            per_seed = _money(r["per_seed_mean"])
            if r["n_seeds"] >= 2:
                per_seed += f" [{_money(r['per_seed_low'])}, {_money(r['per_seed_high'])}]"
        if math.isfinite(r["ratio_of_means"]):
            ratio = _money(r["ratio_of_means"])
            ratio += (
                f" [{_money(r['ratio_low'])}, {_money(r['ratio_high'])}]" if not r["ratio_note"] else " [unbounded]"
            )
        else:
            ratio = r["ratio_note"]
        rows.append(
            [
                r["comparison"],
                _num(r["d_support_cost"] / 1e6, 2, True),
                _num(r["d_sustained_jobs"], 0, True),
                per_seed,
                ratio,
            ]
        )
    return TableSpec(
        "cost_per_job",
        f"Cost per additional sustained job against {rep.baseline}: mean [90% interval] over {len(rep.seeds)} seeds",
        [
            "comparison",
            "Δ support cost £m",
            "Δ sustained jobs",
            "per seed, then averaged",
            "ratio of means [Fieller]",
        ],
        rows,
        [
            "Support cost = employment-support + business-support cost (public). "
            "The ratio of means is Δ mean cost / Δ mean sustained jobs; its interval is unbounded "
            "when the seeds cannot tell Δ sustained jobs from zero. Per-seed ratios are unstable when a seed's "
            "Δ sustained jobs is near zero; the ratio of means is the steadier figure.",
            *rep.cost_notes,
        ],
    )


def _cohort_table(rep: Report) -> TableSpec | None:
    if rep.cohorts.empty:
        return None
    c = rep.cohorts.set_index(["group", "arm"])
    rows = []
    for g in dict.fromkeys(rep.cohorts["group"]):
        cells = [str(c.loc[(g, rep.arms[0]), "label"])]
        for a in rep.arms:
            r = c.loc[(g, a)]
            cell = _pct(r["rate"])
            if r["n_seeds"] >= 2:
                cell += f" [{_pct(r['low'])}, {_pct(r['high'])}]"
            cell += f" of {_num(r['eligible_per_seed'], 0)}"
            cells.append(cell)
        rows.append(cells)
    notes = [
        "Job outcomes within two years of becoming eligible, over the people eligible (official definition; only "
        "cohorts followed for the full two years); 'of N' is the number eligible per seed. Comparable with the "
        "published Work Programme statistics by payment group (a job outcome within two years of referral).",
    ]
    for a in rep.no_referral_arms:
        notes.append(
            f"{a} has no referrals: its cohort is the people who reached the Work Programme's referral point "
            "(who would have been referred)."
        )
    notes += _cohort_size_notes(rep)
    if not rep.no_referral_arms:
        notes.append(
            "For an arm with no referrals the cohort is the people who reached the Work Programme's referral "
            "point (who would have been referred)."
        )
    return TableSpec(
        "cohort_outcomes",
        f"Two-year job-outcome rate by claimant group: mean [90% interval] over {len(rep.seeds)} seeds",
        ["claimant group", *rep.arms],
        rows,
        [*notes, *rep.cohort_notes],
    )


def _cohort_size_notes(rep: Report, tolerance: float = 0.05) -> list[str]:
    """Say which arms' cohorts are not the baseline's (different referral points: different people)."""
    c = rep.cohorts[rep.cohorts["group"] != "all"].set_index(["arm", "group"])["eligible_per_seed"]
    out = []
    for a in rep.arms:
        if a == rep.baseline:
            continue
        worst = None
        for g in dict.fromkeys(rep.cohorts["group"]):
            if g == "all" or (a, g) not in c.index or (rep.baseline, g) not in c.index:
                continue
            mine, base = float(c.loc[(a, g)]), float(c.loc[(rep.baseline, g)])
            gap = abs(mine - base) / max(base, 1.0)
            if gap > tolerance and (worst is None or gap > worst[0]):
                worst = (gap, g, mine, base)
        if worst is not None:
            _, g, mine, base = worst
            out.append(
                f"{a}'s cohorts are not {rep.baseline}'s (e.g. {GROUPS.get(g, g)}: {_num(mine, 0)} eligible per seed "
                f"against {_num(base, 0)}): its referral points differ, so its rates are for different people, "
                "not a like-for-like comparison."
            )
    return out


def tables(rep: Report) -> list[TableSpec]:
    out = [_levels_table(rep), _differences_table(rep)]
    for t in (_cost_table(rep), _cohort_table(rep)):
        if t is not None:
            out.append(t)
    return out


def unsigned_lines(rep: Report) -> list[str]:
    """Which differences the seeds are too few to sign, and how many seeds would sign them."""
    n = len(rep.seeds)
    if n < 2:
        return [
            f"Only {n} paired seed: no intervals, so no difference is signed; run at least 2 (5 or more is better)."
        ]
    d = rep.differences
    un = d[d["interval_includes_zero"]]
    if un.empty:
        return [f"Every difference's 90% interval excludes zero over these {n} seeds."]
    labels = {m.key: m.label.strip() for m in rep.measures}
    out = [
        f"Too few seeds to sign {len(un)} difference(s) (90% interval includes zero over {n} seeds). Seeds for a "
        f"90% half-width of {rep.precision:.0%} of the mean difference (--precision), planned from these pilot seeds "
        f"(smallest n with t(0.95, n-1)·sd/√n ≤ {rep.precision:g}·|mean|; rough, since the pilot sd is itself "
        "uncertain; differences.csv gives it for every difference):"
    ]
    for _, r in un.iterrows():
        need = r["seeds_for_target_half_width"]
        if not math.isfinite(need):
            est = "not estimable (mean difference 0)"
        elif need > SEEDS_CAP:
            est = f"more than {SEEDS_CAP:,} seeds"
        else:
            est = f"about {int(need):,} seeds"
        out.append(f"  {labels[r['measure']]}, {r['comparison']}: {est}")
    return out


def print_report(rep: Report, console: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = console or Console(width=200)
    seeds = rep.seeds
    span = f"{seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ", ".join(map(str, seeds))
    burn = f"{rep.burn_in} months burn-in + " if rep.burn_in is not None else ""
    print(
        f"labourlab compare: {rep.place}, arms {', '.join(rep.arms)} (baseline {rep.baseline}), "
        f"{len(seeds)} paired seeds ({span}), {burn}{rep.months} months, from {rep.folder}"
    )
    for note in rep.notes:
        print(f"note: {note}")
    for spec in tables(rep):
        t = Table(title=escape(spec.title))
        for i, h in enumerate(spec.headers):
            t.add_column(escape(h), justify="left" if i == 0 else "right")
        for row in spec.rows:
            t.add_row(*(escape(c) for c in row))
        con.print(t)
        for note in spec.notes:
            print(note)
    if rep.cost_per_job.empty:
        for note in rep.cost_notes:
            print(f"note: {note}")
    if rep.cohorts.empty:
        for note in rep.cohort_notes:
            print(f"note: {note}")
    for line in unsigned_lines(rep):
        print(line)


def _markdown_table(spec: TableSpec) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    lines = [f"### {spec.title}", "", "| " + " | ".join(cell(h) for h in spec.headers) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(spec.headers) - 1)) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in spec.rows]
    if spec.notes:
        lines += ["", *spec.notes]
    return "\n".join(lines) + "\n"


def markdown(rep: Report) -> str:
    parts = [
        f"# labourlab compare: {rep.place}",
        "",
        f"Arms {', '.join(rep.arms)} (baseline {rep.baseline}) on {len(rep.seeds)} paired seeds "
        f"({', '.join(map(str, rep.seeds))}), {rep.months} months, runs in `{rep.folder}`.",
        "",
    ]
    if rep.notes:
        parts += [f"- {n}" for n in rep.notes] + [""]
    for spec in tables(rep):
        parts.append(_markdown_table(spec))
    if rep.cost_per_job.empty:
        parts += [f"- {n}" for n in rep.cost_notes]
    if rep.cohorts.empty:
        parts += [f"- {n}" for n in rep.cohort_notes]
    parts += ["", *unsigned_lines(rep)]
    return "\n".join(parts).rstrip("\n") + "\n"


def write_report(rep: Report, out_dir: Path) -> list[Path]:
    """Write the tables as CSV (tidy, full precision) and one Markdown file, each atomically."""
    out_dir = Path(out_dir)
    files: list[tuple[str, Callable[[Path], None]]] = [
        ("levels.csv", lambda p: rep.levels.to_csv(p, index=False)),
        ("differences.csv", lambda p: rep.differences.to_csv(p, index=False)),
    ]
    if not rep.cost_per_job.empty:
        files.append(("cost_per_job.csv", lambda p: rep.cost_per_job.to_csv(p, index=False)))
    if not rep.cohorts.empty:
        files.append(("cohort_outcomes.csv", lambda p: rep.cohorts.to_csv(p, index=False)))
    text = markdown(rep)
    files.append(("compare.md", lambda p: p.write_text(text, encoding="utf-8")))
    paths = []
    for name, write in files:
        atomic_write(out_dir / name, write)
        paths.append(out_dir / name)
    return paths
