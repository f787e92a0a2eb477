"""What ``segchain stock`` says on stderr about the plan it wrote: the plan in one line, its
item defaults, the segmented-vs-uniform comparison, the held-out replay and the simulation's
summaries. Presentation only: the numbers come from the stage (``segchain.stock``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from segchain.cli import common as c
from segchain.errors import TableMessage
from segchain.formatting import UNITS, agree, count, plural, short_of_one

if TYPE_CHECKING:
    import polars as pl

    from segchain.stock import StockResult


def report_plan(
    result: StockResult, *, items: str | None, lead_time_days: float | None, reporter: c.Reporter
) -> None:
    """The stage's notes, the items that took defaults, and the plan in one line."""
    from segchain.stock.inputs import valued_in_units

    policy = result.policy
    for note in result.notes:
        reporter.warn(note)
    if result.items_defaulted:
        from segchain.stock.inputs import item_fallbacks

        fallbacks = item_fallbacks(lead_time_days)
        detail = defaults_detail(result.defaults_by_column, fallbacks)
        source = defaults_cause(result) if items else "no --items given"
        # Named by its file, as stock's warnings about --items are.
        reporter.info(
            TableMessage(
                f"{count(result.items_defaulted)} of {plural(policy.height, 'item')} used "
                f"default parameters ({source}): {detail}",
                {"--items": "--items"},
            )
        )
    if lead_time_days is not None and not result.defaults_by_column.get("lead_time_days", 0):
        # Read for nothing: every point takes its item's own lead time.
        reporter.warn(
            f"--lead-time-days {lead_time_days:g} is used by no stocking point: every one takes "
            "its item's own lead_time_days from --items"
        )
    if result.items_unused:
        reporter.info(result.items_unused)
    if result.on_hand_missing:
        n = result.on_hand_missing
        reporter.info(
            f"{plural(n, 'stocking point')} {'has' if n == 1 else 'have'} no on-hand row "
            "(counted as 0)"
        )
    kind = policy["policy_type"][0] if policy.height else "sQ"
    review = policy["review_days"][0] if policy.height else 1.0
    mode = (
        f"(R, S) every {review:g} day{'s' * (review != 1)}"
        if kind == "RS"
        else f"(s, Q) looked at every {review:g} day{'s' * (review != 1)}"
    )
    cost_from = policy.get_column("unit_cost_source")
    priced = int((cost_from == "price").sum())
    if priced:
        reporter.info(
            TableMessage(
                f"{count(priced)} of {plural(policy.height, 'stocking point')} valued at their "
                "sku's mean selling price in {--orders} (no unit_cost in {--items}): inventory "
                "value at price, above cost",
                {"--orders": "--orders", "--items": "--items"},
            )
        )
    total = policy["inventory_value"].sum()
    if valued_in_units(policy):
        worth = (
            f"inventory {total:,.2f} units (no unit costs: give --items, or --orders with prices)"
        )
    else:
        worth = f"inventory value {total:,.2f}"
    reporter.info(
        f"{plural(policy.height, 'stocking point')}, {mode}, periods of "
        f"{result.period_days:g} day{'s' * (result.period_days != 1)}; "
        f"{worth}"
    )
    line, warning = plan_cover(policy)
    if line:
        reporter.info(line)
    if warning:
        reporter.warn(warning)
    high = high_levels(policy)
    if high:
        reporter.warn(high)


# How far past its longest lead time plus review a plan's cover may go before stock warns. An
# (s, Q) or (R, S) plan holds about its safety stock plus half an order: at a 0.99 target
# (z 2.33) on demand over lead time plus review with a coefficient of variation of 1, the
# safety stock is 2.3 such spans of demand, and an order of 3 spans adds 1.5: under 4. A plan
# far past that holds stock no lead time explains (Superstore: 256 weeks against 3.1, points
# forecast about 1e-9 a week holding 12 units).
COVER_WARN_FACTOR = 4.0


def _point_value(policy: pl.DataFrame) -> pl.Expr:
    """A stocking point's planned stock in value, in units where the policy has no value."""
    import polars as pl

    name = "inventory_value" if "inventory_value" in policy.columns else "avg_inventory"
    return pl.col(name).fill_null(0.0)


