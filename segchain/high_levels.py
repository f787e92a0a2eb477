"""Stocking points whose level their forecast does not explain: the rule stock warns by and the
report's reorder list marks its lines by, written once so that both name the same points."""

from __future__ import annotations

import polars as pl

from segchain.schema import DAYS_PER_YEAR

# How far past its forecast demand over the protection interval plus one order a point's level
# (reorder point, or order-up-to) may go before it is named: the reasoning of stock's
# COVER_WARN_FACTOR, point by point. A level is that demand plus z sd of it: at a 0.99 target
# (z 2.33) with a coefficient of variation of 1 over the interval, 3.3 times its mean, under 4
# with an order on top. Past that, something other than the forecast sets it: a spike in the
# order history (The Complete Journey: a 153-unit promotion week held sku 930118, forecast
# 4.5 a week, at an order-up-to of 349, 78 weeks; 8 of 300 points, 8.4 % of the value). On the
# demo's intermittent per-site points it names 130 of 552 (47.7 % of the value), each set by a
# rare bulk line (00057 at DC-DUS: 533 for 4 a week, one line of 492 where the median is 25).
LEVEL_WARN_FACTOR = 4.0

# The policy columns the rule reads (stock's policy contract).
LEVEL_COLUMNS = (
    "policy_type",
    "reorder_point",
    "order_up_to",
    "order_qty",
    "mean_demand",
    "period_days",
    "lead_time_days",
    "review_days",
)


def _num(col: str) -> pl.Expr:
    # A policy edited by hand may hold text or NaN: such a cell is unknown, never a level.
    x = pl.col(col).cast(pl.Float64, strict=False)
    return pl.when(x.is_finite()).then(x).otherwise(None)


def under_one_a_year() -> pl.Expr:
    """Whether a stocking point is forecast under 1 unit a year: any level is years of its
    demand, so the level rule counts it apart (stock's cover warning names such points)."""
    return _num("mean_demand").fill_null(0.0) * DAYS_PER_YEAR / _num("period_days") < 1.0


def level_checks(policy: pl.DataFrame) -> pl.DataFrame | None:
    """Per row of ``policy``, in its order: ``level`` (order-up-to S for (R, S), reorder point s
    for (s, Q)), ``weeks`` (the level in weeks of forecast demand), ``high`` (the level is over
    LEVEL_WARN_FACTOR x the forecast demand over lead time plus review plus one order) and
    ``tiny`` (``under_one_a_year``). None when the policy lacks a column the rule reads."""
    if any(c not in policy.columns for c in LEVEL_COLUMNS):
        return None
    per_day = _num("mean_demand").fill_null(0.0) / _num("period_days")
    rs = pl.col("policy_type").cast(pl.String).str.strip_chars() == "RS"
    level = pl.when(rs).then(_num("order_up_to")).otherwise(_num("reorder_point")).fill_null(0.0)
    interval = per_day * (_num("lead_time_days") + _num("review_days"))
    return policy.select(
        level.alias("level"),
        (level / (per_day * 7.0)).alias("weeks"),
        (level > LEVEL_WARN_FACTOR * (interval + _num("order_qty").fill_null(0.0)))
        .fill_null(False)
        .alias("high"),
        under_one_a_year().alias("tiny"),
    )


def named() -> pl.Expr:
    """Over ``level_checks``' columns: the rows the rule names, a high level at a point forecast
    at 1 unit a year or more."""
    return (pl.col("high") & ~pl.col("tiny")).fill_null(False)
