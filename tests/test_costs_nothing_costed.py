"""costs given orders and segments alone: revenue only, every cost empty, and stderr says so
with what each cost lacks (it ended 0 with every cost column blank and no word of it: The
Complete Journey, `costs --orders orders.parquet segments.parquet`)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from test_hostile_s46 import _orders

WHAT = "no cost could be computed, so gross_margin, cost_to_serve and profit are empty"


def _run(cli, tmp_path: Path, *extra: str):
    _orders(tmp_path / "orders.csv")
    assert cli("segment", "orders.csv", "-o", "seg.parquet").exit_code == 0
    result = cli("costs", "seg.parquet", "--orders", "orders.csv", *extra, "-o", "costs.csv")
    assert result.exit_code == 0, result.stderr
    return result, pl.read_csv(tmp_path / "costs.csv")


def _said(result) -> str:  # type: ignore[no-untyped-def]
    """stderr as one line, without the command's prefix (messages wrap)."""
    return " ".join(result.stderr.replace("segchain costs: ", "").split())


def test_costs_from_orders_alone_says_nothing_was_costed_and_why(cli, tmp_path: Path) -> None:
    result, table = _run(cli, tmp_path)
    # What the table holds: revenue, and not one cost.
    assert table.get_column("revenue").sum() > 0
    assert table.get_column("cost_to_serve").null_count() == table.height
    assert (
        f"Warning: {WHAT}: cogs (no items table with unit_cost); order_handling (no "
        "cost_per_order or cost_per_line in [costs]); returns_handling (no cost_per_return in "
        "[costs]); transport (no assignments); warehouse_fixed (needs both assignments and "
        "sites); inventory_carrying (no policy); give at least one of --items (unit_cost), "
        "--assignments (and --sites), --policy, or cost rates in the config's [costs]"
    ) in _said(result), result.stderr


def test_one_cost_given_is_no_longer_nothing(cli, tmp_path: Path) -> None:
    (tmp_path / "segchain.toml").write_text("[costs]\ncost_per_order = 2.0\n")
    result, table = _run(cli, tmp_path, "--config", "segchain.toml")
    # 2 per distinct order: the orders file has one line per order.
    orders = pl.read_csv(tmp_path / "orders.csv")
    assert table.get_column("order_handling").sum() == 2.0 * orders.height
    assert "no cost could be computed" not in result.stderr


def test_costs_without_unit_costs_say_profit_is_empty(cli, tmp_path: Path) -> None:
    # Superstore's export has no item master: costs with handling rates, transport and
    # inventory computes cost_to_serve, but every profit is empty, and stderr said nothing.
    (tmp_path / "segchain.toml").write_text("[costs]\ncost_per_order = 2.0\n")
    result, table = _run(cli, tmp_path, "--config", "segchain.toml")
    assert table.get_column("cost_to_serve").null_count() == 0
    assert table.get_column("profit").null_count() == table.height
    assert (
        "Warning: no unit costs (no --items with unit_cost), so cogs, gross_margin, profit and "
        "profit_share are empty in every row; cost_to_serve is computed. To know the profit, "
        "give --items with sku and unit_cost"
    ) in _said(result), result.stderr


def test_costs_with_unit_costs_do_not_say_profit_is_empty(cli, tmp_path: Path) -> None:
    (tmp_path / "segchain.toml").write_text("[costs]\ncost_per_order = 2.0\n")
    skus = pl.read_csv(_orders(tmp_path / "orders.csv")).get_column("sku").unique().sort()
    pl.DataFrame({"sku": skus, "unit_cost": [1.0] * skus.len()}).write_csv(tmp_path / "items.csv")
    result, table = _run(cli, tmp_path, "--config", "segchain.toml", "--items", "items.csv")
    assert table.get_column("profit").null_count() == 0
    assert "no unit costs" not in result.stderr
