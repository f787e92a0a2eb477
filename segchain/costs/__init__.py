"""costs: cost to serve and profit per segment (or customer), every figure with its source.

Pure: polars frames in, a ``CostsResult`` out (the table, each column's source, and the
reconciliation of every total with the table it comes from). One period throughout: the span of
the order history (``period_days``); inventory carrying is average inventory value x holding
rate x period_days / 365.25 (``schema.DAYS_PER_YEAR``). A cost with no input is null, never
zero.

Modules: ``rates`` (the ``[costs]`` table), ``sales`` (revenue, goods, orders per customer),
``allocate`` (fixed cost by demand served, inventory by segment and customer), ``promise``
(what each segment's delivery and service promises cost).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from segchain.costs import allocate, promise, sales
from segchain.costs.options import OPTION
from segchain.costs.rates import CostRates, parse_rates
from segchain.errors import DataError, UsageError, about, examples
from segchain.formatting import UNITS, agree, format_number, plural
from segchain.numbers import sum_any_order, sum_left_to_right
from segchain.schema import (
    ANNUAL_FIXED_COST,
    ASSIGNMENTS_OPTION,
    COST_PART_INPUTS,
    COST_TO_SERVE_INPUTS,
    COSTS_SITE_LOOKALIKES,
    DAYS_PER_YEAR,
    FORECAST_OPTION,
    ITEM_MASTER_HINT,
    ITEM_RULES,
    ITEMS_OPTION,
    MAX_VALUE,
    NETWORK_NEEDS_LOCATIONS,
    ORDERS_OPTION,
    POLICY_OPTION,
    SEGMENT_ROWS_HINT,
    SEGMENTS_ARGUMENT,
    SEGMENTS_HINT,
    SITE_OTHER_WORDS,
    SITES_OPTION,
    STAGE_TABLE_RULES,
    STOCK_SEGMENTS_OPTION,
    InputRule,
    blank_ids,
    blank_problems,
    check_assignments,
    check_one_row_per_customer,
    cost_basis,
    duplicate_keys,
    lost_zeros,
    lost_zeros_hint,
    number_problems,
    numeric_columns,
    one_row_hint,
    require_columns,
    require_one_of,
    require_rows,
    unread_lookalikes,
    written_otherwise,
    yearly_fixed_cost,
)
from segchain.stock.inputs import ITEM_LIMITS, PointsTable, item_site_messages

BY = ("segment", "customer")
# Every cost that adds up to cost_to_serve, in the order of the cost stack.
COST_COMPONENTS = (
    "order_handling",
    "returns_handling",
    "transport",
    "warehouse_fixed",
    "inventory_carrying",
)
PROMISE_COLUMNS = (
    "delivery_promise_transport",
    "delivery_promise_fixed",
    "delivery_promise_cost",
    "service_promise_inventory",
    "service_promise_cost",
)
# The policy's stocking points, as the item master's rows at sites are matched with them, for the
# one value per site costs reads of the policy, the holding rate (a unit cost at a site is
# matched with the order lines' own sites, sales.site_unit_costs).
POLICY_POINTS = PointsTable(
    table=POLICY_OPTION,
    word="the policy",
    unused="not used as a site's own holding_rate",
    fallback="every stocking point takes its sku's holding_rate on a row without a site, or the "
    "default",
    site_fallback="else the rows of such a site give no site its own holding_rate",
)
# Same default as stock's item master (segchain.stock.ITEM_DEFAULTS), kept in step by a test.
DEFAULT_HOLDING_RATE = 0.25


INPUT_RULES: dict[str, InputRule] = {
    **STAGE_TABLE_RULES,
    "forecast": InputRule(
        ("unique_id", "ds"),
        {"forecast": ">= 0"},
        "give forecast's table as written (forecasts are numbers >= 0)",
        whole_key=True,
        filled=("forecast",),
    ),
    "items": InputRule(
        ("sku", "site"),
        # unit_cost may be 0 here (goods given away cost nothing); stock needs > 0.
        {"unit_cost": ">= 0", "holding_rate": ITEM_RULES["holding_rate"]},
        "fix the item master: one row per sku (or sku x site), unit_cost >= 0 and "
        "holding_rate > 0 a year, or leave a value empty",
        # The bound stock applies to the same item master, --holding-rate's.
        limits={"holding_rate": ITEM_LIMITS["holding_rate"]},
        ids=("sku",),
    ),
}


def check_input(
    frame: pl.DataFrame, name: str, headers: Mapping[str, str | None] | None = None
) -> None:
    """Refuse an input by ``INPUT_RULES[name]``, listing every problem at once. ``headers``:
    the header a rule's column is written under, where another (``annual_fixed_cost`` as
    ``fixed_cost_per_year``).

    Raises:
        DataError: a key on several rows; a number blank (``filled``), NaN, infinite, above
            MAX_VALUE or breaking its rule (naming the column, the row's key and the value).
    """
    rule = INPUT_RULES[name]
    problems = [p for k in rule.ids if k in frame.columns for p in blank_ids(frame, k)]
    keyed = not rule.whole_key or all(k in frame.columns for k in rule.keys)
    # A blank id is refused above (rule.ids): not named again as a key on several rows.
    dup = duplicate_keys(frame, rule.keys, blank_apart=rule.ids) if rule.unique and keyed else []
    problems += dup
    problems += blank_problems(frame, rule.filled, keys=rule.keys)
    for column, how in rule.numbers.items():
        limit = rule.limits.get(column, MAX_VALUE)
        written = (headers or {}).get(column) or column
        problems += number_problems(frame, {written: how}, keys=rule.keys, limit=limit)
    if problems:
        keys = [k for k in rule.keys if k in frame.columns]
        hint = one_row_hint(keys, rule.hint) if dup else rule.hint
        raise DataError(f"{OPTION[name]}: " + "; ".join(problems), hint=hint)


def _total(frame: pl.DataFrame, column: str) -> float:
    """A column's total over one chunk: summed over the chunks a query returned, one per
    polars thread, its last bits followed the thread count (Superstore's warehouse fixed costs
    allocated 91,000.00000000001 on 1 thread, 91,000.0 on 2, in the reconciliation)."""
    return float(frame.get_column(column).rechunk().sum())


@dataclass(frozen=True)
class Check:
    """A total reconciled with its source table: ``source_total = sum(parts)``."""

    name: str
    source: str
    source_total: float
    parts: dict[str, float]

    @property
    def difference(self) -> float:
        return self.source_total - sum(self.parts.values())

    @property
    def ok(self) -> bool:
        total, parts = self.source_total, sum(self.parts.values())
        return math.isfinite(total) and math.isfinite(parts) and round(total, 2) == round(parts, 2)

    def line(self) -> str:
        parts = " + ".join(f"{k} {v:,.2f}" for k, v in self.parts.items())
        # A float sum's last-bit residue under half a cent printed as '-0.00' ('+ 0.0' makes
        # the rounded -0.0 a 0.0): a reconciliation that holds says 0.00.
        difference = round(self.difference, 2) + 0.0
        return (
            f"{self.name}: {self.source} {self.source_total:,.2f} = {parts} "
            f"(difference {difference:,.2f})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "source_total": self.source_total,
            "parts": self.parts,
            "difference": self.difference,
        }


@dataclass
class CostsResult:
    """The table, each column's source, the reconciliations, notes and the period."""

    table: pl.DataFrame
    sources: dict[str, str]
    checks: list[Check]
    period_days: int
    first_date: str | None
    last_date: str | None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # One step of the dates' grain, counted after the span (``sales.covered_days``).
    period_step: str = "1 day"
    # The units network planned for against the orders' (``_planned_units``), when profit mixes
    # the two periods; else None.
    planned_units: dict[str, float] | None = None
    order_lines: int = 0  # the used lines of the orders, every one read

    def sources_frame(self) -> pl.DataFrame:
        cols = [c for c in self.table.columns if c in self.sources]
        return pl.DataFrame(
            {"column": cols, "source": [self.sources[c] for c in cols]},
            schema={"column": pl.String, "source": pl.String},
        )


# What each table costs may be given is, for a table given without rows.
WRITTEN_BY = {
    "policy": "the table that segchain stock -o writes",
    "per-segment stock": "the table that segchain stock --segments-out writes",
    "forecast": "the table that segchain forecast -o writes",
    "assignments": "the table that segchain network -o writes",
    "sites": "the table that segchain network --sites-out writes, or the candidate sites",
    "items": "the item master (sku, unit_cost, holding_rate)",
}


def _distinct(orders: pl.LazyFrame, column: str) -> pl.Series:
    """The distinct values of an order column, as text, nulls left out (in no order)."""
    return (
        orders.select(pl.col(column).cast(pl.String).drop_nulls().unique())
        .collect(engine="streaming")
        .to_series()
    )


def _unit_cost_sites(orders: pl.LazyFrame, items: pl.DataFrame) -> list[str]:
    """A warning when the item master states a unit_cost at sites no order line ships from,
    and none of its sites is one of the orders', or one is an orders' site written otherwise
    ('dc-a' for 'DC-A'): those lines took their sku's cost without a site (or none), without a
    word. (Item sites no line ships from beside sites that match are a site that sold nothing
    in the period: not said.)"""
    if "site" not in items.columns or "site" not in orders.collect_schema().names():
        return []
    stated = items.filter(pl.col("unit_cost").is_not_null())
    theirs = stated.get_column("site").cast(pl.String).replace("", None).drop_nulls().unique()
    ours = _distinct(orders, "site").sort()
    elsewhere = theirs.filter(~theirs.is_in(ours.implode())).sort()
    if not elsewhere.len() or not ours.len():
        return []
    near = written_otherwise(elsewhere, ours, other="the orders")
    if near is None and theirs.is_in(ours.implode()).any():
        return []
    return [
        about(
            ITEMS_OPTION,
            f"{plural(elsewhere.len(), 'site')} with a unit_cost where no line of "
            f"{{{ORDERS_OPTION}}} ships from ({examples(elsewhere, 5)}; the orders' sites: "
            f"{examples(ours, 5)}): no line takes the unit_cost stated there, and the lines take "
            "their sku's unit_cost without a site (or the one its sites all state)"
            + (near or "; write the sites as the orders do"),
            {ORDERS_OPTION: "the orders"},
        )
    ]


def _unsited_costs(unsited: pl.DataFrame) -> str:
    """The warning for product lines not costed because their sku's unit cost differs between
    the item master's sites and none is stated for theirs (``sales.site_unit_costs``)."""
    n = int(unsited.get_column("lines").sum())
    shown = []
    for r in unsited.head(3).iter_rows(named=True):
        where = [f"{r['without_site']:,} without a site"] * bool(r["without_site"])
        where += [f"at {examples(r['sites'], 3)}"] * bool(r["sites"])
        shown.append(
            f"sku {r['sku']!r}: {plural(r['lines'], 'line')}, {' and '.join(where)}; "
            f"{{{ITEMS_OPTION}}}: {', '.join(r['costs'])}"
        )
    more = "; ..." if unsited.height > 3 else ""
    whose = agree(n, "the line's", "the lines'")
    return about(
        ORDERS_OPTION,
        f"{plural(n, 'product line')} {agree(n, 'is', 'are')} not costed: "
        f"{agree(n, 'its', 'their')} sku's unit_cost differs between its sites in "
        f"{{{ITEMS_OPTION}}}, which has no row of the sku without a site and none at "
        f"{whose} site ({'; '.join(shown)}{more}): "
        f"{agree(n, 'its customer', 'their customers')}' cogs is missing, as no row says which "
        "cost applies; give such a sku a row without a site (its cost at every other site), "
        "or the order lines the site they ship from",
        {ITEMS_OPTION: "the items"},
    )


def _refuse_tables_without_rows(tables: Mapping[str, pl.DataFrame | None]) -> None:
    """Refuse a table given on purpose without rows (only a header): no plan, no policy. Empty
    assignments lost every customer's transport and left the open sites' fixed cost 'NOT
    reconciled', exit 0; an empty policy was costed as no stock at all, exit 0; an empty
    per-segment stock table of a CSV, its columns all text, ended in a traceback ('is_nan
    operation not supported for dtype str'); an empty forecast put all the stock 'at stocking
    points no segment buys from'. (Tables that miss some rows are costed: see README.)

    Raises:
        DataError: a table given has no rows.
    """
    for name, frame in tables.items():
        if frame is not None and frame.height == 0:
            raise DataError(
                f"{OPTION[name]}: the {name} table has no rows (only a header)",
                hint=f"give {OPTION[name]} {WRITTEN_BY[name]}",
            )


# The share by which the units network planned for may differ from the orders' before costs says
# the two are of different periods (returns netted and rounding move them a little).
PLANNED_UNITS_TOLERANCE = 0.05


def _planned_units(
    assignments: pl.DataFrame, lines: pl.LazyFrame | pl.DataFrame, period_days: int
) -> dict[str, float] | None:
    """The units network planned for and the same customers' net units in the orders, when they
    differ by more than PLANNED_UNITS_TOLERANCE, else None: network's transport and fixed costs
    are those of the demand it planned for, the revenue that of --orders, so one year of orders
    against a plan of three showed Loyal at -4.7 % profit instead of +21.6 %, without a word.
    Recorded in the metadata (``planned_units``) for the report, whose page said every cost
    covered the orders' span (audit S, session 63)."""
    # Network writes the customer's whole demand on each of its lanes: a split customer's demand
    # counted once per lane read a plan for exactly the orders' units as 107 % of them. A row
    # left out (no site, no share) is its customer's demand once.
    share = pl.col("share").fill_null(1.0) if "share" in assignments.columns else pl.lit(1.0)
    planned = float(
        assignments.select(
            (pl.col("demand").cast(pl.Float64) * share.cast(pl.Float64)).sum()
        ).item()
        or 0.0
    )
    served = assignments.get_column("customer_id").unique().implode()
    # Summed whatever order the lines, and so the customers' groups, come in (sum_any_order).
    bought = float(
        lines.lazy()
        .filter(pl.col("customer_id").is_in(served))
        .group_by("customer_id")
        .agg(sum_any_order("quantity").clip(lower_bound=0.0))
        .select(sum_any_order("quantity"))
        .collect(engine=sales.IN_ORDER)
        .item()
    )
    if planned <= 0 or abs(bought / planned - 1.0) <= PLANNED_UNITS_TOLERANCE:
        return None
    return {"planned": planned, "ordered": bought, "period_days": period_days}


def other_period_warning(mixed: Mapping[str, float]) -> str:
    """costs' warning for ``_planned_units``' figures."""
    planned, bought = mixed["planned"], mixed["ordered"]
    return about(
        ASSIGNMENTS_OPTION,
        f"planned for {format_number(planned, UNITS)} units; the same customers' net units "
        f"in {{{ORDERS_OPTION}}}: {format_number(bought, UNITS)} over "
        f"{int(mixed['period_days']):,} days ({bought / planned:.0%}): transport and warehouse "
        "fixed cost are the plan's, revenue and the other costs the orders', so profit mixes two "
        "periods; give the orders network was planned on (segment's, same --as-of)",
        {ASSIGNMENTS_OPTION: "the assignments", ORDERS_OPTION: "the orders"},
    )


def costs(
    orders: pl.LazyFrame | pl.DataFrame,
    segments: pl.DataFrame,
    *,
    rates: CostRates | None = None,
    policy: pl.DataFrame | None = None,
    stock_segments: pl.DataFrame | None = None,
    forecast: pl.DataFrame | None = None,
    assignments: pl.DataFrame | None = None,
    sites: pl.DataFrame | None = None,
    items: pl.DataFrame | None = None,
    network_promise: Sequence[Mapping[str, Any]] | None = None,
    network_totals: Mapping[str, Any] | None = None,
    network_fixed_cost_period: Mapping[str, Any] | None = None,
    stock_comparison: Sequence[Mapping[str, Any]] | None = None,
    stock_by_segment: Sequence[Mapping[str, Any]] | None = None,
    by: str = "segment",
    collect: sales.Collect = sales.collect_all,
) -> CostsResult:
    """Cost to serve and profit per segment (``by="segment"``) or per customer.

    Args:
        orders: clean order lines (``validate``'s table: amount, quantity, flag, ...).
        segments: ``customer_id, segment`` (``segment_rank`` orders the segment rows).
        rates: the ``[costs]`` rates (handling per order, line and return; holding rate).
        policy: stock's policy (``sku [, site], inventory_value``).
        stock_segments: stock's per-segment table (``sku [, site], segment, inventory_value``);
            without it the policy's value is split by forecast demand, else by units bought.
        forecast: forecast's table (``segment, sku [, site], forecast``), for that split.
        assignments: network's ``customer_id, site_id, share, demand, transport_cost``.
        sites: network's ``--sites-out`` (``site_id, open, fixed_cost``) or the candidates.
        items: item master (``sku, unit_cost, holding_rate``).
        network_promise, network_totals: network's promise comparison and totals (metadata).
        network_fixed_cost_period: the period network took the sites' fixed costs for, and
            its span (metadata ``fixed_cost_period``).
        stock_comparison: stock's segmented-vs-uniform comparison (metadata).
        stock_by_segment: stock's inventory value per segment (its policy's metadata), to say
            when the split here, without ``stock_segments``, differs from stock's own.
        by: ``segment`` or ``customer``.
        collect: runs the queries over the order lines that a float total of them needs in
            the lines' own chunks (the CLI: in one pass with the import's reconciliation);
            default ``pl.collect_all``. No line is held whole: each query reduces them.

    Raises:
        UsageError: unknown ``by``.
        DataError: missing columns; an input that does not add up (``INPUT_RULES``,
            ``schema.check_assignments``); assignments naming customers not in the segments.
    """
    if by not in BY:
        raise UsageError(f"--by must be one of {', '.join(BY)}, got {by!r}")
    rates = rates or CostRates()
    require_columns(
        segments.columns, ("customer_id", "segment"), source="segments", hint=SEGMENTS_HINT
    )
    require_rows(segments, SEGMENTS_ARGUMENT, word="segments", hint=SEGMENTS_HINT)
    if forecast is not None:
        # Without them the split fell back to units bought, silently.
        require_columns(
            forecast.columns,
            ("segment", "sku", "forecast"),
            source=FORECAST_OPTION,
            hint="give forecast's table by segment x sku (its default --by), or leave "
            "--forecast out to split inventory by the units each segment bought",
        )
    # 'Unit Cost (EUR)' or 'fixed cost' were not read: no margin, no fixed cost, no word.
    if items is not None:
        unread_lookalikes(
            items.columns, ("sku", "site", "unit_cost", "holding_rate"), source=ITEMS_OPTION
        )
    # A year's fixed cost (annual_fixed_cost, network's --sites-out of costs given per year, or
    # a header that says a year) is taken over period_days below; its values are checked under
    # the header as written, then read as annual_fixed_cost.
    yearly = yearly_fixed_cost(sites.columns, source=SITES_OPTION) if sites is not None else None
    if sites is not None:
        unread_lookalikes(
            sites.columns,
            ("site_id", "fixed_cost", yearly or ANNUAL_FIXED_COST, "open", "existing"),
            source=SITES_OPTION,
            words=COSTS_SITE_LOOKALIKES,
            unless=SITE_OTHER_WORDS,
        )
    if items is not None:
        # The stock on hand or the candidate sites given as --items were read for nothing.
        require_columns(items.columns, ("sku",), source=ITEMS_OPTION, hint=ITEM_MASTER_HINT)
        require_one_of(
            items.columns, ("unit_cost", "holding_rate"), source=ITEMS_OPTION, hint=ITEM_MASTER_HINT
        )
    # Numbers that arrive as text (an all-empty column of a CSV, a typo) are checked here, not
    # summed into a traceback or silently dropped.
    numbers = {
        "policy": (policy, ("inventory_value", "avg_inventory")),
        "per-segment stock": (stock_segments, ("inventory_value", "demand_share")),
        "forecast": (forecast, ("forecast",)),
        "assignments": (assignments, ("share", "demand", "transport_cost", "distance_km")),
        "sites": (sites, ("fixed_cost", yearly or ANNUAL_FIXED_COST, "capacity", "demand_served")),
        "items": (items, ("unit_cost", "holding_rate")),
    }
    _refuse_tables_without_rows({name: frame for name, (frame, _) in numbers.items()})
    checked = {
        name: numeric_columns(frame, cols, source=OPTION[name]) if frame is not None else None
        for name, (frame, cols) in numbers.items()
    }
    policy, stock_segments, forecast = (
        checked["policy"],
        checked["per-segment stock"],
        checked["forecast"],
    )
    assignments, sites, items = checked["assignments"], checked["sites"], checked["items"]
    for name, frame in checked.items():
        if frame is not None and name in INPUT_RULES:
            check_input(frame, name, {ANNUAL_FIXED_COST: yearly} if name == "sites" else None)
    if sites is not None and yearly is not None:
        sites = sites.rename({yearly: ANNUAL_FIXED_COST})
    if assignments is not None:
        # Network writes both on every lane: a blank one is an edited table, not a free lane.
        assignments = check_assignments(
            assignments, source=ASSIGNMENTS_OPTION, filled=("demand", "transport_cost")
        )
    customers = segments.select(
        pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String)
    )
    # A row whose customer_id was emptied was a TypeError (sorting the ids with a None); one
    # whose segment was emptied became a segment row without a name, first, without a word.
    problems = []
    for col in ("customer_id", "segment"):
        rows = customers.with_row_index("row", offset=1).filter(
            pl.col(col).str.strip_chars().replace("", None).is_null()
        )["row"]
        if rows.len():
            shown = ", ".join(map(str, rows.head(5))) + (" ..." if rows.len() > 5 else "")
            problems.append(
                f"{plural(rows.len(), 'row')} with a blank {col} "
                f"({agree(rows.len(), 'row', 'rows')} {shown})"
            )
    if problems:
        raise DataError(
            "segments: " + "; ".join(problems),
            hint=SEGMENT_ROWS_HINT,
        )
    check_one_row_per_customer(customers, source="segments")
    orders = sales.order_lines(orders)
    sources: dict[str, str] = {}
    checks: list[Check] = []
    notes: list[str] = []
    warnings: list[str] = []
    planned_units: dict[str, float] | None = None

    table, st = sales.customer_sales(orders, customers, items, collect=collect)
    if st.unsegmented_customers:
        warnings += _written_otherwise(orders, customers, st)
    table = table.join(customers, on="customer_id", how="left", maintain_order="left")
    period = st.period_days
    lines = sales.product_lines(orders, customers)
    sources["revenue"] = "orders: net value (amount) of product lines, returns netted"
    checks.append(
        Check(
            "revenue",
            "orders net value",
            st.net_value,
            {
                "revenue": _total(table, "revenue"),
                "non-product lines (postage, fees; not revenue)": st.non_product,
                f"{plural(st.unsegmented_customers, 'customer')} not in the segments": (
                    st.unsegmented
                ),
            },
        )
    )
    costed = items is not None and "unit_cost" in items.columns
    if not costed:
        sources["cogs"] = "missing: no items table with unit_cost"
    elif table["cogs"].is_null().all():
        sources["cogs"] = "missing: no customer's every product line has a unit_cost in the items"
    else:
        sources["cogs"] = "orders x items: net units x unit_cost (at the line's site)"
    if costed and st.uncosted_lines:
        # An item master that met none of the orders' skus (a spreadsheet dropped their
        # leading zeros) left every cogs empty without a word: the warning was given only when
        # some cogs were found.
        why = _items_matching_none(orders, items) if not st.costed_lines else ""
        warnings.append(
            about(
                ORDERS_OPTION,
                f"{plural(st.uncosted_lines, 'product line')} "
                f"{'has' if st.uncosted_lines == 1 else 'have'} a sku without unit_cost in "
                f"{{{ITEMS_OPTION}}}: their customers' cogs is missing{why}",
                {ITEMS_OPTION: "the items"},
            )
        )
    if costed and st.unsited.height:
        warnings.append(_unsited_costs(st.unsited))
    if items is not None and costed:
        warnings += _unit_cost_sites(orders, items)
    sources["gross_margin"] = "revenue - cogs"
    table = table.with_columns(gross_margin=pl.col("revenue") - pl.col("cogs"))

    # Order and returns handling.
    if rates.cost_per_order is None and rates.cost_per_line is None:
        table = table.with_columns(order_handling=pl.lit(None, pl.Float64))
        sources["order_handling"] = "missing: no cost_per_order or cost_per_line in [costs]"
    else:
        per_order, per_line = rates.cost_per_order or 0.0, rates.cost_per_line or 0.0
        table = table.with_columns(
            order_handling=pl.col("orders") * per_order + pl.col("lines") * per_line
        )
        sources["order_handling"] = (
            f"[costs]: sales orders x cost_per_order {per_order:g} + lines x cost_per_line "
            f"{per_line:g}"
        )
    if rates.cost_per_return is None:
        table = table.with_columns(returns_handling=pl.lit(None, pl.Float64))
        sources["returns_handling"] = "missing: no cost_per_return in [costs]"
    else:
        table = table.with_columns(returns_handling=pl.col("return_lines") * rates.cost_per_return)
        sources["returns_handling"] = (
            f"[costs]: return lines x cost_per_return {rates.cost_per_return:g}"
        )

    # Transport and fixed cost from the network.
    if assignments is not None:
        require_columns(
            assignments.columns,
            ("customer_id", "site_id", "demand", "transport_cost"),
            source=ASSIGNMENTS_OPTION,
        )
        assignments = assignments.with_columns(pl.col("customer_id").cast(pl.String))
        strangers = assignments.join(customers, on="customer_id", how="anti", maintain_order="left")
        if strangers.height:
            ids = strangers["customer_id"].unique(maintain_order=True).to_list()
            raise DataError(
                f"{{{ASSIGNMENTS_OPTION}}}: {plural(len(ids), 'customer')} "
                f"{agree(len(ids), 'is', 'are')} not in {{{SEGMENTS_ARGUMENT}}}: {examples(ids)}",
                hint="give the segments that network was run on (the same segment output)",
                tables={ASSIGNMENTS_OPTION: ASSIGNMENTS_OPTION, SEGMENTS_ARGUMENT: "the segments"},
            )
        # A customer network left out unlocated (--skip-unlocated) has demand that no lane
        # prices: its transport is unknown, not the 0 its row carries. One left out with no
        # demand has nothing to deliver: 0, as its row says.
        unlocated = (
            pl.col("left_out").cast(pl.String).eq("unlocated").fill_null(False).all()
            if "left_out" in assignments.columns
            else pl.lit(False)
        )
        per = assignments.group_by("customer_id", maintain_order=True).agg(
            pl.when(unlocated)
            .then(None)
            .otherwise(pl.col("transport_cost").cast(pl.Float64).sum())
            .alias("transport"),
            unlocated.alias("_unlocated"),
        )
        table = table.join(per, on="customer_id", how="left", maintain_order="left")
        n_unlocated = int(table["_unlocated"].fill_null(False).sum())
        table = table.drop("_unlocated")
        if n_unlocated:
            warnings.append(
                about(
                    ASSIGNMENTS_OPTION,
                    f"{plural(n_unlocated, 'customer')} left out by network without "
                    "coordinates (left_out = unlocated): "
                    f"{agree(n_unlocated, 'its', 'their')} transport and warehouse fixed cost "
                    "are missing, not 0; place "
                    f"{agree(n_unlocated, 'it', 'them')} (segment --geo, or a postal code, city "
                    "or country) and rerun network",
                )
            )
        planned_units = _planned_units(assignments, lines, st.period_days)
        if planned_units is not None:
            warnings.append(other_period_warning(planned_units))
        checks.append(
            Check(
                "transport",
                "assignments transport_cost",
                _total(assignments, "transport_cost"),
                {"allocated": _total(table, "transport")},
            )
        )
        sources["transport"] = "assignments: transport_cost of the customer's lanes"
        unassigned = table["transport"].null_count() - n_unlocated
        if unassigned:
            warnings.append(
                about(
                    SEGMENTS_ARGUMENT,
                    f"{plural(unassigned, 'customer')} {agree(unassigned, 'has', 'have')} no "
                    f"assignment in {{{ASSIGNMENTS_OPTION}}}: "
                    f"{agree(unassigned, 'its', 'their')} transport is missing",
                    {SEGMENTS_ARGUMENT: "segments", ASSIGNMENTS_OPTION: "the assignments"},
                )
            )
    else:
        table = table.with_columns(transport=pl.lit(None, pl.Float64))
        sources["transport"] = "missing: no assignments"
    if assignments is not None and sites is not None:
        took = network_fixed_cost_period
        sites, fixed_source, fixed_warning = allocate.fixed_over_period(
            sites,
            period,
            took.get("period") if isinstance(took, Mapping) else None,
            allocate.segments_span_days(segments),
        )
        warnings += fixed_warning
        fixed, total_fixed, fixed_notes = allocate.fixed_by_customer(assignments, sites)
        notes.extend(fixed_notes)
        table = table.join(fixed, on="customer_id", how="left", maintain_order="left")
        checks.append(
            Check(
                "warehouse fixed",
                # A year's cost is reconciled as taken over the period, as it is shared.
                f"sites open {ANNUAL_FIXED_COST} x {period:,} days / {DAYS_PER_YEAR:g}"
                if ANNUAL_FIXED_COST in sites.columns
                else "sites open fixed_cost",
                total_fixed,
                {"allocated": _total(table, "warehouse_fixed")},
            )
        )
        sources["warehouse_fixed"] = (
            f"sites x assignments: each open site's {fixed_source}, shared by demand served"
        )
    else:
        table = table.with_columns(warehouse_fixed=pl.lit(None, pl.Float64))
        sources["warehouse_fixed"] = "missing: needs both assignments and sites"

    # Inventory carrying.
    seg_rates: pl.DataFrame = pl.DataFrame(
        schema={"segment": pl.String, "holding_rate": pl.Float64}
    )
    default_rate = rates.holding_rate if rates.holding_rate is not None else DEFAULT_HOLDING_RATE
    if policy is not None:
        _refuse_lost_zeros(
            {
                POLICY_OPTION: policy,
                STOCK_SEGMENTS_OPTION: stock_segments,
                FORECAST_OPTION: forecast,
            },
            orders=orders,
            items=items,
        )
        seg_inv, how, unattributed = allocate.segment_inventory(
            policy, stock_segments=stock_segments, forecast=forecast, lines=lines
        )
        _refuse_unknown_segments(seg_inv, customers, stock_segments=stock_segments)
        item_rates = allocate.holding_rates(items, default_rate)
        if item_rates is not None and "site" in item_rates.columns:
            # A row at a site where the policy has no stocking point (a misspelt code) gave
            # no site its rate, without a word: said as stock says it of the forecast.
            site_warnings, site_note = item_site_messages(policy, items, POLICY_POINTS)
            warnings += site_warnings
            notes += [site_note] if site_note is not None else []
        seg_inv = allocate.carrying(
            seg_inv, rates=item_rates, default_rate=default_rate, period_days=period
        )
        basis = _not_at_cost(policy)
        if basis is not None:
            warnings.append(about(POLICY_OPTION, basis))
        parts = {"allocated to segments": _total(seg_inv, "inventory_value")}
        if unattributed:
            parts["no segment's demand"] = unattributed
            warnings.append(
                about(
                    POLICY_OPTION,
                    f"inventory value {unattributed:,.2f} sits at stocking points no segment "
                    "buys from: it is in no segment's carrying cost",
                )
            )
        checks.append(
            Check(
                "inventory value",
                "policy inventory_value",
                _total(policy, "inventory_value"),
                parts,
            )
        )
        by_seg = seg_inv.group_by("segment", maintain_order=True).agg(
            pl.col("inventory_value").sum(), pl.col("inventory_carrying").sum()
        )
        if stock_segments is None:
            differs = allocate.split_differs_from_stock(by_seg, stock_by_segment, how)
            if differs is not None:
                warnings.append(about(POLICY_OPTION, differs))
        seg_rates = by_seg.select(
            "segment",
            pl.when(pl.col("inventory_value") > 0)
            .then(
                pl.col("inventory_carrying") / pl.col("inventory_value") / (period / DAYS_PER_YEAR)
            )
            .otherwise(None)
            .alias("holding_rate"),
        )
        per_cust = allocate.inventory_by_customer(seg_inv, lines, customers)
        table = table.join(per_cust, on="customer_id", how="left", maintain_order="left")
        rate_src = (
            "items' holding_rate (else "
            + ("[costs] holding_rate" if rates.holding_rate is not None else "stock's default")
            + f" {default_rate:g})"
            if item_rates is not None
            else ("[costs] holding_rate" if rates.holding_rate is not None else "stock's default")
            + f" holding rate {default_rate:g}"
        )
        sources["inventory_value"] = (
            f"policy: average inventory value, split by {how}; within a segment by units bought"
        )
        sources["inventory_carrying"] = (
            f"inventory_value x {rate_src} x period_days / {DAYS_PER_YEAR:g}"
        )
    else:
        table = table.with_columns(
            inventory_value=pl.lit(None, pl.Float64), inventory_carrying=pl.lit(None, pl.Float64)
        )
        sources["inventory_value"] = "missing: no policy"
        sources["inventory_carrying"] = "missing: no policy"

    table = table.with_columns(period_days=pl.lit(period, pl.Int64))
    sources["period_days"] = (
        f"orders: {st.first_date} to {st.last_date}, the span every figure covers"
        if st.period_step == "1 day"
        # Dates that label periods: the span and the period of the last (or first) date.
        else f"orders: {st.first_date} to {st.last_date}, dated every {st.period_step}: "
        f"{period} days with that of the last date (the first, for month ends), the span "
        "every figure covers"
    )
    present = [c for c in COST_COMPONENTS if not table[c].is_null().all()]
    if not present and table["cogs"].is_null().all():
        warnings.append(_nothing_costed(sources))
    elif not present:
        warnings.append(_no_cost_to_serve(sources))
    elif not costed:
        # Costs computed but no unit cost: the margin and profit of every row are empty, and
        # only costs_missing said why (Superstore, whose export has no item master).
        warnings.append(
            "no unit costs (no --items with unit_cost), so cogs, gross_margin, profit and "
            "profit_share are empty in every row; cost_to_serve is computed. To know the "
            "profit, give --items with sku and unit_cost"
        )
    if present and len(present) < len(COST_COMPONENTS):
        warnings.append(_parts_left_out(sources, present))
    warnings += _left_out_of_profit(table) if costed else []
    if by == "segment":
        table = _by_segment(table, segments, present)
        promised, promise_sources = _promises(
            network_promise, network_totals, stock_comparison, seg_rates, default_rate, period
        )
        table = table.join(promised, on="segment", how="left", maintain_order="left")
        sources.update(promise_sources)
    table = _totals(table, present, key="segment" if by == "segment" else "customer_id")
    sources["cost_to_serve"] = "sum of " + ", ".join(COST_COMPONENTS) + " (those not missing)"
    if by == "segment":
        sources["costed_revenue"] = (
            "revenue of the customers with a cogs: costed_revenue - cogs = gross_margin"
        )
        sources["profit"] = "gross_margin - cost_to_serve of the customers with a cogs"
        sources["profit_share"] = "profit / costed_revenue"
    else:
        sources["profit"] = "gross_margin - cost_to_serve"
        sources["profit_share"] = "profit / revenue"
    sources["costs_missing"] = "the cost columns that are null (no input), with customer counts"
    sources["customers"] = "segments: customers in the segment"
    sources["orders"] = "orders: distinct sales orders (product lines)"
    sources["lines"] = "orders: sales product lines"
    sources["return_lines"] = "orders: returned or cancelled product lines"
    sources["customer_id"] = "segments"
    sources["segment"] = "segments"
    return CostsResult(
        table=table,
        sources=sources,
        checks=checks,
        period_days=period,
        first_date=st.first_date,
        last_date=st.last_date,
        notes=notes,
        warnings=warnings,
        period_step=st.period_step,
        planned_units=planned_units,
        order_lines=st.order_lines,
    )


