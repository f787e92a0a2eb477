"""Inventory: safety stock and inventory value per stocking point, segmented vs uniform policy."""

from __future__ import annotations

from functools import partial
from typing import Any

import polars as pl

from segchain.formatting import agree, plural
from segchain.report import charts as ch
from segchain.report.model import (
    INT,
    MONEY,
    PCT,
    UNITS,
    Block,
    Chart,
    Headline,
    Note,
    Section,
    TableBlock,
    finite,
    format_number,
)
from segchain.report.sections.common import (
    Colours,
    Meta,
    Tables,
    colour_list,
    count,
    distinct_keys,
    filled,
    has,
    known_sum,
    lacks,
    meta_rows,
    money,
    noted,
    num,
    order_frame,
    pct,
    repeated_note,
    segment_order,
    sum_note,
    total,
    unknown,
    unknown_note,
    with_unknowns,
    wmean,
    wmean_note,
)
from segchain.report.sections.stock_heldout import (
    PlanHeldOut,
    held_out_blocks,
    held_out_headline,
    plan_held_out,
    stock_words,
)
from segchain.schema import META_COMPARISON, META_INVENTORY_BY_SEGMENT, cost_basis

COMPARISON_COLUMNS = (
    "segment",
    "target",
    "skus",
    "inventory_value_segmented",
    "inventory_value_uniform",
    "value_change",
    "fill_rate_segmented",
    "fill_rate_uniform",
)
# The plan's figure, named so beside the held-out replay's stock on hand (two_measures_note).
COMPARISON_LABEL = "Segmented vs uniform, planned"
COMPARISON_NOTE = (
    "inventory_value: the mean stock on hand each plan expects in the long run on the "
    "forecast's demand (planned, not replayed; at a stocking point held at its order history's "
    "largest demand, on the bootstrap of that history, raised to the forecast's level where it "
    "was lower), valued as the section's "
    "inventory value; fill_rate: the fill rate each plan expects."
)
TOP_POINT_COLUMNS = (
    "sku",
    "site",
    "largest_segment",
    "service_target",
    "safety_stock",
    "reorder_point",
    "order_qty",
    "inventory_value",
    "on_hand",
    "order_now",
)


# ---- data


def stock_comparison(tables: Tables, meta: Meta) -> pl.DataFrame | None:
    """Segmented targets versus one uniform target, per segment, when given."""
    if "stock_comparison" in tables:
        return tables["stock_comparison"]
    rows = meta_rows(meta, "policy", META_COMPARISON)
    if rows is not None and has(rows, "segment", "inventory_value_uniform"):
        return rows
    return None


def with_safety_stock_value(policy: pl.DataFrame) -> pl.DataFrame:
    """The policy with ``safety_stock_value`` (safety stock at unit cost, null when unknown)
    and ``safety_stock_held`` / ``safety_stock_held_value``, the same at least 0: the stock
    a point holds above the demand expected over its lead time and review, none where its
    reorder point is below that demand."""
    cost = num("unit_cost") if "unit_cost" in policy.columns else pl.lit(None, pl.Float64)
    safety = num("safety_stock") if "safety_stock" in policy.columns else pl.lit(None, pl.Float64)
    held = safety.clip(lower_bound=0.0)
    return policy.with_columns(
        (safety * cost).alias("safety_stock_value"),
        held.alias("safety_stock_held"),
        (held * cost).alias("safety_stock_held_value"),
    )


def point_keys(frame: pl.DataFrame) -> list[str]:
    """A stocking point's key columns in ``frame``: sku, and site when the plan has one."""
    return ["sku", "site"] if "site" in frame.columns else ["sku"]


def count_points(frame: pl.DataFrame) -> int:
    """The stocking points ``frame``'s rows are: a sku (x site) given in two rows is one; a row
    whose sku (or site) is empty or blank is one of its own, as a row of the plan."""
    keys = point_keys(frame)
    unnamed = frame.filter(~pl.all_horizontal(filled(k) for k in keys)).height
    return distinct_keys(frame, keys) + unnamed


