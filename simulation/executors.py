"""Where an experiment's runs execute: a local process pool, or a dask.distributed cluster.

Both take the same picklable task objects and the same worker function, and yield each task's
outcome as it finishes (in completion order, not submission order). The worker function writes
its run's files itself, so results stream to disk as runs finish wherever they ran; a run is a
pure function of its task, so it gives identical files on any executor.

- `LocalExecutor`: `concurrent.futures.ProcessPoolExecutor`. Its workers start warm (numba's
  kernels loaded, `warm_worker`). When this process has no other thread yet, it warms itself and
  the workers are forked from it: they start at once, with the model already imported. Otherwise
  (a progress bar's or dask's threads are running, and forking a threaded process can deadlock)
  they come from a fork server, which imports and warms the model once (about 1.3 s). The command
  line starts the pool before its progress bar, so it forks. The pool is kept across `run` calls
  (calibration calls `run` once per batch). If a worker process dies (killed, out of memory) the
  pool breaks; the unfinished tasks are resubmitted to a fresh pool, at most `RESTARTS` times, before they are
  reported as failed.
- `DaskExecutor`: a `dask.distributed.Client` on a `LocalCluster` (processes, one thread each), or
  on an existing scheduler by address. A worker plugin warms each worker once when it joins.
  Tasks are submitted with `pure=False, retries=2`; a task on a worker that dies is rescheduled
  on another worker by the scheduler.

Where the overhead went (benchmarks/ensemble.py): dask's defaults cost each run time. The nanny
starts workers with `MALLOC_TRIM_THRESHOLD_=65536`, which switches off glibc's adaptive mmap
threshold, so every temporary array of the model was a fresh mmap and page faulted (runs took 1.5x
as long as in a plain process), and each worker's statistical profiler samples the running task
every 10 ms. `configs/dask/labourlab.yaml` turns both off: our LocalCluster starts under it, and a
cluster's workers get it from `DASK_CONFIG=configs/dask` (without it, runs on a `dask worker` took
7-11% longer). The rest is start-up: a fresh interpreter importing the model (about 1 s, mostly
mesa's imports) and numba loading its cache on each kernel's first call (about 0.3 s), paid once
per fork server or dask worker, not per run; a cluster's workers pay it as they start with
`--preload simulation.executors` (`dask_setup`), not when an experiment connects.
"""

from __future__ import annotations

import sys
from typing import Any

from simulation.config import ConfigError
from simulation.executors_dask import (
    CONNECT_TIMEOUT,
    DASK_SETTINGS,
    WORKER_WAIT,
    DaskExecutor,
    cluster_processes,
    dask_settings,
    dask_setup,
)
from simulation.executors_local import RESTARTS, LocalExecutor
from simulation.executors_worker import (
    WARM_MONTHS,
    Executor,
    Outcome,
    default_workers,
    start_worker,
    threads_per_worker,
    warm_worker,
    worker_state,
)

# Each executor lives in a module of its own; their names stay importable here. `dask_setup` must:
# `--preload simulation.executors` looks for it in this module.
__all__ = [
    "CONNECT_TIMEOUT",
    "DASK_SETTINGS",
    "RESTARTS",
    "WARM_MONTHS",
    "WORKER_WAIT",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "Outcome",
    "cluster_processes",
    "dask_settings",
    "dask_setup",
    "default_workers",
    "make_executor",
    "start_worker",
    "threads_per_worker",
    "validate_choice",
    "warm_worker",
    "worker_state",
]


def _imported_by_forkserver() -> bool:
    """Whether this module is being imported as a preload of multiprocessing's fork server."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "multiprocessing.forkserver":
            return True
        frame = frame.f_back
    return False


def __getattr__(name: str) -> Any:
    if name == "WarmPlugin":
        from simulation import executors_dask

        return executors_dask.WarmPlugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def validate_choice(kind: str | None, workers: int | None, scheduler: str | None) -> None:
    """Check the command line's executor options without starting anything."""
    if kind not in (None, "local", "dask"):
        raise ConfigError("command line", "--executor", f"expected local or dask, got {kind!r}")
    if workers is not None and workers < 1:
        raise ConfigError("command line", "--workers", f"expected at least 1, got {workers}")
    if scheduler and kind == "local":
        raise ConfigError("command line", "--scheduler", "a scheduler address needs --executor dask")


def make_executor(kind: str | None, workers: int | None, scheduler: str | None) -> LocalExecutor | DaskExecutor:
    """The executor a command line asks for: `local` unless `dask` or a scheduler is named."""
    validate_choice(kind, workers, scheduler)
    kind = kind or ("dask" if scheduler else "local")
    if kind == "local":
        return LocalExecutor(workers)
    return DaskExecutor(workers, scheduler)


# In multiprocessing's fork server (LocalExecutor's preload), warm up before any worker is forked.
if _imported_by_forkserver():
    warm_worker()
