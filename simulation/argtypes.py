"""Argument types of the `labourlab` command line (`simulation.cli_parser`), some of them shared
with the analyses' own subcommand parsers (`simulation.analysis.calibrate`,
`simulation.analysis.validate`), kept below both so that the analyses need not import the command
line that imports them."""

from __future__ import annotations

import argparse
import math

from simulation.config import MAX_SCALE


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {v}")
    return v


def scale(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}") from None
    if not math.isfinite(v) or not 1 <= v <= MAX_SCALE:
        raise argparse.ArgumentTypeError(f"expected a number in [1, {MAX_SCALE:g}], got {text!r}")
    return v


def share(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 10], got {text!r}") from None
    if not math.isfinite(v) or not 0 < v <= 10:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 10], got {text!r}")
    return v


def assignment(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number after '=', got {value!r}") from None
