"""Displacement, measured as Crépon et al. (2013) measured it: the effect of a programme on those it
treats and on the eligible it leaves untreated in the same market (issue 24, item 3).

Crépon, Duflo, Gurgand, Rathelot and Zamora (QJE 2013) randomised the share of each market's
eligible young jobseekers offered counselling (0, 25, 50, 75 or 100%) and then, within markets,
who was offered it. Treated youths more often held a stable job at 8 months, partly at the
expense of the untreated eligible in the same market, most in weak labour markets, with little
net benefit.

The model can replay a market with the same people under each share (common random numbers), so
the experiment is made across arms rather than across markets: each arm refers a share of each
payment group at random (everyone's referral draw is fixed, so a larger share refers a superset),
and the baseline arm, on the same seeds, refers no one. Within a payment group the referred are a
random draw of the eligible, so in each arm and group, with H the horizon:

- the treated's rate: job outcomes within H months among those referred;
- the untreated's rate: the same among the eligible not referred;
- each minus the baseline's rate among the same people: a share s refers those whose fixed
  referral draw is below s, and the cohort tables count the eligible and their outcomes by band of
  that draw (`outcomes_kernels.DRAW_BANDS`), so where s is a whole number of bands the baseline's
  rate is taken over exactly the people the arm treats, or leaves untreated. (Otherwise, or for
  tables without the bands, over all the baseline's eligible: the same in expectation, but with
  the noise of how the draw happens to split the group on each seed, shared by every experiment
  on those seeds.);
- the displacement share: the untreated's loss of job outcomes as a share of the treated's gain,
  -(1 - s) Δ_untreated / (s Δ_treated) for a referred share s; 0 means no one is displaced, 1
  means the treated's every gain is another eligible's loss. Over seeds it is a ratio of means
  with a Fieller interval, unbounded (no ends) unless the treated's gain is clearly positive.

Only groups with a share strictly between 0 and 1 in an arm are shown (the untreated or the
treated are otherwise absent), and only cohorts followed for H months count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.stats import fieller, summarise
from simulation.outcomes import DRAW_HORIZON
from simulation.outcomes_kernels import DRAW_BANDS

HORIZON = 12  # months: the nearest of the cohort horizons to Crépon et al.'s 8 months
COLUMNS = [
    "arm",
    "versus",
    "group",
    "quantity",
    "n_seeds",
    "mean",
    "low",
    "high",
]
QUANTITIES = {
    "share_referred": "share of the eligible referred",
    "treated_rate": f"treated: job outcome within {HORIZON} months",
    "untreated_rate": f"untreated eligible: job outcome within {HORIZON} months",
    "baseline_rate": f"baseline (no one referred): job outcome within {HORIZON} months",
    "effect_on_treated": "effect on the treated (pp of the eligible)",
    "effect_on_untreated": "effect on the untreated eligible in the same market (pp)",
    "net_effect": "net effect on all the eligible (pp)",
    "displacement_share": "displacement: untreated's loss / treated's gain",
}


def _sums(cohorts: pd.DataFrame, h: int = HORIZON) -> pd.DataFrame:
    """By payment group: eligible, referred, outcomes and referred outcomes within h months, over
    cohorts followed h months."""
    need = {"eligible", "referred", f"outcome_{h}m", f"referred_outcome_{h}m", f"followed_{h}m"}
    if cohorts is None or not need <= set(cohorts.columns):
        return pd.DataFrame()
    c = cohorts[cohorts[f"followed_{h}m"].astype(bool)]
    cols = ["eligible", "referred", f"outcome_{h}m", f"referred_outcome_{h}m"]
    bands = [f"eligible_draw{b}" for b in range(DRAW_BANDS)] + [f"outcome_{h}m_draw{b}" for b in range(DRAW_BANDS)]
    if h == DRAW_HORIZON and set(bands) <= set(c.columns):
        cols += bands
    return c.groupby("group")[cols].sum()


def _same_people(base: pd.Series, s: float, h: int) -> tuple[float, float] | None:
    """The baseline's outcome rates (treated, untreated) among the people an arm referring share s
    treats and leaves untreated: the bands of the referral draw below and above s, where s is
    within a tenth of a band of a whole number of bands strictly between none and all."""
    k = round(s * DRAW_BANDS)
    if not 0 < k < DRAW_BANDS or abs(s * DRAW_BANDS - k) > 0.1 or f"eligible_draw{k}" not in base.index:
        return None
    el = [float(base[f"eligible_draw{b}"]) for b in range(DRAW_BANDS)]
    out = [float(base[f"outcome_{h}m_draw{b}"]) for b in range(DRAW_BANDS)]
    below, above = sum(el[:k]), sum(el[k:])
    if below <= 0 or above <= 0:
        return None
    return sum(out[:k]) / below, sum(out[k:]) / above


def per_seed(arm: pd.DataFrame, base: pd.DataFrame, h: int = HORIZON) -> dict[str, dict[str, float]]:
    """Group -> each quantity of QUANTITIES for one seed's arm against its baseline (group sums, `_sums`)."""
    out: dict[str, dict[str, float]] = {}
    o, ro = f"outcome_{h}m", f"referred_outcome_{h}m"
    for group, r in arm.iterrows():
        e, n = float(r["eligible"]), float(r["referred"])
        if e <= 0 or not 0 < n < e or group not in base.index or float(base.loc[group, "eligible"]) <= 0:
            continue
        if float(base.loc[group, "referred"]) > 0:
            continue  # a baseline that treats anyone is no counterfactual for this group
        s = n / e
        treated = float(r[ro]) / n
        untreated = (float(r[o]) - float(r[ro])) / (e - n)
        rate0 = float(base.loc[group, o]) / float(base.loc[group, "eligible"])
        same = _same_people(base.loc[group], s, h)
        treated0, untreated0 = same if same is not None else (rate0, rate0)
        dt, du = treated - treated0, untreated - untreated0
        out[str(group)] = {
            "share_referred": s,
            "treated_rate": treated,
            "untreated_rate": untreated,
            "baseline_rate": rate0,
            "effect_on_treated": 100 * dt,
            "effect_on_untreated": 100 * du,
            "net_effect": 100 * (s * dt + (1 - s) * du),
            "displacement_share": -(1 - s) * du / (s * dt) if dt != 0 else np.nan,
            # Its numerator and denominator, for the ratio of means over seeds (`table`).
            "untreated_loss": -(1 - s) * du,
            "treated_gain": s * dt,
        }
    return out


