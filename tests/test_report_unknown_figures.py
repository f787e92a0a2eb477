"""report: the figures of the charts and headlines treat an unknown cell (null, NaN, infinite) as
unknown, not as 0, and say what they left out (test_report_unknown_tables.py's style).

The known answers are worked out here from the frames, not by the report's code.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
from matplotlib.figure import Figure
from test_report_unknown_tables import NAN, on_both_pages

from segchain.report import build_report
from segchain.report import charts as ch
from segchain.report.model import Chart

MONDAY = date(2024, 1, 1)


def chart(report, key: str) -> Chart:
    return next(
        b for s in report.sections for b in s.blocks if isinstance(b, Chart) and b.key == key
    )


# ---- forecast: the fan chart


def four_series(first: list[float]) -> pl.DataFrame:
    """Four weekly series of 4 periods: A (``first``), then B, C, D at 30, 29, 28 a week."""
    rows = [("A", first), ("B", [30.0] * 4), ("C", [29.0] * 4), ("D", [28.0] * 4)]
    return pl.DataFrame(
        {
            "unique_id": [uid for uid, values in rows for _ in values],
            "ds": [MONDAY + timedelta(weeks=i) for _, values in rows for i in range(len(values))],
            "forecast": [v for _, values in rows for v in values],
        }
    )


def test_fan_chart_does_not_rank_an_unknown_period_as_zero():
    # A forecasts 50 a week where known: the largest series (4 x 50 = 200 over the horizon
    # against B's 120). The old code summed its two unknown weeks as 0 (100) and drew B, C, D.
    report = build_report({"forecast": four_series([50.0, NAN, None, 50.0])})
    fan = chart(report, "forecast")
    panels = fan.plot.keywords["panels"]
    assert [p.uid for p in panels] == ["A", "B", "C"]
    said = "an unknown period counts at its series' known mean in the ranking"
    assert said in fan.caption
    on_both_pages(report, said)


def test_fan_chart_draws_an_unknown_period_as_a_gap_not_a_zero():
    fc = four_series([50.0, NAN, None, 50.0]).filter(pl.col("unique_id") == "A")
    report = build_report({"forecast": fc})
    panels = chart(report, "forecast").plot.keywords["panels"]
    fig = Figure()
    ch.forecast_fan(fig, panels)
    line = next(ln for ln in fig.axes[0].get_lines() if ln.get_label() == "forecast")
    drawn = [float(y) for y in line.get_ydata()]
    # The old code drew the two unknown weeks at 0.
    assert drawn[0] == drawn[3] == 50.0
    assert math.isnan(drawn[1]) and math.isnan(drawn[2])


def test_fan_chart_leaves_out_a_series_with_no_known_forecast():
    # The old code drew A, all its weeks unknown, as a forecast of 0 beside B.
    fc = four_series([NAN] * 4).filter(pl.col("unique_id").is_in(["A", "B"]))
    fan = chart(build_report({"forecast": fc}), "forecast")
    assert [p.uid for p in fan.plot.keywords["panels"]] == ["B"]
