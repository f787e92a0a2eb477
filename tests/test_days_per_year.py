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


def test_month_is_a_twelfth_of_the_year_in_forecast_and_stock(monkeypatch) -> None:
    """One month for every stage: forecast's --horizon limit read 30.44 days of its own, stock
    and its bootstrap 30.4375. Both now read ``schema.PERIOD_DAYS``: a stand-in month of 366
    days bounds ten years (3,660 days) at 10 periods, which only a check reading it can say."""
    from segchain import schema
    from segchain.cli.forecast import _check_horizon
    from segchain.errors import UsageError
    from segchain.stock.bootstrap import period_interval

    assert schema.PERIOD_DAYS["M"] * 12 == 365.25
    assert period_interval(365.25 / 12) == "1mo"
    monkeypatch.setitem(schema.PERIOD_DAYS, "M", 366.0)
    _check_horizon(10, "M")
    with pytest.raises(UsageError, match="at most 10 periods of M"):
        _check_horizon(11, "M")


@pytest.mark.parametrize(("horizon", "ok"), [(120, True), (121, False)])
def test_forecast_horizon_in_months_ends_at_ten_years(horizon, ok) -> None:
    # 3,660 days / (365.25 / 12) = 120.25 months: 120 x 30.4375 = 3,652.5 days fit, 121 x
    # 30.4375 = 3,682.9 do not (30.44 gave the same 120: the limit did not move).
    from segchain.cli.forecast import _check_horizon
    from segchain.errors import UsageError

    if ok:
        _check_horizon(horizon, "M")
    else:
        with pytest.raises(UsageError, match=r"at most 120 periods of M \(ten years ahead\)"):
            _check_horizon(horizon, "M")
