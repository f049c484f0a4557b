"""The command line of `labourlab sensitivity SPEC`: run a design experiment, then analyse it.

`run` runs (or resumes) the experiment's runs through `simulation.launch`; `analyse` reads the
finished runs, computes the indices and robustness (`sensitivity`), renders them
(`sensitivity_render`) and writes OUT/sensitivity/: indices.csv, points.csv, robustness.csv,
sensitivity.md, figures/ and manifest.json, each written atomically. With economies, every table has an
`economy` column (arms compared within each economy); with `demand_elasticity` a design parameter,
robustness_by_eta.csv gives the share where each comparison holds within each band of it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.sensitivity import (
    EtaBin,
    PointValues,
    Robustness,
    economies,
    eta_bins,
    indices,
    point_values,
    robustness,
    runs_to_read,
)
from simulation.analysis.sensitivity_render import figure, markdown, markdown_economies, print_report, print_summary
from simulation.config import ROOT, ConfigError


def analyse(folder: Path, exp: Any) -> tuple[list[Path], int]:
    """Indices, robustness, tables and figures from a finished design experiment; with economies,
    each economy on its own (arms compared within it) and the ranking by economy and demand
    elasticity across them."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from simulation.results import atomic_write, write_json

    if not exp.outputs:
        raise ConfigError(exp.path, "outputs", "expected at least one [outputs.NAME] table to explain")
    econs = economies(exp)
    crossed = econs != [None]
    with Progress(TextColumn("reading runs"), BarColumn(), MofNCompleteColumn()) as bar:
        task = bar.add_task("read", total=runs_to_read(exp))
        values_by = {
            e: point_values(folder, exp, exp.outputs, progress=lambda: bar.advance(task), economy=e) for e in econs
        }
    parts: dict[str | None, tuple[pd.DataFrame, list[Robustness], dict[str, PointValues], list[str]]] = {}
    bins: list[EtaBin] = []
    for e, values in values_by.items():
        df, notes = indices(exp, values)
        parts[e] = (df, robustness(exp, values, e), values, notes)
        bins += eta_bins(exp, values, e)
    out_dir = folder / "sensitivity"
    written: list[Path] = []

    def csv(frame: pd.DataFrame, name: str) -> None:
        path = out_dir / name
        atomic_write(path, lambda p: frame.to_csv(p, index=False))
        written.append(path)

    def stack(frames: dict[str | None, pd.DataFrame], at: int) -> pd.DataFrame:
        # With economies, each economy's rows with an `economy` column at `at`; without, as they were.
        if not crossed:
            return frames[None]
        for e, f in frames.items():
            f.insert(at, "economy", e)
        return pd.concat(frames.values(), ignore_index=True) if frames else pd.DataFrame()

    points: dict[str | None, pd.DataFrame] = {}
    for e, values in values_by.items():
        x = pd.DataFrame(exp.design["points"], columns=exp.design["parameters"])
        x.insert(0, "point", np.arange(len(x)))
        for key, pv in values.items():
            x[key], x[f"{key}_low"], x[f"{key}_high"] = pv.mean, pv.low, pv.high
        points[e] = x
    indices_by = {e: part[0].copy() for e, part in parts.items()}
    csv(stack({e: f for e, f in indices_by.items() if not f.empty} if crossed else indices_by, 1), "indices.csv")
    csv(stack(points, 0), "points.csv")
    rob_all = [r for part in parts.values() for r in part[1]]
    rob_rows = pd.DataFrame(
        [
            {
                "output": r.output,
                **({"economy": r.economy} if crossed else {}),
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
            for r in rob_all
        ]
    )
    csv(rob_rows, "robustness.csv")
    if bins:
        csv(
            pd.DataFrame(
                [
                    {
                        "output": b.output,
                        "economy": b.economy,
                        "eta_low": b.low_eta,
                        "eta_high": b.high_eta,
                        "points": b.n,
                        "wins": b.wins,
                        "share": b.share,
                        "low90": b.low,
                        "high90": b.high,
                    }
                    for b in bins
                ]
            ),
            "robustness_by_eta.csv",
        )
    md = out_dir / "sensitivity.md"
    if crossed:
        text = markdown_economies(exp, parts, bins)
    else:
        df, rob, values, notes = parts[None]
        text = markdown(exp, df, rob, values, notes, bins)
    atomic_write(md, lambda p: p.write_text(text, encoding="utf-8"))
    written.append(md)
    for e, (df, _, _, _) in parts.items():
        written += figure(exp, df, out_dir, f"sensitivity_{e}" if e else "sensitivity")
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
    for e, (df, rob, _, notes) in parts.items():
        print_report(exp, df, rob, notes, e)
    if rob_all and (crossed or bins):
        print_summary(rob_all, bins)
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
