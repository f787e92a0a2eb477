"""Hostile inputs to the order import (session 25): what real exports do to their encoding, line
endings and prices. Each line is read right, or counted apart with a reason or flag, or the run
refused with one message; never a silently wrong number."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

HEADER = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]


def validated(
    cli, path: Path, tmp_path: Path, *args: str
) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    result = cli("validate", str(path), "-o", str(out), "--rejects", str(rejects), *args)
    assert result.exit_code == 0, result.stderr
    return pl.read_csv(out), pl.read_csv(rejects, infer_schema=False), result.stderr


# ---- UTF-16 without a byte-order mark ----------------------------------------------------------

UNICODE_TEXT = (
    "\t".join([*HEADER, "customer_name"])
    + "\r\n"
    + "O1\t2024-03-01\tC1\tS1\t2\t2.50\tMüller & Søn\r\n"
    + "O2\t2024-03-02\tC2\tS1\t1\t4.00\t東京商事 €\r\n"
)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read_and_named(cli, tmp_path: Path, codec: str) -> None:
    # Some Windows tools write UTF-16 with no BOM. Before: read as cp1252, 'missing required
    # columns ...; found o r d e r _ i d ...', exit 1.
    path = tmp_path / f"{codec}.txt"
    path.write_bytes(UNICODE_TEXT.encode(codec))
    out, rejects, stderr = validated(cli, path, tmp_path)
    assert rejects.height == 0
    assert out["amount"].to_list() == [5.0, 4.0]
    assert out["customer_name"].to_list() == ["Müller & Søn", "東京商事 €"]
    assert f"delimiter tab, decimal point, encoding {codec} (no BOM)" in stderr


def test_utf16_without_a_bom_is_read_from_a_gzip_file_and_stdin(cli, tmp_path: Path) -> None:
    import gzip

    data = UNICODE_TEXT.encode("utf-16-le")
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(data))
    out, _, _ = validated(cli, path, tmp_path)
    assert out["order_id"].to_list() == ["O1", "O2"]
    result = cli("validate", "-", "-o", str(tmp_path / "stdin.csv"), input=data)
    assert result.exit_code == 0, result.stderr
    assert "read 2 = used 2 + rejected 0" in result.stderr


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("order_id,sku\n".encode("utf-16-le"), "utf-16-le"),
        ("order_id,sku\n".encode("utf-16-be"), "utf-16-be"),
        ("Müller,sku\n".encode(), None),  # UTF-8: no NUL byte
        ("Bestell-Nr.;Menge (Stück);Betrag €\n".encode("cp1252"), None),
        ("order_id,sku\n".encode("utf-32-le"), None),  # three NULs in four: not UTF-16
        ("a\n".encode("utf-16-le")[:3], None),  # too short to tell
        (bytes(range(256)), None),  # binary
    ],
    ids=["le", "be", "utf-8", "cp1252", "utf-32", "short", "binary"],
)
def test_utf16_without_bom_is_told_from_its_first_bytes(data: bytes, expected: str | None) -> None:
    from segchain.tableio import utf16_without_bom

    assert utf16_without_bom(data) == expected


# ---- UTF-32 without a byte-order mark; UTF-16/32 cut short ----------------------------------


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_without_a_bom_is_read_and_named(cli, tmp_path: Path, codec: str) -> None:
    # Before: its NULs are valid UTF-8, so it was read as UTF-8 with a NUL after every letter:
    # 'missing required columns ...; found o   r   d   e   r ...', exit 1.
    path = tmp_path / f"{codec}.txt"
    path.write_bytes(UNICODE_TEXT.encode(codec))
    out, rejects, stderr = validated(cli, path, tmp_path)
    assert rejects.height == 0
    assert out["amount"].to_list() == [5.0, 4.0]
    assert out["customer_name"].to_list() == ["Müller & Søn", "東京商事 €"]
    assert f"delimiter tab, decimal point, encoding {codec} (no BOM)" in stderr


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("order_id,sku\n".encode("utf-32-le"), "utf-32-le"),
        ("order_id,sku\n".encode("utf-32-be"), "utf-32-be"),
        ("Bestell-Nr.;Menge (Stück);Betrag €;東京\n".encode("utf-32-le"), "utf-32-le"),
        ("order_id,sku\n".encode("utf-16-le"), None),  # a NUL in every other byte only
        ("order_id,sku\n".encode("utf-16-be"), None),
        ("Müller,sku\n".encode(), None),
        ("a".encode("utf-32-le"), None),  # one character: too short to tell
        (bytes(256), None),  # NULs only
        (bytes(range(256)), None),  # binary
    ],
    ids=["le", "be", "beyond-latin1", "utf-16-le", "utf-16-be", "utf-8", "short", "nul", "binary"],
)
def test_utf32_without_bom_is_told_from_its_first_bytes(data: bytes, expected: str | None) -> None:
    from segchain.tableio import utf32_without_bom

    assert utf32_without_bom(data) == expected


@pytest.mark.parametrize(
    ("codec", "bom", "cut", "how", "what"),
    [
        ("utf-16-le", b"", 1, "first bytes", "an odd number"),
        ("utf-16-be", b"", 1, "first bytes", "an odd number"),
        ("utf-16-le", b"\xff\xfe", 1, "BOM", "an odd number"),
        ("utf-16-be", b"\xfe\xff", 1, "BOM", "an odd number"),
        ("utf-32-le", b"", 2, "first bytes", "not a multiple of 4"),
        ("utf-32-be", b"\x00\x00\xfe\xff", 3, "BOM", "not a multiple of 4"),
    ],
    ids=["utf-16-le", "utf-16-be", "utf-16-le-bom", "utf-16-be-bom", "utf-32-le", "utf-32-be-bom"],
)
def test_utf16_or_utf32_text_cut_short_is_refused_with_one_message(
    cli, tmp_path: Path, codec: str, bom: bytes, cut: int, how: str, what: str
) -> None:
    # A download or copy cut off mid-character. Before: read as UTF-8 with NULs (or as cp1252,
    # 'ÿþo r d e r _ i d'): 'missing required columns ...', exit 1, the file's real fault unsaid.
    data = (bom + UNICODE_TEXT.encode(codec))[:-cut]
    path = tmp_path / "export.txt"
    path.write_bytes(data)
    result = cli("validate", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain validate: Error: {path}: {codec} text (by its {how}) of {len(data):,} bytes, "
        f"{what}: the file is cut short, or a byte was added to it\n"
        "segchain validate:   hint: export or copy it again, or save it as CSV UTF-8 (Excel: "
        "File > Save As > CSV UTF-8)\n"
    )
    assert not (tmp_path / "out.csv").exists()


def test_utf16_cut_short_over_a_thousand_bytes_counts_them_with_separators(
    cli, tmp_path: Path
) -> None:
    data = (UNICODE_TEXT * 20).encode("utf-16-le")[:-1]
    assert len(data) == 5_879  # 20 x 294 bytes, one cut
    path = tmp_path / "export.txt"
    path.write_bytes(data)
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert "utf-16-le text (by its first bytes) of 5,879 bytes, an odd number" in result.stderr


# ---- line ends: a bare CR (old Mac) ------------------------------------------------------------

LINES = [
    "O1,2024-03-01,C1,S1,2,10.00",
    "O2,2024-03-02,C2,S1,1,4.50",
    "O3,2024-03-03,C3,S2,5,1.00",
    "O4,2024-03-04,C4,S2,1,2.00",
]


def test_a_line_ending_in_a_bare_cr_inside_an_lf_file_is_a_line_of_its_own(
    cli, tmp_path: Path
) -> None:
    # One line saved by an old Mac tool into an LF export: it and the next were one line of 11
    # fields. Before: 'cannot parse as CSV (found more fields than defined ...)', exit 1.
    text = ",".join(HEADER) + "\n" + LINES[0] + "\n" + LINES[1] + "\r" + LINES[2] + "\n"
    path = tmp_path / "stray.csv"
    path.write_bytes((text + LINES[3] + "\n").encode())
    out, rejects, stderr = validated(cli, path, tmp_path)
    assert out["order_id"].to_list() == ["O1", "O2", "O3", "O4"]
    assert out["amount"].to_list() == [20.0, 4.5, 5.0, 2.0]
    assert rejects.height == 0
    assert "1 bare CR (old Mac line end) joining lines read as line break" in stderr
    assert "read 4 = used 4 + rejected 0" in stderr


def test_bare_crs_in_a_crlf_file_split_only_the_lines_they_join(cli, tmp_path: Path) -> None:
    # A CRLF export: O1 ends in a bare CR after a quoted field holding the delimiter, O3's
    # description holds a pasted CR (a line of the header's width: the CR is the cell's own,
    # kept), and O5 has a field too many (rejected, as before, once the lines come apart).
    header = ",".join([*HEADER, "description"])
    text = (
        f'{header}\r\nO1,2024-03-01,C1,S1,2,10.00,"a, b"\rO2,2024-03-02,C2,S1,1,4.50,x\r\n'
        "O3,2024-03-03,C3,S2,5,1.00,pasted\rtext\r\nO4,2024-03-04,C4,S2,1,2.00,y\r"
        "O5,2024-03-05,C5,S2,1,3.00,z,surplus\r\n"
    )
    path = tmp_path / "crlf.csv"
    path.write_bytes(text.encode())
    out, rejects, stderr = validated(cli, path, tmp_path)
    assert out["order_id"].to_list() == ["O1", "O2", "O3", "O4"]
    assert out["description"].to_list() == ["a, b", "x", "pasted\rtext", "y"]
    assert rejects.select("order_id", "extra_fields", "reason").rows() == [
        ("O5", "surplus", "extra_fields")
    ]
    assert "2 bare CRs (old Mac line ends) joining lines read as line breaks" in stderr


def test_a_bare_cr_inside_quotes_on_a_joined_line_stays_in_its_cell(cli, tmp_path: Path) -> None:
    header = ",".join([*HEADER, "description"])
    text = f'{header}\nO1,2024-03-01,C1,S1,2,10.00,"two\rlines"\rO2,2024-03-02,C2,S1,1,4.50,x\n'
    path = tmp_path / "quoted.csv"
    path.write_bytes(text.encode())
    out, _, _ = validated(cli, path, tmp_path)
    assert out["description"].to_list() == ["two\rlines", "x"]


def test_an_excel_for_mac_csv_with_line_breaks_in_cells_is_read(cli, tmp_path: Path) -> None:
    # Excel for Mac's 'CSV (Macintosh)': lines end in CR, a cell's line break is an LF. Before:
    # the LF made the file look like LF lines: 'the export has no order lines (only a header)'.
    header = ",".join([*HEADER, "description"])
    text = f'{header}\rO1,2024-03-01,C1,S1,2,10.00,"two\nlines"\rO2,2024-03-02,C2,S1,1,4.50,x\r'
    path = tmp_path / "mac.csv"
    path.write_bytes(text.encode("mac-roman"))
    out, rejects, stderr = validated(cli, path, tmp_path)
    assert out["description"].to_list() == ["two\nlines", "x"]
    assert rejects.height == 0
    assert "line ends CR (old Mac)" in stderr


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b\r1,2\r", True),
        (b'a,b\r1,"x\ny"\r', True),  # an LF within a cell
        (b"a,b\r\n1,2\r\n", False),
        (b"a,b\n1,2\r3,4\n", False),  # a stray CR: see split_bare_crs
        (b"a,b\n1,2\n", False),
    ],
    ids=["cr", "cr-with-lf-in-cell", "crlf", "lf-stray-cr", "lf"],
)
def test_cr_line_ends_are_told_from_the_first_line(data: bytes, expected: bool) -> None:
    from segchain.tableio import cr_line_ends

    assert cr_line_ends(data) is expected


# ---- a negative price on a line that is no return: a price correction or credit ----------------


def credit_export(path: Path, rows: list[str], header: list[str] = HEADER) -> Path:
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_negative_price_with_a_positive_quantity_is_flagged_and_counted(
    cli, tmp_path: Path
) -> None:
    # (12.50) in accounting notation is -12.50. Before: an unflagged line, a 'sale' of 1 unit
    # worth -12.50, and nothing on stderr.
    rows = [
        "O1,2024-03-01,C1,S1,2,10.00",
        'O2,2024-03-05,C1,S1,1,"(12.50)"',
        "C3,2024-03-06,C1,S1,-1,10.00",  # a return stays a return
        "O4,2024-03-07,C2,S2,3,0",  # a giveaway stays zero_price
    ]
    out, rejects, stderr = validated(cli, credit_export(tmp_path / "e.csv", rows), tmp_path)
    assert rejects.height == 0
    assert out["flag"].to_list() == [None, "negative_price", "return", "zero_price"]
    # The price kept positive as on every line; the value carries the sign.
    assert out["unit_price"].to_list() == [10.0, 12.5, 10.0, 0.0]
    assert out["amount"].to_list() == [20.0, -12.5, -10.0, 0.0]
    assert "flagged (kept): negative_price 1, return 1, zero_price 1" in stderr


def test_a_credit_by_its_amount_nets_whatever_sign_the_export_gave_it(cli, tmp_path: Path) -> None:
    # Price and amount both exported: the credit's amount written without the price's sign
    # (O2) nets as a return's does with --returns net, and stays as exported with keep.
    header = [*HEADER, "amount"]
    rows = [
        "O1,2024-03-01,C1,S1,2,10.00,20.00",
        "O2,2024-03-02,C1,S1,1,-2.00,2.00",
        "O3,2024-03-03,C1,S1,1,3.00,-3.00",  # a negative amount alone says it too
    ]
    path = credit_export(tmp_path / "e.csv", rows, header)
    out, _, _ = validated(cli, path, tmp_path)
    assert out["flag"].to_list() == [None, "negative_price", "negative_price"]
    assert out["amount"].to_list() == [20.0, -2.0, -3.0]
    kept, _, _ = validated(cli, path, tmp_path, "--returns", "keep")
    assert kept["amount"].to_list() == [20.0, 2.0, -3.0]


def test_returns_drop_rejects_credits_with_their_own_reason(cli, tmp_path: Path) -> None:
    rows = [
        "O1,2024-03-01,C1,S1,2,10.00",
        "O2,2024-03-05,C1,S1,1,-12.50",
        "C3,2024-03-06,C1,S1,-1,10.00",
    ]
    path = credit_export(tmp_path / "e.csv", rows)
    out, rejects, stderr = validated(cli, path, tmp_path, "--returns", "drop")
    assert out["order_id"].to_list() == ["O1"]
    assert rejects.select("order_id", "reason").rows() == [
        ("O2", "negative_price"),
        ("C3", "return"),
    ]
    assert "read 3 = used 1 + rejected 2 (negative_price 1, return 1)" in stderr


def test_segment_nets_a_credit_in_monetary_but_counts_no_purchase(cli, tmp_path: Path) -> None:
    # C1 bought 2 x 10.00 on 1 March and was credited 12.50 on 5 March; C2 bought on 8 March
    # (as of 9 March). By hand: monetary 20 - 12.50 = 7.50, one order, one line, 2 units, last
    # order 1 March, recency 8 days. Before: frequency 2, 3 units, 2 lines, last order 5 March.
    rows = [
        "O1,2024-03-01,C1,S1,2,10.00",
        "O2,2024-03-05,C1,S1,1,(12.50)",
        "O3,2024-03-08,C2,S1,1,5.00",
    ]
    path = credit_export(tmp_path / "e.csv", rows)
    out = tmp_path / "segments.csv"
    result = cli("segment", str(path), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    c1 = (
        pl.read_csv(out, try_parse_dates=True)
        .filter(pl.col("customer_id") == "C1")
        .row(0, named=True)
    )
    assert c1["monetary"] == 7.5
    assert (c1["frequency"], c1["lines"], c1["quantity"]) == (1, 1, 2.0)
    assert str(c1["last_order"]) == "2024-03-01"
    assert c1["recency_days"] == 8


def credit_lines() -> pl.DataFrame:
    """One sale of 2 units at 10.00 and one credit of 12.50 (as validate writes them)."""
    return pl.DataFrame(
        {
            "order_id": ["O1", "O2"],
            "order_date": [dt.date(2024, 1, 1), dt.date(2024, 1, 8)],
            "customer_id": ["c1", "c1"],
            "sku": ["A", "A"],
            "quantity": [2.0, 1.0],
            "unit_price": [10.0, 12.5],
            "amount": [20.0, -12.5],
            "flag": [None, "negative_price"],
        }
    )


def test_forecast_history_leaves_credits_out_of_demand() -> None:
    from segchain.forecast import build_series

    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["S"]})
    later = (
        credit_lines()
        .head(1)
        .with_columns(
            order_id=pl.lit("O3"), order_date=pl.lit(dt.date(2024, 1, 15)), quantity=pl.lit(3.0)
        )
    )
    orders = pl.concat([credit_lines(), later])
    s = build_series(orders, segments, freq="W", by=("segment", "sku"))
    assert s.y.get_column("y").to_list() == [2.0, 0.0, 3.0]  # the sales' units; before 2, 1, 3
    assert s.excluded == {"negative_price": 1}
    assert any("1 price-correction order line " in w for w in s.warnings)


def test_cost_to_serve_counts_a_credit_in_revenue_not_in_goods_or_lines() -> None:
    from segchain.costs.sales import customer_sales

    customers = pl.DataFrame({"customer_id": ["c1"], "segment": ["S"]})
    items = pl.DataFrame({"sku": ["A"], "unit_cost": [4.0]})
    table, totals = customer_sales(credit_lines(), customers, items)
    row = table.row(0, named=True)
    # By hand: revenue 20 - 12.50; cogs 2 units x 4.00; one sales order of one line.
    assert row["revenue"] == 7.5
    assert row["cogs"] == 8.0  # before 12.0 (3 units)
    assert (row["orders"], row["lines"], row["return_lines"]) == (1, 1, 0)
    assert totals.net_value == 7.5


def test_stock_mean_selling_price_leaves_credits_out() -> None:
    from segchain.stock.inputs import mean_prices

    prices = mean_prices(credit_lines())
    assert prices is not None
    assert prices.row(0) == ("A", 10.0)  # before (20 + 12.50) / 3


def test_cost_to_serve_handles_no_order_for_a_line_of_no_units() -> None:
    # A line of quantity 0 (flag zero_quantity) moved no goods: segment's frequency does not
    # count it, and costs charged handling for it as an order and a line (audit of session 58).
    from segchain.costs.sales import customer_sales

    orders = pl.DataFrame(
        {
            "order_id": ["1", "2", "3"],
            "order_date": [dt.date(2024, 1, 2), dt.date(2024, 2, 6), dt.date(2024, 3, 5)],
            "customer_id": ["E", "E", "F"],
            "sku": ["X", "X", "X"],
            "quantity": [2.0, 0.0, 1.0],
            "amount": [20.0, 0.0, 10.0],
            "flag": [None, "zero_quantity", None],
        }
    )
    customers = pl.DataFrame({"customer_id": ["E", "F"], "segment": ["S", "S"]})
    table, _ = customer_sales(orders, customers, None)
    by_customer = {r["customer_id"]: r for r in table.iter_rows(named=True)}
    assert (by_customer["E"]["orders"], by_customer["E"]["lines"]) == (1, 1)
    assert by_customer["E"]["revenue"] == 20.0
