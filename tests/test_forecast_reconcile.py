"""Hierarchical reconciliation of segment x sku forecasts with the sku forecasts above them."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from segchain.forecast import forecast
from segchain.forecast.reconcile import hierarchical, recent_shares, top_down

MONDAY = dt.date(2022, 1, 3)


def weeks(n, start=MONDAY):
    return [start + dt.timedelta(weeks=i) for i in range(n)]


def test_recent_shares_use_the_recent_periods_then_the_whole_history():
    links = pl.DataFrame(
        {"unique_id": ["A/x", "B/x", "A/y", "B/y"], "top_id": ["x", "x", "y", "y"]}
    )
    y = pl.DataFrame(
        {
            "unique_id": ["A/x"] * 4 + ["B/x"] * 4 + ["A/y"] * 4 + ["B/y"] * 4,
            "ds": weeks(4) * 4,
            # x: the last two weeks hold 3 (A) and 1 (B); y: nothing recent, 6 and 2 earlier.
            "y": [9.0, 0, 2, 1] + [0.0, 9, 0, 1] + [6.0, 0, 0, 0] + [0.0, 2, 0, 0],
        }
    )
    shares = recent_shares(y, links, recent=2).sort("unique_id")
    assert dict(zip(shares["unique_id"], shares["share"], strict=True)) == pytest.approx(
        {"A/x": 0.75, "B/x": 0.25, "A/y": 0.75, "B/y": 0.25}
    )


def test_recent_shares_per_cutoff_see_only_the_past():
    links = pl.DataFrame({"unique_id": ["A/x", "B/x"], "top_id": ["x", "x"]})
    y = pl.DataFrame(
        {
            "unique_id": ["A/x"] * 4 + ["B/x"] * 4,
            "ds": weeks(4) * 2,
            "y": [1.0, 1, 0, 0, 0, 0, 1, 1],
        }
    )
    cutoffs = pl.DataFrame({"cutoff": [weeks(4)[1], weeks(4)[3]]})
    shares = recent_shares(y, links, recent=2, cutoffs=cutoffs).sort("cutoff", "unique_id")
    assert shares.get_column("share").to_list() == pytest.approx([1.0, 0.0, 0.0, 1.0])


def test_top_down_splits_the_top_forecast_by_share():
    shares = pl.DataFrame({"unique_id": ["A/x", "B/x"], "top_id": ["x", "x"], "share": [0.3, 0.7]})
    top = pl.DataFrame({"unique_id": ["x", "x"], "ds": weeks(2), "yhat": [10.0, 20.0]})
    out = top_down(top, shares).sort("ds", "unique_id")
    assert out.get_column("yhat").to_list() == pytest.approx([3.0, 7.0, 6.0, 14.0])


def test_mint_leaves_coherent_forecasts_unchanged_and_sums_to_its_top():
    # A projection onto the coherent subspace fixes coherent points (MinT is a projection,
    # Wickramasuriya et al. 2019): base forecasts that already add up come back as they are.
    rng = np.random.default_rng(0)
    links = pl.DataFrame(
        {"unique_id": ["A/x", "B/x", "A/y", "B/y", "C/y"], "top_id": ["x", "x", "y", "y", "y"]}
    )
    ds = weeks(12)
    res_rows = []
    for uid in ["A/x", "B/x", "A/y", "B/y", "C/y", "x", "y"]:
        for d in ds[:8]:
            res_rows.append((uid, d, float(rng.poisson(5)), float(rng.poisson(5))))
    res = pl.DataFrame(res_rows, schema=["unique_id", "ds", "y", "yhat"], orient="row")
    bottom = pl.DataFrame(
        {
            "unique_id": [u for u in ["A/x", "B/x", "A/y", "B/y", "C/y"] for _ in ds[8:]],
            "ds": ds[8:] * 5,
            "yhat": rng.uniform(1, 9, 20),
        }
    )
    top = (
        bottom.join(links, on="unique_id")
        .group_by("top_id", "ds")
        .agg(pl.col("yhat").sum())
        .rename({"top_id": "unique_id"})
    )
    bottom_res = res.filter(pl.col("unique_id").str.contains("/"))
    top_res = res.filter(~pl.col("unique_id").str.contains("/"))
    out = hierarchical(bottom, top, links, bottom_res, top_res)
    for method in ("bottom-up", "mint"):
        got = out[method].join(bottom, on=["unique_id", "ds"], suffix="_base")
        assert got.height == 20
        assert got.get_column("yhat").to_list() == pytest.approx(
            got.get_column("yhat_base").to_list(), abs=1e-6
        )


def test_mint_moves_incoherent_forecasts_to_coherent_ones():
    links = pl.DataFrame({"unique_id": ["A/x", "B/x"], "top_id": ["x", "x"]})
    ds = weeks(10)
    rng = np.random.default_rng(1)
    res = pl.DataFrame(
        [
            (u, d, float(rng.poisson(8)), float(rng.poisson(8)))
            for u in ["A/x", "B/x", "x"]
            for d in ds[:8]
        ],
        schema=["unique_id", "ds", "y", "yhat"],
        orient="row",
    )
    bottom = pl.DataFrame(
        {
            "unique_id": ["A/x", "B/x"] * 2,
            "ds": [ds[8]] * 2 + [ds[9]] * 2,
            "yhat": [4.0, 4.0, 5.0, 5.0],
        }
    )
    top = pl.DataFrame({"unique_id": ["x", "x"], "ds": ds[8:], "yhat": [14.0, 16.0]})
    out = hierarchical(
        bottom,
        top,
        links,
        res.filter(pl.col("unique_id") != "x"),
        res.filter(pl.col("unique_id") == "x"),
    )["mint"]
    sums = out.group_by("ds").agg(pl.col("yhat").sum()).sort("ds").get_column("yhat").to_list()
    # Between the bottom-up sums (8, 10) and the direct top forecasts (14, 16).
    assert 8 < sums[0] < 14 and 10 < sums[1] < 16


def two_segment_orders(n_weeks=70, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for w in range(n_weeks):
        for cust, seg_scale in (("c1", 1.0), ("c2", 3.0)):
            for sku in ("s1", "s2", "s3"):
                q = rng.poisson(4 * seg_scale)
                if q:
                    rows.append(
                        (
                            f"{w}{cust}{sku}",
                            MONDAY + dt.timedelta(weeks=w, days=1),
                            cust,
                            sku,
                            float(q),
                        )
                    )
    orders = pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    )
    segments = pl.DataFrame({"customer_id": ["c1", "c2"], "segment": ["Small", "Large"]})
    return orders, segments


@pytest.mark.parametrize("method", ["bottom-up", "mint", "top-down"])
def test_reconciled_segment_rows_sum_to_a_sku_forecast(method):
    orders, segments = two_segment_orders()
    r = forecast(orders, segments, freq="W", horizon=4, n_jobs=1, reconcile=method)
    assert r.reconciliation == method
    fc = r.forecast
    assert (fc.get_column("forecast") >= 0).all()
    assert (fc.get_column("forecast-lo-80") <= fc.get_column("forecast")).all()
    if method == "top-down":
        # The top-down rows add up to exactly the forecast of the skus made directly.
        direct = forecast(orders, segments, freq="W", horizon=4, n_jobs=1, by="sku").forecast
        summed = fc.group_by("sku", "ds").agg(pl.col("forecast").sum())
        both = summed.join(
            direct.select(pl.col("unique_id").alias("sku"), "ds", pl.col("forecast").alias("d")),
            on=["sku", "ds"],
        )
        assert both.height == 12
        assert both.get_column("forecast").to_list() == pytest.approx(
            both.get_column("d").to_list(), rel=1e-9
        )


def test_reconcile_auto_reports_every_method_in_the_comparison():
    orders, segments = two_segment_orders()
    r = forecast(orders, segments, freq="W", horizon=4, n_jobs=1)
    assert r.reconciliation in ("bottom-up", "mint", "top-down")
    approaches = r.comparison.get_column("approach").to_list()
    assert f"segment x sku, reconciled ({r.reconciliation}), summed" in approaches
    for name in ("segment x sku, mint, summed", "segment x sku, top-down, summed", "sku direct"):
        assert name in approaches


def test_reconcile_none_keeps_the_segment_forecasts():
    orders, segments = two_segment_orders()
    r = forecast(orders, segments, freq="W", horizon=4, n_jobs=1, reconcile="none")
    assert r.reconciliation is None


def test_significant_gain_is_the_paired_mean_over_its_standard_error():
    from segchain.forecast.reconcile import significant_gain

    keys = {"top_id": [f"s{i}" for i in range(6)], "cutoff": [MONDAY] * 6, "w": [1.0] * 6}
    reference = pl.DataFrame({**keys, "e": [5.0, 5, 5, 5, 5, 5]})
    # d = 1, -1, 1, -1, 2, 0: mean 1/3, population variance 11/9, n = 6 -> t = 0.7385.
    other = pl.DataFrame({**keys, "e": [4.0, 6, 4, 6, 3, 5]})
    assert significant_gain(reference, other) == pytest.approx(
        (1 / 3) / math.sqrt((11 / 9) / 6), rel=1e-9
    )
    assert significant_gain(reference, reference) == 0.0
