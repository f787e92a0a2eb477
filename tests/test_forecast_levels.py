"""The backtest's rows of the levels above the segment series: the sku series forecast directly
(the forecast top-down splits, MinT reconciles with) and the grand total, each its chosen model."""

from __future__ import annotations

import polars as pl
import pytest
from test_forecast import orders_from_series

from segchain.forecast import forecast

# Two customers, one per segment.
SEGMENTS = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["A", "B"]})
# 20 weeks of sku x, bought by both segments.
SKU_X = {
    ("a", "x"): [3.0, 5, 2, 8, 6, 4, 9, 7, 5, 6, 8, 3, 7, 9, 4, 6, 5, 8, 2, 7],
    ("b", "x"): [1.0, 0, 2, 0, 1, 3, 0, 0, 2, 1, 0, 4, 1, 0, 2, 1, 0, 3, 6, 5],
}


def run(values_by_key, **kw):
    return forecast(orders_from_series(values_by_key), SEGMENTS, n_jobs=1, **kw)


def naive_wape(y: list[float]) -> float:
    """WAPE of the naive forecast over two backtest windows of 2 periods at the end of 20
    periods (cutoffs at the 16th and 18th period: the last 4 periods scored)."""
    errors = [abs(y[15] - y[16]), abs(y[15] - y[17]), abs(y[17] - y[18]), abs(y[17] - y[19])]
    return sum(errors) / sum(y[16:])


def test_backtest_sku_row_names_the_default_average_of_a_constant_sku_and_wape_zero():
    # Segment A buys 10 in the even weeks, B in the odd ones: each segment series is lumpy, the
    # sku's is exactly 10 a week. Every moving average and the naive forecast it without error,
    # so nothing beats the default moving average by the one-standard-error rule (README,
    # Selection) and it is the sku's model, with WAPE 0; the total is the same series.
    a = [10.0 if w % 2 == 0 else 0.0 for w in range(20)]
    b = [10.0 - q for q in a]
    r = run({("a", "k"): a, ("b", "k"): b}, horizon=2)
    sku = r.backtest.filter(pl.col("scope") == "sku")
    assert sku.height == 1
    row = sku.row(0, named=True)
    assert (row["unique_id"], row["sku"], row["segment"]) == ("k", "k", None)
    assert row["model"] == "WindowAverage"
    assert row["wape"] == 0.0 and row["baseline_wape"] == 0.0
    assert row["backtest_actual"] == 40.0  # 4 weeks of 10 units
    total = r.backtest.filter(pl.col("scope") == "total").row(0, named=True)
    assert (total["model"], total["wape"], total["backtest_actual"]) == ("WindowAverage", 0.0, 40.0)
    # The segment series' models do not forecast their alternating weeks without error.
    series = r.backtest.filter(pl.col("scope") == "series")
    assert series.get_column("wape").min() > 0


def test_backtest_sku_and_total_rows_score_their_own_series_by_hand():
    # Only Naive allowed: each level's naive forecast of its own series, which a naive
    # forecast of the segment series summed is not.
    values = {
        **SKU_X,
        ("a", "y"): [4.0, 4, 6, 5, 3, 7, 4, 6, 5, 5, 4, 6, 8, 3, 5, 4, 9, 2, 6, 4],
        ("b", "y"): [2.0, 1, 0, 3, 2, 2, 1, 0, 4, 2, 1, 1, 0, 2, 3, 7, 1, 2, 0, 3],
    }
    x = [p + q for p, q in zip(values["a", "x"], values["b", "x"], strict=True)]
    y = [p + q for p, q in zip(values["a", "y"], values["b", "y"], strict=True)]
    total = [p + q for p, q in zip(x, y, strict=True)]
    r = run(values, horizon=2, models="Naive")
    sku = r.backtest.filter(pl.col("scope") == "sku")
    assert sku.get_column("unique_id").to_list() == ["x", "y"]
    assert sku.get_column("model").to_list() == ["Naive", "Naive"]
    assert sku.get_column("wape").to_list() == pytest.approx([naive_wape(x), naive_wape(y)])
    assert sku.get_column("backtest_actual").to_list() == [sum(x[16:]), sum(y[16:])]
    row = r.backtest.filter(pl.col("scope") == "total").row(0, named=True)
    assert (row["unique_id"], row["model"]) == ("total", "Naive")
    assert row["wape"] == pytest.approx(naive_wape(total))
    # Not the segment series summed: x's naive errors per segment add up to more.
    seg_x = sum(naive_wape(values[c, "x"]) * sum(values[c, "x"][16:]) for c in ("a", "b")) / sum(
        x[16:]
    )
    assert seg_x != pytest.approx(naive_wape(x))


def test_backtest_rows_run_series_summaries_levels_then_comparisons():
    values = {
        **SKU_X,
        ("b", "y"): [2.0, 1, 0, 3, 2, 2, 1, 0, 4, 2, 1, 1, 0, 2, 3, 7, 1, 2, 0, 3],
    }
    scopes = run(values, horizon=2).backtest.get_column("scope").to_list()
    blocks = [s for k, s in enumerate(scopes) if k == 0 or scopes[k - 1] != s]
    assert blocks == ["series", "segment", "overall", "sku", "total", "comparison"]
    assert scopes.count("sku") == 2 and scopes.count("total") == 1


def test_backtest_has_no_level_rows_without_a_segment_level():
    values = {("a", "x"): SKU_X["a", "x"]}
    scopes = set(run(values, horizon=2, by="sku").backtest.get_column("scope").to_list())
    assert scopes == {"series", "overall"}


def test_report_lists_the_sku_levels_models_apart_from_the_series():
    from test_report import section

    from segchain.report import build_report
    from segchain.report.model import TableBlock

    # AutoETS missed 10 of 100 units of sku x and 20 of 20 of sku z: pooled 30 / 120 = 25 %.
    bt = pl.DataFrame(
        {
            "unique_id": ["A/x", "B/x", "x", "y", "z", "total"],
            "scope": ["series", "series", "sku", "sku", "sku", "total"],
            "segment": ["A", "B", None, None, None, None],
            "sku": ["x", "x", "x", "y", "z", None],
            "model": ["CrostonSBA", "CrostonSBA", "AutoETS", "Naive", "AutoETS", "AutoETS"],
            "mase": [1.0, 1.0, 0.5, 0.8, 1.5, 0.3],
            "wape": [0.4, 0.6, 0.1, 0.2, 1.0, 0.05],
            "backtest_abs_error": [4.0, 6.0, 10.0, 2.0, 20.0, 6.5],
            "backtest_actual": [10.0, 10.0, 100.0, 10.0, 20.0, 130.0],
        }
    )
    tables = {
        b.title: b.frame
        for b in section(build_report({"backtest": bt}), "accuracy").blocks
        if isinstance(b, TableBlock)
    }
    series = tables["Models chosen"]
    assert series.select("model", "series").rows() == [("CrostonSBA", 2)]
    skus = tables["Models chosen at sku level"]
    assert skus.select("model", "series").rows() == [("AutoETS", 2), ("Naive", 1)]
    assert skus.filter(pl.col("model") == "AutoETS")["wape"].item() == pytest.approx(30 / 120)


def test_backtest_has_sku_rows_and_no_total_with_reconcile_none():
    # The sku series are still forecast directly (the comparison rows score them); the total
    # is not forecast at all.
    scopes = run(SKU_X, horizon=2, reconcile="none").backtest.get_column("scope").to_list()
    assert scopes.count("sku") == 1 and "total" not in scopes
