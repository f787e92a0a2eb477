"""Hostile-input findings of session 69's audit of the options added since session 60: each test
fails on the code before its fix.

The known answers are what the tests write themselves: an output written before a refused run
must still hold its bytes, and the values named in a message are the ones the test planted.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from test_fixed_cost_period_s68 import run_network

# ---- 1. network --fixed-cost-period year: the customers' order dates --------------------------
# A year's fixed cost is taken over the span of the customers' first_order to last_order. Dates
# beyond 9999 (or before year 1) in a period grain stopped the count of that span with a Python
# traceback (ValueError: year 10000 is out of range), exit 1; true/false in those columns were
# read as 1970-01-01 and 1970-01-02, a span of 2 days, and the plan was written with every
# year's cost x 0.005 (exit 0). segment writes dates within the orders reader's window
# (1900-01-01 to 2099-12-31), so anything else is refused, naming the column and the customer.

# Dates on the 1st of a month (a monthly grain) with one placeholder far in the future.
MONTHLY_9999 = (
    "customer_id,segment,quantity,first_order,last_order\n"
    "A,S1,6,2020-01-01,2021-05-01\n"
    "B,S1,4,2021-02-01,9999-12-01\n"
)
# Month ends (a grain of month ends), one of them in year 1.
MONTH_ENDS_0001 = (
    "customer_id,segment,quantity,first_order,last_order\n"
    "A,S1,6,0001-01-31,2021-05-31\n"
    "B,S1,4,2021-02-28,2023-12-31\n"
)
EARLIER = b"an earlier plan\n"


def refused_untouched(result, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """The refusal's stderr on one line, after checking it is one and wrote nothing."""
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "a.parquet").read_bytes() == EARLIER
    assert not (tmp_path / "sites_out.parquet").exists()
    return " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("customers", "column", "named"),
    [
        (MONTHLY_9999, "last_order", "9999-12-01 for customer_id 'B'"),
        (MONTH_ENDS_0001, "first_order", "0001-01-31 for customer_id 'A'"),
    ],
)
def test_network_year_refuses_order_dates_outside_the_orders_window(
    cli, tmp_path: Path, customers: str, column: str, named: str
) -> None:
    (tmp_path / "a.parquet").write_bytes(EARLIER)
    result = run_network(cli, tmp_path, "annual_fixed_cost", customers=customers)
    said = refused_untouched(result, tmp_path)
    assert f"{column} outside 1900-01-01 to 2099-12-31" in said
    assert named in said
    assert "hint: give segment's output as CUSTOMERS" in said


def _customers_parquet(tmp_path: Path, first: pl.Series, last: pl.Series) -> str:
    path = tmp_path / "cust.parquet"
    pl.DataFrame(
        {"customer_id": ["A", "B"], "segment": ["S1", "S1"], "quantity": [6.0, 4.0]}
    ).with_columns(first_order=first, last_order=last).write_parquet(path)
    return str(path)


def _run_on_parquet(cli, tmp_path: Path, customers: str):  # type: ignore[no-untyped-def]
    from test_fixed_cost_period_s68 import LANES, sites_file, write

    return cli(
        "network",
        customers,
        "--sites",
        sites_file(tmp_path, "annual_fixed_cost"),
        "--costs",
        write(tmp_path, "lanes.csv", LANES),
        "--sites-out",
        str(tmp_path / "sites_out.parquet"),
        "-o",
        str(tmp_path / "a.parquet"),
    )


def test_network_year_refuses_order_dates_that_are_no_dates(cli, tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_bytes(EARLIER)
    flags = _customers_parquet(tmp_path, pl.Series([True, True]), pl.Series([False, True]))
    said = refused_untouched(_run_on_parquet(cli, tmp_path, flags), tmp_path)
    assert "first_order holds Boolean values, not dates" in said


def test_network_year_refuses_a_date_past_pythons_calendar(cli, tmp_path: Path) -> None:
    # polars holds dates past 9999, which Python's datetime.date cannot.
    (tmp_path / "a.parquet").write_bytes(EARLIER)
    far = pl.Series([20_000, 10_000_000], dtype=pl.Int32).cast(pl.Date)  # 2024-10-04, 29349-..
    first = pl.Series([18_000, 18_500], dtype=pl.Int32).cast(pl.Date)
    customers = _customers_parquet(tmp_path, first, far)
    said = refused_untouched(_run_on_parquet(cli, tmp_path, customers), tmp_path)
    assert "last_order outside 1900-01-01 to 2099-12-31" in said
    assert "for customer_id 'B'" in said
