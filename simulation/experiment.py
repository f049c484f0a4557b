"""Batch experiments: a spec file (`experiments/*.toml`) run as (scenario, seed) pairs into one
Parquet dataset, on a local process pool or a dask cluster, resumably.

A spec names a place, a horizon, seeds and *arms* (a regime, optionally with lever and parameter
overrides); an optional `[sweep]` runs every arm at each value of each listed parameter, one
parameter at a time (scenario `ARM@PARAM=VALUE`). Runs are scenarios x seeds. Everything is
validated up front, every scenario built with `make_scenario`, before any run starts; bad input is
a one-line `ConfigError` naming the spec file, the field path and what was expected.

Output folder OUT (a contract other code reads; keep it exactly):

    OUT/monthly/scenario=<scenario>/seed=<S>.parquet   the run's month x district table (+ a `seed` column)
    OUT/cohorts/scenario=<scenario>/seed=<S>.parquet   the run's cohort table (+ a `seed` column)
    OUT/runs/scenario=<scenario>/seed=<S>.json         the run manifest, written last: marks a finished run
    OUT/failed/scenario=<scenario>/seed=<S>.json       a run that raised: error, message, traceback
    OUT/manifest.json                                  the experiment: resolved spec, runs and their status
    OUT/experiment.log                                 one line per event, with timestamps
    OUT/.lock                                          held while an experiment writes the folder

`OUT/monthly` is one hive-partitioned dataset: `pandas.read_parquet(OUT / "monthly")` gives every
run with a `scenario` column (from the folder names) and a `seed` column.

Test hooks (environment variables read by the worker function; for tests only):
`LABOURLAB_FAIL_RUN="SCENARIO:SEED[,SCENARIO:SEED...]"` makes those runs raise, and
`LABOURLAB_TEST_DELAY=SECONDS` sleeps before writing a run's tables and again before its manifest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import math
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from simulation import machine, results
from simulation.config import (
    MAX_SCALE,
    ConfigError,
    RegimeFile,
    Strict,
    _nearest,
    _validate,
    check_overrides,
    flatten_keys,
    load_calibration,
    load_place,
    load_regime,
    make_scenario,
    read_toml,
    set_lever,
)
from simulation.parameters import PARAMETERS

SPEC_VERSION = 1
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
NAME_RULE = "letters, digits, '_', '-' and '.', starting with a letter or digit"
FAIL_HOOK = "LABOURLAB_FAIL_RUN"
DELAY_HOOK = "LABOURLAB_TEST_DELAY"


# ------------------------------------------------------------------------------------ the spec
class ArmSpec(Strict):
    """One arm: a regime, with optional lever and calibration overrides."""

    regime: str = Field(min_length=1)
    levers: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, float] = Field(default_factory=dict)


class DesignSpec(Strict):
    """A sample of parameter sets for global sensitivity analysis (`labourlab sensitivity`): every
    arm is run at every point, on the same seeds, so arms are paired at each point."""

    method: Literal["morris", "sobol", "lhs"]
    samples: int = Field(ge=1, le=100_000)  # Morris trajectories; Sobol base sample N; LHS points
    levels: int = Field(default=4, ge=2, le=100)  # Morris grid levels
    seed: int = Field(default=0, ge=0)  # the sampler's seed (the runs' seeds are `seeds`)
    parameters: list[str] = Field(min_length=1)
    # Ranges to sample (default: each parameter's low-high in the calibration file).
    ranges: dict[str, list[float]] = Field(default_factory=dict)


class OutputSpec(Strict):
    """A model quantity a sensitivity analysis explains: a claims measure (analysis.claims.MEASURES)
    in one arm, or compared between two arms on the same seeds."""

    label: str = Field(min_length=1)
    measure: str = Field(min_length=1)
    how: Literal["level", "difference", "saving", "relative", "ratio", "per_difference"]
    arm: str = Field(min_length=1)
    versus: str | None = None
    per: str | None = None  # the denominator's measure for a per_difference (cost per additional job)
    # For ranking robustness: which way is better, and the value to beat (0: the arms' difference).
    better: Literal["higher", "lower"] | None = None
    threshold: float = Field(default=0.0, allow_inf_nan=False)


class SpecFile(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    place: str = Field(min_length=1)
    months: int = Field(default=60, ge=1, le=1200)
    burn_in: int = Field(default=24, ge=0, le=600)
    people_per_agent: float | None = Field(default=None, ge=1, le=MAX_SCALE)
    calibration: str | None = Field(default=None, min_length=1)
    seeds: Any
    baseline: str = Field(min_length=1)
    arms: dict[str, ArmSpec]
    sweep: dict[str, list[float]] = Field(default_factory=dict)
    design: DesignSpec | None = None
    outputs: dict[str, OutputSpec] = Field(default_factory=dict)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: Any) -> list[int]:
        return seed_list(v)


MAX_SEED_COUNT = 100_000  # seeds per scenario given as a count: more is surely a slip of the keyboard


def seed_list(v: Any) -> list[int]:
    """Seeds given as a count (seeds 1..n) or a list of distinct whole numbers >= 0."""
    if isinstance(v, int) and not isinstance(v, bool):
        if not 1 <= v <= MAX_SEED_COUNT:
            raise ValueError(f"expected a count of seeds from 1 to {MAX_SEED_COUNT:,} or a list of seeds, got {v}")
        return list(range(1, v + 1))
    if isinstance(v, list):
        if not v:
            raise ValueError("expected at least one seed, got an empty list")
        for i, s in enumerate(v):
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise ValueError(f"expected whole numbers >= 0, got {s!r} at position {i}")
        dup = sorted({s for s in v if v.count(s) > 1})
        if dup:
            raise ValueError(f"expected distinct seeds, got {', '.join(map(str, dup))} more than once")
        return list(v)
    raise ValueError(f"expected a count of seeds (seeds 1..n) or a list of whole numbers, got {v!r}")


@dataclass(frozen=True)
class ScenarioSpec:
    """One scenario: an arm, possibly at one swept parameter value."""

    name: str
    arm: str
    regime: str
    levers: dict[str, Any]
    params: dict[str, float]
    sweep: dict[str, float]
    place_name: str
    regime_name: str
    config_sha256: str
    point: int = -1  # index of the design point ([design]); -1 outside a design


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to run one (scenario, seed) and write its files (picklable)."""

    out: str
    experiment: str
    scenario: str
    arm: str
    seed: int
    place: str
    regime: str
    months: int
    burn_in: int
    people_per_agent: float
    params: dict[str, float]
    levers: dict[str, Any]
    config_sha256: str
    calibration: str | None = None


