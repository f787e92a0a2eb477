"""``segchain forecast``: demand forecasts per segment x sku with a backtested model per series."""

from __future__ import annotations

from typing import Annotated, cast

import typer

from segchain.cli import common as c
from segchain.cli.app import app
from segchain.cli.progress import Work

Orders = Annotated[
    list[str],
    typer.Option(
        "--orders",
        help="Order lines (ERP export or validate's output): a file, a quoted glob or a "
        "folder (CSV, CSV.gz, Parquet), repeatable, read as one table; '-' reads stdin.",
    ),
    c.reads("--orders", folders=True),
]
Freq = Annotated[
    str | None,
    typer.Option(
        "--freq",
        help="Period: days, weeks starting Monday, or months (default: W).",
        envvar="SEGCHAIN_FREQ",
        metavar="D|W|M",
    ),
]
Horizon = Annotated[
    int | None, typer.Option("--horizon", help="Periods to forecast (default: 13).")
]
Level = Annotated[
    str | None,
    typer.Option("--level", help="Interval levels in percent (default: 80,95).", metavar="LEVELS"),
]
By = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Series key columns, e.g. sku or site,segment,sku (default: segment,sku).",
        metavar="COLUMNS",
    ),
]
Models = Annotated[
    str | None,
    typer.Option(
        "--models",
        metavar="MODELS",
        help="auto (route by demand class) or a list: AutoETS, AutoTheta, CrostonSBA, "
        "ADIDA, IMAPA, TSB, Naive, SeasonalNaive, WindowAverage (WindowAverage4: 4 periods), "
        "HistoricAverage, Ensemble (mean of the route's AutoETS+AutoTheta or Croston & co.), "
        "GroupSeasonal (moving average x the total's seasonal lift), Global (one model "
        "across series) (default: auto).",
    ),
]
Backtest = Annotated[
    str | None,
    typer.Option("--backtest", help="Write per-series backtest metrics (and summary rows) here."),
    c.writes("--backtest"),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Where the models run (default: local).",
        envvar="SEGCHAIN_ENGINE",
        rich_help_panel="Engine",
        metavar="local|dask|ray|spark",
    ),
]
Address = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="Dask scheduler of a running cluster, e.g. tcp://10.0.0.5:8786; checked before any "
        "input is read (default: a local cluster).",
        metavar="URL",
        rich_help_panel="Engine",
        envvar="SEGCHAIN_ADDRESS",
    ),
]
AssignmentsOpt = Annotated[
    str | None,
    typer.Option(
        "--assignments",
        help="network's assignments: route each customer's demand to the site(s) serving it "
        "and forecast per site (site is added to --by).",
    ),
    c.reads("--assignments"),
]
Outliers = Annotated[
    str | None,
    typer.Option(
        "--outliers",
        metavar="cap|drop|keep",
        help="Demand cleansing: cap caps lines far beyond their sku's usual line size "
        "and leaves zero-price lines out; drop leaves both out; keep uses every line "
        "(default: cap).",
    ),
]
Reconcile = Annotated[
    str | None,
    typer.Option(
        "--reconcile",
        help="How segment x sku forecasts are made to sum to the sku's: auto (chosen by "
        "backtest), bottom-up, mint (MinTrace, shrinkage covariance), top-down (the sku "
        "forecast split by each segment's share of the sku's whole history) or none "
        "(default: auto).",
        metavar="METHOD",
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Forecast as of this date (YYYY-MM-DD): order lines on or after it are left out "
        "and the forecast starts with its period (default: the period after the last order).",
        metavar="DATE",
    ),
]
NJobs = Annotated[
    int | None,
    typer.Option(
        "--n-jobs",
        help="Processes for the local engine, -1 for all cores (default: -1).",
        metavar="N",
        rich_help_panel="Engine",
    ),
]


