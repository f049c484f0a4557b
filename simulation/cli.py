"""The `labourlab` command line.

Every command prints what it does and where its outputs are. Bad input gets one line naming the
file, the field and what was expected, and exit status 2; so does misuse of the command line.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from simulation import parallel
from simulation.argtypes import positive_int as _positive_int
from simulation.argtypes import scale as _scale
from simulation.config import ROOT, ConfigError, check_overrides, make_scenario

USAGE_ERROR = 2


def _share(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 10], got {text!r}") from None
    if not math.isfinite(v) or not 0 < v <= 10:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 10], got {text!r}")
    return v


def _assignment(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number after '=', got {value!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="labourlab",
        description="LabourLab: agent-based local labour markets in England under two policy regimes.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    r = sub.add_parser(
        "run",
        help="run one place under one regime for one seed",
        description="Run one place under one regime for one seed; write monthly.parquet "
        "and manifest.json, and print a summary.",
    )
    r.add_argument("--place", required=True, help="place name in configs/places/ or a path to a TOML file")
    r.add_argument("--regime", required=True, help="regime name in configs/regimes/ or a path to a TOML file")
    r.add_argument(
        "--seed", required=True, type=_positive_int, help="random seed (a run is a pure function of config and seed)"
    )
    _common(r)
    r.add_argument(
        "--calibration",
        type=Path,
        default=None,
        metavar="FILE",
        help="calibration parameter file, such as one labourlab calibrate wrote (default configs/calibration.toml)",
    )
    r.add_argument("--out", type=Path, help="output folder (default results/runs/PLACE-REGIME-seedS)")
    r.add_argument(
        "--agent-views",
        action="store_true",
        help="create a Mesa agent viewing each person and firm row (results are identical either way)",
    )

    d = sub.add_parser(
        "demo",
        help="run every regime and the no-programme arm for one place on a few seeds",
        description="Run the centralised and cooperative regimes and the no-programme arm on the "
        "same seeds, print the baseline against its evidence and each arm's figures.",
    )
    d.add_argument("--place", default="southampton", help="place (default southampton)")
    d.add_argument("--seeds", type=_positive_int, default=3, help="number of seeds (default 3)")
    d.add_argument("--regimes", default="no_programme,centralised,cooperative", help="comma-separated regimes")
    d.add_argument("--baseline", default="no_programme", help="arm the others are differenced against")
    _common(d)
    d.add_argument(
        "--out", type=Path, default=ROOT / "results" / "demo_runs", help="output folder (default results/demo_runs)"
    )
    d.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1, help="parallel processes")

    c = sub.add_parser(
        "compare",
        help="paired differences between arms on the same seeds, with 90%% intervals",
        description="Run the arms on the same seeds (--place) or read a folder of finished runs "
        "(RESULTS_DIR, laid out <arm>-seed<S>/), then print paired differences with 90% intervals, "
        "cost per additional sustained job and two-year job-outcome rates by claimant group; "
        "write the tables to DIR/compare/.",
    )
    c.add_argument(
        "results", nargs="?", type=Path, metavar="RESULTS_DIR", help="analyse this folder of runs instead of running"
    )
    c.add_argument("--place", help="place to run (instead of RESULTS_DIR)")
    c.add_argument("--seeds", type=_positive_int, default=5, help="number of seeds to run (default 5)")
    c.add_argument(
        "--regimes",
        default=None,
        help="comma-separated arms (default no_programme,centralised,cooperative; with RESULTS_DIR, every arm found)",
    )
    c.add_argument("--baseline", default="no_programme", help="arm the others are differenced against")
    c.add_argument(
        "--precision",
        type=_share,
        default=0.5,
        metavar="SHARE",
        help="precision planner's target: a 90%% half-width of SHARE x each mean difference (default 0.5)",
    )
    _common(c)
    c.add_argument(
        "--out",
        type=Path,
        help="folder for the runs (default results/compare/PLACE); tables go to OUT/compare/ "
        "(with RESULTS_DIR: default RESULTS_DIR/compare/)",
    )
    c.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1, help="parallel processes")

    pp = sub.add_parser(
        "params",
        help="every calibration parameter with value, range, unit and source, as a Markdown table",
        description="Print every parameter of the calibration file as a Markdown table a paper can include: "
        "name, value, low-high range, unit, whether it is an assumption, and its source.",
    )
    pp.add_argument(
        "--calibration", type=Path, default=None, help="calibration file (default configs/calibration.toml)"
    )
    pp.add_argument("--out", type=Path, help="also write the table to this file (atomically)")

    k = sub.add_parser(
        "claims",
        help="test the report's headline claims against finished runs, with 90%% intervals",
        description="Read finished runs (run folders <arm>-seed<S>/ or an experiment folder), pair the seeds "
        "each claim's arms were run on, and print for each claim of the registry (configs/claims.toml) the "
        "model's estimate with a 90% interval beside the claimed value, the report's implied arithmetic beside "
        "the model's, and the parameters it depends on; write RESULTS_DIR/claims/claims.md and claims.csv.",
    )
    k.add_argument("results", type=Path, metavar="RESULTS_DIR", help="folder of finished runs")
    k.add_argument("--registry", type=Path, default=None, help="claims registry (default configs/claims.toml)")
    k.add_argument("--out", type=Path, help="folder for the tables (default RESULTS_DIR/claims)")

    rp = sub.add_parser(
        "report",
        help="write a report of finished runs: figures (PNG, SVG), report.md and report.html",
        description="Read finished runs (run folders <arm>-seed<S>/ or an experiment folder) and write into DIR "
        "(default RESULTS_DIR/report) figures as PNG and SVG (time paths by arm, paired differences from the "
        "baseline, two-year job-outcome rates by claimant group, cost per additional sustained job, the claims "
        "when their arms were run) and report.md and report.html with compare's tables, the claims table, the "
        "assumptions the results depend on, the manifest and the commands that regenerate it.",
    )
    rp.add_argument("results", type=Path, metavar="RESULTS_DIR", help="folder of finished runs")
    rp.add_argument("--out", type=Path, metavar="DIR", help="output folder (default RESULTS_DIR/report)")
    rp.add_argument(
        "--baseline",
        default=None,
        help="arm the others are differenced against (default: the experiment's baseline, else no_programme)",
    )

    x = sub.add_parser(
        "experiment",
        help="run an experiment spec (arms x seeds) into a Parquet dataset, resumably",
        description="Run every (scenario, seed) of an experiment spec (experiments/*.toml) on a local "
        "process pool or a dask cluster into OUT/monthly/scenario=<scenario>/seed=<S>.parquet (one "
        "Parquet dataset), with run manifests, OUT/manifest.json and OUT/experiment.log. Re-running "
        "the same spec into the same folder runs only what is missing.",
    )
    x.add_argument("spec", type=Path, metavar="SPEC", help="experiment spec (TOML), e.g. experiments/demo.toml")
    x.add_argument("--out", type=Path, metavar="DIR", help="output folder (default results/NAME, NAME from the spec)")
    x.add_argument(
        "--executor",
        choices=("local", "dask"),
        default=None,
        help="local: a process pool on this machine (default); dask: a dask.distributed cluster",
    )
    x.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask scheduler (tcp://HOST:PORT); default: a LocalCluster",
    )
    x.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="processes (local) or LocalCluster workers (dask; unused with --scheduler); default: the machine's cores",
    )
    v = sub.add_parser(
        "viz",
        help="open the browser app: centralised and cooperative side by side on one seed",
        description="Serve the Mesa/Solara app (simulation/app.py) with `solara run`: both regimes on the same "
        "seed, stepped together, with paired plots, a view of jobseekers and lever controls (Reset applies them).",
    )
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    v.add_argument("--port", type=_positive_int, default=8765, help="port (default 8765)")
    _analysis_commands(sub)
    return p


def _analysis_commands(sub: Any) -> None:
    """Commands whose parsers live beside their analysis (issue 7: sensitivity, calibration, validation)."""
    from simulation.analysis import calibrate, sensitivity, validate

    sensitivity.add_parser(sub)
    calibrate.add_parser(sub)
    validate.add_parser(sub)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--months", type=_positive_int, default=60, help="policy months to run (default 60)")
    p.add_argument("--burn-in", type=_positive_int, default=24, help="months run first with no policy (default 24)")
    p.add_argument(
        "--scale",
        type=_scale,
        default=None,
        metavar="PEOPLE_PER_AGENT",
        help="people each row stands for (default: the place file's people_per_agent)",
    )
    p.add_argument(
        "--set",
        type=_assignment,
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="override a calibration parameter (repeatable)",
    )


def _check_usage(p: argparse.ArgumentParser, argv: list[str]) -> None:
    """Usage errors argparse words poorly, reported first with the nearest valid name: no command
    (the whole help), an unknown command, and an unknown option (argparse would otherwise complain
    about a missing required option that the misspelt one was meant to be)."""
    from simulation.config import _nearest

    if not argv:
        p.print_help(sys.stderr)
        p.exit(USAGE_ERROR, f"{p.prog}: error: expected a command (listed above)\n")
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    i = next((k for k, tok in enumerate(argv) if not tok.startswith("-")), None)
    if i is None:
        return  # only options (such as --help): argparse handles them
    command, commands = argv[i], sub.choices
    if command not in commands:
        known = ", ".join(commands)
        p.error(f"argument COMMAND: invalid choice: {command!r}{_nearest(command, commands)} (choose from {known})")
    cp = commands[command]
    options = list(cp._option_string_actions)
    for tok in argv[i + 1 :]:
        if tok == "--":
            break
        if not tok.startswith("-") or tok == "-" or _NEGATIVE.match(tok):
            continue
        name = tok.split("=", 1)[0]
        if name in options or (name.startswith("--") and any(o.startswith(name) for o in options)):
            continue  # argparse accepts an unambiguous prefix of a long option
        cp.error(f"unrecognized option {name}{_nearest(name, options)}; see labourlab {command} --help")


_NEGATIVE = re.compile(r"^-\d|^-\.\d")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = parser()
    _check_usage(p, argv)
    args = p.parse_args(argv)
    try:
        parallel.threads()  # a bad LABOURLAB_THREADS is named now, not in the middle of a run
        if args.command == "experiment":
            return cmd_experiment(args)
        if args.command == "params":
            return cmd_params(args)
        if args.command == "claims":
            return cmd_claims(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "viz":
            return cmd_viz(args)
        if args.command in ("sensitivity", "calibrate", "validate"):
            from simulation.analysis import calibrate, sensitivity, validate

            return {"sensitivity": sensitivity, "calibrate": calibrate, "validate": validate}[args.command].run(args)
        if args.months < 1:
            raise ConfigError("command line", "--months", "expected at least 1")
        overrides = dict(args.set)
        check_overrides(overrides, "command line --set")
        if args.command == "run":
            return cmd_run(args, overrides)
        if args.command == "compare":
            return cmd_compare(args, overrides)
        return cmd_demo(args, overrides)
    except ConfigError as e:
        print(f"labourlab: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as e:
        print(f"labourlab: error: {output_error(e)}", file=sys.stderr)
        return 1
    except BrokenProcessPool:
        print(
            "labourlab: error: a worker process died (killed, or out of memory); runs that finished are "
            "written; run the same command again, or with fewer --jobs or a larger --scale",
            file=sys.stderr,
        )
        return 1
    except MemoryError:
        print(
            "labourlab: error: not enough memory for this run; use a larger --scale (people per row) "
            "or a smaller place",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("labourlab: interrupted; finished outputs are intact", file=sys.stderr)
        return 130


def output_error(e: OSError) -> str:
    """One line for a failed write: which file, why, and what to do; finished outputs are never
    touched by a failed write (every file is written aside and renamed into place)."""
    import errno

    where = f" {e.filename}" if e.filename else ""
    why = e.strerror or str(e)
    advice = {
        errno.ENOSPC: "free some space (or choose another --out) and run the same command again",
        errno.EDQUOT: "free some space (or choose another --out) and run the same command again",
        errno.EROFS: "the folder is read-only; choose another --out",
        errno.EACCES: "no permission to write there; choose another --out",
        errno.EPERM: "no permission to write there; choose another --out",
        errno.EEXIST: "a file is in the way of the output folder; choose another --out",
        errno.ENOTDIR: "a file is in the way of the output folder; choose another --out",
    }.get(e.errno or 0)
    text = f"cannot write output{where}: {why}"
    return f"{text}; finished outputs are intact; {advice}" if advice else text


def cmd_run(args: argparse.Namespace, overrides: dict[str, float]) -> int:
    from simulation.runner import run_scenario

    sc = make_scenario(
        args.place,
        args.regime,
        months=args.months,
        burn_in=args.burn_in,
        people_per_agent=args.scale,
        calibration=args.calibration,
        overrides=overrides,
    )
    out = args.out or ROOT / "results" / "runs" / f"{sc.place.name}-{sc.regime.name}-seed{args.seed}"
    print(
        f"labourlab run: {sc.place.name} under {sc.regime.name}, seed {args.seed}, "
        f"{args.burn_in} months burn-in + {args.months} months, {sc.people_per_agent:g} people per row"
    )
    res = run_scenario(sc, args.seed, out, agent_views=args.agent_views)
    _print_table(
        {sc.regime.name: [res.summary]}, title=f"{sc.place.name}: last 12 months (rates), whole run (flows, money)"
    )
    print(f"wall time {res.wall_seconds:.1f} s")
    print(f"wrote {out / 'monthly.parquet'}")
    print(f"wrote {out / 'manifest.json'}")
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from simulation import launch

    return launch.main(args.spec, args.out, args.executor, args.scheduler, args.workers)


def _pool_context() -> Any:
    """Worker processes start from a fork server, not by forking this process: the progress bar
    runs a thread, and forking a threaded process can deadlock the child (so a run would hang)."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["simulation.cli", "simulation.runner"])  # import the model once
    return ctx


