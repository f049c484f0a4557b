"""Every input file, mistyped, through the command line: one line naming the file, the field and
what was expected; exit 2.

Two halves. A table of hand-made faults, one per kind of mistake and kind of file (places,
regimes, calibration and fitted parameter files, experiment specs, the claims registry, targets,
results folders), each sent through `cli.main` as a user would type it (targets through their
loader). Then property tests (hypothesis): valid files mutated at random (lines dropped,
duplicated, renamed, cut short or given odd values; table headers broken; bytes that are not
UTF-8 or not text) either load, or fail in exactly that way. A mutated place, regime or
calibration that loads is also run for a month, so a file that passes validation can never crash
the model or give it NaN or negative stocks.

The split: `test_config_files.py` calls the config API directly and pins message wording and
nearest-name suggestions for places, regimes and calibration; this file checks each kind of fault
once at the command line and holds the only mutation tests. Options and usage errors are in
`test_command_line.py`.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import cli
from simulation.analysis import results_io
from simulation.analysis.claims import load_registry
from simulation.analysis.targets import TARGETS_FILE, load_targets
from simulation.config import CONFIGS, ConfigError, load_calibration, load_place, load_regime
from simulation.experiment import load_experiment

# sep_rate_eu's record as shipped (a fitted value, so read, not written here): the faults below edit it.
SEP = f"value = {load_calibration().sep_rate_eu!r}"

PLACE = (CONFIGS / "places" / "testville.toml").read_text(encoding="utf-8")
REGIME = (CONFIGS / "regimes" / "cooperative.toml").read_text(encoding="utf-8")
CALIBRATION = (CONFIGS / "calibration.toml").read_text(encoding="utf-8")
CLAIMS = (CONFIGS / "claims.toml").read_text(encoding="utf-8")
TARGETS = TARGETS_FILE.read_text(encoding="utf-8")
SPEC = """\
name = "hard"
description = "hardening test spec"
place = "testville"
months = 2
burn_in = 0
seeds = [1, 2]
baseline = "base"

[arms.base]
regime = "no_programme"

[arms.coop]
regime = "cooperative"
levers = { caseload = 40, groups = { esa_new = { referral_month = 5 } } }
params = { sep_rate_eu = 0.005 }

