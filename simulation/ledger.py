"""Double-entry accounts of money, by district, in whole pence.

Every flow moves an amount from one account to another, so the accounts always sum to zero;
keeping pence as integers makes that exact. Each flow belongs to a category with a fixed payer
and payee (benefits: Exchequer to households; fees: payer to provider; ...), so a month's
flows by category are also the month's money columns in the results.
"""

from __future__ import annotations

import numpy as np

ACCOUNTS = (
    "exchequer",  # central government: benefits, programme fees, tax received
    "council",  # local authorities: council-led services, hubs, brokerage
    "provider",  # employment-support providers: fee and grant income, delivery costs
    "employers",  # firms
    "developers",  # property developers
    "skills_fund",  # money for skills from developers' obligations
    "households",  # working-age people: benefits in, tax out
    "economy",  # everyone else paid for delivering services: staff and suppliers
)
ACCOUNT = {name: i for i, name in enumerate(ACCOUNTS)}

# category -> (payer, payee). The payer of programme money is a lever, so it has two categories.
CATEGORIES: dict[str, tuple[str, str]] = {
    "benefit_jsa": ("exchequer", "households"),
    "benefit_esa": ("exchequer", "households"),
    "housing_support": ("exchequer", "households"),
    "tax_ni": ("households", "exchequer"),
    "programme_payments_exchequer": ("exchequer", "provider"),
    "programme_payments_council": ("council", "provider"),
    "provider_delivery": ("provider", "economy"),
    "partnership_delivery_exchequer": ("exchequer", "economy"),
    "partnership_delivery_council": ("council", "economy"),
    "employer_in_kind": ("employers", "economy"),  # employers' donated time, valued
    "training_exchequer": ("exchequer", "economy"),
    "training_skills_fund": ("skills_fund", "economy"),
    "hub_running_council": ("council", "economy"),
    "hub_running_other": ("exchequer", "economy"),  # LEP and national business-support money
    "brokerage": ("council", "economy"),
    "developer_skills_contribution": ("developers", "skills_fund"),
}
CATEGORY = {name: i for i, name in enumerate(CATEGORIES)}


class Ledger:
    """Balances by account and district, and this month's flows by category and district."""

    def __init__(self, n_districts: int) -> None:
        self.n_districts = n_districts
        self.balances = np.zeros((len(ACCOUNTS), n_districts), dtype=np.int64)
        self.month_flows = np.zeros((len(CATEGORIES), n_districts), dtype=np.int64)
        self._payer = np.array([ACCOUNT[CATEGORIES[c][0]] for c in CATEGORIES])
        self._payee = np.array([ACCOUNT[CATEGORIES[c][1]] for c in CATEGORIES])

    def start_month(self) -> None:
        self.month_flows[:] = 0

    def post(self, category: str, pounds_by_district: np.ndarray) -> None:
        """Move these amounts (in £, one per district, non-negative) from payer to payee."""
        pence = np.rint(np.asarray(pounds_by_district, dtype=np.float64) * 100).astype(np.int64)
        if pence.shape != (self.n_districts,):
            raise ValueError(f"{category}: expected one amount per district")
        if (pence < 0).any():
            raise ValueError(f"{category}: negative amount; post the opposite category instead")
        c = CATEGORY[category]
        self.month_flows[c] += pence
        self.balances[self._payer[c]] -= pence
        self.balances[self._payee[c]] += pence

    def is_balanced(self) -> bool:
        return bool((self.balances.sum(axis=0) == 0).all())

    def flows_pounds(self, category: str) -> np.ndarray:
        return self.month_flows[CATEGORY[category]] / 100.0

    def balance_pounds(self, account: str) -> np.ndarray:
        return self.balances[ACCOUNT[account]] / 100.0