_SUMMED = (
    "orders",
    "lines",
    "return_lines",
    "revenue",
    "cogs",
    "gross_margin",
    *COST_COMPONENTS,
    "inventory_value",
)


def _not_at_cost(policy: pl.DataFrame) -> str | None:
    """What to say when stock valued stocking points at a selling price or at 1 a unit (no
    --items unit_cost: the policy's unit_cost_source ``price``, ``default``): the carrying
    cost on that value is above what the stock costs, or a count of units, not money. stock
    and the report's inventory section say it; costs had carried it without a word
    (Superstore, Online Retail without an item master). None when every point is at cost."""
    counts = cost_basis(policy)
    parts = []
    if counts.get("price"):
        parts.append(f"at its sku's mean selling price at {counts['price']:,}")
    if counts.get("default"):
        parts.append(f"at 1 a unit (no cost or price: a count of units) at {counts['default']:,}")
    if not parts:
        return None
    return (
        f"inventory is valued {' and '.join(parts)} of {plural(policy.height, 'stocking point')} "
        "(stock had no unit_cost for them), so inventory_value and inventory_carrying are not "
        "at cost; rerun stock with --items giving each sku's unit_cost"
    )


def _missing(sources: dict[str, str], columns: Sequence[str]) -> str:
    """Each of ``columns`` that has no input, with the input it lacks."""
    return "; ".join(
        f"{c} ({sources[c].removeprefix('missing: ')})"
        for c in columns
        if sources.get(c, "").startswith("missing: ")
    )


