"""Online Retail: no stocking point expecting under 1 unit over its protection interval holds
more than its history shows (issue 11, item 4). Slow: it forecasts the whole export."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest


@pytest.mark.slow
def test_online_retail_tiny_points_hold_no_more_than_their_history(
    cli, shared_data: Path, tmp_path: Path
):
    source = shared_data / "online_retail" / "online_retail.csv.gz"
    if not source.exists():
        pytest.skip(f"real data not available: {source} is absent")
    orders, segments = tmp_path / "orders.parquet", tmp_path / "segments.parquet"
    forecast, policy = tmp_path / "forecast.parquet", tmp_path / "policy.parquet"
    args = ["validate", str(source), "--preset", "online-retail", "-o", str(orders)]
    assert cli(*args).exit_code == 0
    assert cli("segment", str(orders), "-o", str(segments)).exit_code == 0
    result = cli("forecast", str(segments), "--orders", str(orders), "-o", str(forecast))
    assert result.exit_code == 0, result.stderr
    result = cli("stock", str(forecast), "--orders", str(orders), "-o", str(policy))
    assert result.exit_code == 0, result.stderr
    assert "valued at their sku's mean selling price" in result.stderr
    p = pl.read_parquet(policy)

    # Independently: weekly net product demand per sku (weeks from Monday), from its first sale
    # to the last week of the data, negative weeks as zero; the largest sum over any window of
    # ceil((lead time + review)/7) weeks.
    o = pl.read_parquet(orders)
    o = o.filter(pl.col("flag").is_null() | (pl.col("flag") != "non_product"))
    monday = date(2000, 1, 3)
    week = (pl.col("order_date").cast(pl.Date) - pl.lit(monday)).dt.total_days() // 7
    o = o.select(pl.col("sku").cast(pl.String), week.alias("w"), pl.col("quantity"))
    last = int(o["w"].max())  # type: ignore[arg-type]
    weekly = o.group_by("sku", "w").agg(pl.col("quantity").sum())
    history: dict[str, np.ndarray] = {}
    for (sku,), g in weekly.group_by("sku"):
        y = np.zeros(last + 1)
        np.add.at(y, g["w"].to_numpy(), g["quantity"].to_numpy())
        y = np.maximum(y, 0.0)
        nz = np.flatnonzero(y > 0)
        if nz.size:
            history[str(sku)] = y[nz[0] :]
    tiny = p.filter(pl.col("mean_demand_lt") < 1)
    assert tiny.height > 100
    over = []
    for row in tiny.iter_rows(named=True):
        y = history.get(row["sku"])
        if y is None:
            continue
        w = min(math.ceil((row["lead_time_days"] + row["review_days"]) / 7 - 1e-9), y.size)
        c = np.concatenate([[0.0], np.cumsum(y)])
        if row["reorder_point"] > np.max(c[w:] - c[:-w]) + 1e-9:
            over.append(row["sku"])
    assert over == []
    assert (p["demand_model"] == "bootstrap").sum() > 0
