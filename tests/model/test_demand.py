"""Labour demand that responds (issue 24): macroeconomic scenarios, the fill-rate response of
firms' demand (`mechanisms.demand`), the steady-state vacancies a place is built with, and experiments crossing
economies with arms.

- A steady economy with fixed demand (the defaults) is the model as it was, bit for bit (the
  golden digests hold that for every shipped run; here the scenario named explicitly).
- The 2008 recession path raises unemployment and unemployed per vacancy, then they come back
  down as its demand recovers.
- With a positive demand elasticity, support that makes searchers more effective raises
  employment by more than with fixed demand.
- Bad scenario files: one line naming the file and field, exit status 2.
- An experiment crossing economies with arms runs every cell on the same seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import cli
from simulation.config import ConfigError, load_calibration, make_scenario
from simulation.economy import STEADY, available, load_economy
from simulation.experiment import load_experiment
from simulation.mechanisms import matching, participation
from simulation.model import LabourMarketModel
from simulation.people import EMPLOYED

COLUMNS = ["unemployed", "employed", "vacancies", "inactive"]


def test_shipped_scenarios_load_and_steady_is_the_default() -> None:
    assert {"steady", "recession_2008", "slack_2011"} <= set(available())
    for name in available():
        e = load_economy(name)
        assert e.sources and len(e.separations) in (1, len(e.demand))
    assert make_scenario("testville", "no_programme").economy is STEADY
    assert load_economy("steady").steady and load_economy("steady").at(7) == (1.0, 1.0)
    rec = load_economy("recession_2008")
    assert not rec.steady and rec.at(-5) == (1.0, 1.0)  # the burn-in is the economy as built
    # Demand falls to its trough in 2009-11 and recovers by 2015; separations peak in 2009 Q1.
    trough = min(range(len(rec.demand)), key=lambda i: rec.demand[i])
    assert 4 <= trough <= 16 and rec.demand[-1] > rec.demand[trough]
    assert max(range(len(rec.separations)), key=lambda i: rec.separations[i]) == 4
    slack = load_economy("slack_2011")
    assert slack.settle and slack.at(-3)[0] == slack.demand[0] < 1.0


def test_steady_economy_named_explicitly_changes_nothing(month_totals) -> None:
    a = month_totals("stevenage", "centralised", 6, COLUMNS)
    b = month_totals("stevenage", "centralised", 6, COLUMNS, economy="steady")
    pd.testing.assert_frame_equal(a, b)


def test_recession_raises_unemployment_then_it_recovers(month_totals) -> None:
    """Same seed, same place: the recession path against the steady economy. Unemployment (ILO
    rate) and unemployed per vacancy are higher in 2009-11 (months 13-48), and the gap narrows by
    2014-15 (months 73-96) as the demand index returns to and above where it started."""
    months = 96
    steady = month_totals("stevenage", "no_programme", months, COLUMNS)
    rec = month_totals("stevenage", "no_programme", months, COLUMNS, economy="recession_2008")

    def rate(g: pd.DataFrame) -> pd.Series:
        return g.unemployed / (g.unemployed + g.employed)

    gap = rate(rec) - rate(steady)
    uv_gap = rec.unemployed / rec.vacancies - steady.unemployed / steady.vacancies
    trough = gap.loc[13:48].mean()
    assert trough > 0
    assert uv_gap.loc[13:48].mean() > 0
    assert gap.loc[73:96].mean() < trough
    # Employment falls with demand.
    assert (rec.employed - steady.employed).loc[13:48].mean() < 0


def test_demand_elasticity_lets_support_raise_employment_beyond_the_posts(month_totals) -> None:
    """The centralised regime (support that makes its participants better searchers) against no
    programme, on the same seeds: with fixed demand (elasticity 0) its effect on employment is
    posts filled sooner; with demand that responds to the fill rate, firms post more and
    employment rises more. The elasticity is read from the calibration file's range (its high)."""
    high = load_calibration().records["demand_elasticity"].high
    effect = {}
    for eta in (0.0, high):
        diffs = []
        for seed in (1, 2):
            kw = {"overrides": {"demand_elasticity": eta}, "lead_in": 12, "seed": seed}
            on = month_totals("stevenage", "centralised", 36, COLUMNS, **kw)
            off = month_totals("stevenage", "no_programme", 36, COLUMNS, **kw)
            diffs.append((on.employed - off.employed).mean())
        effect[eta] = float(np.mean(diffs))
    assert effect[high] > effect[0.0]


