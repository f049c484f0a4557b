"""`labourlab validate`: does the model reproduce stylised facts it was not fitted to?

Calibration fits parameters to the figures in `configs/targets.toml`. Validation asks whether,
so fitted, the model also reproduces facts held back from that fit, each a check in
`configs/validation.toml` with its source: a downward-sloping Beveridge curve across England's
travel-to-work markets, job finding falling with months unemployed, small-business survival at
ages the fit did not use, and the spread of the Work Programme's job-outcome rates across
claimant groups. The loader refuses a check that reads a calibration target.

The command runs the arms the checks need on seeds 1..N (the place with no programme, the place
under the centralised regime, England with no programme at a sampling scale), computes each
check's statistic seed by seed (the Beveridge slope on seeds pooled, with a bootstrap over
markets), and prints a table: the model's value with a 90% interval, the expected figure, the
tolerance and PASS / FAIL, or n/a with the reason (a group with too few referrals is "not enough
cases", never a pass or a fail). It writes validation.md, validation.csv and manifest.json. A
failing check is a finding about the model, not an error: the exit status is 0 unless --strict.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from simulation.analysis.stats import Interval, ratio, summarise
from simulation.analysis.targets import KNOWN, TARGETS_FILE, load_targets, model_values
from simulation.config import (
    CONFIGS,
    ROOT,
    ConfigError,
    Strict,
    _nearest,
    _validate,
    load_calibration,
    make_scenario,
    read_toml,
)
from simulation.people import DURATION_BINS, GROUP_NAMES
from simulation.results import atomic_write, git_commit, versions, write_json

VALIDATION_FILE = CONFIGS / "validation.toml"
LAST_MONTHS = 12  # stocks for the Beveridge curve: the last year of the run, as model_values does
BOOTSTRAP = 2000  # resamples of markets for the Beveridge slope's interval
BOOTSTRAP_SEED = 20150226  # fixed, so the interval is reproducible for the same runs
PASS, FAIL, NA = "PASS", "FAIL", "n/a"
GROUPS = GROUP_NAMES[1:]

Statistic = Literal["quantity", "pooled_hazard", "hazard_decline", "beveridge_slope", "group_rate", "group_gap"]


# ------------------------------------------------------------------------------- the checks
class Check(Strict):
    """One held-out stylised fact: how the model figure is computed, what is expected, and why."""

    label: str = Field(min_length=1)
    statistic: Statistic
    arm: Literal["baseline", "programme", "england"]
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
        return []  # beveridge_slope: a cross-market slope, no single model quantity

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
    for cid, c in vf.checks.items():
        where = f"checks.{cid}"
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


# ------------------------------------------------------------------------------ statistics
def pooled_hazard(monthly: pd.DataFrame, bins: Sequence[str]) -> float:
    """Monthly job-finding hazard of the unemployed in these duration bins, pooled over the run:
    hires from unemployment over person-months at risk."""
    hires = sum(float(monthly[f"u_to_e_{b}"].sum()) for b in bins)
    at_risk = sum(float(monthly[f"u_at_risk_{b}"].sum()) for b in bins)
    return ratio(hires, at_risk)


def _band(b: str) -> str:
    """A duration bin's months as text: d3_5 -> 3-5, d24p -> 24+."""
    return b.removeprefix("d").replace("_", "-").replace("p", "+")


def hazard_decline(hazards: Sequence[float]) -> float:
    """The largest ratio of a duration bin's hazard to the previous (shorter) bin's, bins in order of
    duration: below 1 exactly when job finding falls from every bin to the next."""
    h = np.asarray(hazards, dtype=float)
    if h.size < 2 or not np.isfinite(h).all() or (h[:-1] <= 0).any():
        return math.nan
    return float((h[1:] / h[:-1]).max())


def market_rates(frames: Iterable[pd.DataFrame], last_months: int = LAST_MONTHS) -> pd.DataFrame:
    """Each travel-to-work market's unemployment and vacancy rates over the last `last_months` months,
    stocks summed over the runs given (seeds pooled): u / (u + e), v / (v + e), and the labour force."""
    parts = []
    for df in frames:
        tail = df[df["month"] > df["month"].max() - last_months]
        parts.append(tail.groupby("market")[["vacancies", "unemployed", "employed"]].sum())
    g = pd.concat(parts).groupby(level=0).sum()
    g = g[(g["unemployed"] + g["employed"]) > 0]
    return pd.DataFrame(
        {
            "u_rate": g["unemployed"] / (g["unemployed"] + g["employed"]),
            "v_rate": g["vacancies"] / (g["vacancies"] + g["employed"]).where(lambda s: s > 0),
            "labour_force": g["unemployed"] + g["employed"],
        }
    ).dropna()


