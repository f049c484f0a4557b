"""`labourlab calibrate`: the spec's validation, the search, the fit report and the fitted parameter file.

Everything runs on testville with short horizons and 3 trials. Most tests share one calibration run
in this process (a serial executor: the same worker function, called in turn); one runs the
command as a user would, on the local process pool, and one on a dask LocalCluster, and both must
give the same trials as the serial run (a trial's runs are pure functions of parameters and seed).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import math
import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.analysis import calibrate as cal
from simulation.analysis import calibrate_cli, calibrate_report, calibrate_spec, calibrate_write
from simulation.analysis.targets import Target, outcome_rates
from simulation.config import CONFIGS, ConfigError, load_calibration, load_regime, make_scenario
from simulation.model import LabourMarketModel

SPEC = """\
name = "t"
description = "test calibration"
place = "testville"
months = 36
burn_in = 6
seeds = 2
check_seeds = 2
trials = 3
sampler_seed = 7
targets = ["u_to_e_hazard", "unemployment_rate", "ltu_share", "survival_1yr", "wp_two_year_outcome_rate"]

[parameters.matching_efficiency]

[parameters.early_separation_rate]
low = 0.04
high = 0.08
"""
FITTED = ("matching_efficiency", "early_separation_rate")


class Serial:
    """An executor running each task in this process, in order (same interface as the real ones)."""

    kind = "serial"

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any, None]]:
        for t in tasks:
            yield t, fn(t), None

    def label(self) -> str:
        return "serial"

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The spec, fitting from a base calibration whose matching efficiency is the shipped file's
    moved to the low end of its range: the shipped values are themselves fitted, and three trials
    rarely beat them, while the tests need a fit that moves off the base."""
    folder = tmp_path_factory.mktemp("spec")
    shipped = (CONFIGS / "calibration.toml").read_text(encoding="utf-8")
    start = shipped.index("[params.matching_efficiency]")
    block = shipped[start : shipped.index("\n[params.", start + 1)]
    moved = re.sub(r"(?m)^value = .*$", "value = 0.11", block, count=1)
    (folder / "base.toml").write_text(shipped.replace(block, moved), encoding="utf-8")
    path = folder / "t.toml"
    path.write_text(SPEC.replace("targets = [", 'calibration = "base.toml"\ntargets = [', 1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fitted(spec_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[cal.Fit, dict[str, Path]]:
    out = tmp_path_factory.mktemp("out")
    spec = calibrate_spec.load_spec(spec_path)
    return calibrate_cli.calibrate(spec, out, Serial(), str(spec_path))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labourlab")
    sub = p.add_subparsers(dest="command", required=True)
    calibrate_cli.add_parser(sub)
    return p


def trial_table(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    return df[["number", "value", *(f"params_{p}" for p in FITTED), "state"]]


# ------------------------------------------------------------------------------- outputs
def test_outputs_written(fitted):
    fit, files = fitted
    for name in ("report", "fit", "trials", "calibrated"):
        assert files[name].is_file(), name
    assert not list(files["report"].parent.glob(".*.tmp")), "temporary files left behind"
    table = pd.read_csv(files["fit"])
    assert list(table["target"]) == list(fit.spec.targets)
    assert {"handset_mean", "handset_low", "handset_high", "fitted_mean", "fitted_inside", "fitted_miss"} <= set(table)
    assert (table["handset_low"] <= table["handset_mean"]).all() and (
        table["handset_mean"] <= table["handset_high"]
    ).all()
    trials = pd.read_csv(files["trials"])
    assert len(trials) == 3 and list(trials["number"]) == [0, 1, 2]
    report = files["report"].read_text(encoding="utf-8")
    for key in fit.spec.targets:
        assert f"| {key} |" in report
    for name in FITTED:
        assert f"| {name} |" in report
    assert "check seeds (fresh)" in report


def test_trial_zero_is_handset_and_best_loss_not_worse(fitted):
    fit, files = fitted
    trials = trial_table(files["trials"])
    base = fit.spec.base  # the spec's base calibration: the shipped file with matching efficiency moved
    assert trials.loc[0, "params_matching_efficiency"] == base.matching_efficiency == 0.11
    assert trials.loc[0, "params_early_separation_rate"] == base.early_separation_rate
    res = fit.result
    assert res.handset_loss == pytest.approx(trials.loc[0, "value"])
    assert res.best_loss <= res.handset_loss
    assert res.best_loss == pytest.approx(trials["value"].min())
    best = trials.loc[trials["value"].idxmin()]
    assert res.best_params == {p: best[f"params_{p}"] for p in FITTED}


def test_loss_recomputed_from_trial_means(fitted):
    """A trial's loss is the sum of squared standardised misses of its replicate means."""
    fit, files = fitted
    df = pd.read_csv(files["trials"])
    for _, row in df.iterrows():
        expected = sum(((row[f"user_attrs_model.{k}"] - t.value) / t.scale) ** 2 for k, t in fit.spec.targets.items())
        assert row["value"] == pytest.approx(expected)


def test_calibrated_file_loads_with_provenance(fitted, spec_path):
    fit, files = fitted
    params = load_calibration(files["calibrated"])
    base = load_calibration()
    prov = params.provenance
    assert prov is not None
    assert prov["spec_sha256"] == hashlib.sha256(spec_path.read_bytes()).hexdigest()
    assert prov["trials"] == 3 and prov["seeds"] == [1, 2] and prov["check_seeds"] == [3, 4]
    assert set(prov["targets"]) == set(fit.spec.targets)
    assert prov["loss_check_seeds_fitted"] == pytest.approx(fit.check_loss_fitted)
    assert prov["resolved_spec"]["parameters"]["early_separation_rate"]["low"] == 0.04
    assert prov["git_commit"] and prov["versions"]["optuna"]
    for name, rec in params.records.items():
        b = base.records[name]
        assert (rec.low, rec.high, rec.source, rec.unit, rec.assumption) == (
            b.low,
            b.high,
            b.source,
            b.unit,
            b.assumption,
        )
        if name in FITTED:
            assert rec.value == fit.result.best_params[name]
            assert "Fitted by labourlab calibrate" in rec.note
        else:
            assert rec.value == b.value and rec.note == b.note


def test_run_with_calibrated_file_equals_handset_with_fitted_overrides(fitted):
    """A run on the fitted file is the hand-set run with exactly the fitted parameters changed."""
    fit, files = fitted
    best = fit.result.best_params

    def frame(**kw: Any) -> pd.DataFrame:
        sc = make_scenario("testville", "no_programme", months=8, burn_in=2, **kw)
        m = LabourMarketModel(config=sc, seed=5)
        while m.running:
            m.step()
        return m.results_frame()

    sc = make_scenario("testville", "no_programme", months=8, burn_in=2, calibration=files["calibrated"])
    assert {k: sc.params.values[k] for k in FITTED} == best
    assert sc.resolved()["calibration_provenance"]["spec_sha256"]
    with_file = frame(calibration=files["calibrated"])
    pd.testing.assert_frame_equal(with_file, frame(overrides=best))
    assert fit.result.best_trial != 0, (
        "the test spec's sampler seed was chosen so that a trial beats the hand-set values"
    )
    assert not with_file.equals(frame())


# ------------------------------------------------------------------------------- the command
def test_cli_local_executor_same_trials_as_serial(fitted, spec_path, tmp_path, capsys):
    """The command on the local process pool: same trials and fitted values as the in-process run."""
    _, files = fitted
    out = tmp_path / "cli"
    code = calibrate_cli.run(parser().parse_args(["calibrate", str(spec_path), "--out", str(out), "--workers", "2"]))
    assert code == 0
    printed = capsys.readouterr().out
    assert "loss on trial seeds" in printed and str(out / "calibrated.toml") in printed
    pd.testing.assert_frame_equal(trial_table(out / "trials.csv"), trial_table(files["trials"]))
    a = load_calibration(out / "calibrated.toml").values
    b = load_calibration(files["calibrated"]).values
    assert {k: a[k] for k in FITTED} == {k: b[k] for k in FITTED}


def test_one_trial_fits_the_handset_values(spec_path, tmp_path):
    """With no trial but the hand-set one, the fitted file repeats the hand-set values and says so."""
    spec = calibrate_spec.load_spec(spec_path, trials=1)
    fit, files = calibrate_cli.calibrate(spec, tmp_path, Serial(), str(spec_path))
    assert fit.result.best_params == spec.handset()
    assert fit.check_loss_fitted == fit.check_loss_handset
    assert "No trial beat the hand-set values" in files["report"].read_text(encoding="utf-8")
    values = load_calibration(files["calibrated"]).values
    assert {k: values[k] for k in FITTED} == spec.handset()


class FailTrialOne(Serial):
    """Trial 1's second run raises, as a run of a parameter set the model cannot handle would."""

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any, Any]]:
        for i, t in enumerate(tasks):
            if t.label == "trial 1" and i == 1:
                yield t, None, RuntimeError("model failed")
            else:
                yield t, fn(t), None


def test_failed_trial_is_recorded_and_the_search_goes_on(spec_path):
    spec = calibrate_spec.load_spec(spec_path)
    res = cal.search(spec, FailTrialOne())
    states = [t.state.name for t in res.study.trials]
    assert states == ["COMPLETE", "FAIL", "COMPLETE"]
    assert (
        "trial 1, testville, baseline arm, seed 2: RuntimeError: model failed"
        in res.study.trials[1].user_attrs["error"]
    )
    assert math.isnan(res.trial_losses[1])
    assert res.best_trial in (0, 2) and res.best_loss == min(res.trial_losses[0], res.trial_losses[2])


def test_same_spec_same_trials(spec_path):
    """Determinism: the same spec gives the same trials, losses and best parameters."""
    spec = calibrate_spec.load_spec(spec_path, trials=2)
    first = cal.search(spec, Serial())
    second = cal.search(calibrate_spec.load_spec(spec_path, trials=2), Serial())
    assert first.trial_losses == second.trial_losses
    assert [t.params for t in first.study.trials] == [t.params for t in second.study.trials]
    assert first.best_params == second.best_params


def test_dask_executor_gives_the_serial_trials(fitted, spec_path, tmp_path):
    """The replicate runs of a trial on a dask LocalCluster: the same losses as in this process."""
    _, files = fitted
    out = tmp_path / "dask"
    args = ["calibrate", str(spec_path), "--out", str(out), "--executor", "dask", "--workers", "2", "--trials", "2"]
    assert calibrate_cli.run(parser().parse_args(args)) == 0
    pd.testing.assert_frame_equal(trial_table(out / "trials.csv"), trial_table(files["trials"]).iloc[:2])


# ------------------------------------------------------------------------------- bad specs
BAD = [
    (
        ("[parameters.matching_efficiency]", "[parameters.matching_efficency]"),
        "parameters.matching_efficency",
        "did you mean 'matching_efficiency'",
    ),
    (
        ("low = 0.04\nhigh = 0.08", "low = 0.08\nhigh = 0.04"),
        "parameters.early_separation_rate",
        "low 0.08 > high 0.04",
    ),
    (
        ("low = 0.04\nhigh = 0.08", "low = 0.04\nhigh = 0.2"),
        "parameters.early_separation_rate",
        "outside the calibration file's range [0.04, 0.085]",
    ),
    (
        ("low = 0.04\nhigh = 0.08", "low = 0.07\nhigh = 0.08"),
        "parameters.early_separation_rate",
        f"must contain the hand-set value {load_calibration().early_separation_rate}",
    ),
    (('"ltu_share",', '"ltu_shar",'), "targets[2]", "did you mean 'ltu_share'"),
    (('"ltu_share",', '"outcome_rate_esa_new",'), "targets[2]", "held back for validation"),
    (("trials = 3", "trials = 0"), "trials", "greater than or equal to 1"),
    (("burn_in = 6", "burn_in = 6\nlead_in = -1"), "lead_in", "greater than or equal to 0"),
    (("check_seeds = 2", "check_seeds = [2, 9]"), "check_seeds", "not used by the trials"),
    (("months = 36", "months = 20"), "months", "at least 36 months"),
    (('place = "testville"', 'place = "testvile"'), "place", "did you mean 'testville'"),
    (("sampler_seed = 7", "sampler_seed = 7\nsampler = 3"), "sampler", "unknown key (did you mean 'sampler_seed'?)"),
]


@pytest.mark.parametrize(("edit", "field", "expected"), BAD, ids=[b[1] + ":" + b[2][:20] for b in BAD])
def test_bad_spec_one_line_error(tmp_path, edit, field, expected):
    old, new = edit
    assert old in SPEC
    path = tmp_path / "bad.toml"
    path.write_text(SPEC.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        calibrate_spec.load_spec(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: {field}: "), msg
    assert expected in msg, msg


def test_bad_spec_raised_from_run(tmp_path):
    """run() lets the ConfigError through for cli.main to print as one line (exit 2), before any run."""
    path = tmp_path / "bad.toml"
    path.write_text(SPEC.replace("trials = 3", "trials = 0"), encoding="utf-8")
    with pytest.raises(ConfigError, match="trials"):
        calibrate_cli.run(parser().parse_args(["calibrate", str(path), "--out", str(tmp_path / "o")]))
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------- pieces
def test_target_loss():
    t = Target(value=0.08, low=0.07, high=0.09, source="s")
    assert cal.target_loss(t, [0.09, 0.11]) == pytest.approx(4.0)  # mean 0.10 is two half-bands away
    assert cal.target_loss(t, [0.08, math.nan]) == 0.0  # a replicate without the quantity is left out
    assert cal.target_loss(t, [math.nan, math.nan]) == cal.NAN_PENALTY


def test_programme_outcome_rate_counts_only_the_referred_share():
    """The Work Programme rate the fit compares (model_values via targets.outcome_rates): with half of
    ESA claimants referred, each group's cohort rate weighted by its referrals, not all its outcomes
    over its referrals."""
    cohorts = pd.DataFrame(
        {
            "group": ["jsa_25_plus", "esa_new"],
            "eligible": [100.0, 200.0],
            "referred": [100.0, 100.0],
            "outcome_24m": [40.0, 20.0],
            "followed_up": [True, True],
        }
    )
    # JSA 40/100 over 100 referrals, ESA 20/200 = 0.1 over 100 referrals -> (40 + 10) / 200
    assert outcome_rates(cohorts)["all"] == pytest.approx(0.25)
    assert math.isnan(outcome_rates(cohorts.assign(followed_up=False))["all"])


def test_edge_flag_in_report(fitted):
    fit, files = fitted
    spec = fit.spec
    edge = cal.SearchResult(
        study=fit.result.study,
        best_params={"matching_efficiency": 0.50, "early_separation_rate": 0.0651},
        best_trial=1,
        trial_losses=[2.0, 1.0],
        handset_loss=2.0,
        best_loss=1.0,
        wall_seconds=0.0,
    )
    f = cal.Fit(spec, edge, fit.targets, 3.0, 2.0, fit.created)
    rows = {r["parameter"]: r["at_edge"] for r in f.params_rows()}
    assert rows == {"matching_efficiency": "high", "early_separation_rate": ""}
    report = calibrate_report.fit_report(f, files)
    assert "at the high end of its range: the fit wants to go further than the evidence allows" in report
    # A hand-set value at the end of its range that the fit left alone is not flagged.
    at_end = copy.copy(spec)
    at_end.parameters = [calibrate_spec.FitParam("early_separation_rate", 0.06, 0.08, 0.06, 0.04, 0.085)]
    unmoved = cal.SearchResult(fit.result.study, {"early_separation_rate": 0.06}, 0, [2.0], 2.0, 2.0, 0.0)
    assert cal.Fit(at_end, unmoved, fit.targets, 3.0, 3.0, fit.created).params_rows()[0]["at_edge"] == ""


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    number=st.floats(allow_nan=False, allow_infinity=False),
)
def test_toml_writer_round_trips(text, number):
    lines: list[str] = []
    calibrate_write._table(
        lines, "provenance", {"s": text, "x": number, "l": [text, number], "sub": {text or "k": number}}
    )
    data = tomllib.loads("\n".join(lines))["provenance"]
    assert data["s"] == text and data["x"] == number and data["l"] == [text, number]
    assert data["sub"] == {text or "k": number}


# ------------------------------------------------------------------ several places and programme levers
ESA_NEW_SHARE = load_regime("centralised").levers.groups.esa_new.referral_share  # a fitted lever: read, not written

JOINT = """\
name = "j"
months = 36
burn_in = 6
seeds = [1]
check_seeds = 2
trials = 2
sampler_seed = 3
targets = ["u_to_e_hazard", "unemployment_rate", "referral_share_esa_new", "referral_share_jsa_25_plus"]

[[places]]
place = "testville"

[[places]]
place = "testville"
people_per_agent = 4

[parameters.matching_efficiency]

[levers."groups.esa_new.referral_share"]
low = 0.0
high = 0.6

[weights]
referral_share_esa_new = 3.0
"""


def _joint_spec(tmp_path: Path, text: str) -> Path:
    """Two places: testville, and a copy of it under another name (so both are runs of one model)."""
    place = (CONFIGS / "places" / "testville.toml").read_text(encoding="utf-8")
    (tmp_path / "otherville.toml").write_text(
        re.sub(r'(?m)^name = "testville"', 'name = "otherville"', place, count=1), encoding="utf-8"
    )
    path = tmp_path / "j.toml"
    path.write_text(
        text.replace('place = "testville"\npeople_per_agent', 'place = "otherville.toml"\npeople_per_agent')
    )
    return path


@pytest.fixture(scope="module")
def joint(tmp_path_factory: pytest.TempPathFactory) -> tuple[cal.Fit, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("joint")
    path = _joint_spec(folder, JOINT)
    spec = calibrate_spec.load_spec(path)
    return calibrate_cli.calibrate(spec, folder / "out", Serial(), str(path))


def test_joint_fit_sums_every_place_and_fits_the_lever_on_the_programme_arm(joint):
    fit, files = joint
    spec = fit.spec
    assert [s.name for s in spec.sites] == ["testville", "otherville"]
    assert spec.sites[1].people_per_agent == 4
    assert len(spec.targets) == 8 and spec.target_of["otherville: referral_share_esa_new"] == (
        "otherville",
        "referral_share_esa_new",
    )
    lever = "levers.groups.esa_new.referral_share"
    assert spec.handset()[lever] == ESA_NEW_SHARE  # the centralised regime's value is trial 0's
    trials = pd.read_csv(files["trials"])
    assert spec.weight("otherville: referral_share_esa_new") == 3.0 and spec.weight("testville: u_to_e_hazard") == 1.0
    for _, row in trials.iterrows():  # the loss sums both places' targets, each times its weight
        expected = sum(
            spec.weight(k) * ((row[f"user_attrs_model.{k}"] - t.value) / t.scale) ** 2 for k, t in spec.targets.items()
        )
        assert row["value"] == pytest.approx(expected)
    # The lever reaches the programme arm: a run with trial 1's values gives trial 1's referral share.
    row = trials.iloc[1]
    sc = make_scenario(
        "testville",
        "centralised",
        months=36,
        burn_in=6,
        lead_in=24,
        overrides={"matching_efficiency": row["params_matching_efficiency"]},
        lever_overrides={"groups.esa_new.referral_share": row[f"params_{lever}"]},
    )
    from simulation.analysis.targets import model_values
    from simulation.runner import simulate

    sim = simulate(sc, 1)
    got = model_values(sim.monthly, sim.cohorts)["referral_share_esa_new"]
    assert got == pytest.approx(row["user_attrs_model.testville: referral_share_esa_new"])
    # Levers go to the provenance and the report, not into the calibration records.
    data = tomllib.loads(files["calibrated"].read_text(encoding="utf-8"))
    assert lever not in data["params"] and "groups.esa_new.referral_share" not in data["params"]
    fitted = data["provenance"]["fitted_levers"]["groups.esa_new.referral_share"]
    assert fitted["regime"] == "centralised" and fitted["fitted"] == fit.result.best_params[lever]
    report = files["report"].read_text(encoding="utf-8")
    assert "| otherville: unemployment_rate |" in report and "copy the fitted value into the regime file" in report


def test_more_esa_referred_raises_its_share_of_referrals(joint):
    """Referral shares respond to the lever in the direction it implies (a check of the wiring)."""
    _fit, files = joint
    lever = "levers.groups.esa_new.referral_share"
    trials = pd.read_csv(files["trials"]).sort_values(f"params_{lever}")
    shares = trials["user_attrs_model.testville: referral_share_esa_new"].to_numpy()
    assert shares[0] < shares[-1]


JOINT_BAD = [
    (("trials = 2", 'trials = 2\nplace = "testville"'), "place", "either place"),
    (
        ('[levers."groups.esa_new.referral_share"]', '[levers."groups.esa_nu.referral_share"]'),
        "levers.groups.esa_nu.referral_share",
        "expected a lever of the programme regime",
    ),
    (("high = 0.6", "high = 1.6"), "levers.groups.esa_new.referral_share", "the regime refuses 1.6"),
    (
        ("low = 0.0\n", f"low = {ESA_NEW_SHARE + 0.01:.4f}\n"),  # a range above the regime's value
        "levers.groups.esa_new.referral_share",
        f"must contain the regime's value {ESA_NEW_SHARE}",
    ),
    (("= 3.0", "= -1.0"), "weights.referral_share_esa_new", "expected a positive number"),
    (("referral_share_esa_new = 3.0", "ltu_share = 3.0"), "weights.ltu_share", "expected one of the fitted targets"),
    (
        ('"referral_share_esa_new", "referral_share_jsa_25_plus"', '"ltu_share"'),
        "levers",
        "expected a programme target",
    ),
]


@pytest.mark.parametrize(("edit", "field", "expected"), JOINT_BAD, ids=[b[1] + ":" + b[2][:12] for b in JOINT_BAD])
def test_bad_joint_spec_one_line_error(tmp_path, edit, field, expected):
    old, new = edit
    assert old in JOINT
    path = _joint_spec(tmp_path, JOINT.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        calibrate_spec.load_spec(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{path}: {field}: "), msg
    assert expected in msg, msg


def test_referral_mix_is_each_groups_share_of_referrals():
    from simulation.analysis.targets import referral_mix

    cohorts = pd.DataFrame(
        {
            "group": ["jsa_25_plus", "esa_new", "jsa_25_plus", "jsa_18_24"],
            "referred": [30.0, 10.0, 30.0, 30.0],
            "followed_up": [True, False, True, True],  # every entry cohort counts, followed up or not
        }
    )
    mix = referral_mix(cohorts)
    assert mix["jsa_25_plus"] == pytest.approx(0.6) and mix["esa_new"] == pytest.approx(0.1)
    assert mix["esa_volunteer"] == 0.0
    assert sum(mix.values()) == pytest.approx(1.0)
    assert all(math.isnan(v) for v in referral_mix(None).values())


def test_referral_targets_only_on_the_programme_arm(tmp_path):
    from simulation.analysis.targets import load_targets

    text = (CONFIGS / "targets.toml").read_text(encoding="utf-8")
    start = text.index("[targets.referral_share_esa_new]")
    bad = text[:start] + text[start:].replace('arm = "programme"', 'arm = "baseline"', 1)
    path = tmp_path / "targets.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"targets\.referral_share_esa_new\.arm: expected 'programme'"):
        load_targets(path)
