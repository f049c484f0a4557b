"""Employment-support providers: referral, caseloads, how adviser time is spent, and fees.

A provider serves one district's claimants. Each month it:

1. counts outcomes of people attached to it: a job outcome after `job_outcome_months`
   continuous months in work, then sustainment payments for each further month in work;
2. takes referrals: claimants unemployed `referral_month` months or more who were never
   referred, a share `referral_share` of them (a slot-indexed draw, so common random numbers hold);
3. hires advisers for its caseload (`caseload` participants each) and shares their hours among
   participants still out of work, by its `effort_rule`:
   - `uniform`: equal time for all;
   - `need`: time in proportion to barriers (a key-worker service);
   - `expected_payment`: time where fee x chance of an outcome is highest. With support
     raising the hazard as h0 * (1 + beta * e^gamma), maximising expected fees under the hours
     budget gives e_i proportional to (fee_i * h0_i)^(1/(1-gamma)): people with low h0 (high
     barriers, long spells) get almost no time. Creaming and parking emerge from prices and
     caseloads; no rule names them.

Adviser time raises job finding only through the matching weights (`matching.support_multiplier`);
providers never assign jobs. Fees and grants are paid by the lever `provider_payer`; delivery
costs are adviser costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.config import Levers, Params
from simulation.mechanisms import matching
from simulation.people import EMPLOYED, NO_BENEFIT, NO_PROGRAMME, UNEMPLOYED, People


@dataclass
class ProviderMonth:
    referrals: float = 0.0
    participants: float = 0.0
    advisers: int = 0
    hours: float = 0.0
    job_outcomes: float = 0.0
    sustainment_payments: float = 0.0
    fees: float = 0.0  # £ per row (scaled by the caller)
    grant: float = 0.0
    delivery_cost: float = 0.0


def allocate_hours(
    total_hours: float, rule: str, base_hazard: np.ndarray, barrier: np.ndarray, fee_value: np.ndarray, gamma: float
) -> np.ndarray:
    """Share a budget of adviser hours among participants by the provider's rule."""
    n = base_hazard.shape[0]
    if n == 0 or total_hours <= 0:
        return np.zeros(n)
    if rule == "need":
        x = barrier.astype(np.float64) + 0.1
    elif rule == "expected_payment":
        value = fee_value * base_hazard
        top = value.max()
        x = np.power(value / top, 1.0 / (1.0 - gamma)) if top > 0 else np.ones(n)
    else:
        x = np.ones(n)
    total = x.sum()
    if total <= 0:
        x, total = np.ones(n), float(n)
    return total_hours * x / total


def step(
    p: People,
    provider_id: int,
    levers: Levers,
    params: Params,
    u_referral: np.ndarray,
    q_market: float,
    ppa: float = 1.0,
) -> ProviderMonth:
    """One month of a provider's work on its district's people (`p` holds views of their rows).

    Each row stands for `ppa` people: counts and money returned are for real people.
    """
    out = ProviderMonth()
    attached = p.programme == provider_id
    employed = p.status == EMPLOYED

    # Attachment runs for programme_months, then ends.
    p.months_in_programme[attached] += 1
    ending = attached & (p.months_in_programme > levers.programme_months)
    p.programme[ending] = NO_PROGRAMME
    attached &= ~ending

    # Outcomes from last month's matching.
    in_work = attached & employed
    p.work_months[in_work] += 1
    p.work_months[attached & ~employed] = 0
    outcome = in_work & ~p.outcome_paid & (p.work_months >= levers.job_outcome_months)
    p.outcome_paid[outcome] = True
    sustain = (
        in_work
        & p.outcome_paid
        & ~outcome
        & (p.work_months > levers.job_outcome_months)
        & (p.sustain_paid < levers.sustainment_months)
    )
    p.sustain_paid[sustain] += 1
    out.job_outcomes = float(outcome.sum() * ppa)
    out.sustainment_payments = float(sustain.sum() * ppa)

    # Referrals.
    eligible = (
        (p.status == UNEMPLOYED)
        & (p.benefit != NO_BENEFIT)
        & ~p.ever_referred
        & (p.months_in_status >= levers.referral_month)
    )
    referred = eligible & (u_referral < levers.referral_share)
    p.programme[referred] = provider_id
    p.ever_referred[referred] = True
    p.months_in_programme[referred] = 0
    p.work_months[referred] = 0
    p.outcome_paid[referred] = False
    p.sustain_paid[referred] = 0
    attached |= referred
    out.referrals = float(referred.sum() * ppa)

    # Advisers and their time.
    out.participants = float(attached.sum() * ppa)
    out.advisers = int(np.ceil(out.participants / levers.caseload))
    out.hours = out.advisers * params.adviser_hours_per_month
    seeking = np.flatnonzero(attached & ~employed)
    # Chance of a job this month without support: the market's rate per unit of search weight
    # (last month's) times the person's own weight.
    base_hazard = q_market * matching.intensity(p.status[seeking], params) * matching.employability(p, params, seeking)
    fee_value = np.full(seeking.size, levers.fee_job_outcome + levers.fee_sustainment_month * levers.sustainment_months)
    p.support_hours[seeking] = allocate_hours(
        out.hours / ppa, levers.effort_rule, base_hazard, p.barrier[seeking], fee_value, params.support_gamma
    )

    out.fees = (
        levers.fee_attachment * out.referrals
        + levers.fee_job_outcome * out.job_outcomes
        + levers.fee_sustainment_month * out.sustainment_payments
    )
    out.grant = levers.grant_per_participant_month * out.participants
    out.delivery_cost = out.advisers * params.adviser_cost_per_month
    return out
