"""Held-out replay of stock plans against the demand that came, written apart from the stage
(``segchain.stock.sim``) so that it is an independent check: (s, Q) looked at every night, the
plan's lead time in whole days, backorders, each point's inventory position started at s+1,
..., s+Q in turn (evenly spread, as the position after ordering is uniform there), all of it
on hand. Shared by the sparse-products acceptance test and ``bench_stock_heldout.py``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

STARTS = 5  # starting positions per point, evenly over s+1..s+Q


def daily_demand(orders: pl.DataFrame, start: dt.date, weeks: int) -> pl.DataFrame:
    """``sku, day, q``: net product quantity per sku and day over ``weeks`` from ``start``
    (a day of more returns than sales asks for nothing)."""
    end = start + dt.timedelta(weeks=weeks)
    product = orders.filter(pl.col("flag").is_null() | (pl.col("flag") != "non_product"))
    return (
        product.filter(pl.col("order_date").cast(pl.Date).is_between(start, end, closed="left"))
        .group_by("sku", pl.col("order_date").cast(pl.Date).alias("day"))
        .agg(pl.col("quantity").sum().clip(lower_bound=0).alias("q"))
    )


def sq_nightly(daily, s: float, q: float, lead_days: int, on_hand: float) -> tuple[float, float]:
    """(units filled from stock on the day asked, mean units on hand) of one point under (s, Q)
    looked at every night with backorders, over ``daily`` demand, from ``on_hand`` units and
    nothing on order."""
    arriving: dict[int, float] = {}
    filled = held = 0.0
    for t, d in enumerate(daily):
        on_hand += arriving.pop(t, 0.0)
        filled += min(d, max(on_hand, 0.0))
        on_hand -= d
        held += max(on_hand, 0.0)
        position = on_hand + sum(arriving.values())
        while position <= s and q > 0:
            arriving[t + lead_days] = arriving.get(t + lead_days, 0.0) + q
            position += q
    return filled, held / max(len(daily), 1)


def replay(policy: pl.DataFrame, daily: pl.DataFrame, start: dt.date, weeks: int):
    """(fill rate, mean stock on hand at the policy's unit cost) over the points of ``policy``
    and the daily demand ``daily`` (sku, day, q): units filled from stock on the day they were
    asked for / units asked for, and on-hand value averaged over the days and starts, summed
    over points (points without demand in the weeks replayed hold their start all along)."""
    days = [start + dt.timedelta(days=i) for i in range(weeks * 7)]
    demand = {
        sku: dict(zip(g["day"].to_list(), g["q"].to_list(), strict=True))
        for (sku,), g in daily.partition_by("sku", as_dict=True).items()
    }
    asked = filled = held = 0.0
    for row in policy.iter_rows(named=True):
        by_day = demand.get(row["sku"], {})
        asked_here = [float(by_day.get(day, 0.0)) for day in days]
        s, q, lead = row["reorder_point"], row["order_qty"], int(round(row["lead_time_days"]))
        for first in np.linspace(s + 1, s + max(q, 1.0), STARTS):
            got, units = sq_nightly(asked_here, s, q, lead, float(np.floor(first)))
            asked += sum(asked_here)
            filled += got
            held += units * row["unit_cost"] / STARTS
    return filled / asked, held


def promised_fill(policy: pl.DataFrame) -> float:
    """The plans' expected fill rate, weighted by their mean demand."""
    weights = policy["mean_demand"]
    return float((policy["expected_fill_rate"] * weights).sum() / weights.sum())
