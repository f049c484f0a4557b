"""Regimes are data: files of levers that the code never asks about by name.

On common random numbers the regimes' levers move outcomes the way their mechanisms imply, and a
regime with every lever equal to another reproduces its run exactly.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import tomllib
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulation.config import CONFIGS, GROUPS, ROOT, GroupLevers, Levers, available, load_regime
from simulation.mechanisms.services import SERVICES

SEEDS = (1, 2, 3)
ARMS = ("centralised", "cooperative", "no_programme")


def test_regime_files_hold_exactly_the_levers():
    fields = set(Levers.model_fields)
    for name in available("regimes"):
        data = tomllib.loads((CONFIGS / "regimes" / f"{name}.toml").read_text(encoding="utf-8"))
        assert set(data) <= {"name", "description", "levers"}, name
        assert set(data["levers"]) == fields, name
        assert data["name"] == name


def _regime_name_uses(source: str, label: str, names: list[str]) -> list[str]:
    """Places where a regime's name is used as data the code acts on.

    A name may appear in docstrings, help text and default values (the demo's default arms, also
    as a `DEFAULT_...` constant; the model's default regime for Mesa's Reset); anywhere else (a
    comparison, a lookup, a dict key, an assignment) means some code asks which regime it is running.
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
        # `given or "a,b"`: a fallback value, the last operand of an `or` (a default, not a test).
        or_default = isinstance(up, ast.BoolOp) and isinstance(up.op, ast.Or) and child is up.values[-1]
        # `DEFAULT_ARMS = "a,b"`: a module's named default value, used only as one.
        named_default = isinstance(up, ast.Assign) and all(
            isinstance(t, ast.Name) and t.id.startswith("DEFAULT_") for t in up.targets
        )
        if not (docstring or help_or_default or arg_default or or_default or named_default):
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
        'def f(regime, arm="no_programme", arms=None):\n'
        '    """centralised is fine in a docstring."""\n'
        '    arms = arms or "centralised,cooperative"\n'
        '    if regime.name == "cooperative":\n'
        '        return {"centralised": 1}\n'
        '    if regime.name == "no_programme" or arms:\n'
        '        return "cooperative" or regime\n'
    )
    uses = _regime_name_uses(code, "probe.py", ["centralised", "cooperative", "no_programme"])
    assert len(uses) == 4, uses
    assert "probe.py:4: 'cooperative'" in uses[0] and "'centralised' in Dict" in uses[1]
    assert "probe.py:6: 'no_programme' in Compare" in uses[2]
    assert "probe.py:7: 'cooperative' in BoolOp" in uses[3]  # not the fallback: the first operand


def _reordered_without_comments(text: str) -> str:
    """The same TOML with its tables in reverse order, keys reversed within each table, no comments."""
    tables: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        line = line.split("#")[0].rstrip()
        if not line.strip():
            continue
        if line.startswith("["):
            tables.append((line, []))
        else:
            tables[-1][1].append(line)
    top, rest = tables[0], tables[1:]
    out = [*reversed(top[1])]
    for header, lines in reversed(rest):
        out += ["", header, *reversed(lines)]
    return "\n".join(out) + "\n"


def test_a_copy_of_a_regime_under_another_name_reproduces_it(run_model, shipped, mutate, write_toml):
    text = mutate(shipped("regimes", "centralised"), 'name = "centralised"', 'name = "wp_copy"')
    copy_text = _reordered_without_comments(text)
    assert tomllib.loads(copy_text) == tomllib.loads(text)  # the same data, written differently
    assert copy_text.index("[levers.groups.esa_ex_ib]") < copy_text.index("[levers]")
    path = write_toml("wp_copy", copy_text)
    for seed in (1, 2):
        original = run_model("centralised", seed, months=18, burn_in=12)
        copy = run_model(str(path), seed, months=18, burn_in=12)
        pd.testing.assert_frame_equal(original.results_frame(), copy.results_frame())
        pd.testing.assert_frame_equal(
            original.cohorts.frame(original.district_names), copy.cohorts.frame(copy.district_names)
        )
        assert original.results_frame()["programme_referrals"].sum() > 0


def _flat_levers(levers: Levers) -> dict[str, Any]:
    """Every lever by its override key: top-level names, and groups.<group>.<field> for group levers."""
    data = levers.model_dump()
    flat = {k: v for k, v in data.items() if k != "groups"}
    for group, fields in data["groups"].items():
        flat.update({f"groups.{group}.{k}": v for k, v in fields.items()})
    return flat


