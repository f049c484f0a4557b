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
from typing import Any

import numpy as np

from simulation.configfiles import ConfigError, District, PlaceFile, _nearest
from simulation.england_data import REGIONS, REGIONS_TOML, RegionsFile, districts_table, load_regions
from simulation.england_markets import largest_remainder, markets, ward_merge

# The data files and the markets live in modules of their own; these names stay importable here.
__all__ = [
    "DEFAULT_SCALE",
    "PLACE_NAMES",
    "REGIONS",
    "REGIONS_TOML",
    "build_place",
    "largest_remainder",
    "load_regions",
    "place_by_name",
    "region_of",
    "ward_merge",
]

PLACE_NAMES = ("england", *(f"region:{r}" for r in REGIONS))

DEFAULT_SCALE = 100.0  # people per row; see the module docstring and README "England"
POP_2015_PER_2020 = 0.97  # data/README.md: 2015 population about 0.97 x pop_2020
# Construction output (new work), GBP m a year per 16-64 resident: England's about GBP 82bn over
# 34.75m (calibration.md s5; configs/places/southampton.toml applies the same rate).
CONSTRUCTION_M_PER_WAP = 2.36 / 1000
RATE_TOLERANCE = 0.015  # District's employment-identity tolerance (simulation/config.py)


@functools.cache
def _england() -> tuple[tuple[District, ...], tuple[str, ...], dict[str, Any]]:
    """All 326 districts (sorted by GSS code), their region keys, and figures for the description."""
    rf = load_regions()
    df = districts_table(rf)
    market, counts = markets(df, rf)
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
                f"{rate_note} Market {market[i]}."
            )
            districts.append(
                District(
                    name=str(r["name"]),
                    code=str(r["gss_code"]),
                    market=market[i],
                    working_age_pop=int(wap[j]),
                    employment_rate=round(emp, 4),
                    unemployment_rate=round(ue, 4),
                    inactivity_rate=round(inact, 4),
                    claimant_rate=round(cc, 5),
                    esa_ib_rate=round(esa, 5),
                    businesses=int(nbiz[j]),
                    construction_value_m=round(CONSTRUCTION_M_PER_WAP * int(wap[j]), 3),
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
        "Assumption: construction output = England's new work, about GBP 2.36m a year per 1,000 residents "
        "aged 16-64 (calibration.md s5: ONS new work, Great Britain GBP 99.3bn in 2016, about GBP 95bn in "
        "2015, England about 86%), applied per head",
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
