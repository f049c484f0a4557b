"""Fused loops over people for the monthly step, compiled with numba (cached on disk).

numpy does each of a mechanism's operations as a separate pass over every row, with a temporary
array for each; these loops do a mechanism's per-person work in one pass with no temporaries.
They make their random numbers as they go (`simulation.pcg64`: numpy's PCG64 recurrence, stepped
row by row, or jumped to the rows that need a draw), so row i still reads the i-th number of its
(decision, month) stream and every draw, and so every result, is bit-identical to the plain numpy
code they replace (tests/test_golden.py). They use only comparisons and +, -, *, / (exact IEEE operations); exp,
power and the like stay in numpy, whose vectorised versions round differently from numba's.

Status, benefit and group codes are those of `simulation.people`, passed in as arguments.
"""

from __future__ import annotations

import numba
import numpy as np

from simulation import pcg64

EMPLOYED, UNEMPLOYED, INACTIVE = 0, 1, 2
NO_BENEFIT, JSA, ESA = 0, 1, 2
NO_GROUP, JSA_18_24, JSA_25_PLUS, ESA_NEW = 0, 1, 2, 4
NOT_ELIGIBLE, NO_PROGRAMME = -32768, -1

jit = numba.njit(cache=True, nogil=True)

PARTICIPATION_CHUNK = 4096  # rows whose people out of work `participation` lists at a time (kept in cache)
COHORT_CHUNK = 4096  # rows whose eligible people `cohort_update` lists at a time
SELECT_MAX = 8  # `lowest_per_group` picks up to this many by repeated minimum, more by a sort


