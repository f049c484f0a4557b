"""`labourlab validate`: held-out stylised facts, each check's statistic on hand-made tables, the
config's strict validation, and the command end to end on small places."""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.analysis import validate, validate_cli, validate_spec
from simulation.analysis.targets import load_targets
from simulation.config import ConfigError
from simulation.people import DURATION_BINS


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labourlab")
    validate_cli.add_parser(p.add_subparsers(dest="command"))
    return p


def run_cmd(*argv: str) -> int:
    return validate_cli.run(parser().parse_args(["validate", *argv]))


# Small settings: testville for the place arms, the South West's 20 markets at 1,000 people per row
# for the Beveridge curve, 30 months so that some cohorts are followed for two years.
SMALL = ("--place", "testville", "--beveridge-place", "region:south_west", "--england-scale", "1000")
SHORT = ("--months", "30", "--burn-in", "6")

QUANTITY_CHECK = """
[checks.{cid}]
label = "survival to 2 years"
statistic = "quantity"
quantity = "survival_2yr"
arm = "baseline"
expect = "within"
value = {value}
low = {low}
high = {high}
source = "test"
"""


# ------------------------------------------------------------------------- the shipped checks
def test_shipped_checks_are_held_out_from_calibration() -> None:
    """No check reads a calibration target, and no figure of validation.toml is one of targets.toml's."""
    checks = validate_spec.load_checks()
    targets = load_targets()
    read = {q for c in checks.values() for q in c.reads()}
    assert read and not read & set(targets)
    assert "duration_gradient" not in read
    # Nor does a check reuse the observed figure of a related target (a number may recur by chance
    # for an unrelated quantity: 27% is both a JSA 25+ outcome rate and the low end of the LTU share).
    family = {
        "survival_": ["survival_1yr", "survival_3yr", "survival_5yr"],
        "hazard_": ["u_to_e_hazard", "duration_gradient"],
        "outcome_rate_": ["wp_two_year_outcome_rate"],
    }
    for cid, c in checks.items():
        related = {t for q in c.reads() for prefix, ts in family.items() if q.startswith(prefix) for t in ts}
        target_figures = {x for t in related for x in (targets[t].value, targets[t].low, targets[t].high)}
        assert not set(c.figures()) & target_figures, cid
    # The four kinds of fact are all there.
    kinds = {c.statistic for c in checks.values()}
    assert {"beveridge_slope", "hazard_decline", "quantity", "group_gap"} <= kinds
    assert {c.quantity for c in checks.values() if c.statistic == "quantity"} == {
        "survival_2yr",
        "survival_4yr",
        "adviser_caseload",
    }


def test_a_check_reading_a_calibration_target_is_refused(write_toml: Callable[[str, str], Path]) -> None:
    path = write_toml("v", QUANTITY_CHECK.format(cid="s3", value=0.6, low=0.5, high=0.7).replace("2yr", "3yr"))
    with pytest.raises(ConfigError) as e:
        validate_spec.load_checks(path)
    assert e.value.field == "checks.s3"
    assert "survival_3yr" in str(e.value) and "calibration target" in str(e.value)


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ('expect = "within"', 'expekt = "within"', "checks.x.expekt", "did you mean 'expect'"),
        ("low = 0.5\n", "", "checks.x", "needs value, low and high"),
        ("high = 0.9", "high = 0.4", "checks.x", "low < high"),
        ('quantity = "survival_2yr"', 'quantity = "survival_2y"', "checks.x.quantity", "did you mean 'survival_2yr'"),
        ('arm = "baseline"', 'arm = "england2"', "checks.x.arm", "england"),
        ("value = 0.7", 'value = "0.7"', "checks.x.value", "valid number"),
        ('quantity = "survival_2yr"\n', "", "checks.x", "needs 'quantity'"),
        ('statistic = "quantity"', 'statistic = "group_rate"', "checks.x", "not used by statistic 'group_rate'"),
    ],
)
def test_bad_validation_file_is_one_line_error(
    write_toml: Callable[[str, str], Path], old: str, new: str, field: str, words: str
) -> None:
    text = QUANTITY_CHECK.format(cid="x", value=0.7, low=0.5, high=0.9)
    assert old in text
    path = write_toml("v", text.replace(old, new, 1))
    with pytest.raises(ConfigError) as e:
        validate_spec.load_checks(path)
    assert e.value.field == field
    assert words in str(e.value)
    assert "\n" not in str(e.value)


