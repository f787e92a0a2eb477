"""Charts as deterministic SVG (inline in HTML) or PNG (next to Markdown), with matplotlib's Agg.

matplotlib is imported inside the functions (``segchain --help`` stays fast). Every call runs in an
``rc_context`` that fixes the SVG hash salt, keeps text as text and turns mathtext off (ERP names
may contain ``$``), and the SVG is saved without a date, so two runs write the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Literal

from segchain.formatting import INT, MONEY, NUM, PCT, compact, finite, format_number, plural
from segchain.report.model import Chart

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

# Distinct, colour-blind-friendly first (Okabe-Ito), then tab10's remaining hues.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#8c564b",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#9467bd",
    "#aec7e8",
)
INK = "#1f2937"
MUTED = "#9ca3af"
ACCENT = "#0072B2"
BASELINE = "#9ca3af"

RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "segchain",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.edgecolor": "#d1d5db",
    "axes.labelcolor": INK,
    "xtick.color": "#4b5563",
    "ytick.color": "#4b5563",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "path.simplify": True,
    # Not reset by matplotlib's defaults (a style may not set it): dates drawn in UTC.
    "timezone": "UTC",
}


# Charts are drawn twice: at their own size for a desktop page, and NARROW_WIDTH inches wide for
# a phone, where the page shows that one instead. A 390 px screen leaves about 348 px for a chart:
# at 4.2 in (302 pt) every text of at least SMALLEST pt is drawn at least 9 px high.
NARROW_WIDTH = 4.2
NARROW_RC: dict[RcKeyType, Any] = {"font.size": 10, "axes.titlesize": 10.5}
SMALLEST = 8.0  # the smallest text of any chart, in points (ticks, bar labels, legends)


def small() -> float:
    """Bar labels, legends and annotations: one point under the body text, never under
    SMALLEST."""
    import matplotlib

    return max(SMALLEST, float(matplotlib.rcParams["font.size"]) - 1)


def narrow(fig: Figure) -> bool:
    """Whether the chart is being drawn for a phone (legends go below, points are raster)."""
    return float(fig.get_figwidth()) < 6


def segment_colours(names: Iterable[str | None]) -> dict[str | None, str]:
    """The same colour for a segment in every chart of the report, in the order given."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def label(value: Any) -> str:
    """A data value as chart text (mathtext is off, so ``$`` and ``_`` stay as they are)."""
    return "(none)" if value is None else str(value)


LONGEST_LABEL = 32
"""The most characters a name gets on a chart's axis or legend (a segment, a site, a series)."""


def short_label(value: Any) -> str:
    """A name as an axis or legend label: at most LONGEST_LABEL characters, its middle cut
    (``Champions of the n…r reporting``), so that two long names that differ at their end stay
    apart. A segment label of ~100 characters left the plot no room: matplotlib warned on stderr
    ("constrained_layout not applied because axes sizes collapsed to zero") and drew the chart
    without its layout, the labels cut at the edge. The tables beside the chart keep the whole
    name."""
    text = label(value)
    if len(text) <= LONGEST_LABEL:
        return text
    tail = LONGEST_LABEL // 3
    return text[: LONGEST_LABEL - tail - 1].rstrip() + "…" + text[-tail:].lstrip()


def style(ax: Axes, *, grid: Literal["x", "y", "both", ""] = "x") -> None:
    """Light grid behind the bars or lines, no frame on top and right, compact tick numbers."""
    from matplotlib.ticker import FuncFormatter

    axis = ax.xaxis if grid == "x" else ax.yaxis
    if grid:
        axis.set_major_formatter(FuncFormatter(compact))
    ax.set_axisbelow(True)
    if grid:
        ax.grid(axis=grid, color="#e5e7eb", linewidth=0.8)
    ax.tick_params(length=0)


