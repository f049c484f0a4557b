"""The lead-in: policy months run after the burn-in and before month 0, unmeasured, so that the
measured months start in the regime's own steady state rather than in its start-up (providers
referring the whole existing stock of eligible claimants in the regime's first month)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from simulation import cli
from simulation.cli_parser import parser
from simulation.config import ConfigError, make_scenario
from simulation.model import CUMULATIVE, MONTH, LabourMarketModel, Stage
from simulation.people import NOT_ELIGIBLE
from simulation.runner import run_scenario

REFERRALS = "programme_referrals"  # people referred to a programme in the month (providers' output)


def _run(scenario, regime: str, seed: int = 1, stages: tuple[Stage, ...] = MONTH, **kw) -> LabourMarketModel:
    model = LabourMarketModel(config=scenario(regime, **kw), seed=seed, agent_views=False, stages=stages)
    while model.running:
        model.step()
    return model


def _referrals(model: LabourMarketModel) -> pd.Series:
    return model.results_frame().groupby("month")[REFERRALS].sum()


@pytest.mark.parametrize("regime", ["centralised", "cooperative"])
def test_lead_in_removes_the_start_up_spike_of_referrals(scenario, regime):
    """Without a lead-in the first policy month refers the whole stock of claimants past their
    referral point (many times a later month's referrals); after a lead-in the first measured
    month refers about as many as any other."""
    cold = _referrals(_run(scenario, regime, months=6, burn_in=6, lead_in=0))
    later = cold.iloc[1:].mean()
    assert later > 0
    assert cold.iloc[0] > 10 * later, cold.tolist()

    warm = _referrals(_run(scenario, regime, months=6, burn_in=6, lead_in=12))
    usual = warm.iloc[1:].mean()
    assert usual > 0
    assert warm.iloc[0] < cold.iloc[0] / 3, (warm.tolist(), cold.tolist())  # the spike is gone
    # ... and the first month is like any other, within the Poisson noise of a few referrals a month
    assert warm.iloc[0] <= usual + 4 * math.sqrt(usual), warm.tolist()


def test_measured_results_start_afresh_at_month_0(scenario):
    """The lead-in's months are not in the results, the running totals or the cohorts; the
    ledger's month starts empty and its balances (the skills fund's money) carry over."""
    lead_end: dict[str, np.ndarray] = {}

    def record(w):  # type: ignore[no-untyped-def]
        """Keep the ledger's balances at the end of the lead-in."""
        if w.month == -1:
            lead_end["balances"] = w.ledger.balances.copy()
            lead_end["eligible"] = w.people.eligible_month.copy()

    stages = (*MONTH, Stage("record", record, None))
    model = LabourMarketModel(
        config=scenario("cooperative", months=6, burn_in=6, lead_in=12), seed=3, agent_views=False, stages=stages
    )
    assert model.month == 0 and model.rows == [] and model.policy
    assert all(v == 0 for v in model.cumulative.values())
    assert not model.ledger.month_flows.any()
    assert np.array_equal(model.ledger.balances, lead_end["balances"]) and model.ledger.is_balanced()
    assert not model.cohorts.eligible.any()
    # People first eligible in the lead-in (months -12 .. -1) belong to no cohort.
    became = lead_end["eligible"][lead_end["eligible"] != NOT_ELIGIBLE]
    assert became.size > 0 and became.min() >= -12 and became.max() <= -1
    while model.running:
        model.step()
    df = model.results_frame()
    assert sorted(df["month"].unique()) == list(range(1, 7))
    assert len(df) == 6 * model.n_districts
    for col in CUMULATIVE:
        assert model.cumulative[col] == pytest.approx(df[col].sum())
    cohorts = model.cohorts.frame(model.district_names)
    assert len(cohorts) > 0 and cohorts["eligible_month"].between(1, 6).all()


def test_lead_in_runs_every_stage_and_the_burn_in_only_those_of_every_month(scenario):
    """Burn-in months run the stages of every month; lead-in months (negative, policy on) run all."""
    ran: list[tuple[int, str]] = []

    def recorded(st: Stage) -> Stage:
        def run(w):  # type: ignore[no-untyped-def]
            ran.append((w.month, st.name))
            st.run(w)

        return dataclasses.replace(st, run=run)

    stages = tuple(recorded(st) for st in MONTH)
    model = _run(scenario, "cooperative", stages=stages, months=1, burn_in=2, lead_in=2)
    every = [st.name for st in MONTH if not st.policy_only]
    everything = [st.name for st in MONTH]
    assert sorted({m for m, _ in ran}) == [-4, -3, -2, -1, 0]
    for month, names in ((-4, every), (-3, every), (-2, everything), (-1, everything), (0, everything)):
        assert [name for m, name in ran if m == month] == names
    assert set(model.build_seconds) >= {"burn_in", "lead_in", "burn_in_cpu", "lead_in_cpu"}


def test_same_scenario_and_seed_same_run_with_a_lead_in(scenario):
    a = _run(scenario, "centralised", seed=5, months=6, burn_in=4, lead_in=8)
    b = _run(scenario, "centralised", seed=5, months=6, burn_in=4, lead_in=8)
    pd.testing.assert_frame_equal(a.results_frame(), b.results_frame())
    pd.testing.assert_frame_equal(a.cohorts.frame(a.district_names), b.cohorts.frame(b.district_names))
    c = _run(scenario, "centralised", seed=5, months=6, burn_in=4, lead_in=0)
    assert not a.results_frame().equals(c.results_frame())


def test_model_keyword_and_manifest_carry_the_lead_in(scenario, tmp_path):
    model = LabourMarketModel(place="testville", regime="centralised", months=2, burn_in=1, lead_in=3)
    assert model.config.lead_in == 3 and model.month == 0
    run_scenario(scenario("centralised", months=2, burn_in=1, lead_in=3), 1, tmp_path)
    man = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert man["config"]["lead_in"] == 3 and man["config"]["burn_in"] == 1


@pytest.mark.parametrize("lead_in", [-1, 601])
def test_out_of_range_lead_in_is_a_config_error(lead_in):
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", months=6, burn_in=2, lead_in=lead_in)
    assert "--lead-in" in str(e.value) and "\n" not in str(e.value)


def test_commands_default_to_a_24_month_lead_in_and_take_another(tmp_path, capsys):
    for command in (["run", "--place", "x", "--regime", "y", "--seed", "1"], ["demo"], ["compare"]):
        assert parser().parse_args(command).lead_in == 24
    assert make_scenario("testville", "centralised").lead_in == 0  # the library's default
    argv = ["run", "--place", "testville", "--regime", "centralised", "--seed", "2", "--months", "3"]
    assert cli.main([*argv, "--burn-in", "2", "--lead-in", "4", "--out", str(tmp_path)]) == 0
    assert "4 months lead-in" in capsys.readouterr().out
    man = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert man["config"]["lead_in"] == 4
    df = pd.read_parquet(tmp_path / "monthly.parquet")
    assert sorted(df["month"].unique()) == [1, 2, 3]
