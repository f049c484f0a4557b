"""Crashes, full disks and read-only folders: nothing that looks finished is partial, nothing
finished is lost, and running the same command again completes with identical results.

Kills are deterministic: the test hook `LABOURLAB_TEST_KILL_AT="PATTERN:STAGE:N"` (simulation/
results.py) SIGKILLs the whole process group (driver and workers, as a machine going down would)
at the N-th write of a file matching PATTERN, either with its temporary file written (`tmp`) or
just after it is renamed into place (`done`). A full disk is an OSError(ENOSPC) raised part-way
through writing a table; a read-only folder is a real one (chmod) unless the tests run as root
(who can write anywhere), and then every file creation under it fails with EROFS, as on a
read-only mount.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulation import cli, executors, experiment, results
from simulation.analysis import results_io
from simulation.config import ROOT
from simulation.experiment import finished_runs, load_experiment, run_paths

SPEC = """\
name = "crash"
place = "testville"
months = 6
burn_in = 2
seeds = 3
baseline = "no_programme"

[arms.no_programme]
regime = "no_programme"

[arms.cooperative]
regime = "cooperative"
"""
RUNS = 6
RUN_ARGS = ["run", "--place", "testville", "--regime", "cooperative", "--months", "6", "--burn-in", "2"]


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("LABOURLAB_TEST")}
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return {**e, **extra}


def cli_in_own_session(args: Sequence[str], **extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m simulation.cli ARGS` in its own process group (the kill hook ends the group)."""
    return subprocess.run(
        [sys.executable, "-m", "simulation.cli", *args],
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,
    )