def _figure(chart: Chart, *, phone: bool = False) -> Any:
    from matplotlib.figure import Figure

    size = chart.narrow_size or (NARROW_WIDTH, chart.size[1]) if phone else chart.size
    fig = Figure(figsize=size, layout="constrained")
    chart.plot(fig)
    return fig


@dataclass
class DrawingTrouble:
    """What matplotlib warned of while the charts were drawn, gathered for ``said_plainly``."""

    crowded: list[str] = field(default_factory=list)  # charts whose layout collapsed
    missing_glyphs: dict[str, list[str]] = field(default_factory=dict)  # font -> characters


_TROUBLE: ContextVar[DrawingTrouble | None] = ContextVar("segchain_chart_trouble", default=None)
_GLYPH = re.compile(r"Glyph \d+ \((.+?)\) missing from font\(s\) (.+?)\.?$")


@contextmanager
def said_plainly(say: Callable[[str], None]) -> Iterator[None]:
    """Draw the charts in the block with matplotlib's warnings said by ``say`` in plain words,
    once each: its own lines ('constrained_layout not applied because axes sizes collapsed to
    zero.  Try making figure larger or Axes decorations smaller.', once per chart drawn, or
    'Glyph 20013 (...) missing from font(s) DejaVu Sans.' per character) reached stderr."""
    trouble = DrawingTrouble()
    token = _TROUBLE.set(trouble)
    try:
        yield
    finally:
        _TROUBLE.reset(token)
    crowded = list(dict.fromkeys(trouble.crowded))
    if crowded:
        titles = ", ".join(crowded)
        say(
            f"the names on {plural(len(crowded), 'chart')} ({titles}) are too wide for "
            f"{'it' if len(crowded) == 1 else 'them'}: drawn without room made for them, "
            "cut at the edge (the tables show them whole)"
        )
    for font, chars in trouble.missing_glyphs.items():
        shown = ", ".join(repr(c) for c in list(dict.fromkeys(chars))[:10])
        say(
            f"the charts' font ({font}) has no glyph for some characters of the names "
            f"({shown}): drawn as empty boxes in the charts (the tables show them)"
        )


@contextmanager
def _watched(chart: Chart, *, phone: bool = False) -> Iterator[None]:
    """Draw ``chart`` with matplotlib's warnings of a collapsed layout and of a missing glyph
    gathered for ``said_plainly`` (outside it they reach ``warnings`` as before); any other
    warning goes on as it came."""
    trouble = _TROUBLE.get()
    if trouble is None:
        yield
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        text = str(w.message)
        glyph = _GLYPH.match(text)
        if text.startswith("constrained_layout not applied"):
            trouble.crowded.append(repr(chart.title) + " on a phone" * phone)
        elif glyph is not None:
            char = _unicode_name(glyph.group(1))
            trouble.missing_glyphs.setdefault(glyph.group(2), []).append(char)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _unicode_name(text: str) -> str:
    """The character matplotlib names as ``\\N{CJK UNIFIED IDEOGRAPH-4E2D}``, else the text."""
    import unicodedata

    match = re.fullmatch(r"\\N\{(.+)\}", text)
    if match is None:
        return text
    try:
        return unicodedata.lookup(match.group(1))
    except KeyError:
        return text


_ID = re.compile(r'\bid="([^"]+)"')
# An element id in matplotlib's SVG and the references to it: id="X", href="#X" and url(#X).
_ID_ATTR = re.compile(r'(id="|href="#)([^"]+)"')
_ID_URL = re.compile(r'#([^)"#\s]+)\)')


@contextmanager
def _settings(rc: dict[RcKeyType, Any]) -> Iterator[None]:
    """matplotlib's own defaults and then ``rc``, whatever settings the process started with.

    matplotlib reads a matplotlibrc at import: from the working folder first, then
    $MATPLOTLIBRC, MPLCONFIGDIR or ~/.config/matplotlib. The same report written from a folder
    holding one (font.family serif, axes.grid, lines.linewidth) drew other charts, so a page
    depended on where it was made and whose account made it."""
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(rc)
        yield


