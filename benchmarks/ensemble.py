"""Executor overhead for many short runs: the experiment runner's local process pool and dask.

Builds a small experiment (`--place`, Southampton by default, no_programme and centralised arms,
`--seeds` seeds, a horizon giving runs of half a second or more), then:

1. runs every task one after another in this process with the experiment's own worker function
   (`experiment.execute_run`: build, run, write both tables and the manifest): the work;
2. runs the same tasks through `LocalExecutor` and `DaskExecutor` (LocalCluster), with one worker
   process and with `--workers` (default: the usable CPUs), into fresh folders;
3. starts a dask cluster as the README says for a cluster of one's own (`dask scheduler
   --preload simulation.executors`, then
   `DASK_CONFIG=configs/dask dask worker ... --nthreads 1 --preload simulation.executors`, so
   its workers are warm when they join), waits for its workers, and runs the same tasks on it
   through `DaskExecutor(scheduler=...)` ("dask cluster"): start-up is then connecting to it.
   The scheduler and the worker command's parent process run on the same cores as the workers
   here, and take CPU from them that on a real cluster they would not.

Overhead is the share of executor capacity (workers x wall time) not spent on the work:
1 - work / (workers x wall). With one worker it is what the executor itself costs: starting
processes, importing the model there, shipping tasks and results. With several workers on a
machine that has only as many cores, workers also compete with each other and with the driver,
so that figure is an upper bound. Executor start-up (pool or cluster) is included: the local
pool is started before the runs (`LocalExecutor.start`), as the dask cluster is (its workers warm
when they join), so the start-up column is the time until workers are ready for both. The local
pool forks its workers from this process when it has no other thread (as the command line's does:
it starts the pool before its progress bar), so they start with the model imported and warm, as
the serial runs here did; otherwise a fresh fork server imports and warms the model for each
measurement (about 1.3 s). The "start" column says which. A fresh command line pays the model's
import and warm-up once (about 1-2 s), however it runs; neither figure counts it. The
"after start-up" column leaves it out, 1 - work / (workers x (wall - start-up)): what each further
run costs once the workers are up.

"Runs' slowdown" is how much longer the runs' own computing took in the workers than in the serial
pass (each run times it itself: `wall_seconds`, building and running the model): above 1
when workers compete for cores, memory bandwidth and caches, or the shared machine slowed down;
it is the hardware's, not the executor's.
Where the workers' time went is measured directly: each run notes when it began and ended
(`timed_run`, wall clock), and the rest of each worker's time is idle, as a share of the
capacity: before its first run (the executor starting, then the first dispatch), between runs
(results back, the next task out) and after its last run while the others finished (the tail:
with 25 runs a worker, about half a run's length, which any executor would have, however fast).
"Executor's own" is the first two, what the executor itself cost; "executor's own after
start-up" leaves out starting the pool or cluster: what each further run costs once the workers
are up (for dask, what an ensemble pays on a cluster already running, as the "dask cluster"
rows measure). The 2% target is read on these.
Driver CPU is this process's CPU time meanwhile (for dask it
includes the LocalCluster's scheduler and nannies, but not a running cluster's scheduler), which
competes with the workers for cores.
Load is the 1-minute load average as each measurement starts (the serial work's is in the header).

Each executor is measured `--repeat` times (default 3), in turn: the table gives the median of
each figure and the range of the executor's own cost.

    python benchmarks/ensemble.py [--seeds 10] [--months 48] [--workers N] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing.forkserver
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import machine, machine_line, table

SPEC = """name = "bench_ensemble"
description = "Executor overhead benchmark: many short runs"
place = "{place}"
months = {months}
burn_in = {burn_in}
seeds = {seeds}
baseline = "no_programme"

[arms.no_programme]
regime = "no_programme"

[arms.centralised]
regime = "centralised"
"""


def timed_run(task: Any) -> dict[str, Any]:
    """The experiment's worker function (`execute_run`), with when it began and ended by the
    wall clock: a worker's busy spans, from which its idle time is found."""
    from simulation.experiment import execute_run

    began = time.time()
    result = execute_run(task)
    return {**result, "began": began, "ended": time.time()}


def run_all(executor: Any, tasks: list[Any]) -> tuple[float, float, list[tuple[int, float, float]]]:
    """Wall time of running every task, the sum of the runs' own compute times as their
    workers measured them (`wall_seconds`: build and run the model, before writing files), and
    each run's (worker process, began, ended)."""
    t0 = time.perf_counter()
    compute, spans = 0.0, []
    for _task, result, error in executor.run(timed_run, tasks):
        if error is not None or result.get("status") != "done":
            raise RuntimeError(f"a run failed: {error or result}")
        compute += result["wall_seconds"]
        spans.append((result["pid"], result["began"], result["ended"]))
    return time.perf_counter() - t0, compute, spans


