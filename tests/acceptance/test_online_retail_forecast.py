"""Acceptance on UCI Online Retail, weekly, train before 2011-10-10, score the next 8 weeks at
sku level: the forecasts against the best simple baseline (naive, seasonal naive, 4/8/13-week
moving averages) in aggregate WAPE, and segment x sku reconciled and summed against sku direct.

Honest: the stage sees only the weeks before HOLDOUT_START; the baselines are computed here
from the same history, independently of the code under test."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import realdata

HOLDOUT_START = dt.date(2011, 10, 10)  # 8 full weeks before the last, partial week
H = 8


@pytest.fixture(scope="module")
def retail():
    return realdata.online_retail()


def wape(errors: pl.Expr, actual: pl.Expr) -> pl.Expr:
    return errors.abs().sum() / actual.sum()


# Reached on the landed code (README, Benchmarks): 0.933 here, 0.902 on Superstore at 2022-10-10
# (bench_forecast_heldout; 0.938 on average over five cut-offs). The target is 0.90, NOT
# reached here; this bound only guards what is reached against regressions.
REACHED_VS_BEST_BASELINE = 0.95


@pytest.mark.slow
def test_online_retail_weekly_sku_forecast_vs_baselines_on_held_out_weeks(retail):
    """Sku level, where stock is planned: the default chain (segment x sku, reconciled) summed
    to sku, and sku forecast directly, against the best in hindsight of naive, seasonal naive
    and 4/8/13-week moving averages of each sku's own raw history."""
    from segchain.forecast import build_series, forecast

    orders, segments = retail
    train = orders.filter(pl.col("order_date").cast(pl.Date) < HOLDOUT_START)
    # The chain as a user runs the protocol: every line given, --as-of the cut-off (the stage
    # then scores itself on the weeks after it; checked below against the figures here).
    chain = forecast(orders, segments, freq="W", horizon=H, n_jobs=2, as_of=HOLDOUT_START)
    direct = forecast(train, segments, freq="W", horizon=H, n_jobs=2, by="sku")
    for fc in (chain.forecast, direct.forecast):
        assert fc.select(pl.selectors.float().is_nan().any()).sum_horizontal().item() == 0
        assert fc.get_column("forecast").min() >= 0

    # Actuals and the baselines, computed here from the raw series alone.
    full = build_series(orders, segments, freq="W", by=("sku",), outliers="keep").y
    hist = full.filter(pl.col("ds") < HOLDOUT_START).sort("unique_id", "ds")
    last = hist.group_by("unique_id").agg(
        pl.col("y").last().alias("naive"),
        *[pl.col("y").tail(k).mean().alias(f"ma{k}") for k in (4, 8, 13)],
    )
    # Seasonal naive: the same week a year earlier, else (the data hold barely a year) naive.
    # A week the orders do not cover whole is no year-ago week: the data start on Wednesday
    # 2010-12-01, so the week of Monday 2010-11-29 holds two days of it (README, held-out check).
    first_day = orders.get_column("order_date").cast(pl.Date).min()
    year_ago = hist.filter(pl.col("ds") >= first_day).select(
        "unique_id", (pl.col("ds") + pl.duration(weeks=52)).alias("ds"), pl.col("y").alias("sn")
    )
    summed = chain.forecast.group_by("sku", "ds").agg(pl.col("forecast").sum().alias("chain"))
    actual = full.filter(pl.col("ds") >= HOLDOUT_START)
    joined = (
        actual.join(
            direct.forecast.select("unique_id", "ds", pl.col("forecast").alias("direct")),
            on=["unique_id", "ds"],
        )
        .join(summed.rename({"sku": "unique_id"}), on=["unique_id", "ds"], how="left")
        .join(last, on="unique_id")
        .join(year_ago, on=["unique_id", "ds"], how="left")
        .with_columns(
            pl.col("sn").fill_null(pl.col("naive")).alias("seasonal_naive"),
            pl.col("chain").fill_null(0.0),
            # Hindsight, not a forecast: each sku's own mean over the held-out weeks, flat, printed
            # as the scale for the target (what a perfect level scores against the baselines).
            pl.col("y").mean().over("unique_id").alias("flat_oracle"),
        )
    )
    assert joined.select("unique_id").n_unique() > 2500
    assert joined.get_column("ds").n_unique() == H
    names = ["chain", "direct", "naive", "seasonal_naive", "ma4", "ma8", "ma13", "flat_oracle"]
    scores = joined.select(
        [wape(pl.col(c) - pl.col("y"), pl.col("y")).alias(c) for c in names]
    ).row(0, named=True)
    best = min(v for k, v in scores.items() if k not in ("chain", "direct", "flat_oracle"))
    vs_best, seg_vs_direct = scores["chain"] / best, scores["chain"] / scores["direct"]
    print(f"\nheld-out WAPE at sku level: { {k: round(v, 4) for k, v in scores.items()} }")
    sums = joined.select([(pl.col(c).sum() / pl.col("y").sum()).alias(c) for c in names])
    print(
        f"forecast sum / demand: { {k: round(v, 2) for k, v in sums.row(0, named=True).items()} }"
    )
    print(
        f"chain / best baseline = {vs_best:.3f} (target 0.90); "
        f"segment x sku summed / sku direct = {seg_vs_direct:.3f} (target <= 1.0); "
        f"reconciliation {chain.reconciliation}; flat oracle (hindsight) / best baseline = "
        f"{scores['flat_oracle'] / best:.3f}"
    )
    # forecast --as-of's own held-out check computes the same figures.
    held = chain.held_out
    assert held is not None and held.periods == H and held.level == ["sku"]
    own = dict(zip(held.scores["approach"], held.scores["wape"], strict=True))
    for mine, theirs in [("forecast", "chain"), ("naive", "naive"), ("seasonal naive",
        "seasonal_naive"), ("4-week average", "ma4"), ("8-week average", "ma8"),
        ("13-week average", "ma13"), ("sku direct", "direct")]:  # fmt: skip
        assert own[mine] == pytest.approx(scores[theirs], rel=1e-9), mine
    assert held.ratio == pytest.approx(vs_best, rel=1e-9)
    assert held.vs_direct == pytest.approx(seg_vs_direct, rel=1e-9)
    assert vs_best <= REACHED_VS_BEST_BASELINE
    assert seg_vs_direct <= 1.0 + 1e-9
