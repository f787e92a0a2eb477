"""What each customer bought: revenue, cost of goods, orders, lines and returns (order lines)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from segchain.errors import DataError
from segchain.numbers import sum_any_order
from segchain.schema import (
    FLAG_RETURN,
    ITEMS_OPTION,
    ORDERS_OPTION,
    SEGMENTS_ARGUMENT,
    covered_days,
    demand_line,
    lost_zeros_hint,
    product_line,
    require_columns,
)

_PRODUCT = product_line()
_DEMAND = demand_line()
_RETURN = pl.col("flag").fill_null("") == FLAG_RETURN
# A price correction is neither a sale nor a return, and a line of no units (flag zero_quantity)
# moved no goods: it is no order to handle, as segment's frequency does not count it.
_SALE = _DEMAND & ~_RETURN & (pl.col("quantity") > 0)
# The demand lines that moved goods, whose cost cogs needs: a line of no units costs nothing
# whatever its sku, so a text or note line (The Complete Journey: 5,052 of skus never sold a
# unit) neither empties its customer's cogs nor counts as uncosted (audit C C1, session 66).
_GOODS = _DEMAND & (pl.col("quantity") != 0)


@dataclass(frozen=True)
class SalesTotals:
    """The orders' net value split three ways (for the revenue reconciliation), and the period."""

    net_value: float  # every used line, net of returns
    revenue: float  # product lines of segmented customers
    non_product: float  # postage, fees and adjustments of segmented customers
    unsegmented: float  # lines of customers not in the segments
    unsegmented_customers: int
    uncosted_lines: int  # lines of goods (units) whose sku has no unit_cost
    unsited: pl.DataFrame  # per sku, its lines with no cost at their site: its costs differ
    costed_lines: int  # lines of goods whose sku has one
    first_date: str | None
    last_date: str | None
    period_days: int
    period_step: str = "1 day"  # one step of the dates' grain, counted after the span
    order_lines: int = 0  # every used line of the orders


# The engine of every sum over the order lines: polars' in-memory group-by adds a group's
# floats in the lines' order (a compensated sum), so each figure is the same to the bit
# whatever the file's chunks or the machine's threads; its streaming engine adds them in the
# order its threads finish, which changed 4,300 of 11,000 customers' revenue in the last digits
# from one run to the next (audit U, session 63). It holds, of the lines it sums, only the
# columns the sum reads (some 20-40 bytes a line), never the table.
IN_ORDER: Final = "in-memory"
# Each line's part of the revenue reconciliation (``line_values``).
PRODUCT, NON_PRODUCT, UNSEGMENTED = 0, 1, 2

Collect = Callable[[Sequence[pl.LazyFrame]], list[pl.DataFrame]]


def collect_all(queries: Sequence[pl.LazyFrame]) -> list[pl.DataFrame]:
    """``pl.collect_all``, as a ``Collect``."""
    return list(pl.collect_all(queries))