def plan_cover(policy: pl.DataFrame) -> tuple[str | None, str | None]:
    """The plan's cover (its average inventory in weeks of forecast demand, total avg_inventory
    / total forecast per week) in one line, and a warning when it is above COVER_WARN_FACTOR x
    the longest lead time plus review, naming the share of the inventory value held at points
    forecast under 1 unit a year. (None, None) without forecast demand or columns."""
    import polars as pl

    needed = ("avg_inventory", "mean_demand", "period_days", "lead_time_days", "review_days")
    if not policy.height or any(col not in policy.columns for col in needed):
        return None, None
    per_period = pl.col("mean_demand").fill_null(0.0)
    figures = policy.select(
        held=pl.col("avg_inventory").fill_null(0.0).sum(),
        weekly=(per_period * 7.0 / pl.col("period_days")).sum(),
        span=(pl.col("lead_time_days") + pl.col("review_days")).max() / 7.0,
    ).row(0, named=True)
    held, weekly, span = figures["held"], figures["weekly"], figures["span"]
    if not weekly or weekly <= 0:
        return None, None
    weeks = held / weekly
    line = (
        f"cover: average inventory {held:,.0f} units = {weeks:,.1f} weeks of forecast demand "
        f"({weekly:,.1f} units a week)"
    )
    if span is None or weeks <= COVER_WARN_FACTOR * span:
        return line, None
    from segchain.high_levels import under_one_a_year

    value = _point_value(policy)
    slow = under_one_a_year()
    lumps = policy.select(n=slow.sum(), theirs=value.filter(slow).sum(), whole=value.sum()).row(
        0, named=True
    )
    share = lumps["theirs"] / lumps["whole"] if lumps["whole"] else 0.0
    n = int(lumps["n"])
    # Points holding nothing explain none of it: named, they read as the cause.
    slow_said = (
        f"; {plural(n, 'stocking point')} forecast under 1 unit a year "
        f"{agree(n, 'holds', 'hold')} {share:.0%} of the inventory value "
        f"({lumps['theirs']:,.2f} of {lumps['whole']:,.2f})"
        if n and lumps["theirs"] > 0
        else ""
    )
    warning = (
        f"the plan holds {weeks:,.0f} weeks of forecast demand, over {COVER_WARN_FACTOR:g} x its "
        f"longest lead time plus review ({span:,.1f} weeks){slow_said}: "
        f"{_cover_parts(policy, held, weekly)} of the points that hold the most before ordering"
    )
    return line, warning


def _cover_parts(policy: pl.DataFrame, held: float, weekly: float) -> str:
    """What the cover is made of, and so what to check: its weeks of safety stock and of the
    stock above it (what orders bring, half an order on average), with the median point's
    order in weeks of its demand. The Complete Journey's 300 best sellers on item defaults held
    12.2 weeks, 11.7 of them above safety stock (orders of 28 weeks from order_cost 50 on goods of
    2 to 4 a unit), and the warning named only the points forecast under 1 unit a year,
    which held none of it. A policy without the columns gets the three things to check."""
    import polars as pl

    if any(col not in policy.columns for col in ("safety_stock", "order_qty")):
        return "check the order history, service targets and order quantities"
    safety = float(policy.select(pl.col("safety_stock").fill_null(0.0).clip(0.0).sum()).item())
    above = max(held - safety, 0.0)
    per_week = pl.col("mean_demand") * 7.0 / pl.col("period_days")
    ordering = policy.filter(per_week > 0).select((pl.col("order_qty") / per_week).median())
    median = ordering.item() if ordering.height else None
    order_said = (
        f"; the median stocking point orders {median:,.0f} weeks of its demand at a time"
        if median is not None
        else ""
    )
    parts = (
        f"{above / weekly:,.1f} weeks of it are the stock orders bring (half an order on "
        f"average{order_said}), {safety / weekly:,.1f} safety stock"
    )
    if above >= safety:
        return (
            f"{parts}: check the order quantities (order_cost and holding_rate of --items, "
            "moq, pack_size)"
        )
    return f"{parts}: check the order history and service targets"


LEVEL_EXAMPLES = 3


