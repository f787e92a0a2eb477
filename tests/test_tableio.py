"""tableio: dialect sniffing, encodings, formats, stdin/stdout, atomic writes, metadata."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from segchain import tableio
from segchain.errors import DataError, UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1,5;2;3\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        # Commas inside quoted names must not win over the real delimiter.
        ('id;name;qty\n1;"Bolt, steel, M8";3\n2;"Nut, M8";4\n', ";"),
        ('id,name,qty\n1,"a;b;c;d",3\n2,"e;f;g",4\n', ","),
    ],
)
def test_sniff_delimiter_finds_the_delimiter(text: str, expected: str) -> None:
    assert tableio.sniff_delimiter(text) == expected


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        ("Müller;5\n".encode(), "utf-8", "Müller;5\n"),
        (b"\xef\xbb\xbf" + "Müller;5\n".encode(), "utf-8-sig", "Müller;5\n"),
        ("Müller;5 €\n".encode("cp1252"), "cp1252", "Müller;5 €\n"),
        # 0x81 is undefined in cp1252: latin-1 takes every byte.
        (b"\x81abc\n", "latin-1", "\x81abc\n"),
    ],
)
def test_to_utf8_detects_encoding(data: bytes, encoding: str, text: str) -> None:
    payload, found = tableio.to_utf8(data)
    assert found == encoding
    assert payload.decode("utf-8") == text


def test_read_raw_keeps_every_field_as_string(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("customer_id,quantity\n0001,5\n0002,7\n")
    frame = tableio.read_raw(str(path)).frame
    assert frame.schema == pl.Schema({"customer_id": pl.String, "quantity": pl.String})
    assert frame["customer_id"].to_list() == ["0001", "0002"]


def test_read_raw_handles_quotes_with_embedded_delimiters_and_doubled_quotes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "x.csv"
    path.write_text('sku,name\n1,"Book, 5 1/2"" X 4"""\n', encoding="utf-8")
    assert tableio.read_raw(str(path)).frame["name"].to_list() == ['Book, 5 1/2" X 4"']


def test_read_raw_reads_cp1252_semicolon_file(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("Kunde;Menge\nMüller;1,5\n".encode("cp1252"))
    table = tableio.read_raw(str(path))
    assert table.dialect.encoding == "cp1252"
    assert table.dialect.delimiter == ";"
    assert table.dialect.decimal_comma is True
    assert table.frame["Kunde"].to_list() == ["Müller"]


def test_read_raw_strips_bom_from_first_header(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfRow ID,Name\n1,x\n")
    assert tableio.read_raw(str(path)).frame.columns == ["Row ID", "Name"]


def test_read_raw_reads_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    table = tableio.read_raw(str(path))
    assert table.dialect.compressed
    assert table.frame.to_dicts() == [{"a": "1", "b": "2"}]


def test_read_raw_scans_parquet_lazily(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pl.DataFrame({"a": [1, 2]}).write_parquet(path)
    table = tableio.read_raw(str(path))
    assert isinstance(table.frame, pl.LazyFrame)
    assert table.frame.collect()["a"].to_list() == [1, 2]


def test_read_detects_parquet_from_magic_bytes_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "noext"
    pl.DataFrame({"a": [1]}).write_parquet(path)
    assert tableio.read_table(str(path)).dialect.format == "parquet"


@pytest.mark.parametrize("content", [b"", b"\n\n", b"   \n"])
def test_read_raw_rejects_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match="the file is empty"):
        tableio.read_raw(str(path))


def test_read_raw_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.csv: no such file"):
        tableio.read_raw(str(tmp_path / "nope.csv"))


def test_read_table_keeps_id_columns_as_strings(tmp_path: Path) -> None:
    path = tmp_path / "segments.csv"
    path.write_text("customer_id,segment,monetary\n0001,Champions,10.5\n0002,Lost,1\n")
    df = tableio.read_table(str(path)).frame
    assert df["customer_id"].to_list() == ["0001", "0002"]
    assert df.schema["monetary"] == pl.Float64


def test_read_stdin_csv_and_parquet(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    pl.DataFrame({"sku": ["007"], "q": [1.5]}).write_parquet(buf)

    class FakeStdin:
        def __init__(self, data: bytes) -> None:
            self.buffer = io.BytesIO(data)

        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(sys, "stdin", FakeStdin(buf.getvalue()))
    assert tableio.read_table("-").frame["sku"].to_list() == ["007"]
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"sku,q\n007,1.5\n"))
    assert tableio.read_table("-").frame["sku"].to_list() == ["007"]


def test_read_stdin_refuses_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        buffer = io.BytesIO()

        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    with pytest.raises(UsageError, match="refusing to wait for a table typed at the terminal"):
        tableio.read_raw("-")


@pytest.mark.parametrize(
    ("dest", "fmt", "expected"),
    [
        ("out.parquet", None, "parquet"),
        ("out.csv", None, "csv"),
        ("out.csv.gz", None, "csv"),
        ("out.bin", None, "csv"),
        ("out.bin", "parquet", "parquet"),
        ("-", "parquet", "parquet"),
    ],
)
def test_output_format_from_option_then_name_then_csv(
    dest: str, fmt: str | None, expected: str
) -> None:
    assert tableio.output_format(dest, fmt) == expected


def test_output_format_refuses_a_format_the_name_contradicts() -> None:
    # Parquet was written into out.csv.
    with pytest.raises(UsageError, match="-o out.csv: the name says CSV, but -f parquet"):
        tableio.output_format("out.csv", "parquet")


def test_output_format_refuses_parquet_to_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Tty())
    with pytest.raises(UsageError, match="refusing to write Parquet to a terminal"):
        tableio.output_format("-", "parquet")
    assert tableio.output_format("-", None) == "csv"


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown format 'xlsx'; choose one of: csv, parquet"):
        tableio.check_format("xlsx")


