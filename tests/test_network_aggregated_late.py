"""network with customers aggregated into demand points (--max-points): a customer served late
because its point, promised at its centre, went to one site is not out of every site's reach.
It was said to be ("no site can reach them in time, so they go to their cheapest site"):
Superstore with --max-points 60 had 13 customers late, each within 2 days of some site."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

CONFIG = '[segments."*"]\nmax_delivery_days = 1\n\n[network]\nkm_per_day = 300\n'
# Two customers of one segment 6 degrees of longitude apart at 50 N, a site at each.
CUSTOMERS = "customer_id,segment,lat,lon,demand\nc1,Gold,50,8,10\nc2,Gold,50,14,10\n"
SITES = "site_id,lat,lon\nS1,50,8\nS2,50,14\n"


def _network(cli, tmp_path: Path, *extra: str):
    (tmp_path / "segchain.toml").write_text(CONFIG)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli("network", "customers.csv", "--sites", "sites.csv", *extra, "-o", "asg.csv")
    assert result.exit_code == 0, result.stderr
    return result, pl.read_csv(tmp_path / "asg.csv")


def test_network_says_a_customer_late_by_aggregation_is_within_reach(cli, tmp_path: Path) -> None:
    # Great-circle distance on a 6371.0088 km sphere (haversine, by hand).
    half = math.cos(math.radians(50)) * math.sin(math.radians(3))
    apart = 2 * 6371.0088 * math.asin(half)
    assert apart / 300 > 1  # one site cannot keep both promises: one customer is late
    result, asg = _network(cli, tmp_path, "--max-points", "1")
    late = asg.filter(~pl.col("sla_met"))
    assert late.height == 1
    assert late["distance_km"].item() == pytest.approx(apart)
    said = " ".join(result.stderr.replace("segchain network: ", "").split())
    assert (
        "Warning: 1 customer is served beyond its delivery promise (sla_met = false): each can "
        "be reached in time from some site, but the customers were aggregated into demand "
        "points (--max-points), each served by one site that keeps the promise at the point's "
        "centre: raise --max-points to plan closer to each customer"
    ) in said, result.stderr
    assert "no site can reach" not in said


def test_network_without_aggregation_keeps_both_promises(cli, tmp_path: Path) -> None:
    result, asg = _network(cli, tmp_path)
    assert asg["sla_met"].all()
    assert "served beyond" not in result.stderr


def test_network_with_lanes_says_no_site_with_a_lane_reaches_them(cli, tmp_path: Path) -> None:
    # --costs gives c2 a lane from S1 only, 429 km away (1.4 days at 300 km a day): S2, at
    # c2's door, has no lane to it. "No site can reach them in time" was not so.
    (tmp_path / "lanes.csv").write_text(
        "site_id,customer_id,unit_cost\nS1,c1,0\nS2,c1,5\nS1,c2,4\n"
    )
    result, asg = _network(cli, tmp_path, "--costs", "lanes.csv")
    assert asg.filter(~pl.col("sla_met"))["customer_id"].to_list() == ["c2"]
    said = " ".join(result.stderr.replace("segchain network: ", "").split())
    assert (
        "Warning: 1 customer is served beyond its delivery promise (sla_met = false): no site "
        "with a lane to them in --costs can reach them in time, so they go to their cheapest open "
        "site"
    ) in said, result.stderr
