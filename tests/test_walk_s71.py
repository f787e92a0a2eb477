"""A new user's walk through the whole chain on The Complete Journey and CDNOW (session 71): the
messages that named no cause or no input to give, each checked on a small export made here."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl

from segchain.cli.stock_summary import plan_cover

WEEKS = 13
START = dt.date(2024, 1, 1)  # a Monday


def _forecast(path: Path, rows: dict[str, tuple[float, float]]) -> None:
    """A forecast of ``sku -> (units a week, error_sd)`` over WEEKS weeks."""
    lines = ["sku,ds,forecast,error_sd"]
    for week in range(WEEKS):
        ds = (START + dt.timedelta(weeks=week)).isoformat()
        lines += [f"{sku},{ds},{mean},{sd}" for sku, (mean, sd) in rows.items()]
    path.write_text("\n".join(lines) + "\n")


def _said(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.stderr.split())


# ---- stock's cover warning names what the cover is made of -------------------------------


def test_stock_cover_warning_names_the_orders_that_hold_it(cli, tmp_path: Path) -> None:
    """One sku of 10 a week, a costly order (order_cost 400) on goods of 1 a unit held at 25 % a
    year: the textbook EOQ, sqrt(2 D S / h), is sqrt(2 x 521.8 x 400 / 0.25) = 1,292.2 units,
    129 weeks of demand, so half an order is about 65 weeks against 8 days of lead time and
    review. The warning said "check the order history, service targets and order quantities"
    without saying which held the stock (The Complete Journey on item defaults: 11.7 of 12.2
    weeks were orders)."""
    _forecast(tmp_path / "f.csv", {"A": (10.0, 1.0)})
    (tmp_path / "i.csv").write_text(
        "sku,unit_cost,order_cost,holding_rate,lead_time_days\nA,1.0,400,0.25,7\n"
    )
    result = cli("stock", "f.csv", "--items", "i.csv", "-o", "p.csv")
    assert result.exit_code == 0, result.output
    policy = pl.read_csv(tmp_path / "p.csv")
    eoq = math.sqrt(2 * 10.0 * 365.25 / 7 * 400 / 0.25)
    assert abs(policy["eoq"][0] - eoq) < 1e-6  # the plan is the textbook's
    safety = max(float(policy["safety_stock"][0]), 0.0)
    above = float(policy["avg_inventory"][0]) - safety
    said = _said(result)
    assert (
        f"{above / 10:,.1f} weeks of it are the stock orders bring (half an order on average; "
        f"the median stocking point orders {math.ceil(eoq) / 10:,.0f} weeks of its demand at a "
        f"time), {safety / 10:,.1f} safety stock: check the order quantities (order_cost and "
        "holding_rate of --items, moq, pack_size) of the points that hold the most before "
        "ordering"
    ) in said


def _policy(rows: list[tuple[float, float, float, float, float]]) -> pl.DataFrame:
    """Stocking points (avg_inventory, mean_demand a week, safety_stock, order_qty, value),
    weekly, 13 days of lead time and 1 of review (2 weeks)."""
    n = len(rows)
    avg, mean, safety, order, value = (list(column) for column in zip(*rows, strict=True))
    return pl.DataFrame(
        {
            "avg_inventory": avg,
            "mean_demand": mean,
            "safety_stock": safety,
            "order_qty": order,
            "inventory_value": value,
            "period_days": [7.0] * n,
            "lead_time_days": [13.0] * n,
            "review_days": [1.0] * n,
        }
    )


def test_plan_cover_warning_points_at_safety_stock_when_it_holds_most() -> None:
    """10 a week holding 190 units, 180 of them safety stock and orders of 20: 19 weeks, over
    4 x 2; 18 of them safety stock, 1 what orders bring (half an order of 2 weeks)."""
    _, warning = plan_cover(_policy([(190.0, 10.0, 180.0, 20.0, 190.0)]))
    assert warning is not None
    assert warning.endswith(
        "(2.0 weeks): 1.0 weeks of it are the stock orders bring (half an order on average; the "
        "median stocking point orders 2 weeks of its demand at a time), 18.0 safety stock: check "
        "the order history and service targets of the points that hold the most before ordering"
    )


def test_plan_cover_warning_leaves_out_slow_points_that_hold_nothing() -> None:
    """A point forecast nothing holds nothing beside one holding 100 weeks of orders: "1
    stocking point forecast under 1 unit a year holds 0% of the inventory value (0.00 of
    ...)" named as a cause what held none of the stock."""
    _, warning = plan_cover(
        _policy([(0.0, 0.0, 0.0, 1.0, 0.0), (1000.0, 10.0, 0.0, 2000.0, 1000.0)])
    )
    assert warning is not None
    assert "under 1 unit a year" not in warning
    assert "(2.0 weeks): 100.0 weeks of it are the stock orders bring" in warning