def _nothing_costed(sources: dict[str, str]) -> str:
    """The warning of a run that costed nothing (orders and segments alone): the table holds
    revenue only, every cost, the margin and the profit empty, each for its missing input."""
    return (
        "no cost could be computed, so gross_margin, cost_to_serve and profit are empty: "
        + _missing(sources, ("cogs", *COST_COMPONENTS))
        + f"; give at least one of --items (unit_cost), {COST_TO_SERVE_INPUTS}"
    )


def _no_cost_to_serve(sources: dict[str, str]) -> str:
    """The warning of a run with goods costed but no part of the cost to serve (--items
    alone): the gross margin is known, the cost to serve and so the profit are not. A
    segment's profit had been its gross margin, every customer's empty, without a word."""
    return (
        "no part of the cost to serve could be computed, so cost_to_serve, profit and "
        "profit_share are empty in every row (gross_margin is computed): "
        + _missing(sources, COST_COMPONENTS)
        + f"; to know the profit, give at least one of {COST_TO_SERVE_INPUTS}"
    )


def _parts_left_out(sources: dict[str, str], present: Sequence[str]) -> str:
    """The warning of a run that costed some parts of the cost to serve but not all: which are
    left out, for want of what, and the inputs that would add them. The cost to serve is then
    the sum of the others, below the whole, and only the costs_missing column had said so."""
    missing = [part for part in COST_COMPONENTS if part not in present]
    give = "; ".join(f"{COST_PART_INPUTS[part]} for {part}" for part in missing)
    located = (
        f"; {NETWORK_NEEDS_LOCATIONS}" if {"transport", "warehouse_fixed"} & set(missing) else ""
    )
    return (
        f"cost_to_serve leaves out {_missing(sources, missing)}, empty in every row: it sums "
        f"{', '.join(present)} alone, so it is below the whole cost; to add them, give "
        f"{give}{located}"
    )


