"""A header line in the middle of an export (two exports joined with ``cat``) that names the
columns otherwise than the first header: refused, not read under the first header's names."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price"
JAN = [HEADER, "1,2024-01-02,C1,S1,2,3.50", "2,2024-01-03,C2,S2,1,4.50"]
# February's export as its lines say it: 3 units at 12.00, customer C4, sku S4.
FEB_PRICE_FIRST = [
    "order_id,order_date,customer_id,sku,unit_price,quantity",
    "3,2024-02-04,C3,S3,2.50,1",
    "4,2024-02-05,C4,S4,12.00,3",
]
FEB_SKU_FIRST = [
    "order_id,order_date,sku,customer_id,quantity,unit_price",
    "3,2024-02-04,S3,C3,1,2.50",
    "4,2024-02-05,S4,C4,3,12.00",
]
# Every line of both months as exported, by hand: (order, customer, sku, quantity, price).
EXPECTED = [
    ("1", "C1", "S1", 2.0, 3.5),
    ("2", "C2", "S2", 1.0, 4.5),
    ("3", "C3", "S3", 1.0, 2.5),
    ("4", "C4", "S4", 3.0, 12.0),
]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def said(stderr: str) -> str:
    """stderr as one line: the console wraps long messages."""
    return " ".join(stderr.split())


@pytest.mark.parametrize(
    ("feb", "first", "then"),
    [
        (FEB_PRICE_FIRST, "'quantity', 'unit_price'", "'unit_price', 'quantity'"),
        (FEB_SKU_FIRST, "'customer_id', 'sku'", "'sku', 'customer_id'"),
    ],
    ids=["price-quantity", "customer-sku"],
)
def test_header_in_another_order_is_refused(cli, tmp_path: Path, feb, first, then) -> None:
    # Read under the first header, line 4 was quantity 12 at price 3 (or customer S4).
    path = write(tmp_path / "joined.csv", JAN + feb)
    out = tmp_path / "o.csv"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 1
    assert (
        f"joined.csv: row 3 is a header with the columns in another order: where the "
        f"first header has {first}, row 3 has {then}; the lines below it would be read under "
        "the first header, their values under other columns' names"
    ) in said(result.stderr)
    assert (
        "hint: give the two exports as separate files (the lines above row 3, and it and the "
        "lines below it), e.g. segchain validate a.csv b.csv or a folder of them: each file is "
        "read with its own header"
    ) in said(result.stderr)
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("feb", [FEB_PRICE_FIRST, FEB_SKU_FIRST], ids=["price", "sku"])
def test_header_in_another_order_as_separate_files_reads_each_with_its_own(
    cli, tmp_path: Path, feb
) -> None:
    # The way out the refusal gives: the two months as two files.
    jan, feb_file = write(tmp_path / "a.csv", JAN), write(tmp_path / "b.csv", feb)
    out = tmp_path / "o.csv"
    result = cli("validate", str(jan), str(feb_file), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    got = pl.read_csv(out, infer_schema=False).sort("order_id")
    rows = [
        (r["order_id"], r["customer_id"], r["sku"], float(r["quantity"]), float(r["unit_price"]))
        for r in got.iter_rows(named=True)
    ]
    assert rows == EXPECTED


def test_header_naming_another_column_is_refused(cli, tmp_path: Path) -> None:
    feb = ["order_id,order_date,customer_id,sku,qty,unit_price", "3,2024-02-04,C3,S3,1,2.50"]
    path = write(tmp_path / "joined.csv", JAN + feb)
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert (
        "joined.csv: row 3 is a header that names other columns than the first: where the first "
        "header has 'quantity', row 3 has 'qty';"
    ) in said(result.stderr)
    assert "in separate runs" in said(result.stderr)


def test_header_with_fewer_columns_is_refused(cli, tmp_path: Path) -> None:
    feb = ["order_id,order_date,customer_id,sku,quantity", "3,2024-02-04,C3,S3,1"]
    path = write(tmp_path / "joined.csv", JAN + feb)
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert "where the first header has 'unit_price', row 3 has '';" in said(result.stderr)


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (HEADER, HEADER),
        # Excel's CSV UTF-8 joined after another: the BOM on the first field (not the date's).
        (HEADER, "\ufeff" + HEADER),
        # A trailing delimiter: a header's blank name, a blank field on the repeat.
        (HEADER + ",", HEADER + ","),
        # Another release's export capitalising a name: the same column, nothing moves.
        (HEADER, HEADER.replace("customer_id", "Customer_ID")),
    ],
    ids=["same", "bom", "blank-name", "case"],
)
def test_header_repeated_as_it_is_stays_repeated_header(
    cli, tmp_path: Path, first: str, again: str
) -> None:
    tail = "," if first.endswith(",") else ""
    lines = [first, "1,2024-01-02,C1,S1,2,3.50" + tail, again, "3,2024-02-04,C3,S3,1,2.50" + tail]
    path = write(tmp_path / "joined.csv", lines)
    result = cli("validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert "read 3 = used 2 + rejected 1 (repeated_header 1)" in result.stderr


def test_header_repeated_in_a_hive_folder_stays_repeated_header(cli, tmp_path: Path) -> None:
    # The folder's year=2024 column holds 2024 on the header line too, not its name.
    folder = tmp_path / "exports" / "year=2024"
    folder.mkdir(parents=True)
    write(folder / "a.csv", [*JAN, HEADER, "3,2024-02-04,C3,S3,1,2.50"])
    result = cli("validate", str(tmp_path / "exports"))
    assert result.exit_code == 0, result.stderr
    assert "read 4 = used 3 + rejected 1 (repeated_header 1)" in result.stderr


def test_header_in_another_order_is_refused_in_its_own_file(cli, tmp_path: Path) -> None:
    # Of several files, the message names the one joined with cat and its own row.
    write(tmp_path / "a.csv", JAN)
    write(tmp_path / "b.csv", JAN[:1] + JAN[1:2] + FEB_PRICE_FIRST)
    result = cli("validate", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))
    assert result.exit_code == 1
    assert "b.csv: row 2 is a header with the columns in another order" in said(result.stderr)
