"""A warning about one of a command's input tables names that table's file, as its errors do.

forecast, stock, costs and network read two tables or more, and said '3 order lines of 1
customer without a segment left out' or '1 customer without coordinates left out' without
saying of which file (session 34). Each such warning now begins with the table's option or
argument and file (``--orders orders.csv: ...``, ``CUSTOMERS c.csv: ...``) and names the other
table where the warning is about the two (``without a segment in SEGMENTS seg.csv``)."""

from __future__ import annotations

from pathlib import Path

# Three weeks of two customers; C2 is in no segment; a postage line (non-product).
ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-03-04,C1,P1,2,10\n"
    "2,2024-03-11,C1,P1,3,10\n"
    "3,2024-03-18,C1,P1,1,10\n"
    "4,2024-03-18,C1,POST,1,5\n"
    "5,2024-03-11,C2,P1,4,10\n"
    "6,2024-03-18,C2,P1,2,10\n"
)
SEGMENTS = "customer_id,segment\nC1,A\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return name


def warnings_of(stderr: str) -> list[str]:
    return [line.split("Warning: ", 1)[1] for line in stderr.splitlines() if "Warning: " in line]


def test_forecast_warnings_about_the_orders_name_the_orders_file(cli, tmp_path: Path) -> None:
    orders = write(tmp_path, "o.csv", ORDERS)
    seg = write(tmp_path, "seg.csv", SEGMENTS)
    result = cli("forecast", seg, "--orders", orders, "--horizon", "2", "-o", "fc.csv")
    assert result.exit_code == 0, result.stderr
    said = warnings_of(result.stderr)
    assert "--orders o.csv: 1 non-product order line (postage, fees) left out" in said
    # Lines of the orders left out for want of a row in SEGMENTS: both files named.
    assert (
        "--orders o.csv: 2 order lines of 1 customer without a segment in SEGMENTS seg.csv "
        "left out, e.g. 'C2'"
    ) in said


def test_forecast_warnings_name_stdin_orders_as_stdin(cli, tmp_path: Path) -> None:
    seg = write(tmp_path, "seg.csv", SEGMENTS)
    result = cli("forecast", seg, "--orders", "-", "--horizon", "2", "-o", "fc.csv", input=ORDERS)
    assert result.exit_code == 0, result.stderr
    assert "--orders <stdin>: 1 non-product order line (postage, fees) left out" in (
        warnings_of(result.stderr)
    )


def test_an_import_warning_of_the_orders_names_their_file(cli, tmp_path: Path) -> None:
    """The orders' own warnings (two currencies summed as one) came after the line naming the
    file, which --quiet hides and a log may split from them: they name it themselves."""
    lines = ORDERS.splitlines()
    lines = [lines[0] + ",currency"] + [
        f"{x},{'USD' if i == 0 else 'EUR'}" for i, x in enumerate(lines[1:])
    ]
    orders = write(tmp_path, "o.csv", "\n".join(lines) + "\n")
    seg = write(tmp_path, "seg.csv", SEGMENTS)
    result = cli("forecast", seg, "--orders", orders, "--horizon", "2", "-o", "fc.csv")
    assert result.exit_code == 0, result.stderr
    assert any(
        w.startswith("--orders o.csv: currency (currency): amounts in 2 currencies")
        for w in warnings_of(result.stderr)
    ), result.stderr


def test_network_names_the_customers_file_of_customers_left_out(cli, tmp_path: Path) -> None:
    customers = write(tmp_path, "c.csv", "customer_id,demand,lat,lon\nA,1,0,0\nB,1,,\n")
    sites = write(tmp_path, "s.csv", "site_id,lat,lon\nS,0,1\n")
    result = cli("network", customers, "--sites", sites, "--skip-unlocated", "-o", "a.csv")
    assert result.exit_code == 0, result.stderr
    assert warnings_of(result.stderr) == [
        "CUSTOMERS c.csv: 1 customer without coordinates left out (--skip-unlocated): "
        "customer_id 'B'"
    ]


