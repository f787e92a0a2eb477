"""Hostile inputs (session 23): network sites and stock inputs that gave tracebacks, hangs or
silent nonsense get one message naming column, key and value, exit 1, and write nothing."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,10\nC2,A,48.9,2.3,5\n"
FORECAST = "sku,ds,forecast,error_sd\nP1,2025-01-06,10,2\nP1,2025-01-13,10,2\n"
SITES = "site_id,lat,lon,fixed_cost,capacity\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def refused(result, tmp_path: Path, *messages: str) -> None:
    """Exit 1, every message on stderr, no traceback, and the existing output untouched."""
    assert result.exit_code == 1, result.stderr
    for message in messages:
        assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"
    assert not (tmp_path / "sites_out.csv").exists()


def network(cli, tmp_path: Path, sites: str, customers: str = SEGMENTS):
    (tmp_path / "out.csv").write_text("before\n")
    return cli(
        "network",
        write(tmp_path, "seg.csv", customers),
        "--sites",
        write(tmp_path, "sites.csv", SITES + sites),
        "-o",
        str(tmp_path / "out.csv"),
        "--sites-out",
        str(tmp_path / "sites_out.csv"),
    )


def stock(cli, tmp_path: Path, forecast: str = FORECAST, *args: str):
    (tmp_path / "out.csv").write_text("before\n")
    fc = write(tmp_path, "fc.csv", forecast)
    return cli("stock", fc, *args, "-o", str(tmp_path / "out.csv"))


# ---- 1. a site's fixed cost: finite and at most 1e15 (scipy's ValueError, HiGHS status 15) ---


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("inf", "inf"),
        ("nan", "nan"),
        # Beyond a double's range: named as written (it was 'got inf', not in the file).
        ("1e400", "1e400 (too large to be read as a number: beyond 1.8e308)"),
        ("1e308", "1e+308"),
        ("1e16", "1e+16"),
    ],
)
def test_network_non_finite_or_huge_fixed_cost_is_a_data_error(
    cli, tmp_path: Path, value: str, shown: str
) -> None:
    result = network(cli, tmp_path, f"S1,50,8,{value},1000\nS2,49,2,100,1000\n")
    message = (
        f"sites.csv: fixed_cost must be a finite number >= 0 up to 1e+15, got {shown} for site_id"
    )
    refused(result, tmp_path, message + " 'S1'")


def test_network_fixed_cost_of_1e15_is_solved(cli, tmp_path: Path) -> None:
    # At the bound HiGHS still proves the optimum: the cheap site S2 serves both customers.
    result = network(cli, tmp_path, "S1,50,8,1e15,1000\nS2,49,2,100,1000\n")
    assert result.exit_code == 0, result.stderr
    assert "opened 1 of 2 sites" in result.stderr and "fixed 100.00" in result.stderr


@pytest.mark.parametrize("value", ["1e20", "1e300"])
def test_network_customer_demand_beyond_1e15_is_a_data_error(cli, tmp_path: Path, value) -> None:
    """A customer's demand of 1e20 beside 10 and 5: HiGHS failed with 'status 15 unknown'."""
    customers = SEGMENTS + f"C3,B,52.5,13.4,{value}\n"
    result = network(cli, tmp_path, "S1,48.1,11.6,100,\nS2,50.1,8.7,100,\n", customers)
    refused(result, tmp_path, "seg.csv: quantity above 1e+15 for customer_id 'C3'")


def test_network_customer_demand_of_1e15_is_solved(cli, tmp_path: Path) -> None:
    # Berlin's 1e15 units go to the nearer site (S2, Frankfurt: 422 km against Munich's 506).
    customers = SEGMENTS + "C3,B,52.5,13.4,1e15\n"
    result = network(cli, tmp_path, "S1,48.1,11.6,100,\nS2,50.1,8.7,100,\n", customers)
    assert result.exit_code == 0, result.stderr
    rows = pl.read_csv(tmp_path / "out.csv").filter(pl.col("customer_id") == "C3")
    assert rows["site_id"].to_list() == ["S2"]


