"""Unit tests of the report stage: recognition, headline numbers, escaping, determinism."""

from __future__ import annotations

import re
from datetime import date, timedelta

import polars as pl
import pytest

from segchain.errors import UsageError
from segchain.report import (
    build_report,
    collect_tables,
    recognise_table,
    to_html,
    to_markdown,
    to_rich,
)
from segchain.report.model import Note, TableBlock, format_number
from segchain.report.sections import build_sections
from segchain.report.sections.forecast import history, interval_levels, period_interval
from segchain.report.sections.segments import segment_profile

EVIL = "<script>alert(1)</script>"
MONDAY = date(2024, 1, 1)  # a Monday: weekly periods start on it


def segments_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "segment": ["Champions", "Champions", "Lost", "At Risk"],
            "segment_rank": [1, 1, 3, 2],
            "recency_days": [5, 15, 400, 200],
            "frequency": [10, 6, 1, 3],
            "monetary": [600.0, 300.0, 20.0, 80.0],
            "lat": [48.1, 52.5, 50.9, 53.6],
            "lon": [11.6, 13.4, 6.9, 10.0],
        }
    )


def forecast_frame() -> pl.DataFrame:
    rows = []
    for uid, seg, sku, level in (
        ("Champions/A", "Champions", "A", 10.0),
        ("Lost/B", "Lost", "B", 1.0),
    ):
        for i in range(3):
            rows.append(
                {
                    "unique_id": uid,
                    "ds": MONDAY + timedelta(weeks=i),
                    "forecast": level + i,
                    "forecast-lo-80": level + i - 1,
                    "forecast-hi-80": level + i + 1,
                    "forecast-lo-95": level + i - 2,
                    "forecast-hi-95": level + i + 2,
                    "segment": seg,
                    "sku": sku,
                    "model": "AutoETS",
                    "demand_class": "smooth",
                }
            )
    return pl.DataFrame(rows)


def backtest_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "unique_id": ["Champions/A", "Lost/B", "At Risk/A", "segment:Champions", "overall"],
            "scope": ["series", "series", "series", "segment", "overall"],
            "segment": ["Champions", "Lost", "At Risk", "Champions", None],
            "model": ["AutoETS", "CrostonSBA", "AutoETS", None, None],
            "mase": [0.8, 1.5, 0.9, 0.8, 1.07],
            "wape": [0.3, 0.9, 0.4, 0.3, 0.35],
            "baseline_model": ["SeasonalNaive", "Naive", "Naive", None, None],
            "baseline_mase": [1.0, 1.2, 1.1, 1.0, 1.1],
            "baseline_wape": [0.4, 0.8, 0.5, 0.4, 0.45],
        }
    )


def policy_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "segment": ["Champions", "Lost", "Champions"],
            "service_target": [0.98, 0.9, 0.98],
            "mean_demand": [10.0, 1.0, 5.0],
            "safety_stock": [20.0, 2.0, 8.0],
            "reorder_point": [40.0, 4.0, 18.0],
            "expected_fill_rate": [0.99, 0.9, 0.97],
            "unit_cost": [2.0, 10.0, 5.0],
            "inventory_value": [100.0, 30.0, 70.0],
        }
    )


def assignments_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "segment": ["Champions", "Champions", "Lost", "At Risk"],
            "site_id": ["DC-1", "DC-1", "DC-2", "DC-2"],
            "distance_km": [100.0, 300.0, 50.0, 200.0],
            "transit_days": [1.0, 2.0, 1.0, 2.0],
            "sla_days": [1.0, 1.0, 5.0, 3.0],
            "sla_met": [True, False, True, True],
            "demand": [10.0, 30.0, 5.0, 5.0],
        }
    )


def sites_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "site_id": ["DC-1", "DC-2", "DC-3"],
            "lat": [50.1, 51.0, 48.8],
            "lon": [8.7, 7.0, 2.3],
            "open": [True, True, False],
            "fixed_cost": [1000.0, 500.0, 800.0],
            "capacity": [100.0, 100.0, 100.0],
            "demand_served": [40.0, 10.0, 0.0],
            "utilization": [0.4, 0.1, 0.0],
            "customers": [2, 2, 0],
        }
    )


def all_tables() -> dict[str, pl.DataFrame]:
    return {
        "segments": segments_frame(),
        "forecast": forecast_frame(),
        # Of the forecast's own run: without At Risk/A, a series the forecast lacks (a backtest
        # holding one is another run's, its headlines marked so; test_report_runs_s66).
        "backtest": backtest_frame().filter(pl.col("unique_id") != "At Risk/A"),
        "policy": policy_frame(),
        "assignments": assignments_frame(),
        "sites": sites_frame(),
    }


def section(report, key):
    return next(s for s in report.sections if s.key == key)


# Drawn once for the tests that only read them: a page draws each chart twice (desktop and
# phone), some 2-5 s a page, and five tests read the same one.
@pytest.fixture(scope="module")
def all_tables_report():
    return build_report(all_tables())


@pytest.fixture(scope="module")
def all_tables_page(all_tables_report) -> str:
    return to_html(all_tables_report)


@pytest.fixture(scope="module")
def all_tables_markdown(all_tables_report) -> tuple[str, dict[str, bytes]]:
    return to_markdown(all_tables_report, image_dir="report_files")


