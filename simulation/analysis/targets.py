"""Model quantities that are compared with observed figures, and the observed figures themselves.

`model_values` reads one run's month x district table (and its cohort table) and returns the
quantities the evidence speaks about: monthly flows in and out of work, unemployment and long-term
unemployment shares, the job-finding hazard by months unemployed, small-business survival by year of
life, unemployed per vacancy, the Work Programme's two-year job-outcome rate (overall and by payment
group) and its referral mix (each payment group's share of referrals). Calibration (`labourlab
calibrate`) fits parameters to the targets in `configs/targets.toml`; validation (`labourlab
validate`) checks facts it was not fitted to. Both read the model through this one function, so a
quantity means the same in each.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from simulation.analysis.stats import ratio
from simulation.config import CONFIGS, ConfigError, PlaceFile, Strict, _validate, read_toml
from simulation.firms import AGE_YEAR_BINS
from simulation.measures import MEASURES, month_totals
from simulation.people import DURATION_BINS, GROUP_NAMES

TARGETS_FILE = CONFIGS / "targets.toml"
BASELINE_JSA_25_PLUS = "baseline_jsa_25_plus_two_year_rate"

# The quantities of the month table, as measures (simulation.measures). The evidence speaks of
# hazards pooled over the run (all flows over all the stocks they came from), hence the names.
MEASURE_OF = {
    "u_to_e_hazard": "u_to_e_hazard_pooled",
    "e_to_u_hazard": "e_to_u_hazard_pooled",
    "unemployment_rate": "unemployment_rate",
    "employment_rate": "employment_rate",
    "ltu_share": "ltu_share",
    "unemployed_per_vacancy": "unemployed_per_vacancy",
    "vacancy_rate": "vacancy_rate",
    "adviser_caseload": "adviser_caseload",
}


def duration_hazards(g: pd.DataFrame) -> dict[str, float]:
    """Monthly job-finding hazard of the unemployed by completed months unemployed."""
    return {b: ratio(g[f"u_to_e_{b}"].sum(), g[f"u_at_risk_{b}"].sum()) for b in DURATION_BINS}


def survival_curve(g: pd.DataFrame) -> dict[int, float]:
    """Survival of small firms to 1..5 years from the run's life table (monthly hazard per year of life)."""
    out: dict[int, float] = {}
    s = 1.0
    for year, b in enumerate(AGE_YEAR_BINS[:5], start=1):
        h = ratio(g[f"firm_deaths_{b}"].sum(), g[f"firms_at_risk_{b}"].sum())
        s *= (1.0 - h) ** 12 if not math.isnan(h) else math.nan
        out[year] = s
    return out


def outcome_rates(cohorts: pd.DataFrame | None) -> dict[str, float]:
    """Two-year official job-outcome rate of cohorts followed for two years: overall (`all`) and by
    payment group (NaN where a group had no one eligible).

    The cohort tracker counts outcomes for everyone who reached the referral point, referred or
    not, so a group's rate is over its cohort (as `compare` reports it). Where a group is referred
    in full (the JSA groups under the Work Programme) this is the rate over referrals; dividing
    outcomes of the whole cohort by referrals alone would overstate groups referred in part. The
    overall rate (the published Work Programme figure) weights each group's rate by its referrals."""
    out = {g: math.nan for g in [*GROUP_NAMES[1:], "all"]}
    if cohorts is None or cohorts.empty or "eligible" not in cohorts:
        return out
    c = cohorts[cohorts["followed_up"].astype(bool)]
    sums = c.groupby(c["group"].astype(str))[["eligible", "outcome_24m"]].sum()
    for g in GROUP_NAMES[1:]:
        if g in sums.index:
            out[g] = ratio(sums.at[g, "outcome_24m"], sums.at[g, "eligible"])
    # The programme's overall rate is over referrals: each group's rate weighted by its referrals
    # (referral within a group is by a random key, so the referred share has the group's rate).
    rates = sums["outcome_24m"] / sums["eligible"].where(sums["eligible"] > 0)
    referred = c.groupby(c["group"].astype(str))["referred"].sum() if "referred" in c else sums["eligible"]
    w = referred.reindex(rates.index).fillna(0.0)
    ok = rates.notna() & (w > 0)
    out["all"] = ratio(float((rates[ok] * w[ok]).sum()), float(w[ok].sum()))
    return out


def referral_mix(cohorts: pd.DataFrame | None) -> dict[str, float]:
    """Each payment group's share of the programme's referrals over the measured months (every
    entry cohort, followed up or not), as DWP published the referral mix; NaN with no referrals."""
    out = {g: math.nan for g in GROUP_NAMES[1:]}
    if cohorts is None or cohorts.empty or "referred" not in cohorts:
        return out
    by_group = cohorts.groupby(cohorts["group"].astype(str))["referred"].sum()
    total = float(by_group.sum())
    for g in GROUP_NAMES[1:]:
        out[g] = ratio(float(by_group.get(g, 0.0)), total)
    return out


