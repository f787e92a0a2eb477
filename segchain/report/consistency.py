"""Whether the tables given to one report are of one run: what they share, by their keys.

A report builds each figure from the tables that hold it, and a section may read two (the
segments' title beside the profile's figures, the costs' totals beside the customers'). Given the
outputs of two runs or two data sets, it showed their figures side by side without a word: the
segments of Superstore under an RFM date of 2022 above the demo's revenue, the demo's customers
as Superstore's least profitable. Each check here compares two tables that one run writes in
step, and says where they cannot be of one run: they share no key, or totals that one stage
derives from the other differ.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from segchain.formatting import agree, plural

# (table, table, key, what the key is, plural): tables of one run share some of these (a
# forecast's series too young to backtest are not in its backtest, so not all; none is another
# run's).
SHARED_KEYS = (
    ("segments", "assignments", "customer_id", "customer", "customers"),
    ("segments", "customer_costs", "customer_id", "customer", "customers"),
    ("forecast", "backtest", "unique_id", "series", "series"),
    ("forecast", "policy", "sku", "sku", "skus"),
    ("policy", "stock_segments", "sku", "sku", "skus"),
)
# Relative difference beyond which two totals of one run are not equal (rounding in a CSV).
TOLERANCE = 1e-6


def mismatches(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """One message per pair of tables that cannot be of one run."""
    out = []
    for a, b, key, what, many in SHARED_KEYS:
        if a in tables and b in tables and key in tables[a].columns and key in tables[b].columns:
            here = _keys(tables[a], key)
            there = _keys(tables[b], key)
            if here.len() and there.len() and not there.is_in(here.implode()).any():
                out.append(
                    f"the {a} ({plural(here.len(), what, many)}) and the {b} "
                    f"({plural(there.len(), what, many)}) share no {key}: tables of different "
                    "runs?"
                )
    out += _segments_of_customers(tables)
    out += _profile_against_segments(tables)
    out += _costs_against_customers(tables)
    out += _policy_against_forecast(tables)
    return out


def _keys(table: pl.DataFrame, key: str) -> pl.Series:
    """The table's distinct keys; of a backtest, its series rows' only (its summary and
    comparison rows, 545 of the demo's 2,338 ids, were counted as series)."""
    if "scope" in table.columns:
        table = table.filter(pl.col("scope").cast(pl.String) == "series")
    return table.get_column(key).cast(pl.String).drop_nulls().unique()


def _segments_of_customers(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """network and costs copy each customer's segment from the segments they were given: in one
    run a customer shared with the segments table has its segment there, and every assigned
    customer is in it (a segment re-run beside the old network differed for 168 of 351)."""
    segments = tables.get("segments")
    if segments is None or not {"customer_id", "segment"} <= set(segments.columns):
        return []
    theirs = segments.select(
        pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String).alias("_seg")
    ).unique("customer_id")
    out = []
    for name in ("assignments", "customer_costs"):
        other = tables.get(name)
        if other is None or not {"customer_id", "segment"} <= set(other.columns):
            continue
        mine = other.select(
            pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String)
        ).unique("customer_id")
        both = mine.join(theirs, on="customer_id", how="left")
        shared = both.filter(pl.col("_seg").is_not_null())
        if not shared.height:
            continue  # said by SHARED_KEYS: no customer shared
        moved = shared.filter(pl.col("segment").ne_missing(pl.col("_seg"))).height
        absent = both.height - shared.height if name == "assignments" else 0
        if moved:
            out.append(
                f"{plural(moved, 'customer')} of {shared.height:,} in both the {name} and the "
                f"segments {agree(moved, 'has', 'have')} another segment in each: tables of "
                "different runs?"
            )
        if absent:
            out.append(
                f"{plural(absent, 'customer')} of the {name} {agree(absent, 'is', 'are')} in no "
                "segment of the segments table: tables of different runs?"
            )
    return out


def _profile_against_segments(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """The profile counts the segments table's customers per segment: equal in one run."""
    profile, segments = tables.get("segment_profile"), tables.get("segments")
    if profile is None or segments is None:
        return []
    if not {"segment", "customers"} <= set(profile.columns) or "segment" not in segments.columns:
        return []
    counted = segments.group_by(pl.col("segment").cast(pl.String)).agg(pl.len().alias("n"))
    given = profile.select(pl.col("segment").cast(pl.String), pl.col("customers").cast(pl.Int64))
    both = given.join(counted, on="segment", how="full", coalesce=True).fill_null(0)
    if both.filter(pl.col("customers") != pl.col("n")).height == 0:
        return []
    return [
        f"the segment profile counts {int(given['customers'].sum()):,} customers and the segments "
        f"hold {segments.height:,}, not in the same segments: tables of different runs?"
    ]


def _costs_against_customers(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """costs' revenue per segment is its customers' summed: equal in one run."""
    costs, customers = tables.get("costs"), tables.get("customer_costs")
    if costs is None or customers is None:
        return []
    if not all("segment" in t.columns and "revenue" in t.columns for t in (costs, customers)):
        return []
    summed = customers.group_by(pl.col("segment").cast(pl.String)).agg(
        pl.col("revenue").sum().alias("summed")
    )
    given = costs.select(pl.col("segment").cast(pl.String), pl.col("revenue"))
    both = given.join(summed, on="segment", how="full", coalesce=True).fill_null(0.0)
    scale = max(float(given["revenue"].abs().sum()), 1.0)
    off = both.filter((pl.col("revenue") - pl.col("summed")).abs() > TOLERANCE * scale)
    if off.height == 0:
        return []
    return [
        f"the costs' revenue per segment is not the customer costs' summed ({off.height} of "
        f"{both.height} segments differ): tables of different runs?"
    ]


# Relative difference beyond which the policy's demand is not its forecast's: stock plans each
# series at the mean over the forecast's periods (under 1e-9 a period counted 0), so in one run the
# two totals agree to rounding.
DEMAND_TOLERANCE = 1e-4


def _policy_against_forecast(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """stock plans each stocking point at its series' mean forecast: in one run the policy's
    mean_demand sums to the forecast's series means summed. A forecast re-run beside the old
    policy (31,977 units planned against 36,736 forecast, the report's 'Order now' from the one
    and its forecast section from the other) passed without a word (audit H, session 60)."""
    forecast, policy = tables.get("forecast"), tables.get("policy")
    if forecast is None or policy is None:
        return []
    if not {"unique_id", "forecast"} <= set(forecast.columns) or "mean_demand" not in policy:
        return []
    # A series' mean is over the forecast's periods, a period without its row counting 0, as
    # stock reads it (``stock.inputs.read_series``).
    periods = forecast.get_column("ds").n_unique() if "ds" in forecast.columns else None
    total = pl.col("forecast").cast(pl.Float64)
    series = forecast.group_by(pl.col("unique_id").cast(pl.String)).agg(
        (total.sum() / periods if periods else total.mean()).alias("mu")
    )
    forecast_total = float(series.filter(pl.col("mu") >= 1e-9)["mu"].sum())
    planned = float(policy.get_column("mean_demand").cast(pl.Float64).fill_null(0.0).sum())
    if abs(planned - forecast_total) <= DEMAND_TOLERANCE * max(abs(forecast_total), 1.0):
        return []
    return [
        f"the policy plans {planned:,.6g} units a period and the forecast holds "
        f"{forecast_total:,.6g} (its series' means summed), where stock plans the forecast it "
        "reads: tables of different runs?"
    ]