def _demo_job(
    job: tuple[str, str, int, int, int, float | None, dict[str, float], str],
) -> tuple[str, int, dict[str, float], float]:
    place, regime, seed, months, burn_in, scale, overrides, out = job
    from simulation.runner import run_scenario

    sc = make_scenario(place, regime, months=months, burn_in=burn_in, people_per_agent=scale, overrides=overrides)
    res = run_scenario(sc, seed, Path(out))
    return regime, seed, res.summary, res.wall_seconds


def cmd_demo(args: argparse.Namespace, overrides: dict[str, float]) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    regimes = [r.strip() for r in args.regimes.split(",") if r.strip()]
    if not regimes:
        raise ConfigError("command line", "--regimes", "expected at least one regime name")
    if args.seeds < 1:
        raise ConfigError("command line", "--seeds", "expected at least 1")
    for regime in regimes:  # validate every input before any work starts
        make_scenario(
            args.place,
            regime,
            months=args.months,
            burn_in=args.burn_in,
            people_per_agent=args.scale,
            overrides=overrides,
        )
    seeds = list(range(1, args.seeds + 1))
    jobs = [
        (args.place, r, s, args.months, args.burn_in, args.scale, overrides, str(args.out / f"{r}-seed{s}"))
        for r in regimes
        for s in seeds
    ]
    print(
        f"labourlab demo: {args.place}, arms {', '.join(regimes)}, seeds {seeds[0]}..{seeds[-1]}, "
        f"{args.burn_in} months burn-in + {args.months} months; {len(jobs)} runs on {args.jobs} processes"
    )
    by_arm: dict[str, dict[int, dict[str, float]]] = {r: {} for r in regimes}
    t0 = time.perf_counter()
    with Progress(TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("runs", total=len(jobs))
        if args.jobs > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(max_workers=min(args.jobs, len(jobs)), mp_context=_pool_context()) as pool:
                for regime, seed, summary, _wall in pool.map(_demo_job, jobs):
                    by_arm[regime][seed] = summary
                    bar.advance(task)
        else:
            for job in jobs:
                regime, seed, summary, _wall = _demo_job(job)
                by_arm[regime][seed] = summary
                bar.advance(task)
    lists = {arm: [runs[s] for s in seeds] for arm, runs in by_arm.items()}
    if args.baseline in lists:
        _print_targets(lists[args.baseline], args.baseline)
    _print_table(
        lists,
        title=f"{args.place}: mean over {len(seeds)} seeds [min, max]; "
        "rates over the last 12 months, flows and money over the run",
    )
    if args.baseline in by_arm and len(by_arm) > 1:
        _print_differences(by_arm, seeds, args.baseline)
    print(f"{len(jobs)} runs in {time.perf_counter() - t0:.1f} s")
    print(f"outputs: {args.out}/<arm>-seed<S>/monthly.parquet and manifest.json")
    return 0


def cmd_compare(args: argparse.Namespace, overrides: dict[str, float]) -> int:
    from simulation.analysis import compare

    if (args.results is None) == (args.place is None):
        raise ConfigError(
            "command line",
            "RESULTS_DIR",
            "give a results folder to analyse or --place to run, not both"
            if args.place is not None
            else "expected a results folder to analyse, or --place to run",
        )
    if args.results is not None:
        regimes = [r.strip() for r in args.regimes.split(",") if r.strip()] if args.regimes else None
        _require_two_arms(args.results, args.baseline, regimes)
        report = compare.analyse(args.results, baseline=args.baseline, arms=regimes, precision=args.precision)
        compare.print_report(report)
        tables_dir = (args.out or args.results) / "compare"
    else:
        report, tables_dir = _compare_runs(args, overrides)
    _print_baseline_evidence(report)
    for path in compare.write_report(report, tables_dir):
        print(f"wrote {path}")
    return 0


def _print_baseline_evidence(report: Any) -> None:
    """The baseline arm's flows beside the evidence they were calibrated to (calibration.md s6)."""
    from simulation.analysis import compare
    from simulation.summary import summarise

    wanted = {f"{report.baseline}-seed{s}" for s in report.seeds} | {
        f"scenario={report.baseline}/seed={s}" for s in report.seeds
    }
    runs = [r for r in compare.load_runs(report.folder, only=wanted) if r.arm == report.baseline]
    needed = {"employed", "unemployed", "inactive", "u_to_e", "e_to_u", "long_term_unemployed", "population"}
    if runs and all(needed <= set(r.monthly.columns) for r in runs):
        try:
            summaries = [summarise(r.monthly) for r in runs]
        except KeyError:  # results from an older version lack a column the summary reads
            return
        _print_targets(summaries, report.baseline)


def params_table(calibration: Path | None = None) -> str:
    """Every parameter as a Markdown table, grouped by mechanism, with its evidence."""
    from simulation.config import load_calibration
    from simulation.parameters import PARAMETERS

    params = load_calibration(calibration)

    def cell(text: str) -> str:
        return " ".join(str(text).split()).replace("|", "\\|")

    lines = [
        "| parameter | mechanism | value | range | unit | assumption | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted(params.records, key=lambda n: (PARAMETERS[n].mechanism, n)):
        r = params.records[name]
        lines.append(
            f"| `{name}` | {PARAMETERS[name].mechanism} | {r.value:g} | {r.low:g} to {r.high:g} | {cell(r.unit)} | "
            f"{'yes' if r.assumption else 'no'} | {cell(r.source)} |"
        )
    n_assumed = sum(r.assumption for r in params.records.values())
    lines.append("")
    lines.append(
        f"{len(params.records)} parameters, {n_assumed} of them assumptions (no direct evidence; see their notes)."
    )
    return "\n".join(lines) + "\n"


def cmd_params(args: argparse.Namespace) -> int:
    from simulation.results import atomic_write

    table = params_table(args.calibration)
    print(table, end="")
    if args.out:
        atomic_write(args.out, lambda p: p.write_text(table, encoding="utf-8"))
        print(f"wrote {args.out}")
    return 0


def cmd_claims(args: argparse.Namespace) -> int:
    from simulation.analysis import claims

    report = claims.analyse(args.results, args.registry)
    claims.print_report(report)
    for path in claims.write_report(report, args.out or args.results / "claims"):
        print(f"wrote {path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from simulation.analysis import report

    _require_two_arms(args.results, args.baseline, None)
    for path in report.build(args.results, args.out, args.baseline):
        print(f"wrote {path}")
    return 0


def _require_two_arms(folder: Path, baseline: str | None, arms: list[str] | None) -> None:
    """Comparing needs an arm besides the baseline: say so in one line, rather than fail deep inside."""
    from simulation.analysis.results_io import arm_names

    if arms is not None and len(set(arms) | {baseline}) < 2:
        raise ConfigError("command line", "--regimes", f"expected at least one arm besides the baseline {baseline!r}")
    found = arm_names(folder)
    if len(found) == 1:
        raise ConfigError(folder, "", f"only one arm has finished runs here ({found[0]}); expected two arms or more")


def _compare_runs(args: argparse.Namespace, overrides: dict[str, float]) -> tuple[Any, Path]:
    """Run every arm on seeds 1..N into OUT/<arm>-seed<S>/, then analyse just those runs."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from simulation.analysis import compare

    regimes = [r.strip() for r in (args.regimes or "no_programme,centralised,cooperative").split(",") if r.strip()]
    if not regimes:
        raise ConfigError("command line", "--regimes", "expected at least one regime name")
    if args.seeds < 1:
        raise ConfigError("command line", "--seeds", "expected at least 1")
    if args.baseline not in regimes:
        raise ConfigError("command line", "--baseline", f"expected one of the arms in --regimes ({', '.join(regimes)})")
    names = {}
    for regime in regimes:  # validate every input before any work starts
        sc = make_scenario(
            args.place,
            regime,
            months=args.months,
            burn_in=args.burn_in,
            people_per_agent=args.scale,
            overrides=overrides,
        )
        names[regime] = sc.regime.name
    if len(set(names.values())) < len(names):
        raise ConfigError("command line", "--regimes", "expected arms with different regime names")
    out = args.out or ROOT / "results" / "compare" / sc.place.name
    seeds = list(range(1, args.seeds + 1))
    jobs = [
        (args.place, r, s, args.months, args.burn_in, args.scale, overrides, str(out / f"{names[r]}-seed{s}"))
        for r in regimes
        for s in seeds
    ]
    print(
        f"labourlab compare: running {sc.place.name}, arms {', '.join(names.values())}, seeds {seeds[0]}..{seeds[-1]}, "
        f"{args.burn_in} months burn-in + {args.months} months; {len(jobs)} runs on {args.jobs} processes"
    )
    t0 = time.perf_counter()
    with Progress(TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("runs", total=len(jobs))
        if args.jobs > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(max_workers=min(args.jobs, len(jobs)), mp_context=_pool_context()) as pool:
                for _ in pool.map(_demo_job, jobs):
                    bar.advance(task)
        else:
            for job in jobs:
                _demo_job(job)
                bar.advance(task)
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


def _print_differences(by_arm: dict[str, dict[int, dict[str, float]]], seeds: list[int], baseline: str) -> None:
    """Each arm minus the baseline arm, seed by seed (common random numbers), then summarised."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from simulation.summary import DIFFERENCES

    base = by_arm[baseline]
    arms = [a for a in by_arm if a != baseline]
    t = Table(
        title=escape(f"Paired difference from the {baseline} arm, same seeds: mean [min, max] over {len(seeds)} seeds")
    )
    t.add_column("measure")
    for arm in arms:
        t.add_column(f"{arm} - {baseline}", justify="right")
    for key, (label, fmt) in DIFFERENCES.items():
        cells = []
        for arm in arms:
            d = [by_arm[arm][s][key] - base[s][key] for s in seeds]
            cell = fmt.format(sum(d) / len(d))
            if len(d) > 1:
                cell += f" [{fmt.format(min(d))}, {fmt.format(max(d))}]"
            cells.append(cell)
        t.add_row(label, *cells)
    Console(width=160).print(t)
    print("Min and max across a few seeds are not confidence intervals; `labourlab compare` gives those.")


def _print_targets(runs: list[dict[str, float]], baseline: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from simulation.summary import FLOW_TARGETS, LABELS

    t = Table(title=f"The {baseline} arm against the evidence")
    for col in ("measure", "model (mean over seeds)", "target", "source"):
        t.add_column(col)
    for key, (target, source) in FLOW_TARGETS.items():
        label, fmt = LABELS[key]
        mean = sum(r[key] for r in runs) / len(runs)
        t.add_row(label, fmt.format(mean), fmt.format(target), source)
    Console(width=140).print(t)


def _print_table(by_arm: dict[str, list[dict[str, float]]], title: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from simulation.summary import LABELS

    t = Table(title=escape(title))
    t.add_column("measure")
    for arm in by_arm:
        t.add_column(arm, justify="right")
    for key, (label, fmt) in LABELS.items():
        cells: list[Any] = []
        for runs in by_arm.values():
            vals = [r[key] for r in runs]
            mean = sum(vals) / len(vals)
            cell = fmt.format(mean)
            if len(vals) > 1:
                cell += f" [{fmt.format(min(vals))}, {fmt.format(max(vals))}]"
            cells.append(cell)
        t.add_row(label, *cells)
    Console(width=160).print(t)


if __name__ == "__main__":
    sys.exit(main())


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
