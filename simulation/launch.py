"""`labourlab experiment SPEC` (and the runs of `labourlab sensitivity SPEC`): an experiment spec run
on the executor the command line names, with a progress bar, then a summary table.

Above both `simulation.experiment` (the spec, its runs and the driver, which takes any executor)
and `simulation.executors` (where the runs execute, which preloads the experiment runner into its
workers), so that neither of those imports the other's caller.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulation.config import ROOT
from simulation.experiment import Outcome, RunTask, load_experiment, run_experiment, run_paths


def main(spec: Path, out: Path | None, executor_kind: str | None, scheduler: str | None, workers: int | None) -> int:
    """`labourlab experiment`: validate, run with a progress bar, print a summary; the exit status."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Table

    from simulation.executors import make_executor, validate_choice  # at call time: tests replace make_executor

    exp = load_experiment(spec)
    validate_choice(executor_kind, workers, scheduler)
    out = (out or ROOT / "results" / exp.name).resolve()
    console = Console(width=120)
    seeds = exp.seeds
    seed_text = (
        f"{seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ", ".join(map(str, seeds))
    )
    bar = Progress(
        TextColumn("runs"),
        BarColumn(),
        TextColumn("done {task.fields[done]}  failed {task.fields[failed]}  remaining {task.fields[remaining]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
    )
    state: dict[str, Any] = {}

    def progress(res: Outcome, task: RunTask | None) -> None:
        todo = res.total - res.skipped
        if task is None:
            print(
                f"labourlab experiment {exp.name}: {exp.scenarios[0].place_name}, {len(exp.scenarios)} scenarios x "
                f"{len(seeds)} seeds ({seed_text}) = {res.total} runs, {exp.burn_in} months burn-in + "
                f"{exp.lead_in} months lead-in + {exp.months} months; {res.executor}",
                flush=True,
            )
            if res.skipped:
                print(f"{res.skipped} of {res.total} runs already finished in {out}; running the other {todo}")
            if todo:
                state["task"] = bar.add_task("runs", total=todo, done=0, failed=0, remaining=todo)
                bar.start()
            return
        bar.update(
            state["task"],
            completed=res.done + res.failed,
            done=res.done,
            failed=res.failed,
            remaining=todo - res.done - res.failed,
        )

    try:
        res = run_experiment(exp, out, lambda: make_executor(executor_kind, workers, scheduler), progress)
    finally:
        bar.stop()

    t = Table(title=escape(f"{exp.name}: runs by scenario ({len(seeds)} seeds each)"))
    for col in ("scenario", "arm", "finished", "failed", "missing"):
        t.add_column(col, justify="left" if col in ("scenario", "arm") else "right")
    arm_of = {s.name: s.arm for s in exp.scenarios}
    rows = res.by_scenario
    if exp.design is not None:  # hundreds of design points: one row per arm, over its points
        rows = {}
        for name, c in res.by_scenario.items():
            r = rows.setdefault(f"{arm_of[name]}@p*", {"finished": 0, "failed": 0, "missing": 0})
            for k in r:
                r[k] += c[k]
        arm_of.update({f"{a}@p*": a for a in exp.arms})
    for name, c in rows.items():
        t.add_row(escape(name), escape(arm_of[name]), str(c["finished"]), str(c["failed"]), str(c["missing"]))
    console.print(t)
    for note in res.notes:
        print(f"note: {note}")
    print(f"{res.done} runs done, {res.failed} failed, {res.skipped} already finished; {res.wall_seconds:.1f} s")
    if res.failures:
        task, error = res.failures[0]
        print(f"failed: {error} ({run_paths(out, task.scenario, task.seed).failed}); see {out / 'failed'}/")
        print("run the same command again to retry only the runs that failed or are missing")
    print(f"outputs: {out}/monthly/ (one Parquet dataset, partitioned by scenario, with a seed column)")
    print(f"         {out}/cohorts/, {out}/runs/ (run manifests), {out}/manifest.json, {out}/experiment.log")
    return res.exit_code
