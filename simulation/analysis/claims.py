"""`labourlab claims`: the headline claims of "Unlocking our Wealth" against finished runs.

The claims, the arms each compares, the model quantities that stand for them, their sources and
the report's implied arithmetic are data, in `configs/claims.toml` (validated here, strictly).
For each claim this reads the runs of its arms (either results layout: results_io), pairs them
on the seeds every arm was run on (common random numbers), and reports:

- the model's estimate with a 90% interval across seeds: a paired difference, or a ratio taken
  seed by seed, summarised as compare does (mean +/- t(0.95, n-1) sd / sqrt(n)); ratios also as a
  ratio of means with a Fieller interval; a cost per additional job as a ratio of mean
  differences with a Fieller interval (stats.fieller);
- the claimed value, and whether it lies inside the interval ("consistent"), above it ("model
  lower") or below it ("model higher"), with how many seeds would settle it when the interval
  straddles the claim and is wide (stats.seeds_needed);
- the report's implied arithmetic, factor by factor, beside the model's own factors, and which
  factor differs most (the largest ratio on a log scale);
- the calibration parameters and levers the answer depends on most.

A claim made for England is tested only on an England place. Elsewhere it is shown scaled to the
place (by working-age population, or by number of districts) for display only: the scaled figure
puts the report's national number on the place's scale; it is never a national model figure.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from simulation.analysis import results_io
from simulation.analysis.compare import LAST_MONTHS
from simulation.analysis.stats import Interval, fieller, seeds_needed, summarise
from simulation.config import (
    CONFIGS,
    GROUPS,
    ConfigError,
    GroupLevers,
    Levers,
    RegimeFile,
    Scenario,
    Strict,
    _validate,
    load_calibration,
    load_regime,
    make_scenario,
    read_toml,
    set_lever,
)
from simulation.parameters import PARAMETERS
from simulation.results import atomic_write

REGISTRY = CONFIGS / "claims.toml"
WIDE = 0.10  # an interval straddling the claim is "wide" when its half-width exceeds 10% of the claim
SETTLE = 1.0  # planner: seeds for a half-width below |model mean - claim| (the claim then falls outside)
ENGLAND_TOLERANCE = 0.05  # a place within 5% of England's working-age population counts as England

Unit = Literal["gbp", "count", "ratio", "share"]
How = Literal["level", "difference", "saving", "relative", "ratio", "per_difference"]


# ------------------------------------------------------------------------------- measures
@dataclass(frozen=True)
class ClaimMeasure:
    """One figure per run from its month totals (`g`, all districts summed; `tail`, the last months)."""

    key: str
    label: str
    unit: Unit
    columns: tuple[str, ...]
    value: Callable[[pd.DataFrame, pd.DataFrame], float]


def _years(g: pd.DataFrame) -> float:
    return len(g) / 12.0


def _per_year(col: str) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    return lambda g, tail: float(g[col].sum()) / _years(g)


def _total(col: str) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    return lambda g, tail: float(g[col].sum())


def _last(col: str) -> Callable[[pd.DataFrame, pd.DataFrame], float]:
    return lambda g, tail: float(tail[col].mean())


def _cost_per_outcome(g: pd.DataFrame, tail: pd.DataFrame) -> float:
    n = float(g["programme_job_outcomes"].sum())
    return float(g["employment_support_cost"].sum()) / n if n > 0 else math.nan


_LAST = f"mean over the last {LAST_MONTHS} months"
MEASURES: dict[str, ClaimMeasure] = {
    m.key: m
    for m in (
        ClaimMeasure(
            "employment_support_cost_per_year",
            "employment-support cost a year",
            "gbp",
            ("employment_support_cost",),
            _per_year("employment_support_cost"),
        ),
        ClaimMeasure(
            "employment_support_cost_total",
            "employment-support cost over the run",
            "gbp",
            ("employment_support_cost",),
            _total("employment_support_cost"),
        ),
        ClaimMeasure(
            "business_support_cost_per_year",
            "business-support cost a year",
            "gbp",
            ("business_support_cost",),
            _per_year("business_support_cost"),
        ),
        ClaimMeasure(
            "business_support_cost_total",
            "business-support cost over the run",
            "gbp",
            ("business_support_cost",),
            _total("business_support_cost"),
        ),
        ClaimMeasure(
            "public_cost_per_year", "public cost a year (net)", "gbp", ("public_cost",), _per_year("public_cost")
        ),
        ClaimMeasure(
            "job_outcomes",
            "programme job outcomes",
            "count",
            ("programme_job_outcomes",),
            _total("programme_job_outcomes"),
        ),
        ClaimMeasure("sustained_jobs", "sustained jobs", "count", ("sustained_jobs",), _total("sustained_jobs")),
        ClaimMeasure(
            "cost_per_job_outcome",
            "employment-support cost per programme job outcome",
            "gbp",
            ("employment_support_cost", "programme_job_outcomes"),
            _cost_per_outcome,
        ),
        ClaimMeasure("employed_last12", f"employed, {_LAST}", "count", ("employed",), _last("employed")),
        ClaimMeasure(
            "small_firm_jobs_last12",
            f"small-business jobs, {_LAST}",
            "count",
            ("small_firm_jobs",),
            _last("small_firm_jobs"),
        ),
        ClaimMeasure(
            "hub_new_firms", "firms taken on by hubs over the run", "count", ("hub_new_firms",), _total("hub_new_firms")
        ),
        ClaimMeasure(
            "developer_contribution_per_year",
            "developer skills contributions a year",
            "gbp",
            ("developer_skills_contribution",),
            _per_year("developer_skills_contribution"),
        ),
        ClaimMeasure(
            "developer_contribution_total",
            "developer skills contributions over the run",
            "gbp",
            ("developer_skills_contribution",),
            _total("developer_skills_contribution"),
        ),
    )
}


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
    measure: str
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
        if self.national_only and self.claimed is None and self.claimed_range is None:
            raise ValueError("national_only needs a claimed value")
        return self

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


class Claim(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    arm: str
    versus: str
    sources: list[Source] = Field(min_length=1)
    tests: list[ClaimTest] = Field(min_length=1)
    report_arithmetic: Arithmetic
    assumptions: Assumptions


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
        for j, p in enumerate(c.assumptions.parameters):
            if p not in PARAMETERS:
                raise ConfigError(
                    path,
                    f"{where}.assumptions.parameters[{j}]",
                    f"unknown parameter {p!r} in claim {c.id!r}{_nearest(p, PARAMETERS)}",
                )
        for j, lv in enumerate(c.assumptions.levers):
            if lv not in lever_names:
                raise ConfigError(
                    path,
                    f"{where}.assumptions.levers[{j}]",
                    f"unknown lever {lv!r} in claim {c.id!r}{_nearest(lv, lever_names)}",
                )
    return reg


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


# ------------------------------------------------------------------------------ estimates
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


# ---------------------------------------------------------------------------------- report
@dataclass
class TestResult:
    test: ClaimTest
    arm: str
    versus: str | None
    unit: str  # display unit: gbp, count, ratio, share, gbp_per
    est: Estimate | None
    seeds: list[int]
    bounds: tuple[float, float] | None  # claimed, on the scale tested (national when at England)
    national: bool  # a national claim
    testable: bool  # the place can test it
    scaled: tuple[float, float] | None  # national claim scaled to the place, for display
    verdict: Verdict | None
    note: str = ""


@dataclass
class FactorResult:
    factor: Factor
    label: str
    unit: str
    model: float
    report: float
    report_low: float
    report_high: float
    solved: bool
    compared: bool  # used for "differs most"
    scaled: float = math.nan  # the report's national value on the place's scale (display only)


@dataclass
class ClaimResult:
    claim: Claim
    status: str  # "tested" or "skipped"
    note: str = ""
    place: str = ""
    england: bool = False
    working_age: float = math.nan
    n_districts: float = math.nan
    seeds: list[int] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    factors: list[FactorResult] = field(default_factory=list)
    product_model: float = math.nan
    product_report: float = math.nan
    differs_most: str = ""
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ClaimsReport:
    folder: Path
    layout: str
    registry_path: Path
    england: England
    claims: list[ClaimResult]
    notes: list[str]


def _month_totals(run: results_io.RunData) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = run.monthly.groupby("month").sum(numeric_only=True).sort_index()
    return g, g.iloc[-LAST_MONTHS:]


def _n_districts(run: results_io.RunData) -> int:
    return int(run.monthly["district"].nunique()) if "district" in run.monthly.columns else 1


def is_england(place: str, working_age: float, england: England) -> bool:
    """An England place: named so, or within 5% of England's working-age population."""
    if place.lower().startswith("england"):
        return True
    return working_age > 0 and abs(working_age / england.working_age_pop - 1.0) <= ENGLAND_TOLERANCE


