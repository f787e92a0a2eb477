"""costs of the customers network left out (listed with no site): one with no demand has
nothing to deliver, so no transport and no share of a site's fixed cost (0: its
warehouse_fixed was missing, and costs_missing listed 51 such customers on Online Retail);
one left out unlocated (--skip-unlocated) has demand no lane prices, so its transport is
unknown (it was the 0 its row carries) and said so."""

from __future__ import annotations

from pathlib import Path

import polars as pl

ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,c1,A,5,10\n"
    "2,2024-01-09,c2,A,2,10\n"
    "C3,2024-01-16,c2,A,-2,10\n"  # c2's return cancels its purchase: no demand
    "4,2024-02-06,c3,A,7,10\n"
)
SEGMENTS = "customer_id,segment,segment_rank\nc1,Gold,1\nc2,Gold,1\nc3,Gold,1\n"
# As network writes them with --skip-unlocated: c1 served by S1; c2 and c3 with no site.
ASSIGNMENTS = (
    "customer_id,segment,site_id,share,demand,transport_cost,left_out\n"
    "c1,Gold,S1,1.0,5,12.5,\n"
    "c2,Gold,,,0,0,no_demand\n"
    "c3,Gold,,,7,0,unlocated\n"
)
SITES = "site_id,open,fixed_cost\nS1,true,100\n"


def _costs(cli, tmp_path: Path, *extra: str):
    for name, text in (
        ("orders.csv", ORDERS),
        ("seg.csv", SEGMENTS),
        ("asg.csv", ASSIGNMENTS),
        ("sites.csv", SITES),
    ):
        (tmp_path / name).write_text(text)
    result = cli(
        "costs", "seg.csv", "--orders", "orders.csv", "--assignments", "asg.csv",
        "--sites", "sites.csv", *extra, "-o", "costs.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result, pl.read_csv(tmp_path / "costs.csv", schema_overrides={"customer_id": pl.String})


def test_costs_of_customers_left_out_by_network(cli, tmp_path: Path) -> None:
    _, table = _costs(cli, tmp_path, "--by", "customer")
    got = {r["customer_id"]: r for r in table.iter_rows(named=True)}
    # c1 alone is served by S1: all of its fixed cost and its lane's transport.
    assert (got["c1"]["transport"], got["c1"]["warehouse_fixed"]) == (12.5, 100.0)
    # c2 has nothing to deliver: no cost, not a missing one.
    assert (got["c2"]["transport"], got["c2"]["warehouse_fixed"]) == (0.0, 0.0)
    assert "transport" not in (got["c2"]["costs_missing"] or "")
    assert "warehouse_fixed" not in (got["c2"]["costs_missing"] or "")
    # c3 has 7 units that no lane delivers: unknown, not 0.
    assert (got["c3"]["transport"], got["c3"]["warehouse_fixed"]) == (None, None)
    assert "transport" in got["c3"]["costs_missing"]


def test_costs_say_the_unlocated_customers_transport_is_missing(cli, tmp_path: Path) -> None:
    result, table = _costs(cli, tmp_path)
    assert table.get_column("costs_missing").to_list() == [
        "cogs, order_handling, returns_handling, transport (1 customer), "
        "warehouse_fixed (1 customer), inventory_carrying"
    ]
    said = " ".join(result.stderr.replace("segchain costs: ", "").split())
    assert (
        "Warning: --assignments asg.csv: 1 customer left out by network without coordinates "
        "(left_out = unlocated): its transport and warehouse fixed cost are missing, not 0; "
        "place it (segment --geo, or a postal code, city or country) and rerun network"
    ) in said, result.stderr
    assert "no assignment" not in said
