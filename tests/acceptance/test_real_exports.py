"""validate on real exports: UCI Online Retail and Tableau Superstore."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent")
    return path


def test_online_retail_preset_reconciles_every_line(cli, shared_data: Path, tmp_path: Path):
    source = need(shared_data / "online_retail" / "online_retail.csv.gz")
    out, rejects = tmp_path / "orders.parquet", tmp_path / "rejects.csv"
    result = cli(
        "validate",
        str(source),
        "--preset",
        "online-retail",
        "-o",
        str(out),
        "--rejects",
        str(rejects),
    )
    assert result.exit_code == 0, result.stderr
    clean = pl.read_parquet(out)
    rej = pl.read_csv(rejects, infer_schema=False)
    # 541,909 lines (README of the data set); used + rejected must add up.
    assert clean.height + rej.height == 541_909
    assert "read 541,909 = used 406,829 + rejected 135,080 (missing_customer 135,080)" in (
        result.stderr
    )
    # The 135,080 blank CustomerIDs are the data set's documented trap.
    assert rej.height == 135_080
    assert set(rej["reason"]) == {"missing_customer"}
    # Float-formatted ids lose their ".0"; 4,372 customers as documented.
    assert not clean["customer_id"].str.contains(r"\.").any()
    assert "17850" in set(clean["customer_id"])
    assert clean["customer_id"].n_unique() == 4372
    # Cancellations (C-invoices) are flagged and net negative.
    cancels = clean.filter(pl.col("order_id").str.starts_with("C"))
    assert cancels.height > 0 and (cancels["quantity"] < 0).all()
    # Cancelled product lines are returns; cancelled postage and fees stay non-products.
    assert set(cancels["flag"]) == {"return", "non_product"}
    assert (
        cancels.filter(pl.col("flag") == "non_product")["sku"]
        .is_in(
            ["POST", "M", "D", "BANK CHARGES", "AMAZONFEE", "CRUK", "DOT", "C2", "PADS", "S", "B"]
        )
        .all()
    )
    assert clean["order_date"].min() == dt.date(2010, 12, 1)
    assert clean["order_date"].max() == dt.date(2011, 12, 9)


def test_superstore_with_map_reads_day_first_dates(cli, shared_data: Path, tmp_path: Path):
    source = need(shared_data / "superstore" / "superstore.csv")
    out = tmp_path / "orders.parquet"
    result = cli(
        "validate",
        str(source),
        "-o",
        str(out),
        "--map",
        "order_id=Order ID",
        "--map",
        "order_date=Order Date",
        "--map",
        "customer_id=Customer ID",
        "--map",
        "sku=Product ID",
        "--map",
        "amount=Sales",
        "--map",
        "description=Product Name",
        "--map",
        "postal_code=Postal Code",
        "--map",
        "country=Country/Region",
    )
    assert result.exit_code == 0, result.stderr
    assert "read 10,194 = used 10,194 + rejected 0" in result.stderr
    assert "dates: day-first" in result.stderr
    assert "encoding utf-8-sig" in result.stderr  # the byte-order mark was seen
    clean = pl.read_parquet(out)
    assert clean.height == 10_194
    assert clean["order_date"].min() == dt.date(2019, 1, 3)
    assert clean["order_date"].max() == dt.date(2022, 12, 30)
    # Quoted product names with embedded commas and doubled quotes come through whole.
    assert clean["description"].str.contains('5 1/2" X 4" Forms').any()
    # Postal codes keep their leading zeros (New England ZIPs start with 0).
    assert clean["postal_code"].drop_nulls().str.starts_with("0").any()
