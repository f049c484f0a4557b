"""The calibration spec of `labourlab calibrate`: reading and validating `experiments/calibrate_*.toml`.

A calibration spec names a place, a horizon, the parameters to fit (each within the range its evidence
allows in the calibration file, never wider), the observed targets to fit them to
(`configs/targets.toml`: flows into and out of work, unemployment and long-term unemployment, the
duration gradient of job finding, business survival, unemployed per vacancy, the Work Programme's
two-year outcome rate), the replicate seeds each trial runs on, and fresh check seeds on which the
hand-set and fitted values are finally compared.

`load_spec` resolves it (files absolute, seeds listed, every scenario built once) or raises a
one-line ConfigError naming the field. The Work Programme's outcome rates by claimant group are
refused as targets: `labourlab validate` checks them, and what calibration fits is never what
validation checks (`validate_spec.load_checks` refuses the other direction).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from simulation.analysis.targets import TARGETS_FILE, Target, load_targets
from simulation.config import (
    CONFIGS,
    ConfigError,
    Params,
    Strict,
    _nearest,
    _validate,
    get_lever,
    load_calibration,
    load_place,
    load_regime,
    make_scenario,
    read_toml,
)
from simulation.experiment_spec import _reference, seed_list
from simulation.outcomes import FOLLOW_UP_MONTHS
from simulation.parameters import PARAMETERS

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
HELD_BACK = "outcome_rate_"  # Work Programme outcome rates by claimant group: kept for validation, never fitted
MIN_PROGRAMME_MONTHS = FOLLOW_UP_MONTHS + 12  # a year of referral cohorts, each followed for two years


class ParamRange(Strict):
    """The range a parameter is searched over; each end defaults to the calibration file's."""

    low: float | None = None
    high: float | None = None


class SiteFile(Strict):
    """One place a multi-place calibration runs, and the people each of its rows stands for."""

    place: str = Field(min_length=1)
    people_per_agent: float | None = Field(default=None, ge=1)


class CalibrateSpecFile(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    place: str | None = Field(default=None, min_length=1)
    places: list[SiteFile] | None = Field(default=None, min_length=1)
    months: int = Field(default=60, ge=1, le=1200)
    burn_in: int = Field(default=24, ge=0, le=600)
    lead_in: int = Field(default=24, ge=0, le=600)  # unmeasured policy months before month 0
    people_per_agent: float | None = Field(default=None, ge=1)
    seeds: Any = Field(description="replicate seeds of every trial: a count (1..n) or a list")
    check_seeds: Any = Field(
        description="fresh seeds for the final comparison: a count (after the trial seeds) or a list"
    )
    trials: int = Field(ge=1, le=100_000)
    sampler_seed: int = Field(default=0, ge=0)
    startup_trials: int | None = Field(default=None, ge=1)
    baseline_regime: str = Field(default="no_programme", min_length=1)
    programme_regime: str = Field(default="centralised", min_length=1)
    targets_file: str | None = Field(default=None, min_length=1)
    targets: list[str] | None = None
    calibration: str | None = Field(default=None, min_length=1)
    parameters: dict[str, ParamRange] = Field(min_length=1)
    # Levers of the programme arm's regime fitted with the parameters (dotted names as in an
    # experiment's lever overrides, e.g. "groups.esa_new.referral_share"): who the programme refers.
    levers: dict[str, ParamRange] = Field(default_factory=dict)
    # A target's weight in the loss (default 1), in every place: the weighted method of simulated
    # moments, for targets the comparison leans on more than on others.
    weights: dict[str, float] = Field(default_factory=dict)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: Any) -> list[int]:
        return seed_list(v)

    @field_validator("check_seeds")
    @classmethod
    def _check_seeds(cls, v: Any) -> Any:
        # A count is turned into seeds after the trial seeds once both are known (in load_spec).
        if isinstance(v, int) and not isinstance(v, bool):
            if v < 2:
                raise ValueError(f"expected at least 2 check seeds (for an interval), got {v}")
            return v
        seeds = seed_list(v)
        if len(seeds) < 2:
            raise ValueError("expected at least 2 check seeds (for an interval)")
        return seeds


