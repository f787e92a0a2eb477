"""``segchain stock``: one inventory policy per stocking point, targets set by customer segments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from segchain.cli import common as c
from segchain.cli import stock_summary as summary
from segchain.cli.app import app
from segchain.cli.progress import Work
from segchain.errors import TableMessage, UsageError
from segchain.formatting import agree, plural

if TYPE_CHECKING:
    import polars as pl

    from segchain.config import Config
    from segchain.stock import StockResult
    from segchain.tableio import Table

ItemsOpt = Annotated[
    str | None,
    typer.Option(
        "--items",
        help="Item master: sku, unit_cost, order_cost, holding_rate (per year), lead_time_days, "
        "lead_time_sd_days, moq, pack_size. Missing items or values use defaults.",
    ),
    c.reads("--items"),
]
OnHandOpt = Annotated[
    str | None,
    typer.Option(
        "--on-hand",
        help="Stock on hand: sku, on_hand (site, on_order, backorders optional); adds on_hand, "
        "inventory_position, order_now and no_demand (an on-hand point the forecast gives no "
        "demand, a row of its own where it has none: only backorders ordered, stock to move or "
        "clear).",
    ),
    c.reads("--on-hand"),
]
OrdersOpt = Annotated[
    str | None,
    typer.Option(
        "--orders",
        help="Order lines (validate's output or an export): each stocking point's demand "
        "history, for the bootstrap of slow and lumpy points whose fitted level exceeds what "
        "their history shows, and mean selling prices as unit costs for items without one.",
        metavar="FILE",
    ),
    c.reads("--orders", folders=True),
]
AssignmentsOpt = Annotated[
    str | None,
    typer.Option(
        "--assignments",
        help="network's assignments (those given to `forecast --assignments`): route the "
        "--orders history to the site(s) serving each customer, as forecast routes it, so that "
        "each site's points are planned from the demand routed there, not from the orders' own "
        "site. Needs --orders and a forecast by site.",
        metavar="FILE",
    ),
    c.reads("--assignments"),
]
SegmentsOpt = Annotated[
    str | None,
    typer.Option(
        "--segments",
        help="segment's output (the SEGMENTS given to forecast): the segment of each --orders "
        "line. When --orders holds lines on or after the forecast's first period covering "
        "whole periods of it (a forecast made --as-of), the plan is replayed on them per "
        "segment, beside the --compare-uniform plan. Needs --orders.",
        metavar="FILE",
    ),
    c.reads("--segments"),
]
ServiceLevelOpt = Annotated[
    float | None,
    typer.Option(
        "--service-level",
        help="Target for segments without one in the config; 95 means 95 % (default: 0.95).",
        metavar="LEVEL",
        envvar="SEGCHAIN_SERVICE_LEVEL",
    ),
]
ServiceMeasureOpt = Annotated[
    str | None,
    typer.Option(
        "--service-measure",
        help="csl (cycle service level) or fill-rate, for segments without one (default: "
        "fill-rate).",
        metavar="csl|fill-rate",
        envvar="SEGCHAIN_SERVICE_MEASURE",
    ),
]
ReviewDaysOpt = Annotated[
    float | None,
    typer.Option(
        "--review-days",
        help="Days between two reviews, for both policies; given without --policy it means "
        "(R, S), as before --policy existed (default: 1, a nightly MRP run).",
        metavar="DAYS",
    ),
]
PolicyOpt = Annotated[
    str | None,
    typer.Option(
        "--policy",
        help="sQ: reorder point s and order quantity Q (EOQ), the position looked at every "
        "--review-days; RS: order up to S every --review-days (default: sQ, or RS when "
        "--review-days is given).",
        metavar="sQ|RS",
    ),
]
LeadTimeOpt = Annotated[
    float | None,
    typer.Option(
        "--lead-time-days",
        help="Lead time for items without one in --items (default: 14).",
        metavar="DAYS",
    ),
]
BlendOpt = Annotated[
    str | None,
    typer.Option(
        "--blend",
        help="How a SKU's target comes from its segments: weighted by demand, or max "
        "(default: weighted).",
        metavar="weighted|max",
    ),
]
CompareOpt = Annotated[
    str | None,
    typer.Option(
        "--compare-uniform",
        help="Also compute the policies with this one target (e.g. 0.95; 'equal': the "
        "demand-weighted mean of the segment targets; 'keep': the highest segment target, so "
        "that it keeps every promise) and print, per segment and overall, inventory value and "
        "expected service of both (and, when rationed, of the same targets served first come, "
        "first served).",
        metavar="X|equal|keep",
    ),
]
RationingOpt = Annotated[
    str | None,
    typer.Option(
        "--rationing",
        help="critical-level: where a stocking point's segments are promised different "
        "service, serve them by priority, holding stock back from lower-priority segments below "
        "their reserve level; none: first come, first served (default: critical-level).",
        metavar="critical-level|none",
    ),
]
SegmentsOutOpt = Annotated[
    str | None,
    typer.Option(
        "--segments-out",
        help="Also write the per-segment table: one row per SKU (x site) x segment with sku, "
        "(site), segment, priority, service_measure, service_level, reserve_level, "
        "expected_fill_rate, expected_csl, demand_share, inventory_share, avg_inventory, "
        "inventory_value (and available_to_promise with --on-hand).",
        metavar="FILE",
    ),
    c.writes("--segments-out"),
]
SimulateOpt = Annotated[
    int | None,
    typer.Option(
        "--simulate",
        help="Replay every policy for N forecast periods against demand drawn from its "
        "distribution and print achieved fill rate and CSL next to the targets.",
        metavar="N",
    ),
]

NJobsOpt = Annotated[
    int | None,
    typer.Option(
        "--n-jobs",
        help="Processes for the rationing search, -1 for all cores "
        "(default: -1). The plans are the same whatever the number.",
        metavar="N",
    ),
]


@app.command("stock")
@c.handle_errors
def stock_command(
    forecast: c.Input = "-",
    output: c.Output = "-",
    items: ItemsOpt = None,
    on_hand: OnHandOpt = None,
    orders: OrdersOpt = None,
    assignments: AssignmentsOpt = None,
    segments: SegmentsOpt = None,
    map: c.Map = None,
    preset: c.Preset = None,
    date_format: c.DateFormat = None,
    sheet: c.Sheet = None,
    returns: c.ReturnsOpt = None,
    service_level: ServiceLevelOpt = None,
    service_measure: ServiceMeasureOpt = None,
    policy_type: PolicyOpt = None,
    review_days: ReviewDaysOpt = None,
    lead_time_days: LeadTimeOpt = None,
    blend: BlendOpt = None,
    compare_uniform: CompareOpt = None,
    rationing: RationingOpt = None,
    segments_out: SegmentsOutOpt = None,
    simulate: SimulateOpt = None,
    n_jobs: NJobsOpt = None,
    config: c.ConfigFile = None,
    format: c.Format = None,
    csv_safe: c.CsvSafe = False,
    seed: c.Seed = None,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
) -> None:
    """Inventory policies (safety stock, reorder point, order quantity) per SKU (x site).

    Each SKU's service target comes from the segments that buy it (the service_level of each
    segment's table in segchain.toml, demand-weighted). Writes sku (site), segment, service_target,
    service_measure, lead_time_days, review_days, mean_demand, sd_demand_lt, safety_stock,
    reorder_point, order_qty, order_up_to, expected_fill_rate, expected_csl, avg_inventory,
    inventory_value (and on_hand, inventory_position, order_now with --on-hand).

    Example:

        segchain stock forecast.parquet --items items.csv --on-hand on_hand.csv \\
          --compare-uniform 0.95 -o policy.parquet
    """

    from segchain.config import (
        check_service_level,
        check_service_measure,
        policy_table,
        setting,
    )
    from segchain.schema import (
        ITEM_MASTER,
        ITEM_MASTER_HINT,
        ON_HAND,
        ON_HAND_HINT,
        check_table_kind,
    )
    from segchain.stock import stock as run_stock
    from segchain.stock.stage import NOT_BY_SITE
    from segchain.tableio import collect, provenance, read_table

    reporter = c.Reporter(quiet=quiet, verbose=verbose)
    cfg = c.load_config(config, reporter)
    # Options resolved once (command line, environment, config, default): the same params are
    # passed to the stage and recorded in the provenance.
    params = {
        "service_level": setting(service_level, cfg, "stock", "service_level", None),
        "service_measure": setting(service_measure, cfg, "stock", "service_measure", None),
        "policy_type": setting(policy_type, cfg, "stock", "policy", None),
        "review_days": setting(review_days, cfg, "stock", "review_days", None),
        "lead_time_days": setting(lead_time_days, cfg, "stock", "lead_time_days", None),
        "blend": setting(blend, cfg, "stock", "blend", "weighted"),
        "compare_uniform": setting(compare_uniform, cfg, "stock", "compare_uniform", None),
        "rationing": setting(rationing, cfg, "stock", "rationing", "critical-level"),
        "seed": setting(seed, cfg, "stock", "seed", 0),
    }
    seed_value = params["seed"]
    simulate = setting(simulate, cfg, "stock", "simulate", None)
    # Not in params: the plans do not depend on it, so the provenance does not either.
    processes = setting(n_jobs, cfg, "stock", "n_jobs", -1)
    _refuse_misused_options(
        forecast=forecast,
        items=items,
        on_hand=on_hand,
        orders=orders,
        assignments=assignments,
        segments=segments,
        sheet=sheet,
        map=map,
        preset=preset,
        date_format=date_format,
        returns=returns,
        cfg=cfg,
    )

    given = {
        "FORECAST": forecast,
        "--items": items,
        "--on-hand": on_hand,
        "--orders": orders,
        "--assignments": assignments,
        "--segments": segments,
    }
    reporter.name_tables(given)
    fc_table = read_table(forecast)
    # Another stage's output (the policy, segments, an order export) was refused only by its
    # missing columns, as 'forecast: missing required columns ...', naming neither the file nor
    # what it holds, as the other commands name their input.
    check_table_kind(
        fc_table.frame.collect_schema().names(),
        fc_table.stage,
        "forecast",
        source=c.table_name("FORECAST", forecast),
        hint="give forecast's output (or a table of sku, ds, forecast, error_sd) as FORECAST",
    )
    fc = collect(fc_table.frame)
    if assignments is not None and "site" not in fc.columns:
        raise UsageError(NOT_BY_SITE)
    _warn_history_routing(fc_table, orders=orders, assignments=assignments, reporter=reporter)
    item_frame = _side_table(items, "--items", ITEM_MASTER, hint=ITEM_MASTER_HINT)
    on_hand_frame = _side_table(on_hand, "--on-hand", ON_HAND, hint=ON_HAND_HINT)
    order_frame = None
    loaded = None
    if orders is not None:
        opts = c.OrderOptions(
            map=map, preset=preset, date_format=date_format, returns=returns, sheet=sheet
        )
        loaded = c.load_orders(orders, opts, config=cfg, reporter=reporter, option="--orders")
        # With --segments the history's demand is each segment's customers' (the replay's
        # service per segment): one whose every line was rejected is in none, and is said.
        # Without, the history is per sku (and site): a lost customer's lines are all it lost.
        (order_frame,), _ = loaded.collect(loaded.clean, customers=segments is not None)
        loaded.say_all_rejected(
            "{customers} whose every line was rejected {verb} no demand in the history"
        )
    asg_frame = (
        collect(read_table(assignments).frame, name="assignments")
        if assignments is not None
        else None
    )
    seg_frame, seg_meta = _segments_table(segments)
    c.warn_unmatched_policies(cfg, fc, reporter)
    # The stage names FORECAST and the tables of its options without their files: added here.
    with (
        c.tables_named(given),
        Work("stock", "planning", unit="stocking points", quiet=quiet) as work,
    ):
        result = run_stock(
            fc,
            items=item_frame,
            on_hand=on_hand_frame,
            orders=order_frame,
            assignments=asg_frame,
            segments=seg_frame,
            # --service-level / --service-measure (or their variables) win over the config's
            # [segments."*"] default: with the demo's config, 0.5, 0.999 and csl all wrote the
            # same bytes, the options read for nothing.
            policies=policy_table(cfg).over_default(
                service_level=None if service_level is None else check_service_level(service_level),
                service_measure=None
                if service_measure is None
                else check_service_measure(service_measure),
            ),
            freq=(fc_table.metadata.get("params") or {}).get("freq")
            if fc_table.stage == "forecast"
            else None,
            # The history is cleansed as the forecast read it: its --outliers, as it records it.
            outliers=(fc_table.metadata.get("params") or {}).get("outliers")
            if fc_table.stage == "forecast"
            else None,
            routed_by=_routed_by(fc_table),
            n_jobs=processes,
            progress=work.update,
            **params,
        )
    policy = result.policy
    summary.report_plan(
        result, items=items, lead_time_days=params["lead_time_days"], reporter=reporter
    )
    summary.report_comparison(result, reporter)
    if result.held_out is not None and order_frame is not None:
        # Segments made from the lines the replay holds out (segment run on the whole export,
        # the forecast --as-of an earlier day): said, as forecast says it of its own check.
        note = c.segments_as_of_note(
            seg_meta,
            order_frame,
            c.table_name("--segments", segments),
            as_of=result.held_out.start,
            option="the forecast's first period",
            holder="the replay",
        )
        if note:
            reporter.warn(note)
    summary.report_held_out(result, reporter=reporter)
    if simulate is not None:
        _simulate(result, periods=simulate, seed=seed_value, quiet=quiet, reporter=reporter)
    inputs = {"forecast": fc.height, "stocking_points": policy.height}
    if asg_frame is not None:
        inputs["assignments"] = asg_frame.height
    if loaded is not None and segments is not None:
        inputs["customers_rejected"] = len(loaded.all_rejected)
    recorded = {
        **params,
        "period_days": result.period_days,
        "items": items,
        "on_hand": on_hand,
        "orders": orders,
        "assignments": assignments,
        "segments": segments,
    }
    if segments_out is not None and result.segments is not None:
        c.write_output(
            result.segments,
            segments_out,
            fmt=None,
            metadata=provenance("stock_segments", params=recorded, inputs=inputs),
            reporter=reporter,
            what="stocking point x segment rows",
        )
    c.write_output(
        policy,
        output,
        fmt=format,
        metadata=provenance(
            "policy",
            params=recorded,
            inputs=inputs,
            **result.metadata(),
        ),
        reporter=reporter,
        what="stocking points",
    )


def _refuse_misused_options(
    *,
    forecast: str,
    items: str | None,
    on_hand: str | None,
    orders: str | None,
    assignments: str | None,
    segments: str | None,
    sheet: str | None,
    map: list[str] | None,
    preset: str | None,
    date_format: str | None,
    returns: str | None,
    cfg: Config,
) -> None:
    """Usage errors (exit 2) before any input is read: more than one input from stdin, and the
    options that only mean something with --orders given without it."""
    from segchain.config import name_sources, setting

    if sum(x == "-" for x in (forecast, items, on_hand, orders, assignments, segments)) > 1:
        raise UsageError(
            "only one of FORECAST, --items, --on-hand, --orders, --assignments and --segments "
            "can be '-' (stdin)"
        )
    if assignments is not None and orders is None:
        raise UsageError(
            "--assignments routes the --orders history to the network's sites: give --orders too",
            hint="e.g. --orders orders.parquet --assignments assignments.parquet",
        )
    if segments is not None and orders is None:
        from segchain.stock.stage import SEGMENTS_WITHOUT_ORDERS

        raise UsageError(
            SEGMENTS_WITHOUT_ORDERS, hint="e.g. --orders orders.parquet --segments seg.parquet"
        )
    if orders is not None:
        # --sheet for a CSV or Parquet --orders is refused before any input is read.
        c.order_sheet(sheet, cfg, [orders])
    elif sheet is not None:
        setting(sheet, cfg, "orders", "sheet", None)  # checked, and where it came from noted
        if name_sources("--sheet") == "--sheet":
            raise UsageError(
                f"--sheet {sheet!r} chooses the sheet of the --orders workbook: give --orders too",
                hint="e.g. --orders export.xlsx --sheet Orders",
            )
    if orders is None and map:
        raise UsageError(
            "--map maps the headers of the --orders export: give --orders too",
            hint="e.g. --orders export.csv --map customer_id=KUNNR",
        )
    # Read for nothing without --orders, as --map would be; from the environment (or the
    # config) they are standing settings for the runs that read orders.
    for option, value, env, does, example in (
        ("--preset", preset, "SEGCHAIN_PRESET", "names the columns of", "--preset sap"),
        (
            "--date-format",
            date_format,
            "SEGCHAIN_DATE_FORMAT",
            "reads the dates of",
            "--date-format day-first",
        ),
        (
            "--returns",
            returns,
            "SEGCHAIN_RETURNS",
            "says what becomes of the returns in",
            "--returns drop",
        ),
    ):
        if orders is None and value is not None and not c.from_env(value, env):
            raise UsageError(
                f"{option} {does} the --orders export: give --orders too",
                hint=f"e.g. --orders export.csv {example}",
            )


def _simulate(
    result: StockResult, *, periods: int, seed: int, quiet: bool, reporter: c.Reporter
) -> None:
    """``--simulate``: the plan replayed on demand drawn from its own forecast (a bootstrapped
    point: from its history's bootstrap), per point (and per segment when the forecast has
    segments), summed up on stderr."""
    import polars as pl

    from segchain.stock import simulate as run_simulate
    from segchain.stock import simulate_segments

    policy = result.policy
    with Work("stock", f"simulating {plural(periods, 'period')}", quiet=quiet):
        # Points without forecast demand (on-hand stock nobody buys, a sku forecast 0) have
        # no service to replay: each would add a point 'meeting' its target at 100 %.
        from segchain.stock.sim import with_demand

        demand = policy.filter(with_demand(policy))
        sim = run_simulate(
            demand, periods=periods, seed=seed, history=result.history, keys=result.keys
        )
    idle = policy.height - demand.height
    if not demand.height:
        # Without a point to replay, the tables below came with their headers alone, under
        # 'replay of N periods', as if a replay had measured something.
        reporter.info(
            f"--simulate: no stocking point has forecast demand (of {plural(idle, 'point')} "
            "planned): nothing to replay, service is undefined without demand"
        )
        return
    if idle:
        reporter.info(
            f"{plural(idle, 'stocking point')} without forecast demand "
            f"{agree(idle, 'is', 'are')} left out of the replay: service is undefined "
            "without demand"
        )
    unmeasured = sim.filter(pl.col("target_met").is_null()).height
    if unmeasured:
        reporter.info(
            f"{plural(unmeasured, 'stocking point')} drew no demand (or no order arrived) "
            f"in the replay of {plural(periods, 'period')}: no achieved service there, "
            "left out of its means and of met"
        )
    reporter.table(
        c.frame_table(
            summary.simulation_summary(sim), title=f"replay of {plural(periods, 'period')}"
        )
    )
    if result.segments is not None:
        per_seg = simulate_segments(result, periods=periods, seed=seed)
        reporter.table(
            c.frame_table(
                summary.segment_summary(per_seg, result.ranks),
                title=f"achieved service per segment, replay of {plural(periods, 'period')}",
            )
        )


def _segments_table(path: str | None) -> tuple[pl.DataFrame | None, dict]:
    """``--segments`` read and checked as forecast checks its SEGMENTS (the right table, one
    row per customer), with its metadata."""
    if path is None:
        return None, {}
    from segchain.schema import (
        check_customer_ids,
        check_one_row_per_customer,
        check_segment_cells,
        check_table_kind,
    )
    from segchain.tableio import collect, read_table

    table = read_table(path)
    name = c.table_name("--segments", path)
    check_table_kind(
        table.frame.collect_schema().names(),
        table.stage,
        "segments",
        source=name,
        hint="give segment's output (or a table of customer_id, segment) as --segments",
    )
    frame = collect(table.frame, name="segments")
    check_customer_ids(frame, source=name)
    # A blank segment read as a customer in no segment (one first seen after the segments).
    check_segment_cells(frame, source=name)
    check_one_row_per_customer(frame, source=name)
    return frame, table.metadata


def _warn_history_routing(
    fc_table: Table, *, orders: str | None, assignments: str | None, reporter: c.Reporter
) -> None:
    """One line on stderr where the --orders history and the forecast's sites disagree.

    A forecast routed through network's assignments (its metadata counts them) has the network's
    sites; the orders' own ``site`` is where lines shipped from in the past. Read without
    --assignments, each point's history is that of the old shipments, whose site names may well
    be network sites too (nothing looks wrong). Not an error: orders whose site already is the
    network's are fine. The other way round, a forecast made by the orders' own sites and a
    history routed to the network's does not match either.
    """

    if orders is None or fc_table.stage != "forecast":
        return
    routed = (fc_table.metadata.get("inputs") or {}).get("assignments")
    if routed is not None and assignments is None:
        reporter.warn(
            TableMessage(
                "{FORECAST} was routed through network assignments "
                f"({plural(int(routed), 'row')}) "
                "but {--orders} is read by its own site column (where lines shipped from): each "
                "site's history may be another site's shipments; pass --assignments FILE (the "
                "assignments given to forecast) to route it the same way",
                {"FORECAST": "the forecast", "--orders": "--orders"},
            )
        )
    elif routed is None and assignments is not None:
        reporter.warn(
            TableMessage(
                "{FORECAST} was not routed through assignments (its sites are the orders' own): "
                "{--assignments} routes the {--orders} history to other sites than the "
                "forecast's; leave --assignments out, or make the forecast with `segchain "
                "forecast --assignments`",
                {
                    "FORECAST": "the forecast",
                    "--assignments": "--assignments",
                    "--orders": "--orders",
                },
            )
        )


def _routed_by(fc_table: Table) -> dict | None:
    """What the forecast records of the assignments it was routed by: their fingerprint; for a
    forecast of a segchain before it, the row count its inputs give them (enough for the sites
    they serve to be checked); None when it records neither (a CSV, a forecast not routed)."""
    from segchain.schema import META_INPUTS, META_ROUTED_BY

    if fc_table.stage != "forecast":
        return None
    recorded = fc_table.metadata.get(META_ROUTED_BY)
    if isinstance(recorded, dict):
        return recorded
    rows = (fc_table.metadata.get(META_INPUTS) or {}).get("assignments")
    return None if rows is None else {"rows": rows}


def _side_table(path: str | None, option: str, what: str, *, hint: str) -> pl.DataFrame | None:
    """``--items`` or ``--on-hand`` read, refused when it is an order export or a stage's
    output (an export's quantities were taken for stock on hand)."""
    if path is None:
        return None
    from segchain.schema import check_not_a_stage_table
    from segchain.tableio import collect, read_table

    table = read_table(path)
    columns = table.frame.collect_schema().names()
    check_not_a_stage_table(
        columns, table.stage, what, source=c.table_name(option, path), hint=hint
    )
    return collect(table.frame)
