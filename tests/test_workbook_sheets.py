"""``--sheet NAME|N``: which sheet of a workbook holds the order lines (a cover or summary sheet
often comes first). Before it, a workbook was read as its first sheet only.

Each sheet of the test workbooks holds its own order ids, so the ids written say which sheet was
read; they are the known answers, written here, not computed by the code under test.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

xlsxwriter = pytest.importorskip("xlsxwriter")

HEADER = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]


def lines(*ids: str) -> list[list[object]]:
    """The header and one order line per id (a text cell, so '0001' keeps its zeros)."""
    return [HEADER, *([i, "2024-03-01", "C1", "S1", 2, 3.5] for i in ids)]


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                ws.write(i, j, value)
    book.close()
    return path


COVER = [["Sales by Item Detail"], ["ACME Corp, January-March 2024"]]


@pytest.fixture
def report_book(tmp_path: Path) -> Path:
    """A finance report saved as .xlsx: a cover sheet, the order lines, a summary."""
    return workbook(
        tmp_path / "export.xlsx",
        {"Cover": COVER, "Orders": lines("0001", "0002"), "Summary": [["total", 14]]},
    )


def order_ids(path: Path) -> list[str]:
    return pl.read_csv(path, schema_overrides={"order_id": pl.String})["order_id"].to_list()


@pytest.mark.parametrize("sheet", ["Orders", "orders", " ORDERS ", "2"])
def test_sheet_by_name_any_case_or_position_reads_that_sheet(cli, report_book, tmp_path, sheet):
    out = tmp_path / "orders.csv"
    result = cli("validate", str(report_book), "--sheet", sheet, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert order_ids(out) == ["0001", "0002"]
    assert (
        f"segchain validate: {report_book}: workbook, sheet 'Orders' "
        "(2 of 3; not read: 'Cover', 'Summary')\n"
    ) in result.stderr


@pytest.mark.parametrize(
    ("sheet", "ids"),
    [
        ("2024", ["2024-1"]),  # the sheet called 2024 (the second), not the 2,024th
        ("2", ["2024-1"]),  # no sheet called 2: the second
        ("3", ["2025-1"]),  # no sheet called 3: the third
        ("1", ["2023-1"]),
    ],
)
def test_sheet_name_that_exists_wins_over_position(cli, tmp_path, sheet, ids) -> None:
    book = workbook(
        tmp_path / "years.xlsx",
        {"2023": lines("2023-1"), "2024": lines("2024-1"), "2025": lines("2025-1")},
    )
    out = tmp_path / "orders.csv"
    result = cli("validate", str(book), "--sheet", sheet, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert order_ids(out) == ids


def test_sheet_named_like_a_smaller_number_wins_over_that_position(cli, tmp_path) -> None:
    """Sheets '2', 'Data': --sheet 2 is the sheet called '2' (the first), not the second."""
    book = workbook(tmp_path / "b.xlsx", {"2": lines("named-2"), "Data": lines("second")})
    out = tmp_path / "orders.csv"
    result = cli("validate", str(book), "--sheet", "2", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert order_ids(out) == ["named-2"]


def test_sheet_from_stdin_workbook(cli, report_book, tmp_path) -> None:
    out = tmp_path / "orders.csv"
    result = cli(
        "validate", "-", "--sheet", "Orders", "-o", str(out), input=report_book.read_bytes()
    )
    assert result.exit_code == 0, result.stderr
    assert order_ids(out) == ["0001", "0002"]


def previous_output(tmp_path: Path) -> Path:
    """An output of an earlier run, which a failed run must leave as it was."""
    out = tmp_path / "orders.csv"
    out.write_bytes(b"order_id\nearlier-run\n")
    os.chmod(out, 0o640)
    return out


def assert_untouched(out: Path) -> None:
    assert out.read_bytes() == b"order_id\nearlier-run\n"
    assert out.stat().st_mode & 0o777 == 0o640
    # No temporary file of the failed run left beside it.
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("sheet", "message", "hint"),
    [
        (
            "Ordres",
            "no sheet 'Ordres' (--sheet): the workbook has 3 sheets: 'Cover', 'Orders', 'Summary'",
            "give one of these names (did you mean 'Orders'?), or a position from 1 to 3",
        ),
        (
            "4",
            "no sheet '4' (--sheet): the workbook has 3 sheets: 'Cover', 'Orders', 'Summary'",
            "give one of these names, or a position from 1 to 3",
        ),
        (
            "0",
            "no sheet '0' (--sheet): the workbook has 3 sheets: 'Cover', 'Orders', 'Summary'",
            "give one of these names, or a position from 1 to 3",
        ),
    ],
)
def test_unknown_sheet_is_a_data_error_naming_file_sheet_and_sheets(
    cli, report_book, tmp_path, sheet, message, hint
) -> None:
    out = previous_output(tmp_path)
    rejects = tmp_path / "rejects.csv"
    result = cli(
        "validate", str(report_book), "--sheet", sheet, "--rejects", str(rejects), "-o", str(out)
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain validate: Error: {report_book}: {message}\nsegchain validate:   hint: {hint}\n"
    )
    assert_untouched(out)
    assert not rejects.exists()


def test_unknown_sheet_lists_only_the_first_ten_sheets(cli, tmp_path) -> None:
    book = workbook(tmp_path / "many.xlsx", {f"S{i}": lines(str(i)) for i in range(1, 13)})
    result = cli("validate", str(book), "--sheet", "Orders")
    assert result.exit_code == 1
    shown = ", ".join(f"'S{i}'" for i in range(1, 11))
    assert (
        f"Error: {book}: no sheet 'Orders' (--sheet): the workbook has 12 sheets: {shown}, ...\n"
    ) in result.stderr


def test_sheet_matching_two_sheets_but_for_case_and_spaces_is_refused(cli, tmp_path) -> None:
    """Excel refuses two names that differ only in case, not in spaces around them."""
    book = workbook(tmp_path / "b.xlsx", {"Orders ": lines("a"), " Orders": lines("b")})
    result = cli("validate", str(book), "--sheet", "orders")
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain validate: Error: {book}: --sheet 'orders' names 2 sheets that differ only in "
        "case or spaces ('Orders ', ' Orders')\n"
        "segchain validate:   hint: give the sheet's name as the workbook writes it, or its "
        "position (--sheet N)\n"
    )


def test_empty_chosen_sheet_is_a_data_error(cli, tmp_path) -> None:
    book = workbook(tmp_path / "b.xlsx", {"Orders": lines("a"), "Blank": []})
    out = previous_output(tmp_path)
    result = cli("validate", str(book), "--sheet", "Blank", "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain validate: Error: {book}: sheet 2 ('Blank') is empty\n"
        "segchain validate:   hint: read another sheet with --sheet NAME or --sheet N (the "
        "others: 'Orders')\n"
    )
    assert_untouched(out)


def test_empty_first_sheet_hints_at_the_other_sheets(cli, tmp_path) -> None:
    book = workbook(tmp_path / "b.xlsx", {"Blank": [], "Orders": lines("a")})
    result = cli("validate", str(book))
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain validate: Error: {book}: the first sheet ('Blank') is empty\n"
        "segchain validate:   hint: read another sheet with --sheet NAME or --sheet N (the "
        "others: 'Orders')\n"
    )


def test_cover_sheet_first_names_the_other_sheets_in_the_missing_columns_hint(
    cli, report_book
) -> None:
    """Without --sheet the cover is read: the hint was the CSV one (tail -n +N export.csv)."""
    result = cli("validate", str(report_book))
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "segchain validate:   hint: they were looked for on sheet 'Cover'; the workbook's other "
        "sheets: 'Orders', 'Summary': read the one holding the order lines with --sheet NAME or "
        "--sheet N\n"
    )


@pytest.mark.parametrize("mapped_by", ["--map", "config"])
def test_cover_sheet_first_names_the_other_sheets_when_a_mapping_names_a_header(
    cli, tmp_path, mapped_by
) -> None:
    """The README: "When the sheet read lacks the order columns (a cover sheet first, no
    --sheet), the error names the workbook's other sheets". With a mapping of the export's
    headers (--map, or segchain.toml's [columns] as the README advises), the mapping was
    checked first: "no such column: --map order_id='Order ID'. The file's headers are: Sales by
    Item Detail", and the hint was the CSV one (tail -n +N export.csv | segchain validate -),
    which a workbook cannot take (s42 walk-through, Superstore saved as .xlsx behind a cover)."""
    header = ["Order ID", *HEADER[1:]]
    book = workbook(
        tmp_path / "export.xlsx", {"Cover": COVER, "Orders": [header, *lines("0001")[1:]]}
    )
    args = ["--map", "order_id=Order ID"] if mapped_by == "--map" else []
    if mapped_by == "config":
        (tmp_path / "segchain.toml").write_text('[columns]\norder_id = "Order ID"\n')
    result = cli("validate", str(book), *args)
    assert result.exit_code == 2
    assert "no such column" in result.stderr
    assert result.stderr.endswith(
        "segchain validate:   hint: they were looked for on sheet 'Cover'; the workbook's other "
        "sheets: 'Orders': read the one holding the order lines with --sheet NAME or --sheet N\n"
    )
    read = cli("validate", str(book), *args, "--sheet", "Orders", "-o", str(tmp_path / "o.csv"))
    assert read.exit_code == 0, read.stderr
    assert order_ids(tmp_path / "o.csv") == ["0001"]


def test_cover_sheet_hint_lists_at_most_ten_other_sheets(cli, tmp_path) -> None:
    sheets = {"Cover": COVER} | {f"S{i}": lines(str(i)) for i in range(1, 13)}
    book = workbook(tmp_path / "b.xlsx", sheets)
    result = cli("validate", str(book))
    assert result.exit_code == 1
    shown = ", ".join(f"'S{i}'" for i in range(1, 11))
    assert f"the workbook's other sheets: {shown}, ...: read the one holding" in result.stderr


def csv_export(path: Path, *ids: str) -> Path:
    path.write_text("\n".join(",".join(map(str, row)) for row in lines(*ids)) + "\n")
    return path


def test_sheet_for_a_csv_on_the_command_line_is_a_usage_error(cli, tmp_path) -> None:
    export = csv_export(tmp_path / "export.csv", "a")
    out = previous_output(tmp_path)
    result = cli("validate", str(export), "--sheet", "Orders", "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain validate: Error: --sheet 'Orders': {export} is not a workbook (.xlsx, .xls, "
        ".ods): only a workbook has sheets\n"
        "segchain validate:   hint: leave --sheet out for CSV and Parquet files\n"
    )
    assert_untouched(out)


def test_sheet_for_a_csv_is_refused_before_the_csv_is_read(cli, tmp_path) -> None:
    """A usage error comes before any input is read: an empty CSV is not reported as such."""
    export = tmp_path / "export.csv"
    export.write_bytes(b"")
    result = cli("validate", str(export), "--sheet", "2")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain validate: Error: --sheet '2': {export} is not a workbook (.xlsx, .xls, .ods)"
    )


def test_sheet_for_a_csv_on_stdin_is_a_usage_error(cli, tmp_path) -> None:
    export = csv_export(tmp_path / "export.csv", "a")
    result = cli("validate", "-", "--sheet", "Orders", input=export.read_bytes())
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "segchain validate: Error: --sheet 'Orders': <stdin> is not a workbook (.xlsx, .xls, .ods)"
    )


def test_sheet_for_a_folder_of_csv_files_is_a_usage_error(cli, tmp_path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    csv_export(folder / "a.csv", "a")
    csv_export(folder / "b.csv", "b")
    result = cli("validate", str(folder), "--sheet", "2")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain validate: Error: --sheet '2': none of 2 files ({folder}/a.csv ... "
        f"{folder}/b.csv) is a workbook"
    )


@pytest.mark.parametrize("route", ["env", "config"])
def test_sheet_from_env_or_config_is_a_standing_setting_ignored_for_a_csv(
    cli, report_book, tmp_path, monkeypatch, route
) -> None:
    """Set once for a project's workbooks: it reads their sheet, and a CSV (or validate's
    Parquet) in the same setting is read as it is, not refused as --sheet on one would be."""
    export = csv_export(tmp_path / "export.csv", "a", "b")
    if route == "env":
        monkeypatch.setenv("SEGCHAIN_SHEET", "Orders")
    else:
        (tmp_path / "segchain.toml").write_text('[orders]\nsheet = "Orders"\n')
    out = tmp_path / "orders.csv"
    result = cli("validate", str(report_book), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert order_ids(out) == ["0001", "0002"]
    result = cli("validate", str(export), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert order_ids(out) == ["a", "b"]
    assert "--sheet" not in result.stderr and "workbook" not in result.stderr


@pytest.mark.parametrize(
    ("setup", "ids"),
    [
        ({"env": "Orders"}, ["0001", "0002"]),
        ({"env": "3"}, ["x"]),
        ({"config": '[orders]\nsheet = "orders"\n'}, ["0001", "0002"]),
        ({"config": "[orders]\nsheet = 2\n"}, ["0001", "0002"]),  # a TOML number: a position
    ],
)
def test_sheet_from_env_or_config_reads_that_sheet(cli, tmp_path, monkeypatch, setup, ids):
    book = workbook(
        tmp_path / "export.xlsx",
        {"Cover": COVER, "Orders": lines("0001", "0002"), "Other": lines("x")},
    )
    if "env" in setup:
        monkeypatch.setenv("SEGCHAIN_SHEET", setup["env"])
    else:
        (tmp_path / "segchain.toml").write_text(setup["config"])
    out = tmp_path / "orders.csv"
    result = cli("validate", str(book), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert order_ids(out) == ids


def test_command_line_sheet_wins_over_env_and_config(cli, report_book, tmp_path, monkeypatch):
    monkeypatch.setenv("SEGCHAIN_SHEET", "Summary")
    (tmp_path / "segchain.toml").write_text('[orders]\nsheet = "Cover"\n')
    out = tmp_path / "orders.csv"
    result = cli("validate", str(report_book), "--sheet", "Orders", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert order_ids(out) == ["0001", "0002"]


@pytest.mark.parametrize(
    ("setup", "where"),
    [
        ({"env": "Nope"}, "$SEGCHAIN_SHEET"),
        ({"config": '[orders]\nsheet = "Nope"\n'}, "segchain.toml [orders] sheet"),
    ],
)
def test_unknown_sheet_error_names_env_or_config_as_its_source(
    cli, report_book, monkeypatch, tmp_path, setup, where
) -> None:
    if "env" in setup:
        monkeypatch.setenv("SEGCHAIN_SHEET", setup["env"])
    else:
        (tmp_path / "segchain.toml").write_text(setup["config"])
    result = cli("validate", str(report_book))
    assert result.exit_code == 1
    assert (
        f"Error: {report_book}: no sheet 'Nope' ({where}): the workbook has 3 sheets: "
        "'Cover', 'Orders', 'Summary'\n"
    ) in result.stderr


@pytest.mark.parametrize("value", ["2.5", '""', "true"])
def test_config_sheet_of_the_wrong_kind_is_a_usage_error(cli, report_book, tmp_path, value):
    (tmp_path / "segchain.toml").write_text(f"[orders]\nsheet = {value}\n")
    result = cli("validate", str(report_book))
    assert result.exit_code == 2
    assert "segchain.toml [orders] sheet: " in result.stderr


def test_folder_reads_the_sheet_in_every_workbook_and_csv_files_as_they_are(cli, tmp_path) -> None:
    """Monthly exports, the order lines on a sheet called Orders wherever it comes."""
    folder = tmp_path / "exports"
    folder.mkdir()
    csv_export(folder / "2024-01.csv", "jan")
    workbook(folder / "2024-02.xlsx", {"Cover": COVER, "Orders": lines("feb")})
    workbook(folder / "2024-03.xlsx", {"Orders": lines("mar"), "Notes": [["x"]]})
    out = tmp_path / "orders.csv"
    result = cli("validate", str(folder), "--sheet", "Orders", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(order_ids(out)) == ["feb", "jan", "mar"]
    assert (
        "segchain validate: --sheet 'Orders': read in 2 workbooks; 1 other file (CSV, Parquet) "
        "read as it is\n"
    ) in result.stderr
    assert f"{folder}/2024-02.xlsx: workbook, sheet 'Orders' (2 of 2; not read: 'Cover')" in (
        result.stderr
    )
    assert f"{folder}/2024-03.xlsx: workbook, sheet 'Orders' (the first; not read: 'Notes')" in (
        result.stderr
    )


def test_folder_workbook_lacking_the_sheet_stops_the_run(cli, tmp_path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    workbook(folder / "2024-02.xlsx", {"Cover": COVER, "Orders": lines("feb")})
    workbook(folder / "2024-03.xlsx", {"Sheet1": lines("mar")})
    out = previous_output(tmp_path)
    result = cli("validate", str(folder), "--sheet", "Orders", "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain validate: Error: {folder}/2024-03.xlsx: no sheet 'Orders' (--sheet): the "
        "workbook has 1 sheet: 'Sheet1'\n"
        "segchain validate:   hint: give that name, or 1; every workbook of the run is read at "
        "this sheet: rename the sheet in this one, or read it in a run of its own\n"
    )
    assert_untouched(out)


def test_choose_sheet_table() -> None:
    from segchain.tableio import NoSuchSheet, choose_sheet

    sheets = ["Cover", "2024", "Orders"]
    assert choose_sheet(sheets, "Orders", name="b.xlsx") == 2
    assert choose_sheet(sheets, "oRDERS", name="b.xlsx") == 2
    assert choose_sheet(sheets, "2024", name="b.xlsx") == 1
    assert choose_sheet(sheets, "3", name="b.xlsx") == 2
    assert choose_sheet(sheets, "1", name="b.xlsx") == 0
    for wanted in ("4", "0", "-1", "", "Ordres", "²"):
        with pytest.raises(NoSuchSheet):
            choose_sheet(sheets, wanted, name="b.xlsx")


FORECAST = "unique_id,ds,forecast,segment,sku,error_sd\n" + "".join(
    f"Champions/S1,2024-04-{d:02d},3,Champions,S1,1\n" for d in (1, 8, 15)
)


@pytest.mark.parametrize("command", ["segment", "forecast", "costs", "stock", "report"])
def test_every_command_reading_orders_takes_sheet(cli, report_book, tmp_path, command) -> None:
    segments = tmp_path / "segments.csv"
    segments.write_text("customer_id,segment\nC1,Champions\n")
    forecast = tmp_path / "forecast.csv"
    forecast.write_text(FORECAST)
    args = {
        "segment": [str(report_book)],
        "forecast": [str(segments), "--orders", str(report_book)],
        "costs": [str(segments), "--orders", str(report_book)],
        "stock": [str(forecast), "--orders", str(report_book)],
        "report": [str(report_book)],
    }[command]
    result = cli(command, *args, "--sheet", "Nope")
    assert result.exit_code == 1, result.stderr
    # A file given with an option is named with it (--orders), an argument as it is.
    named = f"--orders {report_book}" if "--orders" in args else str(report_book)
    assert f"Error: {named}: no sheet 'Nope' (--sheet)" in result.stderr


# ---- stock --orders and report's raw order exports choose the sheet as validate does --------


def priced_book(path: Path) -> Path:
    """A cover, then two sheets of order lines for S1 at different prices: 3.5 and 9.0."""

    def priced(price: float, *ids: str) -> list[list[object]]:
        return [HEADER, *([i, "2024-03-01", "C1", "S1", 2, price] for i in ids)]

    return workbook(
        path, {"Cover": COVER, "Orders": priced(3.5, "o1", "o2"), "Other": priced(9.0, "x1")}
    )


def choose(route: str, sheet: str, tmp_path: Path, monkeypatch) -> list[str]:
    """Choose ``sheet`` by ``route``: the option (its arguments returned), the environment
    variable or the config found in the working folder."""
    if route == "option":
        return ["--sheet", sheet]
    if route == "env":
        monkeypatch.setenv("SEGCHAIN_SHEET", sheet)
    else:
        (tmp_path / "segchain.toml").write_text(f'[orders]\nsheet = "{sheet}"\n')
    return []


@pytest.mark.parametrize("route", ["option", "env", "config"])
@pytest.mark.parametrize(("sheet", "cost"), [("Orders", 3.5), ("Other", 9.0), ("3", 9.0)])
def test_stock_orders_workbook_read_at_the_chosen_sheet(
    cli, tmp_path, monkeypatch, route, sheet, cost
) -> None:
    """Without --items, the sku's unit cost is its mean selling price in --orders: the price
    written on the sheet read (the known answer) says which sheet that was. Before, stock had
    no --sheet and ignored SEGCHAIN_SHEET (the cover was read: missing columns, exit 1)."""
    book = priced_book(tmp_path / "export.xlsx")
    forecast = tmp_path / "forecast.csv"
    forecast.write_text(FORECAST)
    out = tmp_path / "policy.csv"
    args = choose(route, sheet, tmp_path, monkeypatch)
    result = cli("stock", str(forecast), "--orders", str(book), *args, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(out)["unit_cost"].to_list() == [cost]
    assert f"{book}: workbook, sheet " in result.stderr


def test_stock_unknown_sheet_is_a_data_error_naming_file_sheet_and_sheets(cli, tmp_path):
    book = priced_book(tmp_path / "export.xlsx")
    forecast = tmp_path / "forecast.csv"
    forecast.write_text(FORECAST)
    out = previous_output(tmp_path)
    result = cli("stock", str(forecast), "--orders", str(book), "--sheet", "Ordres", "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain stock: Error: --orders {book}: no sheet 'Ordres' (--sheet): the workbook has "
        "3 sheets: "
        "'Cover', 'Orders', 'Other'\n"
        "segchain stock:   hint: give one of these names (did you mean 'Orders'?), or a position "
        "from 1 to 3\n"
    )
    assert_untouched(out)


def test_stock_sheet_for_csv_orders_is_refused_before_any_input_is_read(cli, tmp_path) -> None:
    """An empty forecast is not reported: the usage error comes first."""
    forecast = tmp_path / "forecast.csv"
    forecast.write_bytes(b"")
    export = csv_export(tmp_path / "export.csv", "a")
    result = cli("stock", str(forecast), "--orders", str(export), "--sheet", "Orders")
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain stock: Error: --sheet 'Orders': {export} is not a workbook (.xlsx, .xls, "
        ".ods): only a workbook has sheets\n"
        "segchain stock:   hint: leave --sheet out for CSV and Parquet files\n"
    )


def test_stock_sheet_without_orders_is_a_usage_error(cli, tmp_path, monkeypatch) -> None:
    forecast = tmp_path / "forecast.csv"
    forecast.write_text(FORECAST)
    result = cli("stock", str(forecast), "--sheet", "Orders")
    assert result.exit_code == 2
    assert result.stderr == (
        "segchain stock: Error: --sheet 'Orders' chooses the sheet of the --orders workbook: "
        "give --orders too\n"
        "segchain stock:   hint: e.g. --orders export.xlsx --sheet Orders\n"
    )
    # From the environment it is a standing setting, not a mistake.
    monkeypatch.setenv("SEGCHAIN_SHEET", "Orders")
    result = cli("stock", str(forecast), "-o", str(tmp_path / "policy.csv"))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("route", ["option", "env", "config"])
@pytest.mark.parametrize(("sheet", "rows"), [("Orders", 2), ("other", 1), ("2", 2)])
def test_report_raw_workbook_read_at_the_chosen_sheet(
    cli, tmp_path, monkeypatch, route, sheet, rows
) -> None:
    """Before, report recognised a workbook by its first sheet only (the cover: 'not a segchain
    stage output', exit 1) whatever --sheet / SEGCHAIN_SHEET / [orders] sheet said."""
    book = priced_book(tmp_path / "export.xlsx")
    args = choose(route, sheet, tmp_path, monkeypatch)
    out = tmp_path / "report.md"
    result = cli("report", str(book), *args, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    name = "Orders" if sheet != "other" else "Other"
    assert f"{book}: raw order lines (workbook, sheet {name!r} (" in result.stderr
    lines = f"{rows} row{'s' * (rows != 1)}"
    assert f"{book}: orders, {lines} (recognised by its columns)\n" in result.stderr
    # The command that makes the report again reads the same sheet.
    assert f"`segchain report {book} --title 'segchain report' --sheet {sheet}`" in (
        out.read_text()
    )


def test_report_unknown_sheet_is_a_data_error_naming_file_sheet_and_sheets(cli, tmp_path):
    book = priced_book(tmp_path / "export.xlsx")
    result = cli("report", str(book), "--sheet", "Ordres", "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain report: Error: {book}: no sheet 'Ordres' (--sheet): the workbook has 3 "
        "sheets: 'Cover', 'Orders', 'Other'\n"
        "segchain report:   hint: give one of these names (did you mean 'Orders'?), or a "
        "position from 1 to 3\n"
    )
    assert not (tmp_path / "r.md").exists()


def test_report_sheet_for_csv_inputs_is_refused_before_they_are_read(cli, tmp_path) -> None:
    empty = tmp_path / "segments.csv"
    empty.write_bytes(b"")
    result = cli("report", str(empty), "--sheet", "2", "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain report: Error: --sheet '2': {empty} is not a workbook (.xlsx, .xls, .ods): "
        "only a workbook has sheets\n"
        "segchain report:   hint: leave --sheet out for CSV and Parquet files\n"
    )


def test_report_cover_sheet_first_names_the_other_sheets(cli, tmp_path) -> None:
    book = priced_book(tmp_path / "export.xlsx")
    result = cli("report", str(book), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "It is sheet 'Cover' of a workbook; its other sheets: 'Orders', 'Other': read the one "
        "holding the order lines with --sheet NAME or --sheet N\n"
    )
