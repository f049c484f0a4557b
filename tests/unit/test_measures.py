"""The registry of output measures (`simulation.measures`): each way of computing a measure against a
hand calculation, the two evaluators agreeing, and every consumer naming measures that exist.

The synthetic results have two districts and known month totals, so every figure is checked by hand.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import measures, summary
from simulation.measures import LAST_MONTHS, MEASURES, Measure, evaluate, evaluate_totals

MONTHS = 15
SHARES = (0.75, 0.25)  # two districts


def month_table() -> pd.DataFrame:
    """Known month totals: month t has employed 100 + t, unemployed 20, flows out of unemployment t,
    population 200, costs 1,000 t, and (to test ratios of zero) no one at risk of parking."""
    t = np.arange(1, MONTHS + 1, dtype=float)
    return pd.DataFrame(
        {
            "employed": 100.0 + t,
            "unemployed": np.full(MONTHS, 20.0),
            "population": np.full(MONTHS, 200.0),
            "u_to_e": t,
            "employment_support_cost": 1_000.0 * t,
            "programme_job_outcomes": np.full(MONTHS, 2.0),
            "benefit_jsa": np.full(MONTHS, 10.0),
            "benefit_esa": np.full(MONTHS, 20.0),
            "housing_support": np.full(MONTHS, 30.0),
            "parked": np.zeros(MONTHS),
            "high_barrier_seeking": np.zeros(MONTHS),
        },
        index=pd.Index(np.arange(1, MONTHS + 1), name="month"),
    )


def results(months: pd.DataFrame | None = None) -> pd.DataFrame:
    """The month totals split over two districts, rows in a shuffled order, as a monthly table."""
    g = month_table() if months is None else months
    frames = []
    for d, share in enumerate(SHARES):
        f = g * share
        f["district"] = d
        frames.append(f.reset_index())
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=1)


def test_month_totals_add_the_districts_and_sort_the_months():
    g = measures.month_totals(results())
    assert list(g.index) == list(range(1, MONTHS + 1))
    pd.testing.assert_series_equal(g["employed"], month_table()["employed"], check_names=False)


def test_each_way_of_computing_a_measure_matches_a_hand_calculation():
    df = results()
    t = np.arange(1, MONTHS + 1, dtype=float)
    last = t[-LAST_MONTHS:]
    # mean a month, over the run and over the last months
    assert evaluate("employed_mean", df) == pytest.approx(100.0 + t.mean())
    assert evaluate("employed_last12", df) == pytest.approx(100.0 + last.mean())
    # totals, a total of several columns added month by month, money in £m and £ a year
    assert evaluate("job_outcomes", df) == pytest.approx(2.0 * MONTHS)
    assert evaluate("benefits_paid", df) == pytest.approx(60.0 * MONTHS / 1e6)
    assert evaluate("employment_support_cost", df) == pytest.approx(1_000.0 * t.sum() / 1e6)
    assert evaluate("employment_support_cost_total", df) == pytest.approx(1_000.0 * t.sum())
    assert evaluate("employment_support_cost_per_year", df) == pytest.approx(1_000.0 * t.sum() / (MONTHS / 12))
    # ratios of totals over the window: the rate over the last months, a cost per outcome
    assert evaluate("employment_rate", df) == pytest.approx((100.0 + last).sum() / (200.0 * LAST_MONTHS))
    assert evaluate("unemployment_rate", df) == pytest.approx(
        20.0 * LAST_MONTHS / (20.0 * LAST_MONTHS + (100.0 + last).sum())
    )
    assert evaluate("cost_per_job_outcome", df) == pytest.approx(1_000.0 * t.sum() / (2.0 * MONTHS))
    assert math.isnan(evaluate("parked_share", df))  # nobody at risk: undefined, not zero
    # hazards: this month's flow over last month's stock, averaged over months or pooled
    assert evaluate("u_to_e_hazard", df) == pytest.approx((t[1:] / 20.0).mean())
    assert evaluate("u_to_e_hazard_pooled", df) == pytest.approx(t[1:].sum() / (20.0 * (MONTHS - 1)))
    # a shorter last window
    assert evaluate("employed_last12", df, last_months=3) == pytest.approx(100.0 + t[-3:].mean())


def test_a_run_shorter_than_the_last_months_uses_all_of_it():
    short = month_table().iloc[:5]
    assert LAST_MONTHS > 5
    assert evaluate("employed_last12", results(short)) == pytest.approx(evaluate("employed_mean", results(short)))


def test_one_months_totals_give_that_months_value():
    """What the Mesa reporters show: a measure of the last month alone, from its row (per-district
    arrays are added), equal to the measure of a one-month run."""
    g = month_table()
    row = {c: np.array([g[c].iloc[6] * s for s in SHARES]) for c in g.columns}
    one_month = results(g.iloc[[6]])
    for name in ("employed_mean", "employment_rate", "unemployment_rate", "job_outcomes", "benefits_paid"):
        assert evaluate_totals(name, row) == pytest.approx(evaluate(name, one_month)), name
    assert evaluate_totals("employment_rate", row) == pytest.approx(107.0 / 200.0)
    assert math.isnan(evaluate_totals("parked_share", row))


def test_running_totals_give_the_value_so_far():
    g = month_table()
    so_far = g.iloc[:9].sum().to_dict()
    for name in ("job_outcomes", "employment_support_cost_total", "employment_support_cost_per_year", "employed_mean"):
        assert evaluate_totals(name, so_far, months=9) == pytest.approx(evaluate(name, results(g.iloc[:9]))), name


def test_hazards_need_consecutive_months():
    with pytest.raises(ValueError, match="consecutive months"):
        evaluate_totals("u_to_e_hazard", month_table().sum().to_dict())
    assert math.isnan(evaluate("u_to_e_hazard", results(month_table().iloc[:1])))


def test_series_month_by_month_and_so_far():
    g = month_table()
    t = np.arange(1, MONTHS + 1, dtype=float)
    rate = MEASURES["employment_rate"].series(g)
    np.testing.assert_allclose(rate.to_numpy(), (100.0 + t) / 200.0)
    np.testing.assert_allclose(MEASURES["employment_support_cost"].series(g, cumulative=True), 1e-3 * t.cumsum())
    hazard = MEASURES["u_to_e_hazard"].series(g)
    assert math.isnan(hazard.iloc[0])
    np.testing.assert_allclose(hazard.iloc[1:], t[1:] / 20.0)
    # The last month of a cumulative series is the measure over the whole run (window "run").
    for name in ("employed_mean", "job_outcomes", "cost_per_job_outcome", "u_to_e_hazard", "u_to_e_hazard_pooled"):
        m = MEASURES[name]
        assert m.series(g, cumulative=True).iloc[-1] == pytest.approx(m.value(g)), name
    # Each month alone is the measure of that month's totals.
    for name in ("unemployment_rate", "benefits_paid", "employment_support_cost_per_year"):
        m = MEASURES[name]
        expected = [m.from_totals(g.iloc[i].to_dict()) for i in range(MONTHS)]
        np.testing.assert_allclose(m.series(g).to_numpy(), expected)


def test_a_measure_is_checked_when_defined():
    with pytest.raises(ValueError, match="denominator"):
        Measure("x", "x", "share", "ratio", ("a",))
    with pytest.raises(ValueError, match="denominator"):
        Measure("x", "x", "count", "total", ("a",), ("b",))
    with pytest.raises(ValueError, match="numerator"):
        Measure("x", "x", "count", "total", ())


def test_lookup_and_missing_columns():
    assert measures.get("employment_rate") is MEASURES["employment_rate"]
    with pytest.raises(KeyError, match=r"unknown measure 'employment'.*employment_rate"):
        measures.get("employment")
    assert measures.lacking("unemployment_rate", ["unemployed", "population"]) == ["employed"]
    assert MEASURES["unemployment_rate"].columns == ("unemployed", "employed")
    with pytest.raises(KeyError):
        evaluate("people_sustained_in_work", results())  # the results lack the column: the caller decides what to show


def test_the_registry_is_consistent():
    from simulation.analysis import claims, compare, report, targets
    from simulation.people import GROUP_NAMES

    for name, m in MEASURES.items():
        assert m.name == name and m.label and m.label == m.label.strip()
        assert m.better in (None, "higher", "lower")
        assert m.part_of is None or m.part_of in MEASURES
        assert (m.unit == "gbp_m") == (m.scale == 1e6), name  # £m measures, and only they, are scaled
    assert list(measures.GROUP_LABELS) == list(GROUP_NAMES[1:])
    # Every consumer names measures that exist.
    named = {
        *compare.SHOWN,
        *summary.SUMMARY,
        *summary.LABELS,
        *summary.DIFFERENCES,
        *targets.MEASURE_OF.values(),
        *(p.measure for p in report.TIME_PATHS),
        *report.MAIN_DIFFERENCES,
        *(m for f in claims.FACTORS.values() for m in f.measures),
    }
    assert named <= set(MEASURES), sorted(named - set(MEASURES))
    reg = claims.load_registry()
    assert {m for c in reg.claims for t in c.tests for m in (t.measure, t.per) if m} <= set(MEASURES)
    # Directions where the analysis needs them.
    assert MEASURES["employment_rate"].better == "higher" and MEASURES["cost_per_job_outcome"].better == "lower"


def test_summary_figures_are_the_registrys():
    df = results()
    df["people_sustained_in_work"] = 1.0
    for col in ("inactive", "long_term_unemployed", "e_to_u", "vacancies", "small_firm_jobs", "programme_referrals"):
        df[col] = 3.0
    for col in ("tax_ni", "public_cost", "business_support_cost", "developer_skills_contribution", "esp_local_hires"):
        df[col] = 5.0
    s = summary.summarise(df)
    for key in summary.SUMMARY:
        if key != "parked_share":
            assert s[key] == evaluate(key, df), key
    assert s["parked_share"] == 0.0  # undefined (nobody at risk) is shown as 0 in the run table
    old = summary.summarise(df.drop(columns=["people_sustained_in_work", "business_support_cost"]))
    assert math.isnan(old["people_sustained_in_work"]) and old["business_support_cost"] == 0.0
    assert summary.LABELS["employment_rate"] == (MEASURES["employment_rate"].label, "{:.3f}")


def test_the_model_reporters_are_registry_measures():
    """The Mesa reporters read the model's last month and its running totals: the same figures as
    the registry's measures evaluated from those totals."""
    from simulation.model import MODEL_REPORTERS, LabourMarketModel

    this_month = {
        "employment_rate": "employment_rate",
        "unemployment_rate": "unemployment_rate",
        "long_term_unemployment_rate": "long_term_unemployment_rate",
        "vacancies": "vacancies",
        "participants": "participants",
        "small_firm_jobs": "small_firm_jobs",
    }
    so_far = {
        "job_outcomes_cumulative": "job_outcomes",
        "public_cost_cumulative": "public_cost_total",
        "employment_support_cost_cumulative": "employment_support_cost_total",
        "developer_contributions_cumulative": "developer_contribution_total",
    }
    assert set(MODEL_REPORTERS) == {"month", *this_month, *so_far}
    model = LabourMarketModel(place="testville", regime="cooperative", seed=2, months=4, burn_in=2, agent_views=False)
    for _ in range(6):
        model.step()
    assert model.last_row is not None
    for reporter, name in this_month.items():
        assert MODEL_REPORTERS[reporter](model) == evaluate_totals(name, model.last_row), reporter
    for reporter, name in so_far.items():
        assert MODEL_REPORTERS[reporter](model) == evaluate_totals(name, model.cumulative), reporter


def test_measures_sit_below_the_model_and_the_analysis():
    source = Path(measures.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not {m for m in imported if m.startswith("simulation")}, imported
