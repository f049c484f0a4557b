"""Rendering `labourlab claims`'s report: the tables, the terminal report, claims.md and claims.csv.

The estimates and verdicts are computed by `claims.analyse`; here they are formatted and laid out
(with `tables`, the analysis commands' one table writer).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulation.analysis.claims_estimate import WIDE, Estimate
from simulation.analysis.claims_spec import _div
from simulation.analysis.tables import Table, rich_table
from simulation.analysis.tables import markdown as to_markdown
from simulation.results import atomic_write

if TYPE_CHECKING:  # claims imports this module: its results are only named in annotations here
    from simulation.analysis.claims import ClaimResult, ClaimsReport, TestResult


def _times(x: float) -> str:
    """A factor of at least 1 to two significant figures, without exponents."""
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def _short(label: str) -> str:
    return label.split(" (")[0]


def _fmt(x: float, unit: str, signed: bool = False) -> str:
    """A figure in its unit: money as £, £m or £bn; shares as percentages; counts and ratios plainly."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if unit == "gbp_m":  # a measure in £m (compare's money): shown as money like the others
        x, unit = x * 1e6, "gbp"
    sign = ("+" if x > 0 else "-" if x < 0 else "") if signed else ("-" if x < 0 else "")
    a = abs(x)
    if unit == "gbp":
        if a >= 1e9:
            s = f"£{a / 1e9:,.2f}bn"
        elif a >= 1e6:
            s = f"£{a / 1e6:,.2f}m"
        else:
            s = f"£{a:,.0f}"
    elif unit == "share":
        s = f"{100 * a:.1f}%"
    elif unit == "ratio":
        s = f"{a:,.2f}" if a >= 0.1 or a == 0 else f"{a:.2g}"
    else:  # counts
        s = f"{a:,.0f}" if a >= 100 or float(a).is_integer() else f"{a:,.1f}" if a >= 1 else f"{a:.3g}"
    if not any(ch in "123456789" for ch in s):
        sign = ""  # no "-0" or "+0.0%"
    return sign + s


def _interval(e: Estimate | None, unit: str, signed: bool) -> str:
    if e is None:
        return "n/a"
    cell = _fmt(e.mean, unit, signed)
    if e.n >= 2:
        if math.isfinite(e.low):
            cell += f" [{_fmt(e.low, unit, signed)}, {_fmt(e.high, unit, signed)}]"
        elif math.isfinite(e.mean):
            cell += " [unbounded]"
    return cell


def _claimed_cell(r: TestResult) -> str:
    if r.bounds is None:
        return ""
    unit = r.unit
    lo, hi = r.bounds
    signed = r.test.how in ("relative", "difference")
    s = _fmt(lo, unit, signed) if lo == hi else f"{_fmt(lo, unit)} to {_fmt(hi, unit)}"
    if r.national:
        s += " (England)"
    if r.scaled is not None:
        a, b = r.scaled
        s += f"; {_fmt(a, unit, signed) if a == b else f'{_fmt(a, unit)} to {_fmt(b, unit)}'} scaled to this place"
    return s


def _verdict_cell(r: TestResult) -> str:
    if r.verdict is None:
        return "" if r.bounds is None or r.est is not None else "n/a"
    v = r.verdict.text
    if r.verdict.too_few:
        v += " (too few seeds to conclude)"
    return v


def _how_text(r: TestResult) -> str:
    t = r.test
    if t.how == "level":
        return r.arm
    if t.how == "saving":
        return f"{r.versus} - {r.arm}"
    if t.how == "difference":
        return f"{r.arm} - {r.versus}"
    if t.how == "relative":
        return f"{r.arm} / {r.versus} - 1"
    if t.how == "ratio":
        return f"{r.arm} / {r.versus}"
    return f"Δ over {r.versus}, ratio of means"


