"""Run a scenario for a seed and write its outputs: the one path every command uses."""

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
class RunResult:
    frame: pd.DataFrame
    summary: dict[str, float]
    out: Path | None
    wall_seconds: float


def run_scenario(scenario: Scenario, seed: int, out: Path | None = None, agent_views: bool = False) -> RunResult:
    """Run the burn-in and every policy month; write monthly.parquet and manifest.json if `out`."""
    t0 = time.perf_counter()
    model = LabourMarketModel(seed=seed, config=scenario, agent_views=agent_views)
    while model.running:
        model.step()
    df = model.results_frame()
    wall = time.perf_counter() - t0
    if out is not None:
        man = results.manifest(
            scenario.resolved(),
            seed,
            wall,
            {
                "kind": "run",
                "districts": model.district_names,
                "people_rows": model.people.n,
                "firm_rows": model.firms.capacity,
            },
        )
        results.write_run(out, df, man, {"cohorts": model.cohorts.frame(model.district_names)})
    return RunResult(df, summarise(df), out, wall)
