"""`labourlab sensitivity SPEC`: which assumptions drive the answer, and does the ranking survive them.

An experiment spec with a `[design]` table names parameters to vary over their calibration ranges
and a sampling method; the experiment runner runs every arm at every design point on the same
seeds (so arms are paired at each point by common random numbers), locally or on dask, resumably.
The spec's `[outputs.*]` say which quantities to explain: a claims measure in one arm or compared
between two (paired difference, relative change, ratio, cost per additional job).

For each output this computes, from the finished runs:
- global sensitivity indices with confidence intervals (SALib): Morris elementary effects
  (mu*, sigma) for screening, or Sobol first-order and total indices (Saltelli sampling);
- ranking robustness, for outputs that say which direction is better (`better`, `threshold`):
  the share of sampled parameter sets on which the comparison comes out that way (with a Wilson
  interval), how many of those points are clear of seed noise, and a shallow decision tree
  (scikit-learn) that says which parameters, at which thresholds, flip it.

Outputs in OUT/sensitivity/: indices.csv, points.csv, robustness.csv, sensitivity.md and
figures/ (Morris mu*-sigma plots or Sobol bars). Seed noise is averaged over the seeds at each
point before the indices are computed; it still shows up as unexplained variance (Sobol) or as
sigma (Morris), so more seeds sharpen the indices.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.stats import wilson
from simulation.config import ROOT, ConfigError
from simulation.designs import problem as _problem
from simulation.designs import sample as sample  # where the tests and callers have found it

CLEAR = "clear"  # a point whose 90% interval across seeds lies wholly on one side of the threshold


# ------------------------------------------------------------------------------- the outputs
@dataclass
class PointValues:
    """One output at every design point: the estimate over seeds and its 90% interval."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _measure(run: Any, key: str) -> float:
    from simulation.analysis.claims import MEASURES, _month_totals

    g, tail = _month_totals(run)
    return float(MEASURES[key].value(g, tail))


def point_values(
    folder: Path, exp: Any, outputs: dict[str, dict[str, Any]], progress: Any = None
) -> dict[str, PointValues]:
    """Each output's estimate at each design point, from the experiment's finished runs."""
    from simulation.analysis import results_io
    from simulation.analysis.claims import estimate

    n_points = len(exp.design["points"])
    by_point: dict[tuple[str, int], str] = {(s.arm, s.point): s.name for s in exp.scenarios}
    needed: dict[str, set[str]] = {}  # arm -> measures
    for o in outputs.values():
        for arm in filter(None, (o["arm"], o["versus"])):
            needed.setdefault(arm, set()).update(filter(None, (o["measure"], o["per"])))
    # values[arm][measure] -> (points x seeds)
    values = {arm: {m: np.full((n_points, len(exp.seeds)), np.nan) for m in ms} for arm, ms in needed.items()}
    for arm, ms in needed.items():
        for i in range(n_points):
            for j, seed in enumerate(exp.seeds):
                run = results_io.read_experiment_run(folder, by_point[(arm, i)], seed)
                for m in ms:
                    values[arm][m][i, j] = _measure(run, m)
                if progress is not None:
                    progress()
    out: dict[str, PointValues] = {}
    for key, o in outputs.items():
        mean, low, high = (np.full(n_points, np.nan) for _ in range(3))
        for i in range(n_points):
            a = values[o["arm"]][o["measure"]][i]
            b = values[o["versus"]][o["measure"]][i] if o["versus"] else None
            pa = values[o["arm"]][o["per"]][i] if o["per"] else None
            pb = values[o["versus"]][o["per"]][i] if o["per"] and o["versus"] else None
            est = estimate(o["how"], a, b, pa, pb)
            mean[i], low[i], high[i] = est.mean, est.low, est.high
        out[key] = PointValues(mean, low, high)
    return out


def runs_to_read(exp: Any) -> int:
    arms = {a for o in exp.outputs.values() for a in (o["arm"], o["versus"]) if a}
    return len(arms) * len(exp.design["points"]) * len(exp.seeds)


