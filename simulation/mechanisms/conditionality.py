"""Conditionality: JSA claimants who are sanctioned lose their benefit for a time.

Each policy month a JSA claimant out of work and looking, and not already sanctioned, is
sanctioned with the regime's chance `sanction_rate` (DWP's sanction statistics: after challenges,
5.1-5.8% of JSA claimants a month at the 2013-14 peak, about 2.8% a month on average over
2000-2010; Webster, CPAG briefings 2014-16). A sanction withholds JSA for
`sanction_length_months` (a typical sanction is four weeks; escalating ones run 13 weeks or more:
PAC 2017, HC 775). While it runs the claimant searches harder: their job finding is
`sanction_job_effect` times what it would be (international studies find a sanction raises the
exit rate from unemployment by 25-100%: Abbring, van den Berg & van Ours 2005; van den Berg,
van der Klaauw & van Ours 2004; Svarer 2011; Arni, Lalive & van Ours 2013, who also find more
exits from the labour force and lower job quality). A share `sanction_exit_share` of those
sanctioned stop claiming and leave the search altogether, to inactivity off benefit (Loopstra et
al. 2015: 43% of sanctioned claimants left JSA, only about a fifth of them known to have found
work). A new job or the end of the claim ends a sanction.

The withheld JSA is money the Exchequer does not pay: benefits are posted from counts of
claimants (`accounts`), so the JSA of claimants still sanctioned and out of work at the end of the
month (after matching, so the month's hires are not counted) is posted back from households to
the Exchequer (`sanctions_withheld`), which lowers public cost. Housing support goes on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulation.declare import Column, Mechanism, Output, Posting, between, lever, probability
from simulation.mechanisms._util import claimant_rows
from simulation.mechanisms.world import World
from simulation.people import EMPLOYED, INACTIVE, JSA, NO_BENEFIT, UNEMPLOYED, People, set_claim


def sanction_months(length: float) -> int:
    """A sanction's length as whole months (half months round up)."""
    return int(np.floor(length + 0.5))


def count_down(people: People) -> np.ndarray:
    """Existing sanctions run a month down; a claim that has ended since (the claimant stopped
    looking or fell ill onto ESA) ends its sanction (school leavers and new jobs reset it
    themselves). Returns the rows still sanctioned.
    One scan of the int8 column; the rest touches the sanctioned rows only."""
    rows = np.flatnonzero(people.sanction_months)
    claiming = people.benefit[rows] == JSA
    left = np.where(claiming, people.sanction_months[rows] - 1, 0).astype(np.int8)
    people.sanction_months[rows] = left
    return rows[left > 0]


def step(
    people: People,
    claimants: np.ndarray,
    rate: float,
    length: int,
    exit_share: float,
    u_sanction: Callable[[np.ndarray], np.ndarray],
    u_exit: Callable[[np.ndarray], np.ndarray],
    flows: dict[str, np.ndarray],
    n_districts: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Sanction the JSA claimants in `claimants` (rows claiming, in row order) who are looking
    for work and not sanctioned, each whose draw `u_sanction(rows)` is below `rate`; of those, the
    ones whose draw `u_exit(rows)` is below `exit_share` stop claiming and looking. Returns the
    rows sanctioned and the rows that left; adds to the flows."""
    c = claimants
    at_risk = c[(people.benefit[c] == JSA) & (people.status[c] == UNEMPLOYED) & (people.sanction_months[c] == 0)]
    new = at_risk[u_sanction(at_risk) < rate]
    people.sanction_months[new] = length
    leave = new[u_exit(new) < exit_share]
    people.status[leave] = INACTIVE
    people.months_in_status[leave] = 0
    set_claim(people, leave, NO_BENEFIT)
    people.sanction_months[leave] = 0
    flows["sanctions"] += np.bincount(people.district[new], minlength=n_districts)
    left = np.bincount(people.district[leave], minlength=n_districts)
    flows["sanction_exits"] += left
    flows["u_to_i"] += left
    return new, leave


def withheld(
    people: People, rows: np.ndarray, under25: float, over25: float, n_districts: int
) -> tuple[np.ndarray, np.ndarray]:
    """The JSA withheld this month by district (£ per row), and how many rows: of `rows`, those
    still sanctioned and claiming JSA out of work, each at their age's rate."""
    r = rows[(people.sanction_months[rows] > 0) & (people.benefit[rows] == JSA) & (people.status[rows] != EMPLOYED)]
    pay = np.where(people.age[r] < 25, under25, over25)
    district = people.district[r]
    return np.bincount(district, weights=pay, minlength=n_districts), np.bincount(district, minlength=n_districts)


# ---- the month's stages (`simulation.model.MONTH`)


def run(w: World) -> None:
    """Sanctions run down; JSA claimants looking for work are sanctioned at the regime's rate,
    and some of those sanctioned stop claiming and looking (to inactivity)."""
    people, p = w.people, w.params
    still = count_down(people)
    claimants = w.claimants if w.claimants is not None else claimant_rows(people)
    new, leave = step(
        people,
        claimants,
        float(w.levers.sanction_rate),
        sanction_months(p.sanction_length_months),
        float(p.sanction_exit_share),
        lambda rows: w.streams.uniform_at("sanction", w.month, rows),
        lambda rows: w.streams.uniform_at("sanction_exit", w.month, rows),
        w.flows,
        w.n_districts,
    )
    w.sanctioned = np.concatenate([still, np.setdiff1d(new, leave, assume_unique=True)])


def run_withheld(w: World) -> None:
    """The JSA of claimants still sanctioned and out of work after matching is withheld: posted
    back from households to the Exchequer."""
    # The rows the month's sanctions left sanctioned (no one is sanctioned in between: matching
    # only ends sanctions), or every sanctioned row if this month's sanctions did not run.
    rows = getattr(w, "sanctioned", None)
    if rows is None:
        rows = np.flatnonzero(w.people.sanction_months)
    p = w.params
    pounds, count = withheld(w.people, rows, p.jsa_monthly_under25, p.jsa_monthly_25plus, w.n_districts)
    w.ledger.post("sanctions_withheld", pounds * w.ppa)
    w.sanctioned = None
    w.sanctioned_claimants = count


def report(w: World) -> dict[str, np.ndarray]:
    """Claimants under a sanction at the end of the month (zero before the regime starts)."""
    count = getattr(w, "sanctioned_claimants", None)
    if count is None or not w.policy:
        count = np.zeros(w.n_districts, dtype=np.int64)
    return {"sanctioned_claimants": count * w.ppa}


# ---- what this mechanism owns (`simulation.declare`)

MECHANISM = Mechanism(
    name="conditionality",
    doc=__doc__ or "",
    parameters={
        "sanction_length_months": between(1.0, 12.0),
        "sanction_job_effect": between(1.0, 5.0),
        "sanction_exit_share": probability(),
    },
    levers={
        "sanction_rate": lever(
            float,
            "monthly chance that a JSA claimant looking for work and not already sanctioned is sanctioned",
            ge=0,
            le=1,
        ),
    },
    person_fields=(Column("sanction_months", "int8", "months left of a benefit sanction (0: none)"),),
    flows=(
        Output("sanctions", "JSA claimants sanctioned this month"),
        Output("sanction_exits", "sanctioned claimants who stop claiming and looking for work (also in u_to_i)"),
    ),
    outputs=(Output("sanctioned_claimants", "JSA claimants out of work under a sanction, not paid JSA"),),
    report=report,
    postings={
        "sanctions_withheld": Posting(
            "households", "exchequer", "sanctions", "JSA withheld from sanctioned claimants, returned to the Exchequer"
        ),
    },
)
