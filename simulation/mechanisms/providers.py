"""Employment-support providers: referral, caseloads, how adviser time is spent, and fees.

A provider serves one district's claimants. Each month it:

1. counts outcomes of people attached to it: a job outcome after `job_outcome_months`
   continuous months in work, then sustainment payments for each further month in work;
2. takes referrals: a claimant becomes eligible after their group's `referral_month` months on
   benefit, and a share `referral_share` of the eligible are referred (one fixed draw per person,
   so common random numbers hold and a larger share refers a superset). Fees follow the payment
   group a person had when first eligible (the Work Programme's payment groups);
3. hires advisers for its caseload (`caseload` participants each) and shares their hours among
   participants still out of work, by its `effort_rule`:
   - `uniform`: equal time for all;
   - `need`: time in proportion to barriers (a key-worker service);
   - `expected_payment`: time where fee x chance of an outcome is highest. Support raises the
     hazard with diminishing returns up to a ceiling (`matching.support_multiplier`), so
     maximising expected fees under the hours budget is water-filling (`allocate_hours`): people
     with low fee x h0 (high barriers, long spells, or low fees) get no time at all. Creaming
     and parking emerge from prices and caseloads; no rule names them.

With `integrated_help`, key workers coordinate health, care and housing help, and a participant's
barriers fall in proportion to the time they get (IPS, Working Well; effects.md s3); lower barriers
raise job finding in later months.

Adviser time raises job finding only through the matching weights (`matching.support_multiplier`);
providers never assign jobs. Fees and grants are paid by the lever `provider_payer`; delivery
costs are adviser costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.config import Levers, Params
from simulation.mechanisms import matching
from simulation.people import EMPLOYED, GROUP_NAMES, NO_PROGRAMME, NOT_ELIGIBLE, People

PARKED_HOURS = 0.25  # less than 15 minutes of adviser time in a month: "almost none"
HIGH_BARRIER = 0.5
N_GROUPS = len(GROUP_NAMES)


@dataclass
class ProviderMonth:
    """What a provider did this month, for real people (rows x people_per_agent) and pounds."""

    referrals: float = 0.0
    participants: float = 0.0
    advisers: int = 0
    hours: float = 0.0
    job_outcomes: float = 0.0
    sustainment_payments: float = 0.0
    high_barrier_seeking: float = 0.0
    parked: float = 0.0
    fees: float = 0.0
    grant: float = 0.0
    delivery_cost: float = 0.0
    referrals_by_group: np.ndarray = field(default_factory=lambda: np.zeros(N_GROUPS))
    outcomes_by_group: np.ndarray = field(default_factory=lambda: np.zeros(N_GROUPS))
    participants_by_group: np.ndarray = field(default_factory=lambda: np.zeros(N_GROUPS))


def group_table(levers: Levers) -> dict[str, np.ndarray]:
    """Group levers as arrays indexed by claimant group code (index 0, no group, is all zeros)."""
    rows = levers.groups.by_index()
    names = (
        "referral_month",
        "referral_share",
        "fee_attachment",
        "fee_job_outcome",
        "fee_sustainment",
        "sustainment_payments",
        "outcome_months",
    )
    out = {k: np.array([0.0] + [float(getattr(r, k)) for r in rows]) for k in names}
    out["referral_month"][0] = np.inf  # no group: never eligible
    return out


def allocate_hours(
    total_hours: float,
    rule: str,
    base_hazard: np.ndarray,
    barrier: np.ndarray,
    fee_value: np.ndarray,
    half_hours: float,
) -> np.ndarray:
    """Share a budget of adviser hours among participants by the provider's rule.

    - `uniform`: equal shares.
    - `need`: in proportion to barriers.
    - `expected_payment`: maximise expected fees, sum of fee_i * h0_i * (1 - 2^(-e_i/half_hours)),
      within the hours. The first-order conditions give water-filling: e_i = half_hours *
      max(0, log2(v_i) - L) with v_i = fee_i * h0_i and the level L set so the hours are used.
      Anyone whose expected payment is below 2^L gets no time at all: parking emerges.
    """
    n = base_hazard.shape[0]
    if n == 0 or total_hours <= 0:
        return np.zeros(n)
    if rule == "expected_payment":
        value = fee_value * base_hazard
        if (value > 0).any():
            return water_fill(np.log2(np.maximum(value, 1e-300)), total_hours / half_hours) * half_hours
        x = np.ones(n)
    elif rule == "need":
        x = barrier.astype(np.float64) + 0.1
    else:
        x = np.ones(n)
    return total_hours * x / x.sum()


def water_fill(levels: np.ndarray, budget: float) -> np.ndarray:
    """x_i = max(0, levels_i - L) with sum(x) = budget, exactly (sort, then one pass)."""
    order = np.argsort(-levels, kind="stable")
    top = levels[order]
    k = np.arange(1, top.size + 1)
    level = (np.cumsum(top) - budget) / k  # L if the top k share the budget
    # The right k is the largest whose level lies below its own k-th value.
    fits = level < top
    kk = int(np.flatnonzero(fits)[-1]) if fits.any() else 0
    return np.maximum(levels - level[kk], 0.0)


def step(
    p: People,
    provider_id: int,
    levers: Levers,
    params: Params,
    u_referral: np.ndarray,
    q_market: float,
    month: int,
    ppa: float = 1.0,
) -> ProviderMonth:
    """One month of a provider's work on its district's people (`p` holds views of their rows).

    Each row stands for `ppa` people: counts and money returned are for real people.
    """
    out = ProviderMonth()
    t = group_table(levers)
    attached = p.programme == provider_id
    employed = p.status == EMPLOYED
    pay_group = p.eligible_group.astype(np.int64)

    # Attachment runs for programme_months, then ends.
    p.months_in_programme[attached] += 1
    ending = attached & (p.months_in_programme > levers.programme_months)
    p.programme[ending] = NO_PROGRAMME
    attached &= ~ending

    # Outcomes from last month's matching, by payment group.
    in_work = attached & employed
    p.work_months[in_work] += 1
    p.work_months[attached & ~employed] = 0
    outcome = in_work & ~p.outcome_paid & (p.work_months >= t["outcome_months"][pay_group])
    p.outcome_paid[outcome] = True
    sustain = (
        in_work
        & p.outcome_paid
        & ~outcome
        & (p.work_months > t["outcome_months"][pay_group])
        & (p.sustain_paid < t["sustainment_payments"][pay_group])
    )
    p.sustain_paid[sustain] += 1
    out.outcomes_by_group = np.bincount(pay_group[outcome], minlength=N_GROUPS) * ppa
    out.job_outcomes = float(out.outcomes_by_group.sum())
    out.sustainment_payments = float(sustain.sum() * ppa)
    fees = (t["fee_job_outcome"][pay_group] * outcome).sum() + (t["fee_sustainment"][pay_group] * sustain).sum()

    # Eligibility: a claimant out of work for their group's referral months (once per person).
    group = p.group.astype(np.int64)
    newly_eligible = (
        (p.eligible_month == NOT_ELIGIBLE)
        & (group > 0)
        & ~employed
        & (p.months_in_status >= t["referral_month"][group])
    )
    p.eligible_month[newly_eligible] = month
    p.eligible_group[newly_eligible] = group[newly_eligible]
    referred = newly_eligible & ~p.ever_referred & (u_referral < t["referral_share"][group])
    p.programme[referred] = provider_id
    p.ever_referred[referred] = True
    p.months_in_programme[referred] = 0
    p.work_months[referred] = 0
    p.outcome_paid[referred] = False
    p.sustain_paid[referred] = 0
    attached |= referred
    out.referrals_by_group = np.bincount(group[referred], minlength=N_GROUPS) * ppa
    out.referrals = float(out.referrals_by_group.sum())
    fees += (t["fee_attachment"][group] * referred).sum()
    pay_group = p.eligible_group.astype(np.int64)

    # Advisers and their time.
    out.participants_by_group = np.bincount(pay_group[attached], minlength=N_GROUPS) * ppa
    out.participants = float(attached.sum() * ppa)
    out.advisers = int(np.ceil(out.participants / levers.caseload))
    out.hours = out.advisers * params.adviser_hours_per_month
    seeking = np.flatnonzero(attached & ~employed)
    # Chance of a job this month without support: the market's rate per unit of search weight
    # (last month's) times the person's own weight.
    base_hazard = q_market * matching.intensity(p.status[seeking], params) * matching.employability(p, params, seeking)
    g = pay_group[seeking]
    fee_value = t["fee_job_outcome"][g] + t["fee_sustainment"][g] * t["sustainment_payments"][g]
    hours = allocate_hours(
        out.hours / ppa, levers.effort_rule, base_hazard, p.barrier[seeking], fee_value, params.support_half_hours
    )
    p.support_hours[seeking] = hours
    # Parking is judged on barriers as the provider found them this month.
    high = p.barrier[seeking] >= HIGH_BARRIER
    out.high_barrier_seeking = float(high.sum() * ppa)
    out.parked = float((high & (hours < PARKED_HOURS)).sum() * ppa)

    # Integrated help lowers barriers in proportion to the time given.
    if levers.integrated_help:
        cut = np.clip(params.barrier_reduction_per_hour * hours, 0.0, 1.0)
        p.barrier[seeking] = (p.barrier[seeking] * (1.0 - cut)).astype(np.float32)

    out.fees = float(fees * ppa)
    out.grant = levers.grant_per_participant_month * out.participants
    out.delivery_cost = out.advisers * params.adviser_cost_per_month
    return out
