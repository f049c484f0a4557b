"""The commands that analyse finished runs: `labourlab compare RESULTS_DIR` (paired differences
between arms), `claims` (the report's claims tested) and `report` (figures, report.md and
report.html); `compare --place` runs its arms first (`simulation.cli_runs`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from simulation.analysis import compare_economies
from simulation.cli_runs import compare_runs, split_arms
from simulation.cli_tables import print_targets
from simulation.config import ConfigError


def cmd_compare(args: argparse.Namespace, overrides: dict[str, float]) -> int:
    """`labourlab compare`: analyse a folder of finished runs, or run the arms first (--place)."""
    from simulation.analysis import compare

    if (args.results is None) == (args.place is None):
        raise ConfigError(
            "command line",
            "RESULTS_DIR",
            "give a results folder to analyse or --place to run, not both"
            if args.place is not None
            else "expected a results folder to analyse, or --place to run",
        )
    if args.results is not None and compare_economies.economies_in(args.results):
        return _compare_by_economy(args)
    if args.results is not None:
        regimes = split_arms(args.regimes) if args.regimes else None
        _require_two_arms(args.results, args.baseline, regimes)
        report = compare.analyse(args.results, baseline=args.baseline, arms=regimes, precision=args.precision)
        compare.print_report(report)
        tables_dir = (args.out or args.results) / "compare"
    else:
        report, tables_dir = compare_runs(args, overrides)
    _print_baseline_evidence(report)
    for path in compare.write_report(report, tables_dir):
        print(f"wrote {path}")
    return 0


def _compare_by_economy(args: argparse.Namespace) -> int:
    """An experiment crossing arms with economies: compare economy by economy, then the ranking
    of the arms across economies (`analysis.compare_economies`)."""
    from simulation.analysis import compare, compare_economies

    regimes = split_arms(args.regimes) if args.regimes else None
    found = compare_economies.economies_in(args.results)
    for economy, names in found.items():
        if f"{args.baseline}{compare_economies.SEPARATOR}{economy}" not in names:
            raise ConfigError(
                args.results,
                "",
                f"no runs of the baseline arm {args.baseline!r} in economy {economy!r} "
                f"(found: {', '.join(names)}); choose one with --baseline",
            )
    result = compare_economies.analyse(args.results, baseline=args.baseline, arms=regimes, precision=args.precision)
    for economy, report in result.reports.items():
        print(f"\n=== economy: {economy} ===")
        compare.print_report(report)
    print()
    print(compare_economies.markdown(result))
    for path in compare_economies.write(result, (args.out or args.results) / "compare"):
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
        print_targets(summaries, report.baseline)


def cmd_claims(args: argparse.Namespace) -> int:
    """`labourlab claims`: the registry's claims tested against finished runs."""
    from simulation.analysis import claims

    if compare_economies.economies_in(args.results):
        # Arms crossed with economies: every claim tested within each economy (`claims_economies`).
        from simulation.analysis import claims_economies

        result = claims_economies.analyse(args.results, args.registry)
        claims_economies.print_report(result)
        for path in claims_economies.write(result, args.out or args.results / "claims"):
            print(f"wrote {path}")
        return 0
    report = claims.analyse(args.results, args.registry)
    claims.print_report(report)
    for path in claims.write_report(report, args.out or args.results / "claims"):
        print(f"wrote {path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """`labourlab report`: figures and a report of finished runs."""
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
