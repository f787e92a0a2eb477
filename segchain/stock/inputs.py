"""Inputs of the stock stage: forecast series, segment targets, stocking points, item master and
on-hand stock, checked and joined."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple, cast

import numpy as np
import polars as pl

from segchain.config import SETTINGS, PolicyTable, SegmentPolicy
from segchain.errors import DataError, TableMessage, examples
from segchain.formatting import agree, count, plural, short_of_one
from segchain.policy import unnamed_segments_note
from segchain.schema import (
    DAYS_PER_MONTH,
    DAYS_PER_QUARTER,
    DAYS_PER_YEAR,
    FORECAST_ARGUMENT,
    FREQ_COLUMN,
    ITEM_RULES,
    ITEMS_OPTION,
    MAX_VALUE,
    NUMBER_HINT,
    ON_HAND_OPTION,
    ORDERS_OPTION,
    PERIOD_DAYS,
    ROW_NUMBER,
    blank_ids,
    demand_line,
    duplicate_keys,
    freq_values,
    key_text,
    number_problems,
    numeric_columns,
    one_row_hint,
    require_columns,
    unread_lookalikes,
    written_otherwise,
)
from segchain.tableio import collect

# Item master defaults, used column by column for items missing from the master or with an empty
# value (documented in the README; the count of items that used any default is reported).
ITEM_DEFAULTS: dict[str, float] = {
    "unit_cost": 1.0,  # inventory value is then in units
    "order_cost": 50.0,
    "holding_rate": 0.25,  # per year
    "lead_time_days": 14.0,
    "lead_time_sd_days": 0.0,
    "moq": 0.0,
    "pack_size": 1.0,
}
ITEM_COLUMNS = tuple(ITEM_DEFAULTS)
# The largest each item value may be (the others: MAX_VALUE): lead times as --lead-time-days
# (ten years; 1e200 days hung the level search, 1e20 gave a negative safety stock), the holding
# rate as costs' --holding-rate.
ITEM_LIMITS: dict[str, float] = {
    "lead_time_days": float(SETTINGS["stock"]["lead_time_days"].high or MAX_VALUE),
    "lead_time_sd_days": float(SETTINGS["stock"]["lead_time_days"].high or MAX_VALUE),
    "holding_rate": float(SETTINGS["costs"]["holding_rate"].high or MAX_VALUE),
}
DEFAULT_SERVICE_LEVEL = 0.95
DEFAULT_SERVICE_MEASURE = "fill-rate"
BLENDS = ("weighted", "max")
# Below this mean over the protection interval a normal approximation under-protects.
LOW_MEAN_UNITS = 20.0
# Intermittent or lumpy items above this mean use a gamma (integer steps no longer matter).
GAMMA_ABOVE_UNITS = 1000.0
# Below this expected demand over the protection interval a level is capped (credible plans).
TINY_UNITS = 1.0
# The longest backtest a forecast's error_sd is taken to come from, in years: without an upper
# forecast bound, one period's is read from the error_sd over that many periods (error_bound).
BACKTEST_YEARS = 10.0
# Periods named by their length in days (from the forecast's `ds` spacing).
KNOWN_PERIODS = (
    (1.0, 1.0, 1.0),
    (6.0, 8.0, 7.0),
    (27.0, 32.0, DAYS_PER_MONTH),
    (88.0, 93.0, DAYS_PER_QUARTER),
)
DEFAULT_PERIOD_DAYS = 7.0
# The days between two reviews without --review-days (a nightly MRP run); the policy types
# (POLICY_TYPES) are declared with the settings.
DEFAULT_REVIEW_DAYS = 1.0

# A stocking point the forecast gives no demand: the stage plans it no stock and orders only
# what it owes (``join_on_hand``), and the held-out replay replays it so (``heldout.replay_plan``).
FORECAST_NOTHING = pl.col("mean_demand").fill_null(0.0) <= 0


def on_hand_only(policy: pl.DataFrame) -> pl.Expr:
    """True for the policy rows of on-hand points the forecast has not (``_no_demand_rows``),
    where no segment buys (``segments`` 0: a point of the forecast has a series at least).
    ``no_demand`` alone also marks the on-hand points the forecast has, forecast nothing."""
    flagged = pl.col("no_demand").fill_null(False)
    if "segments" not in policy.columns:
        return flagged
    return flagged & (pl.col("segments").fill_null(0) == 0)


def buying(keys: list[str]) -> pl.Expr:
    """True for the segment series that buy at their stocking point (``keys``): those forecast
    demand there, or all of a point's series when none is (as the weighted blend's equal
    weights take them). Every segment that ever bought a sku has a series, most forecast 0: a
    target taken over all of them protected segments the forecast says will not buy there."""
    return (pl.col("mu") > 0) | (pl.col("mu").max().over(keys) <= 0)


# The columns a forecast's rows are put in order by, those it has: segchain's own forecast is
# written in this order (unique_id, then ds), so its plan is unchanged.
ROW_ORDER = ("unique_id", "site", "segment", "sku", "ds")


def in_row_order(fc: pl.DataFrame) -> pl.DataFrame:
    """The forecast's rows in one order whatever order they came in.

    Each point's demand is the sum of its segments' series and each series' mean a sum over
    its periods, both added in the rows' order: the demo's forecast shuffled moved 23 of 80
    mean demands and 11 safety stocks in their last bits, and the policy's rows followed the
    forecast's. Ids are ordered as text (their bytes, not the locale's collation), dates as
    dates."""
    by = [
        pl.col(c) if c == "ds" else pl.col(c).cast(pl.String) for c in ROW_ORDER if c in fc.columns
    ]
    return fc.sort(by, nulls_last=True, maintain_order=True) if by else fc


def read_series(
    fc: pl.DataFrame, *, freq: str | None = None
) -> tuple[pl.DataFrame, list[str], float, list[str]]:
    """One row per forecast series: mean demand per period, error sd, class, segment.

    ``freq``: the period the forecast's metadata records (its ``--freq``, D/W/M), for a
    forecast of a single period, whose dates cannot tell; its ``freq`` column, where it has
    one, is read first (``_freq_column``)."""
    require_columns(
        fc.columns,
        ["sku", "ds", "forecast", "error_sd"],
        source="forecast",
        hint="pass the output of `segchain forecast` (or any table with these columns)",
    )
    if fc.height == 0:
        raise DataError("forecast: the table has no rows", hint="check the forecast stage's output")
    keys = ["site", "sku"] if "site" in fc.columns else ["sku"]
    cols: list[pl.Expr] = [pl.col(k).cast(pl.String) for k in keys]
    cols.append(
        pl.col("segment").cast(pl.String).fill_null("*")
        if "segment" in fc.columns
        else pl.lit("*").alias("segment")
    )
    cols.append(
        pl.col("demand_class").cast(pl.String)
        if "demand_class" in fc.columns
        else pl.lit(None, pl.String).alias("demand_class")
    )
    parts = [*keys, "segment"] if "segment" in fc.columns else keys
    from_keys = pl.concat_str([pl.col(k).cast(pl.String) for k in parts], separator="/")
    if "unique_id" in fc.columns:
        # An empty or blank id is named by its keys, as a forecast without the column: every
        # series without one was one series, 'None at 2024-01-01' given 'on more than one row'.
        uid = pl.col("unique_id").cast(pl.String)
        blank = uid.is_null() | (uid.str.strip_chars() == "")
        cols.append(pl.when(blank).then(from_keys).otherwise(uid).alias("unique_id"))
    else:
        cols.append(from_keys.alias("unique_id"))
    # Text that is not a number is an error; an empty forecast is the recent mean, when given.
    # The widest upper bound caps slow points (level_caps), so it is checked here too.
    hi = upper_bound_column(fc.columns)
    bounds = [hi] if hi else []
    fc = numeric_columns(fc, ("forecast", "error_sd", "mean_demand", *bounds), source="forecast")
    fcast = pl.col("forecast")
    filled = None
    if "mean_demand" in fc.columns:
        fcast = fcast.fill_null(pl.col("mean_demand"))
        filled = _empty_forecasts_note(fc, from_keys)
    cols += [fcast.alias("forecast"), pl.col("error_sd")]
    df = fc.select(*cols, pl.col("ds"), *bounds)
    # Checked in the file's order, so a row given twice is named by its place there; summed
    # below in one order whatever order the rows came in.
    _check_values(df, keys, bounds)
    df = in_row_order(df.drop(bounds))
    written = _freq_column(fc, freq)
    period_days, note = _period_days(df, written or freq, written=written is not None)
    # The forecast's horizon is every period any series has. A series without a row for some
    # of them asks 0 there: an export that leaves out zero rows (B forecast 10 in 2 of 4 weeks
    # was planned at 10 a week, twice its demand, without a word), a product new or dropped
    # within the horizon. (A segchain forecast gives every series every period.)
    horizon = df.select(_dates(df).n_unique()).item()
    sparse = _missing_periods_note(df, horizon)
    notes = [n for n in (filled, note, sparse) if n]
    # Demand below a billionth of a unit per period is no demand: distributions fitted to such
    # a mean underflow (a forecast of 5e-324 gave a NaN fill rate).
    mean = pl.col("forecast").sum() / horizon
    series = df.group_by([*keys, "segment", "unique_id"], maintain_order=True).agg(
        pl.when(mean < MIN_DEMAND).then(0.0).otherwise(mean).alias("mu"),
        pl.col("error_sd").mean().alias("sd"),
        pl.col("demand_class").drop_nulls().first().alias("demand_class"),
    )
    return series, keys, period_days, notes


def _dates(df: pl.DataFrame) -> pl.Expr:
    """``ds`` as dates (``_period_days`` has checked that text parses as one)."""
    ds = pl.col("ds")
    return ds.str.to_date(strict=False) if df.schema["ds"] == pl.String else ds


def _missing_periods_note(df: pl.DataFrame, horizon: int) -> TableMessage | None:
    """The note of the series without a row for some of the forecast's ``horizon`` periods,
    each named with how many it lacks, counted as 0 demand there."""
    have = df.group_by("unique_id", maintain_order=True).agg(_dates(df).n_unique().alias("have"))
    short = have.filter(pl.col("have") < horizon)
    if not short.height:
        return None
    k = short.height
    missing = int(horizon * k - short.get_column("have").sum())
    shown = ", ".join(
        f"'{u}' ({horizon - h} of {horizon})" for u, h in short.head(5).iter_rows()
    ) + (f" (and {count(k - 5)} more)" if k > 5 else "")
    return TableMessage(
        f"{{{FORECAST_ARGUMENT}}}: {plural(k, 'series', 'series')} {agree(k, 'has', 'have')} no "
        f"row for {plural(missing, 'period')} of the forecast's {count(horizon)}, counted as 0 "
        f"demand in {agree(k, 'its', 'their')} mean per period: {shown}; give every "
        "series a row for every period if a missing one is not 0",
        {FORECAST_ARGUMENT: "forecast"},
    )


def _empty_forecasts_note(fc: pl.DataFrame, name: pl.Expr) -> TableMessage | None:
    """The note of the empty forecasts planned at their ``mean_demand`` (said, not silent: a
    forecast column blanked in a spreadsheet was planned from the recent means without a word)."""
    empty = fc.filter(pl.col("forecast").is_null() & pl.col("mean_demand").is_not_null())
    if not empty.height:
        return None
    named = empty.select(name.alias("series"), pl.col("ds").cast(pl.String)).row(0)
    k = empty.select(name).n_unique()
    return TableMessage(
        f"{{{FORECAST_ARGUMENT}}}: {plural(empty.height, 'period')} of {count(k)} series "
        f"{agree(empty.height, 'has', 'have')} an empty forecast, planned at the series' "
        f"mean_demand (its recent mean), e.g. '{named[0]}' at {named[1]}; fill in the "
        "forecast to plan from it",
        {FORECAST_ARGUMENT: "forecast"},
    )


MIN_DEMAND = 1e-9
MAX_DEMAND = MAX_VALUE  # beyond any real demand; stock levels from such values overflow to inf
"""Mean demand per period below which a series counts as having none."""


def _check_values(df: pl.DataFrame, keys: list[str], bounds: list[str]) -> None:
    problems: list[str] = []
    for key in keys:
        missing = df.filter(pl.col(key).is_null() | (pl.col(key).str.strip_chars() == ""))
        if missing.height:
            n = missing.height
            problems.append(f"{plural(n, 'row')} {agree(n, 'has', 'have')} no {key}")
    undated = df.filter(pl.col("ds").is_null())
    if undated.height:
        ids = undated.get_column("unique_id").unique(maintain_order=True).to_list()
        n = undated.height
        problems.append(
            f"{plural(n, 'row')} {agree(n, 'has', 'have')} no ds, in series {examples(ids)}"
        )
    # One series, one period, one row: a second row of the same period (two forecast files
    # concatenated, a key column dropped) was averaged with the first as if another period.
    dated = df.with_row_index(ROW_NUMBER, offset=1).filter(pl.col("ds").is_not_null())
    dup = duplicate_keys(dated, ["unique_id", "ds"])
    problems += dup
    rules = {"forecast": ">= 0", "error_sd": ">= 0"}
    # Each row by its series and period: 'inf for unique_id 'A', inf for unique_id 'A', ...'
    # named one series' periods as if the same row, once per period.
    problems += number_problems(
        df, rules | dict.fromkeys(bounds, ">= 0"), keys=["unique_id", "ds"], limit=MAX_DEMAND
    )
    for col in rules:
        empty = df.filter(pl.col(col).is_null())
        if empty.height:
            ids = empty.get_column("unique_id").unique(maintain_order=True).to_list()
            problems.append(
                f"column {col!r} has {plural(empty.height, 'empty value')} in series (unique_id) "
                f"{examples(ids)}"
            )
    if problems:
        hint = (
            "a forecast has one row per series and period (ds), forecasts and error sds numbers "
            ">= 0; rerun `segchain forecast` or fix those rows"
        )
        raise DataError(
            "forecast: " + "; ".join(problems),
            hint=one_row_hint(["unique_id", "ds"], hint) if dup else hint,
        )


def forecast_start(fc: pl.DataFrame) -> dt.date | None:
    """The forecast's first period: its earliest ``ds`` (as ``read_series`` checked it)."""
    ds = fc.get_column("ds")
    if ds.dtype == pl.String:
        ds = ds.str.to_date(strict=False)
    return cast(dt.date | None, ds.cast(pl.Date).min())


