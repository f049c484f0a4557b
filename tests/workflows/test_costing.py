"""Cost per additional sustained job (`analysis.costing`): every public cost of an arm in the
numerator, people sustained in work (common cohort where there is one) in the denominator, and the
same figure from compare, claims and the report.

Synthetic experiment folders (the layout `labourlab experiment` writes) with known totals, so the
figure can be checked by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulation.analysis import claims, compare, costing, report, stats
from simulation.declare import PURPOSE
from simulation.ledger import PUBLIC_ACCOUNTS
from simulation.registry import CATEGORIES, PURPOSE_OF

SEEDS = [1, 2, 3, 4, 5]
MONTHS = 24
ARMS = ("no_programme", "centralised", "cooperative")
# Per seed: the cooperative arm's extra spending in each category (£ over the run) and extra
# people sustained in work (common cohort, and everyone).
SPEND = {c: 1_000.0 * (k + 1) for k, c in enumerate(costing.SPENDING_CATEGORIES)}
NOISE = np.array([0.1, -0.1, 0.05, -0.05, 0.0])
COHORT_GAIN = np.array([20.0, 25.0, 15.0, 30.0, 10.0])
EVERYONE_GAIN = np.array([40.0, 50.0, 30.0, 60.0, 20.0])


def run_totals(arm: str, seed: int) -> tuple[dict[str, float], float]:
    """Column totals over the run of a synthetic run, and its common cohort's people sustained in work."""
    i = SEEDS.index(seed)
    t = {c: 0.0 for c in CATEGORIES}
    t |= {"benefit_jsa": 5e6 + 1e5 * seed, "tax_ni": 9e6, "employed": 50_000.0, "people_sustained_in_work": 500.0}
    cohort = 100.0 + seed
    scale = {"no_programme": 0.0, "centralised": 0.5, "cooperative": 1.0}[arm]
    for c, x in SPEND.items():
        t[c] = scale * x * (1 + NOISE[i])
    t["people_sustained_in_work"] += scale * EVERYONE_GAIN[i]
    cohort += scale * COHORT_GAIN[i]
    public = sum(t[c] for c in costing.SPENDING_CATEGORIES) + t["benefit_jsa"] - t["tax_ni"]
    t["public_cost"] = public
    t["employment_support_cost"] = sum(t[c] for c in CATEGORIES if PURPOSE_OF[c] == "employment_support")
    t["business_support_cost"] = sum(t[c] for c in CATEGORIES if PURPOSE_OF[c] == "business_support")
    return t, cohort


def monthly(arm: str, seed: int, extra: dict[str, float] | None = None) -> pd.DataFrame:
    t, _ = run_totals(arm, seed)
    for c, x in (extra or {}).items():
        t[c] += x
    f: dict[str, Any] = {"seed": np.full(MONTHS, seed), "month": np.arange(1, MONTHS + 1), "district": 0}
    f["district_name"] = "Northtown"
    for k, v in t.items():
        f[k] = np.full(MONTHS, v if k == "employed" else v / MONTHS)
    return pd.DataFrame(f)


def cohorts(arm: str, seed: int) -> pd.DataFrame:
    _, sustained = run_totals(arm, seed)
    row: dict[str, Any] = {"seed": seed, "district": 0, "district_name": "Northtown", "group": "jsa_25_plus"}
    row |= {"eligible_month": 1, "eligible": 300.0, "referred": 0.0, "outcome_24m": 90.0, "followed_up": True}
    row |= {"common_eligible": 300.0, "common_referred": 0.0, "common_outcome_24m": sustained}
    row |= {"common_sustained_24m": sustained}
    return pd.DataFrame([row])


def write_experiment(root: Path, with_cohorts: bool = True) -> Path:
    for arm in ARMS:
        part = f"scenario={arm}"
        for s in SEEDS:
            for sub in ("monthly", "cohorts", "runs"):
                (root / sub / part).mkdir(parents=True, exist_ok=True)
            monthly(arm, s).to_parquet(root / "monthly" / part / f"seed={s}.parquet", index=False)
            if with_cohorts:
                cohorts(arm, s).to_parquet(root / "cohorts" / part / f"seed={s}.parquet", index=False)
            man = {
                "labourlab_manifest": 1,
                "kind": "experiment-run",
                "seed": s,
                "scenario": arm,
                "arm": arm,
                "config": {
                    "place": {"name": "synthville", "districts": [{"name": "A", "working_age_pop": 80_000.0}]},
                    "regime": {"name": arm, "levers": {}},
                    "params": {},
                    "months": MONTHS,
                    "burn_in": 6,
                    "people_per_agent": 1.0,
                },
            }
            (root / "runs" / part / f"seed={s}.json").write_text(json.dumps(man), encoding="utf-8")
    spec = {"name": "synthetic", "baseline": "no_programme", "arms": list(ARMS), "seeds": SEEDS}
    (root / "manifest.json").write_text(json.dumps({"spec": spec}), encoding="utf-8")
    return root


class Tables:
    def __init__(self, monthly: pd.DataFrame, cohorts: pd.DataFrame | None) -> None:
        self.monthly, self.cohorts = monthly, cohorts


def pairs(extra: dict[str, float] | None = None, with_cohorts: bool = True) -> tuple[list[Tables], list[Tables]]:
    """Cooperative and no-programme runs on the same seeds (the cooperative's columns plus `extra`)."""
    arm = [Tables(monthly("cooperative", s, extra), cohorts("cooperative", s) if with_cohorts else None) for s in SEEDS]
    base = [Tables(monthly("no_programme", s), cohorts("no_programme", s) if with_cohorts else None) for s in SEEDS]
    return arm, base


