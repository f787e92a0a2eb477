"""costs' profit of a segment counts one set of customers, those with a cogs (audit K, session
60, F3): it had added the gross margin of the customers with a cogs but subtracted the cost to
serve of all of them, and divided by the revenue of all (Online Retail's Champions 19.3 % for
22.2 %), while the report's note said both count only the customers with a cogs."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from segchain.report import build_report
from segchain.report.model import Headline

ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,K1,P1,100,10\n"
    "2,2024-01-09,K1,P1,100,10\n"
    "3,2024-01-03,K2,P1,100,10\n"
    "4,2024-01-10,K2,P1,100,10\n"
    "4,2024-01-10,K2,NOCOST,1,1\n"
    "5,2024-01-20,K3,P1,10,10\n"
)
SEGMENTS = "customer_id,segment\nK1,Gold\nK2,Gold\nK3,Bronze\n"


def _run(cli, tmp_path: Path, orders: str, segments: str, items: str | None, *extra: str):  # type: ignore[no-untyped-def]
    (tmp_path / "o.csv").write_text(orders)
    (tmp_path / "s.csv").write_text(segments)
    (tmp_path / "c.toml").write_text("[costs]\ncost_per_order = 50\ncost_per_line = 0\n")
    args = ["costs", "s.csv", "--orders", "o.csv", "--config", "c.toml", "-o", "out.csv"]
    if items is not None:
        (tmp_path / "i.csv").write_text(items)
        args += ["--items", "i.csv"]
    result = cli(*args, *extra)
    assert result.exit_code == 0, result.output
    return pl.read_csv(tmp_path / "out.csv"), result


def test_costs_segment_profit_counts_only_its_customers_with_a_cogs(cli, tmp_path: Path) -> None:
    """By hand: K1 sells 200 x 10 = 2,000 at cogs 200 x 6 = 1,200, 2 orders x 50 = 100 to
    serve: profit 700, 35 % of 2,000. K2's line without a unit cost leaves its margin unknown,
    so neither its 2,001 of revenue nor its 100 of cost counts (the profit read 600, 15.0 %)."""
    table, _ = _run(cli, tmp_path, ORDERS, SEGMENTS, "sku,unit_cost\nP1,6\n")
    gold = table.filter(pl.col("segment") == "Gold").row(0, named=True)
    assert gold["profit"] == pytest.approx(700.0)
    assert gold["profit_share"] == pytest.approx(0.35)
    assert gold["revenue"] == pytest.approx(4001.0)  # every customer's, as reconciled
    assert gold["cost_to_serve"] == pytest.approx(200.0)
    assert gold["costed_revenue"] == pytest.approx(2000.0)
    assert gold["cogs"] == pytest.approx(1200.0)
    assert gold["gross_margin"] == pytest.approx(gold["costed_revenue"] - gold["cogs"])


def test_costs_say_the_customers_and_revenue_left_out_of_profit(cli, tmp_path: Path) -> None:
    _, result = _run(cli, tmp_path, ORDERS, SEGMENTS, "sku,unit_cost\nP1,6\n")
    said = " ".join(result.stderr.split())
    assert (
        "1 customer without a cogs (revenue 2,001.00, 48.8% of revenue 4,101.00) is left out of "
        "gross_margin, profit and profit_share"
    ) in said


def test_costs_without_unit_costs_leave_profit_and_costed_revenue_empty(
    cli, tmp_path: Path
) -> None:
    table, result = _run(cli, tmp_path, ORDERS, SEGMENTS, None)
    assert table["costed_revenue"].is_null().all()
    assert table["profit"].is_null().all()
    assert "left out of gross_margin, profit" not in " ".join(result.stderr.split())


def _random_chain(seed: int) -> tuple[str, str, str, dict[str, str], dict[str, float]]:
    """Orders, segments and items of 30 customers in 3 segments, some buying a sku without a
    unit cost; with each customer's segment and each sku's cost for the recomputation."""
    rng = random.Random(seed)
    cost = {"A": 3.0, "B": 7.5, "C": 1.25}
    segment_of = {f"c{i:02d}": rng.choice(["S1", "S2", "S3"]) for i in range(30)}
    rows, order = [], 0
    for cust in segment_of:
        for _ in range(rng.randint(1, 4)):
            order += 1
            for sku in rng.sample(["A", "B", "C", "Z"], rng.randint(1, 2)):
                if sku == "Z" and rng.random() < 0.6:
                    sku = "A"
                q, p = rng.randint(1, 20), rng.choice([5, 10, 12.5])
                rows.append(f"{order},2024-02-{rng.randint(1, 28):02d},{cust},{sku},{q},{p}")
    orders = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "\n".join(rows) + "\n"
    segments = "customer_id,segment\n" + "".join(f"{c},{s}\n" for c, s in segment_of.items())
    items = "sku,unit_cost\n" + "".join(f"{k},{v}\n" for k, v in cost.items())
    return orders, segments, items, segment_of, cost


def test_costs_segment_profit_matches_a_recomputation_line_by_line(cli, tmp_path: Path) -> None:
    """Plain Python over the order lines: a customer with any line of sku Z (no unit cost) is
    left out of the profit; every other customer's profit is revenue - cogs - 50 a distinct
    order; a segment's share is over its counted customers' revenue."""
    orders, segments, items, segment_of, cost = _random_chain(7)
    table, _ = _run(cli, tmp_path, orders, segments, items)
    revenue: dict[str, float] = {}
    cogs: dict[str, float] = {}
    orders_of: dict[str, set[str]] = {}
    uncosted: set[str] = set()
    for line in orders.splitlines()[1:]:
        oid, _, cust, sku, q, p = line.split(",")
        revenue[cust] = revenue.get(cust, 0.0) + float(q) * float(p)
        orders_of.setdefault(cust, set()).add(oid)
        if sku in cost:
            cogs[cust] = cogs.get(cust, 0.0) + float(q) * cost[sku]
        else:
            uncosted.add(cust)
    assert uncosted and len(uncosted) < len(segment_of)  # the case of the finding
    for seg in ("S1", "S2", "S3"):
        counted = [c for c, s in segment_of.items() if s == seg and c not in uncosted]
        rev = sum(revenue[c] for c in counted)
        profit = sum(revenue[c] - cogs[c] - 50 * len(orders_of[c]) for c in counted)
        row = table.filter(pl.col("segment") == seg).row(0, named=True)
        assert row["costed_revenue"] == pytest.approx(rev)
        assert row["gross_margin"] == pytest.approx(rev - sum(cogs[c] for c in counted))
        assert row["profit"] == pytest.approx(profit)
        assert row["profit_share"] == pytest.approx(profit / rev)


def test_report_profit_headline_is_a_share_of_the_revenue_it_counts() -> None:
    """The repro's table: profit 700 + (-10) = 690 over the 2,000 + 100 of revenue of the
    customers with a cogs is 32.9 % (it read 14.4 % of all 4,101)."""
    seg = pl.DataFrame(
        {
            "segment": ["Gold", "Bronze"],
            "customers": [2, 1],
            "revenue": [4001.0, 100.0],
            "costed_revenue": [2000.0, 100.0],
            "cogs": [1200.0, 60.0],
            "gross_margin": [800.0, 40.0],
            "order_handling": [200.0, 50.0],
            "cost_to_serve": [200.0, 50.0],
            "profit": [700.0, -10.0],
            "profit_share": [0.35, -0.1],
            "costs_missing": ["cogs (1 customer)", None],
            "period_days": [19, 19],
        }
    )
    report = build_report({"costs": seg})
    section = next(s for s in report.sections if s.key == "costs")
    heads = {h.label: h for h in section.headlines if isinstance(h, Headline)}
    assert heads["Profit"].value == "690"
    assert heads["Profit"].detail.startswith(
        "32.9% of the revenue of the customers with a cogs, 2,100 of 4,101"
    )
