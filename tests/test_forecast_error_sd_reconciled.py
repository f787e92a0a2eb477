"""error_sd is the one-step error of the forecast written, under each reconciliation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from segchain.forecast import forecast

MONDAY = dt.date(2022, 1, 3)
N, H = 60, 4


def _demand() -> tuple[np.ndarray, np.ndarray]:
    # Two segments that take turns: each alternates 4 and 16 units a week (plus a little noise),
    # out of phase, so the sku sells about 20 every week. A segment's own naive forecast misses
    # by about 12 every week; its share of the sku's naive forecast, about 10, by about 6.
    rng = np.random.default_rng(7)
    t = np.arange(N)
    gold = 4 + 12 * (t % 2) + rng.integers(0, 3, N)
    silver = 4 + 12 * ((t + 1) % 2) + rng.integers(0, 3, N)
    return gold.astype(float), silver.astype(float)


def _run(reconcile: str):
    gold, silver = _demand()
    days = [MONDAY + dt.timedelta(weeks=int(i)) for i in range(N)]
    orders = pl.DataFrame(
        {
            "order_id": [f"g{i}" for i in range(N)] + [f"s{i}" for i in range(N)],
            "order_date": days * 2,
            "customer_id": ["g"] * N + ["s"] * N,
            "sku": ["X"] * (2 * N),
            "quantity": np.concatenate([gold, silver]),
            "unit_price": [1.0] * (2 * N),
        }
    )
    segments = pl.DataFrame({"customer_id": ["g", "s"], "segment": ["Gold", "Silver"]})
    res = forecast(
        orders,
        segments,
        freq="W",
        horizon=H,
        models="Naive",
        reconcile=reconcile,
        outliers="keep",
        n_jobs=1,
    )
    sd = res.forecast.group_by("segment").agg(pl.col("error_sd").first())
    return dict(zip(sd["segment"], sd["error_sd"], strict=True)), res


def _span() -> range:
    # Four backtest windows of H weeks at the end of the 60 (the history is long enough for
    # the most, CV_WINDOWS): the first cutoff is week N - 1 - 4H, and the one-step errors are
    # those of the weeks after it.
    return range(N - 4 * H, N)


def test_top_down_error_sd_is_the_split_forecasts_one_step_error():
    gold, silver = _demand()
    total = gold + silver
    out, res = _run("top-down")
    assert res.reconciliation == "top-down"
    for name, own in (("Gold", gold), ("Silver", silver)):
        # The week's forecast written by top-down made a week earlier: the sku's naive
        # forecast (last week's total) times the segment's share of the weeks before.
        split = [own[:t].sum() / total[:t].sum() * total[t - 1] - own[t] for t in _span()]
        naive = [own[t - 1] - own[t] for t in _span()]
        assert out[name] == pytest.approx(np.std(split, ddof=1), rel=1e-9)
        # The segment's own naive model, which made none of the numbers written, misses by
        # about twice as much: the old error_sd.
        assert np.std(naive, ddof=1) > 1.5 * out[name]


def test_bottom_up_error_sd_stays_the_series_own_one_step_error():
    gold, silver = _demand()
    out, res = _run("bottom-up")
    assert res.reconciliation == "bottom-up"
    for name, own in (("Gold", gold), ("Silver", silver)):
        naive = [own[t - 1] - own[t] for t in _span()]
        assert out[name] == pytest.approx(np.std(naive, ddof=1), rel=1e-9)


def test_top_down_bounds_are_split_conformal_on_the_splits_backtest_errors():
    from statistics import NormalDist

    gold, silver = _demand()
    total = gold + silver
    _, res = _run("top-down")
    cutoffs = [N - 1 - k * H for k in (4, 3, 2, 1)]
    for name, own in (("Gold", gold), ("Silver", silver)):
        rows = res.forecast.filter(pl.col("segment") == name)
        # Each window's top-down forecast: the sku's naive forecast at the cutoff (its last
        # week) times the segment's share of the weeks up to it, for each of the H weeks after.
        errors = np.array(
            [
                own[: c + 1].sum() / total[: c + 1].sum() * total[c] - own[t]
                for c in cutoffs
                for t in range(c + 1, c + 1 + H)
            ]
        )
        written = own.sum() / total.sum() * total[-1]
        assert rows["forecast"].to_list() == pytest.approx([written] * H)
        # 80 %: the ceil(17 x 0.8) = 14th smallest of the 16 absolute errors; 95 %: rank 17 is
        # past them, so z x their root mean square.
        q80 = np.sort(np.abs(errors))[13]
        q95 = NormalDist().inv_cdf(0.975) * np.sqrt(np.mean(errors**2))
        assert rows["forecast-hi-80"].to_list() == pytest.approx([written + q80] * H)
        assert rows["forecast-lo-80"].to_list() == pytest.approx([max(written - q80, 0.0)] * H)
        assert rows["forecast-hi-95"].to_list() == pytest.approx([written + q95] * H)
        assert rows["forecast-lo-95"].to_list() == pytest.approx([max(written - q95, 0.0)] * H)
