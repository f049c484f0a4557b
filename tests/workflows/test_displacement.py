"""The displacement measures (issue 24, item 3; `simulation.analysis.displacement`): the treated's
and the untreated eligible's outcomes against a baseline that refers no one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.analysis import displacement


def _sums(eligible: float, referred: float, outcomes: float, referred_outcomes: float) -> pd.DataFrame:
    h = displacement.HORIZON
    return pd.DataFrame(
        {
            "eligible": [eligible],
            "referred": [referred],
            f"outcome_{h}m": [outcomes],
            f"referred_outcome_{h}m": [referred_outcomes],
        },
        index=pd.Index(["jsa_25_plus"], name="group"),
    )


def test_effects_on_the_treated_and_untreated_and_the_displacement_share() -> None:
    """1,000 eligible, 20% of them in work within the horizon untreated. Treating half raises the
    treated's rate to 30% and lowers the untreated's to 16%: a gain of 50 jobs, a loss of 20, so
    40% of the gain is displaced and the net effect is +3 points."""
    base = _sums(1000, 0, 200, 0)
    arm = _sums(1000, 500, 150 + 80, 150)
    q = displacement.per_seed(arm, base)["jsa_25_plus"]
    assert q["share_referred"] == 0.5
    assert q["treated_rate"] == pytest.approx(0.30) and q["untreated_rate"] == pytest.approx(0.16)
    assert q["effect_on_treated"] == pytest.approx(10.0) and q["effect_on_untreated"] == pytest.approx(-4.0)
    assert q["net_effect"] == pytest.approx(3.0)
    assert q["displacement_share"] == pytest.approx(0.4)


def test_groups_without_both_treated_and_untreated_or_a_clean_baseline_are_left_out() -> None:
    base = _sums(1000, 0, 200, 0)
    assert displacement.per_seed(_sums(1000, 1000, 250, 250), base) == {}  # everyone treated
    assert displacement.per_seed(_sums(1000, 0, 200, 0), base) == {}  # no one treated
    assert displacement.per_seed(_sums(1000, 500, 230, 150), _sums(1000, 10, 200, 5)) == {}  # baseline treats


def test_the_table_summarises_paired_seeds() -> None:
    h = displacement.HORIZON
    row = {"group": "jsa_25_plus", f"followed_{h}m": True}

    def cohorts(e: float, r: float, o: float, ro: float) -> pd.DataFrame:
        return pd.DataFrame([{**row, "eligible": e, "referred": r, f"outcome_{h}m": o, f"referred_outcome_{h}m": ro}])

    c = {
        "none": {1: cohorts(1000, 0, 200, 0), 2: cohorts(1000, 0, 210, 0)},
        "half": {1: cohorts(1000, 500, 230, 150), 2: cohorts(1000, 500, 236, 155)},
    }
    t = displacement.table(c, ["none", "half"], "none", [1, 2])
    assert set(t["arm"]) == {"half"} and (t["n_seeds"] == 2).all()
    share = t[t["quantity"] == "share_referred"].iloc[0]
    assert share["mean"] == 0.5 and share["low"] == share["high"] == 0.5
    eff = t[t["quantity"] == "effect_on_treated"].iloc[0]
    assert eff["mean"] == pytest.approx(np.mean([10.0, 10.0]))
    # Displacement over seeds is a ratio of means: seed 1 loses 20 of a gain of 50 (per 1,000
    # eligible: 0.5 x 4 pp of 10 pp), seed 2 loses 0.5 x (21 - 16.2) = 2.4 of 0.5 x (31 - 21) = 5.
    d = t[t["quantity"] == "displacement_share"].iloc[0]
    assert d["mean"] == pytest.approx((0.5 * 4.0 + 0.5 * 4.8) / (0.5 * 10.0 + 0.5 * 10.0))
    assert set(t["quantity"]) == set(displacement.QUANTITIES)


def test_in_a_run_referred_outcomes_are_among_the_outcomes(run_model) -> None:
    """The cohort table's referred outcomes: never more than the outcomes, none where no one is
    referred, and a larger referred share (the same draws) never fewer referred."""
    h = displacement.HORIZON
    runs = {}
    for share in (0.0, 0.5):
        levers = {
            f"groups.{g}.referral_share": share
            for g in ("jsa_18_24", "jsa_25_plus", "jsa_ex_ib", "esa_new", "esa_ex_ib")
        }
        levers |= {"groups.jsa_early_access.referral_share": 0.0, "groups.esa_volunteer.referral_share": 0.0}
        model = run_model("centralised", 1, months=20, burn_in=6, lever_overrides=levers)
        runs[share] = model.cohorts.frame(model.district_names)
    for c in runs.values():
        assert (c[f"referred_outcome_{h}m"] <= c[f"outcome_{h}m"]).all()
    assert runs[0.0]["referred"].sum() == 0 and runs[0.0][f"referred_outcome_{h}m"].sum() == 0
    assert runs[0.5]["referred"].sum() > 0
    share = runs[0.5]["referred"].sum() / runs[0.5]["eligible"].sum()
    assert 0.3 < share < 0.7
    # The bands of the fixed referral draw split the eligible and their outcomes, and a share of
    # one half refers exactly the two lower bands.
    for c in runs.values():
        bands = range(displacement.DRAW_BANDS)
        assert np.allclose(sum(c[f"eligible_draw{b}"] for b in bands), c["eligible"])
        assert np.allclose(sum(c[f"outcome_{h}m_draw{b}"] for b in bands), c[f"outcome_{h}m"])
    half = runs[0.5]
    lower = sum(half[f"eligible_draw{b}"] for b in range(displacement.DRAW_BANDS // 2))
    assert np.allclose(lower, half["referred"])


def _banded(eligible: list[float], outcomes: list[float], referred: float, referred_outcomes: float) -> pd.DataFrame:
    """A group's sums with the eligible and their outcomes by band of the referral draw."""
    h = displacement.HORIZON
    s = _sums(sum(eligible), referred, sum(outcomes), referred_outcomes)
    for b, (e, o) in enumerate(zip(eligible, outcomes, strict=True)):
        s[f"eligible_draw{b}"] = [e]
        s[f"outcome_{h}m_draw{b}"] = [o]
    return s


def test_the_untreated_are_compared_with_the_same_people_in_the_baseline() -> None:
    """The draw happens to split the baseline unevenly: its upper half finds work at 24%, its
    lower half at 16% (20% over all). An arm treating the lower half, whose upper half still finds
    work at 24%, displaced no one: compared with the same people, the untreated's effect is zero
    (against all the baseline's eligible it would look like a gain of 4 points)."""
    base = _banded([250, 250, 250, 250], [40, 40, 60, 60], 0, 0)
    arm = _banded([250, 250, 250, 250], [55, 55, 60, 60], 500, 110)
    q = displacement.per_seed(arm, base)["jsa_25_plus"]
    assert q["effect_on_untreated"] == pytest.approx(0.0)
    assert q["effect_on_treated"] == pytest.approx(100 * (0.22 - 0.16))
    assert q["displacement_share"] == pytest.approx(0.0)
    # A share that is not a whole number of bands falls back on all the baseline's eligible.
    odd = _sums(1000, 400, 104 + 120, 104)
    q = displacement.per_seed(odd, base)["jsa_25_plus"]
    assert q["effect_on_untreated"] == pytest.approx(100 * (120 / 600 - 0.20))
