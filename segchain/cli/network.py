"""``segchain network``: open sites, assign customers, keep each segment's delivery promise."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from segchain.cli import common as c
from segchain.cli import geocoding as g
from segchain.cli.app import app
from segchain.cli.progress import Work
from segchain.errors import UsageError
from segchain.formatting import count, plural

SitesOpt = Annotated[
    str | None,
    typer.Option(
        "--sites",
        help="Candidate sites: site_id, lat, lon, optional fixed_cost (see "
        "--fixed-cost-period) or annual_fixed_cost (a year's), capacity, existing (existing "
        "sites are always open).",
    ),
    c.reads("--sites"),
]
CandidatesOpt = Annotated[
    int | None,
    typer.Option(
        "--candidates",
        help="Instead of --sites, propose N greenfield sites by demand-weighted k-means of the "
        "customers.",
        metavar="N",
    ),
]
CostsOpt = Annotated[
    str | None,
    typer.Option(
        "--costs",
        help="Lane freight rates: site_id, customer_id, unit_cost (per unit of demand), optional "
        "distance_km. Pairs not listed are not allowed.",
    ),
    c.reads("--costs"),
]
OpenOpt = Annotated[
    int | None,
    typer.Option("--open", help="Open exactly K sites (p-median).", metavar="K"),
]
SplitOpt = Annotated[
    bool | None,
    typer.Option(
        "--allow-split/--single-source",
        help="Let a customer's demand be split over several sites, or not (default: "
        "--single-source).",
        show_default=False,
    ),
]
KmPerDayOpt = Annotated[
    float | None,
    typer.Option(
        "--km-per-day",
        help="Transit speed for delivery promises: transit days = km / this (default: 500).",
        metavar="KM",
        envvar="SEGCHAIN_KM_PER_DAY",
        rich_help_panel="Transport",
    ),
]
CostPerUnitKmOpt = Annotated[
    float | None,
    typer.Option(
        "--cost-per-unit-km",
        help="Transport cost per unit of demand per great-circle km, without --costs (default: 1).",
        metavar="COST",
        envvar="SEGCHAIN_COST_PER_UNIT_KM",
        rich_help_panel="Transport",
    ),
]
FixedCostPeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--fixed-cost-period",
        help="What the sites' fixed_cost is the cost of: orders (the span of the orders the "
        "demand comes from) or year (taken over that span: x its days / 365.25; segments' "
        "first_order, last_order give it) (default: orders).",
        metavar="orders|year",
        envvar="SEGCHAIN_FIXED_COST_PERIOD",
        # A panel of its own: in the main one, whose names column --allow-split/--single-source
        # widens, its env var was cut at 80 columns.
        rich_help_panel="Costs",
    ),
]
SitesOutOpt = Annotated[
    str | None,
    typer.Option(
        "--sites-out",
        help="Write the sites: site_id, city, lat, lon, existing, open, decision (keep, open, "
        "close, unused), fixed_cost (over the orders' span), annual_fixed_cost (costs given "
        "per year), capacity, demand_served, utilization, customers.",
    ),
    c.writes("--sites-out"),
]
TimeLimitOpt = Annotated[
    float | None,
    typer.Option(
        "--time-limit",
        help="Solver time limit in seconds per solve; the proven gap is reported.",
        metavar="SECONDS",
        envvar="SEGCHAIN_TIME_LIMIT",
        rich_help_panel="Solver",
    ),
]
NodeLimitOpt = Annotated[
    int | None,
    typer.Option(
        "--node-limit",
        help="Branch-and-bound nodes per solve, 0 for no limit (default: 5000). Unlike "
        "--time-limit, every run stops at the same plan; the proven gap is reported.",
        metavar="N",
        envvar="SEGCHAIN_NODE_LIMIT",
        rich_help_panel="Solver",
    ),
]
GapOpt = Annotated[
    float | None,
    typer.Option(
        "--gap",
        help="Relative optimality gap at which the solver stops (default: 1e-6).",
        metavar="GAP",
        rich_help_panel="Solver",
    ),
]
SkipUnlocatedOpt = Annotated[
    bool,
    typer.Option(
        "--skip-unlocated",
        help="Leave out customers without lat, lon (they are listed) instead of failing.",
    ),
]
MaxPointsOpt = Annotated[
    int | None,
    typer.Option(
        "--max-points",
        help="Aggregate customers into at most N demand points (default: only when customers x "
        "sites exceeds 1,000,000 pairs, or 120,000 with capacities). The error bound is "
        "reported.",
        metavar="N",
        rich_help_panel="Solver",
    ),
]


@app.command("network")
@c.handle_errors
def network_command(
    customers: c.Input = "-",
    output: c.Output = "-",
    sites: SitesOpt = None,
    candidates: CandidatesOpt = None,
    costs: CostsOpt = None,
    open: OpenOpt = None,
    allow_split: SplitOpt = None,
    km_per_day: KmPerDayOpt = None,
    cost_per_unit_km: CostPerUnitKmOpt = None,
    fixed_cost_period: FixedCostPeriodOpt = None,
    sites_out: SitesOutOpt = None,
    time_limit: TimeLimitOpt = None,
    node_limit: NodeLimitOpt = None,
    gap: GapOpt = None,
    skip_unlocated: SkipUnlocatedOpt = False,
    max_points: MaxPointsOpt = None,
    geo: g.GeoOpt = None,
    geo_country: g.GeoCountryOpt = None,
    config: c.ConfigFile = None,
    format: c.Format = None,
    csv_safe: c.CsvSafe = False,
    seed: c.Seed = None,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
) -> None:
    """Warehouse location and customer assignment that keeps each segment's delivery promise.

    Reads customers (a segments table, or customer_id, demand or quantity, segment, lat, lon)
    and solves a facility location MILP with HiGHS: which sites to open (fixed costs, or
    exactly --open K) and which site serves each customer, at least fixed plus transport cost.
    A customer may only be served within its segment's max_delivery_days (segchain.toml);
    stderr shows, per segment, what the promise costs against the cheapest plan without it.
    Writes customer_id, segment, site_id, share, distance_km, transit_days, sla_days, sla_met,
    demand, transport_cost, left_out (no_demand, unlocated: customers not in the model).

    Example:

        segchain network segments.parquet --sites sites.csv --config segchain.toml \\
          --sites-out sites_plan.csv -o assignments.parquet
    """
    from segchain.config import path_setting, policy_table, setting
    from segchain.network import NetworkParams
    from segchain.network import network as run_network
    from segchain.schema import (
        TRANSPORT_RATE_DEFAULT,
        check_one_row_per_customer,
        check_table_kind,
    )
    from segchain.tableio import collect, provenance, read_table, register_input

    reporter = c.Reporter(quiet=quiet, verbose=verbose)
    cfg = c.load_config(config)
    sites = path_setting(sites, cfg, "network", "sites")
    costs = path_setting(costs, cfg, "network", "costs")
    # A path from the config is an input too: no output may replace it, messages name it, and
    # stderr may not go to it (registered before the config is said on stderr).
    for option, value in (("--sites", sites), ("--costs", costs)):
        if value is not None:
            register_input(value, option=option)
    c.say_config(cfg, reporter)
    given = {
        "candidates": candidates,
        "open": open,
        "allow_split": allow_split,
        "km_per_day": km_per_day,
        "cost_per_unit_km": cost_per_unit_km,
        "time_limit": time_limit,
        "node_limit": node_limit,
        "gap": gap,
        "skip_unlocated": skip_unlocated,
        "max_points": max_points,
        "fixed_cost_period": fixed_cost_period,
        "seed": seed,
    }
    params = NetworkParams.resolve(
        lambda name, default: setting(given[name], cfg, "network", name, default)
    )
    params.check(sites_given=sites is not None)
    if cost_per_unit_km is not None and costs is not None:
        # Read for nothing: the lanes' unit_cost prices transport (a rate of 5 given, 1.5 a
        # unit from the lanes used, without a word).
        raise UsageError(
            "--cost-per-unit-km prices transport by distance where there is no lane table; "
            "with --costs the lanes' unit_cost does",
            hint="drop --cost-per-unit-km, or --costs to price by distance",
        )
    rate_given = (
        costs is not None
        or setting(cost_per_unit_km, cfg, "network", "cost_per_unit_km", None) is not None
    )
    # --geo is read first: with the customers on stdin too, it took their lines.
    if sum(x == "-" for x in (customers, sites, costs, geo)) > 1:
        raise UsageError("only one of CUSTOMERS, --sites, --costs and --geo can be '-' (stdin)")

    postal_codes = g.postal(geo, geo_country, reporter=reporter)
    cust_table = read_table(customers)
    check_table_kind(
        cust_table.frame.collect_schema().names(),
        cust_table.stage,
        "segments",
        source=c.table_name("CUSTOMERS", customers),
        hint="give segment's output (or a table of customer_id, demand, lat, lon) as CUSTOMERS",
    )
    cust = collect(cust_table.frame)
    check_one_row_per_customer(cust, source=c.table_name("CUSTOMERS", customers))
    located = None
    if costs is None and _needs_coordinates(cust):
        # Customers from a segments table made without them, or the user's own table.
        unread = g.postal_table_unread(
            geo,
            cust.columns,
            whose="the customers",
            fix="give segments of orders with postal codes (segment --map postal_code=HEADER)",
        )
        cust, located = g.locate_customers(
            cust, postal_codes=postal_codes, reporter=reporter, unread=unread
        )
    site_frame = collect(read_table(sites).frame) if sites is not None else None
    cost_frame = collect(read_table(costs).frame) if costs is not None else None
    c.warn_unmatched_policies(cfg, cust, reporter)
    # The stage names --sites and --costs by the option alone: the file is added here.
    reporter.name_tables({"CUSTOMERS": customers, "--sites": sites, "--costs": costs})
    with (
        c.tables_named({"CUSTOMERS": customers, "--sites": sites, "--costs": costs}),
        Work("network", "solving the network", quiet=quiet),
    ):
        result = run_network(
            cust,
            sites=site_frame,
            costs=cost_frame,
            policies=policy_table(cfg),
            **params.as_dict(),
        )
    for note in result.notes:
        reporter.info(note)
    for warning in result.warnings:
        reporter.warn(warning)
    _report(result, reporter)
    if not rate_given:
        reporter.info(_default_rate(result.totals))
    recorded = {
        "sites": sites,
        "costs": costs,
        **params.as_dict(),
        # As the plan took it: orders, or year when the header said so with no option given.
        "fixed_cost_period": result.fixed_cost_period["period"],
        "transport_rate": (
            "lanes" if costs is not None else "given" if rate_given else TRANSPORT_RATE_DEFAULT
        ),
        "geo": geo,
        "geo_country": geo_country,
    }
    geo_meta = g.provenance(located)
    if sites_out is not None:
        c.write_output(
            result.sites,
            sites_out,
            fmt=None,
            metadata=provenance(
                "sites", params=recorded, inputs=result.inputs, **result.metadata(), **geo_meta
            ),
            reporter=reporter,
            what="sites",
        )
    c.write_output(
        result.assignments,
        output,
        fmt=format,
        metadata=provenance(
            "assignments", params=recorded, inputs=result.inputs, **result.metadata(), **geo_meta
        ),
        reporter=reporter,
        what="assignments",
    )


def _needs_coordinates(customers: Any) -> bool:
    """Some customer lacks lat, lon and the table has a postal code, city or country."""
    import polars as pl

    from segchain.geo import needs_locating

    cols = customers.columns
    if not needs_locating(cols):
        return False
    if "lat" not in cols or "lon" not in cols:
        return True
    return bool(customers.select((pl.col("lat").is_null() | pl.col("lon").is_null()).any()).item())


def _default_rate(t: Any) -> str:
    """What transport cost at the default rate, which costs and report then add up as money
    (Online Retail: 561,673,551 for 4.9 million units of goods sold at about 1.7 a unit)."""
    from segchain.formatting import MONEY, UNITS, format_number
    from segchain.network.params import DEFAULT_COST_PER_UNIT_KM

    per_unit = t.transport_cost / t.demand if t.demand > 0 else 0.0
    return (
        f"transport is priced at the default {DEFAULT_COST_PER_UNIT_KM:g} per unit of demand and "
        f"km (--cost-per-unit-km): transport {format_number(t.transport_cost, MONEY)} for "
        f"{format_number(t.demand, UNITS)} units ({format_number(per_unit, MONEY)} a unit), "
        "which costs and report add up as money; give your freight rate per unit and km with "
        "--cost-per-unit-km or the config's [network] cost_per_unit_km, or lane costs with "
        "--costs"
    )


def _report(result: Any, reporter: c.Reporter) -> None:
    """The per-segment promise table and the totals, on stderr."""
    import polars as pl

    from segchain.formatting import PCT

    t = result.totals
    promise = result.promise
    shown = [
        "segment",
        "sla_days",
        "customers",
        "demand",
        pl.col("within_promise").alias("within"),
        pl.col("mean_distance_km").alias("mean_km"),
        pl.col("transport_cost").alias("cost"),
    ]
    if "baseline_within_promise" in promise.columns:
        shown += [
            pl.col("baseline_within_promise").alias("within_no_promise"),
            pl.col("baseline_mean_distance_km").alias("mean_km_no_promise"),
            pl.col("baseline_transport_cost").alias("cost_no_promise"),
        ]
    # Renamed, within_promise no longer reads as a share by its name: say so.
    shares = {"within": PCT, "within_no_promise": PCT}
    reporter.table(
        c.frame_table(promise.select(shown), title="delivery promise by segment", kinds=shares)
    )
    status = {"optimal": "optimal", "node_limit": "stopped at the node limit"}.get(
        t.status, "stopped at the time limit"
    )
    reporter.info(
        f"opened {count(t.sites_opened)} of {plural(t.sites, 'site')} for "
        f"{plural(t.customers, 'customer')}; "
        f"fixed {t.fixed_cost:,.2f} + transport {t.transport_cost:,.2f} = "
        f"total {t.total_cost:,.2f} ({status}, gap {t.mip_gap:.2e})"
        + (
            f"; the transport of {plural(t.unlocated, 'customer')} left out without "
            f"coordinates is unknown, not in the total (transport_cost empty)"
            if t.unlocated
            else ""
        )
    )
    if t.baseline_total_cost is not None:
        reporter.info(_promise_cost(t))


def _promise_cost(t: Any) -> str:
    """The comparison with the plan without promises, said as what it is: a proven figure, an
    estimate (either plan stopped at a solver limit), or unknown (the plan without promises,
    cut short, costs more: -0.98 was printed as what the promises cost)."""
    from segchain.schema import PROMISE_COST_CUT_SHORT, PROMISE_COST_UNKNOWN

    if t.promise_cost_status == PROMISE_COST_UNKNOWN:
        return (
            "without delivery promises the best plan found costs "
            f"{t.baseline_total_cost:,.2f}, more than the plan with them: what the promises "
            "cost is unknown (solver limits; see the warning above)"
        )
    extra = t.total_cost - t.baseline_total_cost
    share = extra / t.baseline_total_cost if t.baseline_total_cost > 0 else 0.0
    estimate = (
        ", an estimate: the solve was cut short"
        if t.promise_cost_status == PROMISE_COST_CUT_SHORT
        else ""
    )
    return (
        f"without delivery promises the plan would cost {t.baseline_total_cost:,.2f}: "
        f"the promises cost {extra:,.2f} ({share:+.1%}{estimate})"
    )
