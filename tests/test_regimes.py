"""Regimes are data: files of levers that the code never asks about by name.

On common random numbers the regimes' levers move outcomes the way their mechanisms imply, and a
regime with every lever equal to another reproduces its run exactly.
"""

from __future__ import annotations

import ast
import re
import tomllib

import numpy as np
import pandas as pd
import pytest

from simulation.config import CONFIGS, ROOT, Levers, available, load_regime

SEEDS = (1, 2, 3)


def test_regime_files_hold_exactly_the_levers():
    fields = set(Levers.model_fields)
    for name in available("regimes"):
        data = tomllib.loads((CONFIGS / "regimes" / f"{name}.toml").read_text(encoding="utf-8"))
        assert set(data) <= {"name", "description", "levers"}, name
        assert set(data["levers"]) == fields, name
        assert data["name"] == name


def _regime_name_uses(source: str, label: str, names: list[str]) -> list[str]:
    """Places where a regime's name is used as data the code acts on.

    A name may appear in docstrings, help text and default values (the demo's default arms, the
    model's default regime for Mesa's Reset); anywhere else (a comparison, a lookup, a dict key,
    an assignment) means some code asks which regime it is running.
    """
    tree = ast.parse(source, filename=label)
    parent: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parent[child] = node
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    bad = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.search(node.value)):
            continue
        up, child = parent.get(node), node
        while isinstance(up, ast.JoinedStr | ast.FormattedValue | ast.BinOp):
            up, child = parent.get(up), up
        docstring = isinstance(up, ast.Expr)
        help_or_default = isinstance(up, ast.keyword) and up.arg in {"default", "help", "description", "title"}
        arg_default = isinstance(up, ast.arguments) and (child in up.defaults or child in up.kw_defaults)
        if not (docstring or help_or_default or arg_default):
            bad.append(f"{label}:{node.lineno}: {node.value!r} in {type(up).__name__}")
    return bad


def test_no_code_asks_which_regime_it_is_running():
    names = available("regimes")
    files = sorted((ROOT / "simulation").rglob("*.py"))
    assert len(files) > 10
    uses = [u for f in files for u in _regime_name_uses(f.read_text(encoding="utf-8"), str(f.relative_to(ROOT)), names)]
    assert uses == []


def test_the_regime_name_check_would_catch_a_branch():
    """The check above is not vacuous: it flags the branches it is meant to forbid."""
    code = (
        'def f(regime, arm="no_programme"):\n'
        '    """centralised is fine in a docstring."""\n'
        '    if regime.name == "cooperative":\n'
        '        return {"centralised": 1}\n'
    )
    uses = _regime_name_uses(code, "probe.py", ["centralised", "cooperative", "no_programme"])
    assert len(uses) == 2, uses
    assert "probe.py:3: 'cooperative'" in uses[0] and "'centralised' in Dict" in uses[1]


def test_a_copy_of_a_regime_under_another_name_reproduces_it(run_model, shipped, mutate, write_toml):
    text = mutate(shipped("regimes", "centralised"), 'name = "centralised"', 'name = "wp_copy"')
    # Same levers in another order, without comments.
    head, levers = text.split("[levers]")
    lines = [ln.split("#")[0].rstrip() for ln in levers.splitlines() if ln.split("#")[0].strip()]
    path = write_toml("wp_copy", head + "[levers]\n" + "\n".join(reversed(lines)) + "\n")
    for seed in (1, 2):
        original = run_model("centralised", seed, months=18, burn_in=12).results_frame()
        copy = run_model(str(path), seed, months=18, burn_in=12).results_frame()
        pd.testing.assert_frame_equal(original, copy)
        assert original["programme_referrals"].sum() > 0