def high_levels(policy: pl.DataFrame) -> str | None:
    """A warning naming the stocking points whose level (order-up-to S for (R, S), reorder
    point s for (s, Q)) exceeds LEVEL_WARN_FACTOR x their forecast demand over lead time plus
    review plus one order (``segchain.high_levels``, the rule the report's reorder list marks
    its lines by): how many, their share of the inventory value, and the most valuable with
    their level in weeks of forecast demand. Points forecast under 1 unit a year are left out
    and counted apart: any level is years of their demand, and the cover warning names them.
    None when no point exceeds it (or the columns are absent)."""
    import polars as pl

    from segchain.high_levels import LEVEL_WARN_FACTOR, level_checks, named

    checks = level_checks(policy) if policy.height and "sku" in policy.columns else None
    if checks is None:
        return None
    points = pl.concat(
        [
            policy.select("sku", *[c for c in ("site",) if c in policy.columns]),
            checks,
            policy.select(_point_value(policy).alias("value")),
        ],
        how="horizontal",
    )
    named_points = points.filter(named()).sort("value", "sku", descending=[True, False])
    if not named_points.height:
        return None
    whole = float(points.get_column("value").sum())
    theirs = float(named_points.get_column("value").sum())
    share = theirs / whole if whole else 0.0
    kind = policy.get_column("policy_type")[0]
    word = "order-up-to" if kind == "RS" else "reorder point"
    shown = ", ".join(
        f"sku {row['sku']}{_at_site(row.get('site'))} ({word} {row['level']:,.0f} = "
        f"{row['weeks']:,.0f} weeks of forecast demand)"
        for row in named_points.head(LEVEL_EXAMPLES).iter_rows(named=True)
    )
    more = named_points.height - LEVEL_EXAMPLES
    tiny = int(points.filter(pl.col("high") & pl.col("tiny")).height)
    n = named_points.height
    return (
        f"{plural(n, 'stocking point')} {agree(n, 'holds', 'hold')} a level over "
        f"{LEVEL_WARN_FACTOR:g} x {agree(n, 'its', 'their')} forecast demand over lead time plus "
        f"review plus one order, {share:.1%} of the inventory value ({theirs:,.2f} of "
        f"{whole:,.2f}), the most valuable: {shown}"
        + (f" (and {count(more)} more)" if more > 0 else "")
        + (f"; not counted: {plural(tiny, 'point')} forecast under 1 unit a year" if tiny else "")
        + ". Usually spikes in the order history set such a level (a promotion, a one-off bulk "
        "order), through the largest demand the bootstrap read or a fitted model's error: "
        "check those skus' history; if a spike will not recur, leave its lines out of the "
        "orders given to forecast and stock and rerun (the levels are as planned, not changed)"
    )


def _at_site(site: object) -> str:
    """`` at DC-1`` for a point at a site, nothing for a point without one."""
    return f" at {site}" if site is not None and str(site) != "" else ""


def report_comparison(result: StockResult, reporter: c.Reporter) -> None:
    """The segmented targets against the uniform plan (``--compare-uniform``), per segment."""
    import polars as pl

    from segchain.stock.inputs import valued_in_units

    if result.comparison is None:
        return
    # No unit cost anywhere: the inventory_value_* columns count units, so headed units_* on
    # stderr (headed value_*, 493 units had read as money). The table's own columns keep
    # their names: the report and costs read them, and the README documents them.
    stock = "units" if valued_in_units(result.policy) else "value"
    shown = result.comparison.select(
        "segment",
        "target",
        "skus",
        pl.col("inventory_value_segmented").alias(f"{stock}_segmented"),
        pl.col("inventory_value_uniform").alias(f"{stock}_uniform"),
        pl.col("fill_rate_segmented").alias("fill_segmented"),
        pl.col("fill_rate_uniform").alias("fill_uniform"),
        pl.col("csl_segmented").alias("csl_segmented"),
        pl.col("csl_uniform").alias("csl_uniform"),
        *[
            pl.col(name).alias(name.replace("inventory_value", stock).replace("_rate", ""))
            for name in ("inventory_value_fcfs", "fill_rate_fcfs")
            if name in result.comparison.columns
        ],
    )
    plan = result.comparison["uniform_plan"][0]
    kinds = {f"{stock}_{which}": UNITS for which in ("segmented", "uniform", "fcfs")}
    table = c.frame_table(
        shown, title=f"segmented targets vs {plan}", kinds=kinds if stock == "units" else None
    )
    reporter.table(table)
    idle = segments_without_demand(result.comparison)
    if idle:
        # Their service cells are blank: say why, so a blank is not read as a failure.
        reporter.info(
            f"no fill rate or CSL for {plural(len(idle), 'segment')} without forecast "
            f"demand ({', '.join(idle)}): service is undefined without demand"
        )


