"""`labourlab claims` on an experiment crossing arms with macroeconomic scenarios (issue 24, item 4).

An experiment with `economies = [...]` names each scenario `ARM~ECONOMY` (`experiment_plan`) and
runs every cell on the same seeds. A claim compares two arms; comparing an arm in one economy with
an arm in another would mix the policy's effect with the economy's. So every claim is tested economy
by economy, exactly as `claims.analyse` tests it in a results folder of one economy: the runs of each
economy are taken under their arms' plain names (`cooperative~recession_2008` is `cooperative` in
the recession), and each claim's arms are paired on the seeds both were run on in that economy.

The claims across the cycle are then one table: each claim's model quantities (its tests: the
headline figure and those that support it) with the estimate and its 90% interval in every economy,
the verdict against the claimed value in each (model higher, model lower, consistent), and whether
that verdict is the same in every economy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.analysis import claims, results_io
from simulation.analysis.claims_render import _claimed_cell, _how_text, _interval, _verdict_cell
from simulation.analysis.compare_economies import split
from simulation.analysis.tables import Table, rich_table
from simulation.analysis.tables import markdown as to_markdown
from simulation.results import atomic_write

COLUMNS = [
    "claim",
    "label",
    "how",
    "arm",
    "versus",
    "economy",
    "n_seeds",
    "unit",
    "estimate",
    "low",
    "high",
    "claimed_low",
    "claimed_high",
    "testable",
    "verdict",
    "too_few_seeds",
    "same_in_every_economy",
    "note",
]
SAME = "same in every economy"
DIFFERS = "differs between economies"
NO_CLAIM = "no claimed value"


@dataclass
class EconomyClaims:
    folder: Path
    registry_path: Path
    reports: dict[str, claims.ClaimsReport]  # economy -> the claims tested on that economy's runs
    table: pd.DataFrame  # COLUMNS: every claim's every test in every economy
    notes: list[str] = field(default_factory=list)

    @property
    def registry_shown(self) -> str:
        return next(iter(self.reports.values())).registry_shown if self.reports else str(self.registry_path)


def order(found: list[str], experiment: dict[str, Any] | None) -> list[str]:
    """The economies in the spec's order where the experiment manifest gives it, else as found."""
    spec = (experiment or {}).get("spec")
    listed = spec.get("economies") if isinstance(spec, dict) else None
    stems = [Path(str(e)).stem for e in listed] if isinstance(listed, list) else []
    ordered = [e for e in dict.fromkeys(stems) if e in found]
    return ordered + [e for e in found if e not in ordered]


def by_economy(
    by: dict[str, dict[int, results_io.RunData]],
) -> tuple[dict[str, dict[str, dict[int, results_io.RunData]]], list[str]]:
    """economy -> plain arm name -> seed -> run; and the scenarios that name no economy."""
    out: dict[str, dict[str, dict[int, results_io.RunData]]] = {}
    plain = []
    for name, runs in by.items():
        arm, economy = split(name)
        if economy is None:
            plain.append(name)
        else:
            out.setdefault(economy, {})[arm] = runs
    return out, plain


def analyse(folder: Path, registry_path: Path | None = None) -> EconomyClaims:
    """Test every claim of the registry within each economy of the experiment in `folder`."""
    folder = Path(folder)
    registry_path = Path(registry_path) if registry_path is not None else claims.REGISTRY
    reg = claims.load_registry(registry_path)
    res = results_io.load_results(folder)
    grouped, plain = by_economy(res.by_scenario())
    notes = list(res.notes)
    if plain:
        notes.append(f"runs that name no economy, left out: {', '.join(sorted(plain))}")
    reports = {
        e: claims.analyse_scenarios(folder, res.layout, grouped[e], [], reg, registry_path)
        for e in order(list(grouped), res.experiment)
    }
    for c in reg.claims:
        seeds = {e: tuple(cr.seeds) for e, rep in reports.items() for cr in rep.claims if cr.claim.id == c.id}
        if len({s for s in seeds.values() if s}) > 1:
            notes.append(
                f"claim {c.id}: the economies were run on different seeds ("
                + "; ".join(f"{e}: {', '.join(map(str, s))}" for e, s in seeds.items())
                + "): the economies' estimates are not on common random numbers"
            )
    return EconomyClaims(folder, registry_path, reports, table(reports), notes)


def _same(verdicts: list[str], testable: list[bool], claimed: bool, too_few: bool) -> str:
    if not claimed:
        return NO_CLAIM
    if not all(testable):
        return "not testable at this scale"
    if any(v not in ("model higher", "model lower", "consistent") for v in verdicts):
        return "undetermined in some economy"
    if len(set(verdicts)) == 1:
        return f"{SAME}: {verdicts[0]}"
    return DIFFERS + (" (too few seeds to conclude in some)" if too_few else "")


