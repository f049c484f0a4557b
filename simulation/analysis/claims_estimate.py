"""A claim's model estimate and verdict, from per-seed values of its arms (paired on common seeds).

`estimate` summarises per-seed values as compare does (mean +/- t(0.95, n-1) sd / sqrt(n)): a level,
a paired difference or saving, a ratio taken seed by seed (also as a ratio of means with a Fieller
interval), or a cost per additional unit as a ratio of mean differences with a Fieller interval.
`verdict` says where the claimed value lies against the interval, and how many seeds would settle it
when the interval straddles the claim and is wide. `labourlab sensitivity` uses `estimate` too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulation.analysis.claims_spec import _div
from simulation.analysis.stats import Interval, fieller, seeds_needed, summarise

WIDE = 0.10  # an interval straddling the claim is "wide" when its half-width exceeds 10% of the claim
SETTLE = 1.0  # planner: seeds for a half-width below |model mean - claim| (the claim then falls outside)


@dataclass
class Estimate:
    """The model's figure for one test: the verdict uses (mean, low, high)."""

    n: int
    mean: float
    low: float
    high: float
    sd: float  # sd of the per-seed values the interval came from (nan if none)
    kind: str  # "paired" (per-seed values, t interval) or "fieller" (ratio of means)
    ratio_of_means: float = math.nan
    fieller_low: float = math.nan
    fieller_high: float = math.nan
    per_seed: Interval | None = None
    note: str = ""


def _fieller_shift(x: np.ndarray, y: np.ndarray, shift: float) -> tuple[float, float, float]:
    rom = _div(float(np.mean(x)), float(np.mean(y))) + shift
    ci = fieller(x, y)
    return (rom, ci[0] + shift, ci[1] + shift) if ci is not None else (rom, math.nan, math.nan)


def estimate(how: str, a: np.ndarray, b: np.ndarray | None, pa: np.ndarray | None, pb: np.ndarray | None) -> Estimate:
    """The model's estimate from per-seed values: `a` (arm), `b` (versus); `pa`, `pb` the denominators
    of a per_difference."""
    if how == "level":
        return _paired(a)
    assert b is not None
    if how == "difference":
        return _paired(a - b)
    if how == "saving":
        return _paired(b - a)
    if how in ("ratio", "relative"):
        shift = -1.0 if how == "relative" else 0.0
        ok = np.isfinite(a) & np.isfinite(b) & (b != 0)
        r = np.divide(a, b, out=np.full(a.shape, np.nan), where=ok) + shift
        est = _paired(r)
        if ok.sum() >= 2:
            est.ratio_of_means, est.fieller_low, est.fieller_high = _fieller_shift(a[ok], b[ok], shift)
        if (~ok).any():
            est.note = f"undefined in {int((~ok).sum())} seed(s) (zero or missing denominator)"
        return est
    assert how == "per_difference" and pa is not None and pb is not None
    dc, dj = a - b, pa - pb
    n = len(dj)
    per_seed = summarise(dc / dj) if n and (dj > 0).all() else None
    if n == 0 or not dj.mean() > 0:
        return Estimate(
            n, math.nan, math.nan, math.nan, math.nan, "fieller", per_seed=per_seed, note="no increase on average"
        )
    rom = float(dc.mean() / dj.mean())
    ci = fieller(dc, dj)
    lo, hi = ci if ci is not None else (math.nan, math.nan)
    sd = per_seed.sd if per_seed is not None else math.nan
    note = "" if ci is not None or n < 2 else "interval unbounded: the increase is not clearly above zero"
    return Estimate(n, rom, lo, hi, sd, "fieller", rom, lo, hi, per_seed, note)


def _paired(x: np.ndarray) -> Estimate:
    iv = summarise(x)
    return Estimate(iv.n, iv.mean, iv.low, iv.high, iv.sd, "paired", per_seed=iv)


@dataclass
class Verdict:
    text: str  # "consistent", "model lower", "model higher", or why there is none
    too_few: bool = False
    seeds_to_settle: float = math.nan


def verdict(est: Estimate, bounds: tuple[float, float]) -> Verdict:
    """Compare the model's interval with the claimed value (or range)."""
    lo_c, hi_c = bounds
    if est.n < 2:
        return Verdict("no interval (one seed)")
    if not (math.isfinite(est.low) and math.isfinite(est.high)):
        return Verdict("undetermined (no bounded interval)")
    if est.high < lo_c:
        return Verdict("model lower")
    if est.low > hi_c:
        return Verdict("model higher")
    # The interval reaches the claim. Too few seeds if it also reaches past it and is wide.
    straddles = est.low < lo_c or est.high > hi_c
    half = (est.high - est.low) / 2.0
    scale = max(abs(lo_c), abs(hi_c))
    wide = scale > 0 and half > WIDE * scale
    if not (straddles and wide):
        return Verdict("consistent")
    if lo_c <= est.mean <= hi_c:  # settled when the interval fits inside the claimed range
        gap = min(est.mean - lo_c, hi_c - est.mean) if lo_c < hi_c else 0.0
    else:
        gap = lo_c - est.mean if est.mean < lo_c else est.mean - hi_c
    need = seeds_needed(gap, est.sd, SETTLE) if gap > 0 else math.inf
    return Verdict("consistent", too_few=True, seeds_to_settle=need)
