"""Compiled passes of `business`: small firms' monthly death hazards, the life table of firms at
risk and dying by year of life, firms ageing and taking their growth shocks, and each small
firm's desired headcount and the workers above it.

See `shared_kernels` for what every pass keeps to (bit-identical to the numpy rule it replaces;
exp stays in numpy).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from simulation.mechanisms.shared_kernels import jit


class GrowingFirms(NamedTuple):
    """The firm arrays a month's growth reads and writes (`Firms`' fields of these names)."""

    alive: np.ndarray
    large: np.ndarray
    age: np.ndarray
    shock: np.ndarray
    district: np.ndarray


@jit
def firm_hazard(
    age: np.ndarray,
    hub_months: np.ndarray,
    alive: np.ndarray,
    large: np.ndarray,
    by_age: np.ndarray,
    hub_ratio: float,
    with_hubs: bool,
) -> np.ndarray:
    """Monthly death hazard of each firm row: by_age[band] for ages under 12, 36, 60 months and
    over, times hub_ratio while hub-supported, clipped to [0, 1]; zero for large or dead rows.

    `age` is completed months at the draw (the k-th month of life is age k - 1), so the bands are
    months 1-12, 13-36, 37-60 and 61+ of life, as `firms.death_hazard` derives them."""
    out = np.zeros(age.shape[0])
    for j in range(age.shape[0]):
        if not alive[j] or large[j]:
            continue
        a = age[j]
        h = by_age[0] if a < 12 else (by_age[1] if a < 36 else (by_age[2] if a < 60 else by_age[3]))
        if with_hubs and hub_months[j] > 0:
            h = h * hub_ratio
        out[j] = min(max(h, 0.0), 1.0)
    return out


@jit
def life_table(
    alive: np.ndarray,
    large: np.ndarray,
    die: np.ndarray,
    age: np.ndarray,
    district: np.ndarray,
    n_districts: int,
    n_years: int,
) -> np.ndarray:
    """Small firms at risk ([0]) and dying ([1]) by district and year of life (age // 12, the
    last year open-ended), in one pass; the tests are added as 0/1 (alive is mixed row to row).
    Indices are unsigned (district and age are never negative): a signed index costs numba a
    wrap-around fix-up on every access."""
    at_risk_count = np.zeros(n_districts * n_years, dtype=np.int64)
    dying_count = np.zeros(n_districts * n_years, dtype=np.int64)
    years, last = np.uint64(n_years), np.uint64(n_years - 1)
    for j in range(alive.shape[0]):
        at_risk = alive[j] & (not large[j])
        k = np.uint64(district[j]) * years + min(np.uint64(age[j]) // np.uint64(12), last)
        at_risk_count[k] += at_risk
        dying_count[k] += at_risk & die[j]
    out = np.empty((2, n_districts, n_years), dtype=np.int64)
    out[0] = at_risk_count.reshape((n_districts, n_years))
    out[1] = dying_count.reshape((n_districts, n_years))
    return out


@jit
def grow_firms(
    firms: GrowingFirms,
    supported: np.ndarray,
    z: np.ndarray,
    gap: np.ndarray,
    decay: np.ndarray,
    sd: float,
    half_var: float,
    profile: np.ndarray,
) -> np.ndarray:
    """`business.step`'s growth for these firm rows: living firms age a month; small ones take
    their growth shock, shock + sd * z - half_var; small and hub-supported ones get their age path,
    1 - gap[district] * decay[age] (`firms.age_profile`: gap is 1 - the starting share, decay numpy's
    exp(-age / maturity) by whole months). Returns the small rows. Every row is written, and kept
    where it applies (alive is mixed row to row: a branch on it would mispredict)."""
    alive, large, age, shock, district = firms.alive, firms.large, firms.age, firms.shock, firms.district
    rows = np.empty(alive.shape[0] + 1, dtype=np.int64)  # one spare slot (see `shared_kernels.claiming`)
    k = 0
    for j in range(alive.shape[0]):
        a = alive[j]
        age[j] += a
        small = a & (not large[j])
        s = shock[j]
        shock[j] = (s + sd * z[j]) - half_var if small else s
        p = 1.0 - gap[np.uint64(district[j])] * decay[np.uint64(age[j])]
        profile[j] = p if small | supported[j] else profile[j]
        rows[k] = j
        k += small
    return rows[:k]


@jit
def settle_firms(
    rows: np.ndarray,
    growth: np.ndarray,
    potential: np.ndarray,
    profile: np.ndarray,
    target: np.ndarray,
    alive: np.ndarray,
    size: np.ndarray,
    excess: np.ndarray,
) -> None:
    """Desired headcount potential * profile * growth (growth = numpy's exp of the shock) of the
    small `rows`, then each row's headcount above its desired size (round half up), 0 if dead."""
    for k in range(rows.shape[0]):
        r = np.uint64(rows[k])
        target[r] = potential[r] * profile[r] * growth[k]
    for j in range(alive.shape[0]):
        excess[j] = size[j] - np.int64(np.floor(target[j] + 0.5)) if alive[j] else 0
