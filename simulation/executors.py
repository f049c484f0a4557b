"""Where an experiment's runs execute: a local process pool, or a dask.distributed cluster.

Both take the same picklable task objects and the same worker function, and yield each task's
outcome as it finishes (in completion order, not submission order). The worker function writes
its run's files itself, so results stream to disk as runs finish wherever they ran; a run is a
pure function of its task, so it gives identical files on any executor.

- `LocalExecutor`: `concurrent.futures.ProcessPoolExecutor` with the forkserver start method (the
  driver has a progress-bar thread, and forking a threaded process can deadlock). If a worker
  process dies (killed, out of memory) the pool breaks; the unfinished tasks are resubmitted to a
  fresh pool, at most `RESTARTS` times, before they are reported as failed.
- `DaskExecutor`: a `dask.distributed.Client` on a `LocalCluster` (processes, one thread each), or
  on an existing scheduler by address. Tasks are submitted with `pure=False, retries=2`; a task
  on a worker that dies is rescheduled on another worker by the scheduler.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from simulation.config import ConfigError

RESTARTS = 2  # fresh process pools after a worker process dies, before giving up on its runs
CONNECT_TIMEOUT = 10.0  # seconds to reach a dask scheduler
WORKER_WAIT = 60.0  # seconds to wait for a dask cluster to have at least one worker

Outcome = tuple[Any, Any, BaseException | None]  # (task, result or None, exception or None)


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
        self._context = multiprocessing.get_context("forkserver")
        # Import the model once in the fork server rather than once per worker process (has an
        # effect only before this process's fork server first starts).
        self._context.set_forkserver_preload(["simulation.experiment", "simulation.model"])

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "workers": self.workers, "start_method": "forkserver"}

    def label(self) -> str:
        return f"local executor, {self.workers} process{'es' if self.workers != 1 else ''}"

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Outcome]:
        pending = list(tasks)
        restarts = 0
        while pending:
            size = max(1, min(self.workers, len(pending)))
            self._pool = ProcessPoolExecutor(max_workers=size, mp_context=self._context)
            futures: dict[Future[Any], Any] = {self._pool.submit(fn, t): t for t in pending}
            broken: list[tuple[Any, BaseException]] = []
            not_done = set(futures)
            while not_done:
                done, not_done = wait(not_done, return_when=FIRST_COMPLETED)
                for fut in done:
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
            self._pool.shutdown(wait=True)
            self._pool = None
            pending = [t for t, _ in broken]
            if pending and restarts >= RESTARTS:
                for task, err in broken:
                    yield task, None, err
                return
            restarts += 1 if pending else 0

    def close(self) -> None:
        """Stop at once (on an interrupt): cancel queued runs and end the worker processes, so
        none goes on writing after the experiment has let go of its folder."""
        if self._pool is not None:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for p in processes:
                with contextlib.suppress(Exception):
                    p.terminate()
            for p in processes:
                with contextlib.suppress(Exception):
                    p.join(timeout=5)
            self._pool = None


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
            self.workers = workers or default_workers()
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
