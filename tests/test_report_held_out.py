"""report: what happened after a forecast made --as-of a past day (forecast's held-out check).

forecast --as-of records in its metadata (and its backtest's) how the forecast, summed to the
sku, did on the whole weeks after that day against the simple baselines (``held_out``); the
report said nothing of it. Known answers: the metadata's figures given here, divided and
rounded by hand.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

import polars as pl
from test_report import all_tables, backtest_frame, forecast_frame
from test_report_unknown_tables import on_both_pages

from segchain.report import build_report, to_html
from segchain.report.model import Note, TableBlock

# Online Retail's chain as of 2011-10-10, 8 weeks held out (forecast's stderr of that run; the
# sku forecast made directly equals the segments' summed, reconciled top-down with it).
WAPE = {
    "sku direct": 0.7807385911155315,
    "13-week average": 0.8528975787799892,
    "4-week average": 0.9265245834248294,
    "8-week average": 0.8477330916041298,
    "forecast": 0.7807385911155315,
    "naive": 1.17492275512988,
    "seasonal naive": 1.16969694281107,
}
BIAS = {
    "sku direct": 0.9919926799453442,
    "13-week average": 1.0413683195931405,
    "4-week average": 1.2672276947350756,
    "8-week average": 1.087928327069351,
    "forecast": 0.9919926799453442,
    "naive": 1.4285454452698192,
    "seasonal naive": 1.410842895135514,
}


def held(**changes: object) -> dict[str, object]:
    """A held_out record as forecast writes it (its JSON sorts the keys)."""
    record: dict[str, object] = {
        "bias": BIAS,
        "demand": 901678.0,
        "level": "sku",
        "periods": 8,
        "series": 3558,
        "start": "2011-10-10",
        "unscored_new_series": 107,
        "vs_best_baseline": 0.9209721772665174,
        "vs_direct": 1.0,
        "wape": WAPE,
    }
    return record | changes


def meta(record: dict[str, object], kind: str = "forecast") -> dict[str, dict[str, object]]:
    return {kind: {"params": {"freq": "W", "by": "segment,sku"}, "held_out": record}}


def one_run() -> pl.DataFrame:
    """test_report's backtest without its At Risk/A, a series the forecast lacks: with it the
    backtest is of another run, its headlines marked so (session 66)."""
    return backtest_frame().filter(pl.col("unique_id") != "At Risk/A")


def accuracy(report):  # type: ignore[no-untyped-def]
    return next(s for s in report.sections if s.key == "accuracy")


def test_the_accuracy_section_leads_with_what_happened_after_the_forecast() -> None:
    report = build_report(
        {"forecast": forecast_frame(), "backtest": one_run()}, metadata=meta(held())
    )
    section = accuracy(report)
    first = section.headlines[0]
    # 0.78074 / 0.84773 (the 8-week average, the lowest baseline) = 0.921
    assert (first.label, first.value) == ("Held-out WAPE", "78.1%")
    assert first.detail == (
        "on the 8 weeks from 2011-10-10, which the forecast did not see (sku level); best "
        "simple baseline 84.8% (8-week average): 0.921 of it"
    )
    # The backtest follows, named as one, at its own level (the backtest frame's overall row).
    second = section.headlines[1]
    assert (second.label, second.value) == ("Backtest WAPE", "35.0%")
    assert second.detail.startswith("at segment × sku level (held out: sku); vs 45.0% for ")
    # The MASE is a mean over the series rows scored, (0.8 + 1.5) / 2 against (1.0 + 1.2) / 2,
    # as the count beating the baseline is (session 70); the overall row's 1.07 is of test_report's
    # three series, At Risk/A with them.
    assert "MASE 1.15 vs 1.10 (means over all 2 series)" in second.detail
    on_both_pages(
        report,
        "Held out: the 8 weeks from 2011-10-10, which the forecast did not see (the order lines "
        "on or after its --as-of day, every line kept), scored at sku level over 3,558 sku "
        "series (demand 901,678 units): forecast WAPE 78.1% against the best simple baseline's "
        "84.8% (8-week average), 0.921 of it; the forecast summed to 0.992 of the demand. Made "
        "directly at sku level, without segments, the forecast's WAPE is 78.1%: the segments' "
        "forecasts summed are 1.000 of it. 107 sku series sold in those weeks have no forecast "
        "(first sold on or after 2011-10-10): not scored.",
    )
    table = next(b for b in section.blocks if isinstance(b, TableBlock))
    assert table.title == "Held out: each approach on the 8 weeks from 2011-10-10 (sku level)"
    rows = [
        (r[0], table.cell("wape", r[1]), table.cell("sum / demand", r[2]))
        for r in table.frame.iter_rows()
    ]
    assert rows == [
        ("forecast", "78.1%", "0.992"),
        ("sku direct", "78.1%", "0.992"),
        ("naive", "117.5%", "1.43"),
        ("seasonal naive", "117.0%", "1.41"),
        ("4-week average", "92.7%", "1.27"),
        ("8-week average", "84.8%", "1.09"),
        ("13-week average", "85.3%", "1.04"),
    ]


def test_each_accuracy_figure_names_its_level_where_both_are_shown() -> None:
    """The held-out check is at sku level, the backtest at the forecast's own series: a page
    giving 78.1 % and 113.2 % must say which is which. A forecast routed by --assignments has
    site x segment x sku series while its --by says segment,sku (the site is routing's), and
    the check's level is recorded as 'site,sku'."""
    routed = backtest_frame().with_columns(
        pl.lit("DC-1").alias("site"), pl.col("unique_id").str.replace("^", "DC-1/")
    )
    report = build_report(
        {
            "forecast": forecast_frame().with_columns(pl.lit("DC-1").alias("site")),
            "backtest": routed,
        },
        metadata=meta(held(level="site,sku")),
    )
    section = accuracy(report)
    held_out, backtest = section.headlines[:2]
    assert held_out.detail.startswith(
        "on the 8 weeks from 2011-10-10, which the forecast did not see (site × sku level); "
    )
    assert backtest.detail.startswith(
        "at site × segment × sku level (held out: site × sku); vs 45.0% for "
    )
    # The note that quotes the backtest's pooled WAPE right under the check names it too.
    on_both_pages(report, "Pooled over all site × segment × sku series, the chosen models")
    on_both_pages(report, "scored at site × sku level over 3,558 site × sku series")
    # Without a held-out check there is one level on the page: the note is as it was.
    alone = to_html(build_report({"forecast": forecast_frame(), "backtest": routed}))
    assert "Pooled over all series, the chosen models" in alone


def test_a_forecast_that_lost_to_a_simple_baseline_says_so_in_the_headline() -> None:
    # The sku forecast made directly (0.70) is no simple baseline: the best is the 4-week one.
    wape = WAPE | {"forecast": 0.80, "4-week average": 0.79, "sku direct": 0.70}
    report = build_report(
        {"forecast": forecast_frame(), "backtest": one_run()},
        metadata=meta(held(wape=wape, unscored_new_series=1, periods=1), kind="backtest"),
    )
    first = accuracy(report).headlines[0]
    # 0.80 / 0.79 = 1.0127; 0.80 / 0.70 = 1.1429
    assert first.value == "80.0%"
    assert first.detail == (
        "on the week of 2011-10-10, which the forecast did not see (sku level); lost to a "
        "simple baseline, 79.0% (4-week average): 1.013 of it"
    )
    on_both_pages(
        report,
        "forecast WAPE 80.0% against the best simple baseline's 79.0% (4-week average), 1.013 of "
        "it: the forecast lost; the 4-week average of each sku's own history was nearer what "
        "happened; the forecast summed to 0.992 of the demand. Made directly at sku level, "
        "without segments, the forecast's WAPE is 70.0%: the segments' forecasts summed are 1.143 "
        "of it, so segmenting cost accuracy in that week. 1 sku series sold in that week has no "
        "forecast",
    )


def test_the_held_out_check_is_shown_without_a_backtest() -> None:
    report = build_report({"forecast": forecast_frame()}, metadata=meta(held()))
    section = accuracy(report)
    assert [(h.label, h.value) for h in section.headlines] == [
        ("Held-out WAPE", "78.1%"),
        ("Best simple baseline", "84.8%"),
        ("Forecast sum / demand", "0.992"),
    ]
    assert section.headlines[1].detail == "WAPE of the 8-week average"
    assert "No backtest table (segchain forecast --backtest FILE)" in section.subtitle
    assert not any("Forecast accuracy" in s for s in report.skipped)


def test_a_forecast_without_a_held_out_check_has_the_accuracy_section_as_before() -> None:
    report = build_report({"forecast": forecast_frame(), "backtest": one_run()})
    section = accuracy(report)
    assert [h.label for h in section.headlines][:2] == ["WAPE", "MASE"]
    assert "Held out" not in to_html(report)
    without = build_report({"forecast": forecast_frame()})
    assert "Forecast accuracy: no backtest table (segchain forecast --backtest FILE)." in (
        without.skipped
    )


# ---- What to do now: a forecast that lost held out is the first thing to act on

# Superstore by sub-category as of 2022-06-06 (forecast's stderr of that run): the forecast's
# 46.5 % against the 13-week average's 45.0 %, 1.034 of it.
LOST = WAPE | {"forecast": 0.465, "sku direct": 0.465, "13-week average": 0.45}


def actions(report):  # type: ignore[no-untyped-def]
    return next(s for s in report.sections if s.key == "actions")


def test_what_to_do_now_says_first_that_the_forecast_lost_held_out() -> None:
    tables = all_tables()
    tables["policy"] = tables["policy"].with_columns(order_now=pl.Series([5.0, 0.0, 0.0]))
    report = build_report(tables, metadata=meta(held(wape=LOST)))
    section = actions(report)
    assert report.sections[0] is section
    first = section.headlines[0]
    # 0.465 / 0.45 = 1.0333; the 13-week average is the lowest baseline (45.0 % < 84.8 %).
    assert (first.label, first.value) == ("Forecast held out", "lost")
    assert (
        first.detail
        == "to the 13-week average: WAPE 46.5% against its 45.0%, 1.033 of it (sku level)"
    )
    # The plan's own headlines follow.
    assert [h.label for h in section.headlines[1:]] == [
        "Order now",
        "Open sites",
        "Promises kept in the plan",
    ]
    assert section.blocks[0].text == (
        "Check this forecast before planning from it: held out over the 8 weeks from "
        "2011-10-10, which the forecast did not see, the 13-week average of each sku's own "
        "history was nearer what happened (WAPE 45.0% against the forecast's 46.5%: 1.033 of it, "
        "at sku level). That is one window, and the best of the simple baselines picked after "
        "the fact: forecast as of an earlier day too (--as-of) to see whether it wins there as "
        "well. To plan from that average, forecast again with --models WindowAverage13 and "
        "stock from that forecast: the reorder points, safety stock and orders of this plan "
        "come from the forecast that lost (Forecast accuracy gives each approach)."
    )
    on_both_pages(report, "Check this forecast before planning from it: held out over the 8 weeks")
    # Four headlines, in one row on a desktop (three made a row, the fourth one of its own).
    page = to_html(report)
    assert page.count('<div class="headlines four">') == 1
    assert ".headlines.four { grid-template-columns: repeat(4, 1fr); }" in page


def test_what_to_do_now_names_the_model_of_the_baseline_that_won() -> None:
    averages = {"4-week average": 1.3, "8-week average": 1.3, "13-week average": 1.3}
    wape = WAPE | averages | {"forecast": 1.2, "seasonal naive": 1.0, "naive": 1.1}
    report = build_report(all_tables(), metadata=meta(held(wape=wape)))
    text = actions(report).blocks[0].text
    assert "the seasonal naive of each sku's own history was nearer what happened" in text
    assert "(WAPE 85.3% against" not in text and "1.200 of it" in text  # 1.2 / 1.0
    assert "To plan from it, forecast again with --models SeasonalNaive and stock" in text


def test_what_to_do_now_is_made_for_a_lost_forecast_alone() -> None:
    # No policy, sites or promises: the section was skipped; the loss alone makes it.
    report = build_report({"forecast": forecast_frame()}, metadata=meta(held(wape=LOST)))
    section = actions(report)
    assert [h.label for h in section.headlines] == ["Forecast held out"]
    assert not any(s.startswith("Actions:") for s in report.skipped)


def _said(block) -> str:  # type: ignore[no-untyped-def]
    return block.text if isinstance(block, Note) else block.title


def test_what_to_do_now_is_unchanged_by_a_forecast_that_won_or_was_not_held_out() -> None:
    won = build_report(all_tables(), metadata=meta(held()))
    plain = build_report(all_tables())
    assert actions(won).headlines == actions(plain).headlines
    assert [_said(b) for b in actions(won).blocks] == [_said(b) for b in actions(plain).blocks]
    alone = build_report({"forecast": forecast_frame()}, metadata=meta(held()))
    assert all(s.key != "actions" for s in alone.sections)
    assert any(s.startswith("Actions:") for s in alone.skipped)


MONDAY = dt.date(2024, 1, 1)


def _orders_as_of(tmp_path: Path) -> pl.DataFrame:
    """Two skus sold every day for 20 weeks from MONDAY, written with three customers' segments
    (orders.csv, seg.csv)."""
    rows = []
    for d in range(20 * 7):
        day = MONDAY + dt.timedelta(days=d)
        rows.append((f"O{d}", day, f"C{d % 3}", "A", float(1 + d % 5), 2.0))
        rows.append((f"P{d}", day, f"C{(d + 1) % 3}", "B", float(2 + d % 3 + (d > 90)), 3.0))
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
    orders = pl.DataFrame(rows, schema=schema, orient="row")
    orders.write_csv(tmp_path / "orders.csv")
    pl.DataFrame({"customer_id": ["C0", "C1", "C2"], "segment": ["S", "S", "T"]}).write_csv(
        tmp_path / "seg.csv"
    )
    return orders


def _forecast_as_of(cli, tmp_path: Path, *quiet: str):  # type: ignore[no-untyped-def]
    made = cli(
        "forecast", str(tmp_path / "seg.csv"), "--orders", str(tmp_path / "orders.csv"),
        "--as-of", "2024-03-25", "--horizon", "4", "--models", "WindowAverage", "--n-jobs", "1",
        "-o", str(tmp_path / "fc.parquet"), *quiet,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return made


def test_cli_report_shows_the_held_out_check_forecast_recorded(cli, tmp_path: Path) -> None:
    """Through the commands: forecast --as-of writes the check, report quotes it."""
    orders = _orders_as_of(tmp_path)
    _forecast_as_of(cli, tmp_path, "-q")
    page = tmp_path / "r.html"
    result = cli(
        "report", str(tmp_path / "fc.parquet"), str(tmp_path / "orders.csv"), "-o", str(page), "-q"
    )
    assert result.exit_code == 0, result.output
    # The demand of the 4 weeks from 2024-03-25 (days 84-111), by polars over the orders.
    after = orders.filter(
        (pl.col("order_date") >= dt.date(2024, 3, 25))
        & (pl.col("order_date") < dt.date(2024, 4, 22))
    )
    demand = after["quantity"].sum()
    text = page.read_text()
    assert escape(f"scored at sku level over 2 sku series (demand {demand:,.0f} units)") in text
    assert "Held out: the 4 weeks from 2024-03-25, which the forecast did not see" in text


def test_cli_report_quotes_the_held_out_figures_as_forecast_printed_them(
    cli, tmp_path: Path
) -> None:
    """The page wrote forecast's ``= 0.921`` as ``0.92 of it`` and its table's 0.992 as 0.99: a
    user comparing the two read two figures. Each is now written as stderr writes it."""
    import re

    _orders_as_of(tmp_path)
    said = _forecast_as_of(cli, tmp_path).stderr
    ratio = re.search(r"forecast WAPE / best baseline's \(([^)]+)\) = ([0-9.]+)", said)
    direct = re.search(r"segments summed / sku direct = ([0-9.]+)", said)
    bias = re.search(r"forecast: forecast +│ +[0-9.]+% │ +([0-9.]+)", said)
    assert ratio and direct and bias, said
    assert len(ratio[2]) == 5  # three decimals
    page = tmp_path / "r.html"
    result = cli("report", str(tmp_path / "fc.parquet"), "-o", str(page), "-q")
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert escape(f"({ratio[1]}): {ratio[2]} of it") in text  # the headline
    assert escape(f"({ratio[1]}), {ratio[2]} of it") in text  # the sentence under it
    assert escape(f"the forecast summed to {bias[1]} of the demand") in text
    assert escape(f"the segments' forecasts summed are {direct[1]} of it") in text
    # This forecast lost (stderr's ratio above 1): What to do now says so, first.
    assert float(ratio[2]) > 1
    assert text.index('<section id="actions">') < text.index('<section id="accuracy">')
    assert escape(f"the {ratio[1]} of each sku's own history was nearer what happened") in text


# ---- the fan chart: what was ordered in the forecast's periods, where the orders run past them


def _fan_case() -> dict[str, pl.DataFrame]:
    """Champions/A: a line each Wednesday of weeks 0-9 (10 + week units); the forecast starts in
    week 10 (2024-03-11), 4 weeks. Week 10 holds two lines (7 + 5), week 11 none, and the orders
    end on the Tuesday of week 12 (9 units): not a whole week. A Lost customer's line of sku A
    in week 10 is no demand of Champions/A."""
    rows = [
        (f"H{w}", MONDAY + dt.timedelta(weeks=w, days=2), "c1", "A", 10.0 + w) for w in range(10)
    ]
    rows += [
        ("N1", dt.date(2024, 3, 12), "c1", "A", 7.0),
        ("N2", dt.date(2024, 3, 14), "c1", "A", 5.0),
        ("X1", dt.date(2024, 3, 13), "c2", "A", 100.0),
        ("N3", dt.date(2024, 3, 26), "c1", "A", 9.0),
    ]
    orders = pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    )
    segments = pl.DataFrame({"customer_id": ["c1", "c2"], "segment": ["Champions", "Lost"]})
    start = dt.date(2024, 3, 11)
    fc = pl.DataFrame(
        {
            "unique_id": "Champions/A",
            "ds": [start + dt.timedelta(weeks=i) for i in range(4)],
            "forecast": 15.0,
            "forecast-lo-80": 10.0,
            "forecast-hi-80": 20.0,
            "segment": "Champions",
            "sku": "A",
        }
    )
    return {"forecast": fc, "orders": orders, "segments": segments}


def _fan(report):  # type: ignore[no-untyped-def]
    from segchain.report.model import Chart

    section = next(s for s in report.sections if s.key == "forecast")
    chart = next(b for b in section.blocks if isinstance(b, Chart) and b.key == "forecast")
    return chart, chart.plot.keywords["panels"]


def test_the_fan_chart_draws_what_was_ordered_in_the_forecasts_whole_periods() -> None:
    params = {"freq": "W", "by": "segment,sku", "as_of": "2024-03-11"}
    report = build_report(_fan_case(), metadata={"forecast": {"params": params}})
    chart, (panel,) = _fan(report)
    # By hand: week 10 is 7 + 5 (c2's 100 is Lost's), week 11 has no line; week 12 ends after
    # the orders' last day (2024-03-26), week 13 after it.
    assert panel.actual == ([dt.date(2024, 3, 11), dt.date(2024, 3, 18)], [12.0, 0.0])
    # The history is what the forecast read: weeks 0-9, the last 10 + 9 units.
    assert panel.history[0][-1] == dt.date(2024, 3, 4) and panel.history[1][-1] == 19.0
    assert chart.caption.endswith(
        "Dashed, the demand ordered in the 2 weeks from 2024-03-11, which the forecast did not "
        "see (every order line kept, as the held-out check scores it); the forecast's last 2 "
        "weeks not drawn: the orders end on 2024-03-26, before they end."
    )
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=chart.size)
    chart.plot(fig)
    legend = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts]
    assert "actual, not seen by the forecast" in legend


