"""The England place: all 326 districts of 2015 (or one region's), built bottom-up from shipped data.

`build_place()` returns a `PlaceFile` like the hand-written ones in `configs/places/`, made from

- `configs/england/districts_2015.csv`: the 326 lower-tier and unitary districts alive on
  2015-07-01 with GSS code, name, region, type, county, 2020 population and centroid (mySociety,
  MIT licence; see `configs/england/LICENSE-mysociety.txt`);
- `configs/england/successors.csv`: for the 25 districts abolished 2019-21 (blank population and
  centroid in the CSV), the authority that replaced them, with its 2020 population and centroid
  (same mySociety file);
- `configs/england/regions.toml`: the nine regions' figures from /work/shared/england.md s3 and s9
  (16-64 population, employment, unemployment, inactivity and claimant rates, businesses) and
  England's ESA/IB total (s2), each tagged [F]/[F-d]/[F*]/[E].

`load_place("england")` and `load_place("region:<name>")` (simulation/config.py) call it.

How each district figure is made
--------------------------------
- Working-age population: 0.97 x pop_2020 (the data README's 2015 estimate) x the region's 16-64
  share (region wap / region population, england.md s3 and s9), then scaled so the districts of each
  region sum exactly to the region's wap (largest-remainder rounding). The scaling makes the region
  totals the evidence; the CSV only shares them out. The 25 blank pop_2020 rows: the data README's
  rule (county median, else region median) gives every blank district of a successor group the
  same figure, but the groups' totals then miss their successors' 2020 populations by -19% (West
  Northamptonshire) to +71% (Dorset). So each takes an equal share of its successor authority's
  pop_2020 [F]: the same equal split, with the group total right. Their centroid is the successor's.
- Rates: every district takes its region's employment, unemployment, inactivity and claimant rates.
  District variation within a region is not in the data (england.md s5 gives only the spread:
  district employment about 60-85%, unemployment about 2.5-11%). The regional figures satisfy
  employment = (1 - inactivity)(1 - unemployment) within 0.001; were one more than 0.015 out (the
  District validator's tolerance), inactivity would be recomputed from employment and unemployment
  and the district notes would say so.
- ESA/IB rate: England's 2.1m / 34.75m = 6.04% of 16-64 (england.md s2) times the region's claimant
  rate over England's (1.82%). An assumption: ill-health benefit claims are taken to vary between
  regions as unemployment-benefit claims do (NE 9.5%, SE 3.6%).
- Businesses: the region's VAT/PAYE enterprise count shared among its districts by working-age
  population (largest remainder, so the region's total holds exactly).
- Construction value: an assumption, Southampton's GBP 146.7m a year per 168,000 working-age
  (configs/places/southampton.toml) applied per head everywhere.

Markets (travel-to-work areas)
------------------------------
England had 149 travel-to-work areas on 2011 Census data (england.md s6), but the data hold no
district-to-TTWA lookup, so districts are grouped into about 149 markets:

1. London (32 boroughs and the City) is one market: one labour market in every TTWA definition.
2. The 36 metropolitan districts form one market per metropolitan county (Greater Manchester,
   Merseyside, South Yorkshire, West Yorkshire, Tyne and Wear, the West Midlands), from the GSS
   lists in regions.toml: the CSV's county column is blank for them, and grouping by region and
   type instead would merge Greater Manchester with Merseyside and South with West Yorkshire.
3. The other 257 districts are clustered within their region by location: Ward linkage
   (`ward_merge`: the partition scipy.cluster.hierarchy gives, in the project's own arithmetic)
   on centroids projected to kilometres (equirectangular at the region's mean latitude), cut
   into exactly k clusters. The 149 - 7 = 142 clusters are shared among the regions in proportion
   to their remaining districts (largest remainder), about 0.55 a district.
   So England has exactly 149 markets and every market lies within one region.

Everything is deterministic (districts sorted by GSS code; Ward has no random start); clusters are
named `<region>_NN`, numbered by their smallest GSS code.

Scale
-----
`DEFAULT_SCALE` people per row: at 100, all England (34.75m of working age) is about 347,500
person rows, and a 60-month run with a 24-month burn-in takes about 8-11 s and 300 MB.
`people_per_agent` (or `--scale`) overrides it. Firm rows are scaled too (a district's businesses
/ people_per_agent), so at 100 a typical district has only about 40 small-firm rows and one
row's death moves 100 firms' jobs at once: district employment then wanders far from its start
(standard deviation about 8 points over 60 months in the East Midlands, against about 1.4 at a
scale of 10). England and region totals hold up better; for district-level results use a scale of
10 (about 50-80 s a run, 1.3 GB). See README "England".
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Literal

import numba
import numpy as np
from pydantic import Field

from simulation import detmath
from simulation.configfiles import (
    ConfigError,
    District,
    PlaceFile,
    Strict,
    _nearest,
    _validate,
    read_toml,
    shipped_configs,
)

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
PLACE_NAMES = ("england", *(f"region:{r}" for r in REGIONS))

DEFAULT_SCALE = 100.0  # people per row; see the module docstring and README "England"
TTWA_ENGLAND = 149  # English travel-to-work areas, 2011 Census (england.md s6)
POP_2015_PER_2020 = 0.97  # data/README.md: 2015 population about 0.97 x pop_2020
SOUTHAMPTON_CONSTRUCTION_M = 146.7  # GBP m a year (configs/places/southampton.toml)
SOUTHAMPTON_WAP = 168_000
RATE_TOLERANCE = 0.015  # District's employment-identity tolerance (simulation/config.py)
EARTH_KM_PER_DEGREE = 111.195
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


# ------------------------------------------------------------------------------- regions.toml
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


# ---------------------------------------------------------------------------------- the CSVs
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


def _districts_table(rf: RegionsFile) -> Any:
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


# ------------------------------------------------------------------------------------ helpers
def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to weights summing exactly to total (ties broken by position)."""
    w = np.asarray(weights, dtype=np.float64)
    quota = total * w / w.sum()
    out = np.floor(quota).astype(np.int64)
    short = int(total - out.sum())
    order = np.lexsort((np.arange(w.size), -(quota - out)))
    out[order[:short]] += 1
    return out


