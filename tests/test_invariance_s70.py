"""The same data handed over another way gives the same outputs (invariance audit, session 70).

Each test hands a stage the same table another way (its rows in another order, ...) and asks
for the same answer, to the bit: a cron run whose export comes sorted otherwise this month
must not rewrite a plan. The audit's probes (TZ, locale, threads, one core, stdin, stdout,
paths, HOME, TMPDIR, umask, CSV against Parquet, reruns) are scripts outside the repository.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from segchain.stock import stock


def _forecast() -> pl.DataFrame:
    # Three segments buying each of four skus, 13 weekly periods of forecasts with decimals
    # (0.1 + 0.2 + 0.3 is 0.6000000000000001 one way and 0.6 the other), so that a mean or a
    # sum over segments added in another order differs in its last bit.
    rng = np.random.default_rng(3)
    rows = []
    start = dt.date(2026, 1, 5)
    for sku in ("s1", "s2", "s3", "s4"):
        for segment in ("A", "B", "C"):
            for w in range(13):
                f = round(float(rng.choice([0.1, 0.2, 0.3, 0.7, 1.1])) * (1 + w % 3), 1)
                rows.append(
                    (
                        f"{segment}/{sku}",
                        start + dt.timedelta(weeks=w),
                        f,
                        0.3 + 0.1 * (w % 4),
                        segment,
                        sku,
                    )
                )
    return pl.DataFrame(
        rows, schema=["unique_id", "ds", "forecast", "error_sd", "segment", "sku"], orient="row"
    ).sort("unique_id", "ds")


def test_a_stock_plan_does_not_depend_on_the_forecasts_row_order() -> None:
    # The demo's forecast with its rows shuffled (a forecast sorted by another tool, or the
    # rows of a concatenation) moved 23 of 80 mean demands, 11 safety stocks and 21 fill rates
    # in their last bits, and wrote the policy's rows in another order.
    fc = _forecast()
    shuffled = fc.sample(fraction=1.0, shuffle=True, seed=11)
    assert not shuffled.equals(fc)
    for policy_type in ("sQ", "RS"):
        as_written = stock(fc, policy_type=policy_type, review_days=7, rationing="none").policy
        other = stock(shuffled, policy_type=policy_type, review_days=7, rationing="none").policy
        assert_frame_equal(other, as_written, check_exact=True)


def test_a_dask_forecast_is_the_local_runs_to_double_precision() -> None:
    # statsforecast's fugue backend declares its outputs float32: `--engine dask` on the
    # demo's sample wrote 108 of 6,383 lower 80 % bounds 1e-6 to 7.9e-6 (relative) from the
    # local run's, point forecasts up to 4.8e-8 and 9 backtest biases up to 8.7e-6, where
    # the README promised 1e-6. Same models on the same numbers: the same doubles.
    pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    pytest.importorskip("fugue", reason="fugue is not installed (segchain[dask])")
    from test_forecast_dask import small_inputs

    from segchain.forecast import forecast

    orders, segments = small_inputs()
    # Quantities with decimals, so that no forecast is a number float32 holds exactly.
    orders = orders.with_columns(pl.col("quantity") * 1.37, pl.col("amount") * 1.37)
    local = forecast(orders, segments, horizon=6, n_jobs=1)
    dask = forecast(orders, segments, horizon=6, engine="dask")
    tight = {"check_exact": False, "rel_tol": 1e-12, "abs_tol": 1e-12}
    assert_frame_equal(dask.forecast, local.forecast, **tight)
    assert_frame_equal(dask.backtest, local.backtest, **tight)


def test_a_reports_charts_do_not_follow_a_matplotlibrc() -> None:
    # matplotlib reads a matplotlibrc from the working folder (then $MATPLOTLIBRC or the
    # account's ~/.config/matplotlib) when it is imported: `segchain report` run from a folder
    # holding one (font.family serif, axes.grid True, lines.linewidth 3) wrote the demo's page
    # with other charts. Its settings are here in effect as a matplotlibrc puts them: in the
    # process's rcParams before the chart is drawn.
    import matplotlib

    from segchain.report.charts import Chart, render_png, render_svg

    def draw(fig) -> None:
        weeks = [dt.datetime(2025, 1, 6) + dt.timedelta(weeks=w) for w in range(4)]
        fig.add_subplot().plot(weeks, [3.0, 1.0, 2.0, 2.5])

    chart = Chart("forecast", "Demand per week", draw)
    svg, png = render_svg(chart), render_png(chart)
    users = {
        "font.family": "serif",
        "axes.grid": True,
        "lines.linewidth": 3.0,
        "axes.prop_cycle": matplotlib.cycler(color=["#ff0000"]),
        "timezone": "Pacific/Kiritimati",
    }
    with matplotlib.rc_context(users):
        assert render_svg(chart) == svg
        assert render_png(chart) == png


def test_mints_reconciliation_does_not_depend_on_the_cores() -> None:
    # OpenBLAS splits a matrix product over its threads, one per core: the demo's backtest
    # row `segment x sku, mint, summed` had bias -0.9448325236378117 on two cores and
    # -0.9448325236378089 on one (`taskset -c 0`). MinT's products now run on one thread.
    from threadpoolctl import threadpool_limits

    from segchain.forecast.reconcile import hierarchical

    rng = np.random.default_rng(5)
    skus, segments = [f"k{i:02d}" for i in range(60)], [f"S{j}" for j in range(8)]
    links = pl.DataFrame(
        {
            "unique_id": [f"{s}/{k}" for k in skus for s in segments],
            "top_id": [k for k in skus for _ in segments],
        }
    )
    weeks = [dt.date(2025, 1, 6) + dt.timedelta(weeks=w) for w in range(30)]

    def frame(ids: list[str], days: list[dt.date], *cols: str) -> pl.DataFrame:
        n = len(ids) * len(days)
        data = {c: rng.gamma(2.0, 3.0, n) for c in cols}
        return pl.DataFrame(
            {"unique_id": [u for u in ids for _ in days], "ds": days * len(ids), **data}
        )

    bottom_ids, top_ids = links.get_column("unique_id").to_list(), skus
    base = {
        "bottom": frame(bottom_ids, weeks[26:], "yhat"),
        "top": frame(top_ids, weeks[26:], "yhat"),
    }
    residuals = {
        "bottom": frame(bottom_ids, weeks[:26], "y", "yhat"),
        "top": frame(top_ids, weeks[:26], "y", "yhat"),
    }
    results = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            out, estimator = hierarchical(base, links, residuals)
        assert estimator == "mint_shrink"
        results.append(out["mint"].sort("unique_id", "ds"))
    assert_frame_equal(results[1], results[0], check_exact=True)
