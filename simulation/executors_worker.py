"""What every worker process of an executor has ready: the model imported and warmed, its share of
the CPUs as threads; what it can report of itself (`worker_state`); and the `Executor` protocol
the local and dask executors (`simulation.executors_local`, `simulation.executors_dask`) follow."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

WARM_MONTHS = (1, 2)  # burn-in and policy months of the tiny runs that warm a worker (no lead-in)

Outcome = tuple[Any, Any, BaseException | None]  # (task, result or None, exception or None)

log = logging.getLogger("simulation.executors")  # the name it always logged under
_warm = False  # this process has run warm_worker (inherited by processes forked from it)


def warm_worker() -> bool:
    """Import the model and run a tiny testville model under each regime, in memory.

    The first call of each numba kernel in a process loads its compiled code from numba's cache
    (about 0.3 s in all); doing it here, once per fork server or dask worker, means no run pays
    it. Nothing is written and no run's result depends on it: a run builds everything it uses
    from its own (config, seed). Returns whether it ran now; failure only costs the speed-up.
    """
    global _warm
    if _warm:
        return False
    _warm = True
    try:
        import simulation.experiment  # noqa: F401  (what execute_run needs, imported up front)
        from simulation.config import available, make_scenario
        from simulation.model import LabourMarketModel

        for regime in available("regimes"):  # regimes use different kernels
            sc = make_scenario("testville", regime, burn_in=WARM_MONTHS[0], lead_in=0, months=WARM_MONTHS[1])
            model = LabourMarketModel(config=sc, seed=1, agent_views=False)
            while model.running:
                model.step()
            model.results_frame()
            model.cohorts.frame(model.district_names)
    except Exception:  # a worker that cannot warm still runs tasks, each with its own error report
        log.debug("warming the worker failed", exc_info=True)
    return True


def threads_per_worker(workers: int) -> int:
    """Threads for each run in a pool of `workers` processes on this machine: the CPUs shared
    out (a run's passes over people use threads, `simulation.parallel`; more threads than CPUs
    would only make the runs compete)."""
    return max(1, default_workers() // max(1, workers))


def start_worker(threads: int) -> None:
    """Set up a worker process: its runs' threads (unless LABOURLAB_THREADS was set for it),
    then warm it."""
    os.environ.setdefault("LABOURLAB_THREADS", str(threads))
    warm_worker()


def worker_state(_task: Any = None) -> dict[str, Any]:
    """What a worker process has ready before it runs anything: whether it was warmed, and how
    many of the model's numba kernels have compiled code loaded (for tests and diagnosis; takes
    a task argument only so that an executor can run it)."""
    from numba.core.registry import CPUDispatcher

    kernels = [
        obj
        for name in (
            "simulation.mechanisms.shared_kernels",
            "simulation.mechanisms.participation_kernels",
            "simulation.mechanisms.separations_kernels",
            "simulation.mechanisms.matching_kernels",
            "simulation.mechanisms.business_kernels",
            "simulation.mechanisms.providers_kernels",
            "simulation.mechanisms.skills_kernels",
            "simulation.mechanisms.accounts_kernels",
            "simulation.outcomes_kernels",
            "simulation.rng",
        )
        if (module := sys.modules.get(name)) is not None
        for obj in vars(module).values()
        if isinstance(obj, CPUDispatcher)
    ]
    return {
        "pid": os.getpid(),
        "warm": _warm,
        "kernels": len(kernels),
        "kernels_loaded": sum(1 for k in kernels if k.overloads),
        "malloc_trim_threshold": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "threads": os.environ.get("LABOURLAB_THREADS"),
    }


class Executor(Protocol):
    kind: str

    def describe(self) -> dict[str, Any]: ...

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
