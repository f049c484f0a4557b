"""The config API (`simulation.config`): places, regimes, calibration and overrides.

Good files load; every bad one raises one clear ConfigError, a one-line message naming the file,
the field and what was expected. These tests call the loaders directly and pin the wording:
nearest-name suggestions, which field is named, missing and inconsistent values, lever and
parameter overrides. `test_input_files.py` sends one fault of each kind, for every kind of input
file, through the command line (one line on stderr, exit 2), and holds the property tests that
mutate place, regime and other files at random; `test_command_line.py` covers the options.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from simulation.config import (
    CONFIGS,
    GROUPS,
    ConfigError,
    available,
    load_calibration,
    load_place,
    load_regime,
    make_scenario,
)
from simulation.parameters import PARAMETERS

# sep_rate_eu's record as shipped (a fitted value, so read, not written here): the faults below edit it.
SEP = f"value = {load_calibration().sep_rate_eu!r}"


def one_line_error(exc: pytest.ExceptionInfo[ConfigError], path: Path | str, *fragments: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and "\r" not in msg, msg
    assert str(path) in msg, msg
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"
    return msg


# ------------------------------------------------------------------------------ good inputs
def test_every_shipped_config_loads_and_combines():
    places, regimes = available("places"), available("regimes")
    assert {"testville", "southampton", "stevenage"} <= set(places)
    # The three arms of the comparison ship; further regimes (examples) are just more files.
    assert {"centralised", "cooperative", "no_programme"} <= set(regimes)
    params = load_calibration()
    assert set(params.as_dict()) == set(PARAMETERS)
    for place in places:
        assert load_place(place).districts
    for regime in regimes:
        assert load_regime(regime).name == regime
    for place in places:
        for regime in regimes:
            sc = make_scenario(place, regime, months=2, burn_in=0)
            assert sc.place.name == place and sc.regime.name == regime


def test_every_calibration_value_lies_in_its_range_and_domain():
    params = load_calibration()
    for name, rec in params.records.items():
        lo, hi = PARAMETERS[name].domain
        assert rec.low <= rec.value <= rec.high, name
        assert lo <= rec.low and rec.high <= hi, name
        assert rec.source.strip(), name
        if rec.assumption:
            assert rec.source.lower().startswith("assumption"), name


def test_place_and_regime_accept_paths(shipped, write_toml):
    place = write_toml("myplace", shipped("places", "testville"))
    regime = write_toml("myregime", shipped("regimes", "cooperative"))
    assert load_place(str(place)).name == "testville"
    levers = load_regime(str(regime)).levers
    assert levers.groups.jsa_25_plus.referral_month == 3
    assert levers.groups.esa_ex_ib.referral_share == 0.2


def test_integer_where_a_float_is_expected_is_fine(shipped, mutate, write_toml):
    path = write_toml(
        "p", mutate(shipped("places", "testville"), "construction_value_m = 7.1", "construction_value_m = 7")
    )
    assert load_place(str(path)).districts[0].construction_value_m == 7.0


# ------------------------------------------------------------------------------- bad places
def test_missing_place_by_name_suggests_the_nearest():
    with pytest.raises(ConfigError) as e:
        load_place("testvile")
    one_line_error(e, CONFIGS / "places" / "testvile.toml", "no such place", "did you mean 'testville'", "known:")


def test_missing_place_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "file not found")


def test_directory_instead_of_a_file(tmp_path):
    path = tmp_path / "dir.toml"
    path.mkdir()
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "directory")


def test_toml_syntax_error_names_the_line(shipped, mutate, write_toml):
    text = mutate(shipped("places", "testville"), "businesses = 170", "businesses 170")
    line = text.splitlines().index("businesses 170") + 1
    path = write_toml("syntax", text)
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "TOML syntax error", f"line {line}")


def test_non_utf8_file(shipped, write_toml):
    raw = shipped("places", "testville").encode("utf-8").replace(b"Northtown", b"North\xfftown", 1)
    path = write_toml("latin", raw)
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "UTF-8")


def test_unknown_key_in_a_district_suggests_the_nearest(shipped, mutate, write_toml):
    text = mutate(
        shipped("places", "testville"),
        "unemployment_rate = 0.060",
        "unemployment_rate = 0.060\nunemploymnt_rate = 0.06",
    )
    path = write_toml("extra", text)
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "districts[0].unemploymnt_rate", "unknown key", "did you mean 'unemployment_rate'")


def test_misspelt_key_in_a_district_is_reported_as_unknown_with_the_nearest(shipped, mutate, write_toml):
    text = mutate(shipped("places", "testville"), "unemployment_rate = 0.048", "unemploymnt_rate = 0.048")
    path = write_toml("renamed", text)
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "districts[1].unemploymnt_rate", "did you mean 'unemployment_rate'")


def test_wrong_type_string_for_a_number(shipped, mutate, write_toml):
    text = mutate(shipped("places", "testville"), "employment_rate = 0.730", 'employment_rate = "0.730"')
    path = write_toml("type", text)
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "districts[0].employment_rate", "number", "'0.730'")


def test_value_out_of_range(shipped, mutate, write_toml):
    path = write_toml(
        "range", mutate(shipped("places", "testville"), "employment_rate = 0.730", "employment_rate = 1.5")
    )
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "districts[0].employment_rate", "1.5")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("working_age_pop = 3000", "working_age_pop = -3000", "districts[0].working_age_pop"),
        ("construction_value_m = 7.1", "construction_value_m = nan", "districts[0].construction_value_m"),
        ("construction_value_m = 7.1", "construction_value_m = inf", "districts[0].construction_value_m"),
        ("businesses = 170", "businesses = 170.5", "districts[0].businesses"),
        ("people_per_agent = 1", "people_per_agent = 0.5", "people_per_agent"),
        ('code = "T00000002"', 'code = "T00000001"', "duplicate district code"),
    ],
)
def test_bad_place_values(shipped, mutate, write_toml, old, new, field):
    path = write_toml("bad", mutate(shipped("places", "testville"), old, new))
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, field)


def test_inconsistent_rates_in_a_district(shipped, mutate, write_toml):
    path = write_toml(
        "rates", mutate(shipped("places", "testville"), "employment_rate = 0.730", "employment_rate = 0.600")
    )
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "districts[0]", "inconsistent")


def test_missing_required_key(shipped, mutate, write_toml):
    path = write_toml("missing", mutate(shipped("places", "testville"), "businesses = 90\n", ""))
    with pytest.raises(ConfigError) as e:
        load_place(str(path))
    one_line_error(e, path, "districts[2].businesses", "missing")


# ------------------------------------------------------------------------------ bad regimes
def test_missing_regime_by_name_suggests_the_nearest():
    with pytest.raises(ConfigError) as e:
        load_regime("centralisd")
    one_line_error(e, CONFIGS / "regimes" / "centralisd.toml", "no such regime", "did you mean 'centralised'")


def test_lever_that_does_not_exist_suggests_the_nearest(shipped, mutate, write_toml):
    # A group lever misspelt inside its group's table (the first "referral_month = 12" is jsa_25_plus's).
    text = mutate(shipped("regimes", "centralised"), "referral_month = 12", "referral_month = 12\nreferal_month = 3")
    path = write_toml("lever", text)
    with pytest.raises(ConfigError) as e:
        load_regime(str(path))
    one_line_error(e, path, "levers.groups.jsa_25_plus.referal_month", "unknown key", "did you mean 'referral_month'")


def test_misspelt_claimant_group_is_reported_with_the_nearest(shipped, mutate, write_toml):
    text = mutate(shipped("regimes", "centralised"), "[levers.groups.esa_new]", "[levers.groups.esa_neww]")
    path = write_toml("group", text)
    with pytest.raises(ConfigError) as e:
        load_regime(str(path))
    one_line_error(e, path, "levers.groups.esa_neww", "unknown key", "did you mean 'esa_new'")


def test_missing_claimant_group_is_reported(shipped, write_toml):
    text = shipped("regimes", "centralised")
    start = text.index("[levers.groups.jsa_ex_ib]")
    end = text.index("[levers.groups.", start + 1)
    path = write_toml("nogroup", text[:start] + text[end:])
    with pytest.raises(ConfigError) as e:
        load_regime(str(path))
    one_line_error(e, path, "levers.groups.jsa_ex_ib", "missing")


def test_misspelt_lever_is_reported_with_the_nearest(shipped, mutate, write_toml):
    path = write_toml("lever2", mutate(shipped("regimes", "centralised"), "caseload = 120", "caseloads = 120"))
    with pytest.raises(ConfigError) as e:
        load_regime(str(path))
    one_line_error(e, path, "levers.caseloads", "did you mean 'caseload'")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('effort_rule = "expected_payment"', 'effort_rule = "creaming"', "levers.effort_rule"),
        ("referral_share = 1.0", "referral_share = 1.5", "levers.groups.jsa_18_24.referral_share"),
        ("fee_job_outcome = 1000.0", "fee_job_outcome = -1000.0", "levers.groups.esa_new.fee_job_outcome"),
        ("outcome_months = 3", "outcome_months = 0", "levers.groups.esa_new.outcome_months"),
        ("integrated_help = false", "integrated_help = 0", "levers.integrated_help"),
        ("training_take_up = 0.10", "training_take_up = 1.10", "levers.training_take_up"),
        ('partnership_payer = "exchequer"', 'partnership_payer = "employers"', "levers.partnership_payer"),
        ("caseload = 120", 'caseload = "many"', "levers.caseload"),
        ("brokerage = false", 'brokerage = "no"', "levers.brokerage"),
        ('provider_payer = "exchequer"', 'provider_payer = "lottery"', "levers.provider_payer"),
        ("referral_month = 12", "referral_month = 12.5", "levers.groups.jsa_25_plus.referral_month"),
    ],
)
def test_bad_lever_values(shipped, mutate, write_toml, old, new, field):
    path = write_toml("badlever", mutate(shipped("regimes", "centralised"), old, new))
    with pytest.raises(ConfigError) as e:
        load_regime(str(path))
    one_line_error(e, path, field)


def test_lever_overrides_are_checked():
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", lever_overrides={"referal_month": 3})
    one_line_error(e, "lever overrides", "referal_month", "did you mean 'referral_month'")
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", lever_overrides={"caseloads": 3})
    one_line_error(e, "lever overrides", "caseloads", "did you mean 'caseload'")
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", lever_overrides={"groups.esa_neww.referral_month": 3})
    one_line_error(e, "lever overrides", "groups.esa_neww.referral_month", "did you mean 'esa_new'")
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", lever_overrides={"groups.esa_new.referal_month": 3})
    one_line_error(e, "lever overrides", "groups.esa_new.referal_month", "did you mean 'referral_month'")
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", lever_overrides={"referral_share": 2.0})
    one_line_error(e, "lever overrides", "levers.groups.jsa_18_24.referral_share")
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", lever_overrides={"groups.esa_new.referral_month": 2.5})
    one_line_error(e, "lever overrides", "levers.groups.esa_new.referral_month")
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", lever_overrides={"caseload": 0})
    one_line_error(e, "lever overrides", "levers.caseload")


def test_lever_overrides_reach_every_group_or_one():
    base = make_scenario("testville", "centralised").regime.levers
    # A group lever without a group sets it for every group.
    every = make_scenario("testville", "centralised", lever_overrides={"referral_month": 3}).regime.levers
    assert [g.referral_month for g in every.groups.by_index()] == [3] * len(GROUPS)
    # A dotted key sets one group's lever and nothing else.
    one = make_scenario("testville", "centralised", lever_overrides={"groups.esa_new.referral_month": 5}).regime.levers
    assert one.groups.esa_new.referral_month == 5
    expected = base.model_dump()
    expected["groups"]["esa_new"]["referral_month"] = 5
    assert one.model_dump() == expected
    # Top-level levers by name; overrides apply in order, so a later one-group key wins.
    both = make_scenario(
        "testville",
        "centralised",
        lever_overrides={"caseload": 40, "fee_job_outcome": 0.0, "groups.esa_ex_ib.fee_job_outcome": 99.0},
    ).regime.levers
    assert both.caseload == 40
    assert [g.fee_job_outcome for g in both.groups.by_index()] == [0.0, 0.0, 0.0, 0.0, 99.0, 0.0, 0.0]
    # The shipped files are untouched by overrides.
    assert load_regime("centralised").levers == base


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"nosuchparam": 1.0}, "unknown parameter"),
        ({"sep_rate_eu": 2.0}, "expected a value in [0.0, 1.0]"),
        ({"sep_rate_eu": math.nan}, "finite"),
        ({"sep_rate_eu": True}, "finite"),
        ({"matching_alpha": 1.0}, "expected a value in [0.05, 0.95]"),
    ],
)
def test_parameter_overrides_are_checked(overrides, fragment):
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", overrides=overrides)
    one_line_error(e, "overrides", next(iter(overrides)), fragment)


@pytest.mark.parametrize(("months", "burn_in"), [(5000, 6), (12, 1000)])
def test_out_of_range_horizons_are_config_errors(months, burn_in):
    """Any bad input raises ConfigError (config.py's contract), including the horizon."""
    with pytest.raises(ConfigError) as e:
        make_scenario("testville", "centralised", months=months, burn_in=burn_in)
    assert "\n" not in str(e.value)


# -------------------------------------------------------------------------- bad calibration
def _calibration_error(write_toml, text: str) -> tuple[pytest.ExceptionInfo[ConfigError], Path]:
    path = write_toml("calibration", text)
    with pytest.raises(ConfigError) as e:
        load_calibration(path)
    return e, path


def test_calibration_low_above_high(shipped, mutate, write_toml):
    e, path = _calibration_error(
        write_toml, mutate(shipped("", "calibration"), "low = 0.0035\nhigh = 0.006", "low = 0.007\nhigh = 0.006")
    )
    one_line_error(e, path, "params.sep_rate_eu", "low 0.007 > high 0.006")


def test_calibration_value_outside_its_range(shipped, mutate, write_toml):
    e, path = _calibration_error(write_toml, mutate(shipped("", "calibration"), SEP, "value = 0.0099"))
    one_line_error(e, path, "params.sep_rate_eu", "outside its range")


def test_calibration_range_outside_the_hard_domain(shipped, mutate, write_toml):
    text = mutate(
        shipped("", "calibration"),
        SEP + '\nunit = "probability per month"\nlow = 0.0035\nhigh = 0.006',
        SEP + '\nunit = "probability per month"\nlow = 0.0035\nhigh = 1.5',
    )
    e, path = _calibration_error(write_toml, text)
    one_line_error(e, path, "params.sep_rate_eu.high", "[0.0, 1.0]")


def test_calibration_unknown_parameter_suggests_the_nearest(shipped, mutate, write_toml):
    e, path = _calibration_error(
        write_toml, mutate(shipped("", "calibration"), "[params.sep_rate_eu]", "[params.sep_rate_euu]")
    )
    one_line_error(e, path, "params.sep_rate_euu", "unknown parameter", "did you mean 'sep_rate_eu'")


def test_calibration_missing_parameter(shipped, write_toml):
    text = shipped("", "calibration")
    start = text.index("[params.sep_rate_ei]")
    end = text.index("[params.", start + 1)
    e, path = _calibration_error(write_toml, text[:start] + text[end:])
    one_line_error(e, path, "params.sep_rate_ei", "missing")


def test_calibration_assumption_needs_its_reasons(shipped, mutate, write_toml):
    text = shipped("", "calibration")
    start = text.index("[params.sep_rate_ei]")
    block = text[start : text.index("[params.", start + 1)]
    bad = re.sub(r'source = "Assumption:', 'source = "LFS:', block, count=1)
    assert bad != block
    e, path = _calibration_error(write_toml, text.replace(block, bad))
    one_line_error(e, path, "params.sep_rate_ei", "Assumption:")


def test_calibration_wrong_type(shipped, mutate, write_toml):
    e, path = _calibration_error(write_toml, mutate(shipped("", "calibration"), SEP, 'value = "0.0047"'))
    one_line_error(e, path, "params.sep_rate_eu.value", "'0.0047'")


def test_calibration_unknown_key_in_a_record_suggests_the_nearest(shipped, mutate, write_toml):
    """As for places and regimes, a misspelt key inside a record gets the nearest name."""
    e, path = _calibration_error(write_toml, mutate(shipped("", "calibration"), SEP, SEP + "\nvalu = 1"))
    one_line_error(e, path, "params.sep_rate_eu.valu", "did you mean 'value'")


def test_construction_output_beyond_the_pipeline_is_one_line(shipped, mutate, write_toml):
    """A district whose construction output would start more schemes a month than the pipeline's
    slots hold is refused when the scenario is made, naming the file and the field (a fuzzed
    place file found the traceback this replaced)."""
    from simulation.config import load_calibration
    from simulation.mechanisms import developers

    too_much = developers.largest_construction_value_m(load_calibration()) + 1.0
    path = write_toml(
        "p", mutate(shipped("places", "testville"), "construction_value_m = 4.7", f"construction_value_m = {too_much}")
    )
    with pytest.raises(ConfigError) as exc:
        make_scenario(str(path), "centralised", burn_in=1, months=1)
    one_line_error(exc, path, "districts[1].construction_value_m", "expected at most")