def test_lines(cr: ClaimResult) -> list[str]:
    """Notes under a claim's table: what could not be tested and what too few seeds left open."""
    out = []
    if any(r.est is not None and r.est.n < 2 for r in cr.tests):
        out.append("only one paired seed for some quantities: no intervals there; run at least 2 (5 or more is better)")
    for r in cr.tests:
        if r.note:
            out.append(f"{r.test.label}: {r.note}")
        if r.est is not None and r.est.note:
            out.append(f"{r.test.label}: {r.est.note}")
        if r.verdict is not None and r.verdict.too_few:
            need = r.verdict.seeds_to_settle
            if math.isinf(need):
                est = "not estimable (the model's mean equals the claim)"
            elif need > 100_000:
                est = "more than 100,000 seeds"
            else:
                est = f"about {int(need):,} paired seeds"
            out.append(
                f"{r.test.label}: too few seeds to conclude: the 90% interval straddles the claimed value and its "
                f"half-width is over {WIDE:.0%} of it; {est} would put the claim outside the interval if the model's "
                "mean and spread hold (compare's planner, from these seeds)"
            )
    if any(r.national and not r.testable for r in cr.tests):
        out.append(
            f"{cr.place} is not England: the claim's national figures cannot be tested at this scale. They are shown "
            "scaled to this place (by working-age population, or by number of districts where the claim is one hub "
            "per district) to put the report's number on the place's scale for display only; the scaled figure is "
            "not a national estimate by the model."
        )
    return out


def claim_tables(cr: ClaimResult) -> list[Table]:
    """A tested claim's tables: each model quantity against the claim, then the report's arithmetic."""
    out = []
    rows = []
    for r in cr.tests:
        signed = r.test.how in ("difference", "saving", "relative")
        model = _interval(r.est, r.unit, signed) if r.est is not None else "n/a"
        rom = ""
        if r.est is not None and r.test.how in ("ratio", "relative") and math.isfinite(r.est.ratio_of_means):
            rom = _fmt(r.est.ratio_of_means, r.unit, signed)
            rom += (
                f" [{_fmt(r.est.fieller_low, r.unit, signed)}, {_fmt(r.est.fieller_high, r.unit, signed)}]"
                if math.isfinite(r.est.fieller_low)
                else " [unbounded]"
            )
        n = str(r.est.n) if r.est is not None else "0"
        rows.append([r.test.label, _how_text(r), model, rom, _claimed_cell(r), _verdict_cell(r), n])
    out.append(
        Table(
            [
                "model quantity",
                "arms",
                "model: mean [90% interval]",
                "ratio of means [Fieller]",
                "claimed",
                "verdict",
                "seeds",
            ],
            rows,
            title=f"{cr.claim.id}: {cr.claim.title}",
            align="llrrrrr",
        )
    )
    if cr.factors:
        frows = []
        for f in cr.factors:
            rep = _fmt(f.report, f.unit)
            if f.report_low != f.report_high:
                rep += f" ({_fmt(f.report_low, f.unit)}-{_fmt(f.report_high, f.unit)})"
            if f.solved:
                rep += " solved"
            if math.isfinite(f.scaled):
                rep += f"; {_fmt(f.scaled, f.unit)} scaled to this place"
            if f.compared:
                ratio = _fmt(f.model / f.report, "ratio")
            elif math.isfinite(f.scaled) and math.isfinite(f.model) and f.scaled > 0:
                ratio = f"{_fmt(f.model / f.scaled, 'ratio')} of the scaled value (not compared)"
            else:
                ratio = "not compared"
            frows.append([f.label, _fmt(f.model, f.unit), rep, ratio])
        unit = cr.claim.report_arithmetic.unit
        tot = _fmt(cr.product_report, unit) + (" (England)" if not cr.england else "")
        frows.append(["product (the claim)", _fmt(cr.product_model, unit), tot, ""])
        if any(f.factor.key == "n_districts" for f in cr.factors):
            nd_f = next(f for f in cr.factors if f.factor.key == "n_districts")
            per_model = _div(cr.product_model, cr.n_districts)
            per_rep = cr.product_report / nd_f.report
            lo_, hi_ = cr.product_report / nd_f.report_high, cr.product_report / nd_f.report_low
            rng = f" ({_fmt(lo_, unit)}-{_fmt(hi_, unit)})"
            frows.append(
                [
                    "per district",
                    _fmt(per_model, unit),
                    _fmt(per_rep, unit) + rng,
                    _fmt(_div(per_model, per_rep), "ratio"),
                ]
            )
        out.append(
            Table(
                ["factor", "model", "report (range)", "model / report"],
                frows,
                title=f"{cr.claim.id}: the report's implied arithmetic beside the model's "
                f"(means over {len(cr.seeds)} seeds)",
                align="llrr",
            )
        )
    return out


