"""Model selection by rolling-origin cross-validation, pooled per group of series."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import cast

import polars as pl

from segchain.forecast.classes import classify
from segchain.forecast.engines import Engine
from segchain.forecast.global_model import global_cross_validation, usable
from segchain.forecast.group_seasonal import lifted
from segchain.forecast.models import (
    CV_CLASSES,
    candidates,
    ensemble_members,
    make_model,
    model_rank,
    wants_ensemble,
    wants_global,
    wants_group_seasonal,
    with_ensemble,
)
from segchain.forecast.options import (
    EXTRA_WINDOWS,
    FREQS,
    GLOBAL,
    GROUP_SEASONAL,
    Plan,
    Tick,
    batch,
    window_of,
)
from segchain.forecast.units import demand_unit, from_unit, in_unit
from segchain.schema import FALLBACK_MODEL

CV_WINDOWS = 4
# The key and actual columns of a CV frame; the rest are models' forecasts (wide) or
# ``model, yhat`` (long).
INDEX = ("unique_id", "ds", "cutoff", "y")
# Fallback counters (stderr and the backtest's metadata, ``fallbacks``).
GLOBAL_SKIPPED = "global_model_skipped"  # series: too little data to learn across series
GLOBAL_FAILED = "global_model_failed"  # series: the global model's fit raised
# What the progress line says while the global model fits: no series count measures it.
GLOBAL_FIT = "fitting the global model"
GLOBAL_STAND_IN = "global_model_stand_in"  # series-windows forecast by the moving average
NOT_BACKTESTED = "not_backtested"  # series too short to backtest: HistoricAverage
# Weight of a CV window against the next more recent one: the nearest window weighs most, and
# the choice still rests on all four (docs/measurements.md, held out at sku level: 0.5 -> 0.9
# took Superstore's mean over five cut-offs from 0.975 to 0.944 of the best baseline, Online
# Retail 0.946 -> 0.947 and 1.039 -> 1.039; one window deciding fits that window's noise).
WINDOW_DECAY = 0.9
# Challengers must beat the default moving average by more than this many standard errors of
# their paired, recency-weighted error difference (the one-standard-error rule, Hastie,
# Tibshirani & Friedman 2009, 7.10: among models the backtest cannot tell apart, the simpler).
CHALLENGE_SE = 1.0
# Baselines that forecast one past period: not candidates for intermittent demand (selectable).
SINGLE_PERIOD_BASELINES = ("Naive", "SeasonalNaive")
REFERENCE_MODEL = "WindowAverage"  # the default moving average: 8 weeks, 28 days, 3 months


@contextmanager
def _short_series_dropped_quietly() -> Iterator[None]:
    """utilsforecast warns, per backtest window, with the ids of series too short for it. The
    selection scores each series on the windows it has and counts those it cannot backtest
    (NOT_BACKTESTED, and the reconciliation's windows not scored), so the library's lists of ids
    would repeat on stderr what segchain already says once."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="The following series are too short for the window"
        )
        yield


