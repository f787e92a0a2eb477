"""Forecast uncertainty: split-conformal and normal intervals, one-step-ahead error_sd."""

from __future__ import annotations

from typing import cast

import polars as pl

from segchain.forecast.group_seasonal import GROUP_SEASONAL_BASE, lifts
from segchain.forecast.models import FITTED_MODELS
from segchain.forecast.options import ENSEMBLE, FREQS, GROUP_SEASONAL, Plan, window_of


def baseline_one_step(y: pl.DataFrame, model: str, plan: Plan) -> pl.Expr:
    """The exact rolling one-step-ahead forecast of a baseline, from the periods before each."""
    v = pl.col("y")
    if model == "Naive":
        return v.shift(1)
    if model == "SeasonalNaive":
        return v.shift(plan.season)
    if model == "HistoricAverage":
        return v.cum_sum().shift(1) / pl.int_range(pl.len()).cast(pl.Float64)
    # Only the baselines come here, so any other model is a WindowAverageN.
    window = plan.window if model == "WindowAverage" else cast(int, window_of(model))
    return v.rolling_mean(window_size=window).shift(1)


def one_step_forecasts(
    y: pl.DataFrame, stats: pl.DataFrame, fitted: pl.DataFrame, plan: Plan
) -> pl.DataFrame:
    """``unique_id, ds, yhat1``: each period forecast from the periods before it by the series'
    chosen model: exactly for the baselines (naive, seasonal naive, moving and historic
    averages), and refit-free for fitted models (their one-step-ahead fitted values, parameters
    estimated once; ``fitted`` holds them). Series without a backtest have none."""
    chosen = stats.filter(pl.col("backtested")).select("unique_id", "model")
    frames = [fitted.select("unique_id", "ds", pl.col("yhat1").cast(pl.Float64))]
    for model in chosen.get_column("model").unique().sort().to_list():
        if model in FITTED_MODELS or model == ENSEMBLE:
            continue
        ids = chosen.filter(pl.col("model") == model).get_column("unique_id")
        part = y.filter(pl.col("unique_id").is_in(ids)).sort("unique_id", "ds")
        base = GROUP_SEASONAL_BASE if model == GROUP_SEASONAL else model
        expr = baseline_one_step(part, base, plan).over("unique_id")
        one = part.select("unique_id", "ds", expr.alias("yhat1"))
        if model == GROUP_SEASONAL:
            one = _one_step_lifted(one, y, plan)
        frames.append(one)
    return pl.concat(frames, how="vertical_relaxed")


def one_step_sd(
    y: pl.DataFrame, stats: pl.DataFrame, cv: pl.DataFrame, one: pl.DataFrame
) -> pl.DataFrame:
    """error_sd per series: the standard deviation of its one-step-ahead errors.

    Over the backtest span (the periods after the series' first CV cutoff), the errors of
    ``one`` (``one_step_forecasts``) against ``y``. Fewer than two errors, or no backtest: the
    standard deviation of the history instead (``fallback_sd``).
    """
    sd = error_spread(y, first_cutoffs(cv), one)
    return (
        stats.select("unique_id", "fallback_sd")
        .join(sd, on="unique_id", how="left")
        .select(
            "unique_id",
            pl.when(pl.col("n1") >= 2)
            .then(pl.col("sd1"))
            .otherwise(pl.col("fallback_sd"))
            .fill_nan(0.0)
            .fill_null(0.0)
            .alias("error_sd"),
        )
    )


