"""Real ERP exports read as they are written (an audit of SAP, Odoo, NetSuite and spreadsheet
exports built from real rows, session 59)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price"


def export(tmp_path: Path, lines: list[str], header: str = HEADER, sep: str = ",") -> Path:
    path = tmp_path / "export.csv"
    path.write_text(header.replace(",", sep) + "\n" + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("none", ["NULL", "null", "N/A", "None", "-", "NA", "(blank)", "nan"])
def test_a_placeholder_for_none_is_no_customer(cli, tmp_path: Path, none: str) -> None:
    """SQL Server's 'Save results as' writes a blank id NULL: every guest line of Online Retail
    so written was one customer 'NULL', ranked first among the Champions, without a word,
    where the same lines with blank ids were rejected as missing_customer."""
    path = export(
        tmp_path,
        [
            "1,2024-03-01,C1,A,1,2.5",
            f"2,2024-03-01,{none},A,1,2.5",
            f"3,2024-03-02, {none} ,B,1,2.5",
            "4,2024-03-03,C2,B,1,2.5",
        ],
    )
    out, rejects = tmp_path / "o.csv", tmp_path / "r.csv"
    result = cli("validate", str(path), "--rejects", str(rejects), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "read 4 = used 2 + rejected 2 (missing_customer 2)" in result.stderr
    assert pl.read_csv(out).get_column("customer_id").to_list() == ["C1", "C2"]
    assert (
        pl.read_csv(rejects, infer_schema=False).get_column("reason").to_list()
        == ["missing_customer"] * 2
    )


def test_segment_counts_no_placeholder_customer(cli, tmp_path: Path) -> None:
    path = export(
        tmp_path,
        [
            f"{i},2024-03-0{1 + i % 5},{c},A,1,2.5"
            for i, c in enumerate(["C1", "NULL"] * 4 + ["C2"])
        ],
    )
    out = tmp_path / "s.csv"
    result = cli("segment", str(path), "-q", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(pl.read_csv(out).get_column("customer_id").to_list()) == ["C1", "C2"]


def test_a_customer_id_holding_a_placeholders_text_is_a_customer(cli, tmp_path: Path) -> None:
    # Only the whole trimmed id is read as none: 'NA-123', 'NULLSTROM' and '-7' are ids.
    path = export(
        tmp_path,
        ["1,2024-03-01,NA-123,A,1,2.5", "2,2024-03-01,NULLSTROM,A,1,2.5", "3,2024-03-01,-7,A,1,2"],
    )
    out = tmp_path / "o.csv"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    got = pl.read_csv(out, infer_schema=False).get_column("customer_id").to_list()
    assert got == ["NA-123", "NULLSTROM", "-7"]


def test_dotted_dates_in_both_orders_are_refused_as_slashed_ones_are(cli, tmp_path: Path) -> None:
    """Two exports joined, one dd.mm.yyyy and one mm.dd.yyyy: the month-first lines with a day
    above 12 were rejected (bad_date) and those up to 12 silently read day first (02.05.2024,
    5 February, became 2 May), exit 0; the same dates with slashes were refused."""
    path = export(
        tmp_path,
        [
            "1,13.01.2024,C1,A,1,2.5",
            "2,14.02.2024,C2,A,1,2.5",
            "3,03.04.2024,C3,A,1,2.5",
            "4,01.25.2024,C4,A,1,2.5",
            "5,02.05.2024,C5,A,1,2.5",
        ],
    )
    out = tmp_path / "o.csv"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"segchain validate: Error: {path}: order dates mix day-first and month-first values: "
        "'13.01.2024' (row 1), '14.02.2024' (row 2) can only be day first, '01.25.2024' (row 4) "
        "only month first\n"
    )
    assert not out.exists()
    # The way out the hint names: the month-first-only line is then a bad date, with its row.
    result = cli("validate", str(path), "--date-format", "day-first", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "rejected 1 (bad_date 1)" in result.stderr


def test_a_stray_dotted_typo_stays_a_bad_date(cli, tmp_path: Path) -> None:
    # One month-first-looking value among many European dates is a typo, not a second order.
    lines = [f"{d},{d:02d}.0{1 + d % 9}.2024,C{d % 3},A,1,2.5" for d in range(1, 29)]
    path = export(tmp_path, [*lines, "99,05.13.2024,C1,A,1,2.5"])
    result = cli("validate", str(path), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.stderr
    assert "rejected 1 (bad_date 1)" in result.stderr


def test_a_repeated_header_is_no_currency(cli, tmp_path: Path) -> None:
    """Two exports with a currency column joined with cat: the second header's 'currency' was
    counted as a second currency, 'amounts in 2 currencies are summed as one (lines: EUR 3,
    currency 1)', though the line itself was rejected as repeated_header."""
    head = HEADER + ",currency,unit"
    path = export(
        tmp_path,
        ["1,2024-01-02,C1,A,1,2.5,EUR,PC", "2,2024-01-03,C2,A,1,2.5,EUR,PC", head,
         "3,2024-01-04,C1,A,1,2.5,EUR,PC"],
        header=head,
    )  # fmt: skip
    result = cli("validate", str(path), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.stderr
    assert "rejected 1 (repeated_header 1)" in result.stderr
    assert "currencies" not in result.stderr
    assert "more than one unit" not in result.stderr


def test_padded_dotted_dates_are_named_as_read(cli, tmp_path: Path) -> None:
    """SAP pads every field: ' 01.03.2024 ' was read as a date, and the dialect line said
    'dates: no recognisable dates'."""
    path = export(tmp_path, ["1; 01.03.2024 ;C1;A;1;2,5", "2; 13.03.2024 ;C2;A;1;2,5"], sep=";")
    out = tmp_path / "o.csv"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "  dates: dotted\n" in result.stderr
    assert pl.read_csv(out).get_column("order_date").to_list() == ["2024-03-01", "2024-03-13"]


def test_mixed_currencies_are_said_on_validates_parquet_too(cli, tmp_path: Path) -> None:
    """The raw export's two currencies were said by every stage; validate's Parquet, the way
    the README gives, summed EUR and USD into revenue without a word (audit of costs)."""
    path = export(
        tmp_path,
        ["1,2024-01-02,C1,P1,2,10,EUR", "2,2024-01-05,C2,P1,1,10,USD",
         "3,2024-02-05,C1,P2,1,5,EUR", "4,2024-03-05,C2,P2,4,5,USD"],
        header=HEADER + ",currency",
    )  # fmt: skip
    clean = tmp_path / "orders.parquet"
    assert cli("validate", str(path), "-q", "-o", str(clean)).exit_code == 0
    result = cli("segment", str(clean), "-o", str(tmp_path / "s.csv"))
    assert result.exit_code == 0, result.stderr
    assert (
        "Warning: currency (currency): amounts in 2 currencies are summed as one (lines: EUR 2, "
        "USD 2)"
    ) in result.stderr


def test_returns_asked_of_validates_output_are_applied_or_refused(cli, tmp_path: Path) -> None:
    """`costs --orders orders.parquet --returns drop` (validate's output) wrote the same bytes
    as without it, nothing said: the option was read for nothing."""
    path = export(
        tmp_path,
        ["1,2024-01-02,C1,P1,5,10", "C2,2024-01-09,C1,P1,-2,10", "3,2024-02-05,C2,P1,4,10"],
    )
    clean = tmp_path / "orders.parquet"
    assert cli("validate", str(path), "-q", "-o", str(clean)).exit_code == 0
    out = tmp_path / "s.csv"
    dropped = cli("segment", str(clean), "--returns", "drop", "-o", str(out))
    assert dropped.exit_code == 0, dropped.stderr
    assert "read 3 = used 2 + rejected 1 (return 1)" in dropped.stderr
    got = dict(pl.read_csv(out).select("customer_id", "quantity").iter_rows())
    assert got == {"C1": 5.0, "C2": 4.0}
    kept = cli("segment", str(clean), "--returns", "keep", "-o", str(tmp_path / "k.csv"))
    assert kept.exit_code == 2
    assert "its lines cannot be kept now" in kept.stderr
    assert not (tmp_path / "k.csv").exists()


def test_a_date_column_without_a_value_is_no_serial_number(cli, tmp_path: Path) -> None:
    """A Parquet order_date of type null was described as 'dates: serial (Excel day numbers)'
    (the same data as CSV: 'no recognisable dates')."""
    path = tmp_path / "o.parquet"
    pl.DataFrame(
        {"order_id": ["1", "2"], "order_date": [None, None], "customer_id": ["C1", "C2"],
         "sku": ["A", "A"], "quantity": [1.0, 2.0], "unit_price": [2.0, 2.0]}
    ).write_parquet(path)  # fmt: skip
    result = cli("validate", str(path), "-o", str(tmp_path / "x.csv"))
    assert "  dates: no recognisable dates\n" in result.stderr
    assert "serial" not in result.stderr