def test_overriding_every_lever_one_by_one_turns_one_regime_into_another(run_model, scenario):
    """Cooperative, with each of its levers set to centralised's value one at a time, is centralised:
    at every step exactly the levers overridden so far have changed, and with all of them the run
    is the centralised run. Nothing but the levers distinguishes two regimes."""
    coop, wp = _flat_levers(load_regime("cooperative").levers), _flat_levers(load_regime("centralised").levers)
    assert set(coop) == set(wp)
    assert len(coop) == len(Levers.model_fields) - 1 + len(GROUPS) * len(GroupLevers.model_fields)
    assert sum(coop[k] != wp[k] for k in coop) > 20
    overrides: dict[str, Any] = {}
    for key in coop:
        overrides[key] = wp[key]
        levers = scenario("cooperative", lever_overrides=overrides).regime.levers
        assert _flat_levers(levers) == {k: (wp[k] if k in overrides else coop[k]) for k in coop}, key
    assert levers == load_regime("centralised").levers
    for seed in (1, 2):
        built = run_model("cooperative", seed, months=18, burn_in=12, lever_overrides=overrides)
        original = run_model("centralised", seed, months=18, burn_in=12)
        pd.testing.assert_frame_equal(original.results_frame(), built.results_frame())
        pd.testing.assert_frame_equal(
            original.cohorts.frame(original.district_names), built.cohorts.frame(built.district_names)
        )
        for name in [f.name for f in dataclasses.fields(original.people)] + list(original.people.more):
            np.testing.assert_array_equal(getattr(original.people, name), getattr(built.people, name), err_msg=name)


@pytest.fixture(scope="module")
def arm_models(run_model, small_schemes):
    """The three arms of the comparison run on the same seeds (invariants checked every month)."""
    kw = {"months": 18, "burn_in": 12, "overrides": small_schemes}
    return {regime: {seed: run_model(regime, seed, **kw) for seed in SEEDS} for regime in ARMS}


@pytest.fixture(scope="module")
def arms(arm_models):
    """Results of the three arms on the same seeds."""
    return {regime: {seed: m.results_frame() for seed, m in runs.items()} for regime, runs in arm_models.items()}


@pytest.mark.parametrize("seed", SEEDS)
def test_cooperative_refers_more_people_than_centralised(arms, seed):
    coop, wp = arms["cooperative"][seed], arms["centralised"][seed]
    assert coop["programme_referrals"].sum() > wp["programme_referrals"].sum() > 0
    assert coop["participants"].sum() > wp["participants"].sum() > 0
    # Counts by claimant group add up to the totals.
    for df in (coop, wp):
        for total, kind in (
            ("programme_referrals", "referrals"),
            ("programme_job_outcomes", "job_outcomes"),
            ("participants", "participants"),
        ):
            by_group = sum(df[f"{kind}_{g}"] for g in GROUPS)
            np.testing.assert_allclose(by_group, df[total], err_msg=kind)
    # Early referral: cooperative refers JSA 25+ claimants at 3 months, centralised at 12.
    assert coop["referrals_jsa_25_plus"].sum() > wp["referrals_jsa_25_plus"].sum()


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
        "provider_overheads",
        "programme_overhead_cost",
        "integrated_help_recipients",
        "service_hours",
        *(s.category for s in SERVICES),
        *(f"hub_{kind}_{payer}" for kind in ("running", "capital", "prestart") for payer in ("council", "other")),
        "business_support_cost",
        "hub_supported_firms",
        "hub_new_firms",
        "hub_prestart_births",
        "brokerage",
        "training_starts",
        "training_exchequer",
        "training_skills_fund",
        "parked",
        "high_barrier_seeking",
        *(f"{kind}_{g}" for kind in ("referrals", "participants", "job_outcomes") for g in GROUPS),
    ):
        assert (df[col] == 0).all(), col
    # What public employment support remains is the national placements scheme.
    np.testing.assert_allclose(
        df["employment_support_cost"], df["partnership_delivery_exchequer"] + df["partnership_delivery_council"]
    )
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
    # Integrated help's services: only where the regime gives it, each paid by its own payer.
    assert all(coop[s.category].sum() > 0 for s in SERVICES)
    assert all((wp[s.category] == 0).all() for s in SERVICES)
    # Employer partnerships through their payer lever.
    assert coop["partnership_delivery_council"].sum() > 0 and (coop["partnership_delivery_exchequer"] == 0).all()
    assert (wp["partnership_delivery_council"] == 0).all()
    # Hubs only where the lever sets them, paid half by the council; brokerage raises developers' contributions.
    assert coop["hub_supported_firms"].max() > 0 and (wp["hub_supported_firms"] == 0).all()
    share = load_regime("cooperative").levers.hub_council_share
    council = sum(coop[f"hub_{kind}_council"] for kind in ("running", "capital", "prestart"))
    np.testing.assert_allclose(council, share * coop["business_support_cost"], atol=0.03)
    assert coop["hub_prestart_births"].sum() > 0 and (wp["hub_prestart_births"] == 0).all()
    assert (wp["business_support_cost"] == 0).all()
    assert coop["brokerage"].sum() > 0 and (wp["brokerage"] == 0).all()
    assert coop["developer_skills_contribution"].sum() > wp["developer_skills_contribution"].sum()
    pd.testing.assert_series_equal(wp["developer_skills_contribution"], base["developer_skills_contribution"])
    # The council's key workers are hired for the caseload lever: ceil(participants / caseload) in
    # every district and month; the Work Programme's prime chooses its own (test_provider_business).
    assert load_regime("cooperative").levers.provider_staffing == "caseload"
    caseload = load_regime("cooperative").levers.caseload
    np.testing.assert_array_equal(coop["programme_advisers"], np.ceil(coop["participants"] / caseload))
    assert load_regime("centralised").levers.provider_staffing == "profit"
    assert (wp["programme_advisers"] <= np.ceil(wp["participants"] / caseload)).all()


