"""People hold on to the labour force when jobs are scarce (`participation.search_rates`).

- The rule: when a market's job finding falls below its end-of-burn-in level, the inactive start
  searching more (a share `participation_response` of the direct hires they lose) and the
  unemployed stop searching less; at 0, or in the burn-in, the rates are those the place was built
  with.
- In a whole run of the 2008 recession, the response sends more of the lost jobs into
  unemployment and fewer into inactivity than without it (UK participation held up in 2008-09:
  Elsby, Smith and Wadsworth 2011; Singleton 2018).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from simulation.config import load_calibration, make_scenario
from simulation.mechanisms import participation
from simulation.model import LabourMarketModel
from simulation.people import INACTIVE


def world(k: float, finding: list[float], ref: list[float] | None) -> SimpleNamespace:
    """Two districts in two markets, as the stage sees them."""
    params = SimpleNamespace(participation_response=k, exit_rate_ui=0.08)
    return SimpleNamespace(
        params=params,
        n_districts=2,
        district_market=np.array([0, 1]),
        entry_rate=np.array([0.02, 0.03]),
        inactive_finding=np.array([0.01, 0.012]),
        finding_avg=np.array(finding),
        finding_ref=None if ref is None else np.array(ref),
    )


def test_slack_markets_raise_search_starts_and_lower_search_stops() -> None:
    k = load_calibration().records["participation_response"].high
    w = world(k, finding=[0.3, 0.5], ref=[0.4, 0.5])  # market 0 a quarter slacker, market 1 as it was
    start, stop = participation.search_rates(w)  # type: ignore[arg-type]
    assert np.isclose(start[0], 0.02 + k * 0.01 * 0.25) and start[1] == 0.03
    assert np.isclose(stop[0], 0.08 * (1 - k * 0.25)) and stop[1] == 0.08
    # Tighter than it was: the other way round.
    start, stop = participation.search_rates(world(k, finding=[0.5, 0.5], ref=[0.4, 0.5]))  # type: ignore[arg-type]
    assert start[0] < 0.02 and stop[0] > 0.08


def test_no_response_at_zero_or_in_the_burn_in() -> None:
    for w in (world(0.0, [0.2, 0.2], [0.4, 0.5]), world(1.0, [0.2, 0.2], None)):
        start, stop = participation.search_rates(w)  # type: ignore[arg-type]
        assert np.array_equal(start, w.entry_rate) and np.all(stop == 0.08)


STOCKS = ["unemployed", "employed", "inactive"]


def test_in_a_recession_the_lost_jobs_go_to_unemployment_not_inactivity(month_totals) -> None:
    """2009-10 (months 13-36) of the recession against the steady economy, same seeds: with the
    response, unemployment rises by more and inactivity by less than without it."""
    high = load_calibration().records["participation_response"].high
    rise: dict[float, tuple[float, float]] = {}
    for k in (0.0, high):
        du, di = [], []
        for seed in (1, 2):
            rec, steady = (
                month_totals(
                    "stevenage",
                    "no_programme",
                    36,
                    STOCKS,
                    seed,
                    lead_in=0,
                    economy=economy,
                    overrides={"participation_response": k},
                )
                for economy in ("recession_2008", "steady")
            )
            du.append((rec.unemployed - steady.unemployed).loc[13:36].mean())
            di.append((rec.inactive - steady.inactive).loc[13:36].mean())
        rise[k] = (float(np.mean(du)), float(np.mean(di)))
    assert rise[high][0] > rise[0.0][0] > 0
    assert rise[high][1] < rise[0.0][1]


def test_the_burn_in_settles_inactivity_at_the_level_the_place_was_built_with() -> None:
    """The search-start rate is worked out again each burn-in month at the inactive's current
    make-up and nudged towards the built inactivity (`participation.settle_entry_rates`): by the
    end of a two-year burn-in each district's inactivity is back near its documented level, and
    from then on the rate stays where the burn-in left it."""
    sc = make_scenario("stevenage", "no_programme", months=12, burn_in=24, lead_in=0)
    m = LabourMarketModel(config=sc, seed=2, agent_views=False)
    inactive = np.bincount(m.people.district[m.people.status == INACTIVE], minlength=m.n_districts)
    assert np.all(np.abs(inactive / m.inactive_built - 1) < 0.02)
    frozen = m.entry_rate.copy()
    for _ in range(12):
        m.step()
    assert np.array_equal(m.entry_rate, frozen)