def test_write_table_parquet_carries_provenance(tmp_path: Path) -> None:
    path = tmp_path / "seg.parquet"
    meta = tableio.provenance("segment", params={"method": "rfm"}, inputs={"orders": 12})
    tableio.write_table(pl.DataFrame({"a": [1]}), str(path), metadata=meta)
    read = tableio.read_metadata(path)
    assert read["stage"] == "segment"
    assert read["params"] == {"method": "rfm"}
    assert read["inputs"] == {"orders": 12}
    assert read["version"]


def test_read_metadata_of_bytes_and_of_a_file_without_any(tmp_path: Path) -> None:
    path = tmp_path / "seg.parquet"
    tableio.write_table(pl.DataFrame({"a": [1]}), str(path), metadata={"stage": "orders"})
    assert tableio.read_metadata(io.BytesIO(path.read_bytes()))["stage"] == "orders"
    plain = tmp_path / "plain.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(plain)
    assert tableio.read_metadata(plain) == {}
    assert tableio.read_metadata(io.BytesIO(b"not a parquet file")) == {}


def test_reading_a_parquet_export_does_not_import_pyarrow(tmp_path: Path) -> None:
    # Importing pyarrow only for the metadata cost 0.1 s of every command reading Parquet.
    path = tmp_path / "orders.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(path)
    code = (
        "import sys; from segchain import tableio; "
        f"tableio.read_raw({str(path)!r}).frame.collect(); "
        "assert 'pyarrow' not in sys.modules, 'pyarrow was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_provenance_has_no_timestamp() -> None:
    # Byte-identical reruns (cron) forbid anything that changes between two runs.
    meta = tableio.provenance("x", params={"a": 1})
    assert set(meta) == {"stage", "version", "params", "inputs"}


def test_write_table_is_byte_identical_on_rerun(tmp_path: Path) -> None:
    df = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    meta = tableio.provenance("x")
    tableio.write_table(df, str(tmp_path / "1.parquet"), metadata=meta)
    tableio.write_table(df, str(tmp_path / "2.parquet"), metadata=meta)
    assert (tmp_path / "1.parquet").read_bytes() == (tmp_path / "2.parquet").read_bytes()


def test_atomic_write_failure_keeps_previous_file_and_leaves_no_temp(tmp_path: Path) -> None:
    dest = tmp_path / "out.csv"
    dest.write_text("previous\n")

    def broken(stream) -> None:
        stream.write(b"half a tab")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        tableio.atomic_write(dest, broken)
    assert dest.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_atomic_write_interrupt_keeps_previous_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.csv"
    dest.write_text("previous\n")

    def interrupted(stream) -> None:
        stream.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tableio.atomic_write(dest, interrupted)
    assert dest.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_atomic_write_gives_normal_permissions(tmp_path: Path) -> None:
    dest = tmp_path / "out.csv"
    tableio.write_table(pl.DataFrame({"a": [1]}), str(dest))
    mask = os.umask(0)
    os.umask(mask)
    assert dest.stat().st_mode & 0o777 == 0o666 & ~mask


def test_write_table_to_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        tableio.write_table(pl.DataFrame({"a": [1]}), str(tmp_path / "no" / "x.csv"))


def test_write_csv_dates_are_iso(tmp_path: Path) -> None:
    import datetime as dt

    dest = tmp_path / "d.csv"
    tableio.write_table(pl.DataFrame({"d": [dt.date(2024, 3, 1)]}), str(dest))
    assert dest.read_text() == "d\n2024-03-01\n"


@pytest.mark.parametrize(
    ("text", "skipped", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", (), ","),  # a plain table is never cut
        ("sep=;\na;b;c\n1;2,5;3\n", ("sep=;",), ";"),  # Excel's delimiter line
        ("Report\r\n\r\na\tb\r\n1\t2\r\n", ("Report", ""), "\t"),  # CRLF, a blank line
        ("only\none\ncolumn\n", (), ","),  # one column throughout: no header to find
        ("Title\na,b,c\n1\n2\n3\n", (), ","),  # the lines below do not split like it
    ],
)
def test_read_raw_skips_the_lines_above_a_reports_header(
    tmp_path: Path, text: str, skipped: tuple[str, ...], delimiter: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(gzip.compress(text.encode()))
    table = tableio.read_raw(str(path))
    assert table.dialect.skipped == skipped
    assert table.dialect.delimiter == delimiter
    lines = [line.rstrip("\r") for line in text.splitlines()][len(skipped) :]
    header = lines[0].split(delimiter)
    assert table.frame.columns[: len(header)] == header  # (+ _extra where lines are longer)
    assert table.frame.height == len([line for line in lines[1:] if line])


def test_a_table_read_as_a_stage_output_is_not_cut(tmp_path: Path) -> None:
    """read_table reads what segchain wrote: a first line with one name is a one-column table."""
    path = tmp_path / "t.csv"
    path.write_text("note\na,b\n")
    with pytest.raises(DataError):
        tableio.read_table(str(path))


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members.items():
            z.writestr(member, data)
    return path


ORDERS_CSV = b"order_id,order_date,customer_id,sku,quantity,unit_price\n1,2024-03-01,C1,S1,2,3.5\n"


@pytest.mark.parametrize(
    ("members", "message"),
    [
        # The parts that say what a file is, without a sheet: a damaged workbook.
        ({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<w/>"}, "an Excel workbook"),
        ({"mimetype": b"application/vnd.oasis", "content.xml": b"<c/>"}, "an OpenDocument"),
        ({"a.csv": ORDERS_CSV, "b.csv": ORDERS_CSV}, "a ZIP archive holding 2 table files"),
        ({"readme.pdf": b"%PDF"}, "a ZIP archive holding no CSV or Parquet file"),
    ],
)
def test_damaged_workbooks_and_archives_are_named_with_the_way_out(
    tmp_path, members, message
) -> None:
    """An .xlsx read as text was 'missing required columns ... found PK...'."""
    path = _zip(tmp_path / "export.xlsx", members)
    with pytest.raises(DataError, match=message) as info:
        tableio.read_raw(str(path))
    assert info.value.hint is not None


def test_a_damaged_legacy_xls_workbook_is_named(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(DataError, match=r"cannot read an Excel 97-2003 workbook \(.xls\)"):
        tableio.read_raw(str(path))


def _workbook(path: Path, sheets: dict[str, list[list[object]]], date_format: str) -> Path:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    book = xlsxwriter.Workbook(str(path))
    dated = book.add_format({"num_format": date_format})
    for sheet, rows in sheets.items():
        ws = book.add_worksheet(sheet)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    ws.write_datetime(i, j, value, dated)
                elif value is not None:
                    ws.write(i, j, value)
    book.close()
    return path


def test_an_excel_workbook_is_read_as_its_first_sheet_saved_as_csv(tmp_path: Path) -> None:
    """A NetSuite-style report saved as .xlsx: title rows, typed cells (dates, whole numbers,
    a 13-digit EAN that a CSV saved from 'General' cells would round), a second sheet."""
    rows = [
        ["Sales by Item Detail"],
        ["ACME Corp"],
        [],
        ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"],
        ["0001", dt.datetime(2024, 3, 1), 17850, 4006381333931, 2, 3.5],
        ["0002", dt.datetime(2024, 3, 13, 10, 5), 13047, "A-1", 1, 12.25],
    ]
    path = _workbook(tmp_path / "export.xlsx", {"Orders": rows, "Summary": [["x"]]}, "dd.mm.yyyy")
    table = tableio.read_raw(str(path))
    assert table.dialect.sheets == ("Orders", "Summary")
    # The lines as the sheet saves them; the empty row between is not a line.
    assert table.dialect.skipped == ("Sales by Item Detail,,,,,", "ACME Corp,,,,,")
    described = table.dialect.describe()
    assert "workbook, sheet 'Orders' (the first; not read: 'Summary')" in described
    assert "2 lines above the header skipped ('Sales by Item Detail', 'ACME Corp')" in described
    got = tableio.collect(table.frame)
    assert got.columns == rows[3]
    assert got["order_id"].to_list() == ["0001", "0002"]  # text cells keep their zeros
    assert got["sku"].to_list() == ["4006381333931", "A-1"]  # every digit of the EAN
    assert got["customer_id"].to_list() == ["17850", "13047"]
    assert [v[:10] for v in got["order_date"]] == ["2024-03-01", "2024-03-13"]
    assert got["unit_price"].to_list() == ["3.5", "12.25"]


def test_an_empty_first_sheet_is_a_data_error(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "export.xlsx", {"Empty": [], "Orders": [["a", "b"]]}, "d")
    with pytest.raises(DataError, match="the first sheet \\('Empty'\\) is empty"):
        tableio.read_raw(str(path))


@pytest.mark.parametrize("member", ["export/orders.csv", "orders.parquet"])
def test_a_zip_holding_one_table_is_read_as_that_table(tmp_path: Path, member: str) -> None:
    """A zipped export (the folder of the zip, macOS's __MACOSX copies aside) reads as the file."""
    plain = tmp_path / "plain.csv"
    plain.write_bytes(ORDERS_CSV)
    data = ORDERS_CSV
    if member.endswith(".parquet"):
        buffer = io.BytesIO()
        pl.read_csv(plain, infer_schema=False).write_parquet(buffer)
        data = buffer.getvalue()
    path = _zip(tmp_path / "export.zip", {member: data, "__MACOSX/._orders.csv": b"junk"})
    table = tableio.read_raw(str(path))
    assert table.name == f"{path}:{member}"
    got = tableio.collect(table.frame)
    assert got.equals(pl.read_csv(plain, infer_schema=False))


def test_a_workbook_without_its_reader_installed_says_what_to_do(tmp_path, monkeypatch) -> None:
    """fastexcel is a dependency; an environment that lacks it gets a message, not a traceback."""
    monkeypatch.setitem(sys.modules, "fastexcel", None)  # import fastexcel raises ImportError
    path = _zip(tmp_path / "export.xlsx", {"xl/workbook.xml": b"<w/>"})
    with pytest.raises(DataError, match=r"needs the fastexcel package \(pip install fastexcel\)"):
        tableio.read_raw(str(path))


def test_a_parquet_file_naming_a_column_twice_is_named_as_such(cli, tmp_path: Path) -> None:
    """'not a readable Parquet file (column with name 'quantity' has more than one occurrence)'
    said the file was damaged, without a way out; pyarrow writes such files. A CSV naming a
    column twice is refused naming the columns. Found by a hostile sweep (session 38)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["order_id", "order_date", "customer_id", "sku", "quantity", "quantity", "amount"]
    table = pa.Table.from_arrays([pa.array(["1"]) for _ in names], names=names)
    pq.write_table(table, tmp_path / "o.parquet")
    for args in (["validate"], ["segment"]):
        result = cli(*args, str(tmp_path / "o.parquet"), "-o", str(tmp_path / "x.csv"))
        assert result.exit_code == 1
        assert result.stderr == (
            f"segchain {args[0]}: Error: {tmp_path / 'o.parquet'}: the Parquet file names a "
            "column twice: 'quantity' in columns 5, 6\n"
            f"segchain {args[0]}:   hint: give each column its own name where the file is "
            "written\n"
        )
        assert not (tmp_path / "x.csv").exists()


def test_a_parquet_file_without_columns_is_named_as_such(cli, tmp_path: Path) -> None:
    """A Parquet file of no column was 'missing required columns ...; found no columns' with
    the hint for a CSV report's title line ('tail -n +N export.csv | segchain validate -'),
    no way out for a Parquet file; as a stage's table ('SEGMENTS'), missing columns. Found by a
    hostile sweep (session 38)."""
    pl.DataFrame().write_parquet(tmp_path / "o.parquet")
    result = cli("validate", str(tmp_path / "o.parquet"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain validate: Error: {tmp_path / 'o.parquet'}: the Parquet file has no columns\n"
        "segchain validate:   hint: write it again from the table it should hold (it was "
        "written from a table without columns)\n"
    )


@pytest.mark.parametrize(
    ("lines", "row", "shown"),
    [
        # A stray quote opening a field mid-file: the rest of the file is one field.
        (['1,2024-01-01,C1,P1,1,5', '2,2024-01-02,"C2,P2,1,5', "3,2024-01-03,C3,P3,1,5"], 2,
         '2,2024-01-02,"C2,P2,1,5'),
        # A download cut inside a quoted field of the last line.
        (["1,2024-01-01,C1,P1,1,5", '2,2024-01-02,C2,"P2 blue'], 2, '2,2024-01-02,C2,"P2 blue'),
    ],
)  # fmt: skip
def test_a_quote_that_nothing_closes_is_named_with_its_row(cli, tmp_path: Path, lines, row, shown):
    """'cannot parse as CSV (could not parse `"C2,P2,1,5)', hint 'check the delimiter and
    quoting', named neither the line nor what was wrong with it. Found by a hostile sweep
    (session 38)."""
    path = tmp_path / "o.csv"
    path.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n" + "\n".join(lines))
    result = cli("validate", str(path), "-o", str(tmp_path / "x.csv"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain validate: Error: {path}: row {row} opens a quoted field that no quote "
        f"closes, so the rest of the file would be one field: {shown!r} (rows counted from 1 "
        "after the header)\n"
        "segchain validate:   hint: remove the stray double quote, or double it inside a quoted "
        'field (""); if the export was cut short, export it again\n'
    )
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    ("lines", "found"),
    [
        (["1,2024-01-01,C1,P1,1,5", '2,2024-01-02,"C2"x,P2,1,5'],
         "a quoted field: '2,2024-01-02,\"C2\"x,P2,1,5'"),
        # A stray quote that opened a field, closed by another one two lines below.
        (['1,2024-01-01,"C1,P1,1,5', "2,2024-01-02,C2,P2,1,5", '3,2024-01-03,C3,"P3,1,5'],
         "a quoted field running over 3 lines: '1,2024-01-01,\"C1,P1,1,5'"),
    ],
)  # fmt: skip
def test_a_quote_out_of_place_is_named_with_its_row(cli, tmp_path: Path, lines, found):
    """As a quote nothing closes: 'cannot parse as CSV (could not parse `"C2"x` as dtype ...)',
    hint 'check the delimiter and quoting'. Found by a hostile sweep (session 38)."""
    path = tmp_path / "o.csv"
    path.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n" + "\n".join(lines))
    result = cli("validate", str(path), "-o", str(tmp_path / "x.csv"))
    assert result.exit_code == 1
    row = 2 if '"C2"x' in found else 1
    assert result.stderr == (
        f"segchain validate: Error: {path}: row {row} has a quote out of place: text follows the "
        f"quote that closes {found} (rows counted from 1 after the header)\n"
        'segchain validate:   hint: a double quote inside a field is doubled ("") in a quoted '
        "field: remove the stray quote, or export the file again with every field quoted\n"
    )
    assert not (tmp_path / "x.csv").exists()


def test_to_utf8_refuses_utf8_text_cut_inside_its_last_character() -> None:
    # A UTF-8 export cut inside a two-byte character (a copy or download that stopped early)
    # was read as cp1252: every non-ASCII character of the file garbled ('Düsseldorf' read as
    # 'DÃ¼sseldorf'), with only 'encoding cp1252' on stderr. UTF-16 cut short is refused the
    # same way.
    data = "city\nDüsseldorf\nMünchen\n".encode()
    cut = data[: data.index("ü".encode(), 15) + 1]  # inside München's ü
    with pytest.raises(DataError) as err:
        tableio.to_utf8(cut, name="orders.csv")
    assert str(err.value).startswith(
        "orders.csv: UTF-8 text that ends inside a character (its last 1 byte of 2): the file "
        "is cut short"
    )


def test_to_utf8_reads_a_legacy_file_ending_in_a_lead_byte_as_before() -> None:
    # All ASCII but its last byte: nothing says UTF-8, so a cp1252 'Ã' there stays cp1252.
    payload, found = tableio.to_utf8(b"city\nA\xc3")
    assert found == "cp1252" and payload.decode() == "city\nAÃ"


def test_a_quote_inside_an_unquoted_field_is_a_character_of_it(cli, tmp_path: Path) -> None:
    """An inch mark in an unquoted description (SAP's unconverted download, Online Retail's
    'RECORD FRAME 7" SINGLE'): polars stopped at an odd number of such quotes in its chunk,
    'cannot parse as CSV (CSV malformed: expected 0 rows, actual 3 rows ...)', naming no row,
    and not a line was read. Python's csv module and spreadsheets read the quote as a character
    of the field. Found by an audit of ERP exports (session 59)."""
    path = tmp_path / "o.csv"
    path.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price,description\n"
        '1,2024-01-02,C1,A,1,2.5,RECORD FRAME 7" SINGLE\n'
        "2,2024-01-03,C2,B,2,3.5,plain\n"
        '3,2024-01-04,C3,B,2,3.5,12" RULER\n'
        "4,2024-01-05,C4,B,2,3.5,plain\n"
        '5,2024-01-06,C5,B,2,3.5,a 5" cut\n'
    )
    out = tmp_path / "x.csv"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    got = pl.read_csv(out)
    assert got.get_column("description").to_list() == [
        'RECORD FRAME 7" SINGLE',
        "plain",
        '12" RULER',
        "plain",
        'a 5" cut',
    ]
    assert got.get_column("customer_id").to_list() == ["C1", "C2", "C3", "C4", "C5"]


def test_a_parquet_file_naming_a_column_twice_once_stripped_is_refused(cli, tmp_path: Path) -> None:
    """'quantity' beside 'quantity ': the same CSV was refused ('names a column twice'); the
    Parquet file was read with the exact-named column and the other left out without a word
    (audit of Parquet inputs, session 59)."""
    path = tmp_path / "o.parquet"
    pl.DataFrame(
        {"order_id": ["1"], "order_date": ["2024-01-02"], "customer_id": ["C1"], "sku": ["A"],
         "quantity": [1.0], "unit_price": [2.0], "quantity ": [100.0]}
    ).write_parquet(path)  # fmt: skip
    out = tmp_path / "x.csv"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 1
    assert (
        f"{path}: the Parquet file names a column twice once the spaces around its names are "
        "dropped: 'quantity' in columns 5 ('quantity'), 7 ('quantity ')"
    ) in result.stderr
    assert not out.exists()


def test_an_empty_pipe_is_said_to_be_the_command_before_it(tmp_path: Path) -> None:
    """`segchain segment nosuch.csv | segchain forecast ...`: forecast said 'SEGMENTS <stdin>:
    the file is empty', hint 'check the export; it has no header', sending the user to an
    export that was fine (audit of pipes, session 59)."""
    reader = subprocess.run(
        [sys.executable, "-m", "segchain", "segment", "-q"],
        input=b"",
        capture_output=True,
        cwd=tmp_path,
        check=False,
    )
    assert reader.returncode == 1
    assert reader.stderr.decode() == (
        "segchain segment: Error: <stdin>: the file is empty: nothing came down the pipe\n"
        "segchain segment:   hint: did the command before it in the pipe fail, or write its "
        "table elsewhere? (validate writes its table to stdout only with -o -)\n"
    )
