"""The report as data: sections of headline numbers, tables, charts and notes, and number formats.

Renderers (HTML, Markdown, terminal) only lay these out; every number is computed and formatted
once, here and in ``sections``, so the three outputs quote the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MISSING = "–"  # shown for a value that is absent (never "nan")

# Column formats: how a table column's values are written.
INT, NUM, PCT, MONEY, TEXT = "int", "num", "pct", "money", "text"
NUMERIC = (INT, NUM, PCT, MONEY)  # formats whose columns are right-aligned


@dataclass(frozen=True)
class Headline:
    """One of the three numbers a manager would quote, with what it is and a short context."""

    label: str
    value: str
    detail: str = ""


@dataclass
class TableBlock:
    """A small table; ``formats`` maps columns to INT/NUM/PCT/MONEY/TEXT, ``heat`` columns are
    shaded from their smallest to their largest value."""

    title: str
    frame: pl.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    heat: tuple[str, ...] = ()
    note: str = ""

    def kind(self, column: str) -> str:
        """The column's format: the one given, else INT or NUM for a numeric dtype, else TEXT."""
        return self.formats.get(column) or _default_format(self.frame, column)

    def numeric(self, column: str) -> bool:
        """Whether the column holds numbers (right-aligned by every renderer)."""
        return self.kind(column) in NUMERIC

    def cell(self, column: str, value: Any) -> str:
        return format_value(value, self.kind(column))


@dataclass
class Chart:
    """A matplotlib drawing: ``plot(figure)`` draws on an empty Figure of ``size`` inches."""

    key: str
    title: str
    plot: Callable[[Figure], None]
    size: tuple[float, float] = (8.0, 3.6)
    caption: str = ""


@dataclass(frozen=True)
class Note:
    """A sentence shown as it is (escaped): what was skipped, what a number means."""

    text: str


Block = TableBlock | Chart | Note


@dataclass
class Section:
    """One story of the report: ``key`` is its anchor, ``title`` its heading."""

    key: str
    title: str
    subtitle: str = ""
    headlines: list[Headline] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class InputInfo:
    """One input of the report: where it came from, what it was recognised as, its size."""

    source: str
    kind: str
    rows: int
    how: str  # "metadata" or "columns"


@dataclass
class Report:
    """The whole report: sections in pipeline order and what was not in the inputs."""

    title: str
    sections: list[Section]
    inputs: list[InputInfo] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def charts(self) -> list[Chart]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]


# ---------------------------------------------------------------------------------------------
# Numbers as text


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is absent, NaN or infinite."""
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def format_value(value: Any, kind: str = NUM) -> str:
    """Format one value for a table or headline; absent, NaN and infinite values show as a dash."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == TEXT or isinstance(value, str):
        return str(value)
    x = finite(value)
    if x is None:
        return MISSING if not hasattr(value, "isoformat") else value.isoformat()
    if kind == INT:
        return f"{x:,.0f}"
    if kind == PCT:
        return f"{x * 100:.1f}%"
    if kind == MONEY:
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"
    return number(x)


def number(x: float) -> str:
    """A readable number: thousands separators, about three significant digits below 1,000."""
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _default_format(frame: pl.DataFrame, column: str) -> str:
    if column not in frame.columns:
        return TEXT
    dtype = frame.schema[column]
    if dtype.is_integer():
        return INT
    if dtype.is_numeric():
        return NUM
    return TEXT
