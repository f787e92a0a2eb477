"""The import of an export whose lines have more fields than the header (audit Z, session 64)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import polars as pl
import pytest

from segchain import tableio

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price,description\n"


@pytest.mark.parametrize("inch_line", [1, 3, 5])
def test_an_inch_mark_beside_extra_field_lines_keeps_the_export(
    cli, tmp_path: Path, inch_line: int
) -> None:
    """An unquoted inch mark (RECORD FRAME 7" SINGLE) and a line with an extra field were each
    read alone, but together the whole export was refused, exit 1: '1 row has more fields than
    the header's 7: row 2', as polars' read of the ragged lines stopped at the quote. Now the
    extra-field lines alone are rejected and the inch mark is kept as a character."""
    lines = [f"{i},2024-01-0{i},C{i},S{i},{i},2.5,plain {i}\n" for i in range(1, 7)]
    lines[inch_line - 1] = f'{inch_line},2024-01-0{inch_line},C{inch_line},S1,1,2.5,FRAME 7" X\n'
    lines[1] = "2,2024-01-02,C2,S2,1,4.5,x,EXTRA\n"
    lines[3] = '4,2024-01-04,C4,S4,1,4.5,12" RULER,MORE\n'  # a ragged line with an inch of its own
    path = tmp_path / "o.csv"
    path.write_text(HEADER + "".join(lines))
    out, rejects = tmp_path / "x.csv", tmp_path / "r.csv"
    result = cli("validate", str(path), "-o", str(out), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "read 6 = used 4 + rejected 2 (extra_fields 2)" in result.stderr
    got = pl.read_csv(out, infer_schema=False)
    kept = [i for i in range(1, 7) if i not in (2, 4)]
    assert got.get_column("order_id").to_list() == [str(i) for i in kept]
    want = {i: f"plain {i}" for i in kept} | {inch_line: 'FRAME 7" X'}
    assert got.get_column("description").to_list() == [want[i] for i in kept]
    rows = pl.read_csv(rejects, infer_schema=False)
    assert rows.select("row", "description", "extra_fields").rows() == [
        ("2", "x", "EXTRA"),
        ("4", '12" RULER', "MORE"),
    ]


def _ragged_export(lines: int) -> bytes:
    rows = [HEADER]
    for i in range(1, lines + 1):
        extra = ",EXTRA" if i % 200 == 0 else ""  # 0.5 % of the lines, as in the audit's export
        rows.append(f"{i},2024-01-02,C{i % 977},S{i % 31},{i % 7 + 1},2.5,item {i}{extra}\n")
    return "".join(rows).encode()


def test_extra_field_lines_are_read_without_copies_of_the_whole_text() -> None:
    """0.5 % of lines with an extra field sent the whole file through Python's csv module as
    decoded text in an io.StringIO (4 bytes a character): Python held 5.1 times the file beside
    it (a 1 M-line export's validate 1.14 GB against 0.73 GB without those lines; 10.6 GB at
    10 M). The lines are now decoded one at a time: Python's share is a fraction of the file."""
    payload = _ragged_export(50_000)
    tracemalloc.start()
    try:
        df = tableio.read_csv_bytes(payload, delimiter=",", all_strings=True, name="o.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert df.height == 50_000
    assert df.get_column(tableio.EXTRA_FIELDS).drop_nulls().to_list() == ["EXTRA"] * 250
    assert peak < len(payload) / 2, f"Python peak {peak / len(payload):.2f}x the file"


def test_the_lines_given_to_the_csv_module_are_the_whole_text_decoded() -> None:
    """Decoded line by line, the text is the one decoded whole: a CRLF is a line end, a bare CR
    is held within its field, a byte that is no UTF-8 at a line's end is one U+FFFD."""
    payload = b'a,b\r\n1,"x\r\ny"\r\n2,p\rq\n3,\xc3\n4,\xe2\x82\n5,\xe2\x82\xac\r\r\n6,\xff'
    lines = list(tableio._csv_lines(payload))
    assert lines == [
        "a,b\n",
        '1,"x\n',
        'y"\n',
        "2,p\ue000q\n",
        "3,\ufffd\n",
        "4,\ufffd\n",
        "5,€\ue000\n",
        "6,\ufffd",
    ]
    assert tableio._csv_line(payload, 4) == "2,p\ue000q"


def test_ragged_lines_keep_their_quoted_line_breaks_and_bare_crs(cli, tmp_path: Path) -> None:
    """Read line by line, a quoted field holding a line break and one holding a bare CR (a text
    pasted from a Mac app) are read within their fields, the surplus rejected."""
    path = tmp_path / "o.csv"
    path.write_bytes(
        HEADER.encode()
        + b'1,2024-01-02,C1,S1,1,2.5,"two\r\nlines"\r\n'
        + b'2,2024-01-03,C2,S2,1,4.5,"pasted\rtext",EXTRA\r\n'
        + b"3,2024-01-04,C3,S3,1,2.5,plain,MORE,STILL\r\n"
    )
    out, rejects = tmp_path / "x.parquet", tmp_path / "r.csv"
    result = cli("validate", str(path), "-o", str(out), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "read 3 = used 1 + rejected 2 (extra_fields 2)" in result.stderr
    assert pl.read_parquet(out).get_column("description").to_list() == ["two\r\nlines"]
    rows = pl.read_csv(rejects, infer_schema=False)
    assert rows.select("order_id", "description", "extra_fields").rows() == [
        ("2", "pasted\rtext", "EXTRA"),
        ("3", "plain", "MORE,STILL"),
    ]
