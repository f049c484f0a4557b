"""A run is a pure function of (scenario, seed): same seed, same results, whatever else differs."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from simulation import cli
from simulation.agents import Council, EnterpriseHub, Jobseeker, PropertyDeveloper, Provider, SmallBusiness
from simulation.people import BENEFIT_NAMES, STATUS_NAMES
from simulation.runner import run_scenario


@pytest.mark.parametrize("regime", ["centralised", "cooperative"])
def test_same_seed_same_results(run_model, regime):
    ma, mb = run_model(regime, 42, months=18, burn_in=6), run_model(regime, 42, months=18, burn_in=6)
    a, b = ma.results_frame(), mb.results_frame()
    assert len(a) == 18 * 3
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ma.cohorts.frame(ma.district_names), mb.cohorts.frame(mb.district_names))


def test_run_scenario_writes_identical_outputs(scenario, tmp_path):
    sc = scenario("cooperative", months=12, burn_in=6)
    r1 = run_scenario(sc, 9, tmp_path / "one")
    r2 = run_scenario(sc, 9, tmp_path / "two")
    f1 = pd.read_parquet(tmp_path / "one" / "monthly.parquet")
    f2 = pd.read_parquet(tmp_path / "two" / "monthly.parquet")
    pd.testing.assert_frame_equal(f1, f2)
    pd.testing.assert_frame_equal(f1, r1.frame)
    pd.testing.assert_frame_equal(r1.frame, r2.frame)
    assert r1.summary == r2.summary
    digest = [hashlib.sha256((tmp_path / d / "monthly.parquet").read_bytes()).hexdigest() for d in ("one", "two")]
    assert digest[0] == digest[1]


def test_different_seeds_give_different_results(run_model):
    a = run_model("centralised", 1, months=12, burn_in=6).results_frame()
    b = run_model("centralised", 2, months=12, burn_in=6).results_frame()
    assert a.shape == b.shape
    assert not a.equals(b)
    # They differ in the people, not just the money.
    assert not a["employed"].equals(b["employed"]) or not a["u_to_e"].equals(b["u_to_e"])


def _columns(people) -> list[str]:
    """Every column of the people: the core fields and those mechanisms declare (`People.more`)."""
    return [f.name for f in dataclasses.fields(people)] + list(people.more)


def test_starting_population_differs_by_seed_but_not_by_regime(build_model):
    a = build_model("centralised", 5)
    b = build_model("cooperative", 5)
    c = build_model("centralised", 6)
    # Burn-in runs without policy, so arms on one seed start from identical states.
    for name in _columns(a.people):
        np.testing.assert_array_equal(getattr(a.people, name), getattr(b.people, name), err_msg=name)
    assert not np.array_equal(a.people.skill, c.people.skill)


@pytest.mark.parametrize("regime", ["centralised", "cooperative"])
def test_agent_views_do_not_change_results(run_model, regime):
    off = run_model(regime, 13, months=12, burn_in=6, agent_views=False)
    on = run_model(regime, 13, months=12, burn_in=6, agent_views=True)
    pd.testing.assert_frame_equal(off.results_frame(), on.results_frame())
    for name in _columns(off.people):
        np.testing.assert_array_equal(getattr(off.people, name), getattr(on.people, name), err_msg=name)

    # Views: one Jobseeker per person row, one SmallBusiness per firm slot, one institution of each kind per district.
    assert len(on.agents_by_type[Jobseeker]) == on.people.n
    assert len(on.agents_by_type[SmallBusiness]) == on.firms.capacity
    for kind in (Council, Provider, EnterpriseHub, PropertyDeveloper):
        assert len(on.agents_by_type[kind]) == on.n_districts
    assert Jobseeker not in off.agents_by_type

    # A Jobseeker reads its row of the arrays (and sees changes to them).
    seekers = on.agents_by_type[Jobseeker].to_list()
    rows = np.array([s.row for s in seekers])
    assert sorted(rows.tolist()) == list(range(on.people.n))
    for s in seekers[:: max(1, len(seekers) // 200)]:
        r = s.row
        assert s.status == STATUS_NAMES[on.people.status[r]]
        assert s.benefit == BENEFIT_NAMES[on.people.benefit[r]]
        assert s.employer == on.people.employer[r]
        assert s.district == on.district_names[on.people.district[r]]
        assert s.skill == pytest.approx(float(on.people.skill[r]))
    s = seekers[0]
    for code, name in enumerate(STATUS_NAMES):
        on.people.status[s.row] = code
        assert s.status == name
    business = on.agents_by_type[SmallBusiness].to_list()
    for b in business[:50]:
        assert b.alive == bool(on.firms.alive[b.row])
        assert b.size == int(on.firms.size[b.row])


def test_manifest_records_config_seed_versions_and_costs(scenario, params, tmp_path):
    sc = scenario("cooperative", months=12, burn_in=6, overrides={"sep_rate_eu": 0.005})
    run_scenario(sc, 17, tmp_path)
    man = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert man["seed"] == 17
    cfg = man["config"]
    assert cfg["place"]["name"] == "testville"
    assert [d["name"] for d in cfg["place"]["districts"]] == ["Northtown", "Northvale", "Southby"]
    assert cfg["regime"]["name"] == "cooperative"
    assert cfg["regime"]["levers"] == sc.regime.levers.model_dump()
    assert cfg["regime"]["levers"]["groups"]["jsa_25_plus"]["referral_month"] == 3
    assert set(cfg["regime"]["levers"]["groups"]) == {
        "jsa_18_24",
        "jsa_25_plus",
        "jsa_ex_ib",
        "esa_new",
        "esa_ex_ib",
        "jsa_early_access",
        "esa_volunteer",
    }
    expected = params.as_dict() | {"sep_rate_eu": 0.005}
    assert cfg["params"] == pytest.approx(expected)
    assert set(cfg["params"]) == set(params.as_dict())
    assert cfg["months"] == 12 and cfg["burn_in"] == 6
    for pkg in ("python", "mesa", "numpy", "pandas", "pyarrow", "pydantic"):
        assert isinstance(man["versions"][pkg], str) and man["versions"][pkg]
    assert man["versions"]["mesa"].startswith("3.")
    commit = man["git_commit"]
    assert commit == "unknown" or len(commit.removesuffix("-dirty")) == 40
    assert isinstance(man["wall_seconds"], float | int) and man["wall_seconds"] >= 0
    assert isinstance(man["peak_memory_mb"], float | int) and man["peak_memory_mb"] > 0
    # The manifest alone rebuilds the run: same frame from its recorded config and seed.
    rebuilt = scenario(
        cfg["regime"]["name"],
        months=cfg["months"],
        burn_in=cfg["burn_in"],
        overrides={k: v for k, v in cfg["params"].items() if v != params.as_dict()[k]},
    )
    again = run_scenario(rebuilt, man["seed"])
    pd.testing.assert_frame_equal(again.frame, pd.read_parquet(tmp_path / "monthly.parquet"))


def test_results_identical_across_executors(tmp_path, capsys, run_cli):
    """The demo's runs are the same whether run in this process or in a pool of worker processes.

    The pooled demo runs as a fresh `labourlab` process (as a user runs it), so the fork happens
    in a process without the test session's threads.
    """
    common = ["--place", "testville", "--regimes", "centralised,cooperative", "--seeds", "2"]
    common += ["--months", "6", "--burn-in", "3"]
    assert cli.main(["demo", *common, "--jobs", "1", "--out", str(tmp_path / "serial")]) == 0
    capsys.readouterr()
    pooled = run_cli("demo", *common, "--jobs", "2", "--out", str(tmp_path / "pool"))
    assert pooled.returncode == 0, pooled.stderr
    runs = sorted(p.name for p in (tmp_path / "serial").iterdir() if p.is_dir())
    assert runs == ["centralised-seed1", "centralised-seed2", "cooperative-seed1", "cooperative-seed2"]
    for run in runs:
        a = pd.read_parquet(tmp_path / "serial" / run / "monthly.parquet")
        b = pd.read_parquet(tmp_path / "pool" / run / "monthly.parquet")
        pd.testing.assert_frame_equal(a, b)
    assert not pd.read_parquet(tmp_path / "serial" / runs[0] / "monthly.parquet").equals(
        pd.read_parquet(tmp_path / "serial" / runs[1] / "monthly.parquet")
    )


def test_seed_given_as_string_is_the_same_run(scenario):
    """The browser app hands the seed over as text; "7" and 7 are the same run."""
    from simulation.model import LabourMarketModel

    sc = scenario("centralised", months=6, burn_in=3)
    a = LabourMarketModel(config=sc, seed=7, agent_views=False)
    b = LabourMarketModel(config=sc, seed="7", agent_views=False)
    for m in (a, b):
        while m.running:
            m.step()
    pd.testing.assert_frame_equal(a.results_frame(), b.results_frame())