def test_network_infeasible_after_aggregation_names_max_points(cli, tmp_path: Path) -> None:
    """Two customers of 10 and 5 units fit two sites of 12 each, one per site; --max-points 1
    makes them one point of 15 that no site holds alone. The message blamed only the capacities
    and single sourcing, and its hint (raise capacities, --allow-split) missed the cause (s38:
    200 sample customers, --max-points 1 to 20)."""
    (tmp_path / "out.csv").write_text("before\n")
    result = cli(
        "network", write(tmp_path, "seg.csv", SEGMENTS),
        "--sites", write(tmp_path, "sites.csv", SITES + "S1,50,8,100,12\nS2,49,2,100,12\n"),
        "--max-points", "1", "-o", str(tmp_path / "out.csv"),
    )  # fmt: skip
    refused(
        result,
        tmp_path,
        "no plan serves every customer under the capacities, single sourcing and the "
        "aggregation of 2 customers into 1 demand point (--max-points)",
        "raise --max-points",
    )
    # Without aggregation the same sites serve both.
    assert cli(
        "network", str(tmp_path / "seg.csv"), "--sites", str(tmp_path / "sites.csv"),
        "-o", str(tmp_path / "ok.csv"),
    ).exit_code == 0  # fmt: skip


# ---- 2. item master values bounded like the options (1e200 days hung at 100 % CPU) ----------


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("lead_time_days", "1e200", ">= 0 up to 3660, got 1e+200"),
        ("lead_time_days", "1e20", ">= 0 up to 3660, got 1e+20"),
        ("lead_time_sd_days", "3661", ">= 0 up to 3660, got 3661.0"),
        ("lead_time_days", "inf", ">= 0 up to 3660, got inf"),
        ("holding_rate", "1e9", "> 0 up to 100, got 1000000000.0"),
        ("order_cost", "1e300", ">= 0 up to 1e+15, got 1e+300"),
        ("moq", "1e16", ">= 0 up to 1e+15, got 1e+16"),
        ("pack_size", "1e200", "> 0 up to 1e+15, got 1e+200"),
        ("unit_cost", "1e300", "> 0 up to 1e+15, got 1e+300"),
    ],
)
def test_stock_item_values_beyond_their_bounds_are_data_errors(
    cli, tmp_path: Path, column: str, value: str, rule: str
) -> None:
    items = write(tmp_path, "items.csv", f"sku,{column}\nP1,{value}\n")
    result = stock(cli, tmp_path, FORECAST, "--items", items)
    refused(result, tmp_path, f"items.csv: {column} must be a finite number {rule} for sku 'P1'")


@pytest.mark.parametrize("sku", ["", "   "], ids=["empty", "blank"])
def test_stock_item_without_a_sku_is_a_data_error(cli, tmp_path: Path, sku: str) -> None:
    """An item master row whose sku was emptied (a lookup pasted as values, a trimmed cell)
    matched no stocking point and was dropped without a word: its sku planned with defaults,
    said only as 'used default parameters' (s38). As a blank sku of --on-hand, it is refused."""
    items = write(tmp_path, "items.csv", f"sku,lead_time_days\nP2,7\n{sku},30\n")
    result = stock(cli, tmp_path, FORECAST, "--items", items)
    refused(result, tmp_path, "items.csv: 1 row with a blank sku (row 2)")


def test_stock_a_holding_cost_that_underflows_is_a_data_error(cli, tmp_path: Path) -> None:
    """unit_cost 1e-300 x holding_rate 1e-300 is 0 a unit-year: the EOQ was infinite and the plan
    held infinite stock, exit 0. Each value passes its own bound; their product means nothing."""
    items = write(tmp_path, "items.csv", "sku,unit_cost,holding_rate\nP1,1e-300,1e-300\n")
    result = stock(cli, tmp_path, FORECAST, "--items", items)
    refused(result, tmp_path, "items.csv: the economic order quantity of 1 stocking point is above")
    assert "divide by zero" not in result.stderr


