"""Numbers as exports write them: a decimal comma or point, thousands grouped by the other
separator, spaces or apostrophes, currency signs and codes, accounting parentheses, SAP's trailing
minus, Unicode's minus sign.

One rule for every table read: an order export's number columns (``orders.import_orders``) and,
for values written plainly (``PLAIN_NUMBER``: digits, a decimal comma or point, thousands grouped
by the other), a stage's or side table's read from a CSV (``tableio``: an item master saved by
a German spreadsheet with ``12,5``) and a postal table's coordinates (``geo``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import polars as pl

# Evidence that cannot be read the other way: a fraction that is not three digits long. The
# whole part may be grouped by spaces or apostrophes as well (1 234,50 in French, 1'234.50 in
# Swiss exports), which the parse removes (``_number_text``): counted as evidence too, or a
# column of such values alone is decided by the file's default and every value rejected. So is
# a separator after a whole part that is none or starts with 0 (0.250, -0.250, .250): a
# thousands-grouped number never starts with a 0 group, so such a value is a decimal whatever
# its fraction's length (a ';' table's 0.250 was read as 250).
_COMMA_SURE = r"^[+-]?([\d.\s'’]*,(\d{1,2}|\d{4,})|(0\d*)?,\d+)$"
_DOT_SURE = r"^[+-]?([\d,\s'’]*\.(\d{1,2}|\d{4,})|(0\d*)?\.\d+)$"
# In a column whose values are never grouped in thousands (a latitude or longitude: 52.520 read
# as 52,520 is no place on earth), any one separator between digits is its decimal.
_COMMA_ANY = r"^[+-]?\d*,\d+$"
_DOT_ANY = r"^[+-]?\d*\.\d+$"
COORDINATES = ("lat", "lon")
"""Number columns never grouped in thousands (``ungrouped`` in ``sure_counts``, ``grouped``
in ``number_expr``): a ';' sites table's or export's 52.520 was read as 52520."""
COORDINATE_LIMITS = {"lat": 90.0, "lon": 180.0}
"""A coordinate's bound in size, in decimal degrees: a latitude within [-90, 90], a longitude
within [-180, 180]."""


def sure_counts(
    columns: Sequence[str],
    marks: Mapping[str, frozenset[str]] | None = None,
    *,
    ungrouped: Collection[str] = (),
) -> list[pl.Expr]:
    """Per column, how many values can only be read with a decimal comma, and with a point;
    in the ``ungrouped`` columns (``COORDINATES``), any value with one separator."""
    exprs = []
    for c in columns:
        found = marks[c] if marks is not None else NUMBER_MARKS
        cleaning = found & {"parenthesis", "trailing_minus", "currency", "minus_sign", "code"}
        v = _number_text(c, found) if cleaning else pl.col(c).str.strip_chars()
        comma, dot = (_COMMA_ANY, _DOT_ANY) if c in ungrouped else (_COMMA_SURE, _DOT_SURE)
        exprs.append(v.str.contains(comma).sum().alias(f"{c}|comma"))
        exprs.append(v.str.contains(dot).sum().alias(f"{c}|dot"))
    return exprs


def uses_comma(row: Mapping[str, Any], column: str, *, default_comma: bool) -> bool:
    """Whether ``column`` reads with a decimal comma, from its counts (``sure_counts``)."""
    comma, dot = row[f"{column}|comma"] or 0, row[f"{column}|dot"] or 0
    return (default_comma and comma >= dot) or (not default_comma and comma > dot)


def file_default(row: Mapping[str, Any], columns: Sequence[str], *, default_comma: bool) -> bool:
    """The decimal separator of a file's number columns that show none for sure (``5,000``,
    ``1.250``): one export writes every number in one locale, so the columns that do show one
    decide, when they agree. An SAP list's quantities ``5,000`` (three decimals) beside values
    ``125,00`` are 5 units, not 5,000; a ';' export's ``1,234`` beside prices ``12.50`` is
    1,234, not 1.234. Without such a column, the delimiter's default stands."""
    comma = any(uses_comma(row, c, default_comma=False) for c in columns)
    dot = any(not uses_comma(row, c, default_comma=True) for c in columns)
    return comma if comma != dot else default_comma


