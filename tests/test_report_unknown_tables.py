"""report: a table, chart or comparison that sums or averages a column with unknown cells (null,
NaN, infinite) says what it left out, as the headlines do (test_report_unknown_cells.py).

The known answers are computed here by hand from the frames' known cells, not by the report's
code; each note is checked in the report's model and in both the HTML and the Markdown page.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import polars as pl
from test_report import assignments_frame, segments_frame

from segchain.report import build_report, to_html, to_markdown
from segchain.report.charts import render_png, render_svg
from segchain.report.markdown import text as md_text
from segchain.report.model import Chart, TableBlock, format_number

NAN, INF = float("nan"), float("inf")


def known(values) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def block(report, key, title):
    section = next(s for s in report.sections if s.key == key)
    return next(b for b in section.blocks if isinstance(b, TableBlock) and b.title == title)


def cell(table: TableBlock, segment, column):
    row = table.frame.filter(pl.col("segment") == segment).row(0, named=True)
    return table.cell(column, row[column])


def on_both_pages(report, sentence: str) -> None:
    """The sentence is in the HTML page (escaped as HTML) and in the Markdown page.

    Each chart is drawn once for all the calls: most give pages of test_report's tables with
    one note changed, whose same charts (three drawings each, some 3 s of CPU a page) were drawn
    again every time. A chart the calls have not seen is drawn; one they have is given the
    drawing made for it (the same data and matplotlib settings draw the same bytes:
    test_report.py's byte-identity tests)."""
    from html import escape

    with charts_drawn_once():
        page = to_html(report)
        md, _ = to_markdown(report, image_dir="r_files")
    assert escape(sentence) in page
    assert md_text(sentence) in md


@contextlib.contextmanager
def charts_drawn_once() -> Iterator[None]:
    """Pages made within are given the drawing of a chart seen before (see on_both_pages)."""
    from unittest import mock

    with (
        mock.patch("segchain.report.html.render_svg", _drawn_once(render_svg)),
        mock.patch("segchain.report.markdown.render_png", _drawn_once(render_png)),
    ):
        yield


_DRAWN: dict[bytes, Any] = {}


def _drawn_once(draw: Callable[..., Any]) -> Callable[..., Any]:
    """``draw`` (render_svg or render_png), its drawings kept by what it was given: the chart
    (its plot's function and data), the options and matplotlib's settings. A chart that cannot
    be pickled (a plot that is no module function) is drawn every time."""
    import pickle

    import matplotlib

    def drawn(chart: Chart, **options: Any) -> Any:
        try:
            key = pickle.dumps((draw.__name__, chart, options, sorted(matplotlib.rcParams.items())))
        except (pickle.PicklingError, AttributeError, TypeError):
            return draw(chart, **options)
        if key not in _DRAWN:
            _DRAWN[key] = draw(chart, **options)
        return _DRAWN[key]

    return drawn


def lanes(**columns) -> pl.DataFrame:
    """test_report's four lanes (c1, c2 Champions; c3 Lost; c4 At Risk) with these columns."""
    return assignments_frame().with_columns(
        **{k: pl.Series(v, dtype=pl.Float64) for k, v in columns.items()}
    )


# ---- network


def test_delivery_by_segment_transport_cost_names_the_lane_left_out():
    cost = [1000.0, NAN, 2500.25, 400.0]
    report = build_report({"assignments": lanes(transport_cost=cost)})
    table = block(report, "network", "Delivery by segment")
    assert cell(table, "Champions", "transport_cost") == format_number(
        sum(known(cost[:2])), "money"
    )  # 1,000
    said = "transport_cost: 1 lane's cost unknown, left out (Champions)"
    assert said in table.note
    on_both_pages(report, said)


def test_cost_split_table_names_the_lane_left_out():
    cost = [1000.0, NAN, 2500.25, INF]
    report = build_report({"assignments": lanes(transport_cost=cost)})
    table = block(report, "network", "Cost split")
    row = table.frame.row(0, named=True)
    assert row["value"] == sum(known(cost))  # 3,500.25
    assert table.note == "2 lanes' cost unknown, left out."
    on_both_pages(report, table.note)


def test_delivery_by_segment_mean_distance_says_over_how_many_lanes():
    distance = [100.0, None, 50.0, 200.0]
    report = build_report({"assignments": lanes(distance_km=distance)})
    table = block(report, "network", "Delivery by segment")
    assert cell(table, "Champions", "distance_km") == format_number(100.0, "num")
    said = "distance_km: a mean over 1 of 2 lanes in Champions (the others unknown)"
    assert said in table.note
    on_both_pages(report, said)


def test_within_promise_is_the_share_of_the_demand_whose_promise_is_known():
    # c2's sla_met unknown: Champions' known demand is c1's 10 units, all within promise. The
    # old code counted c2's 30 units as late (10 / 40 = 25 %) and said nothing.
    asg = assignments_frame().with_columns(
        sla_met=pl.Series([True, None, True, True], dtype=pl.Boolean)
    )
    report = build_report({"assignments": asg})
    table = block(report, "network", "Delivery by segment")
    assert cell(table, "Champions", "within_promise") == format_number(10 / 10, "pct")
    said = "within_promise: a mean over 1 of 2 lanes in Champions (the others unknown)"
    assert said in table.note
    chart = next(
        b for s in report.sections for b in s.blocks if isinstance(b, Chart) and b.key == "promise"
    )
    assert said in chart.caption
    on_both_pages(report, said)


def test_promise_table_of_what_to_do_now_counts_only_known_deliveries():
    asg = assignments_frame().with_columns(
        sla_met=pl.Series([True, None, True, True], dtype=pl.Boolean)
    )
    report = build_report({"assignments": asg})
    table = block(report, "actions", "Every segment's promise is kept in the plan")
    assert cell(table, "Champions", "within_promise") == format_number(1.0, "pct")
    said = "within_promise: a mean over 1 of 2 lanes in Champions (the others unknown)"
    assert said in table.note
    on_both_pages(report, said)


def test_network_map_says_whose_demand_is_unknown():
    demand = [10.0, NAN, 5.0, 5.0]
    tables = {"assignments": lanes(demand=demand), "segments": segments_frame()}
    chart = next(
        b
        for s in build_report(tables).sections
        for b in s.blocks
        if isinstance(b, Chart) and b.key == "map"
    )
    assert "1 customer's demand unknown, drawn at the smallest size (Champions)" in chart.caption


# ---- inventory


def stock_segments(values) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "A", "B", "C"],
            "segment": ["Champions", "Lost", "Champions", "Lost"],
            "service_level": [0.98, 0.9, 0.98, 0.9],
            "demand_share": [0.5, 0.5, 1.0, 1.0],
            "inventory_value": values,
        },
        schema_overrides={"inventory_value": pl.Float64},
    )


