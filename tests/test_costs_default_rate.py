"""costs says when the assignments' transport was priced at network's default rate (no freight
rate given): it adds that transport up as money in cost_to_serve, and said nothing, while
network and the report say it is no freight cost (Online Retail as the README runs it:
561,673,551 of transport, 100 % of cost to serve, on 8.3 million of revenue)."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

# c1 at the site, c2 one degree of latitude north of it: 6371.0088 km x pi / 180 away.
ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price,lat,lon\n"
    "1,2024-01-02,c1,A,3,10,50.0,8.0\n"
    "2,2024-01-09,c2,A,4,10,51.0,8.0\n"
    "3,2024-02-06,c2,A,6,10,51.0,8.0\n"
)
KM = 6371.0088 * math.pi / 180


def _chain(cli, tmp_path: Path, *network: str):
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "sites.csv").write_text("site_id,lat,lon\nS1,50.0,8.0\n")
    assert cli("segment", "orders.csv", "-o", "seg.parquet").exit_code == 0
    ran = cli("network", "seg.parquet", "--sites", "sites.csv", *network, "-o", "asg.parquet")
    assert ran.exit_code == 0, ran.stderr
    result = cli(
        "costs", "seg.parquet", "--orders", "orders.csv", "--assignments", "asg.parquet",
        "-o", "costs.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result, pl.read_csv(tmp_path / "costs.csv")


def test_costs_say_transport_at_the_default_rate_is_no_freight_cost(cli, tmp_path: Path) -> None:
    result, table = _chain(cli, tmp_path)
    transport = 10 * KM  # c2's 10 units x 111.2 km x 1; c1 is at the site
    assert table.get_column("transport").sum() == pytest.approx(transport)
    said = " ".join(result.stderr.replace("segchain costs: ", "").split())
    assert (
        f"Warning: --assignments asg.parquet: transport ({transport:,.0f}, 100% of "
        "cost_to_serve) is priced at network's default rate of 1 per unit of demand and km: no "
        "freight rate was given to network, so it is not your freight cost; rerun network with "
        "your rate (--cost-per-unit-km, or the config's [network] cost_per_unit_km) or lane "
        "costs (--costs), then costs"
    ) in said, result.stderr


def test_costs_say_nothing_of_a_rate_given(cli, tmp_path: Path) -> None:
    result, table = _chain(cli, tmp_path, "--cost-per-unit-km", "0.01")
    assert table.get_column("transport").sum() == pytest.approx(0.1 * KM)
    assert "default rate" not in result.stderr
