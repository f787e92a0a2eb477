"""Session 66 (audit C): costs' figures where the audit found them wrong.

C1: a line of quantity 0 (validate's ``zero_quantity``: no goods moved) of a sku without a unit
cost emptied its customer's cogs, so the customer fell out of gross margin and profit, and was
counted as an uncosted product line (The Complete Journey: 73 % of the revenue left out).

C2: with --items and no input of any part of the cost to serve, a segment's profit was its gross
margin (the unknown cost to serve summed as 0) while every customer's was empty, without a word.

C5: a stocking point at a site the item master has no row for, of a sku with rows at other sites
only, was carried at another site's holding_rate (the first row's), not at the default stock
planned it with; the figure depended on the rows' order.

C3: a site's fixed_cost had no stated period; network's hint for an ``annual_fixed_cost`` header
said to rename it, "its values in the units the README gives", and costs then set a year's cost
against a 1,458-day history. network weighs fixed_cost against the transport of the demand it is
given (units over the orders' span) and costs against the revenue of period_days: the period is
that span, now said in costs' source text and the report. Since session 68 a yearly header is
read as a year's cost, taken over that span by both (tests/test_fixed_cost_period_s68.py).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

SEGMENTS = "customer_id,segment\nA,S1\nB,S1\n"
# B's order 3 carries a text line: quantity 0, price 0, a sku the item master does not know.
ORDERS_C1 = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-02,A,P1,10,5.0\n"
    "2,2024-02-01,A,P1,4,5.0\n"
    "3,2024-01-05,B,P1,8,5.0\n"
    "3,2024-01-05,B,TEXT,0,0\n"
    "4,2024-03-01,B,P1,2,5.0\n"
)
ITEMS_C1 = "sku,unit_cost\nP1,3.0\n"


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


OUT = "c.csv"


def run_costs(cli, tmp_path: Path, orders: str, *args: str, segments: str = SEGMENTS):  # type: ignore[no-untyped-def]
    """Run costs on ``segments`` and ``orders``, writing OUT."""
    seg, lines = write(tmp_path, "seg.csv", segments), write(tmp_path, "o.csv", orders)
    return cli("costs", seg, "--orders", lines, *args, "-o", str(tmp_path / OUT))


def costs_table(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, orders: str, *args: str, segments: str = SEGMENTS
):
    """Run costs (``run_costs``); the result and the table written."""
    result = run_costs(cli, tmp_path, orders, *args, segments=segments)
    assert result.exit_code == 0, result.stderr
    table = pl.read_csv(tmp_path / OUT, schema_overrides={"customer_id": pl.String})
    return result, table


# C1 -------------------------------------------------------------------------------------------


def test_costs_zero_quantity_line_of_an_uncosted_sku_keeps_the_customers_cogs(
    cli, tmp_path: Path
) -> None:
    items = write(tmp_path, "items.csv", ITEMS_C1)
    result, table = costs_table(cli, tmp_path, ORDERS_C1, "--items", items, "--by", "customer")
    got = {r["customer_id"]: r for r in table.iter_rows(named=True)}
    # By hand: B bought 8 + 2 = 10 units of P1 at 5.0 (revenue 50) costing 3.0 each (30); the
    # TEXT line moved nothing, so costs nothing whatever its sku.
    assert got["B"]["revenue"] == 50.0
    assert got["B"]["cogs"] == 30.0
    assert got["B"]["gross_margin"] == 20.0
    assert "cogs" not in (got["B"]["costs_missing"] or "")
    # A: 14 units, revenue 70, cogs 42.
    assert (got["A"]["cogs"], got["A"]["gross_margin"]) == (42.0, 28.0)
    # No line of goods lacks a cost: nothing said of uncosted lines or customers left out.
    assert "without unit_cost" not in result.stderr
    assert "without a cogs" not in result.stderr


def test_costs_zero_quantity_line_counts_in_the_segments_margin(cli, tmp_path: Path) -> None:
    items = write(tmp_path, "items.csv", ITEMS_C1)
    _, table = costs_table(cli, tmp_path, ORDERS_C1, "--items", items)
    row = table.row(0, named=True)
    # Both customers costed: 24 units x 3.0 = 72 of revenue 120.
    assert (row["revenue"], row["costed_revenue"], row["cogs"]) == (120.0, 120.0, 72.0)
    assert row["gross_margin"] == 48.0


def test_costs_a_line_of_goods_without_a_unit_cost_still_empties_the_cogs(
    cli, tmp_path: Path
) -> None:
    # The same TEXT sku sold with a unit: its cost is unknown, so B's cogs is too.
    orders = ORDERS_C1.replace("B,TEXT,0,0", "B,TEXT,1,2")
    items = write(tmp_path, "items.csv", ITEMS_C1)
    result, table = costs_table(cli, tmp_path, orders, "--items", items, "--by", "customer")
    got = {r["customer_id"]: r for r in table.iter_rows(named=True)}
    assert got["B"]["cogs"] is None and got["A"]["cogs"] == 42.0
    assert "1 product line has a sku without unit_cost" in result.stderr


# C2 -------------------------------------------------------------------------------------------

# C1's orders without the text line: A 14 units (revenue 70, cogs 42), B 10 (50, 30).
ORDERS = ORDERS_C1.replace("3,2024-01-05,B,TEXT,0,0\n", "")


def test_costs_without_a_cost_input_leave_segment_profit_empty_as_each_customers(
    cli, tmp_path: Path
) -> None:
    items = write(tmp_path, "items.csv", ITEMS_C1)
    result, seg = costs_table(cli, tmp_path, ORDERS, "--items", items)
    _, cust = costs_table(cli, tmp_path, ORDERS, "--items", items, "--by", "customer")
    row = seg.row(0, named=True)
    # The margin is known (120 - 72), the cost to serve is not, so neither is the profit.
    assert row["gross_margin"] == 48.0
    assert (row["cost_to_serve"], row["profit"], row["profit_share"]) == (None, None, None)
    assert cust["profit"].null_count() == cust.height == 2
    # One rule for both tables: the segment's sums are its customers'.
    for column in ("revenue", "cogs", "gross_margin"):
        assert row[column] == cust[column].sum()
    said = " ".join(result.stderr.split())
    assert "no part of the cost to serve could be computed" in said
    assert "cost_to_serve, profit and profit_share are empty in every row" in said
    assert "give at least one of --assignments (and --sites), --policy, or cost rates" in said


def test_costs_with_one_cost_input_sum_customer_profits_to_the_segments(
    cli, tmp_path: Path
) -> None:
    config = write(tmp_path, "c.toml", "[costs]\ncost_per_order = 1.0\n")
    items = write(tmp_path, "items.csv", ITEMS_C1)
    result, seg = costs_table(cli, tmp_path, ORDERS, "--items", items, "--config", config)
    _, cust = costs_table(
        cli, tmp_path, ORDERS, "--items", items, "--config", config, "--by", "customer"
    )
    # By hand: A 2 orders, margin 28, profit 26; B 2 orders, margin 20, profit 18.
    got = {r["customer_id"]: r["profit"] for r in cust.iter_rows(named=True)}
    assert got == {"A": 26.0, "B": 18.0}
    assert seg.row(0, named=True)["profit"] == 44.0
    assert "no part of the cost to serve" not in result.stderr


# C5 -------------------------------------------------------------------------------------------

# A at DC-A, B at DC-B; 2024-01-01 to 2024-12-31: 366 days.
ORDERS_C5 = (
    "order_id,order_date,customer_id,sku,quantity,unit_price,site\n"
    "1,2024-01-01,A,P1,10,5.0,DC-A\n"
    "2,2024-12-31,B,P1,10,5.0,DC-B\n"
)
SEGMENTS_C5 = "customer_id,segment\nA,S1\nB,S2\n"
YEARS = 366 / 365.25


def carried(cli, tmp_path: Path, items: str, policy: str, *args: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Each segment's inventory_carrying."""
    items_file, policy_file = write(tmp_path, "items.csv", items), write(tmp_path, "p.csv", policy)
    _, table = costs_table(
        cli, tmp_path, ORDERS_C5, "--items", items_file, "--policy", policy_file, *args,
        segments=SEGMENTS_C5,
    )  # fmt: skip
    return dict(zip(table["segment"], table["inventory_carrying"], strict=True))


