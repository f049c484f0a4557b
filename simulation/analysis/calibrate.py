"""`labourlab calibrate SPEC`: fit the baseline's uncertain parameters to observed targets.

A calibration spec (`experiments/calibrate_*.toml`) names a place, a horizon, the parameters to fit
(each within the range its evidence allows in the calibration file, never wider), the observed
targets to fit them to (`configs/targets.toml`: flows into and out of work, unemployment and
long-term unemployment, the duration gradient of job finding, business survival, unemployed per
vacancy, the Work Programme's two-year outcome rate), the replicate seeds each trial runs on, and
fresh check seeds on which the hand-set and fitted values are finally compared.

The search is optuna's TPE sampler, run one trial at a time so that the same spec gives the same
trials: trial 0 is the hand-set values, each later trial a parameter set proposed from the ones
before. A trial's replicate runs (no-programme arm, and the Work Programme arm when a programme
target is fitted) run in parallel on the local process pool or a dask cluster. The loss of a
trial is the sum over targets of ((mean model value over replicates - observed) / half-band)^2.

Outputs (OUT, default results/calibrate/<name>/), each written atomically:

    fit_report.md   each target against the hand-set and fitted model on the check seeds, with 90%
                    intervals; the losses; the fitted values beside the hand-set ones and their ranges
    fit.csv         the same per-target table, one row per target
    trials.csv      every trial: parameters, loss, model means per target
    calibrated.toml a complete calibration file with the fitted values and a [provenance] table;
                    use it with `labourlab run --calibration FILE` or an experiment spec's `calibration`
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from simulation import results
from simulation.analysis.stats import Interval, summarise
from simulation.analysis.targets import TARGETS_FILE, Target, load_targets, model_values
from simulation.config import (
    CONFIGS,
    ROOT,
    ConfigError,
    Params,
    Strict,
    _nearest,
    _validate,
    load_calibration,
    load_place,
    load_regime,
    make_scenario,
    read_toml,
)
from simulation.experiment import seed_list
from simulation.outcomes import FOLLOW_UP_MONTHS
from simulation.parameters import PARAMETERS

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
NAN_PENALTY = 100.0  # loss of a target the model cannot produce (e.g. no referral cohorts): a miss of 10 half-bands
EDGE_SHARE = 0.02  # a fitted value within 2% of its range's width from an end is "at the edge"
HELD_BACK = "outcome_rate_"  # Work Programme outcome rates by claimant group: kept for validation, never fitted
MIN_PROGRAMME_MONTHS = FOLLOW_UP_MONTHS + 12  # a year of referral cohorts, each followed for two years
PACKAGES = ("optuna",)


# ------------------------------------------------------------------------------------ the spec
class ParamRange(Strict):
    """The range a parameter is searched over; each end defaults to the calibration file's."""

    low: float | None = None
    high: float | None = None


