"""The command line of `labourlab validate`: run the arms the checks need, evaluate, print and write.

The checks are read by `validate_spec`, evaluated by `validate`, rendered by `validate_render`.
Outputs in --out (default results/validate/): validation.md, validation.csv and manifest.json,
each written atomically. A failing check is a finding about the model, not an error: the exit
status is 0 unless --strict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from pathlib import Path
from typing import Any

from simulation.analysis.validate import FAIL, NA, PASS, RunOut, Task, evaluate, run_task
from simulation.analysis.validate_render import frame, markdown, print_table
from simulation.analysis.validate_spec import VALIDATION_FILE, load_checks
from simulation.config import CONFIGS, ROOT, ConfigError, load_calibration, make_scenario
from simulation.results import atomic_write, git_commit, versions, write_json


def _finite(x: float) -> float | None:
    """JSON has no NaN: a missing value is null."""
    return float(x) if math.isfinite(x) else None


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `labourlab validate` to the command line."""
    from simulation.argtypes import positive_int, scale
    from simulation.executors import default_workers

    v = sub.add_parser(
        "validate",
        help="check the model against stylised facts it was not fitted to (pass/fail table)",
        description="Run the arms the checks of configs/validation.toml need (--place under --baseline-regime and "
        "--programme-regime, England under --baseline-regime at a sampling scale, and England in the 2008 recession "
        "scenario) on seeds 1..N and print, "
        "for each stylised fact the model was not fitted to (Beveridge curve across markets, job finding by months "
        "unemployed, small-business survival at 2 and 4 years, Work Programme outcomes by claimant group, the "
        "recession's unemployment path and Beveridge curve against ONS), the "
        "model's value with a 90% interval, the expected figure, its tolerance and PASS/FAIL (n/a with a reason); "
        "write validation.md, validation.csv and manifest.json to --out. Failing checks are findings: the exit "
        "status is 0 unless --strict.",
    )
    v.add_argument(
        "--place",
        default="southampton",
        help="place for the job-finding, survival and outcome checks (default southampton)",
    )
    v.add_argument(
        "--scale",
        type=scale,
        default=None,
        metavar="PEOPLE_PER_AGENT",
        help="people each row stands for in --place (default: the place file's)",
    )
    v.add_argument(
        "--beveridge-place",
        default="england",
        metavar="PLACE",
        help="place whose travel-to-work markets give the Beveridge curve (default england; or region:<name>)",
    )
    v.add_argument(
        "--england-scale",
        type=scale,
        default=300.0,
        metavar="PEOPLE_PER_AGENT",
        help="people per row in the Beveridge runs (default 300: seconds a run)",
    )
    v.add_argument(
        "--baseline-regime",
        default="no_programme",
        metavar="REGIME",
        help="regime of the baseline and Beveridge arms (default no_programme)",
    )
    v.add_argument(
        "--programme-regime",
        default="centralised",
        metavar="REGIME",
        help="regime whose outcomes by claimant group are checked (default centralised, the Work Programme)",
    )
    v.add_argument("--seeds", type=positive_int, default=3, help="seeds 1..N for every arm (default 3)")
    v.add_argument(
        "--calibration",
        type=Path,
        default=None,
        metavar="FILE",
        help="parameter file to validate, such as one labourlab calibrate wrote (default configs/calibration.toml)",
    )
    v.add_argument("--months", type=positive_int, default=60, help="policy months (default 60; outcomes need 25+)")
    v.add_argument("--burn-in", type=positive_int, default=24, help="months run first with no policy (default 24)")
    v.add_argument(
        "--lead-in",
        type=positive_int,
        default=24,
        help="policy months run after the burn-in and before the measured months (default 24)",
    )
    v.add_argument(
        "--checks",
        type=Path,
        default=None,
        metavar="FILE",
        help="validation checks (default configs/validation.toml)",
    )
    v.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder (default results/validate)")
    v.add_argument(
        "--jobs", type=positive_int, default=default_workers(), help="parallel processes (default: the cores)"
    )
    v.add_argument("--strict", action="store_true", help="exit with status 1 if any check fails")


