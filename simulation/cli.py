"""The `labourlab` command line.

Every command prints what it does and where its outputs are. Bad input gets one line naming the
file, the field and what was expected, and exit status 2; so does misuse of the command line.

This module is the entry point (the `labourlab` script, `python -m simulation.cli`): it parses the
command line (`simulation.cli_parser`), runs the command, and turns what goes wrong into one line
and an exit status. The commands live beside what they do: `simulation.cli_runs` (run, demo,
compare --place, experiment, viz), `simulation.cli_analyse` (compare RESULTS_DIR, claims, report),
`simulation.cli_tables` (params, and the tables the others print); the analyses' own commands
(sensitivity, calibrate, validate) beside each analysis.
"""

from __future__ import annotations

import sys
from concurrent.futures.process import BrokenProcessPool

from simulation import parallel
from simulation.cli_analyse import cmd_claims, cmd_compare, cmd_report
from simulation.cli_parser import USAGE_ERROR, check_usage, parser
from simulation.cli_runs import cmd_demo, cmd_experiment, cmd_run, cmd_viz
from simulation.cli_tables import cmd_params, params_table
from simulation.config import ConfigError, check_overrides

# The commands live in modules of their own; their names stay importable here.
__all__ = [
    "USAGE_ERROR",
    "cmd_claims",
    "cmd_compare",
    "cmd_demo",
    "cmd_experiment",
    "cmd_params",
    "cmd_report",
    "cmd_run",
    "cmd_viz",
    "main",
    "output_error",
    "params_table",
    "parser",
]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = parser()
    check_usage(p, argv)
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
            from simulation.analysis import calibrate_cli, sensitivity_cli, validate_cli

            commands = {"sensitivity": sensitivity_cli, "calibrate": calibrate_cli, "validate": validate_cli}
            return commands[args.command].run(args)
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


if __name__ == "__main__":
    sys.exit(main())