def wls_slope(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares slope of y on x along the last axis (rows of a 2-D array are separate fits)."""
    sw = w.sum(axis=-1, keepdims=True)
    mx = (w * x).sum(axis=-1, keepdims=True) / sw
    my = (w * y).sum(axis=-1, keepdims=True) / sw
    sxx = (w * (x - mx) ** 2).sum(axis=-1)
    sxy = (w * (x - mx) * (y - my)).sum(axis=-1)
    return np.divide(sxy, sxx, out=np.full(np.shape(sxx), np.nan), where=sxx > 0)


def beveridge_slope(
    points: pd.DataFrame, n_boot: int = BOOTSTRAP, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float, float]:
    """Slope of markets' vacancy rate on their unemployment rate, weighted by labour force (large
    markets are measured more precisely at a sampling scale), with a 90% percentile interval from
    resampling markets with replacement."""
    x = points["u_rate"].to_numpy(float)
    y = points["v_rate"].to_numpy(float)
    w = points["labour_force"].to_numpy(float)
    slope = float(wls_slope(x, y, w))
    idx = np.random.default_rng(seed).integers(0, x.size, size=(n_boot, x.size))
    boots = wls_slope(x[idx], y[idx], w[idx])
    boots = boots[np.isfinite(boots)]
    if boots.size == 0:
        return slope, math.nan, math.nan
    low, high = np.quantile(boots, [0.05, 0.95])
    return slope, float(low), float(high)


def group_counts(cohorts: pd.DataFrame | None, ppa: float) -> pd.DataFrame:
    """By claimant group, cohorts followed for two years: people reaching the referral point
    (`eligible`), referred, reaching an official job outcome within two years, and referred model
    rows (`cases`: referred people / people per row, what the rate's precision rests on)."""
    cols = ["eligible", "referred", "outcome_24m"]
    if cohorts is None or cohorts.empty or not set(cols) <= set(cohorts.columns):
        return pd.DataFrame(0.0, index=list(GROUPS), columns=[*cols, "cases"])
    c = cohorts[cohorts["followed_up"].astype(bool)]
    sums = c.groupby(c["group"].astype(str))[cols].sum().reindex(list(GROUPS), fill_value=0.0).astype(float)
    sums["cases"] = sums["referred"] / ppa
    return sums


def group_rate(counts: pd.DataFrame, groups: Sequence[str]) -> float:
    """Two-year job-outcome rate of these groups pooled: outcomes over everyone reaching the groups'
    referral point. Outcomes are counted for the whole cohort (outcomes.py), so the cohort is the
    denominator; for groups referred in full (the JSA groups) it equals the rate over referrals."""
    # Not analysis.targets.outcome_rates: it divides these whole-cohort outcomes by referrals, which
    # overstates a group referred in part (ESA new claimants half, ESA ex-IB a tenth in the
    # centralised regime). Referral is by a random key, so referred and not referred differ only
    # by the programme's help.
    sub = counts.loc[list(groups)]
    return ratio(sub["outcome_24m"].sum(), sub["eligible"].sum())


def group_gap(counts: pd.DataFrame, higher: Sequence[str], lower: Sequence[str]) -> float:
    """Lowest two-year outcome rate among `higher` groups over the highest among `lower` groups:
    above 1 when every group of the first set does better than every group of the second."""
    hi = [group_rate(counts, [g]) for g in higher]
    lo = [group_rate(counts, [g]) for g in lower]
    if not hi or not lo or not all(map(math.isfinite, hi + lo)):
        return math.nan
    return ratio(min(hi), max(lo))


# ------------------------------------------------------------------------------- the runs
@dataclass(frozen=True)
class Task:
    """One run: an arm of the checks on one seed (picklable, for the process pool)."""

    arm: str
    place: str
    regime: str
    seed: int
    months: int
    burn_in: int
    people_per_agent: float | None
    calibration: str | None


@dataclass
class RunOut:
    """What one run leaves for the checks: its month x district and cohort tables."""

    monthly: pd.DataFrame
    cohorts: pd.DataFrame
    people_per_agent: float
    wall_seconds: float


def run_task(task: Task) -> RunOut:
    """Run the burn-in and every policy month; keep the month x district and cohort tables in memory."""
    from simulation.runner import simulate

    t0 = time.perf_counter()
    sc = make_scenario(
        task.place,
        task.regime,
        months=task.months,
        burn_in=task.burn_in,
        people_per_agent=task.people_per_agent,
        calibration=Path(task.calibration) if task.calibration else None,
    )
    sim = simulate(sc, task.seed)
    return RunOut(
        sim.monthly,
        sim.cohorts,
        float(sc.people_per_agent),
        time.perf_counter() - t0,
    )


# ------------------------------------------------------------------------------ evaluation
@dataclass
class Result:
    """One check's verdict: the model's value with its 90% interval, and PASS / FAIL / n/a."""

    id: str
    check: Check
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan
    n_seeds: int = 0
    per_seed: list[float] = field(default_factory=list)
    status: str = NA
    reason: str = ""
    detail: str = ""


def _finite(x: float) -> float | None:
    """JSON has no NaN: a missing value is null."""
    return float(x) if math.isfinite(x) else None


def _fmt(x: float | None, digits: int = 4) -> str:
    """Four significant figures: enough to see which side of a band's edge a value falls."""
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.{digits}g}"