def headline(report, key, label_start):
    return next(h for h in section(report, key).headlines if h.label.startswith(label_start))


# ---------------------------------------------------------------------------------------------
# Recognition


@pytest.mark.parametrize(
    ("columns", "stage", "expected"),
    [
        (["customer_id", "segment", "segment_rank", "monetary"], None, ("segments", "columns")),
        (["segment", "customers", "share_customers"], None, ("segment_profile", "columns")),
        (["unique_id", "ds", "forecast", "forecast-lo-80"], None, ("forecast", "columns")),
        (["unique_id", "scope", "mase", "wape"], None, ("backtest", "columns")),
        (["sku", "safety_stock", "reorder_point"], None, ("policy", "columns")),
        (["customer_id", "segment", "site_id", "distance_km"], None, ("assignments", "columns")),
        (["site_id", "open", "demand_served"], None, ("sites", "columns")),
        (["approach", "series", "wape", "mae"], None, ("forecast_comparison", "columns")),
        (["x", "y"], "segment", ("segments", "metadata")),
        (["x", "y"], "policy", ("policy", "metadata")),
        (["sku", "safety_stock", "reorder_point"], "rejects", ("policy", "columns")),
        (["sku", "description"], None, (None, "")),
    ],
)
def test_recognise_table_by_metadata_or_key_columns(columns, stage, expected):
    assert recognise_table(columns, stage) == expected


def test_collect_tables_two_of_a_kind_is_a_usage_error():
    seg = segments_frame()
    with pytest.raises(UsageError, match=r"segments \(segchain segment\): a.parquet, b.csv"):
        collect_tables(
            [
                ("a.parquet", "segments", "metadata", seg, {}),
                ("b.csv", "segments", "columns", seg, {}),
            ]
        )


# ---------------------------------------------------------------------------------------------
# Formatting


def test_table_cells_are_written_by_column_kind():
    # Declared kinds win; undeclared columns are read from their name and dtype.
    block = TableBlock(
        "t",
        pl.DataFrame({"fill_rate": [0.5], "series": ["3105"], "km": [12.34]}),
        formats={"series": "int"},
    )
    assert [block.cell(c, block.frame[c][0]) for c in block.frame.columns] == [
        "50.0%",
        "3,105",
        "12.3",
    ]


# ---------------------------------------------------------------------------------------------
# Segments


def test_segment_profile_counts_customers_and_revenue_per_segment():
    prof = segment_profile({"segments": segments_frame()})
    got = {r["segment"]: r for r in prof.iter_rows(named=True)}
    assert prof["segment"].to_list() == ["Champions", "At Risk", "Lost"]  # by segment_rank
    assert got["Champions"]["customers"] == 2
    assert got["Champions"]["revenue"] == pytest.approx(900.0)
    assert got["Champions"]["share_revenue"] == pytest.approx(900.0 / 1000.0)
    assert got["Lost"]["share_customers"] == pytest.approx(0.25)


def test_segments_headlines_quote_customers_top_share_and_revenue():
    report = build_report({"segments": segments_frame()})
    heads = section(report, "segments").headlines
    assert [h.value for h in heads] == ["4", "90.0%", "1,000"]
    assert heads[1].label == "Revenue from Champions"
    assert heads[1].detail == "with 50.0% of customers"


def test_segments_section_from_profile_alone_derives_revenue():
    prof = pl.DataFrame(
        {
            "segment": ["A", "B"],
            "segment_rank": [1, 2],
            "customers": [2, 8],
            "share_customers": [0.2, 0.8],
            "monetary": [100.0, 10.0],
        }
    )
    report = build_report({"segment_profile": prof})
    # Revenue = mean monetary x customers: 200 + 80; A's share 200 / 280.
    assert headline(report, "segments", "Revenue from").value == format_number(200 / 280, "pct")
    assert section(report, "segments").headlines[2].value == "280"


def test_segment_profile_revenue_is_the_segments_sum_not_the_rounded_mean_times_customers():
    # segment --profile writes each segment's mean monetary rounded to cents; given the segments
    # table too, the revenue per segment is its customers' monetary summed, as costs and the
    # order history count it (CDNOW: Champions 1,320,703 from 303.54 x 4,351 against
    # 1,320,691 sold).
    segments = pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "segment": ["A", "A", "A", "B"],
            "segment_rank": [1, 1, 1, 2],
            "monetary": [100.004, 100.004, 100.004, 50.0],
        }
    )
    prof = pl.DataFrame(
        {
            "segment": ["A", "B"],
            "segment_rank": [1, 2],
            "customers": [3, 1],
            "share_customers": [0.75, 0.25],
            "share_revenue": [300.012 / 350.012, 50.0 / 350.012],
            "monetary": [100.0, 50.0],  # the mean, rounded to cents as segment writes it
        }
    )
    got = segment_profile({"segment_profile": prof, "segments": segments})
    revenue = dict(zip(got["segment"].to_list(), got["revenue"].to_list(), strict=True))
    assert revenue["A"] == pytest.approx(300.012)
    assert revenue["B"] == pytest.approx(50.0)


def clv_segments() -> pl.DataFrame:
    return segments_frame().with_columns(clv=pl.Series([500.0, 300.0, 2.0, 40.0]))


