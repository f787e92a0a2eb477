"""Cost to serve: profit by segment, the cost stack, what each promise costs against the margin
it protects, and the least profitable customers (from ``segchain costs``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from typing import Any

import polars as pl

from segchain.formatting import UNITS, agree, format_number, plural
from segchain.report import charts as ch
from segchain.report.model import INT, MONEY, PCT, Block, Chart, Headline, Note, Section, TableBlock
from segchain.report.sections.common import (
    Colours,
    Meta,
    Tables,
    colour_list,
    count,
    days_col,
    groups_of,
    has,
    lacks,
    money,
    not_drawn,
    noted,
    num,
    order_frame,
    params_of,
    pct,
    segment_order,
    total,
    unknown,
    unknown_note,
    whole,
    with_unknowns,
)
from segchain.report.sections.network import (
    default_rate_note,
    has_promise,
    network_totals,
    unfinished_comparison,
)
from segchain.schema import (
    ANNUAL_FIXED_COST,
    BASELINE_UNFINISHED,
    BASELINE_UNFINISHED_SOURCE,
    COST_PART_INPUTS,
    COST_TO_SERVE_INPUTS,
    DAYS_PER_YEAR,
    META_PLANNED_UNITS,
    NETWORK_NEEDS_LOCATIONS,
    NO_DELIVERY_PROMISE_SOURCE,
    cost_basis,
)

NEEDED = ("segment", "revenue", "cost_to_serve", "profit")
# The cost stack, bottom to top, with how each part is named in the chart.
STACK = (
    ("order_handling", "order handling"),
    ("returns_handling", "returns handling"),
    ("transport", "transport"),
    ("warehouse_fixed", "warehouse fixed"),
    ("inventory_carrying", "inventory carrying"),
)
LEAST_PROFITABLE = 10
PROMISE_DELIVERY = ("delivery_promise_transport", "delivery_promise_fixed", "delivery_promise_cost")


# ---- data


def promise_costs(seg: pl.DataFrame) -> pl.DataFrame | None:
    """Per segment: gross margin, the cost of its delivery and service promises, and that cost
    as a share of the margin (None without either promise column)."""
    parts = [c for c in ("delivery_promise_cost", "service_promise_cost") if c in seg.columns]
    if not parts or seg.select(pl.all_horizontal(num(c).is_null() for c in parts).all()).item():
        return None
    # Null where no part is known (polars sums nothing to 0); a part unknown is named in the
    # table's note (``parts_note``).
    cost = pl.when(pl.any_horizontal(num(c).is_not_null() for c in parts)).then(
        pl.sum_horizontal(num(c) for c in parts)
    )
    margin = num("gross_margin") if "gross_margin" in seg.columns else pl.lit(None, pl.Float64)
    return seg.select(
        "segment",
        margin.alias("gross_margin"),
        *[num(c).alias(c) for c in parts],
        cost.alias("promise_cost"),
        pl.when(margin > 0).then(cost / margin).otherwise(None).alias("share_of_margin"),
        num("profit").alias("profit"),
    )


def parts_note(seg: pl.DataFrame, parts: list[tuple[str, str]], what: str) -> str:
    """Which parts a sum over ``parts`` (column, name) leaves out as unknown, and where:
    "promise_cost: delivery_promise_cost unknown, left out (Lost)"; segments without any part
    known are left alone (their sum is unknown as a whole)."""
    cols = [c for c, _ in parts if c in seg.columns]
    if not cols:
        return ""
    some = seg.filter(pl.any_horizontal(num(c).is_not_null() for c in cols))
    said = [
        f"{name} unknown, left out{groups_of(some, c)}"
        for c, name in parts
        if c in cols and unknown(some, c)
    ]
    return f"{what}: {'; '.join(said)}" if said else ""


def delivery_unfinished(seg: pl.DataFrame, meta: Meta) -> str:
    """What to say where the costs table's delivery_promise_* would show what the delivery
    promises cost, when they are empty because network's comparison plan without promises was
    not finished within its --time-limit (the assignments' totals say so, or costs' own record
    of where the columns came from); else ""."""
    if "delivery_promise_cost" in seg.columns and total(seg, "delivery_promise_cost") is not None:
        return ""
    totals = network_totals(meta)
    sources = meta.get("costs", {}).get("sources")
    said = isinstance(sources, Mapping) and (
        sources.get("delivery_promise_cost") == BASELINE_UNFINISHED_SOURCE
    )
    if said and totals.get("baseline_status") is None:
        totals = {**totals, "baseline_status": BASELINE_UNFINISHED}
    return unfinished_comparison(totals, params_of(meta, "assignments") or params_of(meta, "sites"))


# What the promise table says when no segment has a delivery promise (its column dropped).
NO_DELIVERY_PROMISE = (
    "Delivery: no segment has a delivery promise (no max_delivery_days in the config), so "
    "none is costed."
)


def cheaper_note(promises: pl.DataFrame) -> str:
    """What a negative promise cost means, where one is (Superstore with promises: Loyal
    -367,755 beside Champions 141,490, unexplained): the plan with the promises serves that
    segment for less than the plan without them, and the figures add up to the whole plan's."""
    cheaper = promises.filter(pl.col("promise_cost") < 0)["segment"].to_list()
    if not cheaper:
        return ""
    whole = total(promises, "promise_cost")
    return (
        f" A negative cost ({', '.join(str(s) for s in cheaper)}): the segment is served for "
        "less with the promises than without them (sites chosen for other segments' promises "
        "nearer to it, or a service target below the uniform one); over all segments the "
        f"promises cost {money(whole)}."
    )