def render_svg(chart: Chart, *, prefix: str = "", phone: bool = False) -> str:
    """The chart as an ``<svg>`` element to inline in HTML (no XML prolog, no metadata block).

    ``prefix`` makes the element ids unique when several charts share one page; ``phone``
    draws it NARROW_WIDTH inches wide with larger text, for a phone's screen.
    """
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buffer = io.StringIO()
    with (
        _settings({**RC, **(NARROW_RC if phone else {})}),
        _watched(chart, phone=phone),
    ):
        fig = _figure(chart, phone=phone)
        FigureCanvasSVG(fig)
        # SVG is drawn at 72 dpi (matplotlib's vector formats): the layout is worked out there.
        _save(fig, buffer, layout_dpi=72, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    if prefix:
        # One pass per form of reference, not three string replaces per id over the whole SVG
        # (158,272 calls, some 4 s, on Online Retail's report).
        ids = set(_ID.findall(svg))
        svg = _ID_ATTR.sub(lambda m: f'{m[1]}{prefix}{m[2]}"' if m[2] in ids else m[0], svg)
        svg = _ID_URL.sub(lambda m: f"#{prefix}{m[1]})" if m[1] in ids else m[0], svg)
    # Let the page size the chart: keep the viewBox, drop the fixed size in points.
    svg = re.sub(r'(<svg[^>]*?) width="[^"]+" height="[^"]+"', r"\1", svg, count=1)
    return svg.strip()


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes (for the Markdown report)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    with _settings(RC), _watched(chart):
        fig = _figure(chart)
        FigureCanvasAgg(fig)
        dpi = float(matplotlib.rcParams["savefig.dpi"])
        _save(fig, buffer, layout_dpi=dpi, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _save(fig: Figure, buffer: IO[Any], *, layout_dpi: float, **options: Any) -> None:
    """``fig.savefig(buffer, **options)`` with the constrained layout worked out once before it,
    at ``layout_dpi`` (the dpi savefig works it out at), and then turned off: savefig on a figure
    that has a layout engine draws the whole figure once without output, to run the layout, and
    then again to write it. That first draw was 15 % of a chart's time (the demo's report: 9
    charts, each drawn for a desktop and a phone); the layout is the same, and so are the bytes
    written (every chart of the demo's report, SVG and PNG). A figure without axes is not laid
    out, as in ``Figure.draw``, which passes over the layout's ValueError as it is done here."""
    import matplotlib

    engine = fig.get_layout_engine()
    if engine is not None and fig.axes:
        dpi = fig.dpi
        fig.dpi = layout_dpi
        try:
            engine.execute(fig)
        except ValueError:
            pass
        finally:
            fig.dpi = dpi
    # None is no engine only where matplotlib's settings ask for none (a matplotlibrc in the
    # user's MPLCONFIGDIR may set figure.autolayout, which would lay the figure out again).
    no_engine: dict[RcKeyType, Any] = {
        "figure.autolayout": False,
        "figure.constrained_layout.use": False,
    }
    with matplotlib.rc_context(no_engine):
        fig.set_layout_engine(None)
    fig.savefig(buffer, **options)


# ---------------------------------------------------------------------------------------------
# Drawing helpers shared by the charts


def barh(
    ax: Axes,
    names: Sequence[Any],
    values: Sequence[float | None],
    *,
    colours: Sequence[str] | str = ACCENT,
    kind: str = NUM,
    title: str = "",
) -> None:
    """Horizontal bars, first name on top, each bar labelled with its value."""
    ys = list(range(len(names)))[::-1]
    vals = [0.0 if v is None else float(v) for v in values]
    ax.barh(ys, vals, color=colours, height=0.7)
    ax.set_yticks(ys, [short_label(n) for n in names])
    top = max((abs(v) for v in vals), default=0.0) or 1.0
    for y, v, raw in zip(ys, vals, values, strict=True):
        ax.text(
            v + top * 0.01 if v >= 0 else v - top * 0.01,
            y,
            format_number(raw, kind),
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=small(),
            color=INK,
        )
    ax.set_xlim(min(0.0, min(vals, default=0.0) * 1.15), max(vals, default=0.0) * 1.18 or 1.0)
    if title:
        ax.set_title(_fit(title, ax), loc="left")
    style(ax)
    if kind == PCT:
        _percent_axis(ax)


def paired_barh(
    ax: Axes,
    names: Sequence[Any],
    first: Sequence[float | None],
    second: Sequence[float | None],
    *,
    labels: tuple[str, str],
    kind: str = MONEY,
    title: str = "",
) -> None:
    """Two bars per name (e.g. model vs baseline), first name on top, with a legend.

    Names without both values are left out (a missing value is not a zero).
    """
    keep = [i for i in range(len(names)) if first[i] is not None and second[i] is not None]
    names = [names[i] for i in keep]
    first = [first[i] for i in keep]
    second = [second[i] for i in keep]
    n = len(names)
    ys = [float(n - 1 - i) for i in range(n)]
    a = [0.0 if v is None else float(v) for v in first]
    b = [0.0 if v is None else float(v) for v in second]
    h = 0.38
    ax.barh([y + h / 2 for y in ys], a, height=h, color=ACCENT, label=labels[0])
    ax.barh([y - h / 2 for y in ys], b, height=h, color=BASELINE, label=labels[1])
    ax.set_yticks(ys, [short_label(x) for x in names])
    top = max([abs(v) for v in a + b], default=0.0) or 1.0
    for y, v in zip(ys, a, strict=True):
        ax.text(
            v + top * 0.01,
            y + h / 2,
            format_number(v, kind),
            va="center",
            fontsize=small(),
            color=INK,
        )
    for y, v in zip(ys, b, strict=True):
        ax.text(
            v + top * 0.01,
            y - h / 2,
            format_number(v, kind),
            va="center",
            fontsize=small(),
            color=INK,
        )
    _finish_bars(ax, top=top, kind=kind, title=title)


def _finish_bars(ax: Axes, *, top: float, kind: str, title: str) -> None:
    """The end of every horizontal bar chart: room for the end labels, legend, title, style."""
    ax.set_xlim(0, top * 1.2)
    _legend(ax)
    if title:
        ax.set_title(_fit(title, ax), loc="left")
    style(ax)
    if kind == PCT:
        _percent_axis(ax)


def _fit(title: str, ax: Axes) -> str:
    """A chart's title, wrapped on a narrow chart (it starts where the plot does)."""
    import textwrap

    fig = ax.get_figure()
    if fig is not None and narrow(fig):  # type: ignore[arg-type]
        return "\n".join(textwrap.wrap(title, 34)) or title
    return title


def _legend(ax: Axes) -> None:
    """A legend beside the plot, at its upper right, on a wide chart; under it on a narrow one.
    Never inside: wherever it sat there, some data put a bar or its label under it (Superstore's
    longest WAPE bars are its last segment's, at the lower right where the legend was)."""
    fig = ax.get_figure()
    if fig is not None and narrow(fig):  # type: ignore[arg-type]
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            frameon=False,
            fontsize=small(),
            ncol=2,
        )
    else:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=small())


