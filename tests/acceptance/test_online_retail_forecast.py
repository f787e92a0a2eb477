"""Acceptance on UCI Online Retail, weekly: held-out weeks beat naive and an 8-week average."""

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
def test_online_retail_weekly_forecast_beats_naive_on_held_out_weeks(retail):
    from segchain.forecast import build_series, forecast

    orders, segments = retail
    train = orders.filter(pl.col("order_date").cast(pl.Date) < HOLDOUT_START)
    result = forecast(train, segments, freq="W", horizon=H, n_jobs=2)
    fc = result.forecast
    assert fc.select(pl.selectors.float().is_nan().any()).sum_horizontal().item() == 0
    assert fc.get_column("forecast").min() >= 0

    # Actuals and the baselines, computed here from the series alone.
    full = build_series(orders, segments, freq="W", by=("segment", "sku")).y
    hist = full.filter(pl.col("ds") < HOLDOUT_START)
    naive = hist.group_by("unique_id").agg(pl.col("y").sort_by("ds").last().alias("naive"))
    ma8 = hist.group_by("unique_id").agg(pl.col("y").sort_by("ds").tail(8).mean().alias("ma8"))
    actual = full.filter(pl.col("ds") >= HOLDOUT_START)
    joined = (
        actual.join(fc.select("unique_id", "ds", "forecast"), on=["unique_id", "ds"])
        .join(naive, on="unique_id")
        .join(ma8, on="unique_id")
    )
    assert joined.select("unique_id").n_unique() > 1000
    scores = joined.select(
        wape(pl.col("forecast") - pl.col("y"), pl.col("y")).alias("chosen"),
        wape(pl.col("naive") - pl.col("y"), pl.col("y")).alias("naive"),
        wape(pl.col("ma8") - pl.col("y"), pl.col("y")).alias("ma8"),
    ).row(0, named=True)
    print(f"held-out WAPE: {scores}")
    assert scores["chosen"] < scores["naive"]
    assert scores["chosen"] < scores["ma8"]
