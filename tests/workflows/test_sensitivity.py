"""`labourlab sensitivity`: design specs, sampling, indices, ranking robustness, end to end."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simulation import experiment
from simulation.analysis import sensitivity
from simulation.cli import main
from simulation.config import ConfigError

SPEC = """
name = "sens_test"
place = "testville"
months = 6
burn_in = 2
seeds = 1
baseline = "no_programme"

[arms.no_programme]
regime = "no_programme"

[arms.centralised]
regime = "centralised"

[arms.cooperative]
regime = "cooperative"

[design]
method = "morris"
samples = 2
levels = 4
seed = 7
parameters = ["matching_efficiency", "support_max_effect", "adviser_cost_per_month"]

[outputs.employment]
label = "employment, cooperative - centralised"
measure = "employed_last12"
how = "difference"
arm = "cooperative"
versus = "centralised"
better = "higher"

[outputs.support_cost]
label = "support cost, cooperative vs centralised"
measure = "employment_support_cost_per_year"
how = "relative"
arm = "cooperative"
versus = "centralised"
better = "lower"
threshold = -0.25
"""


def write(tmp_path: Path, text: str = SPEC, name: str = "spec.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_design_builds_every_arm_at_every_point_with_common_seeds(tmp_path: Path) -> None:
    exp = experiment.load_experiment(write(tmp_path))
    pts = np.asarray(exp.design["points"])
    assert pts.shape == (2 * (3 + 1), 3)  # Morris: samples x (parameters + 1)
    assert len(exp.scenarios) == 3 * len(pts)
    for s in exp.scenarios:
        assert s.name == f"{s.arm}@p{s.point:04d}"
        assert s.params == dict(zip(exp.design["parameters"], pts[s.point], strict=True))
    for (lo, hi), col in zip(exp.design["bounds"], pts.T, strict=True):
        assert lo <= col.min() and col.max() <= hi
    assert exp.resolved()["design"]["points"] == exp.design["points"]


def test_design_sample_is_deterministic_in_its_seed(tmp_path: Path) -> None:
    a = experiment.load_experiment(write(tmp_path)).design["points"]
    b = experiment.load_experiment(write(tmp_path)).design["points"]
    c = experiment.load_experiment(write(tmp_path, SPEC.replace("seed = 7", "seed = 8"))).design["points"]
    assert a == b
    assert a != c


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (('"adviser_cost_per_month"]', '"adviser_cost_per_mont"]'), "design.parameters[2]", "did you mean"),
        (('method = "morris"\nsamples = 2', 'method = "sobol"\nsamples = 3'), "design.samples", "power of two"),
        (
            ("samples = 2\n", "samples = 2\nranges = { matching_efficiency = [0.3, 0.2] }\n"),
            "design.ranges",
            "low < high",
        ),
        (('measure = "employed_last12"', 'measure = "employed_last"'), "outputs.employment.measure", "did you mean"),
        (
            ('versus = "centralised"\nbetter = "higher"', 'versus = "central"\nbetter = "higher"'),
            "outputs.employment.versus",
            "arms",
        ),
        (('how = "difference"', 'how = "per_difference"'), "outputs.employment.per", "per"),
    ],
)
def test_bad_design_is_one_clear_line(tmp_path: Path, edit: tuple[str, str], field: str, words: str) -> None:
    assert edit[0] in SPEC
    with pytest.raises(ConfigError) as e:
        experiment.load_experiment(write(tmp_path, SPEC.replace(edit[0], edit[1], 1)))
    assert e.value.field.startswith(field)
    assert words in str(e.value)
    assert "\n" not in str(e.value)


def test_design_and_sweep_together_are_refused(tmp_path: Path) -> None:
    text = SPEC.replace("[design]", "[sweep]\nhub_displacement = [0.3]\n\n[design]")
    with pytest.raises(ConfigError) as e:
        experiment.load_experiment(write(tmp_path, text))
    assert e.value.field == "design"


def test_a_fixed_parameter_needs_a_range(tmp_path: Path) -> None:
    text = SPEC.replace('"adviser_cost_per_month"]', '"jsa_monthly_25plus"]')
    with pytest.raises(ConfigError) as e:
        experiment.load_experiment(write(tmp_path, text))
    assert "fixed parameter" in str(e.value)


def _fake(names: list[str], points: np.ndarray, method: str = "morris", levels: int = 4) -> SimpleNamespace:
    return SimpleNamespace(
        design={
            "method": method,
            "levels": levels,
            "seed": 1,
            "parameters": names,
            "bounds": [[0.0, 1.0]] * len(names),
            "points": points.tolist(),
        },
        outputs={"y": {"label": "y", "better": "higher", "threshold": 0.5}},
    )


def test_morris_ranks_the_parameter_that_drives_the_output_first() -> None:
    names = ["a", "b", "c"]
    x = sensitivity.sample("morris", names, [(0.0, 1.0)] * 3, 20, 4, 3)
    y = 5.0 * x[:, 1] + 0.5 * x[:, 2]  # b matters most, c a little, a not at all
    df, notes = sensitivity.indices(_fake(names, x), {"y": sensitivity.PointValues(y, y, y)})
    assert not notes
    assert list(df["parameter"]) == ["b", "c", "a"]
    assert df.loc[df["parameter"] == "a", "mu_star"].item() == pytest.approx(0.0, abs=1e-12)


def test_sobol_total_index_finds_the_driver() -> None:
    names = ["a", "b"]
    x = sensitivity.sample("sobol", names, [(0.0, 1.0)] * 2, 256, 4, 3)
    y = np.sin(3 * x[:, 0]) + 0.1 * x[:, 1]
    df, _ = sensitivity.indices(_fake(names, x, "sobol"), {"y": sensitivity.PointValues(y, y, y)})
    st = df.set_index("parameter")["ST"]
    assert st["a"] > 0.8 > 0.2 > st["b"]


def test_robustness_finds_where_the_ranking_flips() -> None:
    names = ["a", "b"]
    x = sensitivity.sample("lhs", names, [(0.0, 1.0)] * 2, 200, 4, 5)
    y = x[:, 0]  # wins (above 0.5) exactly when a > 0.5
    rob = sensitivity.robustness(_fake(names, x, "lhs"), {"y": sensitivity.PointValues(y, y - 0.01, y + 0.01)})
    (r,) = rob
    assert r.n == 200
    assert 0.4 < r.share < 0.6
    assert r.low < r.share < r.high
    assert list(r.importances) == ["a"]
    assert any("a > 0.5" in rule or "a > 0.49" in rule for rule in r.rules)


def test_wilson_interval() -> None:
    lo, hi = sensitivity.wilson(0, 20)
    assert lo == 0.0 and 0.0 < hi < 0.2
    lo, hi = sensitivity.wilson(10, 20)
    assert lo < 0.5 < hi and hi - 0.5 == pytest.approx(0.5 - lo)


def test_end_to_end_runs_resumes_and_writes_indices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path)
    out = tmp_path / "out"
    assert main(["sensitivity", str(spec), "--out", str(out), "--workers", "2"]) == 0
    text = capsys.readouterr().out
    assert "morris indices" in text and "Robustness of the ranking" in text
    idx = pd.read_csv(out / "sensitivity" / "indices.csv")
    assert set(idx["parameter"]) == {"matching_efficiency", "support_max_effect", "adviser_cost_per_month"}
    assert set(idx["output"]) <= {"employment", "support_cost"}
    pts = pd.read_csv(out / "sensitivity" / "points.csv")
    assert len(pts) == 8 and {"employment", "employment_low", "employment_high"} <= set(pts.columns)
    assert (out / "sensitivity" / "figures" / "sensitivity.png").stat().st_size > 0
    # The adviser's cost moves employment too: the Work Programme's prime buys fewer adviser hours
    # when they cost more (providers.hour_price_threshold), so the comparison's jobs move.
    emp = idx[idx["output"] == "employment"].set_index("parameter")
    assert emp.loc["adviser_cost_per_month", "mu_star"] > 0
    before = (out / "sensitivity" / "indices.csv").read_bytes()
    # A second call finds every run finished and gives the same indices.
    assert main(["sensitivity", str(spec), "--out", str(out)]) == 0
    assert "already finished" in capsys.readouterr().out
    assert (out / "sensitivity" / "indices.csv").read_bytes() == before


def test_analyse_only_needs_a_results_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sensitivity", str(write(tmp_path)), "--out", str(tmp_path / "none"), "--analyse-only"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a results folder" in err


def test_a_spec_without_a_design_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SPEC.split("[design]")[0]
    assert main(["sensitivity", str(write(tmp_path, text))]) == 2
    assert "design" in capsys.readouterr().err


def test_outputs_can_change_without_rerunning(tmp_path: Path) -> None:
    """Outputs are read off finished runs: editing them keeps the runs (same spec hash)."""
    a = experiment.load_experiment(write(tmp_path))
    b = experiment.load_experiment(write(tmp_path, SPEC.replace('label = "employment, cooperative', 'label = "jobs')))
    c = experiment.load_experiment(write(tmp_path, SPEC.replace("seed = 7", "seed = 9")))
    assert a.spec_sha256() == b.spec_sha256() != c.spec_sha256()


# ------------------------------------------------- a design crossed with economies (issue 24, item 4)
CYCLE_SPEC = """
name = "sens_cycle_test"
place = "testville"
months = 6
burn_in = 2
seeds = [4]
baseline = "no_programme"
economies = ["steady", "recession_2008"]

