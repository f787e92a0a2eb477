"""Demand forecast: the largest series as a fan chart with their history, demand by segment."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import polars as pl

from segchain.errors import SegchainError
from segchain.formatting import plural
from segchain.report import charts as ch
from segchain.report.model import (
    INT,
    PCT,
    UNITS,
    Block,
    Chart,
    Headline,
    Section,
    TableBlock,
    finite,
    format_number,
)
from segchain.report.sections.common import (
    Colours,
    Meta,
    Tables,
    count,
    distinct_filled,
    filled,
    has,
    known_sum,
    lacks,
    marked,
    noted,
    num,
    order_frame,
    params_of,
    pct,
    segment_order,
    sum_note,
    total,
    unfilled_note,
    unknown,
    unknown_note,
    with_unknowns,
)
from segchain.routing import route_orders
from segchain.schema import (
    DEFAULT_OUTLIERS,
    FLAG_ZERO_PRICE,
    META_INPUTS,
    PERIOD_DAYS,
    demand_line,
    freq_values,
)

TOP_SERIES = 3
# A series the orders (and segments, assignments) given hold no line of, in the chart's caption.
NO_HISTORY = ": no order line in the tables given"

_LO = re.compile(r"^(.+)-lo-(\d+(?:\.\d+)?)$")


# ---- data


def interval_levels(columns: Sequence[str], value: str = "forecast") -> list[str]:
    """Interval levels with both ``<value>-lo-L`` and ``<value>-hi-L`` columns, widest first."""
    levels = []
    for c in columns:
        m = _LO.match(c)
        if m and m.group(1) == value and f"{value}-hi-{m.group(2)}" in columns:
            levels.append(m.group(2))
    return sorted(levels, key=float, reverse=True)


def period_interval(ds: pl.Series, freq: str | None = None) -> tuple[str, str]:
    """The polars interval and a name of the forecast's period, from the spacing of ``ds``; of
    a forecast of one period, from its --freq (``freq``, ``forecast_freq``), else a week."""
    days = ds.drop_nulls().unique().sort().cast(pl.Date).diff().dt.total_days().drop_nulls()
    # One period has no spacing: a monthly forecast of one month was named a week, its history
    # drawn in weeks beside it.
    one_period = PERIOD_DAYS.get(str(freq), 7.0)
    step = float(days.median()) if days.len() else one_period  # type: ignore[arg-type]
    if step <= 1:
        return "1d", "day"
    if step <= 8:
        return "1w", "week"
    if step <= 32:
        return "1mo", "month"
    return "1q", "quarter"


def forecast_freq(fc: pl.DataFrame, params: Mapping[str, Any]) -> str | None:
    """The forecast's --freq: its ``freq`` column's (one of D, W, M on every row, as forecast
    writes it, in a CSV too), else its metadata's."""
    said = freq_values(fc)
    if len(said) == 1 and said[0] in PERIOD_DAYS:
        return str(said[0])
    recorded = params.get("freq")
    return str(recorded) if recorded else None


def routed(meta: Meta, tables: Tables | None = None) -> bool:
    """Whether the forecast's series are per site the network assigns (``forecast
    --assignments``), not per the orders' own ``site``, where a line shipped from in the past.

    A forecast without its metadata (a CSV, or a Parquet another tool rewrote) says it by its
    sites where ``tables`` are given: routed when the assignments name every site of it and
    the orders' own sites do not (the report of one run's CSV tables looked for a site's
    history among the lines shipped from it, found none, and called the tables of different
    runs)."""
    inputs = meta.get("forecast", {}).get(META_INPUTS)
    if isinstance(inputs, Mapping) or tables is None:
        return isinstance(inputs, Mapping) and "assignments" in inputs
    fc, assignments, orders = (tables.get(t) for t in ("forecast", "assignments", "orders"))
    if not has(fc, "site") or not has(assignments, "site_id"):
        return False
    assert fc is not None and assignments is not None

    def sites(df: pl.DataFrame, column: str) -> set[str]:
        return set(df.get_column(column).cast(pl.String).drop_nulls().unique().to_list())

    ours = sites(fc, "site")
    shipped = sites(orders, "site") if has(orders, "site") and orders is not None else set()
    return bool(ours) and ours <= sites(assignments, "site_id") and not ours <= shipped


def _routed(lines: pl.DataFrame, tables: Tables) -> pl.DataFrame | None:
    """The lines as forecast routed them: each customer's lines at the site(s) the assignments
    give it, quantity x share; None without assignments that can route them."""
    assignments = tables.get("assignments")
    if not has(assignments, "customer_id", "site_id") or "customer_id" not in lines.columns:
        return None
    assert assignments is not None
    try:
        return route_orders(lines, assignments).orders
    except SegchainError:  # no line routed, or assignments the stage itself would refuse
        return None