def inventory_by_segment(tables: Tables, meta: Meta) -> pl.DataFrame | None:
    """Inventory value and stocking points per segment with each stocking point's stock shared
    among the segments that buy it: summed from stock's per-segment table when given, else its
    totals recorded in the policy's metadata. None without either (the policy's own segment is
    only the largest one, and grouping by it would give a different, wrong figure)."""
    segs = tables.get("stock_segments")
    if has(segs, "segment", "inventory_value"):
        assert segs is not None
        buys = num("demand_share") > 0 if "demand_share" in segs.columns else pl.lit(True)
        # The points a segment buys from, not its rows: a sku x segment row given twice is one.
        point = pl.struct(point_keys(segs)).filter(buys.fill_null(False))
        return segs.group_by(pl.col("segment").cast(pl.String)).agg(
            point.n_unique().cast(pl.Int64).alias("stocking_points"),
            known_sum(num("inventory_value")).alias("inventory_value"),
        )
    rows = meta_rows(meta, "policy", META_INVENTORY_BY_SEGMENT)
    if rows is not None and has(rows, "segment", "stocking_points", "inventory_value"):
        return rows.select(pl.col("segment").cast(pl.String), "stocking_points", "inventory_value")
    return None


SERVICE_PREFIXES = ("fill_rate_", "csl_")
NO_DEMAND_NOTE = (
    "–: the segment has no forecast demand at any stocking point, so it has no fill rate "
    "(demand served over demand is undefined without demand)."
)


