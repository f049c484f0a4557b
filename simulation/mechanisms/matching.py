"""Search and matching in each travel-to-work market.

Per market m, with effective searchers S_m (the sum of searchers' weights) and vacancies V_m,
matches follow the aggregate matching function M_m = A * S_m^alpha * V_m^(1-alpha)
(Petrongolo & Pissarides 2001), capped by V_m. Searcher i finds work with probability
1 - exp(-M_m * w_i / S_m), so matches are shared by weight. Because alpha < 1, raising some
searchers' weights raises total matches by less than their own gain: the rest is taken from
other searchers (displacement, as in Crepon et al. 2013).

A weight is search intensity x employability (skill, barriers, scarring by the months of the
spell out of work, linked across short gaps, and persistent employability) x support
(1 + beta * adviser_hours^gamma) x mentoring and employer contacts x a sanction's effect while
one runs (`conditionality`). Hires are shared among firms in proportion to their vacancies
by sorting per-firm random keys, never by a global permutation, so common random numbers hold.
Everything is sorting and counting: O(people + vacancies), never people x vacancies.
"""

from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING

import numpy as np

from simulation import detmath as dm
from simulation import parallel
from simulation.declare import Mechanism, Output, at_least_zero, between, probability
from simulation.firms import Firms
from simulation.mechanisms import demand, matching_kernels, participation, shared_kernels
from simulation.mechanisms._util import (
    int_sum_by,
    rank_within_sorted_groups,
    sort_by_group_then_key,
    sum_by,
    sum_by_sorted,
)
from simulation.mechanisms.world import World
from simulation.people import (
    DURATION_BINS,
    DURATION_EDGES,
    EMPLOYED,
    INACTIVE,
    UNEMPLOYED,
    People,
    wage_for,
)
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Params


def employability(
    people: People, params: Params, rows: np.ndarray | slice = slice(None), status: np.ndarray | None = None
) -> np.ndarray:
    """How attractive a searcher is to employers, before support: 1 for a typical new jobseeker.
    Skill, barriers, the scar of the spell out of work so far (`months_out`, linked across short
    gaps, whatever the searcher's status) and persistent employability. (`status` is accepted for
    callers that pass it; employability no longer depends on it.)"""
    scar_months = np.minimum(people.months_out[rows], params.duration_scarring_max_months)
    scar = dm.np_exp(-params.duration_scarring * scar_months)
    return (
        dm.np_exp(params.skill_elasticity * people.skill[rows])
        * dm.np_power(1.0 - people.barrier[rows], params.barrier_exponent)
        * scar
        * people.employability[rows]
    )


def intensity(status: np.ndarray, params: Params) -> np.ndarray:
    """Search intensity by status: the unemployed search fully, the inactive a little, the employed not."""
    by_status = np.zeros(max(EMPLOYED, UNEMPLOYED, INACTIVE) + 1)
    by_status[UNEMPLOYED], by_status[INACTIVE] = 1.0, params.inactive_search_intensity
    return by_status[status]


def support_multiplier(hours: np.ndarray, params: Params) -> np.ndarray:
    """Adviser time raises job finding with diminishing returns, up to a ceiling:
    1 + max_effect * (1 - 2^(-hours / half_hours)); half_hours of time a month gives half the ceiling."""
    return 1.0 + params.support_max_effect * -dm.np_expm1(
        np.float64(-dm.LN2_DD[0]) * np.maximum(hours, 0.0) / params.support_half_hours  # in float64
    )


