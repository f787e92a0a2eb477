"""Acceptance on sparse items, held out: Superstore by product (about 1,800 Product IDs, most
sold a few times a year, often several units at once), the customer's own Superstore segment,
weekly forecast and `stock --orders` from the lines before 2022-06-06; the plans are then
replayed day by day over the 8 weeks that followed, against the demand that came.

The replay is written here (not the stage's formulas): (s, Q) looked at every night, the plan's
lead time, backorders, each point's position started at s+1, ..., s+Q in turn (evenly spread,
as the position after ordering is uniform there), all of it on hand. Before the bootstrap drew
its lead time and protection interval from the same paths and lumps were planned for, these
plans promised 0.968 (demand-weighted) and delivered 0.739 here; now 0.955 and 0.885."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
import realdata

START = dt.date(2022, 6, 6)
H = 8
STARTS = 5  # starting positions per point, evenly over s+1..s+Q

# Reached on the landed code: 0.885 (0.739 before). Guards it against regressions; the promise
# (0.95) is not reached on this data (see the README, "Demand in lumps").
REACHED_FILL = 0.84


@pytest.fixture(scope="module")
def products():
    return realdata.superstore("Product ID")


def replay_fill(policy: pl.DataFrame, daily: pl.DataFrame, days: list[dt.date]) -> float:
    """Units filled from stock on the day they were asked for / units asked for, over the
    points of ``policy`` and the daily demand ``daily`` (sku, day, q)."""
    demand = {
        sku: dict(zip(g["day"].to_list(), g["q"].to_list(), strict=True))
        for (sku,), g in daily.partition_by("sku", as_dict=True).items()
    }
    asked = filled = 0.0
    for row in policy.iter_rows(named=True):
        by_day = demand.get(row["sku"])
        if not by_day:
            continue
        s, q, lead = row["reorder_point"], row["order_qty"], int(round(row["lead_time_days"]))
        for start in np.linspace(s + 1, s + max(q, 1.0), STARTS):
            on_hand, arriving = float(np.floor(start)), {}
            for t, day in enumerate(days):
                on_hand += arriving.pop(t, 0.0)
                d = float(by_day.get(day, 0.0))
                asked += d
                filled += min(d, max(on_hand, 0.0))
                on_hand -= d
                position = on_hand + sum(arriving.values())
                while position <= s and q > 0:
                    arriving[t + lead] = arriving.get(t + lead, 0.0) + q
                    position += q
    return filled / asked


@pytest.mark.slow
def test_sparse_products_stock_delivers_near_its_promise_on_held_out_weeks(products):
    from segchain.forecast import forecast
    from segchain.stock import stock

    orders, segments = products
    train = orders.filter(pl.col("order_date").cast(pl.Date) < START)
    fc = forecast(train, segments, freq="W", horizon=H)
    policy = stock(fc.forecast, orders=train, service_level=0.95).policy
    assert policy.height > 1500
    assert (policy["service_target"] - 0.95).abs().max() < 1e-9
    assert (policy["policy_type"] == "sQ").all() and (policy["review_days"] == 1).all()

    end = START + dt.timedelta(weeks=H)
    product = orders.filter(pl.col("flag").is_null() | (pl.col("flag") != "non_product"))
    daily = (
        product.filter(pl.col("order_date").cast(pl.Date).is_between(START, end, closed="left"))
        .group_by("sku", pl.col("order_date").cast(pl.Date).alias("day"))
        .agg(pl.col("quantity").sum().clip(lower_bound=0).alias("q"))
    )
    days = [START + dt.timedelta(days=i) for i in range(H * 7)]
    fill = replay_fill(policy, daily, days)
    promised = float(
        (policy["expected_fill_rate"] * policy["mean_demand"]).sum() / policy["mean_demand"].sum()
    )
    print(
        f"\nSuperstore by product, held out from {START}: {policy.height:,} points, "
        f"fill promised {promised:.3f}, delivered {fill:.3f}; "
        f"mean stock {policy['inventory_value'].sum():,.0f} at unit price"
    )
    assert fill >= REACHED_FILL
