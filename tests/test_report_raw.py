"""report on a raw export (issue 12, finding 14): read as validate would, no polars error."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from pathlib import Path

import pytest


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


# Superstore's headers, as exported: no column carries segchain's name but Quantity and City.
SUPERSTORE_HEADER = (
    "Order ID,Order Date,Customer ID,Segment,City,Product ID,Sales,Quantity,Profit\n"
)


def _superstore_like(path: Path) -> Path:
    lines = "".join(
        f"US-{i},{1 + i % 28:02d}/03/24,C{i % 5},Consumer,Houston,P{i % 3},{10 + i}.5,1,2.5\n"
        for i in range(40)
    )
    path.write_text(SUPERSTORE_HEADER + lines)
    return path


def _superstore_config(folder: Path) -> None:
    """A segchain.toml mapping those headers, as the README advises for an export."""
    (folder / "segchain.toml").write_text(
        '[columns]\norder_id = "Order ID"\norder_date = "Order Date"\n'
        'customer_id = "Customer ID"\nsku = "Product ID"\namount = "Sales"\n'
    )


def test_report_reads_a_raw_export_with_the_mapping_of_the_config(cli, tmp_path: Path) -> None:
    """The README: a raw export given to report 'is read as validate would read it'. With a
    segchain.toml mapping Superstore's headers ([columns], the README's advice), validate read
    the export; report refused it ('not a segchain stage output; columns Order ID, ...'), as it
    recognised an export by segchain's column names alone (s42 walk-through, Superstore)."""
    export = _superstore_like(tmp_path / "superstore.csv")
    _superstore_config(tmp_path)
    result = cli("report", str(export), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "raw order lines, read as validate would: read 40 = used 40 + rejected 0" in (
        result.stderr
    )
    validated = cli("validate", str(export))
    assert "read 40 = used 40 + rejected 0" in validated.stderr  # the same lines
    # The page's order history holds the export's net value: 40 lines of 10.5 .. 49.5.
    assert f"{sum(10.5 + i for i in range(40)):,.0f}" in (tmp_path / "r.md").read_text()


def test_report_says_how_to_read_an_export_it_cannot_map(cli, tmp_path: Path) -> None:
    """Without a mapping, the message said only that it is no stage output, listing every
    stage's key columns: now that it is an order export and how to read it (report has no
    --map), with the mapping validate suggests."""
    export = _superstore_like(tmp_path / "superstore.csv")
    result = cli("report", str(export), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 1
    assert "an order export whose columns need a mapping to be read" in result.stderr
    assert "--map 'order_id=Order ID'" in result.stderr
    assert f"segchain validate {export} writes with that mapping" in result.stderr
    assert "segchain.toml's [columns]" in result.stderr
    assert "not a segchain stage output" not in result.stderr
    assert not (tmp_path / "r.md").exists()


def test_report_says_nothing_of_the_columns_of_a_table_it_skips(cli, tmp_path: Path) -> None:
    """validate's rejects file of an export with capitalised headers (Online Retail's
    Description, Quantity, Country; Superstore's Segment, City, Quantity, Profit) made report say
    "read columns 'Description' as description, ... (column names are matched whatever their
    capitals)" just before skipping the file, in the README's own Online Retail chain; a raw
    export read as orders said the same of columns it then read under the export's names. Said
    only of the stage tables it reads."""
    export = _superstore_like(tmp_path / "superstore.csv")
    with export.open("a") as lines:
        lines.write("US-98,02/03/24,,Consumer,Houston,P1,1.5,1,0.5\n")  # no customer: rejected
    _superstore_config(tmp_path)
    validated = cli("validate", str(export), "--rejects", str(tmp_path / "rejects.csv"))
    assert validated.exit_code == 0, validated.stderr
    segments = cli("segment", str(export), "-o", str(tmp_path / "seg.csv"))
    assert segments.exit_code == 0, segments.stderr
    seg = (tmp_path / "seg.csv").read_text().replace("segment,segment_rank", "Segment,segment_rank")
    (tmp_path / "seg.csv").write_text(seg)
    result = cli(
        "report",
        str(tmp_path / "rejects.csv"),
        str(export),
        str(tmp_path / "seg.csv"),
        "-o",
        str(tmp_path / "r.md"),
    )
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "read column" in line]
    # Only the segments table's renamed column is said; not the rejects' nor the export's.
    assert notes == [
        f"segchain report: {tmp_path / 'seg.csv'}: read column 'Segment' as segment (column "
        "names are matched whatever their capitals)"
    ]
    assert (
        "rejected order lines (validate's or segment's --rejects), not reported on: skipped"
        in result.stderr
    )


def _online_retail_like(path: Path) -> Path:
    """Four lines under Online Retail's own headers, the layout preset online-retail maps."""
    path.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
        "536366,71053,WHITE METAL LANTERN,4,12/8/2010 9:02,3.39,17850,United Kingdom\n"
        "536367,84406B,CREAM CUPID HEARTS,8,12/9/2010 10:15,2.75,13047,United Kingdom\n"
        "536368,22633,HAND WARMER,2,12/20/2010 11:30,1.85,12583,France\n"
    )
    return path


