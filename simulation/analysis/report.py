"""`labourlab report`: one self-contained report of an experiment's results, with figures.

From a results folder (either layout, see results_io) it writes, each file atomically:

- figures (PNG and SVG, matplotlib's Agg backend): time paths per arm with 90% bands across seeds,
  paired differences from the baseline, two-year job-outcome rates by claimant group, cost per
  additional sustained job, and, when the results hold a claim's arms, the claims against the model;
- report.md and report.html: compare's tables, the figures, the claims table, the assumptions the
  results depend on, the manifest (versions, commit, seeds, place, horizon; each arm's resolved
  config in configs/<arm>.json) and the command lines that regenerate it.

The numbers come from compare.analyse and claims.analyse; this module only draws and assembles.
"""

from __future__ import annotations

import html
import json
import math
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis import claims, compare, results_io
from simulation.analysis.compare import GROUPS
from simulation.analysis.stats import LEVEL, t_quantile
from simulation.config import ConfigError, flatten_keys, load_calibration
from simulation.results import atomic_write

FIGURE_FORMATS = ("png", "svg")
DPI = 150
PCT = f"{LEVEL:.0%}"

# The measures the difference chart shows, in order (those the results lack are left out).
MAIN_DIFFERENCES = (
    "employed_last12",
    "sustained_jobs",
    "job_outcomes",
    "small_firm_jobs",
    "parked_share",
    "public_cost",
    "employment_support_cost",
    "business_support_cost",
)


@dataclass
class Path_:
    """One time path: a column (or ratio of columns) of the month totals, per month."""

    key: str
    title: str
    ylabel: str
    needs: tuple[str, ...]
    value: Callable[[pd.DataFrame], pd.Series]
    relative: bool = False  # drawn as each arm minus the baseline, seed by seed


def _ratio(num: str, den: Callable[[pd.DataFrame], pd.Series], scale: float = 100.0) -> Callable:
    def f(g: pd.DataFrame) -> pd.Series:
        d = den(g)
        return scale * g[num] / d.where(d > 0)

    return f


TIME_PATHS = [
    Path_(
        "employment_rate",
        "Employment rate",
        "% of working-age population",
        ("employed", "population"),
        _ratio("employed", lambda g: g["population"]),
    ),
    Path_(
        "unemployment_rate",
        "Unemployment rate",
        "% of the economically active",
        ("employed", "unemployed"),
        _ratio("unemployed", lambda g: g["employed"] + g["unemployed"]),
    ),
    Path_(
        "ltu_share",
        "Long-term unemployment share",
        "% of the unemployed",
        ("long_term_unemployed", "unemployed"),
        _ratio("long_term_unemployed", lambda g: g["unemployed"]),
    ),
    Path_(
        "public_cost_cum",
        "Cumulative public cost, minus {baseline}",
        "£m since the policy start",
        ("public_cost",),
        lambda g: g["public_cost"].cumsum() / 1e6,
        relative=True,
    ),
    Path_(
        "employment_support_cost_cum",
        "Cumulative employment-support cost",
        "£m since the policy start",
        ("employment_support_cost",),
        lambda g: g["employment_support_cost"].cumsum() / 1e6,
    ),
    Path_(
        "small_firm_jobs",
        "Small-business jobs",
        "jobs",
        ("small_firm_jobs",),
        lambda g: g["small_firm_jobs"],
    ),
]


@dataclass
class Written:
    paths: list[Path] = field(default_factory=list)

    def add(self, path: Path) -> Path:
        self.paths.append(path)
        return path


# ------------------------------------------------------------------------------- plotting
def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _colours(arms: list[str]) -> dict[str, Any]:
    plt = _plt()
    cmap = plt.get_cmap("tab10")
    return {a: cmap(i % 10) for i, a in enumerate(arms)}


def _save(fig: Any, out_dir: Path, stem: str, written: Written) -> list[Path]:
    paths = []
    for fmt in FIGURE_FORMATS:
        path = out_dir / "figures" / f"{stem}.{fmt}"
        atomic_write(path, lambda p, fmt=fmt: fig.savefig(p, format=fmt, dpi=DPI, bbox_inches="tight"))
        paths.append(written.add(path))
    _plt().close(fig)
    return paths


def _money_axis(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"£{x:,.0f}"))


