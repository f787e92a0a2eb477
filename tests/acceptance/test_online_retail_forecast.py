"""Acceptance on UCI Online Retail, weekly: on held-out weeks the chosen forecasts beat the best
simple baseline (naive, seasonal naive, 4/8/13-week moving averages) in aggregate WAPE.

Honest: the stage sees only the weeks before HOLDOUT_START; the baselines are computed here
from the same history, independently of the code under test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "online_retail"
HOLDOUT_START = dt.date(2011, 10, 10)  # 8 full weeks before the last, partial week
END = dt.date(2011, 12, 5)
H = 8


@pytest.fixture(scope="module")
def retail():
    path = DATA / "online_retail.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (see ../shared/data/README.md)")
    from segchain.cli.common import OrderOptions, Reporter, load_orders
    from segchain.config import load_config

    loaded = load_orders(
        str(path),
        OrderOptions(preset="online-retail"),
        config=load_config(None),
        reporter=Reporter(quiet=True),
    )
    (orders,), _ = loaded.collect(loaded.clean)
    orders = orders.filter(pl.col("order_date").cast(pl.Date) < END)
    # Two segments independent of the code under test: home market and export customers.
    segments = (
        orders.group_by("customer_id")
        .agg(pl.col("country").mode().first())
        .select(
            "customer_id",
            pl.when(pl.col("country") == "United Kingdom")
            .then(pl.lit("UK"))
            .otherwise(pl.lit("Export"))
            .alias("segment"),
        )
    )
    return orders, segments


def wape(errors: pl.Expr, actual: pl.Expr) -> pl.Expr:
    return errors.abs().sum() / actual.sum()


@pytest.mark.slow
def test_online_retail_weekly_forecast_beats_best_baseline_on_held_out_weeks(retail):
    from segchain.forecast import build_series, forecast

    orders, segments = retail
    train = orders.filter(pl.col("order_date").cast(pl.Date) < HOLDOUT_START)
    result = forecast(train, segments, freq="W", horizon=H, n_jobs=2)
    fc = result.forecast
    assert fc.select(pl.selectors.float().is_nan().any()).sum_horizontal().item() == 0
    assert fc.get_column("forecast").min() >= 0

    # Actuals and the baselines, computed here from the series alone.
    full = build_series(orders, segments, freq="W", by=("segment", "sku")).y
    hist = full.filter(pl.col("ds") < HOLDOUT_START).sort("unique_id", "ds")
    last = hist.group_by("unique_id").agg(
        pl.col("y").last().alias("naive"),
        *[pl.col("y").tail(k).mean().alias(f"ma{k}") for k in (4, 8, 13)],
    )
    # Seasonal naive: the same week a year earlier; the data hold barely a year, so where that
    # week precedes the series (all but the last hold-out week) it falls back to naive.
    year_ago = hist.select(
        "unique_id", (pl.col("ds") + pl.duration(weeks=52)).alias("ds"), pl.col("y").alias("sn")
    )
    actual = full.filter(pl.col("ds") >= HOLDOUT_START)
    joined = (
        actual.join(fc.select("unique_id", "ds", "forecast"), on=["unique_id", "ds"])
        .join(last, on="unique_id")
        .join(year_ago, on=["unique_id", "ds"], how="left")
        .with_columns(pl.col("sn").fill_null(pl.col("naive")).alias("seasonal_naive"))
    )
    assert joined.select("unique_id").n_unique() > 1000
    assert joined.get_column("ds").n_unique() == H
    names = ["forecast", "naive", "seasonal_naive", "ma4", "ma8", "ma13"]
    scores = joined.select(
        [wape(pl.col(c) - pl.col("y"), pl.col("y")).alias(c) for c in names]
    ).row(0, named=True)
    print(f"held-out WAPE: { {k: round(v, 4) for k, v in scores.items()} }")
    best = min(v for k, v in scores.items() if k != "forecast")
    assert scores["forecast"] < best
