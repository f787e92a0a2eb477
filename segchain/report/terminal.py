"""The report as rich renderables for a terminal: headline numbers and the tables, no charts."""

from __future__ import annotations

from typing import Any

from segchain.report.model import Headline, Note, Report, TableBlock

MAX_ROWS = 12
MAX_COLUMNS = 6
# A text column wraps between words down to its longest word, at most this wide (a longer word
# folds onto the next line); a figure never wraps.
LONGEST_WORD = 20
HEADLINE_GAP = 4  # the padding each side of a headline beside another


def render(report: Report) -> list[Any]:
    """A title, then per section a panel of its three numbers, its first table and its notes."""
    from rich.panel import Panel
    from rich.text import Text

    out: list[Any] = [Text(report.title, style="bold")]
    out.extend(Text(f"Warning: {m}", style="bold red") for m in report.mismatched)
    for section in report.sections:
        out.append(
            Panel(
                Headlines(section.headlines),
                title=Text(section.title, style="bold"),
                title_align="left",
            )
        )
        # A terminal is narrow: the section's first table, its first columns, and the notes.
        tables = [b for b in section.blocks if isinstance(b, TableBlock)]
        if tables:
            out.append(FittedTable(tables[0]))
        out.extend(Text(b.text, style="dim") for b in section.blocks if isinstance(b, Note))
    if report.skipped:
        out.append(Text("Not in this report:", style="bold"))
        out.extend(Text("  " + s, style="dim") for s in report.skipped)
    return out


def _longest_word(texts: list[str]) -> int:
    from rich.cells import cell_len  # a wide character takes two columns

    return max((cell_len(w) for t in texts for w in t.split()), default=0)


def _widest_line(texts: list[str]) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for t in texts for line in t.splitlines()), default=0)


class Headlines:
    """A section's headlines side by side, as many to a row as the terminal holds whole: a
    value (a figure) is never cut, nor a word of its label (on 40 columns three side by side
    had cut "Customers" to "Custome…")."""

    def __init__(self, headlines: list[Headline]) -> None:
        self.headlines = headlines

    def __rich_console__(self, console: Any, options: Any) -> Any:
        per_row = max(len(self.headlines), 1)
        widths = self._widths(per_row, console, options)
        while widths is None and per_row > 1:
            per_row -= 1
            widths = self._widths(per_row, console, options)
        yield self._grid(per_row, widths)

    def _widths(self, per_row: int, console: Any, options: Any) -> list[int] | None:
        """The widths of ``per_row`` headlines side by side in ``options.max_width``, None when
        a word would be cut."""
        texts = [[h.value, h.label, h.detail] for h in self.headlines]
        most = [
            max((_widest_line(t) for t in texts[i::per_row]), default=0) for i in range(per_row)
        ]
        least = [
            max((_longest_word(t) for t in texts[i::per_row]), default=0) for i in range(per_row)
        ]
        edges = _least_width(console, options, self._grid(per_row, [1] * per_row)) - per_row
        return _fit(most, least, options.max_width - edges)

    def _grid(self, per_row: int, widths: list[int] | None) -> Any:
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, HEADLINE_GAP))
        for i in range(per_row):
            # Fixed, so that rich does not shrink it further; a word past it folds.
            grid.add_column(width=widths[i] if widths else None, overflow="fold")
        cells = [
            Text.assemble((h.value, "bold"), "\n", (h.label, ""), "\n", (h.detail, "dim"))
            for h in self.headlines
        ]
        for start in range(0, len(cells), per_row):
            row = cells[start : start + per_row]
            grid.add_row(*row, *([""] * (per_row - len(row))))
        return grid


def _least_width(console: Any, options: Any, renderable: Any) -> int:
    """The width ``renderable`` needs to cut no word (rich caps a measure at the width it is
    given: measured on a wide one)."""
    return console.measure(renderable, options=options.update_width(10_000)).minimum


def _fit(most: list[int], least: list[int], room: int) -> list[int] | None:
    """Column widths that fit ``room``: each at its ``most``, the widest narrowed first, none
    below its ``least``; None when the least do not fit. (rich narrows the widest columns to
    one width whatever their words, then every column evenly, figures included.)"""
    if sum(least) > room:
        return None
    widths = list(most)
    while sum(widths) > room:
        widest = max(
            (i for i in range(len(widths)) if widths[i] > least[i]), key=widths.__getitem__
        )
        widths[widest] -= 1
    return widths


class FittedTable:
    """A section's first table at the width of the terminal it is printed on. A figure is
    never cut: rich shrinks every column evenly when a table is too wide, and on a terminal
    64 columns wide printed Champions' revenue 4,180,299 as "4,180,…" (it reads as 4,180).
    Columns narrow down to their figures (a header wraps between its words) and text down to
    its longest word; where that still does not fit, the last columns are left out and the
    caption names them."""

    def __init__(self, block: TableBlock) -> None:
        self.block = block
        self.frame = block.frame.select(block.frame.columns[:MAX_COLUMNS])

    def __rich_console__(self, console: Any, options: Any) -> Any:
        columns = list(self.frame.columns)
        widths = self._widths(columns, console, options)
        # At least the first column, whatever the width (a terminal narrower than one figure).
        while widths is None and len(columns) > 1:
            columns.pop()
            widths = self._widths(columns, console, options)
        yield self._table(columns, widths)

    def _cells(self, column: str) -> list[str]:
        values = self.frame.get_column(column).head(MAX_ROWS)
        return [self.block.cell(column, v) for v in values]

    def _widths(self, columns: list[str], console: Any, options: Any) -> dict[str, int] | None:
        """Each column's width so that the table fits ``options.max_width``, none below its
        least (its figures whole; its longest word); None when even that does not fit."""
        most, least = [], []
        for c in columns:
            header, cells = c.replace("_", " "), self._cells(c)
            most.append(max(_widest_line([header, *cells]), 1))
            if self.block.numeric(c):
                least.append(max(_widest_line(cells), _longest_word([header]), 1))
            else:
                least.append(min(max(_longest_word([header, *cells]), 1), LONGEST_WORD, most[-1]))
        # The borders and padding rich adds around the columns.
        ones = dict.fromkeys(columns, 1)
        edges = _least_width(console, options, self._table(columns, ones)) - len(ones)
        widths = _fit(most, least, options.max_width - edges)
        return dict(zip(columns, widths, strict=True)) if widths is not None else None

    def _table(self, columns: list[str], widths: dict[str, int] | None) -> Any:
        from rich.table import Table

        block = self.block
        table = Table(title=block.title, title_justify="left", show_edge=False, pad_edge=False)
        for c in columns:
            table.add_column(
                c.replace("_", " "),
                justify="right" if block.numeric(c) else "left",
                # Fixed, so that rich does not shrink it further; a word past it folds.
                width=widths[c] if widths else None,
                overflow="fold",
            )
        for row in self.frame.head(MAX_ROWS).iter_rows(named=True):
            # markup off: values from the data must not be read as rich markup.
            table.add_row(*(_plain(block.cell(c, row[c])) for c in columns))
        rows = self.frame.height - MAX_ROWS
        left = [c.replace("_", " ") for c in self.frame.columns if c not in columns]
        said = [f"{rows} more rows"] if rows > 0 else []
        if left:
            said.append(f"{', '.join(left)} (left out at this width)")
        if said:
            table.caption = f"({' and '.join(said)} in the HTML / Markdown report)"
        return table


def _plain(value: str) -> Any:
    from rich.text import Text

    return Text(value)