def _percent_axis(ax: Axes) -> None:
    """Shares on the x axis as whole percentages, written as the tables write them (1,000%)."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x * 100:,.0f}%"))


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    fig = ax.get_figure()
    few = fig is not None and narrow(fig)  # type: ignore[arg-type]
    locator = mdates.AutoDateLocator(minticks=2, maxticks=5) if few else mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


# ---------------------------------------------------------------------------------------------
# The report's charts: each draws prepared data on an empty Figure (the sections prepare the data)


def bars(
    fig: Figure,
    names: Sequence[Any],
    values: Sequence[float | None],
    *,
    colours: Sequence[str],
    title: str,
    kind: str = MONEY,
) -> None:
    """One labelled bar per name (e.g. inventory value by segment)."""
    barh(fig.subplots(), names, values, colours=colours, kind=kind, title=title)


def segment_bars(
    fig: Figure,
    names: Sequence[Any],
    customers: Sequence[float | None],
    revenue: Sequence[float | None] | None,
    *,
    colours: Sequence[str],
) -> None:
    """Customers (and revenue, when known) per segment, side by side on one shared axis."""
    panels = 2 if revenue is not None else 1
    shape = (panels, 1) if narrow(fig) else (1, panels)
    axes = fig.subplots(*shape, sharey=not narrow(fig), squeeze=False).ravel()
    barh(axes[0], names, customers, colours=colours, kind=INT, title="Customers")
    if revenue is not None:
        barh(axes[1], names, revenue, colours=colours, kind=MONEY, title="Revenue")


def paired_bars(
    fig: Figure,
    names: Sequence[Any],
    first: Sequence[float | None],
    second: Sequence[float | None],
    *,
    labels: tuple[str, str],
    title: str,
    kind: str = MONEY,
) -> None:
    """Two bars per name (chosen models vs baseline, segmented vs uniform policy)."""
    paired_barh(fig.subplots(), names, first, second, labels=labels, kind=kind, title=title)


def share_bars(
    fig: Figure,
    labels: Sequence[str],
    shares: Sequence[float | None],
    *,
    colours: Sequence[str],
    title: str,
) -> None:
    """Shares (0 to 1) as percentage bars, on a fixed 0-115% axis."""
    ax = fig.subplots()
    barh(ax, labels, shares, colours=colours, kind=PCT, title=title)
    ax.set_xlim(0, 1.15)


def monthly_bars(
    fig: Figure,
    months: Sequence[Any],
    values: Sequence[float],
    *,
    part: Collection[Any] = (),
    part_label: str = "",
    empty: Collection[Any] = (),
) -> None:
    """One bar per month on a date axis; the ``part`` months (the export covers only some of
    their days) drawn lighter and hatched, named by ``part_label`` in a legend above the plot;
    the ``empty`` months (no order line) marked 0 on the axis, where a bar of 0 shows nothing
    and reads as a month left out."""
    ax = fig.subplots()
    drawn = ax.bar(months, values, width=25, color=ACCENT)
    for month, patch in zip(months, drawn.patches, strict=True):
        if month in part:
            _as_part(patch)
        if month in empty:
            ax.annotate(
                "0",
                (month, 0),
                xytext=(0, 1),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=small(),
                color=MUTED,
            )
    if part:
        from matplotlib.patches import Patch

        handle = Patch(label=part_label)
        _as_part(handle)
        ax.legend(
            handles=[handle],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            borderaxespad=0.2,
            frameon=False,
            fontsize=small(),
        )
    _date_axis(ax)
    style(ax, grid="y")


def _as_part(patch: Any) -> None:
    """A bar that stands for part of its period: the colour's outline, lightly filled."""
    from matplotlib.colors import to_rgba

    patch.set_facecolor(to_rgba(ACCENT, 0.3))
    patch.set_edgecolor(ACCENT)
    patch.set_hatch("////")
    patch.set_linewidth(0.8)


