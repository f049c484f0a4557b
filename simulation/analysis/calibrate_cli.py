"""The command line of `labourlab calibrate SPEC`: fit the baseline's uncertain parameters to observed targets.

`calibrate` is the whole job without a terminal (search, check on fresh seeds, write); `run` is the
command, with a progress bar and the fit table printed. The spec is read by `calibrate_spec`, the
search and check are `calibrate`'s, the outputs `calibrate_write`'s.

Outputs (OUT, default results/calibrate/<name>/), each written atomically:

    fit_report.md   each target against the hand-set and fitted model on the check seeds, with 90%
                    intervals; the losses; the fitted values beside the hand-set ones and their ranges
    fit.csv         the same per-target table, one row per target
    trials.csv      every trial: parameters, loss, model means per target
    calibrated.toml a complete calibration file with the fitted values and a [provenance] table;
                    use it with `labourlab run --calibration FILE` or an experiment spec's `calibration`
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from simulation.analysis.calibrate import Fit, RunFailed, compare_on_check_seeds, search
from simulation.analysis.calibrate_report import fmt, interval_text
from simulation.analysis.calibrate_spec import CalibrationSpec, load_spec
from simulation.analysis.calibrate_write import write_outputs
from simulation.config import ROOT


def calibrate(
    spec: CalibrationSpec,
    out: Path,
    executor: Any,
    spec_arg: str,
    on_trial: Any = None,
) -> tuple[Fit, dict[str, Path]]:
    """Search, check on fresh seeds, write the outputs."""
    t0 = time.perf_counter()
    res = search(spec, executor, on_trial)
    fit = compare_on_check_seeds(spec, executor, res)
    fit.wall_seconds = time.perf_counter() - t0
    files = write_outputs(fit, out, spec_arg)
    return fit, files


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `labourlab calibrate SPEC`."""
    from simulation.argtypes import positive_int

    c = sub.add_parser(
        "calibrate",
        help="fit the baseline's uncertain parameters to observed targets (optuna), with a fit report",
        description="Fit the parameters a calibration spec names (experiments/calibrate_*.toml), each within its "
        "evidence range, to the observed targets (configs/targets.toml) with optuna's TPE sampler: trials one after "
        "another (trial 0 the hand-set values), each on the spec's replicate seeds in parallel; then run the "
        "hand-set and fitted values on fresh check seeds and write OUT/fit_report.md, fit.csv, trials.csv and "
        "calibrated.toml (a calibration file with provenance: labourlab run --calibration FILE).",
    )
    c.add_argument(
        "spec", type=Path, metavar="SPEC", help="calibration spec (TOML), e.g. experiments/calibrate_small.toml"
    )
    c.add_argument("--out", type=Path, metavar="DIR", help="output folder (default results/calibrate/NAME)")
    c.add_argument(
        "--trials", type=positive_int, default=None, metavar="N", help="number of trials (default: the spec's)"
    )
    c.add_argument(
        "--executor",
        choices=("local", "dask"),
        default=None,
        help="local: a process pool on this machine (default); dask: a dask.distributed cluster",
    )
    c.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask scheduler (tcp://HOST:PORT); default: a LocalCluster",
    )
    c.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="processes (local) or LocalCluster workers (dask; unused with --scheduler); default: the machine's cores",
    )


def run(args: argparse.Namespace) -> int:
    """`labourlab calibrate`: validate, search with a progress bar, print the fit table; the exit status."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Table

    from simulation.executors import make_executor, validate_choice

    spec = load_spec(args.spec, args.trials)
    validate_choice(args.executor, args.workers, args.scheduler)
    out = (args.out or ROOT / "results" / "calibrate" / spec.name).resolve()
    console = Console(width=140)
    arms = f"{spec.baseline_regime}" + (f" + {spec.programme_regime}" if spec.needs_programme else "")
    print(
        f"labourlab calibrate {spec.name}: {spec.place_name}, {len(spec.parameters)} parameters, "
        f"{len(spec.targets)} targets, {spec.trials} trials x {len(spec.seeds)} seeds ({arms}), "
        f"then {len(spec.check_seeds)} check seeds; {spec.burn_in} months burn-in + "
        f"{spec.lead_in} months lead-in + {spec.months} months",
        flush=True,
    )
    executor = make_executor(args.executor, args.workers, args.scheduler)
    bar = Progress(
        TextColumn("trials"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}  best {task.fields[best]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
    )
    task_id = bar.add_task("trials", total=spec.trials, loss="-", best="-")

    started = time.perf_counter()

    def on_trial(number: int, loss: float, best: float) -> None:
        bar.update(task_id, advance=1, loss=fmt(loss), best=fmt(best))
        if not console.is_terminal:  # a log file gets a line a trial instead of a bar it cannot show
            elapsed = time.perf_counter() - started
            print(f"trial {number}: loss {fmt(loss)}, best {fmt(best)} ({elapsed:.0f} s)", flush=True)

    try:
        print(f"executor: {executor.label()}", flush=True)
        bar.start()
        try:
            res = search(spec, executor, on_trial)
        finally:
            bar.stop()
        print(f"search: {spec.trials} trials in {res.wall_seconds:.0f} s; best trial {res.best_trial}", flush=True)
        print(f"checking hand-set and fitted values on seeds {', '.join(map(str, spec.check_seeds))}", flush=True)
        fit = compare_on_check_seeds(spec, executor, res)
    except RunFailed as e:
        print(f"labourlab calibrate: a run failed: {e}")
        return 1
    finally:
        executor.close()
    files = write_outputs(fit, out, str(args.spec))

    t = Table(title=escape(f"{spec.name}: targets on {len(spec.check_seeds)} check seeds (mean [90% interval])"))
    for col in ("target", "observed [band]", "hand-set", "miss", "fitted", "miss"):
        t.add_column(col, justify="left" if col == "target" else "right")
    for tf in fit.targets:
        r = tf.row()
        mark = {True: "", False: " (outside)"}
        t.add_row(
            escape(tf.key),
            f"{fmt(tf.target.value)} [{fmt(tf.target.low)}, {fmt(tf.target.high)}]",
            escape(interval_text(tf.handset) + mark[r["handset_inside"]]),
            fmt(r["handset_miss"], 3),
            escape(interval_text(tf.fitted) + mark[r["fitted_inside"]]),
            fmt(r["fitted_miss"], 3),
        )
    console.print(t)
    p = Table(title="parameters")
    for col in ("parameter", "hand-set", "fitted", "range", "edge"):
        p.add_column(col, justify="left" if col == "parameter" else "right")
    for r in fit.params_rows():
        p.add_row(
            r["parameter"], fmt(r["handset"]), fmt(r["fitted"]), f"[{fmt(r['low'])}, {fmt(r['high'])}]", r["at_edge"]
        )
    console.print(p)
    print(
        f"loss on trial seeds: hand-set {fmt(res.handset_loss)}, fitted {fmt(res.best_loss)}; "
        f"on check seeds: hand-set {fmt(fit.check_loss_handset)}, fitted {fmt(fit.check_loss_fitted)}"
    )
    for name, path in files.items():
        print(f"wrote {path}" + ("" if name != "calibrated" else f"  (labourlab run --calibration {path} ...)"))
    return 0