def table(cohorts: Mapping[str, Mapping[int, Any]], arms: list[str], baseline: str, seeds: list[int]) -> pd.DataFrame:
    """COLUMNS for every arm but the baseline, group and quantity, summarised over the paired seeds;
    `cohorts[arm][seed]` is a run's cohorts table (None where the run has none)."""
    rows = []
    base = {s: _sums(cohorts[baseline][s]) for s in seeds}
    for a in arms:
        if a == baseline:
            continue
        values: dict[tuple[str, str], list[float]] = {}
        for s in seeds:
            arm_sums = _sums(cohorts[a][s])
            if arm_sums.empty or base[s].empty:
                continue
            for group, q in per_seed(arm_sums, base[s]).items():
                for k, v in q.items():
                    values.setdefault((group, k), []).append(v)
        for (group, k), v in values.items():
            if k in ("untreated_loss", "treated_gain"):
                continue
            iv = summarise(np.array(v))
            mean, low, high = iv.mean, iv.low, iv.high
            if k == "displacement_share":
                # A ratio of means with its Fieller interval: a per-seed ratio explodes where a
                # seed's gain is near zero. Unbounded (NaN ends) unless the gain is clearly positive.
                loss, gain = np.array(values[(group, "untreated_loss")]), np.array(values[(group, "treated_gain")])
                mean = float(loss.mean() / gain.mean()) if gain.mean() != 0 else np.nan
                band = fieller(loss, gain)
                low, high = band if band is not None else (np.nan, np.nan)
            rows.append(
                {
                    "arm": a,
                    "versus": baseline,
                    "group": group,
                    "quantity": k,
                    "n_seeds": iv.n,
                    "mean": mean,
                    "low": low,
                    "high": high,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)