def verdict(check: Check, value: float, low: float, high: float) -> tuple[str, str]:
    """PASS or FAIL from the model's value and 90% interval, or n/a when there is no value."""
    if not math.isfinite(value):
        return NA, "no value: nobody at risk in the runs"
    if check.expect == "within":
        assert check.low is not None and check.high is not None
        return (PASS, "") if check.low <= value <= check.high else (FAIL, "")
    assert check.threshold is not None
    below = check.expect == "below"
    bound = high if below else low  # the interval's far side from the threshold must clear it
    if not math.isfinite(bound):  # one seed: no interval, the value itself decides
        bound = value
    ok = bound < check.threshold if below else bound > check.threshold
    return (PASS, "") if ok else (FAIL, "")


def _finish(res: Result, iv: Interval, values: list[float]) -> Result:
    res.per_seed = values
    res.n_seeds = iv.n
    res.value, res.low, res.high = iv.mean, iv.low, iv.high
    res.status, res.reason = verdict(res.check, res.value, res.low, res.high)
    return res


def _group_cases(check: Check, counts: list[pd.DataFrame]) -> tuple[list[str], list[str]]:
    """Groups of the check with enough referred rows (seeds pooled), and those without."""
    groups = [*(check.groups or []), *(check.higher or []), *(check.lower or [])]
    cases = {g: sum(float(c.at[g, "cases"]) for c in counts) for g in groups}
    ok = [g for g in groups if cases[g] >= max(check.min_cases, 1)]
    short = [f"{g} ({cases[g]:.0f} referred rows)" for g in groups if g not in ok]
    return ok, short