@jit
def count_by(groups: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """How many rows in each group have mask set (one pass, no index array)."""
    out = np.zeros(n_groups, dtype=np.int64)
    for i in range(mask.shape[0]):
        if mask[i]:
            out[groups[i]] += 1
    return out


@jit
def _set_claim(i: int, benefit: np.ndarray, group: np.ndarray, age: np.ndarray, new_benefit: int) -> None:
    benefit[i] = new_benefit
    if new_benefit == JSA:
        group[i] = JSA_18_24 if age[i] < 25 else JSA_25_PLUS
    elif new_benefit == ESA:
        group[i] = ESA_NEW
    else:
        group[i] = NO_GROUP


@jit
def _claims(tab: np.ndarray, hi: np.uint64, lo: np.uint64, pos: np.uint64, row: int, take_up: float) -> tuple:
    """Whether row `row` takes up a claim (its draw in the claim stream below take_up), and the
    stream's new state: (claims, hi, lo, pos). Read only for the rows that might claim."""
    hi, lo, pos = pcg64.seek(tab, hi, lo, pos, row)
    return pcg64.uniform(hi, lo) < take_up, hi, lo, pos


@jit
def participation(
    start: int,
    n: int,
    tab_participation: np.ndarray,
    tab_ill: np.ndarray,
    tab_claim: np.ndarray,
    take_up: float,
    status: np.ndarray,
    months: np.ndarray,
    benefit: np.ndarray,
    group: np.ndarray,
    age: np.ndarray,
    district: np.ndarray,
    entry_rate: np.ndarray,
    esa_onflow: np.ndarray,
    exit_rate_ui: float,
    u_to_i: np.ndarray,
    i_to_u: np.ndarray,
    esa_onflows: np.ndarray,
) -> np.ndarray:
    """`participation.step` for rows start .. start + n: leaving and starting search, claims, ill
    health. Adds to the flow counts by district; returns the rows falling ill. Each row out of
    work reads its own draws of the participation and ill-health streams, and of the claim stream
    only if it starts to search without a benefit; employed rows draw nothing."""
    # Views from row `start`, indexed by the loop counter: an index known not to be negative
    # spares numba's negative-index fix-up on every access (2.5x faster loops).
    status, months, benefit = status[start : start + n], months[start : start + n], benefit[start : start + n]
    group, age, district = group[start : start + n], age[start : start + n], district[start : start + n]
    ph, pl, pp = pcg64.start(tab_participation)
    ih, il, ip = pcg64.start(tab_ill)
    ch, cl, cp = pcg64.start(tab_claim)
    ill = np.empty(n, dtype=np.int64)  # only the first slots are touched
    k = 0
    # Only people out of work (about a quarter) can move here, so only their draws are made: each
    # chunk of rows first lists them (every row written, kept if out of work: no branch on status,
    # which is mixed row to row and would mispredict), then each listed row jumps the streams to
    # its own draws (`pcg64.seek`): 150 to 125 ms a month on England's rows, one thread, against
    # stepping both streams through every row.
    out_of_work = np.empty(PARTICIPATION_CHUNK, dtype=np.int64)
    for c0 in range(0, n, PARTICIPATION_CHUNK):
        m = 0
        for i in range(c0, min(c0 + PARTICIPATION_CHUNK, n)):
            out_of_work[m] = i
            m += status[i] != EMPLOYED
        for j in range(m):
            i = out_of_work[j]
            ph, pl, pp = pcg64.seek(tab_participation, ph, pl, pp, start + i)
            ih, il, ip = pcg64.seek(tab_ill, ih, il, ip, start + i)
            u, u_ill = pcg64.uniform(ph, pl), pcg64.uniform(ih, il)
            d = np.uint64(district[i])
            s = status[i]
            # Tests combined with &, not `and`: status is mixed row to row, so branching on it would
            # mispredict; the combined tests are rarely true, so their branches predict well.
            to_i = (s == UNEMPLOYED) & (u < exit_rate_ui)
            to_u = (s == INACTIVE) & (u < entry_rate[d])
            if to_i:
                status[i] = INACTIVE
                months[i] = 0
                u_to_i[d] += 1
                if benefit[i] == JSA:
                    _set_claim(i, benefit, group, age, NO_BENEFIT)
            elif to_u:
                status[i] = UNEMPLOYED
                months[i] = 0
                i_to_u[d] += 1
                if benefit[i] == NO_BENEFIT:
                    claims, ch, cl, cp = _claims(tab_claim, ch, cl, cp, start + i, take_up)
                    if claims:
                        _set_claim(i, benefit, group, age, JSA)
            # Ill health: people out of work start an ESA claim and leave the search.
            if (benefit[i] != ESA) & (u_ill < esa_onflow[d]):
                if status[i] == UNEMPLOYED:
                    status[i] = INACTIVE
                    u_to_i[d] += 1
                months[i] = 0
                _set_claim(i, benefit, group, age, ESA)
                esa_onflows[d] += 1
                ill[k] = start + i
                k += 1
    return ill[:k].copy()


@jit
def separations(
    start: int,
    n: int,
    tab_separation: np.ndarray,
    tab_claim: np.ndarray,
    take_up: float,
    status: np.ndarray,
    months: np.ndarray,
    fragile: np.ndarray,
    benefit: np.ndarray,
    group: np.ndarray,
    age: np.ndarray,
    district: np.ndarray,
    employer: np.ndarray,
    wage: np.ndarray,
    work_months: np.ndarray,
    firm_size: np.ndarray,
    rate_eu: float,
    early_rate: float,
    rate_ei: float,
    fragile_months: int,
    e_to_u: np.ndarray,
    e_to_i: np.ndarray,
) -> None:
    """`separations.step` for rows start .. start + n: job loss into unemployment or inactivity,
    as `release` does it. Each row reads its own draw of the separation stream (stepped row by
    row), and of the claim stream only if it loses its job into unemployment."""
    # Views from row `start` (see `participation`).
    status, months, fragile = status[start : start + n], months[start : start + n], fragile[start : start + n]
    benefit, group, age = benefit[start : start + n], group[start : start + n], age[start : start + n]
    district, employer, wage = district[start : start + n], employer[start : start + n], wage[start : start + n]
    work_months = work_months[start : start + n]
    sh, sl, sp = pcg64.start(tab_separation)
    sh, sl, sp = pcg64.seek(tab_separation, sh, sl, sp, start)
    ch, cl, cp = pcg64.start(tab_claim)
    # Above `top` no row separates whatever its hazard (float addition is monotonic).
    top = max(early_rate, rate_eu) + rate_ei
    for i in range(n):
        u = pcg64.uniform(sh, sl)
        sh, sl = pcg64.step(tab_separation, sh, sl)  # on to the next row's draw
        employed = status[i] == EMPLOYED
        # A job stops being fragile when it ends or settles. Written only then: a store on every
        # row made the loop 3x slower. Each test is rarely true, so its branch predicts well
        # (a branch on status alone, mixed row to row, would mispredict).
        is_fragile = fragile[i]
        if is_fragile & ((not employed) | (months[i] >= fragile_months)):
            fragile[i] = is_fragile = False
        if not (employed & (u < top)):
            continue
        hazard = early_rate if is_fragile else rate_eu
        if u >= hazard + rate_ei:  # u < hazard implies u < hazard + rate_ei (rates are not negative)
            continue
        if u < hazard:
            to = UNEMPLOYED
            e_to_u[district[i]] += 1
        else:
            to = INACTIVE
            e_to_i[district[i]] += 1
        firm_size[employer[i]] -= 1
        employer[i] = -1
        wage[i] = 0
        status[i] = to
        months[i] = 0
        work_months[i] = 0
        claims = False
        if to == UNEMPLOYED:
            claims, ch, cl, cp = _claims(tab_claim, ch, cl, cp, start + i, take_up)
        _set_claim(i, benefit, group, age, JSA if claims else NO_BENEFIT)


@jit
def release(
    rows: np.ndarray,
    to_status: int,
    status: np.ndarray,
    months: np.ndarray,
    benefit: np.ndarray,
    group: np.ndarray,
    age: np.ndarray,
    employer: np.ndarray,
    wage: np.ndarray,
    work_months: np.ndarray,
    tab_claim: np.ndarray,
    take_up: float,
) -> None:
    """`separations.release` for these rows (increasing, all employed), but for their firms'
    headcounts (a firm's workers may be in two threads' rows)."""
    ch, cl, cp = pcg64.start(tab_claim)
    for i in rows:
        employer[i] = -1
        wage[i] = 0
        status[i] = to_status
        months[i] = 0
        work_months[i] = 0
        claims = False
        if to_status == UNEMPLOYED:
            claims, ch, cl, cp = _claims(tab_claim, ch, cl, cp, i, take_up)
        _set_claim(i, benefit, group, age, JSA if claims else NO_BENEFIT)


@jit
def employed_at(
    status: np.ndarray, employer: np.ndarray, flag_a: np.ndarray, count_a: int, flag_b: np.ndarray, count_b: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the employed whose employer has flag_a set, and of those whose employer has flag_b
    set (a firm has at most one), each in row order, in one pass; count_a and count_b bound how
    many there are (the flagged firms' headcounts), so the arrays are allocated once."""
    a = np.empty(count_a, dtype=np.int64)
    b = np.empty(count_b, dtype=np.int64)
    ka = kb = 0
    for i in range(status.shape[0]):
        # No branch on status (mixed row to row: it mispredicts); flagged firms are few, so the
        # branches on the flags predict well. Rows out of work (employer -1) read firm 0's flags
        # and are then excluded.
        j = max(employer[i], 0)
        employed = status[i] == EMPLOYED
        in_a = employed & flag_a[j]
        if in_a:
            a[ka] = i
            ka += 1
        elif employed & flag_b[j]:
            b[kb] = i
            kb += 1
    return a[:ka], b[:kb]


@jit
def skills(
    skill: np.ndarray,
    status: np.ndarray,
    months: np.ndarray,
    growth: float,
    decay: float,
    decay_after: float,
    bound: float,
) -> None:
    """`skills.step` for every row: growth in work, decay in long unemployment, clipped."""
    for i in range(skill.shape[0]):
        # Selects, not branches (status is mixed row to row): x + growth - 0.0 in work,
        # x + 0.0 - decay in long unemployment, x + 0.0 - 0.0 otherwise, as numpy adds them.
        s = status[i]
        up = growth if s == EMPLOYED else 0.0
        down = decay if (s == UNEMPLOYED) & (months[i] >= decay_after) else 0.0
        x = np.float64(skill[i]) + up - down
        skill[i] = np.float32(min(max(x, -bound), bound))


@jit
def search_candidates(
    tab: np.ndarray, rows: np.ndarray, q: np.ndarray, market: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of `rows` (increasing), those whose draw in the stream of `tab` is below
    x = q[market] * weight (a little above, for rounding), with x and the draw: a superset of
    those hired, whose chance 1 - exp(-x) is below x. Most searchers stop here, and numpy's
    expm1 (which numba's rounds differently from) is taken of the candidates' x only. Only the
    searchers' draws are made (`pcg64.seek`), not those of the employed rows between them."""
    n = rows.shape[0]
    # Every row is written and kept if a candidate: no branch. Only the first slots are touched.
    cand = np.empty(n + 1, dtype=np.int64)
    x = np.empty(n + 1, dtype=np.float64)
    draw = np.empty(n + 1, dtype=np.float64)
    hi, lo, pos = pcg64.start(tab)
    k = 0
    for j in range(n):
        hi, lo, pos = pcg64.seek(tab, hi, lo, pos, rows[j])
        uj = pcg64.uniform(hi, lo)
        xj = q[np.uint64(market[j])] * weight[j]  # unsigned: no wrap-around fix-up on the gather
        cand[k], x[k], draw[k] = rows[j], xj, uj
        k += uj < xj * 1.000001
    return cand[:k].copy(), x[:k].copy(), draw[:k].copy()


@jit
def district_counts(
    status: np.ndarray,
    months: np.ndarray,
    benefit: np.ndarray,
    programme: np.ndarray,
    age: np.ndarray,
    offsets: np.ndarray,
    ltu_months: int,
    sustained_months: int,
    bands: tuple[int, int, int, int],
) -> np.ndarray:
    """Stocks by district (rows are district blocks): employed, unemployed, inactive, long-term
    unemployed, JSA and ESA claimants out of work, programme participants, jobs reaching
    `sustained_months`, JSA claimants under 25 out of work, then the unemployed by completed
    months unemployed in five bands, whose inner edges are `bands`.

    Counts are kept in locals and the tests are added as 0/1, not branched on: statuses are
    mixed row to row, so branches would mispredict, and counts in memory would wait on each
    other (2.5x slower). Each district's rows are read through views indexed by the loop
    counter: indexing from offsets[d], which numba cannot prove non-negative, checked every
    index for wrap-around (4x slower)."""
    nd = offsets.shape[0] - 1
    out = np.zeros((nd, 14), dtype=np.int64)
    b1, b2, b3, b4 = bands
    for d in range(nd):
        lo, hi = offsets[d], offsets[d + 1]
        status_d, months_d, benefit_d = status[lo:hi], months[lo:hi], benefit[lo:hi]
        programme_d, age_d = programme[lo:hi], age[lo:hi]
        e = u = ina = ltu = jsa = esa = prog = sus = young = 0
        u1 = u2 = u3 = u4 = 0  # unemployed at or past each inner band edge
        for i in range(status_d.shape[0]):
            s, m, b = status_d[i], months_d[i], benefit_d[i]
            emp, un = s == EMPLOYED, s == UNEMPLOYED
            e += emp
            u += un
            ina += s == INACTIVE
            ltu += un & (m >= ltu_months)
            u1 += un & (m >= b1)
            u2 += un & (m >= b2)
            u3 += un & (m >= b3)
            u4 += un & (m >= b4)
            on_jsa = (not emp) & (b == JSA)
            jsa += on_jsa
            young += on_jsa & (age_d[i] < 25)
            esa += (not emp) & (b == ESA)
            sus += emp & (m == sustained_months)
            prog += programme_d[i] != NO_PROGRAMME
        out[d, EMPLOYED], out[d, UNEMPLOYED], out[d, INACTIVE] = e, u, ina
        out[d, 3], out[d, 4], out[d, 5], out[d, 6], out[d, 7], out[d, 8] = ltu, jsa, esa, prog, sus, young
        out[d, 9], out[d, 10], out[d, 11], out[d, 12], out[d, 13] = u - u1, u1 - u2, u2 - u3, u3 - u4, u4
    return out


@jit
def jcp_hours(status: np.ndarray, benefit: np.ndarray, hours: float, out: np.ndarray) -> None:
    """out[i] = Jobcentre Plus hours for unemployed claimants, else 0 (as float32)."""
    h = np.float32(hours)
    for i in range(status.shape[0]):
        out[i] = h if (status[i] == UNEMPLOYED and benefit[i] != NO_BENEFIT) else np.float32(0.0)


@jit
def attached_and_claimants(
    programme: np.ndarray, owner: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows attached to their own provider (programme == owner), and rows with a claimant group.
    Counted first, so nothing the size of the population is allocated."""
    n = programme.shape[0]
    a = 0
    c = 0
    for i in range(n):
        a += programme[i] == owner[i]
        c += group[i] > 0
    # One spare slot each: every row is written and kept only if it qualifies (claimants are
    # mixed row to row, so a branch on them would mispredict).
    attached = np.empty(a + 1, dtype=np.int64)
    claimants = np.empty(c + 1, dtype=np.int64)
    a = 0
    c = 0
    for i in range(n):
        attached[a] = i
        a += programme[i] == owner[i]
        claimants[c] = i
        c += group[i] > 0
    return attached[:a], claimants[:c]


@jit
def attached(programme: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Rows attached to their own provider (programme == owner): `attached_and_claimants`'s first
    list, for a caller that has the claimants already."""
    a = 0
    for i in range(programme.shape[0]):
        a += programme[i] == owner[i]
    out = np.empty(a + 1, dtype=np.int64)  # one spare slot: every row is written, kept if attached
    a = 0
    for i in range(programme.shape[0]):
        out[a] = i
        a += programme[i] == owner[i]
    return out[:a]


@jit
def merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted union of two sorted arrays of distinct values (what np.union1d gives)."""
    out = np.empty(a.shape[0] + b.shape[0], dtype=np.int64)
    i = j = k = 0
    while i < a.shape[0] or j < b.shape[0]:
        if j == b.shape[0] or (i < a.shape[0] and a[i] < b[j]):
            out[k] = a[i]
            i += 1
        elif i == a.shape[0] or b[j] < a[i]:
            out[k] = b[j]
            j += 1
        else:  # in both
            out[k] = a[i]
            i += 1
            j += 1
        k += 1
    return out[:k].copy()


@jit
def add_month(months: np.ndarray, cap: int) -> None:
    """One more month in the current status, in place, up to cap."""
    for i in range(months.shape[0]):
        if months[i] < cap:
            months[i] += 1


@jit
def start_jobs(
    rows: np.ndarray,
    firm_rows: np.ndarray,
    wages: np.ndarray,
    status: np.ndarray,
    months: np.ndarray,
    fragile: np.ndarray,
    employer: np.ndarray,
    wage: np.ndarray,
    benefit: np.ndarray,
    group: np.ndarray,
) -> None:
    """`matching.start_jobs` for these rows (distinct), but for firms' headcounts: a job at
    firm_rows[k] paying wages[k], fragile if taken from unemployment, with no claim."""
    for k in range(rows.shape[0]):
        i = rows[k]
        fragile[i] = status[i] == UNEMPLOYED
        status[i] = EMPLOYED
        months[i] = 0
        employer[i] = firm_rows[k]
        wage[i] = wages[k]
        benefit[i] = NO_BENEFIT
        group[i] = NO_GROUP


@jit
def add_at(a: np.ndarray, index: np.ndarray, delta: int) -> None:
    """a[index[k]] += delta for each k, repeats adding up (np.add.at): a firm's headcount change
    from a list of hires or leavers, without a count array over every firm row."""
    for j in index:
        a[j] += delta


@jit
def life_table(
    alive: np.ndarray,
    large: np.ndarray,
    die: np.ndarray,
    age: np.ndarray,
    district: np.ndarray,
    n_districts: int,
    n_years: int,
) -> np.ndarray:
    """Small firms at risk ([0]) and dying ([1]) by district and year of life (age // 12, the
    last year open-ended), in one pass; the tests are added as 0/1 (alive is mixed row to row).
    Indices are unsigned (district and age are never negative): a signed index costs numba a
    wrap-around fix-up on every access (2.5x slower here)."""
    at_risk_count = np.zeros(n_districts * n_years, dtype=np.int64)
    dying_count = np.zeros(n_districts * n_years, dtype=np.int64)
    years, last = np.uint64(n_years), np.uint64(n_years - 1)
    for j in range(alive.shape[0]):
        at_risk = alive[j] & (not large[j])
        k = np.uint64(district[j]) * years + min(np.uint64(age[j]) // np.uint64(12), last)
        at_risk_count[k] += at_risk
        dying_count[k] += at_risk & die[j]
    out = np.empty((2, n_districts, n_years), dtype=np.int64)
    out[0] = at_risk_count.reshape((n_districts, n_years))
    out[1] = dying_count.reshape((n_districts, n_years))
    return out


@jit
def birthdays(age: np.ndarray, rows: np.ndarray, retire_at: int) -> np.ndarray:
    """Age these rows a year; return the positions in `rows` of those reaching retire_at. (One
    pass: numpy's `age[rows] += 1` then `age[rows] >= retire_at` gathers twice and scatters once.)"""
    k = 0
    for j in range(rows.shape[0]):
        a = age[rows[j]] + 1
        age[rows[j]] = a
        k += a >= retire_at
    out = np.empty(k, dtype=np.int64)
    k = 0
    for j in range(rows.shape[0]):
        if age[rows[j]] >= retire_at:
            out[k] = j
            k += 1
    return out


@jit
def exact_block_sums(values: np.ndarray, offsets: np.ndarray, scale: float) -> tuple[bool, np.ndarray]:
    """Sums of non-negative values over the blocks offsets[d]:offsets[d+1], done exactly in
    integers: possible when every value is a whole multiple of 1 / scale and every sum stays below
    2^53 / scale. Then every partial sum in any order is exact, so the result equals numpy's
    (pairwise) float64 sum bit for bit. Returns (False, ...) when that does not hold."""
    nd = offsets.shape[0] - 1
    out = np.zeros(nd, dtype=np.float64)
    limit = 2.0**53
    for d in range(nd):
        total = 0
        bad = False
        block = values[offsets[d] : offsets[d + 1]]
        # The test is folded in with | and checked once per block: a branch inside the loop
        # kept it from vectorising (5x slower).
        for i in range(block.shape[0]):
            x = np.float64(block[i]) * scale
            k = np.int64(x)
            bad |= (x < 0.0) | (np.float64(k) != x)
            total += k
        if bad or np.float64(total) >= limit:
            return False, out
        out[d] = np.float64(total) / scale
    return True, out


@jit
def claiming(group: np.ndarray) -> np.ndarray:
    """Rows with a claimant group (claiming a benefit), in row order. Counted first, so nothing
    the size of the population is allocated."""
    k = 0
    for i in range(group.shape[0]):
        k += group[i] != NO_GROUP
    out = np.empty(k + 1, dtype=np.int64)  # one spare slot: every row is written, kept if it claims
    k = 0
    for i in range(group.shape[0]):
        out[k] = i
        k += group[i] != NO_GROUP
    return out[:k]


@jit
def long_claimants(
    rows: np.ndarray,
    status: np.ndarray,
    benefit: np.ndarray,
    months: np.ndarray,
    placement: np.ndarray,
    min_months: int,
) -> np.ndarray:
    """Of `rows`, those claiming, out of work for min_months or more and not on a placement, in
    the same order. (The tests are combined with & rather than `and`: no branches to mispredict.)"""
    out = np.empty(rows.shape[0] + 1, dtype=np.int64)  # one spare slot: each row written, kept if it qualifies
    k = 0
    for j in range(rows.shape[0]):
        i = np.uint64(rows[j])  # unsigned: no wrap-around fix-up on the gathers
        out[k] = rows[j]
        k += (status[i] != EMPLOYED) & (benefit[i] != NO_BENEFIT) & (months[i] >= min_months) & (placement[i] == 0)
    return out[:k]


@jit
def firm_hazard(
    age: np.ndarray,
    hub_months: np.ndarray,
    alive: np.ndarray,
    large: np.ndarray,
    by_age: np.ndarray,
    hub_ratio: float,
    with_hubs: bool,
) -> np.ndarray:
    """Monthly death hazard of each firm row: by_age[band] for ages under 12, 36, 60 months and
    over, times hub_ratio while hub-supported, clipped to [0, 1]; zero for large or dead rows.

    `age` is completed months at the draw (the k-th month of life is age k - 1), so the bands are
    months 1-12, 13-36, 37-60 and 61+ of life, as `firms.death_hazard` derives them."""
    out = np.zeros(age.shape[0])
    for j in range(age.shape[0]):
        if not alive[j] or large[j]:
            continue
        a = age[j]
        h = by_age[0] if a < 12 else (by_age[1] if a < 36 else (by_age[2] if a < 60 else by_age[3]))
        if with_hubs and hub_months[j] > 0:
            h = h * hub_ratio
        out[j] = min(max(h, 0.0), 1.0)
    return out


@jit
def post_keys(vac: np.ndarray, uf: np.ndarray, threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each firm j in order, those of its posts k = 0 .. vac[j] - 1 whose key
    (k + uf[j]) / vac[j] is below threshold[j]: the firm and the key of each. Keys rise with k,
    so a firm's posts stop at the first key at or above its threshold; the same expression
    decides and makes each key, so exactly the posts below the threshold are made."""
    total = 0
    for j in range(vac.shape[0]):
        v = np.float64(vac[j])
        for k in range(vac[j]):
            if (np.float64(k) + uf[j]) / v >= threshold[j]:
                break
            total += 1
    firm = np.empty(total, dtype=np.int64)
    key = np.empty(total, dtype=np.float64)
    s = 0
    for j in range(vac.shape[0]):
        v = np.float64(vac[j])
        for k in range(vac[j]):
            x = (np.float64(k) + uf[j]) / v
            if x >= threshold[j]:
                break
            firm[s] = j
            key[s] = x
            s += 1
    return firm, key


@jit
def int_sum_by(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Integer sums of integer values by group: what np.bincount(groups, weights=values) gives
    as int64 (its float sums are exact below 2**53), without converting both to temporaries."""
    out = np.zeros(n_groups, dtype=np.int64)
    for i in range(groups.shape[0]):
        out[groups[i]] += values[i]
    return out


@jit
def sum_by(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """np.bincount(groups, weights=values, minlength=n_groups): the same additions in the same
    (row) order, so the same sums, without converting the groups to a temporary index array."""
    out = np.zeros(n_groups, dtype=np.float64)
    for i in range(groups.shape[0]):
        out[groups[i]] += values[i]
    return out


@jit
def sum_by_sorted(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """`sum_by` for groups in non-decreasing order: each group's run is added up in a register
    and stored once (the same additions in the same order, from 0.0, so the same sums). Adding
    into memory row by row made each addition wait on the last one's store (29 to 15 ms on
    England's 8.9 million searchers)."""
    out = np.zeros(n_groups, dtype=np.float64)
    if groups.shape[0] == 0:
        return out
    g = groups[0]
    acc = 0.0
    for i in range(groups.shape[0]):
        if groups[i] != g:  # the run of g ends (rarely: predicted)
            out[g] = acc
            g = groups[i]
            acc = 0.0
        acc += values[i]
    out[g] = acc
    return out


@jit
def lowest_per_group(groups: np.ndarray, key: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """A mask of the elements that are among the quota[g] lowest keys of their group g (ties go to
    the earlier element): `pick_per_group`'s choice, as a mask in the elements' own order. For
    many small groups, where sorting every element by (group, key) would cost more."""
    n, n_groups = groups.shape[0], quota.shape[0]
    start = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        start[groups[i] + 1] += 1
    for g in range(n_groups):
        start[g + 1] += start[g]
    fill = start[:-1].copy()
    order = np.empty(n, dtype=np.int64)  # elements grouped, in their own order within a group
    okey = np.empty(n, dtype=key.dtype)  # their keys, in that order (read contiguously below)
    for i in range(n):
        order[fill[groups[i]]] = i
        okey[fill[groups[i]]] = key[i]
        fill[groups[i]] += 1
    keep = np.zeros(n, dtype=np.bool_)
    taken = np.zeros(n, dtype=np.bool_)  # in grouped order
    for g in range(n_groups):
        s, e, q = start[g], start[g + 1], quota[g]
        if q <= 0:
            continue
        if e - s <= q:
            for t in range(s, e):
                keep[order[t]] = True
            continue
        if q <= SELECT_MAX:
            # A few picks (firms shed one or two workers): pick the lowest key left, q times,
            # the earlier element on ties, which is the stable sort's first q without sorting.
            k, took = okey[s:e], taken[s:e]
            for _ in range(q):
                best = -1
                for t in range(k.shape[0]):
                    if not took[t] and (best < 0 or k[t] < k[best]):
                        best = t
                took[best] = True
                keep[order[s + best]] = True
            continue
        members = order[s:e]
        ranked = np.argsort(okey[s:e], kind="mergesort")  # stable: ties stay in element order
        for t in range(q):
            keep[members[ranked[t]]] = True
    return keep


@jit
def rank_in_runs(sorted_groups: np.ndarray) -> np.ndarray:
    """Each element's position within its run of equal values (its group, once sorted)."""
    n = sorted_groups.shape[0]
    out = np.empty(n, dtype=np.int64)
    r = 0
    for i in range(n):
        r = r + 1 if i > 0 and sorted_groups[i] == sorted_groups[i - 1] else 0
        out[i] = r
    return out


@jit
def cohort_update(
    month: int,
    follow_up: int,
    outcome_months: np.ndarray,
    ppa: float,
    eligible_month: np.ndarray,
    eligible_group: np.ndarray,
    outcome_month: np.ndarray,
    cohort_work: np.ndarray,
    status: np.ndarray,
    district: np.ndarray,
    programme: np.ndarray,
    eligible: np.ndarray,
    referred: np.ndarray,
    outcome: np.ndarray,
) -> None:
    """`CohortTracker.update` in one pass: rows first eligible this month join its cohort (and
    count as referred if on a programme); rows in a cohort for at most `follow_up` months without
    an outcome count continuous months in work, reaching an outcome at their group's threshold.
    Most rows were never eligible, mixed row to row with those who were: each chunk's eligible
    rows are listed first without a branch, then only they are visited (in row order)."""
    n = eligible_month.shape[0]
    listed = np.empty(COHORT_CHUNK, dtype=np.int64)  # every row goes to the next slot, kept if eligible
    for c0 in range(0, n, COHORT_CHUNK):
        k = 0
        for i in range(c0, min(c0 + COHORT_CHUNK, n)):
            listed[k] = i
            k += eligible_month[i] >= 0
        for t in range(k):
            i = listed[t]
            em = eligible_month[i]
            d, g = district[i], eligible_group[i]
            if em == month:
                eligible[month, d, g] += ppa
                if programme[i] != NO_PROGRAMME:
                    referred[month, d, g] += ppa
            if outcome_month[i] != NOT_ELIGIBLE or month - em > follow_up:
                continue
            cohort_work[i] = cohort_work[i] + 1 if status[i] == EMPLOYED else 0
            if cohort_work[i] >= outcome_months[g]:
                outcome_month[i] = month
                outcome[em, d, g] += ppa


@jit
def search_inputs(
    rows: np.ndarray,
    skill: np.ndarray,
    barrier: np.ndarray,
    hours: np.ndarray,
    neg_log2: float,
    half_hours: float,
    sk: np.ndarray,
    omb: np.ndarray,
    y: np.ndarray,
) -> int:
    """For these rows, the arguments `matching.search_weights` takes exp, power and expm1 of:
    skill, 1 - barrier (float32, as numpy does them), and -log(2) * hours / half_hours for the
    rows with support hours, in order (returns how many). Rows without hours have a support
    multiplier of exactly 1 (expm1 of zero is zero), so they need no expm1. Outputs come from
    numpy, whose large allocations use huge pages (numba's do not, and page faults would cost
    more than the loop)."""
    one = np.float32(1.0)
    k = 0
    for j in range(rows.shape[0]):
        r = np.uint64(rows[j])  # unsigned: no wrap-around fix-up on each gather
        sk[j] = skill[r]
        omb[j] = one - barrier[r]
        h = hours[r]
        y[k] = (neg_log2 * np.float64(h)) / half_hours  # y has a spare slot: written, kept if h > 0
        k += h > 0
    return k


@jit
def out_of_work(status: np.ndarray) -> int:
    """How many of these rows are out of work."""
    n = 0
    for i in range(status.shape[0]):
        n += status[i] != EMPLOYED
    return n


@jit
def list_out_of_work(status: np.ndarray, first: int, rows: np.ndarray) -> None:
    """The rows out of work among these (numbered from `first`), in order, into `rows`, which
    holds exactly as many. Each row is written to the next free slot, kept only if the row is
    out of work (no branch: status is mixed row to row); rows after the last one out of work are
    not visited, so no write falls past the end (`rows` may be a slice of an array shared by
    several blocks)."""
    last = status.shape[0] - 1
    while last >= 0 and status[last] == EMPLOYED:
        last -= 1
    n = 0
    for i in range(last + 1):
        rows[n] = first + i
        n += status[i] != EMPLOYED


@jit
def search_weights(
    rows: np.ndarray,
    status: np.ndarray,
    months: np.ndarray,
    hours: np.ndarray,
    mentor_months: np.ndarray,
    contacts: np.ndarray,
    age: np.ndarray,
    e_skill: np.ndarray,
    e_barrier: np.ndarray,
    e_scar: np.ndarray,
    e_support: np.ndarray,
    inactive_intensity: float,
    max_effect: float,
    mentored: float,
    contact_hr: float,
    out: np.ndarray,
) -> None:
    """The weights `matching.search_weights` defines, from the transcendental parts numpy made
    (exp of skill, power of 1 - barrier, expm1 of support for the rows with hours, in order) and
    e_scar, numpy's exp of scarring by whole months out of work (months past the cap share its
    value; months are never negative), multiplied in the same order and precision as the numpy
    expression."""
    last = e_scar.shape[0] - 1
    k = 0
    for j in range(rows.shape[0]):
        r = np.uint64(rows[j])  # unsigned: no wrap-around fix-up on each gather
        s = status[r]
        unemployed = s == UNEMPLOYED
        intensity = 1.0 if unemployed else (inactive_intensity if s == INACTIVE else 0.0)
        # Each choice reads or works out both values and selects one, without a branch: status and
        # support are mixed row to row, and branches on them mispredicted (58 to 37 ms on 9
        # million searchers). Both reads are in bounds: the table is capped, and e_support has a
        # spare slot.
        scar_unemployed = e_scar[min(months[r], last)]
        scar = scar_unemployed if unemployed else 1.0
        employability = np.float64(e_skill[j] * e_barrier[j]) * scar
        supported = hours[r] > 0
        support_next = e_support[k]
        support = support_next if supported else 0.0
        k += supported
        mult = mentored if mentor_months[r] > 0 else 1.0
        with_contacts = mult / contact_hr
        mult = with_contacts if (contacts[r] & (age[r] < 25)) else mult
        out[j] = intensity * employability * (1.0 + max_effect * -support) * mult


@jit
def employability(
    rows: np.ndarray,
    status: np.ndarray,
    months: np.ndarray,
    e_skill: np.ndarray,
    e_barrier: np.ndarray,
    e_scar: np.ndarray,
    out: np.ndarray,
) -> None:
    """`matching.employability` of these rows from numpy's exp of skill and power of 1 - barrier
    (float32) and the scarring table (see `search_weights`), in the same order and precision."""
    last = e_scar.shape[0] - 1
    for j in range(rows.shape[0]):
        r = np.uint64(rows[j])  # unsigned: no wrap-around fix-up on each gather
        scar_unemployed = e_scar[min(months[r], last)]  # read and selected: no branch (see `search_weights`)
        scar = scar_unemployed if status[r] == UNEMPLOYED else 1.0
        out[j] = np.float64(e_skill[j] * e_barrier[j]) * scar


@jit
def grow_firms(
    alive: np.ndarray,
    large: np.ndarray,
    supported: np.ndarray,
    age: np.ndarray,
    shock: np.ndarray,
    z: np.ndarray,
    district: np.ndarray,
    gap: np.ndarray,
    decay: np.ndarray,
    sd: float,
    half_var: float,
    profile: np.ndarray,
) -> np.ndarray:
    """`business.step`'s growth for these firm rows: living firms age a month; small ones take
    their growth shock, shock + sd * z - half_var; small and hub-supported ones get their age path,
    1 - gap[district] * decay[age] (`firms.age_profile`: gap is 1 - the starting share, decay numpy's
    exp(-age / maturity) by whole months). Returns the small rows. Every row is written, and kept
    where it applies (alive is mixed row to row: a branch on it would mispredict)."""
    rows = np.empty(alive.shape[0] + 1, dtype=np.int64)  # one spare slot (see `claiming`)
    k = 0
    for j in range(alive.shape[0]):
        a = alive[j]
        age[j] += a
        small = a & (not large[j])
        s = shock[j]
        shock[j] = (s + sd * z[j]) - half_var if small else s
        p = 1.0 - gap[np.uint64(district[j])] * decay[np.uint64(age[j])]
        profile[j] = p if small | supported[j] else profile[j]
        rows[k] = j
        k += small
    return rows[:k]


@jit
def settle_firms(
    rows: np.ndarray,
    growth: np.ndarray,
    potential: np.ndarray,
    profile: np.ndarray,
    target: np.ndarray,
    alive: np.ndarray,
    size: np.ndarray,
    excess: np.ndarray,
) -> None:
    """Desired headcount potential * profile * growth (growth = numpy's exp of the shock) of the
    small `rows`, then each row's headcount above its desired size (round half up), 0 if dead."""
    for k in range(rows.shape[0]):
        r = np.uint64(rows[k])
        target[r] = potential[r] * profile[r] * growth[k]
    for j in range(alive.shape[0]):
        excess[j] = size[j] - np.int64(np.floor(target[j] + 0.5)) if alive[j] else 0


@jit
def water_fill_groups(
    value: np.ndarray,
    levels: np.ndarray,
    order: np.ndarray,
    cuts: np.ndarray,
    neg_sorted: np.ndarray,
    totals: np.ndarray,
    half_hours: float,
    out: np.ndarray,
) -> None:
    """`providers.allocate_hours` by "expected_payment" for each provider k at once: its people
    are order[cuts[k]:cuts[k + 1]], its budget totals[k] hours; value = fee * hazard and levels =
    numpy's log2 of it (floored), as that function takes them, and neg_sorted[cuts[k]:cuts[k + 1]]
    the provider's -levels sorted (by numpy, whose sort is the faster). Writes out[i], the hours
    of person i."""
    for k in range(cuts.shape[0] - 1):
        s, e = cuts[k], cuts[k + 1]
        m = e - s
        if m == 0:
            continue
        total = totals[k]
        if total <= 0:
            for t in range(s, e):
                out[order[t]] = 0.0
            continue
        positive = False
        for t in range(s, e):
            positive |= value[order[t]] > 0
        if not positive:  # equal shares, as allocate_hours: total * 1 / (a sum of m ones)
            for t in range(s, e):
                out[order[t]] = total * 1.0 / np.float64(m)
            continue
        # water_fill: the values in descending order, their running sums, and the last k whose
        # level (sum of the top k less the budget, over k) lies below its own k-th value.
        budget = total / half_hours
        cum, chosen = 0.0, 0.0
        for j in range(m):
            top = -neg_sorted[s + j]
            cum += top
            level = (cum - budget) / np.float64(j + 1)
            if j == 0 or level < top:
                chosen = level
        for t in range(s, e):
            x = levels[order[t]] - chosen
            out[order[t]] = (x if x >= 0.0 else 0.0) * half_hours


@jit
def programme_month(
    attached: np.ndarray,
    programme: np.ndarray,
    owner: np.ndarray,
    served: np.ndarray,
    months_in_programme: np.ndarray,
    programme_months: int,
    status: np.ndarray,
    work_months: np.ndarray,
    eligible_group: np.ndarray,
    outcome_paid: np.ndarray,
    sustain_paid: np.ndarray,
    outcome_months: np.ndarray,
    sustainment_payments: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`providers.step_all`'s first stage for the rows in `attached` (in order; those no longer
    attached to their own, served provider are passed over): a month more in the programme,
    leaving it after programme_months; for those staying, a month more in work or the count reset,
    a job outcome once work has lasted the payment group's outcome_months, then sustainment
    payments up to the group's number. Returns the rows staying, those with an outcome this month
    and those with a sustainment payment, each in row order. Comparisons read back the stored
    (int16) counts, as numpy's `+= 1` then compare does."""
    n = attached.shape[0]
    att = np.empty(n, dtype=np.int64)
    outcomes = np.empty(n, dtype=np.int64)
    sustained = np.empty(n, dtype=np.int64)
    na = no = ns = 0
    for j in range(n):
        r = attached[j]
        o = owner[r]
        if programme[r] != o or not served[o]:
            continue
        months_in_programme[r] += 1
        if months_in_programme[r] > programme_months:
            programme[r] = NO_PROGRAMME
            continue
        att[na] = r
        na += 1
        if status[r] != EMPLOYED:
            work_months[r] = 0
            continue
        work_months[r] += 1
        g = eligible_group[r]
        wm = work_months[r]
        if not outcome_paid[r] and wm >= outcome_months[g]:
            outcome_paid[r] = True
            outcomes[no] = r
            no += 1
        elif outcome_paid[r] and wm > outcome_months[g] and sustain_paid[r] < sustainment_payments[g]:
            sustain_paid[r] += 1
            sustained[ns] = r
            ns += 1
    return att[:na], outcomes[:no], sustained[:ns]


@jit
def referrals(
    claimants: np.ndarray,
    owner: np.ndarray,
    served: np.ndarray,
    month: int,
    status: np.ndarray,
    months_in_status: np.ndarray,
    group: np.ndarray,
    referral_month: np.ndarray,
    referral_share: np.ndarray,
    u_referral: np.ndarray,
    eligible_month: np.ndarray,
    eligible_group: np.ndarray,
    ever_referred: np.ndarray,
    programme: np.ndarray,
    months_in_programme: np.ndarray,
    work_months: np.ndarray,
    outcome_paid: np.ndarray,
    sustain_paid: np.ndarray,
) -> np.ndarray:
    """`providers.step_all`'s referrals among the rows in `claimants` (in order; those whose
    provider is not served are passed over): a claimant out of work for their group's
    referral_month becomes eligible once, with that group, and is referred to their own provider
    if never referred before and their fixed draw is below the group's share. Returns the
    referred rows in order, their programme records started afresh."""
    out = np.empty(claimants.shape[0], dtype=np.int64)
    k = 0
    for j in range(claimants.shape[0]):
        r = claimants[j]
        o = owner[r]
        if not served[o] or eligible_month[r] != NOT_ELIGIBLE or status[r] == EMPLOYED:
            continue
        g = group[r]
        if not months_in_status[r] >= referral_month[g]:
            continue
        eligible_month[r] = month
        eligible_group[r] = g
        if ever_referred[r] or not u_referral[r] < referral_share[g]:
            continue
        programme[r] = o
        ever_referred[r] = True
        months_in_programme[r] = 0
        work_months[r] = 0
        outcome_paid[r] = False
        sustain_paid[r] = 0
        out[k] = r
        k += 1
    return out[:k]


@jit
def participants_seeking(
    att: np.ndarray,
    owner: np.ndarray,
    position: np.ndarray,
    eligible_group: np.ndarray,
    status: np.ndarray,
    skill: np.ndarray,
    barrier: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For participants `att` (rows): each one's provider (its position) and payment group; then
    those out of work, as rows, with their provider, payment group, status, skill and 1 - barrier
    (float32, as numpy works it out) and barrier. Each row's fields are read once, together: the
    rows are scattered, so each read costs a cache miss."""
    n = att.shape[0]
    block = np.empty(n, dtype=np.int64)
    group = np.empty(n, dtype=np.int8)
    rows = np.empty(n, dtype=np.int64)
    s_block = np.empty(n, dtype=np.int64)
    s_group = np.empty(n, dtype=np.int8)
    s_status = np.empty(n, dtype=np.int8)
    s_skill = np.empty(n, dtype=np.float32)
    s_omb = np.empty(n, dtype=np.float32)
    s_barrier = np.empty(n, dtype=np.float32)
    one = np.float32(1.0)
    k = 0
    for j in range(n):
        r = att[j]
        b = position[owner[r]]
        g = eligible_group[r]
        block[j] = b
        group[j] = g
        s = status[r]
        if s == EMPLOYED:
            continue
        rows[k] = r
        s_block[k] = b
        s_group[k] = g
        s_status[k] = s
        s_skill[k] = skill[r]
        s_omb[k] = one - barrier[r]
        s_barrier[k] = barrier[r]
        k += 1
    return block, group, rows[:k], s_block[:k], s_group[:k], s_status[:k], s_skill[:k], s_omb[:k], s_barrier[:k]


@jit
def scatter_float32(rows: np.ndarray, values: np.ndarray, out: np.ndarray) -> None:
    """out[rows] = values, as float32 (numpy's rounding of float64 to float32 is the same)."""
    for j in range(rows.shape[0]):
        out[rows[j]] = np.float32(values[j])


@jit
def school_leavers(
    rows: np.ndarray,
    district: np.ndarray,
    retirements: np.ndarray,
    firm_size: np.ndarray,
    status: np.ndarray,
    employer: np.ndarray,
    age: np.ndarray,
    months: np.ndarray,
    wage: np.ndarray,
    benefit: np.ndarray,
    group: np.ndarray,
    placement_months: np.ndarray,
    mentor_months: np.ndarray,
    programme: np.ndarray,
    months_in_programme: np.ndarray,
    work_months: np.ndarray,
    outcome_paid: np.ndarray,
    sustain_paid: np.ndarray,
    ever_referred: np.ndarray,
    eligible_month: np.ndarray,
    eligible_group: np.ndarray,
    cohort_work: np.ndarray,
    outcome_month: np.ndarray,
) -> None:
    """`participation.age`'s retirements, but for the drawn traits: each row in `rows` (distinct)
    is counted by district in `retirements`, leaves its job (its firm's headcount falls) and
    becomes a 16-year-old school leaver: inactive, claiming nothing, with no placement, mentor or
    programme record. A row's fields are written together: the rows are scattered, so numpy's
    field-by-field writes cost a cache miss per field per row."""
    for j in range(rows.shape[0]):
        r = rows[j]
        retirements[district[r]] += 1
        if status[r] == EMPLOYED:
            firm_size[employer[r]] -= 1
        age[r] = 16
        status[r] = INACTIVE
        months[r] = 0
        employer[r] = -1
        wage[r] = 0.0
        benefit[r] = NO_BENEFIT
        group[r] = NO_GROUP
        placement_months[r] = 0
        mentor_months[r] = 0
        programme[r] = NO_PROGRAMME
        months_in_programme[r] = 0
        work_months[r] = 0
        outcome_paid[r] = False
        sustain_paid[r] = 0
        ever_referred[r] = False
        eligible_month[r] = NOT_ELIGIBLE
        eligible_group[r] = NO_GROUP
        cohort_work[r] = 0
        outcome_month[r] = NOT_ELIGIBLE