@pytest.fixture(scope="module")
def arms(run_model):
    """Results of the three shipped regimes on the same seeds."""
    kw = {"months": 18, "burn_in": 12, "overrides": {"development_value_mean_m": 0.5}}
    return {
        regime: {seed: run_model(regime, seed, **kw).results_frame() for seed in SEEDS}
        for regime in ("centralised", "cooperative", "no_programme")
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_cooperative_refers_more_people_than_centralised(arms, seed):
    coop, wp = arms["cooperative"][seed], arms["centralised"][seed]
    assert coop["programme_referrals"].sum() > wp["programme_referrals"].sum() > 0
    assert coop["participants"].sum() > wp["participants"].sum() > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_no_programme_has_no_referrals_and_no_support_cost(arms, seed):
    df = arms["no_programme"][seed]
    for col in (
        "programme_referrals",
        "participants",
        "programme_job_outcomes",
        "programme_fees",
        "programme_grant",
        "programme_advisers",
        "programme_delivery_cost",
        "programme_payments_exchequer",
        "programme_payments_council",
        "provider_delivery",
        "hub_running",
        "hub_supported_firms",
        "hub_new_firms",
        "employment_support_cost",
    ):
        assert (df[col] == 0).all(), col
    # The counterfactual still has a labour market and a public purse.
    assert df["u_to_e"].sum() > 0 and df["benefit_jsa"].sum() > 0 and df["tax_ni"].sum() > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_each_regime_pays_through_its_own_payer_and_institutions(arms, seed):
    coop, wp, base = arms["cooperative"][seed], arms["centralised"][seed], arms["no_programme"][seed]
    # Payment by results from the Exchequer vs a council grant.
    assert wp["programme_payments_exchequer"].sum() > 0 and (wp["programme_payments_council"] == 0).all()
    assert coop["programme_payments_council"].sum() > 0 and (coop["programme_payments_exchequer"] == 0).all()
    assert wp["programme_fees"].sum() > 0 and (wp["programme_grant"] == 0).all()
    assert coop["programme_grant"].sum() > 0 and (coop["programme_fees"] == 0).all()
    # Hubs only where the lever sets them; brokerage raises developers' contributions.
    assert coop["hub_supported_firms"].max() > 0 and (wp["hub_supported_firms"] == 0).all()
    assert coop["developer_skills_contribution"].sum() > wp["developer_skills_contribution"].sum()
    pd.testing.assert_series_equal(wp["developer_skills_contribution"], base["developer_skills_contribution"])
    # Advisers are hired for the caseload lever: ceil(participants / caseload) in every district and month.
    for df, regime in ((coop, "cooperative"), (wp, "centralised")):
        caseload = load_regime(regime).levers.caseload
        np.testing.assert_array_equal(df["programme_advisers"], np.ceil(df["participants"] / caseload))


def test_referral_share_lever_scales_referrals(run_model):
    full = run_model("cooperative", 4, months=12, burn_in=12).results_frame()
    half = run_model("cooperative", 4, months=12, burn_in=12, lever_overrides={"referral_share": 0.5}).results_frame()
    assert 0 < half["programme_referrals"].sum() < full["programme_referrals"].sum()


def test_a_mixed_regime_is_just_another_file(run_model, shipped, mutate, write_toml):
    """Centralised employment support with cooperative hubs: a third regime needs no code."""
    text = mutate(shipped("regimes", "centralised"), 'name = "centralised"', 'name = "mixed"')
    text = mutate(text, "hub_firms_per_year = 0.0", "hub_firms_per_year = 30.0")
    path = write_toml("mixed", text)
    mixed = run_model(str(path), 2, months=12, burn_in=12).results_frame()
    wp = run_model("centralised", 2, months=12, burn_in=12).results_frame()
    assert mixed["hub_supported_firms"].max() > 0
    assert mixed["hub_running"].sum() > 0
    # Employment support is the centralised one: same first-month referrals (before hubs can matter).
    first = mixed["month"] == 1
    pd.testing.assert_series_equal(mixed.loc[first, "programme_referrals"], wp.loc[first, "programme_referrals"])
