"""Benefits paid and tax received; the month's stocks; who has stayed six months in work.

The month's money between people and the Exchequer, the stocks it is paid on, and the people
completing six continuous months in work after entering it from out of work (`people_sustained`).

Benefits follow the 2015/16 rates (JSA by age, ESA, and housing support for claimants);
tax and National Insurance are an effective share of gross pay (calibration.md s7).
Programme, hub and developer money is posted by those mechanisms. Amounts are posted in
real people's pounds: per-row amounts are multiplied by people_per_agent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation import parallel
from simulation.declare import Column, Mechanism, Output, Posting, at_least_zero, probability
from simulation.ledger import Ledger
from simulation.mechanisms import accounts_kernels
from simulation.mechanisms._util import sum_contiguous
from simulation.mechanisms.matching import add_at_risk
from simulation.mechanisms.world import World
from simulation.people import DURATION_BINS, DURATION_EDGES, SUSTAINED_MONTHS, People

if TYPE_CHECKING:
    from simulation.config import Params

LTU_MONTHS = 12  # long-term unemployment: a year or more
# The duration bands' inner edges (the kernel counts five bands, the first from 0 months).
BAND_EDGES = tuple(int(e) for e in DURATION_EDGES[1:])
assert len(BAND_EDGES) == 4 and DURATION_EDGES[0] == 0, "district_counts counts five duration bands from 0"
# `district_counts`' columns, in order, then the unemployed by duration band.
COUNTS = (
    "employed",
    "unemployed",
    "inactive",
    "long_term_unemployed",
    "claimants_jsa",
    "claimants_esa",
    "participants",
    "sustained_job_spells",
    "claimants_jsa_under25",
)
COUNT = {name: i for i, name in enumerate(COUNTS)}
UNEMPLOYED_BY_DURATION = slice(len(COUNTS), len(COUNTS) + len(DURATION_BINS))
# The column of `w.counts` after the duration bands: people sustained in work this month (`run_counts`).
PEOPLE_SUSTAINED = len(COUNTS) + len(DURATION_BINS)


def report(w: World) -> dict[str, np.ndarray]:
    """The month's stocks by district, in people (counted once, after everything has moved)."""
    c = w.counts * w.ppa
    stocks = {name: c[:, COUNT[name]] for name in COUNTS[:-1]}
    return {"population": np.diff(w.offsets) * w.ppa} | stocks | {"people_sustained_in_work": c[:, PEOPLE_SUSTAINED]}


MECHANISM = Mechanism(
    name="accounts",
    doc=__doc__ or "",
    parameters={
        "jsa_monthly_25plus": at_least_zero(1e4),
        "jsa_monthly_under25": at_least_zero(1e4),
        "esa_monthly": at_least_zero(1e4),
        "housing_support_monthly": at_least_zero(1e4),
        "claim_take_up": probability(),
        "wage_monthly_mean": at_least_zero(1e5),
        "tax_ni_rate": probability(),
    },
    outputs=(
        Output("population", "people of working age (16-64)"),
        Output("employed", "people in work"),
        Output("unemployed", "people out of work and looking (ILO unemployed)"),
        Output("inactive", "people out of work and not looking"),
        Output("long_term_unemployed", "unemployed for 12 months or more"),
        Output("claimants_jsa", "JSA claimants out of work"),
        Output("claimants_esa", "ESA claimants out of work"),
        Output("participants", "people attached to an employment programme"),
        Output(
            "sustained_job_spells",
            "jobs reaching six continuous months this month, whoever holds them (a move to another job starts "
            "a new one; a person may count more than once): a measure of job turnover, not of programme success",
        ),
        Output(
            "people_sustained_in_work",
            "people completing six continuous months in work this month after entering work from out of work "
            "(unemployed or inactive), each person at most once in the measured months; moves from job to job "
            "neither add nor restart the count",
        ),
    ),
    person_fields=(
        Column(
            "work_from_out",
            "int16",
            "continuous months in work since last taking a job from out of work (-1 out of work or in work "
            f"since before the run; stops at {SUSTAINED_MONTHS + 1})",
            fill=accounts_kernels.NOT_IN_RUN,
        ),
        Column(
            "sustained_in_window",
            "bool",
            f"has completed {SUSTAINED_MONTHS} continuous months in work after entering it from out of work "
            "in the measured months (cleared at month 0)",
        ),
    ),
    report=report,
    postings={
        "benefit_jsa": Posting("exchequer", "households", "benefits", "Jobseeker's Allowance, by age band"),
        "benefit_esa": Posting("exchequer", "households", "benefits", "Employment and Support Allowance"),
        "housing_support": Posting("exchequer", "households", "benefits", "housing support of claimants"),
        "tax_ni": Posting("households", "exchequer", "tax", "income tax and National Insurance on wages"),
    },
)