def _cluster_counts(rest: dict[str, int], n_clusters: int) -> dict[str, int]:
    """Clusters per region, proportional to each region's districts outside London and the
    metropolitan counties, at least one where there are any and never more than districts."""
    keys = [k for k in REGIONS if rest.get(k, 0) > 0]
    sizes = np.array([rest[k] for k in keys], dtype=np.float64)
    k = largest_remainder(n_clusters, sizes)
    k = np.clip(k, 1, sizes.astype(np.int64))
    return dict(zip(keys, (int(x) for x in k), strict=True))


@numba.njit(cache=True)
def ward_merge(xy: np.ndarray, k: int) -> np.ndarray:
    """Ward's agglomerative clustering of the points xy (n x 2) down to k clusters: a cluster
    label (0..n-1, the lowest member row) per point. Ward's minimum-variance criterion (Ward 1963)
    by the Lance-Williams update of squared distances (Lance and Williams 1967); each step merges
    the closest pair, the lowest rows first at a tie. This is the partition scipy's
    `cut_tree(linkage(xy, "ward"), k)` gives, computed here in plain IEEE arithmetic (scipy's
    compiled loops may fuse multiply-adds on some CPUs, so a tie there could go either way)."""
    n = xy.shape[0]
    d2 = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            dx = xy[i, 0] - xy[j, 0]
            dy = xy[i, 1] - xy[j, 1]
            d2[i, j] = dx * dx + dy * dy
    size = np.ones(n)
    alive = np.ones(n, dtype=np.bool_)
    label = np.arange(n)
    for _ in range(n - k):
        best, bi, bj = np.inf, -1, -1
        for i in range(n):
            if alive[i]:
                for j in range(i + 1, n):
                    if alive[j] and d2[i, j] < best:
                        best, bi, bj = d2[i, j], i, j
        # j joins i: i's squared distance to each other cluster m by Lance-Williams.
        ni, nj = size[bi], size[bj]
        for m in range(n):
            if alive[m] and m != bi and m != bj:
                nm = size[m]
                v = ((ni + nm) * d2[bi, m] + (nj + nm) * d2[bj, m] - nm * best) / (ni + nj + nm)
                d2[bi, m] = v
                d2[m, bi] = v
        size[bi] = ni + nj
        alive[bj] = False
        for r in range(n):
            if label[r] == bj:
                label[r] = bi
    return label


def _ward_clusters(lat: np.ndarray, lon: np.ndarray, k: int) -> np.ndarray:
    """Ward clusters (labels 0..k-1, numbered in row order of first appearance) of projected points."""
    if k >= lat.size:
        return np.arange(lat.size)
    if k == 1:
        return np.zeros(lat.size, dtype=np.int64)
    # cos of the mean latitude as a fraction of a turn, by our own series (libm's cos has
    # CPU-specific variants, and the clustering must not depend on the machine).
    xy = np.column_stack([lon * detmath.cos_turns(float(lat.mean()) / 360.0), lat]) * EARTH_KM_PER_DEGREE
    labels = ward_merge(np.ascontiguousarray(xy), k)
    _, first = np.unique(labels, return_index=True)
    renumber = np.full(lat.size, -1, dtype=np.int64)
    renumber[labels[np.sort(first)]] = np.arange(k)
    return renumber[labels]


