"""LabourLab in the browser: the centralised and cooperative regimes side by side on one seed.

Run with `labourlab viz` (or `solara run simulation/app.py`). `SideBySide` holds two
LabourMarketModels built from the same place, seed and lever overrides, differing only in the
regime, and steps them together; its DataCollector holds paired series (`<measure>_centralised`,
`<measure>_cooperative`) for the plots. The controls set the place, the seed and a few levers that
apply to both arms ("regime default" leaves each arm's own value); Reset applies them.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz, make_plot_component

from simulation.config import make_scenario
from simulation.model import LabourMarketModel
from simulation.people import UNEMPLOYED

PLACES = ["testville", "southampton", "stevenage"]
DEFAULT = "regime default"
# Paired measures: each arm's model reporter of the same name.
MEASURES = (
    "unemployment_rate",
    "long_term_unemployment_rate",
    "employment_rate",
    "participants",
    "job_outcomes_cumulative",
    "small_firm_jobs",
    "employment_support_cost_cumulative",
    "public_cost_cumulative",
    "developer_contributions_cumulative",
)
# Lever controls: model keyword -> (dotted lever key, choices other than the regime default, cast).
LEVERS: dict[str, tuple[str, list[str], Any]] = {
    "referral_month_jsa_25_plus": ("groups.jsa_25_plus.referral_month", ["0", "3", "6", "9", "12"], int),
    "caseload": ("caseload", ["30", "50", "80", "120", "150"], int),
    "hub_firms_per_year": ("hub_firms_per_year", ["0", "10", "30", "60"], float),
    "placements_per_10k": ("placements_per_10k", ["0", "0.1", "1", "10", "25"], float),
    "brokerage": ("brokerage", ["on", "off"], lambda v: v == "on"),
}
SAMPLE = 1000  # jobseekers shown in the scatter


def arm_names(arms: str = "centralised,cooperative") -> list[str]:
    """The regimes shown side by side, from a comma-separated list (the first arm's jobseekers are plotted)."""
    return [a.strip() for a in arms.split(",") if a.strip()]


ARMS = arm_names()


def lever_overrides(choices: dict[str, str]) -> dict[str, Any]:
    """Dotted lever overrides from the controls' choices; "regime default" sets nothing."""
    out: dict[str, Any] = {}
    for name, value in choices.items():
        if value in (None, "", DEFAULT):
            continue
        key, _, cast = LEVERS[name]
        out[key] = cast(str(value))
    return out


class SideBySide(mesa.Model):
    """Two LabourMarketModels (same place, seed and overrides; different regimes) stepped together."""

    def __init__(
        self,
        place: str = "testville",
        seed: int | str = 1,
        arms: str | None = None,
        months: int = 60,
        burn_in: int = 24,
        lead_in: int = 24,
        referral_month_jsa_25_plus: str = DEFAULT,
        caseload: str = DEFAULT,
        hub_firms_per_year: str = DEFAULT,
        placements_per_10k: str = DEFAULT,
        brokerage: str = DEFAULT,
    ) -> None:
        # An edited InputText gives a string; anything unusable falls back to seed 1.
        try:
            seed = int(str(seed).strip())
        except ValueError:
            seed = 1
        super().__init__(rng=seed)
        self.seed = seed
        self.place = place
        self.regimes = tuple(arm_names(arms) if arms else ARMS)
        self.overrides = lever_overrides(
            {
                "referral_month_jsa_25_plus": referral_month_jsa_25_plus,
                "caseload": caseload,
                "hub_firms_per_year": hub_firms_per_year,
                "placements_per_10k": placements_per_10k,
                "brokerage": brokerage,
            }
        )
        self.arms: dict[str, LabourMarketModel] = {}
        for regime in self.regimes:
            scenario = make_scenario(
                place, regime, months=months, burn_in=burn_in, lead_in=lead_in, lever_overrides=self.overrides
            )
            self.arms[regime] = LabourMarketModel(seed=seed, config=scenario, agent_views=False)
        # A fixed sample of rows of the first arm for the people view (rows persist through a run).
        first = self.arms[self.regimes[0]]
        self.sample_key = np.random.default_rng(seed).random(first.people.n)
        reporters: dict[str, Any] = {"month": lambda m: float(m.month)}
        for measure in MEASURES:
            for regime in self.regimes:
                reporters[f"{measure}_{regime}"] = _arm_reporter(regime, measure)
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    @property
    def month(self) -> int:
        return self.arms[self.regimes[0]].month

    def step(self) -> None:
        for arm in self.arms.values():
            arm.step()
        self.running = any(arm.running for arm in self.arms.values())
        self.datacollector.collect(self)


def _arm_reporter(regime: str, measure: str):
    def f(m: SideBySide) -> float:
        return float(m.arms[regime].datacollector.model_vars[measure][-1])

    return f


# ------------------------------------------------------------------------------- components
def _fmt_money(x: float) -> str:
    return f"£{x / 1e6:,.1f}m"


def Summary(model: SideBySide):
    """Current month and key figures per arm."""
    rows = [
        ("Unemployment rate", "unemployment_rate", lambda x: f"{x:.1%}"),
        ("Long-term unemployment rate", "long_term_unemployment_rate", lambda x: f"{x:.2%}"),
        ("Programme participants", "participants", lambda x: f"{x:,.0f}"),
        ("Job outcomes (cumulative)", "job_outcomes_cumulative", lambda x: f"{x:,.0f}"),
        ("Jobs in small firms", "small_firm_jobs", lambda x: f"{x:,.0f}"),
        ("Employment support cost (cumulative)", "employment_support_cost_cumulative", _fmt_money),
        ("Developer contributions (cumulative)", "developer_contributions_cumulative", _fmt_money),
    ]
    head = "| | " + " | ".join(model.regimes) + " |\n|---|" + "---:|" * len(model.regimes) + "\n"
    body = "".join(
        f"| {label} | "
        + " | ".join(fmt(model.arms[r].datacollector.model_vars[key][-1]) for r in model.regimes)
        + " |\n"
        for label, key, fmt in rows
    )
    levers = ", ".join(f"`{k} = {v}`" for k, v in model.overrides.items()) or "each regime's own"
    months = model.arms[model.regimes[0]].months
    return solara.Markdown(
        f"### {model.place.title()}, seed {model.seed}: month {model.month} of {months}\n\n"
        f"Levers applied to both arms: {levers}\n\n" + head + body
    )


def Jobseekers(model: SideBySide):
    """A sample of the first arm's unemployed: barrier against months unemployed, coloured by adviser hours."""
    regime = model.regimes[0]
    people = model.arms[regime].people
    rows = np.flatnonzero(people.status == UNEMPLOYED)
    rows = rows[np.argsort(model.sample_key[rows])[:SAMPLE]]
    hours = people.support_hours[rows]
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    sc = ax.scatter(
        people.barrier[rows],
        people.months_in_status[rows],
        c=hours,
        cmap="viridis",
        vmin=0,
        vmax=max(float(hours.max(initial=0.0)), 1.0),
        s=9,
        alpha=0.8,
    )
    fig.colorbar(sc, ax=ax, label="adviser hours this month")
    parked = int(((people.barrier[rows] >= 0.5) & (hours == 0)).sum())
    ax.set_xlabel("barrier to work (0-1)")
    ax.set_ylabel("months unemployed")
    ax.set_title(f"{regime}: {rows.size} unemployed jobseekers, month {model.month} ({parked} high-barrier, 0 hours)")
    ax.title.set_fontsize(9)
    fig.tight_layout()
    return solara.FigureMatplotlib(fig, format="png")


def _pair(measure: str) -> dict[str, str]:
    return {f"{measure}_{arm}": colour for arm, colour in zip(ARMS, ("tab:red", "tab:blue", "tab:green"), strict=False)}


def _choices(name: str, label: str) -> dict[str, Any]:
    return {"type": "Select", "value": DEFAULT, "values": [DEFAULT, *LEVERS[name][1]], "label": label}


model_params: dict[str, Any] = {
    "place": {"type": "Select", "value": "testville", "values": PLACES, "label": "Place"},
    "seed": {"type": "InputText", "value": "1", "label": "Seed"},
    "referral_month_jsa_25_plus": _choices("referral_month_jsa_25_plus", "Referral month, JSA 25+"),
    "caseload": _choices("caseload", "Caseload per adviser"),
    "hub_firms_per_year": _choices("hub_firms_per_year", "Hub firms per year"),
    "placements_per_10k": _choices("placements_per_10k", "Placements per 10k"),
    "brokerage": _choices("brokerage", "Developer brokerage"),
}

components = [
    Summary,
    make_plot_component(_pair("unemployment_rate")),
    make_plot_component(_pair("long_term_unemployment_rate")),
    make_plot_component(_pair("job_outcomes_cumulative")),
    make_plot_component(_pair("employment_support_cost_cumulative")),
    make_plot_component(_pair("small_firm_jobs")),
    make_plot_component(_pair("developer_contributions_cumulative")),
    Jobseekers,
]

page = SolaraViz(
    SideBySide(),
    components=components,
    model_params=model_params,
    name="LabourLab: two regimes side by side",
)
