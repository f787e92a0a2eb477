"""Hierarchical reconciliation of segment x sku forecasts with the sku forecasts above them."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from segchain.forecast import forecast
from segchain.forecast.reconcile import hierarchical, history_shares, top_down

MONDAY = dt.date(2022, 1, 3)


def weeks(n, start=MONDAY):
    return [start + dt.timedelta(weeks=i) for i in range(n)]


def test_history_shares_read_the_whole_history_not_its_last_periods():
    # A segment defined by recency (RFM's lapsed customers) has no sale in its last periods by
    # construction while its customers go on buying: its share of the sku is its share of the
    # whole history (7 of 10 units for x), not 0 from the last two weeks.
    links = pl.DataFrame(
        {"unique_id": ["A/x", "B/x", "A/y", "B/y"], "top_id": ["x", "x", "y", "y"]}
    )
    y = pl.DataFrame(
        {
            "unique_id": ["A/x"] * 4 + ["B/x"] * 4 + ["A/y"] * 4 + ["B/y"] * 4,
            "ds": weeks(4) * 4,
            "y": [3.0, 4, 0, 0] + [0.0, 0, 2, 1] + [6.0, 0, 0, 0] + [0.0, 2, 0, 0],
        }
    )
    shares = history_shares(y, links).sort("unique_id")
    assert dict(zip(shares["unique_id"], shares["share"], strict=True)) == pytest.approx(
        {"A/x": 0.7, "B/x": 0.3, "A/y": 0.75, "B/y": 0.25}
    )


def test_history_shares_per_cutoff_see_only_the_past_and_split_nothing_evenly():
    links = pl.DataFrame({"unique_id": ["A/x", "B/x"], "top_id": ["x", "x"]})
    y = pl.DataFrame(
        {
            "unique_id": ["A/x"] * 4 + ["B/x"] * 4,
            "ds": weeks(4) * 2,
            "y": [0.0, 1, 0, 0, 0, 0, 3, 0],
        }
    )
    cutoffs = pl.DataFrame({"cutoff": [weeks(4)[0], weeks(4)[1], weeks(4)[3]]})
    shares = history_shares(y, links, cutoffs=cutoffs).sort("cutoff", "unique_id")
    # no demand up to the first cutoff: even; then A alone; then 1 of 4 units.
    assert shares.get_column("share").to_list() == pytest.approx([0.5, 0.5, 1.0, 0.0, 0.25, 0.75])


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
    out, estimator = hierarchical(
        {"bottom": bottom, "top": top}, links, {"bottom": bottom_res, "top": top_res}
    )
    assert estimator == "mint_shrink"
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
        {"bottom": bottom, "top": top},
        links,
        {
            "bottom": res.filter(pl.col("unique_id") != "x"),
            "top": res.filter(pl.col("unique_id") == "x"),
        },
    )[0]["mint"]
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


def test_mint_with_the_total_level_is_the_wls_projection_computed_independently():
    # Without backtest errors MinT has structural weights (WLS, W = diag(S 1)); the reconciled
    # bottom forecasts are (S' W^-1 S)^-1 S' W^-1 y_hat over all three levels (Hyndman &
    # Athanasopoulos, FPP3 11.4), computed here with numpy alone.
    links = pl.DataFrame({"unique_id": ["A/x", "B/x", "A/y"], "top_id": ["x", "x", "y"]})
    ds = weeks(2)
    base_total = [30.0, 12.0]
    base_top = {"x": [9.0, 7.0], "y": [6.0, 2.0]}
    base_bottom = {"A/x": [4.0, 3.0], "B/x": [2.0, 5.0], "A/y": [5.0, 1.0]}
    base = {
        "total": pl.DataFrame({"unique_id": ["total"] * 2, "ds": ds, "yhat": base_total}),
        "top": pl.DataFrame(
            {
                "unique_id": [u for u in base_top for _ in ds],
                "ds": ds * 2,
                "yhat": [v for u in base_top for v in base_top[u]],
            }
        ),
        "bottom": pl.DataFrame(
            {
                "unique_id": [u for u in base_bottom for _ in ds],
                "ds": ds * 3,
                "yhat": [v for u in base_bottom for v in base_bottom[u]],
            }
        ),
    }
    out, estimator = hierarchical(base, links, None)
    assert estimator == "wls_struct"
    # Rows: total, x, y, A/x, A/y, B/x (bottoms in the order of the S columns A/x, A/y, B/x).
    s = np.array([[1, 1, 1], [1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    w_inv = np.diag(1 / s.sum(axis=1))
    order = ["A/x", "A/y", "B/x"]
    for k, d in enumerate(ds):
        y_hat = np.array(
            [base_total[k], base_top["x"][k], base_top["y"][k]] + [base_bottom[u][k] for u in order]
        )
        expected = np.linalg.solve(s.T @ w_inv @ s, s.T @ w_inv @ y_hat)
        got = out["mint"].filter(pl.col("ds") == d).sort("unique_id")
        assert got.get_column("unique_id").to_list() == order
        assert got.get_column("yhat").to_list() == pytest.approx(expected.tolist(), abs=1e-9)
    # Bottom-up keeps the bottom forecasts.
    bu = out["bottom-up"].sort("unique_id", "ds").get_column("yhat").to_list()
    assert bu == pytest.approx([4.0, 3.0, 5.0, 1.0, 2.0, 5.0])


def test_backtest_mint_weights_never_see_the_window_they_reconcile():
    from segchain.forecast.reconcile import _backtest_hierarchical

    rng = np.random.default_rng(4)
    links = pl.DataFrame({"unique_id": ["A/x", "B/x", "A/y"], "top_id": ["x", "x", "y"]})
    ds = weeks(12)
    cutoffs = [ds[2], ds[5], ds[8]]

    def rows(scale_last: float) -> dict[str, pl.DataFrame]:
        out = {}
        for level, ids in (("bottom", ["A/x", "B/x", "A/y"]), ("top", ["x", "y"])):
            recs = []
            for c, cut in enumerate(cutoffs):
                for d in ds[3 * c + 3 : 3 * c + 6]:
                    for u in ids:
                        y = float(rng.poisson(6))
                        noise = rng.normal(0, 3) * (scale_last if c == 2 else 1.0)
                        recs.append((u, d, cut, y, max(0.0, y + noise)))
            out[level] = pl.DataFrame(
                recs, schema=["unique_id", "ds", "cutoff", "y", "yhat"], orient="row"
            )
        return out

    state = rng.bit_generator.state
    first = rows(1.0)
    rng.bit_generator.state = state
    changed = rows(50.0)  # the same data, but wild errors in the last window
    fb: dict[str, int] = {}
    a = _backtest_hierarchical(first, links, fb)["mint"]
    b = _backtest_hierarchical(
        {
            k: first[k]
            .filter(pl.col("cutoff") < cutoffs[2])
            .vstack(changed[k].filter(pl.col("cutoff") == cutoffs[2]))
            for k in first
        },
        links,
        {},
    )["mint"]
    # The two earlier windows were reconciled without the last window's errors: unchanged.
    early = pl.col("cutoff") < cutoffs[2]
    assert a.filter(early).sort("unique_id", "ds")["yhat"].to_list() == pytest.approx(
        b.filter(early).sort("unique_id", "ds")["yhat"].to_list(), abs=1e-12
    )
    # The earliest window has no errors before it: structural weights, by design not counted.
    assert fb.get("mint_structural_weights", 0) == 0
    assert a.get_column("cutoff").n_unique() == 3


def _errors(values: dict) -> pl.DataFrame:
    """Per-(sku, window) errors ``top_id, cutoff, e, w`` from {cutoff: [e per sku]}, each window
    weighted 0.5^age as the backtest does."""
    cutoffs = sorted(values, reverse=True)
    frames = []
    for age, cut in enumerate(cutoffs):
        es = values[cut]
        frames.append(
            pl.DataFrame(
                {
                    "top_id": [f"s{i}" for i in range(len(es))],
                    "cutoff": [cut] * len(es),
                    "e": [float(e) for e in es],
                    "w": [0.5**age] * len(es),
                }
            )
        )
    return pl.concat(frames)


def test_auto_keeps_top_down_when_a_method_loses_the_most_recent_window():
    from segchain.forecast.reconcile import auto_method, significant_gain

    old, recent = MONDAY, MONDAY + dt.timedelta(weeks=8)
    top_down = _errors({old: [10] * 20, recent: [10] * 20})
    # Far better on the older window, slightly worse on the most recent one: d is 5 (weight
    # 0.5) and -0.5 (weight 1) -> weighted mean 4/3, weighted variance 121/18, n_eff 36: t = 3.09,
    # a significant gain by the paired test alone.
    bottom_up = _errors({old: [5] * 20, recent: [10.5] * 20})
    assert significant_gain(top_down, bottom_up) == pytest.approx(
        (4 / 3) / math.sqrt(121 / 18 / 36), rel=1e-9
    )
    errors = {"top-down": top_down, "bottom-up": bottom_up, "mint": top_down}
    assert auto_method(errors) == "top-down"


def test_auto_takes_a_method_that_wins_significantly_and_in_every_window():
    from segchain.forecast.reconcile import auto_method

    cuts = [MONDAY + dt.timedelta(weeks=8 * k) for k in range(4)]
    top_down = _errors({c: [10] * 20 for c in cuts})
    mint = _errors({**{c: [5] * 20 for c in cuts[:3]}, cuts[3]: [8.5, 9.5] * 10})
    assert auto_method({"top-down": top_down, "bottom-up": top_down, "mint": mint}) == "mint"
    # Winning every window by a hair is not enough: the gain must be significant too.
    hair = _errors(
        {**{c: [9.9, 10.0] * 10 for c in cuts[:3]}, cuts[3]: [9.9, 10.1, 10.0, 9.99] * 5}
    )
    assert auto_method({"top-down": top_down, "bottom-up": hair, "mint": top_down}) == "top-down"


def test_auto_keeps_top_down_when_fewer_than_four_windows_were_won():
    from segchain.forecast.reconcile import auto_method, significant_gain

    # Both of two windows won by 5 of 10 on every sku: overwhelming in the paired test over
    # sku-windows (zero variance), but winning two of two happens by chance one time in four.
    old, recent = MONDAY, MONDAY + dt.timedelta(weeks=8)
    top_down = _errors({old: [10] * 20, recent: [10] * 20})
    mint = _errors({old: [5] * 20, recent: [5] * 20})
    assert significant_gain(top_down, mint) == math.inf
    assert auto_method({"top-down": top_down, "bottom-up": top_down, "mint": mint}) == "top-down"


def test_the_work_after_the_last_forecasts_is_named_in_the_progress_calls():
    """On the whole Complete Journey export the heartbeat sat for 8 minutes at 'final total
    forecast: 1 of 1 series' while the backtest was scored, the segment forecasts reconciled
    and the tables built: that work had no step of its own (session 36). Each part is now a
    step with no count, called before it runs."""
    orders, segments = two_segment_orders()
    calls: list[tuple[str, int, int]] = []

    def record(step: str, done: int, total: int) -> None:
        calls.append((step, done, total))

    forecast(orders, segments, freq="W", horizon=4, n_jobs=1, progress=record)
    last = max(i for i, c in enumerate(calls) if c[0] == "final total forecast")
    assert calls[last] == ("final total forecast", 1, 1)
    assert calls[last + 1 :] == [
        ("scoring the backtest", 0, 0),
        ("reconciling segment and sku forecasts", 0, 0),
        ("comparing segment forecasts summed vs direct", 0, 0),
        ("assembling the forecast table", 0, 0),
    ]
    # Without segments, nothing to reconcile or compare: only the steps that run are named.
    calls.clear()
    forecast(orders, segments, freq="W", horizon=4, n_jobs=1, by="sku", progress=record)
    steps = [c[0] for c in calls]
    assert steps[-2:] == ["scoring the backtest", "assembling the forecast table"]
    assert not any("reconcil" in s or "comparing" in s for s in steps)
