"""network: choose sites and assign customers, keeping each segment's delivery promise (MILP)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from segchain.errors import DataError, InfeasibleError, SegchainError, UsageError, examples
from segchain.schema import require_columns

if TYPE_CHECKING:
    from segchain.policy import PolicyTable

# Mean Earth radius (IUGG), the usual choice for great-circle distances.
EARTH_RADIUS_KM = 6371.0088
# Above this many customer x site pairs, customers are aggregated into demand points.
MAX_PAIRS = 1_000_000
DEFAULT_KM_PER_DAY = 500.0
DEFAULT_COST_PER_UNIT_KM = 1.0
DEFAULT_GAP = 1e-6
NO_SEGMENT = "all"
_EPS = 1e-9

ASSIGNMENT_COLUMNS = (
    "customer_id",
    "segment",
    "site_id",
    "share",
    "distance_km",
    "transit_days",
    "sla_days",
    "sla_met",
    "demand",
    "transport_cost",
)
SITE_COLUMNS = (
    "site_id",
    "lat",
    "lon",
    "open",
    "fixed_cost",
    "capacity",
    "demand_served",
    "utilization",
    "customers",
)


@dataclass(frozen=True)
class NetworkTotals:
    """The plan's totals: costs, sites opened, solver status and the bounds on its optimality.

    ``mip_gap`` is the relative gap HiGHS proved. With demand points, ``aggregation_bound`` is the
    absolute amount by which the plan may cost more than the best customer-level plan using the
    same allowed sites (aggregation and MIP gap together; a valid bound without capacities or
    with ``allow_split``); 0 when customers were not aggregated.
    """

    fixed_cost: float
    transport_cost: float
    total_cost: float
    sites_opened: int
    sites: int
    customers: int
    demand: float
    status: str
    mip_gap: float
    promise_missed: int
    unlocated: int
    lanes_missing: int
    demand_points: int
    aggregation_bound: float
    baseline_total_cost: float | None = None
    unlocated_ids: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready totals (for Parquet metadata)."""
        out = asdict(self)
        out["unlocated_ids"] = list(self.unlocated_ids[:100])
        return out