def run(args: argparse.Namespace) -> int:
    """`labourlab validate`: run the arms, evaluate every check, print the table, write the files."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    checks = load_checks(args.checks)
    if args.seeds < 1:
        raise ConfigError("command line", "--seeds", "expected at least 1")
    if args.jobs < 1:
        raise ConfigError("command line", "--jobs", "expected at least 1")
    if args.calibration is not None and not Path(args.calibration).is_file():
        raise ConfigError(args.calibration, "", "file not found")
    arms = sorted({c.arm for c in checks.values()})
    # Each arm of the checks: (place, regime, people per row).
    where = {
        "baseline": (args.place, args.baseline_regime, args.scale),
        "programme": (args.place, args.programme_regime, args.scale),
        "england": (args.beveridge_place, args.baseline_regime, args.england_scale),
        "cycle": (args.beveridge_place, args.baseline_regime, args.england_scale),
    }
    # The cycle arm runs England in the scenario its checks name (`load_checks` allows one).
    economy = {a: next((c.economy for c in checks.values() if c.arm == a), None) for a in ("cycle",)}
    calibration = str(Path(args.calibration).resolve()) if args.calibration else None
    for arm in arms:  # every input is checked before any run starts
        place, regime, scale = where[arm]
        make_scenario(
            place,
            regime,
            months=args.months,
            burn_in=args.burn_in,
            lead_in=args.lead_in,
            people_per_agent=scale,
            calibration=Path(calibration) if calibration else None,
            economy=economy.get(arm),
        )
    seeds = list(range(1, args.seeds + 1))
    tasks = [
        Task(
            arm,
            where[arm][0],
            where[arm][1],
            s,
            args.months,
            args.burn_in,
            args.lead_in,
            where[arm][2],
            calibration,
            economy.get(arm),
        )
        for arm in arms
        for s in seeds
    ]
    out = Path(args.out) if args.out else ROOT / "results" / "validate"
    print(
        f"labourlab validate: {len(checks)} checks; arms "
        + ", ".join(f"{a} ({', '.join(str(x) for x in (*where[a][:2], economy.get(a)) if x)})" for a in arms)
        + f"; seeds {seeds[0]}..{seeds[-1]}, {args.burn_in} months burn-in + "
        f"{args.lead_in} months lead-in + {args.months} months; "
        f"{len(tasks)} runs on {min(args.jobs, len(tasks))} process(es)"
    )
    t0 = time.perf_counter()
    runs: dict[str, dict[int, RunOut]] = {a: {} for a in arms}
    with Progress(TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        job = bar.add_task("runs", total=len(tasks))
        if args.jobs > 1 and len(tasks) > 1:
            from simulation.executors import LocalExecutor

            ex = LocalExecutor(min(args.jobs, len(tasks)))
            try:
                for task, result, err in ex.run(run_task, tasks):
                    if err is not None:
                        raise RuntimeError(f"run {task.arm} seed {task.seed} failed: {err}") from err
                    runs[task.arm][task.seed] = result
                    bar.advance(job)
            finally:
                ex.close()
        else:
            for task in tasks:
                runs[task.arm][task.seed] = run_task(task)
                bar.advance(job)
    wall = time.perf_counter() - t0
    results = [evaluate(cid, c, [runs[c.arm][s] for s in seeds]) for cid, c in checks.items()]

    settings: dict[str, Any] = {
        "place": args.place,
        "scale": args.scale,
        "beveridge_place": args.beveridge_place,
        "england_scale": args.england_scale,
        "seeds": seeds,
        "months": args.months,
        "burn_in": args.burn_in,
        "lead_in": args.lead_in,
        "calibration": calibration or str(CONFIGS / "calibration.toml"),
        "calibration_provenance": load_calibration(Path(calibration) if calibration else None).provenance,
        "checks": str(Path(args.checks).resolve()) if args.checks else str(VALIDATION_FILE),
        "baseline_regime": args.baseline_regime,
        "programme_regime": args.programme_regime,
        "arms": {
            a: {
                "place": where[a][0],
                "regime": where[a][1],
                "people_per_agent": where[a][2],
                "economy": economy.get(a),
            }
            for a in arms
        },
    }
    print_table(results, f"Validation: {args.place}, seeds {seeds[0]}..{seeds[-1]} (facts the model was not fitted to)")
    n_fail = sum(r.status == FAIL for r in results)
    print(
        f"{sum(r.status == PASS for r in results)} pass, {n_fail} fail, {sum(r.status == NA for r in results)} n/a; "
        f"{len(tasks)} runs in {wall:.1f} s"
    )
    df = frame(results)
    text = markdown(results, settings)
    atomic_write(out / "validation.csv", lambda p: df.to_csv(p, index=False))
    atomic_write(out / "validation.md", lambda p: p.write_text(text, encoding="utf-8"))
    write_json(
        {
            "labourlab_validation": 1,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "settings": settings,
            "run_wall_seconds": {f"{t.arm}-seed{t.seed}": round(runs[t.arm][t.seed].wall_seconds, 3) for t in tasks},
            "wall_seconds": round(wall, 3),
            "versions": versions(),
            "git_commit": git_commit(),
            "command": sys.argv,
            "results": {
                r.id: {"status": r.status, "value": _finite(r.value), "low": _finite(r.low), "high": _finite(r.high)}
                for r in results
            },
        },
        out / "manifest.json",
    )
    for name in ("validation.md", "validation.csv", "manifest.json"):
        print(f"wrote {out / name}")
    return 1 if args.strict and n_fail else 0