def error_spread(y: pl.DataFrame, first_cut: pl.DataFrame, one: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, sd1, n1``: the standard deviation (ddof 1) and the number of the one-step
    errors of ``one`` (``unique_id, ds, yhat1``, clipped at 0 as the forecasts written are)
    against ``y`` over the periods after each series' ``first_cut``."""
    errors = (
        y.join(first_cut, on="unique_id")
        .filter(pl.col("ds") > pl.col("first_cut"))
        .join(one, on=["unique_id", "ds"], how="inner")
        .filter(pl.col("yhat1").is_not_null() & pl.col("yhat1").is_not_nan())
        .with_columns((pl.col("yhat1").clip(lower_bound=0.0) - pl.col("y")).alias("e"))
    )
    return errors.group_by("unique_id").agg(
        pl.col("e").std(ddof=1).alias("sd1"), pl.len().alias("n1")
    )


def _one_step_lifted(one: pl.DataFrame, y: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """One-step forecasts of the moving average times the total's lift from the period before."""
    every = FREQS[plan.freq][0]
    pairs = (
        one.select("ds")
        .unique()
        .with_columns(pl.col("ds").dt.offset_by(f"-{every}").alias("cutoff"))
    )
    lift = lifts(y, pairs, plan).drop("cutoff")
    return one.join(lift, on="ds", how="left").select(
        "unique_id", "ds", (pl.col("yhat1") * pl.col("lift").fill_null(1.0)).alias("yhat1")
    )


def conformal_halfwidths(cv: pl.DataFrame, stats: pl.DataFrame, levels: list) -> pl.DataFrame:
    """Split-conformal half-widths per series from its chosen model's rolling-origin errors.

    The absolute errors of every backtest window and step are the calibration set; the
    half-width at level L is their ceil((n+1) L)-th smallest value. With too few errors for
    that rank, the normal approximation z * cv_rmse (RMS of those errors) is used instead.
    """
    from statistics import NormalDist

    # Lazily, as the CV frame holds every candidate's rows (see selection.choose).
    errs = cv.lazy().join(
        stats.lazy().select("unique_id", "model", "cv_rmse"), on=["unique_id", "model"]
    )
    errs = errs.with_columns((pl.col("yhat") - pl.col("y")).abs().fill_null(0.0).alias("ae"))
    aggs = []
    for lv in levels:
        z = NormalDist().inv_cdf(0.5 + lv / 200)
        rank = (((pl.len() + 1) * lv / 100).ceil().cast(pl.Int64) - 1).alias("r")
        aggs.append(
            pl.when(rank < pl.len())
            .then(pl.col("ae").sort().gather(rank.clip(upper_bound=pl.len() - 1)))
            .otherwise(z * pl.col("cv_rmse").first())
            .first()
            .alias(f"q-{lv}")
        )
    out = errs.group_by("unique_id").agg(aggs).collect()
    # The levels nest: a wider level's half-width is at least a narrower one's. With few errors
    # the narrower may be an empirical rank (up to the largest error, sqrt(n) RMS) and the
    # wider the normal approximation (1.96 RMS): 84 of 1,473 monthly rows at --horizon 3 had
    # hi-80 above hi-95, and stock reads the upper bounds.
    ordered = sorted(levels)
    return out.with_columns(
        pl.max_horizontal(*[f"q-{lower}" for lower in ordered[: i + 1]]).alias(f"q-{lv}")
        for i, lv in enumerate(ordered)
    )


def reconciled_bounds(
    fc: pl.DataFrame, rows: pl.DataFrame, levels: list
) -> tuple[pl.DataFrame, pl.Series]:
    """Split-conformal bounds around the reconciled forecasts from the reconciled backtest's
    own errors (``rows``: ``unique_id, y, yhat`` of every window and step, as
    ``conformal_halfwidths`` reads a model's): the bounds of the numbers written, not of the
    series' own model's. Series without such rows keep the bounds they have. Returns (the
    forecast with those bounds, the ids of the series that have rows)."""
    model = pl.lit("reconciled").alias("model")
    stats = rows.group_by("unique_id").agg(
        ((pl.col("yhat").fill_null(0.0) - pl.col("y")) ** 2).mean().sqrt().alias("cv_rmse")
    )
    q = conformal_halfwidths(rows.with_columns(model), stats.with_columns(model), levels)
    has = pl.col("unique_id").is_in(q.get_column("unique_id").implode())
    bounds = [
        pl.when(has).then(e).otherwise(pl.col(e.meta.output_name())).alias(e.meta.output_name())
        for e in conformal_bounds(pl.col("forecast"), levels)
    ]
    out = fc.join(q, on="unique_id", how="left").with_columns(bounds)
    return out.select(fc.columns), q.get_column("unique_id")


def first_cutoffs(cv: pl.DataFrame) -> pl.DataFrame:
    """Each series' first CV cutoff (``first_cut``), read lazily from the large CV frame."""
    return cv.lazy().group_by("unique_id").agg(pl.col("cutoff").min().alias("first_cut")).collect()


# A lower bound is a forecast less a half-width. Where the two are one number reached by two
# sums (a top-down split's forecast and its backtest error against no demand: 0.125 and
# 0.12499999999999997), what is left is rounding, not a bound: Online Retail by RFM segment on
# its whole history wrote forecast-lo-80 and -95 of 2.8e-17 and 6.9e-18 (2 series, 26 rows)
# where the bound is 0. Under this share of the forecast a lower bound is written 0.
RESIDUE = 1e-12


def lower_bound(center: pl.Expr, half: pl.Expr) -> pl.Expr:
    """``center - half``, 0 where that is under ``RESIDUE`` of ``center`` (or negative)."""
    low = center - half
    return pl.when(low <= RESIDUE * center).then(0.0).otherwise(low)


def conformal_bounds(center: pl.Expr, levels: list) -> list[pl.Expr]:
    """The bounds of ``center`` at each level, its half-widths ``q-<level>`` either side."""
    out = []
    for lv in levels:
        out += [
            lower_bound(center, pl.col(f"q-{lv}")).alias(f"forecast-lo-{lv}"),
            (center + pl.col(f"q-{lv}")).alias(f"forecast-hi-{lv}"),
        ]
    return out


def normal_bounds(center: pl.Expr, sd: pl.Expr, levels: list) -> list[pl.Expr]:
    from statistics import NormalDist

    out = []
    for lv in levels:
        z = NormalDist().inv_cdf(0.5 + lv / 200)
        out += [
            lower_bound(center, z * sd).alias(f"forecast-lo-{lv}"),
            (center + z * sd).alias(f"forecast-hi-{lv}"),
        ]
    return out


def normal_where(fc: pl.DataFrame, sd: str, levels: list, where: pl.Expr) -> pl.DataFrame:
    """``fc`` with its bounds, on the rows where ``where`` holds, replaced by normal bounds of
    the column ``sd`` around the forecast, clipped at 0 (forecasts and bounds are never
    negative); the other rows keep theirs."""
    normal = normal_bounds(pl.col("forecast"), pl.col(sd), levels)
    return fc.with_columns(
        pl.when(where)
        .then(e.clip(lower_bound=0.0))
        .otherwise(pl.col(e.meta.output_name()))
        .alias(e.meta.output_name())
        for e in normal
    )
