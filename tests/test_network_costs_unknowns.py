"""What network, costs and the report say where nothing is known: no delivery promise set
(delivery_promise_* were written 0.00, a promise kept for free) and customers network left out
unlocated (transport_cost was written 0, which network's table and the report summed)."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

# One site at 0 N 0 E; c1 one degree of longitude east on the equator, 5 units; c2's return
# cancels its purchase (no demand); c3 has no location (left out with --skip-unlocated).
SEGMENTS = (
    "customer_id,segment,segment_rank,lat,lon,demand\n"
    "c1,Gold,1,0.0,1.0,5\n"
    "c2,Gold,1,0.0,2.0,0\n"
    "c3,Gold,1,,,7\n"
)
SITES = "site_id,lat,lon,fixed_cost\nS1,0.0,0.0,100\n"
ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,c1,A,5,10\n"
    "2,2024-01-09,c2,A,2,10\n"
    "C3,2024-01-16,c2,A,-2,10\n"
    "4,2024-01-31,c3,A,7,10\n"
)
# A degree of a great circle on a sphere of the mean Earth radius (IUGG, 6371.0088 km).
KM_PER_DEGREE = 2 * math.pi * 6371.0088 / 360


def _network(cli, tmp_path: Path, *extra: str):
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli(
        "network", "seg.csv", "--sites", "sites.csv", "--skip-unlocated", *extra,
        "--sites-out", "sites_out.csv", "-o", "asg.parquet",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result, pl.read_parquet(tmp_path / "asg.parquet")


def _costs(cli, tmp_path: Path):
    (tmp_path / "orders.csv").write_text(ORDERS)
    result = cli(
        "costs", "seg.csv", "--orders", "orders.csv", "--assignments", "asg.parquet",
        "--sites", "sites_out.csv", "-o", "costs.parquet",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result, pl.read_parquet(tmp_path / "costs.parquet")


def test_network_writes_no_transport_cost_for_a_customer_left_out_unlocated(
    cli, tmp_path: Path
) -> None:
    result, asg = _network(cli, tmp_path)
    got = {r["customer_id"]: r["transport_cost"] for r in asg.iter_rows(named=True)}
    # c1: 5 units x 1 degree of the equator at the default 1 per unit and km.
    assert got["c1"] == pytest.approx(5 * KM_PER_DEGREE, rel=1e-9)
    assert got["c2"] == 0.0  # nothing to deliver: free, truly
    assert got["c3"] is None  # 7 units no lane prices: unknown, was 0.0
    said = " ".join(result.stderr.replace("segchain network: ", "").split())
    assert (
        f"transport {5 * KM_PER_DEGREE:,.2f} = total {100 + 5 * KM_PER_DEGREE:,.2f} (optimal, "
        "gap 0.00e+00); the transport of 1 customer left out without coordinates is unknown, "
        "not in the total (transport_cost empty)"
    ) in said, result.stderr


def test_report_network_cost_says_whose_transport_is_unknown(cli, tmp_path: Path) -> None:
    _network(cli, tmp_path)
    result = cli("report", "asg.parquet", "sites_out.csv", "-o", "report.md")
    assert result.exit_code == 0, result.stderr
    text = " ".join((tmp_path / "report.md").read_text().split())
    assert (
        "transport of 1 customer unknown, not in the total (left out unlocated: no location "
        "to price a lane to)"
    ) in text.replace("\\", "")


def test_costs_leave_delivery_promise_empty_when_no_promise_is_set(cli, tmp_path: Path) -> None:
    # No config: no segment has a max_delivery_days, so there is no promise to cost. The old
    # code wrote 0.00 in delivery_promise_* (a promise kept at no cost).
    _network(cli, tmp_path)
    result, costs = _costs(cli, tmp_path)
    for c in ("delivery_promise_transport", "delivery_promise_fixed", "delivery_promise_cost"):
        assert costs[c].to_list() == [None], c
    said = " ".join(result.stderr.replace("segchain costs: ", "").split())
    assert (
        "delivery_promise_* are empty: no segment has a delivery promise (max_delivery_days "
        "in the config's [segments]), so there is none to cost"
    ) in said
    assert "promise columns are empty" not in said  # nothing failed to travel


def test_costs_price_a_promise_that_changed_nothing_at_zero(cli, tmp_path: Path) -> None:
    # A promise of 1 day at 500 km a day: c1, 111 km away, is within it with or without the
    # promise, so the promise costs nothing: 0, not empty.
    (tmp_path / "segchain.toml").write_text('[segments."Gold"]\nmax_delivery_days = 1\n')
    _network(cli, tmp_path)
    _, costs = _costs(cli, tmp_path)
    assert costs["delivery_promise_cost"].to_list() == [0.0]


def test_report_says_no_delivery_promise_rather_than_costing_it(cli, tmp_path: Path) -> None:
    _network(cli, tmp_path)
    _costs(cli, tmp_path)
    result = cli("report", "asg.parquet", "sites_out.csv", "costs.parquet", "-o", "report.md")
    assert result.exit_code == 0, result.stderr
    text = " ".join((tmp_path / "report.md").read_text().replace("\\", "").split())
    assert (
        "Delivery: no segment has a delivery promise (no max_delivery_days in the config), so "
        "none is costed."
    ) in text
    assert "delivery promise cost" not in text
