"""Write configs/scenarios/*.toml from the quarterly ONS series in docs/evidence/macro_scenarios.md.

The indices are arithmetic on the series below (copied, with their sources and quality tags, into
docs/evidence/macro_scenarios.md); run `python tools/make_scenarios.py` after changing a figure.

- demand index: employers' desired headcount per head of working age, employment rate x
  (1 + vacancies / employment), relative to the scenario's reference quarter;
- separations index: 1 + REDUNDANCY_SHARE x (redundancy rate / reference - 1): redundancies are
  about a third of the flow from settled jobs into unemployment (about 130k of about 400k a
  quarter, calibration.md s6 and the LFS redundancy level), and only that part moves with the rate.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REDUNDANCY_SHARE = 0.3

# Quarterly, 2008 Q1 .. 2015 Q4 (UK, seasonally adjusted; see docs/evidence/macro_scenarios.md).
QUARTERS = [f"{y}Q{q}" for y in range(2008, 2016) for q in range(1, 5)]
EMP_RATE = [  # employment rate 16-64, %
    72.9, 72.8, 72.5, 72.0, 71.5, 70.9, 70.7, 70.6, 70.4, 70.6, 70.7, 70.4, 70.6, 70.6, 70.3, 70.3,
    70.5, 71.0, 71.3, 71.4, 71.4, 71.5, 71.8, 72.1, 72.6, 73.0, 73.0, 73.2, 73.4, 73.5, 73.7, 74.1,
]  # fmt: skip
VACANCIES = [  # thousands, three-month average
    680, 660, 620, 530, 470, 435, 428, 448, 470, 480, 470, 481, 470, 460, 465, 463,
    470, 467, 480, 494, 500, 520, 545, 570, 600, 640, 660, 690, 700, 720, 740, 750,
]  # fmt: skip
EMPLOYMENT = [  # millions, 16+
    29.50, 29.55, 29.45, 29.30, 29.10, 28.95, 28.93, 28.92, 28.90, 29.05, 29.15, 29.10, 29.20, 29.25, 29.10, 29.12,
    29.23, 29.48, 29.60, 29.68, 29.70, 29.80, 29.95, 30.15, 30.40, 30.60, 30.75, 30.90, 31.05, 31.10, 31.20, 31.42,
]  # fmt: skip
UNEMP_RATE = [  # ILO unemployment rate 16+, %
    5.2, 5.3, 5.9, 6.3, 7.1, 7.8, 7.8, 7.8, 8.0, 7.8, 7.8, 7.9, 7.8, 7.9, 8.3, 8.4,
    8.2, 8.0, 7.8, 7.7, 7.8, 7.8, 7.6, 7.2, 6.8, 6.3, 6.0, 5.7, 5.5, 5.6, 5.3, 5.1,
]  # fmt: skip
REDUNDANCY = [  # redundancies per 1,000 employees
    4.7, 5.2, 6.5, 8.8, 11.8, 9.5, 7.5, 6.8, 6.3, 6.0, 6.0, 6.0, 6.2, 6.0, 6.5, 6.3,
    6.0, 5.5, 5.5, 5.3, 5.3, 5.0, 4.8, 4.8, 4.6, 4.5, 4.3, 4.3, 4.2, 4.3, 4.3, 4.3,
]  # fmt: skip


def demand(i: int) -> float:
    return EMP_RATE[i] * (1 + VACANCIES[i] / 1000 / EMPLOYMENT[i])


def toml_list(xs: list[float], nd: int = 4) -> str:
    return "[" + ", ".join(f"{x:.{nd}f}".rstrip("0").rstrip(".") if "." in f"{x:.{nd}f}" else str(x) for x in xs) + "]"


SOURCES = [
    "docs/evidence/macro_scenarios.md: the quarterly ONS series (Labour Force Survey employment rate 16-64, "
    "employment 16+, ILO unemployment rate; Vacancy Survey; LFS redundancy rate), each figure tagged [F] "
    "(found in the cited bulletin or report) or [E] (interpolated between found figures)",
    "ONS Labour Market Statistics bulletins as reported: Jul-Sep 2009 unemployment 7.8%, 2.46m, employment "
    "28.93m, vacancies 428k in Aug-Oct 2009, the series low (IBTimes); Sep-Nov 2011 unemployment 8.4%, "
    "2.685m, employment 29.12m, vacancies 463k in Oct-Dec 2011 (HR Magazine, Debtwizard); Apr-Jun 2012 "
    "8.0%, 71.0%, 29.48m (ONS bulletin, Aug 2012); pre-recession vacancy peak 694k (The Times, Jan 2013)",
    "ONS redundancy rate per 1,000 employees, first quarter: 4.7 in 2008, 11.8 in 2009 (Hansard HC Deb "
    "17 Mar 2010, Redundancy: Public Sector); 225,000 redundancies Sep-Nov 2008 (Evening Standard, Jan 2009)",
    "calibration.md s6: 2015 unemployment 5.6% (Dec 14-Feb 15), 5.5% (Feb-Apr), 5.1% (Oct-Dec); employment "
    "31.05m to 31.42m, rate 73.4% to 74.1%; vacancies 545k (Aug-Oct 2013), about 720k mid-2015 [E]",
]


def write(name: str, description: str, first: int, last: int, ref: int, settle: bool, notes: str) -> None:
    idx = range(first, last + 1)
    d = [demand(i) / demand(ref) for i in idx]
    s = [1 + REDUNDANCY_SHARE * (REDUNDANCY[i] / REDUNDANCY[ref] - 1) for i in idx]
    body = [
        "# Made by tools/make_scenarios.py from docs/evidence/macro_scenarios.md: edit those, not this file.",
        f'name = "{name}"',
        f'description = "{description}"',
        f'start = "{QUARTERS[first]}"',
        "step_months = 3",
        f"settle = {'true' if settle else 'false'}",
        f"demand = {toml_list(d)}",
        f"separations = {toml_list(s)}",
        "sources = [",
        *(f'    "{x}",' for x in SOURCES),
        "]",
        f'notes = "{notes}"',
        "",
        "[series]  # the ONS series at the same quarters, for comparison (not read by the model)",
        f"quarter_index = {list(idx)}  # 0 = 2008Q1",
        f"unemployment_rate = {toml_list([UNEMP_RATE[i] for i in idx], 1)}",
        f"vacancies_thousands = {toml_list([float(VACANCIES[i]) for i in idx], 0)}",
        f"employment_rate = {toml_list([EMP_RATE[i] for i in idx], 1)}",
        f"redundancies_per_1000 = {toml_list([REDUNDANCY[i] for i in idx], 1)}",
        "",
    ]
    (ROOT / "configs" / "scenarios" / f"{name}.toml").write_text("\n".join(body))


if __name__ == "__main__":
    write(
        "recession_2008",
        "The 2008-09 recession and its slow recovery, 2008 Q1 to 2015 Q4 (32 quarters), relative to 2008 Q1.",
        0,
        31,
        0,
        False,
        "Month 0 is 2008 Q1, whose unemployment (5.2%) was close to the mid-2015 figures places are built from "
        "(5.5%). Demand: employment rate x (1 + vacancies/employment) over 2008 Q1's; separations: 1 + 0.3 x "
        "(redundancy rate over 2008 Q1's - 1). The demand path carries the layoffs of shrinking firms itself, so "
        "only redundancies' share of settled jobs' separations is raised.",
    )
    write(
        "slack_2011",
        "The slack market of the Work Programme's launch: 2011 Q2 to 2015 Q4, relative to mid-2015, "
        "settled into before month 0.",
        13,
        31,
        29,
        True,
        "Relative to 2015 Q2 (the figures places are built from): the place settles into 2011 Q2's demand in "
        "the burn-in (settle = true), so month 0 finds a slack market (unemployment about 8% in the data), "
        "which then recovers along the series to 2015 Q4.",
    )
    (ROOT / "configs" / "scenarios" / "steady.toml").write_text(
        '# The default: the economy the place was built in, throughout.\nname = "steady"\n'
        'description = "No aggregate shock: the place\'s own figures (about 2015) hold throughout."\n'
        "step_months = 1\ndemand = [1.0]\nseparations = [1.0]\n"
        'sources = ["Assumption: no aggregate shock; the stationary baseline every run had before scenarios '
        '(mechanisms/business.py)."]\n'
    )
