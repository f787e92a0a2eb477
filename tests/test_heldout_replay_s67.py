"""The benches' held-out replay (``tests/heldout.py``) of a point forecast nothing: the stage
plans it no stock and orders only what it owes (``order_now``, like (R, S) with S 0), so over
the held-out weeks it fills nothing from stock and holds nothing. ``replay`` and
``replay_segments`` had run its (s, Q) of s 0 and one pack from 1..Q units on hand, which it
kept: the README's sparse-products figures credited the plans with service and stock they do
not have (audit S S1, session 66; the stage's own replay was mended in 4c8b7d6).

Known answers worked by hand below."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from heldout import replay, replay_segments

START = dt.date(2024, 3, 4)  # a Monday


def _policy(**rows: list) -> pl.DataFrame:
    # The columns `stock` writes that the replays read; one row per sku given.
    n = len(rows["sku"])
    base = dict(
        policy_type=["sQ"] * n,
        review_days=[1.0] * n,
        reorder_point=[0.0] * n,
        order_qty=[6.0] * n,
        order_up_to=[0.0] * n,
        lead_time_days=[1.0] * n,
        unit_cost=[10.0] * n,
    )
    return pl.DataFrame({**base, **rows})


def _daily(*lines: tuple[str, int, float]) -> pl.DataFrame:
    # (sku, day after START, units): what ``heldout.daily_demand`` gives.
    return pl.DataFrame(
        {
            "sku": [s for s, _, _ in lines],
            "day": [START + dt.timedelta(days=d) for _, d, _ in lines],
            "q": [q for _, _, q in lines],
        }
    )


def test_a_point_forecast_nothing_fills_nothing_and_holds_nothing() -> None:
    # Forecast 0: s 0, one pack of 6, 5 units asked in the week replayed (2 on day 0, 3 on
    # day 4). Nothing on hand, it owes 2 the night of day 0, orders 2 (lead 1: on the shelf
    # day 2, paying the 2 owed), then owes 3 on day 4 and orders 3: 0 of 5 filled, 0 held.
    # (Its (s, Q) had started at 1, 2, 3, 4 or 6 units on hand: 4.2 of the 5 filled, 0.84.)
    policy = _policy(sku=["Z"], mean_demand=[0.0])
    fill, held = replay(policy, _daily(("Z", 0, 2.0), ("Z", 4, 3.0)), START, 1)
    assert fill == 0.0
    assert held == 0.0


def test_an_empty_forecast_is_forecast_nothing_too() -> None:
    # mean_demand empty: as 0 (the stage's rule, stock.inputs.FORECAST_NOTHING).
    policy = _policy(sku=["Z"], mean_demand=[None]).with_columns(
        pl.col("mean_demand").cast(pl.Float64)
    )
    assert replay(policy, _daily(("Z", 0, 5.0)), START, 1) == (0.0, 0.0)


def test_what_it_owes_is_ordered_in_whole_packs_as_order_now_orders_it() -> None:
    # Forecast 0, packs of 6: 5 asked on day 0, owed; the night of day 0 it orders one pack
    # (6 >= 5), on the shelf on day 2 (lead 1), which pays the 5 and leaves 1 on hand on days
    # 2..6: 0 filled, 5/7 of a unit on hand on average, at 10 each.
    policy = _policy(sku=["Z"], mean_demand=[0.0], pack_size=[6.0], moq=[0.0])
    fill, held = replay(policy, _daily(("Z", 0, 5.0)), START, 1)
    assert fill == 0.0
    assert held == pytest.approx(10.0 * 5 / 7)


def test_a_point_with_demand_forecast_keeps_its_s_q_beside_one_forecast_nothing() -> None:
    # A: forecast 0.5 a day, s 0, Q 6, lead 0, started at floor(linspace(1, 6, 5)) = 1, 2, 3,
    # 4, 6 units; 1 unit asked on day 0, filled at every start. From 1: 0 left, orders 6, on
    # the shelf on day 1, so (0 + 6 x 6) / 7 on hand; from 2, 3, 4, 6: 1, 2, 3, 5 all week.
    # Z: forecast 0, 5 units asked on day 0, none filled, none held. Fill 1 / 6.
    policy = _policy(
        sku=["A", "Z"], mean_demand=[0.5, 0.0], lead_time_days=[0.0, 1.0], unit_cost=[1.0, 9.0]
    )
    fill, held = replay(policy, _daily(("A", 0, 1.0), ("Z", 0, 5.0)), START, 1)
    assert fill == pytest.approx(1 / 6)
    assert held == pytest.approx((36 / 7 + 1 + 2 + 3 + 5) / 5)


def _orders(*lines: tuple[str, int, float]) -> pl.DataFrame:
    # (sku, day after START, units) of segment Gold's customers.
    return pl.DataFrame(
        {
            "sku": [s for s, _, _ in lines],
            "segment": "Gold",
            "order_date": [START + dt.timedelta(days=d) for _, d, _ in lines],
            "quantity": [q for _, _, q in lines],
            "flag": pl.Series([None] * len(lines), dtype=pl.String),
        }
    )


@pytest.mark.parametrize("policy_type, review_days", [("sQ", 1.0), ("RS", 7.0)], ids=["sQ", "RS"])
def test_per_segment_a_point_forecast_nothing_fills_nothing_and_holds_nothing(
    policy_type: str, review_days: float
) -> None:
    # The same point per segment, 8 weeks of warm-up: 2 units asked in the warm-up (day -20),
    # then 2 on day 0 and 3 on day 10 of the 2 weeks scored. Each order pays what is owed
    # when it comes and nothing is left: 0 of 5 filled, 0 on hand.
    policy = _policy(
        sku=["Z"], policy_type=[policy_type], review_days=[review_days], mean_demand=[0.0]
    )
    segments = pl.DataFrame(
        {"sku": ["Z"], "segment": ["Gold"], "reserve_level": [0.0], "demand_share": [1.0]}
    )
    orders = _orders(("Z", -20, 2.0), ("Z", 0, 2.0), ("Z", 10, 3.0))
    got = replay_segments(policy, segments, orders, keys=["sku"], start=START, weeks=2)
    assert got["asked"].sum() == 5.0
    assert got["filled"].sum() == 0.0
    assert got["stock_units"].sum() == 0.0