def no_delivery_promise(seg: pl.DataFrame, meta: Meta, tables: Tables) -> bool:
    """Whether the costs table's delivery_promise_* are empty because no segment has a
    delivery promise: costs' own record of where the columns came from says so, or the
    assignments given beside it promise no customer a delivery time. Such a column is no
    unknown cost (nothing is promised, so nothing is costed), and was 0.00, a promise kept
    for free."""
    if "delivery_promise_cost" not in seg.columns:
        return False
    if total(seg, "delivery_promise_cost") is not None:
        return False
    sources = meta.get("costs", {}).get("sources")
    if isinstance(sources, Mapping) and (
        sources.get("delivery_promise_cost") == NO_DELIVERY_PROMISE_SOURCE
    ):
        return True
    asg = tables.get("assignments")
    return asg is not None and not has_promise(asg)


def least_profitable(customers: pl.DataFrame, n: int = LEAST_PROFITABLE) -> pl.DataFrame:
    shown = [
        c
        for c in ("customer_id", "segment", "revenue", "gross_margin", "cost_to_serve", "profit")
        if c in customers.columns
    ]
    return (
        customers.filter(num("profit").is_not_null())
        .sort(["profit", "customer_id"], nulls_last=True)
        .head(n)
        .select(shown)
    )


def _not_ranked(customers: pl.DataFrame) -> str:
    """The customers left out of the ranking for want of a profit ("" when none)."""
    n = unknown(customers, "profit")
    if not n:
        return ""
    whose = "customer's" if n == 1 else "customers'"
    return f"Not ranked: {count(n)} {whose} profit unknown{groups_of(customers, 'profit')}."


def missing_counts(customers: pl.DataFrame) -> dict[str, int]:
    """How many customers lack each cost, by their costs_missing cells ("cogs, transport")."""
    counts: dict[str, int] = {}
    if "costs_missing" not in customers.columns:
        return counts
    for cell in customers["costs_missing"].cast(pl.String).drop_nulls().to_list():
        for part in {p.strip() for p in cell.split(",") if p.strip()}:
            counts[part] = counts.get(part, 0) + 1
    return counts


def _lacking(counts: Mapping[str, int], n: int) -> str:
    """What the customers' costs lack: the parts every customer lacks, then the others with
    how many lack them ("every customer's costs lack cogs; transport, warehouse_fixed: 5
    customers"). A union of the cells had said all 4,372 lacked what 5 lacked (audit C C4)."""
    if not counts:
        return ""
    everyone = sorted(p for p, k in counts.items() if k == n)
    groups: dict[int, list[str]] = {}
    for part, k in sorted(counts.items()):
        if k < n:
            groups.setdefault(k, []).append(part)
    whose = "its" if n == 1 else "every customer's"
    said = [f"{whose} costs lack {', '.join(everyone)}"] if everyone else []
    said += [
        f"{', '.join(parts)}: {plural(k, 'customer')}"
        for k, parts in sorted(groups.items(), reverse=True)
    ]
    return f" ({'; '.join(said)})"


