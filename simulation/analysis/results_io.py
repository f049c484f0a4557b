"""Reading finished runs, whichever way they were written.

Two layouts hold results:

(a) run folders, as `labourlab run`, `demo` and `compare --place` write them:
    DIR/<arm>-seed<S>/monthly.parquet, cohorts.parquet (optional), manifest.json;
    the arm is the run's regime name (config.regime.name).

(b) an experiment, as `labourlab experiment` writes it:
    OUT/monthly/scenario=<scenario>/seed=<S>.parquet   the run's month x district table
    OUT/cohorts/scenario=<scenario>/seed=<S>.parquet   its cohorts (optional)
    OUT/runs/scenario=<scenario>/seed=<S>.json         the run manifest, written last
    OUT/manifest.json                                  the experiment manifest (its spec)
    the arm is the scenario name.

In both, a run is finished iff its manifest exists (the manifest is written last), and only
finished runs are read. A folder in neither layout is a ConfigError ("not a results folder").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.config import ConfigError

RUN_FOLDERS = "runs"
EXPERIMENT = "experiment"
NOT_RESULTS = (
    "not a results folder (expected <arm>-seed<S>/manifest.json and monthly.parquet, "
    "or an experiment's runs/scenario=<name>/seed=<S>.json and monthly/scenario=<name>/seed=<S>.parquet)"
)
_PARTITION = re.compile(r"^scenario=(?P<scenario>.+)$")
_SEED_FILE = re.compile(r"^seed=(?P<seed>-?\d+)\.(?P<ext>json|parquet)$")


@dataclass
class RunData:
    """One finished run: its tables and manifest, and the fields every analysis needs."""

    scenario: str  # the arm: the regime name (layout a) or the scenario name (layout b)
    seed: int
    monthly: pd.DataFrame
    cohorts: pd.DataFrame | None
    manifest: dict[str, Any]
    path: Path  # the run folder (a) or the run manifest (b)
    name: str  # the folder name (a) or "scenario=<name>/seed=<S>" (b)
    place: str
    months: int
    burn_in: int | None

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest["config"]

    @property
    def lead_in(self) -> int | None:
        """Policy months run before month 0, from the resolved config (None if the manifest predates them)."""
        return self.config.get("lead_in")

    @property
    def working_age_pop(self) -> float:
        """The place's working-age population at the start, from the resolved config (0 if absent)."""
        districts = self.config.get("place", {}).get("districts") or []
        try:
            return float(sum(d["working_age_pop"] for d in districts))
        except (KeyError, TypeError):
            return 0.0


@dataclass
class Results:
    """Every finished run in a results folder."""

    folder: Path
    layout: str  # RUN_FOLDERS or EXPERIMENT
    runs: list[RunData]
    experiment: dict[str, Any] | None = None  # the experiment manifest (layout b), if readable
    notes: list[str] = field(default_factory=list)

    def by_scenario(self) -> dict[str, dict[int, RunData]]:
        """scenario -> seed -> run; of two runs of one scenario and seed, the first (by path) is kept."""
        out: dict[str, dict[int, RunData]] = {}
        for r in self.runs:
            out.setdefault(r.scenario, {}).setdefault(r.seed, r)
        return out


# ------------------------------------------------------------------------------- helpers
def read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as e:
        raise ConfigError(path, "", f"cannot read it as a parquet table ({type(e).__name__})") from None


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(path, "", f"cannot read the {what} ({type(e).__name__})") from None