def _freq_column(fc: pl.DataFrame, recorded: str | None) -> str | None:
    """The --freq the forecast's ``freq`` column says (segchain forecast writes it on every row),
    None without one or with its values all empty (a hand-made forecast).

    Raises:
        DataError: values other than one of D, W, M, or one that is not the ``recorded``
            --freq of the metadata (a table edited, or put together from two runs).
    """
    said = freq_values(fc)
    hint = (
        f"rerun `segchain forecast`, or write one of {', '.join(PERIOD_DAYS)} in every row of "
        f"column {FREQ_COLUMN!r} (or leave the column out to have the period read from ds)"
    )
    if len(said) > 1 or any(v not in PERIOD_DAYS for v in said):
        raise DataError(
            f"forecast: column {FREQ_COLUMN!r} must hold the forecast's --freq, one of "
            f"{', '.join(PERIOD_DAYS)} on every row; found {examples(said)}",
            hint=hint,
        )
    if not said:
        return None
    if recorded is not None and said[0] != recorded:
        raise DataError(
            f"forecast: column {FREQ_COLUMN!r} says {said[0]} but the forecast's metadata "
            f"records --freq {recorded}",
            hint=hint,
        )
    return str(said[0])


def _period_days(
    df: pl.DataFrame, freq: str | None = None, *, written: bool = False
) -> tuple[float, str | None]:
    """The days of one forecast period, from the dates' spacing, for a single period from
    ``freq``, whose period the dates must show where there are several (a freq that says M
    over weekly dates is wrong in one of them); ``written``: ``freq`` is the table's own
    column, else its metadata's --freq."""
    ds = df.get_column("ds")
    if ds.dtype == pl.String:
        parsed = ds.str.to_date(strict=False)
        bad = ds.filter(parsed.is_null() & ds.is_not_null())
        if bad.len():
            raise DataError(
                f"forecast: column 'ds' holds {plural(bad.len(), 'value')} that "
                f"{agree(bad.len(), 'is not a date', 'are not dates')}, "
                f"e.g. {examples(bad.unique(maintain_order=True).to_list())}",
                hint="pass the output of `segchain forecast`; ds must be dates like 2024-03-04",
            )
        ds = parsed
    if ds.dtype not in (pl.Date, pl.Datetime) and not isinstance(ds.dtype, pl.Datetime):
        raise DataError(f"forecast: column 'ds' must hold dates, found {ds.dtype}")
    uniq = ds.drop_nulls().unique().sort()
    if uniq.len() < 2:
        # One period: its length is what the forecast says it is (a daily forecast of one day
        # planned as weeks had a seventh of its lead-time demand).
        if freq in PERIOD_DAYS:
            return PERIOD_DAYS[freq], None
        return DEFAULT_PERIOD_DAYS, TableMessage(
            f"{{{FORECAST_ARGUMENT}}} has a single period and does not record its --freq (a "
            f"column {FREQ_COLUMN!r} of D, W or M, as segchain forecast writes); assumed "
            f"{DEFAULT_PERIOD_DAYS:g}-day periods",
            {FORECAST_ARGUMENT: "forecast"},
        )
    gaps = uniq.diff().drop_nulls().dt.total_seconds() / 86400.0
    gap = float(cast(float, gaps.median()))
    days = _named_period(gap, uniq)
    if freq in PERIOD_DAYS and days != PERIOD_DAYS[freq]:
        # The metadata's --freq is checked as the column is (forecast records both alike):
        # where the dates contradict it one of them is wrong, and planning by the dates alone
        # took a hand-edited forecast saying M over weekly dates as weeks without a word.
        said, fix = (
            (
                f"column {FREQ_COLUMN!r} says",
                f"correct column {FREQ_COLUMN!r} or the dates in ds (or leave the column out "
                "to have the period read from ds)",
            )
            if written
            else (
                "the forecast's metadata records --freq",
                "correct the dates in ds (or write the table without segchain's metadata, as "
                "CSV, to have the period read from ds)",
            )
        )
        raise DataError(
            f"forecast: {said} {freq} (periods of {PERIOD_DAYS[freq]:g} days) but its dates "
            f"are {gap:,.4g} days apart (the median gap between its dates {uniq[0]} to "
            f"{uniq[-1]})",
            hint=f"rerun `segchain forecast`, or {fix}",
        )
    return days, None