def test_stock_item_lead_time_at_the_bound_is_planned(cli, tmp_path: Path) -> None:
    items = write(tmp_path, "items.csv", "sku,lead_time_days\nP1,3660\n")
    result = stock(cli, tmp_path, FORECAST, "--items", items)
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("on_hand\nP1,1e300", "on_hand must be a finite number up to 1e+15 in size, got 1e+300"),
        ("on_hand\nP1,inf", "on_hand must be a finite number up to 1e+15 in size, got inf"),
        ("on_hand\nP1,-1e300", "on_hand must be a finite number up to 1e+15 in size, got -1e+300"),
        (
            "on_hand,backorders\nP1,5,nan",
            "backorders must be a finite number up to 1e+15 in size, got nan",
        ),
        # It was read as 0 on order.
        ("on_hand,on_order\nP1,5,abc", "column 'on_order' holds 1 value that is not a number"),
    ],
)
def test_stock_on_hand_beyond_its_bounds_is_a_data_error(
    cli, tmp_path: Path, table: str, message: str
) -> None:
    on_hand = write(tmp_path, "on_hand.csv", f"sku,{table}\n")
    result = stock(cli, tmp_path, FORECAST, "--on-hand", on_hand)
    refused(result, tmp_path, "on_hand.csv: " + message)


def _added_up(cli, tmp_path: Path, table: str) -> str:
    """Stock with the on-hand ``table`` of two rows of P1 (5 and 3 units), which are added up:
    the note stderr gives on them."""
    on_hand = write(tmp_path, "on_hand.csv", table)
    result = stock(cli, tmp_path, FORECAST, "--on-hand", on_hand)
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["on_hand"].to_list() == [8.0]
    prefix = f"--on-hand {on_hand}: 2 on-hand rows added up into 1 stocking point (sku 'P1'): "
    said = " ".join(result.stderr.split())
    assert prefix in said, said
    return said.split(prefix, 1)[1]


def test_stock_on_hand_rows_of_one_point_are_added_up_and_said(cli, tmp_path: Path) -> None:
    """Several on-hand rows of one stocking point (bins, lots; or an export appended twice) are
    added up, as stock in two bins is: that was silent, and a doubled export doubled the stock
    and cut the orders without a word (s38)."""
    note = _added_up(cli, tmp_path, "sku,on_hand\nP1,5\nP1,3\n")
    assert note.startswith(
        "stock in several bins or lots; if the export holds some rows twice, remove them"
    )


def test_stock_on_hand_rows_of_several_sites_for_a_forecast_without_sites_say_so(
    cli, tmp_path: Path
) -> None:
    """The README's stock example on the sample (a forecast by segment and sku, sample_data's
    on_hand.csv of two warehouses) warned "154 on-hand rows added up into 77 stocking points
    ...: stock in several bins or lots; if the export holds some rows twice, remove them": the
    rows are the sites' stock, which a forecast without sites plans as one point per sku, and
    removing rows would lose stock (s42 walk-through). The stock is added up as before."""
    note = _added_up(cli, tmp_path, "sku,site,on_hand\nP1,DC-A,5\nP1,DC-B,3\n")
    assert note.startswith(
        "the forecast has no site, so each sku's stock at its sites (up to 2) is one point's; "
        "forecast by site (forecast --assignments, or --by site,segment,sku) to plan each "
        "site's stock"
    )
    assert "bins or lots" not in note


def test_stock_orders_matching_no_stocking_point_are_said(cli, tmp_path: Path) -> None:
    """--orders whose skus are none of the forecast's (another export, renamed skus): no point
    had a history, and the one warning that says so (slow or lumpy points planned from the fit
    alone, 'give --orders') was left out because --orders was given (s38)."""
    orders = write(
        tmp_path,
        "orders.csv",
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-12-02,C1,X9,3,2\n2,2024-12-16,C2,X9,1,2\n",
    )
    result = stock(cli, tmp_path, FORECAST, "--orders", orders)
    assert result.exit_code == 0, result.stderr
    assert (
        f"--orders {orders} matches no stocking point of FORECAST {tmp_path / 'fc.csv'} "
        "(1 sku in the orders: 'X9'; in the forecast: 'P1'): no point has an order history"
    ) in result.stderr


