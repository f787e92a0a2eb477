"""report, session 45: a Parquet export is known by its schema before any parse as a stage table.

Known answers are worked out here from the inputs (the columns polars reads, dates counted by
hand, matplotlib's own extents of what it drew), not by the report's code.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from matplotlib.figure import Figure
from test_report_unknown_tables import on_both_pages

from segchain import tableio
from segchain.report import build_report
from segchain.report.model import Chart

# ---- a Parquet export told by its schema (tableio.stage_header)

_ORDERS = pl.DataFrame(
    {
        "order_id": [f"o{i}" for i in range(40)],
        "order_date": [f"2024-03-{1 + i % 28:02d}" for i in range(40)],
        "customer_id": [f"C{i % 5}" for i in range(40)],
        "sku": [f"S{i % 3}" for i in range(40)],
        "quantity": [1.0] * 40,
        "unit_price": [10.0] * 40,
    }
)
_RETAIL = pl.DataFrame(
    {
        "InvoiceNo": [f"5363{i:02d}" for i in range(40)],
        "StockCode": [f"8512{i % 3}A" for i in range(40)],
        "Description": ["THING"] * 40,
        "Quantity": [1] * 40,
        "InvoiceDate": [f"2010-12-{1 + i % 28:02d} 08:26:00" for i in range(40)],
        "UnitPrice": [10.0] * 40,
        "CustomerID": [17850.0 + i % 5 for i in range(40)],
        "Country": ["France"] * 40,
    }
)


def _parquet(frame: pl.DataFrame, metadata: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    if metadata is None:
        frame.write_parquet(buffer)
    else:
        import pyarrow.parquet as pq

        table = frame.to_arrow()
        pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()


def _stage_columns(name: str, data: bytes) -> list[str] | None:
    """The columns read_table gives (None: it refuses the file)."""
    try:
        return tableio.collect(tableio.read_table(name, data=data).frame).columns
    except tableio.DataError:
        return None


_PARQUETS = {
    "canonical": _ORDERS,
    "online retail": _RETAIL,
    "capitals": _ORDERS.rename({"order_id": "Order_ID", "sku": "SKU"}),
    "spaces around names": _ORDERS.rename({"sku": " sku ", "quantity": "quantity "}),
    "segments": pl.DataFrame({"customer_id": ["c1"], "segment": ["A"], "segment_rank": [1]}),
}


@pytest.mark.parametrize("case", sorted(_PARQUETS))
@pytest.mark.parametrize("name", ["export.parquet", "export"])
def test_stage_header_of_a_parquet_file_is_its_stage_read_s(case: str, name: str) -> None:
    data = _parquet(_PARQUETS[case])
    assert tableio.stage_header(name, data) == _stage_columns(name, data)


def test_stage_header_leaves_a_stage_output_to_its_metadata() -> None:
    """A Parquet file with segchain's metadata is what its stage says (validate's orders are
    canonical columns, and no export): read as before."""
    data = _parquet(_ORDERS, {"segchain.stage": '"orders"', "segchain.version": '"0.1.0"'})
    assert tableio.stage_header("orders.parquet", data) is None


def test_stage_header_of_parquet_bytes_named_as_csv_is_left_to_the_read() -> None:
    """A .csv name holding Parquet bytes is refused by the read ('this is a Parquet file')."""
    assert tableio.stage_header("export.csv", _parquet(_ORDERS)) is None


def _stage_reads(monkeypatch) -> list[str]:
    """The inputs report parses as stage tables (read_table), in order."""
    seen: list[str] = []
    read_table = tableio.read_table

    def counted(source, **kwargs):
        seen.append(Path(source).name)
        return read_table(source, **kwargs)

    monkeypatch.setattr(tableio, "read_table", counted)
    return seen


@pytest.mark.parametrize("how", ["columns", "preset"])
def test_report_reads_a_parquet_export_without_parsing_it_as_a_stage_table(
    cli, tmp_path: Path, monkeypatch, how: str
) -> None:
    """A Parquet export was read whole as a stage table (every column, dates parsed) before it
    was read again as an export; a CSV export has been known by its header since f007d21. Now
    a Parquet export is known by its schema, read from its footer, and read as an export once;
    a stage table beside it is read as before."""
    export = tmp_path / "export.parquet"
    if how == "preset":
        monkeypatch.setenv("SEGCHAIN_PRESET", "online-retail")
        _RETAIL.write_parquet(export)
    else:
        _ORDERS.write_parquet(export)
    segments = tmp_path / "segments.csv"
    segments.write_text("customer_id,segment,segment_rank\nC1,Champions,1\nC2,Lost,2\n")
    reads = _stage_reads(monkeypatch)
    result = cli("report", str(export), str(segments), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "raw order lines, read as validate would: read 40 = used 40" in result.stderr
    assert reads == ["segments.csv"]


def _zip(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    return buffer.getvalue()


_COMPRESSED = {
    "parquet.gz": ("export.parquet.gz", lambda f: gzip.compress(_parquet(f))),
    "zip of parquet": ("export.zip", lambda f: _zip("orders.parquet", _parquet(f))),
    "zip of csv": ("export.zip", lambda f: _zip("orders.csv", f.write_csv().encode())),
}


@pytest.mark.parametrize("how", sorted(_COMPRESSED))
@pytest.mark.parametrize("case", ["canonical", "online retail", "segments"])
def test_stage_header_of_a_compressed_file_is_its_stage_read_s(how: str, case: str) -> None:
    name, pack = _COMPRESSED[how]
    data = pack(_PARQUETS[case])
    assert tableio.stage_header(name, data) == _stage_columns(name, data) is not None


def test_stage_header_of_gzipped_parquet_named_as_csv_is_left_to_the_read() -> None:
    assert tableio.stage_header("export.csv.gz", gzip.compress(_parquet(_ORDERS))) is None


@pytest.mark.parametrize("how", sorted(_COMPRESSED))
def test_report_reads_a_compressed_export_without_parsing_it_as_a_stage_table(
    cli, tmp_path: Path, monkeypatch, how: str
) -> None:
    """A gzipped Parquet export (x.parquet.gz) and a zipped one were parsed whole as stage
    tables (decompressed, every column read, dates parsed) before they were read again as
    exports: the header peek gave up on them. They are read as exports once, as a plain
    Parquet or CSV export is."""
    name, pack = _COMPRESSED[how]
    export = tmp_path / name
    export.write_bytes(pack(_ORDERS))
    segments = tmp_path / "segments.csv"
    segments.write_text("customer_id,segment,segment_rank\nC1,Champions,1\nC2,Lost,2\n")
    reads = _stage_reads(monkeypatch)
    result = cli("report", str(export), str(segments), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "raw order lines, read as validate would: read 40 = used 40" in result.stderr
    assert reads == ["segments.csv"]


def test_report_reads_validated_orders_in_parquet_as_a_stage_table(
    cli, tmp_path: Path, monkeypatch
) -> None:
    orders = tmp_path / "orders.parquet"
    validated = _ORDERS.with_columns(pl.col("order_date").str.to_date())
    tableio.write_table(validated, str(orders), metadata=tableio.provenance("orders"))
    reads = _stage_reads(monkeypatch)
    result = cli("report", str(orders), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "orders, 40 rows (recognised by its metadata)" in result.stderr
    assert "raw order lines" not in result.stderr
    assert reads == ["orders.parquet"]


# ---- the monthly chart: a part month is drawn as one


def _orders_chart(dates: list[date]) -> Chart:
    orders = pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(dates))],
            "customer_id": ["c1"] * len(dates),
            "order_date": dates,
            "sku": ["A"] * len(dates),
            "quantity": [1.0] * len(dates),
            "amount": [100.0] * len(dates),
        }
    )
    report = build_report({"orders": orders})
    return next(
        b for s in report.sections for b in s.blocks if isinstance(b, Chart) and b.key == "orders"
    )


def _drawn(chart: Chart) -> tuple[list[bool], list[str]]:
    """Which bars are drawn as part months (hatched, lighter), in month order, and the texts of
    the chart's legend."""
    fig = Figure(figsize=chart.size, layout="constrained")
    chart.plot(fig)
    ax = fig.axes[0]
    light = [bool(p.get_hatch()) and p.get_facecolor()[3] < 1 for p in ax.patches]
    legend = ax.get_legend()
    return light, [t.get_text() for t in legend.get_texts()] if legend else []