@dataclass
class Experiment:
    path: Path
    name: str
    description: str
    place: str
    months: int
    burn_in: int
    people_per_agent: float
    calibration: str | None
    seeds: list[int]
    baseline: str
    arms: dict[str, dict[str, Any]]
    sweep: dict[str, list[float]]
    scenarios: list[ScenarioSpec]
    design: dict[str, Any] | None = None  # resolved [design]: method, parameters, bounds, points
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resolved(self) -> dict[str, Any]:
        """The resolved spec: what determines the runs' results (plus the description)."""
        return {
            "name": self.name,
            "description": self.description,
            "place": self.place,
            "place_name": self.scenarios[0].place_name,
            "months": self.months,
            "burn_in": self.burn_in,
            "people_per_agent": self.people_per_agent,
            "calibration": self.calibration,
            "seeds": self.seeds,
            "baseline": self.baseline,
            "arms": self.arms,
            "sweep": self.sweep,
            **({"design": self.design, "outputs": self.outputs} if self.design else {}),
            "scenarios": {
                s.name: {
                    "arm": s.arm,
                    "regime": s.regime_name,
                    "levers": s.levers,
                    "params": s.params,
                    "sweep": s.sweep,
                    "config_sha256": s.config_sha256,
                }
                for s in self.scenarios
            },
        }

    def spec_sha256(self) -> str:
        # What the runs depend on: not the description, nor the outputs a sensitivity analysis
        # reads off them (those can change without re-running anything).
        data = {k: v for k, v in self.resolved().items() if k not in ("description", "outputs")}
        return _sha256(data)

    def tasks(self, out: Path) -> list[RunTask]:
        return [
            RunTask(
                out=str(out),
                experiment=self.name,
                scenario=s.name,
                arm=s.arm,
                seed=seed,
                place=self.place,
                regime=s.regime,
                months=self.months,
                burn_in=self.burn_in,
                people_per_agent=self.people_per_agent,
                params=s.params,
                levers=s.levers,
                config_sha256=s.config_sha256,
                calibration=self.calibration,
            )
            for s in self.scenarios
            for seed in self.seeds
        ]


