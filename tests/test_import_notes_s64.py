"""Audit Z (session 64): what the import says of the lines it reads (Z5-Z8)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price,lat,lon"

# ---------------------------------------------------------------------------------------------
# Z5: the coordinate warning counts the kept lines only


def test_coordinate_warning_leaves_out_lines_rejected_for_another_reason(
    cli, tmp_path: Path
) -> None:
    """An extra-field line (its fields shifted: 'DC Berlin' under lat), a repeated header ('lat')
    and a line without its customer ('xyz') are rejected, not kept with lat empty; of the four
    lines whose lat is no number, only row 5 ('abc') is kept, so the warning counts 1."""
    (tmp_path / "o.csv").write_text(
        f"{HEADER}\n"
        "1,2024-01-02,C1,S1,2,3.5,52.5,13.4\n"
        "2,2024-01-03,C2,S2,1,4.5,DC Berlin,52.5,13.4\n"
        "3,2024-01-04,,S3,1,2.5,xyz,13.4\n"
        f"{HEADER}\n"
        "5,2024-01-05,C5,S5,1,2.5,abc,13.4\n"
    )
    result = cli("validate", "o.csv", "--rejects", "rej.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "lat: 1 line holds no number (row 5: 'abc'): kept with lat empty" in result.stderr, (
        result.stderr
    )
    assert "lon:" not in result.stderr, result.stderr
    rejected = pl.read_csv(tmp_path / "rej.csv", infer_schema=False)
    assert sorted(rejected["reason"]) == ["extra_fields", "missing_customer", "repeated_header"]
    out = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert out.filter(pl.col("lat").is_null())["order_id"].to_list() == ["5"]