def order_lines(orders: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """``orders`` as costs reads them: the columns it uses, ids as text, a flag column.

    Raises:
        DataError: a column is missing.
    """
    lf = orders.lazy()
    names = lf.collect_schema().names()
    require_columns(
        names,
        ("order_id", "order_date", "customer_id", "sku", "quantity", "amount"),
        source=ORDERS_OPTION,
    )
    used = ["order_id", "order_date", "customer_id", "sku", "quantity", "amount"]
    used += [c for c in ("flag", "site") if c in names]
    lf = lf.select(used).with_columns(
        pl.col("customer_id").cast(pl.String), pl.col("sku").cast(pl.String)
    )
    return lf if "flag" in names else lf.with_columns(flag=pl.lit(None, pl.String))


def product_lines(orders: pl.LazyFrame, customers: pl.DataFrame) -> pl.LazyFrame:
    """The lines of goods (not postage or fees, not price corrections) of segmented customers,
    with their segment: their quantities are units bought."""
    return orders.filter(_DEMAND).join(
        customers.lazy(), on="customer_id", how="inner", maintain_order="left"
    )


def _in_segments(customers: pl.DataFrame) -> pl.Expr:
    return pl.col("customer_id").is_in(customers.get_column("customer_id").unique().implode())


def line_values(orders: pl.LazyFrame, customers: pl.DataFrame) -> pl.LazyFrame:
    """Each line's amount and its part of the revenue reconciliation (``PRODUCT``,
    ``NON_PRODUCT``, ``UNSEGMENTED``; null for a line of no customer, in none of them): eight
    bytes and one a line, in the lines' order and chunks, which a float total depends on."""
    in_seg = _in_segments(customers)
    part = (
        pl.when(in_seg & _PRODUCT)
        .then(pl.lit(PRODUCT, pl.UInt8))
        .when(in_seg & ~_PRODUCT)
        .then(pl.lit(NON_PRODUCT, pl.UInt8))
        .when(~in_seg)
        .then(pl.lit(UNSEGMENTED, pl.UInt8))
        .alias("part")
    )
    return orders.select("amount", part)


def _cost_terms(product: pl.LazyFrame) -> pl.LazyFrame:
    """What revenue and cogs sum of each product line, in the lines' order: its customer's row
    in the segments, its amount and cost (quantity x unit_cost), whether it moved goods
    without a unit cost and is a demand line. Some 20 bytes a line: summed as a whole
    (``IN_ORDER``)."""
    return product.select(
        "_customer",
        "amount",
        (pl.col("quantity") * pl.col("unit_cost")).alias("_cost"),
        (pl.col("unit_cost").is_null() & _GOODS).alias("_no_cost"),
        _DEMAND.alias("_demand"),
    )


def customer_sales(
    orders: pl.LazyFrame | pl.DataFrame,
    customers: pl.DataFrame,
    items: pl.DataFrame | None,
    *,
    collect: Collect = collect_all,
) -> tuple[pl.DataFrame, SalesTotals]:
    """Per customer: revenue, cogs, orders, lines, return_lines (product lines only).

    ``cogs`` is quantity x the item's ``unit_cost``, net of returns; null for a customer with any
    line of goods (a demand line with units) whose sku has no cost, and for everyone without
    ``items``. A line's unit cost
    is the one at its ``site`` (``site_unit_costs``). The lines are reduced in queries, never
    held whole: ``collect`` runs the ones read in the lines' own chunks (the CLI, with the
    import's reconciliation in the same pass), the sums in the order of their values
    (``IN_ORDER``, ``sum_any_order``).

    Raises:
        DataError: the orders lack a column, or no order line belongs to a segmented customer.
    """
    orders = order_lines(orders)
    in_seg = _in_segments(customers)
    lines = orders.filter(in_seg).join(
        customers.with_row_index("_customer").lazy(),
        on="customer_id",
        how="left",
        maintain_order="left",
    )
    unit_cost = site_unit_costs(items)
    if unit_cost is not None:
        lines = _costed(lines, *unit_cost)
    else:
        lines = lines.with_columns(
            unit_cost=pl.lit(None, pl.Float64),
            _unsited=pl.lit(False),
            _site=pl.lit(None, pl.String),
            _costs=pl.lit(None, pl.List(pl.String)),
        )
    product = lines.filter(_PRODUCT)
    values, unsegmented_ids, terms, counted, unsited, counts, dates = collect(
        [
            line_values(orders, customers),
            orders.filter(~in_seg).select(pl.col("customer_id").n_unique()),
            _cost_terms(product),
            # Counts and distinct values are the same in any order: reduced as read.
            product.group_by("customer_id").agg(
                pl.col("order_id").filter(_SALE).n_unique().cast(pl.Int64).alias("orders"),
                _SALE.sum().cast(pl.Int64).alias("lines"),
                _RETURN.sum().cast(pl.Int64).alias("return_lines"),
            ),
            product.filter(_GOODS & pl.col("_unsited"))
            .group_by("sku")
            .agg(
                pl.len().alias("lines"),
                pl.col("_site").is_null().sum().alias("without_site"),
                pl.col("_site").drop_nulls().unique().sort().alias("sites"),
                pl.col("_costs").first().alias("costs"),
            )
            .sort(["lines", "sku"], descending=[True, False]),
            product.filter(_GOODS).select(
                (pl.col("unit_cost").is_null() & ~pl.col("_unsited")).sum().alias("uncosted"),
                pl.col("unit_cost").is_not_null().sum().alias("costed"),
            ),
            lines.select(pl.col("order_date").cast(pl.Date).unique()),
        ]
    )
    # Over a few bytes a line (IN_ORDER), each customer's added in the order of its values,
    # not the lines' (sum_any_order): a re-export's lines in another order write the same.
    summed = terms.group_by("_customer", maintain_order=True).agg(
        sum_any_order("amount").alias("revenue"),
        pl.when(pl.col("_no_cost").any())
        .then(None)
        .otherwise(sum_any_order(pl.col("_cost").filter(pl.col("_demand"))))
        .alias("cogs"),
    )
    per_customer = (
        customers.select("customer_id")
        .with_row_index("_customer")
        .join(summed, on="_customer", how="inner")
        .join(counted, on="customer_id", how="left")
        .drop("_customer")
    )
    if dates.height == 0:  # no line of a segmented customer, of any date (null too)
        raise DataError(
            f"{{{ORDERS_OPTION}}}: no order line belongs to a customer in {{{SEGMENTS_ARGUMENT}}}",
            hint=lost_zeros_hint(
                orders.select(pl.col("customer_id").unique()).collect().to_series(),
                customers.get_column("customer_id"),
                column="customer_id",
            )
            or "give the orders the segments were computed from",
            tables={ORDERS_OPTION: ORDERS_OPTION, SEGMENTS_ARGUMENT: "the segments"},
        )
    out = (
        customers.select("customer_id")
        .join(per_customer, on="customer_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("revenue").fill_null(0.0),
            pl.col("orders").fill_null(0),
            pl.col("lines").fill_null(0),
            pl.col("return_lines").fill_null(0),
            # A customer without product lines bought nothing: no goods to cost.
            pl.when(pl.col("lines").is_null() & pl.col("return_lines").is_null())
            .then(0.0 if unit_cost is not None else None)
            .otherwise(pl.col("cogs"))
            .alias("cogs"),
        )
    )
    day = dates.get_column("order_date")
    first, last = day.min(), day.max()
    period, step = covered_days(day)
    # In one chunk, as the segmented lines were summed when held whole (joined with the
    # segments): a float total's last digits depend on its chunks, and the chunks the query
    # returns depend on polars' threads (the orders' total, summed over them as returned, was
    # 3,637,935.59 on 2 threads and 3,637,935.5900000003 on 1: the costs' metadata differed).
    # Each total is added in the order of its amounts (as sum_any_order), not the lines': the
    # same export's lines in another order gave another source total (5,666,105.7700000005 and
    # 5,666,105.77 on the demo's orders, shuffled). Sorted, a part keeps its amounts' order.
    values = values.sort("amount").rechunk()
    segmented = values.filter(pl.col("part") != UNSEGMENTED).rechunk()
    totals = SalesTotals(
        net_value=float(values["amount"].sum()),
        revenue=float(segmented.filter(pl.col("part") == PRODUCT)["amount"].sum()),
        non_product=float(segmented.filter(pl.col("part") == NON_PRODUCT)["amount"].sum()),
        unsegmented=float(values.filter(pl.col("part") == UNSEGMENTED)["amount"].sum()),
        unsegmented_customers=int(unsegmented_ids.item()),
        uncosted_lines=int(counts.item(0, "uncosted")) if unit_cost is not None else 0,
        unsited=unsited,
        costed_lines=int(counts.item(0, "costed")),
        first_date=str(first) if first is not None else None,
        last_date=str(last) if last is not None else None,
        period_days=int(period),
        period_step=step,
        order_lines=values.height,
    )
    return out, totals


def site_unit_costs(items: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The item master's unit costs as an order line takes them: ``(at_site, per_sku)``.

    ``at_site`` (``sku, site, unit_cost``): the cost a row with a site states, for the lines
    shipped from that site. ``per_sku`` (``sku, unit_cost, costs``): the cost of a line at any
    other site, or without one: the sku's row without a site, else the one cost its rows at
    sites all state; null where those differ (``costs``: each site's, to say so), as no row
    tells which applies. The same rule as stock's, a site's own row first and the sku's row
    without a site for every other site, but for that last case (stock has no sku row there).
    """
    if items is None or "unit_cost" not in items.columns:
        return None
    require_columns(items.columns, ("sku",), source=ITEMS_OPTION)
    # As written, as stock reads them: two rows of a sku at 'DC-A' and ' DC-A' are two keys
    # (each checked unique), which trimmed would both match a line and count it twice.
    site = (
        pl.col("site").cast(pl.String).replace("", None)
        if "site" in items.columns
        else pl.lit(None, pl.String)
    )
    costs = items.select(
        pl.col("sku").cast(pl.String),
        site.alias("site"),
        pl.col("unit_cost").cast(pl.Float64, strict=False),
    ).filter(pl.col("unit_cost").is_not_null())
    sited = pl.col("site").is_not_null()
    at_site = costs.filter(sited)
    stated = (
        at_site.group_by("sku", maintain_order=True)
        .agg(
            pl.col("unit_cost").unique().len().alias("n"),
            pl.col("unit_cost").first().alias("one"),
            pl.format("{} at {}", pl.col("unit_cost").round(6), "site")
            .sort_by("site")
            .alias("costs"),
        )
        .join(costs.filter(~sited).select("sku", "unit_cost"), on="sku", how="full", coalesce=True)
    )
    per_sku = stated.select(
        "sku",
        pl.coalesce("unit_cost", pl.when(pl.col("n") == 1).then("one")).alias("unit_cost"),
        pl.when(pl.col("unit_cost").is_null() & (pl.col("n") > 1)).then("costs").alias("costs"),
    )
    return at_site, per_sku


def _costed(lines: pl.LazyFrame, at_site: pl.DataFrame, per_sku: pl.DataFrame) -> pl.LazyFrame:
    """``lines`` with each one's ``unit_cost`` (``site_unit_costs``), ``_site`` (as joined) and
    ``_unsited``: no cost at its site, and its sku's costs at other sites (``_costs``) differ."""
    site = (
        pl.col("site").cast(pl.String).str.strip_chars().replace("", None)
        if "site" in lines.collect_schema().names()
        else pl.lit(None, pl.String)
    )
    lines = lines.with_columns(site.alias("_site"))  # an order's site is trimmed on import
    own = at_site.rename({"site": "_site", "unit_cost": "_own"})
    lines = lines.join(own.lazy(), on=["sku", "_site"], how="left", maintain_order="left").join(
        per_sku.rename({"unit_cost": "_sku", "costs": "_costs"}).lazy(),
        on="sku",
        how="left",
        maintain_order="left",
    )
    return lines.with_columns(
        pl.coalesce("_own", "_sku").alias("unit_cost"),
        (pl.col("_own").is_null() & pl.col("_costs").is_not_null()).alias("_unsited"),
    ).drop("_own", "_sku")
