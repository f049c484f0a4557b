"""Shared statistics of the analysis commands: Student's t quantile (the project's own, the same
bits on every machine), the mean with its 90% t interval, seeds needed for a precision, Fieller's
interval for a ratio of means, Wilson's interval for a share, and a guarded ratio.

`compare`, `claims`, `report`, `sensitivity`, `targets` and `validate` take these from here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from simulation import detmath

LEVEL = 0.90  # every interval the analysis prints is two-sided 90%
PRECISION = 0.5  # planner target: a 90% half-width of this share of the mean difference
SEEDS_CAP = 100_000
Z90 = 1.6448536269514722  # the standard normal's 0.95 quantile: z of a two-sided 90% interval


def ratio(num: float, den: float) -> float:
    """num / den, or NaN when den is not positive (a rate with nothing at risk)."""
    return float(num) / float(den) if den > 0 else math.nan


@functools.lru_cache(maxsize=4096)
def t_quantile(df: int, level: float = 0.9) -> float:
    """The (1 + level)/2 quantile of Student's t with `df` degrees of freedom (0.95 for two-sided
    90% intervals): the t with P(|T| <= t) = level, by bisection to the last bit on
    `detmath.t_two_sided` (within about 1e-12 of the true quantile for df up to 100,000).
    Plain arithmetic and detmath's arctan, not scipy, whose last bit may follow the CPU's libm:
    the intervals in a paper's tables are the same on every machine."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    lo, hi = 0.0, 1.0
    while detmath.t_two_sided(hi, df) < level:
        lo, hi = hi, 2.0 * hi
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return hi
        if detmath.t_two_sided(mid, df) < level:
            lo = mid
        else:
            hi = mid


@dataclass(frozen=True)
class Interval:
    """Mean of n values with a 90% t interval (no interval for n < 2)."""

    n: int
    mean: float
    sd: float
    t: float
    all_zero: bool = False

    @property
    def half(self) -> float:
        return self.t * self.sd / math.sqrt(self.n) if self.n >= 2 else math.nan

    @property
    def low(self) -> float:
        return self.mean - self.half

    @property
    def high(self) -> float:
        return self.mean + self.half

    @property
    def includes_zero(self) -> bool:
        """True when the interval cannot sign the mean (never for values that are all exactly zero)."""
        return self.n >= 2 and not self.all_zero and self.low <= 0.0 <= self.high


def summarise(values: Iterable[float]) -> Interval:
    """Mean and 90% t interval of the finite values."""
    x = np.asarray(list(values), dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Interval(1, mean, math.nan, math.nan, bool(x[0] == 0))
    return Interval(n, mean, float(x.std(ddof=1)), t_quantile(n - 1), bool((x == 0).all()))


def seeds_needed(mean: float, sd: float, share: float = PRECISION) -> float:
    """Seeds for a 90% half-width of `share` x |mean|, taking `mean` and `sd` from pilot seeds.

    The smallest n >= 2 with t(0.95, n-1) * sd / sqrt(n) <= share * |mean|, that is
    n ~ (t * sd / (share * |mean|))^2 with t at the planned n. Infinite when the mean is zero.
    """
    if not (math.isfinite(mean) and math.isfinite(sd)) or mean == 0:
        return math.inf
    if sd == 0:
        return 2
    target = share * abs(mean)
    r = Z90 * sd / target
    n = max(2, math.ceil(r * r))  # t > z, so this is a lower bound
    if n > SEEDS_CAP:
        return float(n)
    while t_quantile(n - 1) * sd / math.sqrt(n) > target:
        n += 1
    return n


def fieller(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """90% Fieller interval for mean(x) / mean(y) from paired values; None when it is unbounded.

    The interval is the set of r with (mean(x) - r mean(y))^2 <= t^2 var(mean(x) - r mean(y)); it is
    bounded only when mean(y) is itself clearly away from zero.
    """
    n = len(x)
    if n < 2:
        return None
    t = t_quantile(n - 1)
    mx, my = float(np.mean(x)), float(np.mean(y))
    c = np.cov(np.vstack([x, y]), ddof=1) / n
    vxx, vyy, vxy = float(c[0, 0]), float(c[1, 1]), float(c[0, 1])
    a = my * my - t * t * vyy
    b = -2.0 * (mx * my - t * t * vxy)
    cc = mx * mx - t * t * vxx
    disc = b * b - 4 * a * cc
    if a <= 0 or disc < 0:
        return None
    root = math.sqrt(disc)
    lo, hi = (-b - root) / (2 * a), (-b + root) / (2 * a)
    return (lo, hi)


def wilson(k: int, n: int, z: float = Z90) -> tuple[float, float]:
    """Wilson score interval for a share k/n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)