def _routed_to(lines: pl.DataFrame, tables: Tables, site: Any) -> pl.DataFrame | None:
    """The lines' demand at ``site`` as forecast routed it (see ``_routed``)."""
    out = _routed(lines, tables)
    return None if out is None else out.filter(pl.col("site") == str(site))


def _demand_lines(tables: Tables) -> pl.LazyFrame | None:
    """The orders' demand lines (not postage, fees or price corrections), lazily; None when
    the inputs hold no orders with dates and quantities."""
    orders = tables.get("orders")
    if not has(orders, "order_date", "quantity"):
        return None
    assert orders is not None
    lf = orders.lazy()
    return lf.filter(demand_line()) if "flag" in orders.columns else lf


def series_lines(
    tables: Tables, keys: Mapping[str, Any], *, routed: bool = False
) -> pl.DataFrame | None:
    """The demand lines of one series, from the orders (and segments, for a segment key; and
    the assignments for the site of a ``routed`` forecast); None when the inputs cannot give
    them."""
    lf = _demand_lines(tables) if keys else None
    if lf is None:
        return None
    by_site = routed and "site" in keys
    picked = _of_series(lf, tables, keys, but=("site",) if by_site else ())
    if picked is None:
        return None
    lines = picked.with_columns(pl.col("order_date").cast(pl.Date)).collect()
    return _routed_to(lines, tables, keys["site"]) if by_site else lines


def _of_series(
    lf: pl.LazyFrame, tables: Tables, keys: Mapping[str, Any], *, but: Sequence[str] = ()
) -> pl.LazyFrame | None:
    """The order lines ``lf`` of the series ``keys`` (the segment's from the segments table
    when the orders have none), the keys in ``but`` not looked at; None when the inputs cannot
    tell them."""
    orders_columns = lf.collect_schema().names()
    if "segment" in keys and "segment" not in orders_columns:
        seg = tables.get("segments")
        if not has(seg, "customer_id", "segment") or "customer_id" not in orders_columns:
            return None
        assert seg is not None
        lf = lf.join(
            seg.lazy().select(pl.col("customer_id").cast(pl.String), "segment"),
            on="customer_id",
            how="inner",
        )
    cols = lf.collect_schema().names()
    for key, value in keys.items():
        if key in but:
            continue
        if key not in cols:
            return None
        lf = lf.filter(pl.col(key).cast(pl.String) == str(value))
    return lf


# How forecast cleanses the order lines before it builds its series (``--outliers``), in words.
CLEANSING = {
    "cap": "order lines far beyond their sku's usual line size capped at that size",
    "drop": "order lines far beyond their sku's usual line size left out",
}
LINE = "_segchain_line"  # an order line's number, to tell which lines the cleansing changed


@dataclass(frozen=True)
class Cleansed:
    """One series' demand lines as the forecast read them (``--outliers``, the forecast's
    ``cleanse``), and what that changed: lines capped, outsized lines and zero-price lines left
    out (those whose quantity is not 0: the others change no history)."""

    lines: pl.DataFrame
    capped: pl.DataFrame  # the dates of the lines changed, per kind
    dropped: pl.DataFrame
    zero_price: pl.DataFrame

    def changes(self, since: dt.date) -> str:
        """The lines changed from ``since`` on, in words ('1 order line capped, 2 zero-price
        order lines left out'), else ''."""

        def n(df: pl.DataFrame) -> int:
            return df.filter(pl.col("order_date") >= since).height

        capped, dropped, zero = n(self.capped), n(self.dropped), n(self.zero_price)
        return ", ".join(
            part
            for part in (
                f"{plural(capped, 'order line')} capped" if capped else "",
                f"{plural(dropped, 'outsized order line')} left out" if dropped else "",
                f"{plural(zero, 'zero-price order line')} left out" if zero else "",
            )
            if part
        )


