"""Hostile inputs left over from session 30: a spreadsheet's error value as a key of a table a
user gives a stage; the lane table of network --costs and the --geo table named by their
option and file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-03-01,C1,P1,2,10\n"
    "2,2024-03-08,C2,P1,1,10\n"
    "3,2024-03-15,C1,P2,4,5\n"
)
SEGMENTS = "customer_id,segment,quantity,lat,lon\nC1,A,6,50.1,8.7\nC2,B,1,48.9,2.3\n"
SITES = "site_id,lat,lon\nS1,50.0,8.6\nS2,48.8,2.4\n"
LANES = "site_id,customer_id,unit_cost\nS1,C1,1\nS2,C1,2\nS1,C2,2\nS2,C2,1\n"
FORECAST = "sku,ds,forecast,error_sd\nP1,2025-01-06,10,2\nP2,2025-01-06,5,1\n"
HINT = (
    "hint: a formula failed in the sheet this table was saved from (#N/A: a lookup found "
    "nothing): fill in those values or remove the rows, then save it again"
)


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return name


# ---- 1. a spreadsheet error value as a key of a stage's input -----------------------------
# A CSV saved from a sheet whose lookup failed holds '#N/A' where the customer, sku, segment or
# site should be. Every stage took it as a name: network planned a segment '#N/A', costs a
# customer '#N/A', stock a sku '#N/A'. An order export's '#N/A' id was already read as blank.

# (command and its arguments, with {bad} the file holding the error value; the file's name in
# the message; the problem)
ERROR_VALUE_CASES = {
    "network customer_id": (
        ["network", "{bad}", "--sites", "sites.csv"],
        SEGMENTS.replace("C2,B", "#N/A,B"),
        "CUSTOMERS seg.csv",
        "1 row with a spreadsheet error value as customer_id: '#N/A' (row 2)",
    ),
    "network segment": (
        ["network", "{bad}", "--sites", "sites.csv"],
        SEGMENTS.replace("C2,B", "C2,#N/A"),
        "CUSTOMERS seg.csv",
        "1 row with a spreadsheet error value as segment: '#N/A' (row 2)",
    ),
    "network site_id": (
        ["network", "segments.csv", "--sites", "{bad}"],
        SITES.replace("S2,", "#REF!,"),
        "--sites seg.csv",
        "1 row with a spreadsheet error value as site_id: '#REF!' (row 2)",
    ),
    "network lane": (
        ["network", "segments.csv", "--sites", "sites.csv", "--costs", "{bad}"],
        LANES.replace("S1,C2", "S1,#N/A").replace("S2,C2", "S2,#N/A"),
        "--costs seg.csv",
        "2 rows with a spreadsheet error value as customer_id: '#N/A' (rows 3, 4)",
    ),
    "costs segment": (
        ["costs", "{bad}", "--orders", "orders.csv"],
        SEGMENTS.replace("C1,A", "C1,#N/A "),
        "SEGMENTS seg.csv",
        "1 row with a spreadsheet error value as segment: '#N/A' (row 1)",
    ),
    "costs items": (
        ["costs", "segments.csv", "--orders", "orders.csv", "--items", "{bad}"],
        "sku,unit_cost\nP1,2\n#N/A,3\n#VALUE!,4\n",
        "--items seg.csv",
        "2 rows with a spreadsheet error value as sku: '#N/A' (row 2), '#VALUE!' (row 3)",
    ),
    "forecast segments": (
        ["forecast", "{bad}", "--orders", "orders.csv"],
        SEGMENTS.replace("C2,B", "#N/A,B"),
        "SEGMENTS seg.csv",
        "1 row with a spreadsheet error value as customer_id: '#N/A' (row 2)",
    ),
    "stock forecast": (
        ["stock", "{bad}"],
        FORECAST.replace("P2,", "#N/A,"),
        "FORECAST seg.csv",
        "1 row with a spreadsheet error value as sku: '#N/A' (row 2)",
    ),
    "stock on hand": (
        ["stock", "forecast.csv", "--on-hand", "{bad}"],
        "sku,on_hand\nP1,4\n#N/A,2\n",
        "--on-hand seg.csv",
        "1 row with a spreadsheet error value as sku: '#N/A' (row 2)",
    ),
    "segment previous": (
        ["segment", "orders.csv", "--previous", "{bad}"],
        SEGMENTS.replace("C1,A", "C1,#N/A"),
        "--previous seg.csv",
        "1 row with a spreadsheet error value as segment: '#N/A' (row 1)",
    ),
}


def _inputs(tmp_path: Path) -> None:
    for name, text in (
        ("orders.csv", ORDERS),
        ("segments.csv", SEGMENTS),
        ("sites.csv", SITES),
        ("forecast.csv", FORECAST),
    ):
        write(tmp_path, name, text)


@pytest.mark.parametrize("case", list(ERROR_VALUE_CASES))
def test_spreadsheet_error_value_as_a_key_is_refused_naming_file_column_rows(
    cli, tmp_path: Path, case: str
) -> None:
    args, text, named, problem = ERROR_VALUE_CASES[case]
    _inputs(tmp_path)
    write(tmp_path, "seg.csv", text)
    (tmp_path / "out.csv").write_text("before\n")
    command = args[0]
    result = cli(*[a.format(bad="seg.csv") for a in args], "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert f"segchain {command}: Error: {named}: {problem}\nsegchain {command}:   {HINT}\n" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"


def test_spreadsheet_error_value_in_a_parquet_table_is_refused(cli, tmp_path: Path) -> None:
    _inputs(tmp_path)
    pl.read_csv(
        (SEGMENTS.replace("C2,B", "C2,#DIV/0!")).encode(), infer_schema=False
    ).write_parquet(tmp_path / "seg.parquet")
    result = cli("network", "seg.parquet", "--sites", "sites.csv", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert result.stderr == (
        "segchain network: Error: CUSTOMERS seg.parquet: 1 row with a spreadsheet error value as "
        "segment: '#DIV/0!' (row 2)\n"
        f"segchain network:   {HINT}\n"
    )
    assert not (tmp_path / "out.csv").exists()


def test_a_key_that_merely_starts_with_a_hash_is_a_name(cli, tmp_path: Path) -> None:
    """'#1', '#NA' or 'C#N/A' are no spreadsheet's error value: such names pass as before."""
    _inputs(tmp_path)
    write(tmp_path, "seg.csv", SEGMENTS.replace("C1,A", "C1,#1").replace("C2,B", "C2,#NA"))
    result = cli("network", "seg.csv", "--sites", "sites.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert sorted(pl.read_csv(tmp_path / "out.csv")["segment"].to_list()) == ["#1", "#NA"]


def test_key_value_problems_lists_each_column_value_and_rows() -> None:
    from segchain.schema import key_value_problems

    frame = pl.DataFrame(
        {
            "customer_id": ["C1", "#N/A", "#N/A ", "C4", "#N/A", "#N/A", "#N/A", "#N/A"],
            "sku": ["#REF!", "P", "P", "#NAME?", "P", "P", "P", "P"],
            "description": ["#N/A"] * 8,  # no key: a description may say anything
            "quantity": [1] * 8,
        }
    )
    assert key_value_problems(frame) == [
        "6 rows with a spreadsheet error value as customer_id: '#N/A' (rows 2, 3, 5, 6 and 2 more)",
        "2 rows with a spreadsheet error value as sku: '#REF!' (row 1), '#NAME?' (row 4)",
    ]


# ---- 2. network --costs: the lane table named by its option and file -----------------------
# Its messages began 'costs:', which reads as the costs command, and did not say which file;
# every other input is named as '--sites sites.csv: ...'.

LANE_CASES = {
    "unit cost not a number": (
        LANES.replace("S2,C1,2", "S2,C1,abc"),
        "--costs lanes.csv: unit_cost is not a number ('abc') for site_id@customer_id 'S2@C1'",
    ),
    "lane twice": (
        LANES + "S1,C1,1\n",
        "--costs lanes.csv: 1 site_id@customer_id is on more than one row: 'S1@C1' (rows 1, 5)",
    ),
    "negative unit cost": (
        LANES.replace("S2,C1,2", "S2,C1,-2"),
        "--costs lanes.csv: unit_cost must be a finite number >= 0 up to 1e+15, got -2.0 for "
        "site_id@customer_id 'S2@C1'",
    ),
    "distance not a number": (
        "site_id,customer_id,unit_cost,distance_km\nS1,C1,1,x\nS1,C2,1,5\n",
        "--costs lanes.csv: column 'distance_km' holds 1 value that is not a number: 'x' for "
        "site_id@customer_id 'S1@C1'",
    ),
    "customer without a lane": (
        "site_id,customer_id,unit_cost\nS1,C1,1\n",
        "--costs lanes.csv: 1 customer has no lane from any site: customer_id 'C2'",
    ),
}


@pytest.mark.parametrize("case", list(LANE_CASES))
def test_network_lane_problems_name_the_costs_option_and_file(
    cli, tmp_path: Path, case: str
) -> None:
    lanes, message = LANE_CASES[case]
    _inputs(tmp_path)
    write(tmp_path, "lanes.csv", lanes)
    result = cli(
        "network", "segments.csv", "--sites", "sites.csv", "--costs", "lanes.csv", "-o", "out.csv"
    )
    assert result.exit_code == 1, result.stderr
    assert f"segchain network: Error: {message}" in result.stderr
    assert "Error: costs:" not in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_network_lanes_from_the_config_are_named_by_its_key(cli, tmp_path: Path) -> None:
    _inputs(tmp_path)
    write(tmp_path, "lanes.csv", "site_id,customer_id,unit_cost\nS1,C1,1\n")
    write(tmp_path, "segchain.toml", '[network]\ncosts = "lanes.csv"\n')
    result = cli(
        "network", "segments.csv", "--sites", "sites.csv", "--config", "segchain.toml",
        "-o", "out.csv",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert (
        "segchain network: Error: segchain.toml [network] costs lanes.csv: 1 customer has no "
        "lane from any site: customer_id 'C2'\n"
    ) in result.stderr


# ---- 3. --geo: its content named by the option (or $SEGCHAIN_GEO) and the file -------------
# 'geo.csv: no postal_code column; ...' named the path only: the command reads several files,
# and the path may have come from the environment, not from the command line.

GEO_COLUMNS_HINT = (
    "hint: a postal table needs a postal code (zip, postcode, postal_code), latitude and "
    "longitude, and a country column or --geo-country; or the GeoNames postal dump"
)
GEO_ROWS_HINT = (
    "hint: give each postal code its latitude and longitude as numbers with a decimal point "
    "(52.52, 13.40; within [-90, 90] and [-180, 180]) and its country as an ISO code or name "
    "(or --geo-country CODE)"
)
GEO_CASES = {
    "no postal code column": (
        "zipcode_x,latitude,longitude,country\n28024,53.1,8.6,DE\n",
        1,
        "no postal_code column; found zipcode_x, latitude, longitude, country",
        GEO_COLUMNS_HINT,
    ),
    "latitude not a number": (
        "postal_code,latitude,longitude,country\n28024,abc,8.6,DE\n",
        1,
        "no row with a postal code, a known country and coordinates",
        GEO_ROWS_HINT,
    ),
    "unknown country": (
        "postal_code,latitude,longitude,country\n28024,53.1,8.6,Atlantis\n",
        1,
        "no row with a postal code, a known country and coordinates",
        GEO_ROWS_HINT,
    ),
}


@pytest.mark.parametrize("source", ["option", "environment"])
@pytest.mark.parametrize("case", list(GEO_CASES))
def test_geo_table_problems_name_the_option_or_variable_and_file(
    cli, tmp_path: Path, monkeypatch, case: str, source: str
) -> None:
    text, code, problem, hint = GEO_CASES[case]
    write(tmp_path, "orders.csv", ORDERS)
    write(tmp_path, "geo.csv", text)
    if source == "option":
        result = cli("segment", "orders.csv", "--geo", "geo.csv", "-o", "out.csv")
        named = "--geo geo.csv"
    else:
        monkeypatch.setenv("SEGCHAIN_GEO", "geo.csv")
        result = cli("segment", "orders.csv", "-o", "out.csv")
        named = "$SEGCHAIN_GEO geo.csv"
    assert result.exit_code == code, result.stderr
    assert result.stderr == (
        f"segchain segment: Error: {named}: {problem}\nsegchain segment:   {hint}\n"
    )
    assert not (tmp_path / "out.csv").exists()


def test_geo_table_without_country_names_the_variable(cli, tmp_path: Path, monkeypatch) -> None:
    _inputs(tmp_path)
    write(tmp_path, "geo.csv", "postal_code,latitude,longitude\n28024,53.1,8.6\n")
    monkeypatch.setenv("SEGCHAIN_GEO", "geo.csv")
    result = cli("network", "segments.csv", "--sites", "sites.csv", "-o", "out.csv")
    assert result.exit_code == 2, result.stderr
    assert result.stderr == (
        "segchain network: Error: $SEGCHAIN_GEO geo.csv has no country column: name the "
        "country its codes belong to with --geo-country (e.g. --geo-country US)\n"
    )


def test_a_missing_geo_table_from_the_environment_names_the_variable(
    cli, tmp_path: Path, monkeypatch
) -> None:
    """'--geo gone.csv: no such file' named an option the command line did not have."""
    write(tmp_path, "orders.csv", ORDERS)
    monkeypatch.setenv("SEGCHAIN_GEO", "gone.csv")
    result = cli("segment", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert result.stderr == "segchain segment: Error: $SEGCHAIN_GEO gone.csv: no such file\n"
