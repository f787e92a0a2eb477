"""--csv-safe (issue 12, finding 5): spreadsheet formulas neutralised, numbers kept."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from segchain import tableio


def test_csv_safe_prefixes_formulas_and_keeps_numbers() -> None:
    df = pl.DataFrame(
        {
            "text": [
                "=cmd|' /C calc'!A0",
                "+1+2",
                "-2+3",
                "@SUM(A1)",
                "\tx",
                "plain",
                "-5",
                "+1.5e3",
            ],
            "number": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )
    out = tableio.csv_safe(df)
    assert out["text"].to_list() == [
        "'=cmd|' /C calc'!A0",
        "'+1+2",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "-5",
        "+1.5e3",
    ]
    assert out["number"].to_list() == df["number"].to_list()


def test_cli_csv_safe_neutralises_the_written_csv(cli, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        '1,2024-03-01,=HYPERLINK("x"),@A,2,10\n'
        "2,2024-03-02,C2,-B,1,-5\n"
    )
    out = tmp_path / "clean.csv"
    result = cli("validate", str(orders), "--csv-safe", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    clean = pl.read_csv(out, infer_schema=False)
    assert clean["customer_id"].to_list() == ['\'=HYPERLINK("x")', "C2"]
    assert clean["sku"].to_list() == ["'@A", "'-B"]
    assert clean["quantity"].to_list() == ["2.0", "1.0"]


def test_without_csv_safe_the_data_is_written_as_it_is(cli, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n1,2024-03-01,=1+1,A,2,10\n"
    )
    out = tmp_path / "clean.csv"
    assert cli("validate", str(orders), "-o", str(out)).exit_code == 0
    assert pl.read_csv(out, infer_schema=False)["customer_id"].to_list() == ["=1+1"]