@pytest.mark.parametrize("given", ["profile", "older profile", "segments only"])
def test_segment_profile_labels_clv_as_the_segments_total_and_per_customer(given):
    # The table set the segment's total CLV (the profile's clv) under the name clv beside
    # per-customer means: CDNOW's Champions read clv 615,327 beside a monetary of 304.
    seg = clv_segments()
    want = (
        seg.group_by("segment")
        .agg(
            pl.col("clv").sum().alias("clv_total"),
            pl.col("clv").mean().alias("clv_per_customer"),
            pl.len().alias("customers"),
        )
        .sort("segment")
    )
    prof = want.select(
        "segment",
        pl.col("segment")
        .replace_strict({"Champions": 1, "At Risk": 2, "Lost": 3})
        .alias("segment_rank"),
        "customers",
        (pl.col("customers") / 4).alias("share_customers"),
        pl.col("clv_total").alias("clv" if given == "older profile" else "clv_total"),
    )
    tables = {"segments": seg} if given == "segments only" else {"segment_profile": prof}
    block = next(
        b
        for b in section(build_report(tables), "segments").blocks
        if isinstance(b, TableBlock) and b.title == "Segment profile"
    )
    assert "clv" not in block.frame.columns
    got = block.frame.sort("segment")
    assert got["segment"].to_list() == want["segment"].to_list()
    for c in ("clv_total", "clv_per_customer"):
        assert got[c].to_list() == pytest.approx(want[c].to_list()), c
    assert "clv_per_customer" in block.note and "clv_total" in block.note


# ---------------------------------------------------------------------------------------------
# Forecast


def test_interval_levels_need_both_bounds_and_come_widest_first():
    cols = ["forecast", "forecast-lo-80", "forecast-hi-80", "forecast-lo-95", "forecast-hi-95"]
    assert interval_levels([*cols, "forecast-lo-50"]) == ["95", "80"]


@pytest.mark.parametrize(
    ("step", "expected"),
    [(timedelta(days=1), ("1d", "day")), (timedelta(weeks=1), ("1w", "week"))],
)
def test_period_interval_from_ds_spacing(step, expected):
    ds = pl.Series([MONDAY + step * i for i in range(5)])
    assert period_interval(ds) == expected


def test_period_interval_monthly():
    ds = pl.Series([date(2024, m, 1) for m in range(1, 7)])
    assert period_interval(ds) == ("1mo", "month")


def test_forecast_headlines_series_horizon_and_total():
    report = build_report({"forecast": forecast_frame()})
    heads = section(report, "forecast").headlines
    # (10 + 11 + 12) + (1 + 2 + 3) = 39 units over 3 weekly periods.
    assert [h.value for h in heads] == ["2", "3 weeks", "39"]
    assert heads[1].detail == "2024-01-01 to 2024-01-15"


def test_history_sums_a_series_per_week_nets_returns_and_fills_gaps():
    orders = pl.DataFrame(
        {
            "order_id": ["1", "2", "3", "4", "5"],
            "order_date": [
                MONDAY,
                MONDAY + timedelta(days=2),
                MONDAY,
                MONDAY + timedelta(weeks=2),
                MONDAY,
            ],
            "customer_id": ["c1", "c2", "c3", "c1", "c1"],
            "sku": ["A", "A", "A", "A", "B"],
            "quantity": [3.0, 4.0, 50.0, -2.0, 9.0],
            "flag": [None, None, None, "return", None],
        }
    )
    got = history(
        {"orders": orders, "segments": segments_frame()}, {"segment": "Champions", "sku": "A"}, "1w"
    )
    # c1 and c2 are Champions; c3 (Lost) and sku B are other series. Week 2 is a net return.
    assert got == (
        [MONDAY, MONDAY + timedelta(weeks=1), MONDAY + timedelta(weeks=2)],
        [7.0, 0.0, 0.0],
    )


def test_history_is_none_without_segments_for_a_segment_series():
    orders = pl.DataFrame(
        {"order_date": [MONDAY], "customer_id": ["c1"], "sku": ["A"], "quantity": [1.0]}
    )
    assert history({"orders": orders}, {"segment": "Champions", "sku": "A"}, "1w") is None


# ---------------------------------------------------------------------------------------------
# Backtest


def test_backtest_headlines_use_the_overall_row_and_count_series_beating_the_baseline():
    report = build_report({"backtest": backtest_frame()})
    heads = section(report, "accuracy").headlines
    assert heads[0].value == "35.0%"
    assert heads[0].detail == "vs 45.0% for Naive / SeasonalNaive"
    assert heads[1].value == "1.07"
    # Series MASE vs baseline: 0.8 < 1.0 yes, 1.5 < 1.2 no, 0.9 < 1.1 yes.
    assert heads[2].value == format_number(2 / 3, "pct")
    assert heads[2].detail == "2 of 3 series (lower MASE)"


def test_backtest_without_summary_rows_quotes_means_per_series():
    series_only = backtest_frame().filter(pl.col("scope") == "series").drop("scope")
    report = build_report({"backtest": series_only})
    head = section(report, "accuracy").headlines[0]
    assert head.value == format_number((0.3 + 0.9 + 0.4) / 3, "pct")
    assert head.detail.endswith("(mean per series)")