def _scale(value: float, how: str, wap: float, nd: float, england: England) -> float:
    if how == "districts":
        return value * nd / england.districts
    return value * wap / england.working_age_pop


class _Values:
    """Per-run measure values, computed once."""

    def __init__(self, by: dict[str, dict[int, results_io.RunData]]) -> None:
        self.by = by
        self.cache: dict[tuple[str, int], tuple[pd.DataFrame, pd.DataFrame]] = {}

    def totals(self, arm: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        if (arm, seed) not in self.cache:
            self.cache[(arm, seed)] = _month_totals(self.by[arm][seed])
        return self.cache[(arm, seed)]

    def lacking(self, arm: str, seeds: list[int], measure: str) -> list[str]:
        cols = MEASURES[measure].columns
        return sorted({c for s in seeds for c in cols if c not in self.by[arm][s].monthly.columns})

    def get(self, arm: str, seeds: list[int], measure: str) -> np.ndarray:
        m = MEASURES[measure]
        return np.array([m.value(*self.totals(arm, s)) for s in seeds], dtype=float)


def _display_unit(t: ClaimTest) -> str:
    if t.how == "relative":
        return "share"
    if t.how == "ratio":
        return "ratio"
    if t.how == "per_difference":
        return "gbp" if MEASURES[t.measure].unit == "gbp" else "ratio"
    return MEASURES[t.measure].unit


def analyse(folder: Path, registry_path: Path | None = None) -> ClaimsReport:
    """Read the results in `folder` and test every claim of the registry against them."""
    registry_path = Path(registry_path) if registry_path is not None else REGISTRY
    reg = load_registry(registry_path)
    res = results_io.load_results(Path(folder))
    by = res.by_scenario()
    notes = list(res.notes)
    values = _Values(by)
    try:
        records = load_calibration().records
    except ConfigError:
        records = {}
    out = [_claim(c, reg, by, values, records) for c in reg.claims]
    used = {a for c in reg.claims for a in (c.arm, c.versus, *(x for t in c.tests for x in (t.arm, t.versus) if x))}
    unused = sorted(set(by) - used)
    if unused:
        notes.append(f"scenarios in the results that no claim uses: {', '.join(unused)}")
    return ClaimsReport(Path(folder), res.layout, registry_path, reg.england, out, notes)


def _claim(
    c: Claim,
    reg: Registry,
    by: dict[str, dict[int, results_io.RunData]],
    values: _Values,
    records: dict[str, Any],
) -> ClaimResult:
    found = ", ".join(sorted(by)) or "none"
    missing = [a for a in dict.fromkeys((c.arm, c.versus)) if a not in by]
    if missing:
        return ClaimResult(
            c,
            "skipped",
            f"claim {c.id}: not tested: the results have no runs of {', '.join(missing)} (arms found: {found})",
        )
    needed = list(dict.fromkeys([c.arm, c.versus, *(a for t in c.tests for a in (t.arm, t.versus) if a in by)]))
    runs = [r for a in needed for r in by[a].values()]
    for what, get in (("place", lambda r: r.place), ("months", lambda r: r.months)):
        seen = sorted({str(get(r)) for r in runs})
        if len(seen) > 1:
            return ClaimResult(
                c, "skipped", f"claim {c.id}: not tested: its arms' runs differ in {what} ({', '.join(seen)})"
            )
    seeds = sorted(set(by[c.arm]) & set(by[c.versus]))
    if not seeds:
        return ClaimResult(c, "skipped", f"claim {c.id}: not tested: no seed was run under both {c.arm} and {c.versus}")
    first = by[c.arm][seeds[0]]
    wap = first.working_age_pop
    nd = float(np.mean([_n_districts(by[c.arm][s]) for s in seeds]))
    eng = is_england(first.place, wap, reg.england)
    cr = ClaimResult(c, "tested", place=first.place, england=eng, working_age=wap, n_districts=nd, seeds=seeds)
    for a in (c.arm, c.versus):
        extra = sorted(set(by[a]) - set(seeds))
        if extra:
            cr.notes.append(f"{a} seeds {', '.join(map(str, extra))} have no pair; left out")
    for t in c.tests:
        cr.tests.append(_test(t, c, by, values, reg.england, eng, wap, nd))
    _factors(cr, values, reg.england)
    cr.assumptions = _assumptions(c, by, records, [c.arm, c.versus])
    return cr


def _test(
    t: ClaimTest,
    c: Claim,
    by: dict[str, dict[int, results_io.RunData]],
    values: _Values,
    england: England,
    eng: bool,
    wap: float,
    nd: float,
) -> TestResult:
    arm = t.arm or c.arm
    versus = None if t.how == "level" else (t.versus or c.versus)
    bounds = t.claim_bounds()
    national = t.national_only
    testable = not national or eng
    scaled = None
    if bounds is not None and national and not eng:
        scaled = (
            _scale(bounds[0], t.place_scale, wap, nd, england),
            _scale(bounds[1], t.place_scale, wap, nd, england),
        )
    r = TestResult(t, arm, versus, _display_unit(t), None, [], bounds, national, testable, scaled, None)
    arms = [a for a in (arm, versus) if a is not None]
    absent = [a for a in arms if a not in by]
    if absent:
        r.note = f"not estimated: no runs of {', '.join(absent)}"
        return r
    seeds = sorted(set.intersection(*(set(by[a]) for a in arms)))
    if not seeds:
        r.note = f"not estimated: no seed run under {' and '.join(arms)}"
        return r
    r.seeds = seeds
    lacking = sorted({x for a in arms for m in (t.measure, t.per) if m for x in values.lacking(a, seeds, m)})
    if lacking:
        r.note = f"not estimated: monthly tables lack {', '.join(lacking)} (older results?)"
        return r
    a_v = values.get(arm, seeds, t.measure)
    b_v = values.get(versus, seeds, t.measure) if versus else None
    pa = values.get(arm, seeds, t.per) if t.per else None
    pb = values.get(versus, seeds, t.per) if (t.per and versus) else None
    r.est = estimate(t.how, a_v, b_v, pa, pb)
    if bounds is not None and testable:
        r.verdict = verdict(r.est, bounds)
    elif bounds is not None and scaled is not None:
        r.verdict = Verdict("not testable at this scale")
        ind = verdict(r.est, scaled).text if math.isfinite(r.est.low) else ""
        if ind in ("model lower", "model higher", "consistent"):
            r.note = f"against the scaled claim (indicative only): {ind}"
    return r


def _factors(cr: ClaimResult, values: _Values, england: England) -> None:
    c = cr.claim
    ar = c.report_arithmetic
    if not ar.factors:
        return
    seeds = cr.seeds
    have = set(MEASURES)
    for f in ar.factors:
        for m in FACTORS[f.key].measures:
            for a in (c.arm, c.versus):
                if values.lacking(a, seeds, m):
                    have.discard(m)

    def mean(which: str, measure: str) -> float:
        if measure not in have:
            return math.nan
        arm = c.arm if which == "arm" else c.versus
        return float(np.mean(values.get(arm, seeds, measure)))

    # The report's values: a solved factor makes them multiply to the total.
    known = [f for f in ar.factors if f.report is not None]
    prod = math.prod(f.report for f in known if f.report is not None)
    prod_lo = math.prod((f.report_low if f.report_low is not None else f.report) for f in known)  # type: ignore[misc]
    prod_hi = math.prod((f.report_high if f.report_high is not None else f.report) for f in known)  # type: ignore[misc]
    rows = []
    for f in ar.factors:
        d = FACTORS[f.key]
        model = d.value(mean, cr.n_districts)
        if f.report is None:
            rep, lo, hi, solved = ar.total / prod, ar.total / prod_hi, ar.total / prod_lo, True
        else:
            rep, solved = f.report, False
            lo = f.report_low if f.report_low is not None else f.report
            hi = f.report_high if f.report_high is not None else f.report
        compared = (not f.national or cr.england) and math.isfinite(model)
        row = FactorResult(f, f.label, d.unit, model, rep, lo, hi, solved, compared)
        if f.national and not cr.england:
            how = f.place_scale or ("districts" if f.key == "n_districts" else "working_age")
            row.scaled = _scale(rep, how, cr.working_age, cr.n_districts, england)
        rows.append(row)
    cr.factors = rows
    cr.product_model = math.prod(r.model for r in rows)
    cr.product_report = ar.total
    cands = [r for r in rows if r.compared]
    if not cands:
        cr.differs_most = "no factor can be compared at this place"
        return
    nonpos = [r for r in cands if r.model <= 0]
    if nonpos:
        r = nonpos[0]
        cr.differs_most = (
            f"{_short(r.label)}: the model's value is {_fmt(r.model, r.unit)} (not positive) against the report's "
            f"{_fmt(r.report, r.unit)}"
        )
        return
    r = max(cands, key=lambda r: abs(math.log(r.model / r.report)))
    ratio = r.model / r.report
    way = (
        f"{_times(ratio)} times the report's"
        if ratio >= 1
        else f"the report's is {_times(1 / ratio)} times the model's"
    )
    cr.differs_most = (
        f"{_short(r.label)}: model {_fmt(r.model, r.unit)} against the report's {_fmt(r.report, r.unit)} ({way})"
    )
    skipped = [x for x in rows if not x.compared and x.factor.national and not cr.england]
    if skipped:
        cr.differs_most += " (national factors left out: the place is not England)"


def _times(x: float) -> str:
    """A factor of at least 1 to two significant figures, without exponents."""
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def _short(label: str) -> str:
    return label.split(" (")[0]


def _assumptions(
    c: Claim, by: dict[str, dict[int, results_io.RunData]], records: dict[str, Any], arms: list[str]
) -> list[str]:
    runs = [r for a in arms for r in by[a].values()]
    out = []
    for p in c.assumptions.parameters:
        used = {_lever(v) for r in runs if (v := _dig(r.config, "params", p)) is not None}
        val = next(iter(used)) if len(used) == 1 else ("varies across runs" if used else "not in the manifests")
        rec = records.get(p)
        rng = f" (evidence range {rec.low:g}-{rec.high:g} {rec.unit})" if rec is not None else ""
        out.append(f"{p} = {val}{rng}")
    for lv in c.assumptions.levers:
        parts = []
        for a in arms:
            # A damaged manifest may lack any level of this; show '?' rather than fail.
            lev = _dig(by[a][min(by[a])].config, "regime", "levers")
            lev = lev if isinstance(lev, dict) else {}
            if lv in lev:
                parts.append(f"{a} {_lever(lev[lv])}")
            elif lv in GroupLevers.model_fields:
                parts.append(f"{a} " + "/".join(_lever(_dig(lev, "groups", g, lv) or "?") for g in GROUPS))
        suffix = f" (by claimant group: {'/'.join(GROUPS)})" if lv in GroupLevers.model_fields else ""
        out.append(f"lever {lv}{suffix}: " + "; ".join(parts))
    return out


def _dig(d: Any, *keys: str) -> Any:
    """d[k1][k2]..., or None where a level is missing or not a table."""
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _lever(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) and not isinstance(v, bool) else str(v)


# ------------------------------------------------------------------------------ formatting
def _fmt(x: float, unit: str, signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    sign = ("+" if x > 0 else "-" if x < 0 else "") if signed else ("-" if x < 0 else "")
    a = abs(x)
    if unit == "gbp":
        if a >= 1e9:
            s = f"£{a / 1e9:,.2f}bn"
        elif a >= 1e6:
            s = f"£{a / 1e6:,.2f}m"
        else:
            s = f"£{a:,.0f}"
    elif unit == "share":
        s = f"{100 * a:.1f}%"
    elif unit == "ratio":
        s = f"{a:,.2f}" if a >= 0.1 or a == 0 else f"{a:.2g}"
    else:  # counts
        s = f"{a:,.0f}" if a >= 100 or float(a).is_integer() else f"{a:,.1f}" if a >= 1 else f"{a:.3g}"
    if not any(ch in "123456789" for ch in s):
        sign = ""  # no "-0" or "+0.0%"
    return sign + s


def _interval(e: Estimate | None, unit: str, signed: bool) -> str:
    if e is None:
        return "n/a"
    cell = _fmt(e.mean, unit, signed)
    if e.n >= 2:
        if math.isfinite(e.low):
            cell += f" [{_fmt(e.low, unit, signed)}, {_fmt(e.high, unit, signed)}]"
        elif math.isfinite(e.mean):
            cell += " [unbounded]"
    return cell


def _claimed_cell(r: TestResult) -> str:
    if r.bounds is None:
        return ""
    unit = r.unit
    lo, hi = r.bounds
    signed = r.test.how in ("relative", "difference")
    s = _fmt(lo, unit, signed) if lo == hi else f"{_fmt(lo, unit)} to {_fmt(hi, unit)}"
    if r.national:
        s += " (England)"
    if r.scaled is not None:
        a, b = r.scaled
        s += f"; {_fmt(a, unit, signed) if a == b else f'{_fmt(a, unit)} to {_fmt(b, unit)}'} scaled to this place"
    return s


def _verdict_cell(r: TestResult) -> str:
    if r.verdict is None:
        return "" if r.bounds is None or r.est is not None else "n/a"
    v = r.verdict.text
    if r.verdict.too_few:
        v += " (too few seeds to conclude)"
    return v


def _how_text(r: TestResult) -> str:
    t = r.test
    if t.how == "level":
        return r.arm
    if t.how == "saving":
        return f"{r.versus} - {r.arm}"
    if t.how == "difference":
        return f"{r.arm} - {r.versus}"
    if t.how == "relative":
        return f"{r.arm} / {r.versus} - 1"
    if t.how == "ratio":
        return f"{r.arm} / {r.versus}"
    return f"Δ over {r.versus}, ratio of means"


def test_lines(cr: ClaimResult) -> list[str]:
    """Notes under a claim's table: what could not be tested and what too few seeds left open."""
    out = []
    if any(r.est is not None and r.est.n < 2 for r in cr.tests):
        out.append("only one paired seed for some quantities: no intervals there; run at least 2 (5 or more is better)")
    for r in cr.tests:
        if r.note:
            out.append(f"{r.test.label}: {r.note}")
        if r.est is not None and r.est.note:
            out.append(f"{r.test.label}: {r.est.note}")
        if r.verdict is not None and r.verdict.too_few:
            need = r.verdict.seeds_to_settle
            if math.isinf(need):
                est = "not estimable (the model's mean equals the claim)"
            elif need > 100_000:
                est = "more than 100,000 seeds"
            else:
                est = f"about {int(need):,} paired seeds"
            out.append(
                f"{r.test.label}: too few seeds to conclude: the 90% interval straddles the claimed value and its "
                f"half-width is over {WIDE:.0%} of it; {est} would put the claim outside the interval if the model's "
                "mean and spread hold (compare's planner, from these seeds)"
            )
    if any(r.national and not r.testable for r in cr.tests):
        out.append(
            f"{cr.place} is not England: the claim's national figures cannot be tested at this scale. They are shown "
            "scaled to this place (by working-age population, or by number of districts where the claim is one hub "
            "per district) to put the report's number on the place's scale for display only; the scaled figure is "
            "not a national estimate by the model."
        )
    return out


@dataclass
class TableSpec:
    title: str
    headers: list[str]
    rows: list[list[str]]


def claim_tables(cr: ClaimResult) -> list[TableSpec]:
    out = []
    rows = []
    for r in cr.tests:
        signed = r.test.how in ("difference", "saving", "relative")
        model = _interval(r.est, r.unit, signed) if r.est is not None else "n/a"
        rom = ""
        if r.est is not None and r.test.how in ("ratio", "relative") and math.isfinite(r.est.ratio_of_means):
            rom = _fmt(r.est.ratio_of_means, r.unit, signed)
            rom += (
                f" [{_fmt(r.est.fieller_low, r.unit, signed)}, {_fmt(r.est.fieller_high, r.unit, signed)}]"
                if math.isfinite(r.est.fieller_low)
                else " [unbounded]"
            )
        n = str(r.est.n) if r.est is not None else "0"
        rows.append([r.test.label, _how_text(r), model, rom, _claimed_cell(r), _verdict_cell(r), n])
    out.append(
        TableSpec(
            f"{cr.claim.id}: {cr.claim.title}",
            [
                "model quantity",
                "arms",
                "model: mean [90% interval]",
                "ratio of means [Fieller]",
                "claimed",
                "verdict",
                "seeds",
            ],
            rows,
        )
    )
    if cr.factors:
        frows = []
        for f in cr.factors:
            rep = _fmt(f.report, f.unit)
            if f.report_low != f.report_high:
                rep += f" ({_fmt(f.report_low, f.unit)}-{_fmt(f.report_high, f.unit)})"
            if f.solved:
                rep += " solved"
            if math.isfinite(f.scaled):
                rep += f"; {_fmt(f.scaled, f.unit)} scaled to this place"
            if f.compared:
                ratio = _fmt(f.model / f.report, "ratio")
            elif math.isfinite(f.scaled) and math.isfinite(f.model) and f.scaled > 0:
                ratio = f"{_fmt(f.model / f.scaled, 'ratio')} of the scaled value (not compared)"
            else:
                ratio = "not compared"
            frows.append([f.label, _fmt(f.model, f.unit), rep, ratio])
        unit = cr.claim.report_arithmetic.unit
        tot = _fmt(cr.product_report, unit) + (" (England)" if not cr.england else "")
        frows.append(["product (the claim)", _fmt(cr.product_model, unit), tot, ""])
        if any(f.factor.key == "n_districts" for f in cr.factors):
            nd_f = next(f for f in cr.factors if f.factor.key == "n_districts")
            per_model = _div(cr.product_model, cr.n_districts)
            per_rep = cr.product_report / nd_f.report
            lo_, hi_ = cr.product_report / nd_f.report_high, cr.product_report / nd_f.report_low
            rng = f" ({_fmt(lo_, unit)}-{_fmt(hi_, unit)})"
            frows.append(
                [
                    "per district",
                    _fmt(per_model, unit),
                    _fmt(per_rep, unit) + rng,
                    _fmt(_div(per_model, per_rep), "ratio"),
                ]
            )
        out.append(
            TableSpec(
                f"{cr.claim.id}: the report's implied arithmetic beside the model's (means over {len(cr.seeds)} seeds)",
                ["factor", "model", "report (range)", "model / report"],
                frows,
            )
        )
    return out


def print_report(rep: ClaimsReport, console: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = console or Console(width=200)
    print(f"labourlab claims: {len(rep.claims)} claims from {rep.registry_path}, against the runs in {rep.folder}")
    for n in rep.notes:
        print(f"note: {n}")
    for cr in rep.claims:
        print()
        if cr.status != "tested":
            print(cr.note)
            continue
        seeds = cr.seeds
        print(
            f"claim {cr.claim.id}: {cr.claim.title}. {cr.place}"
            f"{' (England)' if cr.england else ''}, {cr.claim.arm} against {cr.claim.versus}, "
            f"{len(seeds)} paired seeds ({', '.join(map(str, seeds))})"
        )
        for s in cr.claim.sources:
            print(f'  "{s.quote}" ({s.citation})')
        for spec in claim_tables(cr):
            t = Table(title=escape(spec.title))
            for i, h in enumerate(spec.headers):
                t.add_column(escape(h), justify="left" if i < 2 else "right")
            for row in spec.rows:
                t.add_row(*(escape(x) for x in row))
            con.print(t)
        print(f"Report arithmetic: {cr.claim.report_arithmetic.text}")
        for f in cr.factors:
            print(f"  {_short(f.label)}: {f.factor.basis}")
        if cr.differs_most:
            print(f"Differs most: {cr.differs_most}")
        print("Depends most on:")
        for a in cr.assumptions:
            print(f"  {a}")
        for line in [*cr.notes, *test_lines(cr)]:
            print(f"note: {line}")


def _md_table(spec: TableSpec) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    lines = [f"### {spec.title}", "", "| " + " | ".join(cell(h) for h in spec.headers) + " |"]
    lines.append("|" + "|".join(["---", "---"] + ["---:"] * (len(spec.headers) - 2)) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in spec.rows]
    return "\n".join(lines) + "\n"


def markdown(rep: ClaimsReport) -> str:
    parts = [
        "# labourlab claims",
        "",
        f"The headline claims of *Unlocking our Wealth* (2015), from `{rep.registry_path}`, against the runs in "
        f"`{rep.folder}`. Intervals are 90%, across paired seeds (common random numbers).",
        "",
    ]
    parts += [f"- {n}" for n in rep.notes]
    for cr in rep.claims:
        parts += [f"## {cr.claim.id}: {cr.claim.title}", ""]
        if cr.status != "tested":
            parts += [cr.note, ""]
            continue
        parts.append(
            f"{cr.place}{' (England)' if cr.england else ''}, {cr.claim.arm} against {cr.claim.versus}, "
            f"{len(cr.seeds)} paired seeds ({', '.join(map(str, cr.seeds))})."
        )
        parts.append("")
        parts += [f'> "{s.quote}" ({s.citation})\n' for s in cr.claim.sources]
        for spec in claim_tables(cr):
            parts.append(_md_table(spec))
        parts += [f"Report arithmetic: {cr.claim.report_arithmetic.text}", ""]
        parts += [f"- {_short(f.label)}: {f.factor.basis}" for f in cr.factors]
        if cr.differs_most:
            parts += ["", f"**Differs most:** {cr.differs_most}"]
        parts += ["", "Depends most on:", "", *[f"- {a}" for a in cr.assumptions], ""]
        parts += [f"- {line}" for line in [*cr.notes, *test_lines(cr)]]
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


CSV_COLUMNS = [
    "claim",
    "kind",
    "label",
    "measure",
    "how",
    "arm",
    "versus",
    "n_seeds",
    "unit",
    "estimate",
    "low",
    "high",
    "sd",
    "interval",
    "ratio_of_means",
    "fieller_low",
    "fieller_high",
    "claimed_low",
    "claimed_high",
    "national_only",
    "testable",
    "scaled_claimed_low",
    "scaled_claimed_high",
    "verdict",
    "too_few_seeds",
    "seeds_to_settle",
    "report",
    "report_low",
    "report_high",
    "note",
]


def frame(rep: ClaimsReport) -> pd.DataFrame:
    """Every test and factor of every claim, one row each, full precision."""
    rows: list[dict[str, Any]] = []
    for cr in rep.claims:
        if cr.status != "tested":
            rows.append({"claim": cr.claim.id, "kind": "skipped", "note": cr.note})
            continue
        for r in cr.tests:
            e = r.est
            rows.append(
                {
                    "claim": cr.claim.id,
                    "kind": "test",
                    "label": r.test.label,
                    "measure": r.test.measure + (f" per {r.test.per}" if r.test.per else ""),
                    "how": r.test.how,
                    "arm": r.arm,
                    "versus": r.versus or "",
                    "n_seeds": len(r.seeds),
                    "unit": r.unit,
                    "estimate": e.mean if e else math.nan,
                    "low": e.low if e else math.nan,
                    "high": e.high if e else math.nan,
                    "sd": e.sd if e else math.nan,
                    "interval": e.kind if e else "",
                    "ratio_of_means": e.ratio_of_means if e else math.nan,
                    "fieller_low": e.fieller_low if e else math.nan,
                    "fieller_high": e.fieller_high if e else math.nan,
                    "claimed_low": r.bounds[0] if r.bounds else math.nan,
                    "claimed_high": r.bounds[1] if r.bounds else math.nan,
                    "national_only": r.national,
                    "testable": r.testable,
                    "scaled_claimed_low": r.scaled[0] if r.scaled else math.nan,
                    "scaled_claimed_high": r.scaled[1] if r.scaled else math.nan,
                    "verdict": r.verdict.text if r.verdict else "",
                    "too_few_seeds": bool(r.verdict and r.verdict.too_few),
                    "seeds_to_settle": r.verdict.seeds_to_settle if r.verdict else math.nan,
                    "note": "; ".join(x for x in (r.note, e.note if e else "") if x),
                }
            )
        for f in cr.factors:
            rows.append(
                {
                    "claim": cr.claim.id,
                    "kind": "factor",
                    "label": f.label,
                    "measure": f.factor.key,
                    "arm": cr.claim.arm,
                    "versus": cr.claim.versus,
                    "n_seeds": len(cr.seeds),
                    "unit": f.unit,
                    "estimate": f.model,
                    "national_only": f.factor.national,
                    "testable": f.compared,
                    "report": f.report,
                    "report_low": f.report_low,
                    "report_high": f.report_high,
                    "note": ("solved from the total; " if f.solved else "") + f.factor.basis,
                }
            )
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def write_report(rep: ClaimsReport, out_dir: Path) -> list[Path]:
    """claims.csv (tidy, full precision) and claims.md, each written atomically."""
    out_dir = Path(out_dir)
    df = frame(rep)
    text = markdown(rep)
    paths = []
    for name, write in (
        ("claims.csv", lambda p: df.to_csv(p, index=False)),
        ("claims.md", lambda p: p.write_text(text, encoding="utf-8")),
    ):
        atomic_write(out_dir / name, write)
        paths.append(out_dir / name)
    return paths