def _named_period(days: float, uniq: pl.Series) -> float:
    """``days`` (the median gap between the forecast's dates ``uniq``) as the period it is
    closest to (a day, a week, a month of 30.4375 days, a quarter), else as it is."""
    for low, high, named in KNOWN_PERIODS:
        if low <= days <= high:
            return named
    if days > MAX_PERIOD_DAYS:
        # Dates far apart (1900 and 2999: a typo, a default date) made one period of centuries,
        # planned as such, with exit 0.
        raise DataError(
            f"forecast: its periods are {days:,.0f} days apart (the median gap between its "
            f"dates {uniq[0]} to {uniq[-1]}); a forecast's periods are days, weeks, months or "
            "quarters, at most a year",
            hint="pass the output of `segchain forecast`, or fix the dates in ds",
        )
    return days


MAX_PERIOD_DAYS = 366.0
"""The longest forecast period stock plans from (a year); longer gaps are wrong dates."""


def segment_targets(series: pl.DataFrame, table: PolicyTable) -> pl.DataFrame:
    labels = series.get_column("segment").unique().to_list()
    found: dict[str, SegmentPolicy] = {lab: table.for_segment(lab) for lab in labels}
    lookup = pl.DataFrame(
        {
            "segment": labels,
            "seg_level": [found[lab].service_level for lab in labels],
            "seg_measure": [found[lab].service_measure for lab in labels],
            "seg_priority": [found[lab].priority for lab in labels],
        },
        schema={
            "segment": pl.String,
            "seg_level": pl.Float64,
            "seg_measure": pl.String,
            "seg_priority": pl.Int64,
        },
    )
    return series.join(lookup, on="segment", how="left")


def target_notes(series: pl.DataFrame, table: PolicyTable) -> list[str]:
    """Why the segments' targets do not differ, when they do not: the config names none of
    them, or sets no service_level of a segment's own (``segment_targets``' columns)."""
    labels = series.get_column("segment").unique().to_list()
    unnamed = unnamed_segments_note(table, labels)
    if unnamed is not None:
        return [unnamed]
    targets = series.filter(pl.col("segment") != "*").select("seg_level", "seg_measure").unique()
    if len([lab for lab in labels if lab != "*"]) < 2 or targets.height != 1:
        return []
    level, measure = targets.row(0)
    return [
        f"every segment has the same service target ({measure} {short_of_one(level)}): the "
        "config gives no segment a service_level of its own, so the stock does not differ by "
        'segment; set one per segment in segchain.toml, e.g. [segments."Champions"] '
        "service_level = 0.99"
    ]


def stocking_points(series: pl.DataFrame, keys: list[str], blend: str) -> pl.DataFrame:
    """One row per stocking point: its segment series added, its target blended (``blend``)
    over the segments that buy there, with ``segment`` (the one buying most, or with the top
    target under ``max``) and ``segments`` (how many buy there)."""
    if series.select(pl.struct(keys).n_unique()).item() == series.height:
        # One series per stocking point (a forecast by sku): nothing to blend, and the same
        # numbers as the general aggregation below without its per-group sorts.
        return series.select(
            *keys,
            "segment",
            pl.lit(1, pl.UInt32).alias("segments"),
            (pl.col("seg_level") * 1.0).alias("service_target"),
            pl.col("seg_measure").alias("service_measure"),
            pl.col("mu").alias("mean_demand"),
            pl.col("sd").pow(2).sqrt().alias("sd_demand"),
            "demand_class",
        )
    total = pl.col("mu").sum()
    weight = pl.when(total > 0).then(pl.col("mu") / total).otherwise(1.0 / pl.len())
    # Ties (two segments of equal demand and target) go to the first segment by name, whatever
    # the forecast's row order: the point's segment was the first of them as read.
    order = ["mu", "seg_level"] if blend == "weighted" else ["seg_level", "mu"]
    by, descending = [*order, "segment"], [True, True, False]
    # Over the segments that buy there (``buying``): --blend max over every series raised 332 of
    # Superstore's 561 points with demand to the target of a segment buying nothing there.
    buys = pl.col("_buys")
    if blend == "weighted":
        target = (pl.col("seg_level") * weight).sum()
    else:
        target = pl.col("seg_level").filter(buys).max()
    ranked = [pl.col(c).filter(buys) for c in by]
    driver = pl.col("segment").filter(buys).sort_by(ranked, descending=descending).first()
    driver_measure = pl.col("seg_measure").filter(buys).sort_by(ranked, descending=descending)
    return (
        series.with_columns(buying(keys).alias("_buys"))
        .group_by(keys, maintain_order=True)
        .agg(
            driver.alias("segment"),
            buys.sum().cast(pl.UInt32).alias("segments"),
            target.alias("service_target"),
            driver_measure.first().alias("service_measure"),
            pl.col("mu").sum().alias("mean_demand"),
            # Segment series of one SKU are treated as independent: variances add.
            pl.col("sd").pow(2).sum().sqrt().alias("sd_demand"),
            # The class of the dominant series (largest mean demand).
            pl.col("demand_class")
            .sort_by(["mu", "segment"], descending=[True, False])
            .drop_nulls()
            .first()
            .alias("demand_class"),
        )
    )


