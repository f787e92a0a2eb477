"""The global model: one regressor across all series (mlforecast + HistGradientBoosting)."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import polars as pl
import pytest

from segchain.forecast import forecast
from segchain.forecast.global_model import days_to_christmas, days_to_easter

MONDAY = dt.date(2022, 1, 3)


@pytest.mark.parametrize(
    ("day", "easter_in"),
    [
        # Published Easter Sundays: 31 March 2024, 20 April 2025, 8 April 2012.
        (dt.date(2024, 3, 31), 0),
        (dt.date(2024, 3, 30), 1),
        (dt.date(2025, 4, 1), 19),
        (dt.date(2011, 12, 26), 104),
    ],
)
def test_days_to_easter_known_dates(day, easter_in):
    frame = pl.DataFrame({"ds": [day]})
    assert frame.select(days_to_easter(pl.col("ds"))).item() == easter_in
    # mlforecast also calls the feature with a Series when it predicts.
    assert days_to_easter(frame.get_column("ds"))[0] == easter_in


def test_days_to_christmas_wraps_after_the_25th():
    frame = pl.DataFrame({"ds": [dt.date(2023, 12, 24), dt.date(2023, 12, 26)]})
    assert frame.select(days_to_christmas(pl.col("ds"))).to_series().to_list() == [1, 365]


ONE_SEGMENT = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})


def _weekly_orders(quantity, *, weeks: int, skus: int = 30) -> pl.DataFrame:
    """One order line a week for each of ``skus`` skus, ``quantity(k, w)`` units of sku k in
    week w, all of one customer."""
    rows = [
        (f"o{k}-{w}", MONDAY + dt.timedelta(weeks=w), "c1", f"s{k}", float(quantity(k, w)))
        for k in range(skus)
        for w in range(weeks)
    ]
    return pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    )


def test_global_model_learns_a_pattern_shared_by_every_series():
    # 30 skus that all alternate low, high, low, high (scaled per sku): a 2-period cycle that
    # no local candidate (means, naive, 52-week seasonal naive, ETS/Theta without a season)
    # can follow, and that one model across the series learns from its lags.
    rng = np.random.default_rng(0)
    orders = _weekly_orders(
        lambda k, w: (1 + k % 5) * (2 if w % 2 == 0 else 10) + rng.integers(0, 2), weeks=40
    )
    r = forecast(
        orders,
        ONE_SEGMENT,
        freq="W",
        horizon=4,
        by="sku",
        n_jobs=1,
        models="Global,WindowAverage,Naive",
    )
    fc = r.forecast
    assert fc.get_column("model").unique().to_list() == ["Global"]
    # Week 40 is even (low), 41 odd (high): the continuation of each sku's own cycle.
    got = fc.with_columns(
        pl.col("unique_id").str.slice(1).cast(pl.Int64).mod(5).add(1).alias("scale"),
        ((pl.col("ds") - pl.lit(MONDAY)).dt.total_days() // 7 % 2).alias("odd"),
    ).with_columns(
        (pl.col("scale") * pl.when(pl.col("odd") == 1).then(10).otherwise(2) + 0.5).alias("truth")
    )
    err = (got["forecast"] - got["truth"]).abs().sum() / got["truth"].sum()
    assert err < 0.15


def test_global_error_sd_is_the_spread_of_errors_out_of_sample_on_noise():
    # 30 skus of pure noise, 20 + N(0, 4^2) rounded: no forecast beats the mean, whose one-step
    # error has sd sqrt(16 + 1/12) = 4.01 (rounding adds a uniform error of variance 1/12), and
    # a model fitted on other periods only adds its own error to that. The trees' fitted values
    # on the periods they were trained on follow the noise: their spread was 1.87.
    rng = np.random.default_rng(0)
    noise = np.rint(rng.normal(20, 4, size=(30, 60)))
    orders = _weekly_orders(lambda k, w: noise[k, w], weeks=60)
    fc = forecast(orders, ONE_SEGMENT, freq="W", horizon=4, by="sku", n_jobs=1, models="Global")
    fc = fc.forecast
    assert fc.get_column("model").unique().to_list() == ["Global"]
    sd = fc.group_by("unique_id").agg(pl.col("error_sd").first()).get_column("error_sd")
    rms = float((sd**2).mean() ** 0.5)
    assert 0.95 * 4.01 < rms < 1.2 * 4.01


def test_global_model_is_skipped_on_tiny_data_and_series_are_still_forecast():
    orders = pl.DataFrame(
        {
            "order_id": [str(i) for i in range(10)],
            "order_date": [MONDAY + dt.timedelta(weeks=i) for i in range(10)],
            "customer_id": ["c1"] * 10,
            "sku": ["s1"] * 10,
            "quantity": [5.0] * 10,
        }
    )
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})
    r = forecast(orders, segments, freq="W", horizon=2, by="sku", n_jobs=1, models="Global")
    assert r.forecast.height == 2
    assert r.forecast.get_column("forecast").to_list() == pytest.approx([5.0, 5.0])
    # The fallback is counted and said, not silent.
    # Only Global was allowed, so the sku also has no backtested model: HistoricAverage.
    assert r.fallbacks == {"global_model_skipped": 1, "not_backtested": 1}
    assert any("too little data for the global model" in w for w in r.warnings)


def alternating_orders(n_skus: int = 12, n_weeks: int = 30) -> pl.DataFrame:
    rows = [
        (f"o{k}-{w}", MONDAY + dt.timedelta(weeks=w), "c1", f"s{k}", float(3 + (w + k) % 4))
        for k in range(n_skus)
        for w in range(n_weeks)
    ]
    return pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    )


def test_a_failing_global_model_leaves_the_local_candidates_and_is_counted(monkeypatch):
    from segchain.forecast import selection

    def broken(*args, **kwargs):
        raise RuntimeError("the regressor could not be fitted")

    monkeypatch.setattr(selection, "global_cross_validation", broken)
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})
    r = forecast(alternating_orders(), segments, freq="W", horizon=4, by="sku", n_jobs=1)
    assert r.forecast.get_column("unique_id").n_unique() == 12
    assert "Global" not in r.forecast.get_column("model").to_list()
    assert r.fallbacks.get("global_model_failed") == 12
    assert any("the global model failed" in w for w in r.warnings)


def test_a_failing_global_refit_falls_back_to_the_moving_average_and_is_counted(monkeypatch):
    from segchain.forecast import final

    def broken(*args, **kwargs):
        raise RuntimeError("the regressor could not be refitted")

    monkeypatch.setattr(final, "global_forecast", broken)
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})
    orders = alternating_orders()
    r = forecast(orders, segments, freq="W", horizon=4, by="sku", n_jobs=1, models="Global")
    fc = r.forecast
    assert fc.get_column("model").unique().to_list() == ["WindowAverage"]
    assert r.fallbacks.get("global_model_failed") == 12
    # The stand-in is the 8-week moving average of each sku's history, computed here.
    last8 = (
        orders.sort("order_date")
        .group_by("sku")
        .agg(pl.col("quantity").tail(8).mean().alias("ma8"))
        .join(fc.select("sku", "forecast").unique("sku"), on="sku")
    )
    assert last8["forecast"].to_list() == pytest.approx(last8["ma8"].to_list())


def test_the_global_model_fit_is_a_step_of_its_own_in_the_progress_calls():
    """The heartbeat sat at 'backtesting models: N of N series' with no estimate while the
    global model fitted after the last local group (and at 'final forecasts: 0 of N' while it
    was refitted): the fit is no unit of the step. It is now reported as what runs, with no
    count, and the step's count resumes after it (session 35)."""
    calls: list[tuple[str, int, int]] = []
    segments = pl.DataFrame({"customer_id": ["c1"], "segment": ["A"]})

    def record(step: str, done: int, total: int) -> None:
        calls.append((step, done, total))

    orders = alternating_orders()
    r = forecast(orders, segments, freq="W", horizon=4, by="sku", n_jobs=1, models="Global",
                 progress=record)  # fmt: skip
    assert r.forecast.get_column("model").unique().to_list() == ["Global"]
    assert calls == [
        ("backtesting models", 0, 12),
        # The baselines the backtest report scores against, one statsforecast batch (s52; the
        # moving averages of its comparison rows too since s59).
        (
            "backtesting models: the next 12 series in one batch (Naive, WindowAverage, "
            "WindowAverage4 and 1 more)",
            0,
            12,
        ),
        ("backtesting models", 12, 12),
        ("backtesting models: fitting the global model", 0, 0),
        ("final forecasts", 0, 12),
        ("final forecasts: fitting the global model", 0, 0),
        ("final forecasts", 12, 12),
        ("scoring the backtest", 0, 0),
        ("assembling the forecast table", 0, 0),
    ]