def _items_matching_none(orders: pl.LazyFrame, items: pl.DataFrame | None) -> str:
    """What to add to the warning of product lines without a unit cost when not one of them
    has one: the item master's skus and the orders' do not meet, and why when it can be told
    (leading zeros dropped; another Unicode form or other capitals)."""
    if items is None:
        return ""
    theirs = items.get_column("sku").cast(pl.String).drop_nulls().unique()
    ours = _distinct(orders, "sku")
    said = f"; no sku of {{{ITEMS_OPTION}}} ({examples(theirs.sort(), 3)}) is a sku of the orders"
    pair = lost_zeros(theirs, ours)
    if pair is not None:
        return (
            f"{said}: they meet once their leading zeros are dropped ({pair[0]!r} / "
            f"{pair[1]!r}): a spreadsheet dropped them; save the sku column as text"
        )
    near = written_otherwise(theirs, ours, other="the orders")
    return said + (near or f" ({examples(ours.sort(), 3)})")


# What a stock table's skus that are a reference's only once leading zeros are dropped would
# come to, as written.
_UNMATCHED_SKU = {
    ORDERS_OPTION: "no order line is theirs: their inventory would reach no segment, or be "
    "split equally among a segment's customers",
    ITEMS_OPTION: "no item's holding_rate is theirs: they would take the default rate",
}


