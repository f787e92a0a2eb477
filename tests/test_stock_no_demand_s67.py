"""Stocking points and segments without forecast demand (audit S, finding S4, session 67): a
segment forecast to buy nothing at a point sets neither its target, nor its segment, nor its
count of buying segments. Known answers worked by hand."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from test_stock_bootstrap import MONDAY

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