def _run_fields(man: Any, man_path: Path) -> tuple[int, str, str, int, int | None]:
    """seed, regime name, place name, months and burn-in from a run manifest."""
    try:
        cfg = man["config"]
        seed, regime, months, place = man["seed"], cfg["regime"]["name"], cfg["months"], cfg["place"]["name"]
        burn_in = cfg.get("burn_in")
    except (KeyError, TypeError, AttributeError):
        raise ConfigError(
            man_path,
            "",
            "expected a LabourLab run manifest (seed, config.regime.name, config.months, config.place.name)",
        ) from None
    if (
        isinstance(seed, bool)
        or not isinstance(seed, int)
        or not isinstance(regime, str)
        or isinstance(months, bool)
        or not isinstance(months, int)
    ):
        raise ConfigError(man_path, "", "expected an integer seed and months and a regime name")
    # The tables the analyses read from the resolved config (levers, parameters, districts): a
    # damaged manifest is named here rather than failing deep inside a report.
    for where, value, kind in (
        ("config.regime.levers", cfg["regime"].get("levers", {}), dict),
        ("config.params", cfg.get("params", {}), dict),
        ("config.place.districts", cfg["place"].get("districts", []), list),
    ):
        if not isinstance(value, kind) or (kind is list and not all(isinstance(d, dict) for d in value)):
            what = "a table" if kind is dict else "a list of tables"
            raise ConfigError(man_path, where, f"expected {what}, got {type(value).__name__}")
    for name, v in cfg.get("params", {}).items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ConfigError(man_path, f"config.params.{name}", f"expected a finite number, got {v!r}")
    levers = cfg["regime"].get("levers", {})
    for name, v in levers.items():
        if name == "groups":
            if not isinstance(v, dict) or not all(isinstance(g, dict) for g in v.values()):
                raise ConfigError(man_path, "config.regime.levers.groups", "expected a table of tables, one per group")
            for g, gl in v.items():
                for k, x in gl.items():
                    if not _scalar(x):
                        field = f"config.regime.levers.groups.{g}.{k}"
                        raise ConfigError(man_path, field, f"expected a value, got {x!r}")
        elif not _scalar(v):
            raise ConfigError(man_path, f"config.regime.levers.{name}", f"expected a value, got {v!r}")
    return seed, regime, str(place), months, burn_in


def _scalar(x: Any) -> bool:
    """A lever's value: a finite number, a truth value or a name."""
    if isinstance(x, bool | str):
        return True
    return isinstance(x, int | float) and math.isfinite(x)


# Head counts: never negative. (Money columns may be: `public_cost` is spending net of receipts.)
STOCKS = ("population", "employed", "unemployed", "inactive", "long_term_unemployed", "claimants_jsa", "claimants_esa")


def _check_monthly(df: pd.DataFrame, path: Path, months: int | None = None) -> pd.DataFrame:
    """A monthly table as the model writes it, or a ConfigError naming the file and column: the
    model never writes NaN, infinity, a negative head count or a missing month, so any of them means
    a damaged or hand-edited table, and analysing it would give silently wrong numbers."""
    for col in ("month", "employed"):
        if col not in df.columns:
            raise ConfigError(path, col, "expected a LabourLab monthly table with this column")
    if df.empty:
        raise ConfigError(path, "", "expected a monthly table with rows, found none")
    if months is not None:
        found = set(pd.to_numeric(df["month"], errors="coerce").dropna().astype(int).tolist())
        if found != set(range(1, months + 1)):
            raise ConfigError(
                path,
                "month",
                f"expected months 1..{months}, as the run manifest says, found {len(found)} distinct months",
            )
    numeric = df.select_dtypes("number")
    values = numeric.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        col = numeric.columns[int(np.flatnonzero(bad.any(axis=0))[0])]
        rows = int(bad.any(axis=1).sum())
        raise ConfigError(path, str(col), f"expected finite numbers, found NaN or infinity in {rows} row(s)")
    for col in STOCKS:
        if col in numeric.columns and (numeric[col] < 0).any():
            raise ConfigError(path, col, f"expected a head count >= 0, found {numeric[col].min():g}")
    return df


# ------------------------------------------------------------------------- layout (a)
def read_run_folder(folder: Path) -> RunData:
    """One finished run folder: its manifest, monthly table and, if present, cohort table."""
    man_path = folder / "manifest.json"
    man = read_json(man_path, "manifest")
    seed, regime, place, months, burn_in = _run_fields(man, man_path)
    monthly = _check_monthly(read_parquet(folder / "monthly.parquet"), folder / "monthly.parquet", months)
    cohorts = read_parquet(folder / "cohorts.parquet") if (folder / "cohorts.parquet").is_file() else None
    return RunData(regime, seed, monthly, cohorts, man, folder, folder.name, place, months, burn_in)


def _load_run_folders(folder: Path, keep: set[str] | None) -> list[RunData]:
    runs = []
    for man_path in sorted(folder.glob("*/manifest.json")):
        run_dir = man_path.parent
        if keep is not None and run_dir.name not in keep:
            continue
        if not (run_dir / "monthly.parquet").is_file():
            continue
        runs.append(read_run_folder(run_dir))
    return runs


# ------------------------------------------------------------------------- layout (b)
def is_experiment(folder: Path) -> bool:
    """An experiment folder has runs/ or monthly/ holding scenario=<name>/ partitions."""
    return any(
        (folder / sub).is_dir() and any(p.is_dir() and _PARTITION.match(p.name) for p in (folder / sub).iterdir())
        for sub in ("runs", "monthly")
    )


def _seed_files(part: Path, ext: str) -> dict[int, Path]:
    out = {}
    if part.is_dir():
        for p in part.iterdir():
            m = _SEED_FILE.match(p.name)
            if m and m["ext"] == ext and p.is_file():
                out[int(m["seed"])] = p
    return out


