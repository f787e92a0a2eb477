"""Report sections, audit G (session 63): the forecast chart's history runs to the last period the
forecast read (F7)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from segchain.report import build_report
from segchain.report.model import Chart

MONDAY = date(2024, 1, 1)


def fan_chart(tables, metadata=None) -> Chart:
    report = build_report(tables, metadata=metadata)
    return next(
        b for s in report.sections for b in s.blocks if isinstance(b, Chart) and b.key == "forecast"
    )


# ---- F7: the history drawn to the forecast's start, its quiet weeks as 0


def lapsing_tables() -> dict[str, pl.DataFrame]:
    """Champions c1 buys sku A in weeks 0 and 1 (3 and 4 units), then nothing; the forecast
    starts in week 6."""
    orders = pl.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "order_date": [MONDAY, MONDAY + timedelta(weeks=1)],
            "customer_id": ["c1", "c1"],
            "sku": ["A", "A"],
            "quantity": [3.0, 4.0],
        }
    )
    fc = pl.DataFrame(
        {
            "unique_id": ["Champions/A"] * 2,
            "ds": [MONDAY + timedelta(weeks=w) for w in (6, 7)],
            "forecast": [1.0, 1.0],
            "segment": ["Champions"] * 2,
            "sku": ["A"] * 2,
        }
    )
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["Champions"]})
    return {"forecast": fc, "orders": orders, "segments": segments}


@pytest.mark.parametrize(
    "metadata",
    [
        None,  # no metadata: the history ends before the forecast's first period
        # --as-of the Wednesday of week 5: its series ran to the week holding the Tuesday, and
        # its forecast starts the week after (forecast/series.py)
        {"forecast": {"params": {"as_of": str(MONDAY + timedelta(weeks=5, days=2))}}},
    ],
)
def test_fan_chart_history_runs_to_the_last_week_the_forecast_read(metadata):
    (panel,) = fan_chart(lapsing_tables(), metadata).plot.keywords["panels"]
    assert panel.history is not None
    # By hand: the forecast read weeks 0..5, weeks 2..5 without a line (0 each). The old code
    # stopped at week 1, the last line's.
    assert panel.history[0] == [MONDAY + timedelta(weeks=w) for w in range(6)]
    assert panel.history[1] == [3.0, 4.0, 0.0, 0.0, 0.0, 0.0]


# ---- F8: the reorder list marks the points stock warns to check before ordering


def levels_policy(kind: str) -> pl.DataFrame:
    """Weekly (s, Q) or (R, S) points, lead time 7 days and review 7: forecast demand over the
    14 days is 2 x the weekly mean. By hand, the limit is 4 x (that + order_qty):
    A: 4 x (20 + 30) = 200, level 100, within; B: 4 x (4 + 6) = 40, level 100, over, 100 / 2 =
    50 weeks; C: forecast 0.01 a week (0.52 a year, under 1): counted apart, not marked;
    D: over (level 300, limit 4 x (2 + 3) = 20) but nothing to order now."""
    levels = [100.0, 100.0, 50.0, 300.0]
    return pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "policy_type": [kind] * 4,
            "reorder_point": [lv if kind == "sQ" else lv / 2 for lv in levels],
            "order_up_to": [lv if kind == "RS" else None for lv in levels],
            "order_qty": [30.0, 6.0, 1.0, 3.0],
            "mean_demand": [10.0, 2.0, 0.01, 1.0],
            "period_days": [7.0] * 4,
            "lead_time_days": [7.0] * 4,
            "review_days": [7.0] * 4,
            "on_hand": [0.0] * 4,
            "order_now": [40.0, 30.0, 20.0, 0.0],
            "unit_cost": [1.0, 2.0, 3.0, 4.0],
            "unit_cost_source": ["items"] * 4,
            "inventory_value": [50.0, 200.0, 60.0, 1200.0],
        }
    )


def reorder_block(policy: pl.DataFrame):  # type: ignore[no-untyped-def]
    from segchain.report.model import TableBlock

    report = build_report({"policy": policy})
    section = next(s for s in report.sections if s.key == "actions")
    table = next(b for b in section.blocks if isinstance(b, TableBlock))
    head = next(h for h in section.headlines if h.label == "Order now")
    return table, head


def as_text(policy: pl.DataFrame) -> pl.DataFrame:
    """The policy as a CSV edited by hand may be read: every column text."""
    return policy.with_columns(pl.all().cast(pl.String))


@pytest.mark.parametrize("kind", ["sQ", "RS"])
@pytest.mark.parametrize("read", [lambda p: p, as_text], ids=["parquet", "text"])
def test_reorder_list_marks_the_points_whose_level_stock_warns_of(kind, read):
    table, head = reorder_block(read(levels_policy(kind)))
    marks = dict(zip(table.frame["sku"], table.frame["check"], strict=True))
    # The old code had no mark: the check column did not exist.
    assert marks == {"A": "", "B": "level = 50 weeks", "C": ""}
    assert "1 to check before ordering: a level over 4 x its forecast demand" in head.detail
    level = "order-up-to" if kind == "RS" else "reorder point"
    assert f"check: 1 line whose {level} is over 4 x the forecast demand" in table.note


def test_stock_warns_of_the_points_the_reorder_list_marks():
    from segchain.cli.stock_summary import high_levels

    said = high_levels(levels_policy("sQ"))
    # B (and D, which has nothing to order now); not A, not C (under 1 unit a year).
    assert said is not None and said.startswith("2 stocking points hold a level over 4 x")
    assert "sku B (reorder point 100 = 50 weeks" in said and "sku D" in said
    assert "sku A" not in said and "sku C" not in said


def test_reorder_list_has_no_check_column_when_every_level_fits():
    table, head = reorder_block(levels_policy("sQ").filter(pl.col("sku") != "B"))
    assert "check" not in table.frame.columns
    assert "to check before ordering" not in head.detail
