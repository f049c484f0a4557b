"""The month's money between people and the Exchequer: benefits paid and tax received.

Benefits follow the 2015/16 rates (JSA by age, ESA, and housing support for claimants);
tax and National Insurance are an effective share of gross pay (calibration.md s7).
Programme, hub and developer money is posted by those mechanisms. Amounts are posted in
real people's pounds: per-row amounts are multiplied by people_per_agent.
"""

from __future__ import annotations

import numpy as np

from simulation.config import Params
from simulation.ledger import Ledger
from simulation.mechanisms._util import sum_by
from simulation.people import EMPLOYED, ESA, JSA, People


def step(people: People, params: Params, ledger: Ledger, ppa: float, n_districts: int) -> None:
    out_of_work = people.status != EMPLOYED
    jsa = out_of_work & (people.benefit == JSA)
    esa = out_of_work & (people.benefit == ESA)
    jsa_rate = np.where(people.age < 25, params.jsa_monthly_under25, params.jsa_monthly_25plus)
    d = people.district
    ledger.post("benefit_jsa", sum_by(d, np.where(jsa, jsa_rate, 0.0), n_districts) * ppa)
    ledger.post("benefit_esa", sum_by(d, np.where(esa, params.esa_monthly, 0.0), n_districts) * ppa)
    ledger.post(
        "housing_support", sum_by(d, np.where(jsa | esa, params.housing_support_monthly, 0.0), n_districts) * ppa
    )
    tax = np.where(people.status == EMPLOYED, people.wage * params.tax_ni_rate, 0.0)
    ledger.post("tax_ni", sum_by(d, tax, n_districts) * ppa)