def _sha256(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=results._jsonable)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _reference(value: str, spec_dir: Path) -> str:
    """A place or regime given as a path is taken relative to the spec file (else the working
    folder) and made absolute, so workers anywhere read the same file; a name is kept as it is."""
    if not (value.endswith(".toml") or "/" in value or os.sep in value):
        return value
    p = Path(value).expanduser()
    if not p.is_absolute() and (spec_dir / p).exists():
        p = spec_dir / p
    return str(p.resolve())


def format_value(v: float) -> str:
    """A swept value as it appears in a scenario name: 0.4 -> '0.4', 12.0 -> '12'."""
    f = float(v)
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return repr(f)


def load_experiment(path: Path | str) -> Experiment:
    """Read and validate a spec; build every scenario. Any problem is a one-line ConfigError."""
    path = Path(path)
    raw = read_toml(path)
    spec = _validate(SpecFile, raw, path)
    spec_dir = path.resolve().parent

    def err(field: str, expected: str) -> ConfigError:
        return ConfigError(path, field, expected)

    if not NAME_RE.fullmatch(spec.name):
        raise err("name", f"expected a name of {NAME_RULE} (it names the output folder), got {spec.name!r}")
    if not spec.arms:
        raise err("arms", "expected at least one arm ([arms.NAME] with a regime)")
    for arm in spec.arms:
        if not NAME_RE.fullmatch(arm):
            raise err(f"arms.{arm}", f"expected an arm name of {NAME_RULE}")
    if spec.baseline not in spec.arms:
        raise err(
            "baseline",
            f"expected one of the arms ({', '.join(spec.arms)}), got {spec.baseline!r}"
            f"{_nearest(spec.baseline, spec.arms)}",
        )

    place = _reference(spec.place, spec_dir)
    try:
        place_cfg = load_place(place)
    except ConfigError as e:
        raise err("place", str(e)) from None
    calibration = None
    if spec.calibration is not None:  # a fitted parameter file (labourlab calibrate) or another calibration
        calibration = str(Path(_reference(spec.calibration, spec_dir)).resolve())
        try:
            load_calibration(Path(calibration))
        except ConfigError as e:
            raise err("calibration", str(e)) from None

    # Arms: regime, levers (validated one at a time, so an error names the lever), parameters.
    arms: dict[str, dict[str, Any]] = {}
    for arm, a in spec.arms.items():
        regime = _reference(a.regime, spec_dir)
        try:
            regime_cfg = load_regime(regime)
        except ConfigError as e:
            raise err(f"arms.{arm}.regime", str(e)) from None
        levers = flatten_keys(a.levers)
        data = regime_cfg.model_dump()
        for key, value in levers.items():
            try:
                set_lever(data["levers"], key, value)
                _validate(RegimeFile, data, Path("lever overrides"))
            except ConfigError as e:
                raise err(f"arms.{arm}.levers.{key}", e.expected) from None
        for name, value in a.params.items():
            try:
                check_overrides({name: value}, "params")
            except ConfigError as e:
                raise err(f"arms.{arm}.params.{name}", e.expected) from None
        arms[arm] = {"regime": regime, "levers": levers, "params": dict(a.params)}

    # Sweep: known parameters, values inside their domains, not also set by an arm.
    sweep: dict[str, list[float]] = {}
    for name, values in spec.sweep.items():
        if name not in PARAMETERS:
            raise err(f"sweep.{name}", f"unknown parameter{_nearest(name, PARAMETERS)}")
        if not values:
            raise err(f"sweep.{name}", "expected a non-empty list of values")
        for i, v in enumerate(values):
            try:
                check_overrides({name: v}, "sweep")
            except ConfigError as e:
                raise err(f"sweep.{name}[{i}]", e.expected) from None
        shown = [format_value(v) for v in values]
        dup = sorted({s for s in shown if shown.count(s) > 1})
        if dup:
            raise err(f"sweep.{name}", f"expected distinct values, got {', '.join(dup)} more than once")
        for arm, a in arms.items():
            if name in a["params"]:
                raise err(f"sweep.{name}", f"also set in arms.{arm}.params; set it in one place")
        sweep[name] = [float(v) for v in values]

    design = _design(spec, arms, calibration, err) if spec.design is not None else None
    outputs = _outputs(spec, arms, err)

    # Scenarios: arms, or arms x each value of each swept parameter (one parameter at a time), or
    # arms x each point of a design.
    points: list[tuple[str, dict[str, float], str]] = [("", {}, "")]
    if design is not None:
        names = design["parameters"]
        points = [
            (f"@p{i:04d}", dict(zip(names, row, strict=True)), f"design point {i}")
            for i, row in enumerate(design["points"])
        ]
    elif sweep:
        points = [
            (f"@{n}={format_value(v)}", {n: v}, f"sweep.{n}[{i}]")
            for n, vals in sweep.items()
            for i, v in enumerate(vals)
        ]
    scenarios: list[ScenarioSpec] = []
    for arm, a in arms.items():
        for suffix, point, where in points:
            params = {**a["params"], **point}
            try:
                sc = make_scenario(
                    place,
                    a["regime"],
                    months=spec.months,
                    burn_in=spec.burn_in,
                    people_per_agent=spec.people_per_agent,
                    calibration=Path(calibration) if calibration else None,
                    overrides=params,
                    lever_overrides=a["levers"],
                )
            except ConfigError as e:
                raise err(where or f"arms.{arm}", str(e)) from None
            scenarios.append(
                ScenarioSpec(
                    name=arm + suffix,
                    arm=arm,
                    regime=a["regime"],
                    levers=a["levers"],
                    params=params,
                    sweep=point,
                    place_name=sc.place.name,
                    regime_name=sc.regime.name,
                    config_sha256=_sha256(sc.resolved()),
                    point=int(suffix[2:]) if design is not None else -1,
                )
            )
    return Experiment(
        path=path.resolve(),
        name=spec.name,
        description=spec.description,
        place=place,
        months=spec.months,
        burn_in=spec.burn_in,
        people_per_agent=float(spec.people_per_agent or place_cfg.people_per_agent),
        calibration=calibration,
        seeds=spec.seeds,
        baseline=spec.baseline,
        arms=arms,
        sweep=sweep,
        scenarios=scenarios,
        design=design,
        outputs=outputs,
    )