def policy() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "mean_demand": [10.0, 1.0, 5.0],
            "safety_stock": [20.0, 2.0, 8.0],
            "unit_cost": [2.0, 10.0, 5.0],
            "inventory_value": [100.0, 30.0, 70.0],
        }
    )


def test_inventory_by_segment_names_the_stocking_point_left_out():
    values = [50.0, 50.0, NAN, 70.0]
    report = build_report({"policy": policy(), "stock_segments": stock_segments(values)})
    table = block(report, "inventory", "Inventory value by segment")
    assert cell(table, "Champions", "inventory_value") == format_number(50.0, "money")
    assert cell(table, "Lost", "inventory_value") == format_number(50.0 + 70.0, "money")
    said = "inventory_value: 1 stocking point's value unknown, left out (Champions)"
    assert said in table.note
    chart = next(b for s in report.sections for b in s.blocks if isinstance(b, Chart))
    assert chart.key == "inventory" and said in chart.caption
    on_both_pages(report, said)


def comparison(segmented, uniform) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["Champions", "Lost", "At Risk"],
            "target": [0.98, 0.9, 0.95],
            "inventory_value_segmented": segmented,
            "inventory_value_uniform": uniform,
        },
        schema_overrides={
            "inventory_value_segmented": pl.Float64,
            "inventory_value_uniform": pl.Float64,
        },
    )


