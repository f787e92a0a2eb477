"""Report, audit R (session 65): the reorder list marks the points forecast under 1 unit a year
that stock warns of (R4)."""

from __future__ import annotations

import polars as pl
import pytest

from segchain.report import build_report
from segchain.report.model import TableBlock

TINY = "forecast under 1 unit a year"


# ---- R4: the reorder list marks the points forecast under 1 unit a year


def tiny_policy(kind: str) -> pl.DataFrame:
    """Weekly points, lead time 7 days and review 7, so the forecast demand over the 14 days is
    2 x the weekly mean. The rule's limit is 4 x (that + order_qty), by hand:
    A: 4 x (20 + 30) = 200, level 100, within, not marked;
    B: 4 x (4 + 6) = 40, level 100, over: 100 / 2 a week = 50 weeks;
    T: 4 x (2e-7 + 2) = 8.0000008, level 48, over, at 1e-7 a week = 5.2e-6 units a year, under
       1 (the demo's sku 00036 at DC-TLS: 48 units ordered, forecast 1e-7 a year);
    U: 0.01 a week = 0.52 a year, under 1, level 5 within its limit 4 x (0.02 + 2) = 8.08: not
       marked (stock names only the high levels)."""
    levels = [100.0, 100.0, 48.0, 5.0]
    return pl.DataFrame(
        {
            "sku": ["A", "B", "T", "U"],
            "policy_type": [kind] * 4,
            "reorder_point": [lv if kind == "sQ" else lv - 1 for lv in levels],
            "order_up_to": [lv if kind == "RS" else None for lv in levels],
            "order_qty": [30.0, 6.0, 2.0, 2.0],
            "mean_demand": [10.0, 2.0, 1e-7, 0.01],
            "period_days": [7.0] * 4,
            "lead_time_days": [7.0] * 4,
            "review_days": [7.0] * 4,
            "on_hand": [0.0] * 4,
            # Largest value first: T (48 x 5 = 240), A (40 x 1), B (30 x 1), U (5 x 1)
            "order_now": [40.0, 30.0, 48.0, 5.0],
            "unit_cost": [1.0, 1.0, 5.0, 1.0],
            "unit_cost_source": ["items"] * 4,
        }
    )


def reorder_list(policy: pl.DataFrame):  # type: ignore[no-untyped-def]
    report = build_report({"policy": policy})
    section = next(s for s in report.sections if s.key == "actions")
    table = next(b for b in section.blocks if isinstance(b, TableBlock))
    head = next(h for h in section.headlines if h.label == "Order now")
    return table, head


@pytest.mark.parametrize("kind", ["sQ", "RS"])
def test_reorder_list_marks_a_point_forecast_under_one_unit_a_year(kind):
    table, head = reorder_list(tiny_policy(kind))
    marks = dict(zip(table.frame["sku"], table.frame["check"], strict=True))
    # Before: T's line was blank ("tiny" points were dropped from the rule without a word).
    assert marks == {"A": "", "B": "level = 50 weeks", "T": TINY, "U": ""}
    assert (
        "2 to check before ordering: 1 at a level over 4 x its forecast demand over lead time, "
        f"review and one order, 1 {TINY}" in head.detail
    )
    assert f"{TINY}: 1 line whose level is years of its forecast demand" in table.note
    assert "check that the sku still sells there before ordering" in table.note


def test_reorder_list_marks_points_forecast_under_one_unit_a_year_alone():
    policy = tiny_policy("RS").filter(pl.col("sku").is_in(["A", "T", "U"]))
    table, head = reorder_list(policy)
    # Before: no check column at all, and the headline said nothing to check.
    assert table.frame["check"].to_list() == [TINY, "", ""]  # T, A, U by value
    assert f"1 to check before ordering: {TINY}" in head.detail
    assert "level over 4 x" not in head.detail
