"""Cluster faults: a worker of the dask executor's default LocalCluster, or of the local process
pool, killed mid-run has its runs retried, and the experiment completes with results identical
to an undisturbed run; a scheduler that cannot be reached (nobody listening, an unknown host, a
host that never answers, something else answering) or a malformed address is one clear line
within seconds. (tests/workflows/test_experiment.py kills a worker of a separately started scheduler.)
"""

from __future__ import annotations

import hashlib
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from simulation import experiment
from simulation.config import ROOT
from simulation.executors import DaskExecutor, LocalExecutor
from simulation.experiment import load_experiment, run_experiment

SPEC = """\
name = "cluster"
place = "testville"
months = 6
burn_in = 2
seeds = 3
baseline = "no_programme"

[arms.no_programme]
regime = "no_programme"

[arms.centralised]
regime = "centralised"
"""
RUNS = 6


def digest(out: Path) -> dict[str, str]:
    found = {}
    for f in sorted(out.glob("*/scenario=*/seed=*.parquet")):
        df = pd.read_parquet(f)
        h = hashlib.sha256(",".join(df.columns).encode())
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        found[str(f.relative_to(out))] = h.hexdigest()
    return found


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "cluster.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("ref") / "out"
    assert run_experiment(load_experiment(spec_file), out, LocalExecutor(1)).exit_code == 0
    return digest(out)


def test_local_cluster_worker_killed_mid_run_is_retried_identically(spec_file, reference, tmp_path, monkeypatch):
    monkeypatch.setenv(experiment.DELAY_HOOK, "0.4")  # each run takes a while: a kill lands mid-run
    out = tmp_path / "out"
    executor = DaskExecutor(workers=2)
    killed: list[int] = []

    def kill_a_busy_worker(res: experiment.Outcome, task: experiment.RunTask | None) -> None:
        if task is None or killed:
            return
        busy = [addr for addr, keys in executor.client.processing().items() if keys]
        pids = executor.client.run(os.getpid, workers=busy[:1])
        victim = next(iter(pids.values()))
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    try:
        res = run_experiment(load_experiment(spec_file), out, executor, kill_a_busy_worker)
    finally:
        executor.close()
    assert killed, "no worker was killed"
    assert res.exit_code == 0 and res.done == RUNS and res.failed == 0
    assert digest(out) == reference
    log = (out / "experiment.log").read_text(encoding="utf-8").splitlines()
    started = [ln for ln in log if " started " in ln]
    assert len(started) > RUNS  # the killed worker's run was started again elsewhere
    assert any(f"pid={killed[0]}" in ln for ln in started)


def test_local_pool_worker_killed_mid_run_is_retried_identically(spec_file, reference, tmp_path, monkeypatch):
    """The same with the local executor: the pool breaks, and its unfinished runs go to a fresh pool."""
    monkeypatch.setenv(experiment.DELAY_HOOK, "0.4")
    out = tmp_path / "out"
    executor = LocalExecutor(2)
    killed: list[int] = []

    def kill_a_worker(res: experiment.Outcome, task: experiment.RunTask | None) -> None:
        if task is None or killed or executor._pool is None:
            return
        victim = next(iter(executor._pool._processes))
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    res = run_experiment(load_experiment(spec_file), out, executor, kill_a_worker)
    assert killed
    assert res.exit_code == 0 and res.done == RUNS and res.failed == 0
    assert digest(out) == reference
    started = [ln for ln in (out / "experiment.log").read_text(encoding="utf-8").splitlines() if " started " in ln]
    assert len(started) > RUNS


def cli_experiment(spec: Path, out: Path, scheduler: str) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "simulation.cli", "experiment", str(spec), "--out", str(out), "--scheduler", scheduler],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return r, time.monotonic() - t0


@pytest.mark.parametrize(
    "scheduler",
    [
        "tcp://127.0.0.1:1",  # nobody listening: refused at once
        "tcp://10.255.255.1:8786",  # a host that never answers (or no route): the connect timeout
        "tcp://no-such-host.invalid:8786",  # a name that does not resolve
    ],
)
def test_unreachable_scheduler_is_one_line_within_seconds(spec_file, tmp_path, scheduler):
    r, seconds = cli_experiment(spec_file, tmp_path / "out", scheduler)
    assert seconds < 60
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("labourlab: error: command line: --scheduler: cannot reach a dask scheduler at")
    assert scheduler in lines[0]
    assert not (tmp_path / "out" / ".lock").exists()


def test_an_address_where_something_else_answers(spec_file, tmp_path):
    """A web server (say) on the scheduler's port: one line, not dask's protocol errors."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _NotDask)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        address = f"tcp://127.0.0.1:{server.server_address[1]}"
        r, seconds = cli_experiment(spec_file, tmp_path / "out", address)
    finally:
        server.shutdown()
        server.server_close()
    assert seconds < 60 and r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"cannot reach a dask scheduler at {address!r}" in lines[0]


class _NotDask(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        time.sleep(2)


def test_a_malformed_scheduler_address(spec_file, tmp_path):
    for address in ("nonsense", "tcp://127.0.0.1:99999"):
        r, _ = cli_experiment(spec_file, tmp_path / "out", address)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "--scheduler: expected a scheduler address such as tcp://HOST:8786" in r.stderr
