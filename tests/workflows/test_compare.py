"""`labourlab compare`: paired differences, intervals, cost per job, two-year outcome rates, errors.

Most tests build synthetic run folders (two arms x five seeds with known differences) so every
figure can be checked against a hand calculation; one runs the model end to end on testville.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import cli
from simulation.analysis import compare, stats, targets

SEEDS = [1, 2, 3, 4, 5]
MONTHS = 36
T4 = 2.131847  # t(0.95, 4 degrees of freedom), from tables
GROUPS = list(compare.GROUPS)

# Per-seed effects of the cooperative arm over the no-programme arm.
EMPLOYED_EFFECT = np.array([10.0, 12.0, 8.0, 14.0, 6.0])  # mean 10, sd sqrt(10)
SUSTAINED_EFFECT = np.array([20.0, 25.0, 15.0, 30.0, 10.0])  # mean 20
ESC_EFFECT = np.array([200_000.0, 240_000.0, 160_000.0, 260_000.0, 140_000.0])  # £, baseline pays none
BSC_COOP = 100_000.0  # £ business support, cooperative only
SMALL_FIRM_EFFECT = np.array([5.0, -3.0, 8.0, -2.0, 2.0])  # mean 2: an interval across zero
# Two-year outcomes per 100 eligible in the followed-up cohort of jsa_18_24.
YOUTH_OUTCOMES = {"no_programme": [20, 22, 18, 21, 19], "cooperative": [30, 32, 28, 34, 26]}
# Within 6, 12, 18 and 24 months: these shares of the two-year outcomes (cumulative).
CURVE = {6: 0.25, 12: 0.5, 18: 0.75, 24: 1.0}
# The common cohort: two-year outcomes per 100 entrants of jsa_18_24 (other groups: 30 in both arms).
COMMON_YOUTH = {"no_programme": [25, 27, 23, 26, 24], "cooperative": [29, 33, 27, 30, 26]}
# Cooperative referrals in the followed-up cohort by group (JSA 25+ gains 5 a seed, so the mix varies
# by seed), and in the cohort not yet followed up (10 a group), which the referral mix still counts.
REFERRED = {g: 40.0 + 10.0 * k for k, g in enumerate(GROUPS)}
REFERRED_UNFOLLOWED = 10.0


def _spread(total: float, months: int = MONTHS) -> np.ndarray:
    """A run total spread evenly over the months."""
    return np.full(months, total / months)


def _referred(group: str, i: int, district: int) -> float:
    if district == 1:
        return REFERRED_UNFOLLOWED
    return REFERRED[group] + (5.0 * i if group == "jsa_25_plus" else 0.0)


def write_run(
    root: Path,
    arm: str,
    seed: int,
    months: int = MONTHS,
    drop: tuple[str, ...] = (),
    cohorts: bool = True,
    sustained_effect: np.ndarray = SUSTAINED_EFFECT,
    common: bool = True,
    common_youth: dict[str, list[int]] = COMMON_YOUTH,
    cohort_sustained: bool = False,
) -> Path:
    """A run folder `root/<arm>-seed<S>/` laid out as the model writes it, with known figures
    (`common`: with the common cohort's and the horizons' columns, as the model now writes them)."""
    i = SEEDS.index(seed) if seed in SEEDS else 0
    coop = arm == "cooperative"
    shock = 1000.0 * seed  # a seed-level common shock, shared by both arms
    month_totals = {
        "population": np.full(months, 80_000.0),
        "employed": np.full(months, 50_000.0 + shock + (EMPLOYED_EFFECT[i] if coop else 0.0)),
        "unemployed": np.full(months, 3_000.0),
        "small_firm_jobs": np.full(months, 2_000.0 + 10 * shock + (SMALL_FIRM_EFFECT[i] if coop else 0.0)),
        "programme_referrals": _spread(500.0 if coop else 0.0, months),
        "programme_job_outcomes": _spread(200.0 if coop else 0.0, months),
        "people_sustained_in_work": _spread(100.0 + 10 * seed + (sustained_effect[i] if coop else 0.0), months),
        "high_barrier_seeking": _spread(100.0 if coop else 0.0, months),
        "parked": _spread(30.0 if coop else 0.0, months),
        "employment_support_cost": _spread(ESC_EFFECT[i] if coop else 0.0, months),
        "business_support_cost": _spread(BSC_COOP if coop else 0.0, months),
        "public_cost": _spread(5e6 + 1e5 * seed + (3e5 if coop else 0.0), months),
        "developer_skills_contribution": _spread(40_000.0 if coop else 10_000.0, months),
        "esp_apprenticeships": _spread(6.0 if coop else 1.0, months),
        "esp_local_hires": _spread(12.0 if coop else 3.0, months),
        "employer_in_kind": _spread(0.0, months),
    }
    for g in GROUPS:
        month_totals[f"referrals_{g}"] = _spread(100.0 if coop else 0.0, months)
        month_totals[f"job_outcomes_{g}"] = _spread(40.0 if coop else 0.0, months)
        month_totals[f"participants_{g}"] = _spread(80.0 if coop else 0.0, months)
    rows = []
    for d, share in enumerate((0.6, 0.4)):  # two districts
        frame = {k: v * share for k, v in month_totals.items() if k not in drop}
        frame["month"] = np.arange(1, months + 1)
        frame["district"] = np.full(months, d)
        frame["district_name"] = np.full(months, ["Northtown", "Southby"][d])
        rows.append(pd.DataFrame(frame))
    out = root / f"{arm}-seed{seed}"
    out.mkdir(parents=True)
    pd.concat(rows, ignore_index=True).to_parquet(out / "monthly.parquet", index=False)
    if cohorts:
        c = []
        for d in (0, 1):
            for g in GROUPS:
                outcomes = YOUTH_OUTCOMES[arm][i] if g == "jsa_18_24" else (40.0 if coop else 30.0)
                # District 0 holds the followed-up cohort; district 1 a cohort not yet followed for
                # two years, which must be ignored.
                row = {
                    "district": d,
                    "district_name": ["Northtown", "Southby"][d],
                    "group": g,
                    "eligible_month": 1 if d == 0 else months - 3,
                    "eligible": 100.0 if d == 0 else 50.0,
                    "referred": _referred(g, i, d) if coop else 0.0,
                    "outcome_24m": float(outcomes) if d == 0 else 49.0,
                    "followed_up": d == 0,
                }
                if common:
                    # District 1's cohorts are followed for no horizon; their outcomes so far count
                    # towards the run's common-cohort outcomes (cost per additional outcome).
                    mine = common_youth[arm][i] if g == "jsa_18_24" else 30.0
                    for h, share in CURVE.items():
                        row[f"outcome_{h}m"] = share * float(outcomes) if d == 0 else 49.0
                        row[f"followed_{h}m"] = d == 0
                        row[f"common_outcome_{h}m"] = share * float(mine) if d == 0 else 10.0
                        if cohort_sustained:  # six months in work: the official outcome here, halved
                            row[f"common_sustained_{h}m"] = row[f"common_outcome_{h}m"] / 2
                    row["common_eligible"] = 100.0 if d == 0 else 50.0
                    row["common_referred"] = (60.0 if coop else 0.0) if d == 0 else 0.0
                c.append(row)
        pd.DataFrame(c).to_parquet(out / "cohorts.parquet", index=False)
    manifest = {
        "labourlab_manifest": 1,
        "seed": seed,
        "config": {"regime": {"name": arm}, "months": months, "burn_in": 24, "place": {"name": "synthville"}},
    }
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


@pytest.fixture
def results(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    for arm in ("no_programme", "cooperative"):
        for s in SEEDS:
            write_run(root, arm, s)
    return root


def _diff(rep: compare.Report, measure: str, comparison: str = "cooperative - no_programme") -> pd.Series:
    d = rep.differences
    return d[(d["measure"] == measure) & (d["comparison"] == comparison)].iloc[0]


def test_t_quantile_matches_scipy_and_closed_forms():
    """The project's own t quantile (plain arithmetic, the same bits on every machine) agrees with
    scipy's to about 1e-13, and with the closed forms at 1 and 2 degrees of freedom."""
    from scipy import stats as scipy_stats

    for df in [*range(1, 300), 999, 10_000, 99_999]:
        assert stats.t_quantile(df) == pytest.approx(scipy_stats.t.ppf(0.95, df), rel=1e-12)
    assert stats.t_quantile(4) == pytest.approx(T4, abs=1e-6)
    assert stats.t_quantile(1) == pytest.approx(math.tan(0.45 * math.pi), rel=1e-14)  # Cauchy
    assert stats.t_quantile(2) == pytest.approx(0.9 / math.sqrt(2 * 0.95 * 0.05), rel=1e-14)
    qs = [stats.t_quantile(df) for df in range(1, 200)]
    assert all(a > b for a, b in itertools.pairwise(qs))  # falls towards the normal's
    assert qs[-1] > 1.6448536269514722
    assert stats.t_quantile(9, level=0.95) == pytest.approx(scipy_stats.t.ppf(0.975, 9), rel=1e-12)