def _no_customer_profit(customers: pl.DataFrame) -> str:
    """Why the customer costs rank no customer: not one has a profit, and what to give costs
    for it: --items' unit_cost where no customer has a cogs, a cost input where no customer
    has any part of the cost to serve (--items alone had been told to add --items)."""
    n = customers.height
    counts = missing_counts(customers)
    which = (
        f"the {plural(n, 'customer')} in the customer costs has no profit"
        if n == 1
        else f"none of the {plural(n, 'customer')} in the customer costs has a profit"
    )
    no_cogs = counts.get("cogs", 0) == n
    no_cost = bool(counts) and all(counts.get(c, 0) == n for c, _ in STACK)
    if no_cost and not no_cogs:
        remedy = (
            f"with at least one of {COST_TO_SERVE_INPUTS} so each customer's cost to serve, "
            "and so its profit, is known"
        )
    elif no_cost:
        remedy = (
            f"with --items (unit_cost) and at least one of {COST_TO_SERVE_INPUTS} so each "
            "customer's gross margin and cost to serve, and so its profit, are known"
        )
    else:
        remedy = (
            "with --items (unit_cost) so each customer's gross margin, and so its profit, is known"
        )
    return (
        f"Least profitable customers: {which}{_lacking(counts, n)}; run segchain costs "
        f"--by customer {remedy}."
    )


# ---- wording


def _profit_chart(seg: pl.DataFrame, colours: Colours) -> Chart:
    names = seg["segment"].to_list()
    plot = partial(
        ch.bars,
        names=names,
        values=seg.select(num("profit"))["profit"].to_list(),
        colours=colour_list(names, colours),
        title="Profit by segment (gross margin - cost to serve)",
    )
    return Chart(
        "profit",
        "Profit by segment",
        plot,
        size=(8.0, 0.9 + 0.32 * len(names)),
        caption=with_unknowns("", not_drawn(seg, ("profit",))),
    )


def _stack_chart(seg: pl.DataFrame) -> Chart | None:
    parts = [
        (c, name) for c, name in STACK if c in seg.columns and seg[c].null_count() < seg.height
    ]
    if not parts:
        return None
    names = seg["segment"].to_list()
    revenue = seg.select(num("revenue"))["revenue"].to_list()
    shared = seg.filter(num("revenue") > 0)
    stack = [
        (
            name,
            [
                None if v is None or not r or r <= 0 else v / r
                for v, r in zip(seg.select(num(c))[c].to_list(), revenue, strict=True)
            ],
        )
        for c, name in parts
    ]
    plot = partial(
        ch.stacked_bars,
        names=names,
        parts=stack,
        title="Cost to serve per unit of revenue, by cost",
        kind=PCT,
    )
    return Chart(
        "cost_stack",
        "Cost stack by segment",
        plot,
        size=(8.0, 1.2 + 0.34 * len(names)),
        caption=with_unknowns(
            "Each cost as a share of the segment's revenue; the label is the total.",
            parts_note(shared, parts, "Totals"),
        ),
    )


def _some_uncosted(row: Mapping[str, Any]) -> bool:
    """Whether a segment's profit counts other revenue than the row's (customers without a
    cogs: costs' costed_revenue is not its revenue)."""
    costed, revenue = row.get("costed_revenue"), row.get("revenue")
    if not isinstance(costed, int | float) or not isinstance(revenue, int | float):
        return False
    # Not "below": a customer left out may have returned more than it bought (Online Retail's
    # Lost: 149,240.78 counted of 148,428.92).
    return round(costed, 2) != round(revenue, 2)


def least_profitable_segment(seg: pl.DataFrame) -> dict[str, Any] | None:
    """The segment that earns the least money (lowest profit; ties alphabetically), None when
    no segment's profit is known. By money, not by profit as a share of revenue: the share
    ranks a tiny revenue base first (Superstore with an item master: Promising, 0.17 % of the
    revenue, at -156.3 % losing 6,259, over Loyal losing 155,019 at -19.2 %)."""
    known = seg.filter(num("profit").is_not_null())
    if not known.height:
        return None
    # As numbers: a costs table edited by hand may hold them as text.
    figures = [num(c) for c in ("profit", "profit_share") if c in known.columns]
    return known.with_columns(figures).sort("profit", "segment").row(0, named=True)


def _profit_of_revenue(seg: pl.DataFrame, profit: float, revenue: float | None) -> str:
    """The headline profit as a share of the revenue it counts: that of the customers with a
    cogs (costs' costed_revenue), where some have none; the profit of those customers over
    the revenue of all had read 14.4 % for 32.9 %."""
    known = seg.filter(num("profit").is_not_null())
    costed = total(known, "costed_revenue")
    if costed is None or revenue is None or round(costed, 2) == round(revenue, 2):
        return f"{pct(profit / revenue if revenue else None)} of revenue {money(revenue)}"
    return (
        f"{pct(profit / costed if costed else None)} of the revenue of the customers with a "
        f"cogs, {money(costed)} of {money(revenue)}"
    )


