"""Shared costs allocated to customers: warehouse fixed cost by demand served, inventory by
each segment's share of a stocking point's stock (or demand), then by each customer's purchases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from segchain.costs.sales import IN_ORDER
from segchain.errors import DataError, TableMessage, about, examples
from segchain.formatting import agree, plural
from segchain.numbers import sum_any_order, sum_in_order
from segchain.schema import (
    ANNUAL_FIXED_COST,
    ASSIGNMENTS_OPTION,
    DAYS_PER_YEAR,
    EARLIEST_DATE,
    LATEST_DATE,
    POLICY_OPTION,
    SITES_OPTION,
    STOCK_SEGMENTS_OPTION,
    covered_days,
    flag_column,
    records_frame,
    require_columns,
)


def served(assignments: pl.DataFrame) -> pl.DataFrame:
    """customer_id, site_id, served (demand x share) of an assignments table (customers that
    network left out, with no site, serve nothing)."""
    share = pl.col("share") if "share" in assignments.columns else pl.lit(1.0)
    return assignments.filter(pl.col("site_id").is_not_null()).select(
        pl.col("customer_id").cast(pl.String),
        pl.col("site_id").cast(pl.String),
        (pl.col("demand").cast(pl.Float64) * share.cast(pl.Float64)).alias("served"),
    )


def _open_flag(sites: pl.DataFrame, used: set[str]) -> pl.Expr:
    hint = "write true/false (or yes/no, 1/0), as network writes it"
    if "open" in sites.columns:
        return flag_column(sites, "open", source=SITES_OPTION, hint=hint)
    # Candidate sites (no plan): open where the assignments use them, or existing.
    opened = pl.col("site_id").is_in(sorted(used))
    if "existing" in sites.columns:
        opened = opened | flag_column(sites, "existing", source=SITES_OPTION, hint=hint)
    return opened


def segments_span_days(segments: pl.DataFrame) -> int | None:
    """The days network takes a year's fixed cost over for ``segments``: their first_order to
    last_order counted as ``schema.covered_days`` counts them (network's ``orders_span``); None
    where they lack such dates (a table of the user's own, text that is no date, a date outside
    the orders reader's window)."""
    days = []
    for col in ("first_order", "last_order"):
        if col not in segments.columns:
            return None
        given = segments.get_column(col)
        if given.dtype == pl.String:
            read = given.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
            if read.null_count() > given.null_count():
                return None
        elif given.dtype == pl.Date or isinstance(given.dtype, pl.Datetime):
            read = given.cast(pl.Date)
        else:
            return None
        days.append(read)
    dates = pl.concat(days).drop_nulls()
    if dates.is_empty() or ((dates < EARLIEST_DATE) | (dates > LATEST_DATE)).any():
        return None
    return covered_days(dates)[0]


def fixed_over_period(
    sites: pl.DataFrame,
    period_days: int,
    network_period: str | None = None,
    segments_days: int | None = None,
) -> tuple[pl.DataFrame, str, list[TableMessage]]:
    """The sites with ``fixed_cost`` over the orders' ``period_days``: a year's cost
    (``annual_fixed_cost``) x period_days / DAYS_PER_YEAR, as network takes it over the span of
    the orders behind its demand; a ``fixed_cost`` alone as given, that span's cost.

    Returns:
        the sites, what warehouse_fixed is made of (the sources' words), and a warning when
        network took the yearly costs over another span than period_days (its ``fixed_cost``
        beside ``annual_fixed_cost``): the plan chose its sites for other days than the
        revenue's here.

    ``network_period``: the period network took the fixed costs for (the assignments'
    metadata), None when unknown. ``segments_days``: the span network takes for the segments
    given here (``segments_span_days``): a plan over it was made on these segments, whose dates
    leave out the days of only returns or fees that period_days counts, so no warning is due.

    Raises:
        DataError: network took them as a year's and the sites have no annual_fixed_cost (the
            user's own --sites, whose yearly fixed_cost would be set whole against the span).
    """
    if network_period == "year" and ANNUAL_FIXED_COST not in sites.columns:
        raise DataError(
            f"{SITES_OPTION}: network took the sites' fixed costs as a year's "
            f"(fixed_cost_period year), and {SITES_OPTION} gives no {ANNUAL_FIXED_COST}: its "
            "fixed_cost would be read as the cost over the orders' period_days",
            hint=f"give network's --sites-out of that run, as written (it has "
            f"{ANNUAL_FIXED_COST}), or name the yearly column {ANNUAL_FIXED_COST}",
        )
    if ANNUAL_FIXED_COST not in sites.columns:
        return sites, "fixed_cost, its cost over the orders' period_days (not a year)", []
    annual = pl.col(ANNUAL_FIXED_COST).cast(pl.Float64).fill_null(0.0)
    years = period_days / DAYS_PER_YEAR
    source = f"{ANNUAL_FIXED_COST} (a year's) x period_days {period_days:,} / {DAYS_PER_YEAR:g}"
    warnings: list[TableMessage] = []
    if "fixed_cost" in sites.columns:
        # The days network took them over, read back from the two columns it wrote.
        spans = (
            sites.filter((annual > 0) & pl.col("fixed_cost").is_not_null())
            .select((pl.col("fixed_cost").cast(pl.Float64) / annual * DAYS_PER_YEAR).round(0))
            .to_series()
            .unique()
            .sort()
        )
        # On the demo, whose last day holds only returns, network's span of the segments is
        # 1,091 days and period_days 1,092: the warning told to rerun segment and network on
        # these orders, which gives 1,091 again.
        other = [int(d) for d in spans.to_list() if int(d) not in (period_days, segments_days)]
        if other:
            days = ", ".join(f"{d:,}" for d in other)
            warnings.append(
                about(
                    SITES_OPTION,
                    "network took the sites' yearly fixed costs "
                    f"({ANNUAL_FIXED_COST}) over {days} days (their fixed_cost), and the orders "
                    f"here cover {period_days:,} (period_days): warehouse_fixed is "
                    f"{ANNUAL_FIXED_COST} x {period_days:,} / {DAYS_PER_YEAR:g}, set against this "
                    "revenue, but network chose the sites weighing the other span's; rerun segment "
                    "and network on these orders for a plan of the same days",
                )
            )
    return sites.with_columns((annual * years).alias("fixed_cost")), source, warnings


def fixed_by_customer(
    assignments: pl.DataFrame, sites: pl.DataFrame
) -> tuple[pl.DataFrame, float, list[str]]:
    """Each open site's fixed cost shared by the customers it serves, in proportion to demand.

    An open site that serves nobody (an existing site kept open) is shared by all customers in
    proportion to their demand, so the allocation adds up to every open site's fixed cost.

    Returns:
        (customer_id, warehouse_fixed), the open sites' total fixed cost, notes.
    """
    require_columns(sites.columns, ("site_id", "fixed_cost"), source=SITES_OPTION)
    s = served(assignments)
    site_df = sites.with_columns(
        pl.col("site_id").cast(pl.String), pl.col("fixed_cost").cast(pl.Float64).fill_null(0.0)
    )
    site_df = site_df.with_columns(open=_open_flag(site_df, set(s["site_id"].to_list())))
    unknown = sorted(set(s["site_id"].to_list()) - set(site_df["site_id"].to_list()))
    if unknown:
        raise DataError(
            f"{{{ASSIGNMENTS_OPTION}}} name {agree(len(unknown), 'a site', 'sites')} not in "
            f"{{{SITES_OPTION}}}: {examples(unknown)}",
            hint="give the --sites-out table of the same network run",
            tables={ASSIGNMENTS_OPTION: "assignments", SITES_OPTION: "the sites table"},
        )
    opened = site_df.filter(pl.col("open")).select("site_id", "fixed_cost")
    total_fixed = float(opened["fixed_cost"].sum())
    by_site = s.group_by("site_id", maintain_order=True).agg(
        pl.col("served").sum().alias("site_served")
    )
    _check_same_network_run(site_df, by_site)
    per = (
        s.join(opened, on="site_id", how="inner", maintain_order="left")
        .join(by_site, on="site_id", how="left", maintain_order="left")
        .with_columns(
            part=pl.when(pl.col("site_served") > 0)
            .then(pl.col("fixed_cost") * pl.col("served") / pl.col("site_served"))
            .otherwise(0.0)
        )
    )
    notes: list[str] = []
    idle = opened.join(
        by_site.filter(pl.col("site_served") > 0), on="site_id", how="anti", maintain_order="left"
    ).filter(pl.col("fixed_cost") != 0)
    idle_cost = float(idle["fixed_cost"].sum())
    customer = s.group_by("customer_id", maintain_order=True).agg(pl.col("served").sum().alias("w"))
    total_w = float(customer["w"].sum())
    if idle.height:
        notes.append(
            f"{plural(idle.height, 'open site')} {agree(idle.height, 'serves', 'serve')} no "
            f"demand ({', '.join(idle['site_id'].to_list())}); "
            f"{agree(idle.height, 'its', 'their')} fixed cost {idle_cost:,.2f} is shared by all "
            "customers by demand"
        )
    out = (
        customer.join(
            per.group_by("customer_id", maintain_order=True).agg(pl.col("part").sum()),
            on="customer_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            warehouse_fixed=pl.col("part").fill_null(0.0)
            + (pl.col("w") / total_w * idle_cost if total_w > 0 else pl.lit(0.0))
        )
        .select("customer_id", "warehouse_fixed")
    )
    if "left_out" in assignments.columns:
        # A customer network left out with no demand has nothing to deliver, so no site's
        # fixed cost to share: 0, as its transport is, not missing (Online Retail: 51 such
        # customers listed as lacking warehouse_fixed in costs_missing).
        idle_customers = (
            assignments.filter(pl.col("left_out").cast(pl.String) == "no_demand")
            .select(pl.col("customer_id").cast(pl.String))
            .unique(maintain_order=True)
            .join(out.select("customer_id"), on="customer_id", how="anti")
        )
        out = pl.concat(
            [out, idle_customers.with_columns(warehouse_fixed=pl.lit(0.0, pl.Float64))],
            how="vertical_relaxed",
        )
    if total_w <= 0 and total_fixed:
        notes.append("the assignments carry no demand: fixed cost cannot be allocated")
    return out, total_fixed, notes


def segment_inventory(
    policy: pl.DataFrame,
    *,
    stock_segments: pl.DataFrame | None,
    forecast: pl.DataFrame | None,
    lines: pl.LazyFrame | pl.DataFrame,
) -> tuple[pl.DataFrame, str, float]:
    """The policy's inventory value per segment x stocking point.

    The split comes from, in order: the per-segment stock table (its inventory_value, or
    inventory_share, per stocking point), else each segment's share of the forecast demand of
    the stocking point, else its share of the net units bought in the orders. A stocking point
    whose demand no segment has is split equally among the segments that bought the sku.

    Returns:
        (segment, sku, [site], inventory_value), a description of the split, and the policy
        value that no segment could carry (0 when every stocking point is attributed).
    """
    require_columns(policy.columns, ("sku", "inventory_value"), source=POLICY_OPTION)
    keys = ["sku", "site"] if "site" in policy.columns else ["sku"]
    pol = policy.select(
        *[pl.col(k).cast(pl.String) for k in keys],
        pl.col("inventory_value").cast(pl.Float64).fill_null(0.0),
    )
    if stock_segments is not None:
        require_columns(stock_segments.columns, ("sku", "segment"), source=STOCK_SEGMENTS_OPTION)
        wcol = "inventory_value" if "inventory_value" in stock_segments.columns else None
        if wcol is None:
            require_columns(
                stock_segments.columns, ("inventory_share",), source=STOCK_SEGMENTS_OPTION
            )
            wcol = "inventory_share"
        wkeys = [k for k in keys if k in stock_segments.columns]
        _check_same_stock_run(policy, stock_segments, wkeys)
        weights: pl.DataFrame | pl.LazyFrame = stock_segments.select(
            pl.col("segment").cast(pl.String),
            *[pl.col(k).cast(pl.String) for k in wkeys],
            pl.col(wcol).cast(pl.Float64).fill_null(0.0).alias("w"),
        )
        how = f"the per-segment stock table's {wcol} per stocking point"
    elif forecast is not None and {"segment", "sku", "forecast"} <= set(forecast.columns):
        wkeys = [k for k in keys if k in forecast.columns]
        weights = forecast.select(
            pl.col("segment").cast(pl.String),
            *[pl.col(k).cast(pl.String) for k in wkeys],
            pl.col("forecast").cast(pl.Float64).fill_null(0.0).alias("w"),
        )
        how = "each segment's share of the forecast demand per " + " x ".join(wkeys)
    else:
        wkeys = [k for k in keys if k in lines.lazy().collect_schema().names()]
        if "site" in wkeys and _sites_not_shipped_from(pol, lines):
            # A routed policy (stock planned at the sites network serves each customer from)
            # over orders whose site is where goods shipped from in the past: split per sku, as
            # keyed per site, the points at the network's new sites were no segment's (76 % of
            # the demo's inventory left out of every segment's carrying cost).
            wkeys = ["sku"]
        weights = lines.lazy().select(
            pl.col("segment").cast(pl.String),
            *[pl.col(k).cast(pl.String) for k in wkeys],
            pl.col("quantity").cast(pl.Float64).alias("w"),
        )
        how = "each segment's share of the net units bought per " + " x ".join(wkeys)
    # Sums whatever order the lines (or the split table's rows) come in (sum_any_order): the
    # groups come in the order their first rows do.
    w = (
        weights.lazy()
        .group_by("segment", *wkeys, maintain_order=True)
        .agg(sum_any_order("w"))
        .with_columns(pl.col("w").clip(lower_bound=0.0))
        .collect(engine=IN_ORDER)
    )
    tot = sum_any_order("w").over(wkeys)
    w = w.with_columns(
        share=pl.when(tot > 0).then(pl.col("w") / tot).otherwise(1.0 / pl.len().over(wkeys))
    )
    alloc = (
        pol.join(w.select("segment", *wkeys, "share"), on=wkeys, how="inner", maintain_order="left")
        .with_columns(inventory_value=pl.col("inventory_value") * pl.col("share"))
        .select("segment", *keys, "inventory_value")
        .sort("segment", *keys)
    )
    unattributed = float(
        pol.join(w.select(wkeys).unique(), on=wkeys, how="anti", maintain_order="left")[
            "inventory_value"
        ].sum()
    )
    return alloc, how, unattributed


def _check_same_network_run(site_df: pl.DataFrame, by_site: pl.DataFrame) -> None:
    """Refuse a sites table that does not say what the assignments do: a site they send demand
    to marked closed (its fixed cost was left out, 70,040 of the demo's), or a site whose
    demand_served is not theirs (another plan's open sites charged to every customer)."""
    both = site_df.join(by_site, on="site_id", how="left").with_columns(
        pl.col("site_served").fill_null(0.0)
    )
    closed = both.filter(~pl.col("open") & (pl.col("site_served") > 0))
    other = pl.lit(False)
    if "demand_served" in both.columns:
        stated = pl.col("demand_served").cast(pl.Float64, strict=False).fill_null(0.0)
        other = (stated - pl.col("site_served")).abs() > 1e-6 * stated.abs().clip(1.0, None)
    differ = both.filter(other & pl.col("open"))
    if not closed.height and not differ.height:
        return
    if closed.height:
        what = (
            f"{plural(closed.height, 'site')} that {{{SITES_OPTION}}} marks closed "
            f"{agree(closed.height, 'serves', 'serve')} customers in {{{ASSIGNMENTS_OPTION}}}: "
            f"{examples(closed['site_id'].to_list())}"
        )
    else:
        row = differ.row(0, named=True)
        what = (
            f"{{{SITES_OPTION}}} is of another network run than {{{ASSIGNMENTS_OPTION}}}: "
            f"{plural(differ.height, 'open site')} {agree(differ.height, 'serves', 'serve')} "
            f"other demand than the assignments give {agree(differ.height, 'it', 'them')} "
            f"(site_id {row['site_id']!r}: demand_served {row['demand_served']:,.2f}, assigned "
            f"{row['site_served']:,.2f})"
        )
    raise DataError(
        what,
        hint="give the --sites-out table of the same network run as the assignments",
        tables={ASSIGNMENTS_OPTION: "the assignments", SITES_OPTION: "the sites table"},
    )


def _check_same_stock_run(
    policy: pl.DataFrame, stock_segments: pl.DataFrame, keys: list[str]
) -> None:
    """Refuse a per-segment stock table of another stock run: one naming a stocking point the
    policy does not have, or lacking one where the policy plans demand (a point with no demand
    has no segment rows). Split by another run's table, half of make demo's inventory fell out
    of every segment, said as 'no segment buys from' those points."""
    points = stock_segments.select(pl.col(k).cast(pl.String) for k in keys).unique()
    planned = policy.select(pl.col(k).cast(pl.String) for k in keys)
    extra = points.join(planned, on=keys, how="anti")
    demand = (
        pl.col("mean_demand").cast(pl.Float64).fill_null(0.0) > 0
        if "mean_demand" in policy.columns
        else pl.lit(True)
    )
    missing = (
        policy.filter(demand)
        .select(pl.col(k).cast(pl.String) for k in keys)
        .join(points, on=keys, how="anti")
    )
    if not extra.height and not missing.height:
        return

    def shown(frame: pl.DataFrame) -> str:
        return examples(["@".join(row) for row in frame.sort(keys).rows()], 3)

    parts = []
    if extra.height:
        parts.append(f"has {plural(extra.height, 'stocking point')} the policy does not "
                     f"({shown(extra)})")  # fmt: skip
    if missing.height:
        parts.append(
            f"lacks {missing.height:,} of the policy's stocking points with demand "
            f"({shown(missing)})"
        )
    raise DataError(
        f"{{{STOCK_SEGMENTS_OPTION}}} is of another stock run than {{{POLICY_OPTION}}}: it "
        + ", and ".join(parts),
        hint="give the --segments-out table of the stock run that wrote the policy",
        tables={STOCK_SEGMENTS_OPTION: STOCK_SEGMENTS_OPTION, POLICY_OPTION: POLICY_OPTION},
    )


def _sites_not_shipped_from(policy: pl.DataFrame, lines: pl.LazyFrame | pl.DataFrame) -> bool:
    """True when a site of the policy has no line in the orders."""
    shipped = (
        lines.lazy()
        .select(pl.col("site").cast(pl.String).drop_nulls().unique())
        .collect(engine="streaming")
        .to_series()
        .implode()
    )
    return bool(policy.select((~pl.col("site").is_in(shipped)).any()).item())


# A split that moves less than this share of the inventory value between segments is stock's
# own, up to rounding; above it, the table and the report would show two figures for a segment.
SPLIT_TOLERANCE = 0.005


def split_differs_from_stock(
    by_segment: pl.DataFrame, stock_totals: Sequence[Mapping[str, Any]] | None, how: str
) -> str | None:
    """What to tell the user when the inventory value per segment split here (``by_segment``:
    ``segment, inventory_value``) differs from stock's own split (its policy's metadata, which
    the report shows): the segment that differs most and the option that makes them agree.
    None when stock recorded no totals or the two agree."""
    theirs = records_frame(list(stock_totals) if stock_totals else None)
    if theirs is None or not {"segment", "inventory_value"} <= set(theirs.columns):
        return None
    both = by_segment.select(pl.col("segment").cast(pl.String), "inventory_value").join(
        theirs.select(
            pl.col("segment").cast(pl.String),
            # strict=False: a hand-edited total that is not a number is no total.
            pl.col("inventory_value").cast(pl.Float64, strict=False).alias("stock"),
        ),
        on="segment",
        how="full",
        coalesce=True,
    )
    both = both.with_columns(pl.col("inventory_value", "stock").fill_null(0.0)).with_columns(
        gap=(pl.col("inventory_value") - pl.col("stock")).abs()
    )
    total = float(both["stock"].sum())
    # The segment that moved most; of equal moves (two segments trade value), the larger one.
    worst = both.sort("gap", "stock", "segment", descending=[True, True, False]).row(0, named=True)
    if total <= 0 or worst["gap"] <= SPLIT_TOLERANCE * total:
        return None
    return (
        f"inventory value split among segments by {how}, not as stock split it: "
        f"{worst['segment']} {worst['inventory_value']:,.2f} here against {worst['stock']:,.2f} "
        "in stock's totals (what the report's inventory section shows); give "
        "--stock-segments FILE (stock --segments-out) to split as stock did"
    )


def holding_rates(items: pl.DataFrame | None, default: float) -> pl.DataFrame | None:
    """sku [, site], holding_rate from the item master, else None.

    Per sku: the rate its row without a site states (no row for a sku that has none: its points
    take the default in ``carrying``). With a ``site`` column, also one row per sku x site
    stating its own rate. As ``stock`` reads items (``stock.inputs.join_items``): a site's row is
    that site's alone; another site's rate, the first row's, had carried a point at a site
    without a row, so the result depended on the rows' order (audit C C5, session 66).
    """
    if items is None or "holding_rate" not in items.columns:
        return None
    rate = pl.col("holding_rate").cast(pl.Float64, strict=False)
    has_site = "site" in items.columns
    site = pl.col("site").cast(pl.String).str.strip_chars() if has_site else pl.lit(None)
    rows = items.select(
        pl.col("sku").cast(pl.String),
        pl.when(site == "").then(None).otherwise(site).cast(pl.String).alias("site"),
        rate.alias("holding_rate"),
    )
    per_sku = (
        rows.filter(pl.col("site").is_null())
        .group_by("sku", maintain_order=True)
        .agg(pl.col("holding_rate").drop_nulls().first())
        .with_columns(pl.col("holding_rate").fill_null(default))
    )
    if not has_site:
        return per_sku
    per_site = rows.filter(pl.col("site").is_not_null(), pl.col("holding_rate").is_not_null())
    if per_site.height == 0:
        return per_sku
    per_sku = per_sku.select("sku", pl.lit(None, pl.String).alias("site"), "holding_rate")
    return pl.concat([per_sku, per_site.select(per_sku.columns)])


def carrying(
    seg_inventory: pl.DataFrame,
    *,
    rates: pl.DataFrame | None,
    default_rate: float,
    period_days: int,
) -> pl.DataFrame:
    """Add holding_rate and inventory_carrying = value x rate x period_days / DAYS_PER_YEAR.

    A stocking point's rate: its site's own rate when the items state one, else the sku's.
    """
    df = seg_inventory
    if rates is not None:
        by_sku = (
            rates.filter(pl.col("site").is_null()).drop("site")
            if "site" in rates.columns
            else rates
        )
        df = df.join(by_sku, on="sku", how="left", maintain_order="left")
        if "site" in rates.columns and "site" in df.columns:
            at_site = rates.filter(pl.col("site").is_not_null()).rename(
                {"holding_rate": "_site_rate"}
            )
            df = df.join(
                at_site, on=["sku", "site"], how="left", maintain_order="left"
            ).with_columns(pl.coalesce("_site_rate", "holding_rate").alias("holding_rate"))
            df = df.drop("_site_rate")
        df = df.with_columns(pl.col("holding_rate").fill_null(default_rate))
    else:
        df = df.with_columns(holding_rate=pl.lit(default_rate))
    return df.with_columns(
        inventory_carrying=pl.col("inventory_value")
        * pl.col("holding_rate")
        * (period_days / DAYS_PER_YEAR)
    )


def inventory_by_customer(
    seg_inventory: pl.DataFrame, lines: pl.LazyFrame | pl.DataFrame, customers: pl.DataFrame
) -> pl.DataFrame:
    """A segment's inventory and carrying per sku shared by its customers by the net units each
    bought of the sku (equally among the segment's customers when none bought it)."""
    per_sku = seg_inventory.group_by("segment", "sku", maintain_order=True).agg(
        sum_in_order("inventory_value"), sum_in_order("inventory_carrying")
    )
    bought = (
        lines.lazy()
        .group_by("customer_id", "segment", "sku", maintain_order=True)
        .agg(sum_any_order("quantity").clip(lower_bound=0.0).alias("w"))
        .filter(pl.col("w") > 0)
        .collect(engine=IN_ORDER)
    )
    # A sku's customers come in the order of their first lines: summed whatever that order.
    by_units = per_sku.join(
        bought, on=["segment", "sku"], how="inner", maintain_order="left"
    ).with_columns(share=pl.col("w") / sum_any_order("w").over("segment", "sku"))
    orphan = per_sku.join(
        bought.select("segment", "sku").unique(),
        on=["segment", "sku"],
        how="anti",
        maintain_order="left",
    )
    equal = orphan.join(
        customers.select("customer_id", "segment"), on="segment", maintain_order="left"
    ).with_columns(share=1.0 / pl.len().over("segment", "sku"))
    cols = ["customer_id", "inventory_value", "inventory_carrying", "share"]
    both = pl.concat([by_units.select(cols), equal.select(cols)])
    shared = both.with_columns(pl.col("inventory_value", "inventory_carrying") * pl.col("share"))
    return shared.group_by("customer_id", maintain_order=True).agg(
        sum_in_order("inventory_value"), sum_in_order("inventory_carrying")
    )