def test_paired_differences_and_intervals_match_hand_calculation(results):
    rep = compare.analyse(results)
    assert rep.arms == ["no_programme", "cooperative"] and rep.seeds == SEEDS
    r = _diff(rep, "employed_mean")
    sd = math.sqrt(10.0)  # deviations 0, 2, -2, 4, -4 about 10
    half = T4 * sd / math.sqrt(5)
    assert r["n_seeds"] == 5
    assert r["mean"] == pytest.approx(10.0)
    assert r["sd"] == pytest.approx(sd)
    assert r["low"] == pytest.approx(10.0 - half, abs=1e-4)
    assert r["high"] == pytest.approx(10.0 + half, abs=1e-4)
    assert not r["interval_includes_zero"]
    # Last 12 months: the same constant effect.
    assert _diff(rep, "employed_last12")["mean"] == pytest.approx(10.0)
    # Sums over the run, money in £m.
    assert _diff(rep, "people_sustained_in_work")["mean"] == pytest.approx(20.0)
    assert _diff(rep, "employment_support_cost")["mean"] == pytest.approx(0.2)
    assert _diff(rep, "business_support_cost")["mean"] == pytest.approx(0.1)
    assert _diff(rep, "public_cost")["mean"] == pytest.approx(0.3)
    assert _diff(rep, "developer_contributions")["mean"] == pytest.approx(0.03)
    assert _diff(rep, "esp_apprenticeships")["mean"] == pytest.approx(5.0)
    assert _diff(rep, "esp_local_hires")["mean"] == pytest.approx(9.0)
    assert _diff(rep, "job_outcomes_esa_new")["mean"] == pytest.approx(40.0)
    # Same effect in every seed: a zero-width interval that signs the difference.
    pc = _diff(rep, "public_cost")
    assert pc["half_width"] == pytest.approx(0.0, abs=1e-9) and not pc["interval_includes_zero"]