def mean_prices(orders: pl.DataFrame, *, before: dt.date | None = None) -> pl.DataFrame | None:
    """``sku, price``: each sku's mean selling price over its product sales (quantity > 0 and a
    price > 0), weighted by quantity: sum(quantity*unit_price)/sum(quantity), or
    sum(amount)/sum(quantity) when the orders carry amounts only. None without either column.

    ``before`` (the forecast's first period): only the lines before it, as the demand history
    (``bootstrap.demand_history``). The price values the stock and sets each EOQ, so a plan made
    as of a day must not read the prices of the weeks it plans for."""
    if "sku" not in orders.columns or "quantity" not in orders.columns:
        return None
    if before is not None and "order_date" in orders.columns:
        orders = orders.filter(pl.col("order_date").cast(pl.Date, strict=False) < before)
    qty = pl.col("quantity").cast(pl.Float64, strict=False)
    if "unit_price" in orders.columns:
        value = qty * pl.col("unit_price").cast(pl.Float64, strict=False)
    elif "amount" in orders.columns:
        value = pl.col("amount").cast(pl.Float64, strict=False)
    else:
        return None
    lines = orders.filter(demand_line()) if "flag" in orders.columns else orders
    lines = lines.select(pl.col("sku").cast(pl.String), qty.alias("q"), value.alias("v")).filter(
        (pl.col("q") > 0) & (pl.col("v") > 0) & pl.col("v").is_finite()
    )
    return lines.group_by("sku").agg((pl.col("v").sum() / pl.col("q").sum()).alias("price"))


@dataclass(frozen=True)
class PointsTable:
    """The table whose stocking points an item master's rows are matched with, as messages
    name it and say what a row that matches none of them loses: stock's forecast (the
    default; a row's every value) or costs' policy (a row's ``holding_rate``, the one value
    costs reads per site)."""

    table: str = FORECAST_ARGUMENT
    word: str = "the forecast"
    unused: str = "not used"
    """What becomes of an item row at a site where the table has no stocking point."""
    fallback: str = (
        "every stocking point takes its sku's row without a site, or the default parameters"
    )
    """What the points take when no row with a site is used."""
    site_fallback: str = (
        "else the rows of such a site are not used, and its skus there take the defaults"
    )
    """The same for one site written otherwise."""

    def names(self) -> dict[str, str]:
        return {ITEMS_OPTION: ITEMS_OPTION, self.table: self.word}


FORECAST_POINTS = PointsTable()


def items_matching_none(
    points: pl.DataFrame, items: pl.DataFrame | pl.LazyFrame | None
) -> list[str]:
    """A warning when not one sku of the item master is a stocking point's sku: every point
    then plans with default parameters and no unit cost, which stderr reported only as 'N of N
    items used default parameters'. Most often a spreadsheet dropped the skus' leading zeros
    (00047 -> 47), which is said when dropping them makes the skus meet."""
    if items is None or "sku" not in points.columns:
        return []
    it = collect(items, name=ITEMS_OPTION)
    if "sku" not in it.columns or it.height == 0 or points.height == 0:
        return []
    theirs = it.get_column("sku").cast(pl.String).str.strip_chars().drop_nulls().unique().sort()
    ours = points.get_column("sku").cast(pl.String).unique().sort()
    if theirs.is_in(ours.implode()).any():
        return _sites_matching_none(points, it, FORECAST_POINTS)

    def unpadded(s: pl.Series) -> pl.Series:
        return s.str.strip_chars_start("0")

    zeros = bool(unpadded(theirs).is_in(unpadded(ours).implode()).any())
    why = (
        ": the skus meet once leading zeros are dropped (a spreadsheet dropped them; export the "
        "sku column as text)"
        if zeros
        else ""
    )
    return [
        TableMessage(
            f"{{{ITEMS_OPTION}}} matches no sku of {{{FORECAST_ARGUMENT}}} ("
            f"{plural(theirs.len(), 'sku')} in the items: {examples(theirs, 3)}; in the "
            f"forecast: {examples(ours, 3)}){why}; every stocking point uses the default "
            "parameters",
            {ITEMS_OPTION: ITEMS_OPTION, FORECAST_ARGUMENT: "the forecast"},
        )
    ]


def item_site_messages(
    points: pl.DataFrame, items: pl.DataFrame | None, of: PointsTable
) -> tuple[list[str], TableMessage | None]:
    """What stock says of the item rows at sites where ``points`` (the stocking points of
    ``of``) have none, for another stage that reads the item master per site (costs, against
    its policy): the warnings (no site matches; a site written in other capitals or another
    Unicode form) and the note counting such rows (None without any)."""
    if items is None or "sku" not in items.columns or items.height == 0 or points.height == 0:
        return [], None
    found = _item_sites(points, items)
    part = _sites_unplanned(found, of, where=f"{{{of.table}}}")
    note = TableMessage(f"{{{ITEMS_OPTION}}}: {part}", of.names()) if part else None
    return _sites_matching_none(points, items, of) + _sites_written_otherwise(found, of), note


def _item_sites(points: pl.DataFrame, it: pl.DataFrame) -> tuple[pl.Series, pl.Series] | None:
    """The sites of the item rows that name one (as written, but for spaces around) and the
    points' sites, when both tables have sites; else None."""
    if "site" not in it.columns or "site" not in points.columns:
        return None
    site = it.get_column("site").cast(pl.String).str.strip_chars().replace("", None)
    return site.drop_nulls(), points.get_column("site").cast(pl.String).drop_nulls().unique().sort()


def _site_rows(sites: pl.Series) -> str:
    """Sites as written with their rows, most first: ``'DC-BRLN' (2 rows), 'DC-X' (1 row)``."""
    counts = sites.value_counts(name="n").sort(["n", sites.name], descending=[True, False])
    shown = ", ".join(f"{s!r} ({plural(n, 'row')})" for s, n in counts.head(5).iter_rows())
    return shown + (f" (and {counts.height - 5:,} more)" if counts.height > 5 else "")


