"""The forecast stage: series, selection, final forecast and backtest in one call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

import polars as pl

from segchain.cleansing import LINE_ID, LINE_QUANTITY
from segchain.forecast.backtest import (
    COMPARISON_SCHEMA,
    backtest_tables,
    segment_comparison,
    with_comparison,
)
from segchain.forecast.engines import Engine
from segchain.forecast.final import final_forecast
from segchain.forecast.global_model import MIN_ROWS
from segchain.forecast.heldout import HeldOut, held_out
from segchain.forecast.intervals import first_cutoffs, normal_where, reconciled_bounds
from segchain.forecast.options import (
    EXTRA_WINDOWS,
    FREQS,
    Plan,
    Tick,
    check_options,
    parse_levels,
    parse_models,
)
from segchain.forecast.reconcile import (
    BACKTEST_MINT_STRUCTURAL,
    BACKTEST_MINT_VARIANCES,
    BOUNDS_OWN,
    DENSE_LIMIT,
    MINT_STRUCTURAL,
    MINT_VARIANCES,
    SITE_FROM_SKU,
    SPLIT_SD_OWN,
    TOTAL_ID,
    Reconciliation,
    hierarchy,
    history_shares,
    site_split,
    thin_site_series,
    top_down,
    top_down_error_sd,
)
from segchain.forecast.reconcile import NOT_BACKTESTED as REC_NOT_BACKTESTED
from segchain.forecast.reconcile import reconcile as reconcile_levels
from segchain.forecast.selection import (
    GLOBAL_FAILED,
    GLOBAL_SKIPPED,
    GLOBAL_STAND_IN,
    NOT_BACKTESTED,
    Selection,
    report_rows_only,
    select_models,
)
from segchain.forecast.series import (
    UNFINISHED_PERIOD,
    build_series,
    history_before,
    leave_out_unfinished,
    order_columns,
)
from segchain.formatting import PCT, agree, count, format_number
from segchain.routing import route_orders
from segchain.schema import (
    DEFAULT_OUTLIERS,
    FALLBACK_MODEL,
    FREQ_COLUMN,
    GROUP_SEASONAL,
    ORDERS_OPTION,
    segment_ranks,
)
from segchain.tableio import collect


@dataclass
class ForecastResult:
    """What ``forecast`` returns: the forecast table, backtest metrics and accounting.

    ``backtest`` holds the per-series rows, the summary rows (``scope`` segment / overall), the
    rows of the levels above the series (``scope`` sku / total: each sku series and the grand
    total with its chosen model) and the segment-summed vs direct rows (``scope =
    comparison``), as the backtest file carries them.
    """

    forecast: pl.DataFrame
    backtest: pl.DataFrame
    summary: pl.DataFrame
    comparison: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    netted: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    reconciliation: str | None = None
    # What was done instead of the plan, counted (see FALLBACKS); also in the metadata.
    fallbacks: dict[str, int] = field(default_factory=dict)
    # With as_of and orders after it covering whole periods: the forecast scored on them.
    held_out: HeldOut | None = None


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
    outliers: str = DEFAULT_OUTLIERS,
    reconcile: str = "auto",
    address: str | None = None,
    as_of: dt.date | None = None,
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
        reconcile: ``auto`` (chosen by backtest), ``none``, ``bottom-up``, ``mint`` or
            ``top-down``: how segment x sku forecasts are made coherent with the sku's.
        outliers: ``cap`` (default), ``drop`` or ``keep``: demand cleansing of zero-price lines
            and lines far beyond their sku's usual size (see ``cleansing``).
        address: scheduler / cluster address for a distributed engine.
        as_of: forecast as of this day: the order lines on or after it are left out (counted
            in ``excluded``), the history runs to the day before it (periods with no line up
            to then are periods without demand) and the forecast starts at its period.
        seed: accepted for the common CLI contract; every model here is deterministic.
        assignments: network's assignments (``customer_id, site_id, share``): each customer's
            demand goes to the site(s) serving it and the series are per site (``site`` is
            added to ``by``), so stock plans where the network puts the stock.
        progress: called as ``progress(step, done, total)``: series done of the step's total,
            at the start of each step and after each group of series; before a group (one
            statsforecast call), as ``progress("<step>: the next 184 series in one batch
            (AutoETS, ...)", done, total)``; while the global model fits, as
            ``progress("<step>: fitting the global model", 0, 0)`` (no count); after the last
            forecasts, ``progress(name, 0, 0)`` before each part of the work left (``scoring
            the backtest``, ``reconciling segment and sku forecasts``, ``comparing segment
            forecasts summed vs direct``, ``assembling the forecast table``).

    Returns:
        ForecastResult with the forecast (Nixtla long format), backtest, summary, comparison.

    Raises:
        UsageError: bad options. DataError: inputs that do not join or are too short.
    """
    del seed  # deterministic models; kept so options map one-to-one to the CLI
    by = [c.strip() for c in by.split(",") if c.strip()] if isinstance(by, str) else list(by)
    check_options(freq, horizon, by, engine, outliers=outliers, reconcile=reconcile)
    levels = parse_levels(level)
    model_list = parse_models(models)
    _, season, window, _ = FREQS[freq]
    plan = Plan(freq=freq, horizon=horizon, season=season, window=window, models=model_list)

    # Only the columns read are held: validate's names, addresses and descriptions were held
    # for every line, and copied with it (audit U5).
    orders = orders.select(
        order_columns(orders.collect_schema().names(), by, routed=assignments is not None)
    )
    routing_warnings: list[str] = []
    unrouted = 0
    after_as_of = 0
    every_line = orders
    if as_of is not None:
        # Read once: the history is cut from these lines, and the held-out check reads them all.
        every_line = orders = collect(orders, name=ORDERS_OPTION)
        orders, after_as_of, routing_warnings = history_before(orders, as_of, freq)
    history_as_of, unfinished = as_of, None
    if as_of is None:
        # An export run mid-week ends in a week of a day or two: counted whole, every series
        # read a collapse. Without --as-of it is left out as --as-of leaves lines out.
        unfinished = leave_out_unfinished(orders, freq, by)
        if unfinished is not None:
            orders, history_as_of = unfinished.kept, unfinished.as_of
            routing_warnings = [unfinished.warning]
    if assignments is not None:
        # Each line numbered and its quantity kept, so that a customer's line routed to two
        # sites counts once and is judged by the size it was ordered in (cleansing).
        lines = (
            collect(orders, name=ORDERS_OPTION)
            .with_row_index(LINE_ID)
            .with_columns(pl.col("quantity").alias(LINE_QUANTITY))
        )
        routed = route_orders(lines, assignments)
        orders, routing_warnings = routed.orders, [*routing_warnings, *routed.warnings]
        unrouted = routed.unrouted_lines
        if "site" not in by:
            by = ["site", *by]
    series = build_series(
        orders, segments, freq=freq, by=by, outliers=outliers, as_of=history_as_of
    )
    plan = replace(plan, first_day=series.first_day)
    if after_as_of:
        series.excluded["after_as_of"] = after_as_of
    if unfinished is not None:
        series.excluded[UNFINISHED_PERIOD] = unfinished.left_out
    if unrouted:
        series.excluded["no_serving_site"] = unrouted
    top_by = [c for c in by if c != "segment"] if "segment" in by and len(by) > 1 else None
    top = (
        build_series(orders, segments, freq=freq, by=top_by, outliers=outliers, as_of=history_as_of)
        if top_by
        else None
    )

    def step(name: str) -> Tick:
        """The stage's progress callback for one step: series done of the step's total, or
        what the step does apart from its series (``name: doing``, no count)."""

        def tick(done: int, total: int, doing: str | None = None) -> None:
            if progress is not None:
                progress(f"{name}: {doing}" if doing else name, done, total)

        return tick

    def phase(name: str) -> None:
        """A step no series count measures, said before it runs: the work after the last
        forecasts took 8 of 38 minutes on the whole Complete Journey export (docs/measurements.md),
        where the heartbeat had sat at 'final total forecast: 1 of 1 series'."""
        if progress is not None:
            progress(name, 0, 0)

    top_sel = top_fc = total_sel = total_fc = top_one = top_cut = thin = split = None
    split_models = None
    total_y = _total(top.y) if top is not None else None
    with Engine(engine, address=address, n_jobs=n_jobs, freq=freq) as eng:
        sel = select_models(series.y, plan, eng, step("backtesting models"), series.keys)
        fc, error_sd, _ = final_forecast(
            series.y, sel, plan, levels, eng, step("final forecasts"), series.keys
        )
        sel = report_rows_only(sel, plan)
        if top is not None and total_y is not None:
            top_sel = select_models(top.y, plan, eng, step("backtesting sku totals"), top.keys)
            if reconcile != "none":
                top_fc, _, top_one = final_forecast(
                    top.y, top_sel, plan, levels, eng, step("final sku forecasts"), top.keys
                )
                top_cut = first_cutoffs(top_sel.cv)
                # The grand total: one series, local candidates only (nothing to learn across).
                total_sel = select_models(total_y, plan, eng, step("backtesting the total"))
                total_fc, _, _ = final_forecast(
                    total_y, total_sel, plan, levels, eng, step("final total forecast")
                )
                if top_by and "site" in top_by and len(top_by) > 1:
                    thin = thin_site_series(top.y, top_fc)
                    if thin.height:
                        split, split_models = _sku_across_sites(
                            orders,
                            segments,
                            top,
                            thin,
                            [c for c in top_by if c != "site"],
                            freq=freq,
                            outliers=outliers,
                            as_of=history_as_of,
                            plan=plan,
                            levels=levels,
                            eng=eng,
                            step=step,
                        )
                        site_fc = split.select("unique_id", "ds", pl.col("forecast").alias("yhat"))
                        top_fc = _apply(top_fc, site_fc, levels)
            top_sel = report_rows_only(top_sel, plan)

    phase("scoring the backtest")
    # The sku level's and the total's chosen models made the forecasts that top-down splits and
    # MinT reconciles with: their rows too, each level under its own scope.
    upper = []
    if top is not None and top_sel is not None:
        upper.append(("sku", top_sel, top.y, top.keys))
    if total_sel is not None and total_y is not None:
        upper.append(("total", total_sel, total_y, pl.DataFrame({"unique_id": [TOTAL_ID]})))
    # The segments' labels and ranks, read once: the backtest lists its segment rows by them,
    # and the forecast rows carry them.
    rank_cols = _rank_columns(segments)
    ranks = segment_ranks(rank_cols) if rank_cols is not None else None
    backtest, summary = backtest_tables(sel, series.y, series.keys, by, ranks=ranks, levels=upper)
    rec = links = None
    if top is not None and top_by is not None and top_sel is not None and top_fc is not None:
        phase("reconciling segment and sku forecasts")
        links = hierarchy(series.keys, top.keys, top_by)
        rec = reconcile_levels(
            method=reconcile,
            links=links,
            y_bottom=series.y,
            bottom_rows=sel.rows,
            top_rows=top_sel.rows,
            bottom_fc=fc.select("unique_id", "ds", pl.col("forecast").alias("yhat")),
            top_fc=top_fc.select("unique_id", "ds", pl.col("forecast").alias("yhat")),
            total_rows=total_sel.rows if total_sel is not None else None,
            total_fc=(
                total_fc.select("unique_id", "ds", pl.col("forecast").alias("yhat"))
                if total_fc is not None
                else None
            ),
        )
        split_rows = None
        if split is not None and thin is not None:
            # Whatever the method, the segment rows of a split sku x site series are its new
            # forecast split by the segments' shares, so that they sum to it.
            split_rows = _resplit(split, links, series.y)
            new = split_rows.select("unique_id", "ds", pl.col("forecast").alias("yhat"))
            kept = rec.forecast.join(new, on="unique_id", how="anti")
            rec.forecast = pl.concat([kept, new], how="vertical_relaxed").sort("unique_id", "ds")
            rec.fallbacks[SITE_FROM_SKU] = thin.height
        fc = _apply(fc, rec.forecast, levels)
        fc, error_sd = _written_uncertainty(
            rec, fc, error_sd, levels, series.y, sel.rows, links, top_one, top_cut, split_rows
        )
        if split_rows is not None:
            fc, error_sd = _split_spread(fc, error_sd, split_rows, levels)
    if (
        top is not None
        and top_by is not None
        and top_sel is not None
        and sel.rows.height
        and top_sel.rows.height
    ):
        phase("comparing segment forecasts summed vs direct")
        reconciled = {}
        if rec is not None and rec.rows:
            reconciled = {m: rec.rows[m] for m in ("mint", "top-down")}
            reconciled[f"reconciled ({rec.method})"] = rec.rows[rec.method]
        comparison = segment_comparison(
            sel.rows,
            series.keys,
            top_sel.rows,
            top.keys,
            top_by,
            reconciled=reconciled,
            baselines=_baseline_rows(top_sel.cv, plan),
        )
    else:
        comparison = pl.DataFrame(schema=COMPARISON_SCHEMA)
    phase("assembling the forecast table")
    lv_cols = [f"forecast-{s}-{lv}" for lv in levels for s in ("lo", "hi")]
    out = (
        fc.join(series.keys, on="unique_id", how="left")
        .join(
            sel.stats.select("unique_id", "model", "demand_class", "mean_demand"),
            on="unique_id",
            how="left",
        )
        .join(error_sd, on="unique_id", how="left")
        .join(_made_by(rec, links, top_sel, split_models), on="unique_id", how="left")
        .select(
            "unique_id",
            "ds",
            "forecast",
            *lv_cols,
            *by,
            pl.coalesce("level_model", "model").alias("model"),
            "reconciliation",
            "demand_class",
            pl.col("mean_demand").fill_nan(0.0).fill_null(0.0),
            "error_sd",
            # On every row, whatever the format: a forecast of one period cannot show its
            # length by its dates, and a CSV or a pipe loses the Parquet metadata (stock).
            pl.lit(freq, pl.String).alias(FREQ_COLUMN),
        )
        .sort("unique_id", "ds")
    )
    out = _with_segment_rank(out, rank_cols)
    warnings = [*routing_warnings, *series.warnings]
    if top_by is None and reconcile not in ("auto", "none"):
        # Asked for by name, a method that has nothing to act on is said, not dropped silently.
        warnings.append(
            f"--reconcile {reconcile} has no effect with --by {','.join(by)}: reconciliation "
            "adds each segment's series of a key up to the key's own forecast (--by segment,sku)"
        )
    fallbacks = _fallbacks(sel, top_sel, rec)
    # MinT is backtested to be compared with top-down and bottom-up: its windows' weights are
    # said only when its numbers are written (counted in the metadata whichever is chosen).
    said = {
        k: n
        for k, n in fallbacks.items()
        if (rec is not None and rec.method == "mint")
        or k not in (BACKTEST_MINT_STRUCTURAL, BACKTEST_MINT_VARIANCES)
    }
    warnings += _fallback_warnings(said, window + horizon)
    if "segment" in by:
        warnings += _segments_forecast_nothing(out, series.y, series.keys, freq, horizon)
    warnings += _no_season(out, series.y, freq)
    scored = None
    if after_as_of:
        phase("scoring the forecast on the periods after --as-of")
        lines = collect(every_line, name=ORDERS_OPTION)
        siteless = None  # the lines of customers with no serving site, counted by the check
        if assignments is not None:
            routed_lines = route_orders(lines, assignments)
            lines, siteless = routed_lines.orders, routed_lines.unrouted
        direct = (
            top_fc.join(top.keys, on="unique_id").select(*top.keys.columns[1:], "ds", "forecast")
            if top_fc is not None and top is not None
            else None
        )
        scored = held_out(
            lines,
            collect(segments, name="segments"),
            out,
            freq=freq,
            by=by,
            direct=direct,
            unrouted=siteless,
        )
    return ForecastResult(
        forecast=out,
        backtest=with_comparison(backtest, comparison),
        summary=summary,
        comparison=comparison,
        warnings=warnings,
        netted=series.netted,
        excluded=series.excluded,
        reconciliation=rec.method if rec is not None else None,
        fallbacks=fallbacks,
        held_out=scored,
    )