# Days counted by hand: Online Retail ends on 2011-12-09 (9 of December's 31 days); Superstore
# runs from 2019-01-03 (29 of 31) to 2022-12-30 (30 of 31); February 2024 has 29 days.
_PART_MONTHS = {
    "last month": (
        [date(2010, 12, 1), date(2011, 1, 15), date(2011, 12, 9)],
        # Every month from 2010-12 drawn: those without a line at 0 (they had no bar).
        [False] * 12 + [True],
        "part month: orders to 2011-12-09",
        "2011-12 is a part month: the orders end on 2011-12-09 (9 of its 31 days), drawn lighter. "
        "10 months without an order line, drawn at 0 (2011-02, 2011-03, 2011-04, 2011-05, "
        "2011-06, 2011-07 and 4 more).",
    ),
    "both ends": (
        [date(2019, 1, 3), date(2019, 2, 10), date(2019, 3, 30)],
        [True, False, True],
        "part months: orders from 2019-01-03, to 2019-03-30",
        "2019-01 and 2019-03 are part months: the orders start on 2019-01-03 (29 of its 31 "
        "days) and end on 2019-03-30 (30 of its 31 days), drawn lighter.",
    ),
    "one month": (
        [date(2024, 2, 5), date(2024, 2, 20)],
        [True],
        "part month: orders 2024-02-05 to 2024-02-20",
        "2024-02 is a part month: the orders run from 2024-02-05 to 2024-02-20 (16 of its 29 "
        "days), drawn lighter.",
    ),
}


