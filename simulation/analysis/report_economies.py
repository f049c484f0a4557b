"""`labourlab report`'s section "Across the economic cycle", for an experiment crossing arms with
macroeconomic scenarios (issue 24, item 4).

The section holds:

- the ranking across economies (`compare_economies`): each pair of arms' paired difference with its
  90% interval in every economy, arms compared only within an economy;
- the unemployment rate and the vacancies by arm in each economy, one panel per economy on shared
  axes, so the economies' paths can be read against each other;
- for each economy whose scenario file carries the ONS series it was made from (`[series]`,
  `unemployment_rate` at the scenario's step, point i at policy month i x step), the baseline arm's
  unemployment rate beside the ONS series, and a table of both at the start, the peak and the end,
  so a reader sees the shape and the size of the model's cycle against the data;
- the Beveridge curve of the baseline arm in each economy: the unemployment rate against the
  vacancy rate (vacancies over vacancies + employed), month by month.

The figures are drawn with matplotlib's Agg backend as `report_figures` draws the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis import compare, compare_economies, results_io
from simulation.analysis.report_figures import (
    PCT,
    Written,
    _colours,
    _plt,
    _save,
    _thousands,
    figure_markdown,
    legend_and_title,
)
from simulation.analysis.stats import t_quantile
from simulation.configfiles import ConfigError
from simulation.economy import load_economy
from simulation.measures import MEASURES, month_totals

ONS_SERIES = "unemployment_rate"  # the scenario file's [series] the model's unemployment rate is set beside


@dataclass
class Paths:
    """Month-by-month paths of one economy's runs: measure -> arm -> DataFrame (month x seed)."""

    economy: str
    baseline: str  # the plain name of the baseline arm
    arms: list[str]  # plain arm names, the baseline first
    seeds: list[int]
    frames: dict[str, dict[str, pd.DataFrame]]
    ons: pd.Series | None  # the ONS unemployment rate (%) by output month, if the scenario carries it
    ons_source: str = ""


PATH_MEASURES = {
    "unemployment_rate": 100.0,  # in %
    "vacancy_rate": 100.0,
    "vacancies": 1.0,
}


def ons_unemployment(economy: str, config: dict[str, Any]) -> tuple[pd.Series | None, str]:
    """The ONS unemployment rate (%) the scenario file carries, indexed by the results' `month`
    column (output month 1 is policy month 0, the scenario's point 0): point i at month i x step + 1.
    From the run's resolved config (the scenario as run), else the shipped scenario file."""
    eco = config.get("economy") if isinstance(config, dict) else None
    if not isinstance(eco, dict):
        try:
            eco = load_economy(economy).model_dump()
        except ConfigError:
            return None, ""
    series = (eco.get("series") or {}).get(ONS_SERIES)
    if not series:
        return None, ""
    step = int(eco.get("step_months", 3))
    months = [i * step + 1 for i in range(len(series))]
    src = f"configs/scenarios/{eco.get('name', economy)}.toml [series] {ONS_SERIES}"
    if eco.get("start"):
        src += f", point 0 = {eco['start']}"
    return pd.Series([float(v) for v in series], index=months, name="ONS"), src


def economy_paths(rep: compare.Report, by: dict[str, dict[int, results_io.RunData]], economy: str) -> Paths:
    """The paths of PATH_MEASURES for every arm of one economy's comparison, seed by seed."""
    frames: dict[str, dict[str, pd.DataFrame]] = {k: {} for k in PATH_MEASURES}
    arms = [compare_economies.split(a)[0] for a in rep.arms]
    for name, arm in zip(rep.arms, arms, strict=True):
        totals = {s: month_totals(by[name][s].monthly) for s in rep.seeds}
        for key, factor in PATH_MEASURES.items():
            m = MEASURES[key]
            if all(set(m.columns) <= set(t.columns) for t in totals.values()):
                frames[key][arm] = pd.concat([factor * m.series(totals[s]).rename(s) for s in rep.seeds], axis=1)
    base = by[rep.baseline][rep.seeds[0]]
    ons, src = ons_unemployment(economy, base.config)
    return Paths(economy, compare_economies.split(rep.baseline)[0], arms, list(rep.seeds), frames, ons, src)


def _band(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series | None]:
    mean = frame.mean(axis=1)
    n = frame.shape[1]
    if n < 2:
        return mean, None
    return mean, t_quantile(n - 1) * frame.std(axis=1, ddof=1) / math.sqrt(n)


