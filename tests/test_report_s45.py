"""report, session 45: a Parquet export is known by its schema before any parse as a stage table.

Known answers are worked out here from the inputs (the columns polars reads, dates counted by
hand, matplotlib's own extents of what it drew), not by the report's code.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

from segchain import tableio

# ---- a Parquet export told by its schema (tableio.stage_header)

_ORDERS = pl.DataFrame(
    {
        "order_id": [f"o{i}" for i in range(40)],
        "order_date": [f"2024-03-{1 + i % 28:02d}" for i in range(40)],
        "customer_id": [f"C{i % 5}" for i in range(40)],
        "sku": [f"S{i % 3}" for i in range(40)],
        "quantity": [1.0] * 40,
        "unit_price": [10.0] * 40,
    }
)
_RETAIL = pl.DataFrame(
    {
        "InvoiceNo": [f"5363{i:02d}" for i in range(40)],
        "StockCode": [f"8512{i % 3}A" for i in range(40)],
        "Description": ["THING"] * 40,
        "Quantity": [1] * 40,
        "InvoiceDate": [f"2010-12-{1 + i % 28:02d} 08:26:00" for i in range(40)],
        "UnitPrice": [10.0] * 40,
        "CustomerID": [17850.0 + i % 5 for i in range(40)],
        "Country": ["France"] * 40,
    }
)


def _parquet(frame: pl.DataFrame, metadata: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    if metadata is None:
        frame.write_parquet(buffer)
    else:
        import pyarrow.parquet as pq

        table = frame.to_arrow()
        pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()


def _stage_columns(name: str, data: bytes) -> list[str] | None:
    """The columns read_table gives (None: it refuses the file)."""
    try:
        return tableio.collect(tableio.read_table(name, data=data).frame).columns
    except tableio.DataError:
        return None


_PARQUETS = {
    "canonical": _ORDERS,
    "online retail": _RETAIL,
    "capitals": _ORDERS.rename({"order_id": "Order_ID", "sku": "SKU"}),
    "spaces around names": _ORDERS.rename({"sku": " sku ", "quantity": "quantity "}),
    "segments": pl.DataFrame({"customer_id": ["c1"], "segment": ["A"], "segment_rank": [1]}),
}


@pytest.mark.parametrize("case", sorted(_PARQUETS))
@pytest.mark.parametrize("name", ["export.parquet", "export"])
def test_stage_header_of_a_parquet_file_is_its_stage_read_s(case: str, name: str) -> None:
    data = _parquet(_PARQUETS[case])
    assert tableio.stage_header(name, data) == _stage_columns(name, data)


def test_stage_header_leaves_a_stage_output_to_its_metadata() -> None:
    """A Parquet file with segchain's metadata is what its stage says (validate's orders are
    canonical columns, and no export): read as before."""
    data = _parquet(_ORDERS, {"segchain.stage": '"orders"', "segchain.version": '"0.1.0"'})
    assert tableio.stage_header("orders.parquet", data) is None


def test_stage_header_of_parquet_bytes_named_as_csv_is_left_to_the_read() -> None:
    """A .csv name holding Parquet bytes is refused by the read ('this is a Parquet file')."""
    assert tableio.stage_header("export.csv", _parquet(_ORDERS)) is None


def _stage_reads(monkeypatch) -> list[str]:
    """The inputs report parses as stage tables (read_table), in order."""
    seen: list[str] = []
    read_table = tableio.read_table

    def counted(source, **kwargs):
        seen.append(Path(source).name)
        return read_table(source, **kwargs)

    monkeypatch.setattr(tableio, "read_table", counted)
    return seen


@pytest.mark.parametrize("how", ["columns", "preset"])
def test_report_reads_a_parquet_export_without_parsing_it_as_a_stage_table(
    cli, tmp_path: Path, monkeypatch, how: str
) -> None:
    """A Parquet export was read whole as a stage table (every column, dates parsed) before it
    was read again as an export; a CSV export has been known by its header since f007d21. Now
    a Parquet export is known by its schema, read from its footer, and read as an export once;
    a stage table beside it is read as before."""
    export = tmp_path / "export.parquet"
    if how == "preset":
        monkeypatch.setenv("SEGCHAIN_PRESET", "online-retail")
        _RETAIL.write_parquet(export)
    else:
        _ORDERS.write_parquet(export)
    segments = tmp_path / "segments.csv"
    segments.write_text("customer_id,segment,segment_rank\nC1,Champions,1\nC2,Lost,2\n")
    reads = _stage_reads(monkeypatch)
    result = cli("report", str(export), str(segments), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "raw order lines, read as validate would: read 40 = used 40" in result.stderr
    assert reads == ["segments.csv"]


def test_report_reads_validated_orders_in_parquet_as_a_stage_table(
    cli, tmp_path: Path, monkeypatch
) -> None:
    orders = tmp_path / "orders.parquet"
    validated = _ORDERS.with_columns(pl.col("order_date").str.to_date())
    tableio.write_table(validated, str(orders), metadata=tableio.provenance("orders"))
    reads = _stage_reads(monkeypatch)
    result = cli("report", str(orders), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "orders, 40 rows (recognised by its metadata)" in result.stderr
    assert "raw order lines" not in result.stderr
    assert reads == ["orders.parquet"]