def cleansed_lines(
    tables: Tables, keys: Mapping[str, Any], outliers: str, *, routed: bool = False
) -> Cleansed | None:
    """The demand lines of one series as the forecast read them: the orders' demand lines
    routed to the network's sites first for a ``routed`` forecast (as forecast routes them),
    cleansed by the forecast's own rules (``cleansing.cleanse``, ``outliers``:
    ``cap`` or ``drop``; the fences are the sku's, over every customer's lines), then the
    series' (``series_lines``); None when the inputs cannot give them."""
    from segchain.cleansing import cleanse

    lf = _demand_lines(tables) if keys and outliers in CLEANSING else None
    if lf is None:
        return None
    by_site = routed and "site" in keys
    if "sku" in keys and "sku" in lf.collect_schema().names():
        # The fences are per sku: the sku's lines alone give the same.
        lf = lf.filter(pl.col("sku").cast(pl.String) == str(keys["sku"]))
    lines = (
        lf.with_columns(pl.col("order_date").cast(pl.Date), quantity=num("quantity"))
        .collect()
        .with_row_index(LINE)
    )
    if by_site:
        at_sites = _routed(lines, tables)
        if at_sites is None:
            return None
        lines = at_sites
    kept, _ = cleanse(lines, outliers=outliers)
    before, after = (_of_series(x.lazy(), tables, keys) for x in (lines, kept))
    if before is None or after is None:
        return None
    ours, theirs = before.collect(), after.collect()
    both = ours.join(theirs.select(LINE, pl.col("quantity").alias("_read")), on=LINE, how="left")
    moved = pl.col("quantity").fill_null(0.0) != 0
    gone = both.filter(pl.col("_read").is_null() & pl.col("quantity").is_not_null() & moved)
    zero = pl.col("flag") == FLAG_ZERO_PRICE if "flag" in both.columns else pl.lit(False)
    return Cleansed(
        lines=theirs.drop(LINE),
        capped=both.filter(pl.col("_read") != pl.col("quantity")).select("order_date"),
        dropped=gone.filter(~zero.fill_null(False)).select("order_date"),
        zero_price=gone.filter(zero.fill_null(False)).select("order_date"),
    )


def _same(a: tuple[list[dt.date], list[float]], b: tuple[list[dt.date], list[float]]) -> bool:
    """Two histories of the same periods and quantities (unknown ones, NaN, alike)."""
    return a[0] == b[0] and all(
        x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a[1], b[1], strict=True)
    )


def _per_period(lines: pl.DataFrame, interval: str) -> pl.DataFrame:
    """Per period with a dated line: the known quantities summed (null where none is known)."""
    return (
        lines.group_by(pl.col("order_date").dt.truncate(interval).alias("ds"))
        .agg(known_sum(num("quantity")).alias("y"))
        .drop_nulls("ds")
        .sort("ds")
    )


def history(
    tables: Tables,
    keys: Mapping[str, Any],
    interval: str,
    *,
    routed: bool = False,
    end: dt.date | None = None,
) -> tuple[list[dt.date], list[float]] | None:
    """Past demand of one series (summed quantity per period, returns netted, floored at 0; 0 in
    a period without a line, NaN, drawn as a gap, in one whose every quantity is unknown), from
    the orders (and segments, for a segment key), to the period holding ``end`` where given
    (``last_read``); None when the inputs cannot give it."""
    return _history_of(series_lines(tables, keys, routed=routed), interval, end=end)


def last_read(cut: dt.date | None, interval: str) -> dt.date | None:
    """The last period the forecast read: the one holding the day before ``cut``
    (``history_end``), as forecast's series run to it whether or not a line falls in it."""
    if cut is None:
        return None
    day = pl.Series([cut - dt.timedelta(days=1)], dtype=pl.Date)
    return cast(dt.date, day.dt.truncate(interval).item())


def _history_of(
    lines: pl.DataFrame | None, interval: str, *, end: dt.date | None = None
) -> tuple[list[dt.date], list[float]] | None:
    """``history`` of a series' demand lines (``series_lines``), to the period ``end`` where
    given."""
    out = _per_period(lines, interval) if lines is not None else None
    if out is None or not out.height:
        return None
    last = cast(dt.date, out["ds"].max())
    # A series' quiet periods before the forecast are 0 (README: a period without an order line
    # is 0): stopped at its last line, a lapsing item looked like missing data.
    full = pl.DataFrame(
        {
            "ds": pl.date_range(
                cast(dt.date, out["ds"].min()),
                max(last, end) if end is not None else last,
                interval=interval,
                eager=True,
            )
        }
    ).join(out.with_columns(pl.col("y").clip(0, None).fill_null(math.nan)), on="ds", how="left")
    return full["ds"].to_list(), full["y"].fill_null(0.0).to_list()


