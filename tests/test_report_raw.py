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
