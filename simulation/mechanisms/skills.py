"""Skills grow with work and decay in long unemployment (scarring).

Log skill rises by `skill_growth_in_work` a month in work and falls by `skill_decay_unemployed`
a month once unemployment has lasted `skill_decay_after_months` (Edin & Gustavsson 2008 find
about five percentile points lost per year out of work; effects.md s9). Skill feeds both
employability in matching and the wage of the next job.

Training: programme participants out of work start a course at `training_take_up` a year. A
course adds `training_skill_gain` scaled by `training_vacancy_link` (how closely training is tied
to local vacancies: national and fragmented in one regime, joined up locally in the other). It
costs `training_cost`, paid from the district's skills fund (developers' contributions) while it
has money, and by the Exchequer otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation import parallel
from simulation.declare import Column, Mechanism, Output, Posting, at_least_zero, lever
from simulation.mechanisms import skills_kernels
from simulation.mechanisms.world import World
from simulation.people import EMPLOYED, NO_PROGRAMME, People
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Levers, Params

SKILL_BOUND = 4.0  # log units: keeps skill finite over very long runs


def step(people: People, params: Params) -> None:
    """Log skill grows a month in work and decays in unemployment once the spell out of work
    (linked across short gaps) has lasted long enough."""
    parallel.map_blocks(
        lambda lo, hi: skills_kernels.skills(
            people.skill[lo:hi],
            people.status[lo:hi],
            people.months_out[lo:hi],
            float(params.skill_growth_in_work),
            float(params.skill_decay_unemployed),
            float(params.skill_decay_after_months),
            SKILL_BOUND,
        ),
        people.n,
    )


def train(
    people: People,
    params: Params,
    levers: Levers,
    streams: Streams,
    month: int,
    n_districts: int,
    ppa: float,
    participants: np.ndarray | None = None,
) -> np.ndarray:
    """Participants out of work start training; returns courses started by district (real people).
    `participants` (rows in order that include everyone in a programme, such as the list providers
    leave) spares a scan of every row."""
    if levers.training_take_up <= 0:
        return np.zeros(n_districts)
    if participants is None:
        candidates = parallel.flatnonzero(
            lambda lo, hi: (people.programme[lo:hi] != NO_PROGRAMME) & (people.status[lo:hi] != EMPLOYED), people.n
        )
    else:
        rows = participants
        candidates = rows[(people.programme[rows] != NO_PROGRAMME) & (people.status[rows] != EMPLOYED)]
    start = candidates[streams.uniform_at("training", month, candidates) < levers.training_take_up / 12]
    gain = params.training_skill_gain * levers.training_vacancy_link
    people.skill[start] = np.minimum(people.skill[start] + gain, SKILL_BOUND).astype(np.float32)
    return np.bincount(people.district[start], minlength=n_districts) * ppa


# ---- the month's stages (`simulation.model.MONTH`)


def run_training(w: World) -> None:
    """Participants start training courses."""
    w.training_started = train(w.people, w.params, w.levers, w.streams, w.month, w.n_districts, w.ppa, w.participants)


def run(w: World) -> None:
    """Skills grow in work and fade out of it."""
    step(w.people, w.params)


# ---- what this mechanism owns (`simulation.declare`)


def report(w: World) -> dict[str, np.ndarray]:
    """Training courses started this month."""
    return {"training_starts": np.asarray(w.training_started, dtype=np.float64)}


MECHANISM = Mechanism(
    name="skills",
    doc=__doc__ or "",
    parameters={
        "skill_sd": at_least_zero(3.0),
        "skill_elasticity": at_least_zero(5.0),
        "skill_growth_in_work": at_least_zero(0.1),
        "skill_decay_unemployed": at_least_zero(0.1),
        "skill_decay_after_months": at_least_zero(240),
        "training_skill_gain": at_least_zero(1.0),
        "training_cost": at_least_zero(1e5),
    },
    person_fields=(Column("skill", "float32", "log skill"),),
    levers={
        "training_take_up": lever(float, "share of participants who start training in a year", ge=0, le=1),
        "training_vacancy_link": lever(float, "how closely training is tied to local vacancies", ge=0, le=1),
    },
    outputs=(Output("training_starts", "training courses started"),),
    report=report,
    postings={
        "training_exchequer": Posting(
            "exchequer", "economy", "employment_support", "courses the skills fund cannot pay"
        ),
        "training_skills_fund": Posting(
            "skills_fund", "economy", "private", "courses paid from developers' contributions"
        ),
    },
)
