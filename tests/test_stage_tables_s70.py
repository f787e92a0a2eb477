"""report reads the stage tables as the stages that read them next do (session 70).

report accepted, with exit 0 and a page of their figures, stage tables that stock or costs refuse
with one message: a forecast below zero, NaN or twice for one series and period (stock), a
policy valued at -100 or a stocking point on two rows, per-segment stock valued at NaN, an
assignment's share of 2 or a negative transport cost, a site's fixed cost below zero (costs), a
customer on two rows of the segments or with a blank segment (costs, forecast, network). It
also showed figures no stage checks that cannot be: a fill rate of 1.5, a share of customers of
2, an infinite safety stock, a segment's cost to serve of NaN, a segment on two rows of the
costs. Each is refused now (exit 1, the file, the value and its row, what to do), and an
existing report is left as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SEGMENTS = "customer_id,segment,segment_rank\nC1,Gold,1\nC2,Silver,2\n"
PROFILE = "segment,segment_rank,customers,share_customers\nGold,1,1,0.5\nSilver,2,1,0.5\n"
FORECAST = (
    "unique_id,ds,forecast,segment,sku\n"
    "Gold/A,2024-01-01,3,Gold,A\nGold/A,2024-01-08,4,Gold,A\n"
    "Silver/A,2024-01-01,2,Silver,A\nSilver/A,2024-01-08,1,Silver,A\n"
)
POLICY = (
    "sku,safety_stock,reorder_point,expected_fill_rate,avg_inventory,unit_cost,inventory_value\n"
    "A,2,5,0.95,7,10,70\nB,1,3,0.9,2,10,20\n"
)
STOCK_SEGMENTS = (
    "sku,segment,service_level,demand_share,inventory_share,inventory_value\n"
    "A,Gold,0.95,0.6,0.6,42\nA,Silver,0.9,0.4,0.4,28\n"
)
ASSIGNMENTS = (
    "customer_id,segment,site_id,share,distance_km,sla_days,sla_met,demand,transport_cost\n"
    "C1,Gold,S1,1,10,2,true,5,2\nC2,Silver,S1,1,20,2,true,4,3\n"
)
BACKTEST = "unique_id,segment,sku,model,mase,wape\nGold/A,Gold,A,AutoETS,0.8,0.3\n"
SITES = "site_id,lat,lon,open,fixed_cost,demand_served,customers\nS1,52.5,13.4,true,100,9,2\n"
COSTS = "segment,customers,revenue,cost_to_serve,profit\nGold,1,100,20,80\nSilver,1,50,10,40\n"


def damaged(table: str, old: str, new: str) -> str:
    assert old in table
    return table.replace(old, new, 1)


# (file, sound table, damaged table, what the message says of it)
CASES = {
    "segments twice": (
        "segments.csv",
        SEGMENTS,
        SEGMENTS + "C1,Gold,1\n",
        "1 customer_id is on more than one row: 'C1' (rows 1, 3)",
    ),
    "segment blank": (
        "segments.csv",
        SEGMENTS,
        damaged(SEGMENTS, "C2,Silver", "C2,"),
        "1 row with a blank segment (row 2)",
    ),
    "profile share": (
        "profile.csv",
        PROFILE,
        damaged(PROFILE, "1,0.5\nSilver", "1,2.0\nSilver"),
        "share_customers must be a finite number in [0, 1], got 2.0 for segment 'Gold'",
    ),
    "forecast negative": (
        "forecast.csv",
        FORECAST,
        damaged(FORECAST, "2024-01-08,4", "2024-01-08,-4"),
        "forecast must be a finite number >= 0 up to 1e+15, got -4.0 for unique_id@ds "
        "'Gold/A@2024-01-08'",
    ),
    "forecast NaN": (
        "forecast.csv",
        FORECAST,
        damaged(FORECAST, "2024-01-08,4", "2024-01-08,NaN"),
        "forecast must be a finite number >= 0 up to 1e+15, got nan for unique_id@ds "
        "'Gold/A@2024-01-08'",
    ),
    "forecast twice": (
        "forecast.csv",
        FORECAST,
        FORECAST + "Gold/A,2024-01-08,4,Gold,A\n",
        "1 unique_id@ds is on more than one row: 'Gold/A@2024-01-08' (rows 2, 5)",
    ),
    "forecast text": (
        "forecast.csv",
        FORECAST,
        damaged(FORECAST, "2024-01-08,4", "2024-01-08,four"),
        "column 'forecast' holds 1 value that is not a number: 'four'",
    ),
    "policy value": (
        "policy.csv",
        POLICY,
        damaged(POLICY, "10,70", "10,-70"),
        "inventory_value must be a finite number >= 0 up to 1e+35, got -70.0 for sku 'A'",
    ),
    "policy twice": (
        "policy.csv",
        POLICY,
        POLICY + "A,2,5,0.95,7,10,70\n",
        "1 sku is on more than one row: 'A' (rows 1, 3)",
    ),
    "policy fill rate": (
        "policy.csv",
        POLICY,
        damaged(POLICY, "0.95", "1.5"),
        "expected_fill_rate must be a finite number in [0, 1], got 1.5 for sku 'A'",
    ),
    "policy average inventory": (
        "policy.csv",
        POLICY,
        damaged(POLICY, "0.9,2,", "0.9,-4,"),
        "avg_inventory must be a finite number >= 0, got -4.0 for sku 'B'",
    ),
    "stock segments NaN": (
        "stock_segments.csv",
        STOCK_SEGMENTS,
        damaged(STOCK_SEGMENTS, "0.6,42", "0.6,NaN"),
        "inventory_value must be a finite number >= 0 up to 1e+35, got nan for sku@segment "
        "'A@Gold'",
    ),
    "stock segments share": (
        "stock_segments.csv",
        STOCK_SEGMENTS,
        damaged(STOCK_SEGMENTS, "0.6,0.6", "1.6,0.6"),
        "demand_share must be a finite number in [0, 1], got 1.6 for sku@segment 'A@Gold'",
    ),
    "assignment share": (
        "assignments.csv",
        ASSIGNMENTS,
        damaged(ASSIGNMENTS, "S1,1,10", "S1,2,10"),
        "share must be a finite number in [0, 1], got 2.0 for customer_id@site_id 'C1@S1'",
    ),
    "assignment transport": (
        "assignments.csv",
        ASSIGNMENTS,
        damaged(ASSIGNMENTS, "5,2\n", "5,-2\n"),
        "transport_cost must be a finite number >= 0 up to 1e+15, got -2.0 for "
        "customer_id@site_id 'C1@S1'",
    ),
    "site fixed cost": (
        "sites.csv",
        SITES,
        damaged(SITES, "true,100", "true,-100"),
        "fixed_cost must be a finite number >= 0 up to 1e+15, got -100.0 for site_id 'S1'",
    ),
    "backtest below zero": (
        "backtest.csv",
        BACKTEST,
        damaged(BACKTEST, "AutoETS,0.8", "AutoETS,-0.8"),
        "mase must be a finite number >= 0, got -0.8 for unique_id 'Gold/A'",
    ),
    "costs below zero": (
        "costs.csv",
        COSTS,
        damaged(COSTS, "100,20", "100,-20"),
        "cost_to_serve must be a finite number >= 0, got -20.0 for segment 'Gold'",
    ),
    "costs twice": (
        "costs.csv",
        COSTS,
        COSTS + "Gold,1,100,20,80\n",
        "1 segment is on more than one row: 'Gold' (rows 1, 3)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_report_refuses_a_damaged_stage_table(cli, tmp_path: Path, case: str) -> None:
    name, sound, broken, said = CASES[case]
    table = tmp_path / name
    table.write_text(sound)
    page = tmp_path / "report.html"
    # The sound table makes a report: the refusal below is of the damage, not of the table.
    assert cli("report", str(table), "-o", str(page)).exit_code == 0
    before = page.read_bytes()
    table.write_text(broken)
    result = cli("report", str(table), "-o", str(page))
    assert result.exit_code == 1, result.output
    assert f"{table}: {said}" in result.stderr
    assert "hint: " in result.stderr
    assert "Traceback" not in result.stderr
    assert page.read_bytes() == before


def test_report_lists_every_damaged_table_at_once(cli, tmp_path: Path) -> None:
    forecast, policy = tmp_path / "forecast.csv", tmp_path / "policy.csv"
    forecast.write_text(damaged(FORECAST, "2024-01-08,4", "2024-01-08,-4"))
    policy.write_text(damaged(POLICY, "0.95", "1.5"))
    result = cli("report", str(forecast), str(policy), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 1
    assert f"{forecast}: forecast must be" in result.stderr
    assert f"{policy}: expected_fill_rate must be" in result.stderr
    assert not (tmp_path / "r.html").exists()


ORDERS = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "".join(
    f"{i},2024-01-{i + 1:02d},{c},A,2,10\n" for i, c in enumerate(["C1", "C2"] * 5)
)


@pytest.mark.parametrize(
    ("option", "name", "table", "said"),
    [
        ("--policy", "policy.csv", damaged(POLICY, "10,70", "10,-70"), CASES["policy value"][3]),
        (
            "--assignments",
            "assignments.csv",
            damaged(ASSIGNMENTS, "5,2\n", "5,-2\n"),
            CASES["assignment transport"][3],
        ),
    ],
)
def test_costs_and_report_refuse_the_same_table_alike(
    cli, tmp_path: Path, option: str, name: str, table: str, said: str
) -> None:
    orders, segments, given = tmp_path / "orders.csv", tmp_path / "segments.csv", tmp_path / name
    orders.write_text(ORDERS)
    segments.write_text(SEGMENTS)
    given.write_text(table)
    costs = cli("costs", str(segments), "--orders", str(orders), option, str(given))
    report = cli("report", str(given), "-o", str(tmp_path / "r.html"))
    assert costs.exit_code == report.exit_code == 1
    assert f"{option} {given}: {said}" in costs.stderr
    assert f"{given}: {said}" in report.stderr


# ---- a workbook's tiny prices (item 2) ------------------------------------------------------
# ERP exports write a price as decimal text (0.000000000001, 1.23456789012E-05), and a workbook
# holds it as the double it is: fastexcel wrote a number cell's text to 9 decimals, so a price of
# 1e-12 was read as 0, the line a giveaway (flagged zero_price, left out of revenue), and
# 1.23456789012e-05 as 0.000012346. The prices below are the ones written into the workbook.
PRICES = (1e-12, 1.5e-9, 1.23456789012e-05, 0.1 + 0.2, 12.5)


def test_a_workbooks_tiny_prices_are_read_as_written(cli, tmp_path: Path) -> None:
    pytest.importorskip("xlsxwriter")
    import datetime as dt

    import polars as pl

    n = len(PRICES)
    export = pl.DataFrame(
        {
            "order_id": [str(i) for i in range(1, n + 1)],
            "order_date": [dt.date(2024, 3, i) for i in range(1, n + 1)],
            "customer_id": ["C1"] * n,
            "sku": ["4006381333931"] * n,
            "quantity": [2.0] * n,
            "unit_price": list(PRICES),
        }
    )
    export.write_excel(tmp_path / "export.xlsx")
    result = cli("validate", str(tmp_path / "export.xlsx"), "-o", str(tmp_path / "lines.csv"))
    assert result.exit_code == 0, result.stderr
    assert "zero_price" not in result.stderr
    lines = pl.read_csv(tmp_path / "lines.csv", schema_overrides={"sku": pl.String})
    assert lines["flag"].is_null().all()
    assert lines["sku"].to_list() == ["4006381333931"] * n
    # A spreadsheet saves 15 significant digits: 0.1 + 0.2 is its 0.3.
    assert lines["unit_price"].to_list() == [float(f"{p:.15g}") for p in PRICES]
    assert lines["amount"].to_list() == [2 * float(f"{p:.15g}") for p in PRICES]


# ---- rows of another run ----------------------------------------------------------------------
# Each figure is its own table's, so tables of two runs are warned of, not refused; a forecast
# by segment beside a profile or segments that share none of its segments passed without one.
@pytest.mark.parametrize(
    ("name", "table", "said"),
    [
        (
            "profile.csv",
            PROFILE.replace("Gold", "Champions").replace("Silver", "Loyal"),
            "the segment_profile (2 segments) and the forecast (2 segments) share no segment",
        ),
        (
            "segments.csv",
            SEGMENTS.replace("Gold", "Champions").replace("Silver", "Loyal"),
            "the segments (2 segments) and the forecast (2 segments) share no segment",
        ),
    ],
)
def test_report_warns_of_a_forecast_of_other_segments(
    cli, tmp_path: Path, name: str, table: str, said: str
) -> None:
    (tmp_path / "forecast.csv").write_text(FORECAST)
    (tmp_path / name).write_text(table)
    result = cli("report", "forecast.csv", name, "-o", "r.html")
    assert result.exit_code == 0, result.stderr
    assert f"{said}: tables of different runs?" in result.stderr
    # One run's tables: no such warning.
    (tmp_path / name).write_text(PROFILE if name == "profile.csv" else SEGMENTS)
    assert "share no segment" not in cli("report", "forecast.csv", name, "-o", "r.html").stderr
