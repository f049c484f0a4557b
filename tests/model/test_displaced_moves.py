"""Displaced workers find fewer posts to move straight into when jobs are scarce
(`business.displaced_move_share`, `displaced_move_response`).

- The rule: the share of the displaced who try to move directly is (1 - displaced_to_unemployment)
  x r^response, r the market's job finding over its end-of-burn-in level, within [0, 1]; none of
  it applies in the burn-in or at response 0 (the share as built).
- In a whole run of the 2008 recession, with the response the slump's redundancies go into
  unemployment instead of other firms' posts: fewer direct moves and more unemployment than
  without it, on the same seeds (UK job-to-job moves fell steeply in 2008-10: Gomes 2012).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from simulation.mechanisms import business


def world(eps: float, finding: list[float], ref: list[float] | None) -> SimpleNamespace:
    """Three markets, as the stage sees them."""
    return SimpleNamespace(
        params=SimpleNamespace(displaced_move_response=eps, displaced_to_unemployment=0.4),
        finding_avg=np.array(finding),
        finding_ref=None if ref is None else np.array(ref),
    )


def test_slack_markets_send_more_of_the_displaced_into_unemployment() -> None:
    share = business.displaced_move_share(world(1.0, [0.3, 0.5, 0.9], [0.4, 0.5, 0.5]))  # type: ignore[arg-type]
    assert share is not None
    np.testing.assert_allclose(share, [0.6 * 0.75, 0.6, 1.0])  # a quarter slacker; as it was; capped at all
    steeper = business.displaced_move_share(world(2.0, [0.3, 0.5, 0.9], [0.4, 0.5, 0.5]))  # type: ignore[arg-type]
    assert steeper is not None and steeper[0] < share[0]


def test_no_response_at_zero_or_in_the_burn_in() -> None:
    assert business.displaced_move_share(world(0.0, [0.2], [0.4])) is None  # type: ignore[arg-type]
    assert business.displaced_move_share(world(1.0, [0.2], None)) is None  # type: ignore[arg-type]


def test_in_a_recession_redundancies_go_to_unemployment(month_totals) -> None:
    """2008-09 (the first 24 months) of the recession, with and without the response, same seeds:
    the layoffs are the same, fewer of the displaced move straight into posts, and unemployment
    is higher."""
    moves, unemployed = {}, {}
    for eps in (0.0, 1.0):
        runs = [
            month_totals(
                "stevenage",
                "no_programme",
                24,
                ["unemployed", "job_to_job", "layoffs"],
                seed,
                lead_in=0,
                economy="recession_2008",
                overrides={"displaced_move_response": eps},
            )
            for seed in (1, 2)
        ]
        moves[eps] = sum(float(r.job_to_job.sum()) for r in runs)
        unemployed[eps] = sum(float(r.unemployed.loc[6:].mean()) for r in runs)
        assert sum(float(r.layoffs.sum()) for r in runs) > 0
    assert moves[1.0] < moves[0.0]
    assert unemployed[1.0] > unemployed[0.0]