def decimal_comma_columns(
    lf: pl.LazyFrame,
    columns: Sequence[str],
    *,
    default_comma: bool,
    marks: Mapping[str, frozenset[str]] | None = None,
    ungrouped: Collection[str] = (),
) -> set[str]:
    """Number columns written with a decimal comma (``1.234,5``).

    With a ';' delimiter the comma is the default unless a column clearly uses points; otherwise
    a column must clearly use commas (a fraction of other than three digits, since ``1,234`` could
    be a thousands separator). A column that shows neither follows the file's other number
    columns when they agree (``file_default``).
    """
    schema = lf.collect_schema()
    text_cols = [c for c in columns if schema[c] == pl.String]
    if not text_cols:
        return set()
    row = lf.select(sure_counts(text_cols, marks, ungrouped=ungrouped)).collect().row(0, named=True)
    default_comma = file_default(row, text_cols, default_comma=default_comma)
    return {c for c in text_cols if uses_comma(row, c, default_comma=default_comma)}


NUMBER_MARKS = frozenset(
    {"comma", "point", "parenthesis", "trailing_minus", "currency", "minus_sign", "code", "space"}
)
"""What a number's text may hold besides digits and a sign; see ``number_marks``."""


def number_marks(lf: pl.LazyFrame, columns: Sequence[str]) -> dict[str, frozenset[str]]:
    """Per text number column, which of ``NUMBER_MARKS`` occur in it at all, so that millions of
    plain numbers pay for no step they do not need (each step on every value of a 2 M-line
    export cost more than half the whole validate). One regex pass a column for anything but a
    point; a column holding something looks closer. A point matters only in a decimal-comma
    column, whose parse always checks it."""
    if not columns:
        return {}
    unusual = f"[,()\\-$€£¥₹{MINUS_SIGN}A-Z]|{_INNER_SPACE}"
    row = lf.select(pl.col(c).str.contains(unusual).any().alias(c) for c in columns).collect()
    busy = [c for c in columns if row[c][0]]
    out = {c: frozenset[str]() for c in columns}
    if not busy:
        return out
    checks = {
        "comma": lambda v: v.str.contains(",", literal=True),
        "parenthesis": lambda v: v.str.contains("(", literal=True),
        "trailing_minus": lambda v: v.str.contains("[-\u2212]"),
        "minus_sign": lambda v: v.str.contains(MINUS_SIGN, literal=True),
        "currency": lambda v: v.str.contains(f"[{_CURRENCY_SIGNS}]"),
        "code": lambda v: v.str.contains(CODE_AROUND),
        "space": lambda v: v.str.contains(_INNER_SPACE),
    }
    found = (
        lf.select(
            check(pl.col(c)).any().alias(f"{c}|{m}") for c in busy for m, check in checks.items()
        )
        .collect()
        .row(0, named=True)
    )
    out.update({c: frozenset(m for m in checks if found[f"{c}|{m}"]) for c in busy})
    return out


_CURRENCY_SIGNS = "$€£¥₹"
# A dollar sign with its country's capitals before it (US$, CA$, A$, NZ$, HK$, R$): read as a
# sign, and told apart from the others when signs are counted as currencies.
_DOLLAR_OF = r"[A-Z]{1,3}\$"
CURRENCY_SIGN = f"({_DOLLAR_OF}|[{_CURRENCY_SIGNS}])"
MINUS_SIGN = "\u2212"
# An ISO 4217 currency code before or after the number (USD 12.50, 1.234,50 EUR): three capital
# letters set apart by a space from a digit, a sign or a parenthesis. INF and NAN stay what they
# are, and a code glued to digits (a sku such as ABC123 in a line whose fields shifted) is no
# number.
_CODE_BEFORE = rf"^\s*\(?\s*[A-Z]{{3}}\s+[-+(\d.,{MINUS_SIGN}{_CURRENCY_SIGNS}]"
_CODE_AFTER = rf"[\d.,)\-{MINUS_SIGN}{_CURRENCY_SIGNS}]\s+[A-Z]{{3}}\s*\)?\s*$"
CODE_AROUND = f"{_CODE_BEFORE}|{_CODE_AFTER}"
"""Unicode's minus sign (−5): the negative sign of Swedish, Finnish and Norwegian number formats
in the Unicode locale data (programs formatting with it write it), and of typeset text."""
# A space or apostrophe between two digits groups thousands (1 234,50 in French, 1'234.50 in
# Swiss exports) only between groups of three: one such character, after 1 to 3 digits and
# before 3. Anything else (12 5, 3 4, 12'34, 1234 567, 1  234: two numbers in one cell, or a
# typo) is no number, not 125, 34 or 1234. One unanchored pattern for what is wrong: a group
# of 1 or 2 digits or of 4 after the character, 4 digits before it, or two characters in a row
# (two patterns, the grouping and a wrong one, cost 40 % more on a column of such numbers).
_GROUP_MARKS = "\\s\\u00a0'’"
_INNER_SPACE = f"\\d[{_GROUP_MARKS}]+\\d"
_G = f"[{_GROUP_MARKS}]"
_BAD_GROUPING = f"\\d{_G}(\\d{{1,2}}(\\D|$)|\\d{{4}})|\\d{{4}}{_G}\\d|\\d{_G}{{2,}}\\d"
# Thousands groups as written: 1,234,567.89 (or India's 12,34,567.89) with a decimal point,
# 1.234.567,89 with a decimal comma. A separator that does not group digits this way is not one.
# A first group is never 0 (0,250 is no 250 but a decimal written the other way: rejected).
_POINT_GROUPED = r"^[+-]?[1-9]\d{0,2}(,\d{2,3})*,\d{3}(\.\d*)?$"
_COMMA_GROUPED = r"^[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d*)?$"


