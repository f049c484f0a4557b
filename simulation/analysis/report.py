"""`labourlab report`: one self-contained report of an experiment's results, with figures.

From a results folder (either layout, see results_io) it writes, each file atomically:

- figures (PNG and SVG, matplotlib's Agg backend): time paths per arm with 90% bands across seeds,
  paired differences from the baseline, two-year job-outcome rates by claimant group, cumulative
  job-outcome rates by months since entry (official and common cohorts), cost per additional
  sustained job, and, when the results hold a claim's arms, the claims against the model;
- report.md and report.html: compare's tables (with the referral mix by payment group beside
  DWP's published mix, the common cohort's like-for-like rates and cost per additional job
  outcome), the figures, the claims table, the assumptions the results depend on, the manifest
  (versions, commit, seeds, place, horizon; each arm's resolved config in configs/<arm>.json)
  and the command lines that regenerate it;
- for an experiment crossing arms with economies (`economies = [...]`), the body is one economy's
  (steady if run, else the first), its arms compared within it, and a section "Across the economic
  cycle" (`report_economies`) compares the arms within every economy, with its figures; the claims
  are tested economy by economy (`claims_economies`).

The numbers come from compare.analyse and claims.analyse. This module assembles the document;
`report_figures` draws the figures and `report_html` turns the Markdown into HTML (their names the
tests and `sensitivity` use are importable from here).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation.analysis import claims, claims_economies, compare, compare_economies, report_economies, results_io
from simulation.analysis.report_figures import (
    DPI,
    FIGURE_FORMATS,
    MAIN_DIFFERENCES,
    PCT,
    TIME_PATHS,
    TimePath,
    Written,
    _month_totals,
    _plt,
    _save,
    figure_claims,
    figure_cohort_curves,
    figure_cohorts,
    figure_cost_per_job,
    figure_differences,
    figure_markdown,
    figure_time_paths,
)
from simulation.analysis.report_html import markdown_to_html, simple_markdown
from simulation.analysis.tables import Table
from simulation.analysis.tables import markdown as to_markdown
from simulation.config import ConfigError, flatten_keys, load_calibration
from simulation.results import atomic_write

__all__ = [
    "DPI",
    "FIGURE_FORMATS",
    "MAIN_DIFFERENCES",
    "PCT",
    "TIME_PATHS",
    "TimePath",
    "Written",
    "_plt",  # `sensitivity_render` draws with these two, from here
    "_save",
    "assumptions_section",
    "build",
    "commands_section",
    "figure_claims",
    "figure_cohort_curves",
    "figure_cohorts",
    "figure_cost_per_job",
    "figure_differences",
    "figure_time_paths",
    "manifest_section",
    "markdown_to_html",
    "simple_markdown",
]


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if v is None:
        return "—"
    return str(v)


def _md_table(headers: list[str], rows: list[list[str]], align_right_from: int = 1) -> str:
    """A Markdown table, its first `align_right_from` columns left-aligned and the rest right."""
    align = "l" * align_right_from + "r" * (len(headers) - align_right_from)
    return to_markdown(Table(headers, rows, align=align))


def assumptions_section(rep: compare.Report, one_run: dict[str, results_io.RunData]) -> list[str]:
    parts = ["## Assumptions the results depend on", ""]
    try:
        records = load_calibration().records
    except ConfigError as e:
        records = {}
        parts += [f"Calibration not readable: {e}", ""]
    assumed = {k: r for k, r in records.items() if r.assumption}
    if assumed:
        parts += [
            f"The {len(assumed)} calibration parameters marked `assumption = true` in `configs/calibration.toml` "
            "(set by judgement, not measured); the value the runs used is from their manifests.",
            "",
        ]
        rows = []
        for name, r in sorted(assumed.items()):
            used = {run.config.get("params", {}).get(name) for run in one_run.values() if isinstance(run.config, dict)}
            used.discard(None)
            if not used:
                in_runs = "not in the manifests"
            elif len(used) == 1:
                in_runs = _cell(float(next(iter(used))))
            else:
                in_runs = "varies: " + ", ".join(
                    f"{a} {_cell(run.config.get('params', {}).get(name))}" for a, run in one_run.items()
                )
            rows.append([f"`{name}`", _cell(r.value), in_runs, f"{r.low:g}–{r.high:g}", r.unit, r.source])
        parts.append(_md_table(["parameter", "value", "in these runs", "range", "unit", "source"], rows, 6))
    levers = {a: flatten_keys(run.config.get("regime", {}).get("levers", {}) or {}) for a, run in one_run.items()}
    keys = sorted({k for lev in levers.values() for k in lev})
    differ = [k for k in keys if len({json.dumps(lev.get(k), default=str) for lev in levers.values()}) > 1]
    if differ and len(one_run) > 1:
        parts += ["The regime levers that differ between arms (from each arm's resolved config):", ""]
        rows = [[f"`{k}`", *[_cell(levers[a].get(k)) for a in one_run]] for k in differ]
        parts.append(_md_table(["lever", *one_run], rows, 1))
    elif len(one_run) > 1:
        parts += ["The arms' regime levers are all the same.", ""]
    params = {a: run.config.get("params", {}) or {} for a, run in one_run.items()}
    pkeys = sorted({k for p in params.values() for k in p})
    pdiff = [k for k in pkeys if len({json.dumps(p.get(k)) for p in params.values()}) > 1]
    if pdiff:
        parts += ["Calibration parameters that differ between arms:", ""]
        rows = [[f"`{k}`", *[_cell(params[a].get(k)) for a in one_run]] for k in pdiff]
        parts.append(_md_table(["parameter", *one_run], rows, 1))
    return parts


def manifest_section(
    rep: compare.Report,
    res: results_io.Results,
    one_run: dict[str, results_io.RunData],
    out_dir: Path,
    written: Written,
) -> list[str]:
    parts = ["## Manifest", ""]
    first = next(iter(one_run.values()))
    man = first.manifest
    exp = res.experiment or {}
    spec = exp.get("spec", {}) if isinstance(exp.get("spec"), dict) else {}
    versions = man.get("versions") or exp.get("versions") or {}
    commits = sorted({str(r.manifest.get("git_commit")) for r in res.runs if r.manifest.get("git_commit")})
    codes = sorted({str(r.manifest.get("code_sha256")) for r in res.runs if r.manifest.get("code_sha256")})
    rows = [
        ["results folder", f"`{res.folder}`"],
        ["layout", "experiment" if res.layout == results_io.EXPERIMENT else "run folders"],
    ]
    if exp:
        rows += [
            ["experiment", str(exp.get("name", ""))],
            ["spec file", f"`{exp.get('spec_file', '')}`"],
            ["spec sha256", f"`{exp.get('spec_sha256', '')}`"],
        ]
    rows += [
        ["place", rep.place],
        ["people per agent row", _cell(first.config.get("people_per_agent", spec.get("people_per_agent")))],
        ["burn-in months", _cell(rep.burn_in)],
        ["lead-in months", _cell(rep.lead_in)],
        ["policy months", _cell(rep.months)],
        ["arms", ", ".join(rep.arms)],
        ["baseline", rep.baseline],
        ["paired seeds", ", ".join(map(str, rep.seeds))],
        [
            "git commit" if len(commits) <= 1 else f"git commits (the runs were made at {len(commits)})",
            ", ".join(f"`{c}`" for c in commits) or "not recorded",
        ],
        ["model code sha256", ", ".join(f"`{c[:16]}…`" for c in codes) or "not recorded"],
    ]
    rows += [[f"version: {k}", str(v)] for k, v in sorted(versions.items())]
    parts.append(_md_table(["", ""], rows, 2))
    parts += [
        "Each arm's resolved configuration (place, regime levers, calibration parameters, horizon, scale), from "
        "one run's manifest; every run's own manifest is in the results folder.",
        "",
    ]
    crow = []
    for a, run in one_run.items():
        cfg_path = out_dir / "configs" / f"{a}.json"
        text = json.dumps(run.config, indent=2, sort_keys=True, default=str) + "\n"
        atomic_write(cfg_path, lambda p, text=text: p.write_text(text, encoding="utf-8"))
        written.add(cfg_path)
        where = f"`{run.path / 'manifest.json'}`" if res.layout == results_io.RUN_FOLDERS else f"`{run.path.parent}/`"
        crow.append(
            [
                a,
                str(run.config.get("regime", {}).get("name", "")),
                f"[configs/{a}.json](configs/{a}.json)",
                f"`{str(run.manifest.get('config_sha256', ''))[:16]}…`" if run.manifest.get("config_sha256") else "",
                where,
            ]
        )
    parts.append(_md_table(["arm", "regime", "resolved config", "config sha256", "run manifests"], crow, 5))
    return parts


def commands_section(res: results_io.Results, out_dir: Path, default_out: bool) -> list[str]:
    folder = str(res.folder)
    lines = []
    exp = res.experiment or {}
    if res.layout == results_io.EXPERIMENT and exp.get("spec_file"):
        lines.append(f"labourlab experiment {shlex.quote(str(exp['spec_file']))} --out {shlex.quote(folder)}")
    else:
        cmds = []
        for r in sorted(res.runs, key=lambda r: (r.scenario, r.seed)):
            cmd = r.manifest.get("command")
            if isinstance(cmd, list) and cmd:
                cmd = " ".join(shlex.quote(str(c)) for c in cmd)
                cmd = re.sub(r"^\S*labourlab\b", "labourlab", cmd)
                if cmd not in cmds:
                    cmds.append(cmd)
        lines += cmds[:30]
        if len(cmds) > 30:
            lines.append(f"# ... and {len(cmds) - 30} more run commands (see the run manifests)")
    lines.append(f"labourlab compare {shlex.quote(folder)}")
    lines.append(f"labourlab claims {shlex.quote(folder)}")
    lines.append(
        f"labourlab report {shlex.quote(folder)}" + ("" if default_out else f" --out {shlex.quote(str(out_dir))}")
    )
    return [
        "## Regenerating this report",
        "",
        "Runs are pure functions of (configuration, seed), so these commands, at the git commit above (with the "
        "same model code sha256), give the same numbers:",
        "",
        "```",
        *lines,
        "```",
    ]


def _baseline(res: results_io.Results, baseline: str | None, fallback: str = "no_programme") -> str:
    if baseline:
        return baseline
    spec = (res.experiment or {}).get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("baseline"), str) and spec["baseline"] in res.by_scenario():
        return spec["baseline"]
    arms = sorted(res.by_scenario())
    return fallback if fallback in arms else arms[0]


@dataclass
class _Cycle:
    """An experiment crossing arms with economies: each economy's comparison, the economies in the
    spec's order, and the one the report's body shows."""

    eco: compare_economies.EconomyReports
    economies: list[str]
    reference: str


def _economies(folder: Path, res: results_io.Results, baseline: str | None) -> _Cycle | None:
    """For an experiment crossing arms with economies: each economy's comparison (`compare_economies`),
    the economies in the spec's order, and the one the report's body shows (steady if run, else the
    first); None for results without economies."""
    found = compare_economies.economies_in(folder)
    if not found:
        return None
    spec = (res.experiment or {}).get("spec")
    base = baseline or (spec.get("baseline") if isinstance(spec, dict) else None) or "no_programme"
    for economy, names in found.items():
        if f"{base}{compare_economies.SEPARATOR}{economy}" not in names:
            raise ConfigError(
                folder,
                "",
                f"no runs of the baseline arm {base!r} in economy {economy!r} (found: {', '.join(names)}); "
                "choose one with --baseline",
            )
    eco = compare_economies.analyse(folder, baseline=base)
    economies = claims_economies.order(list(eco.reports), res.experiment)
    eco.reports = {e: eco.reports[e] for e in economies}
    eco.ranking = compare_economies.ranking(eco.reports)
    return _Cycle(eco, economies, "steady" if "steady" in economies else economies[0])


def _claims_by_economy(folder: Path) -> list[str]:
    """The claims section of a report across economies: each claim tested within each economy."""
    result = claims_economies.analyse(folder)
    return [
        "## The report's claims in each economy",
        "",
        f"From `{result.registry_shown}`; each claim's arms are compared only with arms of the same economy, on the "
        f"same seeds; intervals are {PCT} across paired seeds. `labourlab claims {folder}` gives each economy's full "
        "discussion (sources, arithmetic, what each depends on).",
        "",
        *[f"- {n}" for n in result.notes],
        to_markdown(claims_economies.overview(result)),
        "",
    ]


def build(folder: Path, out_dir: Path | None = None, baseline: str | None = None) -> list[Path]:
    """Write the report of the results in `folder` into `out_dir` (default folder/report); return the paths."""
    folder = Path(folder)
    default_out = out_dir is None
    out_dir = Path(out_dir) if out_dir is not None else folder / "report"
    res = results_io.load_results(folder)
    cycle = _economies(folder, res, baseline)
    if cycle is not None:  # arms crossed with economies: the body is one economy's, compared within it
        rep = cycle.eco.reports[cycle.reference]
    else:
        rep = compare.analyse(folder, baseline=_baseline(res, baseline))
    by = res.by_scenario()
    one_run = {a: by[a][min(s for s in rep.seeds if s in by[a])] for a in rep.arms}
    written = Written()
    figures: list[tuple[str, str, str]] = []  # (title, stem, caption)

    totals = _month_totals(by, rep.arms, rep.seeds)
    skipped: list[str] = []
    for title, make, why in (
        ("Time paths", lambda: figure_time_paths(rep, totals, out_dir, written), ["the monthly tables lack them"]),
        (
            "Paired differences from the baseline",
            lambda: figure_differences(rep, out_dir, written),
            ["there is only one arm"],
        ),
        (
            "Two-year job-outcome rates by claimant group",
            lambda: figure_cohorts(rep, out_dir, written),
            rep.cohort_notes or ["no cohort was followed for two years"],
        ),
        (
            "Cumulative job-outcome rates by months since entry",
            lambda: figure_cohort_curves(rep, out_dir, written),
            [n for n in rep.common_notes if "cumulative" in n] or ["no cohort was followed for six months"],
        ),
        (
            "Cost per additional sustained job",
            lambda: figure_cost_per_job(rep, out_dir, written),
            rep.cost_notes or ["there is only one arm"],
        ),
    ):
        paths, caption = make()
        if paths:
            figures.append((title, paths[0].stem, caption))
        else:
            skipped.append(f"{title}: no figure: {'; '.join(why)}")

    claim_parts: list[str] = []
    crep = None
    try:
        if cycle is not None:
            claim_parts = _claims_by_economy(folder)
        else:
            crep = claims.analyse(folder)
    except ConfigError as e:
        claim_parts = ["## Claims", "", f"Claims not tested: {e}", ""]
    if crep is not None:
        tested = [cr for cr in crep.claims if cr.status == "tested"]
        if tested:
            paths, caption = figure_claims(crep, out_dir, written)
            claim_parts = ["## The report's claims against the model", ""]
            claim_parts += [
                f"From `{crep.registry_shown}`; intervals are {PCT} across paired seeds. "
                f"`labourlab claims {folder}` gives the full discussion (sources, arithmetic, what each depends on).",
                "",
            ]
            if paths:
                claim_parts += [f"![claims](figures/{paths[0].name})", "", caption, ""]
            for cr in tested:
                for spec in claims.claim_tables(cr):
                    claim_parts.append(to_markdown(spec))
                if cr.differs_most:
                    claim_parts += [f"**Differs most:** {cr.differs_most}", ""]
            for cr in crep.claims:
                if cr.status != "tested":
                    claim_parts += [f"- {cr.note}"]
            claim_parts.append("")
        else:
            claim_parts = ["## Claims", ""]
            claim_parts += [f"- {cr.note}" for cr in crep.claims] + [""]

    seeds = rep.seeds
    burn = f"{rep.burn_in} months of burn-in, then " if rep.burn_in is not None else ""
    if rep.lead_in is not None:
        burn += f"{rep.lead_in} months of lead-in with the regime on, then "
    parts = [
        f"# LabourLab report: {rep.place}",
        "",
        f"Arms {', '.join(rep.arms)} (baseline {rep.baseline}) on {len(seeds)} paired seeds "
        f"({', '.join(map(str, seeds))}), {burn}{rep.months} policy months; results in `{folder}`. "
        f"Intervals are {PCT}: mean ± t(0.95, n−1)·sd/√n across seeds (paired differences on common random "
        "numbers), ratios with a Fieller interval.",
        "",
    ]
    if cycle is not None:
        parts += [
            f"The experiment crosses its arms with the economies {', '.join(cycle.economies)}. The figures and tables "
            f"up to 'Across the economic cycle' are the {cycle.reference} economy's (its arms against "
            f"{rep.baseline}); that section compares the arms within every economy.",
            "",
        ]
    notes = [*res.notes, *rep.notes]
    if cycle is not None:  # the other economies' arms are in the cycle section, not left out
        notes = [n for n in notes if not n.startswith("arms in the folder not compared")]
    if notes:
        parts += [f"- {n}" for n in dict.fromkeys(notes)] + [""]
    parts += ["## Figures", ""]
    for title, stem, caption in figures:
        parts += figure_markdown(title, stem, caption)
    parts += [f"- {n}" for n in skipped] + ([""] if skipped else [])
    parts += ["## Tables", ""]
    for spec in compare.tables(rep):
        parts.append(to_markdown(spec))
    if rep.cost_per_job.empty:
        parts += [f"- {n}" for n in rep.cost_notes]
    if rep.cohorts.empty:
        parts += [f"- {n}" for n in rep.cohort_notes]
    if rep.cost_per_outcome.empty:
        parts += [f"- {n}" for n in rep.common_notes]
    parts += [*compare.unsigned_lines(rep), ""]
    if cycle is not None:
        parts += report_economies.section(cycle.eco, cycle.economies, by, rep.place, cycle.reference, out_dir, written)
    parts += claim_parts
    parts += assumptions_section(rep, one_run)
    parts += manifest_section(rep, res, one_run, out_dir, written)
    parts += commands_section(res, out_dir, default_out)
    text = "\n".join(parts).rstrip("\n") + "\n"
    atomic_write(out_dir / "report.md", lambda p: p.write_text(text, encoding="utf-8"))
    written.add(out_dir / "report.md")
    page = markdown_to_html(text, f"LabourLab report: {rep.place}")
    atomic_write(out_dir / "report.html", lambda p: p.write_text(page, encoding="utf-8"))
    written.add(out_dir / "report.html")
    return written.paths