# ---- 3. a forecast that is not a number is refused, not replaced by mean_demand --------------


def test_stock_forecast_text_is_not_replaced_by_mean_demand(cli, tmp_path: Path) -> None:
    text = "sku,ds,forecast,error_sd,mean_demand\nP1,2025-01-06,abc,2,40\nP1,2025-01-13,abc,2,40\n"
    refused(
        stock(cli, tmp_path, text),
        tmp_path,
        "fc.csv: column 'forecast' holds 2 values that are not numbers ('abc')",
    )


def test_stock_empty_forecast_still_takes_mean_demand(cli, tmp_path: Path) -> None:
    # An empty forecast is the series' recent mean: 40 a week, as if the forecast said 40.
    empty = "sku,ds,forecast,error_sd,mean_demand\nP1,2025-01-06,,2,40\nP1,2025-01-13,,2,40\n"
    result = stock(cli, tmp_path, empty)
    assert result.exit_code == 0, result.stderr
    planned = (tmp_path / "out.csv").read_text()
    # Said, not silent: a forecast column blanked in a spreadsheet was planned from the recent
    # means without a word.
    assert (
        "fc.csv: 2 periods of 1 series have an empty forecast, planned at the series' "
        "mean_demand (its recent mean), e.g. 'P1' at 2025-01-06; fill in the forecast to plan "
        "from it" in result.stderr
    )
    full = "sku,ds,forecast,error_sd\nP1,2025-01-06,40,2\nP1,2025-01-13,40,2\n"
    again = stock(cli, tmp_path, full)
    assert again.exit_code == 0
    assert "empty forecast" not in again.stderr
    assert (tmp_path / "out.csv").read_text() == planned


# ---- 4. a blank site_id ------------------------------------------------------------------


def test_network_blank_site_id_is_a_data_error(cli, tmp_path: Path) -> None:
    result = network(cli, tmp_path, "S1,50,8,100,1000\n,49,2,100,1000\n")
    refused(result, tmp_path, "sites.csv: 1 row with a blank site_id (row 2)")


# ---- 5. a NaN capacity (an empty one is unlimited) ---------------------------------------


def test_network_nan_capacity_is_a_data_error(cli, tmp_path: Path) -> None:
    result = network(cli, tmp_path, "S1,50,8,100,nan\n")
    refused(
        result,
        tmp_path,
        "sites.csv: capacity must be a number >= 0 (empty or inf: unlimited), got nan for "
        "site_id 'S1'",
    )


@pytest.mark.parametrize("capacity", ["", "inf", "1e15", "1e300"])
def test_network_unlimited_or_huge_capacity_serves_everyone(
    cli, tmp_path: Path, capacity: str
) -> None:
    # S2 holds 1 unit of 15: S1 must serve both customers. A capacity of 1e15 was called
    # infeasible by HiGHS (coefficients 1e15 against demands of 5 and 10).
    result = network(cli, tmp_path, f"S1,50,8,100,{capacity}\nS2,49,2,100,1\n")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out.csv").read_text().count(",S1,") == 2


# ---- 6. the on-hand column the message asks for ------------------------------------------


def test_stock_on_hand_without_its_column_names_on_hand(cli, tmp_path: Path) -> None:
    on_hand = write(tmp_path, "on_hand.csv", "sku,on_hand_qty\nP1,5\n")
    result = stock(cli, tmp_path, FORECAST, "--on-hand", on_hand)
    refused(
        result, tmp_path, "on_hand.csv: missing required column on_hand; found sku, on_hand_qty"
    )


# ---- 7. NaN is called not a finite number -------------------------------------------------


def test_stock_nan_forecast_is_not_called_above_the_bound(cli, tmp_path: Path) -> None:
    text = "sku,ds,forecast,error_sd\nP1,2025-01-06,nan,2\nP1,2025-01-13,10,2\n"
    result = stock(cli, tmp_path, text)
    refused(
        result,
        tmp_path,
        "fc.csv: forecast must be a finite number >= 0 up to 1e+15, got nan for unique_id@ds "
        "'P1@2025-01-06'",
    )
    assert "above" not in result.stderr


