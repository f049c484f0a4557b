"""Issue 22: out-of-work spells linked as DWP links claims, persistent differences between people,
take-up that rises with expected duration, the return to ESA, and adviser time for seekers only."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from simulation import detmath as dm
from simulation.mechanisms import participation_kernels, providers, separations
from simulation.model import LabourMarketModel
from simulation.people import (
    EMPLOYED,
    ESA,
    INACTIVE,
    JSA,
    LINK_MONTHS,
    NO_BENEFIT,
    UNEMPLOYED,
    claim_propensity,
    draw_employability,
)
from simulation.rng import Streams


def _count(p, months: int = 1) -> None:
    for _ in range(months):
        participation_kernels.count_months(p.status, p.benefit, p.months_in_status, p.months_out, 32000, LINK_MONTHS)


def test_a_job_that_ends_within_the_linking_period_leaves_the_spell_running(people_factory):
    """Ten months out of work, a job of two months, then unemployment again: the spell goes on
    from ten; a job of more than LINK_MONTHS ends it."""
    p = people_factory(2, status=EMPLOYED, months_in_status=0, months_out=10)
    _count(p, 2)
    np.testing.assert_array_equal(p.months_out, [10, 10])  # held while the job is young
    p.status[0], p.months_in_status[0] = UNEMPLOYED, 0
    _count(p, 1)
    assert p.months_out[0] == 11  # linked: the old spell goes on
    _count(p, LINK_MONTHS)
    assert p.months_out[1] == 0  # a job that outlasted the linking period ended the spell


def test_inactivity_off_benefit_holds_the_spell_then_ends_it_and_claims_keep_it(people_factory):
    p = people_factory(
        3,
        status=[INACTIVE, INACTIVE, UNEMPLOYED],
        benefit=[NO_BENEFIT, ESA, NO_BENEFIT],
        months_in_status=0,
        months_out=[14, 14, 14],
    )
    _count(p, LINK_MONTHS)
    np.testing.assert_array_equal(p.months_out, [14, 14 + LINK_MONTHS, 14 + LINK_MONTHS])
    _count(p, 1)
    np.testing.assert_array_equal(p.months_out, [0, 15 + LINK_MONTHS, 15 + LINK_MONTHS])


def test_take_up_falls_with_employability_and_averages_the_take_up_rate(params):
    e = np.array([0.25, 0.5, 1.0, 2.0], dtype=np.float32)
    prop = claim_propensity(e, params)
    assert (np.diff(prop) < 0).all() and prop.dtype == np.float32
    # Over the distribution people enter with, the average chance of claiming is claim_take_up.
    z = np.random.default_rng(3).standard_normal(400_000)
    mean = float(claim_propensity(draw_employability(z, params), params).mean())
    assert mean == pytest.approx(params.claim_take_up, rel=0.02)
    none = params.with_overrides({"claim_selection": 0.0})
    assert (claim_propensity(e, none) == np.float32(none.claim_take_up)).all()


def test_newcomers_have_mean_employability_one(params):
    z = np.random.default_rng(5).standard_normal(400_000)
    e = draw_employability(z, params)
    assert float(e.mean()) == pytest.approx(1.0, rel=0.01)
    assert float(np.log(e).std()) == pytest.approx(params.employability_sd, rel=0.01)


def test_people_with_a_health_condition_return_to_esa_when_a_job_ends(params, people_factory):
    n = 8000
    health = np.arange(n) % 2 == 0
    p = people_factory(n, status=EMPLOYED, employer=0, wage=1500.0, months_in_status=30, health_condition=health)
    firms = SimpleNamespace(size=np.array([n], dtype=np.int32))  # release only changes headcounts
    separations.release(p, firms, np.arange(n), UNEMPLOYED, Streams(4), 3, params)  # type: ignore[arg-type]
    r = params.esa_return_share
    back = p.benefit == ESA
    assert not back[~health].any()
    assert back[health].mean() == pytest.approx(r, abs=4 * np.sqrt(r * (1 - r) / health.sum()))
    assert (p.status[back] == INACTIVE).all() and (p.status[~back] == UNEMPLOYED).all()
    # The rest claim JSA at their own take-up, whether or not they have had ESA.
    take_up = params.claim_take_up
    for mask in (~health, health & ~back):
        jsa = (p.benefit[mask] == JSA).mean()
        assert jsa == pytest.approx(take_up, abs=4 * np.sqrt(take_up * (1 - take_up) / mask.sum()))
    assert firms.size[0] == 0


def test_advisers_hours_go_to_seekers_in_proportion_to_their_share_of_the_caseload(params, people_factory):
    """Half the caseload in work: the seekers share half the advisers' hours, not all of them."""
    from simulation.config import load_regime

    levers = load_regime("centralised").levers
    n = 40
    p = people_factory(
        n,
        status=np.where(np.arange(n) < n // 2, UNEMPLOYED, EMPLOYED),
        employer=np.where(np.arange(n) < n // 2, -1, 0),
        benefit=np.where(np.arange(n) < n // 2, JSA, NO_BENEFIT),
        months_in_status=13,
        programme=0,
        ever_referred=True,
        eligible_month=0,
        eligible_group=2,
    )
    out = providers.step(p, 0, levers, params, np.zeros(n), 0.05, 3)
    advisers = int(np.ceil(n / levers.caseload))
    assert out.advisers == advisers
    assert float(p.support_hours.sum()) == pytest.approx(advisers * params.adviser_hours_per_month / 2, rel=1e-5)
    assert (p.support_hours[p.status == EMPLOYED] == 0).all()


def test_support_effect_is_bounded_by_the_trial_evidence(params):
    from simulation.registry import PARAMETERS

    assert PARAMETERS["support_max_effect"].domain[1] <= 0.35
    assert params.support_max_effect <= 0.35


def test_dynamic_selection_the_long_term_unemployed_and_claimants_are_the_less_employable():
    """After a run, those long out of work are less employable than the newly unemployed, and JSA
    claimants less than unemployed non-claimants (take-up rises with expected duration)."""
    m = LabourMarketModel(place="southampton", regime="no_programme", seed=2, months=12, burn_in=12, agent_views=False)
    for _ in range(12):
        m.step()
    p = m.people
    u = p.status == UNEMPLOYED
    log_e = dm.np_log(p.employability.astype(np.float64))
    short, long = u & (p.months_out < 3), u & (p.months_out >= 12)
    assert short.sum() > 100 and long.sum() > 100
    assert log_e[long].mean() < log_e[short].mean() - 0.1
    claim, no_claim = u & (p.benefit == JSA), u & (p.benefit == NO_BENEFIT)
    assert log_e[claim].mean() < log_e[no_claim].mean()
    # The starting unemployed came from the stock's distribution: less employable than the employed.
    assert log_e[u].mean() < log_e[p.status == EMPLOYED].mean()


def test_disadvantaged_jsa_claimants_are_referred_early_and_new_esa_claimants_may_volunteer(params, people_factory):
    """The Work Programme's payment groups that come from referral itself: JSA early access (from
    its referral month, for claimants with barriers of early_access_barrier or more, at its share)
    and ESA volunteers (new ESA claimants not mandated, whose draw is below the two shares)."""
    from simulation.config import load_regime
    from simulation.people import ESA_NEW, ESA_VOLUNTEER, JSA_25_PLUS, JSA_EARLY_ACCESS, NO_GROUP, NOT_ELIGIBLE

    levers = load_regime("centralised").levers
    g = levers.groups
    high = params.early_access_barrier + 0.05
    p = people_factory(
        5,
        status=[UNEMPLOYED, UNEMPLOYED, UNEMPLOYED, INACTIVE, INACTIVE],
        benefit=[JSA, JSA, JSA, ESA, ESA],
        group=[JSA_25_PLUS, JSA_25_PLUS, JSA_25_PLUS, ESA_NEW, ESA_NEW],
        barrier=[high, high, 0.0, 0.6, 0.6],
        months_in_status=g.jsa_early_access.referral_month,
    )
    share_early = g.jsa_early_access.referral_share
    share_new, share_vol = g.esa_new.referral_share, g.esa_volunteer.referral_share
    u = np.array([share_early / 2, (1 + share_early) / 2, 0.0, share_new / 2, share_new + share_vol / 2])
    providers.step(p, 0, levers, params, u, 0.05, 3)
    np.testing.assert_array_equal(p.eligible_group, [JSA_EARLY_ACCESS, NO_GROUP, NO_GROUP, ESA_NEW, ESA_VOLUNTEER])
    np.testing.assert_array_equal(p.eligible_month, [3, NOT_ELIGIBLE, NOT_ELIGIBLE, 3, 3])
    np.testing.assert_array_equal(p.ever_referred, [True, False, False, True, True])
    # Not referred early, the disadvantaged claimant is eligible at the group's own point.
    p.months_out[:3] = g.jsa_25_plus.referral_month
    providers.step(p, 0, levers, params, u, 0.05, 4)
    assert p.eligible_group[1] == JSA_25_PLUS and p.eligible_group[2] == JSA_25_PLUS
