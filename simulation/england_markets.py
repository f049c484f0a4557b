"""England's travel-to-work markets: London, the six metropolitan counties, and Ward clusters of
the other districts within each region, 149 in all (see "Markets" in `simulation.england`); with
`largest_remainder`, the apportionment that shares out both the clusters among the regions and the
regions' totals among their districts."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from simulation import detmath
from simulation.configfiles import ConfigError
from simulation.england_data import REGIONS, REGIONS_TOML, RegionsFile

TTWA_ENGLAND = 149  # English travel-to-work areas, 2011 Census (england.md s6)
EARTH_KM_PER_DEGREE = 111.195


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


def markets(df: Any, rf: RegionsFile) -> tuple[list[str], dict[str, int]]:
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