def test_pairing_by_seed_cancels_a_common_shock(results):
    rep = compare.analyse(results)
    lv = rep.levels[(rep.levels["measure"] == "employed_mean") & (rep.levels["arm"] == "cooperative")].iloc[0]
    # Each arm alone varies by the seed's shock (1,000 people a seed)...
    assert lv["high"] - lv["low"] > 2000
    # ...which the seed-by-seed difference removes: its width comes from the effects alone.
    r = _diff(rep, "employed_mean")
    assert r["half_width"] == pytest.approx(T4 * math.sqrt(10.0) / math.sqrt(5), abs=1e-4)
    # An unpaired interval (differences of arm means, seeds shuffled) would be far wider.
    coop = 50_000.0 + 1000.0 * np.array(SEEDS) + EMPLOYED_EFFECT
    base = 50_000.0 + 1000.0 * np.array(SEEDS)
    shuffled = stats.summarise(coop - base[::-1])
    assert shuffled.half > 100 * r["half_width"]


def test_parking_share_is_undefined_without_participants(results):
    rep = compare.analyse(results)
    lv = rep.levels.set_index(["measure", "arm"])
    assert lv.loc[("parked_share", "cooperative"), "mean"] == pytest.approx(0.3)
    assert math.isnan(lv.loc[("parked_share", "no_programme"), "mean"])
    r = _diff(rep, "parked_share")
    assert r["n_seeds"] == 0 and r["undefined_in"] == "no_programme"


def test_cost_per_additional_sustained_job(results):
    rep = compare.analyse(results)
    row = rep.cost_per_job.iloc[0]
    dc = ESC_EFFECT + BSC_COOP
    per_seed = dc / SUSTAINED_EFFECT
    half = T4 * per_seed.std(ddof=1) / math.sqrt(5)
    assert row["comparison"] == "cooperative - no_programme" and row["basis"] == "everyone"
    assert row["d_people_sustained"] == pytest.approx(SUSTAINED_EFFECT.mean())
    assert row["per_seed_mean"] == pytest.approx(per_seed.mean())
    assert row["per_seed_low"] == pytest.approx(per_seed.mean() - half, rel=1e-6)
    assert row["per_seed_high"] == pytest.approx(per_seed.mean() + half, rel=1e-6)
    assert row["ratio_of_means"] == pytest.approx(dc.mean() / SUSTAINED_EFFECT.mean())  # £15,000
    assert row["ratio_low"] < row["ratio_of_means"] < row["ratio_high"]