def table_digest(path: Path) -> str:
    df = pd.read_parquet(path)
    h = hashlib.sha256(",".join(df.columns).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def dataset_digest(out: Path) -> dict[str, str]:
    """Content hash of every table of an experiment folder, by its path inside the folder."""
    return {
        str(f.relative_to(out)): table_digest(f)
        for kind in ("monthly", "cohorts")
        for f in sorted((out / kind).glob("scenario=*/seed=*.parquet"))
    }


def assert_nothing_partial_looks_finished(folder: Path) -> None:
    """Every file under its final name is whole (a table reads, a manifest parses); a run counted
    finished has both its tables; only hidden `.tmp` files may be partial."""
    for f in folder.rglob("*"):
        if f.is_file() and not f.name.endswith(".tmp"):
            if f.suffix == ".parquet":
                pd.read_parquet(f)
            elif f.suffix == ".json" and f.name != ".lock":
                json.loads(f.read_text(encoding="utf-8"))
    for run in finished_runs(folder) if (folder / "runs").exists() else []:
        assert run.paths.monthly.is_file() and run.paths.cohorts.is_file()


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "crash.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The dataset of an uninterrupted experiment."""
    out = tmp_path_factory.mktemp("ref") / "out"
    r = cli_in_own_session(["experiment", str(spec_file), "--out", str(out), "--workers", "1"])
    assert r.returncode == 0, r.stderr
    digest = dataset_digest(out)
    assert len(digest) == 2 * RUNS
    return digest


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Table digests of an uninterrupted `labourlab run` (seed 5)."""
    out = tmp_path_factory.mktemp("refrun") / "run"
    assert cli.main([*RUN_ARGS, "--seed", "5", "--out", str(out)]) == 0
    return {name: table_digest(out / name) for name in ("monthly.parquet", "cohorts.parquet")}


# ------------------------------------------------------------------------ a killed experiment
KILL_POINTS = [
    "manifest.json:done:1",  # the driver, having written the experiment manifest, before any run
    "seed=*.parquet:tmp:1",  # a worker, the first run's first table written aside, not renamed
    "seed=*.parquet:done:3",  # a worker, the second run's monthly table in place, its cohorts not
    "seed=*.json:tmp:2",  # a worker, the second run's manifest written aside, not renamed
    "seed=*.json:done:4",  # a worker, just after the fourth run's manifest is in place
]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_experiment_killed_at_any_point_resumes_to_identical_results(spec_file, reference, tmp_path, point):
    out = tmp_path / "out"
    killed = cli_in_own_session(
        ["experiment", str(spec_file), "--out", str(out), "--workers", "1"], LABOURLAB_TEST_KILL_AT=point
    )
    assert killed.returncode == -signal.SIGKILL, (killed.stdout, killed.stderr)
    assert_nothing_partial_looks_finished(out)
    n_finished = len(finished_runs(out))
    assert n_finished < RUNS
    if point == "seed=*.json:done:4":
        assert n_finished == 4
    again = cli_in_own_session(["experiment", str(spec_file), "--out", str(out), "--workers", "2"])
    assert again.returncode == 0, again.stderr
    assert f"{RUNS - n_finished} runs done, 0 failed, {n_finished} already finished" in again.stdout
    assert dataset_digest(out) == reference
    assert not list(out.rglob("*.tmp")) and not (out / ".lock").exists()
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["status"] == "finished"


# ------------------------------------------------------------------------------- a killed run
RUN_KILL_POINTS = ["monthly.parquet:tmp:1", "monthly.parquet:done:1", "cohorts.parquet:done:1", "manifest.json:tmp:1"]


@pytest.mark.parametrize("point", RUN_KILL_POINTS)
def test_run_killed_at_any_point_is_unfinished_and_reruns_identically(reference_run, tmp_path, point):
    out = tmp_path / "runs" / "cooperative-seed5"
    killed = cli_in_own_session([*RUN_ARGS, "--seed", "5", "--out", str(out)], LABOURLAB_TEST_KILL_AT=point)
    assert killed.returncode == -signal.SIGKILL
    assert_nothing_partial_looks_finished(out)
    assert not (out / "manifest.json").exists()  # so it is not a finished run
    with pytest.raises(results_io.ConfigError, match="not a results folder"):
        results_io.load_results(out.parent)
    assert cli.main([*RUN_ARGS, "--seed", "5", "--out", str(out)]) == 0
    assert {n: table_digest(out / n) for n in reference_run} == reference_run
    assert not list(out.glob("*.tmp"))


@pytest.mark.parametrize("point", ["monthly.parquet:tmp:1", "monthly.parquet:done:1", "manifest.json:tmp:1"])
def test_rewriting_a_finished_run_killed_never_mixes_two_runs(reference_run, tmp_path, point):
    """A finished run folder run again (another seed) and killed: it holds the old run, whole, or
    no manifest at all; never a manifest beside another run's tables."""
    out = tmp_path / "run"
    assert cli.main([*RUN_ARGS, "--seed", "5", "--out", str(out)]) == 0
    killed = cli_in_own_session([*RUN_ARGS, "--seed", "6", "--out", str(out)], LABOURLAB_TEST_KILL_AT=point)
    assert killed.returncode == -signal.SIGKILL
    assert_nothing_partial_looks_finished(out)
    if (out / "manifest.json").exists():
        assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["seed"] == 5
        assert {n: table_digest(out / n) for n in reference_run} == reference_run
    else:
        assert point != "monthly.parquet:tmp:1"  # nothing of the old run is touched before all is written


# ------------------------------------------------------------------------------- a full disk
class InProcessExecutor:
    """Runs tasks one after another in this process (so a monkeypatched write reaches them)."""

    kind = "serial"

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "workers": 1}

    def label(self) -> str:
        return "in-process executor"

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any, BaseException | None]]:
        for t in tasks:
            try:
                yield t, fn(t), None
            except Exception as e:
                yield t, None, e

    def close(self) -> None:
        pass


def disk_fills_at(monkeypatch: pytest.MonkeyPatch, nth_table: int) -> list[Path]:
    """From the n-th table written on, the disk is full: half the file is written, then ENOSPC."""
    calls: list[Path] = []
    real = results._parquet_writer

    def writer(df: pd.DataFrame) -> Callable[[Path], None]:
        def write(p: Path) -> None:
            calls.append(p)
            if len(calls) >= nth_table:
                real(df)(p)
                p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(p))
            real(df)(p)

        return write

    monkeypatch.setattr(results, "_parquet_writer", writer)
    return calls


