"""Segments that share stock's priority are listed in the held-out table by their segment_rank.

The Complete Journey (`stock fW.parquet --orders orders.parquet --segments segments.parquet`,
no config: every segment the same fill-rate target, so every one priority 1): the held-out
table was in alphabetical order and stock's summary line and the report's `Held-out fill rate`
headline named its first row, About to Sleep (rank 9 of 11, 1,442 of 63,563 units asked), as
"the first segment by priority". segment ranks them: 1 is the most valuable (Champions).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from segchain.stock.heldout import held_out

START = dt.date(2024, 5, 20)  # a Monday: the forecast's first week


def _replay(customers: pl.DataFrame) -> list[str]:
    """The held-out table's segments, three segments of one priority at one point."""
    policy = pl.DataFrame(
        [
            {
                "sku": "A",
                "policy_type": "RS",
                "review_days": 1.0,
                "reorder_point": 9.0,
                "order_qty": 0.0,
                "order_up_to": 9.0,
                "lead_time_days": 0.0,
                "unit_cost": 1.0,
                "mean_demand": 7.0,
            }
        ]
    )
    rows = pl.DataFrame(
        [
            {
                "sku": "A",
                "segment": seg,
                "priority": 1,
                "service_measure": "fill-rate",
                "service_level": 0.95,
                "reserve_level": 0.0,
                "expected_fill_rate": 0.95,
                "demand_share": 1 / 3,
            }
            for seg in ("About to Sleep", "Champions", "Lost")
        ]
    )
    lines = pl.DataFrame(
        [
            (f"O{d}{c}", START + dt.timedelta(days=d), c, "A", 1.0, 1.0)
            for d in range(7)
            for c in ("C1", "C2", "C3")
        ],
        schema=["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"],
        orient="row",
    )
    got = held_out(
        lines,
        customers,
        policy=policy,
        segment_rows=rows,
        keys=["sku"],
        forecast_ds=pl.Series([START]),
        period_days=7.0,
    )
    assert got is not None
    return got.table.get_column("segment").to_list()


def test_held_out_table_orders_tied_priorities_by_segment_rank() -> None:
    customers = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "segment": ["About to Sleep", "Champions", "Lost"],
            "segment_rank": [9, 1, 11],
        }
    )
    assert _replay(customers) == ["Champions", "About to Sleep", "Lost", "(all)"]


def test_held_out_table_without_segment_rank_stays_by_label() -> None:
    customers = pl.DataFrame(
        {"customer_id": ["C1", "C2", "C3"], "segment": ["Lost", "Champions", "About to Sleep"]}
    )
    assert _replay(customers) == ["About to Sleep", "Champions", "Lost", "(all)"]
