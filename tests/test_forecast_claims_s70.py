"""Forecast claims audit (session 70): figures recomputed by hand against README's definitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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


def test_a_sale_netted_by_another_segments_return_does_not_start_the_skus_series():
    """Week 0: segment A's customer buys 5, segment B's returns 5, the sku's net demand 0,
    which "does not start a series" (README); its first sale is week 2. The sku's own series
    (--by sku) starts there, and so do its segment series: they started at A's week 0, a
    backtest window more than the sku's (Online Retail as of 2011-10-10: 2 skus)."""
    orders = pl.DataFrame(
        {
            "order_date": [week(0), week(0), week(2), week(3)],
            "customer_id": ["a", "b", "a", "b"],
            "sku": ["s"] * 4,
            "quantity": [5.0, -5.0, 3.0, 1.0],
        }
    )
    segments = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["A", "B"]})
    sku = build_series(orders, segments, freq="W", by=("sku",), outliers="keep")
    assert sku.y.get_column("ds").to_list() == [week(2), week(3)]
    s = build_series(orders, segments, freq="W", by=("segment", "sku"), outliers="keep")
    y = s.y.join(s.keys, on="unique_id").sort("segment", "ds")
    assert y.select("segment", "ds", "y").rows() == [
        ("A", week(2), 3.0),
        ("A", week(3), 0.0),
        ("B", week(2), 0.0),
        ("B", week(3), 1.0),
    ]


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


README = Path(__file__).resolve().parents[1] / "README.md"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_held_out_seasonal_naive_repeats_the_last_period_before_a_series_first_sale():
    """The held-out check's seasonal naive reads a series' own history, which starts at its
    first sale: for a sku first sold less than a year before the cut-off there is no year-ago
    period, and it repeats the last one, as README now says (it named only the data's first,
    partial period). Hand-made: 'old' sells 1 + (week % 5) from week 0, 'new' 7 a week from
    week 40; cut at week 60, two whole weeks held out. Seasonal naive: old weeks 8, 9 (4, 5)
    against 1, 2; new repeats week 59 (7) against 7, 7: WAPE 6 / 17 (20 / 17 reading new's
    year-ago weeks as 0)."""
    from segchain.forecast.heldout import held_out

    days = [(week(i), "old", 1.0 + i % 5) for i in range(62)]
    days += [(week(i), "new", 7.0) for i in range(40, 62)]
    orders = pl.DataFrame(
        {
            "order_date": [d for d, _, _ in days],
            "customer_id": ["c"] * len(days),
            "sku": [s for _, s, _ in days],
            "quantity": [q for _, _, q in days],
        }
    ).with_columns(pl.col("order_date") + pl.duration(days=6))  # Sundays: weeks 60, 61 whole
    segments = pl.DataFrame({"customer_id": ["c"], "segment": ["A"]})
    forecast = pl.DataFrame(
        {
            "sku": ["old", "old", "new", "new"],
            "ds": [week(60), week(61)] * 2,
            "forecast": [1.0, 2.0, 7.0, 7.0],
        }
    )
    scored = held_out(orders, segments, forecast, freq="W", by=["sku"])
    assert scored is not None and scored.demand == 17.0
    wape = dict(scored.scores.select("approach", "wape").iter_rows())
    assert abs(wape["seasonal naive"] - 6 / 17) < 1e-12
    text = _one_line(README.read_text(encoding="utf-8"))
    assert (
        "as it does where the year-ago period is before the series' first sale (a sku first "
        "sold less than a year before DATE), which is no part of its history"
    ) in text


def test_readme_defines_the_backtest_mase_scale():
    """README's --backtest named MASE without its scale; the recomputation (the mean absolute
    one-step change from the series' first period to its first window's cutoff) matched the
    file on every series row checked, so README now says it."""
    text = _one_line(README.read_text(encoding="utf-8"))
    assert (
        "mean absolute one-step change of the series, `|y[t] - y[t-1]|`, from its first period "
        "to its first window's cutoff"
    ) in text