def test_costs_point_at_a_site_without_an_item_row_takes_the_default_rate(
    cli, tmp_path: Path
) -> None:
    # A per-plant item master (SAP MARC): P1 has a row at DC-A only, none without a site.
    got = carried(
        cli,
        tmp_path,
        "sku,site,unit_cost,holding_rate\nP1,DC-A,2.0,0.9\n",
        "sku,site,inventory_value\nP1,DC-A,100\nP1,DC-B,100\n",
    )
    assert got["S1"] == pytest.approx(100 * 0.9 * YEARS)  # DC-A's own rate
    assert got["S2"] == pytest.approx(100 * 0.25 * YEARS)  # stock's default, as stock planned


def test_costs_point_at_a_site_without_an_item_row_takes_the_configs_rate(
    cli, tmp_path: Path
) -> None:
    config = write(tmp_path, "c.toml", "[costs]\nholding_rate = 0.4\n")
    got = carried(
        cli,
        tmp_path,
        "sku,site,unit_cost,holding_rate\nP1,DC-A,2.0,0.9\n",
        "sku,site,inventory_value\nP1,DC-A,100\nP1,DC-B,100\n",
        "--config",
        config,
    )
    assert got["S2"] == pytest.approx(100 * 0.4 * YEARS)


@pytest.mark.parametrize(
    "items",
    [
        "sku,site,unit_cost,holding_rate\nP1,DC-A,2.0,0.9\nP1,DC-C,2.0,0.1\n",
        "sku,site,unit_cost,holding_rate\nP1,DC-C,2.0,0.1\nP1,DC-A,2.0,0.9\n",
    ],
)
def test_costs_rate_of_a_site_without_a_row_is_independent_of_row_order(
    cli, tmp_path: Path, items: str
) -> None:
    got = carried(cli, tmp_path, items, "sku,site,inventory_value\nP1,DC-B,100\n")
    assert got["S2"] == pytest.approx(100 * 0.25 * YEARS)