def idle(
    spans: list[tuple[int, float, float]], workers: int, start: float, ready: float, end: float
) -> dict[str, float]:
    """Where the workers' time not spent in runs went, as shares of their capacity (workers x
    wall time from `start`, when the executor was asked for, to `end`): waiting for their first
    run (the executor starting, then the first dispatch, from `ready`), between runs (dispatch:
    results back, the next task out), and after their last run while others finished theirs
    (the ensemble's tail, which a perfect executor would have too)."""
    by_worker: dict[int, list[tuple[float, float]]] = {}
    for pid, began, ended in spans:
        by_worker.setdefault(pid, []).append((began, ended))
    unused = max(workers - len(by_worker), 0)  # a worker that ran nothing idled throughout
    first = sum(min(b for b, _ in runs) - start for runs in by_worker.values()) + unused * (end - start)
    dispatch_first = sum(min(b for b, _ in runs) - ready for runs in by_worker.values())
    between = 0.0
    for runs in by_worker.values():
        runs.sort()
        between += sum(b2 - e1 for (_, e1), (b2, _) in itertools.pairwise(runs))
    tail = sum(end - max(e for _, e in runs) for runs in by_worker.values())
    capacity, capacity_up = workers * (end - start), workers * (end - ready)
    return {
        "idle_start": first / capacity,
        "idle_between": between / capacity,
        "idle_tail": tail / capacity,
        "own": (first + between) / capacity,
        "own_after_start": (dispatch_first + unused * (end - ready) + between) / capacity_up,
    }


def measure(kind: str, workers: int, exp: Any, folder: Path, work_s: float, compute_s: float) -> dict[str, Any]:
    from simulation.executors import cluster_processes

    if kind == "dask cluster":
        with cluster_processes(workers, folder) as address:
            return measure_on(kind, workers, exp, folder, work_s, compute_s, address)
    return measure_on(kind, workers, exp, folder, work_s, compute_s)


def own(row: dict[str, Any], key: str) -> str:
    """An executor's own cost: the median, and its range over the rounds if there were several."""
    lo, hi = row[f"{key}_range"]
    return f"{row[key]:.1%}" + (f" ({lo:.1%} to {hi:.1%})" if row["repeats"] > 1 else "")


