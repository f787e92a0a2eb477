"""The stage tables a report reads, refused where the stage that reads them next refuses them.

A report shows the figures of the tables it is given. A table that stock or costs refuses (a
forecast below zero or NaN, a policy valued at -100, a customer on two rows of the segments, an
assignment's share of 2) made a page of wrong figures with exit 0, where the next stage stopped
with one message (session 70's survey). Each kind is checked here by the rule of the stage that
reads it next (costs', ``schema.STAGE_TABLE_RULES`` and ``schema.check_assignments``; stock's
forecast rules, ``stock.inputs``), and its figures that no stage reads by their
bounds (a fill rate within [0, 1], a count >= 0); every problem of every table is said at once.

What the report reads as unknown and says it left out stays so, as the README promises of a
table edited by hand: an empty cell, and in a column no stage reads, text, NaN or infinity (the
figure shown is the known cells', and says so). A column the report does not read is not
checked, nor is one it lacks (its section, or the figure, is left out with a note). Tables of
two runs are warned of (``consistency``), not refused: each figure is its own table's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

from segchain.errors import DataError
from segchain.schema import (
    ANNUAL_FIXED_COST,
    LANE_KEYS,
    LOAD,
    MAX_VALUE,
    ONE_ROW_PER_CUSTOMER_HINT,
    ROW_NUMBER,
    SEGMENT_ROWS_HINT,
    STAGE_TABLE_RULES,
    blank_ids,
    duplicate_keys,
    number_problems,
    numeric_columns,
    one_row_hint,
    yearly_fixed_cost,
)


@dataclass(frozen=True)
class Rule:
    """What the report requires of one kind of table: ``keys`` on one row each (a row with a
    blank id of ``ids`` is no key: left out), the numbers a later stage reads (``read``: as it
    reads them, text, NaN and infinity refused, within ``limits``), and the figures only the
    report shows (``shown``: their finite values within the rule)."""

    keys: tuple[str, ...]
    hint: str
    read: dict[str, str] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=dict)
    ids: tuple[str, ...] = ()
    # How a message names a row where ``keys`` are none (a table with no one-row key).
    named: tuple[str, ...] = ()
    # Where ``keys`` are none: the columns that together are on one row each, though a row is
    # named by ``named`` (the backtest: a series once per scope, named by its unique_id).
    once: tuple[str, ...] = ()


# costs' tables: money may be below zero (a segment's returns, a loss), counts and costs not.
_COSTS_SHOWN = {
    **dict.fromkeys(("customers", "orders", "lines", "return_lines"), ">= 0"),
    **dict.fromkeys(
        (
            "order_handling",
            "returns_handling",
            "transport",
            "warehouse_fixed",
            "inventory_carrying",
            "cost_to_serve",
            "inventory_value",
        ),
        ">= 0",
    ),
}
_STOCK_SHARES = {
    "demand_share": "in [0, 1]",
    "inventory_share": "in [0, 1]",
    "expected_fill_rate": "in [0, 1]",
    "expected_csl": "in [0, 1]",
    "avg_inventory": ">= 0",
}
# The kinds no later stage reads, and the figures of those it reads that it does not.
OWN_RULES: dict[str, Rule] = {
    "segment_profile": Rule(
        ("segment",),
        "give segment's --profile table as written: one row per segment",
        shown={"customers": ">= 0", "share_customers": "in [0, 1]"},
        ids=("segment",),
    ),
    "forecast": Rule(
        ("unique_id", "ds"),
        "a forecast has one row per series and period (ds), forecasts and error sds numbers "
        ">= 0; rerun `segchain forecast` or fix those rows",
        # As stock reads a forecast (``stock.inputs.read_series``), bounds too.
        read={"forecast": ">= 0", "error_sd": ">= 0", "mean_demand": ">= 0"},
        limits=dict.fromkeys(("forecast", "error_sd", "mean_demand"), MAX_VALUE),
        # A row without a series id or a date is no series' period: the report leaves it out
        # and counts it (README: a forecast's Series and Horizon headlines).
        ids=("unique_id", "ds"),
    ),
    # Errors over actuals: never below zero (a bias may be).
    "backtest": Rule(
        (),
        "give forecast's --backtest table as written",
        named=("unique_id",),
        # A row twice was counted twice in every mean and count of the section (its MASE, the
        # series beating the baseline); forecast writes a unique_id once per scope ('overall'
        # and 'total' are two), and a table without scope is read as series rows alone.
        once=("scope", "unique_id"),
        # A row without a series id is unknown, left out and said so by the section.
        ids=("unique_id",),
        shown=dict.fromkeys(
            ("mase", "rmsse", "wape", "baseline_mase", "baseline_rmsse", "baseline_wape"), ">= 0"
        ),
    ),
    "policy": Rule(
        (),
        "",
        shown={
            "mean_demand": ">= 0",
            "order_qty": ">= 0",
            "avg_inventory": ">= 0",
            "order_now": ">= 0",
            "service_target": "in [0, 1]",
            "expected_fill_rate": "in [0, 1]",
            "expected_csl": "in [0, 1]",
        },
    ),
    "stock_segments": Rule((), "", shown=_STOCK_SHARES),
    "assignments": Rule(
        (), "", shown={"distance_km": ">= 0", "transit_days": ">= 0", "sla_days": ">= 0"}
    ),
    # network loads no site past its capacity: a utilization above 1 (beyond rounding) is a
    # site the plan cannot have, drawn on the page as over full.
    "sites": Rule((), "", shown={"demand_served": ">= 0", "utilization": LOAD}),
    "costs": Rule(
        ("segment",),
        "give costs' table as written: one row per segment",
        shown=_COSTS_SHOWN,
        ids=("segment",),
    ),
    "customer_costs": Rule(
        ("customer_id",),
        "give costs --by customer's table as written: one row per customer",
        shown=_COSTS_SHOWN,
        ids=("customer_id",),
    ),
}
# The kinds costs reads, by costs' own name of them (``schema.STAGE_TABLE_RULES``).
COSTS_READS = {"policy": "policy", "stock_segments": "per-segment stock", "sites": "sites"}


def rule_of(kind: str) -> Rule | None:
    """The report's rule for ``kind``: costs' for the tables costs reads, with the figures only
    the report shows; the report's own for the others; None for a kind it leaves as it is."""
    own = OWN_RULES.get(kind)
    if kind not in COSTS_READS:
        return own
    costs = STAGE_TABLE_RULES[COSTS_READS[kind]]
    return Rule(
        costs.keys,
        costs.hint,
        read=dict(costs.numbers),
        shown=own.shown if own else {},
        limits={c: costs.limits.get(c, MAX_VALUE) for c in costs.numbers},
        ids=costs.ids,
    )