def test_the_fan_chart_history_ends_at_the_forecasts_as_of_day() -> None:
    # As of Wednesday 2024-03-06: that day's line (week 9) is not in the history the forecast
    # read, so week 8 holds 18 units and week 9, its Monday and Tuesday, which the forecast read
    # as its last week (forecast/series.py), 0.
    params = {"freq": "W", "by": "segment,sku", "as_of": "2024-03-06"}
    report = build_report(_fan_case(), metadata={"forecast": {"params": params}})
    _, (panel,) = _fan(report)
    assert panel.history[0][-2:] == [dt.date(2024, 2, 26), dt.date(2024, 3, 4)]
    assert panel.history[1][-2:] == [18.0, 0.0]
    assert panel.actual is not None and panel.actual[1] == [12.0, 0.0]


def test_the_fan_chart_draws_no_actual_when_the_orders_end_before_the_forecast() -> None:
    tables = _fan_case()
    tables["orders"] = tables["orders"].filter(pl.col("order_date") < dt.date(2024, 3, 11))
    chart, (panel,) = _fan(build_report(tables))
    assert panel.actual is None and "Dashed" not in chart.caption


def _with_new_customers() -> dict[str, pl.DataFrame]:
    """_fan_case, and lines of sku A by customers in no segment: c3 first seen in week 10
    (4 units in week 10, 6 in week 11), c4 seen in week 2 and in week 11 (2 units), and a line
    without a customer (1 unit) in week 10; c3's line of sku B is no line of the skus drawn."""
    tables = _fan_case()
    extra = pl.DataFrame(
        [
            ("M1", dt.date(2024, 3, 12), "c3", "A", 4.0),
            ("M2", dt.date(2024, 3, 19), "c3", "A", 6.0),
            ("M3", dt.date(2024, 3, 19), "c3", "B", 50.0),
            ("M4", dt.date(2024, 1, 17), "c4", "A", 3.0),
            ("M5", dt.date(2024, 3, 20), "c4", "A", 2.0),
            ("M6", dt.date(2024, 3, 13), None, "A", 1.0),
        ],
        schema=tables["orders"].schema,
        orient="row",
    )
    return tables | {"orders": pl.concat([tables["orders"], extra])}