ACTUAL_LABEL = "actual, not seen by the forecast"


@dataclass(frozen=True)
class FanPanel:
    """One series of the fan chart: its forecast, interval bands (widest first) and history."""

    uid: Any
    ds: list[dt.date]
    forecast: list[float | None]
    bands: list[tuple[str, list[float | None], list[float | None]]]
    history: tuple[list[dt.date], list[float]] | None
    colour: str
    model: Any = None
    # What the panel is called: the series' key values (the id escapes a '/' within one).
    title: Any = None
    # The history as ordered, where the forecast read (and ``history`` is) another: cleansed.
    ordered: tuple[list[dt.date], list[float]] | None = None
    # The demand ordered in the forecast's periods, where the orders run past its first one (a
    # forecast made --as-of a past day): what happened, which the forecast did not see.
    actual: tuple[list[dt.date], list[float]] | None = None
    # The history is of the segments given, known not to be the ones the forecast read.
    other_segments: bool = False


def gaps(values: Sequence[Any]) -> list[float]:
    """Values to draw as a line or a band, an unknown one (empty, NaN, infinite) as NaN, where
    matplotlib leaves a gap: drawn as 0 it would read as a figure of 0."""
    return [math.nan if (x := finite(v)) is None else x for v in values]


def forecast_fan(fig: Figure, panels: Sequence[FanPanel]) -> None:
    """The forecast fan chart: one panel per series, bands shaded under the forecast line; a
    period whose forecast (or band) is unknown is a gap."""
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    cleansed = any(p.ordered is not None for p in panels)
    for ax, panel in zip(axes, panels, strict=True):
        for i, (lv, lo, hi) in enumerate(panel.bands):
            ax.fill_between(
                panel.ds,
                gaps(lo),
                gaps(hi),
                color=panel.colour,
                alpha=0.15 + 0.15 * i,
                linewidth=0,
                label=f"{lv}% interval",
            )
        if panel.ordered is not None:
            ax.plot(
                panel.ordered[0],
                panel.ordered[1],
                color=MUTED,
                linewidth=1.1,
                linestyle=":",
                label="history as ordered",
            )
        if panel.history is not None:
            ax.plot(
                panel.history[0],
                panel.history[1],
                color=INK,
                linewidth=1.1,
                label=(
                    "history of the segments given"
                    if panel.other_segments
                    else "history as forecast read it"
                    if cleansed
                    else "history"
                ),
            )
        ax.plot(
            panel.ds,
            gaps(panel.forecast),
            color=panel.colour,
            linewidth=1.8,
            label="forecast",
        )
        if panel.actual is not None:
            ax.plot(
                panel.actual[0],
                gaps(panel.actual[1]),
                color=INK,
                linewidth=1.4,
                linestyle="--",
                marker="o",
                markersize=3,
                label=ACTUAL_LABEL,
            )
        name = panel.uid if panel.title is None else panel.title
        title = short_label(name) + (f"  ({panel.model})" if panel.model else "")
        ax.set_title(_fit(title, ax), loc="left")
        _date_axis(ax)
        ax.set_ylabel("units")
        style(ax, grid="y")
    # Under the last panel, not inside the first, where a history high in its first periods
    # went under it. Every panel's entries (the history as ordered may be in one panel only),
    # in the order drawn, each with the last panel's handle where it has one (its colours).
    handles: dict[str, Any] = {}
    for ax in [axes[-1], *axes[:-1]]:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(text, handle)
    texts = list(dict.fromkeys(t for ax in axes for t in ax.get_legend_handles_labels()[1]))
    # One row on a desktop; six entries (the actual demand beside both histories) ran past the
    # page's edges in one: two rows of three.
    ncol = 2 if narrow(fig) else max(4, len(texts)) if len(texts) <= 5 else 3
    axes[-1].legend(
        [handles[t] for t in texts],
        texts,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        frameon=False,
        fontsize=small(),
        ncol=ncol,
    )


