"""Order history: the order lines the stages ran on, net value per month, flagged lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import cast

import polars as pl

from segchain.report import charts as ch
from segchain.report.model import INT, Block, Chart, Headline, Section, TableBlock
from segchain.report.sections.common import (
    Colours,
    Meta,
    Tables,
    count,
    filled,
    groups_of,
    lacks,
    money,
    noted,
    num,
    total,
    unfilled_note,
    unknown_note,
    with_unknowns,
)
from segchain.schema import product_line

# ---- data


def line_value(orders: pl.DataFrame) -> pl.Expr | None:
    """A line's value: ``amount``, else quantity x unit_price; None when neither is given."""
    if "amount" in orders.columns:
        return num("amount")
    if "unit_price" in orders.columns:
        return num("quantity") * num("unit_price")
    return None


def _product(o: pl.DataFrame) -> pl.Expr:
    return product_line() if "flag" in o.columns else pl.lit(True)


def with_product_value(orders: pl.DataFrame, value: pl.Expr | None) -> pl.DataFrame:
    """Order dates as dates and ``_value``: the line's value on product lines, 0 on the others."""
    o = orders.with_columns(pl.col("order_date").cast(pl.Date))
    if value is None:
        return o
    return o.with_columns(pl.when(_product(o)).then(value).otherwise(0.0).alias("_value"))


def monthly_value(o: pl.DataFrame) -> pl.DataFrame:
    """Net product value per month, every month from the first to the last: its known values
    summed; unknown (null) for a month whose every product line's value is unknown, which
    summed to 0 would read as a month of no sales (a month of non-product lines alone is 0);
    0 for a month without any line (``_lines`` false), which was left out: no bar, told from
    an unknown month by nothing."""
    product = _product(o)
    known = (product & pl.col("_value").is_not_null()).any() | ~product.any()
    # An eager group-by copies every column of the frame it groups: only those read are given.
    read = ["order_date", "_value", *(["flag"] if "flag" in o.columns else [])]
    months = (
        o.select(read)
        .group_by(pl.col("order_date").dt.truncate("1mo").alias("month"))
        .agg(pl.when(known).then(pl.col("_value").sum()).alias("_value"))
        .drop_nulls("month")
        .with_columns(pl.lit(True).alias("_lines"))
    )
    if not months.height:
        return months.sort("month")
    first, last = cast(dt.date, months["month"].min()), cast(dt.date, months["month"].max())
    span = pl.select(pl.date_range(first, last, "1mo").alias("month"))
    return (
        span.join(months, on="month", how="left")
        .with_columns(
            pl.col("_lines").fill_null(False),
            pl.when(pl.col("_lines").is_null())
            .then(0.0)
            .otherwise(pl.col("_value"))
            .alias("_value"),
        )
        .sort("month")
    )


def _monthly_unknowns(o: pl.DataFrame, monthly: pl.DataFrame) -> list[str]:
    """What the monthly sums leave out: lines whose value is unknown (by month), the months so
    not drawn (``monthly``: ``monthly_value``'s), lines whose date is unknown."""
    # Of the lines, the two columns read: a filter copies each column it keeps.
    months = o.select("_value", pl.col("order_date").dt.strftime("%Y-%m").alias("_month"))
    dated = months.filter(pl.col("_month").is_not_null())
    undated = o.height - dated.height
    whose = "order line's" if undated == 1 else "order lines'"
    gaps = monthly.filter(pl.col("_value").is_null())["month"].dt.strftime("%Y-%m").to_list()
    empty = _months(monthly.filter(~pl.col("_lines")))
    return [
        unknown_note(dated, "_value", "order line", "value") + groups_of(dated, "_value", "_month"),
        f"{count(len(gaps))} month{'s' * (len(gaps) != 1)} not drawn ({', '.join(gaps)})"
        if gaps
        else "",
        f"{count(len(empty))} month{'s' * (len(empty) != 1)} without an order line, drawn at 0 "
        f"({_listed(empty)})"
        if empty
        else "",
        f"{count(undated)} {whose} date unknown, left out" if undated else "",
    ]


def _months(monthly: pl.DataFrame) -> list[str]:
    return monthly["month"].dt.strftime("%Y-%m").to_list()


def _listed(months: list[str], shown: int = 6) -> str:
    """``2024-02, 2024-03`` (the first ``shown``, then how many more)."""
    more = len(months) - shown
    return ", ".join(months[:shown]) + (f" and {count(more)} more" if more > 0 else "")