def step(
    people: People, params: Params, ledger: Ledger, ppa: float, offsets: np.ndarray, counts: np.ndarray | None = None
) -> None:
    """Post this month's benefits and tax; `offsets` are the district blocks of people's rows.
    `counts` are this month's `district_counts` if the caller has them already."""
    if counts is None:
        counts = district_counts(people, offsets)
    jsa_young = counts[:, COUNT["claimants_jsa_under25"]]
    jsa_all, esa_all = counts[:, COUNT["claimants_jsa"]], counts[:, COUNT["claimants_esa"]]
    jsa_pay = jsa_young * params.jsa_monthly_under25 + (jsa_all - jsa_young) * params.jsa_monthly_25plus
    ledger.post("benefit_jsa", jsa_pay * ppa)
    ledger.post("benefit_esa", esa_all * params.esa_monthly * ppa)
    ledger.post("housing_support", (jsa_all + esa_all) * params.housing_support_monthly * ppa)
    # Wages of people not in work are zero, so the sum over everyone is the wage bill.
    ledger.post("tax_ni", sum_contiguous(people.wage, offsets) * params.tax_ni_rate * ppa)


def district_counts(people: People, offsets: np.ndarray) -> np.ndarray:
    """Stocks by district in one pass (`accounts_kernels.district_counts`): columns employed,
    unemployed, inactive, long-term unemployed (12+ months), JSA and ESA claimants out of work,
    programme participants, jobs reaching SUSTAINED_MONTHS this month, JSA claimants under 25 out of
    work, then (columns UNEMPLOYED_BY_DURATION) the unemployed by completed months unemployed, in
    the bands of DURATION_BINS. Unemployment's duration here is the current search spell
    (months in status), as the Labour Force Survey measures it (the shorter of the time since the
    last job and the time looking for work), so long-term unemployment and the duration gradient
    compare with ONS figures; the linked spell out of work (`months_out`) is what drives scarring
    and referral."""

    def block(a: int, b: int) -> np.ndarray:
        # Districts a..b, whose rows are the block offsets[a]..offsets[b].
        lo, hi = offsets[a], offsets[b]
        return accounts_kernels.district_counts(
            people.status[lo:hi],
            people.months_in_status[lo:hi],
            people.benefit[lo:hi],
            people.programme[lo:hi],
            people.age[lo:hi],
            offsets[a : b + 1] - lo,
            LTU_MONTHS,
            SUSTAINED_MONTHS,
            BAND_EDGES,
        )

    return np.concatenate(parallel.map_districts(block, offsets))


# ---- the month's stages (`simulation.model.MONTH`)


def people_sustained(people: People, offsets: np.ndarray) -> np.ndarray:
    """People by district completing SUSTAINED_MONTHS continuous months in work this month after
    entering work from out of work, each once in the measured months
    (`accounts_kernels.people_sustained`; updates `work_from_out` and `sustained_in_window`, so it
    runs once a month, after everything has moved). A district's rows are its own, so blocks of
    districts run on threads."""
    work_from_out, sustained = people.more["work_from_out"], people.more["sustained_in_window"]

    def block(a: int, b: int) -> np.ndarray:
        lo, hi = offsets[a], offsets[b]
        return accounts_kernels.people_sustained(
            people.status[lo:hi],
            people.months_in_status[lo:hi],
            people.fragile[lo:hi],
            work_from_out[lo:hi],
            sustained[lo:hi],
            offsets[a : b + 1] - lo,
            SUSTAINED_MONTHS,
        )

    return np.concatenate(parallel.map_districts(block, offsets))


def start_measured(people: People) -> None:
    """Month 0: everyone may count once more as sustained in work in the measured months (the
    months in work since entering from out of work carry on, as the rest of the state does)."""
    people.more["sustained_in_window"][:] = False


def run_counts(w: World) -> None:
    """The month's stocks by district, counted once (nothing moves after this), and the people
    completing six months in work since entering it from out of work (`w.counts`' last column)."""
    stocks = district_counts(w.people, w.offsets)
    w.counts = np.column_stack([stocks, people_sustained(w.people, w.offsets)])
    add_at_risk(w.flows, w.counts[:, UNEMPLOYED_BY_DURATION])  # matching's denominators, from these counts


def run(w: World) -> None:
    """Benefits, housing support and tax of everyone, posted to the ledger."""
    step(w.people, w.params, w.ledger, w.ppa, w.offsets, w.counts)
