"""The mechanisms LabourLab runs, and everything built from what they declare.

Each mechanism module declares what it owns in one `declare.Mechanism` record (its parameters,
levers, person and firm columns, flows, outputs and ledger postings). This module collects those
records, checks that no two claim the same name, and builds from them:

- `PARAMETERS`: every parameter's hard domain and mechanism (`configs/calibration.toml` must
  hold exactly these names);
- `Levers`: the pydantic model of a regime file's `[levers]` table;
- `CATEGORIES`: the ledger's categories, each with payer and payee, and `PURPOSE_OF` each;
- `FLOWS` and `OUTPUTS`: the monthly results' columns, in order, with what each means;
- `money_totals`: `employment_support_cost`, `business_support_cost` and `public_cost`, summed
  over the postings of each purpose, so a new posting is in them by being declared.

Adding a mechanism is adding its module's record to `MECHANISMS` (and its stages to
`model.MONTH`); see docs/adding-a-mechanism.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import create_model

from simulation.configfiles import Strict
from simulation.declare import PURPOSE, PURPOSES, Column, Mechanism, Output
from simulation.ledger import ACCOUNTS
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
from simulation.outcomes import COHORTS
from simulation.people import POPULATION, People

# The order of the results' columns and of the ledger's categories follows this tuple.
MECHANISMS: tuple[Mechanism, ...] = (
    POPULATION,
    accounts.MECHANISM,
    participation.MECHANISM,
    separations.MECHANISM,
    matching.MECHANISM,
    business.MECHANISM,
    demand.MECHANISM,
    providers.MECHANISM,
    services.MECHANISM,
    conditionality.MECHANISM,
    partnerships.MECHANISM,
    skills.MECHANISM,
    developers.MECHANISM,
    COHORTS,  # the common cohort's person columns (no parameters, levers, outputs or postings)
)


@dataclass(frozen=True)
class ParamSpec:
    """A parameter's hard domain and the mechanism that declares it."""

    domain: tuple[float, float]
    mechanism: str


def _owners(kind: str, names: list[tuple[str, str]]) -> dict[str, str]:
    """name -> declaring mechanism; a name declared twice is a programming error, named here."""
    owner: dict[str, str] = {}
    for name, mech in names:
        if name in owner:
            raise TypeError(f"{kind} {name!r} is declared by both {owner[name]} and {mech}")
        owner[name] = mech
    return owner


CORE_PERSON_FIELDS = frozenset(f.name for f in dataclasses.fields(People))
IDENTITY = (Output("month", "month of the regime, from 1", "month"), Output("district", "district index", "index"))


@dataclass(frozen=True)
class Registry:
    """Everything built from a tuple of mechanisms' declarations (see the module docstring)."""

    mechanisms: tuple[Mechanism, ...]
    parameters: dict[str, ParamSpec]
    levers: Any  # the pydantic model class of a regime's [levers] table
    lever_owner: dict[str, str]
    person_fields: dict[str, str]
    firm_fields: dict[str, str]
    more_person_columns: tuple[Column, ...]  # declared beyond `People`'s core fields: allocated per run
    categories: dict[str, tuple[str, str]]
    purpose_of: dict[str, str]
    flows: tuple[str, ...]
    outputs: tuple[Output, ...]
    output_owner: dict[str, str]

    def money_totals(self, row: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Public money by purpose, from a month's ledger columns (£ by district).

        Each purpose with a total column sums its postings in declaration order; `public_cost`
        adds the public purposes in the order of `declare.PURPOSES`, spending in and revenue
        out. Private money (developers, employers, the skills fund) and providers' own costs are
        not in it: the public money they stand on is counted once, where the public pays it.
        """
        out: dict[str, np.ndarray] = {}
        public: Any = 0.0
        for purpose in PURPOSES:
            if purpose.public == 0:
                continue
            terms = [row[c] for c, p in self.purpose_of.items() if p == purpose.name]
            if purpose.total is not None:
                total: Any = 0.0
                for t in terms:
                    total = total + t
                out[purpose.total] = total
                terms = [total]
            for t in terms:
                public = public + t if purpose.public > 0 else public - t
        out["public_cost"] = public
        return out


def build(mechanisms: tuple[Mechanism, ...]) -> Registry:
    """Collect the mechanisms' declarations, checking that each name has one owner and each
    posting known accounts and a known purpose (a `TypeError` names the mistake)."""
    ms = mechanisms
    _owners("mechanism", [(m.name, m.name) for m in ms])
    _owners("parameter", [(n, m.name) for m in ms for n in m.parameters])
    for m in ms:
        for c, p in m.postings.items():
            if p.payer not in ACCOUNTS or p.payee not in ACCOUNTS:
                raise TypeError(f"{m.name}: ledger category {c!r} moves money between unknown accounts")
            if p.purpose not in PURPOSE:
                raise TypeError(f"{m.name}: ledger category {c!r} has unknown purpose {p.purpose!r}")
    levers = create_model(
        "Levers",
        __base__=Strict,
        __doc__="Policy levers: each mechanism declares and reads its own; no code asks which regime this is.",
        **{name: m.levers[name] for m in ms for name in m.levers},
    )
    levers.__module__ = __name__
    totals = (
        *(Output(p.total, p.doc, "£") for p in PURPOSES if p.total is not None),
        Output("public_cost", "public money: benefits and support paid, less tax received", "£"),
    )
    return Registry(
        mechanisms=ms,
        parameters={name: ParamSpec(spec.domain, m.name) for m in ms for name, spec in m.parameters.items()},
        levers=levers,
        lever_owner=_owners("lever", [(n, m.name) for m in ms for n in m.levers]),
        person_fields=_owners("person field", [(c.name, m.name) for m in ms for c in m.person_fields]),
        firm_fields=_owners("firm field", [(c.name, m.name) for m in ms for c in m.firm_fields]),
        more_person_columns=tuple(c for m in ms for c in m.person_fields if c.name not in CORE_PERSON_FIELDS),
        categories={c: (p.payer, p.payee) for m in ms for c, p in m.postings.items()},
        purpose_of=_owners_purpose(ms),
        flows=tuple(o.name for m in ms for o in m.flows),
        outputs=(
            *IDENTITY,
            *(o for m in ms for o in (*m.outputs, *m.flows)),
            *(Output(c, p.doc, "£") for m in ms for c, p in m.postings.items()),
            *totals,
        ),
        output_owner=_owners(
            "output column",
            [(o.name, "model") for o in IDENTITY]
            + [(o.name, m.name) for m in ms for o in (*m.outputs, *m.flows)]
            + [(c, m.name) for m in ms for c in m.postings]
            + [(o.name, "ledger") for o in totals],
        ),
    )


def _owners_purpose(ms: tuple[Mechanism, ...]) -> dict[str, str]:
    _owners("ledger category", [(c, m.name) for m in ms for c in m.postings])
    return {c: p.purpose for m in ms for c, p in m.postings.items()}


REGISTRY = build(MECHANISMS)
# The package reads these names; they are REGISTRY's.
PARAMETERS = REGISTRY.parameters
Levers: Any = REGISTRY.levers
CATEGORIES = REGISTRY.categories
PURPOSE_OF = REGISTRY.purpose_of
FLOWS = REGISTRY.flows
OUTPUTS = REGISTRY.outputs
money_totals = REGISTRY.money_totals
