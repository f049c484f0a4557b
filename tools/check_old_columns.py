"""Check that a change leaves the arms it should not touch exactly as they were.

Runs the golden cases of testville and Stevenage under the regimes given (by default the
no-programme and centralised arms) and keeps each run's monthly table and cohorts table:

    python tools/check_old_columns.py save DIR [REGIME ...]    # before the change
    python tools/check_old_columns.py check DIR [REGIME ...]   # after it

`check` compares every column the saved tables have, value for value and dtype for dtype
(columns the change added are listed, not compared), and exits 1 naming any column that moved.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

# The model of the checkout this script is in (or of PYTHONPATH's first entry, to save the tables
# of another checkout), not an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simulation.config import make_scenario
from simulation.model import LabourMarketModel

# (place, seed, months, burn_in), as the golden digests' runs (tests/model/test_golden.py)
RUNS = [(p, s, m, b) for p, m, b in (("testville", 14, 6), ("stevenage", 8, 4)) for s in (1, 2)]


def tables(place: str, regime: str, seed: int, months: int, burn_in: int) -> dict[str, pd.DataFrame]:
    model = LabourMarketModel(config=make_scenario(place, regime, months=months, burn_in=burn_in), seed=seed)
    while model.running:
        model.step()
    return {"monthly": model.results_frame(), "cohorts": model.cohorts.frame(model.district_names)}


def same_column(old: pd.Series, new: pd.Series) -> bool:
    """The same dtype and the same values in the same order (NaN equal to NaN)."""
    return old.dtype == new.dtype and old.reset_index(drop=True).equals(new.reset_index(drop=True))


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("save", "check"):
        print(__doc__)
        return 2
    mode, folder, regimes = argv[0], Path(argv[1]), argv[2:] or ["no_programme", "centralised"]
    folder.mkdir(parents=True, exist_ok=True)
    moved: list[str] = []
    for regime in regimes:
        for place, seed, months, burn_in in RUNS:
            for name, frame in tables(place, regime, seed, months, burn_in).items():
                path = folder / f"{place}-{regime}-seed{seed}-{name}.parquet"
                if mode == "save":
                    frame.to_parquet(path)
                    continue
                old = pd.read_parquet(path)
                added = sorted(set(frame.columns) - set(old.columns))
                lost = sorted(set(old.columns) - set(frame.columns))
                same = [c for c in old.columns if c in frame.columns and same_column(old[c], frame[c])]
                differ = [c for c in old.columns if c in frame.columns and c not in same]
                print(f"{path.name}: {len(old.columns) - len(lost) - len(differ)} columns identical, added {added}")
                moved += [f"{path.name}: {c}" for c in differ + lost]
    if mode == "check":
        print("every saved column identical" if not moved else "MOVED:\n  " + "\n  ".join(moved))
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
