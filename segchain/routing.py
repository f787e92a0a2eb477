"""Demand routed to the sites the network assigns: each customer's order lines once per serving
site, quantity x share, so that forecast and stock plan where the network puts the stock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from segchain.errors import DataError, about
from segchain.formatting import agree, count, plural
from segchain.schema import ASSIGNMENTS_OPTION, ORDERS_OPTION, check_assignments, demand_line


@dataclass
class Routed:
    """The order lines with ``site`` from the assignments, and what could not be routed."""

    orders: pl.DataFrame
    unrouted_customers: int = 0
    unrouted_lines: int = 0
    warnings: list[str] = field(default_factory=list)
    # The lines left out (no serving site), for a held-out check to count what it cannot score.
    unrouted: pl.DataFrame | None = None


def route_orders(orders: pl.DataFrame, assignments: pl.DataFrame) -> Routed:
    """Replace each line's ``site`` by the site(s) the assignments give its customer.

    A customer split over sites (``share``) has each line once per site with quantity x share,
    so a customer's demand is conserved. The orders' own ``site`` (where a line shipped from in
    the past) is replaced: the plan is for the network, not for history. Lines of customers with
    no serving site (not in the assignments, or left out by network) are left out of the site
    series here (counted and reported once, ``excluded["no_serving_site"]``).

    Raises:
        MissingColumnsError: the assignments lack customer_id or site_id.
        DataError: the assignments fail ``schema.check_assignments`` (shares of a customer do
            not add up to 1, ...).
    """
    # Both commands that route take the table as --assignments: messages name it so, and the
    # CLI adds the file (``--assignments asg.csv: ...``).
    assignments = check_assignments(assignments, source=ASSIGNMENTS_OPTION)
    share = pl.col("share") if "share" in assignments.columns else pl.lit(1.0)
    lanes = assignments.filter(pl.col("site_id").is_not_null()).select(
        pl.col("customer_id").cast(pl.String),
        pl.col("site_id").cast(pl.String).alias("site"),
        share.alias("_share"),
    )
    base = orders.drop("site") if "site" in orders.columns else orders
    base = base.with_columns(pl.col("customer_id").cast(pl.String))
    routed = base.join(lanes, on="customer_id", how="left", maintain_order="left").with_columns(
        quantity=pl.col("quantity") * pl.col("_share").fill_null(1.0)
    )
    if "amount" in routed.columns:
        routed = routed.with_columns(amount=pl.col("amount") * pl.col("_share").fill_null(1.0))
    routed = routed.drop("_share")
    lost = routed.filter(pl.col("site").is_null())
    # Left out here, once: kept with a blank site, the series counted them again as blank keys.
    if lost.height and lost.height == routed.height:
        n = lost["customer_id"].n_unique()
        raise DataError(
            f"{{{ASSIGNMENTS_OPTION}}}: "
            + (
                f"the one customer of {{{ORDERS_OPTION}}} has no serving site"
                if n == 1
                else f"none of the {count(n)} customers of {{{ORDERS_OPTION}}} has a serving site"
            ),
            hint="give the assignments network made for these customers (--assignments)",
            tables={ASSIGNMENTS_OPTION: ASSIGNMENTS_OPTION, ORDERS_OPTION: "the orders"},
        )
    out = Routed(
        orders=routed.filter(pl.col("site").is_not_null()) if lost.height else routed,
        unrouted=lost,
    )
    if lost.height:
        out.unrouted_lines = lost.height
        out.unrouted_customers = lost["customer_id"].n_unique()
        out.warnings.append(
            about(
                ORDERS_OPTION,
                f"{plural(lost.height, 'order line')} of "
                f"{plural(out.unrouted_customers, 'customer')} "
                f"{agree(lost.height, 'has', 'have')} no serving site in "
                f"{{{ASSIGNMENTS_OPTION}}}: left out of the site series",
                {ASSIGNMENTS_OPTION: "the assignments"},
            )
        )
    return out


def unrouted_demand(
    lines: pl.DataFrame | None,
    keys: list[str],
    first: dt.date,
    stop: dt.date,
    interval: str,
) -> tuple[float, int]:
    """The demand of the lines ``route_orders`` left out (``Routed.unrouted``) from ``first``
    to the day before ``stop``, and how many customers it is of: net quantity per ``keys``
    (the series' keys without the site) and period (``interval``, ``1d`` for a day), floored
    at 0 as a held-out check floors its actuals. A held-out check counts it, as it has no
    site to score or replay it at. ``(0.0, 0)`` without such lines."""
    if lines is None or not lines.height:
        return 0.0, 0
    o = lines.filter(demand_line()) if "flag" in lines.columns else lines
    day = pl.col("order_date").cast(pl.Date)
    o = o.filter(day.is_between(first, stop, closed="left") & pl.col("quantity").is_not_null())
    if not o.height:
        return 0.0, 0
    net = (
        o.group_by(*[pl.col(k).cast(pl.String) for k in keys], day.dt.truncate(interval))
        .agg(pl.col("quantity").cast(pl.Float64).sum().clip(lower_bound=0.0).alias("q"))
        .get_column("q")
        .sum()
    )
    return float(net), o.get_column("customer_id").drop_nulls().n_unique()
