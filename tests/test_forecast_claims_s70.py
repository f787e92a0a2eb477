"""Forecast claims audit (session 70): figures recomputed by hand against README's definitions."""

from __future__ import annotations

import datetime as dt

import polars as pl

from segchain.forecast import build_series

MONDAY = dt.date(2022, 1, 3)


def week(i: int) -> dt.date:
    return MONDAY + dt.timedelta(weeks=i)


def test_a_segment_with_returns_only_does_not_start_its_skus_series_before_the_first_sale():
    """README: series are filled "from a series' first sale ... (a segment's series of a sku
    from the sku's first sale; a period whose returns match or exceed its sales, net demand 0
    or less, does not start a series)". A return in week 0 by a customer of segment R (of goods
    bought before the export began, as Online Retail's first weeks hold) and the sku's first
    sale in week 3 by a customer of segment B: both segment series start in week 3. They
    started in week 0, three weeks of zeros before the sku ever sold, which lowered every
    model's level and MASE's scale (Online Retail as of 2011-10-10: 56 series of 11 skus, up
    to 18 such weeks)."""
    orders = pl.DataFrame(
        {
            "order_date": [week(0), week(3), week(4), week(6)],
            "customer_id": ["r", "b", "b", "r"],
            "sku": ["s"] * 4,
            "quantity": [-5.0, 2.0, 3.0, -1.0],
        }
    )
    segments = pl.DataFrame({"customer_id": ["r", "b"], "segment": ["R", "B"]})
    s = build_series(orders, segments, freq="W", by=("segment", "sku"), outliers="keep")
    y = s.y.join(s.keys, on="unique_id")
    starts = dict(y.group_by("segment").agg(pl.col("ds").min()).iter_rows())
    assert starts == {"R": week(3), "B": week(3)}
    # Weeks 3..6, each: B's sales and zeros; R's return in week 6 counts as zero demand.
    by_segment = {
        seg: y.filter(pl.col("segment") == seg).sort("ds").get_column("y").to_list()
        for seg in ("B", "R")
    }
    assert by_segment == {"B": [2.0, 3.0, 0.0, 0.0], "R": [0.0, 0.0, 0.0, 0.0]}
    # The sku's own series (--by sku) starts there too: the levels agree.
    sku = build_series(orders, segments, freq="W", by=("sku",), outliers="keep")
    assert sku.y.get_column("ds").min() == week(3)


def test_a_sku_that_never_sold_keeps_its_returns_only_series():
    """A sku with returns only (no sale in the history) still has its series, from its first
    period, all zero, as README says of a series with returns only."""
    orders = pl.DataFrame(
        {
            "order_date": [week(0), week(2), week(1), week(3)],
            "customer_id": ["r", "r", "b", "b"],
            "sku": ["x", "x", "s", "s"],
            "quantity": [-5.0, -1.0, 4.0, 1.0],
        }
    )
    segments = pl.DataFrame({"customer_id": ["r", "b"], "segment": ["R", "B"]})
    s = build_series(orders, segments, freq="W", by=("segment", "sku"), outliers="keep")
    y = s.y.join(s.keys, on="unique_id")
    x = y.filter(pl.col("sku") == "x").sort("ds")
    assert x.get_column("ds").to_list() == [week(i) for i in range(4)]
    assert x.get_column("y").to_list() == [0.0] * 4
