"""Output measures: every named quantity computed from a run's month x district results, defined once.

`compare`, `claims`, `report`, `sensitivity`, `summary` (the `run` and `demo` tables), the targets
that calibration and validation read, and the model's Mesa reporters all take their measures from
`MEASURES` here, so a name means one computation everywhere. To add a measure, add one `Measure`
below; `labourlab compare` shows it once it is named in `compare.SHOWN`, and a claims file or an
experiment's `[outputs.*]` can name it at once.

A measure is read off the month totals (all districts added, one row a month):

1. its `numerator` columns are added month by month (and its `denominator` columns, for a ratio);
2. the months of its `window` are taken: the whole run, or the last `LAST_MONTHS` months;
3. `how` turns them into one figure:
   - `total`: the numerator's total over the window;
   - `mean`: that total over the number of months (a mean a month: stocks such as `employed`);
   - `per_year`: that total over the number of years;
   - `ratio`: the numerator's total over the denominator's (NaN when the denominator is not positive);
   - `hazard`: the mean over months of this month's numerator over last month's denominator
     (a flow over the stock it came from);
   - `pooled_hazard`: the same flows and stocks, each totalled over the window before dividing;
4. the figure is divided by `scale` (1e6 for money in £m).

Steps 1-3 need only column totals, except the hazards (two consecutive months), so a measure is also
evaluated from a mapping of column -> total (`evaluate_totals`): one month's row gives that month's
value (what the Mesa reporters show), a running total gives the value so far.

This module sits below the model, experiment and analysis layers, which import it; it imports none of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

LAST_MONTHS = 12  # "the last months" of a run: a year, so seasonal or annual effects average out

Unit = Literal["count", "gbp", "gbp_m", "share", "ratio"]  # gbp_m: £ million; share: a fraction of a whole
How = Literal["total", "mean", "per_year", "ratio", "hazard", "pooled_hazard"]
Window = Literal["run", "last"]
Better = Literal["higher", "lower"]
Total = float | np.ndarray  # a column's total, or its per-district totals (which are added)

# The Work Programme's payment groups, as the model names them, with labels.
GROUP_LABELS: dict[str, str] = {
    "jsa_18_24": "JSA 18-24",
    "jsa_25_plus": "JSA 25+",
    "jsa_ex_ib": "JSA ex-IB",
    "esa_new": "ESA new claimants",
    "esa_ex_ib": "ESA ex-IB",
    "jsa_early_access": "JSA early access",
    "esa_volunteer": "ESA volunteers",
}

_RATIOS = ("ratio", "hazard", "pooled_hazard")


@dataclass(frozen=True)
class Measure:
    """One named quantity of a run; see the module's docstring for how it is computed."""

    name: str
    label: str
    unit: Unit
    how: How
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()
    window: Window = "run"
    scale: float = 1.0  # the figure is divided by this: 1e6 for £m
    better: Better | None = None  # which way is better, where that is not a matter of opinion
    decimals: int = 0  # the decimals a table shows by default
    part_of: str | None = None  # a breakdown of this measure (tables indent it under it)

    def __post_init__(self) -> None:
        if not self.numerator:
            raise ValueError(f"measure {self.name!r}: expected at least one numerator column")
        if (self.how in _RATIOS) != bool(self.denominator):
            raise ValueError(f"measure {self.name!r}: a denominator is needed with how = {self.how!r} and only then")

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of the results the measure reads."""
        return tuple(dict.fromkeys((*self.numerator, *self.denominator)))

    def value(self, months: pd.DataFrame, last: pd.DataFrame | None = None) -> float:
        """The measure from month totals (`month_totals`); `last` is the window of a `last` measure
        (default: the last LAST_MONTHS months of `months`)."""
        frame = months if self.window == "run" else (months.iloc[-LAST_MONTHS:] if last is None else last)
        if self.how == "hazard":
            if len(frame) < 2:
                return math.nan
            flow = _added(frame, self.numerator).to_numpy()
            stock = _added(frame, self.denominator).to_numpy()
            return float((flow[1:] / stock[:-1]).mean()) / self.scale
        if self.how == "pooled_hazard":
            flow, stock = _added(frame, self.numerator), _added(frame, self.denominator)
            return _ratio(flow.iloc[1:].sum(), stock.iloc[:-1].sum()) / self.scale
        if self.how == "ratio":
            num, den = _added(frame, self.numerator).sum(), _added(frame, self.denominator).sum()
            return _ratio(num, den) / self.scale
        return self._express(float(_added(frame, self.numerator).sum()), len(frame))

    def from_totals(self, totals: Mapping[str, Total], months: int = 1) -> float:
        """The measure from column totals over `months` months (one month's row: that month's value)."""
        if self.how in ("hazard", "pooled_hazard"):
            raise ValueError(f"measure {self.name!r} needs consecutive months, not totals")
        num = sum(float(np.sum(totals[c])) for c in self.numerator)
        if self.how == "ratio":
            return _ratio(num, sum(float(np.sum(totals[c])) for c in self.denominator)) / self.scale
        return self._express(num, months)

    def series(self, months: pd.DataFrame, cumulative: bool = False) -> pd.Series:
        """The measure month by month: each month alone, or (`cumulative`) the months so far."""
        num = _added(months, self.numerator).astype(float)
        den = _added(months, self.denominator).astype(float) if self.denominator else None
        n = pd.Series(np.arange(1, len(months) + 1, dtype=float), index=months.index) if cumulative else 1.0
        if self.how in ("hazard", "pooled_hazard"):
            assert den is not None
            stock = den.shift(1)  # last month's
            if self.how == "pooled_hazard" and cumulative:
                out = num.where(stock.notna()).cumsum() / stock.cumsum().where(stock.cumsum() > 0)
            else:
                monthly = num / stock.where(stock > 0)
                out = monthly.expanding().mean() if cumulative else monthly
        elif self.how == "ratio":
            assert den is not None
            if cumulative:
                num, den = num.cumsum(), den.cumsum()
            out = num / den.where(den > 0)
        else:
            total = num.cumsum() if cumulative else num
            out = total if self.how == "total" else total / n if self.how == "mean" else total / (n / 12.0)
        return out / self.scale

    def _express(self, total: float, months: int) -> float:
        if self.how in ("mean", "per_year") and months <= 0:
            return math.nan  # a mean over no months
        if self.how == "mean":
            total = total / months
        elif self.how == "per_year":
            total = total / (months / 12.0)
        return total / self.scale


def _added(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """The columns added month by month (left to right, as `a + b + c` would)."""
    out = frame[columns[0]]
    for c in columns[1:]:
        out = out + frame[c]
    return out


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else math.nan


# ------------------------------------------------------------------------------ evaluating
def month_totals(results: pd.DataFrame) -> pd.DataFrame:
    """Month x district results -> one row a month, every numeric column added over the districts."""
    return results.groupby("month").sum(numeric_only=True).sort_index()


def get(measure: str | Measure) -> Measure:
    """A measure by name (or the measure itself); a KeyError names the known ones."""
    if isinstance(measure, Measure):
        return measure
    try:
        return MEASURES[measure]
    except KeyError:
        raise KeyError(f"unknown measure {measure!r}; known: {', '.join(MEASURES)}") from None


def evaluate(measure: str | Measure, results: pd.DataFrame, last_months: int = LAST_MONTHS) -> float:
    """A measure of one run from its month x district results (the `monthly` table)."""
    months = month_totals(results)
    return get(measure).value(months, months.iloc[-last_months:])


def evaluate_totals(measure: str | Measure, totals: Mapping[str, Total], months: int = 1) -> float:
    """A measure from a mapping of column -> total over `months` months (arrays of per-district
    totals are added): one month's row gives the month's value, running totals the value so far."""
    return get(measure).from_totals(totals, months)


def lacking(measure: str | Measure, columns: Iterable[str]) -> list[str]:
    """The columns a measure reads that are not among `columns` (older results lack some)."""
    have = set(columns)
    return [c for c in get(measure).columns if c not in have]


# ------------------------------------------------------------------------------- the registry
_LAST = f"the last {LAST_MONTHS} months"


def _rate(name: str, label: str, num: str, den: tuple[str, ...], better: Better | None, decimals: int = 3) -> Measure:
    """A share over the last months: the numerator's total over the denominator's."""
    return Measure(name, label, "share", "ratio", (num,), den, "last", better=better, decimals=decimals)


def _hazards(flow: str, stock: str, label: str, better: Better, decimals: int) -> list[Measure]:
    """A monthly hazard two ways: summary's mean of the monthly hazards, and pooled (the targets')."""
    return [
        Measure(f"{flow}_hazard", label, "share", "hazard", (flow,), (stock,), better=better, decimals=decimals),
        Measure(
            f"{flow}_hazard_pooled",
            f"{label}, pooled over the run",
            "share",
            "pooled_hazard",
            (flow,),
            (stock,),
            better=better,
            decimals=decimals,
        ),
    ]


def _count(name: str, label: str, column: str, how: How = "total", **kw: Any) -> Measure:
    """A count read off one column: people, jobs, firms."""
    return Measure(name, label, "count", how, (column,), **kw)


def _money(name: str, what: str, columns: tuple[str, ...], note_m: str = "", note_year: str = "") -> list[Measure]:
    """A sum of money three ways: £m over the run (`name`), £ a year and £ over the run (claims)."""
    m_label, year_label = f"{what} £m {note_m}".strip(), f"{what} a year {note_year}".strip()
    return [
        Measure(name, m_label, "gbp_m", "total", columns, scale=1e6, better="lower", decimals=2),
        Measure(f"{name}_per_year", year_label, "gbp", "per_year", columns, better="lower"),
        Measure(f"{name}_total", f"{what} over the run", "gbp", "total", columns, better="lower"),
    ]


def _by_group(total: str, what: str) -> list[Measure]:
    """A total's breakdown by the Work Programme's payment groups (columns `<total>_<group>`)."""
    return [
        _count(f"{total}_{g}", f"{what}: {lab}", f"{total}_{g}", better="higher", part_of=total)
        for g, lab in GROUP_LABELS.items()
    ]


def _measures() -> list[Measure]:
    return [
        # People: stocks as a mean a month; rates over the last months.
        _count("employed_mean", "employed, mean over the run (people)", "employed", "mean", better="higher"),
        _count(
            "employed_last12",
            f"employed, mean over {_LAST} (people)",
            "employed",
            "mean",
            window="last",
            better="higher",
        ),
        _count("unemployed_mean", "unemployed, mean over the run (people)", "unemployed", "mean", better="lower"),
        _rate("employment_rate", "employment rate (16-64)", "employed", ("population",), "higher"),
        _rate("unemployment_rate", "unemployment rate (ILO)", "unemployed", ("employed", "unemployed"), "lower"),
        _rate("inactivity_rate", "inactivity rate", "inactive", ("population",), None),
        _rate("ltu_share", "long-term share of unemployed", "long_term_unemployed", ("unemployed",), "lower"),
        _rate(
            "long_term_unemployment_rate",
            "long-term unemployed, share of the economically active",
            "long_term_unemployed",
            ("employed", "unemployed"),
            "lower",
        ),
        # Flows between states, over the stock they came from.
        *_hazards("u_to_e", "unemployed", "U->E monthly hazard", "higher", 4),
        *_hazards("e_to_u", "employed", "E->U monthly hazard", "lower", 5),
        # Jobs.
        _count("vacancies", "vacancies, mean a month over the run", "vacancies", "mean"),
        Measure(
            "unemployed_per_vacancy",
            "unemployed per vacancy",
            "ratio",
            "ratio",
            ("unemployed",),
            ("vacancies",),
            "last",
            better="lower",
            decimals=2,
        ),
        _rate(
            "vacancy_rate",
            "vacancy rate (vacancies over vacancies + employed)",
            "vacancies",
            ("vacancies", "employed"),
            None,
            4,
        ),
        _count(
            "small_firm_jobs",
            f"small-business jobs (mean, last {LAST_MONTHS} months)",
            "small_firm_jobs",
            "mean",
            window="last",
            better="higher",
        ),
        # The same figure under the name claims files use.
        _count(
            "small_firm_jobs_last12",
            f"small-business jobs, mean over {_LAST}",
            "small_firm_jobs",
            "mean",
            window="last",
            better="higher",
        ),
        _count("hub_new_firms", "firms taken on by hubs over the run", "hub_new_firms"),
        # The programme.
        _count("participants", "programme participants, mean a month over the run", "participants", "mean"),
        _count("referrals", "programme referrals", "programme_referrals"),
        _count("job_outcomes", "programme job outcomes", "programme_job_outcomes", better="higher"),
        # Conditionality.
        _count("sanctions", "JSA sanctions", "sanctions"),
        *_by_group("job_outcomes", "job outcomes"),
        _count(
            "people_sustained_in_work",
            "people sustained in work (six months after entering work from out of work, once each)",
            "people_sustained_in_work",
            better="higher",
        ),
        _count(
            "sustained_job_spells",
            "jobs reaching six months (any holder, job-to-job moves included)",
            "sustained_job_spells",
        ),
        Measure(
            "parked_share",
            "parked: high-barrier participants seeking work with almost no adviser time (share)",
            "share",
            "ratio",
            ("parked",),
            ("high_barrier_seeking",),
            better="lower",
            decimals=3,
        ),
        # Providers as businesses (issue 23): their staff and accounts.
        Measure(
            "adviser_caseload",
            "participants per adviser (a provider paid by results chooses its advisers)",
            "ratio",
            "ratio",
            ("participants",),
            ("programme_advisers",),
            decimals=0,
        ),
        Measure(
            "provider_cost_per_fee",
            "providers' staff and overheads per £ of fees and grants (below 1: a surplus)",
            "ratio",
            "ratio",
            ("programme_delivery_cost", "programme_overhead_cost"),
            ("programme_fees", "programme_grant"),
            decimals=3,
        ),
        _count(
            "provider_months_at_minimum",
            "provider-months at the contract's minimum service after a year's losses",
            "provider_at_minimum",
        ),
        # Money: £m over the run (tables), £ over the run or a year (claims, the reporters).
        *_money("public_cost", "public cost", ("public_cost",), "(benefits + support - tax)", "(net)"),
        *_money("employment_support_cost", "employment-support cost", ("employment_support_cost",)),
        *_money("business_support_cost", "business-support cost", ("business_support_cost",)),
        # Every public cost of the policies (`analysis.costing.SPENDING_TOTALS`): the numerator of
        # cost per additional job; benefits and tax are outcomes, in public_cost.
        *_money(
            "public_spending",
            "public spending on the policies",
            ("employment_support_cost", "business_support_cost"),
            "(employment + business support)",
        ),
        Measure(
            "benefits_paid",
            "benefits paid £m",
            "gbp_m",
            "total",
            ("benefit_jsa", "benefit_esa", "housing_support"),
            scale=1e6,
            decimals=2,
        ),
        Measure("tax_received", "tax and NI received £m", "gbp_m", "total", ("tax_ni",), scale=1e6, decimals=2),
        Measure(
            "cost_per_job_outcome",
            "employment-support cost per programme job outcome",
            "gbp",
            "ratio",
            ("employment_support_cost",),
            ("programme_job_outcomes",),
            better="lower",
        ),
        # Private money: developers' contributions to employment and skills.
        Measure(
            "developer_contributions",
            "developer skills contributions £m",
            "gbp_m",
            "total",
            ("developer_skills_contribution",),
            scale=1e6,
            better="higher",
            decimals=3,
        ),
        Measure(
            "developer_contribution_per_year",
            "developer skills contributions a year",
            "gbp",
            "per_year",
            ("developer_skills_contribution",),
            better="higher",
        ),
        Measure(
            "developer_contribution_total",
            "developer skills contributions over the run",
            "gbp",
            "total",
            ("developer_skills_contribution",),
            better="higher",
        ),
        # Developers' contributions net of the training money they replaced: the skills fund's
        # spending on courses the Exchequer would otherwise pay is a public saving (it is not in
        # public spending), so it is not counted again as developers' gain (agents.Council).
        Measure(
            "developer_contribution_net_per_year",
            "developer skills contributions a year, net of those replacing Exchequer training",
            "gbp",
            "per_year",
            ("developer_contribution_net",),
            better="higher",
        ),
        Measure(
            "developer_money_replacing_public_per_year",
            "developer contributions a year paying for training the Exchequer would otherwise pay (a public saving)",
            "gbp",
            "per_year",
            ("training_skills_fund",),
        ),
        # The developers' pipeline, stage by stage (developers.py): what a ratio of contributions
        # between arms is made of (claims' decomposition).
        _count("esp_schemes_eligible", "schemes eligible for an employment-and-skills plan", "esp_schemes_eligible"),
        _count("esp_plans", "employment-and-skills plans secured", "esp_plans", better="higher"),
        Measure("esp_plan_value", "construction value of schemes with a plan", "gbp", "total", ("esp_plan_value",)),
        Measure(
            "esp_contributions_secured",
            "developer skills contributions secured in plans",
            "gbp",
            "total",
            ("esp_contributions_secured",),
            better="higher",
        ),
        _count("esp_post_targets", "posts in employment-and-skills plans' targets", "esp_post_targets", decimals=1),
        _count("esp_posts_delivered", "employment-and-skills plan posts delivered", "esp_posts", decimals=1),
        # Employment and skills plans.
        _count(
            "esp_apprenticeships",
            "apprenticeships (employment and skills plans)",
            "esp_apprenticeships",
            better="higher",
            decimals=1,
        ),
        _count(
            "esp_local_hires",
            "local hires (employment and skills plans)",
            "esp_local_hires",
            better="higher",
            decimals=1,
        ),
    ]


MEASURES: dict[str, Measure] = {m.name: m for m in _measures()}