def history_note(
    lines: pl.DataFrame | None, period: tuple[str, str], uid: Any, since: dt.date
) -> str:
    """What a series' history drawn from ``since`` leaves out ("history of Champions/A: 3 order
    lines' quantity unknown, left out, 1 week not drawn; 1 order line's date unknown, left
    out"), else "". ``lines``: the series' demand lines (``series_lines``); ``period``:
    ``period_interval``'s."""
    if lines is None:
        return ""
    interval, name = period
    dated = lines.filter(pl.col("order_date").dt.truncate(interval) >= since)
    gaps = int(_per_period(dated, interval)["y"].null_count())
    quantity = unknown_note(dated, "quantity", "order line", "quantity")
    said = noted(
        quantity + (f", {count(gaps)} {name}{'s' * (gaps != 1)} not drawn" if gaps else ""),
        unknown_note(lines, "order_date", "order line", "date"),
    )
    return f"history of {ch.label(uid)}: {said}" if said else ""


def series_keys(fc: pl.DataFrame, params: Mapping[str, Any]) -> list[str]:
    """The columns a series is keyed by: the forecast's ``--by``, else segment and sku; and
    the site first where the forecast has one beyond them (``--assignments`` adds it)."""
    by = [c for c in str(params.get("by") or "").split(",") if c]
    keys = [c for c in by if c in fc.columns] or [c for c in ("segment", "sku") if c in fc.columns]
    return ["site", *keys] if "site" in fc.columns and "site" not in keys else keys


def series_demand(fc: pl.DataFrame) -> pl.DataFrame:
    """Each series' forecast demand over the horizon (``total``) to rank the series by, an
    unknown period taken at the mean of the series' known ones (summed as 0 it ranked a series
    below smaller ones); a series with no known period is left out, as is a row whose series id
    is empty or blank (a cell emptied by hand), which belongs to no series that can be drawn."""
    return (
        fc.filter(filled("unique_id"))
        .group_by("unique_id")
        .agg((num("forecast").mean() * pl.len()).alias("total"))
        .drop_nulls("total")
    )


def fan_panels(
    tables: Tables,
    fc: pl.DataFrame,
    by: list[str],
    period: tuple[str, str],
    colours: Colours,
    *,
    routed: bool = False,
    outliers: str | None = DEFAULT_OUTLIERS,
    end: dt.date | None = None,
) -> tuple[list[ch.FanPanel], list[str]]:
    """The TOP_SERIES largest series by forecast demand, with their bands and history; and what
    each history drawn leaves out (``history_note``), or that the tables given hold no line of
    a series. ``period``: ``period_interval``'s; ``routed``: the forecast's sites are the
    network's (``routed(meta)``).

    The history is the demand the forecast read, cleansed as it cleansed it (``outliers``, its
    ``--outliers``: a line far beyond its sku's usual size capped or left out, zero-price lines
    left out), drawn to the period ``end`` (``last_read``), the last the forecast read: where
    that differs from the orders in the periods drawn, the panel also has the history as
    ordered (``FanPanel.ordered``) and the note counts the lines it changed. Where
    the forecast's --outliers is unknown (None: no segchain metadata), the history is drawn as
    ordered, and the note says what the default would change."""
    interval = period[0]
    periods = fc["ds"].drop_nulls().n_unique()  # a row without a date is no period of its own
    levels = interval_levels(fc.columns)
    # A row without a date has no place on the time axis (the Horizon headline counts it): a
    # series none of whose rows has one was drawn at no date, a matplotlib TypeError.
    fc = fc.filter(pl.col("ds").is_not_null())
    sums = series_demand(fc).sort(["total", "unique_id"], descending=[True, False])
    panels = []
    notes = []
    for uid in sums["unique_id"].head(TOP_SERIES).to_list():
        rows = fc.filter(pl.col("unique_id") == uid).sort("ds")
        keys = {c: rows[c][0] for c in by if c in rows.columns and rows[c][0] is not None}
        # Named by its key values where the table has them all: the id escapes a '/' within
        # one ('Loyal/COUPON%2FMISC ITEMS' is segment Loyal, sku COUPON/MISC ITEMS).
        title = "/".join(str(keys[c]) for c in by) if by and all(c in keys for c in by) else uid
        # Read (and routed) once for the history and its note.
        lines = series_lines(tables, keys, routed=routed)
        past = _history_of(lines, interval, end=end)
        ordered = None
        if past is not None:
            keep = max(4 * periods, 26)
            past = (past[0][-keep:], past[1][-keep:])
            notes.append(history_note(lines, period, title, since=past[0][0]))
            mode = outliers or DEFAULT_OUTLIERS
            read = cleansed_lines(tables, keys, mode, routed=routed)
            fitted = _history_of(read.lines, interval, end=end) if read is not None else None
            if read is not None and fitted is not None:
                since = past[0][0]
                drawn = [(d, y) for d, y in zip(*fitted, strict=True) if d >= since]
                fitted = ([d for d, _ in drawn], [y for _, y in drawn])
                changed = read.changes(since)
                if changed and not _same(fitted, past):
                    if outliers is None:
                        notes.append(
                            f"history of {ch.label(title)} as ordered: the forecast's "
                            "--outliers is not recorded (a forecast table without segchain's "
                            f"metadata); with its default, {mode}, {changed}"
                        )
                    else:
                        ordered, past = past, fitted
                        notes.append(f"history of {ch.label(title)}: {changed}")
        elif lines is not None:
            # The tables were given, and hold no line of it (the orders or segments of another
            # run): said so, where the caption asked for tables already given.
            notes.append(f"history of {ch.label(title)}{NO_HISTORY}")
        bands = [
            (lv, rows[f"forecast-lo-{lv}"].to_list(), rows[f"forecast-hi-{lv}"].to_list())
            for lv in levels
        ]
        colour = colours.get(keys.get("segment"), ch.ACCENT) if "segment" in keys else ch.ACCENT
        model = rows["model"][0] if "model" in rows.columns else None
        panels.append(
            ch.FanPanel(
                uid,
                rows["ds"].to_list(),
                rows["forecast"].to_list(),
                bands,
                past,
                colour,
                model,
                title=title,
                ordered=ordered,
            )
        )
    return panels, notes