@app.command("forecast")
@c.handle_errors
def forecast(
    segments: c.Input = "-",
    orders: Orders = cast(list[str], ...),  # required: typer reads ... as "no default"
    output: c.Output = "-",
    freq: Freq = None,
    horizon: Horizon = None,
    level: Level = None,
    by: By = None,
    models: Models = None,
    backtest: Backtest = None,
    engine: EngineOpt = None,
    address: Address = None,
    n_jobs: NJobs = None,
    assignments: AssignmentsOpt = None,
    outliers: Outliers = None,
    reconcile: Reconcile = None,
    as_of: AsOf = None,
    map: c.Map = None,
    preset: c.Preset = None,
    date_format: c.DateFormat = None,
    sheet: c.Sheet = None,
    returns: c.ReturnsOpt = None,
    config: c.ConfigFile = None,
    format: c.Format = None,
    csv_safe: c.CsvSafe = False,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
    seed: c.Seed = None,
) -> None:
    """Forecast demand per segment x sku, choosing each series' model by backtest.

    Writes Nixtla long format: unique_id, ds, forecast, forecast-lo-80, forecast-hi-80, ...,
    segment, sku, model, reconciliation, demand_class, mean_demand, error_sd, freq (the --freq,
    which stock reads) and segment_rank when the segments table has one.

    Example:

        segchain segment orders.csv \\
          | segchain forecast --orders orders.csv --backtest bt.csv -o fc.parquet
    """
    from segchain.cli.endpoint import check_engine
    from segchain.config import setting
    from segchain.errors import UsageError
    from segchain.forecast import ForecastParams
    from segchain.forecast import forecast as run_forecast
    from segchain.forecast.options import check_options, parse_levels, parse_models
    from segchain.forecast.series import order_columns
    from segchain.schema import (
        META_HELD_OUT,
        META_ROUTED_BY,
        META_SEGMENTED_BY,
        check_customer_ids,
        check_one_row_per_customer,
        check_table_kind,
    )
    from segchain.tableio import collect, provenance, read_table

    reporter = c.Reporter(quiet=quiet, verbose=verbose)
    cfg = c.load_config(config, reporter)
    if orders.count("-") > 1:
        raise UsageError("--orders can read stdin ('-') only once")
    if assignments == "-" and (segments == "-" or "-" in orders):
        raise UsageError("only one of SEGMENTS, --orders and --assignments can read stdin")
    if segments == "-" and "-" in orders:
        raise UsageError(
            "SEGMENTS and --orders cannot both read stdin",
            hint="give one of them as a file, e.g. --orders orders.csv",
        )
    given = {
        "freq": freq,
        "horizon": horizon,
        "level": level,
        "by": by,
        "models": models,
        "engine": engine,
        "address": address,
        "n_jobs": n_jobs,
        "outliers": outliers,
        "reconcile": reconcile,
        "as_of": as_of,
        "seed": seed,
    }
    params = ForecastParams.resolve(
        lambda name, default: setting(given[name], cfg, "forecast", name, default)
    ).as_dict()
    _check_horizon(params["horizon"], params["freq"])
    # The stage's own checks (it runs them again), before any input is read.
    check_options(
        params["freq"],
        params["horizon"],
        _keys(params["by"]),
        params["engine"],
        outliers=params["outliers"],
        reconcile=params["reconcile"],
    )
    parse_levels(params["level"])
    parse_models(params["models"])
    if params["address"] is not None and not params["address"].strip():
        # An unset variable's --address "$SCHEDULER" ran on a local cluster without a word.
        raise UsageError(
            "--address is empty (an unset variable?): no cluster is named",
            hint="give the scheduler's address (tcp://HOST:8786), or leave --address out for "
            "a local cluster",
        )
    if (
        address is not None
        and params["engine"] == "local"
        and not c.from_env(address, "SEGCHAIN_ADDRESS")
    ):
        # It ran every model on this machine, unsaid: the cluster named was never asked. From
        # the environment (or the config) it is a standing setting, for the runs on a cluster.
        raise UsageError(
            f"--address {address} names a cluster, but the engine is local: the models would "
            "run on this machine, the address unused",
            hint="add --engine dask (or ray, spark) to run on that cluster, or leave --address out",
        )
    if n_jobs is not None and params["engine"] != "local":
        # It did nothing, unsaid: the cluster's workers (or Dask's local one) run the models.
        # From the config it is a standing setting, for the local runs.
        raise UsageError(
            f"--n-jobs {n_jobs} sets the local engine's processes, but the engine is "
            f"{params['engine']}: the cluster's workers run the models, --n-jobs unused",
            hint="leave --n-jobs out and size the cluster, or run with --engine local",
        )
    # The engine before any input: a wrong --address costs seconds, not a read and a backtest.
    check_engine(params["engine"], params["address"])
    seg_table = read_table(segments)
    # The wrong table and a customer twice are refused before the orders are read (a large
    # export takes a while): an order export given as SEGMENTS is named as one, not as
    # customers listed many times.
    check_table_kind(
        seg_table.frame.collect_schema().names(),
        seg_table.stage,
        "segments",
        source=c.table_name("SEGMENTS", segments),
        hint="give segment's output (or a table of customer_id, segment) as SEGMENTS",
    )
    seg_frame = collect(seg_table.frame, name="segments")
    check_customer_ids(seg_frame, source=c.table_name("SEGMENTS", segments))
    check_one_row_per_customer(seg_frame, source=c.table_name("SEGMENTS", segments))
    opts = c.OrderOptions(
        map=map, preset=preset, date_format=date_format, returns=returns, sheet=sheet
    )
    loaded = c.load_orders(orders, opts, config=cfg, reporter=reporter, option="--orders")
    # Only the columns the stage reads, in the import's one pass: the whole table held them all.
    read = order_columns(
        loaded.clean.collect_schema().names(),
        _keys(params["by"]),
        routed=assignments is not None,
    )
    # Series per segment (or customer) are sums over customers: one whose every line was
    # rejected is in none, and is said. Per sku (or site) a lost customer changes the series
    # by its lines alone, which the reconciliation counts: nothing more to say there.
    per_customer = bool({"segment", "customer_id"} & set(_keys(params["by"])))
    (clean,), recon = loaded.collect(loaded.clean.select(read), customers=per_customer)
    loaded.say_all_rejected(
        "{customers} whose every line was rejected {verb} no demand in any series"
    )
    from segchain.config import name_sources

    # With --as-of, series not split by segment (--by sku, site,sku) are the same whatever later
    # day the segments were made (every customer of the history before it is in them): saying
    # the held-out check scores segments that knew the demand sent users to rerun segment for
    # nothing (audit F F1, session 66). Without --as-of, older segments leave the customers first
    # seen since out of every series, split by segment or not: said as before.
    by_segment = params["as_of"] is None or "segment" in _keys(params["by"])
    note = (
        c.segments_as_of_note(
            seg_table.metadata,
            clean,
            c.table_name("SEGMENTS", segments),
            as_of=params["as_of"],
            option=name_sources("--as-of"),
        )
        if by_segment
        else None
    )
    if note:
        reporter.warn(note)
    asg_frame = None
    if assignments is not None:
        asg_table = read_table(assignments)
        check_table_kind(
            asg_table.frame.collect_schema().names(),
            asg_table.stage,
            "assignments",
            source=c.table_name("--assignments", assignments),
            hint="give --assignments the table that segchain network -o writes",
        )
        asg_frame = collect(asg_table.frame, name="assignments")

    # The stage names SEGMENTS, --orders and --assignments without their files: added here.
    tables: dict[str, str | list[str] | None] = {
        "SEGMENTS": segments,
        "--orders": orders,
        "--assignments": assignments,
    }
    reporter.name_tables(tables)
    with (
        c.tables_named(tables),
        Work("forecast", "forecasting", unit="series", quiet=quiet) as work,
    ):
        result = run_forecast(
            clean, seg_frame, assignments=asg_frame, progress=work.update, **params
        )

    for warning in result.warnings:
        # The stage names --as-of, --by, ...: a value from the config is named by its key.
        reporter.warn(name_sources(warning))
    if result.summary.height:
        cols = ["unique_id", "series", "wape", "baseline_wape", "mase", "mase_of"]
        cols += ["baseline_mase", "bias"]
        reporter.table(
            c.frame_table(
                result.summary.select([k for k in cols if k in result.summary.columns]),
                title="backtest (held-out windows; baseline = seasonal naive or naive)",
            )
        )
    if result.comparison.height:
        reporter.table(c.frame_table(result.comparison, title="segment forecasts summed vs direct"))
    if result.reconciliation:
        reporter.info(f"segment forecasts reconciled with the sku's: {result.reconciliation}")
    _report_held_out(result, params, reporter)
    inputs = {"orders": recon.read, "segments": seg_frame.height}
    if per_customer:
        inputs["customers_rejected"] = len(loaded.all_rejected)
    if asg_frame is not None:
        inputs["assignments"] = asg_frame.height
    held = {META_HELD_OUT: result.held_out.as_metadata()} if result.held_out else {}
    from segchain.routing import assignments_fingerprint, segments_fingerprint

    # The report, given segments of another run beside this forecast, drew their history as the
    # one this forecast read, without a word (audit R1): it compares them with this.
    routed: dict = {META_SEGMENTED_BY: segments_fingerprint(seg_frame)}
    if asg_frame is not None:
        # stock, given the --assignments of another network run, routed the history by them
        # without a word: it compares them with this.
        routed[META_ROUTED_BY] = assignments_fingerprint(asg_frame)
    if backtest:
        c.write_output(
            result.backtest,
            backtest,
            fmt=None,
            metadata=provenance(
                "backtest",
                params=params,
                inputs=inputs,
                excluded=result.excluded,
                reconciliation=result.reconciliation,
                fallbacks=result.fallbacks,
                **held,
                **routed,
            ),
            reporter=reporter,
            what="backtest rows",
        )
    metadata = provenance(
        "forecast",
        params=params,
        inputs=inputs,
        netted=result.netted,
        excluded=result.excluded,
        reconciliation=result.reconciliation,
        fallbacks=result.fallbacks,
        **held,
        **routed,
    )
    c.write_output(
        result.forecast,
        output,
        fmt=format,
        metadata=metadata,
        reporter=reporter,
        what="forecast rows",
    )


