"""Benchmark: segchain forecast on ~1M order lines (~10,000 series, 3 years weekly) next to a
bare statsforecast AutoETS(season_length=52) on the same series. Prints figures only."""

from __future__ import annotations

import datetime as dt
import os
import time

import numpy as np
import polars as pl
import pytest

N_LINES = int(os.environ.get("BENCH_LINES", 1_000_000))


def synthetic_orders(n_lines: int, seed: int = 0):
    """Lines of 2,000 customers in 4 segments over 2,500 skus with skewed popularity, 3 years."""
    rng = np.random.default_rng(seed)
    customers, skus, days = 2000, 2500, 3 * 364
    start = dt.date(2022, 1, 3)
    sku_p = 1 / np.arange(1, skus + 1) ** 0.9
    sku_p /= sku_p.sum()
    cust = rng.integers(0, customers, n_lines)
    orders = pl.DataFrame(
        {
            "order_id": np.arange(n_lines).astype(str),
            "order_date": pl.date_range(
                start, start + dt.timedelta(days=days - 1), eager=True
            ).gather(rng.integers(0, days, n_lines)),
            "customer_id": cust.astype(str),
            "sku": rng.choice(skus, n_lines, p=sku_p).astype(str),
            "quantity": rng.geometric(0.3, n_lines).astype(float),
            "unit_price": 1.0,
            "amount": 1.0,
            "flag": pl.Series([None] * n_lines, dtype=pl.Utf8),
        }
    )
    segments = pl.DataFrame(
        {
            "customer_id": np.arange(customers).astype(str),
            "segment": [f"S{i % 4}" for i in range(customers)],
        }
    )
    return orders, segments


@pytest.mark.bench
def test_bench_forecast_vs_bare_autoets():
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, HistoricAverage

    from segchain.forecast import build_series, forecast

    orders, segments = synthetic_orders(N_LINES)
    t0 = time.perf_counter()
    result = forecast(orders, segments, freq="W", horizon=13)
    ours = time.perf_counter() - t0
    series = result.forecast.get_column("unique_id").n_unique()
    print(f"\nsegchain forecast: {ours:.1f} s for {series:,} series", flush=True)

    y = build_series(orders, segments, freq="W", by=("segment", "sku")).y
    t0 = time.perf_counter()
    # The same fallback as segchain's: AutoETS refuses series shorter than its parameter count.
    StatsForecast(
        models=[AutoETS(season_length=52)],
        freq="1w",
        n_jobs=-1,
        fallback_model=HistoricAverage(),
    ).forecast(h=13, df=y)
    floor = time.perf_counter() - t0

    classes = result.forecast.unique("unique_id").get_column("demand_class").value_counts()
    overall = result.summary.filter(pl.col("scope") == "overall").row(0, named=True)
    print(
        f"\nforecast bench: {N_LINES:,} lines, {series:,} series, {y.height:,} series-weeks\n"
        f"  segchain forecast (selection + backtest + comparison): {ours:.1f} s "
        f"({series / ours:,.0f} series/s)\n"
        f"  bare AutoETS(season_length=52), forecast only:         {floor:.1f} s "
        f"({series / floor:,.0f} series/s)\n"
        f"  ratio segchain / AutoETS: {ours / floor:.2f}\n"
        f"  backtest WAPE {overall['wape']:.3f} vs baseline {overall['baseline_wape']:.3f}\n"
        f"  classes: {dict(classes.iter_rows())}"
    )