[sweep]
matching_alpha = [0.5, 0.6]
"""
FITTED = '[provenance]\nspec = "calibration spec"\ncommit = "abc"\n\n' + CALIBRATION
RUN = ["--seed", "1", "--months", "1", "--burn-in", "0", "--scale", "50"]


def edit(text: str, old: str, new: str) -> str:
    assert old in text, f"fixture text not found: {old!r}"
    return text.replace(old, new, 1)


def assert_exactly_one_line(message: str, path: Path | str, field: str = "") -> None:
    """The form every input error takes: `FILE: FIELD: EXPECTED` (or `FILE: EXPECTED`), one line."""
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(f"{path}: "), message
    rest = message[len(f"{path}: ") :]
    assert rest.strip(), message
    if field:
        assert rest.startswith(f"{field}: ") or f" {field}" in rest or f"{field}:" in rest, (field, message)


def cli_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], path: Path | str, field: str, *fragments: str
) -> str:
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, (code, err)
    assert "Traceback" not in err
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("labourlab: error: "), line
    assert_exactly_one_line(line.removeprefix("labourlab: error: "), path, field)
    for f in fragments:
        assert f in line, (f, line)
    return line


# ------------------------------------------------------------------- a table of faults, by file
PLACE_FAULTS = [
    ("syntax", "businesses = 170", "businesses 170", "", "TOML syntax error", "line 24"),
    ("unknown key", "businesses = 170", "businesses = 170\nbusinesess = 3", "districts[0].businesess", "'businesses'"),
    ("wrong type", "businesses = 170", 'businesses = "170"', "districts[0].businesses", "integer"),
    ("NaN", "employment_rate = 0.730", "employment_rate = nan", "districts[0].employment_rate", "finite"),
    ("infinity", "construction_value_m = 7.1", "construction_value_m = inf", "districts[0].construction_value_m", ""),
    ("negative count", "businesses = 170", "businesses = -1", "districts[0].businesses", "-1"),
    ("zero population", "working_age_pop = 3000", "working_age_pop = 0", "districts[0].working_age_pop", "0"),
    (
        "absurd population",
        "working_age_pop = 3000",
        "working_age_pop = 10_000_000_000",
        "districts[0].working_age_pop",
        "",
    ),
    ("probability > 1", "claimant_rate = 0.022", "claimant_rate = 1.2", "districts[0].claimant_rate", "1.2"),
    ("probability < 0", "esa_ib_rate = 0.068", "esa_ib_rate = -0.1", "districts[0].esa_ib_rate", "-0.1"),
    ("empty list", "sources = [", "sources = []\nunused = [", "sources", ""),
    ("duplicate name", 'name = "Northvale"', 'name = "Northtown"', "districts[1].name", "duplicate", "districts[0]"),
    ("duplicate code", 'code = "T00000002"', 'code = "T00000001"', "districts[1].code", "duplicate"),
    ("boolean for a count", "businesses = 170", "businesses = true", "districts[0].businesses", ""),
    ("scale below one", "people_per_agent = 1", "people_per_agent = 0.5", "people_per_agent", "0.5"),
]


@pytest.mark.parametrize("fault", PLACE_FAULTS, ids=[f[0] for f in PLACE_FAULTS])
def test_place_faults_are_one_line_with_the_field(capsys, tmp_path, fault):
    what, old, new, field, *fragments = fault
    path = tmp_path / "place.toml"
    path.write_text(_empty_sources() if what == "empty list" else edit(PLACE, old, new), encoding="utf-8")
    argv = ["run", "--place", str(path), "--regime", "cooperative", *RUN]
    cli_error(capsys, argv, path, field, *(f for f in fragments if f))


def _empty_sources() -> str:
    """testville with `sources = []` (the list spans several lines in the shipped file)."""
    start = PLACE.index("sources = [")
    end = PLACE.index("]\n", start) + 2
    return PLACE[:start] + "sources = []\n" + PLACE[end:]


REGIME_FAULTS = [
    ("unknown lever", "caseload = 50", "caseload = 50\ncaselod = 3", "levers.caselod", "did you mean 'caseload'"),
    ("unknown group", "[levers.groups.jsa_18_24]", "[levers.groups.jsa_18_25]", "levers.groups.jsa_18_25", "jsa_18_24"),
    ("wrong type", "caseload = 50", 'caseload = "50"', "levers.caseload", "'50'"),
    ("NaN", "caseload = 50", "caseload = nan", "levers.caseload", "finite"),
    ("negative fee", "fee_attachment = 0.0", "fee_attachment = -1.0", "levers.groups.jsa_18_24.fee_attachment", ""),
    ("absurd fee", "fee_attachment = 0.0", "fee_attachment = 1e308", "levers.groups.jsa_18_24.fee_attachment", ""),
    ("share > 1", "referral_share = 1.0", "referral_share = 1.5", "levers.groups.jsa_18_24.referral_share", ""),
    ("caseload 0", "caseload = 50", "caseload = 0", "levers.caseload", ""),
    ("unknown rule", 'effort_rule = "need"', 'effort_rule = "nede"', "levers.effort_rule", "'need'"),
]


@pytest.mark.parametrize(("what", "old", "new", "field", "fragment"), REGIME_FAULTS)
def test_regime_faults_are_one_line_with_the_field(capsys, tmp_path, what, old, new, field, fragment):
    path = tmp_path / "regime.toml"
    path.write_text(edit(REGIME, old, new), encoding="utf-8")
    cli_error(capsys, ["run", "--place", "testville", "--regime", str(path), *RUN], path, field, fragment)


CALIBRATION_FAULTS = [
    ("unknown parameter", "[params.sep_rate_eu]", "[params.sep_rate_ue]", "params.sep_rate_ue", "unknown parameter"),
    ("unknown key", SEP, SEP + "\nvalu = 1", "params.sep_rate_eu.valu", "did you mean 'value'"),
    ("NaN", SEP, "value = nan", "params.sep_rate_eu.value", "finite"),
    (
        "low > high",
        "low = 0.0035\nhigh = 0.006",
        "low = 0.006\nhigh = 0.0035",
        "params.sep_rate_eu",
        "low 0.006 > high",
    ),
    ("outside domain", SEP + "\nunit", "value = 1.5\nunit", "params.sep_rate_eu", "1.5"),
    ("wrong type", SEP, 'value = "0.0047"', "params.sep_rate_eu.value", ""),
    ("provenance not a table", "", "provenance = 3\n", "provenance", ""),
]


@pytest.mark.parametrize(("what", "old", "new", "field", "fragment"), CALIBRATION_FAULTS)
@pytest.mark.parametrize("base", ["calibration", "fitted"])
def test_calibration_and_parameter_file_faults(capsys, tmp_path, base, what, old, new, field, fragment):
    text = CALIBRATION if base == "calibration" else FITTED
    # old "": a key put before every table (in a fitted file, instead of its [provenance] table)
    text = new + CALIBRATION if old == "" else edit(text, old, new)
    path = tmp_path / "cal.toml"
    path.write_text(text, encoding="utf-8")
    args = ["run", "--place", "testville", "--regime", "cooperative", "--calibration", str(path), *RUN]
    cli_error(capsys, args, path, field, fragment)
    cli_error(capsys, ["params", "--calibration", str(path)], path, field, fragment)


SPEC_FAULTS = [
    ("unknown key", "months = 2", "months = 2\nmonth = 3", "month", "did you mean 'months'"),
    ("wrong type", "months = 2", 'months = "2"', "months", ""),
    ("NaN scale", "months = 2", "months = 2\npeople_per_agent = nan", "people_per_agent", "finite"),
    ("negative seed", "seeds = [1, 2]", "seeds = [1, -2]", "seeds", "-2"),
    ("empty seeds", "seeds = [1, 2]", "seeds = []", "seeds", "at least one"),
    ("duplicate seeds", "seeds = [1, 2]", "seeds = [2, 2]", "seeds", "distinct"),
    ("unknown place", 'place = "testville"', 'place = "testvile"', "place", "did you mean 'testville'"),
    ("unknown regime", 'regime = "no_programme"', 'regime = "no_programe"', "arms.base.regime", "no_programme"),
    ("unknown parameter", "sep_rate_eu = 0.005", "sep_rate_ue = 0.005", "arms.coop.params.sep_rate_ue", "sep_rate_eu"),
    ("parameter NaN", "sep_rate_eu = 0.005", "sep_rate_eu = nan", "arms.coop.params.sep_rate_eu", ""),
    ("probability > 1", "sep_rate_eu = 0.005", "sep_rate_eu = 1.5", "arms.coop.params.sep_rate_eu", "[0.0, 1.0]"),
    ("unknown lever", "caseload = 40", "caselod = 40", "arms.coop.levers.caselod", "did you mean 'caseload'"),
    ("bad lever", "caseload = 40", "caseload = -40", "arms.coop.levers.caseload", ""),
    ("unknown baseline", 'baseline = "base"', 'baseline = "bsae"', "baseline", "did you mean 'base'"),
    ("empty sweep", "matching_alpha = [0.5, 0.6]", "matching_alpha = []", "sweep.matching_alpha", "non-empty"),
    ("sweep infinity", "matching_alpha = [0.5, 0.6]", "matching_alpha = [0.5, inf]", "sweep.matching_alpha[1]", ""),
    ("duplicate sweep", "matching_alpha = [0.5, 0.6]", "matching_alpha = [0.5, 0.50]", "sweep.matching_alpha", ""),
    ("missing calibration", 'baseline = "base"', 'baseline = "base"\ncalibration = "none.toml"', "calibration", ""),
    ("months 0", "months = 2", "months = 0", "months", ""),
]


@pytest.mark.parametrize(("what", "old", "new", "field", "fragment"), SPEC_FAULTS)
def test_experiment_spec_faults(capsys, tmp_path, what, old, new, field, fragment):
    path = tmp_path / "spec.toml"
    path.write_text(edit(SPEC, old, new), encoding="utf-8")
    cli_error(capsys, ["experiment", str(path), "--out", str(tmp_path / "out")], path, field, fragment)
    assert not (tmp_path / "out").exists()  # nothing is started before the whole spec is checked


CLAIMS_FAULTS = [
    ("unknown arm", 'versus = "centralised"', 'versus = "centralsed"', "claims[0].versus", "did you mean"),
    (
        "unknown measure",
        'measure = "employment_support_cost_per_year"',
        'measure = "x"',
        "claims[0].tests[0].measure",
        "",
    ),
    ("NaN claim", "claimed = -0.25", "claimed = nan", "claims[0].tests[0].claimed", "finite"),
    ("duplicate id", 'id = "hub_jobs"', 'id = "support_cost"', "claims[1].id", "duplicate"),
    ("unknown regime", 'regime = "centralised"', 'regime = "centralisd"', "arms.centralised.regime", "centralised"),
    ("range low > high", "claimed = -0.25", "claimed_range = [1.0, 0.0]", "claims[0].tests[0]", "low <= high"),
    ("negative population", "working_age_pop = 34_750_000", "working_age_pop = -1", "england.working_age_pop", ""),
    (
        "unknown parameter",
        "[claims.assumptions]\nparameters = [",
        '[claims.assumptions]\nparameters = ["nope", ',
        "",
        "",
    ),
]


@pytest.fixture(scope="module")
def good_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Finished run folders of three arms on two seeds (testville, 3 months)."""
    folder = tmp_path_factory.mktemp("results")
    for regime in ("no_programme", "centralised", "cooperative"):
        for seed in (1, 2):
            argv = ["run", "--place", "testville", "--regime", regime, "--seed", str(seed), "--months", "3"]
            assert cli.main([*argv, "--burn-in", "0", "--out", str(folder / f"{regime}-seed{seed}")]) == 0
    return folder


