"""Compiled pass of `accounts`: the month's stocks by district (in work, unemployed, inactive,
long-term unemployed, claimants, programme participants, jobs reaching six months, the unemployed
by months unemployed), from which benefits are paid and the results row is made.

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
