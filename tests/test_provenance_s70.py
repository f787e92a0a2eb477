"""What a run records of its inputs, and the variables report reads an export with (session 70).

costs recorded its --orders files in its Parquet provenance as null (as '-' only when stdin), where
stock records the file of its --orders; report read a raw export with $SEGCHAIN_PRESET but not
with $SEGCHAIN_DATE_FORMAT or $SEGCHAIN_RETURNS, which validate and segment take.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

_HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"


def _params(path: Path) -> dict:
    meta = pq.read_metadata(path).metadata
    return json.loads(meta[b"segchain.params"])


def test_costs_records_each_of_its_orders_files(cli, tmp_path: Path) -> None:
    """Two --orders files: costs' provenance names both, in the order given."""
    first, second = tmp_path / "jan.csv", tmp_path / "feb.csv"
    first.write_text(
        _HEADER + "".join(f"{i},2024-01-{1 + i:02d},C{i % 3},S1,1,10\n" for i in range(9))
    )
    second.write_text(
        _HEADER + "".join(f"{20 + i},2024-02-{1 + i:02d},C{i % 3},S2,2,5\n" for i in range(9))
    )
    seg = tmp_path / "seg.parquet"
    made = cli("segment", str(first), str(second), "-o", str(seg), "-q")
    assert made.exit_code == 0, made.stderr
    out = tmp_path / "costs.parquet"
    result = cli("costs", str(seg), "--orders", str(first), "--orders", str(second), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    params = _params(out)
    assert params["orders"] == [str(first), str(second)]
    assert params["segments"] == str(seg)  # as before: SEGMENTS by its file


def test_report_reads_a_day_first_export_under_segchain_date_format(
    cli, tmp_path: Path, monkeypatch
) -> None:
    """Every day is at most 12, so only the variable says the dates are day first: report
    refused the export ('order dates can be read day first or month first', exit 1), where
    validate read it. Under the variable both read the same lines on the same days."""
    # Day d of month m, written dd/mm/2024: d in 1..12, m in 1..3 (so 1 Jan to 12 Mar 2024;
    # read month first it would run to 3 December).
    rows = [(i, 1 + i % 12, 1 + (i // 12) % 3) for i in range(40)]
    export = tmp_path / "export.csv"
    export.write_text(
        _HEADER + "".join(f"{i},{d:02d}/{m:02d}/2024,C{i % 5},S{i % 3},1,10\n" for i, d, m in rows)
    )
    monkeypatch.setenv("SEGCHAIN_DATE_FORMAT", "day-first")
    validated = tmp_path / "validated.csv"
    ran = cli("validate", str(export), "-o", str(validated), "-q")
    assert ran.exit_code == 0, ran.stderr
    days = pl.read_csv(validated).get_column("order_date").str.to_date()
    # The known answer, from the text written above, not from the code under test.
    import datetime as dt

    expected = sorted(dt.date(2024, m, d) for _, d, m in rows)
    assert sorted(days.to_list()) == expected

    page = tmp_path / "r.md"
    result = cli("report", str(export), "-o", str(page))
    assert result.exit_code == 0, result.stderr
    assert "raw order lines, read as validate would: read 40 = used 40 + rejected 0" in (
        result.stderr
    )
    text = page.read_text()
    assert "## Order history" in text
    # The history spans the days validate read: 1 January to 12 March, not to December.
    assert f"**Order lines: 40** ({expected[0]:%Y-%m-%d} to {expected[-1]:%Y-%m-%d})" in text
    assert "2024-12-03" not in text


def test_report_drops_returns_under_segchain_returns(cli, tmp_path: Path, monkeypatch) -> None:
    """$SEGCHAIN_RETURNS=drop: the one return line written is rejected by report as by validate
    (report kept it, net, whatever the variable said)."""
    export = tmp_path / "export.csv"
    export.write_text(
        _HEADER + "1,2024-03-01,C1,S1,2,10\n2,2024-03-02,C2,S1,3,10\nC3,2024-03-03,C1,S1,-1,10\n"
    )
    monkeypatch.setenv("SEGCHAIN_RETURNS", "drop")
    ran = cli("validate", str(export), "-o", str(tmp_path / "v.csv"))
    assert ran.exit_code == 0, ran.stderr
    assert "read 3 = used 2 + rejected 1 (return 1)" in ran.stderr
    result = cli("report", str(export), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "read as validate would: read 3 = used 2 + rejected 1 (return 1)" in result.stderr


def test_report_names_a_wrong_segchain_date_format_before_reading(
    cli, tmp_path: Path, monkeypatch
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(_HEADER + "1,2024-03-01,C1,S1,2,10\n")
    monkeypatch.setenv("SEGCHAIN_DATE_FORMAT", "bogus")
    result = cli("report", str(export), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 2
    assert "$SEGCHAIN_DATE_FORMAT:" in result.stderr and "got 'bogus'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.md").exists()