@pytest.mark.parametrize("case", sorted(_PART_MONTHS))
def test_a_part_month_is_drawn_as_one_and_says_its_days(case: str) -> None:
    """The monthly chart drew the export's last month, nine days of Online Retail's December,
    as a full bar: a collapse of sales to a reader. A month the orders do not cover from its
    1st to its last day is drawn lighter and hatched, named in a legend above the plot, and
    the caption says how many of its days the orders cover."""
    dates, light, legend, caption = _PART_MONTHS[case]
    chart = _orders_chart(dates)
    assert _drawn(chart) == (light, [legend])
    assert chart.caption == caption


@pytest.mark.parametrize(
    "dates",
    [
        [date(2024, 1, 1), date(2024, 2, 29)],  # a leap February's last day
        [date(2023, 2, 1), date(2023, 2, 28)],
        [date(2023, 11, 1), date(2023, 12, 31)],
    ],
    ids=["leap february", "february", "december"],
)
def test_an_export_of_whole_months_draws_every_bar_as_before(dates: list[date]) -> None:
    chart = _orders_chart(dates)
    light, legend = _drawn(chart)
    assert not any(light) and legend == []
    assert chart.caption == ""


def test_a_month_without_an_order_line_is_drawn_at_zero_and_said() -> None:
    """A month inside the orders' span with no line at all had no bar: on the date axis it
    could not be told from a month whose value is unknown (not drawn either, but named). It is
    now a month of 0, marked 0 on the axis and named in the caption."""
    import matplotlib.dates as mdates

    chart = _orders_chart(
        [date(2024, 1, 1), date(2024, 1, 31), date(2024, 3, 1), date(2024, 3, 31)]
    )
    fig = Figure(figsize=chart.size, layout="constrained")
    chart.plot(fig)
    ax = fig.axes[0]
    # Bars are centred on their month's 1st: January, February, March, two lines of 100 each
    # in January and March.
    starts = [mdates.num2date(p.get_x() + p.get_width() / 2).date() for p in ax.patches]
    assert starts == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    assert [p.get_height() for p in ax.patches] == [200.0, 0.0, 200.0]
    assert [t.get_text() for t in ax.texts] == ["0"]
    assert chart.caption == "1 month without an order line, drawn at 0 (2024-02)."
    on_both_pages(
        build_report(
            {
                "orders": pl.DataFrame(
                    {
                        "order_id": ["o1", "o2"],
                        "customer_id": ["c1", "c1"],
                        "order_date": [date(2024, 1, 1), date(2024, 3, 31)],
                        "sku": ["A", "A"],
                        "quantity": [1.0, 1.0],
                        "amount": [10.0, 10.0],
                    }
                )
            }
        ),
        "1 month without an order line, drawn at 0 (2024-02).",
    )