def test_overall_comparison_without_an_all_row_names_the_segment_left_out():
    segmented = [500.0, NAN, 300.0]
    uniform = [400.0, 250.0, 320.0]
    report = build_report({"policy": policy(), "stock_comparison": comparison(segmented, uniform)})
    section = next(s for s in report.sections if s.key == "inventory")
    head = next(h for h in section.headlines if h.label == "Segmented vs uniform, planned")
    # Lost's segmented value is unknown: compared over the segments where both are known, so
    # a segment is not counted on one side only (the old code: 800 - 970 = -170).
    seg_known, uni_known = 500.0 + 300.0, 400.0 + 320.0
    change = seg_known - uni_known
    assert head.value == "+" + format_number(change, "money")  # +80
    assert head.detail == (
        f"+{format_number(change / uni_known, 'pct')} expected inventory value vs one target; "
        "1 segment's value unknown, left out"
    )
    on_both_pages(report, head.detail)


def test_overall_comparison_with_every_segment_known_says_nothing_of_unknowns():
    report = build_report(
        {"policy": policy(), "stock_comparison": comparison([500.0, 200.0, 300.0], [400.0] * 3)}
    )
    section = next(s for s in report.sections if s.key == "inventory")
    head = next(h for h in section.headlines if h.label == "Segmented vs uniform, planned")
    assert head.value == format_number(1000.0 - 1200.0, "money")
    assert head.detail == (
        f"{format_number(-200 / 1200, 'pct')} expected inventory value vs one target"
    )


def test_comparison_chart_names_the_segment_it_cannot_draw():
    report = build_report(
        {
            "policy": policy(),
            "stock_segments": stock_segments([50.0, 50.0, 30.0, 70.0]),
            "stock_comparison": comparison([500.0, NAN, 300.0], [400.0, 250.0, 320.0]),
        }
    )
    chart = next(b for s in report.sections for b in s.blocks if isinstance(b, Chart))
    assert chart.key == "inventory"
    assert "Not drawn, a value unknown: Lost." in chart.caption


def test_order_now_note_names_the_stocking_points_whose_order_is_unknown():
    p = policy().with_columns(order_now=pl.Series([15.0, None, 5.0]))
    report = build_report({"policy": p})
    section = next(s for s in report.sections if s.key == "inventory")
    notes = [b.text for b in section.blocks if hasattr(b, "text")]
    said = next(n for n in notes if "reorder point" in n and "order " in n)
    assert said.endswith(
        f"order {15 + 5:,.0f} units now; 1 stocking point's order unknown, left out."
    )


# ---- segments


def test_segment_profile_from_the_segments_table_names_the_customers_left_out():
    seg = segments_frame().with_columns(
        monetary=pl.Series([600.0, None, 20.0, 80.0]),
        recency_days=pl.Series([5.0, NAN, 400.0, 200.0]),
    )
    report = build_report({"segments": seg})
    table = block(report, "segments", "Segment profile")
    assert cell(table, "Champions", "revenue") == format_number(600.0, "money")
    assert cell(table, "Champions", "recency_days") == format_number(5.0, "num")
    for said in (
        "revenue: 1 customer's revenue unknown, left out (Champions)",
        "recency_days: a mean over 1 of 2 customers in Champions (the others unknown)",
        "monetary: a mean over 1 of 2 customers in Champions (the others unknown)",
    ):
        assert said in table.note
        on_both_pages(report, said)
    chart = next(b for s in report.sections for b in s.blocks if isinstance(b, Chart))
    assert chart.key == "segments"
    assert "revenue: 1 customer's revenue unknown, left out (Champions)" in chart.caption


