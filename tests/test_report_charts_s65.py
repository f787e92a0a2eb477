"""The report's charts are laid out once and drawn once (session 65).

matplotlib's ``savefig`` on a figure with a layout engine draws the whole figure twice: once
without output, to run the constrained layout, and again to write it. ``render_svg`` and
``render_png`` work the layout out themselves first, at the dpi savefig would, and draw once:
the bytes must be those of matplotlib's own ``savefig`` (the reference here, computed by
matplotlib, not by the code under test).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import matplotlib
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from test_report import all_tables

from segchain.report import build_report
from segchain.report import charts as C
from segchain.report.model import Chart


def _charts() -> list[Chart]:
    report = build_report(all_tables())
    return [b for s in report.sections for b in s.blocks if isinstance(b, Chart)]


@pytest.fixture(scope="module")
def charts() -> list[Chart]:
    found = _charts()
    assert len(found) >= 5  # bars, paired bars, a fan, a map: the report's kinds of chart
    return found


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The renderers every ``Figure.draw`` is called with (the draw without output too)."""
    seen: list[Any] = []
    draw = Figure.draw

    def counted(self: Figure, renderer: Any) -> None:
        seen.append(renderer)
        draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    yield seen


def test_a_chart_is_drawn_once_for_the_page_and_once_for_markdown(
    charts: list[Chart], draws: list[Any]
) -> None:
    chart = charts[0]
    C.render_svg(chart)
    assert len(draws) == 1
    C.render_svg(chart, phone=True)
    assert len(draws) == 2
    C.render_png(chart)
    assert len(draws) == 3


def _savefig_svg(chart: Chart, *, phone: bool) -> str:
    """The chart as matplotlib's own savefig writes it (its layout engine run by savefig)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({**C.RC, **(C.NARROW_RC if phone else {})}):
        fig = C._figure(chart, phone=phone)
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def _savefig_png(chart: Chart) -> bytes:
    buffer = io.BytesIO()
    with matplotlib.rc_context(C.RC):
        fig = C._figure(chart)
        FigureCanvasAgg(fig)
        fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _as_inlined(svg: str) -> str:
    """savefig's SVG as render_svg inlines it: no prolog, no metadata, no fixed size."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    return re.sub(r'(<svg[^>]*?) width="[^"]+" height="[^"]+"', r"\1", svg, count=1).strip()


@pytest.mark.parametrize("phone", [False, True])
def test_every_chart_is_the_svg_savefig_writes(charts: list[Chart], phone: bool) -> None:
    for chart in charts:
        expected = _as_inlined(_savefig_svg(chart, phone=phone))
        assert C.render_svg(chart, phone=phone) == expected, chart.title


def test_every_chart_is_the_png_savefig_writes(charts: list[Chart]) -> None:
    for chart in charts:
        assert C.render_png(chart) == _savefig_png(chart), chart.title


def test_a_matplotlibrc_asking_for_a_layout_changes_no_chart(charts: list[Chart]) -> None:
    """A user's matplotlibrc (MPLCONFIGDIR) with figure.autolayout or constrained_layout.use:
    the figure, laid out already, is not laid out again by another engine."""
    chart = charts[0]
    plain_svg, plain_png = C.render_svg(chart), C.render_png(chart)
    for setting in ("figure.autolayout", "figure.constrained_layout.use"):
        with matplotlib.rc_context({setting: True}):
            assert C.render_svg(chart) == plain_svg, setting
            assert C.render_png(chart) == plain_png, setting


def test_a_collapsed_layout_is_still_said_plainly() -> None:
    """The layout's warning now comes from segchain's own call of the layout engine: it is
    still gathered for the message (a label of ~100 characters on a chart 1 inch wide)."""
    said: list[str] = []
    name = "x" * 100

    def plot(fig: Figure) -> None:
        ax = fig.subplots()
        ax.barh([0], [1.0])
        ax.set_yticks([0], [name])

    chart = Chart(key="inventory", title="narrow", plot=plot, size=(1.0, 1.0))
    with C.said_plainly(said.append):
        C.render_svg(chart)
    assert len(said) == 1 and "'narrow'" in said[0] and "too wide" in said[0], said
