"""Rendering `labourlab sensitivity`'s results: sensitivity.md, the figures and the terminal tables.

With economies, sensitivity.md opens with the ranking by economy and demand elasticity (one row per
output and economy) and then gives each economy's outputs, indices and robustness in turn.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis import tables
from simulation.analysis.sensitivity import ETA, EtaBin, PointValues, Robustness, band, eta_flip


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    a = abs(v)
    if a >= 1e5:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:,.1f}"
    if a >= 1:
        return f"{v:.3g}"
    return f"{v:.3g}"


def index_table(df: pd.DataFrame, method: str, key: str) -> tuple[list[str], list[list[str]]]:
    sub = df[df["output"] == key]
    if method == "morris":
        head = ["rank", "parameter", "mu* (95% CI)", "sigma", "mu* / max"]
        rows = [
            [
                str(r["rank"]),
                r["parameter"],
                f"{_fmt(r['mu_star'])} ± {_fmt(r['mu_star_conf'])}",
                _fmt(r["sigma"]),
                f"{r['scaled_mu_star']:.2f}",
            ]
            for _, r in sub.iterrows()
        ]
    else:
        head = ["rank", "parameter", "total ST (95% CI)", "first-order S1 (95% CI)"]
        rows = [
            [
                str(r["rank"]),
                r["parameter"],
                f"{r['ST']:.3f} ± {r['ST_conf']:.3f}",
                f"{r['S1']:.3f} ± {r['S1_conf']:.3f}",
            ]
            for _, r in sub.iterrows()
        ]
    return head, rows


def _md(head: list[str], rows: list[list[str]]) -> str:
    # Every column left-aligned and no newline after the table, as sensitivity.md has always been laid out.
    return tables.markdown(tables.Table(head, rows, align="l" * len(head))).rstrip("\n")


def _header(exp: Any, n_economies: int = 0) -> list[str]:
    d = exp.design
    method = {
        "morris": "Morris elementary effects",
        "sobol": "Sobol indices (Saltelli sample)",
        "lhs": "Latin hypercube",
    }
    cells = f"{len(exp.arms)} arms x {len(exp.seeds)} seeds"
    if n_economies:
        cells += f" x {n_economies} economies"
    out = [
        f"# Sensitivity: {exp.name}",
        "",
        f"{method[d['method']]} over {len(d['parameters'])} parameters, {len(d['points'])} parameter sets x "
        f"{cells} ({exp.scenarios[0].place_name}, "
        f"{exp.burn_in} months burn-in + {exp.lead_in} months lead-in + {exp.months} months). "
        f"Sampler seed {d['seed']}. Each output is averaged over the seeds at each "
        "parameter set (arms paired on common random numbers) before the indices are computed.",
        "",
    ]
    if n_economies:
        out += [
            "Every parameter set runs in every economy on the same seeds; arms are compared only within the "
            "same economy and the same parameter set, and each economy is analysed on its own below.",
            "",
        ]
    out += [
        "## Parameters and ranges",
        "",
        _md(
            ["parameter", "low", "high"],
            [[n, f"{b[0]:g}", f"{b[1]:g}"] for n, b in zip(d["parameters"], d["bounds"], strict=True)],
        ),
        "",
    ]
    return out


def _body(
    exp: Any, df: pd.DataFrame, rob: list[Robustness], values: dict[str, PointValues], notes: list[str], h: str = "##"
) -> list[str]:
    """Outputs, indices, robustness and notes (of one economy), headings at level `h`."""
    d = exp.design
    out: list[str] = []
    for key, o in exp.outputs.items():
        pv = values.get(key)
        out += [f"{h} {o['label']} (`{key}`)", ""]
        if pv is not None and np.isfinite(pv.mean).any():
            m = pv.mean[np.isfinite(pv.mean)]
            out += [
                f"Across parameter sets: median {_fmt(float(np.median(m)))}, 5th-95th percentile "
                f"{_fmt(float(np.percentile(m, 5)))} to {_fmt(float(np.percentile(m, 95)))}.",
                "",
            ]
        if not df.empty and key in set(df["output"]) and d["method"] in ("morris", "sobol"):
            out += [_md(*index_table(df, d["method"], key)), ""]
    if rob:
        out += [f"{h} Robustness of the ranking", ""]
        rows = [
            [
                r.label,
                r.statement,
                f"{r.share:.0%} [{r.low:.0%}, {r.high:.0%}]",
                f"{r.clear_wins} / {r.clear_losses} / {r.n - r.clear_wins - r.clear_losses}",
            ]
            for r in rob
        ]
        out += [
            _md(
                [
                    "output",
                    "holds when",
                    "share of parameter sets where it does (90% CI)",
                    "clearly / clearly not / unclear",
                ],
                rows,
            ),
            "",
            "A point is clear when its 90% interval across seeds lies wholly on one side.",
            "",
        ]
        for r in rob:
            out += [f"**{r.label}**: where it flips (a depth-2 classification tree):", ""]
            out += [f"- {rule}" for rule in r.rules]
            if r.importances:
                out += ["- parameters the tree uses: " + ", ".join(f"{k} ({v:.2f})" for k, v in r.importances.items())]
            out += [""]
    if notes:
        out += [f"{h} Notes", ""] + [f"- {n}" for n in notes] + [""]
    return out


def markdown(
    exp: Any,
    df: pd.DataFrame,
    rob: list[Robustness],
    values: dict[str, PointValues],
    notes: list[str],
    bins: list[EtaBin] | None = None,
) -> str:
    """sensitivity.md for an experiment without economies; with `bins` (demand_elasticity a design
    parameter), the ranking along the demand elasticity after the robustness."""
    out = _header(exp) + _body(exp, df, rob, values, notes)
    if bins and rob:
        out += ["## The ranking by demand elasticity", "", _md(*summary_table(rob, bins)), "", ETA_NOTE, ""]
    return "\n".join(out)


def _share(k: int, n: int, lo: float, hi: float) -> str:
    return f"{k / n:.0%} [{lo:.0%}, {hi:.0%}] of {n}" if n else "-"


def summary_table(rob: list[Robustness], bins: list[EtaBin]) -> tuple[list[str], list[list[str]]]:
    """The ranking by economy and demand elasticity: one row per output and economy, the share of all
    parameter sets where the comparison holds, then (with `demand_elasticity` a design parameter) the
    share within each band of it and where along it the ranking flips."""
    bands = list(dict.fromkeys((b.low_eta, b.high_eta) for b in bins))
    top = max((hi for _, hi in bands), default=math.nan)
    head = ["output", "economy", "holds when", "all parameter sets (90% CI)"]
    head += [f"eta in {band(lo, hi, hi == top)}" for lo, hi in bands]
    if bands:
        head += ["along the demand elasticity"]
    rows = []
    for r in rob:
        mine = [b for b in bins if b.output == r.output and b.economy == r.economy]
        row = [r.label, r.economy or "as built", r.statement, _share(r.wins, r.n, r.low, r.high)]
        row += [_share(b.wins, b.n, b.low, b.high) for b in mine]
        if bands:
            row += [eta_flip(mine)]
        rows.append(row)
    return head, rows


ETA_NOTE = (
    "Bands of the demand elasticity (eta): [0, 0.1) holds fixed demand (0, the shipped model) and the "
    "evidence's range (about 0.01-0.06, central 0.03; docs/evidence/macro_scenarios.md); [0.1, 0.3) is beyond "
    "that evidence; from 0.3 the fill rate would move labour demand as much as the whole labour cost does "
    "(Hamermesh's constant-output elasticity, about 0.3), on to the free-entry limit at 1. Each cell: the share "
    "of parameter sets in the band where the comparison holds [90% Wilson interval] of how many sets; a "
    "Latin hypercube spreads the sets evenly over the design's range of eta, so a narrow band holds few and its "
    "interval is wide."
)


def markdown_economies(
    exp: Any,
    parts: dict[str | None, tuple[pd.DataFrame, list[Robustness], dict[str, PointValues], list[str]]],
    bins: list[EtaBin],
) -> str:
    """sensitivity.md for an experiment with economies: the ranking by economy (and demand
    elasticity) first, then each economy's outputs, indices, robustness and notes."""
    rob = [r for _, rs, _, _ in parts.values() for r in rs]
    out = _header(exp, len(parts))
    if rob:
        out += ["## The ranking by economy and demand elasticity", "", _md(*summary_table(rob, bins)), ""]
        if bins:
            out += [ETA_NOTE, ""]
        elif ETA not in exp.design["parameters"]:
            out += ["Add `demand_elasticity` to the design's parameters to see the ranking along it.", ""]
    for economy, (df, rs, values, notes) in parts.items():
        out += [f"## Economy: {economy}", ""]
        out += _body(exp, df, rs, values, notes, h="###")
    return "\n".join(out)


