"""What each customer bought: revenue, cost of goods, orders, lines and returns (order lines)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from segchain.errors import DataError
from segchain.schema import (
    FLAG_RETURN,
    ITEMS_OPTION,
    ORDERS_OPTION,
    SEGMENTS_ARGUMENT,
    demand_line,
    lost_zeros_hint,
    product_line,
    require_columns,
)

_PRODUCT = product_line()
_DEMAND = demand_line()
_RETURN = pl.col("flag").fill_null("") == FLAG_RETURN
_SALE = _DEMAND & ~_RETURN  # a price correction is neither a sale nor a return


@dataclass(frozen=True)
class SalesTotals:
    """The orders' net value split three ways (for the revenue reconciliation), and the period."""

    net_value: float  # every used line, net of returns
    revenue: float  # product lines of segmented customers
    non_product: float  # postage, fees and adjustments of segmented customers
    unsegmented: float  # lines of customers not in the segments
    unsegmented_customers: int
    uncosted_lines: int  # product lines whose sku has no unit_cost
    costed_lines: int  # product lines whose sku has one
    first_date: str | None
    last_date: str | None
    period_days: int


def product_lines(orders: pl.DataFrame, customers: pl.DataFrame) -> pl.DataFrame:
    """The lines of goods (not postage or fees, not price corrections) of segmented customers,
    with their segment: their quantities are units bought."""
    return orders.filter(_DEMAND).join(
        customers, on="customer_id", how="inner", maintain_order="left"
    )


def customer_sales(
    orders: pl.DataFrame, customers: pl.DataFrame, items: pl.DataFrame | None
) -> tuple[pl.DataFrame, SalesTotals]:
    """Per customer: revenue, cogs, orders, lines, return_lines (product lines only).

    ``cogs`` is quantity x the item's ``unit_cost``, net of returns; null for a customer with any
    product line whose sku has no cost, and for everyone without ``items``.

    Raises:
        DataError: the orders lack a column, or no order line belongs to a segmented customer.
    """
    require_columns(
        orders.columns,
        ("order_id", "order_date", "customer_id", "sku", "quantity", "amount"),
        source=ORDERS_OPTION,
    )
    if "flag" not in orders.columns:
        orders = orders.with_columns(flag=pl.lit(None, pl.String))
    known = set(customers["customer_id"].to_list())
    in_seg = pl.col("customer_id").is_in(sorted(known))
    lines = orders.filter(in_seg).join(
        customers, on="customer_id", how="left", maintain_order="left"
    )
    if lines.height == 0:
        raise DataError(
            f"{{{ORDERS_OPTION}}}: no order line belongs to a customer in {{{SEGMENTS_ARGUMENT}}}",
            hint=lost_zeros_hint(
                orders.get_column("customer_id"),
                customers.get_column("customer_id"),
                column="customer_id",
            )
            or "give the orders the segments were computed from",
            tables={ORDERS_OPTION: ORDERS_OPTION, SEGMENTS_ARGUMENT: "the segments"},
        )
    unit_cost = _unit_costs(items)
    if unit_cost is not None:
        lines = lines.join(unit_cost, on="sku", how="left", maintain_order="left")
    else:
        lines = lines.with_columns(unit_cost=pl.lit(None, pl.Float64))
    product = lines.filter(_PRODUCT)
    per_customer = product.group_by("customer_id", maintain_order=True).agg(
        pl.col("amount").sum().alias("revenue"),
        pl.when((pl.col("unit_cost").is_null() & _DEMAND).any())
        .then(None)
        .otherwise((pl.col("quantity") * pl.col("unit_cost")).filter(_DEMAND).sum())
        .alias("cogs"),
        pl.col("order_id").filter(_SALE).n_unique().cast(pl.Int64).alias("orders"),
        _SALE.sum().cast(pl.Int64).alias("lines"),
        _RETURN.sum().cast(pl.Int64).alias("return_lines"),
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
    span = lines.select(
        pl.col("order_date").cast(pl.Date).min().alias("first"),
        pl.col("order_date").cast(pl.Date).max().alias("last"),
    ).row(0)
    first, last = span
    period = (last - first).days + 1 if first is not None and last is not None else 0
    other = orders.filter(~in_seg)
    totals = SalesTotals(
        net_value=float(orders["amount"].sum()),
        revenue=float(product["amount"].sum()),
        non_product=float(lines.filter(~_PRODUCT)["amount"].sum()),
        unsegmented=float(other["amount"].sum()),
        unsegmented_customers=other["customer_id"].n_unique(),
        uncosted_lines=int(product.filter(_DEMAND)["unit_cost"].is_null().sum())
        if unit_cost is not None
        else 0,
        costed_lines=int(product.filter(_DEMAND)["unit_cost"].is_not_null().sum()),
        first_date=str(first) if first is not None else None,
        last_date=str(last) if last is not None else None,
        period_days=int(period),
    )
    return out, totals


def _unit_costs(items: pl.DataFrame | None) -> pl.DataFrame | None:
    if items is None or "unit_cost" not in items.columns:
        return None
    require_columns(items.columns, ("sku",), source=ITEMS_OPTION)
    costs = items.select(
        pl.col("sku").cast(pl.String), pl.col("unit_cost").cast(pl.Float64, strict=False)
    )
    # Items listed per site (lead times per site) repeat the sku: the first stated cost counts.
    return costs.group_by("sku", maintain_order=True).agg(pl.col("unit_cost").drop_nulls().first())