def read_experiment_run(folder: Path, scenario: str, seed: int) -> RunData:
    """One finished run of an experiment, by scenario and seed."""
    part = f"scenario={scenario}"
    man_path = folder / "runs" / part / f"seed={seed}.json"
    man = read_json(man_path, "run manifest")
    m_seed, _regime, place, months, burn_in = _run_fields(man, man_path)
    if m_seed != seed:
        raise ConfigError(man_path, "seed", f"expected {seed}, as the file name says, got {m_seed}")
    named = man.get("scenario", scenario) if isinstance(man, dict) else scenario
    if named != scenario:
        raise ConfigError(man_path, "scenario", f"expected {scenario!r}, as the folder name says, got {named!r}")
    mpath = folder / "monthly" / part / f"seed={seed}.parquet"
    # The partition keys are in the path; drop them if the table repeats them as columns.
    monthly = _check_monthly(read_parquet(mpath), mpath, months).drop(columns=["scenario", "seed"], errors="ignore")
    cpath = folder / "cohorts" / part / f"seed={seed}.parquet"
    cohorts = read_parquet(cpath).drop(columns=["scenario", "seed"], errors="ignore") if cpath.is_file() else None
    return RunData(scenario, seed, monthly, cohorts, man, man_path, f"{part}/seed={seed}", place, months, burn_in)


def _load_experiment(folder: Path, keep: set[str] | None, notes: list[str]) -> list[RunData]:
    runs, unfinished, no_table = [], 0, 0
    scenarios = set()
    for sub in ("runs", "monthly"):
        if (folder / sub).is_dir():
            scenarios |= {
                m["scenario"] for p in (folder / sub).iterdir() if p.is_dir() and (m := _PARTITION.match(p.name))
            }
    for scenario in sorted(scenarios):
        part = f"scenario={scenario}"
        manifests = _seed_files(folder / "runs" / part, "json")
        tables = _seed_files(folder / "monthly" / part, "parquet")
        unfinished += len(set(tables) - set(manifests))
        for seed in sorted(manifests):
            if keep is not None and f"{part}/seed={seed}" not in keep:
                continue
            if seed not in tables:
                no_table += 1
                continue
            runs.append(read_experiment_run(folder, scenario, seed))
    if unfinished:
        notes.append(f"{unfinished} unfinished run(s) (a monthly table without its run manifest) left out")
    if no_table:
        notes.append(f"{no_table} run manifest(s) without a monthly table left out")
    return runs


# ------------------------------------------------------------------------------ loader
def arm_names(folder: Path) -> list[str]:
    """The arms that have finished runs in `folder`, from names and run manifests only (no table is
    read), so a command can refuse a folder with nothing to compare before reading it all. A run
    whose manifest cannot be read is left out here; `load_results` reports it."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    if is_experiment(folder):
        return sorted(
            m["scenario"]
            for p in (folder / "runs").glob("scenario=*")
            if p.is_dir() and (m := _PARTITION.match(p.name)) and _seed_files(p, "json")
        )
    names = set()
    for man_path in folder.glob("*/manifest.json"):
        try:
            names.add(str(json.loads(man_path.read_text(encoding="utf-8"))["config"]["regime"]["name"]))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            continue
    return sorted(names)


def load_results(folder: Path, only: Iterable[str] | None = None) -> Results:
    """Every finished run in `folder`, in either layout.

    `only` restricts the runs read, by name: run-folder names (layout a) or
    "scenario=<name>/seed=<S>" (layout b). Raises ConfigError when the folder holds no finished run.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(folder, "", "no such folder" if not folder.exists() else NOT_RESULTS)
    keep = None if only is None else set(only)
    notes: list[str] = []
    if is_experiment(folder):
        runs = _load_experiment(folder, keep, notes)
        if not runs:
            raise ConfigError(
                folder, "", "an experiment folder with no finished run yet (no runs/scenario=<name>/seed=<S>.json)"
            )
        experiment = None
        if (folder / "manifest.json").is_file():
            experiment = read_json(folder / "manifest.json", "experiment manifest")
            if not isinstance(experiment, dict):
                raise ConfigError(folder / "manifest.json", "", "expected a JSON object (the experiment manifest)")
        return Results(folder, EXPERIMENT, runs, experiment, notes)
    runs = _load_run_folders(folder, keep)
    if not runs:
        raise ConfigError(folder, "", NOT_RESULTS)
    return Results(folder, RUN_FOLDERS, runs, None, notes)
