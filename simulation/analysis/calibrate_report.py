"""The fit report of `labourlab calibrate` (fit_report.md), and the number formats its terminal tables share."""

from __future__ import annotations

import math
from pathlib import Path

from simulation import results
from simulation.analysis import tables
from simulation.analysis.calibrate import NAN_PENALTY, Fit
from simulation.analysis.stats import Interval


def fmt(x: float, digits: int = 4) -> str:
    """Four significant figures, or "n/a" for a figure the runs could not give."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}g}"


def interval_text(iv: Interval) -> str:
    """Mean [90% interval]; the mean alone from a single seed."""
    if not math.isfinite(iv.mean):
        return "n/a"
    if iv.n < 2:
        return fmt(iv.mean)
    return f"{fmt(iv.mean)} [{fmt(iv.low)}, {fmt(iv.high)}]"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _source(text: str) -> str:
    # A source's "|" becomes "/", not an escaped pipe: fit_report.md has always shown it so.
    return text.replace("|", "/").replace("\n", " ")


def targets_table(fit: Fit) -> tables.Table:
    """Each target on the check seeds: observed, hand-set and fitted model, whether inside, the miss."""
    rows = []
    for tf in fit.targets:
        r, t = tf.row(), tf.target
        rows.append(
            [
                tf.key,
                t.arm,
                f"{fmt(t.value)} [{fmt(t.low)}, {fmt(t.high)}]",
                interval_text(tf.handset),
                _yes(r["handset_inside"]),
                fmt(r["handset_miss"], 3),
                interval_text(tf.fitted),
                _yes(r["fitted_inside"]),
                fmt(r["fitted_miss"], 3),
                _source(t.source),
            ]
        )
    head = ["target", "arm", "observed [band]", "hand-set [90%]", "inside", "miss", "fitted [90%]", "inside", "miss"]
    return tables.Table([*head, "source"], rows, align="lllllrllrl")


def parameters_table(fit: Fit) -> tables.Table:
    """The fitted values beside the hand-set ones, their search and evidence ranges, and edge flags."""
    rows = []
    for r in fit.params_rows():
        note = (
            f"at the {r['at_edge']} end of its range: the fit wants to go further than the evidence allows"
            if r["at_edge"]
            else ""
        )
        rows.append(
            [
                r["parameter"],
                fmt(r["handset"]),
                fmt(r["fitted"]),
                f"[{fmt(r['low'])}, {fmt(r['high'])}]",
                f"[{fmt(r['record_low'])}, {fmt(r['record_high'])}]",
                _yes(r["assumption"]),
                note,
            ]
        )
    head = ["parameter", "hand-set", "fitted", "search range", "evidence range", "assumption", "note"]
    for row, r in zip(rows, fit.params_rows(), strict=True):
        if r["lever"]:
            row[4], row[5] = "(a lever)", "no"
            regime = fit.spec.programme_regime_name
            row[6] = f"lever of {regime}: copy the fitted value into the regime file. {row[6]}".strip()
    return tables.Table(head, rows, align="lrrllll")


def fit_report(fit: Fit, out_files: dict[str, Path]) -> str:
    """The fit report as Markdown."""
    spec, res = fit.spec, fit.result
    lines = [
        f"# Calibration fit: {spec.name}",
        "",
        *([spec.description, ""] if spec.description else []),
        f"- Spec: `{spec.path}` (sha256 {spec.spec_sha256[:12]})",
        f"- Place{'s' if len(spec.sites) > 1 else ''}: {'; '.join(s.text() for s in spec.sites)}; "
        f"{spec.burn_in} months burn-in + {spec.lead_in} months lead-in + {spec.months} months"
        + ("; the loss sums every place's targets" if len(spec.sites) > 1 else ""),
        f"- Baseline arm: {spec.baseline_regime}"
        + (f"; programme arm (Work Programme outcome rate): {spec.programme_regime}" if spec.needs_programme else ""),
        f"- Search: optuna TPE (multivariate, seed {spec.sampler_seed}, {spec.startup_trials} random start-up trials), "
        f"{spec.trials} trials run one after another; trial 0 is the hand-set values; "
        f"{len(spec.seeds)} replicate seeds per trial ({', '.join(map(str, spec.seeds))})",
        f"- Check: the hand-set and the fitted values on {len(spec.check_seeds)} fresh seeds "
        f"({', '.join(map(str, spec.check_seeds))}), the same seeds for both (common random numbers)",
        "- Loss: sum over targets of ((model mean - observed) / half the observed band)^2"
        + (
            ", times its weight (" + ", ".join(f"{k} {w:g}" for k, w in spec.weights.items()) + "; others 1)"
            if spec.weights
            else ""
        )
        + f"; a target the model cannot produce costs {NAN_PENALTY:g}",
        f"- Made {fit.created}, commit {results.git_commit()}",
        "",
        "## Loss",
        "",
        "| | hand-set | fitted |",
        "|---|---:|---:|",
        f"| trial seeds (search; fitted = best trial, number {res.best_trial}) | {fmt(res.handset_loss)} "
        f"| {fmt(res.best_loss)} |",
        f"| check seeds (fresh) | {fmt(fit.check_loss_handset)} | {fmt(fit.check_loss_fitted)} |",
        "",
    ]
    if res.best_trial == 0:
        lines.append("No trial beat the hand-set values on the trial seeds: the fitted file repeats them.")
    elif fit.check_loss_fitted < fit.check_loss_handset:
        lines.append(
            f"On the fresh check seeds the fitted values bring the baseline closer to its targets than the "
            f"hand-set values: loss {fmt(fit.check_loss_handset)} -> {fmt(fit.check_loss_fitted)}."
        )
    else:
        lines.append(
            f"On the fresh check seeds the fitted values do NOT fit better than the hand-set values "
            f"(loss {fmt(fit.check_loss_handset)} -> {fmt(fit.check_loss_fitted)}): the search's gain was luck "
            "of the trial seeds. Use more replicate seeds or trials before relying on the fitted file."
        )
    lines += [
        "",
        "## Targets on the check seeds",
        "",
        "Model means with 90% t intervals across the check seeds. *inside*: the interval overlaps the "
        "observed band. *miss*: (model mean - observed) / half the band.",
        "",
    ]
    lines += tables.markdown(targets_table(fit)).splitlines()
    own_rate = [s.name for s in spec.sites if "unemployment_rate" in s.targets and s.name != "england"]
    if own_rate:
        lines += [
            "",
            f"Unemployment rate: the observed figure for {', '.join(own_rate)} is the place's own documented rate "
            "(its place file), with the band width of England's (`targets.load_targets`).",
        ]
    if any(k == "wp_two_year_outcome_rate" for _, k in spec.target_of.values()):
        lines += [
            "",
            "Work Programme two-year outcome rate: the model's is each payment group's two-year outcome "
            "rate over the people who reached its referral point, weighted by the group's referrals "
            "(`targets.outcome_rates`), from the programme arm's cohorts.",
        ]
    lines += [
        "",
        "## Parameters",
        "",
    ]
    lines += tables.markdown(parameters_table(fit)).splitlines()
    edges = [r["parameter"] for r in fit.params_rows() if r["at_edge"]]
    if edges:
        lines += [
            "",
            f"At the edge of its range: {', '.join(edges)}. The ranges were not widened: a fit pressing on "
            "them says the model misses the targets for a reason those parameters cannot fix within their evidence.",
        ]
    levers = [r for r in fit.params_rows() if r["lever"]]
    if levers:
        lines += [
            "",
            f"Levers of the programme regime ({spec.programme_regime_name}) were fitted with the parameters: "
            "who it refers, a design fact of the programme, set so that its referral mix matches the published "
            "one. calibrated.toml holds the calibration parameters only; the fitted levers are in its "
            "[provenance.fitted_levers] table and belong in the regime file.",
        ]
    lines += ["", "## Files", ""] + [f"- {k}: `{v}`" for k, v in out_files.items()] + [""]
    lines += [
        f"Use the fitted file with `labourlab run --calibration {out_files['calibrated']} ...` or "
        f'`calibration = "{out_files["calibrated"]}"` in an experiment spec.',
        "",
    ]
    return "\n".join(lines)
