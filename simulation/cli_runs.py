"""The commands that run the model: `labourlab run` (one place, regime and seed), `demo` (every arm
on a few seeds, on a pool of processes), `compare --place` (the arms on seeds 1..N, then compared),
`experiment` (a spec, `simulation.launch`) and `viz` (the browser app)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from simulation.cli_tables import print_differences, print_table, print_targets
from simulation.config import ROOT, ConfigError, Scenario, make_scenario

# A run for the process pool (picklable): place, regime, seed, months, burn-in, lead-in, people per
# row, parameter overrides, output folder.
Job = tuple[str, str, int, int, int, int, float | None, dict[str, float], str]
DEFAULT_ARMS = "no_programme,centralised,cooperative"


def cmd_run(args: argparse.Namespace, overrides: dict[str, float]) -> int:
    """`labourlab run`: one place under one regime for one seed, then its summary."""
    from simulation.runner import run_scenario

    sc = make_scenario(
        args.place,
        args.regime,
        months=args.months,
        burn_in=args.burn_in,
        lead_in=args.lead_in,
        people_per_agent=args.scale,
        calibration=args.calibration,
        overrides=overrides,
        economy=args.economy,
    )
    out = args.out or ROOT / "results" / "runs" / f"{sc.place.name}-{sc.regime.name}-seed{args.seed}"
    print(
        f"labourlab run: {sc.place.name} under {sc.regime.name}, seed {args.seed}, "
        f"{args.burn_in} months burn-in + {args.lead_in} months lead-in + {args.months} months, "
        f"{sc.people_per_agent:g} people per row"
    )
    res = run_scenario(sc, args.seed, out, agent_views=args.agent_views)
    print_table(
        {sc.regime.name: [res.summary]}, title=f"{sc.place.name}: last 12 months (rates), whole run (flows, money)"
    )
    print(f"wall time {res.wall_seconds:.1f} s")
    print(f"wrote {out / 'monthly.parquet'}")
    print(f"wrote {out / 'manifest.json'}")
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    """`labourlab experiment`: a spec's runs on the executor the command line names."""
    from simulation import launch

    return launch.main(args.spec, args.out, args.executor, args.scheduler, args.workers)


def _pool_context() -> Any:
    """Worker processes start from a fork server, not by forking this process: the progress bar
    runs a thread, and forking a threaded process can deadlock the child (so a run would hang)."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["simulation.cli_runs", "simulation.runner"])  # import the model once
    return ctx


def _demo_job(job: Job) -> tuple[str, int, dict[str, float], float]:
    place, regime, seed, months, burn_in, lead_in, scale, overrides, out = job
    from simulation.runner import run_scenario

    sc = make_scenario(
        place, regime, months=months, burn_in=burn_in, lead_in=lead_in, people_per_agent=scale, overrides=overrides
    )
    res = run_scenario(sc, seed, Path(out))
    return regime, seed, res.summary, res.wall_seconds


def split_arms(regimes: str) -> list[str]:
    """The arms a comma-separated --regimes names."""
    return [r.strip() for r in regimes.split(",") if r.strip()]


def _arms(regimes: str, seeds: int) -> list[str]:
    """The arms --regimes names, at least one, with --seeds checked too."""
    arms = split_arms(regimes)
    if not arms:
        raise ConfigError("command line", "--regimes", "expected at least one regime name")
    if seeds < 1:
        raise ConfigError("command line", "--seeds", "expected at least 1")
    return arms


def _scenarios(args: argparse.Namespace, arms: list[str], overrides: dict[str, float]) -> dict[str, Scenario]:
    """Each arm's scenario, built now so that every input is validated before any work starts."""
    return {
        arm: make_scenario(
            args.place,
            arm,
            months=args.months,
            burn_in=args.burn_in,
            lead_in=args.lead_in,
            people_per_agent=args.scale,
            overrides=overrides,
        )
        for arm in arms
    }


def _jobs(
    args: argparse.Namespace, arms: list[str], folder: dict[str, str], overrides: dict[str, float], out: Path
) -> list[Job]:
    """Every arm on seeds 1..N, each run written to OUT/<its arm's folder name>-seed<S>/."""
    return [
        (
            args.place,
            arm,
            s,
            args.months,
            args.burn_in,
            args.lead_in,
            args.scale,
            overrides,
            str(out / f"{folder[arm]}-seed{s}"),
        )
        for arm in arms
        for s in range(1, args.seeds + 1)
    ]