def evaluate(cid: str, check: Check, runs: list[RunOut]) -> Result:
    """Compute one check's statistic from its arm's runs (one per seed)."""
    res = Result(cid, check)
    if not runs:
        res.reason = "no runs of its arm"
        return res
    if check.statistic == "beveridge_slope":
        points = market_rates(r.monthly for r in runs)
        if len(points) < max(check.min_cases, 3):
            res.reason = f"not enough cases: {len(points)} markets (need {max(check.min_cases, 3)})"
            return res
        res.value, res.low, res.high = beveridge_slope(points)
        res.n_seeds = len(runs)
        res.per_seed = [
            float(wls_slope(p["u_rate"].to_numpy(), p["v_rate"].to_numpy(), p["labour_force"].to_numpy()))
            for p in (market_rates([r.monthly]) for r in runs)
        ]
        res.status, res.reason = verdict(check, res.value, res.low, res.high)
        res.detail = (
            f"{len(points)} markets; unemployment rate {points['u_rate'].min():.3f}-{points['u_rate'].max():.3f}, "
            f"vacancy rate {points['v_rate'].min():.3f}-{points['v_rate'].max():.3f}"
        )
        return res
    if check.statistic in ("quantity", "pooled_hazard", "hazard_decline"):
        values: list[float] = []
        pooled_hz: list[list[float]] = []
        for r in runs:
            g = r.monthly.groupby("month").sum(numeric_only=True)
            if check.statistic == "quantity":
                values.append(model_values(r.monthly, r.cohorts)[str(check.quantity)])
            elif check.statistic == "pooled_hazard":
                values.append(pooled_hazard(g, check.bins or []))
            else:
                hz = [pooled_hazard(g, [b]) for b in DURATION_BINS]
                pooled_hz.append(hz)
                values.append(hazard_decline(hz))
        if pooled_hz:
            mean_hz = pd.DataFrame(pooled_hz).mean().to_numpy()  # NaN only where no seed had anyone at risk
            res.detail = "hazard by months unemployed (mean over seeds): " + ", ".join(
                f"{_band(b)} months: {h:.4f}" for b, h in zip(DURATION_BINS, mean_hz, strict=True)
            )
        return _finish(res, summarise(values), values)
    # group_rate, group_gap: groups with too few referrals are named, never judged
    counts = [group_counts(r.cohorts, r.people_per_agent) for r in runs]
    ok, short = _group_cases(check, counts)
    if check.statistic == "group_rate":
        groups = list(check.groups or [])
        if short:
            res.reason = "not enough cases: " + ", ".join(short)
            return res
        values = [group_rate(c, groups) for c in counts]
    else:
        higher = [g for g in check.higher or [] if g in ok]
        lower = [g for g in check.lower or [] if g in ok]
        if not higher or not lower:
            res.reason = "not enough cases: " + ", ".join(short)
            return res
        values = [group_gap(c, higher, lower) for c in counts]
    rates = ", ".join(f"{g} {pd.Series([group_rate(c, [g]) for c in counts]).mean():.3f}" for g in ok)
    res.detail = "two-year outcome rate by group (mean over seeds): " + rates
    if short:
        res.detail += "; left out, not enough cases: " + ", ".join(short)
    return _finish(res, summarise(values), values)


# --------------------------------------------------------------------------------- output
COLUMNS = ["check", "source", "model [90% interval]", "expected", "tolerance", "result"]


def _value_cell(r: Result) -> str:
    if not math.isfinite(r.value):
        return "-"
    if math.isfinite(r.low) and math.isfinite(r.high):
        return f"{_fmt(r.value)} [{_fmt(r.low)}, {_fmt(r.high)}]"
    return _fmt(r.value)


def _result_cell(r: Result) -> str:
    return f"{r.status} ({r.reason})" if r.status == NA else r.status


def frame(results: list[Result]) -> pd.DataFrame:
    """One row per check, full precision (validation.csv)."""
    rows = []
    for r in results:
        c = r.check
        rows.append(
            {
                "id": r.id,
                "label": c.label,
                "arm": c.arm,
                "statistic": c.statistic,
                "value": r.value,
                "low_90": r.low,
                "high_90": r.high,
                "n_seeds": r.n_seeds,
                "per_seed": ";".join(repr(float(v)) for v in r.per_seed),
                "expected": c.expected_text(),
                "expected_value": c.value,
                "band_low": c.low,
                "band_high": c.high,
                "threshold": c.threshold,
                "tolerance": c.tolerance_text(),
                "status": r.status,
                "reason": r.reason,
                "detail": r.detail,
                "source": c.source,
                "note": c.note,
            }
        )
    return pd.DataFrame(rows)


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown(results: list[Result], settings: dict[str, Any]) -> str:
    """The table, then each check's detail, source and note."""
    lines = [
        "# Validation: stylised facts the model was not fitted to",
        "",
        f"Place {settings['place']} ({settings['baseline_regime']}; {settings['programme_regime']} for the "
        f"Work Programme checks), {settings['beveridge_place']} ({settings['baseline_regime']}) at "
        f"{settings['england_scale']:g} people per row for the Beveridge curve; "
        f"seeds {settings['seeds'][0]}..{settings['seeds'][-1]}, {settings['burn_in']} months burn-in + "
        f"{settings['months']} months; calibration {settings['calibration']}.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for r in results:
        c = r.check
        cells = [c.label, c.source, _value_cell(r), c.expected_text(), c.tolerance_text(), _result_cell(r)]
        lines.append("| " + " | ".join(_md(x) for x in cells) + " |")
    n = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, NA)}
    lines += ["", f"{n[PASS]} pass, {n[FAIL]} fail, {n[NA]} n/a. A failing check is a finding about the model.", ""]
    lines.append("## Checks")
    for r in results:
        lines += ["", f"### {r.id}: {r.check.label}", ""]
        lines.append(
            f"- Result: {_result_cell(r)}; model {_value_cell(r)}; expected {r.check.expected_text()}, "
            f"{r.check.tolerance_text()}."
        )
        if r.per_seed:
            lines.append("- By seed: " + ", ".join(_fmt(v) for v in r.per_seed) + ".")
        if r.detail:
            lines.append(f"- {_md(r.detail)}.")
        lines.append(f"- Source: {_md(r.check.source)}.")
        if r.check.note:
            lines.append(f"- Note: {_md(r.check.note)}")
    return "\n".join(lines) + "\n"


