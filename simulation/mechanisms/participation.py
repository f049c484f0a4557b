"""Moves between inactivity and job search, ill health, and the turnover of the working-age population.

Unemployed people stop searching (to inactivity) at `exit_rate_ui`; inactive people start
searching at a district rate set when the place is built, so that inactivity holds near its
documented level (see `entry_rates`). When jobs get scarcer than they were at the end of the
burn-in, people hold on to the labour force: the inactive who would have been hired directly
search instead and the unemployed stop searching less often, as UK participation held up in
2008-09 (`search_rates`, `participation_response`; Elsby, Smith and Wadsworth 2011, Singleton
2018). People out of work fall ill and claim ESA at a district
rate set the same way, so the ESA caseload holds near the place's documented rate
(`esa_onflow_rates`). People age on their birthday month; at 65 they leave, and a school leaver
takes the slot, entering as inactive (in education).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation import parallel
from simulation.declare import Mechanism, Output, probability
from simulation.firms import Firms
from simulation.mechanisms import participation_kernels
from simulation.mechanisms._util import count_by, running_average
from simulation.mechanisms.world import World
from simulation.people import (
    EMPLOYED,
    ESA,
    INACTIVE,
    LINK_MONTHS,
    UNEMPLOYED,
    People,
    claim_propensity,
    draw_employability,
)
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Params

WORKING_YEARS = 49  # ages 16 to 64
FINDING_SMOOTHING_MONTHS = 3.0  # people judge their chances over about a quarter (assumption)
SETTLE_MONTHS = 6.0  # the burn-in takes a gap to the built inactivity away over about half a year


def entry_rates(people: People, inactive_job_finding: np.ndarray, params: Params, n_districts: int) -> np.ndarray:
    """District rates of inactivity -> search that balance the flows into and out of inactivity.

    Inflows are unemployed leaving the labour force, employed leaving work for inactivity, and
    school leavers replacing retirees from work or search (a 49th of them a year); outflows are
    the inactive who find work directly plus those who start to search. Setting the search-start
    rate to balance them at the documented stocks keeps inactivity stationary.
    """
    e = count_by(people.district, people.status == EMPLOYED, n_districts)
    u = count_by(people.district, people.status == UNEMPLOYED, n_districts)
    i = count_by(people.district, people.status == INACTIVE, n_districts)
    retiring = (e + u) / (WORKING_YEARS * 12)
    inflow = u * params.exit_rate_ui + e * params.sep_rate_ei + retiring
    rate = (inflow - inactive_job_finding) / np.maximum(i, 1)
    return np.clip(rate, 0.0, 1.0)


def esa_onflow_rates(people: People, esa_exits: np.ndarray, n_districts: int) -> np.ndarray:
    """District rates at which people out of work and not on ESA start an ESA claim, balancing the
    expected exits from ESA (into work, and retirement) at the starting stocks."""
    esa = people.benefit == ESA
    pool = (people.status != EMPLOYED) & ~esa
    retiring = np.bincount(people.district[esa], minlength=n_districts) / (WORKING_YEARS * 12)
    return np.clip(
        (esa_exits + retiring) / np.maximum(np.bincount(people.district[pool], minlength=n_districts), 1), 0.0, 1.0
    )


def step(
    people: People,
    params: Params,
    streams: Streams,
    month: int,
    entry_rate: np.ndarray,
    exit_rate: np.ndarray,
    esa_onflow: np.ndarray,
    flows: dict[str, np.ndarray],
    n_districts: int,
) -> None:
    # One fused pass over every row (`participation_kernels.participation`): leaving and starting
    # search, with the JSA claims that follow, then ill health. A jobseeker who stops searching
    # stops claiming JSA; an ESA claimant keeps ESA either way. Ill people out of work start an ESA
    # claim and leave the search, with higher barriers.
    tabs = (streams.table("participation", month), streams.table("ill_health", month), streams.table("claim", month))
    rates = participation_kernels.ParticipationRates(
        exit_rate_ui=np.asarray(exit_rate, dtype=np.float64),
        entry_rate=np.asarray(entry_rate, dtype=np.float64),
        esa_onflow=np.asarray(esa_onflow, dtype=np.float64),
    )
    movers = participation_kernels.ParticipationPeople.of(people)

    def block(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        counts = np.zeros((3, n_districts), dtype=np.int64)  # this block's u_to_i, i_to_u, esa_onflows
        block_flows = participation_kernels.ParticipationFlows(
            u_to_i=counts[0], i_to_u=counts[1], esa_onflows=counts[2]
        )
        ill = participation_kernels.participation(lo, hi - lo, *tabs, movers, rates, block_flows)
        return counts, ill

    blocks = parallel.map_blocks(block, people.n)
    counts = sum(c for c, _ in blocks)
    flows["u_to_i"] += counts[0]
    flows["i_to_u"] += counts[1]
    flows["esa_onflows"] += counts[2]
    ill_rows = np.concatenate([ill for _, ill in blocks])
    new_barrier = 0.45 + 0.5 * streams.uniform_at("ill_health_barrier", month, ill_rows)
    people.barrier[ill_rows] = np.maximum(people.barrier[ill_rows], new_barrier).astype(np.float32)


def prefetch_draws(streams: Streams, month: int, birthday_rows: np.ndarray) -> None:
    """Start drawing this month's school leavers' skills in the background (see `age`)."""
    streams.prefetch_normal("newcomer_skill", month, birthday_rows.size)


def age(
    people: People,
    firms: Firms,
    params: Params,
    streams: Streams,
    month: int,
    birthday_rows: np.ndarray,
    school_employer_coverage: float,
    flows: dict[str, np.ndarray],
    n_districts: int,
) -> None:
    """People whose birthday falls this month (`birthday_rows`) age a year; 65-year-olds retire and
    a school leaver takes each slot. Birthdays are spread over the year so retirements are smooth.
    Draws are indexed by position in the month's birthday list, which never changes for a slot."""
    at = participation_kernels.birthdays(people.age, birthday_rows, 16 + WORKING_YEARS)  # positions of the retiring
    rows = birthday_rows[at]
    if rows.size == 0:
        return
    participation_kernels.school_leavers(
        rows, participation_kernels.SchoolLeaverPeople.of(people), flows["retirements"], firms.size
    )
    n = birthday_rows.size  # positions in the birthday list index the draws
    people.skill[rows] = (streams.normal("newcomer_skill", month, n)[at] * params.skill_sd).astype(np.float32)
    people.employability[rows] = draw_employability(streams.normal("newcomer_employability", month, n)[at], params)
    people.claim_propensity[rows] = claim_propensity(people.employability[rows], params)
    people.barrier[rows] = (0.2 * streams.uniform_rows("newcomer_barrier", month, at)).astype(np.float32)
    people.complex_needs[rows] = streams.uniform_rows("newcomer_complex", month, at) < params.complex_needs_share_other
    # Schools-employers links: the covered share of school leavers has met employers 4+ times.
    people.employer_contacts[rows] = streams.uniform_rows("school_links", month, at) < school_employer_coverage
    people.reset_newcomers(rows)


