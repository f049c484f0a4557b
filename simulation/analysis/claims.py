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

This module computes the report (`analyse`); `claims_spec` reads the claims file, `claims_estimate`
makes each estimate and verdict, and `claims_render` prints and writes the report. Their public names
are importable from here, as the command line and the tests expect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis import costing, results_io
from simulation.analysis.claims_estimate import SETTLE, WIDE, Estimate, Verdict, estimate, verdict
from simulation.analysis.claims_render import (
    CSV_COLUMNS,
    _fmt,
    _short,
    _times,
    claim_tables,
    frame,
    markdown,
    print_report,
    test_lines,
    write_report,
)
from simulation.analysis.claims_spec import (
    COST_PER_JOB,
    FACTORS,
    REGISTRY,
    Arithmetic,
    Arm,
    Assumptions,
    Claim,
    ClaimTest,
    England,
    Factor,
    FactorDef,
    Registry,
    Source,
    arm_regime,
    arm_scenario,
    load_registry,
)
from simulation.config import GROUPS, ROOT, ConfigError, GroupLevers, load_calibration
from simulation.measures import LAST_MONTHS, MEASURES, month_totals

ENGLAND_TOLERANCE = 0.05  # a place within 5% of England's working-age population counts as England

__all__ = [  # with the names of claims_spec, claims_estimate and claims_render the CLI and tests use
    "CSV_COLUMNS",
    "FACTORS",
    "MEASURES",
    "REGISTRY",
    "SETTLE",
    "WIDE",
    "Arithmetic",
    "Arm",
    "Assumptions",
    "Claim",
    "ClaimResult",
    "ClaimTest",
    "ClaimsReport",
    "England",
    "Estimate",
    "Factor",
    "FactorDef",
    "FactorResult",
    "Registry",
    "Source",
    "StageResult",
    "SweepResult",
    "TestResult",
    "Verdict",
    "analyse",
    "analyse_scenarios",
    "arm_regime",
    "arm_scenario",
    "claim_tables",
    "estimate",
    "frame",
    "is_england",
    "load_registry",
    "markdown",
    "print_report",
    "test_lines",
    "verdict",
    "write_report",
]


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
class StageResult:
    """One factor of a decomposed ratio: this stage's ratio between the arms over the stage before's,
    seed by seed (mean and 90% interval), and its share of the log of the whole ratio."""

    label: str
    measure: str
    est: Estimate
    log_mean: float  # mean over seeds of log(factor)
    share: float  # log_mean over the mean log of the whole ratio


@dataclass
class SweepResult:
    """A claim's one-at-a-time sweep of a pipeline's parameters (`developers.sweep`)."""

    base: float  # the ratio at the runs' parameters, replayed
    runs: float  # the runs' own ratio of means, for the check
    seeds: list[int]
    rows: list[Any]  # developers.SweepRow, the largest swing first
    skipped: list[str] = field(default_factory=list)  # parameters with no range to sweep
    note: str = ""


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
    stages: list[StageResult] = field(default_factory=list)
    ratio: Estimate | None = None  # the decomposed ratio, seed by seed
    moves_most: str = ""  # which stage moves the decomposed ratio most
    sweep: SweepResult | None = None


@dataclass
class ClaimsReport:
    folder: Path
    layout: str
    registry_path: Path

    @property
    def registry_shown(self) -> str:
        """The registry's path as the tables show it: relative to the project for a shipped file,
        so a report reads the same on every machine."""
        try:
            return str(Path(self.registry_path).resolve().relative_to(ROOT.resolve()))
        except ValueError:
            return str(self.registry_path)

    england: England
    claims: list[ClaimResult]
    notes: list[str]