[arms.no_programme]
regime = "no_programme"

[arms.centralised]
regime = "centralised"

[arms.cooperative]
regime = "cooperative"

[design]
method = "lhs"
samples = 4
seed = 3
parameters = ["matching_efficiency", "demand_elasticity"]

[outputs.employment]
label = "employment, cooperative - centralised"
measure = "employed_last12"
how = "difference"
arm = "cooperative"
versus = "centralised"
better = "higher"

[outputs.public_cost]
label = "net public cost a year, cooperative - centralised"
measure = "public_cost_per_year"
how = "difference"
arm = "cooperative"
versus = "centralised"
better = "lower"
"""
ECONOMIES = ["steady", "recession_2008"]


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> tuple[experiment.Experiment, Path]:
    tmp = tmp_path_factory.mktemp("cycle")
    spec = write(tmp, CYCLE_SPEC)
    out = tmp / "out"
    assert main(["sensitivity", str(spec), "--out", str(out), "--workers", "2"]) == 0
    return experiment.load_experiment(spec), out


def test_every_design_point_runs_in_every_economy_on_the_same_seeds(tmp_path: Path) -> None:
    exp = experiment.load_experiment(write(tmp_path, CYCLE_SPEC))
    n = len(exp.design["points"])
    assert len(exp.scenarios) == 3 * n * len(ECONOMIES)
    cells = {(s.arm, s.point, sensitivity.economy_of(s)): s for s in exp.scenarios}
    assert len(cells) == len(exp.scenarios)
    for (arm, point, economy), s in cells.items():
        assert s.name == f"{arm}@p{point:04d}~{economy}"
        # The same parameter set in every economy.
        assert s.params == cells[(arm, point, ECONOMIES[0])].params
    assert sensitivity.economies(exp) == ECONOMIES
    assert {t.seed for t in exp.tasks(tmp_path)} == {4}
    assert sensitivity.runs_to_read(exp) == 2 * n * 1 * len(ECONOMIES)


def test_arms_are_compared_only_within_one_economy_and_one_point(
    cycle: tuple[experiment.Experiment, Path],
) -> None:
    from simulation import measures
    from simulation.analysis import results_io

    exp, out = cycle
    by_economy = {e: sensitivity.point_values(out, exp, exp.outputs, economy=e) for e in ECONOMIES}
    for e, values in by_economy.items():
        for i in range(len(exp.design["points"])):
            coop, cent = (
                results_io.read_experiment_run(out, f"{arm}@p{i:04d}~{e}", 4) for arm in ("cooperative", "centralised")
            )
            for key, measure in (("employment", "employed_last12"), ("public_cost", "public_cost_per_year")):
                want = measures.evaluate(measure, coop.monthly) - measures.evaluate(measure, cent.monthly)
                assert values[key].mean[i] == pytest.approx(want)
    # The economies are told apart: the recession changes the runs, so some difference differs.
    assert not np.array_equal(
        by_economy["steady"]["public_cost"].mean, by_economy["recession_2008"]["public_cost"].mean
    )
    with pytest.raises(ValueError, match="economy"):
        sensitivity.point_values(out, exp, exp.outputs)


def test_robustness_is_reported_per_economy_with_the_eta_bands(
    cycle: tuple[experiment.Experiment, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    exp, out = cycle
    n = len(exp.design["points"])
    rob = pd.read_csv(out / "sensitivity" / "robustness.csv")
    assert list(rob.columns[:2]) == ["output", "economy"]
    assert sorted(zip(rob["output"], rob["economy"], strict=True)) == sorted(
        (o, e) for o in ("employment", "public_cost") for e in ECONOMIES
    )
    for _, r in rob.iterrows():
        values = sensitivity.point_values(out, exp, exp.outputs, economy=r["economy"])
        (mine,) = [x for x in sensitivity.robustness(exp, values, r["economy"]) if x.output == r["output"]]
        assert (r["points"], r["wins"]) == (mine.n, mine.wins) and r["points"] == n
    bins = pd.read_csv(out / "sensitivity" / "robustness_by_eta.csv")
    edges = sensitivity.ETA_BINS
    assert len(bins) == len(rob) * (len(edges) - 1)
    for (o, e), g in bins.groupby(["output", "economy"]):
        assert list(g["eta_low"]) == list(edges[:-1]) and list(g["eta_high"]) == list(edges[1:])
        # Every parameter set falls in one band, and the bands' wins add up to the economy's.
        row = rob[(rob["output"] == o) & (rob["economy"] == e)].iloc[0]
        assert g["points"].sum() == row["points"] and g["wins"].sum() == row["wins"]
    pts = pd.read_csv(out / "sensitivity" / "points.csv")
    assert len(pts) == n * len(ECONOMIES) and list(pts.columns[:2]) == ["economy", "point"]
    md = (out / "sensitivity" / "sensitivity.md").read_text()
    assert "## The ranking by economy and demand elasticity" in md and "eta in [0.3, 1]" in md
    assert all(f"## Economy: {e}" in md for e in ECONOMIES)
    assert main(["sensitivity", str(exp.path), "--out", str(out), "--analyse-only"]) == 0
    text = capsys.readouterr().out
    assert "in economy recession_2008" in text and "The ranking by economy and demand elasticity" in text


def _eta_fake(eta: np.ndarray) -> SimpleNamespace:
    fake = _fake(["a", "demand_elasticity"], np.column_stack([np.zeros_like(eta), eta]), "lhs")
    fake.outputs = {"y": {"label": "y", "better": "higher", "threshold": 0.0}}
    return fake


def test_eta_bins_say_where_along_the_elasticity_the_ranking_flips() -> None:
    eta = np.arange(101) / 100  # 0, 0.01, ..., 1: the band edges themselves included
    y = 0.25 - eta  # holds (above 0) exactly when eta < 0.25
    bins = sensitivity.eta_bins(_eta_fake(eta), {"y": sensitivity.PointValues(y, y, y)}, "recession_2008")
    assert [(b.low_eta, b.high_eta) for b in bins] == list(itertools.pairwise(sensitivity.ETA_BINS))
    assert [(b.n, b.wins) for b in bins] == [(10, 10), (20, 15), (71, 0)]  # 0.1 in the second, 1.0 in the last
    assert all(b.economy == "recession_2008" and b.low <= b.share <= b.high for b in bins)
    assert sensitivity.eta_flip(bins) == "holds for eta in [0, 0.3), fails for eta in [0.3, 1]"
    always = sensitivity.eta_bins(_eta_fake(eta), {"y": sensitivity.PointValues(y + 2, y, y)})
    assert sensitivity.eta_flip(always) == "holds at most sets in every band"
    # Without demand_elasticity among the design's parameters there are no bands.
    assert (
        sensitivity.eta_bins(_fake(["a", "b"], np.zeros((4, 2)), "lhs"), {"y": sensitivity.PointValues(y, y, y)}) == []
    )


def test_without_economies_the_files_are_laid_out_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An experiment without economies (and without demand_elasticity) writes the same files, columns
    and sections as before economies were added."""
    from simulation.analysis import sensitivity_cli

    names = ["a", "b"]
    x = sensitivity.sample("lhs", names, [(0.0, 1.0)] * 2, 40, 4, 5)
    y = x[:, 0] - 0.5
    fake = _fake(names, x, "lhs")
    fake.outputs = {"y": {"label": "y", "better": "higher", "threshold": 0.0, "arm": "q", "versus": "p"}}
    fake.name, fake.arms, fake.seeds = "plain", {"p": {}, "q": {}}, [1]
    fake.burn_in, fake.lead_in, fake.months, fake.path = 2, 0, 6, tmp_path / "spec.toml"
    fake.scenarios = [SimpleNamespace(economy=None, place_name="testville")]
    fake.resolved = lambda: {"name": "plain"}
    monkeypatch.setattr(
        sensitivity_cli, "point_values", lambda *a, **k: {"y": sensitivity.PointValues(y, y - 0.01, y + 0.01)}
    )
    written, code = sensitivity_cli.analyse(tmp_path, fake)
    assert code == 0
    assert sorted(p.name for p in written) == [
        "indices.csv",
        "manifest.json",
        "points.csv",
        "robustness.csv",
        "sensitivity.md",
    ]
    rob = pd.read_csv(tmp_path / "sensitivity" / "robustness.csv")
    assert list(rob.columns) == [
        "output",
        "wins_when",
        "points",
        "wins",
        "share",
        "low90",
        "high90",
        "clear_wins",
        "clear_losses",
        "rules",
        "tree_parameters",
    ]
    assert list(pd.read_csv(tmp_path / "sensitivity" / "points.csv").columns) == [
        "point",
        "a",
        "b",
        "y",
        "y_low",
        "y_high",
    ]
    md = (tmp_path / "sensitivity" / "sensitivity.md").read_text()
    heads = [line for line in md.splitlines() if line.startswith("#")]
    assert heads == ["# Sensitivity: plain", "## Parameters and ranges", "## y (`y`)", "## Robustness of the ranking"]
    assert "economies" not in md and "eta" not in md