_THREADS_DURING_FIT = r"""
import datetime as dt, json, sys
import numpy as np, polars as pl
from segchain.forecast.global_model import global_cross_validation, global_forecast
from segchain.forecast.options import Plan

# Nothing here has loaded an OpenMP runtime yet, as in a fresh `segchain forecast`: the spy
# patches the regressor's fit when the stage first imports it, and imports nothing itself.
import builtins

seen = []
_import = builtins.__import__
HGB = "sklearn.ensemble._hist_gradient_boosting.gradient_boosting"


def spying_import(*a, **k):
    module = _import(*a, **k)
    cls = getattr(sys.modules.get(HGB), "HistGradientBoostingRegressor", None)
    if cls is not None and not hasattr(cls.fit, "spied"):
        fit = cls.fit

        def wrapped(self, *args, **kwargs):
            from threadpoolctl import threadpool_info

            openmp = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"]
            seen.append(max(openmp))
            return fit(self, *args, **kwargs)

        wrapped.spied = True
        cls.fit = wrapped
    return module


builtins.__import__ = spying_import
rng = np.random.default_rng(0)
y = pl.DataFrame(
    {
        "unique_id": [f"s{k}" for k in range(4) for _ in range(40)],
        "ds": [dt.date(2022, 1, 3) + dt.timedelta(weeks=w) for _ in range(4) for w in range(40)],
        "y": rng.integers(0, 9, 160).astype(float),
    }
)
keys = y.select("unique_id").unique().with_columns(sku=pl.col("unique_id"))
plan = Plan(freq="W", horizon=4, season=52, window=8, models=None)
global_cross_validation(y, keys, plan, n_windows=2)
global_forecast(y, keys, plan, keys.get_column("unique_id"))
json.dump(seen, sys.stdout)
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: every fit runs on one thread")
def test_the_global_model_fits_on_one_openmp_thread_from_a_fresh_process():
    # threadpoolctl limits only the OpenMP runtimes already loaded. The backtest's fit imported
    # mlforecast and scikit-learn inside the limit, so it ran on every core: 19 s for 23
    # series on a busy 2-core machine, against about 2 s on one thread.
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _THREADS_DURING_FIT],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": ""},
    )
    assert json.loads(out.stdout) == [1, 1]


def test_a_promotion_in_the_last_week_is_not_carried_through_the_horizon():
    # Under a year of history (44 weeks): 30 skus at a flat level, tripled in the same weeks
    # by promotions (weeks 10, 20, 30) that each ended the next week, and again in the last
    # week before the forecast. Nothing says the last one lasts. With the features of the year
    # fitted on under a year, the forecast weeks (never seen in training, past the last week)
    # fell with the last week in the trees and every one of them was forecast at the
    # promotion's level (2.8 times the flat level, each of the 8 weeks).
    rng = np.random.default_rng(0)
    promos = (10, 20, 30, 43)
    orders = _weekly_orders(
        lambda k, w: rng.poisson(10.0 * (1 + k % 5) * (3 if w in promos else 1)), weeks=44
    )
    fc = forecast(
        orders,
        ONE_SEGMENT,
        freq="W",
        horizon=8,
        by="sku",
        n_jobs=1,
        models="Global",
        outliers="keep",
    ).forecast
    assert fc.get_column("model").unique().to_list() == ["Global"]
    level = pl.col("unique_id").str.slice(1).cast(pl.Int64).mod(5).add(1) * 10.0
    per_week = fc.group_by("ds").agg((pl.col("forecast").sum() / level.sum()).alias("ratio"))
    # The generator's level is the truth after a promotion; within 25 % each week.
    assert per_week.get_column("ratio").is_between(0.75, 1.25).all(), per_week.sort("ds")


@pytest.mark.parametrize(("freq", "periods"), [("W", 51), ("D", 364), ("M", 11)])
def test_the_features_of_the_year_wait_for_a_whole_year_of_history(freq, periods):
    from segchain.forecast.global_model import _calendar, day_of_week

    short = _calendar(freq, periods)
    whole = _calendar(freq, periods + 1)
    assert days_to_christmas not in short and days_to_easter not in short
    assert days_to_christmas in whole and days_to_easter in whole
    # The day of the week repeats within any history a daily model is fitted on.
    assert (day_of_week in short) == (freq == "D") == (day_of_week in whole)