def table(reports: dict[str, claims.ClaimsReport]) -> pd.DataFrame:
    """One row per claim, test and economy (a claim not tested in an economy: one row saying why);
    `same_in_every_economy` compares the verdicts of a test across the economies."""
    rows: list[dict[str, Any]] = []
    if not reports:
        return pd.DataFrame(rows, columns=COLUMNS)
    first = next(iter(reports.values()))
    for i, c0 in enumerate(first.claims):
        per = {e: rep.claims[i] for e, rep in reports.items()}
        tested = {e: cr for e, cr in per.items() if cr.status == "tested"}
        for e, cr in per.items():
            if cr.status != "tested":
                rows.append({"claim": c0.claim.id, "economy": e, "verdict": "", "note": cr.note})
        for j, t in enumerate(c0.claim.tests):
            results = {e: cr.tests[j] for e, cr in tested.items()}
            verdicts = [r.verdict.text if r.verdict is not None else "" for r in results.values()]
            claimed = t.claim_bounds() is not None
            same = (
                _same(
                    verdicts,
                    [r.testable for r in results.values()],
                    claimed,
                    any(r.verdict is not None and r.verdict.too_few for r in results.values()),
                )
                if len(results) == len(per)
                else "not tested in every economy"
            )
            for e, r in results.items():
                est = r.est
                rows.append(
                    {
                        "claim": c0.claim.id,
                        "label": t.label,
                        "how": t.how,
                        "arm": r.arm,
                        "versus": r.versus or "",
                        "economy": e,
                        "n_seeds": len(r.seeds),
                        "unit": r.unit,
                        "estimate": est.mean if est else math.nan,
                        "low": est.low if est else math.nan,
                        "high": est.high if est else math.nan,
                        "claimed_low": r.bounds[0] if r.bounds else math.nan,
                        "claimed_high": r.bounds[1] if r.bounds else math.nan,
                        "testable": r.testable,
                        "verdict": r.verdict.text if r.verdict else "",
                        "too_few_seeds": bool(r.verdict and r.verdict.too_few),
                        "same_in_every_economy": same,
                        "note": "; ".join(x for x in (r.note, est.note if est else "") if x),
                    }
                )
    return pd.DataFrame(rows, columns=COLUMNS)


def overview(result: EconomyClaims) -> Table:
    """The claims across the economies: each test's estimate, interval and verdict in each economy."""
    economies = list(result.reports)
    rows = []
    if economies:
        first = result.reports[economies[0]]
        same = result.table.dropna(subset=["label"]).drop_duplicates(["claim", "label"])
        same = same.set_index(["claim", "label"])["same_in_every_economy"]
        for i, c0 in enumerate(first.claims):
            for j, t in enumerate(c0.claim.tests):
                cells, shown = [], None
                for e in economies:
                    cr = result.reports[e].claims[i]
                    if cr.status != "tested":
                        cells.append("not tested")
                        continue
                    r = cr.tests[j]
                    shown = shown or r
                    signed = t.how in ("difference", "saving", "relative")
                    cell = _interval(r.est, r.unit, signed) if r.est is not None else "n/a"
                    # The last column says a national claim cannot be tested here; not in every cell.
                    v = "" if not r.testable else _verdict_cell(r)
                    cells.append(f"{cell}: {v}" if v else cell)
                if shown is None:
                    continue
                key = (c0.claim.id, t.label)
                rows.append(
                    [
                        c0.claim.id,
                        t.label,
                        _how_text(shown),
                        _claimed_cell(shown),
                        *cells,
                        str(same.get(key, "")) if key in same.index else "",
                    ]
                )
    return Table(
        ["claim", "model quantity", "arms", "claimed", *economies, "verdict in every economy"],
        rows,
        title="The claims in each economy: model mean [90% interval over paired seeds]: verdict",
        align="lll" + "r" * (len(economies) + 1) + "l",
    )


def markdown(result: EconomyClaims) -> str:
    """claims_by_economy.md: the overview table, with where each economy's full discussion is."""
    parts = [
        "# The claims across the economic cycle",
        "",
        f"The headline claims of *Unlocking our Wealth* (2015), from `{result.registry_shown}`, tested within "
        f"each economy of `{result.folder}`: a claim's arms are compared only with arms of the same economy, on "
        "the seeds both were run on there (common random numbers). Each economy's full report (sources, the "
        "report's arithmetic, what each claim depends on) is in `<economy>/claims.md`.",
        "",
    ]
    parts += [f"- {n}" for n in result.notes] + ([""] if result.notes else [])
    parts.append(to_markdown(overview(result)))
    return "\n".join(parts).rstrip("\n") + "\n"


def print_report(result: EconomyClaims, console: Any = None) -> None:
    """Each economy's claims report in full, then the overview across economies."""
    from rich.console import Console

    con = console or Console(width=220)
    for n in result.notes:
        print(f"note: {n}")
    for economy, rep in result.reports.items():
        print(f"\n=== economy: {economy} ===")
        claims.print_report(rep, con)
    print()
    con.print(rich_table(overview(result)))


def write(result: EconomyClaims, out_dir: Path) -> list[Path]:
    """Each economy's claims.md and claims.csv in `out_dir/<economy>/`; the overview as
    claims_by_economy.csv (full precision) and claims_by_economy.md, each written atomically."""
    out_dir = Path(out_dir)
    paths: list[Path] = []
    for economy, rep in result.reports.items():
        paths += claims.write_report(rep, out_dir / economy)
    text = markdown(result)
    for name, fn in (
        ("claims_by_economy.csv", lambda p: result.table.to_csv(p, index=False)),
        ("claims_by_economy.md", lambda p: p.write_text(text, encoding="utf-8")),
    ):
        atomic_write(out_dir / name, fn)
        paths.append(out_dir / name)
    return paths