def test_a_part_month_is_said_on_both_pages() -> None:
    orders = pl.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "customer_id": ["c1", "c1"],
            "order_date": [date(2011, 11, 1), date(2011, 12, 9)],
            "sku": ["A", "A"],
            "quantity": [1.0, 1.0],
            "amount": [10.0, 10.0],
        }
    )
    on_both_pages(
        build_report({"orders": orders}),
        "2011-12 is a part month: the orders end on 2011-12-09 (9 of its 31 days), drawn lighter.",
    )


# ---- legends: beside the plot, over no bar, line or label


def _clashes(fig: Figure) -> list[str]:
    """What each legend of ``fig`` covers, drawn: any axes' plot area (bars, lines, bands and
    the labels at their ends are drawn inside it) or any text of the figure (tick labels,
    titles, bar labels). Extents are matplotlib's own, in display pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legends = [leg for ax in fig.axes if (leg := ax.get_legend()) is not None]
    own = {id(a) for leg in legends for a in leg.findobj()}
    texts = [t for t in fig.findobj(Text) if t.get_text() and t.get_visible() and id(t) not in own]
    out = []
    for leg in legends:
        box = leg.get_window_extent(renderer)
        out += [f"plot of axes {i}" for i, ax in enumerate(fig.axes) if box.overlaps(ax.bbox)]
        out += [repr(t.get_text()) for t in texts if box.overlaps(t.get_window_extent(renderer))]
    return out


# Superstore's WAPE by segment (full chain at 2bdfa5c): the largest bars last, under the legend.
_WAPE = {
    "Champions": (1.146, 1.180),
    "Loyal": (0.989, 1.054),
    "Potential Loyalist": (1.064, 1.014),
    "Cannot Lose Them": (1.981, 2.046),
    "At Risk": (1.726, 1.664),
    "Need Attention": (1.560, 1.477),
    "New": (1.347, 1.326),
    "Promising": (1.421, 1.373),
    "About to Sleep": (1.466, 1.228),
    "Hibernating": (1.651, 1.557),
    "Lost": (3.539, 3.613),
}


def _paired(fig: Figure) -> None:
    from segchain.formatting import PCT
    from segchain.report import charts as ch

    ch.paired_bars(
        fig,
        list(_WAPE),
        [a for a, _ in _WAPE.values()],
        [b for _, b in _WAPE.values()],
        labels=("chosen models", "SeasonalNaive"),
        title="WAPE by segment (lower is better)",
        kind=PCT,
    )


def _stacked(fig: Figure) -> None:
    from segchain.formatting import PCT
    from segchain.report import charts as ch

    names = list(_WAPE)
    parts = [
        (part, [0.02 * (i + 1) * (1 + k) / 10 for i in range(len(names))])
        for k, part in enumerate(("order handling", "transport", "warehouse fixed"))
    ]
    ch.stacked_bars(fig, names, parts, title="Cost to serve per unit of revenue", kind=PCT)


def _fan(fig: Figure) -> None:
    """Three panels, each history highest in its first weeks, where the legend was drawn."""
    from datetime import timedelta

    from segchain.report import charts as ch

    weeks = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(30)]
    ahead = [weeks[-1] + timedelta(weeks=i + 1) for i in range(8)]
    history = [100.0 if i < 4 else 10.0 for i in range(30)]
    panels = [
        ch.FanPanel(
            f"Champions/{sku}",
            ahead,
            [10.0] * 8,
            [("95", [2.0] * 8, [30.0] * 8), ("80", [5.0] * 8, [20.0] * 8)],
            (weeks, history),
            ch.ACCENT,
            "WindowAverage13",
        )
        for sku in ("A", "B", "C")
    ]
    ch.forecast_fan(fig, panels)


@pytest.mark.parametrize("draw", [_paired, _stacked, _fan], ids=["paired", "stacked", "fan"])
@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_charts_legend_covers_no_bar_line_or_label(draw, phone: bool) -> None:
    """On Superstore the legend of the WAPE by segment chart, drawn inside the plot at its lower
    right, covered the label of Lost's baseline bar (361.3%), the longest: any data whose last
    bars are its longest had a label or bar under it, as had the cost stack's; the fan chart's,
    inside its first panel at the upper left, covered a history high in its first weeks. Each
    legend is now drawn beside the plot (under it on a phone)."""
    import matplotlib

    from segchain.report import charts as ch

    width, height = (ch.NARROW_WIDTH, 6.0) if phone else (8.0, 6.0)
    rc = {**ch.RC, **(ch.NARROW_RC if phone else {})}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(width, height), layout="constrained")
        draw(fig)
        assert _clashes(fig) == []


# ---- the fan chart: the history the forecast read


_MONDAY = date(2024, 1, 1)


def _weekly_orders(extra: list[tuple[str, int, float, str | None]]) -> pl.DataFrame:
    """Champions c1 and Lost c2 buy sku A: 2 units a week each for 6 weeks (12 lines), and the
    ``extra`` lines (customer, week, quantity, flag)."""
    from datetime import timedelta

    rows = [(c, w, 2.0, None) for w in range(6) for c in ("c1", "c2")] + extra
    return pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "order_date": [_MONDAY + timedelta(weeks=w) for _, w, _, _ in rows],
            "customer_id": [c for c, _, _, _ in rows],
            "sku": ["A"] * len(rows),
            "quantity": [q for _, _, q, _ in rows],
            "flag": pl.Series([f for _, _, _, f in rows], dtype=pl.String),
        }
    )


def _fan_of(orders: pl.DataFrame, outliers: str | None) -> Chart:
    from datetime import timedelta

    forecast = pl.DataFrame(
        {
            "unique_id": ["Champions/A"] * 2,
            "ds": [_MONDAY + timedelta(weeks=6 + i) for i in range(2)],
            "forecast": [2.0, 2.0],
            "segment": ["Champions"] * 2,
            "sku": ["A"] * 2,
        }
    )
    segments = pl.DataFrame({"customer_id": ["c1", "c2"], "segment": ["Champions", "Lost"]})
    params = {"by": "segment,sku", **({"outliers": outliers} if outliers else {})}
    report = build_report(
        {"forecast": forecast, "orders": orders, "segments": segments},
        metadata={"forecast": {"stage": "forecast", "params": params}},
    )
    return next(
        b for s in report.sections for b in s.blocks if isinstance(b, Chart) and b.key == "forecast"
    )


# By hand: sku A's lines are 12 of 2 units and c1's 500 in week 3 (13 lines): the median line is
# 2, the fence max(10 x 2, Tukey's exp(Q3 + 3 IQR) of log quantity = 2) = 20 units, so forecast
# (--outliers cap) read c1's 500 as 20: week 3 of Champions/A is 2 + 20. A zero-price line (5
# units, flag zero_price) is left out of what it read.
_ORDERED = [2.0, 2.0, 2.0, 502.0, 2.0, 2.0]


@pytest.mark.parametrize(
    ("outliers", "history", "said"),
    [
        ("cap", [2.0, 2.0, 2.0, 22.0, 2.0, 2.0], "history of Champions/A: 1 order line capped"),
        ("drop", [2.0, 2.0, 2.0, 2.0, 2.0, 2.0], "1 outsized order line left out"),
    ],
)
def test_the_fan_chart_draws_the_history_the_forecast_read(
    outliers: str, history: list[float], said: str
) -> None:
    """The fan chart drew the history as ordered beside a forecast made from the history
    forecast cleansed (--outliers cap, its default): c1's 500 units beside a forecast that read
    20. It now draws what the forecast read, as its metadata records --outliers, and the
    history as ordered dotted where that differs, both in the legend."""
    chart = _fan_of(_weekly_orders([("c1", 3, 500.0, None)]), outliers)
    [panel] = chart.plot.keywords["panels"]
    assert panel.history[1] == history
    assert panel.ordered[1] == _ORDERED
    assert f"(--outliers {outliers}: order lines far beyond" in chart.caption
    assert said in chart.caption
    fig = Figure(figsize=chart.size, layout="constrained")
    chart.plot(fig)
    texts = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert "history as forecast read it" in texts and "history as ordered" in texts


def test_the_fan_chart_leaves_out_the_zero_price_lines_the_forecast_left_out() -> None:
    chart = _fan_of(_weekly_orders([("c1", 2, 5.0, "zero_price")]), "cap")
    [panel] = chart.plot.keywords["panels"]
    assert panel.history[1] == [2.0] * 6
    assert panel.ordered[1] == [2.0, 2.0, 7.0, 2.0, 2.0, 2.0]
    assert "history of Champions/A: 1 zero-price order line left out" in chart.caption


def test_the_fan_chart_history_is_the_series_the_forecast_builds() -> None:
    """The same as the forecast stage's own series (forecast.series.build_series, weekly)."""
    from segchain.forecast.series import build_series

    orders = _weekly_orders([("c1", 3, 500.0, None), ("c1", 4, 5.0, "zero_price")])
    segments = pl.DataFrame({"customer_id": ["c1", "c2"], "segment": ["Champions", "Lost"]})
    built = build_series(orders, segments, freq="W", outliers="cap").y
    [panel] = _fan_of(orders, "cap").plot.keywords["panels"]
    assert panel.history[1] == built.filter(pl.col("unique_id") == "Champions/A")["y"].to_list()