def models_chosen_block(backtest: pl.DataFrame) -> TableBlock:
    blocks = section(build_report({"backtest": backtest}), "accuracy").blocks
    return next(b for b in blocks if isinstance(b, TableBlock) and b.title == "Models chosen")


def test_models_chosen_wape_is_pooled_over_the_series_each_model_was_chosen_for():
    # AutoETS missed 10 of 100 units on one series and 50 of 50 on another: pooled 60 / 150 =
    # 40 %, where the mean of the two series' WAPE (10 % and 100 %) said 55 %.
    bt = pl.DataFrame(
        {
            "unique_id": ["a", "b", "c"],
            "scope": ["series"] * 3,
            "segment": ["S", "S", "T"],
            "model": ["AutoETS", "AutoETS", "Naive"],
            "mase": [0.5, 1.5, 1.0],
            "wape": [0.1, 1.0, 0.5],
            "backtest_abs_error": [10.0, 50.0, 5.0],
            "backtest_actual": [100.0, 50.0, 10.0],
        }
    )
    want = bt.group_by("model").agg(
        (pl.col("backtest_abs_error").sum() / pl.col("backtest_actual").sum()).alias("want")
    )
    got = models_chosen_block(bt).frame.join(want, on="model")
    assert got.height == 2
    assert (got["wape"] - got["want"]).abs().max() < 1e-12
    assert got.filter(pl.col("model") == "AutoETS")["wape"][0] == pytest.approx(0.4)


def test_models_chosen_of_an_older_backtest_says_its_wape_is_a_mean_per_series():
    # A backtest written before the per-series totals: a pooled WAPE cannot be had from it,
    # so the column says what it is rather than pass a mean for the pooled figure.
    block = models_chosen_block(backtest_frame())
    assert "wape" not in block.frame.columns
    autoets = block.frame.filter(pl.col("model") == "AutoETS")
    assert autoets["mean_series_wape"][0] == pytest.approx((0.3 + 0.4) / 2)
    assert "mean over series" in block.note


def test_backtest_shows_the_segment_vs_total_comparison_when_given():
    comparison = pl.DataFrame(
        {"approach": ["segment x sku, summed", "sku direct"], "series": [5, 5], "wape": [0.5, 0.6]}
    )
    report = build_report({"backtest": backtest_frame(), "forecast_comparison": comparison})
    titles = [getattr(b, "title", "") for b in section(report, "accuracy").blocks]
    assert "Segment × sku forecasts summed vs forecasting the sku total" in titles


# ---------------------------------------------------------------------------------------------
# Inventory


def test_inventory_headlines_value_safety_stock_value_and_fill_rate():
    report = build_report({"policy": policy_frame()})
    heads = section(report, "inventory").headlines
    # Safety stock value: 20*2 + 2*10 + 8*5 = 100; fill rate weighted by mean demand.
    fill = (0.99 * 10 + 0.9 * 1 + 0.97 * 5) / 16
    assert [h.value for h in heads] == ["200", "100", format_number(fill, "pct")]


def _notes(report, key):
    return [b.text for b in section(report, key).blocks if isinstance(b, Note)]


def test_inventory_without_unit_costs_is_shown_in_units():
    # stock without --items and without prices: every unit_cost 1 (unit_cost_source default),
    # so the "value" is units: the section must say so, not show money.
    policy = policy_frame().with_columns(
        unit_cost=pl.lit(1.0), unit_cost_source=pl.lit("default"), inventory_value=pl.lit(10.0)
    )
    report = build_report({"policy": policy})
    heads = section(report, "inventory").headlines
    assert heads[0].label == "Inventory (units)"
    assert heads[0].value == format_number(30.0, "units")
    assert heads[1].label == "Safety stock"
    assert any("are units, not money" in n for n in _notes(report, "inventory"))


def test_inventory_at_selling_price_says_so():
    policy = policy_frame().with_columns(unit_cost_source=pl.lit("price"))
    report = build_report({"policy": policy})
    head = section(report, "inventory").headlines[0]
    assert head.label == "Inventory value" and head.detail.endswith("at selling price")
    assert any("mean selling price" in n for n in _notes(report, "inventory"))


def test_inventory_safety_stock_at_selling_price_is_not_called_unit_cost():
    # Found on a grocery export (stock --orders, no --items): the value headline said "at selling
    # price" and the safety stock beside it "at unit cost", of the same prices.
    policy = policy_frame().with_columns(unit_cost_source=pl.lit("price"))
    head = section(build_report({"policy": policy}), "inventory").headlines[1]
    assert head.label == "Safety stock value"
    assert head.detail == "at selling price"


def test_inventory_negative_safety_stock_is_counted_and_explained():
    # With a fill-rate target and orders covering many periods, the reorder point can sit below
    # the lead-time demand (Silver, Pyke & Peterson's k < 0): 2 of 3 points here. The headline
    # gives the safety stock held, 20*2 = 40 (s52: the net, 20*2 - 3*10 - 9*5 = -35, read as
    # stock owed); the note says why and gives the negative part (-75) and the net with sign.
    policy = policy_frame().with_columns(safety_stock=pl.Series([20.0, -3.0, -9.0]))
    report = build_report({"policy": policy})
    head = section(report, "inventory").headlines[1]
    assert head.value == "40.00"
    assert head.detail == "at unit cost; below zero at 2 of 3 stocking points, counted as none"
    notes = [n for n in _notes(report, "inventory") if "below the demand expected" in n]
    assert len(notes) == 1
    assert notes[0].startswith("2 of 3 stocking points have a reorder point below the demand")
    assert "(negative safety stock, -75.00 in all, at unit cost)" in notes[0]
    assert "the stocking points' safety stock nets to -35.00 (the stock they hold" in notes[0]