@pytest.mark.parametrize(("what", "old", "new", "field", "fragment"), CLAIMS_FAULTS)
def test_claims_registry_faults(capsys, tmp_path, good_results, what, old, new, field, fragment):
    path = tmp_path / "claims.toml"
    path.write_text(edit(CLAIMS, old, new), encoding="utf-8")
    if what == "unknown parameter":
        field = "claims[0].assumptions.parameters[0]"
    cli_error(capsys, ["claims", str(good_results), "--registry", str(path), "--out", str(tmp_path / "o")], path, field)


def test_scale_in_a_place_file_or_spec_outside_its_range(capsys, tmp_path):
    place = tmp_path / "place.toml"
    place.write_text(edit(PLACE, "people_per_agent = 1", "people_per_agent = 1e12"), encoding="utf-8")
    cli_error(
        capsys, ["run", "--place", str(place), "--regime", "cooperative", "--seed", "1"], place, "people_per_agent"
    )
    spec = tmp_path / "spec.toml"
    spec.write_text(edit(SPEC, "months = 2", "months = 2\npeople_per_agent = 1e12"), encoding="utf-8")
    cli_error(capsys, ["experiment", str(spec), "--out", str(tmp_path / "o")], spec, "people_per_agent")


def test_not_utf8_and_binary_files_for_every_kind(capsys, tmp_path, good_results):
    for kind, text in (("place", PLACE), ("regime", REGIME), ("cal", CALIBRATION), ("spec", SPEC), ("claims", CLAIMS)):
        latin = tmp_path / f"{kind}-latin1.toml"
        latin.write_bytes(text.encode("utf-8").replace(b"=", b"= \xe9", 1))
        binary = tmp_path / f"{kind}-binary.toml"
        binary.write_bytes(b"PAR1\x00\x15\x04" + text.encode("utf-8"))
        for path, fragment in ((latin, "expected UTF-8 text (bad byte at offset"), (binary, "binary data")):
            argv = {
                "place": ["run", "--place", str(path), "--regime", "cooperative", *RUN],
                "regime": ["run", "--place", "testville", "--regime", str(path), *RUN],
                "cal": ["params", "--calibration", str(path)],
                "spec": ["experiment", str(path), "--out", str(tmp_path / "o")],
                "claims": ["claims", str(good_results), "--registry", str(path), "--out", str(tmp_path / "o")],
            }[kind]
            cli_error(capsys, argv, path, "", fragment)


