"""costs stage: a hand-worked example (every figure computed by hand below), missing inputs,
allocation fallbacks, what promises cost, and bad input."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from segchain.costs import CostRates, costs, parse_rates
from segchain.errors import DataError, UsageError

DAYS = 31  # 2024-01-01 .. 2024-01-31, the segmented customers' order span
YEAR = DAYS / 365.25  # a year of 365.25 days (schema.DAYS_PER_YEAR), as stock's


def _orders() -> pl.DataFrame:
    rows = [
        # order_id, date, customer, sku, quantity, amount, flag
        ("o1", "2024-01-01", "A", "X", 10.0, 50.0, None),
        ("o1", "2024-01-01", "A", "Y", 2.0, 40.0, None),
        ("o2", "2024-01-10", "A", "X", 4.0, 20.0, None),
        ("C1", "2024-01-12", "A", "X", -2.0, -10.0, "return"),
        ("o3", "2024-01-05", "B", "Y", 1.0, 20.0, None),
        ("o3", "2024-01-05", "B", "POST", 1.0, 15.0, "non_product"),
        ("o4", "2024-01-31", "C", "X", 6.0, 30.0, None),
        ("o5", "2024-03-20", "D", "X", 100.0, 500.0, None),  # D is in no segment
    ]
    df = pl.DataFrame(
        rows,
        schema=["order_id", "order_date", "customer_id", "sku", "quantity", "amount", "flag"],
        orient="row",
    )
    return df.with_columns(
        pl.col("order_date").str.to_date(),
        unit_price=(pl.col("amount") / pl.col("quantity")).abs(),
    )


SEGMENTS = pl.DataFrame(
    {
        "customer_id": ["A", "B", "C"],
        "segment": ["Gold", "Gold", "Bronze"],
        "segment_rank": [1, 1, 2],
    }
)
ITEMS = pl.DataFrame({"sku": ["X", "Y"], "unit_cost": [3.0, 12.0], "holding_rate": [0.2, None]})
RATES = CostRates(cost_per_order=2.0, cost_per_line=0.5, cost_per_return=4.0)
ASSIGNMENTS = pl.DataFrame(
    {
        "customer_id": ["A", "B", "B", "C"],
        "segment": ["Gold", "Gold", "Gold", "Bronze"],
        "site_id": ["S1", "S1", "S2", "S2"],
        "share": [1.0, 0.5, 0.5, 1.0],
        "demand": [10.0, 30.0, 30.0, 20.0],
        "transport_cost": [7.0, 3.0, 4.0, 5.0],
    }
)
SITES = pl.DataFrame(
    {
        "site_id": ["S1", "S2", "S3", "S4"],
        "open": [True, True, True, False],
        "fixed_cost": [100.0, 60.0, 30.0, 1000.0],  # S3 open but idle; S4 closed
    }
)
POLICY = pl.DataFrame({"sku": ["X", "Y"], "inventory_value": [90.0, 40.0]})
STOCK_SEGMENTS = pl.DataFrame(
    {
        "sku": ["X", "X", "Y"],
        "segment": ["Gold", "Bronze", "Gold"],
        "inventory_value": [45.0, 45.0, 40.0],
    }
)


def _full(**kw):  # type: ignore[no-untyped-def]
    args = dict(
        rates=RATES,
        policy=POLICY,
        stock_segments=STOCK_SEGMENTS,
        assignments=ASSIGNMENTS,
        sites=SITES,
        items=ITEMS,
    )
    args.update(kw)
    return costs(_orders(), SEGMENTS, **args)


def _row(df: pl.DataFrame, key: str, value: str) -> dict:
    return df.filter(pl.col(key) == value).to_dicts()[0]


# Fixed cost by hand: S1 serves A 10 + B 15 = 25, S2 serves B 15 + C 20 = 35; idle S3 (30) is
# shared by all demand (A 10, B 30, C 20 of 60).
FIXED = {
    "A": 100 * 10 / 25 + 30 * 10 / 60,
    "B": 100 * 15 / 25 + 60 * 15 / 35 + 30 * 30 / 60,
    "C": 60 * 20 / 35 + 30 * 20 / 60,
}


def test_costs_segment_rows_match_the_hand_computation() -> None:
    r = _full()
    gold = _row(r.table, "segment", "Gold")
    assert r.period_days == DAYS
    assert gold["customers"] == 2
    assert gold["revenue"] == pytest.approx(50 + 40 + 20 - 10 + 20)
    assert gold["cogs"] == pytest.approx((10 + 4 - 2) * 3 + 2 * 12 + 1 * 12)
    assert gold["gross_margin"] == pytest.approx(120 - 72)
    # A: orders o1, o2 and 3 lines; B: o3 and 1 line (postage is not a product line).
    assert gold["order_handling"] == pytest.approx(3 * 2.0 + 4 * 0.5)
    assert gold["returns_handling"] == pytest.approx(1 * 4.0)
    assert gold["transport"] == pytest.approx(14.0)
    assert gold["warehouse_fixed"] == pytest.approx(FIXED["A"] + FIXED["B"])
    # X 45 at the item's 0.2, Y 40 at stock's default 0.25 (Y has no holding_rate).
    carrying = (45 * 0.2 + 40 * 0.25) * YEAR
    assert gold["inventory_carrying"] == pytest.approx(carrying)
    cts = 8 + 4 + 14 + FIXED["A"] + FIXED["B"] + carrying
    assert gold["cost_to_serve"] == pytest.approx(cts)
    assert gold["profit"] == pytest.approx(48 - cts)
    assert gold["profit_share"] == pytest.approx((48 - cts) / 120)
    assert gold["costs_missing"] == ""
    assert r.table["segment"].to_list() == ["Gold", "Bronze"]  # by segment_rank


def test_costs_totals_reconcile_with_their_sources() -> None:
    r = _full()
    checks = {c.name: c for c in r.checks}
    assert all(c.ok for c in r.checks)
    assert checks["revenue"].source_total == pytest.approx(665.0)
    assert checks["warehouse fixed"].source_total == pytest.approx(190.0)
    assert r.table["warehouse_fixed"].sum() == pytest.approx(190.0)
    assert r.table["transport"].sum() == pytest.approx(19.0)
    assert r.table["inventory_value"].sum() == pytest.approx(130.0)


def test_costs_by_customer_splits_segment_inventory_by_units_bought() -> None:
    r = _full(by="customer")
    a, b = _row(r.table, "customer_id", "A"), _row(r.table, "customer_id", "B")
    # Gold's X (45) is all A's (B bought no X); Gold's Y (40): A 2 units, B 1 unit.
    assert a["inventory_value"] == pytest.approx(45 + 40 * 2 / 3)
    assert b["inventory_value"] == pytest.approx(40 / 3)
    assert b["warehouse_fixed"] == pytest.approx(FIXED["B"])
    assert r.table.height == 3
    assert r.table["warehouse_fixed"].sum() == pytest.approx(190.0)


def test_costs_without_stock_table_split_inventory_by_units_bought() -> None:
    r = _full(stock_segments=None)
    gold = _row(r.table, "segment", "Gold")
    # X: Gold bought 12 net units, Bronze 6: 90 x 2/3 = 60.
    assert gold["inventory_value"] == pytest.approx(60 + 40)
    assert "net units bought" in r.sources["inventory_value"]


# stock's totals by segment, as its policy's metadata records them (from STOCK_SEGMENTS).
STOCK_TOTALS = [
    {"segment": "Gold", "stocking_points": 2, "inventory_value": 85.0},
    {"segment": "Bronze", "stocking_points": 1, "inventory_value": 45.0},
]


def test_costs_says_when_its_inventory_split_differs_from_stocks() -> None:
    # Found on a grocery export: the report showed stock's split (by forecast demand) and
    # costs, given no --stock-segments, split by units bought, with nothing saying so. By units
    # Gold carries 60 + 40 = 100, stock's own split 85.
    r = _full(stock_segments=None, stock_by_segment=STOCK_TOTALS)
    said = [str(w) for w in r.warnings if "--stock-segments" in str(w)]
    assert len(said) == 1
    assert "Gold 100.00 here against 85.00 in stock's" in said[0]


def test_costs_is_silent_when_the_split_agrees_with_stocks() -> None:
    same = [
        {"segment": "Gold", "stocking_points": 2, "inventory_value": 100.0},
        {"segment": "Bronze", "stocking_points": 1, "inventory_value": 30.0},
    ]
    r = _full(stock_segments=None, stock_by_segment=same)
    assert not [w for w in r.warnings if "--stock-segments" in str(w)]
    # Given stock's own table, the split is stock's: nothing to say either.
    r = _full(stock_by_segment=STOCK_TOTALS)
    assert not [w for w in r.warnings if "--stock-segments" in str(w)]


def test_costs_forecast_split_when_no_stock_table() -> None:
    fc = pl.DataFrame(
        {"segment": ["Gold", "Bronze", "Gold"], "sku": ["X", "X", "Y"], "forecast": [1.0, 2.0, 5.0]}
    )
    r = _full(stock_segments=None, forecast=fc)
    assert _row(r.table, "segment", "Bronze")["inventory_value"] == pytest.approx(60.0)
    assert "forecast demand" in r.sources["inventory_value"]


def test_costs_without_inputs_are_missing_not_zero() -> None:
    r = costs(_orders(), SEGMENTS)
    gold = _row(r.table, "segment", "Gold")
    for col in ("cogs", "order_handling", "returns_handling", "transport", "warehouse_fixed"):
        assert gold[col] is None, col
    assert gold["inventory_carrying"] is None
    assert gold["profit"] is None  # no cost of goods, no margin
    assert gold["costs_missing"].startswith("cogs, order_handling")
    assert r.sources["transport"].startswith("missing")


def test_costs_customer_without_assignment_is_counted_missing() -> None:
    r = _full(assignments=ASSIGNMENTS.filter(pl.col("customer_id") != "C"), sites=None)
    bronze = _row(r.table, "segment", "Bronze")
    assert bronze["transport"] is None
    assert "transport" in bronze["costs_missing"]
    assert any("no assignment" in w for w in r.warnings)


def test_costs_assignments_naming_unknown_customers_fail() -> None:
    bad = pl.concat([ASSIGNMENTS, ASSIGNMENTS.head(1).with_columns(customer_id=pl.lit("Z9"))])
    with pytest.raises(DataError, match=r"1 customer is not in the segments: 'Z9'"):
        _full(assignments=bad)


def test_costs_promises_by_hand() -> None:
    promise = [
        {
            "segment": "Gold",
            "demand": 40.0,
            "transport_cost": 14.0,
            "baseline_transport_cost": 20.0,
            "baseline_within_promise": 0.5,
        },
        {
            "segment": "Bronze",
            "demand": 20.0,
            "transport_cost": 5.0,
            "baseline_transport_cost": 5.0,
            "baseline_within_promise": 1.0,
        },
    ]
    # Without promises: transport 25, fixed 155 - 25 = 130; with them fixed 190: +60, all of it
    # Gold's (only Gold's demand would be late).
    totals = {"fixed_cost": 190.0, "baseline_total_cost": 155.0}
    comparison = [
        {"segment": "Gold", "inventory_value_segmented": 100.0, "inventory_value_uniform": 80.0},
        {"segment": "Bronze", "inventory_value_segmented": 30.0, "inventory_value_uniform": 40.0},
        {"segment": "(all)", "inventory_value_segmented": 130.0, "inventory_value_uniform": 120.0},
    ]
    r = _full(network_promise=promise, network_totals=totals, stock_comparison=comparison)
    gold, bronze = _row(r.table, "segment", "Gold"), _row(r.table, "segment", "Bronze")
    assert gold["delivery_promise_transport"] == pytest.approx(-6.0)
    assert gold["delivery_promise_fixed"] == pytest.approx(60.0)
    assert gold["delivery_promise_cost"] == pytest.approx(54.0)
    assert bronze["delivery_promise_cost"] == pytest.approx(0.0)
    assert gold["service_promise_inventory"] == pytest.approx(20.0)
    gold_rate = (45 * 0.2 + 40 * 0.25) / 85  # value-weighted over Gold's stock
    assert gold["service_promise_cost"] == pytest.approx(20 * gold_rate * YEAR)
    assert bronze["service_promise_cost"] == pytest.approx(-10 * 0.2 * YEAR)


def test_costs_promises_missing_without_comparisons() -> None:
    gold = _row(_full().table, "segment", "Gold")
    assert gold["delivery_promise_cost"] is None
    assert gold["service_promise_cost"] is None


def test_costs_delivery_promise_is_missing_when_networks_comparison_was_not_finished() -> None:
    # network found no plan without promises within --time-limit: its promise table has no
    # baseline_* figures and its totals say so. What the promises cost is then unknown; the
    # old code read the missing baseline as 'no promise changed the plan' and wrote 0.
    promise = [
        {"segment": "Gold", "demand": 40.0, "transport_cost": 14.0},
        {"segment": "Bronze", "demand": 20.0, "transport_cost": 5.0},
    ]
    totals = {"fixed_cost": 190.0, "baseline_total_cost": None, "baseline_status": "unfinished"}
    r = _full(network_promise=promise, network_totals=totals)
    for segment in ("Gold", "Bronze"):
        row = _row(r.table, "segment", segment)
        for col in (
            "delivery_promise_transport",
            "delivery_promise_fixed",
            "delivery_promise_cost",
        ):
            assert row[col] is None, (segment, col)
    assert "--time-limit" in r.sources["delivery_promise_cost"]


@pytest.mark.parametrize(
    "table, message",
    [
        ({"cost_per_order": "2.5"}, "cost_per_order must be a number, got '2.5' (str)"),
        ({"cost_per_line": True}, "cost_per_line must be a number"),
        ({"cost_per_return": -1}, "cost_per_return must be a finite number >= 0"),
        ({"holding_rate": 0}, "holding_rate must be > 0"),
        ({"per_order": 1}, "unknown setting per_order"),
    ],
)
def test_parse_rates_rejects_bad_values(table, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as exc:
        parse_rates(table)
    assert message in str(exc.value)


def test_default_holding_rate_is_stocks() -> None:
    from segchain.costs import DEFAULT_HOLDING_RATE
    from segchain.stock import ITEM_DEFAULTS

    assert ITEM_DEFAULTS["holding_rate"] == DEFAULT_HOLDING_RATE


def test_costs_period_is_the_segmented_order_span() -> None:
    r = _full()
    assert (r.first_date, r.last_date) == (str(dt.date(2024, 1, 1)), str(dt.date(2024, 1, 31)))


def test_costs_promise_without_any_inventory_value_is_carried_at_the_default_rate() -> None:
    # Every stocking point valued 0 (zero-price lines, no unit cost): no segment has a
    # value-weighted holding rate, so the uniform comparison's difference is carried at the
    # rate that applies without one (stock's default 0.25), not a crash.
    comparison = [
        {"segment": "Gold", "inventory_value_segmented": 10.0, "inventory_value_uniform": 4.0},
        {"segment": "(all)", "inventory_value_segmented": 10.0, "inventory_value_uniform": 4.0},
    ]
    zero = POLICY.with_columns(inventory_value=pl.lit(0.0))
    r = _full(policy=zero, stock_comparison=comparison)
    gold = _row(r.table, "segment", "Gold")
    assert gold["inventory_carrying"] == pytest.approx(0.0)
    assert gold["service_promise_inventory"] == pytest.approx(6.0)
    assert gold["service_promise_cost"] == pytest.approx(6.0 * 0.25 * YEAR)
