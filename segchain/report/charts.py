"""Charts as deterministic SVG (inline in HTML) or PNG (next to Markdown), with matplotlib's Agg.

matplotlib is imported inside the functions (``segchain --help`` stays fast). Every call runs in an
``rc_context`` that fixes the SVG hash salt, keeps text as text and turns mathtext off (ERP names
may contain ``$``), and the SVG is saved without a date, so two runs write the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from segchain.report.model import Chart

if TYPE_CHECKING:
    from matplotlib.axes import Axes
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
}


def segment_colours(names: Iterable[str | None]) -> dict[str | None, str]:
    """The same colour for a segment in every chart of the report, in the order given."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def label(value: Any) -> str:
    """A data value as chart text (mathtext is off, so ``$`` and ``_`` stay as they are)."""
    return "(none)" if value is None else str(value)


def compact(x: float, _pos: object = None) -> str:
    """Axis tick text: 1.2M, 250k, 40, 0.5 (no offset or scientific notation)."""
    a = abs(x)
    if a >= 1e9:
        return f"{x / 1e9:g}B"
    if a >= 1e6:
        return f"{x / 1e6:g}M"
    if a >= 1e4:
        return f"{x / 1e3:g}k"
    return f"{x:g}"


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


def _figure(chart: Chart) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=chart.size, layout="constrained")
    chart.plot(fig)
    return fig


_ID = re.compile(r'\bid="([^"]+)"')


def render_svg(chart: Chart, *, prefix: str = "") -> str:
    """The chart as an ``<svg>`` element to inline in HTML (no XML prolog, no metadata block).

    ``prefix`` makes the element ids unique when several charts share one page.
    """
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        fig = _figure(chart)
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    if prefix:
        ids = sorted(set(_ID.findall(svg)), key=len, reverse=True)
        for name in ids:
            svg = svg.replace(f'id="{name}"', f'id="{prefix}{name}"')
            svg = svg.replace(f"#{name})", f"#{prefix}{name})")
            svg = svg.replace(f'href="#{name}"', f'href="#{prefix}{name}"')
    # Let the page size the chart: keep the viewBox, drop the fixed size in points.
    svg = re.sub(r'(<svg[^>]*?) width="[^"]+" height="[^"]+"', r"\1", svg, count=1)
    return svg.strip()


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes (for the Markdown report)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig = _figure(chart)
        FigureCanvasAgg(fig)
        fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Drawing helpers shared by the sections


def barh(
    ax: Axes,
    names: Sequence[Any],
    values: Sequence[float | None],
    *,
    colours: Sequence[str] | str = ACCENT,
    fmt: str = "{:,.0f}",
    title: str = "",
) -> None:
    """Horizontal bars, first name on top, each bar labelled with its value."""
    ys = list(range(len(names)))[::-1]
    vals = [0.0 if v is None else float(v) for v in values]
    ax.barh(ys, vals, color=colours, height=0.7)
    ax.set_yticks(ys, [label(n) for n in names])
    top = max((abs(v) for v in vals), default=0.0) or 1.0
    for y, v, raw in zip(ys, vals, values, strict=True):
        ax.text(
            v + top * 0.01 if v >= 0 else v - top * 0.01,
            y,
            "–" if raw is None else fmt.format(v),
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=8,
            color=INK,
        )
    ax.set_xlim(min(0.0, min(vals, default=0.0) * 1.15), max(vals, default=0.0) * 1.18 or 1.0)
    if title:
        ax.set_title(title, loc="left")
    style(ax)
    if "%" in fmt:
        from matplotlib.ticker import PercentFormatter

        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def paired_barh(
    ax: Axes,
    names: Sequence[Any],
    first: Sequence[float | None],
    second: Sequence[float | None],
    *,
    labels: tuple[str, str],
    fmt: str = "{:,.0f}",
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
    ax.set_yticks(ys, [label(x) for x in names])
    top = max([abs(v) for v in a + b], default=0.0) or 1.0
    for y, v in zip(ys, a, strict=True):
        ax.text(v + top * 0.01, y + h / 2, fmt.format(v), va="center", fontsize=7.5, color=INK)
    for y, v in zip(ys, b, strict=True):
        ax.text(v + top * 0.01, y - h / 2, fmt.format(v), va="center", fontsize=7.5, color=INK)
    ax.set_xlim(0, top * 1.2)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    if title:
        ax.set_title(title, loc="left")
    style(ax)
    if "%" in fmt:
        from matplotlib.ticker import PercentFormatter

        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
