"""The backtest's comparison rows of a sku whose history before the window is short (session 67).

An auditor's recomputation of Online Retail's comparison rows (session 66) matched the naive and
the 4- and 8-week averages but not the 13-week one: his sku series began at the sku's first order
line, segchain's at its first sale, and 34 skus' first line was a return (or a week whose returns
cancelled its sales). Where a window's history is under 13 weeks, the 13-week average is the mean
of the weeks the series has, from its first sale (docs/measurements.md, *The backtest's 13-week
comparison row recomputed*). Known answers below are worked by hand from the weekly demand.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from segchain.forecast import forecast

MONDAY = dt.date(2024, 1, 1)
# The models see the demand rounded to single precision (units.in_unit: within 6e-8 of itself).
CLOSE = 1e-6
# Weeks 1-12: the backtest window's history (sum 36); weeks 13-20: the window held out (sum 24).
HISTORY = [6, 0, 3, 0, 6, 3, 0, 9, 0, 3, 6, 0]
HELD = [2, 4, 0, 6, 2, 4, 0, 6]


def _comparison() -> dict[str, tuple[int, float, float]]:
    """One sku bought by two customers of two segments; its first line, in week 0, a return of
    3 (of a sale before the export). As of week 21 with an 8-week horizon the series holds 20
    weeks (from week 1, its first sale): one backtest window of 12 weeks' history."""
    rows = [(MONDAY + dt.timedelta(days=2), "C0", "S1", -3.0)]
    rows += [
        (MONDAY + dt.timedelta(weeks=w), f"C{w % 2}", "S1", float(q))
        for w, q in enumerate(HISTORY + HELD, start=1)
        if q
    ]
    orders = pl.DataFrame(
        rows, schema=["order_date", "customer_id", "sku", "quantity"], orient="row"
    )
    segments = pl.DataFrame({"customer_id": ["C0", "C1"], "segment": ["A", "B"]})
    result = forecast(
        orders,
        segments,
        horizon=8,
        n_jobs=1,
        models="WindowAverage",
        as_of=MONDAY + dt.timedelta(weeks=21),
    )
    return {
        approach: (periods, mae, bias)
        for approach, periods, mae, bias in result.comparison.select(
            "approach", "periods", "mae", "bias"
        ).iter_rows()
    }


@pytest.fixture(scope="module")
def comparison() -> dict[str, tuple[int, float, float]]:
    return _comparison()


def test_the_13_week_average_of_12_weeks_is_their_mean_from_the_first_sale(comparison) -> None:
    # 36 units over the 12 weeks from the first sale: 3.0 a week against the held-out weeks
    # 2, 4, 0, 6, 2, 4, 0, 6 (mean 3): absolute errors 1, 1, 3, 3, 1, 1, 3, 3, bias 0. Counting
    # the return's week as a 13th week of history would forecast 36 / 13 (bias -3/13).
    periods, mae, bias = comparison["sku 13-period moving average"]
    assert periods == 8
    assert mae == pytest.approx(2.0, abs=CLOSE)
    assert bias == pytest.approx(0.0, abs=CLOSE)


@pytest.mark.parametrize(
    ("approach", "forecast_by_hand"),
    [
        ("sku naive", 0.0),  # week 12
        ("sku 4-period moving average", (0 + 3 + 6 + 0) / 4),  # weeks 9-12
        ("sku 8-period moving average", (6 + 3 + 0 + 9 + 0 + 3 + 6 + 0) / 8),  # weeks 5-12
    ],
)
def test_the_shorter_baselines_read_the_last_weeks(comparison, approach, forecast_by_hand) -> None:
    periods, mae, bias = comparison[approach]
    assert periods == 8
    assert mae == pytest.approx(sum(abs(forecast_by_hand - a) for a in HELD) / 8, abs=CLOSE)
    assert bias == pytest.approx(forecast_by_hand - sum(HELD) / 8, abs=CLOSE)
