"""Integrated help: health, care, housing and debt services bought for participants with complex needs.

Key workers refer participants with complex needs to health, mental-health, care, housing and
debt services, which the public bodies responsible for them buy.

Where a regime gives integrated help (`integrated_help`), each month every participant out of
work whose barriers are at or above `integrated_help_barrier` receives, on average over those
receiving, `<service>_hours_per_recipient_month` hours of each service, at `<service>_cost_per_hour`
(PSSRU unit costs; calibration.md s7, s8). This is the Working Well and IPS model (effects.md
s3): a key worker assesses need and sequences help from the services that exist, rather than
giving it all themselves. The line is a barrier level rather than key-worker time, because
referral to these services follows need; a participant whose barriers the help brings below it
stops receiving them.

Who pays follows who commissioned such services in England in 2015: clinical commissioning
groups (the NHS) for community health and mental-health care; councils for adult social care,
housing-related support (the former Supporting People grant) and local advice services. Every
hour is bought once, by one payer, for employment support: each service is one ledger category
(`services_<service>`), paid to those who deliver it (`economy`), in employment-support cost.

A budget caps the purchases: `services_budget_per_participant_month` pounds per participant of
the district's programme this month. When the services wanted cost more, every recipient's hours
of every service are cut in the same proportion; a budget of 0 buys nothing.

Barriers fall with the hours bought: a recipient's barrier falls by the share
`service_barrier_reduction_per_hour` per service hour (one effect for an hour of any service),
and lower barriers raise job finding from this month's matching on. The effect's range includes zero, the
finding of Working Well's matched comparison (job starts 4.7% in both groups) and of the SWAN
IPS trial (calibration.md s8). No random draws: who receives and how much follows from state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulation.configfiles import MAX_PAYMENT
from simulation.declare import Mechanism, Output, Posting, at_least_zero, lever, probability
from simulation.mechanisms.world import World
from simulation.people import EMPLOYED

if TYPE_CHECKING:
    from simulation.config import Params


@dataclass(frozen=True)
class Service:
    """A service integrated help buys: its name (which names its parameters and ledger
    category), the account that pays for it, and what it is."""

    name: str
    payer: str
    doc: str

    @property
    def hours_param(self) -> str:
        return f"{self.name}_hours_per_recipient_month"

    @property
    def cost_param(self) -> str:
        return f"{self.name}_cost_per_hour"

    @property
    def category(self) -> str:
        return f"services_{self.name}"


SERVICES = (
    Service("health", "nhs", "community health care for physical conditions (nurses, therapists)"),
    Service("mental_health", "nhs", "community mental-health care (contacts with a mental-health team)"),
    Service("social_care", "council", "adult social work: assessment, care planning and support"),
    Service("housing_support", "council", "housing-related support to find and keep a tenancy"),
    Service("debt_advice", "council", "face-to-face debt advice"),
)


def use_and_prices(params: Params) -> list[tuple[float, float]]:
    """Each service's hours per recipient-month and price per hour, in the order of SERVICES."""
    return [
        (params.health_hours_per_recipient_month, params.health_cost_per_hour),
        (params.mental_health_hours_per_recipient_month, params.mental_health_cost_per_hour),
        (params.social_care_hours_per_recipient_month, params.social_care_cost_per_hour),
        (params.housing_support_hours_per_recipient_month, params.housing_support_cost_per_hour),
        (params.debt_advice_hours_per_recipient_month, params.debt_advice_cost_per_hour),
    ]


def in_need(
    status: np.ndarray, barrier: np.ndarray, help_on: np.ndarray, district: np.ndarray, line: float
) -> np.ndarray:
    """Which participants key workers refer to the services: out of work, barriers at or above
    `line`, in a district whose service gives integrated help."""
    return help_on[district] & (status != EMPLOYED) & (barrier >= line)


