"""A typed export's number columns hold numbers: a Parquet ``quantity`` of true/false was read
as 1 and 0, a date as its day number (19,723 for 2024-01-01), without a word (session 35).
The import refuses them, naming the file, the column, its type and how to map the right one."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

LINES = {
    "order_id": ["1", "2", "3"],
    "order_date": ["2024-03-01", "2024-03-08", "2024-03-15"],
    "customer_id": ["C1", "C1", "C2"],
    "sku": ["A", "A", "B"],
    "quantity": [2, 1, 3],
    "unit_price": [10.0, 10.0, 5.0],
}


def export(tmp_path: Path, name: str = "o.parquet", **columns: pl.Series | list) -> str:
    pl.DataFrame({**LINES, **columns}).write_parquet(tmp_path / name)
    return name


def error_lines(command: str, message: str, hint: str) -> str:
    return f"segchain {command}: Error: {message}\nsegchain {command}:   hint: {hint}\n"


QUANTITY_HINT = (
    "map the column that holds the numbers with --map quantity=HEADER (a true/false column is "
    "a flag, and a date is no number)"
)


@pytest.mark.parametrize("command", ["validate", "segment"])
def test_boolean_quantity_is_refused_naming_file_column_and_type(cli, tmp_path, command) -> None:
    name = export(tmp_path, quantity=[True, False, True])
    result = cli(command, name, "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert result.stderr == error_lines(
        command, "o.parquet: column 'quantity' is Boolean (true/false), not numbers", QUANTITY_HINT
    )
    assert not (tmp_path / "out.csv").exists()


def test_boolean_quantity_of_forecast_orders_names_the_option(cli, tmp_path) -> None:
    name = export(tmp_path, quantity=[True, False, True])
    (tmp_path / "seg.csv").write_text("customer_id,segment\nC1,A\nC2,A\n")
    result = cli("forecast", "seg.csv", "--orders", name, "-o", "fc.csv")
    assert result.exit_code == 1, result.stderr
    assert result.stderr == error_lines(
        "forecast",
        "--orders o.parquet: column 'quantity' is Boolean (true/false), not numbers",
        QUANTITY_HINT,
    )


def test_every_number_column_of_another_type_is_listed_at_once(cli, tmp_path) -> None:
    dates = pl.Series(["2024-01-01"] * 3).str.to_date()
    name = export(tmp_path, unit_price=[True, True, False], amount=dates)
    result = cli("validate", name, "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert result.stderr == error_lines(
        "validate",
        "o.parquet: column 'unit_price' is Boolean (true/false), not numbers; column 'amount' "
        "is Date, not numbers",
        "map the columns that hold the numbers with --map unit_price=HEADER --map "
        "amount=HEADER (a true/false column is a flag, and a date is no number)",
    )


def test_a_mapped_header_is_named_with_its_column(cli, tmp_path) -> None:
    frame = pl.DataFrame({**LINES, "quantity": [True, False, True]}).rename({"quantity": "Menge"})
    frame.write_parquet(tmp_path / "o.parquet")
    result = cli("validate", "o.parquet", "--map", "quantity=Menge", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert result.stderr == error_lines(
        "validate",
        "o.parquet: quantity (Menge) is Boolean (true/false), not numbers",
        QUANTITY_HINT,
    )


def test_whole_and_decimal_numbers_are_read_as_before(cli, tmp_path) -> None:
    # The known answer: 2 x 10 + 1 x 10 + 3 x 5 = 45.
    name = export(tmp_path, quantity=pl.Series([2, 1, 3], dtype=pl.UInt8))
    result = cli("validate", name, "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["amount"].sum() == 45
