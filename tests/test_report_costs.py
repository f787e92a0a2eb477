"""The report's cost-to-serve section: headline numbers, promise costs against margin, least
profitable customers, what it says when inputs lack columns (figures computed by hand here)."""

from __future__ import annotations

import polars as pl
import pytest

from segchain.report import build_report, to_html, to_markdown
from segchain.report.model import Chart, Headline, Note, TableBlock


def costs_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["Lost", "Champions"],  # out of rank order on purpose
            "customers": [3, 2],
            "revenue": [100.0, 1000.0],
            "gross_margin": [40.0, 450.0],
            "order_handling": [30.0, 20.0],
            "returns_handling": [5.0, None],
            "transport": [10.0, 60.0],
            "warehouse_fixed": [15.0, 70.0],
            "inventory_carrying": [2.0, 8.0],
            "cost_to_serve": [62.0, 158.0],
            "profit": [-22.0, 292.0],
            "profit_share": [-0.22, 0.292],
            "delivery_promise_cost": [0.0, 45.0],
            "service_promise_cost": [-1.0, 9.0],
            "costs_missing": ["", "returns_handling"],
            "period_days": [365, 365],
        }
    )


def customer_frame(n: int = 12) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [f"c{i:02d}" for i in range(n)],
            "segment": ["Lost"] * n,
            "revenue": [10.0] * n,
            "cost_to_serve": [float(i) for i in range(n)],
            "profit": [5.0 - i for i in range(n)],
        }
    )


SEGMENTS = pl.DataFrame(
    {"customer_id": ["a", "b"], "segment": ["Champions", "Lost"], "segment_rank": [1, 2]}
)


def _section(tables):  # type: ignore[no-untyped-def]
    report = build_report(tables)
    found = [s for s in report.sections if s.key == "costs"]
    return found[0] if found else None, report


def test_costs_headlines_profit_cost_to_serve_and_least_profitable_segment() -> None:
    section, _ = _section({"costs": costs_frame()})
    heads = {h.label: h for h in section.headlines}
    assert heads["Profit"] == Headline("Profit", "270", "24.5% of revenue 1,100")  # 270 / 1100
    assert heads["Cost to serve"].detail == "20.0% of revenue"  # 220 / 1100
    assert heads["Least profitable segment"].value == "Lost"


def test_costs_promise_table_puts_promise_cost_against_margin() -> None:
    section, _ = _section({"costs": costs_frame(), "segments": SEGMENTS})
    table = next(b for b in section.blocks if isinstance(b, TableBlock) and "promise" in b.title)
    rows = {r["segment"]: r for r in table.frame.to_dicts()}
    assert rows["Champions"]["promise_cost"] == pytest.approx(54.0)
    assert rows["Champions"]["share_of_margin"] == pytest.approx(54.0 / 450.0)
    assert rows["Lost"]["share_of_margin"] == pytest.approx(-1.0 / 40.0)
    assert table.frame["segment"].to_list() == ["Champions", "Lost"]  # by segment_rank


def test_costs_least_profitable_customers_lowest_profit_first_ten_at_most() -> None:
    section, _ = _section({"costs": costs_frame(), "customer_costs": customer_frame()})
    table = next(b for b in section.blocks if isinstance(b, TableBlock) and "least" in b.title)
    assert table.title == "The 10 least profitable customers"
    assert table.frame["customer_id"].to_list()[:3] == ["c11", "c10", "c09"]
    assert table.frame["profit"].to_list()[0] == -6.0


def test_costs_customer_costs_without_profit_say_why_instead_of_an_empty_table() -> None:
    # costs --by customer without --items: every customer's gross margin, so profit, is empty;
    # the report showed a heading "The 0 least profitable customers" over an empty table.
    customers = customer_frame(3).with_columns(
        pl.lit(None, pl.Float64).alias("profit"),
        pl.lit("cogs, order_handling").alias("costs_missing"),
    )
    section, _ = _section({"costs": costs_frame(), "customer_costs": customers})
    assert not any(isinstance(b, TableBlock) and "least" in b.title for b in section.blocks)
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    assert (
        "Least profitable customers: none of the 3 customers in the customer costs has a profit "
        "(every customer's costs lack cogs, order_handling); run segchain costs --by customer "
        "with --items (unit_cost) so each customer's gross margin, and so its profit, is known."
    ) in notes


def test_costs_section_names_costs_left_out_and_draws_profit_and_stack() -> None:
    section, report = _section({"costs": costs_frame()})
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    assert "Left out of cost to serve for lack of input: returns_handling (Champions)." in notes
    charts = [b.key for b in section.blocks if isinstance(b, Chart)]
    assert charts == ["profit", "cost_stack"]
    html = to_html(report)
    assert "Cost stack by segment" in html and html.count("<svg") >= 2
    assert to_html(report) == html  # deterministic


def test_costs_section_skipped_without_the_table_or_its_columns() -> None:
    _, report = _section({"segments": SEGMENTS})
    assert any(s.startswith("Cost to serve: no costs table") for s in report.skipped)
    _, report = _section({"costs": costs_frame().drop("profit")})
    assert "Cost to serve: the costs table lacks profit." in report.skipped


