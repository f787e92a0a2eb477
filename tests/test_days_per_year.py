"""One year for stock and costs: 365.25 days (``schema.DAYS_PER_YEAR``, the mean calendar year).

Before, stock annualised demand over 365.25 days and costs carried stock over period_days / 365:
four calendar years of orders (1,461 days, one a leap day) carried 4.003 years of the holding
rate. Known answers by hand.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from segchain.costs import CostsResult, costs
from segchain.stock import stock


def carry_1000(dates: list[dt.date]) -> CostsResult:
    """costs of one customer buying one unit on each of ``dates``, 1,000 in stock at a holding
    rate of 0.25 a year."""
    n = len(dates)
    orders = pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "order_date": dates,
            "customer_id": ["A"] * n,
            "sku": ["X"] * n,
            "quantity": [1.0] * n,
            "amount": [10.0] * n,
            "unit_price": [10.0] * n,
            "flag": pl.Series([None] * n, dtype=pl.String),
        }
    )
    segments = pl.DataFrame({"customer_id": ["A"], "segment": ["Gold"], "segment_rank": [1]})
    policy = pl.DataFrame({"sku": ["X"], "inventory_value": [1000.0]})
    items = pl.DataFrame({"sku": ["X"], "unit_cost": [4.0], "holding_rate": [0.25]})
    return costs(orders, segments, policy=policy, items=items)


def test_costs_carry_four_calendar_years_as_four_years_of_the_rate() -> None:
    # 2020-01-01 to 2023-12-31, both days counted: 366 + 3 x 365 = 1,461 days = 4 x 365.25.
    # An order a day for the first and the last 10 days: dated by day, both ends counted.
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(10)]
    r = carry_1000(days + [dt.date(2023, 12, 31) - dt.timedelta(days=i) for i in range(10)])
    assert r.period_days == 1461
    # 1,000 in stock at 0.25 a year for 4 years: 1,000 (365 days a year gave 1,000.68).
    assert r.table.get_column("inventory_carrying").to_list() == [pytest.approx(1000.0)]


def test_stock_annual_demand_is_the_mean_per_week_times_365_25_over_7() -> None:
    # 10 a week: D = 10 x 365.25 / 7 = 521.79 a year; EOQ = sqrt(2 D K / h) with K = 50 and
    # h = 0.25 x 1 = sqrt(208,714.3) = 456.85 (unchanged: stock always took 365.25).
    weeks = [dt.date(2024, 1, 1) + dt.timedelta(weeks=i) for i in range(4)]
    forecast = pl.DataFrame(
        {"sku": ["X"] * 4, "ds": weeks, "forecast": [10.0] * 4, "error_sd": [3.0] * 4}
    )
    items = pl.DataFrame(
        {"sku": ["X"], "unit_cost": [1.0], "order_cost": [50.0], "holding_rate": [0.25]}
    )
    res = stock(forecast, items=items)
    assert res.policy.get_column("eoq")[0] == pytest.approx(
        math.sqrt(2 * (10 * 365.25 / 7) * 50 / 0.25)
    )
