"""The report's first section, what to do now: the full reorder list, the sites and the
promise behind each, the segments whose promise is not kept (answers worked out by hand)."""

from __future__ import annotations

import re

import polars as pl

from segchain.report import build_report, to_html, to_markdown
from segchain.report.model import Note, TableBlock, format_number
from segchain.report.sections.actions import REORDER_SHOWN, reorder_list, site_decisions


def policy() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "segment": ["X", "X", "Z", "X"],
            "safety_stock": [1.0, 1.0, 1.0, 1.0],
            "reorder_point": [12.0, 3.0, 9.0, 50.0],
            "mean_demand": [10.0, 1.0, 4.0, 20.0],
            "unit_cost": [2.0, 1.0, 10.0, 0.5],
            "on_hand": [2.0, 9.0, 4.0, 10.0],
            "order_now": [10.0, 0.0, 5.0, 40.0],
        }
    )


def stock_segments() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "A", "D", "D"],
            "segment": ["X", "Y", "X", "Y"],
            "priority": [1, 2, 1, 2],
            "service_measure": ["fill-rate"] * 4,
            "service_level": [0.99, 0.90, 0.99, 0.90],
            "expected_fill_rate": [0.995, 0.85, 0.99, 0.95],
            "demand_share": [0.3, 0.7, 0.5, 0.5],
            "inventory_value": [6.0, 4.0, 10.0, 10.0],
        }
    )


def orders() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": ["1", "2", "3", "4"],
            "order_date": ["2024-01-01"] * 4,
            "customer_id": ["c1"] * 4,
            "sku": ["A", "A", "A", "C"],
            "quantity": [1.0] * 4,
            "description": ["Alpha", "alpha (old name)", "Alpha", "Gamma"],
        }
    ).with_columns(pl.col("order_date").str.to_date())


def test_reorder_list_every_point_to_order_by_value_with_description_and_segment():
    tables = {"policy": policy(), "stock_segments": stock_segments(), "orders": orders()}
    due = reorder_list(tables)
    assert due is not None
    # B has nothing to order; C's 5 x 10 = 50 first, then A and D at 20 each, by sku.
    assert due["sku"].to_list() == ["C", "A", "D"]
    assert due["order_value"].to_list() == [50.0, 20.0, 20.0]
    # The description the orders use most often; none for D.
    assert due["description"].to_list() == ["Gamma", "Alpha", None]
    # A: Y buys 70 %; D: a 50/50 tie goes to the higher priority X; C is not in the per-segment
    # table, so the policy's segment stands.
    assert due["segment_most_affected"].to_list() == ["Z", "Y", "X"]
    assert due.columns[:6] == [
        "sku",
        "description",
        "order_now",
        "order_value",
        "segment_most_affected",
        "on_hand",
    ]


def test_reorder_list_shows_the_top_in_the_page_and_every_line_one_click_away():
    n = REORDER_SHOWN + 5
    big = pl.DataFrame(
        {
            "sku": [f"S{i:02d}" for i in range(n)],
            "safety_stock": [1.0] * n,
            "reorder_point": [5.0] * n,
            "unit_cost": [1.0] * n,
            "order_now": [float(100 + i) for i in range(n)],
        }
    )
    report = build_report({"policy": big})
    page = to_html(report)
    actions = page[page.index('<section id="actions">') : page.index("</section>")]
    head, _, details = actions.partition("<details>")
    # The page shows the first REORDER_SHOWN lines (largest order first), the rest in details.
    assert head.count(">S") == REORDER_SHOWN
    assert f">S{n - 1:02d}<" in head and ">S00<" not in head
    assert details.count(">S") == n
    assert "<script" not in page
    text, _ = to_markdown(report)
    assert all(f"| S{i:02d} |" in text for i in range(n))  # Markdown lists every line


def sites_case() -> tuple[dict[str, pl.DataFrame], dict[str, dict]]:
    # One degree of latitude is 111.2 km; at 300 km a day a 1-day promise reaches 300 km.
    sites = pl.DataFrame(
        {
            "site_id": ["A", "B", "C"],
            "lat": [50.0, 52.0, 40.0],
            "lon": [8.0, 8.0, 0.0],
            "open": [True, True, False],
            "demand_served": [90.0, 1.0, 0.0],
            "utilization": [0.5, 0.01, 0.0],
            "customers": [2, 1, 0],
        }
    )
    assignments = pl.DataFrame(
        {
            # c1 is 111 km from A and 334 km from B: only A keeps its 1-day promise.
            # c3 is 111 km from both: either keeps it. c2 (5 days) is 278 km from A.
            "customer_id": ["c1", "c2", "c3"],
            "segment": ["Champions", "Lost", "Champions"],
            "site_id": ["A", "B", "A"],
            "distance_km": [111.2, 55.6, 111.2],
            "transit_days": [0.37, 0.19, 0.37],
            "sla_days": [1.0, 5.0, 1.0],
            "sla_met": [True, True, True],
            "demand": [50.0, 1.0, 40.0],
            "lat": [49.0, 52.5, 51.0],
            "lon": [8.0, 8.0, 8.0],
        }
    )
    meta = {"assignments": {"params": {"km_per_day": 300.0}}}
    return {"sites": sites, "assignments": assignments}, meta


