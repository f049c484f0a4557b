"""Double-entry accounts of money, by district, in whole pence.

Every flow moves an amount from one account to another, so the accounts always sum to zero;
keeping pence as integers makes that exact. Each flow belongs to a category with a fixed payer
and payee (benefits: Exchequer to households; fees: payer to provider; ...), so a month's
flows by category are also the month's money columns in the results. The categories are
declared by the mechanisms that post them, each with its purpose (`simulation.declare`), and
collected in `simulation.registry.CATEGORIES`; the payer of programme money is a lever, so it
has two categories.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

ACCOUNTS = (
    "exchequer",  # central government: benefits, programme fees, tax received
    "council",  # local authorities: council-led services, hubs, brokerage, social care, housing support
    "nhs",  # clinical commissioning groups: community health and mental-health care
    "provider",  # employment-support providers: fee and grant income, delivery costs
    "employers",  # firms
    "developers",  # property developers
    "skills_fund",  # money for skills from developers' obligations
    "households",  # working-age people: benefits in, tax out
    "economy",  # everyone else paid for delivering services: staff and suppliers
)
ACCOUNT = {name: i for i, name in enumerate(ACCOUNTS)}
# The public purse: what these accounts lose, less what they receive, is public cost.
PUBLIC_ACCOUNTS = ("exchequer", "council", "nhs")


class Ledger:
    """Balances by account and district, and this month's flows by category and district."""

    def __init__(self, n_districts: int, categories: Mapping[str, tuple[str, str]]) -> None:
        """`categories`: category -> (payer, payee), accounts named in `ACCOUNTS`."""
        self.n_districts = n_districts
        self.categories = dict(categories)
        self.category = {name: i for i, name in enumerate(self.categories)}
        self.balances = np.zeros((len(ACCOUNTS), n_districts), dtype=np.int64)
        # Balances brought forward when the ledger was opened (`carried_forward`): what the
        # accounts held before the flows posted to this ledger.
        self.opening = np.zeros_like(self.balances)
        self.month_flows = np.zeros((len(self.categories), n_districts), dtype=np.int64)
        self._payer = np.array([ACCOUNT[payer] for payer, _ in self.categories.values()], dtype=np.int64)
        self._payee = np.array([ACCOUNT[payee] for _, payee in self.categories.values()], dtype=np.int64)

    def carried_forward(self) -> Ledger:
        """A new ledger for a new measured period: no flows yet, the balances brought forward (as
        `opening`), so money saved before it (the skills fund's) is still there to spend."""
        new = Ledger(self.n_districts, self.categories)
        new.balances[:] = self.balances
        new.opening[:] = self.balances
        return new

    def start_month(self) -> None:
        self.month_flows[:] = 0

    def post(self, category: str, pounds_by_district: np.ndarray) -> None:
        """Move these amounts (in £, one per district, non-negative) from payer to payee."""
        pence = np.rint(np.asarray(pounds_by_district, dtype=np.float64) * 100).astype(np.int64)
        if pence.shape != (self.n_districts,):
            raise ValueError(f"{category}: expected one amount per district")
        if (pence < 0).any():
            raise ValueError(f"{category}: negative amount; post the opposite category instead")
        c = self.category[category]
        self.month_flows[c] += pence
        self.balances[self._payer[c]] -= pence
        self.balances[self._payee[c]] += pence

    def post_district(self, category: str, district: int, pounds: float) -> None:
        """Post one district's amount: what `post` does with an amount for this district and zero
        for the rest, without building the rest (councils and developers post this way, a few
        thousand times a month for England)."""
        pence = round(float(pounds) * 100)  # half to even, as np.rint in `post`
        if pence < 0:
            raise ValueError(f"{category}: negative amount; post the opposite category instead")
        c = self.category[category]
        self.month_flows[c, district] += pence
        self.balances[self._payer[c], district] -= pence
        self.balances[self._payee[c], district] += pence

    def is_balanced(self) -> bool:
        return bool((self.balances.sum(axis=0) == 0).all())

    def flows_pounds(self, category: str) -> np.ndarray:
        return self.month_flows[self.category[category]] / 100.0

    def balance_pounds(self, account: str) -> np.ndarray:
        return self.balances[ACCOUNT[account]] / 100.0
