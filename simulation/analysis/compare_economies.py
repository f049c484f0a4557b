"""`compare` on an experiment that crosses arms with macroeconomic scenarios (issue 24).

An experiment with `economies = [...]` names each scenario `ARM~ECONOMY` (`experiment_plan`), and
every cell runs on the same seeds. Comparing an arm in one economy with an arm in another would
mix the policy's effect with the economy's, so the comparison is made economy by economy: in each,
the arms against that economy's baseline and against each other, exactly as `compare` does for
one economy (`compare.analyse`). The ranking across the cycle is then one table: for each main
measure and each pair of arms, the paired difference with its 90% interval in every economy, and
whether its sign holds in all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation.analysis import compare
from simulation.analysis.results_io import arm_names
from simulation.results import atomic_write

SEPARATOR = "~"
# The measures the cross-economy table shows (those a report lacks are left out).
RANKED = (
    "employed_last12",
    "people_sustained_in_work",
    "public_cost",
    "public_spending",
    "employment_support_cost",
    "parked_share",
    "adviser_caseload",
)
COLUMNS = ["measure", "label", "arm", "versus", "economy", "n_seeds", "mean", "low", "high", "sign"]


def split(name: str) -> tuple[str, str | None]:
    """(arm, economy) of a scenario name; economy None for a run without one."""
    arm, sep, economy = name.partition(SEPARATOR)
    return (arm, economy) if sep else (name, None)


def economies_in(folder: Path) -> dict[str, list[str]]:
    """Economy -> the scenario names run in it, in the folder's order; empty if no run names one."""
    out: dict[str, list[str]] = {}
    for name in arm_names(folder):
        _, economy = split(name)
        if economy is not None:
            out.setdefault(economy, []).append(name)
    return out


@dataclass
class EconomyReports:
    folder: Path
    baseline: str
    reports: dict[str, compare.Report]  # economy -> that economy's comparison
    ranking: pd.DataFrame  # COLUMNS: every pair's difference in every economy


def analyse(
    folder: Path, baseline: str = "no_programme", arms: list[str] | None = None, precision: float = compare.PRECISION
) -> EconomyReports:
    """One `compare.analyse` per economy (arms `ARM~ECONOMY` against `BASELINE~ECONOMY`), and the
    ranking table across them. `arms` (plain arm names) restricts and orders the arms in each."""
    by_economy = economies_in(folder)
    reports: dict[str, compare.Report] = {}
    for economy, names in by_economy.items():
        wanted = [f"{a}{SEPARATOR}{economy}" for a in arms] if arms else names
        reports[economy] = compare.analyse(
            folder, baseline=f"{baseline}{SEPARATOR}{economy}", arms=wanted, precision=precision
        )
    return EconomyReports(Path(folder), baseline, reports, ranking(reports))


def ranking(reports: dict[str, compare.Report]) -> pd.DataFrame:
    """Each pair's paired difference in each economy, for the RANKED measures; `sign` is +1, -1,
    or 0 where the 90% interval includes zero."""
    rows = []
    for economy, rep in reports.items():
        d = rep.differences
        shown = d[
            d["measure"].isin(RANKED) & d["mean"].notna()
        ]  # not a measure undefined in an arm (no programme's caseload)
        for _, r in shown.iterrows():
            # An exactly zero difference (a cost neither arm has) has no sign, though its interval is [0, 0].
            sign = 0 if r["interval_includes_zero"] or r["mean"] == 0 else (1 if r["mean"] > 0 else -1)
            rows.append(
                {
                    "measure": r["measure"],
                    "label": r["label"],
                    "arm": split(r["minuend"])[0],
                    "versus": split(r["subtrahend"])[0],
                    "economy": economy,
                    "n_seeds": r["n_seeds"],
                    "mean": r["mean"],
                    "low": r["low"],
                    "high": r["high"],
                    "sign": sign,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Per measure and pair: whether the difference has the same clear sign in every economy (or is
    exactly zero in every one)."""
    out = []
    for (measure, arm, versus), g in table.groupby(["measure", "arm", "versus"], sort=False):
        signs = set(g["sign"])
        if (g["mean"] == 0).all():
            holds = "no difference in any economy"
        else:
            holds = "same sign everywhere" if len(signs) == 1 and 0 not in signs else "differs or unclear"
        where = ", ".join(
            f"{e}: {'+' if s > 0 else '-' if s < 0 else '?'}" for e, s in zip(g["economy"], g["sign"], strict=True)
        )
        out.append({"measure": measure, "arm": arm, "versus": versus, "verdict": holds, "by_economy": where})
    return pd.DataFrame(out)


def _num(x: float) -> str:
    return f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.3g}"


def _cell(r: pd.Series) -> str:
    return f"{_num(r['mean'])} [{_num(r['low'])}, {_num(r['high'])}]"


def markdown(result: EconomyReports) -> str:
    """The ranking across economies as a markdown table (one row per measure and pair)."""
    t = result.ranking
    if t.empty:
        return "No differences to rank.\n"
    economies = list(result.reports)
    lines = [
        "# The ranking across economies",
        "",
        f"Paired differences (mean [90% interval] over seeds) in each economy, from `{result.folder}`; "
        "each economy's arms are compared with that economy's baseline and with each other, on the same seeds.",
        "",
        "| measure | arms | " + " | ".join(economies) + " | sign holds |",
        "|---|---|" + "---|" * len(economies) + "---|",
    ]
    v = verdicts(t).set_index(["measure", "arm", "versus"])
    for (measure, arm, versus), g in t.groupby(["measure", "arm", "versus"], sort=False):
        cells = {e: _cell(r) for e, (_, r) in zip(g["economy"], g.iterrows(), strict=True)}
        label = g["label"].iloc[0]
        lines.append(
            f"| {label} | {arm} - {versus} | "
            + " | ".join(cells.get(e, "") for e in economies)
            + f" | {v.loc[(measure, arm, versus), 'verdict']} |"
        )
    return "\n".join(lines) + "\n"


def write(result: EconomyReports, out_dir: Path) -> list[Path]:
    """Each economy's compare tables in `out_dir/<economy>/`, the ranking as ranking_by_economy.csv and .md."""
    paths: list[Path] = []
    for economy, rep in result.reports.items():
        paths += compare.write_report(rep, out_dir / economy)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv = out_dir / "ranking_by_economy.csv"
    atomic_write(csv, lambda p: result.ranking.to_csv(p, index=False))
    md = out_dir / "ranking_by_economy.md"
    text = markdown(result)
    atomic_write(md, lambda p: p.write_text(text, encoding="utf-8"))
    return [*paths, csv, md]