def one_line(err: str, *fragments: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def test_disk_full_mid_experiment_stops_with_one_line_and_keeps_finished_runs(
    spec_file, reference, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    monkeypatch.setattr(executors, "make_executor", lambda *a: InProcessExecutor())
    calls = disk_fills_at(monkeypatch, nth_table=6)  # two tables a run: the third run's cohorts
    code = cli.main(["experiment", str(spec_file), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    line = one_line(err, "cannot write output", "No space left on device", "finished outputs are intact", "again")
    assert "seed=" in line and ".tmp" not in line  # names the table it was writing, not a temporary file
    assert len(calls) == 6  # it stopped: no more runs were tried on a full disk
    assert_nothing_partial_looks_finished(out)
    done = finished_runs(out)
    assert len(done) == 2
    assert not list(out.rglob("*.tmp")) and not (out / ".lock").exists()
    for run in done:
        for path in (run.paths.monthly, run.paths.cohorts):
            assert table_digest(path) == reference[str(path.relative_to(out))]
    assert "output-error" in (out / "experiment.log").read_text(encoding="utf-8")
    # Space freed: the same command finishes the rest, identically.
    monkeypatch.undo()
    assert cli.main(["experiment", str(spec_file), "--out", str(out), "--workers", "1"]) == 0
    assert "4 runs done, 0 failed, 2 already finished" in capsys.readouterr().out
    assert dataset_digest(out) == reference


def test_disk_full_while_rewriting_a_run_keeps_the_earlier_run(reference_run, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    assert cli.main([*RUN_ARGS, "--seed", "5", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    disk_fills_at(monkeypatch, nth_table=2)  # the cohorts table of the new run
    assert cli.main([*RUN_ARGS, "--seed", "6", "--out", str(out)]) == 1
    one_line(capsys.readouterr().err, f"{out / 'cohorts.parquet'}", "No space left on device", "intact")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the seed-5 run, untouched


@pytest.mark.parametrize("command", ["compare", "claims", "report"])
def test_disk_full_while_writing_analysis_tables_keeps_the_earlier_ones(tmp_path, monkeypatch, capsys, command):
    """compare, claims and report write each table aside first: a full disk leaves the tables of
    an earlier analysis as they were, and says so in one line."""
    runs = tmp_path / "runs"
    for regime in ("no_programme", "cooperative"):
        argv = ["run", "--place", "testville", "--regime", regime, "--months", "3", "--burn-in", "0", "--seed", "1"]
        assert cli.main([*argv, "--out", str(runs / f"{regime}-seed1")]) == 0
    out = tmp_path / "analysis"
    assert cli.main([command, str(runs), "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert before
    capsys.readouterr()
    real = results._prepare
    written: list[Path] = []

    def full_after_one(path: Path, write: Callable[[Path], None]) -> Path:
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)
        return real(path, write)

    monkeypatch.setattr(results, "_prepare", full_after_one)
    assert cli.main([command, str(runs), "--out", str(out)]) == 1
    one_line(capsys.readouterr().err, f"cannot write output {out}", "No space left on device", "intact")
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert set(after) == set(before) and not list(out.rglob("*.tmp"))
    changed = [p for p in before if after[p] != before[p]]
    assert len(changed) <= 1  # the one table written before the disk filled, whole


# --------------------------------------------------------------------------- read-only folder
@contextlib.contextmanager
def read_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`folder` read-only: by permissions, or (as root, who ignores them) by failing every file
    creation under it with EROFS, as a read-only mount does."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield
        finally:
            for p, m in modes.items():
                p.chmod(m)
        return
    real_open, real_mkdir, real_replace = os.open, os.mkdir, os.replace
    root = str(folder)
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def inside(path: Any) -> bool:
        return os.path.abspath(os.fspath(path)).startswith(root)

    def fail(path: Any) -> OSError:
        return OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))

    def fake_open(path: Any, flags: int, *a: Any, **k: Any) -> int:
        if flags & writing and inside(path):
            raise fail(path)
        return real_open(path, flags, *a, **k)

    def fake_mkdir(path: Any, *a: Any, **k: Any) -> None:
        if inside(path) and not os.path.exists(path):  # an existing folder is EEXIST even read-only
            raise fail(path)
        real_mkdir(path, *a, **k)

    def fake_replace(src: Any, dst: Any, *a: Any, **k: Any) -> None:
        if inside(dst):
            raise fail(dst)
        real_replace(src, dst, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(os, "open", fake_open)
        m.setattr(os, "mkdir", fake_mkdir)
        m.setattr(os, "replace", fake_replace)
        yield


def test_read_only_results_folder_one_line_and_intact(spec_file, reference, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    spec = load_experiment(spec_file)
    spec.seeds = [1]
    assert experiment.run_experiment(spec, out, InProcessExecutor()).exit_code == 0
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    with read_only(out, monkeypatch):
        monkeypatch.setattr(executors, "make_executor", lambda *a: InProcessExecutor())
        code = cli.main(["experiment", str(spec_file), "--out", str(out)])
        err = capsys.readouterr().err
        run_code = cli.main([*RUN_ARGS, "--seed", "1", "--out", str(out / "more")])
        run_err = capsys.readouterr().err
    assert code == 1
    one_line(err, f"cannot write output {out}", "finished outputs are intact")
    assert run_code == 1
    one_line(run_err, f"cannot write output {out / 'more'}")
    assert "read-only" in err + run_err or "permission" in err + run_err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files
    for run in finished_runs(out):
        rel = str(run.paths.monthly.relative_to(out))
        assert table_digest(run.paths.monthly) == reference[rel]


def test_output_folder_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert cli.main([*RUN_ARGS, "--seed", "1", "--out", str(blocker)]) == 1
    one_line(capsys.readouterr().err, "cannot write output", str(blocker))
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_stale_temporary_files_are_cleared_and_never_read(tmp_path):
    """Temporary files of a killed writer are hidden, never read as results, and removed on rewrite."""
    out = tmp_path / "run"
    assert cli.main([*RUN_ARGS, "--seed", "1", "--out", str(out)]) == 0
    (out / ".monthly.parquet.abc.tmp").write_bytes(b"PAR1 half a table")
    assert len(results_io.load_results(tmp_path).runs) == 1
    assert cli.main([*RUN_ARGS, "--seed", "1", "--out", str(out)]) == 0
    assert not list(out.glob("*.tmp"))


def test_atomic_write_failure_leaves_the_old_file(tmp_path):
    path = tmp_path / "table.json"
    results.write_json({"a": 1}, path)

    def half_then_full(p: Path) -> None:
        p.write_text('{"a": 2, "b"', encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device", str(p))

    with pytest.raises(OSError) as e:
        results.atomic_write(path, half_then_full)
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(path)
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["table.json"]


def test_run_paths_of_an_unfinished_run_are_not_finished(tmp_path):
    paths = run_paths(tmp_path, "x", 1)
    results.write_parquet(pd.DataFrame({"month": [1], "employed": [1]}), paths.monthly)
    assert not paths.finished()


def _dying_job(job: Any) -> Any:
    os._exit(1)  # a worker process killed (by the out-of-memory killer, say)


def test_a_dying_worker_process_in_demo_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("simulation.cli_runs._demo_job", _dying_job)
    argv = ["demo", "--place", "testville", "--seeds", "2", "--months", "2", "--burn-in", "0", "--jobs", "2"]
    assert cli.main([*argv, "--out", str(tmp_path / "demo")]) == 1
    one_line(capsys.readouterr().err, "a worker process died", "run the same command again")