LEVER_PREFIX = "levers."  # a fitted lever's name: "levers." + its dotted lever name


@dataclass(frozen=True)
class FitParam:
    """A parameter (or a programme lever) being fitted: its search range and the hand-set value and
    range it came from (a lever's range is the spec's: levers are design, not evidence records)."""

    name: str
    low: float
    high: float
    handset: float
    record_low: float
    record_high: float
    lever: bool = False

    @property
    def lever_key(self) -> str:
        return self.name.removeprefix(LEVER_PREFIX)


@dataclass(frozen=True)
class Site:
    """A place the calibration runs, with its own targets (its own unemployment rate)."""

    place: str  # name or absolute path, as make_scenario takes it
    name: str
    people_per_agent: float | None
    targets: dict[str, Target]

    def text(self) -> str:
        return self.name + (f" at {self.people_per_agent:g} people per row" if self.people_per_agent else "")


@dataclass
class CalibrationSpec:
    """A validated calibration spec with everything resolved (paths absolute, seeds listed)."""

    path: Path
    name: str
    description: str
    sites: list[Site]
    months: int
    burn_in: int
    lead_in: int
    seeds: list[int]
    check_seeds: list[int]
    trials: int
    sampler_seed: int
    startup_trials: int
    baseline_regime: str
    programme_regime: str
    targets_file: Path
    # Every (place, target) pair fitted, by label: the target's key with one place, "place: key" with several.
    targets: dict[str, Target]
    target_of: dict[str, tuple[str, str]]  # label -> (site name, model quantity)
    weights: dict[str, float]  # by model quantity; absent = 1
    calibration: Path
    base: Params
    parameters: list[FitParam]
    spec_sha256: str

    @property
    def place_name(self) -> str:
        return ", ".join(s.name for s in self.sites)

    @property
    def programme_regime_name(self) -> str:
        return Path(self.programme_regime).stem

    @property
    def needs_programme(self) -> bool:
        return any(t.arm == "programme" for t in self.targets.values())

    def weight(self, label: str) -> float:
        return self.weights.get(self.target_of[label][1], 1.0)

    def handset(self) -> dict[str, float]:
        return {p.name: p.handset for p in self.parameters}

    def resolved(self) -> dict[str, Any]:
        """The spec as plain data: what determines the trials and the fit."""
        return {
            "name": self.name,
            "description": self.description,
            "places": [{"place": s.place, "name": s.name, "people_per_agent": s.people_per_agent} for s in self.sites],
            "months": self.months,
            "burn_in": self.burn_in,
            "lead_in": self.lead_in,
            "seeds": self.seeds,
            "check_seeds": self.check_seeds,
            "trials": self.trials,
            "sampler": "optuna.samplers.TPESampler(multivariate=True)",
            "sampler_seed": self.sampler_seed,
            "startup_trials": self.startup_trials,
            "baseline_regime": self.baseline_regime,
            "programme_regime": self.programme_regime if self.needs_programme else None,
            "targets_file": str(self.targets_file),
            "targets": list(self.targets),
            "weights": dict(self.weights),
            "calibration": str(self.calibration),
            "parameters": {
                p.name: {"low": p.low, "high": p.high, "handset": p.handset} for p in self.parameters if not p.lever
            },
            "levers": {
                p.lever_key: {"low": p.low, "high": p.high, "handset": p.handset} for p in self.parameters if p.lever
            },
        }


