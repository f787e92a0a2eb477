"""Numbers as text, written one way everywhere: the report's tables, headlines and charts, and
the tables the commands print on stderr.

A number is written according to what it measures (its *kind*), never with Python's default
``repr`` (no ``9.151858259554439``) and always with thousands separators (no ``3105``):

==========  ===============================  =====================================
kind        what                             examples
==========  ===============================  =====================================
``int``     counts (series, customers)       ``3,105``
``units``   quantities of goods              ``23,382``  ``152``  ``12.5``  ``12``  ``0.35``
``money``   values, costs, margins           ``1,234,568``  ``12.35``
``pct``     shares and rates given as 0-1    ``72.6%``  ``1,278%``
``ratio``   scaled errors, ratios (MASE)     ``1.05``  ``0.04``  ``1,234``
``num``     any other measure (km, days)     ``1,234``  ``12.3``  ``1.05``  ``2``  ``0.012``
``text``    written as it is                 ``Champions``
==========  ===============================  =====================================

Absent, NaN and infinite values are a dash; booleans are yes/no; dates are ISO.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

MISSING = "–"  # an absent value (never "nan", "None" or "inf")

INT, UNITS, MONEY, PCT, RATIO, NUM, TEXT = "int", "units", "money", "pct", "ratio", "num", "text"
KINDS = (INT, UNITS, MONEY, PCT, RATIO, NUM, TEXT)
NUMERIC = (INT, UNITS, MONEY, PCT, RATIO, NUM)  # right-aligned in every table


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is absent, not a number, NaN or infinite."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def format_number(value: Any, kind: str = NUM, *, signed: bool = False) -> str:
    """One value as text, by its kind (see the module's table).

    Args:
        value: a number, None, a bool, a date or a string (strings are written as they are).
        kind: one of ``KINDS``.
        signed: write ``+`` before a positive number (a change).
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == TEXT:
        return str(value)
    if isinstance(value, str):
        # A number read as text (a CSV column typed from empty first rows) is still a number,
        # and 'nan' or 'inf' so written is none, as a NaN is: a backtest CSV's wape 'nan' was
        # shown as written in the report's accuracy table, beside a headline WAPE of '–'.
        if kind not in NUMERIC:
            return value
        try:
            read = float(value.strip())
        except ValueError:
            return value
        return format_number(read, kind, signed=signed)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    x = finite(value)
    if x is None:
        return MISSING
    text = _digits(x, kind)
    if _is_zero(text):
        text = text.lstrip("-")  # no "-0.0%"
    elif signed and x > 0:
        text = "+" + text
    return text


def count(n: Any) -> str:
    """A count (lines, customers, series) as every message writes it: ``3,105``, not ``3105``."""
    return format_number(n, INT)


def plural(n: Any, noun: str, nouns: str | None = None) -> str:
    """A count with its noun, singular for exactly one: ``1 customer``, ``3,105 customers``,
    ``0 customers``; ``nouns`` for an irregular plural (``plural(n, "entry", "entries")``)."""
    many = nouns if nouns is not None else noun + "s"
    return f"{count(n)} {noun if n == 1 else many}"


def agree(n: Any, one: str, many: str) -> str:
    """The word that agrees with a count: ``agree(1, "has", "have")`` is ``has``, for any other
    count ``have``; also a noun shown without its count (``unknown setting`` / ``settings``)."""
    return one if n == 1 else many


def _digits(x: float, kind: str) -> str:
    a = abs(x)
    if kind == INT:
        return f"{x:,.0f}"
    if kind == PCT:
        p = x * 100
        return f"{p:,.0f}%" if abs(p) >= 1000 else _short_of_zero(x, short_of_one(x, ".1%"))
    if kind == MONEY:
        return f"{x:,.0f}" if a >= 100 else f"{x:,.2f}"
    if kind in (UNITS, NUM) and x == round(x):
        return f"{x:,.0f}"  # whole units and days: "12", not "12.0"
    if kind == UNITS:
        if a >= 100:
            return f"{x:,.0f}"
        return f"{x:.1f}" if a >= 1 else f"{x:.2f}"
    if kind == RATIO:
        return f"{x:,.0f}" if a >= 100 else f"{x:.2f}"
    # NUM: about three significant digits, thousands separators from 1,000
    if a == 0:
        return "0"
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


# A format spec short_of_one lengthens: what comes before the precision, the precision, the type.
_SPEC = re.compile(r"^(?P<head>[^.]*)(?:\.(?P<digits>\d+))?(?P<type>[gf%])$")


NOISE = 1e-9
"""How far below 1 a value is still written as 1 by ``short_of_one``: float rounding."""


def short_of_one(x: float, spec: str = "g") -> str:
    """``x`` written by the format ``spec`` (``g``, ``.4f``, ``.1%``), with as many more digits
    as it takes for a value under 1 not to read as 1: a service target of 0.9999999 is not
    ``1``, ``1.0000`` or ``100.0%`` (a promise of always, which no finite stock keeps), but
    ``0.9999999``, ``0.9999999`` and ``99.99999%``; every other value as ``spec`` writes it."""
    text = format(x, spec)
    m = _SPEC.match(spec)
    # Within NOISE of 1 a value is a computation's 1 (a fill rate of 1 - 2e-16 from a normal
    # tail), not a promise short of it: written '99.99999999999997%' it said nothing true.
    if m is None or not x < 1 - NOISE:
        return text
    head, kind = m["head"], m["type"]
    digits = int(m["digits"]) if m["digits"] is not None else 6  # the default of g
    one = 100.0 if kind == "%" else 1.0
    # 17 significant digits tell every float apart, so the loop ends below 1.
    while float(text.rstrip("%").replace(",", "")) >= one and digits < 17:
        digits += 1
        text = format(x, f"{head}.{digits}{kind}")
    return text


def _short_of_zero(x: float, text: str) -> str:
    """A share that is not 0 written with the digits it takes not to read as 0: The Complete
    Journey's smallest segment held 0.04 % of the revenue, shown '0.0%' beside segments of
    none; '0.04%' now. Within NOISE of 0 it is a computation's 0, and stays '0.0%'."""
    if not _is_zero(text) or abs(x) <= NOISE:
        return text
    digits = 1
    while _is_zero(text) and digits < 9:
        digits += 1
        text = format(x, f".{digits}%")
    return text


def _is_zero(text: str) -> bool:
    return not any(ch in "123456789" for ch in text)


def compact(x: float, _pos: object = None) -> str:
    """Axis tick text: 1.2M, 250k, 4,000, 40, 0.5 (no offset, no scientific notation)."""
    a = abs(x)
    if a >= 1e9:
        return f"{x / 1e9:g}B"
    if a >= 1e6:
        return f"{x / 1e6:g}M"
    if a >= 1e4:
        return f"{x / 1e3:g}k"
    if a >= 1000:
        return f"{x:,.0f}"
    return f"{x:g}"


# Column names that say what a column measures, for tables whose kinds are not declared
# (the commands' stderr tables). Checked in order; the first match wins.
_NAME_KINDS: tuple[tuple[str, str], ...] = (
    (r"(^|_)(share|rate|wape|fill|csl|target|utili[sz]ation|within_promise|service_level)", PCT),
    (r"(^|_)(mase|rmsse|ratio)($|_)", RATIO),
    (r"(^|_)(value|cost|costs|revenue|margin|profit|price|monetary|clv|amount)", MONEY),
    (
        r"(^|_)(quantity|qty|stock|demand|inventory|on_hand|order_now|reorder_point|order_up_to)",
        UNITS,
    ),
    (r"(^|_)(series|customers|orders|lines|skus|periods|points|count|rows)$", INT),
)


def kind_of(column: str, *, integer: bool = False, numeric: bool = True) -> str:
    """The kind of a column from its name (``fill_rate`` is pct, ``inventory_value`` money),
    else INT for an integer dtype, NUM for another number, TEXT for anything else."""
    if not numeric:
        return TEXT
    if integer:
        return INT
    name = column.lower()
    for pattern, kind in _NAME_KINDS:
        if re.search(pattern, name):
            return kind
    return NUM


# ---- checking text for numbers written raw (used by the tests of every rendered output)

_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b")
_LONG_DECIMALS = re.compile(r"(?<![\w.])-?\d+\.\d{4,}(?![\w])")
_BARE_THOUSANDS = re.compile(r"(?<![\w.,\-/#])-?([1-9]\d{3,})(?:\.\d+)?(?![\w,])")


def raw_numbers(text: str) -> list[str]:
    """Numbers in ``text`` that were not written by ``format_number``: four or more decimals
    (``9.151858259554439``), or 1,000 and above without a thousands separator (``3105``).

    Dates, years (1900-2100), and identifiers (digits joined to letters, or with a leading
    zero such as ``00036``) are not numbers here.
    """
    text = _DATE.sub(" ", text)
    found = [m.group(0) for m in _LONG_DECIMALS.finditer(text)]
    for m in _BARE_THOUSANDS.finditer(text):
        digits = m.group(1)
        if len(digits) == 4 and 1900 <= int(digits) <= 2100 and "." not in m.group(0):
            continue
        found.append(m.group(0))
    return found


# ---- text from outside (file names, cells) in messages on stderr ---------------------------
# What a terminal or a log acts on instead of showing: C0 and C1 controls and DEL (a newline
# forges a line of its own, ESC a colour or a cursor move, CR overwrites the line), and the
# bidirectional overrides and isolates that reorder what follows them ("Trojan Source").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a name that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if _CONTROL.match(char):
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def quote_name(name: str) -> str:
    """``name`` (a file's) as messages show it: as it is, or, when it holds a control character,
    quoted and escaped as Python writes a string (``'evil\\nname.csv'``), so that a hostile file
    name can neither forge a line on stderr nor send escape sequences to a terminal. A byte that
    is not UTF-8 is ``\\xff`` either way (see ``cli.common.readable``)."""
    if not _CONTROL.search(name):
        return name
    return "'" + "".join(_escaped(c) for c in name) + "'"


def ansi_c_quoted(word: str) -> str:
    """``word`` in a shell's ANSI-C quotes (``$'x\\n# y.csv'``, ``$'seg\\xe9.csv'``), which bash,
    zsh and ksh read back as the word, its control characters and the bytes of a name that are
    not UTF-8 included."""
    return "$'" + "".join(_escaped(c) for c in word) + "'"


def not_utf8_shown(text: str) -> str:
    """``text`` with each byte of a file name that is not UTF-8 (Python's lone surrogate for
    it) written ``\\xff``, as messages show it: such a name could not be encoded as UTF-8 at
    all (report's page ended in a UnicodeEncodeError)."""
    try:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    except UnicodeError:  # a surrogate that is no escaped byte: left as it is
        return text


def escape_controls(text: str, *, keep: str = "") -> str:
    """``text`` with every control character but those in ``keep`` escaped (``\\x1b``), the
    rest as it is: the last guard of a message whose parts are not all quoted."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escaped(m.group()), text)


# The file names of the running command that hold a control character (``remember_name``).
_NAMES: ContextVar[tuple[str, ...]] = ContextVar("segchain_hostile_names", default=())


def remember_name(name: str) -> None:
    """Note a file name the running command reads or writes, for ``quote_names``."""
    if _CONTROL.search(name) and name not in _NAMES.get():
        _NAMES.set((*_NAMES.get(), name))


def forget_names() -> None:
    """Forget the names ``remember_name`` noted (a new command starts)."""
    _NAMES.set(())


def _shown(shown: str, _match: re.Match[str]) -> str:
    return shown


def quote_names(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with every file name remembered (``remember_name``) or given in ``names`` that
    holds a control character quoted (``quote_name``) wherever it appears as it is, as a word
    of its own: a message that names a file by its raw name cannot forge a line either. Not
    within a word: a file named 'a\\n' is not every line of a message that ends in 'a'."""
    hostile = {*_NAMES.get(), *(n for n in names if _CONTROL.search(n))}
    for name in sorted(hostile, key=len, reverse=True):  # a name within a longer one: after it
        if name in text:
            alone = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
            # A function, not a template: the quoted name's backslashes are its own.
            text = alone.sub(functools.partial(_shown, quote_name(name)), text)
    return text


def solver_budget(time_limit: Any, node_limit: Any) -> tuple[str, str]:
    """The solver's limits per solve, and the options to raise for more search, in words:
    ('--node-limit (5,000 nodes) per solve', 'a larger --node-limit'). Also read from an
    output's provenance, where either may be absent (a run before --node-limit)."""
    parts, options = [], []
    if isinstance(time_limit, int | float) and not isinstance(time_limit, bool):
        parts.append(f"--time-limit ({time_limit:g} s)")
        options.append("--time-limit")
    if isinstance(node_limit, int) and not isinstance(node_limit, bool) and node_limit > 0:
        parts.append(f"--node-limit ({node_limit:,} nodes)")
        options.append("--node-limit")
    if not parts:
        return "the solver's limits", "a longer --time-limit"
    return " and ".join(parts) + " per solve", "a larger " + " or ".join(options)