def test_the_fan_chart_caption_counts_the_demand_of_customers_in_no_segment() -> None:
    """A segment's dashed line holds its customers' lines: those of customers first seen after
    segment --as-of, in no segment, are in none, and the caption said nothing of them."""
    params = {"freq": "W", "by": "segment,sku", "as_of": "2024-03-11"}
    report = build_report(_with_new_customers(), metadata={"forecast": {"params": params}})
    chart, (panel,) = _fan(report)
    # Champions/A's own line is as before: 7 + 5 in week 10, nothing in week 11.
    assert panel.actual == ([dt.date(2024, 3, 11), dt.date(2024, 3, 18)], [12.0, 0.0])
    # By hand, sku A in the 2 weeks drawn (2024-03-11 to 03-24): c1 7 + 5, c2 (Lost) 100,
    # c3 4 + 6, c4 2, no customer 1: 125 units, 13 of them in no segment (10.4%); c3 first
    # seen on 2024-03-12, c4 on 2024-01-17.
    assert (
        "No segment's dashed line holds 13 units of this sku (10.4% of all ordered in those "
        "weeks): ordered by 2 customers in no segment, 1 of them first seen on or after "
        "2024-03-11, the forecast's --as-of day (and on 1 order line without a customer)."
    ) in chart.caption


