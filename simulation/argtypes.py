"""Argument types shared by the `labourlab` command line and the analyses' own subcommand parsers
(`simulation.analysis.calibrate`, `simulation.analysis.validate`), kept below both so that the
analyses need not import the command line that imports them."""

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
