"""Hostile-user findings of session 49, about how numbers, side tables and coordinates are read:
each test fails on the code before its fix (guards of a behaviour kept as it was say so).

Known answers are the numbers the tests write into the files themselves (``0.250`` is a quarter,
``1 234,50`` is 1234.5), or what a plan must be for them (10 units at 0.25 a unit cost 2.5)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

FORECAST = "sku,ds,forecast,error_sd\nA,2025-01-06,3,1\nA,2025-01-13,3,1\nB,2025-01-06,3,1\n"
SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,10\nC2,B,48.9,2.4,5\n"


def _refused(result, tmp_path: Path) -> None:
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"


# ---- 1. a separator after a whole part of 0 is a decimal, never a thousands group ----------------
# A ';' table's 0.250 (or a ',' table's "0,250") was read as 250: the other values of the column
# (1.500) fit a thousands group too, and nothing else in the file showed the separator.


@pytest.mark.parametrize(
    ("delimiter", "values", "expected"),
    [
        (";", ["0.250", "1.500", "0.125"], [0.25, 1.5, 0.125]),
        (";", ["-0.250", "1.500", ".125"], [-0.25, 1.5, 0.125]),
        (",", ['"0,250"', '"1,500"', '"0,125"'], [0.25, 1.5, 0.125]),
        (",", ['"-0,250"', '"1,500"', '",125"'], [-0.25, 1.5, 0.125]),
    ],
)
def test_orders_quantity_with_a_zero_whole_part_reads_as_a_decimal(
    cli, tmp_path: Path, delimiter: str, values: list[str], expected: list[float]
) -> None:
    d = delimiter
    lines = [d.join(["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"])]
    for i, v in enumerate(values, 1):
        lines.append(d.join([str(i), f"2024-01-0{i}", "C1", "A", v, "12"]))
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n")
    result = cli("validate", "orders.csv", "-o", "out.csv", "--returns", "keep")
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(tmp_path / "out.csv")
    assert out["quantity"].to_list() == expected
    assert out["amount"].to_list() == [12 * q for q in expected]


def test_orders_zero_whole_part_among_decimal_commas_is_rejected_not_read_as_thousands(
    cli, tmp_path: Path
) -> None:
    # The column uses a decimal comma (2,5); its 0.125 is written the other way: rejected, as
    # '1.234,56' among decimal points is, not read as 125.
    (tmp_path / "orders.csv").write_text(
        "order_id;order_date;customer_id;sku;quantity;unit_price\n"
        "1;2024-01-05;C1;A;2,5;12\n"
        "2;2024-01-06;C2;A;1,5;3\n"
        "3;2024-01-07;C1;B;0.125;4\n"
    )
    result = cli("validate", "orders.csv", "-o", "out.csv", "--rejects", "rejects.csv")
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["quantity"].to_list() == [2.5, 1.5]
    rejects = pl.read_csv(tmp_path / "rejects.csv", infer_schema=False)
    assert rejects.select("row", "quantity", "reason").rows() == [("3", "0.125", "bad_quantity")]
    assert "read 3 = used 2 + rejected 1 (bad_quantity 1)" in result.stderr


def test_orders_three_decimal_values_without_a_zero_group_still_follow_the_file(
    cli, tmp_path: Path
) -> None:
    # Guard: a ';' export's 1.500 beside no other evidence is still the thousands the
    # delimiter's default reads (a German export's quantity 1.500 is 1,500 units).
    (tmp_path / "orders.csv").write_text(
        "order_id;order_date;customer_id;sku;quantity;unit_price\n"
        "1;2024-01-05;C1;A;1.500;12\n"
        "2;2024-01-06;C2;A;2.000;3\n"
    )
    result = cli("validate", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["quantity"].to_list() == [1500.0, 2000.0]


def test_stock_items_unit_cost_with_a_zero_whole_part_reads_as_a_decimal(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "fc.csv").write_text(FORECAST)
    (tmp_path / "items.csv").write_text("sku;unit_cost\nA;0.250\nB;1.500\n")
    result = cli("stock", "fc.csv", "--items", "items.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(tmp_path / "out.csv").sort("sku")
    assert out["unit_cost"].to_list() == [0.25, 1.5]
    assert "decimal comma in: unit_cost" not in result.stderr


def test_network_sites_fixed_cost_with_a_zero_whole_part_reads_as_a_decimal(
    cli, tmp_path: Path
) -> None:
    # ',' table, the value quoted: "0,500" is half a unit of money, not 500.
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text('site_id,lat,lon,fixed_cost\nS1,50,8,"0,500"\n')
    result = cli(
        "network", "seg.csv", "--sites", "sites.csv", "-o", "out.csv", "--sites-out", "so.csv"
    )
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "so.csv")["fixed_cost"].to_list() == [0.5]


def test_network_lanes_unit_cost_with_a_zero_whole_part_reads_as_a_decimal(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text("site_id,lat,lon,fixed_cost\nS1,50,8,100\n")
    (tmp_path / "lanes.csv").write_text("site_id;customer_id;unit_cost\nS1;C1;0.250\nS1;C2;1.500\n")
    result = cli(
        "network", "seg.csv", "--sites", "sites.csv", "--costs", "lanes.csv", "-o", "out.csv"
    )
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(tmp_path / "out.csv").sort("customer_id")
    # C1 buys 10 units at 0.25 a unit, C2 5 at 1.5.
    assert out["transport_cost"].to_list() == [2.5, 7.5]


# ---- 5. digits grouped by spaces or apostrophes: only in groups of three -------------------------
# The order export's number rule dropped every space and apostrophe: '12 5' (two numbers in one
# cell, or a typo) was read as 125, '3 4' as 34, "12'34" as 1234, without a word.


@pytest.mark.parametrize("value", ["12 5", "3 4", "12'34", "1234 567", "1 2345", "1\u00a023,5"])
def test_orders_digits_split_by_a_space_not_in_groups_of_three_are_rejected(
    cli, tmp_path: Path, value: str
) -> None:
    (tmp_path / "orders.csv").write_text(
        "order_id;order_date;customer_id;sku;quantity;unit_price\n"
        "1;2024-01-05;C1;A;2;1 234,50\n"
        f"2;2024-01-06;C2;A;{value};3\n"
    )
    result = cli("validate", "orders.csv", "-o", "out.csv", "--rejects", "rejects.csv")
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["order_id"].to_list() == [1]
    rejects = pl.read_csv(tmp_path / "rejects.csv", infer_schema=False)
    assert rejects.select("row", "quantity", "reason").rows() == [("2", value, "bad_quantity")]
    assert "read 2 = used 1 + rejected 1 (bad_quantity 1)" in result.stderr


@pytest.mark.parametrize(
    ("value", "other", "expected"),
    [
        ("1 234,50", "3,50", 1234.5),
        ("1\u00a0234\u00a0567,25", "3,50", 1234567.25),
        ("1\u202f234,50", "3,50", 1234.5),  # French: a narrow no-break space
        ("1'234.50", "3.50", 1234.5),
        ("-1 234,50", "3,50", -1234.5),
        ("1 234,50 €", "3,50 €", 1234.5),
        ("(1 234,50)", "3,50", -1234.5),
        ("1 234,50-", "3,50", -1234.5),
        (" 12,50 ", "3,50", 12.5),  # spaces around a number are no grouping
    ],
)
def test_orders_digits_grouped_by_spaces_in_threes_are_still_read(
    cli, tmp_path: Path, value: str, other: str, expected: float
) -> None:
    # Guard: grouping by spaces, non-breaking ones and apostrophes stays read, signs and all.
    (tmp_path / "orders.csv").write_text(
        "order_id;order_date;customer_id;sku;quantity;unit_price\n"
        f"1;2024-01-05;C1;A;{value};1\n"
        f"2;2024-01-06;C2;A;{other};1\n",
        encoding="utf-8",
    )
    result = cli("validate", "orders.csv", "-o", "out.csv", "--returns", "keep")
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["quantity"].to_list() == [expected, 3.5]


# ---- 2. --items rows at a site the forecast has no stocking point at ----------------------------
# join_items left such rows out without a word: a misspelt site code (DC-BRLN) planned that
# site's skus with the defaults (14 days' lead time, no unit cost), as unknown skus are said.

SITE_FORECAST = (
    "sku,site,ds,forecast,error_sd\n"
    "A,DC-BER,2025-01-06,3,1\nA,DC-BER,2025-01-13,3,1\n"
    "A,DC-PAR,2025-01-06,3,1\nA,DC-PAR,2025-01-13,3,1\n"
    "B,DC-BER,2025-01-06,3,1\nB,DC-BER,2025-01-13,3,1\n"
)


def _stock_sites(cli, tmp_path: Path, items: str, forecast: str = SITE_FORECAST):
    (tmp_path / "fc.csv").write_text(forecast)
    (tmp_path / "items.csv").write_text(items)
    return cli("stock", "fc.csv", "--items", "items.csv", "-o", "out.csv")


def test_stock_says_which_item_rows_name_a_site_the_forecast_has_not(cli, tmp_path: Path) -> None:
    result = _stock_sites(
        cli,
        tmp_path,
        "sku,site,unit_cost,lead_time_days\n"
        "A,DC-BER,10,7\nA,DC-BRLN,11,3\nB,DC-BRLN,12,3\nA,DC-LYON,13,3\n",
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain stock: --items items.csv: 3 rows at sites where FORECAST fc.csv has no stocking "
        "point, not used: 'DC-BRLN' (2 rows), 'DC-LYON' (1 row) (the forecast's sites: "
        "'DC-BER', 'DC-PAR')\n"
    ) in result.stderr, result.stderr
    # The plan is as before: A at DC-BER from its row, the others on the defaults (unit cost
    # 1, 14 days).
    out = pl.read_csv(tmp_path / "out.csv").sort("sku", "site")
    assert out.select("sku", "site", "unit_cost", "lead_time_days").rows() == [
        ("A", "DC-BER", 10.0, 7.0),
        ("A", "DC-PAR", 1.0, 14.0),
        ("B", "DC-BER", 1.0, 14.0),
    ]


def test_stock_names_one_unknown_site_in_the_singular(cli, tmp_path: Path) -> None:
    result = _stock_sites(cli, tmp_path, "sku,site,unit_cost\nA,DC-BER,10\nA,DC-BRLN,11\n")
    assert result.exit_code == 0, result.stderr
    assert (
        "--items items.csv: 1 row at a site where FORECAST fc.csv has no stocking point, not "
        "used: 'DC-BRLN' (1 row) (the forecast's sites: 'DC-BER', 'DC-PAR')\n"
    ) in result.stderr, result.stderr


def test_stock_warns_when_no_item_site_is_a_site_of_the_forecast(cli, tmp_path: Path) -> None:
    # Another site code altogether: every row with a site is left out.
    result = _stock_sites(cli, tmp_path, "sku,site,unit_cost\nA,BER,10\nA,PAR,11\nA,,12\n")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain stock: Warning: --items items.csv names no site of FORECAST fc.csv (2 sites in "
        "the items: 'BER' (1 row), 'PAR' (1 row); in the forecast: 'DC-BER', 'DC-PAR'): its 2 "
        "rows with a site are not used, and every stocking point takes its sku's row without a "
        "site, or the default parameters; write the sites as the forecast does\n"
    ) in result.stderr, result.stderr
    assert pl.read_csv(tmp_path / "out.csv").sort("sku", "site")["unit_cost"].to_list() == [
        12.0,
        12.0,
        1.0,
    ]


def test_stock_warns_of_an_item_site_written_in_other_capitals(cli, tmp_path: Path) -> None:
    result = _stock_sites(cli, tmp_path, "sku,site,unit_cost\nA,DC-BER,10\nA,dc-par,11\n")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain stock: Warning: --items items.csv: 1 site where FORECAST fc.csv has no "
        "stocking point; 1 of them is an id of the forecast written in other capitals only: "
        "'dc-par' / 'DC-PAR'; write the ids alike in both tables, if they are the same; else the "
        "rows of such a site are not used, and its skus there take the defaults\n"
    ) in result.stderr, result.stderr


def test_stock_says_nothing_of_item_sites_that_all_have_points(cli, tmp_path: Path) -> None:
    # Guard: rows at the forecast's sites and rows without a site are all used.
    result = _stock_sites(cli, tmp_path, "sku,site,unit_cost\nA,DC-BER,10\nA,,11\n")
    assert result.exit_code == 0, result.stderr
    assert "no stocking point" not in result.stderr, result.stderr
    assert "names no site" not in result.stderr, result.stderr
    out = pl.read_csv(tmp_path / "out.csv").sort("sku", "site")
    assert out["unit_cost"].to_list() == [10.0, 11.0, 1.0]


# ---- 3. an item master of only a header ---------------------------------------------------------
# stock planned every point on the defaults (no unit cost: inventory in units, 14 days' lead
# time), exit 0, while costs refused the same file: an export that selected nothing.


@pytest.mark.parametrize("header", ["sku,unit_cost,lead_time_days\n", "sku;unit_cost\n"])
def test_stock_refuses_an_item_master_of_only_a_header_as_costs_does(
    cli, tmp_path: Path, header: str
) -> None:
    (tmp_path / "fc.csv").write_text(FORECAST)
    (tmp_path / "items.csv").write_text(header)
    (tmp_path / "out.csv").write_text("before\n")
    result = cli("stock", "fc.csv", "--items", "items.csv", "-o", "out.csv")
    _refused(result, tmp_path)
    assert (
        "segchain stock: Error: --items items.csv: the items table has no rows (only a header)\n"
        "segchain stock:   hint: give --items the item master (one row per sku: unit_cost, "
        "lead_time_days, ...), or leave --items out to plan every stocking point with the "
        "default parameters\n"
    ) in result.stderr, result.stderr


def test_costs_refuses_an_item_master_of_only_a_header(cli, tmp_path: Path) -> None:
    # Guard: the message stock now gives is costs' own.
    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n1,2024-01-05,C1,A,2,10\n"
    )
    (tmp_path / "seg.csv").write_text("customer_id,segment\nC1,A\n")
    (tmp_path / "items.csv").write_text("sku,unit_cost\n")
    (tmp_path / "out.csv").write_text("before\n")
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "--items", "items.csv")
    assert result.exit_code == 1, result.stderr
    assert "--items items.csv: the items table has no rows (only a header)" in result.stderr


# ---- 4. a coordinate out of range or no number is named with its row and value -------------------
# 'lat outside [-90, 90] for site_id 'S1'' named no value, and 'column 'lat' holds 1 value that
# is not a number ('abc')' no site (nor customer, nor lane).


def _network_sites(cli, tmp_path: Path, sites: str, segments: str = SEGMENTS):
    (tmp_path / "seg.csv").write_text(segments)
    (tmp_path / "sites.csv").write_text(sites)
    (tmp_path / "out.csv").write_text("before\n")
    return cli("network", "seg.csv", "--sites", "sites.csv", "-o", "out.csv")


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("S1,95.5,13.4", "lat outside [-90, 90]: 95.5 for site_id 'S1' (are lat and lon swapped?)"),
        ("S1,13.4,-190", "lon outside [-180, 180]: -190.0 for site_id 'S1'"),
        ("S1,abc,13.4", "column 'lat' holds 1 value that is not a number: 'abc' for site_id 'S1'"),
        (
            "S1,52.5 N,13.4 E",
            "column 'lat' holds 1 value that is not a number: '52.5 N' for site_id 'S1'; column "
            "'lon' holds 1 value that is not a number: '13.4 E' for site_id 'S1'",
        ),
    ],
)
def test_network_names_a_sites_bad_coordinate_with_its_site_and_value(
    cli, tmp_path: Path, row: str, said: str
) -> None:
    result = _network_sites(cli, tmp_path, f"site_id,lat,lon\nS2,48.8,2.3\n{row}\n")
    _refused(result, tmp_path)
    assert f"segchain network: Error: --sites sites.csv: {said}" in result.stderr, result.stderr


def test_network_names_a_customers_bad_coordinate_with_its_customer(cli, tmp_path: Path) -> None:
    segments = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,10\nC2,B,x48.9,2.4,5\n"
    result = _network_sites(cli, tmp_path, "site_id,lat,lon\nS1,50,8\n", segments)
    _refused(result, tmp_path)
    assert (
        "segchain network: Error: CUSTOMERS seg.csv: column 'lat' holds 1 value that is not a "
        "number: 'x48.9' for customer_id 'C2'\n"
    ) in result.stderr, result.stderr


def test_network_names_a_customers_coordinate_out_of_range_with_its_value(
    cli, tmp_path: Path
) -> None:
    segments = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,10\nC2,B,-91,2.4,5\n"
    result = _network_sites(cli, tmp_path, "site_id,lat,lon\nS1,50,8\n", segments)
    _refused(result, tmp_path)
    assert (
        "CUSTOMERS seg.csv: lat outside [-90, 90]: -91.0 for customer_id 'C2' (are lat and lon "
        "swapped?)"
    ) in result.stderr, result.stderr


# ---- 6. a latitude or longitude is never grouped in thousands ------------------------------------
# Found beside item 1: a ';' table's coordinates written with three decimals and a point
# (52.520, 13.405) were read with the ';' default, a decimal comma, as 52520 and 13405: an
# export's lines kept them so (validate wrote lat 52520), and network refused a sites table as
# 'outside [-90, 90] ... (are lat and lon swapped?)'.

SEMICOLON_ORDERS = (
    "order_id;order_date;customer_id;sku;quantity;unit_price;lat;lon\n"
    "1;2024-01-05;C1;A;2;12;52.520;13.405\n"
    "2;2024-01-06;C2;A;1;3;48.857;2.352\n"
)


def test_orders_coordinates_with_three_decimals_read_as_decimals(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(SEMICOLON_ORDERS)
    result = cli("validate", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(tmp_path / "out.csv")
    assert out.select("lat", "lon").rows() == [(52.52, 13.405), (48.857, 2.352)]


def test_orders_coordinate_written_the_other_way_is_no_number_not_thousands(
    cli, tmp_path: Path
) -> None:
    # The column uses a decimal comma (50,1105); its 48.857 is written the other way: no
    # coordinate (lat is optional, so the line is kept, unlocated), not a latitude of 48857.
    (tmp_path / "orders.csv").write_text(
        "order_id;order_date;customer_id;sku;quantity;unit_price;lat;lon\n"
        "1;2024-01-05;C1;A;2;12;50,1105;8,6821\n"
        "2;2024-01-06;C2;A;1;3;52,5200;13,4050\n"
        "3;2024-01-06;C3;A;1;3;48.857;2,352\n"
    )
    result = cli("validate", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(tmp_path / "out.csv")
    assert out["lat"].to_list() == [50.1105, 52.52, None]
    assert out["lon"].to_list() == [8.6821, 13.405, 2.352]


def test_network_sites_coordinates_with_three_decimals_read_as_decimals(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(
        "site_id;lat;lon;fixed_cost;capacity\nS1;52.520;13.405;100;20\nS2;48.857;2.352;100;20\n"
    )
    result = cli(
        "network", "seg.csv", "--sites", "sites.csv", "-o", "out.csv", "--sites-out", "so.csv"
    )
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(tmp_path / "so.csv").sort("site_id")
    assert out.select("lat", "lon").rows() == [(52.52, 13.405), (48.857, 2.352)]


def test_network_sites_three_decimal_commas_stay_decimals(cli, tmp_path: Path) -> None:
    # Guard: the ';' default, a decimal comma, reads 52,520 as 52.52 as before.
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text("site_id;lat;lon\nS1;52,520;13,405\n")
    result = cli(
        "network", "seg.csv", "--sites", "sites.csv", "-o", "out.csv", "--sites-out", "so.csv"
    )
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "so.csv").select("lat", "lon").rows() == [(52.52, 13.405)]


def test_postal_table_coordinates_with_three_decimals_read_as_decimals() -> None:
    from segchain.geo import postal_table

    frame = pl.DataFrame(
        {"zip": ["10115", "75001"], "lat": ["52.532", "48.863"], "lon": ["13.384", "2.336"]}
    )
    table = postal_table(frame, country="DE", decimal_comma=True).sort("postal_key")
    assert table.select("lat", "lon").rows() == [(52.532, 13.384), (48.863, 2.336)]
