"""Childcare places: councils fund childcare for parents out of work, lowering their barriers.

The worked example of docs/adding-a-mechanism.md (a toy: the numbers below are not evidence).
Each policy month a district funds `childcare_places_per_10k` new places a year per 10,000 of
working age. The places go to claimants out of work with the highest barriers (here, those whose
barriers include care) who have no place yet, drawn fairly with one random key per person, and
each one's barrier to work falls by the share `childcare_barrier_cut`; lower barriers raise job
finding in matching. A place costs the council `childcare_cost_per_place`: public money for
employment support. Who has had a place is a column of people's state, `childcare_place`.
"""

from __future__ import annotations

import numpy as np

from simulation.declare import Column, Mechanism, Output, Posting, at_least_zero, lever, probability
from simulation.mechanisms._util import pick_per_group, stochastic_round
from simulation.mechanisms.world import World
from simulation.people import EMPLOYED

CARE_BARRIER = 0.5  # barriers above this are taken to include care (an assumption of the toy)


def run(w: World) -> None:
    """Councils fund childcare places; parents' barriers to work fall."""
    per_month = w.levers.childcare_places_per_10k * w.working_age / 10_000 / 12 / w.ppa
    places = stochastic_round(per_month, w.streams.uniform("childcare_places", w.month, w.n_districts))
    people = w.people
    claimants = w.claimants if w.claimants is not None else np.zeros(0, dtype=np.int64)
    out_of_work = people.status[claimants] != EMPLOYED
    eligible = claimants[out_of_work & (people.barrier[claimants] > CARE_BARRIER) & ~people.childcare_place[claimants]]
    key = w.streams.uniform_at("childcare_key", w.month, eligible)
    chosen = pick_per_group(eligible, people.district[eligible], key, places)
    people.barrier[chosen] *= np.float32(1.0 - w.params.childcare_barrier_cut)
    people.childcare_place[chosen] = True
    w.childcare_places = np.bincount(people.district[chosen], minlength=w.n_districts) * w.ppa
    w.ledger.post("childcare_subsidy", w.childcare_places * w.params.childcare_cost_per_place)


def report(w: World) -> dict[str, np.ndarray]:
    """Places funded this month (zero before the regime starts)."""
    return {"childcare_places": getattr(w, "childcare_places", np.zeros(w.n_districts)).astype(np.float64)}


MECHANISM = Mechanism(
    name="childcare",
    doc=__doc__ or "",
    parameters={
        "childcare_barrier_cut": probability(),
        "childcare_cost_per_place": at_least_zero(1e5),
    },
    person_fields=(Column("childcare_place", "bool", "has had a funded childcare place", fill=False),),
    levers={
        "childcare_places_per_10k": lever(
            float, "childcare places funded a year per 10,000 of working age", ge=0, le=10_000, default=0.0
        ),
    },
    outputs=(Output("childcare_places", "childcare places funded for parents out of work"),),
    report=report,
    postings={
        "childcare_subsidy": Posting("council", "economy", "employment_support", "childcare places funded by councils"),
    },
)