def test_costs_sku_row_without_a_site_still_rates_other_sites(cli, tmp_path: Path) -> None:
    got = carried(
        cli,
        tmp_path,
        "sku,site,unit_cost,holding_rate\nP1,DC-A,2.0,0.9\nP1,,2.0,0.3\n",
        "sku,site,inventory_value\nP1,DC-A,100\nP1,DC-B,100\n",
    )
    assert got == pytest.approx({"S1": 100 * 0.9 * YEARS, "S2": 100 * 0.3 * YEARS})


# C3 -------------------------------------------------------------------------------------------

CUSTOMERS_C3 = "customer_id,segment,demand,lat,lon\nA,S1,10,52.52,13.40\nB,S1,20,48.14,11.58\n"
SITES_C3 = "S1,52.5,13.4,9000,true\nS2,48.1,11.6,8000,false\n"


@pytest.mark.parametrize("header", ["annual_fixed_cost", "fixed_cost_per_year", "yearlyFixedCost"])
def test_network_reads_a_yearly_fixed_cost_and_needs_the_orders_days_to_take_it_over(
    cli, tmp_path: Path, header: str
) -> None:
    # Session 68: a yearly header is read as a year's cost (it was refused with a hint to
    # scale it by hand), taken over the days of the customers' first to last order; a table
    # without them is refused, saying so (tests/test_fixed_cost_period_s68.py: the figures).
    sites = write(tmp_path, "sites.csv", f"site_id,lat,lon,{header},existing\n" + SITES_C3)
    cust = write(tmp_path, "cust.csv", CUSTOMERS_C3)
    result = cli("network", cust, "--sites", sites, "--cost-per-unit-km", "1", "-o", "a.csv")
    assert result.exit_code == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert "fixed costs per year are taken over the days of the orders the demand comes " in said
    assert "the customers have no first_order, last_order" in said
    assert "rename it fixed_cost" not in said
    assert "Traceback" not in result.stderr and not (tmp_path / "a.csv").exists()


def test_network_hint_for_a_fixed_cost_of_no_period_says_nothing_of_years(
    cli, tmp_path: Path
) -> None:
    sites = write(tmp_path, "sites.csv", "site_id,lat,lon,fixed_cost_eur,existing\n" + SITES_C3)
    cust = write(tmp_path, "cust.csv", CUSTOMERS_C3)
    result = cli("network", cust, "--sites", sites, "--cost-per-unit-km", "1", "-o", "a.csv")
    assert result.exit_code == 1
    assert "hint: rename it fixed_cost," in result.stderr
    assert "365.25" not in result.stderr


def test_costs_yearly_fixed_cost_and_the_source_of_warehouse_fixed(cli, tmp_path: Path) -> None:
    lanes = write(
        tmp_path,
        "a.csv",
        "customer_id,segment,site_id,share,demand,transport_cost\nA,S1,S1,1,14,7\nB,S1,S1,1,10,5\n",
    )
    # Session 68: a yearly header is a year's cost, taken over the orders' 60 days (it was
    # refused with a hint to multiply it by hand).
    yearly = write(tmp_path, "s.csv", "site_id,annual_fixed_cost,existing\nS1,100,true\n")
    result, table = costs_table(
        cli, tmp_path, ORDERS, "--assignments", lanes, "--sites", yearly, "--verbose"
    )
    assert table["warehouse_fixed"].sum() == pytest.approx(100 * 60 / 365.25)
    said = " ".join(result.stderr.replace("│", " ").split())
    assert "annual_fixed_cost (a year's) x period_days 60 / 365.25" in said
    # A fixed_cost: --verbose says over which days the fixed cost is taken.
    sites = write(tmp_path, "s.csv", "site_id,fixed_cost,existing\nS1,100,true\n")
    result, table = costs_table(
        cli, tmp_path, ORDERS, "--assignments", lanes, "--sites", sites, "--verbose"
    )
    assert table["warehouse_fixed"].sum() == 100.0  # as given, over the orders' 60 days
    said = " ".join(result.stderr.replace("│", " ").split())
    assert "fixed_cost, its cost over the orders' period_days (not a year)" in said