def figure_cycle_paths(paths: list[Paths], place: str, out_dir: Path, written: Written) -> tuple[list[Path], str]:
    """Unemployment rate (top) and vacancies (bottom) by arm, one column per economy, shared axes."""
    rows = [k for k in ("unemployment_rate", "vacancies") if all(p.frames[k] for p in paths)]
    if not paths or not rows:
        return [], ""
    plt = _plt()
    arms = list(dict.fromkeys(a for p in paths for a in p.arms))
    colours = _colours(arms)
    n = len(paths)
    fig, axes = plt.subplots(
        len(rows), n, figsize=(4.6 * n, 3.4 * len(rows) + 0.9), sharex=True, sharey="row", squeeze=False
    )
    titles = {
        "unemployment_rate": ("unemployment rate", "% of the economically active"),
        "vacancies": ("vacancies", "vacancies"),
    }
    for i, key in enumerate(rows):
        for j, p in enumerate(paths):
            ax = axes[i][j]
            for a, frame in p.frames[key].items():
                mean, half = _band(frame)
                ax.plot(mean.index, mean, color=colours[a], lw=1.5, label=a)
                if half is not None:
                    ax.fill_between(mean.index, mean - half, mean + half, color=colours[a], alpha=0.2, lw=0)
            ax.set_title(f"{p.economy}: {titles[key][0]}", fontsize=10)
            if j == 0:
                ax.set_ylabel(titles[key][1], fontsize=9)
            if i == len(rows) - 1:
                ax.set_xlabel("policy month", fontsize=9)
            ax.tick_params(labelsize=8)
            _thousands(ax)
            ax.grid(alpha=0.3)
    legend_and_title(
        fig,
        axes[0][0],
        f"{place}: unemployment and vacancies by arm in each economy (mean over {len(paths[0].seeds)} seeds, "
        f"{PCT} bands)",
        (0, 0.07, 1, 0.96),
    )
    caption = (
        "The unemployment rate (unemployed over employed + unemployed) and the stock of vacancies at each month's "
        f"end, by arm, in each economy; the line is the mean over the seeds, the band its {PCT} interval. Every "
        "panel of a row has the same axes, so the economies can be read against each other."
    )
    return _save(fig, out_dir, "cycle_paths", written), caption