def test_segment_clv_per_customer_is_the_mean_of_the_customers_whose_clv_is_known():
    seg = segments_frame().with_columns(clv=pl.Series([900.0, NAN, 10.0, 50.0]))
    report = build_report({"segments": seg})
    table = block(report, "segments", "Segment profile")
    assert cell(table, "Champions", "clv_total") == format_number(900.0, "money")
    # 900 over the one customer whose CLV is known, not 900 / 2 (an unknown counted as 0).
    assert cell(table, "Champions", "clv_per_customer") == format_number(900.0, "money")
    for said in (
        "clv_total: 1 customer's CLV unknown, left out (Champions)",
        "clv_per_customer: a mean over 1 of 2 customers in Champions (the others unknown)",
    ):
        assert said in table.note
        on_both_pages(report, said)


def test_segment_profile_from_a_profile_names_the_segments_whose_revenue_is_unknown():
    profile = pl.DataFrame(
        {
            "segment": ["Champions", "Lost", "At Risk"],
            "segment_rank": [1, 3, 2],
            "customers": [2, 1, 1],
            "monetary": [450.0, NAN, 80.0],
        }
    )
    report = build_report({"segment_profile": profile})
    table = block(report, "segments", "Segment profile")
    # revenue = monetary x customers: Lost's unknown, so the shares are of the other two.
    assert cell(table, "Champions", "share_revenue") == format_number(900 / 980, "pct")
    said = "share_revenue: a share of the known revenue, 1 segment's revenue unknown (Lost)"
    assert said in table.note
    on_both_pages(report, said)


# ---- forecast


def test_forecast_demand_by_segment_names_the_period_left_out():
    monday = date(2024, 1, 1)
    forecast = [10.0, NAN, 12.0, 1.0, 2.0, 3.0]
    fc = pl.DataFrame(
        {
            "unique_id": ["Champions/A"] * 3 + ["Lost/B"] * 3,
            "ds": [monday + timedelta(weeks=i % 3) for i in range(6)],
            "forecast": forecast,
            "segment": ["Champions"] * 3 + ["Lost"] * 3,
            "sku": ["A"] * 3 + ["B"] * 3,
        }
    )
    report = build_report({"forecast": fc})
    table = block(report, "forecast", "Forecast demand by segment")
    assert cell(table, "Champions", "forecast") == format_number(22.0, "units")
    assert cell(table, "Champions", "share") == format_number(22.0 / 28.0, "pct")
    said = "forecast: 1 period's forecast unknown, left out (Champions)"
    assert said in table.note
    on_both_pages(report, said)


# ---- costs


def costs_frame(**columns) -> pl.DataFrame:
    base = {
        "segment": ["Champions", "Lost"],
        "revenue": [1000.0, 400.0],
        "cost_to_serve": [300.0, 200.0],
        "profit": [700.0, 200.0],
        "transport": [100.0, 50.0],
        "order_handling": [200.0, 150.0],
    }
    return pl.DataFrame(base | columns)


def test_cost_stack_caption_names_the_part_left_out_of_a_total():
    report = build_report({"costs": costs_frame(transport=[100.0, NAN])})
    chart = next(
        b
        for s in report.sections
        for b in s.blocks
        if isinstance(b, Chart) and b.key == "cost_stack"
    )
    assert "the label is the total. Totals: transport unknown, left out (Lost)." in chart.caption


def test_promise_cost_names_the_promise_left_out_of_its_sum():
    report = build_report(
        {
            "costs": costs_frame(
                gross_margin=[1000.0, 400.0],
                delivery_promise_cost=[50.0, None],
                service_promise_cost=[20.0, 10.0],
            )
        }
    )
    table = block(report, "costs", "What each promise costs, against the margin it brings")
    assert cell(table, "Lost", "promise_cost") == format_number(10.0, "money")
    said = "promise_cost: delivery_promise_cost unknown, left out (Lost)"
    assert said in table.note
    on_both_pages(report, said)


