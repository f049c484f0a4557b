"""`labourlab sensitivity`: design specs, sampling, indices, ranking robustness, end to end."""

from __future__ import annotations

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
