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

import contextlib
import functools
import logging
import multiprocessing
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol

from simulation.config import CONFIGS, ConfigError
from simulation.parallel import DRAW_THREAD

RESTARTS = 2  # fresh process pools after a worker process dies, before giving up on its runs
CONNECT_TIMEOUT = 10.0  # seconds to reach a dask scheduler
WORKER_WAIT = 60.0  # seconds to wait for a dask cluster to have at least one worker

WARM_MONTHS = (1, 2)  # burn-in and policy months of the tiny runs that warm a worker

Outcome = tuple[Any, Any, BaseException | None]  # (task, result or None, exception or None)

log = logging.getLogger(__name__)
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
            sc = make_scenario("testville", regime, burn_in=WARM_MONTHS[0], months=WARM_MONTHS[1])
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
        for name in ("simulation.mechanisms._kernels", "simulation.rng")
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


def _imported_by_forkserver() -> bool:
    """Whether this module is being imported as a preload of multiprocessing's fork server."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "multiprocessing.forkserver":
            return True
        frame = frame.f_back
    return False


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


class LocalExecutor:
    """A process pool on this machine."""

    kind = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None
        self._outstanding: set[Future[Any]] = set()  # submitted by run() and not yet reported
        self.start_method = ""  # of the current pool: "fork" or "forkserver"

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "workers": self.workers, "start_method": self.start_method or "fork or forkserver"}

    @staticmethod
    def _context() -> multiprocessing.context.BaseContext:
        """fork when this process has no other thread (after warming it, so forked workers start
        warm), else forkserver, whose server imports and warms the model once."""
        if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
            warm_worker()
            for t in threading.enumerate():  # draws the warm-up started and never read end by themselves
                if t.name == DRAW_THREAD:
                    t.join()
            if threading.active_count() == 1:
                return multiprocessing.get_context("fork")
        context = multiprocessing.get_context("forkserver")
        # Importing this module in the fork server runs warm_worker there (see the end of the
        # module). Has an effect only before this process's fork server first starts.
        context.set_forkserver_preload(["simulation.experiment", "simulation.model", __name__])
        return context

    def label(self) -> str:
        return f"local executor, {self.workers} process{'es' if self.workers != 1 else ''}"

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None and getattr(self._pool, "_broken", False):
            self._pool.shutdown(wait=True)  # a kept pool whose idle worker died since the last run
            self._pool = None
        if self._pool is None:
            # initializer: a no-op in workers forked from a warmed process, and the warm-up itself
            # if the fork server was started before (by other code, without our preload).
            context = self._context()
            self.start_method = context.get_start_method()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=start_worker,
                initargs=(threads_per_worker(self.workers),),
            )
            if self.start_method == "fork":
                # The workers are forked at the pool's first submit, here. Python warns of any
                # other OS thread, and the libraries the model imports keep idle ones (the
                # OpenBLAS pools of numpy and scipy, pyarrow's jemalloc), each with its own fork
                # handlers. The hazard the warning is about, a lock held by another Python
                # thread, `_context` has ruled out, so the warning says nothing about this fork.
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", r".*is multi-threaded, use of fork\(\)", DeprecationWarning)
                    self._pool.submit(os.getpid)
        return self._pool

    def start(self) -> None:
        """Start the pool's worker processes now rather than on the first run (optional)."""
        pool = self._get_pool()
        for fut in [pool.submit(os.getpid) for _ in range(self.workers)]:
            with contextlib.suppress(Exception):  # a broken pool is replaced by the next run
                fut.result()

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Outcome]:
        pending = list(tasks)
        restarts = 0
        while pending:
            pool = self._get_pool()
            futures: dict[Future[Any], Any] = {pool.submit(fn, t): t for t in pending}
            broken: list[tuple[Any, BaseException]] = []
            not_done = set(futures)
            self._outstanding = not_done
            try:
                while not_done:
                    done, _ = wait(not_done, return_when=FIRST_COMPLETED)
                    for fut in done:
                        not_done.discard(fut)
                        task = futures[fut]
                        try:
                            result = fut.result()
                        except BrokenProcessPool as e:
                            broken.append((task, e))
                            continue
                        except Exception as e:  # the worker function itself raised (it records model errors)
                            yield task, None, e
                            continue
                        yield task, result, None
            finally:
                # A caller that stops early leaves no queued runs behind in the kept pool.
                for fut in not_done:
                    fut.cancel()
                # Runs still going (an interrupt out of wait()) make close() stop the workers at once.
                self._outstanding = {f for f in not_done if not f.done()}
            if broken:
                # The pool is kept between runs unless a worker died: then a fresh one.
                pool.shutdown(wait=True)
                self._pool = None
            pending = [t for t, _ in broken]
            if pending and restarts >= RESTARTS:
                for task, err in broken:
                    yield task, None, err
                return
            restarts += 1 if pending else 0

    def close(self) -> None:
        """End the pool. With runs still going (an interrupt), stop at once: cancel queued runs
        and end the worker processes, so none goes on writing after the experiment has let go
        of its folder."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if not self._outstanding:
            pool.shutdown(wait=True)  # idle workers: let them exit
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            with contextlib.suppress(Exception):
                p.terminate()
        for p in processes:
            with contextlib.suppress(Exception):
                p.join(timeout=5)


DASK_SETTINGS = CONFIGS / "dask" / "labourlab.yaml"  # why each setting: the file's comments


@functools.cache
def dask_settings() -> dict[str, Any]:
    """The settings of `DASK_SETTINGS` as dotted keys for `dask.config.set`, which our
    LocalCluster starts under: the nanny leaves MALLOC_TRIM_THRESHOLD_ unset, and the workers'
    statistical profiler is off. A cluster's workers get the same with DASK_CONFIG=configs/dask."""
    import yaml

    def leaves(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
        for key, value in tree.items():
            if isinstance(value, dict):
                yield from leaves(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", value

    return dict(leaves(yaml.safe_load(DASK_SETTINGS.read_text(encoding="utf-8"))))


@functools.cache
def _warm_plugin_class() -> type:
    """`WarmPlugin`, made on first use: subclassing dask's WorkerPlugin at import would import
    distributed (0.2 s) into every fork server and command line, dask or not."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class WarmPlugin(WorkerPlugin):
        """Warm each dask worker once, when it starts (see `warm_worker`)."""

        name = "labourlab-warm"

        def setup(self, worker: Any) -> None:
            # A worker of a cluster we did not start: one thread per run unless its own
            # environment says otherwise (several workers may share a machine).
            start_worker(1)

    # Pickled by reference: a worker finds it as simulation.executors.WarmPlugin (module __getattr__).
    WarmPlugin.__module__, WarmPlugin.__qualname__ = __name__, "WarmPlugin"
    return WarmPlugin


def dask_setup(server: Any) -> None:
    """dask's preload hook, for a cluster of one's own (README):

    - `dask worker ADDRESS --nthreads 1 --preload simulation.executors` warms each worker as it
      starts, before it joins, so an experiment that connects later finds it ready rather than
      waiting for it to import the model (about 1.5 s, once per worker; `WarmPlugin` then has
      nothing left to do);
    - `dask scheduler --preload simulation.executors` imports the experiment runner into the
      scheduler, which unpickles each task it is sent and so needs the classes they are made of:
      without it, the first experiment's first tasks waited about 0.4 s for that import.
    """
    from distributed import Scheduler

    if isinstance(server, Scheduler):
        import simulation.experiment  # noqa: F401  (what the tasks are made of)
    else:
        start_worker(1)


@contextlib.contextmanager
def cluster_processes(workers: int, folder: Path) -> Iterator[str]:
    """A dask cluster on this machine started as the README starts one of a researcher's own:
    `dask scheduler --preload simulation.executors` and `dask worker ... --nthreads 1 --nworkers
    N --preload simulation.executors`, both with DASK_CONFIG=configs/dask, as processes of their
    own (not a LocalCluster). Yields the scheduler's address once every worker has joined (warm);
    stops them on leaving. Their output goes to FOLDER/cluster.log. For benchmarks/ensemble.py
    and the tests."""
    import json
    import subprocess
    import time

    from dask.distributed import Client

    def written(path: Path) -> bool:  # the scheduler does not write its file atomically
        try:
            return "address" in json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False

    scheduler_file = folder / f"scheduler-{os.getpid()}-{time.monotonic_ns()}.json"
    env = {**os.environ, "DASK_CONFIG": str(DASK_SETTINGS.parent)}
    dask = [sys.executable, "-m", "dask"]
    common = ["--scheduler-file", str(scheduler_file), "--no-dashboard", "--preload", "simulation.executors"]
    procs: list[subprocess.Popen[bytes]] = []
    with (folder / "cluster.log").open("a") as log:
        try:
            procs.append(
                subprocess.Popen([*dask, "scheduler", "--port", "0", *common], env=env, stdout=log, stderr=log)
            )
            deadline = time.monotonic() + 60
            while not written(scheduler_file):
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    raise RuntimeError(f"the dask scheduler did not start (see {log.name})")
                time.sleep(0.05)
            worker = [*dask, "worker", "--nthreads", "1", "--nworkers", str(workers), *common]
            procs.append(subprocess.Popen(worker, env=env, stdout=log, stderr=log))
            with Client(scheduler_file=str(scheduler_file), timeout=30) as client:
                client.wait_for_workers(workers, timeout=120)
                address = client.scheduler.address
            yield address
        finally:
            for p in reversed(procs):
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()


def __getattr__(name: str) -> Any:
    if name == "WarmPlugin":
        return _warm_plugin_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DaskExecutor:
    """A dask.distributed cluster: a LocalCluster of processes, or an existing scheduler."""

    kind = "dask"

    def __init__(
        self, workers: int | None = None, scheduler: str | None = None, connect_timeout: float = CONNECT_TIMEOUT
    ) -> None:
        from dask.distributed import Client, LocalCluster

        self.scheduler = scheduler
        self.cluster: Any = None
        self._futures: set[Any] = set()
        self._closed = False
        if scheduler:
            _check_reachable(scheduler, connect_timeout)
            try:
                self.client = Client(scheduler, timeout=connect_timeout)
            except (OSError, TimeoutError) as e:
                reason = str(e).splitlines()[0] if str(e) else type(e).__name__
                if "timed out" in reason.lower():
                    reason = f"no answer within {connect_timeout:g} s"
                raise ConfigError(
                    "command line", "--scheduler", f"cannot reach a dask scheduler at {scheduler!r} ({reason})"
                ) from None
            except (ValueError, TypeError) as e:
                raise ConfigError(
                    "command line", "--scheduler", f"expected a scheduler address such as tcp://HOST:8786 ({e})"
                ) from None
            except Exception as e:  # something answered, but not a dask scheduler (a web server, say)
                raise ConfigError(
                    "command line",
                    "--scheduler",
                    f"cannot reach a dask scheduler at {scheduler!r} (something answered there, but not a dask "
                    f"scheduler: {type(e).__name__}); check the address and port",
                ) from None
            self.workers = workers
        else:
            import dask

            self.workers = workers or default_workers()
            # Read when the nannies are made, and kept for the workers they restart.
            threads = os.environ.get("LABOURLAB_THREADS") or str(threads_per_worker(self.workers))
            config = {**dask_settings(), "distributed.nanny.pre-spawn-environ.LABOURLAB_THREADS": threads}
            with dask.config.set(config):
                self.cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            self.client = Client(self.cluster)
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT)
        except (TimeoutError, OSError):
            self.close()
            raise ConfigError(
                "command line",
                "--scheduler",
                f"the dask scheduler at {scheduler!r} has no workers (waited {WORKER_WAIT:g} s)",
            ) from None
        try:
            # Runs setup on every worker now (waiting for it) and on any worker that joins later.
            plugin = _warm_plugin_class()
            self.client.register_plugin(plugin(), name=plugin.name)
        except Exception:  # e.g. a worker without this package: its runs report that themselves
            log.warning("could not warm the dask workers", exc_info=True)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scheduler": self.scheduler or "LocalCluster",
            "scheduler_address": self.client.scheduler.address,
            "workers": len(self.client.nthreads()),
        }

    def label(self) -> str:
        n = len(self.client.nthreads())
        where = f"scheduler {self.scheduler}" if self.scheduler else "LocalCluster"
        return f"dask executor ({where}), {n} worker{'s' if n != 1 else ''}"

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Outcome]:
        from dask.distributed import as_completed

        by_future = {self.client.submit(fn, t, pure=False, retries=2): t for t in tasks}
        self._futures = set(by_future)
        for fut in as_completed(list(by_future)):
            task = by_future.pop(fut)
            self._futures.discard(fut)
            try:
                result, error = fut.result(), None
            except Exception as e:  # KilledWorker after repeated worker deaths, or the function raised
                result, error = None, e
            # Let go of the finished task, or the scheduler recomputes it if its worker dies later.
            fut.release()
            del fut
            yield task, result, error
        self._futures = set()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._futures:
                with contextlib.suppress(Exception):
                    self.client.cancel(list(self._futures))
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
                self.cluster = None


def _check_reachable(scheduler: str, timeout: float) -> None:
    """Open a plain TCP connection to a tcp:// scheduler first, so that nobody listening, a name
    that does not resolve or a host that never answers is one line at once, rather than after
    dask's own retries run out."""
    import socket

    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, location = parse_address(scheduler)
        if scheme != "tcp":
            return  # tls:// and others: dask's own handshake says what is wrong
        host, port = parse_host_port(location)
        if not 0 < int(port) < 65536:
            raise ValueError(f"port {port} is not in 1..65535")
    except (ValueError, TypeError) as e:
        raise ConfigError(
            "command line", "--scheduler", f"expected a scheduler address such as tcp://HOST:8786 ({e})"
        ) from None
    reason = None
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except socket.gaierror:
        reason = f"no such host {host!r}"
    except ConnectionRefusedError:
        reason = "connection refused: nothing listens on that port"
    except TimeoutError:
        reason = f"no answer within {timeout:g} s"
    except OSError as e:
        reason = e.strerror or type(e).__name__
    if reason is not None:
        raise ConfigError("command line", "--scheduler", f"cannot reach a dask scheduler at {scheduler!r} ({reason})")


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
