"""Geometry and aggregation: great-circle km, candidate sites, demand points, point x site pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from segchain.errors import UsageError
from segchain.formatting import plural
from segchain.geo import EARTH_RADIUS_KM, haversine_km

# Above this many customer x site pairs, customers are aggregated into demand points.
MAX_PAIRS = 1_000_000
# The same with capacities: each pair is then a binary assignment (single-sourced) or a term of
# a capacity row, and the solve grows much faster than the pairs. 100,000 customers at 12
# capacitated sites (US zips, promises on 2 of 3 segments): 80,573 points under MAX_PAIRS never
# ended (killed after 8 minutes, 2 GB); 7,338 points (120k pairs) 11 s, 14,915 points 31 s,
# 35,417 points 197 s, each optimal.
CAPACITATED_MAX_PAIRS = 120_000


def candidate_sites(customers: pl.DataFrame, n: int, *, seed: int = 0) -> pl.DataFrame:
    """``n`` greenfield candidate sites: demand-weighted k-means of the customers' locations.

    Clustering runs on unit vectors (3-D) so that it is right across the antimeridian; each
    centre is projected back onto the sphere. Candidates have no fixed cost and no capacity.

    Args:
        customers: ``lat, lon, demand`` (rows without coordinates are ignored).
        n: number of candidates.
        seed: k-means seed.

    Raises:
        UsageError: ``n`` < 1 or more candidates than located customers.
    """
    from sklearn.cluster import KMeans

    from segchain.cores import count_cores_quietly

    count_cores_quietly()
    located = customers.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    if n < 1:
        raise UsageError(f"--candidates must be at least 1, got {n}")
    distinct = located.select("lat", "lon").unique().height
    if n > distinct:
        raise UsageError(
            f"--candidates {n} is more than the "
            f"{plural(distinct, 'distinct customer location')}; "
            f"ask for at most {distinct}"
        )
    # One point per location with the demand located there, in the order of the coordinates:
    # k-means++ seeding draws row positions, and the rows came in the customer ids' order, so
    # the same customers under other ids got other candidates (Superstore, ids renamed: 6 of 8
    # candidates and 2 of 3 opened sites moved). Weighted k-means of the merged points has the
    # same objective as of the customers. Customers without demand weigh as one unit each where
    # no customer has any.
    if not located.get_column("demand").cast(pl.Float64).fill_null(0.0).sum() > 0:
        located = located.with_columns(demand=pl.lit(1.0))
    points = (
        located.group_by("lat", "lon")
        .agg(pl.col("demand").cast(pl.Float64).fill_null(0.0).sum())
        .sort("lat", "lon")
    )
    lat = np.radians(points["lat"].to_numpy())
    lon = np.radians(points["lon"].to_numpy())
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    weight = points["demand"].to_numpy().astype(float)
    # More starts than the 3 before: the locations are few (merged), and the candidates are the
    # decision a greenfield study is run for.
    km = KMeans(n_clusters=n, n_init=10, random_state=seed).fit(xyz, sample_weight=weight + 1e-12)
    centres = km.cluster_centers_
    norm = np.linalg.norm(centres, axis=1)
    norm[norm == 0] = 1.0
    centres = centres / norm[:, None]
    clat = np.degrees(np.arcsin(np.clip(centres[:, 2], -1, 1)))
    clon = np.degrees(np.arctan2(centres[:, 1], centres[:, 0]))
    # Largest clusters first, so that C001 is the busiest candidate whatever the seed.
    mass = np.bincount(km.labels_, weights=weight, minlength=n)
    order = np.lexsort((clon, clat, -mass))
    width = max(3, len(str(n)))
    return pl.DataFrame(
        {
            "site_id": [f"C{k + 1:0{width}d}" for k in range(n)],
            "lat": np.round(clat[order], 5),
            "lon": np.round(clon[order], 5),
            "fixed_cost": np.zeros(n),
            "capacity": pl.Series([None] * n, dtype=pl.Float64),
            "existing": np.zeros(n, dtype=bool),
        }
    )


@dataclass
class Points:
    """Customers (or aggregates of them) as the model sees them."""

    point: np.ndarray  # customer row -> point index
    segment: np.ndarray  # per point (object array of labels)
    demand: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    radius: np.ndarray  # farthest member's distance from the point, km
    bound: float  # sum over customers of demand x distance to their point, km x units
    aggregated: bool


def identity_points(cust: pl.DataFrame) -> Points:
    n = cust.height
    return Points(
        point=np.arange(n),
        segment=cust["segment"].to_numpy().astype(object),
        demand=cust["demand"].to_numpy().astype(float),
        lat=cust["lat"].to_numpy().astype(float),
        lon=cust["lon"].to_numpy().astype(float),
        radius=np.zeros(n),
        bound=0.0,
        aggregated=False,
    )


def aggregate_points(cust: pl.DataFrame, max_points: int) -> Points:
    """Group customers of the same segment in square grid cells into at most ``max_points`` points.

    The cell size grows from 1 km until the count fits. A point sits at its members'
    demand-weighted centroid. Distances obey the triangle inequality, so serving a member
    from any site costs at most ``demand x distance to its point`` more or less than the point
    does: their sum over customers bounds the aggregation error.
    """
    lat = cust["lat"].to_numpy().astype(float)
    lon = cust["lon"].to_numpy().astype(float)
    demand = cust["demand"].to_numpy().astype(float)
    seg_codes, seg_index = np.unique(cust["segment"].to_numpy().astype(str), return_inverse=True)
    y = np.radians(lat) * EARTH_RADIUS_KM
    x = np.radians(lon) * EARTH_RADIUS_KM * np.cos(np.radians(lat))
    # Cells counted from the customers' own corner: from 0, the meridian and the equator split
    # every cell size in two (Nantes at lon -1.5 was a point of its own beside Paris, and no
    # --max-points below twice the segments could be met).
    x, y = x - x.min(), y - y.min()
    cell = 1.0
    while True:
        keys = np.column_stack([seg_index, np.floor(x / cell), np.floor(y / cell)])
        _, point = np.unique(keys, axis=0, return_inverse=True)
        point = point.ravel()
        if point.max() + 1 <= max_points or cell > 4e4:
            break
        cell *= 1.25
    k = int(point.max()) + 1
    total = np.bincount(point, weights=demand, minlength=k)
    weight = np.where(total[point] > 0, demand, 1.0)
    wsum = np.bincount(point, weights=weight, minlength=k)
    # Centroid on the sphere: mean of unit vectors, so cells across the antimeridian are right.
    rl, rg = np.radians(lat), np.radians(lon)
    vec = [np.cos(rl) * np.cos(rg), np.cos(rl) * np.sin(rg), np.sin(rl)]
    mean = [np.bincount(point, weights=weight * v, minlength=k) / wsum for v in vec]
    norm = np.sqrt(mean[0] ** 2 + mean[1] ** 2 + mean[2] ** 2)
    plat = np.degrees(np.arcsin(np.clip(mean[2] / norm, -1, 1)))
    plon = np.degrees(np.arctan2(mean[1], mean[0]))
    dist = haversine_km(lat, lon, plat[point], plon[point])
    radius = np.zeros(k)
    np.maximum.at(radius, point, dist)
    segment = np.empty(k, dtype=object)
    segment[point] = seg_codes[seg_index]
    return Points(
        point=point,
        segment=segment,
        demand=total,
        lat=plat,
        lon=plon,
        radius=radius,
        bound=float(np.sum(demand * dist)),
        aggregated=True,
    )


def geo_pairs(points: Points, site_df: pl.DataFrame, cost_per_unit_km: float) -> pl.DataFrame:
    """Every point x site pair with its distance and transport cost (point-major order)."""
    n, m = len(points.demand), site_df.height
    slat = site_df["lat"].to_numpy().astype(float)
    slon = site_df["lon"].to_numpy().astype(float)
    dist = haversine_km(points.lat[:, None], points.lon[:, None], slat[None, :], slon[None, :])
    j = np.repeat(np.arange(n), m)
    i = np.tile(np.arange(m), n)
    d = dist.ravel()
    return pl.DataFrame(
        {
            "j": j,
            "i": i,
            "distance_km": d,
            "unit_cost": cost_per_unit_km * d,
        }
    ).with_columns(cost=pl.col("unit_cost") * points.demand[j])
