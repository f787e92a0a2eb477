"""Audit Z (session 64): what the import says of the lines it reads (Z5-Z8)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

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


# ---------------------------------------------------------------------------------------------
# Z6: ids that lost their leading zeros in part of one export


ZEROS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,0006612,007,2,3.5\n"
    "2,2024-01-03,6612,7,1,4.5\n"
    "3,2024-01-04,0001234,12,1,2.5\n"
    "4,2024-01-05,1234,123,1,2.5\n"
    "5,2024-01-05,00099,1230,1,2.5\n"
    "6,2024-01-05,099,1230,1,2.5\n"
    "7,2024-01-05,A01,1230,1,2.5\n"
    "8,2024-01-05,A1,1230,1,2.5\n"
    "9,2024-01-05,,0012,1,2.5\n"
)


@pytest.mark.parametrize("command", ["validate", "segment"])
def test_ids_that_meet_once_leading_zeros_are_dropped_are_said(
    cli, tmp_path: Path, command: str
) -> None:
    """Customers 6612, 1234 and 99 are each written two ways (3 ids too many); 'A01' / 'A1' is
    no number a spreadsheet would strip. Skus: '007' / '7' meet; 12, 123, 1230 are of varying
    width without zeros and never meet; '0012' is on a rejected line only."""
    (tmp_path / "o.csv").write_text(ZEROS)
    result = cli(command, "o.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "customer_id: 3 ids are other ids of the column once leading zeros are dropped "
        "('0001234' / '1234', '0006612' / '6612', ...), so one customer is read as two"
    ) in result.stderr, result.stderr
    assert (
        "sku: 1 id is another id of the column once leading zeros are dropped ('007' / '7'), "
        "so one product is read as two"
    ) in result.stderr, result.stderr
    assert "save its customer_id column as text" in result.stderr, result.stderr


def test_ids_of_varying_width_without_zeros_are_not_said(cli, tmp_path: Path) -> None:
    """Zero-padded ids of one width, and unpadded ids of several: nothing meets."""
    (tmp_path / "o.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-02,0006612,12,2,3.5\n"
        "2,2024-01-03,0001234,123,1,4.5\n"
        "3,2024-01-04,0000099,1230,1,2.5\n"
    )
    result = cli("validate", "o.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "leading zeros" not in result.stderr, result.stderr


# ---------------------------------------------------------------------------------------------
# Z7: the dates note lists every kind read, slashed dates or not


@pytest.mark.parametrize(
    ("dates", "note", "read"),
    [
        (
            ["13/01/2024", "45300", "2024-01-04"],
            "dates: day-first (dd/mm; a day above 12 is in 1st place) + iso + serial (Excel day "
            "numbers)\n",
            ["2024-01-13", "2024-01-09", "2024-01-04"],
        ),
        (
            ["01/13/2024", "15.03.2024"],
            "dates: month-first (mm/dd; a day above 12 is in 2nd place) + dotted\n",
            ["2024-01-13", "2024-03-15"],
        ),
        (
            ["13/01/2024", "02/01/2024"],
            "dates: day-first (dd/mm; a day above 12 is in 1st place)\n",
            ["2024-01-13", "2024-01-02"],
        ),
    ],
    ids=["serial", "dotted", "slashes-only"],
)
def test_dates_note_lists_every_kind_beside_slashed_dates(
    cli, tmp_path: Path, dates: list[str], note: str, read: list[str]
) -> None:
    """Serial 45300 is 2024-01-09 (Excel's day 1 is 1900-01-01, with its phantom 29 February
    1900: 45300 - 2 days after 1900-01-01 = 2024-01-09)."""
    body = "".join(f"{i},{d},C{i},S{i},1,2.5\n" for i, d in enumerate(dates, 1))
    (tmp_path / "o.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n" + body
    )
    result = cli("validate", "o.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert note in result.stderr, result.stderr
    out = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert out["order_date"].to_list() == read


# ---------------------------------------------------------------------------------------------
# Z8: a line of the file and a row of the rejects are told apart


def test_mixed_encoding_warning_says_its_line_is_the_files_not_a_row(cli, tmp_path: Path) -> None:
    """A description holding a line break makes record 3 (the cp1252 'Café' line, rejected
    missing_customer) the file's 5th line: the rejects say row 3, the warning line 5, and
    each says which numbering it is."""
    data = (
        b"order_id,order_date,customer_id,sku,quantity,unit_price,description\n"
        b"0,2024-01-01,C0,S0,1,1.5,M\xc3\xbcnchen\n"
        b'1,2024-01-02,C1,S1,2,3.5,"two\nlines"\n'
        b"2,2024-01-03,,S2,1,4.5,Caf\xe9\n"
        b"3,2024-01-04,C3,S3,1,2.5,y\n"
    )
    (tmp_path / "o.csv").write_bytes(data)
    physical = next(i for i, line in enumerate(data.split(b"\n"), 1) if b"\xe9" in line)
    result = cli("validate", "o.csv", "--rejects", "rej.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert f"read as cp1252 (line {physical} of the file)" in result.stderr, result.stderr
    assert (
        "numbered as an editor numbers the file's lines, the header line 1; a row of --rejects "
        "counts records from 1 after the header"
    ) in result.stderr, result.stderr
    rejected = pl.read_csv(tmp_path / "rej.csv", infer_schema=False)
    assert rejected.select("row", "description").rows() == [("3", "Café")]
