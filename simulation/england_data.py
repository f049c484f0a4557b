"""England's data files read and checked: the nine regions' figures (`configs/england/regions.toml`)
and the 326 districts of 2015 (`districts_2015.csv`, with `successors.csv` filling in the districts
abolished 2019-21). `simulation.england` builds the place from them; its docstring says how."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from simulation.configfiles import ConfigError, Strict, _nearest, _validate, read_toml, shipped_configs

ENGLAND_DIR = shipped_configs() / "england"
DISTRICTS_CSV = ENGLAND_DIR / "districts_2015.csv"
SUCCESSORS_CSV = ENGLAND_DIR / "successors.csv"
REGIONS_TOML = ENGLAND_DIR / "regions.toml"

REGIONS = (
    "north_east",
    "north_west",
    "yorkshire_humber",
    "east_midlands",
    "west_midlands",
    "east_of_england",
    "london",
    "south_east",
    "south_west",
)

DISTRICT_TYPES = ("NMD", "MD", "UA", "LBO", "CC")
CSV_COLUMNS = (
    "gss_code",
    "former_gss_codes",
    "name",
    "region",
    "type",
    "county",
    "pop_2020",
    "area_km2",
    "lat",
    "long",
)

Quality = Literal["F", "F-d", "F*", "E"]
_FIGURES = ("population", "wap", "emp_pct", "ue_pct", "inact_pct", "cc_pct", "claimants", "nd", "nbiz")


class _Figures(Strict):
    population: int = Field(gt=0, description="mid-2015 population, all ages")
    wap: int = Field(gt=0, description="16-64 population")
    emp_pct: float = Field(gt=0, lt=100, description="employment rate, % of 16-64")
    ue_pct: float = Field(ge=0, lt=100, description="unemployment rate, % of the economically active")
    inact_pct: float = Field(ge=0, lt=100, description="inactivity rate, % of 16-64")
    cc_pct: float = Field(ge=0, le=100, description="claimant rate, % of 16-64 (residence-based)")
    claimants: int = Field(ge=0, description="claimant count, June 2015")
    nd: int = Field(gt=0, description="districts")
    nbiz: int = Field(ge=0, description="VAT/PAYE enterprises")
    quality: dict[str, Quality]
    sources: str = Field(min_length=1)
    note: str = ""


class RegionRecord(_Figures):
    name: str = Field(min_length=1, description="the region as written in districts_2015.csv")


class EnglandRecord(_Figures):
    esa_ib: int = Field(gt=0, description="ESA/IB claimants")


class RegionsFile(Strict):
    name: str = Field(min_length=1)
    sources: list[str] = Field(min_length=1)
    england: EnglandRecord
    regions: dict[str, RegionRecord]
    metropolitan_counties: dict[str, list[str]]


def load_regions(path: Path | None = None) -> RegionsFile:
    """Read and check regions.toml; any problem is a one-line ConfigError naming file and field."""
    path = path or REGIONS_TOML
    rf = _validate(RegionsFile, read_toml(path), path)
    for key in rf.regions:
        if key not in REGIONS:
            raise ConfigError(path, f"regions.{key}", f"unknown region{_nearest(key, REGIONS)}")
    for key in REGIONS:
        if key not in rf.regions:
            raise ConfigError(path, f"regions.{key}", "required region is missing")
    records: list[tuple[str, _Figures]] = [("england", rf.england)]
    records += [(f"regions.{k}", rf.regions[k]) for k in REGIONS]
    for where, rec in records:
        figures = (*_FIGURES, "esa_ib") if where == "england" else _FIGURES
        for key in rec.quality:
            if key not in figures:
                raise ConfigError(path, f"{where}.quality.{key}", f"not a figure{_nearest(key, figures)}")
        for key in figures:
            if key not in rec.quality:
                raise ConfigError(path, f"{where}.quality.{key}", "every figure needs a quality tag (F, F-d, F* or E)")
        if rec.wap >= rec.population:
            raise ConfigError(path, f"{where}.wap", f"expected less than population {rec.population}, got {rec.wap}")
        if rec.emp_pct + rec.inact_pct > 100:
            raise ConfigError(path, f"{where}.emp_pct", "employment and inactivity rates sum to more than 100%")
    for field in ("wap", "population", "claimants", "nd"):
        total = sum(getattr(rf.regions[k], field) for k in REGIONS)
        expected = getattr(rf.england, field)
        if abs(total - expected) > 0.001 * expected:
            raise ConfigError(path, f"england.{field}", f"regions sum to {total}, expected about {expected}")
    return rf


def _read_csv(path: Path, columns: tuple[str, ...]) -> Any:
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype={"gss_code": str, "successor_code": str}, keep_default_na=True)
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except (OSError, ValueError) as e:
        raise ConfigError(path, "", f"cannot read as CSV: {e}") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(path, missing[0], "required column is missing")
    return df


def districts_table(rf: RegionsFile) -> Any:
    """The 326 districts with region key, 2020 population and centroid filled in, sorted by code."""
    df = _read_csv(DISTRICTS_CSV, CSV_COLUMNS)
    region_key = {rf.regions[k].name: k for k in REGIONS}
    for i, row in df.iterrows():
        where = f"row {i + 2}"  # line in the file (header is line 1)
        if row["region"] not in region_key:
            raise ConfigError(DISTRICTS_CSV, f"{where}.region", f"unknown region {row['region']!r}")
        if row["type"] not in DISTRICT_TYPES:
            raise ConfigError(DISTRICTS_CSV, f"{where}.type", f"expected one of {DISTRICT_TYPES}")
    if df["gss_code"].duplicated().any():
        dup = df.loc[df["gss_code"].duplicated(), "gss_code"].iloc[0]
        raise ConfigError(DISTRICTS_CSV, "gss_code", f"duplicate code {dup}")
    df = df.assign(region_key=df["region"].map(region_key)).sort_values("gss_code").reset_index(drop=True)

    # Abolished districts: an equal share of the successor's 2020 population, its centroid.
    succ = _read_csv(
        SUCCESSORS_CSV,
        ("gss_code", "successor_code", "successor_name", "successor_pop_2020", "successor_lat", "successor_long"),
    )
    blank = df["pop_2020"].isna() | df["lat"].isna() | df["long"].isna()
    missing = sorted(set(df.loc[blank, "gss_code"]) - set(succ["gss_code"]))
    if missing:
        raise ConfigError(SUCCESSORS_CSV, "gss_code", f"no successor for blank district {missing[0]}")
    succ = succ[succ["gss_code"].isin(df.loc[blank, "gss_code"])].copy()
    succ["n_pred"] = succ.groupby("successor_code")["gss_code"].transform("count")
    succ["share_pop"] = succ["successor_pop_2020"] / succ["n_pred"]
    succ = succ.set_index("gss_code")
    idx = df.index[blank]
    codes = list(df.loc[blank, "gss_code"])
    df["successor"] = ""
    df.loc[idx, "successor"] = [
        f"{succ.at[c, 'successor_name']} ({succ.at[c, 'successor_code']}, pop_2020 "
        f"{succ.at[c, 'successor_pop_2020']:,.0f}, shared by {succ.at[c, 'n_pred']})"
        for c in codes
    ]
    df.loc[idx, "pop_2020"] = [succ.at[c, "share_pop"] for c in codes]
    df.loc[idx, "lat"] = [succ.at[c, "successor_lat"] for c in codes]
    df.loc[idx, "long"] = [succ.at[c, "successor_long"] for c in codes]
    df["pop_imputed"] = blank

    counts = df.groupby("region_key").size()
    for k in REGIONS:
        if counts.get(k, 0) != rf.regions[k].nd:
            raise ConfigError(
                DISTRICTS_CSV, "region", f"{k} has {counts.get(k, 0)} districts, regions.toml says {rf.regions[k].nd}"
            )
    return df
