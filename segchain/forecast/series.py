"""Demand series: order lines joined to segments, aggregated per key and period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import polars as pl

from segchain.cleansing import LINE_ID, LINE_QUANTITY, cleanse, described, line_count
from segchain.errors import DataError, UsageError, about, examples
from segchain.forecast.options import FREQS, KEY_CANDIDATES, KEY_SEP, key_part
from segchain.formatting import count, plural
from segchain.schema import (
    FLAG_NEGATIVE_PRICE,
    FLAG_NON_PRODUCT,
    ORDERS_OPTION,
    SEGMENTS_ARGUMENT,
    SEGMENTS_HINT,
    check_customer_ids,
    check_one_row_per_customer,
    check_segment_cells,
    demand_line,
    lost_zeros_hint,
    product_line,
    require_columns,
    require_rows,
    written_otherwise,
)
from segchain.tableio import collect


@dataclass
class Series:
    """Per-period demand per series plus its key columns and what was left out on the way."""

    y: pl.DataFrame  # unique_id, ds, y
    keys: pl.DataFrame  # unique_id + by columns
    netted: int
    excluded: dict[str, int]
    warnings: list[str]
    first_day: dt.date | None = None  # the orders' first day, every line's (``Plan.first_day``)


# What ``build_series`` and ``history_before`` require of the orders.
REQUIRED = ("order_date", "customer_id", "quantity")
# The most days an --as-of may lie after the orders' last line: ten years, --horizon's bound.
# Beyond it the date is a placeholder or a typo (2999-01-01), and every series was extended by
# its periods without demand: 50,000 weeks to 2999, a run still going after 10 minutes.
AS_OF_MAX_GAP_DAYS = 3660


def order_columns(names: Sequence[str], by: Sequence[str], *, routed: bool = False) -> list[str]:
    """The columns of the orders (``names``, in their order) that forecast reads: the required
    ones, ``flag`` and ``sku`` (cleansing), the order columns of ``by`` and the routed lines'
    own (``LINE_ID``, ``LINE_QUANTITY``). Every name when a required or ``by`` column is
    missing: forecast refuses the orders, and its message lists the columns they hold.
    ``routed``: the lines' ``site`` is replaced by the assignments' (``route_orders``)."""
    present = set(names)
    keys = {c for c in by if c != "segment" and not (routed and c == "site")}
    if not (set(REQUIRED) | keys) <= present:
        return list(names)
    wanted = {*REQUIRED, *keys, "flag", "sku", LINE_ID, LINE_QUANTITY}
    return [c for c in names if c in wanted]


def build_series(
    orders: pl.DataFrame | pl.LazyFrame,
    segments: pl.DataFrame | pl.LazyFrame,
    *,
    freq: str = "W",
    by: Sequence[str] = ("segment", "sku"),
    outliers: str = "keep",
    as_of: dt.date | None = None,
) -> Series:
    """Join orders to segments and aggregate net quantity per series and period.

    Weeks start on Monday. Each series runs from its first period with demand to the last
    period of the data, with zeros in between; a segment's series starts with its sku's (the
    series of the same key without the segment), since a segment's first purchase of a sku
    is an event of that sku's demand, not the start of it. Negative net demand in a period
    (more returns than sales) counts as zero; the number of such series-periods is ``netted``.
    ``outliers`` (``keep``, ``cap``, ``drop``) cleanses the lines first (see ``cleansing``).
    With ``as_of`` (the orders already cut before it by ``history_before``), the data's last
    period is the one holding the day before ``as_of``, whether or not a line falls in it.

    Raises:
        MissingColumnsError: a required column is absent.
        DataError: no customer id in common, duplicate customers in segments, too little history.
    """
    orders = collect(orders, name=ORDERS_OPTION)
    segments = collect(segments, name="segments")
    by = list(by)
    require_columns(orders.columns, ["order_date", "customer_id", "quantity"], source=ORDERS_OPTION)
    first_day = cast("dt.date | None", orders.get_column("order_date").cast(pl.Date).min())
    require_columns(
        segments.columns, ["customer_id", "segment"], source="segments", hint=SEGMENTS_HINT
    )
    require_rows(segments, SEGMENTS_ARGUMENT, word="segments", hint=SEGMENTS_HINT)
    available = set(orders.columns) | {"segment"}
    missing_by = [c for c in by if c not in available]
    if missing_by:
        raise UsageError(
            f"--by: column{'s' if len(missing_by) > 1 else ''} {', '.join(missing_by)} "
            f"not in {{{ORDERS_OPTION}}} or {{{SEGMENTS_ARGUMENT}}}; available: "
            f"{', '.join(sorted(c for c in available if c in KEY_CANDIDATES))}",
            tables={ORDERS_OPTION: "the orders", SEGMENTS_ARGUMENT: "segments"},
        )
    warnings: list[str] = []
    excluded: dict[str, int] = {}

    # A row without its customer_id was dropped here without a word; one without its segment
    # (the cell left blank) was left out as a customer 'without a segment in SEGMENTS', put down
    # to another Unicode form of its id. Both refused, as costs refuses them, in one message.
    check_segment_cells(segments, source="segments")
    check_customer_ids(segments, source="segments")
    seg = segments.select(pl.col("customer_id").cast(pl.Utf8), pl.col("segment").cast(pl.Utf8))
    check_one_row_per_customer(segments, source="segments")
    o_cols = ["order_date", "customer_id", "quantity"] + [
        c for c in by if c != "segment" and c not in ("customer_id",)
    ]
    if "flag" in orders.columns:
        o_cols.append("flag")
    o_cols += [c for c in (LINE_ID, LINE_QUANTITY) if c in orders.columns]
    if "sku" in orders.columns:
        o_cols.append("sku")
    # Lazy from here: each query reduces the lines (a count, the series-periods), where every
    # eager step copied them (10 M lines: 2 GB for 0.2 GB of columns).
    o = (
        orders.lazy()
        .select(list(dict.fromkeys(o_cols)))
        .with_columns(pl.col("customer_id").cast(pl.Utf8), pl.col("quantity").cast(pl.Float64))
    )
    if "flag" in o_cols:
        non_product = line_count(o.filter(~product_line()))
        if non_product:
            excluded[FLAG_NON_PRODUCT] = non_product
            warnings.append(
                about(
                    ORDERS_OPTION,
                    f"{plural(non_product, 'non-product order line')} (postage, fees) left out",
                )
            )
        credits = line_count(o.filter(product_line() & ~demand_line()))
        if credits:
            excluded[FLAG_NEGATIVE_PRICE] = credits
            warnings.append(
                about(
                    ORDERS_OPTION,
                    f"{plural(credits, 'price-correction order line')} (negative price: "
                    "credits, no goods) left out",
                )
            )
        o = o.filter(demand_line())
    o, cleansed = cleanse(o, outliers=outliers)
    excluded.update(cleansed)
    hints = {"zero_price": " (--outliers keep keeps them)"}
    for key, phrase in described(cleansed):
        hint = " (--outliers keep|cap|drop)" if key.startswith("outlier_") else hints.get(key, "")
        warnings.append(about(ORDERS_OPTION, phrase + hint))

    ids = o.select(pl.col("customer_id").unique()).collect()
    if ids.height == 0:
        raise DataError(
            f"{ORDERS_OPTION}: no product line to forecast"
            + (f": every line was left out ({_left_out(excluded)})" if excluded else ""),
            hint="forecast needs order lines of products"
            + ("; --outliers keep keeps zero-price lines" if excluded.get("zero_price") else ""),
        )
    common = ids.join(seg, on="customer_id", how="inner")
    if common.height == 0:
        o_ids = ids.get_column("customer_id").drop_nulls().unique().sort()
        s_ids = seg.get_column("customer_id").unique().sort()
        raise DataError(
            f"{{{SEGMENTS_ARGUMENT}}} and {{{ORDERS_OPTION}}} have no customer_id in common: "
            f"orders have {examples(o_ids)}; segments have {examples(s_ids)}",
            hint=lost_zeros_hint(o_ids, s_ids, column="customer_id")
            or "check that both come from the same export and that the ids are mapped the "
            "same way (--map customer_id=...)",
            tables={SEGMENTS_ARGUMENT: "segments", ORDERS_OPTION: "orders"},
        )
    # Row order fixed (and so the order of float sums): reruns must write the same bytes.
    joined = o.join(seg.lazy(), on="customer_id", how="left", maintain_order="left")
    no_segment = joined.filter(pl.col("segment").is_null())
    lost = line_count(no_segment)
    if lost:
        missing = (
            no_segment.select(pl.col("customer_id").drop_nulls().unique().sort())
            .collect()
            .get_column("customer_id")
        )
        excluded["no_segment"] = lost
        # Lines of the orders, left out for want of a row in the other table: both named.
        warnings.append(
            about(
                ORDERS_OPTION,
                f"{plural(excluded['no_segment'], 'order line')} of "
                f"{plural(missing.len(), 'customer')} "
                f"without a segment in {{{SEGMENTS_ARGUMENT}}} left out, e.g. {examples(missing)}"
                + (
                    written_otherwise(missing, seg.get_column("customer_id"), other="the segments")
                    or ""
                ),
                {SEGMENTS_ARGUMENT: "the segments"},
            )
        )
    joined = joined.filter(pl.col("segment").is_not_null())
    blank = line_count(joined.filter(pl.any_horizontal([pl.col(c).is_null() for c in by])))
    if blank:
        excluded["blank_key"] = blank
        warnings.append(
            about(
                ORDERS_OPTION,
                f"{plural(excluded['blank_key'], 'order line')} with a blank {'/'.join(by)} "
                "left out",
            )
        )
        joined = joined.filter(pl.all_horizontal([pl.col(c).is_not_null() for c in by]))

    interval = FREQS[freq][0]
    joined = joined.with_columns(
        pl.col("order_date").cast(pl.Date).dt.truncate(interval).alias("ds"),
        *[pl.col(c).cast(pl.Utf8) for c in by],
    )
    # Twelve significant digits: a sum of fractional quantities (0.3 kg) differs in its last bits
    # with the order of the lines, and the global model's trees turn such a bit into another
    # split (a shuffled export moved 13,247 of the demo's 23,504 forecasts, by up to 2.3 units).
    # Rounded, the sums are the same in any order; quantities hold far fewer digits. With each
    # series-period's rows and last day: the lines per period and the orders' end, read once.
    agg = (
        joined.group_by([*by, "ds"], maintain_order=True)
        .agg(
            pl.col("quantity").sum().round_sig_figs(12).alias("y"),
            pl.len().alias("_rows"),
            pl.col("order_date").cast(pl.Date).max().alias("_end"),
        )
        .collect()
    )
    if agg.height == 0:
        raise DataError(
            f"{{{ORDERS_OPTION}}}: no order line left to forecast after joining to "
            f"{{{SEGMENTS_ARGUMENT}}}",
            tables={ORDERS_OPTION: ORDERS_OPTION, SEGMENTS_ARGUMENT: "segments"},
        )
    per_period = agg.group_by("ds").agg(pl.col("_rows").sum().alias("len")).sort("ds")
    end = cast(dt.date, agg.get_column("_end").max())
    agg = agg.drop("_rows", "_end")
    netted = agg.filter(pl.col("y") < 0).height
    if netted:
        warnings.append(
            about(
                ORDERS_OPTION,
                f"{plural(netted, 'series-period')} had more returns than sales; counted as "
                "zero demand",
            )
        )
    parent = [c for c in by if c != "segment"]
    # The parent's (the sku's) net demand per period, its segments' summed before each is
    # clipped: where it starts, the parent's own series (--by sku) starts (below). A sum of
    # fractional segment sums that nets to 0 may leave a bit (0.1 + 0.2 - 0.3): no sale.
    parent_start = (
        _first_sales(
            agg.group_by(*parent, "ds").agg(
                pl.when(pl.col("y").sum() > NET_NOISE * pl.col("y").abs().sum())
                .then(pl.col("y").sum())
                .otherwise(0.0)
            ),
            parent,
        )
        if "segment" in by and parent
        else None
    )
    agg = agg.with_columns(pl.col("y").clip(lower_bound=0.0))
    last = cast(dt.date, agg.get_column("ds").max())
    if as_of is not None:
        # As of a day, the history runs to the day before it: the periods after the last line
        # are periods without demand, as a shop's quiet weeks are.
        last_line, end_line = last, end
        end = as_of - dt.timedelta(days=1)
        last = _period_of(end, freq)
        warnings += _quiet_until_as_of(end_line, last_line, last, as_of, freq)
    first_all = cast(dt.date, agg.get_column("ds").min())
    warnings += _unfinished_last_period(per_period, last, end, freq, as_of=as_of)
    n_periods = pl.date_range(first_all, last, interval, eager=True).len()
    if n_periods < 2:
        raise DataError(
            f"{ORDERS_OPTION}: all demand falls in one period ({first_all}) at --freq {freq}; "
            "forecasting needs at least 2 periods of history",
            hint="use a finer --freq (e.g. --freq D) or export a longer history",
        )
    keys = (
        agg.group_by(by)
        .agg(pl.col("ds").filter(pl.col("y") > 0).min().alias("start"), pl.col("ds").min())
        .with_columns(
            pl.concat_str([key_part(c) for c in by], separator=KEY_SEP).alias("unique_id")
        )
        .sort("unique_id")
    )
    if parent_start is not None:
        # A segment's series of a sku starts where the sku's demand starts, not at the
        # segment's first sale: a series that starts with a sale by construction has its
        # mean, and every model's level, inflated (Superstore by Product ID, RFM segments:
        # 489 segment x sku series averaged one recent sale each and summed to 1.2x the
        # whole held-out demand). The sku's first sale, its net demand above 0 as its own
        # series reads it: the earliest of its segments' starts took a segment whose lines of
        # the sku were returns only (goods bought before the export began) at its first
        # period, and started every segment's series of the sku weeks before the sku ever
        # sold (Online Retail as of 2011-10-10: 56 series of 11 skus, up to 18 weeks of
        # zeros); and a segment's sale that another's return netted in the same week started
        # them before the sku's own series (2 skus there, one backtest window more).
        keys = keys.drop("start").join(parent_start, on=parent, how="left", maintain_order="left")
    # A series with returns only (of a sku that never sold) starts at its first period, and
    # stays all zero.
    keys = keys.with_columns(pl.coalesce("start", "ds").alias("start")).drop("ds")
    # The grid of every series-period carries the series' id only: with the key columns (four
    # strings when routed) and joined on them, it was 2.2 GB at 60,301 routed series x 156 weeks.
    # The periods with demand take the id instead, from the keys.
    sold = agg.join(keys.select("unique_id", *by), on=by).select("unique_id", "ds", "y")
    grid = keys.select(
        "unique_id", pl.date_ranges("start", pl.lit(last), interval=interval).alias("ds")
    ).explode("ds")
    y = (
        grid.join(sold, on=["unique_id", "ds"], how="left")
        .select("unique_id", "ds", pl.col("y").fill_null(0.0))
        .sort("unique_id", "ds")
    )
    return Series(
        y=y,
        keys=keys.select("unique_id", *by),
        netted=netted,
        excluded=excluded,
        warnings=warnings,
        first_day=first_day,
    )


NET_NOISE = 1e-9
"""A net sum of segments' demand under this share of their sizes is 0 (float rounding)."""


