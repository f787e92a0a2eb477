"""costs says when stock valued its stocking points at a selling price or at 1 a unit (run
without an item master's unit_cost): the inventory_carrying it adds to cost to serve is then
above what the stock costs, or a count of units. stock and the report's inventory section say
so; costs carried it without a word (Superstore, whose export has no item master: carrying
228,622 on Champions' 396,223 of revenue, at price)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,c1,A,5,10\n"
    "2,2024-03-09,c2,B,2,10\n"
    "3,2024-07-01,c1,C,1,10\n"
)
SEGMENTS = "customer_id,segment,segment_rank\nc1,Gold,1\nc2,Gold,1\n"


def _costs(cli, tmp_path: Path, sources: list[str]):
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    pl.DataFrame(
        {"sku": ["A", "B", "C"], "inventory_value": [100.0, 40.0, 2.0], "unit_cost_source": sources}
    ).write_csv(tmp_path / "policy.csv")
    result = cli(
        "costs", "seg.csv", "--orders", "orders.csv", "--policy", "policy.csv", "-o", "c.csv"
    )
    assert result.exit_code == 0, result.stderr
    return " ".join(result.stderr.replace("segchain costs: ", "").split()), pl.read_csv(
        tmp_path / "c.csv"
    )


def test_costs_say_inventory_not_valued_at_cost(cli, tmp_path: Path) -> None:
    said, table = _costs(cli, tmp_path, ["price", "items", "default"])
    # The value carried is the policy's, whatever its basis: 142 a year at stock's default 0.25
    # over the orders' 182 days (2024-01-02 to 2024-07-01, both counted).
    assert table.get_column("inventory_carrying").sum() == pytest.approx(142 * 0.25 * 182 / 365.25)
    assert (
        "Warning: --policy policy.csv: inventory is valued at its sku's mean selling price at 1 "
        "and at 1 a unit (no cost or price: a count of units) at 1 of 3 stocking points (stock "
        "had no unit_cost for them), so inventory_value and inventory_carrying are not at cost; "
        "rerun stock with --items giving each sku's unit_cost"
    ) in said


def test_costs_say_nothing_of_inventory_at_cost(cli, tmp_path: Path) -> None:
    said, _ = _costs(cli, tmp_path, ["items", "items", "items"])
    assert "not at cost" not in said