def _number_text(column: str, marks: frozenset[str] = NUMBER_MARKS) -> pl.Expr:
    """A number's text without what is not the number: spaces and apostrophes grouping digits
    (in groups of three: between other digits, ``12 5``, the value is null, no number),
    a currency sign ($1,234.50, 12,50 €) or code (USD 12.50), accounting parentheses ((12.50)
    is -12.50) and SAP's trailing minus (5.00- is -5.00), Unicode's minus sign (−5 is -5); only
    the steps for the ``marks`` that occur."""
    signs = _CURRENCY_SIGNS if "currency" in marks else ""
    v = pl.col(column)
    if "code" in marks:
        # Before the spaces go: a code is set apart by one. In a value that holds one, it is
        # the first three capitals in a row ((USD 5.00), 1.2E+03 USD): dropped by a plain
        # replace (a replace by the pattern's groups cost three times as much).
        v = pl.when(v.str.contains(CODE_AROUND)).then(v.str.replace("[A-Z]{3}", "")).otherwise(v)
    if signs:
        v = v.str.replace(_DOLLAR_OF, "")
    if "space" in marks:
        v = pl.when(v.str.contains(_BAD_GROUPING)).then(None).otherwise(v)
    v = v.str.replace_all(f"[{_GROUP_MARKS}{signs}]", "")
    if "minus_sign" in marks:
        v = v.str.replace_all(MINUS_SIGN, "-", literal=True)
    if "parenthesis" in marks:
        negative = v.str.starts_with("(") & v.str.ends_with(")")
        v = pl.when(negative).then("-" + v.str.strip_prefix("(").str.strip_suffix(")")).otherwise(v)
    if "trailing_minus" in marks:
        v = pl.when(v.str.ends_with("-")).then("-" + v.str.strip_suffix("-")).otherwise(v)
    return v


def number_expr(
    column: str,
    *,
    is_string: bool,
    decimal_comma: bool | pl.Expr,
    marks: frozenset[str] = NUMBER_MARKS,
    grouped: bool = True,
) -> pl.Expr:
    """Parse a number column; unparseable values become null (the caller gives the reason).

    ``decimal_comma``: the column's separator, or a boolean expression per line (the lines of
    the files that use a comma, in a table of several files). The other separator must group
    thousands: in a decimal-point column ``2,5`` or ``1.234,56`` is not a number (it is
    rejected, not read as 25 or 1.23456), nor ``0.5`` in a decimal-comma one. ``marks``: what
    the column holds (``number_marks``); the default assumes anything. ``grouped`` False: the
    other separator groups nothing either (``COORDINATES``: 52.520 is no latitude 52520)."""
    if not is_string:
        return pl.col(column).cast(pl.Float64, strict=False)
    v = _number_text(column, marks)
    comma_form = v.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    if "point" in marks or isinstance(decimal_comma, pl.Expr) or decimal_comma:
        comma_grouped = v.str.contains(_COMMA_GROUPED) if grouped else pl.lit(False)
        comma_form = pl.when(comma_grouped | ~v.str.contains(".", literal=True)).then(comma_form)
    point_form = v.str.replace_all(",", "", literal=True)
    if "comma" in marks:
        point_grouped = v.str.contains(_POINT_GROUPED) if grouped else pl.lit(False)
        point_form = pl.when(point_grouped | ~v.str.contains(",", literal=True)).then(point_form)
    if isinstance(decimal_comma, pl.Expr):
        v = pl.when(decimal_comma).then(comma_form).otherwise(point_form)
    else:
        v = comma_form if decimal_comma else point_form
    return v.cast(pl.Float64, strict=False).alias(column)