def test_inventory_safety_stock_below_zero_by_rounding_only_is_not_counted():
    # The demo: reorder point 0 for a mean demand of 2e-8 a week, a safety stock of -1e-7; the
    # page said "below zero at 2 of 552 stocking points" and "(0.00 units in all)".
    policy = policy_frame().with_columns(safety_stock=pl.Series([20.0, -1e-7, -1e-8]))
    report = build_report({"policy": policy})
    assert section(report, "inventory").headlines[1].detail == "at unit cost"
    assert not [n for n in _notes(report, "inventory") if "below the demand expected" in n]


def test_inventory_without_negative_safety_stock_has_no_such_note():
    report = build_report({"policy": policy_frame()})
    assert section(report, "inventory").headlines[1].detail == "at unit cost"
    assert not [n for n in _notes(report, "inventory") if "below the demand expected" in n]


def test_inventory_mixed_cost_bases_are_counted():
    policy = policy_frame().with_columns(unit_cost_source=pl.Series(["items", "price", "default"]))
    report = build_report({"policy": policy})
    (note,) = [n for n in _notes(report, "inventory") if "cost bases" in n]
    assert "1 at the item master's cost" in note
    assert "1 without a cost, counted in units" in note


def test_inventory_at_item_cost_needs_no_note():
    policy = policy_frame().with_columns(unit_cost_source=pl.lit("items"))
    report = build_report({"policy": policy})
    assert not [n for n in _notes(report, "inventory") if "cost" in n and "unit" in n]


@pytest.mark.parametrize(
    ("order_now", "note", "detail"),
    [
        (
            [5.0],
            "1 of 1 stocking point is at or below its reorder point: order 5 units now.",
            "average stock of 1 stocking point",
        ),
        (
            [5.0, 0.0],
            "1 of 2 stocking points is at or below its reorder point: order 5 units now.",
            "average stock of 2 stocking points",
        ),
        (
            [5.0, 1.0],
            "2 of 2 stocking points are at or below their reorder point: order 6 units now.",
            "average stock of 2 stocking points",
        ),
    ],
)
def test_inventory_counts_agree_with_their_nouns(order_now, note, detail):
    """The page said '1 of 1 stocking points are at or below their reorder point'."""
    n = len(order_now)
    policy = policy_frame().head(n).with_columns(order_now=pl.Series(order_now))
    report = build_report({"policy": policy})
    assert note in _notes(report, "inventory")
    assert section(report, "inventory").headlines[0].detail == detail


def test_network_promise_of_one_customer_says_customer():
    asg = assignments_frame().head(1)
    report = build_report({"assignments": asg})
    assert headline(report, "network", "Demand within promise").detail == (
        "10 of 10 units; 1 of 1 customer"
    )


def test_inventory_comparison_headline_is_segmented_minus_uniform():
    comparison = pl.DataFrame(
        {
            "segment": ["Champions", "Lost", "(all)"],
            "inventory_value_segmented": [150.0, 50.0, 200.0],
            "inventory_value_uniform": [140.0, 110.0, 250.0],
            "uniform_target": [0.95, 0.95, 0.95],
        }
    )
    report = build_report({"policy": policy_frame(), "stock_comparison": comparison})
    head = headline(report, "inventory", "Segmented vs uniform")
    assert head.value == "-50.00"
    assert head.detail == "-20.0% expected inventory value vs one target of 95.0%"


def test_inventory_comparison_is_read_from_policy_metadata():
    rows = [
        {"segment": "(all)", "inventory_value_segmented": 90.0, "inventory_value_uniform": 60.0}
    ]
    report = build_report({"policy": policy_frame()}, metadata={"policy": {"comparison": rows}})
    assert headline(report, "inventory", "Segmented vs uniform").value == "+30.00"


# ---------------------------------------------------------------------------------------------
# Network


def test_network_share_within_promise_is_weighted_by_demand():
    report = build_report({"assignments": assignments_frame()})
    head = headline(report, "network", "Demand within promise")
    # Met: 10 + 5 + 5 of 50 units, 40 %; not 3 of 4 customers (75 %), the base said beside it.
    assert head.value == "40.0%"
    assert head.detail == "20 of 50 units; 3 of 4 customers"


def test_network_share_within_promise_names_its_base_in_units_recomputed_from_the_lanes():
    """The share is of demand: the page said "Demand within promise: 97.9% (793 of 804
    customers)" on Superstore, where 793 of 804 is 98.6 %; the units it is taken over are said
    first."""
    asg = assignments_frame()
    within = asg.filter(pl.col("sla_met"))["demand"].sum()
    whole = asg["demand"].sum()
    head = headline(build_report({"assignments": asg}), "network", "Demand within promise")
    assert head.value == format_number(within / whole, "pct")
    customers = f"{asg['sla_met'].sum()} of {asg.height} customers"
    assert head.detail == f"{within:,.0f} of {whole:,.0f} units; {customers}"