def _sites_matching_none(points: pl.DataFrame, it: pl.DataFrame, of: PointsTable) -> list[str]:
    """A warning when the item rows that name a site name not one of the points' sites
    (another site code, ``BER`` for ``DC-BER``): every such row was left out without a word."""
    found = _item_sites(points, it)
    if found is None or found[0].len() == 0 or found[1].len() == 0:
        return []
    theirs, ours = found
    if theirs.is_in(ours.implode()).any():
        return []
    near = written_otherwise(theirs, ours, other=of.word) or ""
    return [
        TableMessage(
            f"{{{ITEMS_OPTION}}} names no site of {{{of.table}}} "
            f"({plural(theirs.n_unique(), 'site')} in the items: {_site_rows(theirs)}; in "
            f"{of.word}: {examples(ours, 5)}): its {plural(theirs.len(), 'row')} with a site "
            f"{agree(theirs.len(), 'is', 'are')} {of.unused}, and {of.fallback}; write the "
            f"sites as {of.word} does{near}",
            of.names(),
        )
    ]


def _sites_unplanned(
    found: tuple[pl.Series, pl.Series] | None, of: PointsTable, *, where: str
) -> str | None:
    """The item rows at a site where no point is (a misspelt site code, or a site the network
    did not open), counted with the sites as written, when some other row's site has points
    (none: ``_sites_matching_none``); ``where``: the points' table as the sentence names it."""
    if found is None or not found[0].is_in(found[1].implode()).any():
        return None
    theirs, ours = found
    elsewhere = theirs.filter(~theirs.is_in(ours.implode()))
    if not elsewhere.len():
        return None
    return (
        f"{plural(elsewhere.len(), 'row')} at "
        f"{agree(elsewhere.n_unique(), 'a site', 'sites')} where {where} has no "
        f"stocking point, {of.unused}: {_site_rows(elsewhere)} ({of.word}'s "
        f"{agree(ours.len(), 'site', 'sites')}: {examples(ours, 5)})"
    )


def items_not_planned(
    points: pl.DataFrame, items: pl.DataFrame | pl.LazyFrame | None
) -> TableMessage | None:
    """What stderr says of the item rows whose sku no stocking point has, when others match:
    an item master lists every product and the forecast the ones bought, so such rows are
    normal, but they were left out without a word. (None matching: ``items_matching_none``.)"""
    if items is None or "sku" not in points.columns:
        return None
    it = collect(items, name=ITEMS_OPTION)
    if "sku" not in it.columns or it.height == 0:
        return None
    skus = it.get_column("sku").cast(pl.String).str.strip_chars().drop_nulls()
    planned = skus.is_in(points.get_column("sku").cast(pl.String).unique().implode())
    if not planned.any():
        return None
    unused = skus.filter(~planned)
    parts = []
    if unused.len():
        parts.append(
            f"{plural(unused.len(), 'row')} of skus no stocking point of {{{FORECAST_ARGUMENT}}} "
            f"has, not used: {examples(unused.unique().sort(), 3)}"
        )
    where = "it" if parts else f"{{{FORECAST_ARGUMENT}}}"
    part = _sites_unplanned(_item_sites(points, it), FORECAST_POINTS, where=where)
    parts += [part] if part else []
    if not parts:
        return None
    return TableMessage(f"{{{ITEMS_OPTION}}}: " + "; ".join(parts), FORECAST_POINTS.names())


def items_written_otherwise(
    points: pl.DataFrame, items: pl.DataFrame | pl.LazyFrame | None
) -> list[str]:
    """A warning when item rows whose sku no stocking point has hold a stocking point's sku
    written otherwise (``schema.written_otherwise``: another Unicode form, other capitals):
    'Crème' with a combining accent in the item master, composed in the forecast, looks the
    same on screen, and its stocking point was planned with the default parameters (no unit
    cost, 14 days' lead time) with no more than a note naming the item row as unused."""
    if items is None or "sku" not in points.columns:
        return []
    it = collect(items, name=ITEMS_OPTION)
    if "sku" not in it.columns or it.height == 0:
        return []
    ours = points.get_column("sku").cast(pl.String).unique()
    skus = it.get_column("sku").cast(pl.String).str.strip_chars().drop_nulls().unique()
    unused = skus.filter(~skus.is_in(ours.implode()))
    out: list[str] = []
    near = written_otherwise(unused, ours, other="the forecast")
    if near is not None:
        out.append(
            TableMessage(
                f"{{{ITEMS_OPTION}}}: {plural(unused.len(), 'sku')} no stocking point of "
                f"{{{FORECAST_ARGUMENT}}} has{near}; else such a stocking point is planned with "
                "the default parameters",
                FORECAST_POINTS.names(),
            )
        )
    return out + _sites_written_otherwise(_item_sites(points, it), FORECAST_POINTS)


def _sites_written_otherwise(
    found: tuple[pl.Series, pl.Series] | None, of: PointsTable
) -> list[str]:
    """A warning when item sites where no point is are a point's site written otherwise (as
    ``items_written_otherwise`` warns of skus). (When no site matches,
    ``_sites_matching_none`` says so, the forms included.)"""
    if found is None or not found[0].is_in(found[1].implode()).any():
        return []
    theirs, sites = found[0].unique(), found[1]
    elsewhere = theirs.filter(~theirs.is_in(sites.implode()))
    near = written_otherwise(elsewhere, sites, other=of.word)
    if near is None:
        return []
    return [
        TableMessage(
            f"{{{ITEMS_OPTION}}}: {plural(elsewhere.len(), 'site')} where {{{of.table}}} has "
            f"no stocking point{near}; {of.site_fallback}",
            of.names(),
        )
    ]


def orders_matching_none(points: pl.DataFrame, history: pl.DataFrame, keys: list[str]) -> list[str]:
    """A warning when ``--orders`` gives not one stocking point a history (another export, skus
    renamed, sites that are not the forecast's): every slow or lumpy point is then planned from
    the forecast's fit alone, and the warning that says so is left out when ``--orders`` is
    given, so nothing said it."""
    if points.height == 0:
        return []
    theirs_keys = history.select(keys).unique()
    if points.join(theirs_keys, on=keys, how="semi").height:
        return []

    order = ["sku", *[k for k in keys if k != "sku"]]  # sku@site, as other messages name them

    def key(df: pl.DataFrame) -> pl.Series:
        return df.select(pl.concat_str(order, separator="@")).to_series().unique().sort()

    theirs, ours = key(theirs_keys), key(points)
    word = ("sku", "skus") if keys == ["sku"] else ("sku@site", "sku@site pairs")
    shown = (
        f"{theirs.len():,} {agree(theirs.len(), *word)} in the orders: {examples(theirs, 3)}"
        if theirs.len()
        else "no sale in the orders"
    )
    return [
        TableMessage(
            f"{{{ORDERS_OPTION}}} matches no stocking point of {{{FORECAST_ARGUMENT}}} ({shown}; "
            f"in the forecast: {examples(ours, 3)}): no point has an order history, so slow and "
            "lumpy points are planned from the forecast's fit alone; give the orders the "
            "forecast was made from",
            {ORDERS_OPTION: ORDERS_OPTION, FORECAST_ARGUMENT: "the forecast"},
        )
    ]


