"""A blank segment in a segments table, and a damaged policy table given to report.

A segments row whose segment cell was left blank was handled three ways: costs refused it ('1
row with a blank segment (row 3)'), forecast left the customer's lines out as 'without a segment
in SEGMENTS' and put that down to another Unicode form of an id that matched ('C3' / 'C3'; with
every segment blank, 'no order line left to forecast after joining to SEGMENTS'), and network
planned the customer in a segment 'all' without a word. forecast and network now refuse it as
costs does; a CUSTOMERS table without a segment column is still one segment 'all'.

A policy table without safety_stock (or reorder_point) was called an item master (its sku and
unit_cost) or stock on hand (its on_hand) and skipped, and with it the Inventory section; alone it
left 'no table to report on' (exit 2). It is now refused as the other damaged tables are (exit 1),
naming the column it lacks; an item master and stock on hand are still skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from segchain.errors import DataError

ORDERS_HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"
# Three customers, 30 weeks each.
ORDERS = ORDERS_HEADER + "".join(
    f"{1 + c * 30 + w},{dt.date(2024, 1, 1) + dt.timedelta(days=7 * w)},{cid},A,{w % 3 + 1},10\n"
    for c, cid in enumerate(("C1", "C2", "C3"))
    for w in range(30)
)
SEGMENTS = "customer_id,segment\nC1,Gold\nC2,Silver\nC3,\n"
BLANK_SEGMENT = "SEGMENTS segments.csv: 1 row with a blank segment (row 3)"
SEGMENT_HINT = "give segment's output: one row per customer, each with its customer_id and segment"
CUSTOMERS = (
    "customer_id,segment,quantity,lat,lon\n"
    "C1,Gold,10,52.5,13.4\nC2,Silver,10,48.1,11.6\nC3,,10,50.1,8.7\n"
)
SITES = "site_id,lat,lon\nS1,50.0,9.0\n"


def error_line(stderr: str, command: str) -> str:
    """The error's line without its command: what every stage says of the same table."""
    prefix = f"segchain {command}: Error: "
    lines = [line for line in stderr.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, stderr
    return lines[0][len(prefix) :]


# ---- forecast ----------------------------------------------------------------------------------


def test_forecast_refuses_a_blank_segment_naming_its_row(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "segments.csv").write_text(SEGMENTS)
    result = cli(
        "forecast", "segments.csv", "--orders", "orders.csv", "--models", "WindowAverage",
        "-o", "fc.csv",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert f"segchain forecast: Error: {BLANK_SEGMENT}\n" in result.stderr
    assert f"hint: {SEGMENT_HINT}" in result.stderr
    # Not the customer 'without a segment', nor another Unicode form of an id that matched.
    assert "Unicode" not in result.stderr
    assert "without a segment" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "fc.csv").exists()


def test_forecast_refuses_segments_whose_every_segment_is_blank(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "segments.csv").write_text("customer_id,segment\nC1,\nC2, \nC3,\n")
    result = cli(
        "forecast", "segments.csv", "--orders", "orders.csv", "--models", "WindowAverage",
        "-o", "fc.csv",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert (
        "segchain forecast: Error: SEGMENTS segments.csv: 3 rows with a blank segment "
        "(rows 1, 2, 3)\n"
    ) in result.stderr
    assert "no order line left to forecast" not in result.stderr
    assert not (tmp_path / "fc.csv").exists()


def test_build_series_names_blank_customer_ids_and_segments_at_once() -> None:
    from segchain.forecast.series import build_series

    orders = pl.read_csv(ORDERS.encode(), schema_overrides={"order_date": pl.Date})
    segments = pl.DataFrame({"customer_id": ["C1", None, "C3"], "segment": ["Gold", "B", None]})
    with pytest.raises(DataError) as caught:
        build_series(orders, segments)
    assert str(caught.value).startswith(
        "segments: 1 row with a blank customer_id (row 2); 1 row with a blank segment (row 3)"
    ), str(caught.value)


# ---- network -----------------------------------------------------------------------------------


def test_network_refuses_a_blank_segment_naming_its_row(cli, tmp_path: Path) -> None:
    (tmp_path / "cust.csv").write_text(CUSTOMERS)
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli("network", "cust.csv", "--sites", "sites.csv", "-o", "asg.csv")
    assert result.exit_code == 1, result.stderr
    assert "segchain network: Error: CUSTOMERS cust.csv: 1 row with a blank segment (row 3)\n" in (
        result.stderr
    )
    assert "a segment (or no segment column: every customer in one segment 'all')" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "asg.csv").exists()


def test_network_lists_a_blank_segment_with_the_tables_other_problems(cli, tmp_path: Path) -> None:
    (tmp_path / "cust.csv").write_text(
        "customer_id,segment,quantity,lat,lon\nC1,Gold,10,52.5,13.4\n,Silver,10,48.1,11.6\n"
        "C3, ,10,50.1,8.7\n"
    )
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli("network", "cust.csv", "--sites", "sites.csv", "-o", "asg.csv")
    assert result.exit_code == 1, result.stderr
    assert (
        "CUSTOMERS cust.csv: 1 row with a blank customer_id (row 2); 1 row with a blank segment "
        "(row 3)\n"
    ) in result.stderr
    assert not (tmp_path / "asg.csv").exists()


def test_network_without_a_segment_column_still_plans_one_segment_all(cli, tmp_path: Path) -> None:
    # Kept as it was (passes on the old code too): no segment column is one segment, 'all'.
    (tmp_path / "cust.csv").write_text(
        "customer_id,quantity,lat,lon\nC1,10,52.5,13.4\nC2,10,48.1,11.6\n"
    )
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli("network", "cust.csv", "--sites", "sites.csv", "-o", "asg.csv")
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "asg.csv")["segment"].to_list() == ["all", "all"]


