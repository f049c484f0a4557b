"""Command-line misuse: `--help` on every command, unknown commands and options (with the nearest
valid name), missing arguments, no command at all: helpful text and exit status 2, never a
traceback. Commands are discovered from the parser, so a command added later is covered too.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from simulation import cli
from simulation.config import CONFIGS

PARSER = cli.parser()
SUB = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction))
COMMANDS = list(SUB.choices)


def usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "usage: labourlab" in err
    return err.strip().splitlines()[-1]


def long_options(command: str) -> list[str]:
    return [o for o in SUB.choices[command]._option_string_actions if o.startswith("--") and o != "--help"]


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


def test_an_unambiguous_prefix_of_an_option_still_works(capsys):
    assert cli.main(["params", "--calib", str(CONFIGS / "calibration.toml")]) == 0
    assert "| parameter |" in capsys.readouterr().out


def test_usage_errors_in_a_real_process_exit_2_without_traceback():
    for argv in ([], ["runn"], ["run", "--plase", "x"], ["compare", "--seeds", "many", "--place", "testville"]):
        r = subprocess.run(
            [sys.executable, "-m", "simulation.cli", *argv], capture_output=True, text=True, timeout=60, cwd="/tmp"
        )
        assert r.returncode == 2, (argv, r.stderr)
        assert "Traceback" not in r.stderr and "error:" in r.stderr
