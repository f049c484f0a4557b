"""The evaluation of `labourlab validate`: does the model reproduce stylised facts it was not fitted to?

Calibration fits parameters to the figures in `configs/targets.toml`. Validation asks whether,
so fitted, the model also reproduces facts held back from that fit, each a check in
`configs/validation.toml` with its source: a downward-sloping Beveridge curve across England's
travel-to-work markets, job finding falling with months unemployed, small-business survival at
ages the fit did not use, and the spread of the Work Programme's job-outcome rates across
claimant groups. `validate_spec` reads the checks and refuses one that reads a calibration target.

This module runs one arm of the checks on one seed (the place with no programme, the place under
the centralised regime, England with no programme at a sampling scale) and computes each check's
statistic seed by seed (the Beveridge slope on seeds pooled, with a bootstrap over markets): the
model's value with a 90% interval and PASS / FAIL, or n/a with the reason (a group with too few
referrals is "not enough cases", never a pass or a fail). `validate_render` renders the verdicts
and `validate_cli` is the command line.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.analysis.stats import Interval, ratio, summarise
from simulation.analysis.targets import duration_hazards, model_values
from simulation.analysis.validate_spec import CYCLE_STATISTICS, GROUPS, Check
from simulation.config import make_scenario
from simulation.economy import load_economy
from simulation.measures import month_totals
from simulation.people import DURATION_BINS

LAST_MONTHS = 12  # stocks for the Beveridge curve: the last year of the run, as model_values does
BOOTSTRAP = 2000  # resamples of markets for the Beveridge slope's interval
BOOTSTRAP_SEED = 20150226  # fixed, so the interval is reproducible for the same runs
PASS, FAIL, NA = "PASS", "FAIL", "n/a"


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


# ------------------------------------------------------------------------ the cycle's paths
def quarterly_rates(monthly: pd.DataFrame) -> pd.DataFrame:
    """Unemployment and vacancy rates by quarter of the measured months (quarter 0 = policy months
    0-2, the scenario's point 0), each a ratio of the quarter's summed stocks; whole quarters only."""
    g = month_totals(monthly)
    g = g[g.index >= 1]  # the table's month m is policy month m - 1
    quarter = (g.index.to_numpy() - 1) // 3
    s = g.groupby(quarter)[["employed", "unemployed", "vacancies"]].sum()
    whole = pd.Series(quarter).value_counts().reindex(s.index) == 3
    s = s[whole.to_numpy()]
    return pd.DataFrame(
        {
            "u_rate": s["unemployed"] / (s["employed"] + s["unemployed"]),
            "v_rate": s["vacancies"] / (s["vacancies"] + s["employed"]),
        }
    )


def cycle_statistic(check: Check, monthly: pd.DataFrame) -> float:
    """One run's cycle statistic against the scenario's ONS series (percent, as in the file):
    - cycle_rise: the largest rise of the unemployment rate over its quarter-0 level, in points;
    - cycle_path_correlation: the correlation of the model's quarterly path with the series;
    - cycle_beveridge_slope: the slope over time of the vacancy rate on the unemployment rate
      (least squares, both in percent), over the first `quarters` quarters."""
    series = np.asarray(load_economy(check.economy).series[str(check.series)], dtype=np.float64)
    q = quarterly_rates(monthly)
    n = min(int(check.quarters or 0), len(series), len(q))
    if n < 3:
        return math.nan
    u = 100.0 * q["u_rate"].to_numpy()[:n]
    if check.statistic == "cycle_rise":
        return float(np.max(u - u[0]))
    if check.statistic == "cycle_path_correlation":
        return float(np.corrcoef(u, series[:n])[0, 1])
    v = 100.0 * q["v_rate"].to_numpy()[:n]
    return float(np.polyfit(u, v, 1)[0])


def cycle_detail(check: Check, runs: list[RunOut]) -> str:
    """The model's quarterly path (mean over seeds) beside the series, for the report."""
    series = load_economy(check.economy).series[str(check.series)]
    paths = pd.concat([quarterly_rates(r.monthly)["u_rate"] for r in runs], axis=1).mean(axis=1)
    n = min(int(check.quarters or 0), len(series), len(paths))
    pairs = ", ".join(f"q{i} {100 * paths.iloc[i]:.1f}/{series[i]:g}" for i in range(n))
    return f"unemployment rate by quarter, model/ONS (%): {pairs}"


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
    lead_in: int
    people_per_agent: float | None
    calibration: str | None
    economy: str | None = None  # the macroeconomic scenario (the cycle arm); None: steady


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
        lead_in=task.lead_in,
        people_per_agent=task.people_per_agent,
        calibration=Path(task.calibration) if task.calibration else None,
        economy=task.economy,
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
    if check.statistic in CYCLE_STATISTICS:
        values = [cycle_statistic(check, r.monthly) for r in runs]
        res.detail = cycle_detail(check, runs)
        return _finish(res, summarise(values), values)
    if check.statistic in ("quantity", "pooled_hazard", "hazard_decline"):
        values: list[float] = []
        pooled_hz: list[list[float]] = []
        for r in runs:
            g = month_totals(r.monthly)
            if check.statistic == "quantity":
                values.append(model_values(r.monthly, r.cohorts)[str(check.quantity)])
            elif check.statistic == "pooled_hazard":
                values.append(pooled_hazard(g, check.bins or []))
            else:
                hz = list(duration_hazards(g).values())
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