# ---- one wording in costs, forecast and network --------------------------------------------------


def test_costs_forecast_and_network_say_a_blank_segment_alike(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "segments.csv").write_text(SEGMENTS)
    (tmp_path / "cust.csv").write_text(CUSTOMERS)
    (tmp_path / "sites.csv").write_text(SITES)
    costs = cli("costs", "segments.csv", "--orders", "orders.csv", "-o", "c.csv")
    forecast = cli(
        "forecast", "segments.csv", "--orders", "orders.csv", "--models", "WindowAverage",
        "-o", "fc.csv",
    )  # fmt: skip
    network = cli("network", "cust.csv", "--sites", "sites.csv", "-o", "asg.csv")
    assert (costs.exit_code, forecast.exit_code, network.exit_code) == (1, 1, 1)
    said = error_line(costs.stderr, "costs")
    assert said == BLANK_SEGMENT
    assert error_line(forecast.stderr, "forecast") == said
    assert error_line(network.stderr, "network") == said.replace(
        "SEGMENTS segments.csv", "CUSTOMERS cust.csv"
    )
    assert not any((tmp_path / n).exists() for n in ("c.csv", "fc.csv", "asg.csv"))


# ---- report: a damaged policy table ------------------------------------------------------------


def policy_without(cli, tmp_path: Path, column: str, *, on_hand: bool = False) -> Path:
    """stock's policy table as written, less ``column``: ``pol_no_<column>.csv``."""
    (tmp_path / "fc.csv").write_text(
        "sku,ds,forecast,error_sd\nA,2025-01-06,10,1\nA,2025-01-13,10,1\n"
    )
    extra = []
    if on_hand:
        (tmp_path / "oh.csv").write_text("sku,on_hand\nA,3\n")
        extra = ["--on-hand", "oh.csv"]
    stock = cli("stock", "fc.csv", *extra, "-o", "pol.csv")
    assert stock.exit_code == 0, stock.stderr
    with open(tmp_path / "pol.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert column in rows[0]
    out = tmp_path / f"pol_no_{column}.csv"
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[k for k in rows[0] if k != column])
        writer.writeheader()
        writer.writerows({k: v for k, v in row.items() if k != column} for row in rows)
    return out


@pytest.mark.parametrize("column", ["safety_stock", "reorder_point"])
@pytest.mark.parametrize("on_hand", [False, True], ids=["plain", "on_hand"])
def test_report_refuses_a_policy_table_without_a_column_it_needs(
    cli, tmp_path: Path, column: str, on_hand: bool
) -> None:
    damaged = policy_without(cli, tmp_path, column, on_hand=on_hand)
    result = cli("report", damaged.name, "-o", "r.html")
    assert result.exit_code == 1, result.stderr
    error = error_line(result.stderr, "report")
    assert error.startswith(f"{damaged.name}: not a segchain stage output; columns sku, "), error
    assert "it has columns only stock's policy table has (service_target, " in error
    assert f"but lacks {column}: give the policy as segchain stock wrote it. " in error
    assert "policy: sku, safety_stock, reorder_point" in error
    assert "an input the report does not read" not in result.stderr
    assert "no table to report on" not in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_refuses_a_damaged_policy_beside_other_tables(cli, tmp_path: Path) -> None:
    # Beside a table it reads, the report was written without its Inventory section (exit 0).
    damaged = policy_without(cli, tmp_path, "safety_stock")
    (tmp_path / "orders.csv").write_text(ORDERS)
    seg = cli("segment", "orders.csv", "-o", "segments.csv")
    assert seg.exit_code == 0, seg.stderr
    result = cli("report", "segments.csv", damaged.name, "-o", "r.html")
    assert result.exit_code == 1, result.stderr
    assert "but lacks safety_stock" in error_line(result.stderr, "report")
    assert not (tmp_path / "r.html").exists()


