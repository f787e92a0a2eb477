"""costs' period: the span of the order history plus one step of its dates' grain.

Before, ``period_days`` was the first to the last order date, both days counted: right for an
export dated by the day of each order, 30 days short for one whose dates label months (orders
dated on the 1st of each month, January 1 to December 1: 335 days for twelve months of demand)
and 6 short for one dated by week. Known answers: the calendar, by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from segchain.costs.sales import covered_days
from tests.test_days_per_year import carry_1000


def _days(first: dt.date, last: dt.date, step: int = 1) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(0, (last - first).days + 1, step)]


def _firsts(year: int, months: range) -> list[dt.date]:
    return [dt.date(year, m, 1) for m in months]


def _month_ends(year: int) -> list[dt.date]:
    return [dt.date(year, m + 1, 1) - dt.timedelta(days=1) for m in range(1, 12)] + [
        dt.date(year, 12, 31)
    ]


@pytest.mark.parametrize(
    ("dates", "days"),
    [
        # Daily: every day of 2023, both ends counted.
        (_days(dt.date(2023, 1, 1), dt.date(2023, 12, 31)), 365),
        # Dated by event, days apart: both ends counted, January 2024.
        ([dt.date(2024, 1, d) for d in (1, 5, 10, 12, 31)], 31),
        # Weekly: 52 Mondays from 2024-01-01 to 2024-12-23, and the week the last opens:
        # 357 + 7 = 364 days = 52 weeks.
        (_days(dt.date(2024, 1, 1), dt.date(2024, 12, 23), 7), 364),
        # Monthly on the 1st: January 1 to December 1 and December, to January 1: 365 (a
        # leap year 366), not 335 (2023) or 336 (2024).
        (_firsts(2023, range(1, 13)), 365),
        (_firsts(2024, range(1, 13)), 366),
        # Monthly on the 15th, one month missing: still a month's step (to 2024-01-15).
        ([dt.date(2023, m, 15) for m in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12)], 365),
        # Month ends: the month the first date closes, January 1 to December 31: 365.
        (_month_ends(2023), 365),
        # Quarterly: the quarter the last date opens, to 2024-01-01.
        (_firsts(2023, range(1, 13, 3)), 365),
        # Two dates only: too few to tell a grain, both ends counted (January 1 to February 1).
        (_firsts(2023, range(1, 3)), 32),
        # One date: one day.
        ([dt.date(2023, 5, 1)], 1),
    ],
)
def test_covered_days_count_the_span_and_one_step_of_the_dates_grain(
    dates: list[dt.date], days: int
) -> None:
    assert covered_days(pl.Series(dates))[0] == days


def test_costs_carry_a_monthly_dated_year_for_the_whole_year() -> None:
    r = carry_1000(_firsts(2023, range(1, 13)))
    assert r.period_days == 365
    # 1,000 at 0.25 a year over 365 of 365.25 days: 249.83 (335 days gave 229.31).
    assert r.table.get_column("inventory_carrying").to_list() == [
        pytest.approx(1000 * 0.25 * 365 / 365.25)
    ]
    assert r.table.get_column("period_days").to_list() == [365]


def test_cli_says_a_monthly_dated_period_counts_its_last_month(cli, tmp_path: Path) -> None:
    lines = "".join(f"{m},2023-{m:02d}-01,C1,A,2,10\n" for m in range(1, 13))
    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n" + lines
    )
    (tmp_path / "seg.csv").write_text("customer_id,segment,segment_rank\nC1,A,1\n")
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "-o", "costs.csv")
    assert result.exit_code == 0, result.stderr
    said = "period: 2023-01-01 to 2023-12-01, dated every 1 month (365 days)\n"
    assert said in result.stderr, result.stderr
    assert pl.read_csv(tmp_path / "costs.csv").get_column("period_days").to_list() == [365]