# ------------------------------------------------------------------------------------ indices
def indices(exp: Any, values: dict[str, PointValues]) -> tuple[pd.DataFrame, list[str]]:
    """Morris or Sobol indices with 95% confidence intervals (SALib's bootstrap), one row per
    (output, parameter); outputs undefined at some point are left out with a note."""
    d = exp.design
    names = d["parameters"]
    problem = _problem(names, [tuple(b) for b in d["bounds"]])
    x = np.asarray(d["points"], dtype=float)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for key, pv in values.items():
        y = pv.mean
        bad = ~np.isfinite(y)
        if bad.any():
            notes.append(
                f"{key}: undefined at {int(bad.sum())} of {len(y)} parameter sets (a zero or negative denominator "
                "in some seed: no additional jobs, or no contributions without brokerage); no indices computed"
            )
            continue
        if np.ptp(y) == 0:
            notes.append(f"{key}: the same at every point; no indices computed")
            continue
        if d["method"] == "morris":
            from SALib.analyze import morris

            r = morris.analyze(problem, x, y, num_levels=d["levels"], conf_level=0.95, seed=d["seed"])
            for k, name in enumerate(names):
                rows.append(
                    {
                        "output": key,
                        "parameter": name,
                        "mu_star": float(r["mu_star"][k]),
                        "mu_star_conf": float(r["mu_star_conf"][k]),
                        "mu": float(r["mu"][k]),
                        "sigma": float(r["sigma"][k]),
                        "scaled_mu_star": float(r["mu_star"][k] / np.max(r["mu_star"]))
                        if np.max(r["mu_star"])
                        else 0.0,
                    }
                )
        elif d["method"] == "sobol":
            from SALib.analyze import sobol

            r = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=d["seed"])
            for k, name in enumerate(names):
                rows.append(
                    {
                        "output": key,
                        "parameter": name,
                        "S1": float(r["S1"][k]),
                        "S1_conf": float(r["S1_conf"][k]),
                        "ST": float(r["ST"][k]),
                        "ST_conf": float(r["ST_conf"][k]),
                    }
                )
    df = pd.DataFrame(rows)
    if not df.empty:
        order = "mu_star" if d["method"] == "morris" else "ST"
        df = df.sort_values(["output", order], ascending=[True, False], kind="stable").reset_index(drop=True)
        df.insert(2, "rank", df.groupby("output").cumcount() + 1)
    return df, notes


# --------------------------------------------------------------------------------- robustness
@dataclass
class Robustness:
    output: str
    label: str
    statement: str  # what "wins" means: above or below the threshold
    n: int
    wins: int
    share: float
    low: float
    high: float
    clear_wins: int
    clear_losses: int
    rules: list[str]  # the tree's leaves: conditions -> share winning (n)
    importances: dict[str, float]