def test_costs_names_the_orders_and_the_items_of_lines_without_a_unit_cost(
    cli, tmp_path: Path
) -> None:
    orders = write(tmp_path, "o.csv", ORDERS + "7,2024-03-18,C1,P2,1,10\n")
    seg = write(tmp_path, "seg.csv", "customer_id,segment\nC1,A\nC2,B\n")
    items = write(tmp_path, "items.csv", "sku,unit_cost\nP1,4\n")
    result = cli("costs", seg, "--orders", orders, "--items", items, "-o", "costs.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "--orders o.csv: 1 product line has a sku without unit_cost in --items items.csv: "
        "their customers' cogs is missing"
    ) in warnings_of(result.stderr)


def test_stock_names_the_on_hand_file_of_stock_without_demand(cli, tmp_path: Path) -> None:
    forecast = write(tmp_path, "fc.csv", "sku,ds,forecast,error_sd\nA,2025-01-06,10,2\n")
    on_hand = write(tmp_path, "oh.csv", "sku,on_hand\nA,1\nZZ,3\n")
    result = cli("stock", forecast, "--on-hand", on_hand, "-o", "p.csv")
    assert result.exit_code == 0, result.stderr
    assert any(
        w.startswith("--on-hand oh.csv: 1 on-hand row at 1 stocking point without forecast")
        for w in warnings_of(result.stderr)
    ), result.stderr


def test_a_stage_run_from_python_names_its_tables_by_their_words() -> None:
    """From Python there are no files: the stage's warning names the table as its errors do."""
    from segchain.errors import about, named_tables

    message = about("--orders", "2 lines of 1 customer without a segment in {SEGMENTS}",
                    {"SEGMENTS": "the segments"})  # fmt: skip
    assert message == "--orders: 2 lines of 1 customer without a segment in the segments"
    names = {"--orders": "--orders o.csv", "SEGMENTS": "SEGMENTS seg.csv"}
    assert named_tables(message, names) == (
        "--orders o.csv: 2 lines of 1 customer without a segment in SEGMENTS seg.csv"
    )
    assert named_tables("plain {SEGMENTS}", names) == "plain {SEGMENTS}"


# A two-sku forecast for stock; the item master below gives only sku A.
STOCK_FORECAST = "unique_id,ds,forecast,segment,sku,error_sd\n" + "".join(
    f"A/{sku},2024-04-{d:02d},3,A,{sku},1\n" for sku in ("P1", "P2") for d in (1, 8, 15)
)


def test_stock_items_defaults_line_names_the_items_file(cli, tmp_path: Path) -> None:
    """'1 of 2 items used default parameters (not in --items ...)' named the option and not
    its file, where stock's warnings about --items name it (session 35)."""
    fc = write(tmp_path, "fc.csv", STOCK_FORECAST)
    items = write(
        tmp_path,
        "items.csv",
        "sku,unit_cost,order_cost,holding_rate,lead_time_days,lead_time_sd_days,moq,pack_size\n"
        "P1,5,50,0.2,14,0,1,1\n",
    )
    result = cli("stock", fc, "--items", items, "-o", "p.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain stock: 1 of 2 items used default parameters (1 item not in --items "
        "items.csv): no unit_cost, order_cost = 50, holding_rate = 0.25, lead_time_days = 14, "
        "lead_time_sd_days = 0, moq = 0, pack_size = 1 (each for 1 item)\n"
    ) in result.stderr


def test_stock_price_line_names_the_orders_file(cli, tmp_path: Path) -> None:
    """Without unit costs, stock values a sku at its mean selling price in the orders: the
    line saying so named '--orders' without its file."""
    fc = write(tmp_path, "fc.csv", STOCK_FORECAST)
    orders = write(tmp_path, "o.csv", ORDERS)
    result = cli("stock", fc, "--orders", orders, "-o", "p.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain stock: 1 of 2 stocking points valued at their sku's mean selling price in "
        "--orders o.csv (no unit_cost in --items): inventory value at price, above cost\n"
    ) in result.stderr