def without_service_for_no_demand(comparison: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The comparison with its service columns blanked for segments without demand, and how
    many such segments. Stock leaves them blank itself now; a policy written before gave such
    a segment the plain mean of its points' rates (95 % for a segment buying nothing)."""
    if "demand_per_period" not in comparison.columns:
        return comparison, 0
    none = num("demand_per_period").fill_null(1.0) <= 0
    service = [c for c in comparison.columns if c.startswith(SERVICE_PREFIXES)]
    blanked = comparison.with_columns(*[pl.when(~none).then(num(c)).alias(c) for c in service])
    return blanked, int(comparison.select(none.sum()).item())


def _compares(comparison: pl.DataFrame | None) -> bool:
    return has(comparison, "segment", "inventory_value_segmented", "inventory_value_uniform")


def overall_comparison(comparison: pl.DataFrame | None) -> dict[str, Any] | None:
    """The '(all)' row of the comparison, else the segmented and uniform values summed over
    the segments where both are known (a segment counted on one side only would be compared
    with nothing), with ``unknown``: what that left out ("1 segment's value unknown, left
    out"), as a headline says it."""
    if comparison is None or not _compares(comparison):
        return None
    rows = comparison.filter(pl.col("segment") == "(all)")
    if rows.height:
        return rows.row(0, named=True)
    both = (
        num("inventory_value_segmented").is_not_null()
        & num("inventory_value_uniform").is_not_null()
    )
    paired = comparison.filter(both)
    return {
        "inventory_value_segmented": total(paired, "inventory_value_segmented"),
        "inventory_value_uniform": total(paired, "inventory_value_uniform"),
        "unknown": unknown_note(
            comparison.with_columns(pl.when(both).then(1.0).alias("_both")),
            "_both",
            "segment",
            "value",
        ),
    }


# A safety stock above this is zero as the page prints units (two decimals): the demo's
# reorder point 0 for a mean demand of 2e-8 a week is a safety stock of -1e-7, and the page said
# "below zero at 2 of 552 stocking points (0.00 units in all)".
BELOW_ZERO = -0.005


def _count_below_zero(policy: pl.DataFrame) -> int:
    """Stocking points whose safety stock (reorder point less the protection interval's mean
    demand) is negative, by more than rounding to the units printed."""
    if "safety_stock" not in policy.columns:
        return 0
    return count_points(policy.filter((num("safety_stock") < BELOW_ZERO).fill_null(False)))


def _below_zero(below: int, points: int) -> str:
    # The headline sums the stock held (``safety_stock_held``): a point below zero holds none.
    return (
        f"; below zero at {count(below)} of {plural(points, 'stocking point')}, counted as none"
        if below
        else ""
    )


# How a stocking point's value is reckoned, by stock's unit_cost_source.
_BASES = {"items": "unit cost", "price": "selling price", "default": "1 a unit (no cost)"}


def _basis(basis: dict[str, int]) -> str:
    """``at selling price``, or the mix of bases with their stocking points (Online Retail
    without --items: 3,659 points at selling price and 17 with no price, then called "at unit
    cost"): ``at selling price for 3,659 stocking points, 1 a unit (no cost) for 17``."""
    known = {k: n for k, n in basis.items() if k in _BASES}
    if len(known) <= 1:
        return f"at {_BASES.get(next(iter(known), 'items'))}"
    ranked = sorted(known.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{_BASES[k]} for {count(n)}" for k, n in ranked]
    parts[0] += f" stocking point{'s' * (ranked[0][1] != 1)}"
    return "at " + ", ".join(parts)


def _negative_safety_stock_note(
    policy: pl.DataFrame, below: int, points: int, *, value: str | None
) -> Note:
    """Why a safety stock can be negative, so a planner does not read it as an error: with a
    fill-rate target and an order quantity covering many periods, the stock each order brings
    serves most demand, and the level that meets the target sits below the mean lead-time
    demand (Silver, Pyke & Peterson's safety factor k < 0). The headline counts such a point
    as holding none; the note gives the points' safety stock with its sign, net. ``value``:
    the basis the section values stock at (``at unit cost``), None when it counts units."""
    col = "safety_stock" if value is None else "safety_stock_value"
    negative, net = policy.select(
        num(col).clip(upper_bound=0).sum().alias("negative"), num(col).sum().alias("net")
    ).row(0)
    if value is None:
        negative_text = f"{format_number(float(negative), UNITS)} units in all"
        net_text = f"{format_number(float(net), UNITS)} units"
        head, stock = "safety stock", "inventory"
    else:
        negative_text = f"{money(float(negative))} in all, {value}"
        net_text = money(float(net))
        head, stock = "safety stock value", "inventory value"
    return Note(
        f"{count(below)} of {plural(points, 'stocking point')} "
        f"{agree(below, 'has', 'have')} a reorder point below the demand expected over "
        f"{agree(below, 'its', 'their')} lead time and review (negative safety stock, "
        f"{negative_text}): each order covers many periods, so the stock it brings already "
        "serves most demand and the target is met ordering later (a fill-rate target's safety "
        "factor below zero). Raising the reorder point to that demand buys service above the "
        f"target. The {head} above counts {agree(below, 'such a point', 'such points')} as "
        f"holding none; with {agree(below, 'its', 'their')} negative safety stock, the stocking "
        f"points' safety stock nets to {net_text} (the stock they hold is in the {stock})."
    )


def _cost_note(basis: dict[str, int]) -> Note | None:
    """What the inventory values are worth when not all at the item master's cost."""
    if not basis or set(basis) == {"items"}:
        return None
    if set(basis) == {"default"}:
        return Note(
            "No unit costs were given (stock without --items, and no prices from --orders): "
            "each unit counts 1, so inventory 'values' in this section are units, not money."
        )
    if set(basis) == {"price"}:
        return Note(
            "Unit costs are each sku's mean selling price in the orders (stock --orders without "
            "--items): inventory values are at price, above what the stock cost."
        )
    parts = {
        "items": "at the item master's cost",
        "price": "at the mean selling price (above cost)",
        "default": "without a cost, counted in units",
    }
    said = [f"{count(basis[k])} {parts[k]}" for k in parts if basis.get(k)]
    return Note(
        "Inventory values mix cost bases: stocking points "
        + ", ".join(said)
        + " (the policy's unit_cost_source)."
    )


# ---- wording


def _comparison_headline(overall: dict[str, Any]) -> Headline:
    seg_v = finite(overall.get("inventory_value_segmented"))
    uni_v = finite(overall.get("inventory_value_uniform"))
    change = seg_v - uni_v if seg_v is not None and uni_v is not None else None
    rel = change / uni_v if change is not None and uni_v else None
    target = overall.get("uniform_target")
    plan = overall.get("uniform_plan")
    against = (
        # Segments on both measures, --compare-uniform keep: a CSL and a fill rate everywhere.
        plan
        if isinstance(plan, str) and plan.startswith("uniform:")
        else "one target"
        + (f" of {format_number(target, PCT)}" if finite(target) is not None else "")
    )
    # At rationed points the uniform plan compared is the rationing's simulation's; the plan
    # `stock` writes for that one target (the formulas) is said beside it when it differs.
    written = finite(overall.get("inventory_value_uniform_formulas"))
    beside = (
        f"; {signed_pct((seg_v - written) / written)} vs the plan `stock` writes for that "
        f"target ({money(written)}; at rationed points the comparison's is the rationing "
        "simulation's)"
        if written and seg_v is not None and uni_v is not None and abs(written - uni_v) > 0.005
        else ""
    )
    return Headline(
        COMPARISON_LABEL,
        ("+" if (change or 0) > 0 else "") + money(change),
        noted(
            f"{signed_pct(rel)} expected inventory value vs {against}{beside}",
            str(overall.get("unknown") or ""),
        ),
    )


def signed_pct(rel: float | None) -> str:
    """'+30.0%', '-2.1%', '0.0%', '–' (unknown)."""
    return f"{'+' if (rel or 0) > 0 else ''}{pct(rel)}"


def _relative(first: float, second: float) -> str:
    """', +30.0%': ``first`` over ``second`` less 1, or nothing when ``second`` is 0."""
    return f", {signed_pct(first / second - 1)}" if second else ""


def two_measures_note(
    check: PlanHeldOut,
    overall: dict[str, Any] | None,
    *,
    units: bool,
    policy: pl.DataFrame | None = None,
) -> Note | None:
    """Where the page gives both, what the plan's stock (the comparison: the mean on hand each
    plan expects in the long run on the demand it plans for) and the replay's (the mean on hand
    at the end of a day held out, on the demand that came) are, and why they differ: the same
    two plans, measured two ways. None unless both plans' figures are known on both measures.

    Superstore by sub-category, --policy RS --review-days 7 --compare-uniform equal: planned
    +30.0 % (61,127 against 47,035), held out +6.5 % (44,860 against 42,130): the page gave the
    two side by side without saying what either was, two contradicting 'extra stock' figures.

    ``policy``: the segmented plan's points; those held at their order history's largest demand
    (``demand_model`` bootstrap) expect their stock on the bootstrap of that history, raised to
    the forecast's level where it was lower (``bootstrap.level_to``), not on the forecast's, and
    are named with their planned value.
    Measured (docs/measurements.md, *Planned stock and replayed stock*, 2026-12-05): that is
    where the two figures part. On the run above at eed1b24 (planned +28.1 %, 60,181 / 46,974;
    replayed +4.6 %, 44,033 / 42,095), both plans simulated at length on the forecast's own
    mean and variance hold 44,331 / 42,503 (+4.3 %), as replayed; the 11 bootstrapped points'
    planned 38,288 is 22,459 there (their history's mean was 44-90 % of the forecast)."""
    if overall is None or not check.uniform or check.total is None:
        return None
    kind = "stock_units_" if units else "stock_"
    plan_seg = finite(overall.get("inventory_value_segmented"))
    plan_uni = finite(overall.get("inventory_value_uniform"))
    held_seg = finite(check.total.get(kind + "segmented"))
    held_uni = finite(check.total.get(kind + "uniform"))
    if plan_seg is None or plan_uni is None or held_seg is None or held_uni is None:
        return None
    shown = UNITS if units else MONEY
    words = stock_words(units)
    planned = (
        f"{format_number(plan_seg, shown)} segmented against {format_number(plan_uni, shown)} "
        f"{words} with one target{_relative(plan_seg, plan_uni)}"
    )
    replayed = (
        f"{format_number(held_seg, shown)} against {format_number(held_uni, shown)} "
        f"{words}{_relative(held_seg, held_uni)}"
    )
    total = check.total
    fill, expected = finite(total.get("fill_segmented")), finite(total.get("expected_fill"))
    served = (
        f" (all demand got {pct(fill)} from the segmented plan, which expected {pct(expected)})"
        if fill is not None and expected is not None and total.get("asked")
        else ""
    )
    one, many = check.period
    those = f"that {one}" if check.periods == 1 else f"those {many}"
    booted = _bootstrapped(policy)
    history = ""
    where = ""
    if booted is not None:
        n, points, value = booted
        held = (
            f", {format_number(value, shown)} of its {format_number(plan_seg, shown)} {words}"
            if value is not None
            else ""
        )
        history = (
            f"; at {count(n)} of the segmented plan's {plural(points, 'stocking point')}{held}, "
            f"{agree(n, 'one', 'those')} held at {agree(n, 'its', 'their')} order history's "
            "largest demand, on the bootstrap of that history instead (raised to the forecast's "
            "level where it was lower)"
        )
        where = (
            f" on the forecast's demand or, at {agree(n, 'that point', 'those points')}, on "
            f"{agree(n, 'its', 'their')} history's"
        )
    return Note(
        "The same two plans' stock, measured two ways. Planned: the mean stock on hand each "
        "plan expects in the long run on the forecast's demand, "
        f"{noted(planned, str(overall.get('unknown') or ''))} (the headline {COMPARISON_LABEL})"
        f"{history}. "
        "Held out: the mean stock on hand at the end of a day, each plan replayed on the demand "
        f"that came over {check.span()}, {replayed} (the table above). They differ in the "
        f"demand and the time: the replay meets the demand that came, not the forecast's{served}, "
        f"over {those} alone, where the plan's figure is its long-run mean{where}."
    )


def _bootstrapped(policy: pl.DataFrame | None) -> tuple[int, int, float | None] | None:
    """How many of the plan's stocking points take their level from the bootstrap of their
    order history, of how many, and their planned inventory value (None where one is unknown);
    None when none does (or the policy does not say)."""
    if policy is None or "demand_model" not in policy.columns:
        return None
    booted = policy.filter(pl.col("demand_model").cast(pl.String) == "bootstrap")
    n = count_points(booted)
    if not n:
        return None
    value = total(booted, "inventory_value") if not unknown(booted, "inventory_value") else None
    return n, count_points(policy), value


def _carrying_split(tables: Tables, meta: Meta) -> str:
    """Whether the cost section's inventory carrying is of this split: not when the costs were
    made from another policy (said at the top of the page), which this note called the same
    split (audit R2, session 65)."""
    from segchain.report.consistency import costs_of_other_tables

    if "inventory value" in costs_of_other_tables(tables, meta):
        return (
            "The chart above uses this split; the cost section's inventory carrying is of "
            "another policy's (see the warning at the top)."
        )
    return (
        "The chart above and the cost section's inventory carrying (when costs was given this "
        "table) use the same split."
    )


def _service_headline(p: pl.DataFrame, points: int) -> Headline:
    fill = wmean(p, "expected_fill_rate", "mean_demand")
    if fill is not None:
        return Headline(
            "Expected fill rate",
            pct(fill),
            wmean_note(p, "expected_fill_rate", "mean_demand", "stocking point", "fill rate"),
        )
    target = wmean(p, "service_target", "mean_demand")
    if target is not None:
        return Headline(
            "Service target",
            pct(target),
            wmean_note(p, "service_target", "mean_demand", "stocking point", "target"),
        )
    return Headline("Stocking points", count(points), "sku (x site)")


def _segment_chart(
    by_seg: pl.DataFrame,
    comparison: pl.DataFrame | None,
    tables: Tables,
    colours: Colours,
    title: str = "Inventory value by main segment",
    note: str = "",
) -> Chart | None:
    if comparison is not None and _compares(comparison):
        cmp = order_frame(
            comparison.filter(pl.col("segment") != "(all)").with_columns(
                pl.col("segment").cast(pl.String)
            ),
            segment_order(tables),
        )
        cnames = cmp["segment"].to_list()
        plot = partial(
            ch.paired_bars,
            names=cnames,
            first=[finite(v) for v in cmp["inventory_value_segmented"].to_list()],
            second=[finite(v) for v in cmp["inventory_value_uniform"].to_list()],
            labels=("segmented", "uniform"),
            title="Inventory value by segment: segmented vs uniform target",
        )
        undrawn = [
            ch.label(n)
            for n, a, b in cmp.select(
                "segment", num("inventory_value_segmented"), num("inventory_value_uniform")
            ).iter_rows()
            if a is None or b is None
        ]
        return Chart(
            "inventory",
            "Inventory value by segment",
            plot,
            size=(8.0, 1.0 + 0.45 * len(cnames)),
            caption=f"Not drawn, a value unknown: {', '.join(undrawn)}." if undrawn else "",
        )
    if "inventory_value" in by_seg.columns:
        names = by_seg["segment"].to_list()
        plot = partial(
            ch.bars,
            names=names,
            values=by_seg["inventory_value"].to_list(),
            colours=colour_list(names, colours),
            title=title,
        )
        return Chart(
            "inventory",
            "Inventory value by segment",
            plot,
            size=(8.0, 0.9 + 0.32 * len(names)),
            caption=with_unknowns("", note),
        )
    return None


def inventory_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    policy = tables.get("policy")
    if policy is None:
        return "Inventory: no policy table (segchain stock) in the inputs."
    missing = lacks(policy, ["sku"])
    if missing or not any(c in policy.columns for c in ("safety_stock", "inventory_value")):
        return "Inventory: the policy table lacks sku and safety_stock / inventory_value."
    p = with_safety_stock_value(policy)
    value = total(p, "inventory_value")
    # What the points hold as safety stock, a point below zero counted as none: a negative
    # total (Online Retail with an item master's order costs at fill-rate targets) read as
    # if the plan owed stock (the note below gives the net, with its sign).
    ss_value = total(p, "safety_stock_held_value")
    ss_units = total(p, "safety_stock_held")
    # Stocking points, not rows: a sku (x site) given in two rows is one point, whose rows'
    # figures are all summed (said beside the inventory value).
    points = count_points(p)
    repeated = repeated_note(p, point_keys(p), "stocking point", ": every row summed")
    comparison = stock_comparison(tables, meta)
    basis = cost_basis(p)
    below = _count_below_zero(p)
    units_only = set(basis) == {"default"}
    at_price = set(basis) == {"price"}
    heads = [
        Headline(
            "Inventory (units)",
            format_number(value, UNITS),
            noted(
                f"average stock of {plural(points, 'stocking point')}; no unit costs given",
                repeated,
                unknown_note(p, "inventory_value", "stocking point", "stock"),
            ),
        )
        if units_only
        else Headline(
            "Inventory value",
            money(value),
            noted(
                f"average stock of {plural(points, 'stocking point')}"
                + (f", {_basis(basis)}" if at_price or len(basis) > 1 else ""),
                repeated,
                unknown_note(p, "inventory_value", "stocking point", "value"),
            ),
        ),
        Headline(
            "Safety stock value",
            money(ss_value),
            noted(
                _basis(basis) + _below_zero(below, points),
                unknown_note(p, "safety_stock_value", "stocking point", "value"),
            ),
        )
        if ss_value is not None and not units_only
        else Headline(
            "Safety stock",
            format_number(ss_units, UNITS),
            noted(
                "units" + _below_zero(below, points),
                unknown_note(p, "safety_stock", "stocking point", "safety stock"),
            ),
        ),
    ]
    overall = overall_comparison(comparison)
    heads.append(
        _comparison_headline(overall) if overall is not None else _service_headline(p, points)
    )
    blocks: list[Block] = []
    held = plan_held_out(meta)
    if held is not None:
        # What the plan served on the demand that came after it leads: the figures below are
        # what it expects.
        heads.insert(0, held_out_headline(held))
        blocks.extend(held_out_blocks(held, units=units_only))
        measures = two_measures_note(held, overall, units=units_only, policy=p)
        if measures is not None:
            blocks.append(measures)
    note = _cost_note(basis)
    if note is not None:
        blocks.append(note)
    if below:
        valued = ss_value is not None and not units_only
        blocks.append(
            _negative_safety_stock_note(p, below, points, value=_basis(basis) if valued else None)
        )
    if "order_now" in p.columns:
        due = p.filter(num("order_now") > 0)
        # No point due orders 0 units: total() of no row is unknown, and the page said "order –
        # units now" of a plan whose every point is above its reorder point.
        units = format_number(total(due, "order_now") if due.height else 0.0, UNITS)
        n_due = count_points(due)
        blocks.append(
            Note(
                f"{count(n_due)} of {plural(points, 'stocking point')} "
                f"{agree(n_due, 'is', 'are')} at or below "
                f"{agree(n_due, 'its', 'their')} reorder point: "
                + noted(
                    f"order {units} {'unit' if units == '1' else 'units'} now",
                    unknown_note(p, "order_now", "stocking point", "order"),
                )
                + "."
            )
        )
    shared = inventory_by_segment(tables, meta)
    if shared is not None:
        # Each SKU's stock shared among the segments that buy it (stock's per-segment table),
        # the same allocation as the comparison's, so the report has one inventory by segment.
        by_seg = order_frame(shared, segment_order(tables))
        segs = tables.get("stock_segments")
        unknowns = (
            sum_note(segs, "inventory_value", "stocking point", "value")
            if segs is not None and has(segs, "segment", "inventory_value")
            else ""
        )
        chart = _segment_chart(
            by_seg, comparison, tables, colours, title="Inventory value by segment", note=unknowns
        )
        if chart is not None:
            blocks.append(chart)
        blocks.append(
            TableBlock(
                "Inventory value by segment",
                by_seg,
                formats={"stocking_points": INT, "inventory_value": MONEY},
                heat=("inventory_value",),
                note=with_unknowns(
                    "Each stocking point's stock is shared among the segments that buy it, by "
                    "demand share (stock's per-segment table); stocking_points counts the points "
                    "each segment buys from. " + _carrying_split(tables, meta),
                    unknowns,
                ),
            )
        )
    elif "segment" in p.columns:
        blocks.append(
            Note(
                "Inventory by segment: not shown. The policy's segment column names only each "
                "SKU's largest segment, so grouping by it would put a SKU's whole stock on one "
                "segment; give stock's per-segment table (segchain stock --segments-out FILE) to "
                "share each SKU's stock among the segments that buy it."
            )
        )
    if comparison is not None:
        shown, no_demand = without_service_for_no_demand(comparison)
        blocks.append(
            TableBlock(
                "Segmented targets vs one uniform target",
                shown.select([c for c in COMPARISON_COLUMNS if c in shown.columns]),
                formats={
                    "target": PCT,
                    "skus": INT,
                    "inventory_value_segmented": MONEY,
                    "inventory_value_uniform": MONEY,
                    "value_change": MONEY,
                    "fill_rate_segmented": PCT,
                    "fill_rate_uniform": PCT,
                },
                note=COMPARISON_NOTE + (" " + NO_DEMAND_NOTE if no_demand else ""),
            )
        )
    else:
        blocks.append(
            Note(
                "Uniform-policy comparison: not in the inputs "
                "(segchain stock --compare-uniform prints it)."
            )
        )
    if "inventory_value" in p.columns:
        top = p.sort(["inventory_value", "sku"], descending=[True, False], nulls_last=True).head(10)
        blocks.append(
            TableBlock(
                "The 10 stocking points holding the most value",
                top.rename({"segment": "largest_segment"}, strict=False).select(
                    [c for c in TOP_POINT_COLUMNS if c in p.columns or c == "largest_segment"]
                    if "segment" in p.columns
                    else [c for c in TOP_POINT_COLUMNS if c in p.columns]
                ),
                formats={
                    "service_target": PCT,
                    "safety_stock": UNITS,
                    "reorder_point": UNITS,
                    "order_qty": UNITS,
                    "inventory_value": MONEY,
                    "on_hand": UNITS,
                    "order_now": UNITS,
                },
            )
        )
    return Section(
        "inventory",
        "Inventory",
        "Safety stock, reorder point and order quantity per stocking point; each SKU's service "
        "target comes from the segments that buy it.",
        heads,
        blocks,
    )