# ---- the month's stages (`simulation.model.MONTH`)


def run_count_months(w: World) -> None:
    """Everyone's months in their current status go up by one, and so do the months out of work
    of people whose spell goes on (linked across short gaps, as DWP links claims)."""
    p = w.people
    parallel.map_blocks(
        lambda lo, hi: participation_kernels.count_months(
            p.status[lo:hi], p.benefit[lo:hi], p.months_in_status[lo:hi], p.months_out[lo:hi], 32000, LINK_MONTHS
        ),
        p.n,
    )


def run_ageing(w: World) -> None:
    """Birthdays: the old retire and school leavers take their rows (schools meet employers
    under the regime's coverage)."""
    coverage = w.levers.school_employer_coverage if w.policy else 0.0
    age(
        w.people, w.firms, w.params, w.streams, w.month, w.birthday_rows[w.month % 12], coverage, w.flows, w.n_districts
    )


def market_attachment(w: World) -> np.ndarray:
    """Each market's job-finding rate (per unit of search, averaged over a quarter) over its value
    at the end of the burn-in; 1.0 in the burn-in and where a market had no hires."""
    if w.finding_ref is None:
        return np.ones(w.finding_avg.shape[0])
    ok = (w.finding_ref > 0) & (w.finding_avg > 0)
    return np.where(ok, w.finding_avg / np.where(ok, w.finding_ref, 1.0), 1.0)


