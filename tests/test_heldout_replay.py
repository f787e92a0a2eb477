"""The held-out replay (``tests/heldout.py``) on cases worked by hand, and against the demand
model a rationed plan was made for: it must realise the plan's lead time and reserve levels, or
its held-out figures say nothing about the plans."""

from __future__ import annotations

import numpy as np
import pytest
from heldout import serve
from test_stock_rationing import REVIEW, daily_demand, plan_of

NEVER = dict(s=-1e9, q=0.0, lead_days=0)  # (s, Q) that never orders


def test_a_reserve_keeps_stock_from_the_lower_segment_and_serves_it_down_to_that_level():
    # 5 on hand; segment 1 (reserve 2) asks 4 first, then segment 0 asks 2.
    day = [[(1, 4.0), (0, 2.0)]]
    asked, filled, held = serve(day, on_hand=5.0, reserves=(0.0, 2.0), **NEVER)
    assert asked == [2.0, 4.0] and filled == [2.0, 3.0] and held == 0.0
    # First come, first served, segment 1 takes 4 and leaves 1.
    asked, filled, held = serve(day, on_hand=5.0, reserves=(0.0, 0.0), **NEVER)
    assert filled == [1.0, 4.0] and held == 0.0


def test_an_arrival_fills_every_backorder_from_all_the_stock_on_hand():
    # Reserve 2 for segment 1; 4 on hand. Day 0: segment 1 asks 2 and gets 2 (down to its
    # reserve); the review orders up to 4: 2 units, on the shelf on day 2 (lead 1). Day 1:
    # segment 1 asks 3, gets none (2 on hand, its reserve), owes 3. Day 2: the 2 units arrive;
    # with the 2 kept back that makes 4, which pay the 3 owed, leaving 1 for segment 0's 2.
    # (Paid from the arriving units alone, 1 would stay owed and segment 0 get 2.)
    days = [[(1, 2.0)], [(1, 3.0)], [(0, 2.0)]]
    asked, filled, held = serve(
        days,
        s=0.0,
        q=0.0,
        up_to=4.0,
        review_days=7,
        lead_days=1,
        on_hand=4.0,
        reserves=(0.0, 2.0),
    )
    assert asked == [2.0, 5.0] and filled == [1.0, 2.0]
    assert held == pytest.approx((2.0 + 2.0 + 0.0) / 3)


def test_lead_days_whole_days_of_demand_wait_for_an_order():
    # Order up to 5 every night; 5 asked on day 0 empties the shelf and orders 5 that night.
    # With a lead time of 2 days, days 1 and 2 wait for it and day 3 is served from it.
    days = [[(0, 5.0)], [], [], [(0, 5.0)]]
    _, filled, _ = serve(days, s=0.0, q=0.0, up_to=5.0, lead_days=2, on_hand=5.0)
    assert filled == [10.0]
    _, filled, _ = serve(days, s=0.0, q=0.0, up_to=5.0, lead_days=3, on_hand=5.0)
    assert filled == [5.0]
    # (s, Q) alike: at or below s = 0 the night of day 0, Q = 5 on the shelf on day 3.
    _, filled, _ = serve(days, s=0.0, q=5.0, lead_days=2, on_hand=5.0)
    assert filled == [10.0]


def test_reviews_fall_on_the_phase_given():
    # Weekly review on day 2 (phase 2): the order placed then (lead 0) is there on day 3.
    days = [[(0, 5.0)], [], [], [(0, 5.0)]]
    _, filled, _ = serve(
        days, s=0.0, q=0.0, up_to=5.0, review_days=7, phase=2, lead_days=0, on_hand=5.0
    )
    assert filled == [10.0]
    _, filled, _ = serve(
        days, s=0.0, q=0.0, up_to=5.0, review_days=7, phase=3, lead_days=0, on_hand=5.0
    )
    assert filled == [5.0]


@pytest.mark.parametrize("sku", ["FAST", "LUMPY"])
def test_a_rationed_plan_replayed_on_its_own_demand_model_gives_what_it_expects(sku: str):
    # The plan of test_stock_rationing (14-day lead time, weekly review, critical levels),
    # replayed over 4,000 weeks of the demand it was planned for (each segment's day one
    # arrival, in random order): every segment's fill rate within 0.01 of the plan's own
    # expected one (the plan's estimate comes from 20,000 simulated cycles of its own).
    policy, segments, rows = plan_of(sku)
    assert policy["rationed"][0]
    weeks = 4_000
    rng = np.random.default_rng(5)
    demand = np.stack([daily_demand(rng, m, sd, weeks * 7) for _, _, m, sd in rows], axis=1)
    order = np.argsort(rng.random(demand.shape), axis=1)
    days = [
        [(int(k), float(demand[t, k])) for k in order[t] if demand[t, k] > 0]
        for t in range(demand.shape[0])
    ]
    by_seg = {r["segment"]: r for r in segments.iter_rows(named=True)}
    names = [g for _, g, _, _ in rows]
    asked, filled, _ = serve(
        days,
        s=0.0,
        q=0.0,
        up_to=float(policy["order_up_to"][0]),
        review_days=REVIEW,
        lead_days=int(policy["lead_time_days"][0]),
        on_hand=float(policy["order_up_to"][0]),
        reserves=[by_seg[g]["reserve_level"] for g in names],
        score_from=10 * 7,
    )
    for k, g in enumerate(names):
        fill = filled[k] / asked[k]
        assert abs(fill - by_seg[g]["expected_fill_rate"]) < 0.01, (g, fill, by_seg[g])