def history_end(fc: pl.DataFrame, params: Mapping[str, Any]) -> dt.date | None:
    """The first day the forecast did not read: its --as-of day where its metadata records one,
    else its first period (the history ends before it either way)."""
    first = cast("dt.date | None", fc["ds"].min())
    try:
        as_of = dt.date.fromisoformat(str(params["as_of"])) if params.get("as_of") else None
    except ValueError:
        as_of = None
    days = [d for d in (as_of, first) if d is not None]
    return min(days) if days else None


def orders_end(tables: Tables) -> dt.date | None:
    """The orders' last day (every dated line)."""
    orders = tables.get("orders")
    if not has(orders, "order_date"):
        return None
    assert orders is not None
    return cast("dt.date | None", orders.select(pl.col("order_date").cast(pl.Date).max()).item())


def before(tables: Tables, day: dt.date) -> Tables:
    """The tables with the order lines the forecast read: those before ``day`` (and those whose
    date is unknown, which the history's note counts); the same tables when no line is later."""
    orders = tables.get("orders")
    if not has(orders, "order_date"):
        return tables
    assert orders is not None
    late = (pl.col("order_date").cast(pl.Date) >= day).fill_null(False)
    if not orders.select(late.any()).item():
        return tables
    return {**tables, "orders": orders.filter(~late)}


def whole_periods(ds: Sequence[dt.date], interval: str, end: dt.date) -> list[dt.date]:
    """The periods of ``ds`` the orders cover to their last day (``end``: the orders' last)."""
    periods = pl.Series("ds", sorted(set(ds)), dtype=pl.Date)
    last = pl.lit(end + dt.timedelta(days=1))
    return periods.to_frame().filter(pl.col("ds").dt.offset_by(interval) <= last)["ds"].to_list()


def actual_demand(
    tables: Tables,
    keys: Mapping[str, Any],
    periods: Sequence[dt.date],
    interval: str,
    *,
    routed: bool = False,
) -> tuple[list[dt.date], list[float]] | None:
    """What one series' customers ordered in the forecast's ``periods`` (whole ones, after the
    history the forecast read): every demand line kept, as the held-out check scores it, summed
    per period and floored at 0 as the history is (0 in a period without a line; NaN, a gap,
    in one whose every quantity is unknown); None when the tables cannot give the series'
    lines."""
    lines = series_lines(tables, keys, routed=routed)
    if lines is None or not periods:
        return None
    after = lines.filter(pl.col("order_date") >= periods[0])
    per = _per_period(after, interval).with_columns(pl.col("y").clip(0, None).fill_null(math.nan))
    full = pl.DataFrame({"ds": list(periods)}, schema={"ds": pl.Date}).join(
        per, on="ds", how="left"
    )
    return full["ds"].to_list(), full["y"].fill_null(0.0).to_list()