def _refuse_lost_zeros(
    tables: Mapping[str, pl.DataFrame | None], *, orders: pl.LazyFrame, items: pl.DataFrame | None
) -> None:
    """Refuse the tables that split the policy's value (``tables``: by option) whose skus are
    the orders' only once leading zeros are dropped, or a policy whose skus are so the item
    master's (its holding rates), as ``--items`` and SEGMENTS are told (``schema.lost_zeros``):
    a policy saved through a spreadsheet ('00123' -> '123') put all of the demo's inventory at
    points 'no segment buys from', or, with --stock-segments, took the default holding rate and
    an equal split without a word.

    Raises:
        DataError: each such table, with its first such reference and the fix.
    """

    def skus(frame: pl.DataFrame) -> pl.Series:
        return frame.get_column("sku").cast(pl.String).drop_nulls().unique()

    ordered = _distinct(orders, "sku")
    # The policy's stocking points alone take the items' holding rates (keyed by its skus).
    rated = skus(items) if items is not None and "holding_rate" in items.columns else None
    problems, hint = [], None
    for key, frame in tables.items():
        if frame is None or "sku" not in frame.columns:
            continue
        ours = skus(frame)
        references = [(ORDERS_OPTION, ordered)]
        if key == POLICY_OPTION and rated is not None:
            references.append((ITEMS_OPTION, rated))
        for ref_key, theirs in references:
            unmatched = ours.filter(~ours.is_in(theirs.implode()))
            said = lost_zeros_hint(unmatched, theirs, column="sku")
            if said is None:
                continue
            n = int(
                unmatched.str.strip_chars_start("0")
                .is_in(theirs.str.strip_chars_start("0").implode())
                .sum()
            )
            problems.append(
                f"{{{key}}}: {n:,} of its {plural(ours.len(), 'sku')} "
                f"{agree(n, 'is a sku', 'are skus')} of {{{ref_key}}} only once leading zeros "
                f"are dropped; as written, {_UNMATCHED_SKU[ref_key]}"
            )
            hint = hint or said
            # One reason a table: its zeros restored, it meets the item master too.
            break
    if problems:
        raise DataError(
            "; ".join(problems),
            hint=hint,
            tables={
                **{key: key for key in tables},
                ORDERS_OPTION: "the orders",
                ITEMS_OPTION: "the items",
            },
        )


