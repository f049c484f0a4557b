"""Rendering `labourlab validate`'s verdicts: validation.csv's rows, validation.md and the terminal table."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from simulation.analysis import tables
from simulation.analysis.validate import FAIL, NA, PASS, Result

COLUMNS = ["check", "source", "model [90% interval]", "expected", "tolerance", "result"]


def _fmt(x: float | None, digits: int = 4) -> str:
    """Four significant figures: enough to see which side of a band's edge a value falls."""
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.{digits}g}"


def _value_cell(r: Result) -> str:
    if not math.isfinite(r.value):
        return "-"
    if math.isfinite(r.low) and math.isfinite(r.high):
        return f"{_fmt(r.value)} [{_fmt(r.low)}, {_fmt(r.high)}]"
    return _fmt(r.value)


def _result_cell(r: Result) -> str:
    return f"{r.status} ({r.reason})" if r.status == NA else r.status


def _cells(r: Result) -> list[str]:
    """A check's row of the table (COLUMNS), in validation.md and on the terminal alike."""
    c = r.check
    return [c.label, c.source, _value_cell(r), c.expected_text(), c.tolerance_text(), _result_cell(r)]


def frame(results: list[Result]) -> pd.DataFrame:
    """One row per check, full precision (validation.csv)."""
    rows = []
    for r in results:
        c = r.check
        rows.append(
            {
                "id": r.id,
                "label": c.label,
                "arm": c.arm,
                "statistic": c.statistic,
                "value": r.value,
                "low_90": r.low,
                "high_90": r.high,
                "n_seeds": r.n_seeds,
                "per_seed": ";".join(repr(float(v)) for v in r.per_seed),
                "expected": c.expected_text(),
                "expected_value": c.value,
                "band_low": c.low,
                "band_high": c.high,
                "threshold": c.threshold,
                "tolerance": c.tolerance_text(),
                "status": r.status,
                "reason": r.reason,
                "detail": r.detail,
                "source": c.source,
                "note": c.note,
            }
        )
    return pd.DataFrame(rows)


def _one_line(text: str) -> str:
    # Sources and notes come from TOML with line breaks and runs of spaces; a Markdown line takes neither.
    return " ".join(str(text).split())


def _md(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def markdown(results: list[Result], settings: dict[str, Any]) -> str:
    """The table, then each check's detail, source and note."""
    lines = [
        "# Validation: stylised facts the model was not fitted to",
        "",
        f"Place {settings['place']} ({settings['baseline_regime']}; {settings['programme_regime']} for the "
        f"Work Programme checks), {settings['beveridge_place']} ({settings['baseline_regime']}) at "
        f"{settings['england_scale']:g} people per row for the Beveridge curve"
        + "".join(
            f" and in the {arm['economy']} scenario for the cycle checks"
            for arm in settings.get("arms", {}).values()
            if arm.get("economy")
        )
        + "; "
        f"seeds {settings['seeds'][0]}..{settings['seeds'][-1]}, {settings['burn_in']} months burn-in + "
        f"{settings.get('lead_in', 0)} months lead-in + "
        f"{settings['months']} months; calibration {settings['calibration']}.",
        "",
    ]
    rows = [[_one_line(x) for x in _cells(r)] for r in results]
    lines += tables.markdown(tables.Table(COLUMNS, rows, align="l" * len(COLUMNS))).splitlines()
    n = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, NA)}
    lines += ["", f"{n[PASS]} pass, {n[FAIL]} fail, {n[NA]} n/a. A failing check is a finding about the model.", ""]
    lines.append("## Checks")
    for r in results:
        lines += ["", f"### {r.id}: {r.check.label}", ""]
        lines.append(
            f"- Result: {_result_cell(r)}; model {_value_cell(r)}; expected {r.check.expected_text()}, "
            f"{r.check.tolerance_text()}."
        )
        if r.per_seed:
            lines.append("- By seed: " + ", ".join(_fmt(v) for v in r.per_seed) + ".")
        if r.detail:
            lines.append(f"- {_md(r.detail)}.")
        lines.append(f"- Source: {_md(r.check.source)}.")
        if r.check.note:
            lines.append(f"- Note: {_md(r.check.note)}")
    return "\n".join(lines) + "\n"


def print_table(results: list[Result], title: str, console: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=escape(title), show_lines=True)
    for col in COLUMNS:
        t.add_column(col, overflow="fold")
    colour = {PASS: "green", FAIL: "red", NA: "yellow"}
    for r in results:
        *cells, result = _cells(r)
        t.add_row(*map(escape, cells), f"[{colour[r.status]}]{escape(result)}[/]")
    (console or Console(width=160)).print(t)