def partnership_multiplier(people: People, params: Params, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Mentoring after an employer placement, and school employer contacts for the young
    (see `partnerships`), raise search weight."""
    mult = np.where(people.mentor_months[rows] > 0, 1.0 + params.mentoring_effect, 1.0)
    young_with_contacts = people.employer_contacts[rows] & (people.age[rows] < 25)
    return np.where(young_with_contacts, mult / params.employer_contact_neet_hr, mult)


def sanction_multiplier(people: People, params: Params, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """A claimant under a benefit sanction searches harder (`conditionality`): their job finding
    is `sanction_job_effect` times what it would be while the sanction runs."""
    return np.where(people.sanction_months[rows] > 0, params.sanction_job_effect, 1.0)


def search_weights(people: People, params: Params, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Each searcher's weight in matching (zero for the employed, who do not search)."""
    status = people.status[rows]
    return (
        intensity(status, params)
        * employability(people, params, rows, status)
        * support_multiplier(people.support_hours[rows], params)
        * partnership_multiplier(people, params, rows)
        * sanction_multiplier(people, params, rows)
    )


def scarring_by_month(params: Params) -> np.ndarray:
    """exp(-scarring * min(months, cap)) for whole months 0, 1, ... up to the cap (months
    past it share the last value; int16 months stop at 32767): the same numbers `employability`
    takes exp of, so a table read gives its values bit for bit. Made once for each pair of
    parameter values (a month at 10,000 people spent a tenth of its matching time making it)."""
    return _scarring_table(params.duration_scarring, params.duration_scarring_max_months)


@functools.lru_cache(maxsize=64)
def _scarring_table(scarring: float, cap: float) -> np.ndarray:
    last = int(min(max(np.ceil(cap), 0), np.iinfo(np.int16).max))
    return dm.np_exp(-scarring * np.minimum(np.arange(last + 1), cap))


def search_weights_fast(people: People, params: Params, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """`search_weights` of these rows, bit for bit, in two compiled passes (the gathers and the
    arithmetic) around numpy's exp, power and expm1 (numba's versions round differently).
    Scarring is read from a table by whole months, and expm1 is taken only for rows with
    adviser hours (for the rest the support multiplier is exactly 1). Into `out` if given."""
    n = rows.shape[0]
    sk, omb, y = np.empty(n, np.float32), np.empty(n, np.float32), np.empty(n + 1)
    k = matching_kernels.search_inputs(
        rows,
        people.skill,
        people.barrier,
        people.support_hours,
        -dm.LN2_DD[0],
        float(params.support_half_hours),
        sk,
        omb,
        y,
    )
    np.multiply(params.skill_elasticity, sk, out=sk)
    dm.np_exp(sk, out=sk)
    dm.np_power(omb, params.barrier_exponent, out=omb)
    dm.np_expm1(y[:k], out=y[:k])
    out = np.empty(n) if out is None else out
    effects = matching_kernels.SearchEffects(
        inactive_intensity=float(params.inactive_search_intensity),
        max_effect=float(params.support_max_effect),
        mentored=1.0 + params.mentoring_effect,
        contact_hr=float(params.employer_contact_neet_hr),
        sanctioned=float(params.sanction_job_effect),
    )
    searchers = matching_kernels.SearcherPeople.of(people)
    matching_kernels.search_weights(rows, searchers, sk, omb, scarring_by_month(params), y, effects, out)
    return out


def employability_fast(
    people: People,
    params: Params,
    rows: np.ndarray,
    skill: np.ndarray | None = None,
    one_minus_barrier: np.ndarray | None = None,
) -> np.ndarray:
    """`employability` of these rows, bit for bit, as `search_weights_fast` works it out. A caller
    that has read the rows' skill and 1 - barrier already passes them (float32; they are used up)."""
    n = rows.shape[0]
    sk = people.skill[rows] if skill is None else skill
    omb = np.float32(1.0) - people.barrier[rows] if one_minus_barrier is None else one_minus_barrier
    np.multiply(params.skill_elasticity, sk, out=sk)
    dm.np_exp(sk, out=sk)
    dm.np_power(omb, params.barrier_exponent, out=omb)
    out = np.empty(n)
    matching_kernels.employability(
        rows, people.months_out, people.employability, sk, omb, scarring_by_month(params), out
    )
    return out


def searchers_and_weights(
    people: People, params: Params, person_market: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows out of work (in order), their `search_weights` and their markets. Each thread
    counts its block's searchers, then lists them and works out their weights straight into its
    part of the outputs (nothing to join): each weight is a product of per-row factors, so
    splitting the rows changes nothing."""
    counts = parallel.map_blocks(lambda lo, hi: matching_kernels.out_of_work(people.status[lo:hi]), people.n)
    starts = [0, *itertools.accumulate(counts)]  # (a few Python ints: numpy would cost more)
    n = int(starts[-1])
    rows, weights, markets = np.empty(n, np.int64), np.empty(n), np.empty(n, person_market.dtype)
    first_of = {lo: (int(starts[b]), int(starts[b + 1])) for b, (lo, _) in enumerate(parallel.blocks(people.n))}

    def block(lo: int, hi: int) -> None:
        a, b = first_of[lo]
        matching_kernels.list_out_of_work(people.status[lo:hi], lo, rows[a:b])
        np.take(person_market, rows[a:b], out=markets[a:b])
        search_weights_fast(people, params, rows[a:b], weights[a:b])

    parallel.map_blocks(block, people.n)
    return rows, weights, markets


def market_rates(
    weights: np.ndarray,
    vacancies_by_market: np.ndarray,
    person_market: np.ndarray,
    params: Params,
    markets_sorted: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Matches per market, and the job-finding rate per unit of search weight (`person_market`
    is the market of each weighted row; `markets_sorted` when it never decreases, as for
    searchers in row order, so markets' sums can run on threads)."""
    n_markets = vacancies_by_market.shape[0]
    s = (sum_by_sorted if markets_sorted else sum_by)(person_market, weights, n_markets)
    v = vacancies_by_market.astype(np.float64)
    m = params.matching_efficiency * dm.np_power(s, params.matching_alpha) * dm.np_power(v, 1 - params.matching_alpha)
    m = np.minimum(m, v)
    q = np.divide(m, s, out=np.zeros_like(m), where=s > 0)
    return m, q


STEADY_STATE_ROUNDS = 30  # fixed-point rounds of `steady_state_vacancies` (converged to ~1e-12 in under 15)


def finding_chance(q: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each searcher's chance of finding work this month, 1 - exp(-q w), from their market's
    job-finding rate per unit of search weight q and their own weight w."""
    return -dm.np_expm1(-q * weights)


def steady_state_vacancies(
    people: People, employed: np.ndarray, person_market: np.ndarray, district_market: np.ndarray, params: Params
) -> np.ndarray:
    """The vacancy stock, by district, at which each market's expected hires from out of work
    replace the jobs people leave for unemployment, inactivity and retirement: the place is
    built in its own steady state.

    Employment in a market is steady when its monthly hires from out of work equal its workers'
    exits to out of work, D = E x (sep_rate_eu + sep_rate_ei + 1 / (12 x 49)): the rates the
    place is built to (`rate_eu` is set so that all flows into unemployment, the displaced and
    the fragile new jobs included, add up to sep_rate_eu), and the retirements of a 49-year
    working life. (Jobs lost when firms die or shrink are replaced by births and growth, and the
    displaced who move straight into posts fill some of those, so neither changes D.) Hires at
    vacancies V are H(V) = sum over the market's searchers of 1 - exp(-q(V) w), q = A S^alpha
    V^(1 - alpha) / S (`market_rates`), increasing in V; V solves H(V) = D, from the
    small-hazard solution (D / (A S^alpha))^(1 / (1 - alpha)) by the update V <- V (D / H)^(1 /
    (1 - alpha)). A market's vacancies are shared among its districts in proportion to their D.

    Before session 16 the stock was set from a parameter, unemployed per vacancy; where that was
    not the steady state vacancies built up in the burn-in until hires caught up (England went from
    0.49m to 1.2m, unemployed per vacancy from 3.0 to 1.2). Unemployed per vacancy is now what the
    model gives, and `labourlab calibrate` and `validate` compare it with ONS's. Each market is
    built at its own unemployment, inactivity and vacancy rates, so its regions keep their rates.
    """
    n_markets = int(district_market.max(initial=-1)) + 1
    exits = params.sep_rate_eu + params.sep_rate_ei + 1.0 / (12 * participation.WORKING_YEARS)
    d_district = np.asarray(employed, dtype=np.float64) * exits
    d = np.bincount(district_market, weights=d_district, minlength=n_markets)
    searchers = np.flatnonzero(people.status != EMPLOYED)
    w = search_weights(people, params, searchers)
    market = person_market[searchers]
    s = np.bincount(market, weights=w, minlength=n_markets)
    alpha, a = float(params.matching_alpha), float(params.matching_efficiency)
    ok = (d > 0) & (s > 0) & (a > 0)
    v = np.where(ok, dm.np_power(d / np.where(ok, a * dm.np_power(s, alpha), 1.0), 1.0 / (1.0 - alpha)), 0.0)
    for _ in range(STEADY_STATE_ROUNDS):
        _, q = market_rates(w, v, market, params)
        h = np.bincount(market, weights=finding_chance(q[market], w), minlength=n_markets)
        v = np.where(ok & (h > 0), v * dm.np_power(d / np.where(h > 0, h, 1.0), 1.0 / (1.0 - alpha)), v)
    share = np.divide(d_district, d[district_market], out=np.zeros_like(d_district), where=d[district_market] > 0)
    return v[district_market] * share


def step(
    people: People,
    firms: Firms,
    params: Params,
    streams: Streams,
    month: int,
    person_market: np.ndarray,
    flows: dict[str, np.ndarray],
    n_districts: int,
) -> np.ndarray:
    """Match searchers to vacancies; returns the per-weight job-finding rate of each market and its
    vacancy fill rate (the matching function's matches over vacancies)."""
    n_markets = market_count(firms, person_market)
    hiring, vac = firms.hiring()
    v_m = int_sum_by(firms.market[hiring], vac, n_markets)
    # Only people out of work search: the employed have weight zero, add nothing to a market's
    # searchers and cannot be hired, so weights are worked out for searchers alone.
    searchers, w, market = searchers_and_weights(people, params, person_market)
    m, q = market_rates(w, v_m, market, params, markets_sorted=True)
    # The vacancy fill rate employers see (matches per open post), for `demand`.
    fill = np.divide(m, v_m, out=np.zeros_like(m), where=v_m > 0)

    # Row i is hired if the i-th uniform of the month's search stream is below its chance
    # p = 1 - exp(-q w); u / p ranks the hired for the market's posts. The chance is worked out
    # only for candidates, whose draw is below q w (p is below q w).
    tab = streams.table("search", month)

    def block(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = np.searchsorted(searchers, (lo, hi))
        cand, x, u = matching_kernels.search_candidates(tab, searchers[a:b], q, market[a:b], w[a:b])
        p = -dm.np_expm1(-x)
        hit = u < p
        return cand[hit], u[hit] / p[hit]

    hired, priority = parallel.join(parallel.map_blocks(block, people.n))

    # (No firm has changed since `hiring` was found.)
    hired, filled = take_posts(firms, hired, priority, person_market, streams, month, "vacancy_fill", (hiring, vac))
    from_u = people.status[hired] == UNEMPLOYED
    flows["u_to_e"] += np.bincount(people.district[hired[from_u]], minlength=n_districts)
    flows["i_to_e"] += np.bincount(people.district[hired[~from_u]], minlength=n_districts)
    from_ltu = hired[from_u][people.months_in_status[hired[from_u]] >= 12]
    flows["ltu_to_e"] += np.bincount(people.district[from_ltu], minlength=n_districts)
    count_by_duration(people, hired[from_u], flows, n_districts)
    start_jobs(people, firms, hired, filled, params)
    return q, fill


def count_by_duration(people: People, hired_from_u: np.ndarray, flows: dict[str, np.ndarray], n_districts: int) -> None:
    """Those hired from unemployment by completed months unemployed (DURATION_BINS), before their
    new job resets the months: the job-finding hazard's duration gradient, a calibration target and
    a validation check, over those at risk (`add_at_risk`). Months of the current search spell, as
    the Labour Force Survey measures unemployment's duration (`accounts.district_counts`)."""
    nb = len(DURATION_BINS)
    b = np.searchsorted(DURATION_EDGES, people.months_in_status[hired_from_u], side="right") - 1
    counts = np.bincount(people.district[hired_from_u].astype(np.int64) * nb + b, minlength=n_districts * nb)
    for i, label in enumerate(DURATION_BINS):
        flows[f"u_to_e_{label}"] += counts.reshape(n_districts, nb)[:, i]


def add_at_risk(flows: dict[str, np.ndarray], still_unemployed: np.ndarray) -> None:
    """The unemployed at risk of this month's matching, by completed months unemployed: those still
    unemployed after it (by district and band, `accounts.district_counts`, which reads every row
    after matching anyway) and those it hired from unemployment (u_to_e_*, counted before their
    months were reset). Nothing else moves anyone between the two."""
    for i, label in enumerate(DURATION_BINS):
        flows[f"u_at_risk_{label}"] += still_unemployed[:, i] + flows[f"u_to_e_{label}"]


def market_count(firms: Firms, person_market: np.ndarray) -> int:
    """How many markets people search in (the model records it on `firms` once)."""
    if firms.n_markets:
        return firms.n_markets
    return int(person_market.max()) + 1 if person_market.size else 0


def take_posts(
    firms: Firms,
    candidates: np.ndarray,
    priority: np.ndarray,
    person_market: np.ndarray,
    streams: Streams,
    month: int,
    decision: str,
    open_posts: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Give candidates open posts in their own market: lowest priority value first, never more
    than the market's vacancies. Posts are shared among firms in proportion to their vacancies:
    firm j's k-th post has key (k + u_j) / v_j, and each market fills its smallest keys.
    Returns the candidates placed (sorted by market, then priority) and the firm of each.
    `open_posts` is `firms.hiring()` if the caller has it for the firms as they are now."""
    n_markets = market_count(firms, person_market)
    # Only firms with open posts take part (most rows are dead or full): worked out once.
    hiring, vac = firms.hiring() if open_posts is None else open_posts
    market = firms.market[hiring]
    v_m = int_sum_by(market, vac, n_markets)
    cand_market = person_market[candidates]
    order = sort_by_group_then_key(cand_market, priority)
    candidates, cand_market = candidates[order], cand_market[order]
    keep = rank_within_sorted_groups(cand_market) < v_m[cand_market]
    candidates, cand_market = candidates[keep], cand_market[keep]
    h_m = np.bincount(cand_market, minlength=n_markets)

    # Firm j's draw is the one of its draw row (`Firms.uniform_rows`; its slot unless hubs added firms).
    uf = firms.uniform_rows(streams, decision, month, hiring)
    # Only posts with keys below a market's threshold t_m can be among its h_m smallest when at
    # least h_m keys lie below it (t_m is a few standard deviations above h_m / v_m), so only
    # those are made and sorted. Sorting a subset that keeps the posts' order gives the same
    # smallest keys in the same order.
    hm = h_m.astype(np.float64)
    threshold = np.where(hm > 0, (hm + 4.0 * np.sqrt(hm) + 8.0) / np.maximum(v_m, 1), 0.0)
    firm_of_slot, slot_key = post_keys(vac, uf, threshold[market])
    below = np.bincount(market[firm_of_slot], minlength=n_markets)
    short = below < h_m
    if short.any():  # a market whose threshold proved too low makes all its posts
        threshold = np.where(short, np.inf, threshold)
        firm_of_slot, slot_key = post_keys(vac, uf, threshold[market])
    slot_market = market[firm_of_slot]
    order = sort_by_group_then_key(slot_market, slot_key)
    firm_of_slot, slot_market = firm_of_slot[order], slot_market[order]
    filled = hiring[firm_of_slot[rank_within_sorted_groups(slot_market) < h_m[slot_market]]]
    return candidates, filled


def post_keys(vac: np.ndarray, uf: np.ndarray, threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each firm j's open posts whose key (k + u_j) / v_j (for its k-th post) is below
    threshold[j], in firm order: the firm of each and its key."""
    return matching_kernels.post_keys(vac, uf, threshold)


def start_jobs(
    people: People,
    firms: Firms,
    rows: np.ndarray,
    firm_rows: np.ndarray,
    params: Params,
    flows: dict[str, np.ndarray] | None = None,
) -> None:
    """Put these people into these firms' posts (a new job: months in status and claim reset; the
    spell out of work ends once the job outlasts the linking period). A job taken from out of work,
    in any state, is fragile for its first months (see `separations`). With `flows`, the hires
    are counted there by district as from unemployment (u_to_e) or inactivity (i_to_e)."""
    if flows is not None:
        from_u = people.status[rows] == UNEMPLOYED
        n_districts = flows["u_to_e"].shape[0]
        flows["u_to_e"] += np.bincount(people.district[rows[from_u]], minlength=n_districts)
        flows["i_to_e"] += np.bincount(
            people.district[rows[~from_u & (people.status[rows] == INACTIVE)]], minlength=n_districts
        )
    wages = wage_for(people.skill[rows], params)
    # Each hire's row is written by one thread (rows are distinct): the writes are scattered, so
    # they cost cache misses, which two threads wait on together. Headcounts change apart.
    hired = matching_kernels.HiredPeople.of(people)
    parallel.map_blocks(
        lambda lo, hi: matching_kernels.start_jobs(rows[lo:hi], firm_rows[lo:hi], wages[lo:hi], hired),
        rows.shape[0],
    )
    shared_kernels.add_at(firms.size, firm_rows, 1)


def run(w: World) -> None:
    """Searchers meet vacancies in their market; this month's job-finding rates are kept for
    next month's providers (`w.q_prev`)."""
    w.q_prev, fill = step(w.people, w.firms, w.params, w.streams, w.month, w.person_market, w.flows, w.n_districts)
    demand.update_fill(w, fill)
    participation.update_finding(w, w.q_prev)
    if w.finding_ref is None:  # the burn-in: inactivity settles at the built level
        participation.settle_entry_rates(w, inactive_expected_finding(w))


def inactive_expected_finding(w: World) -> np.ndarray:
    """The inactive's expected direct hires next month by district, at this month's job-finding
    rates per unit of search weight (`w.q_prev`): the sum of 1 - exp(-q w) over them."""
    people = w.people
    inactive = np.flatnonzero(people.status == INACTIVE).astype(np.int64)
    weights = search_weights_fast(people, w.params, inactive)
    q = w.q_prev[w.person_market[inactive]]
    return np.bincount(people.district[inactive], weights=finding_chance(q, weights), minlength=w.n_districts)


# ---- what this mechanism owns (`simulation.declare`)

MECHANISM = Mechanism(
    name="matching",
    doc=__doc__ or "",
    parameters={
        "matching_alpha": between(0.05, 0.95),
        "matching_efficiency": at_least_zero(5.0),
        "inactive_search_intensity": probability(),
        "duration_scarring": at_least_zero(1.0),
        "duration_scarring_max_months": at_least_zero(240),
        "barrier_exponent": at_least_zero(10.0),
    },
    flows=(
        Output("u_to_e", "unemployed people starting a job"),
        Output("i_to_e", "inactive people starting a job"),
        Output("ltu_to_e", "people unemployed 12 months or more starting a job"),
        *(
            Output(f"u_at_risk_{b}", f"unemployed people at risk of finding work, {b} months unemployed")
            for b in DURATION_BINS
        ),
        *(Output(f"u_to_e_{b}", f"job starts from unemployment after {b} months unemployed") for b in DURATION_BINS),
    ),
)