def cv_buckets(stats: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Per series: CV windows, routing group and which seasonal models its history allows.

    Rolling-origin windows of ``horizon`` periods, each training on at least ``window``
    periods: up to ``CV_WINDOWS`` once the history spans two quarters (26 weeks, 56 days,
    12 months), else up to two. More windows make the pooled choice steadier: on Online
    Retail weekly they cut held-out WAPE (see the acceptance test).
    """
    h = plan.horizon
    most = ((pl.col("n") - plan.window) // h).clip(lower_bound=0)
    long = pl.col("n") >= 2 * FREQS[plan.freq][3]
    windows = (
        pl.when(long).then(most.clip(upper_bound=CV_WINDOWS)).otherwise(most.clip(upper_bound=2))
    )
    return (
        stats.with_columns(windows.cast(int).alias("windows"))
        .with_columns(
            (pl.col("n") - pl.col("windows") * h).alias("train0"),
            pl.col("demand_class").is_in(CV_CLASSES).alias("smooth_route"),
        )
        .with_columns(
            (pl.col("train0") > plan.season).alias("has_season"),
            (pl.col("train0") >= 2 * plan.season).alias("two_seasons"),
        )
    )


def cross_validate(
    y: pl.DataFrame,
    buckets: pl.DataFrame,
    plan: Plan,
    engine: Engine,
    tick: Tick,
    keys: pl.DataFrame | None = None,
    fallbacks: dict[str, int] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """(long CV frame: unique_id, ds, cutoff, y, model, yhat (clipped at 0; NaN -> null), the
    global model's one-step forecasts out of sample or None: see ``global_cross_validation``).

    ``tick(done, total)`` counts series after each group's cross-validation, and says the group
    while it runs (``batch``: one statsforecast call, the count moves when it is done). The
    global model (when ``keys`` are given and the data are large enough) is fitted once across
    every series and scored on exactly the windows the series' local models were. Every
    fallback on the way is counted in ``fallbacks`` (see ``count_global``).

    Every model is handed the history in the level's own unit (``units``: its forecasts scale
    with the unit of quantity), and its forecasts come back in the demand's own, beside the
    actuals as given.
    """
    unit = demand_unit(y)
    seen = in_unit(y, unit)
    frames = []
    one_step = None
    groups = (
        buckets.filter(pl.col("windows") > 0)
        .group_by("windows", "smooth_route", "has_season", "two_seasons")
        .agg("unique_id")
        .sort("windows", "smooth_route", "has_season", "two_seasons")
    )
    total = int(groups["unique_id"].list.len().sum()) if groups.height else 0
    done = 0
    tick(done, total)
    for row in groups.iter_rows(named=True):
        names = candidates(plan, smooth=row["smooth_route"], has_season=row["has_season"])
        models = [
            make_model(
                n, season_length=plan.season, seasonal=row["two_seasons"], window=plan.window
            )
            for n in names
        ]
        ids = pl.col("unique_id").is_in(row["unique_id"])
        part = y.filter(ids)
        tick(done, total, batch(len(row["unique_id"]), names))
        with _short_series_dropped_quietly():
            cv = engine.cross_validation(
                models, seen.filter(ids), h=plan.horizon, n_windows=row["windows"]
            )
        # Wide (one column per model) until every candidate is in: the long frame repeats the
        # keys and actuals once per model, and its joins and group-bys cost 4x the memory (on
        # The Complete Journey's 82,711 lumpy segment x sku series, +2 GB, docs/measurements.md).
        cv = _as_given(cv, part, unit)
        cv = short_window_means(cv, part)
        if wants_ensemble(plan):
            cv = with_ensemble(cv, ensemble_members(row["smooth_route"]))
        frames.append(cv.unpivot(index=list(INDEX), variable_name="model", value_name="yhat"))
        done += len(row["unique_id"])
        tick(done, total)
    if not frames:
        empty = pl.DataFrame(
            schema={
                "unique_id": pl.Utf8,
                "ds": pl.Date,
                "cutoff": pl.Date,
                "y": pl.Float64,
                "model": pl.Utf8,
                "yhat": pl.Float64,
            }
        )
        return empty, None
    out = pl.concat(frames, how="vertical_relaxed")
    if wants_group_seasonal(plan):
        # The lift is the total's, so it is derived once every group's moving average is in.
        out = pl.concat([out, lifted(out, y, plan, GROUP_SEASONAL)], how="vertical_relaxed")
    if keys is not None and wants_global(plan):
        glob = _global_cv(
            seen, keys, plan, buckets, fallbacks if fallbacks is not None else {}, tick
        )
        if glob is not None:
            glob_cv = from_unit(glob[0], unit, ["yhat"])
            one_step = from_unit(glob[1], unit, ["yhat1"])
            out = _with_global(out, glob_cv, fallbacks if fallbacks is not None else {})
    out = out.with_columns(
        pl.col("yhat").fill_nan(None).clip(lower_bound=0.0).cast(pl.Float64),
        pl.col("y").cast(pl.Float64),
    )
    return out, one_step


def _as_given(wide: pl.DataFrame, part: pl.DataFrame, unit: float) -> pl.DataFrame:
    """statsforecast's cross-validation frame of the history in ``unit`` (``wide``: one column
    per model) with the forecasts multiplied back and the actuals of ``part`` as given, not
    divided and rounded."""
    models = [c for c in wide.columns if c not in INDEX]
    actual = part.select("unique_id", pl.col("ds").cast(pl.Date), pl.col("y").cast(pl.Float64))
    out = from_unit(wide.drop("y"), unit, models).join(
        actual, on=["unique_id", "ds"], how="left", maintain_order="left"
    )
    return out.select(*INDEX, *models)


def short_window_means(wide: pl.DataFrame, y: pl.DataFrame) -> pl.DataFrame:
    """A moving average asked for more periods than a backtest window's history holds forecasts
    the mean of the history there is (statsforecast gives NaN). Otherwise one early window of
    young series disqualifies the 13-week average for their whole group (a model that failed
    anywhere is never picked), as it did for the 1,143 lumpy skus of Online Retail cut at
    2011-08-01. ``wide``: statsforecast's cross-validation frame, one column per model."""
    averages = [m for m in wide.columns if m == "WindowAverage" or window_of(m)]
    if not averages:
        return wide
    gap = pl.any_horizontal(pl.col(m).fill_nan(None).is_null() for m in averages)
    cuts = wide.filter(gap).select("unique_id", "cutoff").unique()
    if not cuts.height:
        return wide
    means = (
        y.join(cuts, on="unique_id")
        .filter(pl.col("ds") <= pl.col("cutoff"))
        .group_by("unique_id", "cutoff")
        .agg(pl.col("y").cast(pl.Float64).mean().alias("history_mean"))
    )
    return (
        wide.join(means, on=["unique_id", "cutoff"], how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col(m).fill_nan(None).is_null())
            .then(pl.col("history_mean"))
            .otherwise(pl.col(m))
            .alias(m)
            for m in averages
        )
        .drop("history_mean")
    )


