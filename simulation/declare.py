"""What a mechanism declares it owns, so that the rest of LabourLab can be built from it.

In the spirit of Starsim's modules (which declare their parameters, states and results), each
mechanism module has one `Mechanism` record, `MECHANISM`, saying:

- `parameters`: the behavioural parameters it reads, each with its hard domain (the values that
  mean anything at all); their values, ranges and evidence are records in
  `configs/calibration.toml`, which must hold exactly the declared names;
- `levers`: the policy levers it reads from a regime file, as pydantic fields (type, bounds,
  description); the regime file's `[levers]` table is validated against the union of these;
- `person_fields` and `firm_fields`: the columns of the people and firm arrays it owns;
- `flows`: the monthly counts of people (or firms) it adds to `world.flows`, by district;
- `outputs`: the other columns of the monthly results it reports, with `report(world)` giving
  their values at the end of the month;
- `postings`: the ledger categories it posts money under, each with payer, payee and purpose.

`simulation.registry` collects the records (in the order of `registry.MECHANISMS`) and builds
from them the parameter registry, the `Levers` model, the ledger's categories, the output schema
and the money totals (`public_cost`, `employment_support_cost`, `business_support_cost`), so a
new mechanism is one module with one record, not edits to each of those.

The records sit at the end of each mechanism module, after the functions their `report` uses.
This module is the bottom of the model layer: it imports nothing from the package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field

INF = float("inf")


@dataclass(frozen=True)
class Param:
    """A parameter's hard domain: values outside it are errors, not merely implausible."""

    low: float
    high: float

    @property
    def domain(self) -> tuple[float, float]:
        return (self.low, self.high)


def probability() -> Param:
    return Param(0.0, 1.0)


def at_least_zero(high: float = INF) -> Param:
    return Param(0.0, high)


def between(low: float, high: float) -> Param:
    return Param(low, high)


@dataclass(frozen=True)
class Column:
    """A column of the people or firm arrays: its dtype, what it means, and (for a column a
    mechanism adds to people) its value for a newcomer, at the start and when a school leaver
    takes a retiree's row."""

    name: str
    dtype: str
    doc: str
    fill: Any = 0


@dataclass(frozen=True)
class Output:
    """A column of the monthly results (one value per district and month)."""

    name: str
    doc: str
    unit: str = "people"


@dataclass(frozen=True)
class Purpose:
    """What a ledger posting is for, and how it enters public money.

    `public` is +1 for public spending (Exchequer, council or NHS pays), -1 for public revenue (they
    are paid), 0 for private money (developers, employers, the skills fund, providers' own
    costs), reported beside public money but never in it. `total`, when set, names the results
    column that sums this purpose's postings.
    """

    name: str
    doc: str
    public: int
    total: str | None = None


# The order is the order of the public-money sum (`registry.money_totals`).
PURPOSES: tuple[Purpose, ...] = (
    Purpose("benefits", "out-of-work benefits and housing support paid to households", +1),
    Purpose("sanctions", "JSA withheld from sanctioned claimants, returned to the Exchequer", -1),
    Purpose("tax", "income tax and national insurance paid by people in work", -1),
    Purpose(
        "employment_support",
        "programme fees and grants, integrated help's services, partnerships, training and brokerage: public money",
        +1,
        "employment_support_cost",
    ),
    Purpose(
        "business_support",
        "enterprise hubs' running, capital (equivalent annual cost) and pre-start costs paid from public money",
        +1,
        "business_support_cost",
    ),
    Purpose("provider_costs", "providers' own spending on delivery, out of the fees and grants they are paid", 0),
    Purpose("private", "developers' and employers' money and time, and the skills fund they fill", 0),
)
PURPOSE = {p.name: p for p in PURPOSES}


@dataclass(frozen=True)
class Posting:
    """A ledger category: money moves from `payer` to `payee` for `purpose`."""

    payer: str
    payee: str
    purpose: str
    doc: str


def lever(kind: Any, description: str, **bounds: Any) -> tuple[Any, Any]:
    """A lever's pydantic field: its type, bounds (`ge`, `le`), what it does, and optionally a
    `default` (a new mechanism's lever defaults to "off", so regime files that do not use it
    need not name it; the package's own levers have none: every regime file sets each one)."""
    return (kind, Field(description=description, **bounds))


@dataclass(frozen=True)
class Mechanism:
    """What one mechanism owns (see the module docstring)."""

    name: str
    doc: str
    parameters: Mapping[str, Param] = field(default_factory=dict)
    levers: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    person_fields: tuple[Column, ...] = ()
    firm_fields: tuple[Column, ...] = ()
    flows: tuple[Output, ...] = ()
    outputs: tuple[Output, ...] = ()
    report: Callable[[Any], Mapping[str, np.ndarray]] | None = None
    postings: Mapping[str, Posting] = field(default_factory=dict)