def report_held_out(result: StockResult, *, reporter: c.Reporter) -> None:
    """The plan replayed on the whole periods --orders holds after the forecast's start, per
    segment beside the uniform plan: a table and one line (as forecast --as-of scores itself)."""
    import polars as pl

    from segchain.stock.inputs import valued_in_units

    priced_in_units = valued_in_units(result.policy)
    if result.held_out_note:
        reporter.info(result.held_out_note)
    held = result.held_out
    if held is None:
        return
    words = {1.0: ("day", "days"), 7.0: ("week", "weeks")}.get(
        held.period_days, ("period", "periods")
    )
    span = f"{held.periods} {words[0] if held.periods == 1 else words[1]}"
    uniform = "fill_uniform" in held.table.columns
    stock = "units" if priced_in_units else "value"
    kind = "stock_units_" if priced_in_units else "stock_"  # no unit cost: units, not value
    table = held.table.select(
        "segment",
        "measure",
        "target",
        "expected_fill",
        pl.col("asked").alias("demand"),
        "fill_segmented",
        *(["fill_uniform"] if uniform else []),
        pl.col(f"{kind}segmented").alias(f"stock_{stock}_segmented"),
        *([pl.col(f"{kind}uniform").alias(f"stock_{stock}_uniform")] if uniform else []),
    )
    unplanned = (
        f"; {held.unplanned_units:,.0f} units asked at "
        f"{plural(held.unplanned_points, 'stocking point')} without a plan not replayed"
        if held.unplanned_points
        else ""
    ) + (
        f"; {held.unrouted_units:,.0f} units asked by "
        f"{plural(held.unrouted_customers, 'customer')} with no serving site in --assignments "
        "not replayed"
        if held.unrouted_units
        else ""
    )
    reporter.table(
        c.frame_table(
            table,
            title=f"held out: the plan replayed on the {span} from {held.start} (the --orders "
            f"lines on or after the forecast's start), {plural(held.points, 'stocking point')}"
            f", fill rate delivered and mean stock on hand ({stock}){unplanned}",
        )
    )
    total = held.total
    if not total["asked"]:
        reporter.info(
            f"held out over {span} from {held.start}: no unit asked at the plan's stocking points"
        )
        return
    asked = held.table.filter(
        (pl.col("segment") != "(all)") & (pl.col("asked") > 0) & pl.col("target").is_not_null()
    )
    worth = "units" if priced_in_units else "in value"

    def named(segment: str) -> str:
        return "all demand (no segments)" if segment == "*" else segment

    if asked.height:
        top = asked.row(0, named=True)
        promise = (
            f"{short_of_one(top['target'], '.1%')} promised"
            if top["measure"] == "fill-rate"
            else f"a CSL of {short_of_one(top['target'], '.1%')} promised"
        )
        seg = f"{named(top['segment'])} {top['fill_segmented']:.1%} against {promise}, "
    else:
        top, seg = None, ""
    line = (
        f"held out over {span} from {held.start}: segmented plan served {seg}all "
        f"{total['fill_segmented']:.1%} at a mean stock of {total[f'{kind}segmented']:,.0f} "
        f"{worth}"
    )
    if uniform:
        one = held.uniform_plan or "one target"
        mine = f"{named(top['segment'])} {top['fill_uniform']:.1%}, " if top is not None else ""
        line += (
            f"; {one} served {mine}all {total['fill_uniform']:.1%} at "
            f"{total[f'{kind}uniform']:,.0f} {worth}"
        )
    reporter.info(line)


