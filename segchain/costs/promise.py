"""What each segment's promises cost: its delivery promise (network against the plan without
promises) and its service target (stock against the uniform plan)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from segchain.schema import (
    BASELINE_UNFINISHED,
    BASELINE_UNFINISHED_SOURCE,
    DAYS_PER_YEAR,
    NO_DELIVERY_PROMISE_SOURCE,
    PROMISE_COST_CUT_SHORT,
    PROMISE_COST_UNKNOWN,
    PROMISE_COST_UNKNOWN_SOURCE,
    promise_cost_status,
)

# Appended to the source of delivery_promise_* when network's comparison was cut short.
CUT_SHORT_SOURCE = (
    "; an estimate, not proven: network's plan with or without promises stopped at its "
    "--node-limit or --time-limit (totals promise_cost_status 'cut_short')"
)

# Relative size of a sum's rounding: far above float64's 2.2e-16 per addition over a network's
# lanes, far below any fixed cost that a plan's choice of sites could differ by.
ROUNDING = 1e-9


def delivery_promise(
    promise: Sequence[Mapping[str, Any]] | None, totals: Mapping[str, Any] | None
) -> tuple[pl.DataFrame | None, str]:
    """Per segment, the extra transport and fixed cost of the network's delivery promises.

    ``promise`` is network's per-segment comparison (``transport_cost`` and, when the promises
    changed the plan, ``baseline_transport_cost``, ``baseline_within_promise``); ``totals`` its
    totals (``fixed_cost``, ``baseline_total_cost``). Extra transport is the segment's own
    difference. The extra fixed cost (sites the promises keep open) is shared by the demand the
    plan without promises would have delivered late: demand x (1 - baseline_within_promise).

    With no promise at all (every segment's ``sla_days`` empty: no ``max_delivery_days``),
    there is nothing to cost: None, not 0, which read as a promise kept at no cost. So too when
    network's comparison is unfinished or unknown (``schema.promise_cost_status``); when it was
    cut short by a solver limit, the figures are given and the source says they are estimates.

    Returns:
        (segment, delivery_promise_transport, delivery_promise_fixed, delivery_promise_cost)
        or None when network's comparison is not available or no promise was set; and the
        source.
    """
    if not promise:
        return None, "missing: the assignments carry no promise comparison (rerun network)"
    if no_delivery_promise(promise):
        return None, NO_DELIVERY_PROMISE_SOURCE
    if totals is not None and totals.get("baseline_status") == BASELINE_UNFINISHED:
        # Unknown, not zero: without baseline_* figures the promises would read as free.
        return None, BASELINE_UNFINISHED_SOURCE
    status = promise_cost_status(totals)
    if status == PROMISE_COST_UNKNOWN:
        # The plan without promises, cut short, costs more than the plan with them: a negative
        # cost of the promises, which only the unfinished search gave.
        return None, PROMISE_COST_UNKNOWN_SOURCE
    df = pl.DataFrame(list(promise), infer_schema_length=None)
    if "segment" not in df.columns or "transport_cost" not in df.columns:
        return None, "missing: the assignments' promise comparison lacks transport_cost"
    if "baseline_transport_cost" not in df.columns or totals is None:
        # network solves the plan without promises only when a promise restricts a site choice:
        # otherwise both plans are the same one and the promises cost nothing.
        out = df.select(
            pl.col("segment").cast(pl.String),
            pl.lit(0.0).alias("delivery_promise_transport"),
            pl.lit(0.0).alias("delivery_promise_fixed"),
        )
        how = "network: no promise changed the plan, so they cost nothing"
    else:
        base_transport = float(df["baseline_transport_cost"].sum())
        base_total = float(totals["baseline_total_cost"])
        base_fixed = base_total - base_transport
        extra_fixed = float(totals["fixed_cost"]) - base_fixed
        if abs(extra_fixed) <= ROUNDING * max(abs(base_total), 1.0):
            # network summed the lanes' transport in another order than the segments' sums
            # here: a difference in the last bits is no fixed cost (Superstore's candidates,
            # without one in either plan, gave -1.2e-09 to a segment, -0.0 to the others).
            extra_fixed = 0.0
        late = (pl.col("demand") * (1 - pl.col("baseline_within_promise").fill_null(1.0))).clip(
            lower_bound=0.0
        )
        df = df.with_columns(late=late)
        total_late = float(df["late"].sum())
        out = df.select(
            pl.col("segment").cast(pl.String),
            (pl.col("transport_cost") - pl.col("baseline_transport_cost")).alias(
                "delivery_promise_transport"
            ),
            (
                pl.col("late") / total_late * extra_fixed
                if total_late > 0
                else pl.lit(0.0 if extra_fixed == 0 else None, pl.Float64)
            ).alias("delivery_promise_fixed"),
        )
        how = (
            "network: transport minus the plan without promises; the extra fixed cost "
            f"({extra_fixed:,.2f}) shared by the demand that plan would deliver late"
        )
    if status == PROMISE_COST_CUT_SHORT:
        how += CUT_SHORT_SOURCE
    out = out.with_columns(
        delivery_promise_cost=pl.col("delivery_promise_transport")
        + pl.col("delivery_promise_fixed")
    )
    return out, how


def no_delivery_promise(promise: Sequence[Mapping[str, Any]] | None) -> bool:
    """Whether network's per-segment promise table says no segment has a delivery promise
    (``sla_days`` empty in every row); False when the table is absent or predates sla_days."""
    if not promise or any("sla_days" not in row for row in promise):
        return False
    return all(row["sla_days"] is None for row in promise)


def service_promise(
    comparison: Sequence[Mapping[str, Any]] | None,
    rates: pl.DataFrame,
    *,
    default_rate: float,
    period_days: int,
) -> tuple[pl.DataFrame | None, str]:
    """Per segment, the extra inventory value of its service target against stock's uniform plan
    (``--compare-uniform``), and its carrying over the period at the segment's mean holding rate.

    ``rates`` holds segment, holding_rate (value-weighted mean of the segment's stocking points).
    A segment without one (its points hold no value) takes the mean of the others, and where no
    segment has one (every point valued 0: zero prices, no unit cost) ``default_rate``, the
    rate a point without its own takes.
    """
    if not comparison:
        return None, "missing: the policy carries no uniform comparison (stock --compare-uniform)"
    df = pl.DataFrame(list(comparison), infer_schema_length=None)
    need = {"segment", "inventory_value_segmented", "inventory_value_uniform"}
    if not need <= set(df.columns):
        return None, "missing: the policy's comparison lacks inventory values"
    df = df.filter(pl.col("segment") != "(all)")
    overall = rates["holding_rate"].mean() if rates.height else None
    if overall is None:
        overall = default_rate
    out = (
        df.select(
            pl.col("segment").cast(pl.String),
            (pl.col("inventory_value_segmented") - pl.col("inventory_value_uniform")).alias(
                "service_promise_inventory"
            ),
        )
        .join(rates, on="segment", how="left", maintain_order="left")
        .with_columns(pl.col("holding_rate").fill_null(overall))
        .select(
            "segment",
            "service_promise_inventory",
            (
                pl.col("service_promise_inventory")
                * pl.col("holding_rate")
                * (period_days / DAYS_PER_YEAR)
            ).alias("service_promise_cost"),
        )
    )
    how = (
        "stock --compare-uniform: segmented minus uniform inventory value (same mean service), "
        "carried at the segment's holding rate over period_days"
    )
    return out, how
