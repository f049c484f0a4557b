"""The fit of `labourlab calibrate`: optuna's search over a spec's parameters, then the check on fresh seeds.

The search is optuna's TPE sampler, run one trial at a time so that the same spec gives the same
trials: trial 0 is the hand-set values, each later trial a parameter set proposed from the ones
before. A trial's replicate runs (no-programme arm, and the Work Programme arm when a programme
target is fitted, in each of the spec's places) run in parallel on the local process pool or a
dask cluster. The loss of a trial is the sum over targets (and places) of
((mean model value over replicates - observed) / half-band)^2.
The best trial's values and the hand-set ones are then run on the spec's fresh check seeds.

The spec is read by `calibrate_spec`, the fit report rendered by `calibrate_report`, the outputs
written by `calibrate_write`; `calibrate_cli` is the command line.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.calibrate_spec import LEVER_PREFIX, CalibrationSpec
from simulation.analysis.stats import Interval, summarise
from simulation.analysis.targets import Target, model_values
from simulation.config import make_scenario

NAN_PENALTY = 100.0  # loss of a target the model cannot produce (e.g. no referral cohorts): a miss of 10 half-bands
EDGE_SHARE = 0.02  # a fitted value within 2% of its range's width from an end is "at the edge"


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
    lead_in: int
    people_per_agent: float | None
    calibration: str
    params: dict[str, float] = field(default_factory=dict)
    site: str = ""  # the place's name (results are keyed by it)
    levers: dict[str, float] = field(default_factory=dict)  # programme arm only


def run_replicate(task: ReplicateTask) -> dict[str, float]:
    """Run one replicate and return the model quantities compared with the targets of its arm."""
    from simulation.runner import simulate

    sc = make_scenario(
        task.place,
        task.regime,
        months=task.months,
        burn_in=task.burn_in,
        lead_in=task.lead_in,
        people_per_agent=task.people_per_agent,
        calibration=Path(task.calibration),
        overrides=task.params,
        lever_overrides=task.levers or None,
    )
    sim = simulate(sc, task.seed)
    return model_values(sim.monthly, sim.cohorts)


def replicate_tasks(
    spec: CalibrationSpec, label: str, params: dict[str, float], seeds: list[int]
) -> list[ReplicateTask]:
    arms = [("baseline", spec.baseline_regime)] + (
        [("programme", spec.programme_regime)] if spec.needs_programme else []
    )
    is_lever = {p.name: p.lever for p in spec.parameters}
    calib = {k: v for k, v in params.items() if not is_lever.get(k, False)}
    levers = {k.removeprefix(LEVER_PREFIX): v for k, v in params.items() if is_lever.get(k, False)}
    return [
        ReplicateTask(
            label=label,
            arm=arm,
            seed=seed,
            place=site.place,
            regime=regime,
            months=spec.months,
            burn_in=spec.burn_in,
            lead_in=spec.lead_in,
            people_per_agent=site.people_per_agent,
            calibration=str(spec.calibration),
            params=dict(calib),
            site=site.name,
            levers=dict(levers) if arm == "programme" else {},
        )
        for site in spec.sites
        for arm, regime in arms
        for seed in seeds
    ]


class RunFailed(RuntimeError):
    """A replicate run raised, or its worker died: its parameter set has no loss."""


Runs = dict[tuple[str, str, str, int], dict[str, float]]  # by (label, site, arm, seed)


def run_tasks(executor: Any, tasks: Sequence[ReplicateTask]) -> Runs:
    """Run the tasks; results by (label, site, arm, seed), whatever order they finish in. A failure is
    raised only once every task has finished, so no run of this batch is still going when the next starts."""
    out: Runs = {}
    failure: str | None = None
    for task, res, error in executor.run(run_replicate, list(tasks)):
        if error is not None:
            failure = failure or (
                f"{task.label}, {task.site}, {task.arm} arm, seed {task.seed}: {type(error).__name__}: {error}"
            )
            continue
        out[(task.label, task.site, task.arm, task.seed)] = res
    if failure is not None:
        raise RunFailed(failure)
    return out


def per_target(spec: CalibrationSpec, runs: Runs, label: str, seeds: list[int]) -> dict[str, list[float]]:
    """Each target's model values over the seeds, from the place and arm that reproduce it."""
    out: dict[str, list[float]] = {}
    for name, t in spec.targets.items():
        site, key = spec.target_of[name]
        out[name] = [float(runs[(label, site, t.arm, s)].get(key, math.nan)) for s in seeds]
    return out


def target_loss(target: Target, values: Sequence[float]) -> float:
    """((mean over replicates - observed) / half-band)^2; a target the model cannot produce costs NAN_PENALTY."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return NAN_PENALTY
    return float(((x.mean() - target.value) / target.scale) ** 2)


def total_loss(spec: CalibrationSpec, values: dict[str, list[float]]) -> float:
    return float(sum(spec.weight(k) * target_loss(spec.targets[k], v) for k, v in values.items()))


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


# ------------------------------------------------------------------------ the check on fresh seeds
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
                    "assumption": False if p.lever else self.spec.base.records[p.name].assumption,
                    "lever": p.lever,
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
