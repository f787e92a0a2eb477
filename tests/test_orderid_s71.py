"""Exports without an order number (a purchase log such as CDNOW's: customer, date, CDs,
dollars; a till's summary) were refused, 'missing required columns order_id, sku', and no
--map could give the id. With the customer and the date mapped, each customer's lines of one
day are one order, as in the CLV literature (lifetimes' summary_data_from_transaction_data);
without the customer the export is still refused (session 71)."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest

NOTE = "no order_id column: each customer's lines of one day are one order"


def _purchase_log(path: Path, *, seed: int = 7) -> list[tuple[str, dt.datetime]]:
    """A log of purchases with their time of day and no order number: several lines of a
    customer on one day, at different hours, and on days apart. Returns (customer, time) of
    each line."""
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, 8, 0)
    rows = []
    for n in range(1, 41):
        customer = f"K{n:03d}"
        for _ in range(rng.randint(1, 9)):
            day = start + dt.timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 10))
            for _ in range(rng.randint(1, 3)):  # lines of one purchase, minutes apart
                rows.append((customer, day + dt.timedelta(minutes=rng.randint(0, 50))))
    with path.open("w", newline="") as out:
        write = csv.writer(out).writerow
        write(["client", "bought_at", "sku", "units", "dollars"])
        for i, (customer, when) in enumerate(rows):
            write([customer, when.strftime("%Y-%m-%d %H:%M"), f"P{i % 5}", 1 + i % 4, 9.5])
    return rows


MAP = [
    "--map",
    "customer_id=client",
    "--map",
    "order_date=bought_at",
    "--map",
    "quantity=units",
    "--map",
    "amount=dollars",
]


def _days_per_customer(rows: list[tuple[str, dt.datetime]]) -> dict[str, int]:
    """The independent count: distinct (customer, calendar day) pairs, in plain Python."""
    days: dict[str, set[dt.date]] = {}
    for customer, when in rows:
        days.setdefault(customer, set()).add(when.date())
    return {c: len(d) for c, d in days.items()}


def test_segment_counts_each_customers_day_as_one_order(cli, tmp_path: Path) -> None:
    rows = _purchase_log(tmp_path / "log.csv")
    result = cli("segment", "log.csv", *MAP, "-o", "seg.csv")
    assert result.exit_code == 0, result.stderr
    got = dict(pl.read_csv(tmp_path / "seg.csv").select("customer_id", "frequency").iter_rows())
    assert got == _days_per_customer(rows)


def test_the_import_says_once_how_orders_were_made(cli, tmp_path: Path) -> None:
    rows = _purchase_log(tmp_path / "log.csv")
    result = cli("validate", "log.csv", *MAP)
    assert result.exit_code == 0, result.stderr
    orders = sum(_days_per_customer(rows).values())
    assert f"segchain validate:   {NOTE}, {orders} orders\n" in result.stderr
    assert result.stderr.count(NOTE) == 1


def test_validate_writes_the_made_ids_and_records_them(cli, tmp_path: Path) -> None:
    from segchain.tableio import read_metadata

    rows = _purchase_log(tmp_path / "log.csv")
    assert cli("validate", "log.csv", *MAP, "-o", "clean.parquet").exit_code == 0
    clean = pl.read_parquet(tmp_path / "clean.parquet")
    # One id per customer and day, and every line of that day under it.
    orders = sum(_days_per_customer(rows).values())
    assert clean.get_column("order_id").n_unique() == orders
    per_order = clean.group_by("order_id").agg(pl.col("customer_id", "order_date").n_unique())
    assert per_order.select(pl.col("customer_id", "order_date").max()).row(0) == (1, 1)
    assert "order_id" in read_metadata(tmp_path / "clean.parquet")["params"]["derived"]
    # A later stage reads the ids validate wrote, without a mapping.
    result = cli("segment", "clean.parquet", "-o", "seg.csv")
    assert result.exit_code == 0, result.stderr
    got = dict(pl.read_csv(tmp_path / "seg.csv").select("customer_id", "frequency").iter_rows())
    assert got == _days_per_customer(rows)


def test_a_line_without_customer_or_date_keeps_its_own_reason(cli, tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(
        "customer_id,order_date,sku,quantity,amount\n"
        "K1,2024-01-02,P,1,5\n"
        ",2024-01-02,P,1,5\n"
        "K1,,P,1,5\n"
    )
    assert cli("validate", "log.csv", "--rejects", "rej.csv").exit_code == 0
    reasons = pl.read_csv(tmp_path / "rej.csv").get_column("reason").to_list()
    assert reasons == ["missing_customer", "missing_date"]


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        # The id needs the customer: refused as before, every missing column listed.
        ("order_date,sku,quantity,amount", "order_id, customer_id"),
        # ... and the day.
        ("customer_id,sku,quantity,amount", "order_id, order_date"),
    ],
)
def test_without_customer_or_date_order_id_is_still_missing(
    cli, tmp_path: Path, header: str, missing: str
) -> None:
    (tmp_path / "log.csv").write_text(f"{header}\nx,P,1,5\n")
    result = cli("validate", "log.csv")
    assert result.exit_code == 1
    assert f"log.csv: missing required columns {missing}; found {header.replace(',', ', ')}" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_an_order_id_column_is_read_not_made(cli, tmp_path: Path) -> None:
    # Two orders of one customer on one day stay two: the rule is for exports without ids.
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,sku,quantity,amount\n"
        "A1,K1,2024-01-02,P,1,5\n"
        "A2,K1,2024-01-02,P,1,5\n"
        "A3,K2,2024-01-03,P,1,5\n"
    )
    result = cli("segment", "o.csv", "-o", "seg.csv")
    assert result.exit_code == 0, result.stderr
    assert NOTE not in result.stderr
    got = dict(pl.read_csv(tmp_path / "seg.csv").select("customer_id", "frequency").iter_rows())
    assert got == {"K1": 2, "K2": 1}


@pytest.mark.parametrize(
    ("header", "pasted"),
    [("Order ID", "--map 'order_id=Order ID'"), ("InvoiceNo", "--map order_id=InvoiceNo")],
)
def test_a_header_that_looks_like_order_ids_is_named(
    cli, tmp_path: Path, header: str, pasted: str
) -> None:
    # Read by no rule of the import (a look-alike, a name other exports give order ids), so the
    # ids are made; but the export's own orders are what the user meant, and are named.
    (tmp_path / "o.csv").write_text(
        f"{header},customer_id,order_date,sku,quantity,amount\nA1,K1,2024-01-02,P,1,5\n"
    )
    result = cli("validate", "o.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        f"segchain validate: Warning: {header!r} looks like the export's order ids and is not "
        f"read: to count its orders rather than each customer's days, add {pasted}\n"
    ) in result.stderr


def test_the_hint_says_order_id_needs_no_header_once_the_customer_is_mapped(
    cli, tmp_path: Path
) -> None:
    # CDNOW's log as a user first reads it: the customer's header is suggested, and the hint
    # sent the user to look for an order id header the log does not have.
    (tmp_path / "cd.csv").write_text("customer,date,cds,dollars,sku\n00001,1997-01-01,1,11.77,CD\n")
    result = cli(
        "validate", "cd.csv", "--map", "order_date=date", "--map", "quantity=cds",
        "--map", "amount=dollars",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "missing required columns order_id, customer_id; found customer, date, cds, dollars, sku\n"
        "segchain validate:   hint: as other exports name it (check that it holds what you mean): "
        "--map customer_id=customer; order_id needs no header once customer_id and order_date "
        "are mapped: each customer's lines of one day are then one order\n"
    )
