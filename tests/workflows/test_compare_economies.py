"""`compare` on an experiment crossing arms with economies (issue 24, item 4): each economy's arms
are compared with that economy's baseline and with each other (never across economies), and the
ranking across economies is one table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simulation import cli
from simulation.analysis import compare, compare_economies

SPEC = (
    'name = "cycle_test"\nplace = "testville"\nmonths = 8\nburn_in = 4\nlead_in = 2\nseeds = [3, 5]\n'
    'baseline = "off"\neconomies = ["steady", "recession_2008"]\n'
    '[arms.off]\nregime = "no_programme"\n[arms.wp]\nregime = "centralised"\n[arms.coop]\nregime = "cooperative"\n'
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("economies")
    spec = tmp / "spec.toml"
    spec.write_text(SPEC)
    out = tmp / "out"
    assert cli.main(["experiment", str(spec), "--out", str(out), "--workers", "1"]) == 0
    return out


def test_economies_are_found_from_the_scenario_names(folder: Path) -> None:
    found = compare_economies.economies_in(folder)
    assert set(found) == {"steady", "recession_2008"}
    for economy, names in found.items():
        assert sorted(compare_economies.split(n)[0] for n in names) == ["coop", "off", "wp"]
        assert all(compare_economies.split(n)[1] == economy for n in names)
    assert compare_economies.split("plain") == ("plain", None)


def test_each_economy_is_compared_within_itself(folder: Path) -> None:
    result = compare_economies.analyse(folder, baseline="off")
    for economy, rep in result.reports.items():
        assert rep.baseline == f"off~{economy}"
        assert all(a.endswith(f"~{economy}") for a in rep.arms)
        assert all(x.endswith(f"~{economy}") for pair in rep.comparisons for x in pair)
    # The ranking's differences are those each economy's own comparison gives.
    t = result.ranking
    assert set(t["economy"]) == {"steady", "recession_2008"}
    pairs = {frozenset(p) for p in zip(t["arm"], t["versus"], strict=True)}
    assert pairs == {frozenset(("wp", "off")), frozenset(("coop", "off")), frozenset(("coop", "wp"))}
    assert t["mean"].notna().all()
    for _, r in t.iterrows():
        d = result.reports[r["economy"]].differences
        row = d[
            (d["measure"] == r["measure"])
            & (d["comparison"] == f"{r['arm']}~{r['economy']} - {r['versus']}~{r['economy']}")
        ]
        assert len(row) == 1 and row["mean"].iloc[0] == r["mean"]
        assert r["sign"] == (0 if row["interval_includes_zero"].iloc[0] else (1 if r["mean"] > 0 else -1))
    # A measure with the same clear sign everywhere says so; the verdicts cover every row's pair.
    v = compare_economies.verdicts(t)
    assert len(v) == t.groupby(["measure", "arm", "versus"]).ngroups
    spending = v[(v["measure"] == "public_spending") & (v["arm"] == "coop") & (v["versus"] == "off")]
    assert len(spending) == 1
    assert spending["verdict"].iloc[0] == "same sign everywhere"


def test_the_command_writes_each_economy_and_the_ranking(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(folder), "--baseline", "off"]) == 0
    text = capsys.readouterr().out
    assert "=== economy: steady ===" in text and "=== economy: recession_2008 ===" in text
    assert "The ranking across economies" in text
    out = folder / "compare"
    for economy in ("steady", "recession_2008"):
        assert (out / economy / "differences.csv").stat().st_size > 0
    ranking = pd.read_csv(out / "ranking_by_economy.csv")
    assert list(ranking.columns) == compare_economies.COLUMNS
    assert (out / "ranking_by_economy.md").read_text().startswith("# The ranking across economies")
    # A baseline that is not run in every economy is one line, status 2.
    assert cli.main(["compare", str(folder), "--baseline", "nothing"]) == 2
    assert "no runs of the baseline arm 'nothing' in economy" in capsys.readouterr().err


def test_a_folder_without_economies_is_compared_as_before(tmp_path: Path) -> None:
    assert compare_economies.economies_in(tmp_path) == {}
    assert compare.PRECISION > 0