@dataclass(frozen=True)
class Unsegmented:
    """The demand of the skus drawn, in the periods drawn, that no segment's actual line holds:
    its customers are in no segment (first seen after the segments were made, segment
    --as-of)."""

    units: float
    share: float | None  # of the skus' units in those periods, every customer's
    customers: int  # with a customer id
    new: int  # of them, first seen on or after the forecast's --as-of day
    skus: int
    unnamed: int = 0  # order lines without a customer id: no customer's, no segment's

    def sentence(self, name: str, periods: int, as_of: dt.date) -> str:
        """``No segment's dashed line holds 2,473 units of these skus (9.6% of all ordered in
        those weeks): ordered by 77 customers in no segment, first seen on or after
        2011-10-10, the forecast's --as-of day.``"""
        those = f"that {name}" if periods == 1 else f"those {name}s"
        share = f" ({pct(self.share)} of all ordered in {those})" if self.share is not None else ""
        first = (
            ""
            if not self.customers
            else f", first seen on or after {as_of}, the forecast's --as-of day"
            if self.new == self.customers
            else f", {count(self.new)} of them first seen on or after {as_of}, the forecast's "
            "--as-of day"
        )
        who = f"{plural(self.customers, 'customer')} in no segment{first}"
        lines = f"{plural(self.unnamed, 'order line')} without a customer"
        by = (
            f"by {who} (and on {lines})"
            if self.customers and self.unnamed
            else f"by {who}"
            if self.customers
            else f"on {lines}"
        )
        return (
            f"No segment's dashed line holds {format_number(self.units, UNITS)} units of "
            f"{'this sku' if self.skus == 1 else 'these skus'}{share}: ordered {by}."
        )


def unsegmented_demand(
    tables: Tables,
    skus: Sequence[str],
    periods: Sequence[dt.date],
    interval: str,
    as_of: dt.date,
) -> Unsegmented | None:
    """The demand lines of ``skus`` in ``periods`` whose customer is in no segment of the
    segments table (a segment's actual line joins the orders with it, and so leaves them out),
    with how many of those customers were first seen on or after ``as_of``; None when there
    are none or the inputs cannot tell."""
    lf = _demand_lines(tables)
    seg = tables.get("segments")
    if lf is None or not skus or not periods or not has(seg, "customer_id", "segment"):
        return None
    assert seg is not None
    columns = lf.collect_schema().names()
    if "segment" in columns or "customer_id" not in columns or "sku" not in columns:
        return None
    start = periods[0]
    end = pl.lit(periods[-1]).dt.offset_by(interval)
    day = pl.col("order_date").cast(pl.Date)
    lines = (
        lf.filter((day >= start) & (day < end) & pl.col("sku").cast(pl.String).is_in(list(skus)))
        .select(pl.col("customer_id").cast(pl.String), num("quantity").alias("_q"))
        .collect()
    )
    known = seg.select(pl.col("customer_id").cast(pl.String)).drop_nulls().to_series()
    outside = lines.filter(~pl.col("customer_id").is_in(known.implode()).fill_null(False))
    units = finite(outside["_q"].sum())
    if not outside.height or units is None or units <= 0:
        return None  # returns netting their purchases out are no demand left out
    whole = finite(lines["_q"].sum())
    ids = outside.filter(filled("customer_id"))["customer_id"].unique()
    first_seen = (
        lf.filter(pl.col("customer_id").cast(pl.String).is_in(ids.implode()))
        .group_by(pl.col("customer_id").cast(pl.String))
        .agg(pl.col("order_date").cast(pl.Date).min().alias("first"))
        .collect()
    )
    return Unsegmented(
        units=units,
        share=units / whole if whole else None,
        customers=ids.len(),
        new=int(first_seen.filter(pl.col("first") >= as_of).height),
        skus=len(set(skus)),
        unnamed=int(outside.filter(~filled("customer_id")).height),
    )


