"""costs on inputs of one chain that do not line up as the raw ones did (an audit of costs'
options and inputs, session 59)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from segchain.costs.allocate import segment_inventory


def test_a_routed_policy_is_split_by_sku_when_its_sites_are_not_the_orders() -> None:
    """make demo's policy is planned at the sites network serves each customer from; the
    orders' site is where the goods shipped from in the past (DC-FRA, DC-PAR). Split per sku x
    site, every point at the network's other sites was no segment's: 226,212 of 296,579 of
    inventory in no segment's carrying cost, with a warning that no segment buys there."""
    policy = pl.DataFrame(
        {"sku": ["A", "A", "B"], "site": ["DC-BER", "DC-FRA", "DC-MUC"],
         "inventory_value": [100.0, 50.0, 30.0]}
    )  # fmt: skip
    lines = pl.DataFrame(
        {"segment": ["S1", "S2", "S1", "S2"], "sku": ["A", "A", "B", "B"],
         "site": ["DC-FRA", "DC-PAR", "DC-FRA", "DC-FRA"], "quantity": [3.0, 1.0, 1.0, 1.0]}
    )  # fmt: skip
    alloc, how, unattributed = segment_inventory(
        policy, stock_segments=None, forecast=None, lines=lines
    )
    assert unattributed == 0.0
    assert how == "each segment's share of the net units bought per sku"
    got = alloc.group_by("segment").agg(pl.col("inventory_value").sum()).sort("segment")
    # A: 150 split 3:1; B: 30 split 1:1.
    assert got.rows() == [("S1", pytest.approx(112.5 + 15.0)), ("S2", pytest.approx(37.5 + 15.0))]


def test_the_orders_own_sites_still_split_per_site() -> None:
    policy = pl.DataFrame({"sku": ["A", "A"], "site": ["X", "Y"], "inventory_value": [10.0, 10.0]})
    lines = pl.DataFrame(
        {"segment": ["S1", "S2"], "sku": ["A", "A"], "site": ["X", "Y"], "quantity": [1.0, 1.0]}
    )
    alloc, how, _ = segment_inventory(policy, stock_segments=None, forecast=None, lines=lines)
    assert how.endswith("per sku x site")
    assert sorted(alloc.select("segment", "site").rows()) == [("S1", "X"), ("S2", "Y")]


def test_a_rate_written_as_text_in_the_config_is_refused(cli, tmp_path: Path) -> None:
    """`cost_per_order = "8"` was taken as 8 without a word ("8,5" was refused); the README says
    a value that is not a number is a usage error."""
    config = tmp_path / "c.toml"
    config.write_text('[costs]\ncost_per_order = "8"\n')
    orders = tmp_path / "o.csv"
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-02,C1,A,1,2\n2,2024-02-02,C2,A,1,2\n"
    )
    segments = tmp_path / "s.csv"
    segments.write_text("customer_id,segment\nC1,S\nC2,S\n")
    out = tmp_path / "costs.csv"
    result = cli("costs", str(segments), "--orders", str(orders), "--config", str(config),
                 "-o", str(out))  # fmt: skip
    assert result.exit_code == 2
    assert (
        f"{config} [costs] cost_per_order: must be a number >= 0, written without quotes, got '8'"
    ) in result.stderr
    assert not out.exists()


def test_assignments_planned_on_another_period_are_said() -> None:
    """2025's orders against network's plan of 2023-2025: transport and fixed cost of three
    years charged against one year's revenue (Loyal at -4.7 % profit instead of +21.6 %),
    exit 0, nothing said."""
    from segchain.costs import _planned_units, other_period_warning

    assignments = pl.DataFrame(
        {"customer_id": ["C1", "C2", "C2"], "demand": [30.0, 20.0, 10.0]}
    )  # 60 units planned
    lines = pl.DataFrame(
        {"customer_id": ["C1", "C2", "C2", "C9"], "quantity": [12.0, 9.0, 2.0, 500.0]}
    )  # 23 units of the same customers (C9 is in no plan)
    mixed = _planned_units(assignments, lines, 362)
    assert mixed == {"planned": 60.0, "ordered": 23.0, "period_days": 362}
    assert other_period_warning(mixed).startswith(
        "the assignments: planned for 60 units; the same customers' net units in the orders: 23 "
        "over 362 days (38%): transport and warehouse fixed cost are the plan's"
    )
    same = lines.with_columns(pl.col("quantity") * 60.0 / 23.0)
    assert _planned_units(assignments, same.filter(pl.col("customer_id") != "C9"), 362) is None