@dataclass
class MapLayers:
    """What the network map draws: customer groups by segment, their lines to sites, the sites.

    ``groups`` holds (segment, longitudes, latitudes, marker sizes); ``lines`` (lon, lat, site lon,
    site lat); ``sites`` maps a site id to (lon, lat, open); ``aspect`` corrects longitude for the
    mean latitude; above ``raster`` points the markers are drawn as one embedded image.
    """

    groups: list[tuple[str | None, list[float], list[float], list[float]]] = field(
        default_factory=list
    )
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    sites: dict[str, tuple[float, float, bool]] = field(default_factory=dict)
    unnamed: list[tuple[float, float, bool]] = field(default_factory=list)
    """Sites whose id is unknown (empty or blank): drawn without a name."""
    aspect: float = 1.0
    raster: bool = False


def network_map(fig: Figure, layers: MapLayers, *, colours: dict[str | None, str]) -> None:
    """Customers coloured by segment, grey lines to the sites serving them, the sites open and
    not open (a candidate not opened is no closed site: the legend had said "closed site")."""
    ax = fig.subplots()
    if layers.lines:
        from matplotlib.collections import LineCollection

        ax.add_collection(
            LineCollection(
                [((a, b), (c, d)) for a, b, c, d in layers.lines],
                colors="#d1d5db",
                linewidths=0.5,
                zorder=1,
                rasterized=narrow(fig),
            )
        )
    for name, xs, ys, sizes in layers.groups:
        ax.scatter(
            xs,
            ys,
            s=sizes,
            color=colours.get(name, MUTED),
            alpha=0.8,
            linewidths=0,
            label=short_label(name),
            zorder=2,
            rasterized=layers.raster or narrow(fig),
        )
    unnamed = [(None, place) for place in layers.unnamed]
    for sid, (x, y, is_open) in [*sorted(layers.sites.items()), *unnamed]:
        ax.scatter(
            [x],
            [y],
            marker="^",
            s=140 if is_open else 70,
            color=INK if is_open else "white",
            edgecolors=INK,
            linewidths=1.2,
            zorder=3,
        )
        if sid is None:
            continue
        ax.annotate(
            short_label(sid),
            (x, y),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=small(),
            color=INK if is_open else MUTED,
            zorder=4,
        )
    ax.set_aspect(layers.aspect, adjustable="datalim")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if layers.groups:
        legend = ax.legend(
            **(
                {"loc": "upper center", "bbox_to_anchor": (0.5, -0.14), "ncol": 2}
                if narrow(fig)
                else {"loc": "center left", "bbox_to_anchor": (1.01, 0.5)}
            ),
            frameon=False,
            fontsize=small(),
            markerscale=0.8,
            title="segment",
        )
        for handle in legend.legend_handles:
            handle.set_sizes([30])  # type: ignore[union-attr]
    style(ax, grid="")
    ax.set_title("▲ open site   △ site not open", loc="left", fontsize=small(), fontweight="normal")


