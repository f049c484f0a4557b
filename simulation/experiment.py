"""Batch experiments: a spec file (`experiments/*.toml`) run as (scenario, seed) pairs into one
Parquet dataset, on a local process pool or a dask cluster, resumably.

A spec names a place, a horizon, seeds and *arms* (a regime, optionally with lever and parameter
overrides); an optional `[sweep]` runs every arm at each value of each listed parameter, one
parameter at a time (scenario `ARM@PARAM=VALUE`). Runs are scenarios x seeds. Everything is
validated up front, every scenario built with `make_scenario`, before any run starts; bad input is
a one-line `ConfigError` naming the spec file, the field path and what was expected.

This module runs an experiment: `execute_run`, the worker function that runs one (scenario, seed)
and writes its files, and `run_experiment`, the driver that runs every unfinished one on an
executor and records the rest. The spec is read and checked in `simulation.experiment_spec`,
expanded into scenarios and runs in `simulation.experiment_plan`; the output folder's layout, log
and manifest are `simulation.experiment_folder`, its lock `simulation.experiment_lock`.

Output folder OUT (a contract other code reads; keep it exactly):

    OUT/monthly/scenario=<scenario>/seed=<S>.parquet   the run's month x district table (+ a `seed` column)
    OUT/cohorts/scenario=<scenario>/seed=<S>.parquet   the run's cohort table (+ a `seed` column)
    OUT/runs/scenario=<scenario>/seed=<S>.json         the run manifest, written last: marks a finished run
    OUT/failed/scenario=<scenario>/seed=<S>.json       a run that raised: error, message, traceback
    OUT/manifest.json                                  the experiment: resolved spec, runs and their status
    OUT/experiment.log                                 one line per event, with timestamps
    OUT/.lock                                          held while an experiment writes the folder

`OUT/monthly` is one hive-partitioned dataset: `pandas.read_parquet(OUT / "monthly")` gives every
run with a `scenario` column (from the folder names) and a `seed` column.

Test hooks (environment variables read by the worker function; for tests only):
`LABOURLAB_FAIL_RUN="SCENARIO:SEED[,SCENARIO:SEED...]"` makes those runs raise, and
`LABOURLAB_TEST_DELAY=SECONDS` sleeps before writing a run's tables and again before its manifest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulation import machine, results
from simulation.config import make_scenario
from simulation.experiment_folder import (
    SPEC_VERSION,
    FinishedRun,
    RunPaths,
    check_folder,
    clean_temp_files,
    code_sha256,
    experiment_manifest,
    failure_record,
    finished_runs,
    log_event,
    output_error,
    run_paths,
    utc_now,
)
from simulation.experiment_lock import FolderLock
from simulation.experiment_plan import Experiment, RunTask, ScenarioSpec, load_experiment, sha256_of
from simulation.experiment_spec import (
    MAX_SEED_COUNT,
    NAME_RE,
    NAME_RULE,
    ArmSpec,
    DesignSpec,
    OutputSpec,
    SpecFile,
    format_value,
    seed_list,
)

# The spec, the plan and the folder live in modules of their own; their names stay importable here.
__all__ = [
    "DELAY_HOOK",
    "FAIL_HOOK",
    "MAX_SEED_COUNT",
    "NAME_RE",
    "NAME_RULE",
    "SPEC_VERSION",
    "ArmSpec",
    "DesignSpec",
    "Experiment",
    "FinishedRun",
    "FolderLock",
    "Outcome",
    "OutputSpec",
    "RunPaths",
    "RunTask",
    "ScenarioSpec",
    "SpecFile",
    "code_sha256",
    "execute_run",
    "failure_record",
    "finished_runs",
    "format_value",
    "load_experiment",
    "log_event",
    "output_error",
    "run_experiment",
    "run_paths",
    "seed_list",
]

FAIL_HOOK = "LABOURLAB_FAIL_RUN"
DELAY_HOOK = "LABOURLAB_TEST_DELAY"


def _test_hooks(task: RunTask) -> float:
    wanted = {w.strip() for w in os.environ.get(FAIL_HOOK, "").split(",") if w.strip()}
    if f"{task.scenario}:{task.seed}" in wanted:
        raise RuntimeError(f"{FAIL_HOOK} test hook: run {task.scenario} seed {task.seed} made to fail")
    try:
        return max(0.0, float(os.environ.get(DELAY_HOOK, "0") or 0))
    except ValueError:
        return 0.0


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run one (scenario, seed) and write its files: both tables, then the run manifest.

    A pure function of the task, whatever process or machine runs it. A run that raises is
    recorded in OUT/failed/ (type, message, traceback) and reported, not raised, so the other
    runs go on; a later success removes the record.
    """
    from simulation.runner import simulate

    paths = run_paths(task.out, task.scenario, task.seed)
    host, pid = socket.gethostname(), os.getpid()
    with contextlib.suppress(OSError):  # the log is a diary: a full disk shows up in the run's own files
        log_event(task.out, "started", scenario=task.scenario, seed=task.seed, host=host, pid=pid)
    t0 = time.perf_counter()
    try:
        delay = _test_hooks(task)
        sc = make_scenario(
            task.place,
            task.regime,
            months=task.months,
            burn_in=task.burn_in,
            lead_in=task.lead_in,
            people_per_agent=task.people_per_agent,
            calibration=Path(task.calibration) if task.calibration else None,
            overrides=task.params,
            lever_overrides=task.levers,
            economy=task.economy,
        )
        config = sc.resolved()
        if sha256_of(config) != task.config_sha256:
            raise RuntimeError(
                f"the scenario built on {host} differs from the one validated by the experiment "
                "(different configs/ or code on this worker?)"
            )
        sim = simulate(sc, task.seed)
        monthly, cohorts = sim.monthly, sim.cohorts
        wall = time.perf_counter() - t0
        monthly.insert(0, "seed", task.seed)
        cohorts.insert(0, "seed", task.seed)
        time.sleep(delay)
        results.write_parquet(monthly, paths.monthly)
        results.write_parquet(cohorts, paths.cohorts)
        time.sleep(delay)
        man = results.manifest(
            config,
            task.seed,
            wall,
            {
                "kind": "experiment-run",
                "experiment": task.experiment,
                "scenario": task.scenario,
                "arm": task.arm,
                "config_sha256": task.config_sha256,
                "code_sha256": code_sha256(),
                "districts": sim.districts,
                "people_rows": sim.people_rows,
                "firm_rows": sim.firm_rows,
                "host": host,
                "pid": pid,
            },
        )
        results.write_json(man, paths.manifest)  # last: its presence marks the run finished
        paths.failed.unlink(missing_ok=True)
        return {
            "status": "done",
            "wall_seconds": round(wall, 3),
            "host": host,
            "pid": pid,
            "git_commit": man["git_commit"],
            "code_sha256": man["code_sha256"],
        }
    except Exception as e:
        record = failure_record(task, e, time.perf_counter() - t0, host, pid)
        failed: dict[str, Any] = {"status": "failed", "error": f"{type(e).__name__}: {e}", "host": host, "pid": pid}
        if (where := output_error(e, task.out)) is not None:
            failed["output_error"] = where  # the folder cannot take more files: the driver stops
        try:
            results.write_json(record, paths.failed)
        except OSError:
            if "output_error" not in failed:
                raise
        return failed