def _tree_rules(x: np.ndarray, y: np.ndarray, names: list[str], depth: int = 2) -> tuple[list[str], dict[str, float]]:
    """A shallow classification tree: which parameter ranges make the comparison come out which way."""
    from sklearn.tree import DecisionTreeClassifier

    n = len(y)
    tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=max(3, n // 20), random_state=0).fit(x, y)
    t = tree.tree_
    rules: list[str] = []

    def walk(node: int, conds: list[str]) -> None:
        if t.children_left[node] == -1:
            counts = t.value[node][0] * t.n_node_samples[node]  # sklearn >= 1.4 stores fractions
            wins = float(counts[list(tree.classes_).index(True)]) if True in tree.classes_ else 0.0
            share = wins / t.n_node_samples[node]
            rules.append(
                f"{' and '.join(conds) or 'everywhere'}: holds at {share:.0%} of {t.n_node_samples[node]} points"
            )
            return
        name, thr = names[t.feature[node]], t.threshold[node]
        walk(t.children_left[node], [*conds, f"{name} <= {thr:.4g}"])
        walk(t.children_right[node], [*conds, f"{name} > {thr:.4g}"])

    walk(0, [])
    imp = {names[k]: float(v) for k, v in enumerate(tree.feature_importances_) if v > 0}
    return rules, dict(sorted(imp.items(), key=lambda kv: -kv[1]))


def robustness(exp: Any, values: dict[str, PointValues]) -> list[Robustness]:
    """For each output with a `better` direction: how often, over the sampled parameter sets, the
    arm wins, and where it flips."""
    x = np.asarray(exp.design["points"], dtype=float)
    names = exp.design["parameters"]
    found: list[Robustness] = []
    for key, o in exp.outputs.items():
        better = o.get("better")
        if better is None or key not in values:
            continue
        thr = float(o.get("threshold") or 0.0)
        pv = values[key]
        ok = np.isfinite(pv.mean)
        mean, low, high, xs = pv.mean[ok], pv.low[ok], pv.high[ok], x[ok]
        wins = mean > thr if better == "higher" else mean < thr
        clear_win = (low > thr) if better == "higher" else (high < thr)
        clear_loss = (high < thr) if better == "higher" else (low > thr)
        n, k = int(ok.sum()), int(wins.sum())
        lo, hi = wilson(k, n)
        statement = f"{'above' if better == 'higher' else 'below'} {thr:g}"
        if 0 < k < n:
            rules, imp = _tree_rules(xs, wins, names)
        else:
            rules, imp = [f"the comparison comes out the same way at all {n} points"], {}
        found.append(
            Robustness(
                key,
                o["label"],
                statement,
                n,
                k,
                k / n if n else math.nan,
                lo,
                hi,
                int(np.nansum(clear_win)),
                int(np.nansum(clear_loss)),
                rules,
                imp,
            )
        )
    return found


# ------------------------------------------------------------------------------------ report
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
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def markdown(
    exp: Any, df: pd.DataFrame, rob: list[Robustness], values: dict[str, PointValues], notes: list[str]
) -> str:
    d = exp.design
    method = {
        "morris": "Morris elementary effects",
        "sobol": "Sobol indices (Saltelli sample)",
        "lhs": "Latin hypercube",
    }
    out = [
        f"# Sensitivity: {exp.name}",
        "",
        f"{method[d['method']]} over {len(d['parameters'])} parameters, {len(d['points'])} parameter sets x "
        f"{len(exp.arms)} arms x {len(exp.seeds)} seeds ({exp.scenarios[0].place_name}, {exp.burn_in} + "
        f"{exp.months} months). Sampler seed {d['seed']}. Each output is averaged over the seeds at each "
        "parameter set (arms paired on common random numbers) before the indices are computed.",
        "",
        "## Parameters and ranges",
        "",
        _md(
            ["parameter", "low", "high"],
            [[n, f"{b[0]:g}", f"{b[1]:g}"] for n, b in zip(d["parameters"], d["bounds"], strict=True)],
        ),
        "",
    ]
    for key, o in exp.outputs.items():
        pv = values.get(key)
        out += [f"## {o['label']} (`{key}`)", ""]
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
        out += ["## Robustness of the ranking", ""]
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
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def figure(exp: Any, df: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Morris: mu* against sigma per output; Sobol: total and first-order indices per output."""
    from simulation.analysis.report import Written, _plt, _save

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
    return _save(fig, out_dir, "sensitivity", Written())


def print_report(exp: Any, df: pd.DataFrame, rob: list[Robustness], notes: list[str]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=140)
    method = exp.design["method"]
    for key, o in exp.outputs.items():
        if df.empty or key not in set(df["output"]) or method not in ("morris", "sobol"):
            continue
        head, rows = index_table(df, method, key)
        t = Table(title=escape(f"{o['label']}: {method} indices, most influential first"))
        for h in head:
            t.add_column(h, justify="left" if h == "parameter" else "right")
        for r in rows[:10]:
            t.add_row(*map(escape, r))
        console.print(t)
    if rob:
        t = Table(title="Robustness of the ranking over the sampled parameter sets")
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
        print(f"note: {n}")


def analyse(folder: Path, exp: Any) -> tuple[list[Path], int]:
    """Indices, robustness, tables and figures from a finished design experiment."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from simulation.results import atomic_write, write_json

    if not exp.outputs:
        raise ConfigError(exp.path, "outputs", "expected at least one [outputs.NAME] table to explain")
    with Progress(TextColumn("reading runs"), BarColumn(), MofNCompleteColumn()) as bar:
        task = bar.add_task("read", total=runs_to_read(exp))
        values = point_values(folder, exp, exp.outputs, progress=lambda: bar.advance(task))
    df, notes = indices(exp, values)
    rob = robustness(exp, values)
    out_dir = folder / "sensitivity"
    written: list[Path] = []
    x = pd.DataFrame(exp.design["points"], columns=exp.design["parameters"])
    x.insert(0, "point", np.arange(len(x)))
    for key, pv in values.items():
        x[key], x[f"{key}_low"], x[f"{key}_high"] = pv.mean, pv.low, pv.high

    def csv(frame: pd.DataFrame, name: str) -> None:
        path = out_dir / name
        atomic_write(path, lambda p: frame.to_csv(p, index=False))
        written.append(path)

    csv(df, "indices.csv")
    csv(x, "points.csv")
    csv(
        pd.DataFrame(
            [
                {
                    "output": r.output,
                    "wins_when": r.statement,
                    "points": r.n,
                    "wins": r.wins,
                    "share": r.share,
                    "low90": r.low,
                    "high90": r.high,
                    "clear_wins": r.clear_wins,
                    "clear_losses": r.clear_losses,
                    "rules": " | ".join(r.rules),
                    "tree_parameters": "; ".join(f"{k}={v:.3f}" for k, v in r.importances.items()),
                }
                for r in rob
            ]
        ),
        "robustness.csv",
    )
    md = out_dir / "sensitivity.md"
    text = markdown(exp, df, rob, values, notes)
    atomic_write(md, lambda p: p.write_text(text, encoding="utf-8"))
    written.append(md)
    written += figure(exp, df, out_dir)
    man = out_dir / "manifest.json"
    from simulation.results import git_commit, versions

    write_json(
        {
            "experiment": exp.resolved(),
            "git_commit": git_commit(),
            "versions": versions(),
            "outputs": [p.name for p in written],
        },
        man,
    )
    written.append(man)
    print_report(exp, df, rob, notes)
    return written, 0


# ------------------------------------------------------------------------------ command line
def add_parser(sub: Any) -> None:
    s = sub.add_parser(
        "sensitivity",
        help="global sensitivity (Morris or Sobol) and ranking robustness over a [design] of parameter sets",
        description="Run an experiment spec with a [design] table (every arm at every sampled parameter set, same "
        "seeds; local or dask; resumable), then compute Morris or Sobol indices with confidence intervals for each "
        "[outputs.*] quantity, the share of parameter sets on which each comparison comes out the better way, and "
        "where it flips (a shallow tree). Writes OUT/sensitivity/.",
    )
    s.add_argument("spec", type=Path, metavar="SPEC", help="experiment spec (TOML) with [design] and [outputs.*]")
    s.add_argument("--out", type=Path, help="results folder (default results/<spec name>)")
    s.add_argument("--executor", choices=["local", "dask"], default=None, help="where runs go (default local)")
    s.add_argument("--workers", type=int, default=None, help="processes (local) or workers (dask LocalCluster)")
    s.add_argument(
        "--scheduler", default=None, metavar="ADDRESS", help="an existing dask scheduler (with --executor dask)"
    )
    s.add_argument("--analyse-only", action="store_true", help="analyse finished runs in OUT without running anything")


def run(args: argparse.Namespace) -> int:
    from simulation import experiment, launch

    exp = experiment.load_experiment(args.spec)
    if exp.design is None:
        raise ConfigError(args.spec, "design", "expected a [design] table (method, samples, parameters)")
    if not exp.outputs:
        raise ConfigError(args.spec, "outputs", "expected at least one [outputs.NAME] table to explain")
    out = (args.out or ROOT / "results" / exp.name).resolve()
    if not args.analyse_only:
        status = launch.main(args.spec, out, args.executor, args.scheduler, args.workers)
        if status != 0:
            print("labourlab sensitivity: not every run finished; run the same command again to complete them")
            return status
    elif not (out / "manifest.json").is_file():
        raise ConfigError(
            out, "", "not a results folder of this experiment (no manifest.json); run without --analyse-only"
        )
    missing = [
        (t.scenario, t.seed) for t in exp.tasks(out) if not experiment.run_paths(out, t.scenario, t.seed).finished()
    ]
    if missing:
        s, seed = missing[0]
        raise ConfigError(
            out, f"runs/scenario={s}/seed={seed}.json", f"expected every run finished; {len(missing)} missing"
        )
    written, code = analyse(out, exp)
    for p in written:
        print(f"wrote {p}")
    return code