PERIOD_WORDS = {
    "D": ("day", "days", "on"),
    "W": ("week", "weeks", "in the week of"),
    "M": ("month", "months", "in the month of"),
}


# The models that read a season: the seasonal naive copies the last one, GroupSeasonal lifts
# a moving average by the total's same periods a season before.
SEASONAL_MODELS = ("SeasonalNaive", GROUP_SEASONAL)


def _no_season(out: pl.DataFrame, y: pl.DataFrame, freq: str) -> list[str]:
    """A warning when the history holds under two seasons and no series took a seasonal model:
    the forecast then carries the recent level into the season's peak or trough. Online Retail
    cut at 2011-12-09 (54 weeks): November's peak forecast flat to March, 2.4 times the same
    weeks a year before, without a word (audit of session 60)."""
    season = FREQS[freq][1]
    if season <= 1 or not y.height:
        return []
    first = cast(dt.date, y.get_column("ds").min())
    last = cast(dt.date, y.get_column("ds").max())
    span = pl.date_range(first, last, FREQS[freq][0], eager=True).len()
    if span >= 2 * season or out.get_column("model").is_in(SEASONAL_MODELS).any():
        return []
    one, many, _ = PERIOD_WORDS[freq]
    return [
        f"the history holds {span:,} {one if span == 1 else many}, under two seasons "
        f"({2 * season} {many}): no series took a seasonal model ({', '.join(SEASONAL_MODELS)}), "
        "so the forecast follows the recent level and carries no season (a peak or trough "
        "ahead is not in it); a longer history gives the seasonal candidates a season to read"
    ]