def test_network_delivery_by_segment_weighs_distance_and_transit_by_demand_as_network_does():
    """On Online Retail network's stderr gave Champions a mean_km of 105 (weighted by demand)
    and the report's Delivery by segment 81.0 km (a plain mean per lane) for the same plan."""
    asg = assignments_frame()
    report = build_report({"assignments": asg})
    table = next(
        b
        for b in section(report, "network").blocks
        if getattr(b, "title", "") == "Delivery by segment"
    )
    expected = (
        asg.group_by("segment")
        .agg(
            *[
                ((pl.col(c) * pl.col("demand")).sum() / pl.col("demand").sum()).alias(c)
                for c in ("distance_km", "transit_days")
            ]
        )
        .sort("segment")
    )
    got = table.frame.select("segment", "distance_km", "transit_days").sort("segment")
    assert got.equals(expected.select(got.columns))
    champions = got.filter(pl.col("segment") == "Champions").row(0, named=True)
    assert champions["distance_km"] == (100.0 * 10 + 300.0 * 30) / 40  # 250, not 200
    assert "means weighted by demand" in table.note


def test_network_cost_counts_fixed_cost_of_open_sites_only():
    report = build_report({"assignments": assignments_frame(), "sites": sites_frame()})
    head = headline(report, "network", "Network cost")
    assert head.value == "1,500"
    assert headline(report, "network", "Open sites").detail == "DC-1, DC-2"


# ---------------------------------------------------------------------------------------------
# Robustness


def test_sections_are_skipped_with_a_note_when_their_table_is_absent():
    report = build_report({"segments": segments_frame()})
    assert [s.key for s in report.sections] == ["segments"]
    # actions, orders, forecast, accuracy, inventory, network, costs
    assert len(report.skipped) == 7
    assert "Forecast: no forecast table (segchain forecast) in the inputs." in report.skipped


@pytest.mark.parametrize(
    ("kind", "frame"),
    [
        ("segments", pl.DataFrame({"customer_id": ["c"], "segment": ["A"], "segment_rank": [1]})),
        (
            "segment_profile",
            pl.DataFrame({"segment": ["A"], "customers": [1], "share_customers": [1.0]}),
        ),
        ("forecast", pl.DataFrame({"unique_id": ["u"], "ds": [MONDAY], "forecast": [1.0]})),
        ("backtest", pl.DataFrame({"unique_id": ["u"], "mase": [None], "wape": [float("nan")]})),
        ("policy", pl.DataFrame({"sku": ["s"], "safety_stock": [1.0], "reorder_point": [2.0]})),
        (
            "assignments",
            pl.DataFrame({"customer_id": ["c"], "site_id": ["d"], "distance_km": [1.0]}),
        ),
        ("sites", pl.DataFrame({"site_id": ["d"], "open": [True], "demand_served": [1.0]})),
        (
            "orders",
            pl.DataFrame(
                {
                    "order_id": ["1"],
                    "order_date": [MONDAY],
                    "customer_id": ["c"],
                    "sku": ["s"],
                    "quantity": [1.0],
                }
            ),
        ),
    ],
)
def test_report_renders_from_key_columns_only(kind, frame):
    report = build_report({kind: frame})
    page = to_html(report)
    # One section for the stage (and the actions section when the table is a plan's part).
    assert len([s for s in report.sections if s.key != "actions"]) == 1
    assert ">nan<" not in page.lower() and "NaN" not in page


# ---------------------------------------------------------------------------------------------
# HTML


def evil_tables() -> dict[str, pl.DataFrame]:
    seg = segments_frame().with_columns(
        pl.when(pl.col("customer_id") == "c1")
        .then(pl.lit(EVIL))
        .otherwise(pl.col("customer_id"))
        .alias("customer_id"),
        pl.when(pl.col("segment") == "Lost")
        .then(pl.lit(EVIL))
        .otherwise(pl.col("segment"))
        .alias("segment"),
    )
    policy = policy_frame().with_columns(pl.lit(EVIL).alias("sku"))
    asg = assignments_frame().with_columns(
        pl.when(pl.col("customer_id") == "c1")
        .then(pl.lit(EVIL))
        .otherwise(pl.col("customer_id"))
        .alias("customer_id"),
        pl.when(pl.col("segment") == "Lost")
        .then(pl.lit(EVIL))
        .otherwise(pl.col("segment"))
        .alias("segment"),
    )
    sites = sites_frame().with_columns(pl.lit(EVIL + " city").alias("city"))
    return {"segments": seg, "policy": policy, "assignments": asg, "sites": sites}


def test_html_escapes_every_value_from_the_data():
    page = to_html(build_report(evil_tables(), title=EVIL))
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_is_self_contained(all_tables_page):
    page = all_tables_page
    assert "<svg" in page
    for fetch in ("<link", "<img", "<script", "src=", "@import", "url(http", "<iframe"):
        assert fetch not in page.lower()
    # The only URLs are the SVG namespaces, which are never fetched.
    assert set(re.findall(r"https?://[^\s\"')]+", page)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }


def test_html_element_ids_are_unique_across_charts(all_tables_page):
    page = all_tables_page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_html_is_byte_identical_on_rerun(all_tables_page):
    # The module's page, drawn first, against a second drawing of the same tables.
    assert to_html(build_report(all_tables())) == all_tables_page


