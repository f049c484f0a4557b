"""Employers as a struct of arrays: small businesses, plus a few rows for large employers.

Small businesses are the ONS VAT/PAYE-registered enterprises (the place file's `businesses`),
which are born, grow and die. Large private employers and the public sector together hold the
rest of employment (1 - sme_employment_share, BIS BPE 2015); they are represented by a few
long-lived rows of `large_employer_size` jobs so that every employed person has an employer.
Rows are slots; a dead firm's slot is reused by a later birth. Arrays grow by doubling.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from simulation.config import Params, PlaceFile
from simulation.rng import Streams


@dataclass
class Firms:
    district: np.ndarray  # int16
    market: np.ndarray  # int16
    size: np.ndarray  # int32, people employed (rows of People)
    target: np.ndarray  # float64, desired headcount
    age: np.ndarray  # int32, months
    alive: np.ndarray  # bool
    large: np.ndarray  # bool, a large-employer / public-sector row (never dies)
    hub_months: np.ndarray  # int16, months of enterprise-hub support left
    ever_supported: np.ndarray  # bool

    @property
    def capacity(self) -> int:
        return int(self.alive.shape[0])

    def vacancies(self) -> np.ndarray:
        """Open posts: desired minus actual headcount, for living firms."""
        v = np.floor(self.target + 0.5).astype(np.int64) - self.size
        return np.where(self.alive, np.maximum(v, 0), 0)

    def grow(self, extra: int) -> None:
        """Add `extra` empty (dead) slots."""
        for f in fields(self):
            arr = getattr(self, f.name)
            pad = np.zeros(extra, dtype=arr.dtype)
            setattr(self, f.name, np.concatenate([arr, pad]))

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))


def create_firms(
    place: PlaceFile,
    params: Params,
    ppa: float,
    streams: Streams,
    employed: np.ndarray,
    vacancies: np.ndarray,
    district_market: np.ndarray,
) -> Firms:
    """Firms for each district whose desired headcount covers its employed plus its vacancies."""
    n_small = np.array([max(1, round(d.businesses / ppa)) for d in place.districts])
    demand = employed + vacancies
    large_jobs = (1 - params.sme_employment_share) * demand
    # Ages are drawn near the stationary mix of young and old firms (mean about ten years).
    n_large = np.maximum(1, np.ceil(large_jobs / params.large_employer_size)).astype(np.int64)
    n_per = n_small + n_large
    total = int(n_per.sum())
    district = np.repeat(np.arange(len(n_per), dtype=np.int16), n_per)
    offsets = np.concatenate([[0], np.cumsum(n_per)])
    is_large = np.zeros(total, dtype=bool)
    for d in range(len(n_per)):  # per district, not per firm: a handful of iterations
        is_large[offsets[d] + n_small[d] : offsets[d + 1]] = True

    # Small firms' sizes: lognormal (most are tiny, a few large), scaled so the SME share holds.
    z = streams.normal("init_firm_size", -1, total)
    u = streams.uniform("init_firm_age", -1, total)
    age = np.floor(-np.log1p(-u) * 120).astype(np.int32)
    # Young firms start smaller (most start with 1-3 employees and few grow fast; NESTA 2009).
    raw = np.exp(params.firm_size_sd * z) * (1.0 - np.exp(-(age + 6) / 36.0))
    small_raw_sum = np.bincount(district[~is_large], weights=raw[~is_large], minlength=len(n_per))
    small_jobs = params.sme_employment_share * demand
    target = np.where(
        is_large,
        large_jobs[district] / n_large[district],
        raw * small_jobs[district] / np.maximum(small_raw_sum[district], 1e-12),
    )

    return Firms(
        district=district,
        market=district_market[district].astype(np.int16),
        size=np.zeros(total, dtype=np.int32),
        target=target.astype(np.float64),
        age=age,
        alive=np.ones(total, dtype=bool),
        large=is_large,
        hub_months=np.zeros(total, dtype=np.int16),
        ever_supported=np.zeros(total, dtype=bool),
    )


def death_hazard(age_months: np.ndarray, params: Params) -> np.ndarray:
    """Monthly death hazard by firm age, piecewise constant between the ONS survival points."""
    h1 = 1 - params.survival_1yr ** (1 / 12)
    h23 = 1 - (params.survival_3yr / params.survival_1yr) ** (1 / 24)
    h45 = 1 - (params.survival_5yr / params.survival_3yr) ** (1 / 24)
    hm = 1 - (1 - params.mature_death_rate) ** (1 / 12)
    return np.select([age_months < 12, age_months < 36, age_months < 60], [h1, h23, h45], hm)
