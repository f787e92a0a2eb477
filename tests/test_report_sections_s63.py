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