def test_html_has_a_heading_per_section_and_three_headlines_each(
    all_tables_report, all_tables_page
):
    report, page = all_tables_report, all_tables_page
    for s in report.sections:
        assert f"<h2>{s.title}</h2>" in page
        assert len(s.headlines) == 3 or s.key == "actions"
    assert page.count('<div class="kpi">') == sum(len(s.headlines) for s in report.sections)


# ---------------------------------------------------------------------------------------------
# Markdown and terminal


def test_markdown_writes_pngs_beside_and_links_them(all_tables_markdown):
    text, files = all_tables_markdown
    assert files, "charts expected"
    for name, data in files.items():
        assert name.startswith("report_files/") and name.endswith(".png")
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in text


def test_markdown_escapes_html_and_pipes_in_values():
    seg = segments_frame().with_columns(pl.lit("A|B <b>").alias("segment"))
    text, _ = to_markdown(build_report({"segments": seg}))
    assert "| A\\|B &lt;b&gt; |" in text


def test_markdown_without_image_dir_notes_the_charts_left_out():
    text, files = to_markdown(build_report({"segments": segments_frame()}))
    assert files == {}
    assert "1 chart left out" in text


def test_markdown_png_is_byte_identical_on_rerun(all_tables_markdown):
    # The module's Markdown, drawn first, against a second drawing of the same tables.
    _, first = all_tables_markdown
    _, second = to_markdown(build_report(all_tables()), image_dir="report_files")
    assert second == first


def test_rich_summary_keeps_markup_in_values_as_text():
    from rich.console import Console

    seg = segments_frame().with_columns(pl.lit("[bold]x[/bold]").alias("segment"))
    console = Console(record=True, width=200)
    for r in to_rich(build_report({"segments": seg})):
        console.print(r)
    assert "[bold]x[/bold]" in console.export_text()


def test_build_sections_orders_sections_as_the_pipeline():
    sections, skipped = build_sections(all_tables(), {})
    assert [s.key for s in sections] == [
        "actions",
        "segments",
        "forecast",
        "accuracy",
        "inventory",
        "network",
    ]
    assert len(skipped) == 2 and skipped[0].startswith("Order history: no order lines")
    assert skipped[1] == "Cost to serve: no costs table (segchain costs) in the inputs."


def test_network_split_customer_counts_its_demand_by_share_per_site():
    asg = pl.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2"],
            "segment": ["A", "A", "B"],
            "site_id": ["DC-1", "DC-2", "DC-1"],
            "share": [0.25, 0.75, 1.0],
            "distance_km": [10.0, 50.0, 5.0],
            "sla_met": [True, False, True],
            "demand": [100.0, 100.0, 100.0],
        }
    )
    report = build_report({"assignments": asg})
    head = headline(report, "network", "Demand within promise")
    # Served within promise: 25 of c1's 100 and all of c2's 100, out of 200.
    assert head.value == format_number(125 / 200, "pct")
    assert head.detail == "125 of 200 units; 1 of 2 customers"


def test_network_cost_and_promise_premium_come_from_the_metadata_totals():
    totals = {"fixed_cost": 300.0, "transport_cost": 900.0, "baseline_total_cost": 1000.0}
    report = build_report(
        {"assignments": assignments_frame()}, metadata={"assignments": {"totals": totals}}
    )
    head = headline(report, "network", "Network cost")
    assert (head.value, head.detail) == ("1,200", "fixed 25.0% / transport 75.0%")
    notes = [b.text for b in section(report, "network").blocks if hasattr(b, "text")]
    assert any(
        n.startswith("Keeping every segment's delivery promise costs 200 (20.0%)") for n in notes
    )


def test_phone_charts_write_text_at_least_9px_on_a_390px_screen(all_tables_report, all_tables_page):
    # Without a browser: a 390 px screen leaves 348 px for a chart (the CSS's paddings), and
    # each phone drawing is scaled to that width; its smallest text must come out >= 9 px.
    # The drawings are the page's own: each chart's desktop one, then its phone one.
    from segchain.report.html import CSS

    assert "@media (max-width: 600px)" in CSS and ".chart-wide { display: none; }" in CSS
    charts = all_tables_report.charts()
    assert charts
    drawn = re.findall(
        r'<div class="chart-wide">(<svg.*?</svg>)</div><div class="chart-phone">(<svg.*?</svg>)',
        all_tables_page,
        flags=re.S,
    )
    assert len(drawn) == len(charts)
    for chart, (desktop, svg) in zip(charts, drawn, strict=True):
        width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
        sizes = [float(x) for x in re.findall(r"<text style=\"font-size: ([\d.]+)px", svg)]
        assert sizes, chart.key
        assert min(sizes) * 348 / width >= 9.0, (chart.key, min(sizes), width)
        wide = float(re.search(r'viewBox="0 0 ([\d.]+) ', desktop).group(1))
        assert min(sizes) * 348 / wide < 9.0  # the desktop drawing would not do on a phone