def figure_cycle_ons(paths: list[Paths], place: str, out_dir: Path, written: Written) -> tuple[list[Path], str]:
    """The baseline arm's unemployment rate beside the ONS series, in each economy that carries one."""
    with_ons = [p for p in paths if p.ons is not None and p.baseline in p.frames["unemployment_rate"]]
    if not with_ons:
        return [], ""
    plt = _plt()
    n = len(with_ons)
    fig, axes = plt.subplots(1, n, figsize=(5.4 * n, 3.9), sharey=True, squeeze=False)
    for ax, p in zip(axes[0], with_ons, strict=True):
        assert p.ons is not None
        mean, half = _band(p.frames["unemployment_rate"][p.baseline])
        ax.plot(mean.index, mean, color="C0", lw=1.6, label=f"model: {p.baseline} (mean over seeds)")
        if half is not None:
            ax.fill_between(mean.index, mean - half, mean + half, color="C0", alpha=0.22, lw=0, label=f"model {PCT}")
        last = int(mean.index.max())
        ons = p.ons[p.ons.index <= last]
        ax.plot(
            ons.index,
            ons.to_numpy(),
            "s--",
            color="0.15",
            ms=3.5,
            lw=1,
            label="ONS (UK, quarterly, seasonally adjusted)",
        )
        ax.set_title(f"{p.economy}", fontsize=10)
        ax.set_xlabel("policy month", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("unemployment rate, %", fontsize=9)
    legend_and_title(
        fig,
        axes[0][0],
        f"{place}: the model's unemployment rate beside the ONS series of each scenario",
        (0, 0.1, 1, 0.94),
        ncol=3,
    )
    caption = (
        f"The {with_ons[0].baseline} arm's unemployment rate (mean over seeds, {PCT} band) beside the ONS "
        "unemployment rate the scenario was made from (the scenario file's `[series]`, point i drawn at month "
        "i x step + 1: the run's first month is the scenario's point 0), up to the run's last month. The ONS "
        "figures are the UK's (docs/evidence/macro_scenarios.md) and the place's own level can differ: read the "
        "shape and the size of the rise and fall (the table below gives both)."
    )
    return _save(fig, out_dir, "cycle_ons", written), caption


def figure_beveridge(paths: list[Paths], place: str, out_dir: Path, written: Written) -> tuple[list[Path], str]:
    """The Beveridge curve of the baseline arm in each economy: unemployment rate against vacancy rate."""
    usable = [
        p for p in paths if p.baseline in p.frames["unemployment_rate"] and p.baseline in p.frames["vacancy_rate"]
    ]
    if not usable:
        return [], ""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 5.2))
    for k, p in enumerate(usable):
        u = p.frames["unemployment_rate"][p.baseline].mean(axis=1)
        v = p.frames["vacancy_rate"][p.baseline].mean(axis=1)
        colour = f"C{k % 10}"
        ax.plot(u, v, "-", color=colour, lw=1.2, alpha=0.9, label=p.economy)
        yearly = u.index[(u.index - u.index.min()) % 12 == 0]
        ax.plot(u.loc[yearly], v.loc[yearly], "o", color=colour, ms=3.5)
        ax.plot([u.iloc[0]], [v.iloc[0]], "o", color=colour, ms=8, mfc="white", mew=1.8)
        ax.plot([u.iloc[-1]], [v.iloc[-1]], "s", color=colour, ms=7)
    ax.set_xlabel("unemployment rate, % of the economically active", fontsize=9)
    ax.set_ylabel("vacancy rate, % (vacancies over vacancies + employed)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, frameon=False)
    ax.set_title(f"{place}: Beveridge curve of the {usable[0].baseline} arm in each economy", fontsize=11)
    fig.tight_layout()
    caption = (
        f"The Beveridge curve of the {usable[0].baseline} arm: each month's unemployment rate against its vacancy "
        "rate (vacancies over vacancies + employed), means over the seeds, in each economy; the hollow circle is the "
        "first policy month, dots mark every twelfth month, the square the last. A recession moves the economy "
        "down and to the right (fewer vacancies, more unemployed), a recovery back up the curve."
    )
    return _save(fig, out_dir, "beveridge", written), caption


def _peak(s: pd.Series) -> tuple[float, int]:
    i = int(np.nanargmax(s.to_numpy()))
    return float(s.iloc[i]), int(s.index[i])


def ons_table(paths: list[Paths]) -> list[str]:
    """Start, peak and end of the ONS series and of the model's baseline unemployment rate, at the
    months where the series has a point within the run."""
    lines = []
    for p in paths:
        if p.ons is None or p.baseline not in p.frames["unemployment_rate"]:
            continue
        model = p.frames["unemployment_rate"][p.baseline].mean(axis=1)
        ons = p.ons[p.ons.index <= int(model.index.max())]
        if ons.empty:
            continue
        at = model.reindex(ons.index)
        o_peak, o_month = _peak(ons)
        m_peak, m_month = _peak(model[model.index <= int(ons.index[-1])])  # over the months the series covers
        o0, m0 = float(ons.iloc[0]), float(at.iloc[0])
        o_end, m_end, end = float(ons.iloc[-1]), float(at.iloc[-1]), int(ons.index[-1])
        lines.append(
            f"| {p.economy} | ONS | {o0:.1f}% | {o_peak:.1f}% (month {o_month}) | {o_peak - o0:+.1f} pp | "
            f"{o_end:.1f}% (month {end}) |"
        )
        lines.append(
            f"| {p.economy} | model: {p.baseline} | {m0:.1f}% | {m_peak:.1f}% (month {m_month}) | "
            f"{m_peak - m0:+.1f} pp | {m_end:.1f}% (month {end}) |"
        )
    if not lines:
        return []
    return [
        "| economy | series | first month | peak | rise to the peak | at the run's last ONS point |",
        "|---|---|---:|---:|---:|---:|",
        *lines,
        "",
        "The model's figures are means over the seeds; the ONS series is quarterly, for the UK "
        f"({'; '.join(p.ons_source for p in paths if p.ons is not None)}).",
        "",
    ]


def section(
    eco: compare_economies.EconomyReports,
    economies: list[str],
    by: dict[str, dict[int, results_io.RunData]],
    place: str,
    reference: str,
    out_dir: Path,
    written: Written,
) -> list[str]:
    """The report's "Across the economic cycle" section (Markdown lines); writes its figures."""
    parts = [
        "## Across the economic cycle",
        "",
        f"The experiment crosses its arms with {len(economies)} macroeconomic scenarios ({', '.join(economies)}), "
        "every cell on the same seeds. Arms are compared only within an economy: each economy's arms against that "
        f"economy's {eco.baseline} arm and against each other (an arm in one economy against an arm in another "
        f"would mix the policy's effect with the economy's). The figures and tables above are the {reference} "
        "economy's; `labourlab compare` writes every economy's tables.",
        "",
    ]
    ranking = compare_economies.markdown(eco).replace(
        "# The ranking across economies", "### The ranking across economies"
    )
    parts += [ranking, ""]
    paths = [economy_paths(eco.reports[e], by, e) for e in economies]
    for title, (files, caption) in (
        ("Unemployment and vacancies by arm in each economy", figure_cycle_paths(paths, place, out_dir, written)),
        ("The model's unemployment rate beside the ONS series", figure_cycle_ons(paths, place, out_dir, written)),
        ("The Beveridge curve in each economy", figure_beveridge(paths, place, out_dir, written)),
    ):
        if not files:
            parts += [f"- {title}: no figure: the results lack the columns or the scenarios carry no series", ""]
            continue
        stem = files[0].stem
        parts += figure_markdown(title, stem, caption)
        if stem == "cycle_ons":
            parts += ons_table(paths)
    return parts
