"""Audit Q, session 62: real ERP exports as they are written: ids written as Excel formulas
(``="00047"``), a blank unit price beside an amount, ragged ``;`` and tab files with decimal
commas, a repeated header after a BOM."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from segchain.orders import import_orders

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price"


def _write(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    return path


# Q1 ---------------------------------------------------------------------------------------


def _excel_safe_months(tmp_path: Path) -> Path:
    """January exported plain, February with the exporter's "for Excel" option, which writes
    every id as a formula so that Excel keeps its leading zeros."""
    folder = tmp_path / "exports"
    folder.mkdir()
    _write(
        folder / "2023-01.csv",
        ["1001,2023-01-05,00047,0012,2,10.00", "1002,2023-01-06,00048,0012,1,10.00"],
    )
    _write(
        folder / "2023-02.csv",
        [
            '="1003",2023-02-05,="00047",="0012",1,10.00',
            '="1004",2023-02-06,="00048",="0012",3,10.00',
        ],
    )
    return folder


def test_validate_reads_excel_formula_ids_as_the_text_they_wrap(cli, tmp_path: Path) -> None:
    out = tmp_path / "o.parquet"
    result = cli("validate", str(_excel_safe_months(tmp_path)), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    clean = pl.read_parquet(out).sort("order_id")
    assert clean.get_column("order_id").to_list() == ["1001", "1002", "1003", "1004"]
    assert clean.get_column("customer_id").to_list() == ["00047", "00048", "00047", "00048"]
    assert clean.get_column("sku").to_list() == ["0012"] * 4
    assert (
        "customer_id: 2 ids written as Excel formulas (e.g. '=\"00047\"') read as the text "
        "they wrap ('00047')"
    ) in result.stderr
    assert "order_id: 2 ids written as Excel formulas" in result.stderr


def test_segment_makes_one_customer_of_an_id_plain_and_as_a_formula(cli, tmp_path: Path) -> None:
    # 00047: orders 1001 (2 x 10) and 1003 (1 x 10); 00048: 1002 (1 x 10) and 1004 (3 x 10).
    out = tmp_path / "s.csv"
    result = cli("segment", str(_excel_safe_months(tmp_path)), "-q", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    seg = pl.read_csv(out, infer_schema=False).sort("customer_id")
    assert seg.get_column("customer_id").to_list() == ["00047", "00048"]
    assert seg.get_column("frequency").cast(pl.Int64).to_list() == [2, 2]
    assert seg.get_column("monetary").cast(pl.Float64).to_list() == [30.0, 40.0]


def test_segment_reads_a_formula_id_with_spaces_as_its_trimmed_text(cli, tmp_path: Path) -> None:
    # Spaces inside or around the formula: the id is trimmed as any id is (segment's pass over
    # the ids as exported must find them and read the exact lines).
    path = _write(
        tmp_path / "e.csv",
        [
            "1,2023-01-05,00047,S,1,10",
            '2,2023-02-05,="00047 ",S,1,10',
            '3,2023-02-06, ="00047",S,1,10',
            "4,2023-02-07,00048,S,1,10",
        ],
    )
    out = tmp_path / "s.csv"
    result = cli("segment", str(path), "-q", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    seg = pl.read_csv(out, infer_schema=False).sort("customer_id")
    assert seg.get_column("customer_id").to_list() == ["00047", "00048"]
    assert seg.get_column("frequency").cast(pl.Int64).to_list() == [3, 1]


def test_a_parquet_export_with_formula_ids_is_read_unwrapped(cli, tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    pl.DataFrame(
        {
            "order_id": ['="1"', '="2"'],
            "order_date": ["2023-01-05", "2023-01-06"],
            "customer_id": ['="00047"', "00047"],
            "sku": ['="0012"', '="0012"'],
            "quantity": [1.0, 2.0],
            "unit_price": [10.0, 10.0],
        }
    ).write_parquet(path)
    out = tmp_path / "o.parquet"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    clean = pl.read_parquet(out)
    assert clean.get_column("customer_id").to_list() == ["00047", "00047"]
    assert clean.get_column("sku").to_list() == ["0012", "0012"]


@pytest.mark.parametrize("kept", ['="ab"c"', "=A1", '="0047', '=" 0047"x', "=0047"])
def test_a_value_not_wholly_a_formula_of_text_is_kept_as_written(kept: str) -> None:
    raw = pl.DataFrame(
        {
            "order_id": ["1", "2"],
            "order_date": ["2023-01-05", "2023-01-06"],
            "customer_id": ['="00047"', kept],
            "sku": ["S", "S"],
            "quantity": ["1", "1"],
            "unit_price": ["1", "1"],
        }
    )
    imp = import_orders(raw, mapping={c: c for c in raw.columns})
    ids = imp.clean.collect().get_column("customer_id").to_list()
    assert ids == ["00047", kept]
    assert any("customer_id: 1 id written as an Excel formula" in n for n in imp.notes)


def test_site_and_postal_code_written_as_formulas_are_unwrapped() -> None:
    raw = pl.DataFrame(
        {
            "order_id": ["1", "2"],
            "order_date": ["2023-01-05", "2023-01-06"],
            "customer_id": ["C1", "C2"],
            "sku": ["S", "S"],
            "quantity": ["1", "1"],
            "unit_price": ["1", "1"],
            "site": ['="0100"', "0100"],
            "postal_code": ['="01067"', "01067"],
        }
    )
    imp = import_orders(raw, mapping={c: c for c in raw.columns})
    clean = imp.clean.collect()
    assert clean.get_column("site").to_list() == ["0100", "0100"]
    assert clean.get_column("postal_code").to_list() == ["01067", "01067"]
    # The ship-to reads the postal codes as exported (segment's pass): unwrapped there too.
    assert imp.lines.collect().get_column("_postal_code_raw").to_list() == ["01067", "01067"]


def test_ids_without_formulas_give_no_note() -> None:
    raw = pl.DataFrame(
        {
            "order_id": ["1"],
            "order_date": ["2023-01-05"],
            "customer_id": ["=C1"],
            "sku": ["S"],
            "quantity": ["1"],
            "unit_price": ["1"],
        }
    )
    imp = import_orders(raw, mapping={c: c for c in raw.columns})
    assert not any("Excel formula" in n for n in imp.notes)
    assert imp.clean.collect().get_column("customer_id").to_list() == ["=C1"]


# Q3 ---------------------------------------------------------------------------------------

NETSUITE = "Type,Date,Document Number,Name,Item,Quantity,Rate,Amount"
NETSUITE_MAP = [
    *("--map", "order_id=Document Number", "--map", "order_date=Date"),
    *("--map", "customer_id=Name", "--map", "sku=Item"),
    *("--map", "unit_price=Rate", "--map", "amount=Amount"),
]


def test_a_blank_rate_beside_an_amount_is_valued_by_the_amount(cli, tmp_path: Path) -> None:
    # NetSuite leaves Rate blank on lines where only the Amount is set: the line's value is
    # there, 12.00 for 3 units, so its unit price is 4.00.
    path = _write(
        tmp_path / "ns.csv",
        [
            "Invoice,3/26/2023,INV1001,Acme,ITEM-1,2,617.25,1234.50",
            "Invoice,3/27/2023,INV1002,Acme,ITEM-2,3,,12.00",
            "Invoice,3/28/2023,INV1003,Beta,ITEM-2,3,4.00,12.00",
        ],
        header=NETSUITE,
    )
    out = tmp_path / "o.parquet"
    result = cli("validate", str(path), *NETSUITE_MAP, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "read 3 = used 3 + rejected 0" in result.stderr
    assert (
        "1 line with a blank unit_price (Rate) and an amount (Amount): valued by its amount, "
        "unit price = amount / quantity"
    ) in result.stderr
    row = pl.read_parquet(out).filter(pl.col("order_id") == "INV1002").row(0, named=True)
    assert (row["quantity"], row["unit_price"], row["amount"]) == (3.0, 4.0, 12.0)


def test_segment_counts_the_value_of_a_line_with_a_blank_rate(cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "ns.csv",
        [
            "Invoice,3/26/2023,INV1001,Acme,ITEM-1,2,617.25,1234.50",
            "Invoice,3/27/2023,INV1002,Acme,ITEM-2,1,,12.00",
            "Invoice,3/28/2023,INV1003,Beta,ITEM-2,3,4.00,12.00",
        ],
        header=NETSUITE,
    )
    out = tmp_path / "s.csv"
    result = cli("segment", str(path), *NETSUITE_MAP, "-q", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    acme = pl.read_csv(out).filter(pl.col("customer_id") == "Acme").row(0, named=True)
    assert (acme["frequency"], acme["monetary"]) == (2, 1234.50 + 12.00)


@pytest.mark.parametrize(
    ("rate", "amount"),
    [("abc", "12.00"), ("1.2.3", "12.00"), ("", ""), ("", "12x"), ("  ", "abc")],
)
def test_a_rate_that_is_no_number_or_no_value_at_all_is_still_bad_price(
    cli, tmp_path: Path, rate: str, amount: str
) -> None:
    path = _write(
        tmp_path / "ns.csv",
        [
            "Invoice,3/26/2023,INV1001,Acme,ITEM-1,2,617.25,1234.50",
            f"Invoice,3/27/2023,INV1002,Acme,ITEM-2,1,{rate},{amount}",
        ],
        header=NETSUITE,
    )
    result = cli("validate", str(path), *NETSUITE_MAP, "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.stderr
    assert "read 2 = used 1 + rejected 1 (bad_price 1)" in result.stderr
    assert "valued by" not in result.stderr


def test_a_blank_price_beside_a_decimal_comma_amount_is_valued(cli, tmp_path: Path) -> None:
    # SAP's NETPR blank, NETWR 1.234,50 for 10 units: 123.45 a unit.
    path = _write(
        tmp_path / "sap.csv",
        ["1;01.03.2023;C1;M1;10;;1.234,50", "2;02.03.2023;C1;M1;2;5,00;10,00"],
        header="order_id;order_date;customer_id;sku;quantity;unit_price;amount",
    )
    out = tmp_path / "o.parquet"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "read 2 = used 2 + rejected 0" in result.stderr
    clean = pl.read_parquet(out).sort("order_id")
    assert clean.get_column("amount").to_list() == [1234.5, 10.0]
    assert clean.get_column("unit_price").to_list() == pytest.approx([123.45, 5.0])


def test_a_null_price_in_a_typed_parquet_beside_an_amount_is_valued(tmp_path: Path) -> None:
    raw = pl.DataFrame(
        {
            "order_id": ["1", "2"],
            "order_date": ["2023-01-05", "2023-01-06"],
            "customer_id": ["C1", "C2"],
            "sku": ["S", "S"],
            "quantity": [4.0, 1.0],
            "unit_price": [None, 2.0],
            "amount": [10.0, 2.0],
        }
    )
    path = tmp_path / "e.parquet"
    raw.write_parquet(path)
    imp = import_orders(pl.scan_parquet(path), mapping={c: c for c in raw.columns})
    lines = imp.lines.collect().sort("order_id")
    assert lines.get_column("reason").to_list() == [None, None]
    assert lines.get_column("unit_price").to_list() == [2.5, 2.0]
    assert any(n.startswith("1 line with a blank unit_price") for n in imp.notes)


def test_a_total_line_with_a_blank_rate_is_not_counted_as_valued(cli, tmp_path: Path) -> None:
    # A saved search's Total line has a blank Rate beside the total Amount: it is rejected
    # missing_order_id, and the note counts only INV1002.
    path = _write(
        tmp_path / "ns.csv",
        [
            "Invoice,3/26/2023,INV1001,Acme,ITEM-1,2,617.25,1234.50",
            "Invoice,3/27/2023,INV1002,Acme,ITEM-2,1,,12.00",
            'Total,,,,,,,"1,246.50"',
        ],
        header=NETSUITE,
    )
    result = cli("validate", str(path), *NETSUITE_MAP, "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.stderr
    assert "read 3 = used 2 + rejected 1 (missing_order_id 1)" in result.stderr
    assert "1 line with a blank unit_price (Rate) and an amount (Amount)" in result.stderr


# Q2 ---------------------------------------------------------------------------------------

SAP_HEADER = "VBELN;AUDAT;KUNNR;MATNR;KWMENG;NETWR;WERKS;ORT01"
SAP_LINES = [f"{i};0{i}.03.2023;C1;M1;5;12,00;1000;Köln" for i in range(1, 9)]


def _sap(tmp_path: Path, lines: list[str], *, sep: str = ";", name: str = "sap.csv") -> Path:
    path = tmp_path / name
    text = "\n".join([SAP_HEADER, *lines]) + "\n"
    path.write_text(text.replace(";", sep), encoding="utf-8")
    return path


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_short_line_among_decimal_commas_is_read_with_blanks(
    cli, tmp_path: Path, sep: str
) -> None:
    # Every line holds one decimal comma, so ',' split them all into 2 fields; the line that
    # leaves off WERKS and ORT01 made the header look like a title, and nothing was read.
    path = _sap(tmp_path, [*SAP_LINES, "9;09.03.2023;C2;M1;5;12,00"], sep=sep)
    out = tmp_path / "o.parquet"
    result = cli("validate", str(path), "--preset", "sap", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "read 9 = used 9 + rejected 0" in result.stderr
    clean = pl.read_parquet(out).sort("order_id")
    assert clean.get_column("amount").to_list() == [12.0] * 9
    assert clean.get_column("site").to_list() == ["1000"] * 8 + [None]
    assert clean.get_column("city").to_list() == ["Köln"] * 8 + [None]


def test_a_stray_trailing_semicolon_rejects_its_line_alone(cli, tmp_path: Path) -> None:
    lines = [*SAP_LINES[:4], SAP_LINES[4] + ";", *SAP_LINES[5:]]
    rejects = tmp_path / "r.csv"
    result = cli(
        "validate", str(_sap(tmp_path, lines)), "--preset", "sap", "--rejects", str(rejects)
    )
    assert result.exit_code == 0, result.stderr
    assert "read 8 = used 7 + rejected 1 (extra_fields 1)" in result.stderr
    assert pl.read_csv(rejects, infer_schema=False).get_column("VBELN").to_list() == ["5"]


def test_a_title_with_a_comma_above_a_ragged_decimal_comma_table_is_skipped(
    cli, tmp_path: Path
) -> None:
    # The title splits into 2 fields with ',' as every line below does: the lines' 8 fields
    # with ';' make it a title, not their header.
    path = tmp_path / "sap.csv"
    path.write_text(
        "Umsatz nach Artikel, Januar 2023\n"
        + "\n".join([SAP_HEADER, *SAP_LINES, "9;09.03.2023;C2;M1;5;12,00"])
        + "\n",
        encoding="utf-8",
    )
    result = cli("validate", str(path), "--preset", "sap", "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.stderr
    assert "1 line above the header skipped ('Umsatz nach Artikel, Januar 2023')" in result.stderr
    assert "read 9 = used 9 + rejected 0" in result.stderr


# Q5 ---------------------------------------------------------------------------------------

DATE_FIRST = "order_date,order_id,customer_id,sku,quantity,unit_price\r\n"
JAN = DATE_FIRST + "2023-01-05,1,C1,S1,1,10.00\r\n2023-01-06,2,C2,S1,2,10.00\r\n"
FEB = DATE_FIRST + "2023-02-05,3,C1,S1,1,10.00\r\n2023-02-06,4,C3,S1,2,10.00\r\n"


@pytest.mark.parametrize(
    "joined",
    [
        b"\xef\xbb\xbf" + JAN.encode() + b"\xef\xbb\xbf" + FEB.encode(),
        b"\xff\xfe"
        + JAN.replace(",", "\t").encode("utf-16-le")
        + b"\xff\xfe"
        + FEB.replace(",", "\t").encode("utf-16-le"),
    ],
    ids=["utf-8-bom", "utf-16"],
)
def test_a_repeated_header_after_a_bom_is_a_repeated_header(
    cli, tmp_path: Path, joined: bytes
) -> None:
    # cat jan.csv feb.csv of two Excel exports: February's header starts with its BOM.
    path = tmp_path / "joined.csv"
    path.write_bytes(joined)
    rejects = tmp_path / "r.csv"
    result = cli("validate", str(path), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "read 5 = used 4 + rejected 1 (repeated_header 1)" in result.stderr
    assert pl.read_csv(rejects, infer_schema=False).get_column("row").to_list() == ["3"]


# Q4 ---------------------------------------------------------------------------------------


def test_title_lines_above_an_excel_width_header_are_skipped(cli, tmp_path: Path) -> None:
    # A list saved through Excel with its used range at the last column, XFD: every line is
    # padded with ';' to 16,384 fields (16 KB), so 3 title lines and the header are 64 KB.
    def padded(line: str) -> str:
        return line + ";" * (16_384 - len(line.split(";")))

    lines = [
        "Auftragsliste Vertrieb",
        "Stand: 31.12.2023",
        "",
        "order_id;order_date;customer_id;sku;quantity;unit_price",
        *(f"{i};0{i}.03.2023;C{i % 2};M1;5;12,50" for i in range(1, 6)),
    ]
    path = tmp_path / "wide.csv"
    text = "\r\n".join(padded(line) for line in lines) + "\r\n"
    path.write_text(text)
    assert text.index("\n", text.index("order_id")) > 65_536  # the header ends beyond 64 KB
    result = cli("validate", str(path), "-o", str(tmp_path / "o.parquet"))
    assert result.exit_code == 0, result.stderr
    assert "3 lines above the header skipped ('Auftragsliste Vertrieb'" in result.stderr
    assert "read 5 = used 5 + rejected 0" in result.stderr
    clean = pl.read_parquet(tmp_path / "o.parquet")
    assert clean.get_column("amount").sum() == pytest.approx(5 * 5 * 12.5)


def test_most_lines_ending_in_one_empty_field_are_the_files_convention(cli, tmp_path: Path):
    # Every line ends in a ';' the header lacks, but one ends in ';;': the empty field that most
    # lines end in holds nothing and is the file's convention, so those lines are read and the
    # odd one alone is rejected (every line was rejected, extra_fields 4, exit 1).
    path = tmp_path / "t.csv"
    path.write_text(
        "order_id;order_date;customer_id;sku;quantity;unit_price\n"
        "1;2023-03-01;C1;S1;1;10;\n"
        "2;2023-03-02;C2;S1;2;10;\n"
        "3;2023-03-03;C3;S2;2;10;;\n"
        "4;2023-03-04;C3;S2;2;10;\n"
    )
    rejects = tmp_path / "rejects.csv"
    result = cli("validate", str(path), "--rejects", str(rejects), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.stderr
    assert "read 4 = used 3 + rejected 1 (extra_fields 1)" in result.stderr
    rows = pl.read_csv(rejects, infer_schema=False)
    assert rows.select("row", "order_id", "reason").rows() == [("3", "3", "extra_fields")]
    # A surplus that holds something is never a convention, however many lines have it.
    path.write_text(
        "order_id;order_date;customer_id;sku;quantity;unit_price\n"
        + "".join(f"{i};2023-03-0{i};C{i};S1;1;10;x\n" for i in range(1, 5))
    )
    result = cli("validate", str(path), "-o", str(tmp_path / "o2.csv"))
    assert "rejected 4 (extra_fields 4)" in result.stderr


def test_an_export_grouped_by_order_is_named_with_its_rows(cli, tmp_path: Path) -> None:
    # Odoo's sale.order export with its order lines: the order's fields on its first line
    # only. The lines below are rejected (a blank id), and a warning says why and what to do
    # (before: 'rejected 2 (missing_order_id 2)' and nothing more).
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,order_date,customer_id,sku,quantity,amount\n"
        "S1,2023-03-26,Azure,Desk,2,20\n"
        ",,,Cabinet,1,100\n"
        ",,,Chair,4,100\n"
        "S2,2023-03-27,Deco,Desk,3,30\n"
        # A line without its id alone (its customer and date given) is not such a line.
        ",2023-03-28,Deco,Desk,1,10\n"
    )
    for command in ("validate", "segment"):
        result = cli(command, str(path), "-o", str(tmp_path / f"{command}.csv"))
        assert result.exit_code == 0, result.stderr
        assert "read 5 = used 2 + rejected 3 (missing_order_id 3)" in result.stderr
        assert (
            "2 lines (rows 2, 3) give a product but leave the order's id, customer and date "
            "blank" in result.stderr
        )
        assert "sale.order.line" in result.stderr


def test_a_group_row_above_the_header_names_the_real_header_in_the_hint(cli, tmp_path):
    # A report's merged group row above the real header was taken for it, and the hint sent the
    # user to --map its labels (customer_id=Customer), which failed again.
    path = tmp_path / "group.csv"
    path.write_text(
        "Sales order lines;;;;;\n"
        "Order;;Customer;Item;Amounts;\n"
        "order_id;order_date;customer_id;sku;quantity;unit_price\n"
        "1;01.03.2023;C1;S1;1;10,00\n"
        "2;02.03.2023;C2;S1;2;10,00\n"
    )
    result = cli("validate", str(path), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 1
    assert "the line below the one read as the header holds the column names" in result.stderr
    assert "tail -n +N" in result.stderr
    assert "--map customer_id=Customer" not in result.stderr
    assert not (tmp_path / "o.csv").exists()
