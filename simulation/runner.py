"""Run a scenario for a seed: `simulate` is the one way every command runs the model (run, demo,
experiment, calibrate, validate; the browser app steps a model itself, a month at a time), and
`run_scenario` writes a run's outputs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation import results
from simulation.config import Scenario
from simulation.model import LabourMarketModel
from simulation.summary import summarise


@dataclass
class Simulated:
    """What a finished run leaves: its month x district table, its claimant cohorts, and the
    sizes a manifest records."""

    monthly: pd.DataFrame
    cohorts: pd.DataFrame
    districts: list[str]
    people_rows: int
    firm_rows: int


def simulate(scenario: Scenario, seed: int, agent_views: bool = False) -> Simulated:
    """Build the model for (scenario, seed), run its burn-in and every policy month, and return
    its results: a pure function of (scenario, seed)."""
    model = LabourMarketModel(seed=seed, config=scenario, agent_views=agent_views)
    while model.running:
        model.step()
    return Simulated(
        model.results_frame(),
        model.cohorts.frame(model.district_names),
        list(model.district_names),
        model.people.n,
        model.firms.capacity,
    )


@dataclass
class RunResult:
    frame: pd.DataFrame
    summary: dict[str, float]
    out: Path | None
    wall_seconds: float


def run_scenario(scenario: Scenario, seed: int, out: Path | None = None, agent_views: bool = False) -> RunResult:
    """Run the burn-in and every policy month; write monthly.parquet and manifest.json if `out`."""
    t0 = time.perf_counter()
    sim = simulate(scenario, seed, agent_views)
    df = sim.monthly
    wall = time.perf_counter() - t0
    if out is not None:
        man = results.manifest(
            scenario.resolved(),
            seed,
            wall,
            {
                "kind": "run",
                "districts": sim.districts,
                "people_rows": sim.people_rows,
                "firm_rows": sim.firm_rows,
            },
        )
        results.write_run(out, df, man, {"cohorts": sim.cohorts})
    return RunResult(df, summarise(df), out, wall)
