"""Stocking points and segments without forecast demand (audit S, findings S3 and S4, session
67): on-hand stock at a point forecast nothing is stock without demand as much as stock at a
point the forecast has not; a segment forecast to buy nothing at a point sets neither its
target, nor its segment, nor its count of buying segments. Known answers worked by hand."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from test_stock_bootstrap import MONDAY, orders

from segchain.config import PolicyTable, SegmentPolicy
from segchain.stock import stock

WEEKS = [MONDAY + timedelta(weeks=i) for i in range(4)]
FILL = "fill-rate"
POLICIES = PolicyTable(
    {
        "Champions": SegmentPolicy(service_level=0.99, service_measure=FILL),
        "At Risk": SegmentPolicy(service_level=0.90, service_measure=FILL),
    }
)


def forecast(rows: list[tuple[str, str, float, float]], weeks: list[date] = WEEKS) -> pl.DataFrame:
    """(sku, segment, forecast per week, error_sd) for every week."""
    return pl.DataFrame(
        [
            {"sku": s, "segment": g, "ds": d, "forecast": f, "error_sd": e}
            for s, g, f, e in rows
            for d in weeks
        ]
    )


def row(policy: pl.DataFrame, sku: str) -> dict:
    return policy.filter(pl.col("sku") == sku).row(0, named=True)


# A: Champions (0.99) forecast 0, At Risk (0.90) 5 a week: only At Risk buys there.
# B: both forecast 0: no segment buys, so both are taken (max 0.99, equal weights 0.945).
BUYERS = [
    ("A", "Champions", 0.0, 0.0),
    ("A", "At Risk", 5.0, 2.0),
    ("B", "Champions", 0.0, 0.0),
    ("B", "At Risk", 0.0, 0.0),
]


@pytest.mark.parametrize(("blend", "target_b"), [("max", 0.99), ("weighted", (0.99 + 0.90) / 2)])
def test_targets_segment_and_count_are_the_buying_segments(blend: str, target_b: float) -> None:
    # Superstore by product, --blend max: 332 of the 561 points with demand took the target of
    # a segment forecast to buy nothing there (OFF-BI-10004001: segment Champions, segments 5,
    # 0.99, bought by At Risk alone at 0.96), +5.0 % stock value.
    policy = stock(forecast(BUYERS), policies=POLICIES, blend=blend, rationing="none").policy
    a = row(policy, "A")
    assert (a["service_target"], a["segment"], a["segments"]) == (0.90, "At Risk", 1)
    b = row(policy, "B")
    assert b["service_target"] == pytest.approx(target_b)
    assert (b["segment"], b["segments"]) == ("Champions", 2)


def test_a_measure_no_buying_segment_uses_sets_no_level() -> None:
    # Champions (CSL 0.99) buys nothing at A: the level meets At Risk's fill rate 0.90 alone.
    # It met the larger of that and a CSL 0.99 (the weighted blend's equal weights over the CSL
    # segments, all forecast 0), as if Champions bought there.
    policies = PolicyTable(
        {
            "Champions": SegmentPolicy(service_level=0.99, service_measure="csl"),
            "At Risk": SegmentPolicy(service_level=0.90, service_measure=FILL),
        }
    )
    mixed = stock(forecast(BUYERS[:2]), policies=policies, rationing="none").policy
    alone = stock(forecast(BUYERS[1:2]), policies=policies, rationing="none").policy
    a = row(mixed, "A")
    assert (a["service_target"], a["service_measure"]) == (0.90, FILL)
    assert a["reorder_point"] == row(alone, "A")["reorder_point"]


def test_on_hand_at_a_point_forecast_nothing_is_stock_without_demand() -> None:
    # Z is forecast 0 with 4 units on hand at unit cost 2.5; Q is not in the forecast, holds
    # nothing and owes 3 units. Z was neither flagged nor counted; Q was said to order nothing
    # and to be "stock to move or clear" of its 0 units. By hand: 4 units, 10.00 at unit cost,
    # at 1 of the 2 points; Q orders its 3 owed (pack 1), Z nothing.
    fc = forecast([("A", "At Risk", 5.0, 2.0), ("Z", "At Risk", 0.0, 0.0)])
    on_hand = pl.DataFrame(
        {"sku": ["A", "Z", "Q"], "on_hand": [1.0, 4.0, 0.0], "backorders": [0.0, 0.0, 3.0]}
    )
    items = pl.DataFrame({"sku": ["A", "Z", "Q"], "unit_cost": [1.0, 2.5, 7.0]})
    res = stock(fc, on_hand=on_hand, items=items, policies=POLICIES, rationing="none")
    flags = res.policy.select("sku", "no_demand", "on_hand").sort("sku").rows()
    assert flags == [("A", False, 1.0), ("Q", True, 0.0), ("Z", True, 4.0)]
    assert (row(res.policy, "Q")["order_now"], row(res.policy, "Z")["order_now"]) == (3.0, 0.0)
    z = row(res.policy, "Z")
    assert (z["avg_inventory"], z["inventory_value"], z["segments"]) == (0.0, 0.0, 1)
    (note,) = [n for n in res.notes if "without forecast demand" in n]
    assert note == (
        "--on-hand: 2 on-hand rows at 2 stocking points without forecast demand (sku 'Z', "
        "'Q'): 4 units at 1 of them, 10.00 at unit cost, stock to move or clear; kept in the "
        "policy with no_demand = true, ordering only for backorders owed: 3 units at 1 of them "
        "(order_now)"
    )


@pytest.mark.parametrize(
    ("on_hand", "owed", "stock_words", "ordered"),
    [(0.0, 3.0, "no stock on hand", 3), (2.0, 5.0, "no stock beyond the backorders owed", 3)],
)
def test_a_point_owing_backorders_is_not_stock_to_clear(
    on_hand: float, owed: float, stock_words: str, ordered: int
) -> None:
    # Q holds nothing and owes 3 (or holds 2 that its 5 backorders take): it orders what it
    # owes beyond its stock, and has nothing to move or clear. It was said to order nothing,
    # its 0 (or 2) units "stock to move or clear".
    fc = forecast([("A", "At Risk", 5.0, 2.0)])
    table = pl.DataFrame({"sku": ["Q"], "on_hand": [on_hand], "backorders": [owed]})
    res = stock(fc, on_hand=table, policies=POLICIES, rationing="none")
    assert row(res.policy, "Q")["order_now"] == ordered
    (note,) = [n for n in res.notes if "without forecast demand" in n]
    assert note == (
        "--on-hand: 1 on-hand row at 1 stocking point without forecast demand (sku 'Q'): "
        f"{stock_words}; kept in the policy with no_demand = true, ordering only for "
        f"backorders owed: {ordered} units (order_now)"
    )


def test_a_flagged_point_the_forecast_has_is_still_replayed_and_counted_as_a_seller() -> None:
    # Z, forecast 0 with 6 units on hand, is flagged no_demand now; what read the flag as "not
    # in the forecast" must still see it as a planned point: the held-out replay (the 3 whole
    # weeks the orders hold after the forecast's start) asks its 4 units of week 71 (not
    # 'unplanned'), and the note of the points forecast 0 that sold in the 52 weeks before
    # (weeks 18-69: B's 52 units, Z's 3) counts it: 3 units, 3 / 55 of those weeks'.
    start = MONDAY + timedelta(weeks=70)
    lines = [("B", w, 1.0) for w in range(74)] + [("Z", 60, 3.0), ("Z", 71, 4.0)]
    weeks = [start + timedelta(weeks=i) for i in range(4)]
    fc = forecast([("B", "*", 1.0, 1.0), ("Z", "*", 0.0, 0.0)], weeks)
    on_hand = pl.DataFrame({"sku": ["B", "Z"], "on_hand": [2.0, 6.0]})
    res = stock(fc, orders=orders(lines), on_hand=on_hand, review_days=7, service_level=0.95)
    assert row(res.policy, "Z")["no_demand"] is True
    (sold,) = [n for n in res.notes if "forecast no demand sold" in n]
    assert sold.startswith(
        "1 of the 1 stocking point forecast no demand sold in the 52 weeks before the forecast "
        f"(3 units, {3 / 55:.1%} of those weeks' units)"
    )
    held = res.held_out
    assert held is not None and (held.periods, held.unplanned_units) == (3, 0.0)
    assert held.total["asked"] == 3 * 1.0 + 4.0  # B's 3 weeks and Z's week 71


def test_rationing_keeps_the_promises_of_the_segments_that_buy() -> None:
    # Loyal (0.98) and At Risk (0.90) buy 5 a week each at A, Champions (0.99) nothing. An MOQ
    # of 100,000 units (27 years of demand) is an (s, Q) order rationing does not replay, so A
    # keeps every promise first come, first served: the highest target of a buying segment,
    # 0.98 (it was Champions' 0.99).
    policies = PolicyTable(
        {
            "Champions": SegmentPolicy(service_level=0.99, service_measure=FILL, priority=1),
            "Loyal": SegmentPolicy(service_level=0.98, service_measure=FILL, priority=2),
            "At Risk": SegmentPolicy(service_level=0.90, service_measure=FILL, priority=3),
        }
    )
    fc = forecast(
        [("A", "Champions", 0.0, 0.0), ("A", "Loyal", 5.0, 2.0), ("A", "At Risk", 5.0, 2.0)]
    )
    items = pl.DataFrame({"sku": ["A"], "moq": [100_000.0]})
    a = row(stock(fc, items=items, policies=policies).policy, "A")
    assert (a["service_target"], a["rationed"], a["order_qty"]) == (0.98, False, 100_000.0)
