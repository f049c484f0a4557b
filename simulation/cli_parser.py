"""The `labourlab` command line's arguments: every command's parser (the analyses' commands add
their own, `add_parser` beside each analysis) and the usage errors argparse words poorly."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from simulation.argtypes import assignment, positive_int, scale, share
from simulation.config import ROOT

USAGE_ERROR = 2  # the exit status of bad input and of misuse of the command line


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
        "--seed", required=True, type=positive_int, help="random seed (a run is a pure function of config and seed)"
    )
    _common(r)
    r.add_argument(
        "--economy",
        default=None,
        metavar="SCENARIO",
        help="macroeconomic scenario: a name in configs/scenarios/ (steady, recession_2008, slack_2011) or a path "
        "to a TOML file (default: steady)",
    )
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
    d.add_argument("--seeds", type=positive_int, default=3, help="number of seeds (default 3)")
    d.add_argument("--regimes", default="no_programme,centralised,cooperative", help="comma-separated regimes")
    d.add_argument("--baseline", default="no_programme", help="arm the others are differenced against")
    _common(d)
    d.add_argument(
        "--out", type=Path, default=ROOT / "results" / "demo_runs", help="output folder (default results/demo_runs)"
    )
    d.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1, help="parallel processes")

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
    c.add_argument("--seeds", type=positive_int, default=5, help="number of seeds to run (default 5)")
    c.add_argument(
        "--regimes",
        default=None,
        help="comma-separated arms (default no_programme,centralised,cooperative; with RESULTS_DIR, every arm found)",
    )
    c.add_argument("--baseline", default="no_programme", help="arm the others are differenced against")
    c.add_argument(
        "--precision",
        type=share,
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
    c.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1, help="parallel processes")

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
        "the model's, and the parameters it depends on; write RESULTS_DIR/claims/claims.md and claims.csv. On an "
        "experiment with economies, every claim within each economy (claims/<economy>/) and the verdicts across "
        "them (claims/claims_by_economy.md, .csv).",
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
        "assumptions the results depend on, the manifest and the commands that regenerate it. On an experiment with "
        "economies, a section across the economic cycle: the ranking by economy, unemployment and vacancies by "
        "economy, the ONS series beside the model's, the Beveridge curve, the claims by economy.",
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
        type=positive_int,
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
    v.add_argument("--port", type=positive_int, default=8765, help="port (default 8765)")
    _analysis_commands(sub)
    return p


def _analysis_commands(sub: Any) -> None:
    """Commands whose parsers live beside their analysis (issue 7: sensitivity, calibration, validation)."""
    from simulation.analysis import calibrate_cli, sensitivity_cli, validate_cli

    sensitivity_cli.add_parser(sub)
    calibrate_cli.add_parser(sub)
    validate_cli.add_parser(sub)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--months", type=positive_int, default=60, help="policy months to run (default 60)")
    p.add_argument("--burn-in", type=positive_int, default=24, help="months run first with no policy (default 24)")
    p.add_argument(
        "--lead-in",
        type=positive_int,
        default=24,
        help="policy months run after the burn-in and before the measured months, so that these start in the "
        "regime's steady state, not its start-up (default 24)",
    )
    p.add_argument(
        "--scale",
        type=scale,
        default=None,
        metavar="PEOPLE_PER_AGENT",
        help="people each row stands for (default: the place file's people_per_agent)",
    )
    p.add_argument(
        "--set",
        type=assignment,
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="override a calibration parameter (repeatable)",
    )


def check_usage(p: argparse.ArgumentParser, argv: list[str]) -> None:
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