def test_unknown_group_is_named(write_toml: Callable[[str, str], Path]) -> None:
    text = """
[checks.g]
label = "gap"
statistic = "group_gap"
higher = ["jsa_25_plus"]
lower = ["esa_nu"]
arm = "programme"
expect = "above"
threshold = 1.0
source = "test"
"""
    with pytest.raises(ConfigError) as e:
        validate_spec.load_checks(write_toml("v", text))
    assert e.value.field == "checks.g.lower[0]" and "esa_new" in str(e.value)


def test_command_with_bad_checks_file_raises_config_error(write_toml: Callable[[str, str], Path]) -> None:
    path = write_toml("v", "[checks.x]\nlabel = 3\n")
    with pytest.raises(ConfigError) as e:
        run_cmd("--checks", str(path), *SMALL, *SHORT, "--jobs", "1")
    assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_command_with_missing_calibration_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        run_cmd("--calibration", str(tmp_path / "fitted.toml"), *SMALL, *SHORT, "--jobs", "1")


# -------------------------------------------------------------------------------- statistics
def hazard_frame(hazards: list[float], at_risk: float = 10_000.0, months: int = 12) -> pd.DataFrame:
    """A one-district monthly table whose job-finding hazard by duration bin is `hazards`."""
    rows = {"month": np.arange(1, months + 1), "district": np.zeros(months, dtype=int)}
    for b, h in zip(DURATION_BINS, hazards, strict=True):
        rows[f"u_at_risk_{b}"] = np.full(months, at_risk)
        rows[f"u_to_e_{b}"] = np.full(months, at_risk * h)
    return pd.DataFrame(rows)


def runs_of(frames: list[pd.DataFrame], cohorts: list[pd.DataFrame] | None = None, ppa: float = 1.0) -> list:
    cohorts = cohorts or [pd.DataFrame()] * len(frames)
    return [validate.RunOut(f, c, ppa, 0.0) for f, c in zip(frames, cohorts, strict=True)]


def check_of(**kw: object) -> validate_spec.Check:
    base: dict[str, object] = {"label": "t", "source": "test", "arm": "baseline"}
    return validate_spec.Check.model_validate(base | kw)


def test_pooled_hazard_pools_bins_by_people_at_risk() -> None:
    df = hazard_frame([0.1, 0.08, 0.06, 0.04, 0.02])
    df["u_at_risk_d24p"] *= 3  # three times as many at risk in the longest bin
    df["u_to_e_d24p"] *= 3
    assert validate.pooled_hazard(df, ["d12_23"]) == pytest.approx(0.04)
    assert validate.pooled_hazard(df, ["d12_23", "d24p"]) == pytest.approx((0.04 + 3 * 0.02) / 4)


def test_hazard_decline_gives_the_known_monotonicity_verdict() -> None:
    check = check_of(statistic="hazard_decline", expect="below", threshold=1.0)
    falling = [hazard_frame([0.10, 0.08, 0.06, 0.04, 0.02 + 0.001 * k]) for k in range(3)]
    res = validate.evaluate("h", check, runs_of(falling))
    assert res.status == validate.PASS
    assert res.value == pytest.approx(np.mean([0.8, 0.8, 0.8]), abs=1e-9)  # 0.08/0.10 is the largest ratio
    assert "24+ months: 0.0210" in res.detail
    # A bump in the middle (6-11 months above 3-5) breaks monotone decline, though end to end it falls.
    bumped = [hazard_frame([0.10, 0.06, 0.07 + 0.001 * k, 0.04, 0.02]) for k in range(3)]
    res = validate.evaluate("h", check, runs_of(bumped))
    assert res.status == validate.FAIL
    assert res.value > 1.0
    assert math.isnan(validate.hazard_decline([0.1, 0.0, 0.05]))  # no ratio to a bin nobody leaves


def market_frame(u_rates: np.ndarray, v_rates: np.ndarray, months: int = 3, lf: float = 10_000.0) -> pd.DataFrame:
    """Monthly rows of markets with these unemployment and vacancy rates (one district each)."""
    rows = []
    for m in range(1, months + 1):
        for i, (u, v) in enumerate(zip(u_rates, v_rates, strict=True)):
            e = lf * (1 - u)
            rows.append(
                {"month": m, "market": f"m{i}", "unemployed": lf * u, "employed": e, "vacancies": e * v / (1 - v)}
            )
    return pd.DataFrame(rows)