def with_actuals(
    tables: Tables,
    fc: pl.DataFrame,
    panels: list[ch.FanPanel],
    by: list[str],
    period: tuple[str, str],
    *,
    routed: bool = False,
    params: Mapping[str, Any] | None = None,
) -> tuple[list[ch.FanPanel], str]:
    """The panels with the demand ordered in the forecast's periods where the orders run past
    its first one (a forecast made --as-of a past day), and the caption's sentence on it; the
    panels as they are and "" otherwise."""
    interval, name = period
    end = orders_end(tables)
    first = cast("dt.date | None", fc["ds"].min())
    if end is None or first is None or not panels:
        return panels, ""
    ds = fc["ds"].drop_nulls().unique().to_list()
    drawn = whole_periods(ds, interval, end)
    if not drawn:
        return panels, ""
    out = []
    for panel in panels:
        rows = fc.filter(pl.col("unique_id") == panel.uid)
        keys = {c: rows[c][0] for c in by if c in rows.columns and rows[c][0] is not None}
        actual = actual_demand(tables, keys, drawn, interval, routed=routed)
        out.append(dataclasses.replace(panel, actual=actual))
    if all(p.actual is None for p in out):
        return panels, ""
    n = len(drawn)
    span = f"the {name} of {drawn[0]}" if n == 1 else f"the {n} {name}s from {drawn[0]}"
    sentence = (
        f"Dashed, the demand ordered in {span}, which the forecast did not see (every order "
        "line kept, as the held-out check scores it)"
    )
    rest = len(ds) - n
    if rest:
        sentence += (
            f"; the forecast's last {plural(rest, name)} not drawn: the orders end on {end}, "
            f"before {'it ends' if rest == 1 else 'they end'}"
        )
    sentence += "."
    # A segment's actual line holds the lines of its customers alone: the demand of customers
    # in no segment (first seen after segment --as-of) is in none of them, and said so.
    skus: list[str] = []
    if "segment" in by and "sku" in fc.columns:
        shown = fc.filter(pl.col("unique_id").is_in([p.uid for p in out if p.actual]))
        skus = [str(v) for v in shown["sku"].drop_nulls().unique().sort().to_list()]
    as_of = history_end(fc, params or {}) or drawn[0]
    outside = unsegmented_demand(tables, skus, drawn, interval, as_of)
    if outside is not None:
        sentence += " " + outside.sentence(name, n, as_of)
    return out, sentence


def demand_by(fc: pl.DataFrame, col: str, demand: float | None) -> pl.DataFrame:
    """Series count, forecast demand and its share of the total, per value of ``col``. A row
    whose series id is empty or blank is no series of its own; a group none of whose rows has
    one has an unknown count, not 0."""
    return (
        fc.group_by(pl.col(col).cast(pl.String))
        .agg(
            distinct_filled("unique_id").alias("series"),
            known_sum(num("forecast")).alias("forecast"),
        )
        .with_columns((pl.col("forecast") / (demand or float("nan"))).alias("share"))
    )


def unnamed_series(fc: pl.DataFrame, by: str) -> str:
    """What a table's series counts per ``by`` leave out: the rows whose series id is empty or
    blank ("series: 1 period's series id unknown, left out (Champions)"), else ""."""
    note = unfilled_note(fc, "unique_id", "period", "series id", by)
    return f"series: {note}" if note else ""


# ---- wording


def levels_text(level: Any) -> str:
    """forecast's --level as recorded (``"80,95"``, a list, or one number) in words: ``80% and
    95%`` (it read "prediction intervals 80,95%")."""
    parts = level.split(",") if isinstance(level, str) else level
    if not isinstance(parts, list | tuple):
        parts = [parts]
    items = [f"{str(p).strip()}%" for p in parts if str(p).strip()]
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def _segments_of_other_run(tables: Tables, meta: Meta) -> bool:
    from segchain.report.consistency import segments_of_other_run

    return segments_of_other_run(tables, meta)