# ---- orders


def test_monthly_order_value_chart_names_the_lines_left_out():
    orders = pl.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "customer_id": ["c1", "c2", "c3"],
            "order_date": [date(2024, 1, 5), date(2024, 1, 9), date(2024, 2, 3)],
            "sku": ["A", "B", "A"],
            "quantity": [1.0, 2.0, 3.0],
            "amount": [10.0, NAN, 30.0],
        }
    )
    chart = next(
        b
        for s in build_report({"orders": orders}).sections
        for b in s.blocks
        if isinstance(b, Chart) and b.key == "orders"
    )
    # The lines span 5 January to 3 February 2024: both months part months (s45).
    assert chart.caption == (
        "2024-01 and 2024-02 are part months: the orders start on 2024-01-05 (27 of its 31 "
        "days) and end on 2024-02-03 (3 of its 29 days), drawn lighter. 1 order line's value "
        "unknown, left out (2024-01)."
    )


def test_least_profitable_customers_say_how_many_were_not_ranked():
    customers = pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "segment": ["Champions", "Lost", "Lost"],
            "profit": [50.0, NAN, -20.0],
        }
    )
    report = build_report({"costs": costs_frame(), "customer_costs": customers})
    table = block(report, "costs", "The 2 least profitable customers")
    assert table.frame["customer_id"].to_list() == ["c3", "c1"]
    said = "Not ranked: 1 customer's profit unknown (Lost)."
    assert table.note == said
    on_both_pages(report, said)


# ---- service: an unknown expected service is no 0 %


def test_expected_fill_rate_headline_says_how_many_points_it_left_out():
    p = policy().with_columns(expected_fill_rate=pl.Series([0.99, None, 0.95]))
    section = next(s for s in build_report({"policy": p}).sections if s.key == "inventory")
    head = next(h for h in section.headlines if h.label == "Expected fill rate")
    # Demand-weighted over the points whose fill rate is known: A (10) and C (5).
    assert head.value == format_number((0.99 * 10 + 0.95 * 5) / 15, "pct")
    assert head.detail == "demand-weighted; 1 stocking point's fill rate unknown, left out"


def test_segment_service_in_the_promise_table_is_over_the_points_where_it_is_known():
    segs = stock_segments([50.0, 50.0, 30.0, 70.0]).with_columns(
        expected_fill_rate=pl.Series([0.99, 0.95, None, 0.93])
    )
    report = build_report({"policy": policy(), "stock_segments": segs})
    table = next(
        b
        for s in report.sections
        if s.key == "actions"
        for b in s.blocks
        if isinstance(b, TableBlock) and "promise" in b.title
    )
    # Champions buys A (demand 10 x 0.5) and B (1 x 1.0), B's fill rate unknown: 99 % over A.
    # The old code weighed B's unknown as 0: 0.99 x 5 / 6 = 82.5 %, a broken promise.
    assert cell(table, "Champions", "expected_service") == format_number(0.99, "pct")
    said = "expected_service: a mean over 1 of 2 stocking points in Champions (the others unknown)"
    assert said in table.note
    on_both_pages(report, said)


def test_a_promise_whose_every_delivery_is_unknown_is_neither_kept_nor_broken():
    # Lost's one lane (c3) has sla_met unknown: the old code counted its demand as late (0 %).
    asg = assignments_frame().with_columns(
        sla_met=pl.Series([True, True, None, True], dtype=pl.Boolean)
    )
    report = build_report({"assignments": asg})
    table = block(report, "actions", "Segments whose promise is not known to be kept in the plan")
    assert table.frame["segment"].to_list() == ["Lost"]
    assert cell(table, "Lost", "kept") == "unknown"
    assert cell(table, "Lost", "within_promise") == format_number(None, "pct")  # –
    section = next(s for s in report.sections if s.key == "actions")
    head = next(h for h in section.headlines if h.label == "Promises kept in the plan")
    assert (head.value, head.detail) == ("2 of 3 segments", "none broken; unknown: Lost")
    on_both_pages(report, "none broken; unknown: Lost")


