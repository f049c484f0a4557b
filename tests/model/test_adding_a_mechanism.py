"""The worked example of docs/adding-a-mechanism.md: a childcare mechanism built from its declaration.

`docs/examples/childcare.py` is a whole mechanism module (parameters, a lever, an output, a ledger
posting with its purpose, and a stage). This test builds the registry with it, runs a place with
its stage in the month, and checks what the guide promises: its lever validates (and defaults to
off), its column is in the results, its money is public money for employment support, at zero it
changes nothing, and it does what its mechanism says (barriers fall where places are funded). It
also checks that the guide's code is the example's code.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pydantic
import pytest

from simulation.config import ParamRecord, Params, Scenario, make_scenario
from simulation.model import MONTH, LabourMarketModel, Stage
from simulation.registry import MECHANISMS, REGISTRY, Registry, build

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = DOCS / "examples" / "childcare.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("childcare_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


childcare = _load()
TOY: Registry = build((*MECHANISMS, childcare.MECHANISM))
STAGES = tuple(
    s
    for st in MONTH
    for s in ((Stage("childcare", childcare.run, None, policy_only=True), st) if st.name == "skills" else (st,))
)


def _record(value: float, low: float, high: float, unit: str) -> ParamRecord:
    return ParamRecord(
        value=value, unit=unit, low=low, high=high, source="Assumption: a toy for the guide", assumption=True
    )


def scenario(places: float) -> Scenario:
    base = make_scenario("testville", "cooperative", months=12, burn_in=4)
    levers = TOY.levers.model_validate({**base.regime.levers.model_dump(), "childcare_places_per_10k": places})
    records = {
        **base.params.records,
        "childcare_barrier_cut": _record(0.3, 0.1, 0.5, "share of barrier"),
        "childcare_cost_per_place": _record(400.0, 200.0, 800.0, "£ per place"),
    }
    return base.model_copy(
        update={"regime": base.regime.model_copy(update={"levers": levers}), "params": Params(records)}
    )


def run(sc: Scenario, registry: Registry = TOY, stages: tuple[Stage, ...] = STAGES) -> LabourMarketModel:
    m = LabourMarketModel(config=sc, seed=3, agent_views=False, registry=registry, stages=stages)
    while m.running:
        m.step()
    return m


@pytest.fixture(scope="module")
def funded() -> LabourMarketModel:
    return run(scenario(200.0))


def test_the_declaration_reaches_parameters_levers_ledger_and_outputs() -> None:
    assert TOY.parameters["childcare_barrier_cut"].domain == (0.0, 1.0)
    assert TOY.parameters["childcare_barrier_cut"].mechanism == "childcare"
    assert TOY.categories["childcare_subsidy"] == ("council", "economy")
    assert TOY.purpose_of["childcare_subsidy"] == "employment_support"
    assert "childcare_places" in [o.name for o in TOY.outputs]
    assert "childcare_barrier_cut" not in REGISTRY.parameters  # the package's own registry is untouched


def test_its_lever_is_validated_and_defaults_to_off() -> None:
    levers = make_scenario("testville", "centralised").regime.levers.model_dump()
    assert TOY.levers.model_validate(levers).childcare_places_per_10k == 0.0
    with pytest.raises(pydantic.ValidationError, match="childcare_places_per_10k"):
        TOY.levers.model_validate({**levers, "childcare_places_per_10k": -1.0})


def test_its_money_is_public_money_for_employment_support(funded: LabourMarketModel) -> None:
    frame = funded.results_frame()
    assert frame["childcare_places"].sum() > 0
    np.testing.assert_allclose(frame["childcare_subsidy"], frame["childcare_places"] * 400.0)
    others = [c for c, p in REGISTRY.purpose_of.items() if p == "employment_support"]
    np.testing.assert_allclose(
        frame["employment_support_cost"] - frame[others].sum(axis=1), frame["childcare_subsidy"], atol=1e-6
    )
    public = [c for c, p in TOY.purpose_of.items() if p in ("benefits", "employment_support", "business_support")]
    revenue = frame["tax_ni"] + frame["sanctions_withheld"]
    np.testing.assert_allclose(frame["public_cost"], frame[public].sum(axis=1) - revenue, rtol=1e-9)


def test_its_person_column_is_allocated_and_kept(funded: LabourMarketModel) -> None:
    places = funded.people.childcare_place
    assert places.dtype == np.bool_ and places.shape == (funded.people.n,)
    funded_rows = funded.results_frame()["childcare_places"].sum() / funded.ppa
    # Everyone placed is marked, less those who have since retired and left their row to a newcomer.
    assert 0 < places.sum() <= funded_rows


def test_at_zero_it_changes_nothing_and_funded_it_lowers_barriers(funded: LabourMarketModel) -> None:
    off = run(scenario(0.0))
    plain = run(make_scenario("testville", "cooperative", months=12, burn_in=4), REGISTRY, MONTH)
    pd.testing.assert_frame_equal(off.results_frame()[list(plain.results_frame().columns)], plain.results_frame())
    assert np.array_equal(off.people.barrier, plain.people.barrier)
    assert not off.people.childcare_place.any()
    assert funded.people.barrier.mean() < off.people.barrier.mean()


def test_the_guide_shows_the_examples_code() -> None:
    guide = (DOCS / "adding-a-mechanism.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.S)
    assert blocks, "the guide has no code"
    code = EXAMPLE.read_text(encoding="utf-8")
    for block in blocks:
        if block.lstrip().startswith("# not from the example"):
            continue
        assert block in code, f"the guide's code is not the example's:\n{block}"