def summarise(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (executor, workers), in the order measured: the median of each figure over
    the repetitions, and the range of the executor's own cost."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["executor"], r["workers"]), []).append(r)
    rows = []
    for reps in groups.values():
        row = {k: (statistics.median(r[k] for r in reps) if isinstance(v, float) else v) for k, v in reps[0].items()}
        row["start_method"] = "/".join(sorted({r["start_method"] for r in reps}))
        for k in ("own", "own_after_start"):
            row[f"{k}_range"] = (min(r[k] for r in reps), max(r[k] for r in reps))
        row["repeats"] = len(reps)
        rows.append(row)
    return rows


def measure_on(
    kind: str, workers: int, exp: Any, folder: Path, work_s: float, compute_s: float, address: str | None = None
) -> dict[str, Any]:
    from simulation.executors import DaskExecutor, LocalExecutor

    out = Path(tempfile.mkdtemp(prefix=f"{kind.replace(' ', '-')}-{workers}-", dir=folder))
    tasks = exp.tasks(out)
    if kind == "local":
        # A fork server lives as long as this process: stop it, so that each local measurement
        # that uses one pays for starting (and warming) it, as a command line would.
        stop = getattr(getattr(multiprocessing.forkserver, "_forkserver", None), "_stop", None)
        if stop is not None:
            stop()
    load = os.getloadavg()[0]  # other jobs on a shared machine move every figure below
    t0, cpu0, clock0 = time.perf_counter(), time.process_time(), time.time()
    if kind == "local":
        executor: LocalExecutor | DaskExecutor = LocalExecutor(workers)
    else:  # a LocalCluster of our own, or connecting to the running cluster at `address`
        executor = DaskExecutor(None if address else workers, scheduler=address)
    try:
        if isinstance(executor, LocalExecutor):
            executor.start()
        start_s = time.perf_counter() - t0
        if isinstance(executor, LocalExecutor):
            method = executor.start_method
        else:
            method = "connect (preloaded)" if address else "nanny"
        run_s, exec_compute_s, spans = run_all(executor, tasks)
        clock1 = time.time()
    finally:
        executor.close()
    driver_cpu = time.process_time() - cpu0
    wall = start_s + run_s
    shares = idle(spans, workers, clock0, clock0 + start_s, clock1)
    return {
        "executor": kind,
        "start_method": method,
        "workers": workers,
        "runs": len(tasks),
        "start_s": start_s,
        "wall_s": wall,
        "work_s": work_s,
        "driver_cpu_s": driver_cpu,
        "load": load,
        "overhead": 1.0 - work_s / (workers * wall),
        "overhead_after_start": 1.0 - work_s / (workers * run_s),
        # The runs themselves ran slower (or faster) in the workers than in the serial pass: other
        # workers on the same cores, and the machine's own drift.
        "slowdown": exec_compute_s / compute_s,
        "speedup": work_s / wall,
        **shares,
    }


def main(argv: list[str] | None = None) -> int:
    from simulation.executors import default_workers
    from simulation.experiment import execute_run, load_experiment

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--place", default="southampton", help="place of the runs (default southampton)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per arm (two arms; default 10)")
    ap.add_argument("--months", type=int, default=48, help="policy months per run (default 48)")
    ap.add_argument("--burn-in", type=int, default=12, help="burn-in months per run (default 12)")
    ap.add_argument("--workers", type=int, default=default_workers(), help="workers for the parallel case")
    ap.add_argument("--repeat", type=int, default=3, help="measurements of each executor, interleaved (default 3)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    if __name__ != "__main__":  # imported: dask workers cannot import this file, so ship timed_run
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    info = machine()
    folder = Path(tempfile.mkdtemp(prefix="labourlab-ensemble-"))
    try:
        spec = folder / "spec.toml"
        spec.write_text(
            SPEC.format(place=args.place, months=args.months, burn_in=args.burn_in, seeds=args.seeds), encoding="utf-8"
        )
        exp = load_experiment(spec)
        (folder / "serial").mkdir()
        tasks = exp.tasks(folder / "serial")
        print(f"ensemble: {len(tasks)} runs in this process ...", file=sys.stderr, flush=True)
        execute_run(exp.tasks(folder / "serial")[0])  # warm-up: first imports and caches, not counted
        serial_load = os.getloadavg()[0]
        per_run, compute_s = [], 0.0
        for task in tasks:
            t0 = time.perf_counter()
            result = execute_run(task)
            per_run.append(time.perf_counter() - t0)
            compute_s += result["wall_seconds"]
        work_s = sum(per_run)
        results = []
        # The local pool first: dask leaves threads behind in this process, after which a local
        # pool would start from a fork server rather than fork (see the start column).
        for kind in ("local", "dask", "dask cluster"):
            for i in range(args.repeat):
                for workers in sorted({1, args.workers}):
                    print(
                        f"ensemble: {kind} executor, {workers} worker(s), round {i + 1} of {args.repeat} ...",
                        file=sys.stderr,
                        flush=True,
                    )
                    results.append({**measure(kind, workers, exp, folder, work_s, compute_s), "round": i + 1})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"machine: {machine_line(info)}\n")
    print(
        f"Executor overhead: {len(tasks)} {args.place} runs of {args.burn_in} + {args.months} months, "
        f"{min(per_run):.2f}-{max(per_run):.2f} s each ({work_s:.1f} s in all, one after another in one process; "
        f"load {serial_load:.2f}); each executor measured {args.repeat} times, in turn: medians, "
        "and the range of the executor's own cost\n"
    )
    rows = [
        [
            r["executor"],
            r["start_method"],
            str(r["workers"]),
            f"{r['start_s']:.1f}",
            f"{r['wall_s']:.1f}",
            f"{r['speedup']:.2f}x",
            f"{r['overhead']:.1%}",
            f"{r['overhead_after_start']:.1%}",
            f"{r['slowdown']:.3f}",
            f"{r['idle_start']:.1%} / {r['idle_between']:.1%} / {r['idle_tail']:.1%}",
            own(r, "own"),
            own(r, "own_after_start"),
            f"{r['driver_cpu_s']:.1f}",
            f"{r['load']:.2f}",
        ]
        for r in summarise(results)
    ]
    head = ["executor", "start", "workers", "start-up s", "wall s", "speed-up", "overhead", "after start-up"]
    head += ["runs' slowdown", "workers idle: first run / between / tail"]
    head += ["executor's own", "executor's own after start-up"]
    head += ["driver CPU s", "load"]
    print(table(head, rows))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": info, "per_run_s": per_run, "work_s": work_s, "results": results}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