def _written_otherwise(
    orders: pl.LazyFrame, customers: pl.DataFrame, st: sales.SalesTotals
) -> list[str]:
    """A warning when customers of the orders in no segment are customers of the segments
    written otherwise (``schema.written_otherwise``: another Unicode form, other capitals):
    their lines were left out of every segment's costs with no more than a line of the revenue
    reconciliation, while both tables showed the same names."""
    ids = _distinct(orders, "customer_id")
    known = customers.get_column("customer_id")
    near = written_otherwise(ids.filter(~ids.is_in(known.implode())), known, other="the segments")
    if near is None:
        return []
    return [
        about(
            ORDERS_OPTION,
            f"{plural(st.unsegmented_customers, 'customer')} in no segment of "
            f"{{{SEGMENTS_ARGUMENT}}} left out of the costs (net value {st.unsegmented:,.2f})"
            + near,
            {SEGMENTS_ARGUMENT: "the segments"},
        )
    ]


def _refuse_unknown_segments(
    seg_inventory: pl.DataFrame, customers: pl.DataFrame, *, stock_segments: pl.DataFrame | None
) -> None:
    """Refuse a split of the inventory value onto segments the segments table does not have
    (stock or forecast run on another segmentation, a label renamed): their share would reach
    no customer and no row, while the reconciliation counted it as allocated.

    Raises:
        DataError: naming the split's input, the segments and the value they would carry.
    """
    known = customers.select("segment").unique()
    strangers = seg_inventory.join(known, on="segment", how="anti", nulls_equal=False)
    if not strangers.height:
        return
    # Only the per-segment stock table or the forecast name segments of their own (a split by
    # units bought takes each line's segment from SEGMENTS).
    source = STOCK_SEGMENTS_OPTION if stock_segments is not None else FORECAST_OPTION
    names = strangers["segment"].unique(maintain_order=True).to_list()
    value = float(strangers["inventory_value"].sum())
    run = "stock --segments-out" if stock_segments is not None else "forecast"
    raise DataError(
        f"{{{source}}}: inventory value {value:,.2f} is split to "
        f"{plural(len(names), 'segment')} not in {{{SEGMENTS_ARGUMENT}}}: {examples(names)}",
        hint=f"give the {run} table made from these segments (rerun the chain after "
        "segment), or the segments it was made from",
        tables={source: source, SEGMENTS_ARGUMENT: "the segments"},
    )


