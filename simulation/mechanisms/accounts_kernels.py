"""Compiled passes of `accounts`: the month's stocks by district (in work, unemployed, inactive,
long-term unemployed, claimants, programme participants, jobs reaching six months, the unemployed
by months unemployed), from which benefits are paid and the results row is made; and the people
completing six continuous months in work after entering it from out of work (`people_sustained`).

See `shared_kernels` for what every pass keeps to.
"""

from __future__ import annotations

import numpy as np

from simulation.mechanisms.shared_kernels import (
    EMPLOYED,
    ESA,
    INACTIVE,
    JSA,
    NO_PROGRAMME,
    UNEMPLOYED,
    jit,
)


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
    other. Each district's rows are read through views indexed by the loop counter: indexing
    from offsets[d], which numba cannot prove non-negative, would check every index for
    wrap-around."""
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


NOT_IN_RUN = -1  # work_from_out of someone out of work, or in work since before their last spell out of it


@jit
def people_sustained(
    status: np.ndarray,
    months: np.ndarray,
    fragile: np.ndarray,
    work_from_out: np.ndarray,
    sustained: np.ndarray,
    offsets: np.ndarray,
    sustained_months: int,
) -> np.ndarray:
    """People by district (rows are district blocks) completing `sustained_months` continuous
    months in work this month after entering work from out of work, each counted once while
    `sustained` is set; call once a month, after everything has moved.

    `work_from_out` is a person's continuous months in work since they last took a job from out
    of work (NOT_IN_RUN out of work, or in work since before the run began; it stops at
    `sustained_months + 1`, which is all the count needs). A job taken from out of work this month
    is one that is fragile and zero months old: every hire from out of work starts fragile
    (`matching.start_jobs`), and a displaced worker's move straight to another job does not (so
    it carries the count on). Only rows whose count changes are written: most people are settled
    in work or out of it, and a store on every row would make the loop wait on memory."""
    nd = offsets.shape[0] - 1
    out = np.zeros(nd, dtype=np.int64)
    cap = sustained_months + 1
    for d in range(nd):
        lo, hi = offsets[d], offsets[d + 1]
        status_d, months_d, fragile_d = status[lo:hi], months[lo:hi], fragile[lo:hi]
        run_d, sustained_d = work_from_out[lo:hi], sustained[lo:hi]
        count = 0
        for i in range(status_d.shape[0]):
            old = run_d[i]
            if status_d[i] != EMPLOYED:
                new = NOT_IN_RUN
            elif fragile_d[i] and months_d[i] == 0:
                new = 0  # took a job from out of work this month
            elif old >= 0:
                new = min(old + 1, cap)
            else:
                new = NOT_IN_RUN
            if new != old:
                run_d[i] = new
                if new == sustained_months and not sustained_d[i]:
                    sustained_d[i] = True
                    count += 1
        out[d] = count
    return out