def print_table(results: list[Result], title: str, console: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=escape(title), show_lines=True)
    for col in COLUMNS:
        t.add_column(col, overflow="fold")
    colour = {PASS: "green", FAIL: "red", NA: "yellow"}
    for r in results:
        c = r.check
        t.add_row(
            escape(c.label),
            escape(c.source),
            escape(_value_cell(r)),
            escape(c.expected_text()),
            escape(c.tolerance_text()),
            f"[{colour[r.status]}]{escape(_result_cell(r))}[/]",
        )
    (console or Console(width=160)).print(t)


# ---------------------------------------------------------------------------- the command
def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `labourlab validate` to the command line."""
    from simulation.argtypes import positive_int, scale
    from simulation.executors import default_workers

    v = sub.add_parser(
        "validate",
        help="check the model against stylised facts it was not fitted to (pass/fail table)",
        description="Run the arms the checks of configs/validation.toml need (--place under --baseline-regime and "
        "--programme-regime, England under --baseline-regime at a sampling scale) on seeds 1..N and print, "
        "for each stylised fact the model was not fitted to (Beveridge curve across markets, job finding by months "
        "unemployed, small-business survival at 2 and 4 years, Work Programme outcomes by claimant group), the "
        "model's value with a 90% interval, the expected figure, its tolerance and PASS/FAIL (n/a with a reason); "
        "write validation.md, validation.csv and manifest.json to --out. Failing checks are findings: the exit "
        "status is 0 unless --strict.",
    )
    v.add_argument(
        "--place",
        default="southampton",
        help="place for the job-finding, survival and outcome checks (default southampton)",
    )
    v.add_argument(
        "--scale",
        type=scale,
        default=None,
        metavar="PEOPLE_PER_AGENT",
        help="people each row stands for in --place (default: the place file's)",
    )
    v.add_argument(
        "--beveridge-place",
        default="england",
        metavar="PLACE",
        help="place whose travel-to-work markets give the Beveridge curve (default england; or region:<name>)",
    )
    v.add_argument(
        "--england-scale",
        type=scale,
        default=300.0,
        metavar="PEOPLE_PER_AGENT",
        help="people per row in the Beveridge runs (default 300: seconds a run)",
    )
    v.add_argument(
        "--baseline-regime",
        default="no_programme",
        metavar="REGIME",
        help="regime of the baseline and Beveridge arms (default no_programme)",
    )
    v.add_argument(
        "--programme-regime",
        default="centralised",
        metavar="REGIME",
        help="regime whose outcomes by claimant group are checked (default centralised, the Work Programme)",
    )
    v.add_argument("--seeds", type=positive_int, default=3, help="seeds 1..N for every arm (default 3)")
    v.add_argument(
        "--calibration",
        type=Path,
        default=None,
        metavar="FILE",
        help="parameter file to validate, such as one labourlab calibrate wrote (default configs/calibration.toml)",
    )
    v.add_argument("--months", type=positive_int, default=60, help="policy months (default 60; outcomes need 25+)")
    v.add_argument("--burn-in", type=positive_int, default=24, help="months run first with no policy (default 24)")
    v.add_argument(
        "--checks",
        type=Path,
        default=None,
        metavar="FILE",
        help="validation checks (default configs/validation.toml)",
    )
    v.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder (default results/validate)")
    v.add_argument(
        "--jobs", type=positive_int, default=default_workers(), help="parallel processes (default: the cores)"
    )
    v.add_argument("--strict", action="store_true", help="exit with status 1 if any check fails")


def run(args: argparse.Namespace) -> int:
    """`labourlab validate`: run the arms, evaluate every check, print the table, write the files."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    checks = load_checks(args.checks)
    if args.seeds < 1:
        raise ConfigError("command line", "--seeds", "expected at least 1")
    if args.jobs < 1:
        raise ConfigError("command line", "--jobs", "expected at least 1")
    if args.calibration is not None and not Path(args.calibration).is_file():
        raise ConfigError(args.calibration, "", "file not found")
    arms = sorted({c.arm for c in checks.values()})
    # Each arm of the checks: (place, regime, people per row).
    where = {
        "baseline": (args.place, args.baseline_regime, args.scale),
        "programme": (args.place, args.programme_regime, args.scale),
        "england": (args.beveridge_place, args.baseline_regime, args.england_scale),
    }
    calibration = str(Path(args.calibration).resolve()) if args.calibration else None
    for arm in arms:  # every input is checked before any run starts
        place, regime, scale = where[arm]
        make_scenario(
            place,
            regime,
            months=args.months,
            burn_in=args.burn_in,
            people_per_agent=scale,
            calibration=Path(calibration) if calibration else None,
        )
    seeds = list(range(1, args.seeds + 1))
    tasks = [
        Task(arm, where[arm][0], where[arm][1], s, args.months, args.burn_in, where[arm][2], calibration)
        for arm in arms
        for s in seeds
    ]
    out = Path(args.out) if args.out else ROOT / "results" / "validate"
    print(
        f"labourlab validate: {len(checks)} checks; arms "
        + ", ".join(f"{a} ({where[a][0]}, {where[a][1]})" for a in arms)
        + f"; seeds {seeds[0]}..{seeds[-1]}, {args.burn_in} months burn-in + {args.months} months; "
        f"{len(tasks)} runs on {min(args.jobs, len(tasks))} process(es)"
    )
    t0 = time.perf_counter()
    runs: dict[str, dict[int, RunOut]] = {a: {} for a in arms}
    with Progress(TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        job = bar.add_task("runs", total=len(tasks))
        if args.jobs > 1 and len(tasks) > 1:
            from simulation.executors import LocalExecutor

            ex = LocalExecutor(min(args.jobs, len(tasks)))
            try:
                for task, result, err in ex.run(run_task, tasks):
                    if err is not None:
                        raise RuntimeError(f"run {task.arm} seed {task.seed} failed: {err}") from err
                    runs[task.arm][task.seed] = result
                    bar.advance(job)
            finally:
                ex.close()
        else:
            for task in tasks:
                runs[task.arm][task.seed] = run_task(task)
                bar.advance(job)
    wall = time.perf_counter() - t0
    results = [evaluate(cid, c, [runs[c.arm][s] for s in seeds]) for cid, c in checks.items()]

    settings: dict[str, Any] = {
        "place": args.place,
        "scale": args.scale,
        "beveridge_place": args.beveridge_place,
        "england_scale": args.england_scale,
        "seeds": seeds,
        "months": args.months,
        "burn_in": args.burn_in,
        "calibration": calibration or str(CONFIGS / "calibration.toml"),
        "calibration_provenance": load_calibration(Path(calibration) if calibration else None).provenance,
        "checks": str(Path(args.checks).resolve()) if args.checks else str(VALIDATION_FILE),
        "baseline_regime": args.baseline_regime,
        "programme_regime": args.programme_regime,
        "arms": {a: {"place": where[a][0], "regime": where[a][1], "people_per_agent": where[a][2]} for a in arms},
    }
    print_table(results, f"Validation: {args.place}, seeds {seeds[0]}..{seeds[-1]} (facts the model was not fitted to)")
    n_fail = sum(r.status == FAIL for r in results)
    print(
        f"{sum(r.status == PASS for r in results)} pass, {n_fail} fail, {sum(r.status == NA for r in results)} n/a; "
        f"{len(tasks)} runs in {wall:.1f} s"
    )
    df = frame(results)
    text = markdown(results, settings)
    atomic_write(out / "validation.csv", lambda p: df.to_csv(p, index=False))
    atomic_write(out / "validation.md", lambda p: p.write_text(text, encoding="utf-8"))
    import datetime as dt
    import sys

    write_json(
        {
            "labourlab_validation": 1,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "settings": settings,
            "run_wall_seconds": {f"{t.arm}-seed{t.seed}": round(runs[t.arm][t.seed].wall_seconds, 3) for t in tasks},
            "wall_seconds": round(wall, 3),
            "versions": versions(),
            "git_commit": git_commit(),
            "command": sys.argv,
            "results": {
                r.id: {"status": r.status, "value": _finite(r.value), "low": _finite(r.low), "high": _finite(r.high)}
                for r in results
            },
        },
        out / "manifest.json",
    )
    for name in ("validation.md", "validation.csv", "manifest.json"):
        print(f"wrote {out / name}")
    return 1 if args.strict and n_fail else 0