def load_spec(path: Path | str, trials: int | None = None) -> CalibrationSpec:
    """Read and validate a calibration spec; any problem is a one-line ConfigError naming the field.
    `trials` (from the command line) replaces the spec's number of trials."""
    path = Path(path)
    raw = read_toml(path)
    spec = _validate(CalibrateSpecFile, raw, path)
    spec_dir = path.resolve().parent

    def err(where: str, expected: str) -> ConfigError:
        return ConfigError(path, where, expected)

    if not NAME_RE.fullmatch(spec.name):
        raise err("name", f"expected letters, digits, '_', '-' and '.' (it names the output folder), got {spec.name!r}")
    if trials is not None and trials < 1:
        raise ConfigError("command line", "--trials", f"expected at least 1, got {trials}")
    n_trials = trials or spec.trials

    if (spec.place is None) == (spec.places is None):
        raise err("place", "expected either place (one place) or places (a list of tables), not both or neither")
    site_files = [SiteFile(place=spec.place, people_per_agent=spec.people_per_agent)] if spec.place else spec.places
    assert site_files is not None
    if spec.places is not None and spec.people_per_agent is not None:
        raise err("people_per_agent", "expected it inside each [[places]] table when places is given")
    resolved_sites: list[tuple[str, str, Any, SiteFile]] = []
    for i, sf in enumerate(site_files):
        where = "place" if spec.place else f"places[{i}].place"
        place = _reference(sf.place, spec_dir)
        try:
            place_cfg = load_place(place)
        except ConfigError as e:
            raise err(where, str(e)) from None
        if any(r[1] == place_cfg.name for r in resolved_sites):
            raise err(where, f"expected each place once, got {place_cfg.name!r} twice")
        resolved_sites.append((where, place, place_cfg, sf))

    calibration = Path(_reference(spec.calibration, spec_dir) if spec.calibration else CONFIGS / "calibration.toml")
    try:
        base = load_calibration(calibration)
    except ConfigError as e:
        raise err("calibration", str(e)) from None

    targets_file = Path(_reference(spec.targets_file, spec_dir) if spec.targets_file else TARGETS_FILE)
    try:
        per_site = [load_targets(targets_file, place=r[2]) for r in resolved_sites]
    except ConfigError as e:
        raise err("targets_file", str(e)) from None
    available = per_site[0]
    chosen = spec.targets if spec.targets is not None else list(available)
    if not chosen:
        raise err("targets", "expected at least one target")
    for i, key in enumerate(chosen):
        if key.startswith(HELD_BACK):
            raise err(f"targets[{i}]", f"{key!r} is held back for validation (outcome rates by claimant group)")
        if key not in available:
            raise err(
                f"targets[{i}]", f"unknown target {key!r}{_nearest(key, available)}; known: {', '.join(available)}"
            )
    if len(set(chosen)) != len(chosen):
        raise err("targets", "expected each target once")
    sites = [
        Site(place, cfg.name, sf.people_per_agent, {k: site_targets[k] for k in chosen})
        for (_, place, cfg, sf), site_targets in zip(resolved_sites, per_site, strict=True)
    ]
    several = len(sites) > 1
    targets: dict[str, Target] = {}
    target_of: dict[str, tuple[str, str]] = {}
    for site in sites:
        for k, t in site.targets.items():
            label = f"{site.name}: {k}" if several else k
            targets[label] = t
            target_of[label] = (site.name, k)

    baseline_regime = _reference(spec.baseline_regime, spec_dir)
    programme_regime = _reference(spec.programme_regime, spec_dir)
    try:
        load_regime(baseline_regime)
    except ConfigError as e:
        raise err("baseline_regime", str(e)) from None
    if any(t.arm == "programme" for t in targets.values()):
        try:
            load_regime(programme_regime)
        except ConfigError as e:
            raise err("programme_regime", str(e)) from None
        if spec.months < MIN_PROGRAMME_MONTHS:
            raise err(
                "months",
                f"expected at least {MIN_PROGRAMME_MONTHS} months when a programme target is fitted "
                f"(referral cohorts are followed for {FOLLOW_UP_MONTHS} months), got {spec.months}",
            )

    fit: list[FitParam] = []
    for name, rng in spec.parameters.items():
        where = f"parameters.{name}"
        if name not in PARAMETERS:
            raise err(where, f"unknown parameter{_nearest(name, PARAMETERS)}")
        rec = base.records[name]
        low = rec.low if rng.low is None else rng.low
        high = rec.high if rng.high is None else rng.high
        if low > high:
            raise err(where, f"expected low <= high, got low {low} > high {high}")
        if low == high:
            raise err(where, f"range [{low}, {high}] is a single value: nothing to fit (leave the parameter out)")
        if low < rec.low or high > rec.high:
            raise err(
                where,
                f"range [{low}, {high}] lies outside the calibration file's range [{rec.low}, {rec.high}] "
                "(the evidence's range; a fit may not widen it)",
            )
        dlo, dhi = PARAMETERS[name].domain
        if low < dlo or high > dhi:
            raise err(where, f"range [{low}, {high}] lies outside the parameter's domain [{dlo}, {dhi}]")
        value = base.values[name]
        if not low <= value <= high:
            raise err(where, f"range [{low}, {high}] must contain the hand-set value {value} (trial 0 runs it)")
        fit.append(FitParam(name, float(low), float(high), float(value), rec.low, rec.high))

    if spec.levers and not any(t.arm == "programme" for t in targets.values()):
        raise err("levers", "expected a programme target: levers are fitted on the programme arm only")
    programme_levers = load_regime(programme_regime).model_dump()["levers"] if spec.levers else {}
    for key, rng in spec.levers.items():
        where = f"levers.{key}"
        try:
            node = get_lever(programme_levers, key)
        except ConfigError as e:
            raise err(
                where,
                f"expected a lever of the programme regime {programme_regime!r} "
                f"(dotted, e.g. groups.esa_new.referral_share): {e.expected}",
            ) from None
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise err(where, f"expected a numeric lever, got {node!r}")
        if rng.low is None or rng.high is None:
            raise err(where, "expected low and high (a lever has no evidence range to default to)")
        if not rng.low < rng.high:
            raise err(where, f"expected low < high, got low {rng.low}, high {rng.high}")
        if not rng.low <= float(node) <= rng.high:
            raise err(where, f"range [{rng.low}, {rng.high}] must contain the regime's value {node} (trial 0 runs it)")
        for end in (rng.low, rng.high):
            try:
                make_scenario(
                    sites[0].place,
                    programme_regime,
                    months=spec.months,
                    burn_in=spec.burn_in,
                    lead_in=spec.lead_in,
                    people_per_agent=sites[0].people_per_agent,
                    calibration=calibration,
                    lever_overrides={key: end},
                )
            except ConfigError as e:
                raise err(where, f"the regime refuses {end}: {e}") from None
        fit.append(FitParam(LEVER_PREFIX + key, float(rng.low), float(rng.high), float(node), rng.low, rng.high, True))

    for key, w in spec.weights.items():
        if key not in chosen:
            raise err(f"weights.{key}", f"expected one of the fitted targets{_nearest(key, chosen)}")
        if not (math.isfinite(w) and w > 0):
            raise err(f"weights.{key}", f"expected a positive number, got {w}")
    seeds: list[int] = spec.seeds
    if isinstance(spec.check_seeds, int):
        start = max(seeds) + 1
        check = list(range(start, start + spec.check_seeds))
    else:
        check = list(spec.check_seeds)
        shared = sorted(set(check) & set(seeds))
        if shared:
            raise err(
                "check_seeds",
                f"expected seeds not used by the trials (so the fit is judged on fresh luck), got {shared} in both",
            )

    # Every scenario is built once now, so a bad combination fails before any run starts.
    for site in sites:
        for regime, where in ((baseline_regime, "baseline_regime"), (programme_regime, "programme_regime")):
            if where == "programme_regime" and not any(t.arm == "programme" for t in targets.values()):
                continue
            try:
                make_scenario(
                    site.place,
                    regime,
                    months=spec.months,
                    burn_in=spec.burn_in,
                    lead_in=spec.lead_in,
                    people_per_agent=site.people_per_agent,
                    calibration=calibration,
                )
            except ConfigError as e:
                raise err(where, str(e)) from None

    return CalibrationSpec(
        path=path.resolve(),
        name=spec.name,
        description=spec.description,
        sites=sites,
        months=spec.months,
        burn_in=spec.burn_in,
        lead_in=spec.lead_in,
        seeds=seeds,
        check_seeds=check,
        trials=n_trials,
        sampler_seed=spec.sampler_seed,
        startup_trials=spec.startup_trials or min(10, max(1, n_trials // 3)),
        baseline_regime=baseline_regime,
        programme_regime=programme_regime,
        targets_file=targets_file.resolve(),
        targets=targets,
        target_of=target_of,
        weights=dict(spec.weights),
        calibration=calibration.resolve(),
        base=base,
        parameters=fit,
        spec_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )
