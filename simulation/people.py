"""People of working age as a struct of arrays: one row per person (or per `people_per_agent`).

Rows are ordered by district, and districts by travel-to-work market, so a district's people and
a market's people are contiguous slices. Rows are slots: nobody is deleted mid-run; a person who
reaches 65 is replaced in the same slot by a 16-year-old.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from simulation import detmath as dm
from simulation.configfiles import PlaceFile
from simulation.declare import Column, Mechanism, between, probability
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Params

EMPLOYED, UNEMPLOYED, INACTIVE = 0, 1, 2
STATUS_NAMES = ("employed", "unemployed", "inactive")

NO_BENEFIT, JSA, ESA = 0, 1, 2
BENEFIT_NAMES = ("none", "jsa", "esa")

# Claimant groups: the Work Programme's payment groups (WPC HC 162). Order matches config.GROUPS.
# A claim puts a person in one of groups 1-5 (`group`); the last two are payment groups a
# provider's referral gives (`eligible_group`): JSA claimants facing particular disadvantage
# referred early, and new ESA claimants who volunteer.
NO_GROUP, JSA_18_24, JSA_25_PLUS, JSA_EX_IB, ESA_NEW, ESA_EX_IB = 0, 1, 2, 3, 4, 5
JSA_EARLY_ACCESS, ESA_VOLUNTEER = 6, 7
GROUP_NAMES = (
    "none",
    "jsa_18_24",
    "jsa_25_plus",
    "jsa_ex_ib",
    "esa_new",
    "esa_ex_ib",
    "jsa_early_access",
    "esa_volunteer",
)
# Official job-outcome definitions: months continuously in work (6 for JSA groups, 3 for ESA).
OFFICIAL_OUTCOME_MONTHS = np.array([0, 6, 6, 6, 3, 3, 6, 3], dtype=np.int16)

NO_PROGRAMME = -1
NO_EMPLOYER = -1
NOT_ELIGIBLE = -32768  # eligible_month of someone never eligible for referral
FRAGILE_MONTHS = 6  # a new job is fragile for its first six months
SUSTAINED_MONTHS = 6  # a job or a spell in work is sustained once it has lasted six continuous months
# Spells out of work link across gaps of up to 12 weeks, as DWP links JSA and ESA claims: a job
# or a spell of inactivity off benefit that ends within LINK_MONTHS leaves the clock running.
LINK_MONTHS = 3
# Completed months unemployed, binned for the job-finding hazard by duration (ONS 2013 compares
# under 3 months with over 2 years: calibration.md s6).
DURATION_EDGES = np.array([0, 3, 6, 12, 24], dtype=np.int16)
DURATION_BINS = ("d0_2", "d3_5", "d6_11", "d12_23", "d24p")


@dataclass
class People:
    district: np.ndarray  # int16, district index
    status: np.ndarray  # int8, EMPLOYED / UNEMPLOYED / INACTIVE
    months_in_status: np.ndarray  # int16
    months_out: np.ndarray  # int16, months out of work in the current spell, linked as DWP links claims
    skill: np.ndarray  # float32, log skill
    barrier: np.ndarray  # float32 in [0, 1]: distance from work (health, care, complex needs)
    age: np.ndarray  # int8, years
    birth_month: np.ndarray  # int8, 0-11: the month of the year in which this person ages
    benefit: np.ndarray  # int8, NO_BENEFIT / JSA / ESA
    group: np.ndarray  # int8, claimant group (NO_GROUP when not claiming)
    complex_needs: np.ndarray  # bool: several barriers at once (health, housing, care, addiction)
    programme: np.ndarray  # int16, provider index or NO_PROGRAMME
    months_in_programme: np.ndarray  # int16
    ever_referred: np.ndarray  # bool
    work_months: np.ndarray  # int16, consecutive months in work while attached (for outcome fees)
    outcome_paid: np.ndarray  # bool
    sustain_paid: np.ndarray  # int16, sustainment months paid
    support_hours: np.ndarray  # float32, adviser hours received this month
    eligible_month: np.ndarray  # int16, month first eligible for referral (NOT_ELIGIBLE if never)
    eligible_group: np.ndarray  # int8, claimant group when first eligible (the payment group)
    cohort_work: np.ndarray  # int16, continuous months in work since becoming eligible
    outcome_month: np.ndarray  # int16, month of the official job outcome (NOT_ELIGIBLE if none)
    placement_months: np.ndarray  # int8, months left in an employer placement
    mentor_months: np.ndarray  # int8, months of mentoring left after a placement
    employer_contacts: np.ndarray  # bool, met employers 4+ times at school
    fragile: np.ndarray  # bool, in a job started less than FRAGILE_MONTHS ago
    employer: np.ndarray  # int32, firm row or NO_EMPLOYER
    wage: np.ndarray  # float32, £ per month
    employability: np.ndarray  # float32, persistent unobserved employability (mean 1 at entry)
    claim_propensity: np.ndarray  # float32, chance of claiming on becoming unemployed
    health_condition: np.ndarray  # bool, has claimed ESA: a job lost may mean a return to ESA
    sanction_months: np.ndarray  # int8, months left of a benefit sanction (0: not sanctioned; see conditionality)

    def __post_init__(self) -> None:
        # Columns a mechanism declares beyond the core ones above (`declare.Column`), read as
        # attributes (`people.childcare_place`), and each one's value for a newcomer.
        self.more: dict[str, np.ndarray] = {}
        self.more_fill: dict[str, Any] = {}

    def __getattr__(self, name: str) -> np.ndarray:  # only for names that are not core fields
        more = self.__dict__.get("more")
        if more is not None and name in more:
            return more[name]
        raise AttributeError(name)

    def add_columns(self, columns: Iterable[Column]) -> None:
        """Allocate the columns mechanisms declare beyond the core ones, each at its newcomer value."""
        for c in columns:
            self.more[c.name] = np.full(self.n, c.fill, dtype=c.dtype)
            self.more_fill[c.name] = c.fill

    def reset_newcomers(self, rows: np.ndarray) -> None:
        """Give the declared columns of rows taken by newcomers their newcomer values."""
        for name, values in self.more.items():
            values[rows] = self.more_fill[name]

    @property
    def n(self) -> int:
        return int(self.status.shape[0])

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self)) + sum(v.nbytes for v in self.more.values())

    def rows(self, lo: int, hi: int) -> People:
        """Rows lo..hi as a People of views: what is written to it is written here."""
        view = People(**{f.name: getattr(self, f.name)[lo:hi] for f in fields(self)})
        view.more = {name: values[lo:hi] for name, values in self.more.items()}
        view.more_fill = self.more_fill
        return view


def district_slices(counts: np.ndarray) -> np.ndarray:
    """Row offsets: district d holds rows offsets[d]:offsets[d+1]."""
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


CHUNK = 1 << 20  # rows drawn at a time when building a population


def create_people(place: PlaceFile, params: Params, ppa: float, streams: Streams) -> People:
    """Draw a place's starting population so each district's stocks match its documented rates.

    Rows are drawn a chunk at a time, each decision's draws continuing its one stream across
    chunks (so row i reads the i-th number of each stream, as in one draw of n), which keeps the
    temporaries small for England at one row per person.
    """
    counts = np.array([max(1, round(d.working_age_pop / ppa)) for d in place.districts])
    n = int(counts.sum())
    district = np.repeat(np.arange(len(counts), dtype=np.int16), counts)
    rates = {
        "emp": np.array([d.employment_rate for d in place.districts]),
        "inact": np.array([d.inactivity_rate for d in place.districts]),
        "esa": np.array([d.esa_ib_rate for d in place.districts]),
    }
    names = ("init_status", "init_duration", "init_age", "init_birth_month", "init_barrier", "init_esa")
    uniforms = {name: streams.generator(name, -1) for name in (*names, "claim", "init_legacy", "init_complex")}
    people = People(
        district=district,
        status=np.empty(n, dtype=np.int8),
        months_in_status=np.empty(n, dtype=np.int16),
        months_out=np.empty(n, dtype=np.int16),
        skill=np.empty(n, dtype=np.float32),
        barrier=np.empty(n, dtype=np.float32),
        age=np.empty(n, dtype=np.int8),
        birth_month=np.empty(n, dtype=np.int8),
        benefit=np.empty(n, dtype=np.int8),
        group=np.empty(n, dtype=np.int8),
        complex_needs=np.empty(n, dtype=bool),
        programme=np.full(n, NO_PROGRAMME, dtype=np.int16),
        months_in_programme=np.zeros(n, dtype=np.int16),
        ever_referred=np.zeros(n, dtype=bool),
        work_months=np.zeros(n, dtype=np.int16),
        outcome_paid=np.zeros(n, dtype=bool),
        sustain_paid=np.zeros(n, dtype=np.int16),
        support_hours=np.zeros(n, dtype=np.float32),
        eligible_month=np.full(n, NOT_ELIGIBLE, dtype=np.int16),
        eligible_group=np.zeros(n, dtype=np.int8),
        cohort_work=np.zeros(n, dtype=np.int16),
        outcome_month=np.full(n, NOT_ELIGIBLE, dtype=np.int16),
        placement_months=np.zeros(n, dtype=np.int8),
        mentor_months=np.zeros(n, dtype=np.int8),
        employer_contacts=np.zeros(n, dtype=bool),
        fragile=np.zeros(n, dtype=bool),
        employer=np.full(n, NO_EMPLOYER, dtype=np.int32),
        wage=np.zeros(n, dtype=np.float32),
        employability=np.empty(n, dtype=np.float32),
        claim_propensity=np.empty(n, dtype=np.float32),
        health_condition=np.zeros(n, dtype=bool),
        sanction_months=np.zeros(n, dtype=np.int8),
    )
    for a in range(0, n, CHUNK):
        rows = slice(a, min(a + CHUNK, n))
        m = rows.stop - rows.start
        draws = {name: g.random(m) for name, g in uniforms.items()}
        draws["init_skill"] = streams.normal_block("init_skill", -1, a, m)
        draws["init_employability"] = streams.normal_block("init_employability", -1, a, m)
        _draw_chunk(people, rows, district[rows], rates, draws, params)
    return people


def _draw_chunk(
    people: People,
    rows: slice,
    district: np.ndarray,
    rates: dict[str, np.ndarray],
    draws: dict[str, np.ndarray],
    params: Params,
) -> None:
    """Starting state of one chunk of rows from its draws (the same arithmetic for every chunk)."""
    emp, inact, esa_rate = rates["emp"][district], rates["inact"][district], rates["esa"][district]
    unemp = 1.0 - emp - inact  # the residual keeps the three stocks summing to the population

    u = draws["init_status"]
    status = np.where(u < emp, EMPLOYED, np.where(u < emp + np.maximum(unemp, 0), UNEMPLOYED, INACTIVE))
    status = status.astype(np.int8)

    # Persistent employability: lognormal with mean 1 for everyone entering the population. The
    # unemployed at any moment over-represent the less employable (each stays in the stock in
    # proportion to their expected spell, 1 / e): their draws come from the distribution tilted by
    # 1 / e, which for a lognormal is the same one with its log mean lowered by sigma^2.
    sd = params.employability_sd
    log_mean = np.where(status == UNEMPLOYED, -1.5 * sd * sd, -0.5 * sd * sd)
    employability = dm.np_exp(log_mean + sd * draws["init_employability"])

    # Spells in progress: geometric durations; about a third of the unemployed start long-term.
    # An unemployed person's expected spell is inversely proportional to their employability,
    # scaled so the unemployed's mean stays 9 months (E[1/e] in the tilted stock is exp(2 sigma^2)).
    u = draws["init_duration"]
    unemployed_spell = 9.0 * dm.np_exp(np.full_like(employability, -2.0 * sd * sd)) / employability
    mean_spell = np.where(status == UNEMPLOYED, unemployed_spell, np.where(status == EMPLOYED, 60.0, 36.0))
    months = np.floor(-dm.np_log(1.0 - u) * mean_spell).clip(0, 240).astype(np.int16)  # 1 - u is exact

    skill = (draws["init_skill"] * params.skill_sd).astype(np.float32)
    age = (16 + np.floor(draws["init_age"] * 49)).astype(np.int8)
    birth_month = np.floor(draws["init_birth_month"] * 12).astype(np.int8)

    # Barriers: ESA/IB claimants carry high ones, others low; drawn so ESA stocks match the place.
    u_b = draws["init_barrier"]
    u_esa = draws["init_esa"]
    inactive = status == INACTIVE
    esa_given_inactive = np.clip(esa_rate / np.maximum(inact, 1e-9), 0, 1)
    on_esa = inactive & (u_esa < esa_given_inactive)
    barrier = np.where(on_esa, 0.45 + 0.5 * u_b, np.where(status == UNEMPLOYED, 0.35 * u_b, 0.2 * u_b))

    u_claim = draws["claim"]
    benefit = np.where(
        on_esa, ESA, np.where((status == UNEMPLOYED) & (u_claim < params.claim_take_up), JSA, NO_BENEFIT)
    )
    # Legacy incapacity-benefit claimants: a share of ESA (migrated from IB) and of JSA (found fit).
    u_legacy = draws["init_legacy"]
    group = np.select(
        [
            benefit == ESA,
            (benefit == JSA) & (u_legacy < params.jsa_ex_ib_share),
            (benefit == JSA) & (age < 25),
            benefit == JSA,
        ],
        [np.where(u_legacy < params.esa_ex_ib_share, ESA_EX_IB, ESA_NEW), JSA_EX_IB, JSA_18_24, JSA_25_PLUS],
        NO_GROUP,
    )
    u_complex = draws["init_complex"]
    complex_needs = u_complex < np.where(
        benefit == ESA, params.complex_needs_share_esa, params.complex_needs_share_other
    )
    barrier = np.where(complex_needs, np.minimum(barrier + 0.2, 0.95), barrier)

    # Time out of work, linked as DWP links claims: a spell of unemployment or on ESA counts in
    # full; inactivity off benefit only while it could still link to a claim (LINK_MONTHS).
    out_of_work = (status == UNEMPLOYED) | (benefit == ESA) | ((status == INACTIVE) & (months <= LINK_MONTHS))

    people.status[rows] = status
    people.months_in_status[rows] = months
    people.months_out[rows] = np.where(out_of_work, months, 0).astype(np.int16)
    people.employability[rows] = employability.astype(np.float32)
    people.claim_propensity[rows] = claim_propensity(employability, params)
    people.health_condition[rows] = benefit == ESA
    people.skill[rows] = skill
    people.barrier[rows] = barrier.astype(np.float32)
    people.age[rows] = age
    people.birth_month[rows] = birth_month
    people.benefit[rows] = benefit.astype(np.int8)
    people.group[rows] = group.astype(np.int8)
    people.complex_needs[rows] = complex_needs


def claim_propensity(employability: np.ndarray, params: Params) -> np.ndarray:
    """Each person's chance of claiming JSA on becoming unemployed (float32). Take-up rises with
    the spell a person can expect, which is inversely proportional to their employability e:
    take_up * e^-k / E[e^-k], where k is `claim_selection` and the mean is over the lognormal
    distribution people enter with (exp(k sigma^2 (1 + k) / 2)), so the average take-up of those
    entering unemployment at random is `claim_take_up`. Capped at 1."""
    sd, k = params.employability_sd, params.claim_selection
    scale = params.claim_take_up / dm.np_exp(np.float64(0.5 * k * sd * sd * (1.0 + k)))
    e = np.asarray(employability, dtype=np.float64)
    return np.minimum(scale * dm.np_power(e, -k), 1.0).astype(np.float32)


def draw_employability(normal: np.ndarray, params: Params) -> np.ndarray:
    """Employability of newcomers from standard normal draws: lognormal with mean 1 (float32)."""
    sd = params.employability_sd
    return dm.np_exp(-0.5 * sd * sd + sd * np.asarray(normal, dtype=np.float64)).astype(np.float32)


def wage_for(skill: np.ndarray, params: Params) -> np.ndarray:
    """Monthly gross wage of a job: higher for the more skilled, mean wage_monthly_mean."""
    mean_correction = 0.125 * (params.skill_sd * params.skill_sd)
    return (params.wage_monthly_mean * dm.np_exp(0.5 * skill - mean_correction)).astype(np.float32)


def set_claim(people: People, rows: np.ndarray, benefit: int) -> None:
    """Start or end claims for these rows (a boolean mask or indices), keeping benefit and claimant
    group consistent: a new JSA claim is in the 18-24 or 25+ group by age, a new ESA claim in the
    new-claimant group, and no claim means no group. Legacy ex-IB groups only come from the start."""
    people.benefit[rows] = benefit
    if benefit == JSA:
        people.group[rows] = np.where(people.age[rows] < 25, JSA_18_24, JSA_25_PLUS)
    elif benefit == ESA:
        people.group[rows] = ESA_NEW
    else:
        people.group[rows] = NO_GROUP


# ---- what the population owns (`simulation.declare`): the people's core columns, and the
# parameters of who claims what at the start

POPULATION = Mechanism(
    name="population",
    doc=__doc__ or "",
    parameters={
        "esa_ex_ib_share": probability(),
        "jsa_ex_ib_share": probability(),
        "complex_needs_share_esa": probability(),
        "complex_needs_share_other": probability(),
        "employability_sd": between(0.0, 2.0),
        "claim_selection": between(0.0, 3.0),
    },
    person_fields=(
        Column("district", "int16", "district index"),
        Column("status", "int8", "EMPLOYED / UNEMPLOYED / INACTIVE"),
        Column("months_in_status", "int16", "completed months in the current status"),
        Column("months_out", "int16", "months out of work in the current spell, linked across gaps of LINK_MONTHS"),
        Column("employability", "float32", "persistent unobserved employability, lognormal with mean 1"),
        Column("claim_propensity", "float32", "chance of claiming JSA on becoming unemployed"),
        Column("health_condition", "bool", "has claimed ESA: a job lost may mean a return to ESA"),
        Column("barrier", "float32", "in [0, 1]: distance from work (health, care, complex needs)"),
        Column("age", "int8", "years"),
        Column("birth_month", "int8", "0-11: the month of the year in which this person ages"),
        Column("benefit", "int8", "NO_BENEFIT / JSA / ESA"),
        Column("group", "int8", "claimant group (NO_GROUP when not claiming)"),
        Column("complex_needs", "bool", "several barriers at once (health, housing, care, addiction)"),
        Column("employer", "int32", "firm row or NO_EMPLOYER"),
        Column("wage", "float32", "£ per month"),
    ),
)
