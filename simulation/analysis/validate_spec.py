"""The checks of `labourlab validate`: reading and validating `configs/validation.toml`.

Each check is a stylised fact held back from calibration, with its source: how the model figure is
computed (a statistic of `validate`), which arm of runs gives it, and what is expected. `load_checks`
refuses a check that reads a quantity which is a calibration target in `configs/targets.toml`:
what `labourlab calibrate` fits to is never what validation checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from simulation.analysis.targets import KNOWN, TARGETS_FILE, load_targets
from simulation.config import CONFIGS, ConfigError, Strict, _nearest, _validate, read_toml
from simulation.economy import load_economy
from simulation.people import DURATION_BINS, GROUP_NAMES

VALIDATION_FILE = CONFIGS / "validation.toml"
GROUPS = GROUP_NAMES[1:]

Statistic = Literal[
    "quantity",
    "pooled_hazard",
    "hazard_decline",
    "beveridge_slope",
    "group_rate",
    "group_gap",
    "cycle_rise",
    "cycle_path_correlation",
    "cycle_beveridge_slope",
]
CYCLE_STATISTICS = ("cycle_rise", "cycle_path_correlation", "cycle_beveridge_slope")


class Check(Strict):
    """One held-out stylised fact: how the model figure is computed, what is expected, and why."""

    label: str = Field(min_length=1)
    statistic: Statistic
    arm: Literal["baseline", "programme", "england", "cycle"]
    expect: Literal["within", "below", "above"]
    quantity: str | None = None
    bins: list[str] | None = None
    groups: list[str] | None = None
    higher: list[str] | None = None
    lower: list[str] | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None
    threshold: float | None = None
    min_cases: int = Field(default=0, ge=0)
    # Cycle statistics: the macroeconomic scenario the `cycle` arm runs (configs/scenarios/), the
    # ONS series of its file's [series] the model is compared with, and the quarters compared.
    economy: str | None = None
    series: str | None = None
    quarters: int | None = Field(default=None, ge=3)
    source: str = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Check:
        needs = {
            "quantity": ("quantity",),
            "pooled_hazard": ("bins",),
            "group_rate": ("groups",),
            "group_gap": ("higher", "lower"),
        }.get(self.statistic, ())
        for name in ("quantity", "bins", "groups", "higher", "lower"):
            given = getattr(self, name) is not None
            if name in needs and not given:
                raise ValueError(f"statistic {self.statistic!r} needs '{name}'")
            if name not in needs and given:
                raise ValueError(f"'{name}' is not used by statistic {self.statistic!r}")
        cycle = self.statistic in CYCLE_STATISTICS
        if cycle != (self.arm == "cycle"):
            raise ValueError(f"statistic {self.statistic!r} and arm {self.arm!r}: cycle statistics go with arm 'cycle'")
        for name in ("economy", "series", "quarters"):
            if cycle and getattr(self, name) is None:
                raise ValueError(f"statistic {self.statistic!r} needs '{name}'")
            if not cycle and getattr(self, name) is not None:
                raise ValueError(f"'{name}' is not used by statistic {self.statistic!r}")
        for name in ("bins", "groups", "higher", "lower"):
            items = getattr(self, name)
            if items is not None and not items:
                raise ValueError(f"expected at least one entry in '{name}'")
        if self.expect == "within":
            if self.low is None or self.high is None or self.value is None:
                raise ValueError("expect = 'within' needs value, low and high")
            if self.threshold is not None:
                raise ValueError("expect = 'within' takes low and high, not threshold")
            if not self.low < self.high:
                raise ValueError(f"expected low < high, got {self.low}, {self.high}")
            if not self.low <= self.value <= self.high:
                raise ValueError(f"expected low <= value <= high, got {self.low}, {self.value}, {self.high}")
        else:
            if self.threshold is None:
                raise ValueError(f"expect = {self.expect!r} needs threshold")
            if any(getattr(self, n) is not None for n in ("value", "low", "high")):
                raise ValueError(f"expect = {self.expect!r} takes threshold, not value/low/high")
        return self

    def reads(self) -> list[str]:
        """The model quantities (analysis.targets names) whose values this check compares with a figure."""
        if self.statistic == "quantity":
            return [str(self.quantity)]
        if self.statistic == "pooled_hazard":
            return [f"hazard_{b}" for b in self.bins or []]
        if self.statistic == "hazard_decline":
            return [f"hazard_{b}" for b in DURATION_BINS]
        if self.statistic in ("group_rate", "group_gap"):
            groups = [*(self.groups or []), *(self.higher or []), *(self.lower or [])]
            return [f"outcome_rate_{g}" for g in groups]
        return []  # beveridge_slope, cycle statistics: paths and slopes, no single model quantity

    def figures(self) -> list[float]:
        return [x for x in (self.value, self.low, self.high, self.threshold) if x is not None]

    def expected_text(self) -> str:
        if self.expect == "within":
            return f"{self.value:g}"
        return f"{'<' if self.expect == 'below' else '>'} {self.threshold:g}"

    def tolerance_text(self) -> str:
        if self.expect == "within":
            return f"mean in [{self.low:g}, {self.high:g}]"
        side = "below" if self.expect == "below" else "above"
        how = "bootstrap over markets" if self.statistic == "beveridge_slope" else "across seeds"
        return f"90% interval ({how}) {side} {self.threshold:g}"


class ValidationFile(Strict):
    checks: dict[str, Check] = Field(min_length=1)


def load_checks(path: Path | None = None, targets: Path | None = None) -> dict[str, Check]:
    """The checks, validated; any problem is a one-line ConfigError naming the field. A check may not
    read a quantity that is a calibration target (held-out facts only)."""
    path = Path(path) if path is not None else VALIDATION_FILE
    vf = _validate(ValidationFile, read_toml(path), path)
    fitted = set(load_targets(targets or TARGETS_FILE))
    cycle_economies = {c.economy for c in vf.checks.values() if c.arm == "cycle"}
    if len(cycle_economies) > 1:
        raise ConfigError(
            path, "checks.*.economy", f"expected one economy for the cycle arm, got {sorted(cycle_economies)}"
        )
    for cid, c in vf.checks.items():
        where = f"checks.{cid}"
        if c.economy is not None:
            try:
                eco = load_economy(c.economy)
            except ConfigError as err:
                raise ConfigError(path, f"{where}.economy", f"{err.path}: {err.field}: {err.expected}") from None
            if c.series not in eco.series:
                raise ConfigError(
                    path,
                    f"{where}.series",
                    f"expected a series of {c.economy}'s [series]; known: {', '.join(eco.series)}",
                )
        if c.quantity is not None and c.quantity not in KNOWN:
            raise ConfigError(path, f"{where}.quantity", f"unknown model quantity{_nearest(c.quantity, sorted(KNOWN))}")
        for i, b in enumerate(c.bins or []):
            if b not in DURATION_BINS:
                raise ConfigError(
                    path, f"{where}.bins[{i}]", f"unknown duration bin {b!r}; known: {', '.join(DURATION_BINS)}"
                )
        for name in ("groups", "higher", "lower"):
            for i, g in enumerate(getattr(c, name) or []):
                if g not in GROUPS:
                    raise ConfigError(
                        path, f"{where}.{name}[{i}]", f"unknown claimant group {g!r}; known: {', '.join(GROUPS)}"
                    )
        overlap = [q for q in c.reads() if q in fitted]
        if overlap:
            raise ConfigError(
                path,
                where,
                f"reads {', '.join(overlap)}, a calibration target in {targets or TARGETS_FILE}; "
                "validation uses held-out facts only",
            )
    return dict(vf.checks)
