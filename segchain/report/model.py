"""The report as data: sections of headline numbers, tables, charts and notes.

Renderers (HTML, Markdown, terminal) only lay these out; every number is computed in
``sections`` and written by ``segchain.formatting``, so the three outputs quote the same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from segchain.formatting import (
    INT,
    MISSING,
    MONEY,
    NUM,
    NUMERIC,
    PCT,
    RATIO,
    TEXT,
    UNITS,
    ansi_c_quoted,
    finite,
    format_number,
    kind_of,
    not_utf8_shown,
    quote_name,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Column formats (how a table column's values are written) are segchain.formatting's kinds.

# Every chart's key, which names its PNG in a Markdown report's charts folder (``map.png``): a
# report run again removes there the charts of these names its new page does not use, and no
# other file (see cli/report.py). A new chart's key must be added here.
CHART_KEYS = frozenset(
    {
        "accuracy",
        "cost_stack",
        "forecast",
        "inventory",
        "map",
        "orders",
        "profit",
        "promise",
        "segments",
    }
)


@dataclass(frozen=True)
class Headline:
    """One of the three numbers a manager would quote, with what it is and a short context."""

    label: str
    value: str
    detail: str = ""


# The most rows a long list puts in the page: 286,774 reorder lines (50,000 skus) made a page of
# 50 MB, past what mail carries (25 MB), that a browser took 14 s to lay out. Each row is also in
# the table the list was made from.
LISTED = 10_000


def listed_rows(df: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """A long list's rows for the page (up to LISTED), and what the page says of the rest."""
    if df.height <= LISTED:
        return df, ""
    return df.head(LISTED), (
        f"The first {LISTED:,} of {df.height:,} rows are listed, to keep the page small enough "
        "to send; every row is in the table this list was made from."
    )


@dataclass
class TableBlock:
    """A table; ``formats`` maps columns to segchain.formatting's kinds, ``heat`` columns are
    shaded from their smallest to their largest value."""

    title: str
    frame: pl.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    heat: tuple[str, ...] = ()
    note: str = ""
    # Long lists: the first ``preview`` rows in the page, every row one click away (0: all),
    # up to LISTED rows.
    preview: int = 0
    # Columns of sentences, wrapped rather than kept on one line.
    wrap: tuple[str, ...] = ()

    def kind(self, column: str) -> str:
        """The column's format: the one given, else from its name and dtype (``kind_of``)."""
        return self.formats.get(column) or _default_format(self.frame, column)

    def numeric(self, column: str) -> bool:
        """Whether the column holds numbers (right-aligned by every renderer)."""
        return self.kind(column) in NUMERIC

    def cell(self, column: str, value: Any) -> str:
        return format_number(value, self.kind(column))


@dataclass
class Chart:
    """A matplotlib drawing: ``plot(figure)`` draws on an empty Figure of ``size`` inches."""

    key: str
    title: str
    plot: Callable[[Figure], None]
    size: tuple[float, float] = (8.0, 3.6)
    caption: str = ""
    # The size on a phone (default: charts.NARROW_WIDTH wide, as high as on a desktop).
    narrow_size: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.key not in CHART_KEYS:
            raise ValueError(f"chart key {self.key!r} is not in CHART_KEYS")


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
    # What reading it left out, for the page as for stderr (a raw export's rejected lines).
    note: str = ""


@dataclass
class Report:
    """The whole report: sections in pipeline order and what was not in the inputs."""

    title: str
    sections: list[Section]
    inputs: list[InputInfo] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Tables that cannot be of one run (``consistency.mismatches``): said first on the page.
    mismatched: list[str] = field(default_factory=list)
    # What made it: segchain's version and the resolved options (no clock: reruns are identical)
    provenance: dict[str, Any] = field(default_factory=dict)

    def command(self) -> str:
        """The command line that makes this report again (add -o), from the recorded options."""
        params = self.provenance.get("params") or {}
        words = ["segchain", "report", *params.get("inputs", [])]
        if params.get("title"):
            words += ["--title", str(params["title"])]
        if params.get("sheet") is not None:
            words += ["--sheet", str(params["sheet"])]
        # The variables a raw export was read with go before it, as a shell takes them:
        # NAME=value, the value quoted (a quoted 'NAME=value' is a command's name).
        env = params.get("environment") or {}
        assigned = [f"{name}={_shell_word(str(value))}" for name, value in sorted(env.items())]
        return " ".join([*assigned, *(_shell_word(w) for w in words)])

    def charts(self) -> list[Chart]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]


def _default_format(frame: pl.DataFrame, column: str) -> str:
    if column not in frame.columns:
        return TEXT
    dtype = frame.schema[column]
    return kind_of(column, integer=dtype.is_integer(), numeric=dtype.is_numeric())


__all__ = [
    "CHART_KEYS",
    "INT",
    "Block",
    "Chart",
    "Headline",
    "InputInfo",
    "Note",
    "Report",
    "Section",
    "TableBlock",
    "MISSING",
    "MONEY",
    "NUM",
    "NUMERIC",
    "PCT",
    "RATIO",
    "TEXT",
    "UNITS",
    "finite",
    "format_number",
]


def _shell_word(word: str) -> str:
    """``word`` quoted for a shell: as ``shlex.quote`` does, or, when it holds a control
    character, in ANSI-C quotes (``$'x\\n# y.csv'``: bash, zsh, ksh), which keep the command on
    one line. A file name's newline, quoted by shlex as it was, split the report's "Made by"
    line: in Markdown the rest became a heading of its own, raw HTML in it rendered."""
    import shlex

    if quote_name(word) == word and not_utf8_shown(word) == word:
        return shlex.quote(word)
    # A byte that is not UTF-8 too: $'seg\xe9.csv' is the name; the page cannot hold it raw.
    return ansi_c_quoted(word)