def join_items(
    points: pl.DataFrame,
    items: pl.DataFrame | pl.LazyFrame | None,
    lead_time_days: float | None,
    *,
    prices: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, int, dict[str, int], ItemGaps]:
    """Item values per stocking point, defaults where missing; ``unit_cost_source`` says where
    each unit cost comes from: ``items``, ``price`` (the sku's mean selling price in the orders,
    ``mean_prices``, for items without a unit cost) or ``default`` (1: values are units).

    Returns:
        (points with item values, points that took a default, per item column the points that
        took its default, why they did: ``ItemGaps``).
    """
    fallback = item_fallbacks(lead_time_days)
    if items is None:
        out = points.with_columns(
            *[pl.lit(v, pl.Float64).alias(c) for c, v in fallback.items() if c != "unit_cost"],
            pl.lit(None, pl.Float64).alias("unit_cost"),
        )
        out = _unit_costs(out, prices)
        return out, points.height, {c: points.height for c in fallback}, ItemGaps()
    it = collect(items, name=ITEMS_OPTION)
    unread_lookalikes(it.columns, ("sku", "site", *ITEM_COLUMNS), source=ITEMS_OPTION)
    require_columns(
        it.columns, ["sku"], source=ITEMS_OPTION, hint="the item master needs a sku column"
    )
    if it.height == 0:
        # An export that selected nothing (a filter, a period, run before the data was loaded)
        # planned every point on the defaults, inventory in units, exit 0; costs refuses it.
        raise DataError(
            f"{ITEMS_OPTION}: the items table has no rows (only a header)",
            hint="give --items the item master (one row per sku: unit_cost, lead_time_days, "
            "...), or leave --items out to plan every stocking point with the default parameters",
        )
    # A row without a sku matches no stocking point: refused (as on --on-hand), not dropped.
    blank = blank_ids(it, "sku")
    if blank:
        raise DataError(
            f"{ITEMS_OPTION}: " + "; ".join(blank),
            hint="give every item its sku, or remove the rows that have none",
        )
    present = [c for c in ITEM_COLUMNS if c in it.columns]
    _check_item_text(it, present)
    # Each row keeps its number in the file, for the messages of _check_items: the rows of
    # other sites are left out below.
    it = it.with_row_index(ROW_NUMBER, offset=1)
    per_site = "site" in it.columns and "site" in points.columns
    at_sites_only = pl.Series("sku", [], pl.String)
    if "site" in it.columns and not per_site:
        # A forecast without sites plans one point per sku: the sku's default row (no site).
        site = pl.col("site").cast(pl.String).str.strip_chars()
        sited = site.is_not_null() & (site != "")
        at_sites_only = it.filter(sited).get_column("sku").cast(pl.String)
        it = it.filter(~sited).drop("site")
    it = it.select(
        ROW_NUMBER,
        pl.col("sku").cast(pl.String),
        # A blank site (' ', as a spreadsheet leaves a cleared cell) is no site, as an empty
        # one: the row was dropped, its sku said to be 'not in --items'.
        *([pl.col("site").cast(pl.String).str.strip_chars().replace("", None)] if per_site else []),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in present],
    )
    _check_items(it, present, keys=["sku", "site"] if per_site else ["sku"])
    it = it.drop(ROW_NUMBER)
    # Which points an item row reaches (_item), for ItemGaps.
    it = it.with_columns(_item=pl.lit(True))
    if per_site:
        # Rows with a site (its own lead time, ...) win for that site; the sku's row without a
        # site is the default for every other site, value by value.
        at_site = it.filter(pl.col("site").is_not_null())
        default = it.filter(pl.col("site").is_null()).drop("site")
        joined = points.join(at_site, on=["sku", "site"], how="left", maintain_order="left").join(
            default, on="sku", how="left", suffix="_default", maintain_order="left"
        )
        joined = joined.with_columns(
            [pl.coalesce(c, f"{c}_default").alias(c) for c in [*present, "_item"]]
        ).drop([f"{c}_default" for c in [*present, "_item"]])
    else:
        joined = points.join(it, on="sku", how="left")
    rowless = joined.get_column("_item").is_null()
    gaps = ItemGaps(
        absent=tuple(c for c in ITEM_COLUMNS if c not in present),
        without_row=int(rowless.sum()),
        at_sites_only=int(
            joined.filter(rowless).get_column("sku").is_in(at_sites_only.implode()).sum()
        ),
    )
    joined = joined.drop("_item")
    by_column: dict[str, int] = {}
    used = pl.lit(False)
    fills = []
    for c, v in fallback.items():
        if c in present:
            by_column[c] = int(joined.get_column(c).null_count())
            used = used | pl.col(c).is_null()
            fills.append(pl.col(c).fill_null(v))
        else:
            by_column[c] = joined.height
            used = pl.lit(True)
            fills.append(pl.lit(v, pl.Float64).alias(c))
    defaulted = int(joined.select(used.sum() if present else pl.len()).item())
    if len(present) < len(ITEM_COLUMNS):
        defaulted = joined.height
    fills = [f for c, f in zip(fallback, fills, strict=True) if c != "unit_cost"]
    if "unit_cost" not in present:
        joined = joined.with_columns(pl.lit(None, pl.Float64).alias("unit_cost"))
    out = _unit_costs(joined.with_columns(fills), prices)
    return out, defaulted, {k: v for k, v in by_column.items() if v}, gaps


@dataclass(frozen=True)
class ItemGaps:
    """Why stocking points took default item values (``join_items``), for the message that
    counts them: it said 'not in --items or with empty values' whatever the cause."""

    absent: tuple[str, ...] = ()
    """The item columns the item master does not have (every point takes their defaults)."""
    without_row: int = 0
    """Points that no row of the item master reaches (its sku, or sku@site, not in it)."""
    at_sites_only: int = 0
    """Of those, the points of a forecast without sites whose sku has rows at sites only
    (such a forecast reads the sku's row without a site)."""

    def empty(self, by_column: Mapping[str, int]) -> dict[str, int]:
        """Per column of the item master, the points its row reaches with the value empty,
        from ``by_column`` (each column's defaulted points)."""
        return {
            c: n - self.without_row
            for c, n in by_column.items()
            if c not in self.absent and n > self.without_row
        }


def item_fallbacks(lead_time_days: float | None = None) -> dict[str, float]:
    """The value each item column takes where the item master has none: ``ITEM_DEFAULTS``,
    the lead time ``--lead-time-days`` when given (a unit cost then comes from prices when the
    orders give them, see ``_unit_costs``)."""
    fallback = dict(ITEM_DEFAULTS)
    if lead_time_days is not None:
        fallback["lead_time_days"] = float(lead_time_days)
    return fallback


def _unit_costs(points: pl.DataFrame, prices: pl.DataFrame | None) -> pl.DataFrame:
    """Fill missing unit costs from the mean selling price, else 1; ``unit_cost_source``."""
    if prices is not None:
        points = points.join(prices, on="sku", how="left", maintain_order="left")
    else:
        points = points.with_columns(pl.lit(None, pl.Float64).alias("price"))
    source = (
        pl.when(pl.col("unit_cost").is_not_null())
        .then(pl.lit("items"))
        .when(pl.col("price").is_not_null())
        .then(pl.lit("price"))
        .otherwise(pl.lit("default"))
    )
    return points.with_columns(
        pl.coalesce("unit_cost", "price", pl.lit(ITEM_DEFAULTS["unit_cost"])).alias("unit_cost"),
        source.alias("unit_cost_source"),
    ).drop("price")


def valued_in_units(policy: pl.DataFrame) -> bool:
    """Whether a plan's inventory_value counts units: no point has a unit cost (none in
    --items, no price in --orders), so every unit was valued at 1 (``_unit_costs``)."""
    if "unit_cost_source" not in policy.columns:
        return False
    return bool((policy.get_column("unit_cost_source") == "default").all())


