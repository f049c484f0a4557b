"""Reading `labourlab claims`'s file, `configs/claims.toml`: the claims, their arms and their vocabulary.

The file names the arms (a regime with some levers changed), and for each claim its sources, the
model quantities that stand for it (measures of `simulation.measures`, compared between arms as
`How` says), the report's implied arithmetic (factors, defined in `FACTORS` below) and the
calibration parameters and levers the answer depends on. `load_registry` checks all of it strictly:
every problem is a one-line ConfigError naming the field.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from simulation.config import (
    CONFIGS,
    ConfigError,
    GroupLevers,
    Levers,
    RegimeFile,
    Scenario,
    Strict,
    _validate,
    load_regime,
    make_scenario,
    read_toml,
    set_lever,
)
from simulation.measures import MEASURES
from simulation.parameters import PARAMETERS

REGISTRY = CONFIGS / "claims.toml"

Unit = Literal["gbp", "count", "ratio", "share"]
How = Literal["level", "difference", "saving", "relative", "ratio", "per_difference", "cost_per_additional_job"]
# A cost per additional sustained job is not a measure of one run: it is `analysis.costing`'s, the
# definition compare and the report use, named by `how` alone.
COST_PER_JOB = "cost_per_additional_job"
COST_PER_JOB_QUANTITY = "public spending per additional person sustained in work (analysis.costing)"


# -------------------------------------------------------------------------------- factors
@dataclass(frozen=True)
class FactorDef:
    """A model factor of a claim's arithmetic, from per-arm means over the paired seeds.

    `value(mean, n_districts)`: mean(arm_or_versus, measure) gives an arm's mean over the seeds.
    """

    key: str
    unit: Unit
    measures: tuple[str, ...]
    value: Callable[[Callable[[str, str], float], float], float]


def _div(a: float, b: float) -> float:
    return a / b if b != 0 and math.isfinite(b) else math.nan


FACTORS: dict[str, FactorDef] = {
    f.key: f
    for f in (
        FactorDef("n_districts", "count", (), lambda m, nd: nd),
        FactorDef(
            "hub_firms_per_district", "count", ("hub_new_firms",), lambda m, nd: _div(m("arm", "hub_new_firms"), nd)
        ),
        FactorDef(
            "small_firm_jobs_per_hub_firm",
            "count",
            ("small_firm_jobs_last12", "hub_new_firms"),
            lambda m, nd: _div(
                m("arm", "small_firm_jobs_last12") - m("versus", "small_firm_jobs_last12"), m("arm", "hub_new_firms")
            ),
        ),
        FactorDef(
            "employment_per_small_firm_job",
            "share",
            ("employed_last12", "small_firm_jobs_last12"),
            lambda m, nd: _div(
                m("arm", "employed_last12") - m("versus", "employed_last12"),
                m("arm", "small_firm_jobs_last12") - m("versus", "small_firm_jobs_last12"),
            ),
        ),
        FactorDef(
            "versus_cost_per_year",
            "gbp",
            ("employment_support_cost_per_year",),
            lambda m, nd: m("versus", "employment_support_cost_per_year"),
        ),
        FactorDef(
            "cost_saving_share",
            "share",
            ("employment_support_cost_per_year",),
            lambda m, nd: (
                1.0
                - _div(m("arm", "employment_support_cost_per_year"), m("versus", "employment_support_cost_per_year"))
            ),
        ),
        FactorDef(
            "contribution_per_district_year",
            "gbp",
            ("developer_contribution_per_year",),
            lambda m, nd: _div(m("arm", "developer_contribution_per_year"), nd),
        ),
    )
}


# ------------------------------------------------------------------------------- registry
class Source(Strict):
    quote: str = Field(min_length=1)
    citation: str = Field(min_length=1)


class ClaimTest(Strict):
    """One model quantity standing for (part of) a claim, with the claimed value if there is one."""

    label: str = Field(min_length=1)
    measure: str | None = None  # required but with how = "cost_per_additional_job", whose figure is fixed
    how: How
    per: str | None = None  # per_difference: the denominator measure
    arm: str | None = None  # default: the claim's arm
    versus: str | None = None  # default: the claim's versus
    claimed: float | None = None
    claimed_range: list[float] | None = None
    national_only: bool = False
    place_scale: Literal["working_age", "districts"] = "working_age"
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> ClaimTest:
        if self.claimed is not None and self.claimed_range is not None:
            raise ValueError("give claimed or claimed_range, not both")
        if self.claimed_range is not None and (
            len(self.claimed_range) != 2 or self.claimed_range[0] > self.claimed_range[1]
        ):
            raise ValueError("claimed_range must be [low, high] with low <= high")
        if (self.how == "per_difference") != (self.per is not None):
            raise ValueError("'per' is required with how = 'per_difference' and only then")
        if (self.how == COST_PER_JOB) != (self.measure is None):
            raise ValueError(
                f"'measure' is required, but with how = '{COST_PER_JOB}' (its cost and jobs are fixed: "
                "analysis.costing) and only then"
            )
        if self.national_only and self.claimed is None and self.claimed_range is None:
            raise ValueError("national_only needs a claimed value")
        return self

    @property
    def quantity(self) -> str:
        """What the test measures, for tables: its measure (per its denominator), or cost per job."""
        if self.measure is None:
            return COST_PER_JOB_QUANTITY
        return self.measure + (f" per {self.per}" if self.per else "")

    def claim_bounds(self) -> tuple[float, float] | None:
        if self.claimed is not None:
            return (self.claimed, self.claimed)
        if self.claimed_range is not None:
            return (self.claimed_range[0], self.claimed_range[1])
        return None


class Factor(Strict):
    key: str
    label: str = Field(min_length=1)
    report: float | None = None  # None: solved so that the factors multiply to the total
    report_low: float | None = None
    report_high: float | None = None
    national: bool = False
    place_scale: Literal["working_age", "districts"] | None = None
    basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Factor:
        if (self.report_low is None) != (self.report_high is None):
            raise ValueError("give both report_low and report_high, or neither")
        if self.report_low is not None and self.report_high is not None:
            if self.report is None:
                raise ValueError("a solved factor (no 'report') takes its range from the others")
            if not self.report_low <= self.report <= self.report_high:
                raise ValueError(f"report {self.report} outside [report_low, report_high]")
        if self.report is not None and self.report <= 0:
            raise ValueError("report values must be positive (they are compared on a log scale)")
        return self


class Arithmetic(Strict):
    text: str = Field(min_length=1)
    total: float = Field(gt=0)
    unit: Unit
    factors: list[Factor] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Arithmetic:
        if sum(f.report is None for f in self.factors) > 1:
            raise ValueError("at most one factor may leave out 'report' (it is solved from the total)")
        return self


class Assumptions(Strict):
    parameters: list[str] = Field(default_factory=list)
    levers: list[str] = Field(default_factory=list)


class Stage(Strict):
    measure: str
    label: str = Field(min_length=1)


class Decomposition(Strict):
    """A ratio between the claim's arms taken apart along a chain of measures (run totals): the
    last measure's ratio is the first's ratio times, for each later stage, the ratio of it over the
    one before. For developers: plans x value per plan x contribution per £1m x share paid."""

    label: str = Field(min_length=1)
    stages: list[Stage] = Field(min_length=2)


# Pipelines a claim's sweep can replay without the rest of the model (`claims._sweep`).
PIPELINES = ("developers",)


class Sweep(Strict):
    """One parameter at a time over its evidence range (calibration.toml's low and high), the
    others as run: how far each moves the ratio of the pipeline's money between the claim's arms."""

    pipeline: Literal["developers"]
    parameters: list[str] = Field(min_length=1)
    max_seeds: int = Field(default=10, ge=1)


class Claim(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    arm: str
    versus: str
    sources: list[Source] = Field(min_length=1)
    tests: list[ClaimTest] = Field(min_length=1)
    report_arithmetic: Arithmetic
    assumptions: Assumptions
    decomposition: Decomposition | None = None
    sweep: Sweep | None = None


class Arm(Strict):
    regime: str = Field(min_length=1)
    levers: dict[str, float | bool | str] = Field(default_factory=dict)
    description: str = ""


class England(Strict):
    working_age_pop: float = Field(gt=0)
    districts: int = Field(gt=0)
    source: str = Field(min_length=1)


class Registry(Strict):
    england: England
    arms: dict[str, Arm] = Field(min_length=1)
    claims: list[Claim] = Field(min_length=1)


def _nearest(name: str, options: Any) -> str:
    match = difflib.get_close_matches(str(name), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def load_registry(path: Path | None = None) -> Registry:
    """Read and check the claims registry; every problem is a one-line ConfigError naming the field."""
    path = Path(path) if path is not None else REGISTRY
    reg = _validate(Registry, read_toml(path), path)
    for name, arm in reg.arms.items():
        arm_regime(path, name, arm)  # the regime exists and its lever changes are valid
    lever_names = {*Levers.model_fields, *GroupLevers.model_fields}
    seen: set[str] = set()
    for i, c in enumerate(reg.claims):
        where = f"claims[{i}]"
        if c.id in seen:
            raise ConfigError(path, f"{where}.id", f"duplicate claim id {c.id!r}")
        seen.add(c.id)
        for attr in ("arm", "versus"):
            _check_arm(path, f"{where}.{attr}", getattr(c, attr), c.id, reg)
        for j, t in enumerate(c.tests):
            tw = f"{where}.tests[{j}]"
            for attr in ("arm", "versus"):
                if getattr(t, attr) is not None:
                    _check_arm(path, f"{tw}.{attr}", getattr(t, attr), c.id, reg)
            for attr in ("measure", "per"):
                key = getattr(t, attr)
                if key is not None and key not in MEASURES:
                    raise ConfigError(
                        path,
                        f"{tw}.{attr}",
                        f"unknown measure {key!r} in claim {c.id!r}{_nearest(key, MEASURES)}; "
                        f"known: {', '.join(MEASURES)}",
                    )
        for j, f in enumerate(c.report_arithmetic.factors):
            if f.key not in FACTORS:
                raise ConfigError(
                    path,
                    f"{where}.report_arithmetic.factors[{j}].key",
                    f"unknown factor {f.key!r} in claim {c.id!r}{_nearest(f.key, FACTORS)}; "
                    f"known: {', '.join(FACTORS)}",
                )
        if c.decomposition is not None:
            for j, st in enumerate(c.decomposition.stages):
                _check_total(path, f"{where}.decomposition.stages[{j}].measure", st.measure, c.id)
        if c.sweep is not None:
            _check_parameters(path, f"{where}.sweep.parameters", c.sweep.parameters, c.id)
        _check_parameters(path, f"{where}.assumptions.parameters", c.assumptions.parameters, c.id)
        for j, lv in enumerate(c.assumptions.levers):
            if lv not in lever_names:
                raise ConfigError(
                    path,
                    f"{where}.assumptions.levers[{j}]",
                    f"unknown lever {lv!r} in claim {c.id!r}{_nearest(lv, lever_names)}",
                )
    return reg


def _check_parameters(path: Path, field: str, names: Sequence[str], claim: str) -> None:
    """Every name a calibration parameter: one line naming the first that is not."""
    for j, p in enumerate(names):
        if p not in PARAMETERS:
            raise ConfigError(
                path, f"{field}[{j}]", f"unknown parameter {p!r} in claim {claim!r}{_nearest(p, PARAMETERS)}"
            )


def _check_total(path: Path, field_path: str, key: str, claim: str) -> None:
    """A decomposition's stage: a known measure that is a total over the whole run (so stages divide)."""
    if key not in MEASURES:
        raise ConfigError(
            path,
            field_path,
            f"unknown measure {key!r} in claim {claim!r}{_nearest(key, MEASURES)}; known: {', '.join(MEASURES)}",
        )
    m = MEASURES[key]
    if m.how != "total" or m.window != "run":
        raise ConfigError(
            path, field_path, f"measure {key!r} is not a total over the run (how = {m.how!r}, window = {m.window!r})"
        )


def _check_arm(path: Path, field_path: str, name: str, claim: str, reg: Registry) -> None:
    if name not in reg.arms:
        raise ConfigError(
            path,
            field_path,
            f"unknown arm {name!r} in claim {claim!r}{_nearest(name, reg.arms)}; arms: {', '.join(reg.arms)}",
        )


def arm_regime(path: Path, name: str, arm: Arm) -> RegimeFile:
    """The regime an arm runs: its base regime with the arm's levers changed, named after the arm."""
    try:
        base = load_regime(arm.regime)
    except ConfigError as e:
        raise ConfigError(path, f"arms.{name}.regime", f"{e}") from None
    data = base.model_dump()
    data["name"] = name
    for key, value in arm.levers.items():
        try:
            set_lever(data["levers"], key, value)
        except ConfigError as e:
            raise ConfigError(path, f"arms.{name}.levers.{key}", e.expected) from None
    try:
        return _validate(RegimeFile, data, path)
    except ConfigError as e:
        raise ConfigError(path, f"arms.{name}.{e.field}", e.expected) from None


def arm_scenario(registry: Registry, arm: str, place: str, *, registry_path: Path | None = None, **kw: Any) -> Scenario:
    """A scenario running one of the registry's arms at a place (make_scenario keywords pass through)."""
    if arm not in registry.arms:
        raise ConfigError(registry_path or REGISTRY, "arms", f"no arm {arm!r}{_nearest(arm, registry.arms)}")
    spec = registry.arms[arm]
    sc = make_scenario(place, spec.regime, lever_overrides=dict(spec.levers) or None, **kw)
    return sc.model_copy(update={"regime": sc.regime.model_copy(update={"name": arm})})
