"""Macroeconomic scenarios as data: a path of labour demand and of separations over the run.

A scenario file (`configs/scenarios/<name>.toml`) gives, at a fixed step (1: monthly, 3:
quarterly), two indices relative to the economy the place was built in (1.0 = as built):

- `demand`: employers' desired headcount (employment plus vacancies), from the ONS series of
  employment and vacancies (`docs/evidence/macro_scenarios.md`); every firm's desired size is
  multiplied by it (`mechanisms.demand`), and so are firm births;
- `separations`: the hazard of a job (settled or fragile) ending in unemployment, from the ONS
  redundancy rate (`separations`).

Point i of a path holds at policy month i x step; months between points are interpolated linearly
and months past the last point keep the last value; burn-in and lead-in months (negative) are at
1.0, the economy the place was built in, or at point 0 if the scenario says `settle = true`.
`steady` (every index 1.0) is the default: runs without a
scenario are today's model, bit for bit.

Bad input raises `ConfigError` with one line naming the file, the field and what was expected.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import Field, model_validator

from simulation.configfiles import CONFIGS, ConfigError, Strict, _nearest, _validate, read_toml

INDEX_RANGE = (0.2, 5.0)  # an index outside it is surely a slip (demand a fifth or five times as built)


class EconomyFile(Strict):
    """A macroeconomic scenario: indices of demand and separations by step from policy month 0."""

    name: str = Field(min_length=1)
    description: str = ""
    start: str = ""  # the calendar month of point 0, e.g. "2008-01" (for reading the paths)
    step_months: int = Field(default=3, ge=1, le=12)
    demand: list[float] = Field(min_length=1)
    separations: list[float] = Field(min_length=1)
    # Negative months (burn-in, lead-in) at point 0 rather than 1.0: the place settles into the
    # scenario's starting economy before month 0 (a slack market from the start, not a shock).
    settle: bool = False
    sources: list[str] = Field(min_length=1)
    notes: str = ""
    # The ONS series the indices were made from and those a run is compared with, at the same step
    # (e.g. unemployment_rate in percent): data, not read by the model.
    series: dict[str, list[float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> EconomyFile:
        for field in ("demand", "separations"):
            for i, v in enumerate(getattr(self, field)):
                lo, hi = INDEX_RANGE
                if not (math.isfinite(v) and lo <= v <= hi):
                    raise ValueError(f"{field}[{i}]: expected an index in [{lo}, {hi}] (1.0 = as built), got {v}")
        if len(self.separations) not in (1, len(self.demand)):
            raise ValueError(
                f"separations: expected 1 value or as many as demand ({len(self.demand)}), got {len(self.separations)}"
            )
        return self

    @property
    def steady(self) -> bool:
        """Every index 1.0: the economy the place was built in, throughout."""
        return all(v == 1.0 for v in (*self.demand, *self.separations))

    def at(self, month: int) -> tuple[float, float]:
        """(demand, separations) indices in this month (negative: burn-in or lead-in, 1.0)."""
        if self.steady:
            return 1.0, 1.0
        if month < 0:
            return (float(self.demand[0]), float(self.separations[0])) if self.settle else (1.0, 1.0)
        return _interpolate(self.demand, month, self.step_months), _interpolate(
            self.separations, month, self.step_months
        )


def _interpolate(path: list[float], month: int, step: int) -> float:
    """The path at `month`: linear between points every `step` months, the last value after."""
    x = month / step
    i = math.floor(x)
    if i >= len(path) - 1:
        return float(path[-1])
    w = x - i
    return float(path[i] * (1.0 - w) + path[i + 1] * w)


STEADY = EconomyFile(
    name="steady",
    description="The economy the place was built in, throughout (no aggregate shock).",
    demand=[1.0],
    separations=[1.0],
    sources=["Assumption: no aggregate shock; the place's own figures (about 2015) hold throughout."],
)


def available() -> list[str]:
    return sorted(p.stem for p in (CONFIGS / "scenarios").glob("*.toml"))


def load_economy(name_or_path: str | None) -> EconomyFile:
    """A scenario by name (configs/scenarios/<name>.toml) or path; None is `steady`."""
    if name_or_path is None:
        return STEADY
    p = Path(name_or_path)
    path = p if p.suffix == ".toml" or p.exists() else CONFIGS / "scenarios" / f"{name_or_path}.toml"
    if not path.exists():
        known = available()
        raise ConfigError(
            path, "", f"no such scenario{_nearest(name_or_path, known)}; known: {', '.join(known) or 'none'}"
        )
    return _validate(EconomyFile, read_toml(path), path)
