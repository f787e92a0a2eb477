"""Report, audit R (session 65): the reorder list marks the points forecast under 1 unit a year
that stock warns of (R4); the terminal summary never cuts a figure, whatever its width (R5);
the least profitable segment is the one that earns the least money, with its share too (R6)."""

from __future__ import annotations

import io
import re

import polars as pl
import pytest

from segchain.report import build_report, to_rich
from segchain.report.model import TableBlock

TINY = "forecast under 1 unit a year"


# ---- R4: the reorder list marks the points forecast under 1 unit a year


def tiny_policy(kind: str) -> pl.DataFrame:
    """Weekly points, lead time 7 days and review 7, so the forecast demand over the 14 days is
    2 x the weekly mean. The rule's limit is 4 x (that + order_qty), by hand:
    A: 4 x (20 + 30) = 200, level 100, within, not marked;
    B: 4 x (4 + 6) = 40, level 100, over: 100 / 2 a week = 50 weeks;
    T: 4 x (2e-7 + 2) = 8.0000008, level 48, over, at 1e-7 a week = 5.2e-6 units a year, under
       1 (the demo's sku 00036 at DC-TLS: 48 units ordered, forecast 1e-7 a year);
    U: 0.01 a week = 0.52 a year, under 1, level 5 within its limit 4 x (0.02 + 2) = 8.08: not
       marked (stock names only the high levels)."""
    levels = [100.0, 100.0, 48.0, 5.0]
    return pl.DataFrame(
        {
            "sku": ["A", "B", "T", "U"],
            "policy_type": [kind] * 4,
            "reorder_point": [lv if kind == "sQ" else lv - 1 for lv in levels],
            "order_up_to": [lv if kind == "RS" else None for lv in levels],
            "order_qty": [30.0, 6.0, 2.0, 2.0],
            "mean_demand": [10.0, 2.0, 1e-7, 0.01],
            "period_days": [7.0] * 4,
            "lead_time_days": [7.0] * 4,
            "review_days": [7.0] * 4,
            "on_hand": [0.0] * 4,
            # Largest value first: T (48 x 5 = 240), A (40 x 1), B (30 x 1), U (5 x 1)
            "order_now": [40.0, 30.0, 48.0, 5.0],
            "unit_cost": [1.0, 1.0, 5.0, 1.0],
            "unit_cost_source": ["items"] * 4,
        }
    )


def reorder_list(policy: pl.DataFrame):  # type: ignore[no-untyped-def]
    report = build_report({"policy": policy})
    section = next(s for s in report.sections if s.key == "actions")
    table = next(b for b in section.blocks if isinstance(b, TableBlock))
    head = next(h for h in section.headlines if h.label == "Order now")
    return table, head


@pytest.mark.parametrize("kind", ["sQ", "RS"])
def test_reorder_list_marks_a_point_forecast_under_one_unit_a_year(kind):
    table, head = reorder_list(tiny_policy(kind))
    marks = dict(zip(table.frame["sku"], table.frame["check"], strict=True))
    # Before: T's line was blank ("tiny" points were dropped from the rule without a word).
    assert marks == {"A": "", "B": "level = 50 weeks", "T": TINY, "U": ""}
    assert (
        "2 to check before ordering: 1 at a level over 4 x its forecast demand over lead time, "
        f"review and one order, 1 {TINY}" in head.detail
    )
    assert f"{TINY}: 1 line whose level is years of its forecast demand" in table.note
    assert "check that the sku still sells there before ordering" in table.note


def test_reorder_list_marks_points_forecast_under_one_unit_a_year_alone():
    policy = tiny_policy("RS").filter(pl.col("sku").is_in(["A", "T", "U"]))
    table, head = reorder_list(policy)
    # Before: no check column at all, and the headline said nothing to check.
    assert table.frame["check"].to_list() == [TINY, "", ""]  # T, A, U by value
    assert f"1 to check before ordering: {TINY}" in head.detail
    assert "level over 4 x" not in head.detail


# ---- R5: the terminal summary never cuts a figure


def promise_costs() -> pl.DataFrame:
    """The demo's promise figures, whose gross margin 1,896,990 read "1,896,9…" at 64 columns."""
    margin = [1896990.0, 537559.0, 22479.0, 13019.0]
    cts = [800000.0, 300000.0, 20000.0, 12000.0]
    revenue = [4180299.0, 1164430.0, 48526.0, 28199.0]
    profit = [m - c for m, c in zip(margin, cts, strict=True)]
    return pl.DataFrame(
        {
            "segment": ["Champions", "Loyal", "Potential Loyalist", "Need Attention"],
            "customers": [54, 73, 54, 25],
            "revenue": revenue,
            "gross_margin": margin,
            "cost_to_serve": cts,
            "profit": profit,
            "profit_share": [p / r for p, r in zip(profit, revenue, strict=True)],
            "delivery_promise_cost": [118383.0, 11362.0, -934.0, -849.0],
            "service_promise_cost": [4924.0, 1038.0, 67.0, 34.0],
        }
    )