def test_fitted_parameter_file_with_toml_dates_runs_and_keeps_them(tmp_path):
    """TOML has dates and times; a fitted file's [provenance] may hold them (they once crashed the
    manifest writer), and they reach the run manifest as ISO text."""
    path = tmp_path / "fitted.toml"
    path.write_text(
        "[provenance]\ncreated = 2026-11-23T10:00:00Z\nday = 2026-11-23\nat = { t = 10:30:00 }\n\n" + CALIBRATION,
        encoding="utf-8",
    )
    out = tmp_path / "run"
    argv = ["run", "--place", "testville", "--regime", "cooperative", "--calibration", str(path), *RUN]
    assert cli.main([*argv, "--out", str(out)]) == 0
    prov = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["config"]["calibration_provenance"]
    assert prov == {"created": "2026-11-23T10:00:00+00:00", "day": "2026-11-23", "at": {"t": "10:30:00"}}


def test_targets_file_faults(tmp_path):
    for old, new, field in (
        ("[targets.u_to_e_hazard]", "[targets.u_to_e_hazrd]", "targets.u_to_e_hazrd"),
        ("value = 0.080", "value = nan", "targets.u_to_e_hazard.value"),
        ("value = 0.080", "value = 0.080\nvaleu = 1", "targets.u_to_e_hazard.valeu"),
    ):
        path = tmp_path / "targets.toml"
        path.write_text(edit(TARGETS, old, new), encoding="utf-8")
        with pytest.raises(ConfigError) as e:
            load_targets(path)
        assert_exactly_one_line(str(e.value), path, field)