def test_cost_per_job_is_na_when_sustained_jobs_do_not_rise(tmp_path):
    root = tmp_path / "results"
    fewer = np.array([-5.0, 3.0, -8.0, 1.0, -6.0])  # mean -3: no additional sustained jobs
    for s in SEEDS:
        write_run(root, "no_programme", s)
        write_run(root, "cooperative", s, sustained_effect=fewer)
    rep = compare.analyse(root)
    row = rep.cost_per_job.iloc[0]
    assert math.isnan(row["ratio_of_means"]) and row["ratio_note"].startswith("n/a")
    assert math.isnan(row["per_seed_mean"]) and "3 of 5 seeds" in row["per_seed_note"]
    cells = compare.tables(rep)[2].rows[0]
    assert cells[3].startswith("n/a") and cells[4].startswith("n/a")


def test_fieller_with_fixed_denominator_is_the_t_interval():
    x = np.array([10.0, 14.0, 6.0, 12.0, 8.0])
    y = np.full(5, 2.0)
    lo, hi = stats.fieller(x, y)  # type: ignore[misc]
    half = T4 * x.std(ddof=1) / math.sqrt(5)
    assert lo == pytest.approx((10.0 - half) / 2.0, rel=1e-6)
    assert hi == pytest.approx((10.0 + half) / 2.0, rel=1e-6)
    assert stats.fieller(x, np.array([1.0, -1.0, 2.0, -2.0, 0.5])) is None  # denominator not away from 0


def test_two_year_outcome_rate_by_group(results):
    rep = compare.analyse(results)
    c = rep.cohorts.set_index(["arm", "group"])
    for arm, outcomes in YOUTH_OUTCOMES.items():
        rates = np.array(outcomes) / 100.0  # the unfollowed cohort (49 of 50) is ignored
        half = T4 * rates.std(ddof=1) / math.sqrt(5)
        r = c.loc[(arm, "jsa_18_24")]
        assert r["rate"] == pytest.approx(rates.mean())
        assert r["low"] == pytest.approx(rates.mean() - half, abs=1e-6)
        assert r["eligible_per_seed"] == pytest.approx(100.0)
    assert c.loc[("cooperative", "esa_ex_ib"), "rate"] == pytest.approx(0.40)
    # Overall: (youth + the other groups x 40) / (100 x groups) per seed for the cooperative arm.
    others = len(GROUPS) - 1
    overall = (np.array(YOUTH_OUTCOMES["cooperative"]) + 40.0 * others) / (100.0 * len(GROUPS))
    assert c.loc[("cooperative", "all"), "rate"] == pytest.approx(overall.mean())
    assert c.loc[("cooperative", "all"), "eligible_per_seed"] == pytest.approx(100.0 * len(GROUPS))
    assert rep.no_referral_arms == ["no_programme"]
    # The published whole-programme rate is over referrals: targets.outcome_rates (what calibration
    # fits) of each run, averaged over seeds; n/a where no one is referred.
    runs = {(r.arm, r.seed): r for r in compare.load_runs(results)}
    whole = [targets.outcome_rates(runs[("cooperative", s)].cohorts)["all"] for s in SEEDS]
    assert c.loc[("cooperative", "programme"), "rate"] == pytest.approx(np.mean(whole))
    assert math.isnan(c.loc[("no_programme", "programme"), "rate"])


def test_compare_folder_prints_tables_and_writes_them(results, capsys):
    assert cli.main(["compare", str(results)]) == 0
    out = capsys.readouterr().out
    assert "cooperative - no_programme" in out
    assert "Two-year job-outcome rate by claimant group" in out
    assert "published Work Programme statistics by payment group" in out
    assert "no_programme has no referrals" in out
    assert "Cost per additional sustained job" in out
    assert "Cumulative job-outcome rate by months since entering the official cohort" in out
    assert "Referral mix by payment group beside DWP's published mix" in out
    assert "Two-year job-outcome rate of the common cohort" in out
    assert "Cost per programme job outcome (gross)" in out
    files = ("levels.csv", "differences.csv", "cost_per_job.csv", "cohort_outcomes.csv", "compare.md")
    files += ("cohort_curves.csv", "common_cohort.csv", "cost_per_outcome.csv", "referral_mix.csv")
    for name in files:
        path = results / "compare" / name
        assert path.is_file() and f"wrote {path}" in out
    diffs = pd.read_csv(results / "compare" / "differences.csv")
    assert {"mean", "low", "high", "interval_includes_zero", "seeds_for_target_half_width"} <= set(diffs.columns)
    md = (results / "compare" / "compare.md").read_text(encoding="utf-8")
    assert "| measure | no_programme - " not in md and "cooperative - no_programme" in md
    assert not [p for p in (results / "compare").iterdir() if p.name.startswith(".")]  # atomic: no temporaries


