"""Import and cleaning of order lines: mapping, parsing, reason codes and the reconciliation.

Everything here is a polars expression over the raw export, so a 10-million-line file is cleaned
in one vectorised pass. The only eager steps look at small profiles of the data (distinct date
strings, number styles) to decide how to parse a whole column consistently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import polars as pl

from segchain.config import (
    VALUE_WANTED,
    derives_order_id,
    mapping_hint,
    missing_required,
    order_id_look_alike_warning,
)
from segchain.errors import (
    DataError,
    MissingColumnsError,
    UsageError,
    cut,
    title_row_hint,
)
from segchain.formatting import agree, count, plural
from segchain.numbers import (
    CODE_AROUND,
    COORDINATE_LIMITS,
    COORDINATES,
    CURRENCY_SIGN,
    NUMBER_MARKS,
    decimal_comma_columns,
    file_default,
    number_expr,
    number_marks,
    sure_counts,
    uses_comma,
)
from segchain.schema import (
    EARLIEST_DATE,
    FLAG_NEGATIVE_PRICE,
    FLAG_NON_PRODUCT,
    FLAG_RETURN,
    FLAG_ZERO_PRICE,
    FLAG_ZERO_QUANTITY,
    LATEST_DATE,
    LINE_FLAGS,
    MAX_VALUE,
    ORDER_OPTIONAL,
    ORDER_REQUIRED,
    ORDER_VALUE,
    PLACEHOLDERS,
    RAW_POSTAL_CODE,
    SPREADSHEET_ERRORS,
    all_rejected_customers,
    another_form,
    check_number_types,
    id_null,
    in_code_points,
    text_expr,
)
from segchain.tableio import (
    EXTRA_FIELDS,
    META_COLUMNS,
    SOURCE_FILE,
    SOURCE_ROW,
    bare_name,
    hive_partitions,
    quoted,
    short,
)

Returns = Literal["net", "drop", "keep"]
RETURNS_CHOICES = ("net", "drop", "keep")

# Stock codes that say what they are in any export: postage, freight, fees, bank charges,
# discounts, manual adjustments. Short codes that only one layout uses for a non-product (Online
# Retail's M, D, B, S, C2, ...) come with that layout's preset (config.PRESET_NON_PRODUCT_SKUS):
# in another export "B" or "S" may well be a product.
NON_PRODUCT_SKUS = frozenset(
    {
        "POST",
        "POSTAGE",
        "SHIPPING",
        "FREIGHT",
        "MANUAL",
        "BANK CHARGES",
        "AMAZONFEE",
        "ADJUST",
        "ADJUST2",
        "DISCOUNT",
        "FEE",
    }
)
# An order id made of this letter and digits marks a cancellation (Online Retail's C536379).
CANCEL_PATTERN = r"^[Cc]\d+$"

ID_FIELDS = ("order_id", "customer_id", "sku", "site", "postal_code")
AS_EXPORTED_IDS = ("order_id", "customer_id", "sku")
"""The ids that ``OrderImport.as_exported`` leaves as exported (see there): checking them
costs less than trimming every line's."""
WHITESPACE = (
    *"\t\n\x0b\x0c\r \x85\xa0\u1680",
    *(chr(c) for c in range(0x2000, 0x200B)),
    *"\u2028\u2029\u202f\u205f\u3000",
)
"""The characters that ``str.strip_chars()`` removes (Unicode White_Space)."""


def has_whitespace(column: str) -> pl.Expr:
    """True where a text column's value holds whitespace anywhere: every value that trimming
    would change is among them. One multi-pattern search, cheaper than trimming the value."""
    return pl.col(column).str.contains_any(list(WHITESPACE))


def may_differ_as_id(column: str) -> pl.Expr:
    """True where a text id as exported may not be the import's: it holds whitespace (trimming
    would change it) or a spreadsheet error value (``SPREADSHEET_ERRORS``), or is a placeholder
    for none (``PLACEHOLDERS``), both read as blank. One multi-pattern search and one lookup; a
    value merely holding such a text errs on the safe side."""
    c = pl.col(column)
    return c.str.contains_any([*WHITESPACE, *SPREADSHEET_ERRORS]) | c.is_in(PLACEHOLDERS)


# Each line's row, the key of an import's lines to its raw fields: named as no export column
# is (an export's own `_row` was a polars DuplicateError), as tableio's SOURCE_FILE and
# SOURCE_ROW are.
ROW = "_segchain_row"

TEXT_FIELDS = ("city", "country", "customer_name", "description", "currency", "unit")
NUMBER_FIELDS = ("quantity", "unit_price", "amount", "lat", "lon")

VALUE_FIELDS = ("quantity", "unit_price", "amount")
# Implausible order dates are typos or placeholders (0001-01-01, 9999-12-31, 2052 for 2025,
# SQL Server's empty 1900-01-01, the Unix epoch 1970-01-01): rejected so that they cannot drive
# recency, the as-of date or the start of a series. The rule depends on the data only, never on
# the day it runs (reruns stay byte-identical): a date before EARLIEST_DATE or after
# LATEST_DATE (schema's: network checks a customers table's dates by them too); a lump (see
# date_lumps) more than FUTURE_GAP_DAYS apart from the export's body; more than
# FUTURE_GAP_DAYS after the date that 99 % of the other dated lines (within that window) fall
# on or before; or before the 1 % of them that come first and more than FUTURE_GAP_DAYS apart
# from every later line (old history of a business that grew is kept: it has no such hole).
FUTURE_GAP_DAYS = 1096  # three years
TAIL_QUANTILE = 0.99
# A placeholder for no date is one day (SQL Server's 1900-01-01, an ERP's open end 2099-12-31),
# or two where a time zone split it; a week's days leave room for a few such conventions in one
# run, and no real history apart from the rest by years is that short and worth keeping.
LUMP_DAYS = 7


@dataclass(frozen=True)
class DateLump:
    """A run of at most ``LUMP_DAYS`` distinct order dates, from ``first`` to ``last``, more
    than ``FUTURE_GAP_DAYS`` apart from the body of the export's dates: ``lines`` lines,
    ``gap`` days to the ``nearest`` date of the other runs."""

    first: dt.date
    last: dt.date
    lines: int
    nearest: dt.date
    gap: int


def implausible_date(
    date: pl.Expr,
    tail: float | None,
    head: float | None = None,
    lumps: Sequence[DateLump] = (),
) -> pl.Expr:
    """True where ``date`` (a Date column) is implausible; see above. ``tail``: the export's
    ``date_tail`` (a number, not a quantile taken in the pass, which would hold every line of
    the export in memory until its last line is read); ``head``: its ``date_head``;
    ``lumps``: its ``date_lumps``."""
    in_window = (date >= EARLIEST_DATE) & (date <= LATEST_DATE)
    limit = pl.lit(tail, dtype=pl.Float64) + FUTURE_GAP_DAYS
    day = date.cast(pl.Int32)
    # A lump's run holds no other day of the window: its span is its days.
    in_lump = [date.is_between(lump.first, lump.last) for lump in lumps]
    return pl.any_horizontal(
        ~in_window, day > limit, day < pl.lit(head, dtype=pl.Float64), *in_lump
    )


def _days_in_window(counts: pl.DataFrame, date: str, n: str) -> pl.DataFrame:
    """Each day within the window (days since 1970, ascending) and its dated lines."""
    return (
        counts.lazy()
        .filter((pl.col(date) >= EARLIEST_DATE) & (pl.col(date) <= LATEST_DATE))
        .group_by(pl.col(date).cast(pl.Int32))
        .agg(pl.col(n).sum())
        .sort(date)
        .collect()
    )


def _lower_quantile(days: pl.DataFrame, q: float, date: str, n: str) -> int | None:
    """polars' ``quantile(q, "lower")`` of the lines' days: the value at index
    floor((count - 1) * q) in sorted order. None without a line."""
    total = int(days.get_column(n).sum())
    if total == 0:
        return None
    return _line_day(days, int((total - 1) * q), date, n)


def _line_day(days: pl.DataFrame, index: int, date: str, n: str) -> int:
    """The day of the line at ``index`` (from 0) of the lines in date order."""
    return int(days.filter(pl.col(n).cum_sum() > index).get_column(date)[0])


