"""Outputs: the assignments, the sites table, the promise table and the plan's totals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from segchain.formatting import agree, plural
from segchain.geo import haversine_km
from segchain.network.geometry import Points
from segchain.network.model import Plan, within_promise
from segchain.schema import (
    ANNUAL_FIXED_COST,
    ASSIGNMENT_COLUMNS,
    META_FIXED_COST_PERIOD,
    META_PROMISE,
    META_TOTALS,
    SITE_COLUMNS,
    in_segment_order,
)

# Why a customer has no site in the assignments (null for every customer in the model).
LEFT_OUT_REASONS = {
    "no_demand": "no positive demand (net quantity <= 0 after returns)",
    "unlocated": "no coordinates (--skip-unlocated)",
}


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
    # The plan without promises: None when not solved (no promise restricts a site choice, so
    # both plans are one), else its solver status, or schema.BASELINE_UNFINISHED when it found
    # no plan within --time-limit (baseline_total_cost is then None: unknown, not equal).
    baseline_status: str | None = None
    # The plan without promises' proven gap, and whether what the promises cost (total_cost -
    # baseline_total_cost) is proven, cut short (either plan stopped at a solver limit: an
    # estimate) or unknown (negative: the plan without promises was cut short);
    # schema.promise_cost_status. None without a comparison.
    baseline_mip_gap: float | None = None
    promise_cost_status: str | None = None
    unlocated_ids: tuple[str, ...] = field(default=(), repr=False)
    no_demand: int = 0
    no_demand_ids: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready totals (for Parquet metadata)."""
        out = asdict(self)
        out["unlocated_ids"] = list(self.unlocated_ids[:100])
        out["no_demand_ids"] = list(self.no_demand_ids[:100])
        return out


@dataclass
class NetworkResult:
    """Assignments (one row per customer and serving site), sites, totals and the promise table;
    ``inputs`` counts the rows read (customers, sites)."""

    assignments: pl.DataFrame
    sites: pl.DataFrame
    totals: NetworkTotals
    promise: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, int] = field(default_factory=dict)
    # The period the sites' fixed costs were given for, and for a year the span they were
    # taken over (``stage._fixed_cost_over_span``).
    fixed_cost_period: dict[str, Any] = field(default_factory=lambda: {"period": "orders"})

    def metadata(self) -> dict[str, Any]:
        """What the outputs' metadata carries besides the provenance (the report reads it).

        ``totals``: ``NetworkTotals.as_dict()``; ``promise``: the promise table's rows (per
        segment, what its delivery promise costs against the cheapest plan without promises;
        read by costs and the report); ``fixed_cost_period``: ``period`` (orders or year) and
        for a year the ``days`` (``first`` to ``last``) the fixed costs were taken over.
        """
        return {
            META_TOTALS: self.totals.as_dict(),
            META_PROMISE: self.promise.to_dicts(),
            META_FIXED_COST_PERIOD: self.fixed_cost_period,
        }


def assign(
    plan: Plan,
    pairs: pl.DataFrame,
    cust: pl.DataFrame,
    points: Points,
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
        | within_promise(pl.col("transit_days"), pl.col("sla_days")).fill_null(False),
        demand=pl.col("demand"),
        left_out=pl.lit(None, pl.String),
    ).select(ASSIGNMENT_COLUMNS)


def with_left_out(
    assignments: pl.DataFrame, left_out: pl.DataFrame, customers: pl.DataFrame
) -> pl.DataFrame:
    """The assignments plus one row with no site per customer left out, in input order: its
    transport_cost 0 when it has no demand, empty (unknown) when it was left out unlocated."""
    if left_out.height == 0:
        return in_order(assignments, "customer_id", customers["customer_id"].cast(pl.String))
    rows = left_out.select(
        "customer_id",
        "segment",
        pl.lit(None, pl.String).alias("site_id"),
        pl.lit(None, pl.Float64).alias("share"),
        pl.lit(None, pl.Float64).alias("distance_km"),
        pl.lit(None, pl.Float64).alias("transit_days"),
        pl.lit(None, pl.Float64).alias("sla_days"),
        pl.lit(None, pl.Boolean).alias("sla_met"),
        "demand",
        # No demand, nothing to deliver: 0. Unlocated, demand that no lane prices: unknown,
        # not the 0 that the report and network's own table summed as free delivery.
        pl.when(pl.col("left_out") == "unlocated")
        .then(None)
        .otherwise(pl.lit(0.0))
        .cast(pl.Float64)
        .alias("transport_cost"),
        "left_out",
    )
    return in_order(
        pl.concat([assignments, rows], how="vertical_relaxed"),
        "customer_id",
        customers["customer_id"].cast(pl.String),
    ).select(ASSIGNMENT_COLUMNS)


