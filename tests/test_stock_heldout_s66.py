"""The held-out replay of a point forecast nothing: the stage plans it no stock and orders only
what it owes (``order_now``, like (R, S) with S 0), so on the held-out weeks it fills nothing
from stock and holds nothing. Its (s, Q) of s 0 and one pack had been replayed from 1..Q units
on hand and kept them, crediting the plan with service and stock it does not have (Superstore
by product: 44.6 % delivered said, 29.0 % as planned; audit S S1, session 66)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_stock_heldout import START, _policy, _segment_rows

from segchain.stock.heldout import WARMUP_DAYS, replay_plan


def _daily(sku: str, days: int, first: dt.date) -> pl.DataFrame:
    # One unit asked every other day of the warm-up and the scored days.
    n = WARMUP_DAYS + days
    return pl.DataFrame(
        {
            "sku": sku,
            "segment": "Gold",
            "day": [first + dt.timedelta(days=d) for d in range(0, n, 2)],
            "q": 1.0,
        }
    )


@pytest.mark.parametrize("policy_type", [None, "RS"])
def test_a_point_forecast_nothing_fills_nothing_and_holds_nothing(policy_type) -> None:
    days, first = 56, START - dt.timedelta(days=WARMUP_DAYS)
    # The stage's (s, Q) row of a point forecast 0: s 0, one pack of 6, S 0.
    plan = _policy(
        sku="Z", policy_type=policy_type, mean_demand=0.0, reorder_point=0.0, order_qty=6.0
    ).with_columns(pl.col("policy_type").cast(pl.String))
    rows = _segment_rows("Z", [("Gold", 1, 0.0, 1.0)])
    got = replay_plan(plan, rows, _daily("Z", days, first), ["sku"], first=first, days=days)
    assert got["asked"].sum() == days / 2  # every other scored day, one unit
    assert got["filled"].sum() == 0.0
    assert got["stock_units"].sum() == 0.0


def test_a_point_with_demand_keeps_its_s_q() -> None:
    # The same (s, Q) with demand forecast: s 0, Q 6, no lead time, started at 1..6 on hand,
    # orders 6 when the position reaches 0 and has it the next morning: every unit filled.
    days, first = 56, START - dt.timedelta(days=WARMUP_DAYS)
    plan = _policy(
        sku="A", policy_type=None, mean_demand=0.5, reorder_point=0.0, order_qty=6.0
    ).with_columns(pl.col("policy_type").cast(pl.String))
    rows = _segment_rows("A", [("Gold", 1, 0.0, 1.0)])
    got = replay_plan(plan, rows, _daily("A", days, first), ["sku"], first=first, days=days)
    assert got["filled"].sum() == got["asked"].sum() == days / 2
    assert got["stock_units"].sum() > 0
