"""Hostile-user findings of session 48, about side tables (``--items``, ``--sites``, ``--costs``,
...): each test fails on the code before its fix (guards of a behaviour kept as it was say so).

Known answers are the numbers the tests write into the tables themselves (``12,5`` is 12.5), or
what a plan must be for them (a site that holds 12,000 units serves 15 units alone)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

FORECAST = "sku,ds,forecast,error_sd\nA,2025-01-06,3,1\nA,2025-01-13,3,1\nB,2025-01-06,3,1\n"
SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,10\nC2,B,48.9,2.4,5\n"


def _stock(cli, tmp_path: Path, items: str, *, name: str = "items.csv"):
    (tmp_path / "fc.csv").write_text(FORECAST)
    if not name.endswith(".xlsx"):
        (tmp_path / name).write_text(items, encoding="utf-8")
    (tmp_path / "out.csv").write_text("before\n")
    return cli("stock", "fc.csv", "--items", name, "-o", "out.csv")


def _network(cli, tmp_path: Path, sites: str):
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(sites, encoding="utf-8")
    (tmp_path / "out.csv").write_text("before\n")
    return cli(
        "network", "seg.csv", "--sites", "sites.csv", "-o", "out.csv", "--sites-out", "so.csv"
    )


def _refused(result, tmp_path: Path) -> None:
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"


# ---- 1. a side table given as a workbook of several sheets ---------------------------------------
# An order export read from a workbook names the sheet read and the others on stderr; a side
# table's first sheet was read without a word (an item master's 'Items' read, 'Prices' left), and
# when that sheet was a cover the error named only the missing column.

xlsxwriter = pytest.importorskip("xlsxwriter")


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    for sheet, rows in sheets.items():
        ws = book.add_worksheet(sheet)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                ws.write(i, j, value)
    book.close()
    return path


ITEMS = [["sku", "unit_cost"], ["A", 10], ["B", 20]]


def test_a_side_table_workbook_names_the_sheet_read_and_the_others(cli, tmp_path: Path) -> None:
    _workbook(tmp_path / "items.xlsx", {"Items": ITEMS, "Prices": [["sku", "price"], ["A", 1]]})
    result = _stock(cli, tmp_path, "", name="items.xlsx")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain stock: --items items.xlsx: workbook, sheet 'Items' (the first; not read: "
        "'Prices')\n"
    ) in result.stderr, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["unit_cost"].to_list() == [10.0, 20.0]


def test_a_side_table_workbook_of_one_sheet_is_read_without_a_note(cli, tmp_path: Path) -> None:
    # Guard: one sheet leaves nothing unread, and nothing is said (as of a CSV side table).
    _workbook(tmp_path / "items.xlsx", {"Items": ITEMS})
    result = _stock(cli, tmp_path, "", name="items.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "workbook" not in result.stderr, result.stderr


def test_a_side_table_workbook_with_a_cover_first_names_its_other_sheets(
    cli, tmp_path: Path
) -> None:
    _workbook(tmp_path / "items.xlsx", {"Notes": [["Item master, March 2025"]], "Items": ITEMS})
    result = _stock(cli, tmp_path, "", name="items.xlsx")
    _refused(result, tmp_path)
    assert "--items items.xlsx: missing required column sku" in result.stderr, result.stderr
    assert (
        "hint: the columns were looked for on sheet 'Notes'; the workbook's other sheet: "
        "'Items': make the sheet that holds the table the workbook's first, or save it as CSV "
        "and give that file"
    ) in result.stderr, result.stderr


def test_a_stage_table_workbook_names_its_sheet_too(cli, tmp_path: Path) -> None:
    # Every table read as a stage's (here network's CUSTOMERS) is read by the same code.
    rows = [line.split(",") for line in SEGMENTS.strip().splitlines()]
    rows = [rows[0], *([r[0], r[1], float(r[2]), float(r[3]), float(r[4])] for r in rows[1:])]
    _workbook(tmp_path / "seg.xlsx", {"Segments": rows, "Readme": [["made by segchain"]]})
    (tmp_path / "sites.csv").write_text("site_id,lat,lon,fixed_cost\nS1,50,8,100\n")
    result = cli("network", "seg.xlsx", "--sites", "sites.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "CUSTOMERS seg.xlsx: workbook, sheet 'Segments' (the first; not read: 'Readme')"
    ) in result.stderr, result.stderr


# ---- 2. a number beyond a double's range is named as written -------------------------------------
# `1e400` reads as infinity: the message said 'got inf', a value the user's file does not hold.

TOO_LARGE = "(too large to be read as a number: beyond 1.8e308)"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("1e400", f"got 1e400 {TOO_LARGE} for sku 'A'"),
        ("-1E+999", f"got -1E+999 {TOO_LARGE} for sku 'A'"),
        ("inf", "got inf for sku 'A'"),  # guard: as written already
    ],
)
def test_an_item_value_beyond_a_double_is_named_as_written(
    cli, tmp_path: Path, value: str, shown: str
) -> None:
    result = _stock(cli, tmp_path, f"sku,unit_cost\nA,{value}\nB,20\n")
    _refused(result, tmp_path)
    assert f"--items items.csv: unit_cost must be a finite number > 0 up to 1e+15, {shown}" in (
        result.stderr
    ), result.stderr


def test_a_forecast_beyond_a_double_is_named_as_written_by_its_series_and_period(
    cli, tmp_path: Path
) -> None:
    # A forecast's rows are named by unique_id@ds, ds read as a date.
    (tmp_path / "fc.csv").write_text(FORECAST.replace("A,2025-01-13,3,1", "A,2025-01-13,1e400,1"))
    result = cli("stock", "fc.csv", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert f"got 1e400 {TOO_LARGE} for unique_id@ds 'A@2025-01-13'" in result.stderr, result.stderr


def test_a_lane_cost_beyond_a_double_is_named_as_written(cli, tmp_path: Path) -> None:
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text("site_id,lat,lon,fixed_cost\nS1,50,8,100\n")
    (tmp_path / "lanes.csv").write_text(
        "site_id,customer_id,unit_cost\nS1,C1,2\nS1,C2,12345678901234567890e390\n"
    )
    (tmp_path / "out.csv").write_text("before\n")
    result = cli(
        "network", "seg.csv", "--sites", "sites.csv", "--costs", "lanes.csv", "-o", "out.csv"
    )
    _refused(result, tmp_path)
    assert f"12345678901234567890e390 {TOO_LARGE}" in result.stderr, result.stderr
    assert "got inf" not in result.stderr, result.stderr


# ---- 3. decimal commas in side tables ----------------------------------------------------------
# An order export saved by a German spreadsheet (';', 12,5) is read; an item master or a sites
# table saved by the same spreadsheet was refused ('unit_cost is not a number ('12,5')'), and a
# ';' sites table's capacity 165.890 (165,890 units, grouped as Germany writes thousands) was
# read as 165.89 without a word. Side tables now read numbers by the order export's rule.


@pytest.mark.parametrize(
    "items",
    [
        "sku;unit_cost;lead_time_days\nA;12,5;7\nB;1.020,25;14\n",  # ';': a comma by default
        'sku,unit_cost,lead_time_days\nA,"12,5",7\nB,"1.020,25",14\n',  # ',' file: clearly one
    ],
    ids=["semicolon", "comma-quoted"],
)
def test_an_item_master_with_decimal_commas_is_read(cli, tmp_path: Path, items: str) -> None:
    result = _stock(cli, tmp_path, items)
    assert result.exit_code == 0, result.stderr
    assert "--items items.csv: decimal comma in: unit_cost\n" in result.stderr, result.stderr
    out = pl.read_csv(tmp_path / "out.csv")
    assert out["unit_cost"].to_list() == [12.5, 1020.25]
    assert out["unit_cost_source"].to_list() == ["items", "items"]
    assert out["lead_time_days"].to_list() == [7.0, 14.0]


def test_an_item_master_with_decimal_commas_plans_as_with_points(cli, tmp_path: Path) -> None:
    assert _stock(cli, tmp_path, "sku,unit_cost\nA,12.5\nB,1020.25\n").exit_code == 0
    points = pl.read_csv(tmp_path / "out.csv")
    assert _stock(cli, tmp_path, "sku;unit_cost\nA;12,5\nB;1.020,25\n").exit_code == 0
    assert pl.read_csv(tmp_path / "out.csv").equals(points)


def test_an_item_value_that_is_no_number_is_not_told_to_use_a_decimal_point(
    cli, tmp_path: Path
) -> None:
    # Side tables read 12,5 since this session: the hint still said "write numbers with a
    # decimal point", which a German item master already does not need.
    result = _stock(cli, tmp_path, "sku;unit_cost\nA;12 EUR\nB;1.020,25\n")
    assert result.exit_code == 1
    assert "unit_cost is not a number ('12 EUR') for sku 'A'" in result.stderr, result.stderr
    assert (
        "hint: write plain numbers (12.5, or 12,5 with a decimal comma; no units, currency or "
        "spaces), or leave a value empty to use the default"
    ) in result.stderr.replace("\nsegchain stock:   ", " "), result.stderr


def test_a_note_on_a_side_table_from_the_config_names_its_key(cli, tmp_path: Path) -> None:
    # The table's errors name it by the config's key; its notes named an option never given
    # (`--sites s.csv: decimal comma in: ...`), here and in the notes of its column names.
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "s.csv").write_text("Site_ID;lat;lon;fixed_cost\nS1;50,1;8,7;100\n")
    (tmp_path / "c.toml").write_text('[network]\nsites = "s.csv"\n')
    result = cli("network", "seg.csv", "--config", "c.toml", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "c.toml [network] sites s.csv: decimal comma in: lat, lon\n" in result.stderr
    assert "c.toml [network] sites s.csv: read column 'Site_ID' as site_id" in result.stderr
    assert "--sites" not in result.stderr, result.stderr


def test_a_parquet_item_master_of_text_numbers_with_decimal_commas_is_read(
    cli, tmp_path: Path
) -> None:
    # pandas keeps a German CSV's '12,5' as text (an object column) and writes it so.
    pl.DataFrame({"sku": ["A", "B"], "unit_cost": ["12,5", "1.020,25"]}).write_parquet(
        tmp_path / "items.parquet"
    )
    (tmp_path / "fc.csv").write_text(FORECAST)
    result = cli("stock", "fc.csv", "--items", "items.parquet", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "--items items.parquet: decimal comma in: unit_cost\n" in result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["unit_cost"].to_list() == [12.5, 1020.25]


def test_a_semicolon_sites_table_reads_grouped_thousands(cli, tmp_path: Path) -> None:
    # S1 holds 12.000 units (12,000) at a fixed cost of 100: it serves both customers' 15
    # units alone; S2 costs 5.000 (5,000) to open. Read as 12.0 and 5.0, S1 could not serve
    # both, and S2 was opened too.
    sites = "site_id;lat;lon;fixed_cost;capacity\nS1;50;8;100;12.000\nS2;49;2;5.000;10.000\n"
    result = _network(cli, tmp_path, sites)
    assert result.exit_code == 0, result.stderr
    assert "--sites sites.csv: decimal comma in: fixed_cost, capacity\n" in result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["site_id"].to_list() == ["S1", "S1"]
    out = pl.read_csv(tmp_path / "so.csv").sort("site_id")
    assert out["capacity"].to_list() == [12000.0, 10000.0]
    assert out["fixed_cost"].to_list() == [100.0, 5000.0]


def test_a_semicolon_sites_table_with_points_is_read_as_before(cli, tmp_path: Path) -> None:
    # Guard: a ';' table whose numbers show a decimal point (2 decimals) keeps its points, and
    # its other columns follow it: 100.000 is 100 here, as in an order export.
    sites = "site_id;lat;lon;fixed_cost;capacity\nS1;50.10;8.70;100.50;100.000\n"
    result = _network(cli, tmp_path, sites)
    assert result.exit_code == 0, result.stderr
    assert "decimal comma" not in result.stderr, result.stderr
    out = pl.read_csv(tmp_path / "so.csv")
    assert out["capacity"].to_list() == [100.0] and out["fixed_cost"].to_list() == [100.5]


def test_a_decimal_comma_among_points_is_refused_not_read_as_thousandths(
    cli, tmp_path: Path
) -> None:
    # Guard, the order export's rule: '1.234,56' in a column of points is no number (not
    # 1.23456); the stage names it.
    result = _stock(cli, tmp_path, 'sku,unit_cost\nA,12.50\nB,"1.234,56"\n')
    _refused(result, tmp_path)
    assert "unit_cost is not a number ('1.234,56') for sku 'B'" in result.stderr, result.stderr


def test_a_semicolon_postal_table_with_decimal_commas_locates_as_with_points(
    cli, tmp_path: Path
) -> None:
    # --geo is a side table too: its ';' German coordinates left every row out ('no row with a
    # postal code, a known country and coordinates').
    (tmp_path / "seg.csv").write_text(
        "customer_id,segment,postal_code,country,quantity\nC1,A,60311,DE,10\nC2,B,75001,FR,5\n"
    )
    (tmp_path / "sites.csv").write_text("site_id,lat,lon,fixed_cost\nS1,50,8,100\n")
    geo = {
        "points.csv": "country,postal_code,lat,lon\nDE,60311,50.11,8.68\nFR,75001,48.86,2.34\n",
        "commas.csv": "country;postal_code;lat;lon\nDE;60311;50,11;8,68\nFR;75001;48,86;2,34\n",
    }
    stderr = {}
    for name, text in geo.items():
        (tmp_path / name).write_text(text)
        result = cli("network", "seg.csv", "--sites", "sites.csv", "--geo", name, "-o", f"a-{name}")
        assert result.exit_code == 0, result.stderr
        assert "located 2 of 2 customers (exact 0, postal 2" in result.stderr, result.stderr
        stderr[name] = result.stderr
    assert "--geo commas.csv: decimal comma in: lat, lon\n" in stderr["commas.csv"]
    assert "decimal comma" not in stderr["points.csv"]
    assert pl.read_csv(tmp_path / "a-commas.csv").equals(pl.read_csv(tmp_path / "a-points.csv"))


@pytest.mark.parametrize("value", ["0.03  1903", "12,50 €", "1 234,50"])
def test_a_side_table_number_with_spaces_or_signs_stays_refused(
    cli, tmp_path: Path, value: str
) -> None:
    # Guard: only a decimal comma and thousands grouped by the other separator are read as an
    # export's are; a cell cut or overwritten in a hand-edited table is not read as 0.031903.
    result = _stock(cli, tmp_path, f'sku,unit_cost\nA,"{value}"\nB,20\n')
    _refused(result, tmp_path)
    assert f"unit_cost is not a number ({value!r}) for sku 'A'" in result.stderr, result.stderr


# ---- 4. a whole number past 2**127 in a stage's or side table ----------------------------------
# polars infers such a column as i128 and then cannot parse the value: 'cannot parse as CSV (could
# not parse `1000...` as dtype `i128` ...)', hint: check the delimiter and quoting. A workbook's
# number cell of 1e300 is written in full (301 digits) when its sheet is read, so it did the same.


def test_a_whole_number_past_i128_is_named_by_the_stage(cli, tmp_path: Path) -> None:
    result = _stock(cli, tmp_path, "sku,unit_cost\nA,1" + "0" * 45 + "\nB,20\n")
    _refused(result, tmp_path)
    assert "unit_cost must be a finite number > 0 up to 1e+15, got 1e+45 for sku 'A'" in (
        result.stderr
    ), result.stderr
    assert "cannot parse" not in result.stderr, result.stderr


def test_a_workbook_number_cell_of_1e300_is_named_by_the_stage(cli, tmp_path: Path) -> None:
    _workbook(tmp_path / "items.xlsx", {"Items": [["sku", "unit_cost"], ["A", 1e300], ["B", 20]]})
    result = _stock(cli, tmp_path, "", name="items.xlsx")
    _refused(result, tmp_path)
    assert "unit_cost must be a finite number > 0 up to 1e+15, got 1e+300 for sku 'A'" in (
        result.stderr
    ), result.stderr


# ---- 5. an option that reads one table, given twice --------------------------------------------
# The parser keeps the last value without a word: `--items a.csv --items b.csv` planned with
# b.csv's costs alone, while forecast's --orders given so reads both files.


@pytest.mark.parametrize(
    "args",
    [["--items", "i1.csv", "--items", "i2.csv"], ["--items=i1.csv", "--items", "i2.csv"]],
)
def test_a_table_option_given_twice_is_a_usage_error(cli, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "fc.csv").write_text(FORECAST)
    (tmp_path / "i1.csv").write_text("sku,unit_cost\nA,10\nB,20\n")
    (tmp_path / "i2.csv").write_text("sku,unit_cost\nA,30\nB,40\n")
    result = cli("stock", "fc.csv", *args, "-o", "out.csv")
    assert result.exit_code == 2, result.stderr
    assert (
        "segchain stock: Error: --items is given twice, 'i1.csv' and 'i2.csv': it reads one "
        "file, and only the last would be read\n"
    ) in result.stderr, result.stderr
    assert "hint: give --items once\n" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_other_options_given_twice_keep_the_last_as_before(cli, tmp_path: Path) -> None:
    # Guard: one file twice says nothing new; --map may be repeated; a value option keeps its
    # last value (a wrapper script or an alias overrides its own), and so does -o.
    (tmp_path / "fc.csv").write_text(FORECAST)
    (tmp_path / "i1.csv").write_text("sku,unit_cost\nA,10\nB,20\n")
    result = cli(
        "stock", "fc.csv", "--items", "i1.csv", "--items", "i1.csv", "--service-level", "0.9",
        "--service-level", "0.99", "-o", "x.csv", "-o", "out.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["service_target"].to_list() == [0.99, 0.99]
    assert not (tmp_path / "x.csv").exists()
    (tmp_path / "o.csv").write_text(
        "Order,order_date,customer_id,Item,quantity,unit_price\n1,2024-03-01,C1,A,2,3.5\n"
    )
    result = cli("validate", "o.csv", "--map", "order_id=Order", "--map", "sku=Item", "-o", "v.csv")
    assert result.exit_code == 0, result.stderr


# ---- 6. a customer's demand that is no number is shown ----------------------------------------
# network named the customer only ('quantity is blank or not a number for customer_id 'C1''): a
# 1e400, an 'abc' and a blank read alike, and the value had to be found by eye.


def test_a_customer_demand_that_is_no_number_is_shown_as_written(cli, tmp_path: Path) -> None:
    (tmp_path / "seg.csv").write_text(
        "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,1e400\nC2,B,48.9,2.4,5\n"
    )
    (tmp_path / "sites.csv").write_text("site_id,lat,lon,fixed_cost\nS1,50,8,100\n")
    result = cli("network", "seg.csv", "--sites", "sites.csv", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert (
        "CUSTOMERS seg.csv: quantity is blank or not a number for customer_id 'C1' (1e400, too "
        "large to be read as a number)"
    ) in result.stderr, result.stderr
    (tmp_path / "seg.csv").write_text(
        "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,abc\nC2,B,48.9,2.4,\n"
    )
    result = cli("network", "seg.csv", "--sites", "sites.csv", "-o", "out.csv")
    assert result.exit_code == 1, result.stderr
    assert "for customer_id 'C1' ('abc'), 'C2' (blank)" in result.stderr, result.stderr


def test_an_overflow_of_one_table_is_not_shown_for_another_tables_inf() -> None:
    # Two tables of one command may share a column's name (CUSTOMERS' and --sites' lat): a
    # 1e400 remembered for one is no text of the other's literal inf, whose ids it does not have.
    from segchain.schema import number_problems, overflows_read, remember_overflows

    items = pl.DataFrame({"sku": ["A"], "unit_cost": [float("inf")]})
    lanes = pl.DataFrame({"site_id": ["S1"], "customer_id": ["C1"], "unit_cost": [float("inf")]})
    with overflows_read():
        remember_overflows(items, {"unit_cost": [(0, "1e400")]})
        said = number_problems(lanes, {"unit_cost": ">= 0"}, keys=["site_id", "customer_id"])
        assert said == [
            "unit_cost must be a finite number >= 0, got inf for site_id@customer_id 'S1@C1'"
        ]
        said = number_problems(items, {"unit_cost": ">= 0"}, keys=["sku"])
        assert said == [
            f"unit_cost must be a finite number >= 0, got 1e400 {TOO_LARGE} for sku 'A'"
        ]
