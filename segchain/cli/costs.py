"""``segchain costs``: cost to serve and profit per segment (or customer), every figure sourced."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from segchain.cli import common as c
from segchain.cli.app import app
from segchain.errors import UsageError
from segchain.formatting import plural

if TYPE_CHECKING:
    import polars as pl

OrdersOpt = Annotated[
    list[str],
    typer.Option(
        "--orders",
        help="Order lines (ERP export or validate's output): a file, a quoted glob or a "
        "folder (CSV, CSV.gz, Parquet), repeatable, read as one table; '-' reads stdin.",
    ),
    c.reads("--orders", folders=True),
]
PolicyOpt = Annotated[
    str | None,
    typer.Option("--policy", help="stock's policy: inventory value per stocking point."),
    c.reads("--policy"),
]
StockSegmentsOpt = Annotated[
    str | None,
    typer.Option(
        "--stock-segments",
        help="stock's per-segment table (stock --segments-out): splits the policy's inventory "
        "by segment. Without it: by forecast demand (--forecast), else by units bought.",
    ),
    c.reads("--stock-segments"),
]
ForecastOpt = Annotated[
    str | None,
    typer.Option(
        "--forecast", help="forecast's table, to split inventory by each segment's forecast."
    ),
    c.reads("--forecast"),
]
AssignmentsOpt = Annotated[
    str | None,
    typer.Option("--assignments", help="network's assignments: transport cost per customer."),
    c.reads("--assignments"),
]
SitesOpt = Annotated[
    str | None,
    typer.Option(
        "--sites",
        help="network's --sites-out (open, fixed_cost: over the orders' "
        "period_days, not a year): fixed cost by demand served.",
    ),
    c.reads("--sites"),
]
ItemsOpt = Annotated[
    str | None,
    typer.Option("--items", help="Item master: unit_cost (cost of goods), holding_rate."),
    c.reads("--items"),
]
ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="One row per segment or per customer (default: segment).",
        metavar="segment|customer",
    ),
]


@app.command("costs")
@c.handle_errors
def costs_command(
    segments: c.Input = "-",
    orders: OrdersOpt = ...,  # type: ignore[assignment]
    output: c.Output = "-",
    policy: PolicyOpt = None,
    stock_segments: StockSegmentsOpt = None,
    forecast: ForecastOpt = None,
    assignments: AssignmentsOpt = None,
    sites: SitesOpt = None,
    items: ItemsOpt = None,
    by: ByOpt = None,
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
) -> None:
    """Cost to serve and profit per segment (or --by customer), over the order history's span.

    Revenue and cost of goods from the orders and items; order and returns handling from
    [costs] in the config (cost_per_order, cost_per_line, cost_per_return, holding_rate);
    transport from network's assignments; each open site's fixed cost shared by demand served;
    inventory carrying from stock's policy (value x holding rate x period_days / 365.25). A
    cost with no input is left empty, not zero. Per segment also what its delivery promise
    (network against the plan without promises) and its service target (stock against the
    uniform plan) cost. stderr reconciles every total with its source table; --verbose adds
    each column's source.

    Example:

        segchain costs segments.parquet --orders orders.parquet \\
          --policy policy.parquet --assignments assignments.parquet \\
          --sites sites.csv --items items.csv --config segchain.toml -o costs.csv
    """
    from segchain.costs import costs as run_costs
    from segchain.costs import parse_rates
    from segchain.schema import (
        ITEM_MASTER,
        ITEM_MASTER_HINT,
        META_FIXED_COST_PERIOD,
        META_INVENTORY_BY_SEGMENT,
        META_PLANNED_UNITS,
        check_not_a_stage_table,
        check_one_row_per_customer,
        check_table_kind,
    )
    from segchain.tableio import collect, provenance, read_table

    reporter = c.Reporter(quiet=quiet, verbose=verbose)
    cfg = c.load_config(config, reporter)
    by_value = "segment" if by is None else by  # --by '' (an unset variable) is refused
    if by_value not in ("segment", "customer"):
        raise UsageError(f"--by must be segment or customer, got {by_value!r}")
    where = f"{cfg.path or 'config'} [costs]"
    rates = parse_rates(cfg.sections.get("costs"), where=where)
    files = {
        "SEGMENTS": segments,
        "--orders": "-" if "-" in orders else None,
        "--policy": policy,
        "--stock-segments": stock_segments,
        "--forecast": forecast,
        "--assignments": assignments,
        "--sites": sites,
        "--items": items,
    }
    if sum(v == "-" for v in files.values()) > 1 or orders.count("-") > 1:
        named = ", ".join(k for k, v in files.items() if v == "-")
        raise UsageError(f"only one input can be '-' (stdin); got {named}")
    if sites is not None and assignments is None:
        raise UsageError(
            "--sites shares the open sites' fixed_cost over the demand each serves in "
            "--assignments: without --assignments it would be read for nothing",
            hint="give network's assignments with --assignments, or leave --sites out",
        )
    for option in ("--stock-segments", "--forecast"):
        if files[option] is not None and policy is None:
            raise UsageError(
                f"{option} splits the --policy's inventory value by segment: without --policy "
                "it would be read for nothing",
                hint="give stock's policy with --policy, or leave " + option + " out",
            )

    seg_table = read_table(segments)
    check_table_kind(
        seg_table.frame.collect_schema().names(),
        seg_table.stage,
        "segments",
        source=c.table_name("SEGMENTS", segments),
        hint="give segment's output as SEGMENTS",
    )
    seg_frame = collect(seg_table.frame)
    check_one_row_per_customer(seg_frame, source=c.table_name("SEGMENTS", segments))
    opts = c.OrderOptions(
        map=map, preset=preset, date_format=date_format, returns=returns, sheet=sheet
    )
    loaded = c.load_orders(orders, opts, config=cfg, reporter=reporter, option="--orders")

    def optional(path: str | None) -> Any:
        return read_table(path) if path is not None else None

    pol_t, seg_stock_t, fc_t = optional(policy), optional(stock_segments), optional(forecast)
    asg_t, sites_t, items_t = optional(assignments), optional(sites), optional(items)
    for option, path, table, kind, maker in (
        ("--policy", policy, pol_t, "policy", "segchain stock -o"),
        (
            "--stock-segments",
            stock_segments,
            seg_stock_t,
            "stock_segments",
            "segchain stock --segments-out",
        ),
        ("--forecast", forecast, fc_t, "forecast", "segchain forecast -o"),
        ("--assignments", assignments, asg_t, "assignments", "segchain network -o"),
        ("--sites", sites, sites_t, "sites", "segchain network --sites-out"),
    ):
        if table is not None:
            check_table_kind(
                table.frame.collect_schema().names(),
                table.stage,
                kind,
                source=c.table_name(option, path),
                hint=f"give {option} the table that {maker} writes",
            )

    if items_t is not None:
        check_not_a_stage_table(
            items_t.frame.collect_schema().names(),
            items_t.stage,
            ITEM_MASTER,
            source=c.table_name("--items", items),
            hint=ITEM_MASTER_HINT,
        )

    def frame(t: Any) -> Any:
        return collect(t.frame) if t is not None else None

    def in_the_pass(queries: Sequence[pl.LazyFrame]) -> list[pl.DataFrame]:
        # The figures are per customer and segment: a customer whose every line was rejected
        # has no sale in them (counted in the same pass), and is said under the reconciliation.
        frames, _ = loaded.collect(*queries, customers=True)
        loaded.say_all_rejected(
            "{customers} whose every line was rejected {verb} no revenue or orders in the costs"
        )
        return frames

    # The stage names each table by its option or argument alone: the file is added here.
    by_option: dict[str, str | list[str] | None] = {**files, "--orders": orders}  # all its files
    reporter.name_tables(by_option)
    with c.tables_named(by_option):
        result = run_costs(
            loaded.clean,
            seg_frame,
            rates=rates,
            policy=frame(pol_t),
            stock_segments=frame(seg_stock_t),
            forecast=frame(fc_t),
            assignments=frame(asg_t),
            sites=frame(sites_t),
            items=frame(items_t),
            network_promise=asg_t.metadata.get("promise") if asg_t is not None else None,
            network_totals=asg_t.metadata.get("totals") if asg_t is not None else None,
            network_fixed_cost_period=(
                asg_t.metadata.get(META_FIXED_COST_PERIOD) if asg_t is not None else None
            ),
            stock_comparison=pol_t.metadata.get("comparison") if pol_t is not None else None,
            stock_by_segment=(
                pol_t.metadata.get(META_INVENTORY_BY_SEGMENT) if pol_t is not None else None
            ),
            by=by_value,
            # The lines are reduced by queries, never held whole (10 M lines took 7.7 GB):
            # those read in the lines' own chunks run in the import's own pass.
            collect=in_the_pass,
        )
    for note in result.notes:
        reporter.info(note)
    for warning in result.warnings:
        reporter.warn(warning)
    _report(result, reporter, by_value)
    unpriced = _default_rate(result.table, (c.table_name("--assignments", assignments), asg_t))
    if unpriced is not None:
        reporter.warn(unpriced)
    if by_value == "segment":
        from segchain.schema import NO_DELIVERY_PROMISE_SOURCE

        # No promise set: nothing to cost, which the empty delivery_promise_* say (not a
        # comparison that failed to travel, which _empty_promises warns of).
        no_promise = result.sources.get("delivery_promise_cost") == NO_DELIVERY_PROMISE_SOURCE
        if no_promise:
            reporter.info(
                "delivery_promise_* are empty: no segment has a delivery promise "
                "(max_delivery_days in the config's [segments]), so there is none to cost"
            )
        estimate = _estimated_promises(
            result.table, (c.table_name("--assignments", assignments), asg_t)
        )
        if estimate is not None:
            reporter.warn(estimate)
        empty = _empty_promises(
            result.table,
            assignments=(c.table_name("--assignments", assignments), None if no_promise else asg_t),
            policy=(c.table_name("--policy", policy), pol_t),
        )
        if empty is not None:
            reporter.warn(empty)
    # Each input by its file, --orders by all of them: `files` holds it only as '-' (for the
    # one-stdin check), which left the provenance naming no orders file unless it was stdin.
    params = {
        "by": by_value,
        **{k.lstrip("-").replace("-", "_").lower(): v for k, v in by_option.items()},
        "rates": rates.as_dict(),
    }
    inputs = {
        "orders": result.order_lines,
        "segments": seg_frame.height,
        "customers_rejected": len(loaded.all_rejected),
    }
    c.write_output(
        result.table,
        output,
        fmt=format,
        metadata=provenance(
            "costs" if by_value == "segment" else "customer_costs",
            params=params,
            inputs=inputs,
            period_days=result.period_days,
            period=[result.first_date, result.last_date],
            sources=result.sources,
            reconciliation=[k.as_dict() for k in result.checks],
            # Said only when so: the report's cost section repeats it beside the profit.
            **({META_PLANNED_UNITS: result.planned_units} if result.planned_units else {}),
        ),
        reporter=reporter,
        what=f"{by_value} rows",
    )


def _default_rate(table: Any, assignments: tuple[str, Any]) -> str | None:
    """What to say when network priced the transport at its default rate, no freight rate
    given: costs adds it up as money into cost_to_serve (Online Retail as the README runs it:
    561,673,551 of transport on 8.3 million of revenue), which network said and the report
    says, but costs did not. None for a rate or lanes given, or assignments without metadata."""
    from segchain.formatting import MONEY, format_number
    from segchain.network.params import DEFAULT_COST_PER_UNIT_KM
    from segchain.schema import META_PARAMS, TRANSPORT_RATE_DEFAULT

    name, t = assignments
    if t is None:
        return None
    params = t.metadata.get(META_PARAMS) or {}
    if params.get("transport_rate") != TRANSPORT_RATE_DEFAULT:
        return None
    rate = params.get("cost_per_unit_km")
    rate = rate if isinstance(rate, int | float) else DEFAULT_COST_PER_UNIT_KM
    transport = float(table["transport"].sum())
    served = float(table["cost_to_serve"].sum())
    share = f", {transport / served:.0%} of cost_to_serve" if served > 0 else ""
    return (
        f"{name}: transport ({format_number(transport, MONEY)}{share}) is priced at network's "
        f"default rate of {rate:g} per unit of demand and km: no freight rate was given to "
        "network, so it is not your freight cost; rerun network with your rate "
        "(--cost-per-unit-km, or the config's [network] cost_per_unit_km) or lane costs "
        "(--costs), then costs"
    )


def _other_segments(assignments: Any, table: Any) -> str | None:
    """The segments network's promise table compares, shown, when none is one of the costs
    table's (network run on another segmentation: 'carries no comparison in its metadata'
    was said, and rerunning network as told did not help)."""
    promise = assignments.metadata.get("promise")
    if not isinstance(promise, list) or "segment" not in table.columns:
        return None
    theirs = sorted({str(row.get("segment")) for row in promise if isinstance(row, dict)})
    ours = {str(v) for v in table["segment"].to_list()}
    if not theirs or ours & set(theirs):
        return None
    return ", ".join(repr(v) for v in theirs[:4]) + (" ..." if len(theirs) > 4 else "")


def _estimated_promises(table: Any, assignments: tuple[str, Any]) -> str | None:
    """What to say when delivery_promise_* are filled from a network comparison that was cut
    short by a solver limit (an estimate, which costs gave as a cost without a word); None
    otherwise."""
    from segchain.formatting import solver_budget
    from segchain.schema import (
        META_PARAMS,
        META_TOTALS,
        PROMISE_COST_CUT_SHORT,
        promise_cost_status,
    )

    name, t = assignments
    if t is None or "delivery_promise_cost" not in table.columns:
        return None
    if table["delivery_promise_cost"].null_count() == table.height:
        return None
    totals = t.metadata.get(META_TOTALS)
    if promise_cost_status(totals) != PROMISE_COST_CUT_SHORT:
        return None
    params = t.metadata.get(META_PARAMS) or {}
    _, larger = solver_budget(params.get("time_limit"), params.get("node_limit"))
    cut = [
        f"its plan {which} promises at its {str(status).replace('_', ' ')}"
        + (f" (gap {gap:.4%})" if isinstance(gap, int | float) else "")
        for which, status, gap in (
            ("without", totals.get("baseline_status"), totals.get("baseline_mip_gap")),
            ("with", totals.get("status"), totals.get("mip_gap")),
        )
        if status != "optimal"
    ]
    stopped = f": network ({name}) stopped {' and '.join(cut)}" if cut else ""
    return (
        "delivery_promise_* are estimates, not proven: network's comparison with its plan "
        f"without promises was cut short by its solver limits{stopped}; rerun network with "
        f"{larger} for proven figures"
    )


def _empty_promises(
    table: Any, *, assignments: tuple[str, Any], policy: tuple[str, Any]
) -> str | None:
    """Why the promise columns are empty though their stage's table was given, and how to fill
    them, in one line; None when they are filled or their table was not given.

    The comparisons are plan-level figures per segment (network's plan without promises,
    stock's uniform plan) that only the Parquet metadata of the stage's output carries: a CSV
    has no room for them, and stock computes one only with --compare-uniform.
    """
    from segchain.schema import (
        BASELINE_UNFINISHED,
        META_PARAMS,
        META_TOTALS,
        PROMISE_COST_UNKNOWN,
        promise_cost_status,
    )

    whys, fixes = [], []
    for (name, t), column, run, out, what in (
        (
            assignments,
            "delivery_promise_cost",
            "network",
            "assignments.parquet",
            "network's comparison with its plan without promises",
        ),
        (
            policy,
            "service_promise_cost",
            "stock",
            "policy.parquet",
            "stock's comparison with its uniform plan",
        ),
    ):
        if t is None or column not in table.columns or table[column].null_count() < table.height:
            continue
        columns = column.removesuffix("_cost") + "_*"
        params = t.metadata.get(META_PARAMS) or {}
        unfinished = (t.metadata.get(META_TOTALS) or {}).get("baseline_status")
        without = run == "stock" and t.stage == "policy" and params.get("compare_uniform") is None
        if t.dialect.format != "parquet":
            whys.append(
                f"{columns} because {name} is {t.dialect.format.upper()}, and {what} travels "
                "only in the Parquet metadata of its output"
            )
            fixes.append(
                f"write {run}'s output as Parquet (-o {out})"
                + (", with --compare-uniform," if run == "stock" else "")
                + " and give that"
            )
        elif run == "network" and unfinished == BASELINE_UNFINISHED:
            from segchain.formatting import solver_budget

            within, larger = solver_budget(params.get("time_limit"), params.get("node_limit"))
            whys.append(
                f"{columns} because network ({name}) found no plan without promises "
                f"within {within} to compare with"
            )
            fixes.append(f"rerun network with {larger}")
        elif run == "network" and promise_cost_status(t.metadata.get(META_TOTALS)) == (
            PROMISE_COST_UNKNOWN
        ):
            from segchain.formatting import solver_budget

            _, larger = solver_budget(params.get("time_limit"), params.get("node_limit"))
            whys.append(
                f"{columns} because network ({name}) stopped its plan without promises at its "
                "solver limits, and that plan costs more than the plan with them: what the "
                "promises cost is unknown"
            )
            fixes.append(f"rerun network with {larger}")
        elif run == "network" and (compared := _other_segments(t, table)):
            whys.append(
                f"{columns} because {name} was planned on other segments than SEGMENTS (its "
                f"promise table compares {compared})"
            )
            fixes.append("rerun network on these segments and give its assignments")
        elif without:
            whys.append(f"{columns} because stock ({name}) ran without --compare-uniform")
            fixes.append("rerun stock with --compare-uniform equal (the same mean service) or keep")
        else:
            whys.append(f"{columns} because {name} carries no {what} in its metadata")
            fixes.append(f"give the table segchain {run} -o {out} writes")
    if not whys:
        return None
    return f"the promise columns are empty: {'; '.join(whys)}; to fill them, {'; '.join(fixes)}"


def _report(result: Any, reporter: c.Reporter, by: str) -> None:
    """The reconciliation (always), the segment table, and with --verbose each column's source."""
    # Dates that label periods (every 1 month, 7 days): the last one's period counts too.
    step = "" if result.period_step == "1 day" else f", dated every {result.period_step}"
    reporter.info(
        f"period: {result.first_date} to {result.last_date}{step} "
        f"({plural(result.period_days, 'day')})"
    )
    for check in result.checks:
        reporter.info(("reconciled " if check.ok else "NOT reconciled ") + check.line())
    if by == "segment":
        import polars as pl

        shown = result.table.select(
            "segment",
            "customers",
            "revenue",
            "gross_margin",
            "cost_to_serve",
            "profit",
            pl.col("profit_share").alias("share"),
            *[
                pl.col(col).alias(alias)
                for col, alias in (
                    ("delivery_promise_cost", "delivery_promise"),
                    ("service_promise_cost", "service_promise"),
                )
                if col in result.table.columns
            ],
        )
        reporter.table(c.frame_table(shown, title="cost to serve and profit by segment"))
    if reporter.verbose:
        from rich.markup import escape

        sources = result.sources_frame()
        sources = sources.with_columns(sources["source"].map_elements(escape, return_dtype=str))
        reporter.table(c.frame_table(sources, title="column sources"))