# ---- costs and the report name the inputs that add the costs left out ---------------------


def _orders(path: Path) -> None:
    """Two customers, one sku, no geography: an order a week each for 8 weeks."""
    lines = ["order_id,order_date,customer_id,sku,quantity,unit_price"]
    for week in range(8):
        day = (START + dt.timedelta(weeks=week)).isoformat()
        lines += [f"A{week},{day},C1,X,2,3.0", f"B{week},{day},C2,X,1,3.0"]
    path.write_text("\n".join(lines) + "\n")


def test_costs_without_network_names_what_it_leaves_out_and_what_adds_it(
    cli, tmp_path: Path
) -> None:
    """Orders without geography, the demo's handling rates: order_handling is costed,
    transport and warehouse_fixed cannot be (no network run: nothing to place customers by).
    stderr said nothing of them; costs_missing alone named them."""
    _orders(tmp_path / "o.csv")
    (tmp_path / "segchain.toml").write_text(
        "[costs]\ncost_per_order = 8.0\ncost_per_line = 1.2\ncost_per_return = 6.0\n"
    )
    assert cli("segment", "o.csv", "-o", "s.csv").exit_code == 0
    result = cli("costs", "s.csv", "--orders", "o.csv", "-o", "c.csv")
    assert result.exit_code == 0, result.output
    costs = pl.read_csv(tmp_path / "c.csv")
    # 16 orders and 16 lines: 16 x 8 + 16 x 1.2, the whole cost to serve costed.
    assert abs(costs["order_handling"].sum() - (16 * 8.0 + 16 * 1.2)) < 1e-9
    assert costs["transport"].is_null().all() and costs["warehouse_fixed"].is_null().all()
    said = _said(result)
    assert (
        "Warning: cost_to_serve leaves out transport (no assignments); warehouse_fixed (needs "
        "both assignments and sites); inventory_carrying (no policy), empty in every row: it "
        "sums order_handling, returns_handling alone, so it is below the whole cost; to add "
        "them, give --assignments (segchain network's output) for transport; --assignments and "
        "--sites (segchain network's output and --sites-out) for warehouse_fixed; --policy "
        "(segchain stock's output) for inventory_carrying; network places each customer by the "
        "orders' lat, lon, postal code, city or country (map the one the export has when "
        "segmenting)"
    ) in said
    page = tmp_path / "r.md"
    assert cli("report", "c.csv", "-o", str(page)).exit_code == 0
    text = " ".join(page.read_text().split())
    assert (
        "Left out of cost to serve for lack of input: transport, warehouse\\_fixed, "
        "inventory\\_carrying (every segment)."
    ) in text
    assert (
        "To add them, give segchain costs --assignments (segchain network's output) for "
        "transport; --assignments and --sites (segchain network's output and --sites-out) for "
        "warehouse\\_fixed; --policy (segchain stock's output) for inventory\\_carrying; network "
        "places each customer by the orders' lat, lon, postal code, city or country (map the "
        "one the export has when segmenting)."
    ) in text


def test_costs_with_every_part_costed_or_none_says_nothing_of_parts_left_out(
    cli, tmp_path: Path
) -> None:
    """Orders and segments alone cost nothing: that run has its own warning, not this one."""
    _orders(tmp_path / "o.csv")
    assert cli("segment", "o.csv", "-o", "s.csv").exit_code == 0
    result = cli("costs", "s.csv", "--orders", "o.csv", "-o", "c.csv")
    assert result.exit_code == 0, result.output
    said = _said(result)
    assert "no cost could be computed" in said
    assert "leaves out" not in said
