"""stock's per-segment tables list the segments of one priority by the rank segment wrote
(``segment_rank``, as costs and the report list segments), where ``--segments`` gives it.

Before, the segmented-vs-uniform table and the replay's table per segment listed the segments of
one priority alphabetically: with no target per segment (every priority equal) that was the
alphabet, 'At Risk' above 'Champions'. Now both list them as the held-out table always did: by
priority (1 served first), then by rank. The known order is the ranks given here.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from segchain.cli.stock_summary import segment_summary
from segchain.config import PolicyTable, SegmentPolicy
from segchain.stock import stock
from segchain.stock.compare import compare

# Ranks as segment writes them (1 the most valuable), neither alphabetical nor by target.
RANKS = pl.DataFrame({"segment": ["Champions", "At Risk", "Lost"], "rank": [1.0, 2.0, 3.0]})
BY_RANK = ["Champions", "At Risk", "Lost"]
CUSTOMERS = ["C0", "C1", "C2"]
SEGMENTS = pl.DataFrame({"customer_id": CUSTOMERS, "segment": BY_RANK, "segment_rank": [1, 2, 3]})


def _orders(lines: list[tuple[dt.date, str]]) -> pl.DataFrame:
    """One order line of 5 units of sku A at 2.0 per (day, customer) of ``lines``."""
    n = len(lines)
    return pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "order_date": [d for d, _ in lines],
            "customer_id": [c for _, c in lines],
            "sku": ["A"] * n,
            "quantity": [5.0] * n,
            "unit_price": [2.0] * n,
        }
    )


def _series(levels: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A"] * len(levels),
            "segment": list(levels),
            "mu": [10.0] * len(levels),
            "seg_level": list(levels.values()),
            "seg_measure": ["fill-rate"] * len(levels),
            "seg_priority": [None] * len(levels),
        },
        schema_overrides={"seg_priority": pl.Int64},
    )


def _plan() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A"],
            "inventory_value": [100.0],
            "expected_fill_rate": [0.95],
            "expected_csl": [0.9],
        }
    )


def test_compare_lists_segments_of_one_priority_by_their_rank() -> None:
    # Lost's higher target serves it first (priority 1); the other two share priority 2.
    series = _series({"At Risk": 0.95, "Champions": 0.95, "Lost": 0.99})
    out = compare(series, ["sku"], _plan(), _plan(), 0.96, ranks=RANKS)
    assert out.get_column("segment").to_list() == ["Lost", "Champions", "At Risk", "(all)"]


def test_compare_without_ranks_lists_segments_of_one_priority_by_label() -> None:
    series = _series({"At Risk": 0.95, "Champions": 0.95, "Lost": 0.99})
    out = compare(series, ["sku"], _plan(), _plan(), 0.96)
    assert out.get_column("segment").to_list() == ["Lost", "At Risk", "Champions", "(all)"]


def test_replay_summary_lists_segments_of_one_priority_by_their_rank() -> None:
    per_seg = pl.DataFrame(
        {
            "sku": ["A", "A", "A"],
            "segment": ["At Risk", "Champions", "Lost"],
            "priority": [1, 1, 1],
            "service_measure": ["fill-rate"] * 3,
            "service_level": [0.95] * 3,
            "demand_share": [1 / 3] * 3,
            "achieved_fill_rate": [0.9, 0.95, 0.99],
            "achieved_csl": [0.9, 0.9, 0.9],
            "target_met": [False, True, True],
        }
    )
    assert segment_summary(per_seg, RANKS).get_column("segment").to_list() == BY_RANK
    assert segment_summary(per_seg).get_column("segment").to_list() == sorted(BY_RANK)


def test_stock_with_segments_lists_segments_of_one_priority_by_their_rank() -> None:
    start = dt.date(2024, 1, 1)
    weeks = [start + dt.timedelta(weeks=i) for i in range(4)]
    forecast = pl.DataFrame(
        {
            "sku": ["A"] * 12,
            "segment": [s for s in BY_RANK for _ in weeks],
            "ds": weeks * 3,
            "forecast": [5.0] * 12,
            "error_sd": [2.0] * 12,
        }
    )
    # Orders before the forecast's start only: a history, nothing to replay.
    orders = _orders(
        [(start - dt.timedelta(days=7 * (i + 1)), CUSTOMERS[i % 3]) for i in range(12)]
    )
    # Every segment the same target: one priority, so the old order was the alphabet.
    table = PolicyTable({"*": SegmentPolicy(service_level=0.95)})
    res = stock(forecast, orders=orders, segments=SEGMENTS, policies=table, compare_uniform="equal")
    assert res.comparison is not None
    assert res.comparison.get_column("segment").to_list() == [*BY_RANK, "(all)"]


def test_forecast_carries_segment_rank_and_stock_lists_by_it_without_segments() -> None:
    # segment_rank from the segments table (the known order), through forecast's output, to
    # stock without --segments: before, the forecast had no segment_rank and stock listed the
    # segments of one priority by name ('At Risk' above 'Champions').
    from segchain.forecast import forecast

    start = dt.date(2024, 1, 1)
    orders = _orders([(start + dt.timedelta(weeks=w), c) for w in range(30) for c in CUSTOMERS])
    fc = forecast(orders, SEGMENTS, horizon=4, models="Naive", n_jobs=1).forecast
    ranks = dict(fc.select("segment", "segment_rank").unique().iter_rows())
    assert ranks == {"Champions": 1, "At Risk": 2, "Lost": 3}
    table = PolicyTable({"*": SegmentPolicy(service_level=0.95)})
    res = stock(fc, policies=table, compare_uniform="equal")
    assert res.comparison is not None
    assert res.comparison.get_column("segment").to_list() == [*BY_RANK, "(all)"]
