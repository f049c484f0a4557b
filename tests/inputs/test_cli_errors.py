"""Bad input on the command line: one line on stderr naming the file and field, exit status 2, no traceback.

Several cases run `python -m simulation.cli` in a subprocess, exactly as a user would, so that
stderr is seen whole; the rest call `cli.main` in this process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import cli
from simulation.config import CONFIGS

RUN = ["run", "--seed", "1", "--months", "2", "--burn-in", "1"]


def assert_one_line_error(stderr: str, *fragments: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("labourlab: error: "), line
    for f in fragments:
        assert f in line, f"{f!r} not in {line!r}"
    return line


def main_error(capsys, argv: list[str], *fragments: str) -> str:
    code = cli.main(argv)
    out = capsys.readouterr()
    assert code == 2, (code, out)
    return assert_one_line_error(out.err, *fragments)


@pytest.fixture
def place(shipped, mutate, write_toml):
    """place(old, new) -> path of a testville copy with one edit."""

    def make(old: str, new: str, name: str = "place") -> Path:
        return write_toml(name, mutate(shipped("places", "testville"), old, new))

    return make


@pytest.fixture
def regime(shipped, mutate, write_toml):
    def make(old: str, new: str, name: str = "regime") -> Path:
        return write_toml(name, mutate(shipped("regimes", "centralised"), old, new))

    return make


# ----------------------------------------------------------------------- in a real process
def test_subprocess_missing_place_file(run_cli, tmp_path):
    path = tmp_path / "nowhere.toml"
    r = run_cli(*RUN, "--place", str(path), "--regime", "centralised", "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, str(path), "file not found")
    assert not (tmp_path / "o").exists()


def test_subprocess_missing_regime(run_cli, tmp_path):
    r = run_cli(*RUN, "--place", "testville", "--regime", "cooperativ", "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, str(CONFIGS / "regimes" / "cooperativ.toml"), "did you mean 'cooperative'")


def test_subprocess_toml_syntax_error(run_cli, place, tmp_path):
    path = place("businesses = 125", "businesses = = 125")
    line = path.read_text(encoding="utf-8").splitlines().index("businesses = = 125") + 1
    r = run_cli(*RUN, "--place", str(path), "--regime", "centralised", "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, str(path), "TOML syntax error", f"line {line}")


def test_subprocess_unknown_district_key(run_cli, place, tmp_path):
    path = place("inactivity_rate = 0.216", "inactivity_rate = 0.216\ninactivty_rate = 0.2")
    r = run_cli(*RUN, "--place", str(path), "--regime", "centralised", "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, str(path), "districts[2].inactivty_rate", "did you mean 'inactivity_rate'")


def test_subprocess_wrong_type(run_cli, place, tmp_path):
    path = place("working_age_pop = 2000", 'working_age_pop = "2000"')
    r = run_cli(*RUN, "--place", str(path), "--regime", "centralised", "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, str(path), "districts[1].working_age_pop")


def test_subprocess_unknown_lever(run_cli, regime, tmp_path):
    path = regime("hub_firms_per_year = 0.0", "hub_firms_per_year = 0.0\nhub_firm_per_year = 5.0")
    r = run_cli(*RUN, "--place", "testville", "--regime", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, str(path), "levers.hub_firm_per_year", "did you mean 'hub_firms_per_year'")


def test_subprocess_non_utf8_regime(run_cli, shipped, write_toml, tmp_path):
    path = write_toml(
        "latin1", shipped("regimes", "centralised").replace("Work Programme", "Work Programme é").encode("latin-1")
    )
    r = run_cli(*RUN, "--place", "testville", "--regime", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, str(path), "UTF-8")


@pytest.mark.parametrize(
    ("setting", "fragments"),
    [
        ("nosuchparam=1", ("command line --set", "nosuchparam", "unknown parameter")),
        ("sep_rate_eu=2", ("command line --set", "sep_rate_eu", "[0.0, 1.0]")),
    ],
)
def test_subprocess_bad_set(run_cli, tmp_path, setting, fragments):
    r = run_cli(*RUN, "--place", "testville", "--regime", "centralised", "--set", setting, "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, *fragments)


@pytest.mark.parametrize(
    ("option", "value"),
    [("--burn-in", "1000"), ("--months", "5000")],
)
def test_subprocess_horizon_out_of_range(run_cli, tmp_path, option, value):
    """A horizon the scenario rejects is bad input like any other: one line, status 2."""
    args = ["run", "--seed", "1", "--place", "testville", "--regime", "centralised", option, value]
    r = run_cli(*args, "--out", str(tmp_path / "o"))
    assert r.returncode == 2, r.stderr
    line = assert_one_line_error(r.stderr)
    assert option in line or option.lstrip("-").replace("-", "_") in line, line


@pytest.mark.parametrize("setting", ["survival_1yr=0", "survival_3yr=0"])
def test_subprocess_degenerate_survival_curve(run_cli, tmp_path, setting):
    """Survival parameters each inside their domain but zero: run, or reject as bad input; never crash."""
    r = run_cli(*RUN, "--place", "testville", "--regime", "centralised", "--set", setting, "--out", str(tmp_path / "o"))
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode in (0, 2), r.stderr
    if r.returncode == 2:
        assert_one_line_error(r.stderr, setting.split("=")[0])


def test_subprocess_usage_errors_exit_2(run_cli):
    r = run_cli("frobnicate")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "invalid choice" in r.stderr
    r = run_cli("run", "--place", "testville", "--regime", "centralised")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "--seed" in r.stderr


# ------------------------------------------------------------------------------ in process
def test_missing_place_by_name(capsys):
    main_error(
        capsys, [*RUN, "--place", "testvill", "--regime", "centralised"], "no such place", "did you mean 'testville'"
    )


def test_value_out_of_range(capsys, place):
    path = place("employment_rate = 0.745", "employment_rate = 1.5")
    main_error(
        capsys,
        [*RUN, "--place", str(path), "--regime", "centralised"],
        str(path),
        "districts[2].employment_rate",
        "1.5",
    )


def test_lever_value_out_of_range(capsys, regime):
    path = regime("caseload = 120", "caseload = 0")
    main_error(capsys, [*RUN, "--place", "testville", "--regime", str(path)], str(path), "levers.caseload")


def test_nan_in_place(capsys, place):
    path = place("construction_value_m = 1.0", "construction_value_m = nan")
    main_error(capsys, [*RUN, "--place", str(path), "--regime", "centralised"], str(path), "construction_value_m")


def test_set_nan_and_zero_months(capsys):
    main_error(
        capsys,
        [*RUN, "--place", "testville", "--regime", "centralised", "--set", "sep_rate_eu=nan"],
        "sep_rate_eu",
        "finite",
    )
    main_error(
        capsys, ["run", "--seed", "1", "--place", "testville", "--regime", "centralised", "--months", "0"], "--months"
    )


def test_demo_bad_regime_is_caught_before_any_run(capsys, tmp_path):
    out = tmp_path / "demo"
    main_error(
        capsys,
        [
            "demo",
            "--place",
            "testville",
            "--regimes",
            "centralised,cooperativ",
            "--seeds",
            "1",
            "--months",
            "2",
            "--burn-in",
            "1",
            "--out",
            str(out),
        ],
        "did you mean 'cooperative'",
    )
    assert not out.exists() or not any(out.iterdir())


def test_demo_zero_seeds(capsys, tmp_path):
    main_error(capsys, ["demo", "--place", "testville", "--seeds", "0", "--out", str(tmp_path)], "--seeds")


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        [],
        ["run", "--place", "testville", "--regime", "centralised"],
        ["run", "--place", "testville", "--regime", "centralised", "--seed", "-1"],
        ["run", "--place", "testville", "--regime", "centralised", "--seed", "x"],
        ["run", "--place", "testville", "--regime", "centralised", "--seed", "1", "--scale", "0.5"],
        ["run", "--place", "testville", "--regime", "centralised", "--seed", "1", "--set", "sep_rate_eu"],
        ["run", "--place", "testville", "--regime", "centralised", "--seed", "1", "--set", "sep_rate_eu=high"],
        ["demo", "--seeds", "many"],
    ],
)
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error:" in err


def test_unwritable_output_is_one_line_and_status_1(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    code = cli.main([*RUN, "--place", "testville", "--regime", "centralised", "--out", str(blocker / "run")])
    err = capsys.readouterr().err
    assert code == 1
    assert_one_line_error(err, "cannot write output")