def pipeline_tables(cr: ClaimResult) -> list[Table]:
    """A claim's decomposition (stage by stage, from the runs' counts) and sweep (parameter by
    parameter over the evidence ranges, the pipeline replayed), when it has them."""
    out = []
    dec = cr.claim.decomposition
    if dec is not None and cr.stages:
        rows = []
        for r in cr.stages:
            share = f"{100 * r.share:.0f}%" if math.isfinite(r.share) else "n/a"
            rows.append([r.label, r.measure, _interval(r.est, "ratio", False), share])
        assert cr.ratio is not None
        rows.append(["product: " + dec.label, "", _interval(cr.ratio, "ratio", False), "100%"])
        out.append(
            Table(
                ["factor (arm / versus)", "stage measure", "mean [90% interval] over seeds", "share of log ratio"],
                rows,
                title=f"{cr.claim.id}: {dec.label}, {cr.claim.arm} / {cr.claim.versus}, taken apart stage by stage",
                align="llrr",
            )
        )
    sw = cr.sweep
    if sw is not None and sw.rows:
        rows = [
            [
                r.parameter,
                f"{r.low:g} to {r.high:g}",
                _fmt(r.ratio_low, "ratio"),
                _fmt(r.ratio_high, "ratio"),
                f"{r.swing:.2f}" if math.isfinite(r.swing) else "unbounded",
            ]
            for r in sw.rows
        ]
        out.append(
            Table(
                ["parameter", "evidence range", "ratio at low", "ratio at high", "|log swing|"],
                rows,
                title=f"{cr.claim.id}: the ratio with one parameter at a time at its range's ends "
                f"(ratio at the runs' values {_fmt(sw.base, 'ratio')}; pipeline replayed on seeds "
                f"{', '.join(map(str, sw.seeds))})",
                align="lrrrr",
            )
        )
    return out


def pipeline_lines(cr: ClaimResult) -> list[str]:
    """What moves the ratio most, by the decomposition and by the sweep."""
    out = []
    if cr.moves_most:
        out.append(f"Moves the ratio most (stage, from the runs' counts): {cr.moves_most}")
    sw = cr.sweep
    if sw is not None and sw.rows:
        top = sw.rows[0]
        out.append(
            f"Moves the ratio most (parameter, over its evidence range): {top.parameter} "
            f"({top.low:g} to {top.high:g}: ratio {_fmt(top.ratio_low, 'ratio')} to {_fmt(top.ratio_high, 'ratio')})"
        )
        if sw.skipped:
            out.append(f"Not swept (no range: statutory or not in the calibration file): {', '.join(sw.skipped)}")
        if sw.note:
            out.append(f"Sweep: {sw.note}")
    return out