def test_precision_planner_for_unsigned_differences(results, capsys):
    rep = compare.analyse(results)
    r = _diff(rep, "small_firm_jobs")
    assert r["mean"] == pytest.approx(2.0) and r["interval_includes_zero"]
    sd = SMALL_FIRM_EFFECT.std(ddof=1)
    n = r["seeds_for_target_half_width"]
    # Smallest n with t(0.95, n-1) sd / sqrt(n) <= 0.5 |mean| = 1.
    assert stats.t_quantile(int(n) - 1) * sd / math.sqrt(n) <= 1.0
    assert stats.t_quantile(int(n) - 2) * sd / math.sqrt(n - 1) > 1.0
    # Close to the rule of thumb (t sd / (0.5 |mean|))^2 with the large-sample t.
    assert n == pytest.approx((1.645 * sd / 1.0) ** 2, rel=0.1)
    assert n == 61
    assert stats.seeds_needed(0.0, 1.0) == math.inf
    # Every difference gets a plan (a signed one needs few seeds); the printed line names the unsigned one.
    signed = _diff(rep, "employed_mean")
    assert not signed["interval_includes_zero"]
    assert 2 <= signed["seeds_for_target_half_width"] <= len(rep.seeds)
    # A chosen width: a tighter target needs more seeds.
    tight = _diff(compare.analyse(results, precision=0.25), "small_firm_jobs")["seeds_for_target_half_width"]
    assert tight > n
    assert cli.main(["compare", str(results)]) == 0
    out = capsys.readouterr().out
    assert "Too few seeds to sign" in out
    assert "small-business jobs (mean, last 12 months), cooperative - no_programme: about 61 seeds" in out


def test_missing_columns_are_skipped_with_a_note(tmp_path, capsys):
    root = tmp_path / "old"
    groups = [f"job_outcomes_{g}" for g in GROUPS]
    old = ("parked", "high_barrier_seeking", "business_support_cost", "people_sustained_in_work", *groups)
    for arm in ("no_programme", "cooperative"):
        for s in SEEDS:
            write_run(root, arm, s, drop=old, cohorts=False)
    assert cli.main(["compare", str(root)]) == 0
    out = capsys.readouterr().out
    assert "parked: high-barrier participants" in out and "skipped" in out
    assert "job outcomes by claimant group skipped" in out
    assert "cost per additional sustained job skipped" in out
    assert "no cohorts.parquet in 10 of 10 runs" in out
    assert "employed, mean over the run" in out  # what is there is still compared
    assert (root / "compare" / "differences.csv").is_file()
    assert not (root / "compare" / "cohort_outcomes.csv").exists()


def test_only_seeds_run_under_every_arm_are_paired(results, capsys):
    write_run(results, "cooperative", 6)
    rep = compare.analyse(results)
    assert rep.seeds == SEEDS
    assert any("cooperative seeds 6" in n for n in rep.notes)


