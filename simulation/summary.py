"""Headline figures from a run's month x district table, and the evidence they are checked against."""

from __future__ import annotations

import pandas as pd

# Targets the no-programme baseline should come near (calibration.md s6).
FLOW_TARGETS = {
    "u_to_e_hazard": (0.080, "ONS 2013: 22% of unemployed into work a quarter"),
    "e_to_u_hazard": (0.0047, "ONS 2013: 1.4% of employed into unemployment a quarter"),
    "ltu_share": (0.30, "ONS 2013-15: 27-36% of unemployed out of work 12+ months"),
}


def summarise(df: pd.DataFrame, last_months: int = 12) -> dict[str, float]:
    """Rates averaged over the last `last_months` months; flows and money summed over the run."""
    g = df.groupby("month").sum(numeric_only=True)
    tail = g.iloc[-last_months:]
    pop = tail["population"].sum()
    active = (tail["employed"] + tail["unemployed"]).sum()
    out = {
        "employment_rate": tail["employed"].sum() / pop,
        "unemployment_rate": tail["unemployed"].sum() / active,
        "inactivity_rate": tail["inactive"].sum() / pop,
        "ltu_share": tail["long_term_unemployed"].sum() / max(tail["unemployed"].sum(), 1),
        # Hazards over the whole run: this month's flow over last month's stock.
        "u_to_e_hazard": (g["u_to_e"].iloc[1:].to_numpy() / g["unemployed"].iloc[:-1].to_numpy()).mean()
        if len(g) > 1
        else float("nan"),
        "e_to_u_hazard": (g["e_to_u"].iloc[1:].to_numpy() / g["employed"].iloc[:-1].to_numpy()).mean()
        if len(g) > 1
        else float("nan"),
        "unemployed_per_vacancy": tail["unemployed"].sum() / max(tail["vacancies"].sum(), 1),
        "small_firm_jobs": tail["small_firm_jobs"].mean(),
        "referrals": g["programme_referrals"].sum(),
        "job_outcomes": g["programme_job_outcomes"].sum(),
        "benefits_paid": (g["benefit_jsa"] + g["benefit_esa"] + g["housing_support"]).sum(),
        "tax_received": g["tax_ni"].sum(),
        "employment_support_cost": g["employment_support_cost"].sum(),
        "public_cost": g["public_cost"].sum(),
        "developer_contributions": g["developer_skills_contribution"].sum(),
        "esp_local_hires": g["esp_local_hires"].sum(),
        "sustained_jobs": g["sustained_jobs"].sum() if "sustained_jobs" in g else float("nan"),
        "parked_share": g["parked"].sum() / g["high_barrier_seeking"].sum()
        if "parked" in g and g["high_barrier_seeking"].sum() > 0
        else 0.0,
        "business_support_cost": g["business_support_cost"].sum() if "business_support_cost" in g else 0.0,
        "employed_mean": g["employed"].mean(),
        "unemployed_mean": g["unemployed"].mean(),
    }
    for k in MONEY:
        out[k] = out[k] / 1e6
    return {k: float(v) for k, v in out.items()}


MONEY = (
    "benefits_paid",
    "tax_received",
    "employment_support_cost",
    "business_support_cost",
    "public_cost",
    "developer_contributions",
)

# Measures whose paired difference from the no-programme arm the demo shows.
DIFFERENCES: dict[str, tuple[str, str]] = {
    "employed_mean": ("employed (people, mean over run)", "{:+,.0f}"),
    "unemployed_mean": ("unemployed (people, mean over run)", "{:+,.0f}"),
    "sustained_jobs": ("jobs lasting 6 months", "{:+,.0f}"),
    "small_firm_jobs": ("small-business jobs (last 12 months)", "{:+,.0f}"),
    "employment_support_cost": ("employment support cost £m", "{:+,.2f}"),
    "business_support_cost": ("business support cost £m", "{:+,.2f}"),
    "public_cost": ("benefits + support - tax £m", "{:+,.2f}"),
    "developer_contributions": ("developer skills contributions £m", "{:+,.3f}"),
}


LABELS: dict[str, tuple[str, str]] = {
    # key: (label, format)
    "employment_rate": ("employment rate (16-64)", "{:.3f}"),
    "unemployment_rate": ("unemployment rate (ILO)", "{:.3f}"),
    "inactivity_rate": ("inactivity rate", "{:.3f}"),
    "ltu_share": ("long-term share of unemployed", "{:.3f}"),
    "u_to_e_hazard": ("U->E monthly hazard", "{:.4f}"),
    "e_to_u_hazard": ("E->U monthly hazard", "{:.5f}"),
    "unemployed_per_vacancy": ("unemployed per vacancy", "{:.2f}"),
    "small_firm_jobs": ("small-business jobs", "{:,.0f}"),
    "referrals": ("programme referrals", "{:,.0f}"),
    "job_outcomes": ("job outcomes (provider-paid definition)", "{:,.0f}"),
    "sustained_jobs": ("jobs lasting 6 months (everyone)", "{:,.0f}"),
    "parked_share": ("high-barrier participants parked", "{:.2f}"),
    "benefits_paid": ("benefits paid £m", "{:,.2f}"),
    "tax_received": ("tax and NI received £m", "{:,.2f}"),
    "employment_support_cost": ("employment support cost £m", "{:,.2f}"),
    "business_support_cost": ("business support cost £m", "{:,.2f}"),
    "public_cost": ("benefits + support - tax £m", "{:,.2f}"),
    "developer_contributions": ("developer skills contributions £m", "{:,.3f}"),
    "esp_local_hires": ("ESP local hires", "{:,.1f}"),
}