def forecast_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    fc = tables.get("forecast")
    if fc is None:
        return "Forecast: no forecast table (segchain forecast) in the inputs."
    missing = lacks(fc, ["unique_id", "ds", "forecast"])
    if missing:
        return f"Forecast: the forecast table lacks {', '.join(missing)}."
    fc = fc.with_columns(pl.col("unique_id").cast(pl.String), pl.col("ds").cast(pl.Date))
    params = params_of(meta, "forecast")
    freq = forecast_freq(fc, params)
    interval, period = period_interval(fc["ds"], freq)
    # An empty or blank series id or date (a cell emptied by hand) is no series or period of
    # its own: counted apart, as unknown.
    ids, dates = marked(fc, filled("unique_id")), marked(fc, filled("ds"))
    periods = fc["ds"].drop_nulls().n_unique()
    series = ids.filter(pl.col("_known").is_not_null())["unique_id"].n_unique()
    by = series_keys(fc, params)
    demand = total(fc, "forecast")
    first, last = cast("dt.date | None", fc["ds"].min()), cast("dt.date | None", fc["ds"].max())
    heads = [
        Headline(
            "Series",
            count(series),
            noted(
                "by " + " × ".join(by) if by else "forecast series",
                unknown_note(ids, "_known", "period", "series id"),
            ),
        ),
        Headline(
            "Horizon",
            # No date known: no period to count ('0 weeks (None to None)').
            f"{periods} {period}{'s' * (periods != 1)}" if first else format_number(None),
            noted(
                f"{first} to {last}" if first else "",
                unknown_note(dates, "_known", "period", "date"),
            ),
        ),
        Headline(
            "Forecast demand",
            format_number(demand, UNITS),
            noted("units over the horizon", unknown_note(fc, "forecast", "period", "forecast")),
        ),
    ]
    subtitle_parts = []
    if freq:
        subtitle_parts.append(f"Periods of one {period}")
    if params.get("level"):
        subtitle_parts.append(f"prediction intervals {levels_text(params['level'])}")
    subtitle = (", ".join(subtitle_parts) + ". " if subtitle_parts else "") + (
        "Each series' model was chosen by backtest."
    )
    blocks: list[Block] = []
    by_network = routed(meta, tables)
    # forecast records its --outliers in its metadata (and its backtest's, the same run's).
    outliers = params.get("outliers") or params_of(meta, "backtest").get("outliers")
    # The history is what the forecast read; the orders past it are drawn as what happened.
    cut = history_end(fc, params)
    panels, history_notes = fan_panels(
        before(tables, cut) if cut else tables,
        fc,
        by,
        (interval, period),
        colours,
        routed=by_network,
        outliers=str(outliers) if outliers else None,
        end=last_read(cut, interval),
    )
    panels, actual_sentence = with_actuals(
        tables, fc, panels, by, (interval, period), routed=by_network, params=params
    )
    other_segments = _segments_of_other_run(tables, meta)
    if other_segments:
        panels = [dataclasses.replace(p, other_segments=True) for p in panels]
    with_history = sum(p.history is not None for p in panels)
    if panels:
        inputs = "orders, segments and assignments" if by_network else "orders (and segments)"
        searched = with_history or any(n.endswith(NO_HISTORY) for n in history_notes)
        caption = (
            f"The {len(panels)} largest series by forecast demand"
            + (", with their history." if with_history else ".")
            + ("" if searched else f" Give the {inputs} to plot the history.")
        )
        if other_segments and with_history:
            caption += (
                " The history is the demand of the segments given, which are not the ones the "
                "forecast read (see the warning at the top): it is not the history the "
                "forecast was made from."
            )
        elif any(p.ordered is not None for p in panels):
            caption += (
                " The history is the demand the forecast read (--outliers "
                f"{outliers}: {CLEANSING[str(outliers)]}, zero-price lines left out); dotted "
                "where it differs, the history as ordered."
            )
        if searched and not with_history:
            # Not one: tables of different runs, where the caption asked for tables given.
            given = [t for t in ("orders", "segments", "assignments") if t in tables]
            named = " and ".join([", ".join(given[:-1]), given[-1]] if len(given) > 1 else given)
            caption += (
                f" Their history is not drawn: the {named} given hold no line of them (tables "
                "of different runs?)."
            )
            history_notes = [n for n in history_notes if not n.endswith(NO_HISTORY)]
        if actual_sentence:
            caption += f" {actual_sentence}"
        blocks.append(
            Chart(
                "forecast",
                "Forecast of the largest series",
                partial(ch.forecast_fan, panels=panels),
                size=(9.0, 2.3 * len(panels) + 0.4),
                caption=with_unknowns(
                    caption,
                    sum_note(
                        fc.filter(pl.col("unique_id").is_in([str(p.uid) for p in panels])),
                        "forecast",
                        "period",
                        "forecast",
                        by="unique_id",
                    ),
                    "an unknown period counts at its series' known mean in the ranking"
                    if unknown(fc, "forecast")
                    else "",
                    *history_notes,
                ),
            )
        )
    if "segment" in fc.columns:
        by_seg = order_frame(demand_by(fc, "segment", demand), segment_order(tables))
        blocks.append(
            TableBlock(
                "Forecast demand by segment",
                by_seg,
                formats={"series": INT, "forecast": UNITS, "share": PCT},
                heat=("share",),
                note=with_unknowns(
                    "",
                    sum_note(fc, "forecast", "period", "forecast"),
                    unnamed_series(fc, "segment"),
                ),
            )
        )
    if "demand_class" in fc.columns:
        by_class = demand_by(fc, "demand_class", demand).sort(
            "series", "demand_class", descending=[True, False], nulls_last=True
        )
        blocks.append(
            TableBlock(
                "Demand classes (Syntetos-Boylan)",
                by_class,
                formats={"series": INT, "forecast": UNITS, "share": PCT},
                note=with_unknowns(
                    "",
                    sum_note(fc, "forecast", "period", "forecast", by="demand_class"),
                    unnamed_series(fc, "demand_class"),
                ),
            )
        )
    return Section("forecast", "Demand forecast", subtitle, heads, blocks)