@pytest.mark.parametrize("outliers", ["keep", "cap"])
def test_a_history_the_cleansing_leaves_alone_is_drawn_as_before(outliers: str) -> None:
    chart = _fan_of(_weekly_orders([("c1", 3, 10.0, None)]), outliers)  # under the fence
    [panel] = chart.plot.keywords["panels"]
    assert panel.history[1] == [2.0, 2.0, 2.0, 12.0, 2.0, 2.0]
    assert panel.ordered is None
    assert chart.caption == "The 1 largest series by forecast demand, with their history."


def test_a_forecast_whose_cleansing_is_not_recorded_draws_the_history_as_ordered_and_says_so():
    """A forecast table without segchain's metadata (CSV) does not say its --outliers: the
    history is drawn as ordered, and the caption says what the default would change."""
    chart = _fan_of(_weekly_orders([("c1", 3, 500.0, None)]), None)
    [panel] = chart.plot.keywords["panels"]
    assert panel.history[1] == _ORDERED and panel.ordered is None
    assert (
        "history of Champions/A as ordered: the forecast's --outliers is not recorded (a "
        "forecast table without segchain's metadata); with its default, cap, 1 order line "
        "capped" in chart.caption
    )


def test_a_routed_forecast_s_history_is_cleansed_after_routing_as_forecast_does() -> None:
    """forecast --assignments routes the lines to the sites first, then cleanses them: the
    fences are over the routed lines (c3's split in halves)."""
    from test_report_routed_history import ROUTED, assignments, fan, forecast, orders, segments

    big = orders().vstack(
        orders()
        .head(1)
        .with_columns(order_id=pl.lit("big"), customer_id=pl.lit("c2"), quantity=pl.lit(1000.0))
    )
    big = big.with_columns(order_date=pl.Series([*big["order_date"][:-1], date(2024, 1, 8)]))
    metadata = {
        "forecast": {**ROUTED["forecast"], "params": {"by": "segment,sku", "outliers": "cap"}}
    }
    tables = {
        "forecast": forecast(),
        "orders": big,
        "segments": segments(),
        "assignments": assignments(),
    }
    panels = {p.uid: p for p in fan(tables, metadata).plot.keywords["panels"]}
    # By hand: routed, sku A's lines are c1's 3 and 4 (DC-A), c2's 10, 20 and 1000 (DC-B) and
    # c3's halves, 4 four times: the median 4 (x 10 = 40), log quantities' Q1 = log 4 and
    # Q3 = log 10 (linear, 9 lines), so Tukey's fence is 10 x 2.5^3 = 156.25, above 40. DC-B's
    # week 2 read 20 + 156.25 + 4. (Fenced before routing, over 3, 4, 10, 20, 8, 8, 1000: 221.)
    assert panels["DC-B/Champions/A"].history[1] == pytest.approx([14.0, 180.25])
    assert panels["DC-B/Champions/A"].ordered[1] == [14.0, 1024.0]
    assert panels["DC-A/Champions/A"].ordered is None
