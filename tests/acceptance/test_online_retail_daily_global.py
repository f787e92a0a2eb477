"""Acceptance on UCI Online Retail, daily: the global model's forecast of the 28 days after
2011-10-10 does not climb away from the demand.

Fed back as the last days' lags, an intermittent item's fractional forecasts read as days that
sold, and each forecast day rose on the last: with the features of the year fitted on under a
year as well, the skus' forecasts summed to 1.245 times the demand over the 28 days, the last
week's to 1.24 times the first's (now 0.905 and 1.13). Honest: the model sees only the days
before HOLDOUT_START; the demand is counted here from the same order lines, and the 28-day
average beside it is computed here too."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import realdata

HOLDOUT_START = dt.date(2011, 10, 10)
H = 28


@pytest.mark.slow
def test_online_retail_daily_global_forecast_stays_near_the_demand():
    from segchain.forecast import build_series, forecast

    orders, segments = realdata.online_retail()
    train = orders.filter(pl.col("order_date").cast(pl.Date) < HOLDOUT_START)
    fc = forecast(
        train, segments, freq="D", horizon=H, by="sku", models="Global", n_jobs=1
    ).forecast
    # Series too young to backtest take their own level instead (counted as a fallback).
    fc = fc.filter(pl.col("model") == "Global")
    skus = fc.get_column("unique_id").unique()
    assert skus.len() > 2000
    actual = build_series(orders, segments, freq="D", by=("sku",), outliers="keep").y.filter(
        pl.col("unique_id").is_in(skus.implode())
        & pl.col("ds").is_between(HOLDOUT_START, HOLDOUT_START + dt.timedelta(days=H - 1))
    )
    demand = actual.get_column("y").sum()
    # The same skus' 28-day average, independently: their history's last 28 days.
    history = build_series(train, segments, freq="D", by=("sku",), outliers="keep").y
    average = (
        history.filter(
            pl.col("unique_id").is_in(skus.implode())
            & (pl.col("ds") >= HOLDOUT_START - dt.timedelta(days=H))
        )
        .get_column("y")
        .sum()
    )
    by_week = (
        fc.with_columns(((pl.col("ds") - pl.lit(HOLDOUT_START)).dt.total_days() // 7).alias("w"))
        .group_by("w")
        .agg(pl.col("forecast").sum())
        .sort("w")
        .get_column("forecast")
    )
    total = by_week.sum()
    print(
        f"\nOnline Retail daily from {HOLDOUT_START}: global model sum / demand "
        f"{total / demand:.3f}, 28-day average {average / demand:.3f}; weekly sums "
        + ", ".join(f"{v:,.0f}" for v in by_week)
    )
    # Within 20 % of what was ordered, as the 28-day average is (1.08), and flat week to week.
    assert 0.8 <= total / demand <= 1.2
    assert by_week[-1] / by_week[0] < 1.15