@dataclass
class Outcome:
    """What a call of `run_experiment` did: counts of runs, by scenario too, and any failures."""

    out: Path
    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    status: str = "running"
    executor: str = ""
    wall_seconds: float = 0.0
    by_scenario: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[tuple[RunTask, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def _sigterm_as_interrupt() -> Any:
    """Let SIGTERM unwind like Ctrl-C (so the lock is released and the manifest written)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, handler)


def run_experiment(
    exp: Experiment,
    out: Path,
    executor: Any,
    progress: Callable[[Outcome, RunTask | None], None] | None = None,
) -> Outcome:
    """Run every (scenario, seed) without a run manifest in OUT on `executor`; record the rest.

    `executor` is an executor, or a function making one: it is then made only once the folder is
    locked and checked, and closed at the end. `progress(outcome, task)` is called once before the
    first run (task None) and after each run finishes (the command line draws a bar).
    """
    out = out.resolve()
    lock = FolderLock(out)
    lock.acquire()
    previous = _sigterm_as_interrupt()
    t0 = time.perf_counter()
    owned = callable(executor) and not hasattr(executor, "run")
    try:
        old = check_folder(exp, out)
        cleaned = clean_temp_files(out)
        tasks = exp.tasks(out)
        todo = [t for t in tasks if not run_paths(out, t.scenario, t.seed).finished()]
        if owned:
            executor = executor()
            if hasattr(executor, "start"):
                executor.start()  # before the progress bar's thread: a local pool can then fork
        result = Outcome(out=out, total=len(tasks), skipped=len(tasks) - len(todo), executor=executor.label())
        result.by_scenario = {s.name: {"finished": 0, "failed": 0, "missing": 0} for s in exp.scenarios}
        commit = results.git_commit()
        session = {
            "started": utc_now(),
            "status": "running",
            "executor": executor.describe(),
            "git_commit": commit,
            "code_sha256": code_sha256(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "machine": machine.describe(),  # each run's own manifest records its worker's
            "to_run": len(todo),
            "skipped_finished": result.skipped,
        }
        ran: dict[tuple[str, int], dict[str, Any]] = {}
        results.write_json(experiment_manifest(exp, tasks, old, session, ran, out), out / "manifest.json")
        log_event(
            out,
            "experiment-started",
            name=exp.name,
            runs=len(tasks),
            to_run=len(todo),
            executor=session["executor"]["kind"],
            pid=os.getpid(),
            git=commit,
            temp_files_removed=cleaned,
        )
        if old is not None and result.skipped and old.get("code_sha256") not in (None, code_sha256()):
            note = (
                f"the model code changed since the earlier session(s) ({old.get('git_commit')} -> {commit}); "
                f"the {result.skipped} finished runs are kept, not recomputed: use a new --out to recompute them"
            )
            result.notes.append(note)
            log_event(out, "note", message=note)
        pending = {(t.scenario, t.seed) for t in todo}
        for t in tasks:
            if (t.scenario, t.seed) not in pending:
                log_event(out, "skipped-finished", scenario=t.scenario, seed=t.seed)
        if progress is not None:
            progress(result, None)
        try:
            for task, res, exc in executor.run(execute_run, todo):
                if exc is not None:  # the worker itself died or could not run the function
                    record = failure_record(task, exc, 0.0, "?", None)
                    res = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                    if (where := output_error(exc, out)) is not None:
                        res["output_error"] = where
                    with contextlib.suppress(OSError):  # a full disk is reported just below
                        results.write_json(record, run_paths(out, task.scenario, task.seed).failed)
                if res.get("output_error"):  # stop: every further run would fail to write too
                    oe = res["output_error"]
                    log_event(out, "output-error", scenario=task.scenario, seed=task.seed, error=oe["strerror"])
                    raise OSError(oe["errno"], oe["strerror"], oe["filename"])
                if res["status"] == "done":
                    result.done += 1
                    ran[(task.scenario, task.seed)] = {"wall_seconds": res["wall_seconds"], "host": res["host"]}
                    log_event(out, "done", scenario=task.scenario, seed=task.seed, wall_s=res["wall_seconds"])
                    if res.get("code_sha256") not in (None, code_sha256()):
                        note = f"worker {res['host']} ran different model code ({res['git_commit']})"
                        if note not in result.notes:
                            result.notes.append(note)
                            log_event(out, "note", message=note)
                else:
                    result.failed += 1
                    result.failures.append((task, res["error"]))
                    log_event(out, "failed", scenario=task.scenario, seed=task.seed, error=res["error"][:300])
                if progress is not None:
                    progress(result, task)
            result.status = "failed" if result.failed else "finished"
        except BaseException as e:
            result.status = "interrupted" if isinstance(e, KeyboardInterrupt) else "error"
            executor.close()
            raise
        finally:
            result.wall_seconds = time.perf_counter() - t0
            session.update(status=result.status, finished=utc_now(), wall_seconds=round(result.wall_seconds, 3))
            session.update(ran=result.done, failed=result.failed)
            try:
                man = experiment_manifest(exp, tasks, old, session, ran, out)
                results.write_json(man, out / "manifest.json")
                for entry in man["runs"]:
                    result.by_scenario[entry["scenario"]][entry["status"]] += 1
                log_event(
                    out,
                    f"experiment-{result.status}",
                    done=result.done,
                    failed=result.failed,
                    skipped=result.skipped,
                    wall_s=round(result.wall_seconds, 1),
                )
            except OSError:
                # With an error or interrupt already on its way out (a full disk, say), keep that one:
                # the earlier manifest.json stays whole, and the runs' own files say what finished.
                if result.status in ("finished", "failed"):
                    raise
        return result
    finally:
        if owned and hasattr(executor, "run"):
            executor.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        lock.release()
