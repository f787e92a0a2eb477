"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no script.

Every value that comes from the data goes through ``html.escape`` (ids and names come from ERP
exports); chart text is escaped by matplotlib's SVG writer.
"""

from __future__ import annotations

from html import escape

import polars as pl

from segchain.report.charts import render_svg
from segchain.report.model import (
    Chart,
    Note,
    Report,
    Section,
    TableBlock,
    finite,
    listed_rows,
)

CSS = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: var(--ink); background: #f3f4f6; }
header { background: #0f2c45; color: #fff; padding: 28px 40px 20px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
header p { margin: 0; color: #cbd5e1; }
nav { margin-top: 14px; display: flex; flex-wrap: wrap; gap: 8px; }
nav a { color: #fff; text-decoration: none; padding: 3px 10px; border: 1px solid #3b5b78;
  border-radius: 999px; font-size: 13px; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 24px 48px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 22px 28px; margin: 0 0 22px; }
h2 { margin: 0 0 2px; font-size: 21px; }
h3 { margin: 22px 0 8px; font-size: 15px; }
.sub { margin: 0 0 16px; color: var(--muted); font-size: 14px; }
.headlines { display: grid; grid-template-columns: repeat(3, 1fr); gap: 14px; margin: 0 0 8px; }
.headlines.four { grid-template-columns: repeat(4, 1fr); }
.kpi { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 8px;
  padding: 12px 16px; background: #fafbfc; }
.kpi-value { font-size: 28px; font-weight: 700; line-height: 1.2; }
.kpi-label { font-size: 13px; font-weight: 600; text-transform: uppercase; letter-spacing: .03em;
  color: #374151; }
.kpi-detail { font-size: 13px; color: var(--muted); }
figure { margin: 12px 0 6px; }
figure svg { width: 100%; height: auto; display: block; }
.chart-phone { display: none; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 13px; min-width: 50%; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left;
  white-space: nowrap; }
th { background: #f9fafb; font-weight: 600; color: #374151; }
td:first-child { position: sticky; left: 0; background: #fff; }
th:first-child { position: sticky; left: 0; }
table.long-key td:first-child, table.long-key th:first-child { white-space: normal;
  overflow-wrap: anywhere; min-width: min(10em, 30vw); max-width: 40vw; }
td.wrap { white-space: normal; min-width: 18em; }
details { margin: 6px 0; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
code { font-size: 12px; word-break: break-all; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
p.note { font-size: 13px; color: var(--muted); margin: 6px 0; }
p.mismatch { font-weight: 600; color: #a33; }
p.callout { font-size: 14px; background: #fff7e6; border: 1px solid #f5d9a6; border-radius: 6px;
  padding: 8px 12px; }
ul.skipped { color: var(--muted); font-size: 14px; }
.print-only { display: none; }
@media print { body { background: #fff; } section { break-inside: avoid; } }
@media (max-width: 720px) { .headlines, .headlines.four { grid-template-columns: 1fr; } }
@media (max-width: 600px) {
  header { padding: 18px 14px 14px; }
  header h1 { font-size: 21px; }
  main { padding: 12px 8px 32px; }
  section { padding: 14px 12px; border-radius: 8px; }
  .kpi-value { font-size: 22px; }
  table { font-size: 12px; }
  th, td { padding: 4px 6px; }
  td.wrap { min-width: 14em; }
  .chart-wide { display: none; }
  .chart-phone { display: block; }
}
@media print {
  .chart-phone { display: none; }
  main { max-width: none; padding: 0; }
  section { padding: 12px 4px; border: 0; }
  .table-wrap { overflow: visible; }
  table { font-size: 9px; }
  th, td { padding: 2px 4px; white-space: normal; overflow-wrap: break-word; }
  td { overflow-wrap: anywhere; }
  td.n { white-space: nowrap; }
  td:first-child, th:first-child { position: static; }
  details { display: none; }
  .print-only { display: block; }
}
""".strip()