def _check_item_text(it: pl.DataFrame, present: list[str]) -> None:
    """A value that is not a number (``moq = abc``) is an error, not a silent default."""
    problems = []
    for col in present:
        raw = pl.col(col).cast(pl.String).str.strip_chars()
        bad = it.filter(
            raw.is_not_null() & (raw != "") & pl.col(col).cast(pl.Float64, strict=False).is_null()
        )
        if bad.height:
            values = examples(bad.get_column(col).cast(pl.String).unique(maintain_order=True))
            # Each row is named, by its key: a per-site table's rows are sku@site ('skus' counted
            # the rows, 'P1', 'P1', ... (and 235 more) for 48 skus).
            keys = ["sku", "site"] if "site" in it.columns else ["sku"]
            rows = examples(bad.select(key_text(keys)).to_series().to_list())
            problems.append(f"{col} is not a number ({values}) for {'@'.join(keys)} {rows}")
    if problems:
        raise DataError(
            f"{ITEMS_OPTION}: " + "; ".join(problems),
            hint=NUMBER_HINT + ", or leave a value empty to use the default",
        )


def _check_items(it: pl.DataFrame, present: list[str], keys: list[str] | None = None) -> None:
    keys = keys or ["sku"]
    dup = duplicate_keys(it, keys)
    problems = list(dup)
    for col in [c for c in ITEM_RULES if c in present]:
        limit = ITEM_LIMITS.get(col, MAX_VALUE)
        problems += number_problems(it, {col: ITEM_RULES[col]}, keys=keys, limit=limit)
    if problems:
        hint = "fix the item master, or leave a value empty to use the default"
        raise DataError(
            f"{ITEMS_OPTION}: " + "; ".join(problems),
            hint=one_row_hint(keys, hint) if dup else hint,
        )


# A stocking point with stock on hand and no forecast demand (a site the network closed, a SKU
# nobody buys there any more) is kept in the plan: nothing to protect, nothing to order, its stock
# to move or clear. These columns are 0 on such a row; the other measures are empty.
NO_DEMAND_ZERO = (
    "segments",
    "mean_demand",
    "sd_demand",
    "mean_demand_lt",
    "sd_demand_lt",
    "safety_stock",
    "reorder_point",
    "eoq",
    "order_qty",
    "order_up_to",
    "avg_inventory",
    "inventory_value",
    "unrationed_avg_inventory",
)


def check_on_hand(on_hand: pl.DataFrame | pl.LazyFrame, keys: list[str]) -> pl.DataFrame:
    """The stock on hand, read and refused when it cannot be joined (columns missing or not
    read, no site for a forecast by site) or has no rows: checked before the plan is made,
    which takes minutes on a large forecast (``join_on_hand`` checks its values).

    Raises:
        DataError: as above, naming the columns or saying the table is only a header.
    """
    oh = collect(on_hand, name=ON_HAND_OPTION)
    unread_lookalikes(
        oh.columns, ("sku", "site", "on_hand", "on_order", "backorders"), source=ON_HAND_OPTION
    )
    # The stock on hand is ``on_hand``, or ``quantity`` in a table without one.
    qty = "quantity" if "quantity" in oh.columns and "on_hand" not in oh.columns else "on_hand"
    require_columns(
        oh.columns,
        ["sku", qty],
        source=ON_HAND_OPTION,
        hint="expected columns sku, on_hand (and site with a forecast by site; on_order, "
        "backorders optional)",
    )
    if "site" in keys and "site" not in oh.columns:
        raise DataError(
            f"{{{ON_HAND_OPTION}}}: {{{FORECAST_ARGUMENT}}} is by site but the on-hand table has "
            "no site column",
            hint="add a site column to the on-hand table",
            tables={ON_HAND_OPTION: ON_HAND_OPTION, FORECAST_ARGUMENT: "the forecast"},
        )
    if oh.height == 0:
        # As a header-only item master is refused (``join_items``): an export that selected
        # nothing counted every point's stock as 0, and order_now ordered each one up to its
        # level, exit 0. Stock that is truly nil is a row of on_hand 0, not a missing export.
        raise DataError(
            f"{ON_HAND_OPTION}: the on-hand table has no rows (only a header)",
            hint="give --on-hand the stock on hand (one row per sku, and site, with on_hand; a "
            "point with nothing on hand as on_hand 0), or leave --on-hand out to plan without "
            "order_now",
        )
    return oh


class OnHandRows(NamedTuple):
    """The on-hand rows checked (``on_hand_rows``), for ``join_on_hand``."""

    rows: pl.DataFrame  # the point's keys, on_hand [, on_order, backorders] [, _site]
    by: list[str]  # the point's keys
    extra: list[str]  # on_order, backorders: those the table has
    across: bool  # the rows' sites are summed into one point (a forecast without sites)


def on_hand_rows(on_hand: pl.DataFrame | pl.LazyFrame, keys: list[str]) -> OnHandRows:
    """The on-hand rows checked, column by column (``check_on_hand``) and value by value:
    before the plan is made (a bad row was refused after the whole plan, 32 s on the demo, the
    15 minutes of Online Retail's)."""
    oh = check_on_hand(on_hand, keys)
    # The stock on hand is ``on_hand``, or ``quantity`` in a table without one.
    qty = "quantity" if "quantity" in oh.columns and "on_hand" not in oh.columns else "on_hand"
    by = keys if "site" in keys else ["sku"]
    extra: list[str] = [c for c in ("on_order", "backorders") if c in oh.columns]
    # A forecast without sites plans one point per sku: the rows of its several sites are one
    # point's stock, not bins or lots of one site (counted apart for the note).
    across = "site" in oh.columns and "site" not in by
    oh = numeric_columns(oh, [qty, *extra], source=ON_HAND_OPTION).select(
        *[pl.col(k).cast(pl.String) for k in by],
        *([pl.col("site").cast(pl.String).alias("_site")] if across else []),
        pl.col(qty).alias("on_hand"),
        *[pl.col(c).fill_null(0.0) for c in extra],
    )
    problems = []
    bad = oh.filter(pl.col("on_hand").is_null())
    if bad.height:
        what = agree(bad.height, "sku", "skus")
        problems.append(f"empty on_hand for {what} {examples(bad['sku'].to_list())}")
    problems += number_problems(
        oh, dict.fromkeys(["on_hand", *extra], ""), keys=by, limit=MAX_VALUE
    )
    for c in extra:
        # Units on order or owed: a negative one (-500 backorders) raised the inventory position
        # by 500 and cancelled a needed order, without a word.
        negative = oh.filter(pl.col(c) < 0)
        if negative.height:
            problems.append(
                f"negative {c} for {agree(negative.height, 'sku', 'skus')} "
                f"{examples(negative['sku'].to_list())}: units "
                f"{'on order' if c == 'on_order' else 'owed to customers'} are never below 0"
            )
    for k in by:
        blank = oh.filter(pl.col(k).is_null() | (pl.col(k).str.strip_chars() == ""))
        if blank.height:
            n = blank.height
            problems.append(f"{plural(n, 'row')} {agree(n, 'has', 'have')} no {k}")
    if problems:
        raise DataError(
            f"{ON_HAND_OPTION}: " + "; ".join(problems),
            hint="every on-hand row needs a sku"
            + (" and a site" if "site" in by else "")
            + " and a number on hand (at most 1e15 in size), and on_order and backorders are "
            "counts of units, never negative; drop or fix those rows",
        )
    return OnHandRows(oh, by, extra, across)


