"""Skills grow with work and decay in long unemployment (scarring).

Log skill rises by `skill_growth_in_work` a month in work and falls by `skill_decay_unemployed`
a month once unemployment has lasted `skill_decay_after_months` (Edin & Gustavsson 2008 find
about five percentile points lost per year out of work; effects.md s9). Skill feeds both
employability in matching and the wage of the next job.
"""

from __future__ import annotations

import numpy as np

from simulation.config import Params
from simulation.people import EMPLOYED, UNEMPLOYED, People

SKILL_BOUND = 4.0  # log units: keeps skill finite over very long runs


def step(people: People, params: Params) -> None:
    growth = np.where(people.status == EMPLOYED, params.skill_growth_in_work, 0.0)
    long_unemployed = (people.status == UNEMPLOYED) & (people.months_in_status >= params.skill_decay_after_months)
    decay = np.where(long_unemployed, params.skill_decay_unemployed, 0.0)
    people.skill = np.clip(people.skill + growth - decay, -SKILL_BOUND, SKILL_BOUND).astype(np.float32)