def date_lumps(counts: pl.DataFrame, date: str = "order_date", n: str = "n") -> list[DateLump]:
    """The lumps of ``counts`` (each distinct Date and its number of lines): the runs of days
    within the window, split where more than ``FUTURE_GAP_DAYS`` pass without a line, that are
    not the body and hold at most ``LUMP_DAYS`` distinct days. The body is the run of the
    median line (the lower one of an even count), so that a lump of under half the lines is
    found whatever its share; the 1 % / 99 % rules miss one above 1 %.

    A placeholder for no date is one day holding every undated line, years apart from the
    real ones. A real history has no hole of years (a steady one, or a sparse start running up
    to the busy years, is one run); one that has, and runs on for more than a week's days on
    the other side, is kept as before."""
    days = _days_in_window(counts, date, n)
    total = int(days.get_column(n).sum())
    if total == 0:
        return []
    runs = (
        days.with_columns(run=(pl.col(date).diff() > FUTURE_GAP_DAYS).cum_sum().fill_null(0))
        .group_by("run", maintain_order=True)
        .agg(
            pl.col(date).min().alias("first"),
            pl.col(date).max().alias("last"),
            pl.len().alias("days"),
            pl.col(n).sum().alias("lines"),
        )
        .with_columns(upto=pl.col("lines").cum_sum())
    )
    body = runs.filter(pl.col("upto") > (total - 1) // 2).get_column("run")[0]
    firsts, lasts = runs.get_column("first").to_list(), runs.get_column("last").to_list()
    found = []
    for i, run in enumerate(runs.iter_rows(named=True)):
        if run["run"] == body or run["days"] > LUMP_DAYS:
            continue
        # Every run has a neighbour (the body is another run); the nearer one is said.
        sides = [(run["first"] - lasts[i - 1], lasts[i - 1])] if i else []
        sides += [(firsts[i + 1] - run["last"], firsts[i + 1])] if i + 1 < len(firsts) else []
        gap, nearest = min(sides)
        found.append(
            DateLump(
                first=_epoch_day(run["first"]),
                last=_epoch_day(run["last"]),
                lines=int(run["lines"]),
                nearest=_epoch_day(nearest),
                gap=int(gap),
            )
        )
    return found


def _epoch_day(day: int) -> dt.date:
    """The date of a day number since 1970-01-01."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def outside_lumps(
    counts: pl.DataFrame, lumps: Sequence[DateLump], date: str = "order_date"
) -> pl.DataFrame:
    """``counts`` without the days of ``lumps``: the tail and head are the other lines'."""
    inside = [pl.col(date).is_between(lump.first, lump.last) for lump in lumps]
    return counts.filter(~pl.any_horizontal(pl.lit(False), *inside).fill_null(False))


def date_tail(counts: pl.DataFrame, date: str = "order_date", n: str = "n") -> float | None:
    """The date (days since 1970) that ``TAIL_QUANTILE`` of the dated lines within the window
    fall on or before, from ``counts`` (each distinct Date and its number of lines). None
    without such lines."""
    at = _lower_quantile(_days_in_window(counts, date, n), TAIL_QUANTILE, date, n)
    return None if at is None else float(at)


def date_head(counts: pl.DataFrame, date: str = "order_date", n: str = "n") -> float | None:
    """The first plausible day (days since 1970) on the early side, from ``counts``: the first
    line after the last hole of more than ``FUTURE_GAP_DAYS`` among the days up to the line
    that mirrors ``date_tail``'s (as many lines from the first as the tail's is from the
    last). None without such a hole.

    A placeholder date stands decades before the data, with nothing between; a business's
    early, sparse years run up to its busy ones without a three-year hole, and are kept.

    The mirror judges a small export alike on both sides: up to 101 lines the tail's line is
    the last but one, so a typo years ahead is caught from three lines, where the head's was
    the first line itself (floor((count - 1) * 0.01)) and a placeholder before 50 lines of
    2024 passed. Of two lines the tail's is the first and the head's would be the second,
    each line implausible by the other: no head then (two lines have no bulk to tell a
    placeholder from a typo by), and the tail rule judges them alone, as before."""
    days = _days_in_window(counts, date, n)
    total = int(days.get_column(n).sum())
    if total == 0:
        return None
    tail_index = int((total - 1) * TAIL_QUANTILE)
    index = total - 1 - tail_index
    if index > tail_index:
        return None
    low = _line_day(days, index, date, n)
    early = days.get_column(date).filter(days.get_column(date) <= low)
    after_hole = early.filter(early.diff() > FUTURE_GAP_DAYS)
    return float(after_hole[-1]) if after_hole.len() else None


REASONS = (
    "extra_fields",
    "repeated_header",
    "missing_order_id",
    "missing_customer",
    "missing_sku",
    "missing_date",
    "bad_date",
    "bad_quantity",
    "bad_price",
    "non_finite",
    "out_of_range",
    "implausible_date",
    "return",
    "negative_price",
)
"""Every reason code a rejected line can carry, in the order they are tested."""
# An Enum, not text: ten million lines pass through the reason chain, and small integer codes
# cost a fraction of repeated strings there.
REASON = pl.Enum(REASONS)
FLAG = pl.Enum(LINE_FLAGS)
"""``flag`` within ``OrderImport.lines`` (text in ``clean``, ``summary`` and every output): the
flags of ten million lines are built, compared and counted as small integer codes."""

EXCEL_EPOCH = "1899-12-30"  # Excel's day 0 once its 1900 leap-year bug is accounted for
COMPACT_NUMBER_MIN = 10_000_000
# Whole numbers all below this in a date column are day or week numbers from a start the file
# does not give (dunnhumby's DAY 1..711), not Excel serials: 10,000 is 1927-05-18.
DAY_NUMBER_MAX = 10_000
"""A typed date number of eight digits (from here up) is a yyyymmdd date (20240315); below, an
Excel serial."""
# Excel's serial of 1970-01-01. Whole numbers from DAY_NUMBER_MAX up to it are, as serials,
# orders placed from 1927 to 1969, and, as days since 1970 (how Parquet and Arrow store a date,
# and what an export that wrote a date column as its integers holds), 1997 to 2039: the second
# is what an order export means, the first what was read (a 70-year shift, without a word).
EPOCH_SERIAL = 25_569
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# A date with an English month name: an optional weekday, then day, month, year or month, day,
# year; three groups each (day, month's first three letters, year), read by ``_named_month``.
_NAMED_LEAD = r"(?i)^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
# A month's full name or abbreviation (Sept too), not any word it starts ('Mayday').
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY_MONTH_YEAR = rf"(\d{{1,2}})[-\s./]?{_MONTH}[-\s./,]*(\d{{2,4}})"
_MONTH_DAY_YEAR = rf"{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})"

DATE_KINDS = {
    "iso": r"^\d{4}-\d{1,2}-\d{1,2}([ T].*)?$",
    "dotted": r"^\d{1,2}\.\d{1,2}\.\d{2,4}( .*)?$",
    "slash": r"^\d{1,2}/\d{1,2}/\d{2,4}( .*)?$",
    "ymd_slash": r"^\d{4}/\d{1,2}/\d{1,2}( .*)?$",
    "compact": r"^\d{8}$",
    # A fraction (the time of day) after a point, or a comma where Excel writes decimal commas.
    "serial": r"^\d{5}([.,]\d+)?$",
    # English month names: Oracle's 01-MAR-24, a spreadsheet's 1-Mar-24 or 1 March 2024, SAS's
    # 01MAR2024; and Mar 1, 2024 (a weekday before either is allowed: Friday, March 1, 2024).
    "day_month_name": _NAMED_LEAD + _DAY_MONTH_YEAR + r"([ T].*)?$",
    "month_name_day": _NAMED_LEAD + _MONTH_DAY_YEAR + r"([ T].*)?$",
}


@dataclass
class OrderImport:
    """The cleaned order lines and what happened to every line, all lazy until collected."""

    lines: pl.LazyFrame
    """Canonical columns plus ``reason`` (null for used lines) and ``_row``; ``flag`` may be
    the ``FLAG`` Enum here, and ``RAW_POSTAL_CODE`` may accompany ``postal_code``. Without
    ``reason`` and ``_row`` when the import rejects no line (``rejects_none``)."""
    raw: pl.LazyFrame
    """The export as read, with ``_row``: rejected lines are reported from it as exported."""
    raw_columns: list[str]
    mapping: dict[str, str]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What may make the numbers wrong although every line was read (shown as warnings)."""
    date_order: str | None = None
    returns: str | None = None
    """How returns were treated (``net``/``keep``/``drop``); None for a table cleaned earlier."""
    source: str = "orders"
    """The file name for a single file (several files carry ``_file`` in ``raw``)."""
    as_exported: pl.LazyFrame | None = None
    """``lines`` as the usual export makes them, at less cost: the ids of ``AS_EXPORTED_IDS``
    that are plain text as exported (not trimmed; "" is still null), the rules
    ``non_finite`` and ``out_of_range`` not tested line by line, and the descriptive texts
    (``TEXT_FIELDS``) with their "" kept. The same lines but for those "" exactly when no
    customer id has whitespace around it and the aggregate ``as_exported_differs`` is False,
    as in the usual export. A stage that reads every line anyway (segment's one pass) reads
    these, checks both in the same scan and reads ``lines`` only when one fails; it counts
    a text by the groups it forms, and makes a "" group's text null."""
    derived: dict[str, str] = field(default_factory=dict)
    """The canonical columns no header gave and the import made, each with how (recorded
    beside the mapping): ``order_id`` where ``derives_order_id``."""

    @property
    def multi_file(self) -> bool:
        return SOURCE_FILE in self.lines.collect_schema()

    @property
    def rejects_none(self) -> bool:
        """Every line is used, as read: ``lines`` are the table itself (see ``from_clean``)."""
        return "reason" not in self.lines.collect_schema()

    @property
    def clean(self) -> pl.LazyFrame:
        """Used lines, canonical columns only."""
        names = self.lines.collect_schema().names()
        keep = [
            pl.col(c).cast(pl.String) if c == "flag" else pl.col(c)
            for c in names
            if c != "reason" and not c.startswith("_")
        ]
        used = self.lines if self.rejects_none else self.lines.filter(pl.col("reason").is_null())
        return used.select(keep)

    @property
    def rejects(self) -> pl.LazyFrame:
        """Rejected lines as exported: ``row`` (1-based, in its own file), ``source_file``, the
        original fields, ``extra_fields`` (the surplus of a line with more fields than the
        header, when any line has some) and ``reason``."""
        return self.rejects_of(self.lines)

    def rejects_of(self, lines: pl.LazyFrame) -> pl.LazyFrame:
        """``rejects`` from ``lines`` (``self.lines`` or a frame derived from it with its
        ``_row`` and ``reason``), so that a stage's pass can share the scan."""
        raw_schema = self.raw.collect_schema()
        raw_names = raw_schema.names()
        if "reason" in lines.collect_schema():
            rejected = lines.filter(pl.col("reason").is_not_null()).select(ROW, "reason")
            raw = self.raw
        else:
            # None rejected: the file's columns, no line, and no query of the file (joined
            # to the rejected lines, the whole table was held in memory: 2.1 GB on 9.2 M lines).
            rejected = pl.LazyFrame(schema={ROW: raw_schema[ROW], "reason": REASON})
            raw = pl.LazyFrame(schema=raw_schema)
        if SOURCE_FILE in raw_names:
            where = [
                pl.col(SOURCE_ROW).cast(pl.Int64).alias("row"),
                pl.col(SOURCE_FILE).cast(pl.String).alias("source_file"),
            ]
        else:
            where = [
                pl.col(ROW).cast(pl.Int64).alias("row"),
                pl.lit(self.source, dtype=pl.String).alias("source_file"),
            ]
        extra = [pl.col(EXTRA_FIELDS).alias("extra_fields")] if EXTRA_FIELDS in raw_names else []
        renamed = self.rejects_renamed
        raw = raw.rename(renamed)
        fields = [renamed.get(c, c) for c in self.raw_columns]
        return rejected.join(raw, on=ROW, how="left", maintain_order="left").select(
            *where, *fields, *extra, pl.col("reason").cast(pl.String)
        )

    @property
    def rejects_renamed(self) -> dict[str, str]:
        """The export's columns named as a column of the rejects file's own (``reason``, a
        return's reason; ``row``, ``source_file``, ``extra_fields``), and the names they are
        written under there: ``export_reason`` (the two in one file were a polars
        DuplicateError)."""
        own = {"row", "source_file", "extra_fields", "reason"}
        taken = set(self.raw_columns) | own
        out: dict[str, str] = {}
        for c in self.raw_columns:
            if c in own:
                name = f"export_{c}"
                while name in taken:
                    name = f"export_{name}"
                taken.add(name)
                out[c] = name
        return out

    def other_forms_of(self, lines: pl.LazyFrame) -> pl.LazyFrame:
        """The query for ``other_forms``, on ``lines`` (see ``rejects_of``): one row, a list
        per id column of ``FORM_IDS`` exported as text, of the distinct ids of the used lines
        that may not be in NFC (``MAY_NOT_BE_NFC``): one of two ids that are one in another
        Unicode form is such an id. Usually none, so the pass pays one search per line."""
        some_rejected = "reason" in lines.collect_schema()
        used = pl.col("reason").is_null() if some_rejected else pl.lit(True)

        def non_ascii(c: str) -> pl.Expr:
            # Plain ASCII (as many exports' ids all are) is told by its length in characters,
            # at a third of the cost of the search, which then looks at the others only.
            return pl.col(c).str.len_bytes() != pl.col(c).str.len_chars()

        def odd(c: str) -> pl.Expr:
            text = pl.col(c).filter(used & non_ascii(c))
            return text.filter(text.str.contains(MAY_NOT_BE_NFC)).unique().implode()

        columns = self._form_columns()
        if not columns:
            return lines.select()
        # The few lines the lists are made of, filtered first: the streaming engine then holds
        # those, not the id columns of every line (0.4 GB of 9.2 M lines).
        candidates = pl.any_horizontal(non_ascii(c) for c in columns)
        if not some_rejected:
            return lines.filter(candidates).select(*(odd(c) for c in columns))
        # The rejected lines, by row: an id's other form found only on them is no second
        # customer (every line of it was left out), so the look-up in ``other_forms`` skips them.
        rejected = pl.col(ROW).filter(~used).implode().alias(_REJECTED_ROWS)
        return lines.filter(candidates | ~used).select(*(odd(c) for c in columns), rejected)

    def lost_zeros_of(self, lines: pl.LazyFrame) -> pl.LazyFrame:
        """The query for ``lost_zeros``, on ``lines`` (see ``rejects_of``): one row, a list per
        id column of ``FORM_IDS`` exported as text, of the distinct ids of the used lines that
        are digits only (a spreadsheet drops leading zeros only from a cell it reads as a
        number). A customer's or a sku's distinct ids are few; order ids, one per order, are
        not looked at."""
        used = pl.col("reason").is_null() if "reason" in lines.collect_schema() else pl.lit(True)

        def digits(c: str) -> pl.Expr:
            # Matched among the distinct ids, not on every line.
            ids = pl.col(c).filter(used).unique().implode()
            return ids.list.eval(pl.element().filter(pl.element().str.contains(r"^[0-9]+$")))

        return lines.select(*(digits(c) for c in self._form_columns()))

    def lost_zeros(self, found: pl.DataFrame) -> list[str]:
        """Warnings from the collected ``lost_zeros_of``: per column, the ids that are another
        id of the column once their leading zeros are dropped (``'0006612'`` in some lines,
        ``'6612'`` in others: a month saved through a spreadsheet, then joined), read as two
        customers (skus), as ``schema.lost_zeros_hint`` says of two tables. Said, not merged:
        which width the ids had is not in the lines that lost it. Ids that differ in width
        without a leading zero (``'12'``, ``'123'``) never meet, so an export numbered without
        padding is not said."""
        out = []
        for c in found.columns:
            ids = found.get_column(c)[0]
            if ids is None or ids.len() < 2:
                continue
            groups = (
                ids.to_frame("id")
                .group_by(pl.col("id").str.strip_chars_start("0").alias("k"))
                .agg(pl.col("id").sort(), pl.len().alias("n"))
                .filter(pl.col("n") > 1)
                .sort("k")
            )
            if not groups.height:
                continue
            n = int(groups.get_column("n").sum()) - groups.height
            # The padded form first, as the export wrote it before the spreadsheet.
            shown = ", ".join(f"{w[0]!r} / {w[-1]!r}" for w in groups.get_column("id").head(2))
            more = ", ..." if groups.height > 2 else ""
            what = "customer" if c == "customer_id" else "product"
            out.append(
                f"{_id_named(c, self.mapping[c])}: {plural(n, 'id')} "
                f"{agree(n, 'is another id', 'are other ids')} of the column once leading "
                f"zeros are dropped ({shown}{more}), so one {what} is read as two: a "
                "spreadsheet dropped them from some lines (part of the export saved through "
                f"it); save its {c} column as text, or export it again, and read it again: "
                "segchain does not merge them"
            )
        return out

    def derived_orders_of(self, lines: pl.LazyFrame) -> pl.LazyFrame | None:
        """The query for ``derived_orders``, on ``lines`` (see ``rejects_of``): the orders
        the used lines make, where the import made their ids; None where the export gave them."""
        if "order_id" not in self.derived:
            return None
        some_rejected = "reason" in lines.collect_schema()
        used = lines.filter(pl.col("reason").is_null()) if some_rejected else lines
        return used.select(pl.col("order_id").n_unique().alias("orders"))

    def derived_orders(self, found: pl.DataFrame) -> str:
        """The note of the collected ``derived_orders_of``: how the orders were made, and how
        many."""
        return derived_orders_note(int(found.item(0, "orders")))

    def grouped_by_order_of(self, lines: pl.LazyFrame) -> pl.LazyFrame:
        """The query for ``grouped_by_order``, on ``lines``: how many lines were rejected
        ``missing_order_id`` though they give a product, their customer and date blank too, and
        the first rows of them."""
        if "reason" not in lines.collect_schema():
            return pl.LazyFrame(
                {"n": [0], "rows": [[]]},
                schema={"n": pl.get_index_type(), "rows": pl.List(pl.get_index_type())},
            )
        below = (
            (pl.col("reason") == "missing_order_id")
            & pl.col("customer_id").is_null()
            & pl.col("order_date").is_null()
            & pl.col("sku").is_not_null()
        )
        # Filtered first, as in ``other_forms_of``: the streaming engine holds those lines only.
        return lines.filter(below).select(
            pl.len().alias("n"), pl.col(ROW).head(3).implode().alias("rows")
        )

    def grouped_by_order(self, found: pl.DataFrame) -> list[str]:
        """A warning from the collected ``grouped_by_order_of``: lines that give a product and
        leave the order's id, customer and date blank are the lines below an order's first in an
        export grouped by order (Odoo's sale.order export with its order lines writes the
        order's fields on its first line only). They are rejected, as a blank id is anywhere,
        but without a word on why most of such an export was: the audit's Odoo file lost 2 of
        its 4 lines, counted as missing_order_id only."""
        n = int(found.get_column("n")[0] or 0)
        if not n:
            return []
        rows = ", ".join(str(r) for r in found.get_column("rows")[0].to_list())
        some = f"rows {rows}" + (", ..." if n > 3 else "") if n > 1 else f"row {rows}"
        return [
            f"{plural(n, 'line')} ({some}) {agree(n, 'gives', 'give')} a product but "
            "leave the order's id, customer and date blank, rejected as missing_order_id: an "
            "export grouped by order, with the order's fields on its first line only (as "
            "Odoo's sale.order export with its order lines writes). Export the order lines "
            "themselves (Odoo: the sale.order.line list, read with --preset odoo), or fill "
            "each order's fields down to its lines before reading"
        ]

    def _form_columns(self) -> list[str]:
        schema = self.raw.collect_schema()
        return [c for c in FORM_IDS if c in self.mapping and _is_string(schema, self.mapping[c])]

    def other_forms(self, found: pl.DataFrame, *, source: str | None) -> list[str]:
        """Warnings from the collected ``other_forms_of``: per column, the ids that are another
        id of the column in another Unicode form (``'Müller'`` with its ``ü`` one character,
        U+00FC, in some lines, ``u`` and a combining U+0308 in others, as when two systems'
        extracts are joined): the same on screen, read as two customers (skus). Said, not
        merged: segchain never makes two ids one. Normalising every line's ids costs seconds
        on millions of lines: the ids that may not be NFC are found in the pass, and only when
        there are some are the export's ids looked up for their NFC forms (in the export's
        lines but the rejected ones: a form every line of which was rejected is read as no
        customer, let alone a second one). ``source``: the export's one file, for the command
        that fixes it (None: several)."""
        out = []
        raw = self.raw
        if _REJECTED_ROWS in found.columns:
            rejected = found.get_column(_REJECTED_ROWS)[0]
            if rejected is not None and rejected.len():
                raw = raw.filter(~pl.col(ROW).is_in(rejected.implode()))
        for c in found.columns:
            if c == _REJECTED_ROWS:
                continue
            odd = found.get_column(c)[0]
            if odd is None or not odd.len():
                continue
            nfc = odd.str.normalize("NFC")
            h = self.mapping[c]
            composed = (
                raw.select(pl.col(h).str.strip_chars().alias(c))
                .filter(pl.col(c).is_in(nfc.unique().implode()))
                .unique()
                .collect()
                .get_column(c)
            )
            ids = pl.concat([odd, composed]).unique()
            groups = (
                ids.to_frame("id")
                .with_columns(pl.col("id").str.normalize("NFC").alias("nfc"))
                .group_by("nfc")
                .agg(pl.col("id").sort(), pl.len().alias("n"))
                .filter(pl.col("n") > 1)
                .sort("nfc")
            )
            if not groups.height:
                continue
            n = int(groups.get_column("n").sum()) - groups.height
            pairs = []
            for key, forms, _ in groups.head(2).iter_rows():
                # The composed (NFC) form first, as most tools write it.
                first = key if key in forms else forms[0]
                pairs.append((first, next(f for f in forms if f != first)))
            shown = [in_code_points(*pair) for pair in pairs]
            what = "customer" if c == "customer_id" else "product"
            out.append(
                f"{_id_named(c, h)}: {plural(n, 'id')} "
                f"{agree(n, 'is another id', 'are other ids')} of the column in "
                f"{another_form(*pairs)}, "
                f"so one {what} is read as two: {', '.join(shown)}; {_to_nfc(source)}: "
                "segchain does not merge them"
            )
        return out

    @property
    def summary(self) -> pl.LazyFrame:
        """Counts by (reason, flag), and by file for several files: the reconciliation."""
        return self.summary_of(self.lines)

    def summary_of(self, lines: pl.LazyFrame) -> pl.LazyFrame:
        """``summary`` from ``lines`` (see ``rejects_of``)."""
        keys = [SOURCE_FILE] if self.multi_file else []
        text = [pl.col("reason", "flag").cast(pl.String)]
        if "reason" not in lines.collect_schema():
            return (
                lines.group_by(*keys, "flag")
                .agg(pl.len().alias("n"))
                .select(*keys, pl.lit(None, dtype=pl.String).alias("reason"), "flag", "n")
                .with_columns(text)
            )
        if keys or lines.collect_schema()["flag"] != FLAG:
            return (
                lines.group_by(*keys, "reason", "flag").agg(pl.len().alias("n")).with_columns(text)
            )
        # The import's flags are a closed set: the used lines are counted per flag by sums
        # (a group-by of every line costs more), the few rejected ones grouped.
        rejected = lines.filter(pl.col("reason").is_not_null())
        rejected = rejected.group_by("reason", "flag").agg(pl.len().alias("n"))
        return pl.concat([rejected.with_columns(text), _used_by_flag(lines)])

    def customers_of(self, lines: pl.LazyFrame) -> pl.LazyFrame | None:
        """The query for ``all_rejected``, on ``lines`` (see ``rejects_of``): per customer id,
        whether it has a used line (``used``) and a reason of its rejected ones (``reason``;
        a repeated header's is none). A group-by, not two filters: polars shares the scan with
        the other queries of the pass only so (a filtered query read a Parquet export again).
        None when no line is rejected: no customer can be lost."""
        if "reason" not in lines.collect_schema():
            return None
        reason = pl.col("reason").cast(pl.String)
        return lines.group_by("customer_id").agg(
            pl.col("reason").is_null().any().alias("used"),
            reason.filter(reason != "repeated_header").first(),
        )

    @staticmethod
    def all_rejected(found: pl.DataFrame) -> list[str]:
        """The customers whose every line was rejected, from ``customers_of``'s frame."""
        used = pl.col("used")
        inside = found.filter(used).get_column("customer_id")
        return all_rejected_customers(inside, found.filter(~used).select("customer_id", "reason"))


FORM_IDS = ("customer_id", "sku")
"""The ids whose forms ``OrderImport.other_forms`` compares."""
_REJECTED_ROWS = "_segchain_rejected_rows"
"""``OrderImport.other_forms_of``'s list of the rejected lines' rows."""
# The code points, other than marks, that NFC replaces (Unicode 14, Python's unicodedata):
# Kelvin sign to K, CJK compatibility ideographs, precomposed letters excluded from composition.
_NFC_REPLACED = (
    "374 37E 387 958-95F 9DC-9DD 9DF A33 A36 A59-A5B A5E B5C-B5D F43 F4D F52 F57 F5C F69 "
    "1F71 1F73 1F75 1F77 1F79 1F7B 1F7D 1FBB 1FBE 1FC9 1FCB 1FD3 1FDB 1FE3 1FEB 1FEE-1FEF "
    "1FF9 1FFB 1FFD 2000-2001 2126 212A-212B 2329-232A 2ADC F900-FA0D FA10 FA12 FA15-FA1E "
    "FA20 FA22 FA25-FA26 FA2A-FA6D FA70-FAD9 FB1D FB1F FB2A-FB36 FB38-FB3C FB3E FB40-FB41 "
    "FB43-FB44 FB46-FB4E 1D15E-1D164 1D1BB-1D1C0 2F800-2FA1D"
)


def _class_range(text: str) -> str:
    a, _, b = text.partition("-")
    return f"\\x{{{a}}}" + (f"-\\x{{{b}}}" if b else "")


MAY_NOT_BE_NFC = (
    r"[\p{M}\x{1161}-\x{1175}\x{11A8}-\x{11C2}"
    + "".join(_class_range(t) for t in _NFC_REPLACED.split())
    + "]"
)
"""A text that matches none of these characters is in NFC (its NFC quick check is Yes): marks
(combining accents, which NFC may compose with the letter before them), Hangul vowel and final
jamo (composed into syllables) and the characters NFC replaces. Of two ids that NFC makes one,
at least one holds such a character."""


def _to_nfc(source: str | None) -> str:
    """How ``OrderImport.other_forms`` says to fix the export ``source``: with the command
    that does it for a text file (ICU's uconv), else in words (a Parquet file, several)."""
    import os.path

    how = "save the export's text in one form, NFC, and read it again"
    if source is None:
        return how
    stem, ext = os.path.splitext(source)
    if ext.lower() not in (".csv", ".tsv", ".txt") and source != "<stdin>":
        return how
    if source == "<stdin>":
        return f"{how} (e.g. ... | uconv -x any-nfc | segchain ...)"
    return f"{how} (e.g. uconv -x any-nfc {source} > {stem}-nfc{ext})"


def _used_by_flag(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``reason, flag, n`` of the used lines of each flag (``FLAG``, null included) that some
    hold: the rows and types a group-by by (reason, flag) gives them."""
    used = pl.col("reason").is_null()
    flags: list[str | None] = [None, *LINE_FLAGS]
    counts = lines.select(
        # A sum of booleans has pl.len()'s type.
        (used & (pl.col("flag").is_null() if f is None else pl.col("flag") == f))
        .sum()
        .alias(str(i))
        for i, f in enumerate(flags)
    )
    return (
        counts.unpivot(variable_name="_i", value_name="n")
        .filter(pl.col("n") > 0)
        .select(
            pl.lit(None, dtype=pl.String).alias("reason"),
            pl.col("_i")
            .replace_strict([str(i) for i in range(len(flags))], flags, return_dtype=pl.String)
            .alias("flag"),
            "n",
        )
    )


def validate_flags(frame: pl.DataFrame | pl.LazyFrame) -> dict[str, int] | None:
    """The lines of each code of ``frame``'s ``flag`` column when it holds segchain's flag codes
    and nothing else (blanks aside), at least one: validate's output that lost its metadata (a
    polars or pandas rewrite, a filter, validate's CSV). Else None: an export's own column of
    that name holding anything else is the export's."""
    lf = frame.lazy()
    schema = lf.collect_schema()
    dtype = schema.get("flag")
    if dtype is None or not (dtype == pl.String or isinstance(dtype, pl.Enum | pl.Categorical)):
        return None
    flag = pl.col("flag").cast(pl.String).str.strip_chars()
    counts = lf.select(flag).filter(flag != "").group_by("flag").len().collect()
    codes = {str(code): int(n) for code, n in counts.iter_rows()}
    return codes if codes and set(codes) <= set(LINE_FLAGS) else None


def typed_as_validated(frame: pl.DataFrame | pl.LazyFrame) -> bool:
    """``frame`` has validate's columns in its types (dates as dates, numbers as numbers), as
    a Parquet of validate's output rewritten keeps them; a CSV's text does not."""
    schema = frame.lazy().collect_schema()
    needed = (*ORDER_REQUIRED, "unit_price", "amount", "flag")
    return (
        all(c in schema for c in needed)
        and schema["order_date"].is_temporal()
        and all(schema[c].is_numeric() for c in ("quantity", "unit_price", "amount"))
    )


def from_clean(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    source: str = "orders",
    returns: Returns | None = None,
    note: str = "cleaned earlier by segchain validate: used as it is",
) -> OrderImport:
    """Take a table that ``segchain validate`` already cleaned (its Parquet says so) as it is.

    Re-parsing ten million clean lines would cost more than the stage that reads them.
    ``returns="drop"``: its lines flagged return or negative_price (which validate netted) are
    rejected with those reasons, as ``--returns drop`` rejects them from an export. ``note``:
    how stderr says it is taken.
    """
    lf = frame.lazy()
    all_names = lf.collect_schema().names()
    names = [c for c in all_names if c not in META_COLUMNS]
    missing = [c for c in (*ORDER_REQUIRED, "unit_price", "amount", "flag") if c not in names]
    if missing:
        raise MissingColumnsError(missing, names, source=source)
    indexed = lf.with_row_index(ROW, offset=1)
    keys = [SOURCE_FILE] if SOURCE_FILE in all_names else []
    notes = [note]
    if keys:
        # Two cleaned periods that overlap count the shared lines twice, as raw exports would.
        notes += _lines_in_several_files(lf, {c: c for c in LINE_IDENTITY if c in names})
    mapping = {c: c for c in names if c in (*ORDER_REQUIRED, *ORDER_VALUE, *ORDER_OPTIONAL)}
    reason: pl.Expr = pl.lit(None, dtype=REASON)
    if returns == "drop":
        flag = pl.col("flag").cast(pl.String)
        reason = (
            pl.when(flag == FLAG_RETURN)
            .then(pl.lit("return", dtype=REASON))
            .when(flag == FLAG_NEGATIVE_PRICE)
            .then(pl.lit("negative_price", dtype=REASON))
            .otherwise(None)
        )
    # Nothing to reject and no column to leave out: the lines are the table as scanned, so
    # that a stage's queries share the scan itself. Any column added to them (a row number,
    # a reason null on every line) made polars' streaming engine hold every line for the
    # queries sharing them: segment peaked at 1.9 GB on 9.2 M lines instead of 0.5 GB.
    lines = (
        lf
        if returns is None and names == all_names
        else indexed.select(ROW, *keys, *names).with_columns(reason=reason)
    )
    return OrderImport(
        lines=lines,
        raw=indexed,
        raw_columns=names,
        mapping=mapping,
        notes=notes,
        # Said by every stage that reads the table, as of the raw export: validate's Parquet is
        # the documented way in, and revenue summed EUR and USD there without a word.
        warnings=_mixed_units(lf, mapping),
        date_order="typed",
        source=source,
    )


@dataclass(frozen=True)
class Reconciliation:
    """``read N = used U + rejected R``, with counts per reason and per flag."""

    read: int
    used: int
    rejected: int
    by_reason: dict[str, int]
    by_flag: dict[str, int]
    by_file: dict[str, Reconciliation] = field(default_factory=dict)
    """Each file's own reconciliation, in the order read (several files only)."""

    @classmethod
    def from_summary(cls, summary: pl.DataFrame, files: Sequence[str] = ()) -> Reconciliation:
        """From ``OrderImport.summary``; ``files`` orders the per-file figures (all listed,
        a file without lines too)."""
        if SOURCE_FILE in summary.columns:
            per_file = summary.with_columns(pl.col(SOURCE_FILE).cast(pl.String))
            by_file = {
                name: cls.from_summary(
                    per_file.filter(pl.col(SOURCE_FILE) == name).drop(SOURCE_FILE)
                )
                for name in (files or sorted(set(per_file.get_column(SOURCE_FILE).to_list())))
            }
            total = cls.from_summary(summary.drop(SOURCE_FILE))
            return cls(
                read=total.read,
                used=total.used,
                rejected=total.rejected,
                by_reason=total.by_reason,
                by_flag=total.by_flag,
                by_file=by_file,
            )
        by_reason: dict[str, int] = {}
        by_flag: dict[str, int] = {}
        used = rejected = 0
        for reason, flag, n in summary.select("reason", "flag", "n").iter_rows():
            if reason is None:
                used += n
                if flag is not None:
                    by_flag[flag] = by_flag.get(flag, 0) + n
            else:
                rejected += n
                by_reason[reason] = by_reason.get(reason, 0) + n
        return cls(
            read=used + rejected,
            used=used,
            rejected=rejected,
            by_reason=dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_flag=dict(sorted(by_flag.items(), key=lambda kv: (-kv[1], kv[0]))),
        )

    def line(self) -> str:
        text = f"read {self.read:,} = used {self.used:,} + rejected {self.rejected:,}"
        if self.by_reason:
            text += " (" + ", ".join(f"{k} {v:,}" for k, v in self.by_reason.items()) + ")"
        return text

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "read": self.read,
            "used": self.used,
            "rejected": self.rejected,
            "rejected_by_reason": self.by_reason,
            "flagged": self.by_flag,
        }
        if self.by_file:
            out["files"] = {
                name: {"read": r.read, "used": r.used, "rejected": r.rejected}
                for name, r in self.by_file.items()
            }
        return out


# ---------------------------------------------------------------------------------------------
# Column profiles: small eager looks that decide how a whole column is parsed


def derived_order_id() -> pl.Expr:
    """The order id of a line whose export has none: its customer and its day, ``C1-20240301``.
    The date is a day (the import parses a time away), so every line of a customer's day has
    the same id; the id ends in its eight digits after the last '-', so no two (customer, day)
    pairs share one, and it never reads as a cancellation (``CANCEL_PATTERN``)."""
    return pl.concat_str(
        pl.col("customer_id"), pl.col("order_date").dt.strftime("%Y%m%d"), separator="-"
    ).alias("order_id")


# How the import made a missing order id, as the provenance records it beside the mapping.
DERIVED_ORDER_ID = "customer_id-yyyymmdd: each customer's lines of one day are one order"


def derived_orders_note(orders: int) -> str:
    """The import's note of ``derived_order_id``, with the orders it made of the used lines."""
    return (
        "no order_id column: each customer's lines of one day are one order, "
        f"{plural(orders, 'order')}"
    )


def check_mapping(headers: Sequence[str], mapping: Mapping[str, str], *, source: str) -> None:
    """Raise MissingColumnsError listing every required canonical column that is not mapped
    (``order_id`` not, where ``derives_order_id``)."""
    missing = missing_required(mapping)
    if missing:
        hint = title_row_hint(headers) or mapping_hint(headers, missing, mapping.values())
        raise MissingColumnsError(missing, list(headers), source=source, hint=hint)


# Lines below the header read that are looked at for the real header (a report's group row,
# from merged cells, taken for it): as many as the title lines skipped above a header.
HEADER_BELOW_LINES = 20


def header_below_hint(
    lf: pl.LazyFrame, headers: Sequence[str], missing: Sequence[str]
) -> str | None:
    """A hint when one of the first lines below the header read holds the names of every
    ``missing`` column: that line is the header, and the line read as one is a report's group
    row (merged cells, 'Order;;Customer;Item;Amounts'), whose labels a ``--map`` hint sent the
    user to (audit Q, session 62). Looked at only when a column is missing."""
    wanted = [
        [c.casefold()] if c != VALUE_WANTED else [v.casefold() for v in ORDER_VALUE]
        for c in missing
    ]
    rows = lf.select(pl.col(h).cast(pl.String) for h in headers).head(HEADER_BELOW_LINES)
    for i, row in enumerate(rows.collect().iter_rows(), start=1):
        names = {str(v).strip().casefold() for v in row if v is not None}
        if all(any(w in names for w in choice) for choice in wanted):
            shown = ", ".join(str(v).strip() for v in row if v is not None and str(v).strip())
            which = "the line" if i == 1 else f"line {i}"
            return (
                f"{which} below the one read as the header holds the column names "
                f"({cut(shown, 80)}): it is the header, and the line above it a group "
                "row or title. Drop the lines above it, e.g. tail -n +N export.csv | segchain "
                "validate - (N = that line's number in the file)"
            )
    return None


def _refuse_shared_numbers(mapping: Mapping[str, str]) -> None:
    """Refuse one header mapped to two number columns (``--map unit_price=quantity`` beside
    ``quantity``): no column holds a line's quantity and its price at once (and its profile,
    asked for twice in one select, ended in a polars DuplicateError).

    Raises:
        UsageError: a header gives two of quantity, unit_price, amount, lat, lon.
    """
    given: dict[str, list[str]] = {}
    for c in NUMBER_FIELDS:
        if c in mapping:
            given.setdefault(mapping[c], []).append(c)
    for header, columns in given.items():
        if len(columns) > 1:
            named = ", ".join(columns[:-1]) + " and " + columns[-1]
            raise UsageError(
                f"the header {header!r} is mapped to {named}: one column of numbers cannot be both",
                hint=f"map each to its own header, e.g. --map {columns[-1]}=HEADER",
            )


def _is_string(schema: pl.Schema, column: str) -> bool:
    return schema[column] == pl.String


def float_id_columns(lf: pl.LazyFrame, columns: Sequence[str]) -> set[str]:
    """Id columns a spreadsheet turned into floats: every value is digits with an optional .0."""
    schema = lf.collect_schema()
    text_cols = [c for c in columns if _is_string(schema, c)]
    typed = {c for c in columns if schema[c].is_float()}
    if not text_cols:
        return typed
    # Every value must match, so a sample rules most columns out without a full pass.
    head = _float_id_profile(lf.head(10_000), text_cols)
    candidates = [c for c in text_cols if head[f"{c}|all"] and head[f"{c}|any"]]
    if not candidates:
        return typed
    full = _float_id_profile(lf, candidates)
    return typed | {c for c in candidates if full[f"{c}|any"] and full[f"{c}|all"]}


def _float_id_profile(lf: pl.LazyFrame, columns: Sequence[str]) -> dict[str, bool]:
    exprs = []
    for c in columns:
        v = pl.col(c).str.strip_chars()
        exprs.append(v.str.contains(r"^\d+\.0+$").any().alias(f"{c}|any"))
        exprs.append(
            (v.is_null() | (v == "") | v.str.contains(r"^\d+(\.0+)?$")).all().alias(f"{c}|all")
        )
    return lf.select(exprs).collect().row(0, named=True)


def decimal_comma_files(
    lf: pl.LazyFrame,
    columns: Sequence[str],
    *,
    defaults: Mapping[str, bool],
    marks: Mapping[str, frozenset[str]] | None = None,
    ungrouped: Sequence[str] = (),
) -> dict[str, list[str]]:
    """For a table of several files (``_file``): per number column, the files that write it with
    a decimal comma, each file decided on its own values with its own default (``defaults``, by
    file name), as ``decimal_comma_columns`` decides one file. A folder may mix an export saved
    with ';' and decimal commas and one saved with ',' and points: one decision for the column
    would read one of them a hundred times too large."""
    schema = lf.collect_schema()
    text_cols = [c for c in columns if _is_string(schema, c)]
    if not text_cols:
        return {}
    counts = sure_counts(text_cols, marks, ungrouped=ungrouped)
    rows = lf.group_by(SOURCE_FILE).agg(counts).collect()
    out: dict[str, list[str]] = {}
    for row in rows.iter_rows(named=True):
        name = str(row[SOURCE_FILE])
        default = file_default(row, text_cols, default_comma=defaults.get(name, False))
        for c in text_cols:
            if uses_comma(row, c, default_comma=default):
                out.setdefault(c, []).append(name)
    return {c: sorted(files) for c, files in out.items()}


def _date_option(order: str) -> str:
    """How a date order is given to a command that has ``--date-format``."""
    return f"--date-format {order}"


class DateOrderError(DataError):
    """The day order of an export's dates needs saying: its hint says how (``hint_for``).

    Every command that reads orders has ``--date-format`` but report, which reads a raw export
    with ``$SEGCHAIN_DATE_FORMAT`` instead: told 'segchain validate --date-format', its user
    had to validate the export first, where the variable reads it as it is (``by_variable``)."""

    def hint_for(self, given: Callable[[str], str]) -> str:
        """The hint, ``given(order)`` saying how to give the order ``day-first``..."""
        raise NotImplementedError

    def by_variable(self, env: str) -> None:
        """Make the hint name the variable ``env`` (``SEGCHAIN_DATE_FORMAT=day-first``), and
        validate's option as the other way."""
        self.hint = (
            self.hint_for(lambda order: f"{env}={order}")
            + "; or read the export with segchain validate --date-format day-first (or "
            "month-first) -o orders.parquet and report on that"
        )


class MixedDateOrderError(DateOrderError):
    """Slash (or dotted) dates whose day is above 12 in the first place on some lines and in the
    second on others: the column has no single order. ``locate`` adds where the values occur."""

    def __init__(
        self,
        day_first: Sequence[str],
        month_first: Sequence[str],
        where: Mapping[str, str] | None = None,
        source: str | None = None,
    ) -> None:
        self.day_first, self.month_first = list(day_first), list(month_first)

        def shown(values: Sequence[str]) -> str:
            return ", ".join(
                f"{quoted(v, 40)}" + (f" ({where[v]})" if where and v in where else "")
                for v in values
            )

        super().__init__(
            f"{source + ': ' if source else ''}order dates mix day-first and month-first "
            f"values: {shown(self.day_first)} can only be day first, "
            f"{shown(self.month_first)} only month first",
            hint=self.hint_for(_date_option),
        )

    def hint_for(self, given: Callable[[str], str]) -> str:
        return (
            f"export the dates in one format, or pass {given('day-first')} (or month-first); "
            "lines that do not fit it are then rejected with reason bad_date, with their rows"
        )

    def locate(self, lf: pl.LazyFrame, column: str, *, source: str) -> MixedDateOrderError:
        """The same error naming the first row (and file) where each example value occurs."""
        values = [*self.day_first, *self.month_first]
        names = lf.collect_schema().names()
        indexed = lf if SOURCE_ROW in names else lf.with_row_index(SOURCE_ROW, offset=1)
        files = [pl.col(SOURCE_FILE).cast(pl.String)] if SOURCE_FILE in names else []
        found = (
            indexed.select(pl.col(column).str.strip_chars().alias("_v"), SOURCE_ROW, *files)
            .filter(pl.col("_v").is_in(values))
            .group_by("_v")
            .first()
            .collect()
        )
        where = {}
        for row in found.iter_rows(named=True):
            text = f"row {row[SOURCE_ROW]:,}"
            if SOURCE_FILE in row:
                text += f" of {short(row[SOURCE_FILE])}"
            where[row["_v"]] = text
        return MixedDateOrderError(
            self.day_first,
            self.month_first,
            where,
            source=None if SOURCE_FILE in names else source,
        )


class AmbiguousDateOrderError(DateOrderError):
    """Slash dates none of which has a part above 12 (``01/03/2024``): day first and month first
    both read every line, as different dates, and nothing in the column says which is meant."""

    def __init__(self, examples: Sequence[str], *, source: str | None = None) -> None:
        self.examples = list(examples)
        shown = ", ".join(f"{quoted(v, 40)}" for v in self.examples)
        super().__init__(
            f"{source + ': ' if source else ''}order dates can be read day first or month "
            f"first: no value has a day above 12 ({shown}), so nothing in the column says "
            "which order it is",
            hint=self.hint_for(_date_option),
        )

    def hint_for(self, given: Callable[[str], str]) -> str:
        return (
            f"say which with {given('month-first')} (mm/dd/yyyy, as US exports write them) or "
            f"{given('day-first')} (dd/mm/yyyy), or date_format in the [orders] table of "
            "segchain.toml"
        )


@dataclass(frozen=True)
class DateStyle:
    """How a date column is parsed: per-value kinds, and for slashes the column's day order."""

    order: str  # "day-first" | "month-first" | "iso" | "format"
    fmt: str | None = None
    note: str = ""
    # dd.mm.yyyy, as Europe writes dots, unless --date-format or the column says month first.
    dotted: str = "day-first"


def detect_date_style(values: pl.Series, *, date_format: str | None = None) -> DateStyle:
    """Decide how to read a column of date strings, looking at every distinct value.

    ``date_format`` overrides: ``day-first``/``dayfirst``, ``month-first``/``monthfirst``, or a
    strptime format such as ``%d/%m/%Y``.
    """
    if date_format and date_format.strip():  # blank: detected from the data
        from segchain.config import Invalid, check_date_format, date_format_order

        order = date_format_order(date_format)
        if order is not None:
            return DateStyle(order, note=f"{order} (from --date-format)", dotted=order)
        try:
            check_date_format(date_format)
        except Invalid as exc:
            raise UsageError(
                f"--date-format {quoted(date_format, 60)}: {exc.reason}", hint=exc.hint
            ) from None
        return DateStyle("format", fmt=date_format, note=f"format {date_format} (--date-format)")
    given = values.drop_nulls().str.strip_chars()
    dotted = _dotted_order(given.filter(given.str.contains(DATE_KINDS["dotted"])))
    slash = given.filter(given.str.contains(DATE_KINDS["slash"]))
    # The stripped values: SAP pads every field (' 01.03.2024 '), read as dates all the same.
    kinds = [k for k, rx in DATE_KINDS.items() if given.str.contains(rx).any()]
    if dotted == "month-first":
        kinds = [DOTTED_MONTH_FIRST if k == "dotted" else k for k in kinds]
    labels = [SERIAL_LABEL if k == "serial" else k for k in kinds if k != "slash"]
    if slash.is_empty():
        note = " + ".join(labels) if kinds else "no recognisable dates"
        return DateStyle("iso", note=note, dotted=dotted)
    parts = slash.str.extract_groups(r"^(\d{1,2})/(\d{1,2})/")
    first = parts.struct.field("1").cast(pl.Int32)
    second = parts.struct.field("2").cast(pl.Int32)
    first_big, second_big = bool((first > 12).any()), bool((second > 12).any())
    if first_big and second_big:
        raise MixedDateOrderError(
            sorted(slash.filter(first > 12).unique().to_list())[:3],
            sorted(slash.filter(second > 12).unique().to_list())[:3],
        )
    # Every other kind read is said, as without slashes: a serial (45300) among slashed dates
    # was read as one with only the slash order in the note.
    also = "".join(f" + {label}" for label in labels)
    if second_big:
        return DateStyle(
            "month-first",
            note=f"month-first (mm/dd; a day above 12 is in 2nd place){also}",
            dotted=dotted,
        )
    if first_big:
        return DateStyle(
            "day-first",
            note=f"day-first (dd/mm; a day above 12 is in 1st place){also}",
            dotted=dotted,
        )
    differ = slash.filter(first != second)
    if not differ.is_empty():
        # A US export of a month's first days (01/03/2024: 3 January) was read day first, every
        # date wrong by months, with only a note: no value here says which order it is.
        raise AmbiguousDateOrderError(sorted(differ.unique().to_list())[:3])
    return DateStyle(
        "day-first", note=f"dd/mm and mm/dd agree (every day equals its month){also}", dotted=dotted
    )


SERIAL_LABEL = "serial (Excel day numbers)"
DOTTED_MONTH_FIRST = "dotted month-first (mm.dd; a day above 12 is in 2nd place)"


def _dotted_order(dotted: pl.Series) -> str:
    """The day order of dd.mm.yyyy dates: day first, as Europe writes dots, unless values that
    can only be month first (03.25.2024) are a tenth of the distinct dates or more and none can
    only be day first: such an export lost every line whose day is above 12 (bad_date) and read
    04.01.2024 as 4 January. A stray typo (05.13.2024 among dates of the 1st to the 12th) does
    not turn a European column: it stays a bad date."""
    distinct = dotted.unique()
    parts = distinct.str.extract_groups(r"^(\d{1,2})\.(\d{1,2})\.")
    first = parts.struct.field("1").cast(pl.Int32)
    second = parts.struct.field("2").cast(pl.Int32)
    month_only = int((second > 12).sum())
    if month_only and 10 * month_only >= distinct.len():
        day_only = first > 12
        if bool(day_only.any()):
            # As many month-first values as make a column month first, beside day-first ones:
            # two exports joined, each in its own order. Read day first, every month-first line
            # with a day up to 12 took another date, without a word.
            raise MixedDateOrderError(
                sorted(distinct.filter(day_only).to_list())[:3],
                sorted(distinct.filter(second > 12).to_list())[:3],
            )
        return "month-first"
    return "day-first"


def date_expr(column: str, style: DateStyle) -> pl.Expr:
    """Parse a string column to pl.Date, each value by the kind it matches."""
    v = pl.col(column).str.strip_chars()
    if style.order == "format":
        assert style.fmt is not None
        full = v.str.strptime(pl.Datetime, style.fmt, strict=False).dt.date()
        date_only = v.str.split(" ").list.first().str.strptime(pl.Date, style.fmt, strict=False)
        return pl.coalesce(full, date_only)
    head = v.str.split(" ").list.first().str.split("T").list.first()
    slash_fmt = "%d/%m/%Y" if style.order != "month-first" else "%m/%d/%Y"
    slash_fmt_short = slash_fmt.replace("%Y", "%y")

    def when(kind: str, parsed: pl.Expr) -> pl.Expr:
        return pl.when(v.str.contains(DATE_KINDS[kind])).then(parsed)

    dotted = head.str.replace_all(r"\.", "/")
    dotted_fmt = "%d/%m/%Y" if style.dotted != "month-first" else "%m/%d/%Y"
    serial = (
        v.str.replace(",", ".", literal=True)
        .cast(pl.Float64, strict=False)
        .floor()
        .cast(pl.Int64, strict=False)
    )
    return pl.coalesce(
        when("day_month_name", _named_month(v, day_first=True)),
        when("month_name_day", _named_month(v, day_first=False)),
        when("iso", head.str.strptime(pl.Date, "%Y-%m-%d", strict=False)),
        when("ymd_slash", head.str.strptime(pl.Date, "%Y/%m/%d", strict=False)),
        when("dotted", _dmy(dotted, dotted_fmt, dotted_fmt.replace("%Y", "%y"))),
        when("slash", _dmy(head, slash_fmt, slash_fmt_short)),
        when("compact", head.str.strptime(pl.Date, "%Y%m%d", strict=False)),
        when(
            "serial",
            pl.lit(EXCEL_EPOCH).str.to_date() + pl.duration(days=serial),
        ),
    ).alias(column)


def _named_month(text: pl.Expr, *, day_first: bool) -> pl.Expr:
    """A date written with an English month name, as dd/mm/yyyy for ``_dmy``."""
    parts = text.str.extract_groups(
        _NAMED_LEAD + (_DAY_MONTH_YEAR if day_first else _MONTH_DAY_YEAR)
    )
    day, month = ("1", "2") if day_first else ("2", "1")
    number = (
        parts.struct.field(month)
        .str.to_lowercase()
        .str.slice(0, 3)
        .replace_strict(MONTHS, [f"{i:02d}" for i in range(1, 13)], default=None)
    )
    joined = pl.concat_str(
        [parts.struct.field(day), number, parts.struct.field("3")], separator="/"
    )
    return _dmy(joined, "%d/%m/%Y", "%d/%m/%y")


def _dmy(text: pl.Expr, long_fmt: str, short_fmt: str) -> pl.Expr:
    # Four-digit years first; two-digit years (yy) only when the year part has two digits.
    year_digits = text.str.extract(r"/(\d+)$").str.len_chars()
    return (
        pl.when(year_digits == 4)
        .then(text.str.strptime(pl.Date, long_fmt, strict=False))
        .when(year_digits == 2)
        .then(text.str.strptime(pl.Date, short_fmt, strict=False))
    )


def id_expr(
    column: str,
    *,
    dtype: pl.DataType,
    float_like: bool,
    blank_as_null: bool = True,
    trim: bool = True,
    formulas: bool = False,
) -> pl.Expr:
    """An identifier as a trimmed string; ``17850.0`` becomes ``17850`` in float-like columns.
    ``trim=False``: a string id as exported (see ``OrderImport.as_exported``). ``formulas``:
    the column holds ids written as Excel formulas (``excel_formula_ids``), read as the text
    they wrap."""
    c = pl.col(column)
    if dtype.is_float():
        # A whole number is the id a spreadsheet wrote as a float (17850.0 is 17850); one with
        # a fraction is kept as written, so that 17850.4 never becomes customer 17850. NaN is
        # no id.
        whole = c == c.round(0)
        return (
            pl.when(c.is_nan())
            .then(None)
            .when(whole)
            .then(c.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(c.cast(pl.String))
            .alias(column)
        )
    if isinstance(dtype, pl.Decimal):
        # Decimal(20, 2) writes 17850 as '17850.00': the zeros of its scale are no part of it.
        return c.cast(pl.String).str.replace(r"\.0+$", "").alias(column)
    if dtype != pl.String:
        return c.cast(pl.String).alias(column)
    v = c.str.strip_chars() if trim else c
    if formulas:
        v = formula_text(v)
        v = v.str.strip_chars() if trim else v
    if float_like:
        v = v.str.replace(r"\.0+$", "")
    # strip_chars turns a blank into "", which must count as missing.
    return v.alias(column) if not blank_as_null else id_null(v).alias(column)


def blank_null(text: pl.Expr) -> pl.Expr:
    """``text`` with "" as null: a second step over already trimmed ids (``id_expr`` with
    ``blank_as_null=False``), so that each id is trimmed once (a when/then naming the trimmed
    value twice would trim it twice)."""
    return pl.when(text.str.len_bytes() > 0).then(text)


def _decimal_commas(
    lf: pl.LazyFrame,
    numbers: Sequence[str],
    decimal_comma: bool | Mapping[str, bool],
    notes: list[str],
    marks: Mapping[str, frozenset[str]],
    ungrouped: Sequence[str] = (),
) -> dict[str, bool | pl.Expr]:
    """Per number column, its decimal comma for ``number_expr`` (noted in ``notes``): one
    decision for one file, or per file when ``decimal_comma`` gives each file's default.
    ``ungrouped``: the columns never grouped in thousands (the coordinates' headers)."""
    if isinstance(decimal_comma, bool) or SOURCE_FILE not in lf.collect_schema():
        default = decimal_comma if isinstance(decimal_comma, bool) else any(decimal_comma.values())
        cols = decimal_comma_columns(
            lf, numbers, default_comma=default, marks=marks, ungrouped=ungrouped
        )
        if cols:
            notes.append("decimal comma in: " + ", ".join(sorted(cols)))
        # The file's dialect line says 'decimal comma' (a ';' file's default): the columns
        # read with a point after all are named, or a user checking that line would think
        # 12.500 read as 12,500.
        points = [c for c in numbers if c in marks and c not in cols]
        if default and points:
            notes.append(f"decimal point in: {', '.join(points)} (not the ';' default, a comma)")
        return {c: True for c in cols}
    files = decimal_comma_files(
        lf, numbers, defaults=decimal_comma, marks=marks, ungrouped=ungrouped
    )
    out: dict[str, bool | pl.Expr] = {}
    for c, names in sorted(files.items()):
        if len(names) == len(decimal_comma):
            out[c] = True
            notes.append(f"decimal comma in: {c}")
        else:
            out[c] = pl.col(SOURCE_FILE).cast(pl.String).is_in(names)
            shown = ", ".join(short(n, 60) for n in names[:3]) + (", ..." if len(names) > 3 else "")
            notes.append(
                f"decimal comma in: {c} ({count(len(names))} of {count(len(decimal_comma))} "
                f"files: {shown})"
            )
    by_default = sorted(name for name, comma in decimal_comma.items() if comma)
    for c in (c for c in numbers if c in marks):
        pointed = [n for n in by_default if n not in files.get(c, [])]
        if pointed:
            shown = ", ".join(short(n, 60) for n in pointed[:3]) + (", ..." * (len(pointed) > 3))
            notes.append(
                f"decimal point in: {c} ({count(len(pointed))} of {count(len(by_default))} "
                f"files whose delimiter ';' makes a comma the default: {shown})"
            )
    return out


# The fields that make one order line: the same values in two files are one line exported twice.
LINE_IDENTITY = ("order_id", "order_date", "customer_id", "sku", "quantity", "unit_price", "amount")


def _lines_in_several_files(lf: pl.LazyFrame, mapping: Mapping[str, str]) -> list[str]:
    """A note when lines of one file appear, field for field, in another: exports whose periods
    overlap, or one month exported twice, count those lines twice (a doubled monthly file put
    81 % on a forecast). Kept, as exported: a line repeated within one file can be genuine
    (Online Retail has such lines), and across files it is the user's to say."""
    # Each header once: one may give two ids (a struct of a name twice is a DuplicateError).
    cols = list(dict.fromkeys(mapping[c] for c in LINE_IDENTITY if c in mapping))
    # By a 64-bit hash of the fields: a group-by on seven text columns cost a fifth of a
    # two-file validate; a false match needs a hash collision (about 1 in 1e19 per pair).
    groups = (
        lf.group_by(pl.struct(cols).hash(seed=0).alias("_line"))
        .agg(
            pl.col(SOURCE_FILE).n_unique().alias("files"),
            pl.col(SOURCE_FILE).min().alias("a"),
            pl.col(SOURCE_FILE).max().alias("b"),
        )
        .filter(pl.col("files") > 1)
    )
    # The first pair of files in file order, so that the note is the same on every run.
    found = (
        groups.sort("a", "b")
        .select(
            pl.len().alias("lines"),
            pl.col("a").first().cast(pl.String),
            pl.col("b").first().cast(pl.String),
        )
        .collect()
        .row(0)
    )
    if not found[0]:
        return []
    return [
        f"{plural(found[0], 'line')} {agree(found[0], 'appears', 'appear')} field for field in "
        "more than one file (e.g. in "
        f"{short(found[1], 60)} and {short(found[2], 60)}): overlapping exports count "
        f"{agree(found[0], 'it', 'them')} twice; "
        "give each period once"
    ]


# ---------------------------------------------------------------------------------------------
# The import


# How a spreadsheet writes a long number in a cell formatted "General": 4.00638E+12.
_SCIENTIFIC = r"^\d(\.\d+)?[eE]\+\d{2,}$"


# How an export "for Excel" writes an id so that Excel keeps its leading zeros: ="00047", a
# formula whose value is the text it wraps. Without a quote inside (Excel would double it).
_FORMULA_ID = r'^="([^"]*)"$'


def formula_text(text: pl.Expr) -> pl.Expr:
    """``text`` with an id written as an Excel formula (``="00047"``) as the text it wraps
    (``00047``), as Excel shows it; any other value as it is."""
    return pl.coalesce(text.str.extract(_FORMULA_ID, 1), text)


def excel_formula_ids(
    lf: pl.LazyFrame, mapping: Mapping[str, str], *, whole: bool
) -> tuple[set[str], list[str]]:
    """The id columns (headers) holding ids written as Excel formulas (``="00047"``), and a
    note per column counting them. An export's "for Excel" option writes them so; the same id
    written plain in another month's export (or another line) was another customer. Only the
    columns that hold some pay for the unwrapping: a column is looked at by its fields'
    first bytes (0.05 s a column of 9 M lines, against 0.3 s for a search anywhere in the
    field), over every line of a ``whole`` table (a CSV, read whole) and the first 10,000 of a
    scanned one (a Parquet file: reading its id columns once more cost half of segment's pass;
    an export's option writes every id of the column so)."""
    schema = lf.collect_schema()
    headers = list(
        dict.fromkeys(
            mapping[c] for c in ID_FIELDS if c in mapping and _is_string(schema, mapping[c])
        )
    )
    if not headers:
        return set(), []
    probe = lf if whole else lf.head(10_000)
    held = (
        probe.select(pl.col(h).str.starts_with('="').any().alias(h) for h in headers)
        .collect()
        .row(0, named=True)
    )
    hit = [h for h in headers if held[h]]
    if not hit:
        return set(), []

    def formula(h: str) -> pl.Expr:
        return pl.col(h).str.strip_chars().str.contains(_FORMULA_ID)

    counts = lf.select(
        expr
        for i, h in enumerate(hit)
        for expr in (
            formula(h).sum().alias(f"{i}|n"),
            pl.col(h).filter(formula(h)).first().str.strip_chars().alias(f"{i}|e"),
        )
    ).collect()
    columns, notes = set(), []
    for i, h in enumerate(hit):
        n, e = counts[f"{i}|n"][0], counts[f"{i}|e"][0]
        if not n:
            continue
        columns.add(h)
        names = ", ".join(_id_named(c, h) for c in ID_FIELDS if mapping.get(c) == h)
        written = agree(n, "an Excel formula", "Excel formulas")
        notes.append(
            f"{names}: {plural(n, 'id')} written as {written} (e.g. {quoted(e, 40)}) read as "
            f"the text they wrap ({quoted(e[2:-1], 40)}), as Excel shows {agree(n, 'it', 'them')}"
        )
    return columns, notes


def _text_ids(lf: pl.LazyFrame, mapping: Mapping[str, str]) -> dict[str, str]:
    """The id columns (``order_id``, ``customer_id``, ``sku``) read as text: canonical name ->
    header. Only these can hold what a spreadsheet or a stray quote did to an id."""
    schema = lf.collect_schema()
    return {
        c: mapping[c]
        for c in ("order_id", "customer_id", "sku")
        if c in mapping and _is_string(schema, mapping[c])
    }


def _id_named(canonical: str, header: str) -> str:
    """An id column as the import's warnings name it: ``sku``, or ``sku (MATNR)``."""
    return canonical if header == canonical else f"{canonical} ({short(header, 40)})"


def _rounded_ids(lf: pl.LazyFrame, mapping: Mapping[str, str]) -> list[str]:
    """Warnings for id columns holding values in a spreadsheet's scientific notation: a 13-digit
    EAN saved as ``4.00638E+12`` has lost its last digits, so different skus (customers,
    orders) may have become one, and nothing can recover them. A spreadsheet does this to the
    whole column, so the first 10,000 lines decide whether the lines are counted."""
    cols = _text_ids(lf, mapping)
    if not cols:
        return []

    def rounded(h: str) -> pl.Expr:
        return pl.col(h).str.strip_chars().str.contains(_SCIENTIFIC)

    head = lf.head(10_000).select(rounded(h).any().alias(c) for c, h in cols.items()).collect()
    hit = {c: h for c, h in cols.items() if head[c][0]}
    if not hit:
        return []
    counts = lf.select(
        expr
        for c, h in hit.items()
        for expr in (
            rounded(h).sum().alias(f"{c}|n"),
            pl.col(h).filter(rounded(h)).n_unique().alias(f"{c}|u"),
            pl.col(h).filter(rounded(h)).first().alias(f"{c}|e"),
        )
    ).collect()
    out = []
    for c, h in hit.items():
        n, u, e = (counts[f"{c}|{k}"][0] for k in "nue")
        named = _id_named(c, h)
        out.append(
            f"{named}: {plural(n, 'line')} {agree(n, 'holds', 'hold')} an id in a "
            f"spreadsheet's scientific notation ({u:,} "
            f"distinct, e.g. {quoted(e, 30)}): its last digits are lost, so different ids may "
            "have become one; export the column again formatted as text"
        )
    return out


def _joined_lines(lf: pl.LazyFrame, mapping: Mapping[str, str]) -> list[str]:
    """Warnings for id columns holding a line break: a stray quote opening an id, closed by a
    quote lines later, makes the lines between one quoted field of a valid CSV, so they are
    read as no order line and the count of lines read does not show it. No id holds a line
    break (a description may: it is not looked at). The lines are kept as read."""
    cols = _text_ids(lf, mapping)
    if not cols:
        return []

    def broken(h: str) -> pl.Expr:
        return pl.col(h).str.contains(r"[\r\n]")

    has_row = SOURCE_ROW in lf.collect_schema()
    indexed = lf if has_row else lf.with_row_index(SOURCE_ROW, offset=1)
    counts = indexed.select(
        expr
        for c, h in cols.items()
        for expr in (
            broken(h).sum().alias(f"{c}|n"),
            pl.col(h).filter(broken(h)).first().alias(f"{c}|e"),
            pl.col(SOURCE_ROW).filter(broken(h)).first().alias(f"{c}|r"),
        )
    ).collect()
    out = []
    for c, h in cols.items():
        n, e, r = (counts[f"{c}|{k}"][0] for k in "ner")
        if not n:
            continue
        named = _id_named(c, h)
        out.append(
            f"{named}: {plural(n, 'line')} {agree(n, 'holds', 'hold')} a line break in "
            f"{agree(n, 'its id', 'their ids')} (row {int(r):,}: {quoted(e, 80)}): a quoted "
            "field spanning lines joined them into one, so the lines in it are not read as "
            "order lines; check the export's quotes there (a stray \" opening the field)"
        )
    return out


def _unread_coordinates(
    lf: pl.LazyFrame,
    mapping: Mapping[str, str],
    *,
    comma: Mapping[str, bool | pl.Expr],
    marks: Mapping[str, frozenset[str]],
    kept: Callable[[pl.LazyFrame], pl.LazyFrame],
) -> list[str]:
    """Warnings for coordinates written as no number (``abc``, ``52,5N`` in a decimal-point
    column, ``52°31'N``), out of range (a lat of 95, a lon of 200), or both 0 (a placeholder):
    such a coordinate becomes empty. A coordinate is optional and describes the ship-to, not
    the sale, so the line is kept (as a blank one is) and its quantity and value still count;
    the warning counts the lines per column and shows the first with their rows and values as
    written. Their distinct values are parsed once (a ship-to's coordinates repeat on its every
    line: a fifth of the cost of parsing each line's), and the lines looked at only when some
    value is bad. ``kept``: of such lines (with their ``ROW``), those the import keeps; a line
    rejected for another reason (a repeated header's 'lat', an extra-field line's shifted
    fields) is neither kept nor emptied, and was counted here as a bad coordinate."""
    schema = lf.collect_schema()
    cols = {c: mapping[c] for c in COORDINATES if c in mapping}
    if not cols:
        return []

    def parsed(c: str) -> pl.Expr:
        h = cols[c]
        return number_expr(
            h,
            is_string=_is_string(schema, h),
            decimal_comma=comma.get(h, False),
            marks=marks.get(h, NUMBER_MARKS),
            grouped=False,
        )

    # Each rule over the values of ``value`` (the column parsed, by its canonical name).
    Rule = Callable[[str, Callable[[str], pl.Expr]], pl.Expr]

    def unread(c: str, value: Callable[[str], pl.Expr]) -> pl.Expr:
        # Text that reads as no number, or NaN or an infinity (written so, or a typed column's
        # float): no place, as an export's NA is none.
        h = cols[c]
        not_finite = ~value(c).is_finite()
        if not _is_string(schema, h):
            return not_finite
        return (pl.col(h).str.strip_chars() != "") & (value(c).is_null() | not_finite)

    def outside(c: str, value: Callable[[str], pl.Expr]) -> pl.Expr:
        # NaN and inf are said as no number (``unread``), not as a value one could swap.
        return value(c).is_finite() & (value(c).abs() > COORDINATE_LIMITS[c])

    def nowhere(c: str, value: Callable[[str], pl.Expr]) -> pl.Expr:
        # Both exactly 0: a geocoder's or an ERP's placeholder for no coordinates.
        return (value("lat") == 0) & (value("lon") == 0)

    rules: list[tuple[str, Rule]] = [(c, rule) for c in cols for rule in (unread, outside)]
    rules += [("lat", nowhere)] if len(cols) == 2 else []
    # A file's own separator (several files) reads a value: distinct per file then.
    per_file = (
        [SOURCE_FILE] if any(isinstance(comma.get(h), pl.Expr) for h in cols.values()) else []
    )
    # Collected before they are parsed: a filter after the unique is pushed before it. The
    # ship-tos' distinct coordinates, one pass for every rule, each column parsed once.
    distinct = (
        lf.select(*dict.fromkeys(cols.values()), *per_file)
        .unique()
        .collect()
        .with_columns(parsed(c).alias(f"_{c}") for c in cols)
    )
    met = distinct.select(
        rule(c, lambda k: pl.col(f"_{k}")).any().alias(str(n)) for n, (c, rule) in enumerate(rules)
    ).row(0)
    found = [r for r, m in zip(rules, met, strict=True) if m]
    # Rows as the rejects file counts them: in their own file, from 1 after the header.
    files = SOURCE_FILE in schema
    indexed = lf if SOURCE_ROW in schema else lf.with_row_index(SOURCE_ROW, offset=1)
    out = []
    for c, rule in found:
        shown_cols = list(dict.fromkeys(cols.values())) if rule is nowhere else [cols[c]]
        bad = kept(indexed.filter(rule(c, parsed))).select(
            SOURCE_ROW, *[SOURCE_FILE] * files, *shown_cols
        )
        n, first = pl.collect_all([bad.select(pl.len()), bad.head(3)])
        if not n.item():
            continue
        shown = "; ".join(
            f"row {int(r[SOURCE_ROW]):,}"
            + (f" of {short(str(r[SOURCE_FILE]), 60)}" if files else "")
            + ": "
            + ", ".join(quoted(r[h], 30) for h in shown_cols)
            for r in first.iter_rows(named=True)
        )
        lines = int(n.item())
        more = "; ..." if lines > first.height else ""
        holds = f"{plural(lines, 'line')} {agree(lines, 'holds', 'hold')}"
        where = "by postal code, city or country"
        if rule is nowhere:
            out.append(
                f"{_id_named('lat', cols['lat'])}, {_id_named('lon', cols['lon'])}: {holds} "
                f"0, 0 ({shown}{more}), the placeholder of a ship-to without coordinates (at "
                "sea, in the Gulf of Guinea): kept with lat and lon empty (segment places a "
                f"customer without coordinates {where}); leave unknown coordinates blank"
            )
            continue
        limit = COORDINATE_LIMITS[c]
        what = "no number" if rule is unread else f"a value outside [-{limit:g}, {limit:g}]"
        fix = (
            "write coordinates as numbers in decimal degrees (52.52, -0.1276; no N/S/E/W or "
            "degree signs)"
            if rule is unread
            else "are lat and lon swapped? A latitude lies within [-90, 90], a longitude within "
            "[-180, 180], in decimal degrees"
        )
        out.append(
            f"{_id_named(c, cols[c])}: {holds} {what} ({shown}{more}): kept with {c} empty "
            f"(segment places a customer without coordinates {where}); {fix}"
        )
    return out


def _mixed_units(lf: pl.LazyFrame, mapping: Mapping[str, str]) -> list[str]:
    """Warnings when the export's own ``currency`` or ``unit`` column says that numbers summed as
    one are not in one unit: amounts in EUR and USD, or a sku sold by the piece and by the case
    (SAP's WAERK, VRKME). Nothing is converted (the rates and pack sizes are not in an export); the
    lines are kept, and the warning says how many and where."""
    out: list[str] = []

    def text(column: str) -> pl.Expr:
        return blank_null(pl.col(mapping[column]).cast(pl.String).str.strip_chars())

    def lines(column: str) -> pl.LazyFrame:
        # A repeated header's cell (two exports joined, an SAP list's page headers) holds the
        # column's own name, no currency or unit: the line is rejected as repeated_header.
        heading = text(column) == bare_name(mapping[column])
        return lf.filter(~heading.fill_null(False))

    if "currency" in mapping:
        counts = _value_counts(lines("currency").select(text("currency").alias("c")))
        out += _currencies_warning(f"currency ({mapping['currency']})", counts)
    if "unit" in mapping:
        units = (
            lines("unit")
            .select(text("sku").alias("sku"), text("unit").alias("u"))
            .drop_nulls()
            .group_by("sku")
            .agg(pl.col("u").unique().sort())
            .filter(pl.col("u").list.len() > 1)
            .sort("sku")
            .collect()
        )
        if units.height:
            shown = "; ".join(
                f"{short(sku, 30)}: {', '.join(u)}" for sku, u in units.head(3).iter_rows()
            )
            more = "; ..." if units.height > 3 else ""
            out.append(
                f"unit ({mapping['unit']}): {plural(units.height, 'sku')} sold in more than one "
                f"unit, {agree(units.height, 'its', 'their')} quantities summed as they are "
                f"({shown}{more}); convert {agree(units.height, 'it', 'them')} to one unit per "
                "sku first"
            )
    return out


def _valued_zero(schema: pl.Schema, mapping: Mapping[str, str]) -> pl.Expr | None:
    """The number of lines of quantity 0 that carry a value of their own (an ``amount`` column:
    Complete Journey's lines of quantity 0 with a sales_value), as an aggregation: counted in
    the import's one look at the date column, not in a pass of its own; None without both
    columns. See ``_valued_zero_note``."""
    if "amount" not in mapping or "quantity" not in mapping:
        return None
    q, a = pl.col(mapping["quantity"]), pl.col(mapping["amount"])
    if schema[mapping["quantity"]] == pl.String:
        zero = q.str.contains(r"^\s*[+-]?(0+([.,]0*)?|[.,]0+)\s*$")
    else:
        zero = q.cast(pl.Float64, strict=False) == 0
    if schema[mapping["amount"]] == pl.String:
        valued = a.str.contains(r"[1-9]")
    else:
        valued = a.cast(pl.Float64, strict=False).fill_nan(0).abs() > 0
    return (zero & valued).fill_null(False).sum().alias(_VALUED_ZERO)


_VALUED_ZERO = "_valued_zero"


def _price_blank(schema: pl.Schema, mapping: Mapping[str, str]) -> pl.Expr | None:
    """The number of lines whose unit price is blank beside an amount (NetSuite's Rate, blank
    where only the Amount is set), as an aggregation counted in the import's one look at the
    date column; None without both columns. Such a line is valued by its amount, as a line of an
    export without a price column is. An amount that is no number is parsed only when some are
    found (the count is then made exact)."""
    if "amount" not in mapping or "unit_price" not in mapping:
        return None
    given = pl.col(mapping["amount"]).is_not_null()
    return (_blank(mapping["unit_price"], schema) & given).sum().alias(_PRICE_BLANK)


_PRICE_BLANK = "_price_blank"


def _priced_by_amount_note(n: int, mapping: Mapping[str, str]) -> list[str]:
    """A note counting the ``n`` lines valued by their amount beside a blank unit price: they
    were rejected bad_price, their value lost, though the value the stages use was there."""
    if not n:
        return []
    price, amount = _id_named("unit_price", mapping["unit_price"]), mapping["amount"]
    return [
        f"{plural(n, 'line')} with a blank {price} and an amount ({amount}): valued by "
        f"{agree(n, 'its', 'their')} amount, unit price = amount / quantity"
    ]


def _valued_zero_note(n: int, mapping: Mapping[str, str]) -> list[str]:
    """A note counting the ``n`` lines of ``_valued_zero``: what segchain does with them, which
    nothing said (only 'zero_quantity N' among the flags)."""
    if not n:
        return []
    return [
        f"{plural(n, 'line')} {agree(n, 'has', 'have')} quantity 0 and a value "
        f"({mapping['amount']}), flagged zero_quantity (or return, non_product): no demand, "
        "and the value counts in revenue (segment's monetary, costs) unless non_product"
    ]


def _mixed_signs(
    lf: pl.LazyFrame, mapping: Mapping[str, str], marks: Mapping[str, frozenset[str]]
) -> list[str]:
    """Warnings when a value column's own currency signs or codes say that amounts summed as one
    are not in one currency ($12.50 beside €12.50, USD 12.50 beside EUR 12.50), as
    ``_mixed_units`` warns of a currency column: signs and codes are dropped when the numbers
    are read. Looked at only in columns holding a sign or a code."""
    out = []
    for c in ("unit_price", "amount"):
        header = mapping.get(c)
        found = marks.get(header, frozenset()) if header is not None else frozenset()
        if header is None or not found & {"currency", "code"}:
            continue
        v = pl.col(header)
        counted: list[tuple[str, pl.DataFrame]] = []
        if "currency" in found:
            signs = lf.select(v.str.extract(CURRENCY_SIGN).alias("c"))
            counted.append(("signs", signs.collect()))
        if "code" in found:
            code = pl.when(v.str.contains(CODE_AROUND)).then(v.str.extract("([A-Z]{3})"))
            counted.append(("codes", lf.select(code.alias("c")).collect()))
        for what, values in counted:
            out += _currencies_warning(
                f"{c} ({header})", _value_counts(values), f" by their {what}"
            )
    return out


def _value_counts(values: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    """Each non-null value of ``c`` and its lines ``n``, most lines first (then by value, so
    that reruns say the same)."""
    return (
        values.lazy()
        .drop_nulls()
        .group_by("c")
        .agg(pl.len().alias("n"))
        .sort(["n", "c"], descending=[True, False])
        .collect()
    )


def _currencies_warning(column: str, counts: pl.DataFrame, by: str = "") -> list[str]:
    """The warning when ``counts`` (see ``_value_counts``) holds more than one currency."""
    if counts.height < 2:
        return []
    shown = ", ".join(f"{k} {n:,}" for k, n in counts.head(5).iter_rows())
    more = ", ..." if counts.height > 5 else ""
    return [
        f"{column}: amounts in {counts.height} currencies{by} are summed as one (lines: "
        f"{shown}{more}); convert them to one currency first, or read one currency at a time"
    ]


def import_orders(
    raw: pl.DataFrame | pl.LazyFrame,
    *,
    mapping: Mapping[str, str],
    returns: Returns = "net",
    date_format: str | None = None,
    decimal_comma: bool | Mapping[str, bool] = False,
    non_product_skus: frozenset[str] = NON_PRODUCT_SKUS,
    source: str = "orders",
    say_coordinates: bool = True,
) -> OrderImport:
    """Map, parse and clean order lines; nothing is dropped without a reason code.

    Args:
        raw: the export as read (CSV fields as strings, or a typed Parquet frame).
        mapping: canonical column -> header in ``raw`` (from ``config.resolve_mapping``).
        returns: ``net`` makes return lines negative so sums net them; ``keep`` leaves them as
            exported (flagged); ``drop`` rejects them with reason ``return``. Price corrections
            (flag and reason ``negative_price``) go the same way for their value.
        date_format: override of the date order or a strptime format.
        decimal_comma: the file's default decimal separator is a comma (';'-delimited files);
            for a table of several files, each file's default by name (decided per file).
        source: the file name for messages.
        say_coordinates: warn of the lat and lon that are emptied (no number, out of range): the
            command uses them (validate writes them, segment places customers by them); a stage
            that reads no coordinate (forecast, stock, costs) neither says it nor pays the look.

    Raises:
        MissingColumnsError: a required column is not mapped (every one is listed).
        UsageError: bad option values.
    """
    if returns not in RETURNS_CHOICES:
        raise UsageError(f"--returns must be one of {', '.join(RETURNS_CHOICES)}, got {returns!r}")
    lf = raw.lazy()
    schema = lf.collect_schema()
    headers = [h for h in schema.names() if h not in META_COLUMNS]
    try:
        check_mapping(headers, mapping, source=source)
    except MissingColumnsError as exc:
        below = header_below_hint(lf, headers, exc.missing)
        if below is None:
            raise
        raise MissingColumnsError(exc.missing, exc.found, source=source, hint=below) from None
    mapping = {c: h for c, h in mapping.items() if h in headers}
    derive_order_id = derives_order_id(mapping)
    _refuse_shared_numbers(mapping)
    check_number_types(
        schema, {c: mapping[c] for c in NUMBER_FIELDS if c in mapping}, source=source
    )
    notes: list[str] = []

    if SOURCE_FILE in schema:
        notes += _lines_in_several_files(lf, mapping)
    warnings = _mixed_units(lf, mapping) + _rounded_ids(lf, mapping)
    warnings += order_id_look_alike_warning(headers, mapping)
    # Only text read whole (a CSV) can have lines joined by a stray quote; a Parquet file is
    # scanned, and the look would read its id columns a second time (1.1 s on 9.2 M lines,
    # half of segment's one pass).
    if isinstance(raw, pl.DataFrame):
        warnings += _joined_lines(lf, mapping)
    # Counted where the date column is looked at below (one pass over the lines, not one more
    # of its own); the note keeps its place among the notes.
    valued_zero = _valued_zero(schema, mapping)
    valued_zero_at = len(notes)
    n_valued_zero = 0
    # Looked for in the same look: lines whose unit price is blank beside an amount.
    price_blank = _price_blank(schema, mapping)
    looks = [e for e in (valued_zero, price_blank) if e is not None]
    found: dict[str, Any] = {}
    # One header may give two ids (a till's receipt number as order_id and customer_id): its
    # profile was asked for twice in one select, a polars DuplicateError.
    id_headers = list(dict.fromkeys(mapping[c] for c in ID_FIELDS if c in mapping))
    float_ids = float_id_columns(lf, id_headers)
    for c in ID_FIELDS:
        if c in mapping and mapping[c] in float_ids and schema[mapping[c]] == pl.String:
            notes.append(f"{c} ({mapping[c]}) held float-formatted ids: '.0' removed")
    formula_ids, formula_notes = excel_formula_ids(lf, mapping, whole=isinstance(raw, pl.DataFrame))
    notes += formula_notes
    numbers = [mapping[c] for c in NUMBER_FIELDS if c in mapping]
    marks = number_marks(lf, [c for c in numbers if _is_string(schema, c)])
    # A code beside a quantity is a unit (5 PCE, 2 KGM): not dropped, the line is rejected.
    values = {mapping[c] for c in ("unit_price", "amount") if c in mapping}
    marks = {h: m if h in values else m - {"code"} for h, m in marks.items()}
    if "currency" not in mapping:  # else _mixed_units has counted the currencies
        warnings += _mixed_signs(lf, mapping, marks)
    # A latitude or longitude is never grouped in thousands: a ';' export's 52.520 is 52.52.
    coordinates = [mapping[c] for c in COORDINATES if c in mapping]
    comma = _decimal_commas(lf, numbers, decimal_comma, notes, marks, coordinates)
    # Said once the reasons are known (below): a line rejected for another reason is not kept.
    coordinates_at = len(warnings)

    date_col = mapping["order_date"]
    # One look at the date column before the pass: each distinct string and its number of lines
    # (typed dates: their extremes and nulls, see typed_date_rules). Strings are parsed once per
    # distinct value; the tail of the implausible-date rule is taken from the counts, so that
    # the pass itself is line by line.
    if schema[date_col] == pl.String:
        counts = lf.group_by(date_col).agg(pl.len().alias("n"), *looks).collect()
        found = {e.meta.output_name(): counts.get_column(e.meta.output_name()).sum() for e in looks}
        distinct = counts.get_column(date_col).drop_nulls()
        try:
            style = detect_date_style(distinct, date_format=date_format)
        except MixedDateOrderError as exc:
            raise exc.locate(lf, date_col, source=source) from None
        except AmbiguousDateOrderError as exc:
            raise AmbiguousDateOrderError(exc.examples, source=source) from None
        if style.order == "iso" and not (date_format and date_format.strip()):
            given = distinct.str.strip_chars()
            given = given.filter(given != "")
            if given.len() and given.str.contains(r"^\d{1,4}$").all():
                days = given.cast(pl.Int64).to_list()
                _refuse_day_numbers(min(days), max(days), date_col, source=source)
            if given.len() and given.str.contains(r"^\d{5}$").all():
                five_digits = given.cast(pl.Int64).to_list()
                if max(five_digits) < EPOCH_SERIAL:
                    _refuse_days_since_1970(
                        min(five_digits), max(five_digits), date_col, source=source
                    )
        notes.append(f"dates: {style.note}")
        # Parse each distinct string once (an export has few distinct dates), then look up.
        parsed = distinct.to_frame().select(date_expr(date_col, style)).to_series()
        date = pl.col(date_col).replace_strict(distinct, parsed, default=None, return_dtype=pl.Date)
        date_order = style.order
    elif schema[date_col].is_temporal():
        typed = pl.col(date_col)
        zone = getattr(schema[date_col], "time_zone", None)
        if zone is not None:
            # The day on the clock of the column's own zone, as the same instant written as text
            # with its offset reads: casting an aware timestamp to a date takes the UTC day, and
            # an order placed at 00:30 in Berlin on 1 January would fall in the previous year.
            typed = typed.dt.replace_time_zone(None)
        date = typed.cast(pl.Date)
        date_order = "typed"
    else:
        # Excel serial numbers stored as numbers, or dates as yyyymmdd numbers (a data
        # warehouse's date key, 20240315): a serial of 2099 is 73,050, the first yyyymmdd
        # 10,000,101, so the size tells them apart. Looked for in one aggregation first, so
        # that serials alone pay for no second parse; day numbers are found in the same one.
        number = pl.col(date_col).cast(pl.Float64, strict=False)
        eight_digits = (number >= COMPACT_NUMBER_MIN) & (number < 10 * COMPACT_NUMBER_MIN)
        lo, hi, whole, any_compact = (
            lf.select(
                number.min().alias("lo"),
                number.max().alias("hi"),
                (number.drop_nulls() % 1 == 0).all().alias("whole"),
                eight_digits.any().alias("compact"),
            )
            .collect()
            .row(0)
        )
        if hi is not None and whole and hi < DAY_NUMBER_MAX:
            _refuse_day_numbers(int(lo), int(hi), date_col, source=source)
        if hi is not None and whole and hi < EPOCH_SERIAL:
            _refuse_days_since_1970(int(lo), int(hi), date_col, source=source)
        serial = number.floor().cast(pl.Int64, strict=False)
        date = pl.lit(EXCEL_EPOCH).str.to_date() + pl.duration(days=serial)
        date_order = "serial"
        # As the text of a CSV says it: a number read as a date is said, not only a string; a
        # column without a value (Parquet's null type) holds no serial number either.
        serial_note = f"dates: {SERIAL_LABEL}" if hi is not None else "dates: no recognisable dates"
        if any_compact:
            compact = (
                number.cast(pl.Int64, strict=False)
                .cast(pl.String)
                .str.strptime(pl.Date, "%Y%m%d", strict=False)
            )
            date = pl.when(eight_digits).then(compact).otherwise(date)
            date_order = "compact"
            serial_note = "dates: yyyymmdd numbers"
        notes.append(serial_note)
    if schema[date_col] == pl.String:
        date_rules = date_rules_of(counts.select(date.alias("order_date"), "n"))
        # The header as a value: files joined with cat. Found among the distinct dates, so the
        # rule costs the pass nothing when no line repeats it.
        if (_as_header(distinct) == date_col).any():
            date_rules = replace(date_rules, header=date_col)
            _refuse_other_headers(lf, schema, headers, date_col, source=source)
    else:
        date_rules, found = typed_date_rules(lf, date, also=looks)
    warnings += _lump_warnings(date_rules.lumps, _id_named("order_date", date_col))
    n_valued_zero = int(found.get(_VALUED_ZERO, 0))
    if valued_zero is not None:
        notes[valued_zero_at:valued_zero_at] = _valued_zero_note(n_valued_zero, mapping)
    # The lines valued by their amount, counted exactly (a blank price beside an amount that is
    # no number is rejected bad_price): only when the look found some. Lines without their ids
    # are rejected so before their price is looked at: a NetSuite search's Total line, a blank
    # Rate beside the total Amount, is not counted.
    n_by_amount = 0
    if found.get(_PRICE_BLANK):
        a = mapping["amount"]
        amount = number_expr(
            a,
            is_string=_is_string(schema, a),
            decimal_comma=comma.get(a, False),
            marks=marks.get(a, NUMBER_MARKS),
        )
        ids = [
            id_null(pl.col(h).str.strip_chars()).is_not_null()
            if _is_string(schema, h)
            else pl.col(h).is_not_null()
            for h in dict.fromkeys(
                mapping[c] for c in ("order_id", "customer_id", "sku") if c in mapping
            )
        ]
        n_by_amount = int(
            lf.filter(_blank(mapping["unit_price"], schema))
            .select((amount.is_not_null() & pl.all_horizontal(ids)).sum())
            .collect()
            .item()
        )
    notes += _priced_by_amount_note(n_by_amount, mapping)
    blank_price = (
        [_blank(mapping["unit_price"], schema).alias("_blank_price")] if n_by_amount else []
    )

    raw_postal = []
    postal = mapping.get("postal_code")
    if postal is not None and schema[postal] == pl.String and postal not in float_ids:
        text = formula_text(pl.col(postal)) if postal in formula_ids else pl.col(postal)
        raw_postal = [text.alias(RAW_POSTAL_CODE)]
    raw_cols = list(headers)
    raw_indexed = lf.with_row_index(ROW, offset=1)
    keys = [pl.col(SOURCE_FILE)] if SOURCE_FILE in schema else []
    ragged = (
        pl.col(EXTRA_FIELDS).is_not_null() if EXTRA_FIELDS in schema else pl.lit(False)
    ).alias("_ragged")
    optional = [c for c in ORDER_OPTIONAL if c in mapping]
    canonical = [
        "order_id",
        "order_date",
        "customer_id",
        "sku",
        "quantity",
        "unit_price",
        "amount",
        "flag",
        *optional,
    ]

    def plain_text(c: str) -> bool:
        return c in mapping and schema[mapping[c]] == pl.String and mapping[c] not in float_ids

    def build(*, as_exported: bool, raw_lines: pl.LazyFrame = raw_indexed) -> pl.LazyFrame:
        """``lines``, or ``as_exported`` (see ``OrderImport``); of ``raw_lines``, some of the
        export's lines with their ``ROW`` (every rule is the line's own)."""
        untrimmed = {c for c in AS_EXPORTED_IDS if as_exported and plain_text(c)}
        exprs: list[pl.Expr] = [date.alias("order_date")]
        trimmed = []  # string ids: trimmed in the first select, blanks made null in the next
        for c in ID_FIELDS:
            if c in mapping:
                h = mapping[c]
                text = schema[h] == pl.String
                trimmed += [c] if text else []
                exprs.append(
                    id_expr(
                        h,
                        dtype=schema[h],
                        float_like=h in float_ids,
                        blank_as_null=not text,
                        trim=c not in untrimmed,
                        formulas=h in formula_ids,
                    ).alias(c)
                )
        for c in TEXT_FIELDS:
            if c in mapping:
                h = mapping[c]
                exprs.append(text_expr(h, dtype=schema[h], blank_as_null=not as_exported).alias(c))
        for c in NUMBER_FIELDS:
            if c in mapping:
                h = mapping[c]
                value = number_expr(
                    h,
                    is_string=_is_string(schema, h),
                    decimal_comma=comma.get(h, False),
                    marks=marks.get(h, NUMBER_MARKS),
                    grouped=c not in COORDINATES,
                )
                if c in COORDINATES:
                    # NaN, inf or out of range (a lat of 95), no place: emptied, as one that is
                    # no number is (_unread_coordinates says so), not rejected as non_finite.
                    nowhere = ~value.is_finite() | (value.abs() > COORDINATE_LIMITS[c])
                    value = pl.when(nowhere).then(None).otherwise(value)
                exprs.append(value.alias(c))
        lines = raw_lines.select(
            pl.col(ROW),
            *keys,
            *[_blank(date_col, schema).alias("_blank_date")] * date_rules.undated,
            *[(_as_header(pl.col(date_col)) == date_col).alias("_header_line")]
            * bool(date_rules.header),
            *blank_price,
            ragged,
            *exprs,
            *raw_postal,
        ).with_columns(
            # As exported, an id is checked, not cleaned, line by line (``may_differ_as_id``).
            (blank_null if c in untrimmed else id_null)(pl.col(c)).alias(c)
            for c in trimmed
        )
        if derive_order_id:
            lines = lines.with_columns(derived_order_id())
        lines = _derive_values(
            lines,
            has_price="unit_price" in mapping,
            has_amount="amount" in mapping,
            blank_price=bool(n_by_amount),
        )
        if all(c in mapping for c in COORDINATES):
            # 0, 0: a placeholder for no coordinates, at sea (_unread_coordinates says so).
            nowhere = (pl.col("lat") == 0) & (pl.col("lon") == 0)
            lines = lines.with_columns(
                pl.when(nowhere).then(None).otherwise(pl.col(c)).alias(c) for c in COORDINATES
            )
        lines = _flag_and_reason(
            lines,
            returns=returns,
            non_product_skus=non_product_skus,
            dates=date_rules,
            number_rules=not as_exported,
            order_ids=not derive_order_id,
        )
        lines = lines.select(
            ROW,
            *keys,
            *canonical,
            "reason",
            *[RAW_POSTAL_CODE] * bool(raw_postal),
        )
        return lines

    if say_coordinates:

        def kept(raw_lines: pl.LazyFrame) -> pl.LazyFrame:
            used = build(as_exported=False, raw_lines=raw_lines).filter(pl.col("reason").is_null())
            return raw_lines.join(used.select(ROW), on=ROW, how="semi", maintain_order="left")

        warnings[coordinates_at:coordinates_at] = _unread_coordinates(
            raw_indexed, mapping, comma=comma, marks=marks, kept=kept
        )
    return OrderImport(
        lines=build(as_exported=False),
        as_exported=build(as_exported=True),
        raw=raw_indexed,
        raw_columns=raw_cols,
        mapping=dict(mapping),
        notes=notes,
        warnings=warnings,
        date_order=date_order,
        returns=returns,
        source=source,
        derived=dict.fromkeys(["order_id"] * derive_order_id, DERIVED_ORDER_ID),
    )


def _lump_warnings(lumps: Sequence[DateLump], named: str) -> list[str]:
    """Warnings for the lumps of dates rejected as placeholders: the reconciliation counts them
    among ``implausible_date``, but not what they are, and a placeholder on a tenth of the
    lines is a hole in the export the user should fill."""
    out = []
    for lump in lumps:
        when = lump.first.isoformat()
        if lump.last != lump.first:
            when = f"from {when} to {lump.last.isoformat()}"
        side = "before" if lump.last < lump.nearest else "after"
        out.append(
            f"{named}: {plural(lump.lines, 'line')} {agree(lump.lines, 'is', 'are')} dated "
            f"{when}, {lump.gap:,} days ({int(lump.gap / 365.25)} years) {side} any other date "
            f"({lump.nearest.isoformat()}): a placeholder for no date (SQL Server writes an "
            "empty date as 1900-01-01, an ERP an open end as 2099-12-31), rejected "
            "(implausible_date); export those lines' real dates"
        )
    return out


def _refuse_day_numbers(lo: int, hi: int, header: str, *, source: str) -> None:
    """Refuse a date column of small whole numbers (day 1 to 711): the date of day 1 is not in
    the file, and reading them as Excel serials put every order in 1900."""
    raise DataError(
        f"{source}: order_date ({header}) holds whole numbers from {lo:,} to {hi:,}, not "
        "dates: day or week numbers counted from a start the file does "
        "not give (dunnhumby's DAY), which segchain does not guess",
        hint="add a column of real dates to the export (the date of day 1, plus the day number "
        "less 1) and map it with --map order_date=HEADER, or map the export's own date or "
        "timestamp column",
    )


def _refuse_days_since_1970(lo: int, hi: int, header: str, *, source: str) -> None:
    """Refuse whole numbers from ``DAY_NUMBER_MAX`` to below ``EPOCH_SERIAL``: read as Excel
    serials they put every order before 1970; as days since 1970 they are this century's dates.
    Which one the file means it does not say, and a wrong guess shifts every date 70 years."""

    def serial(n: int) -> str:
        return (dt.date.fromisoformat(EXCEL_EPOCH) + dt.timedelta(days=n)).isoformat()

    def epoch(n: int) -> str:
        return (dt.date(1970, 1, 1) + dt.timedelta(days=n)).isoformat()

    raise DataError(
        f"{source}: order_date ({header}) holds whole numbers from {lo:,} to {hi:,}: as Excel "
        f"serial numbers they are dates from {serial(lo)} to {serial(hi)}, before 1970; as days "
        f"since 1970-01-01 (how Parquet and Arrow store a date) from {epoch(lo)} to "
        f"{epoch(hi)}; segchain does not guess which",
        hint="write the column as dates (a Parquet date column, or text yyyy-mm-dd) and read it "
        f"again: days since 1970 become dates with polars' pl.col({header!r}).cast(pl.Date) or "
        f"pandas' pd.to_datetime(..., unit='D')",
    )


def date_rules_of(counts: pl.DataFrame) -> DateRules:
    """The date rules from each distinct date (``order_date``, a Date) and its lines (``n``).
    A rule that no distinct date breaks cannot reject a line: it is left out of the reason
    chain (and a string column is not trimmed line by line to find blank dates)."""
    lumps = date_lumps(counts)
    others = outside_lumps(counts, lumps)
    tail, head = date_tail(others), date_head(others)
    undated = counts.get_column("order_date").null_count() > 0
    implausible = counts.select(
        implausible_date(pl.col("order_date"), tail, head, lumps).fill_null(False).any()
    )
    return DateRules(
        undated=undated,
        implausible=bool(implausible.item()),
        tail=tail,
        head=head,
        lumps=tuple(lumps),
    )


def typed_date_rules(
    lf: pl.LazyFrame, date: pl.Expr, *, also: Sequence[pl.Expr] = ()
) -> tuple[DateRules, dict[str, Any]]:
    """``date_rules_of`` typed dates or serials (``date``, a Date expression over ``lf``), from
    their extremes and nulls when these rule implausible dates out: every date within the
    window, and the last at most ``FUTURE_GAP_DAYS`` after the first (the tail, a date of the
    window, is not before the first). One aggregation of the column instead of a group-by of its
    days (a few ms against some 40 on 9 M lines); the days are counted only otherwise. ``also``:
    other aggregations of ``lf``, computed in the same pass and returned by their names."""
    first, last = date.min(), date.max()
    plausible = (
        (first >= EARLIEST_DATE)
        & (last <= LATEST_DATE)
        & ((last - first).dt.total_days() <= FUTURE_GAP_DAYS)
    )
    # Without a dated line the extremes are null: no date can be implausible.
    row = (
        lf.select(
            date.null_count().alias("nulls"),
            plausible.fill_null(True).alias("plausible"),
            *also,
        )
        .collect()
        .row(0, named=True)
    )
    others = {k: v for k, v in row.items() if k not in ("nulls", "plausible")}
    if row["plausible"]:
        return DateRules(undated=row["nulls"] > 0, implausible=False, tail=None), others
    # Dates may carry times: counted by day.
    counts = lf.group_by(date.alias("order_date")).agg(pl.len().alias("n")).collect()
    return date_rules_of(counts), others


def _refuse_other_headers(
    lf: pl.LazyFrame, schema: pl.Schema, headers: Sequence[str], date_col: str, *, source: str
) -> None:
    """Refuse an export in which a line taken for a repeated header (its date field is the date
    column's name) names its columns otherwise than the header read: two exports joined with
    ``cat``, the second with its columns in another order (or others), would have every line
    below that header read under the first one's names, quantities as prices, customers as
    skus. Only the lines already taken for headers are looked at.

    Raises:
        DataError: names the row, the columns as the header read names them and as that line
            does, and how to read the two exports each with its own header.
    """
    # A typed column (a Parquet's numbers) cannot hold a name: it says nothing of the order.
    text = [h for h in headers if schema[h] == pl.String]
    files = SOURCE_FILE in schema
    indexed = lf if SOURCE_ROW in schema else lf.with_row_index(SOURCE_ROW, offset=1)
    extra = [EXTRA_FIELDS] if EXTRA_FIELDS in schema else []
    found = (
        indexed.filter((_as_header(pl.col(date_col)) == date_col).fill_null(False))
        # A blank field is null as read; a header's blank name is '' (a trailing delimiter).
        .select(
            SOURCE_ROW,
            *[SOURCE_FILE] * files,
            *[_as_header(pl.col(h).fill_null("")).alias(h) for h in text],
            *extra,
        )
        .collect()
        # An SAP list repeats its header on every page: each way of naming the columns once.
        .unique(subset=[*[SOURCE_FILE] * files, *text, *extra], keep="first", maintain_order=True)
    )
    for line in found.iter_rows(named=True):
        name = str(line[SOURCE_FILE]) if files else source
        # A folder's key=value columns hold their value on a header line as on every line.
        hive = hive_partitions(name) if files else {}
        names = {h: line[h] for h in text}
        own = [h for h in text if not (h in hive and line[h] == hive[h])]
        # Only the letters' case of a name cannot move a value: the columns are the same.
        differ = [h for h in own if names[h].casefold() != h.casefold()]
        surplus = line.get(EXTRA_FIELDS)
        if not differ and surplus is None:
            continue
        row = f"row {int(line[SOURCE_ROW]):,}"
        moved = surplus is None and sorted(names[h].casefold() for h in own) == sorted(
            h.casefold() for h in own
        )
        said = [
            f"where the first header has {', '.join(quoted(h, 40) for h in differ)}, {row} has "
            f"{', '.join(quoted(names[h], 40) for h in differ)}"
        ] * bool(differ)
        if surplus is not None:
            said.append(f"{row} has more fields than the first header ({quoted(surplus, 40)})")
        what = "; ".join(said)
        if moved:
            what = f"{row} is a header with the columns in another order: {what}"
            fix = (
                f"give the two exports as separate files (the lines above {row}, and it and the "
                "lines below it), e.g. segchain validate a.csv b.csv or a folder of them: each "
                "file is read with its own header"
            )
        else:
            what = f"{row} is a header that names other columns than the first: {what}"
            fix = (
                f"read the two exports (the lines above {row}, and it and the lines below it) "
                "in separate runs (files whose columns differ are not read as one table), or "
                "export them again with the same columns"
            )
        raise DataError(
            f"{short(name)}: {what}; the lines below it would be read under the first header, "
            "their values under other columns' names",
            hint=fix,
        )


def _as_header(date: Any) -> Any:
    """A date field (an expression or a Series of them) as a repeated header line would hold
    the date column's name: trimmed, and without the BOM that starts an export joined after
    another with ``cat`` (Excel's CSV UTF-8 and Unicode Text files each start with one, and the
    date column is often the first)."""
    return date.str.strip_chars().str.strip_prefix("\ufeff").str.strip_chars()


def _blank(column: str, schema: pl.Schema) -> pl.Expr:
    c = pl.col(column)
    if schema[column] == pl.String:
        return c.is_null() | (c.str.strip_chars() == "")
    return c.is_null()


def _derive_values(
    lf: pl.LazyFrame, *, has_price: bool, has_amount: bool, blank_price: bool = False
) -> pl.LazyFrame:
    """Make both ``unit_price`` and ``amount`` exist; remember which one the export gave.
    ``blank_price``: some line gives its amount beside a blank unit price (``_blank_price``):
    its price is derived from the amount, as without a price column."""
    q, amount = pl.col("quantity"), pl.col("amount")
    by_amount = pl.when(q != 0).then(amount / q).otherwise(0.0).abs()
    if has_amount and has_price:
        price = pl.col("unit_price")
        if not blank_price:
            return lf.with_columns(_value_ok=amount.is_not_null() & price.is_not_null())
        valued = pl.col("_blank_price") & amount.is_not_null()
        return lf.with_columns(
            unit_price=pl.when(valued).then(by_amount).otherwise(price),
            _value_ok=amount.is_not_null() & (price.is_not_null() | valued),
        )
    if has_amount:
        return lf.with_columns(unit_price=by_amount, _value_ok=amount.is_not_null())
    return lf.with_columns(
        amount=q * pl.col("unit_price"),
        _value_ok=pl.col("unit_price").is_not_null(),
    )


@dataclass(frozen=True)
class DateRules:
    """What the import's look at the date column found, before the pass: whether a line has
    no date (blank or unreadable), whether one is implausible, and the implausible-date tail
    and head."""

    undated: bool = True
    implausible: bool = True
    tail: float | None = None
    head: float | None = None
    lumps: tuple[DateLump, ...] = ()
    header: str | None = None
    """The date column's header, when some line's date field repeats it (exports joined with
    ``cat``, each file's header now a line in the middle)."""


def _reason_rules(
    names: Sequence[str], *, dates: DateRules, number_rules: bool, order_ids: bool = True
) -> list[tuple[pl.Expr, str]]:
    """Each rule a line can break (null read as not broken) and its reason code, in the order
    of ``REASONS``: the date rules that some line breaks (``dates``), and without
    ``number_rules`` not ``non_finite`` and ``out_of_range`` (see ``OrderImport.as_exported``).
    Without ``order_ids`` (the export has none: ``derived_order_id``) not ``missing_order_id``:
    a derived id is blank only where the customer or the date is, rejected for that reason."""
    q = pl.col("quantity")
    # A coordinate that is NaN or infinite is emptied at import, never rejected.
    numbers = [c for c in VALUE_FIELDS if c in names]
    # x * 0 is NaN exactly when x is infinite or NaN (0 otherwise); a sum holding a NaN is NaN,
    # and the sum skips nulls as any_horizontal(...).fill_null(False) did. Two vectorised steps
    # a column instead of is_infinite | is_nan (three, the first slow).
    written = [c for c in numbers if c != "amount"]
    non_finite = pl.sum_horizontal([pl.col(c) * 0.0 for c in written]).is_nan()
    if "amount" in numbers:
        # An amount made infinite by a quantity or price beyond MAX_VALUE (1e308 x 5) is that
        # value's fault, out_of_range; the export holds no infinite number.
        beyond = pl.any_horizontal([pl.col(c).abs() > MAX_VALUE for c in written])
        amount = (pl.col("amount") * 0.0).is_nan() & ~beyond.fill_null(False)
        non_finite = non_finite | amount.fill_null(False)
    out_of_range = pl.any_horizontal([pl.col(c).abs() > MAX_VALUE for c in VALUE_FIELDS])
    rules = [
        # A line with more fields than the header: its fields may have shifted, so none is
        # trusted.
        (pl.col("_ragged"), "extra_fields"),
        *[(pl.col("_header_line").fill_null(False), "repeated_header")] * bool(dates.header),
        *[(pl.col("order_id").is_null(), "missing_order_id")] * order_ids,
        (pl.col("customer_id").is_null(), "missing_customer"),
        (pl.col("sku").is_null(), "missing_sku"),
    ]
    date = pl.col("order_date")
    if dates.undated:
        rules.append((pl.col("_blank_date"), "missing_date"))
        rules.append((date.is_null(), "bad_date"))
    rules.append((q.is_null(), "bad_quantity"))
    rules.append((~pl.col("_value_ok"), "bad_price"))
    if number_rules:
        rules.append((non_finite.fill_null(False), "non_finite"))
        rules.append((out_of_range.fill_null(False), "out_of_range"))
    if dates.implausible:
        implausible = implausible_date(date, dates.tail, dates.head, dates.lumps).fill_null(False)
        rules.append((implausible, "implausible_date"))
    return rules


def as_exported_differs(names: Sequence[str]) -> pl.Expr:
    """An aggregate over ``OrderImport.as_exported`` (its columns ``names``): False when those
    lines are ``lines`` but for their customer ids (the caller checks those: a stage grouping
    by customer has them at hand), True when they may differ: an order id or sku holds
    whitespace or a spreadsheet error value (``may_differ_as_id``), or a line may break the
    ``non_finite`` or ``out_of_range`` rule. A sum holding an infinite or NaN value is not
    finite (nor is one that overflows: True, on the safe side); the extremes of the values
    bound every line's."""
    not_finite = [~pl.col(c).sum().is_finite() for c in VALUE_FIELDS if c in names]
    beyond = [
        (pl.col(c).max() > MAX_VALUE) | (pl.col(c).min() < -MAX_VALUE)
        for c in VALUE_FIELDS
        if c in names
    ]
    ids = [may_differ_as_id(c).any() for c in AS_EXPORTED_IDS if c != "customer_id" and c in names]
    return pl.any_horizontal([pl.lit(False), *not_finite, *beyond, *ids]).fill_null(False)


def _flag_and_reason(
    lf: pl.LazyFrame,
    *,
    returns: Returns,
    non_product_skus: frozenset[str],
    dates: DateRules,
    number_rules: bool = True,
    order_ids: bool = True,
) -> pl.LazyFrame:
    q, price, amount = pl.col("quantity"), pl.col("unit_price"), pl.col("amount")
    is_return = (q < 0) | pl.col("order_id").str.contains(CANCEL_PATTERN).fill_null(False)
    # A price correction or credit: a line that is no return with a negative price or value
    # ((12.50), 'Adjust bad debt'). Its value nets as a return's does; its quantity is no
    # demand (schema.demand_line).
    credit = ~pl.col("_ret") & ((price < 0) | (amount < 0)).fill_null(False)
    rules = _reason_rules(
        lf.collect_schema().names(), dates=dates, number_rules=number_rules, order_ids=order_ids
    )
    if returns == "drop":
        rules.append((pl.col("_ret"), "return"))
        rules.append((pl.col("_credit"), "negative_price"))
    # The first rule a line breaks gives its reason.
    (first, code), *others = rules
    reason: Any = pl.when(first).then(pl.lit(code, dtype=REASON))  # a when/then chain
    for broken, code in others:
        reason = reason.when(broken).then(pl.lit(code, dtype=REASON))
    # Exact codes in their usual spellings: upper-casing every sku of a large export is slow.
    spellings = {v for code in non_product_skus for v in (code, code.lower(), code.title())}
    sku = pl.col("sku")
    non_product = sku.is_in(sorted(spellings)) | sku.str.starts_with("gift_")
    # A cancelled postage or fee line is still not a product: non_product wins over return, so
    # that no stage nets it against product demand or value.
    flag = (
        pl.when(non_product)
        .then(pl.lit(FLAG_NON_PRODUCT, dtype=FLAG))
        .when(pl.col("_ret"))
        .then(pl.lit(FLAG_RETURN, dtype=FLAG))
        .when(pl.col("_credit"))
        .then(pl.lit(FLAG_NEGATIVE_PRICE, dtype=FLAG))
        # Quantity 0 makes the amount 0: not a giveaway at price 0, a line of no goods.
        .when(q == 0)
        .then(pl.lit(FLAG_ZERO_QUANTITY, dtype=FLAG))
        .when((price == 0) | (amount == 0))
        .then(pl.lit(FLAG_ZERO_PRICE, dtype=FLAG))
    )
    lf = lf.with_columns(_ret=is_return)
    lf = lf.with_columns(_credit=credit)
    lf = lf.with_columns(reason=reason.otherwise(None), flag=flag.otherwise(None))
    if returns == "net":
        # A return subtracts from demand and revenue whatever sign the export gave it; a
        # credit from revenue (an export may give its amount without the price's sign).
        lf = lf.with_columns(
            quantity=pl.when(pl.col("_ret")).then(-q.abs()).otherwise(q),
            amount=pl.when(pl.col("_ret"))
            .then(-amount.abs())
            .when(pl.col("_credit") & (amount > 0))
            .then(-amount)
            .otherwise(amount),
        )
    # A return at price 0 (-abs(0.0)), or an export's "-0", was written "-0.0" in the cleaned
    # lines. (Not "+ 0.0": collect_all's optimiser drops it.)
    return lf.with_columns(
        unit_price=price.abs(),
        **{
            c: pl.when(pl.col(c) == 0).then(0.0).otherwise(pl.col(c))
            for c in ("quantity", "amount")
        },
    )
