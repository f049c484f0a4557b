"""Providers' compiled passes (`providers_kernels.programme_month`, `referrals`, `participants_seeking`)
against the plain numpy rules they replace, on a model's people with their states scrambled:
every field a provider reads or writes, and every number it reports, must be the same.

`_step_all_plainly` is `providers.step_all` as numpy expressions, one field at a time: the rule
as it reads most plainly, kept here as the reference."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import detmath as dm
from simulation.config import Levers, Params, load_regime, make_scenario
from simulation.mechanisms import matching, providers
from simulation.mechanisms._util import claimant_rows
from simulation.model import LabourMarketModel
from simulation.people import (
    EMPLOYED,
    ESA_NEW,
    ESA_VOLUNTEER,
    INACTIVE,
    JSA_18_24,
    JSA_25_PLUS,
    JSA_EARLY_ACCESS,
    NO_GROUP,
    NO_PROGRAMME,
    NOT_ELIGIBLE,
    UNEMPLOYED,
    People,
)


def _step_all_plainly(
    p: People,
    owner: np.ndarray,
    provider_ids: np.ndarray,
    levers: Levers,
    params: Params,
    u_referral: np.ndarray,
    q_market: np.ndarray,
    month: int,
    ppa: float,
    at_minimum: np.ndarray,
) -> tuple[list[dict], np.ndarray]:
    t = providers.group_table(levers)
    nk = len(provider_ids)
    position = np.full(int(max(int(owner.max(initial=0)), int(np.max(provider_ids))) + 1), -1, dtype=np.int64)
    position[provider_ids] = np.arange(nk)

    def by_block(rows: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(position[owner[rows]], weights=weights, minlength=nk)

    def by_block_group(rows: np.ndarray, groups: np.ndarray) -> np.ndarray:
        key = position[owner[rows]] * providers.N_GROUPS + groups.astype(np.int64)
        return np.bincount(key, minlength=nk * providers.N_GROUPS).reshape(nk, providers.N_GROUPS) * ppa

    served_row = position[owner] >= 0
    att = np.flatnonzero((p.programme == owner) & served_row)
    claimants = np.flatnonzero((p.group != NO_GROUP) & served_row)
    p.months_in_programme[att] += 1
    ending = p.months_in_programme[att] > levers.programme_months
    p.programme[att[ending]] = NO_PROGRAMME
    att = att[~ending]

    employed = p.status[att] == EMPLOYED
    in_work, out_of_work = att[employed], att[~employed]
    p.work_months[in_work] += 1
    p.work_months[out_of_work] = 0
    pay = p.eligible_group[in_work]
    wm = p.work_months[in_work]
    outcome = ~p.outcome_paid[in_work] & (wm >= t["outcome_months"][pay])
    p.outcome_paid[in_work[outcome]] = True
    sustain = (
        p.outcome_paid[in_work]
        & ~outcome
        & (wm > t["outcome_months"][pay])
        & (p.sustain_paid[in_work] < t["sustainment_payments"][pay])
    )
    p.sustain_paid[in_work[sustain]] += 1
    outcomes_by_group = by_block_group(in_work[outcome], pay[outcome])
    sustainments = by_block(in_work[sustain])
    fees = by_block(in_work[outcome], t["fee_job_outcome"][pay[outcome]]) + by_block(
        in_work[sustain], t["fee_sustainment"][pay[sustain]]
    )

    # Eligibility at the claim group's point, or early access for disadvantaged JSA claimants;
    # new ESA claimants not referred at their point may volunteer (`providers_kernels.referrals`).
    c = claimants
    g = p.group[c].astype(np.int64)
    u, share, at = u_referral[c], t["referral_share"], t["referral_month"]
    never = ~p.ever_referred[c]
    base = (p.eligible_month[c] == NOT_ELIGIBLE) & (p.status[c] != EMPLOYED)
    early = (
        base
        & np.isin(g, (JSA_18_24, JSA_25_PLUS))
        & (p.barrier[c] >= params.early_access_barrier)
        & (p.months_out[c] >= at[JSA_EARLY_ACCESS])
        & never
        & (u < share[JSA_EARLY_ACCESS])
    )
    pay = np.where(early, JSA_EARLY_ACCESS, g)
    newly = early | (base & (p.months_out[c] >= at[g]))
    referred = never & (u < share[pay])
    volunteer = (pay == ESA_NEW) & ~referred & never & (u < share[ESA_NEW] + share[ESA_VOLUNTEER])
    pay = np.where(volunteer, ESA_VOLUNTEER, pay)
    referred = (referred | volunteer)[newly]
    new_rows, new_group = c[newly], pay[newly].astype(np.int8)
    p.eligible_month[new_rows] = month
    p.eligible_group[new_rows] = new_group
    ref_rows, ref_group = new_rows[referred], new_group[referred]
    p.programme[ref_rows] = owner[ref_rows]
    p.ever_referred[ref_rows] = True
    p.months_in_programme[ref_rows] = 0
    p.work_months[ref_rows] = 0
    p.outcome_paid[ref_rows] = False
    p.sustain_paid[ref_rows] = 0
    referrals_by_group = by_block_group(ref_rows, ref_group)
    fees = fees + by_block(ref_rows, t["fee_attachment"][ref_group])
    att = np.union1d(att, ref_rows)

    participants_by_group = by_block_group(att, p.eligible_group[att])
    participants = by_block(att) * ppa
    seeking = att[p.status[att] != EMPLOYED]
    seeking_block = position[owner[seeking]]
    # The advisers' hours are shared by the caseload: the seekers get their share of them.
    seekers = by_block(seeking) * ppa
    share = np.divide(seekers, participants, out=np.zeros(seekers.shape), where=participants > 0)
    base_hazard = (
        q_market[seeking_block]
        * matching.intensity(p.status[seeking], params)
        * matching.employability(p, params, seeking)
    )
    g = p.eligible_group[seeking]
    fee_value = t["fee_job_outcome"][g] + t["fee_sustainment"][g] * t["sustainment_payments"][g]
    # Staff: for the caseload, or the hours worth their price (at least the minimum service).
    per_adviser = params.adviser_hours_per_month * share
    floor = levers.minimum_service_hours * seekers

    def whole_advisers(hours: np.ndarray) -> np.ndarray:
        return np.ceil(np.divide(hours, per_adviser, out=np.zeros(hours.shape), where=per_adviser > 0)).astype(np.int64)

    minimum = whole_advisers(floor)
    if levers.provider_staffing == "profit":
        price = np.divide(
            params.adviser_cost_per_month * (1.0 + params.management_overhead_share),
            per_adviser,
            out=np.full(per_adviser.shape, np.inf),
            where=per_adviser > 0,
        )
        gain = params.provider_expected_support_effect * dm.LN2_DD[0] / params.support_half_hours
        threshold = dm.np_log2(price / gain) if gain > 0 else np.full(price.shape, np.inf)
        levels = dm.np_log2(np.maximum(fee_value * base_hazard, 1e-300))
        each = np.minimum(
            params.support_half_hours * np.maximum(levels - threshold[seeking_block], 0.0),
            params.adviser_hours_per_month,
        )
        wanted = np.bincount(seeking_block, weights=each, minlength=nk) * ppa
        advisers = np.where(at_minimum, minimum, whole_advisers(floor + wanted))
    else:
        advisers = np.ceil(participants / levers.caseload).astype(np.int64)
    advisers = np.maximum(advisers, minimum)
    hours_budget = advisers * params.adviser_hours_per_month * share
    spare = np.maximum(hours_budget - floor, 0.0)
    barrier = p.barrier[seeking]
    hours = np.zeros(seeking.size)
    for k in range(nk):
        mine = np.flatnonzero(seeking_block == k)
        if mine.size:
            hours[mine] = providers.allocate_hours(
                spare[k] / ppa,
                levers.effort_rule,
                base_hazard[mine],
                barrier[mine],
                fee_value[mine],
                params.support_half_hours,
            )
    if levers.minimum_service_hours > 0:
        hours += levers.minimum_service_hours
    p.support_hours[seeking] = hours
    high = barrier >= providers.HIGH_BARRIER
    high_seeking = np.bincount(seeking_block[high], minlength=nk)
    parked = np.bincount(seeking_block[high & (hours < providers.PARKED_HOURS)], minlength=nk)
    months = [
        {
            "referrals_by_group": referrals_by_group[k],
            "outcomes_by_group": outcomes_by_group[k],
            "participants_by_group": participants_by_group[k],
            "sustainment_payments": float(sustainments[k] * ppa),
            "participants": float(participants[k]),
            "advisers": int(advisers[k]),
            "seeker_hours": float(hours_budget[k]),
            "at_minimum": bool(at_minimum[k]) and levers.provider_staffing == "profit",
            "high_barrier_seeking": float(high_seeking[k] * ppa),
            "parked": float(parked[k] * ppa),
            "fees": float(fees[k] * ppa),
            # Running costs: advisers' pay and on-costs, overheads on top; a grant pays both.
            "delivery_cost": int(advisers[k]) * params.adviser_cost_per_month,
            "overhead_cost": int(advisers[k]) * params.adviser_cost_per_month * params.management_overhead_share,
            "grant": (
                int(advisers[k]) * params.adviser_cost_per_month
                + int(advisers[k]) * params.adviser_cost_per_month * params.management_overhead_share
                if levers.provider_funding == "grant"
                else 0.0
            ),
        }
        for k in range(nk)
    ]
    return months, att


@pytest.fixture(scope="module")
def stevenage() -> LabourMarketModel:
    model = LabourMarketModel(config=make_scenario("stevenage", "centralised", months=6, burn_in=3), seed=4)
    for _ in range(3):
        model.step()
    return model


def _copy(people: People) -> People:
    return dataclasses.replace(people, **{f.name: getattr(people, f.name).copy() for f in dataclasses.fields(People)})


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rule=st.sampled_from(["expected_payment", "need", "uniform"]),
    funding=st.sampled_from(["payment_by_results", "grant"]),
    programme_months=st.integers(1, 30),
    given_lists=st.booleans(),
    staffing=st.sampled_from(["caseload", "profit"]),
    minimum_hours=st.sampled_from([0.0, 0.5, 3.0]),
)
def test_providers_compiled_passes_equal_the_plain_rules(
    stevenage: LabourMarketModel,
    with_levers,
    seed: int,
    rule: str,
    funding: str,
    programme_months: int,
    given_lists: bool,
    staffing: str,
    minimum_hours: float,
) -> None:
    """Scrambled states cover every branch: attached to another district's provider, or to an
    unserved one; attachments ending; outcomes, sustainments up to and past their number; the
    ineligible, the newly eligible, the referred before; every status and claimant group."""
    rng = np.random.default_rng(seed)
    people = _copy(stevenage.people)
    n = people.n
    n_districts = int(people.district.max()) + 1
    people.status[:] = rng.choice([EMPLOYED, UNEMPLOYED, INACTIVE], n, p=[0.4, 0.4, 0.2])
    people.months_in_status[:] = rng.integers(0, 40, n)
    people.months_out[:] = rng.integers(0, 40, n)
    people.group[:] = rng.choice([0, 1, 2, 3, 4, 5], n)
    attached = rng.random(n) < 0.4
    people.programme[:] = np.where(
        attached, np.where(rng.random(n) < 0.9, people.district, rng.integers(0, n_districts, n)), NO_PROGRAMME
    )
    people.months_in_programme[:] = rng.integers(0, 32, n)
    people.work_months[:] = rng.integers(0, 30, n)
    people.outcome_paid[:] = rng.random(n) < 0.4
    people.sustain_paid[:] = rng.integers(0, 25, n)
    people.ever_referred[:] = rng.random(n) < 0.3
    people.eligible_month[:] = np.where(rng.random(n) < 0.5, NOT_ELIGIBLE, rng.integers(-5, 3, n))
    people.eligible_group[:] = rng.choice([0, 1, 2, 3, 4, 5], n)
    people.barrier[:] = rng.uniform(0, 0.99, n).astype(np.float32)
    people.skill[:] = rng.normal(0, 1, n).astype(np.float32)
    levers = with_levers(
        load_regime("centralised").levers,
        effort_rule=rule,
        provider_funding=funding,
        programme_months=programme_months,
        provider_staffing=staffing,
        minimum_service_hours=minimum_hours,
        referral_month=int(rng.integers(0, 8)),
        referral_share=float(rng.uniform(0, 1)),
    )
    # Providers for some districts only: rows of the others are never touched.
    ids = np.flatnonzero(rng.random(n_districts) < 0.8).astype(np.int64)
    if ids.size == 0:
        ids = np.array([0])
    u = rng.random(n)
    q = rng.uniform(0.0, 0.5, ids.size)
    month = int(rng.integers(0, 60))
    ppa = float(rng.choice([1.0, 10.0]))

    at_minimum = rng.random(ids.size) < 0.3  # some providers cutting to the contract's minimum
    plain_people = _copy(people)
    want_months, want_att = _step_all_plainly(
        plain_people, plain_people.district, ids, levers, stevenage.params, u, q, month, ppa, at_minimum
    )
    claimants = claimant_rows(people) if given_lists else None
    # A superset of those attached, as the model hands over last month's participants.
    maybe = np.union1d(np.flatnonzero(people.programme != NO_PROGRAMME), np.arange(0, n, 5)) if given_lists else None
    got_months, got_att = providers.step_all(
        people, people.district, ids, levers, stevenage.params, u, q, month, ppa, claimants, maybe, at_minimum
    )
    assert np.array_equal(got_att, want_att)
    for f in dataclasses.fields(People):
        a, b = getattr(people, f.name), getattr(plain_people, f.name)
        assert a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8)), f.name
    for got, want in zip(got_months, want_months, strict=True):
        for key, value in want.items():
            assert np.array_equal(getattr(got, key), value), key