def model_values(monthly: pd.DataFrame, cohorts: pd.DataFrame | None = None, last_months: int = 12) -> dict[str, float]:
    """Every compared quantity of one run. Stocks are averaged over the last `last_months` months;
    hazards pool the whole run (this month's flow over last month's stock)."""
    g = month_totals(monthly)
    tail = g.iloc[-last_months:]
    values: dict[str, float] = {key: MEASURES[m].value(g, tail) for key, m in MEASURE_OF.items()}
    if all(f"u_at_risk_{b}" in g for b in DURATION_BINS):
        hz = duration_hazards(g)
        for b, h in hz.items():
            values[f"hazard_{b}"] = h
        values["duration_gradient"] = ratio(hz[DURATION_BINS[0]], hz[DURATION_BINS[-1]])
    if all(f"firms_at_risk_{b}" in g for b in AGE_YEAR_BINS):
        for year, s in survival_curve(g).items():
            values[f"survival_{year}yr"] = s
    rates = outcome_rates(cohorts)
    values["wp_two_year_outcome_rate"] = rates["all"]
    # The JSA 25+ cohort's two-year rate with no programme: a target only of the baseline arm
    # (`load_targets` refuses it for the programme arm, whose rates by group are for validation).
    values[BASELINE_JSA_25_PLUS] = rates["jsa_25_plus"]
    for grp in GROUP_NAMES[1:]:
        values[f"outcome_rate_{grp}"] = rates[grp]
    for grp, share in referral_mix(cohorts).items():
        values[f"referral_share_{grp}"] = share
    return values


# ------------------------------------------------------------------------------- the targets
class Target(Strict):
    """One observed figure, the band its evidence allows, and which arm reproduces it."""

    value: float
    low: float
    high: float
    arm: Literal["baseline", "programme"] = "baseline"
    source: str = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _band(self) -> Target:
        for name in ("value", "low", "high"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"expected a finite {name}, got {getattr(self, name)}")
        if not self.low <= self.value <= self.high:
            raise ValueError(f"expected low <= value <= high, got {self.low}, {self.value}, {self.high}")
        if self.low == self.high:
            raise ValueError("expected a band with low < high (the loss divides by its width)")
        return self

    @property
    def scale(self) -> float:
        """Half the band: a miss of this size costs one unit of loss."""
        return (self.high - self.low) / 2.0


class TargetsFile(Strict):
    targets: dict[str, Target] = Field(min_length=1)


KNOWN = {
    *MEASURE_OF,
    "duration_gradient",
    "wp_two_year_outcome_rate",
    *(f"hazard_{b}" for b in DURATION_BINS),
    *(f"survival_{y}yr" for y in range(1, 6)),
    *(f"outcome_rate_{g}" for g in GROUP_NAMES[1:]),
    *(f"referral_share_{g}" for g in GROUP_NAMES[1:]),
    "baseline_jsa_25_plus_two_year_rate",
}


def load_targets(path: Path | None = None, place: PlaceFile | None = None) -> dict[str, Target]:
    """The targets, validated; for a place other than England the unemployment target is the
    place's own documented rate (working-age weighted), with the same band width."""
    path = path or TARGETS_FILE
    tf = _validate(TargetsFile, read_toml(path), path)
    from simulation.config import _nearest

    for key in tf.targets:
        if key not in KNOWN:
            raise ConfigError(path, f"targets.{key}", f"unknown model quantity{_nearest(key, sorted(KNOWN))}")
        if key.startswith("referral_share_") and tf.targets[key].arm != "programme":
            raise ConfigError(path, f"targets.{key}.arm", "expected 'programme': only a programme arm refers anyone")
        if key == BASELINE_JSA_25_PLUS and tf.targets[key].arm != "baseline":
            raise ConfigError(
                path,
                f"targets.{key}.arm",
                "expected 'baseline': the programme arm's rates by claimant group are held back for validation",
            )
    targets = dict(tf.targets)
    if place is not None and "unemployment_rate" in targets and place.name != "england":
        pop = np.array([d.working_age_pop for d in place.districts], dtype=float)
        u = np.array([d.unemployment_rate for d in place.districts])
        rate = float((pop * u).sum() / pop.sum())
        t = targets["unemployment_rate"]
        half = t.scale
        targets["unemployment_rate"] = t.model_copy(
            update={
                "value": rate,
                "low": rate - half,
                "high": rate + half,
                "note": f"{place.name}'s documented rate (place file), band width as England's. {t.note}".strip(),
            }
        )
    return targets