def refuse_damaged(tables: Mapping[str, pl.DataFrame], sources: Mapping[str, str]) -> None:
    """Refuse the tables a later stage would refuse, or whose figures shown would be wrong.

    Args:
        tables: the recognised tables, by kind.
        sources: the file each kind was read from, which the message names.

    Raises:
        DataError: every problem of every table at once, each under its file.
    """
    problems = []
    for kind, frame in tables.items():
        source = sources.get(kind, kind)
        try:
            CHECKS.get(kind, _by_rule)(frame, kind, source)
        except DataError as exc:
            problems.append(str(exc))
    if problems:
        raise DataError("\n".join(problems))


def _by_rule(frame: pl.DataFrame, kind: str, source: str) -> None:
    """Refuse ``frame`` by ``rule_of(kind)``, listing every problem at once."""
    rule = rule_of(kind)
    if rule is None:
        return
    problems: list[str] = []
    read = dict(rule.read)
    if kind == "sites":
        # A year's fixed cost is checked under its header, as costs reads it.
        yearly = yearly_fixed_cost(frame.columns, source=source)
        if yearly and ANNUAL_FIXED_COST in read:
            read[yearly] = read.pop(ANNUAL_FIXED_COST)
    if kind == "forecast":
        # The fan chart's bounds: stock reads the widest as it reads the forecast.
        read |= {c: "" for c in frame.columns if c.startswith(("forecast-lo-", "forecast-hi-"))}
    frame = numeric_columns(frame, read, source=source, keys=rule.keys)
    unique = rule.keys or rule.once
    dup = duplicate_keys(frame, unique, blank_apart=rule.ids)
    problems += dup
    for column, how in read.items():
        limit = rule.limits.get(column, MAX_VALUE)
        problems += number_problems(frame, {column: how}, keys=rule.keys, limit=limit)
    # Text, NaN and infinity in a column only the report reads are unknown, and said so.
    shown = [c for c in rule.shown if c in frame.columns and frame.schema[c].is_numeric()]
    finite = frame.with_columns(
        pl.when(pl.col(c).cast(pl.Float64).is_finite()).then(pl.col(c).cast(pl.Float64)).alias(c)
        for c in shown
    )
    for column in shown:
        named = rule.keys or rule.named
        problems += number_problems(finite, {column: rule.shown[column]}, keys=named)
    if problems:
        keys = [k for k in unique if k in frame.columns]
        hint = rule.hint or "give the table as segchain wrote it"
        raise DataError(
            f"{source}: " + "; ".join(problems),
            hint=one_row_hint(keys, hint) if dup else hint,
        )


