"""Demand routed to the sites the network assigns: each customer's order lines once per serving
site, quantity x share, so that forecast and stock plan where the network puts the stock."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from segchain.errors import DataError, TableMessage, about, examples
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


# A share is fingerprinted to a billionth: network drops shares below 1e-9, and a share written
# to a CSV and read back is the same number to many more digits.
SHARE_UNITS = 1e9
# The stock command's names of the two tables compared (``check_routed_by``).
_TABLES = {"FORECAST": "the forecast", ASSIGNMENTS_OPTION: "the assignments"}
_ROUTED_BY_HINT = (
    "give --assignments the assignments given to `forecast --assignments`, or re-run forecast "
    "--assignments with these"
)


def assignments_fingerprint(assignments: pl.DataFrame) -> dict[str, Any]:
    """What ``route_orders`` routes by in ``assignments``: its lanes (customer_id, site_id,
    share to a billionth), sorted and hashed (``sha256``), with how many lanes and customers.

    Two tables route the same demand the same way exactly when their fingerprints are equal:
    row order, columns routing does not read (segment, demand, transport_cost) and customers
    without a site (routed nowhere, as one absent is) do not count, and neither does the file's
    format. forecast records it (``schema.META_ROUTED_BY``) so that stock and the report can
    tell the assignments of another network run from the ones it was routed by.

    Raises:
        MissingColumnsError, DataError: as ``schema.check_assignments``.
    """
    checked = check_assignments(assignments, source=ASSIGNMENTS_OPTION)
    share = pl.col("share") if "share" in checked.columns else pl.lit(1.0)
    lanes = (
        checked.filter(pl.col("site_id").is_not_null())
        .select(
            pl.col("customer_id").cast(pl.String),
            pl.col("site_id").cast(pl.String),
            (share.cast(pl.Float64) * SHARE_UNITS).round().cast(pl.Int64).alias("share"),
        )
        .sort("customer_id", "site_id")
    )
    # Text and whole numbers only: their CSV is the same bytes whatever the polars version.
    text = lanes.write_csv(include_header=False)
    return {
        "lanes": lanes.height,
        "customers": lanes.get_column("customer_id").n_unique(),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def segments_fingerprint(segments: pl.DataFrame) -> dict[str, Any]:
    """What a forecast groups its customers' demand by in ``segments``: each customer's segment
    (customer_id, segment), sorted and hashed (``sha256``), with how many customers and segments.

    Equal for two tables exactly when every customer has the same segment in both: row order,
    the other columns (RFM scores, revenue) and the file's format do not count. forecast records
    it (``schema.META_SEGMENTED_BY``) so that the report can tell the segments of another run
    from the ones the forecast's series were made of (audit R1, session 65).
    """
    pairs = segments.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("segment").cast(pl.String) if "segment" in segments.columns else pl.lit(None),
    ).sort("customer_id", "segment", nulls_last=True)
    # Text only: their CSV is the same bytes whatever the polars version.
    text = pairs.write_csv(include_header=False)
    return {
        "customers": pairs.get_column("customer_id").n_unique(),
        "segments": pairs.get_column("segment").drop_nulls().n_unique(),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def segments_text(fingerprint: Mapping[str, Any]) -> str:
    """``351 customers in 11 segments``: a segments fingerprint's counts, for a message."""
    customers, segments = fingerprint.get("customers"), fingerprint.get("segments")
    if not isinstance(customers, int) or not isinstance(segments, int):
        return "customers not counted"
    return f"{plural(customers, 'customer')} in {plural(segments, 'segment')}"


def sites_not_served(assignments: pl.DataFrame, sites: Iterable[Any]) -> list[str]:
    """The ``sites`` (a forecast's) that no lane of ``assignments`` serves, sorted."""
    served = set(
        assignments.filter(pl.col("site_id").is_not_null())
        .get_column("site_id")
        .cast(pl.String)
        .unique()
        .to_list()
    )
    return sorted({str(s) for s in sites if s is not None} - served)


def check_routed_by(
    assignments: pl.DataFrame, routed_by: Mapping[str, Any] | None, sites: Iterable[Any]
) -> list[str]:
    """Refuse ``assignments`` that are not the ones a forecast by ``sites`` was routed by.

    Given another network run's assignments (a cron job that re-ran network and not forecast),
    stock routed the order history by them without a word: on the demo, with two sites fewer,
    the points at those sites were planned from no history and the others from another
    routing's, for an inventory 11 % higher (54 % with every customer on one site).

    ``routed_by``: what the forecast records (``schema.META_ROUTED_BY``). A fingerprint
    (``sha256``) is compared with the assignments' (``assignments_fingerprint``). A record
    without one (an older segchain's forecast, which counted the assignments' rows only): a
    routed forecast's sites are those its assignments serve, so a site of ``sites`` that these
    serve none of proves them another run's. None (a forecast that records nothing, as a CSV,
    or one not routed): such a site is a warning, returned, as the forecast may have been made
    by the orders' own sites.

    Raises:
        DataError: the assignments are not those of the forecast, by either test above.
    """
    missing = sites_not_served(assignments, sites)
    where = (
        f"{plural(len(missing), 'site')} where {{FORECAST}} has stocking points "
        f"({examples(missing)})"
    )
    if routed_by is not None and "sha256" in routed_by:
        mine = assignments_fingerprint(assignments)
        if mine["sha256"] == routed_by["sha256"]:
            return []
        raise DataError(
            f"{{{ASSIGNMENTS_OPTION}}} ({lanes_text(mine)}) are not the assignments {{FORECAST}} "
            f"was routed by ({lanes_text(routed_by)}): their lanes (customer_id, site_id, share) "
            "differ, so they are of another network run, and each site's history would be "
            "another routing's demand" + (f"; they serve none of the {where}" if missing else ""),
            hint=_ROUTED_BY_HINT,
            tables=_TABLES,
        )
    if not missing:
        return []
    if routed_by is not None:
        raise DataError(
            f"{{{ASSIGNMENTS_OPTION}}} serve none of the {where}, though the forecast was "
            "routed through network assignments: they are of another network run than the "
            "forecast's, and its points there would be planned from no history",
            hint=_ROUTED_BY_HINT + " (this forecast, of an older segchain, records no "
            "fingerprint of its assignments: re-run forecast to have them compared whole)",
            tables=_TABLES,
        )
    return [
        TableMessage(
            f"{{{ASSIGNMENTS_OPTION}}} serve none of the {where}: those points are planned "
            "from no history; if the forecast was routed through assignments (it records "
            "none), give --assignments those",
            _TABLES,
        )
    ]


def lanes_text(fingerprint: Mapping[str, Any]) -> str:
    """``5 lanes of 3 customers``: a fingerprint's counts, for a message."""
    lanes, customers = fingerprint.get("lanes"), fingerprint.get("customers")
    if not isinstance(lanes, int) or not isinstance(customers, int):
        return "lanes not counted"
    return f"{plural(lanes, 'lane')} of {plural(customers, 'customer')}"
