"""forecast --as-of scores the forecast against the best simple baseline held out; where that
baseline forecast every held-out period exactly (WAPE 0: steady demand a naive forecast repeats,
a weekly cycle seasonal naive repeats), the ratio divided by zero: a traceback, exit 1 and no
forecast written (session 67)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

START = dt.date(2023, 1, 2)  # a Monday: whole weeks
AS_OF = "2024-01-01"


def _orders(path: Path, daily) -> None:
    """One sku bought every day for 400 days by three customers, ``daily(i)`` units on day i."""
    days = [START + dt.timedelta(days=i) for i in range(400)]
    pl.DataFrame(
        {
            "order_id": [str(i) for i in range(len(days))],
            "order_date": days,
            "customer_id": [f"C{i % 3}" for i in range(len(days))],
            "sku": "S1",
            "quantity": [daily(i) for i in range(len(days))],
            "unit_price": 2.0,
        }
    ).write_csv(path)


@pytest.mark.parametrize(
    ("daily", "forecast_wape"),
    [
        # 2 units a day: every baseline and the forecast exact, 0 over 0.
        (lambda i: 2, 0.0),
        # 1, 2, 3, 4 units a day in turn: weekly totals cycle every 4 weeks, 52 weeks back is
        # 13 cycles, so seasonal naive is exact and the 8-week average is not.
        (lambda i: 1 + i % 4, None),
    ],
)
def test_a_baseline_exact_held_out_gives_no_ratio_and_the_forecast_is_written(
    cli, tmp_path: Path, daily, forecast_wape
) -> None:
    _orders(tmp_path / "orders.csv", daily)
    assert cli("segment", "orders.csv", "--as-of", AS_OF, "-o", "seg.parquet").exit_code == 0
    result = cli(
        "forecast", "seg.parquet", "--orders", "orders.csv", "--freq", "W", "--as-of", AS_OF,
        "--horizon", "3", "--models", "WindowAverage", "-o", "fc.parquet",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "forecast every period exactly (WAPE 0), so no ratio" in result.stderr
    meta = pl.read_parquet_metadata(tmp_path / "fc.parquet")
    held = json.loads(meta["segchain.held_out"])
    assert held["vs_best_baseline"] is None
    # The held-out weeks' demand by hand: 3 whole weeks from 2024-01-01 (days 364..384).
    demand = sum(daily(i) for i in range(364, 385))
    assert held["demand"] == pytest.approx(demand)
    assert min(held["wape"][k] for k in held["wape"] if k not in ("forecast", "sku direct")) == 0
    if forecast_wape is not None:
        assert held["wape"]["forecast"] == pytest.approx(forecast_wape, abs=1e-9)
    else:
        assert held["wape"]["forecast"] > 0
