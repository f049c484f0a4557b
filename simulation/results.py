"""Run outputs: the month x district table, its manifest, and atomic writing.

A run writes `monthly.parquet` and `manifest.json` into its folder. Each file is written to a
temporary name in the same folder, flushed to disk and renamed into place, so a killed run never
leaves a file that looks finished; the manifest is written last, so its presence marks a complete
run. A write that fails (disk full, read-only folder) raises OSError naming the file it was for,
removes its temporary file and leaves the file it would have replaced as it was.

Test hook (for tests only): `LABOURLAB_TEST_KILL_AT="PATTERN:STAGE:N"` SIGKILLs this process's
group the N-th time this process writes a file whose name matches PATTERN (fnmatch), at STAGE
`tmp` (temporary file written, not yet renamed) or `done` (renamed into place). Set it only for a
process started in its own session (a whole experiment, driver and workers, dies as a machine
would).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import importlib.metadata
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation import machine

PACKAGES = ("mesa", "numpy", "numba", "llvmlite", "pandas", "pyarrow", "pydantic", "labourlab")


def to_frame(rows: list[dict[str, np.ndarray]], names: list[str], codes: list[str], markets: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame({k: np.concatenate([r[k] for r in rows]) for k in rows[0]})
    df.insert(2, "district_name", np.array(names, dtype=object)[df["district"].to_numpy()])
    df.insert(3, "district_code", np.array(codes, dtype=object)[df["district"].to_numpy()])
    df.insert(4, "market", np.array(markets, dtype=object)[df["district"].to_numpy()])
    return df


KILL_HOOK = "LABOURLAB_TEST_KILL_AT"
_kill_counts: dict[str, int] = {}


def _kill_point(path: Path, stage: str) -> None:
    """The test hook: SIGKILL this process group at the N-th matching write (see the module doc)."""
    spec = os.environ.get(KILL_HOOK)
    if not spec:
        return
    pattern, want_stage, n = spec.rsplit(":", 2)
    if want_stage != stage or not fnmatch.fnmatch(path.name, pattern):
        return
    _kill_counts[spec] = _kill_counts.get(spec, 0) + 1
    if _kill_counts[spec] == int(n):
        os.killpg(os.getpgid(0), signal.SIGKILL)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (else a power cut can undo it); not every system can."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _prepare(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a file's content to a flushed temporary file beside `path`; return its name. On any
    failure the temporary file is removed and an OSError names `path` (not the temporary name)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from e
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        if isinstance(e, OSError):
            raise OSError(e.errno, e.strerror, str(path)) from e
        raise
    _kill_point(path, "tmp")
    return tmp_path


def _commit(tmp_path: Path, path: Path) -> None:
    try:
        os.replace(tmp_path, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise OSError(e.errno, e.strerror, str(path)) from e
    _fsync_dir(path.parent)
    _kill_point(path, "done")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder, flushed to disk, then rename over `path`:
    `path` is either its old self or the complete new file, whatever happens meanwhile."""
    _commit(_prepare(path, write), path)


def clean_temp_files(folder: Path) -> int:
    """Remove temporary files a killed writer left in `folder` (never a finished file)."""
    n = 0
    for p in folder.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            p.unlink()
            n += 1
    return n


def _parquet_writer(df: pd.DataFrame) -> Callable[[Path], None]:
    return lambda p: df.to_parquet(p, index=False)


def _json_writer(obj: Any) -> Callable[[Path], None]:
    text = json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n"
    return lambda p: p.write_text(text, encoding="utf-8")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    atomic_write(path, _parquet_writer(df))


def write_json(obj: Any, path: Path) -> None:
    atomic_write(path, _json_writer(obj))


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, dt.date | dt.time):  # TOML dates and times, e.g. in a fitted file's [provenance]
        return x.isoformat()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def peak_memory_mb() -> float:
    """Peak resident memory of this process, in MiB (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024


def manifest(
    resolved_config: dict[str, Any], seed: int, wall_seconds: float, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "labourlab_manifest": 1,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "config": resolved_config,
        "versions": versions(),
        "git_commit": git_commit(),
        "machine": machine.describe(),
        "wall_seconds": round(wall_seconds, 3),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        "command": sys.argv,
        **(extra or {}),
    }


def write_run(out: Path, df: pd.DataFrame, man: dict[str, Any], tables: dict[str, pd.DataFrame] | None = None) -> None:
    """Write a run folder: the tables first (monthly.parquet, then e.g. cohorts.parquet), the
    manifest last (its presence marks completion).

    Every file is first written aside in full; only then is an earlier run's manifest removed and
    the new files renamed into place. So a full disk or a read-only folder fails before anything
    of an earlier run in this folder is touched, and a kill at any point leaves either the earlier
    finished run, or a folder without a manifest (unfinished: re-run it)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(out)) from e
    clean_temp_files(out)  # left by an earlier writer that was killed
    files = [(out / "monthly.parquet", _parquet_writer(df))]
    files += [(out / f"{name}.parquet", _parquet_writer(table)) for name, table in (tables or {}).items()]
    files.append((out / "manifest.json", _json_writer(man)))
    prepared: list[tuple[Path, Path]] = []
    try:
        for path, write in files:
            prepared.append((_prepare(path, write), path))
    except BaseException:
        for tmp, _ in prepared:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    stale = out / "manifest.json"
    if stale.exists():
        stale.unlink()  # the folder is being rewritten; it is not finished until the new manifest lands
        _fsync_dir(out)
    for tmp, path in prepared:
        _commit(tmp, path)
