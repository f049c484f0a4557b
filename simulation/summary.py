"""Headline figures of one run (the `run` and `demo` tables), and the evidence they are checked against.

The figures are measures of `simulation.measures`; this module only chooses which, and how the
tables print them.
"""

from __future__ import annotations

import math

import pandas as pd

from simulation.measures import MEASURES, lacking, month_totals

# Targets the no-programme baseline should come near (calibration.md s6).
FLOW_TARGETS = {
    "u_to_e_hazard": (0.080, "ONS 2013: 22% of unemployed into work a quarter"),
    "e_to_u_hazard": (0.0047, "ONS 2013: 1.4% of employed into unemployment a quarter"),
    "ltu_share": (0.30, "ONS 2013-15: 27-36% of unemployed out of work 12+ months"),
}

# Every measure of a run's summary, in order: rates over its last months, flows and money over the run.
SUMMARY = (
    "employment_rate",
    "unemployment_rate",
    "inactivity_rate",
    "ltu_share",
    "u_to_e_hazard",
    "e_to_u_hazard",
    "unemployed_per_vacancy",
    "small_firm_jobs",
    "referrals",
    "job_outcomes",
    "benefits_paid",
    "tax_received",
    "employment_support_cost",
    "public_cost",
    "developer_contributions",
    "esp_local_hires",
    "people_sustained_in_work",
    "parked_share",
    "business_support_cost",
    "employed_mean",
    "unemployed_mean",
)

# What the summary shows where a run cannot give a measure: results from before the model wrote
# its columns, or (parking) a run where no high-barrier participant was seeking work.
IF_UNDEFINED = {"people_sustained_in_work": math.nan, "parked_share": 0.0, "business_support_cost": 0.0}

MONEY = tuple(k for k in SUMMARY if MEASURES[k].unit == "gbp_m")  # in £m


def summarise(df: pd.DataFrame, last_months: int = 12) -> dict[str, float]:
    """Rates averaged over the last `last_months` months; flows and money summed over the run.

    A KeyError names a column the results lack (other than those of IF_UNDEFINED's measures)."""
    g = month_totals(df)
    tail = g.iloc[-last_months:]
    out: dict[str, float] = {}
    for key in SUMMARY:
        m = MEASURES[key]
        if key in IF_UNDEFINED and lacking(m, g.columns):
            out[key] = IF_UNDEFINED[key]
            continue
        value = m.value(g, tail)
        out[key] = IF_UNDEFINED[key] if key in IF_UNDEFINED and math.isnan(value) else value
    return out


def _table(formats: dict[str, str]) -> dict[str, tuple[str, str]]:
    """key -> (the measure's label, the table's format)."""
    return {k: (MEASURES[k].label, fmt) for k, fmt in formats.items()}


# The run table: each measure and its format.
LABELS: dict[str, tuple[str, str]] = _table(
    {
        "employment_rate": "{:.3f}",
        "unemployment_rate": "{:.3f}",
        "inactivity_rate": "{:.3f}",
        "ltu_share": "{:.3f}",
        "u_to_e_hazard": "{:.4f}",
        "e_to_u_hazard": "{:.5f}",
        "unemployed_per_vacancy": "{:.2f}",
        "small_firm_jobs": "{:,.0f}",
        "referrals": "{:,.0f}",
        "job_outcomes": "{:,.0f}",
        "people_sustained_in_work": "{:,.0f}",
        "parked_share": "{:.2f}",
        "benefits_paid": "{:,.2f}",
        "tax_received": "{:,.2f}",
        "employment_support_cost": "{:,.2f}",
        "business_support_cost": "{:,.2f}",
        "public_cost": "{:,.2f}",
        "developer_contributions": "{:,.3f}",
        "esp_local_hires": "{:,.1f}",
    }
)

# Measures whose paired difference from the no-programme arm the demo shows.
DIFFERENCES: dict[str, tuple[str, str]] = _table(
    {
        "employed_mean": "{:+,.0f}",
        "unemployed_mean": "{:+,.0f}",
        "people_sustained_in_work": "{:+,.0f}",
        "small_firm_jobs": "{:+,.0f}",
        "employment_support_cost": "{:+,.2f}",
        "business_support_cost": "{:+,.2f}",
        "public_cost": "{:+,.2f}",
        "developer_contributions": "{:+,.3f}",
    }
)
