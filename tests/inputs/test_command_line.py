"""The command line itself, misused or given bad values: never a traceback, always exit status 2.

Three parts.
- Misuse of the parser: `--help` on every command, unknown commands and options (with the nearest
  valid name), missing arguments, no command at all, malformed option values. Commands are
  discovered from the parser, so a command added later is covered too. These call `cli.main` in
  this process; one test runs a real process to see that its stderr holds no traceback.
- Values given on the command line that the model rejects (`--set`, `--months`, `--burn-in`,
  `--scale`, `--seeds`, a place or regime name that does not exist, an output folder that cannot
  be written): one line `labourlab: error: ...` on stderr naming the option or file.
- A few faults run in a real process (`python -m simulation.cli`), exactly as a user would, so
  that stderr is seen whole. Faults inside input files are tested through `cli.main` in
  `test_input_files.py` and through the config API in `test_config_files.py`.
"""

from __future__ import annotations

import argparse
import re

import pytest

from simulation import cli
from simulation.config import CONFIGS

PARSER = cli.parser()
SUB = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction))
COMMANDS = list(SUB.choices)
RUN = ["run", "--seed", "1", "--months", "2", "--burn-in", "1"]


def usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """An argparse usage error: usage text, then one `error:` line, status 2. Returns that line."""
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "usage: labourlab" in err
    line = err.strip().splitlines()[-1]
    assert "error:" in line, err
    return line


def assert_one_line_error(stderr: str, *fragments: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("labourlab: error: "), line
    for f in fragments:
        assert f in line, f"{f!r} not in {line!r}"
    return line


def main_error(capsys: pytest.CaptureFixture[str], argv: list[str], *fragments: str) -> str:
    code = cli.main(argv)
    out = capsys.readouterr()
    assert code == 2, (code, out)
    return assert_one_line_error(out.err, *fragments)


def long_options(command: str) -> list[str]:
    return [o for o in SUB.choices[command]._option_string_actions if o.startswith("--") and o != "--help"]


# ------------------------------------------------------------------------ help and misuse
def test_every_command_is_listed_in_the_top_level_help(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_help_on_every_command(capsys, command):
    with pytest.raises(SystemExit) as e:
        cli.main([command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: labourlab {command}")
    assert SUB.choices[command].description, f"{command} has no description"
    for option in long_options(command):
        assert option in out


def test_no_command_prints_the_help_and_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for command in COMMANDS:
        assert command in err
    assert err.strip().splitlines()[-1] == "labourlab: error: expected a command (listed above)"


def test_unknown_command_suggests_the_nearest(capsys):
    line = usage_error(capsys, ["experimnt", "spec.toml"])
    assert "invalid choice: 'experimnt'" in line and "did you mean 'experiment'" in line
    for command in COMMANDS:
        assert command in line


@pytest.mark.parametrize("command", COMMANDS)
def test_unknown_option_on_every_command_suggests_the_nearest(capsys, command):
    line = usage_error(capsys, [command, "--zzzz-no-such-option", "1"])
    assert "unrecognized option --zzzz-no-such-option" in line and f"labourlab {command} --help" in line
    for option in long_options(command):
        wrong = option[:-1] + "x" + option[-1]  # one letter too many: "--plaxce"
        line = usage_error(capsys, [command, wrong, "1"])
        assert f"unrecognized option {wrong}" in line, line
        suggested = re.search(r"did you mean '([^']+)'", line)
        assert suggested and suggested[1] in long_options(command), line  # usually `option` itself


def test_unknown_option_is_reported_before_missing_required_ones(capsys):
    """`run --plase x` is a misspelt --place, not three missing options."""
    line = usage_error(capsys, ["run", "--plase", "testville"])
    assert "unrecognized option --plase (did you mean '--place'?)" in line
    line = usage_error(capsys, ["run", "--place", "testville", "--regime", "cooperative", "--seed", "1", "--mnths=3"])
    assert "--mnths" in line and "'--months'" in line


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["run", "--place", "testville", "--regime", "cooperative"], "--seed"),
        (["run"], "--place"),
        (["experiment"], "SPEC"),
        (["claims"], "RESULTS_DIR"),
        (["report"], "RESULTS_DIR"),
    ],
)
def test_missing_arguments(capsys, argv, missing):
    line = usage_error(capsys, argv)
    assert "required" in line and missing in line


def test_values_that_look_like_options_are_values(capsys):
    """A negative number is a (bad) value of its option, not an unknown option."""
    line = usage_error(capsys, ["run", "--place", "testville", "--regime", "cooperative", "--seed", "-1"])
    assert "--seed" in line and "non-negative" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--place", "testville", "--regime", "centralised", "--seed", "x"],
        ["run", "--place", "testville", "--regime", "centralised", "--seed", "1", "--set", "sep_rate_eu"],
        ["run", "--place", "testville", "--regime", "centralised", "--seed", "1", "--set", "sep_rate_eu=high"],
        ["demo", "--seeds", "many"],
    ],
)
def test_malformed_option_values_are_usage_errors(capsys, argv):
    usage_error(capsys, argv)


@pytest.mark.parametrize("scale", ["1e308", "0.5", "nan"])
def test_scale_outside_its_range(capsys, scale):
    """Money is scaled by people per row: a huge scale would overflow the pence ledger."""
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "--place", "testville", "--regime", "cooperative", "--seed", "1", "--scale", scale])
    assert e.value.code == 2
    assert "argument --scale: expected a number in [1, 1e+06]" in capsys.readouterr().err


def test_an_unambiguous_prefix_of_an_option_still_works(capsys):
    assert cli.main(["params", "--calib", str(CONFIGS / "calibration.toml")]) == 0
    assert "| parameter |" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "expected a command"),
        (["frobnicate"], "invalid choice"),
        (["runn"], "did you mean 'run'"),
        (["run", "--plase", "x"], "--place"),
        (["run", "--place", "testville", "--regime", "centralised"], "--seed"),
        (["compare", "--seeds", "many", "--place", "testville"], "--seeds"),
    ],
)
def test_usage_errors_in_a_real_process_exit_2_without_traceback(run_cli, argv, fragment):
    r = run_cli(*argv, timeout=60)
    assert r.returncode == 2, (argv, r.stderr)
    assert "Traceback" not in r.stderr and "error:" in r.stderr, r.stderr
    assert fragment in r.stderr, r.stderr


# ------------------------------------------------------------- bad values, in this process
def test_missing_place_by_name(capsys):
    main_error(
        capsys, [*RUN, "--place", "testvill", "--regime", "centralised"], "no such place", "did you mean 'testville'"
    )


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


def test_unwritable_output_is_one_line_and_status_1(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    code = cli.main([*RUN, "--place", "testville", "--regime", "centralised", "--out", str(blocker / "run")])
    err = capsys.readouterr().err
    assert code == 1
    assert_one_line_error(err, "cannot write output")


# ------------------------------------------------------------------------ in a real process
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