def _segments(frame: pl.DataFrame, kind: str, source: str) -> None:
    """As costs, forecast and network read segments: each row a segment, one row per
    customer."""
    problems = blank_ids(frame, "segment") if "segment" in frame.columns else []
    dup = duplicate_keys(frame, ["customer_id"], blank_apart=["customer_id"])
    if problems or dup:
        raise DataError(
            f"{source}: " + "; ".join(problems + dup),
            hint=ONE_ROW_PER_CUSTOMER_HINT if dup else SEGMENT_ROWS_HINT,
        )


def _assignments(frame: pl.DataFrame, kind: str, source: str) -> None:
    """As costs reads network's lanes (``schema.check_assignments``): one row per customer and
    site, shares within [0, 1] adding up to 1 per customer, demand and transport cost >= 0; a
    row without a customer or site is left out, as the report leaves it."""
    from segchain.schema import ASSIGNMENT_HINT

    frame = numeric_columns(frame, ("share", "demand", "transport_cost"), source=source)
    rows = frame.with_row_index(ROW_NUMBER, offset=1)
    named = [pl.col(k).cast(pl.String).str.strip_chars().replace("", None) for k in LANE_KEYS]
    lanes = rows.filter(pl.all_horizontal(k.is_not_null() for k in named))
    keys = list(LANE_KEYS)
    problems = duplicate_keys(lanes, keys) if set(keys) <= set(frame.columns) else []
    dup = bool(problems)
    for column in ("demand", "transport_cost"):
        problems += number_problems(lanes, {column: ">= 0"}, keys=keys, limit=MAX_VALUE)
    if "share" in lanes.columns:
        share = number_problems(lanes, {"share": "in [0, 1]"}, keys=keys)
        problems += share
        if not share and not dup:
            sums = lanes.group_by("customer_id", maintain_order=True).agg(pl.col("share").sum())
            off = sums.filter((pl.col("share") - 1.0).abs() > 1e-6)["customer_id"]
            if off.len():
                from segchain.errors import examples

                problems.append(
                    f"the shares of {off.len():,} customer{'s' * (off.len() > 1)} "
                    f"{examples(off.to_list())} do not add up to 1"
                )
    if problems:
        hint = one_row_hint(keys, ASSIGNMENT_HINT) if dup else ASSIGNMENT_HINT
        raise DataError(f"{source}: " + "; ".join(problems), hint=hint)
    _by_rule(frame, kind, source)


CHECKS: dict[str, Callable[[pl.DataFrame, str, str], None]] = {
    "segments": _segments,
    "assignments": _assignments,
}
