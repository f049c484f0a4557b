"""The England place: 326 districts built from configs/england/, its regions, markets and a short run."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from pathlib import Path

import pytest

from simulation import detmath, england, england_data, england_markets
from simulation.config import ConfigError, District, PlaceFile, available, load_place
from simulation.england import DEFAULT_SCALE, REGIONS, build_place, load_regions, region_of
from simulation.model import LabourMarketModel

ENGLAND_WAP = 34_750_000  # england.md s2 and s9


@pytest.fixture(scope="module")
def place() -> PlaceFile:
    return build_place()


@pytest.fixture(scope="module")
def regions_of(place: PlaceFile) -> dict[str, str]:
    return region_of(place)


def test_326_districts_with_unique_gss_codes(place: PlaceFile) -> None:
    assert len(place.districts) == 326
    codes = [d.code for d in place.districts]
    assert len(set(codes)) == 326
    assert all(c.startswith("E0") for c in codes)
    assert place.name == "england" and place.people_per_agent == DEFAULT_SCALE


def test_every_district_validates_as_a_district(place: PlaceFile) -> None:
    for d in place.districts:
        District.model_validate(d.model_dump())
    PlaceFile.model_validate(place.model_dump())


def test_working_age_sums_to_england_and_to_each_region(place: PlaceFile, regions_of: dict[str, str]) -> None:
    total = sum(d.working_age_pop for d in place.districts)
    assert abs(total - ENGLAND_WAP) <= 0.005 * ENGLAND_WAP
    rf = load_regions()
    by_region: dict[str, int] = defaultdict(int)
    for d in place.districts:
        by_region[regions_of[d.code]] += d.working_age_pop
    for key in REGIONS:
        assert by_region[key] == rf.regions[key].wap, key


def test_district_counts_per_region_match_england_md(regions_of: dict[str, str]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for r in regions_of.values():
        counts[r] += 1
    expected = {
        "north_east": 12,
        "north_west": 39,
        "yorkshire_humber": 21,
        "east_midlands": 40,
        "west_midlands": 30,
        "east_of_england": 47,
        "london": 33,
        "south_east": 67,
        "south_west": 37,
    }
    assert dict(counts) == expected


def test_rates_are_the_regions(place: PlaceFile, regions_of: dict[str, str]) -> None:
    rf = load_regions()
    esa_england = rf.england.esa_ib / rf.england.wap
    for d in place.districts:
        reg = rf.regions[regions_of[d.code]]
        assert d.employment_rate == pytest.approx(reg.emp_pct / 100)
        assert d.unemployment_rate == pytest.approx(reg.ue_pct / 100)
        assert d.inactivity_rate == pytest.approx(reg.inact_pct / 100)  # no recomputation was needed
        assert d.claimant_rate == pytest.approx(reg.cc_pct / 100)
        assert d.esa_ib_rate == pytest.approx(esa_england * reg.cc_pct / rf.england.cc_pct, abs=1e-5)
        implied = (1 - d.inactivity_rate) * (1 - d.unemployment_rate)
        assert abs(implied - d.employment_rate) <= 0.015


def test_businesses_and_construction_scale_with_working_age(place: PlaceFile, regions_of: dict[str, str]) -> None:
    rf = load_regions()
    nbiz: dict[str, int] = defaultdict(int)
    for d in place.districts:
        nbiz[regions_of[d.code]] += d.businesses
        assert d.construction_value_m == pytest.approx(england.CONSTRUCTION_M_PER_WAP * d.working_age_pop, abs=1e-3)
    assert dict(nbiz) == {k: rf.regions[k].nbiz for k in REGIONS}
    # England ESA/IB comes back to about 2.1m (england.md s2).
    esa = sum(d.esa_ib_rate * d.working_age_pop for d in place.districts)
    assert esa == pytest.approx(2_100_000, rel=0.01)


def test_abolished_districts_share_their_successors_population(place: PlaceFile) -> None:
    # Bucks' four districts (blank pop_2020) share Buckinghamshire's 547,060 equally.
    bucks = [d for d in place.districts if d.code in ("E07000004", "E07000005", "E07000006", "E07000007")]
    assert len(bucks) == 4 and len({d.working_age_pop for d in bucks}) <= 2  # equal up to rounding
    assert all("Buckinghamshire" in d.notes for d in bucks)


def test_markets_number_149_each_within_one_region(place: PlaceFile, regions_of: dict[str, str]) -> None:
    markets: dict[str, set[str]] = defaultdict(set)
    for d in place.districts:
        markets[d.market].add(regions_of[d.code])
    print(f"\nEngland markets: {len(markets)} (149 English TTWAs in 2011)")
    assert len(markets) == 149
    assert all(len(r) == 1 for r in markets.values())


def test_london_is_one_market_and_metropolitan_counties_are_markets(
    place: PlaceFile, regions_of: dict[str, str]
) -> None:
    london = {d.market for d in place.districts if regions_of[d.code] == "london"}
    assert london == {"london"}
    assert sum(d.market == "london" for d in place.districts) == 33
    by_market: dict[str, list[str]] = defaultdict(list)
    for d in place.districts:
        by_market[d.market].append(d.name)
    assert len(by_market["greater_manchester"]) == 10 and "Oldham" in by_market["greater_manchester"]
    assert sorted(by_market["merseyside"]) == ["Knowsley", "Liverpool", "Sefton", "St. Helens", "Wirral"]
    assert "Gateshead" in by_market["tyne_and_wear"]
    assert len(by_market["west_midlands_met"]) == 7 and "Birmingham" in by_market["west_midlands_met"]


def test_build_is_deterministic() -> None:
    england._england.cache_clear()
    a = build_place()
    england._england.cache_clear()
    b = build_place()
    assert a.model_dump() == b.model_dump()


def test_load_place_hook_and_regions() -> None:
    ne = load_place("region:north_east")
    assert ne.name == "region:north_east" and len(ne.districts) == 12
    assert sum(d.working_age_pop for d in ne.districts) == 1_661_000
    assert load_place("england").model_dump() == build_place().model_dump()
    assert {"england", "region:london"} <= set(available("places"))
    assert {"southampton", "stevenage", "testville"} <= set(available("places"))
    whole = build_place()
    for key in REGIONS:
        p = build_place(key, people_per_agent=250)
        assert p.people_per_agent == 250
        # A region's districts are England's districts of that region, markets and all.
        assert p.districts == [d for d in whole.districts if d.code in region_of(p)]
        assert set(region_of(p).values()) == {key}


@pytest.mark.parametrize("name", ["region:north_eats", "region:", "region:London"])
def test_bad_region_is_a_one_line_config_error(name: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_place(name)
    msg = str(e.value)
    assert "\n" not in msg and "regions.toml" in msg and "no such region" in msg
    if name == "region:north_eats":
        assert "did you mean 'north_east'" in msg


def test_bad_scale_is_a_config_error() -> None:
    for bad in (0.5, math.nan, math.inf, True):
        with pytest.raises(ConfigError, match="people_per_agent"):
            build_place(people_per_agent=bad)


def _write_regions(tmp_path: Path, old: str, new: str) -> Path:
    text = england.REGIONS_TOML.read_text()
    assert old in text
    path = tmp_path / "regions.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        ("wap = 1661000", "wapp = 1661000", "regions.north_east.wapp", "unknown key (did you mean 'wap'?)"),
        ("emp_pct = 70.4", 'emp_pct = "70.4"', "regions.north_east.emp_pct", "valid number"),
        ("ue_pct = 8.0", "ue_pct = 108.0", "regions.north_east.ue_pct", "less than 100"),
        ("[regions.north_east]", "[regions.north_eest]", "regions.north_eest", "unknown region"),
        ('emp_pct = "F", ue_pct', 'emp_pct = "X", ue_pct', "regions.north_east.quality.emp_pct", "'F'"),
        (
            'nbiz = "E" }\nsources = "S1, S5',
            'nbiz = "E", nbz = "E" }\nsources = "S1, S5',
            "quality.nbz",
            "not a figure",
        ),
        ("wap = 1661000", "wap = 1761000", "england.wap", "regions sum to 34850000"),
    ],
)
def test_bad_regions_file_is_a_one_line_config_error(
    tmp_path: Path, old: str, new: str, field: str, expected: str
) -> None:
    path = _write_regions(tmp_path, old, new)
    with pytest.raises(ConfigError) as e:
        load_regions(path)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(path)) and field in msg and expected in msg, msg


def test_short_run_of_a_region() -> None:
    m = LabourMarketModel(
        place="region:north_east",
        regime="centralised",
        seed=1,
        months=3,
        burn_in=2,
        agent_views=False,
        people_per_agent=1000,
    )
    for _ in range(3):
        m.step()
    df = m.results_frame()
    assert len(df) == 3 * 12 and df["population"].sum() > 0
    assert set(df["market"]) == {d.market for d in load_place("region:north_east").districts}


def test_two_month_run_of_all_england() -> None:
    t0 = time.perf_counter()
    m = LabourMarketModel(
        place="england", regime="cooperative", seed=1, months=2, burn_in=2, agent_views=False, people_per_agent=1000
    )
    for _ in range(2):
        m.step()
    wall = time.perf_counter() - t0
    df = m.results_frame()
    assert len(df) == 2 * 326
    assert df.groupby("month")["population"].sum().iloc[0] == pytest.approx(ENGLAND_WAP, rel=0.01)
    print(f"\nbenchmark: England, 2+2 months at people_per_agent=1000 ({m.people.n:,} rows): {wall:.1f}s")


def _partition(labels) -> list[tuple[int, ...]]:  # type: ignore[no-untyped-def]
    import numpy as np

    return sorted(tuple(np.flatnonzero(labels == lab).tolist()) for lab in np.unique(labels))


def test_ward_merge_is_scipys_partition() -> None:
    """The project's own Ward clustering (plain arithmetic, the same on every machine) cuts point
    sets into the same clusters as scipy's linkage and cut_tree, and England's markets are those
    scipy's Ward gives (the market list is a result: it must not follow a CPU's rounding)."""
    import numpy as np
    from scipy.cluster.hierarchy import cut_tree, linkage

    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(2, 50))
        k = int(rng.integers(1, n + 1))
        xy = rng.normal(size=(n, 2)) * rng.uniform(1, 200)
        want = cut_tree(linkage(xy, method="ward"), n_clusters=k).ravel()
        assert _partition(england.ward_merge(xy, k)) == _partition(want)
    rf = load_regions()
    df = england_data.districts_table(rf)
    ours, _ = england_markets.markets(df, rf)
    for region in REGIONS:
        clustered = [f"{region}_{j:02d}" for j in range(1, 100)]  # (not a metropolitan county's market)
        rows = np.array([i for i, m in enumerate(ours) if m in clustered])
        if rows.size == 0:
            continue
        lat, lon = df["lat"].to_numpy(float)[rows], df["long"].to_numpy(float)[rows]
        cos_lat = detmath.cos_turns(float(lat.mean()) / 360.0)
        xy = np.column_stack([lon * cos_lat, lat]) * england_markets.EARTH_KM_PER_DEGREE
        k = len({ours[i] for i in rows})
        want = cut_tree(linkage(xy, method="ward"), n_clusters=k).ravel()
        got = np.unique([ours[i] for i in rows], return_inverse=True)[1]
        assert _partition(got) == _partition(want), region