def test_the_fan_chart_caption_says_nothing_of_customers_in_no_segment_without_them() -> None:
    params = {"freq": "W", "by": "segment,sku", "as_of": "2024-03-11"}
    tables = _with_new_customers()
    tables["orders"] = tables["orders"].filter(~pl.col("order_id").str.starts_with("M"))
    chart, _ = _fan(build_report(tables, metadata={"forecast": {"params": params}}))
    assert "No segment" not in chart.caption
    # Only new customers: said as such.
    only_new = _with_new_customers()
    only_new["orders"] = only_new["orders"].filter(~pl.col("order_id").is_in(["M4", "M5", "M6"]))
    chart, _ = _fan(build_report(only_new, metadata={"forecast": {"params": params}}))
    # sku A: 12 + 100 + 4 + 6 = 122 units, 10 of c3 (8.2%).
    assert (
        "No segment's dashed line holds 10 units of this sku (8.2% of all ordered in those "
        "weeks): ordered by 1 customer in no segment, first seen on or after 2024-03-11, the "
        "forecast's --as-of day."
    ) in chart.caption


def test_the_fan_chart_caption_says_nothing_of_returns_of_customers_in_no_segment() -> None:
    # c3's return of 4 units in week 10, no purchase: no demand left out of the dashed lines.
    params = {"freq": "W", "by": "segment,sku", "as_of": "2024-03-11"}
    tables = _fan_case()
    back = pl.DataFrame(
        [("R1", dt.date(2024, 3, 12), "c3", "A", -4.0)],
        schema=tables["orders"].schema,
        orient="row",
    )
    tables["orders"] = pl.concat([tables["orders"], back])
    chart, _ = _fan(build_report(tables, metadata={"forecast": {"params": params}}))
    assert "No segment" not in chart.caption


def test_a_forecast_of_series_too_short_to_backtest_is_not_told_to_name_a_model() -> None:
    """Every series too short to backtest (8 weeks before --as-of): the page said 'forecast
    again with --models WindowAverage4', which wrote the same forecast byte for byte, every
    series still HistoricAverage (an audit of the report, session 59)."""
    tables = all_tables()
    tables["forecast"] = tables["forecast"].with_columns(model=pl.lit("HistoricAverage"))
    report = build_report(tables, metadata=meta(held(wape=LOST)))
    text = actions(report).blocks[0].text
    assert "forecast again with --models" not in text
    assert (
        "Every series was too short to backtest, so each is forecast at its mean since its first "
        "sale (HistoricAverage) whatever --models names"
    ) in text
