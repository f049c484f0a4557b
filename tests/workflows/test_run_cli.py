"""`labourlab run` and `labourlab demo`: what they write, and that writing twice gives the same thing."""

from __future__ import annotations

import json

import pandas as pd

from simulation import cli

COLUMNS = [
    "month",
    "district",
    "employed",
    "unemployed",
    "inactive",
    "u_to_e",
    "e_to_u",
    "benefit_jsa",
    "tax_ni",
    "public_cost",
]
OUTPUTS = ["cohorts.parquet", "manifest.json", "monthly.parquet"]
RUN = ["run", "--place", "testville", "--regime", "cooperative", "--seed", "7", "--months", "12", "--burn-in", "6"]


def test_run_writes_table_and_manifest(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main([*RUN, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "testville" in printed and "cooperative" in printed and str(out / "monthly.parquet") in printed
    df = pd.read_parquet(out / "monthly.parquet")
    assert set(COLUMNS) <= set(df.columns)
    assert sorted(df["month"].unique()) == list(range(1, 13))
    assert sorted(df["district"].unique()) == [0, 1, 2]
    assert len(df) == 36
    assert (df["employed"] + df["unemployed"] + df["inactive"] == df["population"]).all()
    assert df["u_to_e"].sum() > 0 and df["tax_ni"].sum() > 0
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["seed"] == 7
    assert man["config"]["regime"]["name"] == "cooperative"
    assert man["config"]["months"] == 12 and man["config"]["burn_in"] == 6
    assert man["people_rows"] == 6500
    assert man["districts"] == ["Northtown", "Northvale", "Southby"]
    # Written atomically: no temporary files left beside the outputs.
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    # Cohorts: official two-year outcomes by referral-point cohort, district and claimant group.
    cohorts = pd.read_parquet(out / "cohorts.parquet")
    assert {"district_name", "group", "eligible_month", "eligible", "referred", "outcome_24m"} <= set(cohorts.columns)
    assert len(cohorts) > 0 and (cohorts["referred"] <= cohorts["eligible"]).all()
    assert (cohorts["outcome_24m"] <= cohorts["eligible"]).all()
    assert cohorts["eligible_month"].between(1, 12).all()


def test_run_twice_gives_identical_tables(tmp_path, capsys):
    for name in ("a", "b"):
        assert cli.main([*RUN, "--out", str(tmp_path / name)]) == 0
    # Rewriting a finished folder replaces it with the same run.
    assert cli.main([*RUN, "--out", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    a = pd.read_parquet(tmp_path / "a" / "monthly.parquet")
    b = pd.read_parquet(tmp_path / "b" / "monthly.parquet")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "a" / "cohorts.parquet"), pd.read_parquet(tmp_path / "b" / "cohorts.parquet")
    )
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == OUTPUTS


def test_run_with_agent_views_writes_the_same_table(tmp_path, capsys):
    assert cli.main([*RUN, "--out", str(tmp_path / "plain")]) == 0
    assert cli.main([*RUN, "--agent-views", "--out", str(tmp_path / "views")]) == 0
    capsys.readouterr()
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "plain" / "monthly.parquet"), pd.read_parquet(tmp_path / "views" / "monthly.parquet")
    )


def test_run_with_set_changes_the_run_and_records_it(tmp_path, capsys):
    assert cli.main([*RUN, "--out", str(tmp_path / "base")]) == 0
    assert cli.main([*RUN, "--set", "sep_rate_eu=0.006", "--out", str(tmp_path / "set")]) == 0
    capsys.readouterr()
    base = pd.read_parquet(tmp_path / "base" / "monthly.parquet")
    changed = pd.read_parquet(tmp_path / "set" / "monthly.parquet")
    assert not base.equals(changed)
    man = json.loads((tmp_path / "set" / "manifest.json").read_text(encoding="utf-8"))
    assert man["config"]["params"]["sep_rate_eu"] == 0.006


def test_demo_runs_every_arm_on_every_seed(tmp_path, capsys):
    out = tmp_path / "demo"
    argv = ["demo", "--place", "testville", "--seeds", "2", "--months", "6", "--burn-in", "3", "--jobs", "1"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    arms = ("no_programme", "centralised", "cooperative")
    expected = sorted(f"{arm}-seed{s}" for arm in arms for s in (1, 2))
    assert sorted(p.name for p in out.iterdir()) == expected
    for run in expected:
        df = pd.read_parquet(out / run / "monthly.parquet")
        assert len(df) == 6 * 3
        man = json.loads((out / run / "manifest.json").read_text(encoding="utf-8"))
        arm, seed = run.rsplit("-seed", 1)
        assert man["config"]["regime"]["name"] == arm and man["seed"] == int(seed)
    for arm in arms:
        assert arm in printed
    # Each run in the demo is the same run `labourlab run` makes.
    single = ["run", "--place", "testville", "--regime", "cooperative", "--seed", "2", "--months", "6"]
    assert cli.main([*single, "--burn-in", "3", "--out", str(tmp_path / "single")]) == 0
    capsys.readouterr()
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "cooperative-seed2" / "monthly.parquet"),
        pd.read_parquet(tmp_path / "single" / "monthly.parquet"),
    )
