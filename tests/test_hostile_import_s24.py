"""Hostile inputs to the order import (session 24): numbers, dates and files as real ERP exports
and careless users write them. Each value is read right, or its line rejected with a reason, or
the run refused with one message; never a silently wrong number."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

HEADER = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
MINUS = "\u2212"  # Unicode's minus sign


def export(path: Path, rows: list[tuple[str, str]], delimiter: str = ",") -> Path:
    """An export of one line per (quantity, unit_price), written as given (no quoting)."""
    text = delimiter.join(HEADER) + "\n"
    for i, (quantity, price) in enumerate(rows, start=1):
        text += delimiter.join([f"O{i}", "2024-03-01", f"C{i}", "S1", quantity, price]) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def validated(cli, path: Path, tmp_path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    result = cli("validate", str(path), "-o", str(out), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    return pl.read_csv(out), pl.read_csv(rejects, infer_schema=False)


# ---- numbers grouped by spaces or apostrophes count as evidence of their decimal separator ----


def test_swiss_export_with_semicolons_and_points_reads_its_quantities_as_points(
    cli, tmp_path: Path
) -> None:
    # de-CH: list separator ';', decimal point, apostrophe grouping. The prices say so
    # (1'234.50); the quantities (12.500 kg) cannot say it themselves. Before: the prices were
    # all rejected and 12.500 read as 12,500 (the ';' default).
    path = export(tmp_path / "ch.csv", [("12.500", "1'234.50"), ("1", "2'345.75")], ";")
    out, rejects = validated(cli, path, tmp_path)
    assert rejects.height == 0
    assert out["quantity"].to_list() == [12.5, 1.0]
    assert out["unit_price"].to_list() == [1234.5, 2345.75]
    assert out["amount"].to_list() == [12.5 * 1234.5, 2345.75]


def test_space_grouped_decimal_commas_in_a_comma_delimited_export_are_read(
    cli, tmp_path: Path
) -> None:
    # A French export saved with ',' as delimiter: every amount quoted, grouped by a
    # (non-breaking) space, decimal comma. Before: no value counted as evidence of the comma,
    # the column took the ',' file's point, and every line was rejected.
    nbsp, thin = "\u00a0", "\u202f"
    rows = [("1", f'"1{nbsp}234,50"'), ("2", f'"2{thin}345,75"'), ("1", '"10 000,01"')]
    out, rejects = validated(cli, export(tmp_path / "fr.csv", rows), tmp_path)
    assert rejects.height == 0
    assert out["unit_price"].to_list() == [1234.5, 2345.75, 10000.01]


def test_a_column_without_evidence_follows_the_other_columns_of_its_file_in_a_folder(
    cli, tmp_path: Path
) -> None:
    # Two files of one folder: a Swiss one (';', points) and a German one (';', commas); each
    # file's quantities (1.500) follow that file's own prices.
    folder = tmp_path / "exports"
    folder.mkdir()
    export(folder / "a.csv", [("1.500", "1'000.50")], ";")
    export(folder / "b.csv", [("1.500", "1.000,50")], ";")
    out, rejects = validated(cli, folder, tmp_path)
    assert rejects.height == 0
    assert out["quantity"].to_list() == [1.5, 1500.0]
    assert out["unit_price"].to_list() == [1000.5, 1000.5]


def test_columns_that_disagree_leave_an_evidence_free_column_to_the_files_default(
    cli, tmp_path: Path
) -> None:
    # Prices with decimal commas, amounts with points: no single locale, so the quantities
    # (1.500) keep the ';' default, as before.
    text = "order_id;order_date;customer_id;sku;quantity;unit_price;amount\n"
    text += "O1;2024-03-01;C1;S1;1.500;2,50;3750.00\n"
    path = tmp_path / "mixed.csv"
    path.write_text(text)
    out, _ = validated(cli, path, tmp_path)
    assert out["quantity"].to_list() == [1500.0]


# ---- Unicode's minus sign ----------------------------------------------------------------------


def test_unicode_minus_sign_is_a_minus(cli, tmp_path: Path) -> None:
    rows = [
        (f"{MINUS}2", "12,50"),  # a return: quantity -2
        ("3", f"{MINUS}1.234,50"),
        ("1", f"5,00{MINUS}"),  # trailing, as SAP writes its minus
        ("1", f"{MINUS}€5,00"),
        ("1", f"€{MINUS}5,00"),
    ]
    out, rejects = validated(cli, export(tmp_path / "se.csv", rows, ";"), tmp_path)
    assert rejects.height == 0
    assert out["quantity"].to_list() == [-2.0, 3.0, 1.0, 1.0, 1.0]
    # unit_price is kept positive; the amount carries the sign (quantity x signed price).
    assert out["amount"].to_list() == [-25.0, -3703.5, -5.0, -5.0, -5.0]
    assert out["flag"].to_list()[0] == "return"


def test_unicode_minus_sign_in_a_comma_delimited_export(cli, tmp_path: Path) -> None:
    rows = [("1", f"{MINUS}2.50"), (f"{MINUS}1", "4.25"), ("1", "7")]
    out, rejects = validated(cli, export(tmp_path / "m.csv", rows), tmp_path)
    assert rejects.height == 0
    assert out["amount"].to_list() == [-2.5, -4.25, 7.0]


# ---- a field over Python's csv limit (128 KiB) --------------------------------------------------


def test_a_long_free_text_field_does_not_stop_the_readers_of_ragged_lines(
    cli, tmp_path: Path
) -> None:
    # A 200 KB description (a product's HTML) in an export ending every line with a delimiter,
    # and in one with a line holding a surplus field. Before: 'cannot parse as CSV', exit 1.
    long = "x" * 200_000
    header = ",".join([*HEADER, "description"])
    trailing = tmp_path / "trailing.csv"
    trailing.write_text(
        f'{header}\nO1,2024-03-01,C1,S1,1,2.50,"{long}",\nO2,2024-03-01,C2,S1,2,3.50,short,\n'
    )
    out, rejects = validated(cli, trailing, tmp_path)
    assert out["amount"].to_list() == [2.5, 7.0] and rejects.height == 0
    assert len(out["description"][0]) == 200_000
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(
        f'{header}\nO1,2024-03-01,C1,S1,1,2.50,"{long}"\nO2,2024-03-01,C2,S1,2,3.50,short,extra\n'
    )
    out, rejects = validated(cli, ragged, tmp_path)
    assert out["order_id"].to_list() == ["O1"]
    assert rejects["reason"].to_list() == ["extra_fields"]
    assert rejects["extra_fields"].to_list() == ["extra"]


# ---- dates as yyyymmdd numbers (a warehouse's date key) in Parquet ----------------------------


def test_yyyymmdd_numbers_in_parquet_are_dates_beside_excel_serials(cli, tmp_path: Path) -> None:
    # Before: every such date was read as an Excel serial (20240101 days after 1899) and the
    # run failed with every line rejected as implausible_date.
    path = tmp_path / "orders.parquet"
    pl.DataFrame(
        {
            "order_id": ["A", "B", "C", "D", "E"],
            "order_date": [20240101, 20240229, 20241231, 45000, 20241341],
            "customer_id": ["1", "2", "3", "4", "5"],
            "sku": ["s"] * 5,
            "quantity": [1.0] * 5,
            "unit_price": [2.0] * 5,
        }
    ).write_parquet(path)
    out, rejects = validated(cli, path, tmp_path)
    # Excel's serial 45000: 45000 days after its day 0, 1899-12-30.
    serial = dt.date(1899, 12, 30) + dt.timedelta(days=45000)
    assert out["order_date"].to_list() == [
        "2024-01-01",
        "2024-02-29",
        "2024-12-31",
        serial.isoformat(),
    ]
    # Month 13 is no date: rejected, not moved.
    assert rejects["order_date"].to_list() == ["20241341"]
    assert rejects["reason"].to_list() == ["bad_date"]


# ---- a report's title in one file of a folder -------------------------------------------------


def test_a_title_in_one_file_of_a_folder_is_named_as_such(cli, tmp_path: Path) -> None:
    # a.csv is only a report's title (an export of an empty period), b.csv a plain export.
    # Before: 'b.csv: its columns differ from those of a.csv (it lacks Sales by Item Detail;
    # ...)', blaming the good file and not saying what the other one is.
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("Sales by Item Detail\n")
    export(folder / "b.csv", [("1", "2.50")])
    out = tmp_path / "out.csv"
    result = cli("validate", str(folder), "-o", str(out))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[-2]
    assert "Error: " + str(folder / "a.csv") in first and "b.csv" in first
    assert "report's title ('Sales by Item Detail')" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


# ---- an export with a header and no lines -----------------------------------------------------


def test_an_export_of_only_a_header_says_so(cli, tmp_path: Path) -> None:
    # An export of an empty period. Before: 'no usable order lines: all 0 lines were rejected
    # (empty file)', with a hint to look at the rejected lines (there are none) and --map, and
    # an empty --rejects file kept.
    path = tmp_path / "empty_period.csv"
    path.write_text(",".join(HEADER) + "\n")
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    result = cli("validate", str(path), "-o", str(out), "--rejects", str(rejects))
    assert result.exit_code == 1
    assert f"{path}: the export has no order lines (only a header)" in result.stderr
    assert "rejected" not in result.stderr.splitlines()[-2]
    assert not out.exists() and not rejects.exists()
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text(",".join(HEADER) + "\n")
    result = cli("segment", str(folder), "-o", str(out))
    assert result.exit_code == 1
    assert "no file has order lines (only a header)" in result.stderr


# ---- lines above the header (a report saved as CSV) -------------------------------------------

SEMI_HEADER = ";".join(HEADER)


def test_a_title_above_an_export_ending_every_line_with_a_delimiter_is_skipped(
    cli, tmp_path: Path
) -> None:
    # Each convention alone was read; together, the lines below the header (one more, empty,
    # field each) did not 'split like' it and the title was the error's header.
    path = tmp_path / "report.csv"
    path.write_text(
        "Sales by Item Detail\n"
        + ",".join(HEADER)
        + "\nO1,2024-03-01,C1,S1,2,2.50,\nO2,2024-03-02,C2,S1,1,4.00,\n"
    )
    out, rejects = validated(cli, path, tmp_path)
    assert out["amount"].to_list() == [5.0, 4.0] and rejects.height == 0


def test_a_title_holding_a_comma_above_a_semicolon_or_tab_table_is_skipped(
    cli, tmp_path: Path
) -> None:
    # The title split by ',' holds two fields and was taken for the header: exit 1.
    semi = tmp_path / "umsatz.csv"
    semi.write_text(
        f"Umsatz nach Artikel, Januar 2024\nACME GmbH\n\n{SEMI_HEADER}\n"
        "O1;2024-03-01;C1;S1;2;2,50\nO2;2024-03-02;C2;S1;1;1.234,00\n"
    )
    out, _ = validated(cli, semi, tmp_path)
    assert out["amount"].to_list() == [5.0, 1234.0]
    tab = tmp_path / "sales.tsv"
    tab.write_text(
        "Sales by Item, January 2024\n" + "\t".join(HEADER) + "\nO1\t2024-03-01\tC1\tS1\t3\t1.5\n"
    )
    result = cli("validate", str(tab), "-o", str(tmp_path / "t.csv"))
    assert result.exit_code == 0, result.stderr
    assert "1 line above the header skipped ('Sales by Item, January 2024')" in result.stderr


def test_a_header_holding_commas_is_still_a_header(cli, tmp_path: Path) -> None:
    # A ';' export whose header names hold commas ('Menge, Stk') is not cut: its header has
    # two fields or more with ';' too.
    header = "order_id;order_date;customer_id;sku;Menge, Stk;Preis, EUR"
    path = tmp_path / "export.csv"
    path.write_text(f"{header}\nO1;2024-03-01;C1;S1;2;2,50\n")
    out = tmp_path / "out.csv"
    result = cli(
        "validate",
        str(path),
        "-o",
        str(out),
        "--map",
        "quantity=Menge, Stk",
        "--map",
        "unit_price=Preis, EUR",
    )
    assert result.exit_code == 0, result.stderr
    assert "skipped" not in result.stderr
    assert pl.read_csv(out)["amount"].to_list() == [5.0]


# ---- encodings ---------------------------------------------------------------------------------


def test_excel_unicode_text_utf16_is_read(cli, tmp_path: Path) -> None:
    # Excel's 'Unicode Text' export: UTF-16 LE with a BOM, tab-delimited, CRLF. Before: read as
    # cp1252, 'missing required columns ...; found ÿþo r d e r _ i d ...', exit 1.
    text = "\t".join([*HEADER, "customer_name"]) + "\r\n"
    text += "O1\t2024-03-01\tC1\tS1\t2\t2.50\tMüller & Søn\r\n"
    text += "O2\t2024-03-02\tC2\tS1\t1\t4.00\t東京商事\r\n"
    for codec, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        path = tmp_path / f"{codec}.txt"
        path.write_bytes(bom + text.encode(codec))
        out, rejects = validated(cli, path, tmp_path)
        assert rejects.height == 0
        assert out["amount"].to_list() == [5.0, 4.0]
        assert out["customer_name"].to_list() == ["Müller & Søn", "東京商事"]


# ---- the dialect line says 'decimal comma' for every ';' file ----------------------------------


def test_columns_read_with_a_point_in_a_semicolon_file_are_named(cli, tmp_path: Path) -> None:
    # The dialect line says 'decimal comma' (the ';' default); nothing said that the Swiss
    # file's numbers were read with a point, so a user checking it would think 12.500 was
    # read as 12,500.
    path = export(tmp_path / "ch.csv", [("12.500", "1'234.50")], ";")
    result = cli("validate", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0, result.stderr
    assert "decimal point in: quantity, unit_price (not the ';' default, a comma)" in result.stderr
    folder = tmp_path / "exports"  # the current directory is tmp_path: names stay short
    folder.mkdir()
    export(folder / "a.csv", [("1", "2,50")], ";")
    export(folder / "b.csv", [("1", "2.50")], ";")
    export(folder / "c.csv", [("1", "2.50")], ",")
    result = cli("validate", "exports", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    named = "(1 of 2 files whose delimiter ';' makes a comma the default: exports/b.csv)"
    assert f"decimal point in: quantity {named}" in result.stderr
    assert f"decimal point in: unit_price {named}" in result.stderr


# ---- currency signs of more than one currency ---------------------------------------------------


def test_prices_in_two_currencies_by_their_signs_are_warned_of(cli, tmp_path: Path) -> None:
    # $10.00 and €10.00 were both read as 10 and summed as one without a word (the signs are
    # dropped when the number is read); a currency column would have been warned of.
    rows = [("1", "$10.00"), ("1", "€10.00"), ("2", "$5.00"), ("1", "7.00")]
    path = export(tmp_path / "mixed.csv", rows)
    result = cli("validate", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0, result.stderr
    assert (
        "unit_price (unit_price): amounts in 2 currencies by their signs are summed as one "
        "(lines: $ 2, € 1)"
    ) in result.stderr
    # Lines kept, values as written.
    assert pl.read_csv(tmp_path / "out.csv")["amount"].to_list() == [10.0, 10.0, 10.0, 7.0]
    one = export(tmp_path / "one.csv", [("1", "$10.00"), ("1", "7.00")])
    result = cli("validate", str(one), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0 and "by their signs" not in result.stderr


def test_dollars_of_two_countries_are_warned_of(cli, tmp_path: Path) -> None:
    # US$ and CA$ are read (they were rejected as bad_price); as two signs they are two
    # currencies, which a bare '$' (the dollar of either) would not tell apart.
    rows = [("1", "US$10.00"), ("1", "CA$10.00"), ("2", "US$5.00")]
    path = export(tmp_path / "dollars.csv", rows)
    result = cli("validate", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0, result.stderr
    assert (
        "unit_price (unit_price): amounts in 2 currencies by their signs are summed as one "
        "(lines: US$ 2, CA$ 1)"
    ) in result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["amount"].to_list() == [10.0, 10.0, 10.0]
    one = export(tmp_path / "one.csv", [("1", "US$10.00"), ("1", "7.00")])
    result = cli("validate", str(one), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0 and "by their signs" not in result.stderr
    assert "rejected" not in result.stderr or "rejected 0" in result.stderr


def test_iso_currency_codes_beside_prices_are_read_and_mixed_codes_warned_of(
    cli, tmp_path: Path
) -> None:
    # 12.50 USD, USD 12.50, EUR 1.234,50: every such line was rejected (bad_price).
    rows = [
        ("1", '"12.50 USD"'),
        ("1", "USD 12.50"),
        ("2", "(USD 5.00)"),  # accounting parentheses around the code too
        ("1", '"EUR 1,234.50"'),
        ("1", "INF"),  # three capitals, no digits: still not finite
    ]
    path = export(tmp_path / "codes.csv", rows)
    out, rejects = validated(cli, path, tmp_path)
    assert out["amount"].to_list() == [12.5, 12.5, -10.0, 1234.5]
    assert rejects["reason"].to_list() == ["non_finite"]
    result = cli("validate", str(path), "-o", str(tmp_path / "out.csv"))
    assert (
        "unit_price (unit_price): amounts in 2 currencies by their codes are summed as one "
        "(lines: USD 3, EUR 1)"
    ) in result.stderr
    # A ';' export in one currency: read, no warning.
    semi = export(tmp_path / "eur.csv", [("1", "EUR 1.234,50"), ("2", "5,00- EUR")], ";")
    result = cli("validate", str(semi), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0 and "by their codes" not in result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["amount"].to_list() == [1234.5, -10.0]


def test_capitals_glued_to_digits_in_a_price_are_no_currency_code(cli, tmp_path: Path) -> None:
    # A sku (ABC123) in the price of a line whose fields shifted is no price of 123.
    path = export(tmp_path / "glued.csv", [("1", "ABC123"), ("1", "USD 2.00")])
    out, rejects = validated(cli, path, tmp_path)
    assert out["unit_price"].to_list() == [2.0]
    assert rejects["unit_price"].to_list() == ["ABC123"]
    assert rejects["reason"].to_list() == ["bad_price"]


def test_a_unit_code_beside_a_quantity_is_not_dropped(cli, tmp_path: Path) -> None:
    # '5 PCE' and '2 KGM' are units, not currencies: the line is rejected, not read as 5.
    path = export(tmp_path / "units.csv", [("5 PCE", "1.00"), ("3", "2.00")])
    out, rejects = validated(cli, path, tmp_path)
    assert out["quantity"].to_list() == [3.0]
    assert rejects["reason"].to_list() == ["bad_quantity"]