@pytest.mark.parametrize(
    ("customers", "sites", "message"),
    [
        (
            "customer_id,segment,lat,lon,quantity\nC1,A,nan,8.7,10\n",
            "S1,50,8,100,1000\n",
            "seg.csv: lat must be a finite number, got nan for customer_id 'C1'",
        ),
        (
            SEGMENTS,
            "S1,50,nan,100,1000\n",
            "sites.csv: lon must be a finite number, got nan for site_id",
        ),
    ],
)
def test_network_nan_coordinates_are_not_called_swapped(
    cli, tmp_path: Path, customers: str, sites: str, message: str
) -> None:
    result = network(cli, tmp_path, sites, customers)
    refused(result, tmp_path, message)
    assert "swapped" not in result.stderr


# ---- found on the way: values within every bound that hung the level search ---------------


def test_stock_largest_demand_and_lead_time_are_planned(cli, tmp_path: Path) -> None:
    # 1e15 a week for 3660 days + a nightly review: 1e15 * 3661 / 7 = 5.23e17 units, beyond
    # 2**53, where the bisection's midpoint rounded to an end and the search never stopped.
    big = "sku,ds,forecast,error_sd\nP1,2025-01-06,1e15,1e15\nP1,2025-01-13,1e15,1e15\n"
    result = stock(cli, tmp_path, big, "--lead-time-days", "3660")
    assert result.exit_code == 0, result.stderr
    row = pl.read_csv(tmp_path / "out.csv").row(0, named=True)
    assert row["mean_demand_lt"] == pytest.approx(1e15 * 3661 / 7)
    assert row["reorder_point"] > row["mean_demand_lt"]
    assert row["expected_fill_rate"] == pytest.approx(0.95, abs=1e-6)


# ---- s38 minor messages: each names its input, its rows and how to fix it --------------------


def test_network_capacity_below_demand_names_the_sites_file(cli, tmp_path: Path) -> None:
    # 'total capacity 8 is below total demand 15' did not say which file held the capacities,
    # while network's other messages about --sites name it.
    result = network(cli, tmp_path, "S1,50,8,0,4\nS2,49,2,0,4\n")
    refused(
        result,
        tmp_path,
        f"Error: --sites {tmp_path / 'sites.csv'}: total capacity 8 is below total demand 15: "
        "short by 7\n",
    )


def test_network_unused_lanes_are_named(cli, tmp_path: Path) -> None:
    # '2 lanes in --costs name a site_id or customer_id not in the inputs' named none of them.
    lanes = "site_id,customer_id,unit_cost\nS1,C1,1\nS1,C2,1\nS9,C1,1\nS1,C9,1\n"
    result = cli(
        "network",
        write(tmp_path, "seg.csv", SEGMENTS),
        "--sites",
        write(tmp_path, "sites.csv", SITES + "S1,50,8,0,\n"),
        "--costs",
        write(tmp_path, "lanes.csv", lanes),
        "-o",
        str(tmp_path / "out.csv"),
    )
    assert result.exit_code == 0, result.stderr
    assert (
        f"2 lanes in --costs {tmp_path / 'lanes.csv'} name a site_id or customer_id not in the "
        "inputs and were not used (site_id@customer_id 'S9@C1', 'S1@C9')"
    ) in result.stderr


def test_stock_items_text_names_the_rows_it_counts(cli, tmp_path: Path) -> None:
    # A per-site item master named its rows 'skus' ('for skus 'P1', 'P1', ... (and 235 more)'
    # on 240 rows): each row is a sku@site.
    items = "sku,site,moq\n" + "".join(f"P{i // 4},S{i % 4},abc\n" for i in range(12))
    result = stock(cli, tmp_path, FORECAST, "--items", write(tmp_path, "items.csv", items))
    refused(
        result,
        tmp_path,
        f"--items {tmp_path / 'items.csv'}: moq is not a number ('abc') for sku@site 'P0@S0', "
        "'P0@S1', 'P0@S2', 'P0@S3', 'P1@S0' (and 7 more)",
    )
