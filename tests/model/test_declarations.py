"""Contracts between what mechanisms declare (`simulation.declare`) and the rest of LabourLab.

Every shipped calibration file loads; every declared parameter and lever is read by some code;
every ledger category has a purpose, and public money has a public side; the results hold
exactly the declared columns, and the people and firm arrays exactly the declared fields.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from simulation.config import CONFIGS, load_calibration, load_regime
from simulation.declare import PURPOSE, Mechanism, Output, Posting, probability
from simulation.firms import Firms
from simulation.ledger import PUBLIC_ACCOUNTS
from simulation.model import LabourMarketModel
from simulation.people import People
from simulation.registry import MECHANISMS, REGISTRY, build

SOURCE = Path(__file__).resolve().parents[2] / "simulation"
PUBLIC = set(PUBLIC_ACCOUNTS)


@pytest.fixture(scope="module")
def model() -> LabourMarketModel:
    m = LabourMarketModel(place="testville", regime="cooperative", seed=1, months=3, burn_in=2, agent_views=False)
    while m.running:
        m.step()
    return m


def _attributes_read() -> set[str]:
    """Every attribute name the package's code reads (`params.x`, `levers.x`, `group.x`)."""
    names: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
    return names


def test_every_shipped_calibration_file_loads_with_exactly_the_declared_parameters() -> None:
    files = [CONFIGS / "calibration.toml", *sorted((CONFIGS / "calibrated").glob("*.toml"))]
    assert len(files) >= 2
    for path in files:
        assert set(load_calibration(path).values) == set(REGISTRY.parameters), path


def test_every_shipped_regime_validates_against_the_declared_levers() -> None:
    for path in sorted((CONFIGS / "regimes").glob("*.toml")):
        assert set(load_regime(str(path)).levers.model_dump()) == set(REGISTRY.lever_owner)


def test_every_parameter_and_lever_is_read_by_some_code() -> None:
    read = _attributes_read()
    unread = [n for n in (*REGISTRY.parameters, *REGISTRY.lever_owner) if n not in read]
    assert unread == [], f"declared but never read: {unread}"


def test_every_ledger_category_has_a_purpose_and_public_money_a_public_side() -> None:
    assert set(REGISTRY.purpose_of) == set(REGISTRY.categories)
    for category, (payer, payee) in REGISTRY.categories.items():
        purpose = PURPOSE[REGISTRY.purpose_of[category]]
        if purpose.public > 0:
            assert payer in PUBLIC and payee not in PUBLIC, category
        elif purpose.public < 0:
            assert payee in PUBLIC and payer not in PUBLIC, category
        else:
            assert payer not in PUBLIC, f"{category}: public money must have a public purpose"


def test_the_results_hold_exactly_the_declared_columns(model: LabourMarketModel) -> None:
    frame = model.results_frame()
    declared = [o.name for o in REGISTRY.outputs]
    assert [c for c in frame.columns if c not in ("district_name", "district_code", "market")] == declared
    for mechanism in REGISTRY.mechanisms:
        if mechanism.report is not None:
            assert set(mechanism.report(model)) == {o.name for o in mechanism.outputs}, mechanism.name
        else:
            assert mechanism.outputs == (), f"{mechanism.name} declares outputs but cannot report them"


def test_people_and_firms_hold_exactly_the_declared_fields(model: LabourMarketModel) -> None:
    for table, cls, kind in ((model.people, People, "person_fields"), (model.firms, Firms, "firm_fields")):
        declared = {c.name: c.dtype for m in MECHANISMS for c in getattr(m, kind)}
        names = {f.name for f in dataclasses.fields(cls) if f.type == "np.ndarray"} | set(getattr(table, "more", {}))
        assert names == set(declared), kind
        for name, dtype in declared.items():
            assert str(getattr(table, name).dtype) == dtype, f"{kind}: {name}"


def test_public_cost_is_the_sum_of_the_public_postings(model: LabourMarketModel) -> None:
    frame = model.results_frame()
    signed = {"employment_support": 1, "business_support": 1, "benefits": 1, "tax": -1, "sanctions": -1}
    want = sum(signed.get(REGISTRY.purpose_of[c], 0) * frame[c] for c in REGISTRY.categories)
    assert (abs(frame["public_cost"] - want) <= 1e-6 * (1 + abs(want))).all()
    esc = sum(frame[c] for c, p in REGISTRY.purpose_of.items() if p == "employment_support")
    assert (abs(frame["employment_support_cost"] - esc) <= 1e-6 * (1 + esc)).all()


def test_a_name_declared_twice_or_a_posting_without_a_known_purpose_is_refused() -> None:
    twin = Mechanism("twin", "", parameters={"sep_rate_eu": probability()})
    with pytest.raises(TypeError, match=r"sep_rate_eu.*separations and twin"):
        build((*MECHANISMS, twin))
    odd = Mechanism("odd", "", postings={"gift": Posting("exchequer", "households", "charity", "")})
    with pytest.raises(TypeError, match="unknown purpose 'charity'"):
        build((*MECHANISMS, odd))
    clash = Mechanism("clash", "", outputs=(Output("employed", ""),))
    with pytest.raises(TypeError, match="output column 'employed'"):
        build((*MECHANISMS, clash))