def attachment_ratio(w: World) -> np.ndarray:
    """`market_attachment` by district."""
    return market_attachment(w)[w.district_market]


def search_rates(w: World) -> tuple[np.ndarray, np.ndarray]:
    """This month's rates of starting and of stopping search, by district.

    When a market's job finding r (relative to the end of the burn-in) falls, people hold on to
    the labour force: a share k = `participation_response` of the direct hires the inactive
    lose become search starts, and the unemployed leave the search less often,

        start = start as built + k x (the inactive's direct finding as built) x (1 - r)
        stop  = exit_rate_ui x (1 - k x (1 - r)),

    and the other way round when it rises. At k = 0 both are as built, whatever the market does.
    """
    k = w.params.participation_response
    stop = np.full(w.n_districts, float(w.params.exit_rate_ui))
    if k == 0.0 or w.finding_ref is None:
        return w.entry_rate, stop
    slack = 1.0 - attachment_ratio(w)
    start = np.clip(w.entry_rate + k * w.inactive_finding * slack, 0.0, 1.0)
    return start, np.clip(stop * (1.0 - k * slack), 0.0, 1.0)


def update_finding(w: World, q: np.ndarray) -> None:
    """Fold this month's job-finding rates by market into their quarter average (after matching)."""
    w.finding_avg = running_average(w.finding_avg, q, w.finding_seen, FINDING_SMOOTHING_MONTHS)
    w.finding_seen = True


def settle_entry_rates(w: World, finding: np.ndarray) -> None:
    """In the burn-in: the search-start rates that balance inactivity's flows at this month's
    make-up of the inactive, nudged towards the inactivity the place was built with.

    `entry_rates` balances the flows at the people the place is built with, but the inactive's
    make-up is not yet the one the model settles into: those most likely to be hired directly
    go first, and the inactive's direct job finding falls through the burn-in (England's from
    0.028 to 0.024 a month), so inactivity grew and unemployment drained for years (session 16).
    After each burn-in month's matching (`matching.run`) the rate is worked out again from the
    inactive's expected direct job finding by district at that month's market rates (`finding`),
    plus the rate that would take any gap to the built inactivity away over SETTLE_MONTHS. It
    stays at its last value from the end of the burn-in; the inactive's direct job finding per
    person, which the participation response scales (`search_rates`), is renewed with it."""
    people = w.people
    n = count_by(people.district, people.status == INACTIVE, w.n_districts).astype(np.float64)
    gap = (n - w.inactive_built) / (SETTLE_MONTHS * np.maximum(n, 1.0))
    w.entry_rate = np.clip(entry_rates(people, finding, w.params, w.n_districts) + gap, 0.0, 1.0)
    w.inactive_finding = finding / np.maximum(n, 1.0)


def run(w: World) -> None:
    """People move between unemployment and inactivity; ESA claims start."""
    start, stop = search_rates(w)
    step(w.people, w.params, w.streams, w.month, start, stop, w.esa_onflow, w.flows, w.n_districts)


# ---- what this mechanism owns (`simulation.declare`)

MECHANISM = Mechanism(
    name="participation",
    doc=__doc__ or "",
    parameters={"exit_rate_ui": probability(), "participation_response": probability()},
    flows=(
        Output("u_to_i", "unemployed people who stop looking for work"),
        Output("i_to_u", "inactive people who start looking for work"),
        Output("retirements", "people reaching 65, replaced by school leavers"),
        Output("esa_onflows", "people out of work who fall ill and claim ESA"),
    ),
)