def _design(spec: SpecFile, arms: dict[str, dict[str, Any]], calibration: str | None, err: Any) -> dict[str, Any]:
    """Validate [design] and draw its points (SALib) over each parameter's calibration range."""
    from simulation.designs import sample

    d = spec.design
    assert d is not None
    if spec.sweep:
        raise err("design", "expected either [sweep] or [design], not both")
    cal = load_calibration(Path(calibration) if calibration else None)
    seen: set[str] = set()
    bounds: list[tuple[float, float]] = []
    for i, name in enumerate(d.parameters):
        if name not in PARAMETERS:
            raise err(f"design.parameters[{i}]", f"unknown parameter{_nearest(name, PARAMETERS)}")
        if name in seen:
            raise err(f"design.parameters[{i}]", f"expected distinct parameters, got {name!r} twice")
        seen.add(name)
        for arm, a in arms.items():
            if name in a["params"]:
                raise err(f"design.parameters[{i}]", f"{name} is also set in arms.{arm}.params; set it in one place")
        rec = cal.records[name]
        given = d.ranges.get(name, [rec.low, rec.high])
        if len(given) != 2:
            raise err(f"design.ranges.{name}", f"expected [low, high], got {len(given)} numbers")
        lo, hi = given
        dom = PARAMETERS[name].domain
        if not (math.isfinite(lo) and math.isfinite(hi) and dom[0] <= lo < hi <= dom[1]):
            where = f"design.ranges.{name}" if name in d.ranges else f"design.parameters[{i}]"
            raise err(
                where,
                f"expected a range low < high inside [{dom[0]}, {dom[1]}], got [{lo}, {hi}]"
                + ("" if name in d.ranges else " (from the calibration file; a fixed parameter cannot be varied)"),
            )
        bounds.append((float(lo), float(hi)))
    for name in d.ranges:
        if name not in seen:
            raise err(
                f"design.ranges.{name}", f"expected a parameter listed in design.parameters{_nearest(name, seen)}"
            )
    if d.method == "sobol" and d.samples & (d.samples - 1):
        raise err("design.samples", f"expected a power of two for a Sobol sample (8, 16, 32, ...), got {d.samples}")
    if d.method == "morris" and len(d.parameters) < 2:
        raise err("design.parameters", "expected at least two parameters for Morris screening")
    points = sample(d.method, list(d.parameters), bounds, d.samples, d.levels, d.seed)
    return {
        "method": d.method,
        "samples": d.samples,
        "levels": d.levels,
        "seed": d.seed,
        "parameters": list(d.parameters),
        "bounds": [list(b) for b in bounds],
        "points": points.tolist(),
    }