# Cost stacks: muted hues, so that segment colours stay the segments'.
STACK_COLOURS = ("#0072B2", "#56B4E9", "#E69F00", "#D55E00", "#009E73", "#CC79A7", "#9ca3af")


def stacked_bars(
    fig: Figure,
    names: Sequence[Any],
    parts: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    kind: str = MONEY,
) -> None:
    """One horizontal bar per name made of its parts (a cost stack), first name on top, labelled
    with its total. A missing part adds nothing; a name with no part at all is labelled '–'."""
    ax = fig.subplots()
    ys = list(range(len(names)))[::-1]
    left = [0.0] * len(names)
    known = [False] * len(names)
    for (part, values), colour in zip(parts, STACK_COLOURS, strict=False):
        vals = [0.0 if v is None else float(v) for v in values]
        ax.barh(ys, vals, left=left, color=colour, height=0.7, label=part)
        left = [a + b for a, b in zip(left, vals, strict=True)]
        known = [k or v is not None for k, v in zip(known, values, strict=True)]
    ax.set_yticks(ys, [short_label(n) for n in names])
    top = max(left, default=0.0) or 1.0
    for y, v, k in zip(ys, left, known, strict=True):
        ax.text(
            v + top * 0.01,
            y,
            format_number(v if k else None, kind),
            va="center",
            fontsize=small(),
            color=INK,
        )
    _finish_bars(ax, top=top, kind=kind, title=title)
