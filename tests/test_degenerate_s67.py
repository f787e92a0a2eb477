"""Degenerate but valid order exports through every stage, as a user's cron job meets them:
ties, constant demand, one customer or location, zero costs. Each case failed before session 67
with a wrong or misleading result (the right one worked out by hand in its docstring)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

START = dt.date(2023, 1, 2)  # a Monday


def test_abc_puts_customers_of_equal_value_in_one_class(cli, tmp_path: Path) -> None:
    """Ten customers each buying 2 units at 5.00 every week for 60 weeks: each is worth 600,
    a tenth of the total. ABC closes class A at the customer whose value before reaches 80 %;
    the value before every one of the ten is that of the customers worth more, none, so all ten
    are A (and X: the same value every month). Before, the tie was cut by customer_id: C0..C8
    AX, C9 BX (the value 'before' C9 counted the nine equal ones named earlier)."""
    rows = [
        (f"{w}-{c}", START + dt.timedelta(days=7 * w), f"C{c}", "S0", 2, 5.0)
        for w in range(60)
        for c in range(10)
    ]
    pl.DataFrame(
        rows,
        schema=["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"],
        orient="row",
    ).write_csv(tmp_path / "orders.csv")
    result = cli("segment", "orders.csv", "--method", "abc-xyz", "-o", "seg.csv")
    assert result.exit_code == 0, result.stderr
    segments = pl.read_csv(tmp_path / "seg.csv")
    assert segments.get_column("segment").unique().to_list() == ["AX"]
