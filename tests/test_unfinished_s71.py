"""forecast leaves an unfinished last period out by default (session 71).

An export that ends early in a period (The Complete Journey ends on Monday 2018-01-01 at 04:01,
525 lines against ~28,000 a week) was forecast with that day counted as a whole week of demand:
a sku selling ~20 a week was forecast 9.8 falling to 0, the category forecast 23 % low. It was
said, not changed. Without --as-of the period's lines are now left out as --as-of leaves lines
out; an explicit --as-of keeps the old reading.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

MONDAY = dt.date(2024, 1, 1)
WEEKS = 12  # whole weeks, to Sunday 2024-03-24
LAST = MONDAY + dt.timedelta(weeks=WEEKS)  # Monday 2024-03-25: day 1 of 7 of its week
CUSTOMERS = ("C0", "C1", "C2")
# Each customer buys 2 of sku A every day: 3 x 2 x 7 = 42 a week, the steady demand.
WEEKLY = len(CUSTOMERS) * 2.0 * 7


def _inputs(folder: Path) -> tuple[str, str]:
    """Daily lines of sku A from a Monday for WEEKS weeks, then the Monday after: one day."""
    days = [MONDAY + dt.timedelta(days=d) for d in range(WEEKS * 7 + 1)]
    rows = [(f"O{i}-{c}", day, c, "A", 2.0, 5.0) for i, day in enumerate(days) for c in CUSTOMERS]
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
    pl.DataFrame(rows, schema=schema, orient="row").write_csv(folder / "orders.csv")
    pl.DataFrame({"customer_id": list(CUSTOMERS), "segment": ["S", "S", "T"]}).write_csv(
        folder / "seg.csv"
    )
    return "seg.csv", "orders.csv"


def _forecast(cli, folder: Path, *extra: str):
    seg, orders = _inputs(folder)
    result = cli(
        "forecast", seg, "--orders", orders, "--by", "sku", "--models", "WindowAverage",
        "--horizon", "3", "--n-jobs", "1", "-o", "fc.parquet", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result, pl.read_parquet(folder / "fc.parquet")


def test_forecast_by_default_leaves_out_an_unfinished_last_week(cli, tmp_path: Path) -> None:
    result, fc = _forecast(cli, tmp_path)
    # The unfinished week is forecast, at the steady demand, not read as a collapse.
    assert fc.get_column("ds").to_list() == [LAST + dt.timedelta(weeks=k) for k in range(3)]
    assert fc.get_column("forecast").to_list() == pytest.approx([WEEKLY] * 3)


def test_forecast_counts_the_unfinished_weeks_lines(cli, tmp_path: Path) -> None:
    from segchain.tableio import read_metadata

    result, _ = _forecast(cli, tmp_path)
    stderr = " ".join(result.stderr.split())
    assert (
        "the orders end on 2024-03-25, day 1 of 7 of the week of 2024-03-25: that unfinished "
        "week's 3 order lines left out, the history ends on 2024-03-24 and the forecast starts "
        "with the week of 2024-03-25; give --as-of 2024-03-26 (the day after the last line) to "
        "count them as a whole week of demand"
    ) in stderr, result.stderr
    assert read_metadata(tmp_path / "fc.parquet")["excluded"] == {"unfinished_period": 3}


def test_forecast_as_of_the_day_after_the_last_line_counts_the_week_whole(
    cli, tmp_path: Path
) -> None:
    result, fc = _forecast(cli, tmp_path, "--as-of", "2024-03-26")
    # The old reading: the week of 03-25 (one day, 6 units) is the last of the history, and the
    # 8-week moving average reads it: (7 x 42 + 6) / 8 = 37.5, from the week after.
    assert fc.get_column("ds").min() == LAST + dt.timedelta(weeks=1)
    assert fc.get_column("forecast").to_list() == pytest.approx([(7 * WEEKLY + 6.0) / 8] * 3)
    assert "that unfinished week counts as a whole week of demand" in " ".join(
        result.stderr.split()
    )
    assert "unfinished_period" not in str(result.stderr)


def test_forecast_as_of_the_unfinished_weeks_first_day_cuts_as_before(cli, tmp_path: Path) -> None:
    from segchain.tableio import read_metadata

    result, fc = _forecast(cli, tmp_path, "--as-of", "2024-03-25")
    assert fc.get_column("forecast").to_list() == pytest.approx([WEEKLY] * 3)
    assert read_metadata(tmp_path / "fc.parquet")["excluded"] == {"after_as_of": 3}
    assert "3 order lines on or after --as-of 2024-03-25 left out" in " ".join(
        result.stderr.split()
    )


def test_forecast_keeps_a_last_week_that_holds_a_whole_weeks_lines(cli, tmp_path: Path) -> None:
    from segchain.tableio import read_metadata

    # A business that ships on Tuesdays: every week's lines on its day 2 of 7, the last too.
    rows = [
        (f"O{w}-{c}", MONDAY + dt.timedelta(weeks=w, days=1), c, "A", 14.0, 5.0)
        for w in range(WEEKS + 1)
        for c in CUSTOMERS
    ]
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
    pl.DataFrame(rows, schema=schema, orient="row").write_csv(tmp_path / "orders.csv")
    pl.DataFrame({"customer_id": list(CUSTOMERS), "segment": ["S", "S", "T"]}).write_csv(
        tmp_path / "seg.csv"
    )
    result = cli(
        "forecast", "seg.csv", "--orders", "orders.csv", "--by", "sku", "--models",
        "WindowAverage", "--horizon", "3", "--n-jobs", "1", "-o", "fc.parquet",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    fc = pl.read_parquet(tmp_path / "fc.parquet")
    assert fc.get_column("ds").min() == LAST + dt.timedelta(weeks=1)
    assert fc.get_column("forecast").to_list() == pytest.approx([WEEKLY] * 3)
    assert "unfinished_period" not in read_metadata(tmp_path / "fc.parquet").get("excluded", {})


def test_an_export_ending_on_the_10th_leaves_out_its_month() -> None:
    from segchain.forecast.series import leave_out_unfinished

    days = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 6, 10), "1d", eager=True)
    orders = pl.DataFrame({"order_date": days, "customer_id": "C0", "quantity": 1.0})
    cut = leave_out_unfinished(orders, "M")
    assert cut is not None
    assert cut.as_of == dt.date(2024, 6, 1)
    assert cut.left_out == 10  # June 1 to 10: day 10 of 30, a third of a month's lines
    assert cut.kept.get_column("order_date").max() == dt.date(2024, 5, 31)
    assert "day 10 of 30 of the month of 2024-06-01" in cut.warning
    # A day is never unfinished: --freq D keeps every line.
    assert leave_out_unfinished(orders, "D") is None
