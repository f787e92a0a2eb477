"""report, session 44: a raw export is known by its header before any parse as a stage table.

Known answers come from read_table itself (the parse the peek stands in for), not from the peek.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from segchain import tableio

# ---- the header told before the parse (tableio.stage_header)

_ROWS = "".join(f"{i},2024-03-{1 + i % 28:02d},C{i % 5},S{i % 3},1,10\n" for i in range(40))
_HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"
# CSV texts as exports and hand-edited tables come, each read by read_table and by the peek.
_TEXTS: dict[str, bytes] = {
    "plain": (_HEADER + _ROWS).encode(),
    "bom": b"\xef\xbb\xbf" + (_HEADER + _ROWS).encode(),
    "crlf": (_HEADER + _ROWS).replace("\n", "\r\n").encode(),
    "excel sep line": ("sep=;\n" + (_HEADER + _ROWS).replace(",", ";")).encode(),
    "semicolons": (_HEADER + _ROWS).replace(",", ";").encode(),
    "tabs": (_HEADER + _ROWS).replace(",", "\t").encode(),
    "capitals": ("Order_ID,Order_Date,Customer_ID,SKU,Quantity,Unit_Price\n" + _ROWS).encode(),
    "spaces and empty names": b" order_id ,order_date,,customer_id,sku,quantity,\n"
    + "".join(f"{i},2024-03-01,x,C1,S1,1,y\n" for i in range(5)).encode(),
    "quoted header": ('"order id","Kunde, Nr",sku\n' + "1,2,3\n").encode(),
    "cp1252 header": "Menge,Straße,sku\n1,Düsseldorf,A\n".encode("cp1252"),
    "utf-8 rows": ("customer_id,segment,segment_rank\n" + "Müller KG,Champions,1\n" * 3).encode(),
    "utf-16": ("customer_id\tsegment\tsegment_rank\n" + "c1\tChampions\t1\n").encode("utf-16"),
    "title line": ("Sales export March 2024\n\n" + _HEADER + _ROWS).encode(),
    "gzip": gzip.compress((_HEADER + _ROWS).encode()),
    "gzip beyond the window": gzip.compress((_HEADER + _ROWS * 4000).encode()),
    "gzip not ascii": gzip.compress(("Straße,sku\n" + "Köln,A\n" * 30000).encode("cp1252")),
    "long lines": (_HEADER + _ROWS.replace("\n", "," + "x" * 3000 + "\n")).encode(),
}


def _stage_columns(name: str, data: bytes) -> list[str] | None:
    """The columns read_table gives (None: it refuses the file)."""
    try:
        return tableio.collect(tableio.read_table(name, data=data).frame).columns
    except tableio.DataError:
        return None


@pytest.mark.parametrize("case", sorted(_TEXTS))
def test_stage_header_gives_the_columns_a_stage_read_gives(case: str) -> None:
    name = "export.csv.gz" if case.startswith("gzip") else "export.csv"
    data = _TEXTS[case]
    peeked = tableio.stage_header(name, data)
    read = _stage_columns(name, data)
    if read is None:
        # A file the stage read refuses is told apart by that read, as before.
        return
    assert peeked is None or peeked == read, (peeked, read)
    if case not in ("utf-16", "title line"):
        assert peeked == read  # the common cases are told from the header alone


def _zipped(text: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("orders.csv", text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("x.parquet", b"PAR1...."),
        ("x.csv", _zipped(_HEADER.encode())),
        ("x.csv.gz", gzip.compress(_HEADER.encode()) + gzip.compress(_ROWS.encode())),
        ("x.csv", b'"order\nid",sku\n1,2\n'),
        ("x.csv", _HEADER.replace("\n", "\r").encode() + _ROWS.replace("\n", "\r").encode()),
        ("x.csv", b"sku,sku\nA,B\n"),
        ("x.csv", b"   \n"),
    ],
    ids=["parquet", "zip", "gzip members", "quoted line break", "bare CRs", "twice", "blank"],
)
def test_stage_header_leaves_to_the_read_what_the_header_alone_cannot_tell(
    name: str, data: bytes
) -> None:
    assert tableio.stage_header(name, data) is None


SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def test_stage_header_of_online_retail_is_its_stage_read_s() -> None:
    path = SHARED_DATA / "online_retail" / "online_retail.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (see ../shared/data/README.md)")
    data = path.read_bytes()
    assert tableio.stage_header(str(path), data) == _stage_columns(str(path), data)


# ---- report reads an export as an export only


def _stage_reads(monkeypatch) -> list[str]:
    """The inputs report parses as stage tables (read_table), in order."""
    seen: list[str] = []
    read_table = tableio.read_table

    def counted(source, **kwargs):
        seen.append(Path(source).name)
        return read_table(source, **kwargs)

    monkeypatch.setattr(tableio, "read_table", counted)
    return seen


_RETAIL = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    + "".join(
        f"5363{i:02d},8512{i % 3}A,THING,1,12/{1 + i % 28}/2010 8:26,10,1785{i % 5},France\n"
        for i in range(40)
    )
)


@pytest.mark.parametrize("how", ["columns", "preset", "gzip"])
def test_report_reads_an_export_without_parsing_it_as_a_stage_table(
    cli, tmp_path: Path, monkeypatch, how: str
) -> None:
    """report parsed every input as a stage table first, an export too, before it read it
    again as an export: on Online Retail (48 MB of CSV) 1.3 s of 5.5. An export known by its
    header (its columns, or the mapping validate reads it with) is read as an export alone;
    a stage table beside it is read as before."""
    if how == "preset":
        monkeypatch.setenv("SEGCHAIN_PRESET", "online-retail")
        export = tmp_path / "export.csv"
        export.write_text(_RETAIL)
    elif how == "gzip":
        export = tmp_path / "export.csv.gz"
        export.write_bytes(gzip.compress((_HEADER + _ROWS).encode()))
    else:
        export = tmp_path / "export.csv"
        export.write_text(_HEADER + _ROWS)
    segments = tmp_path / "segments.csv"
    segments.write_text("customer_id,segment,segment_rank\nC1,Champions,1\nC2,Lost,2\n")
    reads = _stage_reads(monkeypatch)
    result = cli("report", str(export), str(segments), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "raw order lines, read as validate would: read 40 = used 40" in result.stderr
    assert reads == ["segments.csv"]
