"""Shared fixtures: small scenarios on testville, temporary TOML files, small People arrays.

Everything runs on the synthetic place `testville` (6,500 people, two travel-to-work markets:
Northtown and Northvale share "north", Southby is alone in "south") with short horizons, so a
whole run takes a fraction of a second. Fixtures used by hypothesis tests are session-scoped.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulation.config import CONFIGS, Levers, Params, Scenario, load_calibration, make_scenario, set_lever
from simulation.model import LabourMarketModel
from simulation.people import (
    EMPLOYED,
    JSA,
    JSA_18_24,
    JSA_25_PLUS,
    NO_BENEFIT,
    NO_EMPLOYER,
    NO_GROUP,
    NO_PROGRAMME,
    NOT_ELIGIBLE,
    UNEMPLOYED,
    People,
)

PLACE = "testville"
MONTHS = 12
BURN_IN = 6
SHIPPED_TAKE_UP = load_calibration().claim_take_up  # make_people's chance of claiming, unless given


@pytest.fixture(scope="session")
def params() -> Params:
    """The shipped calibration."""
    return load_calibration()


@pytest.fixture(scope="session")
def small_schemes() -> dict[str, float]:
    """Parameter overrides under which testville's small construction output arrives as a few small
    schemes a month, nearly all eligible for an employment-and-skills plan and about half of them
    large, so that plans (brokered and unbrokered) come every month of a short run."""
    return {
        "dev_dwellings_mean": 2.0,
        "dev_floorspace_mean_m2": 200.0,
        "dev_infrastructure_mean_m": 0.5,
        "esp_threshold_dwellings": 1.0,
        "esp_threshold_floorspace_m2": 50.0,
        "esp_threshold_infrastructure_m": 0.05,
        "esp_large_scheme_m": 0.3,
    }


@pytest.fixture(scope="session")
def scenario() -> Callable[..., Scenario]:
    """scenario(regime, months=, burn_in=, overrides=, lever_overrides=) on testville."""

    def make(regime: str = "centralised", months: int = MONTHS, burn_in: int = BURN_IN, **kw: Any) -> Scenario:
        return make_scenario(PLACE, regime, months=months, burn_in=burn_in, **kw)

    return make


@pytest.fixture(scope="session")
def build_model(scenario: Callable[..., Scenario]) -> Callable[..., LabourMarketModel]:
    """A built (burnt-in, not yet stepped) model on testville with invariant checks on."""

    def build(
        regime: str = "centralised",
        seed: int = 1,
        months: int = MONTHS,
        burn_in: int = BURN_IN,
        agent_views: bool = False,
        check_invariants: bool = True,
        **kw: Any,
    ) -> LabourMarketModel:
        sc = scenario(regime, months=months, burn_in=burn_in, **kw)
        return LabourMarketModel(config=sc, seed=seed, agent_views=agent_views, check_invariants=check_invariants)

    return build


@pytest.fixture(scope="session")
def run_model(build_model: Callable[..., LabourMarketModel]) -> Callable[..., LabourMarketModel]:
    """Build a model, optionally adjust it (`setup(model)`), run every month calling `on_step(model)`."""

    def run(
        regime: str = "centralised",
        seed: int = 1,
        setup: Callable[[LabourMarketModel], None] | None = None,
        on_step: Callable[[LabourMarketModel], None] | None = None,
        **kw: Any,
    ) -> LabourMarketModel:
        model = build_model(regime, seed, **kw)
        if setup is not None:
            setup(model)
        steps = 0
        while model.running:
            model.step()
            steps += 1
            if on_step is not None:
                on_step(model)
        assert steps == model.months
        return model

    return run


def config_text(kind: str, name: str) -> str:
    """The text of a shipped config file: kind is "places", "regimes" or "" (calibration)."""
    path = CONFIGS / kind / f"{name}.toml" if kind else CONFIGS / f"{name}.toml"
    return path.read_text(encoding="utf-8")


def replace_once(text: str, old: str, new: str) -> str:
    """Replace the first `old`; fail loudly if the shipped file no longer contains it."""
    assert old in text, f"fixture text not found in config: {old!r}"
    return text.replace(old, new, 1)


@pytest.fixture(scope="session")
def shipped() -> Callable[[str, str], str]:
    return config_text


@pytest.fixture(scope="session")
def mutate() -> Callable[[str, str, str], str]:
    return replace_once


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """write_toml(name, text_or_bytes) -> path of tmp_path/name.toml."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / f"{name}.toml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m simulation.cli ARGS` in a subprocess (from /tmp, so relative paths are not resolved)."""

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "simulation.cli", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/tmp",
        )

    return run


def make_people(n: int, **fields: Any) -> People:
    """A People struct of n rows in district 0: unemployed non-claimants with typical traits unless given.

    Every field of People must be listed here with its dtype and "nothing happened yet" value (a
    new field fails loudly rather than defaulting to something meaningful, such as eligible_month 0).
    If `benefit` is given and `group` is not, JSA claimants get the group their age implies. If
    `months_out` is not given, people out of work have been out for their months in status (a
    spell with nothing before it to link), the employed for none. Employability is 1 (the mean)
    and the chance of claiming the shipped take-up rate unless given.
    """
    arrays: dict[str, np.ndarray] = {
        "district": np.zeros(n, dtype=np.int16),
        "status": np.full(n, UNEMPLOYED, dtype=np.int8),
        "months_in_status": np.zeros(n, dtype=np.int16),
        "months_out": np.zeros(n, dtype=np.int16),
        "skill": np.zeros(n, dtype=np.float32),
        "barrier": np.zeros(n, dtype=np.float32),
        "age": np.full(n, 30, dtype=np.int8),
        "birth_month": np.zeros(n, dtype=np.int8),
        "benefit": np.full(n, NO_BENEFIT, dtype=np.int8),
        "group": np.full(n, NO_GROUP, dtype=np.int8),
        "complex_needs": np.zeros(n, dtype=bool),
        "programme": np.full(n, NO_PROGRAMME, dtype=np.int16),
        "months_in_programme": np.zeros(n, dtype=np.int16),
        "ever_referred": np.zeros(n, dtype=bool),
        "work_months": np.zeros(n, dtype=np.int16),
        "outcome_paid": np.zeros(n, dtype=bool),
        "sustain_paid": np.zeros(n, dtype=np.int16),
        "support_hours": np.zeros(n, dtype=np.float32),
        "eligible_month": np.full(n, NOT_ELIGIBLE, dtype=np.int16),
        "eligible_group": np.full(n, NO_GROUP, dtype=np.int8),
        "cohort_work": np.zeros(n, dtype=np.int16),
        "outcome_month": np.full(n, NOT_ELIGIBLE, dtype=np.int16),
        "placement_months": np.zeros(n, dtype=np.int8),
        "mentor_months": np.zeros(n, dtype=np.int8),
        "employer_contacts": np.zeros(n, dtype=bool),
        "fragile": np.zeros(n, dtype=bool),
        "employer": np.full(n, NO_EMPLOYER, dtype=np.int32),
        "wage": np.zeros(n, dtype=np.float32),
        "employability": np.ones(n, dtype=np.float32),
        "claim_propensity": np.full(n, SHIPPED_TAKE_UP, dtype=np.float32),
        "health_condition": np.zeros(n, dtype=bool),
        "sanction_months": np.zeros(n, dtype=np.int8),
    }
    names = [f.name for f in dataclasses.fields(People)]
    assert sorted(names) == sorted(arrays), "People gained or lost a field: update make_people"
    for k, v in fields.items():
        assert k in arrays, k
        arrays[k] = np.broadcast_to(np.asarray(v, dtype=arrays[k].dtype), (n,)).copy()
    if "months_out" not in fields:
        arrays["months_out"] = np.where(arrays["status"] != EMPLOYED, arrays["months_in_status"], 0).astype(np.int16)
    if "benefit" in fields and "group" not in fields:
        jsa = arrays["benefit"] == JSA
        arrays["group"] = np.where(jsa, np.where(arrays["age"] < 25, JSA_18_24, JSA_25_PLUS), arrays["group"]).astype(
            np.int8
        )
    return People(**{k: arrays[k] for k in names})


def levers_with(levers: Levers, **updates: Any) -> Levers:
    """A validated copy of `levers` with some changed, by the names lever overrides use:
    `caseload=40`, a group lever for every group (`referral_share=0.5`), or one group's with
    `__` for the dots (`groups__esa_new__referral_month=5`)."""
    data = levers.model_dump()
    for key, value in updates.items():
        set_lever(data, key.replace("__", "."), value)
    return Levers.model_validate(data)


@pytest.fixture(scope="session")
def people_factory() -> Callable[..., People]:
    return make_people


@pytest.fixture(scope="session")
def with_levers() -> Callable[..., Levers]:
    return levers_with


@pytest.fixture(scope="session")
def month_totals() -> Callable[..., pd.DataFrame]:
    """month_totals(place, regime, months, columns, seed=1, burn_in=12, **make_scenario's keywords):
    a whole run's chosen columns summed over districts, by month (no agent views)."""

    def run(
        place: str, regime: str, months: int, columns: list[str], seed: int = 1, burn_in: int = 12, **kw: Any
    ) -> pd.DataFrame:
        sc = make_scenario(place, regime, months=months, burn_in=burn_in, **kw)
        m = LabourMarketModel(config=sc, seed=seed, agent_views=False)
        for _ in range(months):
            m.step()
        return m.results_frame().groupby("month")[columns].sum()

    return run
