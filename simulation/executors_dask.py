"""The dask executor: a dask.distributed cluster, a LocalCluster of our own or a running scheduler,
with the project's dask settings and workers warmed as they join; the preload hook for a cluster's
own `dask scheduler` and `dask worker` processes, and a way to start such a cluster (see
`simulation.executors`)."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from simulation.config import CONFIGS, ConfigError
from simulation.executors_worker import Outcome, default_workers, start_worker, threads_per_worker

CONNECT_TIMEOUT = 10.0  # seconds to reach a dask scheduler
WORKER_WAIT = 60.0  # seconds to wait for a dask cluster to have at least one worker

log = logging.getLogger("simulation.executors")  # the name it always logged under


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

    # Pickled by reference: a worker finds it as simulation.executors_dask.WarmPlugin (module __getattr__).
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
