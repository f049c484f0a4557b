"""Speed work must not change results: runs on fixed seeds reproduce recorded digests bit for bit.

`tests/data/golden.json` holds the sha256 of the monthly and cohorts tables of a handful of runs
(testville and Stevenage under every regime, two seeds, and a small England run at 1,000 people a row), recorded from
the model before any optimisation. Any change to a random draw, to the order of floating-point
sums or to a dtype shows up here. Regenerate only for a deliberate change of model behaviour:

    python tests/test_golden.py --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.config import make_scenario
from simulation.model import LabourMarketModel

GOLDEN = Path(__file__).parent / "data" / "golden.json"

# (place, regime, seed, months, burn_in, people_per_agent)
RUNS: list[tuple[str, str, int, int, int, float | None]] = [
    *(("testville", r, s, 14, 6, None) for r in ("no_programme", "centralised", "cooperative") for s in (1, 2)),
    *(("stevenage", r, s, 8, 4, None) for r in ("no_programme", "centralised", "cooperative") for s in (1, 2)),
    ("england", "centralised", 3, 6, 3, 1000.0),
    ("england", "cooperative", 3, 6, 3, 1000.0),
]


def run_id(run: tuple[str, str, int, int, int, float | None]) -> str:
    place, regime, seed, months, burn_in, ppa = run
    return f"{place}-{regime}-seed{seed}-m{months}-b{burn_in}" + (f"-ppa{ppa:g}" if ppa else "")


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a table's column names, dtypes and every value's bytes (row order included)."""
    h = hashlib.sha256()
    h.update(json.dumps([(c, str(frame[c].dtype)) for c in frame.columns]).encode())
    h.update(np.ascontiguousarray(pd.util.hash_pandas_object(frame, index=True).to_numpy()).tobytes())
    return h.hexdigest()


def digests(run: tuple[str, str, int, int, int, float | None]) -> dict[str, str]:
    place, regime, seed, months, burn_in, ppa = run
    sc = make_scenario(place, regime, months=months, burn_in=burn_in, people_per_agent=ppa)
    model = LabourMarketModel(config=sc, seed=seed, agent_views=False)
    while model.running:
        model.step()
    return {
        "monthly": frame_digest(model.results_frame()),
        "cohorts": frame_digest(model.cohorts.frame(model.district_names)),
    }


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, str]]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_golden_file_covers_every_run(golden: dict[str, dict[str, str]]) -> None:
    assert sorted(golden) == sorted(run_id(r) for r in RUNS)


@pytest.mark.parametrize("run", RUNS, ids=run_id)
def test_results_match_golden_digests(run: tuple[str, str, int, int, int, float | None], golden) -> None:
    assert digests(run) == golden[run_id(run)]


def test_digest_sees_a_one_value_change() -> None:
    a = pd.DataFrame({"x": np.arange(5, dtype=np.float64), "y": np.ones(5, dtype=np.int64)})
    b = a.copy()
    b.loc[3, "x"] = np.nextafter(3.0, 4.0)
    assert frame_digest(a) == frame_digest(a.copy())
    assert frame_digest(a) != frame_digest(b)
    assert frame_digest(a) != frame_digest(a.astype({"y": np.int32}))


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_golden.py --write   (records digests from the current model)")
    out = {run_id(r): digests(r) for r in RUNS}
    GOLDEN.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(out)} runs to {GOLDEN}")
