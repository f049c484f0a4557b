"""Employment-support providers: referral, caseloads, how adviser time is spent, and fees.

A provider serves one district's claimants. Each month it:

1. counts outcomes of people attached to it: a job outcome after `job_outcome_months`
   continuous months in work, then sustainment payments for each further month in work;
2. takes referrals: a claimant becomes eligible after their group's `referral_month` months on
   benefit, and a share `referral_share` of the eligible are referred (one fixed draw per person,
   so common random numbers hold and a larger share refers a superset). Fees follow the payment
   group a person had when first eligible (the Work Programme's payment groups);
3. employs advisers, by its `provider_staffing`:
   - `caseload`: enough for `caseload` participants each (a grant-funded key-worker service, or
     a contract that fixes the caseload);
   - `profit`: a provider paid by results runs as a business. Each month it buys the adviser
     hours whose expected fees cover their cost: an hour costs an adviser's pay, on-costs and
     overheads over the hours they give those seeking work, and brings in the fee x the rise in
     the chance of a job it expects of its advisers (`hour_price_threshold`). Its caseload
     emerges: cut the fees or raise the adviser's cost and it employs fewer advisers and parks
     more. A minimum-service standard in the contract (`minimum_service_hours` a month for every
     participant seeking work) binds it. It may not run at a loss for long: after
     `provider_grace_months`, a loss over its last 12 months sends it to the contract's minimum
     (`staff_to_minimum`) until the last 12 months show a profit again;
4. shares the advisers' hours among participants still out of work (after the minimum
   service, if any), by its `effort_rule`:
   - `uniform`: equal time for all;
   - `need`: time in proportion to barriers (a key-worker service);
   - `expected_payment`: time where fee x chance of an outcome is highest. Support raises the
     hazard with diminishing returns up to a ceiling (`matching.support_multiplier`), so
     maximising expected fees under the hours budget is water-filling (`allocate_hours`): people
     with low fee x h0 (high barriers, long spells, or low fees) get no time at all. Creaming
     and parking emerge from prices and caseloads; no rule names them.

With `integrated_help`, key workers also refer participants with complex needs to health, care,
housing and debt services, which their payers buy and which lower barriers (`services`, the next
stage); adviser time itself raises job finding only.

Adviser time raises job finding only through the matching weights (`matching.support_multiplier`);
providers never assign jobs. A provider's running costs are its advisers (`adviser_cost_per_month`)
plus management and overheads (`management_overhead_share` of that staff cost). One paid by results
(`provider_funding = "payment_by_results"`) earns fees and meets its costs from them; a grant-funded
service (`"grant"`, a council's key-worker service) is paid its full running cost each month, so a
smaller caseload (more advisers) or dearer advisers cost the public more. Fees and grants are paid
by the lever `provider_payer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from simulation import detmath as dm
from simulation import parallel
from simulation.configfiles import MAX_PAYMENT, Strict
from simulation.declare import Column, Mechanism, Output, Posting, at_least_zero, between, lever, probability
from simulation.mechanisms import matching, providers_kernels, shared_kernels
from simulation.mechanisms._util import claimant_rows
from simulation.mechanisms.world import World
from simulation.people import GROUP_NAMES, People

if TYPE_CHECKING:
    from simulation.config import Levers, Params

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
    overhead_cost: float = 0.0
    at_minimum: bool = False
    seeker_hours: float = 0.0
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
            return water_fill(dm.np_log2(np.maximum(value, 1e-300)), total_hours / half_hours) * half_hours
        x = np.ones(n)
    elif rule == "need":
        x = barrier.astype(np.float64) + 0.1
    else:
        x = np.ones(n)
    return total_hours * x / x.sum()


def water_fill(levels: np.ndarray, budget: float) -> np.ndarray:
    """x_i = max(0, levels_i - L) with sum(x) = budget, exactly (sort, then one pass)."""
    top = -np.sort(-levels)  # descending (the values only: ties are equal, so order among them is moot)
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
    """One month of one provider's work on its district's people (`p` holds its rows only).

    Each row stands for `ppa` people: counts and money returned are for real people.
    """
    owner = np.full(p.n, provider_id, dtype=np.int16)
    ids = np.array([provider_id])
    months, _ = step_all(p, owner, ids, levers, params, u_referral, np.array([q_market]), month, ppa)
    return months[0]


def step_all(
    p: People,
    owner: np.ndarray,
    provider_ids: np.ndarray,
    levers: Levers,
    params: Params,
    u_referral: np.ndarray,
    q_market: np.ndarray,
    month: int,
    ppa: float = 1.0,
    claimants: np.ndarray | None = None,
    attached: np.ndarray | None = None,
    at_minimum: np.ndarray | None = None,
) -> tuple[list[ProviderMonth], np.ndarray]:
    """One month of several providers' work under the same levers; returns each provider's month
    and the rows in their programmes at its end (participants, in row order).

    Provider k (id provider_ids[k]) serves the rows whose `owner` is its id (in the model, a
    district's provider serves the district's people), and q_market[k] is the job-finding rate
    per unit of search weight in its market last month. Every provider does what `step`
    describes; the work touches only claimants and participants (a few per cent of rows), found
    in one pass over every row for all providers. A caller that has either list spares that pass:
    `claimants`, the rows claiming, in order; `attached`, rows in order that include everyone
    attached now, such as last month's participants (only providers refer anyone, so no one else
    can have joined since; those who have left are dropped here). `at_minimum[k]`, if given, says
    provider k is cutting its staff to the contract's minimum this month (`staff_to_minimum`).
    """
    t = group_table(levers)
    nk = len(provider_ids)
    position = np.full(int(max(int(owner.max(initial=0)), int(np.max(provider_ids))) + 1), -1, dtype=np.int64)
    position[provider_ids] = np.arange(nk)

    def block_of(rows: np.ndarray) -> np.ndarray:
        return position[owner[rows]]

    # Counts by provider, of rows or (for rows whose provider is known already) of their providers.
    def by_block(rows: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return count_blocks(block_of(rows), weights)

    def count_blocks(blocks: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(blocks, weights=weights, minlength=nk)

    def by_block_group(rows: np.ndarray, groups: np.ndarray) -> np.ndarray:
        return count_block_groups(block_of(rows), groups)

    def count_block_groups(blocks: np.ndarray, groups: np.ndarray) -> np.ndarray:
        key = blocks * N_GROUPS + groups.astype(np.int64)
        return np.bincount(key, minlength=nk * N_GROUPS).reshape(nk, N_GROUPS) * ppa

    if claimants is None and attached is None:
        found = parallel.map_blocks(
            lambda lo, hi: [
                lo + r
                for r in providers_kernels.attached_and_claimants(p.programme[lo:hi], owner[lo:hi], p.group[lo:hi])
            ],
            p.n,
        )
        attached, claimants = parallel.join(found)
    elif claimants is None:
        claimants = parallel.rows_where(shared_kernels.claiming, p.n, (p.group,))
    elif attached is None:
        attached = parallel.rows_where(providers_kernels.attached, p.n, (p.programme, owner))
    assert attached is not None and claimants is not None
    served = position >= 0
    # Each stage below is one compiled pass over its rows (claimants or participants, scattered
    # over the population's arrays), reading and writing each row's fields together: as numpy
    # expressions, each field of each row would cost a cache miss of its own.
    # Attachment runs for programme_months, then ends; outcomes from last month's matching.
    records = providers_kernels.ProgrammePeople.of(p)
    att, outcome_rows, sustain_rows = providers_kernels.programme_month(
        attached, records, owner, served, levers.programme_months, t["outcome_months"], t["sustainment_payments"]
    )
    # Fees follow the payment group; they are whole pounds, so sums over rows are exact in any order.
    pay = p.eligible_group[outcome_rows]
    outcomes_by_group = by_block_group(outcome_rows, pay)
    sustainments = by_block(sustain_rows)
    fees = by_block(outcome_rows, t["fee_job_outcome"][pay]) + by_block(
        sustain_rows, t["fee_sustainment"][p.eligible_group[sustain_rows]]
    )

    # Eligibility and referral: a claimant out of work for their group's referral months (once).
    ref_rows = providers_kernels.referrals(
        claimants,
        records,
        owner,
        served,
        month,
        t["referral_month"],
        t["referral_share"],
        u_referral,
        float(params.early_access_barrier),
    )
    ref_group = p.eligible_group[ref_rows]
    referrals_by_group = by_block_group(ref_rows, ref_group)
    fees = fees + by_block(ref_rows, t["fee_attachment"][ref_group])
    # Participants now: those still attached and those just referred.
    att = shared_kernels.merge_sorted(att, ref_rows)

    # Advisers and their time, for participants out of work.
    att_block, att_group, seeking, seeking_block, g, seeking_status, skill, one_minus_barrier, barrier = (
        providers_kernels.participants_seeking(att, owner, position, p.eligible_group, p.status, p.skill, p.barrier)
    )
    participants_by_group = count_block_groups(att_block, att_group)
    participants = count_blocks(att_block) * ppa
    # Advisers' time is shared by the whole caseload: participants in work (in-work support, and
    # the checks behind outcome claims) take their share, so the hours for those still seeking
    # work are the seekers' share of the advisers' hours, not all of them.
    seekers = count_blocks(seeking_block) * ppa
    seeking_share = np.divide(
        seekers, participants, out=np.zeros_like(seekers, dtype=np.float64), where=participants > 0
    )
    # Chance of a job this month without support: the market's rate per unit of search weight
    # (last month's) times the person's own weight.
    base_hazard = (
        q_market[seeking_block]
        * matching.intensity(seeking_status, params)
        * matching.employability_fast(p, params, seeking, skill, one_minus_barrier)
    )
    fee_value = (t["fee_job_outcome"] + t["fee_sustainment"] * t["sustainment_payments"])[g]  # by group, then looked up
    value = fee_value * base_hazard
    levels = dm.np_log2(np.maximum(value, 1e-300))
    # Hours an adviser gives those seeking work, and the contract's minimum service.
    seeker_hours_per_adviser = params.adviser_hours_per_month * seeking_share
    floor_hours = levers.minimum_service_hours * seekers
    minimum = _advisers_for(floor_hours, seeker_hours_per_adviser)
    if levers.provider_staffing == "profit":
        wanted = profitable_hours(levels, seeking_block, nk, seeker_hours_per_adviser, params) * ppa
        advisers = _advisers_for(floor_hours + wanted, seeker_hours_per_adviser)
        if at_minimum is not None:
            advisers = np.where(at_minimum, minimum, advisers)
    else:
        advisers = np.ceil(participants / levers.caseload).astype(np.int64)
    advisers = np.maximum(advisers, minimum)
    hours_budget = advisers * params.adviser_hours_per_month * seeking_share
    # Every seeker gets the minimum; the rest of the hours go by the provider's rule.
    floor_each = levers.minimum_service_hours
    spare = np.maximum(hours_budget - floor_hours, 0.0)
    hours = np.zeros(seeking.size)
    # Each provider's participants in row order (already so when providers serve blocks of rows).
    order = np.argsort(seeking_block, kind="stable")
    cuts = np.searchsorted(seeking_block[order], np.arange(nk + 1))
    if levers.effort_rule == "expected_payment":  # every provider's water-fill in one compiled call
        neg = -levels[order]
        for k in range(nk):
            neg[cuts[k] : cuts[k + 1]].sort()
        providers_kernels.water_fill_groups(
            value, levels, order, cuts, neg, spare / ppa, params.support_half_hours, hours
        )
    else:
        for k in range(nk):  # the budget is each provider's own: share it among its own participants
            mine = order[cuts[k] : cuts[k + 1]]
            if mine.size:
                hours[mine] = allocate_hours(
                    spare[k] / ppa,
                    levers.effort_rule,
                    base_hazard[mine],
                    barrier[mine],
                    fee_value[mine],
                    params.support_half_hours,
                )
    if floor_each > 0:
        hours += floor_each
    providers_kernels.scatter_float32(seeking, hours, p.support_hours)
    # Parking is judged on barriers as the provider found them this month.
    high = barrier >= HIGH_BARRIER
    high_seeking = count_blocks(seeking_block[high])
    parked = count_blocks(seeking_block[high & (hours < PARKED_HOURS)])

    out = []
    for k in range(nk):
        m = ProviderMonth(
            referrals_by_group=referrals_by_group[k],
            outcomes_by_group=outcomes_by_group[k],
            participants_by_group=participants_by_group[k],
        )
        m.job_outcomes = float(m.outcomes_by_group.sum())
        m.sustainment_payments = float(sustainments[k] * ppa)
        m.referrals = float(m.referrals_by_group.sum())
        m.participants = float(participants[k])
        m.advisers = int(advisers[k])
        m.hours = m.advisers * params.adviser_hours_per_month
        m.seeker_hours = float(hours_budget[k])
        m.at_minimum = bool(at_minimum[k]) if at_minimum is not None and levers.provider_staffing == "profit" else False
        m.high_barrier_seeking = float(high_seeking[k] * ppa)
        m.parked = float(parked[k] * ppa)
        m.fees = float(fees[k] * ppa)
        m.delivery_cost, m.overhead_cost, m.grant = running_costs(m.advisers, levers, params)
        out.append(m)
    return out, att


def running_costs(advisers: int, levers: Levers, params: Params) -> tuple[float, float, float]:
    """A provider's month of running costs, and the grant that meets them.

    Staff cost is its advisers at `adviser_cost_per_month` (pay and employer's on-costs);
    management, supervision, premises and support services add `management_overhead_share` of
    it. A grant-funded service (`provider_funding = "grant"`) is paid both by its payer each
    month, so what it costs the public follows the advisers its caseload needs; a provider paid
    by results meets them out of its fees. Returns (staff, overheads, grant).
    """
    staff = advisers * params.adviser_cost_per_month
    overheads = staff * params.management_overhead_share
    grant = staff + overheads if levers.provider_funding == "grant" else 0.0
    return staff, overheads, grant


def _advisers_for(hours: np.ndarray, hours_per_adviser: np.ndarray) -> np.ndarray:
    """Whole advisers giving at least `hours` to those seeking work (none where nobody seeks)."""
    need = np.divide(hours, hours_per_adviser, out=np.zeros_like(hours, dtype=np.float64), where=hours_per_adviser > 0)
    return np.ceil(need).astype(np.int64)


def hour_price_threshold(seeker_hours_per_adviser: np.ndarray, params: Params) -> np.ndarray:
    """log2 of the expected fee per month (fee x chance of a job) below which an hour of adviser
    time costs a provider paid by results more than it brings in, for each provider.

    An adviser hour given to someone seeking work costs the adviser's pay, on-costs and overheads
    over the hours they give seekers (in-work participants take the rest). Support raises the
    chance of a job by v_i * M * (1 - 2^(-e/h)) for expected fee v_i = fee x chance, so its
    marginal value at e hours is v_i * M * ln2 / h * 2^(-e/h); hours are worth buying while that
    is at least the price: e_i = h * max(0, log2(v_i) - T) with T = log2(h * price / (M ln 2)).
    M here is what the provider expects its advisers to achieve (`provider_expected_support_effect`,
    from the outcome rates primes bid), not what they do (`support_max_effect`): a business staffs
    on its expectations. Nobody is worth an hour where M = 0 (T is infinite)."""
    cost = params.adviser_cost_per_month * (1.0 + params.management_overhead_share)
    price = np.divide(
        cost,
        seeker_hours_per_adviser,
        out=np.full(seeker_hours_per_adviser.shape, np.inf),
        where=seeker_hours_per_adviser > 0,
    )
    gain = params.provider_expected_support_effect * dm.LN2_DD[0] / params.support_half_hours
    if gain <= 0:
        return np.full(price.shape, np.inf)
    return dm.np_log2(price / gain)


def profitable_hours(
    levels: np.ndarray, block: np.ndarray, nk: int, seeker_hours_per_adviser: np.ndarray, params: Params
) -> np.ndarray:
    """Adviser hours a provider paid by results would buy this month, by provider (for rows, not
    real people): for each participant seeking work, the hours whose expected fees cover their
    cost (`hour_price_threshold`), with `levels` = log2 of each one's fee x chance of a job, up
    to an adviser's whole month."""
    threshold = hour_price_threshold(seeker_hours_per_adviser, params)
    # At most an adviser's whole month for one person: free advisers (a zero cost) buy no more.
    each = np.minimum(
        params.support_half_hours * np.maximum(levels - threshold[block], 0.0), params.adviser_hours_per_month
    )
    return np.bincount(block, weights=each, minlength=nk)


def staff_to_minimum(profits: list[float], months_run: int, params: Params) -> bool:
    """Whether a provider paid by results cuts its advisers to the contract's minimum this month.

    It may not run at a loss for long: once it has run `provider_grace_months` (fees come months
    after referral: a job, then 3 or 6 months in it), it looks at its last 12 months' accounts
    (fees less staff and overheads) and, if they show a loss, keeps only the advisers the
    minimum-service standard needs until they show a profit again. This is what the NAO (2014)
    found primes did when outcomes fell short: they cut spending on the hardest to help to stay
    viable. A provider at the minimum still makes a loss only if the contract's minimum costs
    more than its fees; the run reports those months (`provider_at_minimum`)."""
    if months_run < params.provider_grace_months or len(profits) < 12:
        return False
    return sum(profits[-12:]) < 0.0


# ---- the month's stages (`simulation.model.MONTH`)


def run_claimants(w: World) -> None:
    """The month's claimants, listed once for providers, developers and partnerships.

    Each works with them, rather than scanning every row. No one starts a claim in between, and
    those whose claims developers' hires end are filtered out (`_util.long_claimants`)."""
    w.claimants = claimant_rows(w.people)


def run(w: World) -> None:
    """Everyone claiming and out of work gets Jobcentre Plus time; in policy months each
    district's provider refers, attaches, supports, parks and is paid (programmes replace JCP time).

    The providers' months run in one pass over the claimants for each set of levers (normally
    one set for all); each provider serves its district's block of rows and sets its own
    participants' hours."""
    people = w.people
    hours = w.params.jcp_hours_per_claimant_month
    parallel.map_blocks(
        lambda lo, hi: providers_kernels.jcp_hours(
            people.status[lo:hi], people.benefit[lo:hi], hours, people.support_hours[lo:hi]
        ),
        people.n,
    )
    if not w.policy:
        return
    claimants = w.claimants
    assert claimants is not None  # listed in every policy month
    q_district = w.q_prev[w.district_market]
    by_levers: dict[int, list[Any]] = {}
    found: list[np.ndarray] = []
    for prov in w.providers:
        by_levers.setdefault(id(prov.levers), []).append(prov)
    for group in by_levers.values():
        districts = np.array([prov.district for prov in group])

        def span(a: int, b: int, group: list[Any] = group, districts: np.ndarray = districts) -> np.ndarray:
            # Providers of districts a..b on their own rows (a provider's work touches only its
            # district's rows and their own referral draws, so spans of districts run apart).
            mine = np.flatnonzero((districts >= a) & (districts < b))
            if mine.size == 0:
                return np.zeros(0, dtype=np.int64)
            lo, hi = int(w.offsets[a]), int(w.offsets[b])
            rows = people.rows(lo, hi)
            first, last = np.searchsorted(claimants, (lo, hi))
            if w.participants is None:
                attached = None
            else:
                i, j = np.searchsorted(w.participants, (lo, hi))
                attached = w.participants[i:j] - lo
            cut = np.array([group[k].cutting_to_minimum(w.params) for k in mine], dtype=bool)
            months, participants = step_all(
                rows,
                rows.district,
                districts[mine],
                group[0].levers,
                w.params,
                w.referral_key[lo:hi],
                q_district[districts[mine]],
                w.month,
                w.ppa,
                claimants[first:last] - lo,
                attached,
                cut,
            )
            for k, month in zip(mine, months, strict=True):
                group[k].close_month(month)
            return participants + lo

        found.extend(parallel.map_districts(span, w.offsets))
    # Spans of one set of levers come in row order; several sets interleave.
    w.participants = np.concatenate([np.zeros(0, dtype=np.int64), *found])
    if len(by_levers) > 1:
        w.participants.sort()
    for payer in {prov.levers.provider_payer for prov in w.providers}:
        fees = [p.last.fees + p.last.grant if p.levers.provider_payer == payer else 0.0 for p in w.providers]
        w.ledger.post(f"programme_payments_{payer}", np.array(fees))
    w.ledger.post("provider_delivery", np.array([p.last.delivery_cost for p in w.providers]))
    w.ledger.post("provider_overheads", np.array([p.last.overhead_cost for p in w.providers]))


# ---- what this mechanism owns (`simulation.declare`)

GROUPS = GROUP_NAMES[1:]  # the payment groups, in the order of people's group codes 1..7


class GroupLevers(Strict):
    """How a provider takes and is paid for one claimant group (the Work Programme's payment groups)."""

    referral_month: int = Field(ge=0, le=120, description="months on benefit before referral")
    referral_share: float = Field(ge=0, le=1, description="share of eligible claimants referred")
    fee_attachment: float = Field(ge=0, le=MAX_PAYMENT, description="£ paid at referral")
    fee_job_outcome: float = Field(ge=0, le=MAX_PAYMENT, description="£ paid when a job outcome is reached")
    fee_sustainment: float = Field(ge=0, le=MAX_PAYMENT, description="£ per further month in work after the outcome")
    sustainment_payments: int = Field(ge=0, le=120, description="most sustainment payments per participant")
    outcome_months: int = Field(ge=1, le=24, description="continuous months in work that trigger the outcome fee")


class GroupTable(Strict):
    jsa_18_24: GroupLevers
    jsa_25_plus: GroupLevers
    jsa_ex_ib: GroupLevers
    esa_new: GroupLevers
    esa_ex_ib: GroupLevers
    jsa_early_access: GroupLevers  # referral_month and referral_share: early referral of the disadvantaged
    esa_volunteer: GroupLevers  # referral_share: new ESA claimants who volunteer, beyond esa_new's share

    def by_index(self) -> list[GroupLevers]:
        """Levers in the order of people.GROUP codes 1..7 (index 0 is 'no group')."""
        return [getattr(self, g) for g in GROUPS]


# The provider's month as results columns: `ProviderMonth` attribute -> column.
PROGRAMME_COLUMNS = {
    "referrals": ("programme_referrals", "people referred to a programme"),
    "job_outcomes": ("programme_job_outcomes", "job outcomes reached (the fee's definition)"),
    "sustainment_payments": ("programme_sustainment_payments", "sustainment payments due"),
    "advisers": ("programme_advisers", "advisers employed"),
    "fees": ("programme_fees", "fees earned (£)"),
    "grant": ("programme_grant", "grant paid to a grant-funded service: its staff cost and overheads (£)"),
    "delivery_cost": ("programme_delivery_cost", "providers' delivery costs: advisers' pay and on-costs (£)"),
    "overhead_cost": ("programme_overhead_cost", "providers' management and overheads (£)"),
    "seeker_hours": ("programme_seeker_hours", "adviser hours given to participants seeking work"),
    "at_minimum": (
        "provider_at_minimum",
        "1 where a provider paid by results staffs at the contract's minimum after a year's losses",
    ),
    "high_barrier_seeking": ("high_barrier_seeking", "participants with high barriers still looking for work"),
    "parked": ("parked", "participants getting almost no adviser time"),
}
# Per payment group: `ProviderMonth` array -> column prefix.
GROUP_COLUMNS = {"referrals": "referrals", "outcomes": "job_outcomes", "participants": "participants"}


def _unit(doc: str) -> str:
    return (
        "£"
        if "(£)" in doc
        else "hours"
        if doc.startswith("adviser hours")
        else "providers"
        if doc.startswith("1 where")
        else "people"
    )


def report(w: World) -> dict[str, np.ndarray]:
    """Each district's provider's month (`Provider.last`)."""
    out: dict[str, np.ndarray] = {}
    for key, (col, _) in PROGRAMME_COLUMNS.items():
        out[col] = np.array([getattr(pr.last, key) for pr in w.providers], dtype=np.float64)
    for g, name in enumerate(GROUP_NAMES[1:], 1):
        for key, prefix in GROUP_COLUMNS.items():
            out[f"{prefix}_{name}"] = np.array([getattr(pr.last, key + "_by_group")[g] for pr in w.providers])
    return out


MECHANISM = Mechanism(
    name="providers",
    doc=__doc__ or "",
    parameters={
        "adviser_hours_per_month": between(1.0, 744.0),
        "adviser_cost_per_month": at_least_zero(1e5),
        "management_overhead_share": between(0.0, 2.0),
        "support_max_effect": between(0.0, 0.35),
        "support_half_hours": between(0.01, 100.0),
        "jcp_hours_per_claimant_month": at_least_zero(100.0),
        "early_access_barrier": probability(),
        "provider_grace_months": between(0.0, 120.0),
        "provider_expected_support_effect": between(0.0, 5.0),
    },
    person_fields=(
        Column("programme", "int16", "provider index or NO_PROGRAMME"),
        Column("months_in_programme", "int16", ""),
        Column("ever_referred", "bool", ""),
        Column("work_months", "int16", "consecutive months in work while attached (for outcome fees)"),
        Column("outcome_paid", "bool", ""),
        Column("sustain_paid", "int16", "sustainment months paid"),
        Column("support_hours", "float32", "adviser hours received this month"),
        Column("eligible_month", "int16", "month first eligible for referral (NOT_ELIGIBLE if never)"),
        Column("eligible_group", "int8", "claimant group when first eligible (the payment group)"),
        Column("cohort_work", "int16", "continuous months in work since becoming eligible"),
        Column("outcome_month", "int16", "month of the official job outcome (NOT_ELIGIBLE if none)"),
    ),
    levers={
        "programme_months": lever(int, "months of attachment", ge=1, le=120),
        "caseload": lever(float, "participants per adviser, where the caseload sets the staff", ge=1, le=2000),
        "provider_staffing": lever(
            Literal["caseload", "profit"],
            "how the provider's advisers are set: by the caseload lever, or by a provider paid by results "
            "buying the adviser hours whose expected fees cover their cost",
        ),
        "minimum_service_hours": lever(
            float,
            "the contract's minimum service: adviser hours a month every participant seeking work gets",
            ge=0,
            le=100,
        ),
        "effort_rule": lever(Literal["uniform", "expected_payment", "need"], "how advisers share their time"),
        "provider_funding": lever(
            Literal["payment_by_results", "grant"],
            "how the provider is paid: by results (its fees) or by a grant meeting its staff and overheads each month",
        ),
        "provider_payer": lever(Literal["exchequer", "council"], "who pays the programme's fees and grants"),
        "groups": lever(GroupTable, "referral and payment by claimant group"),
    },
    outputs=(
        *(Output(col, doc, _unit(doc)) for col, doc in PROGRAMME_COLUMNS.values()),
        *(
            Output(f"{prefix}_{name}", f"{prefix.replace('_', ' ')} of payment group {name}")
            for name in GROUP_NAMES[1:]
            for prefix in GROUP_COLUMNS.values()
        ),
    ),
    report=report,
    postings={
        "programme_payments_exchequer": Posting(
            "exchequer", "provider", "employment_support", "programme fees and grants paid by the Exchequer"
        ),
        "programme_payments_council": Posting(
            "council", "provider", "employment_support", "programme fees and grants paid by councils"
        ),
        "provider_delivery": Posting("provider", "economy", "provider_costs", "providers' advisers"),
        "provider_overheads": Posting(
            "provider", "economy", "provider_costs", "providers' management, premises and support services"
        ),
    },
)
