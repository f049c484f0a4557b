"""The behavioural parameters the model reads, with the hard domain each must lie in.

Values, ranges and evidence live in `configs/calibration.toml`; the names and hard domains (a
probability in [0, 1], a count >= 0) are declared by the mechanisms that read them
(`simulation.declare`), and collected in `simulation.registry`, so that a typo or an
impossible value is caught when the file is read.
"""

from __future__ import annotations

from simulation.registry import PARAMETERS, ParamSpec

__all__ = ["PARAMETERS", "ParamSpec"]
