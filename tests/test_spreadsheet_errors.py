"""A spreadsheet's error value in an id column (a VLOOKUP that found nothing, saved as CSV:
'#N/A') is no customer, sku or order: the line is rejected as if the id were blank, as a
workbook's error cell is read. Before, every such line became one customer named '#N/A'."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price,postal_code,country\n"
LINES = (
    "1,2024-03-01,C1,A,1,2,10115,DE\n"
    "2,2024-03-02,#N/A,A,1,2,10115,DE\n"
    "3,2024-03-03,C2,#REF!,1,2,10115,DE\n"
    "4,2024-03-04,C2,B,1,2,#N/A,DE\n"
    "#VALUE!,2024-04-04,C3,B,1,2,10115,DE\n"
    "6,2024-04-05, #N/A ,B,3,2,10115,DE\n"
    "7,2024-04-06,C3,B,1,2,10115,DE\n"
    "8,2024-04-07,C1,#NAME?,1,2,10115,DE\n"
)


@pytest.mark.parametrize("export", ["csv", "parquet"])
def test_validate_rejects_spreadsheet_error_ids_with_their_reason(cli, tmp_path: Path, export):
    (tmp_path / "o.csv").write_text(HEADER + LINES)
    if export == "parquet":  # a typed export: the ids as text, read line by line the same
        pl.read_csv(tmp_path / "o.csv", infer_schema=False).write_parquet(tmp_path / "o.parquet")
    result = cli("validate", f"o.{export}", "--rejects", "rej.csv", "-o", "clean.csv")
    assert result.exit_code == 0, result.stderr
    assert "rejected 5 (missing_customer 2, missing_sku 2, missing_order_id 1)" in result.stderr
    rejects = pl.read_csv(tmp_path / "rej.csv", infer_schema=False)
    assert sorted(rejects["reason"].to_list()) == sorted(
        ["missing_customer"] * 2 + ["missing_sku"] * 2 + ["missing_order_id"]
    )
    clean = pl.read_csv(tmp_path / "clean.csv", infer_schema=False)
    assert clean["customer_id"].to_list() == ["C1", "C2", "C3"]
    # A postal code that is an error value is no place: the line is kept, unlocated.
    assert clean["postal_code"].to_list() == ["10115", None, "10115"]


def test_segment_on_a_raw_export_has_no_customer_named_like_an_error(cli, tmp_path: Path):
    (tmp_path / "o.csv").write_text(HEADER + LINES)
    pl.read_csv(tmp_path / "o.csv", infer_schema=False).write_parquet(tmp_path / "o.parquet")
    for export in ("o.csv", "o.parquet"):
        result = cli("segment", export, "-o", "seg.csv")
        assert result.exit_code == 0, result.stderr
        assert "read 8 = used 3 + rejected 5" in result.stderr
        segments = pl.read_csv(tmp_path / "seg.csv", infer_schema=False)
        assert sorted(segments["customer_id"].to_list()) == ["C1", "C2", "C3"]