# Each shown column's figures as the page writes them, by hand (promise cost: delivery +
# service, 118,383 + 4,924 = 123,307 and 11,362 + 1,038 = 12,400).
FIGURES = {
    "gross margin": ["1,896,990", "537,559", "22,479", "13,019"],
    "delivery promise cost": ["118,383", "11,362", "-934", "-849"],
    "service promise cost": ["4,924", "1,038", "67.00", "34.00"],
    "promise cost": ["123,307", "12,400"],
}
# The headlines: profit 1,338,047 (the sum of 1,096,990, 237,559, 2,479 and 1,019) and cost to
# serve 1,132,000.
HEADLINE_FIGURES = ["1,338,047", "1,132,000"]


def terminal_text(tables: dict[str, pl.DataFrame], width: int) -> str:
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    for renderable in to_rich(build_report(tables)):
        console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("width", [36, 40, 48, 56, 64, 72, 80, 100, 160])
def test_terminal_summary_never_cuts_a_figure(width):
    text = terminal_text({"costs": promise_costs()}, width)
    # Before: rich shrank every column evenly ("1,896,9…" at 64 columns, "123,3…").
    assert "…" not in text
    words = text.split()
    flat = " ".join(words)
    for figure in HEADLINE_FIGURES:
        assert figure in words, (width, figure)
    for column, figures in FIGURES.items():
        left_out = re.search(rf"\b{column}\b[^()]*\(left out at this width\)", flat)
        if left_out is None:
            # Shown: every figure whole (not folded over two lines).
            assert all(f in words for f in figures), (width, column)
    # The narrowest keep the segment and its first figure.
    assert "1,896,990" in words and "Champions" in words


def test_terminal_summary_says_which_columns_it_leaves_out():
    text = " ".join(terminal_text({"costs": promise_costs()}, 40).split())
    assert "(left out at this width) in the HTML / Markdown report" in text
    wide = terminal_text({"costs": promise_costs()}, 160)
    assert "left out" not in wide


# ---- R6: the least profitable segment earns the least money


def superstore_costs() -> pl.DataFrame:
    """Superstore with an item master (audit ssi/): Promising, 11 customers and 0.17 % of the
    revenue, loses 6,259 (-156.3 % of its revenue); Loyal loses 155,019 (-19.2 %), 25 times as
    much; Champions earns."""
    revenue = [1200000.0, 808320.001, 4004.428]
    profit = [150000.0, -155018.72208, -6258.506329]
    return pl.DataFrame(
        {
            "segment": ["Champions", "Loyal", "Promising"],
            "customers": [200, 180, 11],
            "revenue": revenue,
            "cost_to_serve": [r - p for r, p in zip(revenue, profit, strict=True)],
            "profit": profit,
            "profit_share": [p / r for p, r in zip(profit, revenue, strict=True)],
        }
    )


def least_profitable(costs: pl.DataFrame):  # type: ignore[no-untyped-def]
    section = next(s for s in build_report({"costs": costs}).sections if s.key == "costs")
    return next(h for h in section.headlines if h.label == "Least profitable segment")


def test_least_profitable_segment_is_the_one_that_loses_the_most_money():
    head = least_profitable(superstore_costs())
    # Before: Promising, by profit as a share of its tiny revenue.
    assert head.value == "Loyal"
    # -155,018.72 / 808,320.00 = -19.18 %
    assert head.detail == "profit -155,019, -19.2% of its revenue"


def test_least_profitable_segment_among_earners_earns_the_least():
    # Every segment earns: the least money is the smallest earner, whatever its share (the demo:
    # New, 54.62 at 17.3 %, not Need Attention at 3.7 % with 1,042).
    costs = pl.DataFrame(
        {
            "segment": ["Need Attention", "New"],
            "revenue": [28199.0, 316.0],
            "cost_to_serve": [27157.0, 261.38],
            "profit": [1042.0, 54.62],
            "profit_share": [1042.0 / 28199.0, 54.62 / 316.0],
        }
    )
    head = least_profitable(costs)
    assert (head.value, head.detail) == ("New", "profit 54.62, 17.3% of its revenue")