def _outputs(spec: SpecFile, arms: dict[str, dict[str, Any]], err: Any) -> dict[str, dict[str, Any]]:
    """Validate [outputs.*]: known measures, arms that exist, a second arm where one is needed."""
    from simulation.analysis.claims import MEASURES

    out: dict[str, dict[str, Any]] = {}
    for key, o in spec.outputs.items():
        if not NAME_RE.fullmatch(key):
            raise err(f"outputs.{key}", f"expected a name of {NAME_RULE}")
        for attr in ("measure", "per"):
            m = getattr(o, attr)
            if m is not None and m not in MEASURES:
                raise err(
                    f"outputs.{key}.{attr}", f"unknown measure{_nearest(m, MEASURES)}; known: {', '.join(MEASURES)}"
                )
        for attr in ("arm", "versus"):
            a = getattr(o, attr)
            if a is not None and a not in arms:
                raise err(f"outputs.{key}.{attr}", f"expected one of the arms ({', '.join(arms)}){_nearest(a, arms)}")
        if o.how != "level" and o.versus is None:
            raise err(f"outputs.{key}.versus", f"expected the arm to compare with (how = {o.how!r})")
        if (o.how == "per_difference") != (o.per is not None):
            raise err(
                f"outputs.{key}.per", "expected 'per' (the denominator's measure) exactly when how = 'per_difference'"
            )
        out[key] = o.model_dump()
    return out