def test_costs_section_in_markdown_without_promises() -> None:
    frame = costs_frame().drop("delivery_promise_cost", "service_promise_cost")
    section, report = _section({"costs": frame})
    assert not any(isinstance(b, TableBlock) and "promise" in b.title for b in section.blocks)
    text, _ = to_markdown(report)
    assert "## Cost to serve and profit" in text


def test_costs_one_customer_is_not_counted_in_the_plural() -> None:
    # 'The 1 least profitable customers' and 'none of the 1 customers ... (their costs lack'.
    section, _ = _section({"costs": costs_frame(), "customer_costs": customer_frame(1)})
    titles = [b.title for b in section.blocks if isinstance(b, TableBlock)]
    assert "The least profitable customer" in titles
    customers = customer_frame(1).with_columns(
        pl.lit(None, pl.Float64).alias("profit"), pl.lit("cogs").alias("costs_missing")
    )
    section, _ = _section({"costs": costs_frame(), "customer_costs": customers})
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    assert (
        "Least profitable customers: the 1 customer in the customer costs has no profit (its "
        "costs lack cogs); run segchain costs --by customer with --items (unit_cost) so each "
        "customer's gross margin, and so its profit, is known."
    ) in notes


def test_costs_left_out_are_said_per_cost_and_cogs_apart_from_cost_to_serve() -> None:
    # Online Retail without --items or [costs] rates: each segment's costs_missing as costs
    # writes it. The note joined them as written ("cogs, order_handling, returns_handling;
    # cogs, order_handling, returns_handling, warehouse_fixed (42 customers); ..."), segments
    # unnamed, and said cogs, no part of cost to serve, was left out of it.
    seg = costs_frame().with_columns(
        pl.Series(
            "costs_missing",
            [
                "cogs, order_handling, returns_handling, warehouse_fixed (42 customers)",
                "cogs, order_handling, returns_handling, warehouse_fixed (1 customer)",
            ],
        )
    )
    section, _ = _section({"costs": seg})
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    left_out = [n for n in notes if n.startswith("Left out of cost to serve")]
    assert left_out == [
        "Left out of cost to serve for lack of input: order_handling, returns_handling (every "
        "segment); warehouse_fixed (Champions: 1 customer; Lost: 42 customers)."
    ]
    assert (
        "Gross margin and profit are unknown: no customer has a cogs (no unit cost: give "
        "segchain costs --items with a unit_cost)."
    ) in notes


def test_costs_cogs_missing_for_some_customers_names_where() -> None:
    seg = costs_frame().with_columns(pl.Series("costs_missing", ["cogs (3 customers)", None]))
    section, _ = _section({"costs": seg})
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    assert not any(n.startswith("Left out of cost to serve") for n in notes)
    assert (
        "Gross margin, profit and profit share count only the customers with a cogs (their "
        "revenue less their cogs and cost to serve); without one (no unit cost in the items): "
        "Lost: 3 customers."
    ) in notes


@pytest.mark.parametrize(
    ("sources", "said"),
    [
        (["price", "price", "items"], "of its 3 stocking points, 2 at the mean selling price "
         "(above cost)."),
        (["price", "default", "default"], "of its 3 stocking points, 1 at the mean selling price "
         "(above cost) and 2 at 1 a unit (no cost: a count of units)."),
    ],
)  # fmt: skip
def test_costs_say_inventory_carried_not_at_cost(sources: list[str], said: str) -> None:
    # Superstore without an item master: stock values its points at the mean selling price,
    # and cost to serve (59.9 % of revenue) is mostly carrying on that value; the inventory
    # section said "at price", the cost section carried it without a word.
    policy = pl.DataFrame(
        {"sku": ["A", "B", "C"], "inventory_value": [1.0, 2.0, 3.0], "unit_cost_source": sources}
    )
    section, _ = _section({"costs": costs_frame(), "policy": policy})
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    assert (
        "Inventory carrying is on the policy's inventory value, which is not at cost: "
        + said
        + " Give stock --items with each sku's unit_cost, then run costs again."
    ) in notes


def test_costs_say_nothing_of_inventory_carried_at_cost() -> None:
    policy = pl.DataFrame(
        {"sku": ["A", "B"], "inventory_value": [1.0, 2.0], "unit_cost_source": ["items"] * 2}
    )
    section, _ = _section({"costs": costs_frame(), "policy": policy})
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    assert not any(n.startswith("Inventory carrying is") for n in notes)


def test_costs_profit_headline_without_any_profit_gives_no_share_of_revenue() -> None:
    # costs without --items: every profit empty. The headline said "– of revenue 2,326,534"
    # (Superstore), a share of nothing.
    seg = costs_frame().with_columns(pl.lit(None, pl.Float64).alias("profit"))
    section, _ = _section({"costs": seg})
    head = next(h for h in section.headlines if h.label == "Profit")
    assert head.value == "–"
    assert head.detail == "revenue 1,100; 2 segments' profit unknown, left out"


def test_promise_table_says_what_a_negative_promise_cost_means() -> None:
    # Lost: delivery 0 + service -1 = -1; Champions 45 + 9 = 54; together 53.
    section, _ = _section({"costs": costs_frame()})
    table = next(b for b in section.blocks if getattr(b, "title", "").startswith("What each"))
    assert table.note.endswith(
        "A negative cost (Lost): the segment is served for less with the promises than without "
        "them (sites chosen for other segments' promises nearer to it, or a service target "
        "below the uniform one); over all segments the promises cost 53.00."
    ), table.note
