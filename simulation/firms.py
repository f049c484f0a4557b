"""Employers as a struct of arrays: small businesses, plus a few rows for large employers.

Small businesses are the ONS VAT/PAYE-registered enterprises (the place file's `businesses`),
which are born, grow and die. Large private employers and the public sector together hold the
rest of employment (1 - sme_employment_share, BIS BPE 2015); they are represented by a few
long-lived rows of `large_employer_size` jobs so that every employed person has an employer.
Rows are slots and are never reused: a birth takes the next unused slot. Arrays grow by half
their size when full.

Firm-level random draws (deaths, growth shocks, birth sizes, a hub's picks, posts' fill order) are
read by each firm's `draw_row`, not its slot, so that they stay common across arms when a policy
adds firms: a firm the regime's births would make anyway reads row k of a stream if it is the k-th
such firm (its slot, when no policy has added firms), whatever firms a hub's pre-start support
added before it; a firm a hub's pre-start support added (`business.prestart_births`) reads row j
of the stream's own hub-born stream ("<decision>:hub_born") if it is the j-th such firm, stored
as draw_row = -1 - j. So a hub's extra births shift no other firm's luck.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numba
import numpy as np

from simulation import detmath as dm
from simulation import parallel
from simulation.configfiles import PlaceFile
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Params


@numba.njit(cache=True, nogil=True)
def _hiring(target: np.ndarray, size: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of living firms with open posts (round-half-up target above headcount), in order,
    and their open posts, without an array over every row."""
    k = 0
    for j in range(target.shape[0]):
        k += alive[j] & (np.int64(np.floor(target[j] + 0.5)) - size[j] > 0)
    # One spare slot, so every row can be written and kept only if open (no branch to mispredict).
    rows = np.empty(k + 1, dtype=np.int64)
    vac = np.empty(k + 1, dtype=np.int64)
    k = 0
    for j in range(target.shape[0]):
        v = np.int64(np.floor(target[j] + 0.5)) - size[j]
        rows[k] = j
        vac[k] = v
        k += alive[j] & (v > 0)
    return rows[:k], vac[:k]


@numba.njit(cache=True, nogil=True)
def _small_firm_stocks(
    district: np.ndarray, alive: np.ndarray, large: np.ndarray, size: np.ndarray, n_districts: int
) -> tuple[np.ndarray, np.ndarray]:
    """Living small firms and their jobs by district, in one pass (np.bincount's counts and sums:
    the sums are of whole numbers, so exact)."""
    count = np.zeros(n_districts, dtype=np.int64)
    jobs = np.zeros(n_districts, dtype=np.float64)
    for j in range(district.shape[0]):
        if alive[j] and not large[j]:
            count[district[j]] += 1
            jobs[district[j]] += size[j]
    return count, jobs