@dataclass(frozen=True)
class PartMonths:
    """The export's first and last months where its orders do not cover them whole: their
    bars stand for fewer days than a month's (Online Retail ends on 2011-12-09, and its
    December's nine days read as a collapse drawn as a full month)."""

    first: dt.date  # the orders' first and last dates
    last: dt.date
    start: bool  # the first month starts after its 1st
    end: bool  # the last month ends before its last day

    @property
    def months(self) -> list[dt.date]:
        """The part months, as ``monthly_value`` names them (their 1st)."""
        firsts = [self.first.replace(day=1)] * self.start + [self.last.replace(day=1)] * self.end
        return list(dict.fromkeys(firsts))

    def legend(self) -> str:
        """The part months' label on the chart: ``part month: orders to 2011-12-09``."""
        if len(self.months) == 1 and self.start and self.end:
            return f"part month: orders {self.first} to {self.last}"
        ends = [f"from {self.first}"] * self.start + [f"to {self.last}"] * self.end
        return f"part month{'s' * (len(ends) > 1)}: orders {', '.join(ends)}"

    def caption(self) -> str:
        """The sentence under the chart: which months, and how many of their days the orders
        cover (``2011-12 is a part month: the orders end on 2011-12-09 (9 of its 31 days),
        drawn lighter``)."""
        months = self.months
        named = " and ".join(m.strftime("%Y-%m") for m in months)
        named += " are part months" if len(months) > 1 else " is a part month"
        if len(months) == 1 and self.start and self.end:
            span = f"run from {self.first} to {self.last} ({_days(self.first, self.last)})"
            return f"{named}: the orders {span}, drawn lighter"
        ends = [f"start on {self.first} ({_days(self.first, _month_end(self.first))})"] * (
            self.start
        ) + [f"end on {self.last} ({_days(self.last.replace(day=1), self.last)})"] * self.end
        return f"{named}: the orders {' and '.join(ends)}, drawn lighter"


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _days(start: dt.date, end: dt.date) -> str:
    """``9 of its 31 days``: the days from ``start`` to ``end`` in their month."""
    return f"{(end - start).days + 1} of its {_month_end(start).day} days"


def part_months(o: pl.DataFrame) -> PartMonths | None:
    """The export's part months (``PartMonths``) from the dates of its lines (every line: the
    export's span, postage and returns included), or None when it covers both whole. A month
    counts as whole only from its 1st to its last day: the report cannot tell a day without
    orders from a day the export leaves out, and says which days it has."""
    dates = o["order_date"].drop_nulls()
    if dates.is_empty():
        return None
    first, last = cast(dt.date, dates.min()), cast(dt.date, dates.max())
    part = PartMonths(first, last, start=first.day != 1, end=last != _month_end(last))
    return part if part.start or part.end else None


def flag_counts(o: pl.DataFrame) -> pl.DataFrame:
    return (
        o.select("flag")
        .filter(pl.col("flag").is_not_null())
        .group_by(pl.col("flag").cast(pl.String))
        .agg(pl.len().alias("lines"))
        .sort("flag")
    )


# ---- wording


def orders_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    orders = tables.get("orders")
    if orders is None:
        return (
            "Order history: no order lines in the inputs "
            "(optional; they add the forecast's history)."
        )
    missing = lacks(orders, ["order_date", "quantity"])
    if missing:
        return f"Order history: the order lines lack {', '.join(missing)}."
    value = line_value(orders)
    o = with_product_value(orders, value)
    heads = [
        Headline(
            "Order lines",
            count(o.height),
            f"{cast('dt.date | None', o['order_date'].min())} to "
            f"{cast('dt.date | None', o['order_date'].max())}",
        )
    ]
    if "customer_id" in o.columns:
        # A line whose customer id is empty or blank names no customer: counted apart.
        heads.append(
            Headline(
                "Customers",
                count(
                    o.select(pl.col("customer_id").filter(filled("customer_id")).n_unique()).item()
                ),
                noted(
                    "with an order line",
                    unfilled_note(o, "customer_id", "order line", "customer"),
                ),
            )
        )
    if value is not None:
        heads.append(
            Headline(
                "Net value",
                money(total(o, "_value")),
                noted(
                    "product lines, returns netted",
                    unknown_note(o, "_value", "order line", "value"),
                ),
            )
        )
    elif "sku" in o.columns:
        heads.append(
            Headline(
                "SKUs",
                count(o.select(pl.col("sku").filter(filled("sku")).n_unique()).item()),
                noted("ordered", unfilled_note(o, "sku", "order line", "sku")),
            )
        )
    blocks: list[Block] = []
    if value is not None:
        monthly = monthly_value(o)
        part = part_months(o)
        plot = partial(
            ch.monthly_bars,
            months=monthly["month"].to_list(),
            values=ch.gaps(monthly["_value"].to_list()),
            empty=monthly.filter(~pl.col("_lines"))["month"].to_list(),
            part=part.months if part else (),
            part_label=part.legend() if part else "",
        )
        blocks.append(
            Chart(
                "orders",
                "Net order value per month",
                plot,
                size=(9.0, 2.6),
                caption=with_unknowns(
                    part.caption() + "." if part else "", *_monthly_unknowns(o, monthly)
                ),
            )
        )
    if "flag" in o.columns:
        flags = flag_counts(o)
        if flags.height:
            blocks.append(TableBlock("Flagged lines (kept)", flags, formats={"lines": INT}))
    return Section(
        "orders", "Order history", "The order lines the stages were run on.", heads, blocks
    )
