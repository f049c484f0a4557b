"""An experiment's output folder OUT (the layout `simulation.experiment` describes): where each
run's files go and which runs are finished, the event log, a failed run's record, and the
experiment manifest, with the check that OUT holds this experiment and no other."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation import results
from simulation.config import ConfigError
from simulation.experiment_plan import Experiment, RunTask

SPEC_VERSION = 1  # of OUT/manifest.json


@dataclass(frozen=True)
class RunPaths:
    """A run's files in OUT: its two tables, its manifest, and its failure record if it raised."""

    monthly: Path
    cohorts: Path
    manifest: Path
    failed: Path

    def finished(self) -> bool:
        """A finished run has its manifest (written last) and both tables."""
        return self.manifest.is_file() and self.monthly.is_file() and self.cohorts.is_file()


def run_paths(out: Path | str, scenario: str, seed: int) -> RunPaths:
    out = Path(out)
    part = f"scenario={scenario}"
    return RunPaths(
        monthly=out / "monthly" / part / f"seed={seed}.parquet",
        cohorts=out / "cohorts" / part / f"seed={seed}.parquet",
        manifest=out / "runs" / part / f"seed={seed}.json",
        failed=out / "failed" / part / f"seed={seed}.json",
    )


@dataclass(frozen=True)
class FinishedRun:
    scenario: str
    arm: str
    seed: int
    paths: RunPaths


def finished_runs(out: Path | str) -> list[FinishedRun]:
    """Every finished run in an experiment folder (a run manifest beside both tables), sorted."""
    out = Path(out)
    found = []
    for man in sorted((out / "runs").glob("scenario=*/seed=*.json")):
        scenario = man.parent.name.removeprefix("scenario=")
        try:
            seed = int(man.stem.removeprefix("seed="))
        except ValueError:
            continue
        paths = run_paths(out, scenario, seed)
        if not paths.finished():
            continue
        try:
            arm = json.loads(man.read_text(encoding="utf-8")).get("arm", scenario)
        except (OSError, ValueError):
            continue
        found.append(FinishedRun(scenario, str(arm), seed, paths))
    return found


_CODE_SHA256: str | None = None


def code_sha256() -> str:
    """A fingerprint of the model's code (every simulation/*.py), to tell runs of different code apart
    even when the git commit does not (uncommitted edits)."""
    global _CODE_SHA256
    if _CODE_SHA256 is None:
        h = hashlib.sha256()
        pkg = Path(__file__).resolve().parent
        for p in sorted(pkg.rglob("*.py")):
            h.update(str(p.relative_to(pkg)).encode() + b"\0" + p.read_bytes() + b"\0")
        _CODE_SHA256 = h.hexdigest()
    return _CODE_SHA256


