"""The backtest frame cut once a level's final forecast is made (``report_rows_only``): the
rows dropped are never read again, so every output is the same as with the whole frame."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_forecast_reconcile import two_segment_orders

import segchain.forecast.stage as stage
from segchain.forecast import forecast
from segchain.forecast.options import Plan
from segchain.forecast.selection import Selection, report_rows_only


def _outputs(r) -> list[pl.DataFrame]:
    return [r.forecast, r.backtest, r.comparison, r.summary]


@pytest.mark.parametrize(
    "options",
    [{}, {"reconcile": "none"}, {"models": "AutoETS,Naive"}, {"by": "sku"}],
    ids=["auto", "reconcile-none", "models-named", "by-sku"],
)
def test_cutting_the_backtest_frame_changes_no_output(monkeypatch, options):
    orders, segments = two_segment_orders()
    cut = forecast(orders, segments, freq="W", horizon=4, n_jobs=1, **options)
    monkeypatch.setattr(stage, "report_rows_only", lambda sel, plan: sel)
    whole = forecast(orders, segments, freq="W", horizon=4, n_jobs=1, **options)
    assert cut.reconciliation == whole.reconciliation
    for a, b in zip(_outputs(cut), _outputs(whole), strict=True):
        assert a.equals(b)


def test_report_rows_only_keeps_the_baselines_and_each_series_choice():
    day = dt.date(2024, 1, 1)
    models = ["AutoETS", "AutoTheta", "Naive", "SeasonalNaive", "WindowAverage"]
    models += ["WindowAverage4", "WindowAverage13", "CrostonSBA", "Global"]
    cv = pl.DataFrame(
        {
            "unique_id": ["a"] * len(models) + ["b"] * len(models),
            "ds": [day] * (2 * len(models)),
            "cutoff": [day] * (2 * len(models)),
            "y": [1.0] * (2 * len(models)),
            "model": models * 2,
            "yhat": [1.0] * (2 * len(models)),
        }
    )
    stats = pl.DataFrame({"unique_id": ["a", "b", "c"], "model": ["Global", "AutoETS", None]})
    sel = Selection(stats=stats, cv=cv, rows=cv.head(0))
    plan = Plan(freq="W", horizon=1, season=52, window=8, models=None)
    kept = report_rows_only(sel, plan).cv
    expected = {"Naive", "SeasonalNaive", "WindowAverage", "WindowAverage4", "WindowAverage13"}
    expected |= {"Global", "AutoETS"}
    assert set(kept.get_column("model").to_list()) == expected
    assert kept.height == 2 * len(expected)
    assert sel.cv.height == 2 * len(models)  # the selection given is left as it was