def test_stock_comparison_shows_no_fill_rate_for_a_segment_without_demand():
    # As a policy's metadata recorded it before stock left it blank: Lost buys nothing, and
    # its 95 % was the plain mean of its points' rates.
    comparison = pl.DataFrame(
        {
            "segment": ["Champions", "Lost", "(all)"],
            "target": [0.98, 0.8, None],
            "skus": [2, 1, 3],
            "demand_per_period": [15.0, 0.0, 15.0],
            "inventory_value_segmented": [170.0, 0.0, 170.0],
            "inventory_value_uniform": [160.0, 0.0, 160.0],
            "fill_rate_segmented": [0.985, 0.95, 0.985],
            "fill_rate_uniform": [0.97, 0.95, 0.97],
        }
    )
    report = build_report({"policy": policy_frame(), "stock_comparison": comparison})
    block = next(
        b
        for b in section(report, "inventory").blocks
        if isinstance(b, TableBlock) and b.title == "Segmented targets vs one uniform target"
    )
    rows = {r["segment"]: r for r in block.frame.iter_rows(named=True)}
    assert rows["Lost"]["fill_rate_segmented"] is None
    assert rows["Lost"]["fill_rate_uniform"] is None
    assert rows["Champions"]["fill_rate_segmented"] == 0.985
    assert "no forecast demand" in block.note


def idle_backtest() -> pl.DataFrame:
    """Four series: a and b sold in their backtest windows (a beats its baseline, b does not);
    c and d sold nothing there, and their forecasts nearer zero 'beat' the baseline."""
    return pl.DataFrame(
        {
            "unique_id": ["a", "b", "c", "d"],
            "scope": ["series"] * 4,
            "model": ["AutoETS"] * 4,
            "mase": [0.5, 1.5, 0.1, 0.2],
            "baseline_mase": [1.0, 1.0, 0.4, 0.3],
            "wape": [0.2, 0.6, None, 0.0],
            "baseline_wape": [0.4, 0.5, None, None],
            "backtest_abs_error": [4.0, 12.0, 3.0, 0.0],
            "backtest_actual": [20.0, 20.0, 0.0, 0.0],
        }
    )


def test_series_beating_the_baseline_counts_only_series_with_backtest_demand():
    bt = idle_backtest()
    scored = bt.filter(pl.col("backtest_actual") > 0)
    better = scored.filter(pl.col("mase") < pl.col("baseline_mase")).height
    head = headline(build_report({"backtest": bt}), "accuracy", "Series beating")
    assert head.value == format_number(better / scored.height, "pct")
    assert head.detail == (
        f"{better} of {scored.height} series (lower MASE); "
        f"{bt.height - scored.height} had no demand in the backtest windows"
    )


def test_series_without_backtest_demand_are_found_in_a_backtest_without_its_totals():
    # Written before backtest_actual: a WAPE is empty (or 0) exactly when nothing was sold.
    bt = idle_backtest().drop("backtest_abs_error", "backtest_actual")
    head = headline(build_report({"backtest": bt}), "accuracy", "Series beating")
    assert head.detail == "1 of 2 series (lower MASE); 2 had no demand in the backtest windows"


def test_beating_note_says_which_series_were_not_counted_and_why():
    from segchain.report.sections.accuracy import beating_note

    bt = idle_backtest().with_columns(
        mase=pl.when(pl.col("unique_id") == "b").then(None).otherwise(pl.col("mase"))
    )
    # e is forecast but was too short to backtest; a carries 30 of the 30 + 10 units of the
    # scored series (b has no MASE, c and d no demand).
    forecast = pl.DataFrame(
        {"unique_id": ["a", "b", "c", "d", "e"], "forecast": [30.0, 10.0, 5.0, 5.0, 2.0]}
    )
    text = beating_note(bt, forecast, 0.3, 0.4, "Naive", True)
    assert "1 of 1 series (100.0%) has a lower backtest error (MASE) than Naive" in text
    assert "it carries 100.0% of the forecast demand of the series counted" in text
    assert (
        "Not counted: 2 series had no demand in the backtest windows; 1 has no MASE (too "
        "little or too flat a history before the first window to scale the error); 1 was "
        "too short to backtest."
    ) in text


@pytest.mark.parametrize(
    ("better", "verb", "carry"), [(1, "has", "it carries"), (2, "have", "they carry")]
)
def test_beating_note_agrees_with_the_count_of_series_beating_the_baseline(better, verb, carry):
    # CDNOW's report said '1 of 3 series (33.3%) have a lower backtest error'.
    from segchain.report.sections.accuracy import beating_note

    bt = pl.DataFrame(
        {
            "unique_id": ["a", "b", "c"],
            "scope": ["series"] * 3,
            "mase": [0.5, 0.6 if better == 2 else 1.5, 1.2],
            "baseline_mase": [1.0, 1.0, 1.0],
            "backtest_actual": [10.0, 10.0, 10.0],
        }
    )
    forecast = pl.DataFrame({"unique_id": ["a", "b", "c"], "forecast": [5.0, 3.0, 2.0]})
    text = beating_note(bt, forecast, None, None, "Naive", True)
    share = format_number(better / 3, "pct")
    assert f"{better} of 3 series ({share}) {verb} a lower backtest error (MASE)" in text
    assert f", and {carry} " in text


def test_all_tables_are_of_one_run(all_tables_report):
    """The module's tables tell one run's story: no headline is marked another run's and nothing
    is said atop the page (a fixture mixing runs would test the warnings, not the page)."""
    labels = [h.label for s in all_tables_report.sections for h in s.headlines]
    assert "WAPE" in labels
    assert not [label for label in labels if "other run" in label]