def test_market_rates_recover_rates_and_use_only_the_last_months() -> None:
    u = np.array([0.04, 0.06, 0.08])
    v = np.array([0.03, 0.02, 0.01])
    df = market_frame(u, v, months=20)
    early = df["month"] <= 8
    df.loc[early, "vacancies"] *= 5  # months before the last twelve must not count
    pts = validate.market_rates([df, df])
    np.testing.assert_allclose(pts.loc[["m0", "m1", "m2"], "u_rate"], u)
    np.testing.assert_allclose(pts.loc[["m0", "m1", "m2"], "v_rate"], v)
    assert pts["labour_force"].iloc[0] == pytest.approx(2 * 12 * 10_000)


def test_beveridge_slope_detects_a_known_negative_slope_and_a_positive_one() -> None:
    rng = np.random.default_rng(3)
    u = rng.uniform(0.03, 0.12, 60)
    check = check_of(statistic="beveridge_slope", arm="england", expect="below", threshold=0.0, min_cases=10)
    down = market_frame(u, 0.08 - 0.5 * u + rng.normal(0, 0.004, u.size))
    res = validate.evaluate("b", check, runs_of([down, down]))
    assert res.status == validate.PASS
    assert res.value == pytest.approx(-0.5, abs=0.05)
    assert res.low < res.value < res.high < 0
    up = market_frame(u, 0.01 + 0.3 * u + rng.normal(0, 0.004, u.size))
    res = validate.evaluate("b", check, runs_of([up]))
    assert res.status == validate.FAIL and res.value == pytest.approx(0.3, abs=0.05)
    few = market_frame(u[:5], 0.08 - 0.5 * u[:5])
    res = validate.evaluate("b", check, runs_of([few]))
    assert res.status == validate.NA and "5 markets" in res.reason


def test_weighted_slope_leans_on_large_markets() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([0.0, -1.0, -2.0, 10.0])
    assert validate.wls_slope(x, y, np.array([1.0, 1.0, 1.0, 1e-9])) == pytest.approx(-1.0, abs=1e-6)
    assert validate.wls_slope(x, y, np.ones(4)) > 0


def cohorts(rows: dict[str, tuple[float, float, float]], followed: bool = True) -> pd.DataFrame:
    """A cohort table: group -> (eligible, referred, outcomes within two years)."""
    return pd.DataFrame(
        [
            {"group": g, "eligible": e, "referred": r, "outcome_24m": o, "followed_up": followed}
            for g, (e, r, o) in rows.items()
        ]
    )


def test_group_rates_use_the_cohort_and_leave_out_groups_with_too_few_cases() -> None:
    c = cohorts(
        {
            "jsa_18_24": (400, 400, 200),
            "jsa_25_plus": (1000, 1000, 300),
            "jsa_ex_ib": (20, 20, 15),  # too few referred rows at 2 people per row: never judged
            "esa_new": (800, 400, 80),  # half referred; outcomes are counted for the whole cohort
            "esa_ex_ib": (600, 300, 30),
        }
    )
    counts = validate.group_counts(c, ppa=2.0)
    assert counts.at["esa_new", "cases"] == 200
    assert validate.group_rate(counts, ["esa_new"]) == pytest.approx(0.1)
    assert validate.group_rate(counts, ["jsa_18_24", "jsa_25_plus"]) == pytest.approx(500 / 1400)
    gap = check_of(
        statistic="group_gap",
        arm="programme",
        higher=["jsa_18_24", "jsa_25_plus", "jsa_ex_ib"],
        lower=["esa_new", "esa_ex_ib"],
        expect="above",
        threshold=1.0,
        min_cases=50,
    )
    res = validate.evaluate("g", gap, runs_of([pd.DataFrame()] * 2, [c, c], ppa=2.0))
    assert res.status == validate.PASS
    assert res.value == pytest.approx(0.3 / 0.1)  # lowest JSA rate (25+) over highest ESA rate (new)
    assert "jsa_ex_ib (20 referred rows)" in res.detail
    level = check_of(
        statistic="group_rate",
        arm="programme",
        groups=["jsa_ex_ib"],
        expect="within",
        value=0.5,
        low=0.4,
        high=0.6,
        min_cases=50,
    )
    res = validate.evaluate("l", level, runs_of([pd.DataFrame()], [c], ppa=2.0))
    assert res.status == validate.NA and res.reason.startswith("not enough cases: jsa_ex_ib")
    unfollowed = validate.group_counts(cohorts({"esa_new": (10, 10, 5)}, followed=False), ppa=1.0)
    assert math.isnan(validate.group_rate(unfollowed, ["esa_new"]))