def test_the_place_is_built_with_its_steady_state_vacancies() -> None:
    """At the vacancies the place is built with, each market's expected hires from out of work
    equal its workers' expected exits to out of work (`matching.steady_state_vacancies`), so
    employment starts in its steady state; a market's vacancies are shared among its districts by
    those exits; and a more efficient matching function needs fewer vacancies for the same hires."""
    sc = make_scenario("testville", "no_programme", burn_in=1, months=1)
    m = LabourMarketModel(config=sc, seed=3, agent_views=False)
    p, people = m.params, m.people
    employed = np.bincount(people.district[people.status == EMPLOYED], minlength=m.n_districts)
    v = matching.steady_state_vacancies(people, employed, m.person_market, m.district_market, p)
    exits = employed * (p.sep_rate_eu + p.sep_rate_ei + 1 / (12 * participation.WORKING_YEARS))
    n_markets = int(m.district_market.max()) + 1
    searchers = np.flatnonzero(people.status != EMPLOYED)
    w = matching.search_weights(people, p, searchers)
    market = m.person_market[searchers]
    v_m = np.bincount(m.district_market, weights=v, minlength=n_markets)
    _, q = matching.market_rates(w, v_m, market, p)
    hires = np.bincount(market, weights=-np.expm1(-q[market] * w), minlength=n_markets)
    d_m = np.bincount(m.district_market, weights=exits, minlength=n_markets)
    np.testing.assert_allclose(hires, d_m, rtol=1e-9)
    share = exits / d_m[m.district_market]
    np.testing.assert_allclose(v, v_m[m.district_market] * share, rtol=1e-12)
    doubled = p.with_overrides({"matching_efficiency": 2 * p.matching_efficiency})
    easier = matching.steady_state_vacancies(people, employed, m.person_market, m.district_market, doubled)
    assert easier.sum() < 0.75 * v.sum()  # a quarter of it in the small-hazard limit, more as hazards saturate


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("demand = [1.0, -2.0]", "demand[1]"),
        ("separations = [1.0, 1.1]", "separations"),
        ("step_months = 0", "step_months"),
        ("colour = 'red'", "colour"),
    ],
)
def test_bad_scenario_file_is_one_line_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, field: str
) -> None:
    good = {
        "name": '"bad"',
        "step_months": "3",
        "demand": "[1.0, 0.97, 0.99]",
        "separations": "[1.0]",
        "sources": '["a test"]',
    }
    key = text.split("=")[0].strip()
    good[key] = text.split("=", 1)[1].strip()
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(f"{k} = {v}" for k, v in good.items()) + "\n")
    with pytest.raises(ConfigError) as e:
        load_economy(str(path))
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and field in msg, msg
    code = cli.main(["run", "--place", "testville", "--regime", "no_programme", "--seed", "1", "--economy", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and str(path) in err[0] and field in err[0], err


def test_unknown_scenario_name_suggests_the_nearest() -> None:
    with pytest.raises(ConfigError, match="recession_2008"):
        load_economy("recesion_2008")


def test_experiment_crosses_economies_with_arms_on_the_same_seeds(tmp_path: Path) -> None:
    spec = tmp_path / "cross.toml"
    spec.write_text(
        'name = "cross"\nplace = "testville"\nmonths = 3\nburn_in = 2\nlead_in = 0\nseeds = [4, 9]\n'
        'baseline = "off"\neconomies = ["steady", "recession_2008"]\n'
        '[arms.off]\nregime = "no_programme"\n[arms.on]\nregime = "centralised"\n'
    )
    exp = load_experiment(spec)
    names = sorted(s.name for s in exp.scenarios)
    assert names == ["off~recession_2008", "off~steady", "on~recession_2008", "on~steady"]
    tasks = exp.tasks(tmp_path / "out")
    cells: dict[tuple[str, str | None], list[int]] = {}
    for t in tasks:
        cells.setdefault((t.arm, t.economy), []).append(t.seed)
    assert len(cells) == 4 and all(sorted(seeds) == [4, 9] for seeds in cells.values())
    # Each cell's config is fingerprinted with its economy: two economies, two configs per arm.
    by_arm = {a: {s.config_sha256 for s in exp.scenarios if s.arm == a} for a in ("off", "on")}
    assert all(len(v) == 2 for v in by_arm.values())
    bad = tmp_path / "bad.toml"
    bad.write_text(spec.read_text().replace('"recession_2008"]', '"recesion_2008"]'))
    with pytest.raises(ConfigError) as e:
        load_experiment(bad)
    assert "economies[1]" in str(e.value) and str(bad) in str(e.value)