def _run_jobs(jobs: list[Job], processes: int) -> Iterator[tuple[str, int, dict[str, float], float]]:
    """Each job's result, with a progress bar: on a pool of processes when there are several of
    both, else here, one after another."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("runs", total=len(jobs))
        if processes > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(max_workers=min(processes, len(jobs)), mp_context=_pool_context()) as pool:
                for result in pool.map(_demo_job, jobs):
                    yield result
                    bar.advance(task)
        else:
            for job in jobs:
                yield _demo_job(job)
                bar.advance(task)


def cmd_demo(args: argparse.Namespace, overrides: dict[str, float]) -> int:
    """`labourlab demo`: every arm on seeds 1..N, then the baseline against its evidence, each arm's
    figures and the paired differences from the baseline."""
    regimes = _arms(args.regimes, args.seeds)
    _scenarios(args, regimes, overrides)
    seeds = list(range(1, args.seeds + 1))
    jobs = _jobs(args, regimes, {r: r for r in regimes}, overrides, args.out)
    print(
        f"labourlab demo: {args.place}, arms {', '.join(regimes)}, seeds {seeds[0]}..{seeds[-1]}, "
        f"{args.burn_in} months burn-in + {args.lead_in} months lead-in + {args.months} months; "
        f"{len(jobs)} runs on {args.jobs} processes"
    )
    by_arm: dict[str, dict[int, dict[str, float]]] = {r: {} for r in regimes}
    t0 = time.perf_counter()
    for regime, seed, summary, _wall in _run_jobs(jobs, args.jobs):
        by_arm[regime][seed] = summary
    lists = {arm: [runs[s] for s in seeds] for arm, runs in by_arm.items()}
    if args.baseline in lists:
        print_targets(lists[args.baseline], args.baseline)
    print_table(
        lists,
        title=f"{args.place}: mean over {len(seeds)} seeds [min, max]; "
        "rates over the last 12 months, flows and money over the run",
    )
    if args.baseline in by_arm and len(by_arm) > 1:
        print_differences(by_arm, seeds, args.baseline)
    print(f"{len(jobs)} runs in {time.perf_counter() - t0:.1f} s")
    print(f"outputs: {args.out}/<arm>-seed<S>/monthly.parquet and manifest.json")
    return 0


def compare_runs(args: argparse.Namespace, overrides: dict[str, float]) -> tuple[Any, Path]:
    """Run every arm on seeds 1..N into OUT/<arm>-seed<S>/, then analyse just those runs."""
    from simulation.analysis import compare

    regimes = _arms(args.regimes or DEFAULT_ARMS, args.seeds)
    if args.baseline not in regimes:
        raise ConfigError("command line", "--baseline", f"expected one of the arms in --regimes ({', '.join(regimes)})")
    scenarios = _scenarios(args, regimes, overrides)
    names = {regime: sc.regime.name for regime, sc in scenarios.items()}
    if len(set(names.values())) < len(names):
        raise ConfigError("command line", "--regimes", "expected arms with different regime names")
    place = scenarios[regimes[-1]].place.name
    out = args.out or ROOT / "results" / "compare" / place
    seeds = list(range(1, args.seeds + 1))
    jobs = _jobs(args, regimes, names, overrides, out)
    print(
        f"labourlab compare: running {place}, arms {', '.join(names.values())}, seeds {seeds[0]}..{seeds[-1]}, "
        f"{args.burn_in} months burn-in + {args.lead_in} months lead-in + {args.months} months; "
        f"{len(jobs)} runs on {args.jobs} processes"
    )
    t0 = time.perf_counter()
    for _ in _run_jobs(jobs, args.jobs):
        pass
    print(f"{len(jobs)} runs in {time.perf_counter() - t0:.1f} s; outputs: {out}/<arm>-seed<S>/")
    report = compare.analyse(
        out,
        baseline=names[args.baseline],
        arms=list(names.values()),
        only={Path(j[-1]).name for j in jobs},
        precision=args.precision,
    )
    compare.print_report(report)
    return report, out / "compare"


def cmd_viz(args: argparse.Namespace) -> int:
    """Run `solara run simulation/app.py` in the foreground; its output goes to this terminal."""
    import subprocess

    app = Path(__file__).with_name("app.py")
    solara = Path(sys.executable).with_name("solara")
    cmd = [str(solara) if solara.exists() else "solara", "run", str(app)]
    cmd += ["--host", args.host, "--port", str(args.port), "--no-open"]
    print(f"LabourLab app: http://{args.host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(cmd)
    except FileNotFoundError:
        print("labourlab: error: `solara` not found; install the project's environment (make env)", file=sys.stderr)
        return 1