def costs_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    seg = tables.get("costs")
    if seg is None:
        return "Cost to serve: no costs table (segchain costs) in the inputs."
    missing = lacks(seg, NEEDED)
    if missing:
        return f"Cost to serve: the costs table lacks {', '.join(missing)}."
    seg = order_frame(seg.with_columns(pl.col("segment").cast(pl.String)), segment_order(tables))
    revenue, profit, cts = total(seg, "revenue"), total(seg, "profit"), total(seg, "cost_to_serve")

    def share(x: float | None) -> float | None:
        return x / revenue if x is not None and revenue else None

    unknown_revenue = unknown_note(seg, "revenue", "segment", "revenue")
    mixed = planned_units(meta)
    heads = [
        Headline(
            "Profit",
            money(profit),
            noted(
                # No profit known (no unit costs): no share of revenue to give ("– of revenue").
                _profit_of_revenue(seg, profit, revenue)
                if profit is not None
                else f"revenue {money(revenue)}",
                unknown_note(seg, "profit", "segment", "profit"),
                unknown_revenue,
                f"mixes two periods: the plan's {units(mixed[0])} units, the orders' "
                f"{units(mixed[1])}"
                if mixed
                else "",
            ),
        ),
        Headline(
            "Cost to serve",
            money(cts),
            noted(
                f"{pct(share(cts))} of revenue",
                unknown_note(seg, "cost_to_serve", "segment", "cost to serve"),
                unknown_revenue,
            ),
        ),
    ]
    worst = least_profitable_segment(seg)
    if worst is not None:
        share_of = (
            f", {pct(worst['profit_share'])} of its revenue"
            + (" of the customers with a cogs" if _some_uncosted(worst) else "")
            if worst.get("profit_share") is not None
            else ""
        )
        heads.append(
            Headline(
                "Least profitable segment",
                ch.label(worst["segment"]),
                f"profit {money(worst['profit'])}{share_of}",
            )
        )
    blocks: list[Block] = [Note(two_periods_note(*mixed))] if mixed else []
    default_rate = default_rate_note(meta)
    if default_rate and "transport" in seg.columns and total(seg, "transport") is not None:
        # The transport column is network's plan's: at the default rate it is no freight cost,
        # and the profit beside it is not either (Online Retail: 115 a unit of goods).
        blocks.append(Note(f"{default_rate} Then run costs again."))
    at_price = carried_not_at_cost(seg, tables.get("policy"))
    if at_price:
        blocks.append(Note(at_price))
    blocks.append(_profit_chart(seg, colours))
    stack = _stack_chart(seg)
    if stack is not None:
        blocks.append(stack)
    no_promise = no_delivery_promise(seg, meta, tables)
    promised = seg.drop([c for c in PROMISE_DELIVERY if no_promise and c in seg.columns])
    promises = promise_costs(promised)
    unfinished = "" if no_promise else delivery_unfinished(seg, meta)
    if promises is None and no_promise:
        blocks.append(Note(NO_DELIVERY_PROMISE))
    if promises is None and unfinished:
        blocks.append(Note(unfinished))
    if promises is not None:
        blocks.append(
            TableBlock(
                "What each promise costs, against the margin it brings",
                promises,
                formats={
                    c: MONEY for c in promises.columns if c not in ("segment", "share_of_margin")
                }
                | {"share_of_margin": PCT},
                heat=("share_of_margin",),
                note=with_unknowns(
                    "Delivery: network's plan against its plan without promises; service: "
                    "stock's segmented targets against one uniform target with the same mean "
                    "service.",
                    parts_note(
                        promised,
                        [(c, c) for c in ("delivery_promise_cost", "service_promise_cost")],
                        "promise_cost",
                    ),
                )
                + (f" {unfinished}" if unfinished else "")
                + (f" {NO_DELIVERY_PROMISE}" if no_promise else "")
                + cheaper_note(promises),
            )
        )
    shown = [
        c
        for c in ("segment", "customers", "revenue", "gross_margin", *(s for s, _ in STACK))
        + ("cost_to_serve", "profit", "profit_share")
        if c in seg.columns
    ]
    blocks.append(
        TableBlock(
            "Cost to serve and profit by segment",
            seg.select(shown),
            formats={c: MONEY for c in shown if c not in ("segment", "customers", "profit_share")}
            | {"customers": INT, "profit_share": PCT},
            heat=tuple(c for c in ("profit_share",) if c in shown),
        )
    )
    customers = tables.get("customer_costs")
    if customers is not None and not lacks(customers, ("customer_id", "profit")):
        lowest = least_profitable(customers)
        if lowest.height:
            blocks.append(
                TableBlock(
                    f"The {lowest.height} least profitable customers"
                    if lowest.height != 1
                    else "The least profitable customer",
                    lowest,
                    formats={
                        c: MONEY for c in lowest.columns if c not in ("customer_id", "segment")
                    },
                    note=_not_ranked(customers),
                )
            )
        else:
            blocks.append(Note(_no_customer_profit(customers)))
    if "costs_missing" in seg.columns:
        blocks += [Note(text) for text in left_out_notes(seg)]
    subtitle = _subtitle(seg, meta, mixed, yearly=_yearly_fixed_cost(meta, tables.get("sites")))
    return Section("costs", "Cost to serve and profit", subtitle, heads, blocks)