def test_demand_within_promise_headline_names_the_lanes_left_out():
    asg = assignments_frame().with_columns(
        sla_met=pl.Series([True, None, True, False], dtype=pl.Boolean)
    )
    section = next(s for s in build_report({"assignments": asg}).sections if s.key == "network")
    head = next(h for h in section.headlines if h.label == "Demand within promise")
    # Over c1, c3 and c4's demand: (10 + 5) / (10 + 5 + 5).
    assert head.value == format_number(15 / 20, "pct")
    assert head.detail.endswith("; 30 units of demand left out (1 lane), whether on time unknown")


def test_mean_distance_headline_names_the_lane_left_out():
    asg = lanes(distance_km=[100.0, NAN, 50.0, 200.0]).drop("sla_met")
    section = next(s for s in build_report({"assignments": asg}).sections if s.key == "network")
    head = next(h for h in section.headlines if h.label == "Mean distance")
    # Demand-weighted over c1, c3, c4: (100 x 10 + 50 x 5 + 200 x 5) / 20.
    assert head.value == f"{format_number((1000 + 250 + 1000) / 20, 'num')} km"
    assert head.detail == "demand-weighted; 1 lane's distance unknown, left out"


def test_forecast_fan_chart_names_the_period_it_left_out():
    monday = date(2024, 1, 1)
    fc = pl.DataFrame(
        {
            "unique_id": ["Champions/A"] * 3 + ["Lost/B"] * 3,
            "ds": [monday + timedelta(weeks=i % 3) for i in range(6)],
            "forecast": [10.0, NAN, 12.0, 1.0, 2.0, 3.0],
            "segment": ["Champions"] * 3 + ["Lost"] * 3,
            "sku": ["A"] * 3 + ["B"] * 3,
            "demand_class": ["smooth"] * 3 + ["lumpy"] * 3,
        }
    )
    report = build_report({"forecast": fc})
    chart = next(b for s in report.sections for b in s.blocks if isinstance(b, Chart))
    assert "forecast: 1 period's forecast unknown, left out (Champions/A)" in chart.caption
    classes = block(report, "forecast", "Demand classes (Syntetos-Boylan)")
    row = classes.frame.filter(pl.col("demand_class") == "smooth").row(0, named=True)
    assert row["forecast"] == 22.0
    assert classes.note == "forecast: 1 period's forecast unknown, left out (smooth)."


# ---- accuracy


def series_backtest(mase, wape, **more) -> pl.DataFrame:
    """Four series rows (no overall or segment rows): two AutoETS, two CrostonSBA."""
    return pl.DataFrame(
        {
            "unique_id": ["Champions/A", "Champions/B", "Lost/A", "Lost/B"],
            "scope": ["series"] * 4,
            "segment": ["Champions", "Champions", "Lost", "Lost"],
            "model": ["AutoETS", "CrostonSBA", "AutoETS", "CrostonSBA"],
            "mase": mase,
            "wape": wape,
            "baseline_model": ["Naive"] * 4,
            "baseline_mase": [1.0, 1.2, 1.1, 1.3],
            "baseline_wape": [0.4, 0.8, 0.5, 0.6],
        }
        | more,
        schema_overrides={"mase": pl.Float64, "wape": pl.Float64},
    )


def test_models_chosen_mase_says_over_how_many_series():
    bt = series_backtest([0.8, None, 0.6, 1.4], [0.3, 0.9, 0.4, 0.5])
    report = build_report({"backtest": bt})
    table = block(report, "accuracy", "Models chosen")
    row = table.frame.filter(pl.col("model") == "CrostonSBA").row(0, named=True)
    assert row["mase"] == 1.4  # CrostonSBA's one known MASE
    said = "mase: a mean over 1 of 2 series for CrostonSBA (the others unknown)"
    assert said in table.note
    on_both_pages(report, said)


