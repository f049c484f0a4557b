"""Writing `labourlab calibrate`'s outputs, each atomically: fit.csv, trials.csv, fit_report.md and
calibrated.toml, a complete calibration file with the fitted values and a [provenance] table saying
how it was made (spec, targets, trials, losses, seeds, commit, versions).

The TOML writer is this module's own: the standard library reads TOML but does not write it, and the
fitted file is read back with `load_calibration` before it replaces anything.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from simulation import results
from simulation.analysis.calibrate import Fit
from simulation.analysis.calibrate_report import fit_report
from simulation.analysis.calibrate_spec import LEVER_PREFIX
from simulation.config import load_calibration

PACKAGES = ("optuna",)  # versions recorded in the provenance beside results.versions()'s

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else _str(k)


def _str(s: str) -> str:
    # A JSON string is a TOML basic string, except that TOML also forbids a raw DEL character.
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"cannot write a non-finite number to TOML: {f}")
        return repr(f)
    if isinstance(v, str | Path):
        return _str(str(v))
    if v is None:
        return _str("")
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(str(k))} = {_scalar(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _table(lines: list[str], name: str, d: dict[str, Any]) -> None:
    """A TOML table: scalars first, then each sub-table under its dotted name."""
    lines.append(f"[{name}]")
    subs = {k: v for k, v in d.items() if isinstance(v, dict) and v}
    for k, v in d.items():
        if k not in subs:
            lines.append(f"{_key(str(k))} = {_scalar(_finite(v))}")
    lines.append("")
    for k, v in subs.items():
        _table(lines, f"{name}.{_key(str(k))}", v)


def _finite(v: Any) -> Any:
    """None and non-finite numbers become strings (TOML has no null, and calibration files refuse nan)."""
    if v is None:
        return "none"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, list):
        return [_finite(x) for x in v]
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    return v


def calibrated_toml(fit: Fit, spec_arg: str) -> str:
    """A complete calibration file: the base file's records with the fitted values, and how it was made."""
    spec, res = fit.spec, fit.result
    day = fit.created[:10]
    lines = [
        f"# Calibration fitted by `labourlab calibrate {spec_arg}` on {day} (spec {spec.name}).",
        "# Records are the base calibration file's with fitted values replaced (low, high, source kept);",
        "# [provenance] says how: spec, targets, trials, losses on fresh check seeds, seeds, commit, versions.",
        "",
    ]
    for name, rec in spec.base.records.items():
        data = rec.model_dump()
        if name in res.best_params:
            data["value"] = res.best_params[name]
            data["note"] = (
                f"{rec.note} Fitted by labourlab calibrate {spec_arg}, {day} (hand-set value {rec.value})."
            ).strip()
        _table(lines, f"params.{_key(name)}", data)
    prov: dict[str, Any] = {
        "tool": "labourlab calibrate",
        "created": fit.created,
        "spec": str(spec.path),
        "spec_sha256": spec.spec_sha256,
        "base_calibration": str(spec.calibration),
        "git_commit": results.git_commit(),
        "best_trial": res.best_trial,
        "trials": spec.trials,
        "seeds": spec.seeds,
        "check_seeds": spec.check_seeds,
        "loss_trial_seeds_handset": res.handset_loss,
        "loss_trial_seeds_fitted": res.best_loss,
        "loss_check_seeds_handset": fit.check_loss_handset,
        "loss_check_seeds_fitted": fit.check_loss_fitted,
        "versions": {**results.versions(), **_versions()},
        "fitted": {
            r["parameter"]: {k: r[k] for k in ("handset", "fitted", "low", "high", "at_edge")}
            for r in fit.params_rows()
            if not r["lever"]
        },
        "fitted_levers": {
            r["parameter"].removeprefix(LEVER_PREFIX): {
                "regime": spec.programme_regime_name,
                **{k: r[k] for k in ("handset", "fitted", "low", "high", "at_edge")},
            }
            for r in fit.params_rows()
            if r["lever"]
        },
        "targets": {
            k: {"value": t.value, "low": t.low, "high": t.high, "arm": t.arm, "source": t.source}
            for k, t in spec.targets.items()
        },
        "resolved_spec": spec.resolved(),
    }
    if spec.base.provenance:
        prov["base_provenance"] = spec.base.provenance
    _table(lines, "provenance", _finite(prov))
    return "\n".join(lines)


def _versions() -> dict[str, str]:
    import importlib.metadata

    out = {}
    for pkg in PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _write_text(path: Path, text: str) -> None:
    results.atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_outputs(fit: Fit, out: Path, spec_arg: str) -> dict[str, Path]:
    """Write every output atomically; the fitted file is read back with load_calibration before it
    replaces anything, so a file that would not load is never left behind."""
    files = {
        "report": out / "fit_report.md",
        "fit": out / "fit.csv",
        "trials": out / "trials.csv",
        "calibrated": out / "calibrated.toml",
    }
    out.mkdir(parents=True, exist_ok=True)
    results.atomic_write(files["fit"], lambda p: fit.frame().to_csv(p, index=False))
    trials = fit.result.study.trials_dataframe()
    results.atomic_write(files["trials"], lambda p: trials.to_csv(p, index=False))

    text = calibrated_toml(fit, spec_arg)

    def write_checked(p: Path) -> None:
        p.write_text(text, encoding="utf-8")
        loaded = load_calibration(p)
        for name, v in fit.result.best_params.items():
            if not name.startswith(LEVER_PREFIX) and loaded.values[name] != v:
                raise RuntimeError(f"calibrated.toml does not read back {name} = {v!r}")

    results.atomic_write(files["calibrated"], write_checked)
    _write_text(files["report"], fit_report(fit, files))
    return files
