"""The forecast stage: series, selection, final forecast and backtest in one call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from segchain.forecast.backtest import (
    COMPARISON_SCHEMA,
    backtest_tables,
    segment_comparison,
    with_comparison,
)
from segchain.forecast.engines import Engine
from segchain.forecast.final import final_forecast
from segchain.forecast.models import FALLBACK_MODEL
from segchain.forecast.options import FREQS, Plan, check_options, parse_levels, parse_models
from segchain.forecast.routing import route_orders
from segchain.forecast.selection import select_models
from segchain.forecast.series import build_series


@dataclass
class ForecastResult:
    """What ``forecast`` returns: the forecast table, backtest metrics and accounting.

    ``backtest`` holds the per-series rows, the summary rows (``scope`` segment / overall) and
    the segment-summed vs direct rows (``scope = comparison``), as the backtest file carries them.
    """

    forecast: pl.DataFrame
    backtest: pl.DataFrame
    summary: pl.DataFrame
    comparison: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    netted: int = 0
    excluded: dict[str, int] = field(default_factory=dict)


Progress = Callable[[str, int, int], None]


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
    assignments: pl.DataFrame | None = None,
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
        assignments: network's assignments (``customer_id, site_id, share``): each customer's
            demand goes to the site(s) serving it and the series are per site (``site`` is
            added to ``by``), so stock plans where the network puts the stock.
        progress: called as ``progress(step, done, total)``: series done of the step's total,
            at the start of each step and after each group of series.

    Returns:
        ForecastResult with the forecast (Nixtla long format), backtest, summary, comparison.

    Raises:
        UsageError: bad options. DataError: inputs that do not join or are too short.
    """
    del seed  # deterministic models; kept so options map one-to-one to the CLI
    by = [c.strip() for c in by.split(",") if c.strip()] if isinstance(by, str) else list(by)
    check_options(freq, horizon, by, engine)
    levels = parse_levels(level)
    model_list = parse_models(models)
    _, season, window, _ = FREQS[freq]
    plan = Plan(freq=freq, horizon=horizon, season=season, window=window, models=model_list)

    routing_warnings: list[str] = []
    if assignments is not None:
        routed = route_orders(
            orders.collect() if isinstance(orders, pl.LazyFrame) else orders, assignments
        )
        orders, routing_warnings = routed.orders, routed.warnings
        if "site" not in by:
            by = ["site", *by]
    series = build_series(orders, segments, freq=freq, by=by)
    top_by = [c for c in by if c != "segment"] if "segment" in by and len(by) > 1 else None
    top = build_series(orders, segments, freq=freq, by=top_by) if top_by else None

    def step(name: str) -> Callable[[int, int], None]:
        """The stage's progress callback for one step: series done of the step's total."""

        def tick(done: int, total: int) -> None:
            if progress is not None:
                progress(name, done, total)

        return tick

    with Engine(engine, address=address, n_jobs=n_jobs, freq=freq) as eng:
        sel = select_models(series.y, plan, eng, step("backtesting models"))
        fc, error_sd = final_forecast(series.y, sel, plan, levels, eng, step("final forecasts"))
        top_sel = (
            select_models(top.y, plan, eng, step("backtesting sku totals"))
            if top is not None
            else None
        )

    backtest, summary = backtest_tables(sel, series.y, series.keys, by)
    if (
        top is not None
        and top_by is not None
        and top_sel is not None
        and sel.rows.height
        and top_sel.rows.height
    ):
        comparison = segment_comparison(sel.rows, series.keys, top_sel.rows, top.keys, top_by)
    else:
        comparison = pl.DataFrame(schema=COMPARISON_SCHEMA)
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
    warnings = [*routing_warnings, *series.warnings]
    short = sel.stats.filter(~pl.col("backtested")).height
    if short:
        warnings.append(
            f"{short} series with under {window + horizon} periods of history: "
            f"{FALLBACK_MODEL} without a backtest"
        )
    return ForecastResult(
        forecast=out,
        backtest=with_comparison(backtest, comparison),
        summary=summary,
        comparison=comparison,
        warnings=warnings,
        netted=series.netted,
        excluded=series.excluded,
    )
