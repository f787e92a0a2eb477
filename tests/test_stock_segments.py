"""The per-segment table: one row per stocking point x segment (the contract `costs` reads)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from segchain.config import PolicyTable, SegmentPolicy
from segchain.stock import stock

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]
CONTRACT = [
    "sku",
    "segment",
    "priority",
    "service_measure",
    "service_level",
    "reserve_level",
    "expected_fill_rate",
    "expected_csl",
    "demand_share",
    "inventory_share",
    "avg_inventory",
    "inventory_value",
]


def forecast(rows: list[tuple[str, str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"ds": d, "sku": sku, "segment": seg, "forecast": mu, "error_sd": sd}
            for sku, seg, mu, sd in rows
            for d in WEEKS
        ]
    )


TABLE = PolicyTable(
    {
        "gold": SegmentPolicy(service_level=0.99),
        "silver": SegmentPolicy(service_level=0.95),
        "bronze": SegmentPolicy(service_level=0.90),
    }
)
ROWS = [
    ("A", "gold", 30.0, 6.0),
    ("A", "bronze", 70.0, 9.0),
    ("B", "silver", 2.0, 1.5),
    ("B", "gold", 2.0, 1.5),
    ("C", "bronze", 5.0, 2.0),
]


def test_segments_table_has_the_contract_columns_one_row_per_point_and_segment() -> None:
    seg = stock(forecast(ROWS), policies=TABLE, review_days=7).segments
    assert seg is not None
    assert seg.columns == CONTRACT
    assert seg.select("sku", "segment").rows() == [
        ("A", "gold"),
        ("A", "bronze"),
        ("B", "gold"),
        ("B", "silver"),
        ("C", "bronze"),
    ]


def test_segments_table_shares_are_demand_shares_and_inventory_adds_up() -> None:
    res = stock(forecast(ROWS), policies=TABLE, review_days=7)
    seg = res.segments
    assert seg is not None
    a = seg.filter(pl.col("sku") == "A")
    assert a["demand_share"].to_list() == pytest.approx([0.3, 0.7])
    totals = seg.group_by("sku").agg(pl.col("inventory_value").sum(), pl.col("demand_share").sum())
    joined = totals.join(res.policy.select("sku", pl.col("inventory_value").alias("v")), on="sku")
    assert joined["inventory_value"].to_list() == pytest.approx(joined["v"].to_list())
    assert joined["demand_share"].to_list() == pytest.approx([1.0] * 3)


def test_segments_priority_from_targets_unless_the_table_sets_one() -> None:
    seg = stock(forecast(ROWS), policies=TABLE, review_days=7).segments
    assert seg is not None
    prio = dict(seg.select("segment", "priority").unique().iter_rows())
    assert prio == {"gold": 1, "silver": 2, "bronze": 3}
    table = PolicyTable({**TABLE.policies, "bronze": SegmentPolicy(service_level=0.9, priority=1)})
    seg = stock(forecast(ROWS), policies=table, review_days=7).segments
    assert seg is not None
    prio = dict(seg.select("segment", "priority").unique().iter_rows())
    assert prio == {"bronze": 1, "gold": 2, "silver": 3}


def test_segments_available_to_promise_with_on_hand() -> None:
    on_hand = pl.DataFrame({"sku": ["A", "B", "C"], "on_hand": [120.0, 3.0, 0.0]})
    seg = stock(forecast(ROWS), policies=TABLE, review_days=7, on_hand=on_hand).segments
    assert seg is not None
    atp = seg.with_columns(
        expected=pl.max_horizontal(
            pl.col("sku").replace_strict({"A": 120.0, "B": 3.0, "C": 0.0})
            - pl.col("reserve_level"),
            0.0,
        )
    )
    assert atp["available_to_promise"].to_list() == atp["expected"].to_list()


def test_report_inventory_by_segment_shares_each_skus_stock() -> None:
    # 4(g): grouping the policy by its `segment` (the largest segment) put SKU A's whole stock on
    # bronze; the report's inventory by segment comes from the per-segment table instead.
    from segchain.report import build_report

    res = stock(forecast(ROWS), policies=TABLE, review_days=7, rationing="none")
    assert res.segments is not None
    report = build_report({"policy": res.policy}, metadata={"policy": res.metadata()})
    inv = next(s for s in report.sections if s.key == "inventory")
    table = next(
        b for b in inv.blocks if hasattr(b, "frame") and b.title == "Inventory value by segment"
    )
    shown = dict(table.frame.select("segment", "inventory_value").iter_rows())
    expected = dict(
        res.segments.group_by("segment").agg(pl.col("inventory_value").sum()).iter_rows()
    )
    assert shown == pytest.approx(expected)
    a = res.segments.filter(pl.col("sku") == "A")
    assert shown["gold"] == pytest.approx(
        a.filter(pl.col("segment") == "gold")["inventory_value"].item()
        + res.segments.filter((pl.col("sku") == "B") & (pl.col("segment") == "gold"))[
            "inventory_value"
        ].item()
    )


# A segment buying nothing at a point (forecast 0): silver at A, and at no point at all.
NO_DEMAND_ROWS = [*ROWS, ("A", "silver", 0.0, 0.0)]


def test_segments_table_gives_no_fill_rate_to_a_segment_without_demand_at_the_point() -> None:
    # A fill rate is demand served over demand: with no demand it is undefined, not the point's.
    seg = stock(forecast(NO_DEMAND_ROWS), policies=TABLE, review_days=7).segments
    assert seg is not None
    row = seg.filter((pl.col("sku") == "A") & (pl.col("segment") == "silver")).row(0, named=True)
    assert row["demand_share"] == 0.0
    assert row["expected_fill_rate"] is None
    assert row["expected_csl"] is None
    buying = seg.filter(pl.col("demand_share") > 0)
    assert buying["expected_fill_rate"].null_count() == 0


def test_uniform_comparison_gives_no_fill_rate_to_a_segment_without_demand() -> None:
    rows = [*ROWS, ("C", "lapsed", 0.0, 0.0)]
    table = PolicyTable({**TABLE.policies, "lapsed": SegmentPolicy(service_level=0.80)})
    res = stock(forecast(rows), policies=table, review_days=7, compare_uniform=0.95)
    assert res.comparison is not None
    by_seg = {r["segment"]: r for r in res.comparison.iter_rows(named=True)}
    lapsed = by_seg["lapsed"]
    assert lapsed["demand_per_period"] == 0.0
    for col in ("fill_rate_segmented", "fill_rate_uniform", "csl_segmented", "csl_uniform"):
        assert lapsed[col] is None, col
    # Bronze buys at A and C: its fill rate is the demand-weighted mean of what it gets there.
    assert res.segments is not None
    got = res.segments.filter(pl.col("segment") == "bronze").select("sku", "expected_fill_rate")
    bronze = (
        pl.DataFrame({"sku": ["A", "C"], "mu": [70.0, 5.0]})
        .join(got, on="sku")
        .select((pl.col("expected_fill_rate") * pl.col("mu")).sum() / pl.col("mu").sum())
        .item()
    )
    assert by_seg["bronze"]["fill_rate_segmented"] == pytest.approx(bronze)


def test_uniform_comparison_counts_the_skus_a_segment_has_demand_for() -> None:
    # lapsed is forecast 0 at B and C, and nobody buys D: they are not skus of theirs. CDNOW
    # bottom-up showed 'skus 1' for each of the 7 segments forecast nothing.
    rows = [*ROWS, ("B", "lapsed", 0.0, 0.0), ("C", "lapsed", 0.0, 0.0), ("D", "silver", 0.0, 0.0)]
    table = PolicyTable({**TABLE.policies, "lapsed": SegmentPolicy(service_level=0.80)})
    res = stock(forecast(rows), policies=table, review_days=7, compare_uniform=0.95)
    assert res.comparison is not None
    got = dict(res.comparison.select("segment", "skus").rows())
    # By hand: the skus each segment is forecast demand for, and all of them together.
    fc = pl.DataFrame(rows, schema=["sku", "segment", "mu", "sd"], orient="row")
    buying = fc.filter(pl.col("mu") > 0)
    want = dict(buying.group_by("segment").agg(pl.col("sku").n_unique()).rows())
    want["lapsed"] = 0
    want["(all)"] = buying["sku"].n_unique()
    assert got == want
