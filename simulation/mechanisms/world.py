"""What a mechanism's month sees: the `World` it is called with.

Every stage of the month has one call shape, `run(world) -> None` (Starsim's modules get the sim;
here the model is the world). A stage reads what it needs from the world and leaves its results
there (the month's flows, the ledger, the arrays of people and firms, or one of the month's
outputs below), so the month is a list of stages (`simulation.model.MONTH`) and adding a
mechanism is adding a stage, not threading new arguments through the model.

This protocol lists everything a stage may use; `LabourMarketModel` provides it. It is a
protocol, not the model class, so mechanisms do not import the model (the layers run one way:
config, mechanisms, model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from simulation.firms import Firms
from simulation.ledger import Ledger
from simulation.people import People
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Levers, Params


class World(Protocol):
    """The state a month's stages share (attributes of `LabourMarketModel`)."""

    # who and what
    people: People
    firms: Firms
    params: Params
    levers: Levers
    streams: Streams
    ledger: Ledger
    # where: districts (rows of people are ordered by district, and districts by market)
    n_districts: int
    ppa: float  # people per agent row
    offsets: np.ndarray  # district d's people are rows offsets[d]:offsets[d + 1]
    district_market: np.ndarray
    person_market: np.ndarray
    working_age: np.ndarray
    construction_value_m: np.ndarray
    # when: the month (negative in the burn-in) and whether the regime is on
    month: int
    policy: bool
    # rates and tables made at set-up
    birthday_rows: list[np.ndarray]
    entry_rate: np.ndarray
    esa_onflow: np.ndarray
    rate_eu: np.ndarray  # by district (`separations.district_rates_eu`)
    potential_scale: np.ndarray
    births_per_month: np.ndarray
    referral_key: np.ndarray
    referral_band: np.ndarray  # each row's band of its referral draw (`outcomes_kernels.DRAW_BANDS`)
    # carried from month to month
    economy: Any  # the macroeconomic scenario (`simulation.economy.EconomyFile`)
    demand_factor: np.ndarray  # this month's demand factor by market (`demand`)
    demand_response: np.ndarray  # the part of it that answers hiring conditions, adjusted gradually (`demand`)
    separation_index: float  # this month's separations index (`demand`)
    fill_avg: np.ndarray  # vacancy fill rate by market, averaged over about half a year (`demand`)
    fill_ref: np.ndarray | None  # its value at the end of the burn-in (None before)
    fill_seen: bool
    large_rows: np.ndarray  # firm rows of large employers (never born later, never die)
    large_base: np.ndarray  # their desired headcount as built (times the demand factor each month)
    inactive_finding: np.ndarray  # the inactive's direct job finding per person (as at the burn-in's end), by district
    inactive_built: np.ndarray  # the inactive the place was built with, by district (`settle_entry_rates`)
    finding_avg: np.ndarray  # job-finding rate per unit of search by market, averaged over a quarter
    finding_ref: np.ndarray | None  # its value at the end of the burn-in (None before)
    finding_seen: bool
    q_prev: np.ndarray  # last month's job-finding rate per unit of search weight, by market
    participants: np.ndarray | None  # rows in a programme, in row order (None before the first)
    # this month's
    flows: dict[str, np.ndarray]  # flows by district (`simulation.model.FLOWS`)
    claimants: np.ndarray | None  # rows claiming, listed once in policy months
    sanctioned: np.ndarray | None  # rows under a sanction after this month's sanctions (`conditionality`)
    sanctioned_claimants: np.ndarray  # claimants out of work under a sanction after matching, by district
    hub_supported_rows: np.ndarray
    developments: dict[str, np.ndarray]
    partnership_month: dict[str, np.ndarray]
    services_month: dict[str, np.ndarray]  # integrated help's month by district (`services.buy`)
    training_started: np.ndarray
    counts: np.ndarray  # stocks by district after accounts (`accounts.district_counts`), then people sustained in work
    # institutions: one of each per district (Mesa agents)
    councils: list[Any]
    providers: list[Any]
    hubs: list[Any]
    developers: list[Any]
    cohorts: Any
    agent_views: bool

    def post_district(self, category: str, district: int, pounds: float) -> None: ...