def test_report_reads_a_raw_export_with_the_preset_of_segchain_preset(
    cli, tmp_path: Path, monkeypatch
) -> None:
    """validate takes $SEGCHAIN_PRESET as its --preset; report, which reads a raw export "as
    validate would", ignored it and refused the export it names ("an order export whose
    columns need a mapping to be read ... add --preset online-retail", exit 1)."""
    export = _online_retail_like(tmp_path / "retail.csv")
    monkeypatch.setenv("SEGCHAIN_PRESET", "online-retail")
    segmented = cli("segment", str(export), "-o", str(tmp_path / "seg.csv"))
    assert segmented.exit_code == 0, segmented.stderr
    result = cli("report", str(tmp_path / "seg.csv"), str(export), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "raw order lines" in result.stderr and "read as validate would" in result.stderr
    assert "read 4 = used 4" in result.stderr
    assert "## Order history" in (tmp_path / "r.md").read_text()


def test_report_names_an_unknown_segchain_preset_before_reading(
    cli, tmp_path: Path, monkeypatch
) -> None:
    export = _online_retail_like(tmp_path / "retail.csv")
    monkeypatch.setenv("SEGCHAIN_PRESET", "onlne-retail")
    result = cli("report", str(export), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 2
    assert "$SEGCHAIN_PRESET: unknown preset 'onlne-retail'" in result.stderr
    assert "did you mean 'online-retail'" in result.stderr
    assert not (tmp_path / "r.md").exists()


_LINES = "".join(f"{i},2024-03-{1 + i % 28:02d},C{i % 5},S{i % 3},1,10\n" for i in range(40))
# An export report reads in each of its three ways: by its columns; first refused as a stage
# table (a title line above the header: 'rows have more fields than the header's 1'); by the
# mapping validate reads it with ($SEGCHAIN_PRESET).
_EXPORTS = {
    "columns": "order_id,order_date,customer_id,sku,quantity,unit_price\n" + _LINES,
    "title line": "Sales export March 2024\n\n"
    "order_id,order_date,customer_id,sku,quantity,unit_price\n" + _LINES,
    "preset": "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    + "".join(
        f"5363{i:02d},8512{i % 3}A,THING,1,12/{1 + i % 28}/2010 8:26,10,1785{i % 5},France\n"
        for i in range(40)
    ),
}


@contextlib.contextmanager
def _read_once(fifo: Path, text: str):
    """``fifo`` holds ``text`` for its first reader, and nothing (end of file at once) for any
    other: a file that can be read once, as `<(zcat export.csv.gz)` is."""
    os.mkfifo(fifo)
    done = threading.Event()

    def feed() -> None:
        with open(fifo, "wb") as stream:
            stream.write(text.encode())
        while not done.is_set():
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError as exc:  # ENXIO: no reader now
                assert exc.errno == errno.ENXIO
            time.sleep(0.005)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        yield fifo
    finally:
        done.set()
        # Unblock the feeder if the command never opened the FIFO.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        feeder.join(timeout=10)


@pytest.mark.parametrize("how", sorted(_EXPORTS))
def test_report_reads_a_raw_export_once(cli, tmp_path: Path, monkeypatch, how: str) -> None:
    """report read a raw export up to three times (as a stage table, again as an export to
    recognise or map it, and again to load its lines): an export given as
    `<(zcat export.csv.gz)` was empty on the second read ('the file is empty', 'not a segchain
    stage output'), exit 1, and a large one took three reads and decompressions."""
    if how == "preset":
        monkeypatch.setenv("SEGCHAIN_PRESET", "online-retail")
    with _read_once(tmp_path / "export.csv", _EXPORTS[how]) as fifo:
        result = cli("report", str(fifo), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "raw order lines, read as validate would: read 40 = used 40 + rejected 0" in (
        result.stderr
    )
    assert "## Order history" in (tmp_path / "r.md").read_text()


def test_report_tells_to_leave_out_only_an_input_that_held_nothing(cli, tmp_path: Path) -> None:
    """'or leave it out of the report' is the hint for an input of 0 bytes (report needs none
    of its tables). It was judged by the size on disk, which a pipe's is whatever it carries:
    a cut-short table through `<(...)` was told to be left out as an empty file is."""
    cut = 'sku,forecast\nA,1\n"B'
    with _read_once(tmp_path / "cut.csv", cut) as fifo:
        piped = cli("report", str(fifo), "-o", str(tmp_path / "r.md"))
    assert piped.exit_code == 1
    assert "opens a quoted field that no quote closes" in piped.stderr
    assert "leave it out of the report" not in piped.stderr
    with _read_once(tmp_path / "nothing.csv", "") as fifo:
        empty = cli("report", str(fifo), "-o", str(tmp_path / "r.md"))
    assert empty.exit_code == 1
    assert "the file is empty" in empty.stderr
    assert "; or leave it out of the report\n" in empty.stderr
    assert not (tmp_path / "r.md").exists()