@dataclass
class NetworkResult:
    """Assignments (one row per customer and serving site), sites, totals and the promise table."""

    assignments: pl.DataFrame
    sites: pl.DataFrame
    totals: NetworkTotals
    promise: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Geometry


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (numpy broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


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

    located = customers.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    if n < 1:
        raise UsageError(f"--candidates must be at least 1, got {n}")
    distinct = located.select("lat", "lon").unique().height
    if n > distinct:
        raise UsageError(
            f"--candidates {n} is more than the {distinct} distinct customer locations; "
            f"ask for at most {distinct}"
        )
    lat = np.radians(located["lat"].to_numpy())
    lon = np.radians(located["lon"].to_numpy())
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    weight = located["demand"].to_numpy().astype(float)
    if not weight.sum() > 0:
        weight = np.ones_like(weight)
    km = KMeans(n_clusters=n, n_init=3, random_state=seed).fit(xyz, sample_weight=weight + 1e-12)
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


# ---------------------------------------------------------------------------------------------
# Input checks


def _float_col(df: pl.DataFrame, name: str) -> pl.Expr:
    if name in df.columns:
        return pl.col(name).cast(pl.Float64, strict=False)
    return pl.lit(None, dtype=pl.Float64)


def _prepare_customers(
    customers: pl.DataFrame, *, need_coords: bool, skip_unlocated: bool
) -> tuple[pl.DataFrame, list[str]]:
    """Checked customers ``customer_id, segment, demand, lat, lon``; and the unlocated ids."""
    cols = customers.columns
    require_columns(cols, ["customer_id"], source="customers")
    demand_col = "demand" if "demand" in cols else "quantity" if "quantity" in cols else None
    if demand_col is None:
        raise DataError(
            f"customers: no demand column: need 'demand' (or 'quantity'); found {', '.join(cols)}",
            hint="a segments table carries 'quantity'; or map your column to 'demand'",
        )
    if need_coords:
        require_columns(
            cols,
            ["lat", "lon"],
            source="customers",
            hint="add the customers' coordinates (segments keep lat, lon when the orders have "
            "them) or give freight rates with --costs FILE",
        )
    df = customers.select(
        pl.col("customer_id").cast(pl.String),
        (pl.col("segment").cast(pl.String) if "segment" in cols else pl.lit(NO_SEGMENT))
        .fill_null(NO_SEGMENT)
        .alias("segment"),
        pl.col(demand_col).cast(pl.Float64, strict=False).alias("demand"),
        _float_col(customers, "lat").alias("lat"),
        _float_col(customers, "lon").alias("lon"),
    )
    problems: list[str] = []
    blank = df.filter(
        pl.col("customer_id").is_null() | (pl.col("customer_id").str.strip_chars() == "")
    )
    if blank.height:
        problems.append(f"{blank.height} row(s) with a blank customer_id")
    dup = df.filter(pl.col("customer_id").is_duplicated())["customer_id"].unique(
        maintain_order=True
    )
    if dup.len():
        problems.append(f"duplicate customer_id {examples(dup)}: one row per customer expected")
    bad_demand = df.filter(
        pl.col("demand").is_null() | ~pl.col("demand").is_finite() | (pl.col("demand") < 0)
    )
    if bad_demand.height:
        problems.append(
            f"{demand_col} is blank, negative or not a number for customer_id "
            f"{examples(bad_demand['customer_id'])}"
        )
    problems += _range_problems(df, "customer_id", source="customers")
    if problems:
        raise DataError("customers: " + "; ".join(problems))
    unlocated: list[str] = []
    if need_coords:
        missing = df.filter(pl.col("lat").is_null() | pl.col("lon").is_null())
        if missing.height:
            unlocated = missing["customer_id"].to_list()
            if not skip_unlocated:
                raise DataError(
                    f"customers: {len(unlocated)} customer(s) have no coordinates (lat, lon): "
                    f"customer_id {examples(unlocated)}",
                    hint="add their lat, lon, give freight rates with --costs FILE, or leave them "
                    "out with --skip-unlocated",
                )
            df = df.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    if df.height == 0:
        raise DataError("customers: no customer to assign (the table is empty)")
    return df, unlocated


def _range_problems(df: pl.DataFrame, key: str, *, source: str) -> list[str]:
    problems = []
    for col, limit in (("lat", 90.0), ("lon", 180.0)):
        bad = df.filter(pl.col(col).is_not_null() & ~(pl.col(col).abs() <= limit))
        if bad.height:
            problems.append(
                f"{col} outside [-{limit:g}, {limit:g}] for {key} {examples(bad[key])} "
                f"(are lat and lon swapped?)"
            )
    return problems


def _prepare_sites(sites: pl.DataFrame, *, need_coords: bool) -> pl.DataFrame:
    """Checked sites ``site_id, lat, lon, fixed_cost, capacity, existing``."""
    cols = sites.columns
    require_columns(cols, ["site_id", "lat", "lon"] if need_coords else ["site_id"], source="sites")
    existing = pl.lit(False)
    if "existing" in cols:
        dtype = sites.schema["existing"]
        existing = (
            pl.col("existing").fill_null(False)
            if dtype == pl.Boolean
            else pl.col("existing")
            .cast(pl.String)
            .str.strip_chars()
            .str.to_lowercase()
            .is_in(["true", "1", "1.0", "yes", "y", "x", "t"])
        )
    df = sites.select(
        pl.col("site_id").cast(pl.String),
        _float_col(sites, "lat").alias("lat"),
        _float_col(sites, "lon").alias("lon"),
        _float_col(sites, "fixed_cost").fill_null(0.0).alias("fixed_cost"),
        _float_col(sites, "capacity").alias("capacity"),
        existing.alias("existing"),
    )
    if df.height == 0:
        raise DataError(
            "sites: no sites (the table is empty)",
            hint="list candidate sites, or propose some from the customers with --candidates N",
        )
    problems: list[str] = []
    dup = df.filter(pl.col("site_id").is_duplicated())["site_id"].unique(maintain_order=True)
    if dup.len():
        problems.append(f"duplicate site_id {examples(dup)}: one row per site expected")
    if need_coords:
        missing = df.filter(pl.col("lat").is_null() | pl.col("lon").is_null())
        if missing.height:
            problems.append(f"no coordinates (lat, lon) for site_id {examples(missing['site_id'])}")
    problems += _range_problems(df, "site_id", source="sites")
    for col in ("fixed_cost", "capacity"):
        bad = df.filter(pl.col(col).is_not_null() & ~(pl.col(col) >= 0))
        if bad.height:
            problems.append(
                f"{col} negative or not a number for site_id {examples(bad['site_id'])}"
            )
    if problems:
        raise DataError("sites: " + "; ".join(problems))
    # An infinite capacity is the same as none.
    return df.with_columns(
        pl.when(pl.col("capacity").is_infinite())
        .then(None)
        .otherwise(pl.col("capacity"))
        .alias("capacity")
    )


# ---------------------------------------------------------------------------------------------
# Demand points


@dataclass
class _Points:
    """Customers (or aggregates of them) as the model sees them."""

    point: np.ndarray  # customer row -> point index
    segment: np.ndarray  # per point (object array of labels)
    demand: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    radius: np.ndarray  # farthest member's distance from the point, km
    bound: float  # sum over customers of demand x distance to their point, km x units
    aggregated: bool


def _identity_points(cust: pl.DataFrame) -> _Points:
    n = cust.height
    return _Points(
        point=np.arange(n),
        segment=cust["segment"].to_numpy().astype(object),
        demand=cust["demand"].to_numpy().astype(float),
        lat=cust["lat"].to_numpy().astype(float),
        lon=cust["lon"].to_numpy().astype(float),
        radius=np.zeros(n),
        bound=0.0,
        aggregated=False,
    )


def aggregate_points(cust: pl.DataFrame, max_points: int) -> _Points:
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
    return _Points(
        point=point,
        segment=segment,
        demand=total,
        lat=plat,
        lon=plon,
        radius=radius,
        bound=float(np.sum(demand * dist)),
        aggregated=True,
    )


# ---------------------------------------------------------------------------------------------
# The stage


def network(
    customers: pl.DataFrame | pl.LazyFrame,
    *,
    sites: pl.DataFrame | pl.LazyFrame | None = None,
    candidates: int | None = None,
    costs: pl.DataFrame | pl.LazyFrame | None = None,
    open: int | None = None,
    allow_split: bool = False,
    km_per_day: float = DEFAULT_KM_PER_DAY,
    cost_per_unit_km: float = DEFAULT_COST_PER_UNIT_KM,
    policies: PolicyTable | None = None,
    time_limit: float | None = None,
    gap: float = DEFAULT_GAP,
    skip_unlocated: bool = False,
    max_points: int | None = None,
    seed: int = 0,
) -> NetworkResult:
    """Open sites and assign customers at least cost, keeping each segment's delivery promise.

    Minimises fixed cost of open sites plus transport (``cost_per_unit_km`` x demand x
    great-circle km, or ``costs`` per unit of demand), with HiGHS. A customer may only be served
    by sites within its segment's ``max_delivery_days`` (transit days = km / ``km_per_day``); one
    that no site can reach in time goes to its cheapest site with ``sla_met = false``. The same
    model without promises is solved too, so that ``promise`` shows what they cost.

    Args:
        customers: ``customer_id``, ``demand`` (else ``quantity``), optional ``segment``, and
            ``lat, lon`` unless ``costs`` is given.
        sites: ``site_id, lat, lon``, optional ``fixed_cost, capacity, existing``.
        candidates: instead of ``sites``, propose this many sites by demand-weighted k-means.
        costs: lane table ``site_id, customer_id, unit_cost`` (optional ``distance_km``); pairs
            not listed are not allowed.
        open: open exactly this many sites (p-median); else as many as fixed costs justify.
        allow_split: let a customer's demand be split over several sites.
        km_per_day: transit speed for the delivery promise.
        cost_per_unit_km: transport cost per unit of demand per km (without ``costs``).
        policies: segment policy table (``max_delivery_days``); None means no promise.
        time_limit: solver time limit in seconds (per solve); the proven gap is reported.
        gap: relative MIP gap at which the solver stops.
        skip_unlocated: leave out customers without coordinates (reported) instead of failing.
        max_points: aggregate customers into at most this many demand points (default: only
            when customers x sites exceeds 1,000,000 pairs, then 1,000,000 / sites points).
        seed: seed of the candidate k-means.

    Raises:
        UsageError: contradictory or impossible options.
        DataError: bad customers, sites or lanes (every problem listed).
        InfeasibleError: capacities (or promises with capacities) cannot hold the demand.
    """
    if isinstance(customers, pl.LazyFrame):
        customers = customers.collect()
    if isinstance(sites, pl.LazyFrame):
        sites = sites.collect()
    if isinstance(costs, pl.LazyFrame):
        costs = costs.collect()
    _check_options(sites, candidates, open, km_per_day, cost_per_unit_km, time_limit, gap)
    notes: list[str] = []
    warnings: list[str] = []
    lane_mode = costs is not None
    cust, unlocated = _prepare_customers(
        customers, need_coords=not lane_mode, skip_unlocated=skip_unlocated
    )
    if unlocated:
        warnings.append(
            f"{len(unlocated)} customer(s) without coordinates left out (--skip-unlocated): "
            f"customer_id {examples(unlocated)}"
        )
    if candidates is not None:
        if lane_mode:
            raise UsageError("--candidates cannot be used with --costs (new sites have no lanes)")
        site_df = candidate_sites(cust, candidates, seed=seed)
        if open is None:
            notes.append(
                f"{candidates} candidate sites proposed; they have no fixed cost, so without "
                "--open K every candidate that is some customer's nearest is opened"
            )
    else:
        assert sites is not None
        site_df = _prepare_sites(sites, need_coords=not lane_mode)
    m = site_df.height
    if open is not None and open > m:
        raise UsageError(f"--open {open} is more than the {m} sites given; use at most {m}")
    n_existing = int(site_df["existing"].sum())
    if open is not None and open < n_existing:
        raise UsageError(
            f"--open {open} is fewer than the {n_existing} existing sites (always open); "
            f"use at least {n_existing}"
        )
    demand_total = float(cust["demand"].sum())
    cap = site_df["capacity"].to_numpy().astype(float)
    capped = ~np.isnan(cap)
    if capped.all() and cap.sum() < demand_total * (1 - 1e-12):
        raise InfeasibleError(
            f"total capacity {cap.sum():,.6g} is below total demand {demand_total:,.6g}: "
            f"short by {demand_total - cap.sum():,.6g}",
            hint="add sites or capacity (sites.capacity), or check the demand units",
        )
    policies = policies or _no_policies()
    sla_by_segment = {
        s: policies.for_segment(s).max_delivery_days for s in cust["segment"].unique().to_list()
    }
    if lane_mode:
        assert costs is not None
        points = _identity_points(cust)
        pairs, lanes_missing, lanes_unknown = _lane_pairs(costs, cust, site_df)
        if lanes_unknown:
            notes.append(
                f"{lanes_unknown:,} lane(s) in --costs name a site_id or customer_id not in the "
                "inputs and were not used"
            )
        if lanes_missing:
            notes.append(
                f"{lanes_missing:,} customer-site pairs have no lane in --costs and are not allowed"
            )
    else:
        limit = max_points or max(1, MAX_PAIRS // m)
        points = aggregate_points(cust, limit) if cust.height > limit else _identity_points(cust)
        if points.aggregated:
            notes.append(
                f"{cust.height:,} customers aggregated into {len(points.demand):,} demand points "
                f"(same segment, largest radius {points.radius.max():,.1f} km)"
            )
        pairs = _geo_pairs(points, site_df, cost_per_unit_km)
        lanes_missing = 0
    sla_points = np.array(
        [sla_by_segment[s] if sla_by_segment[s] is not None else np.inf for s in points.segment],
        dtype=float,
    )
    has_promise = bool(np.isfinite(sla_points).any())
    if has_promise:
        _require_distances(pairs, sla_points, cust, points)
    allowed = _promise_pairs(pairs, sla_points, points.radius, km_per_day)
    model = _Model(
        n=len(points.demand),
        fixed=site_df["fixed_cost"].to_numpy().astype(float),
        capacity=cap,
        existing=site_df["existing"].to_numpy(),
        demand=points.demand,
        open=open,
        allow_split=allow_split,
        time_limit=time_limit,
        gap=gap,
    )
    restricted = has_promise and allowed.height < pairs.height
    fallback = False
    try:
        plan = model.solve(allowed)
    except InfeasibleError:
        if not restricted:
            raise
        fallback = True
        # --open K or capacities cannot keep every promise: serve as little demand late as
        # possible, then at least cost among such plans.
        late = _late_demand(pairs, sla_points, km_per_day, points.demand)
        least = model.solve(pairs, late=late)
        plan = model.solve(pairs, late=late, late_limit=least.objective * (1 + 1e-9) + 1e-9)
        allowed = pairs
        warnings.append(
            f"no plan keeps every delivery promise under {model.limits()}: this plan serves "
            f"the least demand possible late ({least.objective:,.6g} of {demand_total:,.6g})"
        )
    if open is None:
        # A site that serves nobody is open only if it must be (existing); with no fixed cost
        # the solver may leave a free one "open" for nothing.
        used = np.zeros(m, dtype=bool)
        used[plan.i] = True
        plan.open &= used | site_df["existing"].to_numpy()
    assignments = _assign(
        plan,
        allowed,
        cust,
        points,
        site_df,
        km_per_day,
        cost_per_unit_km,
        sla_by_segment,
        lane_mode,
    )
    baseline = None
    if restricted:
        base_plan = model.solve(pairs, baseline=True)
        baseline = _assign(
            base_plan,
            pairs,
            cust,
            points,
            site_df,
            km_per_day,
            cost_per_unit_km,
            sla_by_segment,
            lane_mode,
        )
        baseline_total = float(
            site_df["fixed_cost"].to_numpy()[base_plan.open].sum()
            + baseline["transport_cost"].sum()
        )
    else:
        baseline_total = None
    sites_out = _sites_table(site_df, plan.open, assignments)
    fixed = float(site_df["fixed_cost"].to_numpy()[plan.open].sum())
    transport = float(assignments["transport_cost"].sum())
    missed = assignments.filter(~pl.col("sla_met"))["customer_id"].n_unique()
    if missed:
        why = (
            f"with {model.limits()} there is no better choice"
            if fallback
            else "no site can reach them in time, so they go to their cheapest site"
        )
        warnings.append(
            f"{missed:,} customer(s) are served beyond their delivery promise "
            f"(sla_met = false): {why}"
        )
    if plan.status != "optimal":
        warnings.append(
            f"the solver stopped at its time limit: the plan is within {plan.gap:.4%} of optimal"
        )
    bound = 0.0
    if points.aggregated:
        # Serving a member from site i costs within demand x (distance to its point) of what
        # the point model charges (triangle inequality), so no customer-level plan under the
        # same site restrictions beats dual_bound - B; ours costs exactly fixed + transport.
        spread = cost_per_unit_km * points.bound
        bound = max(0.0, fixed + transport - (plan.dual_bound - spread))
    if points.aggregated:
        notes.append(
            f"aggregation error bound {bound:,.2f} "
            f"({bound / max(fixed + transport, _EPS):.3%} of the total cost)"
        )
    totals = NetworkTotals(
        fixed_cost=fixed,
        transport_cost=transport,
        total_cost=fixed + transport,
        sites_opened=int(plan.open.sum()),
        sites=m,
        customers=cust.height,
        demand=demand_total,
        status=plan.status,
        mip_gap=plan.gap,
        promise_missed=int(missed),
        unlocated=len(unlocated),
        lanes_missing=int(lanes_missing),
        demand_points=len(points.demand),
        aggregation_bound=bound,
        baseline_total_cost=baseline_total,
        unlocated_ids=tuple(unlocated),
    )
    return NetworkResult(
        assignments=assignments,
        sites=sites_out,
        totals=totals,
        promise=promise_table(assignments, baseline),
        notes=notes,
        warnings=warnings,
    )


def _no_policies() -> PolicyTable:
    from segchain.policy import PolicyTable

    return PolicyTable()


def _check_options(
    sites: pl.DataFrame | None,
    candidates: int | None,
    open: int | None,
    km_per_day: float,
    cost_per_unit_km: float,
    time_limit: float | None,
    gap: float,
) -> None:
    problems = []
    if (sites is None) == (candidates is None):
        problems.append("give either --sites FILE or --candidates N (exactly one)")
    if open is not None and open < 1:
        problems.append(f"--open must be at least 1, got {open}")
    if not km_per_day > 0 or not math.isfinite(km_per_day):
        problems.append(f"--km-per-day must be a positive number, got {km_per_day}")
    if not cost_per_unit_km >= 0 or not math.isfinite(cost_per_unit_km):
        problems.append(f"--cost-per-unit-km must be a number >= 0, got {cost_per_unit_km}")
    if time_limit is not None and not time_limit > 0:
        problems.append(f"--time-limit must be a positive number of seconds, got {time_limit}")
    if not 0 <= gap < 1:
        problems.append(f"--gap must lie in [0, 1), got {gap}")
    if problems:
        raise UsageError("; ".join(problems))


def _geo_pairs(points: _Points, site_df: pl.DataFrame, cost_per_unit_km: float) -> pl.DataFrame:
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


def _lane_pairs(
    costs: pl.DataFrame, cust: pl.DataFrame, site_df: pl.DataFrame
) -> tuple[pl.DataFrame, int, int]:
    """The lanes as model pairs; the count of pairs without a lane; of lanes not used."""
    require_columns(costs.columns, ["site_id", "customer_id", "unit_cost"], source="costs")
    lanes = costs.select(
        pl.col("site_id").cast(pl.String),
        pl.col("customer_id").cast(pl.String),
        pl.col("unit_cost").cast(pl.Float64, strict=False),
        _float_col(costs, "distance_km").alias("lane_km"),
    )
    problems = []
    dup = lanes.filter(pl.struct("site_id", "customer_id").is_duplicated())
    if dup.height:
        shown = examples(
            f"{s}/{c}"
            for s, c in dup.select("site_id", "customer_id").unique(maintain_order=True).iter_rows()
        )
        problems.append(f"duplicate lanes (site_id/customer_id) {shown}")
    bad = lanes.filter(
        pl.col("unit_cost").is_null() | ~pl.col("unit_cost").is_finite() | (pl.col("unit_cost") < 0)
    )
    if bad.height:
        shown = examples(f"{s}/{c}" for s, c in bad.select("site_id", "customer_id").iter_rows())
        problems.append(f"unit_cost blank, negative or not a number for lanes {shown}")
    if problems:
        raise DataError("costs: " + "; ".join(problems))
    cidx = cust.select("customer_id", pl.int_range(pl.len()).alias("j"))
    sidx = site_df.select("site_id", pl.int_range(pl.len()).alias("i"), "lat", "lon")
    pairs = lanes.join(cidx, on="customer_id", how="inner").join(sidx, on="site_id", how="inner")
    unknown = lanes.height - pairs.height
    pairs = pairs.join(
        cust.select(
            pl.int_range(pl.len()).alias("j"),
            pl.col("lat").alias("clat"),
            pl.col("lon").alias("clon"),
            "demand",
        ),
        on="j",
    )
    hav = haversine_km(
        pairs["clat"].to_numpy(),
        pairs["clon"].to_numpy(),
        pairs["lat"].to_numpy(),
        pairs["lon"].to_numpy(),
    )
    pairs = (
        pairs.with_columns(
            pl.coalesce(pl.col("lane_km"), pl.Series(hav).fill_nan(None)).alias("distance_km")
        )
        .select(
            "j",
            "i",
            "distance_km",
            "unit_cost",
            (pl.col("unit_cost") * pl.col("demand")).alias("cost"),
        )
        .sort("j", "i")
    )
    served = np.zeros(cust.height, dtype=bool)
    served[pairs["j"].to_numpy()] = True
    if not served.all():
        lost = cust["customer_id"].to_numpy()[~served]
        raise DataError(
            f"costs: {len(lost)} customer(s) have no lane from any site: customer_id "
            f"{examples(lost)}",
            hint="add a row site_id, customer_id, unit_cost for each of them to the --costs file",
        )
    return pairs, cust.height * site_df.height - pairs.height, unknown


def _require_distances(
    pairs: pl.DataFrame, sla: np.ndarray, cust: pl.DataFrame, points: _Points
) -> None:
    unknown = pairs.filter(pl.col("distance_km").is_null())["j"].unique().to_numpy()
    unknown = unknown[np.isfinite(sla[unknown])]
    if unknown.size:
        ids = cust["customer_id"].to_numpy()[np.isin(points.point, unknown)]
        raise DataError(
            f"cannot check the delivery promise of {len(ids)} customer(s) without distances: "
            f"customer_id {examples(ids)}",
            hint="give customers and sites lat, lon, or a distance_km column in --costs, or set "
            "no max_delivery_days for their segment",
        )


def _promise_pairs(
    pairs: pl.DataFrame, sla: np.ndarray, radius: np.ndarray, km_per_day: float
) -> pl.DataFrame:
    """The pairs a point may use: within its promise for all its members, else for the point,
    else (no site can keep the promise) all of them. Adds ``within`` (promise kept)."""
    j = pairs["j"].to_numpy()
    dist = pairs["distance_km"].fill_null(0.0).to_numpy()
    limit = sla[j] * km_per_day * (1 + _EPS) + _EPS
    strict = dist + radius[j] <= limit
    loose = dist <= limit
    n = len(sla)
    any_strict = np.bincount(j, weights=strict, minlength=n) > 0
    any_loose = np.bincount(j, weights=loose, minlength=n) > 0
    keep = np.where(any_strict[j], strict, np.where(any_loose[j], loose, True))
    return pairs.with_columns(within=pl.Series(loose)).filter(pl.Series(keep))


# ---------------------------------------------------------------------------------------------
# The MILP


@dataclass
class _Plan:
    open: np.ndarray  # bool per site
    j: np.ndarray  # pair point index
    i: np.ndarray  # pair site index
    share: np.ndarray
    status: str
    gap: float
    dual_bound: float  # proven lower bound on the model's optimum
    objective: float = 0.0


@dataclass
class _Model:
    n: int
    fixed: np.ndarray
    capacity: np.ndarray  # NaN = unlimited
    existing: np.ndarray
    demand: np.ndarray
    open: int | None
    allow_split: bool
    time_limit: float | None
    gap: float

    def solve(
        self,
        pairs: pl.DataFrame,
        *,
        baseline: bool = False,
        late: np.ndarray | None = None,
        late_limit: float | None = None,
    ) -> _Plan:
        """Solve the facility location MILP over the allowed ``pairs`` (j, i, cost).

        With ``late`` (demand served beyond the promise, per pair): if ``late_limit`` is None,
        minimise late demand instead of cost; else minimise cost with late demand at most
        ``late_limit``.
        """
        import scipy.sparse as sp
        from scipy.optimize import Bounds, LinearConstraint, milp

        j = pairs["j"].to_numpy()
        i = pairs["i"].to_numpy()
        cost = pairs["cost"].to_numpy()
        A, lb, ub = build_constraints(j, i, self.n, self.demand, self.capacity, open=self.open)
        m = len(self.fixed)
        fixed = self.fixed
        if late is not None and late_limit is None:
            fixed, cost = np.zeros(m), late
        elif late is not None and late_limit is not None:
            A = sp.vstack([A, sp.csr_matrix(np.concatenate([np.zeros(m), late])[None, :])])
            lb = np.append(lb, -np.inf)
            ub = np.append(ub, late_limit)
        capped = ~np.isnan(self.capacity)
        # Without capacities, a customer's best share goes wholly to its cheapest open site, so
        # single sourcing needs no integer assignment variables (unless late demand is capped).
        binary_x = (bool(capped.any()) or late is not None) and not self.allow_split
        integrality = np.concatenate([np.ones(m), np.full(len(j), 1.0 if binary_x else 0.0)])
        lower = np.concatenate([self.existing.astype(float), np.zeros(len(j))])
        options: dict[str, Any] = {"mip_rel_gap": self.gap, "disp": False}
        if self.time_limit is not None:
            options["time_limit"] = float(self.time_limit)
        res = milp(
            np.concatenate([fixed, cost]),
            integrality=integrality,
            bounds=Bounds(lower, np.ones(m + len(j))),
            constraints=LinearConstraint(A, lb, ub),
            options=options,
        )
        what = "the plan ignoring delivery promises" if baseline else "the network plan"
        if res.x is None:
            if res.status == 2:
                raise InfeasibleError(self._infeasible_message(baseline))
            if res.status == 1:
                raise SegchainError(
                    f"the solver reached its time limit ({self.time_limit:g} s) before finding "
                    f"any feasible plan for {what}",
                    hint="raise --time-limit, or aggregate customers with --max-points",
                )
            raise SegchainError(f"the solver failed on {what}: {res.message}")
        y = res.x[:m] > 0.5
        share = np.clip(res.x[m:], 0.0, 1.0)
        gap = float(res.mip_gap) if getattr(res, "mip_gap", None) is not None else 0.0
        if not math.isfinite(gap):
            gap = 1.0
        status = "optimal" if res.status == 0 else "time_limit"
        if not binary_x and not self.allow_split:
            share = _cheapest_open(j, cost, y[i])
        elif binary_x:
            share = np.round(share)
        else:
            share = np.where(share < 1e-9, 0.0, share)
            total = np.bincount(j, weights=share, minlength=self.n)
            share = share / total[j]
        keep = share > 0
        dual = getattr(res, "mip_dual_bound", None)
        if dual is None or not math.isfinite(dual):
            fun = getattr(res, "fun", None)
            dual = float(fun) * (1 - gap) if fun is not None else 0.0
        return _Plan(
            open=y,
            j=j[keep],
            i=i[keep],
            share=share[keep],
            status=status,
            gap=gap,
            dual_bound=float(dual),
            objective=float(res.fun),
        )

    def limits(self) -> str:
        """What limits the plan, in words (for messages)."""
        parts = []
        if np.any(~np.isnan(self.capacity)):
            parts.append("the capacities")
        if self.open is not None:
            parts.append(f"--open {self.open}")
        return " and ".join(parts) or "the lanes given"

    def _infeasible_message(self, baseline: bool) -> str:
        parts = []
        if np.any(~np.isnan(self.capacity)):
            parts.append("the capacities")
        if self.open is not None:
            parts.append(f"--open {self.open}")
        if not baseline:
            parts.append("the delivery promises (max_delivery_days)")
        why = " with ".join(parts) if parts else "the lanes given"
        hint = "relax max_delivery_days, raise capacities"
        if not self.allow_split:
            hint += ", or let customers be split over sites with --allow-split"
        return f"no plan serves every customer under {why}; hint: {hint}"


def _late_demand(
    pairs: pl.DataFrame, sla: np.ndarray, km_per_day: float, demand: np.ndarray
) -> np.ndarray:
    """Per pair, the point's demand if the pair breaks its promise, else 0."""
    j = pairs["j"].to_numpy()
    dist = pairs["distance_km"].fill_null(0.0).to_numpy()
    late = dist > sla[j] * km_per_day * (1 + _EPS) + _EPS
    return np.where(late, demand[j], 0.0)


def _cheapest_open(j: np.ndarray, cost: np.ndarray, is_open: np.ndarray) -> np.ndarray:
    """Share 1 for each point's cheapest open pair (first in order on ties), else 0."""
    masked = np.where(is_open, cost, np.inf)
    order = np.lexsort((np.arange(len(j)), masked, j))
    first = np.ones(len(order), dtype=bool)
    first[1:] = j[order][1:] != j[order][:-1]
    share = np.zeros(len(j))
    share[order[first]] = 1.0
    share[~is_open] = 0.0
    return share


def build_constraints(
    j: np.ndarray,
    i: np.ndarray,
    n: int,
    demand: np.ndarray,
    capacity: np.ndarray,
    *,
    open: int | None = None,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """The sparse constraint matrix over ``[y_0..y_m-1, x_0..x_P-1]`` and its row bounds.

    Rows: each point fully assigned; ``x_p <= y_i`` (the strong linking); for each capacitated
    site ``sum_j demand_j x_ij <= capacity_i y_i``; if every site is capacitated, the valid cut
    ``sum_i capacity_i y_i >= total demand``; with ``open``, ``sum_i y_i = open``.
    """
    import scipy.sparse as sp

    m = len(capacity)
    p = len(j)
    xcol = m + np.arange(p)
    rows = [np.full(p, 0) + j, np.arange(p) + n, np.arange(p) + n]
    cols = [xcol, xcol, i]
    vals = [np.ones(p), np.ones(p), -np.ones(p)]
    lb = [np.ones(n), np.full(p, -np.inf)]
    ub = [np.ones(n), np.zeros(p)]
    r = n + p
    capped = np.flatnonzero(~np.isnan(capacity))
    if capped.size:
        row_of = np.full(m, -1)
        row_of[capped] = r + np.arange(capped.size)
        sel = row_of[i] >= 0
        sel &= demand[j] != 0
        rows += [row_of[i[sel]], r + np.arange(capped.size)]
        cols += [xcol[sel], capped]
        vals += [demand[j[sel]], -capacity[capped]]
        lb.append(np.full(capped.size, -np.inf))
        ub.append(np.zeros(capped.size))
        r += capped.size
        if capped.size == m:
            rows.append(np.full(m, r))
            cols.append(np.arange(m))
            vals.append(capacity.copy())
            lb.append(np.array([float(demand.sum())]))
            ub.append(np.array([np.inf]))
            r += 1
    if open is not None:
        rows.append(np.full(m, r))
        cols.append(np.arange(m))
        vals.append(np.ones(m))
        lb.append(np.array([float(open)]))
        ub.append(np.array([float(open)]))
        r += 1
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, m + p)
    )
    return A, np.concatenate(lb), np.concatenate(ub)


# ---------------------------------------------------------------------------------------------
# Outputs


def _assign(
    plan: _Plan,
    pairs: pl.DataFrame,
    cust: pl.DataFrame,
    points: _Points,
    site_df: pl.DataFrame,
    km_per_day: float,
    cost_per_unit_km: float,
    sla_by_segment: dict[str, float | None],
    lane_mode: bool,
) -> pl.DataFrame:
    """One row per customer and serving site (customers in input order)."""
    point_plan = pl.DataFrame({"point": plan.j, "i": plan.i, "share": plan.share})
    base = cust.with_row_index("row").with_columns(point=pl.Series(points.point))
    rows = base.join(point_plan, on="point", how="inner").sort("row", "i")
    slat = site_df["lat"].to_numpy().astype(float)
    slon = site_df["lon"].to_numpy().astype(float)
    i = rows["i"].to_numpy()
    if lane_mode:
        lane = pairs.select(pl.col("j").alias("point"), "i", "distance_km", "unit_cost")
        rows = rows.join(lane, on=["point", "i"], how="left").sort("row", "i")
        dist = rows["distance_km"]
        unit = rows["unit_cost"]
    else:
        d = haversine_km(rows["lat"].to_numpy(), rows["lon"].to_numpy(), slat[i], slon[i])
        dist = pl.Series("distance_km", d)
        unit = pl.Series("unit_cost", cost_per_unit_km * d)
    sla = pl.Series(
        "sla_days",
        [sla_by_segment.get(s) for s in rows["segment"].to_list()],
        dtype=pl.Float64,
    )
    out = rows.select(
        "customer_id",
        "segment",
        pl.Series("site_id", site_df["site_id"].to_numpy()[i], dtype=pl.String),
        "share",
        dist.alias("distance_km"),
        (dist / km_per_day).alias("transit_days"),
        sla,
        "demand",
        (unit * pl.col("demand") * pl.col("share")).alias("transport_cost"),
    )
    return out.with_columns(
        sla_met=pl.col("sla_days").is_null()
        | (pl.col("transit_days") <= pl.col("sla_days") * (1 + _EPS) + _EPS).fill_null(False),
        demand=pl.col("demand"),
    ).select(ASSIGNMENT_COLUMNS)


def _sites_table(
    site_df: pl.DataFrame, is_open: np.ndarray, assignments: pl.DataFrame
) -> pl.DataFrame:
    served = assignments.group_by("site_id").agg(
        (pl.col("demand") * pl.col("share")).sum().alias("demand_served"),
        pl.col("customer_id").n_unique().cast(pl.Int64).alias("customers"),
    )
    return (
        site_df.with_columns(open=pl.Series(is_open))
        .join(served, on="site_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("demand_served").fill_null(0.0),
            pl.col("customers").fill_null(0),
        )
        .with_columns(
            utilization=pl.when(pl.col("capacity") > 0)
            .then(pl.col("demand_served") / pl.col("capacity"))
            .otherwise(None)
        )
        .select(SITE_COLUMNS)
    )


def promise_table(assignments: pl.DataFrame, baseline: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per segment: promise, customers, demand, share of demand within promise, demand-weighted
    mean distance and transport cost; with ``baseline`` the same for the plan without promises.
    """

    def summary(df: pl.DataFrame, prefix: str) -> pl.DataFrame:
        served = pl.col("demand") * pl.col("share")
        total = served.sum()
        return df.group_by("segment").agg(
            pl.col("sla_days").first().alias("sla_days"),
            pl.col("customer_id").n_unique().alias("customers"),
            total.alias("demand"),
            pl.when(total > 0)
            .then((served * pl.col("sla_met")).sum() / total)
            .otherwise(pl.col("sla_met").cast(pl.Float64).mean())
            .alias(f"{prefix}within_promise"),
            pl.when(total > 0)
            .then((served * pl.col("distance_km")).sum() / total)
            .otherwise(pl.col("distance_km").mean())
            .alias(f"{prefix}mean_distance_km"),
            pl.col("transport_cost").sum().alias(f"{prefix}transport_cost"),
        )

    table = summary(assignments, "")
    if baseline is not None:
        base = summary(baseline, "baseline_").drop("sla_days", "customers", "demand")
        table = table.join(base, on="segment", how="left")
    return table.sort("segment")