def print_report(rep: ClaimsReport, console: Any = None) -> None:
    """Every claim on the terminal: its sources, tables, arithmetic, assumptions and notes."""
    from rich.console import Console

    con = console or Console(width=200)
    print(f"labourlab claims: {len(rep.claims)} claims from {rep.registry_shown}, against the runs in {rep.folder}")
    for n in rep.notes:
        print(f"note: {n}")
    for cr in rep.claims:
        print()
        if cr.status != "tested":
            print(cr.note)
            continue
        seeds = cr.seeds
        print(
            f"claim {cr.claim.id}: {cr.claim.title}. {cr.place}"
            f"{' (England)' if cr.england else ''}, {cr.claim.arm} against {cr.claim.versus}, "
            f"{len(seeds)} paired seeds ({', '.join(map(str, seeds))})"
        )
        for s in cr.claim.sources:
            print(f'  "{s.quote}" ({s.citation})')
        for spec in claim_tables(cr):
            con.print(rich_table(spec))
        print(f"Report arithmetic: {cr.claim.report_arithmetic.text}")
        for f in cr.factors:
            print(f"  {_short(f.label)}: {f.factor.basis}")
        if cr.differs_most:
            print(f"Differs most: {cr.differs_most}")
        for spec in pipeline_tables(cr):
            con.print(rich_table(spec))
        for line in pipeline_lines(cr):
            print(line)
        print("Depends most on:")
        for a in cr.assumptions:
            print(f"  {a}")
        for line in [*cr.notes, *test_lines(cr)]:
            print(f"note: {line}")


def markdown(rep: ClaimsReport) -> str:
    """Every claim as Markdown (claims.md)."""
    parts = [
        "# labourlab claims",
        "",
        f"The headline claims of *Unlocking our Wealth* (2015), from `{rep.registry_shown}`, against the runs in "
        f"`{rep.folder}`. Intervals are 90%, across paired seeds (common random numbers).",
        "",
    ]
    parts += [f"- {n}" for n in rep.notes]
    for cr in rep.claims:
        parts += [f"## {cr.claim.id}: {cr.claim.title}", ""]
        if cr.status != "tested":
            parts += [cr.note, ""]
            continue
        parts.append(
            f"{cr.place}{' (England)' if cr.england else ''}, {cr.claim.arm} against {cr.claim.versus}, "
            f"{len(cr.seeds)} paired seeds ({', '.join(map(str, cr.seeds))})."
        )
        parts.append("")
        parts += [f'> "{s.quote}" ({s.citation})\n' for s in cr.claim.sources]
        for spec in claim_tables(cr):
            parts.append(to_markdown(spec))
        parts += [f"Report arithmetic: {cr.claim.report_arithmetic.text}", ""]
        parts += [f"- {_short(f.label)}: {f.factor.basis}" for f in cr.factors]
        if cr.differs_most:
            parts += ["", f"**Differs most:** {cr.differs_most}"]
        pt = pipeline_tables(cr)
        if pt:
            parts.append("")
            parts += [to_markdown(spec) for spec in pt]
            parts += [f"- {line}" for line in pipeline_lines(cr)]
        parts += ["", "Depends most on:", "", *[f"- {a}" for a in cr.assumptions], ""]
        parts += [f"- {line}" for line in [*cr.notes, *test_lines(cr)]]
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


CSV_COLUMNS = [
    "claim",
    "kind",
    "label",
    "measure",
    "how",
    "arm",
    "versus",
    "n_seeds",
    "unit",
    "estimate",
    "low",
    "high",
    "sd",
    "interval",
    "ratio_of_means",
    "fieller_low",
    "fieller_high",
    "claimed_low",
    "claimed_high",
    "national_only",
    "testable",
    "scaled_claimed_low",
    "scaled_claimed_high",
    "verdict",
    "too_few_seeds",
    "seeds_to_settle",
    "report",
    "report_low",
    "report_high",
    "note",
]