def _month_totals(run: results_io.RunData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's month totals and their last LAST_MONTHS months (what Measure.value reads)."""
    g = month_totals(run.monthly)
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
    if t.how == COST_PER_JOB:
        return "gbp"
    assert t.measure is not None  # the spec requires one for every other how
    if t.how == "relative":
        return "share"
    if t.how == "ratio":
        return "ratio"
    if t.how == "per_difference":
        unit = MEASURES[t.measure].unit
        return unit if unit in ("gbp", "gbp_m") else "ratio"
    return MEASURES[t.measure].unit


def analyse(folder: Path, registry_path: Path | None = None) -> ClaimsReport:
    """Read the results in `folder` and test every claim of the registry against them."""
    registry_path = Path(registry_path) if registry_path is not None else REGISTRY
    reg = load_registry(registry_path)
    res = results_io.load_results(Path(folder))
    return analyse_scenarios(Path(folder), res.layout, res.by_scenario(), list(res.notes), reg, registry_path)


def analyse_scenarios(
    folder: Path,
    layout: str,
    by: dict[str, dict[int, results_io.RunData]],
    notes: list[str],
    reg: Registry,
    registry_path: Path,
) -> ClaimsReport:
    """Test every claim of `reg` against the runs `by` (arm -> seed -> run), already read: `analyse`
    gives it a folder's runs, `claims_economies` one economy's runs under their arms' plain names."""
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
    return ClaimsReport(Path(folder), layout, registry_path, reg.england, out, notes)


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
    _decompose(cr, values)
    _sweep(cr, by, records)
    cr.assumptions = _assumptions(c, by, records, [c.arm, c.versus])
    return cr


def _decompose(cr: ClaimResult, values: _Values) -> None:
    """The claim's ratio taken apart stage by stage, seed by seed, from the runs' own counts: the
    product of the factors is the ratio of the last stage exactly. The factor with the largest
    mean |log| moves the ratio most."""
    dec = cr.claim.decomposition
    if dec is None:
        return
    c, seeds = cr.claim, cr.seeds
    keys = [st.measure for st in dec.stages]
    lacking = sorted({x for a in (c.arm, c.versus) for k in keys for x in values.lacking(a, seeds, k)})
    if lacking:
        cr.notes.append(f"{dec.label}: not decomposed: monthly tables lack {', '.join(lacking)} (older results?)")
        return
    a = [values.get(c.arm, seeds, k) for k in keys]
    b = [values.get(c.versus, seeds, k) for k in keys]
    with np.errstate(divide="ignore", invalid="ignore"):
        whole = a[-1] / b[-1]
        whole_log = float(np.mean(np.log(whole))) if (whole > 0).all() else math.nan
        cr.ratio = estimate("level", whole, None, None, None)
        for i, st in enumerate(dec.stages):
            fa = a[i] / a[i - 1] if i else a[i]
            fb = b[i] / b[i - 1] if i else b[i]
            f = fa / fb
            ok = np.isfinite(f) & (f > 0)
            log_mean = float(np.mean(np.log(f))) if ok.all() and ok.size else math.nan
            share = log_mean / whole_log if math.isfinite(whole_log) and whole_log != 0 else math.nan
            cr.stages.append(StageResult(st.label, st.measure, estimate("level", f, None, None, None), log_mean, share))
    known = [r for r in cr.stages if math.isfinite(r.log_mean)]
    if len(known) < len(cr.stages):
        cr.moves_most = "undetermined: some stage is zero or missing in some seed (no plans without brokerage?)"
        return
    top = max(known, key=lambda r: abs(r.log_mean))

    def times(log: float) -> str:
        return "x" + (_times(math.exp(log)) if log >= 0 else _fmt(math.exp(log), "ratio"))

    cr.moves_most = (
        f"{top.label}: {times(top.log_mean)} of the ratio's {times(whole_log)} "
        f"({abs(top.log_mean):.2f} of {abs(whole_log):.2f} on a log scale)"
    )
    against = [r for r in known if r.log_mean * top.log_mean < 0]
    if against:  # a stage pulling the other way (fewer but larger plans): say so beside it
        other = max(against, key=lambda r: abs(r.log_mean))
        cr.moves_most += f", partly offset by {other.label} ({times(other.log_mean)})"


def _sweep(cr: ClaimResult, by: dict[str, dict[int, results_io.RunData]], records: dict[str, Any]) -> None:
    """One parameter at a time over its evidence range: the pipeline replayed without the rest of
    the model (developer money does not depend on people) on the runs' place, parameters and
    seeds, under each arm's lever. The replay at the runs' parameters must give the runs' ratio."""
    sw = cr.claim.sweep
    if sw is None:
        return
    from simulation.config import load_calibration as _calibration
    from simulation.mechanisms import developers

    c = cr.claim
    seeds = cr.seeds[: sw.max_seeds]
    first = by[c.arm][seeds[0]]
    brokerage = {a: bool(_dig(by[a][seeds[0]].config, "regime", "levers", "brokerage")) for a in (c.arm, c.versus)}
    if brokerage[c.arm] == brokerage[c.versus]:
        cr.notes.append(f"sweep: not run: {c.arm} and {c.versus} have the same brokerage lever")
        return
    districts = _dig(first.config, "place", "districts") or []
    if not districts or any("construction_value_m" not in d for d in districts):
        cr.notes.append("sweep: not run: the run manifests do not give the place's construction output")
        return
    value = developers.construction_by_district(districts)
    try:
        params = _calibration().with_overrides(
            {k: v for k, v in (first.config.get("params") or {}).items() if k in records}, source="the runs' manifests"
        )
    except ConfigError as e:
        cr.notes.append(f"sweep: not run: {e}")
        return
    ranges = {}
    skipped = []
    for p in sw.parameters:
        rec = records.get(p)
        if rec is None or rec.low == rec.high:
            skipped.append(p)
        else:
            ranges[p] = (float(rec.low), float(rec.high))
    base, rows = developers.sweep(value, params, ranges, seeds, first.months)
    if not brokerage[c.arm]:  # the claim's arm without brokerage: its ratio is the inverse
        base = 1.0 / base
        rows = [developers.SweepRow(r.parameter, r.low, r.high, 1.0 / r.ratio_low, 1.0 / r.ratio_high) for r in rows]
    runs = math.nan
    key = "developer_contribution_total"
    try:
        num = np.mean([MEASURES[key].value(*_month_totals(by[c.arm][s])) for s in seeds])
        den = np.mean([MEASURES[key].value(*_month_totals(by[c.versus][s])) for s in seeds])
        runs = float(num / den) if den > 0 else math.nan
    except KeyError:
        pass
    note = ""
    if math.isfinite(runs) and not math.isclose(runs, base, rel_tol=1e-4):  # the ledger keeps whole pence
        note = (
            f"the replay's ratio ({base:.4g}) is not the runs' ({runs:.4g}): the results come from another model "
            "version or place; the sweep describes this version"
        )
    cr.sweep = SweepResult(base, runs, list(seeds), rows, skipped, note)


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
    if t.how == COST_PER_JOB:
        assert versus is not None
        try:
            c = costing.cost_per_additional_job([by[arm][s] for s in seeds], [by[versus][s] for s in seeds])
        except costing.Missing as e:
            r.note = f"not estimated: {e} (older results?)"
            return r
        r.est = cost_estimate(c)
        _judge(r, bounds, testable, scaled)
        return r
    assert t.measure is not None
    lacking = sorted({x for a in arms for m in (t.measure, t.per) if m for x in values.lacking(a, seeds, m)})
    if lacking:
        r.note = f"not estimated: monthly tables lack {', '.join(lacking)} (older results?)"
        return r
    a_v = values.get(arm, seeds, t.measure)
    b_v = values.get(versus, seeds, t.measure) if versus else None
    pa = values.get(arm, seeds, t.per) if t.per else None
    pb = values.get(versus, seeds, t.per) if (t.per and versus) else None
    r.est = estimate(t.how, a_v, b_v, pa, pb)
    _judge(r, bounds, testable, scaled)
    return r


def cost_estimate(c: costing.CostPerJob) -> Estimate:
    """A claim's estimate of cost per additional sustained job (`costing`): the ratio of mean
    differences with its Fieller interval, the per-seed ratios' summary beside it."""
    sd = c.per_seed.sd if c.per_seed is not None else math.nan
    note = c.note
    if note.startswith("unbounded") and c.n_seeds >= 2:
        note = "interval unbounded: the increase is not clearly above zero"
    elif note.startswith("n/a"):
        note = "no increase on average"
    elif c.n_seeds < 2:
        note = ""
    return Estimate(c.n_seeds, c.ratio, c.low, c.high, sd, "fieller", c.ratio, c.low, c.high, c.per_seed, note)


def _judge(
    r: TestResult, bounds: tuple[float, float] | None, testable: bool, scaled: tuple[float, float] | None
) -> None:
    """The verdict on a test's estimate against the claim (or, at a scale it cannot test, an indication)."""
    assert r.est is not None
    if bounds is not None and testable:
        r.verdict = verdict(r.est, bounds)
    elif bounds is not None and scaled is not None:
        r.verdict = Verdict("not testable at this scale")
        ind = verdict(r.est, scaled).text if math.isfinite(r.est.low) else ""
        if ind in ("model lower", "model higher", "consistent"):
            r.note = f"against the scaled claim (indicative only): {ind}"


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