@pytest.mark.parametrize("kind", ["empty", "stray_files", "manifest_without_table"])
def test_not_a_results_folder_exits_2_with_one_line(tmp_path, capsys, kind):
    folder = tmp_path / "notresults"
    folder.mkdir()
    if kind == "stray_files":
        (folder / "notes.txt").write_text("hello", encoding="utf-8")
        (folder / "sub").mkdir()
    if kind == "manifest_without_table":
        (folder / "cooperative-seed1").mkdir()
        (folder / "cooperative-seed1" / "manifest.json").write_text("{}", encoding="utf-8")
    assert cli.main(["compare", str(folder)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines == [f"labourlab: error: {folder}: {compare.NOT_RESULTS}"]
    assert compare.NOT_RESULTS.startswith(
        "not a results folder (expected <arm>-seed<S>/manifest.json and monthly.parquet, or an experiment's"
    )
    assert captured.out == ""


def test_folder_and_place_together_is_a_usage_error(results, capsys):
    assert cli.main(["compare", str(results), "--place", "testville"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert cli.main(["compare"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_missing_baseline_arm_exits_2(results, capsys):
    assert cli.main(["compare", str(results), "--baseline", "centralised"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no runs of the baseline arm 'centralised'" in err[0]


def test_compare_runs_the_arms_end_to_end(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", "--place", "testville", "--seeds", "3", "--months", "6", "--burn-in", "3"]
    assert cli.main([*argv, "--jobs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for arm in ("no_programme", "centralised", "cooperative"):
        for s in (1, 2, 3):
            assert (out / f"{arm}-seed{s}" / "manifest.json").is_file()
    assert "cooperative - centralised" in printed and "centralised - no_programme" in printed
    assert (out / "compare" / "differences.csv").is_file()
    assert f"wrote {out / 'compare' / 'compare.md'}" in printed


def test_each_level_is_the_registrys_measure_of_each_run(results):
    """compare's figures are simulation.measures' measures of each run, averaged over seeds."""
    from simulation import measures

    rep = compare.analyse(results)
    runs = {(r.arm, r.seed): r for r in compare.load_runs(results)}
    lv = rep.levels.set_index(["measure", "arm"])
    assert [m.name for m in rep.measures] == [k for k in compare.SHOWN if k in {m.name for m in rep.measures}]
    for m in rep.measures:
        for arm in rep.arms:
            per_seed = [measures.evaluate(m.name, runs[(arm, s)].monthly) for s in SEEDS]
            expected = np.mean(per_seed) if np.isfinite(per_seed).all() else math.nan
            assert lv.loc[(m.name, arm), "mean"] == pytest.approx(expected, nan_ok=True), (m.name, arm)
            assert lv.loc[(m.name, arm), "label"] == m.label


def test_tables_are_written_by_the_one_table_writer(results, tmp_path):
    from simulation.analysis import tables

    rep = compare.analyse(results)
    specs = compare.tables(rep)
    assert [t.name for t in specs] == [
        "levels",
        "differences",
        "cost_per_job",
        "referral_mix",
        "cohort_outcomes",
        "cohort_curves",
        "common_cohort",
        "cost_per_outcome",
    ]
    md = compare.markdown(rep)
    assert all(tables.markdown(t) in md for t in specs)
    assert "|   job outcomes: JSA 18-24 |" in md  # a breakdown indented under its total
    paths = compare.write_report(rep, tmp_path, formats=("md", "tex"))
    assert {p.name for p in paths} >= {"compare.md", "compare.tex", "levels.csv"}
    tex = (tmp_path / "compare.tex").read_text(encoding="utf-8")
    assert tex.count(r"\toprule") == tex.count(r"\bottomrule") == len(specs)
    assert r"\caption{synthville: paired differences" in tex and r"cooperative - no\_programme" in tex
    assert [p.name for p in compare.write_report(rep, tmp_path / "md")][-1] == "compare.md"
    assert not (tmp_path / "md" / "compare.tex").exists()
    with pytest.raises(ValueError, match="md or tex"):
        compare.write_report(rep, tmp_path, formats=("csv",))  # type: ignore[arg-type]


# ------------------------------------------------- cumulative rates, the common cohort, cost per outcome
def test_cumulative_outcome_rates_by_months_since_entry(results):
    """Within 6, 12, 18 and 24 months, each over the cohorts followed that long (district 0's)."""
    rep = compare.analyse(results)
    c = rep.curves.set_index(["cohort", "arm", "group", "horizon"])
    assert sorted(set(rep.curves["horizon"])) == [6, 12, 18, 24]
    for arm, outcomes in YOUTH_OUTCOMES.items():
        for h, share in CURVE.items():
            rates = share * np.array(outcomes) / 100.0
            r = c.loc[("official", arm, "jsa_18_24", h)]
            assert r["rate"] == pytest.approx(rates.mean())
            assert r["low"] == pytest.approx(rates.mean() - T4 * rates.std(ddof=1) / math.sqrt(5), abs=1e-6)
        common = np.array(COMMON_YOUTH[arm]) / 100.0
        assert c.loc[("common", arm, "jsa_18_24", 12), "rate"] == pytest.approx(0.5 * common.mean())
    # The 24-month point is the two-year table's rate.
    two_year = rep.cohorts.set_index(["arm", "group"])
    for arm in rep.arms:
        for g in (*GROUPS, "all"):
            assert c.loc[("official", arm, g, 24), "rate"] == pytest.approx(two_year.loc[(arm, g), "rate"])
    table = next(t for t in compare.tables(rep) if t.name == "cohort_curves")
    assert table.rows[0][0] == "JSA 18-24, 6 months" and table.rows[3][0] == "JSA 18-24, 24 months"


def test_common_cohort_rates_and_paired_differences(results):
    """The common cohort's two-year rate per arm and group, and each arm minus the baseline, seed by
    seed, with the t interval compare gives every paired difference."""
    rep = compare.analyse(results)
    c = rep.common.set_index(["arm", "group"])
    base, coop = (np.array(COMMON_YOUTH[a]) / 100.0 for a in ("no_programme", "cooperative"))
    r = c.loc[("cooperative", "jsa_18_24")]
    d = coop - base  # 0.04, 0.06, 0.04, 0.04, 0.02
    iv = stats.summarise(d)
    assert r["rate"] == pytest.approx(coop.mean()) and r["eligible_per_seed"] == pytest.approx(100.0)
    assert r["comparison"] == "cooperative - no_programme"
    assert r["diff_mean"] == pytest.approx(0.04) and r["diff_sd"] == pytest.approx(d.std(ddof=1))
    assert r["diff_low"] == pytest.approx(iv.low) and r["diff_high"] == pytest.approx(iv.high)
    assert not r["diff_includes_zero"]
    assert c.loc[("cooperative", "esa_new"), "diff_same_in_every_seed"]  # 30 of 100 in both arms
    assert c.loc[("no_programme", "jsa_18_24"), "comparison"] == ""
    table = next(t for t in compare.tables(rep) if t.name == "common_cohort")
    assert table.headers[-1] == "cooperative - no_programme (pp)"
    youth = next(row for row in table.rows if row[0] == "JSA 18-24")
    assert youth[-1].startswith("+4.0 [") and youth[1].endswith("of 100")
    assert next(row for row in table.rows if row[0] == "ESA new claimants")[-1] == "0 (same in every seed)"


def test_gross_cost_per_programme_job_outcome(results):
    """Employment-support cost / programme job outcomes per arm (what jobs cost beyond the
    baseline's is cost per additional sustained job, one figure)."""
    rep = compare.analyse(results)
    c = rep.cost_per_outcome.set_index("arm")
    # Gross: employment-support cost / programme job outcomes (200 a run in the cooperative arm).
    assert c.loc["cooperative", "gross_mean"] == pytest.approx((ESC_EFFECT / 200.0).mean())
    assert math.isnan(c.loc["no_programme", "gross_mean"])  # no programme outcomes
    assert list(c.columns) == ["n_seeds", "gross_mean", "gross_low", "gross_high"]
    table = next(t for t in compare.tables(rep) if t.name == "cost_per_outcome")
    assert table.rows[0][1:] == ["n/a"] and table.rows[1][1].startswith("£1,000 [")


def test_cost_per_additional_sustained_job_on_the_common_cohort(tmp_path):
    """With the common cohort's six months in work in the cohort tables, the additional people are
    the cohort's, over every entry month of the run (followed for two years or not)."""
    root = tmp_path / "results"
    for s in SEEDS:
        write_run(root, "no_programme", s, cohort_sustained=True)
        write_run(root, "cooperative", s, cohort_sustained=True)
    rep = compare.analyse(root)
    row = rep.cost_per_job.iloc[0]
    dj = (np.array(COMMON_YOUTH["cooperative"]) - np.array(COMMON_YOUTH["no_programme"])) / 2.0
    # (The other groups, 30 in both arms, and district 1, 10 in both, add nothing to the difference.)
    dc = ESC_EFFECT + BSC_COOP
    assert row["basis"] == "common cohort"
    assert row["d_people_sustained"] == pytest.approx(dj.mean())
    assert row["ratio_of_means"] == pytest.approx(dc.mean() / dj.mean())
    lo, hi = stats.fieller(dc, dj)  # type: ignore[misc]
    assert (row["ratio_low"], row["ratio_high"]) == pytest.approx((lo, hi))
    table = next(t for t in compare.tables(rep) if t.name == "cost_per_job")
    assert any("common cohort" in n for n in table.notes)


def test_older_cohort_tables_still_give_the_two_year_rates(tmp_path, capsys):
    """Cohort tables written before the common cohort and the horizons: the two-year rates as before,
    the new tables skipped with a note (cost per job outcome gross only)."""
    root = tmp_path / "old"
    for arm in ("no_programme", "cooperative"):
        for s in SEEDS:
            write_run(root, arm, s, common=False)
    rep = compare.analyse(root)
    assert rep.curves.empty and rep.common.empty
    assert list(rep.cost_per_outcome.columns) == compare.OUTCOME_COST_COLUMNS
    assert any("cohorts.parquet has no outcome_<h>m" in n for n in rep.common_notes)
    assert any("common cohort is skipped" in n for n in rep.common_notes)
    r = rep.cohorts.set_index(["arm", "group"]).loc[("cooperative", "jsa_18_24")]
    assert r["rate"] == pytest.approx(np.mean(YOUTH_OUTCOMES["cooperative"]) / 100.0)
    assert [t.name for t in compare.tables(rep)][-2:] == ["cohort_outcomes", "cost_per_outcome"]
    assert cli.main(["compare", str(root)]) == 0
    out = capsys.readouterr().out
    assert "common cohort is skipped" in out and not (root / "compare" / "common_cohort.csv").exists()


# ------------------------------------------------------------------------------ referral mix
def test_referral_mix_is_each_runs_mix_averaged_over_seeds(results):
    """Each arm's mean share of referrals by payment group is targets.referral_mix of each run (every
    entry cohort, followed up or not), averaged over seeds with the t interval; arms that refer no one
    have no rows."""
    rep = compare.analyse(results)
    mix = rep.referral_mix
    assert list(mix.columns) == compare.REFERRAL_MIX_COLUMNS
    assert set(mix["arm"]) == {"cooperative"} and rep.no_referral_arms == ["no_programme"]
    runs = {(r.arm, r.seed): r for r in compare.load_runs(results)}
    per_seed = [targets.referral_mix(runs[("cooperative", s)].cohorts) for s in SEEDS]
    for shares in per_seed:
        assert sum(shares.values()) == pytest.approx(1.0)
    m = mix.set_index("group")
    assert list(m.index) == GROUPS
    for g in GROUPS:
        iv = stats.summarise([p[g] for p in per_seed])
        assert m.loc[g, "share"] == pytest.approx(iv.mean) and m.loc[g, "n_seeds"] == len(SEEDS)
        assert m.loc[g, "low"] == pytest.approx(iv.low) and m.loc[g, "high"] == pytest.approx(iv.high)
    assert m["share"].sum() == pytest.approx(1.0)
    # By hand: JSA 18-24 has 40 followed-up referrals and 10 not yet followed up, of 560 + 5i.
    totals = sum(REFERRED.values()) + REFERRED_UNFOLLOWED * len(GROUPS) + 5.0 * np.arange(len(SEEDS))
    assert m.loc["jsa_18_24", "share"] == pytest.approx(np.mean(50.0 / totals))
    assert m.loc["jsa_25_plus", "high"] > m.loc["jsa_25_plus", "low"]  # the mix varies by seed


def test_referral_mix_sits_beside_the_published_figures(results):
    """The published columns are configs/targets.toml's referral_share_<group>; groups without one
    are blank in the CSV and say so in the table."""
    rep = compare.analyse(results)
    m = rep.referral_mix.set_index("group")
    published = targets.load_targets()
    for g in GROUPS:
        t = published.get(f"referral_share_{g}")
        if t is None:
            assert m.loc[g, ["published", "published_low", "published_high"]].isna().all()
            assert m.loc[g, "source"] == ""
        else:
            assert tuple(m.loc[g, ["published", "published_low", "published_high"]]) == (t.value, t.low, t.high)
            assert m.loc[g, "source"] == t.source
    table = next(t for t in compare.tables(rep) if t.name == "referral_mix")
    assert table.headers == ["payment group", "published [band]", "cooperative"]
    rows = {row[0]: row for row in table.rows}
    assert rows["JSA ex-IB"][1] == rows["ESA ex-IB"][1] == "no published figure"
    assert rows["JSA 25+"][1].startswith(f"{100 * published['referral_share_jsa_25_plus'].value:.1f}% [")
    assert any("91% JSA and 9% ESA" in n for n in table.notes)
    assert any("no_programme" in n and "no one was referred" in n for n in table.notes)


def test_referral_mix_is_skipped_without_referred_counts(results):
    """Cohort tables without referral counts (older results): no referral mix, and a note saying why."""
    for path in results.glob("*/cohorts.parquet"):
        pd.read_parquet(path).drop(columns="referred").to_parquet(path, index=False)
    rep = compare.analyse(results)
    assert rep.referral_mix.empty and list(rep.referral_mix.columns) == compare.REFERRAL_MIX_COLUMNS
    assert any("referral mix is skipped" in n for n in rep.notes)
    assert "referral_mix" not in [t.name for t in compare.tables(rep)]