def test_referral_share_lever_scales_referrals(run_model):
    """Half the JSA groups' referral shares, half as many JSA referrals (a share lever set for every
    group would also raise the referral-only groups', early access and volunteers, from zero)."""
    full = run_model("cooperative", 4, months=12, burn_in=12).results_frame()
    halved = {f"groups.{g}.referral_share": 0.5 for g in ("jsa_18_24", "jsa_25_plus")}
    half = run_model("cooperative", 4, months=12, burn_in=12, lever_overrides=halved).results_frame()
    assert 0 < half["programme_referrals"].sum() < full["programme_referrals"].sum()


def test_a_mixed_regime_is_just_another_file(run_model, shipped, mutate, write_toml):
    """Centralised employment support with cooperative hubs: a third regime needs no code."""
    text = mutate(shipped("regimes", "centralised"), 'name = "centralised"', 'name = "mixed"')
    text = mutate(text, "hub_firms_per_year = 0.0", "hub_firms_per_year = 30.0")
    path = write_toml("mixed", text)
    mixed = run_model(str(path), 2, months=12, burn_in=12).results_frame()
    wp = run_model("centralised", 2, months=12, burn_in=12).results_frame()
    assert mixed["hub_supported_firms"].max() > 0
    # Centralised's hub_council_share is 0: national money pays for the hubs, their buildings too.
    assert mixed["hub_running_other"].sum() > 0 and (mixed["hub_running_council"] == 0).all()
    assert mixed["hub_capital_other"].sum() > 0 and (mixed["hub_capital_council"] == 0).all()
    assert mixed["business_support_cost"].sum() > 0 and (wp["business_support_cost"] == 0).all()
    # Employment support is the centralised one: same first-month referrals (before hubs can matter).
    first = mixed["month"] == 1
    pd.testing.assert_series_equal(mixed.loc[first, "programme_referrals"], wp.loc[first, "programme_referrals"])