def _markets(df: Any, rf: RegionsFile) -> tuple[list[str], dict[str, int]]:
    """A market name per district (rows sorted by GSS code) and the clusters per region."""
    market = [""] * len(df)
    codes = list(df["gss_code"])
    row_of = {c: i for i, c in enumerate(codes)}
    for county, members in sorted(rf.metropolitan_counties.items()):
        regions = set()
        for code in members:
            if code not in row_of or df.at[row_of[code], "type"] != "MD":
                raise ConfigError(
                    REGIONS_TOML, f"metropolitan_counties.{county}", f"{code} is not a metropolitan district"
                )
            if market[row_of[code]]:
                raise ConfigError(REGIONS_TOML, f"metropolitan_counties.{county}", f"{code} is listed twice")
            market[row_of[code]] = county
            regions.add(df.at[row_of[code], "region_key"])
        if len(regions) != 1:
            raise ConfigError(REGIONS_TOML, f"metropolitan_counties.{county}", "spans more than one region")
    for i in range(len(df)):
        if df.at[i, "region_key"] == "london":
            market[i] = "london"
        elif df.at[i, "type"] == "MD" and not market[i]:
            raise ConfigError(
                REGIONS_TOML, "metropolitan_counties", f"metropolitan district {codes[i]} is in no county"
            )
    fixed = len(set(m for m in market if m))
    rest_rows = {k: [i for i in range(len(df)) if not market[i] and df.at[i, "region_key"] == k] for k in REGIONS}
    counts = _cluster_counts({k: len(v) for k, v in rest_rows.items()}, TTWA_ENGLAND - fixed)
    for k, rows in rest_rows.items():
        if not rows:
            continue
        r = np.array(rows)
        labels = _ward_clusters(df["lat"].to_numpy(float)[r], df["long"].to_numpy(float)[r], counts[k])
        for i, lab in zip(rows, labels, strict=True):
            market[i] = f"{k}_{lab + 1:02d}"
    return market, counts


# ------------------------------------------------------------------------------------ building
@functools.cache
def _england() -> tuple[tuple[District, ...], tuple[str, ...], dict[str, Any]]:
    """All 326 districts (sorted by GSS code), their region keys, and figures for the description."""
    rf = load_regions()
    df = _districts_table(rf)
    markets, counts = _markets(df, rf)
    eng = rf.england
    esa_england = eng.esa_ib / eng.wap
    districts: list[District] = []
    regions: list[str] = []
    scaling: dict[str, float] = {}
    for key in REGIONS:
        reg = rf.regions[key]
        rows = df.index[df["region_key"] == key]
        share = reg.wap / reg.population
        raw = POP_2015_PER_2020 * df.loc[rows, "pop_2020"].to_numpy(float) * share
        scale = reg.wap / raw.sum()
        scaling[key] = scale
        wap = largest_remainder(reg.wap, raw)
        nbiz = largest_remainder(reg.nbiz, wap)
        emp, ue, inact = reg.emp_pct / 100, reg.ue_pct / 100, reg.inact_pct / 100
        gap = (1 - inact) * (1 - ue) - emp
        if abs(gap) > RATE_TOLERANCE:
            inact = 1 - emp / (1 - ue)
            rate_note = (
                f"[F-d] inactivity recomputed as 1 - emp/(1 - ue) = {inact:.3f}: the region's "
                f"{reg.inact_pct}% was {gap:+.3f} off the identity."
            )
        else:
            rate_note = f"(1-inact)(1-ue) - emp = {gap:+.4f}."
        cc = reg.cc_pct / 100
        esa = esa_england * reg.cc_pct / eng.cc_pct
        q = reg.quality
        for j, i in enumerate(rows):
            r = df.loc[i]
            if r["pop_imputed"]:
                pop_note = f"[E] pop_2020 blank (abolished 2019-21): an equal share of {r['successor']} [F]"
            else:
                pop_note = f"[F] pop_2020 {r['pop_2020']:,.0f}"
            county = r["county"] if isinstance(r["county"], str) else "-"
            notes = (
                f"[F] {r['type']}, county {county}, region {key} (mySociety S6). {pop_note}. "
                f"[E] working age {POP_2015_PER_2020} x pop_2020 x 16-64 share {share:.3f}, x {scale:.3f} "
                f"to the region's wap. Rates are the region's (emp [{q['emp_pct']}], ue [{q['ue_pct']}], "
                f"inact [{q['inact_pct']}], cc [{q['cc_pct']}]); no district variation in the data. "
                f"{rate_note} Market {markets[i]}."
            )
            districts.append(
                District(
                    name=str(r["name"]),
                    code=str(r["gss_code"]),
                    market=markets[i],
                    working_age_pop=int(wap[j]),
                    employment_rate=round(emp, 4),
                    unemployment_rate=round(ue, 4),
                    inactivity_rate=round(inact, 4),
                    claimant_rate=round(cc, 5),
                    esa_ib_rate=round(esa, 5),
                    businesses=int(nbiz[j]),
                    construction_value_m=round(SOUTHAMPTON_CONSTRUCTION_M * int(wap[j]) / SOUTHAMPTON_WAP, 3),
                    notes=notes,
                )
            )
            regions.append(key)
    order = np.argsort([d.code for d in districts], kind="stable")
    info = {"rf": rf, "clusters": counts, "scaling": scaling, "esa_england": esa_england}
    return tuple(districts[i] for i in order), tuple(regions[i] for i in order), info


