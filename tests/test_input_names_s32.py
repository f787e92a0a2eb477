"""Session 32, names: order lines read through an option (forecast, stock and costs --orders) are
named by it in every message of the loader ('--orders bad.csv: missing required column sku',
not 'bad.csv: ...'), as the other side tables are since session 31; the command's INPUT keeps
its path. A message about two tables at once names both, each by its option or argument and
file ('SEGMENTS seg.csv and --orders orders.csv have no customer_id in common'); a stage run
from Python keeps its words ('segments and orders ...')."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from segchain.errors import DataError, SegchainError, UsageError

ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-01,C1,P1,10,5\n2,2024-02-01,C2,P1,5,5\n3,2024-03-01,C1,P2,2,7\n"
)
SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,12\nC2,A,48.9,2.3,5\n"
SITES = "site_id,lat,lon,fixed_cost\nS1,50.0,8.6,100\nS2,48.8,2.4,100\n"
ASSIGNMENTS = (
    "customer_id,segment,site_id,share,demand,transport_cost\nC1,A,S1,1,12,10\nC2,A,S1,1,5,20\n"
)
FORECAST = "sku,ds,forecast,error_sd\nP1,2025-01-06,10,2\nP2,2025-01-06,5,1\n"
FORECAST_SITES = "site,sku,ds,forecast,error_sd\nS1,P1,2025-01-06,10,2\nS1,P2,2025-01-06,5,1\n"


def write(name: str, text: str) -> str:
    Path(name).write_text(text)  # the tests run in tmp_path
    return name


def _inputs() -> None:
    for name, text in (
        ("orders.csv", ORDERS),
        ("segments.csv", SEGMENTS),
        ("sites.csv", SITES),
        ("asg.csv", ASSIGNMENTS),
        ("forecast.csv", FORECAST),
        ("forecast_sites.csv", FORECAST_SITES),
    ):
        write(name, text)


# ---- 1. the order loader's messages name --orders and its file -------------------------------

# (the bad orders' text; the message that must follow 'Error: --orders bad.csv: ')
LOADER_ERRORS = {
    "a column missing": (
        ORDERS.replace(",sku,", ",item,"),
        "missing required column sku; found order_id, order_date, customer_id, item, quantity, "
        "unit_price\n",
    ),
    "a known layout (mapping hint)": (
        "VBELN,ERDAT,KUNNR,MATNR,KWMENG,NETWR\n1,2024-01-01,C1,P1,10,5\n",
        "missing required columns order_id, order_date, customer_id, sku, quantity, unit_price "
        "or amount; found VBELN, ERDAT, KUNNR, MATNR, KWMENG, NETWR\n"
        "segchain {command}:   hint: these are the headers of a known layout: add --preset sap\n",
    ),
    "a look-alike header (mapping hint)": (
        ORDERS.replace("customer_id", "Customer ID"),
        "missing required column customer_id; found order_id, order_date, Customer ID, sku, "
        "quantity, unit_price\nsegchain {command}:   hint: add --map 'customer_id=Customer ID'\n",
    ),
    "no date that can be read": (
        ORDERS.replace("2024-01-01", "xx").replace("2024-02-01", "yy").replace("2024-03-01", "z"),
        "no usable order lines: all 3 lines were rejected (bad_date 3)\n",
    ),
    "day-first and month-first dates mixed": (
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,13/01/2024,C1,P1,1,1\n2,01/13/2024,C2,P1,1,1\n",
        "order dates mix day-first and month-first values: '13/01/2024' (row 1) can only be day "
        "first, '01/13/2024' (row 2) only month first\n",
    ),
    "a header and no lines": (
        "order_id,order_date,customer_id,sku,quantity,unit_price\n",
        "the export has no order lines (only a header)\n",
    ),
    "an empty file": ("", "the file is empty\n"),
    "not a table (wrong format)": (
        "\x89PNG\r\n\x1a\n\x00\x00garbage",
        "missing required columns order_id, order_date, customer_id, sku, quantity, unit_price "
        "or amount; found \\x89PNG\n",
    ),
}

ORDER_COMMANDS = {
    "forecast": ["forecast", "segments.csv", "--orders", "bad.csv"],
    "stock": ["stock", "forecast.csv", "--orders", "bad.csv"],
    "costs": ["costs", "segments.csv", "--orders", "bad.csv"],
}


@pytest.mark.parametrize("command", list(ORDER_COMMANDS))
@pytest.mark.parametrize("case", list(LOADER_ERRORS))
def test_orders_loader_error_names_the_option_and_file(cli, command: str, case: str) -> None:
    text, message = LOADER_ERRORS[case]
    _inputs()
    write("bad.csv", text)
    result = cli(*ORDER_COMMANDS[command], "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    expected = f"segchain {command}: Error: --orders bad.csv: " + message.format(command=command)
    assert expected in result.stderr
    assert not Path("out.csv").exists()


@pytest.mark.parametrize("command", ["validate", "segment"])
def test_orders_as_the_input_keep_their_path(cli, command: str) -> None:
    write("bad.csv", ORDERS.replace(",sku,", ",item,"))
    result = cli(command, "bad.csv", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert f"segchain {command}: Error: bad.csv: missing required column sku;" in result.stderr


def test_orders_reconciliation_names_the_option_and_file(cli) -> None:
    _inputs()
    result = cli("forecast", "segments.csv", "--orders", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain forecast: --orders orders.csv: csv, delimiter comma, decimal point, encoding "
        "utf-8\n"
    ) in result.stderr
    assert "segchain forecast:   read 3 = used 3 + rejected 0\n" in result.stderr


def test_validate_reconciliation_keeps_the_path(cli) -> None:
    write("orders.csv", ORDERS)
    result = cli("validate", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "segchain validate: orders.csv: csv, delimiter comma," in result.stderr


def test_orders_cut_short_warning_names_the_option(cli) -> None:
    _inputs()
    write("bad.csv", ORDERS + "4,2024-03-02,C2")
    result = cli("forecast", "segments.csv", "--orders", "bad.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain forecast: Warning: --orders bad.csv: the file ends inside its last line"
    ) in result.stderr


def test_orders_from_stdin_are_named_by_the_option(cli) -> None:
    _inputs()
    result = cli(
        "forecast", "segments.csv", "--orders", "-", "-o", "out.csv",
        input=ORDERS.replace(",sku,", ",item,"),
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert (
        "segchain forecast: Error: --orders <stdin>: missing required column sku;"
    ) in result.stderr


def test_orders_folder_is_named_by_the_option(cli) -> None:
    _inputs()
    Path("exports").mkdir()
    write("exports/a.csv", ORDERS.replace(",sku,", ",item,"))
    write("exports/b.csv", ORDERS.replace(",sku,", ",item,").replace("1,2024", "9,2024"))
    result = cli("forecast", "segments.csv", "--orders", "exports", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert (
        "segchain forecast: Error: --orders 2 files (exports/a.csv ... exports/b.csv): missing "
        "required column sku;"
    ) in result.stderr


def test_orders_files_whose_columns_differ_are_named_by_the_option(cli) -> None:
    _inputs()
    write("bad.csv", ORDERS.replace(",sku,", ",item,"))
    result = cli(
        "forecast", "segments.csv", "--orders", "orders.csv", "--orders", "bad.csv",
        "-o", "out.csv",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert (
        "segchain forecast: Error: --orders bad.csv: its columns differ from those of orders.csv"
    ) in result.stderr


xlsxwriter = pytest.importorskip("xlsxwriter")


def test_orders_workbook_sheet_hint_names_the_option(cli) -> None:
    _inputs()
    book = xlsxwriter.Workbook("book.xlsx")
    book.add_worksheet("Cover").write_row(0, 0, ["Sales report 2024"])
    sheet = book.add_worksheet("Orders")
    for row, line in enumerate(ORDERS.strip().split("\n")):
        sheet.write_row(row, 0, line.split(","))
    book.close()
    result = cli("forecast", "segments.csv", "--orders", "book.xlsx", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert (
        "segchain forecast: Error: --orders book.xlsx: missing required columns order_id, "
        "order_date, customer_id, sku, quantity, unit_price or amount; found Sales report 2024\n"
        "segchain forecast:   hint: they were looked for on sheet 'Cover'; the workbook's other "
        "sheets: 'Orders'"
    ) in result.stderr


# ---- 2. a message about two tables names both ------------------------------------------------

# (command line; the message that must follow 'Error: ')
TWO_TABLES = {
    "forecast: segments and orders": (
        ["forecast", "seg_x.csv", "--orders", "orders.csv"],
        "SEGMENTS seg_x.csv and --orders orders.csv have no customer_id in common: orders have "
        "'C1', 'C2'; segments have 'X1', 'X2'\n",
    ),
    "forecast --by: orders and segments": (
        ["forecast", "segments.csv", "--orders", "orders.csv", "--by", "country"],
        "--by: column country not in --orders orders.csv or SEGMENTS segments.csv; available: ",
    ),
    "forecast: assignments and orders": (
        ["forecast", "segments.csv", "--orders", "orders.csv", "--assignments", "asg_x.csv"],
        "--assignments asg_x.csv: none of the 2 customers of --orders orders.csv has a serving "
        "site\n",
    ),
    "stock: assignments and orders": (
        ["stock", "forecast_sites.csv", "--orders", "orders.csv", "--assignments", "asg_x.csv"],
        "--assignments asg_x.csv: none of the 2 customers of --orders orders.csv has a serving "
        "site\n",
    ),
    "stock: on-hand and forecast": (
        ["stock", "forecast_sites.csv", "--on-hand", "oh.csv"],
        "--on-hand oh.csv: FORECAST forecast_sites.csv is by site but the on-hand table has no "
        "site column\n",
    ),
    "costs: orders and segments": (
        ["costs", "seg_x.csv", "--orders", "orders.csv"],
        "--orders orders.csv: no order line belongs to a customer in SEGMENTS seg_x.csv\n",
    ),
    "costs: assignments and segments": (
        ["costs", "segments.csv", "--orders", "orders.csv", "--assignments", "asg_c9.csv"],
        "--assignments asg_c9.csv: 1 customer is not in SEGMENTS segments.csv: 'C9'\n",
    ),
    "costs: assignments and sites": (
        [
            "costs",
            "segments.csv",
            "--orders",
            "orders.csv",
            "--assignments",
            "asg.csv",
            "--sites",
            "sites_s2.csv",
        ],  # fmt: skip
        "--assignments asg.csv name a site not in --sites sites_s2.csv: 'S1'\n",
    ),
}


def _two_table_inputs() -> None:
    _inputs()
    write("seg_x.csv", SEGMENTS.replace("C1,", "X1,").replace("C2,", "X2,"))
    write("asg_x.csv", ASSIGNMENTS.replace("C1,", "C8,").replace("C2,", "C9,"))
    write("asg_c9.csv", ASSIGNMENTS + "C9,A,S1,1,1,1\n")
    write("oh.csv", "sku,on_hand\nP1,3\n")
    write("sites_s2.csv", "site_id,fixed_cost\nS2,100\n")


@pytest.mark.parametrize("case", list(TWO_TABLES))
def test_message_about_two_tables_names_both(cli, case: str) -> None:
    args, message = TWO_TABLES[case]
    _two_table_inputs()
    result = cli(*args, "-o", "out.csv")
    assert result.exit_code in (1, 2), result.stderr
    assert f"segchain {args[0]}: Error: {message}" in result.stderr, result.stderr
    assert not Path("out.csv").exists()


def test_two_tables_from_stdin_are_named_by_their_option(cli) -> None:
    _two_table_inputs()
    result = cli("forecast", "seg_x.csv", "--orders", "-", "-o", "out.csv", input=ORDERS)
    assert result.exit_code == 1, result.stderr
    assert (
        "Error: SEGMENTS seg_x.csv and --orders <stdin> have no customer_id in common"
    ) in result.stderr


# ---- the stages, run from Python, keep their words -------------------------------------------


def test_forecast_series_without_names_keeps_its_words() -> None:
    from segchain.forecast.series import build_series

    orders = pl.DataFrame(
        {
            "order_date": [dt.date(2024, 1, 1)] * 2,
            "customer_id": ["C1", "C2"],
            "sku": ["P1", "P1"],
            "quantity": [1.0, 2.0],
        }
    )
    segments = pl.DataFrame({"customer_id": ["X1"], "segment": ["A"]})
    with pytest.raises(DataError) as exc:
        build_series(orders, segments)
    assert exc.value.message == (
        "segments and orders have no customer_id in common: orders have 'C1', 'C2'; segments "
        "have 'X1'"
    )


def test_costs_fixed_cost_without_names_keeps_its_words() -> None:
    from segchain.costs.allocate import fixed_by_customer

    assignments = pl.DataFrame(
        {"customer_id": ["C1"], "site_id": ["S1"], "demand": [1.0], "transport_cost": [1.0]}
    )
    sites = pl.DataFrame({"site_id": ["S2"], "fixed_cost": [100.0]})
    with pytest.raises(DataError) as exc:
        fixed_by_customer(assignments, sites)
    assert exc.value.message == "assignments name a site not in the sites table: 'S1'"


@pytest.mark.parametrize("kind", [DataError, UsageError])
def test_error_names_its_tables_when_told(kind: type[SegchainError]) -> None:
    exc = kind(
        "{SEGMENTS} and {--orders} share nothing",
        hint="h",
        tables={"SEGMENTS": "segments", "--orders": "orders"},
    )
    assert exc.message == "segments and orders share nothing"
    exc.name_tables({"--orders": "--orders o.csv", "--items": "--items i.csv"})
    assert exc.message == "segments and --orders o.csv share nothing"
    assert str(exc) == "segments and --orders o.csv share nothing\n  hint: h"


def test_error_without_tables_is_not_renamed() -> None:
    exc = DataError("{--orders} stays as written")
    exc.name_tables({"--orders": "--orders o.csv"})
    assert exc.message == "{--orders} stays as written"
