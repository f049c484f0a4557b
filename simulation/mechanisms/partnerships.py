"""Employer partnerships (Ready for Work style) and schools-employers links.

Ready for Work (Business in the Community) gives people far from work two days' training, a
two-week unpaid placement with a business, then mentoring (calibration.md s3). Each month a
district offers `placements_per_10k` a year per 10,000 of working age; claimants out of work for
six months or more are placed (by a per-person random key). A placement lasts a month; then a
share `placement_to_job` are taken on by a host employer with an open post in their market (so
the job is an existing vacancy: others lose it, as displacement implies), and the rest get
`mentoring_months` of mentoring that raises their job finding. Placements add a little skill.
Coordinators cost money (paid by `partnership_payer`); employers' donated time is valued and
counted as in-kind money from employers.

Schools-employers links: school leavers who met employers four or more times (a share
`school_employer_coverage`, drawn as they leave school) find work more easily while young:
their search weight is divided by `employer_contact_neet_hr` (effects.md s7, selection-adjusted).
Both effects on search weights live in `matching.partnership_multiplier`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from simulation import parallel
from simulation.declare import Column, Mechanism, Output, Posting, at_least_zero, between, lever, probability
from simulation.mechanisms import matching
from simulation.mechanisms._util import long_claimants, pick_per_group, stochastic_round
from simulation.mechanisms.world import World
from simulation.people import EMPLOYED, People
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Levers, Params

ELIGIBLE_AFTER_MONTHS = 6


def step(
    people: People,
    firms,
    params: Params,
    levers: Levers,
    streams: Streams,
    month: int,
    working_age: np.ndarray,
    person_market: np.ndarray,
    ppa: float,
    flows: dict[str, np.ndarray] | None = None,
    claimants: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """One month of placements; returns per-district counts (real people) and money (£). With
    `flows`, placement hires are also counted there as from unemployment or inactivity (rows).
    `claimants`: this month's claimants, if known (`_util.long_claimants`)."""
    nd = working_age.shape[0]
    d = people.district
    out = {k: np.zeros(nd) for k in ("placements", "placement_jobs", "partnership_cost", "employer_in_kind")}

    def tick(lo: int, hi: int) -> np.ndarray:
        # A month less of mentoring; placements in their last month end (rows returned).
        mentor = people.mentor_months[lo:hi]
        mentor[mentor > 0] -= 1
        ending = np.flatnonzero(people.placement_months[lo:hi] == 1)
        people.placement_months[lo + ending] = 0
        return lo + ending

    # Placements that end this month: some become jobs, the rest get mentoring.
    ending = np.concatenate(parallel.map_blocks(tick, people.n))
    if ending.size:
        u = streams.uniform_at("placement_outcome", month, ending)
        to_job = ending[(u < params.placement_to_job) & (people.status[ending] != EMPLOYED)]
        hired, posts = matching.take_posts(
            firms,
            to_job,
            streams.uniform_at("placement_priority", month, to_job),
            person_market,
            streams,
            month,
            "placement_fill",
        )
        matching.start_jobs(people, firms, hired, posts, params, flows)
        out["placement_jobs"] = np.bincount(d[hired], minlength=nd) * ppa
        mentored = np.setdiff1d(ending, hired, assume_unique=True)
        people.mentor_months[mentored] = int(params.mentoring_months)

    # New placements: claimants out of work six months or more, by a per-person key.
    wanted = levers.placements_per_10k * working_age / 10_000 / 12 / ppa
    slots = stochastic_round(wanted, streams.uniform("placement_slots", month, nd))
    if slots.sum() > 0:
        eligible = long_claimants(people, ELIGIBLE_AFTER_MONTHS, claimants)
        key = streams.uniform_at("placement_pick", month, eligible)
        chosen = pick_per_group(eligible, d[eligible], key, slots)
        people.placement_months[chosen] = 1
        people.skill[chosen] = (people.skill[chosen] + params.placement_skill_gain).astype(np.float32)
        n = np.bincount(d[chosen], minlength=nd) * ppa
        out["placements"] = n
        out["partnership_cost"] = n * params.partnership_cost_per_placement
        out["employer_in_kind"] = n * params.employer_hours_per_placement * params.employer_hour_value
    return out


def run(w: World) -> None:
    """Ready for Work partnerships place claimants with employers."""
    assert w.claimants is not None  # listed in every policy month
    w.partnership_month = step(
        w.people,
        w.firms,
        w.params,
        w.levers,
        w.streams,
        w.month,
        w.working_age,
        w.person_market,
        w.ppa,
        w.flows,
        w.claimants,
    )


# ---- what this mechanism owns (`simulation.declare`)


def report(w: World) -> dict[str, np.ndarray]:
    """The month's placements and the jobs they led to (zero before the regime starts)."""
    none = np.zeros(w.n_districts)
    return {key: w.partnership_month.get(key, none).astype(np.float64) for key in ("placements", "placement_jobs")}


MECHANISM = Mechanism(
    name="partnerships",
    doc=__doc__ or "",
    parameters={
        "placement_to_job": probability(),
        "mentoring_months": between(0.0, 24.0),
        "mentoring_effect": at_least_zero(5.0),
        "placement_skill_gain": at_least_zero(1.0),
        "partnership_cost_per_placement": at_least_zero(1e5),
        "employer_hours_per_placement": at_least_zero(1000.0),
        "employer_hour_value": at_least_zero(1000.0),
        "employer_contact_neet_hr": between(0.05, 1.0),
    },
    person_fields=(
        Column("placement_months", "int8", "months left in an employer placement"),
        Column("mentor_months", "int8", "months of mentoring left after a placement"),
        Column("employer_contacts", "bool", "met employers 4+ times at school"),
    ),
    levers={
        "placements_per_10k": lever(float, "placements a year per 10,000 of working age", ge=0, le=10_000),
        "partnership_payer": lever(Literal["exchequer", "council"], "who pays the partnership's coordinators"),
        "school_employer_coverage": lever(float, "share of school leavers with 4+ employer contacts", ge=0, le=1),
    },
    outputs=(
        Output("placements", "employer placements started"),
        Output("placement_jobs", "placements that led to a job with the host employer"),
    ),
    report=report,
    postings={
        "partnership_delivery_exchequer": Posting(
            "exchequer", "economy", "employment_support", "partnership coordinators paid by the Exchequer"
        ),
        "partnership_delivery_council": Posting(
            "council", "economy", "employment_support", "partnership coordinators paid by councils"
        ),
        "employer_in_kind": Posting("employers", "economy", "private", "employers' donated time, valued"),
    },
)
