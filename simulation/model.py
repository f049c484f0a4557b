"""LabourMarketModel: one English place's labour market, month by month, under one regime.

People and firms live in numpy arrays; each monthly step calls one module per mechanism
(`simulation/mechanisms/`), in the order DESIGN.md gives. A burn-in with no policy lets the
labour market settle into its own steady state before the regime starts, so that arms of a
comparison start from identical states. A lead-in of policy months (`Scenario.lead_in`) may
follow, unmeasured, so that month 0 finds the regime in its own steady state rather than in its
start-up (providers referring the whole existing stock of eligible claimants at once). A run is a
pure function of (scenario, seed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd

from simulation import measures, memory, outcomes_kernels, results
from simulation.agents import Council, EnterpriseHub, Jobseeker, PropertyDeveloper, Provider, SmallBusiness
from simulation.config import Scenario, make_scenario
from simulation.firms import Firms, create_firms
from simulation.ledger import Ledger
from simulation.mechanisms import (
    accounts,
    business,
    conditionality,
    demand,
    developers,
    matching,
    participation,
    partnerships,
    providers,
    separations,
    services,
    skills,
)
from simulation.outcomes import CohortTracker
from simulation.people import (
    EMPLOYED,
    ESA,
    FRAGILE_MONTHS,
    INACTIVE,
    NO_BENEFIT,
    NO_EMPLOYER,
    NO_GROUP,
    NO_PROGRAMME,
    UNEMPLOYED,
    People,
    create_people,
    district_slices,
    wage_for,
)
from simulation.registry import REGISTRY, Registry
from simulation.rng import Streams


@dataclass(frozen=True)
class Stage:
    """One stage of the month: `run(world)`, timed under `timer` (None: not timed; the
    benchmarks' per-mechanism table reads these names), and run in every month or only in
    policy months (the regime's institutions are off in the burn-in)."""

    name: str
    run: Callable[[Any], None]
    timer: str | None
    policy_only: bool = False


def _prefetch_ageing(w: LabourMarketModel) -> None:
    """Start drawing the month's newcomers' skills on a thread (the same numbers, earlier)."""
    participation.prefetch_draws(w.streams, w.month, w.birthday_rows[w.month % 12])


def _firm_views(w: LabourMarketModel) -> None:
    """Mesa views of new firm rows, for the browser app and inspection."""
    if w.agent_views:
        w._add_firm_views()


def _institutions(w: LabourMarketModel) -> None:
    """Developers pay their contributions into the skills fund; then councils pay for hubs,
    partnerships, training (from the fund while it has money) and brokerage. Each is a Mesa
    agent, stepped through its AgentSet (`agents.PropertyDeveloper`, `agents.Council`)."""
    w.agents_by_type[PropertyDeveloper].do("step")
    w.agents_by_type[Council].do("step")


def _cohorts(w: LabourMarketModel) -> None:
    """Eligible claimants' cohorts are followed for job outcomes (`outcomes.CohortTracker`).

    Not in the lead-in (negative months): the tracker's arrays are indexed by measured month, and
    people who became eligible in the lead-in (a negative `eligible_month`) are in no cohort."""
    if w.month < 0:
        return
    w.cohorts.update(w.people, w.month, w.offsets, w.referral_band)


# The month, in order. Ageing and training have timers of their own: a benchmark comparing the
# model's month with a simpler step (benchmarks/mesa_loop.py) can leave out what that step does
# not do. The README's "The month" section is made from this list (`month_table`).
MONTH: tuple[Stage, ...] = (
    Stage("prefetch ageing draws", _prefetch_ageing, None),
    Stage("prefetch firm draws", business.run_prefetch, None),
    Stage("economy", demand.run, None),
    Stage("months in status", participation.run_count_months, "participation"),
    Stage("ageing", participation.run_ageing, "ageing"),
    Stage("participation", participation.run, "participation"),
    Stage("separations", separations.run, "separations"),
    Stage("business", business.run, "business"),
    Stage("firm views", _firm_views, None),
    Stage("claimants", providers.run_claimants, "providers", policy_only=True),
    Stage("providers", providers.run, "providers"),
    Stage("services", services.run, "services", policy_only=True),
    Stage("hubs", business.run_hubs, "business", policy_only=True),
    Stage("developers", developers.run, "developers", policy_only=True),
    Stage("partnerships", partnerships.run, "partnerships", policy_only=True),
    Stage("training", skills.run_training, "training", policy_only=True),
    Stage("institutions", _institutions, None, policy_only=True),
    Stage("cohorts", _cohorts, None, policy_only=True),
    Stage("skills", skills.run, "skills"),
    Stage("sanctions", conditionality.run, "conditionality", policy_only=True),
    Stage("matching", matching.run, "matching"),
    Stage("sanctions withheld", conditionality.run_withheld, "conditionality", policy_only=True),
    Stage("counts", accounts.run_counts, "accounts"),
    Stage("accounts", accounts.run, "accounts"),
)


def month_table() -> str:
    """The month's stages as a Markdown table (the README's "The month" section is this)."""
    lines = ["| # | stage | what happens | months | timer |", "|---|---|---|---|---|"]
    for i, st in enumerate(MONTH, 1):
        doc = (st.run.__doc__ or "").strip().split("\n\n")[0]
        doc = " ".join(doc.split())
        when = "policy" if st.policy_only else "all"
        lines.append(f"| {i} | {st.name} | {doc} | {when} | {st.timer or ''} |")
    return "\n".join(lines) + "\n"


class LabourMarketModel(mesa.Model):
    """A local labour market: jobseekers, small businesses, councils, providers, developers, hubs.

    Keyword arguments have defaults so that Mesa's browser app can rebuild the model on Reset.
    Pass `config` to run a pre-built Scenario; otherwise `place` and `regime` name config files.
    `registry` and `stages` are the mechanisms' declarations and the month's stages: the
    package's own by default; a new mechanism under development can be run with its own
    (docs/adding-a-mechanism.md).
    """

    def __init__(
        self,
        place: str = "testville",
        regime: str = "centralised",
        seed: int | str = 1,
        months: int = 60,
        burn_in: int = 24,
        lead_in: int = 0,
        people_per_agent: float | None = None,
        agent_views: bool = True,
        config: Scenario | None = None,
        timers: bool = False,
        check_invariants: bool = False,
        registry: Registry = REGISTRY,
        stages: tuple[Stage, ...] = MONTH,
    ) -> None:
        t_start, c_start = time.perf_counter(), time.process_time()
        memory.keep_freed_memory()  # large monthly temporaries reuse freed memory (see simulation.memory)
        seed = int(seed) if isinstance(seed, str) and seed.strip() else seed
        if not isinstance(seed, int):
            seed = 1
        super().__init__(rng=seed)
        self.seed = seed
        self.config = config or make_scenario(
            place, regime, months=months, burn_in=burn_in, lead_in=lead_in, people_per_agent=people_per_agent
        )
        sc = self.config
        self.params = sc.params
        self.levers = sc.regime.levers
        self.ppa = float(sc.people_per_agent)
        self.months = sc.months
        self.streams = Streams(seed)
        self.check_invariants = check_invariants
        self.registry = registry
        self.stages = stages
        self.timers: dict[str, float] | None = {} if timers else None

        # Districts ordered by market, so a market's people are a contiguous block of rows.
        districts = sorted(sc.place.districts, key=lambda d: d.market)
        self.district_names = [d.name for d in districts]
        self.district_codes = [d.code for d in districts]
        market_names = sorted({d.market for d in districts})
        self.market_names = market_names
        self.district_market = np.array([market_names.index(d.market) for d in districts], dtype=np.int16)
        self.n_districts = len(districts)
        self.construction_value_m = np.array([d.construction_value_m for d in districts])
        place = sc.place.model_copy(update={"districts": districts})

        p = self.params
        self.people: People = create_people(place, p, self.ppa, self.streams)
        self.people.add_columns(registry.more_person_columns)
        self.person_market = self.district_market[self.people.district]
        self.birthday_rows = [np.flatnonzero(self.people.birth_month == k).astype(np.int32) for k in range(12)]
        self.offsets = district_slices(np.bincount(self.people.district, minlength=self.n_districts))
        n_emp = np.bincount(self.people.district[self.people.status == EMPLOYED], minlength=self.n_districts)
        vacancies = matching.steady_state_vacancies(self.people, n_emp, self.person_market, self.district_market, p)
        self.firms: Firms
        self.firms, self.potential_scale = create_firms(
            place, p, self.ppa, self.streams, n_emp, vacancies, self.district_market
        )
        self.firms.n_markets = int(self.person_market.max()) + 1  # what matching would work out each time
        self._assign_initial_employers()

        self.births_per_month = business.replacement_births(self.firms, self.n_districts, p)
        searchers, finding = self._expected_job_finding()
        # Expected monthly flows into unemployment other than from settled jobs, at the start:
        # displaced workers of dying and shrinking firms, and fragile new jobs (in steady state
        # each month's hires lose this share within six months).
        death_losses = float((business.hazard(self.firms, p) * self.firms.size).sum())
        contraction = business.expected_contraction(self.firms, p)
        displaced_to_u = p.displaced_to_unemployment * (death_losses + contraction)
        hires = float(finding.sum())
        fragile_losses = hires * (1.0 - (1.0 - p.early_separation_rate) ** FRAGILE_MONTHS)
        self.rate_eu = np.full(
            self.n_districts,
            separations.base_rate_eu((displaced_to_u + fragile_losses) / max(int(n_emp.sum()), 1), p),
        )
        inactive = self.people.status[searchers] == INACTIVE
        esa = self.people.benefit[searchers] == ESA  # searchers are all out of work
        by_district = lambda mask: np.bincount(  # noqa: E731
            self.people.district[searchers], weights=np.where(mask, finding, 0.0), minlength=self.n_districts
        )
        self.entry_rate = participation.entry_rates(self.people, by_district(inactive), p, self.n_districts)
        # The inactive's direct job finding per inactive person as built, by district: what a
        # slack market takes from them (`participation.search_start_rates`).
        n_inactive = np.bincount(self.people.district[self.people.status == INACTIVE], minlength=self.n_districts)
        self.inactive_finding = by_district(inactive) / np.maximum(n_inactive, 1)
        self.inactive_built = n_inactive.astype(np.float64)
        self.esa_onflow = participation.esa_onflow_rates(self.people, by_district(esa), self.n_districts)
        self.working_age = np.array([d.working_age_pop for d in districts], dtype=np.float64)
        # One referral draw per person for the whole run: a larger referral share refers a superset.
        self.referral_key = self.streams.generator("referral", 0).random(self.people.n)
        self.referral_band = np.minimum(
            (self.referral_key * outcomes_kernels.DRAW_BANDS).astype(np.int8), outcomes_kernels.DRAW_BANDS - 1
        ).astype(np.int8)
        self.cohorts = CohortTracker(self.months, self.n_districts, self.ppa)
        self.partnership_month: dict[str, np.ndarray] = {}
        self.services_month: dict[str, np.ndarray] = {}
        self.training_started = np.zeros(self.n_districts)
        self.q_prev = np.zeros(len(market_names))
        # Labour demand (`mechanisms.demand`): the scenario, each market's fill rate and its
        # reference at the end of the burn-in, and large employers' desired headcount as built.
        self.economy = sc.economy
        self.demand_factor = np.ones(len(market_names))
        self.demand_response = np.ones(len(market_names))
        self.separation_index = 1.0
        self.fill_avg = np.zeros(len(market_names))
        self.fill_ref: np.ndarray | None = None
        self.fill_seen = False
        self.finding_avg = np.zeros(len(market_names))
        self.finding_ref: np.ndarray | None = None
        self.finding_seen = False
        self.large_rows = np.flatnonzero(self.firms.large[: self.firms.n_used])
        self.large_base = self.firms.target[self.large_rows].copy()
        # Rows in a programme after last month's providers, in row order (None before the first):
        # next month's providers and this month's training start from them, not a scan of every row.
        self.participants: np.ndarray | None = None
        self.developments: dict[str, np.ndarray] = {}
        self.policy = False
        self.flows: dict[str, np.ndarray] = {}
        self.claimants: np.ndarray | None = None
        self.sanctioned: np.ndarray | None = None  # rows left sanctioned by this month's sanctions
        self.sanctioned_claimants = np.zeros(self.n_districts, dtype=np.int64)
        self.hub_supported_rows = np.zeros(self.n_districts, dtype=np.int64)
        self.counts = np.zeros((self.n_districts, 0), dtype=np.int64)
        self.ledger = Ledger(self.n_districts, registry.categories)
        self.rows: list[dict[str, np.ndarray]] = []
        self.last_row: dict[str, np.ndarray] | None = None
        self.cumulative: dict[str, Any] = dict.fromkeys(CUMULATIVE, 0)

        # Institutions: one of each per district.
        self.councils = [Council(self, d, self.levers) for d in range(self.n_districts)]
        self.providers = [Provider(self, d, self.levers) for d in range(self.n_districts)]
        self.hubs = [EnterpriseHub(self, d, self.levers) for d in range(self.n_districts)]
        self.developers = [PropertyDeveloper(self, d) for d in range(self.n_districts)]
        self.agent_views = agent_views
        self._firm_views = 0
        if agent_views:
            Jobseeker.create_agents(self, self.people.n, row=list(range(self.people.n)))
            self._add_firm_views()

        # Burn-in: the market settles with no programme (months -(burn_in + lead_in) .. -lead_in - 1).
        t_burn, c_burn = time.perf_counter(), time.process_time()
        self.month = -(sc.burn_in + sc.lead_in)
        while self.month < -sc.lead_in:
            self._advance(policy=False)
        # The fill rate employers take as normal: the burn-in's, with no programme (every arm's).
        self.fill_ref = self.fill_avg.copy()
        self.finding_ref = self.finding_avg.copy()
        # Lead-in: the regime runs, unmeasured (months -lead_in .. -1), so that its start-up (the
        # existing stock of eligible claimants referred at once) is over before month 0.
        t_lead, c_lead = time.perf_counter(), time.process_time()
        while self.month < 0:
            self._advance(policy=True)
        t_end, c_end = time.perf_counter(), time.process_time()
        # Wall and CPU time of building the place's people, firms and rates, of the burn-in and of
        # the lead-in (for the benchmarks; CPU time is the steadier figure on a shared machine).
        self.build_seconds = {
            "setup": t_burn - t_start,
            "burn_in": t_lead - t_burn,
            "lead_in": t_end - t_lead,
            "setup_cpu": c_burn - c_start,
            "burn_in_cpu": c_lead - c_burn,
            "lead_in_cpu": c_end - c_lead,
        }
        # Month 0: what is measured starts afresh (results rows, running totals, the month's money,
        # cohorts, who has counted as sustained in work). The ledger's balances carry over: the
        # skills fund's money, saved in the lead-in, is still there to pay for training (after a
        # burn-in alone the fund is empty).
        self.rows.clear()
        self.cumulative = dict.fromkeys(CUMULATIVE, 0)
        self.ledger = self.ledger.carried_forward()
        self.cohorts = CohortTracker(self.months, self.n_districts, self.ppa)
        accounts.start_measured(self.people)

        self.datacollector = mesa.DataCollector(model_reporters=MODEL_REPORTERS)
        self.datacollector.collect(self)

    # ------------------------------------------------------------------------------- set-up
    def _assign_initial_employers(self) -> None:
        """Give each firm its share of its district's employed, in proportion to its desired size.

        Shares are rounded by largest remainder, so firms start close to their desired size and
        the vacancy stock starts near the documented unemployed-per-vacancy ratio.
        """
        people, firms, nd = self.people, self.firms, self.n_districts
        employed = np.flatnonzero(people.status == EMPLOYED)  # rows are ordered by district
        n_emp = np.bincount(people.district[employed], minlength=nd)
        posts = np.floor(firms.target + 0.5)
        demand = np.bincount(firms.district, weights=posts, minlength=nd)
        quota = posts * (n_emp / np.maximum(demand, 1e-12))[firms.district]  # never above posts
        size = np.floor(quota).astype(np.int64)
        short = n_emp - np.bincount(firms.district, weights=size, minlength=nd).astype(np.int64)
        remainder = quota - size
        order = np.lexsort((-remainder, firms.district))
        rank = np.arange(order.size) - np.searchsorted(firms.district[order], firms.district[order])
        size[order[rank < short[firms.district[order]]]] += 1
        # Hand out rows in order: the first size[j] employed rows of a district go to its firm j.
        firm_of_post = np.repeat(np.arange(firms.capacity), size)
        post_order = np.argsort(firms.district[firm_of_post], kind="stable")
        people.employer[employed] = firm_of_post[post_order]
        people.wage[employed] = wage_for(people.skill[employed], self.params)
        firms.size[:] = size.astype(np.int32)

    def _expected_job_finding(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows of people out of work (the only ones who search) and each one's chance of
        finding work next month at the starting stocks (zero for everyone else)."""
        searchers = np.flatnonzero(self.people.status != EMPLOYED)
        w = matching.search_weights(self.people, self.params, searchers)
        v_m = np.bincount(self.firms.market, weights=self.firms.vacancies(), minlength=len(self.market_names))
        market = self.person_market[searchers]
        _, q = matching.market_rates(w, v_m, market, self.params)
        return searchers, matching.finding_chance(q[market], w)

    def _add_firm_views(self) -> None:
        new = self.firms.capacity - self._firm_views
        if new > 0:
            SmallBusiness.create_agents(self, new, row=list(range(self._firm_views, self.firms.capacity)))
            self._firm_views = self.firms.capacity

    # ---------------------------------------------------------------------------------- step
    def step(self) -> None:
        """One month of the regime."""
        if self.month >= self.months:
            self.running = False
            return
        self._advance(policy=True)
        self.datacollector.collect(self)
        if self.month >= self.months:
            self.running = False

    def _timed(self, name: str | None, fn: Callable[[], Any]) -> Any:
        if self.timers is None or name is None:
            return fn()
        t0 = time.perf_counter()
        out = fn()
        self.timers[name] = self.timers.get(name, 0.0) + time.perf_counter() - t0
        return out

    def _advance(self, policy: bool) -> None:
        """One month: the stages of `MONTH` in order (those marked for policy months only when
        the regime is on), each timed under its timer's name, then the month's results row."""
        self.policy = policy
        self.flows = {k: np.zeros(self.n_districts, dtype=np.int64) for k in self.registry.flows}
        self.claimants = None
        self.sanctioned = None
        self.hub_supported_rows = np.zeros(self.n_districts, dtype=np.int64)
        self.ledger.start_month()
        for stage in self.stages:
            if policy or not stage.policy_only:
                self._timed(stage.timer, lambda run=stage.run: run(self))

        if self.check_invariants:
            self.assert_invariants()
        if policy or self.month == -1:
            self.last_row = self._month_row()
        if policy:
            self.rows.append(self.last_row)
            for col in CUMULATIVE:
                self.cumulative[col] = self.cumulative[col] + self.last_row[col].sum()
        self.month += 1

    def post_district(self, category: str, district: int, pounds: float) -> None:
        """Post one district's amount to the ledger (`Ledger.post_district`)."""
        self.ledger.post_district(category, district, pounds)

    # ------------------------------------------------------------------------------ results
    def _month_row(self) -> dict[str, np.ndarray]:
        """The month's results by district, in the order of `registry.OUTPUTS`: each mechanism's
        flows (counted in rows, scaled to people) and reported outputs, the ledger's money by
        category, and the money totals by purpose (`registry.money_totals`)."""
        nd = self.n_districts
        values: dict[str, np.ndarray] = {
            "month": np.full(nd, self.month + 1, dtype=np.int32),
            "district": np.arange(nd, dtype=np.int16),
        }
        for name, v in self.flows.items():
            values[name] = v * self.ppa
        for mechanism in self.registry.mechanisms:
            if mechanism.report is not None:
                values.update(mechanism.report(self))
        for category in self.registry.categories:
            values[category] = self.ledger.flows_pounds(category)
        values.update(self.registry.money_totals(values))
        return {o.name: values[o.name] for o in self.registry.outputs}

    def results_frame(self) -> pd.DataFrame:
        """Month x district results for the policy months run so far."""
        return results.to_frame(
            self.rows, self.district_names, self.district_codes, [self.market_names[i] for i in self.district_market]
        )

    # --------------------------------------------------------------------------- invariants
    def assert_invariants(self) -> None:
        """Accounting identities that must hold after every step (JAMEL-style checks)."""
        people, firms = self.people, self.firms
        assert np.isin(people.status, (EMPLOYED, UNEMPLOYED, INACTIVE)).all(), "unknown status"
        employed = people.status == EMPLOYED
        assert ((people.employer != NO_EMPLOYER) == employed).all(), "employer set iff employed"
        # Claimants are listed by group (`_util.claimant_rows`), so a claim must have one.
        assert ((people.group != NO_GROUP) == (people.benefit != NO_BENEFIT)).all(), "claimant group iff claiming"
        assert firms.alive[people.employer[employed]].all(), "someone works for a dead firm"
        counted = np.bincount(people.employer[employed], minlength=firms.capacity)
        assert (counted == firms.size).all(), "firm headcounts differ from people employed there"
        draw = firms.draw_row[: firms.n_used]  # regular firms read rows 0, 1, ...; hub-born -1, -2, ...
        assert (draw[draw >= 0] == np.arange(firms.n_regular)).all(), "regular firms' draw rows"
        assert (draw[draw < 0] == -1 - np.arange(firms.n_hub_born)).all(), "hub-born firms' draw rows"
        assert self.ledger.is_balanced(), "ledger does not balance"
        assert (people.support_hours >= 0).all() and np.isfinite(people.support_hours).all()
        assert np.isfinite(people.skill).all()
        if self.participants is not None:  # only providers refer people, so their list holds everyone in a programme
            in_programme = np.flatnonzero(people.programme != NO_PROGRAMME)
            assert np.array_equal(self.participants, in_programme), "participants list is stale"


def _this_month(name: str) -> Callable[[LabourMarketModel], float]:
    """A measure (`simulation.measures`) of the last policy month alone (0 before the first)."""

    def f(m: LabourMarketModel) -> float:
        return measures.evaluate_totals(name, m.last_row) if m.last_row is not None else 0.0

    return f


def _so_far(name: str) -> Callable[[LabourMarketModel], float]:
    """A measure over the policy months so far, from the running totals in `m.cumulative`."""

    def f(m: LabourMarketModel) -> float:
        return measures.evaluate_totals(name, m.cumulative)

    return f


# The browser app's charts: measures of the month, and totals so far (kept as months are added).
THIS_MONTH = (
    "employment_rate",
    "unemployment_rate",
    "long_term_unemployment_rate",
    "vacancies",
    "participants",
    "small_firm_jobs",
)
SO_FAR = {
    "job_outcomes_cumulative": "job_outcomes",
    "public_cost_cumulative": "public_cost_total",
    "employment_support_cost_cumulative": "employment_support_cost_total",
    "developer_contributions_cumulative": "developer_contribution_total",
}
CUMULATIVE = tuple(dict.fromkeys(c for n in SO_FAR.values() for c in measures.MEASURES[n].columns))

MODEL_REPORTERS: dict[str, Callable[[LabourMarketModel], float]] = {
    "month": lambda m: float(m.month),
    **{name: _this_month(name) for name in THIS_MONTH},
    **{label: _so_far(name) for label, name in SO_FAR.items()},
}