# ----------------------------------------------------------------------- results folders
def _copy(src: Path, dst: Path, change: Callable[[Path], None]) -> Path:
    shutil.copytree(src, dst)
    change(dst)
    return dst


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "centralised-seed1" / "manifest.json").read_text(encoding="utf-8"))


def _edit_table(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / "centralised-seed1" / "monthly.parquet"
        edit(pd.read_parquet(path)).to_parquet(path, index=False)

    return change


RESULTS_FAULTS: list[tuple[str, Callable[[Path], None], str]] = [
    ("corrupt manifest", lambda d: (d / "centralised-seed1/manifest.json").write_text("{oops"), "manifest.json"),
    ("manifest not UTF-8", lambda d: (d / "centralised-seed1/manifest.json").write_bytes(b"\xff{}"), "manifest.json"),
    ("manifest a list", lambda d: (d / "centralised-seed1/manifest.json").write_text("[]"), "manifest.json"),
    (
        "manifest without a seed",
        lambda d: (d / "centralised-seed1/manifest.json").write_text(
            json.dumps({k: v for k, v in _manifest(d).items() if k != "seed"})
        ),
        "manifest.json",
    ),
    ("corrupt table", lambda d: (d / "centralised-seed1/monthly.parquet").write_bytes(b"PAR1xx"), "monthly.parquet"),
    ("empty table file", lambda d: (d / "centralised-seed1/monthly.parquet").write_bytes(b""), "monthly.parquet"),
    ("corrupt cohorts", lambda d: (d / "centralised-seed1/cohorts.parquet").write_bytes(b"x"), "cohorts.parquet"),
    # Tables the model never writes: analysing them would give silently wrong numbers.
    ("NaN in a table", _edit_table(lambda df: df.assign(unemployed=np.nan)), "monthly.parquet"),
    ("negative head count", _edit_table(lambda df: df.assign(employed=-df["employed"])), "monthly.parquet"),
    ("a table with no rows", _edit_table(lambda df: df.iloc[:0]), "monthly.parquet"),
    ("a month missing", _edit_table(lambda df: df[df["month"] != 2]), "monthly.parquet"),
]


@pytest.mark.parametrize("command", ["compare", "claims", "report"])
def test_a_folder_that_is_not_a_results_folder(capsys, tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("hello", encoding="utf-8")
    for folder, fragment in (
        (empty, "not a results folder"),
        (a_file, "not a results folder"),
        (tmp_path / "nope", "no such folder"),
    ):
        cli_error(capsys, [command, str(folder), "--out", str(tmp_path / "o")], folder, "", fragment)


@pytest.mark.parametrize("command", ["compare", "claims", "report"])
@pytest.mark.parametrize(("what", "change", "culprit"), RESULTS_FAULTS)
def test_damaged_results_folders(capsys, tmp_path, good_results, command, what, change, culprit):
    folder = _copy(good_results, tmp_path / "res", change)
    bad = folder / "centralised-seed1" / culprit
    cli_error(capsys, [command, str(folder), "--out", str(tmp_path / "o")], bad, "")


@pytest.fixture(scope="module")
def good_experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished experiment folder (two arms, two seeds, testville, 2 months)."""
    from simulation.executors import LocalExecutor
    from simulation.experiment import run_experiment

    spec = tmp_path_factory.mktemp("spec") / "spec.toml"
    spec.write_text(edit(SPEC, "[sweep]\nmatching_alpha = [0.5, 0.6]\n", ""), encoding="utf-8")
    out = tmp_path_factory.mktemp("experiment") / "out"
    assert run_experiment(load_experiment(spec), out, LocalExecutor(1)).exit_code == 0
    return out


def _rewrite_json(path: Path, **changes: object) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), **changes}), encoding="utf-8")


EXPERIMENT_FAULTS: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "corrupt run manifest",
        lambda d: (d / "runs/scenario=coop/seed=1.json").write_text("{"),
        "runs/scenario=coop/seed=1.json",
    ),
    (
        "seed unlike its name",
        lambda d: _rewrite_json(d / "runs/scenario=coop/seed=1.json", seed=7),
        "runs/scenario=coop/seed=1.json",
    ),
    (
        "seed not a number",
        lambda d: _rewrite_json(d / "runs/scenario=coop/seed=1.json", seed="1"),
        "runs/scenario=coop/seed=1.json",
    ),
    ("corrupt experiment manifest", lambda d: (d / "manifest.json").write_text("{"), "manifest.json"),
    ("experiment manifest a list", lambda d: (d / "manifest.json").write_text("[]"), "manifest.json"),
    (
        "corrupt table",
        lambda d: (d / "monthly/scenario=coop/seed=2.parquet").write_bytes(b"PAR1"),
        "monthly/scenario=coop/seed=2.parquet",
    ),
]


@pytest.mark.parametrize("command", ["compare", "claims", "report"])
@pytest.mark.parametrize(("what", "change", "culprit"), EXPERIMENT_FAULTS)
def test_damaged_experiment_folders(capsys, tmp_path, good_experiment, command, what, change, culprit):
    folder = _copy(good_experiment, tmp_path / "exp", change)
    argv = [command, str(folder), "--out", str(tmp_path / "o")] + (
        ["--baseline", "base"] if command != "claims" else []
    )
    cli_error(capsys, argv, folder / culprit, "")


def test_a_folder_with_one_arm_or_only_the_baseline_chosen(capsys, tmp_path, good_results):
    one = tmp_path / "one"
    one.mkdir()
    for seed in (1, 2):
        shutil.copytree(good_results / f"no_programme-seed{seed}", one / f"no_programme-seed{seed}")
    for command in ("compare", "report"):
        cli_error(capsys, [command, str(one), "--out", str(tmp_path / "o")], one, "", "only one arm", "no_programme")
    cli_error(capsys, ["compare", str(good_results), "--regimes", "no_programme"], "command line", "--regimes")


def test_unfinished_runs_are_left_out_not_read(capsys, tmp_path, good_results):
    """A run folder without its manifest (killed before it finished) is not a result."""
    folder = _copy(good_results, tmp_path / "res", lambda d: (d / "centralised-seed2" / "manifest.json").unlink())
    res = results_io.load_results(folder)
    assert sorted(r.name for r in res.runs) == sorted(
        f"{r}-seed{s}"
        for r in ("no_programme", "centralised", "cooperative")
        for s in (1, 2)
        if (r, s) != ("centralised", 2)
    )


# --------------------------------------------------------------- property: mutated files
KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$")
ODD_VALUES = st.one_of(
    st.sampled_from(['"x"', '""', "-1", "0", "-0.5", "nan", "-inf", "inf", "1e308", "-1e308", "true", "[]", "{}"]),
    st.sampled_from(["99999999999999999999", "1979-05-27", '"0.5"', "[1, 2]", "0.0", "1", "1.0", "2", "[nan]"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(2**70), 2**70).map(str),
)


@st.composite
def mutated(draw: st.DrawFn, text: str, max_edits: int = 3, bytes_too: bool = True) -> bytes:
    """One to `max_edits` edits: of a `key = value` line (drop, odd value, rename, duplicate, cut
    short), of a table header (renamed, dropped), or of the bytes (a non-UTF-8 byte, a NUL, a cut)."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, max_edits))):
        keyed = [i for i, ln in enumerate(lines) if KEY_LINE.match(ln) and not ln.lstrip().startswith("#")]
        headers = [i for i, ln in enumerate(lines) if ln.startswith("[")]
        kind = draw(st.sampled_from(["drop", "value", "value", "rename", "duplicate", "garble", "header"]))
        if kind == "header" and headers:
            i = draw(st.sampled_from(headers))
            lines[i] = draw(st.sampled_from(["", lines[i].replace("]", "x]", 1), lines[i].replace("[", "[[", 1) + "]"]))
            continue
        if not keyed:
            break
        i = draw(st.sampled_from(keyed))
        indent, key, eq, value = KEY_LINE.match(lines[i]).groups()
        if kind == "drop":
            del lines[i]
        elif kind == "value":
            lines[i] = f"{indent}{key}{eq}{draw(ODD_VALUES)}"
        elif kind == "rename":
            new_key = draw(st.sampled_from([key + "s", key[:-1] or "k", key.upper(), "x_" + key, key.replace("_", "")]))
            lines[i] = f"{indent}{new_key}{eq}{value}"
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    byte_edit = draw(st.sampled_from(["none", "none", "none", "latin1", "nul", "cut"])) if bytes_too else "none"
    at = draw(st.integers(0, len(raw)))
    if byte_edit == "latin1":
        raw = raw[:at] + b"\xe9" + raw[at:]
    elif byte_edit == "nul":
        raw = raw[:at] + b"\x00" + raw[at:]
    elif byte_edit == "cut":
        raw = raw[:at]
    return raw


def loads_or_fails_one_line(loader: Callable[[Path], object], raw: bytes, name: str) -> object | None:
    """Load the mutated file: it loads, or raises a one-line ConfigError naming it (and nothing else)."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{name}.toml"
        path.write_bytes(raw)
        try:
            return loader(path)
        except ConfigError as e:
            assert e.path == str(path) or str(e).startswith(str(path)), str(e)
            assert_exactly_one_line(str(e), path)
            return None


MUTATIONS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(raw=mutated(CALIBRATION))
@MUTATIONS
def test_mutated_calibration_loads_or_fails_in_one_line(raw):
    loads_or_fails_one_line(load_calibration, raw, "calibration")


@given(raw=mutated(FITTED))
@MUTATIONS
def test_mutated_fitted_parameter_file_loads_or_fails_in_one_line(raw):
    loads_or_fails_one_line(load_calibration, raw, "fitted")


@given(raw=mutated(SPEC))
@MUTATIONS
def test_mutated_experiment_spec_loads_or_fails_in_one_line(raw):
    loads_or_fails_one_line(load_experiment, raw, "spec")


@given(raw=mutated(CLAIMS))
@MUTATIONS
def test_mutated_claims_registry_loads_or_fails_in_one_line(raw):
    loads_or_fails_one_line(load_registry, raw, "claims")


@given(raw=mutated(TARGETS))
@MUTATIONS
def test_mutated_targets_load_or_fail_in_one_line(raw):
    loads_or_fails_one_line(load_targets, raw, "targets")


@given(raw=mutated(PLACE))
@MUTATIONS
def test_mutated_place_loads_or_fails_in_one_line(raw):
    loads_or_fails_one_line(lambda p: load_place(str(p)), raw, "place")


@given(raw=mutated(REGIME))
@MUTATIONS
def test_mutated_regime_loads_or_fails_in_one_line(raw):
    loads_or_fails_one_line(lambda p: load_regime(str(p)), raw, "regime")


# Through the command line: a mutated file either runs (and its results are sound) or exits 2 with
# one line naming it; never a traceback, never another status.
CLI_MUTATIONS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run_mutated(capsys: pytest.CaptureFixture[str], option: str, raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "mutated.toml"
        path.write_bytes(raw)
        base = {"--place": "testville", "--regime": "cooperative"}
        args = ["run", *(x for k, v in base.items() for x in (k, str(path) if k == option else v))]
        if option == "--calibration":
            args += ["--calibration", str(path)]
        code = cli.main([*args, *RUN, "--out", str(Path(d) / "out")])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if code == 0:
            df = pd.read_parquet(Path(d) / "out" / "monthly.parquet")
            numeric = df.select_dtypes("number").to_numpy(dtype=float)
            assert np.isfinite(numeric).all()
            assert (df[["population", "employed", "unemployed", "inactive"]] >= 0).all().all()
            return
        assert code == 2, (code, err)
        lines = err.strip("\n").splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"labourlab: error: {path}: "), err


@pytest.mark.parametrize(
    ("option", "text"),
    [("--place", PLACE), ("--regime", REGIME), ("--calibration", CALIBRATION), ("--calibration", FITTED)],
    ids=["place", "regime", "calibration", "fitted"],
)
def test_mutated_files_through_the_command_line_run_or_exit_2(capsys, option, text):
    @given(raw=mutated(text, max_edits=1, bytes_too=False))  # one edit: more of them load, and run
    @CLI_MUTATIONS
    def check(raw: bytes) -> None:
        _run_mutated(capsys, option, raw)

    check()


# Results folders: a run manifest with one value changed or dropped (anywhere in it) is read, or
# refused in one line naming it; compare, claims and report never fail with a traceback.
def _json_paths(obj: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _json_paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:2]):
            out += _json_paths(v, (*prefix, i))
    return out


ODD_JSON = st.sampled_from([None, "x", -1, 0, 1e308, [], {}, True, 2**70, "nan", 3.5])


def test_mutated_run_manifests_are_read_or_refused_in_one_line(capsys, good_results):
    manifest = json.loads((good_results / "cooperative-seed1" / "manifest.json").read_text(encoding="utf-8"))

    @given(
        where=st.sampled_from(_json_paths(manifest)),
        value=ODD_JSON,
        drop=st.booleans(),
        command=st.sampled_from(["compare", "claims", "report"]),
    )
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # report is slow
    def check(where: tuple, value: object, drop: bool, command: str) -> None:
        changed = json.loads(json.dumps(manifest))
        node = changed
        for key in where[:-1]:
            node = node[key]
        if drop and isinstance(node, dict):
            del node[where[-1]]
        else:
            node[where[-1]] = value
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d) / "res"
            shutil.copytree(good_results, folder)
            path = folder / "cooperative-seed1" / "manifest.json"
            path.write_text(json.dumps(changed), encoding="utf-8")
            code = cli.main([command, str(folder), "--out", str(Path(d) / "out")])
            err = capsys.readouterr().err
            assert "Traceback" not in err
            assert code in (0, 2), err
            if code == 2:
                lines = err.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("labourlab: error: "), err

    check()
