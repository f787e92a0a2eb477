"""UCI Online Retail: cost to serve from the raw export, each total reconciled with its source
table (computed here independently), costs without an input left empty."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest


def _retail(shared_data: Path) -> Path:
    path = shared_data / "online_retail" / "online_retail.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent")
    return path


def test_online_retail_costs_from_the_raw_export_reconcile(cli, shared_data: Path, tmp_path: Path):
    source = _retail(shared_data)
    orders, segments = tmp_path / "orders.parquet", tmp_path / "segments.parquet"
    assert (
        cli("validate", str(source), "--preset", "online-retail", "-o", str(orders)).exit_code == 0
    )
    assert cli("segment", str(orders), "-o", str(segments)).exit_code == 0
    assign, sites = tmp_path / "assignments.parquet", tmp_path / "sites.csv"
    result = cli(
        "network", str(segments), "--candidates", "5", "--skip-unlocated",
        "--sites-out", str(sites), "-o", str(assign),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    config = tmp_path / "segchain.toml"
    config.write_text("[costs]\ncost_per_order = 5.0\ncost_per_line = 0.4\ncost_per_return = 3.0\n")
    out = tmp_path / "costs.csv"
    result = cli(
        "costs", str(segments), "--orders", str(source), "--preset", "online-retail",
        "--assignments", str(assign), "--sites", str(sites), "--config", str(config),
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "NOT reconciled" not in result.stderr
    costs = pl.read_csv(out)

    lines = pl.read_parquet(orders)
    seg = pl.read_parquet(segments)
    product = lines.filter(
        pl.col("flag").is_null() | (pl.col("flag") != "non_product"),
        pl.col("customer_id").is_in(seg["customer_id"].implode()),
    )
    sales = product.filter(pl.col("flag").is_null() | (pl.col("flag") != "return"))
    returns = product.filter(pl.col("flag") == "return")
    a = pl.read_parquet(assign)
    s = pl.read_csv(sites)

    def cents(x: float) -> int:
        return round(x * 100)

    assert costs["customers"].sum() == seg.height
    assert cents(costs["revenue"].sum()) == cents(product["amount"].sum())
    assert (
        costs["orders"].sum()
        == sales.group_by("customer_id").agg(pl.col("order_id").n_unique())["order_id"].sum()
    )
    assert cents(costs["order_handling"].sum()) == cents(
        5.0 * costs["orders"].sum() + 0.4 * sales.height
    )
    assert cents(costs["returns_handling"].sum()) == cents(3.0 * returns.height)
    assert cents(costs["transport"].sum()) == cents(a["transport_cost"].fill_null(0).sum())
    assert cents(costs["warehouse_fixed"].sum()) == cents(
        s.filter(pl.col("open"))["fixed_cost"].fill_null(0).sum()
    )
    # No item master: the cost of goods, hence margin and profit, are unknown, not zero.
    assert costs["cogs"].null_count() == costs.height
    assert costs["profit"].null_count() == costs.height
    assert costs["costs_missing"].str.contains("cogs").all()
    assert costs["inventory_carrying"].null_count() == costs.height  # no policy given