def _left_out_of_profit(table: pl.DataFrame) -> list[str]:
    """A warning naming the customers whose cogs is missing (a product line without a unit
    cost), so whose gross margin and profit are unknown: their revenue and cost to serve stay
    in the table's columns but out of every profit and profit_share."""
    left = table.filter(pl.col("cogs").is_null())
    if not left.height or left.height == table.height:
        return []
    revenue, whole = _total(left, "revenue"), _total(table, "revenue")
    of = f", {revenue / whole:.1%} of revenue {whole:,.2f}" if whole > 0 else ""
    return [
        f"{plural(left.height, 'customer')} without a cogs (revenue {revenue:,.2f}{of}) "
        f"{agree(left.height, 'is', 'are')} left out of gross_margin, profit and profit_share: "
        "a segment's profit is its gross margin less the cost to serve of its customers with "
        "a cogs, its profit_share of their revenue (costed_revenue); give --items a unit_cost "
        "for every sku sold to count them"
    ]


def _by_segment(
    table: pl.DataFrame, segments: pl.DataFrame, present: Sequence[str]
) -> pl.DataFrame:
    """One row per segment: sums over its customers (null when no customer has the figure) and
    the count of customers missing each cost; and, over the customers with a cogs only, the
    revenue and cost to serve its profit counts (a profit of the margin of some customers less
    the cost of all read Online Retail's Champions at 19.3 % instead of 22.2 %)."""
    costed = pl.col("cogs").is_not_null()
    # No cost input at all: the cost to serve is unknown, as each customer's is, not the 0 that
    # summing nothing gives (a segment's profit was its gross margin, Superstore's 284,045,
    # beside no customer with a profit: audit C C2, session 66).
    costed_cost = (
        pl.when(costed.any()).then(sum_left_to_right(present).filter(costed).sum())
        if present
        else pl.lit(None, pl.Float64)
    )
    aggs: list[pl.Expr] = [
        pl.len().cast(pl.Int64).alias("customers"),
        pl.when(costed.any()).then(pl.col("revenue").filter(costed).sum()).alias("costed_revenue"),
        costed_cost.alias("_costed_cost_to_serve"),
    ]
    for c in _SUMMED:
        aggs.append(
            pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).otherwise(None).alias(c)
        )
        aggs.append(pl.col(c).null_count().alias(f"_missing_{c}"))
    aggs.append(pl.col("period_days").first())
    out = table.group_by("segment", maintain_order=True).agg(aggs)
    if "segment_rank" in segments.columns:
        rank = segments.group_by(pl.col("segment").cast(pl.String), maintain_order=True).agg(
            pl.col("segment_rank").min().alias("_rank")
        )
        out = (
            out.join(rank, on="segment", how="left", maintain_order="left")
            .sort("_rank", "segment")
            .drop("_rank")
        )
    else:
        out = out.sort("segment")
    return out


