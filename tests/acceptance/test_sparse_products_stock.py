"""Acceptance on sparse items, held out: Superstore by product (about 1,800 Product IDs, most
sold a few times a year, often several units at once), the customer's own Superstore segment,
weekly forecast and `stock --orders` from the lines before 2022-06-06; the plans are then
replayed day by day over the 8 weeks that followed, against the demand that came.

The replay is written apart from the stage (``tests/heldout.py``): (s, Q) looked at every
night, the plan's lead time, backorders, each point's position started at s+1, ..., s+Q in
turn (evenly spread, as the position after ordering is uniform there), all of it on hand; a
point forecast 0 as the stage plans it, from nothing on hand, ordering only what it owes.
Before the bootstrap drew its lead time and protection interval from the same paths and lumps
were planned for, these plans promised 0.968 (demand-weighted) and delivered 0.739 here; now
0.964 and 0.885 (0.897 while the replay ran a point forecast 0 as its (s, Q) from 1..Q units
on hand, until 2026-12-07; 0.879 and 0.885 at earlier commits)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import realdata
from heldout import daily_demand, promised_fill, replay

START = dt.date(2022, 6, 6)
H = 8

# Reached on the landed code: 0.885 (0.739 before). Guards it against regressions; the promise
# (0.95) is not reached on this data (see the README, "Demand in lumps").
REACHED_FILL = 0.84


@pytest.fixture(scope="module")
def products():
    return realdata.superstore("Product ID")


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

    fill, _ = replay(policy, daily_demand(orders, START, H), START, H)
    promised = promised_fill(policy)
    print(
        f"\nSuperstore by product, held out from {START}: {policy.height:,} points, "
        f"fill promised {promised:.3f}, delivered {fill:.3f}; "
        f"mean stock {policy['inventory_value'].sum():,.0f} at unit price"
    )
    assert fill >= REACHED_FILL
