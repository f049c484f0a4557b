"""Property developments and the employment-and-skills obligations a council can broker, as a pipeline.

Each stage is a count the results keep, so what brokerage changes can be traced stage by stage:

1. **Arrivals.** Schemes start in each district at its construction output a year (ONS new work,
   £m), split by type: residential, commercial (every non-residential building: offices, shops,
   industry, schools, hospitals) and infrastructure (`dev_share_*`). A scheme's size is drawn in the
   units planning uses (right-skewed, lognormal): dwellings for residential schemes, floorspace for
   commercial ones, £m for infrastructure; its construction value is its size at a build cost
   (`dev_cost_per_dwelling`, `dev_cost_per_m2`).
2. **Eligibility.** An employment-and-skills plan (ESP) is a planning obligation of major
   developments: 10 or more dwellings or 1,000 m2 or more of floorspace (the statutory definition
   of a major development; Southampton has required an ESP of every major development since 2009).
   Infrastructure takes one only when it goes through local planning with a Section 106 agreement
   (`dev_infrastructure_s106_share`) and is worth at least a CITB Client-Based Approach lot
   (`esp_threshold_infrastructure_m`). An obligation is sought only where it is viable
   (`esp_viable_share`).
3. **Plans.** A council that brokers (the lever `brokerage`, with its staff) secures a plan on a
   share `esp_plan_share_brokered` of eligible, viable schemes. Without brokerage, plans come
   only as best-endeavour clauses on large schemes (`esp_large_scheme_m` and over), where
   planning officers negotiate them anyway and large contractors bring their own benchmarks, on a
   share `esp_plan_share_unbrokered` of them.
4. **Targets, contributions and delivery.** A plan's targets and its contribution are linear in
   the scheme's value, in the units the evidence gives: `esp_posts_per_m` jobs and
   apprenticeships per £1m (Southampton's small and medium schemes), `esp_posts_per_m_large` per
   £1m on large schemes (Southampton's pipeline), and `esp_contribution_per_m` pounds for skills
   per £1m. A brokering council monitors its plans: a share `esp_delivery_monitored` of the posts
   is delivered and the contribution is collected in full. Unmonitored plans deliver a share
   `esp_delivery_unmonitored` of their posts and pay a share `esp_paid_unmonitored` of their
   contribution.

The delivered posts are filled by local claimants out of work six months or more (`hire_locally`),
a share `apprenticeship_share` as apprenticeships. Contributions are paid into the district's
skills fund (`agents.PropertyDeveloper`), which pays for training the Exchequer would otherwise
pay (`agents.Council`): that pound is a public saving, so the results also give the contributions
net of it (`developer_contribution_net`), and claims count it once. A brokering council's staff
cost scales with its plans: `brokerage_hours_per_plan` (negotiating and monitoring) at
`brokerage_cost_per_hour`.

Every random number is drawn by slot from a named stream and none depends on a lever or on the
pipeline's parameters beyond the stage that uses it, so two arms see the same schemes (common
random numbers) and `replay` reproduces a run's developer money from its place and parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulation import detmath as dm
from simulation.declare import Mechanism, Output, Posting, at_least_zero, between, lever, probability
from simulation.mechanisms._util import long_claimants, pick_per_group, stochastic_round
from simulation.mechanisms.world import World
from simulation.rng import Streams

if TYPE_CHECKING:
    from simulation.config import Levers, Params

TYPES = ("residential", "commercial", "infrastructure")
# Schemes a district can start in a month, per type: far above any district's expected rate
# (England's largest district starts about 35 commercial schemes a month at the parameters'
# lowest sizes); a rate that could reach it is an error, never a silent cap.
MAX_SCHEMES = 256


@dataclass(frozen=True)
class SchemeType:
    """A type of scheme: its share of construction output, its size in its own units
    (lognormal: mean and sd of the log), the £m one unit is worth, and the sizes at which an
    obligation is eligible and a scheme large."""

    share: float
    mean_units: float
    sigma: float
    value_per_unit_m: float
    threshold_units: float
    route_share: float  # share going through local planning with a Section 106 agreement

    @property
    def mean_value_m(self) -> float:
        return self.mean_units * self.value_per_unit_m


def scheme_types(p: Params) -> tuple[SchemeType, ...]:
    """The three types, in `TYPES` order, from the parameters."""
    commercial_share = max(0.0, 1.0 - p.dev_share_residential - p.dev_share_infrastructure)
    return (
        SchemeType(
            p.dev_share_residential,
            p.dev_dwellings_mean,
            p.dev_dwellings_sigma,
            p.dev_cost_per_dwelling / 1e6,
            p.esp_threshold_dwellings,
            1.0,
        ),
        SchemeType(
            commercial_share,
            p.dev_floorspace_mean_m2,
            p.dev_floorspace_sigma,
            p.dev_cost_per_m2 / 1e6,
            p.esp_threshold_floorspace_m2,
            1.0,
        ),
        SchemeType(
            p.dev_share_infrastructure,
            p.dev_infrastructure_mean_m,
            p.dev_infrastructure_sigma,
            1.0,
            p.esp_threshold_infrastructure_m,
            p.dev_infrastructure_s106_share,
        ),
    )


# The month's pipeline by district, in this order: what `step` returns (money and the value of
# planned schemes in £, the construction value started in £m, the rest counts). `esp_posts` are
# delivered posts (people), `developer_contributions` the money paid.
PIPELINE = (
    "projects",
    "construction_value_m",
    "esp_schemes_eligible",
    "esp_plans",
    "esp_plan_value",
    "esp_contributions_secured",
    "developer_contributions",
    "esp_post_targets",
    "esp_posts",
)


def step(
    construction_value_m: np.ndarray, params: Params, levers: Levers, streams: Streams, month: int
) -> dict[str, np.ndarray]:
    """This month's schemes and plans by district (see the module's docstring), keyed as `PIPELINE`."""
    return pipeline(construction_value_m, params, bool(levers.brokerage), streams, month)


def largest_construction_value_m(params: Params) -> float:
    """The largest yearly construction output (GBP m) a district can have: at more, it would start
    more than MAX_SCHEMES - 1 schemes of a type in a month, which the pipeline's slots cannot hold."""
    return min((MAX_SCHEMES - 1) * 12.0 * t.mean_value_m / t.share for t in scheme_types(params) if t.share > 0)