def test_sites_say_which_promise_needs_each_and_flag_an_open_site_none_needs():
    tables, meta = sites_case()
    decided = site_decisions(tables, meta, ["Champions", "Lost"])
    assert decided is not None
    frame, unchecked = decided
    assert unchecked == ""  # checked: nothing missing
    why = dict(zip(frame["site_id"].to_list(), frame["why"].to_list(), strict=True))
    assert why["A"] == (
        "needed by the delivery promise of Champions, 1 day (1 customer): no other open site "
        "reaches them in time"
    )
    assert why["B"].startswith("CHECK: open for 1 customer at 1.0% utilisation")
    assert why["C"].startswith("not needed")
    assert frame["decision"].to_list() == ["open", "open", "not opened"]


def test_sites_use_the_network_decision_and_name_a_site_to_close():
    tables, meta = sites_case()
    tables["sites"] = tables["sites"].with_columns(
        existing=pl.Series([True, False, True]),
        open=pl.Series([True, True, True]),  # C: existing, forced open, serves nobody
        decision=pl.Series(["keep", "open", "close"]),
    )
    frame, _ = site_decisions(tables, meta, ["Champions", "Lost"])
    rows = {r[0]: r[1:] for r in frame.select("site_id", "decision", "why").rows()}
    assert rows["A"][0] == "keep" and rows["A"][1].startswith("needed by")
    assert rows["B"][0] == "open"
    assert rows["C"] == (
        "close",
        "serves no customer in the plan: it runs only because it exists today",
    )
    report = build_report(tables, metadata=meta)
    actions = next(s for s in report.sections if s.key == "actions")
    head = next(h for h in actions.headlines if h.label == "Open sites")
    assert head.value == "2" and "close 1" in head.detail


def test_sites_without_a_km_per_day_are_not_checked_and_say_so():
    tables, _ = sites_case()
    report = build_report(tables)
    actions = next(s for s in report.sections if s.key == "actions")
    head = next(h for h in actions.headlines if h.label == "Open sites")
    assert head.value == "2"
    assert "not checked" in head.detail


def test_sites_flag_in_the_page_names_the_site():
    tables, meta = sites_case()
    report = build_report(tables, metadata=meta)
    actions = next(s for s in report.sections if s.key == "actions")
    notes = [b.text for b in actions.blocks if isinstance(b, Note)]
    assert any("(B)" in n and "no promise needing it" in n for n in notes)


def test_segments_whose_promise_is_not_kept_delivery_and_service():
    tables, meta = sites_case()
    late = tables["assignments"].with_columns(
        pl.when(pl.col("customer_id") == "c2")
        .then(False)
        .otherwise(pl.col("sla_met"))
        .alias("sla_met")
    )
    report = build_report(
        {"assignments": late, "policy": policy(), "stock_segments": stock_segments()},
        metadata=meta,
    )
    actions = next(s for s in report.sections if s.key == "actions")
    table = next(
        b for b in actions.blocks if isinstance(b, TableBlock) and "promise" in b.title.lower()
    )
    kept = dict(zip(table.frame["segment"].to_list(), table.frame["kept"].to_list(), strict=True))
    # Lost: its one customer is late. Y: expected fill 0.85 at A (demand 10 x 0.7 = 7) and
    # 0.95 at D (20 x 0.5 = 10): (0.85 x 7 + 0.95 x 10) / 17 = 0.9088 >= 0.90, kept on average,
    # but A is below target. X: (0.995 x 3 + 0.99 x 10) / 13 = 0.9912 >= 0.99.
    assert kept == {"Lost": "no: delivery"}
    head = next(h for h in actions.headlines if h.label == "Promises kept in the plan")
    assert head.value == "3 of 4 segments"
    assert head.detail == "not kept: Lost"


def test_service_promise_not_kept_when_the_weighted_service_is_below_target():
    segs = stock_segments().with_columns(
        pl.when(pl.col("segment") == "Y")
        .then(0.80)
        .otherwise(pl.col("expected_fill_rate"))
        .alias("expected_fill_rate")
    )
    report = build_report({"policy": policy(), "stock_segments": segs})
    actions = next(s for s in report.sections if s.key == "actions")
    table = next(b for b in actions.blocks if isinstance(b, TableBlock) and "kept" in b.title)
    row = table.frame.row(0, named=True)
    assert (row["segment"], row["kept"]) == ("Y", "no: service")
    assert abs(row["expected_service"] - 0.80) < 1e-12
    assert row["points_below_target"] == 2


def test_actions_section_comes_first_and_is_skipped_without_a_plan():
    tables, meta = sites_case()
    report = build_report({**tables, "policy": policy()}, metadata=meta)
    assert report.sections[0].key == "actions"
    alone = build_report({"orders": orders()})
    assert all(s.key != "actions" for s in alone.sections)
    assert any(re.match(r"Actions: ", s) for s in alone.skipped)


