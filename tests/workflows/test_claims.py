"""`labourlab claims`: the registry, the estimates and verdicts, the report's arithmetic, the layouts.

Most tests build a synthetic experiment folder (the layout `labourlab experiment` writes:
monthly/, cohorts/ and runs/ partitioned by scenario=<name>/seed=<S>, plus manifest.json) with
known differences between arms, so every figure can be checked by hand. One runs the model on
testville into run folders and checks `labourlab claims` end to end.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulation import cli
from simulation.analysis import claims, compare, results_io, stats
from simulation.config import ConfigError, load_regime, make_scenario
from simulation.runner import run_scenario

SEEDS = [1, 2, 3, 4, 5]
MONTHS = 24  # two years: a year's figure is half the run's total
T4 = 2.131847  # t(0.95, 4)
ENGLAND_WAP = 34_750_000
SHARES = (0.6, 0.4)  # two districts

# Per-seed noise and effects (each with a known mean).
EPS = np.array([0.02, -0.02, 0.01, -0.01, 0.0])  # cooperative cost noise, mean 0
D_EMPLOYED = np.array([100.0, 120.0, 80.0, 140.0, 60.0])  # hubs: mean 100
D_SMALL = np.array([200.0, 240.0, 160.0, 280.0, 120.0])  # hubs: mean 200
DEV_RATIO = np.array([11.0, 21.0, 13.0, 19.0, 16.0])  # brokered / unbrokered: mean 16, straddles 15
HUB_FIRMS = 120.0  # over the run, both districts
HUB_COST = 600_000.0  # £ over the run
PAID_UNMONITORED = 0.75  # developers' pipeline: share of an unbrokered plan's contribution paid


def totals(scenario: str, seed: int) -> dict[str, float]:
    """Run totals (flows, money) and levels (stocks) of a synthetic run; known by construction."""
    i = SEEDS.index(seed) if seed in SEEDS else 0
    cent_year = 1_000_000.0 + 10_000.0 * seed  # centralised employment-support cost a year
    t = {
        "employed": 50_000.0 + 1_000.0 * seed,
        "small_firm_jobs": 2_000.0 + 10.0 * seed,
        "employment_support_cost": 0.0,
        "business_support_cost": 0.0,
        "programme_job_outcomes": 0.0,
        "people_sustained_in_work": 1_000.0 + seed,
        "hub_new_firms": 0.0,
        "developer_skills_contribution": 20_000.0 * (1 + 0.1 * seed),  # £10k-ish a year
        "public_cost": 1e7,
    }
    if scenario == "centralised":
        t["employment_support_cost"] = 2 * cent_year
        t["programme_job_outcomes"] = 200.0
        t["people_sustained_in_work"] += 50.0
    elif scenario == "cooperative":
        t["employment_support_cost"] = 2 * 0.75 * cent_year * (1 + EPS[i])
        t["programme_job_outcomes"] = 300.0
        t["people_sustained_in_work"] += 100.0
    elif scenario == "hubs_everywhere":
        t["employed"] += D_EMPLOYED[i]
        t["small_firm_jobs"] += D_SMALL[i]
        t["hub_new_firms"] = HUB_FIRMS
        t["business_support_cost"] = HUB_COST
    elif scenario == "brokerage_everywhere":
        t["developer_skills_contribution"] *= DEV_RATIO[i]
    # The developers' pipeline behind the contributions (developers.py): unbrokered plans are few,
    # large (GBP 30m each) and pay a share PAID_UNMONITORED of what they secure; brokered ones are
    # many, GBP 3m each, and pay in full; both secure GBP 2,000 per GBP 1m.
    paid = 1.0 if scenario == "brokerage_everywhere" else PAID_UNMONITORED
    t["esp_contributions_secured"] = t["developer_skills_contribution"] / paid
    t["esp_plan_value"] = t["esp_contributions_secured"] / 2000.0 * 1e6  # £
    t["esp_plans"] = t["esp_plan_value"] / (3e6 if scenario == "brokerage_everywhere" else 30e6)
    return t


STOCKS = ("employed", "small_firm_jobs")


def monthly_frame(scenario: str, seed: int, months: int = MONTHS) -> pd.DataFrame:
    t = totals(scenario, seed)
    frames = []
    for d, share in enumerate(SHARES):
        f: dict[str, Any] = {"seed": np.full(months, seed), "month": np.arange(1, months + 1)}
        f["district"] = np.full(months, d)
        f["district_name"] = np.full(months, ["Northtown", "Southby"][d])
        for k, v in t.items():
            f[k] = np.full(months, v * share if k in STOCKS else v * share / months)
        frames.append(pd.DataFrame(f))
    return pd.concat(frames, ignore_index=True)


BASE_REGIME = {
    "no_programme": "no_programme",
    "centralised": "centralised",
    "cooperative": "cooperative",
    "hubs_everywhere": "no_programme",
    "brokerage_everywhere": "no_programme",
}


def run_manifest(scenario: str, seed: int, place: str, wap: float, months: int = MONTHS) -> dict[str, Any]:
    levers: dict[str, Any] = {"caseload": 120.0, "hub_firms_per_year": 0.0, "brokerage": False}
    if scenario == "hubs_everywhere":
        levers["hub_firms_per_year"] = 30.0
    return {
        "labourlab_manifest": 1,
        "kind": "experiment-run",
        "seed": seed,
        "scenario": scenario,
        "arm": scenario,
        "config": {
            "place": {
                "name": place,
                "districts": [{"name": n, "working_age_pop": wap * s} for n, s in zip(("A", "B"), SHARES, strict=True)],
            },
            "regime": {"name": BASE_REGIME.get(scenario, scenario), "levers": levers},
            "params": {"hub_displacement": 0.35},
            "months": months,
            "burn_in": 6,
            "people_per_agent": 1.0,
        },
    }


def write_experiment(
    root: Path,
    scenarios: tuple[str, ...] = tuple(BASE_REGIME),
    seeds: list[int] = SEEDS,
    place: str = "synthville",
    wap: float = ENGLAND_WAP / 100,
) -> Path:
    """An experiment folder laid out as the runner writes it (tables first, run manifest last)."""
    for sc in scenarios:
        for s in seeds:
            part = f"scenario={sc}"
            for sub in ("monthly", "cohorts", "runs"):
                (root / sub / part).mkdir(parents=True, exist_ok=True)
            monthly_frame(sc, s).to_parquet(root / "monthly" / part / f"seed={s}.parquet", index=False)
            cohorts = pd.DataFrame(
                {"seed": [s], "district": [0], "group": ["jsa_18_24"], "eligible": [10.0], "outcome_24m": [3.0]}
            )
            cohorts.to_parquet(root / "cohorts" / part / f"seed={s}.parquet", index=False)
            man = run_manifest(sc, s, place, wap)
            (root / "runs" / part / f"seed={s}.json").write_text(json.dumps(man), encoding="utf-8")
    spec = {"name": "synthetic", "baseline": "no_programme", "arms": list(scenarios), "seeds": seeds}
    (root / "manifest.json").write_text(json.dumps({"spec": spec}), encoding="utf-8")
    return root


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    return write_experiment(tmp_path / "exp")


def _claim(rep: claims.ClaimsReport, cid: str) -> claims.ClaimResult:
    return next(c for c in rep.claims if c.claim.id == cid)


def _test(cr: claims.ClaimResult, label_start: str) -> claims.TestResult:
    return next(r for r in cr.tests if r.test.label.startswith(label_start))


def _factor(cr: claims.ClaimResult, key: str) -> claims.FactorResult:
    return next(f for f in cr.factors if f.factor.key == key)


# ------------------------------------------------------------------------------ registry
def test_shipped_registry_is_valid_and_names_the_three_claims():
    reg = claims.load_registry()
    assert [c.id for c in reg.claims] == ["support_cost", "hub_jobs", "developer_contributions"]
    for c in reg.claims:
        assert c.sources and all(s.quote and s.citation for s in c.sources)
        assert c.assumptions.parameters and c.report_arithmetic.text
    hub = next(c for c in reg.claims if c.id == "hub_jobs")
    assert {
        "hub_growth_uplift_annual",
        "hub_survival_hazard_ratio",
        "hub_displacement",
        "hub_cost_per_firm_year",
        "hub_fixed_cost_per_year",
        "hub_capital_cost_per_place",
        "prestart_deadweight",
    } <= set(hub.assumptions.parameters)
    assert "hub_prestart_per_year" in hub.assumptions.levers
    quotes = " ".join(s.quote for c in reg.claims for s in c.sources)
    assert "reduce the cost of employment support by 25 percent" in quotes and "saving £500 million" in quotes
    assert "between 25 per cent and 40 per cent less cost per person" in quotes


def test_arm_scenario_applies_the_arm_levers_and_names_the_arm():
    reg = claims.load_registry()
    sc = claims.arm_scenario(reg, "hubs_everywhere", "testville", months=3, burn_in=1)
    assert sc.regime.name == "hubs_everywhere"
    assert sc.regime.levers.hub_firms_per_year == 30.0 and sc.regime.levers.hub_council_share == 0.5
    assert sc.regime.levers.hub_prestart_per_year == load_regime("cooperative").levers.hub_prestart_per_year
    assert sc.regime.levers.brokerage is False and sc.regime.levers.groups.jsa_18_24.referral_share == 0.0


BAD_REGISTRY = [
    ('how = "relative"', 'how = "relativ"', "claims[0].tests[0].how"),
    ('measure = "employed_last12"', 'measure = "employed_last13"', "claims[1].tests[0].measure", "'hub_jobs'"),
    ('arm = "hubs_everywhere"', 'arm = "hubs_everywher"', "claims[1].arm", "'hub_jobs'", "did you mean"),
    ('versus = "centralised"', 'versus = "centralized"', "claims[0].versus", "'support_cost'"),
    ('"hub_displacement",', '"hub_displacment",', "claims[1].assumptions.parameters[2]", "'hub_jobs'"),
    ('levers = ["brokerage"]', 'levers = ["brokering"]', "claims[2].assumptions.levers[0]"),
    ("levers = { brokerage = true }", "levers = { brokrage = true }", "arms.brokerage_everywhere.levers.brokrage"),
    ('regime = "centralised"', 'regime = "centralist"', "arms.centralised.regime"),
    ("claimed = -0.25", 'claimed = "x"', "claims[0].tests[0].claimed"),
    ("claimed = -0.25", "claimed = -0.25\nclaimed_range = [0.1, 0.2]", "claims[0].tests[0]", "not both"),
    ("claimed_range = [0.60, 0.75]", "claimed_range = [0.75, 0.60]", "claims[0].tests[2]", "low <= high"),
    ('key = "n_districts"', 'key = "districts"', "claims[1].report_arithmetic.factors[0].key"),
    ('title = "Enterprise hubs', 'titel = "Enterprise hubs', "claims[1].titel", "did you mean 'title'"),
    ("working_age_pop = 34_750_000", "working_age_pop = -1", "england.working_age_pop"),
    ('id = "hub_jobs"', 'id = "support_cost"', "claims[1].id", "duplicate"),
    ("[claims.report_arithmetic]\ntext", "[claims.report_arithmetic]\ntext = 1\ntxt", "claims[0].report_arithmetic"),
]


@pytest.mark.parametrize("case", BAD_REGISTRY, ids=[c[2] for c in BAD_REGISTRY])
def test_bad_registry_is_one_line_naming_the_field(tmp_path, experiment, capsys, case):
    old, new, *fragments = case
    text = claims.REGISTRY.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "bad_claims.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        claims.load_registry(path)
    assert str(path) in str(info.value)
    assert cli.main(["claims", str(experiment), "--registry", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"labourlab: error: {path}: "), err
    for frag in fragments:
        assert frag in err[0], err[0]


def test_registry_syntax_error_and_missing_file_are_one_line(tmp_path, experiment, capsys):
    path = tmp_path / "broken.toml"
    path.write_text("[[claims]\n", encoding="utf-8")
    assert cli.main(["claims", str(experiment), "--registry", str(path)]) == 2
    assert "TOML syntax error" in capsys.readouterr().err
    assert cli.main(["claims", str(experiment), "--registry", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "file not found" in err[0]


# ------------------------------------------------------------------------- results layouts
def test_results_io_reads_the_experiment_layout(experiment):
    res = results_io.load_results(experiment)
    assert res.layout == results_io.EXPERIMENT
    assert res.experiment is not None and res.experiment["spec"]["baseline"] == "no_programme"
    by = res.by_scenario()
    assert set(by) == set(BASE_REGIME) and sorted(by["hubs_everywhere"]) == SEEDS
    run = by["hubs_everywhere"][3]
    assert run.scenario == "hubs_everywhere" and run.config["regime"]["name"] == "no_programme"  # keyed by scenario
    assert "seed" not in run.monthly.columns and len(run.monthly) == MONTHS * 2
    assert run.cohorts is not None and "seed" not in run.cohorts.columns
    assert run.place == "synthville" and run.months == MONTHS
    assert run.working_age_pop == pytest.approx(ENGLAND_WAP / 100)


def test_unfinished_runs_are_left_out(experiment):
    # A run whose tables exist but whose manifest was never written (killed) is not read.
    part = experiment / "monthly" / "scenario=cooperative"
    monthly_frame("cooperative", 6).to_parquet(part / "seed=6.parquet", index=False)
    res = results_io.load_results(experiment)
    assert 6 not in res.by_scenario()["cooperative"]
    assert any("1 unfinished run" in n for n in res.notes)


def test_results_io_reads_run_folders(tmp_path):
    root = tmp_path / "runs"
    for sc in ("no_programme", "cooperative"):
        d = root / f"{sc}-seed1"
        d.mkdir(parents=True)
        monthly_frame(sc, 1).drop(columns="seed").to_parquet(d / "monthly.parquet", index=False)
        man = run_manifest(sc, 1, "synthville", 1000.0)
        man["config"]["regime"]["name"] = sc
        (d / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    res = results_io.load_results(root)
    assert res.layout == results_io.RUN_FOLDERS and set(res.by_scenario()) == {"no_programme", "cooperative"}


@pytest.mark.parametrize("kind", ["empty", "stray", "partition_without_runs"])
def test_not_a_results_folder_exits_2(tmp_path, capsys, kind):
    folder = tmp_path / "nothing"
    folder.mkdir()
    if kind == "stray":
        (folder / "notes.txt").write_text("hello", encoding="utf-8")
    if kind == "partition_without_runs":
        (folder / "monthly" / "scenario=a").mkdir(parents=True)
    assert cli.main(["claims", str(folder)]) == 2
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and cap.out == ""
    if kind == "partition_without_runs":
        assert "no finished run" in err[0]
    else:
        assert err[0] == f"labourlab: error: {folder}: {results_io.NOT_RESULTS}"
        assert "not a results folder (expected" in err[0]


def test_compare_reads_the_experiment_layout(experiment, capsys):
    rep = compare.analyse(experiment)
    assert rep.arms[0] == "no_programme" and set(rep.arms) == set(BASE_REGIME)
    d = rep.differences
    row = d[(d["measure"] == "employed_last12") & (d["comparison"] == "hubs_everywhere - no_programme")].iloc[0]
    assert row["mean"] == pytest.approx(D_EMPLOYED.mean())
    half = T4 * D_EMPLOYED.std(ddof=1) / math.sqrt(5)
    assert row["low"] == pytest.approx(D_EMPLOYED.mean() - half, abs=1e-4)
    assert cli.main(["compare", str(experiment)]) == 0
    out = capsys.readouterr().out
    assert "hubs_everywhere - no_programme" in out
    assert (experiment / "compare" / "differences.csv").is_file()


# ----------------------------------------------------------------- estimates and verdicts
def test_support_cost_estimates_and_verdicts(experiment):
    rep = claims.analyse(experiment)
    cr = _claim(rep, "support_cost")
    assert cr.status == "tested" and cr.seeds == SEEDS and not cr.england
    # Relative change a year: 0.75 (1 + eps) - 1 seed by seed, mean -0.25.
    r = _test(cr, "employment-support cost a year")
    rel = 0.75 * (1 + EPS) - 1
    half = T4 * rel.std(ddof=1) / math.sqrt(5)
    assert r.est.mean == pytest.approx(-0.25)
    assert r.est.low == pytest.approx(-0.25 - half, abs=1e-6) and r.est.high == pytest.approx(-0.25 + half, abs=1e-6)
    assert r.verdict.text == "consistent" and not r.verdict.too_few  # half-width under 10% of 0.25
    assert math.isfinite(r.est.fieller_low) and r.est.fieller_low < -0.25 < r.est.fieller_high
    # Cost per job outcome: coop 0.75 C (1+eps) / 300 against C / 200, a ratio of 0.5 (1+eps): below 0.60-0.75.
    r = _test(cr, "cost per programme job outcome, cooperative")
    assert r.est.mean == pytest.approx(0.5)
    assert r.verdict.text == "model lower"
    # Levels for each arm: centralised cost per outcome is 2 C / 200, C = 1e6 + 1e4 seed.
    r = _test(cr, "cost per programme job outcome: centralised")
    assert r.arm == "centralised" and r.est.mean == pytest.approx(np.mean([2 * (1e6 + 1e4 * s) / 200 for s in SEEDS]))
    # Cost per additional sustained job against no_programme: Δ cost / 100 (cooperative), a ratio of means.
    r = _test(cr, "public cost per additional sustained job: cooperative")
    coop_total = np.array([2 * 0.75 * (1e6 + 1e4 * s) * (1 + e) for s, e in zip(SEEDS, EPS, strict=True)])
    assert r.versus == "no_programme" and r.est.mean == pytest.approx(coop_total.mean() / 100)
    # The £500m is national: not tested at synthville; shown scaled by working-age population (1% of England).
    r = _test(cr, "employment-support saving a year")
    assert not r.testable and r.verdict.text == "not testable at this scale"
    assert r.scaled == pytest.approx((5e6, 5e6))
    saving = np.array([(1e6 + 1e4 * s) * (1 - 0.75 * (1 + e)) for s, e in zip(SEEDS, EPS, strict=True)])
    assert r.est.mean == pytest.approx(saving.mean())


def test_hub_jobs_factors_and_which_differs_most(experiment):
    cr = _claim(claims.analyse(experiment), "hub_jobs")
    r = _test(cr, "additional employment")
    assert r.est.mean == pytest.approx(100.0)
    assert r.scaled == pytest.approx((90_000 * 2 / 326,) * 2)  # one hub per district: 2 of 326
    assert _test(cr, "additional small-business jobs").est.mean == pytest.approx(200.0)
    cost = _test(cr, "public cost per additional job in a hub area")
    assert cost.est.mean == pytest.approx(HUB_COST / 100.0) and cost.verdict.text == "consistent"
    # No one more sustained in work in the synthetic hubs arm: no cost per additional sustained job.
    r = _test(cr, "public cost per additional sustained job: hubs everywhere")
    assert math.isnan(r.est.mean) and r.est.note == "no increase on average"
    # Model factors: 2 districts, 60 firms per hub, 200/120 jobs per firm, 100/200 additionality.
    assert _factor(cr, "n_districts").model == 2
    assert _factor(cr, "hub_firms_per_district").model == pytest.approx(60.0)
    assert _factor(cr, "small_firm_jobs_per_hub_firm").model == pytest.approx(200.0 / 120.0)
    assert _factor(cr, "employment_per_small_firm_job").model == pytest.approx(0.5)
    assert cr.product_model == pytest.approx(100.0)
    # Report side: 326 x 30 x J x 0.35 = 90,000 solves J.
    solved = _factor(cr, "small_firm_jobs_per_hub_firm")
    assert solved.solved and solved.report == pytest.approx(90_000 / (326 * 30 * 0.35))
    assert math.prod(f.report for f in cr.factors) == pytest.approx(90_000)
    # Not England: the district count is not compared; jobs per firm differs most (|ln(1.67/26.3)| is largest).
    assert not _factor(cr, "n_districts").compared
    assert cr.differs_most.startswith("jobs per supported firm")
    assert "national factors left out" in cr.differs_most


def test_at_england_national_claims_are_tested_and_districts_compared(tmp_path):
    exp = write_experiment(tmp_path / "eng", place="england", wap=ENGLAND_WAP)
    rep = claims.analyse(exp)
    cr = _claim(rep, "hub_jobs")
    assert cr.england
    r = _test(cr, "additional employment")
    assert r.testable and r.scaled is None and r.verdict.text == "model lower"
    assert _factor(cr, "n_districts").compared
    assert cr.differs_most.startswith("districts")  # ln(2/326) beats ln(1.67/26.3)
    sc = _test(_claim(rep, "support_cost"), "employment-support saving a year")
    assert sc.testable and sc.verdict.text == "model lower"


def test_developer_ratio_too_few_seeds_uses_the_planner(experiment):
    cr = _claim(claims.analyse(experiment), "developer_contributions")
    r = _test(cr, "developer skills contributions a year, brokered")
    assert r.est.mean == pytest.approx(16.0)
    sd = DEV_RATIO.std(ddof=1)
    assert r.est.low < 15.0 < r.est.high
    assert r.verdict.text == "consistent" and r.verdict.too_few
    assert r.verdict.seeds_to_settle == stats.seeds_needed(1.0, sd, 1.0)
    lines = claims.test_lines(cr)
    assert any("too few seeds to conclude" in x and f"about {r.verdict.seeds_to_settle:,}" in x for x in lines)
    # Yield per district a year beside the report's ~£0.66m.
    y = _factor(cr, "contribution_per_district_year")
    unbrokered = np.array([20_000.0 * (1 + 0.1 * s) for s in SEEDS])
    assert y.model == pytest.approx((unbrokered * DEV_RATIO).mean() / 2 / 2)  # a year (2 years), per district (2)
    assert y.solved and y.report == pytest.approx(225e6 / 340)


def test_developer_ratio_is_taken_apart_stage_by_stage(experiment):
    """The decomposition multiplies to the ratio in every seed, each factor is what the synthetic
    pipeline put in (plans x7.5 the ratio, a tenth the value per plan, the same rate per GBP 1m,
    1/0.75 the share paid), and the stage with the largest log factor is named."""
    cr = _claim(claims.analyse(experiment), "developer_contributions")
    assert [s.measure for s in cr.stages] == [s.measure for s in cr.claim.decomposition.stages]
    plans, value, rate, paid = cr.stages
    assert plans.est.mean == pytest.approx(7.5 * DEV_RATIO.mean())
    assert value.est.mean == pytest.approx(0.1) and value.est.sd == pytest.approx(0.0, abs=1e-12)
    assert rate.est.mean == pytest.approx(1.0)
    assert paid.est.mean == pytest.approx(1 / PAID_UNMONITORED)
    assert cr.ratio.mean == pytest.approx(DEV_RATIO.mean()) and cr.ratio.low < 15.0 < cr.ratio.high
    assert sum(s.share for s in cr.stages) == pytest.approx(1.0)
    assert sum(s.log_mean for s in cr.stages) == pytest.approx(np.mean(np.log(DEV_RATIO)))
    assert cr.moves_most.startswith("plans secured") and "offset by construction value per plan (x0.1)" in cr.moves_most
    # The synthetic manifests give no construction output: no sweep, and a note says why.
    assert cr.sweep is None and any("sweep: not run" in n for n in cr.notes)
    md = claims.markdown(claims.analyse(experiment))
    assert "taken apart stage by stage" in md and "Moves the ratio most (stage" in md
    df = claims.frame(claims.analyse(experiment))
    assert (df["kind"] == "stage").sum() == 4


def test_a_decomposition_stage_must_be_a_run_total(tmp_path):
    text = (claims.REGISTRY).read_text(encoding="utf-8")
    bad = text.replace(
        '{ measure = "esp_plans", label = "plans secured" }', '{ measure = "employed_last12", label = "x" }'
    )
    path = tmp_path / "claims.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match="not a total over the run"):
        claims.load_registry(path)


@pytest.mark.parametrize(
    ("mean", "low", "high", "bounds", "expected", "too_few"),
    [
        (-0.25, -0.26, -0.24, (-0.25, -0.25), "consistent", False),
        (-0.10, -0.12, -0.08, (-0.25, -0.25), "model higher", False),
        (0.5, 0.45, 0.55, (0.60, 0.75), "model lower", False),
        (0.8, 0.78, 0.82, (0.60, 0.75), "model higher", False),
        (0.7, 0.65, 0.72, (0.60, 0.75), "consistent", False),  # inside the claimed range
        (0.7, 0.3, 1.1, (0.60, 0.75), "consistent", True),  # straddles the range, wide
        (10.0, -50.0, 70.0, (15.0, 15.0), "consistent", True),
        (15.5, 14.9, 16.1, (15.0, 15.0), "consistent", False),  # straddles but narrow: consistent
    ],
)
def test_verdicts(mean, low, high, bounds, expected, too_few):
    est = claims.Estimate(5, mean, low, high, (high - low) / 2 / T4 * math.sqrt(5), "paired")
    v = claims.verdict(est, bounds)
    assert v.text == expected and v.too_few == too_few
    if too_few:
        assert v.seeds_to_settle > 5


def test_one_seed_gives_no_interval_and_no_verdict():
    est = claims.estimate("difference", np.array([3.0]), np.array([1.0]), None, None)
    assert est.n == 1 and est.mean == 2.0 and math.isnan(est.low)
    assert claims.verdict(est, (2.0, 2.0)).text == "no interval (one seed)"


def test_claims_measures_are_the_registrys_and_any_can_be_claimed(experiment, tmp_path):
    """A claims file may name any measure of simulation.measures, a £m one shown as money."""
    from simulation import measures
    from simulation.analysis import claims_render

    assert claims.MEASURES is measures.MEASURES
    assert claims_render._fmt(2.5, "gbp_m") == "£2.50m" and claims_render._fmt(-0.004, "gbp_m", True) == "-£4,000"
    text = claims.REGISTRY.read_text(encoding="utf-8")
    text = text.replace('measure = "employment_support_cost_per_year"', 'measure = "employment_support_cost"', 1)
    path = tmp_path / "claims.toml"
    path.write_text(text, encoding="utf-8")
    rep = claims.analyse(experiment, path)
    r = _claim(rep, "support_cost").tests[0]
    assert r.test.measure == "employment_support_cost" and r.unit == "share"  # a relative change: a share
    # Over the whole run (two years) the relative change is the same as a year's.
    assert r.est is not None and r.est.mean == pytest.approx(-0.25, abs=0.01)


# ------------------------------------------------------------------------ command line
def test_claims_command_prints_and_writes_tables(experiment, capsys):
    assert cli.main(["claims", str(experiment)]) == 0
    out = capsys.readouterr().out
    for cid in ("support_cost", "hub_jobs", "developer_contributions"):
        assert f"claim {cid}" in out
    assert "saving £500 million" in out and "Differs most: jobs per supported firm" in out
    assert "synthville is not England" in out and "cannot be tested at this scale" in out
    assert "scaled to this place" in out and "not a national estimate by the model" in out
    assert "hub_growth_uplift_annual" in out and "evidence range" in out
    md, csv = experiment / "claims" / "claims.md", experiment / "claims" / "claims.csv"
    assert f"wrote {csv}" in out and f"wrote {md}" in out
    df = pd.read_csv(csv)
    assert set(df["kind"]) == {
        "test",
        "factor",
        "stage",
    }  # no sweep: the synthetic manifests give no construction output
    row = df[(df["claim"] == "support_cost") & df["label"].str.startswith("employment-support saving")].iloc[0]
    assert row["scaled_claimed_low"] == pytest.approx(5e6) and not row["testable"]
    assert "## hub_jobs" in md.read_text(encoding="utf-8")
    assert not list((experiment / "claims").glob(".*.tmp"))  # atomic writes leave no temporary files


def test_missing_arms_get_a_note_and_the_rest_go_on(tmp_path, capsys):
    exp = write_experiment(tmp_path / "part", scenarios=("no_programme", "centralised", "cooperative"))
    assert cli.main(["claims", str(exp)]) == 0
    out = capsys.readouterr().out
    lines = [x for x in out.splitlines() if x.startswith("claim hub_jobs") or x.startswith("claim developer")]
    assert lines == [
        "claim hub_jobs: not tested: the results have no runs of hubs_everywhere "
        "(arms found: centralised, cooperative, no_programme)",
        "claim developer_contributions: not tested: the results have no runs of brokerage_everywhere "
        "(arms found: centralised, cooperative, no_programme)",
    ]
    assert "claim support_cost: Employment support" in out
    df = pd.read_csv(exp / "claims" / "claims.csv")
    assert (df[df["claim"] == "hub_jobs"]["kind"] == "skipped").all()


def test_a_test_arm_missing_skips_only_that_row(tmp_path):
    exp = write_experiment(tmp_path / "nonp", scenarios=("centralised", "cooperative"))
    cr = _claim(claims.analyse(exp), "support_cost")
    assert cr.status == "tested"
    r = _test(cr, "public cost per additional sustained job: cooperative")
    assert r.est is None and "no runs of no_programme" in r.note
    assert _test(cr, "employment-support cost a year").est.mean == pytest.approx(-0.25)


# --------------------------------------------------------------------------- end to end
E2E_ARMS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "no_programme": ("no_programme", None),
    "centralised": ("centralised", None),
    "cooperative": ("cooperative", None),
    "hubs_everywhere": (
        "no_programme",
        {"hub_firms_per_year": 30.0, "hub_council_share": 0.5, "hub_prestart_per_year": 60.0},
    ),
    "brokerage_everywhere": ("no_programme", {"brokerage": True}),
}


def test_claims_end_to_end_on_model_runs(tmp_path, capsys, small_schemes):
    out = tmp_path / "e2e"
    built = {}
    for arm, (regime, levers) in E2E_ARMS.items():
        # Small schemes, so that testville's small output brings plans without brokerage too.
        sc = make_scenario("testville", regime, months=12, burn_in=6, lever_overrides=levers, overrides=small_schemes)
        built[arm] = sc = sc.model_copy(update={"regime": sc.regime.model_copy(update={"name": arm})})
        for seed in (1, 2):
            run_scenario(sc, seed, out / f"{arm}-seed{seed}")
    # The registry's arms are the same scenarios.
    reg = claims.load_registry()
    for arm, sc in built.items():
        assert claims.arm_scenario(reg, arm, "testville", months=12, burn_in=6).regime == sc.regime
    assert cli.main(["claims", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "not tested" not in printed
    for cid in ("support_cost", "hub_jobs", "developer_contributions"):
        assert f"claim {cid}:" in printed
    assert (out / "claims" / "claims.md").is_file() and (out / "claims" / "claims.csv").is_file()
    rep = claims.analyse(out)
    dev = _test(_claim(rep, "developer_contributions"), "developer skills contributions a year, brokered")
    assert dev.est is not None and dev.est.n == 2 and dev.est.mean > 1  # brokerage raises contributions
    # The stages multiply to the ratio, and the pipeline replayed alone gives the runs' ratio.
    cr = _claim(rep, "developer_contributions")
    assert cr.ratio.mean == pytest.approx(dev.est.mean) and sum(s.share for s in cr.stages) == pytest.approx(1.0)
    assert cr.sweep is not None and cr.sweep.base == pytest.approx(cr.sweep.runs, rel=1e-4) and not cr.sweep.note
    assert cr.sweep.rows and "Moves the ratio most (parameter" in printed
    assert {r.parameter for r in cr.sweep.rows} | set(cr.sweep.skipped) == set(cr.claim.sweep.parameters)
    hubs = _claim(rep, "hub_jobs")
    assert _factor(hubs, "n_districts").model == 3 and _factor(hubs, "hub_firms_per_district").model > 0


def test_claims_without_economies_writes_no_economy_table(experiment, capsys):
    assert cli.main(["claims", str(experiment)]) == 0
    assert "=== economy:" not in capsys.readouterr().out
    assert sorted(p.name for p in (experiment / "claims").iterdir()) == ["claims.csv", "claims.md"]
