"""What stock says of a sparse catalogue's held points (session 53): the expected service of a
point whose history never shows a sale after a period without one, and the counts behind a
segment's shortfall on stderr and in the report's promise table."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from heldout import weekly_order_up_to

from segchain.config import PolicyTable, SegmentPolicy
from segchain.report import build_report
from segchain.report.model import TableBlock
from segchain.stock import simulate, stock
from segchain.stock.bootstrap import unseen_frequency

MONDAY = date(2024, 1, 1)
# The forecast starts after 12 weeks of order history (weeks 0-11).
WEEKS = [MONDAY + timedelta(weeks=12 + i) for i in range(4)]


def orders(lines: list[tuple[str, int, float]]) -> pl.DataFrame:
    """Order lines (sku, week number, quantity), each on the Wednesday of its week."""
    return pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(lines))],
            "order_date": [MONDAY + timedelta(weeks=w, days=2) for _, w, _ in lines],
            "customer_id": "C1",
            "sku": [s for s, _, _ in lines],
            "quantity": [q for _, _, q in lines],
        }
    )


def tiny(skus: list[str]) -> pl.DataFrame:
    # A tiny, over-dispersed mean: the negative binomial fit asks for over 50 units, above any
    # of these histories, so every point is held at its history's largest demand.
    return pl.DataFrame(
        [{"sku": s, "ds": d, "forecast": 0.05, "error_sd": 40.0} for s in skus for d in WEEKS]
    )


@pytest.mark.parametrize(
    ("sells", "unseen"),
    [
        ([1], True),  # one period, its only sale
        ([1, 0, 0, 0], True),  # one sale, nothing after
        ([1, 1, 0, 0], True),  # one run of sales that ended
        ([1, 0, 1, 0], False),  # sold again after a pause
        ([1, 1, 1], False),  # sold in every one of three periods
    ],
)
def test_how_often_a_history_sells_is_unseen_without_a_sale_after_a_pause(
    sells: list[int], unseen: bool
) -> None:
    assert unseen_frequency(np.array(sells, dtype=bool)) is unseen


def test_a_held_point_sold_once_has_no_expected_service() -> None:
    # Superstore by product and region, (R, S) weekly with the demo's targets: 21-22 points
    # whose only sale fell in the week before the cut-off carried 26-31 % of the held points'
    # forecast demand at an expected fill rate of 0.004 (their bootstrap sold every week) and
    # took Champions' expected fill at held points to 44.9 % (delivered 73.5 %; now 77.2 %,
    # docs/measurements.md, *Held points whose history shows one sale*); 367-396 sold once long
    # before expected 1.0 (the bootstrap never sold again) and delivered 0.64-0.77. A single
    # sale says nothing of how often: replayed here (written apart from the stage) at S = 7
    # with a one-week lead time, the same one-week history of 7 units selling in 5 % or in
    # 90 % of the weeks gives a fill rate near 0.95 or near 0.1. So no figure is the plan's.
    rng = random.Random(0)
    rare = [7.0 if rng.random() < 0.05 else 0.0 for _ in range(20_000)]
    often = [7.0 if rng.random() < 0.9 else 0.0 for _ in range(20_000)]
    assert weekly_order_up_to(rare, 7.0) == pytest.approx(0.95, abs=0.02)
    assert weekly_order_up_to(often, 7.0) == pytest.approx(0.10, abs=0.02)

    o = orders([("N", 11, 7.0), ("A", 0, 2.0), ("R", 0, 2.0), ("R", 6, 2.0)])
    items = pl.DataFrame({"sku": ["N", "A", "R"], "lead_time_days": [7.0] * 3})
    res = stock(tiny(["N", "A", "R"]), orders=o, items=items, review_days=7, service_level=0.95)
    p = {r["sku"]: r for r in res.policy.iter_rows(named=True)}
    assert {k: v["demand_model"] for k, v in p.items()} == dict.fromkeys("NAR", "bootstrap")
    # Held at its one sale, as before; its service is unknown, not 0 (N) or 1 (A).
    for sku, level in (("N", 7.0), ("A", 2.0)):
        assert p[sku]["order_up_to"] == p[sku]["history_max"] == level
        assert p[sku]["expected_fill_rate"] is None and p[sku]["expected_csl"] is None
        assert not p[sku]["capped"]
        # What it holds while it does not sell: its level.
        assert p[sku]["avg_inventory"] == level
    # Sold again after a pause: the bootstrap's figure stands.
    assert p["R"]["expected_fill_rate"] is not None and 0 < p["R"]["expected_fill_rate"] < 1
    (note,) = [n for n in res.notes if n.startswith("3 slow or lumpy")]
    assert note.endswith(
        "; 2 of them have a history that never shows a sale after a period without one (one "
        "sale, or one run of sales that ended): how often they sell is unseen, so their "
        "expected service is left empty"
    )
    # The shortfall's figure is the mean over the points whose service is known: R's alone
    # (N and A, unknown, had counted as 0 % in it); nothing is said of the other points' service.
    (short,) = [n for n in res.notes if "expected fill rate" in n]
    assert short.startswith(
        f"all demand (no segments): expected fill rate {p['R']['expected_fill_rate']:.1%} "
        "against its 95.0% target, below it at 1 of the 3 stocking points it buys at, because "
        "of its 1 capped stocking point ("
    )
    assert short.endswith(f"of its demand at {p['R']['expected_fill_rate']:.1%}")
    # `--simulate` replays the plan's own demand model: none drawn where how often is unseen
    # (N's chain had sold 7 every week, against a plan that holds 7: achieved about 0).
    sim = simulate(res.policy, periods=520, history=res.history, keys=list(res.keys))
    achieved = dict(zip(sim["sku"].to_list(), sim["achieved_fill_rate"].to_list(), strict=True))
    assert achieved["N"] is None and achieved["A"] is None and achieved["R"] is not None


def test_sq_held_point_sold_once_holds_its_level_and_half_an_order() -> None:
    o = orders([("A", 0, 2.0)])
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [7.0], "order_cost": [0.01]})
    res = stock(tiny(["A"]), orders=o, items=items, policy_type="sQ", service_level=0.95)
    (p,) = res.policy.iter_rows(named=True)
    assert p["demand_model"] == "bootstrap" and p["expected_fill_rate"] is None
    # Whole units: the position after ordering is uniform on s+1, ..., s+Q (mean s + (Q+1)/2),
    # all of it on hand while nothing sells.
    q = max(round(p["order_qty"]), 1)
    assert p["avg_inventory"] == pytest.approx(p["reorder_point"] + (q + 1) / 2)


GOLD_BRONZE = PolicyTable(
    {"gold": SegmentPolicy(service_level=0.99), "bronze": SegmentPolicy(service_level=0.90)}
)


def test_stderr_and_the_promise_table_count_the_same_points() -> None:
    # Superstore by product, (s, Q) nightly, no item master: stderr said 380 of Champions'
    # stocking points are capped while the report's promise table said 888 points below
    # target: different things (a point planned for the blend of its segments' targets is
    # below the top one's without a cap), both true, reading as a contradiction. Gold buys at
    # A, shared with bronze (planned for the blend 0.945, below gold's 0.99), and at B, a tiny
    # point held at its upper forecast bound: below its target at both, capped at one.
    fc = pl.concat(
        [
            pl.DataFrame(
                [
                    {"sku": "A", "segment": seg, "ds": d, "forecast": 50.0, "error_sd": 10.0}
                    for seg in ("gold", "bronze")
                    for d in WEEKS
                ]
            ),
            pl.DataFrame(
                [
                    {"sku": "B", "segment": "gold", "ds": d, "forecast": 0.059, "error_sd": 103.1}
                    for d in WEEKS
                ]
            ),
        ]
    ).with_columns(pl.lit(359.3).alias("forecast-hi-95"))
    # Served first come, first served (as every (s, Q) point was before (s, Q) was rationed).
    res = stock(fc, policies=GOLD_BRONZE, policy_type="sQ", rationing="none")
    p = {r["sku"]: r for r in res.policy.iter_rows(named=True)}
    assert p["B"]["capped"] and not p["A"]["capped"]
    assert p["A"]["expected_fill_rate"] < 0.99 and p["B"]["expected_fill_rate"] < 0.99
    (note,) = [n for n in res.notes if n.startswith("gold: expected fill rate")]
    assert "target, below it at 2 of the 2 stocking points it buys at: " in note
    assert "; its 1 capped stocking point (" in note
    assert res.segments is not None
    report = build_report({"policy": res.policy, "stock_segments": res.segments})
    actions = next(s for s in report.sections if s.key == "actions")
    table = next(b for b in actions.blocks if isinstance(b, TableBlock) and "kept" in b.title)
    row = table.frame.filter(pl.col("segment") == "gold").row(0, named=True)
    assert (row["points_below_target"], row["capped_points"]) == (2, 1)
    assert "Points below target: the stocking points where the segment gets less" in table.note


def test_points_forecast_no_demand_that_sold_in_the_last_year_are_counted() -> None:
    # Superstore by product and region, (R, S) weekly from 2022-06-06: 2,306 of 4,669 points
    # were forecast 0 and took 40 % of the units the next 8 weeks asked, none from stock, with
    # nothing said: Champions expected 77 % and got 52 %. Z, forecast 0, sold 3 + 2 units in
    # the 52 weeks before the forecast (weeks 18-69); Y, forecast 0 too, last sold in week 10;
    # B sold 1 a week all along (52 of those weeks' units). By hand: 1 of 2, 5 units, 5 / 57.
    start = MONDAY + timedelta(weeks=70)
    lines = [("B", w, 1.0) for w in range(70)] + [("Z", 60, 3.0), ("Z", 65, 2.0), ("Y", 10, 4.0)]
    fc = pl.DataFrame(
        [
            {"sku": s, "ds": start + timedelta(weeks=i), "forecast": f, "error_sd": e}
            for s, f, e in (("B", 1.0, 1.0), ("Z", 0.0, 0.0), ("Y", 0.0, 0.0))
            for i in range(4)
        ]
    )
    res = stock(fc, orders=orders(lines), review_days=7, service_level=0.95)
    (note,) = [n for n in res.notes if "forecast no demand sold" in n]
    assert note == (
        f"1 of the 2 stocking points forecast no demand sold in the 52 weeks before the forecast "
        f"(5 units, {5 / 57:.1%} of those weeks' units): they hold no stock, and their demand, "
        "if it comes again, is in no expected fill rate"
    )