@dataclass
class Firms:
    district: np.ndarray  # int16
    market: np.ndarray  # int16
    size: np.ndarray  # int32, people employed (rows of People)
    target: np.ndarray  # float64, desired headcount
    potential: np.ndarray  # float64, the headcount a small firm grows towards as it matures
    shock: np.ndarray  # float64, log deviation of desired headcount from its age path (mean one)
    age: np.ndarray  # int32, months
    alive: np.ndarray  # bool
    large: np.ndarray  # bool, a large-employer / public-sector row (never dies)
    hub_months: np.ndarray  # int16, months of enterprise-hub support left
    ever_supported: np.ndarray  # bool
    draw_row: np.ndarray  # int32, the row of firm-level random streams it reads (module docstring)
    n_used: int = 0  # slots ever occupied; births take slots from here on
    n_hub_born: int = 0  # of them, firms a hub's pre-start support added (draw_row < 0)
    # Markets people search in, set by the model (0: not known, worked out from people's markets).
    # A plain class attribute, not a field: not state to copy or compare, only a saved count.
    n_markets = 0

    @property
    def capacity(self) -> int:
        return int(self.alive.shape[0])

    @property
    def n_regular(self) -> int:
        """Slots used by firms the regime's births would make anyway: the rows of the firm-level
        streams they read are 0 .. n_regular - 1."""
        return self.n_used - self.n_hub_born

    @property
    def hub_born(self) -> np.ndarray:
        """Which used slots hold firms a hub's pre-start support added."""
        return self.draw_row[: self.n_used] < 0

    @property
    def used(self) -> int:
        """Slots to look at: those ever used (the rest are dead); every row of a table built
        without n_used."""
        return self.n_used or self.capacity

    def vacancies(self) -> np.ndarray:
        """Open posts of every row: desired minus actual headcount, for living firms, else 0."""
        out = np.zeros(self.capacity, dtype=np.int64)
        rows, vac = self.hiring()
        out[rows] = vac
        return out

    def hiring(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows of firms with open posts (in order) and their open posts: where `vacancies()`
        is positive, without an array over every row; a block of rows per thread."""

        def block(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
            rows, vac = _hiring(self.target[lo:hi], self.size[lo:hi], self.alive[lo:hi])
            return lo + rows, vac

        rows, vac = parallel.join(parallel.map_blocks(block, self.used))
        return rows, vac

    def grow(self, extra: int) -> None:
        """Add `extra` empty (dead) slots."""
        for name, arr in self.arrays().items():
            setattr(self, name, np.concatenate([arr, np.zeros(extra, dtype=arr.dtype)]))

    def small_firm_stocks(self, n_districts: int) -> tuple[np.ndarray, np.ndarray]:
        """Living small firms, and the people they employ, by district."""
        n = self.used
        return _small_firm_stocks(self.district[:n], self.alive[:n], self.large[:n], self.size[:n], n_districts)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in COUNTERS}

    # ---- firm-level random draws, read by draw row (module docstring)
    def uniform(self, streams: Streams, decision: str, month: int) -> np.ndarray:
        """Every used slot's draw of a firm-level uniform stream (`Streams.uniform`, by draw row)."""
        if self.n_hub_born == 0:
            return streams.uniform(decision, month, self.n_used)
        return _by_draw_row(
            self.draw_row[: self.n_used],
            streams.uniform(decision, month, self.n_regular),
            streams.uniform(hub_born_stream(decision), month, self.n_hub_born),
        )

    def normal(self, streams: Streams, decision: str, month: int) -> np.ndarray:
        """Every used slot's draw of a firm-level normal stream (`Streams.normal`, by draw row)."""
        if self.n_hub_born == 0:
            return streams.normal(decision, month, self.n_used)
        return _by_draw_row(
            self.draw_row[: self.n_used],
            streams.normal(decision, month, self.n_regular),
            streams.normal(hub_born_stream(decision), month, self.n_hub_born),
        )

    def uniform_rows(self, streams: Streams, decision: str, month: int, rows: np.ndarray) -> np.ndarray:
        """These slots' draws of a firm-level uniform stream (`Streams.uniform_rows`, by draw row);
        rows in increasing order."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.n_hub_born == 0:
            return streams.uniform_rows(decision, month, rows)
        return self._rows_by_draw_row(streams.uniform_rows, decision, month, rows)

    def normal_rows(self, streams: Streams, decision: str, month: int, rows: np.ndarray) -> np.ndarray:
        """These slots' draws of a firm-level normal stream (`Streams.normal_rows`, by draw row);
        rows in increasing order."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.n_hub_born == 0:
            return streams.normal_rows(decision, month, rows)
        return self._rows_by_draw_row(streams.normal_rows, decision, month, rows)

    def uniform_at(self, streams: Streams, decision: str, month: int, rows: np.ndarray) -> np.ndarray:
        """These slots' draws of a counter-based firm-level stream (`Streams.uniform_at`), keyed by
        draw row; a hub-born firm's key is `HUB_BORN_KEY` + its hub-born number."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.n_hub_born == 0:
            return streams.uniform_at(decision, month, rows)
        d = self.draw_row[rows].astype(np.int64)
        return streams.uniform_at(decision, month, np.where(d >= 0, d, HUB_BORN_KEY - 1 - d))

    def _rows_by_draw_row(
        self, read: Callable[..., np.ndarray], decision: str, month: int, rows: np.ndarray
    ) -> np.ndarray:
        d = self.draw_row[rows].astype(np.int64)
        hub = d < 0
        out = np.empty(rows.shape[0])
        # Draw rows rise with slots within each kind, so each part is read in increasing order.
        out[~hub] = read(decision, month, d[~hub])
        out[hub] = read(hub_born_stream(decision), month, -1 - d[hub])
        return out

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays().values())


COUNTERS = frozenset({"n_used", "n_hub_born"})  # Firms' fields that are counts, not arrays
HUB_BORN_KEY = 1 << 40  # counter-based draws: hub-born firm j's key (past any regular firm's row)


def hub_born_stream(decision: str) -> str:
    """The stream hub-born firms read for a firm-level decision (module docstring)."""
    return f"{decision}:hub_born"


@numba.njit(cache=True, nogil=True)
def _by_draw_row(draw_row: np.ndarray, regular: np.ndarray, hub_born: np.ndarray) -> np.ndarray:
    """out[i] = regular[draw_row[i]], or hub_born[-1 - draw_row[i]] for a hub-born firm."""
    out = np.empty(draw_row.shape[0])
    for i in range(draw_row.shape[0]):
        d = draw_row[i]
        out[i] = regular[d] if d >= 0 else hub_born[-1 - d]
    return out


def create_firms(
    place: PlaceFile,
    params: Params,
    ppa: float,
    streams: Streams,
    employed: np.ndarray,
    vacancies: np.ndarray,
    district_market: np.ndarray,
) -> tuple[Firms, np.ndarray]:
    """Firms for each district whose desired headcount covers its employed plus its vacancies.

    Also returns each district's scale of small firms' potential sizes, which births reuse.
    """
    n_small = np.array([max(1, round(d.businesses / ppa)) for d in place.districts])
    demand = employed + vacancies
    large_jobs = (1 - params.sme_employment_share) * demand
    n_large = np.maximum(1, np.ceil(large_jobs / params.large_employer_size)).astype(np.int64)
    n_per = n_small + n_large
    total = int(n_per.sum())
    district = np.repeat(np.arange(len(n_per), dtype=np.int16), n_per)
    offsets = np.concatenate([[0], np.cumsum(n_per)])
    is_large = np.zeros(total, dtype=bool)
    for d in range(len(n_per)):  # per district, not per firm: a handful of iterations
        is_large[offsets[d] + n_small[d] : offsets[d + 1]] = True

    # Small firms: lognormal potential sizes (most tiny, a few large) and the steady-state age mix;
    # desired headcount follows each firm's age path. Scaled so the SME share of jobs holds.
    z = streams.normal("init_firm_size", -1, total, cache=False)
    age = stationary_ages(streams.uniform("init_firm_age", -1, total, cache=False), params)
    raw = mean_one_by_district(dm.np_exp(params.firm_size_sd * z), district, ~is_large, len(n_per))
    raw *= dm.exp(0.5 * params.firm_size_sd * params.firm_size_sd)
    small_jobs = params.sme_employment_share * demand
    scale = potential_scale(raw, age, district, ~is_large, small_jobs, params)
    potential = np.where(is_large, 0.0, raw * scale[district])
    small_target = potential * age_profile(age, scale[district], params)
    # A district whose small firms are all new wants fewer small-firm posts than its SME jobs at
    # any scale (`potential_scale`): its large employers take the rest, so desired headcount
    # still covers employed + vacancies.
    all_new = np.bincount(district, weights=~is_large & (age > 0), minlength=len(n_per)) == 0
    small_wanted = np.bincount(district, weights=small_target, minlength=len(n_per))
    short = np.where(all_new, np.maximum(small_jobs - small_wanted, 0.0), 0.0)
    target = np.where(is_large, ((large_jobs + short) / n_large)[district], small_target)

    firms = Firms(
        district=district,
        market=district_market[district].astype(np.int16),
        size=np.zeros(total, dtype=np.int32),
        target=target.astype(np.float64),
        potential=potential.astype(np.float64),
        shock=np.zeros(total, dtype=np.float64),
        age=age,
        alive=np.ones(total, dtype=bool),
        large=is_large,
        hub_months=np.zeros(total, dtype=np.int16),
        ever_supported=np.zeros(total, dtype=bool),
        draw_row=np.arange(total, dtype=np.int32),
        n_used=total,
    )
    return firms, scale


MAX_AGE_MONTHS = 1200
# Small firms' age in whole years, 0-4 and 5+: a life table of deaths by age, to read survival at
# 1, 3 and 5 years off the model (ONS business demography, calibration.md s4).
AGE_YEAR_BINS = ("age0", "age1", "age2", "age3", "age4", "age5p")


def age_profile(age: np.ndarray, scale: np.ndarray | float, params: Params) -> np.ndarray:
    """Share of its potential a firm of this age wants: from birth size up to one, over maturity.

    A new firm starts at about `birth_size_mean` posts and approaches its potential with time
    constant `firm_maturity_months` (most start with 1-3 employees and few grow fast; NESTA 2009).
    """
    return 1.0 - (1.0 - starting_share(scale, params)) * dm.np_exp(-age / params.firm_maturity_months)


def starting_share(scale: np.ndarray | float, params: Params) -> np.ndarray:
    """The share of its potential a new firm wants: `birth_size_mean` over the mean potential
    size (potential scale times the lognormal's mean), at most one."""
    mean_potential = np.asarray(scale) * dm.exp(0.5 * params.firm_size_sd * params.firm_size_sd)
    return np.minimum(1.0, params.birth_size_mean / np.maximum(mean_potential, 1e-12))


def potential_scale(
    raw: np.ndarray, age: np.ndarray, district: np.ndarray, small: np.ndarray, small_jobs: np.ndarray, params: Params
) -> np.ndarray:
    """Per-district scale s of potential sizes so small firms' desired jobs sum to `small_jobs`.

    A small firm wants raw * s * (1 - (1 - start) e^(-age/T)) posts, start = min(1, b / (s c)),
    b = birth_size_mean, c = exp(firm_size_sd^2 / 2), T = firm_maturity_months (`age_profile`).
    With R = sum of raw, D = sum of raw e^(-age/T) and A = R - D over a district's small firms,
    the district's desired jobs are piecewise linear in s, continuous and increasing:
        s R                 for s <= b / c  (start = 1: every firm wants its potential)
        s A + (b / c) D     for s >= b / c  (a new firm wants b / c per unit of raw, whatever s)
    so the solution is unique and is solved directly. Where every small firm of a district is new
    (A = 0, which happens at coarse scales where a district has one small-firm row), no scale
    reaches the jobs: the fixed-point iteration this replaces multiplied s by a constant factor
    each round until it overflowed. There the scale is the mature one, small_jobs / R, and
    `create_firms` gives the shortfall to the district's large employers.
    """
    n = small_jobs.shape[0]
    district, raw, age = district[small], raw[small], age[small]
    total_raw = np.bincount(district, weights=raw, minlength=n)
    grown = np.bincount(district, weights=raw * -dm.np_expm1(-age / params.firm_maturity_months), minlength=n)  # A
    young = total_raw - grown  # D
    floor = params.birth_size_mean / dm.exp(0.5 * params.firm_size_sd * params.firm_size_sd)  # b / c
    mature = small_jobs / np.maximum(total_raw, 1e-12)
    reachable = grown > 0
    above = (small_jobs - floor * young) / np.where(reachable, grown, 1.0)
    return np.where((mature <= floor) | ~reachable, mature, above)


def mean_one_by_district(raw: np.ndarray, district: np.ndarray, small: np.ndarray, n_districts: int) -> np.ndarray:
    """The starting small firms' raw potential draws divided by their district's mean, so each
    district's mean is exactly one (large-employer rows are left as they are).

    The district's potential scale is solved from its own draws (`potential_scale`) and its births
    draw fresh ones about that scale, so the starting sample's luck would otherwise persist as a
    trend: a district whose few firm rows drew small potentials gets a larger scale, its births
    are then larger on average than the firms they replace, and by Jensen's inequality
    (E[1/mean] > 1/E[mean]) small-firm demand rose across England in every run, by about 7% in
    the long run at 300 people a row (3% over six years; issue 24). With the mean fixed, births
    replace deaths' demand in expectation and demand is stationary as the docstring of
    `business` says; the spread of sizes within a district is unchanged."""
    by = np.bincount(district[small], weights=raw[small], minlength=n_districts)
    n = np.bincount(district[small], minlength=n_districts)
    mean = np.where(n > 0, by / np.maximum(n, 1), 1.0)
    return np.where(small, raw / np.where(mean > 0, mean, 1.0)[district], raw)


def stationary_ages(u: np.ndarray, params: Params) -> np.ndarray:
    """Firm ages drawn from the mix that constant births and the survival curve settle into.

    With a steady flow of births, the number of firms of age a is proportional to the share
    surviving to a, S(a); starting from that mix keeps the firm population's make-up (and so
    its expected deaths) steady from the first month.
    """
    hazard = death_hazard(np.arange(MAX_AGE_MONTHS), params)
    survival = np.concatenate([[1.0], np.cumprod(1.0 - hazard)[:-1]])
    cdf = np.cumsum(survival) / survival.sum()
    return np.minimum(np.searchsorted(cdf, u, side="right"), MAX_AGE_MONTHS - 1).astype(np.int32)


def death_hazard(age_months: np.ndarray, params: Params) -> np.ndarray:
    """Monthly death hazard by firm age, piecewise constant between the ONS survival points.

    `age_months` is completed months when the month's death is drawn: the k-th month of a firm's
    life is age k - 1 (`business.step` draws deaths before ageing). A cohort then survives to
    12 months with probability (1 - h1)^12 = S1; to 36 with S1 (1 - h23)^24 = S1 (S3 / S1) = S3;
    to 60 with S3 (1 - h45)^24 = S5; then (1 - hm)^12 = 1 - mature_death_rate a year. Survival
    at 2 and 4 years is log-linear between the points: S2 = sqrt(S1 S3), S4 = sqrt(S3 S5).
    """
    h1 = 1 - dm.pow(params.survival_1yr, 1 / 12)
    h23 = 1 - dm.pow(params.survival_3yr / params.survival_1yr, 1 / 24)
    h45 = 1 - dm.pow(params.survival_5yr / params.survival_3yr, 1 / 24)
    hm = 1 - dm.pow(1 - params.mature_death_rate, 1 / 12)
    return np.select([age_months < 12, age_months < 36, age_months < 60], [h1, h23, h45], hm)