def join_on_hand(
    policy: pl.DataFrame,
    on_hand: OnHandRows,
    keys: list[str],
    *,
    items: pl.DataFrame | pl.LazyFrame | None = None,
    lead_time_days: float | None = None,
) -> tuple[pl.DataFrame, int, pl.DataFrame, pl.DataFrame]:
    """The policy with ``on_hand, inventory_position, order_now, no_demand``.

    On-hand rows at a stocking point the forecast has not become policy rows of their own:
    zero demand, levels and planned inventory, item values from ``items``. They and the on-hand
    points the forecast has, forecast nothing (``FORECAST_NOTHING``), are ``no_demand``: nothing
    ordered beyond backorders already owed, their stock to move or clear. Those points are
    returned too (``keys, on_hand, backorders, unit_cost, order_now, rows``) so that the caller
    can report them.

    Several rows of one stocking point (bins, lots) are added up; those points are returned
    (``keys, rows``) so that the caller can say so: an export appended twice doubles the stock.
    With a forecast without sites and an on-hand table with them, a point's rows are those of
    its sites, counted too (``_sites``).

    Returns:
        (policy, stocking points without an on-hand row, on-hand points without demand,
        stocking points whose on-hand rows were added up).
    """
    oh, by, extra, across = on_hand
    oh = oh.group_by(by, maintain_order=True).agg(
        pl.len().alias("_rows"),
        *[pl.col(c).sum() for c in ["on_hand", *extra]],
        *([pl.col("_site").drop_nulls().n_unique().alias("_sites")] if across else []),
    )
    order = ["sku", *[k for k in by if k != "sku"]]  # sku first, then site
    merged = oh.filter(pl.col("_rows") > 1).select(
        *order, pl.col("_rows").alias("rows"), *(["_sites"] if across else [])
    )
    oh = oh.drop("_sites", strict=False)
    unknown = oh.join(policy.select(by), on=by, how="anti").sort(order)
    joined = policy.join(oh, on=by, how="left", maintain_order="left")
    missing = int(joined.get_column("on_hand").null_count())
    # An on-hand point forecast nothing is stock without demand too, as one the forecast has
    # not: only those were flagged and counted (Superstore by product, 1,291 of 1,852 points
    # forecast 0: the stock at all of them went unreported).
    joined = joined.with_columns(no_demand=pl.col("_rows").is_not_null() & FORECAST_NOTHING)
    if unknown.height:
        rows, _, _, _ = join_items(unknown.select(by), items, lead_time_days)
        rows = rows.join(unknown, on=by, how="left").sort(order)
        joined = pl.concat([joined, _no_demand_rows(rows, joined)], how="vertical")
    ip = pl.col("on_hand")
    if "on_order" in extra:
        ip = ip + pl.col("on_order")
    if "backorders" in extra:
        ip = ip - pl.col("backorders")
    joined = joined.with_columns(
        pl.col("on_hand").fill_null(0.0), *[pl.col(c).fill_null(0.0) for c in extra]
    )
    joined = joined.with_columns(inventory_position=ip)
    # A point without demand orders only what it already owes (backorders), like (R, S) with S 0:
    # an on-hand point the forecast has not, and one it forecasts nothing for, whose (s, Q) of
    # s 0 and one pack ordered a unit with nothing on hand (position 0 <= s): Superstore by
    # product 73 of 1,862 points, Online Retail 873 of 3,676, skus no longer sold.
    idle = pl.col("no_demand") | FORECAST_NOTHING
    periodic = (pl.col("policy_type") == "RS") | idle
    need_periodic = pl.max_horizontal(
        pl.when(idle).then(0.0).otherwise(pl.col("order_up_to")) - pl.col("inventory_position"),
        0.0,
    )
    # (s, Q): enough whole order quantities to lift the position above s.
    n_orders = (
        (pl.col("reorder_point") - pl.col("inventory_position")) / pl.col("order_qty")
    ).floor() + 1
    need_continuous = (
        pl.when(pl.col("inventory_position") <= pl.col("reorder_point"))
        .then(n_orders * pl.col("order_qty"))
        .otherwise(0.0)
    )
    # (R, S) orders whole packs, at least the MOQ, like (s, Q) (bug 4(b): MOQ 500, pack 12
    # ordered 15 units).
    packs = (pl.max_horizontal(need_periodic, pl.col("moq")) / pl.col("pack_size") - 1e-9).ceil()
    rounded = pl.when(need_periodic > 0).then(packs * pl.col("pack_size")).otherwise(0.0)
    joined = joined.with_columns(
        order_now=pl.when(periodic).then(rounded).otherwise(need_continuous)
    )
    owed = pl.col("backorders") if "backorders" in extra else pl.lit(0.0).alias("backorders")
    idle_points = joined.filter(pl.col("no_demand")).select(
        *order, "on_hand", owed, "unit_cost", "order_now", pl.col("_rows").alias("rows")
    )
    return joined.drop(*extra, "_rows"), missing, idle_points.sort(order), merged


def _no_demand_rows(rows: pl.DataFrame, policy: pl.DataFrame) -> pl.DataFrame:
    """Policy rows for on-hand points without demand, in the policy's columns and types."""
    first = policy.row(0, named=True) if policy.height else {}
    same = ("period_days", "review_days")  # the run's, not the point's
    cols = []
    for name, dtype in policy.schema.items():
        if name in rows.columns:
            expr = pl.col(name)
        elif name in NO_DEMAND_ZERO:
            expr = pl.lit(0)
        elif name in same:
            expr = pl.lit(first.get(name))
        elif name == "distribution":
            expr = pl.lit("poisson")  # of mean 0: no demand to replay
        elif name == "no_demand":
            expr = pl.lit(True)
        elif dtype == pl.Boolean:
            expr = pl.lit(False)
        else:
            expr = pl.lit(None)
        cols.append(expr.cast(dtype).alias(name))
    return rows.select(cols)


def level_caps(fc: pl.DataFrame, keys: list[str]) -> pl.DataFrame | None:
    """Per stocking point, the largest upper forecast bound of one period (segments summed).

    The widest ``forecast-hi-XX`` column the forecast carries; None when it has none. A point
    with an empty bound (any segment's, any period's) has none (a null cap), and the policy
    bounds it by its error sd instead (``error_bound``): summed as given, an empty bound counted
    0 and capped a tiny point's level at 0.
    """
    hi = upper_bound_column(fc.columns)
    if hi is None:
        return None
    bound = pl.col(hi)
    return (
        fc.select(*[pl.col(k).cast(pl.String) for k in keys], "ds", bound.cast(pl.Float64))
        .group_by([*keys, "ds"])
        .agg(pl.when(bound.null_count() == 0).then(bound.sum()).alias(hi))
        .group_by(keys)
        .agg(pl.when(bound.null_count() == 0).then(bound.max()).alias("level_cap"))
    )


def error_bound(mean: np.ndarray, sd: np.ndarray, period_days: float) -> np.ndarray:
    """One period's upper demand bound from the backtest error: ``mean + sd * sqrt(n)``.

    Of n one-step errors with standard deviation sd, none lies more than sd * sqrt(n) from
    their mean (Samuelson's inequality): a period of a backtest of n periods sold at most about
    that much more than its forecast. One sale of k units in n periods has sd k / sqrt(n), so the
    bound gives back k. n is taken as BACKTEST_YEARS of periods, the longest backtest assumed:
    weekly, 522 periods, sd x 22.8. Read the other way: the fit's lumps of var/mean units come
    once in var/mean^2 periods (compound Bernoulli), so a lump above this bound comes less often
    than once in n periods, rarer than any backtest of that length could have seen.
    """
    periods = BACKTEST_YEARS * DAYS_PER_YEAR / period_days
    return mean + sd * np.sqrt(periods)


def upper_bound_column(columns: list[str]) -> str | None:
    """The widest ``forecast-hi-XX`` column among ``columns`` (None when there is none)."""
    highs = [c for c in columns if c.startswith("forecast-hi-")]
    if not highs:
        return None

    def width(c: str) -> float:
        try:
            return float(c.removeprefix("forecast-hi-"))
        except ValueError:
            return -1.0

    return max(highs, key=width)
