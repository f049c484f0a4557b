"""The figures of `labourlab report`, drawn with matplotlib's Agg backend and saved as PNG and SVG.

Time paths per arm with 90% bands across seeds, paired differences from the baseline, two-year
job-outcome rates by claimant group, cumulative job-outcome rates by months since entry (official
and common cohorts), cost per additional sustained job, and the claims against the model. Each
`figure_*` returns the files it wrote and a caption, or nothing when the results cannot give the
figure. The time paths are measures of `simulation.measures`, month by month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis import claims, compare, results_io
from simulation.analysis.stats import LEVEL, t_quantile
from simulation.measures import GROUP_LABELS as GROUPS
from simulation.measures import MEASURES, month_totals
from simulation.results import atomic_write

FIGURE_FORMATS = ("png", "svg")
DPI = 150
PCT = f"{LEVEL:.0%}"

# The measures the difference chart shows, in order (those the results lack are left out).
MAIN_DIFFERENCES = (
    "employed_last12",
    "people_sustained_in_work",
    "job_outcomes",
    "small_firm_jobs",
    "parked_share",
    "public_cost",
    "employment_support_cost",
    "business_support_cost",
)


@dataclass(frozen=True)
class TimePath:
    """One time path: a measure (simulation.measures) month by month, each month alone or the months so far."""

    key: str
    measure: str
    title: str
    ylabel: str
    factor: float = 1.0  # the measure in the chart's unit: 100 for a share drawn as a percentage
    cumulative: bool = False
    relative: bool = False  # drawn as each arm minus the baseline, seed by seed

    @property
    def needs(self) -> tuple[str, ...]:
        return MEASURES[self.measure].columns

    def value(self, months: pd.DataFrame) -> pd.Series:
        """The path from one run's month totals."""
        return self.factor * MEASURES[self.measure].series(months, self.cumulative)


TIME_PATHS = [
    TimePath("employment_rate", "employment_rate", "Employment rate", "% of working-age population", 100.0),
    TimePath("unemployment_rate", "unemployment_rate", "Unemployment rate", "% of the economically active", 100.0),
    TimePath("ltu_share", "ltu_share", "Long-term unemployment share", "% of the unemployed", 100.0),
    TimePath(
        "public_cost_cum",
        "public_cost",
        "Cumulative public cost, minus {baseline}",
        "£m since the policy start",
        cumulative=True,
        relative=True,
    ),
    TimePath(
        "employment_support_cost_cum",
        "employment_support_cost",
        "Cumulative employment-support cost",
        "£m since the policy start",
        cumulative=True,
    ),
    TimePath("small_firm_jobs", "small_firm_jobs", "Small-business jobs", "jobs"),
]


@dataclass
class Written:
    paths: list[Path] = field(default_factory=list)

    def add(self, path: Path) -> Path:
        self.paths.append(path)
        return path


# ------------------------------------------------------------------------------- plotting