def _global_cv(
    y: pl.DataFrame,
    keys: pl.DataFrame,
    plan: Plan,
    buckets: pl.DataFrame,
    fallbacks: dict[str, int],
    tick: Tick,
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The global model's backtest forecasts and one-step forecasts out of sample
    (``global_cross_validation``), or None (counted) when it is skipped or fails.
    Its fit, after every series' local models, is said as what the step does (``tick``)."""
    backtested = buckets.filter(pl.col("windows") > 0).height
    if not backtested:
        return None
    if not usable(y):
        # Too little data to learn across series: the local candidates compete without it.
        fallbacks[GLOBAL_SKIPPED] = fallbacks.get(GLOBAL_SKIPPED, 0) + backtested
        return None
    windows = int(cast(int, buckets.get_column("windows").max()))
    tick(0, 0, GLOBAL_FIT)
    try:
        with _short_series_dropped_quietly():
            return global_cross_validation(y, keys, plan, n_windows=windows)
    except Exception:  # noqa: BLE001 - any failure of the fit leaves the local candidates
        fallbacks[GLOBAL_FAILED] = fallbacks.get(GLOBAL_FAILED, 0) + backtested
        return None


def _with_global(out: pl.DataFrame, glob: pl.DataFrame, fallbacks: dict[str, int]) -> pl.DataFrame:
    """The global model's rows, scored on exactly the local models' windows; where it could
    not forecast one (a series with no history at the fit), the default moving average (or
    naive) stands in, and the series-windows stood in for are counted."""
    present = set(out.get_column("model").unique().to_list())
    proxy = "WindowAverage" if "WindowAverage" in present else "Naive"
    stand_in = out.filter(pl.col("model") == proxy).select(
        "unique_id", "ds", "cutoff", "y", pl.col("yhat").alias("stand_in")
    )
    joined = stand_in.join(
        glob.select("unique_id", "ds", "cutoff", "yhat"),
        on=["unique_id", "ds", "cutoff"],
        how="left",
    )
    missing = joined.filter(pl.col("yhat").is_null()).select("unique_id", "cutoff").unique().height
    if missing:
        fallbacks[GLOBAL_STAND_IN] = fallbacks.get(GLOBAL_STAND_IN, 0) + missing
    glob = joined.select(
        "unique_id",
        "ds",
        "cutoff",
        "y",
        pl.lit(GLOBAL).alias("model"),
        pl.coalesce("yhat", "stand_in").alias("yhat"),
    )
    return pl.concat([out, glob.select(out.columns)], how="vertical_relaxed")


def selection_error(error: pl.Expr) -> pl.Expr:
    """The error a model is chosen by, for one series and one CV window (forecast - actual).

    The absolute errors of the periods plus the absolute error of the window's total:
    ``sum |e_t| + |sum e_t|``. Pooled over a group and divided by its demand, that is the WAPE
    of the period forecasts plus the WAPE of the horizon totals. The first term alone is
    minimised by the median of each period's demand, which is 0 for intermittent demand, so it
    rewards forecasts that are mostly zero and would leave ``stock`` short; the second is only
    small when the forecast sums to the demand, i.e. when it tracks the mean level.
    """
    return error.abs().sum() + error.sum().abs()


def _error_grain(cv: pl.LazyFrame) -> float:
    """Selection errors per unit of demand, as whole numbers: a millionth of the mean period
    demand of the backtest's actuals above 0 (a thousandth of a unit without any)."""
    mean = cv.select(pl.col("y").filter(pl.col("y") > 0).mean()).collect().item()
    return 1e6 / float(mean) if mean else 1000.0


def choose(
    cv: pl.DataFrame | pl.LazyFrame, plan: Plan, groups: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pick the model with the least recency-weighted selection error, pooled per group.

    ``groups`` maps each unique_id to a group (demand class and history bucket): one model is
    chosen for the whole group by ``selection_error`` summed over the group's series and
    windows, each window weighted ``WINDOW_DECAY ** age`` (age 0 for the window nearest the
    forecast origin): the level of retail demand moves, and the history average that fits
    the earliest windows best is rarely the model for the next weeks. A model other than the
    default moving average must also beat it by more than ``CHALLENGE_SE`` standard errors of
    their paired, weighted difference over the group's series-windows (the one-standard-error
    rule): among models the backtest cannot tell apart, the robust default, as winners picked
    from many candidates on a few windows look better than they are. Pooling matters on real
    retail data: a choice per series on a few short windows mostly fits noise and loses to a
    moving average. The baselines are candidates too, so a group keeps its best baseline
    unless a model beats it in CV. Ties go to the simpler model. Returns (choice per series,
    honest backtest rows), where the backtest rows come from leave-one-window-out selection:
    the model scored on a window is the one chosen on the other windows, so the reported
    accuracy is not flattered.
    """
    allowed = plan.models
    # The CV frame is the run's largest (every candidate's forecast of every backtest period),
    # so it is only read lazily here: polars' eager group-by materialised its keys and groups
    # beside it (+2 GB peak on 12.8M rows), the lazy query streams them (+0.4 GB).
    lazy = cv.lazy()
    pool = lazy if allowed is None else lazy.filter(pl.col("model").is_in(allowed))
    per_window = (
        pool.group_by("unique_id", "model", "cutoff")
        .agg(
            # Whole millionths of the run's mean period demand: sums of integer-valued floats
            # are exact in any order, so multithreaded group sums cannot flip a near-tie between
            # runs, and the grain follows the unit (whole thousandths of a unit tied every model
            # of a series sold in tonnes, 0.05 a week, and the simplest won).
            (selection_error(pl.col("yhat") - pl.col("y")) * _error_grain(pool))
            .round()
            .alias("error"),
            pl.col("yhat").is_null().any().alias("failed"),
        )
        .collect()
        .join(groups, on="unique_id", how="left")
    )
    rank = {m: model_rank(m) for m in per_window.get_column("model").unique().to_list()}
    ages = (
        per_window.select("group", "cutoff")
        .unique()
        # 0 for the window nearest the forecast origin, 1 for the one before, ...
        .with_columns(
            (pl.col("cutoff").rank("dense", descending=True).over("group") - 1).alias("age")
        )
        .with_columns((pl.lit(WINDOW_DECAY) ** pl.col("age")).alias("w"))
    )
    per_window = per_window.join(ages, on=["group", "cutoff"])
    evidence = _evidence(per_window)
    per_window = (
        per_window.with_columns(
            pl.when(pl.col("failed")).then(float("inf")).otherwise(pl.col("error")).alias("score")
        )
        .group_by("group", "model", "cutoff")
        .agg(pl.col("score").sum(), pl.col("w").first())
        .with_columns(pl.col("model").replace_strict(rank, default=99).alias("rank"))
        .with_columns(pl.col("score") * pl.col("w"))
    )
    totals = per_window.group_by("group", "model", "rank").agg(
        pl.col("score").sum().alias("total"), pl.len().alias("k")
    )
    sums = ["s0", "s1", "s2", "w2"]
    ev_total = evidence.group_by("group", "model").agg([pl.col(c).sum() for c in sums])
    referenced = totals.filter(
        (pl.col("model") == REFERENCE_MODEL) & (pl.col("total") < float("inf"))
    ).select("group", pl.lit(True).alias("referenced"))
    eligible = (
        totals.join(ev_total, on=["group", "model"], how="left")
        .join(referenced, on="group", how="left")
        .with_columns(_eligible(sums).alias("eligible"))
    )
    group_choice = (
        eligible.filter(pl.col("eligible"))
        .sort("group", "total", "rank", "model")
        .group_by("group", maintain_order=True)
        .first()
        .select("group", "model", (pl.col("total") < float("inf")).alias("ok"))
    )
    choice = groups.join(group_choice, on="group").select("unique_id", "model", "ok")
    # Leave one window out: the same rule on the other windows' errors and evidence.
    loo_sums = [
        pl.when(pl.col("k") >= 2)
        .then(pl.col(c) - pl.col(f"{c}_w").fill_null(0.0))
        .otherwise(pl.col(c))
        .alias(c)
        for c in sums
    ]
    loo = (
        per_window.join(eligible, on=["group", "model", "rank"], suffix="_total")
        .join(
            evidence.rename({c: f"{c}_w" for c in sums}),
            on=["group", "model", "cutoff"],
            how="left",
        )
        .with_columns(
            pl.when(pl.col("k") >= 2)
            .then(pl.col("total") - pl.col("score"))
            .otherwise(pl.col("total"))
            # inf - inf is NaN: a model that failed anywhere is never picked.
            .fill_nan(float("inf"))
            .alias("loo"),
            *loo_sums,
        )
        .filter(_eligible(sums))
        .sort("group", "cutoff", "loo", "rank", "model")
        .group_by("group", "cutoff", maintain_order=True)
        .first()
        .select("group", "cutoff", "model")
    )
    # The model each series-window is scored by, then its rows: joining the whole CV frame to
    # the groups first copied it with one more column.
    scored = groups.join(loo, on="group").drop("group")
    rows = lazy.join(
        scored.lazy(), on=["unique_id", "cutoff", "model"], maintain_order="left"
    ).collect()
    return choice, rows


def selectable(cv: pl.LazyFrame, stats: pl.DataFrame, plan: Plan) -> pl.LazyFrame:
    """The backtest rows a series may be given: on the intermittent route (intermittent and
    lumpy series) not those of the single-period baselines, unless ``--models`` names them.

    Naive repeats the last period and SeasonalNaive the one a season ago; on demand that is
    mostly zero that is one draw, a zero (or a whole lump) for every period of the horizon.
    Where the backtest windows happen to hold little demand, the zero scores best, and the
    group is then forecast nothing while its items still sell (Superstore by product, cut at
    2022-10-10: 174 skus forecast 0 that sold 241 units in the next 8 weeks). They are still
    backtested: the report's baselines are theirs. Held out at sku level, WAPE against the
    best baseline: Online Retail cut at 2011-08-01 1.009 -> 0.964, Superstore by product
    0.930 -> 0.885 and 0.900 -> 0.841; 0.987 -> 0.994 at one cut-off, within 0.004 at nine
    others, unchanged on Superstore's sub-categories (README, Routing).
    """
    if plan.models is not None:
        return cv
    sparse = stats.filter(~pl.col("smooth_route")).get_column("unique_id").implode()
    single_period = pl.col("model").is_in(SINGLE_PERIOD_BASELINES)
    return cv.filter(~(single_period & pl.col("unique_id").is_in(sparse)))


def _evidence(per_window: pl.DataFrame) -> pl.DataFrame:
    """Per group, model and window: the weighted sums of each series' error difference to the
    reference moving average in that window (``s0, s1, s2, w2``), for the one-SE rule."""
    ref = per_window.filter(pl.col("model") == REFERENCE_MODEL).select(
        "unique_id",
        "cutoff",
        pl.col("error").alias("ref_error"),
        pl.col("failed").alias("ref_failed"),
    )
    d = pl.col("error") - pl.col("ref_error")
    w = pl.col("w")
    return (
        per_window.join(ref, on=["unique_id", "cutoff"])
        .filter(~pl.col("failed") & ~pl.col("ref_failed"))
        .group_by("group", "model", "cutoff")
        .agg(
            w.sum().alias("s0"),
            (w * d).sum().alias("s1"),
            (w * d * d).sum().alias("s2"),
            (w * w).sum().alias("w2"),
        )
    )


def _eligible(sums: list[str]) -> pl.Expr:
    """A model may be chosen: its group has no usable reference, it is the reference, or it
    beats the reference by the one-SE rule on the evidence columns ``sums``."""
    return (
        pl.col("referenced").is_null()
        | (pl.col("model") == REFERENCE_MODEL)
        | _beats_reference(*[pl.col(c) for c in sums]).fill_null(False)
    )


def _beats_reference(s0: pl.Expr, s1: pl.Expr, s2: pl.Expr, w2: pl.Expr) -> pl.Expr:
    """True where the weighted mean difference to the reference is below minus CHALLENGE_SE
    standard errors (effective sample size (sum w)^2 / sum w^2)."""
    mean = s1 / s0
    var = (s2 / s0 - mean * mean).clip(lower_bound=0.0)
    se = (var / (s0 * s0 / w2)).sqrt()
    return (mean < -CHALLENGE_SE * se) & (s0 > 0)


@dataclass
class Selection:
    stats: pl.DataFrame  # classify() + buckets + model + cv_rmse + fallback_sd
    cv: pl.DataFrame
    rows: pl.DataFrame  # honest backtest rows of the chosen procedure
    fallbacks: dict[str, int] = field(default_factory=dict)
    # The global model's one-step forecasts out of sample (``global_cross_validation``).
    global_one_step: pl.DataFrame | None = None


def report_rows_only(sel: Selection, plan: Plan) -> Selection:
    """The selection with its backtest frame cut to the rows still read once the level's final
    forecast is made: the simple baselines (the backtest table's baseline, the comparison rows'
    moving averages) and each series' chosen model. The frame holds every candidate's forecast
    of every backtest period, and while the next level is backtested it was the largest thing
    kept: on 113,363 segment x sku series of The Complete Journey the run's peak resident
    memory fell from 14.2 to 10.3 GB (docs/measurements.md)."""
    kept = {
        *SINGLE_PERIOD_BASELINES,
        REFERENCE_MODEL,
        *(f"WindowAverage{w}" for w in EXTRA_WINDOWS[plan.freq]),
        *sel.stats.get_column("model").drop_nulls().unique().to_list(),
    }
    return replace(sel, cv=sel.cv.filter(pl.col("model").is_in(sorted(kept))))


def select_models(
    y: pl.DataFrame,
    plan: Plan,
    engine: Engine,
    tick: Tick,
    keys: pl.DataFrame | None = None,
) -> Selection:
    stats = cv_buckets(classify(y, recent=FREQS[plan.freq][3]), plan)
    fallbacks: dict[str, int] = {}
    cv, global_one_step = cross_validate(y, stats, plan, engine, tick, keys, fallbacks)
    parts = ["demand_class", "windows", "has_season", "two_seasons"]
    groups = stats.select(
        "unique_id",
        pl.concat_str([pl.col(c).cast(pl.Utf8) for c in parts], separator="|").alias("group"),
    )
    # Lazily: the filter is fused into choose's scans instead of copying the frame.
    choice, rows = choose(selectable(cv.lazy(), stats, plan), plan, groups)
    err = rows.group_by("unique_id").agg(
        ((pl.col("yhat").fill_null(0.0) - pl.col("y")) ** 2).mean().sqrt().alias("cv_rmse"),
        pl.len().alias("n_err"),
    )
    # No backtest: the spread of the history (Poisson when a single point).
    poisson = pl.col("mean_all").sqrt()
    fallback_sd = pl.when(pl.col("n") >= 2).then(pl.col("sd_all")).otherwise(poisson)
    stats = (
        stats.join(choice, on="unique_id", how="left")
        .join(err, on="unique_id", how="left")
        .with_columns(fallback_sd.fill_nan(0.0).fill_null(0.0).alias("fallback_sd"))
        .with_columns(
            pl.when(pl.col("ok")).then(pl.col("model")).otherwise(pl.lit(FALLBACK_MODEL)),
            pl.when(pl.col("ok") & (pl.col("n_err") >= 2))
            .then(pl.col("cv_rmse"))
            .otherwise(pl.col("fallback_sd"))
            .fill_nan(0.0)
            .fill_null(0.0)
            .alias("cv_rmse"),
            pl.col("ok").fill_null(False).alias("backtested"),
        )
        .drop("ok", "n_err")
    )
    short = stats.filter(~pl.col("backtested")).height
    if short:
        fallbacks[NOT_BACKTESTED] = short
    return Selection(
        stats=stats, cv=cv, rows=rows, fallbacks=fallbacks, global_one_step=global_one_step
    )