def test_input_kind_of_a_policy_less_a_key_column() -> None:
    from segchain.report import input_kind

    policy = ["sku", "segment", "service_target", "policy_type", "safety_stock", "reorder_point"]
    policy += ["order_up_to", "unit_cost", "unit_cost_source", "inventory_value", "on_hand"]
    for column in ("safety_stock", "reorder_point"):
        assert input_kind([c for c in policy if c != column]) is None


# ---- report: an item master and stock on hand are still skipped (pass on the old code too) ----


@pytest.mark.parametrize(
    ("name", "text", "what"),
    [
        ("items.csv", "sku,site,description,unit_cost,order_cost,holding_rate,lead_time_days,"
         "lead_time_sd_days,moq,pack_size\nA,,Oak,3.7,46,0.29,42,0.2,12,12\n",
         "an item master (stock's and costs' --items)"),
        # An ERP's item master may carry its own safety stock, reorder point or order quantity.
        ("erp_items.csv", "sku,unit_cost,lead_time_days,safety_stock,order_qty\nA,3,14,5,20\n",
         "an item master (stock's and costs' --items)"),
        ("erp_items2.csv", "sku,unit_cost,reorder_point,eoq,review_days\nA,3,5,20,7\n",
         "an item master (stock's and costs' --items)"),
        ("on_hand.csv", "sku,site,on_hand\nA,DC-FRA,82\n", "stock on hand (stock's --on-hand)"),
        ("stock.csv", "sku,on_hand,on_order,backorders,inventory_value,mean_demand\nA,8,2,0,30,4\n",
         "stock on hand (stock's --on-hand)"),
    ],
)  # fmt: skip
def test_report_still_skips_an_item_master_and_stock_on_hand(
    cli, tmp_path: Path, name: str, text: str, what: str
) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    seg = cli("segment", "orders.csv", "-o", "segments.csv")
    assert seg.exit_code == 0, seg.stderr
    (tmp_path / name).write_text(text)
    result = cli("report", "segments.csv", name, "-o", "r.md")
    assert result.exit_code == 0, result.stderr
    assert f"segchain report: {name}: {what}, an input the report does not read: skipped\n" in (
        result.stderr
    )
    assert (tmp_path / "r.md").exists()


@pytest.mark.parametrize(
    "columns",
    [
        # stock --segments-out's columns as written (a stage output of its own): damaged, it is
        # not a damaged policy, though it shares service_measure, expected_fill_rate, ... with it.
        ["site", "sku", "segment", "priority", "service_measure", "service_level",
         "reserve_level", "expected_fill_rate", "expected_csl", "demand_share",
         "inventory_share", "avg_inventory", "inventory_value", "available_to_promise"],
        # A forecast without its ds: its demand_class is a forecast's too.
        ["unique_id", "forecast", "site", "segment", "sku", "model", "reconciliation",
         "demand_class", "mean_demand", "error_sd", "freq", "segment_rank"],
    ],
)  # fmt: skip
def test_other_stages_tables_are_not_read_as_a_damaged_policy(columns) -> None:
    from segchain.report import damaged_policy

    assert damaged_policy(columns) == ([], [])


def test_stock_refuses_a_blank_segment_in_its_segments(cli, tmp_path: Path) -> None:
    # Its customer's held-out demand was put down to a customer in no segment (one first seen
    # after the segments were made).
    (tmp_path / "fc.csv").write_text("sku,ds,forecast,error_sd\nA,2024-05-20,4,1\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-05-06,C1,A,4,10\n2,2024-05-08,C2,A,3,10\n"
    )
    (tmp_path / "seg.csv").write_text("customer_id,segment\nC1,Gold\nC2,\n")
    out = tmp_path / "p.csv"
    result = cli(
        "stock", str(tmp_path / "fc.csv"), "--orders", str(tmp_path / "orders.csv"),
        "--segments", str(tmp_path / "seg.csv"), "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert f"--segments {tmp_path / 'seg.csv'}: 1 row with a blank segment (row 2)" in said
    assert (
        "give segment's output: one row per customer, each with its customer_id and segment" in said
    )
    assert not out.exists()
