"""Session 31, names: a side table's content errors begin with its option and file, as its read
errors do ('--items items.csv: ...', not 'items: ...'); a --geo table's unusable rows are
counted on stderr, not dropped without a word; a lane's unit_cost that is text is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-01,C1,P1,10,5\n2,2024-02-01,C2,P1,5,5\n3,2024-03-01,C1,P2,2,7\n"
)
SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,12\nC2,A,48.9,2.3,5\n"
SITES = "site_id,lat,lon,fixed_cost\nS1,50.0,8.6,100\nS2,48.8,2.4,100\n"
ASSIGNMENTS = (
    "customer_id,segment,site_id,share,demand,transport_cost\nC1,A,S1,1,12,10\nC2,A,S1,1,5,20\n"
)
FORECAST = "sku,ds,forecast,error_sd\nP1,2025-01-06,10,2\nP2,2025-01-06,5,1\n"
POLICY = "sku,inventory_value\nP1,100\nP2,50\n"


def write(name: str, text: str) -> str:
    Path(name).write_text(text)  # the tests run in tmp_path
    return name


# (command line with {bad} the file holding the problem; its text; the message on stderr, which
# must begin with the option and the file)
CASES = {
    "network --sites": (
        ["network", "segments.csv", "--sites", "{bad}"],
        SITES.replace("S2,48.8,2.4,100", "S2,48.8,2.4,-5"),
        "--sites bad.csv: fixed_cost must be a finite number >= 0 up to 1e+15, got -5.0 for "
        "site_id 'S2'",
    ),
    "costs --sites": (
        [
            "costs",
            "segments.csv",
            "--orders",
            "orders.csv",
            "--assignments",
            "asg.csv",
            "--sites",
            "{bad}",
        ],
        "site_id,open,fixed_cost\nS1,maybe,100\n",
        "--sites bad.csv: open must be true or false, got 'maybe' for site_id 'S1'",
    ),
    "costs --items": (
        ["costs", "segments.csv", "--orders", "orders.csv", "--items", "{bad}"],
        "sku,unit_cost\nP1,inf\nP2,1\n",
        "--items bad.csv: unit_cost must be a finite number >= 0 up to 1e+15, got inf for sku 'P1'",
    ),
    "costs --policy": (
        ["costs", "segments.csv", "--orders", "orders.csv", "--policy", "{bad}"],
        "sku,inventory_value\nP1,100\nP1,100\nP2,50\n",
        "--policy bad.csv: 1 sku is on more than one row: 'P1' (rows 1, 2)",
    ),
    "costs --stock-segments": (
        [
            "costs",
            "segments.csv",
            "--orders",
            "orders.csv",
            "--policy",
            "policy.csv",
            "--stock-segments",
            "{bad}",
        ],
        "sku,segment,inventory_value\nP1,A,60\nP1,A,40\n",
        "--stock-segments bad.csv: 1 sku@segment is on more than one row: 'P1@A' (rows 1, 2)",
    ),
    "costs --forecast": (
        [
            "costs",
            "segments.csv",
            "--orders",
            "orders.csv",
            "--policy",
            "policy.csv",
            "--forecast",
            "{bad}",
        ],
        "unique_id,ds,segment,sku,forecast\nA/P1,2024-04-01,A,P1,-3\n",
        "--forecast bad.csv: forecast must be a finite number >= 0 up to 1e+15, got -3.0 for "
        "unique_id@ds 'A/P1@2024-04-01'",
    ),
    "costs --assignments": (
        ["costs", "segments.csv", "--orders", "orders.csv", "--assignments", "{bad}"],
        ASSIGNMENTS + "C9,A,S1,1,1,1\n",
        "--assignments bad.csv: 1 customer is not in SEGMENTS segments.csv: 'C9'",
    ),
    "costs --orders": (
        ["costs", "segments.csv", "--orders", "{bad}"],
        ORDERS.replace(",C1,", ",X1,").replace(",C2,", ",X2,"),
        "--orders bad.csv: no order line belongs to a customer in SEGMENTS segments.csv",
    ),
    "stock --items": (
        ["stock", "forecast.csv", "--items", "{bad}"],
        "sku,moq\nP1,abc\n",
        "--items bad.csv: moq is not a number ('abc') for sku 'P1'",
    ),
    "stock --on-hand": (
        ["stock", "forecast.csv", "--on-hand", "{bad}"],
        "sku,on_hand\nP1,inf\n",
        "--on-hand bad.csv: on_hand must be a finite number up to 1e+15 in size, got inf for "
        "sku 'P1'",
    ),
    "stock --assignments": (
        ["stock", "forecast_sites.csv", "--orders", "orders.csv", "--assignments", "{bad}"],
        ASSIGNMENTS.replace("C1,", "C8,").replace("C2,", "C9,"),
        "--assignments bad.csv: none of the 2 customers of --orders orders.csv has a serving site",
    ),
    "forecast --orders": (
        ["forecast", "segments.csv", "--orders", "{bad}"],
        ORDERS.replace(",10,5", ",0,5").replace(",5,5", ",0,5").replace(",2,7", ",0,7"),
        "--orders bad.csv: no product line to forecast",
    ),
}


def _inputs() -> None:
    for name, text in (
        ("orders.csv", ORDERS),
        ("segments.csv", SEGMENTS),
        ("sites.csv", SITES),
        ("asg.csv", ASSIGNMENTS),
        ("forecast.csv", FORECAST),
        ("forecast_sites.csv", FORECAST.replace("sku,", "site,sku,").replace("\nP", "\nS1,P")),
        ("policy.csv", POLICY),
    ):
        write(name, text)


@pytest.mark.parametrize("case", list(CASES))
def test_side_table_problem_names_its_option_and_file(cli, tmp_path: Path, case: str) -> None:
    args, text, message = CASES[case]
    _inputs()
    write("bad.csv", text)
    write("out.csv", "before\n")
    command = args[0]
    result = cli(*[a.format(bad="bad.csv") for a in args], "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert f"segchain {command}: Error: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"


def test_side_table_from_stdin_names_its_option(cli) -> None:
    _inputs()
    result = cli(
        "costs", "segments.csv", "--orders", "orders.csv", "--items", "-", "-o", "out.csv",
        input="sku,unit_cost\nP1,inf\nP2,1\n",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert "segchain costs: Error: --items <stdin>: unit_cost must be a finite" in result.stderr


def test_network_sites_from_the_config_are_named_by_its_key(cli) -> None:
    _inputs()
    write("bad.csv", SITES.replace("S2,48.8,2.4,100", "S2,48.8,2.4,-5"))
    write("segchain.toml", '[network]\nsites = "bad.csv"\n')
    result = cli("network", "segments.csv", "--config", "segchain.toml", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert (
        "segchain network: Error: segchain.toml [network] sites bad.csv: fixed_cost must be a "
        "finite number >= 0 up to 1e+15, got -5.0 for site_id 'S2'\n"
    ) in result.stderr


def test_positional_input_keeps_its_own_name(cli) -> None:
    """SEGMENTS is named by its path, as every argument is: no option to name."""
    _inputs()
    write("bad.csv", "customer_id,segment\nC1,A\nC1,B\n")
    result = cli("costs", "bad.csv", "--orders", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert "segchain costs: Error: SEGMENTS bad.csv: " in result.stderr


# ---- a lane's unit_cost that is no number is shown -------------------------------------------

LANES = "site_id,customer_id,unit_cost\nS1,C1,1\nS2,C1,2\nS1,C2,2\nS2,C2,1\n"


@pytest.mark.parametrize(
    ("lanes", "problem"),
    [
        (
            # A decimal comma ("2,5") is read since session 48 (tests/test_hostile_s48.py).
            LANES.replace("S2,C1,2", "S2,C1,abc").replace("S1,C2,2", "S1,C2,two"),
            "unit_cost is not a number ('abc', 'two') for site_id@customer_id 'S2@C1', 'S1@C2'",
        ),
        (LANES.replace("S2,C1,2", "S2,C1,"), "unit_cost blank for site_id@customer_id 'S2@C1'"),
        (
            LANES.replace("S2,C1,2", "S2,C1,x").replace("S1,C2,2", "S1,C2, "),
            "unit_cost is not a number ('x') for site_id@customer_id 'S2@C1'; "
            "unit_cost blank for site_id@customer_id 'S1@C2'",
        ),
    ],
)
def test_network_lane_unit_cost_that_is_no_number_is_shown(
    cli, tmp_path: Path, lanes: str, problem: str
) -> None:
    _inputs()
    write("lanes.csv", lanes)
    result = cli(
        "network", "segments.csv", "--sites", "sites.csv", "--costs", "lanes.csv", "-o", "out.csv"
    )
    assert result.exit_code == 1, result.stderr
    assert f"segchain network: Error: --costs lanes.csv: {problem}\n" in result.stderr
    assert not (tmp_path / "out.csv").exists()


# ---- a --geo table's rows that cannot be used are counted, not dropped without a word --------

GEO = (
    "postal_code,latitude,longitude,country\n"
    "60311,50.11,8.68,DE\n"
    '75001,"48,86",2.35,FR\n'
    "10115,52.52,13.40,DE\n"
    "20095,95.0,10.0,DE\n"
    "99999,40.0,abc,Atlantis\n"
    ",50.0,8.0,DE\n"
)
GEO_ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price,postal_code,country\n"
    "1,2024-01-01,C1,P1,10,5,60311,DE\n2,2024-02-01,C2,P1,5,5,10115,DE\n"
)
GEO_NOTE = (
    "Warning: --geo geo.csv: 4 rows of 6 left out (no customer is located by them): postal "
    "code blank: row 6; country unknown: 'Atlantis' (row 5); latitude not a number: '48,86' "
    "(row 2); longitude not a number: 'abc' (row 5); outside [-90, 90], [-180, 180]: "
    "'95.0, 10.0' (row 4); to use them, give each postal code its latitude and longitude as "
    "numbers with a decimal point (52.52, 13.40; within [-90, 90] and [-180, 180]) and its "
    "country as an ISO code or name (or --geo-country CODE)"
)


def test_geo_rows_left_out_are_counted_with_examples(cli, tmp_path: Path) -> None:
    write("orders.csv", GEO_ORDERS)
    write("geo.csv", GEO)
    result = cli("segment", "orders.csv", "--geo", "geo.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain segment: {GEO_NOTE}\n" in result.stderr
    # The good rows are still used: both customers located by their postal code.
    assert (tmp_path / "out.csv").exists()


def test_geo_rows_left_out_from_the_environment_name_the_variable(
    cli, tmp_path: Path, monkeypatch
) -> None:
    write("orders.csv", GEO_ORDERS)
    write("geo.csv", "postal_code,latitude,longitude,country\n60311,50.11,8.68,DE\n1,x,1,DE\n")
    monkeypatch.setenv("SEGCHAIN_GEO", "geo.csv")
    result = cli("segment", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "Warning: $SEGCHAIN_GEO geo.csv: 1 row of 2 left out (no customer is located by it): "
        "latitude not a number: 'x' (row 2); to use it, give"
    ) in result.stderr


def test_geo_table_without_bad_rows_says_nothing_of_rows(cli) -> None:
    write("orders.csv", GEO_ORDERS)
    write("geo.csv", "postal_code,latitude,longitude,country\n60311,50.11,8.68,DE\n")
    result = cli("segment", "orders.csv", "--geo", "geo.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "left out" not in result.stderr