def test_a_per_segment_stock_table_of_another_run_is_refused() -> None:
    """Run B's --segments-out (network --open 3) with run A's policy: half the inventory fell
    out of every segment, exit 0, said as 'no segment buys from' those points."""
    from segchain.errors import DataError

    policy = pl.DataFrame(
        {"sku": ["A", "A", "B"], "site": ["S1", "S2", "S1"], "mean_demand": [1.0, 2.0, 0.0],
         "inventory_value": [10.0, 20.0, 5.0]}
    )  # fmt: skip
    ours = pl.DataFrame(
        {"sku": ["A", "A", "A"], "site": ["S1", "S2", "S2"], "segment": ["X", "X", "Y"],
         "inventory_value": [10.0, 15.0, 5.0]}
    )  # fmt: skip
    # B@S1 has no demand, so no segment rows: the same run.
    alloc, _, unattributed = segment_inventory(policy, stock_segments=ours, forecast=None,
                                               lines=pl.DataFrame())  # fmt: skip
    assert unattributed == 5.0
    theirs = ours.filter(pl.col("site") == "S1").vstack(
        pl.DataFrame({"sku": ["C"], "site": ["S9"], "segment": ["X"], "inventory_value": [1.0]})
    )
    with pytest.raises(DataError) as err:
        segment_inventory(policy, stock_segments=theirs, forecast=None, lines=pl.DataFrame())
    assert str(err.value).startswith(
        "--stock-segments is of another stock run than --policy: it has 1 stocking point the "
        "policy does not ('C@S9'), and lacks 1 of the policy's stocking points with demand "
        "('A@S2')"
    )


ASSIGNMENTS = pl.DataFrame(
    {"customer_id": ["C1", "C2", "C3"], "site_id": ["S1", "S1", "S2"], "share": [1.0] * 3,
     "demand": [10.0, 5.0, 7.0]}
)  # fmt: skip


def test_a_site_serving_customers_but_marked_closed_is_refused() -> None:
    """DC-BER serves 128 customers in the assignments, marked open = false in the sites table:
    its 70,040 of fixed cost vanished, exit 0, nothing said."""
    from segchain.costs.allocate import fixed_by_customer
    from segchain.errors import DataError

    sites = pl.DataFrame({"site_id": ["S1", "S2"], "fixed_cost": [100.0, 50.0],
                          "open": [True, False]})  # fmt: skip
    with pytest.raises(DataError) as err:
        fixed_by_customer(ASSIGNMENTS, sites)
    assert str(err.value).startswith(
        "1 site that the sites table marks closed serves customers in the assignments: 'S2'"
    )


def test_a_sites_table_of_another_network_run_is_refused() -> None:
    """Run B's assignments (3 sites open) with run A's --sites-out (8 open): 291,230 of idle
    sites' fixed cost charged to every customer, with a note --quiet hides."""
    from segchain.costs.allocate import fixed_by_customer
    from segchain.errors import DataError

    ours = pl.DataFrame(
        {"site_id": ["S1", "S2", "S3"], "fixed_cost": [100.0, 50.0, 0.0],
         "open": [True, True, False], "demand_served": [15.0, 7.0, 0.0]}
    )  # fmt: skip
    fixed, total, _ = fixed_by_customer(ASSIGNMENTS, ours)
    assert total == 150.0
    assert fixed.get_column("warehouse_fixed").sum() == pytest.approx(150.0)
    theirs = ours.with_columns(pl.Series("demand_served", [9.0, 7.0, 6.0]),
                               pl.Series("open", [True, True, True]))  # fmt: skip
    with pytest.raises(DataError) as err:
        fixed_by_customer(ASSIGNMENTS, theirs)
    assert str(err.value).startswith(
        "the sites table is of another network run than the assignments: 2 open sites serve "
        "other demand "
        "than the assignments give them (site_id 'S1': demand_served 9.00, assigned 15.00)"
    )


def test_assignments_of_another_segmentation_are_said_so() -> None:
    """costs with ABC-XYZ segments and network's assignments planned on RFM ones: the promise
    columns were empty, said as 'carries no network's comparison ... in its metadata', and the
    rerun of network it asked for changed nothing."""
    from types import SimpleNamespace

    from segchain.cli.costs import _other_segments

    planned = SimpleNamespace(metadata={"promise": [{"segment": "Champions"}, {"segment": "Lost"}]})
    assert (
        _other_segments(planned, pl.DataFrame({"segment": ["AX", "BY"]})) == "'Champions', 'Lost'"
    )
    assert _other_segments(planned, pl.DataFrame({"segment": ["Lost", "New"]})) is None
