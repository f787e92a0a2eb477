"""The report as rich renderables for a terminal: headline numbers and the tables, no charts."""

from __future__ import annotations

from typing import Any

from segchain.report.model import Note, Report, TableBlock

MAX_ROWS = 12
MAX_COLUMNS = 6


def render(report: Report) -> list[Any]:
    """A title, then per section a panel of its three numbers, its first table and its notes."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    out: list[Any] = [Text(report.title, style="bold")]
    out.extend(Text(f"Warning: {m}", style="bold red") for m in report.mismatched)
    for section in report.sections:
        grid = Table.grid(padding=(0, 4))
        for _ in section.headlines:
            grid.add_column()
        grid.add_row(
            *(
                Text.assemble((h.value, "bold"), "\n", (h.label, ""), "\n", (h.detail, "dim"))
                for h in section.headlines
            )
        )
        out.append(Panel(grid, title=Text(section.title, style="bold"), title_align="left"))
        # A terminal is narrow: the section's first table, its first columns, and the notes.
        tables = [b for b in section.blocks if isinstance(b, TableBlock)]
        if tables:
            out.append(_table(tables[0]))
        out.extend(Text(b.text, style="dim") for b in section.blocks if isinstance(b, Note))
    if report.skipped:
        out.append(Text("Not in this report:", style="bold"))
        out.extend(Text("  " + s, style="dim") for s in report.skipped)
    return out


def _table(block: TableBlock) -> Any:
    from rich.table import Table

    df = block.frame.select(block.frame.columns[:MAX_COLUMNS])
    table = Table(title=block.title, title_justify="left", show_edge=False, pad_edge=False)
    for c in df.columns:
        table.add_column(c.replace("_", " "), justify="right" if block.numeric(c) else "left")
    for row in df.head(MAX_ROWS).iter_rows(named=True):
        # markup off: values from the data must not be read as rich markup.
        table.add_row(*(_plain(block.cell(c, row[c])) for c in df.columns))
    if df.height > MAX_ROWS:
        table.caption = f"({df.height - MAX_ROWS} more rows in the HTML / Markdown report)"
    return table


def _plain(value: str) -> Any:
    from rich.text import Text

    return Text(value)