def figure(exp: Any, df: pd.DataFrame, out_dir: Path, stem: str = "sensitivity") -> list[Path]:
    """Morris: mu* against sigma per output; Sobol: total and first-order indices per output
    (figures/STEM.png and .svg; one per economy, `sensitivity_ECONOMY`, with economies)."""
    from simulation.analysis.report_figures import Written, _plt, _save

    if df.empty or exp.design["method"] not in ("morris", "sobol"):
        return []
    plt = _plt()
    keys = list(dict.fromkeys(df["output"]))
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        sub = df[df["output"] == key]
        if exp.design["method"] == "morris":
            ax.errorbar(sub["mu_star"], sub["sigma"], xerr=sub["mu_star_conf"], fmt="o", ms=4, capsize=2)
            for _, r in sub.head(5).iterrows():
                ax.annotate(
                    r["parameter"], (r["mu_star"], r["sigma"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
                )
            ax.set_xlabel("mu* (mean |elementary effect|)")
            ax.set_ylabel("sigma (interaction / nonlinearity)")
        else:
            sub = sub.head(10).iloc[::-1]
            pos = np.arange(len(sub))
            ax.barh(pos + 0.2, sub["ST"], 0.4, xerr=sub["ST_conf"], label="total ST", capsize=2)
            ax.barh(pos - 0.2, sub["S1"], 0.4, xerr=sub["S1_conf"], label="first-order S1", capsize=2)
            ax.set_yticks(pos, sub["parameter"], fontsize=7)
            ax.set_xlabel("Sobol index")
            ax.legend(fontsize=7)
        ax.set_title(exp.outputs[key]["label"], fontsize=9)
    for ax in list(axes.flat)[len(keys) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return _save(fig, out_dir, stem, Written())


def print_report(
    exp: Any, df: pd.DataFrame, rob: list[Robustness], notes: list[str], economy: str | None = None
) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=140)
    method = exp.design["method"]
    for key, o in exp.outputs.items():
        if df.empty or key not in set(df["output"]) or method not in ("morris", "sobol"):
            continue
        head, rows = index_table(df, method, key)
        where = f" ({economy})" if economy else ""
        t = Table(title=escape(f"{o['label']}: {method} indices, most influential first{where}"))
        for h in head:
            t.add_column(h, justify="left" if h == "parameter" else "right")
        for r in rows[:10]:
            t.add_row(*map(escape, r))
        console.print(t)
    if rob:
        t = Table(
            title="Robustness of the ranking over the sampled parameter sets"
            + (escape(f" in economy {economy}") if economy else "")
        )
        for h in ("output", "holds when", "share of sets (90% CI)", "clearly/clearly not/unclear", "where it flips"):
            t.add_column(h)
        for r in rob:
            t.add_row(
                escape(r.label),
                escape(r.statement),
                f"{r.share:.0%} [{r.low:.0%}, {r.high:.0%}]",
                f"{r.clear_wins}/{r.clear_losses}/{r.n - r.clear_wins - r.clear_losses}",
                escape("; ".join(r.rules)),
            )
        console.print(t)
    for n in notes:
        print(f"note: {n}" if economy is None else f"note ({economy}): {n}")


def print_summary(rob: list[Robustness], bins: list[EtaBin]) -> None:
    """The ranking by economy and demand elasticity (`summary_table`) on the terminal."""
    by = " and ".join(
        w for w, on in (("economy", any(r.economy for r in rob)), ("demand elasticity", bool(bins))) if on
    )
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    head, rows = summary_table(rob, bins)
    t = Table(title=f"The ranking by {by}: share of parameter sets where it holds")
    for h in head:
        t.add_column(escape(h))
    for r in rows:
        t.add_row(*map(escape, r))
    Console(width=160).print(t)
