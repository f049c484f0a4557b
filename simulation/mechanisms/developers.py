"""Property developments and the employment-and-skills obligations a council can broker.

Developments arrive in each district at its documented construction value a year, as projects
of mean value `development_value_mean_m` (right-skewed). On-site labour is about
`development_jobs_per_m` job-years per £1m (UKCG/CEBR 2011; effects.md s6). Where the council
brokers an employment and skills plan (as Southampton has since 2009), a share
`esp_capture_brokered` of it goes to local disadvantaged residents, part as apprenticeships,
and the developer pays `esp_contribution_per_m` per £1m towards skills; otherwise only
best-endeavour clauses apply (`esp_capture_unbrokered`). Yields are concave in project value.
The plan's posts are filled by local claimants out of work six months or more (`hire_locally`).
Brokering costs the council `brokerage_cost_per_project` per project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation import detmath as dm
from simulation.declare import Mechanism, Output, Posting, at_least_zero, between, lever, probability
from simulation.mechanisms._util import long_claimants, pick_per_group, stochastic_round
from simulation.mechanisms.world import World
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Levers, Params

MAX_PROJECTS_PER_MONTH = 16  # per district; far above any district's monthly arrival rate


def step(
    construction_value_m: np.ndarray, params: Params, levers: Levers, streams: Streams, month: int
) -> dict[str, np.ndarray]:
    """This month's projects by district: value (£m), local hires, apprenticeships, contributions (£)."""
    n_districts = construction_value_m.shape[0]
    rate = construction_value_m / 12.0 / params.development_value_mean_m
    n = np.minimum(stochastic_round(rate, streams.uniform("development", month, n_districts)), MAX_PROJECTS_PER_MONTH)
    # Lognormal project values with the calibrated mean (sd of log value 1: right-skewed).
    z = streams.normal("development_value", month, n_districts * MAX_PROJECTS_PER_MONTH)
    values = params.development_value_mean_m * dm.np_exp(z - 0.5).reshape(n_districts, MAX_PROJECTS_PER_MONTH)
    present = np.arange(MAX_PROJECTS_PER_MONTH)[None, :] < n[:, None]
    values = np.where(present, values, 0.0)
    scaled = dm.np_power(values, params.esp_value_concavity)  # concave yield in £m
    capture = params.esp_capture_brokered if levers.brokerage else params.esp_capture_unbrokered
    local_hires = (params.development_jobs_per_m * capture * scaled).sum(axis=1)
    contribution_share = capture / max(params.esp_capture_brokered, 1e-12)
    contributions = params.esp_contribution_per_m * contribution_share * scaled.sum(axis=1)
    return {
        "projects": n,
        "construction_value_m": values.sum(axis=1),
        "esp_posts": local_hires,
        "developer_contributions": contributions,
    }


def hire_locally(
    people,
    firms,
    params: Params,
    streams: Streams,
    month: int,
    local_hires: np.ndarray,
    person_market: np.ndarray,
    ppa: float,
    flows: dict[str, np.ndarray] | None = None,
    claimants: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill the month's employment-and-skills-plan posts with local claimants out of work six months
    or more (by a per-person key). The posts are existing vacancies in the market (construction and
    its supply chain), so the plan changes who gets them: local long-term claimants first.
    Returns realised hires and apprenticeships by district (real people); with `flows`, the hires
    are also counted there as from unemployment or inactivity (rows, by district). `claimants`:
    this month's claimants, if known (`_util.long_claimants`)."""
    from simulation.mechanisms import matching

    nd = local_hires.shape[0]
    wanted = stochastic_round(local_hires / ppa, streams.uniform("esp_posts", month, nd))
    if wanted.sum() == 0:
        return np.zeros(nd), np.zeros(nd)
    d = people.district
    eligible = long_claimants(people, 6, claimants)
    key = streams.uniform_at("esp_pick", month, eligible)
    chosen = pick_per_group(eligible, d[eligible], key, wanted)
    priority = streams.uniform_at("esp_priority", month, chosen)
    hired, posts = matching.take_posts(firms, chosen, priority, person_market, streams, month, "esp_fill")
    matching.start_jobs(people, firms, hired, posts, params, flows)
    apprentice = hired[streams.uniform_at("esp_apprentice", month, hired) < params.apprenticeship_share]
    people.skill[apprentice] = (people.skill[apprentice] + params.training_skill_gain).astype(np.float32)
    return np.bincount(d[hired], minlength=nd) * ppa, np.bincount(d[apprentice], minlength=nd) * ppa


def run(w: World) -> None:
    """Developments start; their employment-and-skills plans hire local claimants and
    apprentices (plan hires count as flows out of unemployment and inactivity). Each district's
    developers pay their contributions at the institutions' stage (`agents.PropertyDeveloper`)."""
    assert w.claimants is not None  # listed in every policy month
    w.developments = step(w.construction_value_m, w.params, w.levers, w.streams, w.month)
    hires, apprentices = hire_locally(
        w.people,
        w.firms,
        w.params,
        w.streams,
        w.month,
        w.developments["esp_posts"],
        w.person_market,
        w.ppa,
        w.flows,
        w.claimants,
    )
    w.developments["esp_local_hires"] = hires
    w.developments["esp_apprenticeships"] = apprentices


# ---- what this mechanism owns (`simulation.declare`)

DEVELOPMENT_COLUMNS = {
    "projects": "development projects started",
    "construction_value_m": "construction value started (£m)",
    "esp_posts": "posts in employment-and-skills plans",
    "esp_local_hires": "local claimants hired into plan posts",
    "esp_apprenticeships": "apprenticeships in plan posts",
}


def report(w: World) -> dict[str, np.ndarray]:
    """The month's developments and their plans (zero before the regime starts)."""
    none = np.zeros(w.n_districts)
    return {key: w.developments.get(key, none).astype(np.float64) for key in DEVELOPMENT_COLUMNS}


MECHANISM = Mechanism(
    name="developers",
    doc=__doc__ or "",
    parameters={
        "development_jobs_per_m": at_least_zero(1000.0),
        "esp_capture_brokered": probability(),
        "esp_capture_unbrokered": probability(),
        "esp_contribution_per_m": at_least_zero(1e6),
        "esp_value_concavity": between(0.1, 1.0),
        "development_value_mean_m": between(0.1, 1e4),
        "apprenticeship_share": probability(),
        "brokerage_cost_per_project": at_least_zero(1e6),
    },
    levers={"brokerage": lever(bool, "councils broker employment-and-skills plans for major developments")},
    outputs=tuple(
        Output(k, doc, "£m" if k == "construction_value_m" else "people") for k, doc in DEVELOPMENT_COLUMNS.items()
    ),
    report=report,
    postings={
        "brokerage": Posting("council", "economy", "employment_support", "councils brokering developers' plans"),
        "developer_skills_contribution": Posting(
            "developers", "skills_fund", "private", "developers' contributions to the district's skills fund"
        ),
    },
)
