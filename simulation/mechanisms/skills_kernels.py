"""Compiled pass of `skills`: log skill growing a month in work and decaying in long
unemployment, clipped to its bound.

See `shared_kernels` for what every pass keeps to (bit-identical to the numpy rule it replaces).
"""

from __future__ import annotations

import numpy as np

from simulation.mechanisms.shared_kernels import EMPLOYED, UNEMPLOYED, jit


@jit
def skills(
    skill: np.ndarray,
    status: np.ndarray,
    months: np.ndarray,
    growth: float,
    decay: float,
    decay_after: float,
    bound: float,
) -> None:
    """`skills.step` for every row: growth in work, decay in long unemployment, clipped."""
    for i in range(skill.shape[0]):
        # Selects, not branches (status is mixed row to row): x + growth - 0.0 in work,
        # x + 0.0 - decay in long unemployment, x + 0.0 - 0.0 otherwise, as numpy adds them.
        s = status[i]
        up = growth if s == EMPLOYED else 0.0
        down = decay if (s == UNEMPLOYED) & (months[i] >= decay_after) else 0.0
        x = np.float64(skill[i]) + up - down
        skill[i] = np.float32(min(max(x, -bound), bound))
