"""Hostile-user findings of session 50, about input checks that were left alone: each test fails
on the code before its fix (guards of a behaviour kept as it was say so).

Known answers are what the tests write into the files themselves (the rows and values of a
coordinate that is no number, the sites of an item master, the columns it lacks)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

FORECAST = "sku,ds,forecast,error_sd\nA,2025-01-06,3,1\nA,2025-01-13,3,1\nB,2025-01-06,3,1\n"


def _refused(result, tmp_path: Path) -> None:
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"


# ---- 1. an order line's lat or lon that is no number ---------------------------------------------
# It became empty without a word ('abc', '52,5N' among decimal points). A coordinate is optional
# and describes the ship-to, not the sale (s49 kept such a line, unlocated): the line is kept,
# and a warning counts the lines with their rows (as --rejects counts them) and values.

ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price,city,country,lat,lon\n"
    "1,2024-01-02,C1,A,2,10,Berlin,DE,52.52,13.40\n"
    "2,2024-01-05,C2,A,1,10,Paris,FR,abc,2.35\n"
    '3,2024-02-02,C2,B,3,5,Paris,FR,"52,5N",2.35\n'
    "4,2024-03-02,C1,B,1,5,Berlin,DE,52.52,13.40\n"
)
LAT_WARNING = (
    "Warning: lat: 2 lines hold no number (row 2: 'abc'; row 3: '52,5N'): kept with lat empty "
    "(segment places a customer without coordinates by postal code, city or country); write "
    "coordinates as numbers in decimal degrees (52.52, -0.1276; no N/S/E/W or degree signs)\n"
)


def test_validate_warns_of_a_coordinate_that_is_no_number_and_keeps_its_line(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    result = cli("validate", "orders.csv", "-o", "out.csv", "--rejects", "rej.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain validate: {LAT_WARNING}" in result.stderr, result.stderr
    assert "read 4 = used 4 + rejected 0" in result.stderr
    out = pl.read_csv(tmp_path / "out.csv")
    assert out["lat"].to_list() == [52.52, None, None, 52.52]
    assert out["quantity"].to_list() == [2.0, 1.0, 3.0, 1.0]


def test_segment_warns_of_a_coordinate_that_is_no_number(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    result = cli("segment", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain segment: {LAT_WARNING}" in result.stderr, result.stderr
    out = pl.read_csv(tmp_path / "out.csv").sort("customer_id")
    # C2's every line lost its latitude: placed by its city, its lines' value all counted.
    assert out.select("customer_id", "geo_precision", "monetary").rows() == [
        ("C1", "exact", 25.0),
        ("C2", "city", 25.0),
    ]


def test_a_coordinate_that_is_no_number_is_named_with_its_file(cli, tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    header = "order_id,order_date,customer_id,sku,quantity,unit_price,lat,lon\n"
    (tmp_path / "exports" / "a.csv").write_text(header + "1,2024-01-05,C1,A,2,10,52.52,13.40\n")
    (tmp_path / "exports" / "b.csv").write_text(
        header + "2,2024-01-06,C2,A,1,10,48.85,2.35\n3,2024-01-07,C2,A,1,10,48.85,2.35 E\n"
    )
    result = cli("validate", "exports", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "Warning: lon: 1 line holds no number (row 2 of exports/b.csv: '2.35 E'): kept with lon "
        "empty"
    ) in result.stderr, result.stderr


def test_blank_and_readable_coordinates_are_not_warned_of(cli, tmp_path: Path) -> None:
    # Guard: a blank coordinate is no value written wrong; a ';' file's decimal commas read.
    (tmp_path / "orders.csv").write_text(
        "order_id;order_date;customer_id;sku;quantity;unit_price;lat;lon\n"
        "1;2024-01-05;C1;A;2;12;50,1105;8,6821\n"
        "2;2024-01-06;C2;A;1;3;;\n"
    )
    result = cli("validate", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "no number" not in result.stderr, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["lat"].to_list() == [50.1105, None]


# ---- 2. costs --items rows at sites where the policy has no stocking point ----------------------
# costs reads one item value per site, the holding rate: a row at a misspelt site (DC-BRLN) gave
# no site its rate, without a word. stock's check of the same item master (s49), reused.

POLICY = "sku,site,inventory_value\nA,DC-BER,100\nA,DC-PAR,50\n"


def _costs_sites(cli, tmp_path: Path, items: str):
    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-05,C1,A,2,10\n2,2024-03-05,C2,A,1,10\n"
    )
    (tmp_path / "seg.csv").write_text("customer_id,segment\nC1,Gold\nC2,Silver\n")
    (tmp_path / "pol.csv").write_text(POLICY)
    (tmp_path / "items.csv").write_text(items)
    return cli(
        "costs", "seg.csv", "--orders", "orders.csv", "--policy", "pol.csv",
        "--items", "items.csv", "-o", "out.csv",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("items", "said"),
    [
        # Some rows at the policy's sites: a note, as stock's.
        (
            "sku,site,unit_cost,holding_rate\nA,,4,0.2\nA,DC-BER,4,0.3\nA,DC-BRLN,4,0.5\n"
            "A,DC-LYON,4,0.5\nB,DC-BRLN,4,0.5\n",
            "segchain costs: --items items.csv: 3 rows at sites where --policy pol.csv has no "
            "stocking point, not used as a site's own holding_rate: 'DC-BRLN' (2 rows), "
            "'DC-LYON' (1 row) (the policy's sites: 'DC-BER', 'DC-PAR')\n",
        ),
        # None: another site code altogether.
        (
            "sku,site,unit_cost,holding_rate\nA,,4,0.2\nA,BER,4,0.3\nA,PAR,4,0.4\n",
            "segchain costs: Warning: --items items.csv names no site of --policy pol.csv (2 "
            "sites in the items: 'BER' (1 row), 'PAR' (1 row); in the policy: 'DC-BER', "
            "'DC-PAR'): its 2 rows with a site are not used as a site's own holding_rate, and "
            "every stocking point takes its sku's holding_rate on a row without a site, or the "
            "default; write the sites as the policy does\n",
        ),
        # A site written in other capitals.
        (
            "sku,site,unit_cost,holding_rate\nA,DC-BER,4,0.3\nA,dc-par,4,0.4\n",
            "segchain costs: Warning: --items items.csv: 1 site where --policy pol.csv has no "
            "stocking point; 1 of them is an id of the policy written in other capitals only: "
            "'dc-par' / 'DC-PAR'; write the ids alike in both tables, if they are the same; else "
            "the rows of such a site give no site its own holding_rate\n",
        ),
    ],
)
def test_costs_says_which_item_rows_name_a_site_the_policy_has_not(
    cli, tmp_path: Path, items: str, said: str
) -> None:
    result = _costs_sites(cli, tmp_path, items)
    assert result.exit_code == 0, result.stderr
    assert said in result.stderr, result.stderr


@pytest.mark.parametrize(
    "items",
    [
        "sku,site,unit_cost,holding_rate\nA,DC-BER,4,0.3\nA,,4,0.2\n",
        # No holding rate: costs reads nothing of an item row per site.
        "sku,site,unit_cost\nA,DC-BRLN,4\n",
    ],
)
def test_costs_says_nothing_of_item_sites_it_reads_or_reads_nothing_of(
    cli, tmp_path: Path, items: str
) -> None:
    # Guard: every row with a site is at a site of the policy, or costs reads none per site.
    result = _costs_sites(cli, tmp_path, items)
    assert result.exit_code == 0, result.stderr
    assert "no stocking point" not in result.stderr, result.stderr
    assert "names no site" not in result.stderr, result.stderr


# ---- 3. a stock on hand of only a header ---------------------------------------------------------
# stock counted every point's stock as 0 ('2 stocking points have no on-hand row (counted as
# 0)') and order_now ordered each one up to its level, exit 0: an export that selected nothing,
# read as an empty warehouse. Refused, as a header-only --items is, before the plan is made.


@pytest.mark.parametrize("header", ["sku,on_hand\n", "sku;on_hand;on_order\n"])
def test_stock_refuses_an_on_hand_table_of_only_a_header(cli, tmp_path: Path, header: str) -> None:
    (tmp_path / "fc.csv").write_text(FORECAST)
    (tmp_path / "oh.csv").write_text(header)
    (tmp_path / "out.csv").write_text("before\n")
    result = cli("stock", "fc.csv", "--on-hand", "oh.csv", "-o", "out.csv")
    _refused(result, tmp_path)
    assert (
        "segchain stock: Error: --on-hand oh.csv: the on-hand table has no rows (only a header)\n"
        "segchain stock:   hint: give --on-hand the stock on hand (one row per sku, and site, "
        "with on_hand; a point with nothing on hand as on_hand 0), or leave --on-hand out to plan "
        "without order_now\n"
    ) in result.stderr, result.stderr
    assert "planning took" not in result.stderr, result.stderr


def test_stock_reads_an_on_hand_of_zero_as_nothing_on_hand(cli, tmp_path: Path) -> None:
    # Guard: stock that is truly nil, written as the hint says, is planned as before.
    (tmp_path / "fc.csv").write_text(FORECAST)
    (tmp_path / "oh.csv").write_text("sku,on_hand\nA,0\nB,0\n")
    result = cli("stock", "fc.csv", "--on-hand", "oh.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(tmp_path / "out.csv")
    assert out["on_hand"].to_list() == [0.0, 0.0]
    assert (out["order_now"] > 0).all()


# ---- 4. which item values took their defaults, and why ------------------------------------------
# stderr said 'not in --items or with empty values' whatever happened, also of columns the item
# master simply does not have.


@pytest.mark.parametrize(
    ("items", "why"),
    [
        (
            "sku,unit_cost\nA,5\nB,3\n",
            "2 of 2 items used default parameters (--items items.csv has no columns order_cost, "
            "holding_rate, lead_time_days, lead_time_sd_days, moq, pack_size): order_cost = 50",
        ),
        (
            "sku,unit_cost,order_cost,holding_rate,lead_time_days,lead_time_sd_days,moq,pack_size\n"
            "A,5,50,0.2,14,0,,1\nB,3,40,0.2,14,0,2,1\n",
            "1 of 2 items used default parameters (empty moq for 1 item): moq = 0 (each for 1 "
            "item)",
        ),
        (
            "sku,unit_cost,moq\nA,5,\n",
            "2 of 2 items used default parameters (1 item not in --items items.csv; --items "
            "items.csv has no columns order_cost, holding_rate, lead_time_days, "
            "lead_time_sd_days, pack_size; empty moq for 1 item): ",
        ),
        (
            # A forecast without sites reads the sku's row without a site: B has none.
            "sku,site,unit_cost,order_cost,holding_rate,lead_time_days,lead_time_sd_days,moq,"
            "pack_size\nA,,5,50,0.2,14,0,1,1\nB,DC-BER,3,40,0.2,14,0,2,1\n",
            "1 of 2 items used default parameters (1 item only at sites in --items items.csv, "
            "where the forecast has no sites and reads its row without a site): no unit_cost",
        ),
    ],
)
def test_stock_says_why_items_took_default_parameters(
    cli, tmp_path: Path, items: str, why: str
) -> None:
    (tmp_path / "fc.csv").write_text(FORECAST)
    (tmp_path / "items.csv").write_text(items)
    result = cli("stock", "fc.csv", "--items", "items.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain stock: {why}" in result.stderr, result.stderr
    assert "or with empty values" not in result.stderr


# ---- 5. customers placed by city or country although their postal code is known -----------------
# segment said 'located 2 of 2 customers (exact 0, postal 0, city 2, country 0)' and not that a
# postal-code table (--geo) would place them by their codes.

POSTAL_ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price,postal_code,city,country\n"
    "1,2024-01-02,C1,A,2,10,10115,Berlin,DE\n"
    "2,2024-01-05,C2,A,1,10,75001,Paris,FR\n"
    "3,2024-02-02,C3,B,3,5,99999,Nowhere Town,FR\n"
)
POSTAL_HINT = (
    "segchain segment:   3 customers with a postal code were not placed by it (city 2, country "
    "1): no postal-code table was given; to place them by postal code, give --geo FILE: a table "
    "of postal codes with their latitude, longitude (and country), or the GeoNames postal dump\n"
)


def test_segment_hints_at_geo_when_postal_codes_are_not_used(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(POSTAL_ORDERS)
    result = cli("segment", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert POSTAL_HINT in result.stderr, result.stderr
    assert result.stderr.count("--geo FILE") == 1
    out = pl.read_csv(tmp_path / "out.csv").sort("customer_id")
    assert out["geo_precision"].to_list() == ["city", "city", "country"]


def test_segment_gives_no_geo_hint_with_a_postal_table(cli, tmp_path: Path) -> None:
    # Guard: with --geo the codes are looked up; nothing to hint at.
    (tmp_path / "orders.csv").write_text(POSTAL_ORDERS)
    (tmp_path / "geo.csv").write_text("postal_code,lat,lon,country\n10115,52.53,13.38,DE\n")
    result = cli("segment", "orders.csv", "--geo", "geo.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "not placed by it" not in result.stderr, result.stderr
    out = pl.read_csv(tmp_path / "out.csv").sort("customer_id")
    assert out["geo_precision"].to_list() == ["postal", "city", "country"]


def test_network_hints_at_geo_when_it_places_customers_by_city(cli, tmp_path: Path) -> None:
    (tmp_path / "seg.csv").write_text(
        "customer_id,segment,quantity,postal_code,city,country\n"
        "C1,A,10,10115,Berlin,DE\nC2,B,5,75001,Paris,FR\n"
    )
    (tmp_path / "sites.csv").write_text("site_id,lat,lon\nS1,50.1,8.7\n")
    result = cli("network", "seg.csv", "--sites", "sites.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain network:   2 customers with a postal code were not placed by it (city 2): no "
        "postal-code table was given; to place them by postal code, give --geo FILE"
    ) in result.stderr, result.stderr