# -------------------------------------------------------------------------------- the layout
@dataclass(frozen=True)
class RunPaths:
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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_event(out: Path | str, event: str, **fields: Any) -> None:
    """Append one line to OUT/experiment.log (a single O_APPEND write, so lines never interleave)."""
    parts = [_now(), event, *(f"{k}={v}" for k, v in fields.items())]
    line = (" ".join(parts).replace("\n", " ") + "\n").encode("utf-8")
    fd = os.open(Path(out) / "experiment.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- the worker
def _test_hooks(task: RunTask) -> float:
    wanted = {w.strip() for w in os.environ.get(FAIL_HOOK, "").split(",") if w.strip()}
    if f"{task.scenario}:{task.seed}" in wanted:
        raise RuntimeError(f"{FAIL_HOOK} test hook: run {task.scenario} seed {task.seed} made to fail")
    try:
        return max(0.0, float(os.environ.get(DELAY_HOOK, "0") or 0))
    except ValueError:
        return 0.0


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run one (scenario, seed) and write its files: both tables, then the run manifest.

    A pure function of the task, whatever process or machine runs it. A run that raises is
    recorded in OUT/failed/ (type, message, traceback) and reported, not raised, so the other
    runs go on; a later success removes the record.
    """
    from simulation.runner import simulate

    paths = run_paths(task.out, task.scenario, task.seed)
    host, pid = socket.gethostname(), os.getpid()
    with contextlib.suppress(OSError):  # the log is a diary: a full disk shows up in the run's own files
        log_event(task.out, "started", scenario=task.scenario, seed=task.seed, host=host, pid=pid)
    t0 = time.perf_counter()
    try:
        delay = _test_hooks(task)
        sc = make_scenario(
            task.place,
            task.regime,
            months=task.months,
            burn_in=task.burn_in,
            people_per_agent=task.people_per_agent,
            calibration=Path(task.calibration) if task.calibration else None,
            overrides=task.params,
            lever_overrides=task.levers,
        )
        config = sc.resolved()
        if _sha256(config) != task.config_sha256:
            raise RuntimeError(
                f"the scenario built on {host} differs from the one validated by the experiment "
                "(different configs/ or code on this worker?)"
            )
        sim = simulate(sc, task.seed)
        monthly, cohorts = sim.monthly, sim.cohorts
        wall = time.perf_counter() - t0
        monthly.insert(0, "seed", task.seed)
        cohorts.insert(0, "seed", task.seed)
        time.sleep(delay)
        results.write_parquet(monthly, paths.monthly)
        results.write_parquet(cohorts, paths.cohorts)
        time.sleep(delay)
        man = results.manifest(
            config,
            task.seed,
            wall,
            {
                "kind": "experiment-run",
                "experiment": task.experiment,
                "scenario": task.scenario,
                "arm": task.arm,
                "config_sha256": task.config_sha256,
                "code_sha256": code_sha256(),
                "districts": sim.districts,
                "people_rows": sim.people_rows,
                "firm_rows": sim.firm_rows,
                "host": host,
                "pid": pid,
            },
        )
        results.write_json(man, paths.manifest)  # last: its presence marks the run finished
        paths.failed.unlink(missing_ok=True)
        return {
            "status": "done",
            "wall_seconds": round(wall, 3),
            "host": host,
            "pid": pid,
            "git_commit": man["git_commit"],
            "code_sha256": man["code_sha256"],
        }
    except Exception as e:
        record = failure_record(task, e, time.perf_counter() - t0, host, pid)
        failed: dict[str, Any] = {"status": "failed", "error": f"{type(e).__name__}: {e}", "host": host, "pid": pid}
        if (where := output_error(e, task.out)) is not None:
            failed["output_error"] = where  # the folder cannot take more files: the driver stops
        try:
            results.write_json(record, paths.failed)
        except OSError:
            if "output_error" not in failed:
                raise
        return failed


# Errors that say the output folder cannot take more files (full, over quota, read-only, not ours):
# every later run would fail the same way, so the experiment stops and says so.
OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


def output_error(e: BaseException, out: Path | str) -> dict[str, Any] | None:
    """The errno, reason and file of a write into OUT that failed for lack of space or permission."""
    if isinstance(e, OSError) and e.errno in OUTPUT_ERRNOS and str(e.filename or "").startswith(str(out)):
        return {"errno": e.errno, "strerror": e.strerror, "filename": str(e.filename)}
    return None


def failure_record(task: RunTask, e: BaseException, wall: float, host: str, pid: int | None) -> dict[str, Any]:
    return {
        "scenario": task.scenario,
        "arm": task.arm,
        "seed": task.seed,
        "error_type": type(e).__name__,
        "message": str(e),
        "traceback": "".join(traceback.format_exception(e)),
        "time": _now(),
        "wall_seconds": round(wall, 3),
        "host": host,
        "pid": pid,
    }


# ------------------------------------------------------------------------------- the lock
class FolderLock:
    """OUT/.lock, created with O_CREAT|O_EXCL and holding our pid: one experiment per folder.
    A lock left by a dead process on this host (killed, crashed) is taken over."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = out / ".lock"
        self.held = False

    def _read(self, path: Path | None = None) -> dict[str, Any] | None:
        try:
            data = json.loads((path or self.path).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None
        except (OSError, ValueError):
            return None

    @staticmethod
    def _alive(holder: dict[str, Any]) -> bool:
        if holder.get("host") != socket.gethostname():
            return True  # cannot tell; assume it is running
        pid = holder["pid"]
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        try:  # a zombie (killed, not yet reaped) is dead
            stat = Path(f"/proc/{pid}/stat").read_text()
            return stat.rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return True

    def acquire(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now(), "command": sys.argv}
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = None
                for _ in range(20):  # its creator may not have written it yet
                    holder = self._read()
                    if holder is not None:
                        break
                    time.sleep(0.05)
                if holder is None:
                    try:
                        age = time.time() - self.path.stat().st_mtime
                    except FileNotFoundError:
                        continue
                    if age < 10:
                        raise self._refused("another experiment (just starting)") from None
                    holder = {"pid": -1, "host": socket.gethostname()}  # unreadable and old: stale
                elif self._alive(holder):
                    raise self._refused(
                        f"another experiment (pid {holder['pid']} on {holder.get('host')}, "
                        f"since {holder.get('started', '?')})"
                    ) from None
                # Stale: move it aside atomically, check we moved the lock we judged, then retry.
                aside = self.path.with_name(f".lock.stale.{os.getpid()}")
                try:
                    os.rename(self.path, aside)
                except FileNotFoundError:
                    continue
                moved = self._read(aside)
                if moved is not None and moved.get("pid") != holder["pid"]:
                    with contextlib.suppress(FileExistsError):  # someone else took it over meanwhile: give it back
                        os.link(aside, self.path)
                    aside.unlink(missing_ok=True)
                    raise self._refused(f"another experiment (pid {moved['pid']})") from None
                aside.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(me))
            self.held = True
            return
        raise self._refused("another experiment")

    def _refused(self, who: str) -> ConfigError:
        return ConfigError(
            self.out,
            "",
            f"{who} is writing this folder; wait for it to finish or choose another --out "
            f"(if none is running, remove {self.path})",
        )

    def release(self) -> None:
        if not self.held:
            return
        holder = self._read()
        if holder is not None and holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False


# ------------------------------------------------------------------------------ the driver
@dataclass
class Outcome:
    out: Path
    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    status: str = "running"
    executor: str = ""
    wall_seconds: float = 0.0
    by_scenario: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[tuple[RunTask, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def _check_folder(exp: Experiment, out: Path) -> dict[str, Any] | None:
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


def _clean_temp_files(out: Path) -> int:
    n = 0
    for sub in ("monthly", "cohorts", "runs", "failed"):
        for p in (out / sub).glob("scenario=*/.*.tmp"):
            p.unlink(missing_ok=True)
            n += 1
    for p in out.glob(".*.tmp"):
        p.unlink(missing_ok=True)
        n += 1
    return n


def _experiment_manifest(
    exp: Experiment,
    tasks: list[RunTask],
    old: dict[str, Any] | None,
    session: dict[str, Any],
    ran: dict[tuple[str, int], dict[str, Any]],
    out: Path,
) -> dict[str, Any]:
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


def _sigterm_as_interrupt() -> Any:
    """Let SIGTERM unwind like Ctrl-C (so the lock is released and the manifest written)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, handler)


def run_experiment(
    exp: Experiment,
    out: Path,
    executor: Any,
    progress: Callable[[Outcome, RunTask | None], None] | None = None,
) -> Outcome:
    """Run every (scenario, seed) without a run manifest in OUT on `executor`; record the rest.

    `executor` is an executor, or a function making one: it is then made only once the folder is
    locked and checked, and closed at the end. `progress(outcome, task)` is called once before the
    first run (task None) and after each run finishes (the command line draws a bar).
    """
    out = out.resolve()
    lock = FolderLock(out)
    lock.acquire()
    previous = _sigterm_as_interrupt()
    t0 = time.perf_counter()
    owned = callable(executor) and not hasattr(executor, "run")
    try:
        old = _check_folder(exp, out)
        cleaned = _clean_temp_files(out)
        tasks = exp.tasks(out)
        todo = [t for t in tasks if not run_paths(out, t.scenario, t.seed).finished()]
        if owned:
            executor = executor()
            if hasattr(executor, "start"):
                executor.start()  # before the progress bar's thread: a local pool can then fork
        result = Outcome(out=out, total=len(tasks), skipped=len(tasks) - len(todo), executor=executor.label())
        result.by_scenario = {s.name: {"finished": 0, "failed": 0, "missing": 0} for s in exp.scenarios}
        commit = results.git_commit()
        session = {
            "started": _now(),
            "status": "running",
            "executor": executor.describe(),
            "git_commit": commit,
            "code_sha256": code_sha256(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "machine": machine.describe(),  # each run's own manifest records its worker's
            "to_run": len(todo),
            "skipped_finished": result.skipped,
        }
        ran: dict[tuple[str, int], dict[str, Any]] = {}
        results.write_json(_experiment_manifest(exp, tasks, old, session, ran, out), out / "manifest.json")
        log_event(
            out,
            "experiment-started",
            name=exp.name,
            runs=len(tasks),
            to_run=len(todo),
            executor=session["executor"]["kind"],
            pid=os.getpid(),
            git=commit,
            temp_files_removed=cleaned,
        )
        if old is not None and result.skipped and old.get("code_sha256") not in (None, code_sha256()):
            note = (
                f"the model code changed since the earlier session(s) ({old.get('git_commit')} -> {commit}); "
                f"the {result.skipped} finished runs are kept, not recomputed: use a new --out to recompute them"
            )
            result.notes.append(note)
            log_event(out, "note", message=note)
        pending = {(t.scenario, t.seed) for t in todo}
        for t in tasks:
            if (t.scenario, t.seed) not in pending:
                log_event(out, "skipped-finished", scenario=t.scenario, seed=t.seed)
        if progress is not None:
            progress(result, None)
        try:
            for task, res, exc in executor.run(execute_run, todo):
                if exc is not None:  # the worker itself died or could not run the function
                    record = failure_record(task, exc, 0.0, "?", None)
                    res = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                    if (where := output_error(exc, out)) is not None:
                        res["output_error"] = where
                    with contextlib.suppress(OSError):  # a full disk is reported just below
                        results.write_json(record, run_paths(out, task.scenario, task.seed).failed)
                if res.get("output_error"):  # stop: every further run would fail to write too
                    oe = res["output_error"]
                    log_event(out, "output-error", scenario=task.scenario, seed=task.seed, error=oe["strerror"])
                    raise OSError(oe["errno"], oe["strerror"], oe["filename"])
                if res["status"] == "done":
                    result.done += 1
                    ran[(task.scenario, task.seed)] = {"wall_seconds": res["wall_seconds"], "host": res["host"]}
                    log_event(out, "done", scenario=task.scenario, seed=task.seed, wall_s=res["wall_seconds"])
                    if res.get("code_sha256") not in (None, code_sha256()):
                        note = f"worker {res['host']} ran different model code ({res['git_commit']})"
                        if note not in result.notes:
                            result.notes.append(note)
                            log_event(out, "note", message=note)
                else:
                    result.failed += 1
                    result.failures.append((task, res["error"]))
                    log_event(out, "failed", scenario=task.scenario, seed=task.seed, error=res["error"][:300])
                if progress is not None:
                    progress(result, task)
            result.status = "failed" if result.failed else "finished"
        except BaseException as e:
            result.status = "interrupted" if isinstance(e, KeyboardInterrupt) else "error"
            executor.close()
            raise
        finally:
            result.wall_seconds = time.perf_counter() - t0
            session.update(status=result.status, finished=_now(), wall_seconds=round(result.wall_seconds, 3))
            session.update(ran=result.done, failed=result.failed)
            try:
                man = _experiment_manifest(exp, tasks, old, session, ran, out)
                results.write_json(man, out / "manifest.json")
                for entry in man["runs"]:
                    result.by_scenario[entry["scenario"]][entry["status"]] += 1
                log_event(
                    out,
                    f"experiment-{result.status}",
                    done=result.done,
                    failed=result.failed,
                    skipped=result.skipped,
                    wall_s=round(result.wall_seconds, 1),
                )
            except OSError:
                # With an error or interrupt already on its way out (a full disk, say), keep that one:
                # the earlier manifest.json stays whole, and the runs' own files say what finished.
                if result.status in ("finished", "failed"):
                    raise
        return result
    finally:
        if owned and hasattr(executor, "run"):
            executor.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        lock.release()