# ------------------------------------------------------------------------------ the numerator
def test_spending_is_every_public_payment_but_benefits():
    """Independently of purposes' signs: every category the Exchequer, councils or the NHS pay,
    other than benefits, is spending on the policies; nothing else is."""
    from simulation.registry import CATEGORIES as PAYERS

    public_paid = {c for c, (payer, _) in PAYERS.items() if payer in PUBLIC_ACCOUNTS and PURPOSE_OF[c] != "benefits"}
    assert set(costing.SPENDING_CATEGORIES) == public_paid
    hubs = {f"hub_{kind}_{payer}" for kind in ("running", "capital", "prestart") for payer in ("council", "other")}
    assert hubs | {"brokerage", "programme_payments_exchequer"} <= public_paid
    assert all(PURPOSE_OF[c] == "business_support" for c in hubs)  # each hub pound once, in business support
    assert any(PURPOSE_OF[c] == "employment_support" and PAYERS[c][0] == "nhs" for c in public_paid)  # services
    for c in ("benefit_jsa", "benefit_esa", "housing_support", "tax_ni", "sanctions_withheld", "provider_delivery"):
        assert c not in costing.SPENDING_CATEGORIES
    assert set(costing.SPENDING_TOTALS) == {"employment_support_cost", "business_support_cost"}
    assert all(PURPOSE[PURPOSE_OF[c]].public > 0 for c in costing.SPENDING_CATEGORIES)


@pytest.mark.parametrize("category", costing.SPENDING_CATEGORIES)
def test_each_public_cost_category_moves_the_figure_by_exactly_its_amount(category):
    base = costing.cost_per_additional_job(*pairs())
    more = costing.cost_per_additional_job(*pairs({category: 12_345.0}))
    assert more.d_spending - base.d_spending == pytest.approx(np.full(len(SEEDS), 12_345.0))
    assert more.ratio - base.ratio == pytest.approx(12_345.0 / base.d_people.mean())
    np.testing.assert_array_equal(more.d_people, base.d_people)


@pytest.mark.parametrize("category", ["benefit_jsa", "tax_ni", "training_skills_fund", "provider_delivery"])
def test_benefits_tax_and_private_money_are_not_in_the_numerator(category):
    base = costing.cost_per_additional_job(*pairs())
    more = costing.cost_per_additional_job(*pairs({category: 12_345.0}))
    assert more.ratio == base.ratio


def test_net_public_cost_per_job_beside_it():
    c = costing.cost_per_additional_job(*pairs())
    d_net = np.array([run_totals("cooperative", s)[0]["public_cost"] - run_totals("no_programme", s)[0]["public_cost"]
                      for s in SEEDS])  # fmt: skip
    assert c.net_ratio == pytest.approx(d_net.mean() / c.d_people.mean())


# ---------------------------------------------------------------------------- the denominator
def test_common_cohort_where_there_is_one_else_everyone():
    on_cohort = costing.cost_per_additional_job(*pairs())
    assert on_cohort.basis == costing.COMMON_COHORT
    np.testing.assert_allclose(on_cohort.d_people, COHORT_GAIN)
    spend = sum(SPEND.values()) * (1 + NOISE)
    assert on_cohort.everyone_ratio == pytest.approx(spend.mean() / EVERYONE_GAIN.mean())  # beside it
    everyone = costing.cost_per_additional_job(*pairs(with_cohorts=False))
    assert everyone.basis == costing.EVERYONE
    np.testing.assert_allclose(everyone.d_people, EVERYONE_GAIN)


def test_ratio_of_mean_differences_with_the_fieller_interval():
    c = costing.cost_per_additional_job(*pairs())
    spend = sum(SPEND.values()) * (1 + NOISE)
    assert c.ratio == pytest.approx(spend.mean() / COHORT_GAIN.mean())
    lo, hi = stats.fieller(spend, COHORT_GAIN)  # type: ignore[misc]
    assert (c.low, c.high) == pytest.approx((lo, hi))
    assert c.per_seed is not None and c.per_seed.mean == pytest.approx((spend / COHORT_GAIN).mean())


def test_no_additional_people_gives_no_figure():
    c = costing.from_differences(np.ones(3), np.ones(3), np.array([-1.0, 0.5, -2.0]), costing.EVERYONE)
    assert math.isnan(c.ratio) and c.note == costing.NO_GAIN and c.per_seed is None
    assert "2 of 3 seeds" in c.per_seed_note


# ------------------------------------------------------------------ one figure, three callers
def test_compare_claims_and_report_give_the_same_figure(tmp_path, monkeypatch):
    exp = write_experiment(tmp_path / "exp")
    made: list[float] = []
    real = costing.cost_per_additional_job

    def spy(arm: Any, baseline: Any) -> costing.CostPerJob:
        out = real(arm, baseline)
        made.append(out.ratio)
        return out

    monkeypatch.setattr(costing, "cost_per_additional_job", spy)
    want = sum(SPEND.values()) * (1 + NOISE).mean() / COHORT_GAIN.mean()

    rep = compare.analyse(exp)
    from_compare = rep.cost_per_job.set_index("comparison").loc["cooperative - no_programme", "ratio_of_means"]
    cr = next(c for c in claims.analyse(exp).claims if c.claim.id == "support_cost")
    from_claims = next(r for r in cr.tests if r.test.label == "public cost per additional sustained job: cooperative")
    assert from_compare == pytest.approx(want) and from_claims.est is not None
    assert from_claims.est.mean == from_compare
    row = rep.cost_per_job.set_index("comparison").loc["cooperative - no_programme"]
    assert (from_claims.est.low, from_claims.est.high) == (row["ratio_low"], row["ratio_high"])

    made.clear()
    report.build(exp, tmp_path / "report")
    assert from_compare in made  # the report's figure is the same function's, on the same runs
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert f"£{from_compare:,.0f}" in md
