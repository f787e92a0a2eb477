"""The global model: one gradient-boosted regressor learned across all series (Nixtla mlforecast).

Features per series and period: lags and rolling means of the last periods (weekly and monthly:
lags 1-4, 8 and 13, means of 4, 8 and 13 periods; daily: lags 7, 14, 21 and 28 days, on the
weekday being forecast, and means of the last 7 and 28 days), calendar features computable
offline (the day of the week; the week of the year or month, days to Christmas and to Easter),
and the series' key columns (segment, sku, ...) as ordinal codes.

The features of the year are used only by a fit whose history holds a whole year. With less,
they are the date in disguise: a forecast period's week, or its distance to Christmas, was never
seen in training, and the trees put it with the training weeks on the same side of their splits,
the last ones; a promotion in the last week was forecast for every week after it (tests). A daily
forecast of The Complete Journey's 300 best sellers from the 309 days before 2017-11-06 rose to
1.84 times the demand within 28 days.

Daily, a forecast fed back as yesterday's demand fed a runaway too: an intermittent item's days
are 0, 1 or 2 units in training, and a forecast of 0.3 read back as a lag is a day that sold, so
the next day's forecast rose, and so on for 28 steps. Lags of whole weeks come back only from a
week before, and the rolling means, fractions in training as in forecasting, carry the last days
(docs/measurements.md, *The global model's features on under a year*). The target is
standardised per series (``LocalStandardScaler``) so that one model serves skus of any volume;
scikit-learn's ``HistGradientBoostingRegressor`` handles the missing lags of short series.

The model is handed the demand as every model is, in the run's own unit and rounded to single
precision (``segchain.forecast.units``); its caller multiplies its forecasts back. The trees
turn a last-bit difference in their input into another split, and a quantity in other units
(thousands, grams) standardised per series differed from the original's in its last bits: the
demo's forecasts, all by the global model, moved by factors 0 to 12 with quantities x1000
(docs/measurements.md, *The global model and the unit of quantity*).

It is fitted twice per run, never per series: once on the history before the first backtest
cutoff (``refit=False``: the same fit forecasts every later window from its own lags, and every
later period one step ahead, whose errors are the series' error_sd), once on the whole history
for the forecast. Series too short for a lag still get a forecast (the
regressor treats missing features natively).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import polars as pl

from segchain.forecast.options import FREQS, GLOBAL, Plan

# Lags and rolling-mean windows by frequency, in periods.
LAGS = {"D": (7, 14, 21, 28), "W": (1, 2, 3, 4, 8, 13), "M": (1, 2, 3, 4, 8, 13)}
ROLLING = {"D": (7, 28), "W": (4, 8, 13), "M": (4, 8, 13)}
# A whole year, in periods: the history a fit needs before the features of the year mean a season.
YEAR = {"D": 365, "W": 52, "M": 12}
MAX_ITER = 100
# Below this many series-periods a global model learns nothing a local one does not.
MIN_ROWS = 200


def _easter(year: pl.Expr) -> pl.Expr:
    """Gregorian Easter Sunday of ``year`` (the anonymous Gregorian algorithm, Meeus 1991)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    n = h + l_ - 7 * m + 114
    return pl.date(year, n // 31, n % 31 + 1)


def _days_to_next(day: Callable[[pl.Expr], pl.Expr], d: pl.Expr) -> pl.Expr:
    """Days from ``d`` to the next ``day(year)`` (this year's, or next year's once passed)."""
    year = d.dt.year().cast(pl.Int32)
    this, nxt = day(year), day(year + 1)
    return pl.when(d <= this).then(this - d).otherwise(nxt - d).dt.total_days().cast(pl.Int32)


def _calendar_feature(fn: Callable[[pl.Expr], pl.Expr]) -> Callable[[Any], Any]:
    """mlforecast calls a date feature with the ``ds`` expression when it builds the training
    frame, and with a Series of dates when it predicts: accept both."""

    @functools.wraps(fn)
    def feature(ds: Any) -> Any:
        if isinstance(ds, pl.Series):
            return pl.DataFrame({"ds": ds}).select(fn(pl.col("ds"))).to_series().to_numpy()
        return fn(ds)

    return feature


@_calendar_feature
def week_of_year(ds: pl.Expr) -> pl.Expr:
    return ds.dt.week().cast(pl.Int32)


@_calendar_feature
def month_of_year(ds: pl.Expr) -> pl.Expr:
    return ds.dt.month().cast(pl.Int32)


@_calendar_feature
def day_of_week(ds: pl.Expr) -> pl.Expr:
    return ds.dt.weekday().cast(pl.Int32)


@_calendar_feature
def days_to_christmas(ds: pl.Expr) -> pl.Expr:
    return _days_to_next(lambda year: pl.date(year, 12, 25), ds.cast(pl.Date))


@_calendar_feature
def days_to_easter(ds: pl.Expr) -> pl.Expr:
    return _days_to_next(_easter, ds.cast(pl.Date))


def _calendar(freq: str, periods: int) -> list[Any]:
    """The date features of a fit on ``periods`` of history: those of the year only with a
    whole year of it (see the module's docstring)."""
    week = [day_of_week] if freq == "D" else []
    if periods < YEAR[freq]:
        return week
    of_year = month_of_year if freq == "M" else week_of_year
    return [*week, of_year, days_to_christmas, days_to_easter]


def _frame(y: pl.DataFrame, keys: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """y with each key column as an ordinal code (static features)."""
    key_cols = [c for c in keys.columns if c != "unique_id"]
    codes = keys.select(
        "unique_id",
        *[pl.col(c).rank("dense").cast(pl.Int32).alias(f"key_{c}") for c in key_cols],
    )
    statics = [f"key_{c}" for c in key_cols]
    df = y.join(codes, on="unique_id", how="left")
    return df.sort("unique_id", "ds"), statics


def _model(plan: Plan, periods: int):
    """The mlforecast pipeline; lags and windows that fit in ``periods`` of training history."""
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.target_transforms import LocalStandardScaler
    from sklearn.ensemble import HistGradientBoostingRegressor

    from segchain.cores import count_cores_quietly

    count_cores_quietly()
    regressor = HistGradientBoostingRegressor(
        max_iter=MAX_ITER, early_stopping=False, random_state=0
    )
    return MLForecast(
        models={GLOBAL: regressor},
        freq=FREQS[plan.freq][0],
        lags=[lag for lag in LAGS[plan.freq] if lag < periods],
        lag_transforms={1: [RollingMean(window_size=w) for w in ROLLING[plan.freq] if w < periods]},
        date_features=_calendar(plan.freq, periods),
        target_transforms=[LocalStandardScaler()],
        num_threads=1,
    )


def _one_thread():
    """OpenMP on one thread for the fit: on a busy machine its spinning worker threads cost
    far more than they save on data of this size (measured: 135 s against 2 s)."""
    # threadpoolctl limits only the runtimes already loaded, and scikit-learn loads OpenMP on
    # import: a fit whose pipeline was first imported inside the limit ran on every core.
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def usable(y: pl.DataFrame) -> bool:
    """Enough rows, and at least two series, for a model across series to mean anything."""
    return y.height >= MIN_ROWS and y.get_column("unique_id").n_unique() >= 2


def global_cross_validation(
    y: pl.DataFrame, keys: pl.DataFrame, plan: Plan, *, n_windows: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rolling-origin forecasts ``unique_id, ds, cutoff, y, model (= Global), yhat``, one-step
    forecasts out of sample ``unique_id, ds, yhat1``), in the unit of ``y``.

    The one-step forecasts are the backtest fit's, made on the history before the first
    cutoff, of each period after it from the actual periods before that period
    (``_fitted_by_first_window``): out of sample, as a fitted model's one-step fitted values
    are not quite and the final fit's would not be at all, a tree model all but learning the
    periods it was trained on (a series of noise: their spread 0.47 of the noise's; on
    Superstore's sub-categories 0.57-0.64, docs/measurements.md, *The global model's one-step error
    out of sample*).
    """
    df, statics = _frame(y, keys)
    longest = int(cast(int, y.group_by("unique_id").len().get_column("len").max()))
    mlf = _model(plan, longest - n_windows * plan.horizon)
    with _one_thread():
        cv = mlf.cross_validation(
            df,
            n_windows=n_windows,
            h=plan.horizon,
            step_size=plan.horizon,
            refit=False,
            static_features=statics,
            dropna=False,
        )
    actual = y.select("unique_id", pl.col("ds").cast(pl.Date), pl.col("y").cast(pl.Float64))
    cv = cv.select(
        "unique_id",
        pl.col("ds").cast(pl.Date),
        pl.col("cutoff").cast(pl.Date),
        pl.lit(GLOBAL).alias("model"),
        pl.col(GLOBAL).cast(pl.Float64).fill_nan(None).clip(lower_bound=0.0).alias("yhat"),
    ).join(actual, on=["unique_id", "ds"], how="left", maintain_order="left")
    cv = cv.select("unique_id", "ds", "cutoff", "y", "model", "yhat")
    first = cv.group_by("unique_id").agg(pl.col("cutoff").min().alias("first"))
    with _one_thread():
        one = _fitted_by_first_window(mlf, df, statics)
    one = one.join(first, on="unique_id").filter(pl.col("ds") > pl.col("first"))
    return cv, one.select("unique_id", "ds", pl.col("yhat1").fill_nan(None))


def _fitted_by_first_window(mlf: Any, df: pl.DataFrame, statics: list[str]) -> pl.DataFrame:
    """``unique_id, ds, yhat1``: the backtest's fit (its first window's models) predicting every
    period of the whole history from the actual periods before it: what ``cross_validation``
    with ``fitted=True`` computes for each later window of a ``refit=False`` backtest, over that
    window's training periods, here over all of them, by the same calls (mlforecast has no
    public one for a fit's predictions of other periods). As there, each series is standardised
    over the periods predicted, so its mean and deviation over the span are known to them."""
    mlf.models_ = mlf.cv_models_[0]
    prep = mlf.preprocess(df, static_features=statics, dropna=False, validate_data=False)
    X, target = mlf._extract_X_y(prep, "y", None)
    fitted = mlf._compute_fitted_values(
        base=prep.select("unique_id", "ds"),
        X=X,
        y=target,
        id_col="unique_id",
        time_col="ds",
        target_col="y",
        max_horizon=None,
        weight_col=None,
    )
    return fitted.select("unique_id", pl.col("ds").cast(pl.Date), pl.col(GLOBAL).alias("yhat1"))


def global_forecast(
    y: pl.DataFrame, keys: pl.DataFrame, plan: Plan, ids: pl.Series
) -> pl.DataFrame:
    """The forecast ``unique_id, ds, Global`` of the series ``ids``, fitted on every series'
    whole history (its one-step errors come from the backtest: ``global_cross_validation``)."""
    df, statics = _frame(y, keys)
    mlf = _model(plan, int(cast(int, y.group_by("unique_id").len().get_column("len").max())))
    with _one_thread():
        mlf.fit(df, static_features=statics, dropna=False)
        out = mlf.predict(plan.horizon, ids=ids.to_list())
    return out.select("unique_id", pl.col("ds").cast(pl.Date), pl.col(GLOBAL).cast(pl.Float64))
