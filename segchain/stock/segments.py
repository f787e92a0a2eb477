"""The per-segment table: one row per stocking point x segment, with what that segment is promised
and what the plan gives it.

Columns (the contract ``segchain costs`` and the report read): ``sku, [site], segment, priority,
service_measure, service_level`` (the segment's target), ``reserve_level`` (the critical level
below which the segment is no longer served from stock; 0 when it is never held back),
``expected_fill_rate, expected_csl`` (of that segment), ``demand_share`` (its share of the
stocking point's mean demand), ``inventory_share, avg_inventory, inventory_value`` (the stocking
point's average inventory and its value, allocated to segments by demand share), and with
on-hand ``available_to_promise`` (the inventory position above the segment's reserve level).
"""

from __future__ import annotations

import polars as pl

SEGMENT_COLUMNS = (
    "segment",
    "priority",
    "service_measure",
    "service_level",
    "reserve_level",
    "expected_fill_rate",
    "expected_csl",
    "demand_share",
    "inventory_share",
    "avg_inventory",
    "inventory_value",
)


def segment_priorities(series: pl.DataFrame) -> pl.DataFrame:
    """``segment, priority``: 1 is served first.

    The rule: segments with a ``priority`` in the policy table come first, in that order; the
    others follow by target, highest first (the CSL and fill-rate scales are compared as they
    are). Equal keys share a priority and are served first come, first served among themselves.
    """
    seg = series.group_by("segment").agg(
        pl.col("seg_priority").first(), pl.col("seg_level").first()
    )
    key = pl.struct(
        pl.col("seg_priority").fill_null(1 << 30).cast(pl.Int64),
        (-pl.col("seg_level")).alias("neg_level"),
    )
    return seg.select("segment", key.rank(method="dense").cast(pl.Int64).alias("priority")).sort(
        "segment"
    )


SERVICE_COLUMNS = ("expected_fill_rate", "expected_csl")


def segment_table(
    series: pl.DataFrame,
    policy: pl.DataFrame,
    keys: list[str],
    *,
    service: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per stocking point x segment (see the module docstring).

    Args:
        series: one row per forecast series with ``keys, segment, mu, seg_level, seg_measure,
            seg_priority`` (from ``inputs``).
        policy: one row per stocking point (``policy.compute_policy``, with ``on_hand``
            columns when known).
        keys: the stocking point's key columns.
        service: optional per stocking point x segment ``reserve_level, expected_fill_rate,
            expected_csl`` (rationing); without it every segment gets the stocking point's
            service (first come, first served) and no reserve.
    """
    prio = segment_priorities(series)
    total = pl.col("mu").sum().over(keys)
    share = (
        pl.when(total > 0).then(pl.col("mu") / total).otherwise(1.0 / pl.len().over(keys))
    ).alias("demand_share")
    rows = (
        series.select(*keys, "segment", "mu", "seg_level", "seg_measure")
        .group_by([*keys, "segment"], maintain_order=True)
        .agg(pl.col("mu").sum(), pl.col("seg_level").first(), pl.col("seg_measure").first())
        .with_columns(share)
        .join(prio, on="segment", how="left")
    )
    point_cols = ["avg_inventory", "inventory_value", "expected_fill_rate", "expected_csl"]
    has_ip = "inventory_position" in policy.columns
    if has_ip:
        point_cols.append("inventory_position")
    rows = rows.join(
        policy.select(*keys, *[pl.col(c).alias(f"point_{c}") for c in point_cols]),
        on=keys,
        how="left",
    )
    if service is not None:
        rows = rows.join(service, on=[*keys, "segment"], how="left")
        rows = rows.with_columns(
            pl.col("reserve_level").fill_null(0.0),
            pl.col("expected_fill_rate").fill_null(pl.col("point_expected_fill_rate")),
            pl.col("expected_csl").fill_null(pl.col("point_expected_csl")),
        )
    else:
        rows = rows.with_columns(
            pl.lit(0.0).alias("reserve_level"),
            pl.col("point_expected_fill_rate").alias("expected_fill_rate"),
            pl.col("point_expected_csl").alias("expected_csl"),
        )
    # A segment with no demand at the point gets no service figure: a fill rate or cycle
    # service level of no demand is undefined, not the point's.
    rows = rows.with_columns(
        *[pl.when(pl.col("mu") > 0).then(pl.col(c)).alias(c) for c in SERVICE_COLUMNS]
    )
    out = rows.select(
        *keys,
        "segment",
        "priority",
        pl.col("seg_measure").alias("service_measure"),
        pl.col("seg_level").alias("service_level"),
        "reserve_level",
        "expected_fill_rate",
        "expected_csl",
        "demand_share",
        pl.col("demand_share").alias("inventory_share"),
        (pl.col("point_avg_inventory") * pl.col("demand_share")).alias("avg_inventory"),
        (pl.col("point_inventory_value") * pl.col("demand_share")).alias("inventory_value"),
        *(
            [
                pl.max_horizontal(
                    pl.col("point_inventory_position") - pl.col("reserve_level"), 0.0
                ).alias("available_to_promise")
            ]
            if has_ip
            else []
        ),
    )
    return out.sort([*keys, "priority", "segment"])


def by_segment(table: pl.DataFrame) -> pl.DataFrame:
    """Totals per segment of the per-segment table: what the report shows as inventory by segment.

    ``segment, priority, stocking_points, avg_inventory, inventory_value``. Summed over the rows
    sorted by segment and stocking point, so the totals (the policy's metadata) do not depend on
    the order the rows come in, down to the last bit.
    """
    point = [c for c in ("site", "sku") if c in table.columns]
    return (
        table.sort("segment", *point)
        .group_by("segment", maintain_order=True)
        .agg(
            pl.col("priority").min(),
            pl.len().alias("stocking_points"),
            pl.col("avg_inventory").sum(),
            pl.col("inventory_value").sum(),
        )
        .sort("priority", "segment")
    )