def pipeline(
    construction_value_m: np.ndarray, params: Params, brokerage: bool, streams: Streams, month: int
) -> dict[str, np.ndarray]:
    """The pipeline of one month, with or without brokerage; `step` with the lever's value."""
    value_m = np.asarray(construction_value_m, dtype=np.float64)
    nd = value_m.shape[0]
    types = scheme_types(params)
    rates = np.stack([value_m * t.share / 12.0 / t.mean_value_m for t in types])  # (types, districts)
    if (rates > MAX_SCHEMES - 1).any():
        raise ValueError(
            f"a district would start more than {MAX_SCHEMES - 1} schemes of a type a month "
            f"(at most {rates.max():.0f}): construction output too large for the scheme sizes"
        )
    n = stochastic_round(rates, streams.uniform("scheme_count", month, len(TYPES) * nd).reshape(len(TYPES), nd))
    # The schemes started, as slots: type k, district d, scheme j is row (k * nd + d) * MAX + j.
    n_flat = n.ravel()
    cell = np.repeat(np.arange(n_flat.size), n_flat)
    first = np.cumsum(n_flat) - n_flat
    slot = np.arange(cell.size) - first[cell]
    rows = cell.astype(np.int64) * MAX_SCHEMES + slot
    kind = cell // nd
    district = cell % nd
    z = streams.normal_rows("scheme_size", month, rows)
    mean = np.array([t.mean_units for t in types])[kind]
    sigma = np.array([t.sigma for t in types])[kind]
    units = mean * dm.np_exp(sigma * z - 0.5 * sigma * sigma)
    value = units * np.array([t.value_per_unit_m for t in types])[kind]
    # Eligible: above the type's threshold, through planning with a Section 106 agreement, viable.
    route = streams.uniform_at("scheme_route", month, rows) < np.array([t.route_share for t in types])[kind]
    eligible = (units >= np.array([t.threshold_units for t in types])[kind]) & route
    eligible &= streams.uniform_at("scheme_viable", month, rows) < params.esp_viable_share
    large = value >= params.esp_large_scheme_m
    u_plan = streams.uniform_at("scheme_plan", month, rows)
    if brokerage:
        plan = eligible & (u_plan < params.esp_plan_share_brokered)
        delivered, paid = params.esp_delivery_monitored, 1.0
    else:
        plan = eligible & large & (u_plan < params.esp_plan_share_unbrokered)
        delivered, paid = params.esp_delivery_unmonitored, params.esp_paid_unmonitored
    plan_value = np.where(plan, value, 0.0)
    targets = plan_value * np.where(large, params.esp_posts_per_m_large, params.esp_posts_per_m)
    secured = plan_value * params.esp_contribution_per_m

    def by_district(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(district, weights=weights, minlength=nd).astype(np.float64)

    return {
        "projects": by_district(),
        "construction_value_m": by_district(value),
        "esp_schemes_eligible": by_district(eligible.astype(np.float64)),
        "esp_plans": by_district(plan.astype(np.float64)),
        "esp_plan_value": by_district(plan_value) * 1e6,
        "esp_contributions_secured": by_district(secured),
        "developer_contributions": by_district(secured * paid),
        "esp_post_targets": by_district(targets),
        "esp_posts": by_district(targets * delivered),
    }


# --------------------------------------------------------------------- replaying the pipeline
def construction_by_district(districts: Iterable[Mapping[str, Any]]) -> np.ndarray:
    """A place's construction output by district (place-file records, as a run manifest keeps them)
    in the model's order of districts: by market, stably (`LabourMarketModel`), which is the order
    the pipeline's streams are drawn in."""
    ordered = sorted(districts, key=lambda d: d["market"])
    return np.array([float(d["construction_value_m"]) for d in ordered])


def replay(
    construction_value_m: np.ndarray,
    params: Params,
    brokerage: bool,
    seeds: Iterable[int],
    months: int,
    keys: tuple[str, ...] = ("esp_plans", "esp_plan_value", "esp_contributions_secured", "developer_contributions"),
) -> dict[str, np.ndarray]:
    """The pipeline's totals over months 0..months-1 of each seed (all districts), without the rest
    of the model: developer money does not depend on people, so this is what a run's measured
    months hold (the same streams, so the same schemes). Returns key -> one total per seed."""
    out = {k: [] for k in keys}
    for seed in seeds:
        streams = Streams(int(seed))
        tot = dict.fromkeys(keys, 0.0)
        for month in range(months):
            got = pipeline(construction_value_m, params, brokerage, streams, month)
            for k in keys:
                tot[k] += float(got[k].sum())
        for k in keys:
            out[k].append(tot[k])
    return {k: np.array(v) for k, v in out.items()}


@dataclass(frozen=True)
class SweepRow:
    """The brokered / unbrokered ratio of contributions paid with one parameter at its evidence
    range's ends, the others as run."""

    parameter: str
    low: float
    high: float
    ratio_low: float
    ratio_high: float

    @property
    def swing(self) -> float:
        """How far the ratio moves over the range, as |log(ratio at high / ratio at low)|."""
        a, b = self.ratio_low, self.ratio_high
        if not (a > 0 and b > 0 and np.isfinite(a) and np.isfinite(b)):
            return float("inf") if (a > 0) != (b > 0) else float("nan")
        return abs(float(np.log(b / a)))


def contribution_ratio(construction_value_m: np.ndarray, params: Params, seeds: Iterable[int], months: int) -> float:
    """Brokered over unbrokered contributions paid, summed over the seeds (a ratio of means)."""
    seeds = list(seeds)
    on = replay(construction_value_m, params, True, seeds, months, ("developer_contributions",))
    off = replay(construction_value_m, params, False, seeds, months, ("developer_contributions",))
    den = float(off["developer_contributions"].sum())
    return float(on["developer_contributions"].sum()) / den if den > 0 else float("nan")


def sweep(
    construction_value_m: np.ndarray,
    params: Params,
    ranges: Mapping[str, tuple[float, float]],
    seeds: Iterable[int],
    months: int,
) -> tuple[float, list[SweepRow]]:
    """One parameter at a time over its range (the others as in `params`): the ratio of brokered to
    unbrokered contributions at each end. Returns the ratio at `params` and one row a parameter,
    the largest swing first."""
    seeds = list(seeds)
    base = contribution_ratio(construction_value_m, params, seeds, months)
    rows = []
    for name, (lo, hi) in ranges.items():
        at = [
            contribution_ratio(construction_value_m, params.with_overrides({name: v}), seeds, months) for v in (lo, hi)
        ]
        rows.append(SweepRow(name, lo, hi, at[0], at[1]))
    rows.sort(key=lambda r: -r.swing if not np.isnan(r.swing) else 0.0)  # the largest swing first
    return base, rows


# ----------------------------------------------------------------------------- local hires
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


def brokerage_cost(plans: float, params: Params) -> float:
    """A brokering council's staff cost for this month's plans: negotiating and monitoring each."""
    return plans * params.brokerage_hours_per_plan * params.brokerage_cost_per_hour


def run(w: World) -> None:
    """Schemes start and councils secure employment-and-skills plans on some; the plans' delivered
    posts hire local claimants and apprentices (plan hires count as flows out of unemployment and
    inactivity). Each district's developers pay their contributions at the institutions' stage
    (`agents.PropertyDeveloper`)."""
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

DEVELOPMENT_COLUMNS: dict[str, tuple[str, str]] = {
    "projects": ("development schemes started", "schemes"),
    "construction_value_m": ("construction value started", "£m"),
    "esp_schemes_eligible": (
        "schemes eligible for an employment-and-skills plan (major developments through planning, viable)",
        "schemes",
    ),
    "esp_plans": ("employment-and-skills plans secured", "plans"),
    "esp_plan_value": ("construction value of the schemes with a plan", "£"),
    "esp_contributions_secured": ("developers' contributions for skills secured in plans", "£"),
    "esp_post_targets": ("posts (jobs and apprenticeships) in plans' targets", "people"),
    "esp_posts": ("plan posts delivered (monitored plans deliver more of their targets)", "people"),
    "esp_local_hires": ("local claimants hired into plan posts", "people"),
    "esp_apprenticeships": ("apprenticeships in plan posts", "people"),
    "developer_contribution_net": (
        "developers' contributions paid less what the skills fund spent on training the Exchequer "
        "would otherwise pay (a public saving, counted there); negative when the fund spends earlier savings",
        "£",
    ),
}


def report(w: World) -> dict[str, np.ndarray]:
    """The month's schemes and plans (zero before the regime starts), and the contributions net of
    the public training money they replaced (from the ledger)."""
    none = np.zeros(w.n_districts)
    out = {key: w.developments.get(key, none).astype(np.float64) for key in DEVELOPMENT_COLUMNS}
    out["developer_contribution_net"] = w.ledger.flows_pounds("developer_skills_contribution") - w.ledger.flows_pounds(
        "training_skills_fund"
    )
    return out


MECHANISM = Mechanism(
    name="developers",
    doc=__doc__ or "",
    parameters={
        # arrivals: construction output by type, scheme sizes in planning's units
        "dev_share_residential": probability(),
        "dev_share_infrastructure": probability(),
        "dev_dwellings_mean": between(1.0, 1e4),
        "dev_dwellings_sigma": between(0.1, 4.0),
        "dev_cost_per_dwelling": between(1e4, 1e7),
        "dev_floorspace_mean_m2": between(10.0, 1e6),
        "dev_floorspace_sigma": between(0.1, 4.0),
        "dev_cost_per_m2": between(100.0, 1e5),
        "dev_infrastructure_mean_m": between(0.01, 1e4),
        "dev_infrastructure_sigma": between(0.1, 4.0),
        "dev_infrastructure_s106_share": probability(),
        # eligibility
        "esp_threshold_dwellings": at_least_zero(1e4),
        "esp_threshold_floorspace_m2": at_least_zero(1e6),
        "esp_threshold_infrastructure_m": at_least_zero(1e4),
        "esp_viable_share": probability(),
        "esp_large_scheme_m": at_least_zero(1e5),
        # plans
        "esp_plan_share_brokered": probability(),
        "esp_plan_share_unbrokered": probability(),
        # targets, contributions, delivery
        "esp_posts_per_m": at_least_zero(100.0),
        "esp_posts_per_m_large": at_least_zero(100.0),
        "esp_contribution_per_m": at_least_zero(1e6),
        "esp_delivery_monitored": probability(),
        "esp_delivery_unmonitored": probability(),
        "esp_paid_unmonitored": probability(),
        "apprenticeship_share": probability(),
        # the council's brokerage staff
        "brokerage_hours_per_plan": at_least_zero(1e4),
        "brokerage_cost_per_hour": at_least_zero(1e3),
    },
    levers={"brokerage": lever(bool, "councils broker and monitor employment-and-skills plans for major developments")},
    outputs=tuple(Output(k, doc, unit) for k, (doc, unit) in DEVELOPMENT_COLUMNS.items()),
    report=report,
    postings={
        "brokerage": Posting(
            "council", "economy", "employment_support", "councils' staff negotiating and monitoring developers' plans"
        ),
        "developer_skills_contribution": Posting(
            "developers", "skills_fund", "private", "developers' contributions to the district's skills fund"
        ),
    },
)