# ------------------------------------------------------------------------------ cohorts
@pytest.mark.parametrize("regime", ARMS)
def test_cohort_counts_are_rates_and_cover_every_arm(arm_models, regime):
    """Official two-year outcomes by cohort are measured the same way in every arm, including the
    one with no programme, where people become eligible but nobody is referred."""
    levers = load_regime(regime).levers
    for seed, model in arm_models[regime].items():
        frame = model.cohorts.frame(model.district_names)
        df = model.results_frame()
        # A row is there for the official cohort or the common cohort (tests/model/test_common_cohort.py).
        assert ((frame["eligible"] > 0) | (frame["common_eligible"] > 0)).all()
        c = frame[frame["eligible"] > 0]
        assert len(c) > 0 and set(c["group"]) <= set(GROUPS)
        assert c["eligible_month"].between(1, model.months).all()
        for col in ("eligible", "referred", "outcome_24m"):
            assert (frame[col] >= 0).all(), col
        assert (c["referred"] <= c["eligible"]).all() and (c["outcome_24m"] <= c["eligible"]).all()
        for rate in (c["referred"] / c["eligible"], c["outcome_24m"] / c["eligible"]):
            assert rate.between(0, 1).all()
        assert not c["followed_up"].any()  # 18 months: no cohort has had its two years yet
        assert c["outcome_24m"].sum() > 0
        # Referral happens only when a claimant first becomes eligible, so cohorts hold every referral.
        assert c["referred"].sum() == df["programme_referrals"].sum(), seed
        for group in GROUPS:
            rows = c[c["group"] == group]
            share = getattr(levers.groups, group).referral_share
            if share == 1.0:
                pd.testing.assert_series_equal(rows["referred"], rows["eligible"], check_names=False)
            if share == 0.0:
                assert (rows["referred"] == 0).all()
        if regime == "no_programme":
            assert c["eligible"].sum() > 0 and c["referred"].sum() == 0


# ------------------------------------------------------------------------------ mechanisms in a run
def test_bigger_caseloads_park_more_in_a_run(run_model):
    """Centralised employment support with 300 participants per adviser instead of 30 (testville's
    districts have a few hundred participants at most, so 120 and 300 can both round up to one): fewer
    advisers, and a larger share of high-barrier participants get almost no time."""
    parked, advisers = {}, {}
    for caseload in (30, 300):
        dfs = [
            run_model(
                "centralised",
                seed,
                months=24,
                burn_in=12,
                lever_overrides={"caseload": caseload, "provider_staffing": "caseload"},
            ).results_frame()
            for seed in SEEDS
        ]
        parked[caseload] = [df["parked"].sum() / df["high_barrier_seeking"].sum() for df in dfs]
        advisers[caseload] = sum(df["programme_advisers"].sum() for df in dfs)
    assert advisers[300] < advisers[30]
    assert all(b >= a for a, b in zip(parked[30], parked[300], strict=True)), parked
    assert sum(parked[300]) > sum(parked[30])
    assert min(parked[300]) > 0


def test_placements_only_where_the_lever_offers_them(arm_models, run_model, params):
    for seed, model in arm_models["cooperative"].items():
        df = model.results_frame()
        by_d = df.groupby("district")[["placements", "placement_jobs"]].sum()
        assert df["placements"].sum() > 0, seed
        # A placement ends in a job the month after it starts, or not at all.
        assert (by_d["placement_jobs"] <= by_d["placements"]).all()
        has = df["placements"] > 0
        assert (df.loc[has, "employer_in_kind"] > 0).all()
        np.testing.assert_allclose(
            df["employer_in_kind"], df["placements"] * params.employer_hours_per_placement * params.employer_hour_value
        )
        np.testing.assert_allclose(
            df["partnership_delivery_council"], df["placements"] * params.partnership_cost_per_placement
        )
    none = run_model("cooperative", 1, months=18, burn_in=12, lever_overrides={"placements_per_10k": 0.0})
    df = none.results_frame()
    for col in ("placements", "placement_jobs", "employer_in_kind", "partnership_delivery_council"):
        assert (df[col] == 0).all(), col
    assert (none.people.placement_months == 0).all() and (none.people.mentor_months == 0).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_training_is_paid_from_the_skills_fund_first(arm_models, params, seed):
    model = arm_models["cooperative"][seed]
    df = model.results_frame().sort_values(["district", "month"])
    assert df["training_starts"].sum() > 0
    np.testing.assert_allclose(
        df["training_skills_fund"] + df["training_exchequer"], df["training_starts"] * params.training_cost, atol=0.01
    )
    g = df.groupby("district")
    fund_in = g["developer_skills_contribution"].cumsum()
    fund_out = g["training_skills_fund"].cumsum()
    # The fund never pays out more than developers have put in ...
    assert (fund_out <= fund_in + 0.01).all()
    # ... and the Exchequer pays only once the fund is empty.
    empty = (fund_in - fund_out).abs() < 0.01
    assert (df.loc[df["training_exchequer"] > 0.005].index.isin(df.index[empty])).all()
    assert df["training_skills_fund"].sum() > 0
    np.testing.assert_allclose(
        model.ledger.balance_pounds("skills_fund"), (fund_in - fund_out).groupby(df["district"]).last(), atol=0.01
    )