def utc_now() -> str:
    """The time now, in UTC, to the millisecond (ISO 8601, as every log line and manifest records it)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_event(out: Path | str, event: str, **fields: Any) -> None:
    """Append one line to OUT/experiment.log (a single O_APPEND write, so lines never interleave)."""
    parts = [utc_now(), event, *(f"{k}={v}" for k, v in fields.items())]
    line = (" ".join(parts).replace("\n", " ") + "\n").encode("utf-8")
    fd = os.open(Path(out) / "experiment.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


# Errors that say the output folder cannot take more files (full, over quota, read-only, not ours):
# every later run would fail the same way, so the experiment stops and says so.
OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


def output_error(e: BaseException, out: Path | str) -> dict[str, Any] | None:
    """The errno, reason and file of a write into OUT that failed for lack of space or permission."""
    if isinstance(e, OSError) and e.errno in OUTPUT_ERRNOS and str(e.filename or "").startswith(str(out)):
        return {"errno": e.errno, "strerror": e.strerror, "filename": str(e.filename)}
    return None


def failure_record(task: RunTask, e: BaseException, wall: float, host: str, pid: int | None) -> dict[str, Any]:
    """What OUT/failed/scenario=<scenario>/seed=<S>.json says of a run that raised."""
    return {
        "scenario": task.scenario,
        "arm": task.arm,
        "seed": task.seed,
        "error_type": type(e).__name__,
        "message": str(e),
        "traceback": "".join(traceback.format_exception(e)),
        "time": utc_now(),
        "wall_seconds": round(wall, 3),
        "host": host,
        "pid": pid,
    }


def check_folder(exp: Experiment, out: Path) -> dict[str, Any] | None:
    """The previous experiment manifest in OUT, if any; refuse a folder holding another experiment."""
    path = out / "manifest.json"
    if not path.exists():
        return None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        old_hash, old_spec = old["spec_sha256"], old["spec"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            path, "", "not a LabourLab experiment manifest; choose another --out for this experiment"
        ) from None
    if old_hash == exp.spec_sha256():
        return old
    new_spec = exp.resolved()
    diff = [k for k in new_spec if k not in ("description", "outputs") and old_spec.get(k) != new_spec[k]]
    what = ", ".join(diff) or "resolved configs"
    if diff == ["scenarios"]:
        changed = [s for s, v in new_spec["scenarios"].items() if (old_spec.get("scenarios") or {}).get(s) != v]
        what = f"scenario {', '.join(changed[:3])} (config files or calibration changed?)"
    raise ConfigError(
        path,
        "spec",
        f"this folder holds experiment {old_spec.get('name')!r} with a different resolved spec "
        f"(differs in {what}); choose another --out, or remove {out} to start again",
    )


def clean_temp_files(out: Path) -> int:
    """Remove the temporary files killed writers left in OUT and its run folders."""
    folders = [out, *(p for sub in ("monthly", "cohorts", "runs", "failed") for p in (out / sub).glob("scenario=*"))]
    return sum(results.clean_temp_files(f) for f in folders)


def experiment_manifest(
    exp: Experiment,
    tasks: list[RunTask],
    old: dict[str, Any] | None,
    session: dict[str, Any],
    ran: dict[tuple[str, int], dict[str, Any]],
    out: Path,
) -> dict[str, Any]:
    """OUT/manifest.json's content: the resolved spec, every run's status (with this session's
    wall time and host for the runs it ran), and the sessions so far, this one last."""
    runs = []
    counts = {"total": len(tasks), "finished": 0, "failed": 0, "missing": 0}
    for t in tasks:
        p = run_paths(out, t.scenario, t.seed)
        status = "finished" if p.finished() else "failed" if p.failed.is_file() else "missing"
        counts[status] += 1
        entry: dict[str, Any] = {"scenario": t.scenario, "arm": t.arm, "seed": t.seed, "status": status}
        if (t.scenario, t.seed) in ran:
            entry.update(ran[(t.scenario, t.seed)])
        runs.append(entry)
    sessions = [*(old or {}).get("sessions", [])]
    if sessions and sessions[-1].get("started") == session["started"]:
        sessions[-1] = session
    else:
        sessions.append(session)
    return {
        "labourlab_experiment": SPEC_VERSION,
        "name": exp.name,
        "spec_file": str(exp.path),
        "spec": exp.resolved(),
        "spec_sha256": exp.spec_sha256(),
        "layout": {
            "monthly": "monthly/scenario=<scenario>/seed=<S>.parquet",
            "cohorts": "cohorts/scenario=<scenario>/seed=<S>.parquet",
            "runs": "runs/scenario=<scenario>/seed=<S>.json",
            "failed": "failed/scenario=<scenario>/seed=<S>.json",
        },
        "status": session["status"],
        "counts": counts,
        "runs": runs,
        "created": (old or {}).get("created", session["started"]),
        "started": session["started"],
        "finished": session.get("finished"),
        "executor": session["executor"],
        "wall_seconds": session.get("wall_seconds"),
        "versions": results.versions(),
        "git_commit": session["git_commit"],
        "code_sha256": session["code_sha256"],
        "sessions": sessions,
    }