def _report_held_out(result, params: dict, reporter) -> None:
    """The forecast scored on the whole periods the orders hold after --as-of, against the
    simple baselines, as a table and one line (the project's own protocol, on this export)."""
    import polars as pl

    from segchain.config import name_sources
    from segchain.forecast.series import PERIODS
    from segchain.formatting import plural

    scored = result.held_out
    if scored is None:
        if result.excluded.get("after_as_of"):
            reporter.info(
                name_sources(
                    "the order lines after --as-of cover no whole period of the forecast: "
                    "nothing held out to score"
                )
            )
        return
    word, words = PERIODS.get(str(params["freq"]), ("day", "days"))
    table = scored.scores.select("approach", "wape", pl.col("bias").alias("sum / demand"))
    level = ",".join(scored.level)
    reporter.table(
        c.frame_table(
            table,
            title=name_sources(
                f"held out: the {scored.periods} whole "
                f"{word if scored.periods == 1 else words} from {scored.start} (the lines on or "
                f"after --as-of), {scored.series:,} {level} series, demand {scored.demand:,.0f}"
                + (
                    f" ({scored.unsegmented:,.0f} of it of customers in no segment of SEGMENTS, "
                    "first seen on or after --as-of)"
                    if scored.unsegmented
                    else ""
                )
                + (
                    f"; {scored.unrouted:,.0f} units of "
                    f"{plural(scored.unrouted_customers, 'customer')} with no serving site in "
                    "--assignments not scored (no site's series holds them)"
                    if scored.unrouted
                    else ""
                )
            ),
        )
    )
    if not scored.demand:
        # Every score is over the demand: with none (a shutdown week, a day of returns only)
        # no approach is better than another, and the ratios were printed as 'nan'.
        reporter.info(
            f"held out at {level} level: no demand in the {word if scored.periods == 1 else words} "
            "held out, so nothing to score (a WAPE is the error over the demand); pick an "
            f"{name_sources('--as-of')} whose following periods hold sales"
        )
        return
    name, _ = scored.best_baseline
    new = (
        f"; {scored.unscored:,} {level} series first sold after --as-of not scored"
        if scored.unscored
        else ""
    )
    direct = (
        f"; segments summed / {scored.direct_name} = {scored.vs_direct:.3f}"
        if scored.vs_direct is not None
        else ""
    )
    ratio = scored.ratio
    against = (
        f"forecast WAPE / best baseline's ({name}) = {ratio:.3f}"
        if ratio is not None
        # Steady demand that a naive forecast repeats exactly: no ratio to a WAPE of 0.
        else f"the {name} forecast every period exactly (WAPE 0), so no ratio; the "
        f"forecast's WAPE is {scored.wape:.3f}"
    )
    reporter.info(name_sources(f"held out at {level} level: {against}{direct}{new}"))


def _keys(by: object) -> list[str]:
    """The series key columns of a --by value."""
    return [b.strip() for b in str(by).split(",") if b.strip()]


# A forecast further out than this is no plan: bound the horizon by what it spans.
MAX_HORIZON_DAYS = 3660


def _check_horizon(horizon: int, freq: str) -> None:
    from segchain.schema import PERIOD_DAYS

    days = PERIOD_DAYS.get(str(freq).upper(), 1.0)
    limit = int(MAX_HORIZON_DAYS // days)
    if horizon > limit:
        from segchain.errors import UsageError

        raise UsageError(
            f"--horizon: at most {limit:,} periods of {freq} (ten years ahead), got {horizon:,}",
            hint="a forecast that far out is no basis for stock or capacity decisions",
        )
