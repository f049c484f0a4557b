"""The behavioural parameters the model reads, with the hard domain each must lie in.

Values, ranges and evidence live in `configs/calibration.toml`; this registry only says which
names exist and which values are meaningful at all (a probability in [0, 1], a count >= 0), so
that a typo or an impossible value is caught when the file is read.
"""

from __future__ import annotations

from dataclasses import dataclass

INF = float("inf")


@dataclass(frozen=True)
class ParamSpec:
    domain: tuple[float, float]
    mechanism: str


def _p(mechanism: str) -> ParamSpec:
    return ParamSpec((0.0, 1.0), mechanism)


def _pos(mechanism: str, hi: float = INF) -> ParamSpec:
    return ParamSpec((0.0, hi), mechanism)


PARAMETERS: dict[str, ParamSpec] = {
    # separations and participation
    "sep_rate_eu": _p("separations"),
    "sep_rate_ei": _p("separations"),
    "displaced_to_unemployment": _p("separations"),
    "early_separation_rate": _p("separations"),
    "exit_rate_ui": _p("participation"),
    # matching
    "matching_alpha": ParamSpec((0.05, 0.95), "matching"),
    "matching_efficiency": _pos("matching", 5.0),
    "unemployed_per_vacancy": ParamSpec((0.1, 50.0), "matching"),
    "inactive_search_intensity": _p("matching"),
    "duration_scarring": _pos("matching", 1.0),
    "duration_scarring_max_months": _pos("matching", 240),
    "barrier_exponent": _pos("matching", 10.0),
    # skills
    "skill_sd": _pos("skills", 3.0),
    "skill_elasticity": _pos("skills", 5.0),
    "skill_growth_in_work": _pos("skills", 0.1),
    "skill_decay_unemployed": _pos("skills", 0.1),
    "skill_decay_after_months": _pos("skills", 240),
    # business
    "survival_1yr": _p("business"),
    "survival_3yr": _p("business"),
    "survival_5yr": _p("business"),
    "mature_death_rate": _p("business"),
    "birth_size_mean": ParamSpec((0.1, 100.0), "business"),
    "firm_maturity_months": ParamSpec((1.0, 600.0), "business"),
    "firm_growth_sd": _pos("business", 1.0),
    "firm_size_sd": _pos("business", 3.0),
    "sme_employment_share": _p("business"),
    "large_employer_size": ParamSpec((50.0, 1e6), "business"),
    # benefits, wages and tax
    "jsa_monthly_25plus": _pos("accounts", 1e4),
    "jsa_monthly_under25": _pos("accounts", 1e4),
    "esa_monthly": _pos("accounts", 1e4),
    "housing_support_monthly": _pos("accounts", 1e4),
    "claim_take_up": _p("accounts"),
    "esa_ex_ib_share": _p("groups"),
    "jsa_ex_ib_share": _p("groups"),
    "complex_needs_share_esa": _p("groups"),
    "complex_needs_share_other": _p("groups"),
    "wage_monthly_mean": _pos("accounts", 1e5),
    "tax_ni_rate": _p("accounts"),
    # providers
    "barrier_reduction_per_hour": _p("providers"),
    "adviser_hours_per_month": ParamSpec((1.0, 744.0), "providers"),
    "adviser_cost_per_month": _pos("providers", 1e5),
    "support_max_effect": _pos("providers", 5.0),
    "support_half_hours": ParamSpec((0.01, 100.0), "providers"),
    "jcp_hours_per_claimant_month": _pos("providers", 100.0),
    # partnerships and schools
    "placement_to_job": _p("partnerships"),
    "mentoring_months": ParamSpec((0.0, 24.0), "partnerships"),
    "mentoring_effect": _pos("partnerships", 5.0),
    "placement_skill_gain": _pos("partnerships", 1.0),
    "partnership_cost_per_placement": _pos("partnerships", 1e5),
    "employer_hours_per_placement": _pos("partnerships", 1000.0),
    "employer_hour_value": _pos("partnerships", 1000.0),
    "employer_contact_neet_hr": ParamSpec((0.05, 1.0), "partnerships"),
    # skills
    "training_skill_gain": _pos("skills", 1.0),
    "training_cost": _pos("skills", 1e5),
    # enterprise hubs
    "hub_displacement": _p("business"),
    "hub_survival_hazard_ratio": ParamSpec((0.0, 2.0), "business"),
    "hub_growth_uplift_annual": ParamSpec((-0.5, 2.0), "business"),
    "hub_support_months": ParamSpec((1.0, 120.0), "business"),
    "hub_cost_per_firm_year": _pos("business", 1e6),
    # developers
    "development_jobs_per_m": _pos("developers", 1000.0),
    "esp_capture_brokered": _p("developers"),
    "esp_capture_unbrokered": _p("developers"),
    "esp_contribution_per_m": _pos("developers", 1e6),
    "esp_value_concavity": ParamSpec((0.1, 1.0), "developers"),
    "development_value_mean_m": ParamSpec((0.1, 1e4), "developers"),
    "apprenticeship_share": _p("developers"),
    "brokerage_cost_per_project": _pos("developers", 1e6),
}