def _thousands(ax: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda x, _pos: f"{x:,.0f}" if abs(x) >= 100 or x == 0 else f"{x:,.3g}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _month_totals(runs: dict[str, dict[int, results_io.RunData]], arms: list[str], seeds: list[int]) -> dict:
    out = {}
    for a in arms:
        for s in seeds:
            out[(a, s)] = runs[a][s].monthly.groupby("month").sum(numeric_only=True).sort_index()
    return out


def figure_time_paths(rep: compare.Report, totals: dict, out_dir: Path, written: Written) -> tuple[list[Path], str]:
    plt = _plt()
    paths = [p for p in TIME_PATHS if all(set(p.needs) <= set(g.columns) for g in totals.values())]
    if not paths:
        return [], ""
    colours = _colours(rep.arms)
    ncols = 3 if len(paths) > 4 else 2
    nrows = math.ceil(len(paths) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.6 * nrows + 0.9), squeeze=False)
    for ax, tp in zip(axes.flat, paths, strict=False):
        for a in rep.arms:
            frame = pd.concat([tp.value(totals[(a, s)]).rename(s) for s in rep.seeds], axis=1)
            if tp.relative:
                frame = frame - pd.concat([tp.value(totals[(rep.baseline, s)]).rename(s) for s in rep.seeds], axis=1)
            mean = frame.mean(axis=1)
            ax.plot(frame.index, mean, color=colours[a], lw=1.6, label=a)
            if len(rep.seeds) >= 2:
                half = t_quantile(len(rep.seeds) - 1) * frame.std(axis=1, ddof=1) / math.sqrt(len(rep.seeds))
                ax.fill_between(frame.index, mean - half, mean + half, color=colours[a], alpha=0.22, lw=0)
        ax.set_title(tp.title.format(baseline=rep.baseline), fontsize=11)
        ax.set_ylabel(tp.ylabel, fontsize=9)
        ax.set_xlabel("policy month", fontsize=9)
        ax.tick_params(labelsize=8)
        _thousands(ax)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(paths) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=9, frameon=False)
    fig.suptitle(
        f"{rep.place}: time paths by arm, mean over {len(rep.seeds)} seeds with {PCT} interval bands",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    caption = (
        f"Time paths by arm (policy months after {rep.burn_in if rep.burn_in is not None else '?'} months of burn-in): "
        f"the line is the mean over {len(rep.seeds)} seeds, the band its {PCT} interval "
        "(mean ± t(0.95, n−1)·sd/√n across seeds). Costs are cumulative from the first policy month; public cost "
        f"(benefits + support − tax) is shown as each arm minus {rep.baseline} on the same seed, since its level "
        "is dominated by tax and benefits common to every arm (the levels are in the tables)."
    )
    return _save(fig, out_dir, "time_paths", written), caption


def figure_differences(rep: compare.Report, out_dir: Path, written: Written) -> tuple[list[Path], str]:
    plt = _plt()
    d = rep.differences
    if d.empty or len(rep.arms) < 2:
        return [], ""
    d = d[d["subtrahend"] == rep.baseline]
    keys = [k for k in MAIN_DIFFERENCES if np.isfinite(d.loc[d["measure"] == k, "mean"].astype(float)).any()]
    if not keys:
        return [], ""
    others = [a for a in rep.arms if a != rep.baseline]
    colours = _colours(rep.arms)
    labels = {m.key: m.label.strip() for m in rep.measures}
    ncols = 2
    nrows = math.ceil(len(keys) / ncols)
    height = max(1.2, 0.42 * len(others) + 1.0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(12, height * nrows + 0.8), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        sub = d[d["measure"] == key].set_index("minuend")
        y = np.arange(len(others))[::-1]
        for yi, a in zip(y, others, strict=True):
            r = sub.loc[a]
            mean, lo, hi = float(r["mean"]), float(r["low"]), float(r["high"])
            if math.isfinite(lo):
                ax.plot([lo, hi], [yi, yi], color=colours[a], lw=2.2)
            ax.plot([mean], [yi], "o", color=colours[a], ms=6)
        ax.axvline(0, color="0.3", lw=0.9, ls="--")
        ax.set_yticks(y, others, fontsize=9)
        ax.set_ylim(-0.7, len(others) - 0.3)
        ax.set_title(_wrap(labels[key], 60), fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        _thousands(ax, "x")
        ax.grid(axis="x", alpha=0.3)
    for ax in axes.flat[len(keys) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{rep.place}: each arm minus {rep.baseline}, paired on {len(rep.seeds)} seeds (mean and {PCT} interval)",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    caption = (
        f"Paired differences from the {rep.baseline} arm (same seeds, common random numbers): the dot is the mean "
        f"over seeds, the whisker its {PCT} interval; the dashed line is no difference. Money is £m over the run; "
        "employment and small-business jobs are means over the last 12 months; outcomes are totals over the run."
    )
    return _save(fig, out_dir, "differences", written), caption


def figure_cohorts(rep: compare.Report, out_dir: Path, written: Written) -> tuple[list[Path], str]:
    plt = _plt()
    c = rep.cohorts
    if c.empty or not np.isfinite(c["rate"].astype(float)).any():
        return [], ""
    groups = [g for g in [*GROUPS, "all"] if g in set(c["group"])]
    groups += sorted(set(c["group"]) - set(groups))
    arms = rep.arms
    colours = _colours(arms)
    width = 0.8 / len(arms)
    fig, ax = plt.subplots(figsize=(max(8, 1.5 * len(groups) * max(1, len(arms) / 3)), 4.6))
    x = np.arange(len(groups))
    for i, a in enumerate(arms):
        sub = c[c["arm"] == a].set_index("group")
        rate = np.array([float(sub.at[g, "rate"]) if g in sub.index else np.nan for g in groups]) * 100
        lo = np.array([float(sub.at[g, "low"]) if g in sub.index else np.nan for g in groups]) * 100
        hi = np.array([float(sub.at[g, "high"]) if g in sub.index else np.nan for g in groups]) * 100
        err = np.vstack([np.where(np.isfinite(lo), rate - lo, 0), np.where(np.isfinite(hi), hi - rate, 0)])
        xs = x - 0.4 + width * (i + 0.5)
        ax.bar(xs, np.nan_to_num(rate), width, color=colours[a], label=a)
        ax.errorbar(xs, np.nan_to_num(rate), yerr=np.clip(np.nan_to_num(err), 0, None), fmt="none", ecolor="0.15", lw=1)
    ax.set_xticks(x, [GROUPS.get(g, "all groups" if g == "all" else g) for g in groups], fontsize=9)
    ax.set_ylabel("job outcome within two years, % of eligible", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9, frameon=False, ncol=min(len(arms), 5), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    ax.set_title(
        f"{rep.place}: two-year job-outcome rate by claimant group ({PCT} interval across {len(rep.seeds)} seeds)",
        fontsize=11,
    )
    fig.tight_layout()
    caption = (
        "Two-year job-outcome rate by claimant group and arm: job outcomes within two years of eligibility over "
        f"those eligible, cohorts followed for two full years; bars are the mean over seeds, whiskers the {PCT} "
        "interval. Comparable with the published Work Programme statistics by payment group."
    )
    return _save(fig, out_dir, "cohort_outcomes", written), caption


def figure_cost_per_job(rep: compare.Report, out_dir: Path, written: Written) -> tuple[list[Path], str]:
    plt = _plt()
    c = rep.cost_per_job
    if c.empty:
        return [], ""
    colours = _colours(rep.arms)
    rows = list(c.itertuples())
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.6))
    y = np.arange(len(rows))[::-1]
    finite_hi = [float(r.ratio_high) for r in rows if math.isfinite(float(r.ratio_high))]
    finite_mean = [float(r.ratio_of_means) for r in rows if math.isfinite(float(r.ratio_of_means))]
    right = max([*finite_hi, *finite_mean, 1.0])
    names = []
    for yi, r in zip(y, rows, strict=True):
        arm = str(r.comparison).split(" - ")[0]
        names.append(arm)
        mean, lo, hi = float(r.ratio_of_means), float(r.ratio_low), float(r.ratio_high)
        if not math.isfinite(mean):
            ax.text(0, yi, f"  n/a: {r.ratio_note.removeprefix('n/a: ')}", va="center", fontsize=9, color="0.3")
            continue
        if math.isfinite(lo):
            ax.plot([lo, hi], [yi, yi], color=colours.get(arm, "C0"), lw=2.4)
        else:
            ax.annotate(
                "interval unbounded",  # below the point: the value label sits above it
                (mean, yi),
                xytext=(0, -13),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color="0.3",
            )
        ax.plot([mean], [yi], "o", color=colours.get(arm, "C0"), ms=7)
        ax.annotate(f"£{mean:,.0f}", (mean, yi), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=8)
    ax.set_yticks(y, names, fontsize=9)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    left = min([0.0, *(float(r.ratio_low) for r in rows if math.isfinite(float(r.ratio_low)))])
    ax.set_xlim(left - 0.02 * (right - left), right * 1.1)
    _money_axis(ax)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel("£ per additional sustained job", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        f"{rep.place}: cost per additional sustained job against {rep.baseline} (ratio of means, Fieller {PCT})",
        fontsize=11,
    )
    fig.tight_layout()
    caption = (
        f"Cost per additional sustained job against {rep.baseline}: (Δ employment-support + Δ business-support "
        f"cost) / Δ sustained jobs, as a ratio of means over seeds with a Fieller {PCT} interval; "
        '"n/a" where sustained jobs do not rise.'
    )
    return _save(fig, out_dir, "cost_per_job", written), caption


def _claim_panels(crep: claims.ClaimsReport) -> list[tuple[claims.ClaimResult, claims.TestResult]]:
    out = []
    for cr in crep.claims:
        if cr.status != "tested":
            continue
        for r in cr.tests:
            bounds = r.bounds if r.testable else r.scaled
            if r.est is None or bounds is None or not math.isfinite(r.est.mean):
                continue
            out.append((cr, r))
    return out


def _unit_scale(unit: str, values: list[float]) -> tuple[float, str]:
    """A divisor and axis label for a claim panel."""
    big = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if unit == "gbp" or unit == "gbp_per":
        if big >= 1e9:
            return 1e9, "£bn"
        if big >= 1e6:
            return 1e6, "£m"
        return 1.0, "£"
    if unit == "share":
        return 0.01, "%"
    if unit == "count" and big >= 1e4:
        return 1e3, "thousands"
    return 1.0, unit if unit not in ("count", "ratio") else ("ratio" if unit == "ratio" else "count")


def figure_claims(crep: claims.ClaimsReport, out_dir: Path, written: Written) -> tuple[list[Path], str]:
    plt = _plt()
    panels = _claim_panels(crep)
    if not panels:
        return [], ""
    ncols = 2 if len(panels) > 1 else 1
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.4 * ncols, 2.3 * nrows + 0.9), squeeze=False)
    for ax, (cr, r) in zip(axes.flat, panels, strict=False):
        est = r.est
        assert est is not None
        lo_c, hi_c = r.bounds if r.testable else r.scaled  # type: ignore[misc]
        vals = [est.mean, est.low, est.high, lo_c, hi_c]
        div, unit = _unit_scale(r.unit, vals)
        if math.isfinite(est.low) and math.isfinite(est.high):
            ax.plot([est.low / div, est.high / div], [1, 1], color="C0", lw=3, solid_capstyle="butt")
        ax.plot([est.mean / div], [1], "o", color="C0", ms=7, label=f"model ({PCT} interval)")
        what = "claimed" if r.testable else "claimed, scaled to this place (indicative)"
        if lo_c == hi_c:
            # A national claim merely scaled to this place is drawn hollow, so the legend tells them apart.
            face = "C3" if r.testable else "white"
            ax.plot([lo_c / div], [0], "D", color="C3", markerfacecolor=face, mew=1.8, ms=7, label=what)
        else:
            ax.plot([lo_c / div, hi_c / div], [0, 0], color="C3", lw=3, label=what)
            ax.plot([lo_c / div, hi_c / div], [0, 0], "|", color="C3", ms=12, mew=2)
        ax.set_yticks([1, 0], ["model", "claimed" if r.testable else "claimed\n(scaled)"], fontsize=9)
        ax.set_ylim(-0.8, 1.8)
        lo_x = min([0.0, *(v / div for v in vals if math.isfinite(v))])
        hi_x = max([0.0, *(v / div for v in vals if math.isfinite(v))])
        pad = 0.06 * (hi_x - lo_x) if hi_x > lo_x else 1.0
        ax.set_xlim(lo_x - pad, hi_x + pad)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_xlabel(unit, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        _thousands(ax, "x")
        ax.grid(axis="x", alpha=0.3)
        verdict = r.verdict.text if r.verdict is not None else ""
        ax.set_title(_wrap(f"{cr.claim.id}: {r.test.label}", 58) + (f"\n[{verdict}]" if verdict else ""), fontsize=9)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    handles2, labels2 = [], []
    for ax in axes.flat[: len(panels)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels and lab not in labels2:
                handles2.append(h)
                labels2.append(lab)
    fig.legend(handles + handles2, labels + labels2, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle("The report's claims against the model (one panel per claimed quantity)", fontsize=12)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    caption = (
        f"Each claimed quantity: the model's estimate (dot) with its {PCT} interval across paired seeds, beside the "
        "claimed value (diamond) or range (bar); hollow: a national claim scaled to this place. "
        "National claims at a place that is not England are shown scaled "
        "to the place, for display only."
    )
    return _save(fig, out_dir, "claims", written), caption


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


# ------------------------------------------------------------------------------ sections
def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if v is None:
        return "—"
    return str(v)


def _md_table(headers: list[str], rows: list[list[str]], align_right_from: int = 1) -> str:
    def c(s: str) -> str:
        return str(s).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(c(h) for h in headers) + " |"]
    lines.append("|" + "|".join(["---"] * align_right_from + ["---:"] * (len(headers) - align_right_from)) + "|")
    lines += ["| " + " | ".join(c(x) for x in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def assumptions_section(rep: compare.Report, one_run: dict[str, results_io.RunData]) -> list[str]:
    parts = ["## Assumptions the results depend on", ""]
    try:
        records = load_calibration().records
    except ConfigError as e:
        records = {}
        parts += [f"Calibration not readable: {e}", ""]
    assumed = {k: r for k, r in records.items() if r.assumption}
    if assumed:
        parts += [
            f"The {len(assumed)} calibration parameters marked `assumption = true` in `configs/calibration.toml` "
            "(set by judgement, not measured); the value the runs used is from their manifests.",
            "",
        ]
        rows = []
        for name, r in sorted(assumed.items()):
            used = {run.config.get("params", {}).get(name) for run in one_run.values() if isinstance(run.config, dict)}
            used.discard(None)
            if not used:
                in_runs = "not in the manifests"
            elif len(used) == 1:
                in_runs = _cell(float(next(iter(used))))
            else:
                in_runs = "varies: " + ", ".join(
                    f"{a} {_cell(run.config.get('params', {}).get(name))}" for a, run in one_run.items()
                )
            rows.append([f"`{name}`", _cell(r.value), in_runs, f"{r.low:g}–{r.high:g}", r.unit, r.source])
        parts.append(_md_table(["parameter", "value", "in these runs", "range", "unit", "source"], rows, 6))
    levers = {a: flatten_keys(run.config.get("regime", {}).get("levers", {}) or {}) for a, run in one_run.items()}
    keys = sorted({k for lev in levers.values() for k in lev})
    differ = [k for k in keys if len({json.dumps(lev.get(k), default=str) for lev in levers.values()}) > 1]
    if differ and len(one_run) > 1:
        parts += ["The regime levers that differ between arms (from each arm's resolved config):", ""]
        rows = [[f"`{k}`", *[_cell(levers[a].get(k)) for a in one_run]] for k in differ]
        parts.append(_md_table(["lever", *one_run], rows, 1))
    elif len(one_run) > 1:
        parts += ["The arms' regime levers are all the same.", ""]
    params = {a: run.config.get("params", {}) or {} for a, run in one_run.items()}
    pkeys = sorted({k for p in params.values() for k in p})
    pdiff = [k for k in pkeys if len({json.dumps(p.get(k)) for p in params.values()}) > 1]
    if pdiff:
        parts += ["Calibration parameters that differ between arms:", ""]
        rows = [[f"`{k}`", *[_cell(params[a].get(k)) for a in one_run]] for k in pdiff]
        parts.append(_md_table(["parameter", *one_run], rows, 1))
    return parts


def manifest_section(
    rep: compare.Report,
    res: results_io.Results,
    one_run: dict[str, results_io.RunData],
    out_dir: Path,
    written: Written,
) -> list[str]:
    parts = ["## Manifest", ""]
    first = next(iter(one_run.values()))
    man = first.manifest
    exp = res.experiment or {}
    spec = exp.get("spec", {}) if isinstance(exp.get("spec"), dict) else {}
    versions = man.get("versions") or exp.get("versions") or {}
    commits = sorted({str(r.manifest.get("git_commit")) for r in res.runs if r.manifest.get("git_commit")})
    codes = sorted({str(r.manifest.get("code_sha256")) for r in res.runs if r.manifest.get("code_sha256")})
    rows = [
        ["results folder", f"`{res.folder}`"],
        ["layout", "experiment" if res.layout == results_io.EXPERIMENT else "run folders"],
    ]
    if exp:
        rows += [
            ["experiment", str(exp.get("name", ""))],
            ["spec file", f"`{exp.get('spec_file', '')}`"],
            ["spec sha256", f"`{exp.get('spec_sha256', '')}`"],
        ]
    rows += [
        ["place", rep.place],
        ["people per agent row", _cell(first.config.get("people_per_agent", spec.get("people_per_agent")))],
        ["burn-in months", _cell(rep.burn_in)],
        ["policy months", _cell(rep.months)],
        ["arms", ", ".join(rep.arms)],
        ["baseline", rep.baseline],
        ["paired seeds", ", ".join(map(str, rep.seeds))],
        [
            "git commit" if len(commits) <= 1 else f"git commits (the runs were made at {len(commits)})",
            ", ".join(f"`{c}`" for c in commits) or "not recorded",
        ],
        ["model code sha256", ", ".join(f"`{c[:16]}…`" for c in codes) or "not recorded"],
    ]
    rows += [[f"version: {k}", str(v)] for k, v in sorted(versions.items())]
    parts.append(_md_table(["", ""], rows, 2))
    parts += [
        "Each arm's resolved configuration (place, regime levers, calibration parameters, horizon, scale), from "
        "one run's manifest; every run's own manifest is in the results folder.",
        "",
    ]
    crow = []
    for a, run in one_run.items():
        cfg_path = out_dir / "configs" / f"{a}.json"
        text = json.dumps(run.config, indent=2, sort_keys=True, default=str) + "\n"
        atomic_write(cfg_path, lambda p, text=text: p.write_text(text, encoding="utf-8"))
        written.add(cfg_path)
        where = f"`{run.path / 'manifest.json'}`" if res.layout == results_io.RUN_FOLDERS else f"`{run.path.parent}/`"
        crow.append(
            [
                a,
                str(run.config.get("regime", {}).get("name", "")),
                f"[configs/{a}.json](configs/{a}.json)",
                f"`{str(run.manifest.get('config_sha256', ''))[:16]}…`" if run.manifest.get("config_sha256") else "",
                where,
            ]
        )
    parts.append(_md_table(["arm", "regime", "resolved config", "config sha256", "run manifests"], crow, 5))
    return parts


def commands_section(res: results_io.Results, out_dir: Path, default_out: bool) -> list[str]:
    folder = str(res.folder)
    lines = []
    exp = res.experiment or {}
    if res.layout == results_io.EXPERIMENT and exp.get("spec_file"):
        lines.append(f"labourlab experiment {shlex.quote(str(exp['spec_file']))} --out {shlex.quote(folder)}")
    else:
        cmds = []
        for r in sorted(res.runs, key=lambda r: (r.scenario, r.seed)):
            cmd = r.manifest.get("command")
            if isinstance(cmd, list) and cmd:
                cmd = " ".join(shlex.quote(str(c)) for c in cmd)
                cmd = re.sub(r"^\S*labourlab\b", "labourlab", cmd)
                if cmd not in cmds:
                    cmds.append(cmd)
        lines += cmds[:30]
        if len(cmds) > 30:
            lines.append(f"# ... and {len(cmds) - 30} more run commands (see the run manifests)")
    lines.append(f"labourlab compare {shlex.quote(folder)}")
    lines.append(f"labourlab claims {shlex.quote(folder)}")
    lines.append(
        f"labourlab report {shlex.quote(folder)}" + ("" if default_out else f" --out {shlex.quote(str(out_dir))}")
    )
    return [
        "## Regenerating this report",
        "",
        "Runs are pure functions of (configuration, seed), so these commands, at the git commit above (with the "
        "same model code sha256), give the same numbers:",
        "",
        "```",
        *lines,
        "```",
    ]


# ---------------------------------------------------------------------------------- html
def markdown_to_html(text: str, title: str = "LabourLab report") -> str:
    """Markdown to a standalone HTML page: python-markdown if installed, else a small converter that
    handles what report.md uses (headings, paragraphs, lists, tables, images, links, code, emphasis)."""
    try:
        import markdown as md  # type: ignore[import-untyped]

        body = md.markdown(text, extensions=["tables", "fenced_code"])
    except ImportError:
        body = simple_markdown(text)
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
        "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
        "th,td{border:1px solid #ccc;padding:0.25em 0.5em;vertical-align:top}th{background:#f3f3f3}"
        "img{max-width:100%}code{background:#f5f5f5;padding:0 0.2em}"
        "pre{background:#f5f5f5;padding:0.8em;overflow-x:auto}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
        f"<style>{style}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _inline(text: str) -> str:
    out = []
    for i, chunk in enumerate(re.split(r"(`[^`]*`)", text)):
        if i % 2:
            out.append(f"<code>{html.escape(chunk[1:-1])}</code>")
            continue
        s = html.escape(chunk, quote=False)
        s = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", r'<img alt="\1" src="\2">', s)
        s = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', s)
        s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", s)
        out.append(s)
    return "".join(out)


def _row_cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


def simple_markdown(text: str) -> str:
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            j = i + 1
            code = []
            while j < len(lines) and not lines[j].startswith("```"):
                code.append(lines[j])
                j += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
            i = j + 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            flush()
            n = len(m[1])
            out.append(f"<h{n}>{_inline(m[2])}</h{n}>")
        elif line.startswith("|") and i + 1 < len(lines) and re.match(r"^\|[\s:|-]+\|?\s*$", lines[i + 1]):
            flush()
            head = _row_cells(line)
            aligns = ["right" if c.endswith(":") else "left" for c in _row_cells(lines[i + 1])]
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_row_cells(lines[i]))
                i += 1
            t = ["<table>", "<thead><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in head) + "</tr></thead>"]
            t.append("<tbody>")
            for r in rows:
                cells = "".join(
                    f'<td style="text-align:{aligns[k] if k < len(aligns) else "left"}">{_inline(c)}</td>'
                    for k, c in enumerate(r)
                )
                t.append(f"<tr>{cells}</tr>")
            t.append("</tbody></table>")
            out.append("\n".join(t))
            continue
        elif re.match(r"^\s*[-*]\s+", line):
            flush()
            items = []
            while i < len(lines) and re.match(r"^\s*[-*]\s+", lines[i]):
                items.append(f"<li>{_inline(re.sub(r'^\s*[-*]\s+', '', lines[i]))}</li>")
                i += 1
            out.append("<ul>\n" + "\n".join(items) + "\n</ul>")
            continue
        elif line.startswith(">"):
            flush()
            out.append(f"<blockquote>{_inline(line.lstrip('> '))}</blockquote>")
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return "\n".join(out)


# ---------------------------------------------------------------------------------- main
def _baseline(res: results_io.Results, baseline: str | None, fallback: str = "no_programme") -> str:
    if baseline:
        return baseline
    spec = (res.experiment or {}).get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("baseline"), str) and spec["baseline"] in res.by_scenario():
        return spec["baseline"]
    arms = sorted(res.by_scenario())
    return fallback if fallback in arms else arms[0]


def build(folder: Path, out_dir: Path | None = None, baseline: str | None = None) -> list[Path]:
    """Write the report of the results in `folder` into `out_dir` (default folder/report); return the paths."""
    folder = Path(folder)
    default_out = out_dir is None
    out_dir = Path(out_dir) if out_dir is not None else folder / "report"
    res = results_io.load_results(folder)
    base = _baseline(res, baseline)
    rep = compare.analyse(folder, baseline=base)
    by = res.by_scenario()
    one_run = {a: by[a][min(s for s in rep.seeds if s in by[a])] for a in rep.arms}
    written = Written()
    figures: list[tuple[str, str, str]] = []  # (title, stem, caption)

    totals = _month_totals(by, rep.arms, rep.seeds)
    skipped: list[str] = []
    for title, make, why in (
        ("Time paths", lambda: figure_time_paths(rep, totals, out_dir, written), ["the monthly tables lack them"]),
        (
            "Paired differences from the baseline",
            lambda: figure_differences(rep, out_dir, written),
            ["there is only one arm"],
        ),
        (
            "Two-year job-outcome rates by claimant group",
            lambda: figure_cohorts(rep, out_dir, written),
            rep.cohort_notes or ["no cohort was followed for two years"],
        ),
        (
            "Cost per additional sustained job",
            lambda: figure_cost_per_job(rep, out_dir, written),
            rep.cost_notes or ["there is only one arm"],
        ),
    ):
        paths, caption = make()
        if paths:
            figures.append((title, paths[0].stem, caption))
        else:
            skipped.append(f"{title}: no figure: {'; '.join(why)}")

    claim_parts: list[str] = []
    try:
        crep = claims.analyse(folder)
    except ConfigError as e:
        crep = None
        claim_parts = ["## Claims", "", f"Claims not tested: {e}", ""]
    if crep is not None:
        tested = [cr for cr in crep.claims if cr.status == "tested"]
        if tested:
            paths, caption = figure_claims(crep, out_dir, written)
            claim_parts = ["## The report's claims against the model", ""]
            claim_parts += [
                f"From `{crep.registry_path}`; intervals are {PCT} across paired seeds. "
                f"`labourlab claims {folder}` gives the full discussion (sources, arithmetic, what each depends on).",
                "",
            ]
            if paths:
                claim_parts += [f"![claims](figures/{paths[0].name})", "", caption, ""]
            for cr in tested:
                for spec in claims.claim_tables(cr):
                    claim_parts.append(claims._md_table(spec))
                if cr.differs_most:
                    claim_parts += [f"**Differs most:** {cr.differs_most}", ""]
            for cr in crep.claims:
                if cr.status != "tested":
                    claim_parts += [f"- {cr.note}"]
            claim_parts.append("")
        else:
            claim_parts = ["## Claims", ""]
            claim_parts += [f"- {cr.note}" for cr in crep.claims] + [""]

    seeds = rep.seeds
    burn = f"{rep.burn_in} months of burn-in, then " if rep.burn_in is not None else ""
    parts = [
        f"# LabourLab report: {rep.place}",
        "",
        f"Arms {', '.join(rep.arms)} (baseline {rep.baseline}) on {len(seeds)} paired seeds "
        f"({', '.join(map(str, seeds))}), {burn}{rep.months} policy months; results in `{folder}`. "
        f"Intervals are {PCT}: mean ± t(0.95, n−1)·sd/√n across seeds (paired differences on common random "
        "numbers), ratios with a Fieller interval.",
        "",
    ]
    notes = [*res.notes, *rep.notes]
    if notes:
        parts += [f"- {n}" for n in dict.fromkeys(notes)] + [""]
    parts += ["## Figures", ""]
    for title, stem, caption in figures:
        parts += [
            f"### {title}",
            "",
            f"![{title}](figures/{stem}.png)",
            "",
            f"{caption} ([SVG](figures/{stem}.svg))",
            "",
        ]
    parts += [f"- {n}" for n in skipped] + ([""] if skipped else [])
    parts += ["## Tables", ""]
    for spec in compare.tables(rep):
        parts.append(compare._markdown_table(spec))
    if rep.cost_per_job.empty:
        parts += [f"- {n}" for n in rep.cost_notes]
    if rep.cohorts.empty:
        parts += [f"- {n}" for n in rep.cohort_notes]
    parts += [*compare.unsigned_lines(rep), ""]
    parts += claim_parts
    parts += assumptions_section(rep, one_run)
    parts += manifest_section(rep, res, one_run, out_dir, written)
    parts += commands_section(res, out_dir, default_out)
    text = "\n".join(parts).rstrip("\n") + "\n"
    atomic_write(out_dir / "report.md", lambda p: p.write_text(text, encoding="utf-8"))
    written.add(out_dir / "report.md")
    page = markdown_to_html(text, f"LabourLab report: {rep.place}")
    atomic_write(out_dir / "report.html", lambda p: p.write_text(page, encoding="utf-8"))
    written.add(out_dir / "report.html")
    return written.paths
