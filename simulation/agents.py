"""The model's Mesa agents.

People and small businesses live in arrays (`people.py`, `firms.py`); `Jobseeker` and
`SmallBusiness` are thin Mesa agents that *view* one row each, for inspection and the browser
app. They can be switched off (`agent_views=False`) for big runs without changing any result.

`Council`, `Provider`, `PropertyDeveloper` and `EnterpriseHub` are Mesa agents, one of each per
district, each holding its district's levers and what it did this month:

- councils and developers act on their own: each month the model steps them through Mesa's
  AgentSet (`model.agents_by_type[Council].do("step")`), developers first (their contributions
  fill the skills fund councils draw on); there are a few hundred, off the hot path;
- providers and hubs decide over many rows of people and firms, so their month runs as one
  vectorised or compiled pass over every district's rows (`providers.run`, `business.run_hubs`),
  which reads each agent's levers (`Provider.levers`, `EnterpriseHub.quota`) and leaves each
  agent its own month (`Provider.last`, `EnterpriseHub.supported_now`). Providers with
  different levers run in separate passes, so a district's provider may have levers of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.config import Levers, Params
from simulation.mechanisms import business, developers, providers
from simulation.people import BENEFIT_NAMES, NO_PROGRAMME, STATUS_NAMES

if TYPE_CHECKING:
    from simulation.model import LabourMarketModel


class Jobseeker(mesa.Agent):
    """A person of working age: in work, looking for work, or out of the labour force."""

    model: LabourMarketModel

    def __init__(self, model: LabourMarketModel, row: int) -> None:
        super().__init__(model)
        self.row = int(row)

    @property
    def status(self) -> str:
        return STATUS_NAMES[self.model.people.status[self.row]]

    @property
    def district(self) -> str:
        return self.model.district_names[self.model.people.district[self.row]]

    @property
    def months_in_status(self) -> int:
        return int(self.model.people.months_in_status[self.row])

    @property
    def skill(self) -> float:
        return float(self.model.people.skill[self.row])

    @property
    def barrier(self) -> float:
        return float(self.model.people.barrier[self.row])

    @property
    def benefit(self) -> str:
        return BENEFIT_NAMES[self.model.people.benefit[self.row]]

    @property
    def in_programme(self) -> bool:
        return bool(self.model.people.programme[self.row] != NO_PROGRAMME)

    @property
    def support_hours(self) -> float:
        return float(self.model.people.support_hours[self.row])

    @property
    def employer(self) -> int:
        return int(self.model.people.employer[self.row])


class SmallBusiness(mesa.Agent):
    """A small business (or a large-employer row): hires, grows, and may die."""

    model: LabourMarketModel

    def __init__(self, model: LabourMarketModel, row: int) -> None:
        super().__init__(model)
        self.row = int(row)

    @property
    def alive(self) -> bool:
        return bool(self.model.firms.alive[self.row])

    @property
    def size(self) -> int:
        return int(self.model.firms.size[self.row])

    @property
    def vacancies(self) -> int:
        f = self.model.firms
        return int(max(0, round(f.target[self.row]) - f.size[self.row])) if f.alive[self.row] else 0

    @property
    def age_months(self) -> int:
        return int(self.model.firms.age[self.row])

    @property
    def hub_supported(self) -> bool:
        return bool(self.model.firms.hub_months[self.row] > 0)


class Council(mesa.Agent):
    """A district council: pays its share of the enterprise hub (its running, capital and
    pre-start costs, `EnterpriseHub.month_cost`), the employer partnership and training not
    covered by the skills fund, and, by lever, brokers developers' plans (its staff cost scales
    with the plans it negotiates and monitors: `developers.brokerage_cost`).

    Training is paid from the skills fund (developers' contributions) while it has money, and by
    the Exchequer otherwise: each course once, under one payer. A pound the fund pays is a pound
    the Exchequer does not, so it is a public saving; the results give the contributions net of it
    (`developer_contribution_net`) so that the same pound is not also counted as developers' gain."""

    model: LabourMarketModel

    def __init__(self, model: LabourMarketModel, district: int, levers: Levers) -> None:
        super().__init__(model)
        self.district = district
        self.levers = levers
        self.spent: dict[str, float] = {}

    def step(self) -> None:
        m, d, lv, p = self.model, self.district, self.levers, self.model.params
        hub = m.hubs[d].month_cost()
        partnership = float(m.partnership_month["partnership_cost"][d])
        training = float(m.training_started[d]) * p.training_cost
        from_fund = min(training, max(0.0, float(m.ledger.balance_pounds("skills_fund")[d])))
        plans = float(m.developments["esp_plans"][d]) if lv.brokerage else 0.0
        self.spent = {
            **{f"hub_{kind}_council": pounds * lv.hub_council_share for kind, pounds in hub.items()},
            **{f"hub_{kind}_other": pounds * (1.0 - lv.hub_council_share) for kind, pounds in hub.items()},
            f"partnership_delivery_{lv.partnership_payer}": partnership,
            "employer_in_kind": float(m.partnership_month["employer_in_kind"][d]),
            "training_skills_fund": from_fund,
            "training_exchequer": training - from_fund,
            "brokerage": developers.brokerage_cost(plans, p),
        }
        for category, pounds in self.spent.items():
            m.post_district(category, d, pounds)


class Provider(mesa.Agent):
    """An employment-support provider serving one district's claimants. Its month (referrals,
    attachments, support, parking, fees) is worked out for all providers with the same levers in
    one compiled pass (`providers.run`), which leaves each one's month in `last`."""

    model: LabourMarketModel

    def __init__(self, model: LabourMarketModel, district: int, levers: Levers) -> None:
        super().__init__(model)
        self.district = district
        self.levers = levers
        self.last = providers.ProviderMonth()
        self.profits: list[float] = []  # each month's fees and grant less staff and overheads (£)

    def cutting_to_minimum(self, params: Params) -> bool:
        """Whether it staffs at the contract's minimum this month, after a year's losses
        (`providers.staff_to_minimum`); only a provider that chooses its own staff can."""
        return self.levers.provider_staffing == "profit" and providers.staff_to_minimum(
            self.profits, len(self.profits), params
        )

    def close_month(self, month: providers.ProviderMonth) -> None:
        """Keep the month's work and its accounts."""
        self.last = month
        self.profits.append(month.fees + month.grant - month.delivery_cost - month.overhead_cost)


class EnterpriseHub(mesa.Agent):
    """A district enterprise hub (like Stevenage's Business Technology Centre).

    Each month it takes on new young firms at the rate its lever sets; supported firms survive
    and grow more. It may also mentor would-be founders (pre-start support), some of whom start
    firms that would not otherwise exist (see `business`).
    """

    model: LabourMarketModel

    def __init__(self, model: LabourMarketModel, district: int, levers: Levers) -> None:
        super().__init__(model)
        self.district = district
        self.firms_per_year = levers.hub_firms_per_year
        self.prestart_per_year = levers.hub_prestart_per_year
        self.supported_now = 0

    def quota(self, u: float) -> int:
        """New firms to take on this month: firms_per_year / 12, rounded with the given uniform."""
        return int(np.floor(self.firms_per_year / 12.0 / self.model.ppa + u))

    def month_cost(self) -> dict[str, float]:
        """Its public cost this month by kind, £: running, capital and pre-start (`business.hub_month_cost`)."""
        return business.hub_month_cost(
            self.supported_now, self.firms_per_year, self.prestart_per_year, self.model.params
        )


class PropertyDeveloper(mesa.Agent):
    """The developers building in a district; their obligations depend on council brokerage."""

    model: LabourMarketModel

    def __init__(self, model: LabourMarketModel, district: int) -> None:
        super().__init__(model)
        self.district = district
        self.last: dict[str, float] = {}

    def step(self) -> None:
        d = self.district
        self.last = {k: float(v[d]) for k, v in self.model.developments.items()}
        self.model.post_district("developer_skills_contribution", d, self.last["developer_contributions"])
