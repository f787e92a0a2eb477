"""Demand forecasts per series (segment x sku by default) with backtested model choice."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from segchain.errors import DataError, UsageError, examples
from segchain.schema import require_columns

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

# freq -> (polars interval, season length, moving-average window, recent window for mean_demand)
FREQS: dict[str, tuple[str, int, int, int]] = {
    "D": ("1d", 7, 28, 28),
    "W": ("1w", 52, 8, 13),
    "M": ("1mo", 12, 3, 6),
}
# Further moving-average windows tried beside the default one: a month / quarter on weekly data.
EXTRA_WINDOWS = {"D": (7, 91), "W": (4, 13), "M": (6, 12)}
ADI_CUTOFF = 1.32  # Syntetos & Boylan (2005)
CV2_CUTOFF = 0.49
CV_WINDOWS = 4
CV_CLASSES = ("smooth", "erratic")  # routed to AutoETS / AutoTheta; the rest to Croston & co.
BASELINES = ("WindowAverage", "HistoricAverage", "Naive", "SeasonalNaive")
SMOOTH_MODELS = ("AutoETS", "AutoTheta")
INTERMITTENT_MODELS = ("CrostonSBA", "ADIDA", "IMAPA", "TSB")
# The mean of a route's specialist models (forecast combination, e.g. Makridakis et al., M4 2020).
ENSEMBLE = "Ensemble"
MODEL_NAMES = BASELINES + SMOOTH_MODELS + INTERMITTENT_MODELS + (ENSEMBLE,)
# Models without a native interval get split-conformal ones from their backtest errors.
NATIVE_INTERVALS = frozenset({"AutoETS", "AutoTheta", "Naive", "SeasonalNaive", "HistoricAverage"})
# Models whose one-step-ahead fitted values come from statsforecast (the baselines' are exact
# rolling one-step forecasts computed here).
FITTED_MODELS = frozenset(SMOOTH_MODELS + INTERMITTENT_MODELS)
ENGINES = ("local", "dask", "ray", "spark")
FALLBACK_MODEL = "HistoricAverage"
KEY_SEP = "/"
KEY_CANDIDATES = ("segment", "sku", "site", "country", "customer_id")
# The same periods in pandas' spelling, for the distributed engines (they run on pandas).
PANDAS_FREQS = {"D": "D", "W": "W-MON", "M": "MS"}


@dataclass
class ForecastResult:
    """What ``forecast`` returns: the forecast table, backtest metrics and accounting."""

    forecast: pl.DataFrame
    backtest: pl.DataFrame
    summary: pl.DataFrame
    comparison: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    netted: int = 0
    excluded: dict[str, int] = field(default_factory=dict)


Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------------------------------------
# Options


def parse_levels(level: Sequence[float] | str) -> list[int | float]:
    """Parse ``80,95`` (or a sequence) into sorted interval levels strictly between 0 and 100."""
    items = [s.strip() for s in level.split(",") if s.strip()] if isinstance(level, str) else level
    out: list[int | float] = []
    bad = []
    for item in items:
        try:
            v = float(item)
        except (TypeError, ValueError):
            bad.append(str(item))
            continue
        if not 0 < v < 100 or math.isnan(v):
            bad.append(str(item))
            continue
        out.append(int(v) if v.is_integer() else v)
    if bad or not out:
        raise UsageError(
            f"--level: {', '.join(bad) if bad else 'no level given'} is not a percentage "
            "strictly between 0 and 100",
            hint="give one or more levels separated by commas, e.g. --level 80,95",
        )
    return sorted(set(out))


def parse_models(models: str | Sequence[str]) -> list[str] | None:
    """``auto`` -> None (route by demand class); else the list of known model names."""
    items = (
        [s.strip() for s in models.split(",") if s.strip()]
        if isinstance(models, str)
        else [str(m).strip() for m in models]
    )
    if items == ["auto"] or not items:
        return None
    by_fold = {m.lower(): m for m in MODEL_NAMES}

    def known(name: str) -> str | None:
        if name.lower() in by_fold:
            return by_fold[name.lower()]
        window = _window_of(name)
        return f"WindowAverage{window}" if window else None

    unknown = [m for m in items if known(m) is None]
    if unknown:
        raise UsageError(
            f"--models: unknown model{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
            hint=f"use auto or a comma-separated list of {', '.join(MODEL_NAMES)} "
            "(WindowAverage4: a 4-period moving average)",
        )
    return list(dict.fromkeys(k for m in items if (k := known(m)) is not None))


def _window_of(name: str) -> int | None:
    """4 for ``WindowAverage4`` (any case); None for any other name."""
    prefix = "windowaverage"
    rest = name[len(prefix) :]
    if name.lower().startswith(prefix) and rest.isdigit() and int(rest) >= 1:
        return int(rest)
    return None


def _check_options(freq: str, horizon: int, by: Sequence[str], engine: str) -> None:
    problems = []
    if freq not in FREQS:
        problems.append(f"--freq {freq!r} is not one of {', '.join(FREQS)}")
    if not isinstance(horizon, int) or horizon < 1:
        problems.append(f"--horizon must be a whole number of periods >= 1, got {horizon}")
    if not by:
        problems.append("--by needs at least one column, e.g. --by segment,sku")
    if len(set(by)) != len(by):
        problems.append(f"--by repeats a column: {','.join(by)}")
    if engine not in ENGINES:
        problems.append(f"--engine {engine!r} is not one of {', '.join(ENGINES)}")
    if problems:
        raise UsageError("; ".join(problems))


# ---------------------------------------------------------------------------------------------
# Series


@dataclass
class Series:
    """Per-period demand per series plus its key columns and what was left out on the way."""

    y: pl.DataFrame  # unique_id, ds, y
    keys: pl.DataFrame  # unique_id + by columns
    netted: int
    excluded: dict[str, int]
    warnings: list[str]


def build_series(
    orders: pl.DataFrame | pl.LazyFrame,
    segments: pl.DataFrame | pl.LazyFrame,
    *,
    freq: str = "W",
    by: Sequence[str] = ("segment", "sku"),
) -> Series:
    """Join orders to segments and aggregate net quantity per series and period.

    Weeks start on Monday. Each series runs from its first period with demand to the last
    period of the data, with zeros in between. Negative net demand in a period (more returns
    than sales) counts as zero; the number of such series-periods is ``netted``.

    Raises:
        MissingColumnsError: a required column is absent.
        DataError: no customer id in common, duplicate customers in segments, too little history.
    """
    orders = orders.collect() if isinstance(orders, pl.LazyFrame) else orders
    segments = segments.collect() if isinstance(segments, pl.LazyFrame) else segments
    by = list(by)
    require_columns(orders.columns, ["order_date", "customer_id", "quantity"], source="orders")
    require_columns(segments.columns, ["customer_id", "segment"], source="segments")
    available = set(orders.columns) | {"segment"}
    missing_by = [c for c in by if c not in available]
    if missing_by:
        raise UsageError(
            f"--by: column{'s' if len(missing_by) > 1 else ''} {', '.join(missing_by)} "
            f"not in the orders or segments; available: "
            f"{', '.join(sorted(c for c in available if c in KEY_CANDIDATES))}",
        )
    warnings: list[str] = []
    excluded: dict[str, int] = {}

    seg = segments.select(
        pl.col("customer_id").cast(pl.Utf8), pl.col("segment").cast(pl.Utf8)
    ).filter(pl.col("customer_id").is_not_null())
    dup = seg.group_by("customer_id").len().filter(pl.col("len") > 1)
    if dup.height:
        raise DataError(
            f"segments: {dup.height} customer_id value(s) appear more than once, e.g. "
            f"{examples(dup.get_column('customer_id').sort())}",
            hint="give one row per customer (the output of segchain segment)",
        )
    o_cols = ["order_date", "customer_id", "quantity"] + [
        c for c in by if c != "segment" and c not in ("customer_id",)
    ]
    if "flag" in orders.columns:
        o_cols.append("flag")
    o = orders.select(list(dict.fromkeys(o_cols))).with_columns(
        pl.col("customer_id").cast(pl.Utf8), pl.col("quantity").cast(pl.Float64)
    )
    if "flag" in o.columns:
        non_product = o.filter(pl.col("flag") == "non_product").height
        if non_product:
            excluded["non_product"] = non_product
            warnings.append(f"{non_product} non-product order line(s) (postage, fees) left out")
        o = o.filter((pl.col("flag") != "non_product") | pl.col("flag").is_null()).drop("flag")

    common = o.select("customer_id").unique().join(seg, on="customer_id", how="inner")
    if common.height == 0:
        o_ids = o.get_column("customer_id").drop_nulls().unique().sort()
        s_ids = seg.get_column("customer_id").unique().sort()
        raise DataError(
            "segments and orders have no customer_id in common: orders have "
            f"{examples(o_ids)}; segments have {examples(s_ids)}",
            hint="check that both come from the same export and that the ids are mapped the "
            "same way (--map customer_id=...)",
        )
    # Row order fixed (and so the order of float sums): reruns must write the same bytes.
    joined = o.join(seg, on="customer_id", how="left", maintain_order="left")
    no_segment = joined.filter(pl.col("segment").is_null())
    if no_segment.height:
        ids = no_segment.get_column("customer_id").drop_nulls().unique().sort()
        excluded["no_segment"] = no_segment.height
        warnings.append(
            f"{no_segment.height} order line(s) of {ids.len()} customer(s) without a segment "
            f"left out, e.g. {examples(ids)}"
        )
    joined = joined.filter(pl.col("segment").is_not_null())
    blank = joined.filter(pl.any_horizontal([pl.col(c).is_null() for c in by]))
    if blank.height:
        excluded["blank_key"] = blank.height
        warnings.append(f"{blank.height} order line(s) with a blank {'/'.join(by)} left out")
        joined = joined.filter(pl.all_horizontal([pl.col(c).is_not_null() for c in by]))
    if joined.height == 0:
        raise DataError("orders: no order line left to forecast after joining to segments")

    interval = FREQS[freq][0]
    joined = joined.with_columns(
        pl.col("order_date").cast(pl.Date).dt.truncate(interval).alias("ds"),
        *[pl.col(c).cast(pl.Utf8) for c in by],
    )
    agg = joined.group_by([*by, "ds"], maintain_order=True).agg(pl.col("quantity").sum().alias("y"))
    netted = agg.filter(pl.col("y") < 0).height
    if netted:
        warnings.append(
            f"{netted} series-period(s) had more returns than sales; counted as zero demand"
        )
    agg = agg.with_columns(pl.col("y").clip(lower_bound=0.0))
    last = cast(dt.date, joined.get_column("ds").max())
    first_all = cast(dt.date, joined.get_column("ds").min())
    n_periods = pl.date_range(first_all, last, interval, eager=True).len()
    if n_periods < 2:
        raise DataError(
            f"orders: all demand falls in one period ({first_all}) at --freq {freq}; "
            "forecasting needs at least 2 periods of history",
            hint="use a finer --freq (e.g. --freq D) or export a longer history",
        )
    keys = (
        agg.group_by(by)
        .agg(pl.col("ds").filter(pl.col("y") > 0).min().alias("start"), pl.col("ds").min())
        .with_columns(
            pl.concat_str([pl.col(c) for c in by], separator=KEY_SEP).alias("unique_id"),
            # A series with returns only starts at its first period, and stays all zero.
            pl.coalesce("start", "ds").alias("start"),
        )
        .drop("ds")
        .sort("unique_id")
    )
    grid = keys.select(
        "unique_id",
        *by,
        pl.date_ranges("start", pl.lit(last), interval=interval).alias("ds"),
    ).explode("ds")
    y = (
        grid.join(agg, on=[*by, "ds"], how="left")
        .select("unique_id", "ds", pl.col("y").fill_null(0.0))
        .sort("unique_id", "ds")
    )
    return Series(
        y=y,
        keys=keys.select("unique_id", *by),
        netted=netted,
        excluded=excluded,
        warnings=warnings,
    )


def classify(y: pl.DataFrame, *, recent: int = 13) -> pl.DataFrame:
    """Syntetos-Boylan class per series, plus history length and recent mean demand.

    ADI = periods / periods with demand; CV2 = squared coefficient of variation of the non-zero
    demand sizes (0 with fewer than two). Smooth: ADI < 1.32 and CV2 < 0.49; erratic: ADI < 1.32;
    intermittent: CV2 < 0.49; lumpy otherwise. An all-zero series is intermittent.
    """
    nz = pl.col("y").filter(pl.col("y") > 0)
    stats = y.group_by("unique_id").agg(
        pl.len().cast(pl.Int64).alias("n"),
        (pl.col("y") > 0).sum().cast(pl.Int64).alias("n_nonzero"),
        nz.mean().alias("nz_mean"),
        nz.std(ddof=0).alias("nz_sd"),
        pl.col("y").tail(recent).mean().alias("mean_demand"),
        pl.col("y").mean().alias("mean_all"),
        pl.col("y").std(ddof=1).alias("sd_all"),
    )
    adi = pl.col("n") / pl.col("n_nonzero")
    cv2 = pl.when(pl.col("n_nonzero") >= 2).then((pl.col("nz_sd") / pl.col("nz_mean")) ** 2)
    stats = stats.with_columns(
        pl.when(pl.col("n_nonzero") > 0).then(adi).otherwise(float("inf")).alias("adi"),
        cv2.fill_null(0.0).alias("cv2"),
    ).with_columns(
        pl.when((pl.col("adi") < ADI_CUTOFF) & (pl.col("cv2") < CV2_CUTOFF))
        .then(pl.lit("smooth"))
        .when(pl.col("adi") < ADI_CUTOFF)
        .then(pl.lit("erratic"))
        .when(pl.col("cv2") < CV2_CUTOFF)
        .then(pl.lit("intermittent"))
        .otherwise(pl.lit("lumpy"))
        .alias("demand_class"),
        pl.col("sd_all").fill_null(0.0),
    )
    return stats.drop("nz_mean", "nz_sd").sort("unique_id")


# ---------------------------------------------------------------------------------------------
# Models and engines


def make_model(name: str, *, season_length: int, seasonal: bool, window: int):
    """One statsforecast model by name; ``seasonal`` turns on the seasonal variant."""
    from statsforecast import models as m

    sl = season_length if seasonal else 1
    kw: dict[str, Any] = {}
    if name == "AutoETS":
        # ETS with a season over 24 periods is slow and rarely estimable (Hyndman & Athanasopoulos,
        # FPP3 12.1); weekly seasonality goes to AutoTheta and SeasonalNaive instead.
        return m.AutoETS(season_length=sl if sl <= 24 else 1, **kw)
    if name == "AutoTheta":
        return m.AutoTheta(season_length=sl, **kw)
    if name == "SeasonalNaive":
        return m.SeasonalNaive(season_length=season_length, **kw)
    if name == "WindowAverage":
        return m.WindowAverage(window_size=window, **kw)
    if size := _window_of(name):
        return m.WindowAverage(window_size=size, alias=name)
    if name == "TSB":
        return m.TSB(alpha_d=0.1, alpha_p=0.1, **kw)
    return getattr(m, name)(**kw)


class Engine:
    """Runs StatsForecast calls locally or on Dask / Ray / Spark through fugue."""

    def __init__(self, name: str, *, address: str | None, n_jobs: int, freq: str) -> None:
        self.name = name
        self.address = address
        self.n_jobs = n_jobs
        self.freq = freq
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        # pyspark is an optional, untyped dependency.
        self._spark: Any = None

    def __enter__(self) -> Engine:
        if self.name == "dask":
            try:
                import dask.dataframe  # noqa: F401
                from distributed import Client, LocalCluster
            except ImportError as e:
                raise UsageError(
                    f"--engine dask needs Dask ({e.name} is not installed)",
                    hint="pip install 'segchain[dask]'",
                ) from None
            if self.address:
                try:
                    self._client = Client(self.address, timeout="10s", set_as_default=True)
                except OSError as e:
                    raise UsageError(
                        f"--address {self.address}: cannot reach a Dask scheduler ({e})",
                        hint="start one with `dask scheduler` or leave --address out for a "
                        "local cluster",
                    ) from None
            else:
                self._cluster = LocalCluster(processes=False, n_workers=1, dashboard_address=None)
                self._client = Client(self._cluster, set_as_default=True)
        elif self.name == "ray":
            try:
                import fugue_ray  # noqa: F401
                import ray
            except ImportError:
                raise UsageError(
                    "--engine ray needs Ray and fugue[ray], which are not installed",
                    hint="pip install 'segchain[ray]'",
                ) from None
            if not ray.is_initialized():
                ray.init(address=self.address, ignore_reinit_error=True)
        elif self.name == "spark":
            try:
                import fugue_spark  # noqa: F401
                from pyspark.sql import SparkSession
            except ImportError:
                raise UsageError(
                    "--engine spark needs PySpark and fugue[spark], which are not installed",
                    hint="pip install 'segchain[spark]'",
                ) from None
            builder = SparkSession.builder
            if self.address:
                builder = builder.master(self.address)
            self._spark = builder.getOrCreate()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def _sf(self, models: list, n_series: int):
        from statsforecast import StatsForecast
        from statsforecast.models import HistoricAverage

        # A process pool costs more than it saves on a handful of series.
        n_jobs = 1 if n_series < 200 else self.n_jobs
        return StatsForecast(
            models=models,
            freq=FREQS[self.freq][0] if self.name == "local" else PANDAS_FREQS[self.freq],
            n_jobs=n_jobs,
            fallback_model=HistoricAverage(),
        )

    def _to_engine(self, df: pl.DataFrame):
        if self.name == "local":
            return df
        pdf = df.with_columns(pl.col("ds").cast(pl.Datetime("ns"))).to_pandas()
        if self.name == "dask":
            import dask.dataframe as dd

            parts = max(1, min(64, df.get_column("unique_id").n_unique() // 50))
            return dd.from_pandas(pdf, npartitions=parts)
        if self.name == "ray":
            import ray.data

            return ray.data.from_pandas(pdf)
        return self._spark.createDataFrame(pdf)

    def _from_engine(self, out: Any) -> pl.DataFrame:
        if isinstance(out, pl.DataFrame):
            return out
        if self.name == "dask":
            out = out.compute()
        elif self.name == "ray":
            out = out.to_pandas()
        elif self.name == "spark":
            out = out.toPandas()
        frame = pl.from_pandas(out.reset_index() if "unique_id" not in out.columns else out)
        casts = [pl.col(c).cast(pl.Date) for c in ("ds", "cutoff") if c in frame.columns]
        floats = [
            pl.col(c).cast(pl.Float64)
            for c, t in frame.schema.items()
            if c not in ("unique_id", "ds", "cutoff") and t.is_numeric()
        ]
        return frame.with_columns(*casts, *floats)

    def cross_validation(self, models: list, df: pl.DataFrame, *, h: int, n_windows: int):
        sf = self._sf(models, df.get_column("unique_id").n_unique())
        out = sf.cross_validation(
            h=h, df=self._to_engine(df), n_windows=n_windows, step_size=h, refit=True
        )
        return self._from_engine(out)

    def forecast(
        self, models: list, df: pl.DataFrame, *, h: int, level: list | None, fitted: bool = False
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        """(forecast, in-sample one-step-ahead fitted values when ``fitted``, else None)."""
        sf = self._sf(models, df.get_column("unique_id").n_unique())
        out = self._from_engine(
            sf.forecast(h=h, df=self._to_engine(df), level=level, fitted=fitted)
        )
        return out, self._from_engine(sf.forecast_fitted_values()) if fitted else None


# ---------------------------------------------------------------------------------------------
# Selection


@dataclass
class _Plan:
    freq: str
    horizon: int
    season: int
    window: int
    models: list[str] | None


def _buckets(stats: pl.DataFrame, plan: _Plan) -> pl.DataFrame:
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


def _members(smooth: bool) -> list[str]:
    """The models an ``Ensemble`` averages on a route."""
    return list(SMOOTH_MODELS if smooth else INTERMITTENT_MODELS)


def _candidates(plan: _Plan, *, smooth: bool, has_season: bool) -> list[str]:
    """Models to fit in cross-validation (an Ensemble is derived from its members' forecasts)."""
    if plan.models is not None:
        chosen = list(plan.models)
    else:
        extra = [f"WindowAverage{w}" for w in EXTRA_WINDOWS[plan.freq]]
        chosen = list(SMOOTH_MODELS if smooth else INTERMITTENT_MODELS) + list(BASELINES) + extra
        chosen.append(ENSEMBLE)
    if ENSEMBLE in chosen:
        chosen.remove(ENSEMBLE)
        chosen += [m for m in _members(smooth) if m not in chosen]
    # The baseline of the backtest report is always evaluated.
    chosen += [m for m in ("Naive", "SeasonalNaive") if m not in chosen]
    if not has_season:
        chosen = [m for m in chosen if m != "SeasonalNaive"]
    return chosen


def _with_ensemble(long: pl.DataFrame, members: list[str]) -> pl.DataFrame:
    """Add the Ensemble's rows: the mean of its members' (non-negative) forecasts."""
    ens = (
        long.filter(pl.col("model").is_in(members))
        .group_by("unique_id", "ds", "cutoff", maintain_order=True)
        .agg(
            pl.col("y").first(),
            pl.col("yhat").fill_nan(None).clip(lower_bound=0.0).mean(),
        )
        .with_columns(pl.lit(ENSEMBLE).alias("model"))
        .select(long.columns)
    )
    return pl.concat([long, ens], how="vertical_relaxed")


def _wants_ensemble(plan: _Plan) -> bool:
    return plan.models is None or ENSEMBLE in plan.models


def _cross_validate(
    y: pl.DataFrame, buckets: pl.DataFrame, plan: _Plan, engine: Engine, tick: Callable[[], None]
) -> pl.DataFrame:
    """Long CV frame: unique_id, ds, cutoff, y, model, yhat (clipped at 0; NaN -> null)."""
    frames = []
    groups = (
        buckets.filter(pl.col("windows") > 0)
        .group_by("windows", "smooth_route", "has_season", "two_seasons")
        .agg("unique_id")
        .sort("windows", "smooth_route", "has_season", "two_seasons")
    )
    for row in groups.iter_rows(named=True):
        names = _candidates(plan, smooth=row["smooth_route"], has_season=row["has_season"])
        models = [
            make_model(
                n, season_length=plan.season, seasonal=row["two_seasons"], window=plan.window
            )
            for n in names
        ]
        part = y.filter(pl.col("unique_id").is_in(row["unique_id"]))
        cv = engine.cross_validation(models, part, h=plan.horizon, n_windows=row["windows"])
        long = cv.unpivot(
            index=["unique_id", "ds", "cutoff", "y"], variable_name="model", value_name="yhat"
        ).with_columns(pl.col("yhat").cast(pl.Float64), pl.col("y").cast(pl.Float64))
        if _wants_ensemble(plan):
            long = _with_ensemble(long, _members(row["smooth_route"]))
        frames.append(long)
        tick()
    if not frames:
        return pl.DataFrame(
            schema={
                "unique_id": pl.Utf8,
                "ds": pl.Date,
                "cutoff": pl.Date,
                "y": pl.Float64,
                "model": pl.Utf8,
                "yhat": pl.Float64,
            }
        )
    out = pl.concat(frames, how="vertical_relaxed")
    return out.with_columns(
        pl.col("yhat").fill_nan(None).clip(lower_bound=0.0).cast(pl.Float64),
        pl.col("y").cast(pl.Float64),
    )


def _model_rank(name: str) -> int:
    """Tie-break order: simpler models first; an Ensemble last."""
    rank = {m: i for i, m in enumerate(MODEL_NAMES)}
    if name in rank:
        return rank[name]
    return rank["WindowAverage"] if _window_of(name) else 99


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


def _choose(
    cv: pl.DataFrame, plan: _Plan, groups: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pick the model with the least selection error over all CV windows, pooled per group.

    ``groups`` maps each unique_id to a group (demand class and history bucket): one model is
    chosen for the whole group by ``selection_error`` summed over the group's series and
    windows. Pooling matters on real retail data: a choice per series on a few short windows
    mostly fits noise and loses to a moving average. The baselines are candidates too, so a
    group keeps its best baseline unless a model beats it in CV. Ties go to the simpler model.
    Returns (choice per series, honest backtest rows), where the backtest rows come from
    leave-one-window-out selection: the model scored on a window is the one chosen on the
    other windows, so the reported accuracy is not flattered.
    """
    allowed = plan.models
    pool = cv if allowed is None else cv.filter(pl.col("model").is_in(allowed))
    models = pool.get_column("model").unique().to_list()
    rank = {m: _model_rank(m) for m in models}
    per_window = (
        pool.group_by("unique_id", "model", "cutoff")
        .agg(
            # Whole thousandths of a unit: sums of integer-valued floats are exact in any order,
            # so multithreaded group sums cannot flip a near-tie between runs.
            (selection_error(pl.col("yhat") - pl.col("y")) * 1000).round().alias("error"),
            pl.col("yhat").is_null().any().alias("failed"),
        )
        .join(groups, on="unique_id", how="left")
    )
    per_window = (
        per_window.with_columns(
            pl.when(pl.col("failed")).then(float("inf")).otherwise(pl.col("error")).alias("score")
        )
        .group_by("group", "model", "cutoff")
        .agg(pl.col("score").sum())
        .with_columns(pl.col("model").replace_strict(rank, default=99).alias("rank"))
    )
    totals = per_window.group_by("group", "model", "rank").agg(
        pl.col("score").sum().alias("total"), pl.len().alias("k")
    )
    group_choice = (
        totals.sort("group", "total", "rank", "model")
        .group_by("group", maintain_order=True)
        .first()
        .select("group", "model", (pl.col("total") < float("inf")).alias("ok"))
    )
    choice = groups.join(group_choice, on="group").select("unique_id", "model", "ok")
    loo = (
        per_window.join(totals, on=["group", "model", "rank"], suffix="_total")
        .with_columns(
            pl.when(pl.col("k") >= 2)
            .then(pl.col("total") - pl.col("score"))
            .otherwise(pl.col("total"))
            # inf - inf is NaN: a model that failed anywhere is never picked.
            .fill_nan(float("inf"))
            .alias("loo")
        )
        .sort("group", "cutoff", "loo", "rank", "model")
        .group_by("group", "cutoff", maintain_order=True)
        .first()
        .select("group", "cutoff", "model")
    )
    rows = cv.join(groups, on="unique_id").join(loo, on=["group", "cutoff", "model"]).drop("group")
    return choice, rows


def _metrics(rows: pl.DataFrame, scale: pl.DataFrame, prefix: str = "") -> pl.DataFrame:
    """MASE, RMSSE, WAPE, bias per series from backtest rows (non-seasonal naive scaling)."""
    e = pl.col("yhat").fill_null(0.0) - pl.col("y")
    m = rows.group_by("unique_id").agg(
        e.abs().mean().alias("mae"),
        (e**2).mean().alias("mse"),
        e.abs().sum().alias("sae"),
        e.sum().alias("se"),
        pl.col("y").sum().alias("sy"),
        pl.len().alias("periods"),
    )
    m = m.join(scale, on="unique_id", how="left")
    ratio = _safe_ratio
    return m.select(
        "unique_id",
        ratio(pl.col("mae"), pl.col("scale1")).alias(f"{prefix}mase"),
        ratio(pl.col("mse").sqrt(), pl.col("scale2").sqrt()).alias(f"{prefix}rmsse"),
        ratio(pl.col("sae"), pl.col("sy")).alias(f"{prefix}wape"),
        (pl.col("se") / pl.col("periods")).alias(f"{prefix}bias"),
        *([] if prefix else [pl.col("periods").alias("backtest_periods")]),
    )


def _safe_ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """num / den; 0 when both are 0, null (not NaN or inf) when only den is 0."""
    return (
        pl.when(den > 0)
        .then(num / den)
        .when(num == 0)
        .then(pl.lit(0.0))
        .otherwise(pl.lit(None, dtype=pl.Float64))
    )


def _scales(y: pl.DataFrame, cv: pl.DataFrame) -> pl.DataFrame:
    """In-sample naive-difference scale per series, on the history before its first cutoff."""
    first_cut = cv.group_by("unique_id").agg(pl.col("cutoff").min())
    d = (
        y.join(first_cut, on="unique_id")
        .filter(pl.col("ds") <= pl.col("cutoff"))
        .with_columns(pl.col("y").diff().over("unique_id").alias("d"))
        .drop_nulls("d")
    )
    return d.group_by("unique_id").agg(
        pl.col("d").abs().mean().alias("scale1"), (pl.col("d") ** 2).mean().alias("scale2")
    )


@dataclass
class _Selection:
    stats: pl.DataFrame  # classify() + buckets + model + cv_rmse + fallback_sd
    cv: pl.DataFrame
    rows: pl.DataFrame  # honest backtest rows of the chosen procedure


def _select(
    y: pl.DataFrame,
    plan: _Plan,
    engine: Engine,
    tick: Callable[[], None],
) -> _Selection:
    stats = _buckets(classify(y, recent=FREQS[plan.freq][3]), plan)
    cv = _cross_validate(y, stats, plan, engine, tick)
    parts = ["demand_class", "windows", "has_season", "two_seasons"]
    groups = stats.select(
        "unique_id",
        pl.concat_str([pl.col(c).cast(pl.Utf8) for c in parts], separator="|").alias("group"),
    )
    choice, rows = _choose(cv, plan, groups)
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
    return _Selection(stats=stats, cv=cv, rows=rows)


def _baseline_one_step(y: pl.DataFrame, model: str, plan: _Plan) -> pl.Expr:
    """The exact rolling one-step-ahead forecast of a baseline, from the periods before each."""
    v = pl.col("y")
    if model == "Naive":
        return v.shift(1)
    if model == "SeasonalNaive":
        return v.shift(plan.season)
    if model == "HistoricAverage":
        return v.cum_sum().shift(1) / pl.int_range(pl.len()).cast(pl.Float64)
    # Only the baselines come here, so any other model is a WindowAverageN.
    window = plan.window if model == "WindowAverage" else cast(int, _window_of(model))
    return v.rolling_mean(window_size=window).shift(1)


def _one_step_sd(
    y: pl.DataFrame, stats: pl.DataFrame, cv: pl.DataFrame, fitted: pl.DataFrame, plan: _Plan
) -> pl.DataFrame:
    """error_sd per series: the standard deviation of its one-step-ahead errors.

    Over the backtest span (the periods after the series' first CV cutoff), each period is
    forecast from the periods before it by the chosen model: exactly for the baselines (naive,
    seasonal naive, moving and historic averages), and refit-free for fitted models (their
    one-step-ahead fitted values, parameters estimated once; ``fitted`` holds them). Fewer than
    two errors, or no backtest: the standard deviation of the history instead.
    """
    first_cut = cv.group_by("unique_id").agg(pl.col("cutoff").min().alias("first_cut"))
    chosen = stats.filter(pl.col("backtested")).select("unique_id", "model")
    frames = [fitted.select("unique_id", "ds", pl.col("yhat1").cast(pl.Float64))]
    for model in chosen.get_column("model").unique().sort().to_list():
        if model in FITTED_MODELS or model == ENSEMBLE:
            continue
        ids = chosen.filter(pl.col("model") == model).get_column("unique_id")
        part = y.filter(pl.col("unique_id").is_in(ids)).sort("unique_id", "ds")
        expr = _baseline_one_step(part, model, plan).over("unique_id")
        frames.append(part.select("unique_id", "ds", expr.alias("yhat1")))
    one = pl.concat(frames, how="vertical_relaxed")
    errors = (
        y.join(first_cut, on="unique_id")
        .filter(pl.col("ds") > pl.col("first_cut"))
        .join(one, on=["unique_id", "ds"], how="inner")
        .filter(pl.col("yhat1").is_not_null() & pl.col("yhat1").is_not_nan())
        .with_columns((pl.col("yhat1").clip(lower_bound=0.0) - pl.col("y")).alias("e"))
    )
    sd = errors.group_by("unique_id").agg(
        pl.col("e").std(ddof=1).alias("sd1"), pl.len().alias("n1")
    )
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


# ---------------------------------------------------------------------------------------------
# Final forecast


def _conformal_halfwidths(cv: pl.DataFrame, stats: pl.DataFrame, levels: list) -> pl.DataFrame:
    """Split-conformal half-widths per series from its chosen model's rolling-origin errors.

    The absolute errors of every backtest window and step are the calibration set; the
    half-width at level L is their ceil((n+1) L)-th smallest value. With too few errors for
    that rank, the normal approximation z * cv_rmse (RMS of those errors) is used instead.
    """
    from statistics import NormalDist

    errs = cv.join(stats.select("unique_id", "model", "cv_rmse"), on=["unique_id", "model"])
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
    return errs.group_by("unique_id").agg(aggs)


def _final(
    y: pl.DataFrame,
    sel: _Selection,
    plan: _Plan,
    levels: list,
    engine: Engine,
    tick: Callable[[], None],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Refit each series' chosen model on its whole history; intervals at every level.

    Native intervals where the model has them, split-conformal ones (from the backtest errors)
    where it does not (an Ensemble included), and normal ones of width cv_rmse for series too
    short to backtest. Returns (forecast, error_sd per series).
    """
    stats = sel.stats
    h = plan.horizon
    lv_cols = [f"{s}-{lv}" for lv in levels for s in ("lo", "hi")]
    frames = []
    fitted_frames = [
        pl.DataFrame(schema={"unique_id": pl.Utf8, "ds": pl.Date, "yhat1": pl.Float64})
    ]
    fit = stats.filter(pl.col("backtested"))
    groups = (
        fit.group_by("model", "two_seasons", "smooth_route")
        .agg("unique_id")
        .sort("model", "two_seasons", "smooth_route")
    )
    conformal = _conformal_halfwidths(sel.cv, fit, levels)
    for row in groups.iter_rows(named=True):
        name = row["model"]
        names = _members(row["smooth_route"]) if name == ENSEMBLE else [name]
        models = [
            make_model(
                n, season_length=plan.season, seasonal=row["two_seasons"], window=plan.window
            )
            for n in names
        ]
        part = y.filter(pl.col("unique_id").is_in(row["unique_id"]))
        native = name in NATIVE_INTERVALS
        want_fitted = all(n in FITTED_MODELS for n in names)
        out, fitted = engine.forecast(
            models, part, h=h, level=levels if native else None, fitted=want_fitted
        )
        center = pl.mean_horizontal(
            [pl.col(m.alias).cast(pl.Float64).fill_nan(None).clip(lower_bound=0.0) for m in models]
        )
        if fitted is not None:
            fitted_frames.append(
                fitted.select("unique_id", pl.col("ds").cast(pl.Date), center.alias("yhat1"))
            )
        if native:
            bounds = [
                pl.col(f"{name}-{c}").cast(pl.Float64).alias(f"forecast-{c}") for c in lv_cols
            ]
        else:
            out = out.join(conformal, on="unique_id", how="left")
            bounds = []
            for lv in levels:
                bounds += [
                    (center - pl.col(f"q-{lv}")).alias(f"forecast-lo-{lv}"),
                    (center + pl.col(f"q-{lv}")).alias(f"forecast-hi-{lv}"),
                ]
        frames.append(
            out.select(
                "unique_id",
                pl.col("ds").cast(pl.Date),
                center.alias("forecast"),
                *bounds,
            )
        )
        tick()
    short = stats.filter(~pl.col("backtested"))
    if short.height:
        frames.append(_manual_forecast(y, short, plan, levels))
    fc = pl.concat(frames, how="vertical_relaxed")
    fitted_all = pl.concat(fitted_frames, how="vertical_relaxed")
    error_sd = _one_step_sd(y, stats, sel.cv, fitted_all, plan)
    return _repair(fc, y, stats, plan, levels), error_sd


def _normal_bounds(center: pl.Expr, sd: pl.Expr, levels: list) -> list[pl.Expr]:
    from statistics import NormalDist

    out = []
    for lv in levels:
        z = NormalDist().inv_cdf(0.5 + lv / 200)
        out += [
            (center - z * sd).alias(f"forecast-lo-{lv}"),
            (center + z * sd).alias(f"forecast-hi-{lv}"),
        ]
    return out


def _manual_forecast(
    y: pl.DataFrame, stats: pl.DataFrame, plan: _Plan, levels: list
) -> pl.DataFrame:
    """Historic average with normal intervals of width cv_rmse: short series, no conformal."""
    last = y.group_by("unique_id").agg(pl.col("ds").max().alias("last"))
    interval = FREQS[plan.freq][0]
    base = stats.select("unique_id", "mean_all", "cv_rmse").join(last, on="unique_id")
    steps = base.with_columns(
        pl.date_ranges(
            pl.col("last").dt.offset_by(interval),
            pl.col("last").dt.offset_by(f"{plan.horizon}{interval[1:]}"),
            interval=interval,
        ).alias("ds")
    ).explode("ds")
    return steps.select(
        "unique_id",
        "ds",
        pl.col("mean_all").alias("forecast"),
        *_normal_bounds(pl.col("mean_all"), pl.col("cv_rmse"), levels),
    )


def _repair(
    fc: pl.DataFrame, y: pl.DataFrame, stats: pl.DataFrame, plan: _Plan, levels: list
) -> pl.DataFrame:
    """No NaN, nothing negative, lo <= forecast <= hi; a failed row gets the manual fallback."""
    value_cols = ["forecast"] + [f"forecast-{s}-{lv}" for lv in levels for s in ("lo", "hi")]
    fc = fc.with_columns([pl.col(c).fill_nan(None) for c in value_cols])
    bad = fc.filter(pl.any_horizontal([pl.col(c).is_null() for c in value_cols]))
    if bad.height:
        ids = bad.get_column("unique_id").unique()
        fb = _manual_forecast(y, stats.filter(pl.col("unique_id").is_in(ids)), plan, levels)
        fc = pl.concat([fc.filter(~pl.col("unique_id").is_in(ids)), fb], how="vertical_relaxed")
    fc = fc.with_columns([pl.col(c).clip(lower_bound=0.0) for c in value_cols])
    fc = fc.with_columns(
        *[pl.min_horizontal(f"forecast-lo-{lv}", "forecast") for lv in levels],
        *[pl.max_horizontal(f"forecast-hi-{lv}", "forecast") for lv in levels],
    )
    return fc.sort("unique_id", "ds")


# ---------------------------------------------------------------------------------------------
# Backtest report and comparison


def _backtest(
    sel: _Selection, y: pl.DataFrame, keys: pl.DataFrame, by: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    stats = sel.stats
    scale = _scales(y, sel.cv)
    chosen = _metrics(sel.rows, scale)
    base_name = (
        sel.cv.group_by("unique_id")
        .agg(pl.col("model").is_in(["SeasonalNaive"]).any().alias("sn"))
        .select(
            "unique_id",
            pl.when(pl.col("sn"))
            .then(pl.lit("SeasonalNaive"))
            .otherwise(pl.lit("Naive"))
            .alias("baseline_model"),
        )
    )
    base_rows = sel.cv.join(
        base_name.rename({"baseline_model": "model"}), on=["unique_id", "model"]
    )
    base = _metrics(base_rows, scale, prefix="baseline_")
    series = (
        stats.filter(pl.col("backtested"))
        .select("unique_id", "model", "demand_class", pl.col("windows").alias("backtest_windows"))
        .join(keys, on="unique_id", how="left")
        .join(chosen, on="unique_id", how="left")
        .join(base_name, on="unique_id", how="left")
        .join(base, on="unique_id", how="left")
        .with_columns(pl.lit("series").alias("scope"))
        .sort("unique_id")
    )
    # Summary rows: pooled WAPE and bias, mean MASE / RMSSE.
    pooled = sel.rows.join(keys, on="unique_id").join(
        base_rows.select("unique_id", "ds", "cutoff", pl.col("yhat").alias("base_yhat")),
        on=["unique_id", "ds", "cutoff"],
        how="left",
    )

    def summarise(frame: pl.DataFrame, series_frame: pl.DataFrame, group: list[str]):
        e = pl.col("yhat").fill_null(0.0) - pl.col("y")
        be = pl.col("base_yhat").fill_null(0.0) - pl.col("y")
        agg = [
            e.abs().sum().alias("sae"),
            be.abs().sum().alias("bsae"),
            pl.col("y").sum().alias("sy"),
            e.mean().alias("bias"),
            be.mean().alias("baseline_bias"),
            pl.len().alias("backtest_periods"),
        ]
        means = [
            pl.col(c).mean().alias(c) for c in ("mase", "rmsse", "baseline_mase", "baseline_rmsse")
        ] + [pl.len().alias("series")]
        if group:
            a = frame.group_by(group).agg(agg)
            b = series_frame.group_by(group).agg(means)
            out = a.join(b, on=group, how="left")
        else:
            out = pl.concat([frame.select(agg), series_frame.select(means)], how="horizontal")
        return out.with_columns(
            _safe_ratio(pl.col("sae"), pl.col("sy")).alias("wape"),
            _safe_ratio(pl.col("bsae"), pl.col("sy")).alias("baseline_wape"),
        ).drop("sae", "bsae", "sy")

    parts = []
    if "segment" in by and pooled.height:
        seg = (
            summarise(pooled, series, ["segment"])
            .with_columns(
                pl.lit("segment").alias("scope"),
                (pl.lit("segment:") + pl.col("segment")).alias("unique_id"),
            )
            .sort("segment")
        )
        parts.append(seg)
    if pooled.height:
        overall = summarise(pooled, series, []).with_columns(
            pl.lit("overall").alias("scope"), pl.lit("overall").alias("unique_id")
        )
        parts.append(overall)
    summary = pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()
    metric_cols = [
        "mase",
        "rmsse",
        "wape",
        "bias",
        "baseline_model",
        "baseline_mase",
        "baseline_rmsse",
        "baseline_wape",
        "baseline_bias",
    ]
    order = ["unique_id", "scope", *by, "model", "demand_class", *metric_cols]
    order += ["backtest_windows", "backtest_periods", "series"]
    backtest = pl.concat([series, summary], how="diagonal_relaxed")
    backtest = backtest.select([c for c in order if c in backtest.columns])
    if summary.height:
        summary = summary.select(
            [
                c
                for c in [
                    "unique_id",
                    "scope",
                    "segment",
                    "series",
                    *metric_cols,
                    "backtest_periods",
                ]
                if c in summary.columns
            ]
        )
    return backtest, summary


def _comparison(
    seg_rows: pl.DataFrame,
    seg_keys: pl.DataFrame,
    top_rows: pl.DataFrame,
    top_keys: pl.DataFrame,
    top_by: list[str],
) -> pl.DataFrame:
    """Segment-level backtest forecasts summed to ``top_by`` versus forecasting it directly.

    Compared on the windows where every segment series of a total had a backtest (its summed
    actuals equal the total's), so both sides forecast the same demand.
    """
    # Joins return rows in no fixed order, and float sums depend on their order: sort first,
    # so that reruns write byte-identical backtests.
    summed = (
        seg_rows.join(seg_keys, on="unique_id")
        .sort([*top_by, "cutoff", "ds", "unique_id"])
        .group_by([*top_by, "cutoff", "ds"], maintain_order=True)
        .agg(
            pl.col("y").sum().alias("y_sum"), pl.col("yhat").fill_null(0.0).sum().alias("yhat_seg")
        )
    )
    direct = top_rows.join(top_keys, on="unique_id").select(
        *top_by, "cutoff", "ds", "y", pl.col("yhat").fill_null(0.0).alias("yhat_direct")
    )
    both = direct.join(summed, on=[*top_by, "cutoff", "ds"], how="inner")
    complete = (
        both.group_by([*top_by, "cutoff"])
        .agg(((pl.col("y_sum") - pl.col("y")).abs().sum() < 1e-9).alias("ok"))
        .filter("ok")
        .drop("ok")
    )
    both = both.join(complete, on=[*top_by, "cutoff"]).sort([*top_by, "cutoff", "ds"])
    label = " x ".join(top_by)
    out = []
    for approach, col in (
        (f"segment x {label}, summed", "yhat_seg"),
        (f"{label} direct", "yhat_direct"),
    ):
        e = pl.col(col) - pl.col("y")
        out.append(
            both.select(
                pl.lit(approach).alias("approach"),
                pl.struct(top_by).n_unique().alias("series"),
                pl.len().alias("periods"),
                _safe_ratio(e.abs().sum(), pl.col("y").sum()).alias("wape"),
                e.abs().mean().alias("mae"),
                e.mean().alias("bias"),
            )
        )
    return pl.concat(out).with_columns(
        pl.col("series").cast(pl.Int64), pl.col("periods").cast(pl.Int64)
    )


# ---------------------------------------------------------------------------------------------
# The stage


def forecast(
    orders: pl.DataFrame | pl.LazyFrame,
    segments: pl.DataFrame | pl.LazyFrame,
    *,
    freq: str = "W",
    horizon: int = 13,
    level: Sequence[float] | str = (80, 95),
    by: Sequence[str] | str = ("segment", "sku"),
    models: str | Sequence[str] = "auto",
    n_jobs: int = -1,
    engine: str = "local",
    address: str | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> ForecastResult:
    """Forecast demand per series (default segment x sku) with a backtested model per series.

    Args:
        orders: canonical clean order lines (negative quantity for returns).
        segments: one row per customer with ``customer_id, segment``.
        freq: ``D``, ``W`` (weeks start Monday) or ``M``.
        horizon: periods to forecast.
        level: interval levels in percent.
        by: series key columns (``segment``, and order columns such as ``sku``, ``site``).
        models: ``auto`` (route by demand class) or model names from ``MODEL_NAMES``, plus
            ``WindowAverage<N>`` for an N-period moving average.
        n_jobs: processes for the local engine (-1: all cores).
        engine: ``local``, ``dask``, ``ray`` or ``spark``.
        address: scheduler / cluster address for a distributed engine.
        seed: accepted for the common CLI contract; every model here is deterministic.
        progress: called as ``progress(step, done, total)`` between model runs.

    Returns:
        ForecastResult with the forecast (Nixtla long format), backtest, summary, comparison.

    Raises:
        UsageError: bad options. DataError: inputs that do not join or are too short.
    """
    del seed  # deterministic models; kept so options map one-to-one to the CLI
    by = [c.strip() for c in by.split(",") if c.strip()] if isinstance(by, str) else list(by)
    _check_options(freq, horizon, by, engine)
    levels = parse_levels(level)
    model_list = parse_models(models)
    _, season, window, _ = FREQS[freq]
    plan = _Plan(freq=freq, horizon=horizon, season=season, window=window, models=model_list)

    series = build_series(orders, segments, freq=freq, by=by)
    top_by = [c for c in by if c != "segment"] if "segment" in by and len(by) > 1 else None
    top = build_series(orders, segments, freq=freq, by=top_by) if top_by else None

    total_steps = [0, 1]

    def tick(step: str = "forecasting") -> None:
        total_steps[0] += 1
        if progress is not None:
            progress(step, total_steps[0], max(total_steps[1], total_steps[0]))

    with Engine(engine, address=address, n_jobs=n_jobs, freq=freq) as eng:
        sel = _select(series.y, plan, eng, tick)
        fc, error_sd = _final(series.y, sel, plan, levels, eng, tick)
        top_sel = _select(top.y, plan, eng, tick) if top is not None else None

    backtest, summary = _backtest(sel, series.y, series.keys, by)
    if (
        top is not None
        and top_by is not None
        and top_sel is not None
        and sel.rows.height
        and top_sel.rows.height
    ):
        comparison = _comparison(sel.rows, series.keys, top_sel.rows, top.keys, top_by)
    else:
        comparison = pl.DataFrame(
            schema={
                "approach": pl.Utf8,
                "series": pl.Int64,
                "periods": pl.Int64,
                "wape": pl.Float64,
                "mae": pl.Float64,
                "bias": pl.Float64,
            }
        )
    lv_cols = [f"forecast-{s}-{lv}" for lv in levels for s in ("lo", "hi")]
    out = (
        fc.join(series.keys, on="unique_id", how="left")
        .join(
            sel.stats.select("unique_id", "model", "demand_class", "mean_demand"),
            on="unique_id",
            how="left",
        )
        .join(error_sd, on="unique_id", how="left")
        .select(
            "unique_id",
            "ds",
            "forecast",
            *lv_cols,
            *by,
            "model",
            "demand_class",
            pl.col("mean_demand").fill_nan(0.0).fill_null(0.0),
            "error_sd",
        )
        .sort("unique_id", "ds")
    )
    warnings = list(series.warnings)
    short = sel.stats.filter(~pl.col("backtested")).height
    if short:
        warnings.append(
            f"{short} series with under {window + horizon} periods of history: "
            f"{FALLBACK_MODEL} without a backtest"
        )
    return ForecastResult(
        forecast=out,
        backtest=backtest,
        summary=summary,
        comparison=comparison,
        warnings=warnings,
        netted=series.netted,
        excluded=series.excluded,
    )