def carried_not_at_cost(seg: pl.DataFrame, policy: pl.DataFrame | None) -> str:
    """What to say of inventory carrying on a policy that stock valued at the mean selling
    price or at 1 a unit (no unit cost in an item master): the inventory section says it of
    its values, and the carrying cost in cost to serve is as far from cost (Superstore: 59.9 %
    of revenue, most of it carrying at price). "" when at cost, unknown or not carried."""
    if policy is None or "inventory_carrying" not in seg.columns:
        return ""
    if total(seg, "inventory_carrying") is None:
        return ""
    basis = cost_basis(policy)
    price, units = basis.get("price", 0), basis.get("default", 0)
    if not price and not units:
        return ""
    said = [
        f"{count(n)} at {what}"
        for n, what in (
            (price, "the mean selling price (above cost)"),
            (units, "1 a unit (no cost: a count of units)"),
        )
        if n
    ]
    return (
        "Inventory carrying is on the policy's inventory value, which is not at cost: of its "
        f"{count(sum(basis.values()))} stocking points, {' and '.join(said)}. Give stock "
        "--items with each sku's unit_cost, then run costs again."
    )


_PART = re.compile(r"^(?P<cost>.+?)(?: \((?P<n>\d+) customers?\))?$")


def left_out_notes(seg: pl.DataFrame) -> list[str]:
    """What the costs table's costs_missing says, per cost and not per segment: the parts of
    cost to serve left out, and apart from them cogs, which is no part of cost to serve but of
    the gross margin and profit. It had joined each segment's text as written: "Left out of
    cost to serve for lack of input: cogs, order_handling; cogs, order_handling,
    warehouse_fixed (42 customers); ..." (Online Retail), segments unnamed, and cogs said to be
    left out of cost to serve."""
    # Text as written; a hand-edited file may give the column another type.
    labels = (
        seg["segment"].cast(pl.String).to_list()
        if "segment" in seg.columns
        else [None] * seg.height
    )
    where: dict[str, list[str]] = {}
    whole: dict[str, int] = {}
    for label, text in zip(labels, seg["costs_missing"].cast(pl.String).to_list(), strict=True):
        for part in (text or "").split(","):
            found = _PART.match(part.strip())
            if found is None:
                continue
            cost, n = found["cost"], found["n"]
            name = label if label is not None and label.strip() else "a segment without a name"
            where.setdefault(cost, []).append(
                name
                if n is None
                else f"{name}: {count(int(n))} {agree(int(n), 'customer', 'customers')}"
            )
            whole[cost] = whole.get(cost, 0) + (n is None)

    def place(cost: str) -> str:
        return "every segment" if whole[cost] == seg.height else "; ".join(where[cost])

    notes = []
    parts: dict[str, list[str]] = {}
    for cost in where:
        if cost != "cogs":
            parts.setdefault(place(cost), []).append(cost)
    if parts:
        notes.append(
            "Left out of cost to serve for lack of input: "
            + "; ".join(f"{', '.join(costs)} ({at})" for at, costs in parts.items())
            + "."
        )
        notes += _inputs_to_add([cost for costs in parts.values() for cost in costs])
    if "cogs" in where:
        notes.append(
            "Gross margin and profit are unknown: no customer has a cogs (no unit cost: give "
            "segchain costs --items with a unit_cost)."
            if place("cogs") == "every segment"
            else "Gross margin, profit and profit share count only the customers with a cogs "
            "(their revenue less their cogs and cost to serve); without one (no unit cost in "
            f"the items): {place('cogs')}."
        )
    return notes