def in_order(frame: pl.DataFrame, key: str, ids: pl.Series) -> pl.DataFrame:
    """``frame``'s rows in the order of ``ids`` (as read), each id's rows in their order: the
    model runs on the rows sorted by id, the outputs keep the input's order."""
    order = ids.alias(key).to_frame().with_row_index("_order")
    return (
        frame.join(order, on=key, how="left", maintain_order="left")
        .sort("_order", maintain_order=True)
        .drop("_order")
    )


def sites_table(
    site_df: pl.DataFrame, is_open: np.ndarray, assignments: pl.DataFrame
) -> pl.DataFrame:
    """One row per site: whether it exists today and is open in the plan, the ``decision``
    (``schema.SITE_DECISIONS``), and the demand and customers it serves."""
    existing, serving = pl.col("existing"), pl.col("customers") > 0
    decision = (
        pl.when(existing & pl.col("open") & serving)
        .then(pl.lit("keep"))
        .when(existing)
        .then(pl.lit("close"))
        .when(pl.col("open"))
        .then(pl.lit("open"))
        .otherwise(pl.lit("unused"))
    )
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
            .otherwise(None),
            existing=existing.fill_null(False),
        )
        .with_columns(decision=decision)
        .select(_with_annual(SITE_COLUMNS, site_df.columns))
    )


def _with_annual(columns: tuple[str, ...], given: list[str]) -> list[str]:
    """``columns`` with the year's fixed cost after ``fixed_cost`` when the sites gave one."""
    if ANNUAL_FIXED_COST not in given:
        return list(columns)
    at = columns.index("fixed_cost") + 1
    return [*columns[:at], ANNUAL_FIXED_COST, *columns[at:]]


def unknown_distances(assignments: pl.DataFrame) -> str | None:
    """What the mean distances leave out: the assignments (customer and site) whose distance is
    unknown, a lane of --costs without distance_km where customers or sites have no lat, lon;
    None when every distance is known."""
    placed = assignments.filter(pl.col("site_id").is_not_null())
    n = placed.filter(pl.col("distance_km").is_null()).height
    if not n:
        return None
    why = "(lanes without distance_km, and no lat, lon)"
    if n == placed.height:
        return f"no assignment has a known distance {why}: mean_km is empty"
    return (
        f"{n:,} of {plural(placed.height, 'assignment')} (customer and site) "
        f"{agree(n, 'has', 'have')} no known distance {why}: mean_km is over the demand whose "
        "distance is known"
    )


def promise_table(
    assignments: pl.DataFrame,
    baseline: pl.DataFrame | None = None,
    *,
    ranks: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per segment: promise, customers, demand, share of demand within promise, demand-weighted
    mean distance and transport cost; with ``baseline`` the same for the plan without promises.
    Segments by ``ranks`` (``schema.segment_ranks``: segment_rank, 1 first) where known, as
    segment and costs list them, else by label.
    """

    def summary(df: pl.DataFrame, prefix: str) -> pl.DataFrame:
        served = pl.col("demand") * pl.col("share")
        total = served.sum()
        # Over the demand whose distance is known, as the report weighs it: a lane of --costs
        # without distance_km (and no lat, lon) counted as 0 km, a mean of 50 for 100 and none.
        dist = pl.col("distance_km")
        known = pl.when(dist.is_not_null()).then(served).sum()
        return df.group_by("segment").agg(
            pl.col("sla_days").first().alias("sla_days"),
            pl.col("customer_id").n_unique().alias("customers"),
            total.alias("demand"),
            # No promise, nothing to keep: null rather than a flattering 100 %.
            pl.when(pl.col("sla_days").is_null().all())
            .then(None)
            .when(total > 0)
            .then((served * pl.col("sla_met")).sum() / total)
            .otherwise(pl.col("sla_met").cast(pl.Float64).mean())
            .alias(f"{prefix}within_promise"),
            pl.when(known > 0)
            .then((served * dist).sum() / known)
            .otherwise(dist.mean())
            .alias(f"{prefix}mean_distance_km"),
            pl.col("transport_cost").sum().alias(f"{prefix}transport_cost"),
        )

    table = summary(assignments, "")
    if baseline is not None:
        base = summary(baseline, "baseline_").drop("sla_days", "customers", "demand")
        table = table.join(base, on="segment", how="left")
    return in_segment_order(table, ranks)