# Characters of a key beyond which its column is capped (about 40 % of a phone's table box).
LONG_KEY = 20
HEAT_LOW = (247, 251, 255)
HEAT_HIGH = (107, 174, 214)


def render(report: Report) -> str:
    """The whole page."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.title)}</title>",
        f'<meta name="generator" content="segchain {escape(_version(report))}">',
        f'<meta name="segchain-provenance" content="{escape(_provenance(report))}">',
        f"<style>\n{CSS}\n</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(report.title)}</h1>",
        f"<p>{_lede(report)}</p>",
        *(f'<p class="mismatch">Warning: {escape(m)}</p>' for m in report.mismatched),
        "<nav>",
        *(f'<a href="#{s.key}">{escape(s.title)}</a>' for s in report.sections),
        '<a href="#about">About this report</a>',
        "</nav>",
        "</header>",
        "<main>",
    ]
    counter = [0]
    for section in report.sections:
        out.append(_section(section, counter))
    out.append(_about(report))
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def _lede(report: Report) -> str:
    n = len(report.sections)
    names = ", ".join(s.title.lower() for s in report.sections)
    return escape(f"{n} section{'s' * (n != 1)}: {names}." if n else "No section to show.")


def _section(section: Section, counter: list[int]) -> str:
    out = [f'<section id="{escape(section.key)}">', f"<h2>{escape(section.title)}</h2>"]
    if section.subtitle:
        out.append(f'<p class="sub">{escape(section.subtitle)}</p>')
    if section.headlines:
        # What to do now leads with a fourth (a forecast that lost held out): one row still.
        four = " four" if len(section.headlines) == 4 else ""
        out.append(f'<div class="headlines{four}">')
        for h in section.headlines:
            out.append(
                '<div class="kpi">'
                f'<div class="kpi-label">{escape(h.label)}</div>'
                f'<div class="kpi-value">{escape(h.value)}</div>'
                f'<div class="kpi-detail">{escape(h.detail)}</div>'
                "</div>"
            )
        out.append("</div>")
    for block in section.blocks:
        if isinstance(block, Chart):
            counter[0] += 1
            wide = render_svg(block, prefix=f"c{counter[0]}-")
            phone = render_svg(block, prefix=f"c{counter[0]}p-", phone=True)
            out.append(f"<h3>{escape(block.title)}</h3>")
            # Drawn twice: the page shows the one drawn for its width (CSS, no script).
            out.append(
                f'<figure role="img" aria-label="{escape(block.title)}">'
                f'<div class="chart-wide">{wide}</div>'
                f'<div class="chart-phone">{phone}</div>'
            )
            if block.caption:
                out.append(f"<figcaption>{escape(block.caption)}</figcaption>")
            out.append("</figure>")
        elif isinstance(block, TableBlock):
            out.append(_table(block))
        elif isinstance(block, Note):
            out.append(f'<p class="callout">{escape(block.text)}</p>')
    out.append("</section>")
    return "\n".join(out)


def column_title(name: str) -> str:
    return name.replace("_", " ")


def _table(block: TableBlock) -> str:
    df = block.frame
    out = [f"<h3>{escape(block.title)}</h3>"]
    if block.preview and df.height > block.preview:
        out.append(_rows(block, df.head(block.preview)))
        out.append(
            f"<details><summary>All {df.height:,} rows (the first {block.preview} are above)"
            "</summary>"
        )
        listed, rest = listed_rows(df)
        out.append(_rows(block, listed))
        if rest:
            out.append(f'<p class="note">{escape(rest)}</p>')
        out.append("</details>")
        # Paper cannot open a <details>; the printed page says what it left out and where.
        out.append(
            f'<p class="note print-only">Printed: the first {block.preview} of {df.height:,} '
            f'rows; the HTML page lists all {df.height:,} under "All {df.height:,} rows".</p>'
        )
    else:
        out.append(_rows(block, df))
    if block.note:
        out.append(f'<p class="note">{escape(block.note)}</p>')
    return "\n".join(out)


def _rows(block: TableBlock, df: pl.DataFrame) -> str:
    """The table itself, in a box that scrolls sideways on a narrow screen (the first column,
    the key, stays in view)."""
    ranges = {}
    for c in block.heat:
        if c in block.frame.columns:
            column = block.frame.get_column(c).to_list()
            values = [v for v in (finite(x) for x in column) if v is not None]
            if values:
                ranges[c] = (min(values), max(values))
    # A key column wider than about 40 % of a phone's table box would scroll every other
    # column under it (sticky): such a table caps the key's width and wraps the key in it.
    keys = df.get_column(df.columns[0]) if df.width else pl.Series([], dtype=pl.String)
    longest = max((len(block.cell(df.columns[0], v)) for v in keys), default=0)
    table = '<table class="long-key">' if longest > LONG_KEY else "<table>"
    out = [f'<div class="table-wrap">{table}', "<thead><tr>"]
    for c in df.columns:
        cls = ' class="n"' if block.numeric(c) else ""
        out.append(f"<th{cls}>{escape(column_title(c))}</th>")
    out.append("</tr></thead><tbody>")
    for row in df.iter_rows(named=True):
        out.append("<tr>")
        for c in df.columns:
            classes = [n for n, on in (("n", block.numeric(c)), ("wrap", c in block.wrap)) if on]
            attrs = f' class="{" ".join(classes)}"' if classes else ""
            if c in ranges:
                colour = _heat(finite(row[c]), *ranges[c])
                if colour:
                    attrs += f' style="background:{colour}"'
            out.append(f"<td{attrs}>{escape(block.cell(c, row[c]))}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _heat(value: float | None, low: float, high: float) -> str:
    """A light-to-mid blue for ``value`` between ``low`` and ``high`` (text stays readable)."""
    if value is None:
        return ""
    t = 0.5 if high == low else (value - low) / (high - low)
    rgb = (round(a + (b - a) * t) for a, b in zip(HEAT_LOW, HEAT_HIGH, strict=True))
    return "#" + "".join(f"{v:02x}" for v in rgb)


def _version(report: Report) -> str:
    return str(report.provenance.get("version", ""))


def _provenance(report: Report) -> str:
    import json

    return json.dumps(report.provenance, sort_keys=True, ensure_ascii=False)


def _about(report: Report) -> str:
    out = ['<section id="about">', "<h2>About this report</h2>"]
    out.append(
        '<p class="sub">Built by segchain from the tables below; every figure is computed from '
        "them, and the same inputs give the same file.</p>"
    )
    if report.provenance.get("params"):
        out.append(
            f'<p class="note">Made by segchain {escape(_version(report))} with: '
            f"<code>{escape(report.command())}</code></p>"
        )
    if report.inputs:
        out.append('<div class="table-wrap"><table><thead><tr>')
        out.append('<th>input</th><th>recognised as</th><th>by its</th><th class="n">rows</th>')
        out.append("</tr></thead><tbody>")
        for i in report.inputs:
            out.append(
                f"<tr><td>{escape(i.source)}</td><td>{escape(i.kind)}</td><td>{escape(i.how)}</td>"
                f'<td class="n">{i.rows:,}</td></tr>'
            )
        out.append("</tbody></table></div>")
        noted = [i for i in report.inputs if i.note]
        out.extend(f'<p class="note">{escape(i.source)}: {escape(i.note)}</p>' for i in noted)
    if report.skipped:
        out.append("<h3>Not in this report</h3>")
        out.append('<ul class="skipped">')
        out.extend(f"<li>{escape(s)}</li>" for s in report.skipped)
        out.append("</ul>")
    out.append("</section>")
    return "\n".join(out)
