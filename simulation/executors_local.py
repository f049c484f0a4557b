"""The local executor: a process pool on this machine whose workers start warm, and which
survives a worker process dying (see `simulation.executors`)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from simulation.executors_worker import Outcome, default_workers, start_worker, threads_per_worker, warm_worker
from simulation.parallel import DRAW_THREAD

RESTARTS = 2  # fresh process pools after a worker process dies, before giving up on its runs


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
        # Importing simulation.executors in the fork server runs warm_worker there (see the end of
        # that module). Has an effect only before this process's fork server first starts.
        context.set_forkserver_preload(["simulation.experiment", "simulation.model", "simulation.executors"])
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
