"""Session 66 (audit C): what the report's cost page says when no customer has a profit.

C2: costs run with --items but no input of the cost to serve: the page headlined the segments'
gross margin as their profit, and told the user to give --items, which was given.
C4: the note said every customer's costs lacked what any one lacked (4,372 customers "lack cogs,
transport, warehouse_fixed" where 5 lacked transport and warehouse_fixed).
C3: the page said every cost covers the order history's days beside a site's fixed_cost of no
stated period; it now says the fixed cost is taken as the cost over those days, not a year.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from segchain.report import build_report
from segchain.report.model import Note

STACK = "inventory_carrying, order_handling, returns_handling, transport, warehouse_fixed"


def customers(missing: list[str]) -> pl.DataFrame:
    """A customer costs table without any profit, each row's costs_missing as given."""
    n = len(missing)
    return pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "segment": ["S1"] * n,
            "revenue": [10.0] * n,
            "gross_margin": [None if "cogs" in m else 4.0 for m in missing],
            "cost_to_serve": [None] * n,
            "profit": [None] * n,
            "costs_missing": missing,
        },
        schema_overrides={"gross_margin": pl.Float64, "cost_to_serve": pl.Float64,
                          "profit": pl.Float64},
    )  # fmt: skip


def segments() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["S1"],
            "customers": [4],
            "revenue": [40.0],
            "gross_margin": [None],
            "cost_to_serve": [3.0],
            "profit": [None],
            "costs_missing": ["cogs"],
            "period_days": [365],
        },
        schema_overrides={"gross_margin": pl.Float64, "profit": pl.Float64},
    )


def customer_note(custs: pl.DataFrame) -> str:
    report = build_report({"costs": segments(), "customer_costs": custs})
    section = next(s for s in report.sections if s.key == "costs")
    notes = [b.text for b in section.blocks if isinstance(b, Note)]
    return next(t for t in notes if t.startswith("Least profitable customers"))


def test_report_names_what_every_customer_lacks_and_what_some_lack_with_counts() -> None:
    # 4 customers: all lack cogs, one also transport and warehouse_fixed (unlocated).
    missing = ["cogs", "cogs", "cogs", "cogs, transport, warehouse_fixed"]
    assert customer_note(customers(missing)) == (
        "Least profitable customers: none of the 4 customers in the customer costs has a profit "
        "(every customer's costs lack cogs; transport, warehouse_fixed: 1 customer); run "
        "segchain costs --by customer with --items (unit_cost) so each customer's gross margin, "
        "and so its profit, is known."
    )


def test_report_groups_parts_some_customers_lack_by_their_count() -> None:
    missing = ["cogs, transport", "cogs, transport", "cogs, order_handling", "cogs"]
    note = customer_note(customers(missing))
    assert (
        "(every customer's costs lack cogs; transport: 2 customers; order_handling: 1 customer)"
        in (note)
    )


def test_report_without_any_cost_input_asks_for_one_not_for_items() -> None:
    # Goods costed (cogs known), no part of the cost to serve: --items is no remedy.
    note = customer_note(customers([STACK] * 3))
    assert note == (
        "Least profitable customers: none of the 3 customers in the customer costs has a profit "
        f"(every customer's costs lack {STACK}); run segchain costs --by customer with at least "
        "one of --assignments (and --sites), --policy, or cost rates in the config's [costs] so "
        "each customer's cost to serve, and so its profit, is known."
    )


def test_report_without_cogs_and_cost_asks_for_both() -> None:
    note = customer_note(customers([f"cogs, {STACK}"] * 2))
    assert "with --items (unit_cost) and at least one of --assignments (and --sites)" in note
    assert "gross margin and cost to serve, and so its profit, are known." in note


ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,A,P1,10,5.0\n"
    "2,2024-02-01,B,P1,4,5.0\n"
    "3,2024-03-01,B,P1,2,5.0\n"
)


def test_report_of_costs_with_items_alone_headlines_no_profit(cli, tmp_path: Path) -> None:
    # End to end: costs with --items only, by segment and by customer, then the report.
    (tmp_path / "o.csv").write_text(ORDERS)
    (tmp_path / "seg.csv").write_text("customer_id,segment\nA,S1\nB,S2\n")
    (tmp_path / "items.csv").write_text("sku,unit_cost\nP1,3.0\n")
    base = ("costs", "seg.csv", "--orders", "o.csv", "--items", "items.csv")
    assert cli(*base, "-o", "c.parquet").exit_code == 0
    assert cli(*base, "--by", "customer", "-o", "cc.parquet").exit_code == 0
    result = cli("report", "c.parquet", "cc.parquet", "-o", "r.md")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "r.md").read_text()
    # By hand: gross margin A 50 - 30 = 20, B 30 - 18 = 12; no profit may be headlined as 32.
    assert "**Profit: –**" in text and "Profit: 32" not in text
    assert "Least profitable segment" not in text
    assert "with --items (unit\\_cost) so" not in text
    assert "with at least one of --assignments" in text


def test_report_says_the_fixed_cost_is_over_the_order_historys_span() -> None:
    fixed = segments().with_columns(pl.lit(54.0).alias("warehouse_fixed"))
    section = next(s for s in build_report({"costs": fixed}).sections if s.key == "costs")
    assert section.subtitle.endswith(
        "(365 days); inventory carried at its holding rate over the same span; warehouse fixed "
        "cost is the sites' fixed_cost as given, their cost over that span, not a year."
    )
    # No fixed cost costed: nothing said of it.
    section = next(s for s in build_report({"costs": segments()}).sections if s.key == "costs")
    assert "fixed" not in section.subtitle