@pytest.mark.parametrize(
    ("expect", "bounds", "value", "low", "high", "status"),
    [
        ("within", {"value": 0.5, "low": 0.4, "high": 0.6}, 0.6, 0.1, 0.9, validate.PASS),  # the band is closed
        ("within", {"value": 0.5, "low": 0.4, "high": 0.6}, 0.3999, 0.39, 0.41, validate.FAIL),
        ("below", {"threshold": 0.0}, -0.5, -0.9, 0.1, validate.FAIL),  # interval reaches the threshold
        ("below", {"threshold": 0.0}, -0.5, math.nan, math.nan, validate.PASS),  # one seed: the value decides
        ("above", {"threshold": 1.0}, 2.0, 1.1, 2.9, validate.PASS),
        ("above", {"threshold": 1.0}, math.nan, math.nan, math.nan, validate.NA),
    ],
)
def test_verdict(expect: str, bounds: dict, value: float, low: float, high: float, status: str) -> None:
    check = check_of(statistic="quantity", quantity="survival_2yr", expect=expect, **bounds)
    assert validate.verdict(check, value, low, high)[0] == status


# ------------------------------------------------------------------------------- the command
def test_command_writes_table_markdown_csv_and_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "val"
    assert run_cmd(*SMALL, *SHORT, "--seeds", "2", "--jobs", "1", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    checks = validate_spec.load_checks()
    df = pd.read_csv(out / "validation.csv", keep_default_na=False, na_values=[""])
    assert list(df["id"]) == list(checks)
    assert set(df["status"]) <= {validate.PASS, validate.FAIL, validate.NA}
    assert (df["n_seeds"][df["status"] != validate.NA] == 2).all()
    judged = df[df["status"] != validate.NA]
    assert judged["value"].notna().all()
    # Testville's tiny JSA ex-IB group is left out of the group comparison, never judged.
    gap = df.set_index("id").loc["wp_jsa_above_esa"]
    assert gap["status"] == validate.NA or "jsa_ex_ib" in gap["detail"]
    md = (out / "validation.md").read_text(encoding="utf-8")
    assert "| check | source | model [90% interval] | expected | tolerance | result |" in md
    for c in checks.values():
        assert c.label in md
    man = json.loads((out / "manifest.json").read_text(), parse_constant=lambda s: pytest.fail(f"{s} in JSON"))
    assert man["settings"]["seeds"] == [1, 2] and man["settings"]["place"] == "testville"
    assert man["git_commit"] and "numpy" in man["versions"]
    assert set(man["results"]) == set(checks)
    assert "Validation: testville" in printed and ("PASS" in printed or "FAIL" in printed)
    assert f"wrote {out / 'validation.md'}" in printed


def test_strict_exits_1_only_when_a_check_fails(
    tmp_path: Path, write_toml: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    impossible = write_toml("fail", QUANTITY_CHECK.format(cid="s2", value=0.995, low=0.99, high=1.0))
    certain = write_toml("pass", QUANTITY_CHECK.format(cid="s2", value=0.5, low=0.0, high=1.0))
    common = (*SMALL, *SHORT, "--seeds", "1", "--jobs", "1")
    assert run_cmd("--checks", str(impossible), *common, "--out", str(tmp_path / "a")) == 0
    assert run_cmd("--checks", str(impossible), *common, "--out", str(tmp_path / "b"), "--strict") == 1
    assert run_cmd("--checks", str(certain), *common, "--out", str(tmp_path / "c"), "--strict") == 0
    assert pd.read_csv(tmp_path / "b" / "validation.csv")["status"].tolist() == [validate.FAIL]
    assert "1 runs" in capsys.readouterr().out  # only the arm the checks need is run


def test_process_pool_gives_the_same_values_as_one_process(
    tmp_path: Path, write_toml: Callable[[str, str], Path]
) -> None:
    checks = write_toml("one", QUANTITY_CHECK.format(cid="s2", value=0.5, low=0.0, high=1.0))
    common = ("--checks", str(checks), *SMALL, *SHORT, "--seeds", "2")
    assert run_cmd(*common, "--jobs", "1", "--out", str(tmp_path / "serial")) == 0
    assert run_cmd(*common, "--jobs", "2", "--out", str(tmp_path / "pool")) == 0
    serial = pd.read_csv(tmp_path / "serial" / "validation.csv")
    pool = pd.read_csv(tmp_path / "pool" / "validation.csv")
    assert serial["per_seed"].tolist() == pool["per_seed"].tolist()


def test_calibration_file_is_the_one_validated(
    tmp_path: Path, write_toml: Callable[[str, str], Path], shipped: Callable[[str, str], str]
) -> None:
    """--calibration FILE (e.g. calibrate's fitted file, with its provenance) sets the parameters of every run."""
    checks = write_toml("one", QUANTITY_CHECK.format(cid="s2", value=0.5, low=0.0, high=1.0))
    text = shipped("", "calibration")
    # The shipped first-year survival (itself fitted, below 0.95) raised to 0.95 in a copy.
    fitted, n = re.subn(r"(\[params\.survival_1yr\]\nvalue = )0\.9\d*\n", r"\g<1>0.95\n", text)
    assert n == 1
    fitted += '\n[provenance]\nmade_by = "labourlab calibrate (test)"\n'
    cal = write_toml("fitted", fitted)
    common = ("--checks", str(checks), *SMALL, *SHORT, "--seeds", "1", "--jobs", "1")
    assert run_cmd(*common, "--out", str(tmp_path / "shipped")) == 0
    assert run_cmd(*common, "--calibration", str(cal), "--out", str(tmp_path / "fitted")) == 0
    base = pd.read_csv(tmp_path / "shipped" / "validation.csv")["value"].iloc[0]
    fit = pd.read_csv(tmp_path / "fitted" / "validation.csv")["value"].iloc[0]
    assert fit > base  # fewer first-year deaths: more firms reach two years
    man = json.loads((tmp_path / "fitted" / "manifest.json").read_text())
    assert man["settings"]["calibration"] == str(cal.resolve())
    assert man["settings"]["calibration_provenance"] == {"made_by": "labourlab calibrate (test)"}


# ------------------------------------------------------------------------------- the cycle
def cycle_monthly(u_rates: list[float], v_rates: list[float]) -> pd.DataFrame:
    """Two districts, three months a quarter at each quarter's unemployment and vacancy rates."""
    rows = []
    for q, (u, v) in enumerate(zip(u_rates, v_rates, strict=True)):
        for m in range(3):
            for d in range(2):
                employed = 1000.0
                rows.append(
                    {
                        "month": 3 * q + m + 1,
                        "district": d,
                        "employed": employed,
                        "unemployed": employed * u / (1 - u),
                        "vacancies": employed * v / (1 - v),
                    }
                )
    return pd.DataFrame(rows)


def test_cycle_statistics_read_the_scenario_series() -> None:
    """A model path equal to the recession file's ONS series correlates perfectly with it and
    rises as much; vacancies falling as unemployment rises give a negative slope."""
    series = validate_spec.load_economy("recession_2008").series["unemployment_rate"][:8]
    u = [x / 100 for x in series]
    v = [0.03 - 0.5 * (x - u[0]) for x in u]
    monthly = cycle_monthly(u, v)
    kw = {"arm": "cycle", "economy": "recession_2008", "series": "unemployment_rate", "quarters": 8}
    rise = check_of(statistic="cycle_rise", expect="within", value=1.0, low=0.0, high=5.0, **kw)
    path = check_of(statistic="cycle_path_correlation", expect="above", threshold=0.8, **kw)
    slope = check_of(statistic="cycle_beveridge_slope", expect="below", threshold=0.0, **kw)
    assert validate.cycle_statistic(rise, monthly) == pytest.approx(max(series) - series[0])
    assert validate.cycle_statistic(path, monthly) == pytest.approx(1.0)
    assert validate.cycle_statistic(slope, monthly) == pytest.approx(-0.5, rel=0.05)
    assert "q0 " in validate.cycle_detail(rise, [validate.RunOut(monthly, pd.DataFrame(), 1.0, 0.0)])


def test_cycle_checks_need_their_scenario_and_series(write_toml: Callable[[str, str], Path]) -> None:
    text = """
[checks.c]
label = "rise"
statistic = "cycle_rise"
arm = "cycle"
economy = "recession_2008"
series = "unemployment_rate"
quarters = 8
expect = "within"
value = 3.0
low = 2.0
high = 4.0
source = "test"
"""
    assert validate_spec.load_checks(write_toml("ok", text))["c"].economy == "recession_2008"
    for old, new, field in (
        ('series = "unemployment_rate"', 'series = "unemployment"', "checks.c.series"),
        ('economy = "recession_2008"', 'economy = "recesion_2008"', "checks.c.economy"),
        ('arm = "cycle"', 'arm = "england"', "checks.c"),
    ):
        with pytest.raises(ConfigError) as e:
            validate_spec.load_checks(write_toml("bad", text.replace(old, new)))
        assert e.value.field == field and "\n" not in str(e.value)