def frame(rep: ClaimsReport) -> pd.DataFrame:
    """Every test and factor of every claim, one row each, full precision."""
    rows: list[dict[str, Any]] = []
    for cr in rep.claims:
        if cr.status != "tested":
            rows.append({"claim": cr.claim.id, "kind": "skipped", "note": cr.note})
            continue
        for r in cr.tests:
            e = r.est
            rows.append(
                {
                    "claim": cr.claim.id,
                    "kind": "test",
                    "label": r.test.label,
                    "measure": r.test.quantity,
                    "how": r.test.how,
                    "arm": r.arm,
                    "versus": r.versus or "",
                    "n_seeds": len(r.seeds),
                    "unit": r.unit,
                    "estimate": e.mean if e else math.nan,
                    "low": e.low if e else math.nan,
                    "high": e.high if e else math.nan,
                    "sd": e.sd if e else math.nan,
                    "interval": e.kind if e else "",
                    "ratio_of_means": e.ratio_of_means if e else math.nan,
                    "fieller_low": e.fieller_low if e else math.nan,
                    "fieller_high": e.fieller_high if e else math.nan,
                    "claimed_low": r.bounds[0] if r.bounds else math.nan,
                    "claimed_high": r.bounds[1] if r.bounds else math.nan,
                    "national_only": r.national,
                    "testable": r.testable,
                    "scaled_claimed_low": r.scaled[0] if r.scaled else math.nan,
                    "scaled_claimed_high": r.scaled[1] if r.scaled else math.nan,
                    "verdict": r.verdict.text if r.verdict else "",
                    "too_few_seeds": bool(r.verdict and r.verdict.too_few),
                    "seeds_to_settle": r.verdict.seeds_to_settle if r.verdict else math.nan,
                    "note": "; ".join(x for x in (r.note, e.note if e else "") if x),
                }
            )
        for f in cr.factors:
            rows.append(
                {
                    "claim": cr.claim.id,
                    "kind": "factor",
                    "label": f.label,
                    "measure": f.factor.key,
                    "arm": cr.claim.arm,
                    "versus": cr.claim.versus,
                    "n_seeds": len(cr.seeds),
                    "unit": f.unit,
                    "estimate": f.model,
                    "national_only": f.factor.national,
                    "testable": f.compared,
                    "report": f.report,
                    "report_low": f.report_low,
                    "report_high": f.report_high,
                    "note": ("solved from the total; " if f.solved else "") + f.factor.basis,
                }
            )
        for st in cr.stages:
            rows.append(
                {
                    "claim": cr.claim.id,
                    "kind": "stage",
                    "label": st.label,
                    "measure": st.measure,
                    "how": "ratio",
                    "arm": cr.claim.arm,
                    "versus": cr.claim.versus,
                    "n_seeds": st.est.n,
                    "unit": "ratio",
                    "estimate": st.est.mean,
                    "low": st.est.low,
                    "high": st.est.high,
                    "sd": st.est.sd,
                    "interval": st.est.kind,
                    "note": f"share of the log ratio {st.share:.4g}",
                }
            )
        if cr.sweep is not None:
            for r in cr.sweep.rows:
                rows.append(
                    {
                        "claim": cr.claim.id,
                        "kind": "sweep",
                        "label": f"{r.parameter} at {r.low:g} and {r.high:g}",
                        "measure": r.parameter,
                        "how": "ratio",
                        "arm": cr.claim.arm,
                        "versus": cr.claim.versus,
                        "n_seeds": len(cr.sweep.seeds),
                        "unit": "ratio",
                        "estimate": cr.sweep.base,
                        "low": r.ratio_low,
                        "high": r.ratio_high,
                        "note": f"|log swing| {r.swing:.4g}; low and high are the ratio at the range's ends",
                    }
                )
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def write_report(rep: ClaimsReport, out_dir: Path) -> list[Path]:
    """claims.csv (tidy, full precision) and claims.md, each written atomically."""
    out_dir = Path(out_dir)
    df = frame(rep)
    text = markdown(rep)
    paths = []
    for name, write in (
        ("claims.csv", lambda p: df.to_csv(p, index=False)),
        ("claims.md", lambda p: p.write_text(text, encoding="utf-8")),
    ):
        atomic_write(out_dir / name, write)
        paths.append(out_dir / name)
    return paths
