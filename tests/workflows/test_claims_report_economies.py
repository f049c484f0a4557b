"""`claims` and `report` on an experiment crossing arms with economies (issue 24, item 4): every claim
is tested within each economy (its arms paired only with arms of the same economy, on the same
seeds), and the report has a section across the economic cycle with its figures."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import cli
from simulation.analysis import claims, claims_economies, report_economies, results_io
from simulation.economy import load_economy
from simulation.measures import MEASURES, month_totals

ECONOMIES = ["steady", "slack_2011"]  # slack_2011 settles before month 0 and carries an ONS series
SEEDS = [3, 5]
SPEC = (
    'name = "claims_cycle_test"\nplace = "testville"\nmonths = 8\nburn_in = 4\nlead_in = 2\n'
    f'seeds = {SEEDS}\nbaseline = "no_programme"\neconomies = {ECONOMIES!r}\n'.replace("'", '"')
    + '[arms.no_programme]\nregime = "no_programme"\n'
    '[arms.centralised]\nregime = "centralised"\n'
    '[arms.cooperative]\nregime = "cooperative"\n'
    '[arms.hubs_everywhere]\nregime = "no_programme"\n'
    "levers = { hub_firms_per_year = 30.0, hub_council_share = 0.5, hub_prestart_per_year = 60.0 }\n"
    '[arms.brokerage_everywhere]\nregime = "no_programme"\nlevers = { brokerage = true }\n'
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("claims_cycle")
    spec = tmp / "spec.toml"
    spec.write_text(SPEC)
    out = tmp / "out"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["experiment", str(spec), "--out", str(out), "--workers", "1"]) == 0
    return out


def _value(runs: dict[str, dict[int, results_io.RunData]], scenario: str, seed: int, measure: str) -> float:
    return MEASURES[measure].value(month_totals(runs[scenario][seed].monthly))


def test_every_claim_is_tested_in_each_economy_with_one_row_per_economy(folder: Path) -> None:
    result = claims_economies.analyse(folder)
    assert list(result.reports) == ECONOMIES  # the spec's order
    reg = claims.load_registry()
    t = result.table
    tests = t[t["label"].notna()]
    assert len(tests) == sum(len(c.tests) for c in reg.claims) * len(ECONOMIES)
    for (claim, label), g in tests.groupby(["claim", "label"], sort=False):
        assert sorted(g["economy"]) == sorted(ECONOMIES), (claim, label)
        verdicts = set(g["verdict"])
        same = g["same_in_every_economy"].iloc[0]
        assert (g["same_in_every_economy"] == same).all()
        if verdicts <= {"model higher", "model lower", "consistent"} and g["testable"].all():
            assert same.startswith(claims_economies.SAME) == (len(verdicts) == 1), (claim, label, same)
    for rep in result.reports.values():
        assert all(cr.status == "tested" and cr.seeds == SEEDS for cr in rep.claims)


def test_a_claims_arms_are_paired_only_within_an_economy(folder: Path) -> None:
    """Each economy's estimates are those of its own runs, seed by seed: hubs minus no programme for
    employment, cooperative over centralised for employment-support cost."""
    runs = results_io.load_results(folder).by_scenario()
    t = claims_economies.analyse(folder).table
    for economy in ECONOMIES:
        rows = t[t["economy"] == economy].set_index("label")
        jobs = rows.loc["additional employment, mean over the last 12 months (all people)"]
        diffs = [
            _value(runs, f"hubs_everywhere~{economy}", s, "employed_last12")
            - _value(runs, f"no_programme~{economy}", s, "employed_last12")
            for s in SEEDS
        ]
        assert jobs["estimate"] == pytest.approx(np.mean(diffs), rel=1e-12)
        cost = rows.loc["employment-support cost a year, cooperative against centralised"]
        rel = [
            _value(runs, f"cooperative~{economy}", s, "employment_support_cost_per_year")
            / _value(runs, f"centralised~{economy}", s, "employment_support_cost_per_year")
            - 1.0
            for s in SEEDS
        ]
        assert cost["estimate"] == pytest.approx(np.mean(rel), rel=1e-12)
        assert int(jobs["n_seeds"]) == len(SEEDS) and cost["arm"] == "cooperative" and cost["versus"] == "centralised"


def test_claims_command_writes_each_economy_and_the_table(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["claims", str(folder)]) == 0
    out = capsys.readouterr().out
    for economy in ECONOMIES:
        assert f"=== economy: {economy} ===" in out
        for name in ("claims.md", "claims.csv"):
            assert (folder / "claims" / economy / name).stat().st_size > 0
    assert "verdict in every economy" in out
    table = pd.read_csv(folder / "claims" / "claims_by_economy.csv")
    assert list(table.columns) == claims_economies.COLUMNS
    md = (folder / "claims" / "claims_by_economy.md").read_text(encoding="utf-8")
    assert md.startswith("# The claims across the economic cycle")
    assert "| claim | model quantity | arms | claimed | steady | slack_2011 | verdict in every economy |" in md


def test_ons_series_is_placed_at_the_scenarios_months() -> None:
    eco = load_economy("recession_2008")
    s, source = report_economies.ons_unemployment("recession_2008", {})
    assert s is not None and "recession_2008.toml" in source
    assert list(s.index[:3]) == [1, 1 + eco.step_months, 1 + 2 * eco.step_months]  # output month 1 = point 0
    assert list(s) == eco.series["unemployment_rate"]
    assert report_economies.ons_unemployment("steady", {}) == (None, "")


@pytest.fixture(scope="module")
def written(folder: Path) -> tuple[int, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = cli.main(["report", str(folder)])
    return code, buf.getvalue()


def test_report_has_the_cycle_section_and_its_figures(folder: Path, written: tuple[int, str]) -> None:
    code, printed = written
    assert code == 0
    out = folder / "report"
    for stem in ("cycle_paths", "cycle_ons", "beveridge"):
        for ext in ("png", "svg"):
            path = out / "figures" / f"{stem}.{ext}"
            assert path.is_file() and path.stat().st_size > 1000 and f"wrote {path}" in printed
    md = (out / "report.md").read_text(encoding="utf-8")
    for heading in (
        "## Across the economic cycle",
        "### The ranking across economies",
        "### Unemployment and vacancies by arm in each economy",
        "### The model's unemployment rate beside the ONS series",
        "### The Beveridge curve in each economy",
        "## The report's claims in each economy",
    ):
        assert heading in md, heading
    # The ONS figure's table quotes the scenario file's series, within the run's months.
    ons = load_economy("slack_2011").series["unemployment_rate"]
    assert f"| slack_2011 | ONS | {ons[0]:.1f}% |" in md and "| slack_2011 | model: no_programme |" in md
    # The body (figures and tables before the cycle section) is the steady economy's alone.
    body = md.split("## Across the economic cycle")[0]
    assert "no_programme~steady" in body and "~slack_2011" not in body
    assert "| steady | slack_2011 | sign holds |" in md
    assert "Across the economic cycle" in (out / "report.html").read_text(encoding="utf-8")


def test_report_baseline_must_be_run_in_every_economy(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(folder), "--baseline", "nothing", "--out", str(folder / "r2")]) == 2
    assert "no runs of the baseline arm 'nothing' in economy" in capsys.readouterr().err


def test_cycle_paths_are_the_runs_own_month_by_month(folder: Path) -> None:
    from simulation.analysis import compare_economies

    eco = compare_economies.analyse(folder, baseline="no_programme")
    runs = results_io.load_results(folder).by_scenario()
    p = report_economies.economy_paths(eco.reports["slack_2011"], runs, "slack_2011")
    assert p.baseline == "no_programme" and p.arms[0] == "no_programme"
    g = month_totals(runs["cooperative~slack_2011"][SEEDS[1]].monthly)
    want = 100.0 * g["unemployed"] / (g["employed"] + g["unemployed"])
    got = p.frames["unemployment_rate"]["cooperative"][SEEDS[1]]
    assert np.allclose(got.to_numpy(), want.to_numpy()) and math.isfinite(float(got.iloc[-1]))
    assert p.ons is not None and p.ons.iloc[0] == load_economy("slack_2011").series["unemployment_rate"][0]


def test_claims_cycle_spec_is_the_claims_arms_crossed_with_the_three_economies(tmp_path: Path) -> None:
    import tomllib

    from simulation.config import ROOT
    from simulation.experiment_plan import load_experiment

    text = (ROOT / "experiments" / "claims_cycle.toml").read_text(encoding="utf-8")
    cycle = tomllib.loads(text)
    base = tomllib.loads((ROOT / "experiments" / "claims.toml").read_text(encoding="utf-8"))
    assert cycle["arms"] == base["arms"]
    assert all(cycle[k] == base[k] for k in ("place", "months", "burn_in", "seeds", "baseline"))
    assert cycle["economies"] == ["steady", "recession_2008", "slack_2011"]
    path = tmp_path / "claims_cycle.toml"
    path.write_text(text.replace('place = "england"', 'place = "testville"'), encoding="utf-8")
    exp = load_experiment(path)
    assert {s.name for s in exp.scenarios} == {f"{a}~{e}" for a in base["arms"] for e in cycle["economies"]}
