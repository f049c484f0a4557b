"""Run outputs: the month x district table, its manifest, and atomic writing.

A run writes `monthly.parquet` and `manifest.json` into its folder. Each file is written to a
temporary name in the same folder and renamed into place, so a killed run never leaves a file
that looks finished; the manifest is written last, so its presence marks a complete run.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "pydantic", "labourlab")


def to_frame(rows: list[dict[str, np.ndarray]], names: list[str], codes: list[str], markets: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame({k: np.concatenate([r[k] for r in rows]) for k in rows[0]})
    df.insert(2, "district_name", np.array(names, dtype=object)[df["district"].to_numpy()])
    df.insert(3, "district_code", np.array(codes, dtype=object)[df["district"].to_numpy()])
    df.insert(4, "market", np.array(markets, dtype=object)[df["district"].to_numpy()])
    return df


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda p: df.to_parquet(p, index=False))


def write_json(obj: Any, path: Path) -> None:
    def w(p: Path) -> None:
        p.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n", encoding="utf-8")

    atomic_write(path, w)


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Path):
        return str(x)
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
        "wall_seconds": round(wall_seconds, 3),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        "command": sys.argv,
        **(extra or {}),
    }


def write_run(out: Path, df: pd.DataFrame, man: dict[str, Any], tables: dict[str, pd.DataFrame] | None = None) -> None:
    """Write a run folder: the tables first (monthly.parquet, then e.g. cohorts.parquet), the
    manifest last (its presence marks completion)."""
    out.mkdir(parents=True, exist_ok=True)
    stale = out / "manifest.json"
    if stale.exists():
        stale.unlink()  # the folder is being rewritten; it is not finished until the new manifest lands
    write_parquet(df, out / "monthly.parquet")
    for name, table in (tables or {}).items():
        write_parquet(table, out / f"{name}.parquet")
    write_json(man, out / "manifest.json")
