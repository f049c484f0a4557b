"""Design points for an experiment spec's `[design]` table (SALib): the parameter sets the
experiment runner runs every arm at, and that `simulation.analysis.sensitivity` later explains.

Kept below both: the runner draws the points when it loads a spec, and the analysis needs the
same problem definition to compute its indices.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def problem(names: list[str], bounds: list[tuple[float, float]]) -> dict[str, Any]:
    """SALib's problem definition: the parameters' names and ranges."""
    return {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}


def sample(
    method: str, names: list[str], bounds: list[tuple[float, float]], samples: int, levels: int, seed: int
) -> np.ndarray:
    """Design points (rows) over the parameters' ranges: Morris trajectories (samples x (D + 1)
    rows), a Saltelli/Sobol sample without second-order terms (samples x (D + 2) rows), or a Latin
    hypercube (samples rows). Deterministic in `seed`."""
    spec = problem(names, bounds)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(spec, samples, num_levels=levels, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(spec, samples, calc_second_order=False, seed=seed)
    if method == "lhs":
        from SALib.sample import latin

        return latin.sample(spec, samples, seed=seed)
    raise ValueError(f"unknown design method {method!r}")
