"""The computation of `labourlab sensitivity`: which assumptions drive the answer, and does the ranking hold.

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

Seed noise is averaged over the seeds at each point before the indices are computed; it still
shows up as unexplained variance (Sobol) or as sigma (Morris), so more seeds sharpen the indices.

With `economies = [...]` (issue 24, item 4) every design point runs in every macroeconomic scenario
on the same seeds (scenario `ARM@pNNNN~ECONOMY`). Arms are then compared only within one economy
and one design point: `point_values`, `indices` and `robustness` take the economy, and the
analysis is made economy by economy. `eta_bins` then says, for each output and economy, the share
of parameter sets on which the comparison holds within each band of the demand elasticity
(`ETA_BINS`, when `demand_elasticity` is a design parameter), and where along it the ranking flips.
`sensitivity_render` renders the results (sensitivity.md, Morris mu*-sigma plots or Sobol bars,
terminal tables); `sensitivity_cli` is the command line and writes them to OUT/sensitivity/.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation import measures
from simulation.analysis.stats import wilson
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
    return float(measures.evaluate(key, run.monthly))


def economy_of(scenario: Any) -> str | None:
    """The name of a scenario's economy as its scenario name ends (`~NAME`); None without one."""
    return Path(scenario.economy).stem if scenario.economy else None


def economies(exp: Any) -> list[str | None]:
    """The experiment's economies in the spec's order; [None] for an experiment without them."""
    return list(dict.fromkeys(economy_of(s) for s in exp.scenarios))


def point_values(
    folder: Path, exp: Any, outputs: dict[str, dict[str, Any]], progress: Any = None, economy: str | None = None
) -> dict[str, PointValues]:
    """Each output's estimate at each design point, from the experiment's finished runs; with
    economies, in the one named (both arms of a comparison from that economy and that point)."""
    from simulation.analysis import results_io
    from simulation.analysis.claims_estimate import estimate

    if economy not in economies(exp):
        raise ValueError(f"expected an economy of the experiment ({economies(exp)}), got {economy!r}")
    n_points = len(exp.design["points"])
    by_point: dict[tuple[str, int], str] = {(s.arm, s.point): s.name for s in exp.scenarios if economy_of(s) == economy}
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
    return len(arms) * len(exp.design["points"]) * len(exp.seeds) * len(economies(exp))


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
    economy: str | None = None  # the economy the arms were compared in; None without economies


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


def _wins(o: dict[str, Any], pv: PointValues) -> tuple[np.ndarray, np.ndarray, float]:
    """Where the estimate is defined, and whether the comparison comes out the better way there."""
    thr = float(o.get("threshold") or 0.0)
    ok = np.isfinite(pv.mean)
    return ok, (pv.mean[ok] > thr if o["better"] == "higher" else pv.mean[ok] < thr), thr


def robustness(exp: Any, values: dict[str, PointValues], economy: str | None = None) -> list[Robustness]:
    """For each output with a `better` direction: how often, over the sampled parameter sets, the
    arm wins, and where it flips (`values` from one economy: `point_values(..., economy=)`)."""
    x = np.asarray(exp.design["points"], dtype=float)
    names = exp.design["parameters"]
    found: list[Robustness] = []
    for key, o in exp.outputs.items():
        better = o.get("better")
        if better is None or key not in values:
            continue
        pv = values[key]
        ok, wins, thr = _wins(o, pv)
        low, high, xs = pv.low[ok], pv.high[ok], x[ok]
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
                economy,
            )
        )
    return found


# ------------------------------------------------------------- the ranking by demand elasticity
ETA = "demand_elasticity"
# Bands of the demand elasticity (configs/calibration.toml, range 0-1) in which the ranking is read:
# [0, 0.1) holds fixed demand (0, the shipped model) and the evidence's range (about 0.01-0.06,
# central 0.03: hiring costs of a few per cent of the wage bill times Hamermesh's 0.3 labour-demand
# elasticity, docs/evidence/macro_scenarios.md); [0.1, 0.3) is beyond that evidence but below 0.3,
# where the fill rate would move demand as much as the whole labour cost does; [0.3, 1.0] runs on to
# the free-entry limit. A referee can then read "does the ranking hold where the evidence puts eta"
# in the first column and "what would it take to flip it" in the others.
ETA_BINS: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0)


@dataclass
class EtaBin:
    """One output in one economy within one band of the demand elasticity: how often it holds."""

    output: str
    economy: str | None
    low_eta: float
    high_eta: float  # the band is [low_eta, high_eta), the last one closed
    n: int
    wins: int
    share: float
    low: float
    high: float


def eta_bins(
    exp: Any, values: dict[str, PointValues], economy: str | None = None, edges: tuple[float, ...] = ETA_BINS
) -> list[EtaBin]:
    """For each output with a direction, the share of parameter sets on which it holds within each
    band of the demand elasticity (a Wilson interval each); [] when it is not a design parameter."""
    names = exp.design["parameters"]
    if ETA not in names:
        return []
    eta = np.asarray(exp.design["points"], dtype=float)[:, names.index(ETA)]
    found: list[EtaBin] = []
    for key, o in exp.outputs.items():
        if o.get("better") is None or key not in values:
            continue
        ok, wins, _ = _wins(o, values[key])
        e = eta[ok]
        for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
            last = i == len(edges) - 2
            inside = (e >= lo) & ((e <= hi) if last else (e < hi))
            n, k = int(inside.sum()), int(wins[inside].sum())
            w_lo, w_hi = wilson(k, n)
            found.append(EtaBin(key, economy, lo, hi, n, k, k / n if n else math.nan, w_lo, w_hi))
    return found


def band(low: float, high: float, last: bool) -> str:
    """A band of the demand elasticity as an interval: [low, high), or [low, high] for the last."""
    return f"[{low:g}, {high:g}{']' if last else ')'}"


def eta_flip(bins: list[EtaBin]) -> str:
    """Where along the demand elasticity one output's ranking (in one economy) flips: the bands in
    which it holds at most parameter sets against those in which it does not (neighbouring bands
    with the same verdict joined)."""
    top = max((b.high_eta for b in bins), default=math.nan)
    seen = [b for b in bins if b.n]
    if not seen:
        return "no parameter sets"
    holds = [b.share > 0.5 for b in seen]
    empty = [band(b.low_eta, b.high_eta, b.high_eta == top) for b in bins if not b.n]
    if all(holds) or not any(holds):
        where = "every band" + (f" with sets (none in {', '.join(empty)})" if empty else "")
        return f"{'holds' if all(holds) else 'fails'} at most sets in {where}"
    merged: list[list[Any]] = []  # [holds, low, high]
    for b, h in zip(seen, holds, strict=True):
        if merged and merged[-1][0] == h and merged[-1][2] == b.low_eta:
            merged[-1][2] = b.high_eta
        else:
            merged.append([h, b.low_eta, b.high_eta])
    return ", ".join(f"{'holds' if h else 'fails'} for eta in {band(lo, hi, hi == top)}" for h, lo, hi in merged)