def test_share_of_series_beating_the_baseline_is_interpreted_with_their_volume():
    from segchain.report.sections.accuracy import beating_note

    series = pl.DataFrame(
        {
            "unique_id": ["u1", "u2", "u3"],
            "mase": [0.5, 1.5, 2.0],
            "baseline_mase": [1.0, 1.0, 1.0],
        }
    )
    forecast = pl.DataFrame(
        {"unique_id": ["u1", "u1", "u2", "u3"], "forecast": [50.0, 40.0, 6.0, 4.0]}
    )
    text = beating_note(series, forecast, 0.3, 0.4, "Naive", True)
    # u1 beats its baseline and carries 90 of the 100 units forecast.
    assert "1 of 3 series (33.3%) has a lower backtest error (MASE) than Naive" in text
    assert "it carries 90.0% of the forecast demand" in text
    assert "the models win where the volume is" in text
    worse = beating_note(series, forecast, 0.5, 0.4, "Naive", True)
    assert "do not beat the baseline (WAPE 50.0% against 40.0%)" in worse


def test_share_beating_the_baseline_is_no_win_where_the_volume_is_when_it_carries_a_minority():
    """Superstore by product: 444 of 1,222 series (36.3 %) beat the baseline and carry 36.7 % of
    the forecast demand, and the page said 'the models win where the volume is; on the other,
    smaller series the baseline does as well or better' (the others carry 63.3 %)."""
    from segchain.report.sections.accuracy import beating_note

    series = pl.DataFrame(
        {
            "unique_id": ["u1", "u2", "u3", "u4"],
            "mase": [0.5, 1.5, 2.0, 1.2],
            "baseline_mase": [1.0, 1.0, 1.0, 1.0],
        }
    )
    # u1 alone beats its baseline: 1 of 4 series (25 %) carrying 30 of 100 units (30 %).
    forecast = pl.DataFrame(
        {"unique_id": ["u1", "u2", "u3", "u4"], "forecast": [30.0, 40.0, 20.0, 10.0]}
    )
    won = (
        forecast.filter(pl.col("unique_id") == "u1")["forecast"].sum() / forecast["forecast"].sum()
    )
    text = beating_note(series, forecast, 0.3, 0.4, "Naive", True)
    assert f"it carries {format_number(won, 'pct')} of the forecast demand" in text
    assert "where the volume is" not in text
    assert "smaller series" not in text
    assert (
        f"the series where the models win carry only {format_number(won, 'pct')} of the forecast "
        f"demand: on the series carrying the other {format_number(1 - won, 'pct')}, the baseline "
        "does as well or better, series by series." in text
    )


def capped_case(fill_y_at_d: float) -> list[dict]:
    """Segment Y (target 0.90) at A (capped; 10 x 0.7 = 7 units, fill 0.5) and at D (not
    capped; 20 x 0.5 = 10 units, fill ``fill_y_at_d``); X (0.99) at A (3 units, 0.995) and D
    (10 units, 0.99)."""
    capped_policy = policy().with_columns((pl.col("sku") == "A").alias("capped"))
    segs = stock_segments().with_columns(
        pl.when((pl.col("segment") == "Y") & (pl.col("sku") == "A"))
        .then(0.5)
        .when((pl.col("segment") == "Y") & (pl.col("sku") == "D"))
        .then(fill_y_at_d)
        .otherwise(pl.col("expected_fill_rate"))
        .alias("expected_fill_rate")
    )
    report = build_report({"policy": capped_policy, "stock_segments": segs})
    actions = next(s for s in report.sections if s.key == "actions")
    table = next(b for b in actions.blocks if isinstance(b, TableBlock) and "kept" in b.title)
    head = next(h for h in actions.headlines if h.label == "Promises kept in the plan")
    return table.frame.to_dicts(), head.detail, table.note


def test_a_service_shortfall_from_capped_points_alone_is_said_so():
    rows, detail, note = capped_case(0.95)
    assert [r["segment"] for r in rows] == ["Y"]  # X: (0.995 x 3 + 0.99 x 10) / 13 = 0.9912
    y = rows[0]
    assert y["kept"] == "no: service (capped points)"
    assert abs(y["expected_service"] - (0.5 * 7 + 0.95 * 10) / 17) < 1e-12
    assert abs(y["demand_at_capped_points"] - 7 / 17) < 1e-12
    assert abs(y["service_elsewhere"] - 0.95) < 1e-12
    assert detail == "not kept: Y (capped points alone)"
    assert "Capped points" in note
    # A tiny point may hold the Poisson level of its mean above its bound (policy.tiny_bound's
    # floor): the note had said every tiny capped point held one period's upper bound.
    assert (
        "(a tiny series at one period's upper bound, or at the Poisson level of its mean at its "
        "target where that is higher, or a series at the largest demand its order history "
        "shows)" in note
    )


def test_a_service_shortfall_beyond_the_capped_points_stays_a_plain_shortfall():
    rows, detail, _ = capped_case(0.88)
    y = rows[0]
    assert y["kept"] == "no: service"
    assert abs(y["service_elsewhere"] - 0.88) < 1e-12
    assert detail == "not kept: Y"