def region_of(place: PlaceFile) -> dict[str, str]:
    """Region key of each district code of an England place."""
    districts, regions, _ = _england()
    by_code = {d.code: r for d, r in zip(districts, regions, strict=True)}
    return {d.code: by_code[d.code] for d in place.districts}


def _check_region(region: str) -> None:
    if region not in REGIONS:
        raise ConfigError(
            REGIONS_TOML,
            "region",
            f"no such region {region!r}{_nearest(region, REGIONS)}; known: {', '.join(REGIONS)}",
        )


def build_place(region: str | None = None, people_per_agent: float = DEFAULT_SCALE) -> PlaceFile:
    """England's 326 districts (or one region's) as a PlaceFile; see the module docstring."""
    if region is not None:
        _check_region(region)
    if isinstance(people_per_agent, bool) or not isinstance(people_per_agent, int | float):
        raise ConfigError("england", "people_per_agent", f"expected a number >= 1, got {people_per_agent!r}")
    if not (math.isfinite(people_per_agent) and people_per_agent >= 1):
        raise ConfigError("england", "people_per_agent", f"expected a number >= 1, got {people_per_agent}")
    districts, regions, info = _england()
    rf: RegionsFile = info["rf"]
    chosen = [d for d, r in zip(districts, regions, strict=True) if region is None or r == region]
    n_markets = len({d.market for d in chosen})
    wap = sum(d.working_age_pop for d in chosen)
    if region is None:
        name = "england"
        what = f"England's 326 districts of 2015 ({wap:,} of working age) in {n_markets} travel-to-work markets"
    else:
        name = f"region:{region}"
        what = (
            f"{rf.regions[region].name}: {len(chosen)} districts of 2015 ({wap:,} of working age) "
            f"in {n_markets} travel-to-work markets"
        )
    description = (
        f"{what}, built bottom-up by simulation/england.py from the mySociety district list and "
        "england.md's regional figures (about 2015). Every district takes its region's rates; markets are London, "
        "the six metropolitan counties and Ward clusters of the other districts within each region."
    )
    sources = [
        "configs/england/districts_2015.csv: the 326 districts alive on 2015-07-01 with GSS code, name, region, "
        "type, county, pop_2020 and centroid (mySociety 'UK Local Authority Names and Codes', MIT licence, "
        "Copyright (c) 2021 mySociety; england.md s1 S6, s7)",
        "configs/england/successors.csv: successors of the 25 districts abolished 2019-21, with their pop_2020 and "
        "centroid (same mySociety file); each abolished district takes an equal share of its successor's population",
        "configs/england/regions.toml: per region wap, population, employment, unemployment, inactivity and "
        "claimant rates, claimants, districts and VAT/PAYE businesses (england.md s3, s9, quality-tagged); "
        "England ESA/IB 2.1m of 34.75m aged 16-64 (england.md s2)",
        "england.md s4, s5: 2015 population about 0.97 x pop_2020; district rates within a region are not in the "
        "data (only their spread), so every district takes its region's employment, unemployment, inactivity and "
        "claimant rates [E]",
        "england.md s6: 149 English travel-to-work areas (2011); no district-to-TTWA lookup, so markets are London, "
        "the metropolitan counties and Ward clusters of projected centroids within each region, 149 in all",
        "Assumption: ESA/IB rate = 6.04% (England) x region claimant rate / England's 1.82% (ill-health claims "
        "taken to vary between regions as claimant-count claims do)",
        "Assumption: businesses = the region's VAT/PAYE count shared by working-age population",
        "Assumption: construction value = Southampton's GBP 146.7m a year per 168,000 working-age "
        "(configs/places/southampton.toml, calibration.md s5) applied per head",
    ]
    return PlaceFile(
        name=name,
        description=description,
        people_per_agent=float(people_per_agent),
        sources=sources,
        districts=list(chosen),
    )


def place_by_name(name: str) -> PlaceFile:
    """`england` or `region:<name>`, at the default scale (what config.load_place calls)."""
    if name == "england":
        return build_place()
    region = name.removeprefix("region:")
    _check_region(region)
    return build_place(region)