def _rank_columns(segments: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | None:
    """The segments' two columns ``segment`` (as text) and ``segment_rank``, read alone; None
    when the table has no rank (a customers table of the user's own)."""
    names = segments.collect_schema().names()
    if "segment" not in names or "segment_rank" not in names:
        return None
    return collect(segments.lazy().select(pl.col("segment").cast(pl.String), "segment_rank"))


def _with_segment_rank(out: pl.DataFrame, rank_cols: pl.DataFrame | None) -> pl.DataFrame:
    """``out`` with each row's ``segment_rank`` (the lowest of its segment's rows in
    ``rank_cols``, ``_rank_columns``), when it is by segment and the segments table has one:
    stock lists its per-segment tables by it without ``--segments``."""
    if "segment" not in out.columns or rank_cols is None:
        return out
    ranks = rank_cols.group_by("segment").agg(pl.col("segment_rank").min())
    key = pl.col("segment").cast(pl.String).alias("_segment")
    return (
        out.with_columns(key)
        .join(
            ranks.rename({"segment": "_segment"}), on="_segment", how="left", maintain_order="left"
        )
        .drop("_segment")
    )


# A segment forecast under this share of its history's mean units per period is forecast none.
NOTHING_SHARE = 1e-3


def _segments_forecast_nothing(
    out: pl.DataFrame, y: pl.DataFrame, keys: pl.DataFrame, freq: str, horizon: int
) -> list[str]:
    """A warning naming the segments forecast no demand over the horizon whose customers bought
    in the history. A segment's series is its customers' history, and a segment defined by
    recency (RFM's lower recency scores, k-means' lapsed clusters) has no sale in its last
    periods by construction, which the models and the top-down split follow: CDNOW cut at
    1998-01-05, RFM's Loyal (4,602 customers) and six more segments were forecast 0 for 8
    weeks in which their customers bought 30 % of the units."""
    periods = max(y.get_column("ds").n_unique(), 1)
    # Series by series: a segment is forecast no demand when each of its series that sold is,
    # under NOTHING_SHARE of its own mean rate over the history, whatever the unit (ADIDA's
    # smoothing decays toward 0 without reaching it: 1e-27 units a week). Pooled over the
    # segment, one sku's absurd line (1e12 units, a barcode in the quantity) made Champions,
    # forecast 1,857 units, a segment "forecast no demand" (audit J, session 60).
    ahead = out.group_by("unique_id").agg(pl.col("forecast").sum().alias("ahead"))
    per_series = (
        y.group_by("unique_id")
        .agg(
            pl.col("y").clip(lower_bound=0).sum().alias("units"),
            pl.col("ds").filter(pl.col("y") > 0).max().alias("last"),
        )
        .join(keys.select("unique_id", "segment"), on="unique_id")
        .join(ahead, on="unique_id", how="left")
        .with_columns(pl.col("ahead").fill_null(0.0))
        .with_columns(
            quiet=(pl.col("ahead") < NOTHING_SHARE * pl.col("units") / periods * horizon)
            | (pl.col("units") <= 0)
        )
    )
    both = per_series.group_by("segment").agg(
        pl.col("units").sum(), pl.col("last").max(), pl.col("quiet").all()
    )
    total = float(both["units"].sum())
    silent = both.filter(pl.col("quiet") & (pl.col("units") > 0)).sort(
        ["units", "segment"], descending=[True, False]
    )
    if not silent.height or total <= 0:
        return []
    units = float(silent["units"].sum())
    one, many, when = PERIOD_WORDS[freq]
    named = [
        f"{r['segment']} ({count(r['units'])} units, the last {when} {r['last'].isoformat()})"
        for r in silent.head(3).iter_rows(named=True)
    ]
    more = f" and {silent.height - 3} more" if silent.height > 3 else ""
    k = silent.height
    return [
        f"{k} of {both.height} segments {agree(k, 'is', 'are')} forecast no demand over the "
        f"{horizon} {agree(horizon, one, many)} ahead, though {agree(k, 'its', 'their')} "
        f"customers bought {format_number(units / total, PCT)} of the history's units "
        f"({count(units)} of {count(total)}): {', '.join(named)}{more}. A segment's series is "
        "its customers' history: a segment defined by recency (RFM's lower recency scores, "
        "k-means' lapsed clusters) has no sale in its last periods by construction, and its "
        "models (bottom-up or MinT reconciliation) follow them, while its customers may still "
        "buy (the top-down split reads the whole history). "
        "The sku forecasts are not affected; the per-segment figures built on these (stock "
        "--segments-out, costs' inventory split, the report's demand by segment) give "
        f"{agree(k, 'it', 'them')} none"
    ]


def _total(top_y: pl.DataFrame) -> pl.DataFrame:
    """The grand total per period (``unique_id`` = ``TOTAL_ID``), from the sku series."""
    return (
        top_y.sort("ds", "unique_id")
        .group_by("ds", maintain_order=True)
        .agg(pl.col("y").sum().round_sig_figs(12))  # as each series' sums (``build_series``)
        .select(pl.lit(TOTAL_ID).alias("unique_id"), "ds", "y")
        .sort("ds")
    )


def _fallbacks(
    sel: Selection, top_sel: Selection | None, rec: Reconciliation | None
) -> dict[str, int]:
    """Every fallback counted: segment series and sku series (``sku_`` prefix) apart."""
    out = dict(sorted(sel.fallbacks.items()))
    if top_sel is not None:
        out.update({f"sku_{k}": v for k, v in sorted(top_sel.fallbacks.items())})
    if rec is not None:
        out.update(sorted(rec.fallbacks.items()))
    return out


FALLBACK_TEXT = {
    NOT_BACKTESTED: "{n} series with under {p} periods of history: "
    f"{FALLBACK_MODEL} without a backtest",
    GLOBAL_SKIPPED: "{n} series: too little data for the global model (under "
    f"{MIN_ROWS} series-periods); local models only",
    GLOBAL_FAILED: "{n} series: the global model failed; local models (or the moving average)",
    GLOBAL_STAND_IN: "{n} series-windows the global model could not forecast: the moving "
    "average stood in",
    MINT_STRUCTURAL: "MinT reconciled the forecast without usable backtest errors (none, too "
    "few, or all 0): structural weights",
    MINT_VARIANCES: f"MinT reconciled the forecast over more than {DENSE_LIMIT:,} series: error "
    "variances only",
    BACKTEST_MINT_STRUCTURAL: "MinT reconciled {n} backtest window{s} without usable errors from "
    "the windows before (too few, or all 0): structural weights",
    BACKTEST_MINT_VARIANCES: "MinT reconciled {n} backtest window{s} over more than "
    f"{DENSE_LIMIT:,} series: error variances only",
    REC_NOT_BACKTESTED: "{n} sku{s} without a complete backtest window: reconciliation "
    "not scored there",
    BOUNDS_OWN: "{n} reconciled series without backtest errors of their reconciliation: "
    "normal bounds of their error_sd around the reconciled forecast",
    SITE_FROM_SKU: "{n} sku x site series too thin to forecast on their own (forecast no "
    "demand although they sold in the last year, or one period of history): their sku's "
    "forecast across sites times the site's share of its history",
    SPLIT_SD_OWN: "{n} series split top-down from a sku with under two one-step backtest "
    "errors: error_sd of the series' own model",
}


def _fallback_warnings(fallbacks: dict[str, int], periods: int) -> list[str]:
    out = []
    for key, n in fallbacks.items():
        sku = key.startswith("sku_")
        text = FALLBACK_TEXT[key[4:] if sku else key].format(
            n=f"{n:,}", p=periods, s="" if n == 1 else "s"
        )
        out.append(f"sku level: {text}" if sku else text)
    return out


def _made_by(
    rec: Reconciliation | None,
    links: pl.DataFrame | None,
    top_sel: Selection | None,
    split_models: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per series, what made its forecast: ``reconciliation``, the method its forecast was
    reconciled by (null where it was not), and ``level_model``, under top-down the model of
    the sku forecast that was split (the series' own model made none of its numbers; its own
    is in the backtest file's series rows), null otherwise (bottom-up keeps the series' own
    forecast, MinT combines it with the levels above). Under any method, the rows of a sku x
    site series split from its sku (``split_models``: that series' ``unique_id`` and
    ``split_model``, its sku's model across sites) name the sku's model: it made their
    numbers, not the model of the series or of its sku x site forecast, which forecast none."""
    empty = pl.DataFrame(
        schema={"unique_id": pl.String, "reconciliation": pl.String, "level_model": pl.String}
    )
    if rec is None or links is None or top_sel is None:
        return empty
    ids = rec.forecast.filter(pl.col("yhat").is_not_null()).select("unique_id").unique()
    made = ids.with_columns(pl.lit(rec.method).alias("reconciliation"))
    if rec.method != "top-down":
        made = made.with_columns(pl.lit(None, pl.String).alias("level_model"))
    else:
        top_models = top_sel.stats.select(
            pl.col("unique_id").alias("top_id"),
            pl.col("model").cast(pl.String).alias("level_model"),
        )
        made = (
            made.join(links, on="unique_id", how="left")
            .join(top_models, on="top_id", how="left")
            .select("unique_id", "reconciliation", "level_model")
        )
    if split_models is None:
        return made
    split = links.join(split_models.rename({"unique_id": "top_id"}), on="top_id")
    return (
        made.join(split.select("unique_id", "split_model"), on="unique_id", how="left")
        .with_columns(pl.coalesce("split_model", "level_model").alias("level_model"))
        .select("unique_id", "reconciliation", "level_model")
    )


def _written_uncertainty(
    rec: Reconciliation,
    fc: pl.DataFrame,
    error_sd: pl.DataFrame,
    levels: list,
    y: pl.DataFrame,
    bottom_rows: pl.DataFrame,
    links: pl.DataFrame,
    top_one: pl.DataFrame | None,
    top_cut: pl.DataFrame | None,
    split_rows: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The bounds and error_sd of the forecasts written where reconciliation changed them.

    Top-down and MinT write numbers the series' own model did not make, so its errors say
    nothing of theirs (stock plans from error_sd): the bounds come from the method's own
    backtest errors (``reconciled_bounds``), and under top-down error_sd is the one-step error
    of the split (``top_down_error_sd``). MinT's one-step error would need a reconciliation
    per period, so its error_sd stays the series' own model's (README). Series without the
    method's errors, counted in ``rec.fallbacks``, and those whose bounds from them have width
    0 though error_sd is above 0 get normal bounds of error_sd (``_spread_bounds``). The
    segment rows of a split
    sku x site series (``split_rows``) are neither: theirs are set apart (``_split_spread``).
    """
    if rec.method not in ("top-down", "mint"):
        return fc, error_sd
    rows = rec.rows.get(rec.method)
    ids = rec.forecast.filter(pl.col("yhat").is_not_null()).get_column("unique_id").unique()
    if split_rows is not None:
        apart = split_rows.get_column("unique_id").unique()
        ids = ids.filter(~ids.is_in(apart.implode()))
        links = links.filter(~pl.col("unique_id").is_in(apart.implode()))
    bounded = pl.Series("unique_id", [], pl.String)
    if rows is not None and rows.height:
        actual = bottom_rows.select("unique_id", "cutoff", "ds", "y")
        fc, bounded = reconciled_bounds(
            fc, rows.join(actual, on=["unique_id", "cutoff", "ds"]), levels
        )
    unbounded = ids.filter(~ids.is_in(bounded.implode())).len()
    if unbounded:
        rec.fallbacks[BOUNDS_OWN] = unbounded
    if rec.method == "top-down" and top_one is not None and top_cut is not None:
        error_sd, kept = top_down_error_sd(y, links, top_one, top_cut, error_sd)
        if kept:
            rec.fallbacks[SPLIT_SD_OWN] = kept
    return _spread_bounds(fc, error_sd, levels, ids, bounded), error_sd


def _spread_bounds(
    fc: pl.DataFrame, error_sd: pl.DataFrame, levels: list, ids: pl.Series, bounded: pl.Series
) -> pl.DataFrame:
    """Normal bounds of error_sd around the reconciled forecast (clipped at 0) for the
    reconciled series (``ids``) without the method's backtest errors (not in ``bounded``), and
    for those whose interval from them has width 0 though error_sd is above 0.

    Not the series' own model's bounds moved onto the reconciled value: clipped at 0 around its
    own forecast of 0 and moved, the lower bound was the forecast itself (Online Retail by RFM
    segment at 2011-10-10, 729 series; Loyal/23503 72.06 in [72.06, 211.16]). And not a width
    of 0: a segment that first bought late had a split of 0 and no demand at most backtest
    steps, so most of its errors were 0 and [p, p] was written around a p > 0 that whole units
    never equal (1,449 series; docs/measurements.md, *Reconciled intervals of width 0*)."""
    if not levels:
        return fc
    sd = error_sd.select("unique_id", pl.col("error_sd").alias("spread_sd"))
    flat = pl.any_horizontal(
        pl.col(f"forecast-hi-{lv}") <= pl.col(f"forecast-lo-{lv}") for lv in levels
    )
    reconciled = pl.col("unique_id").is_in(ids.implode())
    own = ~pl.col("unique_id").is_in(bounded.implode())
    spread = pl.col("spread_sd").is_not_null()
    where = (reconciled & spread & (own | (flat & (pl.col("spread_sd") > 0)))).fill_null(False)
    joined = fc.join(sd, on="unique_id", how="left")
    return normal_where(joined, "spread_sd", levels, where).select(fc.columns)


def _apply(fc: pl.DataFrame, reconciled: pl.DataFrame, levels: list) -> pl.DataFrame:
    """The reconciled centre; each interval keeps its width around it (never below zero)."""
    shift = pl.col("yhat").fill_null(pl.col("forecast")) - pl.col("forecast")
    bounds = [f"forecast-{s}-{lv}" for lv in levels for s in ("lo", "hi")]
    out = fc.join(reconciled, on=["unique_id", "ds"], how="left").with_columns(
        *[(pl.col(c) + shift).clip(lower_bound=0.0) for c in bounds],
        pl.col("yhat").fill_null(pl.col("forecast")).alias("forecast"),
    )
    return out.drop("yhat").with_columns(
        *[pl.min_horizontal(f"forecast-lo-{lv}", "forecast") for lv in levels],
        *[pl.max_horizontal(f"forecast-hi-{lv}", "forecast") for lv in levels],
    )


def _baseline_rows(cv: pl.DataFrame, plan: Plan) -> dict[str, pl.DataFrame]:
    """The simple baselines' backtest forecasts of the totals, for the comparison rows."""
    # The frequency's three averages, shortest first (weekly 4/8/13, daily 7/28/91, monthly
    # 3/6/12): the names WindowAverage4 and 13 left daily and monthly runs with one of them.
    windows = sorted(
        [(plan.window, "WindowAverage")]
        + [(w, f"WindowAverage{w}") for w in EXTRA_WINDOWS[plan.freq]]
    )
    names = {"Naive": "naive", "SeasonalNaive": "seasonal naive"} | {
        model: f"{w}-period moving average" for w, model in windows
    }
    present = set(cv.get_column("model").unique().to_list())
    return {
        label: cv.filter(pl.col("model") == model).select("unique_id", "cutoff", "ds", "yhat")
        for model, label in names.items()
        if model in present
    }


def _sku_across_sites(
    orders: pl.DataFrame | pl.LazyFrame,
    segments: pl.DataFrame | pl.LazyFrame,
    top,
    thin: pl.DataFrame,
    sku_by: list[str],
    *,
    freq: str,
    outliers: str,
    as_of: dt.date | None,
    plan: Plan,
    levels: list,
    eng: Engine,
    step: Callable[[str], Tick],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``thin`` sku x site series' forecasts and ``error_sd`` split from their sku's
    across sites (``reconcile.site_split``): the skus' series built and forecast, those skus
    only; and per thin series, ``unique_id, split_model``, the model of its sku's forecast."""
    wanted = top.keys.join(thin, on="unique_id", how="semi").select(sku_by).unique()
    lines = orders.lazy().join(wanted.lazy(), on=sku_by, how="semi")
    sku = build_series(lines, segments, freq=freq, by=sku_by, outliers=outliers, as_of=as_of)
    sel = select_models(sku.y, plan, eng, step("backtesting skus across sites"), sku.keys)
    fc, error_sd, _ = final_forecast(
        sku.y, sel, plan, levels, eng, step("final skus across sites"), sku.keys
    )
    sku_fc = fc.select("unique_id", "ds", "forecast").join(error_sd, on="unique_id")
    on = [c for c in sku.keys.columns if c != "unique_id"]
    models = (
        top.keys.join(thin, on="unique_id", how="semi")
        .join(sku.keys.rename({"unique_id": "sku_id"}), on=on)
        .join(
            sel.stats.select(
                pl.col("unique_id").alias("sku_id"),
                pl.col("model").cast(pl.String).alias("split_model"),
            ),
            on="sku_id",
        )
        .select("unique_id", "split_model")
    )
    return site_split(top.y, top.keys, sku.keys, sku_fc, thin), models


def _resplit(split: pl.DataFrame, links: pl.DataFrame, y: pl.DataFrame) -> pl.DataFrame:
    """The segment rows of the split sku x site series (``split``: theirs, ``unique_id, ds,
    forecast, error_sd``), each column split by the segments' shares of the series' history,
    as ``reconcile.site_split`` split them from their sku."""
    tops = split.select(pl.col("unique_id").alias("top_id")).unique()
    under = links.join(tops, on="top_id", how="semi")
    shares = history_shares(y.join(under, on="unique_id", how="semi"), under)
    return top_down(split, shares, cols=[c for c in split.columns if c not in ("unique_id", "ds")])


def _split_spread(
    fc: pl.DataFrame, error_sd: pl.DataFrame, rows: pl.DataFrame, levels: list
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The error_sd and bounds of the split sku x site series' segment rows (``rows``, from
    ``_resplit``): error_sd their sku's across sites times their share of it, as their forecast
    is, and normal bounds of that error_sd around the forecast (clipped at 0), as for a series
    without a backtest. Not their sku's bounds times the share: the sku's lower bound, scaled,
    sits above the zero weeks of a thin site (80 % bounds held 45 % of the weeks held out on
    Superstore by product x region at 2022-10-10, normal ones 88 %; docs/measurements.md)."""
    sd = rows.group_by("unique_id").agg(pl.col("error_sd").mean().alias("split_sd"))
    error_sd = (
        error_sd.join(sd, on="unique_id", how="left")
        .with_columns(pl.coalesce("split_sd", "error_sd").alias("error_sd"))
        .select(error_sd.columns)
    )
    fc = normal_where(
        fc.join(sd, on="unique_id", how="left"),
        "split_sd",
        levels,
        pl.col("split_sd").is_not_null(),
    ).select(fc.columns)
    return fc, error_sd
