"""Held-out service of `stock` on real data: what the plans promised against what they deliver
over the weeks after the cut-off, and at what stock.

The default chain as a library user runs it (weekly `forecast` of segment x sku from the lines
before the cut-off, then `stock --orders` at a fill rate of 0.95 for every point), replayed day
by day against the demand that came (``tests/heldout.py``: (s, Q) nightly, backorders, all on
hand at the start; a point forecast 0 as planned, from nothing on hand, ordering what it
owes). Beside it, the same `stock` run on a forecast of each series' own 8-week moving average
(the chain's rows, forecast column replaced; error_sd kept), the one-line forecast the issue
compares against. Data: Superstore by product with the customers' own
segments (sparse items, lumps) and Online Retail with home vs export customers. Prints figures,
asserts nothing about them.
"""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
import pytest
import realdata
from heldout import daily_demand, promised_fill, replay

H = 8
TARGET = 0.95
CASES = (
    ("Superstore by product", dt.date(2022, 6, 6)),
    ("Superstore by product", dt.date(2022, 10, 10)),
    ("Online Retail", dt.date(2011, 10, 10)),
)


def moving_average_rows(fc: pl.DataFrame, train: pl.DataFrame, segments: pl.DataFrame):
    """The forecast's rows with each series' forecast its own mean of the last 8 weeks."""
    from segchain.forecast import build_series

    y = build_series(train, segments, freq="W", by=("segment", "sku"), outliers="keep").y
    ma = (
        y.sort("unique_id", "ds")
        .group_by("unique_id")
        .agg(pl.col("y").tail(8).sum().truediv(8).alias("ma8"))
    )
    return (
        fc.join(ma, on="unique_id", how="left")
        .with_columns(pl.col("ma8").fill_null(0.0).alias("forecast"))
        .drop("ma8")
    )


def plan_and_replay(name, fc, train, orders, start):
    from segchain.stock import stock

    t0 = time.perf_counter()
    policy = stock(fc, orders=train, service_level=TARGET).policy
    seconds = time.perf_counter() - t0
    fill, on_hand = replay(policy, daily_demand(orders, start, H), start, H)
    print(
        f"    {name}: {policy.height:,} points, fill promised {promised_fill(policy):.3f}, "
        f"delivered {fill:.3f}; planned stock {policy['inventory_value'].sum():,.0f}, "
        f"replayed on hand {on_hand:,.0f} ({seconds:.0f} s)"
    )


@pytest.mark.bench
def test_bench_stock_held_out():
    from segchain.forecast import forecast

    data = {}
    for label, start in CASES:
        if label not in data:
            data[label] = (
                realdata.superstore("Product ID")
                if label.startswith("Superstore")
                else realdata.online_retail()
            )
        orders, segments = data[label]
        train = orders.filter(pl.col("order_date").cast(pl.Date) < start)
        fc = forecast(train, segments, freq="W", horizon=H).forecast
        print(f"\n  {label}, held out {H} weeks from {start}, every point promised {TARGET}:")
        plan_and_replay("chain forecast", fc, train, orders, start)
        plan_and_replay(
            "8-week moving average", moving_average_rows(fc, train, segments), train, orders, start
        )
