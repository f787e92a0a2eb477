"""Why the customers served beyond their delivery promise are late, checked on the plan.

Each late customer is either out of every site's reach in time (from where it is, over every
site, open or not, with a lane under ``--costs``) or reachable by some site and late because of
the capacities, ``--open K`` or the aggregation into demand points. The two were said as one:
binding capacities said all 25 of Superstore's late customers were late "with the capacities",
3 being out of every site's reach; and "so they go to their cheapest site" was said of 16
customers 6 of whom were not (their nearest open site full; audit N4/N5, session 66).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from segchain.network.model import within_promise

# Two unit costs equal within this share are the same price (ties of the solver's tolerance).
_SAME_COST = 1e-9


@dataclass(frozen=True)
class LateReach:
    """Of the late customers: ``out_of_reach`` have no site within their promise;
    ``off_cheapest`` of those are not served by their cheapest open site (each row of a split
    customer counted as its customer), and ``cheapest_full`` whether each of those sites is
    full."""

    out_of_reach: int = 0
    off_cheapest: int = 0
    cheapest_full: bool = False


def late_reach(
    late: pl.DataFrame,
    lanes: pl.DataFrame,
    site_df: pl.DataFrame,
    is_open: np.ndarray,
    assignments: pl.DataFrame,
    sla_by_segment: dict[str, float | None],
    km_per_day: float,
) -> LateReach:
    """``late``: the late customers (``customer_id, segment``); ``lanes``: their pairs with
    every site at customer level (``customer_id, i, unit_cost, distance_km``; a distance
    unknown counts as within the promise, as the model's does)."""
    if late.height == 0:
        return LateReach()
    rows = lanes.join(late.select("customer_id", "segment"), on="customer_id")
    sla = np.array(
        [
            np.inf if sla_by_segment.get(s) is None else sla_by_segment[s]
            for s in rows["segment"].to_list()
        ],
        dtype=float,
    )
    dist = rows["distance_km"].fill_null(0.0).to_numpy().astype(float)
    i = rows["i"].to_numpy()
    rows = rows.with_columns(
        within=pl.Series(within_promise(dist / km_per_day, sla)),
        open=pl.Series(is_open[i]),
    )
    reach = rows.group_by("customer_id").agg(pl.col("within").any())
    outside = reach.filter(~pl.col("within")).select("customer_id")
    if outside.height == 0:
        return LateReach()
    # The cheapest open site of each customer out of reach (the lowest index among equals).
    cheapest = (
        rows.join(outside, on="customer_id")
        .filter(pl.col("open"))
        .sort("unit_cost", "i")
        .group_by("customer_id", maintain_order=True)
        .first()
        .select("customer_id", pl.col("i").alias("best"), pl.col("unit_cost").alias("least"))
    )
    index = site_df.select("site_id").with_row_index("i").with_columns(pl.col("i").cast(pl.Int64))
    served = (
        assignments.select("customer_id", "site_id")
        .join(outside, on="customer_id")
        .join(index, on="site_id")
        .join(rows.select("customer_id", "i", "unit_cost"), on=["customer_id", "i"])
        .join(cheapest, on="customer_id")
        .with_columns(at=pl.col("unit_cost") <= pl.col("least") * (1 + _SAME_COST) + _SAME_COST)
        .group_by("customer_id")
        .agg(pl.col("at").all(), pl.col("best").first())
    )
    off = served.filter(~pl.col("at"))
    full = _full(site_df, assignments)[off["best"].to_numpy()]
    return LateReach(
        out_of_reach=outside.height,
        off_cheapest=off.height,
        cheapest_full=bool(off.height) and bool(full.all()),
    )


def customer_lanes(
    late: pl.DataFrame,
    cust: pl.DataFrame,
    site_df: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    lane_mode: bool,
    cost_per_unit_km: float,
) -> pl.DataFrame:
    """The late customers' pairs with every site, from where each customer is (not its demand
    point's centre): ``customer_id, i, unit_cost, distance_km``. With --costs, their lanes
    (customers are never aggregated there); else great-circle km to every site."""
    if lane_mode:
        ids = (
            cust.select("customer_id").with_row_index("j").with_columns(pl.col("j").cast(pl.Int64))
        )
        return (
            pairs.select(
                pl.col("j").cast(pl.Int64), pl.col("i").cast(pl.Int64), "unit_cost", "distance_km"
            )
            .join(ids, on="j")
            .join(late.select("customer_id"), on="customer_id")
            .drop("j")
        )
    from segchain.geo import haversine_km

    dist = haversine_km(
        late["lat"].to_numpy().astype(float)[:, None],
        late["lon"].to_numpy().astype(float)[:, None],
        site_df["lat"].to_numpy().astype(float)[None, :],
        site_df["lon"].to_numpy().astype(float)[None, :],
    )
    n, m = dist.shape
    return pl.DataFrame(
        {
            "customer_id": np.repeat(late["customer_id"].to_numpy(), m),
            "i": np.tile(np.arange(m, dtype=np.int64), n),
            "unit_cost": cost_per_unit_km * dist.ravel(),
            "distance_km": dist.ravel(),
        },
        schema_overrides={"customer_id": pl.String},
    )


def _full(site_df: pl.DataFrame, assignments: pl.DataFrame) -> np.ndarray:
    """Per site, whether the plan fills its capacity (within the solver's tolerance)."""
    load = assignments.group_by("site_id").agg((pl.col("demand") * pl.col("share")).sum())
    loads = (
        site_df.select("site_id")
        .join(load, on="site_id", how="left", maintain_order="left")["demand"]
        .fill_null(0.0)
        .to_numpy()
    )
    cap = site_df["capacity"].to_numpy().astype(float)
    return np.isfinite(cap) & (loads >= cap * (1 - 1e-9) - 1e-9)


def late_reason(
    missed: int,
    reach: LateReach,
    capacity_reason: str | None,
    *,
    aggregated: bool,
    lanes: bool,
) -> str:
    """Why ``missed`` customers are late: those out of every site's reach said apart from those
    some site reaches (late by ``capacity_reason``, the capacities or --open K allowing no
    better, and/or by the aggregation into demand points)."""
    outside = reach.out_of_reach
    within = missed - outside
    nobody = f"no site {'with a lane to them in --costs ' if lanes else ''}can reach"
    unreachable = (
        f"{nobody} {'them' if within == 0 else f'the other {outside:,}'} in time"
        + _where_served(reach)
    )
    if within == 0:
        return unreachable
    parts = []
    if capacity_reason is not None:
        parts.append(
            capacity_reason
            if outside == 0 or aggregated
            else f"{within:,} of them could be reached in time, but {capacity_reason}"
        )
    if aggregated:
        parts.append(
            f"{'each' if within == missed else f'{within:,} of them'} can be reached in "
            "time from some site, but the customers were aggregated into demand points "
            "(--max-points), each served by one site that keeps the promise at the point's "
            "centre: raise --max-points to plan closer to each customer"
        )
    if outside:
        parts.append(unreachable)
    return "; ".join(parts)


def _where_served(reach: LateReach) -> str:
    """Where the customers out of reach went: their cheapest open site, said only when each
    is served there."""
    if not reach.off_cheapest:
        return ", so they go to their cheapest open site"
    return (
        f", so they are served late, {reach.off_cheapest:,} of them not by their cheapest "
        "open site" + (", which is full" if reach.cheapest_full else "")
    )
