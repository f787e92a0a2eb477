"""report says when tables of two runs are given as one story: the pairs audit S (session 63)
found passing without a word. Each check compares figures one run writes in step; the known
answers below are counted by hand from the small tables, and a set of one run says nothing.

- F1: assignments of one network run beside the sites table of another (What to do now opened
  C001-C004 for customers routed to DC-ATL..DC-ONT; 1,995,000 of fixed cost under 290,000).
- F2: cost to serve of another segmentation, or another export, beside the segments.
- F3: stock's --segments-out of another stock run (one 0.95 target) beside the policy.
- F4: the order lines of another export under "the order lines the stages were run on".
- F5: costs' warning that profit mixes two periods reached stderr only, not the page.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from segchain.report import build_report, to_markdown
from segchain.report.consistency import mismatches

D = dt.date
SEGMENTS = pl.DataFrame(
    {"customer_id": ["c1", "c2", "c3"], "segment": ["Gold", "Gold", "Tin"],
     "last_order": [D(2024, 3, 1), D(2024, 5, 30), D(2024, 4, 2)]}
)  # fmt: skip
# c1 and c2 split 1:0 to S1, c3 half at S1, half at S2.
LANES = pl.DataFrame(
    {"customer_id": ["c1", "c2", "c3", "c3"], "segment": ["Gold", "Gold", "Tin", "Tin"],
     "site_id": ["S1", "S1", "S1", "S2"], "share": [1.0, 1.0, 0.5, 0.5],
     "demand": [10.0, 4.0, 6.0, 6.0]}
)  # fmt: skip
# S1: 10 + 4 + 3 = 17 units, 3 customers; S2: 3 units, 1 customer; S3 closed.
SITES = pl.DataFrame(
    {"site_id": ["S1", "S2", "S3"], "open": [True, True, False],
     "fixed_cost": [100.0, 50.0, 70.0], "demand_served": [17.0, 3.0, 0.0],
     "customers": [3, 1, 0]}
)  # fmt: skip
LANES_META = {"totals": {"fixed_cost": 150.0}}
COSTS = pl.DataFrame({"segment": ["Gold", "Tin"], "customers": [2, 1], "revenue": [9.0, 2.0]})
COSTS_META = {"period": ["2024-01-02", "2024-06-30"]}
POLICY = pl.DataFrame(
    {"site": ["S1", "S1"], "sku": ["A", "B"], "service_target": [0.97, 0.9],
     "inventory_value": [30.0, 12.5], "mean_demand": [2.0, 1.0]}
)  # fmt: skip
# A at S1: Gold 0.99, Tin 0.95 (0.97 between them); B at S1: Tin 0.9 only.
SPLIT = pl.DataFrame(
    {"site": ["S1", "S1", "S1"], "sku": ["A", "A", "B"], "segment": ["Gold", "Tin", "Tin"],
     "service_level": [0.99, 0.95, 0.9], "inventory_value": [20.0, 10.0, 12.5]}
)  # fmt: skip
ORDERS = pl.DataFrame(
    {"order_id": ["1", "2", "3"], "order_date": [D(2024, 1, 2), D(2024, 5, 30), D(2024, 6, 30)],
     "customer_id": ["c1", "c2", "c3"], "sku": ["A", "B", "A"], "quantity": [1.0, 2.0, 3.0]}
)  # fmt: skip
FORECAST = pl.DataFrame({"unique_id": ["S1/A", "S1/B"], "sku": ["A", "B"]})
ONE_RUN = {
    "segments": SEGMENTS,
    "assignments": LANES,
    "sites": SITES,
    "costs": COSTS,
    "policy": POLICY,
    "stock_segments": SPLIT,
    "orders": ORDERS,
    "forecast": FORECAST,
}
ONE_RUN_META = {"assignments": LANES_META, "costs": COSTS_META}


def _with(**tables: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {**ONE_RUN, **tables}


def test_tables_of_one_run_raise_nothing() -> None:
    assert mismatches(ONE_RUN, ONE_RUN_META) == []


def test_a_sites_table_of_one_run_as_csv_raises_nothing() -> None:
    # Read back from a CSV the counts may be floats and the flag text the report makes true.
    sites = SITES.with_columns(pl.col("customers").cast(pl.Float64))
    assert mismatches(_with(sites=sites), ONE_RUN_META) == []


# ---- F1


def test_lanes_to_sites_the_sites_table_lacks_are_named() -> None:
    other = pl.DataFrame(
        {"site_id": ["C001", "C002"], "open": [True, True], "fixed_cost": [0.0, 0.0],
         "demand_served": [15.0, 5.0], "customers": [2, 1]}
    )  # fmt: skip
    assert mismatches(_with(sites=other), ONE_RUN_META) == [
        "the assignments route customers to 2 sites the sites table lacks ('S1', 'S2'; it holds "
        "'C001', 'C002'): tables of different runs?",
        "the open sites' fixed_cost sums to 0.00 and the assignments' plan to 150: tables of "
        "different runs?",
    ]


def test_sites_serving_other_than_the_lanes_are_named() -> None:
    # Another run sent c3 whole to S1: 20 units and 3 customers there, none at S2.
    other = SITES.with_columns(
        demand_served=pl.Series([20.0, 0.0, 0.0]), customers=pl.Series([3, 0, 0])
    )
    assert mismatches(_with(sites=other), ONE_RUN_META) == [
        "the sites table's demand_served and customers are not the assignments' lanes' at 2 of "
        "2 sites (S1: 20 units and 3 customers in the sites, 17 and 3 in the lanes): tables of "
        "different runs?"
    ]


def test_open_sites_whose_fixed_cost_is_not_the_plans_are_named() -> None:
    # The same sites, S2 at 900 in the run that wrote the sites table: 100 + 900 open.
    other = SITES.with_columns(fixed_cost=pl.Series([100.0, 900.0, 70.0]))
    assert mismatches(_with(sites=other), ONE_RUN_META) == [
        "the open sites' fixed_cost sums to 1,000 and the assignments' plan to 150: tables of "
        "different runs?"
    ]
    # Without the assignments' metadata (a CSV) there is no plan's figure to compare with.
    assert mismatches(_with(sites=other), {}) == []


def test_the_page_says_the_sites_of_another_run_first() -> None:
    # build_report hands the metadata to the checks: the fixed cost is the plan's there only.
    other = SITES.with_columns(fixed_cost=pl.Series([100.0, 900.0, 70.0]))
    report = build_report(
        {"segments": SEGMENTS, "assignments": LANES, "sites": other},
        metadata={"assignments": LANES_META},
    )
    page, _ = to_markdown(report)
    said = "sums to 1,000 and the assignments' plan to 150: tables of different runs?"
    assert report.mismatched == [f"the open sites' fixed_cost {said}"]
    assert page.index(said) < page.index("## ")


# ---- F2


def test_costs_of_other_segments_are_named() -> None:
    # Another segmentation: Gold 1 customer, Tin 2 (the segments hold 2 and 1).
    other = COSTS.with_columns(customers=pl.Series([1, 2]))
    assert mismatches(_with(costs=other), ONE_RUN_META) == [
        "the costs count 3 customers and the segments hold 3, not in the same segments (2 of 2 "
        "differ; Gold: 1 in the costs, 2 in the segments): tables of different runs?"
    ]


def test_costs_of_an_order_history_ending_before_the_segments_are_named() -> None:
    # The segments' last order is 2024-05-30; the costs' orders end on 2024-05-29.
    meta = {**ONE_RUN_META, "costs": {"period": ["2023-01-01", "2024-05-29"]},
            "segments": {"params": {"as_of": "2024-07-01"}}}  # fmt: skip
    assert mismatches(ONE_RUN, meta) == [
        "the costs' order history ends 2024-05-29, before the segments' last order (2024-05-30, "
        "as of 2024-07-01): tables of different runs?"
    ]
    # Ending on the segments' last order is one run's (segment without --as-of reads them all).
    meta["costs"] = {"period": ["2023-01-01", "2024-05-30"]}
    assert mismatches(ONE_RUN, meta) == []


# ---- F3


def test_a_split_of_other_inventory_is_named() -> None:
    other = SPLIT.with_columns(inventory_value=pl.Series([15.0, 10.0, 12.5]))
    assert mismatches(_with(stock_segments=other), ONE_RUN_META) == [
        "stock's --segments-out puts 37.50 of inventory value in the segments and the policy "
        "holds 42.50: tables of different runs?"
    ]


def test_a_split_at_other_targets_is_named() -> None:
    # Another run at one 0.95 target: A at S1's 0.97 lies outside 0.95 to 0.95; B's 0.9 too.
    other = SPLIT.with_columns(service_level=pl.lit(0.95))
    assert mismatches(_with(stock_segments=other), ONE_RUN_META) == [
        "at 2 of 2 stocking points the policy's service target lies outside its segments' "
        "targets in stock's --segments-out (S1 A: 0.97 in the policy, 0.95 in --segments-out): "
        "tables of different runs?"
    ]


def test_a_point_without_demand_has_no_target_to_compare() -> None:
    # stock writes a point with no demand without a target and without segment rows.
    idle = pl.DataFrame(
        {"site": ["S2"], "sku": ["C"], "service_target": [None], "inventory_value": [0.0],
         "mean_demand": [0.0]}, schema_overrides={"service_target": pl.Float64}
    )  # fmt: skip
    assert mismatches(_with(policy=pl.concat([POLICY, idle])), ONE_RUN_META) == []


# ---- F4


def test_orders_of_another_export_are_named() -> None:
    other = pl.DataFrame(
        {"order_id": ["9"], "order_date": [D(2011, 12, 9)], "customer_id": ["17850"],
         "sku": ["85123A"], "quantity": [6.0]}
    )  # fmt: skip
    meta = {**ONE_RUN_META, "segments": {"params": {"as_of": "2024-07-01"}}}
    assert mismatches(_with(orders=other), meta) == [
        "the segments (3 customers) and the orders (1 customer) share no customer_id: tables of "
        "different runs?",
        "the forecast (2 skus) and the orders (1 sku) share no sku: tables of different runs?",
        "the policy (2 skus) and the orders (1 sku) share no sku: tables of different runs?",
        "the orders end 2011-12-09, before the segments' last order (2024-05-30, as of "
        "2024-07-01): tables of different runs?",
    ]


def test_segments_of_text_dates_are_read_as_dates() -> None:
    # A segments CSV: last_order as text. The orders end 2024-05-29, before 2024-05-30.
    segments = SEGMENTS.with_columns(pl.col("last_order").cast(pl.String))
    orders = ORDERS.with_columns(order_date=pl.Series([D(2024, 1, 2), D(2024, 5, 1),
                                                       D(2024, 5, 29)]))  # fmt: skip
    assert mismatches(_with(segments=segments, orders=orders), ONE_RUN_META) == [
        "the orders end 2024-05-29, before the segments' last order (2024-05-30): tables of "
        "different runs?"
    ]


# ---- F5

ORDERS_CSV = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,C1,A,4,10\n"
    "2,2024-01-05,C1,A,4,10\n"
    "3,2024-01-20,C2,A,2,10\n"
)  # C1 bought 8 units, C2 2: 10 in all, January 2 to 20 (19 days)


def _costs(cli, tmp_path: Path, planned: tuple[float, float]) -> dict:
    from segchain.tableio import read_table

    (tmp_path / "o.csv").write_text(ORDERS_CSV)
    (tmp_path / "s.csv").write_text("customer_id,segment\nC1,Gold\nC2,Tin\n")
    pl.DataFrame(
        {"customer_id": ["C1", "C2"], "site_id": ["S1", "S1"], "share": [1.0, 1.0],
         "demand": list(planned), "transport_cost": [3.0, 1.0], "distance_km": [10.0, 10.0]}
    ).write_csv(tmp_path / "a.csv")  # fmt: skip
    made = cli("costs", "s.csv", "--orders", "o.csv", "--assignments", "a.csv",
               "-o", "costs.parquet")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    return read_table(str(tmp_path / "costs.parquet")).metadata


def test_costs_records_a_plan_of_other_units_and_the_page_says_it(cli, tmp_path: Path) -> None:
    # Planned for 16 + 4 = 20 units; the orders hold 10 for the same customers: 50 %.
    meta = _costs(cli, tmp_path, (16.0, 4.0))
    assert meta["planned_units"] == {"planned": 20.0, "ordered": 10.0, "period_days": 19}
    page = cli("report", "costs.parquet", "-o", "r.md")
    assert page.exit_code == 0, page.stderr
    text = " ".join((tmp_path / "r.md").read_text().split())
    assert (
        "Profit mixes two periods: transport and warehouse fixed cost are network's plan for 20 "
        "units, revenue and the other costs are the orders', in which the same customers bought "
        "10 net units (50% of the plan)."
    ) in text
    assert "mixes two periods: the plan's 20 units, the orders' 10" in text
    assert "every cost of serving" not in text


@pytest.mark.parametrize("planned", [(8.0, 2.0), (8.2, 2.0)])
def test_costs_of_one_period_record_nothing_and_the_page_says_nothing(
    cli, tmp_path: Path, planned: tuple[float, float]
) -> None:
    # 10 and 10.2 units planned for 10 bought: within 5 %, one period.
    meta = _costs(cli, tmp_path, planned)
    assert "planned_units" not in meta
    page = cli("report", "costs.parquet", "-o", "r.md")
    assert page.exit_code == 0, page.stderr
    text = " ".join((tmp_path / "r.md").read_text().split())
    assert "two periods" not in text
    assert "every cost of serving each segment over the order history" in text
