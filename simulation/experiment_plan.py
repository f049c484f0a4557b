"""An experiment's plan: a checked spec (`simulation.experiment_spec`) expanded into scenarios and
(scenario, seed) runs.

Scenarios are the arms; with a `[sweep]`, every arm at each value of each listed parameter, one
parameter at a time (scenario `ARM@PARAM=VALUE`); with a `[design]`, every arm at each design point
(scenario `ARM@pNNNN`). Every scenario is built with `make_scenario` before any run starts, and
its resolved config fingerprinted, so a worker can tell it built the same one. Runs are
scenarios x seeds (`Experiment.tasks`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulation import results
from simulation.config import make_scenario
from simulation.experiment_spec import check_spec, format_value, reraise_as


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
    economy: str | None = None  # the macroeconomic scenario (`economies`); None: steady


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
    lead_in: int
    people_per_agent: float
    params: dict[str, float]
    levers: dict[str, Any]
    config_sha256: str
    calibration: str | None = None
    economy: str | None = None


@dataclass
class Experiment:
    """A checked spec expanded into its scenarios; `tasks` makes its runs."""

    path: Path
    name: str
    description: str
    place: str
    months: int
    burn_in: int
    lead_in: int
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
            "lead_in": self.lead_in,
            "people_per_agent": self.people_per_agent,
            "calibration": self.calibration,
            "seeds": self.seeds,
            "baseline": self.baseline,
            "arms": self.arms,
            "sweep": self.sweep,
            **({"economies": [s.economy for s in self.scenarios]} if any(s.economy for s in self.scenarios) else {}),
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
        return sha256_of(data)

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
                lead_in=self.lead_in,
                people_per_agent=self.people_per_agent,
                params=s.params,
                levers=s.levers,
                config_sha256=s.config_sha256,
                calibration=self.calibration,
                economy=s.economy,
            )
            for s in self.scenarios
            for seed in self.seeds
        ]


def sha256_of(data: Any) -> str:
    """A fingerprint of JSON-able data (a resolved spec or scenario config), independent of key order."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=results._jsonable)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_experiment(path: Path | str) -> Experiment:
    """Read and validate a spec; build every scenario. Any problem is a one-line ConfigError."""
    checked = check_spec(path)
    spec, arms, design = checked.spec, checked.arms, checked.design

    # Scenarios: arms, or arms x each value of each swept parameter (one parameter at a time), or
    # arms x each point of a design.
    points: list[tuple[str, dict[str, float], str]] = [("", {}, "")]
    if design is not None:
        names = design["parameters"]
        points = [
            (f"@p{i:04d}", dict(zip(names, row, strict=True)), f"design point {i}")
            for i, row in enumerate(design["points"])
        ]
    elif checked.sweep:
        points = [
            (f"@{n}={format_value(v)}", {n: v}, f"sweep.{n}[{i}]")
            for n, vals in checked.sweep.items()
            for i, v in enumerate(vals)
        ]
    scenarios: list[ScenarioSpec] = []
    # Economies cross everything else (scenario `ARM[@...]~ECONOMY`); the seeds are the same in every
    # cell (`Experiment.tasks`), so arms and economies are compared on common random numbers.
    economies: list[str | None] = list(checked.economies) or [None]
    for arm, a in arms.items():
        for (suffix, point, where), economy in ((p, e) for p in points for e in economies):
            params = {**a["params"], **point}
            with reraise_as(checked.path, where or f"arms.{arm}", whole=True):
                sc = make_scenario(
                    checked.place,
                    a["regime"],
                    months=spec.months,
                    burn_in=spec.burn_in,
                    lead_in=spec.lead_in,
                    people_per_agent=spec.people_per_agent,
                    calibration=Path(checked.calibration) if checked.calibration else None,
                    overrides=params,
                    lever_overrides=a["levers"],
                    economy=economy,
                )
            scenarios.append(
                ScenarioSpec(
                    name=arm + suffix + (f"~{Path(economy).stem}" if economy else ""),
                    arm=arm,
                    regime=a["regime"],
                    levers=a["levers"],
                    params=params,
                    sweep=point,
                    place_name=sc.place.name,
                    regime_name=sc.regime.name,
                    config_sha256=sha256_of(sc.resolved()),
                    point=int(suffix[2:]) if design is not None else -1,
                    economy=economy,
                )
            )
    return Experiment(
        path=checked.path.resolve(),
        name=spec.name,
        description=spec.description,
        place=checked.place,
        months=spec.months,
        burn_in=spec.burn_in,
        lead_in=spec.lead_in,
        people_per_agent=checked.people_per_agent,
        calibration=checked.calibration,
        seeds=spec.seeds,
        baseline=spec.baseline,
        arms=arms,
        sweep=checked.sweep,
        scenarios=scenarios,
        design=design,
        outputs=checked.outputs,
    )
