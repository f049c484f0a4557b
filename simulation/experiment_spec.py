"""An experiment spec file (`experiments/*.toml`) read and checked: what it may say, and every
field validated against the configs it names, before anything is expanded into runs.

A spec names a place, a horizon, seeds and *arms* (a regime, optionally with lever and parameter
overrides); an optional `[sweep]` of parameter values or `[design]` of sampled parameter sets, and
the `[outputs]` a sensitivity analysis explains. `check_spec` returns it checked (`CheckedSpec`);
`simulation.experiment_plan` expands that into scenarios and runs. Bad input is a one-line
`ConfigError` naming the spec file, the field path and what was expected.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

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
    read_toml,
    set_lever,
)
from simulation.economy import load_economy
from simulation.parameters import PARAMETERS

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
NAME_RULE = "letters, digits, '_', '-' and '.', starting with a letter or digit"


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
    lead_in: int = Field(default=24, ge=0, le=600)  # unmeasured policy months before month 0
    people_per_agent: float | None = Field(default=None, ge=1, le=MAX_SCALE)
    calibration: str | None = Field(default=None, min_length=1)
    seeds: Any
    baseline: str = Field(min_length=1)
    arms: dict[str, ArmSpec]
    sweep: dict[str, list[float]] = Field(default_factory=dict)
    design: DesignSpec | None = None
    outputs: dict[str, OutputSpec] = Field(default_factory=dict)
    # Macroeconomic scenarios (configs/scenarios/<name>.toml or paths) crossed with the arms, the
    # EMA Workbench's scenarios x policies: every (arm, economy) cell on the same seeds. Empty:
    # the steady economy, and scenario names as before.
    economies: list[str] = Field(default_factory=list)

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


@dataclass(frozen=True)
class CheckedSpec:
    """A spec whose every field is valid: places, regimes and the calibration resolved (a path made
    absolute, so workers anywhere read the same file), levers flattened, a design's points drawn."""

    path: Path  # the spec file as given (errors name it so)
    spec: SpecFile
    place: str
    people_per_agent: float  # the spec's, else the place file's
    calibration: str | None
    arms: dict[str, dict[str, Any]]  # arm -> regime, levers, params
    sweep: dict[str, list[float]]
    design: dict[str, Any] | None  # method, parameters, bounds, points
    outputs: dict[str, dict[str, Any]]
    economies: list[str]  # names or absolute paths; [] = steady


@contextlib.contextmanager
def reraise_as(path: Path, field: str, whole: bool = False) -> Iterator[None]:
    """A ConfigError from a nested check, raised again as one naming the spec file and `field`:
    with the nested error's whole text (a place or regime file's own error: which file, which
    field) when `whole`, else only what it expected (the spec's field is the one that was wrong)."""
    try:
        yield
    except ConfigError as e:
        raise ConfigError(path, field, str(e) if whole else e.expected) from None


def check_spec(path: Path | str) -> CheckedSpec:
    """Read and validate a spec file against the configs it names. Any problem is a one-line ConfigError."""
    path = Path(path)
    spec = _validate(SpecFile, read_toml(path), path)
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
    with reraise_as(path, "place", whole=True):
        place_cfg = load_place(place)
    calibration = None
    if spec.calibration is not None:  # a fitted parameter file (labourlab calibrate) or another calibration
        calibration = str(Path(_reference(spec.calibration, spec_dir)).resolve())
        with reraise_as(path, "calibration", whole=True):
            load_calibration(Path(calibration))

    # Arms: regime, levers (validated one at a time, so an error names the lever), parameters.
    arms: dict[str, dict[str, Any]] = {}
    for arm, a in spec.arms.items():
        regime = _reference(a.regime, spec_dir)
        with reraise_as(path, f"arms.{arm}.regime", whole=True):
            regime_cfg = load_regime(regime)
        levers = flatten_keys(a.levers)
        data = regime_cfg.model_dump()
        for key, value in levers.items():
            with reraise_as(path, f"arms.{arm}.levers.{key}"):
                set_lever(data["levers"], key, value)
                _validate(RegimeFile, data, Path("lever overrides"))
        for name, value in a.params.items():
            with reraise_as(path, f"arms.{arm}.params.{name}"):
                check_overrides({name: value}, "params")
        arms[arm] = {"regime": regime, "levers": levers, "params": dict(a.params)}

    # Sweep: known parameters, values inside their domains, not also set by an arm.
    sweep: dict[str, list[float]] = {}
    for name, values in spec.sweep.items():
        if name not in PARAMETERS:
            raise err(f"sweep.{name}", f"unknown parameter{_nearest(name, PARAMETERS)}")
        if not values:
            raise err(f"sweep.{name}", "expected a non-empty list of values")
        for i, v in enumerate(values):
            with reraise_as(path, f"sweep.{name}[{i}]"):
                check_overrides({name: v}, "sweep")
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
    economies: list[str] = []
    for i, e in enumerate(spec.economies):
        ref = _reference(e, spec_dir)
        with reraise_as(path, f"economies[{i}]", whole=True):
            load_economy(ref)
        if ref in economies:
            raise err(f"economies[{i}]", f"expected distinct scenarios, got {e!r} twice")
        economies.append(ref)
    return CheckedSpec(
        path=path,
        spec=spec,
        place=place,
        people_per_agent=float(spec.people_per_agent or place_cfg.people_per_agent),
        calibration=calibration,
        arms=arms,
        sweep=sweep,
        design=design,
        outputs=outputs,
        economies=economies,
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
    from simulation.measures import MEASURES

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