def share_bought(wanted: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """The share of the services wanted that each district's budget buys (1 when it covers them;
    0 when nothing is wanted or the budget is 0)."""
    return np.divide(np.minimum(wanted, budget), wanted, out=np.zeros_like(wanted, dtype=np.float64), where=wanted > 0)


def buy(
    status: np.ndarray,
    barrier: np.ndarray,
    district: np.ndarray,
    help_on: np.ndarray,
    budget_per_participant: np.ndarray,
    params: Params,
    ppa: float,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """A month of integrated help for the participants given (one entry per row in a programme).

    Returns the month by district (recipients, service hours wanted and bought, in real people and
    hours, and each service's cost in £), the rows among those given that received services, and
    their barriers after them.
    """
    nd = help_on.shape[0]
    need = in_need(status, barrier, help_on, district, params.integrated_help_barrier)
    referred = np.bincount(district[need], minlength=nd) * ppa
    participants = np.bincount(district, minlength=nd) * ppa
    hours, price = zip(*((float(h), float(p)) for h, p in use_and_prices(params)), strict=True)
    # Plain sums in a fixed order (no BLAS dot): the same bits on every CPU.
    hours_per_recipient = sum(hours)
    cost_per_recipient = sum(h * p for h, p in zip(hours, price, strict=True))
    share = share_bought(referred * cost_per_recipient, budget_per_participant * participants)
    gets = need & (share[district] > 0)  # a budget of 0 leaves those in need with nothing
    recipients = np.where(share > 0, referred, 0.0)
    hours_each = hours_per_recipient * share  # by district: each recipient's hours of all services
    month = {
        "integrated_help_recipients": recipients,
        "service_hours_wanted": referred * hours_per_recipient,
        "service_hours": recipients * hours_each,
    }
    for s, h, p in zip(SERVICES, hours, price, strict=True):
        month[s.category] = recipients * h * share * p
    cut = np.clip(params.service_barrier_reduction_per_hour * hours_each[district[gets]], 0.0, 1.0)
    return month, np.flatnonzero(gets), (barrier[gets] * (1.0 - cut)).astype(np.float32)


# ---- the month's stage (`simulation.model.MONTH`)


def run(w: World) -> None:
    """Integrated help: participants out of work with complex needs get health, mental-health,
    care, housing and debt services, which the NHS and councils buy; their barriers fall."""
    nd = w.n_districts
    help_on = np.zeros(nd, dtype=bool)
    budget = np.zeros(nd)
    for prov in w.providers:
        help_on[prov.district] = prov.levers.integrated_help
        budget[prov.district] = prov.levers.services_budget_per_participant_month
    w.services_month = {}
    if not help_on.any():  # nothing to buy: the regime's arms without integrated help skip the pass
        return
    rows = w.participants if w.participants is not None else np.zeros(0, dtype=np.int64)
    people = w.people
    month, got, barrier_after = buy(
        people.status[rows], people.barrier[rows], people.district[rows], help_on, budget, w.params, w.ppa
    )
    people.barrier[rows[got]] = barrier_after
    for s in SERVICES:
        w.ledger.post(s.category, month[s.category])
    w.services_month = month


OUTPUTS = {
    "integrated_help_recipients": "participants out of work with barriers at or above the line receiving services",
    "service_hours_wanted": "hours of health, care, housing and debt services wanted for them, before the budget",
    "service_hours": "hours of those services bought this month",
}


def report(w: World) -> dict[str, np.ndarray]:
    """The month's integrated help (zero before the regime starts)."""
    none = np.zeros(w.n_districts)
    return {name: w.services_month.get(name, none).astype(np.float64) for name in OUTPUTS}


MECHANISM = Mechanism(
    name="services",
    doc=__doc__ or "",
    parameters={
        "integrated_help_barrier": probability(),
        "service_barrier_reduction_per_hour": probability(),
        **{s.hours_param: at_least_zero(744.0) for s in SERVICES},
        **{s.cost_param: at_least_zero(1e4) for s in SERVICES},
    },
    levers={
        "integrated_help": lever(
            bool, "key workers refer participants with complex needs to health, care, housing and debt services"
        ),
        "services_budget_per_participant_month": lever(
            float,
            "£ a month per participant that integrated help's services may cost (0 buys none)",
            ge=0,
            le=MAX_PAYMENT,
        ),
    },
    outputs=tuple(Output(name, doc, "hours" if "hours" in name else "people") for name, doc in OUTPUTS.items()),
    report=report,
    postings={
        s.category: Posting(s.payer, "economy", "employment_support", f"{s.doc}, bought for integrated help")
        for s in SERVICES
    },
)
