"""The report as Markdown: the same headline numbers and tables, charts as PNG files beside it.

Data values are escaped for Markdown renderers that also accept HTML (``<``, ``>``, ``&``) and
for tables (``|``, line breaks).
"""

from __future__ import annotations

import os
import re
from html import escape
from urllib.parse import quote

from segchain.formatting import plural
from segchain.report.charts import render_png
from segchain.report.model import Chart, Note, Report, TableBlock, listed_rows


def text(value: str) -> str:
    """Escape a value for Markdown: HTML special characters, pipes, emphasis marks, newlines."""
    out = escape(str(value), quote=False)
    for ch in ("\\", "|", "*", "_", "`", "[", "]"):
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


def code_span(value: str) -> str:
    """``value`` as a Markdown code span that gives it back whole: fenced by one backtick more
    than its longest run of them, padded by a space where it starts or ends with one
    (CommonMark). The command's backticks were dropped, so a file name holding one was not
    given back as it is."""
    runs = [len(run) for run in re.findall(r"`+", value)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def render(report: Report, *, image_dir: str | None = None) -> tuple[str, dict[str, bytes]]:
    """Markdown text, and ``{relative path: PNG bytes}`` of the charts to write beside it."""
    lines = [f"# {text(report.title)}", ""]
    lines += [line for m in report.mismatched for line in (f"**Warning: {text(m)}**", "")]
    files: dict[str, bytes] = {}
    if report.sections:
        lines += ["Sections: " + ", ".join(text(s.title) for s in report.sections) + ".", ""]
    omitted = 0
    for section in report.sections:
        lines += [f"## {text(section.title)}", ""]
        if section.subtitle:
            lines += [text(section.subtitle), ""]
        for h in section.headlines:
            detail = f" ({text(h.detail)})" if h.detail else ""
            lines.append(f"- **{text(h.label)}: {text(h.value)}**{detail}")
        if section.headlines:
            lines.append("")
        for block in section.blocks:
            if isinstance(block, Chart):
                if image_dir is None:
                    omitted += 1
                    continue
                name = f"{image_dir.rstrip('/')}/{block.key}.png"
                files[name] = render_png(block)
                # Percent-encoded: a space (report 'Segment plan.md'), '<' or an unbalanced
                # parenthesis in the folder's name ends a Markdown link, and the chart is lost.
                # Its bytes: a name that is not UTF-8 (r\xe9.md) could not be encoded at all.
                lines += [f"![{text(block.title)}]({quote(os.fsencode(name))})", ""]
                if block.caption:
                    lines += [f"*{text(block.caption)}*", ""]
            elif isinstance(block, TableBlock):
                lines += _table(block)
            elif isinstance(block, Note):
                lines += [f"> {text(block.text)}", ""]
    lines += ["## About this report", ""]
    if report.provenance.get("params"):
        version = text(str(report.provenance.get("version", "")))
        lines += [f"Made by segchain {version} with: {code_span(report.command())}", ""]
    if report.inputs:
        lines += ["| input | recognised as | by its | rows |", "|---|---|---|---:|"]
        lines += [
            f"| {text(i.source)} | {text(i.kind)} | {text(i.how)} | {i.rows:,} |"
            for i in report.inputs
        ]
        lines.append("")
        lines += [f"{text(i.source)}: {text(i.note)}\n" for i in report.inputs if i.note]
    if omitted:
        lines += [
            f"{plural(omitted, 'chart')} left out: Markdown on stdout has no files beside it.",
            "",
        ]
    if report.skipped:
        lines += ["Not in this report:", ""]
        lines += [f"- {text(s)}" for s in report.skipped]
        lines.append("")
    return "\n".join(lines), files


def _table(block: TableBlock) -> list[str]:
    df = block.frame
    numeric = {c for c in df.columns if block.numeric(c)}
    out = [f"### {text(block.title)}", ""]
    rest = ""
    if block.preview and df.height > block.preview:
        out += [f"All {df.height:,} rows:", ""]
        df, rest = listed_rows(df)
    out.append("| " + " | ".join(text(c.replace("_", " ")) for c in df.columns) + " |")
    out.append("|" + "|".join("---:" if c in numeric else "---" for c in df.columns) + "|")
    for row in df.iter_rows(named=True):
        out.append("| " + " | ".join(text(block.cell(c, row[c])) for c in df.columns) + " |")
    out.append("")
    if rest:
        out += [f"*{text(rest)}*", ""]
    if block.note:
        out += [f"*{text(block.note)}*", ""]
    return out