def legend_and_title(fig: Any, ax: Any, title: str, rect: tuple[float, float, float, float], ncol: int = 5) -> None:
    """A panel figure's shared legend (from `ax`'s lines) under the panels, its title above them,
    and the layout between."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), ncol), fontsize=9, frameon=False)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=rect)


def figure_markdown(title: str, stem: str, caption: str) -> list[str]:
    """A figure's section: its title, the PNG, and the caption with a link to the SVG."""
    return [f"### {title}", "", f"![{title}](figures/{stem}.png)", "", f"{caption} ([SVG](figures/{stem}.svg))", ""]


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
    return {(a, s): month_totals(runs[a][s].monthly) for a in arms for s in seeds}


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
    legend_and_title(
        fig,
        axes.flat[0],
        f"{rep.place}: time paths by arm, mean over {len(rep.seeds)} seeds with {PCT} interval bands",
        (0, 0.06, 1, 0.97),
    )
    lead = f" and {rep.lead_in} months of lead-in with the regime on" if rep.lead_in is not None else ""
    caption = (
        f"Time paths by arm (policy months after {rep.burn_in if rep.burn_in is not None else '?'} months of burn-in"
        f"{lead}): "
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
    labels = {m.name: m.label for m in rep.measures}
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


CURVE_GROUPS = ("jsa_25_plus", "all")  # the cumulative-outcome figure's panels, where the results have them


def figure_cohort_curves(rep: compare.Report, out_dir: Path, written: Written) -> tuple[list[Path], str]:
    """Cumulative job-outcome rates by months since entry, per arm: the official cohort (entered at
    each arm's own referral point) and the common cohort (the same definition in every arm), for
    JSA 25+ and all groups."""
    plt = _plt()
    c = getattr(rep, "curves", None)
    if c is None or c.empty or not np.isfinite(c["rate"].astype(float)).any():
        return [], ""
    cohorts = [k for k in ("official", "common") if k in set(c["cohort"])]
    groups = [g for g in CURVE_GROUPS if g in set(c["group"])]
    if not cohorts or not groups:
        return [], ""
    colours = _colours(rep.arms)
    fig, axes = plt.subplots(
        len(cohorts), len(groups), figsize=(5.4 * len(groups), 3.6 * len(cohorts) + 0.8), squeeze=False
    )
    titles = {
        "official": "official cohort (each arm's referral point)",
        "common": "common cohort (3 months out of work, every arm)",
    }
    for i, k in enumerate(cohorts):
        for j, g in enumerate(groups):
            ax = axes[i][j]
            sub = c[(c["cohort"] == k) & (c["group"] == g)]
            for n, a in enumerate(rep.arms):
                line = sub[sub["arm"] == a].sort_values("horizon")
                h = line["horizon"].to_numpy(dtype=float) + 0.25 * (n - (len(rep.arms) - 1) / 2)  # dodge
                rate = line["rate"].to_numpy(dtype=float) * 100
                lo = line["low"].to_numpy(dtype=float) * 100
                hi = line["high"].to_numpy(dtype=float) * 100
                ax.plot(h, rate, "o-", color=colours[a], lw=1.6, ms=4, label=a)
                err = np.vstack([np.where(np.isfinite(lo), rate - lo, 0), np.where(np.isfinite(hi), hi - rate, 0)])
                ax.errorbar(h, rate, yerr=np.clip(np.nan_to_num(err), 0, None), fmt="none", ecolor=colours[a], lw=1)
            label = GROUPS.get(g, "all groups" if g == "all" else g)
            ax.set_title(f"{label}: {titles[k]}", fontsize=10)
            ax.set_xticks(sorted(set(sub["horizon"].astype(int))))
            ax.set_xlabel("months since entering the cohort", fontsize=9)
            ax.set_ylabel("job outcome by then, % of entrants", fontsize=9)
            ax.set_ylim(bottom=0)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
    legend_and_title(
        fig,
        axes[0][0],
        f"{rep.place}: cumulative job-outcome rate by months since entry ({PCT} interval across "
        f"{len(rep.seeds)} seeds)",
        (0, 0.06, 1, 0.96),
    )
    caption = (
        "Cumulative job-outcome rate by months since entering the cohort, per arm: official job outcomes (6 months "
        "continuously in work for JSA groups, 3 for ESA) within 6, 12, 18 and 24 months, over the people who entered; "
        "each point over the cohorts the run followed that long; whiskers the "
        f"{PCT} interval across seeds. The official cohort enters at each arm's own referral point, so its arms are "
        "different people; the common cohort (claimants whose spell out of work reaches 3 months) is defined the "
        "same way in every arm, the like-for-like comparison."
    )
    return _save(fig, out_dir, "cohort_curves", written), caption


def _basis(c: pd.DataFrame) -> str:
    """Whose jobs cost per additional sustained job counts (`costing`), for a caption."""
    on = set(c["basis"]) if "basis" in c.columns else set()
    return "on the common cohort" if on == {"common cohort"} else "everyone"


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
        f"Cost per additional sustained job against {rep.baseline}: Δ public spending on the policies "
        f"(employment and business support, whoever pays) / Δ people in work six continuous months after "
        f"entering work from out of work ({_basis(c)}), as a ratio of means over seeds with a Fieller {PCT} "
        'interval; "n/a" where the people sustained in work do not rise.'
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