def _first_sales(net: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Per key of ``by`` its first period with net demand above 0 (``start``): where its series
    starts."""
    return net.filter(pl.col("y") > 0).group_by(by).agg(pl.col("ds").min().alias("start"))


def _left_out(excluded: dict[str, int]) -> str:
    """``excluded`` counts in words, for a message."""
    words = {
        FLAG_NON_PRODUCT: ("non-product line", " (postage, fees)"),
        "zero_price": ("zero-price line", ""),
        "zero_quantity": ("zero-quantity line", ""),
        FLAG_NEGATIVE_PRICE: ("price-correction line", " (negative price)"),
        "outlier_dropped": ("oversized line", ""),
    }
    return ", ".join(
        plural(n, words[k][0]) + words[k][1] if k in words else f"{count(n)} {k}"
        for k, n in sorted(excluded.items())
        if n
    )


PERIODS = {"W": ("week", "weeks"), "M": ("month", "months")}


def history_before(
    orders: pl.DataFrame | pl.LazyFrame, as_of: dt.date, freq: str
) -> tuple[pl.DataFrame, int, list[str]]:
    """The order lines before ``as_of``, how many were on or after it, and the warning saying
    so: forecasting as of a day reads only what was known that day (``forecast --as-of``).

    Raises:
        DataError: no order line before ``as_of``.
    """
    orders = collect(orders, name=ORDERS_OPTION)
    require_columns(orders.columns, ["order_date"], source=ORDERS_OPTION)
    date = pl.col("order_date").cast(pl.Date)
    # A line without a date is not after as_of: it stays, for build_series to judge as before.
    after = orders.filter(date >= as_of).height
    if after == 0:
        return orders, 0, []
    kept = orders.filter(date.is_null() | (date < as_of))
    span = orders.select(date.min().alias("first"), date.max().alias("last")).row(0)
    if kept.filter(date.is_not_null()).height == 0:
        raise DataError(
            f"{ORDERS_OPTION}: no order line before --as-of {as_of}: the orders run from "
            f"{span[0]} to {span[1]}",
            hint=f"pick an --as-of after {span[0]}",
        )
    start = _period_of(as_of, freq)
    if start < as_of:  # the days of as_of's period before it are history: the next one
        start = cast(dt.date, pl.Series([start]).dt.offset_by(FREQS[freq][0]).item())
    return (
        kept,
        after,
        [
            about(
                ORDERS_OPTION,
                f"{plural(after, 'order line')} on or after --as-of {as_of} left out (the "
                f"orders run to {span[1]}); the forecast starts on {start}",
            )
        ],
    )


def _period_of(day: dt.date, freq: str) -> dt.date:
    """The first day of the period (``freq``) holding ``day``."""
    return cast(dt.date, pl.Series([day]).dt.truncate(FREQS[freq][0]).item())


def _quiet_until_as_of(
    end: dt.date, last_line: dt.date, last: dt.date, as_of: dt.date, freq: str
) -> list[str]:
    """A warning when whole periods pass between the orders' last line and ``as_of``: every
    series reads them as periods without demand (right if the business was closed, not if
    the export stops early). ``end``: the orders' last day; ``last_line``: its period.

    Raises:
        DataError: ``as_of`` more than AS_OF_MAX_GAP_DAYS after ``end``.
    """
    if (as_of - end).days > AS_OF_MAX_GAP_DAYS:
        raise DataError(
            f"{ORDERS_OPTION}: --as-of {as_of} is {(as_of - end).days:,} days after the "
            f"orders' last line ({end}), more than ten years: every series would read the "
            "periods between as periods without demand",
            hint="leave --as-of out to forecast from the orders' end, or check the date",
        )
    gap = pl.date_range(last_line, last, FREQS[freq][0], eager=True).len() - 1
    if gap < 1:
        return []
    word, words = PERIODS.get(freq, ("day", "days"))
    return [
        about(
            ORDERS_OPTION,
            f"the orders end on {end}, before --as-of {as_of}: the last "
            f"{plural(gap, word, words)} before it hold no order line and count as no demand in "
            "every series; export the orders up to the day before --as-of, or give an earlier "
            "--as-of",
        )
    ]


def _unfinished_last_period(
    per_period: pl.DataFrame,
    last: dt.date,
    end: dt.date,
    freq: str,
    *,
    as_of: dt.date | None = None,
) -> list[str]:
    """A warning when the orders end before half of their last period has passed: that period
    counts as a whole one of demand in every series, and the models and moving averages read
    the few days' sales as a collapse. The Complete Journey ends on Monday 2018-01-01 at 04:01
    (525 product lines against about 28,000 a week): forecast 27,756 units a week against
    36,163 when cut at the Sunday before (-23 %). Said, not changed: ``--as-of`` at the
    period's first day cuts it (``end`` is the last day known: the last line's, or the day
    before ``as_of``; ``per_period``: the lines per period, ``ds, len``)."""
    if freq not in PERIODS or not _unfinished(last, end, freq):
        return []
    word, words = PERIODS[freq]
    period_end = _period_end(last, freq)
    days, covered = (period_end - last).days + 1, (end - last).days + 1
    first = cast(dt.date, per_period.get_column("ds").min())
    in_last, before, per = _lines_in_and_before(per_period, first, last, freq)
    mean = round(per)
    if not in_last and not mean:
        # No line in it nor in the periods before (an --as-of after the orders end, which
        # _quiet_until_as_of says): nothing collapses there.
        return []
    typical = (
        f" against {count(mean)} a {word} over the {plural(before, word, words)} before"
        if before
        else ""
    )
    ends = f"--as-of {as_of} ends the history on {end}" if as_of else f"the orders end on {end}"
    fix = (
        f"give --as-of {last} (its first day) to leave out its lines, or --as-of "
        f"{period_end + dt.timedelta(days=1)} with the orders up to {period_end}"
    )
    return [
        about(
            ORDERS_OPTION,
            f"{ends}, day {covered} of {days} of the {word} of {last}, and that unfinished "
            f"{word} counts as a whole {word} of demand, the last the models read "
            f"({plural(in_last, 'order line')} in it{typical}); {fix}",
        )
    ]


def _lines_in_and_before(
    per_period: pl.DataFrame, first: dt.date, start: dt.date, freq: str
) -> tuple[int, int, float]:
    """The lines of the period starting on ``start``, how many calendar periods just before it
    are its comparison (the window of ``FREQS``, from the data's ``first``), and their mean
    lines a period (``per_period``: ``ds, len``). Periods without a line count too: counting
    only those that held lines, an --as-of weeks after the orders end said '0 order lines in it
    against 284 a week over the 8 weeks before' of weeks that held none."""
    periods = pl.date_range(first, start, FREQS[freq][0], eager=True)
    shown = periods.filter(periods < start).tail(FREQS[freq][2])
    in_last = int(per_period.filter(pl.col("ds") == start).get_column("len").sum())
    lines = per_period.filter(pl.col("ds").is_in(shown.implode())).get_column("len").sum()
    return in_last, shown.len(), float(lines) / max(shown.len(), 1)


def _period_end(start: dt.date, freq: str) -> dt.date:
    """The last day of the period (``freq``) starting on ``start``."""
    return cast(dt.date, pl.Series([start]).dt.offset_by(FREQS[freq][0]).item()) - dt.timedelta(1)


def _unfinished(start: dt.date, end: dt.date, freq: str) -> bool:
    """Whether a history ending on ``end`` ends before half of its last period (weeks, months;
    starting on ``start``) has passed: fewer days of it known than not."""
    days = (_period_end(start, freq) - start).days + 1
    return freq in PERIODS and 2 * ((end - start).days + 1) < days


# The ``excluded`` key of the lines of an unfinished last period (``leave_out_unfinished``).
UNFINISHED_PERIOD = "unfinished_period"


@dataclass(frozen=True)
class Unfinished:
    """The orders without the lines of their unfinished last period (``leave_out_unfinished``)."""

    kept: pl.DataFrame
    left_out: int
    as_of: dt.date  # the unfinished period's first day: the history ends the day before it
    warning: str


def leave_out_unfinished(
    orders: pl.DataFrame | pl.LazyFrame, freq: str, by: Sequence[str] = ()
) -> Unfinished | None:
    """The orders as of their last period's first day when they end before half of it has
    passed (an export run on a Monday) and it holds fewer than half the lines of the periods
    before it (mean of the last ``FREQS`` window's), else None: forecast's default without
    --as-of.

    Counted whole, the few days' sales read as a collapse: The Complete Journey ends on Monday
    2018-01-01 at 04:01 (525 product lines against about 28,000 a week), and its category
    forecast was 23 % low, a sku selling 20 a week forecast 9.8 falling to 0. Left out, the
    history ends with the period before and the forecast starts with the unfinished one, as
    ``--as-of`` at its first day does. None too when nothing, or one period only, would be
    left before it: the lines are kept, and ``_unfinished_last_period`` says so. With sku in
    ``by`` (the series' keys), the warning names the skus sold only in the period left out:
    they have no series then (``_sold_only_from``).
    """
    if freq not in PERIODS:
        return None
    lazy = orders.lazy()
    if "order_date" not in lazy.collect_schema().names():
        return None  # build_series refuses the orders, naming the column
    date = pl.col("order_date").cast(pl.Date)
    first, end = lazy.select(date.min(), date.max().alias("end")).collect().row(0)
    if end is None:
        return None
    start = _period_of(end, freq)
    if not _unfinished(start, end, freq) or _period_of(first, freq) >= _period_before(start, freq):
        return None
    counts = (
        lazy.group_by(date.dt.truncate(FREQS[freq][0]).alias("ds"))
        .agg(pl.len().alias("len"))
        .collect()
    )
    in_last, _, typical = _lines_in_and_before(counts, _period_of(first, freq), start, freq)
    if 2 * in_last >= typical:
        # As many lines as a whole period holds: a business that ships on Tuesdays ends its
        # export on one, and its last week is whole (every line of the tests' weekly exports
        # fell on a Tuesday). Only a period short of its lines is unfinished. Online Retail cut
        # on Tuesday 2011-10-11 (4,608 lines against 8,707 a week) is kept so: left out, its
        # next 7 weeks scored 0.989 of the 8-week average's WAPE against 0.942 kept (the days
        # to come, its Wednesdays to Sundays, had held 71 % of a week's lines: not the rule).
        return None
    # A line without a date is not in the period: it stays, for build_series to judge.
    kept = collect(lazy.filter(date.is_null() | (date < start)), name=ORDERS_OPTION)
    left_out = line_count(lazy.filter(date >= start))
    word = PERIODS[freq][0]
    days = (_period_end(start, freq) - start).days + 1
    launched = _sold_only_from(lazy, start) if "sku" in by else []
    unforecast = (
        f" ({plural(len(launched), 'sku')} sold only in it, so not forecast: {examples(launched)})"
        if launched
        else ""
    )
    warning = about(
        ORDERS_OPTION,
        f"the orders end on {end}, day {(end - start).days + 1} of {days} of the {word} of "
        f"{start}: that unfinished {word}'s {plural(left_out, 'order line')} left out"
        f"{unforecast}, the "
        f"history ends on {start - dt.timedelta(days=1)} and the forecast starts with the "
        f"{word} of {start}; give --as-of {end + dt.timedelta(days=1)} (the day after the last "
        f"line) to count them as a whole {word} of demand",
    )
    return Unfinished(kept=kept, left_out=left_out, as_of=start, warning=warning)


def _sold_only_from(orders: pl.LazyFrame, start: dt.date) -> list[str]:
    """The skus whose every demand line is on or after ``start``, sorted: left out with the
    unfinished period, they have no series, so no forecast and no stocking point. UCI Online
    Retail cut at Monday 2011-12-05 lost 6 that way, counted among the day's lines unnamed
    (review of session 71)."""
    names = orders.collect_schema().names()
    if "sku" not in names:
        return []
    demand = orders.filter(demand_line()) if "flag" in names else orders
    first = demand.group_by("sku").agg(pl.col("order_date").cast(pl.Date).min().alias("first"))
    launched = first.filter(pl.col("first") >= start).select(pl.col("sku").cast(pl.String))
    return launched.sort("sku").collect().get_column("sku").to_list()


def _period_before(start: dt.date, freq: str) -> dt.date:
    """The first day of the period before the one starting on ``start``."""
    return _period_of(start - dt.timedelta(days=1), freq)