def segments_without_demand(comparison: pl.DataFrame) -> list[str]:
    """The segments of the uniform comparison with no forecast demand at any stocking point."""
    import polars as pl

    return (
        comparison.filter((pl.col("demand_per_period") <= 0) & (pl.col("segment") != "(all)"))
        .get_column("segment")
        .to_list()
    )


def simulation_summary(sim: pl.DataFrame) -> pl.DataFrame:
    """Per distribution and measure: points, mean target, achieved and expected service."""
    import polars as pl

    return (
        sim.group_by("distribution", "service_measure")
        .agg(
            pl.len().alias("points"),
            pl.col("service_target").mean().alias("target"),
            pl.col("expected_fill_rate").mean().alias("expected_fill_rate"),
            pl.col("achieved_fill_rate").mean().alias("achieved_fill_rate"),
            pl.col("expected_csl").mean().alias("expected_csl"),
            pl.col("achieved_csl").mean().alias("achieved_csl"),
            pl.col("target_met").sum().alias("met"),
        )
        .sort("distribution", "service_measure")
    )


def segment_summary(per_seg: pl.DataFrame, ranks: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per segment: target, demand-weighted achieved fill rate and CSL, points meeting it;
    listed as the segmented-vs-uniform table lists them (``compare.listing_order``: by
    priority, then by the segment_rank of ``--segments``, ``ranks``)."""
    import polars as pl

    from segchain.schema import in_segment_order
    from segchain.stock.compare import listing_order

    def weighted(c: str) -> pl.Expr:
        # Over the points where the replay measured it (drew demand, brought an order).
        w = pl.when(pl.col(c).is_not_null()).then(pl.col("demand_share"))
        return ((pl.col(c) * w).sum() / w.sum()).alias(c)

    order = (
        listing_order(per_seg.group_by("segment").agg(pl.col("priority").min()), ranks)
        if "priority" in per_seg.columns
        else ranks
    )
    table = (
        per_seg.group_by("segment", "service_measure")
        .agg(
            pl.col("service_level").first().alias("target"),
            pl.len().alias("points"),
            weighted("achieved_fill_rate"),
            weighted("achieved_csl"),
            pl.col("target_met").sum().alias("met"),
        )
        # A segment on both measures: its higher target first.
        .sort("segment", "target", descending=[False, True])
    )
    return in_segment_order(table, order)


def defaults_cause(result: StockResult) -> str:
    """Why items took defaults, as it happened (a ``{--items}`` template): columns the item
    master does not have, items without a row in it, values left empty. It said 'not in
    --items or with empty values' of columns that were simply absent."""
    gaps, by_column = result.item_gaps, result.defaults_by_column
    parts = []
    rowless = gaps.without_row - gaps.at_sites_only
    if rowless:
        parts.append(f"{plural(rowless, 'item')} not in {{--items}}")
    if gaps.at_sites_only:
        n = gaps.at_sites_only
        parts.append(
            f"{plural(n, 'item')} only at sites in {{--items}}, where the forecast has no "
            f"sites and reads {agree(n, 'its', 'their')} row without a site"
        )
    absent = [c for c in gaps.absent if c in by_column]
    if absent:
        columns = agree(len(absent), "no column", "no columns")
        parts.append(f"{{--items}} has {columns} {', '.join(absent)}")
    empty = gaps.empty(by_column)
    if empty:
        parts.append("empty " + ", ".join(f"{c} for {plural(n, 'item')}" for c, n in empty.items()))
    return "; ".join(parts)


def defaults_detail(counts: Mapping[str, int], values: Mapping[str, float]) -> str:
    """Each defaulted item column with the value it took and how many items took it:
    ``order_cost = 50, moq = 0 (each for 3 items)``; a unit cost is said missing (the
    inventory line says what stands in for it: prices, or units)."""
    parts = [
        "no unit_cost" if column == "unit_cost" else f"{column} = {values[column]:g}"
        for column in counts
    ]
    if len(set(counts.values())) == 1:
        return f"{', '.join(parts)} (each for {plural(next(iter(counts.values())), 'item')})"
    return ", ".join(
        f"{p} ({plural(n, 'item')})" for p, n in zip(parts, counts.values(), strict=True)
    )
