"""Warm executors: workers start with the model imported and numba's kernels loaded, the local pool
is kept across runs (and replaced when broken), our LocalCluster's workers do not get the nanny's
MALLOC_TRIM_THRESHOLD_, and warming changes no result: local, dask and in-process runs give
identical files. Behaviour only; benchmarks/ensemble.py measures the time.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from simulation import executors, executors_worker
from simulation.executors import DaskExecutor, LocalExecutor, worker_state
from simulation.experiment import execute_run, load_experiment, run_experiment

SPEC = """\
name = "warm"
place = "testville"
months = 4
burn_in = 2
seeds = 2
baseline = "no_programme"

[arms.no_programme]
regime = "no_programme"

[arms.centralised]
regime = "centralised"
"""


def file_digests(out: Path) -> dict[str, str]:
    """SHA-256 of every run's parquet files, by path under OUT."""
    return {
        str(f.relative_to(out)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(out.glob("*/scenario=*/seed=*.parquet"))
    }


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "warm.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def assert_warm(state: dict[str, object]) -> None:
    assert state["warm"] is True
    assert isinstance(state["kernels"], int) and state["kernels"] > 0
    assert isinstance(state["kernels_loaded"], int) and state["kernels_loaded"] > 0


def test_local_workers_start_warm_and_the_pool_is_kept():
    executor = LocalExecutor(2)
    try:
        executor.start()
        pool = executor._pool
        first = [r for _, r, e in executor.run(worker_state, range(4)) if e is None]
        processes = set(pool._processes)  # the pool's worker processes (which ran which task varies)
        second = [r for _, r, e in executor.run(worker_state, range(4)) if e is None]
        assert executor._pool is pool  # one pool for both run() calls
    finally:
        executor.close()
    assert len(first) == len(second) == 4
    for state in first + second:
        assert_warm(state)  # before the worker ran any model
        assert state["pid"] != os.getpid()
        # Each run's share of the CPUs (simulation.parallel), unless set for the whole experiment.
        assert state["threads"] == os.environ.get("LABOURLAB_THREADS", str(executors.threads_per_worker(2)))
    assert {s["pid"] for s in first + second} <= processes  # the same processes throughout
    assert executor._pool is None


def test_local_pool_is_replaced_after_a_worker_dies():
    executor = LocalExecutor(1)
    try:
        died = list(executor.run(os._exit, [3]))
        assert len(died) == 1 and died[0][2] is not None  # reported, after the restarts
        assert sorted(r for _, r, e in executor.run(abs, [-1, -2, 3]) if e is None) == [1, 2, 3]
    finally:
        executor.close()


def test_local_pool_stopped_early_keeps_no_queued_runs():
    executor = LocalExecutor(1)
    try:
        runs = executor.run(abs, list(range(-20, 0)))
        next(runs)
        runs.close()  # the caller stops after one outcome
        assert not executor._outstanding or all(f.running() for f in executor._outstanding)
        assert [r for _, r, e in executor.run(abs, [-5])] == [5]
    finally:
        executor.close()


def test_warm_worker_runs_once_per_process(monkeypatch):
    monkeypatch.setattr(executors_worker, "_warm", True)  # where warm_worker keeps it
    assert executors.warm_worker() is False  # inherited or done: nothing more to do


def profiling(dask_worker: object) -> bool:
    """Whether this dask worker runs its statistical profiler (`client.run` passes the worker)."""
    return "profile" in getattr(dask_worker, "periodic_callbacks", {})


def dask_config(keys: list[str]) -> dict[str, object]:
    """These dask settings as this process sees them."""
    import dask

    return {key: dask.config.get(key) for key in keys}


def test_dask_workers_start_warm_without_malloc_trim_or_profiler():
    executor = DaskExecutor(workers=1)
    try:
        states = [r for _, r, e in executor.run(worker_state, [0, 1]) if e is None]
        profilers = executor.client.run(profiling)
        settings = executor.client.run(dask_config, list(executors.dask_settings()))
    finally:
        executor.close()
    assert list(profilers.values()) == [False]  # configs/dask/labourlab.yaml
    assert list(settings.values()) == [executors.dask_settings()]  # every one of its settings
    assert len(states) == 2
    for state in states:
        assert_warm(state)
        assert state["malloc_trim_threshold"] is None
        assert state["pid"] != os.getpid()
        assert state["threads"] == os.environ.get("LABOURLAB_THREADS", str(executors.threads_per_worker(1)))


def test_identical_files_in_process_local_and_dask(spec_file, tmp_path):
    exp = load_experiment(spec_file)
    serial = tmp_path / "serial"
    serial.mkdir()
    for task in exp.tasks(serial):
        assert execute_run(task)["status"] == "done"
    expected = file_digests(serial)
    assert len(expected) == 8  # 2 arms x 2 seeds x (monthly, cohorts)
    for name, executor in (("local", LocalExecutor(2)), ("dask", DaskExecutor(workers=2))):
        out = tmp_path / name
        try:
            assert run_experiment(exp, out, executor).exit_code == 0
        finally:
            executor.close()
        assert file_digests(out) == expected, name


def test_dask_workers_preloaded_with_our_module_start_warm():
    """`dask worker ... --preload simulation.executors` (README) warms a cluster's workers as they
    start: a client that registers no plugin finds them warm, and without the preload they are not."""
    from dask.distributed import Client, LocalCluster

    states = {}
    environ = dict(os.environ)  # a nanny with dask's defaults leaves MALLOC_TRIM_THRESHOLD_ set here
    try:
        for preload in ([], ["simulation.executors"]):
            with (
                LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None, preload=preload) as cluster,
                Client(cluster) as client,
            ):
                states[bool(preload)] = next(iter(client.run(worker_state).values()))
                if not preload:  # dask's default, which our file turns off
                    assert list(client.run(profiling).values()) == [True]
    finally:
        os.environ.clear()
        os.environ.update(environ)
    assert states[False]["warm"] is False and states[False]["kernels_loaded"] == 0
    assert_warm(states[True])
    assert states[True]["threads"] == os.environ.get("LABOURLAB_THREADS", "1")


def test_readme_cluster_commands_start_a_warm_cluster(tmp_path):
    """The README's `dask scheduler` and `dask worker` commands (`executors.cluster_processes`),
    with the project's dask settings and preload: the scheduler has the experiment runner imported
    before any experiment sends it tasks (it unpickles them), the worker is warm, and both run
    with configs/dask's settings."""
    import sys

    import cloudpickle
    from dask.distributed import Client

    keys = list(executors.dask_settings())
    # The cluster's processes cannot import this file: its functions are sent by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with executors.cluster_processes(1, tmp_path) as address, Client(address, timeout=30) as client:
            scheduler_has = client.run_on_scheduler(lambda: "simulation.experiment" in sys.modules)
            (state,) = client.run(worker_state).values()
            seen = [client.run_on_scheduler(dask_config, keys), *client.run(dask_config, keys).values()]
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert scheduler_has is True
    assert_warm(state)
    assert state["malloc_trim_threshold"] is None
    assert seen == [executors.dask_settings()] * 2