def test_models_chosen_pooled_wape_names_the_series_left_out():
    bt = series_backtest(
        [0.8, 0.9, 0.6, 1.4],
        [0.3, 0.9, 0.4, 0.5],
        backtest_abs_error=[3.0, NAN, 4.0, 5.0],
        backtest_actual=[10.0, 10.0, 10.0, 10.0],
    )
    table = block(build_report({"backtest": bt}), "accuracy", "Models chosen")
    said = "wape's absolute error: 1 series' absolute error unknown, left out (CrostonSBA)"
    assert said in table.note


def test_accuracy_without_pooled_rows_says_over_how_many_series_each_mean_is():
    mase = [0.8, None, 0.6, 1.4]
    bt = series_backtest(mase, [0.3, 0.9, 0.4, 0.5])
    report = build_report({"backtest": bt})
    section = next(s for s in report.sections if s.key == "accuracy")
    head = next(h for h in section.headlines if h.label == "MASE")
    assert head.value == format_number(sum(known(mase)) / 3, "ratio")
    # Over the series scored, as the count beating the baseline (session 70).
    assert head.detail.endswith(
        "(means over the 3 of 4 series with demand in the backtest windows and a MASE)"
    )
    table = block(report, "accuracy", "Accuracy by segment")
    assert cell(table, "Champions", "mase") == format_number(0.8, "ratio")
    said = "mase: a mean over 1 of 2 series in Champions (the others unknown)"
    assert said in table.note
    on_both_pages(report, said)


def test_accuracy_chart_names_the_segment_it_cannot_draw():
    bt = series_backtest([0.8, 0.9, 0.6, 1.4], [0.3, 0.9, None, None])
    chart = next(
        b
        for s in build_report({"backtest": bt}).sections
        for b in s.blocks
        if isinstance(b, Chart) and b.key == "accuracy"
    )
    assert chart.caption == "Not drawn, a WAPE unknown: Lost."


def test_beating_note_names_the_forecast_left_out_of_the_volume_share():
    from test_report import backtest_frame, forecast_frame

    fc = forecast_frame()
    forecast = fc["forecast"].to_list()
    forecast[1] = NAN  # Champions/A's second week
    fc = fc.with_columns(forecast=pl.Series(forecast))
    report = build_report({"backtest": backtest_frame(), "forecast": fc})
    section = next(s for s in report.sections if s.key == "accuracy")
    note = next(b.text for b in section.blocks if hasattr(b, "text") and "How to read" in b.text)
    # Champions/A (10 + 12) and At Risk/A (not forecast) beat Naive; Lost/B carries 1 + 2 + 3.
    share = format_number(22 / (22 + 6), "pct")
    assert (
        f"they carry {share} of the forecast demand (1 period's forecast unknown, left out). "
        in note
    )


def test_segment_service_leaves_out_a_point_whose_demand_is_unknown_and_says_so():
    segs = stock_segments([1.0, 1.0, 1.0, 1.0]).with_columns(
        expected_fill_rate=pl.Series([0.99, 0.95, 0.50, 0.93])
    )
    p = policy().with_columns(mean_demand=pl.Series([10.0, None, 5.0]))
    report = build_report({"policy": p, "stock_segments": segs})
    table = next(
        b
        for s in report.sections
        if s.key == "actions"
        for b in s.blocks
        if isinstance(b, TableBlock) and "promise" in b.title
    )
    # Champions: A (10 x 0.5 at 99 %) and B (demand unknown, 50 %): 99 % over A alone, and the
    # note says B was left out. The old code weighed B as no demand, without a word.
    assert cell(table, "Champions", "expected_service") == format_number(0.99, "pct")
    said = "expected_service: a mean over 1 of 2 stocking points in Champions (the others unknown)"
    assert said in table.note
    on_both_pages(report, said)
