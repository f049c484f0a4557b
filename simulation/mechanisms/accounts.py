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
from simulation.mechanisms._util import sum_contiguous
from simulation.people import EMPLOYED, ESA, JSA, People


def step(people: People, params: Params, ledger: Ledger, ppa: float, offsets: np.ndarray) -> None:
    """Post this month's benefits and tax; `offsets` are the district blocks of people's rows."""
    out_of_work = people.status != EMPLOYED
    jsa = out_of_work & (people.benefit == JSA)
    esa = out_of_work & (people.benefit == ESA)
    jsa_young = sum_contiguous(jsa & (people.age < 25), offsets, np.int64)
    jsa_all = sum_contiguous(jsa, offsets, np.int64)
    esa_all = sum_contiguous(esa, offsets, np.int64)
    jsa_pay = jsa_young * params.jsa_monthly_under25 + (jsa_all - jsa_young) * params.jsa_monthly_25plus
    ledger.post("benefit_jsa", jsa_pay * ppa)
    ledger.post("benefit_esa", esa_all * params.esa_monthly * ppa)
    ledger.post("housing_support", (jsa_all + esa_all) * params.housing_support_monthly * ppa)
    # Wages of people not in work are zero, so the sum over everyone is the wage bill.
    ledger.post("tax_ni", sum_contiguous(people.wage, offsets) * params.tax_ni_rate * ppa)