class CalibrateSpecFile(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    place: str = Field(min_length=1)
    months: int = Field(default=60, ge=1, le=1200)
    burn_in: int = Field(default=24, ge=0, le=600)
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


@dataclass(frozen=True)
class FitParam:
    """A parameter being fitted: its search range and the hand-set record it came from."""

    name: str
    low: float
    high: float
    handset: float
    record_low: float
    record_high: float


@dataclass
class CalibrationSpec:
    """A validated calibration spec with everything resolved (paths absolute, seeds listed)."""

    path: Path
    name: str
    description: str
    place: str
    place_name: str
    months: int
    burn_in: int
    people_per_agent: float | None
    seeds: list[int]
    check_seeds: list[int]
    trials: int
    sampler_seed: int
    startup_trials: int
    baseline_regime: str
    programme_regime: str
    targets_file: Path
    targets: dict[str, Target]
    calibration: Path
    base: Params
    parameters: list[FitParam]
    spec_sha256: str

    @property
    def needs_programme(self) -> bool:
        return any(t.arm == "programme" for t in self.targets.values())

    def handset(self) -> dict[str, float]:
        return {p.name: p.handset for p in self.parameters}

    def resolved(self) -> dict[str, Any]:
        """The spec as plain data: what determines the trials and the fit."""
        return {
            "name": self.name,
            "description": self.description,
            "place": self.place,
            "place_name": self.place_name,
            "months": self.months,
            "burn_in": self.burn_in,
            "people_per_agent": self.people_per_agent,
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
            "calibration": str(self.calibration),
            "parameters": {p.name: {"low": p.low, "high": p.high, "handset": p.handset} for p in self.parameters},
        }


def _reference(value: str, spec_dir: Path) -> str:
    """A file named in a spec is taken relative to the spec (else the working folder) and made
    absolute, so workers anywhere read the same file; a bare name (a place, a regime) is kept."""
    if not (value.endswith(".toml") or "/" in value):
        return value
    p = Path(value).expanduser()
    if not p.is_absolute() and (spec_dir / p).exists():
        p = spec_dir / p
    return str(p.resolve())


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

    place = _reference(spec.place, spec_dir)
    try:
        place_cfg = load_place(place)
    except ConfigError as e:
        raise err("place", str(e)) from None

    calibration = Path(_reference(spec.calibration, spec_dir) if spec.calibration else CONFIGS / "calibration.toml")
    try:
        base = load_calibration(calibration)
    except ConfigError as e:
        raise err("calibration", str(e)) from None

    targets_file = Path(_reference(spec.targets_file, spec_dir) if spec.targets_file else TARGETS_FILE)
    try:
        available = load_targets(targets_file, place=place_cfg)
    except ConfigError as e:
        raise err("targets_file", str(e)) from None
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
    targets = {k: available[k] for k in chosen if not k.startswith(HELD_BACK)}

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
    for regime, where in ((baseline_regime, "baseline_regime"), (programme_regime, "programme_regime")):
        if where == "programme_regime" and not any(t.arm == "programme" for t in targets.values()):
            continue
        try:
            make_scenario(
                place,
                regime,
                months=spec.months,
                burn_in=spec.burn_in,
                people_per_agent=spec.people_per_agent,
                calibration=calibration,
            )
        except ConfigError as e:
            raise err(where, str(e)) from None

    return CalibrationSpec(
        path=path.resolve(),
        name=spec.name,
        description=spec.description,
        place=place,
        place_name=place_cfg.name,
        months=spec.months,
        burn_in=spec.burn_in,
        people_per_agent=spec.people_per_agent,
        seeds=seeds,
        check_seeds=check,
        trials=n_trials,
        sampler_seed=spec.sampler_seed,
        startup_trials=spec.startup_trials or min(10, max(1, n_trials // 3)),
        baseline_regime=baseline_regime,
        programme_regime=programme_regime,
        targets_file=targets_file.resolve(),
        targets=targets,
        calibration=calibration.resolve(),
        base=base,
        parameters=fit,
        spec_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


# ------------------------------------------------------------------------------- the runs
@dataclass(frozen=True)
class ReplicateTask:
    """One run of one parameter set on one seed in one arm (picklable: sent to a worker)."""

    label: str  # "trial 3", "check handset", "check fitted"
    arm: str  # "baseline" or "programme"
    seed: int
    place: str
    regime: str
    months: int
    burn_in: int
    people_per_agent: float | None
    calibration: str
    params: dict[str, float] = field(default_factory=dict)


def run_replicate(task: ReplicateTask) -> dict[str, float]:
    """Run one replicate and return the model quantities compared with the targets of its arm."""
    from simulation.runner import simulate

    sc = make_scenario(
        task.place,
        task.regime,
        months=task.months,
        burn_in=task.burn_in,
        people_per_agent=task.people_per_agent,
        calibration=Path(task.calibration),
        overrides=task.params,
    )
    sim = simulate(sc, task.seed)
    return model_values(sim.monthly, sim.cohorts)


def replicate_tasks(
    spec: CalibrationSpec, label: str, params: dict[str, float], seeds: list[int]
) -> list[ReplicateTask]:
    arms = [("baseline", spec.baseline_regime)] + (
        [("programme", spec.programme_regime)] if spec.needs_programme else []
    )
    return [
        ReplicateTask(
            label=label,
            arm=arm,
            seed=seed,
            place=spec.place,
            regime=regime,
            months=spec.months,
            burn_in=spec.burn_in,
            people_per_agent=spec.people_per_agent,
            calibration=str(spec.calibration),
            params=dict(params),
        )
        for arm, regime in arms
        for seed in seeds
    ]


class RunFailed(RuntimeError):
    """A replicate run raised, or its worker died: its parameter set has no loss."""


def run_tasks(executor: Any, tasks: Sequence[ReplicateTask]) -> dict[tuple[str, str, int], dict[str, float]]:
    """Run the tasks; results by (label, arm, seed), whatever order they finish in. A failure is
    raised only once every task has finished, so no run of this batch is still going when the next starts."""
    out: dict[tuple[str, str, int], dict[str, float]] = {}
    failure: str | None = None
    for task, res, error in executor.run(run_replicate, list(tasks)):
        if error is not None:
            failure = failure or f"{task.label}, {task.arm} arm, seed {task.seed}: {type(error).__name__}: {error}"
            continue
        out[(task.label, task.arm, task.seed)] = res
    if failure is not None:
        raise RunFailed(failure)
    return out


def per_target(
    spec: CalibrationSpec, runs: dict[tuple[str, str, int], dict[str, float]], label: str, seeds: list[int]
) -> dict[str, list[float]]:
    """Each target's model values over the seeds, from the arm that reproduces it."""
    return {key: [float(runs[(label, t.arm, s)].get(key, math.nan)) for s in seeds] for key, t in spec.targets.items()}


def target_loss(target: Target, values: Sequence[float]) -> float:
    """((mean over replicates - observed) / half-band)^2; a target the model cannot produce costs NAN_PENALTY."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return NAN_PENALTY
    return float(((x.mean() - target.value) / target.scale) ** 2)


def total_loss(spec: CalibrationSpec, values: dict[str, list[float]]) -> float:
    return float(sum(target_loss(spec.targets[k], v) for k, v in values.items()))


# ------------------------------------------------------------------------------- the search
@dataclass
class SearchResult:
    study: Any
    best_params: dict[str, float]
    best_trial: int
    trial_losses: list[float]
    handset_loss: float
    best_loss: float
    wall_seconds: float


def search(spec: CalibrationSpec, executor: Any, on_trial: Any = None) -> SearchResult:
    """Run the trials one after another (so the search is reproducible): trial 0 the hand-set values,
    then TPE's proposals. `on_trial(number, loss, best_loss)` is called after each trial."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(
        seed=spec.sampler_seed, n_startup_trials=spec.startup_trials, multivariate=True, constant_liar=False
    )
    study = optuna.create_study(direction="minimize", sampler=sampler, study_name=spec.name)
    study.enqueue_trial(spec.handset())
    dists = {p.name: optuna.distributions.FloatDistribution(p.low, p.high) for p in spec.parameters}
    t0 = time.perf_counter()
    losses: list[float] = []
    for _ in range(spec.trials):
        trial = study.ask(dists)
        params = {p.name: float(trial.params[p.name]) for p in spec.parameters}
        label = f"trial {trial.number}"
        try:
            runs = run_tasks(executor, replicate_tasks(spec, label, params, spec.seeds))
        except RunFailed as e:
            # A parameter set the model cannot run is a finding about that set, not the end of the search.
            trial.set_user_attr("error", str(e)[:500])
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            losses.append(math.nan)
            if on_trial is not None:
                on_trial(trial.number, math.nan, _best(study))
            continue
        values = per_target(spec, runs, label, spec.seeds)
        for key, v in values.items():
            x = np.asarray(v, dtype=float)
            trial.set_user_attr(f"model.{key}", float(np.nanmean(x)) if np.isfinite(x).any() else math.nan)
            trial.set_user_attr(f"miss.{key}", math.sqrt(target_loss(spec.targets[key], v)))
        loss = total_loss(spec, values)
        study.tell(trial, loss)
        losses.append(loss)
        if on_trial is not None:
            on_trial(trial.number, loss, _best(study))
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise RunFailed("every trial failed; see trials.csv (user_attrs_error)")
    best = min(complete, key=lambda t: (t.value, t.number))
    handset_loss = losses[0]
    return SearchResult(
        study=study,
        best_params={p.name: float(best.params[p.name]) for p in spec.parameters},
        best_trial=best.number,
        trial_losses=losses,
        handset_loss=handset_loss,
        best_loss=float(best.value),
        wall_seconds=time.perf_counter() - t0,
    )


def _best(study: Any) -> float:
    import optuna

    vals = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return min(vals) if vals else math.nan


# ------------------------------------------------------------------------------- the fit report
@dataclass
class TargetFit:
    key: str
    target: Target
    handset: Interval
    fitted: Interval

    @staticmethod
    def _inside(iv: Interval, t: Target) -> bool:
        if not math.isfinite(iv.mean):
            return False
        lo, hi = (iv.low, iv.high) if iv.n >= 2 else (iv.mean, iv.mean)
        return lo <= t.high and hi >= t.low

    def miss(self, iv: Interval) -> float:
        return (iv.mean - self.target.value) / self.target.scale if math.isfinite(iv.mean) else math.nan

    def row(self) -> dict[str, Any]:
        t = self.target
        return {
            "target": self.key,
            "arm": t.arm,
            "observed": t.value,
            "observed_low": t.low,
            "observed_high": t.high,
            "handset_mean": self.handset.mean,
            "handset_low": self.handset.low,
            "handset_high": self.handset.high,
            "handset_inside": self._inside(self.handset, t),
            "handset_miss": self.miss(self.handset),
            "fitted_mean": self.fitted.mean,
            "fitted_low": self.fitted.low,
            "fitted_high": self.fitted.high,
            "fitted_inside": self._inside(self.fitted, t),
            "fitted_miss": self.miss(self.fitted),
            "seeds": self.fitted.n,
            "source": t.source,
            "note": t.note,
        }


@dataclass
class Fit:
    spec: CalibrationSpec
    result: SearchResult
    targets: list[TargetFit]
    check_loss_handset: float
    check_loss_fitted: float
    created: str
    wall_seconds: float = 0.0

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([t.row() for t in self.targets])

    def params_rows(self) -> list[dict[str, Any]]:
        rows = []
        for p in self.spec.parameters:
            v = self.result.best_params[p.name]
            width = p.high - p.low
            # Only a value the fit moved says the fit wants to go further; a hand-set value that
            # already sits at an end (e.g. survival_3yr at its lowest cohort) and stayed there does not.
            edge = ""
            if v != p.handset and v - p.low <= EDGE_SHARE * width:
                edge = "low"
            elif v != p.handset and p.high - v <= EDGE_SHARE * width:
                edge = "high"
            rows.append(
                {
                    "parameter": p.name,
                    "handset": p.handset,
                    "fitted": v,
                    "low": p.low,
                    "high": p.high,
                    "record_low": p.record_low,
                    "record_high": p.record_high,
                    "at_edge": edge,
                    "assumption": self.spec.base.records[p.name].assumption,
                }
            )
        return rows


def compare_on_check_seeds(spec: CalibrationSpec, executor: Any, result: SearchResult) -> Fit:
    """Run the hand-set and fitted values on the same fresh check seeds (common random numbers)."""
    t0 = time.perf_counter()
    same = result.best_params == spec.handset()  # no trial beat the hand-set values: run them once
    tasks = replicate_tasks(spec, "check handset", spec.handset(), spec.check_seeds)
    if not same:
        tasks += replicate_tasks(spec, "check fitted", result.best_params, spec.check_seeds)
    runs = run_tasks(executor, tasks)
    hand = per_target(spec, runs, "check handset", spec.check_seeds)
    fitted = hand if same else per_target(spec, runs, "check fitted", spec.check_seeds)
    rows = [TargetFit(k, spec.targets[k], summarise(hand[k]), summarise(fitted[k])) for k in spec.targets]
    return Fit(
        spec=spec,
        result=result,
        targets=rows,
        check_loss_handset=total_loss(spec, hand),
        check_loss_fitted=total_loss(spec, fitted),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        wall_seconds=time.perf_counter() - t0,
    )


def _g(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}g}"


def _interval_text(iv: Interval) -> str:
    if not math.isfinite(iv.mean):
        return "n/a"
    if iv.n < 2:
        return _g(iv.mean)
    return f"{_g(iv.mean)} [{_g(iv.low)}, {_g(iv.high)}]"


def fit_report(fit: Fit, out_files: dict[str, Path]) -> str:
    """The fit report as Markdown."""
    spec, res = fit.spec, fit.result
    lines = [
        f"# Calibration fit: {spec.name}",
        "",
        *([spec.description, ""] if spec.description else []),
        f"- Spec: `{spec.path}` (sha256 {spec.spec_sha256[:12]})",
        f"- Place: {spec.place_name}; {spec.burn_in} months burn-in + {spec.months} months"
        + (f"; {spec.people_per_agent:g} people per row" if spec.people_per_agent else ""),
        f"- Baseline arm: {spec.baseline_regime}"
        + (f"; programme arm (Work Programme outcome rate): {spec.programme_regime}" if spec.needs_programme else ""),
        f"- Search: optuna TPE (multivariate, seed {spec.sampler_seed}, {spec.startup_trials} random start-up trials), "
        f"{spec.trials} trials run one after another; trial 0 is the hand-set values; "
        f"{len(spec.seeds)} replicate seeds per trial ({', '.join(map(str, spec.seeds))})",
        f"- Check: the hand-set and the fitted values on {len(spec.check_seeds)} fresh seeds "
        f"({', '.join(map(str, spec.check_seeds))}), the same seeds for both (common random numbers)",
        f"- Loss: sum over targets of ((model mean - observed) / half the observed band)^2; "
        f"a target the model cannot produce costs {NAN_PENALTY:g}",
        f"- Made {fit.created}, commit {results.git_commit()}",
        "",
        "## Loss",
        "",
        "| | hand-set | fitted |",
        "|---|---:|---:|",
        f"| trial seeds (search; fitted = best trial, number {res.best_trial}) | {_g(res.handset_loss)} "
        f"| {_g(res.best_loss)} |",
        f"| check seeds (fresh) | {_g(fit.check_loss_handset)} | {_g(fit.check_loss_fitted)} |",
        "",
    ]
    if res.best_trial == 0:
        lines.append("No trial beat the hand-set values on the trial seeds: the fitted file repeats them.")
    elif fit.check_loss_fitted < fit.check_loss_handset:
        lines.append(
            f"On the fresh check seeds the fitted values bring the baseline closer to its targets than the "
            f"hand-set values: loss {_g(fit.check_loss_handset)} -> {_g(fit.check_loss_fitted)}."
        )
    else:
        lines.append(
            f"On the fresh check seeds the fitted values do NOT fit better than the hand-set values "
            f"(loss {_g(fit.check_loss_handset)} -> {_g(fit.check_loss_fitted)}): the search's gain was luck "
            "of the trial seeds. Use more replicate seeds or trials before relying on the fitted file."
        )
    lines += [
        "",
        "## Targets on the check seeds",
        "",
        "Model means with 90% t intervals across the check seeds. *inside*: the interval overlaps the "
        "observed band. *miss*: (model mean - observed) / half the band.",
        "",
        "| target | arm | observed [band] | hand-set [90%] | inside | miss | fitted [90%] | inside | miss | source |",
        "|---|---|---|---|---|---:|---|---|---:|---|",
    ]
    for tf in fit.targets:
        r = tf.row()
        t = tf.target
        lines.append(
            f"| {tf.key} | {t.arm} | {_g(t.value)} [{_g(t.low)}, {_g(t.high)}] | {_interval_text(tf.handset)} "
            f"| {'yes' if r['handset_inside'] else 'no'} | {_g(r['handset_miss'], 3)} | {_interval_text(tf.fitted)} "
            f"| {'yes' if r['fitted_inside'] else 'no'} | {_g(r['fitted_miss'], 3)} | {_cell(t.source)} |"
        )
    if "unemployment_rate" in spec.targets and spec.place_name != "england":
        lines += [
            "",
            f"Unemployment rate: the observed figure is {spec.place_name}'s own documented rate (its place file), "
            "with the band width of England's (`targets.load_targets`).",
        ]
    if "wp_two_year_outcome_rate" in spec.targets:
        lines += [
            "",
            "Work Programme two-year outcome rate: the model's is each payment group's two-year outcome "
            "rate over the people who reached its referral point, weighted by the group's referrals "
            "(`targets.outcome_rates`), from the programme arm's cohorts.",
        ]
    lines += [
        "",
        "## Parameters",
        "",
        "| parameter | hand-set | fitted | search range | evidence range | assumption | note |",
        "|---|---:|---:|---|---|---|---|",
    ]
    for r in fit.params_rows():
        note = (
            f"at the {r['at_edge']} end of its range: the fit wants to go further than the evidence allows"
            if r["at_edge"]
            else ""
        )
        lines.append(
            f"| {r['parameter']} | {_g(r['handset'])} | {_g(r['fitted'])} | [{_g(r['low'])}, {_g(r['high'])}] "
            f"| [{_g(r['record_low'])}, {_g(r['record_high'])}] | {'yes' if r['assumption'] else 'no'} | {note} |"
        )
    edges = [r["parameter"] for r in fit.params_rows() if r["at_edge"]]
    if edges:
        lines += [
            "",
            f"At the edge of its range: {', '.join(edges)}. The ranges were not widened: a fit pressing on "
            "them says the model misses the targets for a reason those parameters cannot fix within their evidence.",
        ]
    lines += ["", "## Files", ""] + [f"- {k}: `{v}`" for k, v in out_files.items()] + [""]
    lines += [
        f"Use the fitted file with `labourlab run --calibration {out_files['calibrated']} ...` or "
        f'`calibration = "{out_files["calibrated"]}"` in an experiment spec.',
        "",
    ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


# ------------------------------------------------------------------------------- calibrated.toml
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
            if loaded.values[name] != v:
                raise RuntimeError(f"calibrated.toml does not read back {name} = {v!r}")

    results.atomic_write(files["calibrated"], write_checked)
    _write_text(files["report"], fit_report(fit, files))
    return files


# ------------------------------------------------------------------------------- command line
def calibrate(
    spec: CalibrationSpec,
    out: Path,
    executor: Any,
    spec_arg: str,
    on_trial: Any = None,
) -> tuple[Fit, dict[str, Path]]:
    """Search, check on fresh seeds, write the outputs."""
    t0 = time.perf_counter()
    res = search(spec, executor, on_trial)
    fit = compare_on_check_seeds(spec, executor, res)
    fit.wall_seconds = time.perf_counter() - t0
    files = write_outputs(fit, out, spec_arg)
    return fit, files


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `labourlab calibrate SPEC`."""
    from simulation.argtypes import positive_int

    c = sub.add_parser(
        "calibrate",
        help="fit the baseline's uncertain parameters to observed targets (optuna), with a fit report",
        description="Fit the parameters a calibration spec names (experiments/calibrate_*.toml), each within its "
        "evidence range, to the observed targets (configs/targets.toml) with optuna's TPE sampler: trials one after "
        "another (trial 0 the hand-set values), each on the spec's replicate seeds in parallel; then run the "
        "hand-set and fitted values on fresh check seeds and write OUT/fit_report.md, fit.csv, trials.csv and "
        "calibrated.toml (a calibration file with provenance: labourlab run --calibration FILE).",
    )
    c.add_argument(
        "spec", type=Path, metavar="SPEC", help="calibration spec (TOML), e.g. experiments/calibrate_small.toml"
    )
    c.add_argument("--out", type=Path, metavar="DIR", help="output folder (default results/calibrate/NAME)")
    c.add_argument(
        "--trials", type=positive_int, default=None, metavar="N", help="number of trials (default: the spec's)"
    )
    c.add_argument(
        "--executor",
        choices=("local", "dask"),
        default=None,
        help="local: a process pool on this machine (default); dask: a dask.distributed cluster",
    )
    c.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask scheduler (tcp://HOST:PORT); default: a LocalCluster",
    )
    c.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="processes (local) or LocalCluster workers (dask; unused with --scheduler); default: the machine's cores",
    )


def run(args: argparse.Namespace) -> int:
    """`labourlab calibrate`: validate, search with a progress bar, print the fit table; the exit status."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Table

    from simulation.executors import make_executor, validate_choice

    spec = load_spec(args.spec, args.trials)
    validate_choice(args.executor, args.workers, args.scheduler)
    out = (args.out or ROOT / "results" / "calibrate" / spec.name).resolve()
    console = Console(width=140)
    arms = f"{spec.baseline_regime}" + (f" + {spec.programme_regime}" if spec.needs_programme else "")
    print(
        f"labourlab calibrate {spec.name}: {spec.place_name}, {len(spec.parameters)} parameters, "
        f"{len(spec.targets)} targets, {spec.trials} trials x {len(spec.seeds)} seeds ({arms}), "
        f"then {len(spec.check_seeds)} check seeds; {spec.burn_in} months burn-in + {spec.months} months",
        flush=True,
    )
    executor = make_executor(args.executor, args.workers, args.scheduler)
    bar = Progress(
        TextColumn("trials"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}  best {task.fields[best]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
    )
    task_id = bar.add_task("trials", total=spec.trials, loss="-", best="-")

    def on_trial(number: int, loss: float, best: float) -> None:
        bar.update(task_id, advance=1, loss=_g(loss), best=_g(best))

    try:
        print(f"executor: {executor.label()}", flush=True)
        bar.start()
        try:
            res = search(spec, executor, on_trial)
        finally:
            bar.stop()
        print(f"search: {spec.trials} trials in {res.wall_seconds:.0f} s; best trial {res.best_trial}", flush=True)
        print(f"checking hand-set and fitted values on seeds {', '.join(map(str, spec.check_seeds))}", flush=True)
        fit = compare_on_check_seeds(spec, executor, res)
    except RunFailed as e:
        print(f"labourlab calibrate: a run failed: {e}")
        return 1
    finally:
        executor.close()
    files = write_outputs(fit, out, str(args.spec))

    t = Table(title=escape(f"{spec.name}: targets on {len(spec.check_seeds)} check seeds (mean [90% interval])"))
    for col in ("target", "observed [band]", "hand-set", "miss", "fitted", "miss"):
        t.add_column(col, justify="left" if col == "target" else "right")
    for tf in fit.targets:
        r = tf.row()
        mark = {True: "", False: " (outside)"}
        t.add_row(
            escape(tf.key),
            f"{_g(tf.target.value)} [{_g(tf.target.low)}, {_g(tf.target.high)}]",
            escape(_interval_text(tf.handset) + mark[r["handset_inside"]]),
            _g(r["handset_miss"], 3),
            escape(_interval_text(tf.fitted) + mark[r["fitted_inside"]]),
            _g(r["fitted_miss"], 3),
        )
    console.print(t)
    p = Table(title="parameters")
    for col in ("parameter", "hand-set", "fitted", "range", "edge"):
        p.add_column(col, justify="left" if col == "parameter" else "right")
    for r in fit.params_rows():
        p.add_row(r["parameter"], _g(r["handset"]), _g(r["fitted"]), f"[{_g(r['low'])}, {_g(r['high'])}]", r["at_edge"])
    console.print(p)
    print(
        f"loss on trial seeds: hand-set {_g(res.handset_loss)}, fitted {_g(res.best_loss)}; "
        f"on check seeds: hand-set {_g(fit.check_loss_handset)}, fitted {_g(fit.check_loss_fitted)}"
    )
    for name, path in files.items():
        print(f"wrote {path}" + ("" if name != "calibrated" else f"  (labourlab run --calibration {path} ...)"))
    return 0
