"""The forecast table says what made each series' numbers: the reconciliation method, and under
top-down the model of the sku forecast that was split, not the series' own (which made none)."""

from __future__ import annotations

import polars as pl
import pytest
from test_forecast import orders_from_series

from segchain.forecast import forecast

SEGMENTS = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["A", "B"]})
# Sku k rises by 10 units a week; segment A buys it in the even weeks, B in the odd ones.
WEEKS = 24
RISING = [10.0 * (w + 1) for w in range(WEEKS)]
A = [q if w % 2 == 0 else 0.0 for w, q in enumerate(RISING)]
B = [q - a for q, a in zip(RISING, A, strict=True)]


def run(**kw):
    return forecast(
        orders_from_series({("a", "k"): A, ("b", "k"): B}),
        SEGMENTS,
        n_jobs=1,
        horizon=2,
        models="Naive,WindowAverage",
        **kw,
    )


def test_a_top_down_forecast_names_the_sku_model_that_was_split():
    # On the sku's straight line the naive forecast misses by one week's rise (10, then 20 two
    # weeks ahead), the 8-week average by 4.5 weeks' rise and more: Naive is the sku's model. On
    # each segment's alternating weeks the naive forecast misses by a whole week's demand every
    # other week, the average by about half of it: WindowAverage is the segments' own model.
    r = run(reconcile="top-down")
    sku = r.backtest.filter(pl.col("scope") == "sku").row(0, named=True)
    series = r.backtest.filter(pl.col("scope") == "series")
    assert sku["model"] == "Naive"
    assert series.get_column("model").unique().to_list() == ["WindowAverage"]
    # The forecast rows carry the split naive forecast, and say so.
    fc = r.forecast
    assert fc.get_column("model").unique().to_list() == ["Naive"]
    assert fc.get_column("reconciliation").unique().to_list() == ["top-down"]
    # The split is the sku's last week (240) by each segment's share of its history: A bought
    # the odd-numbered weeks' 10, 30, ..., 230 (1,440 of 3,000 units).
    a = fc.filter(pl.col("segment") == "A").get_column("forecast").to_list()
    assert a == pytest.approx([240.0 * 1440 / 3000] * 2)


def test_bottom_up_keeps_each_series_own_model_and_says_it_was_reconciled():
    r = run(reconcile="bottom-up")
    fc = r.forecast
    assert fc.get_column("model").unique().to_list() == ["WindowAverage"]
    assert fc.get_column("reconciliation").unique().to_list() == ["bottom-up"]


def test_no_reconciliation_leaves_the_column_empty():
    for kw in ({"reconcile": "none"}, {"by": "sku"}):
        fc = run(**kw).forecast
        assert "reconciliation" in fc.columns
        assert fc.get_column("reconciliation").null_count() == fc.height
