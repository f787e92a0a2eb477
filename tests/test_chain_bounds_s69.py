"""Session 69 (stage bounds): costs refused the policy stock wrote from inputs within their
bounds. A forecast of 1e15 units a week (the bound on a forecast) for ten years of lead time,
reviewed weekly, valued at a unit_cost of 1e15 (the bound on a cost), is a plan of about 4e31
in money; costs refused any inventory_value above 1e15 ('must be a finite number >= 0 up to
1e+15'), so the chain stock -> costs stopped at its second stage."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

# The largest in-bound forecast, as tests/test_hostile_network_stock.py plans it.
FORECAST = "sku,ds,forecast,error_sd\nP1,2025-01-06,1e15,1e15\nP1,2025-01-13,1e15,1e15\n"
ITEMS = "sku,unit_cost\nP1,1e15\n"
SEGMENTS = "customer_id,segment\nA,S1\nB,S1\n"
# 2024-01-02 to 2024-02-01: 31 days of orders, both end days counted (README, costs).
ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,A,P1,10,5.0\n"
    "2,2024-02-01,B,P1,4,5.0\n"
)


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def test_costs_reads_the_policy_stock_plans_at_the_bounds(cli, tmp_path: Path) -> None:
    items = write(tmp_path, "items.csv", ITEMS)
    policy = str(tmp_path / "policy.csv")
    fc = write(tmp_path, "fc.csv", FORECAST)
    args = ("--items", items, "--lead-time-days", "3660", "--policy", "RS", "--review-days", "7")
    planned = cli("stock", fc, *args, "-o", policy)
    assert planned.exit_code == 0, planned.stderr
    plan = pl.read_csv(policy)
    # By hand: the value is the average inventory in units x the unit cost, far above 1e15.
    value = plan["avg_inventory"][0] * 1e15
    assert plan["inventory_value"][0] == pytest.approx(value, rel=1e-12)
    assert value > 1e30

    seg, lines = write(tmp_path, "seg.csv", SEGMENTS), write(tmp_path, "o.csv", ORDERS)
    out = tmp_path / "costs.csv"
    result = cli("costs", seg, "--orders", lines, "--policy", policy, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    row = pl.read_csv(out).row(0, named=True)
    assert row["period_days"] == 31
    assert row["inventory_value"] == pytest.approx(value, rel=1e-12)
    # Carried at the default holding rate, 0.25 a year, over 31 of 365.25 days; the only cost
    # given, so it is the whole cost to serve.
    carrying = value * 0.25 * 31 / 365.25
    assert row["inventory_carrying"] == pytest.approx(carrying, rel=1e-12)
    assert row["cost_to_serve"] == pytest.approx(carrying, rel=1e-12)


def test_costs_still_refuses_an_inventory_value_no_plan_reaches(cli, tmp_path: Path) -> None:
    # Above what stock can write from in-bound inputs, a value is a damaged table, as before.
    policy = write(tmp_path, "policy.csv", "sku,inventory_value\nP1,1e300\n")
    seg, lines = write(tmp_path, "seg.csv", SEGMENTS), write(tmp_path, "o.csv", ORDERS)
    out = tmp_path / "costs.csv"
    result = cli("costs", seg, "--orders", lines, "--policy", policy, "-o", str(out))
    assert result.exit_code == 1
    assert "inventory_value must be a finite number >= 0 up to 1e+35, got 1e+300" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