# A number as a stage's or side table writes it: digits with a decimal comma or point, grouped
# by the other separator, an exponent; no space, sign or code around it. Spaces, apostrophes
# and currency signs, which an order export's reading drops, are not: a cell cut or overwritten
# in a hand-edited table ('0.03  1903') was read as 0.031903.
PLAIN_NUMBER = r"^[+-]?[\d.,]*\d[\d.,]*([eE][+-]?\d+)?$"
_PLAIN_MARKS = frozenset({"comma"})


def plain_comma_columns(
    lf: pl.LazyFrame,
    columns: Sequence[str],
    *,
    default_comma: bool,
    ungrouped: Collection[str] = COORDINATES,
) -> set[str]:
    """Number columns of a stage's or side table written with a decimal comma, decided as an
    order export's are (``decimal_comma_columns``) on values written plainly (``PLAIN_NUMBER``);
    the ``ungrouped`` ones (a table's ``lat`` and ``lon``) as never grouped in thousands."""
    return decimal_comma_columns(
        lf,
        columns,
        default_comma=default_comma,
        marks=dict.fromkeys(columns, _PLAIN_MARKS),
        ungrouped=ungrouped,
    )


def plain_number_expr(column: str, *, decimal_comma: bool, grouped: bool | None = None) -> pl.Expr:
    """A text column of a stage's or side table as numbers, as ``number_expr`` reads an order
    export's with a decimal comma or point (the other separator only grouping thousands); a
    value not written plainly (``PLAIN_NUMBER``) is null, for the stage to name."""
    plain = pl.col(column).str.strip_chars().str.contains(PLAIN_NUMBER)
    number = number_expr(
        column,
        is_string=True,
        decimal_comma=decimal_comma,
        marks=_PLAIN_MARKS,
        grouped=column not in COORDINATES if grouped is None else grouped,
    )
    return pl.when(plain).then(number).alias(column)


def sum_left_to_right(columns: Sequence[str]) -> pl.Expr:
    """The columns' sum per row, a null counted as 0 (as ``pl.sum_horizontal``), added from the
    first column to the last. ``pl.sum_horizontal`` adds them in a tree whose shape follows
    polars' thread pool, so its last bits did: the demo's costs by customer wrote another
    cost_to_serve and profit with POLARS_MAX_THREADS=1 than with 2."""
    total = pl.lit(0.0, pl.Float64)
    for column in columns:
        total = total + pl.col(column).fill_null(0.0)
    return total


def sum_in_order(column: str) -> pl.Expr:
    """A group's sum (in ``group_by().agg`` or ``.over``) added in its rows' order, a null
    counted as 0. polars' own float sum of a group combines partial sums in an order that
    can follow its threads' timing: two runs of the same ``costs --by customer`` wrote
    inventory_value and carrying 3.6e-12 apart at 79 of the demo's customers (1 run of 10). A
    group keeps its rows' order, and a running sum adds them one after another."""
    return pl.col(column).fill_null(0.0).cum_sum().last()


def sum_any_order(values: str | pl.Expr) -> pl.Expr:
    """A group's sum (in ``group_by().agg`` or ``.over``; or a column's, in ``select``) the
    same to the bit whatever order its rows come in: its values added from the smallest up, a
    null counted as 0. A float sum in the rows' order (``sum_in_order``) is the same from one
    run to the next, but not for the same export's lines in another order, as an ERP's query
    returns them: shuffled, the demo's order lines moved its costs' revenue, profit and
    profit_share in their last bits (up to 1.2e-10). polars drops a ``sort()`` before a
    ``sum()`` from the plan (a sum's order does not matter to it): the sorted values are
    summed as a list, which it keeps. Not compensated, as polars' in-memory group-by sum is:
    up to 9 ulp from the exactly rounded sum (1 ulp in the lines' order) at the demo's
    customers' revenue; a frame sorted by the value before that group-by keeps both, but cost
    5x the group-by on 9 M lines (docs/measurements.md, *costs' sums whatever the lines'
    order*)."""
    column = pl.col(values) if isinstance(values, str) else values
    return column.fill_null(0.0).sort().implode().list.sum()
