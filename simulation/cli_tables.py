"""The tables the commands print: run summaries by arm, paired differences between arms, the
baseline arm beside the evidence it was calibrated to, and every calibration parameter as Markdown
(`labourlab params`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cell(values: list[float], fmt: str) -> str:
    """The values' mean and, when there are several, their [min, max]."""
    cell = fmt.format(sum(values) / len(values))
    if len(values) > 1:
        cell += f" [{fmt.format(min(values))}, {fmt.format(max(values))}]"
    return cell


def print_differences(by_arm: dict[str, dict[int, dict[str, float]]], seeds: list[int], baseline: str) -> None:
    """Each arm minus the baseline arm, seed by seed (common random numbers), then summarised."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from simulation.summary import DIFFERENCES

    base = by_arm[baseline]
    arms = [a for a in by_arm if a != baseline]
    t = Table(
        title=escape(f"Paired difference from the {baseline} arm, same seeds: mean [min, max] over {len(seeds)} seeds")
    )
    t.add_column("measure")
    for arm in arms:
        t.add_column(f"{arm} - {baseline}", justify="right")
    for key, (label, fmt) in DIFFERENCES.items():
        t.add_row(label, *(_cell([by_arm[arm][s][key] - base[s][key] for s in seeds], fmt) for arm in arms))
    Console(width=160).print(t)
    print("Min and max across a few seeds are not confidence intervals; `labourlab compare` gives those.")


def print_targets(runs: list[dict[str, float]], baseline: str) -> None:
    """The baseline arm's flows, averaged over its runs, beside the evidence (calibration.md s6)."""
    from rich.console import Console
    from rich.table import Table

    from simulation.summary import FLOW_TARGETS, LABELS

    t = Table(title=f"The {baseline} arm against the evidence")
    for col in ("measure", "model (mean over seeds)", "target", "source"):
        t.add_column(col)
    for key, (target, source) in FLOW_TARGETS.items():
        label, fmt = LABELS[key]
        mean = sum(r[key] for r in runs) / len(runs)
        t.add_row(label, fmt.format(mean), fmt.format(target), source)
    Console(width=140).print(t)


def print_table(by_arm: dict[str, list[dict[str, float]]], title: str) -> None:
    """Each arm's summary measures over its runs: the mean, and [min, max] over several runs."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from simulation.summary import LABELS

    t = Table(title=escape(title))
    t.add_column("measure")
    for arm in by_arm:
        t.add_column(arm, justify="right")
    for key, (label, fmt) in LABELS.items():
        t.add_row(label, *(_cell([r[key] for r in runs], fmt) for runs in by_arm.values()))
    Console(width=160).print(t)


def params_table(calibration: Path | None = None) -> str:
    """Every parameter as a Markdown table, grouped by mechanism, with its evidence."""
    from simulation.config import load_calibration
    from simulation.parameters import PARAMETERS

    params = load_calibration(calibration)

    def cell(text: str) -> str:
        return " ".join(str(text).split()).replace("|", "\\|")

    lines = [
        "| parameter | mechanism | value | range | unit | assumption | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted(params.records, key=lambda n: (PARAMETERS[n].mechanism, n)):
        r = params.records[name]
        lines.append(
            f"| `{name}` | {PARAMETERS[name].mechanism} | {r.value:g} | {r.low:g} to {r.high:g} | {cell(r.unit)} | "
            f"{'yes' if r.assumption else 'no'} | {cell(r.source)} |"
        )
    n_assumed = sum(r.assumption for r in params.records.values())
    lines.append("")
    lines.append(
        f"{len(params.records)} parameters, {n_assumed} of them assumptions (no direct evidence; see their notes)."
    )
    return "\n".join(lines) + "\n"


def cmd_params(args: argparse.Namespace) -> int:
    """`labourlab params`: print the parameter table, and write it to --out if given."""
    from simulation.results import atomic_write

    table = params_table(args.calibration)
    print(table, end="")
    if args.out:
        atomic_write(args.out, lambda p: p.write_text(table, encoding="utf-8"))
        print(f"wrote {args.out}")
    return 0