def _totals(table: pl.DataFrame, present: list[str], *, key: str) -> pl.DataFrame:
    """cost_to_serve, profit, profit_share, costs_missing; the columns in their final order.
    A segment's profit and profit_share count its customers with a cogs (``_by_segment``)."""
    base = "costed_revenue" if key == "segment" else "revenue"
    table = (
        table.with_columns(
            cost_to_serve=sum_left_to_right(present) if present else pl.lit(None, pl.Float64)
        )
        .with_columns(
            profit=pl.col("gross_margin")
            - pl.col("_costed_cost_to_serve" if key == "segment" else "cost_to_serve"),
        )
        .with_columns(
            profit_share=pl.when(pl.col(base) > 0)
            .then(pl.col("profit") / pl.col(base))
            .otherwise(None)
        )
    )
    missing_parts = []
    for c in ("cogs", *COST_COMPONENTS):
        if f"_missing_{c}" in table.columns:
            count = pl.col(f"_missing_{c}")
            missing_parts.append(
                pl.when(count == pl.col("customers"))
                .then(pl.lit(c))
                .when(count == 1)
                .then(pl.lit(f"{c} (1 customer)"))
                .when(count > 0)
                .then(pl.format(f"{c} ({{}} customers)", count))
                .otherwise(None)
            )
        else:
            missing_parts.append(pl.when(pl.col(c).is_null()).then(pl.lit(c)).otherwise(None))
    table = table.with_columns(
        costs_missing=pl.concat_str(missing_parts, separator=", ", ignore_nulls=True)
    )
    first = ["segment", "customers"] if key == "segment" else ["customer_id", "segment"]
    cols = [
        *first,
        "orders",
        "lines",
        "return_lines",
        "revenue",
        *(["costed_revenue"] if key == "segment" else []),
        "cogs",
        "gross_margin",
        *COST_COMPONENTS,
        "cost_to_serve",
        "profit",
        "profit_share",
        "inventory_value",
    ]
    if key == "segment":
        cols += [c for c in PROMISE_COLUMNS if c in table.columns]
    cols += ["costs_missing", "period_days"]
    return table.select(cols)


def _promises(
    network_promise: Sequence[Mapping[str, Any]] | None,
    network_totals: Mapping[str, Any] | None,
    stock_comparison: Sequence[Mapping[str, Any]] | None,
    seg_rates: pl.DataFrame,
    default_rate: float,
    period: int,
) -> tuple[pl.DataFrame, dict[str, str]]:
    delivery, d_how = promise.delivery_promise(network_promise, network_totals)
    service, s_how = promise.service_promise(
        stock_comparison, seg_rates, default_rate=default_rate, period_days=period
    )
    out = pl.DataFrame(schema={"segment": pl.String})
    sources: dict[str, str] = {}
    frames = []
    if delivery is None:
        delivery = pl.DataFrame(
            schema={
                "segment": pl.String,
                "delivery_promise_transport": pl.Float64,
                "delivery_promise_fixed": pl.Float64,
                "delivery_promise_cost": pl.Float64,
            }
        )
    frames.append(delivery)
    for c in ("delivery_promise_transport", "delivery_promise_fixed", "delivery_promise_cost"):
        sources[c] = d_how
    if service is None:
        service = pl.DataFrame(
            schema={
                "segment": pl.String,
                "service_promise_inventory": pl.Float64,
                "service_promise_cost": pl.Float64,
            }
        )
    frames.append(service)
    for c in ("service_promise_inventory", "service_promise_cost"):
        sources[c] = s_how
    segs = pl.concat([f.select("segment") for f in frames]).unique(maintain_order=True)
    out = segs
    for f in frames:
        out = out.join(f, on="segment", how="left", maintain_order="left")
    return out, sources


__all__ = ["BY", "COST_COMPONENTS", "Check", "CostRates", "CostsResult", "costs", "parse_rates"]