def _inputs_to_add(left_out: list[str]) -> list[str]:
    """The note after the costs left out: the input of segchain costs that adds each (of the
    parts it knows; a hand-edited column's other text is named above alone), and, for
    network's, what network needs. A run without geography had said "for lack of input" and
    named none."""
    known = [cost for cost in COST_PART_INPUTS if cost in left_out]
    if not known:
        return []
    located = (
        f"; {NETWORK_NEEDS_LOCATIONS}" if {"transport", "warehouse_fixed"} & set(known) else ""
    )
    return [
        "To add them, give segchain costs "
        + "; ".join(f"{COST_PART_INPUTS[cost]} for {cost}" for cost in known)
        + f"{located}."
    ]


def _yearly_fixed_cost(meta: Meta, sites: pl.DataFrame | None) -> bool:
    """Whether costs took the sites' fixed costs as a year's (its sources say so), or, for a
    costs table without metadata, the sites given beside it have an annual_fixed_cost."""
    info: Any = meta.get("costs", {})
    sources = info.get("sources") if isinstance(info, dict) else None
    source = sources.get("warehouse_fixed") if isinstance(sources, Mapping) else None
    if isinstance(source, str):
        return ANNUAL_FIXED_COST in source
    return sites is not None and ANNUAL_FIXED_COST in sites.columns


def _subtitle(
    seg: pl.DataFrame, meta: Meta, mixed: tuple[float, float] | None, *, yearly: bool = False
) -> str:
    info: Any = meta.get("costs", {})
    period = info.get("period") if isinstance(info, dict) else None
    # A damaged period_days is left out here, and named on stderr (consistency.mismatches).
    days = (
        whole(seg.select(days_col("period_days").max()).item()) if has(seg, "period_days") else None
    )
    when = ""
    if isinstance(period, list) and len(period) == 2 and all(period):
        when = f" from {period[0]} to {period[1]}"
    length = f" ({plural(days, 'day')})" if isinstance(days, int) else ""
    if mixed:
        return (
            "Revenue, goods and the costs of serving each segment over the order history"
            f"{when}{length}, but transport and warehouse fixed cost, which are network's plan "
            f"for {units(mixed[0])} units; inventory carried at its holding rate over the "
            "order history's span."
        )
    # A site's fixed_cost is read as its cost over that span (network weighs it against the
    # transport of the demand over it): said, as a yearly figure there overstates profit. A
    # year's (annual_fixed_cost) is taken over the span: said so.
    fixed = (
        (
            f"; warehouse fixed cost is the sites' yearly {ANNUAL_FIXED_COST} taken over that "
            f"span (x its days / {DAYS_PER_YEAR:g})"
            if yearly
            else "; warehouse fixed cost is the sites' fixed_cost as given, their cost over "
            "that span, not a year"
        )
        if "warehouse_fixed" in seg.columns and total(seg, "warehouse_fixed") is not None
        else ""
    )
    return (
        f"Revenue, goods and every cost of serving each segment over the order history{when}"
        f"{length}; inventory carried at its holding rate over the same span{fixed}."
    )


def planned_units(meta: Meta) -> tuple[float, float] | None:
    """The units network planned for and the same customers' net units in the orders costs
    read, when costs found them of two periods (its metadata's ``planned_units``); else None.
    costs warned of it on stderr only, and the page said every cost covered the orders' span
    beside a profit of the plan's transport and the orders' revenue (audit S, session 63)."""
    info: Any = meta.get("costs", {})
    mixed = info.get(META_PLANNED_UNITS) if isinstance(info, Mapping) else None
    if not isinstance(mixed, Mapping):
        return None
    planned, ordered = mixed.get("planned"), mixed.get("ordered")
    if not isinstance(planned, (int, float)) or not isinstance(ordered, (int, float)):
        return None
    return (float(planned), float(ordered)) if planned > 0 else None


def two_periods_note(planned: float, ordered: float) -> str:
    return (
        f"Profit mixes two periods: transport and warehouse fixed cost are network's plan for "
        f"{units(planned)} units, revenue and the other costs are the orders', in which the "
        f"same customers bought {units(ordered)} net units ({ordered / planned:.0%} of the "
        "plan). For one period, give costs the orders network was planned on (segment's, same "
        "--as-of)."
    )


def units(x: float) -> str:
    return format_number(x, UNITS)
