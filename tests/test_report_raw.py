"""report on a raw export (issue 12, finding 14): read as validate would, no polars error."""

from __future__ import annotations

from pathlib import Path


def test_report_reads_a_raw_export_with_bad_dates(cli, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        + "".join(f"{i},2024-03-{1 + i % 28:02d},C{i % 5},S{i % 3},1,10\n" for i in range(40))
        + "98,not a date,C1,S1,1,10\n99,31/02/2024,C1,S1,1,10\n"
    )
    result = cli("report", str(path), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert (
        "raw order lines, read as validate would: read 42 = used 40 + rejected 2" in result.stderr
    )
    assert (tmp_path / "r.md").read_text().strip()


def test_report_empty_parquet_says_how_to_fix_it(cli, tmp_path: Path) -> None:
    # 'x/empty.parquet: the file is empty' had no hint (s38): a stage writes no empty file.
    (tmp_path / "empty.parquet").write_bytes(b"")
    result = cli("report", str(tmp_path / "empty.parquet"), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'empty.parquet'}: the file is empty\n" in result.stderr
    assert (
        "hint: a Parquet table, even one without rows, is never empty: the write was cut short "
        "or the file emptied; give the table as it was written, or rerun the stage or export "
        "that writes it; or leave it out of the report\n"
    ) in result.stderr
    assert not (tmp_path / "r.html").exists()
